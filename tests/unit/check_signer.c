/*
 * Unit tests of libeid/token/signer.c (hashes, DigestInfo, ECDSA encodings,
 * the signer object, custom and external signers) and of the PKCS#12 signer
 * (libeid/token/pkcs12.c), which is the simplest concrete key source.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "token/token.h"
#include "unit.h"

static const char CITIZEN_NAME[] = "J\xc3\xa9r\xc3\xb4me \xc3\x98ster-\xc5\x81ukasz (Signature)";

static const eid_hash all_hashes[] = { EID_HASH_SHA256, EID_HASH_SHA384, EID_HASH_SHA512 };

/* ---- a custom signer whose free and sign calls are counted ---- */

typedef struct fake_impl {
	EVP_PKEY *key;     /* a reference */
	int raw_ecdsa;     /* answer ECDSA as r||s */
	int fail_with;     /* answer this code instead */
} fake_impl;

static struct {
	int frees;
	int signs;
	eid_sig_scheme scheme;
	eid_hash hash;
	size_t digest_len;
} calls;

static fake_impl *fake_new(EVP_PKEY *key)
{
	fake_impl *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	if (key != NULL) {
		ck_assert_int_eq(EVP_PKEY_up_ref(key), 1);
		f->key = key;
	}
	return f;
}

static void fake_free(void *impl)
{
	fake_impl *f = impl;

	calls.frees++;
	if (f != NULL) {
		EVP_PKEY_free(f->key);
		free(f);
	}
}

static int fake_sign(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		     size_t digest_len, eid_buf *out)
{
	fake_impl *f = impl;
	EVP_PKEY_CTX *ctx;
	unsigned char sig[1024];
	size_t len = sizeof(sig);

	calls.signs++;
	calls.scheme = scheme;
	calls.hash = hash;
	calls.digest_len = digest_len;
	if (f->fail_with != 0)
		return eid_error__set(f->fail_with, "the fake signer fails");
	ctx = EVP_PKEY_CTX_new(f->key, NULL);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
	if (scheme == EID_SIG_RSA_PKCS1) {
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 0);
	} else if (scheme == EID_SIG_RSA_PSS) {
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST), 0);
	}
	ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(ctx, hash == EID_HASH_SHA384 ? EVP_sha384()
							 : hash == EID_HASH_SHA512 ? EVP_sha512() : EVP_sha256()), 0);
	ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &len, digest, digest_len), 1);
	EVP_PKEY_CTX_free(ctx);
	if (scheme == EID_SIG_ECDSA && f->raw_ecdsa) {
		eid_buf raw = EID_BUF_INIT;
		size_t field = ((size_t)EVP_PKEY_get_bits(f->key) + 7) / 8;
		int rc = eid_token__ecdsa_der_to_raw(sig, len, field, &raw);

		ck_assert_int_eq(rc, EID_OK);
		rc = eid_buf_set(out, raw.data, raw.len);
		eid_buf_clear(&raw);
		return rc;
	}
	return eid_buf_set(out, sig, len);
}

static const eid_signer_ops fake_ops = { EID_SIGNER_OPS_VERSION, fake_sign, fake_free };

/* A fresh key and a self-signed certificate for it, as DER. */
static EVP_PKEY *fresh_key(const char *kind, unsigned char **cert_der, size_t *cert_len)
{
	EVP_PKEY *key = strcmp(kind, "RSA") == 0 ? EVP_RSA_gen(2048) : EVP_EC_gen(kind);
	X509 *x;

	ck_assert_ptr_nonnull(key);
	x = unit_self_signed(key, "Fake Signer", NULL);
	*cert_der = unit_cert_der(x, cert_len);
	X509_free(x);
	return key;
}

static eid_signer *pkcs12_signer(const char *name)
{
	char *path = unit_pki(name);
	eid_signer *s = NULL;

	ck_assert_msg(eid_signer_new_pkcs12(&s, path, "test") == EID_OK, "%s: %s", path, eid_error_last()->message);
	ck_assert_ptr_nonnull(s);
	free(path);
	return s;
}

/* Sign SHA-x("data") with @s and check the value with OpenSSL against the signer's certificate. */
static void sign_and_check(eid_signer *s, eid_sig_scheme scheme, eid_hash hash)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t dlen = unit_digest(hash, "data", 4, digest);
	eid_buf sig = EID_BUF_INIT;
	int rc = eid_signer_sign_digest(s, scheme, hash, digest, dlen, &sig);

	ck_assert_msg(rc == EID_OK, "scheme %d hash %d: %s", (int)scheme, (int)hash, eid_error_last()->message);
	ck_assert_msg(unit_verify_digest(X509_get0_pubkey(eid_signer__cert(s)), scheme, hash, digest, dlen, sig.data,
					 sig.len), "scheme %d hash %d: the signature does not verify", (int)scheme, (int)hash);
	eid_buf_clear(&sig);
}

/* ---- hashes ---- */

