/*
 * runner_exec.c — the parts of a step that act: run its command (timeout,
 * retries with backoff, ok_exit, reconnect after a drop and ask the node
 * whether the command took effect), poll a wait condition, and perform an
 * HTTP check (its JSON expectations: httpexpect.c).  The state machine around them is in
 * runner_step.c.
 */
#include "runner_int.h"

#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "httpexpect.h"
#include "textsafe.h"

#define OUTPUT_CAP (1u << 20)

static int ok_exit(const struct step_def *d, int code)
{
	if (d->nok_exit == 0)
		return code == 0;
	for (int i = 0; i < d->nok_exit; i++)
		if (d->ok_exit[i] == code)
			return 1;
	return 0;
}

struct out_ctx {
	struct runner *r;
	const struct plan_step *s;
};

static void on_output(int stream, const char *data, size_t len, void *arg)
{
	struct out_ctx *oc = arg;
	char *text = xstrndup(data, len);
	struct event e = runner_step_event(EV_CMD_OUTPUT, oc->s);
	e.text = text;
	e.exit = stream;
	runner_emit(oc->r, &e);
	free(text);
}

static void emit_cmd_end(struct runner *r, const struct plan_step *s, const char *cmd,
			 const struct xport_result *res)
{
	struct event e = runner_step_event(EV_CMD_END, s);
	e.command = cmd;
	e.exit = res->exit;
	e.duration_ms = res->duration_ms;
	e.text = res->out.buf;
	e.detail = res->err.buf;
	runner_emit(r, &e);
}

#define DETAIL_LINES 20 /* lines of each stream [d]etails shows */

/* The last n lines of text, each indented; *cut: lines left out before them. */
static void tail_lines(struct sbuf *sb, const char *text, int n, int *cut)
{
	const char *end = text + strlen(text), *p = end;
	int lines = 0;

	while (p > text && (p[-1] == '\n' || p[-1] == '\r' || p[-1] == ' '))
		p--;
	end = p;
	while (p > text && lines < n) {
		p--;
		if (*p == '\n' && ++lines == n) {
			p++;
			break;
		}
	}
	*cut = 0;
	for (const char *q = text; q < p; q++)
		*cut += *q == '\n';
	while (p < end) {
		size_t len = strcspn(p, "\n");
		if ((size_t)(end - p) < len)
			len = (size_t)(end - p);
		while (len > 0 && p[len - 1] == '\r')
			len--;
		sbuf_addf(sb, "\n      %.*s", (int)len, p);
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
	}
}

/* What [d]etails shows of a step command's run: exit, and the last lines of each stream. */
static char *output_tail(const char *cmd, const struct xport_result *res)
{
	struct sbuf sb;
	int cut;

	sbuf_init(&sb);
	sbuf_addf(&sb, "    command: %s", cmd);
	if (res->outcome == XPORT_OK)
		sbuf_addf(&sb, "\n    exit:    %d, after %lld ms", res->exit,
			  (long long)res->duration_ms);
	for (int k = 0; k < 2; k++) {
		const struct sbuf *o = k == 0 ? &res->out : &res->err;
		if (o->len == 0)
			continue;
		struct sbuf lines;
		sbuf_init(&lines);
		tail_lines(&lines, o->buf, DETAIL_LINES, &cut);
		sbuf_addf(&sb, "\n    %s%s:", k == 0 ? "stdout" : "stderr",
			  cut > 0 ? " (its last lines; the audit log has all)" : "");
		sbuf_add(&sb, lines.buf, lines.len);
		sbuf_release(&lines);
	}
	return sbuf_detach(&sb);
}

/* First line of a command's error output, for messages. */
static char *first_line(const struct xport_result *res)
{
	const char *t = res->err.len ? res->err.buf : res->out.buf;
	while (*t == '\n' || *t == '\r' || *t == ' ')
		t++;
	size_t n = strcspn(t, "\r\n");
	return xstrndup(t, n > 200 ? 200 : n);
}

/*
 * Run the step's command with its timeout and retries.  A dropped
 * connection is reconnected; then the step's check decides whether the
 * command took effect, and only an idempotent step is run again.
 */
