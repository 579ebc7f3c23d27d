/*
 * check_sim_events.c — ccrsim's scheduled events (docs/ccrsim.md, Events):
 * at a world time, on a command before or after it, every action (set,
 * reboot, crash, power_off, power_on, failover), the failover rule both ways,
 * refusals, the dump, fleets, and owner-crash-on-move.yml firing the same way
 * on every run.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "util.h"

#define SCN(n) "mock-nodes/scenarios/" n ".yml"
#define EMS    "powershell -NonInteractive -Command "
#define STOP_CMS                                                                                   \
	EMS "\"Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason x -Confirm:$false\""
#define MOVE_CMS(n)                                                                                \
	EMS "\"Move-ClusteredMailboxServer -Identity E2K7CCR -TargetMachine " n                    \
	    " -MoveComment x -Confirm:$false\""

static int64_t NOW;

/* Run a command to completion (or until it never finishes); returns the exit or -1. */
static int run(struct sim_world *w, const char *host, const char *cmd)
{
	struct sbuf out, err;
	int code = -1, h = sim_host_find(w, host);
	ck_assert_int_ge(h, 0);
	sbuf_init(&out);
	sbuf_init(&err);
	struct sim_action *a = sim_exec(w, h, cmd, NOW);
	while (!sim_action_poll(a, NOW, &out, &err, &code)) {
		int64_t t = sim_action_next_ms(a);
		if (t == INT64_MAX) {
			code = -1;
			break;
		}
		NOW = t > NOW ? t : NOW;
		sim_world_tick(w, NOW);
	}
	sim_action_free(a);
	sbuf_release(&out);
	sbuf_release(&err);
	NOW += 1;
	sim_world_tick(w, NOW);
	return code;
}

static struct sim_world *load(const char *path, double scale)
{
	char err[512];
	struct sim_world *w = sim_world_load(path, scale, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	NOW = 0;
	return w;
}

static void add(struct sim_world *w, const char *json)
{
	char err[256];
	json_t *j = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(sim_event_add(w, j, err, sizeof(err)) == 0, "%s: %s", json, err);
	json_decref(j);
}

static const char *cms_field(struct sim_world *w, const char *f, char *buf, size_t len)
{
	json_t *d = sim_world_dump(w, NOW);
	json_t *cms = json_object_get(json_array_get(json_object_get(d, "clusters"), 0), "cms");
	snprintf(buf, len, "%s", json_string_value(json_object_get(cms, f)));
	json_decref(d);
	return buf;
}

static json_t *event0(struct sim_world *w, json_t **dump)
{
	*dump = sim_world_dump(w, NOW);
	return json_array_get(json_object_get(*dump, "events"), 0);
}

START_TEST(timed_reboot_at_world_time)
{
	struct sim_world *w = load(SCN("two-node"), 0.001); /* 35m -> 2100 ms */
	int n1 = sim_host_find(w, "NODE1");
	add(w, "{\"at\": \"35m\", \"do\": \"reboot\", \"host\": \"NODE1\"}");
	ck_assert_int_eq(sim_world_next_event(w), 2100);
	sim_world_tick(w, 2099);
	ck_assert_int_eq(sim_host_power(w, n1, 2099), SIM_UP);
	sim_world_tick(w, 2100);
	ck_assert_int_eq(sim_host_power(w, n1, 2100 + 200),
			 SIM_DOWN); /* reboot_down 200 ms scaled */
	sim_world_tick(w, 2200);    /* down 1 ms after, for `reboot` (300 ms scaled) */
	ck_assert_int_eq(sim_host_power(w, n1, 2200), SIM_DOWN);
	sim_world_tick(w, 2500);
	ck_assert_int_eq(sim_host_power(w, n1, 2500), SIM_UP);
	ck_assert_int_eq(sim_host_boot_epoch(w, n1), 1);
	json_t *d, *e = event0(w, &d);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "fired")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "at_ms")), 2100);
	ck_assert_str_eq(json_string_value(json_object_get(e, "do")), "reboot");
	json_decref(d);
	sim_world_free(w);
}
END_TEST

