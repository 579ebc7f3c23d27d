/*
 * model_validate.c — does this inventory suit this playbook?  (contract in
 * model.h)
 *
 * The two files are loaded independently, so what ties them together is
 * checked here: every variable an inventory sets is one the playbook
 * declares, fits the declared kind and shape (scalar or list) and is not a
 * raw command fragment; variables without a default are set; every group
 * the playbook runs on exists in every cluster; acknowledged gates are
 * gates; and a playbook that substitutes ${cms} gets a CMS name.  Errors
 * point at the inventory line that has to change, or at the cluster when
 * something is missing.
 */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "util.h"

struct vctx {
	const struct playbook *pb;
	const struct inventory *inv;
	struct yctx y;	      /* file = the inventory */
	struct nameidx vars;  /* playbook var name -> index */
	struct nameidx hosts; /* inventory host name -> index */
};

static const struct var_def *var_of(const struct vctx *v, const char *name)
{
	int i = nameidx_get(&v->vars, name);
	return i < 0 ? NULL : &v->pb->vars[i];
}

static void verr(struct vctx *v, const struct src_loc *l, const char *fmt, ...) CCR_PRINTF(3, 4);

static void verr(struct vctx *v, const struct src_loc *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(v->y.d, l->file ? l->file : v->inv->path, l->line, l->col, "%s", msg);
	v->y.nerr++;
	free(msg);
}

