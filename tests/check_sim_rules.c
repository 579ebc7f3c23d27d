/*
 * check_sim_rules.c — ccrsim's rules (docs/ccrsim.md, Rules; reference
 * rules 1-12 of shared/reference/ccr-sp1.md): one test per rule showing it
 * bite, what interrupted commands leave behind, and two whole runs typed by
 * hand at time scale 0: the correct manual SP1 sequence of
 * playbooks/ccr-sp1.yml on two-node.yml (reboots advanced with
 * sim_world_tick), and the /UpgradeCMS trap with its documented way out.
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define SCN(n) "mock-nodes/scenarios/" n ".yml"
#define EMS                                                                                        \
	"powershell -NonInteractive -PSConsoleFile \"C:\\Program Files\\Microsoft\\Exchange "      \
	"Server\\Bin\\exshell.psc1\" -Command "
#define SETUP  "\"D:\\Exchange2007SP1\\setup.com\""
#define DOTNET "\"D:\\Prereqs\\NetFx20SP1_x86.exe\" /q /norestart"
#define NETKEY "reg query \"HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v2.0.50727\" /v SP"
#define STOP_CMS                                                                                   \
	EMS "\"Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason 'SP1 upgrade' "           \
	    "-Confirm:$false\""
#define START_CMS EMS "\"Start-ClusteredMailboxServer -Identity E2K7CCR -Confirm:$false\""
#define MOVE_CMS(n)                                                                                \
	EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR -TargetMachine " n                    \
	    " -MoveComment 'SP1 upgrade' -Confirm:$false\""
#define DEL_KEY "reg delete \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\" /f"

static struct sim_world *W;
static int64_t NOW;
static struct sbuf OUT, ERR;

static void load(const char *path, double scale)
{
	char err[512];
	sim_world_free(W);
	W = sim_world_load(path, scale, err, sizeof(err));
	ck_assert_msg(W != NULL, "%s", err);
	NOW = 0;
}

static void setup(void)
{
	W = NULL;
	sbuf_init(&OUT);
	sbuf_init(&ERR);
	load(SCN("two-node"), 0);
}

static void teardown(void)
{
	sim_world_free(W);
	sbuf_release(&OUT);
	sbuf_release(&ERR);
}

static void set(const char *path, const char *value)
{
	char err[256];
	ck_assert_msg(sim_world_set(W, path, value, NOW, err, sizeof(err)) == 0, "%s", err);
}

/* Run to completion, then let a second pass on the world clock (reboots at scale 0). */
static int x(const char *host, const char *fmt, ...)
{
	va_list ap;
	int code = -1, h = sim_host_find(W, host);
	ck_assert_int_ge(h, 0);
	va_start(ap, fmt);
	char *cmd = xvasprintf(fmt, ap);
	va_end(ap);
	sbuf_reset(&OUT);
	sbuf_reset(&ERR);
	struct sim_action *a = sim_exec(W, h, cmd, NOW);
	while (!sim_action_poll(a, NOW, &OUT, &ERR, &code)) {
		int64_t t = sim_action_next_ms(a);
		ck_assert_msg(t != INT64_MAX, "command hangs: %s", cmd);
		NOW = t > NOW ? t : NOW;
	}
	sim_action_free(a);
	free(cmd);
	NOW += 1000;
	sim_world_tick(W, NOW);
	return code;
}

#define ck_has(sb, s) ck_assert_msg(strstr((sb).buf, s) != NULL, "no \"%s\" in:\n%s", s, (sb).buf)

