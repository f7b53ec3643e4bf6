/*
 * Unit tests of libeid/cms/cades.c: CAdES B-B signatures in one and two
 * steps, checked with OpenSSL's own CMS_verify().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "cms/cms.h"
#include "unit.h"

static char *tmp, *data_path;
static const char DATA[] = "libeid CAdES unit test content\n\x00\x01\x02\xff binary too\n";

static void setup(void)
{
	tmp = unit_tmpdir();
	data_path = unit_join(tmp, "data.bin");
	unit_write(data_path, DATA, sizeof(DATA) - 1);
}

static void teardown(void)
{
	unit_rmtree(tmp);
	free(tmp);
	free(data_path);
	tmp = data_path = NULL;
}

static eid_signer *pkcs12_signer(const char *name)
{
	char *path = unit_pki(name);
	eid_signer *s = NULL;

	ck_assert_msg(eid_signer_new_pkcs12(&s, path, "test") == EID_OK, "%s: %s", path, eid_error_last()->message);
	free(path);
	return s;
}

static void store_add(X509_STORE *store, const char *pki_name)
{
	char *path = unit_pki(pki_name);
	X509 *x = unit_load_cert(path);

	ck_assert_int_eq(X509_STORE_add_cert(store, x), 1);
	X509_free(x);
	free(path);
}

static CMS_ContentInfo *parse_cms(const eid_buf *der)
{
	const unsigned char *p = der->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der->len);

	ck_assert_ptr_nonnull(cms);
	ck_assert_ptr_eq(p, der->data + der->len);
	return cms;
}

/*
 * CMS_verify() the DER against root.crt + int.crt (or only @anchor) over the
 * file at @path.  Returns 1 when OpenSSL accepts it.
 */
static int openssl_verifies(const eid_buf *der, const char *path, X509 *anchor)
{
	CMS_ContentInfo *cms = parse_cms(der);
	X509_STORE *store = X509_STORE_new();
	BIO *content = BIO_new_file(path, "rb");
	int ok;

	ck_assert_ptr_nonnull(content);
	if (anchor != NULL) {
		ck_assert_int_eq(X509_STORE_add_cert(store, anchor), 1);
	} else {
		store_add(store, "root.crt");
		store_add(store, "int.crt");
	}
	ok = CMS_verify(cms, NULL, store, content, NULL, CMS_BINARY | CMS_DETACHED) == 1;
	if (!ok)
		ERR_print_errors_fp(stderr);
	ERR_clear_error();
	BIO_free(content);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	return ok;
}

static CMS_SignerInfo *first_signer(CMS_ContentInfo *cms)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);

	ck_assert_ptr_nonnull(sis);
	ck_assert_int_eq(sk_CMS_SignerInfo_num(sis), 1);
	return sk_CMS_SignerInfo_value(sis, 0);
}

static int has_attr(CMS_SignerInfo *si, int nid)
{
	return CMS_signed_get_attr_by_NID(si, nid, -1) >= 0;
}

/* The signing-time attribute in seconds since 1970, or -1. */
static int64_t signing_time(CMS_SignerInfo *si)
{
	int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	ASN1_TYPE *t;
	struct tm tm;

	if (i < 0)
		return -1;
	t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0);
	ck_assert_ptr_nonnull(t);
	ck_assert(t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME);
	ck_assert_int_eq(ASN1_TIME_to_tm(t->value.utctime, &tm), 1);
	return (int64_t)timegm(&tm);
}

static void sign_file_ok(eid_signer *s, const eid_cades_opts *opts, eid_buf *out)
{
	int rc = eid_cades_sign_file(s, data_path, opts, out);

	ck_assert_msg(rc == EID_OK, "eid_cades_sign_file: %s", eid_error_last()->message);
	ck_assert_uint_gt(out->len, 0);
}

/* ---- a custom EC signer with a key and certificate made here ---- */

static void ec_free(void *impl)
{
	EVP_PKEY_free(impl);
}

static int ec_sign(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest, size_t len,
		   eid_buf *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(impl, NULL);
	unsigned char sig[160];
	size_t slen = sizeof(sig);

	ck_assert_int_eq(scheme, EID_SIG_ECDSA);
	ck_assert_uint_eq(len, eid_hash_size(hash));
	ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &slen, digest, len), 1);
	EVP_PKEY_CTX_free(ctx);
	return eid_buf_set(out, sig, slen);
}

static eid_signer *ec_signer(const char *curve, X509 **cert_out)
{
	static const eid_signer_ops ops = { EID_SIGNER_OPS_VERSION, ec_sign, ec_free };
	EVP_PKEY *key = EVP_EC_gen(curve);
	X509 *x;
	unsigned char *der;
	size_t len;
	eid_signer *s = NULL;

	ck_assert_ptr_nonnull(key);
	x = unit_self_signed(key, "In-Test EC Signer", NULL);
	der = unit_cert_der(x, &len);
	ck_assert_int_eq(eid_signer_new_custom(&s, &ops, key, der, len), EID_OK);
	free(der);
	*cert_out = x;
	return s;
}

