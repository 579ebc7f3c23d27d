/*
 * journal.h — the crash-safe run journal, state/<cluster>/journal.jsonl.
 *
 * One JSON object per line.  Every record carries seq (1, 2, 3 … without
 * gaps), time (ISO-8601 UTC with milliseconds), run_id, event, the caller's
 * fields, and last a crc: CRC-32 of the line without its crc member (the
 * exact byte-level definition is in docs/journal.md).  An append is one
 * write(2) of one complete line followed by fsync(2), so after a crash the
 * file holds every record that journal_append() reported written, plus at
 * most one torn last line without its newline.
 *
 * Group commit: journal_append_deferred() does the write(2) and leaves the
 * fsync(2) to the next journal_append() or journal_sync(), which make every
 * line written before them durable with one fsync.  A deferred record
 * survives the process being killed (it is in the page cache, and readers
 * see it at once) but not the machine crashing before that fsync: it and
 * the records after it may then be lost, or cut in the middle (a torn
 * tail).  The caller decides which records must be durable before its next
 * action (the runner: everything, before any remote command that changes
 * a node).
 *
 * Replay is strict.  A torn last line is tolerated with a warning (and cut
 * away before the next append); anything else that is wrong — bad JSON, a
 * bad or missing crc, a gap, repeat or reversal in seq, a line over 1 MiB,
 * a file over 256 MiB — is corruption, reported with the 1-based line
 * number, and the CLI exits 5 (EXIT_JOURNAL).
 *
 * Calling sequence for a run:
 *
 *	st = journal_open(path, &j, msg, sizeof msg);   // replays, creates if new
 *	if (st == JOURNAL_TORN_TAIL) print msg as a warning;
 *	if (st < 0) fail (JOURNAL_CORRUPT → exit 5);
 *	journal_set_run_id(j, run_id);
 *	rec = json_pack("{s:s, s:s}", "event", "begin", "step", "stop-svc");
 *	if (journal_append(j, rec) < 0) fail with journal_error(j);
 *	json_decref(rec);
 *	…
 *	journal_close(j);
 *
 * Readers (status, report) use journal_load() instead: same replay, no
 * writes, nothing created.
 *
 * Not thread-safe: one journal object is used by one thread at a time.  One
 * writer per file is guaranteed by the cluster lock (lock.h), not here.
 */
#ifndef CCR_JOURNAL_H
#define CCR_JOURNAL_H

#include <stddef.h>

#include <jansson.h>

#include "jrecord.h"
#include "util.h"

#define JOURNAL_MAX_LINE  JRECORD_MAX_LINE     /* longer lines are corruption */
#define JOURNAL_MAX_BYTES (256L * 1024 * 1024) /* larger files are corruption */

enum journal_status {
	JOURNAL_OK = 0,	       /* replayed cleanly */
	JOURNAL_TORN_TAIL = 1, /* replayed; the unterminated last line was ignored (warning) */
	JOURNAL_CORRUPT = -1,  /* content is wrong: message names line and reason (exit 5) */
	JOURNAL_MISSING = -2,  /* journal_load() only: the file does not exist */
	JOURNAL_IO = -3, /* could not create, open or read the file (message has errno text) */
};

struct journal;

/*
 * Open path for appending, creating the directory (0700, mkdir -p) and the
 * file (0600) if needed and fsyncing the directory when the file is created.
 * The existing content is replayed and checked first.
 *
 * Returns JOURNAL_OK or JOURNAL_TORN_TAIL with *jp set (the caller owns it;
 * journal_close()).  For TORN_TAIL msg holds the warning
 * ("PATH:17: torn last record ignored (crash during write)"); the torn bytes
 * stay on disk until the first journal_append(), which cuts them away.
 * Returns JOURNAL_CORRUPT or JOURNAL_IO with *jp NULL and the reason in msg.
 * msg may be NULL when msglen is 0.
 */
enum journal_status journal_open(const char *path, struct journal **jp, char *msg,
				 size_t msglen) CCR_WUR;

/*
 * Replay path read-only (for status and report): nothing is created or
 * written.  Same results as journal_open(), plus JOURNAL_MISSING when the
 * file does not exist.  journal_append() on the result fails.
 */
enum journal_status journal_load(const char *path, struct journal **jp, char *msg,
				 size_t msglen) CCR_WUR;

