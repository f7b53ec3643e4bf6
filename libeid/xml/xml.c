/*
 * The XML layer: hardened parsing, canonicalization into a digest, Ids.
 * See xml.h for the rules.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <openssl/evp.h>

#include "xml.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
	xmlInitParser();
}

void eid_xml__init(void)
{
	pthread_once(&init_once, init_libxml);
}

/* A DOCTYPE (internal or external subset) ends the parse: no DTD, no entity declarations. */
void eid_xml__refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;

	(void)name;
	(void)external_id;
	(void)system_id;
	*(int *)ctxt->_private = 1;
	xmlStopParser(ctxt);
}

int eid_xml__parse_error(xmlParserCtxtPtr ctxt, const char *what)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[256] = "not well-formed";

	if (e != NULL && e->message != NULL) {
		snprintf(msg, sizeof(msg), "%s", e->message);
		msg[strcspn(msg, "\n")] = '\0';
	}
	return eid_error__set(EID_EFORMAT, "%s: not well-formed XML (line %d: %s)", what, e ? e->line : 0, msg);
}

/* no NOENT (no substitution), no DTDLOAD/DTDATTR/DTDVALID, no HUGE, no network, no XInclude */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOXINCNODE)

/* Parse from memory (@p) or, when @p is NULL, from the open file @fd (read as a stream, not copied whole). */
static int parse(xmlDocPtr *out, const void *p, size_t len, int fd, const char *what)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int had_dtd = 0, rc;

	*out = NULL;
	if (len > EID_XML_MAX_SIZE)
		return eid_error__set(EID_ETOOBIG, "%s: more than %u MiB of XML", what, EID_XML_MAX_SIZE >> 20);
	if (len == 0)
		return eid_error__set(EID_EFORMAT, "%s: empty, not XML", what);
	eid_xml__init();
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	ctxt->_private = &had_dtd;
	ctxt->sax->internalSubset = eid_xml__refuse_dtd;
	ctxt->sax->externalSubset = eid_xml__refuse_dtd;
	doc = p != NULL ? xmlCtxtReadMemory(ctxt, p, (int)len, NULL, NULL, PARSE_OPTIONS)
			: xmlCtxtReadFd(ctxt, fd, NULL, NULL, PARSE_OPTIONS);
	if (had_dtd) {
		rc = eid_error__set(EID_EFORMAT, "%s: a document type declaration (DOCTYPE) is not accepted", what);
	} else if (doc == NULL || !ctxt->wellFormed) {
		rc = eid_xml__parse_error(ctxt, what);
	} else {
		rc = EID_OK;
	}
	if (rc < 0) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	*out = doc;
	return rc;
}

int eid_xml__parse(xmlDocPtr *out, const void *p, size_t len, const char *what)
{
	return parse(out, p, len, -1, what);
}

int eid_xml__parse_file(xmlDocPtr *out, const char *path)
{
	struct stat st;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = eid_error__set(EID_EIO, "'%s' is not a regular file", path);
	else
		rc = parse(out, NULL, (size_t)st.st_size, fd, path);
	close(fd);
	return rc;
}

/* ---- canonicalization ---- */

static const struct {
	const char *uri;
	eid_c14n mode;
	int comments;
} c14n_methods[] = {
	{ "http://www.w3.org/2001/10/xml-exc-c14n#", EID_C14N_EXC, 0 },
	{ "http://www.w3.org/2001/10/xml-exc-c14n#WithComments", EID_C14N_EXC, 1 },
	{ "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", EID_C14N_10, 0 },
	{ "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments", EID_C14N_10, 1 },
	{ "http://www.w3.org/2006/12/xml-c14n11", EID_C14N_11, 0 },
	{ "http://www.w3.org/2006/12/xml-c14n11#WithComments", EID_C14N_11, 1 },
};

int eid_xml__c14n_from_uri(const char *uri, eid_c14n *mode, int *comments)
{
	size_t i;

	for (i = 0; uri != NULL && i < sizeof(c14n_methods) / sizeof(c14n_methods[0]); i++)
		if (strcmp(uri, c14n_methods[i].uri) == 0) {
			*mode = c14n_methods[i].mode;
			*comments = c14n_methods[i].comments;
			return EID_OK;
		}
	return eid_error__set(EID_EUNSUPPORTED, "canonicalization method '%.100s' is not supported", uri ? uri : "");
}

