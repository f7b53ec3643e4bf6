/* Unit tests for PAdES signing (libeid/pdf/pades.c) through the public API. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "eid/eid.h"
#include "unit.h"

static char *tmp;
static char *pdf_in;

static void setup(void)
{
	const char *corpus = unit_env("EID_TEST_PDF");

	tmp = unit_tmpdir();
	ck_assert_msg(corpus != NULL, "EID_TEST_PDF is not set");
	pdf_in = unit_join(corpus, "classic-1.3.pdf");
}

static void teardown(void)
{
	unit_rmtree(tmp);
	free(tmp);
	free(pdf_in);
}

static eid_signer *p12_signer(void)
{
	char *p = unit_pki("citizen-rsa2048.p12");
	eid_signer *s = NULL;

	ck_assert_int_eq(eid_signer_new_pkcs12(&s, p, "test"), EID_OK);
	free(p);
	return s;
}

static eid_trust *root_trust(void)
{
	char *p = unit_pki("root.crt");
	eid_trust *t = NULL;

	ck_assert_int_eq(eid_trust_new(&t), EID_OK);
	ck_assert_int_eq(eid_trust_add_file(t, p), EID_OK);
	free(p);
	return t;
}

static eid_indication verify(const char *path, size_t *count, const char **level)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	eid_trust *t = root_trust();
	eid_report *r = NULL;
	eid_indication ind;
	static char lvl[64];

	o.trust = t;
	ck_assert_int_eq(eid_verify_file(&r, path, &o), EID_OK);
	ind = eid_report_indication(r);
	*count = eid_report_signature_count(r);
	snprintf(lvl, sizeof(lvl), "%s", eid_sig_report_level(eid_report_signature(r, 0)) ?
						 eid_sig_report_level(eid_report_signature(r, 0)) : "");
	*level = lvl;
	eid_report_free(r);
	eid_trust_free(t);
	return ind;
}

START_TEST(test_pades_sign__one_step)
{
	eid_signer *s = p12_signer();
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *out = unit_join(tmp, "signed.pdf");
	const char *level;
	size_t n;

	o.reason = "Approved";
	o.location = "Łódź";
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, out, &o), EID_OK);
	ck_assert_int_eq(verify(out, &n, &level), EID_TOTAL_PASSED);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(level, "PAdES-BASELINE-B");
	ck_assert_uint_eq(unit_count_entries(tmp), 1); /* no temporary file left */
	eid_signer_free(s);
	free(out);
}
END_TEST

START_TEST(test_pades_prepare__two_steps_with_external_signer)
{
	eid_signer *key = p12_signer(), *ext = NULL;
	const unsigned char *cert, *digest;
	size_t cert_len, len;
	eid_pades_prep *p = NULL;
	eid_buf sig = EID_BUF_INIT;
	eid_hash hash;
	eid_sig_scheme scheme;
	char *out = unit_join(tmp, "two-step.pdf");
	const char *level;
	size_t n;

	ck_assert_int_eq(eid_signer_certificate(key, &cert, &cert_len), EID_OK);
	ck_assert_int_eq(eid_signer_new_external(&ext, cert, cert_len), EID_OK);
	{
		/* an external signer knows only what it is given: add the intermediate */
		char *int_path = unit_pki("int.der");
		size_t int_len;
		unsigned char *int_der = unit_read(int_path, &int_len);

		ck_assert_int_eq(eid_signer_add_chain_cert(ext, int_der, int_len), EID_OK);
		free(int_der);
		free(int_path);
	}
	ck_assert_int_eq(eid_pades_prepare(&p, ext, pdf_in, out, NULL), EID_OK);
	ck_assert_int_eq(access(out, F_OK), -1); /* nothing at the target before completion */
	ck_assert_int_eq(eid_pades_prep_digest(p, &digest, &len, &hash, &scheme), EID_OK);
	ck_assert_uint_eq(len, 32);
	/* the value comes from elsewhere: here, the same key through its own signer */
	ck_assert_int_eq(eid_signer_sign_digest(key, scheme, hash, digest, len, &sig), EID_OK);
	ck_assert_int_eq(eid_pades_complete(p, sig.data, sig.len), EID_OK);
	ck_assert_int_eq(eid_pades_complete(p, sig.data, sig.len), EID_EINVAL); /* only once */
	eid_pades_prep_free(p);
	ck_assert_int_eq(verify(out, &n, &level), EID_TOTAL_PASSED);
	eid_buf_clear(&sig);
	eid_signer_free(ext);
	eid_signer_free(key);
	free(out);
}
END_TEST

