/*
 * plan_json.c — the plan as JSON, format "ccrup-plan/1" (docs/plan-json.md).
 * Stable: fields are added, never renamed or removed.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *cond_json(const struct cond *c, const char *cmd)
{
	if (c->expr)
		return json_pack("{s:s}", "expr", expr_source(c->expr));
	if (c->probe) {
		json_t *o = json_pack("{s:s, s:o}", "command", cmd ? cmd : c->probe->run, "expect",
				      str_or_null(c->probe->expect));
		if (c->probe->nexit) {
			json_t *a = json_array();
			for (int i = 0; i < c->probe->nexit; i++)
				json_array_append_new(a, json_integer(c->probe->exit_codes[i]));
			json_object_set_new(o, "exit", a);
		}
		return o;
	}
	return json_null();
}

static json_t *ints_json(const int *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* An http_check: what it expects (the url is the step's "url"). */
static json_t *http_json(const struct http_check_spec *h, const struct plan_step *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", ints_json(h->status, h->nstatus));
	json_object_set_new(o, "body", str_or_null(h->body));
	json_object_set_new(o, "json", str_or_null(s->http_json));
	json_object_set_new(o, "value", str_or_null(h->value));
	json_object_set_new(o, "count", h->count >= 0 ? json_integer(h->count) : json_null());
	json_object_set_new(o, "timeout_ms", json_integer(h->timeout_ms));
	json_object_set_new(o, "retries", json_integer(h->retries));
	return o;
}

static const char *kind_name(enum pstep_kind k)
{
	static const char *names[] = {"run", "gate", "wait", "http", "assert", "reboot"};
	return names[k];
}

static const char *outage_name(enum outage_mark m)
{
	static const char *names[] = {NULL, "begins", "ends", "within"};
	return names[m];
}

static const char *applies_name(enum plan_applies a)
{
	return a == APPLIES_YES ? "yes" : a == APPLIES_NO ? "no" : "live";
}

static json_t *reboot_json(const struct plan_step *s)
{
	const struct reboot_spec *r = &s->def->reboot;
	if (r->when == REBOOT_NEVER)
		return json_null();
	return json_pack("{s:s, s:o, s:I, s:I, s:o}", "when",
			 r->when == REBOOT_ALWAYS ? "always" : "on_exit", "exit_codes",
			 ints_json(r->exit_codes, r->nexit), "down_timeout_ms",
			 (json_int_t)r->down_timeout_ms, "up_timeout_ms",
			 (json_int_t)r->up_timeout_ms, "ready", cond_json(&r->ready, s->ready_cmd));
}

static json_t *step_json(const struct plan *p, const struct plan_step *s)
{
	const struct step_def *d = s->def;
	json_t *req = json_array();
	for (int i = 0; i < d->nrequire; i++)
		json_array_append_new(req, json_string(expr_source(d->require[i])));

	json_t *o =
	    json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "index", s->index, "id", s->id, "phase", s->phase->id, "step", d->id, "node",
		      str_or_null(s->node), "item", str_or_null(s->item), "name", s->name, "kind",
		      kind_name(s->kind), "applies", applies_name(s->applies), "when",
		      str_or_null(d->when ? expr_source(d->when) : NULL), "require", req, "check",
		      cond_json(&d->check, s->check_cmd), "command", str_or_null(s->command),
		      "verify", cond_json(&d->verify, s->verify_cmd), "reboot", reboot_json(s));
	json_object_set_new(o, "ok_exit", ints_json(d->ok_exit, d->nok_exit));
	json_object_set_new(o, "timeout_ms", json_integer(d->timeout_ms));
	json_object_set_new(o, "retries", json_integer(d->retries));
	json_object_set_new(o, "idempotent", json_boolean(d->idempotent));
	json_object_set_new(o, "gate", str_or_null(d->gate));
	json_object_set_new(o, "outage", str_or_null(outage_name(d->outage)));
	json_object_set_new(o, "point_of_no_return", json_boolean(s->index == p->ponr));
	json_object_set_new(o, "estimate_ms", json_integer(d->estimate_ms));
	json_object_set_new(o, "why", str_or_null(d->why));
	json_object_set_new(o, "url", str_or_null(s->url));
	if (d->http)
		json_object_set_new(o, "http", http_json(d->http, s));
	if (d->wait)
		json_object_set_new(o, "wait",
				    json_pack("{s:s, s:I, s:I}", "until",
					      expr_source(d->wait->until), "timeout_ms",
					      (json_int_t)d->wait->timeout_ms, "interval_ms",
					      (json_int_t)d->wait->interval_ms));
	if (d->record)
		json_object_set_new(
		    o, "record",
		    json_pack("{s:s, s:o}", "as", d->record->as, "source",
			      str_or_null(d->record->fact ? d->record->fact : s->record_cmd)));
	return o;
}

/* "NODE1,NODE2" as ["NODE1", "NODE2"]; NULL as null. */
static json_t *host_list(const char *csv)
{
	if (csv == NULL)
		return json_null();
	json_t *a = json_array();
	for (const char *c = csv; *c;) {
		size_t n = strcspn(c, ",");
		json_array_append_new(a, json_stringn(c, n));
		c += n + (c[n] == ',');
	}
	return a;
}

/* The text header's role table: each role's holders now and after the run (plan_render.c). */
static json_t *role_holders_json(const struct plan *p)
{
	json_t *a = json_array();
	char **after = plan_roles_after(p);
	for (int r = 0; r < p->pb->nroles; r++) {
		char *now = plan_role_hosts(p, p->pb->roles[r].name);
		if (now == NULL)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "role", p->pb->roles[r].name,
						   "now", host_list(now), "after",
						   host_list(after[r])));
		free(now);
	}
	plan_roles_after_free(p, after);
	return a;
}