START_TEST(timed_set_power_off_on_and_plain_seconds)
{
	struct sim_world *w = load(SCN("two-node"), 1);
	int n2 = sim_host_find(w, "NODE2");
	add(w, "{\"at\": 10, \"do\": \"set\", \"path\": \"CLUS1.copy_queue\", \"value\": 40}");
	add(w, "{\"at\": \"20s\", \"do\": \"power_off\", \"host\": \"NODE2\"}");
	add(w, "{\"at\": \"30s\", \"do\": \"power_on\", \"host\": \"NODE2\"}");
	sim_world_tick(w, 20000);
	ck_assert_int_eq(sim_host_power(w, n2, 20000), SIM_DOWN);
	json_t *d = sim_world_dump(w, 20000);
	json_t *sg = json_array_get(
	    json_object_get(json_array_get(json_object_get(d, "clusters"), 0), "replication"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(sg, "copy_queue")), 40);
	json_decref(d);
	sim_world_tick(w, 29999);
	ck_assert_int_eq(sim_host_power(w, n2, 29999), SIM_DOWN); /* powered off: stays down */
	sim_world_tick(w, 30000);
	ck_assert_int_eq(sim_host_power(w, n2, 30000), SIM_UP);
	ck_assert_int_eq(sim_world_next_event(w) > 30000, 1); /* timed events fire once */
	sim_world_free(w);
}
END_TEST

/* owner-crash-on-move.yml: the owner goes down before the move runs, every time. */
START_TEST(owner_crashes_when_move_starts_ten_of_ten)
{
	for (int run_no = 0; run_no < 10; run_no++) {
		struct sim_world *w = load(SCN("owner-crash-on-move"), 0);
		int n1 = sim_host_find(w, "NODE1");
		char buf[64];
		ck_assert_int_eq(run(w, "NODE1", STOP_CMS), 0);
		ck_assert_str_eq(cms_field(w, "state", buf, sizeof(buf)), "Offline");
		ck_assert_int_eq(sim_host_power(w, n1, NOW), SIM_UP);
		struct sbuf out, err;
		int code = -1;
		sbuf_init(&out);
		sbuf_init(&err);
		struct sim_action *a =
		    sim_exec(w, sim_host_find(w, "NODE2"), MOVE_CMS("NODE2"), NOW);
		/* Fired as the command starts, before it ran: the owner is already down. */
		ck_assert_int_eq(sim_host_power(w, n1, NOW), SIM_DOWN);
		while (!sim_action_poll(a, NOW, &out, &err, &code)) {
			int64_t t = sim_action_next_ms(a);
			ck_assert(t != INT64_MAX);
			NOW = t;
			sim_world_tick(w, NOW);
		}
		sim_action_free(a);
		sbuf_release(&out);
		sbuf_release(&err);
		json_t *d, *e = event0(w, &d);
		ck_assert_int_eq(json_integer_value(json_object_get(e, "fired")), 1);
		ck_assert_str_eq(json_string_value(json_object_get(e, "host")), "CLUS1.cms_owner");
		json_decref(d);
		/* A second move does not crash anything: count 1. */
		NOW += 10;
		sim_world_tick(w, NOW);
		run(w, "NODE2", MOVE_CMS("NODE1"));
		d = sim_world_dump(w, NOW);
		ck_assert_int_eq(json_integer_value(json_object_get(
				     json_array_get(json_object_get(d, "events"), 0), "fired")),
				 1);
		json_decref(d);
		sim_world_free(w);
	}
}
END_TEST

