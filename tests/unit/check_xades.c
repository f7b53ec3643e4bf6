/*
 * Unit tests of XAdES signing (libeid/xades/sign.c) and validation
 * (libeid/verify/xades.c), and of ASiC containers (libeid/asic/asic.c),
 * through the API.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "eid/eid.h"
#include "unit.h"

static char *tmp, *xml_in, *txt_in;

static void setup(void)
{
	tmp = unit_tmpdir();
	xml_in = unit_join(tmp, "invoice.xml");
	txt_in = unit_join(tmp, "order.txt");
	unit_write(xml_in, "<invoice xmlns=\"urn:x\"><amount>12.50</amount></invoice>", 55);
	unit_write(txt_in, "pay 12.50\n", 10);
}

static void teardown(void)
{
	unit_rmtree(tmp);
	free(tmp);
	free(xml_in);
	free(txt_in);
}

static eid_signer *p12(const char *name)
{
	char *p = unit_pki(name);
	eid_signer *s = NULL;

	ck_assert_int_eq(eid_signer_new_pkcs12(&s, p, "test"), EID_OK);
	free(p);
	return s;
}

/* Validate @xml (written to a file); the first signature's indication and its signed-data count. */
static eid_indication verify_xml(const eid_buf *xml, const char *data, size_t *nsigned, const char **level)
{
	static char lvl[64];
	char *path = unit_join(tmp, "sig.xml"), *root = unit_pki("root.crt");
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	eid_trust *t = NULL;
	eid_report *r = NULL;
	eid_indication ind;
	const eid_sig_report *s;

	unit_write(path, xml->data, xml->len);
	ck_assert_int_eq(eid_trust_new(&t), EID_OK);
	ck_assert_int_eq(eid_trust_add_file(t, root), EID_OK);
	o.trust = t;
	o.data_path = data;
	ck_assert_int_eq(eid_verify_file(&r, path, &o), EID_OK);
	s = eid_report_signature(r, 0);
	ind = eid_sig_report_indication(s);
	*nsigned = eid_sig_report_signed_data_count(s);
	snprintf(lvl, sizeof(lvl), "%s", eid_sig_report_level(s) ? eid_sig_report_level(s) : "");
	*level = lvl;
	eid_report_free(r);
	eid_trust_free(t);
	free(path);
	free(root);
	return ind;
}

