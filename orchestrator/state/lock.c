/*
 * lock.c — see lock.h.
 *
 * Why flock and not a pid file: a pid can be reused and a host can reboot,
 * so "is the pid in the file alive?" gives wrong answers; a flock is owned by
 * the open file and vanishes with the process.  The holder record is only
 * for messages.
 *
 * Why the retries in lock_acquire(): lock_read_holder() probes with a shared
 * lock for a few microseconds; a few short retries make sure such a probe is
 * never mistaken for another run.
 */
#include "lock.h"

#include "fsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define LOCK_TRIES    5	 /* attempts before reporting "locked" */
#define LOCK_RETRY_MS 10 /* pause between attempts */
#define HOLDER_MAX    4096

struct lock {
	char *path; /* lock file path */
	int fd;	    /* open, flock'd descriptor */
};

static void put_err(char *err, size_t errlen, const char *fmt, ...) CCR_PRINTF(3, 4);

static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Open (creating it and its directory if needed) the lock file. */
static int lock_open(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd = -1;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700) < 0) {
			put_err(err, errlen, "create directory %s: %s", dir, strerror(errno));
			goto out;
		}
	}
	fd = fsafe_open(path, O_RDWR | O_CREAT, err, errlen);
out:
	free(dir);
	return fd;
}

/* The cluster name for messages: the lock file's directory's name. */
static char *lock_cluster(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	char *name;

	if (slash == NULL) {
		free(dir);
		return xstrdup(".");
	}
	*slash = '\0';
	slash = strrchr(dir, '/');
	name = xstrdup(slash ? slash + 1 : dir);
	free(dir);
	return name;
}

static char *dup_member(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? xstrdup(s) : NULL;
}

/* Parse the holder record from fd (whatever its offset).  0, or -1 if none. */
static int holder_parse(int fd, struct lock_holder *h)
{
	char buf[HOLDER_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	json_t *obj = NULL;
	json_t *pid;

	memset(h, 0, sizeof(*h));
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	obj = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	pid = json_object_get(obj, "pid");
	if (!json_is_integer(pid)) {
		json_decref(obj);
		return -1;
	}
	h->pid = (long)json_integer_value(pid);
	h->host = dup_member(obj, "host");
	h->started = dup_member(obj, "started");
	h->command = dup_member(obj, "command");
	json_decref(obj);
	return 0;
}

/* Write this process as the holder: truncate, write, fsync. */
static int holder_write(int fd, const char *command)
{
	char host[256] = "unknown";
	char ts[32];
	json_t *obj;
	char *json, *text;
	size_t len;
	int rc = -1;

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	format_iso8601(now_wall_ms(), ts, sizeof(ts));
	ts[19] = 'Z'; /* whole seconds: "2026-11-21T10:20:03Z" */
	ts[20] = '\0';
	obj = json_pack("{s:I, s:s, s:s, s:s}", "pid", (json_int_t)getpid(), "host", host,
			"started", ts, "command", command ? command : "ccrup");
	json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (json == NULL)
		return -1;
	text = xasprintf("%s\n", json);
	len = strlen(text);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, len, 0) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	free(json);
	free(text);
	return rc;
}

/* Describe the current holder of the lock open on fd into err. */
static void describe_holder(const char *path, int fd, char *err, size_t errlen)
{
	struct lock_holder h;
	char *cluster = lock_cluster(path);

	if (holder_parse(fd, &h) < 0)
		put_err(err, errlen,
			"cluster %s is locked by another process (%s has no holder "
			"record yet)",
			cluster, path);
	else
		put_err(err, errlen, "cluster %s is locked by pid %ld on host %s since %s (%s)",
			cluster, h.pid, h.host ? h.host : "?", h.started ? h.started : "?",
			h.command ? h.command : "?");
	lock_holder_release(&h);
	free(cluster);
}

static int flock_retry(int fd)
{
	for (int i = 0; i < LOCK_TRIES; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (i + 1 < LOCK_TRIES)
			sleep_ms(LOCK_RETRY_MS);
	}
	errno = EWOULDBLOCK;
	return -1;
}

struct lock *lock_acquire(const char *path, const char *command, char *err, size_t errlen,
			  int *held_by_other)
{
	struct lock *l = NULL;
	int fd;

	if (held_by_other != NULL)
		*held_by_other = 0;
	fd = lock_open(path, err, errlen);
	if (fd < 0)
		return NULL;
	if (flock_retry(fd) < 0) {
		if (errno == EWOULDBLOCK) {
			if (held_by_other != NULL)
				*held_by_other = 1;
			describe_holder(path, fd, err, errlen);
		} else {
			put_err(err, errlen, "lock %s: %s", path, strerror(errno));
		}
		close(fd);
		return NULL;
	}
	if (holder_write(fd, command) < 0) {
		put_err(err, errlen, "write %s: %s", path, strerror(errno));
		close(fd); /* drops the lock too */
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->path = xstrdup(path);
	l->fd = fd;
	return l;
}

void lock_release(struct lock *l)
{
	if (l == NULL)
		return;
	/* Empty the record first, while still holding the lock, so nobody reads us as holder. */
	if (ftruncate(l->fd, 0) == 0)
		(void)fsync(l->fd);
	close(l->fd);
	free(l->path);
	free(l);
}

int lock_read_holder(const char *path, struct lock_holder *h, char *err, size_t errlen)
{
	int fd = fsafe_open(path, O_RDONLY, err, errlen);
	int held;

	memset(h, 0, sizeof(*h));
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		held = 0;
		(void)flock(fd, LOCK_UN);
	} else if (errno == EWOULDBLOCK) {
		held = 1;
	} else {
		put_err(err, errlen, "lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	(void)holder_parse(fd, h);
	close(fd);
	return held;
}

void lock_holder_release(struct lock_holder *h)
{
	free(h->host);
	free(h->started);
	free(h->command);
	memset(h, 0, sizeof(*h));
}
