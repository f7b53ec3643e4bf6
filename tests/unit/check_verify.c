/*
 * Unit tests of libeid/verify (verify.c, cades.c, report.c): verdicts for
 * CAdES signatures made in the test, the report model and its text and JSON.
 */
#include "config.h"

#include <stddef.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>
#include <openssl/pem.h> /* before cms.h, for PEM_write_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>

#include "cms/cms.h"
#include "verify/report.h"
#include "verify/verify.h"
#include "unit.h"

static const char CITIZEN_NAME[] = "J\xc3\xa9r\xc3\xb4me \xc3\x98ster-\xc5\x81ukasz (Signature)";
static const char DATA[] = "the file that was signed\n";

static char *tmp, *data_path;
static eid_trust *trust;

static void setup(void)
{
	char *root = unit_pki("root.crt");

	tmp = unit_tmpdir();
	data_path = unit_join(tmp, "data.txt");
	unit_write(data_path, DATA, sizeof(DATA) - 1);
	ck_assert_int_eq(eid_trust_new(&trust), EID_OK);
	ck_assert_int_eq(eid_trust_add_file(trust, root), EID_OK);
	free(root);
}

static void teardown(void)
{
	eid_trust_free(trust);
	trust = NULL;
	unit_rmtree(tmp);
	free(tmp);
	free(data_path);
	tmp = data_path = NULL;
}

/* A CAdES signature over data_path made by the PKCS#12 file @p12 with libeid. */
static void sign_with(const char *p12, const eid_cades_opts *opts, eid_buf *out)
{
	char *path = unit_pki(p12);
	eid_signer *s = NULL;

	ck_assert_msg(eid_signer_new_pkcs12(&s, path, "test") == EID_OK, "%s: %s", p12, eid_error_last()->message);
	ck_assert_msg(eid_cades_sign_file(s, data_path, opts, out) == EID_OK, "%s", eid_error_last()->message);
	eid_signer_free(s);
	free(path);
}

/* A CMS made by OpenSSL alone with the key and certificate of the PKI leaf @name. */
static void openssl_sign(const char *name, unsigned int flags, eid_buf *out)
{
	char file[128], *keyp, *certp, *intp;
	EVP_PKEY *key;
	X509 *cert, *intc;
	STACK_OF(X509) *extra = sk_X509_new_null();
	BIO *content = BIO_new_file(data_path, "rb");
	CMS_ContentInfo *cms;
	unsigned char *der = NULL;
	int n;

	snprintf(file, sizeof(file), "%s.key", name);
	keyp = unit_pki(file);
	snprintf(file, sizeof(file), "%s.crt", name);
	certp = unit_pki(file);
	intp = unit_pki("int.crt");
	key = unit_load_key(keyp);
	cert = unit_load_cert(certp);
	intc = unit_load_cert(intp);
	ck_assert_int_gt(sk_X509_push(extra, intc), 0);
	cms = CMS_sign(cert, key, extra, content, flags | CMS_BINARY);
	ck_assert_ptr_nonnull(cms);
	n = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(eid_buf_set(out, der, (size_t)n), EID_OK);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(content);
	sk_X509_pop_free(extra, X509_free);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(keyp);
	free(certp);
	free(intp);
}

static eid_report *verify_ok(const eid_buf *p7s, const eid_verify_opts *o)
{
	eid_report *r = NULL;
	int rc = eid_verify_cades(&r, p7s->data, p7s->len, o);

	ck_assert_msg(rc == EID_OK, "eid_verify_cades: %d %s", rc, eid_error_last()->message);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(eid_report_signature_count(r), 1);
	return r;
}

static void assert_verdict(const eid_report *r, eid_indication ind, eid_subindication sub)
{
	const eid_sig_report *s = eid_report_signature(r, 0);

	ck_assert_msg(eid_sig_report_indication(s) == ind && eid_sig_report_subindication(s) == sub,
		      "got %s/%s, expected %s/%s (first error: %s)", eid_indication_name(eid_sig_report_indication(s)),
		      eid_subindication_name(eid_sig_report_subindication(s)), eid_indication_name(ind),
		      eid_subindication_name(sub), eid_sig_report_error_count(s) ? eid_sig_report_error(s, 0) : "-");
	ck_assert_int_eq(eid_report_indication(r), ind);
}

