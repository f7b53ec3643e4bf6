/*
 * CAdES baseline B-B: detached CMS SignedData with content-type,
 * message-digest, signing-certificate-v2 and signing-time, built with
 * OpenSSL's CMS structures around a signature value that comes from the
 * signer interface (so the key may be anywhere, and signing may take two
 * steps).
 */
#include "config.h"

#include <stddef.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cms.h"

struct eid_cades_prep {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;     /* borrowed from cms */
	EVP_PKEY *pub;          /* a reference */
	eid_hash hash;
	eid_sig_scheme scheme;
	unsigned char tbs[EVP_MAX_MD_SIZE];
	size_t tbs_len;
	int completed;
	eid_level level;
	eid_online *online;     /* borrowed: the TSA for B-T */
};

static const char *const level_names[] = { "B-B", "B-B", "B-T", "B-LT", "B-LTA" };

EID_EXTERN const char *eid_level_name(eid_level level)
{
	if ((unsigned)level >= EID_ARRAY_SIZE(level_names))
		return NULL;
	return level_names[level];
}

EID_EXTERN int eid_level_from_name(eid_level *out, const char *name)
{
	unsigned i;

	if (out == NULL || name == NULL)
		return eid_error__set(EID_EINVAL, "no level name");
	for (i = 1; i < EID_ARRAY_SIZE(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (eid_level)i;
			return EID_OK;
		}
	}
	return eid_error__set(EID_EINVAL, "unknown level '%s' (use B-B, B-T, B-LT or B-LTA)", name);
}

int eid_cms__digest(const void *data, size_t len, const EVP_MD *md, unsigned char *out, unsigned int *outlen)
{
	if (!EVP_Digest(data, len, out, outlen, md, NULL))
		return eid_error__ossl(EID_EINTERNAL, "digest failed");
	return EID_OK;
}

int eid_cms__digest_file(const char *path, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	EVP_MD_CTX *ctx;
	unsigned char *chunk;
	ssize_t n;
	int fd, rc = EID_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	chunk = malloc(EID_IO_CHUNK);
	if (ctx == NULL || chunk == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	if (!EVP_DigestInit_ex(ctx, md, NULL)) {
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, EID_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = eid_error__set(EID_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, chunk, (size_t)n)) {
			rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, out, len))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
out:
	free(chunk);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

typedef struct der_item {
	unsigned char *p;
	int len;
} der_item;

/* DER order of SET OF members: as octet strings, shorter first on a common prefix. */
static int der_cmp(const void *a, const void *b)
{
	const der_item *x = a, *y = b;
	int c = memcmp(x->p, y->p, (size_t)(x->len < y->len ? x->len : y->len));

	return c != 0 ? c : x->len - y->len;
}

static int put_der_length(eid_buf *out, size_t len)
{
	unsigned char hdr[5];
	int n = 0;

	if (len < 0x80) {
		hdr[n++] = (unsigned char)len;
	} else {
		int bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1, i;

		hdr[n++] = (unsigned char)(0x80 | bytes);
		for (i = bytes - 1; i >= 0; i--)
			hdr[n++] = (unsigned char)(len >> (8 * i));
	}
	return eid_buf__append(out, hdr, (size_t)n);
}

int eid_cms__signed_attrs_der(CMS_SignerInfo *si, eid_buf *out)
{
	int count = CMS_signed_get_attr_count(si), i, rc = EID_OK;
	der_item *items;
	size_t total = 0;
	unsigned char tag = 0x31;

	if (count <= 0)
		return eid_error__set(EID_ESIGFORMAT, "no signed attributes");
	items = calloc((size_t)count, sizeof(*items));
	if (items == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < count; i++) {
		items[i].len = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &items[i].p);
		if (items[i].len <= 0) {
			rc = eid_error__ossl(EID_ESIGFORMAT, "cannot encode a signed attribute");
			goto out;
		}
		total += (size_t)items[i].len;
	}
	qsort(items, (size_t)count, sizeof(*items), der_cmp);
	out->len = 0;
	if ((rc = eid_buf__append(out, &tag, 1)) < 0 || (rc = put_der_length(out, total)) < 0)
		goto out;
	for (i = 0; i < count && rc == EID_OK; i++)
		rc = eid_buf__append(out, items[i].p, (size_t)items[i].len);
out:
	for (i = 0; i < count; i++)
		OPENSSL_free(items[i].p);
	free(items);
	return rc;
}

