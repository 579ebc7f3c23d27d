/*
 * check_badinput.c — the bad-input corpus (tests/bad-input/): every fixture
 * is refused, with exactly the error its .expect file holds.
 *
 * A fixture NAME.yml is a playbook when NAME starts with "pb-" and an
 * inventory when it starts with "inv-" (validated against the shipped
 * playbooks/ccr-sp1.yml).  NAME.expect holds the diagnostics as the CLI
 * prints them ("FILE:LINE:COL: message", FILE relative to the repository
 * root): one line is the first error; several lines are the whole list and
 * the count must match too; a line ending in "..." matches as a prefix.
 * Inputs too big to commit (10 MB, 10,000 nested lists) are generated into
 * a temporary directory.  When bin/ccrup is built, every fixture also goes
 * through `ccrup validate` and must exit 2 with the same first line.
 *
 * Run from the repository root (make check does).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

#define CORPUS		  "tests/bad-input"
#define SHIPPED_PLAYBOOK  "playbooks/ccr-sp1.yml"
#define SHIPPED_INVENTORY "playbooks/inventory.example.yml"

static char **fixtures; /* NAME.yml paths, sorted */
static int nfixtures;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_corpus(void)
{
	DIR *dp = opendir(CORPUS);
	struct dirent *e;

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".yml") != 0)
			continue;
		fixtures = xreallocarray(fixtures, (size_t)nfixtures + 1, sizeof(*fixtures));
		fixtures[nfixtures++] = xasprintf("%s/%s", CORPUS, e->d_name);
	}
	closedir(dp);
	qsort(fixtures, (size_t)nfixtures, sizeof(*fixtures), cmp_str);
}

static int is_playbook(const char *path)
{
	return str_startswith(strrchr(path, '/') + 1, "pb-");
}

/* Load a fixture the way `ccrup validate` does; diagnostics as printed.  Returns 1 if refused. */
static int load(const char *path, struct sbuf *out)
{
	struct diag d;
	int refused;
	char *text = NULL;
	size_t len = 0;

	diag_init(&d);
	if (is_playbook(path)) {
		struct playbook *pb = playbook_load(path, &d);
		refused = pb == NULL;
		playbook_free(pb);
	} else {
		struct inventory *inv = inventory_load(path, &d);
		struct playbook *pb = inv ? playbook_load(SHIPPED_PLAYBOOK, &d) : NULL;
		refused = inv == NULL || pb == NULL || model_validate(pb, inv, &d) < 0;
		playbook_free(pb);
		inventory_free(inv);
	}
	FILE *fp = open_memstream(&text, &len);
	diag_print(&d, fp);
	fclose(fp);
	sbuf_adds(out, text);
	free(text);
	diag_release(&d);
	return refused;
}

static int line_matches(const char *want, const char *got, size_t gotlen)
{
	size_t n = strlen(want);
	if (n >= 3 && strcmp(want + n - 3, "...") == 0)
		return gotlen >= n - 3 && strncmp(want, got, n - 3) == 0;
	return gotlen == n && strncmp(want, got, n) == 0;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Compare diagnostics with the expectation text; on mismatch abort with both. */
static void check_expect(const char *name, const char *expect, const char *got)
{
	int nwant = count_lines(expect), ngot = count_lines(got);
	const char *w = expect, *g = got;

	ck_assert_msg(nwant > 0, "%s: empty expectation", name);
	ck_assert_msg(ngot > 0, "%s: loaded without an error", name);
	ck_assert_msg(nwant == 1 || nwant == ngot, "%s: expected %d errors, got %d:\n%s", name,
		      nwant, ngot, got);
	for (int i = 0; i < nwant; i++) {
		const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
		char *want = xstrndup(w, (size_t)(we - w));
		ck_assert_msg(line_matches(want, g, (size_t)(ge - g)),
			      "%s: error %d\n  want: %s\n  got:  %.*s", name, i + 1, want,
			      (int)(ge - g), g);
		free(want);
		w = we + 1;
		g = ge + 1;
	}
}

static char *expect_path(const char *yml)
{
	return xasprintf("%.*s.expect", (int)(strlen(yml) - 4), yml);
}

START_TEST(fixture)
{
	const char *path = fixtures[_i];
	char *ep = expect_path(path), *expect = NULL;
	size_t len = 0;
	struct sbuf got;

	ck_assert_msg(read_file(ep, 1 << 20, &expect, &len) == 0, "%s: no .expect file", path);
	sbuf_init(&got);
	ck_assert_msg(load(path, &got), "%s: load did not fail", path);
	check_expect(path, expect, got.buf);
	sbuf_release(&got);
	free(expect);
	free(ep);
}
END_TEST

START_TEST(corpus_size)
{
	int pb = 0, inv = 0;
	for (int i = 0; i < nfixtures; i++)
		*(is_playbook(fixtures[i]) ? &pb : &inv) += 1;
	ck_assert_int_ge(nfixtures, 45);
	ck_assert_int_ge(pb, 20);
	ck_assert_int_ge(inv, 15);
}
END_TEST

START_TEST(every_expect_has_a_fixture)
{
	DIR *dp = opendir(CORPUS);
	struct dirent *e;
	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 8 || strcmp(e->d_name + n - 7, ".expect") != 0)
			continue;
		char *yml = xasprintf("%s/%.*s.yml", CORPUS, (int)(n - 7), e->d_name);
		ck_assert_msg(access(yml, R_OK) == 0, "%s has no fixture", e->d_name);
		free(yml);
	}
	closedir(dp);
}
END_TEST

