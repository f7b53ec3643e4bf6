/*
 * The signer interface: what every key source has in common (certificate,
 * chain, digest signing), plus the external and custom signers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/err.h>

#include "token.h"

/* ---- hashes ---- */

static const struct {
	eid_hash hash;
	const char *name;
	const char *alias;
	size_t size;
} hashes[] = {
	{ EID_HASH_SHA256, "SHA-256", "sha256", 32 },
	{ EID_HASH_SHA384, "SHA-384", "sha384", 48 },
	{ EID_HASH_SHA512, "SHA-512", "sha512", 64 },
};

eid_hash eid_hash__resolve(eid_hash hash)
{
	return hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : hash;
}

EID_EXTERN const char *eid_hash_name(eid_hash hash)
{
	size_t i;

	hash = eid_hash__resolve(hash);
	for (i = 0; i < EID_ARRAY_SIZE(hashes); i++)
		if (hashes[i].hash == hash)
			return hashes[i].name;
	return NULL;
}

EID_EXTERN size_t eid_hash_size(eid_hash hash)
{
	size_t i;

	hash = eid_hash__resolve(hash);
	for (i = 0; i < EID_ARRAY_SIZE(hashes); i++)
		if (hashes[i].hash == hash)
			return hashes[i].size;
	return 0;
}

EID_EXTERN int eid_digest_file(const char *path, eid_hash hash, eid_buf *out)
{
	const EVP_MD *md = eid_hash__md(hash);
	unsigned char *chunk = NULL, d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_MD_CTX *ctx = NULL;
	FILE *f;
	size_t n;
	int rc = EID_OK;

	if (path == NULL || out == NULL || md == NULL)
		return eid_error__set(EID_EINVAL, "eid_digest_file: NULL argument or unknown hash");
	if ((f = fopen(path, "rb")) == NULL)
		return eid_error__set(EID_EIO, "cannot open '%s': %m", path);
	if ((chunk = malloc(EID_IO_CHUNK)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, md, NULL))
		rc = eid_error__set(EID_ENOMEM, NULL);
	while (rc == EID_OK && (n = fread(chunk, 1, EID_IO_CHUNK, f)) > 0)
		if (!EVP_DigestUpdate(ctx, chunk, n))
			rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK && ferror(f))
		rc = eid_error__set(EID_EIO, "cannot read '%s'", path);
	if (rc == EID_OK && !EVP_DigestFinal_ex(ctx, d, &dl))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK)
		rc = eid_buf_set(out, d, dl);
	EVP_MD_CTX_free(ctx);
	free(chunk);
	fclose(f);
	return rc;
}

EID_EXTERN int eid_hash_from_name(eid_hash *out, const char *name)
{
	size_t i;

	if (out == NULL || name == NULL)
		return eid_error__set(EID_EINVAL, "no hash name");
	for (i = 0; i < EID_ARRAY_SIZE(hashes); i++) {
		if (strcasecmp(name, hashes[i].name) == 0 || strcasecmp(name, hashes[i].alias) == 0) {
			*out = hashes[i].hash;
			return EID_OK;
		}
	}
	return eid_error__set(EID_EINVAL, "unknown hash '%s' (use sha256, sha384 or sha512)", name);
}

const EVP_MD *eid_hash__md(eid_hash hash)
{
	switch (eid_hash__resolve(hash)) {
	case EID_HASH_SHA256: return EVP_sha256();
	case EID_HASH_SHA384: return EVP_sha384();
	case EID_HASH_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

int eid_hash__from_md(const EVP_MD *md, eid_hash *out)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256: *out = EID_HASH_SHA256; return EID_OK;
	case NID_sha384: *out = EID_HASH_SHA384; return EID_OK;
	case NID_sha512: *out = EID_HASH_SHA512; return EID_OK;
	default:
		return eid_error__set(EID_EUNSUPPORTED, "unsupported digest algorithm %s", EVP_MD_get0_name(md));
	}
}

/* ---- encodings ---- */

