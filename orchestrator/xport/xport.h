/*
 * xport.h — the transport to one node: run a command with a deadline,
 * stream its output, get its exit status, abort it, reconnect after a
 * reboot.  Two implementations sit behind this one interface (xport_ops in
 * xport_int.h): SSH (this file's notes below; xport.c) and WinRM
 * (MS-WSMV remote shell over HTTP(S); xport_winrm.c, docs/winrm.md),
 * chosen by xport_options.kind.
 *
 * SSH: one libssh client session per node, reused for every command sent
 * to that node, one channel per command.
 *
 * Host keys are checked strictly against known_hosts.  An unknown key is
 * refused unless trust_new_hosts is set, in which case it is recorded (the
 * file is replaced atomically, mode 0600); a changed key is always refused,
 * naming both fingerprints.  With xport_options.known (xknown.h) a key
 * recorded for the host in the file is accepted from a parse shared by the
 * process; anything else is judged by libssh.  Authentication is public-key only: ssh-agent
 * first (when SSH_AUTH_SOCK is set), then the identity files, whose
 * passphrase may come from $CCRUP_KEY_PASSPHRASE (never logged).
 *
 * Every session gets TCP_NODELAY (without it each command stalls ~40 ms on
 * delayed ACKs) and TCP keepalive.  While a command is silent for longer
 * than the keepalive interval an SSH_MSG_IGNORE is sent, so idle-timeout
 * middleboxes see traffic; dead peers are detected by TCP keepalive and by
 * the command deadline.  docs/journal.md §Transport states the policy.
 *
 * Calling sequence:
 *
 *	xport_global_init();                     // once, in main, before threads
 *	x = xport_new(&opt);
 *	xport_result_init(&res);
 *	o = xport_exec(x, "sc query MSExchangeIS", 30000, 1 << 20, NULL, NULL, &stop, &res);
 *	switch (o) { case XPORT_OK: use res.exit, res.out.buf …; case XPORT_DROPPED: … }
 *	xport_result_release(&res);
 *	o = xport_connect_retry(x, 600000, &stop);   // after a reboot
 *	xport_free(x);
 *	xport_global_cleanup();
 *
 * Threads: one struct xport is used by one thread at a time; different
 * xports may be used from different threads at once.
 */
#ifndef CCR_XPORT_H
#define CCR_XPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "xgate.h"

struct xport_known;

/* What happened to a connect or a command. */
enum xport_outcome {
	XPORT_OK = 0,	      /* connected; or the command exited, status in res->exit */
	XPORT_SIGNALED,	      /* the command was killed by a signal, name in res->signal */
	XPORT_TIMEOUT,	      /* the command's deadline passed; its channel was closed */
	XPORT_DROPPED,	      /* the connection was lost mid-command: outcome unknown */
	XPORT_STOPPED,	      /* *stop became non-zero; the channel was closed */
	XPORT_CONNECT_FAILED, /* refused, unreachable, timed out, handshake failed: retryable */
	XPORT_HOSTKEY,	      /* host key unknown (and not trusted) or changed: never retried */
	XPORT_AUTH_FAILED,    /* no key was accepted: not retried */
};

/* Which transport a node is reached by. */
enum xport_kind {
	XPORT_KIND_SSH = 0, /* libssh (the default) */
	XPORT_KIND_WINRM,   /* WS-Management remote shell (WinRM) */
};

/* WinRM authentication schemes (libcurl's CURLAUTH_*). */
enum xport_winrm_auth {
	XPORT_WINRM_BASIC = 0, /* Basic: only over HTTPS, or with allow_unencrypted */
	XPORT_WINRM_NTLM,      /* NTLM (CURLAUTH_NTLM) */
	XPORT_WINRM_NEGOTIATE, /* Negotiate/Kerberos (CURLAUTH_NEGOTIATE; needs GSS-API) */
};

/* WinRM settings; xport_new() copies everything. */
struct xport_winrm_options {
	int https;		      /* 1: https (default in the inventory), 0: http */
	const char *password;	      /* the password itself (from a file or the environment) */
	const char *password_error;   /* why there is none: connecting fails with it */
	const char *ca_file;	      /* PEM CA bundle for the server certificate; NULL: system */
	const char *server_name;      /* name the certificate must carry; NULL: the address */
	enum xport_winrm_auth auth;   /* authentication scheme */
	int allow_unencrypted;	      /* permit http:// (credentials and commands in clear) */
	int64_t operation_timeout_ms; /* WS-Man OperationTimeout of a Receive; 0: 20 s */
	int64_t max_envelope_size;    /* MaxEnvelopeSize; 0: 153600 (as pywinrm sends) */
};

