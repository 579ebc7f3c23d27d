/*
 * check_replay.c — the one journal reader (orchestrator/state/replay.h,
 * docs/journal.md §1.7), on a real journal: tests/fuzz/corpus/replay/full-run
 * is what `ccrup apply --yes` wrote for the shipped playbook against ccrsim's
 * two-node scenario (same cluster and host names as the example inventory).
 *
 *   prefixes     every prefix of the run (every crash point) replays, strict,
 *                and the outage is open exactly between its outage-start and
 *                the done of its last step: after that it is over by the steps
 *   members      every member of every record, given a value of the wrong type,
 *                is refused naming that line (and `record` without name/value,
 *                or with value null)
 *   rebind       a `rebind` record: the new bindings, the same work of a node carried to
 *                its new role (and nothing else), its members checked
 *   rules        a forged done after a failed step, a done without its begin,
 *                a reboot begin without its boot id, a forged run-end done, a
 *                record of another run, another cluster's journal: refused
 *                naming the line and the rule
 *
 * Run from the repository root (make check does).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "journal.h"
#include "jrecord.h"
#include "model.h"
#include "replay.h"
#include "util.h"

#define RUN "tests/fuzz/corpus/replay/full-run"

static json_t *run; /* the records of RUN, crc removed */
static struct playbook *pb;
static struct inventory *inv;
static char tmpdir[64], jpath[128];

static void load_fixtures(void)
{
	char *data = NULL;
	size_t len = 0;
	struct diag d;

	ck_assert_int_eq(read_file(RUN, 1 << 20, &data, &len), 0);
	run = json_array();
	for (char *p = data, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		json_t *r = json_loadb(p, (size_t)(nl - p), 0, NULL);
		ck_assert_ptr_nonnull(r);
		json_object_del(r, "crc");
		json_array_append_new(run, r);
	}
	free(data);
	diag_init(&d);
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	inv = inventory_load("playbooks/inventory.example.yml", &d);
	diag_release(&d);
	ck_assert_ptr_nonnull(pb);
	ck_assert_ptr_nonnull(inv);
	/* The run pinned the playbook as it was then; the plan rules apply to the
	 * playbook it pinned, so pin today's (the steps are the same). */
	json_object_set_new(json_array_get(run, 0), "playbook_sha256", json_string(pb->sha256));
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_replay.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", tmpdir);
	if (run == NULL)
		load_fixtures();
}

static void teardown(void)
{
	unlink(jpath);
	rmdir(tmpdir);
}

/* Write records [0, n) of recs as a CRC-valid journal (seq renumbered). */
static void write_journal(json_t *recs, size_t n)
{
	FILE *fp = fopen(jpath, "wb");
	ck_assert_ptr_nonnull(fp);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_deep_copy(json_array_get(recs, i));
		size_t len;
		unsigned long crc;
		json_object_set_new(r, "seq", json_integer((json_int_t)i + 1));
		char *line = jrecord_encode(r, &len, &crc);
		ck_assert_ptr_nonnull(line);
		ck_assert_uint_eq(fwrite(line, 1, len, fp), len);
		free(line);
		json_decref(r);
	}
	ck_assert_int_eq(fclose(fp), 0);
}

/*
 * Replay the written journal as resume, status and report do.  Returns 0, or
 * -1 with err.  *rpp (if not NULL) gets the replay (free it, then *jp).
 */
static int replay_file(const char *cluster, char *err, size_t errlen, struct replay **rpp,
		       struct journal **jp, struct plan **pp)
{
	struct journal *j = NULL;
	char msg[512];
	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	struct replay *rp = replay_load(j, cluster, err, errlen);
	struct plan *p = NULL;
	int rc = rp ? 0 : -1;
	if (rp && rp->nruns) {
		p = replay_compile_plan(rp, pb, inv, &inv->clusters[0], err, errlen);
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(rp->playbook_sha256, pb->sha256);
		rc = replay_plan(rp, p, 1, err, errlen);
	}
	if (rpp) {
		*rpp = rp;
		*jp = j;
		*pp = p;
		return rc;
	}
	plan_free(p);
	replay_free(rp);
	journal_close(j);
	return rc;
}

static const char *ev_of(size_t i)
{
	return json_string_value(json_object_get(json_array_get(run, i), "event"));
}

