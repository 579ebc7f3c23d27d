/*
 * sim_winrm.c — WinRM's listeners and connections in ccrsim's one event
 * loop (sim_winrm.h): HTTP/1.1 with keep-alive over plain TCP or TLS
 * (OpenSSL, non-blocking), Basic authentication against the scenario's
 * account, requests handed to sim_winrm_shell.c.
 *
 * A connection is in one of four states, each with one thing to poll for
 * (TLS may want the other direction for a while; `want` then wins):
 *
 *   reading    POLLIN   a request: head (<= 16 KiB) and Content-Length body
 *   waiting    POLLIN   a Receive held until output, Done or OperationTimeout;
 *                       input is buffered (a FIN closes the connection)
 *   writing    POLLOUT  the response; then reading again (keep-alive), or
 *   lingering  POLLIN   after our FIN: input discarded until the client's
 *
 * Hosts follow the world like SSH's listeners do: a host going down closes
 * its listeners, connections and shells; a new boot epoch (a reboot that
 * was too short to be seen down) closes connections and shells.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "sim_winrm_int.h"

#define WR_MAX_HEAD	8192
#define WR_MAX_BODY	(4 * SIM_WINRM_MAX_ENVELOPE) /* read and refused beyond MaxEnvelopeSize */
#define WR_MAX_CONNS	512
#define WR_IDLE_MS	120000 /* keep-alive: an idle connection is closed after this */
#define WR_WRITE_MS	30000
#define WR_LINGER_MS	500
#define WR_MAX_WAIT_MS	60000 /* a Receive is held at most this long, whatever it asks */
#define WR_CODE_TOO_BIG "2150859025"

enum wr_kind { WR_LISTENER, WR_CONN, WR_LSNSET };
enum wr_state { WR_READING, WR_WAITING, WR_WRITING, WR_LINGER };

/* A listener (the tag 2 * host + https of wr->lsn), or the set itself as a pollfd's who. */
struct sim_wr_listener {
	enum wr_kind kind; /* WR_LISTENER, or WR_LSNSET for wr->lsn_who */
	int host;	   /* host index */
	int https;	   /* 1: TLS */
};

struct sim_wr_conn {
	enum wr_kind kind;		 /* WR_CONN (first: who pointers are told apart by it) */
	struct sim_wr_conn *prev, *next; /* wr->conns */
	int fd;				 /* socket, owned */
	int host;			 /* host index */
	SSL *ssl;			 /* TLS session, or NULL (HTTP) */
	int handshake;			 /* 1: TLS handshake done (or no TLS) */
	short want;			 /* TLS wants this event before progress, or 0 */
	enum wr_state state;		 /* see above */
	struct sbuf in;			 /* received, not yet consumed */
	struct sbuf out;		 /* the response being written */
	size_t sent;			 /* bytes of out written */
	int close_after;		 /* close once the response is written */
	struct sim_wr_req held;		 /* the held Receive (waiting) */
	int64_t deadline;		 /* real ms the state ends */
};

/* Listeners' who pointers: [host * 2 + https]. */
static struct sim_wr_listener *listeners(const struct sim_winrm *wr);

int sim_winrm_port(const struct sim_world *w, int host, int https)
{
	int ssh = sim_host_port(w, host);

	if (ssh <= SIM_WINRM_HTTPS_OFFSET)
		return https ? 5986 : 5985;
	return ssh - (https ? SIM_WINRM_HTTPS_OFFSET : SIM_WINRM_HTTP_OFFSET);
}

const char *sim_winrm_ca_file(const struct sim_winrm *wr)
{
	return wr->ca_path;
}

/* ---- connections ---- */

static void conn_free(struct sim_winrm *wr, struct sim_wr_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		wr->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	wr->nconns--;
	SSL_free(c->ssl);
	close(c->fd);
	sbuf_release(&c->in);
	sbuf_release(&c->out);
	sim_wr_req_release(&c->held);
	free(c);
}

