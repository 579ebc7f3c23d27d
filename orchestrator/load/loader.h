/*
 * loader.h — private helpers shared by the playbook and inventory loaders
 * (playbook*.c, inventory.c, model.c): typed reads from a yamltree that
 * report located errors, name patterns, and the kind hints used in
 * messages.  Not a public interface: nothing outside the loaders includes it.
 *
 * Every getter reads one key of a mapping and returns 1 when the key is
 * there with a value (and sets *out), 0 when the key is absent or null
 * (*out untouched), or -1 after adding a located error to the context's
 * diag ("'ok_exit': expected a list, got a mapping").  Strings handed out
 * are heap copies the caller owns.
 */
#ifndef CCR_LOADER_H
#define CCR_LOADER_H

#include <stdint.h>

#include "model.h"
#include "yamltree.h"

struct yctx {
	const char *file; /* file name for messages; also every src_loc.file */
	struct diag *d;	  /* where errors go */
	int nerr;	  /* errors added through this context */
	char q[4][256];	  /* yq()'s ring of quoted values */
	int qi;		  /* next slot of q */
};

/*
 * s made safe for a message (diag_quote(): escaped, cut at 60 bytes), in a
 * ring of four buffers inside c: valid until the fourth next call.
 */
const char *yq(struct yctx *c, const char *s);
/* yq() of a URL with its userinfo (and, if whole, its path and query) redacted (textsafe.h). */
const char *yq_url(struct yctx *c, const char *s, int whole);

/* Add an error located at node n (or at 0:0 when n is NULL). */
void yerr(struct yctx *c, const struct ynode *n, const char *fmt, ...) CCR_PRINTF(3, 4);
void yerr_at(struct yctx *c, int line, int col, const char *fmt, ...) CCR_PRINTF(4, 5);
/* The location of n, with c->file. */
struct src_loc yloc(const struct yctx *c, const struct ynode *n);

/*
 * A required key: "missing required key 'id' in step" at the mapping when
 * absent, "'id' has no value" at the key when null.  0 present, -1 error.
 */
int yrequire(struct yctx *c, const struct ynode *m, const char *key, const char *what);

/* ymap_check_keys() through the context (errors counted in c->nerr).  Returns the count. */
int ykeys(struct yctx *c, const struct ynode *m, const char *const *allowed, const char *what);

/* Is n of kind k?  Otherwise "'key': expected a list, got a mapping" and 0. */
int ytype(struct yctx *c, const struct ynode *n, enum ynode_kind k, const char *key);

int yget_str(struct yctx *c, const struct ynode *m, const char *key, char **out);
/* The scalar node for key (for callers that parse the text themselves). */
int yget_scalar(struct yctx *c, const struct ynode *m, const char *key, const struct ynode **out);
int yget_bool(struct yctx *c, const struct ynode *m, const char *key, int *out);
int yget_int(struct yctx *c, const struct ynode *m, const char *key, int64_t min, int64_t max,
	     int64_t *out);
/* A duration ("30s", "5m", "1h30m", or plain seconds); min_ms is the smallest allowed. */
int yget_duration(struct yctx *c, const struct ynode *m, const char *key, int64_t min_ms,
		  int64_t *out);
/* One of the NULL-terminated names; *out is its index. */
int yget_enum(struct yctx *c, const struct ynode *m, const char *key, const char *const *names,
	      int *out);
/* A list of strings; *locs (if locs is not NULL) gets each item's location. */
int yget_str_list(struct yctx *c, const struct ynode *m, const char *key, char ***out, int *n,
		  struct src_loc **locs);
int yget_int_list(struct yctx *c, const struct ynode *m, const char *key, int64_t min, int64_t max,
		  int **out, int *n);

/*
 * A hash index from names to small integers (array positions), so that
 * lookups and duplicate checks stay linear on big files (an 8 MiB
 * inventory can hold 400,000 hosts).  Keys are borrowed: they must outlive
 * the index.  nocase: keys compare ASCII case-insensitively.
 */
struct nameidx {
	const char **keys; /* slots, NULL = empty */
	int *vals;	   /* value per slot */
	size_t cap;	   /* slots, a power of two (0 before the first put) */
	size_t n;	   /* keys stored */
	int nocase;	   /* 1: case-insensitive */
};
void nameidx_init(struct nameidx *x, int nocase);
void nameidx_release(struct nameidx *x);
/* Add key -> val.  Returns -1 when added, or the value already stored for key (nothing changes). */
int nameidx_put(struct nameidx *x, const char *key, int val);
/* The value for key, or -1. */
int nameidx_get(const struct nameidx *x, const char *key);

/* Will another error still be kept?  (Skip costly "did you mean" work when not.) */
int ydiag_room(const struct yctx *c);

/* Name patterns. */
int name_is_ident(const char *s);   /* [a-z][a-z0-9_]*, at most 64 bytes: vars, facts, roles */
int name_is_step_id(const char *s); /* [a-z0-9][a-z0-9-]*, at most 64 bytes: steps, phases */

/* Free a list of n strings (NULL is fine). */
void strv_free(char **v, int n);

/* "dotted numbers, e.g. 8.1.240.6": what var_kind_check() accepts, for messages. */
const char *var_kind_hint(enum var_kind kind);
/* Parse a kind name ("version"); -1 when unknown. */
int var_kind_parse(const char *s);

#endif
