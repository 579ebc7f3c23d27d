/*
 * sim_session.c — one SSH connection to a simulated host, driven by the
 * server's loop.
 *
 * Each connection is a non-blocking libssh server session in its own
 * ssh_event.  The loop polls the session's fd itself and, when it is ready,
 * runs ssh_event_dopoll on that one event.  Why not one shared ssh_event:
 * libssh flushes output by polling the context the session lives in, and
 * when any other socket of that context reaches EOF the nested poll fails
 * and libssh marks the *flushing* session as broken.  With one context per
 * connection a client that hangs up can only end its own connection.
 *
 * libssh calls our callbacks (auth, channel open, pty, exec, close) from
 * inside ssh_event_dopoll and from inside its own flushes, so callbacks only
 * record what happened: they never free anything and never call the world.
 * sim_conns_pump() does the work afterwards: starts commands, polls their
 * actions, writes output within the peer's window, sends exit status, EOF
 * and close, and frees what is finished.
 *
 * With a PTY the output is what a terminal would deliver: LF becomes CRLF
 * and stderr is merged into stdout.  Without one, stdout and stderr are sent
 * as the command produced them.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libssh/callbacks.h>

#include "sim_server.h"

#define SIM_MAX_CHANNELS  64	/* channels one connection may have open at once */
#define SIM_AUTH_GRACE_MS 30000 /* real ms a connection has to authenticate */
#define SIM_DRAIN_MS	  500	/* real ms a closing connection may spend flushing */

/* One session channel: at most one command (exec) or a refused shell. */
struct sim_chan {
	struct sim_conn *conn;			/* owner */
	struct sim_chan *next;			/* next channel of conn */
	ssh_channel ch;				/* libssh channel, NULL once freed */
	struct ssh_channel_callbacks_struct cb; /* must outlive ch's use of it */
	int pty;				/* PTY requested: CRLF, stderr merged */
	int shell;				/* shell requested: answer with a notice */
	char *cmd;				/* exec command line not yet started, owned */
	struct sim_action *action;		/* running command, owned */
	struct sbuf out;			/* stdout to write (translated) */
	struct sbuf err;			/* stderr to write */
	char last_out;				/* last byte added to out (CRLF state) */
	int64_t produced;			/* bytes the action produced so far */
	int finished;				/* action done: exit_code is valid */
	int exit_code;				/* exit status to send */
	int drop;				/* drop-after reached: end the connection */
	int peer_closed;			/* client closed the channel */
	int done;				/* exit status, EOF and close sent */
};

/* One TCP connection. */
struct sim_conn {
	struct sim_server *srv;		       /* owner */
	struct sim_conn *prev, *next;	       /* srv->conns list */
	ssh_session session;		       /* libssh server session, owned */
	ssh_event event;		       /* this session's own poll context, owned */
	struct ssh_server_callbacks_struct cb; /* auth and channel-open callbacks */
	int host;			       /* world host index */
	int epoch;			       /* host boot epoch when accepted */
	int64_t born_ms;		       /* real ms when accepted (auth grace) */
	int authed;			       /* public-key auth succeeded */
	struct sim_chan *chans;		       /* open channels, newest first */
	int nchans;			       /* entries in chans */
	int64_t closing_ms;		       /* real ms when closing began, or 0 */
};

/* ---- callbacks: record only ---- */

static int cb_auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
			  char signature_state, void *userdata)
{
	struct sim_conn *c = userdata;

	(void)session;
	(void)user;
	if (signature_state == SSH_PUBLICKEY_STATE_WRONG)
		return SSH_AUTH_DENIED;
	for (int i = 0; i < c->srv->nauth_keys; i++) {
		if (ssh_key_cmp(c->srv->auth_keys[i], pubkey, SSH_KEY_CMP_PUBLIC) != 0)
			continue;
		if (signature_state == SSH_PUBLICKEY_STATE_VALID)
			c->authed = 1;
		return SSH_AUTH_SUCCESS;
	}
	return SSH_AUTH_DENIED;
}

static int cb_pty(ssh_session s, ssh_channel ch, const char *term, int w, int h, int pw, int ph,
		  void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch, (void)term, (void)w, (void)h, (void)pw, (void)ph;
	c->pty = 1;
	return 0;
}

static int cb_shell(ssh_session s, ssh_channel ch, void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch;
	if (c->cmd != NULL || c->action != NULL || c->shell)
		return -1;
	c->shell = 1;
	return 0;
}

static int cb_exec(ssh_session s, ssh_channel ch, const char *command, void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch;
	if (c->cmd != NULL || c->action != NULL || c->shell || c->conn->closing_ms != 0)
		return -1;
	c->cmd = xstrdup(command);
	return 0;
}

