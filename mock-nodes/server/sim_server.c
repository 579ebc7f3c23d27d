/*
 * sim_server.c — ccrsim's process: load the world, give every host its key
 * and its listening socket, write the files clients need, then run one
 * single-threaded loop until SIGTERM/SIGINT:
 *
 *   now = world clock (monotonic ms since start, minus time paused)
 *   sim_world_tick(now); sweep hosts (reboots: close listeners and sessions,
 *   reopen, new host keys); pump connections (commands, output); pump the
 *   control socket; ppoll() every socket until the next due time (<= 1 s), to
 *   the microsecond
 *
 * A host that is down has no listening socket, so clients get "connection
 * refused" exactly while the world says it is rebooting.  Why one thread:
 * the world is not thread-safe, and a loop makes time, reboots and faults
 * deterministic with no locking; libssh's non-blocking server API carries a
 * few hundred sessions in one thread easily (docs/ccrsim.md, Architecture).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim_http.h"
#include "sim_lsnset.h"
#include "sim_server.h"
#include "sim_winrm.h"

#define SIM_ACCEPT_BATCH   64  /* connections accepted per listener readiness */
#define SIM_SWEEP_MS	   100 /* hosts are re-checked at least this often (world ms) */
#define SIM_LISTEN_BACKLOG 511

static volatile sig_atomic_t sim_stop;	     /* set by SIGTERM/SIGINT */
static volatile sig_atomic_t sim_sigfd = -1; /* write end of the self-pipe */

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	sim_stop = 1;
	if (sim_sigfd >= 0 && write(sim_sigfd, "x", 1) < 0) {
		/* the pipe is full: the loop is about to wake up anyway */
	}
	errno = saved;
}

/* ---- what the SSH channel and the WinRM shell share ---- */

int64_t sim_drop_limit(const struct sim_action *a, int64_t produced, int64_t *base)
{
	int64_t limit = sim_action_drop_after(a);

	if (limit < 0)
		return -1;
	if (*base < 0)
		*base = produced;
	return *base + limit;
}

void sim_log_segments(struct sim_action *a, const char *host, int verbose)
{
	struct sbuf log;

	sbuf_init(&log);
	sim_action_take_log(a, &log);
	for (char *p = log.buf, *nl; verbose && p != NULL && (nl = strchr(p, '\n')) != NULL;
	     p = nl + 1)
		fprintf(stderr, "ccrsim: %s: %.*s\n", host, (int)(nl - p), p);
	sbuf_release(&log);
}

/* ---- clock ---- */

int64_t sim_server_now(const struct sim_server *srv)
{
	if (srv->paused_at >= 0)
		return srv->paused_at;
	return now_mono_ms() - srv->t0 - srv->paused_ms;
}

void sim_server_pause(struct sim_server *srv)
{
	if (srv->paused_at >= 0)
		return;
	srv->paused_at = sim_server_now(srv);
	srv->paused_real = now_mono_ms();
}

void sim_server_resume(struct sim_server *srv)
{
	if (srv->paused_at < 0)
		return;
	srv->paused_ms += now_mono_ms() - srv->paused_real;
	srv->paused_at = -1;
	srv->dirty = 1;
}

/* ---- listeners ---- */

