/*
 * sim_cmd_cms.c — the Exchange cmdlets: Get-ExchangeServer,
 * Get-ClusteredMailboxServerStatus, Stop-/Start-/Move-ClusteredMailboxServer,
 * Get-StorageGroupCopyStatus and Get-MailboxDatabase.
 *
 * Lookups are directory-wide (a CMS or HT/CAS of any cluster, by name), as
 * the real cmdlets read Active Directory.  The CMS-changing cmdlets enforce
 * rules 5, 6 and 8 (docs/ccrsim.md) and take their scaled durations; their
 * effects are applied at the beat they belong to (Offline Pending and the
 * outage at the start of a stop or an online move, the new owner at the end
 * of a move).
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>

static char *dc_name(const struct sim_action *a)
{
	const struct sim_host *h = sim_act_host(a);
	const char *dc = h->name;
	if (h->cluster >= 0 && a->w->clusters[h->cluster].nhubcas > 0)
		dc = a->w->hosts[a->w->clusters[h->cluster].hubcas[0]].name;
	return xasprintf("%s.%s", dc, a->w->domain);
}

static void not_found(struct sim_action *a, const char *ident)
{
	char *dc = dc_name(a);
	sim_ps_error(a,
		     "The operation could not be performed because object '%s' could not be "
		     "found on domain controller '%s'.",
		     ident, dc);
	free(dc);
}

/* The cluster named by -Identity (a CMS), or the local one.  -1 with the error printed. */
static int cms_cluster(struct sim_action *a, const char *ident)
{
	int ci = ident != NULL ? sim_cluster_by_cms(a->w, ident) : sim_act_host(a)->cluster;
	if (ci < 0)
		not_found(a, ident != NULL ? ident : sim_act_host(a)->name);
	return ci;
}

static void cms_record(const struct sim_world *w, const struct sim_cluster *c, struct sim_psrec *r)
{
	sim_psrec_add(r, "Name", xstrdup(c->cms));
	sim_psrec_add(r, "Fqdn", xasprintf("%s.%s", c->cms, w->domain));
	sim_psrec_add(r, "Site",
		      xasprintf("%s/Configuration/Sites/Default-First-Site-Name", w->domain));
	sim_psrec_add(r, "ServerRole", xstrdup("Mailbox"));
	sim_psrec_add(r, "Edition", xstrdup("Enterprise"));
	sim_psrec_add(r, "AdminDisplayVersion", sim_admin_version(c->cms_version));
	sim_psrec_add(r, "IsMemberOfCluster", xstrdup("Yes"));
}

static void hubcas_record(const struct sim_world *w, const struct sim_host *h, struct sim_psrec *r)
{
	sim_psrec_add(r, "Name", xstrdup(h->name));
	sim_psrec_add(r, "Fqdn", xasprintf("%s.%s", h->name, w->domain));
	sim_psrec_add(r, "Site",
		      xasprintf("%s/Configuration/Sites/Default-First-Site-Name", w->domain));
	sim_psrec_add(r, "ServerRole", xstrdup("ClientAccess, HubTransport"));
	sim_psrec_add(r, "Edition", xstrdup("Standard"));
	sim_psrec_add(r, "AdminDisplayVersion", sim_admin_version(h->server_version));
	sim_psrec_add(r, "IsMemberOfCluster", xstrdup("No"));
}

static const char *const server_props[] = {
    "Name", "Site", "ServerRole", "Edition", "AdminDisplayVersion", NULL};

/* A physical CCR node is not an Exchange server in the directory: the CMS is. */
void sim_ems_get_server(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	(void)at;
	const char *ident = sim_ps_arg(ps, "Identity");
	struct sim_world *w = a->w;
	struct sim_psrec *recs = xcalloc((size_t)(w->nclusters + w->nhosts + 1), sizeof(*recs));
	int n = 0;
	for (int i = 0; i < w->nclusters; i++)
		if (ident == NULL || str_ieq(ident, w->clusters[i].cms))
			cms_record(w, &w->clusters[i], &recs[n++]);
	for (int i = 0; i < w->nhosts; i++)
		if (w->hosts[i].role == SIM_ROLE_HUBCAS &&
		    (ident == NULL || str_ieq(ident, w->hosts[i].name)))
			hubcas_record(w, &w->hosts[i], &recs[n++]);
	if (n == 0)
		not_found(a, ident);
	else {
		sim_ps_print(a, ps, recs, n, 1, server_props);
		sim_act_exit(a, 0);
	}
	free(recs);
}

