/*
 * state_url.c — see state_url.h.
 */
#include "state_url.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *url, const char *at, const char *fmt, ...)
    CCR_PRINTF(5, 6);

static int fail(char *err, size_t errlen, const char *url, const char *at, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "etcd URL '%s' column %d: %s", url, (int)(at - url) + 1, why);
	return -1;
}

int state_url_is_etcd(const char *s)
{
	return s != NULL && (str_startswith(s, "etcd://") || str_startswith(s, "etcds://"));
}

static const char NAME_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_";

/* One HOST:PORT of len bytes at p.  0, or -1 with err. */
static int endpoint(const char *url, const char *p, size_t len, struct state_url *u, char *err,
		    size_t errlen)
{
	const char *colon = NULL;
	int64_t port;
	char digits[8];

	if (len > 0 && p[0] == '[') {
		const char *rb = memchr(p, ']', len);
		if (rb == NULL || rb == p + 1 || (size_t)(rb + 1 - p) >= len || rb[1] != ':' ||
		    strspn(p + 1, "0123456789abcdefABCDEF:.") < (size_t)(rb - p - 1))
			return fail(err, errlen, url, p, "bad bracketed IPv6 address");
		colon = rb + 1;
	} else {
		for (size_t i = 0; i < len; i++)
			if (p[i] == ':')
				colon = p + i;
		if (colon == NULL)
			return fail(err, errlen, url, p + len, "endpoint needs HOST:PORT");
		if (colon == p || strspn(p, NAME_CHARS) < (size_t)(colon - p))
			return fail(err, errlen, url, p, "bad host name");
	}
	size_t plen = len - (size_t)(colon + 1 - p);
	if (plen == 0 || plen >= sizeof(digits))
		return fail(err, errlen, url, colon + 1, "port must be 1-65535");
	memcpy(digits, colon + 1, plen);
	digits[plen] = '\0';
	if (parse_int64(digits, 1, 65535, &port) < 0)
		return fail(err, errlen, url, colon + 1, "port must be 1-65535");
	if (u->nendpoints >= STATE_URL_MAX_ENDPOINTS)
		return fail(err, errlen, url, p, "more than %d endpoints", STATE_URL_MAX_ENDPOINTS);
	u->endpoints = xreallocarray(u->endpoints, (size_t)u->nendpoints + 1, sizeof(char *));
	u->endpoints[u->nendpoints++] = xstrndup(p, len);
	return 0;
}

static int prefix(const char *url, const char *p, size_t len, struct state_url *u, char *err,
		  size_t errlen)
{
	size_t i = 0;

	while (len > 0 && p[len - 1] == '/')
		len--;
	if (len == 0)
		return fail(err, errlen, url, p, "missing /PREFIX (the key prefix, e.g. /ccrup)");
	while (i < len) {
		size_t seg = strcspn(p + i, "/?");
		if (seg > len - i)
			seg = len - i;
		if (seg == 0 || strspn(p + i, NAME_CHARS) < seg || strspn(p + i, ".") == seg)
			return fail(err, errlen, url, p + i,
				    "prefix segments are letters, digits and . _ - (not empty, "
				    "not . or ..)");
		i += seg + 1;
	}
	u->prefix = xstrndup(p, len);
	return 0;
}

static int query(const char *url, const char *q, struct state_url *u, char *err, size_t errlen)
{
	int64_t ttl;

	if (!str_startswith(q, "ttl=") || parse_int64(q + 4, 2, 3600, &ttl) < 0)
		return fail(err, errlen, url, q, "the only option is ttl=SECONDS (2-3600)");
	u->ttl_s = (int)ttl;
	return 0;
}

int state_url_parse(const char *url, struct state_url *u, char *err, size_t errlen)
{
	const char *p, *slash, *q;
	int rc = -1;

	memset(u, 0, sizeof(*u));
	if (str_startswith(url, "etcd://")) {
		p = url + 7;
	} else if (str_startswith(url, "etcds://")) {
		p = url + 8;
		u->tls = 1;
	} else {
		return fail(err, errlen, url, url, "must start with etcd:// or etcds://");
	}
	slash = strchr(p, '/');
	q = strchr(p, '?');
	if (slash == NULL || (q != NULL && q < slash)) {
		fail(err, errlen, url, p + strlen(p),
		     "missing /PREFIX (the key prefix, e.g. /ccrup)");
		goto out;
	}
	while (p < slash) {
		const char *comma = memchr(p, ',', (size_t)(slash - p));
		const char *e = comma ? comma : slash;
		if (endpoint(url, p, (size_t)(e - p), u, err, errlen) < 0)
			goto out;
		p = comma ? comma + 1 : slash;
		if (comma != NULL && p == slash) {
			fail(err, errlen, url, p, "empty endpoint after ','");
			goto out;
		}
	}
	if (u->nendpoints == 0) {
		fail(err, errlen, url, slash, "no endpoint (HOST:PORT)");
		goto out;
	}
	if (prefix(url, slash + 1, q ? (size_t)(q - slash - 1) : strlen(slash + 1), u, err,
		   errlen) < 0)
		goto out;
	if (q != NULL && query(url, q + 1, u, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		state_url_release(u);
	return rc;
}

void state_url_release(struct state_url *u)
{
	for (int i = 0; i < u->nendpoints; i++)
		free(u->endpoints[i]);
	free(u->endpoints);
	free(u->prefix);
	memset(u, 0, sizeof(*u));
}
