/*
 * sim_server.h — the I/O half of ccrsim: one thread, one libssh event loop
 * (ssh_event) that owns every listening socket, every SSH session, the
 * control socket and the world clock.  The world (sim.h) is pure and is only
 * ever called from this loop.
 *
 * Modules:
 *   sim_server.c     start-up, hosts (listeners, power, reboots), the loop, the clock
 *   sim_session.c    one SSH connection: auth, channel opens, closing, polling
 *   sim_channel.c    one session channel: pty/exec/shell, streaming the action
 *   sim_keys.c       host keys, the client key, authorized keys, known_hosts
 *   sim_inventory.c  the generated ccrup inventory
 *   sim_ctl.c        the control socket (server side) and `ccrsim ctl`
 *   sim_http*.c      HTTP (Outlook Web Access) on the HT/CAS hosts (sim_http.h)
 *   sim_winrm*.c     WinRM (WS-Management remote shell) on every host (sim_winrm.h)
 *
 * Calling sequence: sim_server_run(opts) does everything and returns the exit
 * status for main; the other functions here are internal to those modules.
 */
#ifndef CCR_SIM_SERVER_H
#define CCR_SIM_SERVER_H

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <poll.h>
#include <stdint.h>

#include "sim.h"

#define SIM_MAX_SLEEP_MS    1000 /* the loop wakes up at least this often */
#define SIM_CTL_MAX_CLIENTS 32	 /* control connections open at once */

/* Command-line options of `ccrsim` (sim_main.c); strings are borrowed from argv. */
struct sim_opts {
	const char *scenario;	     /* scenario YAML (required) */
	double time_scale;	     /* multiplies every scenario duration; 0 = instant */
	const char *control;	     /* control socket path, NULL = STATE/control.sock */
	const char *state_dir;	     /* keys, known_hosts, inventory, pid file */
	int fleet;		     /* > 0: serve that many copies of the scenario */
	const char *authorized_keys; /* NULL = STATE/authorized_keys (generated client key) */
	const char *inventory_out;   /* NULL = STATE/inventory.yml */
	int verbose;		     /* log connections and commands to stderr */
	int winrm;		     /* the generated inventory says transport: winrm */
};

/* Per-host I/O state, parallel to the world's host indices. */
struct sim_host_io {
	int fd;		/* listening socket, -1 while the host is down */
	int http_fd;	/* HTTP listening socket (HT/CAS only), -1 while down or none */
	ssh_bind bind;	/* carries the host key handed to each accepted session */
	ssh_key pubkey; /* public half of the current key (known_hosts at start) */
	int up;		/* power last seen: 1 up, 0 down */
	int epoch;	/* boot epoch last seen */
};

struct sim_conn;
struct sim_ctl;
struct sim_winrm;

struct sim_lsnset;

struct sim_server {
	const struct sim_opts *opts; /* options, borrowed */
	struct sim_world *world;     /* the world model, owned */
	ssh_event event;	     /* every fd and session of the process */
	struct sim_host_io *hosts;   /* [nhosts] */
	struct sim_lsnset *ssh_lsn;  /* every open SSH listener, tagged with its host index */
	struct sim_lsnset *http_lsn; /* every open HTTP listener (HT/CAS hosts), the same */
	int nhosts;		     /* sim_world_nhosts() */
	ssh_key *auth_keys;	     /* accepted client public keys, owned */
	int nauth_keys;		     /* entries in auth_keys */
	struct sim_conn *conns;	     /* live connections, doubly linked */
	int nconns;		     /* entries in conns */
	int64_t conns_total;	     /* connections accepted since start */
	int running;		     /* commands started and not finished */
	int64_t t0;		     /* CLOCK_MONOTONIC ms at start */
	int64_t paused_at;	     /* world time when paused, or -1 */
	int64_t paused_real;	     /* CLOCK_MONOTONIC ms when paused */
	int64_t paused_ms;	     /* total real ms spent paused */
	int dirty;		     /* the world may have changed: sweep hosts */
	int64_t last_sweep;	     /* world ms of the last host sweep */
	int sigpipe[2];		     /* self-pipe: signal handler -> loop */
	struct sim_ctl *ctl;	     /* control socket */
	struct sim_http *http;	     /* HTTP connections of the HT/CAS hosts */
	struct sim_winrm *winrm;     /* WinRM (WS-Management) of every host (sim_winrm.h) */
	char *control_path;	     /* socket path, owned */
	char *pid_path;		     /* STATE/ccrsim.pid, owned */
	ssh_key shared_key[2]; /* ECDSA and RSA host keys every host offers (sim_keys_shared) */
	char *shared_pub[2];   /* their known_hosts halves */
};

/* sim_server.c */
int sim_server_run(const struct sim_opts *opts);
/* World clock: monotonic ms since start minus time spent paused. */
int64_t sim_server_now(const struct sim_server *srv);
void sim_server_pause(struct sim_server *srv);
void sim_server_resume(struct sim_server *srv);
/*
 * The drop fault's limit in bytes since the command started, for a stream
 * that has delivered `produced` bytes so far: -1 without one.  *base (-1 at
 * the start) keeps what had been delivered when the fault armed, since a
 * compound line's segment arms its fault when it starts (sim.h).
 */
