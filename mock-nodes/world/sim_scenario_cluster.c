/*
 * sim_scenario_cluster.c — the `clusters:` part of a scenario: the CMS, the
 * two CCR members, the HT/CAS servers, the Cluster Group, replication per
 * storage group and the last backup; then every host of the copy is bound
 * to its role (node: member of exactly one cluster; hubcas: listed under
 * hub_cas), and an explicit `role:` must agree.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_scenario_int.h"

static const char *const cluster_keys[] = {
    "cms",	   "cms_version", "cms_owner",		 "cms_state",
    "cms_key",	   "members",	  "cluster_group_owner", "last_full_backup",
    "replication", "hub_cas",	  "acknowledge",	 NULL};

static const char *const default_acks[] = {"preflight.lab-tested", "preflight.backup-recent",
					   "preflight.users-informed", "final.new-backup"};

static void ack_add(struct sim_cluster *c, const char *id)
{
	c->ack = xreallocarray(c->ack, (size_t)c->nack + 1, sizeof(*c->ack));
	c->ack[c->nack++] = xstrdup(id);
}

/* Gates the generated inventory acknowledges: the list given (maybe empty) or the SP1 four. */
static int load_acks(struct sim_scn *s, struct sim_cluster *c, yaml_node_t *map)
{
	yaml_node_t *a = sim_yaml_get(&s->y, map, "acknowledge");
	if (a == NULL) {
		for (size_t i = 0; i < CCR_ARRAY_LEN(default_acks); i++)
			ack_add(c, default_acks[i]);
		return 0;
	}
	if (a->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, a, "acknowledge: expected a list of PHASE.STEP ids");
	for (yaml_node_item_t *i = a->data.sequence.items.start; i < a->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = sim_yaml_node(&s->y, *i);
		const char *id = sim_yaml_scalar(&s->y, n, "acknowledge");
		if (id == NULL)
			return -1;
		if (strchr(id, '.') == NULL || strchr(id, ' ') != NULL)
			return sim_yaml_fail(&s->y, n,
					     "acknowledge: expected PHASE.STEP, got \"%s\"", id);
		ack_add(c, id);
	}
	return 0;
}

static const char *const sg_statuses[] = {"Healthy",   "Initializing", "Failed",
					  "Suspended", "Seeding",      "ServiceDown"};

static int bind_member(struct sim_scn *s, struct sim_cluster *c, int ci, yaml_node_t *n, int slot)
{
	int h = sim_scn_host_ref(s, n, "members");
	if (h < 0)
		return -1;
	struct sim_host *host = &s->w->hosts[h];
	if (host->cluster >= 0 || host->role == SIM_ROLE_HUBCAS)
		return sim_yaml_fail(&s->y, n, "members: %s is already bound to a cluster",
				     host->name);
	if (host->binaries == NULL)
		return sim_yaml_fail(&s->y, n, "members: host %s has no binaries_version",
				     host->name);
	host->cluster = ci;
	host->role = SIM_ROLE_NODE;
	c->members[slot] = h;
	return 0;
}

static int load_members(struct sim_scn *s, struct sim_cluster *c, int ci, yaml_node_t *map)
{
	yaml_node_t *m = sim_yaml_get(&s->y, map, "members");
	if (m == NULL)
		return sim_yaml_fail(&s->y, map, "missing key \"members\"");
	if (m->type != YAML_SEQUENCE_NODE ||
	    m->data.sequence.items.top - m->data.sequence.items.start != 2)
		return sim_yaml_fail(&s->y, m, "members: a CCR cluster has exactly two nodes");
	for (int i = 0; i < 2; i++)
		if (bind_member(s, c, ci, sim_yaml_node(&s->y, m->data.sequence.items.start[i]), i))
			return -1;
	return 0;
}

static int load_hubcas(struct sim_scn *s, struct sim_cluster *c, yaml_node_t *map)
{
	yaml_node_t *m = sim_yaml_get(&s->y, map, "hub_cas");
	if (m == NULL)
		return 0;
	if (m->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, m, "hub_cas: expected a list of host names");
	for (yaml_node_item_t *i = m->data.sequence.items.start; i < m->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = sim_yaml_node(&s->y, *i);
		int h = sim_scn_host_ref(s, n, "hub_cas");
		if (h < 0)
			return -1;
		struct sim_host *host = &s->w->hosts[h];
		if (host->cluster >= 0)
			return sim_yaml_fail(&s->y, n, "hub_cas: %s is a cluster node", host->name);
		if (host->server_version == NULL && host->binaries == NULL)
			return sim_yaml_fail(&s->y, n, "hub_cas: host %s has no server_version",
					     host->name);
		if (host->server_version == NULL)
			host->server_version = xstrdup(host->binaries);
		if (host->binaries == NULL)
			host->binaries = xstrdup(host->server_version);
		host->role = SIM_ROLE_HUBCAS;
		c->hubcas = xreallocarray(c->hubcas, (size_t)c->nhubcas + 1, sizeof(*c->hubcas));
		c->hubcas[c->nhubcas++] = h;
	}
	return 0;
}