/*
 * Asked before each command is sent: return 1 to go ahead, or 0 with the
 * reason in why to refuse (the command is not sent; xport_exec() returns
 * XPORT_STOPPED with that reason as its error).  The runner uses it so a
 * run that lost its cluster lock takes no further remote action.
 */
struct xport_ops;

typedef int (*xport_guard_fn)(void *arg, char *why, size_t whylen);

/* Connection settings; xport_new() copies everything but guard_arg. */
struct xport_options {
	const char *name;	       /* node name for messages ("NODE1"); required */
	const char *address;	       /* host name or IP; NULL: use name (and ssh_config) */
	int port;		       /* 0: from ssh_config, else 22 */
	const char *user;	       /* NULL: from ssh_config, else the local user */
	const char *const *identities; /* NULL-terminated key file paths; NULL: agent, then
					  the ssh_config/default identities */
	const char *known_hosts;       /* NULL: ssh_config's or ~/.ssh/known_hosts */
	const char *ssh_config;	       /* NULL: ~/.ssh/config then /etc/ssh/ssh_config;
					  "none": read no config; else only this file */
	int trust_new_hosts;	       /* record unknown host keys instead of refusing */
	int connect_timeout_ms;	       /* TCP connect + handshake + auth; 0: 10000;
					  counted from when the handshake starts,
					  not while waiting for the gate */
	int keepalive_ms;	       /* TCP keepalive idle and SSH ignore interval;
					  0: 15000; < 0: off */
	enum xport_kind kind;	       /* SSH (0) or WinRM */
	const struct xport_winrm_options *winrm; /* required for XPORT_KIND_WINRM; for WinRM
						    port is the WinRM port (0: 5986/5985)
						    and user the account */
	struct xport_gate *gate;		 /* SSH: bound on establishments in flight,
						    shared (xgate.h); borrowed, must outlive
						    the xport; NULL: none */
	struct xport_known *known;		 /* SSH: known_hosts read once, shared
						    (xknown.h); borrowed; NULL: libssh
						    reads the file at every connection */
	xport_guard_fn guard;			 /* asked before every command; NULL: none */
	void *guard_arg;			 /* borrowed: must outlive the xport */
	/* Another implementation of the transport (xport_int.h), e.g. the unit
	 * tests' scripted fake (tests/fake_xport.h); NULL: SSH or WinRM by kind.
	 * ops_arg is borrowed; the implementation reads it as x->impl. */
	const struct xport_ops *ops;
	void *ops_arg;
};

/* The result of one command.  Embedded: xport_result_init() / _release(). */
struct xport_result {
	enum xport_outcome outcome; /* same as xport_exec()'s return value */
	int exit;		    /* exit status when XPORT_OK, else -1 */
	char *signal;		    /* signal name ("KILL") when XPORT_SIGNALED, else NULL */
	struct sbuf out;	    /* stdout, up to the cap */
	struct sbuf err;	    /* stderr, up to the cap */
	int out_truncated;	    /* stdout had more than cap bytes (the rest was read
				       and discarded) */
	int err_truncated;	    /* likewise for stderr */
	int64_t duration_ms;	    /* from exec request to the outcome */
};

/* Output as it arrives: stream 1 = stdout, 2 = stderr; data is not NUL-terminated. */
typedef void (*xport_output_fn)(int stream, const char *data, size_t len, void *arg);

struct xport;

/* Call ssh_init() once per process, before any thread uses an xport.  0 or -1.
 * WinRM also needs http_global_init() (http.h). */
int xport_global_init(void) CCR_WUR;
/* Call ssh_finalize() once, after every xport is freed. */
void xport_global_cleanup(void);

/* Human name of an outcome ("timeout", "dropped", …); never NULL. */
const char *xport_outcome_name(enum xport_outcome o);

/*
 * A transport for one node, not yet connected (the first xport_exec() or
 * xport_connect() connects).  Never fails (out of memory aborts); the caller
 * frees it with xport_free().
 */
struct xport *xport_new(const struct xport_options *opt);
/* Disconnect and free; x may be NULL. */
void xport_free(struct xport *x);