static size_t find(const char *ev, const char *step)
{
	for (size_t i = 0; i < json_array_size(run); i++) {
		json_t *r = json_array_get(run, i);
		const char *s = json_string_value(json_object_get(r, "step"));
		if (strcmp(ev_of(i), ev) == 0 && (step == NULL || (s && strcmp(s, step) == 0)))
			return i;
	}
	ck_abort_msg("no %s %s in the fixture", ev, step ? step : "");
	return 0;
}

/* err must be "PATH:LINE: ...want..." */
static void expect_err(const char *err, size_t line, const char *want)
{
	char *head = xasprintf("%s:%zu: ", jpath, line);
	ck_assert_msg(strncmp(err, head, strlen(head)) == 0, "want '%s...', got '%s'", head, err);
	ck_assert_msg(strstr(err, want) != NULL, "want '%s' in '%s'", want, err);
	free(head);
}

START_TEST(full_run)
{
	struct replay *rp;
	struct journal *j;
	struct plan *p;
	char err[1024] = "";
	write_journal(run, json_array_size(run));
	ck_assert_msg(replay_file("CLUS1", err, sizeof(err), &rp, &j, &p) == 0, "%s", err);
	ck_assert_int_eq(rp->nruns, 1);
	ck_assert_str_eq(rp->result, "done");
	ck_assert_int_eq(rp->noutages, 1);
	ck_assert(!rp->outages[0].implied);
	ck_assert_ptr_null(replay_open_outage(rp));
	ck_assert_str_eq(replay_binding(rp, "active"), "NODE1");
	ck_assert_str_eq(replay_binding(rp, "passive"), "NODE2");
	ck_assert_int_gt(rp->nvalues, 0);
	for (int i = 0; i < p->nsteps; i++) {
		const struct replay_step *s = replay_step_at(rp, i);
		ck_assert_msg(s && (s->state == RS_DONE || s->state == RS_SKIPPED), "step %d", i);
	}
	replay_free(rp);
	plan_free(p);
	journal_close(j);
}
END_TEST

/* Every crash point: a prefix replays; the outage is open only while its steps run. */
START_TEST(every_prefix)
{
	size_t start = find("outage-start", NULL), last = find("done", "cms.upgrade-cms");
	for (size_t n = 1; n <= json_array_size(run); n++) {
		struct replay *rp;
		struct journal *j;
		struct plan *p;
		char err[1024] = "";
		write_journal(run, n);
		ck_assert_msg(replay_file("CLUS1", err, sizeof(err), &rp, &j, &p) == 0,
			      "prefix %zu: %s", n, err);
		int open = replay_open_outage(rp) != NULL;
		ck_assert_msg(open == (n > start && n <= last), "prefix %zu: outage open %d", n,
			      open);
		if (n > last) {
			ck_assert_int_eq(rp->noutages, 1);
			ck_assert_str_eq(rp->outages[0].end_step, "cms.upgrade-cms");
			ck_assert(rp->outage_total_ms >= 0);
			/* Killed between the last step's done and outage-end: over by the steps. */
			ck_assert_int_eq(rp->outages[0].implied, n == last + 1);
		}
		replay_free(rp);
		plan_free(p);
		journal_close(j);
	}
}
END_TEST

/* Every member of every record, set to a value no member accepts, is refused. */
START_TEST(every_member_is_checked)
{
	int tried = 0;
	for (size_t i = 0; i < json_array_size(run); i++) {
		const char *key;
		json_t *val;
		json_t *orig = json_array_get(run, i);
		json_object_foreach(orig, key, val)
		{
			if (strcmp(key, "seq") == 0 || strcmp(key, "event") == 0)
				continue;
			json_t *copy = json_deep_copy(run);
			json_object_set_new(json_array_get(copy, i), key, json_pack("[i]", 1));
			write_journal(copy, json_array_size(copy));
			json_decref(copy);
			char err[1024] = "";
			ck_assert_msg(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL) < 0,
				      "line %zu member %s accepted as an array", i + 1, key);
			expect_err(err, i + 1, key);
			tried++;
		}
	}
	ck_assert_int_gt(tried, 500);
}
END_TEST

static const char *const record_damage[][2] = {
    {"value", NULL}, {"name", NULL}, {"value", "null"}, {"step", NULL}, {"node", NULL}};

