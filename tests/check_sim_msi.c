/*
 * check_sim_msi.c — ccrsim's update rollups and service pack prerequisites
 * (mock-nodes/world/sim_cmd_msi.c): msiexec's exit codes (0, 3010, 1641,
 * 1603, 1619, 1633, 1639, 1642) and what each leaves in the world (binaries,
 * installed rollups, registry patch keys, the Cluster service and the groups
 * of the node, the verbose log), setup.com /PrepareSchema and /PrepareAD with
 * dsquery over the organisation, and SP2's prerequisite check.
 *
 * Worlds load at time scale 0; the clock moves one second after every command.
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "facts.h"
#include "model.h"
#include "sim_cmd_int.h"

#define SCN(n) "mock-nodes/scenarios/" n ".yml"
#define UR9    "D:\\Rollups\\Exchange2007-KB970162-x64-EN.msp"
#define UR9X86 "D:\\Rollups\\Exchange2007-KB970162-x86-EN.msp"
#define SP2UR1 "D:\\Rollups\\Exchange2007-KB971534-x64-EN.msp"
#define PATCHES                                                                                    \
	"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Installer\\UserData\\S-1-5-18\\"      \
	"Products\\461C2B4266EDEF444B864AD6D9E5B613\\Patches"
#define SCHEMA_DN "CN=ms-Exch-Schema-Version-Pt,CN=Schema,CN=Configuration,DC=contoso,DC=com"
#define ORG_DN                                                                                     \
	"\"CN=First Organization,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=contoso,"   \
	"DC=com\""
#define EMS "powershell -NonInteractive -Command "

static struct sim_world *W;
static int64_t NOW;
static struct sbuf OUT, ERR;

static void setup(void)
{
	char err[512];
	sbuf_init(&OUT);
	sbuf_init(&ERR);
	W = sim_world_load(SCN("sp1-rollup"), 0, err, sizeof(err));
	ck_assert_msg(W != NULL, "%s", err);
	NOW = 0;
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

static struct sim_host *host(const char *name)
{
	return &W->hosts[sim_host_find(W, name)];
}

#define ck_has(sb, s) ck_assert_msg(strstr((sb).buf, s) != NULL, "no \"%s\" in:\n%s", s, (sb).buf)
#define ck_str(a, b)  ck_assert_str_eq(a, b)

START_TEST(rollup_installs_with_restart_pending)
{
	struct sim_host *n2 = host("NODE2");
	ck_assert_int_eq(W->clusters[0].group_owner, sim_host_find(W, "NODE2"));
	ck_assert_int_eq(
	    x("NODE2", "msiexec /update \"%s\" /quiet /norestart /l*v C:\\ur9.log", UR9), 3010);
	ck_assert_uint_eq(OUT.len, 0); /* /quiet */
	ck_str(n2->binaries, "8.1.375.2");
	ck_assert_int_eq(n2->pending_reboot, 1);
	ck_assert_int_eq(n2->msi.nrollups, 1);
	ck_assert_int_eq(n2->msi.rollups[0], 970162);
	/* The Cluster service stopped and started: the Cluster Group failed over to NODE1. */
	ck_assert_int_eq(W->clusters[0].group_owner, sim_host_find(W, "NODE1"));
	ck_str(sim_svc_find(n2, "ClusSvc")->state == SIM_SVC_RUNNING ? "RUNNING" : "other",
	       "RUNNING");
	ck_str(n2->msi.log_path, "C:\\ur9.log");
	ck_assert_ptr_nonnull(strstr(n2->msi.log, "MainEngineThread is returning 3010"));
	ck_assert_ptr_nonnull(strstr(n2->msi.log, "Update Rollup 9 for Exchange Server 2007 "
						  "Service Pack 1 (KB970162)"));
	/* The CMS keeps its SP1 version and still runs where the binaries are SP1 + UR9. */
	ck_str(W->clusters[0].cms_version, "8.1.240.6");
	ck_assert_int_eq(
	    x("NODE2", "%s\"(Get-Command ExSetup.exe).FileVersionInfo.FileVersion\"", EMS), 0);
	ck_has(OUT, "08.01.0375.002");
	/* Registry: the Exchange product's patch keys. */
	ck_assert_int_eq(x("NODE2", "reg query \"%s\" /s", PATCHES), 0);
	ck_has(OUT, "DisplayName\tREG_SZ\tUpdate Rollup 9 for Exchange Server 2007 Service "
		    "Pack 1 (KB970162)");
	ck_assert_int_eq(x("NODE1", "reg query \"%s\" /s", PATCHES), 0);
	ck_assert_ptr_null(strstr(OUT.buf, "KB970162"));
	/* The same package again: already installed, nothing changes. */
	ck_assert_int_eq(x("NODE2", "MSIEXEC.EXE -P %s /QN /NoRestart /log C:\\again.log", UR9), 0);
	ck_str(n2->msi.log_path, "C:\\again.log");
	ck_assert_ptr_nonnull(strstr(n2->msi.log, "already installed"));
	ck_assert_int_eq(n2->msi.nrollups, 1);
	/* The dump lists it. */
	json_t *d = sim_world_dump(W, NOW);
	json_t *hosts = json_object_get(d, "hosts");
	json_t *msi = NULL;
	for (size_t i = 0; i < json_array_size(hosts); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(hosts, i), "name")),
			   "NODE2") == 0)
			msi = json_object_get(json_array_get(hosts, i), "msi");
	ck_assert_ptr_nonnull(msi);
	ck_assert_int_eq(json_integer_value(json_object_get(
			     json_array_get(json_object_get(msi, "rollups"), 0), "kb")),
			 970162);
	ck_str(json_string_value(json_object_get(msi, "arch")), "x64");
	ck_assert_ptr_nonnull(json_object_get(d, "organization"));
	json_decref(d);
}
END_TEST

