/*
 * http.c — see http.h.  A fresh easy handle per request: requests are rare
 * (a health check, a notification), so simplicity beats connection reuse.
 */
#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct body_sink {
	struct sbuf *sb;
	size_t cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body_sink *b = arg;
	size_t n = size * nmemb;
	if (b->sb && b->sb->len < b->cap)
		sbuf_add(b->sb, data, n < b->cap - b->sb->len ? n : b->cap - b->sb->len);
	return n;
}

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

int http_request(const struct http_req *rq, long *status, struct sbuf *resp, char *err,
		 size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = NULL;
	struct body_sink sink = {resp, rq->body_cap ? rq->body_cap : 65536};
	char ebuf[CURL_ERROR_SIZE] = "";
	int rc = -1;

	if (c == NULL) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 (long)(rq->timeout_ms > 0 ? rq->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ccrup");
	if (rq->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (rq->body) {
		char *ct = xasprintf("Content-Type: %s",
				     rq->content_type ? rq->content_type : "application/json");
		hdr = curl_slist_append(hdr, ct);
		free(ct);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	}
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		/* No URL here: the caller names it, redacted as it needs (textsafe.h). */
		snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	rc = 0;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc;
}
