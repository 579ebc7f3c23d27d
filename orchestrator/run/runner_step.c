/*
 * runner_step.c — one step instance through the state machine (DESIGN §4,
 * refined in docs/design.md): when -> record -> check (already done: skip)
 * -> require (fresh facts; false: refuse) -> gate / guided confirmation ->
 * begin -> run -> reboot -> verify -> done.  A phase whose work is already
 * there is passed over without a word: no phase announcement, no gate, no
 * command.  The operator's decisions (guided answers, a step found in
 * flight) are in runner_decide.c.
 */
#include "runner_int.h"

#include <stdlib.h>
#include <string.h>

enum rres runner_fail(struct runner *r, const struct plan_step *s, enum rres code, int exit_status,
		      const char *fmt, ...)
{
	va_list ap;
	char *cause;

	/* A probe or transport failure after a stop request is the stop's doing
	 * (the transport aborts what runs): an interruption, exit 130, not a
	 * failure.  A command's own exit status stays a failure. */
	if (exit_status < 0 && code != RR_REFUSED && r->o->stop && *r->o->stop)
		return runner_stopped(r, s);
	va_start(ap, fmt);
	cause = xvasprintf(fmt, ap);
	va_end(ap);
	/* A command that failed because the roles moved under it (it ran on the node
	 * that now holds the other role): resuming as planned would be refused. */
	if (code == RR_FAILED && exit_status >= 0 && r->rebind_why == NULL &&
	    (r->rebind_why = runner_failure_drift(r, s)) != NULL) {
		char *more =
		    xasprintf("%s. The live roles no longer match the ones this run was "
			      "planned with (%s): `ccrup resume` would be refused at this "
			      "step; see the changes and re-plan the rest of the run with: %s",
			      cause, r->rebind_why, runner_rebind_hint(r));
		free(cause);
		cause = more;
	}
	snprintf(r->err, sizeof(r->err), "cluster %s, node %s, step %s: %s%s", r->cl->name,
		 s->node ? s->node : "-", s->id, cause,
		 r->in_outage ? " -- THE OUTAGE IS ONGOING: the service is down until this step "
				"is fixed and the run resumed"
			      : "");
	json_t *rec = json_pack("{s:s}", "reason", cause);
	if (exit_status >= 0)
		json_object_set_new(rec, "exit", json_integer(exit_status));
	if (r->rebind_why)
		json_object_set_new(rec, "rebind", json_string(r->rebind_why));
	free(r->rebind_why);
	r->rebind_why = NULL;
	if (runner_journal(r, code == RR_REFUSED ? "refused" : "failed", s, rec) < 0)
		code = RR_JOURNAL;
	struct event e =
	    runner_step_event(code == RR_REFUSED ? EV_STEP_REFUSED : EV_STEP_FAILED, s);
	e.exit = exit_status;
	e.text = r->err;
	runner_emit(r, &e);
	r->err_emitted = 1;
	free(cause);
	return code;
}

enum rres runner_stopped(struct runner *r, const struct plan_step *s)
{
	snprintf(r->err, sizeof(r->err), "interrupted during step %s on %s; continue with: %s",
		 s->id, s->node ? s->node : "-", runner_resume_hint(r));
	runner_journal(r, "interrupted", s, NULL);
	return RR_INTERRUPTED;
}

/* Time the step ran since t0, without the time it waited for the operator. */
static int64_t ran_ms(const struct runner *r, int64_t t0)
{
	int64_t d = now_mono_ms() - t0 - r->operator_ms;
	return d > 0 ? d : 0;
}