static eid_verify_opts opts_with(const eid_trust *t, const char *data)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;

	o.trust = t;
	o.data_path = data;
	return o;
}

/* Re-encode @p7s with the last byte of the signature value flipped. */
static void flip_signature_value(const eid_buf *p7s, eid_buf *out)
{
	const unsigned char *p = p7s->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)p7s->len);
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *sig;
	unsigned char *der = NULL, *copy;
	int n, len;

	ck_assert_ptr_nonnull(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	sig = CMS_SignerInfo_get0_signature(si);
	len = ASN1_STRING_length(sig);
	copy = malloc((size_t)len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, ASN1_STRING_get0_data(sig), (size_t)len);
	copy[len - 1] ^= 0x01;
	ck_assert_int_eq(ASN1_STRING_set(sig, copy, len), 1);
	n = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_eq(n, (int)p7s->len);
	ck_assert_int_eq(eid_buf_set(out, der, (size_t)n), EID_OK);
	OPENSSL_free(der);
	free(copy);
	CMS_ContentInfo_free(cms);
}

/* ---- eid_verify_cades ---- */

/* A caller built for version 1 passes the shorter structure: it is read, and nothing past it. */
START_TEST(test_verify_opts__version_1_still_read)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	unsigned char *v1 = malloc(offsetof(eid_verify_opts, online));
	eid_report *r = NULL;

	ck_assert_ptr_nonnull(v1);
	o.version = 1;
	memcpy(v1, &o, offsetof(eid_verify_opts, online));
	ck_assert_int_eq(eid_verify_file(&r, "/nonexistent/x.p7s", (const eid_verify_opts *)(void *)v1), EID_EIO);
	o.version = EID_VERIFY_OPTS_VERSION + 1;
	ck_assert_int_eq(eid_verify_file(&r, "/nonexistent/x.p7s", &o), EID_EVERSION);
	ck_assert_ptr_null(r);
	free(v1);
}
END_TEST

/* Version 2 ends before crypto_policy: what lies past it is never read. */
START_TEST(test_verify_opts__version_2_still_read)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	unsigned char *v2 = malloc(offsetof(eid_verify_opts, crypto_policy));
	eid_report *r = NULL;

	ck_assert_ptr_nonnull(v2);
	o.version = 2;
	memcpy(v2, &o, offsetof(eid_verify_opts, crypto_policy));
	ck_assert_int_eq(eid_verify_file(&r, "/nonexistent/x.p7s", (const eid_verify_opts *)(void *)v2), EID_EIO);
	ck_assert_ptr_null(r);
	free(v2);
}
END_TEST

/* ---- the algorithm policy ---- */

static void policy_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_verify_crypto__defaults)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	int64_t until;
	char what[96];

	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha1(), "RSA", 3072, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, 1451606400); /* 2016-01-01 */
	ck_assert_str_eq(what, "SHA1");
	/* 1024 bits is not below 1024: the rsa<2048 rule */
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha256(), "RSA", 1024, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, 1546300800); /* 2019-01-01 */
	ck_assert_str_eq(what, "an RSA key of 1024 bits");
	/* both apply: the earlier one */
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_md5(), "RSA-PSS", 512, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, 1104537600); /* md5: 2005-01-01 */
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha256(), "ECDSA", 256, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, -1);
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha384(), "ECDSA", 224, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, 1546300800);
}
END_TEST

START_TEST(test_verify_crypto__file)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	char path[] = "/tmp/eid-policy-XXXXXX";
	int64_t until;
	char what[96];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	o.crypto_policy = path;
	policy_file(path, "# a comment\n\n  sha256   2000-03-01\nrsa<4096 2030-12-31\n");
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha256(), "RSA", 3072, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, 951868800); /* 2000-03-01: after a leap day */
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha512(), "RSA", 3072, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, 1924905600); /* 2030-12-31 */
	/* the file replaces the defaults: SHA-1 is not named */
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha1(), "ECDSA", 256, &until, what, sizeof(what)), EID_OK);
	ck_assert_int_eq(until, -1);
	policy_file(path, "sha1 2016-01-01\nsha1 2016-13-01\n");
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha1(), "RSA", 2048, &until, what, sizeof(what)), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, ":2: expected"));
	policy_file(path, "rsa<0 2016-01-01\n");
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha1(), "RSA", 2048, &until, what, sizeof(what)), EID_EFORMAT);
	policy_file(path, "sha1 2016-01-01 extra\n");
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha1(), "RSA", 2048, &until, what, sizeof(what)), EID_EFORMAT);
	unlink(path);
	ck_assert_int_eq(eid_verify__crypto_sunset(&o, EVP_sha1(), "RSA", 2048, &until, what, sizeof(what)), EID_EIO);
}
END_TEST

