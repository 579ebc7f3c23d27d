/*
 * replay.h — the meaning of a journal, coded once: the record types, what
 * each must carry, and the run they tell of.  The runner (resume), `status`
 * and `report` read a journal only through this module.
 *
 * Two passes.  replay_load() checks every record of the journal field by
 * field (docs/journal.md §1.4: a member of the wrong type, a missing one,
 * a time that is not ISO-8601, an out-of-range number) and the run-level
 * rules that need no plan: the first record is a run-start, every record of
 * a run carries the run-start's run_id, the run-start names the cluster
 * being read, an outage-end closes an open outage.  It folds the current
 * run (from the last run-start) into bindings, recorded values, steps with
 * every attempt, and outages.
 *
 * replay_plan() then maps the steps onto the plan the run follows and, when
 * strict (the playbook is the one the run pinned), checks the rules that
 * need it: records in plan order (a step's record while an earlier step has
 * not finished is refused), a `done` only after its `begin` (or after a gate
 * answer, a mark-done answer, or for a step that runs nothing), a reboot
 * step's `begin` with the boot id it is settled by, a `run-end done` only
 * when every step finished.  It also derives each outage's end from the
 * steps: an outage whose ending step is done is over even if the crash came
 * before its `outage-end` record (replay_outage.implied); the runner writes
 * the missing record on resume.
 *
 * Either pass fails with "PATH:LINE: reason" naming the record and the rule;
 * the CLI exits 5 (EXIT_JOURNAL).
 *
 * Strings in the result are borrowed from the journal: free the replay
 * before journal_close().
 */
#ifndef CCR_REPLAY_H
#define CCR_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "plan.h"
#include "util.h"

/* The record types (docs/journal.md §1.4).  Names are stable on disk. */
enum jev {
	JEV_UNKNOWN = 0, /* a newer writer's record: ignored */
	JEV_RUN_START,
	JEV_BIND,
	JEV_FACT,
	JEV_RECORD,
	JEV_SKIPPED,
	JEV_GATE,
	JEV_ANSWER,
	JEV_OUTAGE_START,
	JEV_BEGIN,
	JEV_DONE,
	JEV_OUTAGE_END,
	JEV_FAILED,
	JEV_REFUSED,
	JEV_INTERRUPTED,
	JEV_RUN_END,
	JEV_WINDOW,
	JEV_MARKER_TAKEN,    /* the run marker on the cluster: about the run, not a step */
	JEV_MARKER_BROKEN,   /* --break-marker replaced another run's marker */
	JEV_MARKER_RELEASED, /* the run removed its marker */
	JEV_REBIND,	     /* resume --rebind: the roles bound afresh, old and new */
	JEV_ABANDONED,	     /* `ccrup abandon`: the run is over, unfinished (result "abandoned") */
	JEV_COUNT
};

/* The on-disk name of a record type ("outage-start"); "" for JEV_UNKNOWN. */
const char *jev_name(enum jev e);
/* The type of an on-disk name; JEV_UNKNOWN for NULL or a name not listed. */
enum jev jev_parse(const char *name);

/* Where a step stands after the records so far. */
enum replay_state {
	RS_PENDING,	/* no record settles it */
	RS_BEGUN,	/* begin with no done/failed/refused/skipped after it (in flight) */
	RS_DONE,	/* done */
	RS_SKIPPED,	/* skipped (already done, not applicable, by the operator) */
	RS_FAILED,	/* failed: the run stopped here */
	RS_REFUSED,	/* a precondition was false: nothing was changed */
	RS_INTERRUPTED, /* stopped during the step (it began: outcome unknown) */
};

/* One record about a step (begin, done, skipped, failed, refused, interrupted,
 * gate, answer, record, window, outage-start, outage-end). */
struct replay_attempt {
	enum jev ev;
	int line;	     /* 1-based line in the journal */
	int64_t time_ms;     /* the record's time */
	int64_t wall_ms;     /* its wall_ms member, else time_ms */
	int64_t duration_ms; /* duration_ms member, else 0 */
	int exit;	     /* exit member, else -1 */
	const char *by;	     /* who settled it (done, gate, outage-end), or NULL */
	const char *reason;  /* failed/refused/skipped reason, or NULL */
	const char *detail;  /* skipped detail, or NULL */
	const char *command; /* begin: the command sent, or NULL */
	const char *boot_id; /* begin of a reboot step: the boot id before it, or NULL */
	const char *answer;  /* gate/answer: the answer, or NULL */
	const char *rebind;  /* refused: why `resume --rebind` is the way on (the live roles
				changed), or NULL */
};

struct replay_step {
	const char *id;	  /* "phase.step[item]" */
	const char *node; /* host, or NULL */
	int plan_index;	  /* 0-based index in the plan (replay_plan), -1 if unknown */
	enum replay_state state;
	struct replay_attempt *att; /* every record about it, in journal order */
	int natt;
	int last_begin;	  /* index into att of the latest begin, -1 if none */
	int last_end;	  /* index into att of the record that set state, -1 if none */
	int64_t start_ms; /* wall time of the latest begin (or of the settling record) */
	int64_t end_ms;	  /* time of the settling record, 0 while pending or in flight */
};