enum rres runner_journal_done(struct runner *r, const struct plan_step *s, int exit_status,
			      int64_t t0, const char *by)
{
	int64_t ran = ran_ms(r, t0);
	json_t *rec = json_pack("{s:I}", "duration_ms", (json_int_t)ran);
	if (r->asked)
		json_object_set_new(rec, "operator_ms", json_integer(r->operator_ms));
	if (exit_status >= 0)
		json_object_set_new(rec, "exit", json_integer(exit_status));
	if (by)
		json_object_set_new(rec, "by", json_string(by));
	if (runner_journal(r, "done", s, rec) < 0)
		return RR_JOURNAL;
	r->st[s->index - 1].st = SS_DONE;
	r->st[s->index - 1].op_skipped = 0;
	struct event e = runner_step_event(EV_STEP_DONE, s);
	e.exit = exit_status;
	e.duration_ms = ran;
	e.wait_ms = r->operator_ms;
	e.text = by;
	runner_emit(r, &e);
	return RR_OK;
}

enum rres runner_journal_skip(struct runner *r, const struct plan_step *s, const char *reason,
			      const char *detail)
{
	json_t *rec = json_pack("{s:s, s:s}", "reason", reason, "detail", detail);
	if (r->asked)
		json_object_set_new(rec, "operator_ms", json_integer(r->operator_ms));
	if (runner_journal(r, "skipped", s, rec) < 0)
		return RR_JOURNAL;
	r->st[s->index - 1].st = SS_SKIPPED;
	r->st[s->index - 1].op_skipped = 0; /* the operator's skip sets it after this */
	char *t = xasprintf("%s: %s", reason, detail);
	struct event e = runner_step_event(EV_STEP_SKIPPED, s);
	e.text = t;
	e.wait_ms = r->operator_ms;
	runner_emit(r, &e);
	free(t);
	return RR_OK;
}

int runner_ask(struct runner *r, const char *q, const char *choices)
{
	int64_t t = now_mono_ms();
	/* What the operator is shown is on disk before the (maybe long) wait. */
	if (runner_journal_sync(r, NULL) < 0)
		return 'q';
	int c = r->o->ask ? r->o->ask(r->o->ask_arg, q, choices) : 'q';
	/* The operator may have looked at (or changed) the cluster meanwhile. */
	facts_invalidate(r->facts);
	r->operator_ms += now_mono_ms() - t;
	r->asked = 1;
	return c;
}

/* Phase and step `when`, live.  1 applies; 0 not (journaled as skipped, or *rc set). */
static int applies(struct runner *r, const struct plan_step *s, enum rres *rc)
{
	const struct expr *w[2] = {s->phase->when, s->def->when};
	for (int k = 0; k < 2; k++) {
		struct sbuf why;
		char err[1024];
		int ok = 1;
		if (w[k] == NULL)
			continue;
		sbuf_init(&why);
		if (facts_eval(r->facts, w[k], s, NULL, r->saved, &ok, &why, err, sizeof(err)) <
		    0) {
			*rc = runner_fail(r, s, RR_FAILED, -1, "when: %s", err);
			sbuf_release(&why);
			return 0;
		}
		if (!ok) {
			char *d = xasprintf("%s is false (%s)", expr_source(w[k]), why.buf);
			*rc = runner_journal_skip(r, s, "not applicable", d);
			free(d);
		}
		sbuf_release(&why);
		if (!ok)
			return 0;
	}
	return 1;
}

/*
 * A require e is false.  When the live roles moved under the run (runner_rebind.c),
 * say so: resuming as planned would be refused for ever; --rebind is the way on.
 */
static enum rres refuse(struct runner *r, const struct plan_step *s, const struct expr *e,
			const char *seen, const char *explain)
{
	char *drift = runner_role_drift(r, e);
	char *more = NULL;

	if (drift) {
		more = xasprintf(". The live roles no longer match the ones this run was planned "
				 "with (%s): `ccrup resume` is refused the same way until they are "
				 "bound again; see the changes and re-plan the rest of the run "
				 "with: %s",
				 drift, runner_rebind_hint(r));
		free(r->rebind_why);
		r->rebind_why = drift;
	}
	enum rres rc = runner_fail(r, s, RR_REFUSED, -1,
				   "precondition refused before anything changed: `%s` is false "
				   "(seen: %s)%s%s%s",
				   expr_source(e), seen, explain ? ". " : "",
				   explain ? explain : "", more ? more : "");
	free(more);
	return rc;
}

