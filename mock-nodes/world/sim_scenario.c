/*
 * sim_scenario.c — the scenario loader (docs/ccrsim.md, Scenarios) and the
 * fleet builder.
 *
 * A scenario is one YAML document: settings (clock, domain, media version,
 * default port, rules, durations), hosts, clusters and faults.  The loader
 * is strict — unknown keys, wrong types, dangling names and impossible
 * layouts are refused with FILE:LINE:COL — and builds the world in a fixed
 * order whatever the key order in the file: settings, hosts, clusters (which
 * bind hosts to roles), faults.
 *
 * A fleet runs the host/cluster/fault builders once per copy over the same
 * document with a name suffix ("-001"); every host of a fleet gets its own
 * loopback address (the n-th host 127.0.0.n, then 127.0.1.1, ...: see
 * sim_fleet_addr) and keeps the ports the scenario gives it, so a fleet of
 * any size has distinct endpoints and every port stays below Linux's
 * ephemeral range.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim_scenario_int.h"

#define SIM_MAX_HOSTS 40000 /* memory and fds, not addresses, are the limit */

static const char *const top_keys[] = {
    "scenario",	 "description",	 "clock",    "domain", "media_version", "base_port",	"rules",
    "durations", "hosts",	 "clusters", "faults", "winrm",		"max_sessions", "events",
    "rollups",	 "organization", NULL};

static int load_rules(struct sim_scn *s, yaml_node_t *root)
{
	static const char *const keys[] = {"max_copy_queue", "reboot_backlog", NULL};
	yaml_node_t *r = sim_yaml_get(&s->y, root, "rules");
	if (r == NULL)
		return 0;
	if (sim_yaml_check_map(&s->y, r, keys) ||
	    sim_yaml_int(&s->y, r, "max_copy_queue", 0, 1000000, 10, &s->w->max_copy_queue) ||
	    sim_yaml_int(&s->y, r, "reboot_backlog", 0, 1000000, 40, &s->w->reboot_backlog))
		return -1;
	return 0;
}

struct dur_key {
	const char *name; /* YAML key */
	size_t off;	  /* offset in struct sim_durations */
	int64_t def;	  /* default, ms */
};

#define DUR(n, f, d)                                                                               \
	{                                                                                          \
		n, offsetof(struct sim_durations, f), d                                            \
	}
static const struct dur_key dur_keys[] = {
    DUR("setup", setup, 30 * 60000),	     DUR("upgrade_cms", upgrade_cms, 7 * 60000),
    DUR("dotnet", dotnet, 5 * 60000),	     DUR("reboot", reboot, 5 * 60000),
    DUR("reboot_down", reboot_down, 200),    DUR("cms_stop", cms_stop, 60000),
    DUR("cms_start", cms_start, 60000),	     DUR("cms_move", cms_move, 2 * 60000),
    DUR("failover", failover, 60000),	     DUR("replication_catchup", catchup, 3 * 60000),
    DUR("net_stop", net_stop, 2000),	     DUR("net_start", net_start, 2000),
    DUR("cluster_move", cluster_move, 5000), DUR("ems_startup", ems_startup, 0),
    DUR("net_wait", net_wait, 30000),	     DUR("rollup", rollup, 15 * 60000),
    DUR("prepare", prepare, 10 * 60000),     DUR("crl_check", crl_check, 30 * 60000),
};

static int load_durations(struct sim_scn *s, yaml_node_t *root)
{
	const char *keys[CCR_ARRAY_LEN(dur_keys) + 1];
	yaml_node_t *d = sim_yaml_get(&s->y, root, "durations");
	for (size_t i = 0; i < CCR_ARRAY_LEN(dur_keys); i++)
		keys[i] = dur_keys[i].name;
	keys[CCR_ARRAY_LEN(dur_keys)] = NULL;
	if (d != NULL && sim_yaml_check_map(&s->y, d, keys))
		return -1;
	for (size_t i = 0; i < CCR_ARRAY_LEN(dur_keys); i++) {
		int64_t *f = (int64_t *)((char *)&s->w->dur + dur_keys[i].off);
		if (sim_yaml_duration(&s->y, d, dur_keys[i].name, dur_keys[i].def, f))
			return -1;
	}
	return 0;
}

