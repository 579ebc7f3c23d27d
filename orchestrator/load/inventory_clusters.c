/*
 * inventory_clusters.c — the clusters: and notify: lists of an inventory.
 *
 * A cluster's groups are kept in one array with a fixed order — members
 * first, then hub_cas if given, then the custom groups: — so that
 * groups[0] is always the members (model.h relies on it) and a playbook's
 * `on: GROUP` finds any of them by name.  A host belongs to the members
 * of at most one cluster: two runs upgrading one node from two clusters'
 * journals would each believe it owns that node.
 */
#include "inventory_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const cluster_keys[] = {"name",   "cms",  "members",	    "active", "hub_cas",
					   "groups", "vars", "acknowledge", NULL};
static const char *const notify_keys[] = {"name",    "kind",	"url",		"events",
					  "timeout", "retries", "insecure_tls", NULL};
static const char *const notify_kinds[] = {"webhook", "slack", "teams", NULL};
static const char *const event_names[] = {
    "run-start", "phase-start", "outage-start", "outage-end", "step-failed", "run-end", NULL};

static void undefined_host(struct yctx *c, const struct inventory *inv, const struct ynode *n,
			   const char *group)
{
	const char *near = NULL;
	const char **names = NULL;

	if (ydiag_room(c)) {
		names = xcalloc((size_t)inv->nhosts + 1, sizeof(*names));
		for (int i = 0; i < inv->nhosts; i++)
			names[i] = inv->hosts[i].name;
		near = ysuggest(n->text, names);
	}
	if (near)
		yerr(c, n, "undefined host '%s' in '%s' (did you mean '%s'?)", yq(c, n->text),
		     group, near);
	else
		yerr(c, n, "undefined host '%s' in '%s' (define it under hosts:)", yq(c, n->text),
		     group);
	free(names);
}

static int group_has(const struct host_group *g, const char *host)
{
	for (int i = 0; i < g->nhosts; i++)
		if (strcmp(g->hosts[i], host) == 0)
			return 1;
	return 0;
}

static void read_group(struct invctx *x, const struct ynode *l, const char *name,
		       struct host_group *g)
{
	struct yctx *c = &x->y;
	struct nameidx seen;

	g->name = xstrdup(name);
	g->loc = yloc(c, l);
	if (!ytype(c, l, YNODE_SEQ, name))
		return;
	nameidx_init(&seen, 0);
	g->hosts = xcalloc((size_t)l->n + 1, sizeof(*g->hosts));
	for (int i = 0; i < l->n; i++) {
		const struct ynode *h = l->items[i];
		if (!ytype(c, h, YNODE_SCALAR, name))
			continue;
		if (nameidx_get(&x->hosts, h->text) < 0)
			undefined_host(c, x->inv, h, name);
		else if (nameidx_put(&seen, h->text, i) >= 0)
			yerr(c, h, "host '%s' is listed twice in '%s'", h->text, name);
		else
			g->hosts[g->nhosts++] = xstrdup(h->text);
	}
	nameidx_release(&seen);
}

static struct host_group *add_group(struct cluster_def *cl)
{
	cl->groups = xreallocarray(cl->groups, (size_t)cl->ngroups + 1, sizeof(*cl->groups));
	struct host_group *g = &cl->groups[cl->ngroups++];
	memset(g, 0, sizeof(*g));
	return g;
}

static void read_custom_groups(struct invctx *x, const struct ynode *m, struct cluster_def *cl)
{
	struct yctx *c = &x->y;

	if (m == NULL || !ytype(c, m, YNODE_MAP, "groups"))
		return;
	for (int i = 0; i < m->n; i++) {
		const struct ynode *k = m->keys[i];
		if (strcmp(k->text, "members") == 0 || strcmp(k->text, "hub_cas") == 0)
			yerr(c, k, "group '%s' is set by the cluster's own '%s:' key", k->text,
			     k->text);
		else if (!name_is_ident(k->text))
			yerr(c, k, "bad group name '%s' (lower-case letters, digits, '_')",
			     yq(c, k->text));
		else
			read_group(x, m->items[i], k->text, add_group(cl));
	}
}

