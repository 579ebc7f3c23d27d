/*
 * sim_cluster.c — what the cluster does on its own: the CMS state and its
 * outage intervals, failover when a node leaves (restart, Cluster service
 * stopped by setup), restarts, replication catching up, and the world clock
 * that applies all of these when they are due (sim_world_tick).
 *
 * Rules implemented here (docs/ccrsim.md, Rules): 2 (a node that leaves
 * hands its groups to the other node), 8 (the CMS comes online only where
 * the binaries match its version), 10 (failover of an online CMS when its
 * owner restarts) and 11 (replication Initializing, then draining, after a
 * node restarts).
 */
#include "sim_world_int.h"

#include <stdlib.h>
#include <string.h>

static void outage_open(struct sim_cluster *c, int64_t at)
{
	c->outages = xreallocarray(c->outages, (size_t)c->noutages + 1, sizeof(*c->outages));
	c->outages[c->noutages].start = at;
	c->outages[c->noutages].end = -1;
	c->noutages++;
}

static void outage_close(struct sim_cluster *c, int64_t at)
{
	if (c->noutages > 0 && c->outages[c->noutages - 1].end < 0) {
		struct sim_outage *o = &c->outages[c->noutages - 1];
		o->end = at < o->start ? o->start : at;
	}
}

void sim_cms_set_state(struct sim_world *w, struct sim_cluster *c, enum sim_cms_state st,
		       int64_t at)
{
	(void)w;
	int was_online = c->state == SIM_CMS_ONLINE;
	c->state = st;
	if (was_online && st != SIM_CMS_ONLINE)
		outage_open(c, at);
	else if (!was_online && st == SIM_CMS_ONLINE)
		outage_close(c, at);
	if (st != SIM_CMS_FAILED) {
		free(c->failed_resource);
		c->failed_resource = NULL;
	}
	if (st != SIM_CMS_ONLINE_PENDING)
		c->cms_due = SIM_NEVER;
}

int64_t sim_outage_total(const struct sim_cluster *c, int64_t now)
{
	int64_t total = 0;
	for (int i = 0; i < c->noutages; i++) {
		int64_t end = c->outages[i].end < 0 ? now : c->outages[i].end;
		if (end > c->outages[i].start)
			total += end - c->outages[i].start;
	}
	return total;
}

int sim_node_in_cluster(const struct sim_world *w, int host)
{
	const struct sim_host *h = &w->hosts[host];
	if (!h->up || h->down_at != SIM_NEVER)
		return 0;
	const struct sim_svc *s = sim_svc_find(h, "ClusSvc");
	return s == NULL || s->state == SIM_SVC_RUNNING;
}

int sim_cms_can_host(const struct sim_world *w, const struct sim_cluster *c, int host)
{
	const struct sim_host *h = &w->hosts[host];
	return sim_node_in_cluster(w, host) && !h->pending_reboot &&
	       sim_ver_sp_cmp(h->binaries, c->cms_version) == 0;
}

int sim_cms_trapped(const struct sim_world *w, const struct sim_cluster *c)
{
	const struct sim_host *a = &w->hosts[c->members[0]];
	const struct sim_host *b = &w->hosts[c->members[1]];
	return c->cms_key && sim_ver_sp_cmp(a->binaries, c->cms_version) > 0 &&
	       sim_ver_sp_cmp(b->binaries, c->cms_version) > 0;
}

void sim_cms_fail(struct sim_world *w, struct sim_cluster *c, int64_t at)
{
	sim_cms_set_state(w, c, SIM_CMS_FAILED, at);
	free(c->failed_resource);
	c->failed_resource = xasprintf("Exchange Information Store Instance (%s)", c->cms);
}

/*
 * Rule 8: the CMS starts only where the owner's binaries match its version
 * (and the owner is in the cluster).  Otherwise its resources fail.
 */
int sim_cms_try_online(struct sim_world *w, struct sim_cluster *c, int64_t at)
{
	struct sim_host *h = &w->hosts[c->owner];
	if (!sim_node_in_cluster(w, c->owner) || sim_ver_sp_cmp(h->binaries, c->cms_version) != 0) {
		sim_cms_fail(w, c, at);
		return -1;
	}
	sim_cms_set_state(w, c, SIM_CMS_ONLINE, at);
	return 0;
}

void sim_cms_begin_online(struct sim_world *w, struct sim_cluster *c, int64_t at, int64_t delay)
{
	sim_cms_set_state(w, c, SIM_CMS_ONLINE_PENDING, at);
	c->cms_due = at + delay;
}