/* A string field of the dump: "cms.state" of cluster 0, or "NODE2.binaries_version". */
static char *dump_str(const char *what)
{
	json_t *d = sim_world_dump(W, NOW), *v = NULL;
	json_t *c = json_array_get(json_object_get(d, "clusters"), 0);
	if (strncmp(what, "cms.", 4) == 0)
		v = json_object_get(json_object_get(c, "cms"), what + 4);
	else if (strchr(what, '.') == NULL)
		v = json_object_get(c, what);
	else {
		json_t *hosts = json_object_get(d, "hosts");
		for (size_t i = 0; i < json_array_size(hosts); i++) {
			json_t *h = json_array_get(hosts, i);
			if (strncmp(json_string_value(json_object_get(h, "name")), what,
				    (size_t)(strchr(what, '.') - what)) == 0)
				v = json_object_get(h, strchr(what, '.') + 1);
		}
	}
	char *s =
	    json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
	json_decref(d);
	return s;
}

#define ck_dump(what, want)                                                                        \
	do {                                                                                       \
		char *got_ = dump_str(what);                                                       \
		ck_assert_msg(strcmp(got_, want) == 0, "%s = %s, want %s", what, got_, want);      \
		free(got_);                                                                        \
	} while (0)

static json_t *cluster0(json_t *d)
{
	return json_array_get(json_object_get(d, "clusters"), 0);
}

static int command_count(const char *host, const char *key)
{
	json_t *d = sim_world_dump(W, NOW);
	json_t *hosts = json_object_get(d, "hosts");
	int n = -1;
	for (size_t i = 0; i < json_array_size(hosts); i++) {
		json_t *h = json_array_get(hosts, i);
		if (strcmp(json_string_value(json_object_get(h, "name")), host) == 0)
			n = (int)json_integer_value(
			    json_object_get(json_object_get(h, "commands"), key));
	}
	json_decref(d);
	return n;
}

/* What the playbook's stop-service .. firewall-start steps do before setup (steps 3-5). */
static void prepare_for_setup(const char *n)
{
	static const char *const perf[] = {"MOM", "HealthService", "FSCController", "SysmonLog"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(perf); i++) {
		int rc = x(n, "net stop %s", perf[i]);
		ck_assert(rc == 0 || rc == 2);
	}
	ck_assert_int_eq(x(n, "net stop RemoteRegistry"), 0);
	ck_assert_int_eq(x(n, "net start RemoteRegistry"), 0);
	ck_assert_int_eq(x(n, "sc config SharedAccess start= demand"), 0);
	ck_assert_int_eq(x(n, "net start SharedAccess"), 0);
}

/* The playbook's node-upgrade sequence (steps 1, 3-7). */
static void node_upgrade(const char *n)
{
	x(n, NETKEY);
	if (strstr(OUT.buf, "0x1") == NULL) {
		ck_assert_int_eq(x(n, DOTNET), 3010);
		ck_assert_int_eq(x(n, "shutdown /r /t 0"), 0);
	}
	prepare_for_setup(n);
	ck_assert_int_eq(x(n, SETUP " /m:upgrade"), 0);
	ck_has(OUT, "The Microsoft Exchange Server setup operation completed successfully.");
	ck_assert_int_eq(x(n, "shutdown /r /t 0"), 0);
}

/* --- rule 1 --- */

START_TEST(rule1_setup_refuses_on_cms_owner)
{
	prepare_for_setup("NODE1");
	ck_assert_int_eq(x("NODE1", SETUP " /m:upgrade"), 1);
	ck_has(OUT, "it owns the clustered mailbox server 'E2K7CCR'");
	ck_has(OUT, "setup operation did not complete");
	ck_dump("NODE1.binaries_version", "8.0.685.25");
	ck_dump("NODE1.pending_reboot", "false");
	ck_assert_int_eq(command_count("NODE1", "setup.com /m:upgrade"), 1);
}
END_TEST

/* --- rule 2 --- */

