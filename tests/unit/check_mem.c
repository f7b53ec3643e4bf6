/* Unit tests of libeid/common/mem.c: buffers, wiping, hex, constant-time compare. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "common/common.h"
#include "unit.h"

static void assert_buf_sane(const eid_buf *b)
{
	ck_assert_ptr_nonnull(b->data);
	ck_assert_uint_gt(b->cap, b->len);
	ck_assert_int_eq(b->data[b->len], 0); /* always NUL-terminated */
}

/* ---- eid_buf_set ---- */

START_TEST(test_mem_buf_set__copies)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_buf_set(&b, "hello", 5), EID_OK);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_mem_eq(b.data, "hello", 5);
	assert_buf_sane(&b);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_mem_buf_set__replaces)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_buf_set(&b, "a much longer first content", 27), EID_OK);
	ck_assert_int_eq(eid_buf_set(&b, "xy", 2), EID_OK);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq((char *)b.data, "xy");
	/* The old bytes beyond the new content were wiped. */
	ck_assert_int_eq(b.data[3], 0);
	ck_assert_int_eq(b.data[20], 0);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_mem_buf_set__grows)
{
	eid_buf b = EID_BUF_INIT;
	unsigned char *big = malloc(100000);
	size_t i;

	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 100000; i++)
		big[i] = (unsigned char)(i * 7);
	ck_assert_int_eq(eid_buf_set(&b, "x", 1), EID_OK);
	ck_assert_int_eq(eid_buf_set(&b, big, 100000), EID_OK);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_mem_eq(b.data, big, 100000);
	assert_buf_sane(&b);
	eid_buf_clear(&b);
	free(big);
}
END_TEST

START_TEST(test_mem_buf_set__empty)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_buf_set(&b, NULL, 0), EID_OK);
	ck_assert_uint_eq(b.len, 0);
	assert_buf_sane(&b);
	ck_assert_int_eq(eid_buf_set(&b, "abc", 3), EID_OK);
	ck_assert_int_eq(eid_buf_set(&b, "", 0), EID_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.data[0], 0);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_mem_buf_set__null_arguments)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_buf_set(NULL, "x", 1), EID_EINVAL);
	ck_assert_int_eq(eid_error_last()->code, EID_EINVAL);
	ck_assert_int_eq(eid_buf_set(&b, NULL, 3), EID_EINVAL);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

/* ---- eid_buf__append ---- */

START_TEST(test_mem_buf__append__growth)
{
	eid_buf b = EID_BUF_INIT;
	size_t i, total = 0, last_cap = 0;
	unsigned char chunk[300];

	for (i = 0; i < 2000; i++) {
		size_t n = i % 300;

		memset(chunk, (int)(i & 0xff), n);
		ck_assert_int_eq(eid_buf__append(&b, chunk, n), EID_OK);
		ck_assert_uint_ge(b.cap, last_cap); /* never shrinks */
		last_cap = b.cap;
		ck_assert_int_eq(b.data[total], (int)(n ? (i & 0xff) : 0));
		total += n;
		ck_assert_uint_eq(b.len, total);
		assert_buf_sane(&b);
	}
	/* Spot-check the content: the last append is byte 1999 & 0xff. */
	ck_assert_int_eq(b.data[total - 1], 1999 & 0xff);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_mem_buf__append__after_attach)
{
	eid_buf b = EID_BUF_INIT;
	unsigned char *block = malloc(4);

	ck_assert_ptr_nonnull(block);
	memcpy(block, "abcd", 4);
	eid_buf__attach(&b, block, 4);
	ck_assert_ptr_eq(b.data, block);
	ck_assert_uint_eq(b.len, 4);
	/* The attached block has no room for the NUL: appending must grow it. */
	ck_assert_int_eq(eid_buf__append(&b, "ef", 2), EID_OK);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_str_eq((char *)b.data, "abcdef");
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_mem_buf__reserve__overflow)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_buf__append(&b, "abc", 3), EID_OK);
	ck_assert_int_eq(eid_buf__reserve(&b, SIZE_MAX), EID_ENOMEM);
	ck_assert_int_eq(eid_buf__reserve(&b, SIZE_MAX - 3), EID_ENOMEM);
	/* Unchanged. */
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq((char *)b.data, "abc");
	ck_assert_int_eq(eid_buf__reserve(&b, 0), EID_OK);
	eid_buf_clear(&b);
}
END_TEST

