/*
 * journal.c — see journal.h for the contract and docs/journal.md for the
 * format.
 *
 * The CRC is defined over bytes, not over a re-serialisation: a line is
 * always `BODY,"crc":"xxxxxxxx"}` + "\n", where BODY + "}" is the compact,
 * order-preserving JSON of the record without crc, and xxxxxxxx is the
 * zlib crc32 of BODY + "}" in lower-case hex.  A verifier strips the
 * 18-byte suffix, puts the "}" back, and hashes; it never needs to produce
 * the same JSON text as jansson does, so any tool can check a journal.
 *
 * Append is write-ahead safe because of three orderings: the line is built
 * completely in memory and handed to one write(2); the record is made
 * visible in memory only after the write (and, for journal_append(), the
 * fsync(2)) returned; and any failure cuts the file back to the size it had
 * before, so a reader never sees a line that was not reported as written.
 *
 * Group commit: journal_append_deferred() writes its line but leaves the
 * fsync to the next journal_append() or journal_sync(), which makes every
 * line written so far durable with one fsync.  j->synced is how much of the
 * file is known durable; a crash of the machine (not of the process: the
 * page cache keeps written lines) may lose what lies after it, whole lines
 * or a torn last one, which replay already tolerates.
 */
#include "journal.h"
#include "fsafe.h"
#include "jrecord.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct journal {
	char *path;	 /* as given by the caller; used in every message */
	int fd;		 /* O_RDWR|O_APPEND, or -1 when loaded read-only */
	json_t *records; /* array of every record, replayed then appended */
	char *run_id;	 /* added to records without their own; NULL if unset */
	long long seq;	 /* seq of the last record (0 when empty) */
	off_t size;	 /* bytes of complete lines; the file is cut here on failure */
	off_t synced;	 /* bytes known durable (fsync'd); <= size */
	int torn;	 /* the file has a torn tail after size, not yet cut away */
	int failed;	 /* a write failed: error is sticky */
	char *error;	 /* last error message, NULL if none */
	const struct journal_store *store; /* appends go here instead of fd; NULL: fd */
	void *store_arg;
};

static void put_msg(char *msg, size_t msglen, const char *fmt, ...) CCR_PRINTF(3, 4);

static void put_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

static void journal_set_error(struct journal *j, char *text)
{
	free(j->error);
	j->error = text;
}

/*
 * Replay buf (the whole file) into j.  Complete lines end in '\n'; bytes
 * after the last '\n' are a torn tail.
 */
static enum journal_status journal_replay(struct journal *j, const char *buf, size_t len, char *msg,
					  size_t msglen)
{
	size_t off = 0;
	int lineno = 0;
	struct sbuf why;

	sbuf_init(&why);
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		lineno++;
		if (nl == NULL) {
			j->torn = 1;
			put_msg(msg, msglen, "%s:%d: torn last record ignored (crash during write)",
				j->path, lineno);
			break;
		}
		json_t *rec = jrecord_decode(buf + off, (size_t)(nl - (buf + off)), j->seq, &why);
		if (rec == NULL) {
			put_msg(msg, msglen, "%s:%d: %s", j->path, lineno, why.buf);
			sbuf_release(&why);
			return JOURNAL_CORRUPT;
		}
		j->seq = json_integer_value(json_object_get(rec, "seq"));
		json_array_append_new(j->records, rec);
		off = (size_t)(nl - buf) + 1;
	}
	j->size = (off_t)off;
	j->synced = j->size; /* what was read is taken as it is: nothing of ours to flush */
	sbuf_release(&why);
	return j->torn ? JOURNAL_TORN_TAIL : JOURNAL_OK;
}

/* Read all of fd into a heap buffer (caller frees).  EFBIG past the limit. */
static int read_fd(int fd, char **data, size_t *len)
{
	struct sbuf sb;
	char chunk[65536];
	ssize_t n;

	sbuf_init(&sb);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sb.len + (size_t)n > (size_t)JOURNAL_MAX_BYTES) {
			errno = EFBIG;
			n = -1;
			break;
		}
		sbuf_add(&sb, chunk, (size_t)n);
	}
	if (n < 0) {
		sbuf_release(&sb);
		return -1;
	}
	*len = sb.len;
	*data = sbuf_detach(&sb);
	sbuf_release(&sb);
	return 0;
}