/* winrm: {user, password}: the account every host's WinRM accepts (Basic). */
static int load_winrm(struct sim_scn *s, yaml_node_t *root)
{
	static const char *const keys[] = {"user", "password", NULL};
	yaml_node_t *m = sim_yaml_get(&s->y, root, "winrm");
	const char *user, *password;

	if (m != NULL && sim_yaml_check_map(&s->y, m, keys))
		return -1;
	if (sim_yaml_str(&s->y, m, "user", SIM_WINRM_USER, &user) ||
	    sim_yaml_str(&s->y, m, "password", SIM_WINRM_PASSWORD, &password))
		return -1;
	if (*user == '\0' || strchr(user, ':') != NULL || *password == '\0')
		return sim_yaml_fail(&s->y, m,
				     "winrm: user (without ':') and password must not be empty");
	free(s->w->winrm_user);
	s->w->winrm_user = xstrdup(user);
	free(s->w->winrm_password);
	s->w->winrm_password = xstrdup(password);
	return 0;
}

static int load_settings(struct sim_scn *s, yaml_node_t *root)
{
	const char *clock, *domain, *name;
	int64_t port, maxs;
	char *media = NULL;
	if (sim_yaml_check_map(&s->y, root, top_keys) ||
	    sim_yaml_str(&s->y, root, "scenario", "unnamed", &name) ||
	    sim_yaml_str(&s->y, root, "clock", "2026-11-21T10:20:00Z", &clock) ||
	    sim_yaml_str(&s->y, root, "domain", "contoso.com", &domain) ||
	    sim_yaml_int(&s->y, root, "base_port", 1024, SIM_PORT_MAX, 22001, &port) ||
	    sim_yaml_int(&s->y, root, "max_sessions", 1, 1000, 10, &maxs) ||
	    sim_yaml_version(&s->y, root, "media_version", "8.1.240.6", &media))
		return -1;
	s->default_port = (int)port;
	s->max_sessions = (int)maxs;
	free(s->w->domain);
	s->w->domain = xstrdup(domain);
	free(s->w->media_version);
	s->w->media_version = media;
	if (sim_parse_iso(clock, &s->w->clock_s) != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, root, "clock"),
				     "clock: expected 2026-11-21T10:20:00Z, got \"%s\"", clock);
	return load_rules(s, root) || load_durations(s, root) || load_winrm(s, root) ||
	       sim_scn_msi_world(s, root);
}

static int valid_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 63)
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

/* Hosts of one copy are looked up from its first host on: fleets stay linear. */
static int find_from(const struct sim_world *w, int base, const char *name)
{
	for (int i = base; i < w->nhosts; i++)
		if (str_ieq(w->hosts[i].name, name))
			return i;
	return -1;
}

int sim_scn_host_ref(struct sim_scn *s, yaml_node_t *n, const char *what)
{
	const char *v = sim_yaml_scalar(&s->y, n, what);
	if (v == NULL)
		return -1;
	char *full = xasprintf("%s%s", v, s->suffix);
	int h = find_from(s->w, s->host_base, full);
	free(full);
	if (h < 0)
		return sim_yaml_fail(&s->y, n, "%s: no host named \"%s\"", what, v);
	return h;
}

static int load_net_sp(struct sim_scn *s, struct sim_host *h, yaml_node_t *map)
{
	yaml_node_t *v = sim_yaml_get(&s->y, map, "net_sp");
	int64_t sp;
	h->net_sp = 1;
	if (v != NULL && v->type == YAML_SCALAR_NODE &&
	    (sim_yaml_is_null(v) || strcmp((const char *)v->data.scalar.value, "none") == 0)) {
		h->net_sp = -1;
		return 0;
	}
	if (sim_yaml_int(&s->y, map, "net_sp", 0, 9, 1, &sp))
		return -1;
	h->net_sp = (int)sp;
	return 0;
}

static int load_boot(struct sim_scn *s, struct sim_host *h, yaml_node_t *map, int index)
{
	const char *boot, *power, *wm;
	if (sim_yaml_str(&s->y, map, "boot_id", NULL, &boot) ||
	    sim_yaml_str(&s->y, map, "power", "up", &power) ||
	    sim_yaml_str(&s->y, map, "watermark", "none", &wm))
		return -1;
	h->boot_s = s->w->clock_s - 7 * 86400 + (int64_t)index * 60;
	if (boot != NULL) {
		char iso[32];
		if (strlen(boot) != 14)
			return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "boot_id"),
					     "boot_id: expected 14 digits, YYYYMMDDhhmmss");
		snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", boot, boot + 4,
			 boot + 6, boot + 8, boot + 10, boot + 12);
		if (sim_parse_iso(iso, &h->boot_s) != 0)
			return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "boot_id"),
					     "boot_id: expected 14 digits, YYYYMMDDhhmmss");
	}
	if (strcmp(power, "up") != 0 && strcmp(power, "down") != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "power"),
				     "power: expected up or down");
	h->up = strcmp(power, "up") == 0;
	h->watermark = strcmp(wm, "none") == 0 ? 0 : sim_setup_stage_find(wm);
	if (h->watermark < 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "watermark"),
				     "watermark: not a setup stage name: \"%s\"", wm);
	return 0;
}

