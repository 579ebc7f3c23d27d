/*
 * check_sim_svc.c — services with behaviour (mock-nodes/world/sim_svc.c,
 * sim_cmd_sc.c, sim_cmd_net.c, sim_scenario_svc.c): a stop that hangs in
 * STOP_PENDING for a while or for ever, stops refused with 1051 (running
 * dependents), 1061 and 1052, dependents stopped with their parent by
 * `net stop X /y`, a disabled service (1058); each through sc and net with
 * their texts and exit codes, the scenario keys and their errors, ctl set and
 * the dump.
 *
 * Worlds load mock-nodes/scenarios/service-behaviours.yml at time scale 1, so
 * world ms are the scenario's durations (net_stop 2 s, net_wait 30 s,
 * HealthService's stop_hang 45 s).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "util.h"

#define SCN "mock-nodes/scenarios/service-behaviours.yml"

static struct sim_world *W;
static struct sbuf OUT, ERR;

static void setup(void)
{
	char err[512];
	sbuf_init(&OUT);
	sbuf_init(&ERR);
	W = sim_world_load(SCN, 1.0, err, sizeof(err));
	ck_assert_msg(W != NULL, "%s", err);
}

static void teardown(void)
{
	sim_world_free(W);
	sbuf_release(&OUT);
	sbuf_release(&ERR);
}

/* Run cmd on NODE1 from world ms at; *end is when it finished.  Returns its exit status. */
static int run_at(const char *cmd, int64_t at, int64_t *end)
{
	int code = -1;
	sbuf_reset(&OUT);
	sbuf_reset(&ERR);
	sim_world_tick(W, at);
	struct sim_action *a = sim_exec(W, sim_host_find(W, "NODE1"), cmd, at);
	int64_t now = at;
	while (!sim_action_poll(a, now, &OUT, &ERR, &code)) {
		int64_t t = sim_action_next_ms(a);
		ck_assert_msg(t != INT64_MAX, "command hangs: %s", cmd);
		now = t > now ? t : now;
		sim_world_tick(W, now);
	}
	sim_action_free(a);
	if (end != NULL)
		*end = now;
	return code;
}

static int run(const char *cmd, int64_t at)
{
	return run_at(cmd, at, NULL);
}

#define ck_has(sb, s)                                                                              \
	ck_assert_msg(strstr((sb).buf, (s)) != NULL, "missing \"%s\" in:\n%s", (s), (sb).buf)
#define ck_lacks(sb, s)                                                                            \
	ck_assert_msg(strstr((sb).buf, (s)) == NULL, "unexpected \"%s\" in:\n%s", (s), (sb).buf)

/* The STATE word sc query prints for svc on NODE1 at world ms at. */
static const char *state_at(const char *svc, int64_t at)
{
	static char word[32];
	char *cmd = xasprintf("sc query %s", svc);
	ck_assert_int_eq(run(cmd, at), 0);
	free(cmd);
	const char *p = strstr(OUT.buf, "STATE              : ");
	ck_assert_ptr_nonnull(p);
	p += strlen("STATE              : 1  ");
	size_t n = strcspn(p, " \n");
	ck_assert_uint_lt(n, sizeof(word));
	memcpy(word, p, n);
	word[n] = '\0';
	return word;
}

static void set(const char *path, const char *value, int64_t at)
{
	char err[256];
	ck_assert_msg(sim_world_set(W, path, value, at, err, sizeof(err)) == 0, "%s", err);
}

/* --- a stop that hangs --- */

START_TEST(sc_stop_hang_pending_then_stopped)
{
	ck_assert_int_eq(run("sc stop HealthService", 0), 0);
	ck_has(OUT, "STOP_PENDING");
	ck_assert_str_eq(state_at("HealthService", 44999), "STOP_PENDING");
	/* A second stop while it is stopping: the SCM refuses with 1061. */
	ck_assert_int_eq(run("sc stop HealthService", 44999), 1061);
	ck_has(OUT, "[SC] ControlService FAILED 1061:\n\nThe service cannot accept control "
		    "messages at this time.");
	ck_assert_int_eq(run("net stop HealthService", 44999), 2);
	ck_has(ERR, "The service is starting or stopping.  Please try again later.");
	ck_has(ERR, "NET HELPMSG 2189.");
	ck_assert_str_eq(state_at("HealthService", 45000), "STOPPED");
}
END_TEST

START_TEST(net_stop_gives_up_after_net_wait)
{
	int64_t end;
	ck_assert_int_eq(run_at("net stop HealthService", 0, &end), 2);
	ck_assert_int_eq(end, 30000);
	ck_has(OUT, "The OpsMgr Health Service service is stopping");
	ck_has(ERR, "The OpsMgr Health Service service could not be stopped.");
	ck_lacks(OUT, "stopped successfully");
	ck_assert_str_eq(state_at("HealthService", 30000), "STOP_PENDING");
	ck_assert_str_eq(state_at("HealthService", 45000), "STOPPED");
}
END_TEST