static struct journal *journal_alloc(const char *path, int fd)
{
	struct journal *j = xcalloc(1, sizeof(*j));

	j->path = xstrdup(path);
	j->fd = fd;
	j->records = json_array();
	if (j->records == NULL) {
		fprintf(stderr, "ccrup: out of memory (journal)\n");
		abort();
	}
	return j;
}

/* Replay the open fd into a new journal that takes ownership of fd. */
static enum journal_status journal_from_fd(const char *path, int fd, struct journal **jp, char *msg,
					   size_t msglen)
{
	struct journal *j = journal_alloc(path, fd);
	enum journal_status st;
	char *data = NULL;
	size_t len = 0;
	struct stat sb;
	int err = 0;

	/* A huge file is refused before reading it; read_fd() checks again, for growth. */
	if (fstat(fd, &sb) < 0)
		err = errno;
	else if (sb.st_size > JOURNAL_MAX_BYTES)
		err = EFBIG;
	else if (read_fd(fd, &data, &len) < 0)
		err = errno;
	if (err == EFBIG) {
		put_msg(msg, msglen, "%s: file is larger than the %ld MiB limit", path,
			JOURNAL_MAX_BYTES / (1024 * 1024));
		st = JOURNAL_CORRUPT;
		goto out;
	}
	if (err != 0) {
		put_msg(msg, msglen, "read %s: %s", path, strerror(err));
		st = JOURNAL_IO;
		goto out;
	}
	st = journal_replay(j, data, len, msg, msglen);
out:
	free(data);
	if (st < 0) {
		journal_close(j);
		j = NULL;
	}
	*jp = j;
	return st;
}

/* Create the directory, then open (or create, 0600) the file for append. */
static int journal_open_fd(const char *path, char *msg, size_t msglen)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd = -1;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700) < 0) {
			put_msg(msg, msglen, "create directory %s: %s", dir, strerror(errno));
			goto out;
		}
	}
	fd = fsafe_open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, msg, msglen);
	if (fd >= 0) {
		/* New file: make its directory entry (and the directory's) durable. */
		if (fsync_dir_of(path) < 0 || (slash != NULL && fsync_dir_of(dir) < 0)) {
			put_msg(msg, msglen, "fsync directory of %s: %s", path, strerror(errno));
			close(fd);
			fd = -1;
		}
		goto out;
	}
	if (errno == EEXIST)
		fd = fsafe_open(path, O_RDWR | O_APPEND, msg, msglen);
out:
	free(dir);
	return fd;
}

enum journal_status journal_open(const char *path, struct journal **jp, char *msg, size_t msglen)
{
	int fd = journal_open_fd(path, msg, msglen);

	*jp = NULL;
	if (fd < 0)
		return JOURNAL_IO;
	return journal_from_fd(path, fd, jp, msg, msglen);
}

enum journal_status journal_load(const char *path, struct journal **jp, char *msg, size_t msglen)
{
	enum journal_status st;
	int fd = fsafe_open(path, O_RDONLY, msg, msglen);

	*jp = NULL;
	if (fd < 0)
		return errno == ENOENT ? JOURNAL_MISSING : JOURNAL_IO;
	st = journal_from_fd(path, fd, jp, msg, msglen);
	if (*jp != NULL) {
		close(fd);
		(*jp)->fd = -1;
	}
	return st;
}

enum journal_status journal_open_store(const char *name, const char *data, size_t len,
				       const struct journal_store *store, void *arg,
				       struct journal **jp, char *msg, size_t msglen)
{
	struct journal *j = journal_alloc(name, -1);
	enum journal_status st;

