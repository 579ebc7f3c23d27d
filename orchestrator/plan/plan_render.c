/*
 * plan_render.c — the plan for people (text) and for programs (JSON).
 *
 * The text form is aligned and wrapped to a width (the terminal's, 80 columns when piped, by
 * default) so it reads in a terminal and in a change ticket.  The JSON form
 * ("ccrup-plan/1", docs/plan-json.md) is stable: fields are only added.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "textsafe.h"

#define DETAIL_INDENT 6
#define LABEL_WIDTH   9

void plan_print_wrapped(FILE *fp, int indent, const char *label, const char *text, int width)
{
	int lw = label ? (int)strlen(label) + 1 : 0;
	if (label && lw < LABEL_WIDTH)
		lw = LABEL_WIDTH;
	int col0 = indent + lw;
	int avail = width - col0 > 20 ? width - col0 : 20;
	const char *p = text;

	fprintf(fp, "%*s", indent, "");
	if (label)
		fprintf(fp, "%-*s", lw, label);
	while (*p) {
		int n = (int)strlen(p);
		if (p != text && avail > 20)
			avail = width - col0 - 2 > 20 ? width - col0 - 2 : 20; /* indented 2 more */
		if (n > avail) {
			n = avail;
			while (n > avail / 2 && p[n] != ' ')
				n--;
			if (p[n] != ' ')
				n = avail;
		}
		fprintf(fp, "%.*s\n", n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(fp, "%*s", col0 + 2, "");
	}
	if (*text == '\0')
		fputc('\n', fp);
}

static void print_cond(FILE *fp, const char *label, const struct cond *c, const char *cmd,
		       int width)
{
	if (c->expr) {
		plan_print_wrapped(fp, DETAIL_INDENT, label, expr_source(c->expr), width);
	} else if (c->probe) {
		char *t = c->probe->expect ? xasprintf("%s  =~ /%s/", cmd ? cmd : c->probe->run,
						       c->probe->expect)
					   : xasprintf("%s  (exit 0)", cmd ? cmd : c->probe->run);
		plan_print_wrapped(fp, DETAIL_INDENT, label, t, width);
		free(t);
	}
}

static void flags_text(const struct plan *p, const struct plan_step *s, struct sbuf *f)
{
	const struct step_def *d = s->def;
	if (s->kind == PSTEP_GATE)
		sbuf_adds(f, " GATE");
	if (s->kind == PSTEP_WAIT)
		sbuf_adds(f, " WAIT");
	if (s->kind == PSTEP_HTTP)
		sbuf_adds(f, " HTTP");
	if (s->kind == PSTEP_ASSERT)
		sbuf_adds(f, " CHECK");
	if (d->reboot.when == REBOOT_ALWAYS)
		sbuf_adds(f, " REBOOT");
	if (d->reboot.when == REBOOT_ON_EXIT)
		sbuf_adds(f, " REBOOT-IF-ASKED");
	if (d->outage == OUTAGE_BEGINS)
		sbuf_adds(f, " OUTAGE-BEGINS");
	if (d->outage == OUTAGE_ENDS)
		sbuf_adds(f, " OUTAGE-ENDS");
	if (d->outage == OUTAGE_WITHIN)
		sbuf_adds(f, " OUTAGE");
	if (s->index == p->ponr)
		sbuf_adds(f, " POINT-OF-NO-RETURN");
	if (s->applies == APPLIES_NO)
		sbuf_adds(f, " (not applicable)");
}

static void render_reboot(FILE *fp, const struct plan *p, const struct plan_step *s, int width)
{
	const struct reboot_spec *r = &s->def->reboot;
	char down[32], up[32];
	struct sbuf t;

	if (r->when == REBOOT_NEVER)
		return;
	if (s->kind == PSTEP_REBOOT && p->pb->reboot_command)
		plan_print_wrapped(fp, DETAIL_INDENT, "run", p->pb->reboot_command, width);
	format_duration(r->down_timeout_ms, down, sizeof(down));
	format_duration(r->up_timeout_ms, up, sizeof(up));
	sbuf_init(&t);
	if (r->when == REBOOT_ON_EXIT) {
		sbuf_adds(&t, "when the command exits");
		for (int i = 0; i < r->nexit; i++)
			sbuf_addf(&t, "%s%d", i ? "/" : " ", r->exit_codes[i]);
		sbuf_adds(&t, "; ");
	}
	if (s->kind != PSTEP_REBOOT && p->pb->reboot_command)
		sbuf_addf(&t, "then `%s`; ", p->pb->reboot_command);
	sbuf_addf(&t, "boot id must change within %s, back within %s", down, up);
	plan_print_wrapped(fp, DETAIL_INDENT, "reboot", t.buf, width);
	print_cond(fp, "ready", &r->ready, s->ready_cmd, width);
	sbuf_release(&t);
}