START_TEST(rule2_setup_restarts_cluster_service_groups_fail_over)
{
	load(SCN("cluster-group-on-passive"), 0.001);
	ck_dump("cluster_group_owner", "NODE2");
	prepare_for_setup("NODE2");
	int code = -1, n2 = sim_host_find(W, "NODE2"), saw_stopped = 0;
	struct sim_action *a = sim_exec(W, n2, SETUP " /m:upgrade", NOW);
	while (!sim_action_poll(a, NOW, &OUT, &ERR, &code)) {
		NOW = sim_action_next_ms(a);
		char *st = dump_str("NODE2.services");
		saw_stopped |= strstr(st, "\"ClusSvc\": {\"state\": \"STOPPED\"") != NULL;
		free(st);
	}
	sim_action_free(a);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(saw_stopped, "ClusSvc never stopped during setup");
	ck_dump("cluster_group_owner", "NODE1");
	x("NODE2", "sc query ClusSvc");
	ck_has(OUT, "RUNNING");
	/*
	 * The CMS group too (rule 1 keeps setup off its owner, so the Cluster
	 * service is stopped by hand): it fails over where the binaries match.
	 */
	load(SCN("two-node"), 0.001);
	ck_assert_int_eq(x("NODE1", "net stop ClusSvc"), 0);
	sim_world_tick(W, NOW + 100000);
	NOW += 100000;
	ck_dump("cms.owner", "NODE2");
	ck_dump("cms.state", "Online");
}
END_TEST

/* --- rule 3 --- */

START_TEST(rule3_windows_sp2_required_dotnet_only_warned)
{
	set("NODE2.os_sp", "1");
	prepare_for_setup("NODE2");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 1);
	ck_has(OUT, "Mailbox Role Checks                 ......................... FAILED");
	ck_has(OUT, "requires Windows Server 2003 Service Pack 2 or later.");
	ck_dump("NODE2.binaries_version", "8.0.685.25");
	ck_dump("NODE2.watermark", "null");
	set("NODE2.os_sp", "2");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 0);
	ck_has(OUT, "Warning:\n     Microsoft .NET Framework 2.0 Service Pack 1 is not installed.");
	ck_dump("NODE2.binaries_version", "8.1.240.6");
}
END_TEST

/* --- rule 4 --- */

START_TEST(rule4_perf_counter_consumers_and_firewall)
{
	static const char *const blockers[] = {"SysmonLog", "HealthService", "MOM", "FSCController",
					       "SharedAccess"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(blockers); i++) {
		load(SCN("two-node"), 0);
		prepare_for_setup("NODE2");
		char *path = xasprintf("NODE2.service.%s.state", blockers[i]);
		set(path, i == 4 ? "STOPPED" : "RUNNING");
		free(path);
		ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 1);
		ck_has(OUT, "    Copying Exchange Files              ......................... "
			    "COMPLETED\n");
		ck_has(
		    OUT,
		    "    Mailbox Server Role                 ......................... FAILED\n");
		ck_has(OUT, blockers[i]);
		ck_has(OUT, i == 4 ? "Windows Firewall exception" : "performance counters");
		ck_dump("NODE2.binaries_version", "8.0.685.25");
		x("NODE2", "sc query ClusSvc");
		ck_has(OUT, "RUNNING");
	}
}
END_TEST

/* --- rule 5 --- */

START_TEST(rule5_binaries_upgraded_reboot_pending_refuses_cms)
{
	prepare_for_setup("NODE2");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 0);
	ck_dump("NODE2.binaries_version", "8.1.240.6");
	ck_dump("NODE2.pending_reboot", "true");
	ck_assert_int_eq(x("NODE2", STOP_CMS), 0);
	ck_assert_int_eq(x("NODE2", MOVE_CMS("NODE2")), 1);
	ck_has(ERR, "Node 'NODE2' has a restart pending.");
	ck_dump("cms.owner", "NODE1");
	ck_assert_int_eq(x("NODE2", "shutdown /r /t 0"), 0);
	ck_dump("NODE2.pending_reboot", "false");
	ck_assert_int_eq(x("NODE2", MOVE_CMS("NODE2")), 0);
	ck_dump("cms.owner", "NODE2");
}
END_TEST

/* --- rule 6 --- */

