/*
 * xgate.h — a bound on the SSH connection establishments (TCP connect, key
 * exchange, host key check, authentication) in flight at once in one
 * process, the way sshd's MaxStartups or Ansible's forks bound them.
 *
 * A fleet run starts hundreds of clusters at once, each connecting to its
 * hosts: with --parallel 500 that is ~1,500 handshakes started together.
 * Both ends are CPU-bound during a handshake, so running them all at once
 * does not finish any sooner; it only makes each one slower, until some
 * pass their connect timeout (11 of 3,334 clusters failed that way).
 * Through a gate, at most `slots` handshakes run; the others wait their
 * turn, and a node's connect timeout starts when its handshake does.
 *
 * One gate is shared by every cluster of a fleet run: the apply/resume
 * command creates it and hands it down (run_opts, conns_opts,
 * xport_options.gate); every connect and reconnect of an SSH transport
 * passes through it.  Thread-safe.
 *
 * Calling sequence:
 *
 *	g = xport_gate_new(xport_gate_default_slots(), &stop);
 *	opt.gate = g;  x = xport_new(&opt);  …  xport_free(x);
 *	xport_gate_free(g);                  // after every xport using it is freed
 */
#ifndef CCR_XGATE_H
#define CCR_XGATE_H

#include <signal.h>

#include "util.h"

struct xport_gate;

/* The default bound: 8 per online CPU, at least 16. */
int xport_gate_default_slots(void);

/*
 * A gate letting `slots` (>= 1; less is taken as 1) establishments run at
 * once.  A wait for a slot ends early when *stop becomes non-zero (stop may
 * be NULL: waits end only with a free slot).  Never fails (out of memory
 * aborts).  stop is borrowed: it must outlive the gate.
 */
struct xport_gate *xport_gate_new(int slots, volatile sig_atomic_t *stop);
/* Free g (NULL: nothing).  No thread may be inside it. */
void xport_gate_free(struct xport_gate *g);

/*
 * Take a slot, waiting as long as it takes.  0 with a slot held (release it
 * with xport_gate_leave()), or -1 when *stop was set first (no slot held).
 * g may be NULL: 0 at once (no bound).
 */
int xport_gate_enter(struct xport_gate *g) CCR_WUR;
/* Give back the slot taken by xport_gate_enter() (g NULL: nothing). */
void xport_gate_leave(struct xport_gate *g);

/* What the gate saw so far (tests, diagnostics). */
struct xport_gate_stats {
	int slots;	     /* the bound */
	int peak;	     /* most establishments in flight at once */
	unsigned long waits; /* entries that had to wait for a slot */
};
struct xport_gate_stats xport_gate_stats(struct xport_gate *g);

#endif
