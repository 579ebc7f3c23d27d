/*
 * check_badjournal.c — the journal fixtures of the bad-input corpus
 * (tests/bad-input/journal/, table tests/bad-input/journal.tsv): every
 * damaged journal is refused with the right line number and reason, every
 * good one replays, and nothing a reader does changes the file.
 *
 * The table's rows are "NAME<TAB>corrupt|torn|ok<TAB>LINE<TAB>message",
 * written by tests/bad-input/journal/generate.py along with the fixtures:
 *   corrupt  journal_load() and journal_open() both return JOURNAL_CORRUPT
 *            with "PATH:LINE: reason" (reason contains the message), and
 *            journal_open() leaves the file byte for byte as it was;
 *   torn     JOURNAL_TORN_TAIL with a warning naming LINE; opening for
 *            writing and appending cuts the torn bytes, and the result
 *            replays cleanly with LINE records (LINE-1 old + 1 new);
 *   ok       JOURNAL_OK with LINE records.
 * Inputs too big to commit (a line over 1 MiB, a file over 256 MiB) are
 * generated in a temporary directory.  `ccrup status` on the same fixtures
 * (exit 5 naming the line) is tests/integration/bad_input_cli.sh.
 *
 * Run from the repository root (make check does).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "journal.h"
#include "util.h"

#define JDIR  "tests/bad-input/journal"
#define TABLE "tests/bad-input/journal.tsv"

struct row {
	char *name;    /* fixture NAME (NAME.jsonl) */
	char *result;  /* corrupt, torn or ok */
	int line;      /* line named by the message, or the record count for ok */
	char *message; /* substring of the reason */
};

static struct row *rows;
static int nrows;

