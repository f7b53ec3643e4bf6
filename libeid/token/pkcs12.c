/* A signer whose key is in a PKCS#12 file (for servers). */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>

#include "token.h"

#define PKCS12_MAX_SIZE (1024 * 1024)

static int p12_sign(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		    size_t digest_len, eid_buf *out)
{
	EVP_PKEY *pkey = impl;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	const EVP_MD *md = eid_hash__md(hash);
	size_t len = 0;
	int rc;

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		goto out_ossl;
	if (scheme == EID_SIG_RSA_PKCS1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out_ossl;
	if (scheme == EID_SIG_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0))
		goto out_ossl;
	if (EVP_PKEY_sign(ctx, NULL, &len, digest, digest_len) <= 0)
		goto out_ossl;
	out->len = 0;
	if ((rc = eid_buf__reserve(out, len)) < 0) {
		EVP_PKEY_CTX_free(ctx);
		return rc;
	}
	if (EVP_PKEY_sign(ctx, out->data, &len, digest, digest_len) <= 0)
		goto out_ossl;
	out->len = len;
	EVP_PKEY_CTX_free(ctx);
	return EID_OK;
out_ossl:
	EVP_PKEY_CTX_free(ctx);
	return eid_error__ossl(EID_EMECHANISM, "the PKCS#12 key cannot sign with %s", eid_hash_name(hash));
}

static void p12_free(void *impl)
{
	EVP_PKEY_free(impl);
}

EID_EXTERN int eid_signer_new_pkcs12(eid_signer **out, const char *path, const char *password)
{
	static const eid_signer_ops ops = { EID_SIGNER_OPS_VERSION, p12_sign, p12_free };
	eid_buf file = EID_BUF_INIT;
	const unsigned char *p;
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	eid_signer *s = NULL;
	int rc;

	if (out == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "eid_signer_new_pkcs12: NULL argument");
	*out = NULL;
	if ((rc = eid_io__read_file(path, PKCS12_MAX_SIZE, &file)) < 0)
		return rc;
	p = file.data;
	p12 = d2i_PKCS12(NULL, &p, (long)file.len);
	eid_buf_clear(&file);
	if (p12 == NULL)
		return eid_error__ossl(EID_EFORMAT, "'%s' is not a PKCS#12 file", path);
	if (!PKCS12_verify_mac(p12, password ? password : "", -1) &&
	    !(password == NULL && PKCS12_verify_mac(p12, NULL, 0))) {
		PKCS12_free(p12);
		ERR_clear_error();
		return eid_error__set(EID_EPASSWORD, "wrong password for '%s'", path);
	}
	if (!PKCS12_parse(p12, password ? password : "", &pkey, &cert, &ca)) {
		PKCS12_free(p12);
		return eid_error__ossl(EID_EFORMAT, "cannot read the key in '%s'", path);
	}
	PKCS12_free(p12);
	if (pkey == NULL || cert == NULL) {
		rc = eid_error__set(EID_ENOKEY, "'%s' holds no key with its certificate", path);
		goto out_free;
	}
	if (X509_check_private_key(cert, pkey) != 1) {
		rc = eid_error__ossl(EID_ENOKEY, "in '%s' the key does not belong to the certificate", path);
		goto out_free;
	}
	rc = eid_signer__new(&s, &ops, pkey, cert);
	pkey = NULL;
	cert = NULL;
	if (rc < 0)
		goto out_free;
	while (ca != NULL && sk_X509_num(ca) > 0) {
		X509 *c = sk_X509_shift(ca);

		/* The signer's own chain: skip a copy of the leaf some tools add. */
		if (X509_cmp(c, eid_signer__cert(s)) == 0) {
			X509_free(c);
			continue;
		}
		if ((rc = eid_signer__add_chain(s, c)) < 0)
			goto out_free;
	}
	*out = s;
	s = NULL;
	rc = EID_OK;
out_free:
	eid_signer_free(s);
	sk_X509_pop_free(ca, X509_free);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return rc;
}