START_TEST(test_signer_hash_name__values)
{
	ck_assert_str_eq(eid_hash_name(EID_HASH_DEFAULT), "SHA-256");
	ck_assert_str_eq(eid_hash_name(EID_HASH_SHA256), "SHA-256");
	ck_assert_str_eq(eid_hash_name(EID_HASH_SHA384), "SHA-384");
	ck_assert_str_eq(eid_hash_name(EID_HASH_SHA512), "SHA-512");
	ck_assert_ptr_null(eid_hash_name((eid_hash)4));
	ck_assert_ptr_null(eid_hash_name((eid_hash)-1));
}
END_TEST

START_TEST(test_signer_hash_size__values)
{
	ck_assert_uint_eq(eid_hash_size(EID_HASH_DEFAULT), 32);
	ck_assert_uint_eq(eid_hash_size(EID_HASH_SHA256), 32);
	ck_assert_uint_eq(eid_hash_size(EID_HASH_SHA384), 48);
	ck_assert_uint_eq(eid_hash_size(EID_HASH_SHA512), 64);
	ck_assert_uint_eq(eid_hash_size((eid_hash)99), 0);
}
END_TEST

START_TEST(test_signer_hash_from_name__names_and_aliases)
{
	static const struct {
		const char *name;
		eid_hash hash;
	} ok[] = {
		{ "sha256", EID_HASH_SHA256 }, { "SHA-256", EID_HASH_SHA256 }, { "Sha256", EID_HASH_SHA256 },
		{ "sha-384", EID_HASH_SHA384 }, { "SHA384", EID_HASH_SHA384 }, { "sha512", EID_HASH_SHA512 },
		{ "SHA-512", EID_HASH_SHA512 },
	};
	static const char *const bad[] = { "md5", "sha1", "sha-1", "", "sha256 ", "SHA3-256" };
	eid_hash h;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		h = EID_HASH_DEFAULT;
		ck_assert_int_eq(eid_hash_from_name(&h, ok[i].name), EID_OK);
		ck_assert_int_eq(h, ok[i].hash);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = EID_HASH_SHA512;
		ck_assert_int_eq(eid_hash_from_name(&h, bad[i]), EID_EINVAL);
		ck_assert_int_eq(h, EID_HASH_SHA512);
	}
	ck_assert_int_eq(eid_hash_from_name(&h, NULL), EID_EINVAL);
	ck_assert_int_eq(eid_hash_from_name(NULL, "sha256"), EID_EINVAL);
}
END_TEST

START_TEST(test_signer_hash__md__and_back)
{
	size_t i;
	eid_hash h;

	ck_assert_ptr_eq(eid_hash__md(EID_HASH_DEFAULT), EVP_sha256());
	ck_assert_ptr_null(eid_hash__md((eid_hash)7));
	for (i = 0; i < sizeof(all_hashes) / sizeof(all_hashes[0]); i++) {
		const EVP_MD *md = eid_hash__md(all_hashes[i]);

		ck_assert_ptr_nonnull(md);
		ck_assert_int_eq(EVP_MD_get_size(md), (int)eid_hash_size(all_hashes[i]));
		ck_assert_int_eq(eid_hash__from_md(md, &h), EID_OK);
		ck_assert_int_eq(h, all_hashes[i]);
	}
	ck_assert_int_eq(eid_hash__from_md(EVP_sha1(), &h), EID_EUNSUPPORTED);
	ck_assert_int_eq(eid_hash__resolve(EID_HASH_DEFAULT), EID_HASH_SHA256);
	ck_assert_int_eq(eid_hash__resolve(EID_HASH_SHA512), EID_HASH_SHA512);
}
END_TEST

/* ---- eid_token__digestinfo ---- */

START_TEST(test_signer_token__digestinfo__matches_openssl)
{
	char *keypath = unit_pki("citizen-rsa2048.key");
	EVP_PKEY *key = unit_load_key(keypath);
	size_t i;

	for (i = 0; i < sizeof(all_hashes) / sizeof(all_hashes[0]); i++) {
		unsigned char digest[EVP_MAX_MD_SIZE], sig[512], rec[512];
		size_t dlen = unit_digest(all_hashes[i], "abc", 3, digest), slen = sizeof(sig), rlen = sizeof(rec);
		eid_buf di = EID_BUF_INIT;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

		/* OpenSSL builds the DigestInfo itself when it signs with a digest set ... */
		ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(ctx, eid_hash__md(all_hashes[i])), 0);
		ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &slen, digest, dlen), 1);
		EVP_PKEY_CTX_free(ctx);
		/* ... and recovering without a digest set returns it unparsed. */
		ctx = EVP_PKEY_CTX_new(key, NULL);
		ck_assert_int_eq(EVP_PKEY_verify_recover_init(ctx), 1);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 0);
		ck_assert_int_eq(EVP_PKEY_verify_recover(ctx, rec, &rlen, sig, slen), 1);
		EVP_PKEY_CTX_free(ctx);

		ck_assert_int_eq(eid_buf_set(&di, "stale", 5), EID_OK);
		ck_assert_int_eq(eid_token__digestinfo(all_hashes[i], digest, dlen, &di), EID_OK);
		ck_assert_uint_eq(di.len, rlen);
		ck_assert_mem_eq(di.data, rec, rlen);
		ck_assert_uint_eq(di.len, 19 + dlen);
		ck_assert_mem_eq(di.data + 19, digest, dlen);
		eid_buf_clear(&di);
	}
	EVP_PKEY_free(key);
	free(keypath);
}
END_TEST

