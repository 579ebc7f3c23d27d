/*
 * loader.c — typed reads from a yamltree with located errors (contract in
 * loader.h).  The messages are written for the person editing the file:
 * they name the key, what was expected and what was found.
 */
#include "loader.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "textsafe.h"
#include "util.h"

const char *yq(struct yctx *c, const char *s)
{
	struct sbuf sb;
	char *slot = c->q[c->qi];

	c->qi = (c->qi + 1) % 4;
	sbuf_init(&sb);
	diag_quote(&sb, s ? s : "");
	size_t n = sb.len < sizeof(c->q[0]) - 1 ? sb.len : sizeof(c->q[0]) - 1;
	memcpy(slot, sb.buf, n);
	slot[n] = '\0';
	sbuf_release(&sb);
	return slot;
}

const char *yq_url(struct yctx *c, const char *s, int whole)
{
	char *shown = url_redact(s, whole);
	const char *q = yq(c, shown);

	free(shown);
	return q;
}

static void yverr(struct yctx *c, int line, int col, const char *fmt, va_list ap) CCR_PRINTF(4, 0);

static void yverr(struct yctx *c, int line, int col, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	diag_add(c->d, c->file, line, col, "%s", msg);
	free(msg);
	c->nerr++;
}

void yerr(struct yctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	yverr(c, n ? n->line : 0, n ? n->col : 0, fmt, ap);
	va_end(ap);
}

void yerr_at(struct yctx *c, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	yverr(c, line, col, fmt, ap);
	va_end(ap);
}

struct src_loc yloc(const struct yctx *c, const struct ynode *n)
{
	struct src_loc l = {c->file, n ? n->line : 0, n ? n->col : 0};
	return l;
}

int yrequire(struct yctx *c, const struct ynode *m, const char *key, const char *what)
{
	const struct ynode *k = ymap_key(m, key);
	const struct ynode *v = ymap_get(m, key);

	if (k == NULL) {
		/*
		 * A misspelling ("captur") was already reported with "did you mean
		 * 'capture'?" by ykeys(); saying it is missing too adds nothing.  (No
		 * two valid keys of one mapping are that close, so a near key here is
		 * always an unknown one.)
		 */
		const char *want[] = {key, NULL};
		for (int i = 0; m->kind == YNODE_MAP && i < m->n; i++)
			if (ysuggest(m->keys[i]->text, want))
				return -1;
		yerr(c, m, "missing required key '%s' in %s", key, what);
		return -1;
	}
	if (v == NULL || (v->kind == YNODE_SCALAR && v->is_null)) {
		yerr(c, k, "'%s' has no value (required in %s)", key, what);
		return -1;
	}
	return 0;
}

int ykeys(struct yctx *c, const struct ynode *m, const char *const *allowed, const char *what)
{
	int n = ymap_check_keys(m, allowed, what, c->file, c->d);
	c->nerr += n;
	return n;
}

static const char *kind_word(enum ynode_kind k)
{
	return k == YNODE_MAP ? "a mapping" : k == YNODE_SEQ ? "a list" : "a string";
}

int ytype(struct yctx *c, const struct ynode *n, enum ynode_kind k, const char *key)
{
	if (n->kind == k && !(k == YNODE_SCALAR && n->is_null))
		return 1;
	yerr(c, n, "'%s': expected %s, got %s", key, kind_word(k), ynode_describe(n));
	return 0;
}

int yget_scalar(struct yctx *c, const struct ynode *m, const char *key, const struct ynode **out)
{
	const struct ynode *v = ymap_get(m, key);

	if (v == NULL || (v->kind == YNODE_SCALAR && v->is_null))
		return 0;
	if (!ytype(c, v, YNODE_SCALAR, key))
		return -1;
	*out = v;
	return 1;
}

int yget_str(struct yctx *c, const struct ynode *m, const char *key, char **out)
{
	const struct ynode *v = NULL;
	int rc = yget_scalar(c, m, key, &v);
	if (rc == 1)
		*out = xstrdup(v->text);
	return rc;
}

int yget_bool(struct yctx *c, const struct ynode *m, const char *key, int *out)
{
	const struct ynode *v = NULL;
	int rc = yget_scalar(c, m, key, &v);
	if (rc != 1)
		return rc;
	if (strcmp(v->text, "true") == 0 || strcmp(v->text, "false") == 0) {
		*out = v->text[0] == 't';
		return 1;
	}
	yerr(c, v, "'%s': expected true or false, got '%s'", key, yq(c, v->text));
	return -1;
}

int yget_int(struct yctx *c, const struct ynode *m, const char *key, int64_t min, int64_t max,
	     int64_t *out)
{
	const struct ynode *v = NULL;
	int64_t x;
	int rc = yget_scalar(c, m, key, &v);
	if (rc != 1)
		return rc;
	if (parse_int64(v->text, min, max, &x) == 0) {
		*out = x;
		return 1;
	}
	yerr(c, v, "'%s': expected an integer %lld..%lld, got '%s'", key, (long long)min,
	     (long long)max, yq(c, v->text));
	return -1;
}

int yget_duration(struct yctx *c, const struct ynode *m, const char *key, int64_t min_ms,
		  int64_t *out)
{
	const struct ynode *v = NULL;
	int64_t ms;
	int rc = yget_scalar(c, m, key, &v);
	if (rc != 1)
		return rc;
	if (parse_duration_ms(v->text, &ms) < 0) {
		yerr(c, v, "bad duration '%s' for '%s' (examples: 30s, 5m, 1h30m, 500ms)",
		     yq(c, v->text), key);
		return -1;
	}
	if (ms < min_ms) {
		yerr(c, v, "'%s' must be at least %lldms, got '%s'", key, (long long)min_ms,
		     yq(c, v->text));
		return -1;
	}
	*out = ms;
	return 1;
}

