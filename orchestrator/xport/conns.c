/*
 * conns.c — see conns.h.
 */
#include "conns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD_MAX 1024

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

/*
 * The password of a WinRM host: the first line of winrm_password_file, or
 * $winrm_password_env.  NULL with *why set (caller frees both).
 */
static char *winrm_password(const struct winrm_def *w, char **why)
{
	char buf[PASSWORD_MAX + 2];
	char *path;
	ssize_t n;
	int fd;

	if (w->password_env != NULL) {
		const char *v = getenv(w->password_env);
		if (v != NULL && *v != '\0')
			return xstrdup(v);
		*why = xasprintf("WinRM password: $%s is not set", w->password_env);
		return NULL;
	}
	if (w->password_file == NULL) {
		*why = xstrdup("WinRM password: no winrm_password_file or winrm_password_env");
		return NULL;
	}
	path = conns_expand_home(w->password_file);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n < 0) {
		*why = xasprintf("WinRM password file %s: %s", path, strerror(errno));
		free(path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0' || (size_t)n > PASSWORD_MAX) {
		*why = xasprintf("WinRM password file %s: %s", path,
				 buf[0] == '\0' ? "empty" : "longer than 1024 bytes");
		free(path);
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	free(path);
	path = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return path;
}

/* WinRM options of host h; the password is wiped and freed after xport_new copied it. */
static void winrm_open(struct conns *c, struct conn *k, struct xport_options *xo)
{
	const struct winrm_def *w = &k->host->winrm;
	struct xport_winrm_options wo;
	char *why = NULL, *pass = winrm_password(w, &why);
	char *ca = w->ca_file != NULL ? conns_expand_home(w->ca_file) : NULL;

	memset(&wo, 0, sizeof(wo));
	wo.https = w->https;
	wo.password = pass;
	wo.password_error = why;
	wo.ca_file = ca;
	wo.server_name = w->server_name;
	wo.auth = w->auth == 1	 ? XPORT_WINRM_NTLM
		  : w->auth == 2 ? XPORT_WINRM_NEGOTIATE
				 : XPORT_WINRM_BASIC;
	wo.allow_unencrypted = w->allow_unencrypted;
	wo.operation_timeout_ms = w->operation_timeout_ms;
	xo->kind = XPORT_KIND_WINRM;
	xo->winrm = &wo;
	xo->port = w->port;
	if (w->user != NULL)
		xo->user = w->user;
	if (!w->https && !c->opts.quiet)
		fprintf(stderr,
			"ccrup: warning: %s: WinRM over plain HTTP (winrm_allow_unencrypted): the "
			"password and every command cross the network unencrypted\n",
			k->host->name);
	k->x = xport_new(xo);
	if (pass != NULL)
		explicit_bzero(pass, strlen(pass));
	free(pass);
	free(why);
	free(ca);
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
	xo.gate = c->opts.gate;
	xo.known = c->opts.known;
	xo.guard = c->opts.guard;
	xo.guard_arg = c->opts.guard_arg;
	xo.ops = c->opts.ops;
	xo.ops_arg = c->opts.ops_arg;
	/* xport_new copies what it keeps; ids only live for this call. */
	if (h->transport == TRANSPORT_WINRM)
		winrm_open(c, k, &xo);
	else
		k->x = xport_new(&xo);
}

static struct conn *conn_of(struct conns *c, const char *host)
{
	for (int i = 0; i < c->n; i++)
		if (str_ieq(c->v[i].host->name, host))
			return &c->v[i];
	return NULL;
}

struct xport *conns_get(struct conns *c, const char *host)
{
	struct conn *k = conn_of(c, host);
	if (k == NULL)
		return NULL;
	if (k->x == NULL)
		conn_open(c, k);
	return k->x;
}

void conns_close(struct conns *c, const char *host)
{
	struct conn *k = conn_of(c, host);
	if (k != NULL && k->x != NULL && xport_is_connected(k->x))
		xport_disconnect(k->x);
}

unsigned conns_sessions(const struct conns *c)
{
	unsigned n = 0;
	for (int i = 0; i < c->n; i++)
		if (c->v[i].x)
			n += xport_connect_count(c->v[i].x);
	return n;
}