/*
 * Every phase and step require on fresh facts.  RR_OK, or why not.  A require
 * that is false refuses the step even when an earlier one could not be read
 * (a node down): a definite "no" says more than an unknown, and is what
 * `resume --rebind` and the exit code (3, not 1) are decided on.
 */
static enum rres requires_hold(struct runner *r, const struct plan_step *s)
{
	const struct phase_def *ph = s->phase;
	const struct step_def *d = s->def;
	int total = ph->nrequire + d->nrequire;
	char first_err[1024] = "";

	for (int k = 0; k < total; k++) {
		const struct expr *e =
		    k < ph->nrequire ? ph->require[k] : d->require[k - ph->nrequire];
		const char *explain = k < ph->nrequire ? ph->explain : d->explain;
		struct sbuf why;
		char err[1024];
		int ok = 0;
		enum rres rc = RR_OK;
		sbuf_init(&why);
		if (facts_eval(r->facts, e, s, NULL, r->saved, &ok, &why, err, sizeof(err)) < 0) {
			if (first_err[0] == '\0')
				snprintf(first_err, sizeof(first_err), "%s", err);
		} else if (!ok) {
			rc = refuse(r, s, e, why.buf, explain);
		}
		sbuf_release(&why);
		if (rc)
			return rc;
	}
	if (first_err[0] != '\0')
		return runner_fail(r, s, RR_FAILED, -1, "require: %s", first_err);
	return 0;
}

/* Is the step's effect already there?  1 yes, 0 no, -1 error (err). */
int runner_check_done(struct runner *r, const struct plan_step *s, struct sbuf *why, char *err,
		      size_t errlen)
{
	if (s->def->check.expr == NULL && s->def->check.probe == NULL)
		return 0;
	return facts_cond(r->facts, &s->def->check, s->check_cmd, s, r->saved, why, err, errlen);
}

int runner_acts(const struct plan_step *s)
{
	return s->kind == PSTEP_RUN || s->kind == PSTEP_REBOOT;
}

/* A `when` (NULL: none) on fresh-enough facts: 1 holds, 0 not; an error counts as 1. */
static int when_holds(struct runner *r, const struct expr *w, const struct plan_step *s)
{
	char err[512];
	int ok = 1;
	if (w && facts_eval(r->facts, w, s, NULL, r->saved, &ok, NULL, err, sizeof(err)) < 0)
		return 1;
	return ok;
}

int runner_has_work(struct runner *r, const struct plan_step *s)
{
	const struct stepstate *ss = &r->st[s->index - 1];
	char err[512];

	if (!runner_acts(s) || ss->st == SS_DONE || (ss->st == SS_SKIPPED && !ss->op_skipped))
		return 0;
	if (ss->st == SS_BEGUN)
		return 1; /* in flight: the operator or its check decides, never the scan */
	if (!when_holds(r, s->phase->when, s) || !when_holds(r, s->def->when, s))
		return 0;
	/* A check against a value the step records itself (saved.NAME) means
	 * nothing before the step has recorded it: a rolling restart's "restarted
	 * since" cannot be true of a restart that has not happened. */
	if (s->def->check.expr && strstr(expr_source(s->def->check.expr), "saved.") != NULL)
		return 1;
	return runner_check_done(r, s, NULL, err, sizeof(err)) != 1;
}

int runner_plan_has_work(struct runner *r)
{
	for (int k = 0; k < r->plan->nsteps; k++)
		if (r->st[k].acted)
			return 1;
	for (int k = 0; k < r->plan->nsteps; k++) {
		const struct plan_step *s = &r->plan->steps[k];
		if (!s->def->prepares && runner_has_work(r, s))
			return 1;
	}
	return 0;
}

/*
 * Does the phase of step i have anything to do?  Its acting steps (other
 * than those that only prepare the rest) are asked from step i on; a phase
 * with no acting step at all (checks, gates, waits) belongs to the run and
 * has work when the run has.
 */