START_TEST(net_stop_waits_for_a_shorter_hang)
{
	int64_t end;
	set("NODE1.service.HealthService.stop_hang", "12s", 0);
	ck_assert_int_eq(run_at("net stop HealthService", 0, &end), 0);
	ck_assert_int_eq(end, 12000);
	ck_has(OUT, "The OpsMgr Health Service service was stopped successfully.");
	ck_assert_str_eq(state_at("HealthService", 12000), "STOPPED");
}
END_TEST

START_TEST(stop_that_never_finishes)
{
	set("NODE1.service.SysmonLog.stop_hang", "never", 0);
	ck_assert_int_eq(run("sc stop SysmonLog", 0), 0);
	ck_assert_str_eq(state_at("SysmonLog", 86400000), "STOP_PENDING");
	int64_t end;
	ck_assert_int_eq(run_at("net stop SysmonLog", 86400000, &end), 2);
	ck_has(ERR, "NET HELPMSG 2189.");
	/* A restart ends it: the service comes back by its start type. */
	ck_assert_int_eq(run("shutdown /r /t 0", 86400000), 0);
	ck_assert_str_eq(state_at("SysmonLog", 86400000 + 600000), "RUNNING");
	ck_assert_int_eq(run_at("net stop SysmonLog", 86400000 + 600000, &end), 2);
	ck_assert_int_eq(end, 86400000 + 600000 + 30000);
	ck_has(ERR, "The Performance Logs and Alerts service could not be stopped.");
	set("NODE1.service.SysmonLog.stop_hang", "0", end);
	set("NODE1.service.SysmonLog.state", "RUNNING", end);
	ck_assert_int_eq(run("net stop SysmonLog", end), 0);
}
END_TEST

/* NODE1's services in the dump (hosts is an array of objects with a name). */
static json_t *node1_services(json_t *d)
{
	json_t *hosts = json_object_get(d, "hosts"), *h;
	size_t i;
	json_array_foreach(hosts, i,
			   h) if (strcmp(json_string_value(json_object_get(h, "name")), "NODE1") ==
				  0) return json_object_get(h, "services");
	ck_abort_msg("no NODE1 in the dump");
	return NULL;
}

/* --- refusals --- */

START_TEST(refuse_1061)
{
	set("NODE1.service.SysmonLog.refuse_stop", "1061", 0);
	ck_assert_int_eq(run("sc stop SysmonLog", 0), 1061);
	ck_has(OUT, "[SC] ControlService FAILED 1061:");
	ck_assert_int_eq(run("net stop SysmonLog", 0), 2);
	ck_has(ERR, "The service could not be controlled in its present state.");
	ck_has(ERR, "More help is available by typing NET HELPMSG 2189.");
	ck_lacks(OUT, "stopping");
	ck_assert_str_eq(state_at("SysmonLog", 100000), "RUNNING");
}
END_TEST

START_TEST(refuse_1052)
{
	set("NODE1.service.SysmonLog.refuse_stop", "1052", 0);
	ck_assert_int_eq(run("sc stop SysmonLog", 0), 1052);
	ck_has(OUT, "[SC] ControlService FAILED 1052:\n\nThe requested control is not valid for "
		    "this service.");
	ck_assert_int_eq(run("net stop SysmonLog", 0), 2);
	ck_has(ERR, "The requested pause, continue, or stop is not valid for this service.");
	ck_has(ERR, "NET HELPMSG 2191.");
	ck_assert_str_eq(state_at("SysmonLog", 100000), "RUNNING");
}
END_TEST

START_TEST(sc_stop_refused_1051_with_running_dependents)
{
	ck_assert_int_eq(run("sc stop FSCController", 0), 1051);
	ck_has(OUT, "[SC] ControlService FAILED 1051:\n\nA stop control has been sent to a "
		    "service that other running services are dependent on.");
	ck_assert_str_eq(state_at("FSCController", 10000), "RUNNING");
	ck_assert_str_eq(state_at("FSEIMC", 10000), "RUNNING");
	/* Once the dependents are stopped, the parent stops. */
	ck_assert_int_eq(run("sc stop FSEIMC", 10000), 0);
	ck_assert_int_eq(run("sc stop FSEMailPickup", 10000), 0);
	ck_assert_int_eq(run("sc stop FSCController", 11000), 1051); /* still STOP_PENDING */
	ck_assert_int_eq(run("sc stop FSCController", 12000), 0);
	ck_assert_str_eq(state_at("FSCController", 14000), "STOPPED");
}
END_TEST

