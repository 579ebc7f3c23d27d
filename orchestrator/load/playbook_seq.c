/*
 * playbook_seq.c — sequences (named lists of steps shared by phases), their
 * inlining by `use:`, and the record names that expressions read as
 * saved.NAME.
 *
 * A sequence is checked once, where it is written, whether or not a phase
 * uses it: that is where its errors are reported.  A phase that uses it
 * gets its own copy of the steps, read again from the tree with errors
 * muted, so the model holds plain steps and nothing downstream knows about
 * sequences except step_def.from_sequence.
 *
 * Nesting is one level: a phase may use a sequence that itself uses other
 * sequences, as long as those use none.  That rule alone makes cycles
 * impossible to expand; the two cycles it can meet (a sequence using
 * itself, two using each other) get their own message.
 */
#include "playbook_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static void add_record(struct pbctx *c, const struct ynode *as)
{
	int i = nameidx_get(&c->recidx, as->text);
	if (i >= 0) {
		yerr(&c->y, as, "duplicate record name '%s' (first at %d:%d)", as->text,
		     c->record_locs[i].line, c->record_locs[i].col);
		return;
	}
	c->records = xreallocarray(c->records, (size_t)c->nrecords + 1, sizeof(*c->records));
	c->record_locs =
	    xreallocarray(c->record_locs, (size_t)c->nrecords + 1, sizeof(*c->record_locs));
	c->records[c->nrecords] = xstrdup(as->text);
	c->record_locs[c->nrecords] = yloc(&c->y, as);
	nameidx_put(&c->recidx, c->records[c->nrecords], c->nrecords);
	c->nrecords++;
}

static void collect_list(struct pbctx *c, const struct ynode *list)
{
	if (list == NULL || list->kind != YNODE_SEQ)
		return;
	for (int i = 0; i < list->n; i++) {
		const struct ynode *as = ymap_get(ymap_get(list->items[i], "record"), "as");
		if (as && as->kind == YNODE_SCALAR && name_is_ident(as->text))
			add_record(c, as);
	}
}

void pb_collect_records(struct pbctx *c, const struct ynode *phases)
{
	for (int i = 0; phases && phases->kind == YNODE_SEQ && i < phases->n; i++)
		collect_list(c, ymap_get(phases->items[i], "steps"));
	for (int i = 0; c->seqs && i < c->seqs->n; i++)
		collect_list(c, c->seqs->items[i]);
}

static int seq_index(const struct pbctx *c, const char *name)
{
	return c->seqs ? nameidx_get(&c->seqidx, name) : -1;
}

static int is_use(const struct ynode *item)
{
	return item->kind == YNODE_MAP && ymap_key(item, "use") != NULL;
}

/* Does sequence list use name (any name when name is NULL)? */
static int seq_uses(const struct ynode *list, const char *name)
{
	for (int i = 0; list->kind == YNODE_SEQ && i < list->n; i++) {
		const struct ynode *u = ymap_get(list->items[i], "use");
		if (is_use(list->items[i]) && u && u->kind == YNODE_SCALAR &&
		    (name == NULL || strcmp(u->text, name) == 0))
			return 1;
	}
	return 0;
}