/* A host is a member of one cluster only (cluster ci is the one being read). */
static void check_membership(struct invctx *x, int ci, const struct ynode *l)
{
	for (int i = 0; i < l->n; i++) {
		const struct ynode *h = l->items[i];
		if (h->kind != YNODE_SCALAR || nameidx_get(&x->hosts, h->text) < 0)
			continue;
		int k = nameidx_put(&x->members, h->text, ci);
		if (k < 0 || k == ci)
			continue;
		const char *other = x->inv->clusters[k].name;
		yerr(&x->y, h, "host '%s' is already a member of cluster '%s'", h->text,
		     other ? other : "?");
	}
}

static void read_members(struct invctx *x, const struct ynode *m, struct cluster_def *cl, int ci)
{
	struct yctx *c = &x->y;
	const struct ynode *l = ymap_get(m, "members");
	const struct ynode *active = NULL;
	struct host_group *g = add_group(cl);

	if (yrequire(c, m, "members", "cluster") < 0) {
		g->name = xstrdup("members");
		return;
	}
	read_group(x, l, "members", g);
	if (l->kind == YNODE_SEQ && l->n == 0)
		yerr(c, l, "'members' is empty: a cluster needs at least one member");
	if (l->kind == YNODE_SEQ)
		check_membership(x, ci, l);
	if (yget_scalar(c, m, "active", &active) != 1)
		return;
	if (!group_has(g, active->text))
		yerr(c, active, "active '%s' is not a member of the cluster", yq(c, active->text));
	else
		cl->active = xstrdup(active->text);
}

static void read_acknowledge(struct yctx *c, const struct ynode *m, struct cluster_def *cl)
{
	const struct ynode *l = ymap_get(m, "acknowledge");
	if (yget_str_list(c, m, "acknowledge", &cl->acknowledge, &cl->nacknowledge,
			  &cl->acknowledge_loc) != 1)
		return;
	for (int i = 0; i < cl->nacknowledge; i++) {
		const char *s = cl->acknowledge[i], *dot = strchr(s, '.');
		if (dot == NULL || strchr(dot + 1, '.') || dot == s || dot[1] == '\0')
			yerr(c, l->items[i], "acknowledge '%s' is not a gate id 'PHASE.STEP'",
			     yq(c, s));
	}
}

static void read_cluster_name(struct invctx *x, const struct ynode *m, struct cluster_def *cl,
			      int ci)
{
	struct yctx *c = &x->y;
	const struct ynode *n = NULL;

	if (yrequire(c, m, "name", "cluster") < 0 || yget_scalar(c, m, "name", &n) != 1)
		return;
	if (!var_kind_check(VK_NAME, NULL, n->text)) {
		yerr(c, n, "bad cluster name '%s' (%s)", yq(c, n->text), var_kind_hint(VK_NAME));
		return;
	}
	cl->name = xstrdup(n->text);
	int k = nameidx_put(&x->clusters, cl->name, ci);
	if (k >= 0)
		yerr(c, n, "duplicate cluster name '%s' (first at %d:%d)", n->text,
		     x->inv->clusters[k].loc.line, x->inv->clusters[k].loc.col);
}

static void read_cluster(struct invctx *x, const struct ynode *m, int ci)
{
	struct yctx *c = &x->y;
	struct cluster_def *cl = &x->inv->clusters[ci];

	cl->loc = yloc(c, m);
	if (!ytype(c, m, YNODE_MAP, "clusters"))
		return;
	ykeys(c, m, cluster_keys, "cluster");
	read_cluster_name(x, m, cl, ci);
	if (yget_str(c, m, "cms", &cl->cms) == 1 && !var_kind_check(VK_NAME, NULL, cl->cms))
		yerr(c, ymap_get(m, "cms"), "bad name '%s' in 'cms:' (%s)", yq(c, cl->cms),
		     var_kind_hint(VK_NAME));
	read_members(x, m, cl, ci);
	if (ymap_get(m, "hub_cas"))
		read_group(x, ymap_get(m, "hub_cas"), "hub_cas", add_group(cl));
	read_custom_groups(x, ymap_get(m, "groups"), cl);
	inv_read_values(c, ymap_get(m, "vars"), &cl->vars, &cl->nvars);
	read_acknowledge(c, m, cl);
}

