/*
 * playbook.c — playbook_load(): YAML to a validated struct playbook
 * (model.h; user reference docs/playbook.md).
 *
 * This file reads the top level, vars, facts, roles and phases; steps and
 * sequences are in playbook_steps.c and playbook_seq.c, and the checks of
 * expressions, templates and regexes in playbook_names.c (the loading
 * order and why it matters are in playbook_int.h).  Every problem found is
 * added to the diag and loading goes on, so one run lists all of a file's
 * errors; the model is only handed out when there were none.
 */
#include "jpath.h"
#include "playbook_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const top_keys[] = {"playbook", "format",	"description",	  "vars",
				       "facts",	   "boot_id",	"reboot_command", "roles",
				       "groups",   "sequences", "phases",	  "service",
				       "marker",   "version",	"shell",	  NULL};
static const char *const marker_keys[] = {"doc", "on", "read", "capture", "take", "release", NULL};
static const char *const service_keys[] = {"name", "impact", "label", NULL};
static const char *const version_keys[] = {"fact", "target", "on", NULL};
static const char *const var_keys[] = {"kind", "list", "default", "values", "doc", NULL};
static const char *const fact_keys[] = {"doc",	 "scope",  "run",   "json",    "capture",
					"value", "reduce", "order", "default", NULL};
static const char *const role_keys[] = {"doc", "from", "where", "select", "assume", NULL};
static const char *const selects[] = {"one", "first", "last", "all", NULL};
static const char *const phase_keys[] = {"id",	    "name",    "on",	"for_each", "when",
					 "require", "explain", "steps", NULL};
static const char *const scopes[] = {"node", "cluster", NULL};
static const char *const reduces[] = {"first", "last", "count", "max", "min", "worst", NULL};
static const char *const assumes[] = {"none", "declared", "others", NULL};
static const char *const reserved[] = {"node", "cluster", "cms", "item", "saved", NULL};

/* A var, fact or role name: an identifier, not reserved, not declared twice across kinds. */
static int check_decl_name(struct pbctx *c, const struct ynode *key, const char *what)
{
	const char *s = key->text;

	if (!name_is_ident(s)) {
		yerr(&c->y, key,
		     "bad %s name '%s' (lower-case letters, digits and '_', starting "
		     "with a letter)",
		     what, yq(&c->y, s));
		return -1;
	}
	for (int i = 0; reserved[i]; i++) {
		if (strcmp(s, reserved[i]) == 0) {
			yerr(&c->y, key, "'%s' is a built-in name and cannot be a %s", s, what);
			return -1;
		}
	}
	const struct var_def *v = pb_var(c, s);
	const struct fact_def *f = pb_fact(c, s);
	if (v || f) {
		const struct src_loc *l = v ? &v->loc : &f->loc;
		yerr(&c->y, key, "%s '%s' has the name of a %s (at %d:%d)", what, s,
		     v ? "var" : "fact", l->line, l->col);
		return -1;
	}
	return 0;
}

static void read_var_values(struct pbctx *c, const struct ynode *m, struct var_def *v)
{
	int has = yget_str_list(&c->y, m, "values", &v->values, &v->nvalues, NULL);
	if (v->kind != VK_ENUM) {
		if (has != 0)
			yerr(&c->y, ymap_key(m, "values"), "'values' only applies to kind: enum");
		return;
	}
	if (has == 0)
		yerr(&c->y, m, "var '%s' of kind enum needs 'values'", v->name);
	for (int i = 0; i < v->nvalues; i++)
		if (!var_kind_check(VK_WORD, NULL, v->values[i]))
			yerr(&c->y, ymap_get(m, "values")->items[i],
			     "enum value '%s' is not a word (letters, digits, _ . -)",
			     yq(&c->y, v->values[i]));
}

static void check_default_value(struct pbctx *c, const struct ynode *at, const struct var_def *v,
				const char *value)
{
	if (var_kind_check(v->kind, v, value))
		return;
	if (v->kind == VK_ENUM)
		yerr(&c->y, at, "default '%s' for '%s' is not one of its values", yq(&c->y, value),
		     v->name);
	else
		yerr(&c->y, at, "default '%s' for '%s' is not a valid %s (%s)",
		     v->kind == VK_URL ? yq_url(&c->y, value, 0) : yq(&c->y, value), v->name,
		     var_kind_name(v->kind), var_kind_hint(v->kind));
}

