/*
 * sim_world.c — the world's lifecycle, its read-only accessors (sim.h), the
 * clock and the small vocabularies (versions, states, start types) every
 * other part of the simulator shares.
 *
 * The world never reads a clock: "now" comes from the server.  World time 0
 * is the scenario's `clock:` instant; text that shows wall time (boot ids,
 * LastInspectedLogTime) is that instant plus the world milliseconds.
 */
#include "sim_world_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim_world *sim_world_new(double scale)
{
	struct sim_world *w = xcalloc(1, sizeof(*w));
	w->scale = scale;
	w->next_fault_id = 1;
	w->next_event_id = 1;
	w->max_copy_queue = 10;
	w->reboot_backlog = 40;
	w->domain = xstrdup("contoso.com");
	w->winrm_user = xstrdup(SIM_WINRM_USER);
	w->winrm_password = xstrdup(SIM_WINRM_PASSWORD);
	w->media_version = xstrdup("8.1.240.6");
	w->org_name = xstrdup("First Organization");
	w->schema_version = xstrdup("8.1.240.6");
	w->ad_version = xstrdup("8.1.240.6");
	w->last_tick = 0;
	return w;
}

static void host_release(struct sim_host *h)
{
	free(h->name);
	free(h->addr);
	free(h->binaries);
	free(h->server_version);
	for (int i = 0; i < h->nsvcs; i++) {
		free(h->svcs[i].name);
		free(h->svcs[i].display);
		for (int j = 0; j < h->svcs[i].ndeps; j++)
			free(h->svcs[i].deps[j]);
		free(h->svcs[i].deps);
	}
	free(h->svcs);
	for (int i = 0; i < h->ncounts; i++)
		free(h->counts[i].cmd);
	free(h->counts);
	for (int i = 0; i < h->nregvals; i++) {
		free(h->regvals[i].key);
		free(h->regvals[i].name);
		free(h->regvals[i].type);
		free(h->regvals[i].data);
	}
	free(h->regvals);
	sim_msi_release(&h->msi);
}

static void cluster_release(struct sim_cluster *c)
{
	free(c->name);
	free(c->cms);
	free(c->cms_version);
	free(c->hubcas);
	for (int i = 0; i < c->nsgs; i++) {
		free(c->sgs[i].name);
		free(c->sgs[i].database);
		free(c->sgs[i].status);
	}
	free(c->sgs);
	free(c->outages);
	free(c->failed_resource);
	for (int i = 0; i < c->nack; i++)
		free(c->ack[i]);
	free(c->ack);
}

void sim_world_free(struct sim_world *w)
{
	if (w == NULL)
		return;
	for (int i = 0; i < w->nhosts; i++)
		host_release(&w->hosts[i]);
	free(w->hosts);
	for (int i = 0; i < w->nclusters; i++)
		cluster_release(&w->clusters[i]);
	free(w->clusters);
	sim_fault_free_all(w);
	sim_event_free_all(w);
	free(w->domain);
	free(w->winrm_user);
	free(w->winrm_password);
	free(w->media_version);
	sim_world_org_release(w);
	free(w);
}

int64_t sim_scaled(const struct sim_world *w, int64_t ms)
{
	double v = (double)ms * w->scale;
	if (v >= 9.0e15)
		return (int64_t)9.0e15;
	return (int64_t)(v + 0.5);
}

int sim_world_nhosts(const struct sim_world *w)
{
	return w->nhosts;
}

const char *sim_host_name(const struct sim_world *w, int host)
{
	return w->hosts[host].name;
}

const char *sim_host_addr(const struct sim_world *w, int host)
{
	return w->hosts[host].addr;
}

const char *sim_winrm_user(const struct sim_world *w)
{
	return w->winrm_user;
}

const char *sim_winrm_password(const struct sim_world *w)
{
	return w->winrm_password;
}

int sim_host_port(const struct sim_world *w, int host)
{
	return w->hosts[host].port;
}

int sim_host_find(const struct sim_world *w, const char *name)
{
	for (int i = 0; i < w->nhosts; i++)
		if (str_ieq(w->hosts[i].name, name))
			return i;
	return -1;
}

int sim_world_max_sessions(const struct sim_world *w, int host)
{
	return w->hosts[host].max_sessions;
}

enum sim_power sim_host_power(const struct sim_world *w, int host, int64_t now)
{
	const struct sim_host *h = &w->hosts[host];
	if (!h->up || h->down_at <= now)
		return SIM_DOWN;
	return SIM_UP;
}

int sim_host_boot_epoch(const struct sim_world *w, int host)
{
	return w->hosts[host].boot_epoch;
}

int sim_host_take_new_key(struct sim_world *w, int host)
{
	int v = w->hosts[host].new_key;
	w->hosts[host].new_key = 0;
	return v;
}

