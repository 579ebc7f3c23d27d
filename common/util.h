/*
 * util.h — small helpers every module uses: allocation that aborts on
 * out-of-memory, a growable string buffer, strict number and duration
 * parsing, whole-file reads with a size cap, crash-safe whole-file writes,
 * and clocks.
 *
 * Out of memory is the one failure that is not returned: the x* allocators
 * print a message and abort (STYLE §7).  Everything else returns a status.
 */
#ifndef CCR_UTIL_H
#define CCR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CCR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CCR_WUR		 __attribute__((warn_unused_result))
#define CCR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocators: never return NULL.  Caller owns the result and frees it with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) CCR_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) CCR_PRINTF(1, 0);

/*
 * A growable NUL-terminated byte buffer, after git's strbuf.  Embedded:
 * sbuf_init() before use (allocates nothing), sbuf_release() after.  buf is
 * always a NUL-terminated string (len excludes the NUL), never NULL after init.
 */
struct sbuf {
	char *buf;  /* contents, NUL-terminated; never NULL after init */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
};
void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_add(struct sbuf *sb, const void *data, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) CCR_PRINTF(2, 3);
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap) CCR_PRINTF(2, 0);
/* Hand the buffer to the caller, who frees it (always a malloc'd string, "" when
 * empty); sb is left empty and usable, owning nothing (release is optional). */
char *sbuf_detach(struct sbuf *sb);

/*
 * Parse a whole string as a base-10 integer within [min, max].  Leading '+'
 * and whitespace are refused.  Returns 0 and sets *out, or -1 (out untouched).
 */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out) CCR_WUR;

/*
 * Parse exactly n decimal digits at s (no sign, no spaces), as in the fixed
 * fields of a timestamp.  Returns 0 and sets *out, or -1 (out untouched).
 */
int parse_digits(const char *s, int n, int *out) CCR_WUR;

/*
 * Parse a duration: a plain integer is seconds; otherwise a sequence of
 * <integer><unit> with units ms, s, m, h (e.g. "90s", "5m", "1h30m").
 * Returns 0 and sets *ms (milliseconds), or -1 on anything else.
 */
int parse_duration_ms(const char *s, int64_t *ms) CCR_WUR;

/* Format milliseconds for people: "850ms", "42s", "5m", "1h 05m", "2h". */
void format_duration(int64_t ms, char *out, size_t outlen);

/*
 * Read a whole file into a NUL-terminated heap buffer.  Files larger than
 * max_bytes are refused, and so is anything but a regular file (EISDIR for a
 * directory, EINVAL for a FIFO, device or socket), without blocking on it.
 * Returns 0, or -1 with errno set (EFBIG when too large).  On success the
 * caller owns *data.
 */
int read_file(const char *path, size_t max_bytes, char **data, size_t *len) CCR_WUR;

/*
 * Replace path atomically: write a new path.tmp.XXXXXX (created with O_EXCL,
 * so nothing planted there is followed) with mode, fsync it, rename it over
 * path (a symlink at path is replaced, never written through), fsync the
 * directory.  Returns 0, or -1 with errno set; on
 * failure path is unchanged and the temporary file is removed.  A path that
 * names a device, FIFO or socket (/dev/null, /dev/stdout) is written into,
 * never replaced.
 */
int write_file_atomic(const char *path, const void *data, size_t len, int mode) CCR_WUR;

/* fsync the directory that contains path (or path itself if dir is true). */
int fsync_dir_of(const char *path) CCR_WUR;

/* mkdir -p with the given mode for every component created.  0 or -1/errno. */
int mkdir_p(const char *path, int mode) CCR_WUR;

/* Monotonic milliseconds, for durations and deadlines. */
int64_t now_mono_ms(void);
/* Wall-clock milliseconds since the epoch, for records people read. */
int64_t now_wall_ms(void);
/* "2026-11-21T10:20:03.123Z" for a wall-clock ms value; out needs 32 bytes. */
void format_iso8601(int64_t wall_ms, char *out, size_t outlen);

/* Lower-case hex SHA-256 of data into out (65 bytes). */
void sha256_hex(const void *data, size_t len, char out[65]);

/* Case-insensitive ASCII string equality. */
int str_ieq(const char *a, const char *b);
/* True if s starts with prefix. */
int str_startswith(const char *s, const char *prefix);

#endif
