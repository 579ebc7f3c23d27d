/*
 * fuzz_journal.c — libFuzzer target for journal replay (journal.h).
 *
 * The input is the content of a journal.jsonl.  journal_load() replays it
 * read-only; the contract checked is docs/journal.md §1.6: the result is
 * OK, TORN_TAIL or CORRUPT; a corrupt journal's message is "PATH:LINE:
 * reason" with a line number within the file; a good one holds one record
 * per complete line, each with seq equal to its position.
 *
 * A journal that replays is then opened for writing (journal_open() on a
 * copy), one record is appended, and the copy must replay cleanly with one
 * more record: the torn tail, if any, was cut away and the new line carries
 * the next seq and a correct CRC.
 *
 * Random bytes almost never carry a correct CRC-32, which would leave the
 * checks behind it (JSON shape, seq order) unexplored; so every input is
 * also tried a second time with the CRC of each line that has the
 * `,"crc":"xxxxxxxx"}` suffix recomputed.
 */
#include <stdint.h>

#include <zlib.h>

#include "fuzz_common.h"
#include "journal.h"

#define CRC_SUFFIX_LEN 18 /* ,"crc":"xxxxxxxx"} */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

static void check_corrupt_msg(const char *path, const char *msg, size_t lines)
{
	size_t plen = strlen(path);
	int64_t line;
	char num[32];

	FUZZ_ASSERT(strncmp(msg, path, plen) == 0);
	if (strstr(msg + plen, "MiB limit") != NULL)
		return;
	FUZZ_ASSERT(msg[plen] == ':');
	size_t k = strspn(msg + plen + 1, "0123456789");
	FUZZ_ASSERT(k > 0 && k < sizeof(num) && msg[plen + 1 + k] == ':');
	memcpy(num, msg + plen + 1, k);
	num[k] = '\0';
	FUZZ_ASSERT(parse_int64(num, 1, (int64_t)lines + 1, &line) == 0);
}

static void check_records(const struct journal *j, size_t want)
{
	FUZZ_ASSERT(journal_count(j) == want);
	for (size_t i = 0; i < want; i++) {
		json_t *seq = json_object_get(journal_record(j, i), "seq");
		FUZZ_ASSERT(json_integer_value(seq) == (json_int_t)(i + 1));
	}
}

/* Open a copy for writing, append, and replay it again. */
static void check_append(const uint8_t *data, size_t size, size_t nrec)
{
	char path[sizeof(fuzz_path) + 8], msg[512];
	struct journal *j = NULL;

	snprintf(path, sizeof(path), "%s.w", fuzz_path);
	FILE *fp = fopen(path, "wb");
	FUZZ_ASSERT(fp != NULL);
	FUZZ_ASSERT(size == 0 || fwrite(data, 1, size, fp) == size);
	FUZZ_ASSERT(fclose(fp) == 0);
	enum journal_status st = journal_open(path, &j, msg, sizeof(msg));
	FUZZ_ASSERT(st == JOURNAL_OK || st == JOURNAL_TORN_TAIL);
	journal_set_run_id(j, "fuzz-run");
	json_t *rec = json_pack("{s:s, s:s, s:i}", "event", "done", "step", "x.y", "exit", 0);
	FUZZ_ASSERT(journal_append(j, rec) == 0);
	json_decref(rec);
	journal_close(j);
	st = journal_load(path, &j, msg, sizeof(msg));
	if (st != JOURNAL_OK)
		fprintf(stderr, "after append: %s\n", msg);
	FUZZ_ASSERT(st == JOURNAL_OK);
	check_records(j, nrec + 1);
	journal_close(j);
	unlink(path);
}

/* Give every line that ends in a crc member the right CRC (docs/journal.md 1.3). */
static void repair_crcs(uint8_t *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		if (buf[i] != '\n')
			continue;
		size_t len = i - start;
		uint8_t *line = buf + start;
		start = i + 1;
		if (len <= CRC_SUFFIX_LEN ||
		    memcmp(line + len - CRC_SUFFIX_LEN, ",\"crc\":\"", 8) != 0)
			continue;
		uLong crc = crc32(0L, line, (uInt)(len - CRC_SUFFIX_LEN));
		crc = crc32(crc, (const Bytef *)"}", 1);
		for (int k = 0; k < 8; k++)
			line[len - 3 - k] = (uint8_t)hex[(crc >> (4 * k)) & 0xf];
	}
}

static void check_input(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file(data, size, ".jsonl");
	struct journal *j = NULL;
	char msg[512] = "";
	const char *pb = NULL, *inv = NULL;
	size_t lines = count_lines(data, size);

	enum journal_status st = journal_load(path, &j, msg, sizeof(msg));
	FUZZ_ASSERT(st == JOURNAL_OK || st == JOURNAL_TORN_TAIL || st == JOURNAL_CORRUPT);
	if (st == JOURNAL_CORRUPT) {
		FUZZ_ASSERT(j == NULL);
		check_corrupt_msg(path, msg, lines);
		return;
	}
	FUZZ_ASSERT(j != NULL);
	FUZZ_ASSERT((st == JOURNAL_TORN_TAIL) == (size > 0 && data[size - 1] != '\n'));
	check_records(j, lines);
	if (journal_pinned_digests(j, &pb, &inv) == 0)
		FUZZ_ASSERT(pb != NULL && inv != NULL);
	journal_close(j);
	check_append(data, size, lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed = malloc(size ? size : 1);

	FUZZ_ASSERT(fixed != NULL);
	check_input(data, size);
	if (size)
		memcpy(fixed, data, size);
	repair_crcs(fixed, size);
	if (size && memcmp(fixed, data, size) != 0)
		check_input(fixed, size);
	free(fixed);
	return 0;
}
