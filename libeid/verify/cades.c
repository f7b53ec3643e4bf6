/*
 * CAdES / CMS validation following the basic signature validation of
 * ETSI EN 319 102-1 (clause 5.3): format checking, identification of the
 * signing certificate, X.509 certificate validation, cryptographic
 * verification and signature acceptance.  A failed cryptographic check
 * (TOTAL-FAILED) outweighs an INDETERMINATE chain.
 */
#include "config.h"

#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "../cms/cms.h"
#include "../pki/pki.h"
#include "report.h"
#include "verify.h"

#define MAX_ARCHIVE_TIMESTAMPS 32 /* checked per signer */

/* What every signer of one SignedData shares. */
typedef struct cms_ctx {
	CMS_ContentInfo *cms;
	const eid_cms_layout *lay;  /* where its parts lie; NULL when it is not DER (BER from another producer) */
	const eid_cms_input *in;
	STACK_OF(X509) *certs;      /* its certificates, and those of in->vd */
	eid_vdata vd;               /* the validation data it carries, and in->vd */
	char vd_warning[300];       /* why its validation data could not all be read, or "" */
} cms_ctx;

/* Digests of the signed content, computed once per algorithm. */
typedef struct content_digests {
	const char *data_path;
	const uint64_t *ranges;
	size_t nranges;
	const ASN1_OCTET_STRING *embedded;
	struct {
		int nid;
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int len;
	} cache[4];
	size_t n;
} content_digests;

static int content_digest(content_digests *cd, const EVP_MD *md, const unsigned char **out, unsigned int *len)
{
	size_t i;
	int rc;

	for (i = 0; i < cd->n; i++) {
		if (cd->cache[i].nid == EVP_MD_get_type(md)) {
			*out = cd->cache[i].md;
			*len = cd->cache[i].len;
			return EID_OK;
		}
	}
	if (cd->n == EID_ARRAY_SIZE(cd->cache))
		return eid_error__set(EID_ETOOBIG, "too many digest algorithms");
	if (cd->embedded != NULL)
		rc = eid_cms__digest(ASN1_STRING_get0_data(cd->embedded), (size_t)ASN1_STRING_length(cd->embedded), md,
				     cd->cache[cd->n].md, &cd->cache[cd->n].len);
	else if (cd->ranges != NULL)
		rc = eid_verify__digest_ranges(cd->data_path, cd->ranges, cd->nranges, md, cd->cache[cd->n].md,
					       &cd->cache[cd->n].len);
	else
		rc = eid_cms__digest_file(cd->data_path, md, cd->cache[cd->n].md, &cd->cache[cd->n].len);
	if (rc < 0)
		return rc;
	cd->cache[cd->n].nid = EVP_MD_get_type(md);
	*out = cd->cache[cd->n].md;
	*len = cd->cache[cd->n].len;
	cd->n++;
	return EID_OK;
}

/* The single value of a signed attribute, or NULL (absent or repeated: @count says which). */
static ASN1_TYPE *single_attr(CMS_SignerInfo *si, int nid, int *count)
{
	int i = CMS_signed_get_attr_by_NID(si, nid, -1);
	X509_ATTRIBUTE *a;

	*count = 0;
	if (i < 0)
		return NULL;
	*count = 1;
	if (CMS_signed_get_attr_by_NID(si, nid, i) >= 0) {
		*count = 2;
		return NULL;
	}
	a = CMS_signed_get_attr(si, i);
	if (X509_ATTRIBUTE_count(a) != 1) {
		*count = 2;
		return NULL;
	}
	return X509_ATTRIBUTE_get0_type(a, 0);
}

static const char *sig_alg_name(CMS_SignerInfo *si, X509 *cert)
{
	X509_ALGOR *alg = NULL;
	int nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &alg);
	nid = alg ? OBJ_obj2nid(alg->algorithm) : NID_undef;
	if (nid == NID_rsassaPss)
		return "RSA-PSS";
	if (EVP_PKEY_is_a(X509_get0_pubkey(cert), "EC"))
		return "ECDSA";
	if (EVP_PKEY_is_a(X509_get0_pubkey(cert), "RSA"))
		return "RSA";
	return OBJ_nid2sn(nid);
}

