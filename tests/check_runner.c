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
    "        retries: 1\n"
    "        retry_delay: 0s\n"
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
    "        check: ver == '2' and svc == 'running'\n"
    "        run: set ver 2\n"
    "        ok_exit: [0, 3010]\n"
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
    "        require: [ver == '2', conf == 'new']\n";

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
static char evtext[4096][1024];

static void on_event(const struct event *e, void *arg)
{
	(void)arg;
	if (getenv("CHECK_RUNNER_DUMP"))
		fprintf(stderr, "event %d: %s | %s\n", e->kind, e->text ? e->text : "",
			e->detail ? e->detail : "");
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
	if (getenv("CHECK_RUNNER_DUMP"))
		fprintf(stderr, "asked [%s] -> %c: %s\n", choices, c, question);
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

/* The "runner-sh" case runs every test again with `shell: sh` (compound probes). */
static int shell_sh;

static void load(const char *inv_extra)
{
	struct diag d;
	diag_init(&d);
	char *pbt = xasprintf("%s%s", playbook_text, shell_sh ? "shell: sh\n" : "");
	write_file("pb.yml", pbt);
	free(pbt);
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

static void setup_sh(void)
{
	shell_sh = 1;
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
	if (getenv("CHECK_RUNNER_DUMP")) {
		for (int i = 0; i < nasked && i < 32; i++)
			fprintf(stderr, "asked: %s\n", asked[i]);
		for (int i = 0; i < nev; i++)
			fprintf(stderr, "event %d: %s\n", evk[i], evtext[i]);
		for (int i = 0; i < W->nlog; i++)
			fprintf(stderr, "%s: %s\n", W->lognode[i], W->log[i]);
	}
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
	return sbuf_detach(&b);
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

/* Commands sent to node matching pattern since mark (an index into the log). */
static int sent_since(int mark, const char *node, const char *pattern)
{
	int n = 0;
	for (int i = mark; i < W->nlog; i++)
		if ((node == NULL || strcmp(W->lognode[i], node) == 0) &&
		    fnmatch(pattern, W->log[i], 0) == 0)
			n++;
	return n;
}

static int changes_since(int mark)
{
	return sent_since(mark, NULL, "set *") + sent_since(mark, NULL, "reboot");
}

/*
 * Facts are read once between two changes: no (node, probe) is sent twice
 * while no command changed the cluster (boot id polls of a reboot aside),
 * and what a command may have changed is read again after it.
 */
START_TEST(facts_read_once_between_changes)
{
	ck_assert_int_eq(apply_yes(), 0);
	int seg = 0, changes = 0;
	for (int i = 0; getenv("CHECK_RUNNER_DUMP") && i < W->nlog; i++)
		fprintf(stderr, "%d %s: %s\n", i, W->lognode[i], W->log[i]);
	for (int i = 0; i < W->nlog; i++) {
		if (fnmatch("set *", W->log[i], 0) == 0 || strcmp(W->log[i], "reboot") == 0) {
			seg = i + 1;
			changes++;
			continue;
		}
		if (strcmp(W->log[i], "bootid") == 0)
			continue;
		for (int k = seg; k < i; k++)
			ck_assert_msg(
			    strcmp(W->log[k], W->log[i]) != 0 ||
				strcmp(W->lognode[k], W->lognode[i]) != 0,
			    "%s: `%s` probed twice (entries %d and %d) with no change between",
			    W->lognode[i], W->log[i], k, i);
	}
	ck_assert_int_gt(changes, 0);
	/* `set conf new` on n1, then its verify reads conf on n1 again. */
	int set = -1;
	for (int i = 0; i < W->nlog && set < 0; i++)
		if (strcmp(W->log[i], "set conf new") == 0 && strcmp(W->lognode[i], "n1") == 0)
			set = i;
	ck_assert_int_ge(set, 0);
	ck_assert_int_ge(sent_since(set, "n1", "get conf"), 1);
}
END_TEST

/*
 * A node that is back at once: the new boot id read while waiting for it to
 * go down is not read again before its `ready` check (one boot-id probe per
 * reboot, not two).
 */
START_TEST(reboot_new_boot_id_read_once)
{
	W->down_after_reboot = -1;
	ck_assert_int_eq(apply_yes(), 0);
	int reboots = 0;
	for (int i = 0; i < W->nlog; i++) {
		if (strcmp(W->log[i], "reboot") != 0)
			continue;
		int k = i + 1, boots = 0;
		for (; k < W->nlog && strcmp(W->log[k], "get svc") != 0; k++)
			boots += strcmp(W->log[k], "bootid") == 0;
		ck_assert_int_lt(k, W->nlog);
		ck_assert_msg(boots == 1, "%s: %d boot-id probes between the reboot and ready",
			      W->lognode[i], boots);
		reboots++;
	}
	ck_assert_int_eq(reboots, 2);
}
END_TEST

/*
 * Compound probes (`shell: sh`, the "runner-sh" case): the same commands
 * reach the nodes (each part is logged as if alone) in far fewer remote
 * commands; without `shell:` every probe is its own remote command.
 */
START_TEST(compound_probes_fewer_requests)
{
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
	if (!shell_sh) {
		ck_assert_int_eq(W->requests, W->nlog);
		ck_assert(!saw(EV_BATCH, NULL));
		return;
	}
	ck_assert(saw(EV_BATCH, NULL));
	ck_assert_msg(W->requests * 3 < W->nlog * 2, "%d requests for %d commands", W->requests,
		      W->nlog);
}
END_TEST

/*
 * A part that hangs (timed out): its fact's error is the one a lone probe
 * would have given, in both modes; the parts after it are not read from a
 * batch that never answered for them.
 */
START_TEST(probe_timeout_fails_with_its_facts_error)
{
	fake_rule(W, "n1", "get svc", FA_TIMEOUT);
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert(saw(EV_STEP_FAILED, "check: svc == 'stopped' or ver == '2': fact svc on n1: n1 "
				      "(127.0.0.2:22): timed out"));
	ck_assert_int_eq(fake_count(W, "n1", "set svc stopped"), 0);
}
END_TEST

/* The last journal record's event name is ev. */
static int journal_ends_with(const char *ev)
{
	char *j = journal();
	size_t n = strlen(j);
	while (n > 0 && j[n - 1] == '\n')
		j[--n] = '\0';
	char *last = strrchr(j, '\n');
	char *want = xasprintf("\"event\":\"%s\"", ev);
	int ok = strstr(last ? last : j, want) != NULL;
	free(want);
	free(j);
	return ok;
}

/* Everything already at the new version: nothing to change anywhere. */
static void world_upgraded(void)
{
	const char *nodes[] = {"n1", "n2"};
	for (int i = 0; i < 2; i++) {
		fake_set(W, nodes[i], "ver", "2");
		fake_set(W, nodes[i], "conf", "new");
		fake_set(W, nodes[i], "pend", "0");
	}
}

/* ---- step kinds and the order when -> record -> check -> require -> run -> verify ---- */

START_TEST(second_apply_changes_nothing)
{
	ck_assert_int_eq(apply_yes(), 0);
	int mark = W->nlog;
	int jl = jcount("\"event\"", NULL);
	ck_assert_int_eq(apply_guided("yyyyyyyyyyyyyyyyyyyy"), 0);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert_int_eq(nasked, 0); /* no gate, no confirmation */
	ck_assert(!saw(EV_PHASE_START, NULL));
	ck_assert_int_eq(jcount("\"event\"", NULL), jl); /* journal untouched */
}
END_TEST

START_TEST(already_upgraded_cluster_is_a_noop)
{
	world_upgraded();
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_changes(W), 0);
	ck_assert(!saw(EV_OUTAGE_START, NULL));
	ck_assert(!saw(EV_GATE, NULL));
}
END_TEST

START_TEST(nothing_to_do_on_one_node_only)
{
	fake_set(W, "n1", "ver", "2");
	fake_set(W, "n1", "conf", "new");
	fake_set(W, "n1", "pend", "0");
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set *"), 0);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 0);
	ck_assert_int_eq(fake_count(W, "n2", "set ver 2"), 1);
}
END_TEST

START_TEST(when_false_skips_the_step)
{
	fake_set(W, "n1", "mode", "skipconf");
	fake_set(W, "n2", "conf", "new"); /* so that the later require still holds on n2 */
	load("");
	ck_assert_int_ne(apply_yes(), 0); /* n1's conf stays old: the require refuses */
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 0);
	ck_assert_int_ge(jcount("\"skipped\"", "up.conf"), 1);
}
END_TEST

START_TEST(check_satisfied_skips_the_command)
{
	fake_set(W, "n1", "conf", "new");
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 0);
	ck_assert_int_eq(fake_count(W, "n2", "set conf new"), 1);
}
END_TEST

