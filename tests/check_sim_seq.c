/*
 * check_sim_seq.c — cmd.exe's part of a command line in ccrsim
 * (mock-nodes/world/sim_seq.c): `cmd [/v:on] /c LINE` split on `&`, `&&`,
 * `||` outside quotes, each segment run as if it had come alone (output,
 * exit status, counting, faults, simulated time), echo with `1>&2`,
 * !errorlevel! (delayed, /v:on only) and %errorlevel% (parse time), cmd's
 * quote rule after /c, the `requests` count in the dump, and the drop
 * fault's arming in a later segment.
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define SCN(n) "mock-nodes/scenarios/" n ".yml"

static struct sim_world *W;
static struct sbuf OUT, ERR;

static void load(double scale)
{
	char err[512];
	W = sim_world_load(SCN("two-node"), scale, err, sizeof(err));
	ck_assert_msg(W != NULL, "%s", err);
}

static void setup(void)
{
	sbuf_init(&OUT);
	sbuf_init(&ERR);
	load(0);
}

static void teardown(void)
{
	sim_world_free(W);
	sbuf_release(&OUT);
	sbuf_release(&ERR);
}

/* Run a line to completion on host at world time 0 (failing on a hang); output in OUT / ERR. */
static int x(const char *host, const char *line)
{
	int code = -1;
	int64_t now = 0;
	sbuf_reset(&OUT);
	sbuf_reset(&ERR);
	struct sim_action *a = sim_exec(W, sim_host_find(W, host), line, now);
	while (!sim_action_poll(a, now, &OUT, &ERR, &code)) {
		int64_t t = sim_action_next_ms(a);
		ck_assert_msg(t != INT64_MAX, "hangs: %s", line);
		now = t > now ? t : now;
	}
	sim_action_free(a);
	return code;
}

/* What a command alone prints and returns. */
struct alone {
	char *out, *err;
	int code;
};

static struct alone run_alone(const char *host, const char *cmd)
{
	struct alone r;
	r.code = x(host, cmd);
	r.out = xstrdup(OUT.buf != NULL ? OUT.buf : "");
	r.err = xstrdup(ERR.buf != NULL ? ERR.buf : "");
	return r;
}

static void fault(const char *json)
{
	char err[256];
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(sim_fault_add(W, j, err, sizeof(err)) == 0, "%s", err);
	json_decref(j);
}

/* An integer of host in the dump: hosts[].KEY, or hosts[].KEY[SUB] (0 when absent). */
static json_int_t host_int(const char *host, const char *key, const char *sub)
{
	json_t *d = sim_world_dump(W, 0);
	json_int_t v = 0;
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(d, "hosts"), i, h)
	{
		json_t *o = json_object_get(h, key);
		if (strcmp(json_string_value(json_object_get(h, "name")), host) == 0)
			v = json_integer_value(sub != NULL ? json_object_get(o, sub) : o);
	}
	json_decref(d);
	return v;
}

static json_int_t counted(const char *host, const char *cmd)
{
	return host_int(host, "commands", cmd);
}

static const char *const PARTS[] = {
    "sc query ClusSvc",
    "sc query NoSuchService",
    "frobnicate /now",
    "cluster group \"Cluster Group\"",
    /* quotes with the Program Files blank and a pipe inside them */
    "powershell -NonInteractive -PSConsoleFile \"C:\\Program Files\\Microsoft\\Exchange "
    "Server\\Bin\\exshell.psc1\" -Command \"Get-ExchangeServer E2K7CCR | Format-List "
    "AdminDisplayVersion\"",
};
#define NPARTS CCR_ARRAY_LEN(PARTS)

/* The spec's wire format: P1 & echo M:1:!errorlevel!& echo M:1: 1>&2& P2 ... */
static char *compound(const char *const *parts, size_t n, const char *vswitch)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addf(&sb, "cmd %s/c \"", vswitch);
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&sb,
			  "%s%s & echo ccrup:0badcafe:%zu:!errorlevel!& echo ccrup:0badcafe:%zu: "
			  "1>&2",
			  i > 0 ? "& " : "", parts[i], i + 1, i + 1);
	sbuf_addc(&sb, '"');
	return sbuf_detach(&sb);
}

