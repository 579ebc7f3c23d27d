/*
 * expr.c — tokenizer, recursive-descent parser and evaluator for the
 * playbook expression language (contract in expr.h, reference in
 * docs/expressions.md).
 *
 * The parser reads one token ahead, straight from the source, so every
 * error knows its column.  A tree's nodes live in one array (each consumes
 * at least one byte of source) and refer to each other by index.  `and`
 * and `or` are n-ary nodes, not left-leaning chains, so only '(' and 'not'
 * deepen a tree; they are counted and refused past EXPR_MAX_DEPTH, which
 * bounds the recursion of both the parser and the evaluator.
 *
 * Literals stay text: integers, versions and quoted strings are typed by
 * their shape when compared, exactly like the text a name resolves to.
 * Only true, false and and/or/not/comparison results are booleans, which
 * the parser knows, so ordering a boolean is a syntax error.
 */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"

/* Token kinds, which double as node kinds: a node is named after the token that made it. */
/* clang-format off */
enum kind {
	K_END, K_LPAREN, K_RPAREN,	     /* tokens only */
	K_EQ, K_NE, K_LT, K_LE, K_GT, K_GE,  /* contiguous, see kind_is_cmp() */
	K_AND, K_OR, K_NOT, K_TRUE, K_FALSE, /* the keywords, in keywords[] order */
	K_VALUE,			     /* integer, version or string literal */
	K_IDENT,			     /* a name, resolved at evaluation */
};
/* clang-format on */

static const char *const keywords[] = {"and", "or", "not", "true", "false"};

struct token {
	enum kind kind; /* what was read */
	int off;	/* byte offset of its first byte in the source */
	int len;	/* bytes of source it spans, quotes included */
};

struct expr_node {
	enum kind kind; /* a comparison, K_AND, K_OR, K_NOT, K_TRUE/FALSE, K_VALUE, K_IDENT */
	int col;	/* 1-based source column of the token that made it */
	char *text;	/* K_VALUE: the value; K_IDENT: the name; else NULL (owned) */
	int kid;	/* first operand (one for not, two for a comparison); -1 for leaves */
	int next;	/* next operand of the same parent, -1 if last */
};

struct expr {
	char *src;		 /* copy of the source text */
	struct expr_node *nodes; /* the tree; operands precede their operator */
	int nnodes;		 /* nodes used */
	int root;		 /* index of the top node */
};

struct parser {
	const char *src;  /* the text being parsed */
	struct token tok; /* the token under the cursor */
	int depth;	  /* '(' and 'not' currently open */
	struct expr *e;	  /* the expression being built */
	char *err;	  /* caller's message buffer, may be NULL */
	size_t errlen;	  /* its size */
	int errcol;	  /* column of the error, 0 while there is none */
};

/* Written as an integer: optional '-', then digits or 0x and hex digits. */
static int looks_integer(const char *s)
{
	const char *set = "0123456789";
	if (*s == '-')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		set = "0123456789abcdefABCDEF";
		s += 2;
	}
	return *s != '\0' && strspn(s, set) == strlen(s);
}

/* A whole int64 in decimal or 0x-hex.  0, or -1 if s is not one or is out of range. */
static int value_int(const char *s, int64_t *out)
{
	const char *m = s[0] == '-' ? s + 1 : s;

	if (!looks_integer(s))
		return -1;
	if (m[1] != 'x' && m[1] != 'X')
		return parse_int64(s, INT64_MIN, INT64_MAX, out);
	errno = 0;
	*out = strtoll(s, NULL, 16); /* base 16 takes the sign and the 0x looks_integer() saw */
	return errno != 0 ? -1 : 0;
}

/* Runs of 1 to 10 digits joined by single dots ("8", "8.1", "08.01.0240.006"). */
static int value_is_version(const char *s)
{
	size_t n;
	do {
		n = strspn(s, "0123456789");
		if (n == 0 || n > 10)
			return 0;
		s += n;
	} while (*s++ == '.');
	return s[-1] == '\0';
}

int expr_compare_values(const char *a, const char *b, int *cmp)
{
	char *ea, *eb;
	int64_t x, y;

	if (value_int(a, &x) == 0 && value_int(b, &y) == 0) {
		*cmp = (x > y) - (x < y);
		return 0;
	}
	if (!value_is_version(a) || !value_is_version(b) || (!strchr(a, '.') && !strchr(b, '.')))
		return -1;
	/* Component by component; a used-up side reads 0 (strtoull of ""), so 8.1 == 8.1.0. */
	for (*cmp = 0; (*a || *b) && *cmp == 0; a = ea + (*ea == '.'), b = eb + (*eb == '.')) {
		unsigned long long u = strtoull(a, &ea, 10), v = strtoull(b, &eb, 10);
		*cmp = (u > v) - (u < v);
	}
	return 0;
}

