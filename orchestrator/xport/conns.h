/*
 * conns.h — one SSH transport per host of a cluster, created on first use
 * from the inventory (address, port, user, identity, known_hosts, timeouts)
 * and reused for every command to that host.
 */
#ifndef CCR_CONNS_H
#define CCR_CONNS_H

#include "model.h"
#include "xport.h"

struct conns;

struct conns_opts {
	int trust_new_hosts;	/* record unknown host keys (--trust-new-hosts) */
	const char *ssh_config; /* NULL: ~/.ssh/config; "none": none (tests) */
	xport_guard_fn guard;	/* asked before every command (xport.h); NULL: none */
	void *guard_arg;	/* borrowed */
};

/* A pool for the hosts of inv.  Borrowed: inv (must outlive the pool). */
struct conns *conns_new(const struct inventory *inv, const struct conns_opts *o);
void conns_free(struct conns *c);
/* The transport of a host (created on first call), or NULL if the host is unknown. */
struct xport *conns_get(struct conns *c, const char *host);
/* Total sessions established over all hosts (reuse check, benchmarks). */
unsigned conns_sessions(const struct conns *c);

/* "~/x" -> "$HOME/x"; anything else copied.  Caller frees. */
char *conns_expand_home(const char *path);

#endif
