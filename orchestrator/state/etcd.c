/*
 * etcd.c — see etcd.h.
 *
 * Why retries live here: every state operation is one request, and the
 * cluster can lose its leader at any moment (a member killed, a network
 * blip); an election takes about one election timeout.  Retrying transient
 * failures on the next endpoint for a bounded time is what etcd's own
 * client does, and it keeps the callers to one call per operation.
 *
 * The password is kept only in memory and sent only in the authenticate
 * request body; it never appears in a URL, a message or an argument.
 */
#include "etcd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define POOL_MAX   16		       /* idle curl handles kept */
#define REPLY_MAX  (64L * 1024 * 1024) /* larger answers are refused */
#define RETRY_WAIT 100		       /* ms between rounds over every endpoint */

struct etcd {
	char **endpoints; /* "host:port" */
	int n;
	int tls;
	char *ca_file, *cert_file, *key_file;
	char *user;
	char *password;
	int64_t attempt_ms;
	pthread_mutex_t mu; /* guards everything below */
	int cur;	    /* endpoint that answered last */
	char *token;	    /* auth token, or NULL */
	CURL *pool[POOL_MAX];
	int npool;
};

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct etcd *etcd_new(const struct etcd_opts *o)
{
	struct etcd *e = xcalloc(1, sizeof(*e));

	e->n = o->nendpoints;
	e->endpoints = xcalloc((size_t)e->n, sizeof(char *));
	for (int i = 0; i < e->n; i++)
		e->endpoints[i] = xstrdup(o->endpoints[i]);
	e->tls = o->tls;
	e->ca_file = dupn(o->ca_file);
	e->cert_file = dupn(o->cert_file);
	e->key_file = dupn(o->key_file);
	e->user = dupn(o->user);
	e->password = dupn(o->password);
	e->attempt_ms = o->attempt_ms > 0 ? o->attempt_ms : 2000;
	pthread_mutex_init(&e->mu, NULL);
	return e;
}

void etcd_free(struct etcd *e)
{
	if (e == NULL)
		return;
	for (int i = 0; i < e->npool; i++)
		curl_easy_cleanup(e->pool[i]);
	for (int i = 0; i < e->n; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->ca_file);
	free(e->cert_file);
	free(e->key_file);
	free(e->user);
	if (e->password != NULL)
		memset(e->password, 0, strlen(e->password));
	free(e->password);
	free(e->token);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

char *etcd_describe(const struct etcd *e)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_adds(&sb, e->tls ? "https://" : "http://");
	for (int i = 0; i < e->n; i++)
		sbuf_addf(&sb, "%s%s", i ? "," : "", e->endpoints[i]);
	return sbuf_detach(&sb);
}

static CURL *handle_get(struct etcd *e)
{
	CURL *c = NULL;

	pthread_mutex_lock(&e->mu);
	if (e->npool > 0)
		c = e->pool[--e->npool];
	pthread_mutex_unlock(&e->mu);
	if (c == NULL)
		c = curl_easy_init();
	if (c == NULL) {
		fprintf(stderr, "ccrup: out of memory (curl)\n");
		abort();
	}
	return c;
}

