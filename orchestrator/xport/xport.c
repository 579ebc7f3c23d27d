/*
 * xport.c — see xport.h.  The libssh session is used in blocking mode, but
 * never blocks for long: every wait is a libssh call with an explicit
 * timeout of at most SLICE_MS, or one bounded by the session timeout, which
 * is kept at min(connect timeout, time left for the command).
 *
 * Two libssh 0.10 details shape this file:
 *  - ssh_channel_get_exit_status() waits with the *session* timeout and
 *    returns -1 both for "not yet" and for errors, so the exit status and
 *    exit signal arrive through channel callbacks, and waiting for them is
 *    done by calling it with the session timeout shortened to one slice.
 *  - ssh_session_get_known_hosts_entry() returns no entry for a CHANGED key,
 *    so the expected fingerprint is found by reading known_hosts ourselves
 *    with ssh_known_hosts_parse_line() (which handles hashed names).
 */
#include "xport_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "winrm_soap.h"

#define SLICE_MS	     100
#define BACKOFF_FIRST_MS     200
#define BACKOFF_MAX_MS	     5000
#define DEFAULT_CONNECT_MS   10000
#define DEFAULT_KEEPALIVE_MS 15000

/* Exit information delivered by the channel callbacks. */
struct exit_info {
	int status;   /* exit status, -1 until received */
	char *signal; /* exit signal name, NULL until received */
};

static const struct xport_ops ssh_ops;

void xport__seterr(struct xport *x, char *text)
{
	free(x->error);
	x->error = text;
}

/* Set the error as "LABEL: text". */
void xport__fail(struct xport *x, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	xport__seterr(x, xasprintf("%s: %s", x->label, text));
	free(text);
}

int xport_global_init(void)
{
	wsman_global_init();
	return ssh_init() == SSH_OK ? 0 : -1;
}

void xport_global_cleanup(void)
{
	ssh_finalize();
}