static void unknown_var(struct vctx *v, const struct inv_value *iv)
{
	const char **names = xcalloc((size_t)v->pb->nvars + 1, sizeof(*names));
	struct sbuf sb;

	sbuf_init(&sb);
	for (int i = 0; i < v->pb->nvars; i++) {
		names[i] = v->pb->vars[i].name;
		sbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = ydiag_room(&v->y) ? ysuggest(iv->key, names) : NULL;
	if (near)
		verr(v, &iv->key_loc,
		     "unknown variable '%s' (did you mean '%s'? the playbook %s declares: %s)",
		     yq(&v->y, iv->key), near, v->pb->name, sb.buf);
	else
		verr(v, &iv->key_loc, "unknown variable '%s' (the playbook %s declares: %s)",
		     yq(&v->y, iv->key), v->pb->name, sb.len ? sb.buf : "none");
	sbuf_release(&sb);
	free(names);
}

static void check_one_value(struct vctx *v, const struct var_def *def, const char *value,
			    const struct src_loc *l)
{
	if (var_kind_check(def->kind, def, value))
		return;
	if (def->kind == VK_ENUM) {
		struct sbuf sb;
		sbuf_init(&sb);
		for (int i = 0; i < def->nvalues; i++)
			sbuf_addf(&sb, "%s%s", i ? ", " : "", def->values[i]);
		verr(v, l, "value '%s' for '%s' is not one of: %s", yq(&v->y, value), def->name,
		     sb.buf);
		sbuf_release(&sb);
		return;
	}
	verr(v, l, "value '%s' for '%s' is not a valid %s (%s)",
	     def->kind == VK_URL ? yq_url(&v->y, value, 0) : yq(&v->y, value), def->name,
	     var_kind_name(def->kind), var_kind_hint(def->kind));
}

static void check_value(struct vctx *v, const struct inv_value *iv)
{
	const struct var_def *def = var_of(v, iv->key);

	if (def == NULL) {
		unknown_var(v, iv);
	} else if (def->kind == VK_RAW) {
		verr(v, &iv->key_loc,
		     "variable '%s' is a raw command fragment: only the playbook sets it, an "
		     "inventory may not",
		     iv->key);
	} else if (def->is_list != iv->is_list) {
		verr(v, &iv->loc, "'%s': expected %s, got %s", iv->key,
		     def->is_list ? "a list (it is a list variable)" : "a string",
		     iv->is_list ? "a list" : "a string");
	} else if (iv->is_list) {
		for (int i = 0; i < iv->nlist; i++)
			check_one_value(v, def, iv->list[i],
					iv->list_loc ? &iv->list_loc[i] : &iv->loc);
	} else {
		check_one_value(v, def, iv->value, &iv->loc);
	}
}

static int host_sets(const struct vctx *v, const char *host, const char *var)
{
	int i = nameidx_get(&v->hosts, host);
	const struct host_def *h = i < 0 ? NULL : &v->inv->hosts[i];
	for (int k = 0; h && k < h->nvars; k++)
		if (strcmp(h->vars[k].key, var) == 0)
			return 1;
	return 0;
}

/* A var without a default must be set by the cluster, or by every member host. */
static void check_required(struct vctx *v, const struct cluster_def *cl)
{
	for (int i = 0; i < v->pb->nvars; i++) {
		const struct var_def *def = &v->pb->vars[i];
		int has_default = def->is_list ? def->ndef_list >= 0 : def->def != NULL;
		if (has_default || cluster_var(cl, def->name))
			continue;
		int all = cl->ngroups > 0 && cl->groups[0].nhosts > 0;
		for (int h = 0; all && h < cl->groups[0].nhosts; h++)
			all = host_sets(v, cl->groups[0].hosts[h], def->name);
		if (!all)
			verr(v, &cl->loc,
			     "cluster '%s' does not set variable '%s' (the playbook %s has no "
			     "default for it)",
			     cl->name, def->name, v->pb->name);
	}
}

static int is_role(const struct playbook *pb, const char *name)
{
	return playbook_role(pb, name) != NULL;
}

static void need_group(struct vctx *v, const struct cluster_def *cl, const char *group,
		       const struct src_loc *used)
{
	if (group == NULL || is_role(v->pb, group) || cluster_group(cl, group))
		return;
	verr(v, &cl->loc, "cluster '%s' has no group '%s' (the playbook %s uses it at %s:%d:%d)",
	     cl->name, group, v->pb->name, used->file, used->line, used->col);
}

/* Every group a role, phase or step runs on (reported once per cluster and group). */
static void check_groups(struct vctx *v, const struct cluster_def *cl)
{
	const struct playbook *pb = v->pb;
	int before = v->y.nerr;

	for (int i = 0; i < pb->nroles; i++)
		need_group(v, cl, pb->roles[i].from, &pb->roles[i].loc);
	for (int p = 0; p < pb->nphases && v->y.nerr == before; p++) {
		const struct phase_def *ph = &pb->phases[p];
		need_group(v, cl, ph->on, &ph->loc);
		need_group(v, cl, ph->for_each, &ph->loc);
		for (int s = 0; s < ph->nsteps && v->y.nerr == before; s++)
			need_group(v, cl, ph->steps[s].on, &ph->steps[s].loc);
	}
}

static const struct step_def *find_step(const struct playbook *pb, const char *full)
{
	const char *dot = strchr(full, '.');
	for (int p = 0; dot && p < pb->nphases; p++) {
		const struct phase_def *ph = &pb->phases[p];
		if (strlen(ph->id) != (size_t)(dot - full) ||
		    strncmp(ph->id, full, (size_t)(dot - full)))
			continue;
		for (int s = 0; s < ph->nsteps; s++)
			if (strcmp(ph->steps[s].id, dot + 1) == 0)
				return &ph->steps[s];
	}
	return NULL;
}

static void check_acknowledge(struct vctx *v, const struct cluster_def *cl)
{
	for (int i = 0; i < cl->nacknowledge; i++) {
		const char *a = cl->acknowledge[i];
		const struct src_loc *l = &cl->acknowledge_loc[i];
		const struct step_def *s = find_step(v->pb, a);
		if (s == NULL)
			verr(v, l, "acknowledged gate '%s' is not a step of the playbook %s",
			     yq(&v->y, a), v->pb->name);
		else if (s->gate == NULL)
			verr(v, l, "'%s' is not a gate: only gate steps can be acknowledged",
			     yq(&v->y, a));
	}
}

/* Does a template say ${name}, or an expression use the identifier name? */
struct uses {
	const char *name;
	char tmpl[80]; /* "${name}" */
};

static int ident_is(const char *ident, int col, void *arg)
{
	(void)col;
	return strcmp(ident, ((const struct uses *)arg)->name) == 0;
}

static int e_uses(const struct expr *e, struct uses *u)
{
	return e && expr_foreach_ident(e, ident_is, u);
}

static int t_uses(const char *t, const struct uses *u)
{
	return t && strstr(t, u->tmpl);
}

static int cond_uses(const struct cond *k, struct uses *u)
{
	return e_uses(k->expr, u) || (k->probe && t_uses(k->probe->run, u));
}

static int step_uses(const struct step_def *s, struct uses *u)
{
	int r = t_uses(s->name, u) || t_uses(s->run, u) || e_uses(s->when, u) ||
		cond_uses(&s->check, u) || cond_uses(&s->verify, u) ||
		cond_uses(&s->reboot.ready, u) || (s->record && t_uses(s->record->run, u)) ||
		(s->wait && e_uses(s->wait->until, u)) || (s->http && t_uses(s->http->url, u));
	for (int i = 0; !r && i < s->nrequire; i++)
		r = e_uses(s->require[i], u);
	return r;
}

static int model_uses_name(const struct playbook *pb, const char *name)
{
	struct uses u = {.name = name};
	int r = 0;

	snprintf(u.tmpl, sizeof(u.tmpl), "${%s}", name);
	for (int i = 0; !r && i < pb->nfacts; i++)
		r = t_uses(pb->facts[i].run, &u);
	for (int i = 0; !r && i < pb->nroles; i++)
		r = e_uses(pb->roles[i].where, &u);
	for (int p = 0; !r && p < pb->nphases; p++) {
		const struct phase_def *ph = &pb->phases[p];
		r = e_uses(ph->when, &u);
		for (int i = 0; !r && i < ph->nrequire; i++)
			r = e_uses(ph->require[i], &u);
		for (int s = 0; !r && s < ph->nsteps; s++)
			r = step_uses(&ph->steps[s], &u);
	}
	return r;
}

static void check_cluster(struct vctx *v, const struct cluster_def *cl)
{
	for (int i = 0; i < cl->nvars; i++)
		check_value(v, &cl->vars[i]);
	check_required(v, cl);
	check_groups(v, cl);
	check_acknowledge(v, cl);
	if (cl->cms == NULL && model_uses_name(v->pb, "cms"))
		verr(v, &cl->loc, "cluster '%s' has no 'cms:' but the playbook %s uses ${cms}",
		     cl->name, v->pb->name);
}

int model_validate(const struct playbook *pb, const struct inventory *inv, struct diag *d)
{
	struct vctx v;
	int first = d->n;

	memset(&v, 0, sizeof(v));
	v.pb = pb;
	v.inv = inv;
	v.y.file = inv->path;
	v.y.d = d;
	nameidx_init(&v.vars, 0);
	nameidx_init(&v.hosts, 0);
	for (int i = 0; i < pb->nvars; i++)
		nameidx_put(&v.vars, pb->vars[i].name, i);
	for (int i = 0; i < inv->nhosts; i++)
		nameidx_put(&v.hosts, inv->hosts[i].name, i);
	for (int i = 0; i < inv->nclusters; i++)
		check_cluster(&v, &inv->clusters[i]);
	for (int h = 0; h < inv->nhosts; h++)
		for (int i = 0; i < inv->hosts[h].nvars; i++)
			check_value(&v, &inv->hosts[h].vars[i]);
	nameidx_release(&v.vars);
	nameidx_release(&v.hosts);
	ydiag_sort_from(d, first);
	return v.y.nerr ? -1 : 0;
}
