/*
 * check_report.c — the HTML report (orchestrator/out/report.h, docs/report.md)
 * from synthetic journals written with the journal API (and audit lines
 * written with the audit sink) into a temporary state directory: finished,
 * failed, unfinished, resumed, missing and corrupt runs; escaping; the
 * timeline's lanes, bars and outage band; `ccrup report` end to end.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "cli.h"
#include "journal.h"
#include "report.h"
#include "util.h"

static char tmpdir[256];
static char state[512];
static int64_t T0; /* an hour before the test: begin and outage wall_ms are T0 + seconds */

static char *members[] = {"NODE1", "NODE2"};
static struct host_group groups[] = {{.name = "members", .hosts = members, .nhosts = 2}};
static struct cluster_def clus1 = {
    .name = "CLUS1", .cms = "E2K7CCR", .groups = groups, .ngroups = 1};

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_report.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	T0 = (now_wall_ms() / 1000 - 3600) * 1000;
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* ---- writing journals ---- */

static struct journal *jopen(const char *cluster)
{
	char *path = xasprintf("%s/%s/journal.jsonl", state, cluster);
	struct journal *j = NULL;
	char msg[256];
	ck_assert_int_ge(journal_open(path, &j, msg, sizeof(msg)), 0);
	journal_set_run_id(j, "R1");
	free(path);
	return j;
}

/*
 * Append a record.  The journal stamps each record's time itself (now), so
 * the times tests control are the wall_ms members (begin, outage-*), set to
 * T0 + seconds by with_wall().
 */
static void rec(struct journal *j, const char *event, json_t *extra)
{
	json_t *o = json_pack("{s:s}", "event", event);
	if (extra) {
		json_object_update(o, extra);
		json_decref(extra);
	}
	ck_assert_int_eq(journal_append(j, o), 0);
	json_decref(o);
}

static json_t *stepm(const char *id, const char *node)
{
	return json_pack("{s:s, s:s}", "step", id, "node", node);
}

static json_t *with_wall(json_t *o, int at_s)
{
	json_object_set_new(o, "wall_ms", json_integer(T0 + at_s * 1000LL));
	return o;
}

static void run_start(struct journal *j)
{
	rec(j, "run-start",
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "cluster", "CLUS1", "playbook", "ccr-sp1",
		      "mode", "unattended", "playbook_sha256", "0", "inventory_sha256", "0"));
}

static void step_done(struct journal *j, const char *id, const char *node, int at_s)
{
	rec(j, "begin", with_wall(stepm(id, node), at_s));
	json_t *d = stepm(id, node);
	json_object_set_new(d, "duration_ms", json_integer(1500));
	json_object_set_new(d, "exit", json_integer(0));
	rec(j, "done", d);
}

/* A finished run: two steps, one outage, one skip, run-end done. */
static void finished_run(void)
{
	struct journal *j = jopen("CLUS1");
	run_start(j);
	step_done(j, "passive.setup", "NODE2", 5);
	rec(j, "outage-start", with_wall(stepm("cms.stop-cms", "NODE2"), 9));
	step_done(j, "cms.stop-cms", "NODE2", 10);
	json_t *oe = with_wall(stepm("cms.upgrade-cms", "NODE2"), 40);
	json_object_set_new(oe, "duration_ms", json_integer(31000));
	rec(j, "outage-end", oe);
	json_t *sk = stepm("restore.start-service[MOM]", "NODE1");
	json_object_set_new(sk, "reason", json_string("check satisfied"));
	rec(j, "skipped", sk);
	rec(j, "run-end", json_pack("{s:s}", "result", "done"));
	journal_close(j);
}

