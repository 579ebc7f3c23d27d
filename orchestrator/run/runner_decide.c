/*
 * runner_decide.c — the operator's decisions in the step machine: the
 * guided prompt (run, skip, details, retry, mark done, quit), a step found
 * in flight by a resumed run, and the word given on the command line
 * (resume --mark-done STEP, --retry STEP).
 *
 * Two rules keep one answer from stranding a cluster.  A step inside the
 * outage window, the point of no return, or a step whose effect a later
 * `require` reads is not skipped or marked done on one key: the operator
 * confirms a second question naming why.  Marking a step done runs its
 * verify live and is refused while it is false.  And a skipped step stays
 * pending: the run does not end "done" past it, and `resume` offers it.
 */
#include "runner_int.h"

#include <stdlib.h>
#include <string.h>

int runner_told(const struct plan_step *s, const char *const *list, int n)
{
	for (int i = 0; i < n; i++) {
		const char *at = strchr(list[i], '@');
		size_t len = at ? (size_t)(at - list[i]) : strlen(list[i]);
		if (strlen(s->id) != len || strncmp(s->id, list[i], len) != 0)
			continue;
		if (at == NULL || (s->node && str_ieq(at + 1, s->node)))
			return 1;
	}
	return 0;
}

struct idents {
	const char *names[32];
	int n;
};

static int add_ident(const char *name, int col, void *arg)
{
	struct idents *id = arg;
	(void)col;
	if (id->n < (int)CCR_ARRAY_LEN(id->names))
		id->names[id->n++] = name;
	return 0;
}

/* The fact part of an identifier: "active.binaries_version" -> "binaries_version". */
static const char *fact_part(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && !str_startswith(name, "saved.") ? dot + 1 : name;
}

/* Does e read one of the facts in id?  Role-qualified names count by their fact. */
static int reads_any(const struct expr *e, const struct idents *id)
{
	struct idents mine = {.n = 0};
	expr_foreach_ident(e, add_ident, &mine);
	for (int i = 0; i < mine.n; i++)
		for (int k = 0; k < id->n; k++)
			if (strcmp(fact_part(mine.names[i]), fact_part(id->names[k])) == 0 &&
			    strcmp(fact_part(id->names[k]), "node") != 0 &&
			    !str_startswith(id->names[k], "saved."))
				return 1;
	return 0;
}

/* A later step's require that reads what s's check or verify reads, or NULL. */
static const struct expr *later_require(const struct runner *r, const struct plan_step *s,
					const struct plan_step **who)
{
	struct idents id = {.n = 0};
	if (s->def->check.expr)
		expr_foreach_ident(s->def->check.expr, add_ident, &id);
	if (s->def->verify.expr)
		expr_foreach_ident(s->def->verify.expr, add_ident, &id);
	if (id.n == 0)
		return NULL;
	for (int k = s->index; k < r->plan->nsteps; k++) {
		const struct plan_step *t = &r->plan->steps[k];
		int total = t->phase->nrequire + t->def->nrequire;
		for (int q = 0; q < total; q++) {
			const struct expr *e = q < t->phase->nrequire
						   ? t->phase->require[q]
						   : t->def->require[q - t->phase->nrequire];
			if (reads_any(e, &id)) {
				*who = t;
				return e;
			}
		}
	}
	return NULL;
}

const char *runner_guard_reason(struct runner *r, const struct plan_step *s, char *buf,
				size_t buflen)
{
	const struct plan_step *who = NULL;
	const struct expr *e;

	if (r->in_outage || s->def->outage != OUTAGE_NONE)
		return "it is inside the outage window: users stay without the service until it "
		       "is done";
	if (s->def->point_of_no_return)
		return "it is the point of no return of the upgrade";
	if ((e = later_require(r, s, &who)) != NULL) {
		snprintf(buf, buflen, "a later step (%s on %s) requires `%s`, which depends on it",
			 who->id, who->node ? who->node : "-", expr_source(e));
		return buf;
	}
	return NULL;
}