static int value_truthy(const char *s)
{
	int64_t v;
	if (value_int(s, &v) == 0)
		return v != 0;
	return *s != '\0' && !str_ieq(s, "false") && !str_ieq(s, "no");
}

CCR_PRINTF(3, 4) static void parse_fail(struct parser *p, int col, const char *fmt, ...)
{
	va_list ap;
	p->errcol = col; /* each failing path calls this once, at its first error */
	if (p->err == NULL || p->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

/* A byte as a message shows it: itself if printable, else \xNN. */
static void byte_show(char c, char out[8])
{
	if (isprint((unsigned char)c))
		snprintf(out, 8, "%c", c);
	else
		snprintf(out, 8, "\\x%02x", (unsigned char)c);
}

/* A quoted string is only checked here; parse_leaf() unescapes it. */
static int lex_string(struct parser *p, const char *s, struct token *t)
{
	char shown[8];
	int i;

	for (i = 1; s[i] != s[0]; i++) {
		/* A line break ends a string too early: strings are one line. */
		if (strchr("\r\n", s[i]) || (s[i] == '\\' && strchr("\r\n", s[i + 1]))) {
			parse_fail(p, t->off + 1, "unterminated string");
			return -1;
		}
		if (s[i] == '\\' && !strchr("\\'\"", s[++i])) {
			byte_show(s[i], shown);
			parse_fail(p, t->off + i, "unknown escape '\\%s'", shown);
			return -1;
		}
	}
	t->kind = K_VALUE;
	t->len = i + 1;
	return 0;
}

/* The contents of a checked quoted string s[0..len), escapes undone; caller frees. */
static char *string_unquote(const char *s, int len)
{
	char *out = xmalloc((size_t)len), *o = out;
	int i;
	for (i = 1; i < len - 1; i++)
		*o++ = s[i] == '\\' ? s[++i] : s[i];
	*o = '\0';
	return out;
}

/* Keyword index of s[0..len), matched exactly or ignoring case; -1 if none. */
static int keyword_find(const char *s, int len, int nocase)
{
	size_t k;
	for (k = 0; k < CCR_ARRAY_LEN(keywords); k++)
		if (strlen(keywords[k]) == (size_t)len &&
		    (nocase ? strncasecmp(s, keywords[k], (size_t)len)
			    : strncmp(s, keywords[k], (size_t)len)) == 0)
			return (int)k;
	return -1;
}

/* Numbers, names, keywords: a run of [-]A-Za-z0-9_. read whole, so "12abc" is one bad token. */
static int lex_word(struct parser *p, const char *s, struct token *t)
{
	char *text;
	int64_t v;
	int i, kw, rc = 0;

	t->len = 1;
	while (isalnum((unsigned char)s[t->len]) || s[t->len] == '_' || s[t->len] == '.')
		t->len++;
	text = xstrndup(s, (size_t)t->len);
	kw = keyword_find(s, t->len, 0);
	t->kind = kw >= 0 ? K_AND + kw : K_IDENT;
	if (isdigit((unsigned char)s[0]) || s[0] == '-') {
		t->kind = K_VALUE;
		if (value_int(text, &v) < 0 && !value_is_version(text)) {
			parse_fail(p, t->off + 1, "bad number '%s'", text);
			rc = -1;
		}
	}
	/* A name starts with a letter or '_', and so does every part after a dot. */
	for (i = 0; t->kind == K_IDENT && i < t->len && rc == 0; i++)
		if (s[i] == '.' && !isalpha((unsigned char)s[i + 1]) && s[i + 1] != '_') {
			parse_fail(p, t->off + 1, "bad identifier '%s'", text);
			rc = -1;
		}
	free(text);
	return rc;
}

static const struct {
	const char *text; /* longest first where one is a prefix of another */
	enum kind kind;
} operators[] = {{"==", K_EQ}, {"!=", K_NE}, {"<=", K_LE},    {">=", K_GE},
		 {"<", K_LT},  {">", K_GT},  {"(", K_LPAREN}, {")", K_RPAREN}};

static int lex_operator(struct parser *p, const char *s, struct token *t)
{
	char shown[8];
	size_t k;

	for (k = 0; k < CCR_ARRAY_LEN(operators); k++) {
		t->len = (int)strlen(operators[k].text);
		if (strncmp(s, operators[k].text, (size_t)t->len) == 0) {
			t->kind = operators[k].kind;
			return 0;
		}
	}
	byte_show(*s, shown);
	parse_fail(p, t->off + 1, "unexpected character '%s'%s", shown,
		   *s == '=' || *s == '!' ? " (use ==, != or not)" : "");
	return -1;
}

/* Read the token after the current one into p->tok.  0, or -1 on a bad one. */
static int lex_next(struct parser *p)
{
	struct token *t = &p->tok;
	const char *s = p->src + t->off + t->len;

	s += strspn(s, " \t\r\n");
	t->off = (int)(s - p->src);
	t->len = 0;
	t->kind = K_END;
	if (*s == '\0')
		return 0;
	if (*s == '\'' || *s == '"')
		return lex_string(p, s, t);
	if (isalnum((unsigned char)*s) || *s == '_' || (*s == '-' && isdigit((unsigned char)s[1])))
		return lex_word(p, s, t);
	return lex_operator(p, s, t);
}

static int kind_is_cmp(enum kind k)
{
	return k >= K_EQ && k <= K_GE;
}

/* Operands that are text (values and names); every other node is a boolean. */
static int kind_is_text(enum kind k)
{
	return k == K_VALUE || k == K_IDENT;
}

static int parse_unexpected(struct parser *p)
{
	const struct token *t = &p->tok;
	const char *s = p->src + t->off;
	int len = t->len > 60 ? 60 : t->len, kw = keyword_find(s, t->len, 1);

	if (t->kind == K_END)
		parse_fail(p, t->off + 1, "unexpected end of expression");
	else if (*s == '\'' || *s == '"')
		parse_fail(p, t->off + 1, "unexpected string");
	else
		parse_fail(p, t->off + 1, "unexpected '%.*s'%s", len, s,
			   t->kind == K_IDENT && kw >= 0 ? " (keywords are lower-case)" : "");
	return -1;
}

static int node_new(struct parser *p, enum kind kind, int col, int kid)
{
	struct expr *e = p->e;
	e->nodes[e->nnodes] = (struct expr_node){.kind = kind, .col = col, .kid = kid, .next = -1};
	return e->nnodes++;
}

/* Count one more level of '(' or 'not' and step over it; refuse past the cap. */
static int depth_enter(struct parser *p)
{
	if (++p->depth <= EXPR_MAX_DEPTH)
		return lex_next(p);
	parse_fail(p, p->tok.off + 1, "nesting deeper than %d levels", EXPR_MAX_DEPTH);
	return -1;
}

/* A leaf for the current token (true, false, a value or a name), then step over it. */
static int parse_leaf(struct parser *p)
{
	const struct token *t = &p->tok;
	const char *s = p->src + t->off;
	int k = node_new(p, t->kind, t->off + 1, -1);
	struct expr_node *n = &p->e->nodes[k];

	if (*s == '\'' || *s == '"')
		n->text = string_unquote(s, t->len);
	else if (kind_is_text(t->kind))
		n->text = xstrndup(s, (size_t)t->len);
	return lex_next(p) < 0 ? -1 : k;
}

static int parse_list(struct parser *p, int level);

static int parse_primary(struct parser *p)
{
	int k;

	if (p->tok.kind >= K_TRUE && p->tok.kind <= K_IDENT)
		return parse_leaf(p);
	if (p->tok.kind != K_LPAREN)
		return parse_unexpected(p);
	if (depth_enter(p) < 0 || (k = parse_list(p, 0)) < 0)
		return -1;
	if (p->tok.kind != K_RPAREN) {
		parse_fail(p, p->tok.off + 1, "expected ')'");
		return -1;
	}
	p->depth--;
	return lex_next(p) < 0 ? -1 : k;
}

/* primary [op primary]; a second operator is refused rather than chained. */
static int parse_cmp(struct parser *p)
{
	struct token op;
	struct expr_node *nodes = p->e->nodes;
	int lhs = parse_primary(p), rhs;

	if (lhs < 0 || !kind_is_cmp(p->tok.kind))
		return lhs;
	op = p->tok;
	if (lex_next(p) < 0 || (rhs = parse_primary(p)) < 0)
		return -1;
	if (kind_is_cmp(p->tok.kind)) {
		parse_fail(p, p->tok.off + 1, "comparisons do not chain (join them with 'and')");
		return -1;
	}
	if (op.kind != K_EQ && op.kind != K_NE &&
	    (!kind_is_text(nodes[lhs].kind) || !kind_is_text(nodes[rhs].kind))) {
		parse_fail(p, op.off + 1, "cannot order a boolean with '%.*s'", op.len,
			   p->src + op.off);
		return -1;
	}
	nodes[lhs].next = rhs;
	return node_new(p, op.kind, op.off + 1, lhs);
}

static int parse_not(struct parser *p)
{
	int col = p->tok.off + 1, kid;

	if (p->tok.kind != K_NOT)
		return parse_cmp(p);
	if (depth_enter(p) < 0 || (kid = parse_not(p)) < 0)
		return -1;
	p->depth--;
	return node_new(p, K_NOT, col, kid);
}

/* Level 0: level-1 operands joined by `or`; level 1: `not` operands joined by `and`. */
static int parse_list(struct parser *p, int level)
{
	enum kind sep = level == 0 ? K_OR : K_AND;
	int first = level == 0 ? parse_list(p, 1) : parse_not(p);
	int last = first, col = p->tok.off + 1, k;

	if (first < 0 || p->tok.kind != sep)
		return first;
	while (p->tok.kind == sep) {
		if (lex_next(p) < 0 || (k = level == 0 ? parse_list(p, 1) : parse_not(p)) < 0)
			return -1;
		p->e->nodes[last].next = k;
		last = k;
	}
	return node_new(p, sep, col, first);
}

struct expr *expr_parse(const char *src, char *err, size_t errlen, int *errcol)
{
	struct parser p = {.err = err, .errlen = errlen};
	struct expr *e = NULL;
	size_t len = strnlen(src, EXPR_MAX_SOURCE + 1);

	if (len > EXPR_MAX_SOURCE) {
		parse_fail(&p, EXPR_MAX_SOURCE + 1, "expression longer than %d bytes",
			   EXPR_MAX_SOURCE);
		goto out;
	}
	e = xcalloc(1, sizeof *e);
	e->src = xstrdup(src);
	e->nodes = xcalloc(len + 1, sizeof *e->nodes);
	p.src = e->src;
	p.e = e;
	if (lex_next(&p) < 0)
		goto out;
	if (p.tok.kind == K_END) {
		parse_fail(&p, 1, "empty expression");
		goto out;
	}
	e->root = parse_list(&p, 0);
	if (e->root >= 0 && p.tok.kind != K_END)
		parse_unexpected(&p);
out:
	if (p.errcol != 0) {
		expr_free(e);
		e = NULL;
		if (errcol != NULL)
			*errcol = p.errcol;
	}
	return e;
}

void expr_free(struct expr *e)
{
	int i;
	if (e == NULL)
		return;
	for (i = 0; i < e->nnodes; i++)
		free(e->nodes[i].text);
	free(e->nodes);
	free(e->src);
	free(e);
}

const char *expr_source(const struct expr *e)
{
	return e->src;
}

int expr_foreach_ident(const struct expr *e, expr_ident_fn fn, void *arg)
{
	int i, rc;
	/* Leaves are created as they are read, so node order is source order. */
	for (i = 0; i < e->nnodes; i++)
		if (e->nodes[i].kind == K_IDENT &&
		    (rc = fn(e->nodes[i].text, e->nodes[i].col, arg)))
			return rc;
	return 0;
}

static int equality_walk(const struct expr *e, int i, expr_equality_fn fn, void *arg)
{
	const struct expr_node *n = &e->nodes[i];
	const struct expr_node *a, *b;
	int rc;

	if (n->kind == K_AND) {
		for (int k = n->kid; k >= 0; k = e->nodes[k].next)
			if ((rc = equality_walk(e, k, fn, arg)) != 0)
				return rc;
		return 0;
	}
	if (n->kind != K_EQ || n->kid < 0 || e->nodes[n->kid].next < 0)
		return 0;
	a = &e->nodes[n->kid];
	b = &e->nodes[a->next];
	if (a->kind == K_IDENT && b->text)
		return fn(a->text, b->text, b->kind == K_IDENT, arg);
	if (b->kind == K_IDENT && a->text)
		return fn(b->text, a->text, a->kind == K_IDENT, arg);
	return 0;
}

int expr_foreach_equality(const struct expr *e, expr_equality_fn fn, void *arg)
{
	return e->nnodes > 0 ? equality_walk(e, e->root, fn, arg) : 0;
}

struct evaluator {
	const struct expr *e;  /* what is being evaluated */
	expr_lookup_fn lookup; /* the caller's resolver */
	void *arg;	       /* and its argument */
	const char **val;      /* the values looked up, in the order of first use */
	int *seen;	       /* for each: the node of the name it was looked up for */
	int nseen;	       /* entries in val and seen */
	struct sbuf *why;      /* caller's buffer for messages, may be NULL */
};

static int eval_bool(struct evaluator *ev, int idx, int *out);

/* The text of a value or name node.  0, or -1 (message in why) for an unknown name. */
static int eval_text(struct evaluator *ev, const struct expr_node *n, const char **out)
{
	int i;

	if (n->kind == K_VALUE) {
		*out = n->text;
		return 0;
	}
	/* Each name is looked up once, so one evaluation sees one value per name. */
	for (i = 0; i < ev->nseen; i++)
		if (strcmp(ev->e->nodes[ev->seen[i]].text, n->text) == 0)
			break;
	if (i == ev->nseen) {
		ev->val[i] = ev->lookup(n->text, ev->arg);
		if (ev->val[i] == NULL) {
			if (ev->why != NULL)
				sbuf_addf(ev->why, "unknown identifier '%s'", n->text);
			return -1;
		}
		ev->seen[ev->nseen++] = (int)(n - ev->e->nodes);
	}
	*out = ev->val[i];
	return 0;
}

static int eval_cmp(struct evaluator *ev, const struct expr_node *n, int *out)
{
	/* Rows ==, !=, <, <=, >, >=; columns: a is before, equal to, after b. */
	static const char holds[6][3] = {{0, 1, 0}, {1, 0, 1}, {1, 0, 0},
					 {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};
	const struct expr_node *l = &ev->e->nodes[n->kid], *r = &ev->e->nodes[l->next];
	const char *a, *b;
	int c, x, y;

	if (!kind_is_text(l->kind) || !kind_is_text(r->kind)) {
		/* Only == and != get here: the parser refused ordering a boolean. */
		if (eval_bool(ev, n->kid, &x) < 0 || eval_bool(ev, l->next, &y) < 0)
			return -1;
		c = x != y;
	} else if (eval_text(ev, l, &a) < 0 || eval_text(ev, r, &b) < 0) {
		return -1;
	} else if (expr_compare_values(a, b, &c) < 0) {
		c = !str_ieq(a, b);
		if (n->kind != K_EQ && n->kind != K_NE) {
			if (ev->why != NULL) {
				sbuf_adds(ev->why, "cannot order '");
				diag_quote(ev->why, a);
				sbuf_adds(ev->why, "' and '");
				diag_quote(ev->why, b);
				sbuf_addc(ev->why, '\'');
			}
			return -1;
		}
	}
	*out = holds[n->kind - K_EQ][c + 1];
	return 0;
}

static int eval_bool(struct evaluator *ev, int idx, int *out)
{
	const struct expr_node *n = &ev->e->nodes[idx];
	const char *s;
	int k, b = 0;

	if (kind_is_cmp(n->kind))
		return eval_cmp(ev, n, out);
	if (n->kind == K_OR || n->kind == K_AND) {
		for (k = n->kid; k >= 0; k = ev->e->nodes[k].next) {
			if (eval_bool(ev, k, &b) < 0)
				return -1;
			if (b == (n->kind == K_OR))
				break; /* decided: the operands after it are not evaluated */
		}
	} else if (n->kind == K_NOT) {
		if (eval_bool(ev, n->kid, &b) < 0)
			return -1;
		b = !b;
	} else if (kind_is_text(n->kind)) {
		if (eval_text(ev, n, &s) < 0)
			return -1;
		b = value_truthy(s);
	} else {
		b = n->kind == K_TRUE;
	}
	*out = b;
	return 0;
}

int expr_eval(const struct expr *e, expr_lookup_fn lookup, void *arg, int *result, struct sbuf *why)
{
	struct evaluator ev = {.e = e, .lookup = lookup, .arg = arg, .why = why};
	int b = 0, rc, i;

	ev.val = xcalloc((size_t)e->nnodes, sizeof *ev.val);
	ev.seen = xcalloc((size_t)e->nnodes, sizeof *ev.seen);
	rc = eval_bool(&ev, e->root, &b);
	if (rc == 0)
		*result = b;
	for (i = 0; rc == 0 && why != NULL && i < ev.nseen; i++) {
		const struct expr_node *n = &e->nodes[ev.seen[i]];
		sbuf_addf(why, "%s%s = '", i ? ", " : "", n->text);
		diag_quote(why, ev.val[i]);
		sbuf_addc(why, '\'');
	}
	free(ev.val);
	free(ev.seen);
	return rc;
}