static void read_var_default(struct pbctx *c, const struct ynode *m, struct var_def *v)
{
	const struct ynode *d = ymap_get(m, "default");

	if (d == NULL || (d->kind == YNODE_SCALAR && d->is_null))
		return;
	if (v->is_list) {
		if (yget_str_list(&c->y, m, "default", &v->def_list, &v->ndef_list, NULL) != 1)
			return;
		for (int i = 0; i < v->ndef_list; i++)
			check_default_value(c, d->items[i], v, v->def_list[i]);
		return;
	}
	if (d->kind != YNODE_SCALAR) {
		yerr(&c->y, d, "'default': expected a string, got %s (add 'list: true' for a list)",
		     ynode_describe(d));
		return;
	}
	v->def = xstrdup(d->text);
	check_default_value(c, d, v, v->def);
}

static void read_var(struct pbctx *c, const struct ynode *key, const struct ynode *m,
		     struct var_def *v)
{
	const struct ynode *k = NULL;
	int kind = -1;

	v->loc = yloc(&c->y, key);
	v->ndef_list = -1;
	if (check_decl_name(c, key, "var") < 0 || !ytype(&c->y, m, YNODE_MAP, key->text))
		return;
	v->name = xstrdup(key->text);
	char *what = xasprintf("var '%s'", v->name);
	ykeys(&c->y, m, var_keys, what);
	if (yrequire(&c->y, m, "kind", what) == 0 && yget_scalar(&c->y, m, "kind", &k) == 1) {
		kind = var_kind_parse(k->text);
		if (kind < 0)
			yerr(&c->y, k,
			     "unknown kind '%s' (kinds: name, service, path, version, int, "
			     "word, text, url, enum, raw, package, dn)",
			     yq(&c->y, k->text));
		v->kind = kind < 0 ? VK_RAW : (enum var_kind)kind;
	}
	yget_bool(&c->y, m, "list", &v->is_list);
	yget_str(&c->y, m, "doc", &v->doc);
	read_var_values(c, m, v);
	if (kind >= 0)
		read_var_default(c, m, v);
	if (kind == VK_RAW && v->def == NULL && v->ndef_list < 0)
		yerr(&c->y, key, "raw var '%s' needs a default (an inventory may not set it)",
		     v->name);
	free(what);
}

static void read_vars(struct pbctx *c, const struct ynode *m)
{
	if (m == NULL || !ytype(&c->y, m, YNODE_MAP, "vars"))
		return;
	c->pb->vars = xcalloc((size_t)m->n + 1, sizeof(*c->pb->vars));
	for (int i = 0; i < m->n; i++) {
		read_var(c, m->keys[i], m->items[i], &c->pb->vars[c->pb->nvars]);
		if (c->pb->vars[c->pb->nvars].name) {
			nameidx_put(&c->vars, c->pb->vars[c->pb->nvars].name, c->pb->nvars);
			c->pb->nvars++;
		}
	}
}

/* value: "$1.$2" over the capture's groups; ${...} has no meaning there. */
static void check_fact_value(struct pbctx *c, const struct ynode *m, const struct fact_def *f)
{
	const struct ynode *n = ymap_get(m, "value");
	int line, col;

	if (f->value == NULL || f->capture == NULL)
		return;
	for (size_t i = 0; f->value[i]; i++) {
		if (f->value[i] != '$')
			continue;
		pb_pos(n, (int)i + 1, &line, &col);
		char d = f->value[i + 1];
		if (d == '{')
			yerr_at(&c->y, line, col,
				"'value' is built from the capture's groups ($1, "
				"$2, ...), not from variables");
		else if (d >= '0' && d <= '9' && (size_t)(d - '0') > f->capture_re.re_nsub)
			yerr_at(&c->y, line, col, "'value' uses $%c but 'capture' has %zu group%s",
				d, f->capture_re.re_nsub, f->capture_re.re_nsub == 1 ? "" : "s");
	}
}

static void read_fact_reduce(struct pbctx *c, const struct ynode *m, struct fact_def *f)
{
	int r = 0;
	if (yget_enum(&c->y, m, "reduce", reduces, &r) == 1)
		f->reduce = (enum fact_reduce)r;
	int has = yget_str_list(&c->y, m, "order", &f->order, &f->norder, NULL);
	if (f->reduce == REDUCE_WORST && has == 0)
		yerr(&c->y, m, "fact '%s' with 'reduce: worst' needs 'order' (worst value first)",
		     f->name);
	else if (f->reduce != REDUCE_WORST && has == 1)
		yerr(&c->y, ymap_key(m, "order"), "'order' only applies to 'reduce: worst'");
	else if (has == 1 && f->norder == 0)
		yerr(&c->y, ymap_get(m, "order"), "'order' is empty");
}

