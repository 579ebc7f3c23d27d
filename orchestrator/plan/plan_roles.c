/*
 * plan_roles.c — who holds each role after the run, as the plan's own
 * `verify`s leave the facts the roles are bound by (see plan.h).
 *
 * A role is bound by its `where:` over facts (`cms_owner == node`).  Each
 * step that applies promises, through its verify, that some facts equal
 * something (`cms_owner == node` on NODE2: cms_owner becomes NODE2).  Those
 * promises, in plan order, last one winning, are the predicted facts; a role
 * whose `where:` needs a fact no step promises is not predicted.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

struct promise {
	const char *fact; /* borrowed from the playbook */
	const char *host; /* node-scoped facts: the step's node; NULL for cluster facts */
	char *value;	  /* owned */
};

struct predicted {
	const struct plan *p;
	const struct plan_step *s; /* the step whose verify is being read */
	struct promise *v;
	int n;
};

static void promise_set(struct predicted *pr, const char *fact, const char *host, const char *value)
{
	for (int i = 0; i < pr->n; i++)
		if (strcmp(pr->v[i].fact, fact) == 0 &&
		    ((host == NULL && pr->v[i].host == NULL) ||
		     (host && pr->v[i].host && strcmp(host, pr->v[i].host) == 0))) {
			free(pr->v[i].value);
			pr->v[i].value = xstrdup(value);
			return;
		}
	pr->v = xrealloc(pr->v, (size_t)(pr->n + 1) * sizeof(*pr->v));
	pr->v[pr->n++] = (struct promise){fact, host, xstrdup(value)};
}

static const char *promise_get(const struct predicted *pr, const char *fact, const char *host)
{
	for (int i = pr->n - 1; i >= 0; i--)
		if (strcmp(pr->v[i].fact, fact) == 0 &&
		    (pr->v[i].host == NULL || (host && strcmp(host, pr->v[i].host) == 0)))
			return pr->v[i].value;
	return NULL;
}

/* One `FACT == OPERAND` of a verify: remember what the step leaves FACT at. */
static int on_equality(const char *name, const char *operand, int is_ident, void *arg)
{
	struct predicted *pr = arg;
	const struct fact_def *fd = playbook_fact(pr->p->pb, name);
	struct subst_ctx c;
	enum var_kind k;
	const char *value = operand;

	if (fd == NULL)
		return 0;
	if (is_ident) {
		plan_subst_ctx(pr->p, pr->s, &c);
		if ((value = subst_value(&c, operand, &k)) == NULL)
			return 0; /* another fact: not a value the plan knows */
	}
	promise_set(pr, fd->name, fd->scope == FACT_NODE ? pr->s->node : NULL, value);
	return 0;
}

struct where_ctx {
	const struct predicted *pr;
	struct subst_ctx c; /* node: the candidate */
};

static const char *where_lookup(const char *name, void *arg)
{
	struct where_ctx *w = arg;
	enum var_kind k;
	if (playbook_fact(w->pr->p->pb, name))
		return promise_get(w->pr, name, w->c.node);
	return subst_value(&w->c, name, &k);
}

/* The hosts role d would be bound to with the predicted facts, or NULL. */
static char *role_after(const struct predicted *pr, const struct role_def *d)
{
	const struct host_group *g = cluster_group(pr->p->cl, d->from);
	struct sbuf b;
	int nfound = 0;

	if (g == NULL)
		return NULL;
	sbuf_init(&b);
	for (int i = 0; i < g->nhosts; i++) {
		struct where_ctx w = {pr, {0}};
		int ok = 0;
		plan_subst_ctx(pr->p, NULL, &w.c);
		w.c.node = g->hosts[i];
		if (expr_eval(d->where, where_lookup, &w, &ok, NULL) < 0) {
			sbuf_release(&b);
			return NULL; /* a fact no step promises */
		}
		if (!ok || (nfound && d->select == SELECT_FIRST))
			continue;
		if (d->select != SELECT_ALL)
			sbuf_reset(&b);
		sbuf_addf(&b, "%s%s", b.len ? "," : "", g->hosts[i]);
		nfound++;
	}
	if (nfound == 0 || (d->select == SELECT_ONE && nfound > 1)) {
		sbuf_release(&b);
		return NULL;
	}
	return sbuf_detach(&b);
}

char **plan_roles_after(const struct plan *p)
{
	struct predicted pr = {.p = p};
	char **after = xcalloc((size_t)p->pb->nroles + 1, sizeof(*after));

	for (int i = 0; i < p->nsteps; i++) {
		pr.s = &p->steps[i];
		if (pr.s->applies != APPLIES_NO && (p->runs == NULL || p->runs[i]) &&
		    pr.s->def->verify.expr)
			expr_foreach_equality(pr.s->def->verify.expr, on_equality, &pr);
	}
	for (int r = 0; r < p->pb->nroles; r++)
		after[r] = role_after(&pr, &p->pb->roles[r]);
	for (int i = 0; i < pr.n; i++)
		free(pr.v[i].value);
	free(pr.v);
	return after;
}

void plan_roles_after_free(const struct plan *p, char **after)
{
	for (int r = 0; after && r < p->pb->nroles; r++)
		free(after[r]);
	free(after);
}
