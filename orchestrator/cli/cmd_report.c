/*
 * cmd_report.c — `ccrup report INVENTORY [--html FILE]`: an HTML page per
 * run from the journal and the audit log (report.h, docs/report.md).
 * Reads no node and changes nothing but the report file.
 */
#include "cli.h"
#include "fsafe.h"
#include "report.h"
#include "runner.h"
#include "textsafe.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ccrup report INVENTORY [--html FILE] [--clusters PATTERN] [--state-dir DIR]\n"
    "                    [-p PLAYBOOK] [-q]\n"
    "\n"
    "Write an HTML report of each selected cluster's current run, from its journal\n"
    "and audit log: a summary (result, start, end, duration, outage, failures), a\n"
    "timeline with one lane per node and the service outage in red, the output of\n"
    "failed commands, a history of each step that failed, was retried, interrupted\n"
    "or refused, or that the operator answered, with each attempt's output, and\n"
    "every step.  The output of a step that simply ran once is not on the page:\n"
    "it is in the audit log (STATE/<cluster>/audit.jsonl).  Works for finished,\n"
    "failed and unfinished runs.  Reads no node.  The page is self-contained:\n"
    "inline CSS and SVG, no script, no external files.\n"
    "\n"
    "  --html FILE            one page for all selected clusters ('-': standard\n"
    "                         output); default: STATE/<cluster>/report.html, one\n"
    "                         page per cluster\n"
    "  --clusters PATTERN     only clusters whose name matches (shell pattern)\n"
    "  --state-dir DIR        journals and audit logs (default ./state or\n"
    "                         $CCRUP_STATE_DIR)\n"
    "  -p, --playbook FILE    lists the steps not run yet (default as for plan)\n"
    "  -q, --quiet            do not print the paths written\n"
    "\n"
    "Exit: 0 written, 2 input error, 5 journal corrupt (the page says where).\n";

enum { OPT_HTML = 1100 };

static const struct option report_long[] = {
    {"html", required_argument, NULL, OPT_HTML},
    {NULL, 0, NULL, 0},
};

static int report_opt(int c, const char *arg, void *ctx)
{
	const char **html = ctx;
	if (c != OPT_HTML)
		return EXIT_INPUT;
	if (arg[0] == '\0') {
		cli_error("report", "--html needs a file name (or '-')");
		return EXIT_INPUT;
	}
	*html = arg;
	return 0;
}

/* Render the page into memory, then replace path atomically (or print it). */
static int write_page(const char *path, struct report_cluster *const *rcs, int n, const char *title)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int rc = 0;

	if (mem == NULL || report_write_html(mem, rcs, n, now_wall_ms(), title) < 0) {
		cli_error("report", "cannot render the report: out of memory");
		if (mem)
			fclose(mem);
		free(buf);
		return EXIT_INPUT;
	}
	fclose(mem);
	if (strcmp(path, "-") == 0) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
			rc = EXIT_INPUT;
	} else if (write_file_atomic(path, buf, len, 0600) < 0) {
		cli_error("report", "cannot write %s: %s", path, strerror(errno));
		rc = EXIT_INPUT;
	}
	free(buf);
	return rc;
}

/* The default: STATE/<cluster>/report.html for each cluster. */
static int write_each(const struct cli_opts *o, struct report_cluster **rcs, int n,
		      const char *title)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char *dir = runner_cluster_dir(o->state_dir, rcs[i]->name);
		char *path = xasprintf("%s/report.html", dir);
		char err[1024];
		int r;
		/* The report lands beside the journal: the same rules as apply's. */
		if (fsafe_make_dir(o->state_dir, "state directory", err, sizeof(err)) < 0 ||
		    fsafe_make_dir(dir, "state directory", err, sizeof(err)) < 0) {
			cli_error("report", "%s", err);
			r = EXIT_INPUT;
		} else {
			r = write_page(path, &rcs[i], 1, title);
		}
		if (r == 0 && !o->quiet)
			printf("report: %s\n", path);
		rc = rc ? rc : r;
		free(dir);
		free(path);
	}
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f;
	const char *html = NULL;
	struct report_cluster **rcs = NULL;
	struct state *st = NULL;
	int rc, worst = 0;

	rc = cli_parse(argc, argv, usage, report_long, NULL, report_opt, &html, &o);
	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	if ((rc = cli_load(&o, &f)) || (rc = cli_state_open("report", &o, &f, &st)))
		goto out;
	rcs = xcalloc((size_t)f.nclusters, sizeof(*rcs));
	for (int i = 0; i < f.nclusters; i++) {
		int r = report_load_from(st, f.pb, f.inv, f.clusters[i], &rcs[i]);
		if (r) {
			char *m = text_escaped(rcs[i]->message, "\n");
			fprintf(stderr, "ccrup report: %s: %s\n", rcs[i]->name, m);
			free(m);
			worst = worst == EXIT_JOURNAL ? worst : r;
		}
	}
	if (html)
		rc = write_page(html, rcs, f.nclusters, f.inv->name);
	else
		rc = write_each(&o, rcs, f.nclusters, f.inv->name);
	if (rc == 0 && html && strcmp(html, "-") != 0 && !o.quiet)
		printf("report: %s\n", html);
	rc = worst ? worst : rc;
	for (int i = 0; i < f.nclusters; i++)
		report_cluster_free(rcs[i]);
out:
	free(rcs);
	cli_state_close(st);
	cli_files_release(&f);
	return rc;
}