const char *xport_outcome_name(enum xport_outcome o)
{
	static const char *const names[] = {
	    "ok",      "signaled",	 "timeout",	     "dropped",
	    "stopped", "connect failed", "host key refused", "authentication failed"};

	return (unsigned)o < CCR_ARRAY_LEN(names) ? names[o] : "unknown";
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct xport *xport_new(const struct xport_options *opt)
{
	struct xport *x = xcalloc(1, sizeof(*x));
	size_t n = 0;

	x->ops = &ssh_ops;
	x->name = xstrdup(opt->name ? opt->name : "?");
	x->address = dup_or_null(opt->address);
	x->port = opt->port;
	x->user = dup_or_null(opt->user);
	x->known_hosts = dup_or_null(opt->known_hosts);
	x->ssh_config = dup_or_null(opt->ssh_config);
	x->trust_new = opt->trust_new_hosts;
	x->connect_timeout_ms =
	    opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : DEFAULT_CONNECT_MS;
	x->keepalive_ms = opt->keepalive_ms == 0 ? DEFAULT_KEEPALIVE_MS : opt->keepalive_ms;
	x->gate = opt->gate;
	x->known = opt->known;
	x->guard = opt->guard;
	x->guard_arg = opt->guard_arg;
	while (opt->identities != NULL && opt->identities[n] != NULL)
		n++;
	if (opt->identities != NULL) {
		x->identities = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			x->identities[i] = xstrdup(opt->identities[i]);
	}
	x->label = xasprintf("%s (%s:%d)", x->name, x->address ? x->address : x->name,
			     x->port > 0 ? x->port : 22);
	if (opt->ops != NULL) {
		x->ops = opt->ops;
		x->impl = opt->ops_arg;
	} else if (opt->kind == XPORT_KIND_WINRM) {
		xport__winrm_init(x, opt);
	}
	return x;
}

void xport_free(struct xport *x)
{
	if (x == NULL)
		return;
	xport_disconnect(x);
	if (x->ops->release != NULL)
		x->ops->release(x);
	for (size_t i = 0; x->identities != NULL && x->identities[i] != NULL; i++)
		free(x->identities[i]);
	free(x->identities);
	free(x->name);
	free(x->address);
	free(x->user);
	free(x->known_hosts);
	free(x->ssh_config);
	free(x->label);
	free(x->error);
	free(x);
}

void xport_disconnect(struct xport *x)
{
	x->ops->disconnect(x);
}

static void ssh_xp_disconnect(struct xport *x)
{
	if (x->session == NULL)
		return;
	if (x->spare != NULL) {
		ssh_channel_free(x->spare);
		x->spare = NULL;
	}
	ssh_disconnect(x->session);
	ssh_free(x->session);
	x->session = NULL;
}

/* Bound every blocking libssh call on s (connect, auth, channel requests). */
static void set_io_timeout(ssh_session s, int64_t ms)
{
	long sec = (long)(ms / 1000), usec = (long)(ms % 1000) * 1000;

	if (ms < 1)
		usec = 1000;
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

/* The host and port libssh will really use (after ssh_config).  Caller frees. */
char *xport__session_host(ssh_session s, unsigned *port)
{
	char *host = NULL, *out;

	*port = 22;
	(void)ssh_options_get_port(s, port);
	if (ssh_options_get(s, SSH_OPTIONS_HOST, &host) != SSH_OK)
		return xstrdup("?");
	out = xstrdup(host);
	ssh_string_free_char(host);
	return out;
}

/*
 * A new session with ssh_config applied first and the explicit options on
 * top, so the inventory wins.  StrictHostKeyChecking is forced on: with it
 * off (a "StrictHostKeyChecking no" in ~/.ssh/config), libssh would call an
 * unknown key known.
 */
static ssh_session session_setup(struct xport *x)
{
	ssh_session s = ssh_new();
	int one = 1;
	bool no = false;
	unsigned port;
	char *host;

	if (s == NULL) {
		fprintf(stderr, "ccrup: out of memory (ssh_new)\n");
		abort();
	}
	ssh_options_set(s, SSH_OPTIONS_HOST, x->address ? x->address : x->name);
	if ((x->ssh_config == NULL || strcmp(x->ssh_config, "none") != 0) &&
	    ssh_options_parse_config(s, x->ssh_config) < 0)
		xport__fail(x, "ssh config: %s", ssh_get_error(s));
	if (x->address != NULL)
		ssh_options_set(s, SSH_OPTIONS_HOST, x->address);
	if (x->port > 0)
		ssh_options_set(s, SSH_OPTIONS_PORT, &x->port);
	if (x->user != NULL)
		ssh_options_set(s, SSH_OPTIONS_USER, x->user);
	if (x->known_hosts != NULL)
		ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, x->known_hosts);
	ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &one);
	ssh_options_set(s, SSH_OPTIONS_NODELAY, &one);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	set_io_timeout(s, x->connect_timeout_ms);
	host = xport__session_host(s, &port);
	free(x->label);
	x->label = xasprintf("%s (%s:%u)", x->name, host, port);
	free(host);
	return s;
}

