/*
 * facts.c — see facts.h.
 *
 * Caches are small arrays searched linearly: a cluster has a handful of
 * hosts and a few dozen facts, and they are emptied after every change.
 */
#include "facts.h"

#include <stdlib.h>
#include <string.h>

#include "jpath.h"

#define PROBE_CAP (1u << 20)

struct probe_out {
	char *host; /* where it ran */
	char *cmd;  /* substituted command */
	int exit;   /* exit status */
	char *text; /* stdout then stderr */
};

struct fact_val {
	char *name;  /* fact name */
	char *host;  /* host, or NULL for a cluster fact */
	char *value; /* extracted value */
};

struct facts {
	const struct plan *p;	     /* borrowed */
	struct conns *conns;	     /* borrowed */
	volatile sig_atomic_t *stop; /* borrowed, may be NULL */
	facts_cmd_fn observer;	     /* audit hook, may be NULL */
	void *observer_arg;
	struct probe_out *outs; /* probe output cache */
	int nouts;
	struct fact_val *vals; /* fact value cache */
	int nvals;
};

struct saved_val {
	char *node, *name, *item, *value;
};

struct saved {
	struct saved_val *v;
	int n;
};

struct facts *facts_new(const struct plan *p, struct conns *c, volatile sig_atomic_t *stop)
{
	struct facts *f = xcalloc(1, sizeof(*f));
	f->p = p;
	f->conns = c;
	f->stop = stop;
	return f;
}

void facts_set_observer(struct facts *f, facts_cmd_fn fn, void *arg)
{
	f->observer = fn;
	f->observer_arg = arg;
}

void facts_invalidate(struct facts *f)
{
	for (int i = 0; i < f->nouts; i++) {
		free(f->outs[i].host);
		free(f->outs[i].cmd);
		free(f->outs[i].text);
	}
	for (int i = 0; i < f->nvals; i++) {
		free(f->vals[i].name);
		free(f->vals[i].host);
		free(f->vals[i].value);
	}
	free(f->outs);
	free(f->vals);
	f->outs = NULL;
	f->vals = NULL;
	f->nouts = f->nvals = 0;
}

void facts_free(struct facts *f)
{
	if (f == NULL)
		return;
	facts_invalidate(f);
	free(f);
}

/* Run a read-only command, cached per (host, cmd) until the next invalidate. */
static const struct probe_out *run_probe(struct facts *f, const char *host, const char *cmd,
					 enum xport_outcome *xo, char *err, size_t errlen)
{
	struct xport_result r;
	struct xport *x;
	enum xport_outcome o;

	for (int i = 0; i < f->nouts; i++)
		if (str_ieq(f->outs[i].host, host) && strcmp(f->outs[i].cmd, cmd) == 0)
			return &f->outs[i];
	x = conns_get(f->conns, host);
	if (x == NULL) {
		snprintf(err, errlen, "host %s is not in the inventory", host);
		return NULL;
	}
	xport_result_init(&r);
	o = xport_exec(x, cmd, f->p->inv->ssh.command_timeout_ms, PROBE_CAP, NULL, NULL, f->stop,
		       &r);
	if (f->observer)
		f->observer(host, cmd, &r, f->observer_arg);
	if (xo)
		*xo = o;
	if (o != XPORT_OK) {
		snprintf(err, errlen, "%s", xport_error(x));
		xport_result_release(&r);
		return NULL;
	}
	f->outs = xreallocarray(f->outs, (size_t)f->nouts + 1, sizeof(*f->outs));
	struct probe_out *po = &f->outs[f->nouts++];
	po->host = xstrdup(host);
	po->cmd = xstrdup(cmd);
	po->exit = r.exit;
	po->text = xasprintf("%s%s%s", r.out.buf, r.err.len ? "\n" : "", r.err.buf);
	xport_result_release(&r);
	return po;
}

