/*
 * check_journal.c — the journal's format, replay rules and failure
 * behaviour (orchestrator/state/journal.h, docs/journal.md).
 *
 * Every test works in its own temporary directory.  Corruption tests write a
 * good journal with the API, damage the file with plain file operations, and
 * check that replay names the right line.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "journal.h"
#include "util.h"

static char tmpdir[256];
static char jpath[512];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_journal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(jpath, sizeof(jpath), "%s/state/CLUS1/journal.jsonl", tmpdir);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Append n records "begin" with step s<seq> through a fresh journal. */
static void write_records(int n)
{
	struct journal *j = NULL;
	char msg[512];

	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	journal_set_run_id(j, "run-1");
	for (int i = 0; i < n; i++) {
		char step[32];
		snprintf(step, sizeof(step), "s%d", i + 1);
		json_t *rec = json_pack("{s:s, s:s, s:s, s:i}", "event", "begin", "step", step,
					"node", "NODE1", "exit", 0);
		ck_assert_int_eq(journal_append(j, rec), 0);
		json_decref(rec);
	}
	journal_close(j);
}

static char *slurp(size_t *len)
{
	char *data = NULL;
	ck_assert_int_eq(read_file(jpath, 1 << 30, &data, len), 0);
	return data;
}

static void spit(const char *data, size_t len)
{
	char *dir = xasprintf("%s/state/CLUS1", tmpdir);
	ck_assert_int_eq(mkdir_p(dir, 0700), 0);
	free(dir);
	int fd = open(jpath, O_WRONLY | O_TRUNC | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Split the file into lines (each keeps its '\n'); returns the count. */
static int split_lines(char *lines[], int max)
{
	size_t len;
	char *data = slurp(&len);
	int n = 0;
	char *p = data;

	while (*p && n < max) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
		lines[n++] = xstrndup(p, l);
		p += l;
	}
	free(data);
	return n;
}

static void join_lines(char *lines[], const int order[], int n)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = 0; i < n; i++)
		sbuf_adds(&sb, lines[order[i]]);
	spit(sb.buf, sb.len);
	sbuf_release(&sb);
}

static void free_lines(char *lines[], int n)
{
	for (int i = 0; i < n; i++)
		free(lines[i]);
}

/* Load and expect corruption whose message starts with PATH:LINE: and contains what. */
static void expect_corrupt(int line, const char *what)
{
	struct journal *j = (struct journal *)1;
	char msg[1024], prefix[600];

	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_CORRUPT);
	ck_assert_ptr_null(j);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", jpath, line);
	ck_assert_msg(str_startswith(msg, prefix), "message '%s' lacks '%s'", msg, prefix);
	ck_assert_msg(strstr(msg, what) != NULL, "message '%s' lacks '%s'", msg, what);
	/* Opening for append must refuse the same file the same way. */
	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_CORRUPT);
	ck_assert_ptr_null(j);
}

START_TEST(roundtrip)
{
	struct journal *j = NULL;
	char msg[512];
	const char *key;
	json_t *val;
	const char *want[] = {"seq",  "time", "run_id",	     "event",  "step",
			      "node", "exit", "duration_ms", "detail", "crc"};

	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 0);
	journal_set_run_id(j, "20261121T102003Z-4242");
	json_t *rec = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "event", "done", "step",
				"stop-svc", "node", "NODE1", "exit", 3010, "duration_ms", 1234,
				"detail", "héllo \"quoted\"\nline2");
	ck_assert_int_eq(journal_append(j, rec), 0);
	json_decref(rec);
	ck_assert_uint_eq(journal_count(j), 1);
	journal_close(j);

	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 1);
	json_t *r = journal_record(j, 0);
	ck_assert_ptr_null(journal_record(j, 1));
	size_t k = 0;
	json_object_foreach(r, key, val)
	{
		ck_assert_uint_lt(k, CCR_ARRAY_LEN(want));
		ck_assert_str_eq(key, want[k]);
		k++;
	}
	ck_assert_uint_eq(k, CCR_ARRAY_LEN(want));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(r, "run_id")), "20261121T102003Z-4242");
	ck_assert_str_eq(json_string_value(json_object_get(r, "detail")),
			 "héllo \"quoted\"\nline2");
	const char *t = json_string_value(json_object_get(r, "time"));
	ck_assert_uint_eq(strlen(t), 24);
	ck_assert(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
	journal_close(j);
}
END_TEST