/* Try one identity file; 1 accepted, 0 not, -1 connection error.  Notes what happened. */
static int auth_identity(ssh_session s, const char *path, struct sbuf *tried)
{
	ssh_key key = NULL;
	const char *pass = getenv("CCRUP_KEY_PASSPHRASE");
	struct stat st;
	int rc;

	/* libssh would block reading a FIFO: only regular files are keys. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		sbuf_addf(tried, ", %s (not a regular file)", path);
		return 0;
	}
	if (ssh_pki_import_privkey_file(path, pass, NULL, NULL, &key) != SSH_OK) {
		sbuf_addf(tried, ", %s (cannot load: missing, unreadable or wrong passphrase)",
			  path);
		return 0;
	}
	rc = ssh_userauth_publickey(s, NULL, key);
	ssh_key_free(key);
	if (rc == SSH_AUTH_ERROR)
		return -1;
	if (rc != SSH_AUTH_SUCCESS)
		sbuf_addf(tried, ", %s (not accepted)", path);
	return rc == SSH_AUTH_SUCCESS;
}

/* ssh-agent, then the identities (or libssh's defaults).  0, or -1 with the error set. */
static enum xport_outcome authenticate(struct xport *x, ssh_session s)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	struct sbuf tried;
	char *user = NULL;
	int rc = 0;

	sbuf_init(&tried);
	if (sock != NULL && *sock != '\0') {
		rc = ssh_userauth_agent(s, NULL) == SSH_AUTH_SUCCESS;
		sbuf_adds(&tried, ", ssh-agent");
	}
	for (size_t i = 0; rc == 0 && x->identities && x->identities[i]; i++)
		rc = auth_identity(s, x->identities[i], &tried);
	if (rc == 0 && x->identities == NULL) {
		rc = ssh_userauth_publickey_auto(s, NULL, getenv("CCRUP_KEY_PASSPHRASE"));
		rc = rc == SSH_AUTH_ERROR ? -1 : rc == SSH_AUTH_SUCCESS;
		sbuf_adds(&tried, ", default identities");
	}
	if (rc < 0)
		xport__fail(x, "authentication: %s", ssh_get_error(s));
	if (rc == 0) {
		(void)ssh_options_get(s, SSH_OPTIONS_USER, &user);
		xport__fail(x, "authentication failed for user %s (tried%s)", user ? user : "?",
			    tried.len ? tried.buf + 1 : " nothing");
	}
	ssh_string_free_char(user);
	sbuf_release(&tried);
	return rc > 0 ? XPORT_OK : rc < 0 ? XPORT_CONNECT_FAILED : XPORT_AUTH_FAILED;
}

/* TCP_NODELAY (checked, set if libssh did not) and TCP keepalive. */
static void tune_socket(struct xport *x, ssh_session s)
{
	int fd = ssh_get_fd(s), on = 1, v = 0, cnt = 3;
	socklen_t len = sizeof(v);

	if (fd < 0)
		return;
	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) < 0 || v == 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (x->keepalive_ms <= 0)
		return;
	v = x->keepalive_ms / 1000 > 0 ? x->keepalive_ms / 1000 : 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* libssh says "Failed to connect: Connection refused"; we say "connection refused". */
