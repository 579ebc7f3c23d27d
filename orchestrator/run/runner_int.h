/*
 * runner_int.h — state shared by the files of the runner: runner.c (set-up,
 * binding, the step loop, the journal), runner_step.c (one step through the
 * state machine), runner_decide.c (what to do with a step found in flight,
 * skipped or already satisfied; guided answers), runner_exec.c (commands,
 * waits, HTTP checks), runner_reboot.c (verified reboots), runner_marker.c
 * (the run marker on the cluster) and runner_result.c (results and their
 * exit codes).  Not a public API.
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

/*
 * The one result type of the step machine.  Every function of the runner
 * that can stop the run returns one; runner_exit_code() is the only place
 * that turns it into a process exit code (enum ccr_exit), and
 * runner_result_name() into the journal's run-end result.  RR_PROCEED and
 * RR_AGAIN are decisions inside a step and never leave runner_step().
 */
enum rres {
	RR_OK = 0,	/* the step is finished (done, skipped, settled): go on */
	RR_PROCEED,	/* not settled yet: carry on with the step (internal) */
	RR_AGAIN,	/* evaluate the step again from its `when` (internal) */
	RR_FAILED,	/* a step failed: exit 1 */
	RR_UNDECIDED,	/* an interrupted step only the operator can settle: exit 1 */
	RR_INCOMPLETE,	/* the operator skipped a step; it is still pending: exit 1 */
	RR_REFUSED,	/* a precondition or gate refused, or a refused operator answer: exit 3 */
	RR_INPUT,	/* usage or input error, nothing done: exit 2 */
	RR_LOCKED,	/* another run holds the lock: exit 4 */
	RR_JOURNAL,	/* journal corrupt, unwritable, or the files changed: exit 5 */
	RR_LOCK_LOST,	/* the run lost its (etcd) lock mid-run: exit 6 */
	RR_INTERRUPTED, /* SIGINT/SIGTERM or the operator quit: exit 130 */
	RR_NOTHING,	/* nothing to resume or nothing to do: exit 0 */
};

/* The process exit code of a result (RR_PROCEED/RR_AGAIN map to 1: a bug). */
int runner_exit_code(enum rres rc);
/* The result of an exit code returned by another module (bind, plan --live). */
enum rres runner_result_of_exit(int code);
/* The journal's run-end `result` of a result: done, failed, refused, interrupted. */
const char *runner_result_name(enum rres rc);

/* What a verified reboot came to (runner_reboot). */
enum reboot_res {
	RB_OK = 0,   /* the node went down, came back with a new boot id, and is ready */
	RB_FAILED,   /* the reboot command failed, or the node did not come back (err) */
	RB_STOPPED,  /* *stop was set */
	RB_NOT_DOWN, /* the node did not go down within the down budget (err) */
};

enum sstate { SS_PENDING, SS_SKIPPED, SS_BEGUN, SS_DONE, SS_FAILED, SS_REFUSED };

/* What the journal says about one step instance. */
struct stepstate {
	enum sstate st;	    /* latest state */
	char *boot_id;	    /* boot id recorded with `begin` of a reboot step */
	int64_t begin_wall; /* wall ms of the latest `begin` */
	int op_skipped;	    /* skipped by the operator: still pending, resume offers it */
	int acted;	    /* a `begin` was journaled for it in this run */
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
	char ended_run_id[48];	    /* apply: the run whose journal it archived (abandoned, replaced
				       or done): a marker it left is replaced, not refused */
	struct conns *conns;	    /* one transport per host */
	struct facts *facts;	    /* live facts */
	struct saved *saved;	    /* record: values */
	struct redact *rd;	    /* secrets hidden from the journal and events */
	struct plan bindplan;	    /* facts' context while roles are bound */
	struct plan *plan;	    /* compiled with the bound roles */
	struct role_binding *roles; /* owned array */
	int nroles;
	int had_roles;			   /* roles[0..had_roles) came from the journal */
	int replaces;			   /* apply: the unfinished run took no remote action */
	struct stepstate *st;		   /* one per plan step */
	int in_outage;			   /* outage-start journaled, no outage-end yet */
	int64_t outage_wall;		   /* when it started */
	const struct phase_def *cur_phase; /* phase of the last step reached */
	int phase_idle;			   /* cur_phase has nothing to do: its steps are skipped */
	int run_has_work;		   /* some step acts (or acted) in this run */
	int journal_broken;		   /* an append failed: no further remote action */
	int lock_lost;			   /* the lock was lost: no further remote action */
	int skipped;			   /* shared fleet: left to another process */
	int64_t operator_ms;		   /* this step's time waiting for the operator */
	int asked;			   /* the operator was asked about this step */
	int retrying;			   /* the operator asked to retry a failed step */
	int declined;			   /* the run stopped at a gate the operator declined */
	int err_emitted;		   /* r->err was already shown as a step event */
	int marker_held;		   /* our run marker is on the cluster (runner_marker.c) */
	int rebound;			   /* resume --rebind journaled a rebind in this process */
	char *rebind_why;		   /* the next refusal's `rebind` member (the roles that
					      changed), or NULL (runner_fail takes it) */
	char *last_output; /* the last step command's output, its last lines ([d]etails) */
	const struct plan_step *last_output_of; /* the step it is of */
	char *run_said;			   /* first output line of the last command whose non-zero
					      exit ok_exit accepted, or NULL (verify's message) */
	int cur_step;			   /* plan index of the step being considered, or -1 */
	const struct plan_step *executing; /* the step between its begin and its end, or NULL */
	int changed;			   /* executing's command (or wait) has ended */
	int polls;			   /* read windows since then (runner_prefetch.c) */
	char err[2048];			   /* last failure, for the final message */
};