START_TEST(test_verify_cades__good)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;
	const eid_sig_report *s;
	int64_t now = (int64_t)time(NULL), t;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	s = eid_report_signature(r, 0);
	ck_assert_str_eq(eid_sig_report_format(s), "CAdES");
	ck_assert_str_eq(eid_sig_report_level(s), "CAdES-BASELINE-B");
	ck_assert_str_eq(eid_sig_report_signer_name(s), CITIZEN_NAME);
	ck_assert_ptr_nonnull(strstr(eid_sig_report_signer_subject(s), CITIZEN_NAME));
	ck_assert_ptr_nonnull(strstr(eid_sig_report_signer_issuer(s), "libeid Test Citizen CA"));
	ck_assert_ptr_nonnull(eid_sig_report_signer_serial(s));
	ck_assert_str_eq(eid_sig_report_hash(s), "SHA-256");
	ck_assert_str_eq(eid_sig_report_algorithm(s), "RSA");
	t = eid_sig_report_claimed_time(s);
	ck_assert_int_le(t > now ? t - now : now - t, 60);
	ck_assert_uint_eq(eid_sig_report_chain_count(s), 3);
	ck_assert_ptr_nonnull(strstr(eid_sig_report_chain_subject(s, 2), "libeid Test Root CA"));
	ck_assert_ptr_null(eid_sig_report_chain_subject(s, 3));
	ck_assert_uint_eq(eid_sig_report_error_count(s), 0);
	ck_assert_ptr_null(eid_report_file(r));
	ck_assert_ptr_null(eid_report_signature(r, 1));
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__ec_and_pss)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_cades_opts co = EID_CADES_OPTS_INIT;
	eid_report *r;

	co.hash = EID_HASH_SHA384;
	sign_with("citizen-p384.p12", &co, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	ck_assert_str_eq(eid_sig_report_algorithm(eid_report_signature(r, 0)), "ECDSA");
	ck_assert_str_eq(eid_sig_report_hash(eid_report_signature(r, 0)), "SHA-384");
	eid_report_free(r);

	co.hash = EID_HASH_SHA512;
	co.scheme = EID_SIG_RSA_PSS;
	sign_with("citizen-rsa3072.p12", &co, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	ck_assert_str_eq(eid_sig_report_algorithm(eid_report_signature(r, 0)), "RSA-PSS");
	ck_assert_str_eq(eid_sig_report_level(eid_report_signature(r, 0)), "CAdES-BASELINE-B");
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__data_changed)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	unit_write(data_path, "the file that was signeD\n", sizeof(DATA) - 1);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_FAILED, EID_SUB_HASH_FAILURE);
	eid_report_free(r);
	/* With no trust at all the hash failure still decides. */
	o.trust = NULL;
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_FAILED, EID_SUB_HASH_FAILURE);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__signature_value_changed)
{
	eid_buf p7s = EID_BUF_INIT, bad = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;
	const unsigned char *p;
	CMS_ContentInfo *cms;
	ASN1_OCTET_STRING *sig;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	flip_signature_value(&p7s, &bad);
	r = verify_ok(&bad, &o);
	assert_verdict(r, EID_TOTAL_FAILED, EID_SUB_SIG_CRYPTO_FAILURE);
	eid_report_free(r);

	/* The last byte of the DER is the last byte of the signature value (no unsigned attributes). */
	p = p7s.data;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)p7s.len);
	sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0));
	ck_assert_int_eq(ASN1_STRING_get0_data(sig)[ASN1_STRING_length(sig) - 1], p7s.data[p7s.len - 1]);
	CMS_ContentInfo_free(cms);
	ck_assert_uint_eq(bad.len, p7s.len);
	ck_assert_int_eq(bad.data[bad.len - 1], p7s.data[p7s.len - 1] ^ 0x01);
	ck_assert_mem_eq(bad.data, p7s.data, p7s.len - 1);
	eid_buf_clear(&bad);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__no_trust)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(NULL, data_path);
	eid_trust *empty = NULL;
	eid_report *r;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	/* The signature itself is fine: level and signer are reported. */
	ck_assert_str_eq(eid_sig_report_level(eid_report_signature(r, 0)), "CAdES-BASELINE-B");
	eid_report_free(r);
	ck_assert_int_eq(eid_trust_new(&empty), EID_OK);
	o.trust = empty;
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_report_free(r);
	eid_trust_free(empty);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__other_root)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_trust *other = NULL;
	char *path = unit_pki("other-root.crt");
	eid_verify_opts o = opts_with(NULL, data_path);
	eid_report *r;

	ck_assert_int_eq(eid_trust_new(&other), EID_OK);
	ck_assert_int_eq(eid_trust_add_file(other, path), EID_OK);
	o.trust = other;
	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_report_free(r);
	/* ... and other-citizen, issued by other-root, passes with that trust. */
	sign_with("other-citizen.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	eid_report_free(r);
	eid_trust_free(other);
	eid_buf_clear(&p7s);
	free(path);
}
END_TEST