START_TEST(test_signer_token__digestinfo__default_is_sha256)
{
	unsigned char digest[32];
	eid_buf a = EID_BUF_INIT, b = EID_BUF_INIT;

	memset(digest, 0x11, sizeof(digest));
	ck_assert_int_eq(eid_token__digestinfo(EID_HASH_DEFAULT, digest, 32, &a), EID_OK);
	ck_assert_int_eq(eid_token__digestinfo(EID_HASH_SHA256, digest, 32, &b), EID_OK);
	ck_assert_uint_eq(a.len, 51);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	eid_buf_clear(&a);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_signer_token__digestinfo__wrong_length)
{
	unsigned char digest[64];
	eid_buf out = EID_BUF_INIT;

	memset(digest, 0x22, sizeof(digest));
	ck_assert_int_eq(eid_token__digestinfo(EID_HASH_SHA256, digest, 31, &out), EID_EINVAL);
	ck_assert_int_eq(eid_token__digestinfo(EID_HASH_SHA256, digest, 48, &out), EID_EINVAL);
	ck_assert_int_eq(eid_token__digestinfo(EID_HASH_SHA384, digest, 32, &out), EID_EINVAL);
	ck_assert_int_eq(eid_token__digestinfo(EID_HASH_SHA512, digest, 0, &out), EID_EINVAL);
	ck_assert_int_eq(eid_token__digestinfo((eid_hash)9, digest, 32, &out), EID_EINVAL);
	ck_assert_uint_eq(out.len, 0);
	eid_buf_clear(&out);
}
END_TEST

/* ---- ECDSA encodings ---- */

static void ecdsa_round_trip(const char *curve, size_t field)
{
	EVP_PKEY *key = EVP_EC_gen(curve);
	int i;

	ck_assert_ptr_nonnull(key);
	ck_assert_uint_eq(eid_token__ec_field_len(key), field);
	for (i = 0; i < 16; i++) {
		unsigned char digest[32], der[160];
		size_t dlen = sizeof(der);
		eid_buf raw = EID_BUF_INIT, back = EID_BUF_INIT;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

		memset(digest, i, sizeof(digest));
		ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
		ck_assert_int_eq(EVP_PKEY_sign(ctx, der, &dlen, digest, sizeof(digest)), 1);
		EVP_PKEY_CTX_free(ctx);

		ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der, dlen, field, &raw), EID_OK);
		ck_assert_uint_eq(raw.len, 2 * field);
		ck_assert_int_eq(eid_token__ecdsa_raw_to_der(raw.data, raw.len, &back), EID_OK);
		ck_assert_uint_eq(back.len, dlen);
		ck_assert_mem_eq(back.data, der, dlen);
		eid_buf_clear(&raw);
		eid_buf_clear(&back);
	}
	EVP_PKEY_free(key);
}

START_TEST(test_signer_token__ecdsa_der_to_raw__p256_round_trip)
{
	ecdsa_round_trip("P-256", 32);
}
END_TEST

START_TEST(test_signer_token__ecdsa_der_to_raw__p384_round_trip)
{
	ecdsa_round_trip("P-384", 48);
}
END_TEST

START_TEST(test_signer_token__ecdsa_raw_to_der__leading_zeros)
{
	static const size_t fields[] = { 32, 48 };
	size_t f;

	for (f = 0; f < 2; f++) {
		size_t field = fields[f];
		unsigned char raw[96];
		eid_buf der = EID_BUF_INIT, back = EID_BUF_INIT;
		const unsigned char *p;
		ECDSA_SIG *sig;
		const BIGNUM *r, *s;

		/* r = 00 00 7f ff ..., s = 80 00 ... 01 (high bit set: DER needs a 00 prefix). */
		memset(raw, 0xff, sizeof(raw));
		raw[0] = 0x00;
		raw[1] = 0x00;
		raw[2] = 0x7f;
		memset(raw + field, 0x00, field);
		raw[field] = 0x80;
		raw[2 * field - 1] = 0x01;
		ck_assert_int_eq(eid_token__ecdsa_raw_to_der(raw, 2 * field, &der), EID_OK);
		/* SEQUENCE { INTEGER (field - 2 bytes), INTEGER (field + 1 bytes) } */
		ck_assert_int_eq(der.data[0], 0x30);
		ck_assert_uint_eq(der.len, 2 + (2 + field - 2) + (2 + field + 1));
		ck_assert_int_eq(der.data[2], 0x02);
		ck_assert_uint_eq(der.data[3], field - 2);
		ck_assert_int_eq(der.data[4], 0x7f);
		ck_assert_int_eq(der.data[4 + field - 2], 0x02);
		ck_assert_uint_eq(der.data[5 + field - 2], field + 1);
		ck_assert_int_eq(der.data[6 + field - 2], 0x00);
		ck_assert_int_eq(der.data[7 + field - 2], 0x80);
		p = der.data;
		sig = d2i_ECDSA_SIG(NULL, &p, (long)der.len);
		ck_assert_ptr_nonnull(sig);
		ECDSA_SIG_get0(sig, &r, &s);
		ck_assert_int_eq(BN_num_bytes(r), (int)field - 2);
		ck_assert_int_eq(BN_num_bytes(s), (int)field);
		ECDSA_SIG_free(sig);

		ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der.data, der.len, field, &back), EID_OK);
		ck_assert_uint_eq(back.len, 2 * field);
		ck_assert_mem_eq(back.data, raw, 2 * field);
		eid_buf_clear(&der);
		eid_buf_clear(&back);
	}
}
END_TEST