void sim_fleet_addr(int index, char *buf, size_t len)
{
	unsigned a = (unsigned)index;
	snprintf(buf, len, "127.%u.%u.%u", a / (254u * 256u), a / 254u % 256u, a % 254u + 1u);
}

/*
 * Default endpoint: 127.0.0.1, port base_port + the host's index in its copy.
 * A fleet gives every host its own address (sim_fleet_addr of its world
 * index) instead of the written one; ports are kept.  Every port is below
 * Linux's ephemeral range (SIM_PORT_MAX).
 */
static int load_address(struct sim_scn *s, struct sim_host *h, yaml_node_t *map, int index)
{
	const char *addr;
	char fleet_addr[32];
	int64_t port, def = (int64_t)s->default_port + (index - s->host_base);
	if (def > SIM_PORT_MAX)
		return sim_yaml_fail(&s->y, map,
				     "port %lld (base_port + %d) is in Linux's ephemeral range "
				     "(from 32768); lower base_port or give the host a port",
				     (long long)def, index - s->host_base);
	if (sim_yaml_str(&s->y, map, "address", "127.0.0.1", &addr) ||
	    sim_yaml_int(&s->y, map, "port", 1, SIM_PORT_MAX, def, &port))
		return -1;
	if (strncmp(addr, "127.", 4) != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "address"),
				     "address: expected a loopback address 127.x.y.z");
	sim_fleet_addr(index, fleet_addr, sizeof(fleet_addr));
	h->addr = xstrdup(s->fleet ? fleet_addr : addr);
	h->port = (int)port;
	for (int i = 0; !s->fleet && i < index; i++)
		if (s->w->hosts[i].port == h->port && strcmp(s->w->hosts[i].addr, h->addr) == 0)
			return sim_yaml_fail(&s->y, map, "%s:%d is already used by %s", h->addr,
					     h->port, s->w->hosts[i].name);
	return 0;
}

static int load_host(struct sim_scn *s, yaml_node_t *k, yaml_node_t *v)
{
	static const char *const keys[] = {"role",
					   "address",
					   "port",
					   "binaries_version",
					   "server_version",
					   "os_sp",
					   "net_sp",
					   "boot_id",
					   "pending_reboot",
					   "power",
					   "watermark",
					   "services",
					   "http_port",
					   "max_sessions",
					   "dotnet_restart",
					   "windows_installer",
					   "arch",
					   "rollups",
					   "interim_updates",
					   "internet",
					   NULL};
	const char *name = sim_yaml_scalar(&s->y, k, "host name");
	int64_t os_sp, maxs;
	if (name == NULL || sim_yaml_check_map(&s->y, v, keys))
		return -1;
	if (!valid_name(name))
		return sim_yaml_fail(&s->y, k, "host name \"%s\": letters, digits and '-' only",
				     name);
	int index = s->w->nhosts;
	s->w->hosts = xreallocarray(s->w->hosts, (size_t)index + 1, sizeof(*s->w->hosts));
	struct sim_host *h = &s->w->hosts[index];
	memset(h, 0, sizeof(*h));
	s->w->nhosts++;
	h->name = xasprintf("%s%s", name, s->suffix);
	h->cluster = -1;
	h->down_at = h->up_at = SIM_NEVER;
	if (find_from(s->w, s->host_base, h->name) != index)
		return sim_yaml_fail(&s->y, k, "duplicate host \"%s\"", name);
	if (sim_yaml_version(&s->y, v, "binaries_version", NULL, &h->binaries) ||
	    sim_yaml_version(&s->y, v, "server_version", NULL, &h->server_version) ||
	    sim_yaml_int(&s->y, v, "os_sp", 0, 9, 2, &os_sp) || load_net_sp(s, h, v) ||
	    sim_yaml_bool(&s->y, v, "pending_reboot", 0, &h->pending_reboot) ||
	    sim_yaml_int(&s->y, v, "max_sessions", 1, 1000, s->max_sessions, &maxs) ||
	    sim_yaml_bool(&s->y, v, "dotnet_restart", 1, &h->dotnet_restart) ||
	    load_boot(s, h, v, index) || load_address(s, h, v, index) ||
	    sim_scn_services(s, h, sim_yaml_get(&s->y, v, "services")) || sim_scn_msi_host(s, h, v))
		return -1;
	h->os_sp = (int)os_sp;
	h->max_sessions = (int)maxs;
	return 0;
}

