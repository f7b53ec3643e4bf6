/*
 * The XML layer's streaming half: a document read from its file in chunks
 * through libxml2's push parser, never held as a tree.
 *
 *  - eid_xml__c14n_file canonicalizes a whole document (a same-document
 *    reference "": no comments) straight into a digest, optionally leaving
 *    out one enveloped signature, and reports where the root element ends so
 *    that a signature can be spliced into the original bytes;
 *  - eid_xml__parse_signatures builds a skeleton tree: every outermost
 *    ds:Signature whole, the elements around them with their names,
 *    namespace declarations and xml:* attributes, nothing else.
 *
 * The same hardening as the tree parser: a DOCTYPE ends the parse, no
 * network, libxml2's depth and text limits.  As no DTD can be read, no entity
 * but the five predefined ones exists, so substituting entities is safe and
 * gives attribute values fully decoded.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "xml.h"

#define OUT_CHUNK 65536
#define NS_XML "http://www.w3.org/XML/1998/namespace"

/* ---- the push-parser driver, shared by both passes ---- */

typedef struct driver {
	int had_dtd;             /* first: the DOCTYPE hook writes it */
	xmlParserCtxtPtr ctxt;
	int rc;                  /* the first failure of a callback */
	const char *path;
	/* Id values seen, to refuse (or report) duplicates */
	xmlHashTablePtr ids;
	size_t nids;
	char *dup_id;
} driver;

/* A handler with the DOCTYPE refusal and nothing else. */
static void sax_init(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->internalSubset = eid_xml__refuse_dtd;  /* sets driver.had_dtd, its first member */
	sax->externalSubset = eid_xml__refuse_dtd;
}

static void stop(driver *d, int rc)
{
	if (d->rc == EID_OK)
		d->rc = rc;
	xmlStopParser(d->ctxt);
}

/* Note the Id, ID and id attributes (no namespace) of an element; remember the first duplicate. */
static void note_ids(driver *d, int nb_attributes, const xmlChar **attrs)
{
	int i;

	for (i = 0; i < nb_attributes; i++, attrs += 5) {
		const xmlChar *name = attrs[0];
		xmlChar *v;

		if (attrs[2] != NULL || !(xmlStrEqual(name, BAD_CAST "Id") || xmlStrEqual(name, BAD_CAST "ID") ||
					  xmlStrEqual(name, BAD_CAST "id")))
			continue;
		if ((v = xmlStrndup(attrs[3], (int)(attrs[4] - attrs[3]))) == NULL) {
			stop(d, eid_error__set(EID_ENOMEM, NULL));
			return;
		}
		if (xmlHashLookup(d->ids, v) != NULL) {
			if (d->dup_id == NULL)
				d->dup_id = (char *)v;
			else
				xmlFree(v);
			continue;
		}
		if (++d->nids > EID_XML_MAX_IDS) {
			xmlFree(v);
			stop(d, eid_error__set(EID_ETOOBIG, "more than %u Id attributes", EID_XML_MAX_IDS));
			return;
		}
		if (xmlHashAddEntry(d->ids, v, (void *)1) != 0)
			stop(d, eid_error__set(EID_ENOMEM, NULL));
		xmlFree(v);
	}
}

/*
 * Run the push parser over @path with @sax and @private (reachable as
 * ctxt->_private; its first member is a driver).  @sha256, when not NULL,
 * receives the digest of the file's bytes, @size their number.  On success
 * the context is left in d->ctxt for the caller to inspect and free.
 */