START_TEST(test_pades_complete__wrong_value_leaves_nothing)
{
	eid_signer *key = p12_signer();
	eid_pades_prep *p = NULL;
	unsigned char junk[256];
	char *out = unit_join(tmp, "wrong.pdf");

	memset(junk, 0x5a, sizeof(junk));
	ck_assert_int_eq(eid_pades_prepare(&p, key, pdf_in, out, NULL), EID_OK);
	ck_assert_int_eq(eid_pades_complete(p, junk, sizeof(junk)), EID_EINVAL);
	eid_pades_prep_free(p);
	ck_assert_int_eq(access(out, F_OK), -1);
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	eid_signer_free(key);
	free(out);
}
END_TEST

START_TEST(test_pades_prep_free__abandoned_leaves_nothing)
{
	eid_signer *key = p12_signer();
	eid_pades_prep *p = NULL;
	char *out = unit_join(tmp, "abandoned.pdf");

	ck_assert_int_eq(eid_pades_prepare(&p, key, pdf_in, out, NULL), EID_OK);
	ck_assert_uint_eq(unit_count_entries(tmp), 1); /* the temporary file */
	eid_pades_prep_free(p);
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	eid_signer_free(key);
	free(out);
}
END_TEST

START_TEST(test_pades_prepare__bad_options_and_inputs)
{
	eid_signer *key = p12_signer();
	eid_pades_prep *p = NULL;
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *out = unit_join(tmp, "x.pdf"), *txt = unit_join(tmp, "not.pdf");

	o.version = 99;
	ck_assert_int_eq(eid_pades_prepare(&p, key, pdf_in, out, &o), EID_EVERSION);
	o.version = EID_PADES_OPTS_VERSION;
	o.level = EID_LEVEL_B_LTA;
	ck_assert_int_eq(eid_pades_prepare(&p, key, pdf_in, out, &o), EID_EUNSUPPORTED);
	ck_assert_ptr_null(p);
	o.level = EID_LEVEL_B_T; /* needs a TSA */
	ck_assert_int_eq(eid_pades_prepare(&p, key, pdf_in, out, &o), EID_EINVAL);
	ck_assert_ptr_null(p);
	o.level = EID_LEVEL_DEFAULT;
	unit_write(txt, "hello\n", 6);
	ck_assert_int_lt(eid_pades_prepare(&p, key, txt, out, NULL), 0);
	ck_assert_int_eq(eid_pades_prepare(&p, key, "/nonexistent.pdf", out, NULL), EID_EIO);
	ck_assert_int_eq(eid_pades_prepare(&p, key, pdf_in, "/nonexistent/dir/x.pdf", NULL), EID_EIO);
	ck_assert_int_eq(eid_pades_prepare(NULL, key, pdf_in, out, NULL), EID_EINVAL);
	ck_assert_int_eq(access(out, F_OK), -1);
	eid_signer_free(key);
	free(out);
	free(txt);
}
END_TEST

