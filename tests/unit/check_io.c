/* Unit tests of libeid/common/io.c: whole-file reads and atomic output. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "common/common.h"
#include "unit.h"

static char *tmp;

static void setup(void)
{
	tmp = unit_tmpdir();
}

static void teardown(void)
{
	unit_rmtree(tmp);
	free(tmp);
	tmp = NULL;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void assert_content(const char *path, const void *data, size_t len)
{
	size_t n;
	unsigned char *got = unit_read(path, &n);

	ck_assert_uint_eq(n, len);
	if (len > 0)
		ck_assert_mem_eq(got, data, len);
	free(got);
}

/* ---- eid_file_write_atomic ---- */

START_TEST(test_io_file_write_atomic__writes_content)
{
	char *path = unit_join(tmp, "out.bin");
	unsigned char data[70000];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i ^ (i >> 8));
	ck_assert_int_eq(eid_file_write_atomic(path, data, sizeof(data)), EID_OK);
	assert_content(path, data, sizeof(data));
	/* No temporary file is left beside it. */
	ck_assert_uint_eq(unit_count_entries(tmp), 1);
	free(path);
}
END_TEST

START_TEST(test_io_file_write_atomic__empty_content)
{
	char *path = unit_join(tmp, "empty");

	ck_assert_int_eq(eid_file_write_atomic(path, NULL, 0), EID_OK);
	assert_content(path, "", 0);
	ck_assert_uint_eq(unit_count_entries(tmp), 1);
	free(path);
}
END_TEST

START_TEST(test_io_file_write_atomic__missing_folder)
{
	char *dir = unit_join(tmp, "no-such-dir");
	char *path = unit_join(dir, "out.bin");

	ck_assert_int_eq(eid_file_write_atomic(path, "x", 1), EID_EIO);
	ck_assert_int_eq(eid_error_last()->code, EID_EIO);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, path));
	ck_assert(!exists(dir));
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_io_file_write_atomic__path_names_a_folder)
{
	char *path = unit_join(tmp, "sub/");

	ck_assert_int_eq(eid_file_write_atomic(path, "x", 1), EID_EINVAL);
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	ck_assert_int_eq(eid_file_write_atomic("/", "x", 1), EID_EINVAL);
	free(path);
}
END_TEST

START_TEST(test_io_file_write_atomic__bad_arguments)
{
	char *path = unit_join(tmp, "out.bin");

	ck_assert_int_eq(eid_file_write_atomic(NULL, "x", 1), EID_EINVAL);
	ck_assert_int_eq(eid_file_write_atomic("", "x", 1), EID_EINVAL);
	ck_assert_int_eq(eid_file_write_atomic(path, NULL, 5), EID_EINVAL);
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	free(path);
}
END_TEST

START_TEST(test_io_file_write_atomic__replaces_existing)
{
	char *path = unit_join(tmp, "target");
	char old[16];
	int fd;

	unit_write(path, "old content", 11);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(eid_file_write_atomic(path, "new", 3), EID_OK);
	assert_content(path, "new", 3);
	/* Replaced by a rename: a reader of the old file still sees all of it. */
	memset(old, 0, sizeof(old));
	ck_assert_int_eq(read(fd, old, sizeof(old) - 1), 11);
	ck_assert_str_eq(old, "old content");
	close(fd);
	ck_assert_uint_eq(unit_count_entries(tmp), 1);
	free(path);
}
END_TEST

