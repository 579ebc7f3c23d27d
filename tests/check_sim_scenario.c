/*
 * check_sim_scenario.c — ccrsim's scenario loader and fleet builder
 * (mock-nodes/world/sim_scenario*.c, docs/ccrsim.md Scenarios): every shipped
 * scenario loads with the layout it promises; a bad scenario is refused with
 * FILE:LINE:COL; a fleet of 334 copies of two-node.yml is 1,002 hosts with
 * distinct names and endpoints; the cluster accessors the inventory
 * generator uses.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "util.h"

#define SCN(n) "mock-nodes/scenarios/" n ".yml"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_sim_scenario.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static json_t *dump_of(const char *path, double scale)
{
	char err[512];
	struct sim_world *w = sim_world_load(path, scale, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	json_t *d = sim_world_dump(w, 0);
	sim_world_free(w);
	return d;
}

static const char *cms_field(json_t *d, const char *k)
{
	json_t *c = json_array_get(json_object_get(d, "clusters"), 0);
	return json_string_value(json_object_get(json_object_get(c, "cms"), k));
}

static json_t *host_of(json_t *d, const char *name)
{
	json_t *hosts = json_object_get(d, "hosts");
	for (size_t i = 0; i < json_array_size(hosts); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(hosts, i), "name")),
			   name) == 0)
			return json_array_get(hosts, i);
	ck_abort_msg("no host %s", name);
	return NULL;
}

START_TEST(two_node_is_the_seed)
{
	json_t *d = dump_of(SCN("two-node"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(d, "hosts")), 3);
	ck_assert_str_eq(cms_field(d, "name"), "E2K7CCR");
	ck_assert_str_eq(cms_field(d, "owner"), "NODE1");
	ck_assert_str_eq(cms_field(d, "state"), "Online");
	ck_assert_str_eq(cms_field(d, "version"), "8.0.685.25");
	json_t *n1 = host_of(d, "NODE1"), *n2 = host_of(d, "NODE2"), *hub = host_of(d, "HUBCAS");
	ck_assert_int_eq(json_integer_value(json_object_get(n1, "net_sp")), 1);
	ck_assert(json_is_null(json_object_get(n2, "net_sp")));
	ck_assert_str_eq(json_string_value(json_object_get(hub, "server_version")), "8.1.240.6");
	ck_assert_str_eq(json_string_value(json_object_get(hub, "role")), "hubcas");
	for (int i = 0; i < 2; i++) {
		json_t *svcs = json_object_get(i ? n2 : n1, "services");
		json_t *fw = json_object_get(svcs, "SharedAccess");
		ck_assert_str_eq(json_string_value(json_object_get(fw, "start")), "DISABLED");
		ck_assert_str_eq(json_string_value(json_object_get(fw, "state")), "STOPPED");
		json_t *sl = json_object_get(svcs, "SysmonLog");
		ck_assert_str_eq(json_string_value(json_object_get(sl, "state")), "RUNNING");
		ck_assert_str_eq(json_string_value(json_object_get(sl, "start")), "AUTO_START");
		ck_assert_ptr_nonnull(json_object_get(svcs, "HealthService"));
		ck_assert_ptr_null(json_object_get(svcs, "MOM"));
		ck_assert_ptr_null(json_object_get(svcs, "FSCController"));
		ck_assert_int_eq(json_integer_value(json_object_get(i ? n2 : n1, "os_sp")), 2);
	}
	json_decref(d);
}
END_TEST

START_TEST(every_shipped_scenario_loads)
{
	static const char *const want[][3] = {
	    {"cluster-group-on-passive", "cluster_group_owner", "NODE2"},
	    {"replication-lagging", "cms.state", "Online"},
	    {"half-done", "NODE2.binaries_version", "8.1.240.6"},
	    {"trap-both-upgraded", "cms.state", "Failed"},
	    {"two-node", "cluster_group_owner", "NODE1"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(want); i++) {
		char *path = xasprintf("mock-nodes/scenarios/%s.yml", want[i][0]);
		json_t *d = dump_of(path, 1.0);
		json_t *c = json_array_get(json_object_get(d, "clusters"), 0);
		const char *got;
		if (strncmp(want[i][1], "cms.", 4) == 0)
			got = cms_field(d, want[i][1] + 4);
		else if (strncmp(want[i][1], "NODE2.", 6) == 0)
			got =
			    json_string_value(json_object_get(host_of(d, "NODE2"), want[i][1] + 6));
		else
			got = json_string_value(json_object_get(c, want[i][1]));
		ck_assert_msg(got && strcmp(got, want[i][2]) == 0, "%s: %s = %s", want[i][0],
			      want[i][1], got);
		json_decref(d);
		free(path);
	}
}
END_TEST

START_TEST(lagging_and_trap_details)
{
	json_t *d = dump_of(SCN("replication-lagging"), 1.0);
	json_t *r =
	    json_object_get(json_array_get(json_object_get(d, "clusters"), 0), "replication");
	ck_assert_int_eq(json_array_size(r), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "copy_queue")),
			 250);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 1), "status")),
			 "Initializing");
	json_decref(d);
	d = dump_of(SCN("trap-both-upgraded"), 0);
	json_t *c = json_array_get(json_object_get(d, "clusters"), 0);
	ck_assert(json_is_true(json_object_get(json_object_get(c, "cms"), "registry_key")));
	ck_assert_int_eq(json_array_size(json_object_get(c, "outages")), 1);
	ck_assert_str_eq(
	    json_string_value(json_object_get(host_of(d, "NODE1"), "binaries_version")),
	    "8.1.240.6");
	json_decref(d);
}
END_TEST

/* Write text to a scenario file and load it; returns the error (caller frees) or NULL. */
static char *load_text(const char *text)
{
	char err[512];
	char *path = xasprintf("%s/s.yml", tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	struct sim_world *w = sim_world_load(path, 0, err, sizeof(err));
	char *res = NULL;
	if (w == NULL) {
		const char *colon = strchr(err, ':');
		ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "error without the file: %s",
			      err);
		res = xstrdup(colon ? err + strlen(path) + 1 : err);
	}
	sim_world_free(w);
	free(path);
	return res;
}