static int phase_has_work(struct runner *r, int i)
{
	const struct phase_def *ph = r->plan->steps[i].phase;
	int acting = 0;

	if (!when_holds(r, ph->when, &r->plan->steps[i]))
		return 0;
	for (int k = i; k < r->plan->nsteps && r->plan->steps[k].phase == ph; k++) {
		const struct plan_step *s = &r->plan->steps[k];
		if (!runner_acts(s) || s->def->prepares)
			continue;
		acting = 1;
		if (runner_has_work(r, s))
			return 1;
	}
	return acting ? 0 : r->run_has_work;
}

/* A `prepares` step is needed only while a later step of its phase has work. */
static int prepared_needed(struct runner *r, int i)
{
	const struct phase_def *ph = r->plan->steps[i].phase;
	for (int k = i + 1; k < r->plan->nsteps && r->plan->steps[k].phase == ph; k++)
		if (!r->plan->steps[k].def->prepares && runner_has_work(r, &r->plan->steps[k]))
			return 1;
	return 0;
}

static enum rres take_record(struct runner *r, const struct plan_step *s)
{
	const struct record_spec *rs = s->def->record;
	char err[1024];
	char *value = NULL;
	enum rres rc = RR_OK;

	if (rs == NULL || saved_get(r->saved, s->node, rs->as, s->item))
		return 0;
	if (rs->fact) {
		const char *v = NULL;
		if (facts_get(r->facts, rs->fact, s->node, &v, NULL, err, sizeof(err)) < 0)
			return runner_fail(r, s, RR_FAILED, -1, "record %s: %s", rs->as, err);
		value = xstrdup(v);
	} else {
		/* A record command is a one-off fact: same extraction rules. */
		struct fact_def fd = {.name = rs->as,
				      .capture = rs->capture,
				      .capture_re = rs->capture_re,
				      .def = rs->def};
		const char *text = NULL;
		if (facts_run_text(r->facts, s->node, s->record_cmd, &text, err, sizeof(err)) == 0)
			value = facts_extract(&fd, text, 0, err, sizeof(err));
		if (value == NULL)
			return runner_fail(r, s, RR_FAILED, -1, "record %s: %s", rs->as, err);
	}
	saved_set(r->saved, s->node, rs->as, s->item, value);
	json_t *rec = json_pack("{s:s, s:s, s:o}", "name", rs->as, "value", value, "item",
				s->item ? json_string(s->item) : json_null());
	if (runner_journal(r, "record", s, rec) < 0)
		rc = RR_JOURNAL;
	else
		runner_emitf(r, EV_INFO, s, "recorded %s = '%s'", rs->as, value);
	free(value);
	return rc;
}

static int gate_acknowledged(const struct runner *r, const struct plan_step *s)
{
	char *id = xasprintf("%s.%s", s->phase->id, s->def->id);
	int ok = 0;
	for (int i = 0; i < r->cl->nacknowledge; i++)
		ok |= strcmp(r->cl->acknowledge[i], id) == 0;
	free(id);
	return ok;
}

/* A human gate.  RR_OK passed (journaled done), or why not. */
static enum rres pass_gate(struct runner *r, const struct plan_step *s, int64_t t0)
{
	const char *by = NULL;
	if (gate_acknowledged(r, s))
		by = "inventory acknowledge";
	else if (r->o->unattended)
		by = "--yes";
	struct event e = runner_step_event(EV_GATE, s);
	e.text = s->def->gate;
	if (by == NULL) {
		char *q = xasprintf("%s [y]es [n]o [q]uit", s->def->gate);
		int c = runner_ask(r, q, "ynq");
		free(q);
		if (c != 'y') {
			runner_journal(r, "gate", s,
				       json_pack("{s:s}", "answer", c == 'q' ? "quit" : "no"));
			snprintf(r->err, sizeof(r->err),
				 "gate %s not confirmed (%s); nothing was changed by it. When it "
				 "holds, continue from this step with: %s",
				 s->id, s->def->gate, runner_resume_hint(r));
			r->declined = 1;
			return c == 'q' ? RR_INTERRUPTED : RR_REFUSED;
		}
		by = "operator";
	}
	e.detail = by;
	runner_emit(r, &e);
	if (runner_journal(r, "gate", s, json_pack("{s:s, s:s}", "answer", "yes", "by", by)) < 0)
		return RR_JOURNAL;
	return runner_journal_done(r, s, -1, t0, by);
}

