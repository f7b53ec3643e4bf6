/*
 * PAdES validation: every signature field of the document is checked for a
 * well-formed /ByteRange whose gap is exactly the signature's own /Contents
 * (the Universal Signature Forgery defence), then its CMS is validated over
 * the byte ranges like a CAdES signature, and what the file holds beyond the
 * signed revision is reported.
 *
 * Long-term data: the catalog's /DSS (read bounded) goes to every signature's
 * validation as the data it carries, and the document timestamps
 * (/SubFilter /ETSI.RFC3161) are checked first, over their own byte ranges:
 * the earliest that holds and covers a signature's revision is its archive
 * timestamp.  Document timestamps are not reported as signatures; one that
 * does not hold is a warning on each signature it would cover.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "../pdf/pdf.h"
#include "verify.h"

#define MAX_DOC_TIMESTAMPS 256

/* A document timestamp, checked. */
typedef struct doc_ts {
	uint64_t end;              /* where the revision it covers ends */
	char field[104];
	eid_tst_result res;
} doc_ts;


typedef struct walk {
	pdf_doc *doc;
	eid_report *r;
	const eid_verify_opts *o;
	int rc;
	uint32_t cert_num;         /* the certification's signature dictionary (catalog /Perms /DocMDP), or 0 */
	int cert_p;                /* its permission */
	size_t cert_first, cert_last; /* its report entries; cert_first SIZE_MAX: none */
	uint64_t cert_end;         /* where its signed revision ends */
	uint64_t approval_min_end; /* the earliest end of an approval signature's revision */
	uint64_t last_end;         /* where the signature just checked ends its revision (UINT64_MAX: unknown) */
	struct sig_group {         /* the report entries of each signature field, for ordering */
		uint64_t end;
		size_t first, n;
	} *groups;
	size_t ngroups;
	eid_vdata dss;             /* the catalog's /DSS */
	int have_dss;
	uint64_t dss_end;          /* the end of the revision that last wrote the DSS (or the catalog holding it) */
	doc_ts *dts;               /* the document timestamps */
	size_t ndts;
} walk;

/* D:YYYYMMDDHHmmSSOHH'mm' -> seconds since 1970, or -1. */
static int64_t pdf_date_parse(const pdf_obj *s)
{
	char buf[32];
	struct tm tm;
	size_t n;
	int off = 0, sign = 0;
	int64_t t;

	if (s == NULL || s->type != PDF_STRING || s->u.str.len < 6 || s->u.str.len >= sizeof(buf))
		return -1;
	memcpy(buf, s->u.str.p, s->u.str.len);
	buf[s->u.str.len] = '\0';
	n = strncmp(buf, "D:", 2) == 0 ? 2 : 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = 1;
	if (sscanf(buf + n, "%4d", &tm.tm_year) != 1)
		return -1;
	tm.tm_year -= 1900;
	n += 4;
	if (strlen(buf) >= n + 2) { tm.tm_mon = (buf[n] - '0') * 10 + buf[n + 1] - '0' - 1; n += 2; }
	if (strlen(buf) >= n + 2) { tm.tm_mday = (buf[n] - '0') * 10 + buf[n + 1] - '0'; n += 2; }
	if (strlen(buf) >= n + 2) { tm.tm_hour = (buf[n] - '0') * 10 + buf[n + 1] - '0'; n += 2; }
	if (strlen(buf) >= n + 2) { tm.tm_min = (buf[n] - '0') * 10 + buf[n + 1] - '0'; n += 2; }
	if (strlen(buf) >= n + 2) { tm.tm_sec = (buf[n] - '0') * 10 + buf[n + 1] - '0'; n += 2; }
	if (buf[n] == '+' || buf[n] == '-') {
		int hh = 0, mm = 0;

		sign = buf[n] == '+' ? 1 : -1;
		sscanf(buf + n + 1, "%2d'%2d", &hh, &mm);
		off = hh * 3600 + mm * 60;
	}
	t = (int64_t)timegm(&tm);
	return t - sign * off;
}

/* Is the gap [a, b) of the file exactly "<" hex(contents) ">" (hex case-insensitive, zero-padded)? */
static int gap_is_contents(pdf_doc *doc, uint64_t a, uint64_t b, const pdf_obj *contents)
{
	unsigned char chunk[4096];
	uint64_t at = a + 1, digits = b - a - 2, i = 0;
	size_t k, n;

	if (b - a < 2 || digits % 2 != 0 || digits / 2 < contents->u.str.len)
		return 0;
	if (pdf_doc_read(doc, a, chunk, 1) < 0 || chunk[0] != '<' || pdf_doc_read(doc, b - 1, chunk, 1) < 0 ||
	    chunk[0] != '>')
		return 0;
	while (i < digits) {
		n = digits - i > sizeof(chunk) ? sizeof(chunk) : (size_t)(digits - i);
		if (pdf_doc_read(doc, at + i, chunk, n) < 0)
			return 0;
		for (k = 0; k < n; k += 2) {
			int hi = chunk[k], lo = chunk[k + 1], v;
			uint64_t byte = (i + k) / 2;

			hi = eid_hex__digit(hi);
			lo = eid_hex__digit(lo);
			if (hi < 0 || lo < 0)
				return 0;
			v = hi << 4 | lo;
			if (byte < contents->u.str.len ? v != contents->u.str.p[byte] : v != 0)
				return 0;
		}
		i += n;
	}
	return 1;
}