/* {NODE1 <Active, Quorum Owner>, NODE2}: operational members, markers on the owners. */
static char *operational_machines(const struct sim_world *w, const struct sim_cluster *c)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addc(&sb, '{');
	for (int i = 0; i < 2; i++) {
		int m = c->members[i];
		if (!sim_node_in_cluster(w, m))
			continue;
		if (sb.len > 1)
			sbuf_adds(&sb, ", ");
		sbuf_adds(&sb, w->hosts[m].name);
		int active = c->owner == m, quorum = c->group_owner == m && c->group_online;
		if (active || quorum)
			sbuf_addf(&sb, " <%s%s%s>", active ? "Active" : "",
				  active && quorum ? ", " : "", quorum ? "Quorum Owner" : "");
	}
	sbuf_addc(&sb, '}');
	return sbuf_detach(&sb);
}

static char *member_list(const struct sim_world *w, const struct sim_cluster *c, int only_up)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addc(&sb, '{');
	for (int i = 0; i < 2; i++) {
		if (only_up && !w->hosts[c->members[i]].up)
			continue;
		sbuf_addf(&sb, "%s%s", sb.len > 1 ? ", " : "", w->hosts[c->members[i]].name);
	}
	sbuf_addc(&sb, '}');
	return sbuf_detach(&sb);
}

void sim_ems_cms_status(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	(void)at;
	int ci = cms_cluster(a, sim_ps_arg(ps, "Identity"));
	if (ci < 0)
		return;
	const struct sim_cluster *c = &a->w->clusters[ci];
	struct sim_psrec r = {0};
	sim_psrec_add(&r, "Identity", xstrdup(c->cms));
	sim_psrec_add(&r, "ClusteredMailboxServerName", xasprintf("%s.%s", c->cms, a->w->domain));
	sim_psrec_add(&r, "State", xstrdup(sim_cms_state_name(c->state)));
	sim_psrec_add(&r, "OperationalMachines", operational_machines(a->w, c));
	sim_psrec_add(&r, "FailedResources",
		      xasprintf("{%s}", c->failed_resource ? c->failed_resource : ""));
	sim_psrec_add(&r, "OperationalReplicationHostNames", member_list(a->w, c, 1));
	sim_psrec_add(&r, "FailedReplicationHostNames", xstrdup("{}"));
	sim_psrec_add(&r, "InUseReplicationHostNames", member_list(a->w, c, 1));
	sim_psrec_add(&r, "IsValid", xstrdup("True"));
	sim_ps_print(a, ps, &r, 1, 0, NULL);
	sim_act_exit(a, 0);
}

static int cms_busy(struct sim_action *a, const struct sim_cluster *c)
{
	if (c->state != SIM_CMS_ONLINE_PENDING && c->state != SIM_CMS_OFFLINE_PENDING)
		return 0;
	sim_ps_error(a,
		     "The clustered mailbox server '%s' is in state '%s'. Wait until the "
		     "pending operation completes and try again.",
		     c->cms, sim_cms_state_name(c->state));
	return 1;
}

static int missing_mandatory(struct sim_action *a, struct sim_ps *ps, const char *name)
{
	if (sim_ps_arg(ps, name) != NULL)
		return 0;
	sim_ps_error(a,
		     "Cannot process command because of one or more missing mandatory "
		     "parameters: %s.",
		     name);
	return 1;
}

static void stop_done(struct sim_action *a, int64_t at)
{
	sim_cms_set_state(a->w, &a->w->clusters[a->cluster], SIM_CMS_OFFLINE, at);
	sim_act_exit(a, 0);
}

/* An interrupted stop still completes: the cluster is already taking the group offline. */
static void stop_abort(struct sim_action *a, int64_t at)
{
	stop_done(a, at);
}

