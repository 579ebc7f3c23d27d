/*
 * inventory.c — inventory_load(): YAML to a validated struct inventory
 * (model.h; user reference docs/inventory.md).
 *
 * An inventory is the user's side: hosts (how to reach them), clusters
 * (which hosts play which part), SSH settings and notification endpoints.
 * Everything here ends up in SSH connections, state directory names or
 * command text, so names are held to strict patterns: a host or cluster
 * name is a NetBIOS/DNS name (no spaces, no shell metacharacters, no '/'
 * or '..'), and every host a cluster names must be defined under hosts:.
 * Whether the cluster's vars suit a playbook is model_validate()'s job
 * (model_validate.c), since the inventory is loaded without one.
 */
#include "inventory_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const top_keys[] = {"inventory", "format", "ssh",   "defaults", "hosts",
				       "clusters",  "notify", "state", NULL};
static const char *const ssh_keys[] = {"known_hosts", "connect_timeout", "command_timeout",
				       "keepalive", NULL};
static const char *const defaults_keys[] = {"user", "port", "identity", INV_WINRM_KEYS, NULL};
static const char *const host_keys[] = {"address", "port",	   "user", "identity",
					"vars",	   INV_WINRM_KEYS, NULL};

/* Defaults for what neither the host nor defaults: sets. */
struct host_defaults {
	char *user;		       /* or NULL */
	int port;		       /* 22 */
	char *identity;		       /* or NULL */
	enum host_transport transport; /* ssh unless defaults: says winrm */
	struct winrm_def winrm;	       /* WinRM settings every host starts from */
};

static int user_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 64 && s[0] != '-' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A user name, or DOMAIN\user (WinRM accounts). */
int inv_user_ok(const char *s)
{
	const char *bs = strchr(s, '\\');
	char dom[65];

	if (bs == NULL)
		return user_ok(s);
	if ((size_t)(bs - s) >= sizeof(dom) || bs == s)
		return 0;
	memcpy(dom, s, (size_t)(bs - s));
	dom[bs - s] = '\0';
	return user_ok(dom) && user_ok(bs + 1);
}

/* A file path for ssh (identity, known_hosts): any printable text, ~ allowed. */
static int file_path_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 4096)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int inv_file_path_ok(const char *s)
{
	return file_path_ok(s);
}

static int address_ok(const char *s)
{
	unsigned char buf[16];
	char tmp[64];
	const char *pct = strchr(s, '%');

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return 1;
	if (pct && (size_t)(pct - s) < sizeof(tmp)) {
		memcpy(tmp, s, (size_t)(pct - s));
		tmp[pct - s] = '\0';
		return inet_pton(AF_INET6, tmp, buf) == 1 && var_kind_check(VK_WORD, NULL, pct + 1);
	}
	/* Digits and dots only, yet not an IPv4 address: a typo, not a DNS name. */
	if (strspn(s, "0123456789.") == strlen(s))
		return 0;
	return var_kind_check(VK_NAME, NULL, s);
}

static void read_path(struct yctx *c, const struct ynode *m, const char *key, char **out)
{
	char *v = NULL;
	if (yget_str(c, m, key, &v) != 1)
		return;
	if (!file_path_ok(v)) {
		yerr(c, ymap_get(m, key), "'%s': '%s' is not a usable file path", key, yq(c, v));
		free(v);
		return;
	}
	free(*out);
	*out = v;
}

static void read_user(struct yctx *c, const struct ynode *m, char **out)
{
	char *v = NULL;
	if (yget_str(c, m, "user", &v) != 1)
		return;
	if (!user_ok(v)) {
		yerr(c, ymap_get(m, "user"), "bad user name '%s' (letters, digits, . _ -)",
		     yq(c, v));
		free(v);
		return;
	}
	free(*out);
	*out = v;
}

static void read_port(struct yctx *c, const struct ynode *m, int *out)
{
	int64_t p;
	if (yget_int(c, m, "port", 1, 65535, &p) == 1)
		*out = (int)p;
}

