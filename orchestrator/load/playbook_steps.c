/*
 * playbook_steps.c — one step of a playbook, key by key (docs/playbook.md
 * is the user's reference).  A step does exactly one thing: run a command,
 * ask a human (gate), wait for a condition, check a URL, or — with none of
 * these — assert its `require`s or only take a note (`record`).  The keys that only make sense for
 * a command (ok_exit, reboot, retries, ...) are refused elsewhere, so a playbook cannot say
 * something the runner would silently ignore.
 */
#include "playbook_int.h"

#include <stdlib.h>
#include <string.h>

#include "jpath.h"
#include "util.h"

#define EXIT_CODE_MAX		 2147483647 /* Windows exit codes (3010) do not fit in 0..255 */
#define DEFAULT_DOWN_TIMEOUT_MS	 (10 * 60 * 1000)
#define DEFAULT_UP_TIMEOUT_MS	 (30 * 60 * 1000)
#define DEFAULT_RETRY_DELAY_MS	 (10 * 1000)
#define DEFAULT_WAIT_INTERVAL_MS (10 * 1000)
#define DEFAULT_HTTP_TIMEOUT_MS	 (10 * 1000)

static const char *const step_keys[] = {
    "id",	"name",	    "why",	  "on",		 "for_each",	  "when",
    "require",	"explain",  "check",	  "verify",	 "verify_within", "run",
    "ok_exit",	"timeout",  "retries",	  "retry_delay", "idempotent",	  "reboot",
    "record",	"wait",	    "http_check", "gate",	 "outage",	  "point_of_no_return",
    "estimate", "prepares", NULL};
static const char *const probe_keys[] = {"run", "expect", "exit", "pending", NULL};
static const char *const reboot_keys[] = {"when",	"exit_codes", "down_timeout",
					  "up_timeout", "ready",      NULL};
static const char *const reboot_whens[] = {"always", "on_exit", NULL};
static const char *const record_keys[] = {"as", "fact", "run", "capture", "default", NULL};
static const char *const wait_keys[] = {"until", "timeout", "interval", NULL};
static const char *const http_keys[] = {"url",	 "status",  "body",    "json",	       "value",
					"count", "timeout", "retries", "insecure_tls", NULL};
static const char *const outages[] = {"begins", "ends", "within", NULL};
/* Keys that only mean something for a step with run:. */
static const char *const run_only[] = {"ok_exit",    "retries", "retry_delay",
				       "idempotent", "timeout", NULL};
/* What a step does: one of these (reboot alone: the runner issues reboot_command). */
static const char *const actions[] = {"run", "gate", "wait", "http_check", "reboot", NULL};

static void probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	free(p->run);
	if (p->expect)
		regfree(&p->expect_re);
	free(p->expect);
	if (p->pending)
		regfree(&p->pending_re);
	free(p->pending);
	free(p->exit_codes);
	free(p);
}

static void cond_release(struct cond *k)
{
	expr_free(k->expr);
	probe_free(k->probe);
	k->expr = NULL;
	k->probe = NULL;
}

static int read_probe(struct pbctx *c, const struct ynode *n, const char *key, int ns,
		      struct probe **out)
{
	struct probe *p = xcalloc(1, sizeof(*p));
	int before = c->y.nerr;
	char *what = xasprintf("'%s' probe", key);

	p->loc = yloc(&c->y, n);
	ykeys(&c->y, n, probe_keys, what);
	if (yrequire(&c->y, n, "run", what) == 0)
		pb_get_template(c, n, "run", ns, &p->run);
	pb_get_regex(c, n, "expect", &p->expect_re, &p->expect);
	pb_get_regex(c, n, "pending", &p->pending_re, &p->pending);
	if (p->pending && strcmp(key, "verify") != 0)
		yerr(&c->y, ymap_key(n, "pending"), "'pending' only applies to a 'verify' probe");
	yget_int_list(&c->y, n, "exit", 0, EXIT_CODE_MAX, &p->exit_codes, &p->nexit);
	free(what);
	if (c->y.nerr > before) {
		probe_free(p);
		return -1;
	}
	*out = p;
	return 1;
}

/* check / verify / ready: an expression, or a probe mapping {run, expect, exit}. */
static int read_cond(struct pbctx *c, const struct ynode *m, const char *key, int ns,
		     struct cond *out)
{
	const struct ynode *n = ymap_get(m, key);