static int int_of(const pdf_obj *o, uint64_t *out)
{
	if (o == NULL || o->type != PDF_INT || o->u.i < 0)
		return 0;
	*out = (uint64_t)o->u.i;
	return 1;
}

static void fail_new(walk *w, const char *fmt, ...) EID_PRINTF(2, 3);
static void fail_new(walk *w, const char *fmt, ...)
{
	eid_sig_report *s;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((w->rc = eid_report__add(w->r, &s)) < 0)
		return;
	eid_sig__set(&s->format, "PAdES");
	eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "%s", line);
}

/* ---- what changed after a signature ---- */

#define CHANGES_LISTED 8

typedef struct changes {
	eid_strlist violations;   /* changes that alter what was signed */
	eid_strlist notes;        /* changes a later signer or form filler may make */
	size_t extra;             /* violations not listed */
	int p;                    /* the certification's DocMDP permission in force, 1..3; 0: none */
	uint32_t *ap;             /* the form fields' appearance streams, as signed */
	size_t nap;
} changes;

#define AP_MAX 65536

static void ap_add(changes *c, pdf_obj *ref)
{
	uint32_t *grown;

	if (ref == NULL || ref->type != PDF_REF || c->nap >= AP_MAX)
		return;
	if ((c->nap & (c->nap - 1)) == 0) { /* grow at powers of two */
		grown = realloc(c->ap, (c->nap ? 2 * c->nap : 8) * sizeof(*grown));
		if (grown == NULL)
			return;
		c->ap = grown;
	}
	c->ap[c->nap++] = ref->u.ref.num;
}

/* Collect a field's (or widget's) /AP /N, /R, /D streams, direct or by state. */
static int collect_ap(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	static const char *const kinds[] = { "N", "R", "D" };
	pdf_obj *ap = pdf_doc_resolve(doc, pdf_dict_get(f, "AP"));
	size_t k, i;

	(void)item;
	(void)ft;
	eid_error_clear();
	for (k = 0; ap != NULL && ap->type == PDF_DICT && k < 3; k++) {
		pdf_obj *v = pdf_dict_get(ap, kinds[k]), *states;

		if (v == NULL)
			continue;
		if (v->type == PDF_REF && (states = pdf_doc_resolve(doc, v)) != NULL && states->type == PDF_DICT)
			v = states; /* an indirect dictionary of states */
		eid_error_clear();
		if (v->type == PDF_DICT)
			for (i = 0; i < v->u.dict.n; i++)
				ap_add(ctx, v->u.dict.vals[i]);
		else
			ap_add(ctx, v);
	}
	return 0;
}

static int is_field_ap(const changes *c, uint32_t num)
{
	size_t i;

	for (i = 0; i < c->nap; i++)
		if (c->ap[i] == num)
			return 1;
	return 0;
}

static int obj_bytes(const pdf_obj *o, eid_buf *out)
{
	out->len = 0;
	return pdf_obj_write(o, out);
}

/* Do two objects (no streams) serialise the same? */
static int same_obj(const pdf_obj *a, const pdf_obj *b)
{
	eid_buf x = EID_BUF_INIT, y = EID_BUF_INIT;
	int same;

	if (a == NULL || b == NULL)
		return a == b;
	same = obj_bytes(a, &x) == EID_OK && obj_bytes(b, &y) == EID_OK && x.len == y.len &&
	       memcmp(x.data, y.data, x.len) == 0;
	eid_buf_clear(&x);
	eid_buf_clear(&y);
	return same;
}

static int same_stream(pdf_doc *da, const pdf_obj *a, pdf_doc *db, const pdf_obj *b)
{
	unsigned char ca[4096], cb[4096];
	uint64_t at = 0, len = a->u.stream.length;

	if (!same_obj(a->u.stream.dict, b->u.stream.dict) || len != b->u.stream.length)
		return 0;
	while (at < len) {
		size_t n = len - at > sizeof(ca) ? sizeof(ca) : (size_t)(len - at);

		if (pdf_doc_read(da, a->u.stream.offset + at, ca, n) < 0 ||
		    pdf_doc_read(db, b->u.stream.offset + at, cb, n) < 0 || memcmp(ca, cb, n) != 0)
			return 0;
		at += n;
	}
	return 1;
}

static void note(changes *c, int violation, const char *fmt, ...) EID_PRINTF(3, 4);
static void note(changes *c, int violation, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	eid_strlist *l = violation ? &c->violations : &c->notes;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i], line) == 0)
			return; /* seen from another place (an annotation is in /Annots and /Fields) */
	if (violation && c->violations.n >= CHANGES_LISTED)
		c->extra++;
	else if (!violation && c->notes.n >= CHANGES_LISTED)
		return;
	else
		eid_strlist__add(violation ? &c->violations : &c->notes, line);
}