/*
 * Connect, check the host key, authenticate — once; a connected xport
 * returns XPORT_OK at once.  Returns XPORT_OK, XPORT_CONNECT_FAILED,
 * XPORT_HOSTKEY or XPORT_AUTH_FAILED; on failure xport_error() says why,
 * naming the node and address: "NODE2 (127.0.0.3:2222): connection refused".
 * SSH with a gate (xport_options.gate): the establishment first waits for
 * a slot, its connect timeout counted from when it has one; XPORT_STOPPED
 * when the gate's stop flag was set while waiting.
 */
enum xport_outcome xport_connect(struct xport *x) CCR_WUR;

/*
 * Connect, retrying XPORT_CONNECT_FAILED with backoff (200 ms doubling to
 * 5 s) until connected, budget_ms is spent or *stop is set (stop may be
 * NULL).  Host key and authentication failures return at once.  Returns
 * XPORT_OK, XPORT_STOPPED, or the last failure (xport_error() has its text).
 */
enum xport_outcome xport_connect_retry(struct xport *x, int64_t budget_ms,
				       volatile sig_atomic_t *stop) CCR_WUR;

/* Close the session (if any); the next call reconnects. */
void xport_disconnect(struct xport *x);

/*
 * Run cmd on the node, connecting first if needed (one attempt; use
 * xport_connect_retry() to wait for a node).  Output is captured into res
 * up to cap_bytes per stream and passed to on_output (may be NULL) as it
 * arrives, in slices of at most 100 ms, so *stop (may be NULL) and the
 * deadline (timeout_ms after the call; <= 0: none) are honoured promptly.
 *
 * Returns the outcome, also stored in res->outcome:
 *  XPORT_OK        the command exited; res->exit holds its status
 *  XPORT_SIGNALED  the command died by a signal; res->signal names it
 *  XPORT_TIMEOUT   deadline passed; a TERM signal request is sent and the
 *                  channel closed (the command may still be running)
 *  XPORT_STOPPED   *stop was set; handled like a timeout; or the guard
 *                  refused the command (it was not sent)
 *  XPORT_DROPPED   the connection broke, or the channel closed without an
 *                  exit status: whether the command ran is unknown.  The
 *                  session is discarded; the next call reconnects.
 *  XPORT_CONNECT_FAILED, XPORT_HOSTKEY, XPORT_AUTH_FAILED: as xport_connect().
 * A session reused after idling may turn out dead when the channel is
 * opened; then it reconnects once, since the command was not sent yet.
 * res must have been initialised; it is reset first.  xport_error() has
 * the text of any outcome other than XPORT_OK.
 */
enum xport_outcome xport_exec(struct xport *x, const char *cmd, int64_t timeout_ms,
			      size_t cap_bytes, xport_output_fn on_output, void *arg,
			      volatile sig_atomic_t *stop, struct xport_result *res);

void xport_result_init(struct xport_result *res);
void xport_result_release(struct xport_result *res);

/* The last error, or "" if none.  Borrowed until the next call on x. */
const char *xport_error(const struct xport *x);
/* Is a session currently established? */
int xport_is_connected(const struct xport *x);
/* How many sessions were established so far (to check reuse). */
unsigned xport_connect_count(const struct xport *x);
/*
 * SSH: how many commands ran on a channel opened ahead.  After each command
 * the next command's channel is opened without waiting for the node's
 * answer, so that round trip overlaps the caller's own work; a channel the
 * node refused or that died with the session is replaced the usual way.
 */
unsigned xport_channels_ahead(const struct xport *x);
/* The session's socket, for diagnostics (getsockopt), or -1; do not close it. */
int xport_socket(const struct xport *x);
/*
 * Wait up to ms for the node to close the open connection (a rebooting
 * node does, before anything else tells).  Returns 1 as soon as the peer
 * has closed it (or it failed), 0 when ms passed with it open or when
 * there is no connection to watch (then it simply sleeps ms).  Reads and
 * changes nothing: the next command finds the closed session and
 * reconnects as usual.
 */
int xport_wait_closed(const struct xport *x, int64_t ms);
/* The transport's name: "ssh" or "winrm". */
const char *xport_kind_name(enum xport_kind k);
/* The kind of x. */
enum xport_kind xport_kind(const struct xport *x);

#endif
