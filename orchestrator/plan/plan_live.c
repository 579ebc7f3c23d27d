/*
 * plan_live.c — see plan_live.h.
 *
 * Requirements are evaluated against the cluster as it is now, which is
 * exact for the next step to run and only indicative for later ones (the
 * earlier steps will have changed the facts by then); the output says so.
 */
#include "plan_live.h"

#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "facts.h"

/*
 * What the runner's `record:` would capture right before this step: the
 * runner records before the check (design.md), so a check that compares with
 * the recorded value ("restarted since we began") must see it here too, or a
 * step that will run is shown as already satisfied.  First value wins, as in
 * the runner; a value that cannot be read is left unset.
 */
static void live_record(struct facts *f, const struct plan_step *s, struct saved *sv)
{
	const struct record_spec *rs = s->def->record;
	char err[512];
	char *value = NULL;

	if (rs == NULL || saved_get(sv, s->node, rs->as, s->item))
		return;
	if (rs->fact) {
		const char *v = NULL;
		if (facts_get(f, rs->fact, s->node, &v, NULL, err, sizeof(err)) == 0)
			value = xstrdup(v);
	} else if (s->record_cmd) {
		struct fact_def fd = {.name = rs->as,
				      .capture = rs->capture,
				      .capture_re = rs->capture_re,
				      .def = rs->def};
		const char *text = NULL;
		if (facts_run_text(f, s->node, s->record_cmd, &text, err, sizeof(err)) == 0)
			value = facts_extract(&fd, text, 0, err, sizeof(err));
	}
	if (value)
		saved_set(sv, s->node, rs->as, s->item, value);
	free(value);
}

static const char *step_status(struct facts *f, struct saved *sv, const struct plan_step *s,
			       char **detail)
{
	const struct expr *when[2] = {s->phase->when, s->def->when};
	struct sbuf why;
	char err[1024];
	int ok = 1;

	sbuf_init(&why);
	for (int k = 0; k < 2; k++) {
		if (when[k] == NULL)
			continue;
		if (facts_eval(f, when[k], s, NULL, sv, &ok, &why, err, sizeof(err)) < 0)
			goto unknown;
		if (!ok) {
			*detail = xasprintf("%s is false (%s)", expr_source(when[k]), why.buf);
			sbuf_release(&why);
			return "not-applicable";
		}
	}
	live_record(f, s, sv);
	const struct cond *c = &s->def->check;
	if (c->expr || c->probe) {
		sbuf_reset(&why);
		int r = facts_cond(f, c, s->check_cmd, s, sv, &why, err, sizeof(err));
		if (r < 0)
			goto unknown;
		if (r == 1) {
			*detail = c->expr ? xasprintf("already done: %s (%s)", expr_source(c->expr),
						      why.buf)
					  : xasprintf("already done: %s", why.buf);
			sbuf_release(&why);
			return "satisfied";
		}
	}
	for (int k = 0; k < s->phase->nrequire + s->def->nrequire; k++) {
		const struct expr *e = k < s->phase->nrequire
					   ? s->phase->require[k]
					   : s->def->require[k - s->phase->nrequire];
		sbuf_reset(&why);
		if (facts_eval(f, e, s, NULL, sv, &ok, &why, err, sizeof(err)) < 0)
			goto unknown;
		if (!ok) {
			*detail = xasprintf("now false: %s (%s)", expr_source(e), why.buf);
			sbuf_release(&why);
			return "refused-now";
		}
	}
	*detail = why.len ? sbuf_detach(&why) : NULL;
	sbuf_release(&why);
	return "would-run";
unknown:
	*detail = xstrdup(err);
	sbuf_release(&why);
	return "unknown";
}

static int acts(const struct plan_step *s)
{
	return s->kind == PSTEP_RUN || s->kind == PSTEP_REBOOT;
}

/* Would the runner send this step's command (or may it, when unsure)? */
static int pending(const struct live_step *v)
{
	return strcmp(v->status, "would-run") == 0 || strcmp(v->status, "refused-now") == 0 ||
	       strcmp(v->status, "unknown") == 0 || strcmp(v->status, "when-reached") == 0;
}

static void not_needed(struct live_step *v, const char *why)
{
	if (!pending(v))
		return;
	v->status = "not-needed";
	free(v->detail);
	v->detail = xstrdup(why);
}

/*
 * The runner's rule, so the plan says what a run would do: a phase whose
 * acting steps (other than `prepares` ones) have nothing to do is passed
 * over whole; a `prepares` step only runs while a later step of its phase
 * would; a phase of checks and gates only runs in a run that acts at all.
 */