/* Part i (1-based) of a stream: the text between marker i-1's line and marker i. */
static char *part(const char *stream, size_t i, int *status)
{
	const char *from = stream;
	char *m = xasprintf("ccrup:0badcafe:%zu:", i - 1);
	if (i > 1) {
		from = strstr(stream, m);
		ck_assert_ptr_nonnull(from);
		from = strchr(from, '\n') + 1;
	}
	free(m);
	m = xasprintf("ccrup:0badcafe:%zu:", i);
	const char *to = strstr(from, m);
	ck_assert_msg(to != NULL, "no marker %zu in %s", i, stream);
	if (status != NULL)
		*status = (int)strtol(to + strlen(m), NULL, 10);
	free(m);
	return xstrndup(from, (size_t)(to - from));
}

START_TEST(compound_parts_equal_alone)
{
	struct alone al[NPARTS];
	for (size_t i = 0; i < NPARTS; i++)
		al[i] = run_alone("NODE1", PARTS[i]);
	ck_assert_int_eq(al[1].code, 1060);
	ck_assert_int_eq(al[2].code, 9009);
	ck_assert_ptr_nonnull(strstr(al[4].out, "AdminDisplayVersion"));
	char *line = compound(PARTS, NPARTS, "/v:on ");
	ck_assert_int_eq(x("NODE1", line), 0); /* the last echo's */
	for (size_t i = 0; i < NPARTS; i++) {
		int st = -1;
		char *o = part(OUT.buf, i + 1, &st), *e = part(ERR.buf, i + 1, NULL);
		ck_assert_str_eq(o, al[i].out);
		ck_assert_str_eq(e, al[i].err);
		ck_assert_int_eq(st, al[i].code);
		free(o);
		free(e);
		free(al[i].out);
		free(al[i].err);
	}
	ck_assert_ptr_nonnull(strstr(OUT.buf, "ccrup:0badcafe:3:9009\n"));
	ck_assert_ptr_nonnull(strstr(ERR.buf, "ccrup:0badcafe:4: \n"));
	free(line);
}
END_TEST

START_TEST(requests_and_commands_counted)
{
	char *line = compound(PARTS, 4, "/v:on ");
	ck_assert_int_eq(host_int("NODE2", "requests", NULL), 0);
	x("NODE2", line);
	x("NODE2", "sc query ClusSvc");
	ck_assert_int_eq(host_int("NODE2", "requests", NULL), 2);
	ck_assert_int_eq(counted("NODE2", "sc query ClusSvc"), 2);
	ck_assert_int_eq(counted("NODE2", "frobnicate /now"), 1);
	ck_assert_int_eq(counted("NODE2", "cluster group \"Cluster Group\""), 1);
	/* echo is cmd's own: no program, not counted */
	json_t *d = sim_world_dump(W, 0);
	char *s = json_dumps(d, 0);
	ck_assert_ptr_null(strstr(s, "echo"));
	free(s);
	json_decref(d);
	free(line);
}
END_TEST

/* Lines whose whole stdout and stderr are known. */
static const struct {
	const char *line, *out, *err;
} SAYS[] = {
    /* !errorlevel! only with delayed expansion; %errorlevel% when the line is read */
    {"cmd /c \"frobnicate & echo x:!errorlevel!\"", "x:!errorlevel!\n", NULL},
    {"cmd /V:ON /c \"frobnicate & echo x:!ERRORLEVEL!\"", "x:9009\n", NULL},
    {"cmd /v:on /v:off /c \"frobnicate & echo x:!errorlevel!\"", "x:!errorlevel!\n", NULL},
    {"cmd /v:on /c \"frobnicate & echo x:%errorlevel%\"", "x:0\n", NULL},
    {"cmd /v:on /c echo !errorlevel!", "0\n", ""},
    /* echo, its redirection, the blanks it keeps */
    {"cmd /c echo hello world", "hello world\n", ""},
    {"cmd /c echo to err 1>&2", "", "to err \n"},
    {"cmd /c \"echo a>&2& echo b\"", "b\n", "a\n"},
    {"cmd /c echo", "ECHO is on.\n", ""},
};

START_TEST(known_outputs)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(SAYS); i++) {
		ck_assert_int_eq(x("NODE1", SAYS[i].line), 0);
		ck_assert_str_eq(OUT.buf != NULL ? OUT.buf : "", SAYS[i].out);
		if (SAYS[i].err != NULL)
			ck_assert_str_eq(ERR.buf != NULL ? ERR.buf : "", SAYS[i].err);
	}
}
END_TEST