static void handle_put(struct etcd *e, CURL *c)
{
	pthread_mutex_lock(&e->mu);
	if (e->npool < POOL_MAX) {
		e->pool[e->npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&e->mu);
	if (c != NULL)
		curl_easy_cleanup(c);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sbuf *sb = arg;
	size_t n = size * nmemb;

	if (sb->len + n > (size_t)REPLY_MAX)
		return 0; /* makes curl fail the transfer */
	sbuf_add(sb, data, n);
	return n;
}

/* One HTTP attempt on endpoint i.  Returns the HTTP status, or -1 with err. */
static long http_post(struct etcd *e, int i, const char *path, const char *body, const char *token,
		      int64_t timeout_ms, struct sbuf *out, char *err, size_t errlen)
{
	CURL *c = handle_get(e);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	char *url = xasprintf("%s://%s%s", e->tls ? "https" : "http", e->endpoints[i], path);
	char *auth = token ? xasprintf("Authorization: %s", token) : NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	long status = -1;
	CURLcode rc;

	if (auth != NULL)
		hdr = curl_slist_append(hdr, auth);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(timeout_ms < 1000 ? timeout_ms : 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
	if (e->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert_file);
	if (e->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key_file);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(err, errlen, "%s: %s", e->endpoints[i],
			 cerr[0] ? cerr : curl_easy_strerror(rc));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	handle_put(e, c);
	curl_slist_free_all(hdr);
	free(url);
	free(auth);
	return status;
}

/* Errors after which another member (or a moment later) may succeed. */
static int transient(const char *msg)
{
	static const char *const words[] = {
	    "no leader",	 "leader changed", "request timed out",	 "timed out",
	    "too many requests", "not capable",	   "server is stopping", "unavailable"};
	for (size_t i = 0; msg != NULL && i < CCR_ARRAY_LEN(words); i++)
		if (strstr(msg, words[i]) != NULL)
			return 1;
	return 0;
}

static int auth_expired(const char *msg)
{
	return msg != NULL &&
	       (strstr(msg, "invalid auth token") != NULL || strstr(msg, "token") != NULL);
}

/*
 * One attempt: 1 = *resp set; 0 = transient failure (try another endpoint);
 * or a negative enum etcd_result.
 */
static int attempt(struct etcd *e, int i, const char *path, const char *body, const char *token,
		   int64_t timeout_ms, json_t **resp, char *err, size_t errlen)
{
	struct sbuf out;
	long status;
	json_t *j = NULL;
	int rc;

	sbuf_init(&out);
	status = http_post(e, i, path, body, token, timeout_ms, &out, err, errlen);
	if (status < 0) {
		rc = 0;
		goto out;
	}
	j = json_loadb(out.buf, out.len, 0, NULL);
	if (status == 200 && json_is_object(j) && json_object_get(j, "error") == NULL) {
		*resp = j;
		j = NULL;
		rc = 1;
		goto out;
	}
	const char *msg = json_string_value(json_object_get(j, "error"));
	if (msg == NULL)
		msg = json_string_value(json_object_get(j, "message"));
	if (msg == NULL) {
		snprintf(err, errlen, "%s%s: HTTP %ld, not an etcd answer", e->endpoints[i], path,
			 status);
		rc = status >= 500 ? 0 : ETCD_BADREPLY;
		goto out;
	}
	snprintf(err, errlen, "%s: %s", e->endpoints[i], msg);
	rc = transient(msg) ? 0 : ETCD_ERROR;
out:
	json_decref(j);
	sbuf_release(&out);
	return rc;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Get a token (caller holds no lock).  0, or an enum etcd_result. */
static int authenticate(struct etcd *e, int i, int64_t timeout_ms, char *err, size_t errlen)
{
	json_t *req =
	    json_pack("{s:s, s:s}", "name", e->user, "password", e->password ? e->password : "");
	char *body = json_dumps(req, JSON_COMPACT);
	json_t *resp = NULL;
	int rc;

	json_decref(req);
	rc = attempt(e, i, "/v3/auth/authenticate", body, NULL, timeout_ms, &resp, err, errlen);
	if (body != NULL)
		memset(body, 0, strlen(body));
	free(body);
	if (rc != 1)
		return rc;
	const char *tok = json_string_value(json_object_get(resp, "token"));
	rc = tok ? 1 : ETCD_BADREPLY;
	if (tok == NULL)
		snprintf(err, errlen, "%s: authenticate: no token in the answer", e->endpoints[i]);
	pthread_mutex_lock(&e->mu);
	if (tok != NULL) {
		free(e->token);
		e->token = xstrdup(tok);
	}
	pthread_mutex_unlock(&e->mu);
	json_decref(resp);
	return rc;
}

/* The current token (copy) or NULL; authenticates first when a user is set and none is held. */
static int token_get(struct etcd *e, int i, int64_t timeout_ms, char **tok, char *err,
		     size_t errlen)
{
	*tok = NULL;
	if (e->user == NULL)
		return 1;
	pthread_mutex_lock(&e->mu);
	*tok = e->token ? xstrdup(e->token) : NULL;
	pthread_mutex_unlock(&e->mu);
	if (*tok != NULL)
		return 1;
	int rc = authenticate(e, i, timeout_ms, err, errlen);
	if (rc != 1)
		return rc;
	pthread_mutex_lock(&e->mu);
	*tok = e->token ? xstrdup(e->token) : NULL;
	pthread_mutex_unlock(&e->mu);
	return 1;
}

static void token_drop(struct etcd *e)
{
	pthread_mutex_lock(&e->mu);
	free(e->token);
	e->token = NULL;
	pthread_mutex_unlock(&e->mu);
}

/* One try on endpoint i, with (re)authentication. */
static int try_endpoint(struct etcd *e, int i, const char *path, const char *body,
			int64_t timeout_ms, json_t **resp, char *err, size_t errlen)
{
	for (int round = 0; round < 2; round++) {
		char *tok = NULL;
		int rc = token_get(e, i, timeout_ms, &tok, err, errlen);
		if (rc == 1)
			rc = attempt(e, i, path, body, tok, timeout_ms, resp, err, errlen);
		free(tok);
		if (rc != ETCD_ERROR || e->user == NULL || round > 0 || !auth_expired(err))
			return rc;
		token_drop(e); /* the token expired: authenticate again, once */
	}
	return ETCD_ERROR;
}

int etcd_call(struct etcd *e, const char *path, json_t *req, int64_t budget_ms, json_t **resp,
	      char *err, size_t errlen)
{
	char *body = json_dumps(req, JSON_COMPACT);
	int64_t end = now_mono_ms() + (budget_ms > 0 ? budget_ms : e->attempt_ms);
	int rc = ETCD_UNAVAIL;

	*resp = NULL;
	snprintf(err, errlen, "no etcd endpoint answered");
	if (body == NULL)
		return ETCD_BADREPLY;
	pthread_mutex_lock(&e->mu);
	int first = e->cur;
	pthread_mutex_unlock(&e->mu);
	for (int k = 0;; k++) {
		int i = (first + k) % e->n;
		int64_t left = end - now_mono_ms();
		if (left <= 0)
			break;
		int r = try_endpoint(e, i, path, body, left < e->attempt_ms ? left : e->attempt_ms,
				     resp, err, errlen);
		if (r == 1) {
			pthread_mutex_lock(&e->mu);
			e->cur = i;
			pthread_mutex_unlock(&e->mu);
			rc = ETCD_OK;
			break;
		}
		if (r < 0) {
			rc = r;
			break;
		}
		if ((k + 1) % e->n == 0)
			sleep_ms(
			    RETRY_WAIT); /* every endpoint failed once: give an election time */
	}
	free(body);
	return rc;
}