START_TEST(net_stop_asks_about_dependents)
{
	ck_assert_int_eq(run("net stop FSCController", 0), 2);
	ck_has(OUT,
	       "The following services are dependent on the Microsoft Forefront Server "
	       "Security Controller service.\nStopping the Microsoft Forefront Server Security "
	       "Controller service will also stop these services.\n\n"
	       "   Microsoft Forefront Server Security Mail Pickup\n"
	       "   Microsoft Forefront Server Security Monitor\n\n"
	       "Do you want to continue this operation? (Y/N) [N]: ");
	ck_has(ERR, "No valid response was provided.");
	ck_assert_int_eq(run("net stop FSCController /n", 0), 2);
	ck_lacks(OUT, "is stopping");
	ck_assert_str_eq(state_at("FSCController", 60000), "RUNNING");
	ck_assert_str_eq(state_at("FSEIMC", 60000), "RUNNING");
	ck_assert_str_eq(state_at("FSEMailPickup", 60000), "RUNNING");
}
END_TEST

START_TEST(net_stop_y_stops_dependents_first)
{
	int64_t end;
	ck_assert_int_eq(run_at("net stop FSCController /y", 0, &end), 0);
	ck_assert_int_eq(end, 6000); /* three stops of net_stop each */
	const char *a = strstr(OUT.buf, "Mail Pickup service was stopped successfully.");
	const char *b = strstr(OUT.buf, "Monitor service was stopped successfully.");
	const char *c = strstr(OUT.buf, "Controller service was stopped successfully.");
	ck_assert(a != NULL && b != NULL && c != NULL && a < c && b < c);
	ck_assert_str_eq(state_at("FSCController", end), "STOPPED");
	ck_assert_str_eq(state_at("FSEIMC", end), "STOPPED");
	ck_assert_str_eq(state_at("FSEMailPickup", end), "STOPPED");
	/* Stopped: net says so, on any form of the name. */
	ck_assert_int_eq(run("NET STOP \"Microsoft Forefront Server Security Controller\" /Y", end),
			 2);
	ck_has(ERR, "NET HELPMSG 3521.");
}
END_TEST

START_TEST(net_stop_y_chain_and_refusing_dependent)
{
	/* FSEMailPickup depends on FSEIMC, which depends on FSCController: deepest first. */
	set("NODE1.service.FSEMailPickup.depends_on", "FSEIMC", 0);
	ck_assert_int_eq(run("net stop FSCController /y", 0), 0);
	const char *a = strstr(OUT.buf, "Monitor service was stopped");
	const char *b = strstr(OUT.buf, "Mail Pickup service was stopped");
	ck_assert(a != NULL && b != NULL && a < b);
	/* A dependent that refuses stops the command there: the parent keeps running. */
	set("NODE1.service.FSCController.state", "RUNNING", 10000);
	set("NODE1.service.FSEIMC.state", "RUNNING", 10000);
	set("NODE1.service.FSEIMC.refuse_stop", "1061", 10000);
	ck_assert_int_eq(run("net stop FSCController /y", 10000), 2);
	ck_has(ERR, "The service could not be controlled in its present state.");
	ck_assert_str_eq(state_at("FSCController", 60000), "RUNNING");
}
END_TEST

START_TEST(disabled_service_refuses_to_start)
{
	ck_assert_int_eq(run("sc start SharedAccess", 0), 1058);
	ck_has(OUT, "[SC] StartService FAILED 1058:\n\nThe service cannot be started, either "
		    "because it is disabled or because it has no enabled devices associated with "
		    "it.");
	ck_assert_int_eq(run("net start SharedAccess", 0), 2);
	ck_has(ERR, "System error 1058 has occurred.");
	ck_assert_str_eq(state_at("SharedAccess", 1000), "STOPPED");
	ck_assert_int_eq(run("sc config SharedAccess start= demand", 1000), 0);
	ck_assert_int_eq(run("net start SharedAccess", 1000), 0);
	ck_assert_str_eq(state_at("SharedAccess", 3000), "RUNNING");
}
END_TEST

START_TEST(qc_lists_dependencies)
{
	ck_assert_int_eq(run("sc qc FSEIMC", 0), 0);
	ck_has(OUT, "DEPENDENCIES       : FSCController\n");
	set("NODE1.service.FSEIMC.depends_on", "FSCController,W32Time", 0);
	ck_assert_int_eq(run("sc qc FSEIMC", 0), 0);
	ck_has(OUT, "DEPENDENCIES       : FSCController\n                           : W32Time\n");
}
END_TEST

