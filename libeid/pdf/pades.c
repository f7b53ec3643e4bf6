/*
 * PAdES signing by incremental update (ETSI EN 319 142-1, baseline B-B).
 *
 * The new revision (signature dictionary, field/widget, the updated AcroForm
 * and page, an xref section in the style of the previous revision) is
 * composed in memory, with the final /ByteRange numbers already in it.  The
 * output is then written once, as a stream: the original bytes are copied
 * unchanged, the new revision appended, and both byte ranges hashed on the way
 * (everything but the hex of /Contents).  Completing a signature writes the
 * CMS into the reserved /Contents in place and renames the file into place.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eid/pades.h"
#include "appearance.h"
#include "image.h"
#include "pdf.h"
#include "../cms/cms.h"

#define BYTERANGE_PLACEHOLDER "[0 0000000000 0000000000 0000000000]"
#define CONTENTS_MARGIN 2048   /* bytes of slack over the dry run's size */
#define TIMESTAMP_ROOM 16384   /* bytes reserved for a signature timestamp token and its certificates */

struct eid_pades_prep {
	eid_outfile of;
	eid_cades_prep *cms;
	uint64_t contents_off;    /* offset of '<' of /Contents in the output */
	size_t contents_hex;      /* hex digits reserved between < and > */
	int done;
};

/* ---- the new revision, composed in memory ---- */