	if (n == NULL || (n->kind == YNODE_SCALAR && n->is_null))
		return 0;
	out->loc = yloc(&c->y, n);
	if (n->kind == YNODE_SCALAR)
		return pb_expr(c, n, key, ns, &out->expr);
	if (n->kind == YNODE_MAP)
		return read_probe(c, n, key, ns, &out->probe);
	yerr(&c->y, n, "'%s': expected an expression or a mapping {run, expect, exit}, got %s", key,
	     ynode_describe(n));
	return -1;
}

int pb_read_require(struct pbctx *c, const struct ynode *m, int ns, struct expr ***out,
		    struct src_loc **locs, int *n)
{
	const struct ynode *r = ymap_get(m, "require");
	const struct ynode *const *items;
	int count, rc = 1;

	if (r == NULL || (r->kind == YNODE_SCALAR && r->is_null))
		return 0;
	if (r->kind == YNODE_MAP) {
		yerr(&c->y, r, "'require': expected an expression or a list of expressions, got %s",
		     ynode_describe(r));
		return -1;
	}
	items = r->kind == YNODE_SEQ ? (const struct ynode *const *)r->items : &r;
	count = r->kind == YNODE_SEQ ? r->n : 1;
	*out = xcalloc((size_t)count + 1, sizeof(**out));
	*locs = xcalloc((size_t)count + 1, sizeof(**locs));
	for (int i = 0; i < count; i++) {
		(*locs)[i] = yloc(&c->y, items[i]);
		if (pb_expr(c, items[i], "require", ns, &(*out)[i]) < 0)
			rc = -1;
	}
	*n = count;
	return rc;
}

static void read_for_each(struct pbctx *c, const struct ynode *m, struct step_def *s)
{
	const struct ynode *n = NULL;
	if (yget_scalar(&c->y, m, "for_each", &n) != 1)
		return;
	const struct var_def *v = pb_var(c, n->text);
	if (v == NULL)
		yerr(&c->y, n,
		     "'for_each': undefined variable '%s' (for_each takes a list variable)",
		     yq(&c->y, n->text));
	else if (!v->is_list)
		yerr(&c->y, n,
		     "'for_each': '%s' is not a list variable (declare it with list: true)",
		     n->text);
	else
		s->for_each = xstrdup(n->text);
}

static void read_head(struct pbctx *c, const struct ynode *m, struct step_def *s)
{
	const struct ynode *id = NULL;

	if (yrequire(&c->y, m, "id", "step") == 0 && yget_scalar(&c->y, m, "id", &id) == 1) {
		if (name_is_step_id(id->text))
			s->id = xstrdup(id->text);
		else
			yerr(&c->y, id, "bad step id '%s' (lower-case letters, digits and '-')",
			     yq(&c->y, id->text));
	}
	read_for_each(c, m, s);
	int ns = NS_ROLES | (ymap_get(m, "for_each") ? NS_ITEM : 0);
	if (yrequire(&c->y, m, "name", "step") == 0)
		pb_get_template(c, m, "name", ns, &s->name);
	yget_str(&c->y, m, "why", &s->why);
	yget_str(&c->y, m, "explain", &s->explain);
	pb_get_target(c, m, "on", 1, &s->on);
}

static void read_run(struct pbctx *c, const struct ynode *m, struct step_def *s, int ns)
{
	int64_t v = 0;

	pb_get_template(c, m, "run", ns, &s->run);
	if (yget_int_list(&c->y, m, "ok_exit", 0, EXIT_CODE_MAX, &s->ok_exit, &s->nok_exit) == 0 &&
	    ymap_get(m, "run")) {
		s->ok_exit = xcalloc(1, sizeof(*s->ok_exit));
		s->nok_exit = 1;
	}
	yget_duration(&c->y, m, "timeout", 1, &s->timeout_ms);
	if (yget_int(&c->y, m, "retries", 0, 100, &v) == 1)
		s->retries = (int)v;
	s->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
	yget_duration(&c->y, m, "retry_delay", 0, &s->retry_delay_ms);
	yget_bool(&c->y, m, "idempotent", &s->idempotent);
	yget_duration(&c->y, m, "estimate", 0, &s->estimate_ms);
	int o;
	if (yget_enum(&c->y, m, "outage", outages, &o) == 1)
		s->outage = (enum outage_mark)(o + 1);
	yget_bool(&c->y, m, "point_of_no_return", &s->point_of_no_return);
	yget_bool(&c->y, m, "prepares", &s->prepares);
	yget_str(&c->y, m, "gate", &s->gate);
}