START_TEST(echo_builtin_and_quotes)
{
	x("NODE1", "cmd /c \"echo \"a & b\"\"");
	ck_assert_str_eq(OUT.buf, "\"a & b\"\n");
	x("NODE1", "cmd /c echo a ^& b");
	ck_assert_str_eq(OUT.buf, "a & b\n");
	/* quotes: the first and the last go ... */
	ck_assert_int_eq(x("NODE1", "cmd /c \"sc query ClusSvc\""), 0);
	ck_assert_ptr_nonnull(strstr(OUT.buf, "SERVICE_NAME: ClusSvc"));
	ck_assert_int_eq(x("NODE1", "cmd.exe /c \"\"C:\\Windows\\sc.exe\" query ClusSvc\""), 0);
	/* ... unless they quote a program's path with a blank in it */
	ck_assert_int_eq(x("NODE1", "cmd /c \"C:\\Program Files\\x.exe\""), 9009);
	ck_assert_ptr_nonnull(strstr(ERR.buf, "'C:\\Program Files\\x.exe' is not recognized"));
	/* a pipe is refused */
	ck_assert_int_eq(x("NODE1", "cmd /c sc query ClusSvc | find \"STATE\""), 1);
	ck_assert_ptr_nonnull(strstr(ERR.buf, "not supported"));
	/* not a cmd line: & is no separator (the command gets it as an argument) */
	ck_assert_int_eq(x("NODE1", "frob & echo hi"), 9009);
	ck_assert_int_eq((int)OUT.len, 0);
}
END_TEST

START_TEST(conditional_segments)
{
	x("NODE1", "cmd /c \"frobnicate && echo no || echo yes\"");
	ck_assert_str_eq(OUT.buf, "yes\n");
	x("NODE1", "cmd /c \"sc query ClusSvc && echo ran || echo no\"");
	ck_assert_ptr_nonnull(strstr(OUT.buf, "ran \n"));
	ck_assert_ptr_null(strstr(OUT.buf, "no"));
	ck_assert_int_eq(x("NODE1", "cmd /c \"frobnicate && echo no & echo always\""), 0);
	ck_assert_str_eq(OUT.buf, "always\n");
	/* the line's status is the last segment's that ran */
	ck_assert_int_eq(x("NODE1", "cmd /c \"echo a & frobnicate\""), 9009);
	ck_assert_int_eq(x("NODE1", "cmd /c \"frobnicate || frob2 && echo no\""), 9009);
}
END_TEST

START_TEST(fault_fail_middle_segment)
{
	struct alone last = run_alone("NODE1", PARTS[3]);
	fault("{\"host\":\"NODE1\",\"match\":\"NoSuchService\",\"kind\":\"fail\",\"exit\":77,"
	      "\"message\":\"injected\"}");
	char *line = compound(PARTS, 4, "/v:on ");
	x("NODE1", line);
	int st = -1;
	char *e = part(ERR.buf, 2, NULL), *o = part(OUT.buf, 2, &st);
	ck_assert_int_eq(st, 77);
	ck_assert_str_eq(e, "injected\n");
	ck_assert_str_eq(o, "");
	free(o);
	free(e);
	o = part(OUT.buf, 4, &st);
	ck_assert_str_eq(o, last.out);
	ck_assert_int_eq(st, last.code);
	free(o);
	free(last.out);
	free(last.err);
	free(line);
}
END_TEST

START_TEST(fault_hang_middle_segment)
{
	int code;
	fault("{\"host\":\"NODE1\",\"match\":\"NoSuchService\",\"kind\":\"hang\"}");
	char *line = compound(PARTS, 4, "/v:on ");
	struct sim_action *a = sim_exec(W, sim_host_find(W, "NODE1"), line, 0);
	ck_assert_int_eq(sim_action_poll(a, 100000, &OUT, &ERR, &code), 0);
	ck_assert_int_eq(sim_action_next_ms(a), INT64_MAX);
	ck_assert_ptr_nonnull(strstr(OUT.buf, "SERVICE_NAME: ClusSvc"));
	ck_assert_ptr_nonnull(strstr(OUT.buf, "ccrup:0badcafe:1:0\n"));
	ck_assert_ptr_null(strstr(OUT.buf, "ccrup:0badcafe:2:"));
	ck_assert_ptr_null(strstr(OUT.buf, "Cluster Group"));
	sim_action_abort(a, 100000);
	sim_action_free(a);
	/* the segments after the hung one never ran: not counted */
	ck_assert_int_eq(counted("NODE1", "frobnicate /now"), 0);
	free(line);
}
END_TEST