START_TEST(test_pades_sign__field_names_are_unique)
{
	eid_signer *s = p12_signer();
	char *a = unit_join(tmp, "a.pdf"), *b = unit_join(tmp, "b.pdf");
	unsigned char *data;
	size_t len, n;
	const char *level;

	ck_assert_int_eq(eid_pades_sign(s, pdf_in, a, NULL), EID_OK);
	ck_assert_int_eq(eid_pades_sign(s, a, b, NULL), EID_OK);
	ck_assert_int_eq(verify(b, &n, &level), EID_TOTAL_PASSED);
	ck_assert_uint_eq(n, 2);
	data = unit_read(b, &len);
	ck_assert_ptr_nonnull(memmem(data, len, "(Signature1)", 12));
	ck_assert_ptr_nonnull(memmem(data, len, "(Signature2)", 12));
	free(data);
	eid_signer_free(s);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_pades_sign__certification_rules)
{
	eid_signer *s = p12_signer();
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *c1 = unit_join(tmp, "c1.pdf"), *c2 = unit_join(tmp, "c2.pdf"), *x = unit_join(tmp, "x.pdf");
	eid_verify_opts vo = EID_VERIFY_OPTS_INIT;
	eid_report *r = NULL;
	const eid_sig_report *sig;

	o.certify = 4;
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, x, &o), EID_EINVAL);
	o.certify = 2;
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, c2, &o), EID_OK);
	/* one certification per document, and only as its first signature */
	ck_assert_int_eq(eid_pades_sign(s, c2, x, &o), EID_EINVAL);
	o.certify = 0;
	o.rect[2] = 100;
	o.rect[3] = 40;
	ck_assert_int_eq(eid_pades_sign(s, c2, x, &o), EID_EINVAL); /* a new visible field on P=2 */
	ck_assert_str_eq(eid_error_last()->message + strlen(eid_error_last()->message) - strlen("(--field NAME)"),
			 "(--field NAME)");
	o.certify = 1;
	o.rect[2] = o.rect[3] = 0;
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, c1, &o), EID_OK);
	o.certify = 0;
	ck_assert_int_eq(eid_pades_sign(s, c1, x, &o), EID_EINVAL); /* nothing after P=1 */
	ck_assert_int_eq(access(x, F_OK), -1);

	vo.trust = root_trust();
	ck_assert_int_eq(eid_verify_file(&r, c2, &vo), EID_OK);
	sig = eid_report_signature(r, 0);
	ck_assert_int_eq(eid_sig_report_certification(sig), 2);
	ck_assert_str_eq(eid_sig_report_field(sig), "Signature1");
	ck_assert_int_eq(eid_report_indication(r), EID_TOTAL_PASSED);
	eid_report_free(r);
	eid_trust_free((eid_trust *)vo.trust);
	eid_signer_free(s);
	free(c1);
	free(c2);
	free(x);
}
END_TEST

START_TEST(test_pades_sign__version_1_options)
{
	eid_signer *s = p12_signer();
	eid_pades_opts o;
	char *out = unit_join(tmp, "v1.pdf");
	const char *level;
	size_t n;

	/* what a caller built against version 1 passes: fields after rect[] are not read */
	memset(&o, 0xa5, sizeof(o));
	o.version = 1;
	o.hash = EID_HASH_DEFAULT;
	o.scheme = EID_SIG_DEFAULT;
	o.level = EID_LEVEL_DEFAULT;
	o.signing_time = 0;
	o.reason = o.location = o.contact_info = o.name = o.field_name = NULL;
	o.flags = 0;
	o.page = 0;
	memset(o.rect, 0, sizeof(o.rect));
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, out, &o), EID_OK);
	ck_assert_int_eq(verify(out, &n, &level), EID_TOTAL_PASSED);
	eid_signer_free(s);
	free(out);
}
END_TEST

START_TEST(test_pades_sign__existing_fields)
{
	eid_signer *s = p12_signer();
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *form = unit_join(unit_env("EID_TEST_PDF"), "sigfields.pdf");
	char *a = unit_join(tmp, "a.pdf"), *b = unit_join(tmp, "b.pdf"), *x = unit_join(tmp, "x.pdf");
	unsigned char *data;
	size_t len, n;
	const char *level;

	o.field_name = "Buyer";
	ck_assert_int_eq(eid_pades_sign(s, form, a, &o), EID_OK);
	ck_assert_int_eq(eid_pades_sign(s, a, x, &o), EID_EINVAL); /* already signed */
	o.field_name = "Witness";
	ck_assert_int_eq(eid_pades_sign(s, a, b, &o), EID_OK);
	ck_assert_int_eq(verify(b, &n, &level), EID_TOTAL_PASSED);
	ck_assert_uint_eq(n, 2);
	data = unit_read(b, &len);
	/* the fields were filled, not added: no SignatureN */
	ck_assert_ptr_null(memmem(data, len, "(Signature1)", 12));
	free(data);
	o.field_name = "Buyer";
	o.rect[2] = 50;
	o.rect[3] = 20;
	ck_assert_int_eq(eid_pades_sign(s, form, x, &o), EID_EINVAL); /* the field has its own box */
	ck_assert_int_eq(access(x, F_OK), -1);
	eid_signer_free(s);
	free(form);
	free(a);
	free(b);
	free(x);
}
END_TEST