START_TEST(test_signer_token__ecdsa_raw_to_der__bad_lengths)
{
	unsigned char raw[300];
	eid_buf out = EID_BUF_INIT;

	memset(raw, 0x42, sizeof(raw));
	ck_assert_int_eq(eid_token__ecdsa_raw_to_der(raw, 0, &out), EID_ESIGFORMAT);
	ck_assert_int_eq(eid_token__ecdsa_raw_to_der(raw, 63, &out), EID_ESIGFORMAT);
	ck_assert_int_eq(eid_token__ecdsa_raw_to_der(raw, 266, &out), EID_ESIGFORMAT);
	ck_assert_ptr_null(out.data);
}
END_TEST

START_TEST(test_signer_token__ecdsa_der_to_raw__bad_input)
{
	unsigned char raw[96], junk[80];
	eid_buf der = EID_BUF_INIT, out = EID_BUF_INIT;

	memset(raw, 0x5a, sizeof(raw));
	ck_assert_int_eq(eid_token__ecdsa_raw_to_der(raw, 96, &der), EID_OK);
	/* r and s of 48 bytes do not fit P-256. */
	ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der.data, der.len, 32, &out), EID_ESIGFORMAT);
	ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der.data, der.len, 0, &out), EID_ESIGFORMAT);
	ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der.data, der.len, 67, &out), EID_ESIGFORMAT);
	/* Truncated, and with trailing bytes. */
	ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der.data, der.len - 1, 48, &out), EID_ESIGFORMAT);
	memcpy(junk, der.data, der.len < sizeof(junk) ? der.len : sizeof(junk));
	ck_assert_int_eq(eid_buf__append(&der, "\x00", 1), EID_OK);
	ck_assert_int_eq(eid_token__ecdsa_der_to_raw(der.data, der.len, 48, &out), EID_ESIGFORMAT);
	memset(junk, 0x30, sizeof(junk));
	ck_assert_int_eq(eid_token__ecdsa_der_to_raw(junk, sizeof(junk), 48, &out), EID_ESIGFORMAT);
	ck_assert_ptr_null(out.data);
	eid_buf_clear(&der);
}
END_TEST

START_TEST(test_signer_token__ec_field_len__curves)
{
	EVP_PKEY *p521 = EVP_EC_gen("P-521");
	char *path = unit_pki("citizen-rsa2048.key");
	EVP_PKEY *rsa = unit_load_key(path);

	ck_assert_uint_eq(eid_token__ec_field_len(p521), 66);
	ck_assert_uint_eq(eid_token__ec_field_len(rsa), 0);
	ck_assert_uint_eq(eid_token__ec_field_len(NULL), 0);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(rsa);
	free(path);
}
END_TEST

/* ---- eid_signer_new_custom ---- */

START_TEST(test_signer_new_custom__version_checked)
{
	eid_signer_ops ops = fake_ops;
	unsigned char *cert;
	size_t len;
	EVP_PKEY *key = fresh_key("P-256", &cert, &len);
	eid_signer *s = NULL;

	memset(&calls, 0, sizeof(calls));
	ops.version = 99;
	ck_assert_int_eq(eid_signer_new_custom(&s, &ops, fake_new(key), cert, len), EID_EVERSION);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(calls.frees, 1);
	ops.version = 0;
	ck_assert_int_eq(eid_signer_new_custom(&s, &ops, fake_new(key), cert, len), EID_EVERSION);
	ck_assert_int_eq(calls.frees, 2);
	ck_assert_int_eq(calls.signs, 0);
	EVP_PKEY_free(key);
	free(cert);
}
END_TEST

START_TEST(test_signer_new_custom__bad_certificate_frees_impl)
{
	static const unsigned char junk[] = { 0x30, 0x82, 0x01, 0x00, 0x01 };
	eid_signer *s = NULL;

	memset(&calls, 0, sizeof(calls));
	ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, fake_new(NULL), junk, sizeof(junk)), EID_ECERT);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(calls.frees, 1);
	ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, fake_new(NULL), NULL, 0), EID_EINVAL);
	ck_assert_int_eq(calls.frees, 2);
	ck_assert_int_eq(eid_signer_new_custom(NULL, &fake_ops, fake_new(NULL), junk, sizeof(junk)), EID_EINVAL);
	ck_assert_int_eq(calls.frees, 3);
}
END_TEST

