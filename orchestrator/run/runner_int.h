/*
 * runner_int.h — state shared by runner.c (set-up, binding, the step loop,
 * the journal) and runner_step.c (executing one step).  Not a public API.
 */
#ifndef CCR_RUNNER_INT_H
#define CCR_RUNNER_INT_H

#include <jansson.h>

#include "conns.h"
#include "facts.h"
#include "journal.h"
#include "state.h"
#include "plan.h"
#include "replay.h"
#include "runner.h"

enum sstate { SS_PENDING, SS_SKIPPED, SS_BEGUN, SS_DONE, SS_FAILED, SS_REFUSED };

/* What the journal says about one step instance. */
struct stepstate {
	enum sstate st;	    /* latest state */
	char *boot_id;	    /* boot id recorded with `begin` of a reboot step */
	int64_t begin_wall; /* wall ms of the latest `begin` */
};

struct runner {
	const struct playbook *pb;
	const struct inventory *inv;
	const struct cluster_def *cl;
	const struct run_opts *o;
	char *dir;		    /* state/<cluster> */
	struct state_lock *lock;    /* held for the whole run */
	struct journal *j;	    /* this cluster's journal */
	struct replay *rp;	    /* what the journal said when the run (re)started */
	char run_id[48];	    /* of the current run */
	struct conns *conns;	    /* one transport per host */
	struct facts *facts;	    /* live facts */
	struct saved *saved;	    /* record: values */
	struct redact *rd;	    /* secrets hidden from the journal and events */
	struct plan bindplan;	    /* facts' context while roles are bound */
	struct plan *plan;	    /* compiled with the bound roles */
	struct role_binding *roles; /* owned array */
	int nroles;
	struct stepstate *st;		   /* one per plan step */
	int in_outage;			   /* outage-start journaled, no outage-end yet */
	int64_t outage_wall;		   /* when it started */
	const struct phase_def *cur_phase; /* last phase announced */
	int journal_broken;		   /* an append failed: no further remote action */
	int lock_lost;			   /* the lock was lost: no further remote action */
	int skipped;			   /* shared fleet: left to another process */
	int64_t operator_ms;		   /* this step's time waiting for the operator */
	int asked;			   /* the operator was asked about this step */
	int retrying;			   /* the operator asked to retry a failed step */
	int declined;			   /* the run stopped at a gate the operator declined */
	int err_emitted;		   /* r->err was already shown as a step event */
	int marker_held;		   /* our run marker is on the cluster (runner_marker.c) */
	char err[2048];			   /* last failure, for the final message */
};

/*
 * The run marker on the cluster (playbook `marker:`; no-ops without one).
 * take: after the lock, before the first step; 0, or EXIT_LOCKED (another
 * run's marker, unless --break-marker) or EXIT_STEP_FAILED, r->err set.
 * check: before every phase; 0 or EXIT_LOCKED.  release: at the end of a
 * run that is done; only a marker that is still ours is removed.
 */
int runner_marker_take(struct runner *r);
/* Before the run starts (nothing journaled): another run's marker refuses, EXIT_LOCKED. */
int runner_marker_peek(struct runner *r);
int runner_marker_check(struct runner *r);
void runner_marker_release(struct runner *r);

/* An event about step s: phase, step, name, node and index set, exit -1, the rest zero. */
struct event runner_step_event(enum ev_kind kind, const struct plan_step *s);
/* Emit an event to every sink; e->cluster and wall time are filled in. */
void runner_emit(struct runner *r, struct event *e);
void runner_emitf(struct runner *r, enum ev_kind k, const struct plan_step *s, const char *fmt, ...)
    CCR_PRINTF(4, 5);

/*
 * Append a record (steals rec).  step may be NULL.  Returns 0, or -1 after
 * emitting a warning that the journal cannot be written: the caller must
 * stop before any further remote action.
 */
int runner_journal(struct runner *r, const char *event, const struct plan_step *s, json_t *rec);

/*
 * Has the run lost its lock (state_lock_ok)?  The first time it says so,
 * r->err gets the reason and a warning is emitted.  After 1 the run must
 * take no further remote action (the transport's guard enforces it).
 */
int runner_lock_lost(struct runner *r);

/*
 * Close the open outage at wall (ms) with step s (may be NULL): journal
 * outage-end (with by, if not NULL) and emit EV_OUTAGE_END.  0, or -1 when
 * the journal cannot be written.
 */
int runner_outage_end(struct runner *r, const struct plan_step *s, int64_t wall, const char *by);

/* Execute one step instance (plan index i).  Returns an exit code (0 = go on). */
int runner_step(struct runner *r, int i);

/* The node's current boot id (new string), or -1 with err. */
int runner_boot_id(struct runner *r, const char *node, char **value, char *err, size_t errlen);

/*
 * Reboot s->node (issue the playbook's reboot command when issue is set) and
 * wait until it is back with a new boot id and ready.  down_budget_ms (0: the
 * step's down_timeout) bounds the wait for it to go down.  Returns 0; 1 with
 * err (did not come back, host key...); 2 when stopped; 4 with err when it
 * did not go down within the budget.
 */
int runner_reboot(struct runner *r, const struct plan_step *s, const char *pre_boot_id, int issue,
		  int64_t down_budget_ms, char *err, size_t errlen);

/* Journal a failure (or refusal) of s, set r->err, return code. */
int runner_fail(struct runner *r, const struct plan_step *s, int code, int exit_status,
		const char *fmt, ...) CCR_PRINTF(5, 6);
/* The exact command that continues this run ("ccrup resume INVENTORY ..."). */
const char *runner_resume_hint(const struct runner *r);

/* Journal `interrupted` for s and return EXIT_INTERRUPTED. */
int runner_stopped(struct runner *r, const struct plan_step *s);
/* Is the step's effect already there?  1 yes, 0 no (or no check), -1 error. */
int runner_check_done(struct runner *r, const struct plan_step *s, struct sbuf *why, char *err,
		      size_t errlen);
/* Run s's command with retries; *exit_status gets its exit.  0 or an exit code. */
int runner_run_command(struct runner *r, const struct plan_step *s, int *exit_status);
/* Poll s's wait condition until it holds or its timeout.  0 or an exit code. */
int runner_wait_until(struct runner *r, const struct plan_step *s);
/* s's HTTP check with its retries.  0 or an exit code. */
int runner_http_step(struct runner *r, const struct plan_step *s);

/*
 * A step's time budget (command timeout, reboot down/up budget, wait or HTTP
 * timeout) under --max-timeout: min(ms, cap); ms <= 0 (no limit) becomes cap.
 */
int64_t runner_budget(const struct runner *r, int64_t ms);

/* Sleep up to ms, waking early when *stop is set.  Returns 1 if stopped. */
int runner_sleep(struct runner *r, int64_t ms);

#endif