/* Issue 11 defect 1: a `record` without name or value, or value null. */
START_TEST(record_damaged)
{
	size_t i = find("record", NULL);
	const char *member = record_damage[_i][0];
	json_t *copy = json_deep_copy(run);
	json_t *r = json_array_get(copy, i);
	if (record_damage[_i][1])
		json_object_set_new(r, member, json_null());
	else
		json_object_del(r, member);
	write_journal(copy, json_array_size(copy));
	json_decref(copy);
	char err[1024] = "";
	ck_assert_int_lt(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL), 0);
	expect_err(err, i + 1, member);
	ck_assert_ptr_nonnull(strstr(err, "`record` record"));
}
END_TEST

/* A copy of the run with records [from, to) replaced by the given ones. */
static json_t *splice(size_t from, size_t to, json_t *with)
{
	json_t *out = json_array();
	for (size_t i = 0; i < from; i++)
		json_array_append(out, json_array_get(run, i));
	json_array_extend(out, with);
	for (size_t i = to; i < json_array_size(run); i++)
		json_array_append(out, json_array_get(run, i));
	json_decref(with);
	return out;
}

static json_t *like(size_t i, const char *ev)
{
	json_t *r = json_deep_copy(json_array_get(run, i));
	json_object_set_new(r, "event", json_string(ev));
	return r;
}

static void expect_refused(json_t *recs, size_t line, const char *rule)
{
	write_journal(recs, json_array_size(recs));
	json_decref(recs);
	char err[1024] = "";
	ck_assert_msg(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL) < 0,
		      "accepted; want line %zu %s", line, rule);
	expect_err(err, line, rule);
}

/* Issue 11 defect 10: a forged done of the CMS upgrade after a failed setup. */
START_TEST(forged_done_after_failed)
{
	size_t d = find("done", "passive.setup");
	size_t up = find("done", "cms.upgrade-cms");
	json_t *failed = like(d, "failed");
	json_object_del(failed, "duration_ms");
	json_object_set_new(failed, "reason", json_string("exit 1"));
	json_t *forged = json_deep_copy(json_array_get(run, up));
	expect_refused(splice(d, d + 1, json_pack("[o, o]", failed, forged)), d + 2,
		       "(rule: steps in plan order)");
}
END_TEST

START_TEST(done_without_begin)
{
	size_t b = find("begin", "passive.setup");
	expect_refused(splice(b, b + 1, json_array()), b + 1, "(rule: done only after begin");
}
END_TEST

START_TEST(reboot_begin_without_boot_id)
{
	size_t b = find("begin", "passive.reboot");
	json_t *r = json_deep_copy(json_array_get(run, b));
	ck_assert_ptr_nonnull(json_object_get(r, "boot_id"));
	json_object_del(r, "boot_id");
	expect_refused(splice(b, b + 1, json_pack("[o]", r)), b + 1, "(rule: reboot evidence)");
}
END_TEST

START_TEST(forged_run_end_done)
{
	size_t up = find("done", "cms.upgrade-cms");
	json_t *end = json_deep_copy(json_array_get(run, json_array_size(run) - 1));
	json_t *recs = splice(up + 1, json_array_size(run), json_pack("[o]", end));
	expect_refused(recs, up + 2, "(rule: a run is done when every step is)");
}
END_TEST

START_TEST(another_runs_record)
{
	size_t b = find("begin", "passive.setup");
	json_t *r = json_deep_copy(json_array_get(run, b));
	json_object_set_new(r, "run_id", json_string("2026-01-01T00-00-00-1"));
	expect_refused(splice(b, b + 1, json_pack("[o]", r)), b + 1, "(rule: one run id per run)");
}
END_TEST

START_TEST(another_clusters_journal)
{
	char err[1024] = "";
	write_journal(run, json_array_size(run));
	ck_assert_int_lt(replay_file("CLUS2", err, sizeof(err), NULL, NULL, NULL), 0);
	expect_err(err, 1, "this is the journal of cluster CLUS1, not of CLUS2");
}
END_TEST

START_TEST(second_outage_start_while_open)
{
	size_t s = find("outage-start", NULL);
	json_t *again = json_deep_copy(json_array_get(run, s));
	expect_refused(splice(s + 1, s + 1, json_pack("[o]", again)), s + 2,
		       "(rule: one outage at a time)");
}
END_TEST

