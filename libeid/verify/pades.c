/*
 * PAdES validation: every signature field of the document is checked for a
 * well-formed /ByteRange whose gap is exactly the signature's own /Contents
 * (the Universal Signature Forgery defence), then its CMS is validated over
 * the byte ranges like a CAdES signature, and what the file holds beyond the
 * signed revision is reported.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../pdf/pdf.h"
#include "verify.h"

#define FIELDS_MAX_DEPTH 32
#define FIELDS_MAX 10000

typedef struct walk {
	pdf_doc *doc;
	eid_report *r;
	const eid_verify_opts *o;
	size_t visited;
	int rc;
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

static void check_signature(walk *w, pdf_obj *sig, const char *field)
{
	pdf_doc *doc = w->doc;
	pdf_obj *br = pdf_doc_resolve(doc, pdf_dict_get(sig, "ByteRange"));
	pdf_obj *contents = pdf_doc_resolve(doc, pdf_dict_get(sig, "Contents"));
	pdf_obj *sub = pdf_doc_resolve(doc, pdf_dict_get(sig, "SubFilter"));
	uint64_t v[4], ranges[4], signed_end;
	eid_cms_input in;
	size_t first = w->r->n, i, later = 0;
	int rc;

	if (pdf_name_is(sub, "ETSI.RFC3161")) {
		EID_LOG_I("field '%s': a document timestamp (not validated yet)", field);
		return;
	}
	if (!pdf_name_is(sub, "ETSI.CAdES.detached") && !pdf_name_is(sub, "adbe.pkcs7.detached")) {
		fail_new(w, "signature field '%s': unsupported /SubFilter", field);
		return;
	}
	if (br == NULL || br->type != PDF_ARRAY || br->u.arr.n != 4 || !int_of(br->u.arr.items[0], &v[0]) ||
	    !int_of(br->u.arr.items[1], &v[1]) || !int_of(br->u.arr.items[2], &v[2]) ||
	    !int_of(br->u.arr.items[3], &v[3]) || v[0] != 0 || v[1] >= v[2] || v[2] + v[3] > doc->size ||
	    v[2] + v[3] < v[2]) {
		fail_new(w, "signature field '%s': /ByteRange is missing or malformed", field);
		return;
	}
	if (contents == NULL || contents->type != PDF_STRING || contents->u.str.len == 0) {
		fail_new(w, "signature field '%s': /Contents is missing", field);
		return;
	}
	if (!gap_is_contents(doc, v[1], v[2], contents)) {
		fail_new(w, "signature field '%s': the gap in /ByteRange is not the signature's own /Contents", field);
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
	for (i = 0; i < doc->nrevs; i++)
		if (doc->revs[i].end > signed_end)
			later++;
	for (i = first; i < w->r->n; i++) {
		eid_sig_report *s = w->r->sigs[i];

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
}

static void walk_fields(walk *w, pdf_obj *fields, const char *inherited_ft, int depth)
{
	size_t i;

	fields = pdf_doc_resolve(w->doc, fields);
	if (fields == NULL || fields->type != PDF_ARRAY)
		return;
	if (depth > FIELDS_MAX_DEPTH) {
		w->rc = eid_error__set(EID_EFORMAT, "the form's field tree is deeper than %d", FIELDS_MAX_DEPTH);
		return;
	}
	for (i = 0; i < fields->u.arr.n && w->rc == EID_OK; i++) {
		pdf_obj *f = pdf_doc_resolve(w->doc, fields->u.arr.items[i]), *ft, *v, *t;
		const char *type = inherited_ft;
		char name[128] = "?";

		if (++w->visited > FIELDS_MAX) {
			w->rc = eid_error__set(EID_ETOOBIG, "more than %d form fields (or a loop in /Kids)", FIELDS_MAX);
			return;
		}
		if (f == NULL || f->type != PDF_DICT)
			continue;
		ft = pdf_doc_resolve(w->doc, pdf_dict_get(f, "FT"));
		if (ft != NULL && ft->type == PDF_NAME)
			type = ft->u.name;
		t = pdf_doc_resolve(w->doc, pdf_dict_get(f, "T"));
		if (t != NULL && t->type == PDF_STRING)
			snprintf(name, sizeof(name), "%.*s", (int)(t->u.str.len < 100 ? t->u.str.len : 100), t->u.str.p);
		v = pdf_doc_resolve(w->doc, pdf_dict_get(f, "V"));
		if (type != NULL && strcmp(type, "Sig") == 0 && v != NULL && v->type == PDF_DICT)
			check_signature(w, v, name);
		walk_fields(w, pdf_dict_get(f, "Kids"), type, depth + 1);
	}
}

int eid_verify__pades(eid_report *r, const char *path, const eid_verify_opts *o)
{
	pdf_doc *doc = NULL;
	pdf_obj *root, *form;
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
	root = pdf_doc_root(doc);
	form = root ? pdf_doc_resolve(doc, pdf_dict_get(root, "AcroForm")) : NULL;
	if (form != NULL && form->type == PDF_DICT)
		walk_fields(&w, pdf_dict_get(form, "Fields"), NULL, 0);
	rc = w.rc;
	if (rc == EID_OK && r->n == 0)
		rc = eid_error__set(EID_ENOTFOUND, "'%s' holds no signature", path);
	if (rc == EID_OK && doc->recovered)
		for (size_t i = 0; i < r->n; i++)
			eid_sig__warn(r->sigs[i], "the PDF's cross-reference table is damaged and was rebuilt by scanning");
	pdf_doc_free(doc);
	return rc;
}