/* json: a path template selecting values from JSON output (load/jpath.h). */
static void read_fact_json(struct pbctx *c, const struct ynode *m, struct fact_def *f)
{
	char err[256];
	int col = 0, line = 0, pcol = 0;

	if (pb_get_template(c, m, "json", 0, &f->json) != 1 || strstr(f->json, "${"))
		return; /* a path with variables is checked once substituted */
	if (jpath_check(f->json, &col, err, sizeof(err)) < 0) {
		pb_pos(ymap_get(m, "json"), col, &line, &pcol);
		yerr_at(&c->y, line, pcol, "json: %s", err);
	}
}

static void read_fact(struct pbctx *c, const struct ynode *key, const struct ynode *m,
		      struct fact_def *f)
{
	int scope = 0;

	f->loc = yloc(&c->y, key);
	if (check_decl_name(c, key, "fact") < 0 || !ytype(&c->y, m, YNODE_MAP, key->text))
		return;
	f->name = xstrdup(key->text);
	char *what = xasprintf("fact '%s'", f->name);
	ykeys(&c->y, m, fact_keys, what);
	yget_str(&c->y, m, "doc", &f->doc);
	if (yget_enum(&c->y, m, "scope", scopes, &scope) == 1)
		f->scope = scope ? FACT_CLUSTER : FACT_NODE;
	if (yrequire(&c->y, m, "run", what) == 0)
		pb_get_template(c, m, "run", 0, &f->run);
	read_fact_json(c, m, f);
	if (f->json == NULL && yrequire(&c->y, m, "capture", what) == 0)
		pb_get_regex(c, m, "capture", &f->capture_re, &f->capture);
	else if (f->json && ymap_get(m, "capture"))
		pb_get_regex(c, m, "capture", &f->capture_re, &f->capture);
	yget_str(&c->y, m, "value", &f->value);
	check_fact_value(c, m, f);
	read_fact_reduce(c, m, f);
	yget_str(&c->y, m, "default", &f->def);
	free(what);
}

static void read_facts(struct pbctx *c, const struct ynode *m)
{
	if (m == NULL || !ytype(&c->y, m, YNODE_MAP, "facts"))
		return;
	c->pb->facts = xcalloc((size_t)m->n + 1, sizeof(*c->pb->facts));
	for (int i = 0; i < m->n; i++) {
		read_fact(c, m->keys[i], m->items[i], &c->pb->facts[c->pb->nfacts]);
		if (c->pb->facts[c->pb->nfacts].name) {
			nameidx_put(&c->facts, c->pb->facts[c->pb->nfacts].name, c->pb->nfacts);
			c->pb->nfacts++;
		}
	}
}

static void add_group(struct pbctx *c, char *name)
{
	c->groups = xreallocarray(c->groups, (size_t)c->ngroups + 1, sizeof(*c->groups));
	c->groups[c->ngroups] = name;
	nameidx_put(&c->grpidx, name, c->ngroups);
	c->ngroups++;
}

static void read_groups(struct pbctx *c, const struct ynode *root)
{
	char **g = NULL;
	int n = 0;

	add_group(c, xstrdup("members"));
	add_group(c, xstrdup("hub_cas"));
	if (yget_str_list(&c->y, root, "groups", &g, &n, NULL) != 1)
		return;
	const struct ynode *l = ymap_get(root, "groups");
	for (int i = 0; i < n; i++) {
		if (!name_is_ident(g[i])) {
			yerr(&c->y, l->items[i],
			     "bad group name '%s' (lower-case letters, digits, '_')",
			     yq(&c->y, g[i]));
		} else if (!pb_is_group(c, g[i])) {
			add_group(c, g[i]);
			g[i] = NULL;
		}
	}
	strv_free(g, n);
}