int eid_cms__check_sig(EVP_PKEY *pub, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		       size_t dlen, const unsigned char *sig, size_t slen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	const EVP_MD *md = eid_hash__md(hash);
	int ok = 0;

	if (ctx != NULL && EVP_PKEY_verify_init(ctx) > 0 && EVP_PKEY_CTX_set_signature_md(ctx, md) > 0) {
		if (scheme == EID_SIG_RSA_PSS)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
			     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
			     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
		else if (scheme == EID_SIG_RSA_PKCS1)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
		else
			ok = 1;
		ok = ok && EVP_PKEY_verify(ctx, sig, slen, digest, dlen) == 1;
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int eid_cms__set_pss(CMS_SignerInfo *si, const EVP_MD *md)
{
	RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
	X509_ALGOR *mgf1md = X509_ALGOR_new(), *psig = NULL;
	ASN1_STRING *params = NULL, *mgfparams = NULL;
	int rc = eid_error__set(EID_ENOMEM, NULL);

	if (pss == NULL || mgf1md == NULL)
		goto out;
	pss->hashAlgorithm = X509_ALGOR_new();
	pss->maskGenAlgorithm = X509_ALGOR_new();
	pss->saltLength = ASN1_INTEGER_new();
	if (pss->hashAlgorithm == NULL || pss->maskGenAlgorithm == NULL || pss->saltLength == NULL)
		goto out;
	X509_ALGOR_set_md(pss->hashAlgorithm, md);
	X509_ALGOR_set_md(mgf1md, md);
	if (!ASN1_INTEGER_set(pss->saltLength, EVP_MD_get_size(md)) ||
	    ASN1_item_pack(mgf1md, ASN1_ITEM_rptr(X509_ALGOR), &mgfparams) == NULL ||
	    !X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE, mgfparams))
		goto out;
	mgfparams = NULL;
	if (ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), &params) == NULL)
		goto out;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &psig);
	if (psig == NULL || !X509_ALGOR_set0(psig, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params))
		goto out;
	params = NULL;
	rc = EID_OK;
	eid_error_clear();
out:
	ASN1_STRING_free(params);
	ASN1_STRING_free(mgfparams);
	X509_ALGOR_free(mgf1md);
	RSA_PSS_PARAMS_free(pss);
	return rc;
}

EID_EXTERN void eid_cades_prep_free(eid_cades_prep *p)
{
	if (p == NULL)
		return;
	CMS_ContentInfo_free(p->cms);
	EVP_PKEY_free(p->pub);
	eid_memzero(p, sizeof(*p));
	free(p);
}

static int check_opts(const eid_cades_opts *o)
{
	if (o->version != EID_CADES_OPTS_VERSION)
		return eid_error__set(EID_EVERSION, "eid_cades_opts version %u is unknown", o->version);
	if (eid_hash_size(o->hash) == 0)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)o->hash);
	if (o->level != EID_LEVEL_DEFAULT && o->level != EID_LEVEL_B_B && o->level != EID_LEVEL_B_T)
		return eid_error__set(EID_EUNSUPPORTED, "level %s is not supported yet (B-B and B-T)",
				      eid_level_name(o->level) ? eid_level_name(o->level) : "?");
	if (o->level == EID_LEVEL_B_T && o->online == NULL)
		return eid_error__set(EID_EINVAL, "level B-T needs a TSA (eid_cades_opts.online)");
	return EID_OK;
}

int eid_cms__opts(const eid_cades_opts *in, eid_cades_opts *out)
{
	static const eid_cades_opts defaults = EID_CADES_OPTS_INIT;

	*out = defaults;
	if (in != NULL && in->version == 1) {
		memcpy(out, in, offsetof(eid_cades_opts, online));
		out->version = EID_CADES_OPTS_VERSION;
	} else if (in != NULL) {
		*out = *in;
	}
	return check_opts(out);
}

/*
 * The signature-time-stamp attribute (RFC 3161 / RFC 5126): a token over the
 * signature value, as an unsigned attribute of @si.
 */
int eid_cms__add_timestamp(CMS_SignerInfo *si, eid_online *online, eid_hash hash)
{
	ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	eid_buf token = EID_BUF_INIT;
	int rc;

	if ((rc = eid_cms__digest(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), eid_hash__md(hash), d,
				  &dl)) < 0)
		return rc;
	if ((rc = eid_online_timestamp(online, hash, d, dl, &token)) < 0)
		return eid_error__wrap("the signature timestamp");
	if (!CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token.data,
					   (int)token.len))
		rc = eid_error__ossl(EID_ENOMEM, "cannot add the signature timestamp");
	eid_buf_clear(&token);
	return rc;
}

