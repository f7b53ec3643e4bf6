/*
 * Unit tests of libeid/card/ that need no card: BER-TLV, PIN blocks, status
 * words, the Belgian eID files, the identity structure and its JSON, and
 * what happens without pcscd.  The profiles against emulated cards are in
 * tests/interop/cards.sh.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "card/card.h"
#include "unit.h"

START_TEST(test_tlv__walk_and_bounds)
{
	/* 6F { 84 <2>, A5 { 9F65 <1> } }, padding, then 5F2D with a long-form length */
	static const unsigned char good[] = { 0x6f, 0x0a, 0x84, 0x02, 0xaa, 0xbb, 0xa5, 0x04, 0x9f, 0x65, 0x01, 0x07,
					      0x00, 0xff, 0x5f, 0x2d, 0x81, 0x02, 'e', 'n' };
	const unsigned char *p = good, *end = good + sizeof(good);
	eid_tlv t, in;

	ck_assert_int_eq(eid_tlv__next(&p, end, &t), EID_OK);
	ck_assert_uint_eq(t.tag, 0x6f);
	ck_assert(t.constructed);
	ck_assert_int_eq(eid_tlv__find(t.value, t.len, 0xa5, &in), EID_OK);
	ck_assert_int_eq(eid_tlv__find(in.value, in.len, 0x9f65, &in), EID_OK);
	ck_assert_uint_eq(in.len, 1);
	ck_assert_int_eq(eid_tlv__next(&p, end, &t), EID_OK);
	ck_assert_uint_eq(t.tag, 0x5f2d);
	ck_assert_uint_eq(t.len, 2);
	ck_assert_int_eq(eid_tlv__next(&p, end, &t), EID_ENOTFOUND);
	ck_assert_int_eq(eid_tlv__find(good, sizeof(good), 0x99, &t), EID_ENOTFOUND);
	/* cut short: in the length, in the value; lengths of 4 bytes; a tag of 4 bytes */
	{
		static const unsigned char bad[][6] = {
			{ 0x04, 0x05, 0x01, 0x02 }, { 0x04, 0x82, 0x01 }, { 0x04, 0x84, 0, 0, 0, 1 }, { 0x1f, 0x81, 0x81, 0x81, 0x01, 0x00 },
		};
		static const size_t len[] = { 4, 3, 6, 6 };
		size_t i;

		for (i = 0; i < 4; i++) {
			p = bad[i];
			ck_assert_int_eq(eid_tlv__next(&p, bad[i] + len[i], &t), EID_EFORMAT);
		}
	}
}
END_TEST

START_TEST(test_pin_block__formats)
{
	unsigned char b[16];
	size_t n;

	ck_assert_int_eq(eid_card__pin_block("1234", EID_PIN_FORMAT_2, 4, 12, 8, b, &n), EID_OK);
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(b, "\x24\x12\x34\xff\xff\xff\xff\xff", 8);
	ck_assert_int_eq(eid_card__pin_block("12345", EID_PIN_FORMAT_2, 4, 12, 8, b, &n), EID_OK);
	ck_assert_mem_eq(b, "\x25\x12\x34\x5f\xff\xff\xff\xff", 8);
	ck_assert_int_eq(eid_card__pin_block("0090", EID_PIN_FORMAT_ASCII_FF, 4, 12, 12, b, &n), EID_OK);
	ck_assert_uint_eq(n, 12);
	ck_assert_mem_eq(b, "0090\xff\xff\xff\xff\xff\xff\xff\xff", 12);
	ck_assert_int_eq(eid_card__pin_block("0090", EID_PIN_FORMAT_ASCII, 4, 12, 0, b, &n), EID_OK);
	ck_assert_uint_eq(n, 4);
	/* refused before anything is sent */
	ck_assert_int_eq(eid_card__pin_block("123", EID_PIN_FORMAT_2, 4, 12, 8, b, &n), EID_EPIN_INVALID);
	ck_assert_int_eq(eid_card__pin_block("1234567890123", EID_PIN_FORMAT_2, 4, 12, 8, b, &n), EID_EPIN_INVALID);
	ck_assert_int_eq(eid_card__pin_block("12a4", EID_PIN_FORMAT_2, 4, 12, 8, b, &n), EID_EPIN_INVALID);
	ck_assert_int_eq(eid_card__pin_block(NULL, EID_PIN_FORMAT_ASCII, 4, 12, 0, b, &n), EID_EPIN_INVALID);
	ck_assert_int_eq(eid_card__pin_block("123456789012345", EID_PIN_FORMAT_ASCII_FF, 4, 15, 12, b, &n),
			 EID_EPIN_INVALID);
}
END_TEST