/* The text header's version table (playbook version:), or null without one. */
static json_t *versions_json(const struct plan *p)
{
	const struct playbook *pb = p->pb;
	const struct host_group *g = pb->version_fact ? cluster_group(p->cl, pb->version_on) : NULL;
	struct subst_ctx c;
	enum var_kind k;

	if (g == NULL || g->nhosts == 0)
		return json_null();
	plan_subst_ctx(p, NULL, &c);
	json_t *hosts = json_array();
	for (int i = 0; i < g->nhosts; i++) {
		const char *now = p->versions ? p->versions[i] : NULL;
		json_array_append_new(hosts, json_pack("{s:s, s:o, s:s}", "host", g->hosts[i],
						       "now", str_or_null(now), "read",
						       now	     ? "read"
						       : p->versions ? "unreadable"
								     : "not-read"));
	}
	return json_pack("{s:s, s:s, s:o, s:s, s:o}", "fact", pb->version_fact, "target_var",
			 pb->version_target, "target",
			 str_or_null(subst_value(&c, pb->version_target, &k)), "group", g->name,
			 "hosts", hosts);
}

static json_t *cluster_json(const struct plan *p)
{
	json_t *roles = json_array(), *steps = json_array(), *groups = json_object();
	const struct cluster_def *cl = p->cl;

	for (int i = 0; i < p->nroles; i++)
		json_array_append_new(roles,
				      json_pack("{s:s, s:s, s:b}", "role", p->roles[i].role, "host",
						p->roles[i].host, "assumed", p->roles[i].assumed));
	for (int g = 0; g < cl->ngroups; g++) {
		json_t *h = json_array();
		for (int i = 0; i < cl->groups[g].nhosts; i++)
			json_array_append_new(h, json_string(cl->groups[g].hosts[i]));
		json_object_set_new(groups, cl->groups[g].name, h);
	}
	for (int i = 0; i < p->nsteps; i++)
		json_array_append_new(steps, step_json(p, &p->steps[i]));
	json_t *outage = json_null();
	if (p->outage_begin)
		outage =
		    json_pack("{s:s, s:o, s:I}", "from", p->steps[p->outage_begin - 1].id, "to",
			      str_or_null(p->outage_end ? p->steps[p->outage_end - 1].id : NULL),
			      "estimate_ms", (json_int_t)p->outage_ms);
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "name",
			 cl->name, "cms", str_or_null(cl->cms), "groups", groups, "transports",
			 plan_transports_json(p), "roles", roles, "steps", steps, "estimate_ms",
			 (json_int_t)p->estimate_ms, "outage", outage, "point_of_no_return",
			 str_or_null(p->ponr ? p->steps[p->ponr - 1].id : NULL), "role_holders",
			 role_holders_json(p), "versions", versions_json(p));
}

/* The document around the clusters (steals clusters). */
static json_t *doc_json(const struct plan *p, json_t *clusters)
{
	return json_pack("{s:s, s:b, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:o}", "format",
			 "ccrup-plan/1", "live", 0, "playbook", "name", p->pb->name, "path",
			 p->pb->path, "sha256", p->pb->sha256, "inventory", "name", p->inv->name,
			 "path", p->inv->path, "sha256", p->inv->sha256, "clusters", clusters);
}

json_t *plan_to_json(const struct plan *const *plans, int nplans)
{
	json_t *clusters = json_array();
	for (int i = 0; i < nplans; i++)
		json_array_append_new(clusters, cluster_json(plans[i]));
	if (nplans == 0)
		return json_pack("{s:s, s:o}", "format", "ccrup-plan/1", "clusters", clusters);
	return doc_json(plans[0], clusters);
}

#define PLAN_JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

/* Append text, every line after the first indented by four more spaces. */
static void add_indented(struct sbuf *sb, const char *text)
{
	const char *nl;
	while ((nl = strchr(text, '\n')) != NULL) {
		sbuf_add(sb, text, (size_t)(nl - text) + 1);
		sbuf_adds(sb, "    ");
		text = nl + 1;
	}
	sbuf_adds(sb, text);
}

char *plan_json_text(const struct plan *const *plans, int nplans, int live,
		     void (*each)(json_t *cluster, int i, void *arg), void *arg)
{
	if (nplans == 0) {
		json_t *j = plan_to_json(plans, 0);
		char *text = json_dumps(j, PLAN_JSON_FLAGS);
		json_decref(j);
		return text;
	}
	/* The document with no clusters ends in `"clusters": []\n}`: write it up to the
	 * bracket, then the clusters one by one as they would be nested (indent 4). */
	json_t *doc = doc_json(plans[0], json_array());
	if (live)
		json_object_set_new(doc, "live", json_true());
	char *head = json_dumps(doc, PLAN_JSON_FLAGS);
	json_decref(doc);
	size_t hl = strlen(head);
	if (hl < 4 || strcmp(head + hl - 4, "[]\n}") != 0)
		abort(); /* jansson changed its layout: plan_json_text must follow */
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_add(&sb, head, hl - 3);
	free(head);
	for (int i = 0; i < nplans; i++) {
		json_t *c = cluster_json(plans[i]);
		if (each)
			each(c, i, arg);
		char *text = json_dumps(c, PLAN_JSON_FLAGS);
		json_decref(c);
		sbuf_adds(&sb, i ? ",\n    " : "\n    ");
		add_indented(&sb, text);
		free(text);
	}
	sbuf_adds(&sb, "\n  ]\n}");
	return sbuf_detach(&sb);
}