START_TEST(test_verify_cades__expired_signer)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	sign_with("expired-rsa2048.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_OUT_OF_BOUNDS_NO_POE);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__validation_time)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	/* Four years on, the three-year leaf has expired. */
	o.validation_time = (int64_t)time(NULL) + 4 * 366 * 86400;
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_OUT_OF_BOUNDS_NO_POE);
	eid_report_free(r);
	/* Three days ago, it was not yet valid. */
	o.validation_time = (int64_t)time(NULL) - 3 * 86400;
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_OUT_OF_BOUNDS_NO_POE);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__openssl_without_cades)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	openssl_sign("citizen-rsa2048", CMS_DETACHED, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	ck_assert_ptr_null(eid_sig_report_level(eid_report_signature(r, 0)));
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__openssl_with_cades)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	openssl_sign("citizen-p256", CMS_DETACHED | CMS_CADES, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	ck_assert_str_eq(eid_sig_report_level(eid_report_signature(r, 0)), "CAdES-BASELINE-B");
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__embedded_content)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, NULL);
	eid_report *r;

	openssl_sign("citizen-rsa2048", CMS_CADES, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__no_signed_attributes)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	openssl_sign("citizen-rsa2048", CMS_DETACHED | CMS_NOATTR, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__signer_certificate_missing)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	openssl_sign("citizen-rsa2048", CMS_DETACHED | CMS_CADES | CMS_NOCERTS, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__without_signing_time)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_cades_opts co = EID_CADES_OPTS_INIT;
	eid_report *r;
	const eid_sig_report *s;
	size_t i;
	int warned = 0;

	co.flags = EID_CADES_NO_SIGNING_TIME;
	sign_with("citizen-rsa2048.p12", &co, &p7s);
	r = verify_ok(&p7s, &o);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	s = eid_report_signature(r, 0);
	ck_assert_int_eq(eid_sig_report_claimed_time(s), -1);
	ck_assert_ptr_null(eid_sig_report_level(s));
	for (i = 0; i < eid_sig_report_warning_count(s); i++)
		warned |= strstr(eid_sig_report_warning(s, i), "signing-time") != NULL;
	ck_assert(warned);
	ck_assert_ptr_null(eid_sig_report_warning(s, eid_sig_report_warning_count(s)));
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__authentication_certificate_warns)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;
	const eid_sig_report *s;
	size_t i;
	int warned = 0;

	sign_with("auth-rsa2048.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	s = eid_report_signature(r, 0);
	for (i = 0; i < eid_sig_report_warning_count(s); i++)
		warned |= strstr(eid_sig_report_warning(s, i), "nonRepudiation") != NULL;
	ck_assert(warned);
	eid_report_free(r);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__pem_input)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	const unsigned char *p;
	CMS_ContentInfo *cms;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;
	eid_report *r = NULL;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	p = p7s.data;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)p7s.len);
	ck_assert_int_eq(PEM_write_bio_CMS(bio, cms), 1);
	len = BIO_get_mem_data(bio, &pem);
	ck_assert_int_eq(eid_verify_cades(&r, (unsigned char *)pem, (size_t)len, &o), EID_OK);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	eid_report_free(r);
	BIO_free(bio);
	CMS_ContentInfo_free(cms);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__truncated)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r = NULL;
	size_t cut[4], i;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	cut[0] = p7s.len - 1;
	cut[1] = p7s.len / 2;
	cut[2] = 10;
	cut[3] = 1;
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(eid_verify_cades(&r, p7s.data, cut[i], &o), EID_EFORMAT);
		ck_assert_ptr_null(r);
	}
	ck_assert_uint_eq(ERR_peek_error(), 0);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__trailing_garbage)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r = NULL;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	ck_assert_int_eq(eid_buf__append(&p7s, "\0garbage", 8), EID_OK);
	ck_assert_int_eq(eid_verify_cades(&r, p7s.data, p7s.len, &o), EID_EFORMAT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "8 bytes"));
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__detached_without_data)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, NULL);
	eid_report *r = NULL;
	char *missing = unit_join(tmp, "missing.txt");

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	ck_assert_int_eq(eid_verify_cades(&r, p7s.data, p7s.len, &o), EID_EINVAL);
	ck_assert_ptr_null(r);
	o.data_path = missing;
	ck_assert_int_eq(eid_verify_cades(&r, p7s.data, p7s.len, &o), EID_EIO);
	ck_assert_ptr_null(r);
	free(missing);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_cades__not_signed_data)
{
	BIO *in = BIO_new_mem_buf("plain data", 10);
	CMS_ContentInfo *cms = CMS_data_create(in, CMS_BINARY);
	eid_verify_opts o = opts_with(trust, data_path);
	unsigned char *der = NULL;
	eid_report *r = NULL;
	int n;

	ck_assert_ptr_nonnull(cms);
	n = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(eid_verify_cades(&r, der, (size_t)n, &o), EID_EFORMAT);
	ck_assert_ptr_null(r);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
}
END_TEST