static int drive(driver *d, const char *path, xmlSAXHandler *sax, void *private, unsigned char *sha256,
		 uint64_t *size)
{
	unsigned char *chunk = NULL;
	EVP_MD_CTX *raw = NULL;
	struct stat st;
	ssize_t n;
	int fd, rc = EID_OK;

	d->path = path;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = eid_error__set(EID_EIO, "'%s' is not a regular file", path);
	else if ((uint64_t)st.st_size > EID_XML_MAX_SIZE)
		rc = eid_error__set(EID_ETOOBIG, "%s: more than %u MiB of XML", path, EID_XML_MAX_SIZE >> 20);
	else if (st.st_size == 0)
		rc = eid_error__set(EID_EFORMAT, "%s: empty, not XML", path);
	if (rc == EID_OK && ((chunk = malloc(EID_IO_CHUNK)) == NULL || (d->ids = xmlHashCreate(64)) == NULL))
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK && sha256 != NULL &&
	    ((raw = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(raw, EVP_sha256(), NULL)))
		rc = eid_error__ossl(EID_ENOMEM, "digest init failed");
	if (rc == EID_OK) {
		d->ctxt = xmlCreatePushParserCtxt(sax, NULL, NULL, 0, path);
		if (d->ctxt == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
	}
	if (rc == EID_OK) {
		xmlCtxtUseOptions(d->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOENT);
		d->ctxt->_private = private;
		for (;;) {
			n = read(fd, chunk, EID_IO_CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = eid_error__set(EID_EIO, "cannot read '%s': %s", path, strerror(errno));
				break;
			}
			if (raw != NULL && n > 0 && !EVP_DigestUpdate(raw, chunk, (size_t)n)) {
				rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
				break;
			}
			xmlParseChunk(d->ctxt, (const char *)chunk, (int)n, n == 0);
			if (n == 0 || d->had_dtd || d->rc != EID_OK || d->ctxt->disableSAX || !d->ctxt->wellFormed)
				break;
		}
	}
	if (rc == EID_OK && d->had_dtd) {
		rc = eid_error__set(EID_EFORMAT, "%s: a document type declaration (DOCTYPE) is not accepted", path);
	} else if (rc == EID_OK && d->rc != EID_OK) {
		rc = d->rc;
	} else if (rc == EID_OK && (!d->ctxt->wellFormed || d->ctxt->disableSAX)) {
		rc = eid_xml__parse_error(d->ctxt, path);
	}
	if (rc == EID_OK && raw != NULL && !EVP_DigestFinal_ex(raw, sha256, NULL))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (size != NULL)
		*size = (uint64_t)st.st_size;
	EVP_MD_CTX_free(raw);
	free(chunk);
	close(fd);
	return rc;
}

static void driver_clear(driver *d)
{
	if (d->ctxt != NULL) {
		xmlFreeDoc(d->ctxt->myDoc);
		d->ctxt->myDoc = NULL;
		xmlFreeParserCtxt(d->ctxt);
	}
	xmlHashFree(d->ids, NULL);
	xmlFree(d->dup_id);
	memset(d, 0, sizeof(*d));
}

/* ---- canonicalization of a whole document, as a stream ---- */

typedef struct nsdecl {
	const xmlChar *prefix; /* "" for the default namespace */
	const xmlChar *uri;    /* "" for xmlns="" */
	int depth;
} nsdecl;

typedef struct nsstack {
	nsdecl *v;
	size_t n, cap;
} nsstack;

typedef struct c14n_stream {
	driver d; /* first */
	eid_c14n mode;
	const char *const *inclusive; /* the exclusive method's PrefixList ("#default": the default namespace) */
	EVP_MD_CTX *md;
	unsigned char *out;
	size_t olen;
	int depth;                    /* of the element being read; 0: outside the root */
	int root_done;
	long skip, nsig;              /* the outermost signature to leave out; outermost signatures seen */
	int sig_depth, skip_depth;    /* inside that signature / the left-out one (their depths), or 0 */
	nsstack scope;                /* the declarations in scope */
	nsstack rendered;             /* exclusive: the declarations output by output ancestors */
	eid_xml_file_info *info;
} c14n_stream;

static const xmlChar *nz(const xmlChar *s)
{
	return s ? s : BAD_CAST "";
}

static int ns_push(nsstack *s, const xmlChar *prefix, const xmlChar *uri, int depth)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		nsdecl *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].prefix = nz(prefix);
	s->v[s->n].uri = nz(uri);
	s->v[s->n++].depth = depth;
	return EID_OK;
}

static void ns_pop(nsstack *s, int depth)
{
	while (s->n > 0 && s->v[s->n - 1].depth >= depth)
		s->n--;
}

