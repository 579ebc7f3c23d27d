/*
 * cmd_state.c — `ccrup state export|import`: copy every journal of the
 * selected clusters between the configured state (etcd, docs/state.md) and
 * a local state directory, byte for byte.  Each copy is made under the
 * destination cluster's lock, and never over an existing journal.
 */
#include "cli.h"
#include "state.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ccrup state export INVENTORY --to DIR [--state URL] [--clusters PATTERN]\n"
    "       ccrup state import INVENTORY --from DIR [--state URL] [--clusters PATTERN]\n"
    "\n"
    "export copies each cluster's journals (the current one and the archives of\n"
    "earlier runs) from the state ccrup is configured with (--state, $CCRUP_STATE or\n"
    "the inventory's state: block) into the local state directory DIR, as\n"
    "DIR/<cluster>/journal.jsonl and journal-<run id>.jsonl; import copies them from\n"
    "DIR into that state.  The bytes are kept exactly (same records, same CRCs).\n"
    "A cluster that already has a journal at the destination is refused; a cluster\n"
    "with no journal at the source is skipped.  Each copy holds the destination\n"
    "cluster's lock.\n"
    "\n"
    "Exit: 0 copied, 2 input error or refused, 4 a destination lock is held,\n"
    "5 a source journal is damaged.\n";

struct state_args {
	const char *dir;
	int export;
};

enum { OPT_TO = 1000, OPT_FROM };

static const struct option state_long[] = {
    {"to", required_argument, NULL, OPT_TO},
    {"from", required_argument, NULL, OPT_FROM},
    {NULL, 0, NULL, 0},
};

static int state_opt(int c, const char *arg, void *ctx)
{
	struct state_args *a = ctx;

	if ((c == OPT_TO && !a->export) || (c == OPT_FROM && a->export)) {
		cli_error("state", "%s takes %s DIR", a->export ? "export" : "import",
			  a->export ? "--to" : "--from");
		return EXIT_INPUT;
	}
	a->dir = arg;
	return 0;
}

/* Copy one cluster.  0 copied or nothing to copy, else an exit code. */
static int copy_cluster(struct state *src, struct state *dst, const char *cluster, int quiet)
{
	struct state_file *files = NULL;
	struct state_lock *l = NULL;
	char err[1024];
	int n = 0, other = 0, rc = 0;

	if (state_journal_files(src, cluster, &files, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "ccrup state: %s: %s\n", cluster, err);
		return EXIT_INPUT;
	}
	if (n == 0) {
		if (!quiet)
			printf("%s: no journal in %s; skipped\n", cluster, state_name(src));
		goto out;
	}
	for (int i = 0; i < n; i++) { /* check before copying: a damaged journal stays put */
		struct journal *j = NULL;
		enum journal_status js = journal_open_store(
		    files[i].name, files[i].data, files[i].len, NULL, NULL, &j, err, sizeof(err));
		journal_close(j);
		if (js < 0) {
			fprintf(stderr, "ccrup state: %s: %s\n", cluster, err);
			rc = EXIT_JOURNAL;
			goto out;
		}
	}
	l = state_lock_acquire(dst, cluster, "ccrup state", 0, NULL, err, sizeof(err), &other);
	if (l == NULL) {
		fprintf(stderr, "ccrup state: %s\n", err);
		rc = other ? EXIT_LOCKED : EXIT_INPUT;
		goto out;
	}
	if (state_journal_put_files(l, files, n, err, sizeof(err)) < 0) {
		fprintf(stderr, "ccrup state: %s: %s\n", cluster, err);
		rc = EXIT_INPUT;
		goto out;
	}
	if (!quiet)
		printf("%s: %d journal%s copied to %s\n", cluster, n, n == 1 ? "" : "s",
		       state_name(dst));
out:
	state_lock_release(l);
	state_files_free(files, n);
	return rc;
}

int cmd_state(int argc, char **argv)
{
	struct state_args a = {NULL, 0};
	struct cli_opts o;
	struct cli_files f;
	struct state *shared = NULL, *local = NULL;
	struct cli_opts lo;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "import") != 0)) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			fputs(usage, stdout);
			return EXIT_DONE;
		}
		fputs(usage, stderr);
		return EXIT_INPUT;
	}
	a.export = strcmp(argv[1], "export") == 0;
	rc = cli_parse(argc - 1, argv + 1, usage, state_long, NULL, state_opt, &a, &o);
	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	memset(&f, 0, sizeof(f));
	if (a.dir == NULL) {
		cli_error("state", "%s needs %s DIR", argv[1], a.export ? "--to" : "--from");
		return EXIT_INPUT;
	}
	if ((rc = cli_load(&o, &f)) || (rc = cli_state_open("state", &o, &f, &shared)))
		goto out;
	lo = o;
	lo.state_dir = a.dir;
	lo.state_url = NULL;
	struct cli_files nof = {0};
	if ((rc = cli_state_open("state", &lo, &nof, &local)))
		goto out;
	for (int i = 0; i < f.nclusters; i++) {
		int r = a.export ? copy_cluster(shared, local, f.clusters[i]->name, o.quiet)
				 : copy_cluster(local, shared, f.clusters[i]->name, o.quiet);
		rc = rc ? rc : r;
	}
out:
	cli_state_close(local);
	cli_state_close(shared);
	cli_files_release(&f);
	return rc;
}
