/*
 * Long-term levels for CAdES (ETSI EN 319 122-1): B-T, B-LT and B-LTA added
 * to an existing CMS SignedData.
 *
 * The signature is never re-encoded by OpenSSL: a decode and re-encode would
 * re-sort SET OF fields (signed attributes of another producer included) and
 * break signatures and earlier archive timestamps.  Instead a small DER
 * editor rewrites only the certificates [0] and crls [1] fields of the
 * SignedData and appends unsigned attributes to a SignerInfo; every other
 * byte stays as it was.  OpenSSL still parses the result to read what it
 * can (signer certificates, signature values, existing timestamps).
 *
 * - B-T: a signature-time-stamp over the signature value where none is.
 * - B-LT: the certificates of the signer's path and of each signature
 *   timestamp's TSA path in certificates; CRLs in crls; OCSP responses in
 *   crls as RevocationInfoChoice other [1] with id-ri-ocsp-response
 *   (RFC 5940), which makes the SignedData version 5 (RFC 5652, 5.1).
 * - B-LTA: an archive-time-stamp-v3 (5.5.3) whose token carries the
 *   ATSHashIndexV3 (5.5.2) as an unsigned attribute of its SignerInfo;
 *   renewal first adds the validation data of the last archive timestamp's
 *   TSA.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "cms.h"
#include "../ltv/ltv.h"

/* 0.4.0.1733.2.4 id-aa-ets-archiveTimestampV3 */
static const unsigned char oid_ats_v3[] = { 0x06, 0x06, 0x04, 0x00, 0x8d, 0x45, 0x02, 0x04 };
/* 0.4.0.19122.1.5 id-aa-ATSHashIndex-v3 */
static const unsigned char oid_ats_index_v3[] = { 0x06, 0x07, 0x04, 0x00, 0x81, 0x95, 0x32, 0x01, 0x05 };
/* 1.3.6.1.5.5.7.16.2 id-ri-ocsp-response */
static const unsigned char oid_ri_ocsp[] = { 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02 };
/* 1.2.840.113549.1.7.2 id-signedData */
static const unsigned char oid_signed_data[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };

#define SIG_TS NID_id_smime_aa_timeStampToken

#define TAG_INTEGER 0x02
#define TAG_OCTETS 0x04
#define TAG_OID 0x06
#define TAG_SEQ 0x30
#define TAG_SET 0x31
#define TAG_CTX0 0xa0
#define TAG_CTX1 0xa1

#define MAX_CERTS 1024      /* certificates of one SignedData */
#define MAX_REVOCATION 256  /* CRLs and OCSP responses of one SignedData */
#define MAX_ATTR_VALUES 1024 /* unsigned attribute values of one SignerInfo */
#define MAX_INDEX 4096      /* hashes in one list of an ATSHashIndexV3 */

/* ---- reading DER ---- */

int eid_der__read(const unsigned char *p, size_t avail, eid_der *out)
{
	size_t len = 0, hdr = 2, i, n;

	memset(out, 0, sizeof(*out));
	if (avail < 2)
		return eid_error__set(EID_EFORMAT, "a truncated DER element");
	if ((p[0] & 0x1f) == 0x1f)
		return eid_error__set(EID_EFORMAT, "a DER tag number above 30 where CMS has none");
	if (p[1] == 0x80)
		return eid_error__set(EID_EUNSUPPORTED, "the CMS structure is BER-encoded (indefinite lengths): only DER "
							"signatures can be extended or have archive timestamps checked");
	if (p[1] & 0x80) {
		n = p[1] & 0x7f;
		if (n > 4 || avail < 2 + n)
			return eid_error__set(EID_EFORMAT, "a DER length is too long or truncated");
		for (i = 0; i < n; i++)
			len = (len << 8) | p[2 + i];
		hdr += n;
	} else {
		len = p[1];
	}
	if (len > avail - hdr)
		return eid_error__set(EID_EFORMAT, "a DER element runs past its container");
	out->p = p;
	out->hdr = hdr;
	out->len = hdr + len;
	out->tag = p[0];
	return EID_OK;
}

int eid_der__next(const eid_der *parent, eid_der *child)
{
	const unsigned char *end = parent->p + parent->len, *at;
	int rc;

	if (!(parent->tag & 0x20))
		return eid_error__set(EID_EFORMAT, "a primitive DER element where a constructed one belongs");
	at = child->p == NULL ? parent->p + parent->hdr : child->p + child->len;
	if (at >= end)
		return 0;
	if ((rc = eid_der__read(at, (size_t)(end - at), child)) < 0)
		return rc;
	return 1;
}

/* The next child of @parent, which must have @tag (0: any). */
static int expect(const eid_der *parent, eid_der *child, unsigned int tag, const char *what)
{
	int rc = eid_der__next(parent, child);

	if (rc < 0)
		return rc;
	if (rc == 0 || (tag != 0 && child->tag != tag))
		return eid_error__set(EID_EFORMAT, "the CMS structure lacks its %s, or it is malformed", what);
	return EID_OK;
}

static int same_der(const eid_der *a, const unsigned char *b, size_t blen)
{
	return a->p != NULL && a->len == blen && memcmp(a->p, b, blen) == 0;
}

static int layout_signer(eid_cms_layout *l, size_t i)
{
	eid_der f = { NULL, 0, 0, 0 };
	size_t k = 0;
	int rc;

	l->si_unsigned[i].p = NULL;
	while ((rc = eid_der__next(&l->si[i], &f)) == 1) {
		k++;
		/* unsignedAttrs is the last field, after at least version to signature */
		if (f.tag == TAG_CTX1 && k >= 6) {
			if (f.p + f.len != l->si[i].p + l->si[i].len)
				return eid_error__set(EID_EFORMAT, "a SignerInfo has fields after its unsigned attributes");
			l->si_unsigned[i] = f;
			break;
		}
		l->si_covered[i] = (size_t)(f.p + f.len - (l->si[i].p + l->si[i].hdr));
	}
	if (rc < 0)
		return rc;
	if (k < 5)
		return eid_error__set(EID_EFORMAT, "a SignerInfo has too few fields");
	return EID_OK;
}

