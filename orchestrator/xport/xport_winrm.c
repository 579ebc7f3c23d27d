/*
 * xport_winrm.c — the WinRM transport (xport.h, docs/winrm.md): the
 * MS-WSMV remote shell over HTTP(S) with libcurl, SOAP built and parsed by
 * winrm_soap.c (libxml2).
 *
 * One shell per node, created on connect and kept open across commands
 * (Windows caps shells per user, and a Create costs a process start on the
 * node).  "Connected" means "we hold a ShellId"; the HTTP connection under
 * it is libcurl's keep-alive connection, reopened by libcurl as needed.
 * After a reboot the ShellId is gone on the node: the next Command gets a
 * fault, and since the command was not started the shell is recreated and
 * the Command sent once more.
 *
 * Every request runs on a curl multi handle polled in slices of at most
 * SLICE_MS, so a stop request and the command deadline are honoured while
 * a Receive is held open by the node (up to OperationTimeout).  A command
 * abandoned on timeout or stop gets a Signal terminate (best effort, on a
 * fresh connection, bounded by the connect timeout).
 *
 * Certificates are verified (peer and host name) against the node's CA
 * file or the system store; a failure is XPORT_HOSTKEY (never retried),
 * naming the node, the name expected and the CA file.  Credentials go to
 * libcurl as options, never into the URL, the journal or a message.
 */
#include "xport_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "winrm_soap.h"

#define SLICE_MS	 100
#define DEFAULT_OP_MS	 20000
#define DEFAULT_ENVELOPE 153600
#define CODEPAGE_UTF8	 65001
#define SIGNAL_BUDGET_MS 5000
#define DELETE_BUDGET_MS 2000
#define MAX_REPLY_BYTES	 (8u << 20)
#define REPLY_SLACK_MS	 10000 /* beyond OperationTimeout before a reply is given up */

/* One response. */
struct http_reply {
	long status;	  /* HTTP status */
	struct sbuf body; /* the body, up to MAX_REPLY_BYTES */
};

struct xport_winrm {
	char *url;		       /* https://HOST:PORT/wsman */
	char *host;		       /* the name in the URL (server_name or address) */
	char *address;		       /* where to connect */
	int port;		       /* WinRM port */
	int https;		       /* 1: TLS */
	char *user;		       /* account */
	char *password;		       /* secret, wiped on free */
	char *ca_file;		       /* CA bundle, or NULL (system store) */
	char *password_error;	       /* no password: why (connect fails with it) */
	enum xport_winrm_auth auth;    /* scheme */
	int allow_unencrypted;	       /* http:// permitted */
	int64_t op_ms;		       /* OperationTimeout */
	int64_t envelope;	       /* MaxEnvelopeSize */
	CURLM *multi;		       /* keeps the connection cache between requests */
	CURLSH *tls;		       /* TLS sessions, kept across reconnections */
	CURL *easy;		       /* the one request handle, reused */
	struct curl_slist *headers;    /* Content-Type etc. */
	struct curl_slist *connect_to; /* HOST:PORT:ADDRESS:PORT when server_name is set */
	char *shell_id;		       /* the open shell, or NULL */
	curl_socket_t sock;	       /* the kept-alive connection's socket, or CURL_SOCKET_BAD */
	struct wsman_reader *reader;   /* reads every reply, made once */
	struct http_reply rep;	       /* the last response (its buffer kept for the next) */
	unsigned char id_base[16];     /* random: every MessageID derives from it */
	uint64_t id_seq;	       /* messages sent (numbers the next MessageID) */
	char errbuf[CURL_ERROR_SIZE];  /* libcurl's text of the last failure */
};

/* How one HTTP exchange ended. */
enum post_end {
	POST_OK,      /* a response arrived (any status) */
	POST_STOPPED, /* *stop was set */
	POST_TIMEOUT, /* the deadline passed */
	POST_CONNECT, /* could not connect: nothing was sent */
	POST_CERT,    /* the server's certificate was refused */
	POST_BROKEN,  /* the connection broke after the request may have been sent */
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sbuf *sb = arg;