static int load_hosts(struct sim_scn *s, yaml_node_t *root)
{
	yaml_node_t *hosts = sim_yaml_get(&s->y, root, "hosts");
	if (hosts == NULL)
		return sim_yaml_fail(&s->y, root, "missing key \"hosts\"");
	if (sim_yaml_check_map(&s->y, hosts, NULL))
		return -1;
	for (yaml_node_pair_t *p = hosts->data.mapping.pairs.start;
	     p < hosts->data.mapping.pairs.top; p++)
		if (load_host(s, sim_yaml_node(&s->y, p->key), sim_yaml_node(&s->y, p->value)))
			return -1;
	return 0;
}

static int load_faults(struct sim_scn *s, yaml_node_t *root, int copy)
{
	yaml_node_t *f = sim_yaml_get(&s->y, root, "faults");
	char msg[256];
	if (f == NULL || sim_yaml_is_null(f))
		return 0;
	if (f->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, f, "faults: expected a list");
	for (yaml_node_item_t *i = f->data.sequence.items.start; i < f->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = sim_yaml_node(&s->y, *i);
		json_t *j = sim_yaml_json(&s->y, n);
		json_t *host = json_object_get(j, "host");
		int rc = 0;
		if (json_is_string(host) && strcmp(json_string_value(host), "*") != 0) {
			char *full = xasprintf("%s%s", json_string_value(host), s->suffix);
			json_object_set_new(j, "host", json_string(full));
			free(full);
		} else if (copy > 0 && json_is_string(host)) {
			json_decref(j);
			continue;
		}
		rc = sim_fault_add(s->w, j, msg, sizeof(msg));
		json_decref(j);
		if (rc != 0)
			return sim_yaml_fail(&s->y, n, "%s", msg);
	}
	return 0;
}

/* NAME or NAME.rest of copy: the copy's suffix after NAME ("*" stays). */
static void suffix_ref(json_t *o, const char *key, const char *suffix)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || strcmp(json_string_value(v), "*") == 0 || suffix[0] == '\0')
		return;
	const char *s = json_string_value(v), *dot = strchr(s, '.');
	char *full = dot != NULL ? xasprintf("%.*s%s%s", (int)(dot - s), s, suffix, dot)
				 : xasprintf("%s%s", s, suffix);
	json_object_set_new(o, key, json_string(full));
	free(full);
}

/* events: the JSON shape of the control interface's event-add, per copy. */
static int load_events(struct sim_scn *s, yaml_node_t *root)
{
	yaml_node_t *f = sim_yaml_get(&s->y, root, "events");
	char msg[256];
	if (f == NULL || sim_yaml_is_null(f))
		return 0;
	if (f->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, f, "events: expected a list");
	for (yaml_node_item_t *i = f->data.sequence.items.start; i < f->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = sim_yaml_node(&s->y, *i);
		json_t *j = sim_yaml_json(&s->y, n);
		int rc;
		if (json_is_object(j)) {
			suffix_ref(j, "host", s->suffix);
			suffix_ref(j, "on_host", s->suffix);
			suffix_ref(j, "cluster", s->suffix);
			suffix_ref(j, "path", s->suffix);
		}
		rc = sim_event_add(s->w, j, msg, sizeof(msg));
		json_decref(j);
		if (rc != 0)
			return sim_yaml_fail(&s->y, n, "%s", msg);
	}
	return 0;
}

static int build_copy(struct sim_scn *s, yaml_node_t *root, int copy, int ncopies)
{
	int width = ncopies >= 1000 ? (ncopies >= 10000 ? 5 : 4) : 3;
	if (ncopies > 0)
		snprintf(s->suffix, sizeof(s->suffix), "-%0*d", width, copy + 1);
	else
		s->suffix[0] = '\0';
	s->host_base = s->w->nhosts;
	if (load_hosts(s, root) || sim_scn_clusters(s, root) || load_faults(s, root, copy) ||
	    load_events(s, root))
		return -1;
	if (s->w->nhosts > SIM_MAX_HOSTS)
		return sim_yaml_fail(&s->y, root, "more than %d hosts", SIM_MAX_HOSTS);
	return 0;
}