/* DER DigestInfo prefixes (RFC 8017, section 9.2, note 1). */
static const unsigned char di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					   0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const unsigned char di_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					   0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 };
static const unsigned char di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					   0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

int eid_token__digestinfo(eid_hash hash, const unsigned char *digest, size_t len, eid_buf *out)
{
	const unsigned char *prefix;
	size_t plen;
	int rc;

	switch (eid_hash__resolve(hash)) {
	case EID_HASH_SHA256: prefix = di_sha256; plen = sizeof(di_sha256); break;
	case EID_HASH_SHA384: prefix = di_sha384; plen = sizeof(di_sha384); break;
	case EID_HASH_SHA512: prefix = di_sha512; plen = sizeof(di_sha512); break;
	default: return eid_error__set(EID_EINVAL, "unknown hash %d", (int)hash);
	}
	if (len != eid_hash_size(hash))
		return eid_error__set(EID_EINVAL, "a %s digest has %zu bytes, not %zu", eid_hash_name(hash),
				      eid_hash_size(hash), len);
	out->len = 0;
	if ((rc = eid_buf__append(out, prefix, plen)) < 0)
		return rc;
	return eid_buf__append(out, digest, len);
}

int eid_token__ecdsa_raw_to_der(const unsigned char *raw, size_t len, eid_buf *out)
{
	ECDSA_SIG *sig;
	BIGNUM *r, *s;
	unsigned char *der = NULL;
	int n;

	if (len == 0 || len % 2 != 0 || len > 264)
		return eid_error__set(EID_ESIGFORMAT, "a raw ECDSA signature of %zu bytes", len);
	sig = ECDSA_SIG_new();
	r = BN_bin2bn(raw, (int)(len / 2), NULL);
	s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
	if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s)) {
		ECDSA_SIG_free(sig);
		BN_free(r);
		BN_free(s);
		return eid_error__ossl(EID_ENOMEM, "cannot build an ECDSA signature");
	}
	n = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return eid_error__ossl(EID_EINTERNAL, "cannot encode an ECDSA signature");
	n = eid_buf_set(out, der, (size_t)n);
	OPENSSL_free(der);
	return n;
}

int eid_token__ecdsa_is_der(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)len);
	unsigned char *der = NULL;
	int n, same = 0;

	if (sig != NULL && q == p + len) {
		n = i2d_ECDSA_SIG(sig, &der);
		same = n > 0 && (size_t)n == len && memcmp(der, p, len) == 0;
		OPENSSL_free(der);
	}
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	return same;
}

int eid_token__ecdsa_der_to_raw(const unsigned char *der, size_t len, size_t field_len, eid_buf *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	unsigned char raw[2 * 66];
	int rc;

	if (sig == NULL || p != der + len) {
		ECDSA_SIG_free(sig);
		return eid_error__set(EID_ESIGFORMAT, "not a DER ECDSA signature");
	}
	ECDSA_SIG_get0(sig, &r, &s);
	if (field_len == 0 || field_len > 66 || BN_num_bytes(r) > (int)field_len || BN_num_bytes(s) > (int)field_len) {
		ECDSA_SIG_free(sig);
		return eid_error__set(EID_ESIGFORMAT, "ECDSA signature does not fit the curve");
	}
	BN_bn2binpad(r, raw, (int)field_len);
	BN_bn2binpad(s, raw + field_len, (int)field_len);
	ECDSA_SIG_free(sig);
	rc = eid_buf_set(out, raw, 2 * field_len);
	return rc;
}

size_t eid_token__ec_field_len(EVP_PKEY *pkey)
{
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	return ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
}

/* ---- the signer object ---- */