	if (sb->len + size * n > MAX_REPLY_BYTES)
		return 0; /* libcurl fails the transfer */
	sbuf_add(sb, data, size * n);
	return size * n;
}

/* Bracket IPv6 literals for a URL. */
static char *url_host(const char *h)
{
	return strchr(h, ':') != NULL ? xasprintf("[%s]", h) : xstrdup(h);
}

/*
 * libcurl closes a socket: forget it if it is the one winrm_socket() gives.
 * (After a request the connection sits in the multi handle's cache, where the
 * easy handle no longer reports it; a reboot wait watches it for the node's FIN.)
 */
static int on_close(void *arg, curl_socket_t s)
{
	struct xport_winrm *w = arg;

	if (w->sock == s)
		w->sock = CURL_SOCKET_BAD;
	return close(s);
}

static long auth_bits(enum xport_winrm_auth a)
{
	return a == XPORT_WINRM_NTLM	    ? (long)CURLAUTH_NTLM
	       : a == XPORT_WINRM_NEGOTIATE ? (long)CURLAUTH_NEGOTIATE
					    : (long)CURLAUTH_BASIC;
}

/* The request handle with everything that does not change between requests. */
static void easy_setup(struct xport *x)
{
	struct xport_winrm *w = x->wr;
	CURL *e = curl_easy_init();

	if (e == NULL || (w->multi == NULL && (w->multi = curl_multi_init()) == NULL)) {
		fprintf(stderr, "ccrup: out of memory (libcurl)\n");
		abort();
	}
	curl_easy_setopt(e, CURLOPT_SHARE, w->tls);
	curl_easy_setopt(e, CURLOPT_URL, w->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &w->rep.body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 (long)(w->op_ms + x->connect_timeout_ms + REPLY_SLACK_MS));
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, w);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)x->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, w->https ? "https" : "http");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (w->ca_file != NULL) {
		/* The CA file alone, not also the system's directory (libcurl's default
		 * CApath): trust is what the inventory says, and without a CApath libcurl
		 * keeps the loaded store in the multi handle for the next connection
		 * instead of reading and decoding the file for every one. */
		curl_easy_setopt(e, CURLOPT_CAINFO, w->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (w->connect_to != NULL)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, w->connect_to);
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, auth_bits(w->auth));
	curl_easy_setopt(e, CURLOPT_USERNAME, w->user != NULL ? w->user : "");
	curl_easy_setopt(e, CURLOPT_PASSWORD, w->password != NULL ? w->password : "");
	w->easy = e;
}

static enum post_end classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return POST_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return POST_CONNECT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return POST_CERT;
	default:
		return POST_BROKEN;
	}
}

/*
 * POST body and wait for the response in slices.  A transfer cut short by
 * stop or the deadline is removed from the multi handle, which closes its
 * connection (it cannot be reused mid-response).
 */
