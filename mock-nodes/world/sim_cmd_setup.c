/*
 * sim_cmd_setup.c — Exchange setup.com (/mode:upgrade and /UpgradeCMS) and
 * the .NET Framework 2.0 SP1 installer.
 *
 * setup.com /m:upgrade streams its stages over the scaled `setup` duration:
 * the welcome banner, the roles to upgrade, the prerequisite check (rule 3),
 * then the configuration stages, each printed as its name when it starts and
 * "......................... COMPLETED" when it ends.  "Stopping Services"
 * stops the Cluster service, so the node's groups fail over (rule 2);
 * "Mailbox Server Role" fails while a performance-counter consumer runs or
 * the firewall service is stopped (rule 4); only "Finalizing Setup" puts the
 * new binaries in place and sets the pending restart (rule 5).  A failure or
 * an interruption inside the configuration stages leaves a watermark; the
 * next run skips the file stages before it (rule 12).
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>

enum stage_kind {
	ST_PLAIN,   /* just takes time */
	ST_FILES,   /* takes time; skipped on resume when before the watermark */
	ST_STOP,    /* stops the Cluster service (rule 2) */
	ST_MAILBOX, /* rule 4's checks */
	ST_RESTORE, /* starts the Cluster service again */
	ST_FINAL,   /* new binaries, pending restart, watermark cleared */
	ST_CMS,	    /* /UpgradeCMS: the CMS at the new version, online (rule 7) */
};

struct stage {
	const char *name;     /* as printed */
	int weight;	      /* percent of the command's duration */
	enum stage_kind kind; /* what happens */
};

static const struct stage node_stages[] = {
    {"Preparing Setup", 3, ST_PLAIN},		{"Stopping Services", 5, ST_STOP},
    {"Removing Exchange Files", 8, ST_FILES},	{"Preparing Files", 6, ST_FILES},
    {"Copying Exchange Files", 30, ST_FILES},	{"Mailbox Server Role", 25, ST_MAILBOX},
    {"Exchange Management Tools", 8, ST_FILES}, {"Restoring Services", 4, ST_RESTORE},
    {"Finalizing Setup", 3, ST_FINAL},		{NULL, 0, ST_PLAIN},
};

static const struct stage hubcas_stages[] = {
    {"Preparing Setup", 3, ST_PLAIN},
    {"Stopping Services", 5, ST_PLAIN},
    {"Copying Exchange Files", 35, ST_FILES},
    {"Hub Transport Server Role", 20, ST_FILES},
    {"Client Access Server Role", 20, ST_FILES},
    {"Exchange Management Tools", 6, ST_FILES},
    {"Restoring Services", 3, ST_PLAIN},
    {"Finalizing Setup", 3, ST_FINAL},
    {NULL, 0, ST_PLAIN},
};

static const struct stage cms_stages[] = {
    {"Clustered Mailbox Server Role", 85, ST_CMS},
    {NULL, 0, ST_PLAIN},
};

const char *sim_setup_stage_name(int stage)
{
	if (stage < 1 || stage > (int)CCR_ARRAY_LEN(node_stages) - 1)
		return NULL;
	return node_stages[stage - 1].name;
}

int sim_setup_stage_find(const char *name)
{
	for (int i = 0; node_stages[i].name != NULL; i++)
		if (str_ieq(node_stages[i].name, name))
			return i + 1;
	return -1;
}

#define F_HUBCAS  1 /* flags: running on an HT/CAS server */
#define F_CMS	  2 /* /UpgradeCMS */
#define F_STOPPED 4 /* this run stopped the Cluster service */

static const char *const dots = "......................... ";

static const struct stage *stages_of(const struct sim_action *a)
{
	if (a->flags & F_CMS)
		return cms_stages;
	return (a->flags & F_HUBCAS) ? hubcas_stages : node_stages;
}

static int64_t share(const struct sim_action *a, int percent)
{
	return a->span * percent / 100;
}

static void say_failed(struct sim_action *a)
{
	sim_act_out(a, "\nThe Microsoft Exchange Server setup operation did not complete. Visit "
		       "http://support.microsoft.com and enter the Error ID to find more "
		       "information.\n\n");
	sim_act_exit(a, 1);
}

static void refuse(struct sim_action *a, const char *msg)
{
	sim_act_out(a, "%s\n", msg);
	say_failed(a);
}

static void say_done(struct sim_action *a)
{
	sim_act_out(a, "\nThe Microsoft Exchange Server setup operation completed successfully.\n");
	if (!(a->flags & F_CMS))
		sim_act_out(a, "Setup has made changes to operating system settings that require a "
			       "reboot to take effect. Please reboot this server prior to placing "
			       "it into production.\n");
	sim_act_exit(a, 0);
}

