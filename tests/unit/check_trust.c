/* Unit tests of libeid/pki/trust.c: trust anchors and certificate path validation. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "pki/pki.h"
#include "unit.h"

static char *tmp;
static eid_trust *trust;

static void setup(void)
{
	tmp = unit_tmpdir();
	ck_assert_int_eq(eid_trust_new(&trust), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 0);
}

static void teardown(void)
{
	eid_trust_free(trust);
	trust = NULL;
	unit_rmtree(tmp);
	free(tmp);
	tmp = NULL;
}

/* Copy the PKI file @name into the scratch folder as @as. */
static void copy_pki(const char *name, const char *dir, const char *as)
{
	char *src = unit_pki(name), *dst = unit_join(dir, as);
	size_t len;
	unsigned char *data = unit_read(src, &len);

	unit_write(dst, data, len);
	free(data);
	free(src);
	free(dst);
}

static int add_pki(eid_trust *t, const char *name)
{
	char *path = unit_pki(name);
	int rc = eid_trust_add_file(t, path);

	free(path);
	return rc;
}

static X509 *pki_cert(const char *name)
{
	char *path = unit_pki(name);
	X509 *x = unit_load_cert(path);

	free(path);
	return x;
}

/* ---- eid_trust_new / eid_trust_free / eid_trust_count ---- */

START_TEST(test_trust_new__empty)
{
	eid_trust *t = NULL;

	ck_assert_int_eq(eid_trust_new(&t), EID_OK);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(eid_trust_count(t), 0);
	eid_trust_free(t);
	eid_trust_free(NULL);
	ck_assert_uint_eq(eid_trust_count(NULL), 0);
	ck_assert_int_eq(eid_trust_new(NULL), EID_EINVAL);
}
END_TEST

/* ---- eid_trust_add_file ---- */

START_TEST(test_trust_add_file__pem_bundle)
{
	ck_assert_int_eq(add_pki(trust, "chain.pem"), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 2);
}
END_TEST

START_TEST(test_trust_add_file__der)
{
	ck_assert_int_eq(add_pki(trust, "root.der"), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 1);
	ck_assert_int_eq(add_pki(trust, "int.der"), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 2);
}
END_TEST

START_TEST(test_trust_add_file__pem_with_text_before)
{
	char *path = unit_join(tmp, "annotated.pem");
	char *src = unit_pki("root.crt");
	size_t len;
	unsigned char *pem = unit_read(src, &len);
	FILE *f = fopen(path, "w");

	/* `openssl x509 -text` style output: text, then the PEM block. */
	ck_assert_ptr_nonnull(f);
	fprintf(f, "Certificate:\n    Subject: CN=libeid Test Root CA\n");
	ck_assert_uint_eq(fwrite(pem, 1, len, f), len);
	fclose(f);
	ck_assert_int_eq(eid_trust_add_file(trust, path), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 1);
	free(pem);
	free(src);
	free(path);
}
END_TEST

START_TEST(test_trust_add_file__folder)
{
	char *dir = unit_join(tmp, "anchors"), *sub;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	copy_pki("root.crt", dir, "root.crt");               /* PEM .crt */
	copy_pki("int.der", dir, "int.der");                 /* DER .der */
	copy_pki("other-root.crt", dir, "other-root.pem");   /* PEM .pem */
	copy_pki("citizen-p256.der", dir, "citizen.cer");    /* DER .cer */
	/* Not counted: keys, other extensions, hidden files, folders. */
	copy_pki("root.key", dir, "root.key");
	copy_pki("citizen-rsa2048.crt", dir, "README.txt");
	copy_pki("citizen-rsa2048.p12", dir, "citizen.p12");
	copy_pki("tsa.crt", dir, ".hidden.pem");
	sub = unit_join(dir, "sub.pem");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	copy_pki("ocsp.crt", sub, "ocsp.pem");

	ck_assert_msg(eid_trust_add_file(trust, dir) == EID_OK, "%s", eid_error_last()->message);
	ck_assert_uint_eq(eid_trust_count(trust), 4);
	free(sub);
	free(dir);
}
END_TEST

START_TEST(test_trust_add_file__folder_skips_non_certificates)
{
	char *dir = unit_join(tmp, "mixed"), *empty;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	copy_pki("root.crt", dir, "root.crt");
	copy_pki("int.crl.der", dir, "int.crl.der");   /* a CRL with a certificate extension */
	copy_pki("root.key", dir, "root-key.pem");     /* a key with a certificate extension */
	empty = unit_join(dir, "blank.pem");             /* an empty file */
	unit_write(empty, "", 0);

	ck_assert_msg(eid_trust_add_file(trust, dir) == EID_OK, "%s", eid_error_last()->message);
	ck_assert_uint_eq(eid_trust_count(trust), 1);
	free(empty);
	free(dir);
}
END_TEST