START_TEST(record_taken_once_before_the_check)
{
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(jcount("\"event\":\"record\"", "\"node\":\"n1\""), 1);
	ck_assert_int_eq(jcount("\"name\":\"mode0\"", "\"value\":\"auto\""), 2);
}
END_TEST

START_TEST(require_false_refuses_before_any_change)
{
	fake_set(W, "n2", "healthy", "no");
	ck_assert_int_eq(apply_yes(), EXIT_REFUSED);
	ck_assert_int_eq(fake_changes(W), 0);
	ck_assert(saw_any("make it healthy first") || saw_any("healthy == 'yes'"));
}
END_TEST

START_TEST(assertion_after_the_work_refuses)
{
	/* conf is reported done by its command but the fact never changes on n2:
	 * verify fails first, so the step fails (exit 1) before the assertion. */
	struct fake_rule *r = fake_rule(W, "n2", "set conf new", FA_ANSWER);
	r->exit = 0;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert(journal_ends_with("run-end"));
	ck_assert_int_ge(jcount("\"failed\"", "up.conf"), 1);
	ck_assert_int_eq(fake_count(W, "n2", "set ver 2"), 0);
}
END_TEST

START_TEST(command_failure_stops_the_run)
{
	struct fake_rule *r = fake_rule(W, "n1", "set ver 2", FA_ANSWER);
	r->exit = 3;
	r->err = "disk full\n";
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 1); /* no retries: not idempotent */
	ck_assert_int_eq(fake_count(W, "n1", "set svc running"), 0);
	ck_assert_int_eq(fake_count(W, "n2", "set *"), 0);
	ck_assert_int_ge(jcount("\"failed\"", "up.install"), 1);
}
END_TEST

START_TEST(retries_then_succeeds)
{
	struct fake_rule *r = fake_rule(W, "n1", "set conf new", FA_ANSWER);
	r->exit = 1;
	r->times = 1;
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 2);
}
END_TEST

START_TEST(retries_exhausted_fails)
{
	struct fake_rule *r = fake_rule(W, "n1", "set conf new", FA_ANSWER);
	r->exit = 1;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 2); /* 1 + retries: 1 */
}
END_TEST

START_TEST(ok_exit_accepts_a_listed_status)
{
	struct fake_rule *r = fake_rule(W, NULL, "set ver 2", FA_ANSWER);
	r->exit = 3010;
	r->effect = 1;
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
}
END_TEST

START_TEST(verify_false_fails_the_step)
{
	struct fake_rule *r = fake_rule(W, "n1", "set svc stopped", FA_ANSWER);
	r->exit = 0; /* says it worked, changes nothing */
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert(saw_any("verify"));
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 0);
}
END_TEST

START_TEST(command_timeout_fails)
{
	struct fake_rule *r = fake_rule(W, "n1", "set ver 2", FA_TIMEOUT);
	(void)r;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(fake_count(W, "n1", "set svc running"), 0);
}
END_TEST

START_TEST(drop_on_idempotent_step_runs_it_again)
{
	fake_rule(W, "n1", "set conf new", FA_DROP)->times = 1;
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 2); /* its one retry */
}
END_TEST

START_TEST(drop_with_the_effect_settled_by_the_check)
{
	struct fake_rule *r = fake_rule(W, "n1", "set conf new", FA_DROP);
	r->times = 1;
	r->effect = 1;
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 1);
}
END_TEST

START_TEST(drop_without_retries_fails_then_resume_runs_it)
{
	fake_rule(W, "n1", "set svc stopped", FA_DROP)->times = 1;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert(saw_any("OUTAGE IS ONGOING"));
	ck_assert_int_eq(resume_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set svc stopped"), 2);
	ck_assert_int_eq(jcount("outage-end", "\"node\":\"n1\""), 1);
}
END_TEST

START_TEST(drop_after_a_non_idempotent_effect_is_not_repeated)
{
	struct fake_rule *r = fake_rule(W, "n1", "set ver 2", FA_DROP);
	r->times = 1;
	r->effect = 1;
	/* The command ran; the check (ver 2 and running) is false while the
	 * service is stopped, so a non-idempotent step is never sent twice. */
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 1);
}
END_TEST