/* Compound probes (runner_prefetch.c): set r->facts' planner when the playbook has `shell:`. */
void runner_prefetch_init(struct runner *r);
/* Does s act (a command or a reboot)? */
int runner_acts(const struct plan_step *s);

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
/*
 * Compound probes: name the marker's read on every host to the facts'
 * planner (runner_prefetch.c).  With the playbook's `shell:`, take's first
 * read and check read the marker like a fact, from what was read since the
 * last change; take's read-back after its write and release read it now.
 */
void runner_marker_want(struct runner *r);

/*
 * A require e was false: when it reads a fact some role is bound by and the
 * roles bound afresh from live facts differ from the run's, the changes
 * ("role active: NODE1 -> NODE2; ..."; caller frees), else NULL.
 */
char *runner_role_drift(struct runner *r, const struct expr *e);
/*
 * Step s's command failed: when a require of s that reads a role-defining
 * fact is now false and the roles bound afresh differ (the command failed
 * because the roles moved under it, and a plain resume would be refused at
 * s), the changes and that require (caller frees), else NULL.
 */
char *runner_failure_drift(struct runner *r, const struct plan_step *s);
/* The resume hint with --rebind ("ccrup resume --rebind INVENTORY ..."). */
const char *runner_rebind_hint(const struct runner *r);
/*
 * resume --rebind: bind the roles afresh from live facts and, when they
 * differ from the run's, show each change, ask (guided) and journal a
 * `rebind` record; r->roles are then the new ones.  RR_OK (rebound, or
 * nothing to rebind), RR_REFUSED (no host can be bound: r->err names the
 * role, the fact and what each host showed; or the operator declined), or
 * RR_JOURNAL.
 */
enum rres runner_rebind(struct runner *r);

/* An event about step s: phase, step, name, node and index set, exit -1, the rest zero. */
struct event runner_step_event(enum ev_kind kind, const struct plan_step *s);
/* Emit an event to every sink; e->cluster and wall time are filled in. */
void runner_emit(struct runner *r, struct event *e);
void runner_emitf(struct runner *r, enum ev_kind k, const struct plan_step *s, const char *fmt, ...)
    CCR_PRINTF(4, 5);

/*
 * Append a record (steals rec).  step may be NULL.  The record is written
 * but not yet durable: runner_journal_sync() makes it so.  Returns 0, or -1
 * after emitting a warning that the journal cannot be written: the caller
 * must stop before any further remote action.
 */
int runner_journal(struct runner *r, const char *event, const struct plan_step *s, json_t *rec);

/*
 * Make every record journaled so far durable (one fsync, or none when
 * nothing is pending).  Called right before every remote command that can
 * change a node (a step's command, a reboot, the run marker), before the
 * operator is asked, and after run-end: write-ahead means the record that
 * announces an action is on disk before the action starts.  Read-only fact
 * probes need not wait.  0, or -1 as runner_journal() (s for the warning,
 * may be NULL).
 */
int runner_journal_sync(struct runner *r, const struct plan_step *s) CCR_WUR;

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

/* Execute one step instance (plan index i).  RR_OK to go on, or why the run stops. */
enum rres runner_step(struct runner *r, int i);

/* The node's current boot id (new string), or -1 with err. */
int runner_boot_id(struct runner *r, const char *node, char **value, char *err, size_t errlen);
/* The same as the facts read since the last change saw it (read now if they did not). */
int runner_boot_id_read(struct runner *r, const char *node, char **value, char *err, size_t errlen);

/*
 * Reboot s->node (issue the playbook's reboot command when issue is set) and
 * wait until it is back with a new boot id and ready.  down_budget_ms (0: the
 * step's down_timeout) bounds the wait for it to go down.  Returns RB_OK;
 * RB_FAILED with err (did not come back, host key...); RB_STOPPED; or
 * RB_NOT_DOWN with err when it did not go down within the budget.
 */
enum reboot_res runner_reboot(struct runner *r, const struct plan_step *s, const char *pre_boot_id,
			      int issue, int64_t down_budget_ms, char *err, size_t errlen);

/*
 * Journal a failure (`failed`, or `refused` when code is RR_REFUSED) of s,
 * set r->err, emit it, and return code (RR_JOURNAL if the record could not
 * be written).
 */
