/*
 * sim_cmd_cluster.c — cluster.exe: "cluster group" (all groups), "cluster
 * group NAME" (one group), "cluster group NAME /move[:NODE]" (also
 * /moveto:NODE).  An optional cluster name may come first ("cluster CLUS1
 * group", "cluster /cluster:CLUS1 group").
 *
 * Two groups exist per cluster: "Cluster Group" and the CMS's group (named
 * like the CMS).  cluster.exe moves the CMS group too — allowed but
 * dangerous, exactly as on a real cluster: it skips every check
 * Move-ClusteredMailboxServer makes (replication health, pending restart),
 * and on a node whose binaries do not match the CMS the group ends Failed.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void sys_error(struct sim_action *a, int code, const char *text)
{
	sim_act_err(a, "System error %d has occurred (0x%08x).\n%s\n\n", code, (unsigned)code,
		    text);
	sim_act_exit(a, code);
}

static const char *cms_status_word(enum sim_cms_state st)
{
	switch (st) {
	case SIM_CMS_ONLINE:
		return "Online";
	case SIM_CMS_OFFLINE:
		return "Offline";
	case SIM_CMS_FAILED:
		return "Failed";
	case SIM_CMS_PARTIAL:
		return "Partially Online";
	default:
		return "Pending";
	}
}

static void group_header(struct sim_action *a)
{
	sim_act_out(a, "Group                Node            Status\n"
		       "-------------------- --------------- ------\n");
}

static void group_row(struct sim_action *a, const struct sim_cluster *c, int cms)
{
	const char *node = a->w->hosts[cms ? c->owner : c->group_owner].name;
	const char *status = cms	       ? cms_status_word(c->state)
			     : c->group_online ? "Online"
					       : "Offline";
	sim_act_out(a, "%-20s %-15s %s\n", cms ? c->cms : "Cluster Group", node, status);
}

/* Which group NAME means: 0 Cluster Group, 1 the CMS group, -1 none. */
static int group_find(const struct sim_cluster *c, const char *name)
{
	if (str_ieq(name, "Cluster Group"))
		return 0;
	if (str_ieq(name, c->cms))
		return 1;
	return -1;
}

static void group_move_done(struct sim_action *a, int64_t at)
{
	struct sim_cluster *c = &a->w->clusters[a->cluster];
	(void)at;
	if (a->stage == 0) {
		c->group_owner = a->target;
		c->group_online = 1;
	}
	sim_act_out(a, "\n");
	group_header(a);
	group_row(a, c, a->stage);
	sim_act_exit(a, 0);
}

static void group_move(struct sim_action *a, int64_t at, int cms, const char *to)
{
	struct sim_cluster *c = &a->w->clusters[a->cluster];
	int cur = cms ? c->owner : c->group_owner;
	int t = to != NULL ? sim_host_find(a->w, to) : sim_other_member(c, cur);
	if (t < 0 || !sim_is_member(c, t)) {
		sys_error(a, 5042, "The cluster node was not found.");
		return;
	}
	if (!sim_node_in_cluster(a->w, t)) {
		sys_error(a, 5050, "The cluster node is down.");
		return;
	}
	a->stage = cms;
	sim_act_out(a, "\nMoving resource group '%s'...\n", cms ? c->cms : "Cluster Group");
	if (cms) {
		sim_cms_move_begin(a, at, t, group_move_done);
		return;
	}
	a->target = t;
	sim_act_then(a, group_move_done, at + sim_scaled(a->w, a->w->dur.cluster_move));
}

static void list_groups(struct sim_action *a, const struct sim_cluster *c, int only)
{
	if (only < 0)
		sim_act_out(a, "Listing status for all available resource groups:\n\n");
	else
		sim_act_out(a, "Listing status for resource group '%s':\n\n",
			    only ? c->cms : "Cluster Group");
	group_header(a);
	for (int g = 0; g < 2; g++)
		if (only < 0 || only == g)
			group_row(a, c, g);
	sim_act_exit(a, 0);
}

/* Skip "CLUS1" or "/cluster:CLUS1" before the object; -1 when it names another cluster. */
static int skip_cluster_name(const struct sim_action *a, const struct sim_cluster *c)
{
	if (a->argc < 2 || str_ieq(a->argv[1], "group"))
		return 1;
	const char *n = a->argv[1];
	if (strncasecmp(n, "/cluster:", 9) == 0)
		n += 9;
	else if (strncasecmp(n, "/c:", 3) == 0)
		n += 3;
	return str_ieq(n, c->name) || str_ieq(n, ".") ? 2 : -1;
}

static void cluster_usage(struct sim_action *a)
{
	sys_error(a, 87, "The parameter is incorrect.");
}

void sim_cmd_cluster(struct sim_action *a, int64_t at)
{
	const struct sim_host *h = sim_act_host(a);
	if (h->cluster < 0) {
		sys_error(a, 1060, "The specified service does not exist as an installed service.");
		return;
	}
	if (!sim_node_in_cluster(a->w, a->host)) {
		sys_error(a, 1722, "The RPC server is unavailable.");
		return;
	}
	struct sim_cluster *c = &a->w->clusters[h->cluster];
	int i = skip_cluster_name(a, c);
	if (i < 0 || i >= a->argc || !str_ieq(a->argv[i], "group")) {
		cluster_usage(a);
		return;
	}
	if (i + 1 >= a->argc) {
		list_groups(a, c, -1);
		return;
	}
	int g = group_find(c, a->argv[i + 1]);
	if (g < 0) {
		sys_error(a, 5013, "The cluster group could not be found.");
		return;
	}
	if (i + 2 >= a->argc || str_ieq(a->argv[i + 2], "/status") ||
	    str_ieq(a->argv[i + 2], "/stat")) {
		list_groups(a, c, g);
		return;
	}
	const char *opt = a->argv[i + 2];
	if (str_ieq(opt, "/move") || str_ieq(opt, "/moveto"))
		group_move(a, at, g, NULL);
	else if (strncasecmp(opt, "/move:", 6) == 0)
		group_move(a, at, g, opt + 6);
	else if (strncasecmp(opt, "/moveto:", 8) == 0)
		group_move(a, at, g, opt + 8);
	else
		cluster_usage(a);
}