START_TEST(drop_on_non_idempotent_step_is_not_repeated)
{
	fake_rule(W, "n1", "set ver 2", FA_DROP)->times = 1;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 1);
	ck_assert_int_eq(fake_count(W, "n1", "set svc running"), 0);
}
END_TEST

START_TEST(sigterm_during_a_command_interrupts)
{
	fake_rule(W, "n1", "set svc stopped", FA_STOP);
	ck_assert_int_eq(apply_yes(), EXIT_INTERRUPTED);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 0);
	ck_assert_int_ge(jcount("\"interrupted\"", NULL), 1);
}
END_TEST

START_TEST(sigterm_before_any_change)
{
	fake_rule(W, "n1", "get healthy", FA_STOP);
	ck_assert_int_eq(apply_yes(), EXIT_INTERRUPTED);
	ck_assert_int_eq(fake_changes(W), 0);
}
END_TEST

START_TEST(wait_times_out)
{
	fake_set(W, "n1", "ready", "no");
	struct runopt ro = {.max_timeout_ms = 300};
	ck_assert_int_eq(run_with(&ro), EXIT_STEP_FAILED);
	ck_assert_int_ge(jcount("\"failed\"", "up.settle"), 1);
	ck_assert_int_eq(fake_count(W, "n2", "set *"), 0);
}
END_TEST

START_TEST(wait_polls_until_it_holds)
{
	struct fake_rule *r = fake_rule(W, "n1", "get ready", FA_ANSWER);
	r->out = "no\n";
	r->times = 2;
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_ge(fake_count(W, "n1", "get ready"), 3);
}
END_TEST

/* ---- reboots ---- */

START_TEST(reboot_is_verified_by_a_new_boot_id)
{
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(W->node[0].boot, 2);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 1);
	ck_assert_int_ge(jcount("\"boot_id\":\"boot-1\"", "up.restart"), 1);
}
END_TEST

START_TEST(reboot_skipped_when_nothing_pending)
{
	fake_set(W, "n1", "pend", "0");
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 0);
	ck_assert_int_eq(fake_count(W, "n2", "reboot"), 1);
}
END_TEST

START_TEST(reboot_that_never_comes_back_fails)
{
	W->down_after_reboot = 1000000;
	struct runopt ro = {.max_timeout_ms = 300};
	ck_assert_int_eq(run_with(&ro), EXIT_STEP_FAILED);
	ck_assert(saw_any("did not come back"));
	ck_assert_int_eq(fake_count(W, "n2", "set *"), 0);
}
END_TEST

START_TEST(reboot_without_a_new_boot_id_fails)
{
	W->reboot_keeps_boot = 1;
	W->down_after_reboot = 0;
	fake_rule(W, NULL, "reboot", FA_ANSWER)->exit = 0; /* accepted, nothing happens */
	struct runopt ro = {.max_timeout_ms = 300};
	ck_assert_int_eq(run_with(&ro), EXIT_STEP_FAILED);
	ck_assert(saw_any("did not go down"));
}
END_TEST

START_TEST(reboot_command_failure_fails)
{
	struct fake_rule *r = fake_rule(W, NULL, "reboot", FA_ANSWER);
	r->exit = 5;
	r->err = "access denied\n";
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert(saw_any("access denied"));
	ck_assert_int_eq(W->node[0].boot, 1);
}
END_TEST

/* ---- in flight: the journal ends at `begin` (the process was killed) ---- */

START_TEST(inflight_idempotent_step_runs_again)
{
	fake_rule(W, "n1", "set svc stopped", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert(journal_ends_with("begin"));
	ck_assert_int_eq(resume_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set svc stopped"), 2);
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
}
END_TEST

START_TEST(inflight_check_satisfied_settles_without_running)
{
	struct fake_rule *r = fake_rule(W, "n1", "set svc stopped", FA_CRASH);
	r->times = 1;
	r->effect = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert_int_eq(resume_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set svc stopped"), 1);
	ck_assert_int_eq(jcount("check satisfied", "up.stop"), 1);
}
END_TEST

START_TEST(inflight_non_idempotent_refused_under_yes)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	int mark = W->nlog;
	ck_assert_int_eq(resume_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(sent_since(mark, NULL, "set ver 2"), 0);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert(saw_any("--mark-done up.install@n1"));
	ck_assert(saw_any("--retry up.install@n1"));
	/* Asked again, still refused: nothing is guessed. */
	ck_assert_int_eq(resume_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(sent_since(mark, NULL, "set ver 2"), 0);
}
END_TEST

START_TEST(inflight_non_idempotent_retry_told)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	const char *const retry[] = {"up.install@n1"};
	struct runopt ro = {.resume = 1, .retry = retry, .nretry = 1};
	ck_assert_int_eq(run_with(&ro), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 2);
}
END_TEST

START_TEST(inflight_non_idempotent_mark_done_verified)
{
	struct fake_rule *r = fake_rule(W, "n1", "set ver 2", FA_CRASH);
	r->times = 1;
	r->effect = 1; /* it ran: verify (ver 2) holds, check (and running) does not */
	ck_assert_int_eq(apply_crashing(), 137);
	const char *const md[] = {"up.install@n1"};
	struct runopt ro = {.resume = 1, .mark_done = md, .nmark = 1};
	ck_assert_int_eq(run_with(&ro), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 1);
	ck_assert_int_ge(jcount("--mark-done", "up.install"), 1);
}
END_TEST

START_TEST(inflight_non_idempotent_mark_done_refused_when_false)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	int mark = W->nlog;
	const char *const md[] = {"up.install@n1"};
	struct runopt ro = {.resume = 1, .mark_done = md, .nmark = 1};
	ck_assert_int_eq(run_with(&ro), EXIT_REFUSED);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert_int_eq(jcount("\"done\"", "up.install"), 0);
}
END_TEST

START_TEST(inflight_guided_run_again)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert_int_eq(resume_guided("ryyyyyyyyyyyyyyyyyy"), 0);
	ck_assert(strstr(asked[0], "not idempotent") != NULL);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 2);
}
END_TEST

START_TEST(inflight_guided_quit)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	int mark = W->nlog;
	ck_assert_int_eq(resume_guided("q"), EXIT_INTERRUPTED);
	ck_assert_int_eq(changes_since(mark), 0);
}
END_TEST

START_TEST(inflight_reboot_settled_by_changed_boot_id)
{
	struct fake_rule *r = fake_rule(W, "n1", "reboot", FA_CRASH);
	r->times = 1;
	r->effect = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert_int_eq(resume_yes(), 0);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 1);
	ck_assert_int_eq(W->node[0].boot, 2);
	ck_assert_int_eq(jcount("reboot observed", "up.restart"), 1);
}
END_TEST