START_TEST(fault_drop_arms_at_its_segment)
{
	int code;
	fault("{\"host\":\"NODE1\",\"match\":\"NoSuchService\",\"kind\":\"drop\",\"after_bytes\":"
	      "5}");
	char *line = compound(PARTS, 4, "/v:on ");
	struct sim_action *a = sim_exec(W, sim_host_find(W, "NODE1"), line, 0);
	ck_assert_int_eq(sim_action_drop_after(a), -1);
	/* the first poll stops before the drop's segment: its bytes count from there */
	ck_assert_int_eq(sim_action_poll(a, 0, &OUT, &ERR, &code), 0);
	ck_assert_int_eq(sim_action_drop_after(a), -1);
	ck_assert_ptr_nonnull(strstr(ERR.buf, "ccrup:0badcafe:1: \n"));
	size_t before = OUT.len + ERR.len;
	ck_assert_int_le(sim_action_next_ms(a), 0);
	sbuf_reset(&OUT);
	sbuf_reset(&ERR);
	sim_action_poll(a, 0, &OUT, &ERR, &code);
	ck_assert_int_eq(sim_action_drop_after(a), 5);
	ck_assert_ptr_nonnull(strstr(OUT.buf, "[SC] EnumQueryServicesStatus"));
	ck_assert_int_gt((int)before, 0);
	sim_action_free(a);
	/* a drop in the first segment applies from the start */
	sim_fault_clear(W, NULL);
	fault("{\"host\":\"NODE1\",\"match\":\"ClusSvc\",\"kind\":\"drop\",\"after_bytes\":5}");
	a = sim_exec(W, sim_host_find(W, "NODE1"), line, 0);
	ck_assert_int_eq(sim_action_drop_after(a), 5);
	sim_action_free(a);
	free(line);
}
END_TEST

/* At time scale 1, a segment starts when the one before it finished. */
START_TEST(segments_take_their_time)
{
	int code;
	sim_world_free(W);
	load(1);
	int64_t alone_ms;
	{
		struct sim_action *a =
		    sim_exec(W, sim_host_find(W, "NODE2"), "net stop SysmonLog", 0);
		int64_t now = 0;
		while (!sim_action_poll(a, now, &OUT, &ERR, &code))
			now = sim_action_next_ms(a);
		alone_ms = now;
		sim_action_free(a);
		x("NODE2", "net start SysmonLog");
	}
	ck_assert_int_gt(alone_ms, 0);
	struct sim_action *a = sim_exec(
	    W, sim_host_find(W, "NODE2"),
	    "cmd /v:on /c \"net stop SysmonLog & echo m:1:!errorlevel!& sc query SysmonLog\"", 0);
	sbuf_reset(&OUT);
	ck_assert_int_eq(sim_action_poll(a, alone_ms - 1, &OUT, &ERR, &code), 0);
	ck_assert_ptr_null(strstr(OUT.buf, "m:1:"));
	ck_assert_int_eq(sim_action_poll(a, alone_ms, &OUT, &ERR, &code), 1);
	ck_assert_ptr_nonnull(strstr(OUT.buf, "m:1:0\n"));
	ck_assert_ptr_nonnull(strstr(OUT.buf, "STOPPED"));
	sim_action_free(a);
}
END_TEST

START_TEST(segment_log_lines)
{
	int code;
	struct sbuf log;
	sbuf_init(&log);
	struct sim_action *a =
	    sim_exec(W, sim_host_find(W, "NODE1"), "cmd /c \"sc query ClusSvc & echo x\"", 0);
	ck_assert_int_eq(sim_action_poll(a, 0, &OUT, &ERR, &code), 1);
	sim_action_take_log(a, &log);
	ck_assert_str_eq(log.buf, "[1] exec sc query ClusSvc\n[1] exit 0\n[2] exec echo x\n"
				  "[2] exit 0\n");
	sim_action_free(a);
	sbuf_reset(&log);
	a = sim_exec(W, sim_host_find(W, "NODE1"), "sc query ClusSvc", 0);
	sim_action_poll(a, 0, &OUT, &ERR, &code);
	sim_action_take_log(a, &log);
	ck_assert_int_eq((int)log.len, 0);
	sim_action_free(a);
	sbuf_release(&log);
}
END_TEST

static Suite *sim_seq_suite(void)
{
	Suite *s = suite_create("sim_seq");
	TCase *tc = tcase_create("compound");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, compound_parts_equal_alone);
	tcase_add_test(tc, requests_and_commands_counted);
	tcase_add_test(tc, known_outputs);
	tcase_add_test(tc, echo_builtin_and_quotes);
	tcase_add_test(tc, conditional_segments);
	tcase_add_test(tc, fault_fail_middle_segment);
	tcase_add_test(tc, fault_hang_middle_segment);
	tcase_add_test(tc, fault_drop_arms_at_its_segment);
	tcase_add_test(tc, segments_take_their_time);
	tcase_add_test(tc, segment_log_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_seq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
