/*
 * lock.h — one run per cluster: state/<cluster>/lock.
 *
 * The lock is flock(LOCK_EX|LOCK_NB) on the lock file, held for the life of
 * the run.  The kernel drops it when the holder exits, however it exits, so
 * a lock file left behind by a crashed run is not a lock: the next
 * lock_acquire() succeeds.  The file's content only says who holds it, as
 * one JSON object and a newline:
 *
 *	{"pid":4242,"host":"ops1","started":"2026-11-21T10:20:03Z","command":"ccrup apply"}
 *
 * The file is never unlinked (unlinking a flock'd file lets two processes
 * lock two different inodes); lock_release() empties it instead.
 *
 * Calling sequence:
 *
 *	l = lock_acquire("state/CLUS1/lock", "ccrup apply", err, sizeof err, &other);
 *	if (l == NULL) exit other ? EXIT_LOCKED : EXIT_INPUT, printing err;
 *	… the run …
 *	lock_release(l);
 */
#ifndef CCR_LOCK_H
#define CCR_LOCK_H

#include <stddef.h>

#include "util.h"

struct lock;

/* Who holds (or last held) a lock, as read from the lock file. */
struct lock_holder {
	long pid;      /* process id; 0 when the file is empty or unreadable */
	char *host;    /* gethostname() of the holder; NULL if unknown */
	char *started; /* "2026-11-21T10:20:03Z"; NULL if unknown */
	char *command; /* what the holder runs ("ccrup apply"); NULL if unknown */
};

/*
 * Take the lock at path, creating its directory (0700) and the file (0600)
 * as needed, then record the holder (this process, gethostname(), now, and
 * command) in the file: truncate, write, fsync.
 *
 * Returns the held lock (caller releases it with lock_release()), or NULL
 * with the reason in err.  When another live process holds it, *held_by_other
 * is set to 1 and err names the holder, with the cluster taken from the lock
 * file's directory name:
 *   "cluster CLUS1 is locked by pid 4242 on host ops1 since 2026-11-21T10:20:03Z (ccrup apply)"
 * For any other failure (cannot create or write the file) *held_by_other is
 * 0.  held_by_other may be NULL.  The descriptor is close-on-exec, so
 * commands the run starts do not inherit the lock.
 */
struct lock *lock_acquire(const char *path, const char *command, char *err, size_t errlen,
			  int *held_by_other);

/* Empty the holder record and drop the lock.  l may be NULL. */
void lock_release(struct lock *l);

/*
 * For status: is the lock at path held right now, and by whom?  Returns 1 if
 * a live process holds it, 0 if it is free (including no lock file at all),
 * -1 on error with the reason in err.  On 0 and 1, h is filled from the file
 * when it has a holder record (a free lock may show the last holder of a run
 * that crashed; h->pid is 0 when there is no record).  The caller releases h
 * with lock_holder_release() whatever the result.
 *
 * The check briefly takes a shared lock on the file; lock_acquire() retries
 * for a moment, so the check cannot make a concurrent acquire fail.
 */
int lock_read_holder(const char *path, struct lock_holder *h, char *err, size_t errlen) CCR_WUR;

/* Free the strings of h and zero it.  Safe on a zeroed or released holder. */
void lock_holder_release(struct lock_holder *h);

#endif
