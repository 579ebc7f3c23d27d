/*
 * check_sim_cmd.c — ccrsim's command interpreter (mock-nodes/world/sim_cmd*.c):
 * every command form the SP1 playbook sends, with the output shapes and exit
 * codes of the real tools, and every fact regex of playbooks/ccr-sp1.yml
 * (copied below, compiled REG_EXTENDED|REG_NEWLINE as the orchestrator
 * does) capturing the right value from that output.  Also the streaming of
 * long commands, faults, sim_world_set and the dump's shape.
 *
 * The regexes are also checked as the orchestrator applies them: the facts
 * of the live playbooks/ccr-sp1.yml through facts_extract() (reduce rules
 * included), so a playbook change that stops matching ccrsim fails here.
 *
 * Worlds load at time scale 0 unless a test says otherwise; the clock moves
 * one second after every command.
 */
#include <check.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "facts.h"
#include "model.h"
#include "sim.h"
#include "util.h"

#define SCN(n) "mock-nodes/scenarios/" n ".yml"
#define EMS                                                                                        \
	"powershell -NonInteractive -PSConsoleFile \"C:\\Program Files\\Microsoft\\Exchange "      \
	"Server\\Bin\\exshell.psc1\" -Command "
#define SETUP  "\"D:\\Exchange2007SP1\\setup.com\""
#define NETKEY "reg query \"HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v2.0.50727\" /v SP"
#define PENDKEY                                                                                    \
	"reg query \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\" /v "              \
	"PendingFileRenameOperations"

/* The capture regexes of playbooks/ccr-sp1.yml, verbatim. */
#define RE_BOOT_ID     "^([0-9]{14})"
#define RE_OS_SP       "^([0-9]+)[[:space:]]*$"
#define RE_NET_SP      "SP[[:space:]]+REG_DWORD[[:space:]]+(0x[0-9a-fA-F]+)"
#define RE_PENDING     "PendingFileRenameOperations"
#define RE_BINARIES    "^([0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+)"
#define RE_VERSION     "Version ([0-9]+)\\.([0-9]+) \\(Build ([0-9]+)\\.([0-9]+)\\)"
#define RE_SVC_STATE   "STATE[[:space:]]+: [0-9][[:space:]]+([A-Z_]+)"
#define RE_GROUP_OWNER "^Cluster Group[[:space:]]+([A-Za-z0-9-]+)[[:space:]]+"
#define RE_CMS_OWNER   "[{ ]([A-Za-z0-9-]+) <Active"
#define RE_CMS_STATE   "^State[[:space:]]*: ([A-Za-z ]+[A-Za-z])"
#define RE_COPY_STATUS                                                                             \
	"^[^ -].*[[:space:]](Healthy|Initializing|Failed|Suspended|Seeding|ServiceDown|Service "   \
	"Down)[[:space:]]+[0-9]+"
#define RE_COPY_QUEUE                                                                              \
	"[[:space:]](Healthy|Initializing|Failed|Suspended|Seeding|ServiceDown|Service "           \
	"Down)[[:space:]]+([0-9]+)[[:space:]]+[0-9]+"
#define RE_BACKUP     "^LastFullBackup[[:space:]]*: (.*[0-9].*)$"
#define RE_START_TYPE "START_TYPE[[:space:]]+: [0-9][[:space:]]+([A-Z_]+)"

static struct sim_world *W;
static int64_t NOW;
static struct sbuf OUT, ERR;

static void load(const char *path, double scale)
{
	char err[512];
	W = sim_world_load(path, scale, err, sizeof(err));
	ck_assert_msg(W != NULL, "%s", err);
	NOW = 0;
}

static void setup(void)
{
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

/* Run a command to completion (failing on a hang); output in OUT / ERR. */
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

static void set_or_fail(const char *path, const char *value)
{
	char err[256];
	ck_assert_msg(sim_world_set(W, path, value, NOW, err, sizeof(err)) == 0, "%s", err);
}

/* Group g of the first match of re in text (REG_NEWLINE), or NULL.  Caller frees. */
static char *cap(const char *re, const char *text, int g)
{
	regex_t r;
	regmatch_t m[8];
	char *res = NULL;
	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE), 0);
	if (regexec(&r, text, 8, m, 0) == 0 && m[g].rm_so >= 0)
		res = xstrndup(text + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
	regfree(&r);
	return res;
}

static int matches(const char *re, const char *text)
{
	char *c = cap(re, text, 0);
	free(c);
	return c != NULL;
}

/* Count matches of re over text, as "reduce: count" does. */
static int count(const char *re, const char *text)
{
	regex_t r;
	regmatch_t m;
	int n = 0, flags = 0;
	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE), 0);
	for (const char *p = text; regexec(&r, p, 1, &m, flags) == 0 && m.rm_eo > 0;
	     p += m.rm_eo, flags = REG_NOTBOL)
		n++;
	regfree(&r);
	return n;
}

#define ck_cap(re, text, g, want)                                                                  \
	do {                                                                                       \
		char *got_ = cap(re, text, g);                                                     \
		ck_assert_msg(got_ != NULL && strcmp(got_, want) == 0, "%s: got %s, want %s", re,  \
			      got_ ? got_ : "(no match)", want);                                   \
		free(got_);                                                                        \
	} while (0)

#define ck_has(sb, s) ck_assert_msg(strstr((sb).buf, s) != NULL, "no \"%s\" in:\n%s", s, (sb).buf)

/* --- sc --- */

START_TEST(sc_query_running_stopped_missing)
{
	ck_assert_int_eq(x("NODE1", "sc query ClusSvc"), 0);
	ck_has(OUT, "SERVICE_NAME: ClusSvc");
	ck_cap(RE_SVC_STATE, OUT.buf, 1, "RUNNING");
	ck_assert(!matches("STOPPED|FAILED 1060", OUT.buf));
	ck_assert_int_eq(x("NODE1", "SC QUERY SharedAccess"), 0);
	ck_cap(RE_SVC_STATE, OUT.buf, 1, "STOPPED");
	ck_assert_int_eq(x("NODE1", "sc query MOM"), 1060);
	ck_has(OUT, "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:");
	ck_has(OUT, "The specified service does not exist as an installed service.");
	ck_assert(matches("STOPPED|FAILED 1060", OUT.buf));
	ck_assert(cap(RE_SVC_STATE, OUT.buf, 1) == NULL);
}
END_TEST

