/*
 * yamltree.c — libyaml events to a located tree (contract in yamltree.h).
 *
 * The builder keeps a stack of the open collections.  Every event either
 * opens a collection (pushed), closes one (popped), or is a scalar; each
 * new node is attached to the collection on top of the stack at once, so
 * after any error the whole partial tree is reachable from the root and is
 * freed with it.  Errors that make the rest of the stream meaningless
 * (libyaml's own, anchors, aliases, limits) stop the parse; duplicate keys
 * do not, so that one pass reports them all.
 *
 * The file's bytes are checked for NUL before libyaml sees them: libyaml
 * reads a NUL as the end of the stream and would silently ignore the rest.
 */
#include "yamltree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "fsafe.h"
#include "model.h"
#include "util.h"

struct ydoc {
	char *file;	    /* as given */
	struct ynode *root; /* the document's top node */
	char sha256[65];    /* of the bytes parsed */
};

struct frame {
	struct ynode *node; /* an open sequence or mapping */
	int want_value;	    /* mapping: a key was read, its value comes next */
};

struct builder {
	const char *file;    /* for messages */
	const char *buf;     /* the input, for locating reader errors */
	size_t len;	     /* bytes in buf */
	struct diag *d;	     /* where errors go */
	struct ylimits lim;  /* effective limits */
	int nerr;	     /* errors added by this parse */
	long nodes;	     /* nodes created */
	int docs;	     /* documents started */
	struct frame *stack; /* open collections, lim.max_depth slots */
	int depth;	     /* collections open */
	struct ynode *root;  /* first node of the document */
};

static void berr(struct builder *b, int line, int col, const char *fmt, ...) CCR_PRINTF(4, 5);

static void berr(struct builder *b, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(b->d, b->file, line, col, "%s", msg);
	free(msg);
	b->nerr++;
}

static void ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < n->n; i++) {
		ynode_free(n->items[i]);
		if (n->keys)
			ynode_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->text);
	free(n);
}

void ydoc_free(struct ydoc *doc)
{
	if (doc == NULL)
		return;
	ynode_free(doc->root);
	free(doc->file);
	free(doc);
}

/* Line and column (1-based, columns in characters) of a byte offset. */
static void locate_offset(const char *buf, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Byte at 1-based line/col, or -1 beyond the input. */
static int byte_at(const struct builder *b, int line, int col)
{
	size_t i = 0;
	for (int l = 1; l < line && i < b->len; i++)
		if (b->buf[i] == '\n')
			l++;
	for (int c = 1; i < b->len; i++) {
		if (((unsigned char)b->buf[i] & 0xc0) == 0x80)
			continue;
		if (c++ == col)
			return (unsigned char)b->buf[i];
	}
	return -1;
}

static void report_yaml_error(struct builder *b, const yaml_parser_t *p)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_READER_ERROR) {
		size_t off = p->problem_offset;
		unsigned v = (unsigned)p->problem_value & 0xffu;
		/* libyaml names the byte after a broken sequence: point at its first byte. */
		if (strstr(problem, "trailing") || strstr(problem, "incomplete")) {
			size_t k = off;
			while (k > 0 && off - k < 4 &&
			       ((unsigned char)b->buf[k - 1] & 0xc0) == 0x80)
				k--;
			if (k > 0 && (unsigned char)b->buf[k - 1] >= 0xc0) {
				off = k - 1;
				v = (unsigned char)b->buf[off];
			}
		}
		locate_offset(b->buf, b->len, off, &line, &col);
		berr(b, line, col, "invalid input: %s (byte 0x%02x at offset %zu%s)", problem, v,
		     off, strstr(problem, "UTF-8") ? "; save the file as UTF-8" : "");
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		berr(b, 0, 0, "out of memory while parsing YAML");
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addf(&sb, "YAML syntax error: %s", problem);
	if (byte_at(b, line, col) == '\t')
		sbuf_adds(&sb, " (a tab: YAML is indented with spaces)");
	else if (p->context && (p->context_mark.line != p->problem_mark.line ||
				p->context_mark.column != p->problem_mark.column))
		sbuf_addf(&sb, " (%s at %d:%d)", p->context, (int)p->context_mark.line + 1,
			  (int)p->context_mark.column + 1);
	berr(b, line, col, "%s", sb.buf);
	sbuf_release(&sb);
}

