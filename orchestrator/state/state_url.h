/*
 * state_url.h — parsing the etcd state URL (no I/O):
 *
 *	etcd://HOST:PORT[,HOST:PORT…]/PREFIX[?ttl=SECONDS]
 *	etcds://…   the same over TLS (https)
 *
 * HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT is
 * 1-65535; PREFIX is one or more path segments of letters, digits and
 * . _ - (no empty or dot-only segment); the TTL of the lock lease is 2-3600.
 */
#ifndef CCR_STATE_URL_H
#define CCR_STATE_URL_H

#include <stddef.h>

#include "util.h"

#define STATE_URL_MAX_ENDPOINTS 16

struct state_url {
	char **endpoints; /* "host:port", owned */
	int nendpoints;
	char *prefix; /* without leading or trailing '/', owned */
	int tls;      /* etcds:// */
	int ttl_s;    /* 0: not given */
};

/*
 * Parse url into u.  0, or -1 with err naming what is wrong and the
 * 1-based column in url ("etcd URL column 8: port must be 1-65535").  On
 * -1 u holds nothing to release.
 */
int state_url_parse(const char *url, struct state_url *u, char *err, size_t errlen) CCR_WUR;
void state_url_release(struct state_url *u);

/* Is s a usable state URL scheme prefix ("etcd://" or "etcds://")? */
int state_url_is_etcd(const char *s);

#endif