EID_EXTERN int eid_cades_prepare_digest(eid_cades_prep **out, const eid_signer *signer,
					const unsigned char *content_digest, size_t len,
					const eid_cades_opts *opts)
{
	eid_cades_opts oc;
	const eid_cades_opts *o = &oc;
	const unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES;
	eid_cades_prep *p;
	const EVP_MD *md;
	ASN1_TIME *t = NULL;
	eid_buf attrs = EID_BUF_INIT;
	unsigned int tbs_len = 0;
	X509 *cert;
	int rc, i;

	if (out == NULL || signer == NULL || content_digest == NULL)
		return eid_error__set(EID_EINVAL, "eid_cades_prepare_digest: NULL argument");
	*out = NULL;
	if ((rc = eid_cms__opts(opts, &oc)) < 0)
		return rc;
	md = eid_hash__md(o->hash);
	if (len != (size_t)EVP_MD_get_size(md))
		return eid_error__set(EID_EINVAL, "a %s digest has %d bytes, not %zu", eid_hash_name(o->hash),
				      EVP_MD_get_size(md), len);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	p->hash = eid_hash__resolve(o->hash);
	p->level = o->level == EID_LEVEL_DEFAULT ? EID_LEVEL_B_B : o->level;
	p->online = o->online;
	if ((rc = eid_signer__scheme(signer, o->scheme, &p->scheme)) < 0)
		goto out_free;
	cert = eid_signer__cert(signer);
	p->pub = X509_get_pubkey(cert);
	p->cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (p->pub == NULL || p->cms == NULL) {
		rc = eid_error__ossl(EID_EINTERNAL, "cannot start a CMS SignedData");
		goto out_free;
	}
	/* The public key stands in for the private one: OpenSSL only checks that they match. */
	p->si = CMS_add1_signer(p->cms, cert, p->pub, md, flags);
	if (p->si == NULL) {
		rc = eid_error__ossl(EID_ECERT, "cannot add the signer to the CMS structure");
		goto out_free;
	}
	if (!(o->flags & EID_CADES_NO_CHAIN)) {
		for (i = 0; i < sk_X509_num(eid_signer__chain(signer)); i++) {
			if (!CMS_add1_cert(p->cms, sk_X509_value(eid_signer__chain(signer), i))) {
				rc = eid_error__ossl(EID_ECERT, "cannot add a chain certificate");
				goto out_free;
			}
		}
	}
	if (p->scheme == EID_SIG_RSA_PSS && (rc = eid_cms__set_pss(p->si, md)) < 0)
		goto out_free;
	if (!CMS_signed_add1_attr_by_NID(p->si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) ||
	    !CMS_signed_add1_attr_by_NID(p->si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, content_digest, (int)len)) {
		rc = eid_error__ossl(EID_EINTERNAL, "cannot add the signed attributes");
		goto out_free;
	}
	if (!(o->flags & EID_CADES_NO_SIGNING_TIME)) {
		t = ASN1_TIME_set(NULL, o->signing_time ? (time_t)o->signing_time : time(NULL));
		if (t == NULL || !CMS_signed_add1_attr_by_NID(p->si, NID_pkcs9_signingTime, t->type, t, -1)) {
			rc = eid_error__ossl(EID_EINTERNAL, "cannot add the signing time");
			goto out_free;
		}
	}
	if (CMS_signed_get_attr_by_NID(p->si, NID_id_smime_aa_signingCertificateV2, -1) < 0 &&
	    CMS_signed_get_attr_by_NID(p->si, NID_id_smime_aa_signingCertificate, -1) < 0) {
		rc = eid_error__set(EID_EINTERNAL, "the signing-certificate attribute is missing");
		goto out_free;
	}
	if ((rc = eid_cms__signed_attrs_der(p->si, &attrs)) < 0 ||
	    (rc = eid_cms__digest(attrs.data, attrs.len, md, p->tbs, &tbs_len)) < 0)
		goto out_free;
	p->tbs_len = tbs_len;
	*out = p;
	p = NULL;
	rc = EID_OK;
out_free:
	ASN1_TIME_free(t);
	eid_buf_clear(&attrs);
	eid_cades_prep_free(p);
	return rc;
}

EID_EXTERN int eid_cades_prepare_file(eid_cades_prep **out, const eid_signer *signer, const char *path,
				      const eid_cades_opts *opts)
{
	eid_cades_opts o;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int rc;

	if (out == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "eid_cades_prepare_file: NULL argument");
	*out = NULL;
	if ((rc = eid_cms__opts(opts, &o)) < 0)
		return rc;
	if ((rc = eid_cms__digest_file(path, eid_hash__md(o.hash), digest, &len)) < 0)
		return rc;
	return eid_cades_prepare_digest(out, signer, digest, len, &o);
}

EID_EXTERN int eid_cades_prep_digest(const eid_cades_prep *p, const unsigned char **digest, size_t *len,
				     eid_hash *hash, eid_sig_scheme *scheme)
{
	if (p == NULL || digest == NULL || len == NULL)
		return eid_error__set(EID_EINVAL, "eid_cades_prep_digest: NULL argument");
	*digest = p->tbs;
	*len = p->tbs_len;
	if (hash)
		*hash = p->hash;
	if (scheme)
		*scheme = p->scheme;
	return EID_OK;
}