/* A command event on the host that runs the command: the command never runs. */
START_TEST(before_event_on_own_host_cuts_the_command)
{
	struct sim_world *w = load(SCN("two-node"), 0);
	add(w, "{\"on\": \"sc query ClusSvc\", \"on_host\": \"NODE2\", \"do\": \"crash\", "
	       "\"host\": \"NODE2\"}");
	ck_assert_int_eq(run(w, "NODE1", "sc query ClusSvc"), 0); /* other host: no match */
	ck_assert_int_eq(run(w, "NODE2", "sc query ClusSvc"), -1);
	ck_assert_int_eq(sim_host_boot_epoch(w, sim_host_find(w, "NODE2")), 1); /* went down */
	sim_world_free(w);
}
END_TEST

START_TEST(after_event_fires_when_the_command_finished)
{
	struct sim_world *w = load(SCN("two-node"), 1);
	int n2 = sim_host_find(w, "NODE2");
	add(w, "{\"on\": \"sc query ClusSvc\", \"when\": \"after\", \"nth\": 2, \"do\": \"set\", "
	       "\"path\": \"NODE2.pending_reboot\", \"value\": true}");
	struct sbuf out, err;
	int code;
	sbuf_init(&out);
	sbuf_init(&err);
	ck_assert_int_eq(run(w, "NODE2", "sc query ClusSvc"), 0);
	struct sim_action *a = sim_exec(w, n2, "sc query ClusSvc", NOW);
	json_t *d = sim_world_dump(w, NOW);
	ck_assert(json_is_false(
	    json_object_get(json_array_get(json_object_get(d, "hosts"), n2), "pending_reboot")));
	json_decref(d);
	ck_assert_int_eq(sim_action_poll(a, NOW, &out, &err, &code), 1);
	sim_action_free(a);
	d = sim_world_dump(w, NOW);
	ck_assert(json_is_true(
	    json_object_get(json_array_get(json_object_get(d, "hosts"), n2), "pending_reboot")));
	json_decref(d);
	sbuf_release(&out);
	sbuf_release(&err);
	sim_world_free(w);
}
END_TEST

/* The failover rule: to the other node only if its binaries can run the CMS, else Failed. */
START_TEST(failover_rule_both_ways)
{
	char buf[64];
	struct sim_world *w = load(SCN("two-node"), 0);
	add(w, "{\"at\": 0, \"do\": \"failover\", \"cluster\": \"CLUS1\"}");
	sim_world_tick(w, 0);
	ck_assert_str_eq(cms_field(w, "owner", buf, sizeof(buf)), "NODE2");
	sim_world_tick(w, 10);
	ck_assert_str_eq(cms_field(w, "state", buf, sizeof(buf)), "Online");
	sim_world_free(w);

	w = load(SCN("two-node"), 0);
	char err[256];
	ck_assert_int_eq(
	    sim_world_set(w, "NODE2.binaries_version", "8.1.240.6", 0, err, sizeof(err)), 0);
	add(w, "{\"at\": 0, \"do\": \"failover\", \"cluster\": \"CLUS1\"}");
	sim_world_tick(w, 0);
	ck_assert_str_eq(cms_field(w, "owner", buf, sizeof(buf)), "NODE1");
	ck_assert_str_eq(cms_field(w, "state", buf, sizeof(buf)), "Failed");
	sim_world_free(w);

	/* Rule 10 on a crash of the owner: fails over when NODE2 can host it ... */
	w = load(SCN("two-node"), 0);
	add(w, "{\"at\": 0, \"do\": \"crash\", \"host\": \"CLUS1.cms_owner\"}");
	sim_world_tick(w, 0);
	ck_assert_str_eq(cms_field(w, "owner", buf, sizeof(buf)), "NODE2");
	sim_world_free(w);
	/* ... else stays with its owner, not Online, and comes back Failed if it cannot run there.
	 */
	w = load(SCN("two-node"), 0);
	ck_assert_int_eq(
	    sim_world_set(w, "NODE2.binaries_version", "8.1.240.6", 0, err, sizeof(err)), 0);
	ck_assert_int_eq(sim_world_set(w, "CLUS1.cms_version", "8.0.685.25", 0, err, sizeof(err)),
			 0);
	add(w, "{\"at\": 0, \"do\": \"crash\", \"host\": \"NODE1\"}");
	sim_world_tick(w, 0);
	ck_assert_str_eq(cms_field(w, "owner", buf, sizeof(buf)), "NODE1");
	ck_assert_str_ne(cms_field(w, "state", buf, sizeof(buf)), "Online");
	sim_world_free(w);
}
END_TEST