/* An external signer for the certificate (and chain) of @real. */
static eid_signer *external_twin(const eid_signer *real)
{
	const unsigned char *der;
	size_t len, i;
	eid_signer *ext = NULL;

	ck_assert_int_eq(eid_signer_certificate(real, &der, &len), EID_OK);
	ck_assert_int_eq(eid_signer_new_external(&ext, der, len), EID_OK);
	for (i = 0; i < eid_signer_chain_count(real); i++) {
		ck_assert_int_eq(eid_signer_chain_cert(real, i, &der, &len), EID_OK);
		ck_assert_int_eq(eid_signer_add_chain_cert(ext, der, len), EID_OK);
	}
	return ext;
}

/* ---- eid_cades_sign_file ---- */

START_TEST(test_cades_sign_file__openssl_verifies)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_buf out = EID_BUF_INIT;

	sign_file_ok(s, NULL, &out);
	ck_assert(openssl_verifies(&out, data_path, NULL));
	eid_buf_clear(&out);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__signed_attributes)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_buf out = EID_BUF_INIT;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	unsigned char digest[32];
	ASN1_TYPE *md;
	int64_t now = (int64_t)time(NULL), t;

	sign_file_ok(s, NULL, &out);
	cms = parse_cms(&out);
	ck_assert_int_eq(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
	ck_assert_ptr_null(CMS_get0_content(cms) ? *CMS_get0_content(cms) : NULL); /* detached */
	si = first_signer(cms);
	ck_assert(has_attr(si, NID_pkcs9_contentType));
	ck_assert(has_attr(si, NID_pkcs9_messageDigest));
	ck_assert(has_attr(si, NID_id_smime_aa_signingCertificateV2));
	ck_assert(has_attr(si, NID_pkcs9_signingTime));
	ck_assert(!has_attr(si, NID_SMIMECapabilities));
	ck_assert_int_eq(CMS_signed_get_attr_count(si), 4);
	/* The message digest is SHA-256 of the file. */
	unit_digest(EID_HASH_SHA256, DATA, sizeof(DATA) - 1, digest);
	md = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1)), 0);
	ck_assert_int_eq(md->type, V_ASN1_OCTET_STRING);
	ck_assert_int_eq(ASN1_STRING_length(md->value.octet_string), 32);
	ck_assert_mem_eq(ASN1_STRING_get0_data(md->value.octet_string), digest, 32);
	t = signing_time(si);
	ck_assert_int_le(t > now ? t - now : now - t, 60);
	/* The chain from the PKCS#12 file is embedded with the signer's certificate. */
	{
		STACK_OF(X509) *certs = CMS_get1_certs(cms);

		ck_assert_int_eq(sk_X509_num(certs), 3);
		sk_X509_pop_free(certs, X509_free);
	}
	CMS_ContentInfo_free(cms);
	eid_buf_clear(&out);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__no_signing_time)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_cades_opts o = EID_CADES_OPTS_INIT;
	eid_buf out = EID_BUF_INIT;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;

	o.flags = EID_CADES_NO_SIGNING_TIME;
	sign_file_ok(s, &o, &out);
	ck_assert(openssl_verifies(&out, data_path, NULL));
	cms = parse_cms(&out);
	si = first_signer(cms);
	ck_assert(!has_attr(si, NID_pkcs9_signingTime));
	ck_assert(has_attr(si, NID_id_smime_aa_signingCertificateV2));
	ck_assert_int_eq(CMS_signed_get_attr_count(si), 3);
	CMS_ContentInfo_free(cms);
	eid_buf_clear(&out);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__given_signing_time_is_deterministic)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_cades_opts o = EID_CADES_OPTS_INIT;
	eid_buf a = EID_BUF_INIT, b = EID_BUF_INIT;
	CMS_ContentInfo *cms;

	o.signing_time = 1700000000; /* 2023-11-14T22:13:20Z */
	sign_file_ok(s, &o, &a);
	sign_file_ok(s, &o, &b);
	cms = parse_cms(&a);
	ck_assert_int_eq(signing_time(first_signer(cms)), 1700000000);
	CMS_ContentInfo_free(cms);
	/* RSA PKCS#1 v1.5 is deterministic: the same input gives the same bytes. */
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	eid_buf_clear(&a);
	eid_buf_clear(&b);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__hashes_and_pss)
{
	static const eid_hash hashes[] = { EID_HASH_SHA256, EID_HASH_SHA384, EID_HASH_SHA512 };
	static const int nids[] = { NID_sha256, NID_sha384, NID_sha512 };
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	size_t i;
	int pss;

	for (pss = 0; pss < 2; pss++) {
		for (i = 0; i < 3; i++) {
			eid_cades_opts o = EID_CADES_OPTS_INIT;
			eid_buf out = EID_BUF_INIT;
			CMS_ContentInfo *cms;
			X509_ALGOR *dig = NULL, *sig = NULL;

			o.hash = hashes[i];
			o.scheme = pss ? EID_SIG_RSA_PSS : EID_SIG_RSA_PKCS1;
			sign_file_ok(s, &o, &out);
			ck_assert_msg(openssl_verifies(&out, data_path, NULL), "hash %zu pss %d", i, pss);
			cms = parse_cms(&out);
			CMS_SignerInfo_get0_algs(first_signer(cms), NULL, NULL, &dig, &sig);
			ck_assert_int_eq(OBJ_obj2nid(dig->algorithm), nids[i]);
			ck_assert_int_eq(OBJ_obj2nid(sig->algorithm), pss ? NID_rsassaPss : NID_rsaEncryption);
			CMS_ContentInfo_free(cms);
			eid_buf_clear(&out);
		}
	}
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__ec_pkcs12)
{
	static const char *const files[] = { "citizen-p256.p12", "citizen-p384.p12" };
	size_t f;

	for (f = 0; f < 2; f++) {
		eid_signer *s = pkcs12_signer(files[f]);
		eid_cades_opts o = EID_CADES_OPTS_INIT;
		eid_buf out = EID_BUF_INIT;

		o.hash = f == 0 ? EID_HASH_SHA256 : EID_HASH_SHA384;
		sign_file_ok(s, &o, &out);
		ck_assert_msg(openssl_verifies(&out, data_path, NULL), "%s", files[f]);
		eid_buf_clear(&out);
		eid_signer_free(s);
	}
}
END_TEST

