/*
 * runner_step.c — one step instance through the state machine (DESIGN §4,
 * refined in docs/design.md): when -> record -> check (already done: skip)
 * -> require (fresh facts; false: refuse) -> gate / guided confirmation ->
 * begin -> run -> reboot -> verify -> done.  And the resume rule for a step
 * found `begun` with no end: re-probe it rather than guess.
 */
#include "runner_int.h"

#include <stdlib.h>
#include <string.h>

/* Record a failure, emit it, and return the exit code for it. */
int runner_fail(struct runner *r, const struct plan_step *s, int code, int exit_status,
		const char *fmt, ...)
{
	va_list ap;
	char *cause;

	/* A probe or transport failure after a stop request is the stop's doing
	 * (the transport aborts what runs): an interruption, exit 130, not a
	 * failure.  A command's own exit status stays a failure. */
	if (exit_status < 0 && code != EXIT_REFUSED && r->o->stop && *r->o->stop)
		return runner_stopped(r, s);
	va_start(ap, fmt);
	cause = xvasprintf(fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "cluster %s, node %s, step %s: %s%s", r->cl->name,
		 s->node ? s->node : "-", s->id, cause,
		 r->in_outage ? " -- THE OUTAGE IS ONGOING: the service is down until this step "
				"is fixed and the run resumed"
			      : "");
	json_t *rec = json_pack("{s:s}", "reason", cause);
	if (exit_status >= 0)
		json_object_set_new(rec, "exit", json_integer(exit_status));
	if (runner_journal(r, jev_name(code == EXIT_REFUSED ? JEV_REFUSED : JEV_FAILED), s, rec) <
	    0)
		code = EXIT_JOURNAL;
	struct event e =
	    runner_step_event(code == EXIT_REFUSED ? EV_STEP_REFUSED : EV_STEP_FAILED, s);
	e.exit = exit_status;
	e.text = r->err;
	runner_emit(r, &e);
	r->err_emitted = 1;
	free(cause);
	return code;
}

int runner_stopped(struct runner *r, const struct plan_step *s)
{
	snprintf(r->err, sizeof(r->err), "interrupted during step %s on %s; continue with: %s",
		 s->id, s->node ? s->node : "-", runner_resume_hint(r));
	runner_journal(r, jev_name(JEV_INTERRUPTED), s, NULL);
	return EXIT_INTERRUPTED;
}

/* Time the step ran since t0, without the time it waited for the operator. */
static int64_t ran_ms(const struct runner *r, int64_t t0)
{
	int64_t d = now_mono_ms() - t0 - r->operator_ms;
	return d > 0 ? d : 0;
}

static int journal_done(struct runner *r, const struct plan_step *s, int exit_status, int64_t t0,
			const char *by)
{
	int64_t ran = ran_ms(r, t0);
	json_t *rec = json_pack("{s:I}", "duration_ms", (json_int_t)ran);
	if (r->asked)
		json_object_set_new(rec, "operator_ms", json_integer(r->operator_ms));
	if (exit_status >= 0)
		json_object_set_new(rec, "exit", json_integer(exit_status));
	if (by)
		json_object_set_new(rec, "by", json_string(by));
	if (runner_journal(r, jev_name(JEV_DONE), s, rec) < 0)
		return EXIT_JOURNAL;
	struct event e = runner_step_event(EV_STEP_DONE, s);
	e.exit = exit_status;
	e.duration_ms = ran;
	e.wait_ms = r->operator_ms;
	e.text = by;
	runner_emit(r, &e);
	return 0;
}

static int journal_skip(struct runner *r, const struct plan_step *s, const char *reason,
			const char *detail)
{
	json_t *rec = json_pack("{s:s, s:s}", "reason", reason, "detail", detail);
	if (r->asked)
		json_object_set_new(rec, "operator_ms", json_integer(r->operator_ms));
	if (runner_journal(r, jev_name(JEV_SKIPPED), s, rec) < 0)
		return EXIT_JOURNAL;
	char *t = xasprintf("%s: %s", reason, detail);
	struct event e = runner_step_event(EV_STEP_SKIPPED, s);
	e.text = t;
	e.wait_ms = r->operator_ms;
	runner_emit(r, &e);
	free(t);
	return 0;
}