enum rres runner_run_command(struct runner *r, const struct plan_step *s, int *exit_status)
{
	const struct step_def *d = s->def;
	struct xport *x = conns_get(r->conns, s->node);
	int64_t timeout =
	    runner_budget(r, d->timeout_ms ? d->timeout_ms : r->inv->ssh.command_timeout_ms);
	int64_t delay = d->retry_delay_ms ? d->retry_delay_ms : 5000;
	struct out_ctx oc = {r, s};

	for (int attempt = 0;; attempt++) {
		/* Write-ahead: the `begin` (and all before it) on disk before the command. */
		if (runner_journal_sync(r, s) < 0)
			return RR_JOURNAL;
		struct xport_result res;
		xport_result_init(&res);
		struct event ev = runner_step_event(EV_CMD_START, s);
		ev.text = s->command;
		ev.command = s->command;
		ev.budget_ms = timeout;
		runner_emit(r, &ev);
		enum xport_outcome o = xport_exec(x, s->command, timeout, OUTPUT_CAP, on_output,
						  &oc, r->o->stop, &res);
		emit_cmd_end(r, s, s->command, &res);
		free(r->last_output);
		r->last_output = output_tail(s->command, &res);
		r->last_output_of = s;
		*exit_status = res.exit;
		char *line = first_line(&res);
		char *why = NULL;
		int done = 0;
		enum rres rc = RR_OK;
		if (o == XPORT_OK && ok_exit(d, res.exit)) {
			done = 1;
			free(r->run_said);
			r->run_said = res.exit != 0 ? xstrdup(line) : NULL;
		} else if (o == XPORT_STOPPED)
			rc = runner_stopped(r, s);
		else if (o == XPORT_OK)
			why = xasprintf("`%s` exited %d: %s", s->command, res.exit, line);
		else if (o == XPORT_DROPPED && d->check.expr == NULL && d->check.probe == NULL &&
			 !d->idempotent)
			rc = runner_fail(
			    r, s, RR_FAILED, -1,
			    "connection lost during `%s`; whether it ran is unknown and "
			    "the step is not idempotent: look at the node, then resume",
			    s->command);
		else if (o == XPORT_TIMEOUT) {
			char t[32];
			format_duration(timeout, t, sizeof(t));
			why = xasprintf("`%s` did not finish within %s (%s)", s->command, t,
					xport_error(x));
		} else
			why = xasprintf("%s", xport_error(x));
		free(line);
		xport_result_release(&res);
		if (done || rc)
			return rc;
		if (o == XPORT_DROPPED || o == XPORT_CONNECT_FAILED) {
			/* Reconnect, then ask the node whether the command took effect. */
			enum xport_outcome co =
			    xport_connect_retry(x, r->inv->ssh.connect_timeout_ms * 3, r->o->stop);
			char err[1024];
			if (co == XPORT_OK && o == XPORT_DROPPED) {
				facts_invalidate(r->facts);
				if (runner_check_done(r, s, NULL, err, sizeof(err)) == 1) {
					free(why);
					*exit_status = -1;
					return RR_OK;
				}
			}
		}
		if (attempt >= d->retries || (o == XPORT_DROPPED && !d->idempotent) ||
		    o == XPORT_HOSTKEY || o == XPORT_AUTH_FAILED) {
			rc = runner_fail(r, s, RR_FAILED, *exit_status, "%s", why);
			free(why);
			return rc;
		}
		runner_emitf(r, EV_WARN, s, "attempt %d of %d failed (%s); retrying in %lld ms",
			     attempt + 1, d->retries + 1, why, (long long)delay);
		free(why);
		if (runner_sleep(r, delay))
			return runner_stopped(r, s);
		delay *= 2;
	}
}

/* Poll with a growing interval: fast when things are fast, polite when slow. */
static int64_t next_poll(int64_t cur, int64_t cap)
{
	int64_t n = cur * 2;
	return n > cap ? cap : n;
}

/*
 * The pause before a wait's next poll: a quarter of the time waited so far,
 * at least 100 ms, at most the step's interval.  The condition is then seen
 * at most 25% (or one interval) after it came true.  Doubling the pause
 * instead (100, 200, 400 ... ms) saw it up to 100% late: replication that
 * caught up after 1.65 s was noticed after 3 s.
 */
