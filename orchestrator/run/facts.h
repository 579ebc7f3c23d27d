/*
 * facts.h — live facts: probing them over the transport, caching them until
 * something changes, and evaluating expressions over them.
 *
 * A node fact is probed on the host it is asked for; a cluster fact on a
 * member (the step's host when it is one) and shared.  Probe outputs are
 * cached per (host, command), so facts that read the same command cost one
 * round trip.  facts_invalidate() forgets everything: the runner calls it
 * after every command that may have changed the cluster, so a `require`
 * always sees the world as it is now.
 *
 * Compound probes (playbook `shell:`, run/batch.h): with a planner set, the
 * first probe that misses the cache asks the planner which other probes the
 * caller will read before its next change (facts_want_*), and reads them all
 * with one remote command per host; each part is cached as if it had run
 * alone, so every read and every message is the same as without batching.
 * Without `shell:` (or a planner) every probe is its own remote command.
 *
 * Calling sequence:
 *   f = facts_new(plan, conns, &stop)
 *   facts_set_observer(f, fn, arg)                         optional: every command
 *   facts_set_planner(f, plan_fn, batch_fn, arg)           optional: compound probes
 *   facts_eval(f, expr, step, node, saved, &ok, &why, err, errlen)  many times
 *   facts_cond(f, cond, cmd, step, saved, &why, err, errlen)        (check/verify)
 *   facts_invalidate(f)                                     after each change
 *   facts_free(f)
 */
#ifndef CCR_FACTS_H
#define CCR_FACTS_H

#include <signal.h>

#include "conns.h"
#include "plan.h"

struct facts;
struct saved;

/*
 * Called for every command the facts module runs (audit log): alone (batch
 * NULL), or as a part of a batch (batch: its id; r: the part's own stdout,
 * stderr and exit, duration 0; after a transport failure the outcome, exit -1).
 */
typedef void (*facts_cmd_fn)(const char *host, const char *cmd, const struct xport_result *r,
			     const char *batch, void *arg);
/* Called for every batch as sent (the remote command), after it ran; parts: how many. */
typedef void (*facts_batch_fn)(const char *host, const char *sent, const struct xport_result *r,
			       const char *batch, int parts, void *arg);
/*
 * Called on a cache miss (with `shell:`): name, with facts_want_*(), what
 * else will be read before the next change.  Misses while it runs and while
 * the batches run go alone.
 */
typedef void (*facts_plan_fn)(struct facts *f, void *arg);

struct facts *facts_new(const struct plan *p, struct conns *c, volatile sig_atomic_t *stop);
void facts_free(struct facts *f);
void facts_set_observer(struct facts *f, facts_cmd_fn fn, void *arg);
void facts_invalidate(struct facts *f);
/* Compound probes: plan (NULL: off) and batch (may be NULL) get arg. */
void facts_set_planner(struct facts *f, facts_plan_fn plan, facts_batch_fn batch, void *arg);
/* Inside a planner: a command to read on host; the fact name on host (a cluster fact on
 * host when it is a member, else the first member); what an expression or a cond of step s
 * (node: the asking host, NULL for s's) reads.  Cached ones are dropped. */
void facts_want_cmd(struct facts *f, const char *host, const char *cmd);
/* Inside a planner: from now on only host's commands are wanted (NULL: every host's). */
void facts_want_only(struct facts *f, const char *host);
void facts_want_fact(struct facts *f, const char *name, const char *host);
void facts_want_expr(struct facts *f, const struct expr *e, const struct plan_step *s,
		     const char *node);
void facts_want_cond(struct facts *f, const struct cond *c, const char *cmd,
		     const struct plan_step *s);

/*
 * Value of a fact for a host.  Returns 0 and a string borrowed until the
 * next facts_invalidate(), or -1 with err ("fact cms_owner on NODE2:
 * `cluster group` exited 1: ...").  Transport problems are -1 as well;
 * *xo (may be NULL) then holds the transport outcome.
 */
int facts_get(struct facts *f, const char *name, const char *host, const char **value,
	      enum xport_outcome *xo, char *err, size_t errlen);

/*
 * Evaluate e for step s (its node and item give the context; s may be NULL
 * for role binding, then node is the candidate).  saved holds recorded
 * values.  Returns 0 with *result, or -1 with err.  why (may be NULL)
 * receives "name = 'value', ..." for the identifiers it used.
 */
int facts_eval(struct facts *f, const struct expr *e, const struct plan_step *s, const char *node,
	       const struct saved *saved, int *result, struct sbuf *why, char *err, size_t errlen);

/*
 * Run a probe (check/verify/ready given as a command): 1 satisfied, 0 not,
 * -1 error (err).  cmd is the substituted command.
 */
int facts_probe(struct facts *f, const struct probe *pr, const char *cmd, const char *host,
		struct sbuf *why, char *err, size_t errlen);

/*
 * Evaluate a cond (expression or probe) for step s: 1, 0 or -1 as above.
 * A cond with neither set counts as satisfied (1).
 */
int facts_cond(struct facts *f, const struct cond *c, const char *cmd, const struct plan_step *s,
	       const struct saved *saved, struct sbuf *why, char *err, size_t errlen);

/*
 * Run a read-only command on host (cached like probes): 0 with its output
 * (stdout then stderr, borrowed until facts_invalidate), or -1 with err.
 */
int facts_run_text(struct facts *f, const char *host, const char *cmd, const char **text, char *err,
		   size_t errlen);

/* The same, with its stdout alone (caller frees) and its exit status. */
int facts_run_output(struct facts *f, const char *host, const char *cmd, char **out, int *exit,
		     char *err, size_t errlen);

/*
 * The i-th cached fact value (0-based): 0 with name, host (NULL for a
 * cluster fact) and value borrowed until facts_invalidate, or -1 past the end.
 */
int facts_cached(const struct facts *f, int i, const char **name, const char **host,
		 const char **value);

/* Values recorded before a change (record:), per node, name and item. */
struct saved *saved_new(void);
void saved_free(struct saved *sv);
/* Keep the first value only: a later set for the same key is ignored. */
void saved_set(struct saved *sv, const char *node, const char *name, const char *item,
	       const char *value);
/* Value or NULL. */
const char *saved_get(const struct saved *sv, const char *node, const char *name, const char *item);

/* Extract a fact's value from command output (exposed for tests).  Caller frees. */
char *facts_extract(const struct fact_def *def, const char *text, int exit_status, char *err,
		    size_t errlen);

/*
 * The same for a fact with a `json:` rule: text is parsed as JSON, path
 * (substituted) selects values (load/jpath.h), and each value is matched by
 * the capture (or taken whole) and reduced.  Output that is not JSON counts
 * as no match.  Caller frees.
 */
char *facts_extract_json(const struct fact_def *def, const char *path, const char *text,
			 int exit_status, char *err, size_t errlen);

#endif
