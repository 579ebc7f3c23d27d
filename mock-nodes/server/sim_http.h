/*
 * sim_http.h — HTTP on the simulated HT/CAS servers (docs/ccrsim.md, HTTP
 * (Client Access)): every hubcas host serves Outlook Web Access on its
 * address and sim_host_http_port(), so that a playbook's http_check of the
 * OWA URL sees what a real CAS would answer: 200 while the CMS is Online,
 * 503 otherwise.
 *
 * Two halves:
 *   sim_http.c       the responder, pure: one request head in a buffer in,
 *                    the whole response out, decided by the world.  No
 *                    sockets, so tests and the fuzzer drive it directly.
 *   sim_http_conn.c  the connections, driven by the server's loop like the
 *                    control socket: non-blocking, one request per
 *                    connection, the response, our FIN, a short linger for
 *                    the client's FIN (never a reset that would eat the
 *                    response), close.
 *
 * Calling sequence (server loop):
 *   h = sim_http_new(srv)
 *   each turn: sim_http_pump(h) (deadlines); sim_http_pollfds(h, ...);
 *              a listener is polled only while !sim_http_full(h);
 *              poll(), then sim_http_accept(h, host, listen_fd) for a ready
 *              listener and sim_http_ready(h, who, revents) for a connection;
 *              sleep at most sim_http_timeout(h)
 *   a host goes down or reboots: sim_http_drop_host(h, host)
 *   sim_http_free(h)
 */
#ifndef CCR_SIM_HTTP_H
#define CCR_SIM_HTTP_H

#include <poll.h>
#include <stddef.h>

#include "sim.h"

#define SIM_HTTP_MAX_HEAD 8192 /* bytes of a request head; a longer one is refused (414/431) */

/* How the client's input ended, for sim_http_answer. */
enum sim_http_end {
	SIM_HTTP_OPEN,	  /* the client may still send */
	SIM_HTTP_EOF,	  /* the client closed its side (FIN) */
	SIM_HTTP_TIMEOUT, /* the client took too long to send its request */
};

/*
 * Answer the request whose first len bytes (len <= SIM_HTTP_MAX_HEAD) are
 * buf, sent to host (an HT/CAS).  Strict HTTP/1.0 and 1.1: CRLF line ends,
 * one SP between the request line's parts, origin-form targets, token
 * methods and header names, no folded lines, exactly one Host header in
 * 1.1, no Content-Length together with Transfer-Encoding.  Routes:
 * `GET /owa/` (path compared case-insensitively, as IIS does; a query is
 * ignored) is 200 with the OWA page while sim_cas_owa_online(), else 503
 * naming the CMS state; another path is 404; another method on /owa/ is 405.
 * Bodies are never read: the connection closes after the response.
 *
 * Returns 0 when more bytes are needed (nothing appended to resp); the HTTP
 * status (100-599) once the whole response — status line, headers, body —
 * is appended to resp and the request counted (sim_host_http_count); -1
 * when the connection should just be closed (it ended before sending a
 * single byte).
 */
int sim_http_answer(struct sim_world *w, int host, const char *buf, size_t len,
		    enum sim_http_end end, struct sbuf *resp);

struct sim_server;
struct sim_http;

/* The connections of every HT/CAS host.  Never NULL (aborts on out of memory). */
struct sim_http *sim_http_new(struct sim_server *srv);
/* Close every connection and free h.  The listeners are the server's.  NULL is a no-op. */
void sim_http_free(struct sim_http *h);
/* Accept what is pending on host's HTTP listener (up to the connection limit). */
void sim_http_accept(struct sim_http *h, int host, int listen_fd);
/* Connections open now; 1 when no more may be opened (the listeners are then not polled). */
int sim_http_nconns(const struct sim_http *h);
int sim_http_full(const struct sim_http *h);
/* Fill pfd/who with every connection's socket (at most max); returns the count. */
int sim_http_pollfds(struct sim_http *h, struct pollfd *pfd, void **who, int max);
/* Connection who (from sim_http_pollfds) is ready: read, answer, write or linger. */
void sim_http_ready(struct sim_http *h, void *who, short revents);
/* Apply the deadlines: a request not sent in time (408), a response not read, a linger over. */
void sim_http_pump(struct sim_http *h);
/* Real ms until the next deadline, at most SIM_MAX_SLEEP_MS. */
int sim_http_timeout(const struct sim_http *h);
/* Close every connection of host at once (it went down or rebooted). */
void sim_http_drop_host(struct sim_http *h, int host);

#endif
