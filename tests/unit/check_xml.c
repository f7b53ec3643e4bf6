/* Unit tests of libeid/xml/xml.c: hardened parsing, canonicalization, Ids, base64. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "xml/xml.h"
#include "unit.h"

static xmlDocPtr parse_ok(const char *s)
{
	xmlDocPtr doc = NULL;
	int rc = eid_xml__parse(&doc, s, strlen(s), "test");

	ck_assert_msg(rc == EID_OK, "parse: %s", eid_error_last()->message);
	return doc;
}

static int parse_rc(const char *s)
{
	xmlDocPtr doc = NULL;
	int rc = eid_xml__parse(&doc, s, strlen(s), "test");

	if (rc == EID_OK)
		xmlFreeDoc(doc);
	else
		ck_assert_ptr_null(doc);
	return rc;
}

START_TEST(test_xml_parse__doctype_refused)
{
	static const char *const bad[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]><lolz>&lol2;</lolz>",
		"<!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><d>&e;</d>",
		"<!DOCTYPE d SYSTEM \"http://127.0.0.1:1/x.dtd\"><d/>",
		"<!DOCTYPE d><d/>",
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ATTLIST a Id ID #IMPLIED>]><a Id=\"x\"/>",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(parse_rc(bad[i]), EID_EFORMAT);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "DOCTYPE"));
	}
}
END_TEST

START_TEST(test_xml_parse__malformed_and_limits)
{
	char *deep;
	size_t i, n = 300;

	ck_assert_int_eq(parse_rc(""), EID_EFORMAT);
	ck_assert_int_eq(parse_rc("<a><b></a>"), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "line 1"));
	ck_assert_int_eq(parse_rc("not xml"), EID_EFORMAT);
	ck_assert_int_eq(parse_rc("<a>&undefined;</a>"), EID_EFORMAT);
	/* nesting deeper than libxml2's limit */
	deep = malloc(n * 7 + 1);
	ck_assert_ptr_nonnull(deep);
	deep[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(deep, "<a>");
	for (i = 0; i < n; i++)
		strcat(deep, "</a>");
	ck_assert_int_eq(parse_rc(deep), EID_EFORMAT);
	free(deep);
	ck_assert_int_eq(parse_rc("<a xmlns=\"urn:x\"><b>text</b></a>"), EID_OK);
}
END_TEST

static char *c14n_str(xmlDocPtr doc, xmlNodePtr node, xmlNodePtr exclude, eid_c14n mode, int comments)
{
	eid_buf out = EID_BUF_INIT;
	char *s;

	ck_assert_int_eq(eid_xml__c14n(doc, node, exclude, mode, comments, NULL, NULL, &out), EID_OK);
	s = strndup((const char *)out.data, out.len);
	eid_buf_clear(&out);
	return s;
}