/* Ask the operator, counting the time it takes as waiting, not running. */
static int ask_timed(struct runner *r, const char *q, const char *choices)
{
	int64_t t = now_mono_ms();
	int c = r->o->ask ? r->o->ask(r->o->ask_arg, q, choices) : 'q';
	r->operator_ms += now_mono_ms() - t;
	r->asked = 1;
	return c;
}

/* Phase and step `when`, live.  1 applies, 0 not (journaled), or an exit code < 0. */
static int applies(struct runner *r, const struct plan_step *s, int *rc)
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
			*rc = runner_fail(r, s, EXIT_STEP_FAILED, -1, "when: %s", err);
			sbuf_release(&why);
			return 0;
		}
		if (!ok) {
			char *d = xasprintf("%s is false (%s)", expr_source(w[k]), why.buf);
			*rc = journal_skip(r, s, "not applicable", d);
			free(d);
		}
		sbuf_release(&why);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Every phase and step require on fresh facts.  0, or an exit code. */
static int requires_hold(struct runner *r, const struct plan_step *s)
{
	const struct phase_def *ph = s->phase;
	const struct step_def *d = s->def;
	int total = ph->nrequire + d->nrequire;

	for (int k = 0; k < total; k++) {
		const struct expr *e =
		    k < ph->nrequire ? ph->require[k] : d->require[k - ph->nrequire];
		const char *explain = k < ph->nrequire ? ph->explain : d->explain;
		struct sbuf why;
		char err[1024];
		int ok = 0, rc = 0;
		sbuf_init(&why);
		if (facts_eval(r->facts, e, s, NULL, r->saved, &ok, &why, err, sizeof(err)) < 0)
			rc = runner_fail(r, s, EXIT_STEP_FAILED, -1, "require: %s", err);
		else if (!ok)
			rc = runner_fail(
			    r, s, EXIT_REFUSED, -1,
			    "precondition refused before anything changed: `%s` is false "
			    "(seen: %s)%s%s",
			    expr_source(e), why.buf, explain ? ". " : "", explain ? explain : "");
		sbuf_release(&why);
		if (rc)
			return rc;
	}
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

static int take_record(struct runner *r, const struct plan_step *s)
{
	const struct record_spec *rs = s->def->record;
	char err[1024];
	char *value = NULL;
	int rc = 0;

	if (rs == NULL || saved_get(r->saved, s->node, rs->as, s->item))
		return 0;
	if (rs->fact) {
		const char *v = NULL;
		if (facts_get(r->facts, rs->fact, s->node, &v, NULL, err, sizeof(err)) < 0)
			return runner_fail(r, s, EXIT_STEP_FAILED, -1, "record %s: %s", rs->as,
					   err);
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
			return runner_fail(r, s, EXIT_STEP_FAILED, -1, "record %s: %s", rs->as,
					   err);
	}
	saved_set(r->saved, s->node, rs->as, s->item, value);
	json_t *rec = json_pack("{s:s, s:s, s:o}", "name", rs->as, "value", value, "item",
				s->item ? json_string(s->item) : json_null());
	if (runner_journal(r, jev_name(JEV_RECORD), s, rec) < 0)
		rc = EXIT_JOURNAL;
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

/* A human gate.  0 passed (journaled done), or an exit code. */
static int pass_gate(struct runner *r, const struct plan_step *s, int64_t t0)
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
		int c = ask_timed(r, q, "ynq");
		free(q);
		if (c != 'y') {
			runner_journal(r, jev_name(JEV_GATE), s,
				       json_pack("{s:s}", "answer", c == 'q' ? "quit" : "no"));
			snprintf(r->err, sizeof(r->err),
				 "gate %s not confirmed (%s); nothing was changed by it. When it "
				 "holds, continue from this step with: %s",
				 s->id, s->def->gate, runner_resume_hint(r));
			r->declined = 1;
			return c == 'q' ? EXIT_INTERRUPTED : EXIT_REFUSED;
		}
		by = "operator";
	}
	e.detail = by;
	runner_emit(r, &e);
	if (runner_journal(r, jev_name(JEV_GATE), s,
			   json_pack("{s:s, s:s}", "answer", "yes", "by", by)) < 0)
		return EXIT_JOURNAL;
	return journal_done(r, s, -1, t0, by);
}