START_TEST(test_io_file_write_atomic__permissions_follow_umask)
{
	char *path = unit_join(tmp, "perm");
	struct stat st;
	mode_t old = umask(022);

	ck_assert_int_eq(eid_file_write_atomic(path, "x", 1), EID_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644); /* not mkstemp's 0600 */
	unlink(path);
	umask(027);
	ck_assert_int_eq(eid_file_write_atomic(path, "x", 1), EID_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	/* The umask is left as it was. */
	ck_assert_int_eq(umask(old), 027);
	free(path);
}
END_TEST

START_TEST(test_io_file_write_atomic__relative_path)
{
	ck_assert_int_eq(chdir(tmp), 0);
	ck_assert_int_eq(eid_file_write_atomic("relative.txt", "rel", 3), EID_OK);
	assert_content("relative.txt", "rel", 3);
	ck_assert_uint_eq(unit_count_entries("."), 1);
}
END_TEST

START_TEST(test_io_file_write_atomic__read_only_folder)
{
	char *dir = unit_join(tmp, "ro");
	char *path = unit_join(dir, "out");

	if (geteuid() == 0) {
		/* root writes into a 0500 folder anyway */
		unit_skip("test_io_file_write_atomic__read_only_folder", "running as root");
		free(path);
		free(dir);
		return;
	}
	ck_assert_int_eq(mkdir(dir, 0500), 0);
	ck_assert_int_eq(eid_file_write_atomic(path, "x", 1), EID_EIO);
	ck_assert_uint_eq(unit_count_entries(dir), 0);
	chmod(dir, 0700);
	free(path);
	free(dir);
}
END_TEST

/* ---- eid_io__out_open / _write / _commit / _abort ---- */

START_TEST(test_io_out_commit__pieces)
{
	char *path = unit_join(tmp, "pieces");
	eid_outfile of;

	ck_assert_int_eq(eid_io__out_open(&of, path), EID_OK);
	ck_assert_int_ge(of.fd, 0);
	ck_assert_ptr_nonnull(of.tmp);
	ck_assert(!exists(path));
	ck_assert_int_eq(eid_io__out_write(&of, "one,", 4), EID_OK);
	ck_assert_int_eq(eid_io__out_write(&of, "two", 3), EID_OK);
	ck_assert_int_eq(eid_io__out_commit(&of), EID_OK);
	ck_assert_ptr_null(of.tmp);
	ck_assert_ptr_null(of.path);
	ck_assert_int_eq(of.fd, -1);
	assert_content(path, "one,two", 7);
	ck_assert_uint_eq(unit_count_entries(tmp), 1);
	free(path);
}
END_TEST

START_TEST(test_io_out_abort__leaves_nothing)
{
	char *path = unit_join(tmp, "aborted");
	eid_outfile of;

	ck_assert_int_eq(eid_io__out_open(&of, path), EID_OK);
	ck_assert_uint_eq(unit_count_entries(tmp), 1); /* the temporary file */
	ck_assert_int_eq(eid_io__out_write(&of, "partial", 7), EID_OK);
	eid_io__out_abort(&of);
	ck_assert_uint_eq(unit_count_entries(tmp), 0);
	ck_assert(!exists(path));
	ck_assert_int_eq(of.fd, -1);
	ck_assert_ptr_null(of.tmp);
	eid_io__out_abort(&of); /* twice is harmless */
	free(path);
}
END_TEST

START_TEST(test_io_out_abort__keeps_existing_target)
{
	char *path = unit_join(tmp, "kept");
	eid_outfile of;

	unit_write(path, "original", 8);
	ck_assert_int_eq(eid_io__out_open(&of, path), EID_OK);
	ck_assert_int_eq(eid_io__out_write(&of, "replacement", 11), EID_OK);
	eid_io__out_abort(&of);
	assert_content(path, "original", 8);
	ck_assert_uint_eq(unit_count_entries(tmp), 1);
	free(path);
}
END_TEST

START_TEST(test_io_out_open__failure_leaves_closed_state)
{
	char *path = unit_join(tmp, "nope/file");
	eid_outfile of;

	ck_assert_int_eq(eid_io__out_open(&of, path), EID_EIO);
	ck_assert_int_eq(of.fd, -1);
	ck_assert_ptr_null(of.tmp);
	ck_assert_ptr_null(of.path);
	eid_io__out_abort(&of); /* safe after a failed open */
	free(path);
}
END_TEST

/* ---- eid_io__read_file ---- */

START_TEST(test_io_read_file__content)
{
	char *path = unit_join(tmp, "in");
	eid_buf b = EID_BUF_INIT;

	unit_write(path, "abc\0def", 7);
	ck_assert_int_eq(eid_io__read_file(path, 100, &b), EID_OK);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_mem_eq(b.data, "abc\0def", 7);
	ck_assert_int_eq(b.data[7], 0);
	/* A buffer with earlier content is replaced, not appended to. */
	unit_write(path, "xy", 2);
	ck_assert_int_eq(eid_io__read_file(path, 100, &b), EID_OK);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq((char *)b.data, "xy");
	eid_buf_clear(&b);
	free(path);
}
END_TEST

START_TEST(test_io_read_file__empty_file)
{
	char *path = unit_join(tmp, "empty");
	eid_buf b = EID_BUF_INIT;

	unit_write(path, "", 0);
	ck_assert_int_eq(eid_io__read_file(path, 0, &b), EID_OK);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_int_eq(b.data[0], 0);
	eid_buf_clear(&b);
	free(path);
}
END_TEST

START_TEST(test_io_read_file__large_file)
{
	char *path = unit_join(tmp, "large");
	size_t n = 3 * EID_IO_CHUNK + 123, i;
	unsigned char *data = malloc(n);
	eid_buf b = EID_BUF_INIT;

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 31 + 7);
	unit_write(path, data, n);
	ck_assert_int_eq(eid_io__read_file(path, n, &b), EID_OK);
	ck_assert_uint_eq(b.len, n);
	ck_assert_mem_eq(b.data, data, n);
	eid_buf_clear(&b);
	free(data);
	free(path);
}
END_TEST