START_TEST(test_xml_c14n__modes)
{
	xmlDocPtr doc = parse_ok("<?xml version=\"1.0\"?>\n<r xmlns=\"urn:r\" xmlns:u=\"urn:unused\"><!--c--><e b=\"2\" a='1'>"
				 "x&amp;y<![CDATA[<z>]]></e><sig/></r>");
	xmlNodePtr root = xmlDocGetRootElement(doc), e = eid_xml__child(root, NULL, "e"), sig = eid_xml__child(root, NULL, "sig");
	char *s;

	s = c14n_str(doc, NULL, NULL, EID_C14N_10, 0);
	ck_assert_str_eq(s, "<r xmlns=\"urn:r\" xmlns:u=\"urn:unused\"><e a=\"1\" b=\"2\">x&amp;y&lt;z&gt;</e><sig></sig></r>");
	free(s);
	s = c14n_str(doc, NULL, NULL, EID_C14N_10, 1);
	ck_assert_ptr_nonnull(strstr(s, "<!--c-->"));
	free(s);
	/* the enveloped-signature transform: the excluded subtree goes */
	s = c14n_str(doc, NULL, sig, EID_C14N_EXC, 0);
	ck_assert_str_eq(s, "<r xmlns=\"urn:r\"><e a=\"1\" b=\"2\">x&amp;y&lt;z&gt;</e></r>");
	free(s);
	/* a subtree: inclusive keeps the namespaces in scope, exclusive only those used */
	s = c14n_str(doc, e, NULL, EID_C14N_10, 0);
	ck_assert_str_eq(s, "<e xmlns=\"urn:r\" xmlns:u=\"urn:unused\" a=\"1\" b=\"2\">x&amp;y&lt;z&gt;</e>");
	free(s);
	s = c14n_str(doc, e, NULL, EID_C14N_EXC, 0);
	ck_assert_str_eq(s, "<e xmlns=\"urn:r\" a=\"1\" b=\"2\">x&amp;y&lt;z&gt;</e>");
	free(s);
	s = c14n_str(doc, e, NULL, EID_C14N_11, 0);
	ck_assert_str_eq(s, "<e xmlns=\"urn:r\" xmlns:u=\"urn:unused\" a=\"1\" b=\"2\">x&amp;y&lt;z&gt;</e>");
	free(s);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_xml_c14n__into_a_digest)
{
	xmlDocPtr doc = parse_ok("<a>hello</a>");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
	unsigned int dl = 0, wl = 0;

	ck_assert(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	ck_assert_int_eq(eid_xml__c14n(doc, NULL, NULL, EID_C14N_EXC, 0, NULL, md, NULL), EID_OK);
	ck_assert(EVP_DigestFinal_ex(md, d, &dl));
	ck_assert(EVP_Digest("<a>hello</a>", 12, want, &wl, EVP_sha256(), NULL));
	ck_assert_uint_eq(dl, wl);
	ck_assert_mem_eq(d, want, dl);
	EVP_MD_CTX_free(md);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_xml_c14n__uris)
{
	eid_c14n mode;
	int comments;

	ck_assert_int_eq(eid_xml__c14n_from_uri("http://www.w3.org/2001/10/xml-exc-c14n#WithComments", &mode, &comments),
			 EID_OK);
	ck_assert_int_eq(mode, EID_C14N_EXC);
	ck_assert_int_eq(comments, 1);
	ck_assert_int_eq(eid_xml__c14n_from_uri("http://www.w3.org/2006/12/xml-c14n11", &mode, &comments), EID_OK);
	ck_assert_int_eq(mode, EID_C14N_11);
	ck_assert_int_eq(eid_xml__c14n_from_uri("http://www.w3.org/TR/1999/REC-xslt-19991116", &mode, &comments),
			 EID_EUNSUPPORTED);
	ck_assert_int_eq(eid_xml__c14n_from_uri(NULL, &mode, &comments), EID_EUNSUPPORTED);
	ck_assert_str_eq(eid_xml__c14n_uri(EID_C14N_10, 0), "http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
}
END_TEST

START_TEST(test_xml_find_id__unique_or_error)
{
	xmlDocPtr doc = parse_ok("<r><a Id=\"x\"/><b ID=\"y\"><c id=\"z\"/></b><d xmlns:p=\"urn:p\" p:Id=\"w\"/></r>");
	xmlNodePtr n;

	ck_assert_int_eq(eid_xml__find_id(doc, "x", &n), EID_OK);
	ck_assert_str_eq((const char *)n->name, "a");
	ck_assert_int_eq(eid_xml__find_id(doc, "z", &n), EID_OK);
	ck_assert_str_eq((const char *)n->name, "c");
	/* a namespaced attribute is not an Id */
	ck_assert_int_eq(eid_xml__find_id(doc, "w", &n), EID_ENOTFOUND);
	ck_assert_ptr_null(n);
	xmlFreeDoc(doc);

	/* one duplicate anywhere makes every lookup fail */
	doc = parse_ok("<r><a Id=\"x\"/><b><a Id=\"x\"/></b><c Id=\"q\"/></r>");
	ck_assert_int_eq(eid_xml__find_id(doc, "q", &n), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "'x'"));
	ck_assert_int_eq(eid_xml__ids_unique(doc), EID_EFORMAT);
	xmlFreeDoc(doc);
	doc = parse_ok("<r><a Id=\"x\"/><b id=\"x\"/></r>");
	ck_assert_int_eq(eid_xml__ids_unique(doc), EID_EFORMAT);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_xml_b64__strict)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_xml__b64_decode(" aGVs\nbG8= ", &b), EID_OK);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_mem_eq(b.data, "hello", 5);
	ck_assert_int_eq(eid_xml__b64_decode("aGVsbG8", &b), EID_EFORMAT);
	ck_assert_int_eq(eid_xml__b64_decode("aGVs*bG8=", &b), EID_EFORMAT);
	ck_assert_int_eq(eid_xml__b64_decode("aG=sbG8=", &b), EID_EFORMAT);
	ck_assert_int_eq(eid_xml__b64_decode("", &b), EID_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(eid_xml__b64_encode((const unsigned char *)"hello", 5, &b), EID_OK);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_mem_eq(b.data, "aGVsbG8=", 8);
	eid_buf_clear(&b);
}
END_TEST


