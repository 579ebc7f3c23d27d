/*
 * plan.c — compile a playbook for one cluster into step instances.
 *
 * The order of instances is the order of execution: phases as written;
 * inside a `for_each: GROUP` phase all steps for the first host, then all
 * for the next; a step whose `on` names a group, or a for_each list, fans
 * out in place.  Substitution happens here, once, with the same rules the
 * runner uses, so a plan shows exactly the commands that will run.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpath.h"

struct compile {
	struct plan *p;
	char *err;
	size_t errlen;
};

int plan_assume_roles(const struct playbook *pb, const struct cluster_def *cl,
		      struct role_binding **roles, int *nroles, char *err, size_t errlen)
{
	struct role_binding *r = xcalloc((size_t)pb->nroles + 1, sizeof(*r));
	int n = 0;

	for (int i = 0; i < pb->nroles; i++) {
		const struct role_def *d = &pb->roles[i];
		const struct host_group *g = cluster_group(cl, d->from);
		const char *host = NULL;
		int added = 0;
		if (g == NULL || cl->active == NULL || d->assume == ASSUME_NONE) {
			snprintf(
			    err, errlen,
			    "cluster %s: role '%s' cannot be assumed offline (%s); use plan --live",
			    cl->name, d->name,
			    cl->active == NULL ? "the inventory declares no active node"
					       : "the role has no assume:");
			free(r);
			return -1;
		}
		/* declared: the active host; others: the other members (all of them for a
		   `select: all` role, else the first, or the last for `select: last`). */
		for (int h = 0; h < g->nhosts; h++) {
			int is_active = str_ieq(g->hosts[h], cl->active);
			if ((d->assume == ASSUME_DECLARED) != is_active)
				continue;
			if (d->select == SELECT_ALL) {
				r = xreallocarray(r, (size_t)n + 2, sizeof(*r));
				r[n++] = (struct role_binding){d->name, g->hosts[h], 1, 0};
				added++;
			} else if (host == NULL || d->select == SELECT_LAST) {
				host = g->hosts[h];
			}
		}
		if (host == NULL && added == 0) {
			snprintf(err, errlen, "cluster %s: no host in '%s' fits role '%s'",
				 cl->name, d->from, d->name);
			free(r);
			return -1;
		}
		if (host) {
			r = xreallocarray(r, (size_t)n + 2, sizeof(*r));
			r[n++] = (struct role_binding){d->name, host, 1, 0};
		}
	}
	*roles = r;
	*nroles = n;
	return 0;
}

/*
 * Hosts a role-or-group name stands for (a role: every host bound to it, in
 * binding order).  Returns the count and *hosts (caller frees), -1 if unknown.
 */
static int target_hosts(const struct plan *p, const char *on, const char ***hosts)
{
	int n = 0;
	*hosts = xcalloc((size_t)p->nroles + 1, sizeof(**hosts));
	for (int i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].role, on) == 0)
			(*hosts)[n++] = p->roles[i].host;
	if (n > 0)
		return n;
	free(*hosts);
	*hosts = NULL;
	const struct host_group *g = cluster_group(p->cl, on);
	if (g == NULL)
		return -1;
	*hosts = xcalloc((size_t)g->nhosts + 1, sizeof(**hosts));
	for (int i = 0; i < g->nhosts; i++)
		(*hosts)[i] = g->hosts[i];
	return g->nhosts;
}

void plan_subst_ctx(const struct plan *p, const struct plan_step *s, struct subst_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->pb = p->pb;
	c->inv = p->inv;
	c->cl = p->cl;
	c->roles = p->roles;
	c->nroles = p->nroles;
	if (s) {
		c->node = s->node;
		c->item = s->item;
		if (s->def->for_each) {
			const struct var_def *v = playbook_var(p->pb, s->def->for_each);
			c->item_kind = v ? v->kind : VK_WORD;
		}
	}
}

static int expand_into(struct compile *cc, const struct subst_ctx *c, const char *what,
		       const struct plan_step *s, const char *tmpl, char **out)
{
	char e[512];
	*out = NULL;
	if (tmpl == NULL)
		return 0;
	*out = subst_expand(c, tmpl, e, sizeof(e));
	if (*out == NULL) {
		snprintf(cc->err, cc->errlen, "cluster %s, step %s on %s, %s: %s", cc->p->cl->name,
			 s->id, s->node ? s->node : "-", what, e);
		return -1;
	}
	return 0;
}

static enum pstep_kind step_kind(const struct step_def *d)
{
	if (d->run)
		return PSTEP_RUN;
	if (d->gate)
		return PSTEP_GATE;
	if (d->wait)
		return PSTEP_WAIT;
	if (d->http)
		return PSTEP_HTTP;
	if (d->reboot.when != REBOOT_NEVER)
		return PSTEP_REBOOT;
	return PSTEP_ASSERT;
}