START_TEST(test_signer_new_custom__signs_and_frees_once)
{
	unsigned char *cert, digest[48];
	size_t len;
	EVP_PKEY *key = fresh_key("RSA", &cert, &len);
	eid_signer *s = NULL;
	eid_buf sig = EID_BUF_INIT;

	memset(&calls, 0, sizeof(calls));
	ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, fake_new(key), cert, len), EID_OK);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(eid_signer_key_type(s), EID_KEY_RSA);
	ck_assert_uint_eq(eid_signer_key_bits(s), 2048);
	ck_assert_str_eq(eid_signer_name(s), "Fake Signer");
	/* EID_SIG_DEFAULT and EID_HASH_DEFAULT reach the implementation resolved. */
	unit_digest(EID_HASH_SHA256, "x", 1, digest);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_DEFAULT, EID_HASH_DEFAULT, digest, 32, &sig), EID_OK);
	ck_assert_int_eq(calls.signs, 1);
	ck_assert_int_eq(calls.scheme, EID_SIG_RSA_PKCS1);
	ck_assert_int_eq(calls.hash, EID_HASH_SHA256);
	ck_assert(unit_verify_digest(key, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, digest, 32, sig.data, sig.len));
	sign_and_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA384);
	ck_assert_int_eq(calls.scheme, EID_SIG_RSA_PSS);
	ck_assert_int_eq(calls.hash, EID_HASH_SHA384);
	ck_assert_int_eq(calls.frees, 0);
	eid_signer_free(s);
	ck_assert_int_eq(calls.frees, 1);
	eid_signer_free(NULL);
	eid_buf_clear(&sig);
	EVP_PKEY_free(key);
	free(cert);
}
END_TEST

START_TEST(test_signer_new_custom__pem_certificate)
{
	unsigned char *cert;
	size_t len;
	EVP_PKEY *key = fresh_key("P-384", &cert, &len);
	const unsigned char *p = cert, *der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long pem_len;
	size_t der_len;
	eid_signer *s = NULL;

	memset(&calls, 0, sizeof(calls));
	ck_assert_int_eq(PEM_write_bio_X509(bio, x), 1);
	pem_len = BIO_get_mem_data(bio, &pem);
	ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, fake_new(key), (unsigned char *)pem, (size_t)pem_len), EID_OK);
	ck_assert_int_eq(eid_signer_certificate(s, &der, &der_len), EID_OK);
	ck_assert_uint_eq(der_len, len);
	ck_assert_mem_eq(der, cert, len);
	ck_assert_int_eq(eid_signer_key_type(s), EID_KEY_EC);
	ck_assert_uint_eq(eid_signer_key_bits(s), 384);
	eid_signer_free(s);
	ck_assert_int_eq(calls.frees, 1);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
	free(cert);
}
END_TEST

START_TEST(test_signer_sign_digest__wrong_digest_length)
{
	unsigned char *cert, digest[64];
	size_t len;
	EVP_PKEY *key = fresh_key("P-256", &cert, &len);
	eid_signer *s = NULL;
	eid_buf sig = EID_BUF_INIT;

	memset(&calls, 0, sizeof(calls));
	memset(digest, 1, sizeof(digest));
	ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, fake_new(key), cert, len), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 31, &sig), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 48, &sig), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA512, digest, 32, &sig), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, (eid_hash)5, digest, 32, &sig), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA256, NULL, 32, &sig), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, NULL), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(NULL, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, &sig), EID_EINVAL);
	ck_assert_int_eq(calls.signs, 0);
	ck_assert_ptr_null(sig.data);
	eid_signer_free(s);
	EVP_PKEY_free(key);
	free(cert);
}
END_TEST