void inv_read_clusters(struct invctx *x, const struct ynode *l)
{
	struct inventory *inv = x->inv;

	if (!ytype(&x->y, l, YNODE_SEQ, "clusters"))
		return;
	if (l->n == 0)
		yerr(&x->y, l, "'clusters' is empty: an inventory needs at least one cluster");
	inv->clusters = xcalloc((size_t)l->n + 1, sizeof(*inv->clusters));
	for (int i = 0; i < l->n; i++) {
		inv->nclusters++;
		read_cluster(x, l->items[i], i);
	}
}

void inv_cluster_release(struct cluster_def *cl)
{
	free(cl->name);
	free(cl->cms);
	free(cl->active);
	for (int g = 0; g < cl->ngroups; g++) {
		free(cl->groups[g].name);
		strv_free(cl->groups[g].hosts, cl->groups[g].nhosts);
	}
	free(cl->groups);
	inv_values_release(cl->vars, cl->nvars);
	strv_free(cl->acknowledge, cl->nacknowledge);
	free(cl->acknowledge_loc);
}

static void read_events(struct yctx *c, const struct ynode *m, struct notify_def *nd)
{
	if (yget_str_list(c, m, "events", &nd->events, &nd->nevents, NULL) != 1)
		return;
	const struct ynode *l = ymap_get(m, "events");
	for (int i = 0; i < nd->nevents; i++) {
		int known = 0;
		for (int k = 0; event_names[k]; k++)
			known |= strcmp(nd->events[i], event_names[k]) == 0;
		if (!known) {
			const char *near = ysuggest(nd->events[i], event_names);
			yerr(c, l->items[i],
			     "unknown event '%s' (%s%s%sevents: run-start, phase-start, "
			     "outage-start, outage-end, step-failed, run-end)",
			     yq(c, nd->events[i]), near ? "did you mean '" : "", near ? near : "",
			     near ? "'? " : "");
		}
	}
}

static void read_notify_one(struct yctx *c, const struct inventory *inv, const struct ynode *m,
			    struct notify_def *nd)
{
	int kind = 0;
	int64_t r = 2;

	nd->loc = yloc(c, m);
	nd->timeout_ms = 10 * 1000;
	nd->retries = 2;
	if (!ytype(c, m, YNODE_MAP, "notify"))
		return;
	ykeys(c, m, notify_keys, "notify");
	if (yrequire(c, m, "name", "notify") == 0 && yget_str(c, m, "name", &nd->name) == 1) {
		if (!var_kind_check(VK_WORD, NULL, nd->name))
			yerr(c, ymap_get(m, "name"),
			     "bad notify name '%s' (letters, digits, _ . -)", yq(c, nd->name));
		for (int i = 0; i < inv->nnotify - 1; i++)
			if (inv->notify[i].name && strcmp(inv->notify[i].name, nd->name) == 0)
				yerr(c, ymap_get(m, "name"), "duplicate notify name '%s'",
				     nd->name);
	}
	if (yget_enum(c, m, "kind", notify_kinds, &kind) == 1)
		nd->kind = (enum notify_kind)kind;
	if (yrequire(c, m, "url", "notify") == 0 && yget_str(c, m, "url", &nd->url) == 1 &&
	    (nd->url[0] == '\0' || !var_kind_check(VK_URL, NULL, nd->url)))
		yerr(c, ymap_get(m, "url"), "bad url '%s' (%s)", yq_url(c, nd->url, 1),
		     var_kind_hint(VK_URL));
	read_events(c, m, nd);
	yget_duration(c, m, "timeout", 1, &nd->timeout_ms);
	if (yget_int(c, m, "retries", 0, 10, &r) == 1)
		nd->retries = (int)r;
	yget_bool(c, m, "insecure_tls", &nd->insecure);
}

void inv_read_notify(struct yctx *c, const struct ynode *l, struct inventory *inv)
{
	if (l == NULL || (l->kind == YNODE_SCALAR && l->is_null) ||
	    !ytype(c, l, YNODE_SEQ, "notify"))
		return;
	inv->notify = xcalloc((size_t)l->n + 1, sizeof(*inv->notify));
	for (int i = 0; i < l->n; i++) {
		inv->nnotify++;
		read_notify_one(c, inv, l->items[i], &inv->notify[i]);
	}
}