static void show_details(struct runner *r, const struct plan_step *s)
{
	const struct step_def *d = s->def;
	struct sbuf t;
	sbuf_init(&t);
	sbuf_addf(&t, "details of \"%s\"", s->name);
	if (d->why)
		sbuf_addf(&t, "\n  why:     %s", d->why);
	if (s->command)
		sbuf_addf(&t, "\n  run:     %s", s->command);
	for (int i = 0; i < d->nrequire; i++)
		sbuf_addf(&t, "\n  require: %s", expr_source(d->require[i]));
	if (d->check.expr)
		sbuf_addf(&t, "\n  check:   %s", expr_source(d->check.expr));
	else if (s->check_cmd)
		sbuf_addf(&t, "\n  check:   %s =~ /%s/", s->check_cmd,
			  d->check.probe->expect ? d->check.probe->expect : "");
	if (d->verify.expr)
		sbuf_addf(&t, "\n  verify:  %s", expr_source(d->verify.expr));
	else if (s->verify_cmd)
		sbuf_addf(&t, "\n  verify:  %s =~ /%s/", s->verify_cmd,
			  d->verify.probe->expect ? d->verify.probe->expect : "");
	if (d->reboot.when != REBOOT_NEVER)
		sbuf_addf(&t, "\n  reboot:  %s", r->pb->reboot_command);
	sbuf_addf(&t, "\n  idempotent: %s", d->idempotent ? "yes" : "no");
	runner_emitf(r, EV_INFO, s, "%s", t.buf);
	sbuf_release(&t);
}

/* The plan's estimate of the outage step i begins: its estimate up to the step that ends it. */
static int64_t outage_estimate_ms(const struct runner *r, const struct plan_step *s)
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

/*
 * What the operator should weigh before answering: the outage this step
 * starts (what users lose, about how long) or the point of no return.
 * Sets *word to the word the answer must be, or NULL.  Caller frees.
 */
static char *stakes_of(struct runner *r, const struct plan_step *s, const char **word,
		       int64_t *outage_ms)
{
	const struct step_def *d = s->def;
	struct sbuf t;
	*word = NULL;
	*outage_ms = 0;
	sbuf_init(&t);
	if ((d->outage == OUTAGE_BEGINS || d->outage == OUTAGE_WITHIN) && !r->in_outage) {
		char est[32];
		*outage_ms = outage_estimate_ms(r, s);
		format_duration(*outage_ms, est, sizeof(est));
		sbuf_addf(&t, "THIS STEP STARTS AN OUTAGE of %s",
			  r->pb->service_name ? r->pb->service_name : "the service");
		if (*outage_ms > 0)
			sbuf_addf(&t, ", about %s by the plan's estimate", est);
		sbuf_addf(&t, ": %s.",
			  r->pb->outage_impact ? r->pb->outage_impact
					       : "users cannot use the service until it ends");
		*word = "outage";
	}
	if (d->point_of_no_return) {
		sbuf_addf(&t,
			  "%sTHIS STEP IS THE POINT OF NO RETURN: once it ran, the upgrade "
			  "cannot be rolled back by stopping here; only restoring from backup "
			  "undoes it.",
			  t.len ? " " : "");
		if (*word == NULL)
			*word = "proceed";
	}
	if (r->in_outage && t.len == 0) {
		char el[32];
		format_duration(now_wall_ms() - r->outage_wall, el, sizeof(el));
		sbuf_addf(&t, "the outage is ongoing (%s so far): users are waiting", el);
	}
	return t.len ? sbuf_detach(&t) : (sbuf_release(&t), NULL);
}

