/*
 * util.c — see util.h.  Nothing here knows about clusters or playbooks.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

static void oom(size_t n)
{
	fprintf(stderr, "ccrup: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * Bytes fmt expands to (vsnprintf's measuring call).  With -fsanitize, GCC 12's
 * -Wformat-truncation takes the NULL buffer of this call for a null format
 * ("null format string"): the one place the warning is silenced.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
static int fmt_len(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	return n;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

char *xvasprintf(const char *fmt, va_list ap)
{
	int n = fmt_len(fmt, ap);
	if (n < 0)
		oom(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

/* What an empty sbuf points at until its first byte is added (git's strbuf_slopbuf):
 * init allocates nothing, and buf is a NUL-terminated string all the same.  Never
 * written: cap 0 means "not ours". */
static char sbuf_slop[1];

void sbuf_init(struct sbuf *sb)
{
	sb->cap = 0;
	sb->len = 0;
	sb->buf = sbuf_slop;
}

void sbuf_release(struct sbuf *sb)
{
	if (sb->cap != 0)
		free(sb->buf);
	sbuf_init(sb);
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->cap != 0)
		sb->buf[0] = '\0';
}

static void sbuf_grow(struct sbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			oom(SIZE_MAX);
		cap *= 2;
	}
	if (sb->cap == 0) {
		sb->buf = xmalloc(cap);
		sb->buf[0] = '\0';
	} else {
		sb->buf = xrealloc(sb->buf, cap);
	}
	sb->cap = cap;
}

void sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	sbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	int n = fmt_len(fmt, ap);
	if (n < 0)
		return;
	sbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

char *sbuf_detach(struct sbuf *sb)
{
	sbuf_grow(sb, 0); /* an empty sbuf still hands over a string of its own */
	char *p = sb->buf;
	sbuf_init(sb);
	return p;
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '+')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int64_t unit_ms(const char *u, size_t n)
{
	if (n == 2 && memcmp(u, "ms", 2) == 0)
		return 1;
	if (n == 1 && *u == 's')
		return 1000;
	if (n == 1 && *u == 'm')
		return 60 * 1000;
	if (n == 1 && *u == 'h')
		return 3600 * 1000;
	return -1;
}

int parse_duration_ms(const char *s, int64_t *ms)
{
	int64_t total = 0, v = 0;
	if (s == NULL || *s == '\0')
		return -1;
	if (parse_int64(s, 0, INT64_MAX / 1000, &v) == 0) {
		*ms = v * 1000;
		return 0;
	}
	const char *p = s;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > 100000000)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		const char *u = p;
		while (*p && isalpha((unsigned char)*p))
			p++;
		int64_t m = unit_ms(u, (size_t)(p - u));
		if (m < 0)
			return -1;
		total += v * m;
		if (total > INT64_MAX / 4)
			return -1;
	}
	*ms = total;
	return 0;
}

void format_duration(int64_t ms, char *out, size_t outlen)
{
	if (ms < 0)
		ms = 0;
	if (ms > INT64_MAX - 30000) /* the rounding below must not overflow */
		ms = INT64_MAX - 30000;
	if (ms < 1000)
		snprintf(out, outlen, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, outlen, "%llds", (long long)((ms + 500) / 1000));
	else if (ms < 3600000) {
		int64_t s = (ms + 500) / 1000;
		if (s % 60)
			snprintf(out, outlen, "%lldm %02llds", (long long)(s / 60),
				 (long long)(s % 60));
		else
			snprintf(out, outlen, "%lldm", (long long)(s / 60));
	} else {
		int64_t m = (ms + 30000) / 60000;
		if (m % 60)
			snprintf(out, outlen, "%lldh %02lldm", (long long)(m / 60),
				 (long long)(m % 60));
		else
			snprintf(out, outlen, "%lldh", (long long)(m / 60));
	}
}

int read_file(const char *path, size_t max_bytes, char **data, size_t *len)
{
	int fd = -1, rc = -1, saved = 0;
	struct stat st;
	struct sbuf sb;
	char chunk[65536];

	sbuf_init(&sb);
	/* O_NONBLOCK: opening a FIFO or a tty must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max_bytes) {
			errno = EFBIG;
			goto out;
		}
		sbuf_add(&sb, chunk, (size_t)n);
	}
	*len = sb.len;
	*data = sbuf_detach(&sb);
	rc = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	sbuf_release(&sb);
	errno = saved;
	return rc;
}

int fsync_dir_of(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = -1, fd;

	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * path names something that is not a regular file (a device such as /dev/null,
 * a FIFO, a socket; through a symlink such as /dev/stdout too): write into it.
 * Renaming a new file over it would replace the device node itself, for
 * everyone, when run as root.  0, 1 not such a path, or -1 with errno.
 */
static int write_special(const char *path, const void *data, size_t len)
{
	struct stat st;
	int fd, rc;

	if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return 1;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || S_ISREG(st.st_mode)) {
		close(fd); /* replaced by a regular file meanwhile: do it atomically */
		return 1;
	}
	rc = write_all(fd, data, len);
	int saved = errno;
	if (close(fd) != 0 && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	int special = write_special(path, data, len);
	if (special <= 0)
		return special;

	/* A fresh name created with O_EXCL (mkostemp) in the target directory: a
	 * file or symlink planted under a predictable name is never written through. */
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = -1, rc = -1, saved = 0, made = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto out;
	made = 1;
	if (fchmod(fd, (mode_t)mode) < 0)
		goto out;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	made = 0;
	rc = fsync_dir_of(path);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && made)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return rc;
}

int mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path);
	int rc = -1;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
				goto out;
			*s = c;
			if (c == '\0')
				break;
		}
	}
	rc = 0;
out:
	free(p);
	return rc;
}

int64_t now_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void format_iso8601(int64_t wall_ms, char *out, size_t outlen)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(wall_ms % 1000));
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}