START_TEST(cms_moves_to_a_node_with_the_rollup)
{
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", UR9), 3010);
	ck_assert_int_eq(x("NODE2", "shutdown /r /t 0"), 0);
	for (int i = 0; i < 10 && (host("NODE2")->pending_reboot || !host("NODE2")->up); i++) {
		NOW += 1000;
		sim_world_tick(W, NOW);
	}
	ck_assert_int_eq(host("NODE2")->pending_reboot, 0);
	ck_assert_int_eq(x("NODE1",
			   "%s\"Move-ClusteredMailboxServer -Identity E2K7CCR -TargetMachine NODE2 "
			   "-MoveComment 'UR9' -Confirm:$false\"",
			   EMS),
			 0);
	ck_assert_int_eq(W->clusters[0].owner, sim_host_find(W, "NODE2"));
	ck_assert_int_eq(W->clusters[0].state, SIM_CMS_ONLINE);
}
END_TEST

START_TEST(rollup_without_norestart_restarts)
{
	int epoch = host("NODE2")->boot_epoch;
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet", UR9), 1641);
	ck_assert_int_gt(host("NODE2")->boot_epoch, epoch);
	ck_assert_int_eq(host("NODE2")->pending_reboot, 0);
}
END_TEST

START_TEST(rollup_refusals_change_nothing)
{
	struct sim_host *n2 = host("NODE2");
	/* An SP2 rollup on SP1 binaries: not applicable. */
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart /l*v C:\\a.log", SP2UR1),
			 1642);
	ck_assert_ptr_nonnull(strstr(n2->msi.log, "Service Pack 2"));
	/* The x86 build on an x64 node: wrong platform. */
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", UR9X86), 1633);
	/* A package the media do not have. */
	ck_assert_int_eq(x("NODE2", "msiexec /update D:\\x\\Exchange2007-KB123456-x64-EN.msp "
				    "/quiet /norestart"),
			 1619);
	/* Bad command lines: no package, no /quiet (no user interface over SSH), unknown option. */
	ck_assert_int_eq(x("NODE2", "msiexec /quiet"), 1639);
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /norestart", UR9), 1639);
	ck_has(ERR, "/quiet");
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /bogus", UR9), 1639);
	ck_str(n2->binaries, "8.1.240.6");
	ck_assert_int_eq(n2->msi.nrollups, 0);
	ck_assert_int_eq(n2->pending_reboot, 0);
	ck_assert_int_eq(W->clusters[0].group_owner, sim_host_find(W, "NODE2"));
	/* An interim update left installed: fatal error, the binaries unchanged. */
	n2->msi.interim = xcalloc(1, sizeof(int));
	n2->msi.interim[0] = 958690;
	n2->msi.ninterim = 1;
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart /l*v C:\\b.log", UR9),
			 1603);
	ck_assert_ptr_nonnull(strstr(n2->msi.log, "KB958690"));
	ck_str(n2->binaries, "8.1.240.6");
	ck_assert_int_eq(sim_svc_find(n2, "ClusSvc")->state, SIM_SVC_RUNNING);
	/* Superseded: binaries already past the rollup. */
	free(n2->binaries);
	n2->binaries = xstrdup("8.1.393.1");
	ck_assert_int_eq(x("NODE1", "msiexec /update %s /quiet /norestart", UR9), 3010);
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", UR9), 1642);
}
END_TEST

