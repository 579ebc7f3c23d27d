/*
 * runner_prefetch.c — what the runner will read before its next change, so
 * the facts module can read it in one remote command per host (compound
 * probes, playbook `shell:`; facts.h, batch.h).
 *
 * The facts cache is emptied after every change, and the first read after
 * it misses: facts.c then asks this planner for the rest of the window —
 * from the step being considered (r->cur_step) up to and including the next
 * step that empties the cache when it runs (any but a gate or an assertion):
 *   - the step being executed: during a wait, its `until` only (the cache is
 *     emptied when the wait ends); after its change (r->changed) what it reads
 *     then (the reboot's boot id and `ready`, its verify), and
 *     of what follows only what is read on its node (these are re-read on
 *     every poll);
 *   - every later step: the phase and step `when`, a record, the check, the
 *     requires (and, for a reboot, the boot id read right before it);
 *   - where a new phase starts (or a `prepares` step asks whether the rest of
 *     its phase has work), the `when` and check of the phase's acting steps,
 *     which phase_start() scans;
 *   - before the first step (r->cur_step < 0), the whole plan's scan.
 * A wrong guess costs nothing but a part: a fact not named here is read
 * alone when asked for, and one named but never asked for is not looked at.
 * Every part is read after the last change, so the facts stay fresh.
 */
#include "runner_int.h"

static int settled(const struct runner *r, int k)
{
	const struct stepstate *ss = &r->st[k];
	return ss->st == SS_DONE || (ss->st == SS_SKIPPED && !ss->op_skipped);
}

/* runner_has_work's reads: the phase and step `when`, then the check. */
static void want_scan_one(struct runner *r, const struct plan_step *s)
{
	facts_want_expr(r->facts, s->phase->when, s, NULL);
	facts_want_expr(r->facts, s->def->when, s, NULL);
	facts_want_cond(r->facts, &s->def->check, s->check_cmd, s);
}

/* The scan of the acting steps from k to the end of k's phase (all: whole plan). */
static void want_scan(struct runner *r, int k, int all)
{
	const struct phase_def *ph = r->plan->steps[k].phase;
	for (; k < r->plan->nsteps && (all || r->plan->steps[k].phase == ph); k++) {
		const struct plan_step *s = &r->plan->steps[k];
		if (runner_acts(s) && !s->def->prepares && !settled(r, k))
			want_scan_one(r, s);
	}
}

/* What step s reads before it acts. */
static void want_before(struct runner *r, const struct plan_step *s)
{
	const struct record_spec *rs = s->def->record;
	const struct phase_def *ph = s->phase;
	const struct step_def *d = s->def;

	facts_want_expr(r->facts, ph->when, s, NULL);
	facts_want_expr(r->facts, d->when, s, NULL);
	if (rs && saved_get(r->saved, s->node, rs->as, s->item) == NULL) {
		if (rs->fact)
			facts_want_fact(r->facts, rs->fact, s->node);
		else
			facts_want_cmd(r->facts, s->node, s->record_cmd);
	}
	facts_want_cond(r->facts, &d->check, s->check_cmd, s);
	for (int k = 0; k < ph->nrequire; k++)
		facts_want_expr(r->facts, ph->require[k], s, NULL);
	for (int k = 0; k < d->nrequire; k++)
		facts_want_expr(r->facts, d->require[k], s, NULL);
	if (d->reboot.when != REBOOT_NEVER && r->pb->boot_id_fact)
		facts_want_fact(r->facts, r->pb->boot_id_fact, s->node);
}

/* What step s reads after its change. */
static void want_after(struct runner *r, const struct plan_step *s)
{
	const struct step_def *d = s->def;

	if (d->reboot.when != REBOOT_NEVER) {
		if (r->pb->boot_id_fact)
			facts_want_fact(r->facts, r->pb->boot_id_fact, s->node);
		facts_want_cond(r->facts, &d->reboot.ready, s->ready_cmd, s);
	}
	facts_want_cond(r->facts, &d->verify, s->verify_cmd, s);
}

/* Does s empty the cache when it runs (a command, a reboot, a wait, an HTTP check)? */
static int ends_window(const struct plan_step *s)
{
	return s->kind != PSTEP_GATE && s->kind != PSTEP_ASSERT;
}

static void plan_window(struct facts *f, void *arg)
{
	struct runner *r = arg;
	const struct phase_def *ph = r->cur_phase;
	int i = r->cur_step;

	if (i < 0) {
		want_scan(r, 0, 1);
		return;
	}
	if (r->executing == &r->plan->steps[i] && !r->changed) {
		/* A wait's polls: the cache is emptied once it ends, so only its `until`. */
		const struct step_def *d = r->executing->def;
		if (r->executing->kind == PSTEP_WAIT && d->wait)
			facts_want_expr(r->facts, d->wait->until, r->executing, NULL);
		return;
	}
	if (r->executing == &r->plan->steps[i]) {
		/* Between a change and its verify (a reboot's polls, a wait's, a verify
		 * within a time): only the node's own next facts come along. */
		want_after(r, r->executing);
		facts_want_only(f, r->executing->node);
		i++;
	}
	for (int k = i; k < r->plan->nsteps; k++) {
		const struct plan_step *s = &r->plan->steps[k];
		if (settled(r, k))
			continue;
		if (s->phase != ph) {
			ph = s->phase;
			facts_want_expr(r->facts, ph->when, s, NULL);
			want_scan(r, k, 0);
		}
		want_before(r, s);
		if (runner_acts(s) && s->def->prepares && k + 1 < r->plan->nsteps)
			want_scan(r, k + 1, 0);
		else if (ends_window(s))
			break;
	}
}

static void on_batch(const char *host, const char *sent, const struct xport_result *res,
		     const char *batch, int parts, void *arg)
{
	struct runner *r = arg;
	struct event e = {.kind = EV_BATCH,
			  .node = host,
			  .command = sent,
			  .exit = res->exit,
			  .duration_ms = res->duration_ms,
			  .batch = batch,
			  .parts = parts};
	runner_emit(r, &e);
}

void runner_prefetch_init(struct runner *r)
{
	r->cur_step = -1;
	r->executing = NULL;
	if (r->pb->shell != PB_SHELL_NONE)
		facts_set_planner(r->facts, plan_window, on_batch, r);
}