static void read_ssh(struct yctx *c, const struct ynode *m, struct ssh_settings *s)
{
	s->known_hosts = xstrdup("~/.ssh/known_hosts");
	s->connect_timeout_ms = 10 * 1000;
	s->command_timeout_ms = 10 * 60 * 1000;
	s->keepalive_ms = 30 * 1000;
	if (m == NULL || !ytype(c, m, YNODE_MAP, "ssh"))
		return;
	ykeys(c, m, ssh_keys, "ssh");
	read_path(c, m, "known_hosts", &s->known_hosts);
	yget_duration(c, m, "connect_timeout", 1, &s->connect_timeout_ms);
	yget_duration(c, m, "command_timeout", 1, &s->command_timeout_ms);
	yget_duration(c, m, "keepalive", 0, &s->keepalive_ms);
}

static void read_defaults(struct yctx *c, const struct ynode *m, struct host_defaults *hd)
{
	hd->port = 22;
	if (m == NULL || !ytype(c, m, YNODE_MAP, "defaults"))
		return;
	ykeys(c, m, defaults_keys, "defaults");
	read_user(c, m, &hd->user);
	read_port(c, m, &hd->port);
	read_path(c, m, "identity", &hd->identity);
	inv_read_winrm(c, m, &hd->transport, &hd->winrm);
}

static void read_value(struct yctx *c, const struct ynode *key, const struct ynode *v,
		       struct inv_value *iv)
{
	iv->key = xstrdup(key->text);
	iv->key_loc = yloc(c, key);
	iv->loc = yloc(c, v);
	if (!name_is_ident(key->text))
		yerr(c, key, "bad variable name '%s' (lower-case letters, digits, '_')",
		     yq(c, key->text));
	if (v->kind == YNODE_SCALAR) {
		if (v->is_null)
			yerr(c, v, "variable '%s' has no value", yq(c, key->text));
		iv->value = xstrdup(v->text);
		return;
	}
	if (v->kind == YNODE_MAP) {
		yerr(c, v, "'%s': expected a string or a list, got a mapping", yq(c, key->text));
		iv->value = xstrdup("");
		return;
	}
	iv->is_list = 1;
	iv->list = xcalloc((size_t)v->n + 1, sizeof(*iv->list));
	iv->list_loc = xcalloc((size_t)v->n + 1, sizeof(*iv->list_loc));
	for (int i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i];
		if (ytype(c, it, YNODE_SCALAR, key->text))
			iv->list[iv->nlist] = xstrdup(it->text);
		else
			iv->list[iv->nlist] = xstrdup("");
		iv->list_loc[iv->nlist++] = yloc(c, it);
	}
}

void inv_read_values(struct yctx *c, const struct ynode *m, struct inv_value **out, int *n)
{
	if (m == NULL || (m->kind == YNODE_SCALAR && m->is_null) || !ytype(c, m, YNODE_MAP, "vars"))
		return;
	*out = xcalloc((size_t)m->n + 1, sizeof(**out));
	for (int i = 0; i < m->n; i++)
		read_value(c, m->keys[i], m->items[i], &(*out)[(*n)++]);
}

static void read_host(struct yctx *c, const struct ynode *key, const struct ynode *m,
		      const struct host_defaults *hd, struct host_def *h)
{
	h->name = xstrdup(key->text);
	h->loc = yloc(c, key);
	h->port = hd->port;
	h->user = hd->user ? xstrdup(hd->user) : NULL;
	h->identity = hd->identity ? xstrdup(hd->identity) : NULL;
	h->transport = hd->transport;
	inv_winrm_copy(&h->winrm, &hd->winrm);
	if (!var_kind_check(VK_NAME, NULL, key->text))
		yerr(c, key, "bad host name '%s' (%s)", yq(c, key->text), var_kind_hint(VK_NAME));
	if (m->kind == YNODE_SCALAR && m->is_null) {
		h->address = xstrdup(h->name);
		inv_check_winrm(c, h);
		return;
	}
	if (!ytype(c, m, YNODE_MAP, key->text))
		return;
	ykeys(c, m, host_keys, "host");
	if (yget_str(c, m, "address", &h->address) == 1 && !address_ok(h->address))
		yerr(c, ymap_get(m, "address"),
		     "bad address '%s' (a DNS name, or an IPv4 or IPv6 address)",
		     yq(c, h->address));
	if (h->address == NULL)
		h->address = xstrdup(h->name);
	read_port(c, m, &h->port);
	read_user(c, m, &h->user);
	read_path(c, m, "identity", &h->identity);
	inv_read_winrm(c, m, &h->transport, &h->winrm);
	inv_check_winrm(c, h);
	inv_read_values(c, ymap_get(m, "vars"), &h->vars, &h->nvars);
}