static void cluster_svc(struct sim_action *a, int64_t at, int run)
{
	struct sim_svc *s = sim_svc_find(sim_act_host(a), "ClusSvc");
	if (s == NULL || a->flags & F_HUBCAS)
		return;
	if (!run && s->state == SIM_SVC_RUNNING) {
		s->state = SIM_SVC_STOPPED;
		a->flags |= F_STOPPED;
		sim_node_leave(a->w, a->host, at);
	} else if (run && (a->flags & F_STOPPED)) {
		s->state = SIM_SVC_RUNNING;
		a->flags &= ~F_STOPPED;
		sim_node_join(a->w, a->host, at);
	}
}

/* Rule 4: the text of the first reason the Mailbox role stage fails, or NULL. */
static char *mailbox_blocker(const struct sim_host *h)
{
	static const char *const perf[] = {"SysmonLog", "HealthService", "MOM", "FSCController"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(perf); i++) {
		const struct sim_svc *s = sim_svc_find(h, perf[i]);
		if (s != NULL && s->state != SIM_SVC_STOPPED)
			return xasprintf(
			    "     The performance counters for 'MSExchangeIS' could not be "
			    "registered: the service '%s' (%s) holds them open. Stop the "
			    "service and run setup again.\n"
			    "     Error: The process cannot access the file "
			    "'C:\\WINDOWS\\system32\\perfc009.dat' because it is being used by "
			    "another process.\n",
			    s->name, s->display);
	}
	const struct sim_svc *fw = sim_svc_find(h, "SharedAccess");
	if (fw != NULL && fw->state != SIM_SVC_RUNNING)
		return xasprintf("     Failed to add the Windows Firewall exception for 'Microsoft "
				 "Exchange Information Store': the service 'SharedAccess' (%s) is "
				 "not running. Start the service and run setup again.\n",
				 fw->display);
	return NULL;
}

static void stage_begin(struct sim_action *a, int64_t at);

/* The furthest stage any failed run reached: a resume never redoes more than needed. */
static void keep_watermark(struct sim_action *a)
{
	struct sim_host *h = sim_act_host(a);
	if (a->stage > h->watermark)
		h->watermark = a->stage;
}

static void stage_fail(struct sim_action *a, int64_t at, char *why)
{
	sim_act_out(a, "%sFAILED\n%s", dots, why);
	free(why);
	keep_watermark(a);
	cluster_svc(a, at, 1);
	say_failed(a);
}

static void stage_apply_end(struct sim_action *a, int64_t at, enum stage_kind kind)
{
	struct sim_host *h = sim_act_host(a);
	if (kind == ST_RESTORE) {
		cluster_svc(a, at, 1);
	} else if (kind == ST_FINAL) {
		free(h->binaries);
		h->binaries = xstrdup(a->w->media_version);
		if (a->flags & F_HUBCAS) {
			free(h->server_version);
			h->server_version = xstrdup(a->w->media_version);
		}
		h->pending_reboot = 1;
		h->watermark = 0;
		sim_msi_sp_installed(h);
	} else if (kind == ST_CMS) {
		struct sim_cluster *c = &a->w->clusters[a->cluster];
		free(c->cms_version);
		c->cms_version = xstrdup(h->binaries);
		c->cms_key = 1;
		sim_cms_try_online(a->w, c, at);
	}
}

static void stage_end(struct sim_action *a, int64_t at)
{
	const struct stage *st = &stages_of(a)[a->stage - 1];
	sim_act_out(a, "%sCOMPLETED\n", dots);
	stage_apply_end(a, at, st->kind);
	a->stage++;
	stage_begin(a, at);
}

static void stage_begin(struct sim_action *a, int64_t at)
{
	const struct stage *tab = stages_of(a);
	struct sim_host *h = sim_act_host(a);
	/* Resume (rule 12): file stages before the watermark were done by the failed run. */
	while (tab[a->stage - 1].name != NULL && tab[a->stage - 1].kind == ST_FILES &&
	       a->stage < h->watermark)
		a->stage++;
	const struct stage *st = &tab[a->stage - 1];
	if (st->name == NULL) {
		say_done(a);
		return;
	}
	sim_act_out(a, "    %-36s", st->name);
	if (st->kind == ST_STOP)
		cluster_svc(a, at, 0);
	if (st->kind == ST_MAILBOX) {
		char *why = mailbox_blocker(h);
		if (why != NULL) {
			stage_fail(a, at, why);
			return;
		}
	}
	sim_act_then(a, stage_end, at + share(a, st->weight));
}

static void configure(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	sim_act_out(a, "\nConfiguring Microsoft Exchange Server\n\n");
	if (h->watermark > 0 && !(a->flags & F_CMS))
		sim_act_out(a, "    Setup previously failed while performing the action "
			       "'BuildToBuildUpgrade'. Setup will resume from the point where it "
			       "stopped.\n\n");
	a->stage = 1;
	stage_begin(a, at);
}