static int in_list(const int *v, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static void read_reboot(struct pbctx *c, const struct ynode *m, struct step_def *s, int ns)
{
	const struct ynode *n = ymap_get(m, "reboot");
	struct reboot_spec *r = &s->reboot;
	int w = 0;

	if (n == NULL || !ytype(&c->y, n, YNODE_MAP, "reboot"))
		return;
	if (c->pb->boot_id_fact == NULL)
		yerr(&c->y, ymap_key(m, "reboot"),
		     "a step with 'reboot' needs the playbook's top-level 'boot_id:' (the fact "
		     "that changes on every reboot)");
	if (c->pb->reboot_command == NULL)
		yerr(&c->y, ymap_key(m, "reboot"),
		     "a step with 'reboot' needs the playbook's top-level 'reboot_command:' (how "
		     "the runner restarts a host)");
	ykeys(&c->y, n, reboot_keys, "reboot");
	if (yrequire(&c->y, n, "when", "reboot") == 0 &&
	    yget_enum(&c->y, n, "when", reboot_whens, &w) == 1)
		r->when = w == 0 ? REBOOT_ALWAYS : REBOOT_ON_EXIT;
	int has =
	    yget_int_list(&c->y, n, "exit_codes", 0, EXIT_CODE_MAX, &r->exit_codes, &r->nexit);
	if (r->when == REBOOT_ON_EXIT && has == 0)
		yerr(&c->y, n, "reboot 'when: on_exit' needs 'exit_codes' (e.g. [3010])");
	if (r->when == REBOOT_ON_EXIT && ymap_get(m, "run") == NULL)
		yerr(&c->y, n,
		     "reboot 'when: on_exit' needs the step's 'run' (whose exit decides)");
	if (r->when == REBOOT_ALWAYS && has == 1)
		yerr(&c->y, ymap_key(n, "exit_codes"),
		     "'exit_codes' only applies to reboot 'when: on_exit'");
	for (int i = 0; has == 1 && i < r->nexit && s->ok_exit; i++)
		if (!in_list(s->ok_exit, s->nok_exit, r->exit_codes[i]))
			yerr(&c->y, ymap_get(n, "exit_codes"),
			     "reboot exit code %d is not in the step's ok_exit", r->exit_codes[i]);
	r->down_timeout_ms = DEFAULT_DOWN_TIMEOUT_MS;
	r->up_timeout_ms = DEFAULT_UP_TIMEOUT_MS;
	yget_duration(&c->y, n, "down_timeout", 1000, &r->down_timeout_ms);
	yget_duration(&c->y, n, "up_timeout", 1000, &r->up_timeout_ms);
	read_cond(c, n, "ready", ns, &r->ready);
}

static void record_free(struct record_spec *r)
{
	if (r == NULL)
		return;
	free(r->as);
	free(r->fact);
	free(r->run);
	if (r->capture)
		regfree(&r->capture_re);
	free(r->capture);
	free(r->def);
	free(r);
}

static void read_record(struct pbctx *c, const struct ynode *m, struct step_def *s, int ns)
{
	const struct ynode *n = ymap_get(m, "record"), *as = NULL, *fact = NULL;

	if (n == NULL || !ytype(&c->y, n, YNODE_MAP, "record"))
		return;
	struct record_spec *r = s->record = xcalloc(1, sizeof(*r));
	r->loc = yloc(&c->y, n);
	ykeys(&c->y, n, record_keys, "record");
	if (yrequire(&c->y, n, "as", "record") == 0 && yget_scalar(&c->y, n, "as", &as) == 1) {
		if (name_is_ident(as->text))
			r->as = xstrdup(as->text);
		else
			yerr(&c->y, as, "bad record name '%s' (lower-case letters, digits, '_')",
			     yq(&c->y, as->text));
	}
	int has_run = ymap_get(n, "run") != NULL, has_cap = ymap_get(n, "capture") != NULL;
	if (yget_scalar(&c->y, n, "fact", &fact) == 1) {
		if (has_run || has_cap)
			yerr(&c->y, n, "'record' takes 'fact' or 'run' + 'capture', not both");
		else if (!pb_fact(c, fact->text))
			yerr(&c->y, fact, "'record': undefined fact '%s'", yq(&c->y, fact->text));
		else
			r->fact = xstrdup(fact->text);
	} else if (!has_run || !has_cap) {
		yerr(&c->y, n, "'record' needs 'fact', or 'run' and 'capture'");
	}
	pb_get_template(c, n, "run", ns, &r->run);
	pb_get_regex(c, n, "capture", &r->capture_re, &r->capture);
	yget_str(&c->y, n, "default", &r->def);
}

static void read_wait(struct pbctx *c, const struct ynode *m, struct step_def *s, int ns)
{
	const struct ynode *n = ymap_get(m, "wait");

	if (n == NULL || !ytype(&c->y, n, YNODE_MAP, "wait"))
		return;
	struct wait_spec *w = s->wait = xcalloc(1, sizeof(*w));
	w->loc = yloc(&c->y, n);
	w->interval_ms = DEFAULT_WAIT_INTERVAL_MS;
	ykeys(&c->y, n, wait_keys, "wait");
	if (yrequire(&c->y, n, "until", "wait") == 0)
		pb_get_expr(c, n, "until", ns, &w->until);
	if (yrequire(&c->y, n, "timeout", "wait") == 0)
		yget_duration(&c->y, n, "timeout", 1, &w->timeout_ms);
	yget_duration(&c->y, n, "interval", 1, &w->interval_ms);
}

static void http_free(struct http_check_spec *h)
{
	if (h == NULL)
		return;
	free(h->url);
	free(h->status);
	if (h->body)
		regfree(&h->body_re);
	free(h->body);
	free(h->json);
	if (h->value)
		regfree(&h->value_re);
	free(h->value);
	free(h);
}

/*
 * json, value and count: a path over a JSON body, an ERE each selected value
 * must match, how many values it must select.  A literal path is checked
 * here; one with variables once the plan has substituted it.
 */
static void read_http_json(struct pbctx *c, const struct ynode *n, struct http_check_spec *h,
			   int ns)
{
	char err[256];
	int64_t v = 0;
	int col = 0, line = 0, pcol = 0;

	h->count = -1;
	if (pb_get_template(c, n, "json", ns, &h->json) == 1 && strstr(h->json, "${") == NULL &&
	    jpath_check(h->json, &col, err, sizeof(err)) < 0) {
		pb_pos(ymap_get(n, "json"), col, &line, &pcol);
		yerr_at(&c->y, line, pcol, "json: %s", err);
	}
	if (ymap_key(n, "json") == NULL) {
		if (ymap_key(n, "value"))
			yerr(&c->y, ymap_key(n, "value"), "'value' needs 'json' in 'http_check'");
		if (ymap_key(n, "count"))
			yerr(&c->y, ymap_key(n, "count"), "'count' needs 'json' in 'http_check'");
		return;
	}
	pb_get_regex(c, n, "value", &h->value_re, &h->value);
	if (yget_int(&c->y, n, "count", 0, 1000, &v) == 1)
		h->count = (int)v;
}

static void read_http(struct pbctx *c, const struct ynode *m, struct step_def *s, int ns)
{
	const struct ynode *n = ymap_get(m, "http_check");
	int64_t v = 0;

	if (n == NULL || !ytype(&c->y, n, YNODE_MAP, "http_check"))
		return;
	struct http_check_spec *h = s->http = xcalloc(1, sizeof(*h));
	h->loc = yloc(&c->y, n);
	ykeys(&c->y, n, http_keys, "http_check");
	if (yrequire(&c->y, n, "url", "http_check") == 0 &&
	    pb_get_template(c, n, "url", ns, &h->url) == 1 && strstr(h->url, "${") == NULL &&
	    (h->url[0] == '\0' || !var_kind_check(VK_URL, NULL, h->url)))
		yerr(&c->y, ymap_get(n, "url"), "'url': '%s' is not %s", yq_url(&c->y, h->url, 0),
		     var_kind_hint(VK_URL));
	if (yget_int_list(&c->y, n, "status", 100, 599, &h->status, &h->nstatus) == 0) {
		h->status = xcalloc(1, sizeof(*h->status));
		h->status[0] = 200;
		h->nstatus = 1;
	}
	pb_get_regex(c, n, "body", &h->body_re, &h->body);
	read_http_json(c, n, h, ns);
	h->timeout_ms = DEFAULT_HTTP_TIMEOUT_MS;
	yget_duration(&c->y, n, "timeout", 1, &h->timeout_ms);
	if (yget_int(&c->y, n, "retries", 0, 100, &v) == 1)
		h->retries = (int)v;
	yget_bool(&c->y, n, "insecure_tls", &h->insecure);
}

/* Exactly one action, and the run-only keys only with run. */
static void check_action(struct pbctx *c, const struct ynode *m)
{
	const char *first = NULL;

	for (int i = 0; actions[i]; i++) {
		const struct ynode *k = ymap_key(m, actions[i]);
		if (strcmp(actions[i], "reboot") == 0 && ymap_key(m, "run"))
			break; /* a command, possibly followed by a reboot */
		if (k && first) {
			yerr(&c->y, k, "a step does one thing: '%s' cannot be combined with '%s'",
			     actions[i], first);
			return;
		}
		if (k)
			first = actions[i];
	}
	/* With none of them, a step asserts its requires, or only takes a note (record). */
	if (first == NULL && ymap_key(m, "require") == NULL && ymap_key(m, "record") == NULL)
		yerr(&c->y, m,
		     "step has nothing to do: give it 'run', 'gate', 'wait', 'http_check', "
		     "'reboot', 'require' or 'record'");
	for (int i = 0; run_only[i] && ymap_key(m, "run") == NULL; i++) {
		const struct ynode *k = ymap_key(m, run_only[i]);
		if (k)
			yerr(&c->y, k, "'%s' only applies to a step with 'run'", run_only[i]);
	}
}

/* verify_within: needs a verify; a verify probe's pending needs verify_within. */
static void read_verify_within(struct pbctx *c, const struct ynode *m, struct step_def *s)
{
	const struct ynode *k = ymap_key(m, "verify_within");
	yget_duration(&c->y, m, "verify_within", 0, &s->verify_within_ms);
	if (k && s->verify.expr == NULL && s->verify.probe == NULL)
		yerr(&c->y, k, "'verify_within' needs the step's 'verify'");
	if (k == NULL && s->verify.probe && s->verify.probe->pending)
		yerr(&c->y, ymap_key(ymap_get(m, "verify"), "pending"),
		     "'pending' needs the step's 'verify_within' (how long to wait)");
}

int pb_read_step(struct pbctx *c, const struct ynode *m, struct step_def *s)
{
	int before = c->y.nerr, unknown;

	memset(s, 0, sizeof(*s));
	if (!ytype(&c->y, m, YNODE_MAP, "steps"))
		return -1;
	s->loc = yloc(&c->y, m);
	unknown = ykeys(&c->y, m, step_keys, "step");
	read_head(c, m, s);
	int ns = NS_ROLES | NS_SAVED | (ymap_get(m, "for_each") ? NS_ITEM : 0);
	pb_get_expr(c, m, "when", ns, &s->when);
	pb_read_require(c, m, ns, &s->require, &s->require_loc, &s->nrequire);
	read_cond(c, m, "check", ns, &s->check);
	read_cond(c, m, "verify", ns, &s->verify);
	read_verify_within(c, m, s);
	read_run(c, m, s, ns);
	read_reboot(c, m, s, ns);
	read_record(c, m, s, ns);
	read_wait(c, m, s, ns);
	read_http(c, m, s, ns);
	/* A misspelled action ("rnu:") already has its error; "nothing to do" would be noise. */
	if (!unknown)
		check_action(c, m);
	return c->y.nerr > before ? -1 : 0;
}

void pb_step_release(struct step_def *s)
{
	free(s->id);
	free(s->name);
	free(s->why);
	free(s->on);
	free(s->for_each);
	expr_free(s->when);
	for (int i = 0; i < s->nrequire; i++)
		expr_free(s->require[i]);
	free(s->require);
	free(s->require_loc);
	free(s->explain);
	cond_release(&s->check);
	cond_release(&s->verify);
	free(s->run);
	free(s->ok_exit);
	free(s->reboot.exit_codes);
	cond_release(&s->reboot.ready);
	record_free(s->record);
	if (s->wait)
		expr_free(s->wait->until);
	free(s->wait);
	http_free(s->http);
	free(s->gate);
	free(s->from_sequence);
	memset(s, 0, sizeof(*s));
}
