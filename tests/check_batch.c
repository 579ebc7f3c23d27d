/*
 * check_batch.c — compound probes' wire formats (run/batch.h): which
 * commands may be parts under each shell, the command built for both
 * shells, and splitting an answer back into parts, with CRLF line ends,
 * forged or missing markers and a part cut short.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/* Which commands may be parts, under each shell (a table: shell, command, 1 or 0). */
static const struct {
	enum pb_shell shell;
	const char *cmd;
	int ok;
} parts_table[] = {
    {PB_SHELL_CMD, "sc query MOM", 1},
    {PB_SHELL_CMD, "reg query \"HKLM\\SOFTWARE\\ccrup\" /v X", 1},
    /* Specials inside double quotes are cmd's to pass on. */
    {PB_SHELL_CMD, "powershell -Command \"Get-X | Format-List\"", 1},
    {PB_SHELL_CMD, "echo a & echo b", 0},
    {PB_SHELL_CMD, "type x > y", 0},
    {PB_SHELL_CMD, "dir | find \"x\"", 0},
    {PB_SHELL_CMD, "(dir)", 0},
    {PB_SHELL_CMD, "echo %PATH%", 0},
    {PB_SHELL_CMD, "echo \"!x!\"", 0},
    {PB_SHELL_CMD, "echo \"a^b\"", 0},
    {PB_SHELL_CMD, "echo \"unbalanced", 0},
    {PB_SHELL_CMD, "a\nb", 0},
    {PB_SHELL_CMD, "", 0},
    {PB_SHELL_NONE, "sc query MOM", 0},
    {PB_SHELL_SH, "systemctl is-active x | head -1", 1},
    {PB_SHELL_SH, "echo 'a \"b' && true", 1},
    {PB_SHELL_SH, "echo 'unbalanced", 0},
    {PB_SHELL_SH, "echo \"unbalanced", 0},
    {PB_SHELL_SH, "a\nb", 0},
};

START_TEST(parts_that_are_safe)
{
	for (size_t i = 0; i < sizeof(parts_table) / sizeof(parts_table[0]); i++)
		ck_assert_msg(batch_part_ok(parts_table[i].shell, parts_table[i].cmd) ==
				  parts_table[i].ok,
			      "shell %d, `%s`: want %d", parts_table[i].shell, parts_table[i].cmd,
			      parts_table[i].ok);
}
END_TEST

START_TEST(build_both_shells)
{
	const char *parts[] = {"sc query MOM", "wmic os get X"};
	char *c = batch_build(PB_SHELL_CMD, "0123abcd", parts, 2);
	ck_assert_str_eq(c, "cmd /v:on /c \"sc query MOM & echo ccrup:0123abcd:1:!errorlevel!& "
			    "echo ccrup:0123abcd:1: 1>&2& wmic os get X & echo "
			    "ccrup:0123abcd:2:!errorlevel!& echo ccrup:0123abcd:2: 1>&2\"");
	free(c);
	c = batch_build(PB_SHELL_SH, "0123abcd", parts, 2);
	ck_assert_str_eq(c,
			 "(sc query MOM); echo \"ccrup:0123abcd:1:$?\"; echo \"ccrup:0123abcd:1:\" "
			 ">&2; (wmic os get X); echo \"ccrup:0123abcd:2:$?\"; echo "
			 "\"ccrup:0123abcd:2:\" >&2");
	free(c);
	c = batch_build(PB_SHELL_CMD, "0123abcd", parts, 1);
	ck_assert_str_eq(c, "sc query MOM"); /* one part: the plain command */
	free(c);
}
END_TEST

