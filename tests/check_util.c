/*
 * check_util.c — common/util.c: write_file_atomic() with what a user may name
 * as an output file (a regular file, a symlink, a device, a FIFO).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

static char dir[] = "/tmp/ccrup-check-util.XXXXXX";

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", "/tmp/ccrup-check-util.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *at(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	ck_assert_int_eq(read_file(path, 1 << 20, &data, &len), 0);
	return data;
}

START_TEST(regular_file_is_replaced)
{
	char *p = at("out.html");
	ck_assert_int_eq(write_file_atomic(p, "one", 3, 0600), 0);
	ck_assert_int_eq(write_file_atomic(p, "two", 3, 0600), 0);
	char *d = slurp(p);
	ck_assert_str_eq(d, "two");
	free(d);
	free(p);
}
END_TEST

/* A symlink at the path is replaced, not written through (a planted link
 * cannot make ccrup overwrite another file). */
START_TEST(symlink_to_a_file_is_replaced_not_followed)
{
	char *target = at("target"), *link = at("link");
	ck_assert_int_eq(write_file_atomic(target, "keep", 4, 0600), 0);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(write_file_atomic(link, "new", 3, 0600), 0);
	char *d = slurp(target);
	ck_assert_str_eq(d, "keep");
	free(d);
	struct stat st;
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	free(target);
	free(link);
}
END_TEST

/* A FIFO named as the output is written into and stays a FIFO. */
START_TEST(fifo_is_written_into)
{
	char *p = at("fifo");
	char buf[16] = "";
	struct stat st;

	ck_assert_int_eq(mkfifo(p, 0600), 0);
	int rd = open(p, O_RDWR | O_NONBLOCK); /* a reader, so the write does not block */
	ck_assert_int_ge(rd, 0);
	ck_assert_int_eq(write_file_atomic(p, "piped", 5, 0600), 0);
	ck_assert_int_eq(read(rd, buf, sizeof(buf) - 1), 5);
	ck_assert_str_eq(buf, "piped");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	close(rd);
	free(p);
}
END_TEST

/* `-o /dev/null` as root: the device node must survive (it used to be renamed
 * over, leaving a regular file at /dev/null for every process).  Tested on a
 * node of our own, with a symlink to it as /dev/stdout is. */
START_TEST(device_is_written_into_not_replaced)
{
	char *p = at("null"), *link = at("stdout");
	struct stat st;

	if (geteuid() != 0 || mknod(p, S_IFCHR | 0666, makedev(1, 3)) != 0) {
		free(p);
		free(link);
		return; /* needs root (CI and make check run as root) */
	}
	ck_assert_int_eq(write_file_atomic(p, "gone", 4, 0600), 0);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_int_eq(symlink(p, link), 0);
	ck_assert_int_eq(write_file_atomic(link, "gone", 4, 0600), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(stat(link, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	free(p);
	free(link);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("write_file_atomic");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, regular_file_is_replaced);
	tcase_add_test(tc, symlink_to_a_file_is_replaced_not_followed);
	tcase_add_test(tc, fifo_is_written_into);
	tcase_add_test(tc, device_is_written_into_not_replaced);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