/* The CRC is checkable from bytes alone, exactly as docs/journal.md says. */
START_TEST(crc_definition)
{
	size_t len;
	char *lines[4] = {0};

	write_records(3);
	int n = split_lines(lines, 4);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(lines[i]) - 1; /* without '\n' */
		const char *suffix = lines[i] + l - 18;
		ck_assert(strncmp(suffix, ",\"crc\":\"", 8) == 0);
		uLong c = crc32(0L, Z_NULL, 0);
		c = crc32(c, (const Bytef *)lines[i], (uInt)(l - 18));
		c = crc32(c, (const Bytef *)"}", 1);
		char hex[9];
		snprintf(hex, sizeof(hex), "%08lx", c);
		ck_assert(strncmp(suffix + 8, hex, 8) == 0);
		ck_assert_str_eq(suffix + 16, "\"}\n");
	}
	free_lines(lines, n);
	char *data = slurp(&len);
	ck_assert(str_startswith(data, "{\"seq\":1,\"time\":\""));
	free(data);
}
END_TEST

START_TEST(one_line_per_record)
{
	struct journal *j = NULL;
	size_t len;
	int newlines = 0;

	ck_assert_int_eq(journal_open(jpath, &j, NULL, 0), JOURNAL_OK);
	json_t *rec = json_pack("{s:s, s:s}", "event", "fact", "detail", "a\nb\r\nc\n\n");
	ck_assert_int_eq(journal_append(j, rec), 0);
	json_decref(rec);
	journal_close(j);
	char *data = slurp(&len);
	for (size_t i = 0; i < len; i++)
		newlines += data[i] == '\n';
	ck_assert_int_eq(newlines, 1);
	ck_assert_int_eq(data[len - 1], '\n');
	free(data);
}
END_TEST

START_TEST(seq_continues_after_reopen)
{
	struct journal *j = NULL;

	write_records(2);
	ck_assert_int_eq(journal_open(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 2);
	json_t *rec = json_pack("{s:s}", "event", "run-end");
	ck_assert_int_eq(journal_append(j, rec), 0);
	json_decref(rec);
	ck_assert_int_eq(json_integer_value(json_object_get(journal_record(j, 2), "seq")), 3);
	journal_close(j);
	ck_assert_int_eq(journal_load(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 3);
	journal_close(j);
}
END_TEST

START_TEST(modes)
{
	struct stat st;
	char dir[600];

	umask(022);
	write_records(1);
	ck_assert_int_eq(stat(jpath, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	snprintf(dir, sizeof(dir), "%s/state/CLUS1", tmpdir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	snprintf(dir, sizeof(dir), "%s/state", tmpdir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
}
END_TEST

START_TEST(empty_and_missing)
{
	struct journal *j = (struct journal *)1;
	char msg[512];

	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_MISSING);
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(strstr(msg, "No such file"));
	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	journal_close(j);
	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 0);
	journal_close(j);
	journal_close(NULL);
}
END_TEST

START_TEST(torn_tail_tolerated_then_cut)
{
	struct journal *j = NULL;
	char msg[1024], want[700];
	const char torn[] = "{\"seq\":3,\"time\":\"2026-11-21T10:2";
	size_t len;

	write_records(2);
	int fd = open(jpath, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, torn, sizeof(torn) - 1), (ssize_t)(sizeof(torn) - 1));
	close(fd);

	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_TORN_TAIL);
	snprintf(want, sizeof(want), "%s:3: torn last record ignored (crash during write)", jpath);
	ck_assert_str_eq(msg, want);
	ck_assert_uint_eq(journal_count(j), 2);
	journal_close(j);

	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_TORN_TAIL);
	ck_assert_uint_eq(journal_count(j), 2);
	json_t *rec = json_pack("{s:s, s:s}", "event", "begin", "step", "s3");
	ck_assert_int_eq(journal_append(j, rec), 0);
	json_decref(rec);
	journal_close(j);

	char *data = slurp(&len);
	ck_assert_ptr_null(strstr(data, "10:2{"));
	free(data);
	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(journal_record(j, 2), "seq")), 3);
	journal_close(j);
}
END_TEST