static int member_ref(struct sim_scn *s, struct sim_cluster *c, yaml_node_t *map, const char *key,
		      int def, int *out)
{
	yaml_node_t *n = sim_yaml_get(&s->y, map, key);
	*out = def;
	if (n == NULL)
		return def < 0 ? sim_yaml_fail(&s->y, map, "missing key \"%s\"", key) : 0;
	int h = sim_scn_host_ref(s, n, key);
	if (h < 0)
		return -1;
	if (!sim_is_member(c, h))
		return sim_yaml_fail(&s->y, n, "%s: %s is not a member of the cluster", key,
				     s->w->hosts[h].name);
	*out = h;
	return 0;
}

static int load_sg(struct sim_scn *s, struct sim_sg *sg, yaml_node_t *n, int index)
{
	static const char *const keys[] = {"storage_group", "database", "status", "copy_queue",
					   "replay_queue",  "drain",	NULL};
	const char *name, *db, *status, *drain;
	int64_t ms;
	size_t k = 0;
	if (sim_yaml_check_map(&s->y, n, keys) ||
	    sim_yaml_str(&s->y, n, "storage_group", "First Storage Group", &name) ||
	    sim_yaml_str(&s->y, n, "database", index == 0 ? "Mailbox Database" : NULL, &db) ||
	    sim_yaml_str(&s->y, n, "status", "Healthy", &status) ||
	    sim_yaml_int(&s->y, n, "copy_queue", 0, 100000000, 0, &sg->queue) ||
	    sim_yaml_int(&s->y, n, "replay_queue", 0, 100000000, 0, &sg->replay) ||
	    sim_yaml_str(&s->y, n, "drain", "never", &drain))
		return -1;
	while (k < CCR_ARRAY_LEN(sg_statuses) && strcmp(sg_statuses[k], status) != 0)
		k++;
	if (k == CCR_ARRAY_LEN(sg_statuses))
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, n, "status"),
				     "status: expected Healthy, Initializing, Failed, Suspended, "
				     "Seeding or ServiceDown");
	sg->name = xstrdup(name);
	sg->database = db != NULL ? xstrdup(db) : xasprintf("%s Database", name);
	sg->status = xstrdup(status);
	sg->drain_end = SIM_NEVER;
	if (strcmp(drain, "never") == 0)
		return 0;
	if (parse_duration_ms(drain, &ms) != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, n, "drain"),
				     "drain: expected never or a duration like 2h");
	sg->drain_end = sim_scaled(s->w, ms);
	return 0;
}

static int load_replication(struct sim_scn *s, struct sim_cluster *c, yaml_node_t *map)
{
	yaml_node_t *r = sim_yaml_get(&s->y, map, "replication");
	if (r != NULL && r->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, r, "replication: expected a list of storage groups");
	int n = r != NULL ? (int)(r->data.sequence.items.top - r->data.sequence.items.start) : 0;
	c->sgs = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*c->sgs));
	if (n == 0) {
		c->nsgs = 1;
		c->sgs[0].name = xstrdup("First Storage Group");
		c->sgs[0].database = xstrdup("Mailbox Database");
		c->sgs[0].status = xstrdup("Healthy");
		c->sgs[0].drain_end = SIM_NEVER;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		c->nsgs = i + 1;
		if (load_sg(s, &c->sgs[i], sim_yaml_node(&s->y, r->data.sequence.items.start[i]),
			    i))
			return -1;
	}
	return 0;
}

static int load_cms(struct sim_scn *s, struct sim_cluster *c, yaml_node_t *map)
{
	const char *cms, *state, *backup;
	if (sim_yaml_str(&s->y, map, "cms", NULL, &cms) ||
	    sim_yaml_version(&s->y, map, "cms_version", NULL, &c->cms_version) ||
	    sim_yaml_str(&s->y, map, "cms_state", "Online", &state) ||
	    sim_yaml_bool(&s->y, map, "cms_key", 1, &c->cms_key) ||
	    sim_yaml_str(&s->y, map, "last_full_backup", "none", &backup))
		return -1;
	if (cms == NULL || c->cms_version == NULL)
		return sim_yaml_fail(&s->y, map, "a cluster needs \"cms\" and \"cms_version\"");
	c->cms = xasprintf("%s%s", cms, s->suffix);
	if (sim_cluster_by_cms(s->w, c->cms) != s->w->nclusters - 1)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "cms"),
				     "cms: %s is already the CMS of another cluster", cms);
	if (sim_cms_state_parse(state, &c->state) != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "cms_state"),
				     "cms_state: expected Online, Offline, Online Pending, Offline "
				     "Pending, Failed or Partially Online");
	c->backup_s = -1;
	if (strcmp(backup, "none") != 0 && sim_parse_iso(backup, &c->backup_s) != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "last_full_backup"),
				     "last_full_backup: expected 2026-11-20T23:00:00Z or none");
	return 0;
}