static int is_null_text(const char *s, size_t len)
{
	return len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/*
 * Refuse anchors and non-standard tags on a node event.  *force_str becomes
 * 1 for !!str (a plain scalar is then a string), *force_null 1 for !!null.
 */
static int check_props(struct builder *b, const yaml_event_t *ev, const char *anchor,
		       const char *tag, int *force_str, int *force_null)
{
	static const char *const std_tags[] = {"str",  "int", "float", "bool",
					       "null", "seq", "map",   NULL};
	static const char prefix[] = "tag:yaml.org,2002:";
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;

	if (anchor) {
		berr(b, line, col, "YAML anchors (&%s) are not supported: write the value out",
		     anchor);
		return -1;
	}
	if (tag == NULL)
		return 0;
	if (str_startswith(tag, prefix)) {
		const char *t = tag + sizeof(prefix) - 1;
		for (int i = 0; std_tags[i]; i++) {
			if (strcmp(t, std_tags[i]) == 0) {
				*force_str = strcmp(t, "str") == 0;
				*force_null = strcmp(t, "null") == 0;
				return 0;
			}
		}
	}
	struct sbuf sb;
	sbuf_init(&sb);
	diag_quote(&sb, tag);
	berr(b, line, col, "YAML tag '%s' is not supported (only the standard !!str, !!int, ...)",
	     sb.buf);
	sbuf_release(&sb);
	return -1;
}

static void node_push_child(struct ynode *parent, struct ynode *key, struct ynode *value)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->items =
		    xreallocarray(parent->items, (size_t)parent->cap, sizeof(*parent->items));
		if (parent->kind == YNODE_MAP)
			parent->keys =
			    xreallocarray(parent->keys, (size_t)parent->cap, sizeof(*parent->keys));
	}
	if (parent->kind == YNODE_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = value;
}

/* Attach n to the open collection (or make it the root).  Takes ownership of n. */
static int attach(struct builder *b, struct ynode *n)
{
	if (b->depth == 0) {
		if (b->root == NULL)
			b->root = n;
		else
			ynode_free(n);
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == YNODE_SEQ) {
		node_push_child(f->node, NULL, n);
	} else if (f->want_value) {
		f->node->items[f->node->n - 1] = n;
		f->want_value = 0;
	} else if (n->kind != YNODE_SCALAR) {
		berr(b, n->line, n->col, "mapping keys must be plain text, not %s",
		     ynode_describe(n));
		ynode_free(n);
		return -1;
	} else {
		node_push_child(f->node, n, NULL);
		f->want_value = 1;
	}
	return 0;
}

static struct ynode *node_new(struct builder *b, enum ynode_kind kind, const yaml_event_t *ev)
{
	if (++b->nodes > b->lim.max_nodes) {
		berr(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		     "too many YAML nodes (limit %ld)", b->lim.max_nodes);
		return NULL;
	}
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	n->end_line = (int)ev->end_mark.line + 1;
	n->end_col = (int)ev->end_mark.column + 1;
	return n;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	int force_str = 0, force_null = 0;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (check_props(b, ev, anchor, tag, &force_str, &force_null) < 0)
		return -1;
	struct ynode *n = node_new(b, YNODE_SCALAR, ev);
	if (n == NULL)
		return -1;
	n->len = ev->data.scalar.length;
	n->text = xstrndup((const char *)ev->data.scalar.value, n->len);
	switch (ev->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
	case YAML_ANY_SCALAR_STYLE:
		n->style = YSTYLE_PLAIN;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = YSTYLE_BLOCK;
		break;
	default:
		n->style = YSTYLE_QUOTED;
		break;
	}
	if (force_str && n->style == YSTYLE_PLAIN)
		n->style = YSTYLE_QUOTED;
	n->is_null = force_null || (n->style == YSTYLE_PLAIN && is_null_text(n->text, n->len));
	return attach(b, n);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum ynode_kind kind)
{
	int force_str = 0, force_null = 0;
	const char *anchor, *tag;

	if (kind == YNODE_SEQ) {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	} else {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	}
	if (check_props(b, ev, anchor, tag, &force_str, &force_null) < 0)
		return -1;
	if (b->depth >= b->lim.max_depth) {
		berr(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		     "nesting deeper than %d levels", b->lim.max_depth);
		return -1;
	}
	struct ynode *n = node_new(b, kind, ev);
	if (n == NULL || attach(b, n) < 0)
		return -1;
	b->stack[b->depth].node = n;
	b->stack[b->depth].want_value = 0;
	b->depth++;
	return 0;
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct ynode *const *a = pa, *const *b = pb;
	int c = strcmp((*a)->text, (*b)->text);
	if (c)
		return c;
	if ((*a)->line != (*b)->line)
		return (*a)->line < (*b)->line ? -1 : 1;
	return (*a)->col < (*b)->col ? -1 : (*a)->col > (*b)->col;
}

static void report_duplicate(struct builder *b, const struct ynode *first, const struct ynode *dup)
{
	struct sbuf sb;
	sbuf_init(&sb);
	diag_quote(&sb, dup->text);
	berr(b, dup->line, dup->col, "duplicate key '%s' (first at %d:%d)", sb.buf, first->line,
	     first->col);
	sbuf_release(&sb);
}