int eid_cms__layout(const unsigned char *der, size_t len, eid_cms_layout *l)
{
	eid_der f, wrap;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = eid_der__read(der, len, &l->ci)) < 0)
		return rc;
	if (l->ci.tag != TAG_SEQ)
		return eid_error__set(EID_EFORMAT, "not a CMS ContentInfo");
	if ((rc = expect(&l->ci, &l->ctype, TAG_OID, "content type")) < 0)
		return rc;
	if (!same_der(&l->ctype, oid_signed_data, sizeof(oid_signed_data)))
		return eid_error__set(EID_EFORMAT, "the CMS structure is not SignedData");
	wrap = l->ctype;
	if ((rc = expect(&l->ci, &wrap, TAG_CTX0, "content")) < 0)
		return rc;
	memset(&l->sd, 0, sizeof(l->sd));
	if ((rc = expect(&wrap, &l->sd, TAG_SEQ, "SignedData")) < 0)
		return rc;
	f.p = NULL;
	if ((rc = expect(&l->sd, &f, TAG_INTEGER, "version")) < 0)
		return rc;
	l->version = f;
	if ((rc = expect(&l->sd, &f, TAG_SET, "digest algorithms")) < 0)
		return rc;
	l->digest_algs = f;
	if ((rc = expect(&l->sd, &f, TAG_SEQ, "encapsulated content")) < 0)
		return rc;
	l->encap = f;
	l->econtent_type.p = NULL;
	if ((rc = expect(&l->encap, &l->econtent_type, TAG_OID, "eContentType")) < 0)
		return rc;
	if ((rc = expect(&l->sd, &f, 0, "signer infos")) < 0)
		return rc;
	if (f.tag == TAG_CTX0) {
		l->certs = f;
		if ((rc = expect(&l->sd, &f, 0, "signer infos")) < 0)
			return rc;
	}
	if (f.tag == TAG_CTX1) {
		l->crls = f;
		if ((rc = expect(&l->sd, &f, 0, "signer infos")) < 0)
			return rc;
	}
	if (f.tag != TAG_SET || f.p + f.len != l->sd.p + l->sd.len)
		return eid_error__set(EID_EFORMAT, "the SignedData's signer infos are missing or malformed");
	l->signer_infos = f;
	f.p = NULL;
	while ((rc = eid_der__next(&l->signer_infos, &f)) == 1) {
		if (l->nsi == EID_CMS_MAX_SIGNERS)
			return eid_error__set(EID_ETOOBIG, "more than %d signers", EID_CMS_MAX_SIGNERS);
		if (f.tag != TAG_SEQ)
			return eid_error__set(EID_EFORMAT, "a SignerInfo is malformed");
		l->si[l->nsi] = f;
		if ((rc = layout_signer(l, l->nsi)) < 0)
			return rc;
		l->nsi++;
	}
	if (rc < 0)
		return rc;
	if (wrap.p + wrap.len != l->ci.p + l->ci.len || l->sd.p + l->sd.len != wrap.p + wrap.len)
		return eid_error__set(EID_EFORMAT, "the ContentInfo has more than its SignedData");
	return EID_OK;
}

int eid_cms__from_pem(const unsigned char *pem, size_t len, eid_buf *der)
{
	BIO *bio = len <= EID_CMS_MAX_SIZE * 2u ? BIO_new_mem_buf(pem, (int)len) : NULL;
	unsigned char *data = NULL;
	char *name = NULL;
	long dlen = 0;
	int rc;

	/* CMS, or the older PKCS7 label */
	if (bio == NULL || PEM_bytes_read_bio(&data, &dlen, &name, PEM_STRING_CMS, bio, NULL, NULL) != 1)
		rc = eid_error__ossl(EID_EFORMAT, "not a PEM CMS signature");
	else
		rc = eid_buf_set(der, data, (size_t)dlen);
	BIO_free(bio);
	OPENSSL_free(name);
	OPENSSL_free(data);
	return rc;
}

/* ---- validation data ---- */