/* Identification of the signing certificate (EN 319 102-1, 5.2.3). */
static void check_signing_cert_attr(eid_sig_report *s, CMS_SignerInfo *si, X509 *signer, int *have_v2)
{
	int count1, count2, ok;
	ASN1_TYPE *v2 = single_attr(si, NID_id_smime_aa_signingCertificateV2, &count2);
	ASN1_TYPE *v1 = single_attr(si, NID_id_smime_aa_signingCertificate, &count1);
	ESS_SIGNING_CERT_V2 *ssv2 = NULL;
	ESS_SIGNING_CERT *ss = NULL;
	STACK_OF(X509) *chain;
	const unsigned char *p;

	*have_v2 = 0;
	if (count2 > 1 || count1 > 1) {
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "the signing-certificate attribute is repeated");
		return;
	}
	if (v2 == NULL && v1 == NULL) {
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND,
			      "no signing-certificate-v2 attribute binds the signer's certificate to the signature");
		return;
	}
	if (v2 != NULL && v2->type == V_ASN1_SEQUENCE) {
		p = v2->value.sequence->data;
		ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, v2->value.sequence->length);
		*have_v2 = ssv2 != NULL;
	}
	if (v2 == NULL && v1 != NULL && v1->type == V_ASN1_SEQUENCE) {
		p = v1->value.sequence->data;
		ss = d2i_ESS_SIGNING_CERT(NULL, &p, v1->value.sequence->length);
		eid_sig__warn(s, "the signer's certificate is bound with SHA-1 (signing-certificate, not -v2)");
	}
	if (ssv2 == NULL && ss == NULL) {
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "the signing-certificate attribute is malformed");
		ERR_clear_error();
		return;
	}
	chain = sk_X509_new_null();
	ok = chain != NULL && sk_X509_push(chain, signer) &&
	     OSSL_ESS_check_signing_certs(ss, ssv2, chain, 1) > 0;
	sk_X509_free(chain);
	ERR_clear_error();
	if (!ok)
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND,
			      "the signing-certificate attribute names another certificate than the signer's");
	ESS_SIGNING_CERT_V2_free(ssv2);
	ESS_SIGNING_CERT_free(ss);
}

/*
 * The signature-time-stamp attributes (unsigned): each a token over the
 * signature value.  The earliest valid one is the proof kept; one that does
 * not hold is a warning (the signature stays at B-B).
 */
static int signature_timestamp(eid_sig_report *s, CMS_SignerInfo *si, const eid_verify_opts *o, eid_tst_result *best,
			       int *count)
{
	ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
	int i = -1, rc;

	*count = 0;
	while ((i = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, i)) >= 0) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, i);
		ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
		eid_tst_result r;

		(*count)++;
		if (X509_ATTRIBUTE_count(a) != 1 || t == NULL || t->type != V_ASN1_SEQUENCE) {
			eid_sig__warn(s, "a signature timestamp attribute is malformed");
			continue;
		}
		rc = eid_verify__timestamp(t->value.sequence->data, (size_t)t->value.sequence->length,
					   ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), o, &r);
		if (rc < 0)
			return rc;
		eid_verify__keep_timestamp(s, best, &r);
	}
	return EID_OK;
}

/* The digest algorithm of a timestamp token's message imprint, or NULL. */
static const EVP_MD *imprint_md(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS7 *token = d2i_PKCS7(NULL, &p, (long)len);
	TS_TST_INFO *tst = token != NULL ? PKCS7_to_TS_TST_INFO(token) : NULL;
	const EVP_MD *md = NULL;

	if (tst != NULL)
		md = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst))->algorithm);
	TS_TST_INFO_free(tst);
	PKCS7_free(token);
	ERR_clear_error();
	return md;
}