START_TEST(test_xades_sign__packagings)
{
	eid_signer *s = p12("citizen-rsa2048.p12");
	eid_xades_opts o = EID_XADES_OPTS_INIT;
	eid_xades_data d[2] = { { xml_in, NULL, NULL }, { txt_in, NULL, NULL } };
	eid_buf out = EID_BUF_INIT;
	const char *level;
	size_t n;

	o.packaging = EID_XADES_ENVELOPED;
	o.claimed_role = "Buyer";
	o.flags = EID_XADES_POLICY_IMPLIED;
	ck_assert_int_eq(eid_xades_sign(s, d, 1, &o, &out), EID_OK);
	ck_assert_ptr_nonnull(memmem(out.data, out.len, "<xades:ClaimedRole>Buyer</xades:ClaimedRole>", 44));
	ck_assert_ptr_nonnull(memmem(out.data, out.len, "SignaturePolicyImplied", 22));
	ck_assert_int_eq(verify_xml(&out, NULL, &n, &level), EID_TOTAL_PASSED);
	ck_assert_str_eq(level, "XAdES-BASELINE-B");
	ck_assert_uint_eq(n, 1);
	o.packaging = EID_XADES_ENVELOPING;
	ck_assert_int_eq(eid_xades_sign(s, d + 1, 1, &o, &out), EID_OK);
	ck_assert_int_eq(verify_xml(&out, NULL, &n, &level), EID_TOTAL_PASSED);
	o.packaging = EID_XADES_DETACHED;
	ck_assert_int_eq(eid_xades_sign(s, d, 2, &o, &out), EID_OK);
	ck_assert_int_eq(verify_xml(&out, tmp, &n, &level), EID_TOTAL_PASSED);
	ck_assert_uint_eq(n, 2);
	/* one input for enveloped and enveloping */
	o.packaging = EID_XADES_ENVELOPED;
	ck_assert_int_eq(eid_xades_sign(s, d, 2, &o, &out), EID_EINVAL);
	/* enveloped needs XML */
	ck_assert_int_eq(eid_xades_sign(s, d + 1, 1, &o, &out), EID_EFORMAT);
	eid_buf_clear(&out);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_xades_prepare__two_steps_with_external_signer)
{
	eid_signer *key = p12("citizen-p256.p12"), *ext = NULL;
	const unsigned char *cert, *tbs;
	size_t cert_len, len, n;
	eid_xades_data d = { xml_in, NULL, NULL };
	eid_xades_opts o = EID_XADES_OPTS_INIT;
	eid_xades_prep *p = NULL;
	eid_buf sig = EID_BUF_INIT, out = EID_BUF_INIT;
	eid_hash hash;
	eid_sig_scheme scheme;
	const char *level;
	char *int_path = unit_pki("int.der");
	size_t int_len;
	unsigned char *int_der = unit_read(int_path, &int_len);

	ck_assert_int_eq(eid_signer_certificate(key, &cert, &cert_len), EID_OK);
	ck_assert_int_eq(eid_signer_new_external(&ext, cert, cert_len), EID_OK);
	ck_assert_int_eq(eid_signer_add_chain_cert(ext, int_der, int_len), EID_OK);
	o.packaging = EID_XADES_ENVELOPED;
	ck_assert_int_eq(eid_xades_prepare(&p, ext, &d, 1, &o), EID_OK);
	ck_assert_int_eq(eid_xades_prep_digest(p, &tbs, &len, &hash, &scheme), EID_OK);
	ck_assert_int_eq(scheme, EID_SIG_ECDSA);
	ck_assert_uint_eq(len, 32);
	/* a value over another digest is refused before anything is written */
	{
		unsigned char other[32];

		memcpy(other, tbs, 32);
		other[0] ^= 1;
		ck_assert_int_eq(eid_signer_sign_digest(key, scheme, hash, other, 32, &sig), EID_OK);
		ck_assert_int_eq(eid_xades_complete(p, sig.data, sig.len, &out), EID_EINVAL);
		ck_assert_uint_eq(out.len, 0);
	}
	/* the key's value, DER (as a token gives it), goes in as r||s */
	ck_assert_int_eq(eid_signer_sign_digest(key, scheme, hash, tbs, len, &sig), EID_OK);
	ck_assert_int_eq(eid_xades_complete(p, sig.data, sig.len, &out), EID_OK);
	ck_assert_int_eq(eid_xades_complete(p, sig.data, sig.len, &out), EID_EINVAL); /* only once */
	ck_assert_int_eq(verify_xml(&out, NULL, &n, &level), EID_TOTAL_PASSED);
	eid_xades_prep_free(p);
	/* into a file: written only when whole, and only from the bytes that were signed */
	{
		char *dir = unit_tmpdir(), *in = unit_join(dir, "in.xml"), *signed_path = unit_join(dir, "out.xml");
		size_t in_len, got_len;
		unsigned char *doc = unit_read(xml_in, &in_len), *got;
		eid_xades_data d2 = { in, NULL, NULL };

		unit_write(in, doc, in_len);
		ck_assert_int_eq(eid_xades_prepare(&p, ext, &d2, 1, &o), EID_OK);
		ck_assert_int_eq(eid_xades_prep_digest(p, &tbs, &len, &hash, &scheme), EID_OK);
		ck_assert_int_eq(eid_signer_sign_digest(key, scheme, hash, tbs, len, &sig), EID_OK);
		doc[in_len / 2] ^= 1; /* the input changes between the two steps */
		unit_write(in, doc, in_len);
		ck_assert_int_eq(eid_xades_complete_file(p, sig.data, sig.len, signed_path), EID_EIO);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "changed"));
		ck_assert_uint_eq(unit_count_entries(dir), 1); /* no output, no temporary file left */
		doc[in_len / 2] ^= 1;
		unit_write(in, doc, in_len);
		ck_assert_int_eq(eid_xades_complete_file(p, sig.data, sig.len, signed_path), EID_OK);
		got = unit_read(signed_path, &got_len);
		ck_assert_int_eq(eid_buf_set(&out, got, got_len), EID_OK);
		ck_assert_int_eq(verify_xml(&out, NULL, &n, &level), EID_TOTAL_PASSED);
		/* the document's own bytes are kept: the signature is written in before the root's end tag */
		ck_assert_mem_eq(got, doc, 20);
		eid_xades_prep_free(p);
		free(got);
		free(doc);
		free(in);
		free(signed_path);
		unit_rmtree(dir);
		free(dir);
	}
	eid_buf_clear(&sig);
	eid_buf_clear(&out);
	eid_signer_free(ext);
	eid_signer_free(key);
	free(int_der);
	free(int_path);
}
END_TEST

