/* Unit tests of libeid/common/error.c: codes, descriptions, the thread-local detail. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/common.h"
#include "unit.h"

#define ERRMSG_MAX 1024 /* EID_ERRMSG_MAX in error.c, terminating NUL included */

static const struct {
	int code;
	const char *text;
} all_codes[] = {
	{ EID_OK, "success" },
	{ EID_EINVAL, "invalid argument" },
	{ EID_ENOMEM, "out of memory" },
	{ EID_EIO, "input/output error" },
	{ EID_ENOTFOUND, "not found" },
	{ EID_EUNSUPPORTED, "not supported" },
	{ EID_EFORMAT, "malformed input" },
	{ EID_ECANCELED, "cancelled" },
	{ EID_EVERSION, "unknown options version" },
	{ EID_EINTERNAL, "internal error" },
	{ EID_ETOOBIG, "input too large" },
	{ EID_EMODULE, "PKCS#11 module cannot be loaded" },
	{ EID_ENOTOKEN, "no matching token" },
	{ EID_ENOKEY, "no matching key or certificate" },
	{ EID_EPIN_WRONG, "wrong PIN" },
	{ EID_EPIN_LOCKED, "PIN blocked" },
	{ EID_EPIN_FINAL_TRY, "final PIN try not allowed" },
	{ EID_EPIN_INVALID, "invalid PIN" },
	{ EID_ETOKEN, "token failure" },
	{ EID_EMECHANISM, "algorithm not supported by the key" },
	{ EID_EPASSWORD, "wrong password" },
	{ EID_EEXTERNAL, "the signature value must come from outside" },
	{ EID_ETOKEN_REMOVED, "token removed" },
	{ EID_ECARD, "card failure" },
	{ EID_ECERT, "certificate error" },
	{ EID_ENETWORK, "network failure" },
	{ EID_ESIGFORMAT, "signature structure error" },
};

/* A message of @n 'x' characters, malloc'd. */
static char *long_text(size_t n, char c)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- eid_strerror ---- */

START_TEST(test_error_strerror__every_code)
{
	size_t i, j;

	for (i = 0; i < sizeof(all_codes) / sizeof(all_codes[0]); i++) {
		const char *t = eid_strerror(all_codes[i].code);

		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(t, all_codes[i].text);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(t, eid_strerror(all_codes[j].code));
	}
}
END_TEST

START_TEST(test_error_strerror__unknown_code)
{
	static const int unknown[] = { 1, -11, -99, -112, -199, -201, -302, -401, -500, -9999, 42 };
	size_t i;

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		ck_assert_ptr_nonnull(eid_strerror(unknown[i]));
		ck_assert_str_eq(eid_strerror(unknown[i]), "unknown error");
	}
}
END_TEST

/* ---- eid_error_last / eid_error_clear ---- */

START_TEST(test_error_error_last__empty_at_start)
{
	const eid_error *e = eid_error_last();

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->code, EID_OK);
	ck_assert_ptr_nonnull(e->message);
	ck_assert_str_eq(e->message, "");
	ck_assert_ptr_eq(eid_error_last(), e);
}
END_TEST

typedef struct thread_view {
	int code_seen;
	int message_null;
	char message_seen[64];
	int own_code;
	char own_message[64];
} thread_view;

static void *other_thread(void *arg)
{
	thread_view *v = arg;
	const eid_error *e = eid_error_last();

	v->code_seen = e->code;
	v->message_null = e->message == NULL;
	if (e->message != NULL)
		snprintf(v->message_seen, sizeof(v->message_seen), "%s", e->message);
	/* Its own error must not leak into the main thread. */
	eid_error__set(EID_ETOKEN, "set by the second thread");
	v->own_code = eid_error_last()->code;
	snprintf(v->own_message, sizeof(v->own_message), "%s", eid_error_last()->message);
	return NULL;
}

START_TEST(test_error_error_last__thread_local)
{
	pthread_t th;
	thread_view v;

	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(eid_error__set(EID_EIO, "main thread %d", 1), EID_EIO);
	ck_assert_int_eq(pthread_create(&th, NULL, other_thread, &v), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);

	ck_assert_int_eq(v.code_seen, EID_OK);
	ck_assert_int_eq(v.message_null, 0);
	ck_assert_str_eq(v.message_seen, "");
	ck_assert_int_eq(v.own_code, EID_ETOKEN);
	ck_assert_str_eq(v.own_message, "set by the second thread");

	ck_assert_int_eq(eid_error_last()->code, EID_EIO);
	ck_assert_str_eq(eid_error_last()->message, "main thread 1");
}
END_TEST