START_TEST(test_cades_sign_file__custom_ec_signer)
{
	static const char *const curves[] = { "P-256", "P-384" };
	size_t c;

	for (c = 0; c < 2; c++) {
		X509 *cert;
		eid_signer *s = ec_signer(curves[c], &cert);
		eid_buf out = EID_BUF_INIT;
		CMS_ContentInfo *cms;
		X509_ALGOR *sig = NULL;

		sign_file_ok(s, NULL, &out);
		ck_assert_msg(openssl_verifies(&out, data_path, cert), "%s", curves[c]);
		cms = parse_cms(&out);
		CMS_SignerInfo_get0_algs(first_signer(cms), NULL, NULL, NULL, &sig);
		ck_assert_int_eq(OBJ_obj2nid(sig->algorithm), NID_ecdsa_with_SHA256);
		CMS_ContentInfo_free(cms);
		eid_buf_clear(&out);
		eid_signer_free(s);
		X509_free(cert);
	}
}
END_TEST

START_TEST(test_cades_sign_file__no_chain)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_cades_opts o = EID_CADES_OPTS_INIT;
	eid_buf out = EID_BUF_INIT;
	CMS_ContentInfo *cms;
	STACK_OF(X509) *certs;

	o.flags = EID_CADES_NO_CHAIN;
	sign_file_ok(s, &o, &out);
	ck_assert(openssl_verifies(&out, data_path, NULL)); /* int.crt is in the store */
	cms = parse_cms(&out);
	certs = CMS_get1_certs(cms);
	ck_assert_int_eq(sk_X509_num(certs), 1);
	ck_assert_int_eq(X509_cmp(sk_X509_value(certs, 0), eid_signer__cert(s)), 0);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	eid_buf_clear(&out);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__unsupported_level)
{
	static const eid_level levels[] = { EID_LEVEL_B_LT, EID_LEVEL_B_LTA, (eid_level)99 };
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_buf out = EID_BUF_INIT;
	eid_cades_prep *prep = NULL;
	size_t i;

	/* B-T needs a TSA; offline, asking one fails before anything is written */
	{
		eid_cades_opts o = EID_CADES_OPTS_INIT;
		eid_online *online = NULL;

		o.level = EID_LEVEL_B_T;
		ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_EINVAL);
		ck_assert_int_eq(eid_online_new(&online), EID_OK);
		ck_assert_int_eq(eid_online_set_tsa(online, "https://127.0.0.1:1/tsa", NULL), EID_EUNSUPPORTED);
		ck_assert_int_eq(eid_online_set_tsa(online, "http://127.0.0.1:1/tsa", "1.2.3.4"), EID_OK);
		ck_assert_int_eq(eid_online_set_offline(online, 1), EID_OK);
		o.online = online;
		ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_ENETWORK);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "offline"));
		/* nothing listens on port 1: a clear network error naming the server */
		ck_assert_int_eq(eid_online_set_offline(online, 0), EID_OK);
		ck_assert_int_eq(eid_online_set_timeout(online, 2), EID_OK);
		ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_ENETWORK);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "127.0.0.1:1"));
		ck_assert_ptr_null(out.data);
		eid_online_free(online);
	}

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		eid_cades_opts o = EID_CADES_OPTS_INIT;

		o.level = levels[i];
		ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_EUNSUPPORTED);
		ck_assert_int_eq(eid_cades_prepare_file(&prep, s, data_path, &o), EID_EUNSUPPORTED);
		ck_assert_ptr_null(prep);
	}
	ck_assert_ptr_null(out.data);
	{
		eid_cades_opts o = EID_CADES_OPTS_INIT;

		o.level = EID_LEVEL_B_B;
		sign_file_ok(s, &o, &out);
	}
	eid_buf_clear(&out);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__bad_options)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_cades_opts o = EID_CADES_OPTS_INIT;
	eid_buf out = EID_BUF_INIT;

	o.version = 99;
	ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_EVERSION);
	o.version = EID_CADES_OPTS_VERSION;
	o.hash = (eid_hash)9;
	ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_EINVAL);
	o.hash = EID_HASH_DEFAULT;
	o.scheme = EID_SIG_ECDSA;
	ck_assert_int_eq(eid_cades_sign_file(s, data_path, &o, &out), EID_EMECHANISM);
	ck_assert_ptr_null(out.data);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__missing_file)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	char *missing = unit_join(tmp, "missing.bin");
	eid_buf out = EID_BUF_INIT;

	ck_assert_int_eq(eid_cades_sign_file(s, missing, NULL, &out), EID_EIO);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, missing));
	ck_assert_int_eq(eid_cades_sign_file(s, NULL, NULL, &out), EID_EINVAL);
	ck_assert_int_eq(eid_cades_sign_file(s, tmp, NULL, &out), EID_EIO); /* a folder */
	ck_assert_ptr_null(out.data);
	free(missing);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_sign_file__external_signer)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12"), *ext = external_twin(s);
	eid_buf out = EID_BUF_INIT;

	ck_assert_int_eq(eid_cades_sign_file(ext, data_path, NULL, &out), EID_EEXTERNAL);
	ck_assert_ptr_null(out.data);
	eid_signer_free(ext);
	eid_signer_free(s);
}
END_TEST