START_TEST(test_sw__errors)
{
	ck_assert_int_eq(eid_card__sw_error(0x63c2, "VERIFY"), EID_EPIN_WRONG);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "2 tries left"));
	ck_assert_int_eq(eid_card__sw_error(0x63c1, "VERIFY"), EID_EPIN_WRONG);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "1 try left"));
	ck_assert_int_eq(eid_card__sw_error(0x6983, "VERIFY"), EID_EPIN_LOCKED);
	ck_assert_int_eq(eid_card__sw_error(0x6a82, "SELECT"), EID_ENOTFOUND);
	ck_assert_int_eq(eid_card__sw_error(0x6982, "PSO"), EID_ECARD);
	ck_assert_int_eq(eid_card__sw_error(0x6f00, "X"), EID_ECARD);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "6F00"));
}
END_TEST

/* The Belgian simple TLV: one-byte tag, length bytes of 0xFF adding 255 each. */
static size_t be_tlv(unsigned char *out, unsigned int tag, const char *v, size_t n)
{
	size_t k = 0, left = n;

	out[k++] = (unsigned char)tag;
	while (left >= 255) {
		out[k++] = 0xff;
		left -= 255;
	}
	out[k++] = (unsigned char)left;
	memcpy(out + k, v, n);
	return k + n;
}

