/*
 * PAdES long-term levels (ETSI EN 319 142-1, 5.4 and 6.3), each one an
 * incremental update: the bytes before it are never touched.
 *
 * - B-T.  A signature without a signature-time-stamp cannot be given one: the
 *   attribute would go inside its /Contents, and although its own /ByteRange
 *   leaves /Contents out, every later revision's signature covers those bytes,
 *   so rewriting them breaks the signatures that follow and changes a
 *   revision other readers have already seen.  PAdES-BASELINE-T is also met
 *   by a document timestamp over the signed revision (EN 319 142-1, 6.3), so
 *   that is what is added.
 * - B-LT.  A /DSS in the catalog (ISO 32000-2, 12.8.4.3): /Certs, /OCSPs and
 *   /CRLs arrays of streams holding the DER, and a /VRI entry for each
 *   signature and document timestamp whose data was gathered, keyed by the
 *   upper-case hex SHA-1 of its CMS (the /Contents bytes without the zero
 *   padding), naming the streams its paths use.  An existing DSS is kept and
 *   added to, always as a new object: a validator then sees only the catalog's
 *   /DSS change, which PAdES permits after any signature.
 * - B-LTA.  A document timestamp after the DSS.  When the file has document
 *   timestamps already, the last one's TSA gets its validation data first
 *   (renewal), then a new one covers it all.
 *
 * What already holds is not gathered again: a signature covered by a document
 * timestamp, with its VRI entry in the DSS, is protected by that timestamp
 * (its certificates may have expired since, and their responders stopped
 * answering for them); an earlier document timestamp is protected by the
 * later one.
 *
 * Each step writes a whole file beside the output, read back by the next
 * step; the last one is renamed into place and the others removed, so a
 * failure anywhere leaves the output and the input as they were.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "pdf.h"
#include "../ltv/ltv.h"

#define LT_MAX_SIGS 1024      /* signatures and document timestamps of one file that are extended */

/* A signature or document timestamp of the file. */
typedef struct lt_sig {
	char field[128];
	int doc_ts;               /* a document timestamp (/SubFilter /ETSI.RFC3161) */
	unsigned char *der;       /* its CMS, without /Contents' padding */
	size_t len;
	uint64_t end;             /* where the revision it signs ends */
	char vri[41];             /* its /VRI key */
	int has_vri;              /* the DSS has an entry for it */
} lt_sig;

typedef struct lt_list {
	lt_sig *v;
	size_t n;
	pdf_obj *vri;             /* the DSS's /VRI while scanning (borrowed) */
	uint64_t size;            /* file size */
} lt_list;