/*
 * The failover rule, condition by condition: NODE2 can run the CMS only when it is up, its
 * Cluster service runs, it has no pending restart and its binaries equal the CMS version.
 * Each condition broken alone keeps the CMS on NODE1: Failed for a failover event (its
 * resources failed and found nowhere to go), Offline then back Online on NODE1 when the owner
 * crashes and returns (rule 10, then rule 8).  With all of them met it moves (the baseline).
 */
static const char *const cannot_host[][2] = {
    {NULL, NULL}, /* baseline: NODE2 can run it */
    {"NODE2.binaries_version", "8.1.240.6"},
    {"NODE2.pending_reboot", "1"},
    {"NODE2.power", "down"},
    {"NODE2.service.ClusSvc.state", "STOPPED"},
};

START_TEST(failover_rule_each_condition)
{
	char buf[64], err[256];
	const char *path = cannot_host[_i][0], *value = cannot_host[_i][1];
	/* A failover of the CMS's resources. */
	struct sim_world *w = load(SCN("two-node"), 0.001);
	if (path != NULL)
		ck_assert_msg(sim_world_set(w, path, value, 0, err, sizeof(err)) == 0, "%s", err);
	add(w, "{\"at\": 0, \"do\": \"failover\", \"cluster\": \"CLUS1\"}");
	sim_world_tick(w, 0);
	NOW = 1000;
	sim_world_tick(w, NOW);
	ck_assert_str_eq(cms_field(w, "owner", buf, sizeof(buf)), path ? "NODE1" : "NODE2");
	ck_assert_str_eq(cms_field(w, "state", buf, sizeof(buf)), path ? "Failed" : "Online");
	sim_world_free(w);
	/* The owner crashes (rule 10): back on its owner when it returns, or moved. */
	w = load(SCN("two-node"), 0.001); /* reboot 5m -> 300 ms, cms_start 1m -> 60 ms */
	if (path != NULL)
		ck_assert_msg(sim_world_set(w, path, value, 0, err, sizeof(err)) == 0, "%s", err);
	add(w, "{\"at\": 0, \"do\": \"crash\", \"host\": \"CLUS1.cms_owner\"}");
	sim_world_tick(w, 0);
	NOW = 100;
	sim_world_tick(w, NOW);
	ck_assert_str_eq(cms_field(w, "owner", buf, sizeof(buf)), path ? "NODE1" : "NODE2");
	ck_assert_str_eq(cms_field(w, "state", buf, sizeof(buf)), path ? "Offline" : "Online");
	NOW = 1000;
	sim_world_tick(w, NOW);
	ck_assert_str_eq(cms_field(w, "state", buf, sizeof(buf)), "Online");
	sim_world_free(w);
}
END_TEST