START_TEST(nonce_is_hex_and_fresh)
{
	char a[BATCH_NONCE_LEN + 1], b[BATCH_NONCE_LEN + 1];
	batch_nonce(a);
	batch_nonce(b);
	ck_assert_uint_eq(strlen(a), BATCH_NONCE_LEN);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), BATCH_NONCE_LEN);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(parse_crlf_and_no_trailing_newline)
{
	struct batch_part p[3];
	memset(p, 0, sizeof(p));
	/* cmd.exe's echo ends lines with CRLF; the first part printed no newline. */
	const char *out = "STATE : RUNNINGccrup:n0nce000:1:0\r\n"
			  "line1\r\nline2\r\nccrup:n0nce000:2:1060\r\n"
			  "ccrup:n0nce000:3:0\r\n";
	const char *err = "ccrup:n0nce000:1: \r\nbad thing\r\nccrup:n0nce000:2: \r\n"
			  "ccrup:n0nce000:3: \r\n";
	ck_assert_int_eq(batch_parse("n0nce000", out, err, 3, p), 3);
	ck_assert_str_eq(p[0].out, "STATE : RUNNING");
	ck_assert_int_eq(p[0].exit, 0);
	ck_assert_str_eq(p[0].err, "");
	ck_assert_str_eq(p[1].out, "line1\r\nline2\r\n");
	ck_assert_int_eq(p[1].exit, 1060);
	ck_assert_str_eq(p[1].err, "bad thing\r\n");
	ck_assert_str_eq(p[2].out, "");
	batch_parts_release(p, 3);
}
END_TEST

START_TEST(parse_ignores_forged_markers)
{
	struct batch_part p[2];
	memset(p, 0, sizeof(p));
	/* A part printing another nonce's marker, or a marker with no status, forges nothing. */
	const char *out = "ccrup:deadbeef:2:0\nccrup:n0nce000:2:\nx\nccrup:n0nce000:1:3\n"
			  "y\nccrup:n0nce000:2:0\n";
	const char *err = "ccrup:n0nce000:1:\nccrup:n0nce000:2:\n";
	ck_assert_int_eq(batch_parse("n0nce000", out, err, 2, p), 2);
	ck_assert_str_eq(p[0].out, "ccrup:deadbeef:2:0\nccrup:n0nce000:2:\nx\n");
	ck_assert_int_eq(p[0].exit, 3);
	ck_assert_str_eq(p[1].out, "y\n");
	batch_parts_release(p, 2);
}
END_TEST

START_TEST(parse_missing_markers)
{
	struct batch_part p[3];
	memset(p, 0, sizeof(p));
	/* Part 2 hung: the batch was cut after its output began. */
	const char *out = "a\nccrup:n0nce000:1:0\npartial";
	const char *err = "ccrup:n0nce000:1:\n";
	ck_assert_int_eq(batch_parse("n0nce000", out, err, 3, p), 1);
	ck_assert_str_eq(p[0].out, "a\n");
	ck_assert_ptr_null(p[1].out);
	ck_assert_ptr_null(p[2].out);
	batch_parts_release(p, 3);
	/* Stdout complete but stderr cut: that part is not complete. */
	memset(p, 0, sizeof(p));
	ck_assert_int_eq(batch_parse("n0nce000", "ccrup:n0nce000:1:0\nccrup:n0nce000:2:0\n",
				     "ccrup:n0nce000:1:\n", 2, p),
			 1);
	batch_parts_release(p, 2);
	/* A marker with no line end yet (output cut in the middle of it). */
	memset(p, 0, sizeof(p));
	ck_assert_int_eq(batch_parse("n0nce000", "ccrup:n0nce000:1:0", "ccrup:n0nce000:1:\n", 1, p),
			 0);
	ck_assert_int_eq(batch_parse("n0nce000", NULL, NULL, 1, p), 0);
	batch_parts_release(p, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch");
	tcase_add_test(tc, parts_that_are_safe);
	tcase_add_test(tc, build_both_shells);
	tcase_add_test(tc, nonce_is_hex_and_fresh);
	tcase_add_test(tc, parse_crlf_and_no_trailing_newline);
	tcase_add_test(tc, parse_ignores_forged_markers);
	tcase_add_test(tc, parse_missing_markers);
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