/* One archive-time-stamp-v3 token of signer @i, checked into @r (EN 319 122-1, 5.5.3). */
static int archive_timestamp(const cms_ctx *c, size_t i, const eid_der *tok, content_digests *cd,
			     const eid_verify_opts *o, eid_tst_result *r)
{
	eid_buf input = EID_BUF_INIT;
	const unsigned char *h;
	unsigned int hl;
	const EVP_MD *md;
	eid_der index;
	int rc;

	memset(r, 0, sizeof(*r));
	r->gen_time = -1;
	if ((rc = eid_cms__ats_index(tok->p, tok->len, &index)) < 0) {
		if (rc == EID_ENOMEM)
			return rc;
		snprintf(r->why, sizeof(r->why), "%s", eid_error_last()->message);
		eid_error_clear();
		return EID_OK;
	}
	if ((md = imprint_md(tok->p, tok->len)) == NULL) {
		snprintf(r->why, sizeof(r->why), "not a timestamp token, or its imprint's hash is unknown");
		return EID_OK;
	}
	/* the content's hash with the token's own algorithm, then the fields as they are */
	if ((rc = content_digest(cd, md, &h, &hl)) < 0 ||
	    (rc = eid_cms__ats_input(c->lay, i, h, hl, &index, &input)) < 0 ||
	    (rc = eid_verify__timestamp(tok->p, tok->len, input.data, input.len, o, r)) < 0)
		goto out;
	if (r->ok) {
		/* each element the token's hash index names must still be there */
		char why[sizeof(r->why)];

		if ((rc = eid_cms__ats_index_holds(c->lay, i, &index, why, sizeof(why))) < 0)
			goto out;
		if (rc == 0) {
			r->ok = 0;
			snprintf(r->why, sizeof(r->why), "%s", why);
		}
		rc = EID_OK;
	}
out:
	eid_buf_clear(&input);
	return rc;
}

/*
 * The archive-time-stamp-v3 attributes of signer @i: the earliest that holds
 * into @best; one that does not is a warning (the level stays B-LT).
 */
static int archive_timestamps(eid_sig_report *s, const cms_ctx *c, size_t i, CMS_SignerInfo *si, content_digests *cd,
			      const eid_verify_opts *o, eid_tst_result *best)
{
	eid_der toks[MAX_ARCHIVE_TIMESTAMPS];
	eid_tst_result r;
	size_t n = 0, k;
	int rc;

	if (c->lay == NULL) {
		ASN1_OBJECT *ats = OBJ_txt2obj("0.4.0.1733.2.4", 1);

		if (ats != NULL && CMS_unsigned_get_attr_by_OBJ(si, ats, -1) >= 0)
			eid_sig__warn(s, "the archive timestamps cannot be checked: the signature is not DER-encoded");
		ASN1_OBJECT_free(ats);
		ERR_clear_error();
		return EID_OK;
	}
	rc = eid_cms__archive_tokens(c->lay, i, toks, EID_ARRAY_SIZE(toks), &n);
	if (rc == EID_ETOOBIG) {
		eid_sig__warn(s, "more than %d archive timestamps: only the first %d are checked", MAX_ARCHIVE_TIMESTAMPS,
			      MAX_ARCHIVE_TIMESTAMPS);
	} else if (rc < 0 && rc != EID_ENOMEM) {
		eid_sig__warn(s, "the unsigned attributes are malformed: %s", eid_error_last()->message);
		eid_error_clear();
		return EID_OK;
	} else if (rc < 0) {
		return rc;
	}
	eid_error_clear();
	for (k = 0; k < n; k++) {
		if ((rc = archive_timestamp(c, i, &toks[k], cd, o, &r)) < 0)
			return rc;
		if (!r.ok) {
			eid_sig__warn(s, "the archive timestamp%s%s does not hold: %s", r.tsa[0] ? " by " : "", r.tsa, r.why);
			continue;
		}
		if (!best->ok || r.gen_time < best->gen_time)
			*best = r;
	}
	return EID_OK;
}