int sim_host_http_port(const struct sim_world *w, int host)
{
	return w->hosts[host].http_port;
}

void sim_host_http_count(struct sim_world *w, int host)
{
	w->hosts[host].http_requests++;
}

/* A CAS may serve several clusters: OWA works while any of their CMSes is Online. */
int sim_cas_owa_online(const struct sim_world *w, int host, struct sbuf *why)
{
	int online = 0, n = 0;

	for (int i = 0; i < w->nclusters; i++) {
		const struct sim_cluster *c = &w->clusters[i];
		int serves = 0;

		for (int k = 0; k < c->nhubcas && !serves; k++)
			serves = c->hubcas[k] == host;
		if (!serves)
			continue;
		sbuf_addf(why, "%s%s (%s) is %s", n++ > 0 ? "; " : "", c->cms, c->name,
			  sim_cms_state_name(c->state));
		online |= c->state == SIM_CMS_ONLINE;
	}
	return online;
}

int sim_world_nclusters(const struct sim_world *w)
{
	return w->nclusters;
}

static const struct sim_cluster *cluster_at(const struct sim_world *w, int cluster)
{
	return cluster >= 0 && cluster < w->nclusters ? &w->clusters[cluster] : NULL;
}

const char *sim_cluster_name(const struct sim_world *w, int cluster)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c ? c->name : NULL;
}

const char *sim_cluster_cms(const struct sim_world *w, int cluster)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c ? c->cms : NULL;
}

int sim_cluster_owner(const struct sim_world *w, int cluster)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c ? c->owner : -1;
}

int sim_cluster_nmembers(const struct sim_world *w, int cluster)
{
	return cluster_at(w, cluster) ? 2 : 0;
}

int sim_cluster_member(const struct sim_world *w, int cluster, int k)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c && k >= 0 && k < 2 ? c->members[k] : -1;
}

int sim_cluster_nhub_cas(const struct sim_world *w, int cluster)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c ? c->nhubcas : 0;
}

int sim_cluster_hub_cas(const struct sim_world *w, int cluster, int k)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c && k >= 0 && k < c->nhubcas ? c->hubcas[k] : -1;
}

int sim_cluster_nacknowledge(const struct sim_world *w, int cluster)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c ? c->nack : 0;
}

const char *sim_cluster_acknowledge(const struct sim_world *w, int cluster, int k)
{
	const struct sim_cluster *c = cluster_at(w, cluster);
	return c && k >= 0 && k < c->nack ? c->ack[k] : NULL;
}

int sim_cluster_by_name(const struct sim_world *w, const char *name)
{
	for (int i = 0; i < w->nclusters; i++)
		if (str_ieq(w->clusters[i].name, name))
			return i;
	return -1;
}

int sim_cluster_by_cms(const struct sim_world *w, const char *cms)
{
	for (int i = 0; i < w->nclusters; i++)
		if (str_ieq(w->clusters[i].cms, cms))
			return i;
	return -1;
}

int sim_other_member(const struct sim_cluster *c, int host)
{
	return c->members[0] == host ? c->members[1] : c->members[0];
}

int sim_is_member(const struct sim_cluster *c, int host)
{
	return c->members[0] == host || c->members[1] == host;
}

/* Display names net.exe and sc qc print for the services the playbook touches. */
static const char *const svc_names[][2] = {
    {"ClusSvc", "Cluster Service"},
    {"SharedAccess", "Windows Firewall/Internet Connection Sharing (ICS)"},
    {"RemoteRegistry", "Remote Registry"},
    {"SysmonLog", "Performance Logs and Alerts"},
    {"HealthService", "OpsMgr Health Service"},
    {"MOM", "MOM"},
    {"FSCController", "Microsoft Forefront Server Security Controller"},
    {"MSExchangeIS", "Microsoft Exchange Information Store"},
    {"MSExchangeRepl", "Microsoft Exchange Replication Service"},
    {"MSExchangeSA", "Microsoft Exchange System Attendant"},
    {"MSExchangeTransport", "Microsoft Exchange Transport"},
    {"W3SVC", "World Wide Web Publishing"},
};

const char *sim_svc_display(const char *name)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(svc_names); i++)
		if (str_ieq(svc_names[i][0], name))
			return svc_names[i][1];
	return name;
}

struct sim_svc *sim_svc_find(const struct sim_host *h, const char *name)
{
	for (int i = 0; i < h->nsvcs; i++)
		if (str_ieq(h->svcs[i].name, name))
			return &h->svcs[i];
	return NULL;
}

