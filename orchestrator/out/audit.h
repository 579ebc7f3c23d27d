/*
 * audit.h — the audit log: what was run where, with what result and output.
 *
 * The audit sink writes one JSON line per remote command (EV_CMD_END) and
 * per event that changes the story of a run (run start and end, gates,
 * failures, warnings, the outage window) to state/<cluster>/audit.jsonl.
 * Where the journal is the runner's checkpoint, the audit log is the record
 * people read afterwards: it keeps each command's stdout and stderr (up to
 * AUDIT_MAX_OUTPUT bytes each).  The format is docs/audit.md.
 *
 * Secrets never reach the file: before anything is written, the value of
 * every environment variable whose name contains PASS, SECRET, TOKEN or KEY
 * (CCRUP_KEY_PASSPHRASE...) is replaced by "[REDACTED]", and so are the
 * values of password=..., /password:..., -Password X style arguments.
 *
 * Calling sequence:
 *
 *	struct audit *a = audit_new(state_dir);
 *	struct event_sink sink = {audit_event, a};   // given to the runner
 *	...
 *	audit_close(a, cluster);                      // its run ended (optional)
 *	audit_free(a);                                // fsyncs and closes
 *
 * Thread-safe: a fleet run emits events from several runner threads.  Files
 * are opened lazily, one per cluster, O_APPEND, mode 0600 (directories
 * 0700); each line is a single write(2).  A file that cannot be opened or
 * written is reported once on stderr and the run goes on: the audit log
 * never fails an upgrade.
 */
#ifndef CCR_AUDIT_H
#define CCR_AUDIT_H

#include <stddef.h>

#include "events.h"
#include "util.h"

#define AUDIT_MAX_OUTPUT (16 * 1024) /* bytes of stdout and of stderr kept per command */
#define REDACTED	 "[REDACTED]"

/* ---- redaction (also used by notifications) ---- */

struct redact;

/*
 * Collect the secrets to hide: the values (4 bytes or longer) of every
 * environment variable whose name contains PASS, SECRET, TOKEN or KEY, in
 * any case.  Shorter values are not collected: replacing every "1" in a log
 * would hide the log, not a secret.  Never fails; caller frees.
 */
struct redact *redact_new_from_env(void);

/* Add one more secret value (copied); values shorter than 4 bytes are ignored. */
void redact_add(struct redact *r, const char *value);

/*
 * Return a new string (caller frees) equal to s with every collected secret
 * value and every password-style argument value replaced by "[REDACTED]".
 * r may be NULL (only the argument patterns apply).  s must not be NULL.
 */
char *redact_apply(const struct redact *r, const char *s);

void redact_free(struct redact *r);

/*
 * Copy n bytes of s into a new NUL-terminated string that is valid UTF-8:
 * invalid bytes and NUL become '?'.  Command output is whatever the node
 * printed (code pages, binary); JSON needs UTF-8.  Caller frees.
 */
char *audit_utf8_copy(const char *s, size_t n);

/* ---- the audit sink ---- */

struct audit;

/*
 * A sink writing under state_dir/<cluster>/audit.jsonl.  Nothing is opened
 * yet.  The secrets are read from the environment now.  Never fails.
 */
struct audit *audit_new(const char *state_dir);

/* event_fn: record e if it is one of the events the audit keeps.  arg is the audit. */
void audit_event(const struct event *e, void *arg);

/*
 * Record a warning that did not come from the runner (a notification that
 * could not be delivered).  Same signature as notify's warning callback:
 * arg is the audit, cluster may be NULL (then nothing is written: there is
 * no file to put it in).
 */
void audit_warn(void *arg, const char *cluster, const char *msg);

/*
 * fsync and close cluster's file now (its run ended), so that a fleet holds
 * the files of its running clusters only, not one per cluster it ran.  A
 * line written for it later opens the file again (O_APPEND).  Thread-safe:
 * a writer holding the file at that moment closes it when its line is done.
 * NULL a or cluster is a no-op.
 */
void audit_close(struct audit *a, const char *cluster);

/* Lines written and write/open failures so far (tests, summaries). */
void audit_counts(struct audit *a, unsigned long *lines, unsigned long *errors);

/* fsync and close every file and free a; NULL is a no-op. */
void audit_free(struct audit *a);

#endif