const char *eid_xml__c14n_uri(eid_c14n mode, int comments)
{
	size_t i;

	for (i = 0; i < sizeof(c14n_methods) / sizeof(c14n_methods[0]); i++)
		if (c14n_methods[i].mode == mode && c14n_methods[i].comments == !!comments)
			return c14n_methods[i].uri;
	return NULL;
}

typedef struct c14n_ctx {
	xmlNodePtr node;    /* the apex, or NULL for the document */
	xmlNodePtr exclude; /* left out with its subtree, or NULL */
	EVP_MD_CTX *md;
	eid_buf *out;
	int failed;
} c14n_ctx;

/* Is @n (an attribute or namespace node: its element is @parent) in the node-set? */
static int visible(void *user, xmlNodePtr n, xmlNodePtr parent)
{
	c14n_ctx *c = user;
	xmlNodePtr e, x;
	int inside;

	if (n == NULL)
		return 0;
	e = n->type == XML_NAMESPACE_DECL || n->type == XML_ATTRIBUTE_NODE ? parent : n;
	inside = c->node == NULL;
	for (x = e; x != NULL; x = x->parent) {
		if (x == c->exclude)
			return 0;
		if (x == c->node)
			inside = 1;
	}
	return inside;
}

static int c14n_write(void *user, const char *p, int len)
{
	c14n_ctx *c = user;

	if (c->md != NULL ? !EVP_DigestUpdate(c->md, p, (size_t)len)
			  : eid_buf__append(c->out, p, (size_t)len) != EID_OK) {
		c->failed = 1;
		return -1;
	}
	return len;
}

int eid_xml__c14n(xmlDocPtr doc, xmlNodePtr node, xmlNodePtr exclude, eid_c14n mode, int comments,
		  const char *const *inclusive_prefixes, EVP_MD_CTX *md, eid_buf *out)
{
	xmlOutputBufferPtr buf;
	c14n_ctx c;
	int n, closed;

	memset(&c, 0, sizeof(c));
	c.node = node;
	c.exclude = exclude;
	c.md = md;
	c.out = out;
	if (md == NULL && out != NULL)
		out->len = 0;
	buf = xmlOutputBufferCreateIO(c14n_write, NULL, &c, NULL);
	if (buf == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	n = xmlC14NExecute(doc, visible, &c, (int)mode, (xmlChar **)(uintptr_t)inclusive_prefixes, comments, buf);
	closed = xmlOutputBufferClose(buf);
	if (c.failed)
		return md != NULL ? eid_error__ossl(EID_EINTERNAL, "digest failed") : eid_error__set(EID_ENOMEM, NULL);
	if (n < 0 || closed < 0)
		return eid_error__set(EID_EFORMAT, "the XML cannot be canonicalized");
	return EID_OK;
}

/* ---- Ids ---- */

static const char *const id_names[] = { "Id", "ID", "id" };

typedef struct id_walk {
	const char *want;
	xmlNodePtr found;
	int dup;
	char **all;
	size_t n, cap;
	int rc;
} id_walk;

static void collect_ids(xmlNodePtr n, id_walk *w)
{
	for (; n != NULL && w->rc == EID_OK; n = n->next) {
		xmlAttrPtr a;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (a = n->properties; a != NULL && w->rc == EID_OK; a = a->next) {
			size_t k;
			int is_id = 0;
			xmlChar *v;

			for (k = 0; k < 3; k++)
				is_id |= a->ns == NULL && xmlStrEqual(a->name, (const xmlChar *)id_names[k]);
			if (!is_id)
				continue;
			if ((v = xmlNodeGetContent((xmlNodePtr)a)) == NULL) {
				w->rc = eid_error__set(EID_ENOMEM, NULL);
				return;
			}
			if (w->want != NULL && strcmp((const char *)v, w->want) == 0) {
				w->dup |= w->found != NULL;
				w->found = n;
			}
			if (w->n == w->cap) {
				char **grown;

				if (w->cap >= EID_XML_MAX_IDS) {
					w->rc = eid_error__set(EID_ETOOBIG, "more than %u Id attributes", EID_XML_MAX_IDS);
					xmlFree(v);
					return;
				}
				grown = realloc(w->all, (w->cap ? 2 * w->cap : 64) * sizeof(*grown));
				if (grown == NULL) {
					w->rc = eid_error__set(EID_ENOMEM, NULL);
					xmlFree(v);
					return;
				}
				w->all = grown;
				w->cap = w->cap ? 2 * w->cap : 64;
			}
			w->all[w->n++] = (char *)v;
		}
		collect_ids(n->children, w);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_ids(xmlDocPtr doc, const char *want, xmlNodePtr *found)
{
	id_walk w;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.want = want;
	collect_ids(xmlDocGetRootElement(doc), &w);
	if (w.rc == EID_OK && w.n > 1) {
		qsort(w.all, w.n, sizeof(*w.all), cmp_str);
		for (i = 1; i < w.n && w.rc == EID_OK; i++)
			if (strcmp(w.all[i - 1], w.all[i]) == 0)
				w.rc = eid_error__set(EID_EFORMAT, "the Id '%.80s' occurs more than once in the document",
						      w.all[i]);
	}
	for (i = 0; i < w.n; i++)
		xmlFree(w.all[i]);
	free(w.all);
	if (w.rc == EID_OK && found != NULL) {
		if (w.found == NULL)
			return eid_error__set(EID_ENOTFOUND, "no element has the Id '%.80s'", want);
		*found = w.found;
	}
	return w.rc;
}

int eid_xml__find_id(xmlDocPtr doc, const char *id, xmlNodePtr *out)
{
	*out = NULL;
	return walk_ids(doc, id, out);
}

int eid_xml__ids_unique(xmlDocPtr doc)
{
	return walk_ids(doc, NULL, NULL);
}

/* ---- small helpers ---- */

int eid_xml__is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)name) &&
	       (ns == NULL || (n->ns != NULL && xmlStrEqual(n->ns->href, (const xmlChar *)ns)));
}