static int cms_active(enum sim_cms_state st)
{
	return st == SIM_CMS_ONLINE || st == SIM_CMS_ONLINE_PENDING || st == SIM_CMS_PARTIAL;
}

void sim_node_leave(struct sim_world *w, int host, int64_t at)
{
	int ci = w->hosts[host].cluster;
	if (ci < 0)
		return;
	struct sim_cluster *c = &w->clusters[ci];
	int other = sim_other_member(c, host);
	if (c->group_owner == host) {
		if (sim_node_in_cluster(w, other))
			c->group_owner = other;
		else
			c->group_online = 0;
	}
	if (c->owner != host)
		return;
	if (cms_active(c->state) && sim_cms_can_host(w, c, other)) {
		/* Rule 10: an unplanned failover, an outage of the failover duration. */
		sim_cms_set_state(w, c, SIM_CMS_OFFLINE_PENDING, at);
		c->owner = other;
		sim_cms_begin_online(w, c, at, sim_scaled(w, w->dur.failover));
	} else if (cms_active(c->state)) {
		sim_cms_set_state(w, c, SIM_CMS_OFFLINE, at);
		c->restart_on_boot = 1;
	} else if (c->state == SIM_CMS_OFFLINE_PENDING) {
		sim_cms_set_state(w, c, SIM_CMS_OFFLINE,
				  at); /* a stop in progress just completes */
	}
}

void sim_node_join(struct sim_world *w, int host, int64_t at)
{
	int ci = w->hosts[host].cluster;
	if (ci < 0)
		return;
	struct sim_cluster *c = &w->clusters[ci];
	if (!c->group_online) {
		if (!sim_node_in_cluster(w, c->group_owner))
			c->group_owner = host;
		c->group_online = 1;
	}
	if (c->restart_on_boot && c->owner == host) {
		c->restart_on_boot = 0;
		sim_cms_begin_online(w, c, at, sim_scaled(w, w->dur.cms_start));
	}
}

void sim_host_schedule_reboot(struct sim_world *w, int host, int64_t at)
{
	struct sim_host *h = &w->hosts[host];
	int64_t down = sim_scaled(w, w->dur.reboot_down);
	int64_t len = sim_scaled(w, w->dur.reboot);
	h->down_at = at + (down < 1 ? 1 : down);
	h->reboot_ms = len < 1 ? 1 : len;
	h->restarting = 1;
}

void sim_host_down(struct sim_world *w, int host, int64_t at)
{
	struct sim_host *h = &w->hosts[host];
	h->up = 0;
	h->down_at = SIM_NEVER;
	h->up_at = h->restarting ? at + h->reboot_ms : SIM_NEVER;
	h->stuck_fault = h->restarting ? sim_fault_no_return(w, host) : 0;
	for (int i = 0; i < h->nsvcs; i++) {
		h->svcs[i].state = SIM_SVC_STOPPED;
		h->svcs[i].until = SIM_NEVER;
	}
	sim_node_leave(w, host, at);
}

void sim_host_boot(struct sim_world *w, int host, int64_t at)
{
	struct sim_host *h = &w->hosts[host];
	int64_t t = sim_world_unix(w, at);
	h->up = 1;
	h->up_at = SIM_NEVER;
	h->restarting = 0;
	h->stuck_fault = 0;
	h->boot_epoch++;
	h->boot_s = t > h->boot_s ? t : h->boot_s + 1;
	h->pending_reboot = 0;
	for (int i = 0; i < h->nsvcs; i++) {
		struct sim_svc *s = &h->svcs[i];
		s->state = s->start == SIM_START_AUTO ? SIM_SVC_RUNNING : SIM_SVC_STOPPED;
		s->until = SIM_NEVER;
	}
	sim_fault_on_boot(w, host);
	if (h->cluster >= 0 && sim_node_in_cluster(w, host)) {
		sim_node_join(w, host, at);
		sim_repl_restart(w, &w->clusters[h->cluster], at);
	}
}

/* Rule 11: after a node restarts the copies show Initializing and drain to 0. */
void sim_repl_restart(struct sim_world *w, struct sim_cluster *c, int64_t at)
{
	for (int i = 0; i < c->nsgs; i++) {
		struct sim_sg *sg = &c->sgs[i];
		int64_t q = sim_sg_queue(sg, at);
		sg->queue = q > w->reboot_backlog ? q : w->reboot_backlog;
		free(sg->status);
		sg->status = xstrdup("Initializing");
		sg->drain_start = at;
		sg->drain_end = at + sim_scaled(w, w->dur.catchup);
	}
}