/* "cms.move-cms on NODE2: Move the CMS to the upgraded node", the step after s, or NULL. */
static char *next_step_text(const struct runner *r, const struct plan_step *s)
{
	for (int k = s->index; k < r->plan->nsteps; k++) {
		const struct plan_step *n = &r->plan->steps[k];
		if (n->applies == APPLIES_NO || r->st[k].st == SS_DONE || r->st[k].st == SS_SKIPPED)
			continue;
		return xasprintf("%s on %s: %s", n->id, n->node ? n->node : "-", n->name);
	}
	return xstrdup("nothing: this is the last step");
}

/*
 * Announce the step (EV_STEP_START, in every mode) and, in guided mode,
 * confirm it.  Returns 0 to run, 1 when the step was settled
 * (skipped or marked done by the operator), 2 to re-evaluate it, or an exit
 * code (< 0 never).  Every answer is journaled.  Read-only steps (waits,
 * HTTP checks) are shown and run without a question.  A step that starts
 * an outage or is the point of no return says so and wants a word typed.
 */
static int confirm(struct runner *r, const struct plan_step *s, const char *found, int *rc)
{
	static const char *names[] = {"yes", "skip", "details", "retry", "mark-done", "quit"};
	static const char letters[] = "ysdrmq";
	const char *word = NULL;
	int64_t outage_ms = 0;

	char *stakes = stakes_of(r, s, &word, &outage_ms);
	char *next = next_step_text(r, s);
	struct event e = runner_step_event(EV_STEP_START, s);
	e.command = s->kind == PSTEP_REBOOT ? r->pb->reboot_command : s->command;
	e.text = s->def->why;
	e.detail = found;
	e.next = next;
	e.stakes = stakes;
	e.word = word;
	e.budget_ms = outage_ms;
	runner_emit(r, &e);
	free(next);
	if (r->o->ask == NULL || r->retrying || s->kind == PSTEP_WAIT || s->kind == PSTEP_HTTP) {
		r->retrying = 0;
		free(stakes);
		return 0; /* read-only, or the operator just asked to retry it */
	}
	free(stakes);
	for (;;) {
		char *q;
		if (word)
			q = xasprintf("Type '%s' to run %s on %s, or [s]kip [d]etails [r]etry "
				      "[m]ark-done [q]uit",
				      word, s->id, s->node ? s->node : "-");
		else
			q = xasprintf("Run %s on %s? [y]es [s]kip [d]etails [r]etry [m]ark-done "
				      "[q]uit",
				      s->id, s->node ? s->node : "-");
		char *choices = word ? xasprintf("=%s:sdrmq", word) : xstrdup(letters);
		int c = ask_timed(r, q, choices);
		free(q);
		free(choices);
		const char *p = strchr(letters, c);
		if (p == NULL)
			continue;
		if (runner_journal(r, jev_name(JEV_ANSWER), s,
				   json_pack("{s:s}", "answer", names[p - letters])) < 0) {
			*rc = EXIT_JOURNAL;
			return 3;
		}
		switch (c) {
		case 'y':
			return 0;
		case 'd':
			show_details(r, s);
			continue;
		case 'r':
			return 2;
		case 's':
			*rc = journal_skip(r, s, "skipped by the operator", "guided answer");
			return 1;
		case 'm':
			*rc = journal_done(r, s, -1, now_mono_ms(), "operator");
			return 1;
		default:
			snprintf(
			    r->err, sizeof(r->err),
			    "stopped by the operator before step %s; continue from here with: %s",
			    s->id, runner_resume_hint(r));
			*rc = EXIT_INTERRUPTED;
			return 3;
		}
	}
}