void sim_ems_stop(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	int ci = cms_cluster(a, sim_ps_arg(ps, "Identity"));
	if (ci < 0 || missing_mandatory(a, ps, "StopReason") || sim_ps_need_confirm(a, ps))
		return;
	struct sim_cluster *c = &a->w->clusters[ci];
	a->cluster = ci;
	if (cms_busy(a, c))
		return;
	if (c->state == SIM_CMS_OFFLINE) {
		sim_act_out(a, "WARNING: The clustered mailbox server '%s' is already offline.\n",
			    c->cms);
		sim_act_exit(a, 0);
		return;
	}
	if (c->state == SIM_CMS_FAILED) {
		stop_done(a, at);
		return;
	}
	/* The outage starts with the first resource going offline. */
	sim_cms_set_state(a->w, c, SIM_CMS_OFFLINE_PENDING, at);
	a->abort = stop_abort;
	sim_act_then(a, stop_done, at + sim_scaled(a->w, a->w->dur.cms_stop));
}

static void start_failed(struct sim_action *a, const struct sim_cluster *c)
{
	const struct sim_host *o = &a->w->hosts[c->owner];
	sim_ps_error(a,
		     "The clustered mailbox server '%s' could not be brought online on node "
		     "'%s'. The resource 'Exchange Information Store Instance (%s)' failed: the "
		     "Exchange binaries on the node are version %s and the clustered mailbox "
		     "server is version %s.%s",
		     c->cms, o->name, c->cms, o->binaries, c->cms_version,
		     sim_cms_trapped(a->w, c)
			 ? " Both nodes run newer binaries: delete the registry key "
			   "HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS and run setup.com "
			   "/UpgradeCMS on the node that owns the clustered mailbox server."
			 : "");
}

static void start_done(struct sim_action *a, int64_t at)
{
	(void)at;
	const struct sim_cluster *c = &a->w->clusters[a->cluster];
	if (c->state == SIM_CMS_ONLINE)
		sim_act_exit(a, 0);
	else
		start_failed(a, c);
}

/* Rule 8 (and 9): the CMS starts only where the owner's binaries match its version. */
void sim_ems_start(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	int ci = cms_cluster(a, sim_ps_arg(ps, "Identity"));
	if (ci < 0)
		return;
	struct sim_cluster *c = &a->w->clusters[ci];
	a->cluster = ci;
	if (cms_busy(a, c))
		return;
	if (c->state == SIM_CMS_ONLINE) {
		sim_act_out(a, "WARNING: The clustered mailbox server '%s' is already online.\n",
			    c->cms);
		sim_act_exit(a, 0);
		return;
	}
	if (!sim_node_in_cluster(a->w, c->owner)) {
		sim_ps_error(a,
			     "Node '%s' that owns clustered mailbox server '%s' is not available.",
			     a->w->hosts[c->owner].name, c->cms);
		return;
	}
	if (sim_ver_sp_cmp(a->w->hosts[c->owner].binaries, c->cms_version) != 0) {
		sim_cms_fail(a->w, c, at);
		start_failed(a, c);
		return;
	}
	int64_t d = sim_scaled(a->w, a->w->dur.cms_start);
	sim_cms_begin_online(a->w, c, at, d);
	sim_act_then(a, start_done, at + d);
}

static void move_apply(struct sim_action *a, int64_t at)
{
	struct sim_cluster *c = &a->w->clusters[a->cluster];
	c->owner = a->target;
	if (a->flags)
		sim_cms_try_online(a->w, c, at);
	else
		sim_cms_set_state(a->w, c, SIM_CMS_OFFLINE, at);
	a->after(a, at);
}

/* An interrupted move leaves the CMS offline on the source node. */
static void move_abort(struct sim_action *a, int64_t at)
{
	struct sim_cluster *c = &a->w->clusters[a->cluster];
	if (c->owner != a->target && c->state != SIM_CMS_OFFLINE)
		sim_cms_set_state(a->w, c, SIM_CMS_OFFLINE, at);
}