START_TEST(rule6_move_target_and_replication_checks)
{
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE1")), 1);
	ck_has(ERR, "already running on 'NODE1'");
	ck_assert_int_eq(x("NODE1", MOVE_CMS("HUBCAS")), 1);
	ck_has(ERR, "not a possible owner");
	set("CLUS1.copy_queue", "11");
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 1);
	ck_has(ERR, "CopyQueueLength: 11; at most 10 allowed");
	set("CLUS1.copy_queue", "10");
	set("CLUS1.copy_status", "Initializing");
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 1);
	ck_has(ERR, "SummaryCopyStatus: Initializing");
	ck_dump("cms.owner", "NODE1");
	ck_dump("cms.state", "Online");
	set("CLUS1.copy_status", "Healthy");
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 0);
	ck_dump("cms.owner", "NODE2");
	ck_dump("cms.state", "Online");
	/* Stopped, the CMS moves whatever the copies say. */
	load(SCN("replication-lagging"), 0);
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 1);
	ck_assert_int_eq(x("NODE1", STOP_CMS), 0);
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 0);
	ck_dump("cms.owner", "NODE2");
	ck_dump("cms.state", "Offline");
}
END_TEST

START_TEST(rule6_threshold_is_a_scenario_setting)
{
	load(SCN("replication-lagging"), 0);
	set("CLUS1.copy_status", "Healthy");
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 1);
	ck_has(ERR, "CopyQueueLength: 250; at most 10 allowed");
}
END_TEST

/* --- rule 7 --- */

START_TEST(rule7_upgradecms_owner_stopped_upgraded)
{
	ck_assert_int_eq(x("NODE2", SETUP " /UpgradeCMS"), 1);
	ck_has(OUT, "is not owned by this node. Run setup.com /UpgradeCMS on 'NODE1'");
	ck_assert_int_eq(x("NODE1", SETUP " /UpgradeCMS"), 1);
	ck_has(OUT, "Run setup.com /mode:upgrade on this node first.");
	set("NODE1.binaries_version", "8.1.240.6");
	ck_assert_int_eq(x("NODE1", SETUP " /UpgradeCMS"), 1);
	ck_has(OUT, "is Online. Stop it with Stop-ClusteredMailboxServer");
	ck_assert_int_eq(x("NODE1", STOP_CMS), 0);
	ck_assert_int_eq(x("NODE1", SETUP " /UpgradeCMS"), 0);
	ck_has(OUT, "Clustered Mailbox Server Role       ......................... COMPLETED");
	ck_dump("cms.version", "8.1.240.6");
	ck_dump("cms.state", "Online");
	ck_assert_int_eq(x("NODE1", SETUP " /UpgradeCMS"), 0);
	ck_has(OUT, "already at this version (8.1.240.6)");
}
END_TEST

/* --- rule 8 --- */

START_TEST(rule8_online_only_where_versions_match)
{
	ck_assert_int_eq(x("NODE1", STOP_CMS), 0);
	set("NODE1.binaries_version", "8.1.240.6");
	ck_assert_int_eq(x("NODE1", START_CMS), 1);
	ck_has(ERR, "could not be brought online on node 'NODE1'");
	ck_dump("cms.state", "Failed");
	x("NODE1", EMS "\"Get-ClusteredMailboxServerStatus -Identity E2K7CCR\"");
	ck_has(OUT,
	       "FailedResources                 : {Exchange Information Store Instance (E2K7CCR)}");
	/* An online CMS will not move to a node with other binaries. */
	load(SCN("two-node"), 0);
	set("NODE2.binaries_version", "8.1.240.6");
	ck_assert_int_eq(x("NODE1", MOVE_CMS("NODE2")), 1);
	ck_has(ERR, "cannot run on node 'NODE2'");
	ck_assert_int_eq(x("NODE1", STOP_CMS), 0);
	set("NODE1.binaries_version", "8.0.685.25");
	ck_assert_int_eq(x("NODE1", START_CMS), 0);
	ck_dump("cms.state", "Online");
}
END_TEST

