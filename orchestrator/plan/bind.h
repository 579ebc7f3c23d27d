/*
 * bind.h — bind a playbook's roles to hosts from live facts: for each role,
 * exactly one host of its group must satisfy its `where` expression (with
 * `node` = the candidate).  Read-only; the runner journals the result.
 */
#ifndef CCR_BIND_H
#define CCR_BIND_H

#include "facts.h"

/*
 * Bind roles[*n..] for every role of pb not already in roles (those are
 * kept: a resumed run's bindings come from its journal).  A `select: all`
 * role adds one binding per host, in group order.  *roles is grown
 * (caller frees).  Returns 0, EXIT_REFUSED when a role matches no host or
 * several (err names the role, the expression and what each host showed),
 * or EXIT_STEP_FAILED when a fact could not be read (err).
 */
int bind_roles_live(const struct playbook *pb, const struct cluster_def *cl, struct facts *f,
		    struct role_binding **roles, int *n, char *err, size_t errlen);

/* Host bound to role (the first, for a `select: all` role), or NULL. */
const char *bind_host(const struct role_binding *roles, int n, const char *role);

/* How many hosts are bound to role. */
int bind_count(const struct role_binding *roles, int n, const char *role);

/*
 * Bindings read from a journal: drop every `select: all` set that is shorter
 * than the `of` it was journaled with (the run stopped while journaling it;
 * nothing ran after, so binding it again live is safe).  Returns 1 when every
 * role of pb is bound, 0 otherwise.
 */
int bind_complete(const struct playbook *pb, struct role_binding *roles, int *n);

#endif