static void lt_list_clear(lt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].der);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The length of the DER TLV at @p (at most @n bytes), or 0 when it is not one. */
static size_t der_length(const unsigned char *p, size_t n)
{
	size_t len = 0, k, i;

	if (n < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		len = p[1], k = 0;
	else if ((k = p[1] & 0x7f) == 0 || k > 4 || n < 2 + k)
		return 0;
	for (i = 0; i < k; i++)
		len = len << 8 | p[2 + i];
	return len <= n - 2 - k ? len + 2 + k : 0;
}

/* The /VRI key: the upper-case hex SHA-1 of the CMS. */
static int vri_key(const unsigned char *der, size_t len, char key[41])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[20];
	unsigned int mdlen = 0;
	size_t i;

	if (!EVP_Digest(der, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != sizeof(md))
		return eid_error__ossl(EID_EINTERNAL, "SHA-1 failed");
	for (i = 0; i < sizeof(md); i++) {
		key[2 * i] = hex[md[i] >> 4];
		key[2 * i + 1] = hex[md[i] & 15];
	}
	key[40] = '\0';
	return EID_OK;
}

static int on_field(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	lt_list *l = ctx;
	pdf_obj *v, *sub, *br, *contents, *t;
	lt_sig *grown, *s;
	int64_t r[4];
	size_t i, len;
	int rc;

	(void)item;
	if (ft == NULL || strcmp(ft, "Sig") != 0 || pdf_dict_get(f, "V") == NULL)
		return 0;
	v = pdf_doc_resolve(doc, pdf_dict_get(f, "V"));
	eid_error_clear();
	if (v == NULL || v->type != PDF_DICT)
		return 0;
	t = pdf_doc_resolve(doc, pdf_dict_get(f, "T"));
	sub = pdf_doc_resolve(doc, pdf_dict_get(v, "SubFilter"));
	br = pdf_doc_resolve(doc, pdf_dict_get(v, "ByteRange"));
	contents = pdf_doc_resolve(doc, pdf_dict_get(v, "Contents"));
	eid_error_clear();
	if (!pdf_name_is(sub, "ETSI.RFC3161") && !pdf_name_is(sub, "ETSI.CAdES.detached") &&
	    !pdf_name_is(sub, "adbe.pkcs7.detached")) {
		EID_LOG_W("a signature with /SubFilter /%s is not extended", sub && sub->type == PDF_NAME ? sub->u.name : "?");
		return 0;
	}
	if (l->n >= LT_MAX_SIGS)
		return eid_error__set(EID_ETOOBIG, "more than %d signatures", LT_MAX_SIGS);
	if ((grown = realloc(l->v, (l->n + 1) * sizeof(*grown))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	l->v = grown;
	s = memset(&l->v[l->n], 0, sizeof(*s));
	if (t != NULL && t->type == PDF_STRING)
		snprintf(s->field, sizeof(s->field), "%.*s", (int)(t->u.str.len < 100 ? t->u.str.len : 100), t->u.str.p);
	else
		snprintf(s->field, sizeof(s->field), "?");
	s->doc_ts = pdf_name_is(sub, "ETSI.RFC3161");
	for (i = 0; br != NULL && br->type == PDF_ARRAY && br->u.arr.n == 4 && i < 4; i++) {
		pdf_obj *x = br->u.arr.items[i];

		if (x->type != PDF_INT || x->u.i < 0)
			break;
		r[i] = x->u.i;
	}
	if (i != 4 || (uint64_t)r[2] > l->size || (uint64_t)r[3] > l->size - (uint64_t)r[2])
		return eid_error__set(EID_EFORMAT, "signature field '%s': /ByteRange is missing or malformed", s->field);
	s->end = (uint64_t)r[2] + (uint64_t)r[3];
	if (contents == NULL || contents->type != PDF_STRING ||
	    (len = der_length(contents->u.str.p, contents->u.str.len)) == 0)
		return eid_error__set(EID_EFORMAT, "signature field '%s': /Contents is not a CMS signature", s->field);
	if ((s->der = malloc(len)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	memcpy(s->der, contents->u.str.p, len);
	s->len = len;
	l->n++;
	if ((rc = vri_key(s->der, s->len, s->vri)) < 0)
		return rc;
	s->has_vri = l->vri != NULL && pdf_dict_get(l->vri, s->vri) != NULL;
	return 0;
}

/* The signatures and document timestamps of @path. */
static int scan(const char *path, lt_list *l)
{
	pdf_doc *doc = NULL;
	pdf_obj *root, *dss;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = pdf_doc_open(&doc, path)) < 0)
		return rc;
	if (doc->recovered) {
		pdf_doc_free(doc);
		return eid_error__set(EID_EFORMAT, "'%s' has a damaged cross-reference table; repair it (for example with "
						   "qpdf) before extending its signatures", path);
	}
	l->size = doc->size;
	root = pdf_doc_root(doc);
	dss = root ? pdf_doc_resolve(doc, pdf_dict_get(root, "DSS")) : NULL;
	l->vri = dss != NULL && dss->type == PDF_DICT ? pdf_doc_resolve(doc, pdf_dict_get(dss, "VRI")) : NULL;
	if (l->vri != NULL && l->vri->type != PDF_DICT)
		l->vri = NULL;
	eid_error_clear();
	rc = pdf_doc_fields(doc, on_field, l);
	l->vri = NULL;
	pdf_doc_free(doc);
	if (rc < 0)
		lt_list_clear(l);
	return rc < 0 ? rc : EID_OK;
}

/* Is @s covered by a document timestamp of @l? */
static int covered(const lt_list *l, const lt_sig *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].doc_ts && &l->v[i] != s && l->v[i].end >= s->end)
			return 1;
	return 0;
}

/* The newest document timestamp, or NULL. */
static const lt_sig *last_doc_ts(const lt_list *l)
{
	const lt_sig *last = NULL;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].doc_ts && (last == NULL || l->v[i].end > last->end))
			last = &l->v[i];
	return last;
}

