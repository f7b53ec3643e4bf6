/* Unit tests of libeid/common/log.c: level filtering and log handlers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "common/common.h"
#include "unit.h"

#define MAX_LINES 16

typedef struct capture {
	int count;
	eid_log_level levels[MAX_LINES];
	char lines[MAX_LINES][2100];
} capture;

static capture cap;

static void capture_cb(eid_log_level level, const char *msg, void *userdata)
{
	capture *c = userdata;

	ck_assert_ptr_eq(c, &cap);
	if (c->count < MAX_LINES) {
		c->levels[c->count] = level;
		snprintf(c->lines[c->count], sizeof(c->lines[0]), "%s", msg);
	}
	c->count++;
}

static void setup(void)
{
	memset(&cap, 0, sizeof(cap));
	unsetenv("EID_DEBUG");
	eid_log_set_handler(capture_cb, &cap);
}

static void teardown(void)
{
	eid_log_set_handler(NULL, NULL);
}

static void log_all_levels(void)
{
	EID_LOG_E("e %d", 1);
	EID_LOG_W("w %d", 2);
	EID_LOG_I("i %d", 3);
	EID_LOG_D("d %d", 4);
	EID_LOG_T("t %d", 5);
}

/* ---- eid_log_set_level ---- */

START_TEST(test_log_set_level__filters)
{
	static const struct {
		eid_log_level level;
		int expected;
	} cases[] = {
		{ EID_LOG_NONE, 0 }, { EID_LOG_ERROR, 1 }, { EID_LOG_WARN, 2 },
		{ EID_LOG_INFO, 3 }, { EID_LOG_DEBUG, 4 }, { EID_LOG_TRACE, 5 },
	};
	size_t i;
	int j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&cap, 0, sizeof(cap));
		eid_log_set_level(cases[i].level);
		log_all_levels();
		ck_assert_int_eq(cap.count, cases[i].expected);
		for (j = 0; j < cap.count; j++) {
			char want[16];

			ck_assert_int_eq(cap.levels[j], (eid_log_level)(j + 1));
			snprintf(want, sizeof(want), "%c %d", "ewidt"[j], j + 1);
			ck_assert_str_eq(cap.lines[j], want);
		}
	}
}
END_TEST

START_TEST(test_log_set_level__clamps_above_trace)
{
	eid_log_set_level((eid_log_level)42);
	ck_assert(eid_log__enabled(EID_LOG_TRACE));
	log_all_levels();
	ck_assert_int_eq(cap.count, 5);
}
END_TEST

START_TEST(test_log_set_level__none_never_enabled)
{
	eid_log_set_level(EID_LOG_TRACE);
	ck_assert(!eid_log__enabled(EID_LOG_NONE));
	eid_log__(EID_LOG_NONE, "never");
	ck_assert_int_eq(cap.count, 0);
}
END_TEST

START_TEST(test_log_set_level__default_is_warn)
{
	/* A fresh (forked) process with EID_DEBUG unset. */
	if (getenv("CK_FORK") != NULL && strcmp(getenv("CK_FORK"), "no") == 0) {
		unit_skip("test_log_set_level__default_is_warn", "needs CK_FORK=yes");
		return;
	}
	ck_assert(eid_log__enabled(EID_LOG_ERROR));
	ck_assert(eid_log__enabled(EID_LOG_WARN));
	ck_assert(!eid_log__enabled(EID_LOG_INFO));
}
END_TEST

START_TEST(test_log_set_level__from_environment)
{
	if (getenv("CK_FORK") != NULL && strcmp(getenv("CK_FORK"), "no") == 0) {
		unit_skip("test_log_set_level__from_environment", "needs CK_FORK=yes");
		return;
	}
	setenv("EID_DEBUG", "5", 1);
	ck_assert(eid_log__enabled(EID_LOG_TRACE));
	/* An explicit level wins over the environment. */
	eid_log_set_level(EID_LOG_ERROR);
	ck_assert(!eid_log__enabled(EID_LOG_WARN));
}
END_TEST

/* ---- eid_log_set_handler ---- */

START_TEST(test_log_set_handler__long_line_truncated)
{
	char *big = malloc(5001);

	ck_assert_ptr_nonnull(big);
	memset(big, 'L', 5000);
	big[5000] = '\0';
	eid_log_set_level(EID_LOG_WARN);
	EID_LOG_W("%s", big);
	ck_assert_int_eq(cap.count, 1);
	ck_assert_uint_eq(strlen(cap.lines[0]), 2047);
	free(big);
}
END_TEST

START_TEST(test_log_set_handler__errors_logged_at_debug)
{
	eid_log_set_level(EID_LOG_DEBUG);
	eid_error__set(EID_EIO, "cannot open '%s'", "f");
	ck_assert_int_eq(cap.count, 1);
	ck_assert_int_eq(cap.levels[0], EID_LOG_DEBUG);
	ck_assert_str_eq(cap.lines[0], "error -3: cannot open 'f'");
	eid_log_set_level(EID_LOG_INFO);
	eid_error__set(EID_EIO, "quiet");
	ck_assert_int_eq(cap.count, 1);
}
END_TEST

START_TEST(test_log_set_handler__null_restores_stderr)
{
	char *dir = unit_tmpdir(), *path = unit_join(dir, "stderr.txt");
	FILE *f;
	int saved;
	size_t len;
	unsigned char *got;

	eid_log_set_level(EID_LOG_INFO);
	eid_log_set_handler(NULL, NULL);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	EID_LOG_W("to stderr %s", "now");
	EID_LOG_I("info too");
	EID_LOG_D("not this");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(f);
	got = unit_read(path, &len);
	ck_assert_str_eq((char *)got, "libeid warning: to stderr now\nlibeid info: info too\n");
	ck_assert_int_eq(cap.count, 0);
	free(got);
	unit_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = tcase_create("eid_log_set_level");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_set_level__filters);
	tcase_add_test(tc, test_log_set_level__clamps_above_trace);
	tcase_add_test(tc, test_log_set_level__none_never_enabled);
	tcase_add_test(tc, test_log_set_level__default_is_warn);
	tcase_add_test(tc, test_log_set_level__from_environment);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_log_set_handler");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_set_handler__long_line_truncated);
	tcase_add_test(tc, test_log_set_handler__errors_logged_at_debug);
	tcase_add_test(tc, test_log_set_handler__null_restores_stderr);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(log_suite());
}
