/*
 * conns.c — see conns.h.
 */
#include "conns.h"

#include <stdlib.h>
#include <string.h>

struct conn {
	const struct host_def *host; /* borrowed from the inventory */
	struct xport *x;	     /* NULL until first use */
	char *identity;		     /* expanded identity path, or NULL */
	char *known_hosts;	     /* expanded known_hosts path */
};

struct conns {
	const struct inventory *inv; /* borrowed */
	struct conns_opts opts;	     /* copied */
	struct conn *v;		     /* one per inventory host, same order */
	int n;
};

char *conns_expand_home(const char *path)
{
	const char *home = getenv("HOME");
	if (path[0] == '~' && path[1] == '/' && home)
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}

struct conns *conns_new(const struct inventory *inv, const struct conns_opts *o)
{
	struct conns *c = xcalloc(1, sizeof(*c));
	c->inv = inv;
	c->opts = *o;
	c->n = inv->nhosts;
	c->v = xcalloc((size_t)c->n + 1, sizeof(*c->v));
	for (int i = 0; i < c->n; i++)
		c->v[i].host = &inv->hosts[i];
	return c;
}

void conns_free(struct conns *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->n; i++) {
		xport_free(c->v[i].x);
		free(c->v[i].identity);
		free(c->v[i].known_hosts);
	}
	free(c->v);
	free(c);
}

static void conn_open(struct conns *c, struct conn *k)
{
	const struct host_def *h = k->host;
	const char *ids[2] = {NULL, NULL};
	struct xport_options xo;

	memset(&xo, 0, sizeof(xo));
	if (h->identity) {
		k->identity = conns_expand_home(h->identity);
		ids[0] = k->identity;
		xo.identities = ids;
	}
	if (c->inv->ssh.known_hosts)
		k->known_hosts = conns_expand_home(c->inv->ssh.known_hosts);
	xo.name = h->name;
	xo.address = h->address;
	xo.port = h->port;
	xo.user = h->user;
	xo.known_hosts = k->known_hosts;
	xo.ssh_config = c->opts.ssh_config;
	xo.trust_new_hosts = c->opts.trust_new_hosts;
	xo.connect_timeout_ms = (int)c->inv->ssh.connect_timeout_ms;
	xo.keepalive_ms = (int)c->inv->ssh.keepalive_ms;
	xo.guard = c->opts.guard;
	xo.guard_arg = c->opts.guard_arg;
	/* xport_new copies what it keeps; ids only live for this call. */
	k->x = xport_new(&xo);
}

struct xport *conns_get(struct conns *c, const char *host)
{
	for (int i = 0; i < c->n; i++) {
		struct conn *k = &c->v[i];
		if (!str_ieq(k->host->name, host))
			continue;
		if (k->x == NULL)
			conn_open(c, k);
		return k->x;
	}
	return NULL;
}

unsigned conns_sessions(const struct conns *c)
{
	unsigned n = 0;
	for (int i = 0; i < c->n; i++)
		if (c->v[i].x)
			n += xport_connect_count(c->v[i].x);
	return n;
}