/* Flip one character inside a string value of line `which` (1-based). */
static void damage_value(int which)
{
	char *lines[8] = {0};
	int order[8];
	int n = split_lines(lines, 8);
	char *p = strstr(lines[which - 1], "NODE1");
	ck_assert_ptr_nonnull(p);
	p[4] = '2';
	for (int i = 0; i < n; i++)
		order[i] = i;
	join_lines(lines, order, n);
	free_lines(lines, n);
}

START_TEST(bad_crc_middle)
{
	write_records(3);
	damage_value(2);
	expect_corrupt(2, "CRC mismatch");
}
END_TEST

START_TEST(bad_crc_last_complete_line_is_corrupt)
{
	write_records(3);
	damage_value(3);
	expect_corrupt(3, "CRC mismatch");
}
END_TEST

START_TEST(seq_gap)
{
	char *lines[8] = {0};
	int n;

	write_records(4);
	n = split_lines(lines, 8);
	join_lines(lines, (const int[]){0, 2, 3}, 3);
	free_lines(lines, n);
	expect_corrupt(2, "seq 3 after seq 1 (gap");
}
END_TEST

START_TEST(duplicated_line)
{
	char *lines[8] = {0};
	int n;

	write_records(3);
	n = split_lines(lines, 8);
	join_lines(lines, (const int[]){0, 1, 1, 2}, 4);
	free_lines(lines, n);
	expect_corrupt(3, "seq 2 repeats");
}
END_TEST

START_TEST(reordered_lines)
{
	char *lines[8] = {0};
	int n;

	write_records(4);
	n = split_lines(lines, 8);
	/* Swapped lines: the first misplaced one jumps ahead. */
	join_lines(lines, (const int[]){0, 2, 1, 3}, 4);
	expect_corrupt(2, "seq 3 after seq 1 (gap: records missing or out of order)");
	/* An old record moved to the end goes back. */
	join_lines(lines, (const int[]){1, 2, 3, 0}, 4);
	expect_corrupt(1, "seq 2 after seq 0");
	join_lines(lines, (const int[]){0, 1, 2, 3, 0}, 5);
	expect_corrupt(5, "seq 1 after seq 4 (records out of order or repeated)");
	free_lines(lines, n);
}
END_TEST

START_TEST(truncated_middle)
{
	char *lines[8] = {0};
	int n;

	write_records(3);
	n = split_lines(lines, 8);
	size_t l = strlen(lines[1]);
	lines[1][l / 2] = '\n';
	lines[1][l / 2 + 1] = '\0';
	join_lines(lines, (const int[]){0, 1, 2}, 3);
	free_lines(lines, n);
	expect_corrupt(2, "invalid JSON");
}
END_TEST

START_TEST(binary_junk)
{
	char *lines[8] = {0};
	int n;
	struct sbuf sb;
	static const char junk[] = "\x7f"
				   "ELF\x02\x01\x01\x00\x00\xff\xfe\n";

	write_records(3);
	n = split_lines(lines, 8);
	sbuf_init(&sb);
	sbuf_adds(&sb, lines[0]);
	sbuf_add(&sb, junk, sizeof(junk) - 1);
	sbuf_adds(&sb, lines[2]);
	spit(sb.buf, sb.len);
	sbuf_release(&sb);
	free_lines(lines, n);
	expect_corrupt(2, "invalid JSON");
}
END_TEST