int eid_cms__read_vdata(const eid_cms_layout *l, eid_vdata *v)
{
	eid_der e = { NULL, 0, 0, 0 }, oid, val;
	size_t n = 0;
	int rc;

	if (l->certs.p != NULL) {
		while ((rc = eid_der__next(&l->certs, &e)) == 1) {
			if (++n > MAX_CERTS)
				return eid_error__set(EID_ETOOBIG, "more than %d certificates in the signature", MAX_CERTS);
			/* other choices (attribute certificates...) say nothing of a path */
			if (e.tag == TAG_SEQ && (rc = eid_vdata__add_der(v, EID_VDATA_CERT, e.p, e.len)) < 0)
				return rc;
		}
		if (rc < 0)
			return rc;
	}
	if (l->crls.p == NULL)
		return EID_OK;
	n = 0;
	e.p = NULL;
	while ((rc = eid_der__next(&l->crls, &e)) == 1) {
		if (++n > MAX_REVOCATION)
			return eid_error__set(EID_ETOOBIG, "more than %d revocation values in the signature", MAX_REVOCATION);
		if (e.tag == TAG_SEQ) {
			rc = eid_vdata__add_der(v, EID_VDATA_CRL, e.p, e.len);
		} else if (e.tag == TAG_CTX1) {
			/* OtherRevocationInfoFormat, IMPLICIT: otherRevInfoFormat then otherRevInfo */
			oid.p = NULL;
			if ((rc = expect(&e, &oid, TAG_OID, "other revocation format")) < 0)
				return rc;
			if (!same_der(&oid, oid_ri_ocsp, sizeof(oid_ri_ocsp)))
				continue;
			val = oid;
			if ((rc = expect(&e, &val, TAG_SEQ, "OCSP response")) < 0)
				return rc;
			rc = eid_vdata__add_der(v, EID_VDATA_OCSP, val.p, val.len);
		} else {
			continue;
		}
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? rc : EID_OK;
}

/* ---- archive-time-stamp-v3 ---- */

/* The next Attribute of an attributes field: its type and values SET. */
static int next_attr(const eid_der *attrs, eid_der *attr, eid_der *type, eid_der *values)
{
	int rc = eid_der__next(attrs, attr);

	if (rc <= 0)
		return rc;
	if (attr->tag != TAG_SEQ)
		return eid_error__set(EID_EFORMAT, "an attribute is malformed");
	type->p = NULL;
	if ((rc = expect(attr, type, TAG_OID, "attribute type")) < 0)
		return rc;
	*values = *type;
	if ((rc = expect(attr, values, TAG_SET, "attribute values")) < 0)
		return rc;
	return 1;
}

int eid_cms__archive_tokens(const eid_cms_layout *l, size_t si, eid_der *tokens, size_t max, size_t *n)
{
	eid_der a = { NULL, 0, 0, 0 }, type, values, v;
	int rc;

	*n = 0;
	if (l->si_unsigned[si].p == NULL)
		return EID_OK;
	while ((rc = next_attr(&l->si_unsigned[si], &a, &type, &values)) == 1) {
		if (!same_der(&type, oid_ats_v3, sizeof(oid_ats_v3)))
			continue;
		v.p = NULL;
		while ((rc = eid_der__next(&values, &v)) == 1) {
			if (*n == max)
				return eid_error__set(EID_ETOOBIG, "more than %zu archive timestamps", max);
			tokens[(*n)++] = v;
		}
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? rc : EID_OK;
}

int eid_cms__ats_index(const unsigned char *token, size_t len, eid_der *index)
{
	eid_cms_layout *l = malloc(sizeof(*l));
	eid_der a = { NULL, 0, 0, 0 }, type, values, v;
	int rc, found = 0;

	if (l == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if ((rc = eid_cms__layout(token, len, l)) < 0)
		goto out;
	rc = eid_error__set(EID_ENOTFOUND, "the archive timestamp has no ats-hash-index-v3 attribute");
	if (l->nsi != 1 || l->si_unsigned[0].p == NULL)
		goto out;
	while ((rc = next_attr(&l->si_unsigned[0], &a, &type, &values)) == 1) {
		if (!same_der(&type, oid_ats_index_v3, sizeof(oid_ats_index_v3)))
			continue;
		v.p = NULL;
		if (found++ || eid_der__next(&values, &v) != 1 || v.tag != TAG_SEQ ||
		    v.p + v.len != values.p + values.len) {
			rc = eid_error__set(EID_EFORMAT, "the archive timestamp's ats-hash-index-v3 is repeated or malformed");
			goto out;
		}
		*index = v;
	}
	if (rc == 0)
		rc = found ? EID_OK
			   : eid_error__set(EID_ENOTFOUND, "the archive timestamp has no ats-hash-index-v3 attribute");
out:
	free(l);
	return rc;
}

/*
 * The hashes (with @md, of @size bytes) of the elements an ATSHashIndexV3
 * indexes; each in a zero-padded slot of EVP_MAX_MD_SIZE bytes so that one
 * comparison function serves every hash (qsort has no context argument).
 */
typedef struct hash_set {
	unsigned char *h;
	size_t n, size;
} hash_set;

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, EVP_MAX_MD_SIZE);
}

static int hash_set_add(hash_set *s, const EVP_MD *md, const unsigned char *a, size_t alen, const unsigned char *b,
			size_t blen)
{
	EVP_MD_CTX *ctx;
	unsigned char *grown;
	int ok;

	if ((s->n & 63) == 0) {
		grown = realloc(s->h, (s->n + 64) * EVP_MAX_MD_SIZE);
		if (grown == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		s->h = grown;
	}
	memset(s->h + s->n * EVP_MAX_MD_SIZE, 0, EVP_MAX_MD_SIZE);
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, a, alen) &&
	     (blen == 0 || EVP_DigestUpdate(ctx, b, blen)) &&
	     EVP_DigestFinal_ex(ctx, s->h + s->n * EVP_MAX_MD_SIZE, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return eid_error__ossl(EID_EINTERNAL, "digest failed");
	s->n++;
	return EID_OK;
}

/* Each child TLV of @field (absent: none). */
static int hash_children(hash_set *s, const EVP_MD *md, const eid_der *field, size_t max)
{
	eid_der e = { NULL, 0, 0, 0 };
	int rc;

	if (field->p == NULL)
		return EID_OK;
	while ((rc = eid_der__next(field, &e)) == 1) {
		if (s->n >= max)
			return eid_error__set(EID_ETOOBIG, "more than %zu elements to index", max);
		if ((rc = hash_set_add(s, md, e.p, e.len, NULL, 0)) < 0)
			return rc;
	}
	return rc;
}

/* Each value of each unsigned attribute: the hash of attrType's TLV then the value's (5.5.2). */
static int hash_attr_values(hash_set *s, const EVP_MD *md, const eid_der *attrs)
{
	eid_der a = { NULL, 0, 0, 0 }, type, values, v;
	int rc;

	if (attrs->p == NULL)
		return EID_OK;
	while ((rc = next_attr(attrs, &a, &type, &values)) == 1) {
		v.p = NULL;
		while ((rc = eid_der__next(&values, &v)) == 1) {
			if (s->n >= MAX_ATTR_VALUES)
				return eid_error__set(EID_ETOOBIG, "more than %d unsigned attribute values", MAX_ATTR_VALUES);
			if ((rc = hash_set_add(s, md, type.p, type.len, v.p, v.len)) < 0)
				return rc;
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* Whether each OCTET STRING of the SEQUENCE @list is in @s; @what names the list in @why. */
static int index_list_holds(const hash_set *s, const eid_der *list, const char *what, char *why, size_t why_size)
{
	eid_der e = { NULL, 0, 0, 0 };
	unsigned char key[EVP_MAX_MD_SIZE];
	size_t n = 0;
	int rc;

	while ((rc = eid_der__next(list, &e)) == 1) {
		if (++n > MAX_INDEX) {
			snprintf(why, why_size, "its hash index lists more than %d %s", MAX_INDEX, what);
			return 0;
		}
		if (e.tag != TAG_OCTETS || e.len - e.hdr != s->size) {
			snprintf(why, why_size, "its hash index is malformed (%s)", what);
			return 0;
		}
		memset(key, 0, sizeof(key));
		memcpy(key, e.p + e.hdr, s->size);
		if (s->n == 0 || bsearch(key, s->h, s->n, EVP_MAX_MD_SIZE, hash_cmp) == NULL) {
			snprintf(why, why_size, "it covers %s no longer in the signature", what);
			return 0;
		}
	}
	if (rc < 0) {
		eid_error_clear();
		snprintf(why, why_size, "its hash index is malformed (%s)", what);
		return 0;
	}
	return 1;
}

int eid_cms__ats_index_holds(const eid_cms_layout *l, size_t si, const eid_der *index, char *why, size_t why_size)
{
	eid_der f = { NULL, 0, 0, 0 }, lists[3];
	const EVP_MD *md = EVP_sha256();
	hash_set sets[3];
	const char *what[3] = { "a certificate", "a revocation value", "an unsigned attribute" };
	size_t k = 0, i;
	int rc = EID_OK, ok = 0, seen_alg = 0;

	memset(sets, 0, sizeof(sets));
	/* hashIndAlgorithm (DEFAULT SHA-256 in the clause, always present in Annex D), then three lists */
	while (k < 3 && (rc = eid_der__next(index, &f)) == 1) {
		if (k == 0 && !seen_alg && f.tag == TAG_SEQ && f.len > f.hdr && f.p[f.hdr] == TAG_OID) {
			const unsigned char *p = f.p;
			X509_ALGOR *a = d2i_X509_ALGOR(NULL, &p, (long)f.len);

			md = a != NULL ? EVP_get_digestbyobj(a->algorithm) : NULL;
			X509_ALGOR_free(a);
			ERR_clear_error();
			if (md == NULL) {
				snprintf(why, why_size, "its hash index uses an unknown hash algorithm");
				return 0;
			}
			seen_alg = 1;
			continue;
		}
		if (f.tag != TAG_SEQ)
			break;
		lists[k++] = f;
	}
	if (rc < 0 || k != 3 || eid_der__next(index, &f) != 0) {
		eid_error_clear();
		snprintf(why, why_size, "its ats-hash-index-v3 is malformed");
		return 0;
	}
	for (i = 0; i < 3; i++)
		sets[i].size = (size_t)EVP_MD_get_size(md);
	if ((rc = hash_children(&sets[0], md, &l->certs, MAX_CERTS)) < 0 ||
	    (rc = hash_children(&sets[1], md, &l->crls, MAX_REVOCATION)) < 0 ||
	    (rc = hash_attr_values(&sets[2], md, &l->si_unsigned[si])) < 0)
		goto out;
	for (i = 0; i < 3; i++)
		if (sets[i].n > 0)
			qsort(sets[i].h, sets[i].n, EVP_MAX_MD_SIZE, hash_cmp);
	ok = 1;
	for (i = 0; i < 3 && ok; i++)
		ok = index_list_holds(&sets[i], &lists[i], what[i], why, why_size);
out:
	for (i = 0; i < 3; i++)
		free(sets[i].h);
	return rc < 0 ? rc : ok;
}

int eid_cms__ats_input(const eid_cms_layout *l, size_t si, const unsigned char *content_hash, size_t hlen,
		       const eid_der *index, eid_buf *out)
{
	int rc;

	out->len = 0;
	/* eContentType, the content's hash, version to signature as they are, the ATSHashIndexV3 */
	if ((rc = eid_buf__append(out, l->econtent_type.p, l->econtent_type.len)) < 0 ||
	    (rc = eid_buf__append(out, content_hash, hlen)) < 0 ||
	    (rc = eid_buf__append(out, l->si[si].p + l->si[si].hdr, l->si_covered[si])) < 0 ||
	    (rc = eid_buf__append(out, index->p, index->len)) < 0)
		return rc;
	return EID_OK;
}

/* ---- writing DER ---- */

static int put_tl(eid_buf *b, unsigned int tag, size_t len)
{
	unsigned char h[6];
	size_t n = 0;
	int bytes, i;

	h[n++] = (unsigned char)tag;
	if (len < 0x80) {
		h[n++] = (unsigned char)len;
	} else {
		bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
		h[n++] = (unsigned char)(0x80 | bytes);
		for (i = bytes - 1; i >= 0; i--)
			h[n++] = (unsigned char)(len >> (8 * i));
	}
	return eid_buf__append(b, h, n);
}

/* TAG { content } appended to @b. */
static int put_wrapped(eid_buf *b, unsigned int tag, const eid_buf *content)
{
	int rc = put_tl(b, tag, content->len);

	return rc < 0 ? rc : eid_buf__append(b, content->data, content->len);
}

/* What an extension adds to a SignedData. */
typedef struct cms_additions {
	eid_buf certs;                       /* CertificateChoices, concatenated */
	eid_buf crls;                        /* RevocationInfoChoices, concatenated */
	eid_buf attrs[EID_CMS_MAX_SIGNERS];  /* Attributes appended to each SignerInfo's unsignedAttrs */
} cms_additions;

static void additions_free(cms_additions *a)
{
	size_t i;

	if (a == NULL)
		return;
	eid_buf_clear(&a->certs);
	eid_buf_clear(&a->crls);
	for (i = 0; i < EID_CMS_MAX_SIGNERS; i++)
		eid_buf_clear(&a->attrs[i]);
	free(a);
}

typedef struct span {
	const unsigned char *p;
	size_t len;
} span;

/* DER order of SET OF members: as octet strings, a shorter one first on a common prefix. */
static int span_cmp(const void *a, const void *b)
{
	const span *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * The SET OF field @old (absent: p NULL) with the TLVs of @add joined:
 * each element once, in DER order.  Nothing added: @old as it is.
 */
static int put_merged_set(eid_buf *b, unsigned int tag, const eid_der *old, const eid_buf *add, size_t max)
{
	eid_der e = { NULL, 0, 0, 0 }, whole;
	span *items = NULL;
	size_t n = 0, i, j, total = 0;
	eid_buf content = EID_BUF_INIT;
	const unsigned char *at;
	int rc = EID_OK, dup;

	if (add->len == 0)
		return old->p == NULL ? EID_OK : eid_buf__append(b, old->p, old->len);
	if ((items = calloc(max, sizeof(*items))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if (old->p != NULL) {
		while ((rc = eid_der__next(old, &e)) == 1) {
			if (n == max) {
				rc = eid_error__set(EID_ETOOBIG, "more than %zu certificates or revocation values", max);
				goto out;
			}
			items[n].p = e.p;
			items[n++].len = e.len;
		}
		if (rc < 0)
			goto out;
	}
	for (at = add->data; at < add->data + add->len; at += whole.len) {
		if ((rc = eid_der__read(at, (size_t)(add->data + add->len - at), &whole)) < 0)
			goto out;
		for (dup = 0, j = 0; j < n && !dup; j++)
			dup = items[j].len == whole.len && memcmp(items[j].p, whole.p, whole.len) == 0;
		if (dup)
			continue;
		if (n == max) {
			rc = eid_error__set(EID_ETOOBIG, "more than %zu certificates or revocation values", max);
			goto out;
		}
		items[n].p = whole.p;
		items[n++].len = whole.len;
	}
	qsort(items, n, sizeof(*items), span_cmp);
	for (i = 0; i < n; i++)
		total += items[i].len;
	if ((rc = eid_buf__reserve(&content, total)) < 0)
		goto out;
	for (i = 0; i < n && rc == EID_OK; i++)
		rc = eid_buf__append(&content, items[i].p, items[i].len);
	if (rc == EID_OK)
		rc = put_wrapped(b, tag, &content);
out:
	eid_buf_clear(&content);
	free(items);
	return rc;
}

/* SignerInfo @i with @add appended to its unsigned attributes (which come to be when absent). */
static int put_signer(eid_buf *b, const eid_cms_layout *l, size_t i, const eid_buf *add)
{
	eid_buf si = EID_BUF_INIT, ua = EID_BUF_INIT;
	const eid_der *old = &l->si_unsigned[i];
	int rc;

	if (add->len == 0)
		return eid_buf__append(b, l->si[i].p, l->si[i].len);
	/* appended, not sorted: the attributes already there keep their bytes and order */
	if ((rc = eid_buf__append(&si, l->si[i].p + l->si[i].hdr, l->si_covered[i])) == EID_OK &&
	    (old->p == NULL || (rc = eid_buf__append(&ua, old->p + old->hdr, old->len - old->hdr)) == EID_OK) &&
	    (rc = eid_buf__append(&ua, add->data, add->len)) == EID_OK &&
	    (rc = put_wrapped(&si, TAG_CTX1, &ua)) == EID_OK)
		rc = put_wrapped(b, TAG_SEQ, &si);
	eid_buf_clear(&si);
	eid_buf_clear(&ua);
	return rc;
}

/* Whether a RevocationInfoChoices field (old and added) holds an `other` choice. */
static int has_other(const eid_der *old, const eid_buf *add)
{
	eid_der e = { NULL, 0, 0, 0 };
	const unsigned char *at;

	if (old->p != NULL)
		while (eid_der__next(old, &e) == 1)
			if (e.tag == TAG_CTX1)
				return 1;
	for (at = add->data; at != NULL && at < add->data + add->len; at += e.len) {
		if (eid_der__read(at, (size_t)(add->data + add->len - at), &e) < 0)
			break;
		if (e.tag == TAG_CTX1)
			return 1;
	}
	eid_error_clear();
	return 0;
}

/* The ContentInfo of @l with @a added, into @out. */
static int rebuild(const eid_cms_layout *l, const cms_additions *a, eid_buf *out)
{
	static const unsigned char v5[] = { TAG_INTEGER, 0x01, 0x05 };
	eid_buf sd = EID_BUF_INIT, sis = EID_BUF_INIT, tmp = EID_BUF_INIT;
	size_t i;
	int rc;

	/* RFC 5652, 5.1: version 5 once crls holds an `other` choice */
	if (a->crls.len > 0 && has_other(&l->crls, &a->crls))
		rc = eid_buf__append(&sd, v5, sizeof(v5));
	else
		rc = eid_buf__append(&sd, l->version.p, l->version.len);
	if (rc < 0 || (rc = eid_buf__append(&sd, l->digest_algs.p, l->digest_algs.len)) < 0 ||
	    (rc = eid_buf__append(&sd, l->encap.p, l->encap.len)) < 0 ||
	    (rc = put_merged_set(&sd, TAG_CTX0, &l->certs, &a->certs, MAX_CERTS)) < 0 ||
	    (rc = put_merged_set(&sd, TAG_CTX1, &l->crls, &a->crls, MAX_REVOCATION)) < 0)
		goto out;
	for (i = 0; i < l->nsi; i++)
		if ((rc = put_signer(&sis, l, i, &a->attrs[i])) < 0)
			goto out;
	if ((rc = put_wrapped(&sd, TAG_SET, &sis)) < 0)
		goto out;
	/* ContentInfo { contentType, [0] { SignedData } } */
	eid_buf_clear(&sis);
	if ((rc = put_wrapped(&sis, TAG_SEQ, &sd)) < 0 || (rc = eid_buf__append(&tmp, l->ctype.p, l->ctype.len)) < 0 ||
	    (rc = put_wrapped(&tmp, TAG_CTX0, &sis)) < 0)
		goto out;
	out->len = 0;
	rc = put_wrapped(out, TAG_SEQ, &tmp);
out:
	eid_buf_clear(&sd);
	eid_buf_clear(&sis);
	eid_buf_clear(&tmp);
	return rc;
}

/* Attribute { type, SET { value } } appended to @b. */
static int put_attr(eid_buf *b, const unsigned char *type, size_t tlen, const unsigned char *value, size_t vlen)
{
	eid_buf a = EID_BUF_INIT, set = EID_BUF_INIT;
	int rc;

	if ((rc = eid_buf__append(&set, value, vlen)) == EID_OK && (rc = eid_buf__append(&a, type, tlen)) == EID_OK &&
	    (rc = put_wrapped(&a, TAG_SET, &set)) == EID_OK)
		rc = put_wrapped(b, TAG_SEQ, &a);
	eid_buf_clear(&a);
	eid_buf_clear(&set);
	return rc;
}

/* ---- extending ---- */

typedef struct ext_ctx {
	const eid_extend_opts *o;
	eid_hash hash;
	const EVP_MD *md;
	eid_buf cur;             /* the signature as it stands */
	eid_cms_layout *l;       /* its layout */
	CMS_ContentInfo *cms;    /* its parse */
	STACK_OF(X509) *certs;   /* its certificates */
} ext_ctx;

static void ctx_release(ext_ctx *c)
{
	CMS_ContentInfo_free(c->cms);
	sk_X509_pop_free(c->certs, X509_free);
	c->cms = NULL;
	c->certs = NULL;
}

/* Parse c->cur, both ways. */
static int ctx_parse(ext_ctx *c)
{
	const unsigned char *p = c->cur.data;
	int rc;

	ctx_release(c);
	if ((rc = eid_cms__layout(c->cur.data, c->cur.len, c->l)) < 0)
		return rc;
	if (c->l->ci.len != c->cur.len)
		return eid_error__set(EID_EFORMAT, "%zu bytes of garbage after the CMS structure",
				      c->cur.len - c->l->ci.len);
	c->cms = d2i_CMS_ContentInfo(NULL, &p, (long)c->cur.len);
	if (c->cms == NULL || p != c->cur.data + c->cur.len)
		return eid_error__ossl(EID_EFORMAT, "not a CMS signature, or a truncated or corrupted one");
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(c->cms)) != (int)c->l->nsi || c->l->nsi == 0)
		return eid_error__set(EID_EFORMAT, "the SignedData has no signer");
	if ((c->certs = CMS_get1_certs(c->cms)) == NULL && (c->certs = sk_X509_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	ERR_clear_error();
	return EID_OK;
}

/* Apply @a to c->cur and parse the result. */
static int ctx_apply(ext_ctx *c, const cms_additions *a)
{
	eid_buf next = EID_BUF_INIT;
	int rc;

	if ((rc = rebuild(c->l, a, &next)) < 0) {
		eid_buf_clear(&next);
		return rc;
	}
	eid_buf_clear(&c->cur);
	c->cur = next;
	return ctx_parse(c);
}

static CMS_SignerInfo *signer_info(ext_ctx *c, size_t i)
{
	return sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(c->cms), (int)i);
}

static X509 *signer_cert(ext_ctx *c, size_t i)
{
	CMS_SignerInfo *si = signer_info(c, i);
	int k;

	for (k = 0; k < sk_X509_num(c->certs); k++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(c->certs, k)) == 0)
			return sk_X509_value(c->certs, k);
	return NULL;
}

/* The content's digest with @md: the eContent, or the signed file. */
static int content_hash(ext_ctx *c, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	ASN1_OCTET_STRING **content = CMS_get0_content(c->cms);

	if (content != NULL && *content != NULL)
		return eid_cms__digest(ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(*content), md, out,
				       len);
	if (c->o->data_path == NULL)
		return eid_error__set(EID_EINVAL, "an archive timestamp (B-LTA) covers the signed content: the file this "
						  "detached signature signs must be given (--data)");
	return eid_cms__digest_file(c->o->data_path, md, out, len);
}

/* The given file must be the one signed: each signer's message-digest over it. */
static int check_data(ext_ctx *c)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	size_t i;
	int rc;

	for (i = 0; i < c->l->nsi; i++) {
		CMS_SignerInfo *si = signer_info(c, i);
		X509_ALGOR *alg = NULL;
		const EVP_MD *md;
		ASN1_OCTET_STRING *want;

		CMS_SignerInfo_get0_algs(si, NULL, NULL, &alg, NULL);
		md = alg != NULL ? EVP_get_digestbyobj(alg->algorithm) : NULL;
		want = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);
		ERR_clear_error();
		if (md == NULL || want == NULL)
			return eid_error__set(EID_ESIGFORMAT, "signer %zu has no message-digest attribute or an unknown digest "
							      "algorithm", i + 1);
		if ((rc = content_hash(c, md, d, &dl)) < 0)
			return rc;
		if ((unsigned)ASN1_STRING_length(want) != dl || memcmp(ASN1_STRING_get0_data(want), d, dl) != 0)
			return eid_error__set(EID_EINVAL, "'%s' is not the file the signature signs (its digest differs from "
							  "the message-digest attribute)", c->o->data_path);
	}
	return EID_OK;
}

/* B-T: a signature timestamp for each signer that has none. */
static int add_signature_timestamps(ext_ctx *c)
{
	cms_additions *a = calloc(1, sizeof(*a));
	unsigned char *der = NULL;
	size_t i, added = 0;
	int rc = EID_OK, n;

	if (a == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < c->l->nsi && rc == EID_OK; i++) {
		CMS_SignerInfo *si = signer_info(c, i);

		if (CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1) >= 0)
			continue;
		/* the same attribute B-T signing adds, then its bytes appended here */
		if ((rc = eid_cms__add_timestamp(si, c->o->online, c->hash)) < 0)
			break;
		n = i2d_X509_ATTRIBUTE(CMS_unsigned_get_attr(si, CMS_unsigned_get_attr_count(si) - 1), &der);
		if (n <= 0) {
			rc = eid_error__ossl(EID_EINTERNAL, "cannot encode the signature timestamp");
			break;
		}
		rc = eid_buf__append(&a->attrs[i], der, (size_t)n);
		OPENSSL_free(der);
		der = NULL;
		added++;
	}
	if (rc == EID_OK && added > 0) {
		EID_LOG_I("CAdES: %zu signature timestamp(s) added", added);
		rc = ctx_apply(c, a);
	}
	additions_free(a);
	return rc;
}

static int self_signed(X509 *x)
{
	int r = X509_check_issued(x, x) == X509_V_OK;

	ERR_clear_error();
	return r;
}

/*
 * Whether @v already gives the status, issued at or after @not_before (the
 * proof of existence it is to back), of every certificate of @leaf's path
 * (found in @pool) that needs one.
 */
static int path_covered(const eid_vdata *v, X509 *leaf, STACK_OF(X509) *pool, int64_t not_before)
{
	X509 *cur = leaf, *issuer;
	eid_ocsp_result r;
	char why[200];
	int depth, k;

	for (depth = 0; depth < 8; depth++) {
		if (self_signed(cur))
			return 1;
		for (issuer = NULL, k = 0; k < sk_X509_num(pool) && issuer == NULL; k++)
			if (X509_check_issued(sk_X509_value(pool, k), cur) == X509_V_OK)
				issuer = sk_X509_value(pool, k);
		ERR_clear_error();
		if (issuer == NULL)
			return 0;
		if (!eid_pki__no_check(cur) && eid_pki__names_revocation(cur) &&
		    eid_vdata__status(v, cur, issuer, NULL, not_before, &r, why, sizeof(why)) != EID_OK) {
			eid_error_clear();
			return 0;
		}
		cur = issuer;
	}
	return 0;
}

/* A pool: @a's and @b's certificates (borrowed). */
static STACK_OF(X509) *pool_of(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	STACK_OF(X509) *p = sk_X509_new_null();
	int i;

	for (i = 0; p != NULL && i < sk_X509_num(a); i++)
		if (!sk_X509_push(p, sk_X509_value(a, i)))
			goto fail;
	for (i = 0; p != NULL && i < sk_X509_num(b); i++)
		if (!sk_X509_push(p, sk_X509_value(b, i)))
			goto fail;
	return p;
fail:
	sk_X509_free(p);
	return NULL;
}

/* A timestamp token's time, or -1. */
static int64_t token_time(PKCS7 *p7)
{
	TS_TST_INFO *tst = p7 != NULL ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	int64_t t = tst != NULL ? eid_cert__epoch(TS_TST_INFO_get_time(tst)) : -1;

	TS_TST_INFO_free(tst);
	ERR_clear_error();
	return t;
}

/*
 * A timestamp token's validation data into @v, unless @have already holds
 * it; @when receives the token's time.
 */
static int collect_token(ext_ctx *c, eid_vdata *v, const eid_vdata *have, const unsigned char *tok, size_t len,
			 const char *what, int64_t *when)
{
	const unsigned char *p = tok;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	STACK_OF(X509) *signers = p7 != NULL ? PKCS7_get0_signers(p7, NULL, 0) : NULL;
	STACK_OF(X509) *pool = NULL;
	int rc = EID_OK;

	ERR_clear_error();
	*when = token_time(p7);
	if (*when < 0) {
		rc = eid_error__set(EID_ESIGFORMAT, "the %s is not a timestamp token", what);
		goto out;
	}
	if (sk_X509_num(signers) == 1 && PKCS7_type_is_signed(p7) &&
	    (pool = pool_of(p7->d.sign->cert, have->certs)) != NULL &&
	    path_covered(have, sk_X509_value(signers, 0), pool, *when))
		goto out;
	if ((rc = eid_vdata__collect_token(v, c->o->online, tok, len)) < 0)
		rc = eid_error__wrap("the validation data of the %s's TSA", what);
out:
	sk_X509_free(pool);
	sk_X509_free(signers);
	PKCS7_free(p7);
	return rc;
}

/* The token of signature-time-stamp attribute @k of @si. */
static int signature_token(CMS_SignerInfo *si, int k, const unsigned char **tok, size_t *len)
{
	X509_ATTRIBUTE *attr = CMS_unsigned_get_attr(si, k);
	ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(attr, 0);

	if (X509_ATTRIBUTE_count(attr) != 1 || t == NULL || t->type != V_ASN1_SEQUENCE)
		return eid_error__set(EID_ESIGFORMAT, "a signature timestamp attribute is malformed");
	*tok = t->value.sequence->data;
	*len = (size_t)t->value.sequence->length;
	return EID_OK;
}

static int64_t token_time_der(const unsigned char *tok, size_t len)
{
	const unsigned char *p = tok;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	int64_t t = token_time(p7);

	PKCS7_free(p7);
	return t;
}

/* @v's certificates, CRLs and OCSP responses as CertificateChoices and RevocationInfoChoices into @a. */
static int add_vdata(cms_additions *a, const eid_vdata *v)
{
	unsigned char *der = NULL;
	eid_buf other = EID_BUF_INIT;
	int i, n, rc = EID_OK;

	for (i = 0; rc == EID_OK && i < sk_X509_num(v->certs); i++) {
		if ((n = i2d_X509(sk_X509_value(v->certs, i), &der)) <= 0)
			return eid_error__ossl(EID_EINTERNAL, "cannot encode a certificate");
		rc = eid_buf__append(&a->certs, der, (size_t)n);
		OPENSSL_free(der);
		der = NULL;
	}
	for (i = 0; rc == EID_OK && i < sk_X509_CRL_num(v->crls); i++) {
		if ((n = i2d_X509_CRL(sk_X509_CRL_value(v->crls, i), &der)) <= 0)
			return eid_error__ossl(EID_EINTERNAL, "cannot encode a CRL");
		rc = eid_buf__append(&a->crls, der, (size_t)n);
		OPENSSL_free(der);
		der = NULL;
	}
	/* RFC 5940: other [1] IMPLICIT OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse } */
	for (i = 0; rc == EID_OK && i < sk_OCSP_RESPONSE_num(v->ocsps); i++) {
		if ((n = i2d_OCSP_RESPONSE(sk_OCSP_RESPONSE_value(v->ocsps, i), &der)) <= 0)
			return eid_error__ossl(EID_EINTERNAL, "cannot encode an OCSP response");
		other.len = 0;
		if ((rc = eid_buf__append(&other, oid_ri_ocsp, sizeof(oid_ri_ocsp))) == EID_OK &&
		    (rc = eid_buf__append(&other, der, (size_t)n)) == EID_OK)
			rc = put_wrapped(&a->crls, TAG_CTX1, &other);
		OPENSSL_free(der);
		der = NULL;
	}
	eid_buf_clear(&other);
	return rc;
}

/*
 * B-LT, and the validation data B-LTA needs: for a signer without an archive
 * timestamp, its path and each signature timestamp's TSA path, unless the
 * signature already gives their status; for one with archive timestamps
 * (renewal at B-LTA), the last one's TSA path.
 */
static int add_validation_data(ext_ctx *c)
{
	cms_additions *a = calloc(1, sizeof(*a));
	eid_vdata have = EID_VDATA_INIT, v = EID_VDATA_INIT;
	eid_der tokens[32];
	const unsigned char *tok;
	size_t i, nats, tlen;
	int64_t t, first;
	int rc = EID_OK, k;

	if (a == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if ((rc = eid_cms__read_vdata(c->l, &have)) < 0)
		goto out;
	for (i = 0; i < c->l->nsi && rc == EID_OK; i++) {
		CMS_SignerInfo *si = signer_info(c, i);
		X509 *signer;

		if ((rc = eid_cms__archive_tokens(c->l, i, tokens, EID_ARRAY_SIZE(tokens), &nats)) < 0)
			break;
		if (nats > 0) {
			if (c->o->level == EID_LEVEL_B_LTA)
				rc = collect_token(c, &v, &have, tokens[nats - 1].p, tokens[nats - 1].len,
						   "last archive timestamp", &t);
			continue;
		}
		if ((signer = signer_cert(c, i)) == NULL) {
			rc = eid_error__set(EID_ECERT, "the certificate of signer %zu is not in the signature", i + 1);
			break;
		}
		/* the signer first, with status from after the earliest signature timestamp, then the TSAs */
		first = INT64_MAX;
		for (k = -1; rc == EID_OK && (k = CMS_unsigned_get_attr_by_NID(si, SIG_TS, k)) >= 0;) {
			if ((rc = signature_token(si, k, &tok, &tlen)) == EID_OK &&
			    (t = token_time_der(tok, tlen)) >= 0 && t < first)
				first = t;
		}
		if (rc == EID_OK && !path_covered(&have, signer, c->certs, first) &&
		    (rc = eid_vdata__collect(&v, c->o->online, signer, c->certs)) < 0)
			rc = eid_error__wrap("the validation data of the signer");
		for (k = -1; rc == EID_OK && (k = CMS_unsigned_get_attr_by_NID(si, SIG_TS, k)) >= 0;) {
			if ((rc = signature_token(si, k, &tok, &tlen)) == EID_OK)
				rc = collect_token(c, &v, &have, tok, tlen, "signature timestamp", &t);
		}
	}
	if (rc < 0 || (rc = add_vdata(a, &v)) < 0)
		goto out;
	if (a->certs.len > 0 || a->crls.len > 0) {
		EID_LOG_I("CAdES: %d certificate(s), %d CRL(s), %d OCSP response(s) gathered", sk_X509_num(v.certs),
			  sk_X509_CRL_num(v.crls), sk_OCSP_RESPONSE_num(v.ocsps));
		rc = ctx_apply(c, a);
	}
out:
	eid_vdata__clear(&have);
	eid_vdata__clear(&v);
	additions_free(a);
	return rc;
}

/* The ATSHashIndexV3 of SignerInfo @i as it stands: hashIndAlgorithm and the three lists. */
static int build_index(ext_ctx *c, size_t i, eid_buf *out)
{
	hash_set sets[3];
	X509_ALGOR *alg = X509_ALGOR_new();
	unsigned char *der = NULL;
	eid_buf content = EID_BUF_INIT, list = EID_BUF_INIT;
	size_t k, j;
	int n, rc;

	memset(sets, 0, sizeof(sets));
	if (alg == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	/* Annex D's syntax has no DEFAULT: the algorithm is always written */
	X509_ALGOR_set_md(alg, c->md);
	if ((n = i2d_X509_ALGOR(alg, &der)) <= 0) {
		rc = eid_error__ossl(EID_EINTERNAL, "cannot encode the hash index algorithm");
		goto out;
	}
	if ((rc = eid_buf__append(&content, der, (size_t)n)) < 0)
		goto out;
	for (k = 0; k < 3; k++)
		sets[k].size = (size_t)EVP_MD_get_size(c->md);
	if ((rc = hash_children(&sets[0], c->md, &c->l->certs, MAX_CERTS)) < 0 ||
	    (rc = hash_children(&sets[1], c->md, &c->l->crls, MAX_REVOCATION)) < 0 ||
	    (rc = hash_attr_values(&sets[2], c->md, &c->l->si_unsigned[i])) < 0)
		goto out;
	/* in the order of the elements */
	for (k = 0; k < 3; k++) {
		list.len = 0;
		for (j = 0; j < sets[k].n && rc == EID_OK; j++)
			if ((rc = put_tl(&list, TAG_OCTETS, sets[k].size)) == EID_OK)
				rc = eid_buf__append(&list, sets[k].h + j * EVP_MAX_MD_SIZE, sets[k].size);
		if (rc < 0 || (rc = put_wrapped(&content, TAG_SEQ, &list)) < 0)
			goto out;
	}
	out->len = 0;
	rc = put_wrapped(out, TAG_SEQ, &content);
out:
	for (k = 0; k < 3; k++)
		free(sets[k].h);
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	eid_buf_clear(&content);
	eid_buf_clear(&list);
	return rc;
}

/* The token with the ats-hash-index-v3 attribute added to its SignerInfo. */
static int token_with_index(const eid_buf *token, const eid_buf *index, eid_buf *out)
{
	eid_cms_layout *tl = malloc(sizeof(*tl));
	cms_additions *a = calloc(1, sizeof(*a));
	int rc;

	if (tl == NULL || a == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	if ((rc = eid_cms__layout(token->data, token->len, tl)) < 0 || tl->ci.len != token->len || tl->nsi != 1) {
		rc = eid_error__set(EID_ENETWORK, "the TSA's token is not a DER SignedData with one signer");
		goto out;
	}
	rc = put_attr(&a->attrs[0], oid_ats_index_v3, sizeof(oid_ats_index_v3), index->data, index->len);
	if (rc == EID_OK)
		rc = rebuild(tl, a, out);
out:
	free(tl);
	additions_free(a);
	return rc;
}

/* B-LTA: an archive-time-stamp-v3 for every signer. */
static int add_archive_timestamps(ext_ctx *c)
{
	cms_additions *a = calloc(1, sizeof(*a));
	eid_buf index = EID_BUF_INIT, input = EID_BUF_INIT, token = EID_BUF_INIT, full = EID_BUF_INIT;
	unsigned char ch[EVP_MAX_MD_SIZE], d[EVP_MAX_MD_SIZE];
	unsigned int chl = 0, dl = 0;
	eid_der idx;
	size_t i;
	int rc;

	if (a == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if ((rc = content_hash(c, c->md, ch, &chl)) < 0)
		goto out;
	for (i = 0; i < c->l->nsi; i++) {
		if ((rc = build_index(c, i, &index)) < 0 || (rc = eid_der__read(index.data, index.len, &idx)) < 0 ||
		    (rc = eid_cms__ats_input(c->l, i, ch, chl, &idx, &input)) < 0 ||
		    (rc = eid_cms__digest(input.data, input.len, c->md, d, &dl)) < 0)
			goto out;
		eid_buf_clear(&token);
		if ((rc = eid_online_timestamp(c->o->online, c->hash, d, dl, &token)) < 0) {
			rc = eid_error__wrap("the archive timestamp");
			goto out;
		}
		if ((rc = token_with_index(&token, &index, &full)) < 0 ||
		    (rc = put_attr(&a->attrs[i], oid_ats_v3, sizeof(oid_ats_v3), full.data, full.len)) < 0)
			goto out;
	}
	EID_LOG_I("CAdES: %zu archive timestamp(s) added", c->l->nsi);
	rc = ctx_apply(c, a);
out:
	eid_buf_clear(&index);
	eid_buf_clear(&input);
	eid_buf_clear(&token);
	eid_buf_clear(&full);
	additions_free(a);
	return rc;
}

int eid_cades__extend(const unsigned char *der, size_t len, const eid_extend_opts *o, eid_buf *out)
{
	ext_ctx c;
	int rc, pem = len > 10 && memcmp(der, "-----BEGIN", 10) == 0;

	memset(&c, 0, sizeof(c));
	if (der == NULL || o == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_cades__extend: NULL argument");
	if (len > EID_CMS_MAX_SIZE)
		return eid_error__set(EID_ETOOBIG, "a CMS signature larger than %u bytes", EID_CMS_MAX_SIZE);
	c.o = o;
	c.hash = eid_hash__resolve(o->hash);
	if ((c.md = eid_hash__md(c.hash)) == NULL)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)o->hash);
	if ((c.l = malloc(sizeof(*c.l))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rc = pem ? eid_cms__from_pem(der, len, &c.cur) : eid_buf_set(&c.cur, der, len);
	if (rc < 0 || (rc = ctx_parse(&c)) < 0)
		goto out;
	/* before any server is asked: the content B-LTA covers, and that it is the one signed */
	if (o->data_path != NULL && (rc = check_data(&c)) < 0)
		goto out;
	if (o->level == EID_LEVEL_B_LTA && o->data_path == NULL) {
		ASN1_OCTET_STRING **content = CMS_get0_content(c.cms);

		if (content == NULL || *content == NULL) {
			rc = eid_error__set(EID_EINVAL, "an archive timestamp (B-LTA) covers the signed content: the file "
							"this detached signature signs must be given (--data)");
			goto out;
		}
	}
	if ((rc = add_signature_timestamps(&c)) < 0)
		goto out;
	if (o->level >= EID_LEVEL_B_LT && (rc = add_validation_data(&c)) < 0)
		goto out;
	if (o->level == EID_LEVEL_B_LTA && (rc = add_archive_timestamps(&c)) < 0)
		goto out;
	if (pem) {
		BIO *bio = BIO_new(BIO_s_mem());
		char *p = NULL;
		long n;

		if (bio == NULL || PEM_write_bio(bio, PEM_STRING_CMS, "", c.cur.data, (long)c.cur.len) <= 0 ||
		    (n = BIO_get_mem_data(bio, &p)) <= 0)
			rc = eid_error__ossl(EID_ENOMEM, "cannot write the PEM signature");
		else
			rc = eid_buf_set(out, p, (size_t)n);
		BIO_free(bio);
	} else {
		rc = eid_buf_set(out, c.cur.data, c.cur.len);
	}
out:
	ctx_release(&c);
	eid_buf_clear(&c.cur);
	free(c.l);
	ERR_clear_error();
	return rc;
}