struct offline_eval {
	struct subst_ctx *c;
	int live; /* set when an identifier is not a plain variable */
};

static int offline_ident(const char *name, int col, void *arg)
{
	struct offline_eval *oe = arg;
	enum var_kind k;
	(void)col;
	if (strchr(name, '.') || subst_value(oe->c, name, &k) == NULL)
		oe->live = 1;
	return 0;
}

static const char *offline_lookup(const char *name, void *arg)
{
	enum var_kind k;
	return subst_value(arg, name, &k);
}

/* Evaluate a `when` offline if it only uses variables. */
static enum plan_applies offline_when(const struct expr *e, struct subst_ctx *c)
{
	struct offline_eval oe = {c, 0};
	int result = 0;
	if (e == NULL)
		return APPLIES_YES;
	expr_foreach_ident(e, offline_ident, &oe);
	if (oe.live || expr_eval(e, offline_lookup, c, &result, NULL) < 0)
		return APPLIES_LIVE;
	return result ? APPLIES_YES : APPLIES_NO;
}

struct when_vars {
	struct subst_ctx *c;
	struct sbuf *out;
};

/* Append "name = 'value'" for a variable the `when` reads, once each. */
static int when_var(const char *name, int col, void *arg)
{
	struct when_vars *w = arg;
	enum var_kind k;
	const char *v;
	char *item;
	(void)col;
	if (strchr(name, '.') || (v = subst_value(w->c, name, &k)) == NULL)
		return 0;
	item = xasprintf("%s = '%s'", name, v);
	if (w->out->len == 0 || strstr(w->out->buf, item) == NULL)
		sbuf_addf(w->out, "%s%s", w->out->len ? ", " : "", item);
	free(item);
	return 0;
}

char *plan_when_value(const struct plan *p, const struct plan_step *s, const struct expr *e)
{
	struct subst_ctx c;
	struct sbuf vars, out;
	struct when_vars w = {&c, &vars};
	enum plan_applies a;

	plan_subst_ctx(p, s, &c);
	a = offline_when(e, &c);
	if (a == APPLIES_LIVE)
		return xstrdup("decided live");
	sbuf_init(&vars);
	sbuf_init(&out);
	expr_foreach_ident(e, when_var, &w);
	sbuf_adds(&out, a == APPLIES_YES ? "true" : "false");
	if (vars.len)
		sbuf_addf(&out, ": %s", vars.buf);
	sbuf_release(&vars);
	return sbuf_detach(&out);
}

static enum plan_applies combine(enum plan_applies a, enum plan_applies b)
{
	if (a == APPLIES_NO || b == APPLIES_NO)
		return APPLIES_NO;
	if (a == APPLIES_LIVE || b == APPLIES_LIVE)
		return APPLIES_LIVE;
	return APPLIES_YES;
}

static struct plan_step *new_step(struct plan *p)
{
	p->steps = xreallocarray(p->steps, (size_t)p->nsteps + 1, sizeof(*p->steps));
	struct plan_step *s = &p->steps[p->nsteps++];
	memset(s, 0, sizeof(*s));
	s->index = p->nsteps;
	return s;
}

/* A json path with variables is only checked once substituted. */
static int check_json_path(struct compile *cc, const struct plan_step *s)
{
	char e[256];
	int col = 0;
	if (s->http_json == NULL || jpath_check(s->http_json, &col, e, sizeof(e)) == 0)
		return 0;
	snprintf(cc->err, cc->errlen, "cluster %s, step %s on %s, http_check.json: '%s': %s",
		 cc->p->cl->name, s->id, s->node ? s->node : "-", s->http_json, e);
	return -1;
}

static int fill_step(struct compile *cc, struct plan_step *s)
{
	const struct step_def *d = s->def;
	struct subst_ctx c;

	plan_subst_ctx(cc->p, s, &c);
	s->kind = step_kind(d);
	s->applies = combine(offline_when(s->phase->when, &c), offline_when(d->when, &c));
	if (expand_into(cc, &c, "name", s, d->name, &s->name) < 0 ||
	    expand_into(cc, &c, "run", s, d->run, &s->command) < 0 ||
	    expand_into(cc, &c, "check", s, d->check.probe ? d->check.probe->run : NULL,
			&s->check_cmd) < 0 ||
	    expand_into(cc, &c, "verify", s, d->verify.probe ? d->verify.probe->run : NULL,
			&s->verify_cmd) < 0 ||
	    expand_into(cc, &c, "reboot.ready", s,
			d->reboot.ready.probe ? d->reboot.ready.probe->run : NULL,
			&s->ready_cmd) < 0 ||
	    expand_into(cc, &c, "record", s, d->record ? d->record->run : NULL, &s->record_cmd) < 0)
		return -1;
	if (d->http && s->applies != APPLIES_NO &&
	    (expand_into(cc, &c, "http_check.url", s, d->http->url, &s->url) < 0 ||
	     expand_into(cc, &c, "http_check.json", s, d->http->json, &s->http_json) < 0 ||
	     check_json_path(cc, s) < 0))
		return -1;
	return 0;
}

