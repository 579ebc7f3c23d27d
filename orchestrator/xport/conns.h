/*
 * conns.h — one transport per host of a cluster (SSH, or WinRM when the
 * inventory says `transport: winrm`), created on first use from the
 * inventory (address, port, user, identity, known_hosts, timeouts; WinRM's
 * port, scheme, CA file and password source) and reused for every command
 * to that host.  A WinRM password is read from its file or environment
 * variable when the transport is created, handed to it, and wiped here.
 */
#ifndef CCR_CONNS_H
#define CCR_CONNS_H

#include "model.h"
#include "xport.h"

struct conns;

struct conns_opts {
	int trust_new_hosts;	     /* record unknown host keys (--trust-new-hosts) */
	const char *ssh_config;	     /* NULL: ~/.ssh/config; "none": none (tests) */
	struct xport_gate *gate;     /* bound on SSH establishments (xgate.h), shared by
					a fleet; borrowed; NULL: none */
	struct xport_known *known;   /* known_hosts cache (xknown.h), shared by a fleet;
					borrowed; NULL: none */
	xport_guard_fn guard;	     /* asked before every command (xport.h); NULL: none */
	void *guard_arg;	     /* borrowed */
	int quiet;		     /* no warnings on stderr (plain-HTTP WinRM) */
	const struct xport_ops *ops; /* another transport for every host (tests); NULL: none */
	void *ops_arg;		     /* borrowed */
};

/* A pool for the hosts of inv.  Borrowed: inv (must outlive the pool). */
struct conns *conns_new(const struct inventory *inv, const struct conns_opts *o);
void conns_free(struct conns *c);
/* The transport of a host (created on first call), or NULL if the host is unknown. */
struct xport *conns_get(struct conns *c, const char *host);
/*
 * Close host's session now (a host no remaining step needs), keeping its
 * transport: the next conns_get() user reconnects.  Unknown or unconnected
 * hosts: nothing to do.
 */
void conns_close(struct conns *c, const char *host);
/* Total sessions established over all hosts (reuse check, benchmarks). */
unsigned conns_sessions(const struct conns *c);

/* "~/x" -> "$HOME/x"; anything else copied.  Caller frees. */
char *conns_expand_home(const char *path);

#endif