/* ---- eid_cades_prepare_file, eid_cades_prep_digest, eid_cades_complete ---- */

START_TEST(test_cades_complete__two_steps)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12"), *ext = external_twin(s);
	eid_cades_prep *prep = NULL;
	const unsigned char *d;
	size_t dlen;
	eid_hash hash;
	eid_sig_scheme scheme;
	eid_buf sig = EID_BUF_INIT, out = EID_BUF_INIT;

	ck_assert_int_eq(eid_cades_prepare_file(&prep, ext, data_path, NULL), EID_OK);
	ck_assert_ptr_nonnull(prep);
	ck_assert_int_eq(eid_cades_prep_digest(prep, &d, &dlen, &hash, &scheme), EID_OK);
	ck_assert_uint_eq(dlen, 32);
	ck_assert_int_eq(hash, EID_HASH_SHA256);
	ck_assert_int_eq(scheme, EID_SIG_RSA_PKCS1);
	ck_assert_int_eq(eid_signer_sign_digest(s, scheme, hash, d, dlen, &sig), EID_OK);
	ck_assert_int_eq(eid_cades_complete(prep, sig.data, sig.len, &out), EID_OK);
	ck_assert(openssl_verifies(&out, data_path, NULL));
	eid_cades_prep_free(prep);
	eid_buf_clear(&sig);
	eid_buf_clear(&out);
	eid_signer_free(ext);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_complete__wrong_signature)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12"), *ext = external_twin(s);
	eid_cades_prep *prep = NULL;
	const unsigned char *d;
	size_t dlen;
	eid_buf sig = EID_BUF_INIT, out = EID_BUF_INIT;

	ck_assert_int_eq(eid_cades_prepare_file(&prep, ext, data_path, NULL), EID_OK);
	ck_assert_int_eq(eid_cades_prep_digest(prep, &d, &dlen, NULL, NULL), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, d, dlen, &sig), EID_OK);
	sig.data[sig.len / 2] ^= 0x01;
	ck_assert_int_eq(eid_cades_complete(prep, sig.data, sig.len, &out), EID_EINVAL);
	ck_assert_ptr_null(out.data);
	ck_assert_uint_eq(out.len, 0);
	/* A value made with PSS does not pass for PKCS#1 v1.5. */
	sig.data[sig.len / 2] ^= 0x01;
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PSS, EID_HASH_SHA256, d, dlen, &sig), EID_OK);
	ck_assert_int_eq(eid_cades_complete(prep, sig.data, sig.len, &out), EID_EINVAL);
	ck_assert_int_eq(eid_cades_complete(prep, sig.data, 0, &out), EID_EINVAL);
	ck_assert_int_eq(eid_cades_complete(prep, NULL, 10, &out), EID_EINVAL);
	ck_assert_ptr_null(out.data);
	/* The prepared signature is still usable with the right value. */
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, d, dlen, &sig), EID_OK);
	ck_assert_int_eq(eid_cades_complete(prep, sig.data, sig.len, &out), EID_OK);
	ck_assert(openssl_verifies(&out, data_path, NULL));
	eid_cades_prep_free(prep);
	eid_buf_clear(&sig);
	eid_buf_clear(&out);
	eid_signer_free(ext);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_complete__twice)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12"), *ext = external_twin(s);
	eid_cades_prep *prep = NULL;
	const unsigned char *d;
	size_t dlen;
	eid_buf sig = EID_BUF_INIT, out = EID_BUF_INIT, again = EID_BUF_INIT;

	ck_assert_int_eq(eid_cades_prepare_file(&prep, ext, data_path, NULL), EID_OK);
	ck_assert_int_eq(eid_cades_prep_digest(prep, &d, &dlen, NULL, NULL), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, d, dlen, &sig), EID_OK);
	ck_assert_int_eq(eid_cades_complete(prep, sig.data, sig.len, &out), EID_OK);
	ck_assert_int_lt(eid_cades_complete(prep, sig.data, sig.len, &again), 0);
	ck_assert_ptr_null(again.data);
	eid_cades_prep_free(prep);
	eid_cades_prep_free(NULL);
	eid_buf_clear(&sig);
	eid_buf_clear(&out);
	eid_signer_free(ext);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_cades_complete__ecdsa_raw_and_der)
{
	static const char *const files[] = { "citizen-p256.p12", "citizen-p384.p12" };
	static const size_t fields[] = { 32, 48 };
	size_t f;
	int raw;

	for (f = 0; f < 2; f++) {
		for (raw = 0; raw < 2; raw++) {
			eid_signer *s = pkcs12_signer(files[f]), *ext = external_twin(s);
			eid_cades_prep *prep = NULL;
			const unsigned char *d;
			size_t dlen;
			eid_hash hash;
			eid_sig_scheme scheme;
			eid_buf sig = EID_BUF_INIT, value = EID_BUF_INIT, out = EID_BUF_INIT;

			ck_assert_int_eq(eid_cades_prepare_file(&prep, ext, data_path, NULL), EID_OK);
			ck_assert_int_eq(eid_cades_prep_digest(prep, &d, &dlen, &hash, &scheme), EID_OK);
			ck_assert_int_eq(scheme, EID_SIG_ECDSA);
			ck_assert_int_eq(eid_signer_sign_digest(s, scheme, hash, d, dlen, &sig), EID_OK);
			if (raw) {
				ck_assert_int_eq(eid_token__ecdsa_der_to_raw(sig.data, sig.len, fields[f], &value), EID_OK);
				ck_assert_uint_eq(value.len, 2 * fields[f]);
			} else {
				ck_assert_int_eq(eid_buf_set(&value, sig.data, sig.len), EID_OK);
			}
			ck_assert_msg(eid_cades_complete(prep, value.data, value.len, &out) == EID_OK, "%s raw=%d: %s",
				      files[f], raw, eid_error_last()->message);
			ck_assert_msg(openssl_verifies(&out, data_path, NULL), "%s raw=%d", files[f], raw);
			eid_cades_prep_free(prep);
			eid_buf_clear(&sig);
			eid_buf_clear(&value);
			eid_buf_clear(&out);
			eid_signer_free(ext);
			eid_signer_free(s);
		}
	}
}
END_TEST