START_TEST(inflight_reboot_unchanged_boot_id_is_issued_again)
{
	fake_rule(W, "n1", "reboot", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	struct runopt ro = {.resume = 1, .max_timeout_ms = 500};
	ck_assert_int_eq(run_with(&ro), 0);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 2);
	ck_assert_int_eq(W->node[0].boot, 2); /* rebooted once */
	ck_assert(saw_any("had not happened"));
}
END_TEST

START_TEST(inflight_outage_end_closed_on_resume)
{
	struct fake_rule *r = fake_rule(W, "n1", "set svc running", FA_CRASH);
	r->times = 1;
	r->effect = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert_int_eq(jcount("outage-start", "\"node\":\"n1\""), 1);
	ck_assert_int_eq(jcount("outage-end", "\"node\":\"n1\""), 0);
	ck_assert_int_eq(resume_yes(), 0);
	ck_assert_int_eq(jcount("outage-end", "\"node\":\"n1\""), 1);
	ck_assert_int_eq(jcount("outage-start", NULL), 2);
	ck_assert_int_eq(jcount("outage-end", NULL), 2);
	ck_assert_int_eq(fake_count(W, "n1", "set svc running"), 1);
}
END_TEST

START_TEST(inflight_outage_still_open_after_resume_failure)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert_int_eq(resume_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(jcount("outage-end", NULL), 0);
	ck_assert(saw(EV_OUTAGE_START, NULL)); /* announced again, with the time so far */
}
END_TEST

START_TEST(resume_after_a_finished_run_is_nothing)
{
	ck_assert_int_eq(apply_yes(), 0);
	int mark = W->nlog;
	ck_assert_int_eq(resume_yes(), EXIT_DONE);
	ck_assert_int_eq(W->nlog, mark); /* not even a probe */
	ck_assert(saw_any("the last run finished"));
}
END_TEST

START_TEST(resume_without_any_run_is_an_input_error)
{
	ck_assert_int_eq(resume_yes(), EXIT_INPUT);
	ck_assert_int_eq(W->nlog, 0);
	ck_assert(saw_any("no run has started"));
}
END_TEST

START_TEST(apply_refused_while_an_acting_run_is_unfinished)
{
	fake_rule(W, "n1", "set ver 2", FA_CRASH)->times = 1;
	ck_assert_int_eq(apply_crashing(), 137);
	int mark = W->nlog;
	ck_assert_int_eq(apply_yes(), EXIT_INPUT);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert(saw_any("ccrup resume"));
}
END_TEST

START_TEST(apply_replaces_a_run_that_changed_nothing)
{
	fake_set(W, "n2", "healthy", "no");
	ck_assert_int_eq(apply_yes(), EXIT_REFUSED);
	fake_set(W, "n2", "healthy", "yes");
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
}
END_TEST

/* ---- outage marks ---- */

START_TEST(outage_marks_bracket_the_window)
{
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(jcount("outage-start", "up.stop"), 2);
	ck_assert_int_eq(jcount("outage-end", "up.start"), 2);
	ck_assert(saw(EV_OUTAGE_START, NULL));
	ck_assert(saw(EV_OUTAGE_END, NULL));
}
END_TEST

START_TEST(outage_named_from_the_playbook)
{
	ck_assert_int_eq(apply_yes(), 0);
	int found = 0;
	for (int i = 0; i < nev; i++)
		found |= evk[i] == EV_OUTAGE_START && strstr(evtext[i], "test service") != NULL;
	ck_assert(found);
}
END_TEST

/* ---- gates ---- */

START_TEST(gate_passed_by_yes)
{
	ck_assert_int_eq(apply_yes(), 0);
	ck_assert_int_eq(jcount("\"event\":\"gate\"", "\"by\":\"--yes\""), 2); /* one per member */
}
END_TEST

START_TEST(gate_acknowledged_in_the_inventory)
{
	load("    acknowledge: [pre.tested]\n");
	ck_assert_int_eq(apply_guided("yyyyyyyyyyyyyyyyyyyyyyyy"), 0);
	ck_assert_int_eq(jcount("\"event\":\"gate\"", "inventory acknowledge"), 2);
	for (int i = 0; i < nasked && i < 32; i++)
		ck_assert(strstr(asked[i], "lab") == NULL);
}
END_TEST

START_TEST(gate_answered_yes)
{
	ck_assert_int_eq(apply_guided("yyyyyyyyyyyyyyyyyyyyyyyy"), 0);
	ck_assert(strstr(asked[0], "Was this tested in a lab?") != NULL);
	ck_assert_int_eq(jcount("\"event\":\"gate\"", "\"by\":\"operator\""), 2);
}
END_TEST

START_TEST(gate_answered_no_refuses)
{
	ck_assert_int_eq(apply_guided("n"), EXIT_REFUSED);
	ck_assert_int_eq(fake_changes(W), 0);
	ck_assert_int_eq(jcount("\"event\":\"gate\"", "\"answer\":\"no\""), 1);
}
END_TEST

START_TEST(gate_quit_interrupts)
{
	ck_assert_int_eq(apply_guided("q"), EXIT_INTERRUPTED);
	ck_assert_int_eq(fake_changes(W), 0);
	ck_assert_int_eq(jcount("\"event\":\"gate\"", "\"answer\":\"quit\""), 1);
}
END_TEST

/* ---- guided skip / mark-done and their guards ---- */

static int asked_with(const char *text)
{
	for (int i = 0; i < nasked && i < 32; i++)
		if (strstr(asked[i], text))
			return i;
	return -1;
}

START_TEST(guided_confirmation_quit)
{
	ck_assert_int_eq(apply_guided("yyq"), EXIT_INTERRUPTED);
	ck_assert_int_eq(fake_changes(W), 0);
}
END_TEST

START_TEST(guided_skip_unguarded_stays_pending)
{
	/* restart is neither in the outage nor read by a later require: one key;
	 * the 'q' after the script stops the run at conf on n2 */
	ck_assert_int_eq(apply_guided("yyyyyys"), EXIT_INTERRUPTED);
	int i = asked_with("restart on n1");
	ck_assert_int_eq(i, 6);
	ck_assert(strstr(asked[7], "conf on n2") != NULL); /* no second question */
	ck_assert_int_ge(jcount("skipped by the operator", "up.restart"), 1);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 0);
	/* resume offers it again */
	ck_assert_int_eq(resume_guided("q"), EXIT_INTERRUPTED);
	ck_assert(strstr(asked[0], "restart on n1") != NULL);
}
END_TEST