/* Split a line at tabs into at most n fields (pointers into line).  Returns the count. */
static int split_tabs(char *line, char **field, int n)
{
	int k = 0;
	while (k < n) {
		field[k++] = line;
		char *tab = strchr(line, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return k;
}

static void load_table(void)
{
	char *data = NULL, *p, *nl;
	size_t len = 0;

	if (read_file(TABLE, 1 << 20, &data, &len) < 0)
		return;
	for (p = data; *p; p = nl + 1) {
		char *f[4];
		int64_t line;
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		if (*p == '#' || *p == '\0' || split_tabs(p, f, 4) != 4 ||
		    parse_int64(f[2], 0, 1000000, &line) < 0)
			continue;
		rows = xreallocarray(rows, (size_t)nrows + 1, sizeof(*rows));
		rows[nrows++] =
		    (struct row){xstrdup(f[0]), xstrdup(f[1]), (int)line, xstrdup(f[3])};
	}
	free(data);
}

static char tmpdir[64];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_badjournal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	ck_assert_msg(read_file(path, 64u << 20, &data, len) == 0, "cannot read %s", path);
	return data;
}

static void spill(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert(len == 0 || fwrite(data, 1, len, fp) == len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* A copy of fixture NAME in the temporary directory; returns its path (caller frees). */
static char *copy_fixture(const char *name)
{
	char *src = xasprintf(JDIR "/%s.jsonl", name);
	char *dst = xasprintf("%s/%s.jsonl", tmpdir, name);
	size_t len = 0;
	char *data = slurp(src, &len);
	spill(dst, data, len);
	free(data);
	free(src);
	return dst;
}

/* msg must be "PATH:LINE: ...message..." */
static void expect_msg(const char *path, int line, const char *message, const char *msg)
{
	char *head = xasprintf("%s:%d: ", path, line);
	ck_assert_msg(str_startswith(msg, head), "want '%s...', got '%s'", head, msg);
	ck_assert_msg(strstr(msg + strlen(head), message) != NULL, "want '%s' in '%s'", message,
		      msg);
	free(head);
}

START_TEST(fixture_load)
{
	const struct row *r = &rows[_i];
	char *path = xasprintf(JDIR "/%s.jsonl", r->name);
	struct journal *j = NULL;
	char msg[2048] = "";

	enum journal_status st = journal_load(path, &j, msg, sizeof(msg));
	if (strcmp(r->result, "corrupt") == 0) {
		ck_assert_msg(st == JOURNAL_CORRUPT, "%s: status %d, not corrupt (%s)", path, st,
			      msg);
		ck_assert_ptr_null(j);
		expect_msg(path, r->line, r->message, msg);
	} else if (strcmp(r->result, "torn") == 0) {
		ck_assert_msg(st == JOURNAL_TORN_TAIL, "%s: status %d, not torn (%s)", path, st,
			      msg);
		expect_msg(path, r->line, r->message, msg);
		ck_assert_int_eq(journal_count(j), (size_t)r->line - 1);
	} else {
		ck_assert_msg(st == JOURNAL_OK, "%s: status %d (%s)", path, st, msg);
		ck_assert_int_eq(journal_count(j), (size_t)r->line);
	}
	journal_close(j);
	free(path);
}
END_TEST

/* Opening for writing replays the same way; a corrupt file is left untouched. */
START_TEST(fixture_open)
{
	const struct row *r = &rows[_i];
	char *path = copy_fixture(r->name);
	struct journal *j = NULL;
	char msg[2048] = "";
	size_t len0 = 0, len1 = 0;
	char *before = slurp(path, &len0);

	enum journal_status st = journal_open(path, &j, msg, sizeof(msg));
	if (strcmp(r->result, "corrupt") == 0) {
		ck_assert_int_eq(st, JOURNAL_CORRUPT);
		expect_msg(path, r->line, r->message, msg);
		char *after = slurp(path, &len1);
		ck_assert_msg(len0 == len1 && memcmp(before, after, len0) == 0,
			      "%s: a refused journal was modified", r->name);
		free(after);
	} else {
		int old = strcmp(r->result, "torn") == 0 ? r->line - 1 : r->line;
		ck_assert_msg(st == JOURNAL_OK || st == JOURNAL_TORN_TAIL, "%s: %s", r->name, msg);
		json_t *rec = json_pack("{s:s, s:s}", "event", "run-end", "result", "failed");
		ck_assert_int_eq(journal_append(j, rec), 0);
		json_decref(rec);
		journal_close(j);
		j = NULL;
		ck_assert_int_eq(journal_load(path, &j, msg, sizeof(msg)), JOURNAL_OK);
		ck_assert_int_eq(journal_count(j), (size_t)old + 1);
	}
	journal_close(j);
	free(before);
	free(path);
}
END_TEST

START_TEST(table_covers_the_corpus)
{
	int corrupt = 0;
	for (int i = 0; i < nrows; i++) {
		char *path = xasprintf(JDIR "/%s.jsonl", rows[i].name);
		ck_assert_msg(access(path, R_OK) == 0, "%s: no fixture", path);
		free(path);
		ck_assert_msg(strcmp(rows[i].result, "corrupt") == 0 ||
				  strcmp(rows[i].result, "torn") == 0 ||
				  strcmp(rows[i].result, "ok") == 0,
			      "%s: bad result '%s'", rows[i].name, rows[i].result);
		corrupt += strcmp(rows[i].result, "corrupt") == 0;
	}
	ck_assert_int_ge(nrows, 30);
	ck_assert_int_ge(corrupt, 25);
}
END_TEST

/* A journal line as journal.c writes it: body + crc, newline included (caller frees). */
static char *crc_line(const char *body)
{
	size_t n = strlen(body);
	unsigned long crc = crc32(0L, (const Bytef *)body, (uInt)n);
	return xasprintf("%.*s,\"crc\":\"%08lx\"}\n", (int)(n - 1), body, crc);
}

/* Line 2 is exactly JOURNAL_MAX_LINE bytes (accepted), or one more (refused). */
static void long_line(size_t total, enum journal_status want)
{
	char *first = crc_line("{\"seq\":1,\"event\":\"run-start\"}");
	const char *head = "{\"seq\":2,\"event\":\"begin\",\"detail\":\"";
	size_t pad = total - strlen(head) - strlen("\"}") - strlen(",\"crc\":\"xxxxxxxx\"}") + 1;
	char *body = xmalloc(strlen(head) + pad + 3);
	char *path = xasprintf("%s/long.jsonl", tmpdir);
	struct journal *j = NULL;
	char msg[1024];

	memcpy(body, head, strlen(head));
	memset(body + strlen(head), 'x', pad);
	memcpy(body + strlen(head) + pad, "\"}", 3);
	char *second = crc_line(body);
	ck_assert_int_eq(strlen(second), total + 1);
	char *all = xasprintf("%s%s", first, second);
	spill(path, all, strlen(all));
	ck_assert_int_eq(journal_load(path, &j, msg, sizeof(msg)), want);
	if (want == JOURNAL_CORRUPT)
		expect_msg(path, 2, "line is 1048577 bytes (limit 1048576)", msg);
	else
		ck_assert_int_eq(journal_count(j), 2);
	journal_close(j);
	free(all);
	free(second);
	free(body);
	free(path);
	free(first);
}

START_TEST(line_over_one_mebibyte)
{
	long_line(JOURNAL_MAX_LINE, JOURNAL_OK);
	long_line(JOURNAL_MAX_LINE + 1, JOURNAL_CORRUPT);
}
END_TEST

/* A sparse file over 256 MiB is refused before it is read. */
START_TEST(file_over_256_mebibytes)
{
	char *path = xasprintf("%s/huge.jsonl", tmpdir);
	struct journal *j = NULL;
	char msg[1024];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, JOURNAL_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(journal_load(path, &j, msg, sizeof(msg)), JOURNAL_CORRUPT);
	ck_assert_msg(strstr(msg, "larger than the 256 MiB limit") != NULL, "%s", msg);
	ck_assert_int_eq(journal_open(path, &j, msg, sizeof(msg)), JOURNAL_CORRUPT);
	ck_assert_ptr_null(j);
	free(path);
}
END_TEST

START_TEST(missing_and_directory)
{
	char *path = xasprintf("%s/nope/journal.jsonl", tmpdir);
	struct journal *j = NULL;
	char msg[1024];

	ck_assert_int_eq(journal_load(path, &j, msg, sizeof(msg)), JOURNAL_MISSING);
	ck_assert_int_eq(access(path, F_OK), -1); /* a reader creates nothing */
	ck_assert_int_eq(journal_load(tmpdir, &j, msg, sizeof(msg)), JOURNAL_IO);
	ck_assert_ptr_null(j);
	ck_assert_msg(strstr(msg, "Is a directory") != NULL, "%s", msg);
	free(path);
}
END_TEST

static Suite *badjournal_suite(void)
{
	Suite *s = suite_create("badjournal");
	TCase *tc = tcase_create("fixtures");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_loop_test(tc, fixture_load, 0, nrows);
	tcase_add_loop_test(tc, fixture_open, 0, nrows);
	tcase_add_test(tc, table_covers_the_corpus);
	suite_add_tcase(s, tc);

	TCase *gen = tcase_create("generated");
	tcase_add_checked_fixture(gen, tmp_setup, tmp_teardown);
	tcase_set_timeout(gen, 60);
	tcase_add_test(gen, line_over_one_mebibyte);
	tcase_add_test(gen, file_over_256_mebibytes);
	tcase_add_test(gen, missing_and_directory);
	suite_add_tcase(s, gen);
	return s;
}

int main(void)
{
	load_table();
	SRunner *sr = srunner_create(badjournal_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (int i = 0; i < nrows; i++) {
		free(rows[i].name);
		free(rows[i].result);
		free(rows[i].message);
	}
	free(rows);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