/* Rule 3: Windows 2003 SP2 required, .NET 2.0 SP1 only recommended. */
static void prereq_end(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	char *sp_why = sim_setup_sp_prereq(a);
	if (sp_why != NULL) {
		sim_act_out(a, "%sFAILED\n%s", dots, sp_why);
		free(sp_why);
		say_failed(a);
		return;
	}
	if (h->os_sp < 2) {
		sim_act_out(a,
			    "%sFAILED\n     Error:\n     Exchange Server 2007 Service Pack 1 "
			    "requires Windows Server 2003 Service Pack 2 or later.\n",
			    dots);
		say_failed(a);
		return;
	}
	if (h->pending_reboot) {
		sim_act_out(a,
			    "%sFAILED\n     Error:\n     A restart from a previous installation "
			    "is pending. Please restart the system and then rerun Setup.\n",
			    dots);
		say_failed(a);
		return;
	}
	sim_act_out(a, "%sCOMPLETED\n", dots);
	if (h->net_sp < 1 && !(a->flags & F_CMS))
		sim_act_out(a, "     Warning:\n     Microsoft .NET Framework 2.0 Service Pack 1 is "
			       "not installed. It is recommended for Exchange Server 2007 SP1 on "
			       "Windows Server 2003.\n");
	configure(a, at);
}

static void prereq_begin(struct sim_action *a, int64_t at)
{
	const char *what = (a->flags & F_CMS)	   ? "Clustered Mailbox Server Checks"
			   : (a->flags & F_HUBCAS) ? "Hub Transport Role Checks"
						   : "Mailbox Role Checks";
	sim_act_out(a, "Performing Microsoft Exchange Server Prerequisite Check\n\n    %-36s",
		    what);
	sim_act_then(a, prereq_end, at + share(a, 5));
}

static void roles(struct sim_action *a, int64_t at)
{
	sim_act_out(a, "    The following server roles will be upgraded\n");
	if (a->flags & F_CMS)
		sim_act_out(a, "    Clustered Mailbox Server\n\n");
	else if (a->flags & F_HUBCAS)
		sim_act_out(a, "    Hub Transport Role\n    Client Access Role\n"
			       "    Management Tools\n\n");
	else
		sim_act_out(a, "    Mailbox Role\n    Management Tools\n\n");
	sim_act_then(a, prereq_begin, at + share(a, 2));
}

/* An interrupted setup leaves its watermark; the binaries stay as they were. */
static void setup_abort(struct sim_action *a, int64_t at)
{
	if (a->stage > 0 && !(a->flags & F_CMS))
		keep_watermark(a);
	cluster_svc(a, at, 1);
}

static void already(struct sim_action *a, const char *ver)
{
	sim_act_out(a,
		    "No server roles will be upgraded: the installed Microsoft Exchange Server "
		    "2007 roles are already at this version (%s).\n",
		    ver);
	sim_act_out(a, "\nThe Microsoft Exchange Server setup operation completed successfully.\n");
	sim_act_exit(a, 0);
}

/* Rule 1 and the no-op rerun (rule 12).  1 if the run ends here. */
static int upgrade_gate(struct sim_action *a)
{
	struct sim_host *h = sim_act_host(a);
	if (sim_ver_cmp(h->binaries, a->w->media_version) >= 0) {
		already(a, h->binaries);
		return 1;
	}
	if (h->cluster >= 0 && a->w->clusters[h->cluster].owner == a->host) {
		char *msg = xasprintf(
		    "Setup cannot upgrade this node: it owns the clustered mailbox server '%s'. "
		    "Move the clustered mailbox server to the passive node with "
		    "Move-ClusteredMailboxServer, then upgrade this node.",
		    a->w->clusters[h->cluster].cms);
		refuse(a, msg);
		free(msg);
		return 1;
	}
	return 0;
}

static char *cms_refusal(struct sim_action *a, const struct sim_cluster *c)
{
	struct sim_host *h = sim_act_host(a);
	if (c->owner != a->host)
		return xasprintf("The clustered mailbox server '%s' is not owned by this node. Run "
				 "setup.com /UpgradeCMS on '%s', the node that owns it.",
				 c->cms, a->w->hosts[c->owner].name);
	if (sim_ver_cmp(h->binaries, c->cms_version) <= 0)
		return xasprintf("The Exchange binaries on this node (%s) are not newer than the "
				 "clustered mailbox server '%s' (%s). Run setup.com /mode:upgrade "
				 "on this node first.",
				 h->binaries, c->cms, c->cms_version);
	if (c->state != SIM_CMS_OFFLINE && c->state != SIM_CMS_FAILED)
		return xasprintf("The clustered mailbox server '%s' is %s. Stop it with "
				 "Stop-ClusteredMailboxServer before upgrading it.",
				 c->cms, sim_cms_state_name(c->state));
	if (sim_cms_trapped(a->w, c))
		return xasprintf(
		    "The clustered mailbox server '%s' cannot be upgraded: its "
		    "configuration in HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS is "
		    "from version %s and no node runs that version any more. Delete the "
		    "key and run setup.com /UpgradeCMS again.",
		    c->cms, c->cms_version);
	return NULL;
}

