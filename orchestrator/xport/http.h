/*
 * http.h — one HTTP(S) request with libcurl, for http_check steps and
 * notifications.  TLS verification stays on unless the caller opts out.
 */
#ifndef CCR_HTTP_H
#define CCR_HTTP_H

#include <stdint.h>

#include "util.h"

struct http_req {
	const char *method; /* "GET" or "POST" */
	const char *url;
	const char *body;	  /* POST body, or NULL */
	const char *content_type; /* for body, e.g. "application/json" */
	int64_t timeout_ms;	  /* whole request */
	int insecure;		  /* 1: do not verify the peer's certificate */
	size_t body_cap;	  /* bytes of the response body kept */
};

/*
 * Perform the request.  Returns 0 with *status (HTTP status) and the body
 * (up to body_cap) in resp, or -1 with err (curl's message: "Couldn't
 * connect to server", "Operation timed out after 5000 milliseconds").
 */
int http_request(const struct http_req *rq, long *status, struct sbuf *resp, char *err,
		 size_t errlen);

/* curl_global_init / cleanup, once per process. */
int http_global_init(void);
void http_global_cleanup(void);

#endif