/* The innermost binding of @prefix declared at a depth below @below, or NULL. */
static const xmlChar *ns_find(const nsstack *s, const xmlChar *prefix, int below)
{
	size_t i;

	for (i = s->n; i-- > 0;)
		if (s->v[i].depth < below && xmlStrEqual(s->v[i].prefix, prefix))
			return s->v[i].uri;
	return NULL;
}

static void flush(c14n_stream *c)
{
	if (c->olen > 0 && c->md != NULL && !EVP_DigestUpdate(c->md, c->out, c->olen))
		stop(&c->d, eid_error__ossl(EID_EINTERNAL, "digest failed"));
	c->olen = 0;
}

static void put(c14n_stream *c, const void *p, size_t n)
{
	if (n >= OUT_CHUNK) {
		flush(c);
		if (c->md != NULL && !EVP_DigestUpdate(c->md, p, n))
			stop(&c->d, eid_error__ossl(EID_EINTERNAL, "digest failed"));
		return;
	}
	if (c->olen + n > OUT_CHUNK)
		flush(c);
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
}

static void puts_(c14n_stream *c, const xmlChar *s)
{
	put(c, s, strlen((const char *)s));
}

/* Text (@attr 0) or an attribute value (@attr 1), escaped as canonical XML wants. */
static void put_escaped(c14n_stream *c, const xmlChar *p, size_t n, int attr)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *e = NULL;

		switch (p[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = attr ? NULL : "&gt;"; break;
		case '"': e = attr ? "&quot;" : NULL; break;
		case '\t': e = attr ? "&#x9;" : NULL; break;
		case '\n': e = attr ? "&#xA;" : NULL; break;
		case '\r': e = "&#xD;"; break;
		}
		if (e == NULL)
			continue;
		put(c, p + from, i - from);
		put(c, e, strlen(e));
		from = i + 1;
	}
	put(c, p + from, n - from);
}

static void put_qname(c14n_stream *c, const xmlChar *prefix, const xmlChar *local)
{
	if (prefix != NULL && prefix[0] != '\0') {
		puts_(c, prefix);
		put(c, ":", 1);
	}
	puts_(c, local);
}

static int in_prefix_list(const c14n_stream *c, const xmlChar *prefix)
{
	const char *const *p;

	for (p = c->inclusive; p != NULL && *p != NULL; p++)
		if (prefix[0] == '\0' ? strcmp(*p, "#default") == 0 || (*p)[0] == '\0' : strcmp(*p, (const char *)prefix) == 0)
			return 1;
	return 0;
}

static int cmp_ns(const void *a, const void *b)
{
	return strcmp((const char *)((const nsdecl *)a)->prefix, (const char *)((const nsdecl *)b)->prefix);
}

typedef struct attr_ref {
	const xmlChar **a; /* localname, prefix, URI, value, end */
} attr_ref;

static int cmp_attr(const void *x, const void *y)
{
	const xmlChar **a = ((const attr_ref *)x)->a, **b = ((const attr_ref *)y)->a;
	int r = strcmp((const char *)nz(a[2]), (const char *)nz(b[2]));

	return r != 0 ? r : strcmp((const char *)a[0], (const char *)b[0]);
}

/* Add @prefix to the candidates unless it is there already. */
static void candidate(nsdecl *v, size_t *n, const xmlChar *prefix)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (xmlStrEqual(v[i].prefix, prefix))
			return;
	v[(*n)++].prefix = prefix;
}

/*
 * The namespace declarations an element renders, sorted.  Inclusive (the
 * whole document is output): those that differ from the parent's scope.
 * Exclusive: the visibly utilized prefixes and those of the PrefixList, when
 * no output ancestor rendered the same binding.
 */