static void render_run(FILE *fp, const struct plan_step *s, int width)
{
	const struct step_def *d = s->def;
	char t[32];
	struct sbuf o;

	plan_print_wrapped(fp, DETAIL_INDENT, "run", s->command, width);
	sbuf_init(&o);
	if (d->nok_exit > 1 || (d->nok_exit == 1 && d->ok_exit[0] != 0)) {
		sbuf_adds(&o, "ok exit");
		for (int i = 0; i < d->nok_exit; i++)
			sbuf_addf(&o, "%s%d", i ? "," : " ", d->ok_exit[i]);
		sbuf_adds(&o, "; ");
	}
	if (d->timeout_ms) {
		format_duration(d->timeout_ms, t, sizeof(t));
		sbuf_addf(&o, "timeout %s; ", t);
	}
	if (d->retries)
		sbuf_addf(&o, "retries %d; ", d->retries);
	sbuf_adds(&o, d->idempotent ? "idempotent" : "not idempotent (a resume asks first)");
	plan_print_wrapped(fp, DETAIL_INDENT, "", o.buf, width);
	sbuf_release(&o);
}

/*
 * The widths of the step id and node columns: the longest of the plan, the id
 * column at most what leaves room for the estimate and a flag within width (a
 * longer id pushes its own line only).
 */
/* Widths of the step id and node columns, measured once per cluster. */
struct columns {
	int wid, wnode;
};

static void column_widths(const struct plan *p, int width, int *wid, int *wnode)
{
	*wid = 20;
	*wnode = 5;
	for (int i = 0; i < p->nsteps; i++) {
		if ((int)strlen(p->steps[i].id) > *wid)
			*wid = (int)strlen(p->steps[i].id);
		if (p->steps[i].node && (int)strlen(p->steps[i].node) > *wnode)
			*wnode = (int)strlen(p->steps[i].node);
	}
	if (*wid > width - *wnode - 35)
		*wid = width - *wnode - 35 > 20 ? width - *wnode - 35 : 20;
}

/* "  27  cms.upgrade-cms   NODE2   7m OUTAGE-ENDS": the flags on a line of their own
 * when they would pass the width. */
static void render_step_head(FILE *fp, const struct plan *p, const struct plan_step *s,
			     const struct columns *c, int width)
{
	char est[32] = "-";
	struct sbuf f;
	int wid = c->wid, wnode = c->wnode, n;

	if (s->def->estimate_ms)
		format_duration(s->def->estimate_ms, est, sizeof(est));
	sbuf_init(&f);
	flags_text(p, s, &f);
	n = fprintf(fp, "%4d  %-*s %-*s %7s", s->index, wid, s->id, wnode, s->node ? s->node : "-",
		    est);
	if (f.len && n + 1 + (int)f.len > width) {
		fputc('\n', fp);
		plan_print_wrapped(fp, DETAIL_INDENT, "flags", f.buf + 1, width);
	} else {
		fprintf(fp, "%s%s\n", f.len ? " " : "", f.buf);
	}
	sbuf_release(&f);
}

static void render_http_json(FILE *fp, const struct http_check_spec *h, const char *path, int width)
{
	char n[48] = "at least one value";
	if (h->count >= 0)
		snprintf(n, sizeof(n), "%d value%s", h->count, h->count == 1 ? "" : "s");
	char *t = h->value ? xasprintf("'%s' selects %s, each matching /%s/", path, n, h->value)
			   : xasprintf("'%s' selects %s", path, n);
	plan_print_wrapped(fp, DETAIL_INDENT, "json", t, width);
	free(t);
}

/* "when  EXPR  (false: failback = 'none')", prefixed "phase ID:" for a phase's when. */
static void render_when(FILE *fp, const struct plan *p, const struct plan_step *s,
			const struct expr *e, int indent, const char *phase, int width)
{
	char *v = plan_when_value(p, s, e);
	char *t = xasprintf("%s%s%s%s  (%s)", phase ? "phase " : "", phase ? phase : "",
			    phase ? ": " : "", expr_source(e), v);
	plan_print_wrapped(fp, indent, "when", t, width);
	free(t);
	free(v);
}