static int validate_signer(eid_report *r, const cms_ctx *c, size_t index, content_digests *cd,
			   const eid_verify_opts *o, time_t when)
{
	CMS_ContentInfo *cms = c->cms;
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), (int)index);
	STACK_OF(X509) *certs = c->certs;
	const char *format = c->in->format;
	eid_sig_report *s;
	X509_ALGOR *dig = NULL;
	const EVP_MD *md;
	X509 *signer = NULL;
	ASN1_TYPE *ct, *mdv, *st;
	const unsigned char *digest = NULL;
	unsigned int digest_len = 0;
	eid_tst_result ts, ats;
	eid_evidence ev = { NULL, NULL, NULL };
	const char *level = NULL;
	int i, count, rc, have_v2 = 0, format_ok = 1, ts_count = 0, lt;

	memset(&ts, 0, sizeof(ts));
	memset(&ats, 0, sizeof(ats));
	if ((rc = eid_report__add(r, &s)) < 0)
		return rc;
	eid_sig__set(&s->format, format);

	/* Signing certificate: from the SignerIdentifier among the embedded certificates. */
	for (i = 0; i < sk_X509_num(certs) && signer == NULL; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			signer = sk_X509_value(certs, i);
	if (signer == NULL) {
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND,
			      "the signer's certificate is not in the signature");
		return EID_OK;
	}
	CMS_SignerInfo_set1_signer_cert(si, signer);
	eid_verify__signer_info(s, signer);
	eid_sig__set(&s->algorithm, sig_alg_name(si, signer));

	/* Format checking. */
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	md = dig ? EVP_get_digestbyobj(dig->algorithm) : NULL;
	if (md == NULL) {
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "unknown digest algorithm");
		return EID_OK;
	}
	eid_sig__set(&s->hash, EVP_MD_get0_name(md));
	{
		eid_hash h;

		if (eid_hash__from_md(md, &h) == EID_OK)
			eid_sig__set(&s->hash, eid_hash_name(h));
		eid_error_clear();
	}
	if (CMS_signed_get_attr_count(si) <= 0) {
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
			      "no signed attributes: not a CAdES signature");
		return EID_OK;
	}
	ct = single_attr(si, NID_pkcs9_contentType, &count);
	if (ct == NULL || ct->type != V_ASN1_OBJECT || OBJ_cmp(ct->value.object, CMS_get0_eContentType(cms)) != 0) {
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
			      "the content-type attribute is missing, repeated or does not match the content");
		format_ok = 0;
	}
	mdv = single_attr(si, NID_pkcs9_messageDigest, &count);
	if (mdv == NULL || mdv->type != V_ASN1_OCTET_STRING) {
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
			      "the message-digest attribute is missing or repeated");
		return EID_OK;
	}
	st = single_attr(si, NID_pkcs9_signingTime, &count);
	if (st != NULL && (st->type == V_ASN1_UTCTIME || st->type == V_ASN1_GENERALIZEDTIME))
		s->claimed_time = eid_cert__epoch(st->value.utctime);
	else if (count > 1)
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "the signing-time attribute is repeated");

	/* Cryptographic verification: the content digest, then the signature value. */
	if ((rc = content_digest(cd, md, &digest, &digest_len)) < 0) {
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_SIGNED_DATA_NOT_FOUND, "%s", eid_error_last()->message);
		return rc == EID_EIO ? rc : EID_OK;
	}
	if ((unsigned)ASN1_STRING_length(mdv->value.octet_string) != digest_len ||
	    memcmp(ASN1_STRING_get0_data(mdv->value.octet_string), digest, digest_len) != 0) {
		/* Hash and signature failures decide over any earlier finding. */
		s->indication = EID_TOTAL_PASSED;
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_HASH_FAILURE,
			      "the signed data does not match the message digest: the file was changed, or is not the one signed");
		return EID_OK;
	}
	if (CMS_SignerInfo_verify(si) != 1) {
		ERR_clear_error();
		s->indication = EID_TOTAL_PASSED;
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_SIG_CRYPTO_FAILURE,
			      "the signature value does not verify with the signer's public key");
		return EID_OK;
	}

	/* Identification of the signing certificate. */
	check_signing_cert_attr(s, si, signer, &have_v2);

	/* The signature timestamp: a proof that the signature existed at its time. */
	if ((rc = signature_timestamp(s, si, o, &ts, &ts_count)) < 0)
		return rc;
	/* The archive timestamp: a proof that the signature and its validation data existed
	 * (EN 319 122-1 archive-time-stamp-v3; for PAdES, a document timestamp checked by the caller) */
	if (strcmp(format, "PAdES") == 0) {
		/* without a signature-time-stamp, a document timestamp over the signed revision gives B-T
		 * (EN 319 142-1, 6.3) */
		if (ts_count == 0 && c->in->poe != NULL && c->in->poe->ok) {
			ts = *c->in->poe;
			ts_count = 1;
			s->ts_time = ts.gen_time;
			eid_sig__set(&s->ts_tsa, ts.tsa);
		}
		if (c->in->archive != NULL && c->in->archive->ok)
			ats = *c->in->archive;
	} else if ((rc = archive_timestamps(s, c, index, si, cd, o, &ats)) < 0) {
		return rc;
	}
	if (c->vd_warning[0] != '\0')
		eid_sig__warn(s, "%s", c->vd_warning);

	/* X.509 certificate validation, then algorithms and key usage: at the
	 * validation time, or, for a certificate that has expired since, at the
	 * time the timestamp proves; the revocation status from the data the
	 * signature carries first */
	ev.ts = &ts;
	ev.vd = &c->vd;
	ev.archive = ats.ok ? &ats : NULL;
	if ((rc = eid_verify__judging_time(s, signer, certs, o, when, &ts, &when)) < 0 ||
	    (rc = eid_verify__acceptance(s, signer, certs, md, o, when, &ev)) < 0)
		return rc;
	if (ts.ok && s->claimed_time > ts.gen_time + 300)
		eid_sig__warn(s, "the claimed signing time is after the timestamp's time");

	/* B-LT: B-T with revocation data (in the CMS, or a PDF's DSS); B-LTA: and an archive timestamp that holds */
	lt = eid_vdata__has_revocation(&c->vd);
	if (strcmp(format, "PAdES") == 0) {
		/* EN 319 142-1: the claimed time is the dictionary's /M, never a signing-time attribute. */
		if (format_ok && have_v2 && s->claimed_time < 0) {
			level = !ts.ok || ts_count != 1 ? "PAdES-BASELINE-B" : !lt ? "PAdES-BASELINE-T"
			      : !ats.ok ? "PAdES-BASELINE-LT" : "PAdES-BASELINE-LTA";
			eid_sig__set(&s->level, level);
		} else {
			eid_sig__warn(s, "not a PAdES baseline signature (%s)",
				      !have_v2 ? "no signing-certificate-v2" : s->claimed_time >= 0 ? "a signing-time attribute" : "format");
		}
	} else if (format_ok && have_v2 && s->claimed_time >= 0) {
		level = !ts.ok || ts_count < 1 ? "CAdES-BASELINE-B" : !lt ? "CAdES-BASELINE-T"
		      : !ats.ok ? "CAdES-BASELINE-LT" : "CAdES-BASELINE-LTA";
		eid_sig__set(&s->level, level);
	} else {
		eid_sig__warn(s, "not a CAdES baseline signature (%s)",
			      !have_v2 ? "no signing-certificate-v2" : s->claimed_time < 0 ? "no signing-time" : "format");
	}
	return EID_OK;
}

