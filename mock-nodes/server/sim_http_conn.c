/*
 * sim_http_conn.c — the HTTP connections of the simulated HT/CAS servers,
 * in the server's single event loop (sim_http.h).
 *
 * A connection lives through three states, each with one thing to poll for:
 *
 *   reading    POLLIN   bytes go into a SIM_HTTP_MAX_HEAD buffer and the
 *                       responder (sim_http.c) is asked after every read
 *                       whether it can answer; SIM_HTTP_READ_MS to finish
 *   writing    POLLOUT  the response, as far as the socket takes it;
 *                       SIM_HTTP_WRITE_MS for the client to read it all
 *   lingering  POLLIN   after shutdown(SHUT_WR): input read and discarded
 *                       until the client's FIN, SIM_HTTP_LINGER_MS at most
 *
 * Why linger: a request the responder refuses unread (a 100 KB header, a
 * body) leaves bytes in our receive queue, and close() with unread input
 * sends a reset that can destroy the response before the client reads it.
 * Draining until the client's FIN, as sim_session.c does for SSH, lets the
 * client see the whole response.  A host that goes down closes its
 * connections at once, as a reboot would.
 *
 * Deadlines are in real time (CLOCK_MONOTONIC), not world time: pausing the
 * world must not hold HTTP clients forever.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_http.h"
#include "sim_server.h"

#define SIM_HTTP_MAX_CONNS 256	 /* connections open at once; the listeners wait beyond */
#define SIM_HTTP_ACCEPT	   64	 /* connections accepted per listener readiness */
#define SIM_HTTP_READ_MS   10000 /* real ms a client has to send its request */
#define SIM_HTTP_WRITE_MS  10000 /* real ms a client has to read the response */
#define SIM_HTTP_LINGER_MS 500	 /* real ms we wait for the client's FIN after ours */
#define SIM_HTTP_LOG_BYTES 120	 /* bytes of the request line shown by -v */

struct sim_http_conn {
	struct sim_http_conn *prev, *next; /* h->conns list */
	int fd;				   /* the accepted socket, owned */
	int host;			   /* world host index */
	char in[SIM_HTTP_MAX_HEAD];	   /* the request head so far */
	size_t inlen;			   /* bytes in in */
	struct sbuf out;		   /* the response, once answered */
	size_t sent;			   /* bytes of out written */
	int answered;			   /* 1: out holds the whole response */
	int64_t deadline;		   /* real ms the current state ends */
	int64_t fin_ms;			   /* real ms our FIN was sent (lingering), or 0 */
};

struct sim_http {
	struct sim_server *srv;	     /* owner, borrowed */
	struct sim_http_conn *conns; /* open connections, newest first */
	int nconns;		     /* entries in conns */
};

struct sim_http *sim_http_new(struct sim_server *srv)
{
	struct sim_http *h = xcalloc(1, sizeof(*h));

	h->srv = srv;
	return h;
}

static void conn_free(struct sim_http *h, struct sim_http_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->nconns--;
	close(c->fd);
	sbuf_release(&c->out);
	free(c);
}

void sim_http_free(struct sim_http *h)
{
	if (h == NULL)
		return;
	while (h->conns != NULL)
		conn_free(h, h->conns);
	free(h);
}

int sim_http_nconns(const struct sim_http *h)
{
	return h->nconns;
}

int sim_http_full(const struct sim_http *h)
{
	return h->nconns >= SIM_HTTP_MAX_CONNS;
}

void sim_http_accept(struct sim_http *h, int host, int listen_fd)
{
	for (int k = 0; k < SIM_HTTP_ACCEPT && !sim_http_full(h); k++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sim_http_conn *c;

		if (fd < 0)
			return; /* EAGAIN, or a client that gave up */
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->host = host;
		sbuf_init(&c->out);
		c->deadline = now_mono_ms() + SIM_HTTP_READ_MS;
		c->next = h->conns;
		if (h->conns != NULL)
			h->conns->prev = c;
		h->conns = c;
		h->nconns++;
	}
}