/* Keys of two dictionaries whose values differ, as "/A /B". */
static void dict_diff(const pdf_obj *a, const pdf_obj *b, const char *const *allowed, char *out, size_t size,
		      int *only_allowed)
{
	const pdf_obj *d[2] = { a, b };
	size_t i, k, used = 0;

	out[0] = '\0';
	*only_allowed = 1;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < d[k]->u.dict.n; i++) {
			const char *key = d[k]->u.dict.keys[i];
			const char *const *al;
			int ok = 0;

			if (k == 1 && pdf_dict_get(a, key) != NULL)
				continue; /* seen in the first pass */
			if (same_obj(pdf_dict_get(a, key), pdf_dict_get(b, key)))
				continue;
			for (al = allowed; al != NULL && *al != NULL; al++)
				if (strcmp(*al, key) == 0)
					ok = 1;
			if (!ok)
				*only_allowed = 0;
			if (used + strlen(key) + 3 < size)
				used += (size_t)snprintf(out + used, size - used, "%s/%s", used ? " " : "", key);
		}
	}
}

static int is_sig_widget(pdf_doc *doc, pdf_obj *ref)
{
	pdf_obj *o = pdf_doc_resolve(doc, ref), *ft;

	if (o == NULL || o->type != PDF_DICT)
		return 0;
	ft = pdf_doc_resolve(doc, pdf_dict_get(o, "FT"));
	if (pdf_name_is(ft, "Sig"))
		return 1;
	/* a widget whose parent field is a signature field */
	o = pdf_doc_resolve(doc, pdf_dict_get(o, "Parent"));
	return o != NULL && o->type == PDF_DICT && pdf_name_is(pdf_doc_resolve(doc, pdf_dict_get(o, "FT")), "Sig");
}

/* Is annotation @a shown: a box of some size, not hidden? */
static int annot_shown(pdf_doc *doc, const pdf_obj *a)
{
	pdf_obj *rect = pdf_doc_resolve(doc, pdf_dict_get(a, "Rect")), *f = pdf_doc_resolve(doc, pdf_dict_get(a, "F"));
	double v[4];
	size_t i;

	eid_error_clear();
	if (f != NULL && f->type == PDF_INT && (f->u.i & (2 | 32)) != 0)
		return 0; /* Hidden or NoView */
	if (rect == NULL || rect->type != PDF_ARRAY || rect->u.arr.n != 4)
		return 0;
	for (i = 0; i < 4; i++) {
		pdf_obj *x = pdf_doc_resolve(doc, rect->u.arr.items[i]);

		if (x == NULL || (x->type != PDF_INT && x->type != PDF_REAL))
			return 0;
		v[i] = x->type == PDF_INT ? (double)x->u.i : x->u.r;
	}
	return (v[2] - v[0] > 0.5 || v[0] - v[2] > 0.5) && (v[3] - v[1] > 0.5 || v[1] - v[3] > 0.5);
}

/* A signature widget whose value is a document timestamp (validation data, always allowed). */
static int is_doc_timestamp(pdf_doc *doc, const pdf_obj *widget)
{
	pdf_obj *v = pdf_doc_resolve(doc, pdf_dict_get(widget, "V"));

	if (v == NULL || v->type != PDF_DICT) {
		eid_error_clear();
		v = pdf_doc_resolve(doc, pdf_dict_get(widget, "Parent"));
		v = v != NULL && v->type == PDF_DICT ? pdf_doc_resolve(doc, pdf_dict_get(v, "V")) : NULL;
	}
	eid_error_clear();
	return v != NULL && v->type == PDF_DICT && pdf_name_is(pdf_doc_resolve(doc, pdf_dict_get(v, "SubFilter")), "ETSI.RFC3161");
}

/*
 * An annotation a later revision added, judged against the certification:
 * P=1 permits nothing, P=2 signing (a new visible signature field can draw
 * over the certified content: the Sneaky Signature attack), P=3 annotations
 * too (which can draw over it as well: the Evil Annotation attack, reported).
 */
static void judge_new_annot(pdf_doc *doc, pdf_obj *item, changes *c)
{
	pdf_obj *a = pdf_doc_resolve(doc, item), *sub;
	char what[96];
	int shown;

	if (a == NULL || a->type != PDF_DICT) {
		eid_error_clear();
		return;
	}
	sub = pdf_doc_resolve(doc, pdf_dict_get(a, "Subtype"));
	if (sub == NULL || sub->type != PDF_NAME) {
		eid_error_clear();
		return; /* not an annotation: a field without a widget */
	}
	shown = annot_shown(doc, a);
	if (item->type == PDF_REF)
		snprintf(what, sizeof(what), "(object %u)", item->u.ref.num);
	else
		snprintf(what, sizeof(what), "(inline)");
	if (is_sig_widget(doc, item)) {
		if (is_doc_timestamp(doc, a))
			return;
		if (c->p == 1)
			note(c, 1, "a signature field %s was added: the certification permits no change", what);
		else if (c->p == 2 && shown)
			note(c, 1, "a visible signature field %s was added: the certification permits signing, but a new "
				   "visible field can draw over the certified content (Sneaky Signature)", what);
		else if (c->p == 3 && shown)
			note(c, 0, "a visible signature field %s was added over the certified page", what);
		return;
	}
	if (c->p == 1 || c->p == 2)
		note(c, 1, "a %.32s annotation %s was added: the certification (P=%d) does not permit annotations",
		     sub->u.name, what, c->p);
	else if (c->p == 3)
		note(c, 0, "a %.32s annotation %s was added%s", sub->u.name, what,
		     shown ? ": permitted by the certification, but it draws over the certified content" : "");
	else
		note(c, 0, "a %.32s annotation %s was added%s", sub->u.name, what, shown ? " over the page" : "");
}