static int cb_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
		   void *userdata)
{
	(void)s, (void)ch, (void)data, (void)is_stderr, (void)userdata;
	return (int)len; /* commands read no input: discard it */
}

static void cb_close(ssh_session s, ssh_channel ch, void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch;
	c->peer_closed = 1;
}

static ssh_channel cb_channel_open(ssh_session session, void *userdata)
{
	struct sim_conn *c = userdata;
	struct sim_chan *ch;

	if (!c->authed || c->closing_ms != 0 || c->nchans >= SIM_MAX_CHANNELS)
		return NULL;
	ch = xcalloc(1, sizeof(*ch));
	ch->ch = ssh_channel_new(session);
	if (ch->ch == NULL) {
		free(ch);
		return NULL;
	}
	ch->conn = c;
	sbuf_init(&ch->out);
	sbuf_init(&ch->err);
	ssh_callbacks_init(&ch->cb);
	ch->cb.userdata = ch;
	ch->cb.channel_pty_request_function = cb_pty;
	ch->cb.channel_shell_request_function = cb_shell;
	ch->cb.channel_exec_request_function = cb_exec;
	ch->cb.channel_data_function = cb_data;
	ch->cb.channel_close_function = cb_close;
	ssh_set_channel_callbacks(ch->ch, &ch->cb);
	ch->next = c->chans;
	c->chans = ch;
	c->nchans++;
	return ch->ch;
}

/* ---- connection lifecycle ---- */

static void conn_log(const struct sim_conn *c, const char *fmt, ...) CCR_PRINTF(2, 3);
static void conn_log(const struct sim_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->srv->opts->verbose)
		return;
	fprintf(stderr, "ccrsim: %s: ", sim_host_name(c->srv->world, c->host));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int conn_setup(struct sim_conn *c, int fd)
{
	if (ssh_bind_accept_fd(c->srv->hosts[c->host].bind, c->session, fd) != SSH_OK)
		return -1;
	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.auth_pubkey_function = cb_auth_pubkey;
	c->cb.channel_open_request_session_function = cb_channel_open;
	ssh_set_server_callbacks(c->session, &c->cb);
	ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_set_blocking(c->session, 0);
	if (ssh_handle_key_exchange(c->session) == SSH_ERROR)
		return -1;
	return ssh_event_add_session(c->event, c->session) == SSH_OK ? 0 : -1;
}

int sim_conn_accept(struct sim_server *srv, int host, int fd)
{
	struct sim_conn *c = xcalloc(1, sizeof(*c));

	c->srv = srv;
	c->host = host;
	c->epoch = sim_host_boot_epoch(srv->world, host);
	c->born_ms = now_mono_ms();
	c->session = ssh_new();
	c->event = ssh_event_new();
	if (c->session == NULL || c->event == NULL || conn_setup(c, fd) != 0) {
		if (c->session == NULL || ssh_get_fd(c->session) != fd)
			close(fd);
		if (c->event != NULL)
			ssh_event_free(c->event);
		ssh_free(c->session);
		free(c);
		return -1;
	}
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	srv->conns_total++;
	srv->hosts[host].nconns++;
	return 0;
}

static void chan_release(struct sim_chan *ch, int64_t now)
{
	if (ch->action != NULL) {
		if (!ch->finished)
			sim_action_abort(ch->action, now);
		sim_action_free(ch->action);
		ch->conn->srv->running--;
	}
	free(ch->cmd);
	sbuf_release(&ch->out);
	sbuf_release(&ch->err);
	free(ch);
}

/* Free a channel that is done or that the client closed. */
static void chan_free(struct sim_chan *ch, int64_t now)
{
	struct sim_conn *c = ch->conn;
	struct sim_chan **pp = &c->chans;

	while (*pp != ch)
		pp = &(*pp)->next;
	*pp = ch->next;
	c->nchans--;
	ssh_remove_channel_callbacks(ch->ch, &ch->cb);
	ssh_channel_free(
	    ch->ch); /* sends CLOSE if still needed; libssh frees it after the peer's */
	chan_release(ch, now);
}

static void conn_free(struct sim_conn *c, int64_t now)
{
	struct sim_server *srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	srv->hosts[c->host].nconns--;
	ssh_silent_disconnect(c->session); /* frees every libssh channel */
	while (c->chans != NULL) {
		struct sim_chan *ch = c->chans;

		c->chans = ch->next;
		chan_release(ch, now);
	}
	ssh_event_remove_session(c->event, c->session);
	ssh_event_free(c->event);
	ssh_free(c->session);
	free(c);
}