	*jp = NULL;
	if (len > (size_t)JOURNAL_MAX_BYTES) {
		put_msg(msg, msglen, "%s: journal is larger than the %ld MiB limit", name,
			JOURNAL_MAX_BYTES / (1024 * 1024));
		journal_close(j);
		return JOURNAL_CORRUPT;
	}
	st = journal_replay(j, data, len, msg, msglen);
	if (st < 0) {
		journal_close(j);
		return st;
	}
	if (j->torn) { /* a store appends whole records: a torn tail is damage, not a crash */
		put_msg(msg, msglen, "%s: last record has no newline (damaged record)", name);
		journal_close(j);
		return JOURNAL_CORRUPT;
	}
	j->store = store;
	j->store_arg = arg;
	*jp = j;
	return st;
}

void journal_set_run_id(struct journal *j, const char *run_id)
{
	free(j->run_id);
	j->run_id = run_id ? xstrdup(run_id) : NULL;
}

/* Check the caller's record; returns NULL if fine, else the reason. */
static const char *record_problem(json_t *rec)
{
	static const char *const reserved[] = {"seq", "time", "crc"};
	json_t *run_id = json_object_get(rec, "run_id");

	if (!json_is_object(rec))
		return "record is not a JSON object";
	if (!json_is_string(json_object_get(rec, "event")))
		return "record has no string \"event\"";
	if (run_id != NULL && !json_is_string(run_id))
		return "record's \"run_id\" is not a string";
	for (size_t i = 0; i < CCR_ARRAY_LEN(reserved); i++)
		if (json_object_get(rec, reserved[i]) != NULL)
			return "record uses a reserved key (seq, time or crc)";
	return NULL;
}

/* The full record in output order, without crc.  Caller owns the result. */
static json_t *record_build(const struct journal *j, json_t *rec)
{
	json_t *out = json_object();
	json_t *run_id = json_object_get(rec, "run_id");
	const char *key;
	json_t *val;
	char ts[32];

	format_iso8601(now_wall_ms(), ts, sizeof(ts));
	json_object_set_new(out, "seq", json_integer(j->seq + 1));
	json_object_set_new(out, "time", json_string(ts));
	if (run_id != NULL)
		json_object_set(out, "run_id", run_id);
	else if (j->run_id != NULL)
		json_object_set_new(out, "run_id", json_string(j->run_id));
	json_object_set(out, "event", json_object_get(rec, "event"));
	json_object_foreach(rec, key, val)
	{
		if (strcmp(key, "run_id") != 0 && strcmp(key, "event") != 0)
			json_object_set(out, key, val);
	}
	return out;
}

/*
 * Cut the file back to to (j->size after a failed write: the lines written
 * before stay and become durable; j->synced after a failed fsync: what it
 * did not vouch for goes); remember the failure for every later append.
 */
static void journal_fail(struct journal *j, const char *what, int err, off_t to)
{
	char *text;

	if (ftruncate(j->fd, to) < 0 || fsync(j->fd) < 0)
		text = xasprintf("%s %s: %s (and could not cut the file back: %s)", what, j->path,
				 strerror(err), strerror(errno));
	else
		text = xasprintf("%s %s: %s", what, j->path, strerror(err));
	journal_set_error(j, text);
	j->failed = 1;
}

/* fsync what was written since the last one.  0, or -1 with the sticky error set. */
static int journal_flush(struct journal *j)
{
	if (j->store != NULL || j->synced == j->size)
		return 0;
	if (fsync(j->fd) < 0) {
		journal_fail(j, "fsync", errno, j->synced);
		return -1;
	}
	j->synced = j->size;
	return 0;
}

/*
 * One write(2) of the whole line, then (durable set) fsync.  A store's
 * append is durable either way.  0, or -1 with the sticky error set.
 */
static int journal_write(struct journal *j, const char *line, size_t len, int durable)
{
	ssize_t n;

	if (j->store != NULL) {
		char why[512] = "";
		if (j->store->append(j->store_arg, j->seq + 1, line, len, why, sizeof(why)) < 0) {
			journal_set_error(j, xasprintf("%s: %s", j->path, why));
			j->failed = 1;
			return -1;
		}
		j->size += (off_t)len;
		j->synced = j->size;
		return 0;
	}

	do
		n = write(j->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n < len) {
		/* Short write: learn why from the rest; the cut-back removes both parts. */
		if (write(j->fd, line + n, len - (size_t)n) >= 0)
			errno = EIO;
		n = -1;
	}
	if (n < 0) {
		journal_fail(j, "write", errno, j->size);
		return -1;
	}
	j->size += (off_t)len;
	return durable ? journal_flush(j) : 0;
}

