/*
 * jpath.c — see jpath.h.
 *
 * The path is parsed into segments once per call; selection walks a list
 * of current values segment by segment (a fan-out of `[*]` multiplies it).
 */
#include "jpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum seg_kind { SEG_KEY, SEG_INDEX, SEG_ALL, SEG_MATCH };

struct seg {
	enum seg_kind kind;
	char *key;   /* SEG_KEY, SEG_MATCH */
	char *text;  /* SEG_MATCH */
	long long i; /* SEG_INDEX */
};

static int is_key_char(char ch)
{
	return ch != '\0' && ch != '.' && ch != '[' && ch != ']' && ch != '=';
}

static void segs_free(struct seg *s, int n)
{
	for (int i = 0; i < n; i++) {
		free(s[i].key);
		free(s[i].text);
	}
}

static int fail(const char *path, const char *at, int *col, char *err, size_t errlen,
		const char *msg)
{
	if (col)
		*col = (int)(at - path) + 1;
	snprintf(err, errlen, "%s at column %d of '%s'", msg, (int)(at - path) + 1, path);
	return -1;
}

/* Parse "[...]" starting at p (on '['); advances *pp past ']'. */
static int parse_bracket(const char *path, const char **pp, struct seg *s, int *col, char *err,
			 size_t errlen)
{
	const char *p = *pp + 1;
	const char *close = strchr(p, ']');
	if (close == NULL)
		return fail(path, *pp, col, err, errlen, "unclosed '['");
	if (close == p)
		return fail(path, p, col, err, errlen, "empty '[]'");
	if (close - p == 1 && *p == '*') {
		s->kind = SEG_ALL;
	} else if (memchr(p, '=', (size_t)(close - p))) {
		const char *eq = memchr(p, '=', (size_t)(close - p));
		for (const char *k = p; k < eq; k++)
			if (!is_key_char(*k))
				return fail(path, k, col, err, errlen, "bad character in a key");
		if (eq == p)
			return fail(path, p, col, err, errlen, "'[=...]' needs a key");
		s->kind = SEG_MATCH;
		s->key = xstrndup(p, (size_t)(eq - p));
		s->text = xstrndup(eq + 1, (size_t)(close - eq - 1));
	} else {
		char *num = xstrndup(p, (size_t)(close - p));
		char *end = NULL;
		errno = 0;
		long long v = strtoll(num, &end, 10);
		int bad =
		    errno != 0 || end == num || *end != '\0' || num[0] == '+' || num[0] == ' ';
		free(num);
		if (bad)
			return fail(path, p, col, err, errlen,
				    "expected an index, '*' or KEY=TEXT in '[...]'");
		s->kind = SEG_INDEX;
		s->i = v;
	}
	*pp = close + 1;
	return 0;
}

static int parse(const char *path, struct seg *segs, int *nsegs, int *col, char *err, size_t errlen)
{
	const char *p = path;
	int n = 0;

	*nsegs = 0;
	if (strlen(path) > JPATH_MAX_LEN)
		return fail(path, path, col, err, errlen, "path longer than 1024 bytes");
	if (strcmp(path, ".") == 0)
		return 0;
	while (*p) {
		struct seg s = {0};
		if (n == JPATH_MAX_SEGMENTS) {
			segs_free(segs, n);
			return fail(path, p, col, err, errlen, "more than 32 segments");
		}
		if (*p == '[') {
			if (parse_bracket(path, &p, &s, col, err, errlen) < 0) {
				segs_free(segs, n);
				return -1;
			}
		} else {
			if (*p == '.') {
				p++;
			} else if (p != path) {
				segs_free(segs, n);
				return fail(path, p, col, err, errlen, "expected '.' or '['");
			}
			const char *k = p;
			while (is_key_char(*p))
				p++;
			if (p == k) {
				segs_free(segs, n);
				return fail(path, p, col, err, errlen,
					    *p && *p != '.' ? "unexpected character"
							    : "expected a key after '.'");
			}
			s.kind = SEG_KEY;
			s.key = xstrndup(k, (size_t)(p - k));
		}
		segs[n++] = s;
	}
	*nsegs = n;
	return 0;
}

int jpath_check(const char *path, int *col, char *err, size_t errlen)
{
	struct seg segs[JPATH_MAX_SEGMENTS];
	int n = 0;
	if (parse(path, segs, &n, col, err, errlen) < 0)
		return -1;
	segs_free(segs, n);
	return 0;
}

char *jpath_text(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrndup(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return xasprintf("%lld", (long long)json_integer_value(v));
	case JSON_REAL:
		return xasprintf("%.17g", json_real_value(v));
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_NULL:
		return NULL;
	default: {
		char *d = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		char *r = xstrdup(d ? d : "");
		free(d);
		return r;
	}
	}
}

struct vlist {
	const json_t **v;
	int n;
};

static void vl_add(struct vlist *l, const json_t *v)
{
	if (v == NULL)
		return;
	l->v = xreallocarray(l->v, (size_t)l->n + 1, sizeof(*l->v));
	l->v[l->n++] = v;
}

static int matches(const json_t *el, const struct seg *s)
{
	const json_t *m = json_is_object(el) ? json_object_get(el, s->key) : NULL;
	char *t = m ? jpath_text(m) : NULL;
	int ok = t && strcmp(t, s->text) == 0;
	free(t);
	return ok;
}

static void step(const json_t *cur, const struct seg *s, struct vlist *next)
{
	size_t i;
	const char *k;
	json_t *el;

	switch (s->kind) {
	case SEG_KEY:
		if (json_is_object(cur))
			vl_add(next, json_object_get(cur, s->key));
		break;
	case SEG_INDEX:
		if (json_is_array(cur)) {
			long long len = (long long)json_array_size(cur);
			long long at = s->i < 0 ? len + s->i : s->i;
			if (at >= 0 && at < len)
				vl_add(next, json_array_get(cur, (size_t)at));
		}
		break;
	case SEG_ALL:
		if (json_is_array(cur))
			json_array_foreach(cur, i, el) vl_add(next, el);
		else if (json_is_object(cur))
			json_object_foreach((json_t *)cur, k, el) vl_add(next, el);
		break;
	case SEG_MATCH:
		if (json_is_array(cur))
			json_array_foreach(cur, i, el) if (matches(el, s)) vl_add(next, el);
		break;
	}
}

int jpath_select(const json_t *root, const char *path, char ***vals, int *n, char *err,
		 size_t errlen)
{
	struct seg segs[JPATH_MAX_SEGMENTS];
	struct vlist cur = {0}, next = {0};
	int nsegs = 0;

	*vals = NULL;
	*n = 0;
	if (parse(path, segs, &nsegs, NULL, err, errlen) < 0)
		return -1;
	vl_add(&cur, root);
	for (int s = 0; s < nsegs; s++) {
		for (int i = 0; i < cur.n; i++)
			step(cur.v[i], &segs[s], &next);
		free(cur.v);
		cur = next;
		next = (struct vlist){0};
	}
	for (int i = 0; i < cur.n; i++) {
		char *t = jpath_text(cur.v[i]);
		if (t == NULL)
			continue;
		*vals = xreallocarray(*vals, (size_t)*n + 1, sizeof(**vals));
		(*vals)[(*n)++] = t;
	}
	free(cur.v);
	segs_free(segs, nsegs);
	return 0;
}