static void connect_error(struct xport *x, ssh_session s)
{
	const char *e = ssh_get_error(s);
	const char *colon = strrchr(e, ':');
	char *text = xstrdup(colon && str_startswith(e, "Failed to connect") ? colon + 2 : e);

	if (text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a' && text[1] <= 'z')
		text[0] = (char)(text[0] - 'A' + 'a');
	xport__fail(x, "%s", text);
	free(text);
}

enum xport_outcome xport_connect(struct xport *x)
{
	return x->ops->connect(x);
}

static enum xport_outcome ssh_xp_connect(struct xport *x)
{
	enum xport_outcome o = XPORT_CONNECT_FAILED;
	ssh_session s;

	if (x->session != NULL && ssh_is_connected(x->session))
		return XPORT_OK;
	xport_disconnect(x);
	xport__seterr(x, NULL);
	/* The wait for a slot is not the node's: its timeout starts after it. */
	if (xport_gate_enter(x->gate) < 0) {
		xport__fail(x, "stopped while waiting to connect");
		return XPORT_STOPPED;
	}
	s = session_setup(x);
	if (x->error != NULL)
		goto out;
	if (ssh_connect(s) != SSH_OK) {
		connect_error(x, s);
		goto out;
	}
	o = XPORT_HOSTKEY;
	if (xport__verify_host(x, s) < 0)
		goto out;
	if ((o = authenticate(x, s)) != XPORT_OK)
		goto out;
	tune_socket(x, s);
	x->session = s;
	s = NULL;
	x->connects++;
out:
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	xport_gate_leave(x->gate);
	return o;
}

int xport__stopped(volatile sig_atomic_t *stop)
{
	return stop != NULL && *stop != 0;
}

void xport__sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

enum xport_outcome xport_connect_retry(struct xport *x, int64_t budget_ms,
				       volatile sig_atomic_t *stop)
{
	int64_t end = now_mono_ms() + budget_ms, delay = BACKOFF_FIRST_MS;
	enum xport_outcome o;

	for (;;) {
		if (xport__stopped(stop))
			return XPORT_STOPPED;
		o = xport_connect(x);
		if (o != XPORT_CONNECT_FAILED)
			return o;
		/* Sleep in slices so a stop request is seen; never past the budget. */
		for (int64_t t = now_mono_ms(), until = t + delay; t < until; t = now_mono_ms()) {
			if (t >= end || xport__stopped(stop))
				return xport__stopped(stop) ? XPORT_STOPPED : o;
			xport__sleep_ms(until - t < SLICE_MS ? until - t : SLICE_MS);
		}
		delay = delay * 2 < BACKOFF_MAX_MS ? delay * 2 : BACKOFF_MAX_MS;
	}
}

void xport_result_init(struct xport_result *res)
{
	memset(res, 0, sizeof(*res));
	res->exit = -1;
	sbuf_init(&res->out);
	sbuf_init(&res->err);
}

void xport_result_release(struct xport_result *res)
{
	sbuf_release(&res->out);
	sbuf_release(&res->err);
	free(res->signal);
	res->signal = NULL;
}

static void on_exit_status(ssh_session s, ssh_channel ch, int status, void *userdata)
{
	struct exit_info *ei = userdata;

	(void)s;
	(void)ch;
	ei->status = status;
}

static void on_exit_signal(ssh_session s, ssh_channel ch, const char *signal, int core,
			   const char *errmsg, const char *lang, void *userdata)
{
	struct exit_info *ei = userdata;

	(void)s, (void)ch, (void)core, (void)errmsg, (void)lang;
	free(ei->signal);
	ei->signal = xstrdup(signal ? signal : "?");
}

void xport__pump_take(struct xport_pump *p, int stream, const char *buf, size_t n)
{
	struct sbuf *sb = stream == 1 ? &p->res->out : &p->res->err;
	int *trunc = stream == 1 ? &p->res->out_truncated : &p->res->err_truncated;
	size_t room = sb->len < p->cap ? p->cap - sb->len : 0;

	if (p->fn != NULL)
		p->fn(stream, buf, n, p->arg);
	sbuf_add(sb, buf, n < room ? n : room);
	if (n > room)
		*trunc = 1;
}

/* Read everything buffered on both streams.  Bytes read, or -1 if the session broke. */
static int pump_drain(ssh_channel ch, struct xport_pump *p)
{
	char buf[16384];
	int total = 0;

	for (int is_err = 0; is_err <= 1; is_err++) {
		int n;
		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_err)) > 0) {
			xport__pump_take(p, is_err ? 2 : 1, buf, (size_t)n);
			total += n;
		}
		if (n == SSH_ERROR)
			return -1;
	}
	return total;
}

/*
 * Read output until both streams reached EOF and the exit status (or
 * signal) arrived — OpenSSH may send the status before the last output — or
 * the channel closed.
 */
static enum xport_outcome pump_run(struct xport *x, ssh_channel ch, struct xport_pump *p,
				   struct exit_info *ei, int64_t deadline,
				   volatile sig_atomic_t *stop)
{
	int64_t quiet_since = now_mono_ms();
	int n;

	for (;;) {
		int eof = ssh_channel_is_eof(ch);
		if ((eof && (ei->status >= 0 || ei->signal != NULL)) || ssh_channel_is_closed(ch))
			break;
		if (xport__stopped(stop))
			return XPORT_STOPPED;
		if (now_mono_ms() >= deadline)
			return XPORT_TIMEOUT;
		int64_t left = deadline - now_mono_ms();
		int slice = left < SLICE_MS ? (int)left : SLICE_MS;
		if (!eof) {
			if (ssh_channel_poll_timeout(ch, slice, 0) == SSH_ERROR)
				return XPORT_DROPPED;
		} else {
			/* Output is done; let libssh read packets for one slice. */
			set_io_timeout(x->session, slice);
			(void)ssh_channel_get_exit_status(ch);
		}
		if ((n = pump_drain(ch, p)) < 0 || !ssh_is_connected(x->session))
			return XPORT_DROPPED;
		if (n > 0) {
			quiet_since = now_mono_ms();
		} else if (x->keepalive_ms > 0 && now_mono_ms() - quiet_since >= x->keepalive_ms) {
			(void)ssh_send_ignore(x->session, "");
			quiet_since = now_mono_ms();
		}
	}
	if (pump_drain(ch, p) < 0)
		return XPORT_DROPPED;
	if (ei->signal != NULL)
		return XPORT_SIGNALED;
	return ei->status >= 0 ? XPORT_OK : XPORT_DROPPED;
}