START_TEST(test_cades_prepare_file__options)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_cades_opts o = EID_CADES_OPTS_INIT;
	eid_cades_prep *prep = (eid_cades_prep *)&o;
	char *missing = unit_join(tmp, "missing");

	o.version = 99;
	ck_assert_int_eq(eid_cades_prepare_file(&prep, s, data_path, &o), EID_EVERSION);
	ck_assert_ptr_null(prep);
	o.version = EID_CADES_OPTS_VERSION;
	ck_assert_int_eq(eid_cades_prepare_file(&prep, s, missing, &o), EID_EIO);
	ck_assert_ptr_null(prep);
	ck_assert_int_eq(eid_cades_prepare_file(&prep, NULL, data_path, &o), EID_EINVAL);
	ck_assert_int_eq(eid_cades_prepare_file(NULL, s, data_path, &o), EID_EINVAL);
	o.hash = EID_HASH_SHA512;
	ck_assert_int_eq(eid_cades_prepare_file(&prep, s, data_path, &o), EID_OK);
	{
		const unsigned char *d;
		size_t dlen;
		eid_hash h;

		ck_assert_int_eq(eid_cades_prep_digest(prep, &d, &dlen, &h, NULL), EID_OK);
		ck_assert_uint_eq(dlen, 64);
		ck_assert_int_eq(h, EID_HASH_SHA512);
		ck_assert_int_eq(eid_cades_prep_digest(NULL, &d, &dlen, NULL, NULL), EID_EINVAL);
		ck_assert_int_eq(eid_cades_prep_digest(prep, NULL, &dlen, NULL, NULL), EID_EINVAL);
	}
	eid_cades_prep_free(prep);
	free(missing);
	eid_signer_free(s);
}
END_TEST