/* The plan's estimate of the outage step i begins: its estimate up to the step that ends it. */
int64_t runner_outage_estimate_ms(const struct runner *r, const struct plan_step *s)
{
	int64_t ms = 0;
	if (s->def->outage == OUTAGE_WITHIN)
		return s->def->estimate_ms;
	for (int k = s->index - 1; k < r->plan->nsteps; k++) {
		const struct plan_step *n = &r->plan->steps[k];
		if (n->applies == APPLIES_NO)
			continue;
		ms += n->def->estimate_ms;
		if (n->def->outage == OUTAGE_ENDS)
			break;
	}
	return ms;
}

enum rres runner_outage_mark(struct runner *r, const struct plan_step *s, int begin)
{
	const char *ev = begin ? "outage-start" : "outage-end";
	int64_t wall = now_wall_ms();
	json_t *rec = json_pack("{s:I}", "wall_ms", (json_int_t)wall);
	if (!begin)
		json_object_set_new(rec, "duration_ms", json_integer(wall - r->outage_wall));
	if (runner_journal(r, ev, s, rec) < 0)
		return RR_JOURNAL;
	struct event e = runner_step_event(begin ? EV_OUTAGE_START : EV_OUTAGE_END, s);
	e.duration_ms = begin ? 0 : wall - r->outage_wall;
	e.text = r->pb->outage_impact;
	e.detail = r->pb->service_name;
	e.budget_ms = begin ? runner_outage_estimate_ms(r, s) : 0;
	runner_emit(r, &e);
	r->in_outage = begin;
	if (begin)
		r->outage_wall = wall;
	return RR_OK;
}

static int needs_reboot(const struct step_def *d, int exit_status)
{
	if (d->reboot.when == REBOOT_ALWAYS)
		return 1;
	if (d->reboot.when != REBOOT_ON_EXIT)
		return 0;
	for (int i = 0; i < d->reboot.nexit; i++)
		if (d->reboot.exit_codes[i] == exit_status)
			return 1;
	return 0;
}

/* From `begin` to `done`: the part of a step that changes the cluster. */
static enum rres execute(struct runner *r, const struct plan_step *s, int64_t t0)
{
	const struct step_def *d = s->def;
	char *boot = NULL;
	char err[1024];
	enum rres rc = RR_OK;
	int exit_status = -1;

