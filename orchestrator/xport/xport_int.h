/*
 * xport_int.h — what xport.c (sessions, commands) and xport_hostkey.c
 * (host-key policy) share.  Not a public API: see xport.h.
 */
#ifndef CCR_XPORT_INT_H
#define CCR_XPORT_INT_H

#include <libssh/libssh.h>

#include "xport.h"

struct xport {
	char *name;		/* node name, for messages */
	char *address;		/* explicit address, or NULL */
	int port;		/* explicit port, or 0 */
	char *user;		/* explicit user, or NULL */
	char **identities;	/* NULL-terminated copies, or NULL */
	char *known_hosts;	/* explicit known_hosts path, or NULL */
	char *ssh_config;	/* NULL, "none", or a config file path */
	int trust_new;		/* record unknown host keys */
	int connect_timeout_ms; /* bound for connect, handshake, auth, channel open */
	int keepalive_ms;	/* <= 0: off */
	ssh_session session;	/* established session, or NULL */
	char *label;		/* "NODE1 (127.0.0.2:2222)" */
	char *error;		/* last error text, or NULL */
	unsigned connects;	/* sessions established so far */
	xport_guard_fn guard;	/* asked before each command, or NULL */
	void *guard_arg;	/* borrowed */
};

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
