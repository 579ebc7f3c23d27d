/*
 * fuzz_replay.c — libFuzzer target for every reader of the journal, end to
 * end: the replay (replay.h) that resume uses, `ccrup status` (text and
 * JSON) and the report (report_load + the HTML page).
 *
 * The input is the content of state/CLUS1/journal.jsonl for the shipped
 * playbook and example inventory.  Random bytes almost never carry a
 * correct CRC, so every line ending in a crc member gets the right one
 * (docs/journal.md §1.3) and its seq is renumbered: what is explored is the
 * meaning of CRC-valid journals, which is where the readers differ from the
 * journal layer.
 *
 * Contracts checked: no crash, leak or undefined behaviour; the replay
 * either succeeds or fails with "PATH:LINE: reason" for a line of the file;
 * its result is self-consistent (states in range, plan indexes unique, outage
 * total not negative, replay_step_at() agrees with the steps); and the three
 * readers agree: when the replay (strict for the pinned playbook) refuses
 * the journal, status and report exit 5; when it accepts it, status exits 0
 * in both formats and the report loads and renders.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include <zlib.h>

#include "cli.h"
#include "diag.h"
#include "fuzz_common.h"
#include "journal.h"
#include "model.h"
#include "replay.h"
#include "report.h"

#define CRC_SUFFIX_LEN 18 /* ,"crc":"xxxxxxxx"} */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct playbook *pb;
static struct inventory *inv;
static char state[4096], jpath[4200], pbpath[4096], invpath[4096];
static int devnull = -1;

static void rmstate(void)
{
	unlink(jpath);
	snprintf(jpath, sizeof(jpath), "%s/CLUS1", state);
	rmdir(jpath);
	rmdir(state);
}

static void init(void)
{
	struct diag d;
	char dir[4096];

	snprintf(pbpath, sizeof(pbpath), "%s/playbooks/ccr-sp1.yml", FUZZ_SRCDIR);
	snprintf(invpath, sizeof(invpath), "%s/playbooks/inventory.example.yml", FUZZ_SRCDIR);
	diag_init(&d);
	pb = playbook_load(pbpath, &d);
	inv = inventory_load(invpath, &d);
	diag_release(&d);
	FUZZ_ASSERT(pb && inv && inv->nclusters > 0);
	snprintf(state, sizeof(state), "%s/ccrup-fuzz-replay-XXXXXX", fuzz_tmpdir());
	FUZZ_ASSERT(mkdtemp(state) != NULL);
	snprintf(dir, sizeof(dir), "%s/CLUS1", state);
	FUZZ_ASSERT(mkdir(dir, 0700) == 0);
	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", dir);
	atexit(rmstate);
	/* status prints to stdout: keep libFuzzer's output readable. */
	devnull = open("/dev/null", O_WRONLY);
	FUZZ_ASSERT(devnull >= 0 && dup2(devnull, 1) == 1);
}

/* One complete line: renumber a leading {"seq":N, and fix a trailing crc. */
static void repair_line(struct sbuf *sb, const uint8_t *line, size_t len, long seq)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = sb->len, k = 7;

	if (len > 8 && memcmp(line, "{\"seq\":", 7) == 0) {
		while (k < len && line[k] >= '0' && line[k] <= '9')
			k++;
		if (k < len && line[k] == ',') {
			sbuf_addf(sb, "{\"seq\":%ld,", seq);
			line += k + 1;
			len -= k + 1;
		}
	}
	sbuf_add(sb, line, len);
	char *l = sb->buf + from;
	size_t n = sb->len - from;
	if (n > CRC_SUFFIX_LEN && memcmp(l + n - CRC_SUFFIX_LEN, ",\"crc\":\"", 8) == 0) {
		uLong crc = crc32(0L, (const Bytef *)l, (uInt)(n - CRC_SUFFIX_LEN));
		crc = crc32(crc, (const Bytef *)"}", 1);
		for (int d = 0; d < 8; d++)
			l[n - 3 - d] = hex[(crc >> (4 * d)) & 0xf];
	}
	sbuf_addc(sb, '\n');
}

