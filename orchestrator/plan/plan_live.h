/*
 * plan_live.h — `plan --live`: bind roles from live facts and mark, for
 * every step, whether the cluster already satisfies it, whether it applies,
 * and whether its preconditions hold now.  Read-only: only facts and
 * check probes run.  And the staleness test of `apply --plan PLAN`.
 */
#ifndef CCR_PLAN_LIVE_H
#define CCR_PLAN_LIVE_H

#include <signal.h>

#include "conns.h"
#include "facts.h"
#include "plan.h"

struct live_step {
	const char *status; /* "satisfied", "would-run", "not-applicable", "refused-now", "unknown",
			       "not-needed" (its phase has nothing to do, or it only prepares
			       later steps that have nothing to do) */
	char *detail;	    /* values seen, or the error; owned */
};

struct live_plan {
	struct plan *plan;    /* compiled with the live roles; owned */
	struct live_step *v;  /* one per plan step; owned */
	json_t *facts;	      /* [{"fact","host","value"}] observed; owned */
	int64_t remaining_ms; /* estimate of the steps that would run */
	int nothing_to_do;    /* no step would change anything: a run would be a no-op */
};

/*
 * Evaluate cluster cl live.  Returns 0 and fills lp (release with
 * plan_live_release), or an exit code with err (a role could not be bound,
 * a host could not be reached: EXIT_REFUSED / EXIT_STEP_FAILED).
 */
int plan_live_eval(const struct playbook *pb, const struct inventory *inv,
		   const struct cluster_def *cl, struct conns *c, volatile sig_atomic_t *stop,
		   struct live_plan *lp, char *err, size_t errlen);
void plan_live_release(struct live_plan *lp);

/* Add the live fields to a cluster object of plan_to_json's output. */
void plan_live_json(const struct live_plan *lp, json_t *cluster);
/* Print the live view as text. */
void plan_live_text(FILE *fp, const struct live_plan *lp, int width);

/*
 * Is a saved plan (plan --live --save) still true for cluster cl?  Re-reads
 * every fact it observed.  Returns 0 when it holds, EXIT_REFUSED with err
 * naming every difference ("cms_owner was NODE1, now NODE2"), or EXIT_INPUT
 * when the file cannot be used.
 */
int plan_live_check_saved(const char *path, const struct playbook *pb, const struct inventory *inv,
			  const struct cluster_def *cl, struct facts *f, char *err, size_t errlen);

#endif
