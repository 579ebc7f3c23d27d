/*
 * check_playbook_steps.c — playbook_load() (orchestrator/load/playbook*.c), part
 * two: step keys and their defaults, the one-action rule, reboot, record,
 * wait, http_check, conditions, sequences and use:, and error collection.
 */
#include "playbook_test.h"

static const char seqs[] = "sequences:\n"
			   "  up:\n"
			   "    - {id: one, name: One, run: x}\n"
			   "    - {id: two, name: Two, run: y}\n";

START_TEST(defaults_of_a_run_step)
{
	ok_base("", "      - id: s\n        name: S\n        run: 'true'\n");
	const struct step_def *s = &pb->phases[0].steps[0];
	ck_assert_int_eq(s->nok_exit, 1);
	ck_assert_int_eq(s->ok_exit[0], 0);
	ck_assert_int_eq(s->idempotent, 0);
	ck_assert_int_eq(s->retries, 0);
	ck_assert_int_eq(s->retry_delay_ms, 10000);
	ck_assert_int_eq(s->timeout_ms, 0);
	ck_assert_int_eq(s->reboot.when, REBOOT_NEVER);
	ck_assert_int_eq(s->outage, OUTAGE_NONE);
	ck_assert_str_eq(pb->phases[0].name, "p");
	ck_assert_int_eq(s->loc.line, STEP_LINE);
}
END_TEST
START_TEST(duration_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        timeout: fivemin\n",
		 "25:18: bad duration 'fivemin' for 'timeout' (examples: 30s, 5m, 1h30m, 500ms)");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        timeout: 0\n",
		 "25:18: 'timeout' must be at least 1ms, got '0'");
	diag_release(&d);
	ok_base("", "      - id: s\n        name: S\n        run: x\n        timeout: 1h30m\n"
		    "        estimate: 90\n");
	ck_assert_int_eq(pb->phases[0].steps[0].timeout_ms, 90 * 60 * 1000);
	ck_assert_int_eq(pb->phases[0].steps[0].estimate_ms, 90 * 1000);
}
END_TEST
START_TEST(verify_within_and_pending)
{
	ok_base("", "      - id: s\n        name: S\n        run: x\n        verify:\n"
		    "          run: q\n          expect: DONE\n          pending: BUSY\n"
		    "        verify_within: 2m\n");
	const struct step_def *s = &pb->phases[0].steps[0];
	ck_assert_int_eq(s->verify_within_ms, 120000);
	ck_assert_str_eq(s->verify.probe->pending, "BUSY");
	playbook_free(pb);
	pb = NULL;
	bad_step("      - id: s\n        name: S\n        run: x\n        verify_within: 1m\n",
		 "25:9: 'verify_within' needs the step's 'verify'");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        verify:\n"
		 "          run: q\n          pending: BUSY\n",
		 "27:11: 'pending' needs the step's 'verify_within' (how long to wait)");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        check:\n"
		 "          run: q\n          pending: BUSY\n",
		 "27:11: 'pending' only applies to a 'verify' probe");
	diag_release(&d);
	bad_step(
	    "      - id: s\n        name: S\n        run: x\n        verify: 1 == 1\n"
	    "        verify_within: soon\n",
	    "26:24: bad duration 'soon' for 'verify_within' (examples: 30s, 5m, 1h30m, 500ms)");
}
END_TEST
START_TEST(exit_code_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        ok_exit: [0, -1]\n",
		 "25:22: bad value '-1' in 'ok_exit' (integers 0..2147483647)");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        ok_exit: [abc]\n",
		 "25:19: bad value 'abc' in 'ok_exit' (integers 0..2147483647)");
}
END_TEST
START_TEST(retries_range_and_bool)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        retries: 101\n"
		 "        idempotent: yes\n",
		 "25:18: 'retries': expected an integer 0..100, got '101'");
	ck_assert_str_eq(err(1), "26:21: 'idempotent': expected true or false, got 'yes'");
}
END_TEST
START_TEST(outage_enum)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        outage: begin\n",
		 "25:17: 'outage': expected one of begins, ends, within, got 'begin' (did you "
		 "mean 'begins'?)");
}
END_TEST
START_TEST(gate_with_run)
{
	bad_step("      - id: s\n        name: S\n        gate: Sure?\n        run: x\n",
		 "24:9: a step does one thing: 'gate' cannot be combined with 'run'");
}
END_TEST
START_TEST(step_with_nothing_to_do)
{
	bad_step("      - id: s\n        name: S\n        why: because\n",
		 "22:9: step has nothing to do: give it 'run', 'gate', 'wait', 'http_check', "
		 "'reboot', 'require' or 'record'");
}
END_TEST
START_TEST(assertion_step_ok)
{
	ok_base("", "      - id: s\n        name: S\n        require: state == 'active'\n");
	ck_assert_int_eq(pb->phases[0].steps[0].nrequire, 1);
	ck_assert_int_eq(pb->phases[0].steps[0].require_loc[0].line, 24);
}
END_TEST
START_TEST(run_only_keys)
{
	bad_step("      - id: s\n        name: S\n        gate: ok?\n        ok_exit: [0]\n",
		 "25:9: 'ok_exit' only applies to a step with 'run'");
}
END_TEST
START_TEST(reboot_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        reboot: {when: always}\n",
		 "25:9: a step with 'reboot' needs the playbook's top-level 'boot_id:' (the fact "
		 "that changes on every reboot)");
	ck_assert_str_eq(err(1), "25:9: a step with 'reboot' needs the playbook's top-level "
				 "'reboot_command:' (how the runner restarts a host)");
	diag_release(&d);
	bad_base(
	    "boot_id: boot\nreboot_command: reboot\n",
	    "      - id: s\n        name: S\n        run: x\n        reboot: {when: on_exit}\n",
	    "27:17: reboot 'when: on_exit' needs 'exit_codes' (e.g. [3010])");
	diag_release(&d);
	bad_base("boot_id: boot\nreboot_command: reboot\n",
		 "      - id: s\n        name: S\n        run: x\n        reboot: {when: on_exit, "
		 "exit_codes: [3010]}\n",
		 "27:45: reboot exit code 3010 is not in the step's ok_exit");
	diag_release(&d);
	ok_base("boot_id: boot\nreboot_command: reboot\n",
		"      - id: s\n        name: S\n        run: x\n"
		"        reboot: {when: always, ready: state == 'active'}\n");
	ck_assert_int_eq(pb->phases[0].steps[0].reboot.down_timeout_ms, 600000);
	ck_assert_int_eq(pb->phases[0].steps[0].reboot.up_timeout_ms, 1800000);
}
END_TEST