/* ---- streaming: the same bytes as the tree's canonicalization, for every shape ---- */

static const char *const stream_docs[] = {
	"<?xml version=\"1.0\"?>\n<?pi before?><!--c--><r xmlns=\"urn:r\" xmlns:u=\"urn:unused\"><!--in--><e b=\"2\" a='1'>"
	"x&amp;y<![CDATA[<z>]]>&#13;&#9;</e><?p  data ?><ds:Signature xmlns:ds=\"" EID_NS_DS "\"><ds:X/></ds:Signature>"
	"</r>\n<?pi after?>\n<!--after-->",
	"<a:r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" b:z=\"1\" a:y=\"2\" x=\"&lt;&quot;&#9;&#10;&#13;&amp;&gt;\" "
	"xml:lang=\"en\"><b:c xmlns:a=\"urn:a\" xmlns=\"urn:d\"><d xmlns=\"\"><e xmlns=\"\"/></d></b:c>"
	"<Signature xmlns=\"" EID_NS_DS "\"><SignedInfo a=\"1\"><Signature/></SignedInfo></Signature>"
	"<f xmlns:a=\"urn:other\" a:q=\"t\">\xc3\xa9\xe2\x82\xac tab\there</f></a:r>",
	"<r attr=\"a\tb\nc\"><deep xmlns:p=\"urn:p\"><p:x><p:y xmlns:p=\"urn:p2\"><p:z/></p:y>"
	"<ds:Signature xmlns:ds=\"" EID_NS_DS "\" Id=\"s\"><ds:Object>o</ds:Object></ds:Signature></p:x></deep>"
	"<ds:Signature xmlns:ds=\"" EID_NS_DS "\" Id=\"t\"/></r>",
	"<r xmlns=\"urn:r\"><s:Signature xmlns:s=\"" EID_NS_DS "\" xmlns=\"\"><x/></s:Signature><y/></r>",
	"<only/>",
};

static void stream_file(const char *dir, const char *doc, char **path)
{
	*path = unit_join(dir, "doc.xml");
	unit_write(*path, doc, strlen(doc));
}

/* The outermost ds:Signature number @k in document order, or NULL. */
static xmlNodePtr nth_sig(xmlNodePtr n, long *k)
{
	for (; n != NULL; n = n->next) {
		xmlNodePtr found;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (eid_xml__is(n, EID_NS_DS, "Signature")) {
			if ((*k)-- == 0)
				return n;
		} else if ((found = nth_sig(n->children, k)) != NULL) {
			return found;
		}
	}
	return NULL;
}