/* --- rule 9 --- */

START_TEST(rule9_trap_and_the_key)
{
	load(SCN("trap-both-upgraded"), 0);
	ck_dump("cms.state", "Failed");
	ck_assert_int_eq(x("NODE1", START_CMS), 1);
	ck_has(ERR, "Both nodes run newer binaries: delete the registry key");
	ck_assert_int_eq(x("NODE1", SETUP " /UpgradeCMS"), 1);
	ck_has(OUT, "HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS is from version 8.0.685.25");
	ck_dump("cms.version", "8.0.685.25");
	ck_assert_int_eq(x("NODE1", "reg query \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\""),
			 0);
	ck_assert_int_eq(x("NODE1", DEL_KEY), 0);
	ck_assert_int_eq(x("NODE1", "reg query \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\""),
			 1);
	int64_t t = NOW;
	ck_assert_int_eq(x("NODE1", SETUP " /UpgradeCMS"), 0);
	ck_dump("cms.version", "8.1.240.6");
	ck_dump("cms.state", "Online");
	ck_dump("cms.registry_key", "true");
	json_t *d = sim_world_dump(W, NOW);
	json_t *o = json_array_get(json_object_get(cluster0(d), "outages"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "start_ms")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "end_ms")), t);
	json_decref(d);
}
END_TEST

/* --- rule 10 --- */

START_TEST(rule10_owner_reboot_fails_over)
{
	load(SCN("two-node"), 0.001); /* failover 1 min -> 60 ms; reboot 5 min -> 300 ms */
	int64_t t0 = NOW;
	ck_assert_int_eq(x("NODE1", "shutdown /r /t 0"), 0); /* ticks to t0 + 1000 */
	ck_dump("cms.owner", "NODE2");
	ck_dump("cms.state", "Online");
	json_t *d = sim_world_dump(W, NOW);
	json_t *outs = json_object_get(cluster0(d), "outages");
	ck_assert_int_eq(json_array_size(outs), 1);
	json_t *o = json_array_get(outs, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "start_ms")), t0 + 1);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "end_ms")), t0 + 61);
	json_decref(d);
}
END_TEST

START_TEST(rule10_no_failover_target_offline_until_owner_returns)
{
	load(SCN("two-node"), 0.001);
	set("NODE2.pending_reboot", "1");
	int n1 = sim_host_find(W, "NODE1");
	int64_t t0 = NOW;
	struct sim_action *a = sim_exec(W, n1, "shutdown /r /t 0", NOW);
	int code;
	ck_assert_int_eq(sim_action_poll(a, NOW, &OUT, &ERR, &code), 1);
	sim_action_free(a);
	sim_world_tick(W, t0 + 100);
	NOW = t0 + 100;
	ck_dump("cms.owner", "NODE1");
	ck_dump("cms.state", "Offline");
	sim_world_tick(W, t0 + 1000);
	NOW = t0 + 1000;
	ck_dump("cms.owner", "NODE1");
	ck_dump("cms.state", "Online");
	json_t *d = sim_world_dump(W, NOW);
	/* down at +1, back at +301, started after cms_start (60 ms): 360 ms of outage */
	ck_assert_int_eq(json_integer_value(json_object_get(cluster0(d), "outage_total_ms")), 360);
	json_decref(d);
}
END_TEST

/* --- rule 11 --- */