static void undefined_sequence(struct pbctx *c, const struct ynode *v)
{
	struct sbuf sb;
	const char **names = xcalloc(c->seqs ? (size_t)c->seqs->n + 1 : 1, sizeof(*names));
	int room = ydiag_room(&c->y);

	sbuf_init(&sb);
	for (int i = 0; room && c->seqs && i < c->seqs->n; i++) {
		names[i] = c->seqs->keys[i]->text;
		sbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = room ? ysuggest(v->text, names) : NULL;
	if (near)
		yerr(&c->y, v, "'use': undefined sequence '%s' (did you mean '%s'?)",
		     yq(&c->y, v->text), near);
	else
		yerr(&c->y, v, "'use': undefined sequence '%s' (sequences: %s)", yq(&c->y, v->text),
		     sb.len ? sb.buf : "none");
	sbuf_release(&sb);
	free(names);
}

/* A `use:` item stands alone and names a sequence.  Returns its index, or -1 after an error. */
static int use_target(struct pbctx *c, const struct ynode *item)
{
	const struct ynode *v = ymap_get(item, "use");

	for (int i = 0; i < item->n; i++) {
		if (strcmp(item->keys[i]->text, "use") != 0) {
			yerr(&c->y, item->keys[i],
			     "'use' stands alone: an item with 'use' takes no other keys (found "
			     "'%s')",
			     yq(&c->y, item->keys[i]->text));
			return -1;
		}
	}
	if (!ytype(&c->y, v, YNODE_SCALAR, "use"))
		return -1;
	int j = seq_index(c, v->text);
	if (j < 0)
		undefined_sequence(c, v);
	return j;
}

/* A use inside sequence i: no cycle, and one level of nesting. */
static void check_nested_use(struct pbctx *c, int i, const struct ynode *item)
{
	int j = use_target(c, item);
	const struct ynode *v = ymap_get(item, "use");
	const char *me = c->seqs->keys[i]->text;

	if (j < 0) {
		c->seq_bad[i] = 1;
		return;
	}
	if (j == i)
		yerr(&c->y, v, "sequence '%s' uses itself (a cycle)", me);
	else if (seq_uses(c->seqs->items[j], me))
		yerr(&c->y, v, "sequences '%s' and '%s' use each other (a cycle)", me, v->text);
	else if (seq_uses(c->seqs->items[j], NULL))
		yerr(&c->y, v,
		     "sequence '%s' uses other sequences itself, so '%s' cannot use it (sequences "
		     "nest one level)",
		     v->text, me);
	else
		return;
	c->seq_bad[i] = 1;
}

static void check_sequence(struct pbctx *c, int i)
{
	const struct ynode *key = c->seqs->keys[i], *list = c->seqs->items[i];
	struct step_def tmp;

	if (!name_is_step_id(key->text))
		yerr(&c->y, key, "bad sequence name '%s' (lower-case letters, digits and '-')",
		     yq(&c->y, key->text));
	if (!ytype(&c->y, list, YNODE_SEQ, key->text)) {
		c->seq_bad[i] = 1;
		return;
	}
	if (list->n == 0) {
		yerr(&c->y, list, "sequence '%s' has no steps", key->text);
		c->seq_bad[i] = 1;
	}
	for (int k = 0; k < list->n; k++) {
		if (is_use(list->items[k])) {
			check_nested_use(c, i, list->items[k]);
			continue;
		}
		pb_read_step(c, list->items[k], &tmp);
		pb_step_release(&tmp);
	}
}

void pb_check_sequences(struct pbctx *c)
{
	if (c->seqs == NULL)
		return;
	if (!ytype(&c->y, c->seqs, YNODE_MAP, "sequences")) {
		c->seqs = NULL;
		return;
	}
	c->seq_bad = xcalloc((size_t)c->seqs->n + 1, sizeof(*c->seq_bad));
	for (int i = 0; i < c->seqs->n; i++)
		nameidx_put(&c->seqidx, c->seqs->keys[i]->text, i);
	for (int i = 0; i < c->seqs->n; i++)
		check_sequence(c, i);
}

struct stepvec {
	struct step_def *v;
	int n;
};

static void push_step(struct stepvec *sv, struct step_def *s)
{
	sv->v = xreallocarray(sv->v, (size_t)sv->n + 1, sizeof(*sv->v));
	sv->v[sv->n++] = *s;
}

/* Read a step again with errors muted: they were reported when the sequence was checked. */
static int read_quiet(struct pbctx *c, const struct ynode *m, struct step_def *s)
{
	struct diag scratch, *saved = c->y.d;
	int nerr = c->y.nerr;

	diag_init(&scratch);
	c->y.d = &scratch;
	int rc = pb_read_step(c, m, s);
	c->y.d = saved;
	c->y.nerr = nerr;
	diag_release(&scratch);
	return rc;
}

static void inline_sequence(struct pbctx *c, int j, struct stepvec *sv, int depth)
{
	const struct ynode *list = c->seqs->items[j];
	struct step_def s;

	if (depth > 1 || c->seq_bad[j] || list->kind != YNODE_SEQ)
		return;
	for (int i = 0; i < list->n; i++) {
		const struct ynode *item = list->items[i];
		if (is_use(item)) {
			int k = seq_index(c, ymap_get(item, "use")->text);
			if (k >= 0)
				inline_sequence(c, k, sv, depth + 1);
			continue;
		}
		if (read_quiet(c, item, &s) < 0) {
			pb_step_release(&s);
			continue;
		}
		s.from_sequence = xstrdup(c->seqs->keys[j]->text);
		push_step(sv, &s);
	}
}

int pb_read_steps(struct pbctx *c, const struct ynode *list, struct step_def **out, int *n)
{
	struct stepvec sv = {NULL, 0};
	struct step_def s;
	int rc = 0;

	if (!ytype(&c->y, list, YNODE_SEQ, "steps"))
		return -1;
	if (list->n == 0) {
		yerr(&c->y, list, "'steps' is empty: a phase needs at least one step");
		rc = -1;
	}
	for (int i = 0; i < list->n; i++) {
		const struct ynode *item = list->items[i];
		if (is_use(item)) {
			int j = use_target(c, item);
			if (j < 0 || c->seq_bad[j])
				rc = -1;
			else
				inline_sequence(c, j, &sv, 0);
			continue;
		}
		if (pb_read_step(c, item, &s) < 0) {
			pb_step_release(&s);
			rc = -1;
			continue;
		}
		push_step(&sv, &s);
	}
	*out = sv.v;
	*n = sv.n;
	return rc;
}