/* Duplicate keys: sort a copy of the key list so a huge mapping costs n log n, not n^2. */
static void check_duplicates(struct builder *b, const struct ynode *m)
{
	if (m->n < 2)
		return;
	struct ynode **k = xreallocarray(NULL, (size_t)m->n, sizeof(*k));
	memcpy(k, m->keys, (size_t)m->n * sizeof(*k));
	qsort(k, (size_t)m->n, sizeof(*k), key_cmp);
	for (int i = 1, first = 0; i < m->n; i++) {
		if (strcmp(k[i]->text, k[first]->text) == 0)
			report_duplicate(b, k[first], k[i]);
		else
			first = i;
	}
	free(k);
}

static int on_end(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n = b->stack[--b->depth].node;
	n->end_line = (int)ev->end_mark.line + 1;
	n->end_col = (int)ev->end_mark.column + 1;
	if (n->kind == YNODE_MAP)
		check_duplicates(b, n);
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++ == 0)
			return 0;
		berr(b, line, col,
		     "more than one YAML document ('---'): one file holds one document");
		return -1;
	case YAML_ALIAS_EVENT:
		berr(b, line, col, "YAML aliases (*%s) are not supported: repeat the value",
		     (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YNODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YNODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b, ev);
	case YAML_STREAM_END_EVENT:
		if (b->root != NULL)
			return 0;
		berr(b, 1, 1, "empty file (no YAML content)");
		return -1;
	default:
		return 0;
	}
}

static int check_nul(struct builder *b)
{
	const char *z = memchr(b->buf, '\0', b->len);
	int line, col;

	if (z == NULL)
		return 0;
	locate_offset(b->buf, b->len, (size_t)(z - b->buf), &line, &col);
	berr(b, line, col, "NUL byte in the file (at offset %zu): not a text file",
	     (size_t)(z - b->buf));
	return -1;
}

static int run_parser(struct builder *b)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (!yaml_parser_initialize(&p)) {
		berr(b, 0, 0, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&p, (const unsigned char *)b->buf, b->len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			report_yaml_error(b, &p);
			rc = -1;
			break;
		}
		int done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(b, &ev);
		yaml_event_delete(&ev);
		if (rc < 0 || done)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

struct ydoc *ydoc_parse(const char *file, const char *buf, size_t len, const struct ylimits *lim,
			struct diag *d)
{
	struct builder b = {.file = file, .buf = buf, .len = len, .d = d};
	struct ydoc *doc = NULL;
	int first = d->n;

	b.lim.max_bytes = lim ? lim->max_bytes : MODEL_MAX_FILE_BYTES;
	b.lim.max_depth = lim ? lim->max_depth : MODEL_MAX_DEPTH;
	b.lim.max_nodes = lim ? lim->max_nodes : MODEL_MAX_NODES;
	if (len > b.lim.max_bytes) {
		berr(&b, 0, 0, "file too large (%zu bytes, limit %zu)", len, b.lim.max_bytes);
		goto out;
	}
	if (check_nul(&b) < 0)
		goto out;
	b.stack = xcalloc((size_t)b.lim.max_depth + 1, sizeof(*b.stack));
	if (run_parser(&b) < 0 || b.nerr > 0)
		goto out;
	doc = xcalloc(1, sizeof(*doc));
	doc->file = xstrdup(file);
	doc->root = b.root;
	b.root = NULL;
	sha256_hex(buf, len, doc->sha256);
out:
	ynode_free(b.root);
	free(b.stack);
	ydiag_sort_from(d, first);
	return doc;
}

struct ydoc *ydoc_load(const char *path, const struct ylimits *lim, struct diag *d)
{
	size_t max = lim ? lim->max_bytes : MODEL_MAX_FILE_BYTES;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	struct ydoc *doc = NULL;
	char err[1024];

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		diag_add(d, path, 0, 0, "file too large (%jd bytes, limit %zu)",
			 (intmax_t)st.st_size, max);
		goto out;
	}
	if (fsafe_read_input(path, max, &data, &len, err, sizeof(err)) < 0) {
		if (errno == EFBIG)
			diag_add(d, path, 0, 0, "file too large (more than %zu bytes)", max);
		else if (errno == EINVAL || errno == EISDIR)
			diag_add(d, path, 0, 0, "%s", err);
		else
			diag_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	doc = ydoc_parse(path, data, len, lim, d);
out:
	free(data);
	return doc;
}

const struct ynode *ydoc_root(const struct ydoc *doc)
{
	return doc->root;
}

const char *ydoc_file(const struct ydoc *doc)
{
	return doc->file;
}

const char *ydoc_sha256(const struct ydoc *doc)
{
	return doc->sha256;
}