START_TEST(test_error_error_clear__resets)
{
	eid_error__set(EID_ENOKEY, "no key %s", "here");
	eid_error_clear();
	ck_assert_int_eq(eid_error_last()->code, EID_OK);
	ck_assert_str_eq(eid_error_last()->message, "");
	/* Clearing before anything was set is harmless too. */
	eid_error_clear();
	ck_assert_str_eq(eid_error_last()->message, "");
}
END_TEST

/* ---- eid_error__set ---- */

START_TEST(test_error_error__set__formats)
{
	ck_assert_int_eq(eid_error__set(EID_EPIN_WRONG, "token '%s': %d tries", "t", 3), EID_EPIN_WRONG);
	ck_assert_int_eq(eid_error_last()->code, EID_EPIN_WRONG);
	ck_assert_str_eq(eid_error_last()->message, "token 't': 3 tries");
	/* A new error replaces the previous one. */
	ck_assert_int_eq(eid_error__set(EID_EIO, "second"), EID_EIO);
	ck_assert_int_eq(eid_error_last()->code, EID_EIO);
	ck_assert_str_eq(eid_error_last()->message, "second");
}
END_TEST

START_TEST(test_error_error__set__null_format_uses_strerror)
{
	ck_assert_int_eq(eid_error__set(EID_ENOMEM, NULL), EID_ENOMEM);
	ck_assert_str_eq(eid_error_last()->message, "out of memory");
	ck_assert_int_eq(eid_error__set(-4242, NULL), -4242);
	ck_assert_str_eq(eid_error_last()->message, "unknown error");
}
END_TEST

START_TEST(test_error_error__set__truncates_long_message)
{
	char *big = long_text(5000, 'x');
	const char *m;

	ck_assert_int_eq(eid_error__set(EID_EFORMAT, "%s", big), EID_EFORMAT);
	m = eid_error_last()->message;
	ck_assert_uint_eq(strlen(m), ERRMSG_MAX - 1);
	ck_assert_int_eq(strncmp(m, big, ERRMSG_MAX - 1), 0);
	ck_assert_int_eq(eid_error_last()->code, EID_EFORMAT);
	free(big);
}
END_TEST

/* ---- eid_error__ossl ---- */

static void push_openssl_error(void)
{
	const unsigned char garbage[] = { 0x30, 0x03, 0x02, 0x01 };
	const unsigned char *p = garbage;

	ck_assert_ptr_null(d2i_X509(NULL, &p, sizeof(garbage)));
	ck_assert_uint_ne(ERR_peek_error(), 0);
}

START_TEST(test_error_error__ossl__appends_queue_and_clears_it)
{
	const char *m;
	size_t n;

	ERR_clear_error();
	push_openssl_error();
	ck_assert_int_eq(eid_error__ossl(EID_ECERT, "cannot parse %s", "cert.der"), EID_ECERT);
	m = eid_error_last()->message;
	n = strlen(m);
	ck_assert_int_eq(strncmp(m, "cannot parse cert.der (", 23), 0);
	ck_assert_int_eq(m[n - 1], ')');
	ck_assert_ptr_nonnull(strstr(m, "error:"));
	ck_assert_uint_eq(ERR_peek_error(), 0);
	ck_assert_int_eq(eid_error_last()->code, EID_ECERT);
}
END_TEST

START_TEST(test_error_error__ossl__first_and_last_entries)
{
	const char *m;

	ERR_clear_error();
	ERR_raise_data(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE, "first one");
	ERR_raise_data(ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH, "middle one");
	ERR_raise_data(ERR_LIB_X509, X509_R_WRONG_TYPE, "last one");
	ck_assert_int_eq(eid_error__ossl(EID_EINTERNAL, "step"), EID_EINTERNAL);
	m = eid_error_last()->message;
	ck_assert_int_eq(strncmp(m, "step (", 6), 0);
	ck_assert_ptr_nonnull(strstr(m, "; "));
	ck_assert_ptr_nonnull(strstr(m, "already in hash table"));
	ck_assert_ptr_nonnull(strstr(m, "wrong type"));
	ck_assert_ptr_null(strstr(m, "key values mismatch"));
	ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_error_error__ossl__empty_queue)
{
	ERR_clear_error();
	ck_assert_int_eq(eid_error__ossl(EID_EINTERNAL, "plain %d", 7), EID_EINTERNAL);
	ck_assert_str_eq(eid_error_last()->message, "plain 7");
}
END_TEST