static int element_ns(c14n_stream *c, const xmlChar *prefix, int nb_ns, const xmlChar **ns, int nb_attr,
		      const xmlChar **attrs, nsdecl **out, size_t *nout)
{
	size_t n = 0, k = 0, i;
	nsdecl *v;
	int d = c->depth;

	*out = NULL;
	*nout = 0;
	if (c->mode != EID_C14N_EXC) {
		if (nb_ns == 0)
			return EID_OK;
		if ((v = calloc((size_t)nb_ns, sizeof(*v))) == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		for (i = 0; i < (size_t)nb_ns; i++) {
			const xmlChar *p = nz(ns[2 * i]), *u = nz(ns[2 * i + 1]), *parent = ns_find(&c->scope, p, d);

			if (xmlStrEqual(p, BAD_CAST "xml"))
				continue;
			if (u[0] == '\0' ? parent != NULL && parent[0] != '\0' : parent == NULL || !xmlStrEqual(parent, u)) {
				v[k].prefix = p;
				v[k++].uri = u;
			}
		}
	} else {
		size_t max = 1 + (size_t)nb_attr + c->scope.n;

		if ((v = calloc(max, sizeof(*v))) == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		candidate(v, &n, nz(prefix));
		for (i = 0; i < (size_t)nb_attr; i++)
			if (attrs[5 * i + 1] != NULL && !xmlStrEqual(attrs[5 * i + 1], BAD_CAST "xml"))
				candidate(v, &n, attrs[5 * i + 1]);
		if (c->inclusive != NULL)
			for (i = 0; i < c->scope.n; i++)
				if (in_prefix_list(c, c->scope.v[i].prefix))
					candidate(v, &n, c->scope.v[i].prefix);
		for (i = 0; i < n; i++) {
			const xmlChar *p = v[i].prefix, *u = ns_find(&c->scope, p, d + 1),
				      *r = ns_find(&c->rendered, p, d);

			if (u == NULL)
				u = BAD_CAST "";
			if (xmlStrEqual(p, BAD_CAST "xml"))
				continue;
			if (u[0] == '\0' ? r != NULL && r[0] != '\0' : r == NULL || !xmlStrEqual(r, u)) {
				v[k].prefix = p;
				v[k++].uri = u;
			}
		}
	}
	qsort(v, k, sizeof(*v), cmp_ns);
	*out = v;
	*nout = k;
	return EID_OK;
}

static void c14n_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
		       const xmlChar **ns, int nb_attr, int nb_defaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	c14n_stream *c = ctxt->_private;
	nsdecl *render = NULL;
	attr_ref *sorted = NULL;
	size_t nrender = 0, i;
	int rc = EID_OK;

	(void)nb_defaulted;
	c->depth++;
	for (i = 0; i < (size_t)nb_ns && rc == EID_OK; i++)
		rc = ns_push(&c->scope, ns[2 * i], ns[2 * i + 1], c->depth);
	note_ids(&c->d, nb_attr, attrs);
	if (c->sig_depth == 0 && xmlStrEqual(local, BAD_CAST "Signature") && xmlStrEqual(uri, BAD_CAST EID_NS_DS)) {
		c->sig_depth = c->depth;
		if (c->nsig++ == c->skip)
			c->skip_depth = c->depth;
	}
	if (c->depth == 1 && c->info != NULL) {
		if (prefix != NULL && prefix[0] != '\0')
			snprintf(c->info->root_qname, sizeof(c->info->root_qname), "%s:%s", prefix, local);
		else
			snprintf(c->info->root_qname, sizeof(c->info->root_qname), "%s", local);
	}
	if (rc < 0 || c->skip_depth != 0) {
		if (rc < 0)
			stop(&c->d, rc);
		return;
	}
	if ((rc = element_ns(c, prefix, nb_ns, ns, nb_attr, attrs, &render, &nrender)) == EID_OK && nb_attr > 0 &&
	    (sorted = calloc((size_t)nb_attr, sizeof(*sorted))) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc < 0) {
		free(render);
		stop(&c->d, rc);
		return;
	}
	put(c, "<", 1);
	put_qname(c, prefix, local);
	for (i = 0; i < nrender && rc == EID_OK; i++) {
		if (render[i].prefix[0] == '\0')
			put(c, " xmlns=\"", 8);
		else {
			put(c, " xmlns:", 7);
			puts_(c, render[i].prefix);
			put(c, "=\"", 2);
		}
		put_escaped(c, render[i].uri, strlen((const char *)render[i].uri), 1);
		put(c, "\"", 1);
		if (c->mode == EID_C14N_EXC)
			rc = ns_push(&c->rendered, render[i].prefix, render[i].uri, c->depth);
	}
	for (i = 0; i < (size_t)nb_attr; i++)
		sorted[i].a = attrs + 5 * i;
	if (nb_attr > 1)
		qsort(sorted, (size_t)nb_attr, sizeof(*sorted), cmp_attr);
	for (i = 0; i < (size_t)nb_attr; i++) {
		const xmlChar **a = sorted[i].a;

		put(c, " ", 1);
		put_qname(c, a[1], a[0]);
		put(c, "=\"", 2);
		put_escaped(c, a[3], (size_t)(a[4] - a[3]), 1);
		put(c, "\"", 1);
	}
	put(c, ">", 1);
	free(render);
	free(sorted);
	if (rc < 0)
		stop(&c->d, rc);
}

static void c14n_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	c14n_stream *c = ctxt->_private;

	(void)uri;
	if (c->skip_depth == 0) {
		put(c, "</", 2);
		put_qname(c, prefix, local);
		put(c, ">", 1);
	}
	ns_pop(&c->scope, c->depth);
	ns_pop(&c->rendered, c->depth);
	if (c->skip_depth == c->depth)
		c->skip_depth = 0;
	if (c->sig_depth == c->depth)
		c->sig_depth = 0;
	if (--c->depth == 0) {
		c->root_done = 1;
		if (c->info != NULL)
			c->info->root_end = (uint64_t)xmlByteConsumed(ctxt);
	}
}