START_TEST(guided_skip_everything_else_ends_incomplete)
{
	/* two gates, conf, stop, install, start: yes; restart on n1: skip; n2: yes */
	ck_assert_int_eq(apply_guided("yyyyyysyyyyyyyyyyyyyy"), EXIT_STEP_FAILED);
	ck_assert(strstr(asked[6], "restart on n1") != NULL);
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 0);
	ck_assert_int_eq(fake_count(W, "n2", "reboot"), 1);
	ck_assert(!journal_ends_with("done") && jcount("\"result\":\"done\"", NULL) == 0);
}
END_TEST

START_TEST(guided_skip_in_outage_needs_a_second_answer)
{
	/* gate y, conf y, then stop (begins the outage): s, n (cancel), q */
	ck_assert_int_eq(apply_guided("yyysnq"), EXIT_INTERRUPTED);
	int i = asked_with("stop on n1");
	ck_assert_int_ge(i, 0);
	ck_assert(nasked > i + 1);
	ck_assert(strstr(asked[i + 1], "outage") != NULL);
	ck_assert_int_eq(jcount("skipped by the operator", NULL), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set svc stopped"), 0);
}
END_TEST

START_TEST(guided_skip_point_of_no_return_needs_a_second_answer)
{
	/* gate, conf, stop (typed word) then install: s, n, q */
	ck_assert_int_eq(apply_guided("yyyysnq"), EXIT_INTERRUPTED);
	int i = asked_with("install on n1");
	ck_assert_int_ge(i, 0);
	ck_assert(nasked > i + 1);
	ck_assert(strstr(asked[i + 1], "skip") != NULL);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 0);
	ck_assert_int_eq(jcount("skipped by the operator", NULL), 0);
}
END_TEST

START_TEST(guided_skip_required_later_needs_a_second_answer)
{
	/* conf's fact is read by a later require: s, n, q */
	ck_assert_int_eq(apply_guided("yysnq"), EXIT_INTERRUPTED);
	int i = asked_with("conf on n1");
	ck_assert_int_ge(i, 0);
	ck_assert(nasked > i + 1);
	ck_assert(strstr(asked[i + 1], "require") != NULL || strstr(asked[i + 1], "after") != NULL);
	ck_assert_int_eq(jcount("skipped by the operator", NULL), 0);
}
END_TEST

START_TEST(guided_skip_guarded_confirmed)
{
	ck_assert_int_eq(apply_guided("yysyq"), EXIT_INTERRUPTED);
	ck_assert_int_eq(jcount("skipped by the operator", "up.conf"), 1);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 0);
}
END_TEST

START_TEST(guided_mark_done_refused_while_verify_false)
{
	/* install on n1: m, y (confirm the guard), then the verify refuses; q */
	ck_assert_int_eq(apply_guided("yyyymyq"), EXIT_INTERRUPTED);
	ck_assert_int_eq(jcount("\"done\"", "up.install"), 0);
	ck_assert_int_eq(fake_count(W, "n1", "set ver 2"), 0);
}
END_TEST

START_TEST(guided_mark_done_when_verify_holds)
{
	/* restart (unguarded): its verify (svc running) holds: m marks it done, no reboot */
	ck_assert_int_eq(apply_guided("yyyyyyq"), EXIT_INTERRUPTED);
	int pos = asked_with("restart on n1");
	ck_assert_int_ge(pos, 0);
	char script[48];
	memset(script, 'y', sizeof(script));
	script[47] = '\0';
	script[0] = 'm';
	ck_assert_int_eq(resume_guided(script), 0);
	ck_assert_int_eq(fake_count(W, "n1", "reboot"), 0);
	ck_assert_int_ge(jcount("\"by\":\"operator\"", "up.restart"), 1);
}
END_TEST

START_TEST(guided_details_then_yes)
{
	ck_assert_int_eq(apply_guided("yydyq"), EXIT_INTERRUPTED);
	ck_assert_int_eq(fake_count(W, "n1", "set conf new"), 1);
	ck_assert(saw_any("details of"));
}
END_TEST

/* ---- the lock ---- */

/*
 * Roles bound from a cluster-wide fact (which node owns the service), and a
 * sequence both node phases use: the passive node first, then the service
 * moves to it, then the former active node.  `prep` is not idempotent and
 * has no check: it must never run twice on a node.
 */
static const char roles_playbook_text[] =
    "playbook: fake-roles\n"
    "format: 1\n"
    "facts:\n"
    "  boot_id: {run: bootid, capture: '^(.*)$'}\n"
    "  owner: {scope: cluster, run: get owner, capture: '^(.*)$'}\n"
    "  ver: {run: get ver, capture: '^(.*)$', default: '0'}\n"
    "  tuned: {run: get tuned, capture: '^(.*)$', default: 'no'}\n"
    "boot_id: boot_id\n"
    "reboot_command: reboot\n"
    "roles:\n"
    "  active: {from: members, where: owner == node, assume: declared}\n"
    "  passive: {from: members, where: owner != node, assume: others}\n"
    "sequences:\n"
    "  node-up:\n"
    "    - id: prep\n"
    "      name: Prepare\n"
    "      run: set prep yes\n"
    "    - id: tune\n"
    "      name: Tune\n"
    "      check: tuned == 'yes'\n"
    "      run: set tuned yes\n"
    "      idempotent: true\n"
    "      verify: tuned == 'yes'\n"
    "    - id: install\n"
    "      name: Install\n"
    "      require: [ver != 'broken', tuned != 'broken', owner != node]\n"
    "      check: ver == '2'\n"
    "      run: set ver 2\n"
    "      idempotent: true\n"
    "      verify: ver == '2'\n"
    "phases:\n"
    "  - id: first\n"
    "    name: The passive node\n"
    "    on: passive\n"
    "    steps:\n"
    "      - use: node-up\n"
    "  - id: move\n"
    "    name: Move the service\n"
    "    on: passive\n"
    "    steps:\n"
    "      - id: take\n"
    "        name: Take the service\n"
    "        check: owner == node\n"
    "        run: setall owner ${node}\n"
    "        idempotent: true\n"
    "        verify: owner == node\n"
    "  - id: last\n"
    "    name: The former active node\n"
    "    on: active\n"
    "    steps:\n"
    "      - use: node-up\n";

