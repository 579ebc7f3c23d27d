/*
 * check_plan_json.c — plan_json_text() writes the JSON plan cluster by
 * cluster (bounded memory for large inventories) and must produce exactly the
 * bytes of json_dumps(plan_to_json(...)): for no cluster, one, several, and
 * with per-cluster fields added as `plan --live` does.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "plan.h"
#include "util.h"

#define FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

static char dir[64];
static char *inv_path;
static struct playbook *pb;
static struct inventory *inv;
static struct plan *plans[8];
static int nplans;

static void write_inventory(int n)
{
	FILE *f = fopen(inv_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "inventory: t\nformat: 1\nssh:\n  known_hosts: /nonexistent/known_hosts\n"
		   "defaults:\n  user: administrator\nhosts:\n");
	for (int i = 1; i <= n; i++)
		fprintf(f,
			"  HUBCAS-%d: {address: 127.0.%d.1}\n  NODE1-%d: {address: 127.0.%d.2}\n"
			"  NODE2-%d: {address: 127.0.%d.3}\n",
			i, i, i, i, i, i);
	fprintf(f, "clusters:\n");
	for (int i = 1; i <= n; i++)
		fprintf(
		    f,
		    "  - name: CLUS-%d\n    cms: E2K7CCR-%d\n    members: [NODE1-%d, NODE2-%d]\n"
		    "    active: NODE%d-%d\n    hub_cas: [HUBCAS-%d]\n",
		    i, i, i, i, i % 2 + 1, i, i);
	fclose(f);
}

static void load(int n)
{
	struct diag d;
	char err[512];

	write_inventory(n);
	diag_init(&d);
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	inv = inventory_load(inv_path, &d);
	if (pb == NULL || inv == NULL)
		diag_print(&d, stderr);
	diag_release(&d);
	ck_assert_ptr_nonnull(pb);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(inv->nclusters, n);
	nplans = n;
	for (int i = 0; i < n; i++) {
		struct role_binding *roles = NULL;
		int nroles = 0;
		ck_assert_int_eq(
		    plan_assume_roles(pb, &inv->clusters[i], &roles, &nroles, err, sizeof(err)), 0);
		plans[i] =
		    plan_compile(pb, inv, &inv->clusters[i], roles, nroles, err, sizeof(err));
		free(roles);
		ck_assert_msg(plans[i] != NULL, "%s", err);
	}
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_plan_json.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	inv_path = xasprintf("%s/inv.yml", dir);
	pb = NULL;
	inv = NULL;
	nplans = 0;
}

static void teardown(void)
{
	for (int i = 0; i < nplans; i++)
		plan_free(plans[i]);
	inventory_free(inv);
	playbook_free(pb);
	unlink(inv_path);
	rmdir(dir);
	free(inv_path);
}

/* The tree way: the whole document, then dumped. */
static char *tree_text(int live)
{
	json_t *j = plan_to_json((const struct plan *const *)plans, nplans);
	if (live) {
		json_object_set_new(j, "live", json_true());
		json_t *cl = json_object_get(j, "clusters");
		for (size_t i = 0; i < json_array_size(cl); i++)
			json_object_set_new(json_array_get(cl, i), "remaining_estimate_ms",
					    json_integer((json_int_t)i * 1000));
	}
	char *t = json_dumps(j, FLAGS);
	json_decref(j);
	return t;
}

static void add_field(json_t *cluster, int i, void *arg)
{
	ck_assert_ptr_eq(arg, plans);
	json_object_set_new(cluster, "remaining_estimate_ms", json_integer((json_int_t)i * 1000));
}

static void same(int live)
{
	char *want = tree_text(live);
	char *got = plan_json_text((const struct plan *const *)plans, nplans, live,
				   live ? add_field : NULL, plans);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	json_error_t e;
	json_t *back = json_loads(got, 0, &e);
	ck_assert_msg(back != NULL, "not JSON: %s at %d:%d", e.text, e.line, e.column);
	ck_assert_int_eq((int)json_array_size(json_object_get(back, "clusters")), nplans);
	json_decref(back);
	free(got);
	free(want);
}

START_TEST(no_cluster)
{
	load(1);
	plan_free(plans[0]);
	nplans = 0;
	same(0);
}
END_TEST

START_TEST(one_cluster)
{
	load(1);
	same(0);
	same(1);
}
END_TEST

START_TEST(several_clusters)
{
	load(5);
	same(0);
	same(1);
}
END_TEST

/* A step marked `outage: within` is one outage window by itself (ccr-rollup's online CMS
 * move): the summary and the JSON plan show it from that step to that step, not "none". */
START_TEST(outage_within_is_a_window)
{
	struct diag d;
	char err[512];
	struct role_binding *roles = NULL;
	int nroles = 0;

	diag_init(&d);
	pb = playbook_load("playbooks/ccr-rollup.yml", &d);
	inv = inventory_load("playbooks/inventory.rollup.example.yml", &d);
	diag_release(&d);
	ck_assert_ptr_nonnull(pb);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(
	    plan_assume_roles(pb, &inv->clusters[0], &roles, &nroles, err, sizeof(err)), 0);
	plans[0] = plan_compile(pb, inv, &inv->clusters[0], roles, nroles, err, sizeof(err));
	free(roles);
	ck_assert_msg(plans[0] != NULL, "%s", err);
	nplans = 1;
	const struct plan *p = plans[0];
	ck_assert_int_gt(p->outage_begin, 0);
	ck_assert_int_eq(p->outage_end, p->outage_begin);
	ck_assert_str_eq(p->steps[p->outage_begin - 1].id, "cms.move-cms");
	ck_assert_int_eq(p->outage_ms, 2 * 60000);
	json_t *j = plan_to_json((const struct plan *const *)plans, nplans);
	json_t *o = json_object_get(json_array_get(json_object_get(j, "clusters"), 0), "outage");
	ck_assert_str_eq(json_string_value(json_object_get(o, "from")), "cms.move-cms");
	ck_assert_str_eq(json_string_value(json_object_get(o, "to")), "cms.move-cms");
	json_decref(j);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("plan_json");
	TCase *tc = tcase_create("text");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_cluster);
	tcase_add_test(tc, one_cluster);
	tcase_add_test(tc, several_clusters);
	tcase_add_test(tc, outage_within_is_a_window);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