/* `shell: cmd | sh`: probes may be joined into one remote command (run/batch.h). */
static void read_shell(struct pbctx *c, const struct ynode *root)
{
	const struct ynode *n = NULL;
	if (yget_scalar(&c->y, root, "shell", &n) != 1)
		return;
	if (strcmp(n->text, "cmd") == 0)
		c->pb->shell = PB_SHELL_CMD;
	else if (strcmp(n->text, "sh") == 0)
		c->pb->shell = PB_SHELL_SH;
	else
		yerr(&c->y, n, "'shell': unknown shell '%s' (cmd or sh)", yq(&c->y, n->text));
}

static void read_boot_id(struct pbctx *c, const struct ynode *root)
{
	const struct ynode *n = NULL;
	if (yget_scalar(&c->y, root, "boot_id", &n) != 1)
		return;
	if (pb_fact(c, n->text))
		c->pb->boot_id_fact = xstrdup(n->text);
	else
		yerr(&c->y, n,
		     "'boot_id': undefined fact '%s' (name the fact that changes on every "
		     "reboot)",
		     yq(&c->y, n->text));
}

/*
 * `version: {fact, target, on}`: the plan's table of each node's version now
 * and the one the run reaches (kubeadm's "upgrade plan").
 */
static void read_version(struct pbctx *c, const struct ynode *m)
{
	const struct fact_def *fd;

	if (m == NULL || (m->kind == YNODE_SCALAR && m->is_null))
		return;
	if (ytype(&c->y, m, YNODE_MAP, "version") < 0)
		return;
	ykeys(&c->y, m, version_keys, "version");
	if (yrequire(&c->y, m, "fact", "version") < 0 ||
	    yrequire(&c->y, m, "target", "version") < 0)
		return;
	yget_str(&c->y, m, "fact", &c->pb->version_fact);
	yget_str(&c->y, m, "target", &c->pb->version_target);
	if (yget_str(&c->y, m, "on", &c->pb->version_on) != 1)
		c->pb->version_on = xstrdup("members");
	fd = c->pb->version_fact ? pb_fact(c, c->pb->version_fact) : NULL;
	if (c->pb->version_fact && (fd == NULL || fd->scope != FACT_NODE))
		yerr(&c->y, ymap_get(m, "fact"), "'version': '%s' is not a fact of each node",
		     yq(&c->y, c->pb->version_fact));
	if (c->pb->version_target && pb_var(c, c->pb->version_target) == NULL)
		yerr(&c->y, ymap_get(m, "target"), "'version': undefined var '%s'",
		     yq(&c->y, c->pb->version_target));
	if (!pb_is_group(c, c->pb->version_on))
		yerr(&c->y, ymap_get(m, "on") ? ymap_get(m, "on") : m,
		     "'version': '%s' is not a group", yq(&c->y, c->pb->version_on));
}

/* reboot_command: what the runner runs to restart a host (vars and node/cluster/cms only). */
static void read_reboot_command(struct pbctx *c, const struct ynode *root)
{
	if (pb_get_template(c, root, "reboot_command", 0, &c->pb->reboot_command) == 1 &&
	    c->pb->reboot_command[0] == '\0')
		yerr(&c->y, ymap_get(root, "reboot_command"), "'reboot_command' is empty");
}

static void read_role(struct pbctx *c, const struct ynode *key, const struct ynode *m,
		      struct role_def *r)
{
	int a = 0;

	r->loc = yloc(&c->y, key);
	if (check_decl_name(c, key, "role") < 0 || !ytype(&c->y, m, YNODE_MAP, key->text))
		return;
	if (pb_is_group(c, key->text)) {
		yerr(&c->y, key, "role '%s' has the name of a group", key->text);
		return;
	}
	r->name = xstrdup(key->text);
	char *what = xasprintf("role '%s'", r->name);
	ykeys(&c->y, m, role_keys, what);
	yget_str(&c->y, m, "doc", &r->doc);
	if (yrequire(&c->y, m, "from", what) == 0)
		pb_get_target(c, m, "from", 0, &r->from);
	if (yrequire(&c->y, m, "where", what) == 0)
		pb_get_expr(c, m, "where", 0, &r->where);
	if (yget_enum(&c->y, m, "assume", assumes, &a) == 1)
		r->assume = (enum role_assume)a;
	if (yget_enum(&c->y, m, "select", selects, &a) == 1)
		r->select = (enum role_select)a;
	free(what);
}