START_TEST(sc_qc_and_config)
{
	ck_assert_int_eq(x("NODE2", "sc qc SharedAccess"), 0);
	ck_has(OUT, "[SC] GetServiceConfig SUCCESS");
	ck_cap(RE_START_TYPE, OUT.buf, 1, "DISABLED");
	ck_has(OUT, "DISPLAY_NAME       : Windows Firewall/Internet Connection Sharing (ICS)");
	ck_assert_int_eq(x("NODE2", "sc config SharedAccess start=demand"), 1639);
	ck_has(OUT, "A space is required between the equal sign and the value.");
	ck_assert_int_eq(x("NODE2", "sc config SharedAccess start= sometimes"), 1639);
	ck_assert_int_eq(x("NODE2", "sc config SharedAccess start= demand"), 0);
	ck_assert_str_eq(OUT.buf, "[SC] ChangeServiceConfig SUCCESS\n");
	x("NODE2", "sc qc SharedAccess");
	ck_cap(RE_START_TYPE, OUT.buf, 1, "DEMAND_START");
	ck_assert_int_eq(x("NODE2", "sc config SharedAccess start= auto"), 0);
	x("NODE2", "sc qc SharedAccess");
	ck_cap(RE_START_TYPE, OUT.buf, 1, "AUTO_START");
	ck_assert_int_eq(x("NODE2", "sc config SharedAccess start= disabled"), 0);
	x("NODE2", "sc qc SharedAccess");
	ck_cap(RE_START_TYPE, OUT.buf, 1, "DISABLED");
	ck_assert_int_eq(x("NODE2", "sc qc FSCController"), 1060);
	ck_has(OUT, "[SC] OpenService FAILED 1060:");
}
END_TEST

START_TEST(sc_start_stop)
{
	ck_assert_int_eq(x("NODE1", "sc start SharedAccess"), 1058);
	ck_has(OUT, "[SC] StartService FAILED 1058:");
	ck_assert_int_eq(x("NODE1", "sc start SysmonLog"), 1056);
	ck_assert_int_eq(x("NODE1", "sc stop SysmonLog"), 0);
	ck_cap(RE_SVC_STATE, OUT.buf, 1, "STOP_PENDING");
	x("NODE1", "sc query SysmonLog");
	ck_cap(RE_SVC_STATE, OUT.buf, 1, "STOPPED");
	ck_assert_int_eq(x("NODE1", "sc stop SysmonLog"), 1062);
	ck_has(OUT, "The service has not been started.");
	ck_assert_int_eq(x("NODE1", "sc start SysmonLog"), 0);
	ck_cap(RE_SVC_STATE, OUT.buf, 1, "START_PENDING");
	x("NODE1", "sc query SysmonLog");
	ck_cap(RE_SVC_STATE, OUT.buf, 1, "RUNNING");
	ck_assert_int_eq(x("NODE1", "sc"), 1639);
}
END_TEST

/* --- net --- */

START_TEST(net_stop_start_messages)
{
	ck_assert_int_eq(x("NODE1", "net stop RemoteRegistry"), 0);
	ck_assert_str_eq(OUT.buf, "The Remote Registry service is stopping.\n"
				  "The Remote Registry service was stopped successfully.\n\n");
	ck_assert_int_eq(x("NODE1", "net stop RemoteRegistry"), 2);
	ck_has(ERR, "The Remote Registry service is not started.");
	ck_has(ERR, "More help is available by typing NET HELPMSG 3521.");
	ck_assert_int_eq(x("NODE1", "net start RemoteRegistry"), 0);
	ck_has(OUT, "The Remote Registry service was started successfully.");
	ck_assert_int_eq(x("NODE1", "NET START RemoteRegistry"), 2);
	ck_has(ERR, "The requested service has already been started.");
	ck_has(ERR, "NET HELPMSG 2182.");
	ck_assert_int_eq(x("NODE1", "net start SharedAccess"), 2);
	ck_has(ERR, "System error 1058 has occurred.");
	ck_has(ERR, "disabled");
	ck_assert_int_eq(x("NODE1", "net stop MOM"), 2);
	ck_has(ERR, "The service name is invalid.");
	ck_has(ERR, "NET HELPMSG 2185.");
	ck_assert_int_eq(x("NODE1", "net stop \"Performance Logs and Alerts\""), 0);
	ck_has(OUT, "The Performance Logs and Alerts service was stopped successfully.");
	ck_assert_int_eq(x("NODE1", "net start"), 0);
	ck_has(OUT, "These Windows services are started:");
	ck_assert_int_eq(x("NODE1", "net frob"), 1);
}
END_TEST

START_TEST(net_stop_streams_over_its_duration)
{
	sim_world_free(W);
	load(SCN("two-node"), 1.0);
	int code = 0;
	struct sim_action *a = sim_exec(W, sim_host_find(W, "NODE1"), "net stop SysmonLog", 0);
	ck_assert_int_eq(sim_action_poll(a, 0, &OUT, &ERR, &code), 0);
	ck_assert_str_eq(OUT.buf, "The Performance Logs and Alerts service is stopping");
	ck_assert_int_eq(sim_action_next_ms(a), 2000);
	ck_assert_int_eq(sim_action_poll(a, 1999, &OUT, &ERR, &code), 0);
	ck_assert_int_eq(sim_action_poll(a, 2000, &OUT, &ERR, &code), 1);
	ck_assert_int_eq(code, 0);
	ck_has(OUT, "was stopped successfully");
	sim_action_free(a);
}
END_TEST

/* --- reg, wmic --- */