static void render_step(FILE *fp, const struct plan *p, const struct plan_step *s,
			const struct columns *c, int width)
{
	const struct step_def *d = s->def;

	render_step_head(fp, p, s, c, width);
	plan_print_wrapped(fp, DETAIL_INDENT, NULL, s->name, width);
	if (s->phase->when && s->applies == APPLIES_NO)
		render_when(fp, p, s, s->phase->when, DETAIL_INDENT, s->phase->id, width);
	if (d->when)
		render_when(fp, p, s, d->when, DETAIL_INDENT, NULL, width);
	for (int i = 0; i < d->nrequire; i++)
		plan_print_wrapped(fp, DETAIL_INDENT, "require", expr_source(d->require[i]), width);
	if (d->record)
		plan_print_wrapped(fp, DETAIL_INDENT, "record",
				   d->record->fact ? d->record->fact : s->record_cmd, width);
	print_cond(fp, "check", &d->check, s->check_cmd, width);
	if (d->gate)
		plan_print_wrapped(fp, DETAIL_INDENT, "gate", d->gate, width);
	if (d->outage == OUTAGE_BEGINS || d->outage == OUTAGE_WITHIN)
		plan_print_wrapped(fp, DETAIL_INDENT, "notify", "outage-start before the command",
				   width);
	if (s->command)
		render_run(fp, s, width);
	if (d->wait) {
		char t[32], *w;
		format_duration(d->wait->timeout_ms, t, sizeof(t));
		w = xasprintf("until %s (at most %s)", expr_source(d->wait->until), t);
		plan_print_wrapped(fp, DETAIL_INDENT, "wait", w, width);
		free(w);
	}
	if (s->url) {
		char *shown = url_redact(s->url, 0); /* no user:password@ on a screen */
		plan_print_wrapped(fp, DETAIL_INDENT, "http", shown, width);
		free(shown);
	}
	if (s->http_json)
		render_http_json(fp, d->http, s->http_json, width);
	render_reboot(fp, p, s, width);
	print_cond(fp, "verify", &d->verify, s->verify_cmd, width);
	if (d->outage == OUTAGE_ENDS || d->outage == OUTAGE_WITHIN)
		plan_print_wrapped(fp, DETAIL_INDENT, "notify", "outage-end after verify", width);
}

static void render_phase_head(FILE *fp, const struct plan *p, const struct plan_step *s, int nphase,
			      int width)
{
	const struct phase_def *ph = s->phase;
	const char *on = ph->for_each ? ph->for_each : ph->on;
	char *host = plan_role_hosts(p, on);
	int idx = (int)(ph - p->pb->phases) + 1;
	char *t = host ? xasprintf("Phase %d of %d: %s - %s (on %s = %s)", idx, nphase, ph->id,
				   ph->name, on, host)
		       : xasprintf("Phase %d of %d: %s - %s (%s %s)", idx, nphase, ph->id, ph->name,
				   ph->for_each ? "each of" : "on", on);
	fputc('\n', fp);
	plan_print_wrapped(fp, 0, NULL, t, width);
	free(t);
	free(host);
	if (ph->when)
		render_when(fp, p, s, ph->when, 2, NULL, width);
	for (int i = 0; i < ph->nrequire; i++)
		plan_print_wrapped(fp, 2, "require", expr_source(ph->require[i]), width);
}

static void render_summary(FILE *fp, const struct plan *p, int width)
{
	char t[32];
	struct sbuf s;

	sbuf_init(&s);
	fprintf(fp, "\nSummary for %s\n", p->cl->name);
	format_duration(p->estimate_ms, t, sizeof(t));
	sbuf_addf(&s, "%s for %d steps (steps decided live counted)", t, p->nsteps);
	plan_print_wrapped(fp, 2, "duration", s.buf, width);
	sbuf_reset(&s);
	if (p->outage_begin) {
		format_duration(p->outage_ms, t, sizeof(t));
		sbuf_addf(&s,
			  "about %s, from step %d %s to step %d %s; users are notified at its "
			  "start and end",
			  t, p->outage_begin, p->steps[p->outage_begin - 1].id, p->outage_end,
			  p->outage_end ? p->steps[p->outage_end - 1].id : "?");
	} else {
		sbuf_adds(&s, "none planned");
	}
	plan_print_wrapped(fp, 2, "outage", s.buf, width);
	sbuf_reset(&s);
	if (p->ponr)
		sbuf_addf(&s, "step %d %s: after it the cluster can only go forward", p->ponr,
			  p->steps[p->ponr - 1].id);
	else
		sbuf_adds(&s, "none");
	plan_print_wrapped(fp, 2, "no return", s.buf, width);
	sbuf_release(&s);
}

