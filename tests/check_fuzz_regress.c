/*
 * check_fuzz_regress.c — every defect the fuzz targets (tests/fuzz/) found,
 * replayed through the public API so that it stays fixed in the ordinary
 * `make check` (and, with more teeth, in `make SANITIZE=address,undefined
 * check`, where a leak or an overflow is reported by the sanitizers).  The
 * inputs that triggered them are kept in tests/fuzz/regress/<target>/ and
 * replayed by tests/fuzz/run.sh; docs/reliability.md lists them.
 *
 * Leaks are checked here without a sanitizer too: the heap in use
 * (mallinfo2) must not grow with the number of times an operation is
 * repeated.
 *
 * Run from the repository root (make check does).
 */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define SCENARIO "mock-nodes/scenarios/two-node.yml"

/* Run one command to completion on host (time scale 0: every step is due at once). */
static void run_once(struct sim_world *w, int host, const char *cmd)
{
	struct sbuf out, err;
	int code = -1;
	int64_t now = 0;

	sbuf_init(&out);
	sbuf_init(&err);
	struct sim_action *a = sim_exec(w, host, cmd, now);
	for (int i = 0; i < 1000 && !sim_action_poll(a, now, &out, &err, &code); i++) {
		int64_t next = sim_action_next_ms(a);
		if (next == INT64_MAX)
			break;
		now = next > now ? next : now;
	}
	sim_action_free(a);
	sbuf_release(&out);
	sbuf_release(&err);
}

/* Heap bytes in use after running cmd n times on a fresh world's NODE1. */
static size_t heap_after(const char *cmd, int n)
{
	char err[512];
	struct sim_world *w = sim_world_load(SCENARIO, 0.0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	int host = sim_host_find(w, "NODE1");
	ck_assert_int_ge(host, 0);
	run_once(w, host, cmd); /* first run: the per-command counter is created */
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < n; i++)
		run_once(w, host, cmd);
	size_t after = mallinfo2().uordblks;
	sim_world_free(w);
	return after > before ? after - before : 0;
}

/*
 * fuzz_simcmd, first input: every command leaked 64 bytes, because the
 * command-key builders handed over their buffer with a function that
 * re-initialised the sbuf with a fresh allocation (sbuf_init allocated then;
 * now it allocates nothing and sbuf_detach leaves the sbuf empty, as git's
 * strbuf does).  Found in
 * sim_cmd_normalise() (every command), and the same pattern in the CMS
 * member lists, PowerShell script text and `sc` argument joins.
 */
START_TEST(sim_command_key_does_not_leak)
{
	static const char *const cmds[] = {
	    "sc query MSExchangeIS",
	    "net stop SysmonLog",
	    "",
	    "nonsense /x",
	    "Get-ClusteredMailboxServerStatus -Identity E2K7CCR",
	    "powershell -NonInteractive -Command \"Get-ClusteredMailboxServerStatus -Identity "
	    "E2K7CCR\"",
	    "sc config SharedAccess start= demand",
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(cmds); i++) {
		size_t grew = heap_after(cmds[i], 2000);
		ck_assert_msg(grew < 16 * 1024, "'%s': heap grew by %zu bytes over 2000 runs",
			      cmds[i], grew);
	}
}
END_TEST

/*
 * The sbuf contract (git's strbuf): init allocates nothing; detach hands over
 * a malloc'd string ("" when empty) and leaves the sbuf empty and usable, so a
 * caller that forgets to release after detach leaks nothing.
 */
START_TEST(sbuf_detach_leaves_nothing_to_free)
{
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < 1000; i++) {
		struct sbuf sb;
		sbuf_init(&sb);
		ck_assert_str_eq(sb.buf, "");
		char *empty = sbuf_detach(&sb);
		ck_assert_str_eq(empty, "");
		free(empty);
		sbuf_addf(&sb, "step %d", i);
		char *p = sbuf_detach(&sb);
		ck_assert_uint_eq(sb.len, 0);
		ck_assert_str_eq(sb.buf, "");
		sbuf_adds(&sb, "again");
		ck_assert_str_eq(sb.buf, "again");
		sbuf_reset(&sb);
		char *q = sbuf_detach(&sb);
		ck_assert_str_eq(q, "");
		free(p);
		free(q);
		/* no sbuf_release: nothing is left to free */
	}
	size_t after = mallinfo2().uordblks;
	ck_assert_uint_le(after > before ? after - before : 0, 256);
}
END_TEST

static Suite *regress_suite(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("simcmd");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sim_command_key_does_not_leak);
	tcase_add_test(tc, sbuf_detach_leaves_nothing_to_free);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(regress_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