static int add_instance(struct compile *cc, const struct phase_def *ph, const struct step_def *d,
			const char *node, const char *item)
{
	struct plan_step *s = new_step(cc->p);
	s->phase = ph;
	s->def = d;
	s->node = node ? xstrdup(node) : NULL;
	s->item = item ? xstrdup(item) : NULL;
	s->id =
	    item ? xasprintf("%s.%s[%s]", ph->id, d->id, item) : xasprintf("%s.%s", ph->id, d->id);
	return fill_step(cc, s);
}

/* One step on one host: fan out over for_each items. */
static int add_step_on_host(struct compile *cc, const struct phase_def *ph,
			    const struct step_def *d, const char *node)
{
	if (d->for_each == NULL)
		return add_instance(cc, ph, d, node, NULL);

	struct subst_ctx c;
	char *const *items = NULL;
	int n = 0;
	plan_subst_ctx(cc->p, NULL, &c);
	c.node = node;
	if (subst_list(&c, d->for_each, &items, &n) < 0) {
		snprintf(cc->err, cc->errlen, "step %s.%s: '%s' is not a list variable", ph->id,
			 d->id, d->for_each);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (add_instance(cc, ph, d, node, items[i]) < 0)
			return -1;
	return 0;
}

/* One step of a phase: on the phase host, or fanned out over its own `on`. */
static int add_step(struct compile *cc, const struct phase_def *ph, const struct step_def *d,
		    const char *phase_host)
{
	const char **hosts = NULL;
	int n, rc = 0;

	if (d->on == NULL)
		return add_step_on_host(cc, ph, d, phase_host);
	n = target_hosts(cc->p, d->on, &hosts);
	if (n < 0) {
		snprintf(cc->err, cc->errlen,
			 "cluster %s: step %s.%s runs on '%s', which is no role "
			 "or group of this cluster",
			 cc->p->cl->name, ph->id, d->id, d->on);
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = add_step_on_host(cc, ph, d, hosts[i]);
	free(hosts);
	return rc;
}

static int is_role(const struct plan *p, const char *name)
{
	for (int i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].role, name) == 0)
			return 1;
	return 0;
}

/*
 * A phase on a role runs its steps on that host; `for_each: GROUP` runs all
 * steps host by host; `on: GROUP` runs each step on every host of the group
 * before the next step (step by step).
 */
static int add_phase(struct compile *cc, const struct phase_def *ph)
{
	const char **hosts = NULL;
	const char *on = ph->for_each ? ph->for_each : ph->on;
	int n = target_hosts(cc->p, on, &hosts), rc = 0;

	if (n < 0) {
		snprintf(
		    cc->err, cc->errlen,
		    "cluster %s: phase %s runs on '%s', which is no role or group of this cluster",
		    cc->p->cl->name, ph->id, on);
		return -1;
	}
	if (ph->for_each || is_role(cc->p, on)) {
		for (int h = 0; h < n && rc == 0; h++)
			for (int i = 0; i < ph->nsteps && rc == 0; i++)
				rc = add_step(cc, ph, &ph->steps[i], hosts[h]);
		free(hosts);
		return rc;
	}
	for (int i = 0; i < ph->nsteps && rc == 0; i++) {
		const struct step_def *d = &ph->steps[i];
		int fan = d->on ? 1 : n;
		for (int h = 0; h < fan && rc == 0; h++)
			rc = add_step(cc, ph, d, d->on ? NULL : hosts[h]);
	}
	free(hosts);
	return rc;
}

static void summarise(struct plan *p)
{
	int64_t running = 0, at_begin = -1;

	for (int i = 0; i < p->nsteps; i++) {
		const struct plan_step *s = &p->steps[i];
		if (s->applies == APPLIES_NO)
			continue;
		/* A `within` step is a whole outage by itself: it begins and ends the window. */
		int begins = s->def->outage == OUTAGE_BEGINS || s->def->outage == OUTAGE_WITHIN;
		int ends = s->def->outage == OUTAGE_ENDS || s->def->outage == OUTAGE_WITHIN;
		if (begins && p->outage_begin == 0) {
			p->outage_begin = s->index;
			at_begin = running;
		}
		running += s->def->estimate_ms;
		if (ends && p->outage_begin && p->outage_end == 0) {
			p->outage_end = s->index;
			p->outage_ms = running - at_begin;
		}
		if (s->def->point_of_no_return && p->ponr == 0)
			p->ponr = s->index;
	}
	p->estimate_ms = running;
}

