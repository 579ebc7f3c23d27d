/*
 * jpath.h — a small path language that selects values from a JSON document,
 * for facts read from JSON output (a fact's `json:` rule, docs/playbook.md).
 *
 *   path     = "" | "." | segment { segment }
 *   segment  = [ "." ] key | "[" index "]" | "[*]" | "[" key "=" text "]"
 *
 * A key is one or more characters other than '.', '[', ']' and '=' (Patroni's
 * `pending_restart`, patronictl's `Lag in MB`); `[N]` is the N-th element of an
 * array (0-based, negative counts from the end); `[*]` every element of an
 * array (or every member value of an object); `[KEY=TEXT]` the elements of an
 * array that are objects whose member KEY, as text (below), equals TEXT
 * exactly.  The empty path (or ".") selects the document itself.
 *
 * Selected values become text: a string as it is, an integer in decimal, a
 * real in the shortest form that reads back, true/false as `true`/`false`,
 * an object or array as compact JSON; null selects nothing.  A member or index
 * that is absent selects nothing (not an error): the fact's default applies.
 */
#ifndef CCR_JPATH_H
#define CCR_JPATH_H

#include <jansson.h>
#include <stddef.h>

/* Longest path accepted, and most segments. */
#define JPATH_MAX_LEN	   1024
#define JPATH_MAX_SEGMENTS 32

/*
 * Check a path's syntax.  Returns 0, or -1 with err ("unclosed '['") and *col
 * (1-based column of the problem).
 */
int jpath_check(const char *path, int *col, char *err, size_t errlen);

/*
 * Select from root.  Returns 0 and *vals (n strings, caller frees each and
 * the array; *vals may be NULL when n is 0), or -1 with err for a bad path.
 */
int jpath_select(const json_t *root, const char *path, char ***vals, int *n, char *err,
		 size_t errlen);

/* A JSON value as text (the rules above); NULL for null.  Caller frees. */
char *jpath_text(const json_t *v);

#endif