/* The CMS starts in its scenario state: not Online means an outage open since time 0. */
static void initial_state(struct sim_world *w, struct sim_cluster *c)
{
	enum sim_cms_state st = c->state;
	c->state = SIM_CMS_ONLINE;
	if (st == SIM_CMS_FAILED)
		sim_cms_fail(w, c, 0);
	else
		sim_cms_set_state(w, c, st, 0);
	if (st == SIM_CMS_ONLINE_PENDING)
		c->cms_due = 0;
}

static int load_cluster(struct sim_scn *s, yaml_node_t *k, yaml_node_t *v)
{
	const char *name = sim_yaml_scalar(&s->y, k, "cluster name");
	if (name == NULL || sim_yaml_check_map(&s->y, v, cluster_keys))
		return -1;
	int ci = s->w->nclusters;
	s->w->clusters = xreallocarray(s->w->clusters, (size_t)ci + 1, sizeof(*s->w->clusters));
	struct sim_cluster *c = &s->w->clusters[ci];
	memset(c, 0, sizeof(*c));
	s->w->nclusters++;
	c->name = xasprintf("%s%s", name, s->suffix);
	c->cms_due = SIM_NEVER;
	c->group_online = 1;
	if (load_cms(s, c, v) || load_members(s, c, ci, v) || load_hubcas(s, c, v) ||
	    member_ref(s, c, v, "cms_owner", -1, &c->owner) ||
	    member_ref(s, c, v, "cluster_group_owner", c->owner, &c->group_owner) ||
	    load_replication(s, c, v) || load_acks(s, c, v))
		return -1;
	initial_state(s->w, c);
	return 0;
}

/*
 * An HT/CAS serves HTTP on http_port, by default its SSH port + 10000 so that
 * it moves with base_port (tests/lib/sim.sh rewrites base_port).  Every port
 * stays below the ephemeral range.  Collisions with other endpoints are
 * checked once every copy is built (sim_scenario.c).
 */
static int bind_http(struct sim_scn *s, struct sim_host *h, yaml_node_t *v)
{
	yaml_node_t *n = sim_yaml_get(&s->y, v, "http_port");
	int64_t def = (int64_t)h->port + SIM_HTTP_PORT_OFFSET, port = def;
	if (h->role != SIM_ROLE_HUBCAS) {
		if (n != NULL)
			return sim_yaml_fail(&s->y, n,
					     "http_port: %s is a cluster node; only an HT/CAS "
					     "(hubcas) serves HTTP",
					     h->name);
		return 0;
	}
	if (n != NULL && sim_yaml_int(&s->y, v, "http_port", 1, SIM_PORT_MAX, 0, &port))
		return -1;
	if (port > SIM_PORT_MAX)
		return sim_yaml_fail(&s->y, v,
				     "%s: HTTP port %lld (SSH port + %d) is in Linux's ephemeral "
				     "range (from 32768); give it an http_port",
				     h->name, (long long)port, SIM_HTTP_PORT_OFFSET);
	h->http_port = (int)port;
	return 0;
}

/* Every host of the copy must have been bound, and agree with an explicit role. */
static int check_roles(struct sim_scn *s, yaml_node_t *root)
{
	yaml_node_t *hosts = sim_yaml_get(&s->y, root, "hosts");
	int i = s->host_base;
	for (yaml_node_pair_t *p = hosts->data.mapping.pairs.start;
	     p < hosts->data.mapping.pairs.top; p++, i++) {
		struct sim_host *h = &s->w->hosts[i];
		yaml_node_t *v = sim_yaml_node(&s->y, p->value);
		const char *role;
		if (sim_yaml_str(&s->y, v, "role", NULL, &role))
			return -1;
		if (h->cluster < 0 && h->role != SIM_ROLE_HUBCAS)
			return sim_yaml_fail(
			    &s->y, sim_yaml_node(&s->y, p->key),
			    "host %s is neither a member nor a hub_cas of any cluster", h->name);
		const char *want = h->role == SIM_ROLE_NODE ? "node" : "hubcas";
		if (role != NULL && strcmp(role, want) != 0)
			return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, v, "role"),
					     "role: %s is a %s by the cluster layout", h->name,
					     want);
		if (bind_http(s, h, v))
			return -1;
	}
	return 0;
}

int sim_scn_clusters(struct sim_scn *s, yaml_node_t *root)
{
	yaml_node_t *cl = sim_yaml_get(&s->y, root, "clusters");
	if (cl == NULL)
		return sim_yaml_fail(&s->y, root, "missing key \"clusters\"");
	if (sim_yaml_check_map(&s->y, cl, NULL))
		return -1;
	for (yaml_node_pair_t *p = cl->data.mapping.pairs.start; p < cl->data.mapping.pairs.top;
	     p++)
		if (load_cluster(s, sim_yaml_node(&s->y, p->key), sim_yaml_node(&s->y, p->value)))
			return -1;
	return check_roles(s, root);
}