/* Entries of array @o missing from @n: an annotation removed, a field dropped. */
static void judge_array(pdf_doc *doc, const pdf_obj *n, const pdf_obj *o, uint32_t num, changes *c)
{
	size_t i, j;

	for (j = 0; o != NULL && o->type == PDF_ARRAY && j < o->u.arr.n; j++) {
		int kept = 0;

		for (i = 0; i < n->u.arr.n && !kept; i++)
			kept = same_obj(n->u.arr.items[i], o->u.arr.items[j]);
		if (!kept) {
			note(c, c->p != 3, "array object %u (a page's annotations or the form's fields) lost entries", num);
			break;
		}
	}
	for (i = 0; i < n->u.arr.n; i++) {
		int known = 0;

		for (j = 0; o != NULL && o->type == PDF_ARRAY && j < o->u.arr.n && !known; j++)
			known = same_obj(n->u.arr.items[i], o->u.arr.items[j]);
		if (!known)
			judge_new_annot(doc, n->u.arr.items[i], c);
	}
}

/* A page's /Annots, wherever the array lives. */
static void page_annots(pdf_doc *doc, pdf_doc *old, const pdf_obj *np, const pdf_obj *op, uint32_t num, changes *c)
{
	pdf_obj *na = pdf_doc_resolve(doc, pdf_dict_get(np, "Annots"));
	pdf_obj *oa = pdf_doc_resolve(old, pdf_dict_get(op, "Annots"));

	eid_error_clear();
	if (na == NULL || na->type != PDF_ARRAY) {
		if (oa != NULL && oa->type == PDF_ARRAY && oa->u.arr.n > 0)
			note(c, c->p != 3, "page object %u lost its annotations", num);
		return;
	}
	judge_array(doc, na, oa, num, c);
}

/* A value a field held when it was signed: not absent, null or empty. */
static int has_value(pdf_doc *doc, pdf_obj *v)
{
	v = pdf_doc_resolve(doc, v);
	eid_error_clear();
	return v != NULL && v->type != PDF_NULL && !(v->type == PDF_STRING && v->u.str.len == 0);
}

/*
 * A form field saved again.  Filling in an empty field is what forms are
 * for; changing a value the signer saw changes what was signed (the Shadow
 * "replace" attack), unless a certification permits form filling.
 */
static void judge_field(pdf_doc *doc, pdf_doc *old, pdf_obj *n, pdf_obj *o, uint32_t num, changes *c)
{
	static const char *const field_ok[] = { "V", "AS", "AP", "MK", NULL };
	static const char *const forbids = ": the certification permits no change";
	int sig = pdf_name_is(pdf_doc_resolve(doc, pdf_dict_get(n, "FT")), "Sig"), only_allowed;
	char keys[256];

	eid_error_clear();
	dict_diff(o, n, field_ok, keys, sizeof(keys), &only_allowed);
	if (!only_allowed)
		note(c, 1, "form field %u was changed (%s)", num, keys);
	else if (has_value(old, pdf_dict_get(o, "V")) && sig)
		note(c, 1, "signature field %u now holds another signature", num);
	else if (has_value(old, pdf_dict_get(o, "V")) && !same_obj(pdf_dict_get(o, "V"), pdf_dict_get(n, "V")))
		note(c, c->p < 2, "the value of form field %u, as signed, was changed%s", num,
		     c->p == 1 ? forbids : c->p == 0 ? " (it shows something else than what was signed)" : "");
	else if (sig && is_doc_timestamp(doc, n))
		return;
	else if (sig)
		note(c, c->p == 1, "an empty signature field (%u) was signed%s", num, c->p == 1 ? forbids : "");
	else if (same_obj(pdf_dict_get(o, "V"), pdf_dict_get(n, "V")))
		note(c, c->p < 2, "the appearance of form field %u was changed (%s)%s", num, keys,
		     c->p == 1 ? forbids : c->p == 0 ? " (it shows something else than what was signed)" : "");
	else
		note(c, c->p == 1, "form field %u was filled in (%s)%s", num, keys, c->p == 1 ? forbids : "");
}