/* Rule 7 (and 9): only the owner of the stopped CMS, with upgraded binaries.  1 if done. */
static int cms_gate(struct sim_action *a)
{
	struct sim_host *h = sim_act_host(a);
	if (h->cluster < 0 || h->role != SIM_ROLE_NODE) {
		refuse(a, "This computer is not a node of a cluster: /UpgradeCMS does not apply.");
		return 1;
	}
	a->cluster = h->cluster;
	struct sim_cluster *c = &a->w->clusters[h->cluster];
	if (c->owner == a->host && sim_ver_cmp(c->cms_version, a->w->media_version) >= 0 &&
	    c->state == SIM_CMS_ONLINE) {
		already(a, c->cms_version);
		return 1;
	}
	char *why = cms_refusal(a, c);
	if (why == NULL)
		return 0;
	refuse(a, why);
	free(why);
	return 1;
}

static int setup_mode(const struct sim_action *a)
{
	int mode = 0;
	for (int i = 1; i < a->argc; i++) {
		const char *o = a->argv[i];
		if (str_ieq(o, "/m:upgrade") || str_ieq(o, "/mode:upgrade") ||
		    str_ieq(o, "-m:upgrade"))
			mode = mode ? -1 : 1;
		else if (str_ieq(o, "/UpgradeCMS") || str_ieq(o, "-UpgradeCMS"))
			mode = mode ? -1 : 2;
		else if (str_ieq(o, "/PrepareSchema") || str_ieq(o, "/ps"))
			mode = mode ? -1 : 3;
		else if (str_ieq(o, "/PrepareAD") || str_ieq(o, "/p"))
			mode = mode ? -1 : 4;
		else
			return -1;
	}
	return mode;
}

void sim_cmd_setup(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	int mode = setup_mode(a);
	sim_act_out(a, "\nWelcome to Microsoft Exchange Server 2007 Unattended Setup\n\n");
	if (mode <= 0) {
		sim_act_out(a, "The following parameters are not valid in this context: use "
			       "/mode:Upgrade, /UpgradeCMS, /PrepareSchema or /PrepareAD.\n\n"
			       "Usage: setup.com /mode:Upgrade | /UpgradeCMS | /PrepareSchema | "
			       "/PrepareAD\n");
		sim_act_exit(a, 1);
		return;
	}
	sim_act_out(a, "Preparing Exchange Setup\n\n");
	if (mode >= 3) {
		sim_setup_prepare(a, at, mode == 4);
		return;
	}
	a->flags = (mode == 2 ? F_CMS : 0) | (h->role == SIM_ROLE_HUBCAS ? F_HUBCAS : 0);
	if ((mode == 1 && upgrade_gate(a)) || (mode == 2 && cms_gate(a)))
		return;
	a->span = sim_scaled(a->w, mode == 2 ? a->w->dur.upgrade_cms : a->w->dur.setup);
	a->abort = setup_abort;
	sim_act_then(a, roles, at + share(a, 2));
}

void sim_cmd_setup_exe(struct sim_action *a, int64_t at)
{
	if (sim_act_host(a)->role == SIM_ROLE_HUBCAS) {
		sim_cmd_setup(a, at);
		return;
	}
	sim_act_err(a,
		    "Setup.exe cannot be used on a node of a cluster. Run setup.com /mode:Upgrade "
		    "from a command prompt instead.\n");
	sim_act_exit(a, 1);
}

static void dotnet_done(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	h->net_sp = 1;
	if (!h->dotnet_restart) { /* the scenario's host needs no restart for it */
		sim_act_exit(a, 0);
		return;
	}
	h->pending_reboot = 1;
	if (a->flags)
		sim_host_schedule_reboot(a->w, a->host, at);
	sim_act_exit(a, 3010);
}

/*
 * NetFx20SP1_x86.exe [/q] [/norestart]: exit 3010 (restart required), or 0 if
 * present, or 0 without a pending restart on a host with dotnet_restart false.
 */
void sim_cmd_dotnet(struct sim_action *a, int64_t at)
{
	int norestart = 0;
	for (int i = 1; i < a->argc; i++)
		if (str_ieq(a->argv[i], "/norestart"))
			norestart = 1;
	if (sim_act_host(a)->net_sp >= 1) {
		sim_act_exit(a, 0);
		return;
	}
	a->flags = !norestart;
	sim_act_then(a, dotnet_done, at + sim_scaled(a->w, a->w->dur.dotnet));
}
