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
 *   - before the first step (r->cur_step < 0), the whole plan's scan;
 *   - the run marker's read on its hosts where a phase starts (its check) and
 *     before the first change (its take).
 * A wrong guess costs nothing but a part: a fact not named here is read
 * alone when asked for, and one named but never asked for is not looked at.
 * Every part is read after the last change, so the facts stay fresh.
 */
#include "runner_int.h"

#include <string.h>

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

/*
 * Steps that empty the cache a window reaches through.  One would do if every
 * step acted; but a step whose check finds its work done is skipped without a
 * change, and the next one's reads would then cost a remote command of their
 * own (the restore phase: one read per step).  A part read and not used costs
 * the node a probe inside a command it runs anyway.
 */
#define WINDOW_STEPS 2

struct known_ctx {
	const struct runner *r;
	const struct plan_step *s;
};

/* Is name known without a probe: a var, or a value s already recorded? */
static int probe_free(const char *name, int col, void *arg)
{
	const struct known_ctx *kc = arg;
	(void)col;
	if (str_startswith(name, "saved."))
		return saved_get(kc->r->saved, kc->s->node, name + 6, kc->s->item) == NULL;
	return strchr(name, '.') != NULL || playbook_fact(kc->r->pb, name) != NULL;
}

/*
 * Is a `when` of s false already, from vars and recorded values alone (the
 * restore phase's `saved.firewall_state == 'RUNNING'`)?  Then s will be
 * skipped without a change: the window reaches past it.
 */
static int known_not_applicable(struct runner *r, const struct plan_step *s)
{
	const struct expr *w[2] = {s->phase->when, s->def->when};
	struct known_ctx kc = {r, s};
	char err[256];

	for (int k = 0; k < 2; k++) {
		int ok = 1;
		if (w[k] && expr_foreach_ident(w[k], probe_free, &kc) == 0 &&
		    facts_eval(r->facts, w[k], s, NULL, r->saved, &ok, NULL, err, sizeof(err)) ==
			0 &&
		    !ok)
			return 1;
	}
	return 0;
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
		/* A reboot's polls and a verify's within a time read again on every poll:
		 * after the first read, only the node's own next facts come along. */
		const struct step_def *d = r->executing->def;
		want_after(r, r->executing);
		if (d->reboot.when != REBOOT_NEVER || r->polls++ > 0)
			facts_want_only(f, r->executing->node);
		i++;
	}
	/* A miss at the start of a phase: phase_start() is about to check the marker. */
	if (r->marker_held && i < r->plan->nsteps &&
	    (i == 0 || r->plan->steps[i - 1].phase != r->plan->steps[i].phase))
		runner_marker_want(r);
	for (int k = i, ends = 0; k < r->plan->nsteps; k++) {
		const struct plan_step *s = &r->plan->steps[k];
		if (settled(r, k) || known_not_applicable(r, s))
			continue;
		if (s->phase != ph) {
			ph = s->phase;
			facts_want_expr(r->facts, ph->when, s, NULL);
			want_scan(r, k, 0);
			if (r->marker_held) /* phase_start() checks the marker */
				runner_marker_want(r);
		}
		want_before(r, s);
		if (runner_acts(s) && !r->marker_held) /* the first change takes the marker */
			runner_marker_want(r);
		if (runner_acts(s) && s->def->prepares && k + 1 < r->plan->nsteps)
			want_scan(r, k + 1, 0);
		else if (ends_window(s) && (!runner_acts(s) || ++ends == WINDOW_STEPS))
			break; /* a wait or an HTTP check has no check to skip it: it empties the
				  cache */
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