/* The roles playbook over a cluster whose service n1 owns, both nodes at version 1. */
static void load_roles(void)
{
	struct diag d;
	diag_init(&d);
	write_file("pb.yml", roles_playbook_text);
	char *p = xasprintf("%s/pb.yml", dir);
	playbook_free(PB);
	PB = playbook_load(p, &d);
	free(p);
	if (PB == NULL)
		ck_abort_msg("playbook: %d:%d: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	diag_release(&d);
	memset(W, 0, sizeof(*W));
	W->stop = &stop_flag;
	fake_set(W, "n1", "ver", "1");
	fake_set(W, "n2", "ver", "1");
	fake_set(W, "n1", "owner", "n1");
	fake_set(W, "n2", "owner", "n1");
}

static int resume_rebind(int guided, const char *script)
{
	struct event_sink sink = {on_event, NULL};
	struct run_opts o = {.resume = 1,
			     .rebind = 1,
			     .unattended = !guided,
			     .state_dir = dir,
			     .state = ST,
			     .ssh_config = "none",
			     .command_line = "check_runner",
			     .stop = &stop_flag,
			     .sinks = &sink,
			     .nsinks = 1,
			     .ask = guided ? ask : NULL,
			     .xport_ops = &fake_ops,
			     .xport_arg = W};
	answers = script;
	nasked = 0;
	nev = 0;
	stop_flag = 0;
	return runner_run(PB, INV, &INV->clusters[0], &o);
}

/* n2 (passive) prepared, its install failed; then n1 crashes and the service fails over to n2. */
static void failover_after_prep(void)
{
	load_roles();
	fake_rule(W, "n2", "set ver 2", FA_ANSWER)->exit = 1;
	W->rule[W->nrules - 1].times = 1;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(fake_count(W, "n2", "set prep yes"), 1);
	fake_set(W, "n1", "owner", "n2");
	fake_set(W, "n2", "owner", "n2");
}

START_TEST(role_drift_refusal_names_resume_rebind)
{
	failover_after_prep();
	int mark = W->nlog;
	ck_assert_int_eq(resume_yes(), EXIT_REFUSED);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert(saw(EV_STEP_REFUSED, "The live roles no longer match"));
	ck_assert(saw(EV_STEP_REFUSED, "--rebind"));
	ck_assert_int_eq(jcount("\"event\":\"refused\"", "\"rebind\":\"role active: n1 -> n2; "
							 "role passive: n2 -> n1\""),
			 1);
	/* Asked again, plain resume is refused the same way. */
	ck_assert_int_eq(resume_yes(), EXIT_REFUSED);
	ck_assert_int_eq(changes_since(mark), 0);
}
END_TEST

START_TEST(false_require_wins_over_an_unreadable_one)
{
	failover_after_prep();
	/* `tuned != 'broken'` cannot be read on n2 (the connection drops on it), but
	 * `owner != node` after it is plainly false: the step is refused (exit 3,
	 * --rebind named), not failed on the unreadable fact. */
	fake_rule(W, "n2", "get tuned", FA_DROP);
	ck_assert_int_eq(resume_yes(), EXIT_REFUSED);
	ck_assert(saw(EV_STEP_REFUSED, "owner != node"));
	ck_assert(saw(EV_STEP_REFUSED, "--rebind"));
}
END_TEST

START_TEST(unreadable_require_fails_when_none_is_false)
{
	failover_after_prep();
	fake_set(W, "n1", "owner", "n1"); /* no failover: every readable require holds */
	fake_set(W, "n2", "owner", "n1");
	fake_rule(W, "n2", "get tuned", FA_DROP);
	ck_assert_int_eq(resume_yes(), EXIT_STEP_FAILED);
	ck_assert(saw(EV_STEP_FAILED, "require: tuned != 'broken'"));
}
END_TEST

START_TEST(refusal_of_another_fact_names_no_rebind)
{
	failover_after_prep();
	/* The roles moved, but what refuses is not about them: plain resume is the way. */
	fake_set(W, "n2", "ver", "broken");
	ck_assert_int_eq(resume_yes(), EXIT_REFUSED);
	ck_assert(saw(EV_STEP_REFUSED, "ver != 'broken'"));
	ck_assert(!saw_any("--rebind"));
	ck_assert_int_eq(jcount("\"rebind\":", NULL), 0);
}
END_TEST

START_TEST(rebind_replans_from_the_live_roles)
{
	failover_after_prep();
	ck_assert_int_eq(resume_yes(), EXIT_REFUSED);
	ck_assert_int_eq(resume_rebind(0, NULL), EXIT_DONE);
	ck_assert(saw(EV_BIND, "role active: n1 -> n2"));
	ck_assert(saw(EV_BIND, "role passive: n2 -> n1"));
	ck_assert(saw_any("as planned it cannot go on (step first.install on n2: `owner != node`"));
	ck_assert_int_eq(
	    jcount("\"event\":\"rebind\"", "\"new\":[{\"role\":\"active\",\"host\":\"n2\"}"), 1);
	/* n1, now passive, was upgraded first and took the service; n2 last. */
	ck_assert_str_eq(fake_get(W, "n1", "ver"), "2");
	ck_assert_str_eq(fake_get(W, "n2", "ver"), "2");
	ck_assert_str_eq(fake_get(W, "n2", "owner"), "n1");
	ck_assert_int_eq(fake_count(W, "n1", "set prep yes"), 1);
	/* n2's prep (not idempotent) was done as passive: it counts, never run twice. */
	ck_assert_int_eq(fake_count(W, "n2", "set prep yes"), 1);
	/* n2's tune (idempotent, with a check) still holds: its check skips it, no command. */
	ck_assert_int_eq(fake_count(W, "n2", "set tuned yes"), 1);
	/* The service owner is never upgraded while it owns it: n2's install ran after the move. */
	int take = -1, install = -1;
	for (int i = 0; i < W->nlog; i++) {
		if (strcmp(W->log[i], "setall owner n1") == 0)
			take = i;
		if (strcmp(W->lognode[i], "n2") == 0 && strcmp(W->log[i], "set ver 2") == 0)
			install = i;
	}
	ck_assert_int_ge(take, 0);
	ck_assert_int_gt(install, take);
	/* A later resume reads the rebound run: nothing left. */
	ck_assert_int_eq(resume_yes(), EXIT_DONE);
	ck_assert(saw_any("nothing to resume"));
}
END_TEST

START_TEST(rebind_guided_shows_and_asks)
{
	failover_after_prep();
	int mark = W->nlog;
	ck_assert_int_eq(resume_rebind(1, "n"), EXIT_REFUSED);
	ck_assert_int_ge(nasked, 1);
	ck_assert_ptr_nonnull(strstr(asked[0], "Rebind the roles"));
	ck_assert(saw(EV_BIND, "role active: n1 -> n2"));
	ck_assert_int_eq(jcount("\"event\":\"rebind\"", NULL), 0);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert(saw_any("not rebound: nothing was changed"));
}
END_TEST

START_TEST(rebind_refused_when_no_host_can_be_bound)
{
	failover_after_prep();
	fake_set(W, "n1", "owner", "nobody");
	fake_set(W, "n2", "owner", "nobody");
	int mark = W->nlog;
	ck_assert_int_eq(resume_rebind(0, NULL), EXIT_REFUSED);
	ck_assert(saw_any("cannot rebind cluster C1 from live facts"));
	ck_assert(saw_any("role active"));
	ck_assert(saw_any("owner == node"));
	ck_assert_int_eq(jcount("\"event\":\"rebind\"", NULL), 0);
	ck_assert_int_eq(changes_since(mark), 0);
}
END_TEST

START_TEST(rebind_with_unchanged_roles_resumes)
{
	load_roles();
	fake_rule(W, "n2", "set ver 2", FA_ANSWER)->exit = 1;
	W->rule[W->nrules - 1].times = 1;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_int_eq(resume_rebind(0, NULL), EXIT_DONE);
	ck_assert(saw_any("nothing to rebind"));
	ck_assert_int_eq(jcount("\"event\":\"rebind\"", NULL), 0);
	ck_assert_str_eq(fake_get(W, "n1", "ver"), "2");
	ck_assert_int_eq(fake_count(W, "n2", "set prep yes"), 1);
}
END_TEST

/* Work carried to a new role that something undid since is done again where that is safe. */
START_TEST(rebind_rechecks_carried_work)
{
	failover_after_prep();
	ck_assert_int_eq(fake_count(W, "n2", "set tuned yes"), 1);
	fake_set(W, "n2", "tuned", "no"); /* e.g. a restart reset it */
	ck_assert_int_eq(resume_rebind(0, NULL), EXIT_DONE);
	ck_assert_int_eq(fake_count(W, "n2", "set tuned yes"), 2);
	ck_assert_str_eq(fake_get(W, "n2", "tuned"), "yes");
	ck_assert_int_eq(fake_count(W, "n2", "set prep yes"), 1); /* not idempotent: never again */
}
END_TEST

START_TEST(rebind_refused_when_the_run_moved_the_roles_itself)
{
	load_roles();
	/* n2 upgraded, the service moved to it (the plan's own move), then n1's install fails. */
	fake_rule(W, "n1", "set ver 2", FA_ANSWER)->exit = 1;
	W->rule[W->nrules - 1].times = 1;
	ck_assert_int_eq(apply_yes(), EXIT_STEP_FAILED);
	ck_assert_str_eq(fake_get(W, "n1", "owner"), "n2");
	ck_assert(!saw_any("--rebind"));
	int mark = W->nlog;
	/* The live roles differ from the pinned ones by design: nothing is stranded. */
	ck_assert_int_eq(resume_rebind(0, NULL), EXIT_REFUSED);
	ck_assert(saw_any("not rebound"));
	ck_assert(saw_any("every step still to do can run as planned"));
	ck_assert_int_eq(jcount("\"event\":\"rebind\"", NULL), 0);
	ck_assert_int_eq(changes_since(mark), 0);
	ck_assert_int_eq(resume_yes(), EXIT_DONE);
	ck_assert_str_eq(fake_get(W, "n1", "ver"), "2");
	ck_assert_int_eq(fake_count(W, NULL, "setall owner *"), 1);
}
END_TEST

START_TEST(rebind_never_reruns_an_inflight_non_idempotent_step)
{
	load_roles();
	fake_rule(W, "n2", "set prep yes", FA_CRASH);
	ck_assert_int_eq(apply_crashing(), 137);
	ck_assert_int_eq(fake_count(W, "n2", "set prep yes"), 1);
	W->nrules = 0;
	fake_set(W, "n1", "owner", "n2");
	fake_set(W, "n2", "owner", "n2");
	ck_assert_int_eq(resume_rebind(0, NULL), EXIT_STEP_FAILED);
	/* n1 (now passive) was upgraded and took the service; n2's prep, in flight before
	 * the failover, is the same work in its new role: settled, not run again. */
	ck_assert_str_eq(fake_get(W, "n1", "ver"), "2");
	ck_assert_int_eq(fake_count(W, "n2", "set prep yes"), 1);
	ck_assert(saw_any("last.prep"));
	ck_assert(saw_any("--mark-done last.prep@n2"));
}
END_TEST

START_TEST(lock_refusal_touches_nothing)
{
	int up[2], down[2];
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256], c = 0;
		int other = 0;
		close(down[1]);
		close(up[0]);
		struct state_lock *l =
		    state_lock_acquire(ST, "C1", "holder", 0, NULL, err, sizeof(err), &other);
		c = l ? 'l' : 'x';
		if (write(up[1], &c, 1) != 1)
			_exit(2);
		if (read(down[0], &c, 1) < 0)
			_exit(2);
		state_lock_release(l);
		_exit(0);
	}
	char c = 0;
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_int_eq(c, 'l');
	char *before = journal();
	ck_assert_int_eq(apply_yes(), EXIT_LOCKED);
	ck_assert_int_eq(W->nlog, 0); /* not a single command */
	char *after = journal();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	for (int i = 0; i < nev; i++)
		ck_assert_msg(evk[i] != EV_STEP_START, "a step started");
	close(down[1]);
	int st;
	waitpid(pid, &st, 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
}
END_TEST

