/*
 * sim_http.c — the HTTP responder of the simulated HT/CAS servers: a
 * request head in, a whole response out (sim_http.h).
 *
 * Minimal on purpose: Outlook Web Access is one URL, a check asks for it
 * once, and the connection closes after every response, so there is no
 * keep-alive, no body reading, no chunking and no pipelining to get wrong.
 * Strict on purpose too: ccrup's http_check and curl send well-formed
 * requests, and a simulator that accepted sloppy ones would hide a client
 * bug a real IIS would expose.  Malformed input is refused as early as it
 * can be recognised (a bare LF, a NUL, a method that is not a token, a
 * request line that cannot be valid), not after a timeout.
 *
 * Every answered request is counted on its host (the dump's
 * http_requests), whatever its status.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim_http.h"

/* The parts of a request line, pointing into the caller's buffer. */
struct http_req {
	const char *method; /* the method token */
	size_t method_len;  /* its length */
	const char *target; /* origin-form request target ("/owa/?a=b") */
	size_t target_len;  /* its length */
	int minor;	    /* HTTP/1.minor: 0 or 1 */
};

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *reason(int status)
{
	static const struct {
		int status;	    /* HTTP status */
		const char *phrase; /* its reason phrase */
	} phrases[] = {
	    {200, "OK"},
	    {400, "Bad Request"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {414, "URI Too Long"},
	    {431, "Request Header Fields Too Large"},
	    {503, "Service Unavailable"},
	    {505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < CCR_ARRAY_LEN(phrases); i++)
		if (phrases[i].status == status)
			return phrases[i].phrase;
	return "Error";
}

/* Append the whole response to resp and count the request.  Returns status. */
static int respond(struct sim_world *w, int host, struct sbuf *resp, int status, const char *ctype,
		   const char *extra, const char *body)
{
	sbuf_addf(resp,
		  "HTTP/1.1 %d %s\r\nServer: ccrsim\r\nContent-Type: %s\r\n"
		  "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
		  status, reason(status), ctype, strlen(body), extra, body);
	sim_host_http_count(w, host);
	return status;
}

/* A refusal with a one-line plain-text body naming the status. */
static int refuse(struct sim_world *w, int host, struct sbuf *resp, int status)
{
	char body[96];

	snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	return respond(w, host, resp, status, "text/plain; charset=utf-8", "", body);
}

/*
 * Bytes that make any request invalid, whatever follows: NUL, a LF not after
 * a CR, a CR not before a LF, or a first word (the method) that is not a
 * token — a TLS ClientHello or binary noise is refused at once.
 */
static int bad_bytes(const char *buf, size_t len)
{
	int in_method = 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\0' || (c == '\n' && (i == 0 || buf[i - 1] != '\r')) ||
		    (c == '\r' && i + 1 < len && buf[i + 1] != '\n'))
			return 1;
		if (in_method && c == ' ')
			in_method = 0;
		else if (in_method && !is_tchar(c))
			return 1;
	}
	return 0;
}

/* "METHOD SP TARGET SP HTTP/1.x" (line without its CRLF).  0, 400 or 505. */
static int parse_request_line(const char *line, size_t n, struct http_req *rq)
{
	const char *end = line + n;
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
	const char *v = sp2 != NULL ? sp2 + 1 : NULL;

	if (sp1 == NULL || sp1 == line || sp2 == NULL || sp2 == sp1 + 1 || sp1[1] != '/')
		return 400;
	rq->method = line;
	rq->method_len = (size_t)(sp1 - line);
	rq->target = sp1 + 1;
	rq->target_len = (size_t)(sp2 - sp1 - 1);
	for (size_t i = 0; i < rq->target_len; i++)
		if ((unsigned char)rq->target[i] <= 0x20 || (unsigned char)rq->target[i] >= 0x7f)
			return 400;
	if (end - v != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || v[7] > '1')
		return 505;
	rq->minor = v[7] - '0';
	return 0;
}

/* What the header section says that matters here. */
struct http_fields {
	int host;	    /* Host fields seen */
	int content_length; /* Content-Length fields seen */
	int te;		    /* Transfer-Encoding fields seen */
};