static void apply_work_rule(struct live_plan *lp)
{
	const struct plan *p = lp->plan;
	int run_work = 0;

	for (int i = 0; i < p->nsteps; i++)
		run_work |= acts(&p->steps[i]) && !p->steps[i].def->prepares && pending(&lp->v[i]);
	lp->nothing_to_do = !run_work;
	for (int i = 0; i < p->nsteps;) {
		const struct phase_def *ph = p->steps[i].phase;
		int end = i, acting = 0, work = 0;
		while (end < p->nsteps && p->steps[end].phase == ph)
			end++;
		for (int k = i; k < end; k++)
			if (acts(&p->steps[k]) && !p->steps[k].def->prepares) {
				acting = 1;
				work |= pending(&lp->v[k]);
			}
		if (!acting)
			work = run_work;
		for (int k = i; k < end; k++) {
			int later = 0;
			for (int q = k + 1; q < end; q++)
				later |= acts(&p->steps[q]) && !p->steps[q].def->prepares &&
					 pending(&lp->v[q]);
			if (!work)
				not_needed(&lp->v[k], "nothing to do in this phase");
			else if (p->steps[k].def->prepares && !later)
				not_needed(&lp->v[k],
					   "no later step of its phase has anything to do");
		}
		i = end;
	}
}

/* The estimate of the steps a run would (or may) still run. */
static void remaining(struct live_plan *lp)
{
	const struct plan *p = lp->plan;
	lp->remaining_ms = 0;
	for (int i = 0; i < p->nsteps; i++)
		if (strcmp(lp->v[i].status, "would-run") == 0 ||
		    strcmp(lp->v[i].status, "refused-now") == 0 ||
		    strcmp(lp->v[i].status, "when-reached") == 0)
			lp->remaining_ms += p->steps[i].def->estimate_ms;
}

struct reads {
	const struct playbook *pb;
	int shared; /* a cluster fact, or another role's (ROLE.FACT) */
};

static int read_ident(const char *name, int col, void *arg)
{
	struct reads *r = arg;
	const struct fact_def *fd = playbook_fact(r->pb, name);
	(void)col;
	if (strchr(name, '.') || (fd && fd->scope == FACT_CLUSTER))
		r->shared = 1;
	return 0;
}

/*
 * What step s's live status was judged on: its check when satisfied, the
 * failing require when refused.  Does it read facts beyond its own node's?
 * A probe runs on the node: its own.
 */
static int reads_shared(const struct plan *p, const struct plan_step *s, const char *status)
{
	struct reads r = {p->pb, 0};
	if (strcmp(status, "satisfied") == 0) {
		if (s->def->check.expr)
			expr_foreach_ident(s->def->check.expr, read_ident, &r);
		return r.shared;
	}
	for (int k = 0; k < s->phase->nrequire; k++)
		expr_foreach_ident(s->phase->require[k], read_ident, &r);
	for (int k = 0; k < s->def->nrequire; k++)
		expr_foreach_ident(s->def->require[k], read_ident, &r);
	return r.shared;
}

/*
 * A step found satisfied, or refused, by the facts as they are now, while an
 * earlier step that would act on its node (or on any node, when it reads
 * cluster facts) runs first: now says little about then (a setup leaves a
 * reboot pending, a firewall started for setup is stopped again by restore).
 * It is decided when the run reaches it.
 */
static void earlier_steps_rule(struct live_plan *lp)
{
	const struct plan *p = lp->plan;

	for (int i = 0; i < p->nsteps; i++) {
		const struct plan_step *s = &p->steps[i];
		struct live_step *v = &lp->v[i];
		int shared, first = -1;
		if (strcmp(v->status, "satisfied") != 0 && strcmp(v->status, "refused-now") != 0)
			continue;
		shared = reads_shared(p, s, v->status);
		for (int k = 0; k < i && first < 0; k++)
			if (acts(&p->steps[k]) && pending(&lp->v[k]) &&
			    (shared || (s->node && p->steps[k].node &&
					strcmp(s->node, p->steps[k].node) == 0)))
				first = k;
		if (first < 0)
			continue;
		/* "now already done: ..." or the refusal's own "now false: ..." */
		char *d = xasprintf(
		    "after step %d %s on %s; %s%s", p->steps[first].index, p->steps[first].id,
		    p->steps[first].node ? p->steps[first].node : "-",
		    strcmp(v->status, "satisfied") == 0 ? "now " : "", v->detail ? v->detail : "");
		free(v->detail);
		v->detail = d;
		v->status = "when-reached";
	}
}