static char *render(struct report_cluster *rc, int64_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	ck_assert_int_eq(report_write_html(fp, &rc, 1, now, "lab"), 0);
	fclose(fp);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- tests ---- */

START_TEST(parse_time)
{
	int64_t ms, t = 1795602600000LL; /* 2026-11-25T10:30:00Z */
	ck_assert_int_eq(report_parse_time("2026-11-25T10:30:00.123Z", &ms), 0);
	ck_assert_int_eq(ms, t + 123);
	ck_assert_int_eq(report_parse_time("2026-11-25T10:30:00Z", &ms), 0);
	ck_assert_int_eq(ms, t);
	ck_assert_int_eq(report_parse_time("2026-11-25 10:30:00Z", &ms), -1);
	ck_assert_int_eq(report_parse_time("2026-11-25T10:30:00.1Z", &ms), -1);
	ck_assert_int_eq(report_parse_time("2026-11-25T10:30:00+01:00", &ms), -1);
	ck_assert_int_eq(report_parse_time(NULL, &ms), -1);
}
END_TEST

START_TEST(escape)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	report_html_escape(fp, "<script>alert('x') & \"y\"</script>");
	report_html_escape(fp, NULL);
	fclose(fp);
	ck_assert_str_eq(buf,
			 "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
	free(buf);
}
END_TEST

/* The word before the cluster's cms: name comes from the playbook's service: label. */
START_TEST(service_label)
{
	struct playbook pb = {.service_label = "CMS<b>"};
	struct report_cluster *rc;
	finished_run();
	ck_assert_int_eq(report_load(state, &pb, NULL, &clus1, &rc), 0);
	char *html = render(rc, rc->end_ms + 3600000);
	ck_assert_ptr_nonnull(strstr(html, "<th>CMS&lt;b&gt;</th><td>E2K7CCR</td>"));
	ck_assert_ptr_nonnull(strstr(html, "lane-label\">CMS&lt;b&gt; E2K7CCR<"));
	ck_assert_ptr_null(strstr(html, "service E2K7CCR"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

START_TEST(finished)
{
	struct report_cluster *rc;
	finished_run();
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_int_eq(rc->state, REPORT_OK);
	ck_assert_str_eq(rc->result, "done");
	ck_assert_str_eq(rc->run_id, "R1");
	ck_assert_str_eq(rc->playbook, "ccr-sp1");
	ck_assert_int_eq(rc->nsteps, 3);
	ck_assert_str_eq(rc->steps[0].status, "done");
	ck_assert_int_eq(rc->steps[0].start_ms, T0 + 5000);
	ck_assert_int_eq(rc->steps[0].exit, 0);
	ck_assert_str_eq(rc->steps[2].status, "skipped");
	ck_assert_str_eq(rc->steps[2].reason, "check satisfied");
	ck_assert_int_eq(rc->noutages, 1);
	ck_assert_int_eq(rc->outages[0].start_ms, T0 + 9000);
	ck_assert_int_eq(rc->outages[0].end_ms, T0 + 40000);
	ck_assert_int_eq(rc->outage_total_ms, 31000);
	ck_assert_int_eq(rc->nlanes, 2);
	ck_assert_str_eq(rc->lanes[0], "NODE1");
	ck_assert(rc->end_ms > 0);
	char *html = render(rc, rc->end_ms + 3600000);
	ck_assert_ptr_nonnull(strstr(html, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(html, "Content-Security-Policy"));
	ck_assert_ptr_nonnull(strstr(html, "<svg class=\"timeline\""));
	ck_assert_int_eq(count(html, "<g class=\"lane\""), 3); /* service + 2 nodes */
	ck_assert_ptr_nonnull(strstr(html, "data-lane=\"service\""));
	ck_assert_ptr_nonnull(strstr(html, "data-lane=\"NODE2\""));
	/* No playbook: the generic word before the inventory's cms: name. */
	ck_assert_ptr_nonnull(strstr(html, "<th>service</th><td>E2K7CCR</td>"));
	ck_assert_ptr_nonnull(strstr(html, "lane-label\">service E2K7CCR<"));
	ck_assert_ptr_null(strstr(html, "CMS"));
	ck_assert_int_eq(count(html, "class=\"outage\""), 1);
	ck_assert_int_eq(count(html, "class=\"step done\""), 2);
	ck_assert_int_eq(count(html, "class=\"step skipped\""), 1);
	ck_assert_ptr_nonnull(strstr(html, "outage 31s"));
	ck_assert_ptr_null(strstr(html, "Outage ongoing"));
	ck_assert_ptr_null(strstr(html, "class=\"now\""));
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_nonnull(strstr(html, "<h3>Steps</h3>"));
	ck_assert_ptr_null(strstr(html, "<h3>Failures</h3>"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

static void failed_run(int with_audit)
{
	struct journal *j = jopen("CLUS1");
	run_start(j);
	rec(j, "outage-start", with_wall(stepm("cms.stop-cms", "NODE2"), 9));
	json_t *b = with_wall(stepm("cms.upgrade-cms", "NODE2"), 10);
	json_object_set_new(b, "command", json_string("setup.com /UpgradeCMS <script>x</script>"));
	rec(j, "begin", b);
	json_t *f = stepm("cms.upgrade-cms", "NODE2");
	json_object_set_new(f, "reason", json_string("exit 1: <b>CMS version differs</b>"));
	json_object_set_new(f, "exit", json_integer(1));
	rec(j, "failed", f);
	rec(j, "run-end",
	    json_pack("{s:s, s:s}", "result", "failed", "detail", "step cms.upgrade-cms failed"));
	journal_close(j);
	if (!with_audit)
		return;
	struct audit *a = audit_new(state);
	struct sbuf out;
	sbuf_init(&out);
	for (int i = 1; i <= 50; i++)
		sbuf_addf(&out, "progress line %d\n", i);
	struct event e = {.kind = EV_CMD_END,
			  .wall_ms = now_wall_ms() + 1000,
			  .cluster = "CLUS1",
			  .step = "cms.upgrade-cms",
			  .node = "NODE2",
			  .command = "setup.com /UpgradeCMS <script>alert(1)</script>",
			  .text = out.buf,
			  .detail = "error: <img src=x onerror=alert(1)> & failed\n",
			  .exit = 1};
	audit_event(&e, a);
	struct event sf = {.kind = EV_STEP_FAILED,
			   .wall_ms = e.wall_ms,
			   .cluster = "CLUS1",
			   .text = "cluster CLUS1, node NODE2, step cms.upgrade-cms: exit 1"};
	audit_event(&sf, a);
	audit_free(a);
	sbuf_release(&out);
}

START_TEST(failed_with_output_escaped)
{
	struct report_cluster *rc;
	failed_run(1);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_str_eq(rc->result, "failed");
	ck_assert_int_eq(rc->nsteps, 1);
	ck_assert_str_eq(rc->steps[0].status, "failed");
	ck_assert_int_eq(rc->steps[0].exit, 1);
	ck_assert(rc->steps[0].has_output);
	ck_assert_int_eq(rc->nstops, 1);
	ck_assert_int_eq(rc->outages[0].end_ms, 0);
	char *html = render(rc, rc->end_ms + 60000);
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "<img"));
	ck_assert_ptr_null(strstr(html, "<b>"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;img src=x onerror=alert(1)&gt; &amp; failed"));
	ck_assert_ptr_nonnull(strstr(html, "<h3>Failures</h3>"));
	ck_assert_ptr_nonnull(strstr(html, "progress line 50"));
	ck_assert_ptr_null(strstr(html, "progress line 5\n")); /* only the last lines */
	ck_assert_ptr_nonnull(strstr(html, "[...]"));
	ck_assert_ptr_nonnull(strstr(html, "class=\"step failed\""));
	ck_assert_ptr_nonnull(strstr(html, "Outage ongoing"));
	ck_assert_ptr_nonnull(strstr(html, "The run stopped:"));
	ck_assert_ptr_nonnull(strstr(html, "badge failed"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

START_TEST(journal_reasons_are_redacted)
{
	struct report_cluster *rc;
	setenv("CCRUP_KEY_PASSPHRASE", "open-sesame-42", 1);
	struct journal *j = jopen("CLUS1");
	run_start(j);
	json_t *f = stepm("cms.upgrade-cms", "NODE2");
	json_object_set_new(f, "reason",
			    json_string("exit 1: open-sesame-42 rejected; retry -Password s3cr3t"));
	rec(j, "failed", f);
	rec(j, "run-end",
	    json_pack("{s:s, s:s}", "result", "failed", "detail", "key open-sesame-42 refused"));
	journal_close(j);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	char *html = render(rc, rc->end_ms);
	ck_assert_ptr_null(strstr(html, "open-sesame-42"));
	ck_assert_ptr_null(strstr(html, "s3cr3t"));
	ck_assert_int_ge(count(html, "[REDACTED]"), 3);
	free(html);
	report_cluster_free(rc);
}
END_TEST

START_TEST(failed_without_audit)
{
	struct report_cluster *rc;
	failed_run(0);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert(!rc->audit_found);
	char *html = render(rc, rc->end_ms);
	ck_assert_ptr_nonnull(strstr(html, "No audit log"));
	/* the journal's own command is shown instead, escaped */
	ck_assert_ptr_nonnull(strstr(html, "setup.com /UpgradeCMS &lt;script&gt;x&lt;/script&gt;"));
	ck_assert_ptr_null(strstr(html, "<script"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

START_TEST(unfinished)
{
	struct report_cluster *rc;
	struct journal *j = jopen("CLUS1");
	run_start(j);
	step_done(j, "passive.setup", "NODE2", 5);
	rec(j, "outage-start", with_wall(stepm("cms.stop-cms", "NODE2"), 9));
	rec(j, "begin", with_wall(stepm("cms.move-cms", "NODE1"), 10));
	journal_close(j);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_ptr_null(rc->result);
	ck_assert_int_eq(rc->end_ms, 0);
	ck_assert(!rc->locked);
	ck_assert_str_eq(rc->steps[1].status, "in-progress");
	ck_assert_int_eq(rc->steps[1].end_ms, 0);
	char *html = render(rc, now_wall_ms() + 7200000);
	ck_assert_ptr_nonnull(strstr(html, "badge interrupted\">unfinished"));
	ck_assert_ptr_nonnull(strstr(html, "ccrup resume</code> continues"));
	ck_assert_ptr_nonnull(strstr(html, "Outage ongoing"));
	ck_assert_ptr_nonnull(strstr(html, "outage ongoing ("));
	ck_assert_ptr_nonnull(strstr(html, "class=\"step in-progress\""));
	ck_assert_ptr_nonnull(strstr(html, "url(#stripes1)"));
	ck_assert_ptr_nonnull(strstr(html, "class=\"now\""));
	ck_assert_ptr_nonnull(strstr(html, "so far"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

START_TEST(resumed_run_uses_last_result)
{
	struct report_cluster *rc;
	struct journal *j = jopen("CLUS1");
	run_start(j);
	json_t *f = stepm("passive.setup", "NODE2");
	json_object_set_new(f, "reason", json_string("exit 1"));
	rec(j, "failed", f);
	rec(j, "run-end", json_pack("{s:s}", "result", "failed"));
	step_done(j, "passive.setup", "NODE2", 100);
	journal_close(j);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_ptr_null(rc->result); /* resumed, not ended yet */
	ck_assert_int_eq(rc->nsteps, 1);
	ck_assert_str_eq(rc->steps[0].status, "done");
	ck_assert_ptr_null(rc->steps[0].reason);
	report_cluster_free(rc);

	j = jopen("CLUS1");
	rec(j, "run-end", json_pack("{s:s}", "result", "done"));
	journal_close(j);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_str_eq(rc->result, "done");
	report_cluster_free(rc);
}
END_TEST

START_TEST(only_the_last_run)
{
	struct report_cluster *rc;
	struct journal *j = jopen("CLUS1");
	run_start(j);
	step_done(j, "old.step", "NODE1", 1);
	rec(j, "run-end", json_pack("{s:s}", "result", "done"));
	journal_set_run_id(j, "R2");
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "run-start", "run_id", "R2",
			      "cluster", "CLUS1", "playbook_sha256", "0", "inventory_sha256", "0");
	ck_assert_int_eq(journal_append(j, o), 0);
	json_decref(o);
	step_done(j, "new.step", "NODE2", 10);
	journal_close(j);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_str_eq(rc->run_id, "R2");
	ck_assert_int_eq(rc->nsteps, 1);
	ck_assert_str_eq(rc->steps[0].id, "new.step");
	report_cluster_free(rc);
}
END_TEST

START_TEST(no_journal)
{
	struct report_cluster *rc;
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_int_eq(rc->state, REPORT_NO_JOURNAL);
	char *html = render(rc, T0);
	ck_assert_ptr_nonnull(strstr(html, "no run has started"));
	ck_assert_ptr_nonnull(strstr(html, "badge pending\">no run"));
	ck_assert_ptr_null(strstr(html, "<svg"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

static void corrupt_line2(void)
{
	char *path = xasprintf("%s/CLUS1/journal.jsonl", state);
	int fd = open(path, O_RDWR);
	char *data = NULL;
	size_t len;
	ck_assert_int_eq(read_file(path, 1 << 20, &data, &len), 0);
	char *l2 = strchr(data, '\n') + 1;
	char *p = strstr(l2, "\"event\"");
	ck_assert_int_eq(pwrite(fd, "X", 1, (off_t)(p - data + 2)), 1);
	close(fd);
	free(data);
	free(path);
}

START_TEST(corrupt_journal)
{
	struct report_cluster *rc;
	finished_run();
	corrupt_line2();
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), EXIT_JOURNAL);
	ck_assert_int_eq(rc->state, REPORT_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rc->message, "journal.jsonl:2:"));
	char *html = render(rc, T0);
	ck_assert_ptr_nonnull(strstr(html, "journal corrupt"));
	free(html);
	report_cluster_free(rc);
}
END_TEST

START_TEST(torn_tail_is_a_warning)
{
	struct report_cluster *rc;
	finished_run();
	char *path = xasprintf("%s/CLUS1/journal.jsonl", state);
	int fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "{\"seq\":99,\"ti", 13), 13);
	close(fd);
	ck_assert_int_eq(report_load(state, NULL, NULL, &clus1, &rc), 0);
	ck_assert_int_eq(rc->state, REPORT_OK);
	ck_assert_ptr_nonnull(strstr(rc->message, "torn last record"));
	report_cluster_free(rc);
	free(path);
}
END_TEST

/* `ccrup report` with the Linux example playbook: pending steps, files, exit codes. */
static int run_report(const char *html)
{
	char *argv[] = {"report",      "playbooks/inventory.linux.example.yml",
			"-p",	       "playbooks/linux-rolling-restart.yml",
			"--state-dir", state,
			"-q",	       html ? "--html" : NULL,
			(char *)html,  NULL};
	int argc = html ? 9 : 7;
	return cmd_report(argc, argv);
}

static void web_run(void)
{
	char *path = xasprintf("%s/web/journal.jsonl", state);
	struct journal *j = NULL;
	char msg[256];
	ck_assert_int_ge(journal_open(path, &j, msg, sizeof(msg)), 0);
	journal_set_run_id(j, "W1");
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "event", "run-start", "cluster", "web",
			      "playbook_sha256", "0", "inventory_sha256", "0");
	ck_assert_int_eq(journal_append(j, o), 0);
	json_decref(o);
	step_done(j, "preflight.service-active", "web1", 1);
	step_done(j, "rolling.restart", "web1", 5);
	journal_close(j);
	free(path);
}

START_TEST(command_end_to_end)
{
	web_run();
	ck_assert_int_eq(run_report(NULL), 0);
	char *path = xasprintf("%s/web/report.html", state), *data = NULL;
	size_t len;
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(read_file(path, 1 << 24, &data, &len), 0);
	ck_assert_ptr_nonnull(strstr(data, "data-lane=\"web3\""));
	ck_assert_ptr_nonnull(strstr(data, "2 done &middot; 0 skipped &middot; 0 failed"));
	ck_assert_ptr_nonnull(strstr(data, "10 pending"));
	ck_assert_ptr_nonnull(strstr(data, "Restart")); /* step names from the plan */
	free(data);
	free(path);

	char *one = xasprintf("%s/one.html", tmpdir);
	ck_assert_int_eq(run_report(one), 0);
	ck_assert_int_eq(access(one, R_OK), 0);
	free(one);
}
END_TEST

START_TEST(command_exit_codes)
{
	char *argv1[] = {"report", "no-such-inventory.yml", NULL};
	ck_assert_int_eq(cmd_report(2, argv1), EXIT_INPUT);
	char *argv2[] = {"report", "--bogus", "x.yml", NULL};
	ck_assert_int_eq(cmd_report(3, argv2), EXIT_INPUT);
	ck_assert_int_eq(run_report(NULL), 0); /* no journal: a page that says so */
	web_run();
	char *path = xasprintf("%s/web/journal.jsonl", state);
	int fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "garbage\n", 8), 8);
	close(fd);
	ck_assert_int_eq(run_report(NULL), EXIT_JOURNAL);
	free(path);
	path = xasprintf("%s/web/report.html", state);
	char *data = NULL;
	size_t len;
	ck_assert_int_eq(read_file(path, 1 << 24, &data, &len), 0);
	ck_assert_ptr_nonnull(strstr(data, "journal corrupt"));
	free(data);
	free(path);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *u = tcase_create("units");
	tcase_add_test(u, parse_time);
	tcase_add_test(u, escape);
	suite_add_tcase(s, u);
	TCase *l = tcase_create("load");
	tcase_add_checked_fixture(l, setup, teardown);
	tcase_add_test(l, finished);
	tcase_add_test(l, service_label);
	tcase_add_test(l, failed_with_output_escaped);
	tcase_add_test(l, failed_without_audit);
	tcase_add_test(l, journal_reasons_are_redacted);
	tcase_add_test(l, unfinished);
	tcase_add_test(l, resumed_run_uses_last_result);
	tcase_add_test(l, only_the_last_run);
	tcase_add_test(l, no_journal);
	tcase_add_test(l, corrupt_journal);
	tcase_add_test(l, torn_tail_is_a_warning);
	suite_add_tcase(s, l);
	TCase *c = tcase_create("command");
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_set_timeout(c, 30);
	tcase_add_test(c, command_end_to_end);
	tcase_add_test(c, command_exit_codes);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