START_TEST(reboot_without_run)
{
	bad_base("boot_id: boot\n",
		 "      - id: s\n        name: S\n        reboot: {when: always}\n",
		 "25:9: a step with 'reboot' needs the playbook's top-level 'reboot_command:' (how "
		 "the runner restarts a host)");
	diag_release(&d);
	ok_base("boot_id: boot\nreboot_command: systemctl reboot\n",
		"      - id: s\n        name: S\n        reboot: {when: always}\n");
	ck_assert_str_eq(pb->reboot_command, "systemctl reboot");
	ck_assert_ptr_null(pb->phases[0].steps[0].run);
	playbook_free(pb);
	pb = NULL;
	bad_base(
	    "boot_id: boot\nreboot_command: systemctl reboot\n",
	    "      - id: s\n        name: S\n        reboot: {when: on_exit, exit_codes: [1]}\n",
	    "26:17: reboot 'when: on_exit' needs the step's 'run' (whose exit decides)");
	diag_release(&d);
	bad_base(
	    "boot_id: boot\nreboot_command: systemctl reboot\n",
	    "      - id: s\n        name: S\n        gate: sure?\n        reboot: {when: always}\n",
	    "27:9: a step does one thing: 'reboot' cannot be combined with 'gate'");
	diag_release(&d);
	bad_base("reboot_command: ${nope}\n", "      - {id: s, name: A, run: x}\n",
		 "18:17: undefined variable '${nope}' (did you mean '${node}'?)");
}
END_TEST

