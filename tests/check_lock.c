/*
 * check_lock.c — one run per cluster (orchestrator/state/lock.h).  flock(2) locks
 * belong to open files, so "another run" is simulated by a forked child.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lock.h"
#include "util.h"

static char tmpdir[256];
static char lpath[512];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_lock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(lpath, sizeof(lpath), "%s/state/CLUS1/lock", tmpdir);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static int wait_child(pid_t pid)
{
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

START_TEST(acquire_writes_holder_and_release_clears_it)
{
	char err[512] = "";
	int other = -1;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	char host[256] = "";

	umask(022);
	struct lock *l = lock_acquire(lpath, "ccrup apply", err, sizeof(err), &other);
	ck_assert_msg(l != NULL, "%s", err);
	ck_assert_int_eq(other, 0);
	ck_assert_int_eq(stat(lpath, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	char *dir = xasprintf("%s/state/CLUS1", tmpdir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	free(dir);

	ck_assert_int_eq(read_file(lpath, 4096, &data, &len), 0);
	ck_assert_int_eq(data[len - 1], '\n');
	json_t *obj = json_loads(data, 0, NULL);
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(json_integer_value(json_object_get(obj, "pid")), getpid());
	gethostname(host, sizeof(host) - 1);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "host")), host);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "command")), "ccrup apply");
	const char *started = json_string_value(json_object_get(obj, "started"));
	ck_assert_uint_eq(strlen(started), 20);
	ck_assert(started[10] == 'T' && started[19] == 'Z');
	json_decref(obj);
	free(data);

	struct lock_holder h;
	ck_assert_int_eq(lock_read_holder(lpath, &h, err, sizeof(err)), 1);
	ck_assert_int_eq(h.pid, getpid());
	lock_holder_release(&h);

	lock_release(l);
	ck_assert_int_eq(stat(lpath, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(lock_read_holder(lpath, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.pid, 0);
	lock_holder_release(&h);
	lock_release(NULL);
}
END_TEST

/* In the child: a second acquire must fail and name the holder exactly. */
static int second_acquire(pid_t holder)
{
	char err[512] = "", want[512];
	char host[256] = "";
	int other = 0;
	struct lock_holder h;

	if (lock_acquire(lpath, "ccrup resume", err, sizeof(err), &other) != NULL)
		return 1;
	if (other != 1)
		return 2;
	if (lock_read_holder(lpath, &h, NULL, 0) != 1 || h.pid != holder)
		return 3;
	gethostname(host, sizeof(host) - 1);
	snprintf(want, sizeof(want),
		 "cluster CLUS1 is locked by pid %ld on host %s since %s "
		 "(ccrup apply)",
		 (long)holder, host, h.started);
	lock_holder_release(&h);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "got:  %s\nwant: %s\n", err, want);
		return 4;
	}
	return 0;
}

START_TEST(second_acquire_fails_naming_holder)
{
	char err[512] = "", go = 'g';
	int sync[2];

	/* Fork first, so the child owns nothing of ours (valgrind stays quiet about it). */
	ck_assert_int_eq(pipe(sync), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sync[1]);
		if (read(sync[0], &go, 1) != 1)
			_exit(9);
		_exit(second_acquire(getppid()));
	}
	close(sync[0]);
	struct lock *l = lock_acquire(lpath, "ccrup apply", err, sizeof(err), NULL);
	ck_assert_msg(l != NULL, "%s", err);
	ck_assert_int_eq(write(sync[1], &go, 1), 1);
	close(sync[1]);
	ck_assert_int_eq(wait_child(pid), 0);

	/* A second open file in the same process conflicts too. */
	int other = 0;
	ck_assert_ptr_null(lock_acquire(lpath, "again", err, sizeof(err), &other));
	ck_assert_int_eq(other, 1);
	ck_assert_ptr_nonnull(strstr(err, "is locked by pid"));
	lock_release(l);
}
END_TEST

START_TEST(dead_holder_is_not_a_lock)
{
	char err[512] = "";
	int other = 0;
	struct lock_holder h;

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Crash holding the lock: no lock_release(), no exit handlers. */
		if (lock_acquire(lpath, "ccrup apply", NULL, 0, NULL) != NULL)
			raise(SIGKILL);
		_exit(1);
	}
	ck_assert_int_eq(wait_child(pid), 100 + SIGKILL);

	/* The stale record is still there, but nobody holds the lock. */
	ck_assert_int_eq(lock_read_holder(lpath, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.pid, pid);
	lock_holder_release(&h);

	struct lock *l = lock_acquire(lpath, "ccrup resume", err, sizeof(err), &other);
	ck_assert_msg(l != NULL, "%s", err);
	ck_assert_int_eq(lock_read_holder(lpath, &h, err, sizeof(err)), 1);
	ck_assert_int_eq(h.pid, getpid());
	ck_assert_str_eq(h.command, "ccrup resume");
	lock_holder_release(&h);
	lock_release(l);
}
END_TEST

START_TEST(holder_without_record)
{
	char err[512] = "";
	int other = 0;

	ck_assert_int_eq(mkdir_p(lpath, 0700), 0);
	ck_assert_int_eq(rmdir(lpath), 0);
	int fd = open(lpath, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_ptr_null(lock_acquire(lpath, "ccrup apply", err, sizeof(err), &other));
	ck_assert_int_eq(other, 1);
	ck_assert_ptr_nonnull(strstr(err, "cluster CLUS1 is locked by another process"));
	close(fd);
}
END_TEST

START_TEST(errors_are_not_held_by_other)
{
	char err[512] = "";
	int other = 1;
	struct lock_holder h;

	char *file = xasprintf("%s/plainfile", tmpdir);
	int fd = open(file, O_WRONLY | O_CREAT, 0600);
	close(fd);
	char *bad = xasprintf("%s/CLUS9/lock", file);
	ck_assert_ptr_null(lock_acquire(bad, "ccrup apply", err, sizeof(err), &other));
	ck_assert_int_eq(other, 0);
	ck_assert_ptr_nonnull(strstr(err, "Not a directory"));
	ck_assert_int_eq(lock_read_holder(bad, &h, err, sizeof(err)), -1);
	lock_holder_release(&h);
	/* No lock file at all: free, no holder. */
	ck_assert_int_eq(lock_read_holder(lpath, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.pid, 0);
	lock_holder_release(&h);
	free(bad);
	free(file);
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, acquire_writes_holder_and_release_clears_it);
	tcase_add_test(tc, second_acquire_fails_naming_holder);
	tcase_add_test(tc, dead_holder_is_not_a_lock);
	tcase_add_test(tc, holder_without_record);
	tcase_add_test(tc, errors_are_not_held_by_other);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