/* -v: the host, the request line (printable bytes only) and the status. */
static void conn_log(const struct sim_http *h, const struct sim_http_conn *c, int status)
{
	char line[SIM_HTTP_LOG_BYTES + 1];
	size_t n = 0;

	if (!h->srv->opts->verbose)
		return;
	for (; n < c->inlen && n < SIM_HTTP_LOG_BYTES && c->in[n] != '\r'; n++)
		line[n] = c->in[n] >= 0x20 && c->in[n] < 0x7f ? c->in[n] : '?';
	line[n] = '\0';
	fprintf(stderr, "ccrsim: %s: HTTP \"%s\" %d\n", sim_host_name(h->srv->world, c->host), line,
		status);
}

/* Everything written: send our FIN and wait (briefly) for the client's. */
static void conn_finish(struct sim_http_conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->fin_ms = now_mono_ms();
	c->deadline = c->fin_ms + SIM_HTTP_LINGER_MS;
}

/* Write what the socket takes.  0, or -1 when the connection is over (freed). */
static int conn_write(struct sim_http *h, struct sim_http_conn *c)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n <= 0) {
			conn_free(h, c);
			return -1;
		}
		c->sent += (size_t)n;
	}
	conn_finish(c);
	return 0;
}

/* Ask the responder; once it answers, start writing. */
static void conn_answer(struct sim_http *h, struct sim_http_conn *c, enum sim_http_end end)
{
	int status = sim_http_answer(h->srv->world, c->host, c->in, c->inlen, end, &c->out);

	if (status == 0)
		return;
	if (status < 0) {
		conn_free(h, c);
		return;
	}
	conn_log(h, c, status);
	c->answered = 1;
	c->deadline = now_mono_ms() + SIM_HTTP_WRITE_MS;
	conn_write(h, c);
}

static void conn_read(struct sim_http *h, struct sim_http_conn *c)
{
	ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		conn_free(h, c);
		return;
	}
	c->inlen += (size_t)n;
	/* A full buffer is always answered (414/431), so a read of 0 bytes is the client's FIN. */
	conn_answer(h, c, n == 0 ? SIM_HTTP_EOF : SIM_HTTP_OPEN);
}

/* Lingering: discard input until the client's FIN (or an error). */
static void conn_drain(struct sim_http *h, struct sim_http_conn *c)
{
	char junk[4096];

	for (;;) {
		ssize_t n = read(c->fd, junk, sizeof(junk));

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			conn_free(h, c);
			return;
		}
	}
}

int sim_http_pollfds(struct sim_http *h, struct pollfd *pfd, void **who, int max)
{
	int n = 0;

	for (struct sim_http_conn *c = h->conns; c != NULL && n < max; c = c->next) {
		short ev = c->answered && c->fin_ms == 0 ? POLLOUT : POLLIN;

		pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
		who[n++] = c;
	}
	return n;
}

void sim_http_ready(struct sim_http *h, void *who, short revents)
{
	struct sim_http_conn *c = who;

	(void)revents; /* errors and hang-ups show in the read or write itself */
	if (c->fin_ms != 0)
		conn_drain(h, c);
	else if (c->answered)
		conn_write(h, c);
	else
		conn_read(h, c);
}

void sim_http_pump(struct sim_http *h)
{
	int64_t now = now_mono_ms();
	struct sim_http_conn *next;

	for (struct sim_http_conn *c = h->conns; c != NULL; c = next) {
		next = c->next;
		if (now < c->deadline)
			continue;
		if (c->answered)
			conn_free(h, c); /* the response was not read, or the linger is over */
		else
			conn_answer(h, c, SIM_HTTP_TIMEOUT); /* 408, or a silent close */
	}
}

int sim_http_timeout(const struct sim_http *h)
{
	int64_t now = now_mono_ms(), t = SIM_MAX_SLEEP_MS;

	for (const struct sim_http_conn *c = h->conns; c != NULL; c = c->next)
		if (c->deadline - now < t)
			t = c->deadline - now;
	return t < 0 ? 0 : (int)t;
}

void sim_http_drop_host(struct sim_http *h, int host)
{
	struct sim_http_conn *next;

	for (struct sim_http_conn *c = h->conns; c != NULL; c = next) {
		next = c->next;
		if (c->host == host)
			conn_free(h, c);
	}
}