START_TEST(rule11_replication_initializing_then_drains)
{
	load(SCN("two-node"), 0.001); /* catch-up 3 min -> 180 ms, backlog 40 logs */
	int n2 = sim_host_find(W, "NODE2"), code;
	struct sim_action *a = sim_exec(W, n2, "shutdown /r /t 0", 0);
	ck_assert_int_eq(sim_action_poll(a, 0, &OUT, &ERR, &code), 1);
	sim_action_free(a);
	NOW = 100;
	sim_world_tick(W, NOW);
	json_t *d = sim_world_dump(W, NOW);
	json_t *r = json_array_get(json_object_get(cluster0(d), "replication"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "ServiceDown");
	json_decref(d);
	NOW = 301 + 90; /* back at 301, halfway through the catch-up */
	sim_world_tick(W, NOW);
	d = sim_world_dump(W, NOW);
	r = json_array_get(json_object_get(cluster0(d), "replication"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "Initializing");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "copy_queue")), 20);
	json_decref(d);
	x("NODE1", EMS "\"Get-StorageGroupCopyStatus -Server E2K7CCR\"");
	ck_has(OUT, "First Storage Group Initializing");
	NOW = 301 + 180;
	sim_world_tick(W, NOW);
	d = sim_world_dump(W, NOW);
	r = json_array_get(json_object_get(cluster0(d), "replication"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "Healthy");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "copy_queue")), 0);
	json_decref(d);
}
END_TEST

/* --- rule 12 --- */

START_TEST(rule12_watermark_resume_and_rerun)
{
	prepare_for_setup("NODE2");
	set("NODE2.service.SysmonLog.state", "RUNNING");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 1);
	ck_dump("NODE2.watermark", "{\"stage\": 6, \"name\": \"Mailbox Server Role\"}");
	x("NODE2", "reg query \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\MailboxRole\"");
	ck_has(OUT, "Watermark\tREG_SZ\t6");
	ck_assert_int_eq(x("NODE2", "net stop SysmonLog"), 0);
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 0);
	ck_has(OUT, "Setup previously failed while performing the action 'BuildToBuildUpgrade'.");
	ck_assert(strstr(OUT.buf, "Copying Exchange Files") == NULL);
	ck_has(OUT, "Mailbox Server Role                 ......................... COMPLETED");
	ck_dump("NODE2.watermark", "null");
	ck_dump("NODE2.binaries_version", "8.1.240.6");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 0);
	ck_has(OUT, "already at this version (8.1.240.6)");
	ck_assert_int_eq(command_count("NODE2", "setup.com /m:upgrade"), 3);
}
END_TEST

/* --- interruptions (sim_action_abort) --- */

/* Poll cmd polls times (each at its due time), then abort right there: the client vanished. */
static void interrupt(const char *host, const char *cmd, int polls)
{
	int code = -1;
	struct sim_action *a = sim_exec(W, sim_host_find(W, host), cmd, NOW);
	for (int i = 0; i < polls; i++) {
		if (i > 0)
			NOW = sim_action_next_ms(a);
		ck_assert_int_eq(sim_action_poll(a, NOW, &OUT, &ERR, &code), 0);
	}
	sim_action_abort(a, NOW);
	sim_action_free(a);
	NOW += 1000;
	sim_world_tick(W, NOW);
}

START_TEST(abort_setup_leaves_watermark_then_resumes)
{
	load(SCN("two-node"), 0.001);
	prepare_for_setup("NODE2");
	interrupt("NODE2", SETUP " /m:upgrade", 7);
	ck_dump("NODE2.binaries_version", "8.0.685.25");
	ck_dump("NODE2.pending_reboot", "false");
	char *wm = dump_str("NODE2.watermark");
	ck_assert_msg(strstr(wm, "\"stage\"") != NULL, "no watermark: %s", wm);
	free(wm);
	x("NODE2", "sc query ClusSvc");
	ck_has(OUT, "RUNNING");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 0);
	ck_has(OUT, "Setup previously failed");
	ck_dump("NODE2.binaries_version", "8.1.240.6");
	ck_dump("NODE2.watermark", "null");
}
END_TEST