/* One "name: value" line (without CRLF).  0 or 400. */
static int parse_field(const char *line, size_t n, struct http_fields *f)
{
	const char *colon = memchr(line, ':', n);
	size_t name_len = colon != NULL ? (size_t)(colon - line) : 0;
	const char *v, *end = line + n;

	if (colon == NULL || name_len == 0)
		return 400; /* also a folded line: it starts with SP or HTAB, not a token */
	v = colon + 1;
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)line[i]))
			return 400;
	for (const char *p = v; p < end; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 400;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (name_len == 4 && strncasecmp(line, "Host", 4) == 0)
		f->host++;
	else if (name_len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0)
		f->te++;
	else if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		f->content_length++;
		if (v == end)
			return 400;
		for (const char *p = v; p < end; p++)
			if (*p < '0' || *p > '9')
				return 400;
	}
	return 0;
}

/* The header section [p, end), every line CRLF-terminated.  0 or 400. */
static int parse_fields(const char *p, const char *end, const struct http_req *rq)
{
	struct http_fields f = {0, 0, 0};

	while (p < end) {
		const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (crlf == NULL || parse_field(p, (size_t)(crlf - p), &f) != 0)
			return 400;
		p = crlf + 2;
	}
	if (f.host > 1 || (rq->minor == 1 && f.host == 0) || f.content_length > 1 ||
	    (f.content_length > 0 && f.te > 0))
		return 400;
	return 0;
}

/* GET /owa/: the page while a CMS the CAS serves is Online, 503 naming the states otherwise. */
static int owa(struct sim_world *w, int host, struct sbuf *resp)
{
	struct sbuf why, body;
	int up, status;

	sbuf_init(&why);
	sbuf_init(&body);
	up = sim_cas_owa_online(w, host, &why);
	sbuf_addf(&body,
		  "<!DOCTYPE html>\n<html><head><title>%s</title></head>\n"
		  "<body><h1>%s</h1><p>%s: %s.</p></body></html>\n",
		  up ? "Outlook Web Access" : "Service Unavailable",
		  up ? "Outlook Web Access" : "Outlook Web Access is unavailable",
		  sim_host_name(w, host), why.len > 0 ? why.buf : "no clustered mailbox server");
	status = respond(w, host, resp, up ? 200 : 503, "text/html; charset=utf-8", "", body.buf);
	sbuf_release(&why);
	sbuf_release(&body);
	return status;
}

/* A complete, valid request: route it. */
static int route(struct sim_world *w, int host, const struct http_req *rq, struct sbuf *resp)
{
	const char *q = memchr(rq->target, '?', rq->target_len);
	size_t path_len = q != NULL ? (size_t)(q - rq->target) : rq->target_len;

	if (path_len != 5 || strncasecmp(rq->target, "/owa/", 5) != 0)
		return refuse(w, host, resp, 404);
	if (rq->method_len != 3 || memcmp(rq->method, "GET", 3) != 0)
		return respond(w, host, resp, 405, "text/plain; charset=utf-8", "Allow: GET\r\n",
			       "405 Method Not Allowed\n");
	return owa(w, host, resp);
}

int sim_http_answer(struct sim_world *w, int host, const char *buf, size_t len,
		    enum sim_http_end end, struct sbuf *resp)
{
	const char *line_end = memmem(buf, len, "\r\n", 2);
	const char *head_end = memmem(buf, len, "\r\n\r\n", 4);
	struct http_req rq = {NULL, 0, NULL, 0, 0};
	int st;

	if (len == 0)
		return end == SIM_HTTP_OPEN ? 0 : -1;
	if (bad_bytes(buf, len))
		return refuse(w, host, resp, 400);
	if (line_end != NULL && (st = parse_request_line(buf, (size_t)(line_end - buf), &rq)) != 0)
		return refuse(w, host, resp, st);
	if (head_end == NULL) {
		if (len >= SIM_HTTP_MAX_HEAD)
			return refuse(w, host, resp, line_end == NULL ? 414 : 431);
		if (end == SIM_HTTP_OPEN)
			return 0;
		return refuse(w, host, resp, end == SIM_HTTP_EOF ? 400 : 408);
	}
	if ((st = parse_fields(line_end + 2, head_end + 2, &rq)) != 0)
		return refuse(w, host, resp, st);
	return route(w, host, &rq, resp);
}
