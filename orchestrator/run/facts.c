/*
 * facts.c — see facts.h.
 *
 * Caches are small arrays searched linearly: a cluster has a handful of
 * hosts and a few dozen facts, and they are emptied after every change.
 */
#include "facts.h"

#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "jpath.h"

#define PROBE_CAP	(1u << 20)
#define BATCH_MAX_PARTS 48 /* parts in one remote command */
/* A batch's timeout: the sum of its parts', up to this. */
#define BATCH_MAX_TIMEOUT (60LL * 60 * 1000)

struct probe_out {
	char *host;    /* where it ran */
	char *cmd;     /* substituted command */
	int exit;      /* exit status */
	char *text;    /* stdout then stderr */
	size_t outlen; /* the length of stdout at the start of text */
	char *error;   /* a batch part that did not complete: the transport's error, or NULL */
	enum xport_outcome xo; /* with error: the batch's transport outcome */
};

struct want {
	char *host, *cmd;
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
	facts_batch_fn batch_observer; /* audit hook for a batch as sent, may be NULL */
	facts_plan_fn planner;	       /* names the probes to batch with a miss, may be NULL */
	void *planner_arg;
	struct want *want; /* what the planner asked for, in order */
	int nwant;
	int planning;		/* inside a prefetch: misses run alone */
	char *want_only;	/* facts_want_only(): the one host wanted, or NULL */
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

void facts_set_planner(struct facts *f, facts_plan_fn fn, facts_batch_fn batch_fn, void *arg)
{
	f->planner = fn;
	f->batch_observer = batch_fn;
	f->planner_arg = arg;
}

void facts_invalidate(struct facts *f)
{
	for (int i = 0; i < f->nouts; i++) {
		free(f->outs[i].host);
		free(f->outs[i].cmd);
		free(f->outs[i].text);
		free(f->outs[i].error);
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
	free(f->want_only);
	free(f);
}

static struct probe_out *cache_out(struct facts *f, const char *host, const char *cmd)
{
	for (int i = 0; i < f->nouts; i++)
		if (str_ieq(f->outs[i].host, host) && strcmp(f->outs[i].cmd, cmd) == 0)
			return &f->outs[i];
	return NULL;
}

static struct probe_out *out_add(struct facts *f, const char *host, const char *cmd)
{
	f->outs = xreallocarray(f->outs, (size_t)f->nouts + 1, sizeof(*f->outs));
	struct probe_out *po = &f->outs[f->nouts++];
	memset(po, 0, sizeof(*po));
	po->host = xstrdup(host);
	po->cmd = xstrdup(cmd);
	return po;
}

/* A cached answer: the output, or (a batch part that did not complete) its error. */
static const struct probe_out *cached(const struct probe_out *po, enum xport_outcome *xo, char *err,
				      size_t errlen)
{
	if (po->error == NULL)
		return po;
	if (xo)
		*xo = po->xo;
	snprintf(err, errlen, "%s", po->error);
	return NULL;
}

static void observe(struct facts *f, const char *host, const char *cmd,
		    const struct xport_result *r, const char *batch)
{
	if (f->observer)
		f->observer(host, cmd, r, batch, f->observer_arg);
}

/* Run cmd alone: cached on success; -1 with err and *xo (may be NULL) on a transport failure. */
static const struct probe_out *run_alone(struct facts *f, struct xport *x, const char *host,
					 const char *cmd, enum xport_outcome *xo, char *err,
					 size_t errlen)
{
	struct xport_result r;
	enum xport_outcome o;

	xport_result_init(&r);
	o = xport_exec(x, cmd, f->p->inv->ssh.command_timeout_ms, PROBE_CAP, NULL, NULL, f->stop,
		       &r);
	observe(f, host, cmd, &r, NULL);
	if (xo)
		*xo = o;
	if (o != XPORT_OK) {
		snprintf(err, errlen, "%s", xport_error(x));
		xport_result_release(&r);
		return NULL;
	}
	struct probe_out *po = out_add(f, host, cmd);
	po->exit = r.exit;
	po->outlen = r.out.len;
	po->text = xasprintf("%s%s%s", r.out.buf, r.err.len ? "\n" : "", r.err.buf);
	xport_result_release(&r);
	return po;
}

/* One part of a batch as if it had run alone (the observer's view; out and err capped). */
static void part_result(struct xport_result *pr, const struct batch_part *b)
{
	size_t lo = strlen(b->out), le = strlen(b->err);
	xport_result_init(pr);
	pr->exit = b->exit;
	pr->out_truncated = lo > PROBE_CAP;
	pr->err_truncated = le > PROBE_CAP;
	sbuf_add(&pr->out, b->out, lo > PROBE_CAP ? PROBE_CAP : lo);
	sbuf_add(&pr->err, b->err, le > PROBE_CAP ? PROBE_CAP : le);
}

/*
 * Cache what a batch's answer says of each part: the complete parts' output;
 * after a transport failure, the error for the first part that did not
 * complete and every later one (a lone probe would have met it too).  When
 * the batch ran but a marker is missing, the parts from there are left
 * uncached: each runs alone when it is read.
 */
static void batch_store(struct facts *f, struct xport *x, const char *host, const char *const *cmds,
			int n, enum xport_outcome o, const struct xport_result *r, const char *id,
			const char *nonce)
{
	struct batch_part *parts = xcalloc((size_t)n, sizeof(*parts));
	int k = batch_parse(nonce, r->out.buf, r->err.buf, n, parts);

	for (int i = 0; i < n; i++) {
		struct xport_result pr;
		if (i >= k && o == XPORT_OK)
			break;
		if (i < k) {
			part_result(&pr, &parts[i]);
		} else {
			xport_result_init(&pr);
			pr.outcome = o;
		}
		observe(f, host, cmds[i], &pr, id);
		struct probe_out *po = out_add(f, host, cmds[i]);
		po->exit = pr.exit;
		if (i < k) {
			po->outlen = pr.out.len;
			po->text =
			    xasprintf("%s%s%s", pr.out.buf, pr.err.len ? "\n" : "", pr.err.buf);
		} else {
			po->error = xstrdup(xport_error(x));
			po->xo = o;
		}
		xport_result_release(&pr);
	}
	batch_parts_release(parts, n);
	free(parts);
}

/* Run cmds[0..n) on host as one remote command and cache each part's answer. */
static void run_batch(struct facts *f, const char *host, const char *const *cmds, int n)
{
	struct xport *x = conns_get(f->conns, host);
	struct xport_result r;
	char nonce[BATCH_NONCE_LEN + 1], err[512];
	int64_t timeout = f->p->inv->ssh.command_timeout_ms * n;

	if (x == NULL)
		return;
	if (n == 1) {
		enum xport_outcome o = XPORT_OK;
		if (run_alone(f, x, host, cmds[0], &o, err, sizeof(err)) == NULL) {
			struct probe_out *po = out_add(f, host, cmds[0]);
			po->error = xstrdup(err);
			po->xo = o;
		}
		return;
	}
	batch_nonce(nonce);
	char *sent = batch_build(f->p->pb->shell, nonce, cmds, n);
	if (timeout > BATCH_MAX_TIMEOUT || timeout <= 0)
		timeout = timeout <= 0 ? 0 : BATCH_MAX_TIMEOUT;
	xport_result_init(&r);
	enum xport_outcome o =
	    xport_exec(x, sent, timeout, (size_t)PROBE_CAP * (size_t)n, NULL, NULL, f->stop, &r);
	if (f->batch_observer)
		f->batch_observer(host, sent, &r, nonce, n, f->planner_arg);
	batch_store(f, x, host, cmds, n, o, &r, nonce, nonce);
	xport_result_release(&r);
	free(sent);
}

/* The wanted commands of host not cached yet, batchable, without duplicates (borrowed). */
static int host_parts(struct facts *f, const char *host, const char **cmds)
{
	int n = 0;
	for (int i = 0; i < f->nwant && n < BATCH_MAX_PARTS; i++) {
		const struct want *w = &f->want[i];
		int dup = 0;
		if (!str_ieq(w->host, host) || cache_out(f, host, w->cmd) ||
		    !batch_part_ok(f->p->pb->shell, w->cmd))
			continue;
		for (int j = 0; j < n && !dup; j++)
			dup = strcmp(cmds[j], w->cmd) == 0;
		if (!dup)
			cmds[n++] = w->cmd;
	}
	return n;
}

/*
 * A miss of (host, cmd): ask the planner what else the runner will read
 * before its next change, and read it all with one remote command per host,
 * the missing one first.
 */
static void prefetch(struct facts *f, const char *host, const char *cmd)
{
	const char *cmds[BATCH_MAX_PARTS];

	f->planning = 1;
	facts_want_cmd(f, host, cmd);
	f->planner(f, f->planner_arg);
	facts_want_only(f, NULL);
	for (int i = 0; i < f->nwant; i++) {
		const char *h = f->want[i].host;
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = str_ieq(f->want[j].host, h);
		int n = seen ? 0 : host_parts(f, h, cmds);
		if (n > 0)
			run_batch(f, h, cmds, n);
	}
	for (int i = 0; i < f->nwant; i++) {
		free(f->want[i].host);
		free(f->want[i].cmd);
	}
	free(f->want);
	f->want = NULL;
	f->nwant = 0;
	f->planning = 0;
}

void facts_want_only(struct facts *f, const char *host)
{
	free(f->want_only);
	f->want_only = host ? xstrdup(host) : NULL;
}

void facts_want_cmd(struct facts *f, const char *host, const char *cmd)
{
	if (host == NULL || cmd == NULL || (f->want_only && !str_ieq(host, f->want_only)))
		return;
	f->want = xreallocarray(f->want, (size_t)f->nwant + 1, sizeof(*f->want));
	f->want[f->nwant].host = xstrdup(host);
	f->want[f->nwant].cmd = xstrdup(cmd);
	f->nwant++;
}

/* Run a read-only command, cached per (host, cmd) until the next invalidate. */
static const struct probe_out *run_probe(struct facts *f, const char *host, const char *cmd,
					 enum xport_outcome *xo, char *err, size_t errlen)
{
	const struct probe_out *po = cache_out(f, host, cmd);
	struct xport *x;

	if (po)
		return cached(po, xo, err, errlen);
	x = conns_get(f->conns, host);
	if (x == NULL) {
		snprintf(err, errlen, "host %s is not in the inventory", host);
		return NULL;
	}
	if (f->planner && !f->planning && f->p->pb->shell != PB_SHELL_NONE &&
	    batch_part_ok(f->p->pb->shell, cmd)) {
		prefetch(f, host, cmd);
		if ((po = cache_out(f, host, cmd)) != NULL)
			return cached(po, xo, err, errlen);
	}
	return run_alone(f, x, host, cmd, xo, err, errlen);
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

/* The command def runs on host, substituted (caller frees), or NULL with e. */
static char *fact_command(struct facts *f, const struct fact_def *def, const char *host, char *e,
			  size_t elen)
{
	struct subst_ctx c;
	plan_subst_ctx(f->p, NULL, &c);
	c.node = host;
	return subst_expand(&c, def->run, e, elen);
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
	cmd = fact_command(f, def, host, e, sizeof(e));
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

void facts_want_fact(struct facts *f, const char *name, const char *host)
{
	const struct fact_def *def = playbook_fact(f->p->pb, name);
	const struct host_group *g = cluster_group(f->p->cl, "members");
	char e[512], *cmd;

	if (def == NULL)
		return;
	if (def->scope == FACT_CLUSTER) {
		if (cache_find(f, name, NULL))
			return;
		/* The asking host answers first (facts_get), else the first member. */
		if (host == NULL || !is_member(f->p, host))
			host = g && g->nhosts ? g->hosts[0] : NULL;
	} else if (host == NULL || cache_find(f, name, host)) {
		return;
	}
	if (host == NULL || (cmd = fact_command(f, def, host, e, sizeof(e))) == NULL)
		return;
	facts_want_cmd(f, host, cmd);
	free(cmd);
}

struct want_ctx {
	struct facts *f;
	const char *node;
	struct subst_ctx sc;
};

static int want_ident(const char *name, int col, void *arg)
{
	struct want_ctx *wc = arg;
	const char *dot = strchr(name, '.');
	enum var_kind k;

	(void)col;
	if (str_startswith(name, "saved."))
		return 0;
	if (dot) {
		char *role = xstrndup(name, (size_t)(dot - name));
		const char *host = subst_role_host(&wc->sc, role);
		free(role);
		if (host)
			facts_want_fact(wc->f, dot + 1, host);
		return 0;
	}
	if (subst_value(&wc->sc, name, &k) == NULL && playbook_fact(wc->f->p->pb, name))
		facts_want_fact(wc->f, name, wc->node);
	return 0;
}

void facts_want_expr(struct facts *f, const struct expr *e, const struct plan_step *s,
		     const char *node)
{
	struct want_ctx wc = {.f = f};
	if (e == NULL)
		return;
	plan_subst_ctx(f->p, s, &wc.sc);
	wc.node = node ? node : (s ? s->node : NULL);
	wc.sc.node = wc.node;
	(void)expr_foreach_ident(e, want_ident, &wc);
}

void facts_want_cond(struct facts *f, const struct cond *c, const char *cmd,
		     const struct plan_step *s)
{
	if (c->expr)
		facts_want_expr(f, c->expr, s, NULL);
	else if (c->probe && s)
		facts_want_cmd(f, s->node, cmd);
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

int facts_run_output(struct facts *f, const char *host, const char *cmd, char **out, int *exit,
		     char *err, size_t errlen)
{
	const struct probe_out *po = run_probe(f, host, cmd, NULL, err, errlen);
	if (po == NULL)
		return -1;
	*out = xstrndup(po->text, po->outlen);
	*exit = po->exit;
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