START_TEST(abort_upgradecms_leaves_cms_offline_old)
{
	load(SCN("half-done"), 0.001);
	ck_assert_int_eq(x("NODE2", STOP_CMS), 0);
	ck_assert_int_eq(x("NODE2", MOVE_CMS("NODE2")), 0);
	interrupt("NODE2", SETUP " /UpgradeCMS", 4);
	ck_dump("cms.state", "Offline");
	ck_dump("cms.version", "8.0.685.25");
	ck_assert_int_eq(x("NODE2", SETUP " /UpgradeCMS"), 0);
	ck_dump("cms.state", "Online");
	ck_dump("cms.version", "8.1.240.6");
}
END_TEST

START_TEST(abort_move_leaves_cms_offline_on_source)
{
	load(SCN("two-node"), 0.001);
	interrupt("NODE1", MOVE_CMS("NODE2"), 1);
	ck_dump("cms.owner", "NODE1");
	ck_dump("cms.state", "Offline");
	json_t *d = sim_world_dump(W, NOW);
	json_t *o = json_array_get(json_object_get(cluster0(d), "outages"), 0);
	ck_assert(json_is_null(json_object_get(o, "end_ms")));
	json_decref(d);
	interrupt("NODE1", STOP_CMS, 0);
	ck_dump("cms.state", "Offline");
}
END_TEST

/* --- whole runs --- */

START_TEST(correct_manual_sequence)
{
	/* Passive node NODE2 (the Cluster Group is already on NODE1: check holds, step skipped). */
	x("NODE2", "cluster group \"Cluster Group\"");
	ck_has(OUT, "Cluster Group        NODE1");
	node_upgrade("NODE2");
	/* The CMS: the outage. */
	int64_t t_stop = NOW;
	ck_assert_int_eq(x("NODE2", STOP_CMS), 0);
	ck_assert_int_eq(x("NODE2", MOVE_CMS("NODE2")), 0);
	int64_t t_up = NOW;
	ck_assert_int_eq(x("NODE2", SETUP " /UpgradeCMS"), 0);
	ck_dump("cms.state", "Online");
	/* Former active node NODE1. */
	ck_assert_int_eq(x("NODE1", "cluster group \"Cluster Group\" /move:NODE2"), 0);
	node_upgrade("NODE1");
	/* Restore, per member: firewall stopped and disabled again, counters' consumers back. */
	static const char *const members[] = {"NODE1", "NODE2"};
	for (int i = 0; i < 2; i++) {
		int rc = x(members[i], "net stop SharedAccess");
		ck_assert(rc == 0 || rc == 2);
		ck_assert_int_eq(x(members[i], "sc config SharedAccess start= disabled"), 0);
		rc = x(members[i], "net start HealthService");
		ck_assert(rc == 0 || rc == 2);
		rc = x(members[i], "net start SysmonLog");
		ck_assert(rc == 0 || rc == 2);
	}
	json_t *d = sim_world_dump(W, NOW);
	json_t *c = cluster0(d), *cms = json_object_get(c, "cms");
	ck_assert_str_eq(json_string_value(json_object_get(cms, "version")), "8.1.240.6");
	ck_assert_str_eq(json_string_value(json_object_get(cms, "state")), "Online");
	ck_assert_str_eq(json_string_value(json_object_get(cms, "owner")), "NODE2");
	json_t *outs = json_object_get(c, "outages");
	ck_assert_int_eq(json_array_size(outs), 1);
	json_t *o = json_array_get(outs, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "start_ms")), t_stop);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "end_ms")), t_up);
	json_t *r = json_array_get(json_object_get(c, "replication"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "Healthy");
	json_t *hosts = json_object_get(d, "hosts");
	for (size_t i = 1; i < 3; i++) {
		json_t *h = json_array_get(hosts, i);
		ck_assert_str_eq(json_string_value(json_object_get(h, "binaries_version")),
				 "8.1.240.6");
		ck_assert(json_is_false(json_object_get(h, "pending_reboot")));
		json_t *fw = json_object_get(json_object_get(h, "services"), "SharedAccess");
		ck_assert_str_eq(json_string_value(json_object_get(fw, "start")), "DISABLED");
		ck_assert_str_eq(json_string_value(json_object_get(fw, "state")), "STOPPED");
		json_t *sl = json_object_get(json_object_get(h, "services"), "SysmonLog");
		ck_assert_str_eq(json_string_value(json_object_get(sl, "state")), "RUNNING");
		json_t *cmds = json_object_get(h, "commands");
		ck_assert_int_eq(json_integer_value(json_object_get(cmds, "setup.com /m:upgrade")),
				 1);
	}
	json_decref(d);
	ck_assert_int_eq(command_count("NODE2", "setup.com /UpgradeCMS"), 1);
	ck_assert_int_eq(command_count("NODE1", "setup.com /UpgradeCMS"), 0);
	ck_assert_int_eq(command_count("NODE2", "netfx20sp1_x86.exe /q /norestart"), 1);
	ck_assert_int_eq(command_count("NODE1", "netfx20sp1_x86.exe /q /norestart"), 0);
}
END_TEST

