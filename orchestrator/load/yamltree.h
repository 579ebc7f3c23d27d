/*
 * yamltree.h — a small, located YAML tree for the playbook and inventory
 * loaders.
 *
 * libyaml's event API is turned into a tree of three node kinds (scalar,
 * sequence, mapping), each with the 1-based line and column of its first
 * character.  Only the part of YAML that configuration files need is
 * accepted; everything else is refused with a located error rather than
 * half-supported:
 *
 *   - anchors (&x) and aliases (*x): refused, the value must be repeated
 *     (an alias would let one small file expand into a huge tree, and a
 *     reader of the file should see every value where it applies);
 *   - tags other than the standard !!str !!int !!float !!bool !!null !!seq
 *     !!map: refused (!!str makes a plain scalar a string, !!null a null);
 *   - more than one document, mapping keys that are not scalars, duplicate
 *     keys in one mapping, NUL bytes, encodings other than UTF-8;
 *   - files over MODEL_MAX_FILE_BYTES, nesting deeper than MODEL_MAX_DEPTH,
 *     more than MODEL_MAX_NODES nodes (limits overridable for tests).
 *
 * A plain scalar that is empty, "~" or "null"/"Null"/"NULL" is a null; a
 * quoted or block scalar is always a string, so `default: ''` is an empty
 * string and `default:` is no value at all.
 *
 * Calling sequence: ydoc_load() (or ydoc_parse() on a buffer), walk
 * ydoc_root() with the ymap_* / ynode_* accessors below, ydoc_free().  The
 * tree is immutable; every node is owned by the document.
 */
#ifndef CCR_YAMLTREE_H
#define CCR_YAMLTREE_H

#include <stddef.h>

#include "diag.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

enum yscalar_style {
	YSTYLE_PLAIN,  /* unquoted */
	YSTYLE_QUOTED, /* 'single' or "double" (or tagged !!str) */
	YSTYLE_BLOCK,  /* | literal or > folded */
};

struct ynode {
	enum ynode_kind kind;
	int line;		  /* 1-based line of the node's first character */
	int col;		  /* 1-based column (characters) of the same */
	int end_line;		  /* 1-based line just after the node */
	int end_col;		  /* 1-based column just after the node */
	char *text;		  /* scalar: its value, NUL-terminated; else NULL */
	size_t len;		  /* scalar: bytes in text */
	enum yscalar_style style; /* scalar: how it was written */
	int is_null;		  /* scalar: plain empty, ~ or null */
	struct ynode **items;	  /* sequence items, or mapping values */
	struct ynode **keys;	  /* mapping keys (scalars), parallel to items; else NULL */
	int n;			  /* items (and keys) */
	int cap;		  /* allocated slots */
};

struct ydoc; /* opaque: the tree and its file name */

/* Limits for one parse; NULL means the MODEL_MAX_* defaults. */
struct ylimits {
	size_t max_bytes; /* larger input is refused */
	int max_depth;	  /* deeper nesting is refused */
	long max_nodes;	  /* more nodes are refused */
};

/*
 * Read and parse the file at path.  Returns the document (caller owns it,
 * free with ydoc_free()), or NULL after adding every error found to d:
 * errors are located "path:line:col" (line 0 for errors about the whole
 * file: cannot read it, too large).  The SHA-256 of the file's bytes is
 * kept on the document (ydoc_sha256()).
 */
struct ydoc *ydoc_load(const char *path, const struct ylimits *lim, struct diag *d);

/*
 * Parse len bytes of buf (which need not be NUL-terminated) as if read
 * from a file named file (used in messages).  Same result as ydoc_load().
 */
struct ydoc *ydoc_parse(const char *file, const char *buf, size_t len, const struct ylimits *lim,
			struct diag *d);

void ydoc_free(struct ydoc *doc);

/* The root node: never NULL for a loaded document. */
const struct ynode *ydoc_root(const struct ydoc *doc);
/* The file name given at load (owned by doc). */
const char *ydoc_file(const struct ydoc *doc);
/* Lower-case hex SHA-256 of the bytes parsed (owned by doc). */
const char *ydoc_sha256(const struct ydoc *doc);

/* "a mapping", "a list", "a string", "null": for "expected X, got Y" messages. */
const char *ynode_describe(const struct ynode *n);

/* The value for key in mapping m, or NULL (also when m is not a mapping). */
const struct ynode *ymap_get(const struct ynode *m, const char *key);
/* The key node for key in mapping m, or NULL. */
const struct ynode *ymap_key(const struct ynode *m, const char *key);

/*
 * Report every key of mapping m that is not in the NULL-terminated list
 * allowed: "unknown key 'requires' in step (did you mean 'require'?)", or
 * with the valid keys listed when none is close.  what names the mapping
 * ("step", "fact 'os_sp'").  Returns the number of errors added.
 */
int ymap_check_keys(const struct ynode *m, const char *const *allowed, const char *what,
		    const char *file, struct diag *d);

/*
 * The closest of the NULL-terminated candidates to word by edit distance
 * (at most 2 edits, or 1 for words of 4 bytes or fewer), or NULL.
 */
const char *ysuggest(const char *word, const char *const *candidates);

/*
 * Sort the entries of d from index first on (those one loader added) by
 * line and column, so a file's errors read top to bottom.
 */
void ydiag_sort_from(struct diag *d, int first);

/*
 * Edit distance between a and b (insertions, deletions, substitutions and
 * swaps of neighbours each count 1), capped at cap+1; strings over 64
 * bytes are only compared for equality.
 */
int yedit_distance(const char *a, const char *b, int cap);

#endif