/*
 * Where a journal kept elsewhere than in a local file appends (the etcd
 * backend, state.h).  append() must store line (len bytes, newline
 * included; seq is its record number) durably and atomically — all of it
 * or nothing — and return 0, or -1 with the reason in why.  A failed append
 * is sticky, as for a file.
 */
struct journal_store {
	int (*append)(void *arg, long long seq, const char *line, size_t len, char *why,
		      size_t whylen);
};

/*
 * A journal whose bytes (data, len: the concatenated lines) were read from
 * a store: replayed and checked exactly as a file (name stands for the path
 * in messages), then appended through store (with arg).  store NULL: read
 * only.  Since a store never holds half a record, a line without its
 * newline is JOURNAL_CORRUPT here.  Returns JOURNAL_OK, or JOURNAL_CORRUPT
 * with *jp NULL and the reason in msg.
 */
enum journal_status journal_open_store(const char *name, const char *data, size_t len,
				       const struct journal_store *store, void *arg,
				       struct journal **jp, char *msg, size_t msglen) CCR_WUR;

/*
 * Set the run id added to every following record that does not carry its
 * own "run_id".  The string is copied; NULL clears it.
 */
void journal_set_run_id(struct journal *j, const char *run_id);

/*
 * Append one record.  rec is borrowed (not modified, not stolen): a JSON
 * object with a string "event" and any other members except the reserved
 * "seq", "time" and "crc".  The line written is, in order: seq, time,
 * run_id (the record's own, else the journal's, else omitted), event, the
 * caller's other members in their insertion order, crc.
 *
 * Returns 0 once the line is written with a single write(2) and fsync'd; the
 * record is then also visible through journal_record().  Returns -1 with
 * journal_error() set otherwise:
 *  - invalid record (not an object, no event, a reserved key, too long):
 *    nothing is written and the journal stays usable;
 *  - write, fsync or truncate failure ("write PATH: File too large"): the
 *    file is truncated back to its previous size, so it holds no partial
 *    line from us, and the error is sticky — every later append fails with
 *    the same message, because what is on disk can no longer be vouched for.
 */
int journal_append(struct journal *j, json_t *rec) CCR_WUR;

/*
 * Append one record as journal_append() does, but without the fsync: 0 once
 * the line is written (visible through journal_record() and to readers of
 * the file), durable only after the next journal_append() or
 * journal_sync().  Failures as journal_append().  On a journal kept in a
 * store (journal_open_store()) every append is durable: this is
 * journal_append().
 */
int journal_append_deferred(struct journal *j, json_t *rec) CCR_WUR;

/*
 * Make every record written so far durable: one fsync(2) if any deferred
 * record is not yet, none otherwise.  0, or -1 with journal_error() set:
 * a failed fsync cuts the file back to what the last successful one
 * covered (the deferred records were never reported durable) and is
 * sticky like a failed write.  Also -1 on a journal that failed before.
 */
int journal_sync(struct journal *j) CCR_WUR;

/* 1 if some record written is not yet durable (journal_sync() would fsync), else 0. */
int journal_unsynced(const struct journal *j);

/* Number of records: replayed plus appended. */
size_t journal_count(const struct journal *j);

/*
 * Record i (0-based, in file order), or NULL if i >= journal_count().
 * Borrowed: valid until journal_close(); do not modify it.  Replayed
 * records include their "crc" member.
 */
json_t *journal_record(const struct journal *j, size_t i);

/* The path the journal was opened with (for messages). */
const char *journal_path(const struct journal *j);

/* The last error (sticky after a failed write), or NULL if none. */
const char *journal_error(const struct journal *j);

/*
 * The digests pinned by the first record, which must be a run-start with
 * string members playbook_sha256 and inventory_sha256.  Returns 0 and sets
 * both (borrowed, valid until journal_close()), or -1 if the journal is
 * empty or its first record does not pin them (*pb and *inv untouched).
 * Comparing them with the current files is the caller's job (resume refuses
 * a changed playbook unless told --accept-changed-playbook).
 */
int journal_pinned_digests(const struct journal *j, const char **pb, const char **inv) CCR_WUR;

/*
 * The run-start's inventory_plan_sha256 (the inventory less its
 * connection-only settings), borrowed; NULL if the first record has none (a
 * journal written before it existed: compare inventory_sha256 strictly).
 */
const char *journal_pinned_plan_digest(const struct journal *j);

/*
 * Close the file and free everything; j may be NULL.  Deferred records are
 * fsync'd first, best effort (a caller that needs them durable calls
 * journal_sync() and looks at its result).
 */
void journal_close(struct journal *j);

#endif