void sim_cms_move_begin(struct sim_action *a, int64_t at, int target, sim_step_fn done)
{
	struct sim_cluster *c = &a->w->clusters[a->cluster];
	a->target = target;
	a->flags = c->state == SIM_CMS_ONLINE || c->state == SIM_CMS_PARTIAL;
	if (a->flags)
		sim_cms_set_state(a->w, c, SIM_CMS_OFFLINE_PENDING, at);
	a->after = done;
	a->abort = move_abort;
	sim_act_then(a, move_apply, at + sim_scaled(a->w, a->w->dur.cms_move));
}

static void move_done(struct sim_action *a, int64_t at)
{
	(void)at;
	const struct sim_cluster *c = &a->w->clusters[a->cluster];
	if (c->state == SIM_CMS_FAILED)
		start_failed(a, c);
	else
		sim_act_exit(a, 0);
}

/* Rule 6: the healthy-copy check an online move must pass.  1 if refused. */
static int move_repl_refused(struct sim_action *a, const struct sim_cluster *c, int64_t at)
{
	for (int i = 0; i < c->nsgs; i++) {
		const char *st = sim_sg_status(a->w, c, &c->sgs[i], at);
		int64_t q = sim_sg_queue(&c->sgs[i], at);
		if (strcmp(st, "Healthy") == 0 && q <= a->w->max_copy_queue)
			continue;
		sim_ps_error(a,
			     "The clustered mailbox server '%s' cannot be moved: the copy of "
			     "storage group '%s' is not healthy (SummaryCopyStatus: %s, "
			     "CopyQueueLength: %lld; at most %lld allowed). Stop the clustered "
			     "mailbox server first to move it anyway.",
			     c->cms, c->sgs[i].name, st, (long long)q,
			     (long long)a->w->max_copy_queue);
		return 1;
	}
	return 0;
}

/* Rules 5, 6 and 8 on the target; 1 if refused (error printed). */
static int move_refused(struct sim_action *a, const struct sim_cluster *c, int t, int64_t at)
{
	const struct sim_host *th = &a->w->hosts[t];
	int stopped = c->state == SIM_CMS_OFFLINE || c->state == SIM_CMS_FAILED;
	if (t == c->owner) {
		sim_ps_error(a, "The clustered mailbox server '%s' is already running on '%s'.",
			     c->cms, th->name);
	} else if (!sim_node_in_cluster(a->w, t)) {
		sim_ps_error(a,
			     "The target node '%s' is not available: it is down or its Cluster "
			     "service is not running.",
			     th->name);
	} else if (th->pending_reboot) {
		sim_ps_error(a,
			     "Node '%s' has a restart pending. Restart the node before moving "
			     "the clustered mailbox server '%s' to it.",
			     th->name, c->cms);
	} else if (!stopped && move_repl_refused(a, c, at)) {
		return 1;
	} else if (!stopped && sim_ver_sp_cmp(th->binaries, c->cms_version) != 0) {
		sim_ps_error(a,
			     "The clustered mailbox server '%s' (version %s) cannot run on node "
			     "'%s' (Exchange binaries %s). Stop it, move it, and run setup.com "
			     "/UpgradeCMS on the node.",
			     c->cms, c->cms_version, th->name, th->binaries);
	} else {
		return 0;
	}
	return 1;
}

void sim_ems_move(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	int ci = cms_cluster(a, sim_ps_arg(ps, "Identity"));
	if (ci < 0 || missing_mandatory(a, ps, "TargetMachine") ||
	    missing_mandatory(a, ps, "MoveComment") || sim_ps_need_confirm(a, ps))
		return;
	struct sim_cluster *c = &a->w->clusters[ci];
	a->cluster = ci;
	const char *tname = sim_ps_arg(ps, "TargetMachine");
	int t = sim_host_find(a->w, tname);
	if (t < 0 || !sim_is_member(c, t)) {
		sim_ps_error(a, "'%s' is not a possible owner of clustered mailbox server '%s'.",
			     tname, c->cms);
		return;
	}
	if (cms_busy(a, c) || move_refused(a, c, t, at))
		return;
	sim_cms_move_begin(a, at, t, move_done);
}

static const char *const copy_props[] = {
    "Name", "SummaryCopyStatus", "CopyQueueLength", "ReplayQueueLength", "LastInspectedLogTime",
    NULL};