int eid_signer__new(eid_signer **out, const eid_signer_ops *ops, void *impl, X509 *cert)
{
	eid_signer *s;
	unsigned char *der = NULL;
	int n, rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		X509_free(cert);
		if (ops->free)
			ops->free(impl);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	s->ops = *ops;
	s->impl = impl;
	s->cert = cert;
	if ((rc = eid_cert__key_info(cert, &s->key_type, &s->key_bits)) < 0)
		goto out_free;
	n = i2d_X509(cert, &der);
	if (n <= 0) {
		rc = eid_error__ossl(EID_ECERT, "cannot encode the signer's certificate");
		goto out_free;
	}
	rc = eid_buf_set(&s->cert_der, der, (size_t)n);
	OPENSSL_free(der);
	if (rc < 0)
		goto out_free;
	s->name = eid_cert__display_name(cert);
	s->chain = sk_X509_new_null();
	if (s->name == NULL || s->chain == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out_free;
	}
	*out = s;
	return EID_OK;
out_free:
	eid_signer_free(s);
	return rc;
}

int eid_signer__add_chain(eid_signer *s, X509 *cert)
{
	size_t n = (size_t)sk_X509_num(s->chain);
	eid_buf *bufs;
	unsigned char *der = NULL;
	int len, rc;

	bufs = realloc(s->chain_der, (n + 1) * sizeof(*bufs));
	if (bufs == NULL) {
		X509_free(cert);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	s->chain_der = bufs;
	memset(&bufs[n], 0, sizeof(bufs[n]));
	len = i2d_X509(cert, &der);
	if (len <= 0) {
		X509_free(cert);
		return eid_error__ossl(EID_ECERT, "cannot encode a chain certificate");
	}
	rc = eid_buf_set(&bufs[n], der, (size_t)len);
	OPENSSL_free(der);
	if (rc < 0 || !sk_X509_push(s->chain, cert)) {
		eid_buf_clear(&bufs[n]);
		X509_free(cert);
		return rc < 0 ? rc : eid_error__set(EID_ENOMEM, NULL);
	}
	return EID_OK;
}

X509 *eid_signer__cert(const eid_signer *s)
{
	return s->cert;
}

STACK_OF(X509) *eid_signer__chain(const eid_signer *s)
{
	return s->chain;
}

int eid_signer__scheme(const eid_signer *s, eid_sig_scheme scheme, eid_sig_scheme *out)
{
	if (scheme == EID_SIG_DEFAULT)
		scheme = s->key_type == EID_KEY_EC ? EID_SIG_ECDSA : EID_SIG_RSA_PKCS1;
	if ((scheme == EID_SIG_ECDSA) != (s->key_type == EID_KEY_EC) ||
	    (scheme != EID_SIG_ECDSA && scheme != EID_SIG_RSA_PKCS1 && scheme != EID_SIG_RSA_PSS))
		return eid_error__set(EID_EMECHANISM, "signature scheme %d does not fit a%s key", (int)scheme,
				      s->key_type == EID_KEY_EC ? "n EC" : "n RSA");
	*out = scheme;
	return EID_OK;
}

EID_EXTERN int eid_signer_new_custom(eid_signer **out, const eid_signer_ops *ops, void *impl,
				     const unsigned char *cert, size_t cert_len)
{
	X509 *x;
	int rc;

	if (out == NULL || ops == NULL) {
		if (ops != NULL && ops->free)
			ops->free(impl);
		return eid_error__set(EID_EINVAL, "eid_signer_new_custom: NULL argument");
	}
	if (ops->version != EID_SIGNER_OPS_VERSION) {
		if (ops->free)
			ops->free(impl);
		return eid_error__set(EID_EVERSION, "eid_signer_ops version %u is unknown", ops->version);
	}
	if ((rc = eid_cert__parse(cert, cert_len, &x)) < 0) {
		if (ops->free)
			ops->free(impl);
		return rc;
	}
	return eid_signer__new(out, ops, impl, x);
}

EID_EXTERN int eid_signer_new_external(eid_signer **out, const unsigned char *cert, size_t cert_len)
{
	eid_signer_ops ops = EID_SIGNER_OPS_INIT;

	return eid_signer_new_custom(out, &ops, NULL, cert, cert_len);
}

EID_EXTERN int eid_signer_add_chain_cert(eid_signer *signer, const unsigned char *cert, size_t cert_len)
{
	X509 *x;
	int rc;

	if (signer == NULL)
		return eid_error__set(EID_EINVAL, "eid_signer_add_chain_cert: NULL signer");
	if ((rc = eid_cert__parse(cert, cert_len, &x)) < 0)
		return rc;
	return eid_signer__add_chain(signer, x);
}

EID_EXTERN void eid_signer_free(eid_signer *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->ops.free)
		s->ops.free(s->impl);
	for (i = 0; s->chain != NULL && i < sk_X509_num(s->chain); i++)
		eid_buf_clear(&s->chain_der[i]);
	free(s->chain_der);
	sk_X509_pop_free(s->chain, X509_free);
	X509_free(s->cert);
	eid_buf_clear(&s->cert_der);
	free(s->name);
	free(s);
}