static int64_t wait_poll(int64_t elapsed, int64_t interval)
{
	int64_t p = elapsed / 4;
	if (p < 100)
		p = 100;
	return p > interval ? interval : p;
}

/* Why verify failed: the condition, what was seen, and what an accepted non-zero exit said. */
static enum rres verify_failed(struct runner *r, const struct plan_step *s, int exit_status,
			       int64_t waited, const char *seen)
{
	const struct cond *v = &s->def->verify;
	const char *what = v->expr ? expr_source(v->expr) : s->verify_cmd;
	char after[96] = "", t[32];
	if (waited > 0) {
		format_duration(waited, t, sizeof(t));
		snprintf(after, sizeof(after), ", still after %s", t);
	}
	if (exit_status > 0 && r->run_said != NULL)
		return runner_fail(r, s, RR_FAILED, exit_status,
				   "verify failed after `%s` exited %d (accepted by ok_exit): `%s` "
				   "is false%s (seen: %s); the command said: %s",
				   s->command, exit_status, what, after, seen, r->run_said);
	return runner_fail(r, s, RR_FAILED, exit_status,
			   "verify failed after the command succeeded: `%s` is false%s (seen: %s)",
			   what, after, seen);
}

/* 1 if the step should wait for its verify: within its time and, with `pending`, the
 * probe's output says the effect is still coming. */
static int verify_pending(struct runner *r, const struct plan_step *s, int64_t el, int64_t budget)
{
	const struct probe *p = s->def->verify.probe;
	const char *text = NULL;
	char err[256];
	if (s->def->verify_within_ms <= 0 || el >= budget)
		return 0;
	if (p == NULL || p->pending == NULL)
		return 1;
	if (facts_run_text(r->facts, s->node, s->verify_cmd, &text, err, sizeof(err)) < 0)
		return 0;
	return regexec(&p->pending_re, text, 0, NULL, 0) == 0;
}

enum rres runner_verify(struct runner *r, const struct plan_step *s, int exit_status)
{
	const struct cond *v = &s->def->verify;
	int64_t t0 = now_mono_ms(), budget = runner_budget(r, s->def->verify_within_ms);
	char err[1024];

	if (v->expr == NULL && v->probe == NULL)
		return RR_OK;
	/* Every caller emptied the cache after the change (the command, the reboot,
	 * the resume's re-probe): what was read since, verify may use; a poll
	 * after a sleep reads everything again. */
	for (;;) {
		struct sbuf why;
		enum rres rc = RR_OK;
		sbuf_init(&why);
		int ok =
		    facts_cond(r->facts, v, s->verify_cmd, s, r->saved, &why, err, sizeof(err));
		int64_t el = now_mono_ms() - t0;
		if (ok < 0) {
			rc = runner_fail(r, s, RR_FAILED, exit_status, "verify: %s", err);
		} else if (!ok && verify_pending(r, s, el, budget)) {
			struct event e = runner_step_event(EV_WAITING, s);
			e.text = v->expr ? expr_source(v->expr) : s->verify_cmd;
			e.detail = why.buf;
			e.elapsed_ms = el;
			e.budget_ms = budget;
			runner_emit(r, &e);
			sbuf_release(&why);
			if (runner_sleep(r, wait_poll(el, 10000)))
				return runner_stopped(r, s);
			facts_invalidate(r->facts);
			continue;
		} else if (!ok) {
			rc = verify_failed(r, s, exit_status, el >= budget ? el : 0, why.buf);
		}
		sbuf_release(&why);
		return rc;
	}
}

enum rres runner_wait_until(struct runner *r, const struct plan_step *s)
{
	const struct wait_spec *w = s->def->wait;
	int64_t t0 = now_mono_ms(), budget = runner_budget(r, w->timeout_ms);
	char err[1024];