START_TEST(test_trust_add_file__folder_without_certificates)
{
	char *dir = unit_join(tmp, "keys-only");

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(eid_trust_add_file(trust, dir), EID_EFORMAT);
	copy_pki("root.key", dir, "root.key");
	copy_pki("root.crt", dir, "root.txt");
	ck_assert_int_eq(eid_trust_add_file(trust, dir), EID_EFORMAT);
	ck_assert_uint_eq(eid_trust_count(trust), 0);
	free(dir);
}
END_TEST

START_TEST(test_trust_add_file__empty_file)
{
	char *path = unit_join(tmp, "empty.pem");

	unit_write(path, "", 0);
	ck_assert_int_eq(eid_trust_add_file(trust, path), EID_EFORMAT);
	ck_assert_uint_eq(eid_trust_count(trust), 0);
	free(path);
}
END_TEST

START_TEST(test_trust_add_file__no_certificate_in_file)
{
	char *key = unit_pki("root.key"), *junk = unit_join(tmp, "junk.der");

	/* A PEM file with a key only. */
	ck_assert_int_eq(eid_trust_add_file(trust, key), EID_EFORMAT);
	/* Bytes that are no certificate. */
	unit_write(junk, "\x30\x03\x02\x01\x05", 5);
	ck_assert_int_lt(eid_trust_add_file(trust, junk), 0);
	ck_assert_uint_eq(eid_trust_count(trust), 0);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	free(key);
	free(junk);
}
END_TEST

START_TEST(test_trust_add_file__missing)
{
	char *path = unit_join(tmp, "missing.pem");

	ck_assert_int_eq(eid_trust_add_file(trust, path), EID_EIO);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, path));
	ck_assert_int_eq(eid_trust_add_file(trust, NULL), EID_EINVAL);
	ck_assert_int_eq(eid_trust_add_file(NULL, path), EID_EINVAL);
	free(path);
}
END_TEST

START_TEST(test_trust_add_file__duplicate)
{
	ck_assert_int_eq(add_pki(trust, "root.crt"), EID_OK);
	ck_assert_int_eq(add_pki(trust, "root.crt"), EID_OK);
	ck_assert_int_eq(add_pki(trust, "root.der"), EID_OK);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	/* The count is of certificates held, not of additions. */
	ck_assert_uint_eq(eid_trust_count(trust), 1);
	ck_assert_int_eq(add_pki(trust, "chain.pem"), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 2);
}
END_TEST

START_TEST(test_trust_add_file__folder_with_duplicates)
{
	char *dir = unit_join(tmp, "dups");

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	copy_pki("root.crt", dir, "root.crt");
	copy_pki("root.der", dir, "root.der");
	copy_pki("chain.pem", dir, "chain.pem");
	ck_assert_msg(eid_trust_add_file(trust, dir) == EID_OK, "%s", eid_error_last()->message);
	ck_assert_uint_eq(eid_trust_count(trust), 2); /* root and int, whatever the order of the files */
	free(dir);
}
END_TEST

/* ---- eid_trust_add_cert ---- */

START_TEST(test_trust_add_cert__der_and_pem)
{
	char *derp = unit_pki("root.der"), *pemp = unit_pki("int.crt");
	size_t dlen, plen;
	unsigned char *der = unit_read(derp, &dlen), *pem = unit_read(pemp, &plen);

	ck_assert_int_eq(eid_trust_add_cert(trust, der, dlen), EID_OK);
	ck_assert_int_eq(eid_trust_add_cert(trust, pem, plen), EID_OK);
	ck_assert_uint_eq(eid_trust_count(trust), 2);
	ck_assert_int_eq(eid_trust_add_cert(trust, der, dlen - 1), EID_ECERT);
	ck_assert_int_eq(eid_trust_add_cert(trust, der, 0), EID_EINVAL);
	ck_assert_int_eq(eid_trust_add_cert(NULL, der, dlen), EID_EINVAL);
	ck_assert_uint_eq(eid_trust_count(trust), 2);
	free(der);
	free(pem);
	free(derp);
	free(pemp);
}
END_TEST

/* ---- eid_pki__validate_chain ---- */