/* ---- eid_buf__printf / eid_buf__puts ---- */

START_TEST(test_mem_buf__printf__appends_and_grows)
{
	eid_buf b = EID_BUF_INIT;
	char *big = malloc(10001);
	size_t i;

	ck_assert_ptr_nonnull(big);
	memset(big, 'q', 10000);
	big[10000] = '\0';
	ck_assert_int_eq(eid_buf__printf(&b, "%d-%s", 42, "x"), EID_OK);
	ck_assert_str_eq((char *)b.data, "42-x");
	ck_assert_int_eq(eid_buf__printf(&b, "[%s]", big), EID_OK);
	ck_assert_uint_eq(b.len, 4 + 10002);
	ck_assert_int_eq(b.data[4], '[');
	ck_assert_int_eq(b.data[5], 'q');
	ck_assert_int_eq(b.data[b.len - 1], ']');
	assert_buf_sane(&b);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(eid_buf__printf(&b, "%zu,", i), EID_OK);
	ck_assert_ptr_nonnull(strstr((char *)b.data, "]0,1,2,"));
	ck_assert_int_eq(strcmp((char *)b.data + b.len - 4, "999,"), 0);
	ck_assert_int_eq(eid_buf__printf(&b, "%s", ""), EID_OK);
	assert_buf_sane(&b);
	eid_buf_clear(&b);
	free(big);
}
END_TEST

START_TEST(test_mem_buf__printf__empty_buffer_empty_string)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_buf__printf(&b, "%s", ""), EID_OK);
	ck_assert_uint_eq(b.len, 0);
	assert_buf_sane(&b);
	ck_assert_int_eq(eid_buf__puts(&b, "text"), EID_OK);
	ck_assert_str_eq((char *)b.data, "text");
	eid_buf_clear(&b);
}
END_TEST

/* ---- eid_buf_clear ---- */

START_TEST(test_mem_buf_clear__null_and_empty)
{
	eid_buf b = EID_BUF_INIT;

	eid_buf_clear(NULL);
	eid_buf_clear(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_int_eq(eid_buf_set(&b, "secret", 6), EID_OK);
	eid_buf_clear(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	eid_buf_clear(&b); /* twice */
	ck_assert_ptr_null(b.data);
}
END_TEST

/* ---- eid_memzero ---- */

START_TEST(test_mem_memzero__wipes)
{
	unsigned char secret[64];
	size_t i;

	memset(secret, 0xa5, sizeof(secret));
	eid_memzero(secret + 8, 32);
	for (i = 0; i < sizeof(secret); i++)
		ck_assert_int_eq(secret[i], (i >= 8 && i < 40) ? 0 : 0xa5);
	eid_memzero(NULL, 10);
	eid_memzero(secret, 0);
	ck_assert_int_eq(secret[0], 0xa5);
}
END_TEST

/* ---- eid_hex__encode / eid_hex__decode ---- */

START_TEST(test_mem_hex__encode__lower_case)
{
	static const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char *s = eid_hex__encode(bytes, sizeof(bytes));

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "00017f80abff");
	free(s);
	s = eid_hex__encode((const unsigned char *)"", 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_mem_hex__decode__round_trip)
{
	unsigned char all[256], *out = NULL;
	size_t i, len = 0;
	char *hex;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	hex = eid_hex__encode(all, sizeof(all));
	ck_assert_ptr_nonnull(hex);
	ck_assert_int_eq(eid_hex__decode(hex, &out, &len), EID_OK);
	ck_assert_uint_eq(len, 256);
	ck_assert_mem_eq(out, all, 256);
	free(out);
	free(hex);

	ck_assert_int_eq(eid_hex__decode("A1bC", &out, &len), EID_OK);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(out[0], 0xa1);
	ck_assert_int_eq(out[1], 0xbc);
	free(out);

	ck_assert_int_eq(eid_hex__decode("", &out, &len), EID_OK);
	ck_assert_uint_eq(len, 0);
	free(out);
}
END_TEST

START_TEST(test_mem_hex__decode__odd_length)
{
	unsigned char *out = (unsigned char *)"untouched";
	size_t len = 99;

	ck_assert_int_eq(eid_hex__decode("abc", &out, &len), EID_EINVAL);
	ck_assert_str_eq((char *)out, "untouched");
	ck_assert_uint_eq(len, 99);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "odd"));
	ck_assert_int_eq(eid_hex__decode("1", &out, &len), EID_EINVAL);
}
END_TEST

