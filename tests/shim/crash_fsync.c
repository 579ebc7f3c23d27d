/*
 * crash_fsync.c — an LD_PRELOAD shim for the crash matrix: the process is
 * killed with SIGKILL right after its Nth durable write of a chosen file, or
 * right after its Nth write(2) of it, before that write is fsync'd.
 *
 *   CCRUP_CRASH_AFTER=N        kill after the Nth successful fsync/fdatasync
 *   CCRUP_CRASH_AFTER_WRITE=N  kill after the Nth successful write(2), before
 *                              any fsync that would cover it
 *   CCRUP_CRASH_LOSE=MODE      with CCRUP_CRASH_AFTER_WRITE, what the crash
 *                              does to what was written since the last fsync
 *                              of the file (the machine crashing, not only the
 *                              process):
 *                                keep      nothing (a process crash; default)
 *                                unsynced  all of it is lost: the file is cut
 *                                          back to what the last fsync covered
 *                                torn      half of it is lost: a prefix
 *                                          survives, ending in a torn line
 *   CCRUP_CRASH_MATCH=SUFFIX   of a file whose path ends in SUFFIX
 *                              (default "/journal.jsonl")
 *   CCRUP_CRASH_TALLY=PATH     count without killing; at exit write
 *                              "FSYNCS WRITES\n" of the file to PATH (how many
 *                              crash points an undisturbed run has)
 *
 * The counts cover every thread of the process.  With none of these set
 * the shim only passes calls through.  A file's
 * path is read from /proc/self/fd, so renamed or reopened files are matched
 * by what they are now.  What an earlier process left in the file counts as
 * synced.  Built as build/tests/crash_fsync.so (make check, make
 * crash-matrix).
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
#include <sys/stat.h>
#include <unistd.h>

static atomic_long seen;	 /* fsyncs of the file */
static atomic_long written;	 /* writes of the file */
static atomic_llong synced = -1; /* bytes of the file the last fsync covered; -1 unknown */

static long env_count(const char *name)
{
	const char *v = getenv(name);
	return v ? strtol(v, NULL, 10) : 0;
}

/* Is the shim counting at all? */
static int active(void)
{
	return env_count("CCRUP_CRASH_AFTER") > 0 || env_count("CCRUP_CRASH_AFTER_WRITE") > 0 ||
	       getenv("CCRUP_CRASH_TALLY") != NULL;
}

__attribute__((destructor)) static void tally(void)
{
	const char *path = getenv("CCRUP_CRASH_TALLY");
	FILE *f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "%ld %ld\n", atomic_load(&seen), atomic_load(&written));
	fclose(f);
}

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

static long long file_size(int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void after_sync(int fd, int rc)
{
	long want = env_count("CCRUP_CRASH_AFTER");

	if (rc != 0 || !active() || !matches(fd))
		return;
	atomic_store(&synced, file_size(fd));
	if (atomic_fetch_add(&seen, 1) + 1 == want)
		kill(getpid(), SIGKILL);
}

/* The machine crashes now: what was written since the last fsync is lost, in part or all. */
static void lose_unsynced(int fd)
{
	const char *mode = getenv("CCRUP_CRASH_LOSE");
	long long base = atomic_load(&synced), end = file_size(fd);

	if (mode == NULL || base < 0 || end <= base)
		return;
	if (strcmp(mode, "unsynced") == 0)
		(void)ftruncate(fd, (off_t)base);
	else if (strcmp(mode, "torn") == 0)
		(void)ftruncate(fd, (off_t)(base + (end - base) / 2));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	long want = env_count("CCRUP_CRASH_AFTER_WRITE");
	if (!active() || !matches(fd))
		return real(fd, buf, len);
	/* Before our first write, what the file holds was left by an earlier run: synced. */
	long long none = -1;
	atomic_compare_exchange_strong(&synced, &none, file_size(fd));
	ssize_t n = real(fd, buf, len);
	if (n > 0 && atomic_fetch_add(&written, 1) + 1 == want) {
		lose_unsynced(fd);
		kill(getpid(), SIGKILL);
	}
	return n;
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
