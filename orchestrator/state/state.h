/*
 * state.h — where a cluster's journal and lock live: a local directory
 * (the default) or etcd (docs/state.md).  The runner, status, report and
 * `ccrup state` reach journals and locks only through this seam, which is
 * deliberately narrow: take, check and drop a cluster's lock; open the
 * journal under the lock (read all records, append one); archive a
 * finished journal; read a journal without the lock; read who holds a lock.
 *
 * Local: STATE/<cluster>/journal.jsonl and STATE/<cluster>/lock, exactly as
 * journal.h and lock.h describe.  etcd: the same records (same bytes, same
 * CRC) as keys under the prefix, the lock as a key attached to a lease
 * this process keeps alive.  A local lock is never lost while the process
 * lives; an etcd lock is lost when the lease expires (etcd unreachable for
 * longer than its TTL, or this process paused that long): state_lock_ok()
 * then says so, every later journal append fails, and the runner stops
 * before its next remote action.
 *
 * Calling sequence of a run:
 *
 *	state_open(&cfg, &st, err, sizeof err);
 *	l = state_lock_acquire(st, "CLUS1", "ccrup apply …", 0, err, sizeof err, &other);
 *	state_journal_open(l, &j, msg, sizeof msg);        // replayed, appendable
 *	state_lock_set_run(l, run_id);                     // holder info gains the run id
 *	… before each remote action: state_lock_ok(l, why, sizeof why) …
 *	journal_close(j); state_journal_archive(l, run_id, …) when starting anew
 *	state_lock_release(l);
 *	state_free(st);
 *
 * Thread-safe for different clusters: a fleet's workers share one state.
 */
#ifndef CCR_STATE_H
#define CCR_STATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "util.h"

/* How to reach the state.  Strings are borrowed for state_open() only. */
struct state_config {
	const char *dir;	   /* local state directory: journals when url is NULL,
				      and always the audit logs */
	const char *url;	   /* "etcd://HOST:PORT[,HOST:PORT…]/PREFIX", or NULL: dir */
	const char *ca_file;	   /* TLS: CA bundle (implies https) */
	const char *cert_file;	   /* TLS client certificate (implies https) */
	const char *key_file;	   /* its private key */
	const char *user;	   /* etcd user (needs a password) */
	const char *password_file; /* file whose first line is the password */
	const char *password_env;  /* or: environment variable holding it */
	int lease_ttl_s;	   /* lock lease TTL; 0: 10 s (or ?ttl= in the url) */
};

/* Who holds (or last held) a cluster's lock. */
struct state_holder {
	long pid;      /* 0 when unknown */
	char *host;    /* NULL when unknown, likewise below */
	char *user;    /* login name of the holder (etcd only) */
	char *started; /* "2026-11-21T10:20:03Z" */
	char *command; /* "ccrup apply inv.yml --yes" */
	char *run_id;  /* the run it is doing, once chosen (etcd only) */
	int ttl_s;     /* etcd: the lease TTL, i.e. how long after the holder dies the lock
			  frees; 0 for a local lock (it frees at once) */
};

/* One journal file's worth of bytes, for state export and import. */
struct state_file {
	char *name; /* "journal.jsonl" or "journal-<run id>.jsonl" */
	char *data; /* the exact bytes */
	size_t len;
};

struct state;
struct state_lock;

/*
 * Open the state: check the url or directory, and for etcd read the
 * password (file or environment), build the client and check that etcd
 * answers.  Returns 0 with *sp (caller frees with state_free()), or
 * EXIT_INPUT with the reason in err (*sp NULL).
 */
int state_open(const struct state_config *c, struct state **sp, char *err, size_t errlen) CCR_WUR;
/* Revoke the lease (if any), free everything; st may be NULL. */
void state_free(struct state *st);

/* 1 for etcd (shared between orchestrator hosts), 0 for a local directory. */
int state_shared(const struct state *st);
/* The local state directory (audit logs; journals too when not shared).  Borrowed. */
const char *state_local_dir(const struct state *st);
/* For messages: "state directory state" or "etcd://127.0.0.1:2379/ccrup". */
const char *state_name(const struct state *st);

/*
 * Take cluster's lock for command (the holder record also gets host, pid,
 * user and the start time).  wait_ms > 0: while another holds it, poll
 * until it frees or wait_ms passes (stop, when set, ends the wait early).
 * Returns the lock, or NULL with err: *held_by_other = 1 when another run
 * holds it (err names the holder and, for etcd, how long after that process
 * stops the lock frees), else 0 (I/O, etcd unreachable).
 */
struct state_lock *state_lock_acquire(struct state *st, const char *cluster, const char *command,
				      int64_t wait_ms, volatile sig_atomic_t *stop, char *err,
				      size_t errlen, int *held_by_other);
/* Record the run id in the holder info (etcd; local: nothing).  0 or -1. */
int state_lock_set_run(struct state_lock *l, const char *run_id);
/*
 * Is the lock still ours?  1 yes; 0 lost, with why ("lost the lock on
 * cluster X: …").  Cheap (no I/O): the lease's keep-alive thread keeps the
 * answer current, and a lease not renewed within its TTL counts as lost.
 */
int state_lock_ok(struct state_lock *l, char *why, size_t whylen);
/* Drop the lock (etcd: delete the key if still ours); l may be NULL. */
void state_lock_release(struct state_lock *l);

/*
 * Who holds cluster's lock?  1 held (h filled), 0 free (h may show the last
 * holder for a local lock), -1 error with err.  Takes no lock.  The caller
 * releases h with state_holder_release() whatever the result.
 */
int state_lock_holder(struct state *st, const char *cluster, struct state_holder *h, char *err,
		      size_t errlen);
void state_holder_release(struct state_holder *h);

/*
 * Open the cluster's current journal for appending, under the lock:
 * results as journal_open().  For etcd every append is a transaction that
 * succeeds only while the lock is ours and no record was added since.
 */
enum journal_status state_journal_open(struct state_lock *l, struct journal **jp, char *msg,
				       size_t msglen) CCR_WUR;
/*
 * Read the cluster's current journal (no lock, nothing written): results as
 * journal_load(), JOURNAL_MISSING when no run has started.
 */
enum journal_status state_journal_load(struct state *st, const char *cluster, struct journal **jp,
				       char *msg, size_t msglen) CCR_WUR;
/*
 * Keep the current journal (its run finished) as the archive of run_id and
 * start an empty one.  Every journal of the cluster must be closed.  0, or
 * -1 with err.
 */
int state_journal_archive(struct state_lock *l, const char *run_id, char *err,
			  size_t errlen) CCR_WUR;
/* How many archived journals the cluster has (earlier runs); 0 on error. */
int state_journal_archives(struct state *st, const char *cluster);

/*
 * Every journal of cluster, archives first (oldest first), the current one
 * last (when it exists).  0 with *files and *n (free with state_files_free), or
 * -1 with err.
 */
int state_journal_files(struct state *st, const char *cluster, struct state_file **files, int *n,
			char *err, size_t errlen) CCR_WUR;
/*
 * Store files (as from state_journal_files(), same order) as the cluster's
 * journals, under its lock.  Refuses (-1, err) when the cluster already has
 * a journal here.  The bytes are kept exactly.
 */
int state_journal_put_files(struct state_lock *l, const struct state_file *files, int n, char *err,
			    size_t errlen) CCR_WUR;
void state_files_free(struct state_file *files, int n);

#endif