/* Without internet access the install waits for the revocation checks' time-outs. */
START_TEST(offline_install_is_slower)
{
	int h = sim_host_find(W, "NODE2");
	int code = -1;
	W->scale = 1;
	struct sim_action *a = sim_exec(W, h, "msiexec /update " UR9 " /quiet /norestart", NOW);
	while (!sim_action_poll(a, NOW, &OUT, &ERR, &code))
		NOW = sim_action_next_ms(a);
	sim_action_free(a);
	ck_assert_int_eq(code, 3010);
	ck_assert_int_eq(NOW, W->dur.rollup);
	host("NODE1")->msi.offline = 1;
	int64_t start = NOW;
	a = sim_exec(W, sim_host_find(W, "NODE1"),
		     "msiexec /update " UR9 " /quiet /norestart /l*v L", NOW);
	while (!sim_action_poll(a, NOW, &OUT, &ERR, &code))
		NOW = sim_action_next_ms(a);
	sim_action_free(a);
	ck_assert_int_eq(code, 3010);
	ck_assert_int_eq(NOW - start, W->dur.rollup + W->dur.crl_check);
	ck_assert_ptr_nonnull(strstr(host("NODE1")->msi.log, "certificate revocation"));
}
END_TEST

START_TEST(interrupted_rollup_rolls_back)
{
	int h = sim_host_find(W, "NODE2");
	W->scale = 1;
	struct sim_action *a = sim_exec(W, h, "msiexec /update " UR9 " /quiet /norestart", NOW);
	int code;
	sim_action_poll(a, NOW, &OUT, &ERR, &code);
	ck_assert_int_eq(sim_svc_find(host("NODE2"), "ClusSvc")->state, SIM_SVC_STOPPED);
	sim_action_abort(a, NOW + 10);
	sim_action_free(a);
	ck_assert_int_eq(sim_svc_find(host("NODE2"), "ClusSvc")->state, SIM_SVC_RUNNING);
	ck_str(host("NODE2")->binaries, "8.1.240.6");
	ck_assert_int_eq(host("NODE2")->msi.nrollups, 0);
}
END_TEST