static CMS_ContentInfo *parse_cms(const lt_sig *s)
{
	const unsigned char *p = s->der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)s->len);

	if (cms == NULL || CMS_get0_SignerInfos(cms) == NULL || sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) < 1) {
		CMS_ContentInfo_free(cms);
		eid_error__ossl(EID_EFORMAT, "signature field '%s': /Contents is not a CMS signature", s->field);
		return NULL;
	}
	return cms;
}

/* Has every signer of @s a signature-time-stamp?  1, 0, or a negative error. */
static int has_sig_timestamp(const lt_sig *s)
{
	CMS_ContentInfo *cms = parse_cms(s);
	STACK_OF(CMS_SignerInfo) *sis;
	int i, all = 1;

	if (cms == NULL)
		return eid_error_last()->code;
	sis = CMS_get0_SignerInfos(cms);
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++)
		if (CMS_unsigned_get_attr_by_NID(sk_CMS_SignerInfo_value(sis, i), NID_id_smime_aa_timeStampToken, -1) < 0)
			all = 0;
	CMS_ContentInfo_free(cms);
	return all;
}

/* The validation data of a signature: its signers' paths and their timestamps' TSAs' paths. */
static int collect_sig(eid_vdata *v, eid_online *online, const lt_sig *s)
{
	CMS_ContentInfo *cms = parse_cms(s);
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs;
	int i, j, k, rc = EID_OK;

	if (cms == NULL)
		return eid_error_last()->code;
	sis = CMS_get0_SignerInfos(cms);
	certs = CMS_get1_certs(cms);
	for (i = 0; rc == EID_OK && i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		X509 *signer = NULL;

		for (j = 0; signer == NULL && j < sk_X509_num(certs); j++)
			if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, j)) == 0)
				signer = sk_X509_value(certs, j);
		if (signer == NULL) {
			rc = eid_error__set(EID_ECERT, "signature field '%s' does not carry its signer's certificate",
					    s->field);
			break;
		}
		if ((rc = eid_vdata__collect(v, online, signer, certs)) < 0) {
			eid_error__wrap("signature field '%s'", s->field);
			break;
		}
		for (k = -1; rc == EID_OK && (k = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, k)) >= 0;) {
			X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, k);
			ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);

			if (X509_ATTRIBUTE_count(a) != 1 || t == NULL || t->type != V_ASN1_SEQUENCE) {
				rc = eid_error__set(EID_EFORMAT, "signature field '%s': a signature timestamp is malformed",
						    s->field);
				break;
			}
			if ((rc = eid_vdata__collect_token(v, online, t->value.sequence->data,
							   (size_t)t->value.sequence->length)) < 0)
				eid_error__wrap("signature field '%s', its signature timestamp", s->field);
		}
	}
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

/* ---- the DSS revision ---- */

enum { K_CERT, K_OCSP, K_CRL, K_N };
static const char *const dss_key[K_N] = { "Certs", "OCSPs", "CRLs" };
static const char *const vri_key_of[K_N] = { "Cert", "OCSP", "CRL" };

typedef struct dss_item {
	int kind;
	unsigned char sha[32];
	uint32_t num;
} dss_item;