START_TEST(test_verify_cades__bad_arguments)
{
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r = NULL;
	static const unsigned char der[] = { 0x30, 0x00 };

	ck_assert_int_eq(eid_verify_cades(NULL, der, 2, &o), EID_EINVAL);
	ck_assert_int_eq(eid_verify_cades(&r, NULL, 2, &o), EID_EINVAL);
	o.version = 99;
	ck_assert_int_eq(eid_verify_cades(&r, der, 2, &o), EID_EVERSION);
	ck_assert_ptr_null(r);
}
END_TEST

/* ---- eid_verify_file ---- */

START_TEST(test_verify_file__good_and_changed)
{
	eid_buf p7s = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	char *sig_path = unit_join(tmp, "data.txt.p7s");
	eid_report *r = NULL;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	unit_write(sig_path, p7s.data, p7s.len);
	ck_assert_int_eq(eid_verify_file(&r, sig_path, &o), EID_OK);
	assert_verdict(r, EID_TOTAL_PASSED, EID_SUB_NONE);
	ck_assert_str_eq(eid_report_file(r), sig_path);
	ck_assert_str_eq(eid_sig_report_level(eid_report_signature(r, 0)), "CAdES-BASELINE-B");
	eid_report_free(r);
	unit_write(data_path, "x", 1);
	ck_assert_int_eq(eid_verify_file(&r, sig_path, &o), EID_OK);
	assert_verdict(r, EID_TOTAL_FAILED, EID_SUB_HASH_FAILURE);
	eid_report_free(r);
	free(sig_path);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_file__unreadable_or_unknown)
{
	eid_verify_opts o = opts_with(trust, data_path);
	char *missing = unit_join(tmp, "missing.p7s"), *pdf = unit_join(tmp, "doc.pdf");
	eid_report *r = NULL;

	ck_assert_int_eq(eid_verify_file(&r, missing, &o), EID_EIO);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(eid_verify_file(&r, tmp, &o), EID_EIO);
	ck_assert_int_eq(eid_verify_file(&r, data_path, &o), EID_EUNSUPPORTED); /* plain text */
	unit_write(pdf, "%PDF-1.7\n%%EOF\n", 15);
	ck_assert_int_eq(eid_verify_file(&r, pdf, &o), EID_EFORMAT); /* a PDF with no body at all */
	ck_assert_ptr_null(r);
	ck_assert_int_eq(eid_verify_file(&r, NULL, &o), EID_EINVAL);
	o.version = 0;
	ck_assert_int_eq(eid_verify_file(&r, data_path, &o), EID_EVERSION);
	free(missing);
	free(pdf);
}
END_TEST