xmlNodePtr eid_xml__child(xmlNodePtr parent, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = parent ? parent->children : NULL; c != NULL; c = c->next)
		if (eid_xml__is(c, ns, name))
			return c;
	return NULL;
}

int eid_xml__uri_encode(const char *s, eid_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc = EID_OK;

	out->len = 0;
	for (p = (const unsigned char *)s; *p != '\0' && rc == EID_OK; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p) != NULL) {
			rc = eid_buf__append(out, p, 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			rc = eid_buf__append(out, esc, 3);
		}
	}
	return rc == EID_OK ? eid_buf__reserve(out, 0) : rc; /* NUL-terminated, also when empty */
}

int eid_xml__b64_decode(const char *text, eid_buf *out)
{
	size_t n = strlen(text), i, k = 0, pad = 0;
	char *clean = malloc(n + 1);
	int rc = EID_OK, got;

	if (clean == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < n; i++) {
		char ch = text[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
		      ch == '/' || ch == '=') ||
		    (pad > 0 && ch != '=')) {
			rc = eid_error__set(EID_EFORMAT, "not base64: a '%c' in it", ch >= 32 && ch < 127 ? ch : '?');
			break;
		}
		pad += ch == '=';
		clean[k++] = ch;
	}
	if (rc == EID_OK && (k % 4 != 0 || pad > 2))
		rc = eid_error__set(EID_EFORMAT, "not base64: a length of %zu characters", k);
	out->len = 0;
	if (rc == EID_OK && (rc = eid_buf__reserve(out, k / 4 * 3 + 1)) == EID_OK) {
		got = EVP_DecodeBlock(out->data, (const unsigned char *)clean, (int)k);
		if (got < 0)
			rc = eid_error__set(EID_EFORMAT, "not base64");
		else
			out->len = (size_t)got - pad;
	}
	free(clean);
	return rc;
}

int eid_xml__b64_encode(const unsigned char *p, size_t len, eid_buf *out)
{
	int rc;

	if (len > (1u << 30))
		return eid_error__set(EID_ETOOBIG, "too much to encode");
	out->len = 0;
	if ((rc = eid_buf__reserve(out, (len + 2) / 3 * 4 + 1)) < 0)
		return rc;
	out->len = (size_t)EVP_EncodeBlock(out->data, p, (int)len);
	return EID_OK;
}

xmlNodePtr eid_xml__first_element(xmlNodePtr n)
{
	for (n = n ? n->children : NULL; n != NULL && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	return n;
}

xmlNodePtr eid_xml__next_element(xmlNodePtr n)
{
	for (n = n ? n->next : NULL; n != NULL && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	return n;
}

int eid_xml__is_ancestor(xmlNodePtr a, xmlNodePtr n)
{
	for (; n != NULL; n = n->parent)
		if (n == a)
			return 1;
	return 0;
}

char *eid_xml__text_of(xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return NULL;
	return n ? (char *)xmlNodeGetContent(n) : NULL;
}