enum rres runner_fail(struct runner *r, const struct plan_step *s, enum rres code, int exit_status,
		      const char *fmt, ...) CCR_PRINTF(5, 6);
/* The exact command that continues this run ("ccrup resume INVENTORY ..."). */
const char *runner_resume_hint(const struct runner *r);

/* Journal `interrupted` for s and return RR_INTERRUPTED. */
enum rres runner_stopped(struct runner *r, const struct plan_step *s);
/*
 * Does step s still have something to change?  An acting step (a command or
 * a reboot) whose phase and step `when` hold and whose check is not
 * satisfied.  An error while finding out counts as yes: the step then meets
 * it in the open.  1 or 0.
 */
int runner_has_work(struct runner *r, const struct plan_step *s);
/* Does any acting step of the plan still have work (or did one act)?  1 or 0. */
int runner_plan_has_work(struct runner *r);

/* Is the step's effect already there?  1 yes, 0 no (or no check), -1 error. */
int runner_check_done(struct runner *r, const struct plan_step *s, struct sbuf *why, char *err,
		      size_t errlen);
/* Run s's command with retries; *exit_status gets its exit.  RR_OK or why not. */
enum rres runner_run_command(struct runner *r, const struct plan_step *s, int *exit_status);
/* Poll s's wait condition until it holds or its timeout.  RR_OK or why not. */
enum rres runner_wait_until(struct runner *r, const struct plan_step *s);
/* s's HTTP check with its retries.  RR_OK or why not. */
enum rres runner_http_step(struct runner *r, const struct plan_step *s);

/* Ask the operator, counting the time it takes as waiting, not running ('q' unattended). */
int runner_ask(struct runner *r, const char *q, const char *choices);
/* The plan's estimate of the outage s begins: its estimate up to the step that ends it. */
int64_t runner_outage_estimate_ms(const struct runner *r, const struct plan_step *s);

/* Journal `done` for s (by: who settled it, or NULL), emit it.  RR_OK or RR_JOURNAL. */
enum rres runner_journal_done(struct runner *r, const struct plan_step *s, int exit_status,
			      int64_t t0, const char *by);
/* Journal `skipped` for s with reason and detail, emit it.  RR_OK or RR_JOURNAL. */
enum rres runner_journal_skip(struct runner *r, const struct plan_step *s, const char *reason,
			      const char *detail);
/* Journal and announce the start (begin set) or end of the outage.  RR_OK or RR_JOURNAL. */
enum rres runner_outage_mark(struct runner *r, const struct plan_step *s, int begin);
/* s's verify on fresh facts; false or an error fails the step.  RR_OK or RR_FAILED. */
enum rres runner_verify(struct runner *r, const struct plan_step *s, int exit_status);

/*
 * Why skipping or marking s done needs more than one key, or NULL: it is
 * inside the outage window, it is the point of no return, or a later
 * step's `require` reads a fact its check or verify reads.  The text is
 * static or in buf.
 */
const char *runner_guard_reason(struct runner *r, const struct plan_step *s, char *buf,
				size_t buflen);
/* Did the operator name s in list (resume --mark-done / --retry)?  1 or 0. */
int runner_told(const struct plan_step *s, const char *const *list, int n);
/*
 * Mark s done on the operator's word: its verify (else its check) must hold
 * live.  RR_OK (journaled done by `by`), RR_REFUSED with the reason in why
 * (nothing journaled), or RR_JOURNAL.
 */
enum rres runner_mark_done(struct runner *r, const struct plan_step *s, int64_t t0, const char *by,
			   char *why, size_t whylen);
/*
 * Guided confirmation of s (found: what its check saw, may be NULL).
 * RR_PROCEED to run it, RR_OK when the operator settled it (skipped or
 * marked done), RR_AGAIN to evaluate it again, or why the run stops.  Every
 * answer is journaled.  Unattended: RR_PROCEED.
 */
enum rres runner_confirm(struct runner *r, const struct plan_step *s, const char *found);
/*
 * The journal says s began and never ended.  A reboot is settled by the
 * boot id, any step by its check; an idempotent step may run again;
 * anything else is the operator's decision (guided answer, or resume
 * --mark-done / --retry), never a guess.  RR_OK when settled (done),
 * RR_PROCEED to run the step normally, RR_UNDECIDED when only the operator
 * can tell (r->err says what to check and how to answer), or why the run
 * stops.
 */
enum rres runner_settle_inflight(struct runner *r, const struct plan_step *s, struct stepstate *ss,
				 int64_t t0);

/*
 * A step's time budget (command timeout, reboot down/up budget, wait or HTTP
 * timeout) under --max-timeout: min(ms, cap); ms <= 0 (no limit) becomes cap.
 */
int64_t runner_budget(const struct runner *r, int64_t ms);

/* Sleep up to ms, waking early when *stop is set.  Returns 1 if stopped. */
int runner_sleep(struct runner *r, int64_t ms);

#endif
