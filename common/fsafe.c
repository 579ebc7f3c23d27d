/*
 * fsafe.c — see fsafe.h.
 *
 * Why realpath() and then a walk up: the directories that decide where a
 * write lands are the real ones, whatever symlinks the user's path went
 * through; each of those symlinks is checked on its own (its owner could
 * re-point it).  Once every real directory on the way is ours or root's and
 * nobody else can write to it (sticky ancestors excepted: there nobody can
 * replace what is ours), nobody else can change what the path means, so the
 * check cannot be raced.
 */
#include "fsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

void fsafe_owner_name(unsigned uid, char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (uid == 0)
		snprintf(out, outlen, "root");
	else if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, outlen, "%s (uid %u)", res->pw_name, uid);
	else
		snprintf(out, outlen, "uid %u", uid);
}

static int trusted_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* "root" or "root or alice (uid 1001)": who may own what ccrup uses. */
static void trusted_names(char *out, size_t outlen)
{
	char me[128];

	if (geteuid() == 0) {
		snprintf(out, outlen, "root");
		return;
	}
	fsafe_owner_name((unsigned)geteuid(), me, sizeof(me));
	snprintf(out, outlen, "root or %s", me);
}

static int refuse_owner(const char *kind, const char *path, uid_t uid, char *err, size_t errlen)
{
	char owner[128], want[160];

	fsafe_owner_name((unsigned)uid, owner, sizeof(owner));
	trusted_names(want, sizeof(want));
	put_err(err, errlen,
		"%s %s is owned by %s, not by %s; refusing: its owner could redirect "
		"ccrup's writes (symlinks) or forge its state",
		kind, path, owner, want);
	errno = EPERM;
	return -1;
}

/* Every symlink among the prefixes of the path as the user wrote it. */
static int check_links(const char *dir, char *err, size_t errlen)
{
	char *p = xstrdup(dir);
	struct stat st;
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && !trusted_uid(st.st_uid)) {
			rc = refuse_owner("symbolic link", p, st.st_uid, err, errlen);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* One real directory: leaf is the directory asked about, else an ancestor. */
static int check_one(const char *shown, const char *real, int leaf, const char *what, char *err,
		     size_t errlen)
{
	struct stat st;
	unsigned mode;

	if (stat(real, &st) < 0) {
		put_err(err, errlen, "%s %s: %s", what, shown, strerror(errno));
		return -1;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISDIR(st.st_mode)) {
		put_err(err, errlen, "%s %s is not a directory", what, shown);
		errno = ENOTDIR;
		return -1;
	}
	if (!trusted_uid(st.st_uid))
		return refuse_owner(leaf ? what : "directory", shown, st.st_uid, err, errlen);
	if (leaf && (mode & 0022)) {
		put_err(err, errlen,
			"%s %s is writable by group or others (mode %03o); refusing: anyone "
			"could forge the journal (chmod 700 it)",
			what, shown, mode & 0777);
		errno = EPERM;
		return -1;
	}
	if (!leaf && (mode & 0022) && !(mode & S_ISVTX)) {
		put_err(err, errlen,
			"directory %s (above %s %s) is writable by group or others and not "
			"sticky (mode %03o); refusing: anyone could replace what is below it",
			shown, what, real, mode & 0777);
		errno = EPERM;
		return -1;
	}
	return 0;
}

int fsafe_check_dir(const char *dir, const char *what, char *err, size_t errlen)
{
	char *real = NULL;
	int rc = -1;

	if (check_links(dir, err, errlen) < 0)
		return -1;
	real = realpath(dir, NULL);
	if (real == NULL) {
		put_err(err, errlen, "%s %s: %s", what, dir, strerror(errno));
		return -1;
	}
	if (check_one(dir, real, 1, what, err, errlen) < 0)
		goto out;
	/* Walk up: cut the last component each time, down to "/". */
	for (char *slash = strrchr(real, '/'); slash != NULL; slash = strrchr(real, '/')) {
		if (slash == real) {
			if (real[1] == '\0')
				break;
			real[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (check_one(real, real, 0, what, err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	free(real);
	return rc;
}

int fsafe_make_dir(const char *dir, const char *what, char *err, size_t errlen)
{
	if (mkdir_p(dir, 0700) < 0) {
		int e = errno;
		put_err(err, errlen, "cannot create %s %s: %s", what, dir, strerror(e));
		errno = e;
		return -1;
	}
	return fsafe_check_dir(dir, what, err, errlen);
}

/* Why an open of path failed, as precisely as lstat can tell. */
static void describe_open_failure(const char *path, int e, char *err, size_t errlen)
{
	struct stat st;
	char owner[128];

	if ((e == ELOOP || e == EMLINK) && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		fsafe_owner_name((unsigned)st.st_uid, owner, sizeof(owner));
		put_err(err, errlen,
			"%s is a symbolic link (owned by %s); refusing to follow it: ccrup "
			"never writes its state through a link",
			path, owner);
	} else if ((e == ENXIO || e == ENODEV) && lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		put_err(err, errlen, "%s is not a regular file; refusing", path);
	} else {
		put_err(err, errlen, "open %s: %s", path, strerror(e));
	}
}

/* The checks on what was opened; 0 or -1 with err set. */
static int check_opened(const char *path, int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		put_err(err, errlen, "stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		put_err(err, errlen, "open %s: %s", path, strerror(EISDIR));
		errno = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		put_err(err, errlen, "%s is not a regular file; refusing", path);
		errno = EINVAL;
		return -1;
	}
	if (!trusted_uid(st.st_uid))
		return refuse_owner("file", path, st.st_uid, err, errlen);
	if (st.st_nlink > 1) {
		put_err(err, errlen,
			"%s has %lu hard links; refusing: another name for it could be "
			"anything",
			path, (unsigned long)st.st_nlink);
		errno = EMLINK;
		return -1;
	}
	return 0;
}

int fsafe_open(const char *path, int flags, char *err, size_t errlen)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	int e;

	if (fd < 0) {
		e = errno;
		describe_open_failure(path, e, err, errlen);
		errno = e;
		return -1;
	}
	if (check_opened(path, fd, err, errlen) < 0)
		goto fail;
	if ((flags & O_CREAT) && fchmod(fd, 0600) < 0) {
		put_err(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		put_err(err, errlen, "fcntl %s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static const char *kind_of(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISDIR(m))
		return "a directory";
	return "not a regular file";
}

int fsafe_read_input(const char *path, size_t max_bytes, char **data, size_t *len, char *err,
		     size_t errlen)
{
	struct stat st;
	int e;

	if (read_file(path, max_bytes, data, len) == 0)
		return 0;
	e = errno;
	if ((e == EINVAL || e == EISDIR) && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		put_err(err, errlen, "%s is %s, not a regular file; refusing to read it", path,
			kind_of(st.st_mode));
	else if (e == EFBIG)
		put_err(err, errlen, "%s is too large (more than %zu bytes)", path, max_bytes);
	else
		put_err(err, errlen, "cannot read %s: %s", path, strerror(e));
	errno = e;
	return -1;
}