/* ---- eid_cades_prepare_digest ---- */

START_TEST(test_cades_prepare_digest__same_as_file)
{
	eid_signer *s = pkcs12_signer("citizen-rsa2048.p12");
	eid_cades_opts o = EID_CADES_OPTS_INIT;
	eid_cades_prep *a = NULL, *b = NULL;
	unsigned char digest[48];
	const unsigned char *da, *db;
	size_t la, lb;

	o.hash = EID_HASH_SHA384;
	o.signing_time = 1800000000;
	unit_digest(EID_HASH_SHA384, DATA, sizeof(DATA) - 1, digest);
	ck_assert_int_eq(eid_cades_prepare_file(&a, s, data_path, &o), EID_OK);
	ck_assert_int_eq(eid_cades_prepare_digest(&b, s, digest, 48, &o), EID_OK);
	ck_assert_int_eq(eid_cades_prep_digest(a, &da, &la, NULL, NULL), EID_OK);
	ck_assert_int_eq(eid_cades_prep_digest(b, &db, &lb, NULL, NULL), EID_OK);
	ck_assert_uint_eq(la, 48);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(da, db, la);
	eid_cades_prep_free(a);
	eid_cades_prep_free(b);
	b = (eid_cades_prep *)&o;
	ck_assert_int_eq(eid_cades_prepare_digest(&b, s, digest, 32, &o), EID_EINVAL);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(eid_cades_prepare_digest(&b, s, NULL, 48, &o), EID_EINVAL);
	eid_signer_free(s);
}
END_TEST

/* ---- eid_cms__signed_attrs_der ---- */

/* Walk the members of a DER SET OF; check they are in DER order.  Returns their number. */
static size_t check_set_order(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len, *prev = NULL;
	size_t prev_len = 0, n = 0;

	while (p < end) {
		const unsigned char *q = p;
		long l;
		int tag, cls;
		size_t item;

		ck_assert_int_eq(ASN1_get_object(&q, &l, &tag, &cls, (long)(end - p)) & 0x80, 0);
		item = (size_t)(q - p) + (size_t)l;
		if (prev != NULL) {
			size_t m = prev_len < item ? prev_len : item;
			int c = memcmp(prev, p, m);

			ck_assert_msg(c < 0 || (c == 0 && prev_len <= item), "SET OF member %zu is out of order", n);
		}
		prev = p;
		prev_len = item;
		p += item;
		n++;
	}
	ck_assert_ptr_eq(p, end);
	return n;
}