struct plan *plan_compile(const struct playbook *pb, const struct inventory *inv,
			  const struct cluster_def *cl, const struct role_binding *roles,
			  int nroles, char *err, size_t errlen)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	struct compile cc = {p, err, errlen};

	p->pb = pb;
	p->inv = inv;
	p->cl = cl;
	p->roles = xcalloc((size_t)nroles + 1, sizeof(*p->roles));
	if (nroles > 0)
		memcpy(p->roles, roles, (size_t)nroles * sizeof(*roles));
	p->nroles = nroles;
	for (int i = 0; i < pb->nphases; i++) {
		if (add_phase(&cc, &pb->phases[i]) < 0) {
			plan_free(p);
			return NULL;
		}
	}
	summarise(p);
	return p;
}

void plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->runs);
	const struct host_group *vg =
	    p->versions && p->pb->version_on ? cluster_group(p->cl, p->pb->version_on) : NULL;
	for (int i = 0; vg && i < vg->nhosts; i++)
		free(p->versions[i]);
	free(p->versions);
	for (int i = 0; i < p->nsteps; i++) {
		struct plan_step *s = &p->steps[i];
		free(s->id);
		free(s->node);
		free(s->item);
		free(s->name);
		free(s->command);
		free(s->check_cmd);
		free(s->verify_cmd);
		free(s->ready_cmd);
		free(s->record_cmd);
		free(s->url);
		free(s->http_json);
	}
	free(p->steps);
	free(p->roles);
	free(p);
}

/* Call fn for each host of the cluster once, in group order. */
static void each_host(const struct plan *p, void (*fn)(const struct host_def *, void *), void *arg)
{
	const struct cluster_def *cl = p->cl;

	for (int g = 0; g < cl->ngroups; g++)
		for (int i = 0; i < cl->groups[g].nhosts; i++) {
			const char *name = cl->groups[g].hosts[i];
			int seen = 0;
			for (int g2 = 0; g2 <= g && !seen; g2++)
				for (int k = 0; k < (g2 == g ? i : cl->groups[g2].nhosts); k++)
					if (strcmp(cl->groups[g2].hosts[k], name) == 0)
						seen = 1;
			const struct host_def *h = inventory_host(p->inv, name);
			if (!seen && h != NULL)
				fn(h, arg);
		}
}

static void transport_text(const struct host_def *h, void *arg)
{
	struct sbuf *b = arg;
	int v6 = strchr(h->address, ':') != NULL;

	if (b->len > 0)
		sbuf_adds(b, ", ");
	if (h->transport == TRANSPORT_WINRM)
		sbuf_addf(b, "%s winrm %s://%s%s%s:%d", h->name, h->winrm.https ? "https" : "http",
			  v6 ? "[" : "", h->address, v6 ? "]" : "",
			  h->winrm.port > 0 ? h->winrm.port
			  : h->winrm.https  ? 5986
					    : 5985);
	else
		sbuf_addf(b, "%s ssh %s%s%s:%d", h->name, v6 ? "[" : "", h->address, v6 ? "]" : "",
			  h->port);
}

char *plan_transports(const struct plan *p)
{
	struct sbuf b;

	sbuf_init(&b);
	each_host(p, transport_text, &b);
	return sbuf_detach(&b);
}

static void transport_json(const struct host_def *h, void *arg)
{
	json_object_set_new(arg, h->name,
			    json_string(h->transport == TRANSPORT_WINRM ? "winrm" : "ssh"));
}

json_t *plan_transports_json(const struct plan *p)
{
	json_t *o = json_object();

	each_host(p, transport_json, o);
	return o;
}

char *plan_role_hosts(const struct plan *p, const char *role)
{
	struct sbuf b;
	int n = 0;
	sbuf_init(&b);
	for (int i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].role, role) == 0)
			sbuf_addf(&b, "%s%s", n++ ? "," : "", p->roles[i].host);
	if (n == 0) {
		sbuf_release(&b);
		return NULL;
	}
	return sbuf_detach(&b);
}

const struct plan_step *plan_find(const struct plan *p, const char *id, const char *node)
{
	for (int i = 0; i < p->nsteps; i++) {
		const struct plan_step *s = &p->steps[i];
		if (strcmp(s->id, id) != 0)
			continue;
		if ((node == NULL && s->node == NULL) ||
		    (node && s->node && str_ieq(node, s->node)))
			return s;
	}
	return NULL;
}