START_TEST(test_signer_sign_digest__scheme_key_mismatch)
{
	unsigned char *ec_cert, *rsa_cert, digest[32];
	size_t ec_len, rsa_len;
	EVP_PKEY *ec = fresh_key("P-256", &ec_cert, &ec_len), *rsa = fresh_key("RSA", &rsa_cert, &rsa_len);
	eid_signer *es = NULL, *rs = NULL;
	eid_buf sig = EID_BUF_INIT;

	memset(&calls, 0, sizeof(calls));
	memset(digest, 3, sizeof(digest));
	ck_assert_int_eq(eid_signer_new_custom(&es, &fake_ops, fake_new(ec), ec_cert, ec_len), EID_OK);
	ck_assert_int_eq(eid_signer_new_custom(&rs, &fake_ops, fake_new(rsa), rsa_cert, rsa_len), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(es, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);
	ck_assert_int_eq(eid_signer_sign_digest(es, EID_SIG_RSA_PSS, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);
	ck_assert_int_eq(eid_signer_sign_digest(rs, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);
	ck_assert_int_eq(eid_signer_sign_digest(rs, (eid_sig_scheme)9, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);
	ck_assert_int_eq(calls.signs, 0);
	/* The default scheme fits each key. */
	ck_assert_int_eq(eid_signer_sign_digest(es, EID_SIG_DEFAULT, EID_HASH_SHA256, digest, 32, &sig), EID_OK);
	ck_assert_int_eq(calls.scheme, EID_SIG_ECDSA);
	ck_assert_int_eq(eid_signer_sign_digest(rs, EID_SIG_DEFAULT, EID_HASH_SHA256, digest, 32, &sig), EID_OK);
	ck_assert_int_eq(calls.scheme, EID_SIG_RSA_PKCS1);
	eid_buf_clear(&sig);
	eid_signer_free(es);
	eid_signer_free(rs);
	ck_assert_int_eq(calls.frees, 2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	free(ec_cert);
	free(rsa_cert);
}
END_TEST

START_TEST(test_signer_sign_digest__raw_ecdsa_becomes_der)
{
	static const char *const curves[] = { "P-256", "P-384", "P-521" };
	size_t c;

	for (c = 0; c < 3; c++) {
		unsigned char *cert, digest[EVP_MAX_MD_SIZE];
		size_t len, dlen = unit_digest(EID_HASH_SHA256, curves[c], 5, digest);
		EVP_PKEY *key = fresh_key(curves[c], &cert, &len);
		fake_impl *f = fake_new(key);
		eid_signer *s = NULL;
		eid_buf sig = EID_BUF_INIT;
		const unsigned char *p;
		ECDSA_SIG *es;
		int i;

		f->raw_ecdsa = 1;
		ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, f, cert, len), EID_OK);
		for (i = 0; i < 4; i++) {
			ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA256, digest, dlen, &sig), EID_OK);
			p = sig.data;
			es = d2i_ECDSA_SIG(NULL, &p, (long)sig.len);
			ck_assert_msg(es != NULL && p == sig.data + sig.len, "%s: not DER", curves[c]);
			ECDSA_SIG_free(es);
			ck_assert(unit_verify_digest(key, EID_SIG_ECDSA, EID_HASH_SHA256, digest, dlen, sig.data, sig.len));
		}
		eid_buf_clear(&sig);
		eid_signer_free(s);
		EVP_PKEY_free(key);
		free(cert);
	}
}
END_TEST

START_TEST(test_signer_sign_digest__implementation_error_passed_on)
{
	unsigned char *cert, digest[32];
	size_t len;
	EVP_PKEY *key = fresh_key("P-256", &cert, &len);
	fake_impl *f = fake_new(key);
	eid_signer *s = NULL;
	eid_buf sig = EID_BUF_INIT;

	f->fail_with = EID_ETOKEN_REMOVED;
	memset(digest, 9, sizeof(digest));
	ck_assert_int_eq(eid_signer_new_custom(&s, &fake_ops, f, cert, len), EID_OK);
	ck_assert_int_eq(eid_buf_set(&sig, "old", 3), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, &sig), EID_ETOKEN_REMOVED);
	ck_assert_ptr_null(sig.data);
	ck_assert_uint_eq(sig.len, 0);
	eid_signer_free(s);
	EVP_PKEY_free(key);
	free(cert);
}
END_TEST

/* ---- eid_signer_new_external and the accessors ---- */

START_TEST(test_signer_new_external__cannot_sign)
{
	char *path = unit_pki("citizen-p256.der"), *intp = unit_pki("int.der");
	size_t len, int_len, got_len;
	unsigned char *der = unit_read(path, &len), *int_der = unit_read(intp, &int_len), digest[32];
	const unsigned char *got;
	eid_signer *s = NULL;
	eid_buf sig = EID_BUF_INIT;

	memset(digest, 5, sizeof(digest));
	ck_assert_int_eq(eid_signer_new_external(&s, der, len), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_DEFAULT, EID_HASH_SHA256, digest, 32, &sig), EID_EEXTERNAL);
	ck_assert_int_eq(eid_error_last()->code, EID_EEXTERNAL);
	ck_assert_ptr_null(sig.data);
	/* Argument checks still come first. */
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_DEFAULT, EID_HASH_SHA256, digest, 20, &sig), EID_EINVAL);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);

	ck_assert_int_eq(eid_signer_certificate(s, &got, &got_len), EID_OK);
	ck_assert_uint_eq(got_len, len);
	ck_assert_mem_eq(got, der, len);
	ck_assert_str_eq(eid_signer_name(s), "Mari Maasikas (Signature)");
	ck_assert_int_eq(eid_signer_key_type(s), EID_KEY_EC);
	ck_assert_uint_eq(eid_signer_key_bits(s), 256);

	ck_assert_uint_eq(eid_signer_chain_count(s), 0);
	ck_assert_int_eq(eid_signer_chain_cert(s, 0, &got, &got_len), EID_EINVAL);
	ck_assert_int_eq(eid_signer_add_chain_cert(s, int_der, int_len), EID_OK);
	ck_assert_uint_eq(eid_signer_chain_count(s), 1);
	ck_assert_int_eq(eid_signer_chain_cert(s, 0, &got, &got_len), EID_OK);
	ck_assert_uint_eq(got_len, int_len);
	ck_assert_mem_eq(got, int_der, int_len);
	ck_assert_int_eq(eid_signer_add_chain_cert(s, int_der, int_len - 1), EID_ECERT);
	ck_assert_uint_eq(eid_signer_chain_count(s), 1);
	ck_assert_int_eq(eid_signer_add_chain_cert(NULL, int_der, int_len), EID_EINVAL);

	eid_signer_free(s);
	eid_buf_clear(&sig);
	free(der);
	free(int_der);
	free(path);
	free(intp);
}
END_TEST

