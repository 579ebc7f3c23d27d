/*
 * runner_rebind.c — when the live roles no longer match the run's.  Roles
 * are bound once, when a run starts, and pinned in the journal; something
 * outside the plan (an owner that crashed, an unplanned failover) can move
 * the role-defining fact under them, and the pinned plan then refuses for
 * ever.  Two things live here: telling such a refusal apart (a require
 * that reads a role-defining fact is false and the roles bound afresh
 * differ from the pinned ones), and `resume --rebind`, which binds the
 * roles afresh, shows what changes, asks (guided), and journals one
 * `rebind` record; the runner then plans the rest of the run from the new
 * roles, and replay (replay_plan) counts what each node already did where
 * its new role has the same step.
 */
#include "runner_int.h"

#include "bind.h"

#include <stdlib.h>
#include <string.h>

/* The hosts bound to role in roles[], joined by ',' ("-" for none). */
static void hosts_of(const struct role_binding *roles, int n, const char *role, struct sbuf *sb)
{
	size_t start = sb->len;
	for (int i = 0; i < n; i++)
		if (strcmp(roles[i].role, role) == 0)
			sbuf_addf(sb, "%s%s", sb->len > start ? "," : "", roles[i].host);
	if (sb->len == start)
		sbuf_adds(sb, "-");
}

/* "role active: NODE1 -> NODE2; role passive: NODE2 -> NODE1", empty when they match. */
static void describe_changes(const struct runner *r, const struct role_binding *now, int n,
			     struct sbuf *out)
{
	for (int i = 0; i < r->pb->nroles; i++) {
		const char *role = r->pb->roles[i].name;
		struct sbuf was, is;
		sbuf_init(&was);
		sbuf_init(&is);
		hosts_of(r->roles, r->nroles, role, &was);
		hosts_of(now, n, role, &is);
		if (!str_ieq(was.buf, is.buf))
			sbuf_addf(out, "%srole %s: %s -> %s", out->len ? "; " : "", role, was.buf,
				  is.buf);
		sbuf_release(&was);
		sbuf_release(&is);
	}
}

struct ident_ctx {
	const struct playbook *pb;
	const char *name; /* an identifier of the require being looked at */
};

/* Does a role's `where` read the identifier c->name (not `node`)? */
static int where_reads(const char *name, int col, void *arg)
{
	const struct ident_ctx *c = arg;
	(void)col;
	return strcmp(name, "node") != 0 && strcmp(name, c->name) == 0;
}

static int require_ident(const char *name, int col, void *arg)
{
	struct ident_ctx *c = arg;
	(void)col;
	c->name = name;
	for (int i = 0; i < c->pb->nroles; i++)
		if (c->pb->roles[i].where &&
		    expr_foreach_ident(c->pb->roles[i].where, where_reads, c))
			return 1;
	return 0;
}

/* Does e read a fact that some role is bound by? */
static int reads_role_fact(const struct playbook *pb, const struct expr *e)
{
	struct ident_ctx c = {pb, NULL};
	return expr_foreach_ident(e, require_ident, &c);
}

char *runner_role_drift(struct runner *r, const struct expr *e)
{
	struct role_binding *now = NULL;
	int n = 0;
	char err[1024];
	struct sbuf ch;

	if (!reads_role_fact(r->pb, e) ||
	    bind_roles_live(r->pb, r->cl, r->facts, &now, &n, err, sizeof(err)) != 0) {
		free(now);
		return NULL;
	}
	sbuf_init(&ch);
	describe_changes(r, now, n, &ch);
	free(now);
	if (ch.len == 0) {
		sbuf_release(&ch);
		return NULL;
	}
	return sbuf_detach(&ch);
}

char *runner_failure_drift(struct runner *r, const struct plan_step *s)
{
	const struct phase_def *ph = s->phase;
	const struct step_def *d = s->def;
	int total = ph->nrequire + d->nrequire;
	char err[1024];

	facts_invalidate(r->facts); /* what the failed command may have changed */
	for (int k = 0; k < total; k++) {
		const struct expr *e =
		    k < ph->nrequire ? ph->require[k] : d->require[k - ph->nrequire];
		int ok = 1;
		if (!reads_role_fact(r->pb, e) ||
		    facts_eval(r->facts, e, s, NULL, r->saved, &ok, NULL, err, sizeof(err)) < 0 ||
		    ok)
			continue;
		char *drift = runner_role_drift(r, e);
		if (drift == NULL)
			return NULL;
		char *both = xasprintf("%s; `%s` is now false on %s", drift, expr_source(e),
				       s->node ? s->node : "-");
		free(drift);
		return both;
	}
	return NULL;
}

const char *runner_rebind_hint(const struct runner *r)
{
	static __thread char buf[1024];
	const char *h = runner_resume_hint(r);
	static const char cmd[] = "ccrup resume";

	if (strstr(h, " --rebind") != NULL)
		return h;
	if (strncmp(h, cmd, sizeof(cmd) - 1) == 0)
		snprintf(buf, sizeof(buf), "%s --rebind%s", cmd, h + sizeof(cmd) - 1);
	else
		snprintf(buf, sizeof(buf), "%s --rebind", h);
	return buf;
}

/* The bindings as the journal's rebind record lists them. */
static json_t *binds_json(const struct runner *r, const struct role_binding *roles, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++) {
		json_t *b = json_pack("{s:s, s:s}", "role", roles[i].role, "host", roles[i].host);
		const struct role_def *d = playbook_role(r->pb, roles[i].role);
		if (d && d->select == SELECT_ALL)
			json_object_set_new(b, "count",
					    json_integer(bind_count(roles, n, roles[i].role)));
		json_array_append_new(a, b);
	}
	return a;
}

