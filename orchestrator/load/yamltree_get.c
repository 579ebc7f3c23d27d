/*
 * yamltree_get.c — read-side helpers over a yamltree: key lookup, the
 * strict "unknown key" check every loader runs on every mapping, and the
 * edit-distance suggestion behind "did you mean ...?".
 */
#include "yamltree.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *ynode_describe(const struct ynode *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->kind) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	default:
		return n->is_null ? "null" : "a string";
	}
}

static int key_index(const struct ynode *m, const char *key)
{
	if (m == NULL || m->kind != YNODE_MAP)
		return -1;
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->keys[i]->text, key) == 0)
			return i;
	return -1;
}

const struct ynode *ymap_get(const struct ynode *m, const char *key)
{
	int i = key_index(m, key);
	return i < 0 ? NULL : m->items[i];
}

const struct ynode *ymap_key(const struct ynode *m, const char *key)
{
	int i = key_index(m, key);
	return i < 0 ? NULL : m->keys[i];
}

int yedit_distance(const char *a, const char *b, int cap)
{
	size_t la = strlen(a), lb = strlen(b);
	int prev2[65], prev[65], cur[65];

	if (la > 64 || lb > 64)
		return strcmp(a, b) == 0 ? 0 : cap + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			/* A swap of two neighbours ("laed" for "lead") is one edit. */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		memcpy(prev2, prev, sizeof(prev));
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *ysuggest(const char *word, const char *const *candidates)
{
	int cap = strlen(word) <= 4 ? 1 : 2;
	const char *best = NULL;
	int best_d = cap + 1;

	for (int i = 0; candidates[i]; i++) {
		int dist = yedit_distance(word, candidates[i], cap);
		if (dist < best_d) {
			best_d = dist;
			best = candidates[i];
		}
	}
	return best;
}

static int entry_before(const struct diag_entry *x, const struct diag_entry *y)
{
	int k = strcmp(x->file, y->file);
	if (k)
		return k < 0;
	if (x->line != y->line)
		return x->line < y->line;
	return x->col < y->col;
}

void ydiag_sort_from(struct diag *d, int first)
{
	/* Insertion sort: stable, and at most DIAG_MAX entries. */
	for (int i = first + 1; i < d->n; i++) {
		struct diag_entry e = d->v[i];
		int j = i - 1;
		while (j >= first && entry_before(&e, &d->v[j])) {
			d->v[j + 1] = d->v[j];
			j--;
		}
		d->v[j + 1] = e;
	}
}

static int key_allowed(const char *key, const char *const *allowed)
{
	for (int i = 0; allowed[i]; i++)
		if (strcmp(key, allowed[i]) == 0)
			return 1;
	return 0;
}

int ymap_check_keys(const struct ynode *m, const char *const *allowed, const char *what,
		    const char *file, struct diag *d)
{
	int nerr = 0;
	struct sbuf sb;

	if (m == NULL || m->kind != YNODE_MAP)
		return 0;
	sbuf_init(&sb);
	for (int i = 0; i < m->n; i++) {
		const struct ynode *k = m->keys[i];
		if (key_allowed(k->text, allowed))
			continue;
		sbuf_reset(&sb);
		sbuf_adds(&sb, "unknown key '");
		diag_quote(&sb, k->text);
		sbuf_addf(&sb, "' in %s", what);
		const char *near = ysuggest(k->text, allowed);
		if (near) {
			sbuf_addf(&sb, " (did you mean '%s'?)", near);
		} else {
			sbuf_adds(&sb, " (valid keys:");
			for (int j = 0; allowed[j]; j++)
				sbuf_addf(&sb, "%s %s", j ? "," : "", allowed[j]);
			sbuf_adds(&sb, ")");
		}
		diag_add(d, file, k->line, k->col, "%s", sb.buf);
		nerr++;
	}
	sbuf_release(&sb);
	return nerr;
}