/* Stop taking requests; the connection ends once its output is flushed. */
static void conn_close(struct sim_conn *c)
{
	if (c->closing_ms == 0)
		c->closing_ms = now_mono_ms();
}

void sim_conns_drop_host(struct sim_server *srv, int host)
{
	for (struct sim_conn *c = srv->conns; c != NULL; c = c->next) {
		if (host < 0 || c->host == host)
			conn_close(c);
	}
}

void sim_conns_free_all(struct sim_server *srv, int64_t now)
{
	while (srv->conns != NULL)
		conn_free(srv->conns, now);
}

/* ---- streaming a command ---- */

/* Append data to the channel's buffers, as a terminal would deliver it with a PTY. */
static void chan_add(struct sim_chan *ch, const char *data, size_t len, int is_err)
{
	if (!ch->pty) {
		sbuf_add(is_err ? &ch->err : &ch->out, data, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && ch->last_out != '\r')
			sbuf_addc(&ch->out, '\r');
		sbuf_addc(&ch->out, data[i]);
		ch->last_out = data[i];
	}
}

/* Take output produced by the action, cut at the drop-after limit. */
static void chan_take(struct sim_chan *ch, const struct sbuf *out, const struct sbuf *err)
{
	int64_t limit = sim_action_drop_after(ch->action);
	size_t nout = out->len;
	size_t nerr = err->len;

	if (limit >= 0 && ch->produced + (int64_t)(nout + nerr) >= limit) {
		int64_t room = limit > ch->produced ? limit - ch->produced : 0;

		nout = (size_t)room < nout ? (size_t)room : nout;
		room -= (int64_t)nout;
		nerr = (size_t)room < nerr ? (size_t)room : nerr;
		ch->drop = 1;
	}
	chan_add(ch, out->buf, nout, 0);
	chan_add(ch, err->buf, nerr, 1);
	ch->produced += (int64_t)(nout + nerr);
}

static void chan_start(struct sim_chan *ch, int64_t now)
{
	struct sim_conn *c = ch->conn;

	if (ch->shell) {
		char *msg = xasprintf("ccrsim: %s: interactive shells are not supported; run a "
				      "command instead: ssh HOST 'sc query ClusSvc'\n",
				      sim_host_name(c->srv->world, c->host));

		chan_add(ch, msg, strlen(msg), 0);
		free(msg);
		ch->shell = 0;
		ch->finished = 1;
		ch->exit_code = 1;
		return;
	}
	conn_log(c, "exec %s", ch->cmd);
	ch->action = sim_exec(c->srv->world, c->host, ch->cmd, now);
	c->srv->running++;
	c->srv->dirty = 1;
	free(ch->cmd);
	ch->cmd = NULL;
}

/* Poll the action if output or completion is due. */
static void chan_poll(struct sim_chan *ch, int64_t now)
{
	struct sbuf out, err;

	if (ch->action == NULL || ch->finished || ch->drop || sim_action_next_ms(ch->action) > now)
		return;
	sbuf_init(&out);
	sbuf_init(&err);
	if (sim_action_poll(ch->action, now, &out, &err, &ch->exit_code) == 1)
		ch->finished = 1;
	chan_take(ch, &out, &err);
	if (ch->drop)
		ch->finished = 0; /* the connection dies before the exit status */
	ch->conn->srv->dirty = 1;
	sbuf_release(&out);
	sbuf_release(&err);
}

/* Write buffered output within the peer's window.  -1 if the channel broke. */
static int chan_write(struct sim_chan *ch, struct sbuf *sb, int is_err)
{
	uint32_t win = ssh_channel_window_size(ch->ch);
	size_t n = sb->len < win ? sb->len : win;
	int rc;

	if (n == 0)
		return 0;
	rc = is_err ? ssh_channel_write_stderr(ch->ch, sb->buf, (uint32_t)n)
		    : ssh_channel_write(ch->ch, sb->buf, (uint32_t)n);
	if (rc < 0)
		return -1;
	memmove(sb->buf, sb->buf + rc, sb->len - (size_t)rc);
	sb->len -= (size_t)rc;
	sb->buf[sb->len] = '\0';
	return 0;
}

/* Exit status, EOF, close: the order OpenSSH's client expects. */
static void chan_finish(struct sim_chan *ch)
{
	conn_log(ch->conn, "exit %d", ch->exit_code);
	ssh_channel_request_send_exit_status(ch->ch, ch->exit_code);
	ssh_channel_send_eof(ch->ch);
	ssh_channel_close(ch->ch);
	ch->done = 1;
	if (ch->action != NULL) { /* NULL for a refused shell */
		sim_action_free(ch->action);
		ch->action = NULL;
		ch->conn->srv->running--;
	}
}