/* ---- results ---- */

START_TEST(exit_code_of_every_result)
{
	static const struct {
		enum rres r;
		int code;
		const char *name;
	} t[] = {
	    {RR_OK, EXIT_DONE, "done"},
	    {RR_NOTHING, EXIT_DONE, "done"},
	    {RR_FAILED, EXIT_STEP_FAILED, "failed"},
	    {RR_UNDECIDED, EXIT_STEP_FAILED, "failed"},
	    {RR_INCOMPLETE, EXIT_STEP_FAILED, "failed"},
	    {RR_REFUSED, EXIT_REFUSED, "refused"},
	    {RR_INPUT, EXIT_INPUT, "failed"},
	    {RR_LOCKED, EXIT_LOCKED, "failed"},
	    {RR_JOURNAL, EXIT_JOURNAL, "failed"},
	    {RR_LOCK_LOST, EXIT_LOCK_LOST, "failed"},
	    {RR_INTERRUPTED, EXIT_INTERRUPTED, "interrupted"},
	    {RR_PROCEED, EXIT_STEP_FAILED, "failed"},
	    {RR_AGAIN, EXIT_STEP_FAILED, "failed"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(t); i++) {
		ck_assert_int_eq(runner_exit_code(t[i].r), t[i].code);
		ck_assert_str_eq(runner_result_name(t[i].r), t[i].name);
	}
	ck_assert_int_eq(EXIT_DONE, 0);
	ck_assert_int_eq(EXIT_STEP_FAILED, 1);
	ck_assert_int_eq(EXIT_INPUT, 2);
	ck_assert_int_eq(EXIT_REFUSED, 3);
	ck_assert_int_eq(EXIT_LOCKED, 4);
	ck_assert_int_eq(EXIT_JOURNAL, 5);
	ck_assert_int_eq(EXIT_LOCK_LOST, 6);
	ck_assert_int_eq(EXIT_INTERRUPTED, 130);
}
END_TEST

START_TEST(result_of_every_exit_code)
{
	static const int codes[] = {EXIT_DONE,	    EXIT_STEP_FAILED, EXIT_INPUT,
				    EXIT_REFUSED,   EXIT_LOCKED,      EXIT_JOURNAL,
				    EXIT_LOCK_LOST, EXIT_INTERRUPTED};
	for (size_t i = 0; i < CCR_ARRAY_LEN(codes); i++)
		ck_assert_int_eq(runner_exit_code(runner_result_of_exit(codes[i])), codes[i]);
	ck_assert_int_eq(runner_exit_code(runner_result_of_exit(77)), EXIT_STEP_FAILED);
}
END_TEST

/* A case of every test in all (pre, when set, runs before the fixture); CHECK_RUNNER_ONLY=NAME
 * keeps one (debugging). */
static TCase *runner_case(const char *name, void (*pre)(void), const TTest *const *const *all,
			  size_t n)
{
	const char *only = getenv("CHECK_RUNNER_ONLY");
	TCase *tc = tcase_create(name);
	if (pre)
		tcase_add_checked_fixture(tc, pre, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	for (size_t i = 0; i < n; i++)
		if (only == NULL || strcmp(only, (*all[i])->name) == 0)
			tcase_add_test(tc, *all[i]);
	return tc;
}

static Suite *suite(void)
{
	static const TTest *const *all[] = {
	    &happy_path,
	    &facts_read_once_between_changes,
	    &reboot_new_boot_id_read_once,
	    &compound_probes_fewer_requests,
	    &probe_timeout_fails_with_its_facts_error,
	    &second_apply_changes_nothing,
	    &already_upgraded_cluster_is_a_noop,
	    &nothing_to_do_on_one_node_only,
	    &when_false_skips_the_step,
	    &check_satisfied_skips_the_command,
	    &record_taken_once_before_the_check,
	    &require_false_refuses_before_any_change,
	    &assertion_after_the_work_refuses,
	    &command_failure_stops_the_run,
	    &retries_then_succeeds,
	    &retries_exhausted_fails,
	    &ok_exit_accepts_a_listed_status,
	    &verify_false_fails_the_step,
	    &command_timeout_fails,
	    &drop_on_idempotent_step_runs_it_again,
	    &drop_with_the_effect_settled_by_the_check,
	    &drop_without_retries_fails_then_resume_runs_it,
	    &drop_after_a_non_idempotent_effect_is_not_repeated,
	    &drop_on_non_idempotent_step_is_not_repeated,
	    &sigterm_during_a_command_interrupts,
	    &sigterm_before_any_change,
	    &wait_times_out,
	    &wait_polls_until_it_holds,
	    &reboot_is_verified_by_a_new_boot_id,
	    &reboot_skipped_when_nothing_pending,
	    &reboot_that_never_comes_back_fails,
	    &reboot_without_a_new_boot_id_fails,
	    &reboot_command_failure_fails,
	    &inflight_idempotent_step_runs_again,
	    &inflight_check_satisfied_settles_without_running,
	    &inflight_non_idempotent_refused_under_yes,
	    &inflight_non_idempotent_retry_told,
	    &inflight_non_idempotent_mark_done_verified,
	    &inflight_non_idempotent_mark_done_refused_when_false,
	    &inflight_guided_run_again,
	    &inflight_guided_quit,
	    &inflight_reboot_settled_by_changed_boot_id,
	    &inflight_reboot_unchanged_boot_id_is_issued_again,
	    &inflight_outage_end_closed_on_resume,
	    &inflight_outage_still_open_after_resume_failure,
	    &resume_after_a_finished_run_is_nothing,
	    &resume_without_any_run_is_an_input_error,
	    &apply_refused_while_an_acting_run_is_unfinished,
	    &apply_replaces_a_run_that_changed_nothing,
	    &outage_marks_bracket_the_window,
	    &outage_named_from_the_playbook,
	    &gate_passed_by_yes,
	    &gate_acknowledged_in_the_inventory,
	    &gate_answered_yes,
	    &gate_answered_no_refuses,
	    &gate_quit_interrupts,
	    &guided_confirmation_quit,
	    &guided_skip_unguarded_stays_pending,
	    &guided_skip_everything_else_ends_incomplete,
	    &guided_skip_in_outage_needs_a_second_answer,
	    &guided_skip_point_of_no_return_needs_a_second_answer,
	    &guided_skip_required_later_needs_a_second_answer,
	    &guided_skip_guarded_confirmed,
	    &guided_mark_done_refused_while_verify_false,
	    &guided_mark_done_when_verify_holds,
	    &guided_details_then_yes,
	    &role_drift_refusal_names_resume_rebind,
	    &refusal_of_another_fact_names_no_rebind,
	    &false_require_wins_over_an_unreadable_one,
	    &unreadable_require_fails_when_none_is_false,
	    &rebind_replans_from_the_live_roles,
	    &rebind_guided_shows_and_asks,
	    &rebind_refused_when_no_host_can_be_bound,
	    &rebind_with_unchanged_roles_resumes,
	    &rebind_rechecks_carried_work,
	    &rebind_refused_when_the_run_moved_the_roles_itself,
	    &rebind_never_reruns_an_inflight_non_idempotent_step,
	    &lock_refusal_touches_nothing,
	    &exit_code_of_every_result,
	    &result_of_every_exit_code,
	};
	Suite *s = suite_create("runner");
	suite_add_tcase(s, runner_case("runner", NULL, all, CCR_ARRAY_LEN(all)));
	/* Every test again with compound probes: same outcomes, same messages. */
	suite_add_tcase(s, runner_case("runner-sh", setup_sh, all, CCR_ARRAY_LEN(all)));
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