static void read_roles(struct pbctx *c, const struct ynode *m)
{
	if (m == NULL || !ytype(&c->y, m, YNODE_MAP, "roles"))
		return;
	c->pb->roles = xcalloc((size_t)m->n + 1, sizeof(*c->pb->roles));
	for (int i = 0; i < m->n; i++) {
		read_role(c, m->keys[i], m->items[i], &c->pb->roles[c->pb->nroles]);
		if (c->pb->roles[c->pb->nroles].name) {
			nameidx_put(&c->roles, c->pb->roles[c->pb->nroles].name, c->pb->nroles);
			c->pb->nroles++;
		}
	}
}

static void check_step_ids(struct pbctx *c, const struct phase_def *ph)
{
	struct nameidx ids;

	nameidx_init(&ids, 0);
	for (int i = 0; i < ph->nsteps; i++) {
		int j = nameidx_put(&ids, ph->steps[i].id, i);
		if (j < 0)
			continue;
		const struct src_loc *a = &ph->steps[j].loc, *b = &ph->steps[i].loc;
		yerr_at(&c->y, b->line, b->col,
			"duplicate step id '%s' in phase '%s' (first at %d:%d)", ph->steps[i].id,
			ph->id, a->line, a->col);
	}
	nameidx_release(&ids);
}

static void read_phase_target(struct pbctx *c, const struct ynode *m, struct phase_def *ph)
{
	int has_on = ymap_get(m, "on") != NULL, has_each = ymap_get(m, "for_each") != NULL;

	if (has_on && has_each)
		yerr(&c->y, ymap_key(m, "for_each"),
		     "a phase takes 'on' (a role or group) or 'for_each' (a group), not both");
	else if (!has_on && !has_each)
		(void)yrequire(&c->y, m, "on",
			       "phase (a role or group; or 'for_each: GROUP' to run the steps host "
			       "by host)");
	pb_get_target(c, m, "on", 1, &ph->on);
	pb_get_target(c, m, "for_each", 0, &ph->for_each);
}

static void read_phase(struct pbctx *c, const struct ynode *m, struct phase_def *ph)
{
	const struct ynode *id = NULL;
	int ns = NS_ROLES | NS_SAVED;

	ph->loc = yloc(&c->y, m);
	if (!ytype(&c->y, m, YNODE_MAP, "phases"))
		return;
	ykeys(&c->y, m, phase_keys, "phase");
	if (yrequire(&c->y, m, "id", "phase") == 0 && yget_scalar(&c->y, m, "id", &id) == 1) {
		if (name_is_step_id(id->text))
			ph->id = xstrdup(id->text);
		else
			yerr(&c->y, id, "bad phase id '%s' (lower-case letters, digits and '-')",
			     yq(&c->y, id->text));
	}
	if (yget_str(&c->y, m, "name", &ph->name) != 1 && ph->id)
		ph->name = xstrdup(ph->id);
	read_phase_target(c, m, ph);
	pb_get_expr(c, m, "when", ns, &ph->when);
	pb_read_require(c, m, ns, &ph->require, &ph->require_loc, &ph->nrequire);
	yget_str(&c->y, m, "explain", &ph->explain);
	if (yrequire(&c->y, m, "steps", "phase") == 0) {
		pb_read_steps(c, ymap_get(m, "steps"), &ph->steps, &ph->nsteps);
		if (ph->id)
			check_step_ids(c, ph);
	}
}

static void read_phases(struct pbctx *c, const struct ynode *l)
{
	struct playbook *pb = c->pb;
	struct nameidx ids;

	if (!ytype(&c->y, l, YNODE_SEQ, "phases"))
		return;
	if (l->n == 0)
		yerr(&c->y, l, "'phases' is empty: a playbook needs at least one phase");
	nameidx_init(&ids, 0);
	pb->phases = xcalloc((size_t)l->n + 1, sizeof(*pb->phases));
	for (int i = 0; i < l->n; i++) {
		struct phase_def *ph = &pb->phases[pb->nphases++];
		read_phase(c, l->items[i], ph);
		int j = ph->id ? nameidx_put(&ids, ph->id, i) : -1;
		if (j >= 0)
			yerr_at(&c->y, ph->loc.line, ph->loc.col,
				"duplicate phase id '%s' (first at %d:%d)", ph->id,
				pb->phases[j].loc.line, pb->phases[j].loc.col);
	}
	nameidx_release(&ids);
}