START_TEST(trap_sequence_and_way_out)
{
	node_upgrade("NODE2");
	ck_assert_int_eq(x("NODE2", STOP_CMS), 0);
	ck_assert_int_eq(x("NODE2", MOVE_CMS("NODE2")), 0);
	/* /UpgradeCMS skipped: the former active node is upgraded too. */
	ck_assert_int_eq(x("NODE1", "cluster group \"Cluster Group\" /move:NODE2"), 0);
	node_upgrade("NODE1");
	ck_assert_int_eq(x("NODE2", START_CMS), 1);
	ck_dump("cms.state", "Failed");
	ck_assert_int_eq(x("NODE2", SETUP " /UpgradeCMS"), 1);
	ck_has(OUT, "Delete the key and run setup.com /UpgradeCMS again.");
	ck_dump("cms.version", "8.0.685.25");
	ck_assert_int_eq(x("NODE2", DEL_KEY), 0);
	ck_assert_int_eq(x("NODE2", SETUP " /UpgradeCMS"), 0);
	ck_dump("cms.version", "8.1.240.6");
	ck_dump("cms.state", "Online");
	ck_dump("cms.owner", "NODE2");
}
END_TEST

static Suite *sim_rules_suite(void)
{
	Suite *s = suite_create("sim_rules");
	TCase *tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rule1_setup_refuses_on_cms_owner);
	tcase_add_test(tc, rule2_setup_restarts_cluster_service_groups_fail_over);
	tcase_add_test(tc, rule3_windows_sp2_required_dotnet_only_warned);
	tcase_add_test(tc, rule4_perf_counter_consumers_and_firewall);
	tcase_add_test(tc, rule5_binaries_upgraded_reboot_pending_refuses_cms);
	tcase_add_test(tc, rule6_move_target_and_replication_checks);
	tcase_add_test(tc, rule6_threshold_is_a_scenario_setting);
	tcase_add_test(tc, rule7_upgradecms_owner_stopped_upgraded);
	tcase_add_test(tc, rule8_online_only_where_versions_match);
	tcase_add_test(tc, rule9_trap_and_the_key);
	tcase_add_test(tc, rule10_owner_reboot_fails_over);
	tcase_add_test(tc, rule10_no_failover_target_offline_until_owner_returns);
	tcase_add_test(tc, rule11_replication_initializing_then_drains);
	tcase_add_test(tc, rule12_watermark_resume_and_rerun);
	suite_add_tcase(s, tc);
	TCase *ta = tcase_create("interruptions");
	tcase_add_checked_fixture(ta, setup, teardown);
	tcase_add_test(ta, abort_setup_leaves_watermark_then_resumes);
	tcase_add_test(ta, abort_upgradecms_leaves_cms_offline_old);
	tcase_add_test(ta, abort_move_leaves_cms_offline_on_source);
	suite_add_tcase(s, ta);
	TCase *tr = tcase_create("runs");
	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_add_test(tr, correct_manual_sequence);
	tcase_add_test(tr, trap_sequence_and_way_out);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_rules_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