enum rres runner_mark_done(struct runner *r, const struct plan_step *s, int64_t t0, const char *by,
			   char *why, size_t whylen)
{
	const struct cond *c =
	    s->def->verify.expr || s->def->verify.probe ? &s->def->verify : &s->def->check;
	const char *cmd = c == &s->def->verify ? s->verify_cmd : s->check_cmd;
	const char *what = c == &s->def->verify ? "verify" : "check";
	struct sbuf seen;
	char err[1024];

	if (c->expr == NULL && c->probe == NULL)
		return runner_journal_done(r, s, -1, t0, by);
	sbuf_init(&seen);
	facts_invalidate(r->facts);
	int ok = facts_cond(r->facts, c, cmd, s, r->saved, &seen, err, sizeof(err));
	if (ok == 1) {
		runner_emitf(r, EV_INFO, s, "marked done: its %s holds (%s)", what, seen.buf);
		sbuf_release(&seen);
		return runner_journal_done(r, s, -1, t0, by);
	}
	if (ok < 0)
		snprintf(why, whylen, "cannot mark %s done: its %s could not be evaluated: %s",
			 s->id, what, err);
	else
		snprintf(why, whylen,
			 "cannot mark %s done: its %s `%s` is false on %s (seen: %s); finish it "
			 "first, or run it",
			 s->id, what, c->expr ? expr_source(c->expr) : cmd, s->node ? s->node : "-",
			 seen.buf);
	sbuf_release(&seen);
	return RR_REFUSED;
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
		*outage_ms = runner_outage_estimate_ms(r, s);
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

static int journal_answer(struct runner *r, const struct plan_step *s, const char *answer,
			  const char *by)
{
	json_t *rec = json_pack("{s:s}", "answer", answer);
	if (by)
		json_object_set_new(rec, "by", json_string(by));
	return runner_journal(r, "answer", s, rec);
}

/*
 * A guarded step is skipped or marked done only after a second question
 * that says why it matters.  1 confirmed (or not guarded), 0 not.
 */
static int confirm_guarded(struct runner *r, const struct plan_step *s, int skip)
{
	char buf[512];
	const char *why = runner_guard_reason(r, s, buf, sizeof(buf));
	if (why == NULL)
		return 1;
	char *q = xasprintf("%s %s although %s? [y]es, %s [n]o, back", skip ? "Skip" : "Mark done",
			    s->id, why, skip ? "skip it" : "mark it done");
	int c = runner_ask(r, q, "yn");
	free(q);
	journal_answer(r, s, c == 'y' ? "confirm" : "cancel", NULL);
	return c == 'y';
}

/*
 * Quitting while an outage runs leaves users without the service until someone
 * resumes: one key is not enough, as for skip and mark-done.  1 confirmed (or
 * no outage running), 0 not.
 */
static int confirm_quit(struct runner *r, const struct plan_step *s)
{
	if (!r->in_outage)
		return 1;
	char *q = xasprintf("Quit before %s while the outage is ongoing? Users stay without the "
			    "service until `ccrup resume` ends it. [y]es, quit [n]o, back",
			    s->id);
	int c = runner_ask(r, q, "yn");
	free(q);
	/* 'q': the input is gone (end of file): there is nobody left to ask */
	journal_answer(r, s, c == 'y' || c == 'q' ? "confirm" : "cancel", NULL);
	return c == 'y' || c == 'q';
}

/* The operator skips s: journaled, and it stays pending for `resume`. */
static enum rres operator_skip(struct runner *r, const struct plan_step *s)
{
	struct stepstate *ss = &r->st[s->index - 1];
	if (runner_journal_skip(r, s, REPLAY_SKIP_OPERATOR,
				"guided answer; the step stays pending and `ccrup resume` offers "
				"it again") != RR_OK)
		return RR_JOURNAL;
	ss->st = SS_SKIPPED;
	ss->op_skipped = 1;
	return RR_OK;
}

/* The operator marks s done: 1 settled (*rc), 0 refused (told, ask again). */
static int operator_mark(struct runner *r, const struct plan_step *s, enum rres *rc)
{
	char why[1024];
	*rc = runner_mark_done(r, s, now_mono_ms(), "operator", why, sizeof(why));
	if (*rc != RR_REFUSED)
		return 1;
	runner_emitf(r, EV_WARN, s, "%s", why);
	return 0;
}

enum rres runner_confirm(struct runner *r, const struct plan_step *s, const char *found)
{
	static const char *names[] = {"yes", "skip", "details", "retry", "mark-done", "quit"};
	static const char letters[] = "ysdrmq";
	const char *word = NULL;
	int64_t outage_ms = 0;
	enum rres rc;

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
	free(stakes);
	if (r->o->ask == NULL || r->retrying || s->kind == PSTEP_WAIT || s->kind == PSTEP_HTTP) {
		r->retrying = 0;
		return RR_PROCEED; /* read-only, or the operator just asked to retry it */
	}
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
		int c = runner_ask(r, q, choices);
		free(q);
		free(choices);
		const char *p = strchr(letters, c);
		if (p == NULL)
			continue;
		if (journal_answer(r, s, names[p - letters], NULL) < 0)
			return RR_JOURNAL;
		switch (c) {
		case 'y':
			return RR_PROCEED;
		case 'd':
			show_details(r, s);
			continue;
		case 'r':
			return RR_AGAIN;
		case 's':
			if (!confirm_guarded(r, s, 1))
				continue;
			return operator_skip(r, s);
		case 'm':
			if (!confirm_guarded(r, s, 0))
				continue;
			if (operator_mark(r, s, &rc))
				return rc;
			continue;
		default:
			if (!confirm_quit(r, s))
				continue;
			snprintf(
			    r->err, sizeof(r->err),
			    "stopped by the operator before step %s; continue from here with: %s",
			    s->id, runner_resume_hint(r));
			return RR_INTERRUPTED;
		}
	}
}