int64_t sim_sg_queue(const struct sim_sg *sg, int64_t now)
{
	if (sg->drain_end == SIM_NEVER || now < sg->drain_start)
		return sg->queue;
	if (now >= sg->drain_end)
		return 0;
	double left = (double)(sg->drain_end - now) / (double)(sg->drain_end - sg->drain_start);
	int64_t q = (int64_t)((double)sg->queue * left + 0.999);
	return q > sg->queue ? sg->queue : q;
}

const char *sim_sg_status(const struct sim_world *w, const struct sim_cluster *c,
			  const struct sim_sg *sg, int64_t now)
{
	const struct sim_host *passive = &w->hosts[sim_other_member(c, c->owner)];
	if (!passive->up)
		return "ServiceDown";
	if (sg->drain_end != SIM_NEVER && now >= sg->drain_end)
		return "Healthy";
	return sg->status;
}

void sim_svc_transition(struct sim_svc *s, enum sim_svc_state via, enum sim_svc_state to,
			int64_t until)
{
	s->state = via;
	s->target = to;
	s->until = until;
}

/* A pending service transition completes; the Cluster service takes the node in or out. */
static void svc_settle(struct sim_world *w, int host, struct sim_svc *s, int64_t at)
{
	int was_running = s->state == SIM_SVC_RUNNING;
	s->state = s->target;
	s->until = SIM_NEVER;
	if (!str_ieq(s->name, "ClusSvc"))
		return;
	if (s->state == SIM_SVC_RUNNING && !was_running)
		sim_node_join(w, host, at);
	else if (s->state != SIM_SVC_RUNNING)
		sim_node_leave(w, host, at);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t host_next_event(const struct sim_host *h)
{
	int64_t t = min64(h->down_at, h->up_at);
	for (int i = 0; i < h->nsvcs; i++)
		t = min64(t, h->svcs[i].until);
	return t;
}

int64_t sim_world_next_event(const struct sim_world *w)
{
	int64_t t = SIM_NEVER;
	for (int i = 0; i < w->nhosts; i++)
		t = min64(t, host_next_event(&w->hosts[i]));
	for (int i = 0; i < w->nclusters; i++) {
		const struct sim_cluster *c = &w->clusters[i];
		t = min64(t, c->cms_due);
		for (int j = 0; j < c->nsgs; j++)
			t = min64(t, c->sgs[j].drain_end);
	}
	return min64(t, sim_event_next(w));
}

static void host_apply(struct sim_world *w, int host, int64_t t)
{
	struct sim_host *h = &w->hosts[host];
	if (h->down_at <= t)
		sim_host_down(w, host, h->down_at);
	if (h->up_at <= t) {
		if (h->stuck_fault != 0 && sim_fault_alive(w, h->stuck_fault))
			h->up_at = SIM_NEVER; /* no-return: held down until the fault is cleared */
		else
			sim_host_boot(w, host, h->up_at);
	}
	for (int i = 0; i < h->nsvcs; i++)
		if (h->svcs[i].until <= t)
			svc_settle(w, host, &h->svcs[i], h->svcs[i].until);
}

static void cluster_apply(struct sim_world *w, struct sim_cluster *c, int64_t t)
{
	if (c->cms_due <= t) {
		int64_t at = c->cms_due;
		c->cms_due = SIM_NEVER;
		sim_cms_try_online(w, c, at);
	}
	for (int j = 0; j < c->nsgs; j++) {
		struct sim_sg *sg = &c->sgs[j];
		if (sg->drain_end <= t) {
			sg->queue = 0;
			sg->drain_end = SIM_NEVER;
			free(sg->status);
			sg->status = xstrdup("Healthy");
		}
	}
}

/* Apply events in time order: each round handles the earliest due instant. */
void sim_world_tick(struct sim_world *w, int64_t now)
{
	for (;;) {
		int64_t t = sim_world_next_event(w);
		if (t > now)
			break;
		for (int i = 0; i < w->nhosts; i++)
			if (host_next_event(&w->hosts[i]) <= t)
				host_apply(w, i, t);
		for (int i = 0; i < w->nclusters; i++)
			cluster_apply(w, &w->clusters[i], t);
		sim_event_tick(w, t);
	}
	if (now > w->last_tick)
		w->last_tick = now;
}
