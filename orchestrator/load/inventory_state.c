/*
 * inventory_state.c — the inventory's state: block (docs/state.md): where
 * journals and locks are shared between orchestrator hosts.
 *
 *	state:
 *	  endpoints: [10.0.0.5:2379, 10.0.0.6:2379, 10.0.0.7:2379]
 *	  prefix: /ccrup/prod
 *	  ca_file: /etc/ccrup/etcd-ca.pem       # TLS (https)
 *	  cert_file: /etc/ccrup/client.pem      # client certificate
 *	  key_file: /etc/ccrup/client-key.pem
 *	  user: ccrup
 *	  password_file: /etc/ccrup/etcd.pass   # or password_env: CCRUP_ETCD_PASSWORD
 *	  lease_ttl: 10s
 *
 * The password itself is refused here: an inventory is shared, versioned
 * and hashed into every journal, so a secret must never be in it.
 */
#include "inventory_int.h"
#include "state_url.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_keys[] = {"backend",	 "endpoints", "prefix",	  "ca_file",
					 "cert_file",	 "key_file",  "user",	  "password_file",
					 "password_env", "lease_ttl", "password", NULL};

static int printable_path(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return n > 0 && n <= 4096;
}

static void read_file_key(struct yctx *c, const struct ynode *m, const char *key, char **out)
{
	if (yget_str(c, m, key, out) == 1 && !printable_path(*out)) {
		yerr(c, ymap_get(m, key), "'%s': not a usable file path", key);
		free(*out);
		*out = NULL;
	}
}

/* endpoints + prefix -> the URL the state backend takes, checked by its own parser. */
static void build_url(struct yctx *c, const struct ynode *m, struct state_def *s)
{
	char **eps = NULL;
	int n = 0;
	char *prefix = NULL;
	struct src_loc *locs = NULL;
	struct state_url u;
	char err[512];
	int before = c->nerr;

	if (yrequire(c, m, "endpoints", "state") < 0 || yrequire(c, m, "prefix", "state") < 0)
		return;
	if (yget_str_list(c, m, "endpoints", &eps, &n, &locs) != 1 ||
	    yget_str(c, m, "prefix", &prefix) != 1)
		goto out;
	if (n == 0) {
		yerr(c, ymap_get(m, "endpoints"), "'endpoints': give at least one HOST:PORT");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char *one = xasprintf("etcd://%s/x", eps[i]);
		if (strchr(eps[i], ',') != NULL || strchr(eps[i], '/') != NULL ||
		    state_url_parse(one, &u, err, sizeof(err)) < 0)
			yerr_at(c, locs[i].line, locs[i].col,
				"'endpoints': '%s' is not HOST:PORT (port 1-65535)", yq(c, eps[i]));
		else
			state_url_release(&u);
		free(one);
	}
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, s->ca_file || s->cert_file ? "etcds://" : "etcd://");
	for (int i = 0; i < n; i++)
		sbuf_addf(&sb, "%s%s", i ? "," : "", eps[i]);
	sbuf_addf(&sb, "/%s", prefix[0] == '/' ? prefix + 1 : prefix);
	s->url = sbuf_detach(&sb);
	if (c->nerr == before && state_url_parse(s->url, &u, err, sizeof(err)) < 0) {
		yerr(c, ymap_get(m, "prefix"),
		     "'prefix': '%s' is not a key prefix (segments of letters, digits, . _ -)",
		     yq(c, prefix));
	} else if (c->nerr == before) {
		state_url_release(&u);
	}
out:
	strv_free(eps, n);
	free(locs);
	free(prefix);
}

static void check_credentials(struct yctx *c, const struct ynode *m, struct state_def *s)
{
	if (ymap_get(m, "password") != NULL)
		yerr(c, ymap_get(m, "password"),
		     "'password': never put the etcd password in the inventory; use "
		     "password_file (a mode 0600 file) or password_env (an environment variable)");
	if (s->password_file && s->password_env)
		yerr(c, ymap_get(m, "password_env"),
		     "'password_env': give password_file or password_env, not both");
	if (s->user && !s->password_file && !s->password_env)
		yerr(c, ymap_get(m, "user"),
		     "'user': etcd authentication needs password_file or password_env");
	if (!s->user && (s->password_file || s->password_env))
		yerr(c, ymap_get(m, s->password_file ? "password_file" : "password_env"),
		     "a password without 'user' is never used");
	if (s->key_file && !s->cert_file)
		yerr(c, ymap_get(m, "key_file"), "'key_file' needs 'cert_file'");
	if (s->cert_file && !s->key_file)
		yerr(c, ymap_get(m, "cert_file"), "'cert_file' needs 'key_file'");
	if (s->password_env &&
	    (s->password_env[0] == '\0' ||
	     strspn(s->password_env, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
				     "pqrstuvwxyz0123456789_") != strlen(s->password_env)))
		yerr(c, ymap_get(m, "password_env"),
		     "'password_env': an environment variable name (letters, digits, _)");
}

void inv_read_state(struct yctx *c, const struct ynode *m, struct inventory *inv)
{
	static const char *const backends[] = {"etcd", NULL};
	struct state_def *s;
	int backend = 0;
	int64_t ttl = 0;

	if (m == NULL || !ytype(c, m, YNODE_MAP, "state"))
		return;
	s = xcalloc(1, sizeof(*s));
	s->loc = yloc(c, m);
	inv->state = s;
	ykeys(c, m, state_keys, "state");
	(void)yget_enum(c, m, "backend", backends, &backend);
	read_file_key(c, m, "ca_file", &s->ca_file);
	read_file_key(c, m, "cert_file", &s->cert_file);
	read_file_key(c, m, "key_file", &s->key_file);
	read_file_key(c, m, "password_file", &s->password_file);
	(void)yget_str(c, m, "user", &s->user);
	(void)yget_str(c, m, "password_env", &s->password_env);
	if (yget_duration(c, m, "lease_ttl", 2000, &ttl) == 1) {
		if (ttl > 3600 * 1000)
			yerr(c, ymap_get(m, "lease_ttl"), "'lease_ttl': at most 1h");
		s->lease_ttl_s = (int)((ttl + 999) / 1000);
	}
	check_credentials(c, m, s);
	build_url(c, m, s);
}

void inv_state_free(struct state_def *s)
{
	if (s == NULL)
		return;
	free(s->url);
	free(s->ca_file);
	free(s->cert_file);
	free(s->key_file);
	free(s->user);
	free(s->password_file);
	free(s->password_env);
	free(s);
}