static void conn_accept(struct sim_winrm *wr, const struct sim_wr_listener *l)
{
	for (int k = 0; k < 64 && wr->nconns < WR_MAX_CONNS; k++) {
		int fd = accept4(wr->hosts[l->host].fd[l->https], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sim_wr_conn *c;
		int one = 1;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = xcalloc(1, sizeof(*c));
		c->kind = WR_CONN;
		c->fd = fd;
		c->host = l->host;
		c->handshake = !l->https;
		sbuf_init(&c->in);
		sbuf_init(&c->out);
		c->deadline = now_mono_ms() + WR_IDLE_MS;
		if (l->https) {
			c->ssl = SSL_new(wr->ctx);
			if (c->ssl == NULL || sim_wr_tls_host(wr, l->host) != 0 ||
			    SSL_set_fd(c->ssl, fd) != 1 ||
			    SSL_use_certificate(c->ssl, wr->hosts[l->host].cert) != 1 ||
			    SSL_use_PrivateKey(c->ssl, wr->hosts[l->host].key) != 1) {
				SSL_free(c->ssl);
				close(fd);
				sbuf_release(&c->in);
				sbuf_release(&c->out);
				free(c);
				continue;
			}
		}
		c->next = wr->conns;
		if (wr->conns != NULL)
			wr->conns->prev = c;
		wr->conns = c;
		wr->nconns++;
		if (wr->srv->opts->verbose)
			fprintf(stderr, "ccrsim: %s: winrm connection HTTP%s\n",
				sim_host_name(wr->srv->world, l->host), l->https ? "S" : "");
	}
}

/* TLS error handling: 0 to retry later (want set), -1 broken. */
static int tls_retry(struct sim_wr_conn *c, int rc)
{
	int e = SSL_get_error(c->ssl, rc);

	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ)
		c->want = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		c->want = POLLOUT;
	else
		return -1;
	return 0;
}

/* Read what is there into c->in.  1 got bytes, 0 nothing now, -1 EOF or error. */
static int conn_recv(struct sim_wr_conn *c)
{
	char buf[16384];
	int got = 0;

	for (;;) {
		ssize_t n;

		if (c->ssl != NULL) {
			int rc = SSL_read(c->ssl, buf, sizeof(buf));
			if (rc <= 0)
				return tls_retry(c, rc) == 0 ? got : -1;
			n = rc;
		} else {
			n = read(c->fd, buf, sizeof(buf));
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return got;
			if (n <= 0)
				return -1;
		}
		c->want = 0;
		if (c->in.len + (size_t)n > WR_MAX_HEAD + WR_MAX_BODY)
			return -1;
		sbuf_add(&c->in, buf, (size_t)n);
		got = 1;
	}
}