START_TEST(bad_events_refused)
{
	static const char *const cases[][2] = {
	    {"[]", "event: expected a JSON object"},
	    {"{\"do\": \"reboot\", \"host\": \"NODE1\"}", "give exactly one of \"at\""},
	    {"{\"at\": 1, \"on\": \"x\", \"do\": \"reboot\", \"host\": \"NODE1\"}",
	     "give exactly one of"},
	    {"{\"at\": 1, \"do\": \"explode\", \"host\": \"NODE1\"}", "\"do\" must be one of"},
	    {"{\"at\": 1, \"do\": \"reboot\", \"host\": \"NODE9\"}", "\"host\" must name a host"},
	    {"{\"at\": 1, \"do\": \"reboot\", \"host\": \"CLUS1.owner\"}", "\"host\" must name"},
	    {"{\"at\": 1, \"do\": \"failover\", \"cluster\": \"CLUS9\"}", "\"cluster\" must name"},
	    {"{\"at\": 1, \"do\": \"set\", \"path\": \"NODE1.power\"}", "set needs"},
	    {"{\"at\": \"soon\", \"do\": \"reboot\", \"host\": \"NODE1\"}",
	     "\"at\" must be a duration"},
	    {"{\"on\": \"x\", \"when\": \"during\", \"do\": \"reboot\", \"host\": \"NODE1\"}",
	     "\"when\" must be before or after"},
	    {"{\"at\": 1, \"when\": \"after\", \"do\": \"reboot\", \"host\": \"NODE1\"}",
	     "go with \"on\""},
	    {"{\"at\": 1, \"do\": \"reboot\", \"host\": \"NODE1\", \"bogus\": 1}",
	     "unknown key \"bogus\""},
	};
	struct sim_world *w = load(SCN("two-node"), 0);
	char err[256];
	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++) {
		json_t *j = json_loads(cases[i][0], 0, NULL);
		ck_assert_int_eq(sim_event_add(w, j, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i][1]) != NULL, "case %zu: %s", i, err);
		json_decref(j);
	}
	json_t *d = sim_world_dump(w, 0);
	ck_assert_int_eq(json_array_size(json_object_get(d, "events")), 0);
	json_decref(d);
	sim_world_free(w);
}
END_TEST

START_TEST(scenario_events_located_errors_and_fleet_copies)
{
	char dir[] = "/tmp/check_sim_events.XXXXXX", err[512];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = xasprintf("%s/s.yml", dir);
	const char *text = "hosts:\n  N1: {binaries_version: 8.0.685.25}\n"
			   "  N2: {binaries_version: 8.0.685.25}\n"
			   "clusters:\n  C1: {cms: CMS1, cms_version: 8.0.685.25, cms_owner: N1, "
			   "members: [N1, N2]}\n"
			   "events:\n  - {on: Move-Clustered, do: crash, host: C1.cms_owner}\n"
			   "  - {at: 5m, do: set, path: N2.pending_reboot, value: 1}\n";
	ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0600), 0);
	struct sim_world *w = sim_world_fleet(path, 2, 1, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	json_t *d = sim_world_dump(w, 0);
	json_t *ev = json_object_get(d, "events");
	ck_assert_int_eq(json_array_size(ev), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 2), "host")),
			 "C1-002.cms_owner");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 3), "path")),
			 "N2-002.pending_reboot");
	json_decref(d);
	sim_world_free(w);
	text = "hosts:\n  N1: {binaries_version: 8.0.685.25}\n"
	       "  N2: {binaries_version: 8.0.685.25}\n"
	       "clusters:\n  C1: {cms: CMS1, cms_version: 8.0.685.25, cms_owner: N1, "
	       "members: [N1, N2]}\n"
	       "events:\n  - {at: 5m, do: reboot, host: N7}\n";
	ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0600), 0);
	ck_assert_ptr_null(sim_world_load(path, 1, err, sizeof(err)));
	ck_assert_msg(strstr(err, "s.yml:7:5: event: \"host\" must name a host") != NULL, "%s",
		      err);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim_events");
	TCase *tc = tcase_create("events");
	tcase_add_test(tc, timed_reboot_at_world_time);
	tcase_add_test(tc, timed_set_power_off_on_and_plain_seconds);
	tcase_add_test(tc, owner_crashes_when_move_starts_ten_of_ten);
	tcase_add_test(tc, before_event_on_own_host_cuts_the_command);
	tcase_add_test(tc, after_event_fires_when_the_command_finished);
	tcase_add_test(tc, failover_rule_both_ways);
	tcase_add_loop_test(tc, failover_rule_each_condition, 0,
			    (int)(sizeof(cannot_host) / sizeof(cannot_host[0])));
	tcase_add_test(tc, bad_events_refused);
	tcase_add_test(tc, scenario_events_located_errors_and_fleet_copies);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