/* ---- eid_report_to_json / eid_report_to_text ---- */

START_TEST(test_verify_report_to_json__parses)
{
	eid_buf p7s = EID_BUF_INIT, json = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;
	json_object *root, *v, *sigs, *sig0, *signer;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	unit_write(data_path, "changed", 7);
	r = verify_ok(&p7s, &o);
	ck_assert_int_eq(eid_report_to_json(r, &json), EID_OK);
	root = json_tokener_parse((const char *)json.data);
	ck_assert_msg(root != NULL, "not JSON: %s", json.data);
	ck_assert(json_object_object_get_ex(root, "indication", &v));
	ck_assert_str_eq(json_object_get_string(v), "TOTAL-FAILED");
	ck_assert(json_object_object_get_ex(root, "signatures", &sigs));
	ck_assert_int_eq(json_object_get_type(sigs), json_type_array);
	ck_assert_uint_eq(json_object_array_length(sigs), 1);
	sig0 = json_object_array_get_idx(sigs, 0);
	ck_assert(json_object_object_get_ex(sig0, "subIndication", &v));
	ck_assert_str_eq(json_object_get_string(v), "HASH_FAILURE");
	ck_assert(json_object_object_get_ex(sig0, "signer", &signer));
	ck_assert(json_object_object_get_ex(signer, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), CITIZEN_NAME);
	ck_assert(json_object_object_get_ex(sig0, "errors", &v));
	ck_assert_uint_ge(json_object_array_length(v), 1);
	json_object_put(root);
	eid_report_free(r);

	/* A good signature has a null subIndication. */
	unit_write(data_path, DATA, sizeof(DATA) - 1);
	r = verify_ok(&p7s, &o);
	ck_assert_int_eq(eid_report_to_json(r, &json), EID_OK);
	root = json_tokener_parse((const char *)json.data);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "indication", &v));
	ck_assert_str_eq(json_object_get_string(v), "TOTAL-PASSED");
	json_object_object_get_ex(root, "signatures", &sigs);
	sig0 = json_object_array_get_idx(sigs, 0);
	ck_assert(json_object_object_get_ex(sig0, "subIndication", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(sig0, "level", &v));
	ck_assert_str_eq(json_object_get_string(v), "CAdES-BASELINE-B");
	json_object_put(root);
	ck_assert_int_eq(eid_report_to_json(NULL, &json), EID_EINVAL);
	ck_assert_int_eq(eid_report_to_json(r, NULL), EID_EINVAL);
	eid_report_free(r);
	eid_buf_clear(&json);
	eid_buf_clear(&p7s);
}
END_TEST

START_TEST(test_verify_report_to_text__content)
{
	eid_buf p7s = EID_BUF_INIT, text = EID_BUF_INIT;
	eid_verify_opts o = opts_with(trust, data_path);
	eid_report *r;

	sign_with("citizen-rsa2048.p12", NULL, &p7s);
	r = verify_ok(&p7s, &o);
	ck_assert_int_eq(eid_buf_set(&text, "old text", 8), EID_OK);
	ck_assert_int_eq(eid_report_to_text(r, &text), EID_OK);
	ck_assert_uint_eq(strlen((char *)text.data), text.len);
	ck_assert_ptr_null(strstr((char *)text.data, "old text"));
	ck_assert_ptr_nonnull(strstr((char *)text.data, "TOTAL-PASSED"));
	ck_assert_ptr_nonnull(strstr((char *)text.data, "Result: TOTAL-PASSED"));
	ck_assert_ptr_nonnull(strstr((char *)text.data, CITIZEN_NAME));
	ck_assert_ptr_nonnull(strstr((char *)text.data, "CAdES-BASELINE-B"));
	ck_assert_int_eq(eid_report_to_text(NULL, &text), EID_EINVAL);
	eid_report_free(r);
	eid_buf_clear(&text);
	eid_buf_clear(&p7s);
}
END_TEST

