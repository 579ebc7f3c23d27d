/*
 * sim_dump.c — the world as JSON for the control interface and for tests
 * (docs/ccrsim.md, World dump).  Values are as of `now`: replication queues
 * mid-drain, open outage intervals counted up to now.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <time.h>

static json_t *outages_json(const struct sim_cluster *c)
{
	json_t *arr = json_array();
	for (int i = 0; i < c->noutages; i++) {
		const struct sim_outage *o = &c->outages[i];
		json_t *end = o->end < 0 ? json_null() : json_integer(o->end);
		json_array_append_new(
		    arr, json_pack("{s:I, s:o}", "start_ms", (json_int_t)o->start, "end_ms", end));
	}
	return arr;
}

static json_t *replication_json(const struct sim_world *w, const struct sim_cluster *c, int64_t now)
{
	json_t *arr = json_array();
	for (int i = 0; i < c->nsgs; i++) {
		const struct sim_sg *sg = &c->sgs[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I}", "storage_group",
						     sg->name, "database", sg->database, "status",
						     sim_sg_status(w, c, sg, now), "copy_queue",
						     (json_int_t)sim_sg_queue(sg, now),
						     "replay_queue", (json_int_t)sg->replay));
	}
	return arr;
}

static json_t *backup_json(const struct sim_cluster *c)
{
	char buf[32];
	time_t t = (time_t)c->backup_s;
	struct tm tm;
	if (c->backup_s < 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *names_json(const struct sim_world *w, const int *idx, int n)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_string(w->hosts[idx[i]].name));
	return arr;
}

static json_t *cluster_json(const struct sim_world *w, const struct sim_cluster *c, int64_t now)
{
	json_t *cms = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", c->cms, "owner",
				w->hosts[c->owner].name, "state", sim_cms_state_name(c->state),
				"version", c->cms_version, "registry_key", c->cms_key);
	return json_pack("{s:s, s:o, s:o, s:o, s:s, s:b, s:o, s:o, s:o, s:I}", "name", c->name,
			 "members", names_json(w, c->members, 2), "hub_cas",
			 names_json(w, c->hubcas, c->nhubcas), "cms", cms, "cluster_group_owner",
			 w->hosts[c->group_owner].name, "cluster_group_online", c->group_online,
			 "replication", replication_json(w, c, now), "last_full_backup",
			 backup_json(c), "outages", outages_json(c), "outage_total_ms",
			 (json_int_t)sim_outage_total(c, now));
}

/* A service: state and start; its behaviours only when it has them. */
static json_t *service_json(const struct sim_svc *s)
{
	json_t *o = json_pack("{s:s, s:s}", "state", sim_svc_state_name(s->state), "start",
			      sim_svc_start_name(s->start));
	if (s->ndeps > 0) {
		json_t *d = json_array();
		for (int i = 0; i < s->ndeps; i++)
			json_array_append_new(d, json_string(s->deps[i]));
		json_object_set_new(o, "depends_on", d);
	}
	if (s->stop_hang == SIM_NEVER)
		json_object_set_new(o, "stop_hang", json_string("never"));
	else if (s->stop_hang > 0)
		json_object_set_new(o, "stop_hang_ms", json_integer(s->stop_hang));
	if (s->refuse_stop != 0)
		json_object_set_new(o, "refuse_stop", json_integer(s->refuse_stop));
	return o;
}

static json_t *services_json(const struct sim_host *h)
{
	json_t *o = json_object();
	for (int i = 0; i < h->nsvcs; i++)
		json_object_set_new(o, h->svcs[i].name, service_json(&h->svcs[i]));
	return o;
}

static json_t *commands_json(const struct sim_host *h)
{
	json_t *o = json_object();
	for (int i = 0; i < h->ncounts; i++)
		json_object_set_new(o, h->counts[i].cmd, json_integer(h->counts[i].n));
	return o;
}

static json_t *boot_id_json(const struct sim_host *h)
{
	char buf[32];
	time_t t = (time_t)h->boot_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm);
	return json_string(buf);
}

static json_t *watermark_json(const struct sim_host *h)
{
	const char *name = sim_setup_stage_name(h->watermark);
	if (h->watermark <= 0)
		return json_null();
	return json_pack("{s:i, s:s?}", "stage", h->watermark, "name", name);
}

static json_t *host_json(const struct sim_world *w, int i, int64_t now)
{
	const struct sim_host *h = &w->hosts[i];
	json_t *o = json_pack(
	    "{s:s, s:s, s:i, s:s, s:o, s:s, s:i, s:o, s:s?, s:s?, s:i, s:o, s:b, s:o, s:o, s:o}",
	    "name", h->name, "address", h->addr, "port", h->port, "role",
	    h->role == SIM_ROLE_NODE ? "node" : "hubcas", "cluster",
	    h->cluster >= 0 ? json_string(w->clusters[h->cluster].name) : json_null(), "power",
	    sim_host_power(w, i, now) == SIM_UP ? "up" : "down", "boot_epoch", h->boot_epoch,
	    "boot_id", boot_id_json(h), "binaries_version", h->binaries, "server_version",
	    h->server_version, "os_sp", h->os_sp, "net_sp",
	    h->net_sp < 0 ? json_null() : json_integer(h->net_sp), "pending_reboot",
	    h->pending_reboot, "services", services_json(h), "commands", commands_json(h),
	    "watermark", watermark_json(h));
	json_object_set_new(o, "http_port",
			    h->http_port > 0 ? json_integer(h->http_port) : json_null());
	json_object_set_new(o, "http_requests", json_integer(h->http_requests));
	json_object_set_new(o, "requests", json_integer(h->requests));
	json_object_set_new(o, "dotnet_restart", json_boolean(h->dotnet_restart));
	json_object_set_new(o, "max_sessions", json_integer(h->max_sessions));
	json_t *reg = json_object(); /* values written with `reg add`: "KEY\\NAME": data */
	for (int k = 0; k < h->nregvals; k++) {
		char *kn = xasprintf("%s\\%s", h->regvals[k].key, h->regvals[k].name);
		json_object_set_new(reg, kn, json_string(h->regvals[k].data));
		free(kn);
	}
	json_object_set_new(o, "registry", reg);
	json_object_set_new(o, "msi", sim_msi_json(w, h));
	return o;
}

json_t *sim_world_dump(const struct sim_world *w, int64_t now)
{
	json_t *clusters = json_array(), *hosts = json_array(), *faults = json_array();
	for (int i = 0; i < w->nclusters; i++)
		json_array_append_new(clusters, cluster_json(w, &w->clusters[i], now));
	for (int i = 0; i < w->nhosts; i++)
		json_array_append_new(hosts, host_json(w, i, now));
	for (int i = 0; i < w->nfaults; i++)
		json_array_append_new(faults, sim_fault_json(&w->faults[i]));
	json_t *events = json_array();
	for (int i = 0; i < w->nevents; i++)
		json_array_append_new(events, sim_event_json(&w->events[i]));
	return json_pack("{s:I, s:f, s:o, s:o, s:o, s:o, s:o}", "now_ms", (json_int_t)now,
			 "time_scale", w->scale, "clusters", clusters, "hosts", hosts, "faults",
			 faults, "events", events, "organization", sim_org_json(w));
}