int pdf_update_begin(pdf_update *u, uint32_t num, uint16_t gen)
{
	pdf_new_obj *grown = realloc(u->objs, (u->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	u->objs = grown;
	u->objs[u->n].num = num;
	u->objs[u->n].gen = gen;
	u->objs[u->n].offset = u->base + u->body.len;
	u->n++;
	return eid_buf__printf(&u->body, "%u %u obj\n", num, gen);
}

int pdf_update_object(pdf_update *u, uint32_t num, uint16_t gen, const pdf_obj *o)
{
	int rc;

	if ((rc = pdf_update_begin(u, num, gen)) < 0 || (rc = pdf_obj_write(o, &u->body)) < 0)
		return rc;
	return eid_buf__puts(&u->body, "\nendobj\n");
}

static int cmp_new_obj(const void *a, const void *b)
{
	const pdf_new_obj *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

/* A PDF text string: PDFDocEncoding-compatible ASCII as is, anything else UTF-16BE with a BOM. */
static pdf_obj *text_string(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t n = strlen(utf8), i = 0, o = 2;
	unsigned char *u16;
	pdf_obj *obj;
	int ascii = 1;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			ascii = 0;
	if (ascii)
		return pdf_string_new(utf8, n, 0);
	u16 = malloc(4 * n + 2);
	if (u16 == NULL) {
		eid_error__set(EID_ENOMEM, NULL);
		return NULL;
	}
	u16[0] = 0xfe;
	u16[1] = 0xff;
	for (i = 0; i < n;) {
		uint32_t cp;
		size_t extra;

		if (s[i] < 0x80) { cp = s[i]; extra = 0; }
		else if ((s[i] & 0xe0) == 0xc0) { cp = s[i] & 0x1f; extra = 1; }
		else if ((s[i] & 0xf0) == 0xe0) { cp = s[i] & 0x0f; extra = 2; }
		else if ((s[i] & 0xf8) == 0xf0) { cp = s[i] & 0x07; extra = 3; }
		else { cp = 0xfffd; extra = 0; }
		i++;
		while (extra-- > 0) {
			if (i >= n || (s[i] & 0xc0) != 0x80) { cp = 0xfffd; break; }
			cp = (cp << 6) | (s[i++] & 0x3f);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u16[o++] = (unsigned char)(0xd8 | (cp >> 18));
			u16[o++] = (unsigned char)(cp >> 10);
			u16[o++] = (unsigned char)(0xdc | ((cp >> 8) & 3));
			u16[o++] = (unsigned char)cp;
		} else {
			u16[o++] = (unsigned char)(cp >> 8);
			u16[o++] = (unsigned char)cp;
		}
	}
	obj = pdf_string_new(u16, o, 1);
	free(u16);
	return obj;
}

/* Is a field named @ctx? */
static int field_named(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	pdf_obj *t = pdf_doc_resolve(doc, pdf_dict_get(f, "T"));
	const char *name = ctx;

	(void)item;
	(void)ft;
	eid_error_clear();
	return t != NULL && t->type == PDF_STRING && t->u.str.len == strlen(name) &&
	       memcmp(t->u.str.p, name, t->u.str.len) == 0;
}

/* Is a signature field signed? */
static int field_signed(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	pdf_obj *v;

	(void)item;
	(void)ctx;
	if (ft == NULL || strcmp(ft, "Sig") != 0)
		return 0;
	v = pdf_doc_resolve(doc, pdf_dict_get(f, "V"));
	eid_error_clear();
	return v != NULL && v->type == PDF_DICT;
}

/*
 * What the document's state allows: nothing may be added to a document
 * certified with P=1, and a certification must be its first signature.
 */
static int check_permissions(pdf_doc *doc, const eid_pades_opts *o)
{
	uint32_t num;
	int p, rc;

	if ((rc = pdf_doc_docmdp(doc, &num, &p)) < 0)
		return eid_error__wrap("the document's certification");
	if (rc == 1 && p == 1)
		return eid_error__set(EID_EINVAL, "the document is certified with no changes permitted (DocMDP P=1): "
						  "another signature would break its certification");
	if (o->certify == 0)
		return EID_OK;
	if (rc == 1)
		return eid_error__set(EID_EINVAL, "the document is already certified; a document has one certification");
	if ((rc = pdf_doc_fields(doc, field_signed, NULL)) < 0)
		return rc;
	if (rc > 0)
		return eid_error__set(EID_EINVAL, "a certification must be the document's first signature, "
						  "and this document is already signed");
	return EID_OK;
}

uint16_t pdf_doc_gen(const pdf_doc *doc, uint32_t num)
{
	if (num < doc->xref_size && doc->xref[num].type == PDF_ENTRY_INUSE)
		return doc->xref[num].gen;
	return 0;
}

/*
 * /NeedAppearances true makes viewers redraw every field themselves, and
 * some (poppler) then draw a signature box empty.  The flag stays: dropping
 * it would change how the other fields look (their stored appearances may
 * not show their values), and a signer changes nothing but what it adds.
 */
static void warn_need_appearances(pdf_doc *doc, pdf_obj *form, int visible)
{
	pdf_obj *na = pdf_doc_resolve(doc, pdf_dict_get(form, "NeedAppearances"));

	if (visible && na != NULL && na->type == PDF_BOOL && na->u.b)
		EID_LOG_W("the form asks viewers to redraw its fields (/NeedAppearances): "
			  "some viewers will show the signature box empty");
}

/* Append @widget to the array held at @dict[@key] (creating it), rewriting an indirect array. */
static int add_to_array(pdf_doc *doc, pdf_update *u, pdf_obj *dict, const char *key, uint32_t widget)
{
	pdf_obj *v = pdf_dict_get(dict, key), *arr;
	int rc;

	if (v != NULL && v->type == PDF_REF) {
		arr = pdf_doc_resolve(doc, v);
		if (arr == NULL || arr->type != PDF_ARRAY)
			return eid_error__set(EID_EFORMAT, "/%s is not an array", key);
		if ((arr = pdf_obj_clone(arr)) == NULL)
			return EID_ENOMEM;
		if ((rc = pdf_array_push(arr, pdf_ref_new(widget, 0))) == EID_OK)
			rc = pdf_update_object(u, v->u.ref.num, pdf_doc_gen(doc, v->u.ref.num), arr);
		pdf_obj_free(arr);
		return rc;
	}
	if (v == NULL || v->type != PDF_ARRAY) {
		if ((rc = pdf_dict_set(dict, key, pdf_obj_new(PDF_ARRAY))) < 0)
			return rc;
		v = pdf_dict_get(dict, key);
	}
	return pdf_array_push(v, pdf_ref_new(widget, 0));
}

static int pdf_date(int64_t when, char *buf, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return eid_error__set(EID_EINVAL, "bad signing time");
	strftime(buf, size, "D:%Y%m%d%H%M%S+00'00'", &tm);
	return EID_OK;
}

/* A certification's signature reference: the DocMDP transform with its permission P. */
static int docmdp_reference(pdf_obj *sig, unsigned int p)
{
	pdf_obj *refs = pdf_obj_new(PDF_ARRAY), *ref = pdf_obj_new(PDF_DICT), *params = pdf_obj_new(PDF_DICT);
	int rc = refs && ref && params ? EID_OK : eid_error__set(EID_ENOMEM, NULL);

	if (rc == EID_OK) rc = pdf_dict_set(params, "Type", pdf_name_new("TransformParams"));
	if (rc == EID_OK) rc = pdf_dict_set(params, "P", pdf_int_new(p));
	if (rc == EID_OK) rc = pdf_dict_set(params, "V", pdf_name_new("1.2"));
	if (rc == EID_OK) rc = pdf_dict_set(ref, "Type", pdf_name_new("SigRef"));
	if (rc == EID_OK) rc = pdf_dict_set(ref, "TransformMethod", pdf_name_new("DocMDP"));
	if (rc == EID_OK) {
		rc = pdf_dict_set(ref, "TransformParams", params);
		params = NULL;
	}
	if (rc == EID_OK) {
		rc = pdf_array_push(refs, ref);
		ref = NULL;
	}
	if (rc == EID_OK) {
		rc = pdf_dict_set(sig, "Reference", refs);
		refs = NULL;
	}
	pdf_obj_free(params);
	pdf_obj_free(ref);
	pdf_obj_free(refs);
	return rc;
}

/*
 * The signature dictionary, with placeholders; @br_at and @contents_at get
 * their positions in u->body.  A document timestamp's (@doc_ts) has none of a
 * signer's entries: the token says when, and who the TSA is.
 */
static int write_sig_dict(pdf_update *u, uint32_t num, const eid_pades_opts *o, const char *signer_name, int doc_ts,
			  size_t hex_len, size_t *br_at, size_t *contents_at)
{
	pdf_obj *extra = pdf_obj_new(PDF_DICT);
	char date[40];
	int rc;

	if (extra == NULL)
		return EID_ENOMEM;
	if (doc_ts) {
		rc = pdf_update_begin(u, num, 0);
		if (rc == EID_OK)
			rc = eid_buf__puts(&u->body, "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 "
						     "/ByteRange ");
		goto placeholders;
	}
	rc = pdf_date(o->signing_time ? o->signing_time : (int64_t)time(NULL), date, sizeof(date));
	if (rc == EID_OK)
		rc = pdf_dict_set(extra, "M", pdf_string_new(date, strlen(date), 0));
	if (rc == EID_OK && (o->name || signer_name))
		rc = pdf_dict_set(extra, "Name", text_string(o->name ? o->name : signer_name));
	if (rc == EID_OK && o->reason)
		rc = pdf_dict_set(extra, "Reason", text_string(o->reason));
	if (rc == EID_OK && o->location)
		rc = pdf_dict_set(extra, "Location", text_string(o->location));
	if (rc == EID_OK && o->contact_info)
		rc = pdf_dict_set(extra, "ContactInfo", text_string(o->contact_info));
	if (rc == EID_OK && o->certify > 0)
		rc = docmdp_reference(extra, o->certify);
	if (rc == EID_OK)
		rc = pdf_update_begin(u, num, 0);
	if (rc == EID_OK)
		rc = eid_buf__printf(&u->body, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /%s /ByteRange ",
				     o->flags & EID_PADES_LEGACY_SUBFILTER ? "adbe.pkcs7.detached" : "ETSI.CAdES.detached");
placeholders:
	if (rc == EID_OK) {
		*br_at = u->body.len;
		rc = eid_buf__puts(&u->body, BYTERANGE_PLACEHOLDER " /Contents <");
	}
	if (rc == EID_OK) {
		*contents_at = u->body.len - 1;
		rc = eid_buf__reserve(&u->body, hex_len + 8);
	}
	if (rc == EID_OK) {
		memset(u->body.data + u->body.len, '0', hex_len);
		u->body.len += hex_len;
		rc = eid_buf__puts(&u->body, ">");
	}
	/* the other entries, serialised as a dictionary without its brackets */
	if (rc == EID_OK && doc_ts)
		rc = eid_buf__puts(&u->body, " >>");
	else if (rc == EID_OK) {
		eid_buf tmp = EID_BUF_INIT;

		rc = pdf_obj_write(extra, &tmp);
		if (rc == EID_OK && tmp.len >= 4)
			rc = eid_buf__append(&u->body, tmp.data + 2, tmp.len - 2); /* drop "<<", keep " ... >>" */
		eid_buf_clear(&tmp);
	}
	if (rc == EID_OK)
		rc = eid_buf__puts(&u->body, "\nendobj\n");
	pdf_obj_free(extra);
	return rc;
}

static pdf_obj *trailer_base(pdf_doc *doc, uint32_t size, const unsigned char *id2)
{
	pdf_obj *t = pdf_obj_new(PDF_DICT), *v, *id;
	unsigned char id1[16];
	size_t id1_len = 16;
	const unsigned char *id1_p = id2;

	if (t == NULL)
		return NULL;
	if (pdf_dict_set(t, "Size", pdf_int_new(size)) < 0)
		goto fail;
	if ((v = pdf_dict_get(doc->trailer, "Root")) != NULL && pdf_dict_set(t, "Root", pdf_obj_clone(v)) < 0)
		goto fail;
	if ((v = pdf_dict_get(doc->trailer, "Info")) != NULL && v->type == PDF_REF &&
	    pdf_dict_set(t, "Info", pdf_obj_clone(v)) < 0)
		goto fail;
	/* /ID: keep the permanent identifier, make a new changing one */
	v = pdf_doc_resolve(doc, pdf_dict_get(doc->trailer, "ID"));
	if (v != NULL && v->type == PDF_ARRAY && v->u.arr.n == 2 && v->u.arr.items[0]->type == PDF_STRING &&
	    v->u.arr.items[0]->u.str.len <= sizeof(id1)) {
		memcpy(id1, v->u.arr.items[0]->u.str.p, v->u.arr.items[0]->u.str.len);
		id1_len = v->u.arr.items[0]->u.str.len;
		id1_p = id1;
	}
	id = pdf_obj_new(PDF_ARRAY);
	if (id == NULL || pdf_array_push(id, pdf_string_new(id1_p, id1_len, 1)) < 0 ||
	    pdf_array_push(id, pdf_string_new(id2, 16, 1)) < 0 || pdf_dict_set(t, "ID", id) < 0)
		goto fail;
	return t;
fail:
	pdf_obj_free(t);
	return NULL;
}

/* The xref section and trailer of the new revision, in the previous revision's style. */
int pdf_update_xref(pdf_doc *doc, pdf_update *u, uint32_t *size)
{
	pdf_xref_style style = doc->revs[doc->nrevs - 1].style;
	uint64_t prev = doc->revs[doc->nrevs - 1].xref_offset, xref_at;
	unsigned char id2[16];
	pdf_obj *trailer;
	size_t i, j;
	int rc = EID_OK;

	if (RAND_bytes(id2, sizeof(id2)) != 1)
		return eid_error__set(EID_EINTERNAL, "no random bytes for /ID");
	if (style == PDF_XREF_STREAM) {
		uint32_t xnum = (*size)++;
		unsigned char *data;
		pdf_obj *index;
		int wide;

		if ((rc = pdf_update_begin(u, xnum, 0)) < 0)
			return rc;
		qsort(u->objs, u->n, sizeof(*u->objs), cmp_new_obj);
		wide = u->objs[u->n - 1].offset > 0xffffffffu || u->base + u->body.len > 0xffffffffu;
		trailer = trailer_base(doc, *size, id2);
		index = pdf_obj_new(PDF_ARRAY);
		data = malloc(u->n * 11);
		if (trailer == NULL || index == NULL || data == NULL) {
			pdf_obj_free(trailer);
			pdf_obj_free(index);
			free(data);
			return eid_error__set(EID_ENOMEM, NULL);
		}
		for (i = 0; i < u->n; i = j) {
			for (j = i + 1; j < u->n && u->objs[j].num == u->objs[j - 1].num + 1; j++)
				;
			pdf_array_push(index, pdf_int_new(u->objs[i].num));
			pdf_array_push(index, pdf_int_new((int64_t)(j - i)));
		}
		{
			size_t w = wide ? 8 : 4, k, at = 0;
			pdf_obj *warr = pdf_obj_new(PDF_ARRAY);

			for (i = 0; i < u->n; i++) {
				data[at++] = 1;
				for (k = 0; k < w; k++)
					data[at++] = (unsigned char)(u->objs[i].offset >> (8 * (w - 1 - k)));
				data[at++] = (unsigned char)(u->objs[i].gen >> 8);
				data[at++] = (unsigned char)u->objs[i].gen;
			}
			pdf_array_push(warr, pdf_int_new(1));
			pdf_array_push(warr, pdf_int_new((int64_t)w));
			pdf_array_push(warr, pdf_int_new(2));
			rc = pdf_dict_set(trailer, "Type", pdf_name_new("XRef"));
			if (rc == EID_OK) rc = pdf_dict_set(trailer, "W", warr);
			if (rc == EID_OK) rc = pdf_dict_set(trailer, "Index", index);
			else pdf_obj_free(index);
			index = NULL;
			if (rc == EID_OK) rc = pdf_dict_set(trailer, "Prev", pdf_int_new((int64_t)prev));
			if (rc == EID_OK) rc = pdf_dict_set(trailer, "Length", pdf_int_new((int64_t)at));
			if (rc == EID_OK) rc = pdf_obj_write(trailer, &u->body);
			if (rc == EID_OK) rc = eid_buf__puts(&u->body, "\nstream\n");
			if (rc == EID_OK) rc = eid_buf__append(&u->body, data, at);
			if (rc == EID_OK) rc = eid_buf__puts(&u->body, "\nendstream\nendobj\n");
		}
		xref_at = u->objs[0].offset;
		for (i = 0; i < u->n; i++)
			if (u->objs[i].num == xnum)
				xref_at = u->objs[i].offset;
		free(data);
		pdf_obj_free(trailer);
	} else {
		qsort(u->objs, u->n, sizeof(*u->objs), cmp_new_obj);
		xref_at = u->base + u->body.len;
		rc = eid_buf__puts(&u->body, "xref\n");
		for (i = 0; i < u->n && rc == EID_OK; i = j) {
			for (j = i + 1; j < u->n && u->objs[j].num == u->objs[j - 1].num + 1; j++)
				;
			rc = eid_buf__printf(&u->body, "%u %zu\n", u->objs[i].num, j - i);
			for (size_t k = i; k < j && rc == EID_OK; k++)
				rc = eid_buf__printf(&u->body, "%010llu %05u n\r\n", (unsigned long long)u->objs[k].offset,
						     u->objs[k].gen);
		}
		trailer = trailer_base(doc, *size, id2);
		if (trailer == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		if (rc == EID_OK) rc = pdf_dict_set(trailer, "Prev", pdf_int_new((int64_t)prev));
		if (rc == EID_OK) rc = eid_buf__puts(&u->body, "trailer\n");
		if (rc == EID_OK) rc = pdf_obj_write(trailer, &u->body);
		if (rc == EID_OK) rc = eid_buf__puts(&u->body, "\n");
		pdf_obj_free(trailer);
	}
	if (rc == EID_OK)
		rc = eid_buf__printf(&u->body, "startxref\n%llu\n%%%%EOF\n", (unsigned long long)xref_at);
	return rc;
}

/* The visible signature's appearance stream and its font. */
/* An image XObject (and its soft mask, object @num + 1, when the picture has transparency). */
static int write_image(pdf_update *u, const pdf_image *img, uint32_t num)
{
	int rc = pdf_update_begin(u, num, 0);

	if (rc == EID_OK)
		rc = eid_buf__printf(&u->body,
				     "<< /Type /XObject /Subtype /Image /Width %u /Height %u /ColorSpace /%s "
				     "/BitsPerComponent %d /Filter /%s%s",
				     img->width, img->height, img->color_space, img->bpc, img->filter,
				     img->invert_cmyk ? " /Decode [1 0 1 0 1 0 1 0]" : "");
	if (rc == EID_OK && img->alpha.len > 0)
		rc = eid_buf__printf(&u->body, " /SMask %u 0 R", num + 1);
	if (rc == EID_OK)
		rc = eid_buf__printf(&u->body, " /Length %zu >>\nstream\n", img->data.len);
	if (rc == EID_OK)
		rc = eid_buf__append(&u->body, img->data.data, img->data.len);
	if (rc == EID_OK)
		rc = eid_buf__puts(&u->body, "\nendstream\nendobj\n");
	if (rc < 0 || img->alpha.len == 0)
		return rc;
	rc = pdf_update_begin(u, num + 1, 0);
	if (rc == EID_OK)
		rc = eid_buf__printf(&u->body,
				     "<< /Type /XObject /Subtype /Image /Width %u /Height %u /ColorSpace /DeviceGray "
				     "/BitsPerComponent 8 /Filter /FlateDecode /Length %zu >>\nstream\n",
				     img->width, img->height, img->alpha.len);
	if (rc == EID_OK)
		rc = eid_buf__append(&u->body, img->alpha.data, img->alpha.len);
	if (rc == EID_OK)
		rc = eid_buf__puts(&u->body, "\nendstream\nendobj\n");
	return rc;
}

/* Where the picture goes in a @w x @h box: on the left, its aspect kept, at most 45% of the width. */
static void image_box(const pdf_image *img, double w, double h, double box[4])
{
	double pad = w > 40 && h > 20 ? 4 : 1, bw, bh = h - 2 * pad;

	bw = bh * img->width / img->height;
	if (bw > 0.45 * w) {
		bw = 0.45 * w;
		bh = bw * img->height / img->width;
	}
	box[0] = pad;
	box[1] = (h - bh) / 2;
	box[2] = bw;
	box[3] = bh;
}

static int write_appearance(pdf_update *u, const eid_pades_opts *o, const char *signer_name, double w, double h,
			    uint32_t ap_num, uint32_t font_num, const pdf_image *img, uint32_t img_num)
{
	const char *lines[6];
	char date[64], reason[512], location[512];
	time_t t = (time_t)(o->signing_time ? o->signing_time : (int64_t)time(NULL));
	struct tm tm;
	eid_buf content = EID_BUF_INIT;
	pdf_obj *font = NULL;
	double box[4];
	char xobj[48] = "";
	size_t n = 0;
	int rc;

	if (img != NULL)
		snprintf(xobj, sizeof(xobj), "/XObject << /Im1 %u 0 R >> ", img_num);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "Date: %Y-%m-%d %H:%M:%S UTC", &tm);
	lines[n++] = "Digitally signed by";
	lines[n++] = o->name ? o->name : signer_name ? signer_name : "(unknown)";
	lines[n++] = date;
	if (o->reason) {
		snprintf(reason, sizeof(reason), "Reason: %s", o->reason);
		lines[n++] = reason;
	}
	if (o->location) {
		snprintf(location, sizeof(location), "Location: %s", o->location);
		lines[n++] = location;
	}
	if (img != NULL)
		image_box(img, w, h, box);
	rc = eid_pdf__appearance(lines, n, w, h, img != NULL ? box : NULL, &content, &font);
	if (rc == EID_OK && img != NULL)
		rc = write_image(u, img, img_num);
	if (rc == EID_OK)
		rc = pdf_update_object(u, font_num, 0, font);
	if (rc == EID_OK)
		rc = pdf_update_begin(u, ap_num, 0);
	if (rc == EID_OK)
		rc = eid_buf__printf(&u->body,
				     "<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] /Resources << /Font << /F1 %u 0 R >> "
				     "%s/ProcSet [/PDF /Text%s] >> /Length %zu >>\nstream\n",
				     w, h, font_num, xobj, img != NULL ? " /ImageB /ImageC" : "", content.len);
	if (rc == EID_OK)
		rc = eid_buf__append(&u->body, content.data, content.len);
	if (rc == EID_OK)
		rc = eid_buf__puts(&u->body, "\nendstream\nendobj\n");
	pdf_obj_free(font);
	eid_buf_clear(&content);
	return rc;
}

/* The catalog's /Perms names the certification signature (kept: other entries such as /UR3). */
static int set_docmdp(pdf_doc *doc, pdf_obj *root, uint32_t sig_num)
{
	pdf_obj *perms = pdf_doc_resolve(doc, pdf_dict_get(root, "Perms"));
	int rc;

	perms = perms != NULL && perms->type == PDF_DICT ? pdf_obj_clone(perms) : pdf_obj_new(PDF_DICT);
	eid_error_clear();
	if (perms == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if ((rc = pdf_dict_set(perms, "DocMDP", pdf_ref_new(sig_num, 0))) < 0) {
		pdf_obj_free(perms);
		return rc;
	}
	return pdf_dict_set(root, "Perms", perms);
}

/* Where the signature goes: a new field, or an existing empty signature field. */
typedef struct target {
	pdf_obj *field;           /* the existing field (borrowed), or NULL */
	pdf_ref field_ref;
	const char *ft;
	double box[4];            /* x, y, width, height; width 0: invisible */
	char name[64];
} target;

static int find_field(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	target *t = ctx;

	if (!field_named(doc, item, f, ft, t->name))
		return 0;
	if (item->type != PDF_REF)
		return eid_error__set(EID_EUNSUPPORTED, "field '%s' is not an indirect object", t->name);
	t->field = f;
	t->field_ref = item->u.ref;
	t->ft = ft;
	return 1;
}

/* The existing field named by the options, checked: an empty, merged signature field-widget. */
static int find_target(pdf_doc *doc, const eid_pades_opts *o, target *t)
{
	pdf_obj *rect;
	double v[4];
	int rc, i;

	memset(t, 0, sizeof(*t));
	memcpy(t->box, o->rect, sizeof(t->box));
	if (o->field_name != NULL) {
		snprintf(t->name, sizeof(t->name), "%s", o->field_name);
		if ((rc = pdf_doc_fields(doc, find_field, t)) < 0)
			return rc;
	} else {
		for (i = 1; i < 10000; i++) {
			snprintf(t->name, sizeof(t->name), "Signature%d", i);
			if ((rc = pdf_doc_fields(doc, field_named, t->name)) < 0)
				return rc;
			if (rc == 0)
				break;
		}
	}
	if (t->field == NULL)
		return EID_OK;
	if (t->ft == NULL || strcmp(t->ft, "Sig") != 0)
		return eid_error__set(EID_EINVAL, "field '%s' exists and is not a signature field", t->name);
	if (pdf_dict_get(t->field, "V") != NULL)
		return eid_error__set(EID_EINVAL, "signature field '%s' is already signed", t->name);
	if (!pdf_name_is(pdf_doc_resolve(doc, pdf_dict_get(t->field, "Subtype")), "Widget"))
		return eid_error__set(EID_EUNSUPPORTED, "signature field '%s' has separate widgets; "
							"libeid signs fields that are their own widget", t->name);
	if (o->rect[2] > 0)
		return eid_error__set(EID_EINVAL, "signature field '%s' has its own box; leave out the visible box",
				      t->name);
	rect = pdf_doc_resolve(doc, pdf_dict_get(t->field, "Rect"));
	for (i = 0; rect != NULL && rect->type == PDF_ARRAY && rect->u.arr.n == 4 && i < 4; i++) {
		pdf_obj *x = pdf_doc_resolve(doc, rect->u.arr.items[i]);

		if (x == NULL || (x->type != PDF_INT && x->type != PDF_REAL))
			break;
		v[i] = x->type == PDF_INT ? (double)x->u.i : x->u.r;
	}
	eid_error_clear();
	if (i == 4) {
		t->box[0] = v[0] < v[2] ? v[0] : v[2];
		t->box[1] = v[1] < v[3] ? v[1] : v[3];
		t->box[2] = v[0] < v[2] ? v[2] - v[0] : v[0] - v[2];
		t->box[3] = v[1] < v[3] ? v[3] - v[1] : v[1] - v[3];
		if (t->box[2] < 1 || t->box[3] < 1 || t->box[2] > 14400 || t->box[3] > 14400)
			t->box[2] = t->box[3] = 0;
	}
	return EID_OK;
}

/* The AcroForm: indirect (rewrite it), inline (in the catalog copy) or absent (a new one); /SigFlags 3. */
static int update_form(pdf_doc *doc, pdf_update *u, pdf_obj *root_copy, uint32_t widget_num, uint32_t *size,
		       int visible, int *root_dirty)
{
	pdf_obj *form = pdf_dict_get(root_copy, "AcroForm"), *f;
	int rc;

	if (form != NULL && form->type == PDF_REF) {
		f = pdf_doc_resolve(doc, form);
		if (f == NULL || f->type != PDF_DICT)
			return eid_error__set(EID_EFORMAT, "/AcroForm is not a dictionary");
		if ((f = pdf_obj_clone(f)) == NULL)
			return EID_ENOMEM;
		rc = pdf_dict_set(f, "SigFlags", pdf_int_new(3));
		warn_need_appearances(doc, f, visible);
		if (rc == EID_OK && widget_num != 0)
			rc = add_to_array(doc, u, f, "Fields", widget_num);
		if (rc == EID_OK)
			rc = pdf_update_object(u, form->u.ref.num, pdf_doc_gen(doc, form->u.ref.num), f);
		pdf_obj_free(f);
		return rc;
	}
	*root_dirty = 1;
	if (form != NULL && form->type == PDF_DICT) {
		rc = pdf_dict_set(form, "SigFlags", pdf_int_new(3));
		warn_need_appearances(doc, form, visible);
		if (rc == EID_OK && widget_num != 0)
			rc = add_to_array(doc, u, form, "Fields", widget_num);
		return rc;
	}
	if ((f = pdf_obj_new(PDF_DICT)) == NULL)
		return EID_ENOMEM;
	rc = pdf_dict_set(f, "Fields", pdf_obj_new(PDF_ARRAY));
	if (rc == EID_OK && widget_num != 0)
		rc = pdf_array_push(pdf_dict_get(f, "Fields"), pdf_ref_new(widget_num, 0));
	if (rc == EID_OK)
		rc = pdf_dict_set(f, "SigFlags", pdf_int_new(3));
	if (rc == EID_OK)
		rc = pdf_update_object(u, *size, 0, f);
	pdf_obj_free(f);
	if (rc == EID_OK)
		rc = pdf_dict_set(root_copy, "AcroForm", pdf_ref_new(*size, 0));
	(*size)++;
	return rc;
}

/*
 * A certification with P=2 permits signing, but a new visible field could
 * draw over the certified content (validators report it: the Sneaky
 * Signature attack); such a document is signed invisibly or in its fields.
 */
static int check_new_field(pdf_doc *doc, const target *t)
{
	uint32_t num;
	int p;

	if (t->field != NULL || t->box[2] <= 0 || pdf_doc_docmdp(doc, &num, &p) <= 0 || p != 2) {
		eid_error_clear();
		return EID_OK;
	}
	return eid_error__set(EID_EINVAL, "the document is certified for form filling and signing (DocMDP P=2): "
					  "a new visible signature field is not permitted; sign invisibly or in one of "
					  "its empty signature fields (--field NAME)");
}

/* A new field merged with its widget annotation, on the chosen page: printed, locked. */
static pdf_obj *new_widget(const target *t, uint32_t sig_num, pdf_ref page)
{
	pdf_obj *w = pdf_obj_new(PDF_DICT), *rect = pdf_obj_new(PDF_ARRAY);
	int rc = w != NULL && rect != NULL ? EID_OK : eid_error__set(EID_ENOMEM, NULL), i;

	for (i = 0; i < 4 && rc == EID_OK; i++)
		rc = pdf_array_push(rect, t->box[2] > 0 ? pdf_real_new(i < 2 ? t->box[i] : t->box[i - 2] + t->box[i])
						       : pdf_int_new(0));
	if (rc == EID_OK) rc = pdf_dict_set(w, "Type", pdf_name_new("Annot"));
	if (rc == EID_OK) rc = pdf_dict_set(w, "Subtype", pdf_name_new("Widget"));
	if (rc == EID_OK) rc = pdf_dict_set(w, "FT", pdf_name_new("Sig"));
	if (rc == EID_OK) rc = pdf_dict_set(w, "T", text_string(t->name));
	if (rc == EID_OK) rc = pdf_dict_set(w, "V", pdf_ref_new(sig_num, 0));
	if (rc == EID_OK) rc = pdf_dict_set(w, "F", pdf_int_new(132)); /* Print | Locked */
	if (rc == EID_OK) {
		rc = pdf_dict_set(w, "Rect", rect);
		rect = NULL;
	}
	if (rc == EID_OK) rc = pdf_dict_set(w, "P", pdf_ref_new(page.num, page.gen));
	pdf_obj_free(rect);
	if (rc < 0) {
		pdf_obj_free(w);
		return NULL;
	}
	return w;
}

/* Compose the new revision: field/widget, AcroForm, page, signature (or @doc_ts) dictionary, xref. */
static int compose(pdf_doc *doc, pdf_update *u, const eid_pades_opts *o, const char *signer_name, int doc_ts,
		   size_t hex_len, size_t *br_at, size_t *contents_at)
{
	pdf_obj *root = pdf_doc_root(doc), *root_copy = NULL, *page = NULL, *widget = NULL, *v;
	pdf_obj *rootref = pdf_dict_get(doc->trailer, "Root");
	uint32_t size = doc->xref_size, sig_num, widget_num = 0, ap_num = 0, font_num = 0, img_num = 0;
	pdf_ref page_ref = { 0, 0 };
	pdf_image img;
	target t;
	int rc, root_dirty = 0, visible, have_img = 0;

	if (root == NULL || rootref == NULL || rootref->type != PDF_REF)
		return eid_error__set(EID_EFORMAT, "the catalog (/Root) is missing or not an indirect object");
	if ((rc = find_target(doc, o, &t)) < 0)
		return rc;
	visible = t.box[2] > 0 && t.box[3] > 0;
	if (o->image != NULL && !visible)
		return eid_error__set(EID_EINVAL, "a picture is drawn in a visible signature's box, and this one has none");
	if (t.field == NULL && (rc = pdf_doc_page_ref(doc, o->page > 0 ? o->page - 1 : 0, &page_ref)) < 0)
		return eid_error__wrap("page %u", o->page > 0 ? o->page : 1);
	if (t.field == NULL && page_ref.num == rootref->u.ref.num)
		return eid_error__set(EID_EFORMAT, "the page is the catalog");
	if ((rc = check_new_field(doc, &t)) < 0)
		return rc;
	v = pdf_dict_get(doc->trailer, "Size");
	if (v != NULL && v->type == PDF_INT && v->u.i > (int64_t)size && v->u.i < PDF_MAX_OBJNUM)
		size = (uint32_t)v->u.i;
	if (size + 8 > PDF_MAX_OBJNUM)
		return eid_error__set(EID_ETOOBIG, "too many objects to add one more revision");
	sig_num = size++;
	if (t.field == NULL)
		widget_num = size++;
	if (visible) {
		ap_num = size++;
		font_num = size++;
	}
	if (o->image != NULL) {
		if ((rc = pdf_image_load(&img, o->image)) < 0)
			return rc;
		have_img = 1;
		img_num = size++;
		if (img.alpha.len > 0)
			size++;
	}

	if ((root_copy = pdf_obj_clone(root)) == NULL)
		rc = EID_ENOMEM;
	if (rc == EID_OK)
		rc = update_form(doc, u, root_copy, widget_num, &size, visible, &root_dirty);
	if (rc == EID_OK && o->certify > 0) {
		rc = set_docmdp(doc, root_copy, sig_num);
		root_dirty = 1;
	}
	if (rc == EID_OK && root_dirty)
		rc = pdf_update_object(u, rootref->u.ref.num, pdf_doc_gen(doc, rootref->u.ref.num), root_copy);

	/* A new field's widget goes in its page's /Annots. */
	if (rc == EID_OK && t.field == NULL) {
		if ((rc = pdf_doc_get(doc, page_ref.num, &page)) == EID_OK && page->type != PDF_DICT)
			rc = eid_error__set(EID_EFORMAT, "page object %u is not a dictionary", page_ref.num);
		if (rc == EID_OK && (page = pdf_obj_clone(page)) == NULL)
			rc = EID_ENOMEM;
		if (rc == EID_OK)
			rc = add_to_array(doc, u, page, "Annots", widget_num);
		if (rc == EID_OK)
			rc = pdf_update_object(u, page_ref.num, page_ref.gen, page);
		pdf_obj_free(page);
	}
	if (rc == EID_OK) {
		widget = t.field != NULL ? pdf_obj_clone(t.field) : new_widget(&t, sig_num, page_ref);
		if (widget == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
		else if (t.field != NULL)
			rc = pdf_dict_set(widget, "V", pdf_ref_new(sig_num, 0));
	}
	if (rc == EID_OK && visible) {
		pdf_obj *ap = pdf_obj_new(PDF_DICT);

		rc = ap ? pdf_dict_set(ap, "N", pdf_ref_new(ap_num, 0)) : EID_ENOMEM;
		rc = rc == EID_OK ? pdf_dict_set(widget, "AP", ap) : (pdf_obj_free(ap), rc);
		if (rc == EID_OK)
			rc = write_appearance(u, o, signer_name, t.box[2], t.box[3], ap_num, font_num,
					      have_img ? &img : NULL, img_num);
	}
	if (rc == EID_OK)
		rc = t.field != NULL ? pdf_update_object(u, t.field_ref.num, t.field_ref.gen, widget)
				     : pdf_update_object(u, widget_num, 0, widget);
	if (rc == EID_OK) rc = write_sig_dict(u, sig_num, o, signer_name, doc_ts, hex_len, br_at, contents_at);
	if (rc == EID_OK) rc = pdf_update_xref(doc, u, &size);
	pdf_obj_free(widget);
	pdf_obj_free(root_copy);
	if (have_img)
		pdf_image_clear(&img);
	return rc;
}

static int copy_and_hash(pdf_doc *doc, eid_outfile *of, EVP_MD_CTX *md)
{
	unsigned char *chunk = malloc(EID_IO_CHUNK);
	uint64_t at = 0;
	size_t n;
	int rc = EID_OK;

	if (chunk == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	while (at < doc->size && rc == EID_OK) {
		n = doc->size - at > EID_IO_CHUNK ? EID_IO_CHUNK : (size_t)(doc->size - at);
		rc = pdf_doc_read(doc, at, chunk, n);
		if (rc == EID_OK && md != NULL && !EVP_DigestUpdate(md, chunk, n))
			rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
		if (rc == EID_OK)
			rc = eid_io__out_write(of, chunk, n);
		at += n;
	}
	free(chunk);
	return rc;
}

static int check_opts(const eid_pades_opts *o)
{
	if (o->certify > 3)
		return eid_error__set(EID_EINVAL, "a certification's permission is 1, 2 or 3, not %u", o->certify);
	if (o->level != EID_LEVEL_DEFAULT && o->level != EID_LEVEL_B_B && o->level != EID_LEVEL_B_T)
		return eid_error__set(EID_EUNSUPPORTED, "level %s is not supported yet (B-B and B-T)",
				      eid_level_name(o->level) ? eid_level_name(o->level) : "?");
	if (o->level == EID_LEVEL_B_T && o->online == NULL)
		return eid_error__set(EID_EINVAL, "level B-T needs a TSA (eid_pades_opts.online)");
	if (eid_hash_size(o->hash) == 0)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)o->hash);
	if (o->rect[2] < 0 || o->rect[3] < 0 || o->rect[0] < 0 || o->rect[1] < 0 || o->rect[2] > 14400 ||
	    o->rect[3] > 14400 || o->rect[0] > 14400 || o->rect[1] > 14400 ||
	    ((o->rect[2] > 0) != (o->rect[3] > 0)))
		return eid_error__set(EID_EINVAL, "the visible signature's box is not a box on a page");
	return EID_OK;
}

int pdf_doc_copy(pdf_doc *doc, eid_outfile *of)
{
	return copy_and_hash(doc, of, NULL);
}

/*
 * Append the new revision to @in_path into @of (opened by the caller): the
 * input copied unchanged, then the revision, both byte ranges hashed with
 * @o->hash into @digest on the way; @contents_off gets the output offset of
 * /Contents' "<".
 */
static int append_revision(const char *in_path, eid_outfile *of, const eid_pades_opts *o, const char *signer_name,
			   int doc_ts, size_t hex_len, unsigned char *digest, unsigned int *dlen, uint64_t *contents_off)
{
	pdf_doc *doc = NULL;
	pdf_update u;
	EVP_MD_CTX *md = NULL;
	size_t br_at = 0, contents_at = 0;
	char br[64];
	uint64_t c0, c1, end;
	int eol, rc;

	if ((rc = pdf_doc_open(&doc, in_path)) < 0)
		return rc;
	if (doc->recovered) {
		pdf_doc_free(doc);
		return eid_error__set(EID_EFORMAT,
				      "'%s' has a damaged cross-reference table; repair it (for example with qpdf) before signing",
				      in_path);
	}
	memset(&u, 0, sizeof(u));
	/* document timestamps are validation data, which every certification permits (ISO 32000-2, 12.8.2.2.2) */
	if (!doc_ts && (rc = check_permissions(doc, o)) < 0)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	/* The new revision starts on a fresh line. */
	{
		unsigned char last = '\n';

		if (doc->size > 0 && (rc = pdf_doc_read(doc, doc->size - 1, &last, 1)) < 0)
			goto out;
		eol = last != '\n' && last != '\r';
	}
	u.base = doc->size; /* the body starts where the input ends (with a newline if it lacks one) */
	if (eol && (rc = eid_buf__puts(&u.body, "\n")) < 0)
		goto out;
	if ((rc = compose(doc, &u, o, signer_name, doc_ts, hex_len, &br_at, &contents_at)) < 0)
		goto out;
	if (doc->recovered) { /* an object pointed nowhere: the reader fell back to scanning */
		rc = eid_error__set(EID_EFORMAT,
				    "'%s' has a damaged cross-reference table; repair it (for example with qpdf) before signing",
				    in_path);
		goto out;
	}

	/* The byte ranges: everything but the hex of /Contents (its < and > included in the gap). */
	c0 = u.base + contents_at;
	c1 = c0 + hex_len + 2;
	end = u.base + u.body.len;
	if (end > 9999999999ull) {
		rc = eid_error__set(EID_ETOOBIG, "a PDF of more than 9,999,999,999 bytes");
		goto out;
	}
	snprintf(br, sizeof(br), "[0 %010llu %010llu %010llu]", (unsigned long long)c0, (unsigned long long)c1,
		 (unsigned long long)(end - c1));
	memcpy(u.body.data + br_at, br, strlen(BYTERANGE_PLACEHOLDER));

	/* Write once, hashing both ranges on the way. */
	if (!EVP_DigestInit_ex(md, eid_hash__md(o->hash), NULL)) {
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
		goto out;
	}
	if ((rc = copy_and_hash(doc, of, md)) < 0)
		goto out;
	if ((rc = eid_io__out_write(of, u.body.data, u.body.len)) < 0)
		goto out;
	if (!EVP_DigestUpdate(md, u.body.data, contents_at) ||
	    !EVP_DigestUpdate(md, u.body.data + contents_at + hex_len + 2, u.body.len - contents_at - hex_len - 2) ||
	    !EVP_DigestFinal_ex(md, digest, dlen)) {
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
		goto out;
	}
	*contents_off = c0;
	EID_LOG_D("PAdES: %zu bytes appended to '%s', /Contents of %zu hex digits at %llu", u.body.len, in_path,
		  hex_len, (unsigned long long)c0);
out:
	EVP_MD_CTX_free(md);
	eid_buf_clear(&u.body);
	free(u.objs);
	pdf_doc_free(doc);
	return rc;
}

/* Write @der in hex into the reserved /Contents at @contents_off of @of. */
static int fill_contents(eid_outfile *of, uint64_t contents_off, const unsigned char *der, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *text = malloc(2 * len + 1);
	size_t i;
	ssize_t n;

	if (text == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < len; i++) {
		text[2 * i] = hex[der[i] >> 4];
		text[2 * i + 1] = hex[der[i] & 15];
	}
	n = pwrite(of->fd, text, 2 * len, (off_t)(contents_off + 1));
	free(text);
	if (n != (ssize_t)(2 * len))
		return eid_error__set(EID_EIO, "cannot write the signature into '%s': %s", of->path,
				      n < 0 ? strerror(errno) : "short write");
	return EID_OK;
}

EID_EXTERN int eid_pades_prepare(eid_pades_prep **out, const eid_signer *signer, const char *in_path,
				 const char *out_path, const eid_pades_opts *opts)
{
	eid_pades_opts o_local = EID_PADES_OPTS_INIT;
	const eid_pades_opts *o = &o_local;
	eid_cades_opts co = EID_CADES_OPTS_INIT;
	eid_pades_prep *p = NULL;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t cms_max, hex_len;
	int rc;

	if (out == NULL || signer == NULL || in_path == NULL || out_path == NULL)
		return eid_error__set(EID_EINVAL, "eid_pades_prepare: NULL argument");
	*out = NULL;
	if (opts != NULL) {
		/* version 1 ended before certify; what it lacks keeps its default */
		if (opts->version == 1)
			memcpy(&o_local, opts, offsetof(eid_pades_opts, certify));
		else if (opts->version == 2)
			memcpy(&o_local, opts, offsetof(eid_pades_opts, online));
		else if (opts->version == EID_PADES_OPTS_VERSION)
			o_local = *opts;
		else
			return eid_error__set(EID_EVERSION, "eid_pades_opts version %u is unknown", opts->version);
		o_local.version = EID_PADES_OPTS_VERSION;
	}
	if ((rc = check_opts(o)) < 0)
		return rc;
	co.hash = o->hash;
	co.scheme = o->scheme;
	co.signing_time = o->signing_time;
	/* PAdES: the claimed time is /M, not a signing-time attribute (EN 319 142-1, 5.4.3). */
	co.flags = o->flags & EID_PADES_LEGACY_SUBFILTER ? 0 : EID_CADES_NO_SIGNING_TIME;
	if ((rc = eid_cms__size_estimate(signer, &co, &cms_max)) < 0)
		return rc;
	/* B-T: the timestamp comes with the value; room for a token with its TSA's chain */
	co.level = o->level == EID_LEVEL_B_T ? EID_LEVEL_B_T : EID_LEVEL_B_B;
	co.online = o->online;
	if (co.level == EID_LEVEL_B_T)
		cms_max += TIMESTAMP_ROOM;
	hex_len = 2 * (cms_max + CONTENTS_MARGIN);

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	p->of.fd = -1;
	if ((rc = eid_io__out_open(&p->of, out_path)) < 0)
		goto out;
	if ((rc = append_revision(in_path, &p->of, o, eid_signer_name(signer), 0, hex_len, digest, &dlen,
				  &p->contents_off)) < 0)
		goto out;
	if ((rc = eid_cades_prepare_digest(&p->cms, signer, digest, dlen, &co)) < 0)
		goto out;
	p->contents_hex = hex_len;
	*out = p;
	p = NULL;
out:
	eid_pades_prep_free(p);
	return rc;
}

int pdf_add_doc_timestamp(const char *in_path, eid_outfile *of, eid_online *online, eid_hash hash)
{
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	eid_buf token = EID_BUF_INIT;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t room = TIMESTAMP_ROOM;
	uint64_t contents_off = 0;
	int attempt, fits = 0, rc = EID_OK;

	o.hash = hash;
	if (eid_hash_size(hash) == 0)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)hash);
	/* The token's size is known only once the TSA answered over the final bytes: a token that
	 * outgrows the room (a TSA with a long chain) is asked for again with room for it. */
	for (attempt = 0; attempt < 2; attempt++) {
		if (attempt > 0 && (ftruncate(of->fd, 0) != 0 || lseek(of->fd, 0, SEEK_SET) != 0))
			return eid_error__set(EID_EIO, "cannot rewrite '%s': %s", of->path, strerror(errno));
		if ((rc = append_revision(in_path, of, &o, NULL, 1, 2 * (room + CONTENTS_MARGIN), digest, &dlen,
					  &contents_off)) < 0)
			return rc;
		eid_buf_clear(&token);
		if ((rc = eid_online_timestamp(online, hash, digest, dlen, &token)) < 0)
			return rc;
		if ((fits = token.len <= room + CONTENTS_MARGIN))
			break;
		room = token.len + CONTENTS_MARGIN;
	}
	if (!fits)
		rc = eid_error__set(EID_EINTERNAL, "the document timestamp (%zu bytes) does not fit the reserved /Contents",
				    token.len);
	else
		rc = fill_contents(of, contents_off, token.data, token.len);
	eid_buf_clear(&token);
	return rc;
}

EID_EXTERN int eid_pades_prep_digest(const eid_pades_prep *p, const unsigned char **digest, size_t *len,
				     eid_hash *hash, eid_sig_scheme *scheme)
{
	if (p == NULL)
		return eid_error__set(EID_EINVAL, "eid_pades_prep_digest: NULL argument");
	return eid_cades_prep_digest(p->cms, digest, len, hash, scheme);
}

EID_EXTERN int eid_pades_complete(eid_pades_prep *p, const unsigned char *sig, size_t sig_len)
{
	eid_buf cms = EID_BUF_INIT;
	int rc;

	if (p == NULL || sig == NULL)
		return eid_error__set(EID_EINVAL, "eid_pades_complete: NULL argument");
	if (p->done)
		return eid_error__set(EID_EINVAL, "this signature was already completed");
	if ((rc = eid_cades_complete(p->cms, sig, sig_len, &cms)) < 0)
		return rc;
	if (2 * cms.len > p->contents_hex) {
		eid_buf_clear(&cms);
		return eid_error__set(EID_EINTERNAL, "the signature (%zu bytes) does not fit the reserved /Contents (%zu)",
				      cms.len, p->contents_hex / 2);
	}
	rc = fill_contents(&p->of, p->contents_off, cms.data, cms.len);
	eid_buf_clear(&cms);
	if (rc < 0 || (rc = eid_io__out_commit(&p->of)) < 0)
		return rc;
	p->done = 1;
	return EID_OK;
}

EID_EXTERN void eid_pades_prep_free(eid_pades_prep *p)
{
	if (p == NULL)
		return;
	if (!p->done && (p->of.fd >= 0 || p->of.tmp != NULL))
		eid_io__out_abort(&p->of);
	eid_cades_prep_free(p->cms);
	free(p);
}

EID_EXTERN int eid_pades_sign(eid_signer *signer, const char *in_path, const char *out_path,
			      const eid_pades_opts *opts)
{
	eid_pades_prep *p = NULL;
	eid_buf sig = EID_BUF_INIT;
	const unsigned char *tbs;
	size_t tbs_len;
	eid_hash hash;
	eid_sig_scheme scheme;
	int rc;

	if ((rc = eid_pades_prepare(&p, signer, in_path, out_path, opts)) < 0)
		return rc;
	eid_pades_prep_digest(p, &tbs, &tbs_len, &hash, &scheme);
	rc = eid_signer_sign_digest(signer, scheme, hash, tbs, tbs_len, &sig);
	if (rc == EID_OK)
		rc = eid_pades_complete(p, sig.data, sig.len);
	eid_buf_clear(&sig);
	eid_pades_prep_free(p);
	return rc;
}
