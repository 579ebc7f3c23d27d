/*
 * etcd.h — a client of etcd's v3 HTTP/JSON gateway over libcurl: POST a
 * JSON request to /v3/<service>/<method>, get the JSON answer.  The
 * request and answer shapes are etcd's (etcd_json.h builds and reads them).
 *
 * Endpoints are tried in turn: an endpoint that cannot be reached, times
 * out, or answers "no leader" / "leader changed" / "request timed out" is
 * left for the next, until the call's budget is spent.  The endpoint that
 * answered last is tried first next time.  With a user, the client
 * authenticates (/v3/auth/authenticate) on first use and again when etcd
 * says the token is no longer valid; the token is sent as the
 * Authorization header, as the gateway expects (no "Bearer").  TLS uses the
 * CA file and the client certificate and key given.
 *
 * Thread-safe: any number of threads may call etcd_call() on one client
 * (curl handles are pooled, so connections are reused).
 *
 * Calling sequence:
 *
 *	e = etcd_new(&opts);
 *	rc = etcd_call(e, "/v3/kv/range", req, 5000, &resp, err, sizeof err);
 *	… json_decref(resp) …
 *	etcd_free(e);
 */
#ifndef CCR_ETCD_H
#define CCR_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

struct etcd_opts {
	const char *const *endpoints; /* "host:port", at least one */
	int nendpoints;
	int tls;	       /* https instead of http */
	const char *ca_file;   /* CURLOPT_CAINFO, or NULL: the system's */
	const char *cert_file; /* client certificate (PEM), or NULL */
	const char *key_file;  /* its key (PEM), or NULL */
	const char *user;      /* etcd user, or NULL: no authentication */
	const char *password;  /* copied; never printed */
	int64_t attempt_ms;    /* one HTTP attempt's timeout (0: 2000) */
};

/* Results of etcd_call(). */
enum etcd_result {
	ETCD_OK = 0,	    /* *resp set */
	ETCD_UNAVAIL = -1,  /* no endpoint answered within the budget (err says why) */
	ETCD_ERROR = -2,    /* etcd answered with an error (err has its message) */
	ETCD_BADREPLY = -3, /* the answer was not JSON */
};

/* A client; copies everything in o.  Never fails (out of memory aborts). */
struct etcd *etcd_new(const struct etcd_opts *o);
/* Free the client; e may be NULL. */
void etcd_free(struct etcd *e);

/*
 * POST req (borrowed) to path ("/v3/kv/range") and parse the answer into
 * *resp (new reference, caller decrefs) — retrying on other endpoints while
 * budget_ms lasts.  A request that timed out may have been applied: callers
 * that write make their writes conditional (txn) and check afterwards.
 * Returns an enum etcd_result; on failure err holds the reason, naming the
 * endpoint(s), and *resp is NULL.
 */
int etcd_call(struct etcd *e, const char *path, json_t *req, int64_t budget_ms, json_t **resp,
	      char *err, size_t errlen) CCR_WUR;

/* "http://127.0.0.1:2379,127.0.0.1:22379" for messages (new string). */
char *etcd_describe(const struct etcd *e);

#endif