START_TEST(test_belpic__identity_and_address_files)
{
	unsigned char f[2048], a[256];
	char longname[300];
	size_t n = 0, m = 0;
	eid_identity *id = eid_identity__new("belpic");
	eid_belpic_hashes h;

	memset(longname, 'a', sizeof(longname));
	n += be_tlv(f + n, 0x00, "\x01", 1); /* a file structure version first */
	n += be_tlv(f + n, 0x01, "592012345656", 12);
	n += be_tlv(f + n, 0x03, "24.10.2026", 10);
	n += be_tlv(f + n, 0x04, "23.10.2036", 10);
	n += be_tlv(f + n, 0x06, "85031512369", 11);
	n += be_tlv(f + n, 0x07, longname, sizeof(longname));
	n += be_tlv(f + n, 0x08, "J\xc3\xa9r\xc3\xb4me Tomasz", 15);
	n += be_tlv(f + n, 0x09, "\xc3\x89", 2);
	n += be_tlv(f + n, 0x0c, "15 MRT 1985", 11);
	n += be_tlv(f + n, 0x0d, "V", 1);
	n += be_tlv(f + n, 0x11, "01234567890123456789", 20);
	ck_assert_ptr_nonnull(id);
	ck_assert_int_eq(eid_belpic__parse_identity(id, f, n, &h), EID_OK);
	ck_assert_str_eq(eid_identity_get(id, EID_ID_DOCUMENT_NUMBER), "592012345656");
	ck_assert_str_eq(eid_identity_get(id, EID_ID_VALID_FROM), "2026-10-24");
	ck_assert_str_eq(eid_identity_get(id, EID_ID_VALID_UNTIL), "2036-10-23");
	ck_assert_str_eq(eid_identity_get(id, EID_ID_BIRTH_DATE), "1985-03-15");
	ck_assert_str_eq(eid_identity_get(id, EID_ID_SEX), "F");
	ck_assert_str_eq(eid_identity_get(id, EID_ID_GIVEN_NAMES), "J\xc3\xa9r\xc3\xb4me Tomasz \xc3\x89");
	ck_assert_uint_eq(strlen(eid_identity_get(id, EID_ID_SURNAME)), sizeof(longname)); /* a 0xFF length continuation */
	ck_assert_uint_eq(h.photo_len, 20);
	ck_assert_ptr_null(h.basic_key);

	m += be_tlv(a + m, 0x01, "Rue de l'\xc3\x89glise 12", 19);
	m += be_tlv(a + m, 0x02, "1000", 4);
	m += be_tlv(a + m, 0x03, "Bruxelles", 9);
	memset(a + m, 0, 40); /* the fixed-size file's zero padding */
	ck_assert_int_eq(eid_belpic__parse_address(id, a, m + 40), EID_OK);
	ck_assert_str_eq(eid_identity_get(id, EID_ID_ADDRESS_ZIP), "1000");
	ck_assert_str_eq(eid_identity_get(id, EID_ID_ADDRESS_MUNICIPALITY), "Bruxelles");

	/* hostile files: cut short, a length beyond the end, text that is not UTF-8 */
	ck_assert_int_eq(eid_belpic__parse_identity(id, f, 5, &h), EID_EFORMAT);
	ck_assert_int_eq(eid_belpic__parse_identity(id, (const unsigned char *)"\x07\xff\xff", 3, &h), EID_EFORMAT);
	ck_assert_int_eq(eid_belpic__parse_identity(id, (const unsigned char *)"\x07\x02\xc3\x28", 4, &h), EID_EFORMAT);
	ck_assert_int_eq(eid_belpic__parse_address(id, (const unsigned char *)"\x01\x05" "ab", 4), EID_EFORMAT);
	/* a date that is no date is kept as written */
	ck_assert_int_eq(eid_belpic__parse_identity(id, (const unsigned char *)"\x0c\x05" "32.13", 7, &h), EID_OK);
	ck_assert_str_eq(eid_identity_get(id, EID_ID_BIRTH_DATE), "32.13");
	eid_identity_free(id);
}
END_TEST

START_TEST(test_identity__json_and_verdict)
{
	eid_identity *id = eid_identity__new("esteid");
	eid_buf json = EID_BUF_INIT;
	const char *reason = NULL;

	ck_assert_int_eq(eid_identity__set(id, EID_ID_SURNAME, "  \xc3\x98STER \"Q\"  \0\0", 16), EID_OK);
	ck_assert_str_eq(eid_identity_get(id, EID_ID_SURNAME), "\xc3\x98STER \"Q\"");
	ck_assert_int_eq(eid_identity__set(id, EID_ID_GIVEN_NAMES, "A\nB", 3), EID_EFORMAT); /* no control characters */
	ck_assert_int_eq(eid_identity__set(id, EID_ID_GIVEN_NAMES, "\xe2\x82", 2), EID_EFORMAT); /* cut UTF-8 */
	ck_assert_ptr_null(eid_identity_get(id, EID_ID_GIVEN_NAMES));
	ck_assert_int_eq(eid_identity__set(id, EID_ID_GIVEN_NAMES, "", 0), EID_OK); /* empty: absent */
	ck_assert_ptr_null(eid_identity_get(id, EID_ID_GIVEN_NAMES));
	ck_assert_int_eq(eid_identity_integrity(id, &reason), EID_INTEGRITY_NONE);
	eid_identity__fail(id, "first %s", "reason");
	eid_identity__fail(id, "second");
	ck_assert_int_eq(eid_identity_integrity(id, &reason), EID_INTEGRITY_FAILED);
	ck_assert_str_eq(reason, "first reason");
	ck_assert_int_eq(eid_identity_to_json(id, &json), EID_OK);
	ck_assert_ptr_nonnull(strstr((const char *)json.data, "\"surname\": \"\xc3\x98STER \\\"Q\\\"\""));
	ck_assert_ptr_nonnull(strstr((const char *)json.data, "\"verdict\": \"failed\""));
	ck_assert_ptr_nonnull(strstr((const char *)json.data, "\"profile\": \"esteid\""));
	ck_assert_ptr_null(strstr((const char *)json.data, "given_names"));
	ck_assert_str_eq(eid_identity_field_name(EID_ID_BIRTH_DATE), "birth_date");
	ck_assert_ptr_null(eid_identity_field_name(EID_ID_FIELD_COUNT));
	eid_buf_clear(&json);
	eid_identity_free(id);
}
END_TEST