/* Write what the socket takes.  0, or -1 broken. */
static int conn_send(struct sim_wr_conn *c)
{
	while (c->sent < c->out.len) {
		const char *p = c->out.buf + c->sent;
		size_t left = c->out.len - c->sent;
		ssize_t n;

		if (c->ssl != NULL) {
			int rc = SSL_write(c->ssl, p, left > INT32_MAX ? INT32_MAX : (int)left);
			if (rc <= 0)
				return tls_retry(c, rc);
			n = rc;
		} else {
			n = send(c->fd, p, left, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return 0;
			if (n <= 0)
				return -1;
		}
		c->want = 0;
		c->sent += (size_t)n;
	}
	return 0;
}

/* Queue an HTTP response with body (may be empty). */
static void respond(struct sim_wr_conn *c, int status, const char *extra, const struct sbuf *body)
{
	const char *reason = status == 200   ? "OK"
			     : status == 401 ? "Unauthorized"
			     : status == 404 ? "Not Found"
			     : status == 405 ? "Method Not Allowed"
			     : status == 411 ? "Length Required"
			     : status == 415 ? "Unsupported Media Type"
			     : status == 431 ? "Request Header Fields Too Large"
			     : status == 500 ? "Internal Server Error"
					     : "Bad Request";

	sbuf_reset(&c->out);
	c->sent = 0;
	sbuf_addf(&c->out, "HTTP/1.1 %d %s\r\nServer: Microsoft-HTTPAPI/2.0\r\n", status, reason);
	if (body != NULL && body->len > 0)
		sbuf_adds(&c->out, "Content-Type: application/soap+xml;charset=UTF-8\r\n");
	sbuf_addf(&c->out, "%sContent-Length: %zu\r\n%s\r\n", extra != NULL ? extra : "",
		  body != NULL ? body->len : 0, c->close_after ? "Connection: close\r\n" : "");
	if (body != NULL)
		sbuf_add(&c->out, body->buf, body->len);
	c->state = WR_WRITING;
	c->deadline = now_mono_ms() + WR_WRITE_MS;
}

/* ---- one request ---- */

/* A request head's parts. */
struct head {
	char method[16];
	char target[256];
	int http10;	 /* HTTP/1.0 */
	int64_t length;	 /* Content-Length, -1 absent */
	int chunked;	 /* Transfer-Encoding present */
	int close;	 /* Connection: close */
	char *auth;	 /* Authorization value, or NULL */
	int soap;	 /* Content-Type is application/soap+xml */
	size_t head_len; /* bytes up to and including the blank line */
};

static void head_field(struct head *h, const char *name, size_t nlen, const char *v, size_t vlen)
{
	char val[64];
	int64_t n;

	if (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0) {
		snprintf(val, sizeof(val), "%.*s", (int)(vlen < 63 ? vlen : 63), v);
		h->length = parse_int64(val, 0, INT32_MAX, &n) == 0 ? n : -2;
	} else if (nlen == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0) {
		h->chunked = 1;
	} else if (nlen == 10 && strncasecmp(name, "Connection", 10) == 0) {
		h->close = vlen >= 5 && strncasecmp(v, "close", 5) == 0;
	} else if (nlen == 13 && strncasecmp(name, "Authorization", 13) == 0 && h->auth == NULL) {
		h->auth = xstrndup(v, vlen);
	} else if (nlen == 12 && strncasecmp(name, "Content-Type", 12) == 0) {
		h->soap = vlen >= 20 && strncasecmp(v, "application/soap+xml", 20) == 0;
	}
}

/* Parse the head in buf.  1 complete, 0 need more, -1 malformed, -2 too big. */
static int head_parse(const char *buf, size_t len, struct head *h)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *p, *eol;

	memset(h, 0, sizeof(*h));
	h->length = -1;
	if (end == NULL)
		return len > WR_MAX_HEAD ? -2 : 0;
	h->head_len = (size_t)(end - buf) + 4;
	eol = memmem(buf, (size_t)(end - buf) + 2, "\r\n", 2);
	if (eol == NULL) /* cannot happen: end itself starts with CRLF */
		return -1;
	{
		char line[512];
		char *sp1, *sp2;

		if ((size_t)(eol - buf) >= sizeof(line))
			return -1;
		memcpy(line, buf, (size_t)(eol - buf));
		line[eol - buf] = '\0';
		sp1 = strchr(line, ' ');
		sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
		if (sp1 == NULL || sp2 == NULL || (size_t)(sp1 - line) >= sizeof(h->method) ||
		    (size_t)(sp2 - sp1 - 1) >= sizeof(h->target) ||
		    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
			return -1;
		memcpy(h->method, line, (size_t)(sp1 - line));
		memcpy(h->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
		h->http10 = strcmp(sp2 + 1, "HTTP/1.0") == 0;
	}
	for (p = eol + 2; p < end + 2; p = eol + 2) {
		const char *colon, *v;

		eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p)
			return -1;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		head_field(h, p, (size_t)(colon - p), v, (size_t)(eol - v));
	}
	return h->length == -2 ? -1 : 1;
}

/* Does the Authorization header carry the scenario's account (Basic)? */
static int auth_ok(const struct sim_winrm *wr, const char *auth)
{
	const struct sim_world *w = wr->srv->world;
	const char *user = sim_winrm_user(w), *b64, *colon;
	unsigned char dec[768];
	size_t len, pad = 0;
	int n;

	if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
		return 0;
	for (b64 = auth + 6; *b64 == ' '; b64++)
		;
	len = strlen(b64);
	if (len == 0 || len % 4 != 0 || len / 4 * 3 >= sizeof(dec))
		return 0;
	n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)len);
	while (pad < 2 && b64[len - 1 - pad] == '=')
		pad++;
	if (n < (int)pad)
		return 0;
	n -= (int)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	dec[n] = '\0';
	colon = strchr((const char *)dec, ':');
	/* The user name is compared ignoring case, as Windows does; the password exactly. */
	return colon != NULL && strlen((const char *)dec) == (size_t)n &&
	       (size_t)(colon - (const char *)dec) == strlen(user) &&
	       strncasecmp((const char *)dec, user, strlen(user)) == 0 &&
	       strcmp(colon + 1, sim_winrm_password(w)) == 0;
}