/* One listening endpoint: a host's SSH port or an HT/CAS's HTTP port. */
struct sim_endpoint {
	const char *addr; /* loopback address */
	int port;	  /* TCP port */
	int host;	  /* world host index */
	int http;	  /* 1: the HTTP port, 0: the SSH port */
};

static int endpoint_cmp(const void *pa, const void *pb)
{
	const struct sim_endpoint *a = pa, *b = pb;
	int c = strcmp(a->addr, b->addr);
	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->http != b->http)
		return a->http - b->http;
	return a->host - b->host;
}

/* Where to point at host's HTTP port: its http_port, its mapping, or (fleet) the root. */
static yaml_node_t *http_node(struct sim_scn *s, yaml_node_t *root, int host)
{
	yaml_node_t *hosts = sim_yaml_get(&s->y, root, "hosts");
	if (s->fleet || hosts == NULL)
		return root;
	yaml_node_t *v = sim_yaml_node(&s->y, hosts->data.mapping.pairs.start[host].value);
	yaml_node_t *n = sim_yaml_get(&s->y, v, "http_port");
	return n != NULL ? n : v;
}

/*
 * No HTTP port may be another host's SSH or HTTP port on the same address.
 * Sorted, so that a fleet of 40,000 hosts is checked in O(n log n).  (Two
 * SSH endpoints were already compared when the hosts were loaded.)
 */
static int check_http_ports(struct sim_scn *s, yaml_node_t *root)
{
	struct sim_world *w = s->w;
	struct sim_endpoint *e = xcalloc((size_t)w->nhosts * 2, sizeof(*e));
	int n = 0, rc = 0;
	for (int i = 0; i < w->nhosts; i++) {
		e[n++] = (struct sim_endpoint){w->hosts[i].addr, w->hosts[i].port, i, 0};
		if (w->hosts[i].http_port > 0)
			e[n++] =
			    (struct sim_endpoint){w->hosts[i].addr, w->hosts[i].http_port, i, 1};
	}
	qsort(e, (size_t)n, sizeof(*e), endpoint_cmp);
	for (int i = 1; i < n && rc == 0; i++) {
		const struct sim_endpoint *a = &e[i - 1], *b = &e[i];
		if (!b->http || a->port != b->port || strcmp(a->addr, b->addr) != 0)
			continue;
		rc = sim_yaml_fail(&s->y, http_node(s, root, b->host),
				   "%s's HTTP port %s:%d is already %s's %s port",
				   w->hosts[b->host].name, b->addr, b->port, w->hosts[a->host].name,
				   a->http ? "HTTP" : "SSH");
	}
	free(e);
	return rc;
}

/* ncopies 0: the scenario as written; n > 0: a fleet of n suffixed copies. */
static struct sim_world *scenario_build(const char *path, int ncopies, double scale, char *err,
					size_t errlen)
{
	struct sim_scn s;
	memset(&s, 0, sizeof(s));
	if (scale < 0 || scale != scale) {
		snprintf(err, errlen, "%s:0:0: time scale must be >= 0", path);
		return NULL;
	}
	if (sim_yaml_load(&s.y, path, err, errlen) != 0)
		goto fail;
	s.w = sim_world_new(scale);
	s.fleet = ncopies > 0;
	yaml_node_t *root = sim_yaml_root(&s.y);
	if (load_settings(&s, root))
		goto fail;
	for (int c = 0; c < (ncopies > 0 ? ncopies : 1); c++)
		if (build_copy(&s, root, c, ncopies))
			goto fail;
	if (check_http_ports(&s, root))
		goto fail;
	sim_yaml_release(&s.y);
	return s.w;
fail:
	sim_yaml_release(&s.y);
	sim_world_free(s.w);
	return NULL;
}

struct sim_world *sim_world_load(const char *path, double time_scale, char *err, size_t errlen)
{
	return scenario_build(path, 0, time_scale, err, errlen);
}

struct sim_world *sim_world_fleet(const char *path, int n, double time_scale, char *err,
				  size_t errlen)
{
	if (n < 1 || n > 60000) {
		snprintf(err, errlen, "%s:0:0: fleet size must be between 1 and 60000", path);
		return NULL;
	}
	return scenario_build(path, n, time_scale, err, errlen);
}