START_TEST(test_signer_new_external__accessors_accept_null)
{
	const unsigned char *der;
	size_t len;

	ck_assert_uint_eq(eid_signer_chain_count(NULL), 0);
	ck_assert_int_eq(eid_signer_key_type(NULL), EID_KEY_UNKNOWN);
	ck_assert_uint_eq(eid_signer_key_bits(NULL), 0);
	ck_assert_ptr_null(eid_signer_name(NULL));
	ck_assert_int_eq(eid_signer_certificate(NULL, &der, &len), EID_EINVAL);
	ck_assert_int_eq(eid_signer_chain_cert(NULL, 0, &der, &len), EID_EINVAL);
}
END_TEST

/* ---- eid_signer_new_pkcs12 ---- */

START_TEST(test_signer_new_pkcs12__rsa_signs)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	size_t i;

	ck_assert_str_eq(eid_signer_name(s), CITIZEN_NAME);
	ck_assert_int_eq(eid_signer_key_type(s), EID_KEY_RSA);
	ck_assert_uint_eq(eid_signer_key_bits(s), 2048);
	for (i = 0; i < sizeof(all_hashes) / sizeof(all_hashes[0]); i++) {
		sign_and_check(s, EID_SIG_RSA_PKCS1, all_hashes[i]);
		sign_and_check(s, EID_SIG_RSA_PSS, all_hashes[i]);
	}
	sign_and_check(s, EID_SIG_DEFAULT, EID_HASH_DEFAULT);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_signer_new_pkcs12__ec_signs_der)
{
	static const char *const files[] = { "citizen-p256.p12", "citizen-p384.p12" };
	size_t f, i;

	for (f = 0; f < 2; f++) {
		eid_signer *s = pkcs12_signer(files[f]);

		ck_assert_int_eq(eid_signer_key_type(s), EID_KEY_EC);
		for (i = 0; i < sizeof(all_hashes) / sizeof(all_hashes[0]); i++)
			sign_and_check(s, EID_SIG_ECDSA, all_hashes[i]);
		eid_signer_free(s);
	}
}
END_TEST

START_TEST(test_signer_new_pkcs12__chain)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	char *intp = unit_pki("int.der"), *rootp = unit_pki("root.der"), *leafp = unit_pki("citizen-rsa2048.der");
	size_t int_len, root_len, leaf_len, i, len;
	unsigned char *int_der = unit_read(intp, &int_len), *root_der = unit_read(rootp, &root_len);
	unsigned char *leaf_der = unit_read(leafp, &leaf_len);
	const unsigned char *der;
	int have_int = 0, have_root = 0;

	ck_assert_int_eq(eid_signer_certificate(s, &der, &len), EID_OK);
	ck_assert_uint_eq(len, leaf_len);
	ck_assert_mem_eq(der, leaf_der, len);
	ck_assert_uint_eq(eid_signer_chain_count(s), 2);
	for (i = 0; i < eid_signer_chain_count(s); i++) {
		ck_assert_int_eq(eid_signer_chain_cert(s, i, &der, &len), EID_OK);
		have_int |= len == int_len && memcmp(der, int_der, len) == 0;
		have_root |= len == root_len && memcmp(der, root_der, len) == 0;
	}
	ck_assert(have_int);
	ck_assert(have_root);
	eid_signer_free(s);
	free(int_der);
	free(root_der);
	free(leaf_der);
	free(intp);
	free(rootp);
	free(leafp);
}
END_TEST

START_TEST(test_signer_new_pkcs12__wrong_password)
{
	char *path = unit_pki("citizen-rsa2048.p12");
	eid_signer *s = (eid_signer *)&calls; /* must be reset */

	ck_assert_int_eq(eid_signer_new_pkcs12(&s, path, "wrong"), EID_EPASSWORD);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(eid_signer_new_pkcs12(&s, path, ""), EID_EPASSWORD);
	ck_assert_int_eq(eid_signer_new_pkcs12(&s, path, NULL), EID_EPASSWORD);
	ck_assert_int_eq(eid_signer_new_pkcs12(&s, path, "Test"), EID_EPASSWORD);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	free(path);
}
END_TEST

START_TEST(test_signer_new_pkcs12__not_pkcs12)
{
	static const char *const files[] = { "root.der", "root.crt", "citizen-rsa2048.key", "int.crl.der" };
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = unit_pki(files[i]);
		eid_signer *s = NULL;

		ck_assert_msg(eid_signer_new_pkcs12(&s, path, "test") == EID_EFORMAT, "%s: %s", files[i],
			      eid_error_last()->message);
		ck_assert_ptr_null(s);
		free(path);
	}
}
END_TEST