/* The playbook's version fact on each host of its group, for the plan's header. */
static void read_versions(struct plan *p, struct facts *f)
{
	const struct host_group *g =
	    p->pb->version_fact ? cluster_group(p->cl, p->pb->version_on) : NULL;
	char err[512];

	if (g == NULL)
		return;
	p->versions = xcalloc((size_t)g->nhosts + 1, sizeof(*p->versions));
	for (int i = 0; i < g->nhosts; i++) {
		const char *v = NULL;
		if (facts_get(f, p->pb->version_fact, g->hosts[i], &v, NULL, err, sizeof(err)) == 0)
			p->versions[i] = xstrdup(v);
	}
}

static json_t *observed(struct facts *f)
{
	json_t *a = json_array();
	const char *name, *host, *value;
	for (int i = 0; facts_cached(f, i, &name, &host, &value) == 0; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:s}", "fact", name, "host",
						   host ? json_string(host) : json_null(), "value",
						   value));
	return a;
}

int plan_live_eval(const struct playbook *pb, const struct inventory *inv,
		   const struct cluster_def *cl, struct conns *c, volatile sig_atomic_t *stop,
		   struct live_plan *lp, char *err, size_t errlen)
{
	struct plan bindp = {.pb = pb, .inv = inv, .cl = cl};
	struct role_binding *roles = NULL;
	struct facts *f = facts_new(&bindp, c, stop);
	struct saved *sv = NULL;
	int n = 0, rc;

	memset(lp, 0, sizeof(*lp));
	rc = bind_roles_live(pb, cl, f, &roles, &n, err, errlen);
	if (rc == 0 && (lp->plan = plan_compile(pb, inv, cl, roles, n, err, errlen)) == NULL)
		rc = EXIT_INPUT;
	facts_free(f);
	f = NULL;
	if (rc)
		goto out;
	f = facts_new(lp->plan, c, stop);
	sv = saved_new();
	lp->v = xcalloc((size_t)lp->plan->nsteps + 1, sizeof(*lp->v));
	for (int i = 0; i < lp->plan->nsteps; i++) {
		const struct plan_step *s = &lp->plan->steps[i];
		lp->v[i].status = step_status(f, sv, s, &lp->v[i].detail);
	}
	apply_work_rule(lp);
	earlier_steps_rule(lp);
	remaining(lp);
	read_versions(lp->plan, f);
	lp->plan->runs = xcalloc((size_t)lp->plan->nsteps + 1, 1);
	for (int i = 0; i < lp->plan->nsteps; i++)
		lp->plan->runs[i] = (unsigned char)pending(&lp->v[i]);
	lp->facts = observed(f);
out:
	saved_free(sv);
	facts_free(f);
	free(roles);
	return rc;
}

void plan_live_release(struct live_plan *lp)
{
	for (int i = 0; lp->v && lp->plan && i < lp->plan->nsteps; i++)
		free(lp->v[i].detail);
	free(lp->v);
	plan_free(lp->plan);
	json_decref(lp->facts);
	memset(lp, 0, sizeof(*lp));
}

void plan_live_json(const struct live_plan *lp, json_t *cluster)
{
	json_t *steps = json_object_get(cluster, "steps");
	json_object_set(cluster, "facts", lp->facts);
	json_object_set_new(cluster, "remaining_estimate_ms", json_integer(lp->remaining_ms));
	json_object_set_new(cluster, "nothing_to_do", json_boolean(lp->nothing_to_do));
	for (size_t i = 0; i < json_array_size(steps) && (int)i < lp->plan->nsteps; i++) {
		json_t *s = json_array_get(steps, i);
		json_object_set_new(s, "live", json_string(lp->v[i].status));
		json_object_set_new(s, "detail",
				    lp->v[i].detail ? json_string(lp->v[i].detail) : json_null());
	}
}

void plan_live_text(FILE *fp, const struct live_plan *lp, int width)
{
	const struct plan *p = lp->plan;
	int wid = 20, wnode = 5;
	char t[32];

	if (lp->nothing_to_do) {
		fprintf(fp,
			"cluster %s: nothing to do: every step is already done or does not apply\n",
			p->cl->name);
		return;
	}
	fprintf(fp,
		"\nLive state of %s (steps after one that would act on their node are decided\n"
		"when the run reaches them: the earlier steps change the facts):\n",
		p->cl->name);
	for (int i = 0; i < p->nsteps; i++) {
		if ((int)strlen(p->steps[i].id) > wid)
			wid = (int)strlen(p->steps[i].id);
		if (p->steps[i].node && (int)strlen(p->steps[i].node) > wnode)
			wnode = (int)strlen(p->steps[i].node);
	}
	if (wid > width - wnode - 22) /* a longer id pushes its own line only */
		wid = width - wnode - 22 > 12 ? width - wnode - 22 : 12;
	for (int i = 0; i < p->nsteps; i++) {
		const struct plan_step *s = &p->steps[i];
		fprintf(fp, "%4d  %-*s %-*s %s\n", s->index, wid, s->id, wnode,
			s->node ? s->node : "-", lp->v[i].status);
		if (lp->v[i].detail && *lp->v[i].detail)
			plan_print_wrapped(fp, 6, NULL, lp->v[i].detail, width);
	}
	fprintf(fp, "\nFacts observed:\n");
	for (size_t i = 0; i < json_array_size(lp->facts); i++) {
		json_t *o = json_array_get(lp->facts, i);
		const char *host = json_string_value(json_object_get(o, "host"));
		char *line = xasprintf(
		    "%-22s %-10s %s", json_string_value(json_object_get(o, "fact")),
		    host ? host : "(cluster)", json_string_value(json_object_get(o, "value")));
		plan_print_wrapped(fp, 2, NULL, line, width);
		free(line);
	}
	format_duration(lp->remaining_ms, t, sizeof(t));
	fprintf(fp, "\nStill to do: about %s of steps.\n", t);
}