int yget_enum(struct yctx *c, const struct ynode *m, const char *key, const char *const *names,
	      int *out)
{
	const struct ynode *v = NULL;
	struct sbuf sb;
	int rc = yget_scalar(c, m, key, &v);
	if (rc != 1)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (strcmp(v->text, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	sbuf_init(&sb);
	for (int i = 0; names[i]; i++)
		sbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
	const char *near = ysuggest(v->text, names);
	yerr(c, v, "'%s': expected one of %s, got '%s'%s%s%s", key, sb.buf, yq(c, v->text),
	     near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	sbuf_release(&sb);
	return -1;
}

/* The list node for key, or 0 absent / -1 wrong type. */
static int get_list(struct yctx *c, const struct ynode *m, const char *key,
		    const struct ynode **out)
{
	const struct ynode *v = ymap_get(m, key);
	if (v == NULL || (v->kind == YNODE_SCALAR && v->is_null))
		return 0;
	if (!ytype(c, v, YNODE_SEQ, key))
		return -1;
	*out = v;
	return 1;
}

int yget_str_list(struct yctx *c, const struct ynode *m, const char *key, char ***out, int *n,
		  struct src_loc **locs)
{
	const struct ynode *l = NULL;
	int rc = get_list(c, m, key, &l), bad = 0;
	if (rc != 1)
		return rc;
	for (int i = 0; i < l->n; i++)
		if (!ytype(c, l->items[i], YNODE_SCALAR, key))
			bad = 1;
	if (bad)
		return -1;
	*out = xcalloc((size_t)l->n + 1, sizeof(**out));
	if (locs)
		*locs = xcalloc((size_t)l->n + 1, sizeof(**locs));
	for (int i = 0; i < l->n; i++) {
		(*out)[i] = xstrdup(l->items[i]->text);
		if (locs)
			(*locs)[i] = yloc(c, l->items[i]);
	}
	*n = l->n;
	return 1;
}

int yget_int_list(struct yctx *c, const struct ynode *m, const char *key, int64_t min, int64_t max,
		  int **out, int *n)
{
	const struct ynode *l = NULL;
	int rc = get_list(c, m, key, &l), bad = 0;
	int64_t x;
	if (rc != 1)
		return rc;
	int *v = xcalloc((size_t)l->n + 1, sizeof(*v));
	for (int i = 0; i < l->n; i++) {
		const struct ynode *it = l->items[i];
		if (!ytype(c, it, YNODE_SCALAR, key)) {
			bad = 1;
		} else if (parse_int64(it->text, min, max, &x) < 0) {
			yerr(c, it, "bad value '%s' in '%s' (integers %lld..%lld)", yq(c, it->text),
			     key, (long long)min, (long long)max);
			bad = 1;
		} else {
			v[i] = (int)x;
		}
	}
	if (bad) {
		free(v);
		return -1;
	}
	*out = v;
	*n = l->n;
	return 1;
}

static int name_match(const char *s, const char *first, const char *rest)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || strchr(first, s[0]) == NULL)
		return 0;
	return strspn(s, rest) == n;
}

int name_is_ident(const char *s)
{
	return name_match(s, "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789_");
}

int name_is_step_id(const char *s)
{
	return name_match(s, "abcdefghijklmnopqrstuvwxyz0123456789",
			  "abcdefghijklmnopqrstuvwxyz0123456789-");
}

void strv_free(char **v, int n)
{
	if (v == NULL)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ydiag_room(const struct yctx *c)
{
	return c->d->n < DIAG_MAX;
}

void nameidx_init(struct nameidx *x, int nocase)
{
	memset(x, 0, sizeof(*x));
	x->nocase = nocase;
}

void nameidx_release(struct nameidx *x)
{
	free(x->keys);
	free(x->vals);
	nameidx_init(x, x->nocase);
}

static size_t name_hash(const char *s, int nocase)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		h = (h ^ (nocase ? (unsigned char)tolower(ch) : ch)) * 1099511628211ull;
	}
	return (size_t)h;
}

static int name_eq(const char *a, const char *b, int nocase)
{
	return nocase ? str_ieq(a, b) : strcmp(a, b) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct nameidx *x, const char *key)
{
	size_t i = name_hash(key, x->nocase) & (x->cap - 1);
	while (x->keys[i] && !name_eq(x->keys[i], key, x->nocase))
		i = (i + 1) & (x->cap - 1);
	return i;
}

static void nameidx_grow(struct nameidx *x)
{
	struct nameidx old = *x;
	x->cap = old.cap ? old.cap * 2 : 16;
	x->keys = xcalloc(x->cap, sizeof(*x->keys));
	x->vals = xcalloc(x->cap, sizeof(*x->vals));
	for (size_t i = 0; i < old.cap; i++) {
		if (old.keys[i] == NULL)
			continue;
		size_t k = slot_of(x, old.keys[i]);
		x->keys[k] = old.keys[i];
		x->vals[k] = old.vals[i];
	}
	free(old.keys);
	free(old.vals);
}

int nameidx_put(struct nameidx *x, const char *key, int val)
{
	if (2 * (x->n + 1) > x->cap)
		nameidx_grow(x);
	size_t i = slot_of(x, key);
	if (x->keys[i])
		return x->vals[i];
	x->keys[i] = key;
	x->vals[i] = val;
	x->n++;
	return -1;
}

int nameidx_get(const struct nameidx *x, const char *key)
{
	if (x->cap == 0)
		return -1;
	size_t i = slot_of(x, key);
	return x->keys[i] ? x->vals[i] : -1;
}