START_TEST(boot_id_must_be_a_fact)
{
	bad_base("boot_id: boot_time\n", "      - {id: s, name: A, run: x}\n",
		 "18:10: 'boot_id': undefined fact 'boot_time' (name the fact that changes on "
		 "every reboot)");
}
END_TEST
START_TEST(record_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        record: {as: r}\n",
		 "25:17: 'record' needs 'fact', or 'run' and 'capture'");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        record: {as: r, fact: "
		 "state, run: y, capture: z}\n",
		 "25:17: 'record' takes 'fact' or 'run' + 'capture', not both");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        record: {as: r, fact: "
		 "nope}\n",
		 "25:31: 'record': undefined fact 'nope'");
}
END_TEST
START_TEST(duplicate_record_name)
{
	bad_step("      - {id: a, name: A, run: x, record: {as: r, fact: state}}\n"
		 "      - {id: b, name: B, run: x, record: {as: r, fact: boot}}\n",
		 "23:47: duplicate record name 'r' (first at 22:47)");
}
END_TEST
START_TEST(wait_rules)
{
	bad_step("      - id: s\n        name: S\n        wait: {until: state == 'active'}\n",
		 "24:15: missing required key 'timeout' in wait");
	diag_release(&d);
	ok_base("", "      - id: s\n        name: S\n        wait: {until: state == 'active', "
		    "timeout: 5m}\n");
	ck_assert_int_eq(pb->phases[0].steps[0].wait->interval_ms, 10000);
	ck_assert_int_eq(pb->phases[0].steps[0].wait->timeout_ms, 300000);
}
END_TEST
START_TEST(http_check_rules)
{
	ok_base("",
		"      - id: s\n        name: S\n        http_check: {url: 'http://x:8080/a'}\n");
	const struct http_check_spec *h = pb->phases[0].steps[0].http;
	ck_assert_int_eq(h->nstatus, 1);
	ck_assert_int_eq(h->status[0], 200);
	ck_assert_int_eq(h->timeout_ms, 10000);
	playbook_free(pb);
	pb = NULL;
	bad_step("      - id: s\n        name: S\n        http_check: {url: 'ftp://x', status: "
		 "[99]}\n",
		 "24:27: 'url': 'ftp://x' is not http(s)://host[:port][/path], or empty");
	ck_assert_str_eq(err(1), "24:47: bad value '99' in 'status' (integers 100..599)");
}
END_TEST
START_TEST(check_forms)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        check: [a]\n",
		 "25:16: 'check': expected an expression or a mapping {run, expect, exit}, got a "
		 "list");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        check: {expect: a}\n",
		 "25:16: missing required key 'run' in 'check' probe");
	diag_release(&d);
	ok_base("",
		"      - id: s\n        name: S\n        run: x\n        verify: {run: y, exit: "
		"[0, 1]}\n");
	ck_assert_int_eq(pb->phases[0].steps[0].verify.probe->nexit, 2);
}
END_TEST
START_TEST(require_forms)
{
	bad_step("      - id: s\n        name: S\n        require: {a: b}\n",
		 "24:18: 'require': expected an expression or a list of expressions, got a "
		 "mapping");
}
END_TEST
START_TEST(sequence_inlined)
{
	ok_base(seqs, "      - {id: first, name: F, run: z}\n      - use: up\n");
	ck_assert_int_eq(pb->phases[0].nsteps, 3);
	ck_assert_str_eq(pb->phases[0].steps[2].id, "two");
	ck_assert_str_eq(pb->phases[0].steps[2].from_sequence, "up");
	ck_assert_int_eq(pb->phases[0].steps[2].loc.line, 21);
}
END_TEST
START_TEST(sequence_used_twice_duplicates)
{
	bad_base(seqs, "      - use: up\n      - use: up\n",
		 "20:7: duplicate step id 'one' in phase 'p' (first at 20:7)");
}
END_TEST
START_TEST(undefined_sequence)
{
	bad_base(seqs, "      - use: upp\n",
		 "26:14: 'use': undefined sequence 'upp' (did you mean 'up'?)");
}
END_TEST
START_TEST(use_stands_alone)
{
	bad_base(seqs, "      - use: up\n        id: x\n",
		 "27:9: 'use' stands alone: an item with 'use' takes no other keys (found 'id')");
}
END_TEST
START_TEST(sequence_errors_reported_once)
{
	bad_base("sequences:\n  up:\n    - {id: one, name: One, run: '${zzz}'}\n",
		 "      - use: up\n      - use: up\n", "20:34: undefined variable '${zzz}'");
	ck_assert_int_eq(d.n, 1);
}
END_TEST
START_TEST(sequence_nesting)
{
	ok_base("sequences:\n  a:\n    - {id: x, name: X, run: x}\n  b:\n    - use: a\n"
		"    - {id: y, name: Y, run: y}\n",
		"      - use: b\n");
	ck_assert_int_eq(pb->phases[0].nsteps, 2);
	ck_assert_str_eq(pb->phases[0].steps[0].from_sequence, "a");
	playbook_free(pb);
	pb = NULL;
	bad_base("sequences:\n  a:\n    - {id: x, name: X, run: x}\n  b:\n    - use: a\n"
		 "  c:\n    - use: b\n",
		 "      - use: c\n",
		 "24:12: sequence 'b' uses other sequences itself, so 'c' cannot use it "
		 "(sequences nest one level)");
}
END_TEST
START_TEST(sequence_cycles)
{
	bad_base("sequences:\n  a:\n    - use: a\n", "      - use: a\n",
		 "20:12: sequence 'a' uses itself (a cycle)");
	diag_release(&d);
	bad_base("sequences:\n  a:\n    - use: b\n  b:\n    - use: a\n", "      - use: a\n",
		 "20:12: sequences 'a' and 'b' use each other (a cycle)");
	ck_assert_str_eq(err(1), "22:12: sequences 'b' and 'a' use each other (a cycle)");
}
END_TEST
START_TEST(errors_are_collected)
{
	bad_step("      - id: s\n        name: S\n        run: ${zzz}\n        timeout: soon\n"
		 "        retries: -1\n",
		 "24:14: undefined variable '${zzz}'");
	ck_assert_int_eq(d.n, 3);
	ck_assert_str_eq(err(1), "25:18: bad duration 'soon' for 'timeout' (examples: 30s, 5m, "
				 "1h30m, 500ms)");
	ck_assert_str_eq(err(2), "26:18: 'retries': expected an integer 0..100, got '-1'");
}
END_TEST
static Suite *playbook_steps_suite(void)
{
	Suite *s = suite_create("playbook_steps");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_of_a_run_step);
	tcase_add_test(tc, duration_rules);
	tcase_add_test(tc, exit_code_rules);
	tcase_add_test(tc, retries_range_and_bool);
	tcase_add_test(tc, outage_enum);
	tcase_add_test(tc, gate_with_run);
	tcase_add_test(tc, step_with_nothing_to_do);
	tcase_add_test(tc, assertion_step_ok);
	tcase_add_test(tc, run_only_keys);
	tcase_add_test(tc, reboot_rules);
	tcase_add_test(tc, reboot_without_run);
	tcase_add_test(tc, boot_id_must_be_a_fact);
	tcase_add_test(tc, record_rules);
	tcase_add_test(tc, duplicate_record_name);
	tcase_add_test(tc, wait_rules);
	tcase_add_test(tc, http_check_rules);
	tcase_add_test(tc, check_forms);
	tcase_add_test(tc, require_forms);
	tcase_add_test(tc, sequence_inlined);
	tcase_add_test(tc, sequence_used_twice_duplicates);
	tcase_add_test(tc, undefined_sequence);
	tcase_add_test(tc, use_stands_alone);
	tcase_add_test(tc, sequence_errors_reported_once);
	tcase_add_test(tc, verify_within_and_pending);
	tcase_add_test(tc, sequence_nesting);
	tcase_add_test(tc, sequence_cycles);
	tcase_add_test(tc, errors_are_collected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(playbook_steps_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