static void repair(const uint8_t *in, size_t size, struct sbuf *sb)
{
	size_t start = 0;
	long seq = 0;

	for (size_t i = 0; i < size; i++)
		if (in[i] == '\n') {
			repair_line(sb, in + start, i - start, ++seq);
			start = i + 1;
		}
	sbuf_add(sb, in + start, size - start); /* a torn tail stays as it is */
}

static int run_cmd(int (*cmd)(int, char **), const char *name, const char *extra1,
		   const char *extra2)
{
	char *argv[] = {(char *)name, invpath,	      "-p",	      pbpath, "--state-dir",
			state,	      (char *)extra1, (char *)extra2, NULL};
	int argc = extra1 ? (extra2 ? 8 : 7) : 6;
	/* Its messages go to stderr; libFuzzer's (and the sanitizers') must stay. */
	int saved = dup(2);
	FUZZ_ASSERT(saved >= 0 && dup2(devnull, 2) == 2);
	optind = 0;
	int rc = cmd(argc, argv);
	fflush(stderr);
	FUZZ_ASSERT(dup2(saved, 2) == 2);
	close(saved);
	return rc;
}

/* The replay's own contracts; returns 0 if accepted, 5 if refused. */
static int check_replay(void)
{
	struct journal *j = NULL;
	char msg[1024] = "", err[1024] = "";
	enum journal_status st = journal_load(jpath, &j, msg, sizeof(msg));
	const struct cluster_def *cl = &inv->clusters[0];
	int verdict = 0;

	if (st == JOURNAL_CORRUPT)
		return 5;
	FUZZ_ASSERT(st == JOURNAL_OK || st == JOURNAL_TORN_TAIL);
	struct replay *rp = replay_load(j, cl->name, err, sizeof(err));
	if (rp == NULL) {
		FUZZ_ASSERT(strncmp(err, jpath, strlen(jpath)) == 0 && err[strlen(jpath)] == ':');
		journal_close(j);
		return 5;
	}
	FUZZ_ASSERT(rp->outage_total_ms >= 0 && rp->nsteps >= 0);
	struct plan *p = rp->nruns ? replay_compile_plan(rp, pb, inv, cl, err, sizeof(err)) : NULL;
	if (p) {
		int strict = strcmp(rp->playbook_sha256, pb->sha256) == 0;
		FUZZ_ASSERT(replay_plan(rp, p, 0, err, sizeof(err)) == 0);
		if (strict && replay_plan(rp, p, 1, err, sizeof(err)) < 0) {
			FUZZ_ASSERT(strncmp(err, jpath, strlen(jpath)) == 0);
			verdict = 5;
		}
		for (int i = 0; i < p->nsteps; i++) {
			const struct replay_step *s = replay_step_at(rp, i);
			FUZZ_ASSERT(s == NULL ||
				    (s->plan_index == i && s->state <= RS_INTERRUPTED));
		}
		for (int i = 1; i < rp->nsteps; i++)
			FUZZ_ASSERT(rp->steps[i].plan_index < 0 ||
				    rp->steps[i].plan_index > rp->steps[i - 1].plan_index);
		for (int i = 0; i < rp->noutages; i++)
			FUZZ_ASSERT(rp->outages[i].end_ms == 0 ||
				    rp->outages[i].end_ms >= rp->outages[i].start_ms);
	}
	plan_free(p);
	replay_free(rp);
	journal_close(j);
	return verdict;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf sb;

	if (pb == NULL)
		init();
	sbuf_init(&sb);
	repair(data, size, &sb);
	FILE *fp = fopen(jpath, "wb");
	FUZZ_ASSERT(fp && (sb.len == 0 || fwrite(sb.buf, 1, sb.len, fp) == sb.len) &&
		    fclose(fp) == 0);
	sbuf_release(&sb);

	int verdict = check_replay();
	int text = run_cmd(cmd_status, "status", NULL, NULL);
	int json = run_cmd(cmd_status, "status", "-o", "json");
	FUZZ_ASSERT(text == verdict && json == verdict);

	struct report_cluster *rc = NULL;
	int r = report_load(state, pb, inv, &inv->clusters[0], &rc);
	FUZZ_ASSERT(r == verdict && rc != NULL);
	FILE *out = fopen("/dev/null", "w");
	FUZZ_ASSERT(out && report_write_html(out, &rc, 1, now_wall_ms(), "fuzz") == 0);
	fclose(out);
	report_cluster_free(rc);
	return 0;
}