START_TEST(test_cades_cms__signed_attrs_der__what_openssl_verifies)
{
	static const size_t big_sizes[] = { 10, 200, 70000 };
	char *keyp = unit_pki("citizen-rsa2048.key"), *certp = unit_pki("citizen-rsa2048.crt");
	EVP_PKEY *key = unit_load_key(keyp);
	X509 *cert = unit_load_cert(certp);
	size_t k;

	for (k = 0; k < 3; k++) {
		const unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
		CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
		CMS_SignerInfo *si = CMS_add1_signer(cms, cert, key, EVP_sha256(), flags);
		unsigned char digest[32], tbs[32], sig[256], *big = calloc(1, big_sizes[k]);
		ASN1_OBJECT *private_oid = OBJ_txt2obj("1.3.6.1.4.1.99999.42", 1);
		ASN1_TIME *t = ASN1_TIME_set(NULL, 1700000000);
		eid_buf der = EID_BUF_INIT;
		size_t slen = sizeof(sig), hdr;
		EVP_PKEY_CTX *ctx;

		ck_assert_ptr_nonnull(si);
		ck_assert_ptr_nonnull(big);
		memset(big, 0xee, big_sizes[k]);
		unit_digest(EID_HASH_SHA256, DATA, sizeof(DATA) - 1, digest);
		/* Added in an order that is not the DER order. */
		ck_assert_int_eq(CMS_signed_add1_attr_by_OBJ(si, private_oid, V_ASN1_OCTET_STRING, big, (int)big_sizes[k]), 1);
		ck_assert_int_eq(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1), 1);
		ck_assert_int_eq(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digest, 32), 1);
		ck_assert_int_eq(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
							      OBJ_nid2obj(NID_pkcs7_data), -1), 1);

		ck_assert_int_eq(eid_cms__signed_attrs_der(si, &der), EID_OK);
		ck_assert_int_eq(der.data[0], 0x31);
		hdr = der.data[1] < 0x80 ? 2 : 2 + (der.data[1] & 0x7f);
		ck_assert_uint_eq(check_set_order(der.data + hdr, der.len - hdr), 4);
		if (big_sizes[k] > 65535)
			ck_assert_int_eq(der.data[1], 0x83);

		/*
		 * Sign what libeid says is signed.  OpenSSL verifies over the attributes in the
		 * order it received them, so verify a parsed copy of the encoded structure (which
		 * holds them in DER order), the way any verifier sees the signature.
		 */
		unit_digest(EID_HASH_SHA256, der.data, der.len, tbs);
		ctx = EVP_PKEY_CTX_new(key, NULL);
		ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 0);
		ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &slen, tbs, 32), 1);
		EVP_PKEY_CTX_free(ctx);
		ck_assert_int_eq(ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)slen), 1);
		{
			unsigned char *enc = NULL;
			const unsigned char *p;
			int n = i2d_CMS_ContentInfo(cms, &enc);
			CMS_ContentInfo *parsed;
			CMS_SignerInfo *psi;

			ck_assert_int_gt(n, 0);
			/* The encoding holds exactly libeid's bytes, under the [0] IMPLICIT tag. */
			ck_assert_ptr_nonnull(memmem(enc, (size_t)n, der.data + 1, der.len - 1));
			p = enc;
			parsed = d2i_CMS_ContentInfo(NULL, &p, n);
			ck_assert_ptr_nonnull(parsed);
			psi = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(parsed), 0);
			CMS_SignerInfo_set1_signer_cert(psi, cert);
			if (CMS_SignerInfo_verify(psi) != 1) {
				ERR_print_errors_fp(stderr);
				ck_abort_msg("attribute size %zu: OpenSSL does not verify", big_sizes[k]);
			}
			CMS_ContentInfo_free(parsed);
			OPENSSL_free(enc);
		}

		eid_buf_clear(&der);
		ASN1_TIME_free(t);
		ASN1_OBJECT_free(private_oid);
		free(big);
		CMS_ContentInfo_free(cms);
	}
	EVP_PKEY_free(key);
	X509_free(cert);
	free(keyp);
	free(certp);
}
END_TEST

START_TEST(test_cades_cms__signed_attrs_der__none)
{
	char *keyp = unit_pki("citizen-rsa2048.key"), *certp = unit_pki("citizen-rsa2048.crt");
	EVP_PKEY *key = unit_load_key(keyp);
	X509 *cert = unit_load_cert(certp);
	const unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOATTR;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si = CMS_add1_signer(cms, cert, key, EVP_sha256(), flags);
	eid_buf der = EID_BUF_INIT;

	ck_assert_ptr_nonnull(si);
	ck_assert_int_eq(eid_cms__signed_attrs_der(si, &der), EID_ESIGFORMAT);
	ck_assert_ptr_null(der.data);
	CMS_ContentInfo_free(cms);
	EVP_PKEY_free(key);
	X509_free(cert);
	free(keyp);
	free(certp);
}
END_TEST

/* ---- eid_cms__digest_file / eid_cms__digest / eid_cms__check_sig ---- */

START_TEST(test_cades_cms__digest_file__matches_memory)
{
	char *path = unit_join(tmp, "big.bin");
	size_t n = 3 * EID_IO_CHUNK + 17, i;
	unsigned char *data = malloc(n), a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int la = 0, lb = 0;
	char *missing = unit_join(tmp, "missing");

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 13);
	unit_write(path, data, n);
	ck_assert_int_eq(eid_cms__digest_file(path, EVP_sha384(), a, &la), EID_OK);
	ck_assert_int_eq(eid_cms__digest(data, n, EVP_sha384(), b, &lb), EID_OK);
	ck_assert_uint_eq(la, 48);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(a, b, la);
	ck_assert_int_eq(eid_cms__digest_file(missing, EVP_sha256(), a, &la), EID_EIO);
	free(data);
	free(path);
	free(missing);
}
END_TEST