START_TEST(errors_are_collected)
{
	struct sbuf got;
	sbuf_init(&got);
	ck_assert(load(CORPUS "/pb-three-errors.yml", &got));
	ck_assert_int_eq(count_lines(got.buf), 3);
	sbuf_release(&got);
}
END_TEST

static char tmpdir[64];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_badinput.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *generate(const char *name, const char *head, char fill, size_t n, const char *tail)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(head, fp);
	for (size_t i = 0; i < n; i++)
		fputc(fill, fp);
	fputs(tail, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

/* The generated file at path is refused with "PATH<suffix>" as its only error. */
static void expect_generated(const char *path, const char *suffix)
{
	struct sbuf got;
	char *want = xasprintf("%s%s", path, suffix);
	sbuf_init(&got);
	ck_assert(load(path, &got));
	check_expect(path, want, got.buf);
	sbuf_release(&got);
	free(want);
}

START_TEST(ten_megabytes)
{
	char *pb = generate("pb-huge.yml", "# padding\n", '#', 10485760 - 11, "\n");
	char *inv = generate("inv-huge.yml", "", ' ', 10485760, "");
	expect_generated(pb, ": file too large (10485760 bytes, limit 8388608)\n");
	expect_generated(inv, ": file too large (10485760 bytes, limit 8388608)\n");
	free(pb);
	free(inv);
}
END_TEST

START_TEST(ten_thousand_deep)
{
	char *pb = generate("pb-deep.yml", "playbook: ", '[', 10000, "\n");
	char *inv = generate("inv-deep.yml", "", '[', 10000, "\n");
	expect_generated(pb, ":1:42: nesting deeper than 32 levels\n");
	expect_generated(inv, ":1:33: nesting deeper than 32 levels\n");
	free(pb);
	free(inv);
}
END_TEST

START_TEST(deep_block_mapping)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = 0; i < 10000; i++)
		sbuf_adds(&sb, "- ");
	sbuf_adds(&sb, "x\n");
	char *pb = generate("pb-deep-block.yml", sb.buf, '\n', 0, "");
	expect_generated(pb, ":1:65: nesting deeper than 32 levels\n");
	free(pb);
	sbuf_release(&sb);
}
END_TEST

/* Run bin/ccrup validate; return its exit status and its stderr's first line. */
static int run_validate(const char *inv, const char *pb, char *first, size_t firstlen)
{
	char *cmd = xasprintf("bin/ccrup validate '%s' -p '%s' 2>&1 >/dev/null", inv, pb);
	FILE *fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	if (fgets(first, (int)firstlen, fp) == NULL)
		first[0] = '\0';
	first[strcspn(first, "\n")] = '\0';
	while (fgetc(fp) != EOF)
		;
	int st = pclose(fp);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(cli_exit_code)
{
	const char *path = fixtures[_i];
	char first[4096], *ep, *expect = NULL;
	size_t len = 0;

	if (access("bin/ccrup", X_OK) != 0)
		return; /* unit runs without the binary; make check builds it first */
	int st = is_playbook(path) ? run_validate(SHIPPED_INVENTORY, path, first, sizeof(first))
				   : run_validate(path, SHIPPED_PLAYBOOK, first, sizeof(first));
	ck_assert_msg(st == EXIT_INPUT, "%s: ccrup validate exited %d, not 2", path, st);
	ep = expect_path(path);
	ck_assert_int_eq(read_file(ep, 1 << 20, &expect, &len), 0);
	expect[strcspn(expect, "\n")] = '\0';
	ck_assert_msg(line_matches(expect, first, strlen(first)), "%s:\n  want: %s\n  got:  %s",
		      path, expect, first);
	free(expect);
	free(ep);
}
END_TEST

static Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("corpus");
	tcase_add_loop_test(tc, fixture, 0, nfixtures);
	tcase_add_test(tc, corpus_size);
	tcase_add_test(tc, every_expect_has_a_fixture);
	tcase_add_test(tc, errors_are_collected);
	suite_add_tcase(s, tc);

	TCase *gen = tcase_create("generated");
	tcase_add_checked_fixture(gen, tmp_setup, tmp_teardown);
	tcase_set_timeout(gen, 60);
	tcase_add_test(gen, ten_megabytes);
	tcase_add_test(gen, ten_thousand_deep);
	tcase_add_test(gen, deep_block_mapping);
	suite_add_tcase(s, gen);

	TCase *cli = tcase_create("cli");
	tcase_set_timeout(cli, 30);
	tcase_add_loop_test(cli, cli_exit_code, 0, nfixtures);
	suite_add_tcase(s, cli);
	return s;
}

int main(void)
{
	scan_corpus();
	SRunner *sr = srunner_create(badinput_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (int i = 0; i < nfixtures; i++)
		free(fixtures[i]);
	free(fixtures);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
