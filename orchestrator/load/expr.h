/*
 * expr.h — the tiny expression language playbooks use for preconditions
 * (`require:`), probe conditions (`when:`) and role binding (`where:`):
 *
 *     cms_owner != node
 *     copy_queue <= 10 and copy_status == 'Healthy'
 *     exchange_version >= 8.1.240.6
 *     not (os_sp < 2) or force
 *
 * Grammar, lowest precedence first: `or`, `and`, `not`, one comparison
 * (== != < <= > >=, which do not chain), primary (parenthesised
 * expression, integer, string, version, true/false, identifier).  The full
 * user-facing reference, with the typing rules, is docs/expressions.md.
 *
 * Every value is text: identifiers are resolved when the expression is
 * evaluated, through a caller callback, to the captured text of a fact or
 * var.  A comparison looks at the shape of its two texts: two integers
 * compare as integers, two version-like texts (at least one dotted) compare
 * component by component, anything else compares as a string (== and !=
 * case-insensitively; ordering strings is an evaluation error).
 *
 * Calling sequence: expr_parse() once when the playbook is loaded (this is
 * where syntax errors are reported, with a column), expr_foreach_ident() to
 * check that every name is one the playbook can resolve, then expr_eval()
 * as often as needed with fresh facts, and expr_free() at the end.  A
 * parsed expression is immutable, so one can be evaluated from several
 * threads at once provided each call has its own lookup state and `why`.
 */
#ifndef CCR_EXPR_H
#define CCR_EXPR_H

#include <stddef.h>

#include "util.h"

/* Limits.  Beyond them expr_parse() refuses the source with a located error. */
#define EXPR_MAX_SOURCE 4096 /* bytes of source text */
#define EXPR_MAX_DEPTH	64   /* nested '(' and 'not', counted together */

struct expr; /* opaque, immutable after parse */

/*
 * Parse src (a NUL-terminated string; spaces, tabs and line breaks between
 * tokens are ignored).  Returns a new expression, which the caller owns
 * and frees with expr_free().  On a syntax error returns NULL, writes a
 * NUL-terminated message to err (truncated to errlen bytes; e.g.
 * "expected ')'", "unexpected 'and'", "unterminated string") and sets
 * *errcol to the 1-based byte column within src where the problem is (one
 * past the last byte when the text ends too early, EXPR_MAX_SOURCE + 1 when
 * it is too long, 1 when it is empty).  err may be NULL when errlen is 0,
 * and errcol may be NULL.  On success err and *errcol are left untouched.
 * src is copied; the caller keeps ownership of it.
 */
struct expr *expr_parse(const char *src, char *err, size_t errlen, int *errcol) CCR_WUR;

/* Free an expression and everything it owns.  NULL is a no-op. */
void expr_free(struct expr *e);

/* The source text as given to expr_parse().  Owned by e; valid until expr_free(). */
const char *expr_source(const struct expr *e);

/*
 * Call fn for every identifier in source order, duplicates included, with
 * its name (dotted names whole, e.g. "saved.firewall_start"; borrowed,
 * valid until expr_free()) and its 1-based byte column in the source.
 * Stops at the first non-zero value fn returns and returns it; returns 0
 * when fn returned 0 for every identifier (or there are none).
 */
typedef int (*expr_ident_fn)(const char *name, int col, void *arg);
int expr_foreach_ident(const struct expr *e, expr_ident_fn fn, void *arg);

/*
 * Call fn for every `NAME == OPERAND` that must hold for e to be true: the
 * comparisons joined by `and` at the top of e (through parentheses) with an
 * identifier on one side.  operand is the other side's text, is_ident 1 when
 * it is a name (the caller resolves it) and 0 for a value; both borrowed,
 * valid until expr_free().  `cms_owner == node and cms_state == 'Online'`
 * gives ("cms_owner", "node", 1) then ("cms_state", "Online", 0).  Stops at
 * the first non-zero value fn returns and returns it; 0 otherwise.
 */
typedef int (*expr_equality_fn)(const char *name, const char *operand, int is_ident, void *arg);
int expr_foreach_equality(const struct expr *e, expr_equality_fn fn, void *arg);

/*
 * Resolve an identifier to its current value.  Return a string (borrowed;
 * it must stay valid until expr_eval() returns) or NULL if the name is
 * unknown.  expr_eval() calls it at most once per distinct name per
 * evaluation, and only for the names it actually evaluates.
 */
typedef const char *(*expr_lookup_fn)(const char *name, void *arg);

/*
 * Evaluate e, resolving identifiers through lookup(name, arg) (lookup must
 * not be NULL).  `and` and `or` short-circuit left to right.
 *
 * Returns 0 and sets *result to 1 (true) or 0 (false).  If why is not NULL
 * it then appends the values seen, one per distinct identifier that was
 * evaluated, in source order, as "name = 'value'" joined by ", " (e.g.
 * "cms_owner = 'NODE1', node = 'NODE2'"; nothing when no identifier was
 * evaluated).  Values are shown escaped and cut at 60 bytes (diag_quote()).
 *
 * Returns -1 on an evaluation error (an identifier lookup() does not know,
 * "unknown identifier 'x'"; ordering two strings, "cannot order 'abc' and
 * 'def'"), leaves *result untouched and, if why is not NULL, appends the
 * message to why.  Evaluation never changes e.
 */
int expr_eval(const struct expr *e, expr_lookup_fn lookup, void *arg, int *result,
	      struct sbuf *why) CCR_WUR;

/*
 * Order two value texts with the comparison typing rules: two integers
 * (decimal or 0x-hex, optional leading '-', within int64) numerically; two
 * version-like texts (digit runs of up to 10 digits joined by dots, or a
 * plain integer) of which at least one is dotted, component by component
 * with missing components taken as 0 (8.1 == 8.1.0.0).  Returns 0 and sets
 * *cmp to -1, 0 or 1 (a before, equal to, after b); returns -1 with *cmp
 * untouched when the two texts are not orderable (any other pair).
 */
int expr_compare_values(const char *a, const char *b, int *cmp) CCR_WUR;

#endif