START_TEST(test_cades_cms__check_sig__good_and_bad)
{
	eid_signer *rsa = pkcs12_signer("citizen-rsa2048.p12"), *ec = pkcs12_signer("citizen-p256.p12");
	unsigned char digest[32];
	eid_buf sig = EID_BUF_INIT;
	EVP_PKEY *rpub = X509_get0_pubkey(eid_signer__cert(rsa)), *epub = X509_get0_pubkey(eid_signer__cert(ec));

	unit_digest(EID_HASH_SHA256, "x", 1, digest);
	ck_assert_int_eq(eid_signer_sign_digest(rsa, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, digest, 32, &sig), EID_OK);
	ck_assert_int_eq(eid_cms__check_sig(rpub, EID_SIG_RSA_PKCS1, EID_HASH_SHA256, digest, 32, sig.data, sig.len), 1);
	ck_assert_int_eq(eid_cms__check_sig(rpub, EID_SIG_RSA_PSS, EID_HASH_SHA256, digest, 32, sig.data, sig.len), 0);
	ck_assert_int_eq(eid_cms__check_sig(epub, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, sig.data, sig.len), 0);
	ck_assert_int_eq(eid_signer_sign_digest(rsa, EID_SIG_RSA_PSS, EID_HASH_SHA256, digest, 32, &sig), EID_OK);
	ck_assert_int_eq(eid_cms__check_sig(rpub, EID_SIG_RSA_PSS, EID_HASH_SHA256, digest, 32, sig.data, sig.len), 1);
	ck_assert_int_eq(eid_signer_sign_digest(ec, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, &sig), EID_OK);
	ck_assert_int_eq(eid_cms__check_sig(epub, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, sig.data, sig.len), 1);
	digest[0] ^= 1;
	ck_assert_int_eq(eid_cms__check_sig(epub, EID_SIG_ECDSA, EID_HASH_SHA256, digest, 32, sig.data, sig.len), 0);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	eid_buf_clear(&sig);
	eid_signer_free(rsa);
	eid_signer_free(ec);
}
END_TEST

/* ---- eid_level_name / eid_level_from_name ---- */

START_TEST(test_cades_level_name__round_trip)
{
	static const char *const names[] = { "B-B", "B-T", "B-LT", "B-LTA" };
	eid_level l;
	size_t i;

	ck_assert_str_eq(eid_level_name(EID_LEVEL_DEFAULT), "B-B");
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(eid_level_name((eid_level)(i + 1)), names[i]);
		ck_assert_int_eq(eid_level_from_name(&l, names[i]), EID_OK);
		ck_assert_int_eq(l, (eid_level)(i + 1));
	}
	ck_assert_int_eq(eid_level_from_name(&l, "b-lta"), EID_OK);
	ck_assert_int_eq(l, EID_LEVEL_B_LTA);
	ck_assert_ptr_null(eid_level_name((eid_level)5));
	ck_assert_ptr_null(eid_level_name((eid_level)-1));
	ck_assert_int_eq(eid_level_from_name(&l, "B-X"), EID_EINVAL);
	ck_assert_int_eq(eid_level_from_name(&l, NULL), EID_EINVAL);
	ck_assert_int_eq(eid_level_from_name(NULL, "B-B"), EID_EINVAL);
}
END_TEST

static Suite *cades_suite(void)
{
	Suite *s = suite_create("cades");
	TCase *tc;

	tc = tcase_create("eid_cades_sign_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cades_sign_file__openssl_verifies);
	tcase_add_test(tc, test_cades_sign_file__signed_attributes);
	tcase_add_test(tc, test_cades_sign_file__no_signing_time);
	tcase_add_test(tc, test_cades_sign_file__given_signing_time_is_deterministic);
	tcase_add_test(tc, test_cades_sign_file__hashes_and_pss);
	tcase_add_test(tc, test_cades_sign_file__ec_pkcs12);
	tcase_add_test(tc, test_cades_sign_file__custom_ec_signer);
	tcase_add_test(tc, test_cades_sign_file__no_chain);
	tcase_add_test(tc, test_cades_sign_file__unsupported_level);
	tcase_add_test(tc, test_cades_sign_file__bad_options);
	tcase_add_test(tc, test_cades_sign_file__missing_file);
	tcase_add_test(tc, test_cades_sign_file__external_signer);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_cades_complete");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cades_complete__two_steps);
	tcase_add_test(tc, test_cades_complete__wrong_signature);
	tcase_add_test(tc, test_cades_complete__twice);
	tcase_add_test(tc, test_cades_complete__ecdsa_raw_and_der);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_cades_prepare_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cades_prepare_file__options);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_cades_prepare_digest");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cades_prepare_digest__same_as_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_cms__signed_attrs_der");
	tcase_add_test(tc, test_cades_cms__signed_attrs_der__what_openssl_verifies);
	tcase_add_test(tc, test_cades_cms__signed_attrs_der__none);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_cms__digest_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cades_cms__digest_file__matches_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_cms__check_sig");
	tcase_add_test(tc, test_cades_cms__check_sig__good_and_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_level_name");
	tcase_add_test(tc, test_cades_level_name__round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cades_suite());
}
