/*
 * xport_int.h — what xport.c (sessions, commands) and xport_hostkey.c
 * (host-key policy) share.  Not a public API: see xport.h.
 */
#ifndef CCR_XPORT_INT_H
#define CCR_XPORT_INT_H

#include <libssh/libssh.h>

#include "xport.h"

struct xport_winrm;

/* Output capture state for one command (shared by the transports). */
struct xport_pump {
	struct xport_result *res; /* where output goes */
	size_t cap;		  /* per-stream capture cap */
	xport_output_fn fn;	  /* live output callback, or NULL */
	void *arg;		  /* its argument */
};

/*
 * One transport implementation.  xport.c's public functions do what is
 * common (result reset, error reset, outcome and duration) and call these.
 * exec runs cmd (connecting first if needed) until deadline (monotonic ms)
 * or *stop, capturing through p, and returns the outcome with x's error
 * set for anything but XPORT_OK; res->exit is set on XPORT_OK.
 */
struct xport_ops {
	const char *name; /* "ssh", "winrm" */
	enum xport_outcome (*connect)(struct xport *x);
	void (*disconnect)(struct xport *x);
	enum xport_outcome (*exec)(struct xport *x, const char *cmd, struct xport_pump *p,
				   int64_t deadline, volatile sig_atomic_t *stop);
	int (*is_connected)(const struct xport *x);
	int (*socket)(const struct xport *x);
	void (*release)(struct xport *x); /* free the implementation's state */
};

struct xport {
	const struct xport_ops *ops; /* the transport: SSH or WinRM */
	struct xport_winrm *wr;	     /* WinRM state (xport_winrm.c), or NULL */
	char *name;		     /* node name, for messages */
	char *address;		     /* explicit address, or NULL */
	int port;		     /* explicit port, or 0 */
	char *user;		     /* explicit user, or NULL */
	char **identities;	     /* NULL-terminated copies, or NULL */
	char *known_hosts;	     /* explicit known_hosts path, or NULL */
	char *ssh_config;	     /* NULL, "none", or a config file path */
	int trust_new;		     /* record unknown host keys */
	int connect_timeout_ms;	     /* bound for connect, handshake, auth, channel open */
	int keepalive_ms;	     /* <= 0: off */
	ssh_session session;	     /* established session, or NULL */
	ssh_channel spare;	     /* a session channel opened ahead for the next command
					(its open may still be pending), or NULL */
	char *label;		     /* "NODE1 (127.0.0.2:2222)" */
	char *error;		     /* last error text, or NULL */
	unsigned connects;	     /* sessions established so far */
	unsigned ahead;		     /* commands run on a channel opened ahead */
	struct xport_gate *gate;     /* bound on SSH establishments in flight (borrowed),
					or NULL */
	struct xport_known *known;   /* known_hosts cache (borrowed), or NULL */
	xport_guard_fn guard;	     /* asked before each command, or NULL */
	void *guard_arg;	     /* borrowed */
	void *impl;		     /* xport_options.ops_arg of another implementation */
};

/* Deliver n bytes of stream (1 stdout, 2 stderr) to the callback and the capture. */
void xport__pump_take(struct xport_pump *p, int stream, const char *buf, size_t n);
/* 1 if stop is set. */
int xport__stopped(volatile sig_atomic_t *stop);
/* Sleep ms, resuming after signals. */
void xport__sleep_ms(int64_t ms);
/* Set up x as a WinRM transport from opt (xport_winrm.c). */
void xport__winrm_init(struct xport *x, const struct xport_options *opt);

/* Replace x's error text (takes ownership of text). */
void xport__seterr(struct xport *x, char *text);
/* The host name libssh connects to and its port (new string, caller frees). */
char *xport__session_host(ssh_session s, unsigned *port);
/* Set x's error to "LABEL: text" (printf-style). */
void xport__fail(struct xport *x, const char *fmt, ...) CCR_PRINTF(2, 3);

/*
 * Check the server's host key of session s against known_hosts.  Returns 0
 * when it may be used (known, or unknown and now recorded under
 * trust_new_hosts), -1 with x's error set otherwise.
 */
int xport__verify_host(struct xport *x, ssh_session s);

#endif