static void consume(struct sim_wr_conn *c, size_t n)
{
	memmove(c->in.buf, c->in.buf + n, c->in.len - n);
	c->in.len -= n;
	c->in.buf[c->in.len] = '\0';
}

static void log_http(const struct sim_winrm *wr, const struct sim_wr_conn *c, int status,
		     const char *why)
{
	if (wr->srv->opts->verbose && status != 200)
		fprintf(stderr, "ccrsim: %s: winrm HTTP%s %d %s\n",
			sim_host_name(wr->srv->world, c->host), c->ssl != NULL ? "S" : "", status,
			why);
}

/* A fault answer for the whole request, then close. */
static void refuse(struct sim_winrm *wr, struct sim_wr_conn *c, const char *sub, const char *code,
		   const char *msg)
{
	struct sbuf body;

	sbuf_init(&body);
	sim_wr_fault(wr, c->host, NULL, sub, code, msg, &body);
	c->close_after = 1;
	log_http(wr, c, 500, msg);
	respond(c, 500, NULL, &body);
	sbuf_release(&body);
}

/* Answer a SOAP request (or hold it). */
static void soap(struct sim_winrm *wr, struct sim_wr_conn *c, const char *body, size_t len)
{
	int64_t now = sim_server_now(wr->srv);
	struct sim_wr_req r;
	struct sbuf resp;
	int status = 200;
	enum sim_wr_outcome o;

	if (sim_wr_parse(body, len, &r) != 0) {
		refuse(wr, c, "w:InvalidParameter", "2150858752",
		       "The WS-Management service cannot process the request because the XML is "
		       "invalid. ");
		return;
	}
	sbuf_init(&resp);
	o = sim_wr_handle(wr, c->host, &r, now, 0, &resp, &status);
	wr->requests++;
	if (o == SIM_WR_WAIT) {
		int64_t wait = r.op_ms > 0 ? r.op_ms : 60000;
		c->held = r;
		c->state = WR_WAITING;
		c->deadline = now_mono_ms() + (wait < WR_MAX_WAIT_MS ? wait : WR_MAX_WAIT_MS);
	} else if (o == SIM_WR_DROP) {
		c->state = WR_LINGER; /* freed by the caller */
		c->deadline = 0;
		sim_wr_req_release(&r);
	} else {
		respond(c, status, NULL, &resp);
		sim_wr_req_release(&r);
	}
	sbuf_release(&resp);
}