START_TEST(prepare_schema_and_ad)
{
	ck_assert_int_eq(x("HUBCAS", "dsquery * %s -scope base -attr rangeUpper", SCHEMA_DN), 0);
	ck_has(OUT, "11116");
	ck_assert_int_eq(x("HUBCAS", "dsquery * %s -scope base -attr objectVersion", ORG_DN), 0);
	ck_has(OUT, "11221");
	/* SP2 setup refuses before the schema is prepared. */
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /m:upgrade"), 1);
	ck_has(OUT, "schema is not up to date");
	ck_str(host("HUBCAS")->server_version, "8.1.240.6");
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /PrepareSchema"), 0);
	ck_has(OUT, "completed successfully");
	ck_assert_int_eq(x("NODE1", "dsquery * %s -scope base -attr rangeUpper", SCHEMA_DN), 0);
	ck_has(OUT, "14622");
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /m:upgrade"), 1);
	ck_has(OUT, "/PrepareAD");
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /PrepareAD"), 0);
	ck_assert_int_eq(x("HUBCAS", "dsquery * %s -scope base -attr objectVersion", ORG_DN), 0);
	ck_has(OUT, "11222");
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /PrepareAD"), 0);
	ck_has(OUT, "already prepared");
	/* Windows Installer older than 4.5 (set as the control interface does). */
	char err[256];
	ck_assert_int_eq(sim_world_set(W, "HUBCAS.windows_installer", "3.1", NOW, err, sizeof(err)),
			 0);
	ck_assert_int_ne(
	    sim_world_set(W, "HUBCAS.windows_installer", "four", NOW, err, sizeof(err)), 0);
	ck_assert_int_ne(sim_world_set(W, "HUBCAS.arch", "arm64", NOW, err, sizeof(err)), 0);
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /m:upgrade"), 1);
	ck_has(OUT, "Windows Installer 4.5");
	free(host("HUBCAS")->msi.installer);
	host("HUBCAS")->msi.installer = xstrdup("4.5");
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /m:upgrade"), 0);
	ck_str(host("HUBCAS")->server_version, "8.2.176.2");
	/* An older setup's /PrepareSchema is refused once the schema is newer. */
	free(W->media_version);
	W->media_version = xstrdup("8.1.240.6");
	ck_assert_int_eq(x("HUBCAS", "D:\\SP1\\setup.com /PrepareSchema"), 1);
	ck_has(OUT, "higher than Setup's version");
	ck_assert_int_eq(x("HUBCAS", "dsquery * CN=nothing,DC=contoso,DC=com -scope base -attr x"),
			 1);
}
END_TEST

START_TEST(service_pack_clears_rollups)
{
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", UR9), 3010);
	host("NODE2")->pending_reboot = 0;
	ck_assert_int_eq(x("HUBCAS", "D:\\SP2\\setup.com /PrepareAD"), 0);
	ck_assert_int_eq(x("NODE2", "net stop SysmonLog"), 0);
	ck_assert_int_eq(x("NODE2", "net stop HealthService"), 0);
	ck_assert_int_eq(x("NODE2", "sc config SharedAccess start= demand"), 0);
	ck_assert_int_eq(x("NODE2", "net start SharedAccess"), 0);
	ck_assert_msg(x("NODE2", "D:\\SP2\\setup.com /m:upgrade") == 0, "%s", OUT.buf);
	ck_str(host("NODE2")->binaries, "8.2.176.2");
	ck_assert_int_eq(host("NODE2")->msi.nrollups, 0);
	host("NODE2")->pending_reboot = 0;
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", UR9), 1642);
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", SP2UR1), 3010);
	ck_str(host("NODE2")->binaries, "8.2.217.3");
}
END_TEST

START_TEST(scenario_keys_refused)
{
	static const char *const bad[] = {
	    "rollups: [{kb: 1, version: 8.1.375.2}]\n",
	    "rollups: [{kb: 970162, service_pack: 2, version: 8.1.375.2}]\n",
	    "rollups: [{kb: 970162, version: 8.1.375.2, arch: arm}]\n",
	    "rollups: [{kb: 970162, version: 8.1.375.2}, {kb: 970162, version: 8.1.375.2}]\n",
	    "rollups: [{version: 8.1.375.2}]\n",
	    "organization: {schema_version: banana}\n",
	    "hosts2: 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[] = "/tmp/check_sim_msi.XXXXXX";
		char err[512];
		int fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		FILE *f = fdopen(fd, "w");
		fprintf(f, "hosts:\n  A: {role: node, binaries_version: 8.1.240.6}\n%s", bad[i]);
		fclose(f);
		struct sim_world *w = sim_world_load(path, 0, err, sizeof(err));
		unlink(path);
		ck_assert_msg(w == NULL, "accepted: %s", bad[i]);
		ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	}
}
END_TEST

/* ---- the new playbooks' facts, extracted as the orchestrator does, from ccrsim's output ---- */

static struct playbook *PB;