START_TEST(test_error_error__ossl__truncates_long_message)
{
	char *big = long_text(ERRMSG_MAX - 5, 'y');
	const char *m;

	ERR_clear_error();
	push_openssl_error();
	ERR_raise_data(ERR_LIB_X509, X509_R_WRONG_TYPE, "another");
	ck_assert_int_eq(eid_error__ossl(EID_ECERT, "%s", big), EID_ECERT);
	m = eid_error_last()->message;
	ck_assert_uint_le(strlen(m), ERRMSG_MAX - 1);
	ck_assert_int_eq(strncmp(m, big, ERRMSG_MAX - 5), 0);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	free(big);
}
END_TEST

/* ---- eid_error__wrap ---- */

START_TEST(test_error_error__wrap__prefixes_and_keeps_code)
{
	eid_error__set(EID_EIO, "cannot open 'x'");
	ck_assert_int_eq(eid_error__wrap("reading %s", "trust"), EID_EIO);
	ck_assert_int_eq(eid_error_last()->code, EID_EIO);
	ck_assert_str_eq(eid_error_last()->message, "reading trust: cannot open 'x'");
	ck_assert_int_eq(eid_error__wrap("outer"), EID_EIO);
	ck_assert_str_eq(eid_error_last()->message, "outer: reading trust: cannot open 'x'");
}
END_TEST

START_TEST(test_error_error__wrap__long_prefix_truncated)
{
	char *big = long_text(3000, 'p');
	const char *m;

	eid_error__set(EID_EFORMAT, "inner");
	ck_assert_int_eq(eid_error__wrap("%s", big), EID_EFORMAT);
	m = eid_error_last()->message;
	ck_assert_uint_eq(strlen(m), ERRMSG_MAX - 1);
	ck_assert_int_eq(strncmp(m, big, ERRMSG_MAX - 3), 0);
	ck_assert_int_eq(strcmp(m + ERRMSG_MAX - 3, ": "), 0);
	free(big);
}
END_TEST

START_TEST(test_error_error__wrap__long_message_truncated)
{
	char *big = long_text(ERRMSG_MAX - 1, 'm');
	const char *m;

	eid_error__set(EID_EFORMAT, "%s", big);
	ck_assert_int_eq(eid_error__wrap("file.pem"), EID_EFORMAT);
	m = eid_error_last()->message;
	ck_assert_uint_eq(strlen(m), ERRMSG_MAX - 1);
	ck_assert_int_eq(strncmp(m, "file.pem: mmm", 13), 0);
	free(big);
}
END_TEST

/* ---- eid_version ---- */

START_TEST(test_error_version__matches_header)
{
	ck_assert_str_eq(eid_version(), EID_VERSION_STRING);
	ck_assert_str_eq(eid_version(), PACKAGE_VERSION);
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc;

	tc = tcase_create("eid_strerror");
	tcase_add_test(tc, test_error_strerror__every_code);
	tcase_add_test(tc, test_error_strerror__unknown_code);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_error_last");
	tcase_add_test(tc, test_error_error_last__empty_at_start);
	tcase_add_test(tc, test_error_error_last__thread_local);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_error_clear");
	tcase_add_test(tc, test_error_error_clear__resets);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_error__set");
	tcase_add_test(tc, test_error_error__set__formats);
	tcase_add_test(tc, test_error_error__set__null_format_uses_strerror);
	tcase_add_test(tc, test_error_error__set__truncates_long_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_error__ossl");
	tcase_add_test(tc, test_error_error__ossl__appends_queue_and_clears_it);
	tcase_add_test(tc, test_error_error__ossl__first_and_last_entries);
	tcase_add_test(tc, test_error_error__ossl__empty_queue);
	tcase_add_test(tc, test_error_error__ossl__truncates_long_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_error__wrap");
	tcase_add_test(tc, test_error_error__wrap__prefixes_and_keeps_code);
	tcase_add_test(tc, test_error_error__wrap__long_prefix_truncated);
	tcase_add_test(tc, test_error_error__wrap__long_message_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_version");
	tcase_add_test(tc, test_error_version__matches_header);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(error_suite());
}