#define GOOD_HOSTS                                                                                 \
	"hosts:\n"                                                                                 \
	"  N1: {binaries_version: 8.0.685.25}\n"                                                   \
	"  N2: {binaries_version: 8.0.685.25}\n"
#define GOOD_CLUSTER                                                                               \
	"clusters:\n"                                                                              \
	"  C1:\n"                                                                                  \
	"    cms: CMS1\n"                                                                          \
	"    cms_version: 8.0.685.25\n"                                                            \
	"    cms_owner: N1\n"                                                                      \
	"    members: [N1, N2]\n"

START_TEST(minimal_scenario_and_defaults)
{
	char *e = load_text(GOOD_HOSTS GOOD_CLUSTER);
	ck_assert_msg(e == NULL, "%s", e);
	char err[256];
	char *path = xasprintf("%s/s.yml", tmpdir);
	struct sim_world *w = sim_world_load(path, 0, err, sizeof(err));
	ck_assert_str_eq(sim_host_addr(w, 0), "127.0.0.1");
	ck_assert_int_eq(sim_host_port(w, 0), 22001);
	ck_assert_int_eq(sim_host_port(w, 1), 22002);
	ck_assert_int_eq(sim_cluster_nacknowledge(w, 0), 4);
	ck_assert_str_eq(sim_cluster_acknowledge(w, 0, 0), "preflight.lab-tested");
	ck_assert_str_eq(sim_cluster_acknowledge(w, 0, 3), "final.new-backup");
	ck_assert_ptr_null(sim_cluster_acknowledge(w, 0, 4));
	ck_assert_int_eq(sim_cluster_nhub_cas(w, 0), 0);
	json_t *d = sim_world_dump(w, 0);
	json_t *r =
	    json_object_get(json_array_get(json_object_get(d, "clusters"), 0), "replication");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "storage_group")),
			 "First Storage Group");
	json_decref(d);
	sim_world_free(w);
	free(path);
}
END_TEST