static int outage_mark(struct runner *r, const struct plan_step *s, int begin)
{
	const char *ev = jev_name(begin ? JEV_OUTAGE_START : JEV_OUTAGE_END);
	int64_t wall = now_wall_ms();
	json_t *rec = json_pack("{s:I}", "wall_ms", (json_int_t)wall);
	if (!begin)
		json_object_set_new(rec, "duration_ms", json_integer(wall - r->outage_wall));
	if (runner_journal(r, ev, s, rec) < 0)
		return EXIT_JOURNAL;
	struct event e = runner_step_event(begin ? EV_OUTAGE_START : EV_OUTAGE_END, s);
	e.duration_ms = begin ? 0 : wall - r->outage_wall;
	e.text = r->pb->outage_impact;
	e.detail = r->pb->service_name;
	e.budget_ms = begin ? outage_estimate_ms(r, s) : 0;
	runner_emit(r, &e);
	r->in_outage = begin;
	if (begin)
		r->outage_wall = wall;
	return 0;
}

static int verify_step(struct runner *r, const struct plan_step *s, int exit_status)
{
	const struct cond *v = &s->def->verify;
	struct sbuf why;
	char err[1024];
	int rc = 0;

	if (v->expr == NULL && v->probe == NULL)
		return 0;
	sbuf_init(&why);
	facts_invalidate(r->facts);
	int ok = facts_cond(r->facts, v, s->verify_cmd, s, r->saved, &why, err, sizeof(err));
	if (ok < 0)
		rc = runner_fail(r, s, EXIT_STEP_FAILED, exit_status, "verify: %s", err);
	else if (!ok)
		rc = runner_fail(
		    r, s, EXIT_STEP_FAILED, exit_status,
		    "verify failed after the command succeeded: `%s` is false (seen: %s)",
		    v->expr ? expr_source(v->expr) : s->verify_cmd, why.buf);
	sbuf_release(&why);
	return rc;
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
static int execute(struct runner *r, const struct plan_step *s, int64_t t0)
{
	const struct step_def *d = s->def;
	char *boot = NULL;
	char err[1024];
	int rc = 0, exit_status = -1;

	/* The first change of this process's run takes the marker on the cluster: a
	 * run with nothing to do leaves no trace there. */
	if (!r->marker_held && (rc = runner_marker_take(r)))
		return rc;
	if (d->reboot.when != REBOOT_NEVER &&
	    runner_boot_id(r, s->node, &boot, err, sizeof(err)) < 0)
		return runner_fail(r, s, EXIT_STEP_FAILED, -1, "before the reboot: %s", err);
	if ((d->outage == OUTAGE_BEGINS || d->outage == OUTAGE_WITHIN) && !r->in_outage &&
	    (rc = outage_mark(r, s, 1)))
		goto out;
	json_t *rec = json_pack("{s:I}", "wall_ms", (json_int_t)now_wall_ms());
	if (s->command)
		json_object_set_new(rec, "command", json_string(s->command));
	if (boot)
		json_object_set_new(rec, "boot_id", json_string(boot));
	if (runner_journal(r, jev_name(JEV_BEGIN), s, rec) < 0) {
		rc = EXIT_JOURNAL;
		goto out;
	}
	if (s->kind == PSTEP_RUN)
		rc = runner_run_command(r, s, &exit_status);
	else if (s->kind == PSTEP_WAIT)
		rc = runner_wait_until(r, s);
	else if (s->kind == PSTEP_HTTP)
		rc = runner_http_step(r, s);
	if (rc)
		goto out;
	facts_invalidate(r->facts);
	if (needs_reboot(d, exit_status)) {
		int rr = runner_reboot(r, s, boot, 1, 0, err, sizeof(err));
		if (rr == 2) {
			rc = runner_stopped(r, s);
			goto out;
		}
		if (rr) {
			rc = runner_fail(r, s, EXIT_STEP_FAILED, exit_status, "%s", err);
			goto out;
		}
	}
	if ((rc = verify_step(r, s, exit_status)))
		goto out;
	if ((rc = journal_done(r, s, exit_status, t0, NULL)))
		goto out;
	if ((d->outage == OUTAGE_ENDS || d->outage == OUTAGE_WITHIN) && r->in_outage)
		rc = outage_mark(r, s, 0);
out:
	free(boot);
	return rc;
}

/*
 * The journal says this step began and never ended: the last run stopped in
 * the middle of it.  A reboot step is settled by the boot id; any step by
 * its check; an idempotent step may simply run again; anything else is the
 * operator's decision, never a guess.  Returns 0 when settled (done), 1 to
 * run the step normally, or an exit code.
 */
static int settle_inflight(struct runner *r, const struct plan_step *s, struct stepstate *ss,
			   int64_t t0)
{
	const struct step_def *d = s->def;
	char err[1024];
	struct sbuf why;
	int rc = 1;

	runner_emitf(r, EV_WARN, s, "step was in progress when the last run stopped; re-probing");
	if (d->reboot.when != REBOOT_NEVER && ss->boot_id) {
		/*
		 * The journal has the boot id from before the reboot.  Changed: it
		 * happened.  Unchanged: the node may still be going down, so give it a
		 * short grace (counted from `begin`) before deciding it never got the
		 * command and issuing it again: a node is never rebooted twice.
		 */
		int64_t down = runner_budget(r, d->reboot.down_timeout_ms);
		int64_t grace = down < 15000 ? down : 15000;
		grace -= now_wall_ms() - ss->begin_wall;
		int rr = runner_reboot(r, s, ss->boot_id, 0, grace > 200 ? grace : 200, err,
				       sizeof(err));
		if (rr == 2)
			return runner_stopped(r, s);
		if (rr == 0) {
			if ((rc = verify_step(r, s, -1)))
				return rc;
			return journal_done(r, s, -1, t0, "resume: reboot observed");
		}
		if (rr != 4)
			return runner_fail(r, s, EXIT_STEP_FAILED, -1, "%s", err);
		runner_emitf(r, EV_INFO, s, "the reboot had not happened: issuing it again");
	}
	sbuf_init(&why);
	facts_invalidate(r->facts);
	int c = runner_check_done(r, s, &why, err, sizeof(err));
	if (c == 1) {
		runner_emitf(r, EV_INFO, s, "its check says it is done (%s)", why.buf);
		sbuf_release(&why);
		if ((rc = verify_step(r, s, -1)))
			return rc;
		rc = journal_done(r, s, -1, t0, "resume: check satisfied");
		if (rc == 0 && (d->outage == OUTAGE_ENDS || d->outage == OUTAGE_WITHIN) &&
		    r->in_outage)
			rc = outage_mark(r, s, 0);
		return rc;
	}
	sbuf_release(&why);
	if (d->idempotent || s->kind != PSTEP_RUN || d->reboot.when == REBOOT_ALWAYS)
		return 1; /* safe to do again (a reboot that did not happen is re-issued) */
	if (r->o->ask) {
		char *q = xasprintf("%s on %s was interrupted and may have run; it is not "
				    "idempotent. [r]un it again, [m]ark it done, [q]uit?",
				    s->id, s->node);
		int a = ask_timed(r, q, "rmq");
		free(q);
		runner_journal(r, jev_name(JEV_ANSWER), s,
			       json_pack("{s:s}", "answer",
					 a == 'r'   ? "retry"
					 : a == 'm' ? "mark-done"
						    : "quit"));
		if (a == 'r')
			return 1;
		if (a == 'm')
			return journal_done(r, s, -1, t0, "operator");
	}
	snprintf(
	    r->err, sizeof(r->err),
	    "cluster %s, node %s, step %s was interrupted while running `%s`; it may have run, "
	    "its check does not show it done, and it is not idempotent. Inspect the node, then "
	    "run `ccrup resume` in a terminal to decide (run again or mark done)",
	    r->cl->name, s->node, s->id, s->command);
	return EXIT_STEP_FAILED;
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
 * At the start of a phase: announce it, and keep the maintenance window.  A
 * phase whose estimated end passes the window is not begun, so a cluster is
 * never left half-way through a phase (above all the CMS phase).
 */
static int phase_start(struct runner *r, int i)
{
	const struct plan_step *s = &r->plan->steps[i];
	int begun = 0;
	if (r->cur_phase == s->phase)
		return 0;
	r->cur_phase = s->phase;
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
			runner_journal(r, jev_name(JEV_WINDOW), s,
				       json_pack("{s:s, s:I, s:I}", "phase", s->phase->id,
						 "needed_ms", (json_int_t)need, "left_ms",
						 (json_int_t)left));
			return EXIT_REFUSED;
		}
		if (left < 2 * need || left < 15 * 60 * 1000)
			runner_emitf(r, EV_WARN, s,
				     "maintenance window ends in %s; phase %s needs about %s", b,
				     s->phase->id, a);
	}
	/* Another run may have taken the cluster meanwhile: never start a phase then. */
	int mrc = runner_marker_check(r);
	if (mrc)
		return mrc;
	struct event e = {.kind = EV_PHASE_START,
			  .phase = s->phase->id,
			  .text = s->phase->name,
			  .node = s->node,
			  .index = s->index,
			  .exit = -1};
	runner_emit(r, &e);
	return 0;
}