/* Build one match's value from the template ("$1.$2") or group 1 / whole match. */
static char *match_value(const struct fact_def *def, const char *text, const regmatch_t *m)
{
	struct sbuf v;
	sbuf_init(&v);
	if (def->value == NULL) {
		const regmatch_t *g = m[1].rm_so >= 0 ? &m[1] : &m[0];
		sbuf_add(&v, text + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
		return sbuf_detach(&v);
	}
	for (const char *p = def->value; *p; p++) {
		if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			const regmatch_t *g = &m[p[1] - '0'];
			if (g->rm_so >= 0)
				sbuf_add(&v, text + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
			p++;
		} else {
			sbuf_addc(&v, *p);
		}
	}
	return sbuf_detach(&v);
}

static int rank_of(const struct fact_def *def, const char *v)
{
	for (int i = 0; i < def->norder; i++)
		if (str_ieq(def->order[i], v))
			return i;
	return -1; /* unknown values count as worst */
}

/* Does candidate replace best under the fact's reduce rule? */
static int better(const struct fact_def *def, const char *cand, const char *best)
{
	int cmp = 0;
	switch (def->reduce) {
	case REDUCE_FIRST:
		return 0;
	case REDUCE_LAST:
		return 1;
	case REDUCE_WORST:
		return rank_of(def, cand) < rank_of(def, best);
	case REDUCE_MAX:
		return expr_compare_values(cand, best, &cmp) == 0 && cmp > 0;
	case REDUCE_MIN:
		return expr_compare_values(cand, best, &cmp) == 0 && cmp < 0;
	case REDUCE_COUNT:
		return 0;
	}
	return 0;
}

/* One candidate text: every capture match (or the whole text without a capture). */
static void consider(const struct fact_def *def, const char *text, char **best, int *count)
{
	regmatch_t m[10];
	const char *p = text;
	int flags = 0;

	if (def->capture == NULL) {
		(*count)++;
		if (*best == NULL || better(def, text, *best)) {
			free(*best);
			*best = xstrdup(text);
		}
		return;
	}
	while (*p && regexec(&def->capture_re, p, 10, m, flags) == 0) {
		char *v = match_value(def, p, m);
		(*count)++;
		if (*best == NULL || better(def, v, *best)) {
			free(*best);
			*best = v;
		} else {
			free(v);
		}
		if (m[0].rm_eo > m[0].rm_so)
			p += m[0].rm_eo;
		else if (p[m[0].rm_so] != '\0')
			p += m[0].rm_so + 1; /* an empty match: on past it */
		else
			break; /* an empty match at the end: nothing follows */
		flags = (p > text && p[-1] == '\n') ? 0 : REG_NOTBOL;
	}
}

static char *reduced(const struct fact_def *def, char *best, int count, const char *what,
		     const char *text, int exit_status, char *err, size_t errlen)
{
	if (def->reduce == REDUCE_COUNT) {
		free(best);
		return xasprintf("%d", count);
	}
	if (best)
		return best;
	if (def->def)
		return xstrdup(def->def);
	snprintf(err, errlen, "no match for %s (exit %d): %.200s", what, exit_status, text);
	return NULL;
}

char *facts_extract(const struct fact_def *def, const char *text, int exit_status, char *err,
		    size_t errlen)
{
	char *best = NULL, *what;
	int count = 0;

	consider(def, text, &best, &count);
	what = xasprintf("/%s/", def->capture ? def->capture : "");
	best = reduced(def, best, count, what, text, exit_status, err, errlen);
	free(what);
	return best;
}

char *facts_extract_json(const struct fact_def *def, const char *path, const char *text,
			 int exit_status, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(text, JSON_DECODE_ANY, &je);
	char **vals = NULL, *best = NULL, *what;
	int n = 0, count = 0;

	if (root == NULL) {
		/* Not JSON (the service is down, an error message): no value. */
		if (def->reduce == REDUCE_COUNT)
			return xstrdup("0");
		if (def->def)
			return xstrdup(def->def);
		snprintf(err, errlen, "output is not JSON (exit %d, %s at line %d): %.200s",
			 exit_status, je.text, je.line, text);
		return NULL;
	}
	if (jpath_select(root, path, &vals, &n, err, errlen) < 0) {
		json_decref(root);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		consider(def, vals[i], &best, &count);
		free(vals[i]);
	}
	free(vals);
	json_decref(root);
	what = def->capture ? xasprintf("json '%s' then /%s/", path, def->capture)
			    : xasprintf("json '%s'", path);
	best = reduced(def, best, count, what, text, exit_status, err, errlen);
	free(what);
	return best;
}

static int is_member(const struct plan *p, const char *host)
{
	const struct host_group *g = cluster_group(p->cl, "members");
	for (int i = 0; g && i < g->nhosts; i++)
		if (str_ieq(g->hosts[i], host))
			return 1;
	return 0;
}

static const char *cache_find(const struct facts *f, const char *name, const char *host)
{
	for (int i = 0; i < f->nvals; i++) {
		const struct fact_val *v = &f->vals[i];
		if (strcmp(v->name, name) == 0 && ((host == NULL && v->host == NULL) ||
						   (host && v->host && str_ieq(host, v->host))))
			return v->value;
	}
	return NULL;
}

static const char *cache_put(struct facts *f, const char *name, const char *host, char *value)
{
	f->vals = xreallocarray(f->vals, (size_t)f->nvals + 1, sizeof(*f->vals));
	struct fact_val *v = &f->vals[f->nvals++];
	v->name = xstrdup(name);
	v->host = host ? xstrdup(host) : NULL;
	v->value = value;
	return value;
}

/* Probe a fact on one host: substitute, run (cached), extract. */
static char *probe_fact(struct facts *f, const struct fact_def *def, const char *host,
			enum xport_outcome *xo, char *err, size_t errlen)
{
	struct subst_ctx c;
	char e[512];
	char *cmd, *v = NULL, *path = NULL;
	const struct probe_out *po;

	plan_subst_ctx(f->p, NULL, &c);
	c.node = host;
	cmd = subst_expand(&c, def->run, e, sizeof(e));
	if (cmd == NULL) {
		snprintf(err, errlen, "fact %s on %s: %s", def->name, host, e);
		return NULL;
	}
	if (def->json && (path = subst_expand(&c, def->json, e, sizeof(e))) == NULL) {
		snprintf(err, errlen, "fact %s on %s: json: %s", def->name, host, e);
		free(cmd);
		return NULL;
	}
	po = run_probe(f, host, cmd, xo, e, sizeof(e));
	if (po == NULL)
		snprintf(err, errlen, "fact %s on %s: %s", def->name, host, e);
	else if ((v = path ? facts_extract_json(def, path, po->text, po->exit, e, sizeof(e))
			   : facts_extract(def, po->text, po->exit, e, sizeof(e))) == NULL)
		snprintf(err, errlen, "fact %s on %s: `%s` %s", def->name, host, cmd, e);
	free(cmd);
	free(path);
	return v;
}

int facts_get(struct facts *f, const char *name, const char *host, const char **value,
	      enum xport_outcome *xo, char *err, size_t errlen)
{
	const struct fact_def *def = playbook_fact(f->p->pb, name);
	const char *key = host;
	char *v = NULL;

	if (xo)
		*xo = XPORT_OK;
	if (def == NULL) {
		snprintf(err, errlen, "unknown fact '%s'", name);
		return -1;
	}
	if (def->scope == FACT_CLUSTER)
		key = NULL;
	if ((*value = cache_find(f, name, key)) != NULL)
		return 0;
	if (def->scope == FACT_NODE) {
		v = probe_fact(f, def, host, xo, err, errlen);
	} else {
		/* Any member answers for the cluster: the asking host first, then the others. */
		const struct host_group *g = cluster_group(f->p->cl, "members");
		if (host && is_member(f->p, host))
			v = probe_fact(f, def, host, xo, err, errlen);
		for (int i = 0; v == NULL && g && i < g->nhosts; i++)
			if (host == NULL || !str_ieq(g->hosts[i], host))
				v = probe_fact(f, def, g->hosts[i], xo, err, errlen);
	}
	if (v == NULL)
		return -1;
	*value = cache_put(f, name, key, v);
	return 0;
}

struct eval_ctx {
	struct facts *f;
	const struct plan_step *s;
	const char *node;
	const struct saved *saved;
	struct subst_ctx sc;
	char err[512]; /* first lookup failure */
	int failed;
};

static const char *lookup_fact(struct eval_ctx *ec, const char *fact, const char *host)
{
	const char *v = NULL;
	if (ec->failed)
		return NULL;
	if (facts_get(ec->f, fact, host, &v, NULL, ec->err, sizeof(ec->err)) < 0) {
		ec->failed = 1;
		return NULL;
	}
	return v;
}

static const char *eval_lookup(const char *name, void *arg)
{
	struct eval_ctx *ec = arg;
	enum var_kind k;
	const char *dot = strchr(name, '.');

	if (str_startswith(name, "saved.")) {
		const char *v = saved_get(ec->saved, ec->node, name + 6, ec->sc.item);
		return v ? v : "";
	}
	if (dot) {
		char *role = xstrndup(name, (size_t)(dot - name));
		const char *host = subst_role_host(&ec->sc, role);
		free(role);
		return host ? lookup_fact(ec, dot + 1, host) : NULL;
	}
	const char *v = subst_value(&ec->sc, name, &k);
	if (v)
		return v;
	if (playbook_fact(ec->f->p->pb, name))
		return lookup_fact(ec, name, ec->node);
	return NULL;
}

int facts_eval(struct facts *f, const struct expr *e, const struct plan_step *s, const char *node,
	       const struct saved *saved, int *result, struct sbuf *why, char *err, size_t errlen)
{
	struct eval_ctx ec;
	struct sbuf w;
	int rc;

	memset(&ec, 0, sizeof(ec));
	ec.f = f;
	ec.s = s;
	ec.saved = saved;
	plan_subst_ctx(f->p, s, &ec.sc);
	ec.node = node ? node : (s ? s->node : NULL);
	ec.sc.node = ec.node;
	sbuf_init(&w);
	rc = expr_eval(e, eval_lookup, &ec, result, &w);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", expr_source(e), ec.failed ? ec.err : w.buf);
	else if (why)
		sbuf_adds(why, w.buf);
	sbuf_release(&w);
	return rc;
}

#define GIST_MAX 200 /* characters of a probe's output quoted in a message */

/*
 * " (it says: LINE | LINE | ...)": what a probe's output said instead, its
 * non-empty lines with blanks collapsed, cut at GIST_MAX characters.
 */
static void output_gist(struct sbuf *why, const char *text)
{
	size_t start = why->len, room = GIST_MAX;
	int blank = 1, lines = 0;

	sbuf_adds(why, " (it says: ");
	for (const char *p = text; *p && room > 0; p++) {
		if (*p == '\r' || *p == '\n') {
			if (!blank && lines > 0)
				blank = 2; /* a line ended: " | " before the next text */
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			if (!blank)
				blank = 1;
			continue;
		}
		if (blank == 2)
			sbuf_adds(why, " | ");
		else if (blank == 1 && lines > 0)
			sbuf_addc(why, ' ');
		blank = 0;
		lines = lines > 0 ? lines : 1;
		sbuf_addc(why, *p);
		room--;
	}
	if (lines == 0) {
		why->len = start;
		why->buf[why->len] = '\0';
		sbuf_adds(why, " (no output)");
		return;
	}
	sbuf_adds(why, room == 0 ? " ...)" : ")");
}

int facts_probe(struct facts *f, const struct probe *pr, const char *cmd, const char *host,
		struct sbuf *why, char *err, size_t errlen)
{
	char e[512];
	const struct probe_out *po = run_probe(f, host, cmd, NULL, e, sizeof(e));
	int ok_exit = 0;

	if (po == NULL) {
		snprintf(err, errlen, "probe `%s` on %s: %s", cmd, host, e);
		return -1;
	}
	/* Without exit codes the output decides; without either, exit 0 does. */
	if (pr->nexit == 0)
		ok_exit = pr->expect ? 1 : po->exit == 0;
	for (int i = 0; i < pr->nexit; i++)
		if (pr->exit_codes[i] == po->exit)
			ok_exit = 1;
	int matched = pr->expect == NULL || regexec(&pr->expect_re, po->text, 0, NULL, 0) == 0;
	if (why) {
		sbuf_addf(why, "`%s` on %s exited %d", cmd, host, po->exit);
		if (pr->expect != NULL) {
			sbuf_addf(why, ", output %s /%s/", matched ? "matches" : "does not match",
				  pr->expect);
			if (!matched)
				output_gist(why, po->text);
		}
	}
	return ok_exit && matched;
}

int facts_cached(const struct facts *f, int i, const char **name, const char **host,
		 const char **value)
{
	if (i < 0 || i >= f->nvals)
		return -1;
	*name = f->vals[i].name;
	*host = f->vals[i].host;
	*value = f->vals[i].value;
	return 0;
}

int facts_run_text(struct facts *f, const char *host, const char *cmd, const char **text, char *err,
		   size_t errlen)
{
	const struct probe_out *po = run_probe(f, host, cmd, NULL, err, errlen);
	if (po == NULL)
		return -1;
	*text = po->text;
	return 0;
}

int facts_cond(struct facts *f, const struct cond *c, const char *cmd, const struct plan_step *s,
	       const struct saved *saved, struct sbuf *why, char *err, size_t errlen)
{
	int r = 0;
	if (c->expr) {
		if (facts_eval(f, c->expr, s, NULL, saved, &r, why, err, errlen) < 0)
			return -1;
		return r;
	}
	if (c->probe)
		return facts_probe(f, c->probe, cmd, s->node, why, err, errlen);
	return 1;
}

struct saved *saved_new(void)
{
	return xcalloc(1, sizeof(struct saved));
}

void saved_free(struct saved *sv)
{
	if (sv == NULL)
		return;
	for (int i = 0; i < sv->n; i++) {
		free(sv->v[i].node);
		free(sv->v[i].name);
		free(sv->v[i].item);
		free(sv->v[i].value);
	}
	free(sv->v);
	free(sv);
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && str_ieq(a, b));
}

const char *saved_get(const struct saved *sv, const char *node, const char *name, const char *item)
{
	for (int i = 0; sv && i < sv->n; i++)
		if (same(sv->v[i].node, node) && strcmp(sv->v[i].name, name) == 0 &&
		    same(sv->v[i].item, item))
			return sv->v[i].value;
	return NULL;
}

void saved_set(struct saved *sv, const char *node, const char *name, const char *item,
	       const char *value)
{
	if (saved_get(sv, node, name, item))
		return;
	sv->v = xreallocarray(sv->v, (size_t)sv->n + 1, sizeof(*sv->v));
	struct saved_val *s = &sv->v[sv->n++];
	s->node = node ? xstrdup(node) : NULL;
	s->name = xstrdup(name);
	s->item = item ? xstrdup(item) : NULL;
	s->value = xstrdup(value);
}