	for (;;) {
		struct sbuf why;
		int ok = 0;
		sbuf_init(&why);
		facts_invalidate(r->facts);
		int ev =
		    facts_eval(r->facts, w->until, s, NULL, r->saved, &ok, &why, err, sizeof(err));
		int64_t el = now_mono_ms() - t0;
		struct event e = runner_step_event(EV_WAITING, s);
		e.text = expr_source(w->until);
		e.detail = ev < 0 ? err : why.buf;
		e.elapsed_ms = el;
		e.budget_ms = budget;
		runner_emit(r, &e);
		if (ev == 0 && ok) {
			sbuf_release(&why);
			return RR_OK;
		}
		if (el >= budget) {
			char t[32];
			format_duration(budget, t, sizeof(t));
			enum rres rc =
			    runner_fail(r, s, RR_FAILED, -1, "waited %s for `%s`; last seen: %s", t,
					expr_source(w->until), ev < 0 ? err : why.buf);
			sbuf_release(&why);
			return rc;
		}
		sbuf_release(&why);
		if (runner_sleep(r, wait_poll(el, w->interval_ms ? w->interval_ms : 10000)))
			return runner_stopped(r, s);
	}
}

static int status_ok(const struct http_check_spec *h, long status)
{
	if (h->nstatus == 0)
		return status == 200;
	for (int i = 0; i < h->nstatus; i++)
		if (h->status[i] == status)
			return 1;
	return 0;
}

#define HTTP_BODY_CAP 65536

/* One GET; 1 good, 0 not (err says why, naming the URL as shown). */
static int http_once(const struct http_check_spec *h, const struct plan_step *s, const char *shown,
		     int64_t timeout_ms, char *err, size_t errlen)
{
	struct http_req rq = {"GET", s->url, NULL, NULL, timeout_ms, h->insecure, HTTP_BODY_CAP};
	struct sbuf body;
	long status = 0;
	char why[768] = "";
	int good = 0;

	sbuf_init(&body);
	if (http_request(&rq, &status, &body, why, sizeof(why)) != 0)
		snprintf(err, errlen, "%s: %s", shown, why);
	else if (!status_ok(h, status))
		snprintf(err, errlen, "%s answered %ld", shown, status);
	else if (h->body && regexec(&h->body_re, body.buf, 0, NULL, 0) != 0)
		snprintf(err, errlen, "%s answered %ld but the body does not match", shown, status);
	else if (!httpexpect_json(h, s->http_json, body.buf, body.len, HTTP_BODY_CAP, why,
				  sizeof(why)))
		snprintf(err, errlen, "%s: %s", shown, why);
	else
		good = 1;
	sbuf_release(&body);
	return good;
}

/* Shortest try worth making before --max-timeout: less would only time out. */
#define HTTP_MIN_TRY_MS 250

/*
 * GET until the answer is good or the retries run out.  --max-timeout caps
 * the whole check, retries and pauses included, not only each request:
 * inside an outage window a check must not outlast what the operator allowed.
 * A retry that would have less than HTTP_MIN_TRY_MS left is not made, so the
 * failure names the last real answer, not a clipped last try.
 */
enum rres runner_http_step(struct runner *r, const struct plan_step *s)
{
	const struct http_check_spec *h = s->def->http;
	int64_t delay = 1000, cap = r->o->max_timeout_ms, t0 = now_mono_ms();
	char err[1024] = "", capped[32];
	char *shown = url_redact(s->url, 0);
	enum rres rc;

	format_duration(cap, capped, sizeof(capped));
	for (int attempt = 0;; attempt++) {
		int64_t left = cap > 0 ? cap - (now_mono_ms() - t0) : 0;
		int64_t tmo = runner_budget(r, h->timeout_ms);
		if (cap > 0 && (tmo <= 0 || tmo > left))
			tmo = left > 0 ? left : 1;
		int good = http_once(h, s, shown, tmo, err, sizeof(err));
		runner_emitf(r, EV_INFO, s, "GET %s: %s", shown, good ? "ok" : err);
		if (good) {
			rc = RR_OK;
			break;
		}
		left = cap > 0 ? cap - (now_mono_ms() - t0) : 0;
		int capped_out = cap > 0 && left - delay < HTTP_MIN_TRY_MS && attempt < h->retries;
		if (attempt >= h->retries || capped_out) {
			rc = runner_fail(
			    r, s, RR_FAILED, -1, "http check: %s%s%s%s", err,
			    capped_out ? " (gave up after " : "", capped_out ? capped : "",
			    capped_out ? ", the --max-timeout, with retries left)" : "");
			break;
		}
		if (runner_sleep(r, delay)) {
			rc = runner_stopped(r, s);
			break;
		}
		delay = next_poll(delay, 10000);
	}
	free(shown);
	return rc;
}