EID_EXTERN int eid_signer_certificate(const eid_signer *s, const unsigned char **der, size_t *len)
{
	if (s == NULL || der == NULL || len == NULL)
		return eid_error__set(EID_EINVAL, "eid_signer_certificate: NULL argument");
	*der = s->cert_der.data;
	*len = s->cert_der.len;
	return EID_OK;
}

EID_EXTERN size_t eid_signer_chain_count(const eid_signer *s)
{
	return s ? (size_t)sk_X509_num(s->chain) : 0;
}

EID_EXTERN int eid_signer_chain_cert(const eid_signer *s, size_t i, const unsigned char **der, size_t *len)
{
	if (s == NULL || der == NULL || len == NULL || i >= (size_t)sk_X509_num(s->chain))
		return eid_error__set(EID_EINVAL, "eid_signer_chain_cert: no certificate %zu", i);
	*der = s->chain_der[i].data;
	*len = s->chain_der[i].len;
	return EID_OK;
}

EID_EXTERN eid_key_type eid_signer_key_type(const eid_signer *s)
{
	return s ? s->key_type : EID_KEY_UNKNOWN;
}

EID_EXTERN unsigned int eid_signer_key_bits(const eid_signer *s)
{
	return s ? s->key_bits : 0;
}

EID_EXTERN const char *eid_signer_name(const eid_signer *s)
{
	return s ? s->name : NULL;
}

EID_EXTERN int eid_signer_sign_digest(eid_signer *s, eid_sig_scheme scheme, eid_hash hash,
				      const unsigned char *digest, size_t digest_len, eid_buf *out)
{
	int rc;

	if (s == NULL || digest == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_signer_sign_digest: NULL argument");
	if (eid_hash_size(hash) == 0 || digest_len != eid_hash_size(hash))
		return eid_error__set(EID_EINVAL, "digest of %zu bytes does not fit %s", digest_len,
				      eid_hash_name(hash) ? eid_hash_name(hash) : "an unknown hash");
	if ((rc = eid_signer__scheme(s, scheme, &scheme)) < 0)
		return rc;
	if (s->ops.sign_digest == NULL)
		return eid_error__set(EID_EEXTERNAL, "this signer holds no key: the signature value must be supplied");
	eid_buf_clear(out);
	rc = s->ops.sign_digest(s->impl, scheme, eid_hash__resolve(hash), digest, digest_len, out);
	if (rc < 0) {
		eid_buf_clear(out);
		return rc;
	}
	/* ECDSA values leave the signer in DER, whatever the key source gave. */
	/* Raw r||s is exactly twice the field size and (but for a chance of about
	 * 2^-40) not a strict DER encoding. */
	if (scheme == EID_SIG_ECDSA && out->len == 2 * eid_token__ec_field_len(X509_get0_pubkey(s->cert)) &&
	    !eid_token__ecdsa_is_der(out->data, out->len)) {
		eid_buf raw = *out;

		memset(out, 0, sizeof(*out));
		rc = eid_token__ecdsa_raw_to_der(raw.data, raw.len, out);
		eid_buf_clear(&raw);
	}
	return rc;
}