/*
 * One channel's step; returns 1 when the channel can be freed: once the
 * client closed it (after our close, or in the middle of a command).  While
 * the connection is closing nothing new starts and nothing more is polled.
 */
static int chan_step(struct sim_chan *ch, int64_t now, int closing)
{
	if (ch->peer_closed)
		return 1;
	if (closing || ch->done)
		return 0;
	if (ch->cmd != NULL || ch->shell)
		chan_start(ch, now);
	chan_poll(ch, now);
	if (chan_write(ch, &ch->out, 0) != 0 || chan_write(ch, &ch->err, 1) != 0)
		return 1;
	if (ch->out.len > 0 || ch->err.len > 0)
		return 0;
	if (ch->drop) {
		conn_log(ch->conn, "drop-after fault: closing the connection");
		conn_close(ch->conn);
		return 0;
	}
	if (ch->finished)
		chan_finish(ch);
	return 0;
}

/* ---- the pump ---- */

/*
 * 1 if the connection is over: socket gone, no authentication in time, or
 * closing and done.  A closing connection first flushes what it wrote, and
 * waits (briefly) for the client to acknowledge commands that finished, so
 * that `shutdown /r` still reports its exit status before the host drops.
 * Commands still running are simply cut off.
 */
static int conn_over(struct sim_conn *c, int64_t real)
{
	if (ssh_get_fd(c->session) < 0 || !ssh_is_connected(c->session) ||
	    (ssh_get_status(c->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0)
		return 1;
	if (!c->authed && real - c->born_ms > SIM_AUTH_GRACE_MS)
		return 1;
	if (c->closing_ms == 0)
		return 0;
	if (real - c->closing_ms >= SIM_DRAIN_MS)
		return 1;
	for (const struct sim_chan *ch = c->chans; ch != NULL; ch = ch->next)
		if (ch->done)
			return 0;
	return (ssh_get_status(c->session) & SSH_WRITE_PENDING) == 0;
}

static void conn_step(struct sim_conn *c, int64_t now)
{
	struct sim_chan *ch = c->chans;

	while (ch != NULL) {
		/* Callbacks run inside libssh's writes may add channels at the head: safe. */
		struct sim_chan *next = ch->next;

		if (chan_step(ch, now, c->closing_ms != 0))
			chan_free(ch, now);
		ch = next;
	}
}

void sim_conns_pump(struct sim_server *srv, int64_t now)
{
	int64_t real = now_mono_ms();
	struct sim_conn *c = srv->conns;

	while (c != NULL) {
		struct sim_conn *next = c->next;

		if (c->epoch != sim_host_boot_epoch(srv->world, c->host))
			conn_close(c); /* opened before the host's last boot */
		conn_step(c, now);
		if (conn_over(c, real)) {
			conn_log(c, "connection closed");
			conn_free(c, now);
		}
		c = next;
	}
}

/* Sleep bound for one channel: 0 to start it now, else until its action is due. */
static int64_t chan_wait(const struct sim_chan *ch, int64_t now, int paused)
{
	if (ch->cmd != NULL || ch->shell)
		return 0;
	if (paused || ch->action == NULL || ch->finished || ch->drop)
		return INT64_MAX;
	return sim_action_next_ms(ch->action) - now;
}

int sim_conns_timeout(const struct sim_server *srv, int64_t now, int paused)
{
	int64_t t = SIM_MAX_SLEEP_MS;

	for (const struct sim_conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->closing_ms != 0) {
			t = t > 10 ? 10 : t; /* draining: look again soon */
			continue;
		}
		for (const struct sim_chan *ch = c->chans; ch != NULL; ch = ch->next) {
			int64_t w = chan_wait(ch, now, paused);

			t = w < t ? w : t;
		}
	}
	return t < 0 ? 0 : (int)t;
}

/* ---- polling ---- */

int sim_conns_pollfds(const struct sim_server *srv, struct pollfd *pfd, void **who, int max)
{
	int n = 0;

	for (struct sim_conn *c = srv->conns; c != NULL && n < max; c = c->next) {
		int fd = ssh_get_fd(c->session);

		if (fd < 0)
			continue;
		pfd[n].fd = fd;
		pfd[n].events = POLLIN;
		if (ssh_get_status(c->session) & SSH_WRITE_PENDING)
			pfd[n].events |= POLLOUT;
		pfd[n].revents = 0;
		who[n++] = c;
	}
	return n;
}

void sim_conn_ready(struct sim_conn *c)
{
	ssh_event_dopoll(c->event, 0);
}