static void validate(const char *leaf_name, const char *intermediate, time_t when, eid_chain_result *res)
{
	X509 *leaf = pki_cert(leaf_name);
	STACK_OF(X509) *untrusted = sk_X509_new_null();

	if (intermediate != NULL)
		ck_assert_int_gt(sk_X509_push(untrusted, pki_cert(intermediate)), 0);
	ck_assert_int_eq(eid_pki__validate_chain(trust, leaf, untrusted, when, res), EID_OK);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
}

START_TEST(test_trust_pki__validate_chain__good)
{
	eid_chain_result res;

	ck_assert_int_eq(add_pki(trust, "root.crt"), EID_OK);
	validate("citizen-rsa2048.crt", "int.crt", time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_TOTAL_PASSED);
	ck_assert_int_eq(res.sub, EID_SUB_NONE);
	ck_assert_ptr_nonnull(res.chain);
	ck_assert_int_eq(sk_X509_num(res.chain), 3); /* leaf, intermediate, root */
	eid_pki__chain_result_clear(&res);
	ck_assert_ptr_null(res.chain);
	/* An intermediate in the trust set is an anchor by itself. */
	eid_trust_free(trust);
	ck_assert_int_eq(eid_trust_new(&trust), EID_OK);
	ck_assert_int_eq(add_pki(trust, "int.crt"), EID_OK);
	validate("citizen-p384.crt", NULL, time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_TOTAL_PASSED);
	eid_pki__chain_result_clear(&res);
}
END_TEST

START_TEST(test_trust_pki__validate_chain__expired)
{
	eid_chain_result res;

	ck_assert_int_eq(add_pki(trust, "root.crt"), EID_OK);
	validate("expired-rsa2048.crt", "int.crt", time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_OUT_OF_BOUNDS_NO_POE);
	ck_assert_ptr_nonnull(strstr(res.message, "signer's"));
	eid_pki__chain_result_clear(&res);
	/* A valid leaf before its notBefore (one day ago), and after its three years. */
	validate("citizen-rsa2048.crt", "int.crt", time(NULL) - 3 * 86400, &res);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_OUT_OF_BOUNDS_NO_POE);
	eid_pki__chain_result_clear(&res);
	validate("citizen-rsa2048.crt", "int.crt", time(NULL) + 4 * 366 * 86400, &res);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_OUT_OF_BOUNDS_NO_POE);
	eid_pki__chain_result_clear(&res);
}
END_TEST