static void read_header(struct pbctx *c, const struct ynode *root)
{
	const struct ynode *n = NULL;

	if (yrequire(&c->y, root, "playbook", "the playbook (its name)") == 0 &&
	    yget_str(&c->y, root, "playbook", &c->pb->name) == 1 &&
	    !var_kind_check(VK_WORD, NULL, c->pb->name))
		yerr(&c->y, ymap_get(root, "playbook"),
		     "bad playbook name '%s' (letters, digits, _ . -)", yq(&c->y, c->pb->name));
	if (yrequire(&c->y, root, "format", "the playbook") == 0 &&
	    yget_scalar(&c->y, root, "format", &n) == 1) {
		if (strcmp(n->text, "1") == 0)
			c->pb->format = 1;
		else
			yerr(&c->y, n, "unsupported format '%s' (this ccrup reads format: 1)",
			     yq(&c->y, n->text));
	}
	yget_str(&c->y, root, "description", &c->pb->description);
}

/* `service: {name, impact, label}`: what users lose during the outage, in their words. */
static void read_service(struct pbctx *c, const struct ynode *m)
{
	if (m == NULL || (m->kind == YNODE_SCALAR && m->is_null))
		return;
	if (ytype(&c->y, m, YNODE_MAP, "service") < 0)
		return;
	ykeys(&c->y, m, service_keys, "service");
	yget_str(&c->y, m, "name", &c->pb->service_name);
	yget_str(&c->y, m, "impact", &c->pb->outage_impact);
	yget_str(&c->y, m, "label", &c->pb->service_label);
}

/* A marker command: no ${...} but ${marker} (in take, where it is required). */
static void check_marker_cmd(struct pbctx *c, const struct ynode *m, const char *key,
			     const char *cmd, int needs_marker)
{
	const char *p = cmd;
	int has = 0;

	if (cmd == NULL)
		return;
	while ((p = strstr(p, "${")) != NULL) {
		if (strncmp(p, "${marker}", 9) != 0 || !needs_marker) {
			yerr(&c->y, ymap_get(m, key), "'%s': only ${marker} may be substituted%s",
			     key, needs_marker ? "" : ", and only in 'take'");
			return;
		}
		has = 1;
		p += 9;
	}
	if (needs_marker && !has)
		yerr(&c->y, ymap_get(m, key), "'take' must write ${marker}");
}

static void read_marker(struct pbctx *c, const struct ynode *m)
{
	static const char *const need[] = {"on", "read", "capture", "take", "release"};
	struct marker_def *k;

	if (m == NULL || ytype(&c->y, m, YNODE_MAP, "marker") < 0)
		return;
	k = c->pb->marker = xcalloc(1, sizeof(*k));
	k->loc = yloc(&c->y, m);
	ykeys(&c->y, m, marker_keys, "marker");
	for (size_t i = 0; i < CCR_ARRAY_LEN(need); i++)
		(void)yrequire(&c->y, m, need[i], "marker");
	yget_str(&c->y, m, "doc", &k->doc);
	if (yget_str(&c->y, m, "on", &k->on) == 1 && nameidx_get(&c->grpidx, k->on) < 0)
		yerr(&c->y, ymap_get(m, "on"), "marker 'on': unknown group '%s'", k->on);
	yget_str(&c->y, m, "read", &k->read);
	if (ymap_get(m, "capture") != NULL &&
	    pb_get_regex(c, m, "capture", &k->capture_re, &k->capture) == 1 &&
	    k->capture_re.re_nsub < 1)
		yerr(&c->y, ymap_get(m, "capture"), "marker 'capture' needs a group: the marker");
	yget_str(&c->y, m, "take", &k->take);
	yget_str(&c->y, m, "release", &k->release);
	check_marker_cmd(c, m, "read", k->read, 0);
	check_marker_cmd(c, m, "take", k->take, 1);
	check_marker_cmd(c, m, "release", k->release, 0);
}

static void read_playbook(struct pbctx *c, const struct ynode *root)
{
	if (root->kind != YNODE_MAP) {
		yerr(&c->y, root, "expected a mapping at the top of the playbook, got %s",
		     ynode_describe(root));
		return;
	}
	ykeys(&c->y, root, top_keys, "playbook");
	read_header(c, root);
	read_service(c, ymap_get(root, "service"));
	read_groups(c, root);
	read_vars(c, ymap_get(root, "vars"));
	read_facts(c, ymap_get(root, "facts"));
	read_shell(c, root);
	read_boot_id(c, root);
	read_reboot_command(c, root);
	read_roles(c, ymap_get(root, "roles"));
	read_version(c, ymap_get(root, "version"));
	read_marker(c, ymap_get(root, "marker"));
	c->seqs = ymap_get(root, "sequences");
	if (c->seqs && c->seqs->kind == YNODE_SCALAR && c->seqs->is_null)
		c->seqs = NULL;
	pb_collect_records(c, ymap_get(root, "phases"));
	pb_check_sequences(c);
	if (yrequire(&c->y, root, "phases", "the playbook") == 0)
		read_phases(c, ymap_get(root, "phases"));
}