/* A reboot step found in flight: settled by the boot id.  RR_PROCEED: not rebooted yet. */
static enum rres settle_reboot(struct runner *r, const struct plan_step *s, struct stepstate *ss,
			       int64_t t0)
{
	char err[1024];
	enum rres rc;
	/*
	 * The journal has the boot id from before the reboot.  Changed: it
	 * happened.  Unchanged: the node may still be going down, so give it a
	 * short grace (counted from `begin`) before deciding it never got the
	 * command and issuing it again: a node is never rebooted twice.
	 */
	int64_t down = runner_budget(r, s->def->reboot.down_timeout_ms);
	int64_t grace = down < 15000 ? down : 15000;
	grace -= now_wall_ms() - ss->begin_wall;
	enum reboot_res rr =
	    runner_reboot(r, s, ss->boot_id, 0, grace > 200 ? grace : 200, err, sizeof(err));
	switch (rr) {
	case RB_STOPPED:
		return runner_stopped(r, s);
	case RB_OK:
		if ((rc = runner_verify(r, s, -1)) != RR_OK)
			return rc;
		return runner_journal_done(r, s, -1, t0, "resume: reboot observed");
	case RB_FAILED:
		return runner_fail(r, s, RR_FAILED, -1, "%s", err);
	case RB_NOT_DOWN:
		break;
	}
	runner_emitf(r, EV_INFO, s, "the reboot had not happened: issuing it again");
	return RR_PROCEED;
}