	/* The first change of this process's run takes the marker on the cluster: a
	 * run with nothing to do leaves no trace there. */
	if (!r->marker_held && (rc = runner_result_of_exit(runner_marker_take(r))) != RR_OK)
		return rc;
	/* The boot id before the reboot.  With compound probes it was read with the
	 * step's other facts, after the last change (which emptied the cache). */
	if (d->reboot.when != REBOOT_NEVER &&
	    (r->pb->shell == PB_SHELL_NONE
		 ? runner_boot_id(r, s->node, &boot, err, sizeof(err))
		 : runner_boot_id_read(r, s->node, &boot, err, sizeof(err))) < 0)
		return runner_fail(r, s, RR_FAILED, -1, "before the reboot: %s", err);
	if ((d->outage == OUTAGE_BEGINS || d->outage == OUTAGE_WITHIN) && !r->in_outage &&
	    (rc = runner_outage_mark(r, s, 1)))
		goto out;
	json_t *rec = json_pack("{s:I}", "wall_ms", (json_int_t)now_wall_ms());
	if (s->command)
		json_object_set_new(rec, "command", json_string(s->command));
	if (boot)
		json_object_set_new(rec, "boot_id", json_string(boot));
	if (runner_journal(r, "begin", s, rec) < 0) {
		rc = RR_JOURNAL;
		goto out;
	}
	r->st[s->index - 1].acted = 1;
	r->run_has_work = 1;
	r->executing = s;
	if (s->kind == PSTEP_RUN)
		rc = runner_run_command(r, s, &exit_status);
	else if (s->kind == PSTEP_WAIT)
		rc = runner_wait_until(r, s);
	else if (s->kind == PSTEP_HTTP)
		rc = runner_http_step(r, s);
	if (rc)
		goto out;
	facts_invalidate(r->facts);
	r->changed = 1;
	r->polls = 0;
	if (needs_reboot(d, exit_status)) {
		enum reboot_res rr = runner_reboot(r, s, boot, 1, 0, err, sizeof(err));
		if (rr == RB_STOPPED) {
			rc = runner_stopped(r, s);
			goto out;
		}
		if (rr != RB_OK) {
			rc = runner_fail(r, s, RR_FAILED, exit_status, "%s", err);
			goto out;
		}
	}
	if ((rc = runner_verify(r, s, exit_status)))
		goto out;
	if ((rc = runner_journal_done(r, s, exit_status, t0, NULL)))
		goto out;
	if ((d->outage == OUTAGE_ENDS || d->outage == OUTAGE_WITHIN) && r->in_outage)
		rc = runner_outage_mark(r, s, 0);
out:
	r->executing = NULL;
	r->changed = 0;
	free(boot);
	return rc;
}

/* Estimated time still needed by the steps of step i's phase that are not settled. */
static int64_t phase_remaining_ms(const struct runner *r, int i)
{
	const struct phase_def *ph = r->plan->steps[i].phase;
	int64_t ms = 0;
	for (int k = i; k < r->plan->nsteps && r->plan->steps[k].phase == ph; k++)
		if (r->st[k].st != SS_DONE && r->st[k].st != SS_SKIPPED &&
		    r->plan->steps[k].applies != APPLIES_NO)
			ms += r->plan->steps[k].def->estimate_ms;
	return ms;
}

/*
 * At the start of a phase: find out whether it has anything to do (a phase
 * whose work is already there is passed over in silence: no announcement,
 * no gate, no command), then keep the maintenance window and announce it.
 * A phase whose estimated end passes the window is not begun, so a cluster
 * is never left half-way through a phase (above all the outage phase).
 */
static enum rres phase_start(struct runner *r, int i)
{
	const struct plan_step *s = &r->plan->steps[i];
	int begun = 0;
	if (r->cur_phase == s->phase)
		return RR_OK;
	r->cur_phase = s->phase;
	r->phase_idle = !phase_has_work(r, i);
	if (r->phase_idle)
		return RR_OK;
	for (int k = 0; k < r->plan->nsteps; k++)
		if (r->plan->steps[k].phase == s->phase && r->st[k].st != SS_PENDING)
			begun = 1;
	if (r->o->window_end_ms && !begun) {
		int64_t need = phase_remaining_ms(r, i), now = now_wall_ms();
		int64_t left = r->o->window_end_ms - now;
		char a[32], b[32];
		format_duration(need, a, sizeof(a));
		format_duration(left > 0 ? left : 0, b, sizeof(b));
		if (need > 0 && now + need > r->o->window_end_ms) {
			snprintf(
			    r->err, sizeof(r->err),
			    "phase %s needs about %s but the maintenance window ends in %s: not "
			    "begun, the cluster is left between phases; run `ccrup resume` in the "
			    "next window",
			    s->phase->id, a, b);
			runner_journal(r, "window", s,
				       json_pack("{s:s, s:I, s:I}", "phase", s->phase->id,
						 "needed_ms", (json_int_t)need, "left_ms",
						 (json_int_t)left));
			return RR_REFUSED;
		}
		if (left < 2 * need || left < 15 * 60 * 1000)
			runner_emitf(r, EV_WARN, s,
				     "maintenance window ends in %s; phase %s needs about %s", b,
				     s->phase->id, a);
	}
	/* Another run may have taken the cluster meanwhile: never start a phase then. */
	enum rres mrc = runner_result_of_exit(runner_marker_check(r));
	if (mrc != RR_OK)
		return mrc;
	struct event e = {.kind = EV_PHASE_START,
			  .phase = s->phase->id,
			  .text = s->phase->name,
			  .node = s->node,
			  .index = s->index,
			  .exit = -1};
	runner_emit(r, &e);
	return RR_OK;
}