static void copy_record(struct sim_action *a, const struct sim_cluster *c, const struct sim_sg *sg,
			int64_t at, struct sim_psrec *r)
{
	char when[48];
	const char *st = sim_sg_status(a->w, c, sg, at);
	sim_us_time(sim_world_unix(a->w, at) - 7, when, sizeof(when));
	sim_psrec_add(r, "Identity", xasprintf("%s\\%s", c->cms, sg->name));
	sim_psrec_add(r, "Name", xstrdup(sg->name));
	sim_psrec_add(r, "SummaryCopyStatus", xstrdup(st));
	sim_psrec_add(r, "CopyQueueLength", xasprintf("%lld", (long long)sim_sg_queue(sg, at)));
	sim_psrec_add(r, "ReplayQueueLength", xasprintf("%lld", (long long)sg->replay));
	sim_psrec_add(r, "LastInspectedLogTime",
		      xstrdup(strcmp(st, "ServiceDown") == 0 ? "" : when));
}

/* -Server CMS, or -Identity CMS\Storage Group, or the local cluster's CMS. */
void sim_ems_copy_status(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	const char *ident = sim_ps_arg(ps, "Identity");
	const char *server = sim_ps_arg(ps, "Server");
	char *cms = NULL;
	const char *sgname = NULL;
	if (ident != NULL && strchr(ident, '\\') != NULL) {
		cms = xstrndup(ident, (size_t)(strchr(ident, '\\') - ident));
		sgname = strchr(ident, '\\') + 1;
	} else if (ident != NULL || server != NULL) {
		cms = xstrdup(server != NULL ? server : ident);
	}
	int ci = cms_cluster(a, cms);
	free(cms);
	if (ci < 0)
		return;
	const struct sim_cluster *c = &a->w->clusters[ci];
	struct sim_psrec *recs = xcalloc((size_t)c->nsgs + 1, sizeof(*recs));
	int n = 0;
	for (int i = 0; i < c->nsgs; i++)
		if (sgname == NULL || str_ieq(sgname, c->sgs[i].name))
			copy_record(a, c, &c->sgs[i], at, &recs[n++]);
	if (n == 0)
		not_found(a, ident);
	else {
		sim_ps_print(a, ps, recs, n, 1, copy_props);
		sim_act_exit(a, 0);
	}
	free(recs);
}

static const char *const db_props[] = {"Name", "Server", "StorageGroup", "Recovery", NULL};

static void db_record(const struct sim_cluster *c, const struct sim_sg *sg, int status,
		      struct sim_psrec *r)
{
	char when[48] = "";
	if (status && c->backup_s >= 0)
		sim_us_time(c->backup_s, when, sizeof(when));
	sim_psrec_add(r, "Name", xstrdup(sg->database));
	sim_psrec_add(r, "Server", xstrdup(c->cms));
	sim_psrec_add(r, "StorageGroup", xasprintf("%s\\%s", c->cms, sg->name));
	sim_psrec_add(r, "Recovery", xstrdup("False"));
	sim_psrec_add(r, "Mounted",
		      xstrdup(!status			   ? ""
			      : c->state == SIM_CMS_ONLINE ? "True"
							   : "False"));
	sim_psrec_add(r, "LastFullBackup", xstrdup(when));
}

/* LastFullBackup and Mounted are only filled in with -Status, as in Exchange. */
void sim_ems_mailbox_db(struct sim_action *a, struct sim_ps *ps, int64_t at)
{
	(void)at;
	const char *server = sim_ps_arg(ps, "Server");
	int ci = cms_cluster(a, server);
	if (ci < 0)
		return;
	const struct sim_cluster *c = &a->w->clusters[ci];
	const char *ident = sim_ps_arg(ps, "Identity");
	int status = sim_ps_arg(ps, "Status") != NULL;
	struct sim_psrec *recs = xcalloc((size_t)c->nsgs + 1, sizeof(*recs));
	int n = 0;
	for (int i = 0; i < c->nsgs; i++)
		if (ident == NULL || str_ieq(ident, c->sgs[i].database))
			db_record(c, &c->sgs[i], status, &recs[n++]);
	if (n == 0)
		not_found(a, ident);
	else {
		sim_ps_print(a, ps, recs, n, 1, db_props);
		sim_act_exit(a, 0);
	}
	free(recs);
}