int runner_step(struct runner *r, int i)
{
	const struct plan_step *s = &r->plan->steps[i];
	struct stepstate *ss = &r->st[i];
	int64_t t0 = now_mono_ms();
	char err[1024];
	int rc = 0;

	if (ss->st == SS_DONE || ss->st == SS_SKIPPED)
		return 0;
	if (r->journal_broken)
		return EXIT_JOURNAL;
	r->operator_ms = 0;
	r->asked = 0;
	if ((rc = phase_start(r, i)))
		return rc;
again:
	facts_invalidate(r->facts);
	if (!applies(r, s, &rc))
		return rc;
	if (ss->st == SS_BEGUN) {
		rc = settle_inflight(r, s, ss, t0);
		ss->st = SS_PENDING;
		if (rc != 1)
			return rc;
	}
	/* Record before the check: the first value seen is the one to restore (and a
	 * check may compare against it, e.g. "restarted since we began"). */
	if ((rc = take_record(r, s)))
		return rc;
	struct sbuf why;
	sbuf_init(&why);
	int c = runner_check_done(r, s, &why, err, sizeof(err));
	if (c < 0) {
		sbuf_release(&why);
		return runner_fail(r, s, EXIT_STEP_FAILED, -1, "check: %s", err);
	}
	if (c == 1) {
		rc = journal_skip(r, s, "already done", why.buf);
		sbuf_release(&why);
		return rc;
	}
	/* Preconditions guard an action: a step whose effect is already there needs none,
	 * so a re-run on an upgraded cluster skips instead of refusing. */
	if ((rc = requires_hold(r, s))) {
		sbuf_release(&why);
		return rc;
	}
	if (s->kind == PSTEP_GATE) {
		sbuf_release(&why);
		return pass_gate(r, s, t0);
	}
	if (s->kind == PSTEP_ASSERT) {
		sbuf_release(&why);
		return journal_done(r, s, -1, t0, NULL);
	}
	int k = confirm(r, s, why.len ? why.buf : NULL, &rc);
	sbuf_release(&why);
	if (k == 2)
		goto again;
	if (k)
		return rc;
	return execute(r, s, t0);
}