START_TEST(test_io_read_file__too_big)
{
	char *path = unit_join(tmp, "hundred");
	unsigned char data[100];
	eid_buf b = EID_BUF_INIT;

	memset(data, 'h', sizeof(data));
	unit_write(path, data, sizeof(data));
	ck_assert_int_eq(eid_buf_set(&b, "previous", 8), EID_OK);
	ck_assert_int_eq(eid_io__read_file(path, 99, &b), EID_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "99"));
	/* Nothing of the file is returned: the buffer is left as it was, or cleared. */
	ck_assert(b.data == NULL || (b.len == 8 && memcmp(b.data, "previous", 8) == 0));
	ck_assert_int_eq(eid_io__read_file(path, 100, &b), EID_OK);
	ck_assert_uint_eq(b.len, 100);
	eid_buf_clear(&b);
	free(path);
}
END_TEST

START_TEST(test_io_read_file__size_unknown_in_advance)
{
	/* /proc files report a size of 0: the limit must hold while reading. */
	eid_buf b = EID_BUF_INIT;
	struct stat st;

	if (stat("/proc/self/maps", &st) != 0 || st.st_size != 0) {
		unit_skip("test_io_read_file__size_unknown_in_advance", "no /proc/self/maps of size 0");
		return;
	}
	ck_assert_int_eq(eid_io__read_file("/proc/self/maps", 16u << 20, &b), EID_OK);
	ck_assert_uint_gt(b.len, 0);
	ck_assert_uint_eq(strlen((char *)b.data), b.len);
	ck_assert_int_eq(eid_io__read_file("/proc/self/maps", 10, &b), EID_ETOOBIG);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_io_read_file__missing_file)
{
	char *path = unit_join(tmp, "missing");
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_io__read_file(path, 100, &b), EID_EIO);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, path));
	ck_assert_ptr_null(b.data);
	free(path);
}
END_TEST

START_TEST(test_io_read_file__directory)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_io__read_file(tmp, 1 << 20, &b), EID_EIO);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "not a regular file"));
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_io_read_file__null_arguments)
{
	eid_buf b = EID_BUF_INIT;

	ck_assert_int_eq(eid_io__read_file(NULL, 10, &b), EID_EINVAL);
	ck_assert_int_eq(eid_io__read_file(tmp, 10, NULL), EID_EINVAL);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc;

	tc = tcase_create("eid_file_write_atomic");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_io_file_write_atomic__writes_content);
	tcase_add_test(tc, test_io_file_write_atomic__empty_content);
	tcase_add_test(tc, test_io_file_write_atomic__missing_folder);
	tcase_add_test(tc, test_io_file_write_atomic__path_names_a_folder);
	tcase_add_test(tc, test_io_file_write_atomic__bad_arguments);
	tcase_add_test(tc, test_io_file_write_atomic__replaces_existing);
	tcase_add_test(tc, test_io_file_write_atomic__permissions_follow_umask);
	tcase_add_test(tc, test_io_file_write_atomic__relative_path);
	tcase_add_test(tc, test_io_file_write_atomic__read_only_folder);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_io__out_open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_io_out_open__failure_leaves_closed_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_io__out_commit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_io_out_commit__pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_io__out_abort");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_io_out_abort__leaves_nothing);
	tcase_add_test(tc, test_io_out_abort__keeps_existing_target);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_io__read_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_io_read_file__content);
	tcase_add_test(tc, test_io_read_file__empty_file);
	tcase_add_test(tc, test_io_read_file__large_file);
	tcase_add_test(tc, test_io_read_file__too_big);
	tcase_add_test(tc, test_io_read_file__size_unknown_in_advance);
	tcase_add_test(tc, test_io_read_file__missing_file);
	tcase_add_test(tc, test_io_read_file__directory);
	tcase_add_test(tc, test_io_read_file__null_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(io_suite());
}