static void pb_load(const char *path)
{
	struct diag d;
	diag_init(&d);
	playbook_free(PB);
	PB = playbook_load(path, &d);
	ck_assert_msg(PB != NULL, "%s: %s", path, d.n > 0 ? d.v[0].msg : "?");
	diag_release(&d);
}

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

#define FILEVER EMS "\"(Get-Command ExSetup.exe).FileVersionInfo.FileVersion\""
#define ENVKEY                                                                                     \
	"reg query \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment\" /v " \
	"PROCESSOR_ARCHITECTURE"
#define MSIVER "wmic datafile where name=\"C:\\\\WINDOWS\\\\system32\\\\msi.dll\" get Version"

START_TEST(playbook_facts_of_rollup_and_service_pack)
{
	pb_load("playbooks/ccr-rollup.yml");
	ck_fact("binaries_version", "NODE2", FILEVER, "08.01.0240.006");
	ck_fact("binaries_sp", "NODE2", FILEVER, "8.1");
	ck_fact("cpu_arch", "NODE1", ENVKEY, "AMD64");
	free(host("NODE1")->msi.arch);
	host("NODE1")->msi.arch = xstrdup("x86");
	ck_fact("cpu_arch", "NODE1", ENVKEY, "x86");
	ck_assert_int_eq(x("NODE2", "msiexec /update %s /quiet /norestart", UR9), 3010);
	ck_fact("binaries_version", "NODE2", FILEVER, "08.01.0375.002");
	ck_fact("binaries_sp", "NODE2", FILEVER, "8.1");
	ck_fact("pending_reboot", "NODE2",
		"reg query \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\" /v "
		"PendingFileRenameOperations",
		"1");
	ck_fact("interim_updates", "NODE2", "reg query \"" PATCHES "\" /s", "0");
	host("NODE1")->msi.interim = xcalloc(1, sizeof(int));
	host("NODE1")->msi.interim[0] = 958690;
	host("NODE1")->msi.ninterim = 1;
	ck_fact("interim_updates", "NODE1", "reg query \"" PATCHES "\" /s", "1");
	pb_load("playbooks/ccr-sp.yml");
	ck_fact("msi_version", "NODE1", MSIVER, "4.5");
	free(host("NODE1")->msi.installer);
	host("NODE1")->msi.installer = xstrdup("3.1");
	ck_fact("msi_version", "NODE1", MSIVER, "3.1");
	ck_fact("schema_level", "NODE1", "dsquery * \"" SCHEMA_DN "\" -scope base -attr rangeUpper",
		"11116");
	ck_fact("org_level", "NODE1", "dsquery * " ORG_DN " -scope base -attr objectVersion",
		"11221");
	ck_assert_int_eq(x("HUBCAS", "\"D:\\Exchange2007SP2\\setup.com\" /PrepareAD"), 0);
	ck_fact("schema_level", "NODE2", "dsquery * \"" SCHEMA_DN "\" -scope base -attr rangeUpper",
		"14622");
	ck_fact("org_level", "NODE2", "dsquery * " ORG_DN " -scope base -attr objectVersion",
		"11222");
	ck_fact("server_version", "HUBCAS",
		EMS "\"Get-ExchangeServer HUBCAS | Format-List AdminDisplayVersion\"", "8.1.240.6");
	playbook_free(PB);
	PB = NULL;
}
END_TEST

static Suite *sim_msi_suite(void)
{
	Suite *s = suite_create("sim_msi");
	TCase *tc = tcase_create("msiexec+org");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rollup_installs_with_restart_pending);
	tcase_add_test(tc, cms_moves_to_a_node_with_the_rollup);
	tcase_add_test(tc, rollup_without_norestart_restarts);
	tcase_add_test(tc, rollup_refusals_change_nothing);
	tcase_add_test(tc, interrupted_rollup_rolls_back);
	tcase_add_test(tc, offline_install_is_slower);
	tcase_add_test(tc, prepare_schema_and_ad);
	tcase_add_test(tc, service_pack_clears_rollups);
	tcase_add_test(tc, scenario_keys_refused);
	tcase_add_test(tc, playbook_facts_of_rollup_and_service_pack);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_msi_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