START_TEST(bad_scenarios_are_located)
{
	static const char *const cases[][2] = {
	    {"hosts: [\n", "2:1: "},
	    {GOOD_HOSTS GOOD_CLUSTER "hostz: 1\n", "10:1: unknown key \"hostz\""},
	    {"hosts:\n  N1: {binaries_version: 8.x}\n",
	     "2:26: binaries_version: expected a version"},
	    {GOOD_HOSTS "  N3: {binaries_version: 8.0.685.25}\n" GOOD_CLUSTER
			"    members: [N1, N2, N3]\n",
	     "duplicate key \"members\""},
	    {GOOD_HOSTS "  N3: {binaries_version: 8.0.685.25}\n"
			"clusters:\n  C1:\n    cms: X\n    cms_version: 8.0.685.25\n"
			"    cms_owner: N1\n    members: [N1, N2, N3]\n",
	     "10:14: members: a CCR cluster has exactly two nodes"},
	    {GOOD_HOSTS "clusters:\n  C1:\n    cms: X\n    cms_version: 8.0.685.25\n"
			"    cms_owner: N9\n    members: [N1, N2]\n",
	     "8:16: cms_owner: no host named \"N9\""},
	    {"hosts:\n  N1:\n    binaries_version: 8.0.685.25\n    services:\n"
	     "      ClusSvc: {state: DANCING}\n",
	     "5:16: state: expected RUNNING or STOPPED"},
	    {"durations:\n  setup: 30 minutes\n" GOOD_HOSTS GOOD_CLUSTER,
	     "2:10: setup: expected a duration"},
	    {GOOD_HOSTS "  N3: {binaries_version: 8.0.685.25}\n" GOOD_CLUSTER,
	     "4:3: host N3 is neither a member nor a hub_cas of any cluster"},
	    {GOOD_HOSTS GOOD_CLUSTER "faults:\n  - {host: N1, kind: explode}\n",
	     "11:5: fault: \"kind\" must be one of"},
	    {GOOD_HOSTS GOOD_CLUSTER "faults:\n  - {host: N7, kind: hang}\n",
	     "11:5: fault: \"host\" must name a host"},
	    {"hosts:\n  N1: {binaries_version: 8.0.685.25, port: 3000}\n"
	     "  N2: {binaries_version: 8.0.685.25, port: 3000}\n" GOOD_CLUSTER,
	     "3:7: 127.0.0.1:3000 is already used by N1"},
	    {"clock: yesterday\n" GOOD_HOSTS GOOD_CLUSTER, "1:8: clock: expected"},
	    {GOOD_HOSTS GOOD_CLUSTER "    cms_state: Sleeping\n", "10:16: cms_state: expected"},
	    {"hosts:\n  N1: {binaries_version: 8.0.685.25, address: 10.0.0.1}\n",
	     "2:47: address: expected a loopback address"},
	    {"", "1:1: the scenario is empty"},
	    {GOOD_HOSTS, "1:1: missing key \"clusters\""},
	    {GOOD_HOSTS GOOD_CLUSTER "    acknowledge: [lab tested]\n",
	     "10:19: acknowledge: expected PHASE.STEP"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++) {
		char *e = load_text(cases[i][0]);
		ck_assert_msg(e != NULL, "case %zu loaded", i);
		ck_assert_msg(strstr(e, cases[i][1]) != NULL, "case %zu: got \"%s\", want \"%s\"",
			      i, e, cases[i][1]);
		free(e);
	}
}
END_TEST

START_TEST(missing_file_and_bad_scale)
{
	char err[256];
	ck_assert_ptr_null(sim_world_load("/nonexistent/x.yml", 0, err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/x.yml:0:0: cannot read the scenario file");
	ck_assert_ptr_null(sim_world_load(SCN("two-node"), -1, err, sizeof(err)));
	ck_assert_ptr_null(sim_world_fleet(SCN("two-node"), 0, 0, err, sizeof(err)));
}
END_TEST

START_TEST(fleet_of_334_is_1002_distinct_hosts)
{
	char err[256];
	struct sim_world *w = sim_world_fleet(SCN("two-node"), 334, 0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	int n = sim_world_nhosts(w);
	ck_assert_int_eq(n, 1002);
	ck_assert_int_eq(sim_world_nclusters(w), 334);
	ck_assert_str_eq(sim_host_name(w, 0), "HUBCAS-001");
	ck_assert_str_eq(sim_host_name(w, 1), "NODE1-001");
	ck_assert_str_eq(sim_host_name(w, 1001), "NODE2-334");
	ck_assert_str_eq(sim_cluster_name(w, 333), "CLUS1-334");
	ck_assert_str_eq(sim_cluster_cms(w, 333), "E2K7CCR-334");
	ck_assert_int_eq(sim_cluster_owner(w, 333), sim_host_find(w, "NODE1-334"));
	ck_assert_int_eq(sim_cluster_member(w, 6, 1), sim_host_find(w, "node2-007"));
	ck_assert_int_eq(sim_cluster_hub_cas(w, 6, 0), sim_host_find(w, "HUBCAS-007"));
	/* Every host on its own loopback address, every port the scenario's. */
	static const int ports[] = {22001, 22002, 22003};
	for (int i = 0; i < n; i++) {
		char want[32];
		ck_assert(strlen(sim_host_name(w, i)) <= 15);
		snprintf(want, sizeof(want), "127.%d.%d.%d", i / (254 * 256), i / 254 % 256,
			 i % 254 + 1);
		ck_assert_str_eq(sim_host_addr(w, i), want);
		ck_assert_int_eq(sim_host_port(w, i), ports[i % 3]);
		ck_assert_int_lt(sim_host_http_port(w, i), 32768);
		ck_assert_int_eq(sim_host_find(w, sim_host_name(w, i)), i);
	}
	ck_assert_str_eq(sim_host_addr(w, 0), "127.0.0.1");
	ck_assert_str_eq(sim_host_addr(w, 253), "127.0.0.254");
	ck_assert_str_eq(sim_host_addr(w, 254), "127.0.1.1");
	ck_assert_str_eq(sim_host_addr(w, 1001), "127.0.3.240");
	/* A copy's commands act on its own cluster. */
	struct sbuf out, e;
	sbuf_init(&out);
	sbuf_init(&e);
	int code = -1;
	struct sim_action *a = sim_exec(w, sim_host_find(w, "NODE2-007"), "cluster group", 0);
	ck_assert_int_eq(sim_action_poll(a, 0, &out, &e, &code), 1);
	ck_assert_msg(strstr(out.buf, "E2K7CCR-007          NODE1-007       Online") != NULL, "%s",
		      out.buf);
	sim_action_free(a);
	sbuf_release(&out);
	sbuf_release(&e);
	sim_world_free(w);
}
END_TEST

START_TEST(fleet_copies_faults_per_copy)
{
	char *e =
	    load_text(GOOD_HOSTS GOOD_CLUSTER "faults:\n"
					      "  - {host: N2, match: setup.com, kind: fail}\n"
					      "  - {host: '*', match: shutdown, kind: hang}\n");
	ck_assert_msg(e == NULL, "%s", e);
	char err[256];
	char *path = xasprintf("%s/s.yml", tmpdir);
	struct sim_world *w = sim_world_fleet(path, 3, 0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	json_t *d = sim_world_dump(w, 0);
	json_t *f = json_object_get(d, "faults");
	ck_assert_int_eq(json_array_size(f), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 3), "host")),
			 "N2-003");
	json_decref(d);
	sim_world_free(w);
	free(path);
}
END_TEST

static Suite *sim_scenario_suite(void)
{
	Suite *s = suite_create("sim_scenario");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, two_node_is_the_seed);
	tcase_add_test(tc, every_shipped_scenario_loads);
	tcase_add_test(tc, lagging_and_trap_details);
	tcase_add_test(tc, minimal_scenario_and_defaults);
	tcase_add_test(tc, bad_scenarios_are_located);
	tcase_add_test(tc, missing_file_and_bad_scale);
	tcase_add_test(tc, fleet_of_334_is_1002_distinct_hosts);
	tcase_add_test(tc, fleet_copies_faults_per_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_scenario_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