static enum post_end post(struct xport *x, const char *body, int64_t deadline,
			  volatile sig_atomic_t *stop)
{
	struct xport_winrm *w = x->wr;
	enum post_end end = POST_BROKEN;
	int running = 1;
	CURLMsg *msg;
	int left;

	if (w->easy == NULL)
		easy_setup(x);
	sbuf_reset(&w->rep.body);
	w->rep.status = 0;
	w->errbuf[0] = '\0';
	/* Only the body changes between requests; the rest was set once (easy_setup). */
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_multi_add_handle(w->multi, w->easy);
	for (;;) {
		int64_t now;

		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			break;
		if (running == 0)
			break;
		if (xport__stopped(stop)) {
			end = POST_STOPPED;
			goto out;
		}
		now = now_mono_ms();
		if (now >= deadline) {
			end = POST_TIMEOUT;
			goto out;
		}
		curl_multi_poll(w->multi, NULL, 0,
				deadline - now < SLICE_MS ? (int)(deadline - now) : SLICE_MS, NULL);
	}
	while ((msg = curl_multi_info_read(w->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == w->easy)
			end = classify(msg->data.result);
	if (end == POST_OK) {
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->rep.status);
		if (curl_easy_getinfo(w->easy, CURLINFO_ACTIVESOCKET, &w->sock) != CURLE_OK)
			w->sock = CURL_SOCKET_BAD;
	}
out:
	curl_multi_remove_handle(w->multi, w->easy);
	return end;
}

static void hdr_init(struct xport *x, struct wsman_hdr *h, int with_shell)
{
	memset(h, 0, sizeof(*h));
	h->to = x->wr->url;
	h->shell_id = with_shell ? x->wr->shell_id : NULL;
	h->max_envelope_size = x->wr->envelope;
	h->operation_timeout_ms = x->wr->op_ms;
	h->locale = "en-US";
	h->id_base = x->wr->id_base;
	h->id_seq = x->wr->id_seq++;
}

/* Set x's error for a failed exchange; returns the matching outcome. */
static enum xport_outcome post_fail(struct xport *x, enum post_end end, const char *what)
{
	struct xport_winrm *w = x->wr;

	switch (end) {
	case POST_CONNECT:
		xport__fail(x, "%s: %s", what, w->errbuf[0] ? w->errbuf : "cannot connect");
		return XPORT_CONNECT_FAILED;
	case POST_CERT:
		xport__fail(x, "certificate refused for %s (expected name '%s', CA file %s): %s",
			    w->url, w->host, w->ca_file != NULL ? w->ca_file : "(system store)",
			    w->errbuf);
		return XPORT_HOSTKEY;
	case POST_STOPPED:
		xport__fail(x, "%s: stopped on request", what);
		return XPORT_STOPPED;
	case POST_TIMEOUT:
		xport__fail(x, "%s: timed out", what);
		return XPORT_TIMEOUT;
	default:
		xport__fail(x, "%s: connection lost: %s", what,
			    w->errbuf[0] ? w->errbuf : "no response");
		return XPORT_DROPPED;
	}
}

/*
 * Interpret an HTTP response: 200 with a SOAP body, or a SOAP fault (500).
 * 0 with r filled (r->fault may be set), or -1 with x's error set and *o
 * the outcome (401: XPORT_AUTH_FAILED).
 */
static int reply_take(struct xport *x, const struct http_reply *rep, const char *what,
		      struct wsman_reply *r, enum xport_outcome *o)
{
	*o = XPORT_DROPPED;
	if (rep->status == 401) {
		xport__fail(x, "%s: authentication failed for user %s (HTTP 401, %s)", what,
			    x->wr->user != NULL ? x->wr->user : "?",
			    x->wr->auth == XPORT_WINRM_NTLM	   ? "NTLM"
			    : x->wr->auth == XPORT_WINRM_NEGOTIATE ? "Negotiate"
								   : "Basic");
		*o = XPORT_AUTH_FAILED;
		return -1;
	}
	if (x->wr->reader == NULL)
		x->wr->reader = wsman_reader_new();
	if (wsman_reader_parse(x->wr->reader, rep->body.buf, rep->body.len, r) != 0) {
		xport__fail(x, "%s: HTTP %ld, %s", what, rep->status, r->fault_text);
		return -1;
	}
	if (rep->status != 200 && !r->fault) {
		xport__fail(x, "%s: HTTP %ld without a SOAP fault", what, rep->status);
		return -1;
	}
	return 0;
}

/* One request: build, post, parse.  XPORT_OK with r filled (maybe a fault). */
static enum xport_outcome call(struct xport *x, const char *body, const char *what,
			       int64_t deadline, volatile sig_atomic_t *stop, struct wsman_reply *r)
{
	enum xport_outcome o = XPORT_OK;
	enum post_end end = post(x, body, deadline, stop);

	if (end != POST_OK)
		o = post_fail(x, end, what);
	else if (reply_take(x, &x->wr->rep, what, r, &o) == 0)
		o = XPORT_OK;
	return o;
}

static void fault_fail(struct xport *x, const char *what, const struct wsman_reply *r)
{
	xport__fail(x, "%s: WS-Management fault %s: %s", what,
		    r->fault_code != NULL ? r->fault_code : "?",
		    r->fault_text != NULL ? r->fault_text : "(no text)");
}

static enum xport_outcome winrm_connect(struct xport *x)
{
	struct xport_winrm *w = x->wr;
	struct wsman_reply r;
	struct wsman_hdr h;
	enum xport_outcome o;
	char msgid[48];
	char *body;

	if (w->shell_id != NULL)
		return XPORT_OK;
	xport__seterr(x, NULL);
	if (w->password_error != NULL) {
		xport__fail(x, "%s", w->password_error);
		return XPORT_AUTH_FAILED;
	}
	if (!w->https && !w->allow_unencrypted) {
		xport__fail(x, "refusing WinRM over plain HTTP without winrm_allow_unencrypted");
		return XPORT_AUTH_FAILED;
	}
	hdr_init(x, &h, 0);
	body = wsman_build_create(&h, CODEPAGE_UTF8, msgid);
	wsman_reply_init(&r);
	o = call(x, body, "create shell", now_mono_ms() + x->connect_timeout_ms + w->op_ms, NULL,
		 &r);
	if (o == XPORT_DROPPED || o == XPORT_TIMEOUT)
		o = XPORT_CONNECT_FAILED; /* nothing ran: a Create may be retried */
	if (o == XPORT_OK && (r.fault || r.shell_id == NULL)) {
		fault_fail(x, "create shell", &r);
		o = XPORT_CONNECT_FAILED;
	}
	if (o == XPORT_OK) {
		w->shell_id = r.shell_id;
		r.shell_id = NULL;
		x->connects++;
	}
	wsman_reply_release(&r);
	free(body);
	return o;
}

/* Forget the shell and the connection (nothing is sent). */
static void winrm_drop(struct xport *x)
{
	struct xport_winrm *w = x->wr;

	free(w->shell_id);
	w->shell_id = NULL;
	if (w->easy != NULL) {
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	if (w->multi != NULL) {
		curl_multi_cleanup(w->multi);
		w->multi = NULL;
	}
	w->sock = CURL_SOCKET_BAD;
}

/* Delete the shell (best effort, briefly), then forget it. */
static void winrm_disconnect(struct xport *x)
{
	struct xport_winrm *w = x->wr;
	struct wsman_reply r;
	struct wsman_hdr h;
	char msgid[48];
	char *body;

	if (w->shell_id != NULL && w->easy != NULL) {
		hdr_init(x, &h, 1);
		body = wsman_build_delete(&h, msgid);
		wsman_reply_init(&r);
		(void)call(x, body, "delete shell", now_mono_ms() + DELETE_BUDGET_MS, NULL, &r);
		wsman_reply_release(&r);
		free(body);
	}
	winrm_drop(x);
}

/* Send Command; on a stale shell (fault), recreate it once and resend. */
static enum xport_outcome start_command(struct xport *x, const char *cmd, int64_t deadline,
					volatile sig_atomic_t *stop, char **command_id)
{
	enum xport_outcome o = XPORT_OK;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct wsman_reply r;
		struct wsman_hdr h;
		char msgid[48];
		char *body;

		if ((o = winrm_connect(x)) != XPORT_OK)
			return o;
		hdr_init(x, &h, 1);
		body = wsman_build_command(&h, cmd, msgid);
		wsman_reply_init(&r);
		o = call(x, body, "command", deadline, stop, &r);
		free(body);
		if (o == XPORT_OK && !r.fault && r.command_id != NULL) {
			*command_id = r.command_id;
			r.command_id = NULL;
		} else if (o == XPORT_OK) {
			/* Refused before it started (e.g. the shell is gone after a reboot).
			 * The connection answered: the new shell is made on it. */
			fault_fail(x, "command", &r);
			o = XPORT_CONNECT_FAILED;
			free(x->wr->shell_id);
			x->wr->shell_id = NULL;
		}
		wsman_reply_release(&r);
		if (o != XPORT_CONNECT_FAILED || attempt > 0 || *command_id != NULL)
			break;
	}
	return o;
}

/* Abandon a command: Signal terminate on a fresh connection, briefly. */
static void terminate(struct xport *x, const char *command_id)
{
	struct wsman_reply r;
	struct wsman_hdr h;
	char msgid[48];
	char *body;

	hdr_init(x, &h, 1);
	body = wsman_build_signal(&h, command_id, WSMAN_SIGNAL_TERMINATE, msgid);
	wsman_reply_init(&r);
	(void)call(x, body, "signal terminate", now_mono_ms() + SIGNAL_BUDGET_MS, NULL, &r);
	wsman_reply_release(&r);
	free(body);
}

/* Receive until Done, the deadline or stop. */
static enum xport_outcome receive_all(struct xport *x, const char *command_id, struct xport_pump *p,
				      int64_t deadline, volatile sig_atomic_t *stop)
{
	struct wsman_reply r;
	enum xport_outcome o = XPORT_OK;

	wsman_reply_init(&r);
	for (;;) {
		struct wsman_hdr h;
		char msgid[48];
		char *body;

		hdr_init(x, &h, 1);
		body = wsman_build_receive(&h, command_id, msgid);
		o = call(x, body, "receive", deadline, stop, &r);
		free(body);
		if (o == XPORT_CONNECT_FAILED)
			o = XPORT_DROPPED; /* the command started: its outcome is unknown */
		if (o != XPORT_OK)
			break;
		if (r.fault) {
			if (r.fault_code != NULL &&
			    strcmp(r.fault_code, WSMAN_FAULT_TIMED_OUT) == 0)
				continue; /* nothing within OperationTimeout: poll again */
			fault_fail(x, "receive", &r);
			o = XPORT_DROPPED;
			break;
		}
		if (r.out.len > 0)
			xport__pump_take(p, 1, r.out.buf, r.out.len);
		if (r.err.len > 0)
			xport__pump_take(p, 2, r.err.buf, r.err.len);
		if (r.done) {
			p->res->exit = r.exit_code;
			break;
		}
	}
	wsman_reply_release(&r);
	return o;
}

static enum xport_outcome winrm_exec(struct xport *x, const char *cmd, struct xport_pump *p,
				     int64_t deadline, volatile sig_atomic_t *stop)
{
	char *command_id = NULL;
	enum xport_outcome o = start_command(x, cmd, deadline, stop, &command_id);

	if (o != XPORT_OK) {
		if (o == XPORT_DROPPED)
			winrm_drop(x);
		goto out;
	}
	o = receive_all(x, command_id, p, deadline, stop);
	if (o == XPORT_TIMEOUT || o == XPORT_STOPPED) {
		char *keep = x->error;

		x->error = NULL;
		terminate(x, command_id);
		xport__seterr(x, keep);
		xport__fail(x, "%s",
			    o == XPORT_TIMEOUT ? "command timed out"
					       : "command stopped on request");
	} else if (o == XPORT_DROPPED) {
		winrm_drop(x);
		char *keep = xasprintf("%s; its outcome is unknown", xport_error(x));
		xport__seterr(x, keep);
	}
out:
	free(command_id);
	return o;
}

static int winrm_is_connected(const struct xport *x)
{
	return x->wr->shell_id != NULL;
}

/* The connection of the last exchange while libcurl keeps it open, or -1. */
static int winrm_socket(const struct xport *x)
{
	return x->wr->sock == CURL_SOCKET_BAD ? -1 : (int)x->wr->sock;
}

static void winrm_release(struct xport *x)
{
	struct xport_winrm *w = x->wr;

	if (w == NULL)
		return;
	winrm_drop(x);
	wsman_reader_free(w->reader);
	sbuf_release(&w->rep.body);
	if (w->tls != NULL)
		curl_share_cleanup(w->tls);
	curl_slist_free_all(w->headers);
	curl_slist_free_all(w->connect_to);
	if (w->password != NULL)
		explicit_bzero(w->password, strlen(w->password));
	free(w->password);
	free(w->url);
	free(w->host);
	free(w->address);
	free(w->user);
	free(w->ca_file);
	free(w->password_error);
	free(w);
	x->wr = NULL;
}

static const struct xport_ops winrm_ops = {
    .name = "winrm",
    .connect = winrm_connect,
    .disconnect = winrm_disconnect,
    .exec = winrm_exec,
    .is_connected = winrm_is_connected,
    .socket = winrm_socket,
    .release = winrm_release,
};

static struct curl_slist *slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = curl_slist_append(l, s);

	if (n == NULL) {
		fprintf(stderr, "ccrup: out of memory (libcurl)\n");
		abort();
	}
	return n;
}