/* Compare one object that a later revision redefines with its signed version. */
static void judge_object(pdf_doc *doc, pdf_doc *old, uint32_t num, uint32_t root, changes *c)
{
	static const char *const catalog_ok[] = { "AcroForm", "DSS", NULL };
	static const char *const form_ok[] = { "Fields", "SigFlags", "DR", "DA", "NeedAppearances", NULL };
	static const char *const page_ok[] = { "Annots", NULL };
	pdf_obj *n = NULL, *o = NULL, *type;
	char keys[256];
	int only_allowed, rc;

	if (pdf_doc_get(doc, num, &n) < 0) {
		note(c, 1, "object %u, redefined after signing, cannot be read: %s", num, eid_error_last()->message);
		eid_error_clear();
		return;
	}
	rc = pdf_doc_get(old, num, &o);
	eid_error_clear();
	if (rc < 0)
		return; /* a new object: harmless unless a changed object uses it, which is judged there */
	if (n->type == PDF_STREAM || o->type == PDF_STREAM) {
		pdf_obj *d = n->type == PDF_STREAM ? n->u.stream.dict : n;

		if (pdf_name_is(pdf_dict_get(d, "Type"), "XRef") || pdf_name_is(pdf_dict_get(d, "Type"), "ObjStm"))
			return;
		if (n->type == o->type && same_stream(doc, n, old, o))
			return;
		if (is_field_ap(c, num))
			note(c, c->p < 2, "the appearance of a form field (stream %u) was redrawn%s", num,
			     c->p == 1 ? ": the certification permits no change"
				       : c->p == 0 ? " (it shows something else than what was signed)" : "");
		else
			note(c, 1, "stream object %u (page content, font, image or the like) was replaced", num);
		return;
	}
	if (same_obj(n, o))
		return; /* saved again unchanged */
	if (n->type != PDF_DICT || o->type != PDF_DICT) {
		if (n->type == PDF_ARRAY && o->type == PDF_ARRAY) {
			/* /Fields or /Annots arrays grow when a signature is added */
			judge_array(doc, n, o, num, c);
			return;
		}
		note(c, 1, "object %u was replaced", num);
		return;
	}
	type = pdf_doc_resolve(doc, pdf_dict_get(n, "Type"));
	if (num == root) {
		dict_diff(o, n, catalog_ok, keys, sizeof(keys), &only_allowed);
		if (!only_allowed)
			note(c, 1, "the catalog was changed (%s)", keys);
	} else if (pdf_name_is(type, "Page")) {
		dict_diff(o, n, page_ok, keys, sizeof(keys), &only_allowed);
		if (!only_allowed)
			note(c, 1, "page object %u was changed (%s)", num, keys);
		page_annots(doc, old, n, o, num, c);
	} else if (pdf_name_is(type, "Sig") || pdf_dict_get(o, "ByteRange") != NULL) {
		note(c, 1, "signature dictionary %u was changed", num);
	} else if (pdf_dict_get(o, "FT") != NULL || pdf_dict_get(o, "Parent") != NULL ||
		   pdf_name_is(pdf_dict_get(o, "Subtype"), "Widget")) {
		judge_field(doc, old, n, o, num, c);
	} else if (pdf_dict_get(o, "Subtype") != NULL && pdf_dict_get(o, "Rect") != NULL) {
		dict_diff(o, n, NULL, keys, sizeof(keys), &only_allowed);
		note(c, c->p != 3, "annotation %u was changed (%s)", num, keys);
	} else if (pdf_dict_get(o, "Fields") != NULL || pdf_dict_get(n, "SigFlags") != NULL) {
		dict_diff(o, n, form_ok, keys, sizeof(keys), &only_allowed);
		if (!only_allowed)
			note(c, 1, "the form dictionary %u was changed (%s)", num, keys);
	} else {
		dict_diff(o, n, NULL, keys, sizeof(keys), &only_allowed);
		note(c, 1, "object %u was changed (%s)", num, keys);
	}
}

/*
 * What the revisions after @signed_end change, judged against what signing,
 * form filling and validation data may change.  Disallowed changes make the
 * signature INDETERMINATE / SIG_CONSTRAINTS_FAILURE: its bytes are intact, but
 * the document shown is no longer the one signed.
 */