/* Cut a torn tail left by a crash before the first append. */
static int journal_cut_torn(struct journal *j)
{
	if (!j->torn)
		return 0;
	if (ftruncate(j->fd, j->size) < 0 || fsync(j->fd) < 0) {
		journal_set_error(
		    j, xasprintf("truncate torn tail of %s: %s", j->path, strerror(errno)));
		j->failed = 1;
		return -1;
	}
	j->torn = 0;
	return 0;
}

static int journal_add(struct journal *j, json_t *rec, int durable)
{
	const char *problem = NULL;
	json_t *out = NULL;
	char *line = NULL;
	size_t len = 0;
	unsigned long crc = 0;
	char hex[9];
	int rc = -1;

	if (j->failed)
		goto out;
	if (j->fd < 0 && j->store == NULL) {
		journal_set_error(j, xasprintf("%s: journal is open read-only", j->path));
		goto out;
	}
	if ((problem = record_problem(rec)) != NULL) {
		journal_set_error(j, xasprintf("%s: %s", j->path, problem));
		goto out;
	}
	out = record_build(j, rec);
	line = jrecord_encode(out, &len, &crc);
	if (line == NULL) {
		journal_set_error(j, xasprintf("%s: record cannot be serialised within %d bytes",
					       j->path, JOURNAL_MAX_LINE));
		goto out;
	}
	if (journal_cut_torn(j) < 0 || journal_write(j, line, len, durable) < 0)
		goto out;
	snprintf(hex, sizeof(hex), "%08lx", crc);
	json_object_set_new(out, "crc", json_string(hex));
	json_array_append_new(j->records, json_deep_copy(out));
	j->seq++;
	rc = 0;
out:
	json_decref(out);
	free(line);
	return rc;
}

int journal_append(struct journal *j, json_t *rec)
{
	return journal_add(j, rec, 1);
}

int journal_append_deferred(struct journal *j, json_t *rec)
{
	return journal_add(j, rec, 0);
}

int journal_sync(struct journal *j)
{
	if (j->failed)
		return -1;
	return journal_flush(j);
}

int journal_unsynced(const struct journal *j)
{
	return j->synced != j->size;
}

size_t journal_count(const struct journal *j)
{
	return json_array_size(j->records);
}

json_t *journal_record(const struct journal *j, size_t i)
{
	return json_array_get(j->records, i);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

const char *journal_error(const struct journal *j)
{
	return j->error;
}

int journal_pinned_digests(const struct journal *j, const char **pb, const char **inv)
{
	json_t *first = json_array_get(j->records, 0);
	const char *event = json_string_value(json_object_get(first, "event"));
	const char *p = json_string_value(json_object_get(first, "playbook_sha256"));
	const char *i = json_string_value(json_object_get(first, "inventory_sha256"));

	if (event == NULL || strcmp(event, "run-start") != 0 || p == NULL || i == NULL)
		return -1;
	*pb = p;
	*inv = i;
	return 0;
}

const char *journal_pinned_plan_digest(const struct journal *j)
{
	json_t *first = json_array_get(j->records, 0);
	const char *event = json_string_value(json_object_get(first, "event"));

	if (event == NULL || strcmp(event, "run-start") != 0)
		return NULL;
	return json_string_value(json_object_get(first, "inventory_plan_sha256"));
}

void journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	/* Best effort: a run syncs its last records itself (journal_sync()). */
	if (j->fd >= 0 && !j->failed && j->synced != j->size)
		(void)fsync(j->fd);
	if (j->fd >= 0)
		close(j->fd);
	json_decref(j->records);
	free(j->run_id);
	free(j->error);
	free(j->path);
	free(j);
}