struct playbook *playbook_load(const char *path, struct diag *d)
{
	struct pbctx c;
	int first = d->n;
	struct ydoc *doc = ydoc_load(path, NULL, d);
	struct playbook *pb = NULL;

	memset(&c, 0, sizeof(c));
	nameidx_init(&c.vars, 0);
	nameidx_init(&c.facts, 0);
	nameidx_init(&c.roles, 0);
	nameidx_init(&c.recidx, 0);
	nameidx_init(&c.seqidx, 0);
	nameidx_init(&c.grpidx, 0);
	if (doc == NULL)
		goto out;
	pb = c.pb = xcalloc(1, sizeof(*pb));
	pb->path = xstrdup(path);
	c.y.file = pb->path;
	c.y.d = d;
	memcpy(pb->sha256, ydoc_sha256(doc), sizeof(pb->sha256));
	read_playbook(&c, ydoc_root(doc));
	if (c.y.nerr > 0) {
		playbook_free(pb);
		pb = NULL;
	}
out:
	strv_free(c.groups, c.ngroups);
	strv_free(c.records, c.nrecords);
	free(c.record_locs);
	free(c.seq_bad);
	nameidx_release(&c.vars);
	nameidx_release(&c.facts);
	nameidx_release(&c.roles);
	nameidx_release(&c.recidx);
	nameidx_release(&c.seqidx);
	nameidx_release(&c.grpidx);
	ydoc_free(doc);
	ydiag_sort_from(d, first);
	return pb;
}

static void phase_release(struct phase_def *ph)
{
	free(ph->id);
	free(ph->name);
	free(ph->on);
	free(ph->for_each);
	expr_free(ph->when);
	for (int i = 0; i < ph->nrequire; i++)
		expr_free(ph->require[i]);
	free(ph->require);
	free(ph->require_loc);
	free(ph->explain);
	for (int i = 0; i < ph->nsteps; i++)
		pb_step_release(&ph->steps[i]);
	free(ph->steps);
}

static void var_release(struct var_def *v)
{
	free(v->name);
	strv_free(v->values, v->nvalues);
	free(v->def);
	strv_free(v->def_list, v->ndef_list);
	free(v->doc);
}

static void fact_release(struct fact_def *f)
{
	free(f->name);
	free(f->doc);
	free(f->run);
	free(f->json);
	if (f->capture)
		regfree(&f->capture_re);
	free(f->capture);
	free(f->value);
	strv_free(f->order, f->norder);
	free(f->def);
}

void playbook_free(struct playbook *pb)
{
	if (pb == NULL)
		return;
	for (int i = 0; i < pb->nvars; i++)
		var_release(&pb->vars[i]);
	free(pb->vars);
	for (int i = 0; i < pb->nfacts; i++)
		fact_release(&pb->facts[i]);
	free(pb->facts);
	for (int i = 0; i < pb->nroles; i++) {
		free(pb->roles[i].name);
		free(pb->roles[i].doc);
		free(pb->roles[i].from);
		expr_free(pb->roles[i].where);
	}
	free(pb->roles);
	for (int i = 0; i < pb->nphases; i++)
		phase_release(&pb->phases[i]);
	free(pb->phases);
	free(pb->boot_id_fact);
	free(pb->reboot_command);
	if (pb->marker) {
		free(pb->marker->doc);
		free(pb->marker->on);
		free(pb->marker->read);
		if (pb->marker->capture)
			regfree(&pb->marker->capture_re);
		free(pb->marker->capture);
		free(pb->marker->take);
		free(pb->marker->release);
		free(pb->marker);
	}
	free(pb->path);
	free(pb->name);
	free(pb->description);
	free(pb->service_name);
	free(pb->outage_impact);
	free(pb->service_label);
	free(pb->version_fact);
	free(pb->version_target);
	free(pb->version_on);
	free(pb);
}