/* Handle one complete request in c->in, if there is one.  1 handled, 0 need more. */
static int request(struct sim_winrm *wr, struct sim_wr_conn *c)
{
	struct head h;
	int rc = head_parse(c->in.buf, c->in.len, &h);
	size_t total;

	if (rc == 0)
		return 0;
	if (rc < 0) {
		c->close_after = 1;
		log_http(wr, c, rc == -2 ? 431 : 400, "bad request head");
		respond(c, rc == -2 ? 431 : 400, NULL, NULL);
		return 1;
	}
	c->close_after = h.http10 || h.close;
	if (h.length > SIM_WINRM_MAX_ENVELOPE) {
		free(h.auth);
		refuse(wr, c, "w:EncodingLimit", WR_CODE_TOO_BIG,
		       "The WS-Management service cannot process the request because the request "
		       "size exceeded the configured MaxEnvelopeSize quota. ");
		return 1;
	}
	total = h.head_len + (h.length > 0 ? (size_t)h.length : 0);
	if (h.length >= 0 && c->in.len < total) {
		free(h.auth);
		return 0;
	}
	if (strcasecmp(h.target, "/wsman") != 0) {
		log_http(wr, c, 404, h.target);
		respond(c, 404, NULL, NULL);
	} else if (strcmp(h.method, "POST") != 0) {
		log_http(wr, c, 405, h.method);
		respond(c, 405, "Allow: POST\r\n", NULL);
	} else if (!auth_ok(wr, h.auth)) {
		log_http(wr, c, 401, "authentication failed");
		respond(c, 401, "WWW-Authenticate: Basic realm=\"WSMAN\"\r\n", NULL);
	} else if (h.chunked || h.length < 0) {
		c->close_after = 1;
		log_http(wr, c, 411, "no Content-Length");
		respond(c, 411, NULL, NULL);
	} else if (!h.soap) {
		log_http(wr, c, 415, "not application/soap+xml");
		respond(c, 415, NULL, NULL);
	} else {
		soap(wr, c, c->in.buf + h.head_len, (size_t)h.length);
	}
	free(h.auth);
	if (h.length >= 0 && c->in.len >= total)
		consume(c, total);
	return 1;
}

/* Our FIN after the last response; discard input until the client's. */
static void conn_linger(struct sim_wr_conn *c)
{
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);
	shutdown(c->fd, SHUT_WR);
	c->state = WR_LINGER;
	c->deadline = now_mono_ms() + WR_LINGER_MS;
	sbuf_reset(&c->in);
}

/* Progress on c.  0, or -1 when it must be freed. */
static int conn_step(struct sim_winrm *wr, struct sim_wr_conn *c)
{
	if (!c->handshake) {
		int rc = SSL_accept(c->ssl);
		if (rc != 1)
			return tls_retry(c, rc);
		c->handshake = 1;
		c->want = 0;
		if (wr->srv->opts->verbose)
			fprintf(stderr, "ccrsim: %s: winrm TLS %s\n",
				sim_host_name(wr->srv->world, c->host),
				SSL_session_reused(c->ssl) ? "session resumed" : "full handshake");
	}
	for (;;) {
		if (c->state == WR_LINGER) {
			int r = conn_recv(c);
			sbuf_reset(&c->in);
			return r < 0 || c->deadline == 0 ? -1 : 0;
		}
		if (c->state == WR_WRITING) {
			if (conn_send(c) < 0)
				return -1;
			if (c->sent < c->out.len)
				return 0;
			if (c->close_after) {
				conn_linger(c);
				continue;
			}
			c->state = WR_READING;
			c->deadline = now_mono_ms() + WR_IDLE_MS;
		}
		if (conn_recv(c) < 0)
			return -1;
		if (c->state != WR_READING || !request(wr, c))
			return c->state == WR_LINGER && c->deadline == 0 ? -1 : 0;
	}
}

/* ---- hosts ---- */