/* A non-blocking listening socket on addr:port (loopback only).  fd or -1 with err. */
static int listen_on(const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1;
	int fd = -1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127 || port <= 0 || port > 65535) {
		snprintf(err, errlen, "%s:%d: not a loopback IPv4 address and port", addr, port);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, SIM_LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "%s:%d: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void host_unlisten(struct sim_server *srv, int i);

/* The host's SSH listener and, on an HT/CAS, its HTTP listener: both or neither. */
static int host_listen(struct sim_server *srv, int i, char *err, size_t errlen)
{
	struct sim_host_io *h = &srv->hosts[i];
	const char *addr = sim_host_addr(srv->world, i);
	int http = sim_host_http_port(srv->world, i);
	char why[256];

	h->fd = listen_on(addr, sim_host_port(srv->world, i), err, errlen);
	if (h->fd >= 0 && sim_lsnset_add(srv->ssh_lsn, h->fd, (uint64_t)i) != 0) {
		snprintf(err, errlen, "SSH listener: epoll: %s", strerror(errno));
		close(h->fd);
		h->fd = -1;
	}
	if (h->fd < 0 || http <= 0)
		return h->fd < 0 ? -1 : 0;
	h->http_fd = listen_on(addr, http, why, sizeof(why));
	if (h->http_fd >= 0 && sim_lsnset_add(srv->http_lsn, h->http_fd, (uint64_t)i) != 0) {
		snprintf(why, sizeof(why), "epoll: %s", strerror(errno));
		close(h->http_fd);
		h->http_fd = -1;
	}
	if (h->http_fd < 0) {
		snprintf(err, errlen, "HTTP %s", why);
		host_unlisten(srv, i);
		return -1;
	}
	return 0;
}

static void host_unlisten(struct sim_server *srv, int i)
{
	struct sim_host_io *h = &srv->hosts[i];

	if (h->fd >= 0) {
		sim_lsnset_del(srv->ssh_lsn, h->fd);
		close(h->fd);
	}
	if (h->http_fd >= 0) {
		sim_lsnset_del(srv->http_lsn, h->http_fd);
		close(h->http_fd);
	}
	h->fd = -1;
	h->http_fd = -1;
}

/* Accept what is pending on host i's listener, TCP_NODELAY on each. */
static void host_accept(struct sim_server *srv, int i)
{
	for (int k = 0; k < SIM_ACCEPT_BATCH && srv->hosts[i].fd >= 0; k++) {
		int one = 1;
		int fd = accept4(srv->hosts[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or a client that gave up: nothing to do */
		/* Without it every small write waits for the peer's delayed ACK (~40 ms). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (sim_conn_accept(srv, i, fd) != 0 && srv->opts->verbose)
			fprintf(stderr, "ccrsim: %s: SSH session setup failed\n",
				sim_host_name(srv->world, i));
	}
}

/* ---- hosts: keys and power ---- */

/* Give host i this private key (the bind takes it; the public half goes to known_hosts). */
static int host_set_key(struct sim_server *srv, int i, ssh_key key)
{
	struct sim_host_io *h = &srv->hosts[i];
	ssh_key pub = NULL;

	if (ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
	    ssh_bind_options_set(h->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		ssh_key_free(pub);
		ssh_key_free(key);
		return -1;
	}
	ssh_key_free(h->pubkey);
	h->pubkey = pub;
	return 0;
}

/*
 * Give host i the shared ECDSA and RSA keys: a copy of each for its bind, which
 * frees what it is given.  ssh_key_dup() shares the decoded key (a reference),
 * where decoding it again cost ~0.7 ms per key and host (most of a 10,000-host
 * start).
 */
static int host_shared_keys(struct sim_server *srv, int i)
{
	for (int k = 0; k < 2; k++) {
		ssh_key key = ssh_key_dup(srv->shared_key[k]);

		if (key == NULL ||
		    ssh_bind_options_set(srv->hosts[i].bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) !=
			SSH_OK) {
			ssh_key_free(key);
			return -1;
		}
	}
	return 0;
}

/*
 * The host came back up: new keys if the world says so — ed25519, ECDSA and
 * RSA all fresh, whichever a client prefers it sees the change (known_hosts
 * stays as it was).
 */
static void host_boot(struct sim_server *srv, int i)
{
	ssh_key key, ecdsa, rsa;
	int bad;

	if (!sim_host_take_new_key(srv->world, i))
		return;
	key = sim_keys_generate();
	ecdsa = sim_keys_generate_type(SSH_KEYTYPE_ECDSA_P256, 256);
	rsa = sim_keys_generate_type(SSH_KEYTYPE_RSA, 2048);
	bad = key == NULL || host_set_key(srv, i, key) != 0;
	if (ecdsa == NULL || ssh_bind_options_set(srv->hosts[i].bind, SSH_BIND_OPTIONS_IMPORT_KEY,
						  ecdsa) != SSH_OK) {
		ssh_key_free(ecdsa);
		bad = 1;
	}
	if (rsa == NULL ||
	    ssh_bind_options_set(srv->hosts[i].bind, SSH_BIND_OPTIONS_IMPORT_KEY, rsa) != SSH_OK) {
		ssh_key_free(rsa);
		bad = 1;
	}
	if (bad)
		fprintf(stderr, "ccrsim: %s: cannot make a new host key\n",
			sim_host_name(srv->world, i));
}

static void host_sweep(struct sim_server *srv, int i, int64_t now)
{
	struct sim_host_io *h = &srv->hosts[i];
	int up = sim_host_power(srv->world, i, now) == SIM_UP;
	int epoch = sim_host_boot_epoch(srv->world, i);
	char err[256];

	if (epoch != h->epoch || (h->up && !up)) {
		sim_conns_drop_host(srv, i);
		sim_http_drop_host(srv->http, i);
	}
	if (h->up && !up)
		host_unlisten(srv, i);
	if (up && (!h->up || epoch != h->epoch))
		host_boot(srv, i);
	h->epoch = epoch;
	if (up && h->fd < 0 && host_listen(srv, i, err, sizeof(err)) != 0) {
		fprintf(stderr, "ccrsim: %s: %s (will retry)\n", sim_host_name(srv->world, i), err);
		return; /* stays "down" for us, so the next sweep tries again */
	}
	h->up = up;
}

static void hosts_sweep(struct sim_server *srv, int64_t now)
{
	for (int i = 0; i < srv->nhosts; i++)
		host_sweep(srv, i, now);
	srv->dirty = 0;
	srv->last_sweep = now;
}

/*
 * Enough descriptors for every listener (SSH, HTTP, two WinRM per host) and
 * the sessions: the soft limit up to the hard one, and the hard one up to
 * that when allowed (root).
 */
static void raise_nofile(int nhosts)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)nhosts * 4 + 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit up = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Keys, binds and listeners for every host at start-up. */
static int hosts_open(struct sim_server *srv, char *err, size_t errlen)
{
	bool no_config = false;
	struct sim_keys_batch batch = {0};
	int rc = -1;

	for (int k = 0; k < 2; k++)
		if (sim_keys_shared(srv->opts->state_dir, k, &srv->shared_key[k],
				    &srv->shared_pub[k], err, errlen) != 0)
			return -1;
	srv->nhosts = sim_world_nhosts(srv->world);
	raise_nofile(srv->nhosts);
	srv->ssh_lsn = sim_lsnset_new();
	srv->http_lsn = sim_lsnset_new();
	if (srv->ssh_lsn == NULL || srv->http_lsn == NULL) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	srv->hosts = xcalloc((size_t)srv->nhosts, sizeof(*srv->hosts));
	for (int i = 0; i < srv->nhosts; i++)
		srv->hosts[i].fd = srv->hosts[i].http_fd = -1;
	for (int i = 0; i < srv->nhosts; i++) {
		struct sim_host_io *h = &srv->hosts[i];
		ssh_key key = NULL;

		h->bind = ssh_bind_new();
		if (h->bind == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		ssh_bind_options_set(h->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no_config);
		if (sim_keys_host_staged(srv->opts->state_dir, sim_host_name(srv->world, i), &key,
					 &batch, err, errlen) != 0)
			goto out;
		if (host_set_key(srv, i, key) != 0 || host_shared_keys(srv, i) != 0) {
			snprintf(err, errlen, "%s: cannot use its host key",
				 sim_host_name(srv->world, i));
			goto out;
		}
		h->epoch = sim_host_boot_epoch(srv->world, i);
		h->up = sim_host_power(srv->world, i, 0) == SIM_UP;
		if (h->up && host_listen(srv, i, err, errlen) != 0)
			goto out;
	}
	rc = sim_keys_batch_commit(&batch, srv->opts->state_dir, err, errlen);
out:
	sim_keys_batch_release(&batch);
	return rc;
}

static void hosts_close(struct sim_server *srv)
{
	for (int i = 0; srv->hosts != NULL && i < srv->nhosts; i++) {
		host_unlisten(srv, i);
		ssh_bind_free(srv->hosts[i].bind);
		ssh_key_free(srv->hosts[i].pubkey);
	}
	free(srv->hosts);
	srv->hosts = NULL;
	sim_lsnset_free(srv->ssh_lsn);
	sim_lsnset_free(srv->http_lsn);
	srv->ssh_lsn = srv->http_lsn = NULL;
	for (int k = 0; k < 2; k++) {
		ssh_key_free(srv->shared_key[k]);
		free(srv->shared_pub[k]);
		srv->shared_key[k] = NULL;
		srv->shared_pub[k] = NULL;
	}
}

/* ---- the loop ---- */

enum {
	SIM_PK_SIG,
	SIM_PK_CTL,
	SIM_PK_HOST,
	SIM_PK_CONN,
	SIM_PK_HTTP_HOST,
	SIM_PK_HTTP,
	SIM_PK_WINRM
};

/* The pollfd array of one loop iteration and what each entry stands for. */
struct sim_pollset {
	struct pollfd *pfd; /* [cap] */
	void **who;	    /* [cap] connection or control client */
	int *kind;	    /* [cap] SIM_PK_* */

	int n;	 /* entries used */
	int cap; /* entries allocated */
};

static void pollset_reserve(struct sim_pollset *ps, int cap)
{
	if (cap <= ps->cap)
		return;
	ps->pfd = xreallocarray(ps->pfd, (size_t)cap, sizeof(*ps->pfd));
	ps->who = xreallocarray(ps->who, (size_t)cap, sizeof(*ps->who));
	ps->kind = xreallocarray(ps->kind, (size_t)cap, sizeof(*ps->kind));
	ps->cap = cap;
}

static void pollset_release(struct sim_pollset *ps)
{
	free(ps->pfd);
	free(ps->who);
	free(ps->kind);
}

/* Mark entries [from, ps->n) as kind. */
static void pollset_mark(struct sim_pollset *ps, int from, int kind)
{
	for (int i = from; i < ps->n; i++)
		ps->kind[i] = kind;
}

static void pollset_build(struct sim_server *srv, struct sim_pollset *ps)
{
	int from, http_full = sim_http_full(srv->http);

	pollset_reserve(ps, 3 + SIM_CTL_MAX_CLIENTS + srv->nconns + sim_http_nconns(srv->http) +
				sim_winrm_npoll(srv->winrm));
	ps->pfd[0] = (struct pollfd){.fd = srv->sigpipe[0], .events = POLLIN};
	ps->kind[0] = SIM_PK_SIG;
	ps->n = 1;
	from = ps->n;
	ps->n += sim_ctl_pollfds(srv->ctl, ps->pfd + ps->n, ps->who + ps->n, ps->cap - ps->n);
	pollset_mark(ps, from, SIM_PK_CTL);
	/* The listeners, however many, are two entries (sim_lsnset.h). */
	ps->pfd[ps->n] = (struct pollfd){.fd = sim_lsnset_fd(srv->ssh_lsn), .events = POLLIN};
	ps->kind[ps->n++] = SIM_PK_HOST;
	if (!http_full) {
		ps->pfd[ps->n] =
		    (struct pollfd){.fd = sim_lsnset_fd(srv->http_lsn), .events = POLLIN};
		ps->kind[ps->n++] = SIM_PK_HTTP_HOST;
	}
	from = ps->n;
	ps->n += sim_conns_pollfds(srv, ps->pfd + ps->n, ps->who + ps->n, ps->cap - ps->n);
	pollset_mark(ps, from, SIM_PK_CONN);
	from = ps->n;
	ps->n += sim_http_pollfds(srv->http, ps->pfd + ps->n, ps->who + ps->n, ps->cap - ps->n);
	pollset_mark(ps, from, SIM_PK_HTTP);
	from = ps->n;
	ps->n += sim_winrm_pollfds(srv->winrm, ps->pfd + ps->n, ps->who + ps->n, ps->cap - ps->n);
	pollset_mark(ps, from, SIM_PK_WINRM);
}

/* Accept on every SSH listener with a connection waiting. */
static void listeners_accept(struct sim_server *srv)
{
	uint64_t tags[64];
	int n = sim_lsnset_ready(srv->ssh_lsn, tags, 64);

	for (int k = 0; k < n; k++)
		host_accept(srv, (int)tags[k]);
}

/* The same for HTTP, while there is room for another connection. */
static void http_listeners_accept(struct sim_server *srv)
{
	uint64_t tags[64];
	int n = sim_lsnset_ready(srv->http_lsn, tags, 64);

	for (int k = 0; k < n && !sim_http_full(srv->http); k++)
		sim_http_accept(srv->http, (int)tags[k], srv->hosts[tags[k]].http_fd);
}

static void pollset_dispatch(struct sim_server *srv, struct sim_pollset *ps)
{
	char drain[64];

	for (int i = 0; i < ps->n; i++) {
		if (ps->pfd[i].revents == 0)
			continue;
		switch (ps->kind[i]) {
		case SIM_PK_SIG:
			while (read(srv->sigpipe[0], drain, sizeof(drain)) > 0)
				;
			break;
		case SIM_PK_CTL:
			sim_ctl_ready(srv->ctl, ps->who[i], ps->pfd[i].revents);
			break;
		case SIM_PK_HOST:
			listeners_accept(srv);
			break;
		case SIM_PK_HTTP_HOST:
			http_listeners_accept(srv);
			break;
		case SIM_PK_HTTP:
			sim_http_ready(srv->http, ps->who[i], ps->pfd[i].revents);
			break;
		case SIM_PK_WINRM:
			sim_winrm_ready(srv->winrm, ps->who[i], ps->pfd[i].revents);
			break;
		default:
			sim_conn_ready(ps->who[i]);
			break;
		}
	}
}

/* How long poll() may sleep: until the next command output or world event, <= 1 s. */
static int loop_timeout(struct sim_server *srv, int64_t now)
{
	int paused = srv->paused_at >= 0;
	int t = sim_conns_timeout(srv, now, paused);
	int64_t ev = paused ? INT64_MAX : sim_world_next_event(srv->world);

	if (srv->dirty)
		return 0;
	if (ev != INT64_MAX && ev - now < t)
		t = ev - now < 0 ? 0 : (int)(ev - now);
	if (sim_ctl_waiting(srv->ctl) && t > 50)
		t = 50;
	if (sim_http_timeout(srv->http) < t)
		t = sim_http_timeout(srv->http);
	if (sim_winrm_timeout(srv->winrm, now) < t)
		t = sim_winrm_timeout(srv->winrm, now);
	return t;
}

/*
 * poll() until the server's clock reaches now + ms, to the microsecond:
 * the clock counts whole milliseconds, so waiting ms from a "now" read
 * part-way through a millisecond wakes up to 1 ms after what was due (a
 * command's simulated duration, the end of a reboot).  ppoll wakes at
 * the start of the due millisecond instead.
 */
static int loop_wait(struct sim_server *srv, struct sim_pollset *ps, int64_t now, int ms)
{
	struct timespec ts, *tp = NULL;

	if (ms >= 0) {
		struct timespec mono;
		clock_gettime(CLOCK_MONOTONIC, &mono);
		int64_t due_us = (now + ms + srv->t0 + srv->paused_ms) * 1000;
		int64_t left = due_us - ((int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000);
		if (srv->paused_at >= 0) /* the clock stands still: wait real time */
			left = (int64_t)ms * 1000;
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)(left / 1000000);
		ts.tv_nsec = (long)(left % 1000000) * 1000;
		tp = &ts;
	}
	return ppoll(ps->pfd, (nfds_t)ps->n, tp, NULL);
}

static void loop_run(struct sim_server *srv)
{
	struct sim_pollset ps = {0};

	while (!sim_stop) {
		int64_t now = sim_server_now(srv);

		if (srv->paused_at < 0 && sim_world_next_event(srv->world) <= now)
			srv->dirty = 1;
		sim_world_tick(srv->world, now);
		if (srv->dirty || now - srv->last_sweep >= SIM_SWEEP_MS)
			hosts_sweep(srv, now);
		sim_conns_pump(srv, now);
		sim_ctl_pump(srv->ctl, now);
		sim_http_pump(srv->http);
		sim_winrm_pump(srv->winrm, now);
		pollset_build(srv, &ps);
		if (loop_wait(srv, &ps, now, loop_timeout(srv, now)) > 0)
			pollset_dispatch(srv, &ps);
	}
	pollset_release(&ps);
}

/* ---- start-up and shut-down ---- */

static int signals_install(struct sim_server *srv)
{
	struct sigaction sa = {.sa_handler = on_signal};

	if (pipe2(srv->sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	sim_sigfd = srv->sigpipe[1];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static struct sim_world *world_load(const struct sim_opts *o, char *err, size_t errlen)
{
	if (o->fleet > 0)
		return sim_world_fleet(o->scenario, o->fleet, o->time_scale, err, errlen);
	return sim_world_load(o->scenario, o->time_scale, err, errlen);
}

/* known_hosts, inventory, control socket, pid file: everything a client needs. */
static int files_write(struct sim_server *srv, char *err, size_t errlen)
{
	const struct sim_opts *o = srv->opts;
	char *known = xasprintf("%s/known_hosts", o->state_dir);
	char *inv = o->inventory_out != NULL ? xstrdup(o->inventory_out)
					     : xasprintf("%s/inventory.yml", o->state_dir);
	char *pid = xasprintf("%d\n", (int)getpid());
	int rc = -1;

	if (sim_keys_known_hosts(srv, known, err, errlen) != 0 ||
	    sim_inventory_write(srv, inv, err, errlen) != 0)
		goto out;
	srv->ctl = sim_ctl_open(srv, srv->control_path, err, errlen);
	if (srv->ctl == NULL)
		goto out;
	if (write_file_atomic(srv->pid_path, pid, strlen(pid), 0644) != 0) {
		snprintf(err, errlen, "%s: %s", srv->pid_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(pid);
	free(inv);
	free(known);
	return rc;
}

/* Everything before the loop.  Returns 0, or the exit status with err set. */
static int server_start(struct sim_server *srv, char *err, size_t errlen)
{
	const struct sim_opts *o = srv->opts;

	if (mkdir_p(o->state_dir, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", o->state_dir, strerror(errno));
		return 1;
	}
	unlink(srv->pid_path); /* a stale one must not look like readiness */
	srv->world = world_load(o, err, errlen);
	if (srv->world == NULL)
		return 2;
	if (sim_keys_clients(o->state_dir, o->authorized_keys, &srv->auth_keys, &srv->nauth_keys,
			     err, errlen) != 0)
		return o->authorized_keys != NULL ? 2 : 1;
	if (signals_install(srv) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return 1;
	}
	srv->http = sim_http_new(srv);
	if (hosts_open(srv, err, errlen) != 0)
		return 1;
	srv->winrm = sim_winrm_new(srv, err, errlen);
	if (srv->winrm == NULL || files_write(srv, err, errlen) != 0)
		return 1;
	return 0;
}

static void server_stop(struct sim_server *srv)
{
	int64_t now = srv->world != NULL ? sim_server_now(srv) : 0;

	sim_conns_free_all(srv, now);
	sim_winrm_free(srv->winrm, now);
	sim_ctl_free(srv->ctl);
	sim_http_free(srv->http);
	hosts_close(srv);
	sim_world_free(srv->world);
	for (int i = 0; i < srv->nauth_keys; i++)
		ssh_key_free(srv->auth_keys[i]);
	free(srv->auth_keys);
	if (srv->sigpipe[0] >= 0) {
		sim_sigfd = -1;
		close(srv->sigpipe[0]);
		close(srv->sigpipe[1]);
	}
	unlink(srv->pid_path);
	free(srv->pid_path);
	free(srv->control_path);
}

int sim_server_run(const struct sim_opts *opts)
{
	struct sim_server srv = {.opts = opts, .paused_at = -1, .sigpipe = {-1, -1}};
	char err[512] = "";
	int rc;

	ssh_init();
	srv.t0 = now_mono_ms();
	srv.pid_path = xasprintf("%s/ccrsim.pid", opts->state_dir);
	srv.control_path = opts->control != NULL ? xstrdup(opts->control)
						 : xasprintf("%s/control.sock", opts->state_dir);
	rc = server_start(&srv, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ccrsim: %s\n", err);
		goto out;
	}
	printf("ccrsim: %d hosts listening; control at %s\n", srv.nhosts, srv.control_path);
	fflush(stdout);
	loop_run(&srv);
	fprintf(stderr, "ccrsim: stopping (%lld connections served)\n", (long long)srv.conns_total);
out:
	server_stop(&srv);
	ssh_finalize();
	return rc;
}