/* ---- names ---- */

START_TEST(test_verify_indication_name__all)
{
	ck_assert_str_eq(eid_indication_name(EID_TOTAL_PASSED), "TOTAL-PASSED");
	ck_assert_str_eq(eid_indication_name(EID_INDETERMINATE), "INDETERMINATE");
	ck_assert_str_eq(eid_indication_name(EID_TOTAL_FAILED), "TOTAL-FAILED");
	ck_assert_ptr_null(eid_indication_name((eid_indication)0));
	ck_assert_ptr_null(eid_indication_name((eid_indication)4));
	ck_assert_ptr_null(eid_indication_name((eid_indication)-1));
}
END_TEST

START_TEST(test_verify_subindication_name__all)
{
	static const char *const names[] = {
		"", "FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "SIG_CONSTRAINTS_FAILURE",
		"CHAIN_CONSTRAINTS_FAILURE", "CERTIFICATE_CHAIN_GENERAL_FAILURE", "CRYPTO_CONSTRAINTS_FAILURE",
		"EXPIRED", "NOT_YET_VALID", "POLICY_PROCESSING_ERROR", "SIGNATURE_POLICY_NOT_AVAILABLE",
		"TIMESTAMP_ORDER_FAILURE", "NO_SIGNING_CERTIFICATE_FOUND", "NO_CERTIFICATE_CHAIN_FOUND",
		"REVOKED_NO_POE", "REVOKED_CA_NO_POE", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED",
		"REVOCATION_OUT_OF_BOUNDS_NO_POE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", "NO_POE", "TRY_LATER",
		"SIGNED_DATA_NOT_FOUND", "UNKNOWN_COMMITMENT_TYPE",
	};
	size_t i;

	ck_assert_int_eq(EID_SUB_UNKNOWN_COMMITMENT_TYPE + 1, (int)(sizeof(names) / sizeof(names[0])));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_str_eq(eid_subindication_name((eid_subindication)i), names[i]);
	ck_assert_str_eq(eid_subindication_name(EID_SUB_HASH_FAILURE), "HASH_FAILURE");
	ck_assert_str_eq(eid_subindication_name(EID_SUB_OUT_OF_BOUNDS_NO_POE), "OUT_OF_BOUNDS_NO_POE");
	ck_assert_ptr_null(eid_subindication_name((eid_subindication)26));
	ck_assert_ptr_null(eid_subindication_name((eid_subindication)-1));
}
END_TEST

/* ---- eid_report_indication and the report model ---- */

START_TEST(test_verify_report_indication__worst)
{
	eid_report *r = NULL;
	eid_sig_report *a, *b, *c;

	ck_assert_int_eq(eid_report_indication(NULL), EID_TOTAL_FAILED);
	ck_assert_int_eq(eid_report__new(&r, "f.p7s", 1700000000), EID_OK);
	ck_assert_int_eq(eid_report_indication(r), EID_TOTAL_FAILED); /* no signature at all */
	ck_assert_int_eq(eid_report__add(r, &a), EID_OK);
	ck_assert_int_eq(eid_report_indication(r), EID_TOTAL_PASSED);
	ck_assert_int_eq(eid_report__add(r, &b), EID_OK);
	ck_assert_int_eq(eid_sig__fail(b, EID_INDETERMINATE, EID_SUB_NO_POE, "b %d", 1), EID_OK);
	ck_assert_int_eq(eid_report_indication(r), EID_INDETERMINATE);
	ck_assert_int_eq(eid_report__add(r, &c), EID_OK);
	ck_assert_int_eq(eid_sig__fail(c, EID_TOTAL_FAILED, EID_SUB_HASH_FAILURE, "c"), EID_OK);
	ck_assert_int_eq(eid_report_indication(r), EID_TOTAL_FAILED);
	ck_assert_uint_eq(eid_report_signature_count(r), 3);
	ck_assert_int_eq(eid_sig_report_indication(eid_report_signature(r, 0)), EID_TOTAL_PASSED);
	ck_assert_str_eq(eid_report_file(r), "f.p7s");
	eid_report_free(r);
	eid_report_free(NULL);
}
END_TEST