struct sim_svc *sim_svc_add(struct sim_host *h, const char *name)
{
	h->svcs = xreallocarray(h->svcs, (size_t)h->nsvcs + 1, sizeof(*h->svcs));
	struct sim_svc *s = &h->svcs[h->nsvcs++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->display = xstrdup(sim_svc_display(name));
	s->state = SIM_SVC_STOPPED;
	s->start = SIM_START_DEMAND;
	s->target = SIM_SVC_STOPPED;
	s->until = SIM_NEVER;
	return s;
}

int sim_svc_depends_on(const struct sim_svc *s, const char *name)
{
	for (int i = 0; i < s->ndeps; i++)
		if (str_ieq(s->deps[i], name))
			return 1;
	return 0;
}

void sim_svc_add_dep(struct sim_svc *s, const char *dep)
{
	if (sim_svc_depends_on(s, dep))
		return;
	s->deps = xreallocarray(s->deps, (size_t)s->ndeps + 1, sizeof(*s->deps));
	s->deps[s->ndeps++] = xstrdup(dep);
}

int sim_ver_parse(const char *s, int v[4])
{
	int n = 0;
	v[0] = v[1] = v[2] = v[3] = 0;
	if (s == NULL || *s == '\0')
		return -1;
	while (n < 4) {
		if (*s < '0' || *s > '9')
			return -1;
		long x = 0;
		while (*s >= '0' && *s <= '9' && x < 1000000)
			x = x * 10 + (*s++ - '0');
		v[n++] = (int)x;
		if (*s == '\0')
			return 0;
		if (*s++ != '.')
			return -1;
	}
	return -1;
}

int sim_ver_cmp(const char *a, const char *b)
{
	int va[4], vb[4];
	int ea = sim_ver_parse(a, va), eb = sim_ver_parse(b, vb);
	if (ea != 0 || eb != 0)
		return ea - eb;
	for (int i = 0; i < 4; i++)
		if (va[i] != vb[i])
			return va[i] < vb[i] ? -1 : 1;
	return 0;
}

int sim_ver_sp_cmp(const char *a, const char *b)
{
	int va[4], vb[4];
	int ea = sim_ver_parse(a, va), eb = sim_ver_parse(b, vb);
	if (ea != 0 || eb != 0)
		return ea - eb;
	for (int i = 0; i < 2; i++)
		if (va[i] != vb[i])
			return va[i] < vb[i] ? -1 : 1;
	return 0;
}

int64_t sim_world_unix(const struct sim_world *w, int64_t now)
{
	return w->clock_s + now / 1000;
}

void sim_us_time(int64_t unix_s, char *buf, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	int h12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
	snprintf(buf, len, "%d/%d/%d %d:%02d:%02d %s", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900,
		 h12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

static const char *const cms_states[] = {
    [SIM_CMS_ONLINE] = "Online",
    [SIM_CMS_OFFLINE] = "Offline",
    [SIM_CMS_ONLINE_PENDING] = "Online Pending",
    [SIM_CMS_OFFLINE_PENDING] = "Offline Pending",
    [SIM_CMS_FAILED] = "Failed",
    [SIM_CMS_PARTIAL] = "Partially Online",
};

const char *sim_cms_state_name(enum sim_cms_state st)
{
	return cms_states[st];
}

int sim_cms_state_parse(const char *s, enum sim_cms_state *st)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(cms_states); i++)
		if (str_ieq(cms_states[i], s)) {
			*st = (enum sim_cms_state)i;
			return 0;
		}
	return -1;
}

int sim_svc_state_parse(const char *s, enum sim_svc_state *st)
{
	if (str_ieq(s, "RUNNING"))
		*st = SIM_SVC_RUNNING;
	else if (str_ieq(s, "STOPPED"))
		*st = SIM_SVC_STOPPED;
	else
		return -1;
	return 0;
}

int sim_svc_start_parse(const char *s, enum sim_svc_start *st)
{
	if (str_ieq(s, "AUTO_START") || str_ieq(s, "auto"))
		*st = SIM_START_AUTO;
	else if (str_ieq(s, "DEMAND_START") || str_ieq(s, "demand"))
		*st = SIM_START_DEMAND;
	else if (str_ieq(s, "DISABLED"))
		*st = SIM_START_DISABLED;
	else
		return -1;
	return 0;
}

const char *sim_svc_state_name(enum sim_svc_state st)
{
	switch (st) {
	case SIM_SVC_STOPPED:
		return "STOPPED";
	case SIM_SVC_START_PENDING:
		return "START_PENDING";
	case SIM_SVC_STOP_PENDING:
		return "STOP_PENDING";
	case SIM_SVC_RUNNING:
		return "RUNNING";
	}
	return "STOPPED";
}

const char *sim_svc_start_name(enum sim_svc_start st)
{
	switch (st) {
	case SIM_START_AUTO:
		return "AUTO_START";
	case SIM_START_DEMAND:
		return "DEMAND_START";
	case SIM_START_DISABLED:
		return "DISABLED";
	}
	return "DEMAND_START";
}