void xport__winrm_init(struct xport *x, const struct xport_options *opt)
{
	const struct xport_winrm_options *wo = opt->winrm;
	struct xport_winrm *w = xcalloc(1, sizeof(*w));
	char *uh;

	x->ops = &winrm_ops;
	x->wr = w;
	w->sock = CURL_SOCKET_BAD;
	sbuf_init(&w->rep.body);
	if (RAND_bytes(w->id_base, sizeof(w->id_base)) != 1) {
		fprintf(stderr, "ccrup: no random bytes for message ids\n");
		abort();
	}
	w->https = wo != NULL ? wo->https : 1;
	w->port = opt->port > 0 ? opt->port : w->https ? 5986 : 5985;
	w->address = xstrdup(x->address != NULL ? x->address : x->name);
	w->host = xstrdup(wo != NULL && wo->server_name != NULL ? wo->server_name : w->address);
	w->user = opt->user != NULL ? xstrdup(opt->user) : NULL;
	w->password = wo != NULL && wo->password != NULL ? xstrdup(wo->password) : NULL;
	w->ca_file = wo != NULL && wo->ca_file != NULL ? xstrdup(wo->ca_file) : NULL;
	w->password_error =
	    wo != NULL && wo->password_error != NULL ? xstrdup(wo->password_error) : NULL;
	w->auth = wo != NULL ? wo->auth : XPORT_WINRM_BASIC;
	w->allow_unencrypted = wo != NULL && wo->allow_unencrypted;
	w->op_ms =
	    wo != NULL && wo->operation_timeout_ms > 0 ? wo->operation_timeout_ms : DEFAULT_OP_MS;
	w->envelope =
	    wo != NULL && wo->max_envelope_size > 0 ? wo->max_envelope_size : DEFAULT_ENVELOPE;
	uh = url_host(w->host);
	w->url = xasprintf("%s://%s:%d/wsman", w->https ? "https" : "http", uh, w->port);
	free(uh);
	if (strcmp(w->host, w->address) != 0) {
		char *ct, *ua = url_host(w->address);

		ct = xasprintf("%s:%d:%s:%d", w->host, w->port, ua, w->port);
		w->connect_to = slist_add(NULL, ct);
		free(ct);
		free(ua);
	}
	/* The handles go with a lost connection (winrm_drop: a reboot, a dropped
	 * command); the TLS session outlives them, so the next connection resumes it
	 * instead of a full handshake (a node that forgot it, e.g. after a reboot,
	 * answers with a full one). */
	w->tls = curl_share_init();
	if (w->tls == NULL ||
	    curl_share_setopt(w->tls, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		fprintf(stderr, "ccrup: out of memory (libcurl)\n");
		abort();
	}
	w->headers = slist_add(NULL, "Content-Type: application/soap+xml;charset=UTF-8");
	w->headers = slist_add(w->headers, "User-Agent: ccrup WinRM");
	w->headers = slist_add(w->headers, "Expect:");
	free(x->label);
	x->label = xasprintf("%s (%s:%d)", x->name, w->address, w->port);
}