START_TEST(test_verify_sig__fail__first_decisive_wins)
{
	eid_report *r = NULL;
	eid_sig_report *s;

	ck_assert_int_eq(eid_report__new(&r, NULL, 0), EID_OK);
	ck_assert_int_eq(eid_report__add(r, &s), EID_OK);
	ck_assert_int_eq(eid_sig_report_claimed_time(s), -1);
	eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND, "first");
	eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "second");
	ck_assert_int_eq(eid_sig_report_indication(s), EID_INDETERMINATE);
	ck_assert_int_eq(eid_sig_report_subindication(s), EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	ck_assert_uint_eq(eid_sig_report_error_count(s), 2);
	ck_assert_str_eq(eid_sig_report_error(s, 0), "first");
	ck_assert_str_eq(eid_sig_report_error(s, 1), "second");
	ck_assert_ptr_null(eid_sig_report_error(s, 2));
	ck_assert_int_eq(eid_sig__warn(s, "w%d", 1), EID_OK);
	ck_assert_str_eq(eid_sig_report_warning(s, 0), "w1");
	/* Accessors accept NULL. */
	ck_assert_int_eq(eid_sig_report_indication(NULL), EID_TOTAL_FAILED);
	ck_assert_int_eq(eid_sig_report_subindication(NULL), EID_SUB_NONE);
	ck_assert_ptr_null(eid_sig_report_level(NULL));
	ck_assert_int_eq(eid_sig_report_claimed_time(NULL), -1);
	ck_assert_uint_eq(eid_sig_report_chain_count(NULL), 0);
	eid_report_free(r);
}
END_TEST

static Suite *verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc;

	tc = tcase_create("eid_verify_cades");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify_opts__version_1_still_read);
	tcase_add_test(tc, test_verify_opts__version_2_still_read);
	tcase_add_test(tc, test_verify_crypto__defaults);
	tcase_add_test(tc, test_verify_crypto__file);
	tcase_add_test(tc, test_verify_cades__good);
	tcase_add_test(tc, test_verify_cades__ec_and_pss);
	tcase_add_test(tc, test_verify_cades__data_changed);
	tcase_add_test(tc, test_verify_cades__signature_value_changed);
	tcase_add_test(tc, test_verify_cades__no_trust);
	tcase_add_test(tc, test_verify_cades__other_root);
	tcase_add_test(tc, test_verify_cades__expired_signer);
	tcase_add_test(tc, test_verify_cades__validation_time);
	tcase_add_test(tc, test_verify_cades__openssl_without_cades);
	tcase_add_test(tc, test_verify_cades__openssl_with_cades);
	tcase_add_test(tc, test_verify_cades__embedded_content);
	tcase_add_test(tc, test_verify_cades__no_signed_attributes);
	tcase_add_test(tc, test_verify_cades__signer_certificate_missing);
	tcase_add_test(tc, test_verify_cades__without_signing_time);
	tcase_add_test(tc, test_verify_cades__authentication_certificate_warns);
	tcase_add_test(tc, test_verify_cades__pem_input);
	tcase_add_test(tc, test_verify_cades__truncated);
	tcase_add_test(tc, test_verify_cades__trailing_garbage);
	tcase_add_test(tc, test_verify_cades__detached_without_data);
	tcase_add_test(tc, test_verify_cades__not_signed_data);
	tcase_add_test(tc, test_verify_cades__bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_verify_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify_file__good_and_changed);
	tcase_add_test(tc, test_verify_file__unreadable_or_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_report_to_json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify_report_to_json__parses);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_report_to_text");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify_report_to_text__content);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_indication_name");
	tcase_add_test(tc, test_verify_indication_name__all);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_subindication_name");
	tcase_add_test(tc, test_verify_subindication_name__all);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_report_indication");
	tcase_add_test(tc, test_verify_report_indication__worst);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_sig__fail");
	tcase_add_test(tc, test_verify_sig__fail__first_decisive_wins);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(verify_suite());
}