START_TEST(test_trust_pki__validate_chain__untrusted)
{
	eid_chain_result res;

	/* Nothing trusted at all. */
	validate("citizen-rsa2048.crt", "int.crt", time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_pki__chain_result_clear(&res);
	ck_assert_int_eq(eid_pki__validate_chain(NULL, NULL, NULL, time(NULL), &res), EID_OK);
	ck_assert_int_eq(res.sub, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_pki__chain_result_clear(&res);
	/* Another root. */
	ck_assert_int_eq(add_pki(trust, "other-root.crt"), EID_OK);
	validate("citizen-rsa2048.crt", "int.crt", time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_pki__chain_result_clear(&res);
	/* The right root, but no intermediate to reach it. */
	ck_assert_int_eq(add_pki(trust, "root.crt"), EID_OK);
	validate("citizen-rsa2048.crt", NULL, time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_pki__chain_result_clear(&res);
	/* other-citizen under other-root is fine. */
	validate("other-citizen.crt", NULL, time(NULL), &res);
	ck_assert_int_eq(res.indication, EID_TOTAL_PASSED);
	eid_pki__chain_result_clear(&res);
	ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_trust_pki__validate_chain__self_signed_leaf)
{
	eid_chain_result res;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *self = unit_self_signed(key, "Self Signed", NULL);

	ck_assert_int_eq(add_pki(trust, "root.crt"), EID_OK);
	ck_assert_int_eq(eid_pki__validate_chain(trust, self, NULL, time(NULL), &res), EID_OK);
	ck_assert_int_eq(res.indication, EID_INDETERMINATE);
	ck_assert_int_eq(res.sub, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	eid_pki__chain_result_clear(&res);
	X509_free(self);
	EVP_PKEY_free(key);
}
END_TEST

/* ---- eid_vdata: validation data read back ---- */

static void add_file(eid_vdata *v, int kind, const char *name, int want)
{
	char *path = unit_pki(name);
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_io__read_file(path, 1 << 20, &b), EID_OK);
	ck_assert_int_eq(eid_vdata__add_der(v, kind, b.data, b.len), want);
	eid_buf_clear(&b);
	free(path);
}

START_TEST(test_vdata__add_der)
{
	eid_vdata v = EID_VDATA_INIT;
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01 };

	add_file(&v, EID_VDATA_CERT, "int.der", EID_OK);
	add_file(&v, EID_VDATA_CERT, "int.der", EID_OK); /* the same again: kept once */
	ck_assert_int_eq(sk_X509_num(v.certs), 1);
	add_file(&v, EID_VDATA_CRL, "int.crl.der", EID_OK);
	ck_assert_int_eq(sk_X509_CRL_num(v.crls), 1);
	ck_assert_int_eq(eid_vdata__has_revocation(&v), 1);
	ck_assert_int_eq(eid_vdata__add_der(&v, EID_VDATA_OCSP, junk, sizeof(junk)), EID_EFORMAT);
	ck_assert_int_eq(eid_vdata__add_der(&v, EID_VDATA_CERT, junk, 0), EID_EFORMAT);
	/* a certificate where a CRL is expected */
	add_file(&v, EID_VDATA_CRL, "int.der", EID_EFORMAT);
	ck_assert_int_eq(sk_X509_CRL_num(v.crls), 1);
	eid_vdata__clear(&v);
	ck_assert_ptr_null(v.certs);
}
END_TEST

START_TEST(test_vdata__status_from_crl)
{
	eid_vdata v = EID_VDATA_INIT;
	X509 *good = pki_cert("citizen-rsa2048.crt"), *revoked = pki_cert("revoked-rsa2048.crt");
	X509 *issuer = pki_cert("int.crt"), *other = pki_cert("other-root.crt");
	eid_ocsp_result r;
	char why[300];

	add_file(&v, EID_VDATA_CRL, "int.crl.der", EID_OK);
	ck_assert_int_eq(eid_vdata__status(&v, good, issuer, NULL, 0, &r, why, sizeof(why)), EID_OK);
	ck_assert_int_eq(r.status, V_OCSP_CERTSTATUS_GOOD);
	ck_assert_str_eq(r.url, "CRL");
	ck_assert_int_eq(eid_vdata__status(&v, revoked, issuer, NULL, 0, &r, why, sizeof(why)), EID_OK);
	ck_assert_int_eq(r.status, V_OCSP_CERTSTATUS_REVOKED);
	ck_assert_int_gt(r.revoked_at, 0);
	/* issued before the proof of existence: proves nothing, and says why */
	ck_assert_int_eq(eid_vdata__status(&v, good, issuer, NULL, r.this_update + 1, &r, why, sizeof(why)),
			 EID_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(why, "predates"));
	/* another issuer's CRL says nothing about this certificate */
	ck_assert_int_eq(eid_vdata__status(&v, good, other, NULL, 0, &r, why, sizeof(why)), EID_ENOTFOUND);
	eid_vdata__clear(&v);
	ck_assert_int_eq(eid_vdata__status(&v, good, issuer, NULL, 0, &r, why, sizeof(why)), EID_ENOTFOUND);
	ck_assert_str_eq(why, "");
	X509_free(good);
	X509_free(revoked);
	X509_free(issuer);
	X509_free(other);
}
END_TEST

static Suite *trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *tc;

	tc = tcase_create("eid_trust_new");
	tcase_add_test(tc, test_trust_new__empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_trust_add_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trust_add_file__pem_bundle);
	tcase_add_test(tc, test_trust_add_file__der);
	tcase_add_test(tc, test_trust_add_file__pem_with_text_before);
	tcase_add_test(tc, test_trust_add_file__folder);
	tcase_add_test(tc, test_trust_add_file__folder_skips_non_certificates);
	tcase_add_test(tc, test_trust_add_file__folder_without_certificates);
	tcase_add_test(tc, test_trust_add_file__folder_with_duplicates);
	tcase_add_test(tc, test_trust_add_file__empty_file);
	tcase_add_test(tc, test_trust_add_file__no_certificate_in_file);
	tcase_add_test(tc, test_trust_add_file__missing);
	tcase_add_test(tc, test_trust_add_file__duplicate);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_trust_add_cert");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trust_add_cert__der_and_pem);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_pki__validate_chain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trust_pki__validate_chain__good);
	tcase_add_test(tc, test_trust_pki__validate_chain__expired);
	tcase_add_test(tc, test_trust_pki__validate_chain__untrusted);
	tcase_add_test(tc, test_trust_pki__validate_chain__self_signed_leaf);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_vdata");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vdata__add_der);
	tcase_add_test(tc, test_vdata__status_from_crl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(trust_suite());
}