START_TEST(test_xades_prepare__bad_options_and_inputs)
{
	eid_signer *s = p12("citizen-rsa2048.p12");
	eid_xades_opts o = EID_XADES_OPTS_INIT;
	eid_xades_data d = { xml_in, NULL, NULL }, missing = { "/nonexistent/x.xml", NULL, NULL };
	eid_xades_prep *p = NULL;
	char *dup = unit_join(tmp, "dup.xml"), *doctype = unit_join(tmp, "dt.xml");

	o.version = 7;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EVERSION);
	o.version = EID_XADES_OPTS_VERSION;
	o.level = EID_LEVEL_B_LT;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EUNSUPPORTED);
	o.level = EID_LEVEL_DEFAULT;
	o.packaging = 9;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EINVAL);
	o.packaging = EID_XADES_DETACHED;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &missing, 1, &o), EID_EIO);
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 0, &o), EID_EINVAL);
	ck_assert_int_eq(eid_xades_prepare(NULL, s, &d, 1, &o), EID_EINVAL);
	/* an enveloped document must have unique Ids and no DOCTYPE */
	o.packaging = EID_XADES_ENVELOPED;
	unit_write(dup, "<a><b Id=\"x\"/><c Id=\"x\"/></a>", 29);
	d.path = dup;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EFORMAT);
	unit_write(doctype, "<!DOCTYPE a><a/>", 16);
	d.path = doctype;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EFORMAT);
	ck_assert_ptr_null(p);
	/* an explicit policy needs its document's digest, and is not also implied */
	d.path = xml_in;
	o.packaging = EID_XADES_DETACHED;
	o.policy_id = "1.2.3";
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EINVAL);
	o.policy_hash = EID_HASH_SHA256;
	o.policy_digest = (const unsigned char *)"0123456789abcdef0123456789abcdef";
	o.policy_digest_len = 31;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EINVAL);
	o.policy_digest_len = 32;
	o.flags = EID_XADES_POLICY_IMPLIED;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_EINVAL);
	o.flags = 0;
	ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, &o), EID_OK);
	eid_xades_prep_free(p);
	p = NULL;
	/* a caller built for version 1 passes the shorter structure: only that much is read */
	{
		eid_xades_opts o1 = o;
		unsigned char *v1 = malloc(offsetof(eid_xades_opts, policy_id));

		ck_assert_ptr_nonnull(v1);
		o1.version = 1;
		memcpy(v1, &o1, offsetof(eid_xades_opts, policy_id));
		ck_assert_int_eq(eid_xades_prepare(&p, s, &d, 1, (const eid_xades_opts *)(void *)v1), EID_OK);
		eid_xades_prep_free(p);
		free(v1);
	}
	eid_signer_free(s);
	free(dup);
	free(doctype);
}
END_TEST