static void read_hosts(struct invctx *x, const struct ynode *m, const struct host_defaults *hd)
{
	struct yctx *c = &x->y;
	struct inventory *inv = x->inv;

	if (!ytype(c, m, YNODE_MAP, "hosts"))
		return;
	if (m->n == 0)
		yerr(c, m, "'hosts' is empty");
	inv->hosts = xcalloc((size_t)m->n + 1, sizeof(*inv->hosts));
	for (int i = 0; i < m->n; i++) {
		const struct ynode *k = m->keys[i];
		int j = nameidx_put(&x->hosts_ci, k->text, i);
		if (j >= 0 && strcmp(m->keys[j]->text, k->text) != 0)
			yerr(c, k, "host '%s' differs from '%s' (at %d:%d) only in case",
			     yq(c, k->text), m->keys[j]->text, m->keys[j]->line, m->keys[j]->col);
		read_host(c, k, m->items[i], hd, &inv->hosts[inv->nhosts]);
		nameidx_put(&x->hosts, inv->hosts[inv->nhosts].name, inv->nhosts);
		inv->nhosts++;
	}
}

static void read_header(struct yctx *c, const struct ynode *root, struct inventory *inv)
{
	const struct ynode *n = NULL;

	if (yrequire(c, root, "inventory", "the inventory (its name)") == 0 &&
	    yget_str(c, root, "inventory", &inv->name) == 1 &&
	    !var_kind_check(VK_WORD, NULL, inv->name))
		yerr(c, ymap_get(root, "inventory"),
		     "bad inventory name '%s' (letters, digits, _ . -)", yq(c, inv->name));
	if (yrequire(c, root, "format", "the inventory") == 0 &&
	    yget_scalar(c, root, "format", &n) == 1 && strcmp(n->text, "1") != 0)
		yerr(c, n, "unsupported format '%s' (this ccrup reads format: 1)", yq(c, n->text));
}

static void read_inventory(struct invctx *x, const struct ynode *root)
{
	struct host_defaults hd = {NULL, 22, NULL, TRANSPORT_SSH, {0}};
	struct yctx *c = &x->y;

	inv_winrm_defaults(&hd.winrm);
	if (root->kind != YNODE_MAP) {
		yerr(c, root, "expected a mapping at the top of the inventory, got %s",
		     ynode_describe(root));
		return;
	}
	ykeys(c, root, top_keys, "inventory");
	read_header(c, root, x->inv);
	read_ssh(c, ymap_get(root, "ssh"), &x->inv->ssh);
	read_defaults(c, ymap_get(root, "defaults"), &hd);
	if (yrequire(c, root, "hosts", "the inventory") == 0)
		read_hosts(x, ymap_get(root, "hosts"), &hd);
	if (yrequire(c, root, "clusters", "the inventory") == 0)
		inv_read_clusters(x, ymap_get(root, "clusters"));
	inv_read_notify(c, ymap_get(root, "notify"), x->inv);
	inv_read_state(c, ymap_get(root, "state"), x->inv);
	free(hd.user);
	free(hd.identity);
	inv_winrm_release(&hd.winrm);
}