START_TEST(test_mem_hex__decode__bad_digits)
{
	static const char *const bad[] = { "0g", "zz", " 1", "1 ", "0x01", "-1", "12:34", "\xc3\xa9" };
	unsigned char *out = (unsigned char *)"untouched";
	size_t i, len = 99;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(eid_hex__decode(bad[i], &out, &len), EID_EINVAL);
		ck_assert_str_eq((char *)out, "untouched");
		ck_assert_uint_eq(len, 99);
	}
}
END_TEST

/* ---- eid__ct_memcmp ---- */

START_TEST(test_mem_ct_memcmp__equal_and_different)
{
	unsigned char a[48], b[48];
	size_t i;

	memset(a, 0x3c, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert_int_eq(eid__ct_memcmp(a, b, sizeof(a)), 0);
	ck_assert_int_eq(eid__ct_memcmp(a, b, 0), 0);
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x01;
		ck_assert_int_ne(eid__ct_memcmp(a, b, sizeof(a)), 0);
		/* Only the first i bytes compared: still equal. */
		ck_assert_int_eq(eid__ct_memcmp(a, b, i), 0);
		b[i] ^= 0x01;
	}
	b[47] = 0xff;
	ck_assert_int_eq(eid__ct_memcmp(a, b, sizeof(a)), 1);
}
END_TEST

/* ---- eid__strdup ---- */

START_TEST(test_mem_strdup__null_safe)
{
	char *s = eid__strdup("copy");

	ck_assert_ptr_null(eid__strdup(NULL));
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "copy");
	free(s);
}
END_TEST

static Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc;

	tc = tcase_create("eid_buf_set");
	tcase_add_test(tc, test_mem_buf_set__copies);
	tcase_add_test(tc, test_mem_buf_set__replaces);
	tcase_add_test(tc, test_mem_buf_set__grows);
	tcase_add_test(tc, test_mem_buf_set__empty);
	tcase_add_test(tc, test_mem_buf_set__null_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_buf__append");
	tcase_add_test(tc, test_mem_buf__append__growth);
	tcase_add_test(tc, test_mem_buf__append__after_attach);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_buf__reserve");
	tcase_add_test(tc, test_mem_buf__reserve__overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_buf__printf");
	tcase_add_test(tc, test_mem_buf__printf__appends_and_grows);
	tcase_add_test(tc, test_mem_buf__printf__empty_buffer_empty_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_buf_clear");
	tcase_add_test(tc, test_mem_buf_clear__null_and_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_memzero");
	tcase_add_test(tc, test_mem_memzero__wipes);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_hex__encode");
	tcase_add_test(tc, test_mem_hex__encode__lower_case);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_hex__decode");
	tcase_add_test(tc, test_mem_hex__decode__round_trip);
	tcase_add_test(tc, test_mem_hex__decode__odd_length);
	tcase_add_test(tc, test_mem_hex__decode__bad_digits);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid__ct_memcmp");
	tcase_add_test(tc, test_mem_ct_memcmp__equal_and_different);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid__strdup");
	tcase_add_test(tc, test_mem_strdup__null_safe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(mem_suite());
}