static void judge_changes(walk *w, uint64_t signed_end, size_t first)
{
	pdf_doc *doc = w->doc, *old = NULL;
	pdf_obj *rootref = pdf_dict_get(doc->trailer, "Root");
	changes c;
	uint32_t num;
	size_t i, k;

	memset(&c, 0, sizeof(c));
	if (pdf_doc_open_prefix(&old, doc->path, signed_end) < 0) {
		for (i = first; i < w->r->n; i++)
			eid_sig__fail(w->r->sigs[i], EID_INDETERMINATE, EID_SUB_SIG_CONSTRAINTS_FAILURE,
				      "the signed revision cannot be read back to compare: %s", eid_error_last()->message);
		eid_error_clear();
		return;
	}
	{
		uint32_t cert;
		pdf_obj *oldroot = pdf_dict_get(old->trailer, "Root");

		if (pdf_doc_docmdp(old, &cert, &c.p) < 0) {
			c.p = 1; /* a certification that cannot be read permits nothing */
			eid_error_clear();
		}
		if (!same_obj(oldroot, rootref))
			note(&c, 1, "the document's catalog (/Root) was replaced by another one");
		if (pdf_doc_fields(old, collect_ap, &c) < 0)
			eid_error_clear();
	}
	for (num = 1; num < doc->xref_size; num++) {
		const pdf_xref_entry *e = &doc->xref[num];

		if (e->revision >= doc->nrevs || doc->revs[e->revision].end <= signed_end)
			continue; /* as signed */
		if (e->type == PDF_ENTRY_FREE) {
			if (num < old->xref_size && old->xref[num].type != PDF_ENTRY_FREE)
				note(&c, 1, "object %u was deleted", num);
			continue;
		}
		judge_object(doc, old, num, rootref && rootref->type == PDF_REF ? rootref->u.ref.num : 0, &c);
	}
	for (i = first; i < w->r->n; i++) {
		eid_sig_report *s = w->r->sigs[i];

		for (k = 0; k < c.violations.n; k++)
			eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_SIG_CONSTRAINTS_FAILURE, "changed after signing: %s",
				      c.violations.items[k]);
		if (c.extra > 0)
			eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_SIG_CONSTRAINTS_FAILURE,
				      "changed after signing: %zu more changes", c.extra);
		for (k = 0; k < c.notes.n; k++)
			eid_sig__warn(s, "after signing: %s", c.notes.items[k]);
	}
	for (k = 0; k < c.violations.n; k++)
		free(c.violations.items[k]);
	for (k = 0; k < c.notes.n; k++)
		free(c.notes.items[k]);
	free(c.violations.items);
	free(c.notes.items);
	free(c.ap);
	pdf_doc_free(old);
}

/*
 * Is /ByteRange two ranges, from the start, whose gap is exactly the
 * dictionary's own /Contents?  The four numbers into @v, or a message.
 */
static const char *check_ranges(pdf_doc *doc, pdf_obj *sig, uint64_t v[4], pdf_obj **contents)
{
	pdf_obj *br = pdf_doc_resolve(doc, pdf_dict_get(sig, "ByteRange"));

	*contents = pdf_doc_resolve(doc, pdf_dict_get(sig, "Contents"));
	eid_error_clear();
	if (br == NULL || br->type != PDF_ARRAY || br->u.arr.n != 4 || !int_of(br->u.arr.items[0], &v[0]) ||
	    !int_of(br->u.arr.items[1], &v[1]) || !int_of(br->u.arr.items[2], &v[2]) ||
	    !int_of(br->u.arr.items[3], &v[3]) || v[0] != 0 || v[1] >= v[2] || v[2] + v[3] > doc->size ||
	    v[2] + v[3] < v[2])
		return "/ByteRange is missing or malformed";
	if (*contents == NULL || (*contents)->type != PDF_STRING || (*contents)->u.str.len == 0)
		return "/Contents is missing";
	if (!gap_is_contents(doc, v[1], v[2], *contents))
		return "the gap in /ByteRange is not the signature's own /Contents";
	return NULL;
}