START_TEST(test_atr__extended_length)
{
	/* TD1 TD2 (T=1), historical bytes 80 73 00 00 40: card capabilities with b7 of the third byte */
	static const unsigned char ext[] = { 0x3b, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0x40, 0x00 };
	static const unsigned char no[] = { 0x3b, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0x00, 0x00 };
	/* category 00: compact-TLV, then three status bytes */
	static const unsigned char cat0[] = { 0x3b, 0x88, 0x80, 0x01, 0x00, 0x73, 0x00, 0x00, 0x40, 0x82, 0x90, 0x00, 0x00 };
	static const unsigned char ee[] = { 0x3b, 0xdb, 0x96, 0x00, 0x80, 0xb1, 0xfe, 0x45, 0x1f, 0x83, 0x00, 0x12,
					    0x23, 0x3f, 0x53, 0x65, 0x49, 0x44, 0x0f, 0x90, 0x00, 0xf1 };
	static const unsigned char cut[] = { 0x3b, 0x8f, 0x80, 0x01, 0x80, 0x73 };

	ck_assert_int_eq(eid_card__atr_extended(ext, sizeof(ext)), 1);
	ck_assert_int_eq(eid_card__atr_extended(no, sizeof(no)), 0);
	ck_assert_int_eq(eid_card__atr_extended(cat0, sizeof(cat0)), 1);
	ck_assert_int_eq(eid_card__atr_extended(ee, sizeof(ee)), 0);
	ck_assert_int_eq(eid_card__atr_extended(cut, sizeof(cut)), 0);
	ck_assert_int_eq(eid_card__atr_extended(ext, 1), 0);
}
END_TEST

START_TEST(test_ctx__without_pcscd)
{
	eid_card_ctx *ctx = NULL;
	char *dir = unit_tmpdir(), *sock = unit_join(dir, "no-pcscd.comm");

	setenv("PCSCLITE_CSOCK_NAME", sock, 1);
	ck_assert_int_eq(eid_card_ctx_new(&ctx), EID_ECARD);
	ck_assert_ptr_null(ctx);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "pcscd"));
	/* NULL arguments are errors, not crashes */
	ck_assert_int_eq(eid_card_ctx_new(NULL), EID_EINVAL);
	ck_assert_int_eq(eid_card_open(NULL, NULL, NULL), EID_EINVAL);
	ck_assert_int_eq(eid_card_identity(NULL, NULL), EID_EINVAL);
	ck_assert_int_eq(eid_card_pin_verify(NULL, EID_PIN_AUTH, "1234", NULL), EID_EINVAL);
	ck_assert_ptr_null(eid_card_profile(NULL));
	eid_card_free(NULL);
	eid_card_ctx_free(NULL);
	eid_identity_free(NULL);
	unsetenv("PCSCLITE_CSOCK_NAME");
	free(sock);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *card_suite(void)
{
	Suite *s = suite_create("card");
	TCase *tc = tcase_create("parsing");

	tcase_add_test(tc, test_tlv__walk_and_bounds);
	tcase_add_test(tc, test_pin_block__formats);
	tcase_add_test(tc, test_sw__errors);
	tcase_add_test(tc, test_belpic__identity_and_address_files);
	tcase_add_test(tc, test_identity__json_and_verdict);
	tcase_add_test(tc, test_atr__extended_length);
	suite_add_tcase(s, tc);
	tc = tcase_create("pcsc");
	tcase_add_test(tc, test_ctx__without_pcscd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(card_suite());
}
