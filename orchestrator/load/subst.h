/*
 * subst.h — variables: where a ${name} gets its value, and the one place
 * values are checked before they land in a command.
 *
 * Resolution order for a name, first match wins:
 *   1. builtins: node (the host the command runs on), cluster, cms,
 *      item (inside a for_each step), and every role name (its bound host);
 *   2. the host's vars, then the cluster's vars, from the inventory;
 *   3. the playbook's default.
 * Every value except VK_RAW ones is checked against its kind (model.h)
 * when it is substituted: a value that does not fit is refused with an
 * error naming the variable and the value, never quoted around.
 */
#ifndef CCR_SUBST_H
#define CCR_SUBST_H

#include "model.h"

/* A role bound to a host. */
struct role_binding {
	const char *role; /* role name, borrowed from the playbook */
	const char *host; /* host name, borrowed from the inventory */
	int assumed;	  /* 1: offline assumption, not yet verified live */
	int of;		  /* a `select: all` role read from a journal: how many hosts its
			     binding has (a shorter set was cut by a crash); else 0 */
};

/* Everything a substitution can see.  All pointers borrowed; node/item may be NULL. */
struct subst_ctx {
	const struct playbook *pb;
	const struct inventory *inv;
	const struct cluster_def *cl;
	const char *node;		  /* host the text is for, or NULL */
	const char *item;		  /* current for_each item, or NULL */
	enum var_kind item_kind;	  /* kind of item */
	const struct role_binding *roles; /* bound roles */
	int nroles;
};

/*
 * Value of a scalar variable, or NULL if it is undefined, a list, or a
 * builtin that has no value here (e.g. node outside a step).  The string is
 * borrowed from the model or the context.  *kind receives its kind.
 */
const char *subst_value(const struct subst_ctx *c, const char *name, enum var_kind *kind);

/*
 * Items of a list variable (inventory value or playbook default).  Returns 0
 * and sets *items (borrowed) and *n, or -1 if name is not a list variable.
 */
int subst_list(const struct subst_ctx *c, const char *name, char *const **items, int *n);

/*
 * Expand every ${name} in tmpl.  Returns a new string (caller frees), or
 * NULL with a message in err ("variable 'setup' = 'D:\x\" & del' is not a
 * valid path").  Text that is not "${" is copied as is ($1, $false).
 */
char *subst_expand(const struct subst_ctx *c, const char *tmpl, char *err, size_t errlen);

/* Host bound to a role in c, or NULL. */
const char *subst_role_host(const struct subst_ctx *c, const char *role);

#endif