START_TEST(test_signer_new_pkcs12__missing_file)
{
	char *path = unit_pki("no-such-file.p12");
	eid_signer *s = NULL;

	ck_assert_int_eq(eid_signer_new_pkcs12(&s, path, "test"), EID_EIO);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(eid_signer_new_pkcs12(&s, NULL, "test"), EID_EINVAL);
	ck_assert_int_eq(eid_signer_new_pkcs12(NULL, path, "test"), EID_EINVAL);
	free(path);
}
END_TEST

START_TEST(test_signer_new_pkcs12__scheme_mismatch)
{
	eid_signer *s = pkcs12_signer("citizen-p256.p12");
	unsigned char digest[32];
	eid_buf sig = EID_BUF_INIT;

	memset(digest, 7, sizeof(digest));
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PSS, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, digest, 32, &sig), EID_EMECHANISM);
	ck_assert_ptr_null(sig.data);
	eid_signer_free(s);
}
END_TEST

/* ---- eid_signer__scheme ---- */

START_TEST(test_signer_signer__scheme__defaults)
{
	eid_signer *rsa = pkcs12_signer("citizen-rsa2048.p12"), *ec = pkcs12_signer("citizen-p256.p12");
	eid_sig_scheme out = EID_SIG_DEFAULT;

	ck_assert_int_eq(eid_signer__scheme(rsa, EID_SIG_DEFAULT, &out), EID_OK);
	ck_assert_int_eq(out, EID_SIG_RSA_PKCS1);
	ck_assert_int_eq(eid_signer__scheme(rsa, EID_SIG_RSA_PSS, &out), EID_OK);
	ck_assert_int_eq(out, EID_SIG_RSA_PSS);
	ck_assert_int_eq(eid_signer__scheme(ec, EID_SIG_DEFAULT, &out), EID_OK);
	ck_assert_int_eq(out, EID_SIG_ECDSA);
	out = EID_SIG_DEFAULT;
	ck_assert_int_eq(eid_signer__scheme(ec, EID_SIG_RSA_PKCS1, &out), EID_EMECHANISM);
	ck_assert_int_eq(out, EID_SIG_DEFAULT);
	eid_signer_free(rsa);
	eid_signer_free(ec);
}
END_TEST

static Suite *signer_suite(void)
{
	Suite *s = suite_create("signer");
	TCase *tc;

	tc = tcase_create("eid_hash_name");
	tcase_add_test(tc, test_signer_hash_name__values);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_hash_size");
	tcase_add_test(tc, test_signer_hash_size__values);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_hash_from_name");
	tcase_add_test(tc, test_signer_hash_from_name__names_and_aliases);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_hash__md");
	tcase_add_test(tc, test_signer_hash__md__and_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_token__digestinfo");
	tcase_add_test(tc, test_signer_token__digestinfo__matches_openssl);
	tcase_add_test(tc, test_signer_token__digestinfo__default_is_sha256);
	tcase_add_test(tc, test_signer_token__digestinfo__wrong_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_token__ecdsa_der_to_raw");
	tcase_add_test(tc, test_signer_token__ecdsa_der_to_raw__p256_round_trip);
	tcase_add_test(tc, test_signer_token__ecdsa_der_to_raw__p384_round_trip);
	tcase_add_test(tc, test_signer_token__ecdsa_der_to_raw__bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_token__ecdsa_raw_to_der");
	tcase_add_test(tc, test_signer_token__ecdsa_raw_to_der__leading_zeros);
	tcase_add_test(tc, test_signer_token__ecdsa_raw_to_der__bad_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_token__ec_field_len");
	tcase_add_test(tc, test_signer_token__ec_field_len__curves);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_signer_new_custom");
	tcase_add_test(tc, test_signer_new_custom__version_checked);
	tcase_add_test(tc, test_signer_new_custom__bad_certificate_frees_impl);
	tcase_add_test(tc, test_signer_new_custom__signs_and_frees_once);
	tcase_add_test(tc, test_signer_new_custom__pem_certificate);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_signer_sign_digest");
	tcase_add_test(tc, test_signer_sign_digest__wrong_digest_length);
	tcase_add_test(tc, test_signer_sign_digest__scheme_key_mismatch);
	tcase_add_test(tc, test_signer_sign_digest__raw_ecdsa_becomes_der);
	tcase_add_test(tc, test_signer_sign_digest__implementation_error_passed_on);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_signer_new_external");
	tcase_add_test(tc, test_signer_new_external__cannot_sign);
	tcase_add_test(tc, test_signer_new_external__accessors_accept_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_signer_new_pkcs12");
	tcase_add_test(tc, test_signer_new_pkcs12__rsa_signs);
	tcase_add_test(tc, test_signer_new_pkcs12__ec_signs_der);
	tcase_add_test(tc, test_signer_new_pkcs12__chain);
	tcase_add_test(tc, test_signer_new_pkcs12__wrong_password);
	tcase_add_test(tc, test_signer_new_pkcs12__not_pkcs12);
	tcase_add_test(tc, test_signer_new_pkcs12__missing_file);
	tcase_add_test(tc, test_signer_new_pkcs12__scheme_mismatch);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_signer__scheme");
	tcase_add_test(tc, test_signer_signer__scheme__defaults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(signer_suite());
}