/* Each document timestamp, checked once, before the signatures it covers. */
static int on_doc_ts(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	walk *w = ctx;
	pdf_obj *v, *t, *contents = NULL;
	uint64_t r[4], ranges[4];
	const char *bad;
	doc_ts *grown, *d;
	int rc;

	(void)item;
	if (ft == NULL || strcmp(ft, "Sig") != 0 || pdf_dict_get(f, "V") == NULL)
		return 0;
	v = pdf_doc_resolve(doc, pdf_dict_get(f, "V"));
	eid_error_clear();
	if (v == NULL || v->type != PDF_DICT || !pdf_name_is(pdf_doc_resolve(doc, pdf_dict_get(v, "SubFilter")), "ETSI.RFC3161"))
		return 0;
	if (w->ndts >= MAX_DOC_TIMESTAMPS) {
		EID_LOG_W("more than %d document timestamps: the rest is not checked", MAX_DOC_TIMESTAMPS);
		return 0;
	}
	if ((grown = realloc(w->dts, (w->ndts + 1) * sizeof(*grown))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	w->dts = grown;
	d = memset(&grown[w->ndts++], 0, sizeof(*d));
	d->res.gen_time = -1;
	t = pdf_doc_resolve(doc, pdf_dict_get(f, "T"));
	eid_error_clear();
	if (t != NULL && t->type == PDF_STRING)
		snprintf(d->field, sizeof(d->field), "%.*s", (int)(t->u.str.len < 100 ? t->u.str.len : 100), t->u.str.p);
	else
		snprintf(d->field, sizeof(d->field), "?");
	if ((bad = check_ranges(doc, v, r, &contents)) != NULL) {
		snprintf(d->res.why, sizeof(d->res.why), "%s", bad);
		return 0; /* end stays 0: what it would cover is not known, so it is a warning on every signature */
	}
	d->end = r[2] + r[3];
	ranges[0] = 0;
	ranges[1] = r[1];
	ranges[2] = r[2];
	ranges[3] = r[3];
	if ((rc = eid_verify__timestamp_ranges(contents->u.str.p, contents->u.str.len, doc->path, ranges, 2, w->o,
						&d->res)) < 0)
		return rc;
	EID_LOG_D("field '%s': a document timestamp up to byte %llu: %s%s", d->field, (unsigned long long)d->end,
		  d->res.ok ? "holds" : "does not hold: ", d->res.ok ? "" : d->res.why);
	return 0;
}

/* The end of the revision that last wrote the DSS: its own object's, or the catalog's when it is direct. */
static uint64_t dss_revision_end(pdf_doc *doc)
{
	pdf_obj *root = pdf_doc_root(doc), *ref = root ? pdf_dict_get(root, "DSS") : NULL;
	pdf_obj *rootref = pdf_dict_get(doc->trailer, "Root");
	uint32_t num = ref != NULL && ref->type == PDF_REF ? ref->u.ref.num
		     : rootref != NULL && rootref->type == PDF_REF ? rootref->u.ref.num : UINT32_MAX;

	eid_error_clear();
	if (num >= doc->xref_size || doc->xref[num].revision >= doc->nrevs)
		return UINT64_MAX; /* not known: no document timestamp counts as covering it */
	return doc->revs[doc->xref[num].revision].end;
}

/* The earliest document timestamp that holds and covers the revision ending at @end, or NULL. */
static const eid_tst_result *archive_for(const walk *w, uint64_t end)
{
	const eid_tst_result *best = NULL;
	size_t i;

	for (i = 0; i < w->ndts; i++)
		if (w->dts[i].res.ok && w->dts[i].end >= end && (best == NULL || w->dts[i].res.gen_time < best->gen_time))
			best = &w->dts[i].res;
	return best;
}

static void check_signature(walk *w, pdf_obj *sig, uint32_t sig_num, const char *field)
{
	pdf_doc *doc = w->doc;
	pdf_obj *contents = NULL;
	pdf_obj *sub = pdf_doc_resolve(doc, pdf_dict_get(sig, "SubFilter"));
	uint64_t v[4], ranges[4], signed_end;
	eid_cms_input in;
	size_t first = w->r->n, i, later = 0;
	const char *bad;
	int rc, certifies;

	if (pdf_name_is(sub, "ETSI.RFC3161"))
		return; /* a document timestamp: checked already, reported with the signatures it covers */
	if (!pdf_name_is(sub, "ETSI.CAdES.detached") && !pdf_name_is(sub, "adbe.pkcs7.detached")) {
		fail_new(w, "signature field '%s': unsupported /SubFilter", field);
		return;
	}
	if ((bad = check_ranges(doc, sig, v, &contents)) != NULL) {
		fail_new(w, "signature field '%s': %s", field, bad);
		return;
	}
	ranges[0] = 0;
	ranges[1] = v[1];
	ranges[2] = v[2];
	ranges[3] = v[3];
	memset(&in, 0, sizeof(in));
	in.path = doc->path;
	in.ranges = ranges;
	in.nranges = 2;
	in.zero_padding = 1;
	in.format = "PAdES";
	in.vd = w->have_dss ? &w->dss : NULL;
	/* a document timestamp over this revision proves the signature existed (B-T); one that also covers
	 * the DSS is an archive timestamp (B-LTA) */
	in.poe = archive_for(w, v[2] + v[3]);
	in.archive = archive_for(w, v[2] + v[3] > w->dss_end ? v[2] + v[3] : w->dss_end);
	rc = eid_verify__cms(w->r, contents->u.str.p, contents->u.str.len, &in, w->o);
	if (rc == EID_EFORMAT || rc == EID_ETOOBIG) {
		char why[512];

		snprintf(why, sizeof(why), "%s", eid_error_last()->message);
		fail_new(w, "signature field '%s': %s", field, why);
		return;
	}
	if (rc < 0) {
		w->rc = rc;
		return;
	}
	signed_end = v[2] + v[3];
	w->last_end = signed_end;
	for (i = 0; i < doc->nrevs; i++)
		if (doc->revs[i].end > signed_end)
			later++;
	certifies = sig_num != 0 && sig_num == w->cert_num;
	if (certifies) {
		w->cert_first = first;
		w->cert_last = w->r->n;
		w->cert_end = signed_end;
	} else if (signed_end < w->approval_min_end) {
		w->approval_min_end = signed_end;
	}
	for (i = first; i < w->r->n; i++) {
		eid_sig_report *s = w->r->sigs[i];

		eid_sig__set(&s->field, field);
		for (size_t k = 0; k < w->ndts; k++)
			if (!w->dts[k].res.ok && (w->dts[k].end == 0 || w->dts[k].end >= signed_end))
				eid_sig__warn(s, "the document timestamp in field '%s'%s%s does not hold: %s", w->dts[k].field,
					      w->dts[k].res.tsa[0] ? " by " : "", w->dts[k].res.tsa, w->dts[k].res.why);
		if (certifies)
			s->certification = w->cert_p;
		else if (pdf_sig_docmdp(doc, sig) != 0)
			eid_sig__warn(s, "the signature claims to certify the document, but the catalog names another "
					 "or none: it is an approval signature");
		eid_error_clear();
		if (s->claimed_time < 0)
			s->claimed_time = pdf_date_parse(pdf_doc_resolve(doc, pdf_dict_get(sig, "M")));
		if (pdf_name_is(sub, "adbe.pkcs7.detached")) {
			eid_sig__set(&s->level, NULL);
			eid_sig__warn(s, "legacy /SubFilter adbe.pkcs7.detached: not a PAdES baseline signature");
		}
		if (signed_end == doc->size)
			continue;
		eid_sig__warn(s, "the document was changed after this signature: %zu later revision(s), %llu bytes",
			      later, (unsigned long long)(doc->size - signed_end));
	}
	if (signed_end < doc->size && later > 0)
		judge_changes(w, signed_end, first);
}

static int on_field(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	walk *w = ctx;
	pdf_obj *vref = pdf_dict_get(f, "V"), *v, *t;
	char name[128] = "?";
	size_t first;

	(void)item;
	if (ft == NULL || strcmp(ft, "Sig") != 0 || vref == NULL)
		return 0;
	v = pdf_doc_resolve(doc, vref);
	eid_error_clear();
	if (v == NULL || v->type != PDF_DICT)
		return 0;
	t = pdf_doc_resolve(doc, pdf_dict_get(f, "T"));
	eid_error_clear();
	if (t != NULL && t->type == PDF_STRING)
		snprintf(name, sizeof(name), "%.*s", (int)(t->u.str.len < 100 ? t->u.str.len : 100), t->u.str.p);
	first = w->r->n;
	w->last_end = UINT64_MAX;
	check_signature(w, v, vref->type == PDF_REF ? vref->u.ref.num : 0, name);
	if (w->rc == EID_OK && w->r->n > first) {
		struct sig_group *grown = realloc(w->groups, (w->ngroups + 1) * sizeof(*grown));

		if (grown == NULL)
			return w->rc = eid_error__set(EID_ENOMEM, NULL);
		w->groups = grown;
		grown[w->ngroups].end = w->last_end;
		grown[w->ngroups].first = first;
		grown[w->ngroups++].n = w->r->n - first;
	}
	return w->rc < 0 ? w->rc : 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sig_group *x = a, *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Report the signatures in the order they were made (by the revision each signs). */
static int order_by_revision(walk *w)
{
	eid_sig_report **sorted;
	size_t g, k, at = 0;

	if (w->ngroups < 2)
		return EID_OK;
	if ((sorted = malloc(w->r->n * sizeof(*sorted))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	qsort(w->groups, w->ngroups, sizeof(*w->groups), cmp_group);
	for (g = 0; g < w->ngroups; g++)
		for (k = 0; k < w->groups[g].n; k++)
			sorted[at++] = w->r->sigs[w->groups[g].first + k];
	memcpy(w->r->sigs, sorted, at * sizeof(*sorted));
	free(sorted);
	return EID_OK;
}

/*
 * A certification must be the document's first signature (ISO 32000-2,
 * 12.8.2.2.1): one that came after an approval signature does not certify.
 */
static void check_certification_first(walk *w)
{
	size_t i;

	if (w->cert_first == SIZE_MAX || w->approval_min_end >= w->cert_end)
		return;
	for (i = w->cert_first; i < w->cert_last; i++)
		eid_sig__fail(w->r->sigs[i], EID_INDETERMINATE, EID_SUB_SIG_CONSTRAINTS_FAILURE,
			      "a certification signature must be the document's first signature; this one follows another");
}

int eid_verify__pades(eid_report *r, const char *path, const eid_verify_opts *o)
{
	pdf_doc *doc = NULL;
	walk w;
	int rc;

	if ((rc = pdf_doc_open(&doc, path)) < 0)
		return rc;
	if (doc->recovered)
		EID_LOG_W("'%s': the cross-reference table is damaged; objects were found by scanning", path);
	memset(&w, 0, sizeof(w));
	w.doc = doc;
	w.r = r;
	w.o = o;
	w.cert_first = SIZE_MAX;
	w.approval_min_end = UINT64_MAX;
	if (pdf_doc_docmdp(doc, &w.cert_num, &w.cert_p) < 0) {
		EID_LOG_W("'%s': the certification (/Perms /DocMDP) cannot be read: %s", path, eid_error_last()->message);
		eid_error_clear();
	}
	rc = pdf_dss_read(doc, &w.dss);
	w.have_dss = rc == EID_OK;
	w.dss_end = w.have_dss ? dss_revision_end(doc) : 0;
	if (rc == EID_ENOTFOUND)
		rc = EID_OK;
	if (rc == EID_OK)
		rc = pdf_doc_fields(doc, on_doc_ts, &w);
	if (rc == EID_OK)
		rc = pdf_doc_fields(doc, on_field, &w);
	if (rc == EID_OK)
		check_certification_first(&w);
	if (rc == EID_OK)
		rc = order_by_revision(&w);
	free(w.groups);
	free(w.dts);
	eid_vdata__clear(&w.dss);
	if (rc == EID_OK && r->n == 0)
		rc = eid_error__set(EID_ENOTFOUND, "'%s' holds no signature", path);
	if (rc == EID_OK && doc->recovered)
		for (size_t i = 0; i < r->n; i++)
			eid_sig__warn(r->sigs[i], "the PDF's cross-reference table is damaged and was rebuilt by scanning");
	pdf_doc_free(doc);
	return rc;
}