struct replay_outage {
	const char *step, *node;  /* the step that began it */
	int start_line, end_line; /* end_line 0 while open or implied */
	int64_t start_ms, end_ms; /* end_ms 0 while open */
	const char *end_step;	  /* the step that ended it, or NULL while open */
	const char *end_node;	  /* its node */
	int implied;		  /* over by the steps (its ending step settled) but no outage-end
				     record yet: resume writes it */
};

struct replay_binding {
	const char *role, *host;
	int of; /* a `select: all` role: how many hosts its set has ("count"), else 0 */
	int line;
};

struct replay_value { /* a `record` record: a value to restore later */
	const char *step, *node, *name, *item, *value;
	int line;
};

struct replay {
	const char *path; /* the journal's path, for messages */
	int nruns;	  /* run-start records in the file; 0: no run yet */
	/* The current run: from the last run-start. */
	int start_line;
	const char *run_id, *cluster, *mode, *playbook;
	const char *host; /* the orchestrator host that ran it (shared state), or NULL */
	const char *playbook_sha256, *inventory_sha256;
	int64_t start_ms, last_ms;    /* run-start time, time of the last record */
	int64_t end_ms;		      /* time of the run-end, 0 while the run is unfinished */
	const char *result;	      /* run-end result, NULL if the run has not ended */
	const char *result_detail;    /* its detail (abandoned: the reason), or NULL */
	const char *abandoned_by;     /* abandoned: the user who gave the run up, or NULL */
	int end_line;		      /* line of that run-end, 0 */
	const char *last_error;	      /* reason of the last failed/refused, or run-end detail */
	int operator_stopped;	      /* the run ended because the operator answered quit */
	struct replay_binding *binds; /* in journal order; a later bind of a role wins */
	int nbinds;
	int rebound; /* a role was bound after steps ran (rebind): order is checked from there */
	int rebinds; /* `rebind` records in the run: its steps may count what was done
			before under another role (replay_plan) */
	int rebind_line; /* line of the last `rebind` record, 0: what came before it was
			    about the earlier roles */
	struct replay_value *values;
	int nvalues;
	struct replay_step *steps; /* in order of first record; plan order after replay_plan */
	int nsteps;
	struct replay_outage *outages;
	int noutages;
	int64_t outage_total_ms; /* outages that are over (implied ones included) */
	struct replay_int *in;	 /* private */
};

/*
 * Pass 1.  cluster (may be NULL) is the cluster the journal must belong to;
 * j may be NULL (no journal: an empty replay).
 * Returns a replay (nruns 0 for an empty journal), or NULL with err
 * ("PATH:LINE: …").  Caller frees with replay_free() before closing j.
 */
struct replay *replay_load(const struct journal *j, const char *cluster, char *err,
			   size_t errlen) CCR_WUR;

/*
 * The host bound to role (the first binding of a set), or NULL.
 */
const char *replay_binding(const struct replay *rp, const char *role);

/*
 * The run's bindings as the plan takes them: roles and hosts the playbook
 * and inventory know, in journal order, a set cut short by a crash dropped
 * (bind_complete).  *roles is a new array (caller frees), *n its length.
 * Returns 1 when every role of pb is bound, else 0.
 */
int replay_roles(const struct replay *rp, const struct playbook *pb, const struct inventory *inv,
		 struct role_binding **roles, int *n);

/*
 * Compile the plan the run follows: roles from the journal's bindings when
 * they bind every role, else assumed from the inventory (status and report;
 * the runner binds live).  Returns the plan, or NULL with err.
 */
struct plan *replay_compile_plan(const struct replay *rp, const struct playbook *pb,
				 const struct inventory *inv, const struct cluster_def *cl,
				 char *err, size_t errlen);

/*
 * Pass 2: map steps onto p (plan_index), reorder rp->steps into plan order
 * (steps the plan does not know last), derive outage ends from the steps,
 * and when strict check the plan-level rules.  0, or -1 with err.
 *
 * After a `rebind` record, a plan step no record names takes the records
 * of the step with the same definition on the same node under the earlier
 * roles (the same sequence step, e.g. passive.setup and former-active.setup
 * of one node; a gate, which asks a person and touches no node, on any
 * node): what that node did, skipped or began counts under its new role,
 * and nothing done is run twice; what failed or was refused is to do
 * again.  A step both kinds of records name reads its own (they come
 * later).
 */
int replay_plan(struct replay *rp, const struct plan *p, int strict, char *err,
		size_t errlen) CCR_WUR;

/* The reason of a step the operator skipped: it stays to do (resume offers it again). */
#define REPLAY_SKIP_OPERATOR "skipped by the operator"

/* Is step s skipped by the operator, so still to do? */
int replay_step_op_skipped(const struct replay_step *s);

/*
 * Is pb the playbook the run pinned (same sha256)?  The plan-level rules of
 * replay_plan() apply only then: pass this as its `strict`.
 */
int replay_pinned(const struct replay *rp, const struct playbook *pb);

/* The step at plan index i (0-based) after replay_plan(), or NULL if no record names it. */
const struct replay_step *replay_step_at(const struct replay *rp, int i);

/* The outage still open (not over by its records or its steps), or NULL. */
const struct replay_outage *replay_open_outage(const struct replay *rp);

/* Parse "2026-11-21T10:31:07.412Z" (milliseconds optional).  0 and *ms, or -1. */
int replay_parse_time(const char *s, int64_t *ms) CCR_WUR;

void replay_free(struct replay *rp);

#endif
