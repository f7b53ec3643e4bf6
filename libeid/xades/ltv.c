/*
 * XAdES long-term levels (ETSI EN 319 132-1): B-T, B-LT and B-LTA added to
 * existing signatures.
 *
 * The new unsigned properties are built in the parsed tree, where the
 * archive timestamp's input is computed, and then written into a copy of
 * the document's own bytes: every element of the tree is mapped to its
 * place in the bytes (a scan of the tags, checked name by name against the
 * tree), and each run of new nodes is serialized at the place of its
 * neighbours.  The document's other bytes stay exactly as they were, so
 * whatever else the document holds (other signatures, comments, the
 * formatting) is kept.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "../ltv/ltv.h"
#include "xades.h"

#define EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define REFS_MAX 1000          /* references of one signature */
#define SIGS_MAX 1000          /* signatures of one document */
#define KEYINFO_MAX_CERTS 16   /* as validation */

static char orig_marker; /* _private of the document's own non-element nodes */

/* ---- names of detached references ---- */

/*
 * A reference URI as a relative name: percent-decoded, with no scheme,
 * query, fragment, absolute path, empty, "." or ".." segment, NUL, control
 * or backslash: it never leaves the folder or container it is looked up in.
 */
static int uri_to_name(const char *uri, char *out, size_t size)
{
	size_t i, k = 0;
	int slash = 0;
	char *seg, *save = NULL, *copy;

	for (i = 0; uri[i] != '\0'; i++) {
		int c = (unsigned char)uri[i];

		if (c == '%') {
			int h = eid_hex__digit(uri[i + 1]), l = h >= 0 ? eid_hex__digit(uri[i + 2]) : -1;

			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return eid_error__set(EID_EFORMAT, "the reference URI '%.100s' has a bad escape", uri);
			c = h * 16 + l;
			i += 2;
		} else if (c == '?' || c == '#' || (c == ':' && !slash)) {
			return eid_error__set(EID_EFORMAT, "the reference URI '%.100s' is not a relative file name", uri);
		}
		slash |= uri[i] == '/';
		if (c == '\\' || c < 0x20 || c == 0x7f)
			return eid_error__set(EID_EFORMAT, "the reference URI '%.100s' is not a safe file name", uri);
		if (k + 1 >= size)
			return eid_error__set(EID_ETOOBIG, "the reference URI '%.60s...' is too long", uri);
		out[k++] = (char)c;
	}
	out[k] = '\0';
	if (k == 0 || out[0] == '/')
		return eid_error__set(EID_EFORMAT, "the reference URI '%.100s' is not a relative file name", uri);
	if ((copy = strdup(out)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (seg = strtok_r(copy, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save))
		if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
			break;
	free(copy);
	if (seg != NULL || strstr(out, "//") != NULL || out[k - 1] == '/')
		return eid_error__set(EID_EFORMAT, "the reference URI '%.100s' is not a safe file name", uri);
	return EID_OK;
}

/* ---- the archive timestamp's input ---- */

static int put(EVP_MD_CTX *md, eid_buf *out, const void *p, size_t n)
{
	if (md != NULL)
		return EVP_DigestUpdate(md, p, n) ? EID_OK : eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (n > EID_XADES_ATS_MAX_INPUT - out->len)
		return eid_error__set(EID_ETOOBIG, "an archive timestamp's input is larger than %u MiB",
				      EID_XADES_ATS_MAX_INPUT >> 20);
	return eid_buf__append(out, p, n);
}

int eid_xades__file_source(void *ctx, const char *name, EVP_MD_CTX *md, eid_buf *out)
{
	const char *data = ctx, *base;
	unsigned char *chunk;
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd, rc = EID_OK;

	if (data == NULL)
		return eid_error__set(EID_ENOTFOUND, "the signed file '%s' was not given", name);
	if (stat(data, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", data, name) >= sizeof(path))
			return eid_error__set(EID_ETOOBIG, "the path of '%s' is too long", name);
	} else {
		base = strrchr(data, '/');
		base = base ? base + 1 : data;
		if (strcmp(base, name) != 0)
			return eid_error__set(EID_ENOTFOUND, "the signed file '%s' was not given ('%s' was)", name, data);
		snprintf(path, sizeof(path), "%s", data);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return eid_error__set(errno == ENOENT ? EID_ENOTFOUND : EID_EIO, "cannot open '%s': %s", path,
				      strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return eid_error__set(EID_EIO, "'%s' is not a regular file", path);
	}
	if ((chunk = malloc(EID_IO_CHUNK)) == NULL) {
		close(fd);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	while (rc == EID_OK) {
		n = read(fd, chunk, EID_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = eid_error__set(EID_EIO, "cannot read '%s': %s", path, strerror(errno));
		if (n <= 0)
			break;
		rc = put(md, out, chunk, (size_t)n);
	}
	free(chunk);
	close(fd);
	return rc;
}

/* The canonical form of a subtree into @md, or appended to @out. */
static int put_c14n(xmlDocPtr doc, xmlNodePtr node, xmlNodePtr exclude, eid_c14n mode, int comments,
		    const char *const *prefixes, EVP_MD_CTX *md, eid_buf *out)
{
	eid_buf tmp = EID_BUF_INIT;
	int rc;

	if (md != NULL)
		return eid_xml__c14n(doc, node, exclude, mode, comments, prefixes, md, NULL);
	if ((rc = eid_xml__c14n(doc, node, exclude, mode, comments, prefixes, NULL, &tmp)) == EID_OK)
		rc = put(NULL, out, tmp.data, tmp.len);
	eid_buf_clear(&tmp);
	return rc;
}

/*
 * One ds:Reference processed as XML-DSig does (the transforms validation
 * accepts: enveloped-signature, one canonicalization last, or base64), its
 * result as octets: a node-set left by the transforms is canonicalized with
 * the archive timestamp's method.
 */
static int process_reference(xmlDocPtr doc, xmlNodePtr sig, xmlNodePtr ref, eid_c14n mode,
			     const eid_xades_source *src, EVP_MD_CTX *md, eid_buf *out)
{
	xmlNodePtr tr = eid_xml__child(ref, EID_NS_DS, "Transforms"), x, target = NULL;
	char *uri = (char *)xmlGetNoNsProp(ref, (const xmlChar *)"URI"), *plist = NULL, *prefixes[16] = { NULL };
	int env = 0, b64 = 0, have = 0, comments = 0, nt = 0, rc = EID_OK;
	eid_c14n tmode = EID_C14N_10;

	for (x = eid_xml__first_element(tr); x != NULL && rc == EID_OK; x = eid_xml__next_element(x), nt++) {
		char *alg = (char *)xmlGetNoNsProp(x, (const xmlChar *)"Algorithm");

		if (!eid_xml__is(x, EID_NS_DS, "Transform") || alg == NULL)
			rc = eid_error__set(EID_EFORMAT, "a malformed Transform");
		else if (have || b64)
			rc = eid_error__set(EID_EUNSUPPORTED, "nothing may follow a canonicalization or base64 transform");
		else if (strcmp(alg, EID_DS_ENVELOPED) == 0)
			env = 1;
		else if (strcmp(alg, EID_DS_BASE64) == 0 && nt == 0)
			b64 = 1;
		else if (eid_xml__c14n_from_uri(alg, &tmode, &comments) == EID_OK) {
			xmlNodePtr inc = eid_xml__child(x, "http://www.w3.org/2001/10/xml-exc-c14n#", "InclusiveNamespaces");

			have = 1;
			if (tmode == EID_C14N_EXC && inc != NULL &&
			    (plist = (char *)xmlGetNoNsProp(inc, (const xmlChar *)"PrefixList")) != NULL) {
				char *p, *save = NULL;
				size_t k = 0;

				for (p = strtok_r(plist, " \t\r\n", &save); p != NULL && k < 15; p = strtok_r(NULL, " \t\r\n", &save))
					prefixes[k++] = strcmp(p, "#default") == 0 ? (char *)"" : p;
			}
		} else
			rc = eid_error__set(EID_EUNSUPPORTED, "transform '%.100s' is not accepted", alg);
		xmlFree(alg);
	}
	if (rc == EID_OK && uri == NULL)
		rc = eid_error__set(EID_EFORMAT, "a reference without URI");
	if (rc == EID_OK && (uri[0] == '\0' || uri[0] == '#')) {
		if (uri[0] == '#')
			rc = eid_xml__find_id(doc, uri + 1, &target);
		if (rc == EID_OK && b64) {
			eid_buf raw = EID_BUF_INIT;
			char *text = target ? eid_xml__text_of(target) : NULL;

			rc = text != NULL ? eid_xml__b64_decode(text, &raw)
					  : eid_error__set(EID_EFORMAT, "a base64 reference to no text");
			if (rc == EID_OK)
				rc = put(md, out, raw.data, raw.len);
			xmlFree(text);
			eid_buf_clear(&raw);
		} else if (rc == EID_OK) {
			/* a same-document reference never covers comments (XML-DSig 4.3.3.3) */
			xmlNodePtr exclude = env && eid_xml__is_ancestor(target ? target : xmlDocGetRootElement(doc), sig) ? sig : NULL;

			rc = put_c14n(doc, target, exclude, have ? tmode : mode, 0,
				      have && prefixes[0] ? (const char *const *)prefixes : NULL, md, out);
		}
	} else if (rc == EID_OK) {
		char name[1024];

		if (nt > 0)
			rc = eid_error__set(EID_EUNSUPPORTED, "transforms on a detached reference are not accepted");
		else if ((rc = uri_to_name(uri, name, sizeof(name))) == EID_OK)
			rc = src && src->read ? src->read(src->ctx, name, md, out)
					      : eid_error__set(EID_ENOTFOUND, "the signed file '%s' was not given", name);
	}
	if (rc < 0 && uri != NULL)
		rc = eid_error__wrap("the reference '%.200s'", uri);
	xmlFree(plist);
	xmlFree(uri);
	return rc;
}

/* The QualifyingProperties of @sig (in one of its ds:Object), or NULL. */
static xmlNodePtr qualifying_props(xmlNodePtr sig)
{
	xmlNodePtr x, q;

	for (x = eid_xml__first_element(sig); x != NULL; x = eid_xml__next_element(x))
		if (eid_xml__is(x, EID_NS_DS, "Object"))
			for (q = eid_xml__first_element(x); q != NULL; q = eid_xml__next_element(q))
				if (eid_xml__is(q, EID_NS_XADES, "QualifyingProperties"))
					return q;
	return NULL;
}

static xmlNodePtr unsigned_sig_props(xmlNodePtr qp)
{
	return eid_xml__child(eid_xml__child(qp, EID_NS_XADES, "UnsignedProperties"), EID_NS_XADES,
			      "UnsignedSignatureProperties");
}

int eid_xades__archive_input(xmlDocPtr doc, xmlNodePtr sig, xmlNodePtr ats, eid_c14n mode, int comments,
			     const eid_xades_source *src, EVP_MD_CTX *md, eid_buf *out)
{
	xmlNodePtr si = eid_xml__first_element(sig), sv = eid_xml__next_element(si), ki = eid_xml__child(sig, EID_NS_DS, "KeyInfo");
	xmlNodePtr qp = qualifying_props(sig), x;
	size_t nrefs = 0;
	int rc = EID_OK;

	if (md == NULL && out == NULL)
		return eid_error__set(EID_EINVAL, "eid_xades__archive_input: no output");
	if (!eid_xml__is(si, EID_NS_DS, "SignedInfo") || !eid_xml__is(sv, EID_NS_DS, "SignatureValue"))
		return eid_error__set(EID_EFORMAT, "a ds:Signature must hold SignedInfo, then SignatureValue");
	/* 1: the references, in order (the SignedProperties' among them) */
	for (x = eid_xml__first_element(si); x != NULL && rc == EID_OK; x = eid_xml__next_element(x)) {
		if (!eid_xml__is(x, EID_NS_DS, "Reference"))
			continue;
		if (++nrefs > REFS_MAX)
			return eid_error__set(EID_EFORMAT, "more than %d references", REFS_MAX);
		rc = process_reference(doc, sig, x, mode, src, md, out);
	}
	/* 2: SignedInfo, SignatureValue, KeyInfo */
	if (rc == EID_OK)
		rc = put_c14n(doc, si, NULL, mode, comments, NULL, md, out);
	if (rc == EID_OK)
		rc = put_c14n(doc, sv, NULL, mode, comments, NULL, md, out);
	if (rc == EID_OK && ki != NULL)
		rc = put_c14n(doc, ki, NULL, mode, comments, NULL, md, out);
	/* 3: the unsigned signature properties before this archive timestamp */
	for (x = eid_xml__first_element(unsigned_sig_props(qp)); x != NULL && x != ats && rc == EID_OK; x = eid_xml__next_element(x))
		rc = put_c14n(doc, x, NULL, mode, comments, NULL, md, out);
	/* 4: the other ds:Object elements */
	for (x = eid_xml__first_element(sig); x != NULL && rc == EID_OK; x = eid_xml__next_element(x))
		if (eid_xml__is(x, EID_NS_DS, "Object") && (qp == NULL || !eid_xml__is_ancestor(x, qp)))
			rc = put_c14n(doc, x, NULL, mode, comments, NULL, md, out);
	return rc;
}

/* ---- where each element is in the document's bytes ---- */

typedef struct span {
	size_t start;    /* the '<' of the start tag */
	size_t stag_end; /* just past the start tag */
	size_t etag;     /* the '<' of the end tag, or the "/>" of an empty element */
	size_t end;      /* just past the element */
	size_t qlen;     /* bytes of its qualified name */
	int empty;
} span;

typedef struct spanmap {
	span *v;
	size_t n, cap;
} spanmap;

static size_t find(const unsigned char *p, size_t n, size_t from, const char *what)
{
	size_t k = strlen(what);

	for (; from + k <= n; from++) {
		const unsigned char *q = memchr(p + from, what[0], n - from);

		if (q == NULL)
			break;
		from = (size_t)(q - p);
		if (from + k <= n && memcmp(p + from, what, k) == 0)
			return from;
	}
	return (size_t)-1;
}

/*
 * Every element's start and end tags, in document order, from a scan of
 * the bytes of a document libxml2 has parsed (so well-formed, without a
 * DOCTYPE: comments, processing instructions and CDATA sections are the
 * only other markup; a '>' may appear in an attribute value).
 */
static int scan_elements(const unsigned char *p, size_t n, spanmap *m)
{
	size_t *stack = NULL, depth = 0, i = 0, e;
	int rc = EID_OK;

	stack = calloc(256 + 1, sizeof(*stack)); /* libxml2's nesting limit */
	if (stack == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	while (rc == EID_OK && i < n) {
		const unsigned char *lt = memchr(p + i, '<', n - i);

		if (lt == NULL)
			break;
		i = (size_t)(lt - p);
		if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			e = find(p, n, i + 4, "-->");
			i = e == (size_t)-1 ? n + 1 : e + 3;
		} else if (n - i >= 2 && p[i + 1] == '?') {
			e = find(p, n, i + 2, "?>");
			i = e == (size_t)-1 ? n + 1 : e + 2;
		} else if (n - i >= 9 && memcmp(p + i, "<![CDATA[", 9) == 0) {
			e = find(p, n, i + 9, "]]>");
			i = e == (size_t)-1 ? n + 1 : e + 3;
		} else if (n - i >= 2 && p[i + 1] == '!') {
			rc = eid_error__set(EID_EFORMAT, "unexpected markup at byte %zu", i);
		} else if (n - i >= 2 && p[i + 1] == '/') {
			const unsigned char *gt = memchr(p + i, '>', n - i);

			if (gt == NULL || depth == 0) {
				rc = eid_error__set(EID_EFORMAT, "an unbalanced end tag at byte %zu", i);
				break;
			}
			depth--;
			m->v[stack[depth]].etag = i;
			m->v[stack[depth]].end = (size_t)(gt - p) + 1;
			i = m->v[stack[depth]].end;
		} else {
			size_t j = i + 1, q;
			char quote = 0;
			span *s;

			while (j < n && !strchr(" \t\r\n/>", p[j]))
				j++;
			q = j - i - 1;
			for (; j < n && (quote || p[j] != '>'); j++)
				if (quote ? p[j] == (unsigned char)quote : p[j] == '"' || p[j] == '\'')
					quote = quote ? 0 : (char)p[j];
			if (j >= n || q == 0) {
				rc = eid_error__set(EID_EFORMAT, "an unterminated start tag at byte %zu", i);
				break;
			}
			if (m->n == m->cap) {
				size_t cap = m->cap ? 2 * m->cap : 256;
				span *v = realloc(m->v, cap * sizeof(*v));

				if (v == NULL) {
					rc = eid_error__set(EID_ENOMEM, NULL);
					break;
				}
				m->v = v;
				m->cap = cap;
			}
			s = &m->v[m->n];
			memset(s, 0, sizeof(*s));
			s->start = i;
			s->qlen = q;
			s->stag_end = j + 1;
			s->empty = p[j - 1] == '/';
			if (s->empty) {
				s->etag = j - 1;
				s->end = j + 1;
			} else if (depth >= 256) {
				rc = eid_error__set(EID_EFORMAT, "elements nested too deeply");
				break;
			} else {
				stack[depth++] = m->n;
			}
			m->n++;
			i = j + 1;
		}
	}
	if (rc == EID_OK && (depth != 0 || i > n))
		rc = eid_error__set(EID_EFORMAT, "the document's markup does not end");
	free(stack);
	return rc;
}

/* Mark the document's own nodes: an element with its index in the map (plus one), the others with orig_marker. */
static int map_nodes(xmlNodePtr n, const unsigned char *p, const spanmap *m, size_t *k)
{
	int rc = EID_OK;

	for (; n != NULL && rc == EID_OK; n = n->next) {
		const char *prefix = n->ns && n->ns->prefix ? (const char *)n->ns->prefix : NULL;
		size_t pl = prefix ? strlen(prefix) : 0, nl;
		const span *s;

		if (n->type != XML_ELEMENT_NODE) {
			n->_private = &orig_marker;
			continue;
		}
		if (*k >= m->n)
			return eid_error__set(EID_EFORMAT, "the document's elements cannot be found in its bytes");
		s = &m->v[*k];
		nl = strlen((const char *)n->name);
		if (s->qlen != (prefix ? pl + 1 : 0) + nl ||
		    (prefix && (memcmp(p + s->start + 1, prefix, pl) != 0 || p[s->start + 1 + pl] != ':')) ||
		    memcmp(p + s->start + 1 + (prefix ? pl + 1 : 0), n->name, nl) != 0)
			return eid_error__set(EID_EFORMAT, "element %zu of the document ('%s') cannot be found in its bytes",
					      *k + 1, (const char *)n->name);
		n->_private = (void *)(uintptr_t)(*k + 1);
		(*k)++;
		rc = map_nodes(n->children, p, m, k);
	}
	return rc;
}

static const span *span_of(const spanmap *m, xmlNodePtr n)
{
	uintptr_t k = (uintptr_t)n->_private;

	return n->type == XML_ELEMENT_NODE && n->_private != NULL && n->_private != &orig_marker && k <= m->n
		       ? &m->v[k - 1] : NULL;
}

/* ---- writing the new nodes into the bytes ---- */

typedef struct patch {
	size_t at, cut, seq;
	eid_buf text;
} patch;

typedef struct patches {
	patch *v;
	size_t n, cap;
	int ascii; /* every text is ASCII (needed for a document in another encoding than UTF-8) */
} patches;

static int dump_node(xmlNodePtr n, eid_buf *out)
{
	xmlBufferPtr b = xmlBufferCreate();
	int rc;

	if (b == NULL || xmlNodeDump(b, n->doc, n, 0, 0) < 0)
		rc = eid_error__set(EID_ENOMEM, "a new element cannot be written out");
	else
		rc = eid_buf__append(out, xmlBufferContent(b), (size_t)xmlBufferLength(b));
	xmlBufferFree(b);
	return rc;
}

static int add_patch(patches *sp, size_t at, size_t cut, eid_buf *text)
{
	size_t i;

	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? 2 * sp->cap : 16;
		patch *v = realloc(sp->v, cap * sizeof(*v));

		if (v == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		sp->v = v;
		sp->cap = cap;
	}
	for (i = 0; i < text->len; i++)
		if (text->data[i] >= 0x80)
			sp->ascii = 0;
	sp->v[sp->n].at = at;
	sp->v[sp->n].cut = cut;
	sp->v[sp->n].seq = sp->n;
	sp->v[sp->n].text = *text;
	memset(text, 0, sizeof(*text));
	sp->n++;
	return EID_OK;
}

/*
 * The new children of every element of the document, a run of adjacent new
 * nodes at a time: after the document's element before them, else before
 * the one after them, else at the start or the end of their parent's
 * content (an empty element "<x/>" is opened and closed around them).
 */
static int collect_patches(xmlNodePtr n, const unsigned char *p, const spanmap *m, patches *sp)
{
	int rc = EID_OK;

	for (; n != NULL && rc == EID_OK; n = n->next) {
		const span *ps = span_of(m, n);
		xmlNodePtr c, last;

		if (ps == NULL)
			continue;
		for (c = n->children; c != NULL && rc == EID_OK; c = c->next) {
			eid_buf text = EID_BUF_INIT;
			const span *before, *after;
			size_t at, cut = 0;

			if (c->_private != NULL)
				continue;
			before = c->prev ? span_of(m, c->prev) : NULL;
			for (last = c; last->next != NULL && last->next->_private == NULL; last = last->next)
				;
			after = last->next ? span_of(m, last->next) : NULL;
			if (ps->empty) {
				at = ps->etag;
				cut = 2;
				rc = eid_buf__append(&text, ">", 1);
			} else if (before != NULL) {
				at = before->end;
			} else if (after != NULL) {
				at = after->start;
			} else if (c->prev == NULL) {
				at = ps->stag_end;
			} else if (last->next == NULL) {
				at = ps->etag;
			} else {
				rc = eid_error__set(EID_EINTERNAL, "a new element has no place in the document's bytes");
				break;
			}
			for (; rc == EID_OK; c = c->next) {
				rc = dump_node(c, &text);
				if (c == last)
					break;
			}
			if (rc == EID_OK && ps->empty && (rc = eid_buf__append(&text, "</", 2)) == EID_OK &&
			    (rc = eid_buf__append(&text, p + ps->start + 1, ps->qlen)) == EID_OK)
				rc = eid_buf__append(&text, ">", 1);
			if (rc == EID_OK)
				rc = add_patch(sp, at, cut, &text);
			eid_buf_clear(&text);
		}
		if (rc == EID_OK)
			rc = collect_patches(n->children, p, m, sp);
	}
	return rc;
}

static int cmp_patch(const void *a, const void *b)
{
	const patch *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- extending one signature ---- */

typedef struct ext {
	xmlDocPtr doc;
	const eid_extend_opts *o;
	const eid_xades_source *src;
	eid_hash hash;
	char base[80]; /* the Ids of new elements derive from it */
} ext;

/* A namespace for @n (attached to the tree): the one in scope for @href, or a new declaration on @n. */
static xmlNsPtr ns_for(xmlNodePtr n, const char *href, const char *prefix)
{
	xmlNsPtr ns = xmlSearchNsByHref(n->doc, n, (const xmlChar *)href);

	return ns != NULL ? ns : xmlNewNs(n, (const xmlChar *)href, (const xmlChar *)prefix);
}

/*
 * A new element @href:@name: after @after when given, else the last child
 * of @parent (@first: the first); NULL when out of memory (what was added
 * stays in the tree, which is freed whole).
 */
static xmlNodePtr new_el(xmlNodePtr parent, xmlNodePtr after, int first, const char *href, const char *prefix,
			 const char *name, const char *text)
{
	xmlNodePtr n = xmlNewDocNode(parent->doc, NULL, (const xmlChar *)name, NULL), at;
	xmlNsPtr ns;

	if (n == NULL)
		return NULL;
	if (after != NULL)
		at = xmlAddNextSibling(after, n);
	else if (first && parent->children != NULL)
		at = xmlAddPrevSibling(parent->children, n);
	else
		at = xmlAddChild(parent, n);
	if (at == NULL) {
		xmlFreeNode(n);
		return NULL;
	}
	if ((ns = ns_for(n, href, prefix)) == NULL)
		return NULL;
	xmlSetNs(n, ns);
	if (text != NULL)
		xmlNodeAddContent(n, (const xmlChar *)text);
	return n;
}

static int b64_el(xmlNodePtr parent, const char *href, const char *prefix, const char *name, const unsigned char *p,
		  size_t len)
{
	eid_buf b = EID_BUF_INIT;
	int rc = eid_xml__b64_encode(p, len, &b);

	if (rc == EID_OK && (rc = eid_buf__append(&b, "", 1)) == EID_OK &&
	    new_el(parent, NULL, 0, href, prefix, name, (const char *)b.data) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	eid_buf_clear(&b);
	return rc;
}

static int new_id(ext *x, xmlNodePtr n, const char *what)
{
	unsigned char rnd[4];
	char id[128];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return eid_error__ossl(EID_EINTERNAL, "no random bytes");
	snprintf(id, sizeof(id), "%s-%s-%02x%02x%02x%02x", x->base, what, rnd[0], rnd[1], rnd[2], rnd[3]);
	return xmlNewProp(n, (const xmlChar *)"Id", (const xmlChar *)id) ? EID_OK : eid_error__set(EID_ENOMEM, NULL);
}

/* CertificateValues and RevocationValues of @v into @parent (either may be left out). */
static int add_values(xmlNodePtr parent, const eid_vdata *v, int certs, int revocation)
{
	xmlNodePtr cv, rv, list;
	int i, rc = EID_OK;

	if (certs && sk_X509_num(v->certs) > 0) {
		if ((cv = new_el(parent, NULL, 0, EID_NS_XADES, "xades", "CertificateValues", NULL)) == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		for (i = 0; rc == EID_OK && i < sk_X509_num(v->certs); i++) {
			unsigned char *der = NULL;
			int len = i2d_X509(sk_X509_value(v->certs, i), &der);

			rc = len > 0 ? b64_el(cv, EID_NS_XADES, "xades", "EncapsulatedX509Certificate", der, (size_t)len)
				     : eid_error__ossl(EID_ECERT, "a certificate cannot be encoded");
			OPENSSL_free(der);
		}
	}
	if (rc < 0 || !revocation || !eid_vdata__has_revocation(v))
		return rc;
	if ((rv = new_el(parent, NULL, 0, EID_NS_XADES, "xades", "RevocationValues", NULL)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if (sk_X509_CRL_num(v->crls) > 0 &&
	    (list = new_el(rv, NULL, 0, EID_NS_XADES, "xades", "CRLValues", NULL)) != NULL) {
		for (i = 0; rc == EID_OK && i < sk_X509_CRL_num(v->crls); i++) {
			unsigned char *der = NULL;
			int len = i2d_X509_CRL(sk_X509_CRL_value(v->crls, i), &der);

			rc = len > 0 ? b64_el(list, EID_NS_XADES, "xades", "EncapsulatedCRLValue", der, (size_t)len)
				     : eid_error__ossl(EID_ECERT, "a CRL cannot be encoded");
			OPENSSL_free(der);
		}
	} else if (sk_X509_CRL_num(v->crls) > 0) {
		rc = eid_error__set(EID_ENOMEM, NULL);
	}
	if (rc == EID_OK && sk_OCSP_RESPONSE_num(v->ocsps) > 0 &&
	    (list = new_el(rv, NULL, 0, EID_NS_XADES, "xades", "OCSPValues", NULL)) != NULL) {
		for (i = 0; rc == EID_OK && i < sk_OCSP_RESPONSE_num(v->ocsps); i++) {
			unsigned char *der = NULL;
			int len = i2d_OCSP_RESPONSE(sk_OCSP_RESPONSE_value(v->ocsps, i), &der);

			rc = len > 0 ? b64_el(list, EID_NS_XADES, "xades", "EncapsulatedOCSPValue", der, (size_t)len)
				     : eid_error__ossl(EID_ECERT, "an OCSP response cannot be encoded");
			OPENSSL_free(der);
		}
	} else if (rc == EID_OK && sk_OCSP_RESPONSE_num(v->ocsps) > 0) {
		rc = eid_error__set(EID_ENOMEM, NULL);
	}
	return rc;
}

/* The token of a SignatureTimeStamp or ArchiveTimeStamp (its first EncapsulatedTimeStamp). */
static int token_of(xmlNodePtr ts, eid_buf *out)
{
	char *text = eid_xml__text_of(eid_xml__child(ts, EID_NS_XADES, "EncapsulatedTimeStamp"));
	int rc = text != NULL ? eid_xml__b64_decode(text, out) : EID_EFORMAT;

	xmlFree(text);
	if (rc < 0 || out->len == 0)
		return eid_error__set(EID_EFORMAT, "a %s holds no EncapsulatedTimeStamp", (const char *)ts->name);
	return EID_OK;
}

/*
 * A timestamp element @name (SignatureTimeStamp or xades141:ArchiveTimeStamp)
 * at the end of @usp, with exclusive C14N, over the canonical
 * ds:SignatureValue or the archive input.
 */
static int add_timestamp(ext *x, xmlNodePtr sig, xmlNodePtr usp, int archive, xmlNodePtr *out)
{
	xmlNodePtr ts, cm, sv = eid_xml__next_element(eid_xml__first_element(sig));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	eid_buf tok = EID_BUF_INIT;
	int rc = md && EVP_DigestInit_ex(md, eid_hash__md(x->hash), NULL) ? EID_OK : eid_error__set(EID_ENOMEM, NULL);

	ts = rc == EID_OK ? new_el(usp, NULL, 0, archive ? EID_NS_XADES141 : EID_NS_XADES, archive ? "xades141" : "xades",
				   archive ? "ArchiveTimeStamp" : "SignatureTimeStamp", NULL) : NULL;
	if (rc == EID_OK && ts == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK)
		rc = new_id(x, ts, archive ? "ats" : "sigtst");
	if (rc == EID_OK && ((cm = new_el(ts, NULL, 0, EID_NS_DS, "ds", "CanonicalizationMethod", NULL)) == NULL ||
			     xmlNewProp(cm, (const xmlChar *)"Algorithm", (const xmlChar *)EXC_C14N) == NULL))
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK)
		rc = archive ? eid_xades__archive_input(x->doc, sig, ts, EID_C14N_EXC, 0, x->src, md, NULL)
			     : eid_xml__c14n(x->doc, sv, NULL, EID_C14N_EXC, 0, NULL, md, NULL);
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, d, &dl))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK && (rc = eid_online_timestamp(x->o->online, x->hash, d, dl, &tok)) < 0)
		rc = eid_error__wrap(archive ? "the archive timestamp" : "the signature timestamp");
	if (rc == EID_OK)
		rc = b64_el(ts, EID_NS_XADES, "xades", "EncapsulatedTimeStamp", tok.data, tok.len);
	if (rc == EID_OK && out != NULL)
		*out = ts;
	EVP_MD_CTX_free(md);
	eid_buf_clear(&tok);
	return rc;
}

/* xades141:TimeStampValidationData for the TSA of the timestamp @ts: after @after, or at the end of @usp. */
static int add_tsa_data(ext *x, xmlNodePtr usp, xmlNodePtr ts, xmlNodePtr after)
{
	eid_buf tok = EID_BUF_INIT;
	eid_vdata v = EID_VDATA_INIT;
	xmlNodePtr d;
	int rc = token_of(ts, &tok);

	if (rc == EID_OK && (rc = eid_vdata__collect_token(&v, x->o->online, tok.data, tok.len)) < 0)
		rc = eid_error__wrap("the validation data of the %s's TSA", (const char *)ts->name);
	if (rc == EID_OK &&
	    (d = new_el(usp, after, 0, EID_NS_XADES141, "xades141", "TimeStampValidationData", NULL)) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK)
		rc = add_values(d, &v, 1, 1);
	eid_vdata__clear(&v);
	eid_buf_clear(&tok);
	return rc;
}

/* The certificates of KeyInfo, and among them the one SigningCertificate(V2) names (else the first). */
static int find_signer(xmlNodePtr sig, xmlNodePtr qp, STACK_OF(X509) *certs, X509 **signer)
{
	xmlNodePtr ki = eid_xml__child(sig, EID_NS_DS, "KeyInfo"), d, c, ssp, sc;
	int i;

	*signer = NULL;
	for (d = eid_xml__first_element(ki); d != NULL; d = eid_xml__next_element(d))
		for (c = eid_xml__is(d, EID_NS_DS, "X509Data") ? eid_xml__first_element(d) : NULL; c != NULL; c = eid_xml__next_element(c)) {
			eid_buf der = EID_BUF_INIT;
			char *text;
			X509 *cert = NULL;

			if (!eid_xml__is(c, EID_NS_DS, "X509Certificate"))
				continue;
			if (sk_X509_num(certs) >= KEYINFO_MAX_CERTS)
				return eid_error__set(EID_ETOOBIG, "more than %d certificates in KeyInfo", KEYINFO_MAX_CERTS);
			if ((text = eid_xml__text_of(c)) != NULL && eid_xml__b64_decode(text, &der) == EID_OK)
				eid_cert__parse(der.data, der.len, &cert);
			eid_error_clear();
			xmlFree(text);
			eid_buf_clear(&der);
			if (cert != NULL && !sk_X509_push(certs, cert)) {
				X509_free(cert);
				return eid_error__set(EID_ENOMEM, NULL);
			}
		}
	ssp = eid_xml__child(eid_xml__child(qp, EID_NS_XADES, "SignedProperties"), EID_NS_XADES,
			     "SignedSignatureProperties");
	if ((sc = eid_xml__child(ssp, EID_NS_XADES, "SigningCertificateV2")) == NULL)
		sc = eid_xml__child(ssp, EID_NS_XADES, "SigningCertificate");
	for (i = 0; i < sk_X509_num(certs) && *signer == NULL; i++)
		for (c = eid_xml__first_element(sc); c != NULL && *signer == NULL; c = eid_xml__next_element(c)) {
			xmlNodePtr cd = eid_xml__child(c, EID_NS_XADES, "CertDigest");
			char *alg = (char *)xmlGetNoNsProp(eid_xml__child(cd, EID_NS_DS, "DigestMethod"),
							   (const xmlChar *)"Algorithm");
			char *dv = eid_xml__text_of(eid_xml__child(cd, EID_NS_DS, "DigestValue"));
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned int ml = 0;
			eid_buf want = EID_BUF_INIT;
			eid_hash h;

			if (alg && dv && eid_xades__digest_from_uri(alg, &h) == EID_OK &&
			    eid_xml__b64_decode(dv, &want) == EID_OK &&
			    X509_digest(sk_X509_value(certs, i), eid_hash__md(h), md, &ml) && want.len == ml &&
			    memcmp(want.data, md, ml) == 0)
				*signer = sk_X509_value(certs, i);
			eid_error_clear();
			xmlFree(alg);
			xmlFree(dv);
			eid_buf_clear(&want);
		}
	if (*signer == NULL && sc == NULL && sk_X509_num(certs) > 0)
		*signer = sk_X509_value(certs, 0);
	if (*signer == NULL)
		return eid_error__set(EID_ECERT, "KeyInfo holds no signing certificate that the signed properties name");
	return EID_OK;
}

/*
 * The files the detached references name must be those signed (their
 * digests): an archive timestamp over other bytes would never hold.
 */
static int check_detached(ext *x, xmlNodePtr sig)
{
	xmlNodePtr ref;
	int rc = EID_OK;

	for (ref = eid_xml__first_element(eid_xml__first_element(sig)); ref != NULL && rc == EID_OK; ref = eid_xml__next_element(ref)) {
		char *uri = (char *)xmlGetNoNsProp(ref, (const xmlChar *)"URI"), name[1024];
		char *alg = (char *)xmlGetNoNsProp(eid_xml__child(ref, EID_NS_DS, "DigestMethod"),
						   (const xmlChar *)"Algorithm");
		char *dv = eid_xml__text_of(eid_xml__child(ref, EID_NS_DS, "DigestValue"));
		eid_buf want = EID_BUF_INIT;
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		EVP_MD_CTX *md = NULL;
		eid_hash h;

		if (!eid_xml__is(ref, EID_NS_DS, "Reference") || uri == NULL || uri[0] == '\0' || uri[0] == '#')
			goto next;
		if (eid_xades__digest_from_uri(alg, &h) < 0 || dv == NULL || eid_xml__b64_decode(dv, &want) < 0) {
			rc = eid_error__set(EID_EFORMAT, "the reference '%.200s' has no usable digest", uri);
			goto next;
		}
		if ((rc = uri_to_name(uri, name, sizeof(name))) < 0)
			goto next;
		if ((md = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(md, eid_hash__md(h), NULL)) {
			rc = eid_error__set(EID_ENOMEM, NULL);
			goto next;
		}
		rc = x->src && x->src->read ? x->src->read(x->src->ctx, name, md, NULL)
					    : eid_error__set(EID_ENOTFOUND, "the signed file '%s' was not given", name);
		if (rc == EID_OK && !EVP_DigestFinal_ex(md, d, &dl))
			rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
		if (rc == EID_OK && (dl != want.len || memcmp(d, want.data, dl) != 0))
			rc = eid_error__set(EID_EINVAL, "'%s' is not the file the signature signs (its digest differs)", name);
		if (rc < 0)
			rc = eid_error__wrap("an archive timestamp covers the signed files (--data)");
next:
		EVP_MD_CTX_free(md);
		eid_buf_clear(&want);
		xmlFree(uri);
		xmlFree(alg);
		xmlFree(dv);
	}
	return rc;
}

static int extend_signature(ext *x, xmlNodePtr sig, long index)
{
	xmlNodePtr si = eid_xml__first_element(sig), sv = eid_xml__next_element(si), qp = qualifying_props(sig), up, usp, c, next;
	xmlNodePtr last_ats = NULL;
	STACK_OF(X509) *certs = NULL;
	eid_vdata v = EID_VDATA_INIT;
	char *id = (char *)xmlGetNoNsProp(sig, (const xmlChar *)"Id");
	int has_ts = 0, has_cv = 0, has_rv = 0, rc = EID_OK;
	unsigned char rnd[8];

	if (!eid_xml__is(si, EID_NS_DS, "SignedInfo") || !eid_xml__is(sv, EID_NS_DS, "SignatureValue")) {
		rc = eid_error__set(EID_EFORMAT, "a ds:Signature must hold SignedInfo, then SignatureValue");
		goto out;
	}
	if (qp == NULL) {
		rc = eid_error__set(EID_EUNSUPPORTED, "a plain XML-DSig signature (no XAdES QualifyingProperties) "
						      "cannot be extended");
		goto out;
	}
	/* the new Ids derive from the signature's own, when it is a plain short name */
	if (id != NULL && strlen(id) < 48 &&
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(id)) {
		snprintf(x->base, sizeof(x->base), "%s", id);
	} else if (RAND_bytes(rnd, sizeof(rnd)) == 1) {
		snprintf(x->base, sizeof(x->base), "id-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4], rnd[5], rnd[6], rnd[7]);
	} else {
		rc = eid_error__ossl(EID_EINTERNAL, "no random bytes");
		goto out;
	}
	/* before anything is asked of a server */
	if (x->o->level == EID_LEVEL_B_LTA && (rc = check_detached(x, sig)) < 0)
		goto out;
	/* UnsignedProperties after SignedProperties; UnsignedSignatureProperties first in it */
	if ((up = eid_xml__child(qp, EID_NS_XADES, "UnsignedProperties")) == NULL &&
	    (up = new_el(qp, NULL, 0, EID_NS_XADES, "xades", "UnsignedProperties", NULL)) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	if ((usp = eid_xml__child(up, EID_NS_XADES, "UnsignedSignatureProperties")) == NULL &&
	    (usp = new_el(up, NULL, 1, EID_NS_XADES, "xades", "UnsignedSignatureProperties", NULL)) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	for (c = eid_xml__first_element(usp); c != NULL; c = eid_xml__next_element(c)) {
		has_ts |= eid_xml__is(c, EID_NS_XADES, "SignatureTimeStamp");
		has_cv |= eid_xml__is(c, EID_NS_XADES, "CertificateValues");
		has_rv |= eid_xml__is(c, EID_NS_XADES, "RevocationValues");
		if (eid_xml__is(c, EID_NS_XADES141, "ArchiveTimeStamp") || eid_xml__is(c, EID_NS_XADES, "ArchiveTimeStamp"))
			last_ats = c;
	}
	/* B-T */
	if (!has_ts) {
		if ((rc = add_timestamp(x, sig, usp, 0, NULL)) < 0)
			goto out;
	}
	/* B-LT: the TSAs' data after their timestamps, then the signer's (nothing may come before an archive timestamp) */
	if (x->o->level >= EID_LEVEL_B_LT && last_ats == NULL) {
		for (c = eid_xml__first_element(usp); c != NULL && rc == EID_OK; c = next) {
			next = eid_xml__next_element(c);
			if (!eid_xml__is(c, EID_NS_XADES, "SignatureTimeStamp") ||
			    eid_xml__is(next, EID_NS_XADES141, "TimeStampValidationData"))
				continue;
			rc = add_tsa_data(x, usp, c, c);
		}
		if (rc == EID_OK && (!has_cv || !has_rv)) {
			X509 *signer = NULL;

			if ((certs = sk_X509_new_null()) == NULL)
				rc = eid_error__set(EID_ENOMEM, NULL);
			if (rc == EID_OK)
				rc = find_signer(sig, qp, certs, &signer);
			if (rc == EID_OK && (rc = eid_vdata__collect(&v, x->o->online, signer, certs)) < 0)
				rc = eid_error__wrap("the signer's validation data");
			if (rc == EID_OK)
				rc = add_values(usp, &v, !has_cv, !has_rv);
		}
		if (rc < 0)
			goto out;
	}
	/* B-LTA: a renewal first gives the last archive timestamp its TSA's data */
	if (x->o->level == EID_LEVEL_B_LTA) {
		if (last_ats != NULL && !eid_xml__is(last_ats, EID_NS_XADES141, "ArchiveTimeStamp")) {
			rc = eid_error__set(EID_EUNSUPPORTED, "an ArchiveTimeStamp of XAdES 1.3.2 cannot be renewed");
			goto out;
		}
		if (last_ats != NULL && (rc = add_tsa_data(x, usp, last_ats, NULL)) < 0)
			goto out;
		rc = add_timestamp(x, sig, usp, 1, NULL);
	}
out:
	if (rc < 0)
		eid_error__wrap("signature %ld%s%s%s", index + 1, id ? " ('" : "", id ? id : "", id ? "')" : "");
	xmlFree(id);
	eid_vdata__clear(&v);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* Every outermost ds:Signature (counter-signatures inside one are not extended). */
static int walk(ext *x, xmlNodePtr n, long *found)
{
	int rc = EID_OK;

	for (; n != NULL && rc == EID_OK; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (eid_xml__is(n, EID_NS_DS, "Signature")) {
			if (++*found > SIGS_MAX)
				return eid_error__set(EID_ETOOBIG, "more than %d signatures", SIGS_MAX);
			rc = extend_signature(x, n, *found - 1);
		} else {
			rc = walk(x, n->children, found);
		}
	}
	return rc;
}

/* Bytes that other encodings than UTF-8 share with ASCII: then ASCII text can be written in as it is. */
static int ascii_compatible(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 4; i++)
		if (p[i] == 0)
			return 0; /* UTF-16, UCS-4 */
	if (len >= 2 && ((p[0] == 0xfe && p[1] == 0xff) || (p[0] == 0xff && p[1] == 0xfe)))
		return 0;
	if (len >= 1 && p[0] == 0x4c)
		return 0; /* EBCDIC '<' */
	return 1;
}

static int is_utf8(xmlDocPtr doc)
{
	const char *e = (const char *)doc->encoding;

	return e == NULL || strcasecmp(e, "UTF-8") == 0 || strcasecmp(e, "UTF8") == 0;
}

/* The tree written out anew in UTF-8 (a document in an encoding whose bytes cannot be spliced). */
static int write_tree(xmlDocPtr doc, eid_buf *out)
{
	xmlChar *mem = NULL;
	int size = 0, rc;

	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	rc = mem != NULL && size > 0 ? eid_buf_set(out, mem, (size_t)size)
				     : eid_error__set(EID_ENOMEM, "the document cannot be written out");
	xmlFree(mem);
	return rc;
}

int eid_xades__extend_mem(const unsigned char *p, size_t len, const char *what, const eid_xades_source *src,
			  const eid_extend_opts *o, eid_buf *out)
{
	xmlDocPtr doc = NULL;
	spanmap m = { NULL, 0, 0 };
	patches sp = { NULL, 0, 0, 1 };
	ext x;
	long found = 0;
	size_t k = 0, i, pos = 0;
	int rc;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.src = src;
	x.hash = o->hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : o->hash;
	if (eid_xades__digest_uri(x.hash) == NULL)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)o->hash);
	if ((rc = eid_xml__parse(&doc, p, len, what)) < 0)
		return rc;
	x.doc = doc;
	if ((rc = eid_xml__ids_unique(doc)) < 0)
		goto out;
	/* map the tree to the bytes before anything changes */
	if ((rc = scan_elements(p, len, &m)) == EID_OK)
		rc = map_nodes(doc->children, p, &m, &k);
	if (rc == EID_OK && k != m.n)
		rc = eid_error__set(EID_EFORMAT, "the document's elements cannot be found in its bytes");
	if (rc < 0) {
		rc = eid_error__wrap("'%s'", what);
		goto out;
	}
	if ((rc = walk(&x, doc->children, &found)) < 0) {
		rc = eid_error__wrap("'%s'", what);
		goto out;
	}
	if (found == 0) {
		rc = eid_error__set(EID_ENOTFOUND, "'%s' holds no XML signature", what);
		goto out;
	}
	out->len = 0;
	if ((rc = collect_patches(doc->children, p, &m, &sp)) < 0)
		goto out;
	if (!ascii_compatible(p, len) || (!is_utf8(doc) && !sp.ascii)) {
		rc = write_tree(doc, out);
		goto out;
	}
	qsort(sp.v, sp.n, sizeof(*sp.v), cmp_patch);
	if ((rc = eid_buf__reserve(out, len + 4096)) < 0)
		goto out;
	for (i = 0; i < sp.n && rc == EID_OK; i++) {
		if (sp.v[i].at < pos || sp.v[i].at > len) {
			rc = eid_error__set(EID_EINTERNAL, "new elements overlap in the document's bytes");
			break;
		}
		if ((rc = eid_buf__append(out, p + pos, sp.v[i].at - pos)) == EID_OK)
			rc = eid_buf__append(out, sp.v[i].text.data, sp.v[i].text.len);
		pos = sp.v[i].at + sp.v[i].cut;
	}
	if (rc == EID_OK && pos <= len)
		rc = eid_buf__append(out, p + pos, len - pos);
out:
	for (i = 0; i < sp.n; i++)
		eid_buf_clear(&sp.v[i].text);
	free(sp.v);
	free(m.v);
	xmlFreeDoc(doc);
	if (rc < 0)
		eid_buf_clear(out);
	return rc;
}

int eid_xades__extend(const char *in, const char *out, const eid_extend_opts *o)
{
	eid_buf data = EID_BUF_INIT, res = EID_BUF_INIT;
	eid_xades_source src = { eid_xades__file_source, NULL };
	eid_outfile of;
	char *dir = NULL, *slash;
	int rc;

	/* detached references: the files given, else those beside the signature */
	if (o->data_path != NULL) {
		src.ctx = (void *)(uintptr_t)o->data_path;
	} else if ((dir = strdup(in)) == NULL) {
		return eid_error__set(EID_ENOMEM, NULL);
	} else {
		if ((slash = strrchr(dir, '/')) != NULL)
			slash[slash == dir ? 1 : 0] = '\0';
		else
			strcpy(dir, ".");
		src.ctx = dir;
	}
	if ((rc = eid_io__read_file(in, EID_XML_MAX_SIZE, &data)) == EID_OK &&
	    (rc = eid_xades__extend_mem(data.data, data.len, in, &src, o, &res)) == EID_OK &&
	    (rc = eid_io__out_open(&of, out)) == EID_OK) {
		if ((rc = eid_io__out_write(&of, res.data, res.len)) == EID_OK)
			rc = eid_io__out_commit(&of);
		else
			eid_io__out_abort(&of);
	}
	free(dir);
	eid_buf_clear(&data);
	eid_buf_clear(&res);
	return rc;
}