START_TEST(test_xml_c14n_file__same_as_the_tree)
{
	static const char *const prefixes[] = { "b", "#default", NULL };
	char *dir = unit_tmpdir(), *path = NULL;
	size_t i;

	for (i = 0; i < sizeof(stream_docs) / sizeof(stream_docs[0]); i++) {
		xmlDocPtr doc = parse_ok(stream_docs[i]);
		eid_xml_file_info info;
		long skip, nsig;
		int mode, pl;

		stream_file(dir, stream_docs[i], &path);
		ck_assert_int_eq(eid_xml__c14n_file(path, -1, EID_C14N_10, NULL, NULL, &info), EID_OK);
		nsig = info.signatures;
		for (mode = 0; mode < 3; mode++)
			for (pl = 0; pl < 2; pl++)
				for (skip = -1; skip < nsig; skip++) {
					long k = skip;
					xmlNodePtr sig = skip >= 0 ? nth_sig(xmlDocGetRootElement(doc), &k) : NULL;
					const char *const *pfx = pl && mode == EID_C14N_EXC ? prefixes : NULL;
					eid_buf tree = EID_BUF_INIT;
					unsigned char want[32], got[32];
					EVP_MD_CTX *md = EVP_MD_CTX_new();

					ck_assert(skip < 0 || sig != NULL);
					ck_assert_int_eq(eid_xml__c14n(doc, NULL, sig, (eid_c14n)mode, 0, pfx, NULL, &tree), EID_OK);
					ck_assert(EVP_Digest(tree.data, tree.len, want, NULL, EVP_sha256(), NULL));
					ck_assert(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
					ck_assert_int_eq(eid_xml__c14n_file(path, skip, (eid_c14n)mode, pfx, md, &info), EID_OK);
					ck_assert(EVP_DigestFinal_ex(md, got, NULL));
					ck_assert_msg(memcmp(want, got, 32) == 0, "document %zu, mode %d, prefixes %d, skip %ld: "
						      "the tree gives\n%.*s", i, mode, pl, skip, (int)tree.len, (const char *)tree.data);
					EVP_MD_CTX_free(md);
					eid_buf_clear(&tree);
				}
		ck_assert(info.utf8);
		ck_assert_uint_eq(info.size, strlen(stream_docs[i]));
		xmlFreeDoc(doc);
		free(path);
	}
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_xml_c14n_file__root_end_and_refusals)
{
	static const char *const docs[][2] = {
		{ "<?xml version=\"1.0\"?>\n<a:root xmlns:a=\"urn:a\">x</a:root  >\n<!-- tail -->\n", "a:root" },
		{ "<root/>", "root" },
		{ "<root attr='/>'></root>", "root" },
	};
	char *dir = unit_tmpdir(), *path = NULL;
	eid_xml_file_info info;
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		const char *end;

		stream_file(dir, docs[i][0], &path);
		ck_assert_int_eq(eid_xml__c14n_file(path, -1, EID_C14N_EXC, NULL, NULL, &info), EID_OK);
		ck_assert_str_eq(info.root_qname, docs[i][1]);
		end = strrchr(docs[i][0], '>');
		if (i == 0)
			end = strstr(docs[i][0], "  >") + 2;
		ck_assert_uint_eq(info.root_end, (uint64_t)(end - docs[i][0] + 1));
		free(path);
	}
	/* the tree parser's refusals hold here too */
	stream_file(dir, "<!DOCTYPE d [<!ENTITY e \"x\">]><d>&e;</d>", &path);
	ck_assert_int_eq(eid_xml__c14n_file(path, -1, EID_C14N_EXC, NULL, NULL, NULL), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "DOCTYPE"));
	free(path);
	stream_file(dir, "<a><b Id=\"x\"/><c Id=\"x\"/></a>", &path);
	ck_assert_int_eq(eid_xml__c14n_file(path, -1, EID_C14N_EXC, NULL, NULL, NULL), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "more than once"));
	free(path);
	stream_file(dir, "<a><b></a>", &path);
	ck_assert_int_eq(eid_xml__c14n_file(path, -1, EID_C14N_EXC, NULL, NULL, NULL), EID_EFORMAT);
	free(path);
	stream_file(dir, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>", &path);
	ck_assert_int_eq(eid_xml__c14n_file(path, -1, EID_C14N_EXC, NULL, NULL, &info), EID_OK);
	ck_assert(!info.utf8);
	free(path);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_xml_parse_signatures__skeleton)
{
	char *dir = unit_tmpdir(), *path = NULL, *dup = NULL;
	xmlDocPtr doc = NULL, full;
	xmlNodePtr root, sig, si;
	eid_buf a = EID_BUF_INIT, b = EID_BUF_INIT;
	long k = 0;

	stream_file(dir, stream_docs[1], &path);
	ck_assert_int_eq(eid_xml__parse_signatures(&doc, path, &dup), EID_OK);
	ck_assert_ptr_null(dup);
	root = xmlDocGetRootElement(doc);
	ck_assert_str_eq((const char *)root->name, "r");
	/* only the way to the signature is kept: the root, then the signature */
	sig = root->children;
	ck_assert(eid_xml__is(sig, EID_NS_DS, "Signature"));
	ck_assert_ptr_null(sig->next);
	/* SignedInfo canonicalizes as in the whole tree: in-scope namespaces and xml:lang inherited */
	full = parse_ok(stream_docs[1]);
	si = eid_xml__child(nth_sig(xmlDocGetRootElement(full), &k), EID_NS_DS, "SignedInfo");
	ck_assert_int_eq(eid_xml__c14n(full, si, NULL, EID_C14N_10, 0, NULL, NULL, &a), EID_OK);
	ck_assert_int_eq(eid_xml__c14n(doc, eid_xml__child(sig, EID_NS_DS, "SignedInfo"), NULL, EID_C14N_10, 0, NULL, NULL, &b),
			 EID_OK);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	ck_assert_ptr_nonnull(strstr((const char *)a.data, "xml:lang=\"en\""));
	xmlFreeDoc(full);
	xmlFreeDoc(doc);
	free(path);
	/* duplicates are reported, not hidden by the pruning */
	stream_file(dir, "<a><b Id=\"x\"/><ds:Signature xmlns:ds=\"" EID_NS_DS "\"><c Id=\"x\"/></ds:Signature></a>", &path);
	ck_assert_int_eq(eid_xml__parse_signatures(&doc, path, &dup), EID_OK);
	ck_assert_str_eq(dup, "x");
	xmlFree(dup);
	xmlFreeDoc(doc);
	free(path);
	eid_buf_clear(&a);
	eid_buf_clear(&b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *xml_suite(void)
{
	Suite *s = suite_create("xml");
	TCase *tc = tcase_create("eid_xml__parse");

	tcase_add_test(tc, test_xml_parse__doctype_refused);
	tcase_add_test(tc, test_xml_parse__malformed_and_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("eid_xml__c14n");
	tcase_add_test(tc, test_xml_c14n__modes);
	tcase_add_test(tc, test_xml_c14n__into_a_digest);
	tcase_add_test(tc, test_xml_c14n__uris);
	suite_add_tcase(s, tc);
	tc = tcase_create("streaming");
	tcase_add_test(tc, test_xml_c14n_file__same_as_the_tree);
	tcase_add_test(tc, test_xml_c14n_file__root_end_and_refusals);
	tcase_add_test(tc, test_xml_parse_signatures__skeleton);
	suite_add_tcase(s, tc);
	tc = tcase_create("eid_xml__find_id");
	tcase_add_test(tc, test_xml_find_id__unique_or_error);
	tcase_add_test(tc, test_xml_b64__strict);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(xml_suite());
}