/* The records of RUN up to (not including) index n, then an `abandoned` record. */
static json_t *abandoned_after(size_t n, json_t *extra)
{
	json_t *recs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(recs, json_array_get(run, i));
	json_t *a = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s}", "time", "2026-12-07T23:00:00.000Z", "run_id",
	    json_string_value(json_object_get(json_array_get(run, 0), "run_id")), "event",
	    "abandoned", "reason", "called off", "user", "ops", "host", "admin1");
	if (extra)
		json_object_update(a, extra);
	json_array_append_new(recs, a);
	json_decref(extra);
	return recs;
}

/* A journal ending in `abandoned` (in flight, or with the outage open): the run is over,
 * abandoned, with its reason and user; an open outage stays open (nothing closed it). */
START_TEST(abandoned_ends_the_run)
{
	size_t cut[] = {find("begin", "passive.setup") + 1, find("outage-start", NULL) + 2};
	for (size_t k = 0; k < CCR_ARRAY_LEN(cut); k++) {
		json_t *recs = abandoned_after(cut[k], k ? json_pack("{s:b}", "forced", 1) : NULL);
		struct replay *rp;
		struct journal *j;
		struct plan *p;
		char err[1024] = "";
		write_journal(recs, json_array_size(recs));
		ck_assert_msg(replay_file("CLUS1", err, sizeof(err), &rp, &j, &p) == 0, "%s", err);
		ck_assert_str_eq(rp->result, "abandoned");
		ck_assert_str_eq(rp->result_detail, "called off");
		ck_assert_str_eq(rp->abandoned_by, "ops");
		ck_assert_int_eq(rp->end_line, (int)json_array_size(recs));
		ck_assert_int_eq(replay_open_outage(rp) != NULL, k == 1);
		replay_free(rp);
		plan_free(p);
		journal_close(j);
		json_decref(recs);
	}
}
END_TEST

/* `abandoned` members are checked like every record's: refused naming the line. */
START_TEST(abandoned_members_checked)
{
	json_t *bad[] = {json_pack("{s:i}", "reason", 1), json_pack("{s:s}", "forced", "yes"),
			 json_pack("{s:n}", "user")};
	const char *member[] = {"reason", "forced", "user"};
	for (size_t k = 0; k < CCR_ARRAY_LEN(bad); k++) {
		size_t n = find("begin", "passive.setup") + 1;
		json_t *recs = abandoned_after(n, bad[k]);
		char err[1024] = "";
		write_journal(recs, json_array_size(recs));
		ck_assert(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL) < 0);
		expect_err(err, n + 1, member[k]);
		json_decref(recs);
	}
	/* Without its reason. */
	json_t *recs = abandoned_after(3, NULL);
	json_object_del(json_array_get(recs, 3), "reason");
	char err[1024] = "";
	write_journal(recs, json_array_size(recs));
	ck_assert(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL) < 0);
	expect_err(err, 4, "member \"reason\" is missing");
	json_decref(recs);
}
END_TEST

/* The records of RUN up to (not including) index n, then a `rebind` record (members: extra). */
static json_t *rebound_after(size_t n, json_t *extra)
{
	json_t *recs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(recs, json_array_get(run, i));
	json_t *r = json_pack(
	    "{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}, {s:s, s:s}], s:s}", "time",
	    "2026-12-07T23:00:00.000Z", "run_id",
	    json_string_value(json_object_get(json_array_get(run, 0), "run_id")), "event", "rebind",
	    "old", "role", "active", "host", "NODE1", "role", "passive", "host", "NODE2", "new",
	    "role", "active", "host", "NODE2", "role", "passive", "host", "NODE1", "reason",
	    "role active: NODE1 -> NODE2; role passive: NODE2 -> NODE1");
	if (extra)
		json_object_update(r, extra);
	json_array_append_new(recs, r);
	json_decref(extra);
	return recs;
}

/* After a rebind: the new bindings, and what NODE2 did as passive counts for the same
 * sequence steps of its new role; the passive steps of NODE1 are to do. */