START_TEST(test_pades_sign__legacy_subfilter)
{
	eid_signer *s = p12_signer();
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *out = unit_join(tmp, "legacy.pdf");
	const char *level;
	size_t n;

	o.flags = EID_PADES_LEGACY_SUBFILTER;
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, out, &o), EID_OK);
	ck_assert_int_eq(verify(out, &n, &level), EID_TOTAL_PASSED);
	ck_assert_str_eq(level, ""); /* not a PAdES baseline signature */
	eid_signer_free(s);
	free(out);
}
END_TEST

START_TEST(test_pades_sign__visible)
{
	eid_signer *s = p12_signer();
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *out = unit_join(tmp, "visible.pdf");
	unsigned char *data;
	const char *level;
	size_t len, n;

	o.page = 2;
	o.rect[0] = 300;
	o.rect[1] = 80;
	o.rect[2] = 220;
	o.rect[3] = 70;
	o.reason = "Approuvé — Łódź";
	ck_assert_int_eq(eid_pades_sign(s, pdf_in, out, &o), EID_OK);
	ck_assert_int_eq(verify(out, &n, &level), EID_TOTAL_PASSED);
	data = unit_read(out, &len);
	ck_assert_ptr_nonnull(memmem(data, len, "/Subtype /Form", 14));
	ck_assert_ptr_nonnull(memmem(data, len, "/Rect [300 80 520 150]", 22));
	ck_assert_ptr_nonnull(memmem(data, len, "/Lslash", 7));
	ck_assert_ptr_nonnull(memmem(data, len, "/emdash", 7));
	free(data);
	eid_signer_free(s);
	free(out);
}
END_TEST

START_TEST(test_pades_prepare__bad_box_or_page)
{
	eid_signer *s = p12_signer();
	eid_pades_prep *p = NULL;
	eid_pades_opts o = EID_PADES_OPTS_INIT;
	char *out = unit_join(tmp, "bad.pdf");

	o.rect[2] = 100; /* a width without a height */
	ck_assert_int_eq(eid_pades_prepare(&p, s, pdf_in, out, &o), EID_EINVAL);
	o.rect[3] = 50;
	o.rect[0] = -5;
	ck_assert_int_eq(eid_pades_prepare(&p, s, pdf_in, out, &o), EID_EINVAL);
	o.rect[0] = 10;
	o.page = 99; /* the document has two pages */
	ck_assert_int_lt(eid_pades_prepare(&p, s, pdf_in, out, &o), 0);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	eid_signer_free(s);
	free(out);
}
END_TEST

static Suite *pades_suite(void)
{
	Suite *s = suite_create("pades");
	TCase *tc = tcase_create("pades");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pades_sign__one_step);
	tcase_add_test(tc, test_pades_prepare__two_steps_with_external_signer);
	tcase_add_test(tc, test_pades_complete__wrong_value_leaves_nothing);
	tcase_add_test(tc, test_pades_prep_free__abandoned_leaves_nothing);
	tcase_add_test(tc, test_pades_prepare__bad_options_and_inputs);
	tcase_add_test(tc, test_pades_sign__field_names_are_unique);
	tcase_add_test(tc, test_pades_sign__legacy_subfilter);
	tcase_add_test(tc, test_pades_sign__visible);
	tcase_add_test(tc, test_pades_prepare__bad_box_or_page);
	tcase_add_test(tc, test_pades_sign__certification_rules);
	tcase_add_test(tc, test_pades_sign__version_1_options);
	tcase_add_test(tc, test_pades_sign__existing_fields);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(pades_suite());
}