START_TEST(reg_query_net_sp_present_absent)
{
	ck_assert_int_eq(x("NODE1", NETKEY), 0);
	ck_has(OUT, "! REG.EXE VERSION 3.0");
	ck_has(OUT,
	       "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v2.0.50727");
	ck_cap(RE_NET_SP, OUT.buf, 1, "0x1");
	ck_assert_int_eq(x("NODE2", NETKEY), 1);
	ck_has(ERR, "Error: The system was unable to find the specified registry key or value.");
	ck_assert(cap(RE_NET_SP, OUT.buf, 1) == NULL);
	char err[128];
	ck_assert_int_eq(sim_world_set(W, "NODE2.net_sp", "0", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(x("NODE2", NETKEY), 0);
	ck_cap(RE_NET_SP, OUT.buf, 1, "0x0");
}
END_TEST

START_TEST(reg_query_pending_reboot)
{
	ck_assert_int_eq(x("NODE2", PENDKEY), 1);
	ck_assert_int_eq(count(RE_PENDING, OUT.buf) + count(RE_PENDING, ERR.buf), 0);
	char err[128];
	ck_assert_int_eq(sim_world_set(W, "NODE2.pending_reboot", "1", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(x("NODE2", PENDKEY), 0);
	ck_assert_int_eq(count(RE_PENDING, OUT.buf), 1);
	ck_has(OUT, "REG_MULTI_SZ");
}
END_TEST

START_TEST(reg_query_key_and_delete)
{
	ck_assert_int_eq(x("NODE1", "reg query \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\""), 0);
	ck_has(OUT, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\n");
	ck_has(OUT, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\MailboxRole\n");
	ck_assert_int_eq(x("NODE1", "reg query HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS"), 0);
	ck_has(OUT, "ConfiguredVersion\tREG_SZ\t8.0.685.25");
	ck_assert_int_eq(
	    x("NODE1", "reg delete \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\""), 1);
	ck_has(OUT, "(Yes/No)?");
	ck_assert_int_eq(
	    x("NODE1", "reg delete \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\" /f"), 0);
	ck_has(OUT, "The operation completed successfully.");
	ck_assert_int_eq(
	    x("NODE2", "reg delete \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS\" /f"), 1);
	ck_has(ERR, "unable to find");
	ck_assert_int_eq(x("NODE1", "reg delete \"HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\" /f"),
			 1);
	ck_has(ERR, "Access is denied.");
	ck_assert_int_eq(x("NODE1", "reg frob HKLM\\SOFTWARE"), 1);
	ck_has(ERR, "Invalid syntax");
}
END_TEST

START_TEST(wmic_os_get)
{
	ck_assert_int_eq(x("NODE1", "wmic os get LastBootUpTime"), 0);
	ck_assert(str_startswith(OUT.buf, "LastBootUpTime"));
	ck_cap(RE_BOOT_ID, OUT.buf, 1, "20261101070000");
	ck_assert_int_eq(x("NODE1", "wmic os get ServicePackMajorVersion"), 0);
	ck_cap(RE_OS_SP, OUT.buf, 1, "2");
	char err[128];
	ck_assert_int_eq(sim_world_set(W, "NODE1.os_sp", "1", NOW, err, sizeof(err)), 0);
	x("NODE1", "wmic os get ServicePackMajorVersion");
	ck_cap(RE_OS_SP, OUT.buf, 1, "1");
	ck_assert_int_eq(x("NODE1", "wmic os get Frobnication"), 1);
	ck_has(ERR, "Invalid query");
}
END_TEST

/* --- cluster.exe --- */

START_TEST(cluster_group_list_and_move)
{
	ck_assert_int_eq(x("NODE2", "cluster group"), 0);
	ck_has(OUT, "Listing status for all available resource groups:");
	ck_has(OUT, "Group                Node            Status\n"
		    "-------------------- --------------- ------\n"
		    "Cluster Group        NODE1           Online\n"
		    "E2K7CCR              NODE1           Online\n");
	ck_assert_int_eq(x("NODE2", "cluster group \"Cluster Group\""), 0);
	ck_has(OUT, "Listing status for resource group 'Cluster Group':");
	ck_cap(RE_GROUP_OWNER, OUT.buf, 1, "NODE1");
	ck_assert_int_eq(x("NODE2", "cluster group \"Cluster Group\" /move:NODE2"), 0);
	ck_has(OUT, "Moving resource group 'Cluster Group'...");
	ck_cap(RE_GROUP_OWNER, OUT.buf, 1, "NODE2");
	x("NODE1", "cluster group \"Cluster Group\"");
	ck_cap(RE_GROUP_OWNER, OUT.buf, 1, "NODE2");
	ck_assert_int_eq(x("NODE1", "cluster group \"Cluster Group\" /move:NODE9"), 5042);
	ck_has(ERR, "System error 5042 has occurred");
	ck_assert_int_eq(x("NODE1", "cluster group \"No Such Group\""), 5013);
	ck_assert_int_eq(x("HUBCAS", "cluster group"), 1060);
	ck_assert_int_eq(x("NODE1", "cluster resource"), 87);
}
END_TEST

/* cluster.exe moves the CMS group without Exchange's checks: allowed but dangerous. */
START_TEST(cluster_exe_moves_cms_group_unchecked)
{
	char err[128];
	ck_assert_int_eq(sim_world_set(W, "CLUS1.copy_queue", "500", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(x("NODE1", "cluster group E2K7CCR /move:NODE2"), 0);
	ck_has(OUT, "E2K7CCR              NODE2           Online");
	x("NODE1", EMS "\"Get-ClusteredMailboxServerStatus -Identity E2K7CCR\"");
	ck_cap(RE_CMS_OWNER, OUT.buf, 1, "NODE2");
	ck_assert_int_eq(
	    sim_world_set(W, "NODE1.binaries_version", "8.1.240.6", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(x("NODE2", "cluster group E2K7CCR /move"), 0);
	ck_has(OUT, "E2K7CCR              NODE1           Failed");
}
END_TEST

/* --- PowerShell --- */

START_TEST(ems_get_exchange_server)
{
	ck_assert_int_eq(
	    x("NODE1", EMS "\"Get-ExchangeServer E2K7CCR | Format-List AdminDisplayVersion\""), 0);
	ck_assert_str_eq(OUT.buf, "\nAdminDisplayVersion : Version 8.0 (Build 685.25)\n\n\n");
	ck_cap(RE_VERSION, OUT.buf, 1, "8");
	ck_cap(RE_VERSION, OUT.buf, 4, "25");
	ck_assert_int_eq(
	    x("HUBCAS", EMS "\"Get-ExchangeServer HUBCAS | Format-List AdminDisplayVersion\""), 0);
	ck_assert_str_eq(OUT.buf, "\nAdminDisplayVersion : Version 8.1 (Build 240.6)\n\n\n");
	ck_assert_int_eq(
	    x("NODE1", EMS "\"Get-ExchangeServer NODE1 | Format-List AdminDisplayVersion\""), 1);
	ck_assert(str_startswith(ERR.buf,
				 "Get-ExchangeServer : The operation could not be performed "
				 "because object 'NODE1' could not be found"));
	ck_has(ERR, "At line:1 char:19\n+ Get-ExchangeServer  <<<< NODE1 | Format-List");
	ck_assert_str_eq(OUT.buf, "");
	ck_assert_int_eq(x("NODE1", "Get-ExchangeServer"), 0);
	ck_has(OUT, "Name    Site");
	ck_has(OUT, "E2K7CCR contoso.com/Configuration/Sites/Default-First-Site-Name Mailbox");
	ck_assert_int_eq(x("NODE1", "powershell -Command \"Get-ExchangeServer -Id HUBCAS | fl\""),
			 0);
	ck_has(OUT, "ServerRole          : ClientAccess, HubTransport\n");
}
END_TEST

START_TEST(ems_file_version)
{
	ck_assert_int_eq(
	    x("NODE2", EMS "\"(Get-Command ExSetup.exe).FileVersionInfo.FileVersion\""), 0);
	ck_assert_str_eq(OUT.buf, "08.00.0685.025\n");
	ck_cap(RE_BINARIES, OUT.buf, 1, "08.00.0685.025");
	char err[128];
	ck_assert_int_eq(
	    sim_world_set(W, "NODE2.binaries_version", "8.1.240.6", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(x("NODE2", "(Get-Command ExSetup.exe).FileVersionInfo.FileVersion"), 0);
	ck_cap(RE_BINARIES, OUT.buf, 1, "08.01.0240.006");
}
END_TEST

START_TEST(ems_cms_status_owner_marker_even_offline)
{
	ck_assert_int_eq(x("NODE2", EMS "\"Get-ClusteredMailboxServerStatus -Identity E2K7CCR\""),
			 0);
	ck_has(OUT, "\nIdentity                        : E2K7CCR\n");
	ck_has(OUT, "ClusteredMailboxServerName      : E2K7CCR.contoso.com\n");
	ck_has(OUT, "OperationalMachines             : {NODE1 <Active, Quorum Owner>, NODE2}\n");
	ck_has(OUT, "FailedResources                 : {}\n");
	ck_cap(RE_CMS_OWNER, OUT.buf, 1, "NODE1");
	ck_cap(RE_CMS_STATE, OUT.buf, 1, "Online");
	ck_assert_int_eq(x("NODE2", EMS "\"Stop-ClusteredMailboxServer -Identity E2K7CCR "
					"-StopReason 'SP1 upgrade' -Confirm:$false\""),
			 0);
	ck_assert_int_eq(x("NODE2", EMS "\"Get-ClusteredMailboxServerStatus -Identity E2K7CCR\""),
			 0);
	ck_cap(RE_CMS_OWNER, OUT.buf, 1, "NODE1");
	ck_cap(RE_CMS_STATE, OUT.buf, 1, "Offline");
	ck_assert_int_eq(x("NODE2",
			   EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR "
			       "-TargetMachine NODE2 -MoveComment 'SP1 upgrade' -Confirm:$false\""),
			 0);
	x("NODE1", EMS "\"Get-ClusteredMailboxServerStatus -Identity E2K7CCR\"");
	ck_has(OUT, "{NODE1 <Quorum Owner>, NODE2 <Active>}");
	ck_cap(RE_CMS_OWNER, OUT.buf, 1, "NODE2");
	ck_cap(RE_CMS_STATE, OUT.buf, 1, "Offline");
	ck_assert_int_eq(x("NODE1", EMS "\"Get-ClusteredMailboxServerStatus -Identity NOPE\""), 1);
}
END_TEST

START_TEST(ems_stop_start_move_shapes)
{
	ck_assert_int_eq(x("NODE1", EMS "\"Stop-ClusteredMailboxServer -Identity E2K7CCR\""), 1);
	ck_has(ERR, "missing mandatory parameters: StopReason.");
	ck_assert_int_eq(
	    x("NODE1", EMS "\"Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason x\""), 1);
	ck_has(ERR, "NonInteractive mode");
	ck_assert_int_eq(x("NODE1", "Stop-ClusteredMailboxServer E2K7CCR -StopReason 'x y'"), 0);
	ck_assert_int_eq(x("NODE1", "Stop-ClusteredMailboxServer E2K7CCR -StopReason again"), 0);
	ck_has(OUT, "WARNING: The clustered mailbox server 'E2K7CCR' is already offline.");
	ck_assert_int_eq(x("NODE1", EMS "\"Start-ClusteredMailboxServer -Identity E2K7CCR\""), 0);
	x("NODE1", "Get-ClusteredMailboxServerStatus E2K7CCR");
	ck_cap(RE_CMS_STATE, OUT.buf, 1, "Online");
	ck_assert_int_eq(x("NODE1", EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR "
					"-TargetMachine NODE1 -MoveComment x -Confirm:$false\""),
			 1);
	ck_has(ERR, "is already running on 'NODE1'");
	ck_assert_int_eq(x("NODE1", EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR "
					"-TargetMachine HUBCAS -MoveComment x -Confirm:$false\""),
			 1);
	ck_has(ERR, "not a possible owner");
	ck_assert_int_eq(x("NODE1", EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR "
					"-TargetMachine NODE2 -Confirm:$false\""),
			 1);
	ck_has(ERR, "MoveComment");
	ck_assert_int_eq(x("NODE1",
			   EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR "
			       "-TargetMachine NODE2 -MoveComment 'online move' -Confirm:$false\""),
			 0);
	x("NODE1", "Get-ClusteredMailboxServerStatus E2K7CCR");
	ck_cap(RE_CMS_OWNER, OUT.buf, 1, "NODE2");
	ck_cap(RE_CMS_STATE, OUT.buf, 1, "Online");
	ck_assert_int_eq(x("NODE1", "Frob-Nicate -Now"), 1);
	ck_has(ERR, "The term 'Frob-Nicate' is not recognized as a cmdlet");
	ck_assert_int_eq(x("NODE1", "Get-ExchangeServer -Bogus 1"), 1);
	ck_has(ERR, "A parameter cannot be found that matches parameter name 'Bogus'.");
}
END_TEST

START_TEST(ems_copy_status_and_backup)
{
	ck_assert_int_eq(x("NODE1", EMS "\"Get-StorageGroupCopyStatus -Server E2K7CCR\""), 0);
	ck_has(OUT, "Name                SummaryCopyStatus CopyQueueLength ReplayQueueLength "
		    "LastInspectedLogTime\n"
		    "----                ----------------- --------------- ----------------- "
		    "--------------------\n"
		    "First Storage Group Healthy           0               0                 ");
	ck_cap(RE_COPY_STATUS, OUT.buf, 1, "Healthy");
	ck_cap(RE_COPY_QUEUE, OUT.buf, 2, "0");
	char err[128];
	ck_assert_int_eq(sim_world_set(W, "CLUS1.copy_queue", "250", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    sim_world_set(W, "CLUS1.copy_status", "Initializing", NOW, err, sizeof(err)), 0);
	x("NODE1", EMS "\"Get-StorageGroupCopyStatus -Server E2K7CCR\"");
	ck_cap(RE_COPY_STATUS, OUT.buf, 1, "Initializing");
	ck_cap(RE_COPY_QUEUE, OUT.buf, 2, "250");
	ck_assert_int_eq(x("NODE1", EMS "\"Get-MailboxDatabase -Server E2K7CCR -Status | "
					"Format-List Name,LastFullBackup\""),
			 0);
	ck_assert_str_eq(OUT.buf, "\nName           : Mailbox Database\n"
				  "LastFullBackup : 11/20/2026 11:00:12 PM\n\n\n");
	ck_cap(RE_BACKUP, OUT.buf, 1, "11/20/2026 11:00:12 PM");
	x("NODE1", "Get-MailboxDatabase -Server E2K7CCR | fl Name, LastFullBackup");
	ck_assert(cap(RE_BACKUP, OUT.buf, 1) == NULL);
	ck_assert_int_eq(x("NODE1", "Get-StorageGroupCopyStatus -Server NODE1"), 1);
}
END_TEST

START_TEST(copy_status_worst_and_queue_max_over_groups)
{
	sim_world_free(W);
	load(SCN("replication-lagging"), 1.0);
	x("NODE1", EMS "\"Get-StorageGroupCopyStatus -Server E2K7CCR\"");
	ck_assert_int_eq(count(RE_COPY_STATUS, OUT.buf), 2);
	ck_has(OUT, "First Storage Group  Healthy           250");
	ck_has(OUT, "Second Storage Group Initializing      40");
	ck_cap(RE_COPY_QUEUE, OUT.buf, 2, "250");
}
END_TEST

/* --- setup, installers, shutdown, unknown --- */

START_TEST(setup_forms)
{
	ck_assert_int_eq(x("NODE2", "\"D:\\Exchange2007SP1\\setup.exe\" /m:upgrade"), 1);
	ck_has(ERR, "Setup.exe cannot be used on a node of a cluster");
	ck_assert_int_eq(x("NODE2", SETUP " /frob"), 1);
	ck_has(OUT, "Usage: setup.com");
	ck_assert_int_eq(x("HUBCAS", SETUP " /mode:Upgrade"), 0);
	ck_has(OUT, "already at this version (8.1.240.6)");
	x("NODE2", "net stop SysmonLog");
	x("NODE2", "net stop HealthService");
	x("NODE2", "sc config SharedAccess start= demand");
	x("NODE2", "net start SharedAccess");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 0);
	ck_assert(str_startswith(OUT.buf,
				 "\nWelcome to Microsoft Exchange Server 2007 Unattended Setup\n"));
	ck_has(OUT, "Preparing Exchange Setup\n");
	ck_has(OUT, "    The following server roles will be upgraded\n    Mailbox Role\n"
		    "    Management Tools\n");
	ck_has(OUT, "Performing Microsoft Exchange Server Prerequisite Check\n");
	ck_has(OUT,
	       "    Mailbox Role Checks                 ......................... COMPLETED\n");
	ck_has(OUT, "Microsoft .NET Framework 2.0 Service Pack 1 is not installed.");
	ck_has(OUT,
	       "    Mailbox Server Role                 ......................... COMPLETED\n");
	ck_has(OUT, "The Microsoft Exchange Server setup operation completed successfully.\n");
	ck_assert(strstr(OUT.buf, "FAILED") == NULL);
}
END_TEST

START_TEST(setup_streams_stage_by_stage)
{
	sim_world_free(W);
	load(SCN("two-node"), 0.001); /* setup: 30 min -> 1800 ms */
	x("NODE2", "net stop SysmonLog");
	x("NODE2", "net stop HealthService");
	x("NODE2", "sc config SharedAccess start= demand");
	x("NODE2", "net start SharedAccess");
	int code = -1, polls = 0;
	int64_t t0 = NOW, t = NOW;
	struct sim_action *a = sim_exec(W, sim_host_find(W, "NODE2"), SETUP " /m:upgrade", t0);
	ck_assert_int_eq(sim_action_poll(a, t, &OUT, &ERR, &code), 0);
	ck_has(OUT, "Welcome to Microsoft Exchange Server 2007 Unattended Setup");
	ck_assert(strstr(OUT.buf, "Prerequisite") == NULL);
	while (!sim_action_poll(a, t, &OUT, &ERR, &code)) {
		t = sim_action_next_ms(a);
		polls++;
		if (t - t0 < 1700)
			ck_assert(strstr(OUT.buf, "completed successfully") == NULL);
	}
	ck_assert_int_eq(code, 0);
	ck_assert_int_ge(polls, 12);
	ck_assert_int_ge(t - t0, 1750);
	ck_assert_int_le(t - t0, 1850);
	sim_action_free(a);
}
END_TEST

START_TEST(dotnet_installer)
{
	ck_assert_int_eq(x("NODE2", "\"D:\\Prereqs\\NetFx20SP1_x86.exe\" /q /norestart"), 3010);
	ck_assert_str_eq(OUT.buf, "");
	x("NODE2", NETKEY);
	ck_cap(RE_NET_SP, OUT.buf, 1, "0x1");
	x("NODE2", PENDKEY);
	ck_assert_int_eq(count(RE_PENDING, OUT.buf), 1);
	ck_assert_int_eq(x("NODE1", "\"D:\\Prereqs\\NetFx20SP1_x86.exe\" /q /norestart"), 0);
}
END_TEST

/* A host whose .NET install needs no restart: exit 0, nothing pending, no reboot. */
START_TEST(dotnet_installer_without_restart)
{
	int n2 = sim_host_find(W, "NODE2");
	set_or_fail("NODE2.dotnet_restart", "false");
	ck_assert_int_eq(x("NODE2", "\"D:\\Prereqs\\NetFx20SP1_x86.exe\" /q"), 0);
	x("NODE2", NETKEY);
	ck_cap(RE_NET_SP, OUT.buf, 1, "0x1");
	x("NODE2", PENDKEY);
	ck_assert_int_eq(count(RE_PENDING, OUT.buf), 0);
	NOW += 3600000;
	sim_world_tick(W, NOW);
	ck_assert_int_eq(sim_host_boot_epoch(W, n2), 0);
	json_t *d = sim_world_dump(W, NOW);
	json_t *h = json_array_get(json_object_get(d, "hosts"), (size_t)n2);
	ck_assert(json_is_false(json_object_get(h, "dotnet_restart")));
	ck_assert_int_eq(json_integer_value(json_object_get(h, "max_sessions")), 10);
	json_decref(d);
}
END_TEST

START_TEST(shutdown_reboots_with_new_boot_id)
{
	int n2 = sim_host_find(W, "NODE2");
	x("NODE2", "wmic os get LastBootUpTime");
	char *before = cap(RE_BOOT_ID, OUT.buf, 1);
	ck_assert_int_eq(sim_host_boot_epoch(W, n2), 0);
	int code = -1;
	struct sim_action *a = sim_exec(W, n2, "shutdown /r /t 0", NOW);
	ck_assert_int_eq(sim_action_poll(a, NOW, &OUT, &ERR, &code), 1);
	ck_assert_int_eq(code, 0);
	sim_action_free(a);
	ck_assert_int_eq(sim_host_power(W, n2, NOW), SIM_UP);
	ck_assert_int_eq(sim_world_next_event(W), NOW + 1);
	sim_world_tick(W, NOW + 1);
	ck_assert_int_eq(sim_host_power(W, n2, NOW + 1), SIM_DOWN);
	sim_world_tick(W, NOW + 2);
	ck_assert_int_eq(sim_host_power(W, n2, NOW + 2), SIM_UP);
	ck_assert_int_eq(sim_host_boot_epoch(W, n2), 1);
	NOW += 2;
	x("NODE2", "wmic os get LastBootUpTime");
	char *after = cap(RE_BOOT_ID, OUT.buf, 1);
	ck_assert_str_ne(before, after);
	ck_assert(str_startswith(after, "202611211020"));
	free(before);
	free(after);
	ck_assert_int_eq(x("NODE2", "shutdown /r /t 0"), 0);
	ck_assert_int_eq(x("NODE2", "shutdown"), 1);
}
END_TEST

START_TEST(unknown_commands)
{
	ck_assert_int_eq(x("NODE1", "frobnicate /now"), 9009);
	ck_assert_str_eq(ERR.buf, "'frobnicate' is not recognized as an internal or external "
				  "command,\noperable program or batch file.\n");
	ck_assert_int_eq(x("NODE1", "ls -l"), 9009);
	ck_assert_int_eq(x("NODE1", ""), 0);
	ck_assert_int_eq(x("NODE1", "cmd /c sc query ClusSvc"), 0);
	ck_has(OUT, "SERVICE_NAME: ClusSvc");
}
END_TEST

START_TEST(commands_counted_normalised)
{
	x("NODE1", "SC query ClusSvc");
	x("NODE1", "sc query ClusSvc");
	x("NODE1", "cluster group \"Cluster Group\" /move:NODE2");
	x("NODE2", "\"D:\\Exchange2007SP1\\setup.com\" /m:upgrade");
	x("NODE2", EMS "\"Get-ExchangeServer E2K7CCR | Format-List AdminDisplayVersion\"");
	x("NODE2", "Get-ExchangeServer E2K7CCR | Format-List AdminDisplayVersion");
	json_t *d = sim_world_dump(W, NOW);
	json_t *h1 = json_array_get(json_object_get(d, "hosts"), 1);
	json_t *h2 = json_array_get(json_object_get(d, "hosts"), 2);
	json_t *c1 = json_object_get(h1, "commands"), *c2 = json_object_get(h2, "commands");
	ck_assert_int_eq(json_integer_value(json_object_get(c1, "sc query ClusSvc")), 2);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(c1, "cluster group \"Cluster Group\" /move:NODE2")),
	    1);
	ck_assert_int_eq(json_integer_value(json_object_get(c2, "setup.com /m:upgrade")), 1);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
		c2, "powershell Get-ExchangeServer E2K7CCR | Format-List AdminDisplayVersion")),
	    2);
	json_decref(d);
}
END_TEST

/* --- faults --- */

static void fault(const char *json)
{
	char err[256];
	json_error_t je;
	json_t *f = json_loads(json, 0, &je);
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(sim_fault_add(W, f, err, sizeof(err)) == 0, "%s", err);
	json_decref(f);
}

START_TEST(fault_fail_nth_count)
{
	fault("{\"host\":\"NODE1\",\"match\":\"sc query SysmonLog\",\"kind\":\"fail\",\"exit\":5,"
	      "\"message\":\"[SC] OpenService FAILED 5:  Access is denied.\",\"nth\":2}");
	ck_assert_int_eq(x("NODE1", "sc query SysmonLog"), 0);
	ck_assert_int_eq(x("NODE1", "sc query SysmonLog"), 5);
	ck_assert_str_eq(ERR.buf, "[SC] OpenService FAILED 5:  Access is denied.\n");
	ck_assert_str_eq(OUT.buf, "");
	ck_assert_int_eq(x("NODE1", "sc query SysmonLog"), 0);
	ck_assert_int_eq(x("NODE2", "sc query SysmonLog"), 0);
	sim_fault_clear(W, NULL);
	fault("{\"host\":\"*\",\"command\":\"setup\\\\.com.*/"
	      "m:upgrade\",\"kind\":\"fail\",\"count\":1}");
	ck_assert_int_eq(x("NODE2", SETUP " /m:upgrade"), 1);
	ck_assert_int_eq(x("NODE1", SETUP " /m:upgrade"), 1);
	ck_has(OUT, "it owns the clustered mailbox server 'E2K7CCR'");
}
END_TEST

START_TEST(fault_hang_drop_slow)
{
	int code;
	fault("{\"host\":\"NODE1\",\"match\":\"W32Time\",\"kind\":\"hang\"}");
	struct sim_action *a = sim_exec(W, sim_host_find(W, "NODE1"), "sc query W32Time", 0);
	ck_assert_int_eq(sim_action_poll(a, 100000, &OUT, &ERR, &code), 0);
	ck_assert_int_eq(sim_action_next_ms(a), INT64_MAX);
	ck_assert_int_eq(OUT.len, 0);
	sim_action_abort(a, 100000);
	sim_action_free(a);
	sim_fault_clear(W, "NODE1");
	fault("{\"host\":\"NODE1\",\"match\":\"SysmonLog\",\"kind\":\"drop\",\"after_bytes\":40}");
	a = sim_exec(W, sim_host_find(W, "NODE1"), "sc query SysmonLog", 0);
	ck_assert_int_eq(sim_action_drop_after(a), 40);
	sim_action_free(a);
	a = sim_exec(W, sim_host_find(W, "NODE2"), "sc query SysmonLog", 0);
	ck_assert_int_eq(sim_action_drop_after(a), -1);
	sim_action_free(a);
	fault("{\"host\":\"NODE2\",\"match\":\"SysmonLog\",\"kind\":\"slow\",\"delay_ms\":1500}");
	a = sim_exec(W, sim_host_find(W, "NODE2"), "net stop SysmonLog", 0);
	ck_assert_int_eq(sim_action_slow_ms(a), 1500);
	ck_assert_int_eq(sim_action_next_ms(a), 1500);
	ck_assert_int_eq(sim_action_poll(a, 1499, &OUT, &ERR, &code), 0);
	ck_assert_int_eq(OUT.len, 0);
	ck_assert_int_eq(sim_action_poll(a, 1500, &OUT, &ERR, &code), 0);
	ck_has(OUT, "is stopping");
	ck_assert_int_eq(sim_action_next_ms(a), 3000);
	ck_assert_int_eq(sim_action_poll(a, 3000, &OUT, &ERR, &code), 1);
	sim_action_free(a);
}
END_TEST

START_TEST(fault_no_return_and_new_hostkey)
{
	int hub = sim_host_find(W, "HUBCAS");
	fault("{\"host\":\"HUBCAS\",\"kind\":\"no-return\"}");
	x("HUBCAS", "shutdown /r /t 0");
	sim_world_tick(W, NOW + 100000);
	ck_assert_int_eq(sim_host_power(W, hub, NOW + 100000), SIM_DOWN);
	ck_assert_int_eq(sim_world_next_event(W), INT64_MAX);
	sim_fault_clear(W, "HUBCAS");
	sim_world_tick(W, NOW + 100001);
	ck_assert_int_eq(sim_host_power(W, hub, NOW + 100001), SIM_UP);
	ck_assert_int_eq(sim_host_boot_epoch(W, hub), 1);
	NOW += 200000;
	fault("{\"host\":\"HUBCAS\",\"kind\":\"new-hostkey\",\"count\":1}");
	ck_assert_int_eq(sim_host_take_new_key(W, hub), 0);
	x("HUBCAS", "shutdown /r /t 0");
	sim_world_tick(W, NOW + 10);
	ck_assert_int_eq(sim_host_take_new_key(W, hub), 1);
	ck_assert_int_eq(sim_host_take_new_key(W, hub), 0);
}
END_TEST

START_TEST(fault_add_errors)
{
	const char *bad[] = {
	    "[1]",
	    "{\"host\":\"NODE1\",\"kind\":\"explode\"}",
	    "{\"host\":\"NOPE\",\"kind\":\"fail\"}",
	    "{\"kind\":\"fail\"}",
	    "{\"host\":\"NODE1\",\"kind\":\"fail\",\"exit\":\"x\"}",
	    "{\"host\":\"NODE1\",\"kind\":\"fail\",\"bogus\":1}",
	    "{\"host\":\"NODE1\",\"kind\":\"fail\",\"match\":\"a\",\"command\":\"b\"}",
	};
	char err[256];
	for (size_t i = 0; i < CCR_ARRAY_LEN(bad); i++) {
		json_t *f = json_loads(bad[i], 0, NULL);
		err[0] = '\0';
		ck_assert_int_eq(sim_fault_add(W, f, err, sizeof(err)), -1);
		ck_assert_msg(str_startswith(err, "fault:"), "%s", err);
		json_decref(f);
	}
}
END_TEST

/* --- sim_world_set and the dump --- */

START_TEST(world_set_paths)
{
	char err[256];
	const char *ok[][2] = {
	    {"NODE2.pending_reboot", "1"},
	    {"NODE2.binaries_version", "8.1.240.6"},
	    {"NODE2.net_sp", "none"},
	    {"NODE2.os_sp", "1"},
	    {"NODE2.service.SysmonLog.state", "STOPPED"},
	    {"NODE2.service.SharedAccess.start", "DEMAND_START"},
	    {"NODE2.service.NewSvc.state", "RUNNING"},
	    {"CLUS1.cms_owner", "NODE2"},
	    {"CLUS1.cms_state", "Offline"},
	    {"CLUS1.copy_queue", "40"},
	    {"CLUS1.copy_status", "Initializing"},
	    {"CLUS1.cluster_group_owner", "NODE2"},
	    {"CLUS1.cms_version", "8.1.240.6"},
	    {"CLUS1.cms_key", "false"},
	    {"HUBCAS.power", "down"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(ok); i++)
		ck_assert_msg(sim_world_set(W, ok[i][0], ok[i][1], NOW, err, sizeof(err)) == 0,
			      "%s: %s", ok[i][0], err);
	const char *bad[][2] = {
	    {"NODE2.pending_reboot", "maybe"},
	    {"NODE2.binaries_version", "eight"},
	    {"NODE2.service.X.colour", "red"},
	    {"NODE2.frob", "1"},
	    {"CLUS1.cms_owner", "HUBCAS"},
	    {"CLUS1.cms_state", "Sleepy"},
	    {"NOPE.x", "1"},
	    {"nodot", "1"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(bad); i++)
		ck_assert_int_eq(sim_world_set(W, bad[i][0], bad[i][1], NOW, err, sizeof(err)), -1);
	json_t *d = sim_world_dump(W, NOW);
	json_t *c = json_array_get(json_object_get(d, "clusters"), 0);
	json_t *cms = json_object_get(c, "cms");
	ck_assert_str_eq(json_string_value(json_object_get(cms, "owner")), "NODE2");
	ck_assert_str_eq(json_string_value(json_object_get(cms, "state")), "Offline");
	ck_assert_int_eq(json_array_size(json_object_get(c, "outages")), 1);
	json_t *n2 = json_array_get(json_object_get(d, "hosts"), 2);
	ck_assert(json_is_null(json_object_get(n2, "net_sp")));
	ck_assert(json_is_true(json_object_get(n2, "pending_reboot")));
	json_t *sv = json_object_get(json_object_get(n2, "services"), "SharedAccess");
	ck_assert_str_eq(json_string_value(json_object_get(sv, "start")), "DEMAND_START");
	json_t *hub = json_array_get(json_object_get(d, "hosts"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(hub, "power")), "down");
	json_decref(d);
}
END_TEST

START_TEST(dump_shape)
{
	json_t *d = sim_world_dump(W, NOW);
	const char *top[] = {"now_ms", "time_scale", "clusters", "hosts", "faults"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(top); i++)
		ck_assert_ptr_nonnull(json_object_get(d, top[i]));
	json_t *c = json_array_get(json_object_get(d, "clusters"), 0);
	const char *ckeys[] = {"name",
			       "members",
			       "hub_cas",
			       "cms",
			       "cluster_group_owner",
			       "replication",
			       "last_full_backup",
			       "outages",
			       "outage_total_ms"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(ckeys); i++)
		ck_assert_msg(json_object_get(c, ckeys[i]) != NULL, "cluster.%s", ckeys[i]);
	ck_assert_str_eq(json_string_value(json_object_get(c, "last_full_backup")),
			 "2026-11-20T23:00:12Z");
	json_t *h = json_array_get(json_object_get(d, "hosts"), 1);
	const char *hkeys[] = {"name",		 "address",    "port",	   "role",
			       "power",		 "boot_epoch", "boot_id",  "binaries_version",
			       "server_version", "os_sp",      "net_sp",   "pending_reboot",
			       "services",	 "commands",   "watermark"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(hkeys); i++)
		ck_assert_msg(json_object_get(h, hkeys[i]) != NULL, "host.%s", hkeys[i]);
	ck_assert_str_eq(json_string_value(json_object_get(h, "boot_id")), "20261101070000");
	ck_assert_str_eq(json_string_value(json_object_get(h, "address")), "127.0.0.1");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "port")), 22002);
	json_decref(d);
}
END_TEST

/* --- the live playbook's facts, extracted by the orchestrator's own code --- */

static struct playbook *PB;

static void pb_setup(void)
{
	struct diag d;
	setup();
	diag_init(&d);
	PB = playbook_load("playbooks/ccr-sp1.yml", &d);
	ck_assert_msg(PB != NULL, "%s", d.n > 0 ? d.v[0].msg : "?");
	diag_release(&d);
}

static void pb_teardown(void)
{
	playbook_free(PB);
	teardown();
}

/* Run cmd on host and extract fact name from stdout+stderr; compare with want. */
static void ck_fact(const char *name, const char *host, const char *cmd, const char *want)
{
	char err[512];
	const struct fact_def *def = playbook_fact(PB, name);
	ck_assert_msg(def != NULL, "no fact %s in the playbook", name);
	int code = x(host, "%s", cmd);
	char *text = xasprintf("%s%s", OUT.buf, ERR.buf);
	char *v = facts_extract(def, text, code, err, sizeof(err));
	ck_assert_msg(v != NULL && strcmp(v, want) == 0, "fact %s on %s: got %s, want %s (%s)",
		      name, host, v ? v : "(error)", want, v ? text : err);
	free(v);
	free(text);
}

#define EMSQ(script) EMS "\"" script "\""

START_TEST(playbook_facts_on_two_node)
{
	ck_fact("boot_id", "NODE1", "wmic os get LastBootUpTime", "20261101070000");
	ck_fact("os_sp", "NODE2", "wmic os get ServicePackMajorVersion", "2");
	ck_fact("net_sp", "NODE1", NETKEY, "0x1");
	ck_fact("net_sp", "NODE2", NETKEY, "0");
	ck_fact("pending_reboot", "NODE2", PENDKEY, "0");
	ck_fact("binaries_version", "NODE2",
		EMSQ("(Get-Command ExSetup.exe).FileVersionInfo.FileVersion"), "08.00.0685.025");
	ck_fact("server_version", "HUBCAS",
		EMSQ("Get-ExchangeServer HUBCAS | Format-List AdminDisplayVersion"), "8.1.240.6");
	ck_fact("cluster_service", "NODE1", "sc query ClusSvc", "RUNNING");
	ck_fact("cluster_group_owner", "NODE2", "cluster group \"Cluster Group\"", "NODE1");
	ck_fact("cms_owner", "NODE2", EMSQ("Get-ClusteredMailboxServerStatus -Identity E2K7CCR"),
		"NODE1");
	ck_fact("cms_state", "NODE2", EMSQ("Get-ClusteredMailboxServerStatus -Identity E2K7CCR"),
		"Online");
	ck_fact("cms_version", "NODE2",
		EMSQ("Get-ExchangeServer E2K7CCR | Format-List AdminDisplayVersion"), "8.0.685.25");
	ck_fact("copy_status", "NODE1", EMSQ("Get-StorageGroupCopyStatus -Server E2K7CCR"),
		"Healthy");
	ck_fact("copy_queue", "NODE1", EMSQ("Get-StorageGroupCopyStatus -Server E2K7CCR"), "0");
	ck_fact(
	    "last_full_backup", "NODE1",
	    EMSQ("Get-MailboxDatabase -Server E2K7CCR -Status | Format-List Name,LastFullBackup"),
	    "11/20/2026 11:00:12 PM");
	ck_fact("firewall_start", "NODE1", "sc qc SharedAccess", "DISABLED");
	ck_fact("firewall_state", "NODE1", "sc query SharedAccess", "STOPPED");
}
END_TEST

START_TEST(playbook_facts_after_changes)
{
	set_or_fail("NODE2.pending_reboot", "1");
	ck_fact("pending_reboot", "NODE2", PENDKEY, "1");
	set_or_fail("NODE2.binaries_version", "8.1.240.6");
	ck_fact("binaries_version", "NODE2",
		EMSQ("(Get-Command ExSetup.exe).FileVersionInfo.FileVersion"), "08.01.0240.006");
	ck_assert_int_eq(x("NODE1", EMSQ("Stop-ClusteredMailboxServer -Identity E2K7CCR "
					 "-StopReason 'SP1 upgrade' -Confirm:$false")),
			 0);
	ck_fact("cms_owner", "NODE2", EMSQ("Get-ClusteredMailboxServerStatus -Identity E2K7CCR"),
		"NODE1");
	ck_fact("cms_state", "NODE2", EMSQ("Get-ClusteredMailboxServerStatus -Identity E2K7CCR"),
		"Offline");
	set_or_fail("NODE2.pending_reboot", "0");
	ck_assert_int_eq(x("NODE1", EMSQ("Move-ClusteredMailboxServer -Identity E2K7CCR "
					 "-TargetMachine NODE2 -MoveComment 'SP1 upgrade' "
					 "-Confirm:$false")),
			 0);
	ck_fact("cms_owner", "NODE1", EMSQ("Get-ClusteredMailboxServerStatus -Identity E2K7CCR"),
		"NODE2");
	ck_fact("cluster_service", "HUBCAS", "sc query ClusSvc", "STOPPED");
	sim_world_free(W);
	load(SCN("replication-lagging"), 1.0);
	ck_fact("copy_status", "NODE1", EMSQ("Get-StorageGroupCopyStatus -Server E2K7CCR"),
		"Initializing");
	ck_fact("copy_queue", "NODE1", EMSQ("Get-StorageGroupCopyStatus -Server E2K7CCR"), "250");
	set_or_fail("CLUS1.copy_status", "ServiceDown");
	ck_fact("copy_status", "NODE1", EMSQ("Get-StorageGroupCopyStatus -Server E2K7CCR"),
		"ServiceDown");
}
END_TEST

static Suite *sim_cmd_suite(void)
{
	Suite *s = suite_create("sim_cmd");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sc_query_running_stopped_missing);
	tcase_add_test(tc, sc_qc_and_config);
	tcase_add_test(tc, sc_start_stop);
	tcase_add_test(tc, net_stop_start_messages);
	tcase_add_test(tc, net_stop_streams_over_its_duration);
	tcase_add_test(tc, reg_query_net_sp_present_absent);
	tcase_add_test(tc, reg_query_pending_reboot);
	tcase_add_test(tc, reg_query_key_and_delete);
	tcase_add_test(tc, wmic_os_get);
	tcase_add_test(tc, cluster_group_list_and_move);
	tcase_add_test(tc, cluster_exe_moves_cms_group_unchecked);
	tcase_add_test(tc, ems_get_exchange_server);
	tcase_add_test(tc, ems_file_version);
	tcase_add_test(tc, ems_cms_status_owner_marker_even_offline);
	tcase_add_test(tc, ems_stop_start_move_shapes);
	tcase_add_test(tc, ems_copy_status_and_backup);
	tcase_add_test(tc, copy_status_worst_and_queue_max_over_groups);
	tcase_add_test(tc, setup_forms);
	tcase_add_test(tc, setup_streams_stage_by_stage);
	tcase_add_test(tc, dotnet_installer);
	tcase_add_test(tc, dotnet_installer_without_restart);
	tcase_add_test(tc, shutdown_reboots_with_new_boot_id);
	tcase_add_test(tc, unknown_commands);
	tcase_add_test(tc, commands_counted_normalised);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("faults+control");
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, fault_fail_nth_count);
	tcase_add_test(tf, fault_hang_drop_slow);
	tcase_add_test(tf, fault_no_return_and_new_hostkey);
	tcase_add_test(tf, fault_add_errors);
	tcase_add_test(tf, world_set_paths);
	tcase_add_test(tf, dump_shape);
	suite_add_tcase(s, tf);
	TCase *tp = tcase_create("playbook facts");
	tcase_add_checked_fixture(tp, pb_setup, pb_teardown);
	tcase_add_test(tp, playbook_facts_on_two_node);
	tcase_add_test(tp, playbook_facts_after_changes);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_cmd_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