typedef struct dss_build {
	pdf_doc *doc;
	pdf_update u;
	uint32_t size;            /* the next free object number */
	dss_item *items;          /* every stream of the new DSS, to add nothing twice */
	size_t n;
	pdf_obj *arr[K_N];        /* the new /Certs, /OCSPs, /CRLs */
} dss_build;

static int item_add(dss_build *b, int kind, const unsigned char sha[32], uint32_t num)
{
	dss_item *grown = realloc(b->items, (b->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	b->items = grown;
	grown[b->n].kind = kind;
	memcpy(grown[b->n].sha, sha, 32);
	grown[b->n++].num = num;
	return EID_OK;
}

/* The existing DSS's streams of one kind: kept as they are, and remembered by their content. */
static int keep_existing(dss_build *b, const pdf_obj *dss, int kind)
{
	pdf_obj *arr = pdf_doc_resolve(b->doc, pdf_dict_get(dss, dss_key[kind]));
	eid_buf data = EID_BUF_INIT;
	unsigned char sha[32];
	size_t i;
	int rc = EID_OK;

	eid_error_clear();
	if (arr == NULL || arr->type != PDF_ARRAY)
		return EID_OK;
	for (i = 0; i < arr->u.arr.n && i < PDF_MAX_DSS_ITEMS && rc == EID_OK; i++) {
		pdf_obj *ref = arr->u.arr.items[i], *st;

		if (ref->type != PDF_REF)
			continue; /* a stream is always indirect: not one */
		rc = pdf_array_push(b->arr[kind], pdf_ref_new(ref->u.ref.num, ref->u.ref.gen));
		st = pdf_doc_resolve(b->doc, ref);
		data.len = 0; /* the reader appends */
		if (rc == EID_OK && st != NULL && st->type == PDF_STREAM &&
		    pdf_doc_stream_data(b->doc, st, PDF_MAX_DSS_ITEM, &data) == EID_OK &&
		    EVP_Digest(data.data, data.len, sha, NULL, EVP_sha256(), NULL))
			rc = item_add(b, kind, sha, ref->u.ref.num);
		eid_error_clear();
	}
	eid_buf_clear(&data);
	return rc;
}

/* The stream holding @der (added when the DSS has none with these bytes), its number into @num. */
static int dss_stream(dss_build *b, int kind, const unsigned char *der, size_t len, uint32_t *num)
{
	unsigned char sha[32];
	size_t i;
	int rc;

	if (!EVP_Digest(der, len, sha, NULL, EVP_sha256(), NULL))
		return eid_error__ossl(EID_EINTERNAL, "SHA-256 failed");
	for (i = 0; i < b->n; i++)
		if (b->items[i].kind == kind && memcmp(b->items[i].sha, sha, 32) == 0) {
			*num = b->items[i].num;
			return EID_OK;
		}
	if (b->size >= PDF_MAX_OBJNUM)
		return eid_error__set(EID_ETOOBIG, "too many objects to add the validation data");
	*num = b->size++;
	if ((rc = pdf_update_begin(&b->u, *num, 0)) < 0 ||
	    (rc = eid_buf__printf(&b->u.body, "<< /Length %zu >>\nstream\n", len)) < 0 ||
	    (rc = eid_buf__append(&b->u.body, der, len)) < 0 || (rc = eid_buf__puts(&b->u.body, "\nendstream\nendobj\n")) < 0)
		return rc;
	if ((rc = item_add(b, kind, sha, *num)) < 0)
		return rc;
	return pdf_array_push(b->arr[kind], pdf_ref_new(*num, 0));
}

/* One element of @v as DER (OpenSSL's buffer, freed by the caller). */
static int element_der(const eid_vdata *v, int kind, int i, unsigned char **der)
{
	int n = kind == K_CERT ? i2d_X509(sk_X509_value(v->certs, i), der)
		: kind == K_OCSP ? i2d_OCSP_RESPONSE(sk_OCSP_RESPONSE_value(v->ocsps, i), der)
				 : i2d_X509_CRL(sk_X509_CRL_value(v->crls, i), der);

	if (n <= 0)
		return eid_error__ossl(EID_EINTERNAL, "cannot encode the validation data");
	return n;
}

static int element_count(const eid_vdata *v, int kind)
{
	return kind == K_CERT ? sk_X509_num(v->certs) : kind == K_OCSP ? sk_OCSP_RESPONSE_num(v->ocsps)
								       : sk_X509_CRL_num(v->crls);
}

static int ref_in(const pdf_obj *arr, uint32_t num)
{
	size_t i;

	for (i = 0; i < arr->u.arr.n; i++)
		if (arr->u.arr.items[i]->type == PDF_REF && arr->u.arr.items[i]->u.ref.num == num)
			return 1;
	return 0;
}

/* The VRI entry of @s: the streams of @v, and those its old entry named. */
static int vri_entry(dss_build *b, pdf_obj *vri, const lt_sig *s, const eid_vdata *v)
{
	pdf_obj *e = pdf_obj_new(PDF_DICT), *old = pdf_doc_resolve(b->doc, pdf_dict_get(vri, s->vri)), *arr;
	unsigned char *der;
	uint32_t num = 0;
	int kind, i, n, rc = e != NULL ? EID_OK : eid_error__set(EID_ENOMEM, NULL);
	size_t j;

	eid_error_clear();
	if (rc == EID_OK)
		rc = pdf_dict_set(e, "Type", pdf_name_new("VRI"));
	for (kind = 0; kind < K_N && rc == EID_OK; kind++) {
		pdf_obj *was = old != NULL && old->type == PDF_DICT ? pdf_doc_resolve(b->doc, pdf_dict_get(old, vri_key_of[kind]))
								    : NULL;

		eid_error_clear();
		if ((arr = pdf_obj_new(PDF_ARRAY)) == NULL) {
			rc = eid_error__set(EID_ENOMEM, NULL);
			break;
		}
		for (i = 0; i < element_count(v, kind) && rc == EID_OK; i++) {
			der = NULL;
			if ((n = element_der(v, kind, i, &der)) < 0) {
				rc = n;
				break;
			}
			rc = dss_stream(b, kind, der, (size_t)n, &num);
			OPENSSL_free(der);
			if (rc == EID_OK && !ref_in(arr, num))
				rc = pdf_array_push(arr, pdf_ref_new(num, 0));
		}
		for (j = 0; was != NULL && was->type == PDF_ARRAY && j < was->u.arr.n && rc == EID_OK; j++)
			if (was->u.arr.items[j]->type == PDF_REF && !ref_in(arr, was->u.arr.items[j]->u.ref.num))
				rc = pdf_array_push(arr, pdf_obj_clone(was->u.arr.items[j]));
		if (rc == EID_OK && arr->u.arr.n > 0) {
			rc = pdf_dict_set(e, vri_key_of[kind], arr);
			arr = NULL;
		}
		pdf_obj_free(arr);
	}
	if (rc == EID_OK) {
		rc = pdf_dict_set(vri, s->vri, e);
		e = NULL;
	}
	pdf_obj_free(e);
	return rc;
}

/* The catalog's new /DSS: the old one's entries, its streams, the new streams and VRI entries. */
static int compose_dss(dss_build *b, lt_sig *const *sigs, const eid_vdata *data, size_t n)
{
	pdf_obj *root = pdf_doc_root(b->doc), *rootref = pdf_dict_get(b->doc->trailer, "Root"), *old, *dss = NULL,
		*vri = NULL, *v, *root_copy = NULL;
	uint32_t dss_num;
	size_t i;
	int kind, rc = EID_OK;

	if (root == NULL || rootref == NULL || rootref->type != PDF_REF)
		return eid_error__set(EID_EFORMAT, "the catalog (/Root) is missing or not an indirect object");
	v = pdf_dict_get(b->doc->trailer, "Size");
	b->size = b->doc->xref_size;
	if (v != NULL && v->type == PDF_INT && v->u.i > (int64_t)b->size && v->u.i < PDF_MAX_OBJNUM)
		b->size = (uint32_t)v->u.i;
	old = pdf_doc_resolve(b->doc, pdf_dict_get(root, "DSS"));
	eid_error_clear();
	if (old != NULL && old->type != PDF_DICT)
		return eid_error__set(EID_EFORMAT, "the catalog's /DSS is not a dictionary");
	dss = old != NULL ? pdf_obj_clone(old) : pdf_obj_new(PDF_DICT);
	for (kind = 0; kind < K_N; kind++)
		b->arr[kind] = pdf_obj_new(PDF_ARRAY);
	v = old != NULL ? pdf_doc_resolve(b->doc, pdf_dict_get(old, "VRI")) : NULL;
	eid_error_clear();
	vri = v != NULL && v->type == PDF_DICT ? pdf_obj_clone(v) : pdf_obj_new(PDF_DICT);
	if (dss == NULL || vri == NULL || b->arr[0] == NULL || b->arr[1] == NULL || b->arr[2] == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	for (kind = 0; kind < K_N && rc == EID_OK && old != NULL; kind++)
		rc = keep_existing(b, old, kind);
	for (i = 0; i < n && rc == EID_OK; i++)
		rc = vri_entry(b, vri, sigs[i], &data[i]);
	if (rc == EID_OK && old == NULL)
		rc = pdf_dict_set(dss, "Type", pdf_name_new("DSS"));
	for (kind = 0; kind < K_N && rc == EID_OK; kind++) {
		rc = b->arr[kind]->u.arr.n > 0 ? pdf_dict_set(dss, dss_key[kind], b->arr[kind])
					       : (pdf_obj_free(b->arr[kind]), pdf_dict_remove(dss, dss_key[kind]), EID_OK);
		b->arr[kind] = NULL;
	}
	if (rc == EID_OK) {
		rc = pdf_dict_set(dss, "VRI", vri);
		vri = NULL;
	}
	/* a new object, never the old one redefined (see the top of the file) */
	dss_num = b->size++;
	if (rc == EID_OK && b->size >= PDF_MAX_OBJNUM)
		rc = eid_error__set(EID_ETOOBIG, "too many objects to add the validation data");
	if (rc == EID_OK)
		rc = pdf_update_object(&b->u, dss_num, 0, dss);
	if (rc == EID_OK && (root_copy = pdf_obj_clone(root)) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK)
		rc = pdf_dict_set(root_copy, "DSS", pdf_ref_new(dss_num, 0));
	if (rc == EID_OK)
		rc = pdf_update_object(&b->u, rootref->u.ref.num, pdf_doc_gen(b->doc, rootref->u.ref.num), root_copy);
	if (rc == EID_OK)
		rc = pdf_update_xref(b->doc, &b->u, &b->size);
	for (kind = 0; kind < K_N; kind++)
		pdf_obj_free(b->arr[kind]);
	pdf_obj_free(root_copy);
	pdf_obj_free(vri);
	pdf_obj_free(dss);
	return rc;
}

/* Append a revision with the DSS holding @data[i] for @sigs[i] to @in_path, into @of. */
static int write_dss(const char *in_path, eid_outfile *of, lt_sig *const *sigs, const eid_vdata *data, size_t n)
{
	dss_build b;
	unsigned char last = '\n';
	int rc;

	memset(&b, 0, sizeof(b));
	if ((rc = pdf_doc_open(&b.doc, in_path)) < 0)
		return rc;
	b.u.base = b.doc->size;
	if (b.doc->size > 0 && (rc = pdf_doc_read(b.doc, b.doc->size - 1, &last, 1)) < 0)
		goto out;
	if (last != '\n' && last != '\r' && (rc = eid_buf__puts(&b.u.body, "\n")) < 0)
		goto out;
	if ((rc = compose_dss(&b, sigs, data, n)) < 0)
		goto out;
	if (b.doc->recovered) {
		rc = eid_error__set(EID_EFORMAT, "'%s' has a damaged cross-reference table", in_path);
		goto out;
	}
	if ((rc = pdf_doc_copy(b.doc, of)) == EID_OK)
		rc = eid_io__out_write(of, b.u.body.data, b.u.body.len);
	EID_LOG_D("PAdES: a DSS of %zu streams in %zu bytes appended to '%s'", b.n, b.u.body.len, in_path);
out:
	eid_buf_clear(&b.u.body);
	free(b.u.objs);
	free(b.items);
	pdf_doc_free(b.doc);
	return rc;
}

/*
 * B-LT: gather the data of what is not protected yet (see the top of the
 * file), then write it.
 */
static int add_dss(const char *in_path, eid_outfile *of, const lt_list *l, const eid_extend_opts *o)
{
	const lt_sig *last = last_doc_ts(l);
	lt_sig *todo[LT_MAX_SIGS];
	eid_vdata *data = calloc(l->n ? l->n : 1, sizeof(*data));
	size_t i, n = 0;
	int rc = data != NULL ? EID_OK : eid_error__set(EID_ENOMEM, NULL);

	for (i = 0; i < l->n && rc == EID_OK; i++) {
		lt_sig *s = &l->v[i];

		if (s->doc_ts ? s != last : (s->has_vri && covered(l, s)))
			continue;
		EID_LOG_I("PAdES: gathering the validation data of %s '%s'", s->doc_ts ? "document timestamp" : "signature",
			  s->field);
		if (s->doc_ts && (rc = eid_vdata__collect_token(&data[n], o->online, s->der, s->len)) < 0)
			eid_error__wrap("document timestamp '%s'", s->field);
		else if (!s->doc_ts)
			rc = collect_sig(&data[n], o->online, s);
		todo[n++] = s;
	}
	if (rc == EID_OK)
		rc = write_dss(in_path, of, todo, data, n);
	for (i = 0; data != NULL && i < n; i++)
		eid_vdata__clear(&data[i]);
	free(data);
	return rc;
}

/* ---- reading a DSS back (validation) ---- */

int pdf_dss_read(pdf_doc *doc, struct eid_vdata *out)
{
	static const int kinds[K_N] = { EID_VDATA_CERT, EID_VDATA_OCSP, EID_VDATA_CRL };
	pdf_obj *root = pdf_doc_root(doc), *dss;
	eid_buf data = EID_BUF_INIT;
	size_t i, seen = 0, total = 0;
	int kind, rc = EID_OK;

	dss = root != NULL ? pdf_doc_resolve(doc, pdf_dict_get(root, "DSS")) : NULL;
	eid_error_clear();
	if (dss == NULL || dss->type != PDF_DICT)
		return EID_ENOTFOUND;
	for (kind = 0; kind < K_N && rc == EID_OK; kind++) {
		pdf_obj *arr = pdf_doc_resolve(doc, pdf_dict_get(dss, dss_key[kind]));

		eid_error_clear();
		for (i = 0; arr != NULL && arr->type == PDF_ARRAY && i < arr->u.arr.n; i++) {
			pdf_obj *st;

			if (++seen > PDF_MAX_DSS_ITEMS || total > PDF_MAX_DSS_TOTAL) {
				EID_LOG_W("the DSS holds more than %d elements or %u bytes: the rest is not read",
					  PDF_MAX_DSS_ITEMS, PDF_MAX_DSS_TOTAL);
				goto out;
			}
			st = arr->u.arr.items[i]->type == PDF_REF ? pdf_doc_resolve(doc, arr->u.arr.items[i]) : NULL;
			data.len = 0; /* the reader appends */
			if (st == NULL || st->type != PDF_STREAM ||
			    pdf_doc_stream_data(doc, st, PDF_MAX_DSS_ITEM, &data) < 0) {
				EID_LOG_W("the DSS's /%s entry %zu cannot be read: %s", dss_key[kind], i,
					  eid_error_last()->code ? eid_error_last()->message : "not a stream");
				eid_error_clear();
				continue;
			}
			total += data.len;
			rc = eid_vdata__add_der(out, kinds[kind], data.data, data.len);
			if (rc == EID_EFORMAT) {
				EID_LOG_W("the DSS's /%s entry %zu does not parse: %s", dss_key[kind], i,
					  eid_error_last()->message);
				eid_error_clear();
				rc = EID_OK;
			} else if (rc < 0) {
				goto out;
			}
		}
	}
out:
	eid_buf_clear(&data);
	return rc;
}

/* ---- the steps ---- */

int eid_pades__extend(const char *in, const char *out, const eid_extend_opts *o)
{
	eid_outfile steps[3];
	const char *cur = in;
	lt_list l;
	size_t i, nsteps = 0, nsigs = 0;
	int rc, stamp = 0;

	if ((rc = scan(cur, &l)) < 0)
		return rc;
	for (i = 0; i < l.n; i++) {
		if (l.v[i].doc_ts)
			continue;
		nsigs++;
		if ((rc = has_sig_timestamp(&l.v[i])) < 0)
			goto out;
		if (rc == 0 && !covered(&l, &l.v[i]))
			stamp = 1;
	}
	rc = EID_OK;
	if (nsigs == 0) {
		rc = eid_error__set(EID_EFORMAT, "'%s' holds no signature to extend", in);
		goto out;
	}
	/* B-T: a document timestamp over the signatures that have no signature timestamp */
	if (stamp) {
		EID_LOG_I("PAdES: a document timestamp for the signatures without a signature timestamp (B-T)");
		if ((rc = eid_io__out_open(&steps[nsteps], out)) < 0)
			goto out;
		cur = steps[nsteps++].tmp;
		if ((rc = pdf_add_doc_timestamp(in, &steps[nsteps - 1], o->online, o->hash)) < 0)
			goto out;
		lt_list_clear(&l);
		if ((rc = scan(cur, &l)) < 0)
			goto out;
	}
	if (o->level >= EID_LEVEL_B_LT) {
		if ((rc = eid_io__out_open(&steps[nsteps], out)) < 0)
			goto out;
		rc = add_dss(cur, &steps[nsteps], &l, o);
		cur = steps[nsteps++].tmp;
		if (rc < 0)
			goto out;
	}
	if (o->level == EID_LEVEL_B_LTA) {
		EID_LOG_I("PAdES: a document timestamp over the signatures and their validation data (B-LTA)");
		if ((rc = eid_io__out_open(&steps[nsteps], out)) < 0)
			goto out;
		rc = pdf_add_doc_timestamp(cur, &steps[nsteps], o->online, o->hash);
		cur = steps[nsteps++].tmp;
		if (rc < 0)
			goto out;
	}
	if (nsteps == 0) { /* already at the level asked: the same bytes */
		pdf_doc *doc = NULL;

		EID_LOG_I("PAdES: every signature of '%s' is at %s already", in, eid_level_name(o->level));
		if ((rc = eid_io__out_open(&steps[nsteps++], out)) < 0 || (rc = pdf_doc_open(&doc, in)) < 0 ||
		    (rc = pdf_doc_copy(doc, &steps[0])) < 0) {
			pdf_doc_free(doc);
			goto out;
		}
		pdf_doc_free(doc);
	}
	rc = eid_io__out_commit(&steps[--nsteps]);
out:
	for (i = 0; i < nsteps; i++)
		eid_io__out_abort(&steps[i]);
	lt_list_clear(&l);
	return rc;
}