/* Keys of a host (or of defaults:) that say only how to reach it. */
static int connection_only_key(const char *k)
{
	static const char *const keys[] = {"address",  "port",	    "user",
					   "identity", "transport", NULL};
	for (int i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return strncmp(k, "winrm_", 6) == 0;
}

enum plan_ctx { PC_PLAIN, PC_HOST, PC_HOSTS };

/*
 * A canonical, length-prefixed rendering of n.  At the root, ssh: is left
 * out; in a host's mapping (PC_HOST: defaults: or an entry of hosts:), the
 * connection-only keys are.
 */
static void plan_render(struct sbuf *sb, const struct ynode *n, int root, enum plan_ctx ctx)
{
	if (n == NULL || (n->kind == YNODE_SCALAR && n->is_null)) {
		sbuf_adds(sb, "~");
		return;
	}
	if (n->kind == YNODE_SCALAR) {
		sbuf_addf(sb, "s%zu:%s", n->len, n->text);
		return;
	}
	sbuf_addc(sb, n->kind == YNODE_SEQ ? '[' : '{');
	for (int i = 0; i < n->n; i++) {
		const char *k = n->keys ? n->keys[i]->text : NULL;
		enum plan_ctx sub = PC_PLAIN;
		if (k && root && strcmp(k, "ssh") == 0)
			continue;
		if (k && ctx == PC_HOST && connection_only_key(k))
			continue;
		if (k && root && strcmp(k, "defaults") == 0)
			sub = PC_HOST;
		else if (k && root && strcmp(k, "hosts") == 0)
			sub = PC_HOSTS;
		else if (ctx == PC_HOSTS)
			sub = PC_HOST;
		if (k)
			sbuf_addf(sb, "k%zu:%s=", strlen(k), k);
		plan_render(sb, n->items[i], 0, sub);
		sbuf_addc(sb, ';');
	}
	sbuf_addc(sb, n->kind == YNODE_SEQ ? ']' : '}');
}

static void plan_digest(const struct ynode *root, char out[65])
{
	struct sbuf sb;
	sbuf_init(&sb);
	plan_render(&sb, root, 1, PC_PLAIN);
	sha256_hex(sb.buf, sb.len, out);
	sbuf_release(&sb);
}

struct inventory *inventory_load(const char *path, struct diag *d)
{
	struct invctx x;
	int first = d->n;
	struct ydoc *doc = ydoc_load(path, NULL, d);
	struct inventory *inv = NULL;

	memset(&x, 0, sizeof(x));
	nameidx_init(&x.hosts, 0);
	nameidx_init(&x.hosts_ci, 1);
	nameidx_init(&x.members, 0);
	nameidx_init(&x.clusters, 1);
	if (doc == NULL)
		goto out;
	inv = x.inv = xcalloc(1, sizeof(*inv));
	inv->path = xstrdup(path);
	x.y.file = inv->path;
	x.y.d = d;
	memcpy(inv->sha256, ydoc_sha256(doc), sizeof(inv->sha256));
	plan_digest(ydoc_root(doc), inv->plan_sha256);
	read_inventory(&x, ydoc_root(doc));
	if (x.y.nerr > 0) {
		inventory_free(inv);
		inv = NULL;
	} else {
		inventory_index(inv);
	}
out:
	nameidx_release(&x.hosts);
	nameidx_release(&x.hosts_ci);
	nameidx_release(&x.members);
	nameidx_release(&x.clusters);
	ydoc_free(doc);
	ydiag_sort_from(d, first);
	return inv;
}

void inv_values_release(struct inv_value *v, int n)
{
	for (int i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].value);
		strv_free(v[i].list, v[i].nlist);
		free(v[i].list_loc);
	}
	free(v);
}

/*
 * Hash the host and cluster names once the arrays are final, so lookups
 * (substitution, binding, planning: several per step of every cluster) cost
 * O(1) instead of a scan of every host of the fleet.  The keys point at the
 * names owned by the arrays.
 */
void inventory_index(struct inventory *inv)
{
	inv->host_index = xcalloc(1, sizeof(*inv->host_index));
	nameidx_init(inv->host_index, 0);
	for (int i = 0; i < inv->nhosts; i++)
		nameidx_put(inv->host_index, inv->hosts[i].name, i);
	inv->cluster_index = xcalloc(1, sizeof(*inv->cluster_index));
	nameidx_init(inv->cluster_index, 0);
	for (int i = 0; i < inv->nclusters; i++)
		nameidx_put(inv->cluster_index, inv->clusters[i].name, i);
}

void inventory_free(struct inventory *inv)
{
	if (inv == NULL)
		return;
	if (inv->host_index)
		nameidx_release(inv->host_index);
	free(inv->host_index);
	if (inv->cluster_index)
		nameidx_release(inv->cluster_index);
	free(inv->cluster_index);
	for (int i = 0; i < inv->nhosts; i++) {
		struct host_def *h = &inv->hosts[i];
		free(h->name);
		free(h->address);
		free(h->user);
		free(h->identity);
		inv_winrm_release(&h->winrm);
		inv_values_release(h->vars, h->nvars);
	}
	free(inv->hosts);
	for (int i = 0; i < inv->nclusters; i++)
		inv_cluster_release(&inv->clusters[i]);
	free(inv->clusters);
	for (int i = 0; i < inv->nnotify; i++) {
		free(inv->notify[i].name);
		free(inv->notify[i].url);
		strv_free(inv->notify[i].events, inv->notify[i].nevents);
	}
	free(inv->notify);
	inv_state_free(inv->state);
	free(inv->ssh.known_hosts);
	free(inv->path);
	free(inv->name);
	free(inv);
}
