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
 * sim_conns_pump() does the work afterwards: steps every channel
 * (sim_channel.c: commands, output, exit status), ends connections that are
 * over, and frees what is finished.
 *
 * A connection the server ends (reboot, drop fault) first flushes, then
 * sends FIN and lingers until the client's FIN, like a TCP stack would.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libssh/callbacks.h>

#include "sim_session.h"

#define SIM_AUTH_GRACE_MS 30000 /* real ms a connection has to authenticate */
#define SIM_DRAIN_MS	  500	/* real ms a closing connection may spend flushing */
#define SIM_LINGER_MS	  500	/* real ms we wait for the client's FIN after ours */

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
		if (signature_state == SSH_PUBLICKEY_STATE_VALID && !c->authed) {
			c->authed = 1;
			sim_conn_log(c, "authenticated");
		}
		return SSH_AUTH_SUCCESS;
	}
	return SSH_AUTH_DENIED;
}

static ssh_channel cb_channel_open(ssh_session session, void *userdata)
{
	struct sim_conn *c = userdata;
	struct sim_chan *ch;

	/* sshd's MaxSessions: the next session channel is refused (OPEN_FAILURE). */
	if (!c->authed || c->closing_ms != 0 ||
	    c->nchans >= sim_world_max_sessions(c->srv->world, c->host)) {
		if (c->authed && c->closing_ms == 0)
			sim_conn_log(c, "channel refused: MaxSessions %d reached",
				     sim_world_max_sessions(c->srv->world, c->host));
		return NULL;
	}
	ch = sim_chan_new(c, session);
	if (ch == NULL)
		return NULL;
	ch->next = c->chans;
	c->chans = ch;
	c->nchans++;
	return ch->ch;
}

/*
 * Global requests: sshd answers keepalive@openssh.com (and every request it
 * does not serve, such as tcpip-forward here) with REQUEST_FAILURE; libssh
 * would answer the keepalive with success.  The reply is a packet libssh
 * queues, nothing of ours changes.
 */
static void cb_global_request(ssh_session session, ssh_message msg, void *userdata)
{
	(void)session;
	(void)userdata;
	ssh_message_reply_default(msg);
}

/* ---- connection lifecycle ---- */

void sim_conn_log(const struct sim_conn *c, const char *fmt, ...)
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

/* Hand fd to a new session (which then owns it) and start the key exchange. */
static int conn_setup(struct sim_conn *c, int fd, int *owned)
{
	*owned = 0;
	if (ssh_bind_accept_fd(c->srv->hosts[c->host].bind, c->session, fd) != SSH_OK)
		return -1;
	*owned = 1;
	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.auth_pubkey_function = cb_auth_pubkey;
	c->cb.channel_open_request_session_function = cb_channel_open;
	ssh_set_server_callbacks(c->session, &c->cb);
	ssh_callbacks_init(&c->gcb);
	c->gcb.userdata = c;
	c->gcb.global_request_function = cb_global_request;
	ssh_set_callbacks(c->session, &c->gcb);
	ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_set_blocking(c->session, 0);
	if (ssh_handle_key_exchange(c->session) == SSH_ERROR)
		return -1;
	return ssh_event_add_session(c->event, c->session) == SSH_OK ? 0 : -1;
}

int sim_conn_accept(struct sim_server *srv, int host, int fd)
{
	struct sim_conn *c = xcalloc(1, sizeof(*c));
	int owned = 0;

	c->srv = srv;
	c->host = host;
	c->epoch = sim_host_boot_epoch(srv->world, host);
	c->born_ms = now_mono_ms();
	c->session = ssh_new();
	c->event = ssh_event_new();
	if (c->session == NULL || c->event == NULL || conn_setup(c, fd, &owned) != 0) {
		if (!owned)
			close(fd); /* else ssh_free closes it */
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
	sim_conn_log(c, "connection accepted");
	return 0;
}

/* Unlink a channel that is done or that the client closed, and free it. */
static void chan_free(struct sim_chan *ch, int64_t now)
{
	struct sim_conn *c = ch->conn;
	struct sim_chan **pp = &c->chans;

	while (*pp != ch)
		pp = &(*pp)->next;
	*pp = ch->next;
	c->nchans--;
	sim_chan_free(ch, now);
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
	ssh_silent_disconnect(c->session); /* frees every libssh channel */
	while (c->chans != NULL) {
		struct sim_chan *ch = c->chans;

		c->chans = ch->next;
		sim_chan_release(ch, now);
	}
	ssh_event_remove_session(c->event, c->session);
	ssh_event_free(c->event);
	ssh_free(c->session);
	free(c);
}

/* Stop taking requests; the connection ends once its output is flushed. */
void sim_conn_close(struct sim_conn *c)
{
	if (c->closing_ms == 0)
		c->closing_ms = now_mono_ms();
}

void sim_conns_drop_host(struct sim_server *srv, int host)
{
	for (struct sim_conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->host == host)
			sim_conn_close(c);
	}
}

void sim_conns_free_all(struct sim_server *srv, int64_t now)
{
	while (srv->conns != NULL)
		conn_free(srv->conns, now);
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

		if (sim_chan_step(ch, now, c->closing_ms != 0))
			chan_free(ch, now);
		ch = next;
	}
}

/*
 * End a connection the server closes (reboot, drop fault) the way a TCP
 * stack does: send our FIN, abort what still runs, and linger until the
 * client's FIN, discarding what it sends.  Closing at once with unread input
 * would send a reset, and the client would report "Broken pipe" instead of
 * "closed by remote host" — depending on timing.
 */
static void conn_fin(struct sim_conn *c, int64_t now, int64_t real)
{
	shutdown(ssh_get_fd(c->session), SHUT_WR);
	c->fin_ms = real;
	for (struct sim_chan *ch = c->chans; ch != NULL; ch = ch->next)
		sim_chan_stop(ch, now);
}

/* Lingering: discard whatever the client still sends; note its FIN. */
static void conn_discard(struct sim_conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(ssh_get_fd(c->session), buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		c->peer_eof = 1;
}

/* Step one connection; 1 when it is over and can be freed. */
static int conn_pump(struct sim_conn *c, int64_t now, int64_t real)
{
	if (c->fin_ms != 0)
		return c->peer_eof || real - c->fin_ms >= SIM_LINGER_MS;
	if (c->epoch != sim_host_boot_epoch(c->srv->world, c->host))
		sim_conn_close(c); /* opened before the host's last boot */
	conn_step(c, now);
	if (!conn_over(c, real))
		return 0;
	if (c->closing_ms != 0 && ssh_get_fd(c->session) >= 0 && ssh_is_connected(c->session)) {
		conn_fin(c, now, real);
		return 0;
	}
	return 1;
}

void sim_conns_pump(struct sim_server *srv, int64_t now)
{
	int64_t real = now_mono_ms();
	struct sim_conn *c = srv->conns;

	while (c != NULL) {
		struct sim_conn *next = c->next;

		if (conn_pump(c, now, real)) {
			sim_conn_log(c, "connection closed");
			conn_free(c, now);
		}
		c = next;
	}
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
			int64_t w = sim_chan_wait(ch, now, paused);

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
		pfd[n].events = c->peer_eof ? 0 : POLLIN;
		if (c->fin_ms == 0 && (ssh_get_status(c->session) & SSH_WRITE_PENDING))
			pfd[n].events |= POLLOUT;
		pfd[n].revents = 0;
		who[n++] = c;
	}
	return n;
}

void sim_conn_ready(struct sim_conn *c)
{
	if (c->fin_ms != 0)
		conn_discard(c);
	else
		ssh_event_dopoll(c->event, 0);
}