START_TEST(dump_and_set_errors)
{
	char err[256];
	json_t *d = sim_world_dump(W, 0);
	json_t *svcs = node1_services(d);
	json_t *hs = json_object_get(svcs, "HealthService");
	ck_assert_int_eq(json_integer_value(json_object_get(hs, "stop_hang_ms")), 45000);
	json_t *dep = json_object_get(json_object_get(svcs, "FSEIMC"), "depends_on");
	ck_assert_str_eq(json_string_value(json_array_get(dep, 0)), "FSCController");
	ck_assert_ptr_null(json_object_get(json_object_get(svcs, "W32Time"), "depends_on"));
	ck_assert_ptr_null(json_object_get(json_object_get(svcs, "W32Time"), "refuse_stop"));
	json_decref(d);
	ck_assert_int_eq(
	    sim_world_set(W, "NODE1.service.W32Time.refuse_stop", "1051", 0, err, sizeof(err)), -1);
	ck_assert_int_eq(
	    sim_world_set(W, "NODE1.service.W32Time.stop_hang", "soon", 0, err, sizeof(err)), -1);
	ck_assert_int_eq(sim_world_set(W, "NODE1.service.W32Time.depends_on", "NoSuchService", 0,
				       err, sizeof(err)),
			 -1);
	ck_assert_int_eq(
	    sim_world_set(W, "NODE1.service.W32Time.depends_on", "W32Time", 0, err, sizeof(err)),
	    -1);
	set("NODE1.service.W32Time.stop_hang", "never", 0);
	set("NODE1.service.W32Time.refuse_stop", "1061", 0);
	d = sim_world_dump(W, 0);
	svcs = node1_services(d);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(svcs, "W32Time"), "stop_hang")),
	    "never");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(svcs, "W32Time"), "refuse_stop")),
	    1061);
	json_decref(d);
}
END_TEST

/* --- scenario keys --- */

static char *load_err(const char *services)
{
	char dir[] = "/tmp/check_sim_svc.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = xasprintf("%s/s.yml", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"hosts:\n  N2: {binaries_version: 8.0.685.25}\n  N1:\n"
		"    binaries_version: 8.0.685.25\n    services:\n%s"
		"clusters:\n  C1:\n    cms: CMS1\n    cms_version: 8.0.685.25\n"
		"    cms_owner: N1\n    members: [N1, N2]\n",
		services);
	fclose(f);
	char err[512];
	struct sim_world *w = sim_world_load(path, 0, err, sizeof(err));
	char *res = w == NULL ? xstrdup(err) : NULL;
	sim_world_free(w);
	unlink(path);
	rmdir(dir);
	free(path);
	return res;
}

START_TEST(scenario_key_errors)
{
	char *e = load_err("      A: {state: RUNNING, depends_on: [B]}\n");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "s.yml:6:40:") != NULL && strstr(e, "no service \"B\"") != NULL,
		      "%s", e);
	free(e);
	e = load_err("      A: {refuse_stop: 1051}\n");
	ck_assert_msg(e != NULL && strstr(e, "refuse_stop: expected 1061 or 1052") != NULL, "%s",
		      e ? e : "(loaded)");
	free(e);
	e = load_err("      A: {stop_hang: later}\n");
	ck_assert_msg(e != NULL && strstr(e, "stop_hang: expected a duration") != NULL, "%s",
		      e ? e : "(loaded)");
	free(e);
	e = load_err("      A: {depends_on: A}\n");
	ck_assert_msg(e != NULL && strstr(e, "cannot depend on itself") != NULL, "%s",
		      e ? e : "(loaded)");
	free(e);
	e = load_err("      A: {stop_on: 1}\n");
	ck_assert_ptr_nonnull(e);
	free(e);
	/* Declared in any order; a list or a single name; never is accepted. */
	e = load_err("      B: {depends_on: [A, C]}\n      A: {stop_hang: never}\n"
		     "      C: {refuse_stop: 1061, stop_hang: 2m}\n");
	ck_assert_msg(e == NULL, "%s", e);
}
END_TEST

static Suite *sim_svc_suite(void)
{
	Suite *s = suite_create("sim_svc");
	TCase *tc = tcase_create("services");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sc_stop_hang_pending_then_stopped);
	tcase_add_test(tc, net_stop_gives_up_after_net_wait);
	tcase_add_test(tc, net_stop_waits_for_a_shorter_hang);
	tcase_add_test(tc, stop_that_never_finishes);
	tcase_add_test(tc, refuse_1061);
	tcase_add_test(tc, refuse_1052);
	tcase_add_test(tc, sc_stop_refused_1051_with_running_dependents);
	tcase_add_test(tc, net_stop_asks_about_dependents);
	tcase_add_test(tc, net_stop_y_stops_dependents_first);
	tcase_add_test(tc, net_stop_y_chain_and_refusing_dependent);
	tcase_add_test(tc, disabled_service_refuses_to_start);
	tcase_add_test(tc, qc_lists_dependencies);
	tcase_add_test(tc, dump_and_set_errors);
	tcase_add_test(tc, scenario_key_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_svc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