START_TEST(rebind_carries_the_same_work)
{
	size_t n = find("done", "passive.dotnet-sp1") + 1;
	json_t *recs = rebound_after(n, NULL);
	struct replay *rp;
	struct journal *j;
	struct plan *p;
	char err[1024] = "";
	write_journal(recs, json_array_size(recs));
	ck_assert_msg(replay_file("CLUS1", err, sizeof(err), &rp, &j, &p) == 0, "%s", err);
	ck_assert_int_eq(rp->rebinds, 1);
	ck_assert_int_eq(rp->rebind_line, (int)n + 1);
	ck_assert_str_eq(replay_binding(rp, "active"), "NODE2");
	ck_assert_str_eq(replay_binding(rp, "passive"), "NODE1");
	const struct plan_step *fa = plan_find(p, "former-active.dotnet-sp1", "NODE2");
	const struct plan_step *pa = plan_find(p, "passive.dotnet-sp1", "NODE1");
	ck_assert_ptr_nonnull(fa);
	ck_assert_ptr_nonnull(pa);
	const struct replay_step *s = replay_step_at(rp, fa->index - 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->state, RS_DONE);
	ck_assert_ptr_null(replay_step_at(rp, pa->index - 1));
	/* Not the same work: the Cluster Group move of the passive phase is its own step. */
	const struct plan_step *mv = plan_find(p, "former-active.move-cluster-group", "NODE2");
	ck_assert_ptr_nonnull(mv);
	ck_assert_ptr_null(replay_step_at(rp, mv->index - 1));
	replay_free(rp);
	plan_free(p);
	journal_close(j);
	json_decref(recs);
}
END_TEST

/* `rebind` members are checked like every record's: refused naming the line. */
START_TEST(rebind_members_checked)
{
	json_t *bad[] = {json_pack("{s:s}", "new", "NODE2"),
			 json_pack("{s:[{s:s}]}", "new", "role", "active"),
			 json_pack("{s:[{s:s, s:s, s:i}]}", "old", "role", "active", "host",
				   "NODE1", "count", -1),
			 json_pack("{s:i}", "reason", 3)};
	const char *member[] = {"\"new\"", "\"new\"", "\"old\"", "\"reason\""};
	size_t n = find("begin", "passive.setup") + 1;
	for (size_t k = 0; k < CCR_ARRAY_LEN(bad); k++) {
		json_t *recs = rebound_after(n, bad[k]);
		char err[1024] = "";
		write_journal(recs, json_array_size(recs));
		ck_assert(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL) < 0);
		expect_err(err, n + 1, member[k]);
		json_decref(recs);
	}
	json_t *recs = rebound_after(n, NULL);
	json_object_del(json_array_get(recs, n), "old");
	char err[1024] = "";
	write_journal(recs, json_array_size(recs));
	ck_assert(replay_file("CLUS1", err, sizeof(err), NULL, NULL, NULL) < 0);
	expect_err(err, n + 1, "member \"old\" is missing");
	json_decref(recs);
}
END_TEST

START_TEST(names_round_trip)
{
	for (int e = JEV_UNKNOWN + 1; e < JEV_COUNT; e++)
		ck_assert_int_eq(jev_parse(jev_name((enum jev)e)), e);
	ck_assert_int_eq(jev_parse("no-such-event"), JEV_UNKNOWN);
	ck_assert_int_eq(jev_parse(NULL), JEV_UNKNOWN);
	ck_assert_str_eq(jev_name(JEV_OUTAGE_START), "outage-start");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_run);
	tcase_add_test(tc, every_prefix);
	tcase_add_test(tc, every_member_is_checked);
	tcase_add_loop_test(tc, record_damaged, 0, (int)CCR_ARRAY_LEN(record_damage));
	tcase_add_test(tc, forged_done_after_failed);
	tcase_add_test(tc, done_without_begin);
	tcase_add_test(tc, reboot_begin_without_boot_id);
	tcase_add_test(tc, forged_run_end_done);
	tcase_add_test(tc, another_runs_record);
	tcase_add_test(tc, another_clusters_journal);
	tcase_add_test(tc, second_outage_start_while_open);
	tcase_add_test(tc, names_round_trip);
	tcase_add_test(tc, abandoned_ends_the_run);
	tcase_add_test(tc, abandoned_members_checked);
	tcase_add_test(tc, rebind_carries_the_same_work);
	tcase_add_test(tc, rebind_members_checked);
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