static void c14n_text(void *ctx, const xmlChar *p, int len)
{
	xmlParserCtxtPtr ctxt = ctx;
	c14n_stream *c = ctxt->_private;

	if (c->depth > 0 && c->skip_depth == 0)
		put_escaped(c, p, (size_t)len, 0);
}

static void c14n_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	xmlParserCtxtPtr ctxt = ctx;
	c14n_stream *c = ctxt->_private;

	if (c->skip_depth != 0)
		return;
	if (c->depth == 0 && c->root_done)
		put(c, "\n", 1);
	put(c, "<?", 2);
	puts_(c, target);
	if (data != NULL && data[0] != '\0') {
		put(c, " ", 1);
		puts_(c, data);
	}
	put(c, "?>", 2);
	if (c->depth == 0 && !c->root_done)
		put(c, "\n", 1);
}

int eid_xml__c14n_file(const char *path, long skip, eid_c14n mode, const char *const *inclusive_prefixes,
		       EVP_MD_CTX *md, eid_xml_file_info *info)
{
	xmlSAXHandler sax;
	c14n_stream c;
	int rc;

	eid_xml__init();
	sax_init(&sax);
	sax.startElementNs = c14n_start;
	sax.endElementNs = c14n_end;
	sax.characters = c14n_text;
	sax.ignorableWhitespace = c14n_text;
	sax.cdataBlock = c14n_text;
	sax.processingInstruction = c14n_pi;
	memset(&c, 0, sizeof(c));
	c.mode = mode;
	c.inclusive = mode == EID_C14N_EXC ? inclusive_prefixes : NULL;
	c.md = md;
	c.skip = skip;
	c.info = info;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((c.out = malloc(OUT_CHUNK)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rc = drive(&c.d, path, &sax, &c, info ? info->sha256 : NULL, info ? &info->size : NULL);
	if (rc == EID_OK) {
		flush(&c);
		rc = c.d.rc;
	}
	if (rc == EID_OK && c.d.dup_id != NULL)
		rc = eid_error__set(EID_EFORMAT, "the Id '%.80s' occurs more than once in the document", c.d.dup_id);
	if (rc == EID_OK && info != NULL) {
		xmlParserInputPtr in = c.d.ctxt->input;

		/* bytes can be spliced into the original only when they need no conversion */
		info->utf8 = in != NULL && in->buf != NULL && in->buf->encoder == NULL;
		info->signatures = c.nsig;
	}
	driver_clear(&c.d);
	free(c.scope.v);
	free(c.rendered.v);
	free(c.out);
	return rc;
}

/* ---- the signatures of a document, and the elements around them ---- */

typedef struct level {
	const xmlChar *local, *prefix, *uri; /* the parser's dictionary owns them */
	size_t ns_from, ns_n;                /* its namespace declarations in skel.ns */
	size_t xa_from, xa_n;                /* its xml:* attributes in skel.xattr */
	xmlNodePtr node;                     /* built, or NULL */
} level;

typedef struct skel {
	driver d; /* first */
	level *lv;
	size_t nlv;
	const xmlChar **ns;  /* prefix, URI pairs */
	size_t nns, cns;
	xmlChar **xattr;     /* local name, value pairs (copies) */
	size_t nxa, cxa;
	int depth;
	int cap_depth;       /* inside an outermost signature (its depth), or 0 */
} skel;

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t cap2 = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return EID_OK;
	while (cap2 < need)
		cap2 *= 2;
	if ((p = realloc(*v, cap2 * size)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	*v = p;
	*cap = cap2;
	return EID_OK;
}

/* Build the element of level @k (and, first, those above it). */
static xmlNodePtr build(skel *s, size_t k)
{
	xmlParserCtxtPtr ctxt = s->d.ctxt;
	level *l = &s->lv[k];
	xmlNodePtr parent = k > 0 ? build(s, k - 1) : NULL, n;
	xmlNsPtr xmlns;
	size_t i;

	if (l->node != NULL || (k > 0 && parent == NULL))
		return l->node;
	if ((n = xmlNewDocNode(ctxt->myDoc, NULL, l->local, NULL)) == NULL)
		return NULL;
	if (parent != NULL)
		xmlAddChild(parent, n);
	else
		xmlAddChild((xmlNodePtr)ctxt->myDoc, n);
	for (i = 0; i < l->ns_n; i++)
		if (xmlNewNs(n, s->ns[2 * (l->ns_from + i) + 1], s->ns[2 * (l->ns_from + i)]) == NULL)
			return NULL;
	if (l->uri != NULL)
		xmlSetNs(n, xmlSearchNs(ctxt->myDoc, n, l->prefix));
	xmlns = l->xa_n > 0 ? xmlSearchNs(ctxt->myDoc, n, BAD_CAST "xml") : NULL;
	for (i = 0; i < l->xa_n; i++)
		if (xmlns == NULL ||
		    xmlNewNsProp(n, xmlns, s->xattr[2 * (l->xa_from + i)], s->xattr[2 * (l->xa_from + i) + 1]) == NULL)
			return NULL;
	return l->node = n;
}

static void skel_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
		       const xmlChar **ns, int nb_attr, int nb_defaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	skel *s = ctxt->_private;
	level *l;
	size_t i, nxml = 0;
	int rc;

	note_ids(&s->d, nb_attr, attrs);
	s->depth++;
	if (s->cap_depth != 0) {
		xmlSAX2StartElementNs(ctx, local, prefix, uri, nb_ns, ns, nb_attr, nb_defaulted, attrs);
		return;
	}
	/* outside the signatures: remember the element, build nothing yet */
	for (i = 0; i < (size_t)nb_attr; i++)
		nxml += xmlStrEqual(attrs[5 * i + 2], BAD_CAST NS_XML);
	if ((rc = grow((void **)&s->lv, &s->nlv, (size_t)s->depth, sizeof(*s->lv))) < 0 ||
	    (rc = grow((void **)&s->ns, &s->cns, 2 * (s->nns + (size_t)nb_ns), sizeof(*s->ns))) < 0 ||
	    (rc = grow((void **)&s->xattr, &s->cxa, 2 * (s->nxa + nxml), sizeof(*s->xattr))) < 0) {
		stop(&s->d, rc);
		return;
	}
	l = &s->lv[s->depth - 1];
	l->local = local;
	l->prefix = prefix;
	l->uri = uri;
	l->node = NULL;
	l->ns_from = s->nns;
	l->ns_n = (size_t)nb_ns;
	if (nb_ns > 0)
		memcpy(s->ns + 2 * s->nns, ns, 2 * (size_t)nb_ns * sizeof(*ns));
	s->nns += (size_t)nb_ns;
	l->xa_from = s->nxa;
	l->xa_n = 0;
	for (i = 0; i < (size_t)nb_attr; i++) {
		const xmlChar **a = attrs + 5 * i;

		if (!xmlStrEqual(a[2], BAD_CAST NS_XML))
			continue;
		s->xattr[2 * s->nxa] = xmlStrdup(a[0]);
		s->xattr[2 * s->nxa + 1] = xmlStrndup(a[3], (int)(a[4] - a[3]));
		l->xa_n++;
		if (s->xattr[2 * s->nxa++] == NULL || s->xattr[2 * s->nxa - 1] == NULL) {
			stop(&s->d, eid_error__set(EID_ENOMEM, NULL));
			return;
		}
	}
	if (xmlStrEqual(local, BAD_CAST "Signature") && xmlStrEqual(uri, BAD_CAST EID_NS_DS)) {
		/* an outermost signature: build the elements around it, then the signature itself */
		xmlNodePtr parent = s->depth > 1 ? build(s, (size_t)s->depth - 2) : NULL;

		if (s->depth > 1 && parent == NULL) {
			stop(&s->d, eid_error__set(EID_ENOMEM, NULL));
			return;
		}
		ctxt->node = parent;
		s->cap_depth = s->depth;
		xmlSAX2StartElementNs(ctx, local, prefix, uri, nb_ns, ns, nb_attr, nb_defaulted, attrs);
		l->node = ctxt->node;
	}
}

static void skel_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	skel *s = ctxt->_private;

	if (s->cap_depth != 0)
		xmlSAX2EndElementNs(ctx, local, prefix, uri);
	if (s->cap_depth == s->depth)
		s->cap_depth = 0;
	if (s->cap_depth == 0) {
		/* forget what this element declared */
		level *l = &s->lv[s->depth - 1];
		size_t i;

		s->nns = l->ns_from;
		for (i = l->xa_from; i < s->nxa; i++) {
			xmlFree(s->xattr[2 * i]);
			xmlFree(s->xattr[2 * i + 1]);
		}
		s->nxa = l->xa_from;
		l->node = NULL;
	}
	s->depth--;
}

#define SKEL_FORWARD(name, call, ...)                                                                             \
	static void name(void *ctx, __VA_ARGS__)                                                                   \
	{                                                                                                          \
		skel *s = ((xmlParserCtxtPtr)ctx)->_private;                                                      \
		if (s->cap_depth != 0)                                                                             \
			call;                                                                                      \
	}
SKEL_FORWARD(skel_text, xmlSAX2Characters(ctx, p, len), const xmlChar *p, int len)
SKEL_FORWARD(skel_cdata, xmlSAX2CDataBlock(ctx, p, len), const xmlChar *p, int len)
SKEL_FORWARD(skel_comment, xmlSAX2Comment(ctx, p), const xmlChar *p)
SKEL_FORWARD(skel_pi, xmlSAX2ProcessingInstruction(ctx, target, data), const xmlChar *target, const xmlChar *data)

int eid_xml__parse_signatures(xmlDocPtr *out, const char *path, char **dup_id)
{
	xmlSAXHandler sax;
	skel s;
	size_t i;
	int rc;

	*out = NULL;
	if (dup_id != NULL)
		*dup_id = NULL;
	eid_xml__init();
	sax_init(&sax);
	sax.startDocument = xmlSAX2StartDocument;
	sax.endDocument = xmlSAX2EndDocument;
	sax.startElementNs = skel_start;
	sax.endElementNs = skel_end;
	sax.characters = skel_text;
	sax.ignorableWhitespace = skel_text;
	sax.cdataBlock = skel_cdata;
	sax.comment = skel_comment;
	sax.processingInstruction = skel_pi;
	memset(&s, 0, sizeof(s));
	rc = drive(&s.d, path, &sax, &s, NULL, NULL);
	if (rc == EID_OK && (s.d.ctxt->myDoc == NULL))
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK) {
		*out = s.d.ctxt->myDoc;
		s.d.ctxt->myDoc = NULL;
		if (dup_id != NULL) {
			*dup_id = s.d.dup_id;
			s.d.dup_id = NULL;
		}
	}
	for (i = 0; i < s.nxa; i++) {
		xmlFree(s.xattr[2 * i]);
		xmlFree(s.xattr[2 * i + 1]);
	}
	free(s.xattr);
	free(s.ns);
	free(s.lv);
	driver_clear(&s.d);
	return rc;
}