/* Only the operator can say whether an interrupted, non-idempotent s ran. */
static enum rres ask_inflight(struct runner *r, const struct plan_step *s, int64_t t0,
			      const char *seen)
{
	char why[1024];
	enum rres rc;

	if (runner_told(s, r->o->retry, r->o->nretry)) {
		if (journal_answer(r, s, "retry", "--retry") < 0)
			return RR_JOURNAL;
		runner_emitf(r, EV_INFO, s, "running it again as told (--retry)");
		return RR_PROCEED;
	}
	if (runner_told(s, r->o->mark_done, r->o->nmark_done)) {
		rc = runner_mark_done(r, s, t0, "operator (--mark-done)", why, sizeof(why));
		return rc == RR_REFUSED ? runner_fail(r, s, RR_REFUSED, -1, "%s", why) : rc;
	}
	while (r->o->ask) {
		char *q = xasprintf("%s on %s was interrupted and may have run; it is not "
				    "idempotent. [r]un it again [m]ark it done [d]etails [q]uit",
				    s->id, s->node);
		int a = runner_ask(r, q, "rmdq");
		free(q);
		if (journal_answer(r, s,
				   a == 'r'   ? "retry"
				   : a == 'm' ? "mark-done"
				   : a == 'd' ? "details"
					      : "quit",
				   NULL) < 0)
			return RR_JOURNAL;
		if (a == 'r')
			return RR_PROCEED;
		if (a == 'd') {
			show_details(r, s);
			continue;
		}
		if (a == 'm' && operator_mark(r, s, &rc))
			return rc;
		if (a == 'm')
			continue;
		snprintf(r->err, sizeof(r->err),
			 "stopped by the operator at step %s, which may have run; continue "
			 "with: %s (it asks again)",
			 s->id, runner_resume_hint(r));
		return RR_INTERRUPTED;
	}
	snprintf(r->err, sizeof(r->err),
		 "cluster %s, node %s, step %s was interrupted while running `%s`; it may have "
		 "run. Its check does not show it done (%s) and it is not idempotent, so ccrup "
		 "does not run it again by itself. Check on %s whether it ran, then tell ccrup: "
		 "`ccrup resume %s --mark-done %s@%s` if it did (its verify is checked live "
		 "first), or `ccrup resume %s --retry %s@%s` to run it again",
		 r->cl->name, s->node, s->id, s->command, seen, s->node, r->inv->path, s->id,
		 s->node, r->inv->path, s->id, s->node);
	return RR_UNDECIDED;
}

enum rres runner_settle_inflight(struct runner *r, const struct plan_step *s, struct stepstate *ss,
				 int64_t t0)
{
	const struct step_def *d = s->def;
	char err[1024];
	struct sbuf why;
	enum rres rc;

	runner_emitf(r, EV_WARN, s, "step was in progress when the last run stopped; re-probing");
	if (d->reboot.when != REBOOT_NEVER && ss->boot_id &&
	    (rc = settle_reboot(r, s, ss, t0)) != RR_PROCEED)
		return rc;
	sbuf_init(&why);
	facts_invalidate(r->facts);
	int c = runner_check_done(r, s, &why, err, sizeof(err));
	if (c == 1) {
		runner_emitf(r, EV_INFO, s, "its check says it is done (%s)", why.buf);
		sbuf_release(&why);
		if ((rc = runner_verify(r, s, -1)) != RR_OK)
			return rc;
		rc = runner_journal_done(r, s, -1, t0, "resume: check satisfied");
		if (rc == RR_OK && (d->outage == OUTAGE_ENDS || d->outage == OUTAGE_WITHIN) &&
		    r->in_outage)
			rc = runner_outage_mark(r, s, 0);
		return rc;
	}
	if (d->idempotent || s->kind != PSTEP_RUN || d->reboot.when == REBOOT_ALWAYS) {
		sbuf_release(&why);
		return RR_PROCEED; /* safe to do again (a reboot that did not happen is re-issued)
				    */
	}
	char *seen;
	if (c < 0)
		seen = xasprintf("it could not be evaluated: %s", err);
	else if (d->check.expr || d->check.probe)
		seen = xasprintf(
		    "`%s`: %s", d->check.expr ? expr_source(d->check.expr) : s->check_cmd, why.buf);
	else
		seen = xstrdup("it has no check");
	sbuf_release(&why);
	enum rres rr = ask_inflight(r, s, t0, seen);
	free(seen);
	return rr;
}