int eid_verify__cades(eid_report *r, const unsigned char *data, size_t len, const eid_verify_opts *o)
{
	eid_cms_input in;

	memset(&in, 0, sizeof(in));
	in.format = "CAdES";
	return eid_verify__cms(r, data, len, &in, o);
}

int eid_verify__digest_ranges(const char *path, const uint64_t *ranges, size_t n, const EVP_MD *md,
			      unsigned char *out, unsigned int *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *chunk = malloc(EID_IO_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = EID_OK;
	size_t i;

	if (fd < 0)
		rc = eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
	else if (ctx == NULL || chunk == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	else if (!EVP_DigestInit_ex(ctx, md, NULL))
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
	for (i = 0; i < n && rc == EID_OK; i++) {
		uint64_t at = ranges[2 * i], left = ranges[2 * i + 1];

		while (left > 0 && rc == EID_OK) {
			size_t want = left > EID_IO_CHUNK ? EID_IO_CHUNK : (size_t)left;
			ssize_t got = pread(fd, chunk, want, (off_t)at);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				rc = eid_error__set(EID_EIO, "cannot read '%s' at %llu", path, (unsigned long long)at);
			else if (!EVP_DigestUpdate(ctx, chunk, (size_t)got))
				rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
			at += (uint64_t)(got > 0 ? got : 0);
			left -= (uint64_t)(got > 0 ? got : 0);
		}
	}
	if (rc == EID_OK && !EVP_DigestFinal_ex(ctx, out, len))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (fd >= 0)
		close(fd);
	free(chunk);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* @src's elements added to @dst (each referenced). */
static int vdata_merge(eid_vdata *dst, const eid_vdata *src)
{
	int i, rc = EID_OK;

	for (i = 0; rc == EID_OK && i < sk_X509_num(src->certs); i++)
		rc = eid_vdata__add_cert(dst, sk_X509_value(src->certs, i));
	for (i = 0; rc == EID_OK && i < sk_X509_CRL_num(src->crls); i++)
		rc = eid_vdata__add_crl(dst, sk_X509_CRL_value(src->crls, i));
	for (i = 0; rc == EID_OK && i < sk_OCSP_RESPONSE_num(src->ocsps); i++)
		rc = eid_vdata__add_ocsp(dst, sk_OCSP_RESPONSE_value(src->ocsps, i));
	return rc;
}

/*
 * The validation data the SignedData carries (certificates, CRLs, RFC 5940
 * OCSP responses) and what the caller found outside it, into c->vd; the
 * certificates also into c->certs, as candidates for the paths.
 */
static int read_vdata(cms_ctx *c)
{
	STACK_OF(X509_CRL) *crls;
	int i, rc = EID_OK;

	if (c->lay != NULL) {
		rc = eid_cms__read_vdata(c->lay, &c->vd);
	} else {
		/* not DER: what OpenSSL reads (no OCSP responses) */
		crls = CMS_get1_crls(c->cms);
		for (i = 0; rc == EID_OK && i < sk_X509_CRL_num(crls); i++)
			rc = eid_vdata__add_crl(&c->vd, sk_X509_CRL_value(crls, i));
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		ERR_clear_error();
	}
	if (rc < 0 && rc != EID_ENOMEM) {
		/* hostile or broken data proves nothing, and stops nothing else */
		snprintf(c->vd_warning, sizeof(c->vd_warning), "the validation data in the signature is not all usable: %s",
			 eid_error_last()->message);
		eid_error_clear();
		rc = EID_OK;
	}
	if (rc == EID_OK && c->in->vd != NULL)
		rc = vdata_merge(&c->vd, c->in->vd);
	for (i = 0; rc == EID_OK && i < sk_X509_num(c->vd.certs); i++) {
		X509 *x = sk_X509_value(c->vd.certs, i);
		int k, have = 0;

		for (k = 0; k < sk_X509_num(c->certs) && !have; k++)
			have = X509_cmp(sk_X509_value(c->certs, k), x) == 0;
		if (have)
			continue;
		if (!X509_up_ref(x))
			rc = eid_error__set(EID_EINTERNAL, "cannot reference a certificate");
		else if (!sk_X509_push(c->certs, x)) {
			X509_free(x);
			rc = eid_error__set(EID_ENOMEM, NULL);
		}
	}
	return rc;
}

int eid_verify__cms(eid_report *r, const unsigned char *data, size_t len, const eid_cms_input *in,
		    const eid_verify_opts *o)
{
	const char *data_path = in->path ? in->path : o->data_path;
	eid_buf pem_der = EID_BUF_INIT;
	eid_cms_layout *lay = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	content_digests cd;
	ASN1_OCTET_STRING **content;
	cms_ctx c;
	time_t when = o->validation_time ? (time_t)o->validation_time : time(NULL);
	const unsigned char *p;
	int i, rc = EID_OK;

	memset(&c, 0, sizeof(c));
	c.in = in;
	if (len > EID_CMS_MAX_SIZE)
		return eid_error__set(EID_ETOOBIG, "a CMS signature larger than %u bytes", EID_CMS_MAX_SIZE);
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		if ((rc = eid_cms__from_pem(data, len, &pem_der)) < 0)
			return rc == EID_ENOMEM ? rc : eid_error__set(EID_EFORMAT, "not a CMS signature, or a truncated or "
										       "corrupted one");
		data = pem_der.data;
		len = pem_der.len;
	}
	p = data;
	c.cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	/* a PDF's /Contents is padded with zeros after the DER */
	while (in->zero_padding && c.cms != NULL && p < data + len && *p == 0)
		p++;
	if (c.cms != NULL && p != data + len) {
		rc = eid_error__set(EID_EFORMAT, "%zu bytes of garbage after the CMS structure", (size_t)(data + len - p));
		goto out;
	}
	if (c.cms == NULL) {
		rc = eid_error__ossl(EID_EFORMAT, "not a CMS signature, or a truncated or corrupted one");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(c.cms)) != NID_pkcs7_signed) {
		rc = eid_error__set(EID_EFORMAT, "the CMS structure is not SignedData");
		goto out;
	}
	/* where the parts lie, for what OpenSSL does not read (RFC 5940 OCSP, archive timestamps) */
	if ((lay = malloc(sizeof(*lay))) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	if (eid_cms__layout(data, len, lay) == EID_OK &&
	    lay->nsi == (size_t)sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(c.cms)))
		c.lay = lay;
	eid_error_clear();
	memset(&cd, 0, sizeof(cd));
	content = CMS_get0_content(c.cms);
	if (content != NULL && *content != NULL) {
		cd.embedded = *content;
		if (o->data_path != NULL)
			EID_LOG_W("the signature holds its content: ignoring the data file '%s'", o->data_path);
	} else if (data_path == NULL) {
		rc = eid_error__set(EID_EINVAL, "a detached signature: the signed file must be given too");
		goto out;
	} else {
		cd.data_path = data_path;
		cd.ranges = in->ranges;
		cd.nranges = in->nranges;
		/* Fail early, as an error, when the data cannot be read at all. */
		if (access(data_path, R_OK) != 0) {
			rc = eid_error__set(EID_EIO, "cannot read the signed file '%s': %m", data_path);
			goto out;
		}
	}
	c.certs = CMS_get1_certs(c.cms);
	if (c.certs == NULL)
		c.certs = sk_X509_new_null();
	ERR_clear_error();
	sis = CMS_get0_SignerInfos(c.cms);
	if (c.certs == NULL || sis == NULL || sk_CMS_SignerInfo_num(sis) == 0) {
		rc = c.certs == NULL ? eid_error__set(EID_ENOMEM, NULL)
				     : eid_error__set(EID_EFORMAT, "the SignedData has no signer");
		goto out;
	}
	if (sk_CMS_SignerInfo_num(sis) > EID_CMS_MAX_SIGNERS) {
		rc = eid_error__set(EID_ETOOBIG, "more than %d signers", EID_CMS_MAX_SIGNERS);
		goto out;
	}
	if ((rc = read_vdata(&c)) < 0)
		goto out;
	for (i = 0; i < sk_CMS_SignerInfo_num(sis) && rc == EID_OK; i++)
		rc = validate_signer(r, &c, (size_t)i, &cd, o, when);
out:
	sk_X509_pop_free(c.certs, X509_free);
	eid_vdata__clear(&c.vd);
	CMS_ContentInfo_free(c.cms);
	free(lay);
	eid_buf_clear(&pem_der);
	ERR_clear_error();
	return rc;
}