static json_t *find_cluster(json_t *doc, const char *name)
{
	json_t *cl = json_object_get(doc, "clusters");
	for (size_t i = 0; i < json_array_size(cl); i++) {
		const char *n = json_string_value(json_object_get(json_array_get(cl, i), "name"));
		if (n && strcmp(n, name) == 0)
			return json_array_get(cl, i);
	}
	return NULL;
}

static int compare_facts(json_t *facts, struct facts *f, struct sbuf *diff)
{
	int changed = 0;
	for (size_t i = 0; i < json_array_size(facts); i++) {
		json_t *o = json_array_get(facts, i);
		const char *name = json_string_value(json_object_get(o, "fact"));
		const char *host = json_string_value(json_object_get(o, "host"));
		const char *was = json_string_value(json_object_get(o, "value"));
		const char *now = NULL;
		char e[512];
		if (name == NULL || was == NULL)
			continue;
		if (facts_get(f, name, host, &now, NULL, e, sizeof(e)) < 0)
			now = "(unreadable)";
		if (strcmp(was, now) != 0) {
			sbuf_addf(diff, "%s%s%s%s was '%s', now '%s'", changed ? "; " : "", name,
				  host ? " on " : "", host ? host : "", was, now);
			changed++;
		}
	}
	return changed;
}

int plan_live_check_saved(const char *path, const struct playbook *pb, const struct inventory *inv,
			  const struct cluster_def *cl, struct facts *f, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	struct sbuf diff;
	int rc = 0;

	if (doc == NULL && je.line < 1) { /* the file could not be opened or read */
		snprintf(err, errlen, "%s: not a saved plan: %s", path, je.text);
		return EXIT_INPUT;
	}
	if (doc == NULL) {
		snprintf(err, errlen, "%s:%d:%d: not a saved plan: %s", path, je.line, je.column,
			 je.text);
		return EXIT_INPUT;
	}
	sbuf_init(&diff);
	json_t *c = find_cluster(doc, cl->name);
	const char *format = json_string_value(json_object_get(doc, "format"));
	const char *pbsum =
	    json_string_value(json_object_get(json_object_get(doc, "playbook"), "sha256"));
	const char *invsum =
	    json_string_value(json_object_get(json_object_get(doc, "inventory"), "sha256"));
	/* Refuse what is not a plan before anything is probed: a wrong format, or a
	 * cluster without the facts it pins, would otherwise pass as "nothing changed". */
	if (format == NULL || strcmp(format, "ccrup-plan/1") != 0) {
		snprintf(err, errlen, "%s: not a saved plan: format is %s%s%s, not 'ccrup-plan/1'",
			 path, format ? "'" : "", format ? format : "missing", format ? "'" : "");
		rc = EXIT_INPUT;
	} else if (!json_is_true(json_object_get(doc, "live")) || c == NULL ||
		   !json_is_array(json_object_get(c, "facts"))) {
		snprintf(err, errlen,
			 "%s: not a live plan of cluster %s (make one with `ccrup plan "
			 "--live --save %s`)",
			 path, cl->name, path);
		rc = EXIT_INPUT;
	} else if (pbsum == NULL || strcmp(pbsum, pb->sha256) != 0 || invsum == NULL ||
		   strcmp(invsum, inv->sha256) != 0) {
		snprintf(err, errlen, "saved plan %s is stale: the %s changed since it was saved",
			 path, pbsum && strcmp(pbsum, pb->sha256) == 0 ? "inventory" : "playbook");
		rc = EXIT_REFUSED;
	} else if (compare_facts(json_object_get(c, "facts"), f, &diff)) {
		snprintf(err, errlen, "saved plan %s is stale for cluster %s: %s", path, cl->name,
			 diff.buf);
		rc = EXIT_REFUSED;
	}
	sbuf_release(&diff);
	json_decref(doc);
	return rc;
}