static int listen_on(const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || port <= 0 || port > 65535) {
		snprintf(err, errlen, "%s:%d: not an IPv4 address and port", addr, port);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 511) != 0) {
		snprintf(err, errlen, "WinRM %s:%d: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void host_unlisten(struct sim_winrm *wr, int i)
{
	for (int k = 0; k < 2; k++) {
		if (wr->hosts[i].fd[k] >= 0) {
			sim_lsnset_del(wr->lsn, wr->hosts[i].fd[k]);
			close(wr->hosts[i].fd[k]);
		}
		wr->hosts[i].fd[k] = -1;
	}
}

static int host_listen(struct sim_winrm *wr, int i, char *err, size_t errlen)
{
	const struct sim_world *w = wr->srv->world;

	if (wr->off)
		return 0;
	for (int k = 0; k < 2; k++) {
		wr->hosts[i].fd[k] =
		    listen_on(sim_host_addr(w, i), sim_winrm_port(w, i, k), err, errlen);
		if (wr->hosts[i].fd[k] >= 0 &&
		    sim_lsnset_add(wr->lsn, wr->hosts[i].fd[k], (uint64_t)(i * 2 + k)) != 0) {
			snprintf(err, errlen, "WinRM listener: epoll: %s", strerror(errno));
			close(wr->hosts[i].fd[k]);
			wr->hosts[i].fd[k] = -1;
		}
		if (wr->hosts[i].fd[k] < 0) {
			host_unlisten(wr, i);
			return -1;
		}
	}
	return 0;
}

static void host_drop(struct sim_winrm *wr, int host, int64_t now)
{
	struct sim_wr_conn *next;

	for (struct sim_wr_conn *c = wr->conns; c != NULL; c = next) {
		next = c->next;
		if (c->host == host)
			conn_free(wr, c);
	}
	sim_wr_shells_drop_host(wr, host, now);
}

static void hosts_sweep(struct sim_winrm *wr, int64_t now)
{
	for (int i = 0; i < wr->srv->nhosts; i++) {
		struct sim_wr_host *h = &wr->hosts[i];
		int up = sim_host_power(wr->srv->world, i, now) == SIM_UP;
		int epoch = sim_host_boot_epoch(wr->srv->world, i);
		char err[256];

		if (epoch != h->epoch || (h->up && !up))
			host_drop(wr, i, now);
		if (!up)
			host_unlisten(wr, i);
		h->epoch = epoch;
		h->up = up;
		if (up && h->fd[0] < 0 && host_listen(wr, i, err, sizeof(err)) != 0)
			fprintf(stderr, "ccrsim: %s: %s (will retry)\n",
				sim_host_name(wr->srv->world, i), err);
	}
}

/* ---- the loop's hook ---- */

/*
 * WinRM's two listeners per host are left out of an SSH fleet whose
 * descriptors would not suffice with them (10,002 hosts against a hard
 * limit of 20,000 that only root with CAP_SYS_RESOURCE can raise): said once
 * on stderr.  A --transport winrm fleet always has them.
 */
static void winrm_budget(struct sim_winrm *wr)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)wr->srv->nhosts * 4 + 1024;

	if (wr->srv->opts->winrm || getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
		return;
	wr->off = 1;
	fprintf(stderr,
		"ccrsim: WinRM not served: %d hosts need about %llu descriptors with it, the "
		"limit is %llu (--transport winrm serves it)\n",
		wr->srv->nhosts, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

struct sim_winrm *sim_winrm_new(struct sim_server *srv, char *err, size_t errlen)
{
	struct sim_winrm *wr = xcalloc(1, sizeof(*wr));
	struct sim_wr_listener *l;

	wr->srv = srv;
	wr->hosts = xcalloc((size_t)srv->nhosts + 1, sizeof(*wr->hosts));
	/* The listeners' who pointers live after the hosts, one block. */
	l = xcalloc((size_t)srv->nhosts * 2 + 1, sizeof(*l));
	for (int i = 0; i < srv->nhosts; i++) {
		wr->hosts[i].fd[0] = wr->hosts[i].fd[1] = -1;
		wr->hosts[i].epoch = sim_host_boot_epoch(srv->world, i);
		for (int k = 0; k < 2; k++)
			l[i * 2 + k] = (struct sim_wr_listener){WR_LISTENER, i, k};
	}
	wr->listeners = l;
	wr->lsn_who = xcalloc(1, sizeof(*wr->lsn_who));
	*wr->lsn_who = (struct sim_wr_listener){WR_LSNSET, -1, 0};
	wr->lsn = sim_lsnset_new();
	if (wr->lsn == NULL) {
		snprintf(err, errlen, "WinRM: epoll: %s", strerror(errno));
		goto fail;
	}
	winrm_budget(wr);
	if (sim_wr_tls_init(wr, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < srv->nhosts; i++) {
		wr->hosts[i].up = sim_host_power(srv->world, i, 0) == SIM_UP;
		if (wr->hosts[i].up && host_listen(wr, i, err, errlen) != 0)
			goto fail;
	}
	return wr;
fail:
	sim_winrm_free(wr, 0);
	return NULL;
}

static struct sim_wr_listener *listeners(const struct sim_winrm *wr)
{
	return wr->listeners;
}

void sim_winrm_free(struct sim_winrm *wr, int64_t now)
{
	if (wr == NULL)
		return;
	while (wr->conns != NULL)
		conn_free(wr, wr->conns);
	sim_wr_shells_drop_host(wr, -1, now);
	for (int i = 0; i < wr->srv->nhosts && wr->lsn != NULL; i++)
		host_unlisten(wr, i);
	sim_lsnset_free(wr->lsn);
	free(wr->lsn_who);
	free(listeners(wr));
	sim_wr_tls_release(wr);
	free(wr->hosts);
	free(wr);
}

/* A held Receive: answer it if output came, Done, the drop fault, or its time is up. */
static int conn_wait(struct sim_winrm *wr, struct sim_wr_conn *c, int64_t now)
{
	int timed_out = now_mono_ms() >= c->deadline;
	struct sbuf resp;
	int status = 200;
	enum sim_wr_outcome o;

	sbuf_init(&resp);
	o = sim_wr_handle(wr, c->host, &c->held, now, timed_out, &resp, &status);
	if (o == SIM_WR_REPLY) {
		sim_wr_req_release(&c->held);
		respond(c, status, NULL, &resp);
	}
	sbuf_release(&resp);
	if (o == SIM_WR_DROP)
		return -1;
	return o == SIM_WR_REPLY ? conn_step(wr, c) : 0;
}

void sim_winrm_pump(struct sim_winrm *wr, int64_t now)
{
	int64_t real = now_mono_ms();
	struct sim_wr_conn *next;

	hosts_sweep(wr, now);
	if (wr->srv->paused_at < 0)
		sim_wr_shells_poll(wr, now);
	for (struct sim_wr_conn *c = wr->conns; c != NULL; c = next) {
		int rc = 0;

		next = c->next;
		if (c->state == WR_WAITING)
			rc = conn_wait(wr, c, now);
		else if (real >= c->deadline)
			rc = -1; /* idle keep-alive, a stalled write, or the linger is over */
		if (rc < 0)
			conn_free(wr, c);
	}
}

int sim_winrm_npoll(const struct sim_winrm *wr)
{
	return 1 + wr->nconns;
}

int sim_winrm_pollfds(struct sim_winrm *wr, struct pollfd *pfd, void **who, int max)
{
	int n = 0;

	if (wr->nconns < WR_MAX_CONNS && n < max) {
		pfd[n] = (struct pollfd){.fd = sim_lsnset_fd(wr->lsn), .events = POLLIN};
		who[n++] = wr->lsn_who;
	}
	for (struct sim_wr_conn *c = wr->conns; c != NULL && n < max; c = c->next) {
		short ev = c->want != 0 ? c->want : c->state == WR_WRITING ? POLLOUT : POLLIN;

		pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
		who[n++] = c;
	}
	return n;
}

void sim_winrm_ready(struct sim_winrm *wr, void *who, short revents)
{
	enum wr_kind kind = *(enum wr_kind *)who;

	(void)revents; /* errors and hang-ups show in the read or write itself */
	if (kind == WR_LSNSET) {
		uint64_t tags[64];
		int n = sim_lsnset_ready(wr->lsn, tags, 64);

		for (int k = 0; k < n && wr->nconns < WR_MAX_CONNS; k++)
			conn_accept(wr, &listeners(wr)[tags[k]]);
		return;
	}
	struct sim_wr_conn *c = who;
	if (c->state == WR_WAITING) {
		/* Only a close (or pipelined bytes, kept for later) can come now. */
		if (conn_recv(c) < 0)
			conn_free(wr, c);
		return;
	}
	if (conn_step(wr, c) < 0)
		conn_free(wr, c);
}

int sim_winrm_timeout(const struct sim_winrm *wr, int64_t now)
{
	int64_t real = now_mono_ms(), t = SIM_MAX_SLEEP_MS;
	int64_t next = wr->srv->paused_at < 0 ? sim_wr_shells_next(wr) : INT64_MAX;

	if (next != INT64_MAX && next - now < t)
		t = next - now;
	for (const struct sim_wr_conn *c = wr->conns; c != NULL; c = c->next) {
		if (c->deadline - real < t)
			t = c->deadline - real;
	}
	return t < 0 ? 0 : (int)t;
}