EID_EXTERN int eid_cades_complete(eid_cades_prep *p, const unsigned char *sig, size_t sig_len, eid_buf *out)
{
	eid_buf der_sig = EID_BUF_INIT;
	unsigned char *der = NULL;
	int n, rc;

	if (p == NULL || sig == NULL || out == NULL || sig_len == 0)
		return eid_error__set(EID_EINVAL, "eid_cades_complete: NULL or empty argument");
	if (p->completed)
		return eid_error__set(EID_EINVAL, "this signature was already completed");
	if (p->scheme == EID_SIG_ECDSA && sig_len == 2 * eid_token__ec_field_len(p->pub) &&
	    !eid_token__ecdsa_is_der(sig, sig_len)) {
		if ((rc = eid_token__ecdsa_raw_to_der(sig, sig_len, &der_sig)) < 0)
			return rc;
	} else if ((rc = eid_buf_set(&der_sig, sig, sig_len)) < 0) {
		return rc;
	}
	if (!eid_cms__check_sig(p->pub, p->scheme, p->hash, p->tbs, p->tbs_len, der_sig.data, der_sig.len)) {
		eid_buf_clear(&der_sig);
		return eid_error__set(EID_EINVAL, "the signature value does not verify with the signer's public key");
	}
	if (!ASN1_STRING_set(CMS_SignerInfo_get0_signature(p->si), der_sig.data, (int)der_sig.len)) {
		eid_buf_clear(&der_sig);
		return eid_error__ossl(EID_ENOMEM, "cannot store the signature value");
	}
	eid_buf_clear(&der_sig);
	if (p->level == EID_LEVEL_B_T && (rc = eid_cms__add_timestamp(p->si, p->online, p->hash)) < 0)
		return rc;
	n = i2d_CMS_ContentInfo(p->cms, &der);
	if (n <= 0)
		return eid_error__ossl(EID_EINTERNAL, "cannot encode the CMS structure");
	rc = eid_buf_set(out, der, (size_t)n);
	OPENSSL_free(der);
	if (rc == EID_OK)
		p->completed = 1;
	return rc;
}

EID_EXTERN int eid_cades_sign_file(eid_signer *signer, const char *path, const eid_cades_opts *opts, eid_buf *out)
{
	eid_cades_prep *p = NULL;
	eid_buf sig = EID_BUF_INIT;
	const unsigned char *tbs;
	size_t tbs_len;
	eid_hash hash;
	eid_sig_scheme scheme;
	int rc;

	if ((rc = eid_cades_prepare_file(&p, signer, path, opts)) < 0)
		return rc;
	eid_cades_prep_digest(p, &tbs, &tbs_len, &hash, &scheme);
	rc = eid_signer_sign_digest(signer, scheme, hash, tbs, tbs_len, &sig);
	if (rc == EID_OK)
		rc = eid_cades_complete(p, sig.data, sig.len, out);
	eid_buf_clear(&sig);
	eid_cades_prep_free(p);
	return rc;
}

int eid_cms__size_estimate(const eid_signer *signer, const eid_cades_opts *opts, size_t *out)
{
	eid_cades_opts oc;
	const eid_cades_opts *o = &oc;
	unsigned char zeros[EVP_MAX_MD_SIZE] = { 0 }, *sig = NULL, *der = NULL;
	eid_cades_prep *p = NULL;
	size_t sig_len;
	int n, rc;

	if ((rc = eid_cms__opts(opts, &oc)) < 0 ||
	    (rc = eid_cades_prepare_digest(&p, signer, zeros, eid_hash_size(o->hash), o)) < 0)
		return rc;
	/* The largest value: the modulus size for RSA; for ECDSA a DER SEQUENCE of two
	 * INTEGERs of field size plus a sign byte each. */
	sig_len = p->scheme == EID_SIG_ECDSA ? 2 * (eid_token__ec_field_len(p->pub) + 3) + 3
					     : (size_t)EVP_PKEY_get_size(p->pub);
	sig = calloc(1, sig_len);
	if (sig == NULL) {
		eid_cades_prep_free(p);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	if (!ASN1_STRING_set(CMS_SignerInfo_get0_signature(p->si), sig, (int)sig_len) ||
	    (n = i2d_CMS_ContentInfo(p->cms, &der)) <= 0) {
		free(sig);
		eid_cades_prep_free(p);
		return eid_error__ossl(EID_EINTERNAL, "cannot size the CMS structure");
	}
	*out = (size_t)n;
	OPENSSL_free(der);
	free(sig);
	eid_cades_prep_free(p);
	return EID_OK;
}