/* A step of a phase with nothing to do: journaled as skipped, nothing probed or asked. */
static enum rres pass_idle(struct runner *r, const struct plan_step *s)
{
	return runner_journal_skip(r, s, "nothing to do",
				   "the work of this phase is already done or does not apply");
}

/* From the check on: skip what is done, guard, gate or ask, then execute. */
static enum rres step_body(struct runner *r, int i, int64_t t0)
{
	const struct plan_step *s = &r->plan->steps[i];
	struct sbuf why;
	char err[1024];
	enum rres rc;

	sbuf_init(&why);
	int c = runner_check_done(r, s, &why, err, sizeof(err));
	if (c < 0)
		rc = runner_fail(r, s, RR_FAILED, -1, "check: %s", err);
	else if (c == 1)
		rc = runner_journal_skip(r, s, "already done", why.buf);
	else if (s->def->prepares && !prepared_needed(r, i))
		rc = runner_journal_skip(r, s, "not needed",
					 "no later step of its phase has anything to do");
	/* Preconditions guard an action: a step whose effect is already there needs
	 * none, so a re-run on an upgraded cluster skips instead of refusing. */
	else if ((rc = requires_hold(r, s)) != RR_OK)
		;
	else if (s->kind == PSTEP_GATE)
		rc = pass_gate(r, s, t0);
	else if (s->kind == PSTEP_ASSERT)
		rc = runner_journal_done(r, s, -1, t0, NULL);
	else if (runner_told(s, r->o->mark_done, r->o->nmark_done)) {
		rc = runner_mark_done(r, s, t0, "operator (--mark-done)", err, sizeof(err));
		if (rc == RR_REFUSED)
			rc = runner_fail(r, s, RR_REFUSED, -1, "%s", err);
	} else if ((rc = runner_confirm(r, s, why.len ? why.buf : NULL)) == RR_PROCEED)
		rc = execute(r, s, t0);
	sbuf_release(&why);
	return rc;
}

enum rres runner_step(struct runner *r, int i)
{
	const struct plan_step *s = &r->plan->steps[i];
	struct stepstate *ss = &r->st[i];
	int64_t t0 = now_mono_ms();
	enum rres rc;

	if (ss->st == SS_DONE || (ss->st == SS_SKIPPED && !ss->op_skipped))
		return RR_OK;
	if (r->journal_broken)
		return RR_JOURNAL;
	r->operator_ms = 0;
	r->asked = 0;
	r->cur_step = i;
	if ((rc = phase_start(r, i)) != RR_OK)
		return rc;
	/* A step the operator skipped is offered again even when the rest of its phase is done. */
	if (r->phase_idle && ss->st != SS_BEGUN && !ss->op_skipped)
		return pass_idle(r, s);
	do {
		/* Facts read since the last change are still the world as it is now: no
		 * invalidation here (facts.h says when the cache is emptied). */
		if (!applies(r, s, &rc))
			return rc;
		if (ss->st == SS_BEGUN) {
			rc = runner_settle_inflight(r, s, ss, t0);
			if (rc != RR_PROCEED)
				return rc;
			ss->st = SS_PENDING;
		}
		/* Record before the check: the first value seen is the one to restore
		 * (and a check may compare against it, e.g. "restarted since we began"). */
		if ((rc = take_record(r, s)) != RR_OK)
			return rc;
		rc = step_body(r, i, t0);
	} while (rc == RR_AGAIN);
	return rc;
}
