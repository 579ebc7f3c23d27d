/*
 * crash_fsync.c — an LD_PRELOAD shim for the crash matrix: the process is
 * killed with SIGKILL right after its Nth durable write of a chosen file.
 *
 *   CCRUP_CRASH_AFTER=N        kill after the Nth successful fsync/fdatasync
 *   CCRUP_CRASH_MATCH=SUFFIX   of a file whose path ends in SUFFIX
 *                              (default "/journal.jsonl")
 *
 * The count covers every thread of the process.  Without CCRUP_CRASH_AFTER
 * the shim only passes calls through.  A file's path is read from
 * /proc/self/fd, so renamed or reopened files are matched by what they are
 * now.  Built as build/tests/crash_fsync.so (make check, make crash-matrix).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_long seen;

static int matches(int fd)
{
	char link[64], path[PATH_MAX];
	const char *suffix = getenv("CCRUP_CRASH_MATCH");
	ssize_t n;

	if (suffix == NULL || *suffix == '\0')
		suffix = "/journal.jsonl";
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	size_t ls = strlen(suffix), lp = (size_t)n;
	return lp >= ls && strcmp(path + lp - ls, suffix) == 0;
}

static void after_sync(int fd, int rc)
{
	const char *after = getenv("CCRUP_CRASH_AFTER");
	long want = after ? strtol(after, NULL, 10) : 0;

	if (rc != 0 || want <= 0 || !matches(fd))
		return;
	if (atomic_fetch_add(&seen, 1) + 1 == want)
		kill(getpid(), SIGKILL);
}

int fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	int rc = real(fd);
	after_sync(fd, rc);
	return rc;
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	int rc = real(fd);
	after_sync(fd, rc);
	return rc;
}