START_TEST(not_object_and_missing_seq)
{
	const char arr[] = "[1,2,3]\n";
	spit(arr, sizeof(arr) - 1);
	expect_corrupt(1, "not a JSON object");

	/* A valid CRC but no seq: the CRC alone does not make a record. */
	const char body[] = "{\"time\":\"x\",\"event\":\"begin\"}";
	uLong c = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)body, sizeof(body) - 1);
	char *line = xasprintf("{\"time\":\"x\",\"event\":\"begin\",\"crc\":\"%08lx\"}\n", c);
	spit(line, strlen(line));
	free(line);
	expect_corrupt(1, "missing seq");

	spit("\n", 1);
	expect_corrupt(1, "empty line");
}
END_TEST

START_TEST(line_and_file_limits)
{
	struct journal *j = NULL;
	char msg[512];
	size_t big = JOURNAL_MAX_LINE + 10;
	char *line = xmalloc(big + 1);

	memset(line, 'x', big);
	line[big] = '\n';
	spit(line, big + 1);
	free(line);
	expect_corrupt(1, "limit");

	/* A sparse file over 256 MiB is refused without being read. */
	int fd = open(jpath, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(ftruncate(fd, JOURNAL_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(journal_load(jpath, &j, msg, sizeof(msg)), JOURNAL_CORRUPT);
	ck_assert_ptr_nonnull(strstr(msg, "larger than the 256 MiB limit"));

	/* And the writer never produces a line the reader would refuse. */
	ck_assert_int_eq(truncate(jpath, 0), 0);
	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	char *huge = xmalloc(big);
	memset(huge, 'y', big - 1);
	huge[big - 1] = '\0';
	json_t *rec = json_pack("{s:s, s:s}", "event", "fact", "detail", huge);
	ck_assert_int_eq(journal_append(j, rec), -1);
	ck_assert_ptr_nonnull(strstr(journal_error(j), "within"));
	json_decref(rec);
	free(huge);
	journal_close(j);
}
END_TEST

START_TEST(invalid_records_are_not_sticky)
{
	struct journal *j = NULL;

	ck_assert_int_eq(journal_open(jpath, &j, NULL, 0), JOURNAL_OK);
	json_t *bad1 = json_pack("{s:s}", "step", "x");
	json_t *bad2 = json_pack("{s:s, s:i}", "event", "begin", "seq", 7);
	json_t *bad3 = json_pack("[]");
	json_t *good = json_pack("{s:s, s:s}", "event", "begin", "run_id", "own-id");
	ck_assert_int_eq(journal_append(j, bad1), -1);
	ck_assert_ptr_nonnull(strstr(journal_error(j), "event"));
	ck_assert_int_eq(journal_append(j, bad2), -1);
	ck_assert_ptr_nonnull(strstr(journal_error(j), "reserved"));
	ck_assert_int_eq(journal_append(j, bad3), -1);
	journal_set_run_id(j, "journal-id");
	ck_assert_int_eq(journal_append(j, good), 0);
	ck_assert_str_eq(json_string_value(json_object_get(journal_record(j, 0), "run_id")),
			 "own-id");
	ck_assert_int_eq(json_integer_value(json_object_get(journal_record(j, 0), "seq")), 1);
	json_decref(bad1);
	json_decref(bad2);
	json_decref(bad3);
	json_decref(good);
	journal_close(j);
}
END_TEST

START_TEST(read_only_refuses_append)
{
	struct journal *j = NULL;

	write_records(1);
	ck_assert_int_eq(journal_load(jpath, &j, NULL, 0), JOURNAL_OK);
	json_t *rec = json_pack("{s:s}", "event", "begin");
	ck_assert_int_eq(journal_append(j, rec), -1);
	ck_assert_ptr_nonnull(strstr(journal_error(j), "read-only"));
	json_decref(rec);
	journal_close(j);
}
END_TEST

START_TEST(pinned_digests)
{
	struct journal *j = NULL;
	const char *pb = NULL, *inv = NULL;

	ck_assert_int_eq(journal_open(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_int_eq(journal_pinned_digests(j, &pb, &inv), -1);
	json_t *rec = json_pack("{s:s, s:s, s:s}", "event", "run-start", "playbook_sha256", "aa11",
				"inventory_sha256", "bb22");
	ck_assert_int_eq(journal_append(j, rec), 0);
	json_decref(rec);
	journal_close(j);
	ck_assert_int_eq(journal_load(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_int_eq(journal_pinned_digests(j, &pb, &inv), 0);
	ck_assert_str_eq(pb, "aa11");
	ck_assert_str_eq(inv, "bb22");
	journal_close(j);

	ck_assert_int_eq(truncate(jpath, 0), 0);
	write_records(1);
	ck_assert_int_eq(journal_load(jpath, &j, NULL, 0), JOURNAL_OK);
	pb = inv = NULL;
	ck_assert_int_eq(journal_pinned_digests(j, &pb, &inv), -1);
	ck_assert_ptr_null(pb);
	journal_close(j);
}
END_TEST

/* The child hits RLIMIT_FSIZE on its second append; exit code says what failed. */
static int sticky_child(void)
{
	struct journal *j = NULL;
	struct stat st;
	struct rlimit rl;
	json_t *rec = json_pack("{s:s, s:s}", "event", "begin", "detail", "0123456789abcdef");

	signal(SIGXFSZ, SIG_IGN);
	if (journal_open(jpath, &j, NULL, 0) != JOURNAL_OK || journal_append(j, rec) != 0)
		return 10;
	if (stat(jpath, &st) < 0)
		return 11;
	rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size + 20; /* room for part of a line */
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 12;
	if (journal_append(j, rec) != -1)
		return 13;
	char *first = xstrdup(journal_error(j));
	if (strstr(first, "write ") != first || strstr(first, jpath) == NULL ||
	    strstr(first, "File too large") == NULL)
		return 14;
	struct stat st2;
	if (stat(jpath, &st2) < 0 || st2.st_size != st.st_size)
		return 15; /* a partial line was left behind */
	json_t *small = json_pack("{s:s}", "event", "x");
	if (journal_append(j, small) != -1 || strcmp(journal_error(j), first) != 0)
		return 16; /* not sticky: a tiny record would fit under the limit */
	if (journal_count(j) != 1)
		return 17;
	json_decref(small);
	json_decref(rec);
	free(first);
	journal_close(j);
	return 0;
}

START_TEST(sticky_error_after_failed_write)
{
	struct journal *j = NULL;
	int status = 0;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(sticky_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
	ck_assert_int_eq(journal_load(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 1);
	journal_close(j);
}
END_TEST

/*
 * Group commit: a deferred record is written at once (another reader sees
 * it) and is durable after journal_sync() or the next journal_append().
 */
START_TEST(deferred_written_then_synced)
{
	struct journal *j = NULL, *r = NULL;
	json_t *rec = json_pack("{s:s, s:s}", "event", "done", "step", "a");

	ck_assert_int_eq(journal_open(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_int_eq(journal_unsynced(j), 0);
	ck_assert_int_eq(journal_append_deferred(j, rec), 0);
	ck_assert_int_eq(journal_append_deferred(j, rec), 0);
	ck_assert_int_eq(journal_unsynced(j), 1);
	ck_assert_uint_eq(journal_count(j), 2);
	ck_assert_int_eq(journal_load(jpath, &r, NULL, 0), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(r), 2);
	journal_close(r);
	ck_assert_int_eq(journal_sync(j), 0);
	ck_assert_int_eq(journal_unsynced(j), 0);
	ck_assert_int_eq(journal_sync(j), 0); /* nothing pending: nothing to do */
	ck_assert_int_eq(journal_append_deferred(j, rec), 0);
	ck_assert_int_eq(journal_append(j, rec), 0); /* a durable append covers the deferred */
	ck_assert_int_eq(journal_unsynced(j), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(journal_record(j, 3), "seq")), 4);
	journal_close(j);
	ck_assert_int_eq(journal_load(jpath, &r, NULL, 0), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(r), 4);
	journal_close(r);
	json_decref(rec);
}
END_TEST

/*
 * A machine crash loses what the last fsync did not cover: whole deferred
 * lines, or a line cut short.  Either is read back as the records before it
 * (a cut line is a torn tail), and the next append continues the sequence.
 */
START_TEST(deferred_tail_lost_in_a_crash)
{
	struct journal *j = NULL;
	struct stat st;
	char msg[512];
	json_t *rec = json_pack("{s:s, s:s}", "event", "done", "step", "a");

	ck_assert_int_eq(journal_open(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_int_eq(journal_append(j, rec), 0);
	ck_assert_int_eq(stat(jpath, &st), 0);
	off_t synced = st.st_size;
	ck_assert_int_eq(journal_append_deferred(j, rec), 0);
	ck_assert_int_eq(journal_append_deferred(j, rec), 0);
	journal_close(j);
	ck_assert_int_eq(stat(jpath, &st), 0);
	/* Half of the unsynced bytes survive: one whole line and a torn one. */
	ck_assert_int_eq(truncate(jpath, synced + (st.st_size - synced) * 3 / 4), 0);
	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_TORN_TAIL);
	ck_assert_uint_eq(journal_count(j), 2);
	ck_assert_int_eq(journal_append_deferred(j, rec), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(journal_record(j, 2), "seq")), 3);
	journal_close(j);
	/* All of them lost. */
	ck_assert_int_eq(truncate(jpath, synced), 0);
	ck_assert_int_eq(journal_open(jpath, &j, msg, sizeof(msg)), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 1);
	journal_close(j);
	json_decref(rec);
}
END_TEST

/* A failed write after deferred records keeps them, whole, and is sticky for sync too. */
static int deferred_sticky_child(void)
{
	struct journal *j = NULL;
	struct stat st;
	struct rlimit rl;
	json_t *rec = json_pack("{s:s, s:s}", "event", "begin", "detail", "0123456789abcdef");

	signal(SIGXFSZ, SIG_IGN);
	if (journal_open(jpath, &j, NULL, 0) != JOURNAL_OK || journal_append_deferred(j, rec) != 0)
		return 10;
	if (stat(jpath, &st) < 0)
		return 11;
	rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size + 20;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 12;
	if (journal_append_deferred(j, rec) != -1)
		return 13;
	struct stat st2;
	if (stat(jpath, &st2) < 0 || st2.st_size != st.st_size)
		return 15; /* a partial line was left behind, or the deferred one cut */
	if (journal_sync(j) != -1 || journal_error(j) == NULL)
		return 16;
	json_decref(rec);
	journal_close(j);
	return 0;
}

START_TEST(deferred_sticky_after_failed_write)
{
	struct journal *j = NULL;
	int status = 0;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(deferred_sticky_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
	ck_assert_int_eq(journal_load(jpath, &j, NULL, 0), JOURNAL_OK);
	ck_assert_uint_eq(journal_count(j), 1);
	journal_close(j);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, crc_definition);
	tcase_add_test(tc, one_line_per_record);
	tcase_add_test(tc, seq_continues_after_reopen);
	tcase_add_test(tc, modes);
	tcase_add_test(tc, empty_and_missing);
	tcase_add_test(tc, torn_tail_tolerated_then_cut);
	tcase_add_test(tc, bad_crc_middle);
	tcase_add_test(tc, bad_crc_last_complete_line_is_corrupt);
	tcase_add_test(tc, seq_gap);
	tcase_add_test(tc, duplicated_line);
	tcase_add_test(tc, reordered_lines);
	tcase_add_test(tc, truncated_middle);
	tcase_add_test(tc, binary_junk);
	tcase_add_test(tc, not_object_and_missing_seq);
	tcase_add_test(tc, line_and_file_limits);
	tcase_add_test(tc, invalid_records_are_not_sticky);
	tcase_add_test(tc, read_only_refuses_append);
	tcase_add_test(tc, pinned_digests);
	tcase_add_test(tc, sticky_error_after_failed_write);
	tcase_add_test(tc, deferred_written_then_synced);
	tcase_add_test(tc, deferred_tail_lost_in_a_crash);
	tcase_add_test(tc, deferred_sticky_after_failed_write);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(journal_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