/*
 * Who holds each role now and after the run: "after" as the verifies of the
 * steps that apply leave the facts the roles are bound by (plan_roles_after),
 * shown when the plan predicts it for at least one role.
 */
static void render_roles(FILE *fp, const struct plan *p)
{
	char **after;
	char **now;
	int predicted = 0, wnow = 3;

	if (p->nroles == 0)
		return;
	fprintf(fp, "Roles %s\n",
		p->roles[0].assumed
		    ? "(assumed from the declared active node; `plan --live` reads them):"
		    : "(bound from live facts):");
	after = plan_roles_after(p);
	now = xcalloc((size_t)p->pb->nroles + 1, sizeof(*now));
	for (int r = 0; r < p->pb->nroles; r++) {
		now[r] = plan_role_hosts(p, p->pb->roles[r].name);
		predicted |= after[r] != NULL;
		if (now[r] && (int)strlen(now[r]) > wnow)
			wnow = (int)strlen(now[r]);
	}
	if (predicted)
		fprintf(fp, "  %-14s %-*s  %s\n", "role", wnow, "now", "after the run");
	for (int r = 0; r < p->pb->nroles; r++) {
		if (now[r] == NULL)
			continue;
		if (predicted)
			fprintf(fp, "  %-14s %-*s  %s\n", p->pb->roles[r].name, wnow, now[r],
				after[r] ? after[r] : "?");
		else
			fprintf(fp, "  %-14s %s\n", p->pb->roles[r].name, now[r]);
		free(now[r]);
	}
	free(now);
	plan_roles_after_free(p, after);
}

/*
 * Each node's version now and the one the run reaches, when the playbook names
 * them (version:).  Offline the versions now are not known.
 */
static void render_versions(FILE *fp, const struct plan *p)
{
	const struct playbook *pb = p->pb;
	const struct host_group *g = pb->version_fact ? cluster_group(p->cl, pb->version_on) : NULL;
	struct subst_ctx c;
	enum var_kind k;
	const char *target;

	if (g == NULL || g->nhosts == 0)
		return;
	plan_subst_ctx(p, NULL, &c);
	target = subst_value(&c, pb->version_target, &k);
	fprintf(fp, "Versions (%s now -> %s):%s\n", pb->version_fact, pb->version_target,
		p->versions ? "" : " `plan --live` reads them");
	for (int i = 0; i < g->nhosts; i++) {
		const char *now = p->versions ? p->versions[i] : NULL;
		fprintf(fp, "  %-14s %s -> %s\n", g->hosts[i],
			now	      ? now
			: p->versions ? "(unreadable)"
				      : "?",
			target ? target : "?");
	}
}

static void render_one(FILE *fp, const struct plan *p, int width)
{
	const struct cluster_def *cl = p->cl;
	const struct phase_def *cur = NULL;

	fprintf(fp, "\nCluster %s", cl->name);
	if (cl->cms)
		fprintf(fp, "  %s %s", playbook_service_label(p->pb), cl->cms);
	for (int g = 0; g < cl->ngroups; g++) {
		fprintf(fp, "  %s ", cl->groups[g].name);
		for (int h = 0; h < cl->groups[g].nhosts; h++)
			fprintf(fp, "%s%s", h ? "," : "", cl->groups[g].hosts[h]);
	}
	fputc('\n', fp);
	char *tr = plan_transports(p);
	plan_print_wrapped(fp, 0, "Transport", tr, width);
	free(tr);
	render_roles(fp, p);
	render_versions(fp, p);
	struct columns c;
	column_widths(p, width, &c.wid, &c.wnode);
	for (int i = 0; i < p->nsteps; i++) {
		if (p->steps[i].phase != cur) {
			cur = p->steps[i].phase;
			render_phase_head(fp, p, &p->steps[i], p->pb->nphases, width);
		}
		render_step(fp, p, &p->steps[i], &c, width);
	}
	render_summary(fp, p, width);
}

void plan_render_text(FILE *fp, const struct plan *const *plans, int nplans, int width)
{
	if (nplans == 0)
		return;
	char *head = xasprintf("Plan: playbook %s (%s), inventory %s (%s)", plans[0]->pb->name,
			       plans[0]->pb->path, plans[0]->inv->name, plans[0]->inv->path);
	plan_print_wrapped(fp, 0, NULL, head, width);
	free(head);
	for (int i = 0; i < nplans; i++)
		render_one(fp, plans[i], width);
}