START_TEST(test_asic__two_steps_then_a_second_signature)
{
	eid_signer *key = p12("citizen-rsa2048.p12"), *other = p12("citizen-p384.p12");
	const char *files[2] = { xml_in, txt_in };
	char *box = unit_join(tmp, "box.asice"), *box2 = unit_join(tmp, "box2.asice"), *x = unit_join(tmp, "x.asics");
	char *root = unit_pki("root.crt");
	eid_asic_opts o = EID_ASIC_OPTS_INIT;
	eid_asic_prep *p = NULL;
	eid_buf sig = EID_BUF_INIT;
	const unsigned char *tbs;
	size_t len;
	eid_hash hash;
	eid_sig_scheme scheme;
	eid_verify_opts vo = EID_VERIFY_OPTS_INIT;
	eid_trust *t = NULL;
	eid_report *r = NULL;

	ck_assert_int_eq(eid_asic_prepare(&p, key, files, 2, box, &o), EID_OK);
	ck_assert_int_eq(access(box, F_OK), -1); /* nothing before the value */
	ck_assert_int_eq(eid_asic_prep_digest(p, &tbs, &len, &hash, &scheme), EID_OK);
	ck_assert_int_eq(eid_signer_sign_digest(key, scheme, hash, tbs, len, &sig), EID_OK);
	sig.data[0] ^= 1;
	ck_assert_int_eq(eid_asic_complete(p, sig.data, sig.len), EID_EINVAL);
	ck_assert_int_eq(access(box, F_OK), -1);
	sig.data[0] ^= 1;
	ck_assert_int_eq(eid_asic_complete(p, sig.data, sig.len), EID_OK);
	eid_asic_prep_free(p);
	ck_assert_int_eq(eid_asic_add_signature(other, box, box2, NULL), EID_OK);

	ck_assert_int_eq(eid_trust_new(&t), EID_OK);
	ck_assert_int_eq(eid_trust_add_file(t, root), EID_OK);
	vo.trust = t;
	ck_assert_int_eq(eid_verify_file(&r, box2, &vo), EID_OK);
	ck_assert_uint_eq(eid_report_signature_count(r), 2);
	ck_assert_int_eq(eid_report_indication(r), EID_TOTAL_PASSED);
	ck_assert_str_eq(eid_sig_report_field(eid_report_signature(r, 1)), "META-INF/signatures1.xml");
	ck_assert_uint_eq(eid_sig_report_signed_data_count(eid_report_signature(r, 1)), 2);
	eid_report_free(r);

	/* ASiC-S: one file, and no signature added to it */
	o.type = EID_ASIC_S;
	ck_assert_int_eq(eid_asic_sign(key, files, 2, x, &o), EID_EINVAL);
	ck_assert_int_eq(eid_asic_sign(key, files, 1, x, &o), EID_OK);
	ck_assert_int_eq(eid_asic_add_signature(key, x, box2, NULL), EID_EINVAL);
	/* names in a container are unique, and mimetype or META-INF/ are not theirs */
	o.type = EID_ASIC_E;
	files[1] = xml_in;
	ck_assert_int_eq(eid_asic_sign(key, files, 2, box, &o), EID_EINVAL);
	o.version = 9;
	ck_assert_int_eq(eid_asic_sign(key, files, 1, box, &o), EID_EVERSION);
	eid_trust_free(t);
	eid_buf_clear(&sig);
	eid_signer_free(key);
	eid_signer_free(other);
	free(box);
	free(box2);
	free(x);
	free(root);
}
END_TEST

static Suite *xades_suite(void)
{
	Suite *s = suite_create("xades");
	TCase *tc = tcase_create("eid_xades_sign");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_xades_sign__packagings);
	tcase_add_test(tc, test_xades_prepare__two_steps_with_external_signer);
	tcase_add_test(tc, test_xades_prepare__bad_options_and_inputs);
	tcase_add_test(tc, test_asic__two_steps_then_a_second_signature);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(xades_suite());
}