int64_t sim_drop_limit(const struct sim_action *a, int64_t produced, int64_t *base);
/* With -v, log a compound line's segment lines ("ccrsim: HOST: [2] exec ..."). */
void sim_log_segments(struct sim_action *a, const char *host, int verbose);

/* sim_session.c */
/* Take over an accepted socket for host; closes fd on failure.  0 or -1. */
int sim_conn_accept(struct sim_server *srv, int host, int fd);
/* Start queued commands, stream due output, finish commands, free dead connections. */
void sim_conns_pump(struct sim_server *srv, int64_t now);
/* How long the loop may sleep for the connections' sake, in ms (0..SIM_MAX_SLEEP_MS). */
int sim_conns_timeout(const struct sim_server *srv, int64_t now, int paused);
/* Fill pfd/who with every connection's socket (at most max); returns the count. */
int sim_conns_pollfds(const struct sim_server *srv, struct pollfd *pfd, void **who, int max);
/* The connection's socket is ready: let libssh read, write and run our callbacks. */
void sim_conn_ready(struct sim_conn *c);
/* Close every connection of host (it went down or rebooted). */
void sim_conns_drop_host(struct sim_server *srv, int host);
/* Free every connection at once (shutdown); running commands are aborted. */
void sim_conns_free_all(struct sim_server *srv, int64_t now);

/* sim_keys.c */
/* Load STATE/hostkeys/NAME.key, or generate and store it.  0 or -1 with err. */
int sim_keys_host(const char *state_dir, const char *name, ssh_key *key, char *err, size_t errlen);
/* Host keys generated at start-up, written but not yet durable (see sim_keys.c). */
struct sim_keys_batch {
	char **tmp;  /* staged temp files, NULL once renamed */
	char **path; /* their final names */
	int n;	     /* count */
};
/* As sim_keys_host, but a new key is only staged in b: usable now, on disk after commit. */
int sim_keys_host_staged(const char *state_dir, const char *name, ssh_key *key,
			 struct sim_keys_batch *b, char *err, size_t errlen);
/* Make every staged key durable: one syncfs, the renames, one directory fsync.  0 or -1. */
int sim_keys_batch_commit(struct sim_keys_batch *b, const char *state_dir, char *err,
			  size_t errlen);
/* Free b; staged keys not committed are removed. */
void sim_keys_batch_release(struct sim_keys_batch *b);
/* A fresh ed25519 key, never stored (the new-hostkey fault).  NULL on failure. */
ssh_key sim_keys_generate(void);
/* A fresh key of type (bits for RSA/ECDSA), never stored.  NULL on failure. */
ssh_key sim_keys_generate_type(enum ssh_keytypes_e type, int bits);
/*
 * The host keys every host offers besides its own ed25519 key, as a default
 * sshd does: which 0 = ECDSA P-256 (STATE/hostkeys/_ecdsa.key), 1 = RSA 3072
 * (_rsa.key), loaded or generated and stored.  *key (the private key, decoded
 * once: hosts take ssh_key_dup() copies; ssh_key_free()) and *publine
 * ("ecdsa-sha2-nistp256 AAAA...", free()).  0 or -1 with err.
 */
int sim_keys_shared(const char *state_dir, int which, ssh_key *key, char **publine, char *err,
		    size_t errlen);
/*
 * The client side: without authorized_keys, make STATE/client_ed25519 (+.pub)
 * if absent and STATE/authorized_keys from it; then load the authorized keys
 * file into *keys (caller frees each with ssh_key_free, then the array).
 */
int sim_keys_clients(const char *state_dir, const char *authorized_keys, ssh_key **keys, int *nkeys,
		     char *err, size_t errlen);
/* Write STATE/known_hosts for every host, atomically.  0 or -1 with err. */
int sim_keys_known_hosts(const struct sim_server *srv, const char *path, char *err, size_t errlen);

/* sim_inventory.c */
/* Write the ccrup inventory for the world to path, atomically.  0 or -1 with err. */
int sim_inventory_write(const struct sim_server *srv, const char *path, char *err, size_t errlen);

/* sim_ctl.c */
/* Listen on path (mode 0600; a stale socket is replaced).  NULL with err. */
struct sim_ctl *sim_ctl_open(struct sim_server *srv, const char *path, char *err, size_t errlen);
/* Answer waiting wait-idle requests that are now satisfied; drop closed clients. */
void sim_ctl_pump(struct sim_ctl *ctl, int64_t now);
/* Fill pfd/who with the listening socket and the clients (at most max); returns the count. */
int sim_ctl_pollfds(struct sim_ctl *ctl, struct pollfd *pfd, void **who, int max);
/* pfd entry who (from sim_ctl_pollfds) is ready: accept, or read and answer requests. */
void sim_ctl_ready(struct sim_ctl *ctl, void *who, short revents);
/* 1 if a wait-idle request is waiting (the loop then wakes up at least every 50 ms). */
int sim_ctl_waiting(const struct sim_ctl *ctl);
/* Close every client and the socket, unlink it.  NULL is a no-op. */
void sim_ctl_free(struct sim_ctl *ctl);
/* `ccrsim ctl ...`: argv[0] is "ctl".  Returns the process exit status. */
int sim_ctl_client_main(int argc, char **argv);

#endif