/*
 * Open a session channel.  On a session that was already up before this
 * command, a failure may just mean it died while idle: reconnect once and
 * retry, which is safe because the command has not been sent.
 */
static ssh_channel open_channel(struct xport *x, int reused, enum xport_outcome *o)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		ssh_channel ch = ssh_channel_new(x->session);
		if (ch != NULL && ssh_channel_open_session(ch) == SSH_OK)
			return ch;
		xport__fail(x, "open channel: %s", ssh_get_error(x->session));
		ssh_channel_free(ch);
		xport_disconnect(x);
		*o = XPORT_CONNECT_FAILED;
		if (!reused || attempt > 0)
			break;
		if ((*o = xport_connect(x)) != XPORT_OK)
			break;
		*o = XPORT_CONNECT_FAILED;
	}
	return NULL;
}

/* Run cmd on the open channel ch and fill res. */
static enum xport_outcome exec_on(struct xport *x, ssh_channel ch, const char *cmd,
				  struct xport_pump *p, int64_t deadline,
				  volatile sig_atomic_t *stop)
{
	struct exit_info ei = {.status = -1, .signal = NULL};
	struct ssh_channel_callbacks_struct cb = {
	    .userdata = &ei,
	    .channel_exit_status_function = on_exit_status,
	    .channel_exit_signal_function = on_exit_signal,
	};
	enum xport_outcome o = XPORT_DROPPED;

	ssh_callbacks_init(&cb);
	ssh_set_channel_callbacks(ch, &cb);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		/* The request may have reached the node: the outcome is unknown. */
		xport__fail(x, "exec request failed: %s", ssh_get_error(x->session));
		goto out;
	}
	o = pump_run(x, ch, p, &ei, deadline, stop);
	if (o == XPORT_TIMEOUT || o == XPORT_STOPPED)
		(void)ssh_channel_request_send_signal(ch, "TERM");
	if (o == XPORT_OK)
		p->res->exit = ei.status;
	if (o == XPORT_SIGNALED)
		xport__fail(x, "command killed by signal %s", ei.signal);
	else if (o != XPORT_OK)
		xport__fail(x, "%s",
			    o == XPORT_TIMEOUT	 ? "command timed out"
			    : o == XPORT_STOPPED ? "command stopped on request"
						 : "connection lost during the command; "
						   "its outcome is unknown");
out:
	ssh_remove_channel_callbacks(ch, &cb);
	p->res->signal = ei.signal;
	return o;
}

/*
 * Open the next command's channel ahead, without waiting for the node's
 * answer: the open's round trip then overlaps whatever the caller does
 * before that command (journal writes, evaluating facts).  Not when the
 * node is closing the connection (a reboot), which the open would notice
 * first and report as a broken session.
 */
static void preopen_channel(struct xport *x)
{
	struct pollfd pfd = {.fd = ssh_get_fd(x->session), .events = POLLRDHUP};

	if (x->spare != NULL || pfd.fd < 0 || !ssh_is_connected(x->session) ||
	    (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0))
		return;
	ssh_channel ch = ssh_channel_new(x->session);
	if (ch == NULL)
		return;
	ssh_set_blocking(x->session, 0);
	int rc = ssh_channel_open_session(ch);
	ssh_set_blocking(x->session, 1);
	if (rc == SSH_OK || rc == SSH_AGAIN)
		x->spare = ch;
	else
		ssh_channel_free(ch);
}

/*
 * The channel opened ahead, once the node confirmed it; NULL when there is
 * none or the node refused it (the caller opens one the usual way).
 */
static ssh_channel take_spare(struct xport *x)
{
	ssh_channel ch = x->spare;

	x->spare = NULL;
	if (ch == NULL)
		return NULL;
	if (ssh_is_connected(x->session) && ssh_channel_open_session(ch) == SSH_OK &&
	    ssh_channel_is_open(ch)) {
		x->ahead++;
		return ch;
	}
	ssh_channel_free(ch);
	return NULL;
}