/* Is step i of p settled by the journal (done, or skipped not by the operator)? */
static int settled(const struct replay *rp, int i)
{
	const struct replay_step *s = replay_step_at(rp, i);
	return s && (s->state == RS_DONE || (s->state == RS_SKIPPED && !replay_step_op_skipped(s)));
}

/*
 * Is the run as planned stranded by the roles: does a step still to do have
 * a require that reads a role-defining fact and is false now?  The first
 * such step and require go to why.  After a move the run makes itself, the
 * live roles differ from the pinned ones by design and nothing is stranded.
 */
static int stranded(struct runner *r, struct sbuf *why)
{
	char err[1024];
	struct plan *p = plan_compile(r->pb, r->inv, r->cl, r->roles, r->nroles, err, sizeof(err));
	struct facts *f = NULL;
	int found = 0;

	if (p == NULL || replay_plan(r->rp, p, 0, err, sizeof(err)) < 0)
		goto out;
	f = facts_new(p, r->conns, r->o->stop);
	for (int i = 0; i < p->nsteps && !found; i++) {
		const struct plan_step *s = &p->steps[i];
		int total = s->phase->nrequire + s->def->nrequire;
		if (settled(r->rp, i))
			continue;
		for (int k = 0; k < total && !found; k++) {
			const struct expr *e = k < s->phase->nrequire
						   ? s->phase->require[k]
						   : s->def->require[k - s->phase->nrequire];
			int ok = 1;
			if (!reads_role_fact(r->pb, e) ||
			    facts_eval(f, e, s, NULL, r->saved, &ok, NULL, err, sizeof(err)) < 0 ||
			    ok)
				continue;
			sbuf_addf(why, "step %s on %s: `%s` is false", s->id,
				  s->node ? s->node : "-", expr_source(e));
			found = 1;
		}
	}
out:
	facts_free(f);
	plan_free(p);
	return found;
}

/* Show the changes; guided, ask.  RR_OK to go on, RR_REFUSED when declined. */
static enum rres announce(struct runner *r, const struct role_binding *now, int n,
			  const char *stuck)
{
	runner_emitf(r, EV_WARN, NULL,
		     "the live roles of cluster %s differ from the ones run %s was planned with "
		     "(an unplanned failover, or a change by hand); as planned it cannot go on "
		     "(%s):",
		     r->cl->name, r->run_id, stuck);
	for (int i = 0; i < r->pb->nroles; i++) {
		struct sbuf was, is;
		sbuf_init(&was);
		sbuf_init(&is);
		hosts_of(r->roles, r->nroles, r->pb->roles[i].name, &was);
		hosts_of(now, n, r->pb->roles[i].name, &is);
		runner_emitf(r, EV_BIND, NULL, "role %s: %s -> %s%s", r->pb->roles[i].name, was.buf,
			     is.buf, str_ieq(was.buf, is.buf) ? " (unchanged)" : "");
		sbuf_release(&was);
		sbuf_release(&is);
	}
	runner_emitf(r, EV_INFO, NULL,
		     "the rest of the run is planned again from the live roles: a step a node "
		     "already did counts as done where its new role has the same step; nothing "
		     "done is run again, and each step runs on the host its role now names");
	if (r->o->ask == NULL)
		return RR_OK;
	int c = runner_ask(r, "Rebind the roles and re-plan the rest of the run? [y]es [n]o", "yn");
	if (c == 'y')
		return RR_OK;
	snprintf(r->err, sizeof(r->err),
		 "not rebound: nothing was changed; the run keeps its roles (`ccrup resume` is "
		 "refused while they differ from the live ones; %s rebinds)",
		 runner_rebind_hint(r));
	return RR_REFUSED;
}

enum rres runner_rebind(struct runner *r)
{
	struct role_binding *now = NULL;
	int n = 0;
	char err[1024];
	struct sbuf ch, why;
	enum rres rc = RR_OK;

	sbuf_init(&ch);
	sbuf_init(&why);
	if (bind_roles_live(r->pb, r->cl, r->facts, &now, &n, err, sizeof(err)) != 0) {
		snprintf(
		    r->err, sizeof(r->err),
		    "cannot rebind cluster %s from live facts: %s; nothing was changed (fix the "
		    "cause, then run %s again)",
		    r->cl->name, err, runner_rebind_hint(r));
		rc = RR_REFUSED;
		goto out;
	}
	describe_changes(r, now, n, &ch);
	if (ch.len == 0) {
		runner_emitf(r, EV_INFO, NULL,
			     "--rebind: the live roles of cluster %s are the ones the run was "
			     "planned with; nothing to rebind",
			     r->cl->name);
		goto out;
	}
	if (!stranded(r, &why)) {
		snprintf(
		    r->err, sizeof(r->err),
		    "not rebound: the live roles of cluster %s differ from the run's (%s), but "
		    "every step still to do can run as planned (no precondition about the roles "
		    "is false: the run moves them itself); nothing was changed.  Continue with "
		    "`ccrup resume` (without --rebind)",
		    r->cl->name, ch.buf);
		rc = RR_REFUSED;
		goto out;
	}
	if ((rc = announce(r, now, n, why.buf)) != RR_OK)
		goto out;
	json_t *rec = json_pack("{s:o, s:o, s:s}", "old", binds_json(r, r->roles, r->nroles), "new",
				binds_json(r, now, n), "reason", ch.buf);
	if (runner_journal(r, jev_name(JEV_REBIND), NULL, rec) < 0) {
		rc = RR_JOURNAL;
		goto out;
	}
	free(r->roles);
	r->roles = now;
	r->nroles = n;
	now = NULL;
	r->rebound = 1;
out:
	free(now);
	sbuf_release(&ch);
	sbuf_release(&why);
	return rc;
}