/* SSH: a channel per command on the node's one session. */
static enum xport_outcome ssh_xp_exec(struct xport *x, const char *cmd, struct xport_pump *p,
				      int64_t deadline, volatile sig_atomic_t *stop)
{
	int reused = x->session != NULL;
	enum xport_outcome o;
	ssh_channel ch = NULL;

	if ((o = xport_connect(x)) != XPORT_OK)
		return o;
	set_io_timeout(x->session, x->connect_timeout_ms);
	/* A session the spare's open found dead is replaced by open_channel's retry. */
	ch = take_spare(x);
	if (ch == NULL)
		ch = open_channel(x, reused, &o);
	if (ch == NULL)
		return o;
	set_io_timeout(x->session, deadline - now_mono_ms() < x->connect_timeout_ms
				       ? deadline - now_mono_ms()
				       : x->connect_timeout_ms);
	o = exec_on(x, ch, cmd, p, deadline, stop);
	if (o != XPORT_DROPPED)
		ssh_channel_close(ch);
	ssh_channel_free(ch);
	if (o == XPORT_DROPPED) {
		xport_disconnect(x);
	} else {
		set_io_timeout(x->session, x->connect_timeout_ms);
		preopen_channel(x);
	}
	return o;
}

enum xport_outcome xport_exec(struct xport *x, const char *cmd, int64_t timeout_ms,
			      size_t cap_bytes, xport_output_fn on_output, void *arg,
			      volatile sig_atomic_t *stop, struct xport_result *res)
{
	int64_t start = now_mono_ms();
	int64_t deadline = timeout_ms > 0 ? start + timeout_ms : INT64_MAX / 2;
	struct xport_pump p = {.res = res, .cap = cap_bytes, .fn = on_output, .arg = arg};
	enum xport_outcome o;

	xport_result_release(res);
	xport_result_init(res);
	xport__seterr(x, NULL);
	char why[512] = "";
	if (x->guard != NULL && !x->guard(x->guard_arg, why, sizeof(why))) {
		xport__fail(x, "%s", why);
		o = XPORT_STOPPED;
	} else {
		o = x->ops->exec(x, cmd, &p, deadline, stop);
	}
	res->outcome = o;
	res->duration_ms = now_mono_ms() - start;
	return o;
}

const char *xport_error(const struct xport *x)
{
	return x->error ? x->error : "";
}

int xport_is_connected(const struct xport *x)
{
	return x->ops->is_connected(x);
}

static int ssh_xp_is_connected(const struct xport *x)
{
	return x->session != NULL && ssh_is_connected(x->session);
}

unsigned xport_connect_count(const struct xport *x)
{
	return x->connects;
}

unsigned xport_channels_ahead(const struct xport *x)
{
	return x->ahead;
}

int xport_socket(const struct xport *x)
{
	return x->ops->socket(x);
}

int xport_wait_closed(const struct xport *x, int64_t ms)
{
	/* POLLRDHUP: the peer's FIN, not data, wakes us (a keepalive answer must not). */
	struct pollfd pfd = {.fd = xport_socket(x), .events = POLLRDHUP};
	int n;

	if (ms <= 0)
		return 0;
	if (pfd.fd < 0) {
		xport__sleep_ms(ms);
		return 0;
	}
	do
		n = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
	while (n < 0 && errno == EINTR);
	return n > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static int ssh_xp_socket(const struct xport *x)
{
	return x->session != NULL ? ssh_get_fd(x->session) : -1;
}

const char *xport_kind_name(enum xport_kind k)
{
	return k == XPORT_KIND_WINRM ? "winrm" : "ssh";
}

enum xport_kind xport_kind(const struct xport *x)
{
	return x->wr != NULL ? XPORT_KIND_WINRM : XPORT_KIND_SSH;
}

static const struct xport_ops ssh_ops = {
    .name = "ssh",
    .connect = ssh_xp_connect,
    .disconnect = ssh_xp_disconnect,
    .exec = ssh_xp_exec,
    .is_connected = ssh_xp_is_connected,
    .socket = ssh_xp_socket,
    .release = NULL,
};
