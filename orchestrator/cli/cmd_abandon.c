/*
 * cmd_abandon.c — `ccrup abandon INVENTORY --reason TEXT [--force]`: end an
 * unfinished run without finishing it.  Under the cluster's lock, the run's
 * journal gains an `abandoned` record (reason, user, host); the run is then
 * over like a finished one: resume refuses it, status and report show it
 * abandoned, and the next apply archives the journal (state_journal_archive,
 * both backends) and starts afresh.  Refused while an outage is open unless
 * --force.  Says what the journal and, where the hosts answer, the live facts
 * (plan --live's probe) say of the cluster.
 */
#include "cli.h"
#include "conns.h"
#include "journal.h"
#include "plan_live.h"
#include "replay.h"
#include "state.h"
#include "textsafe.h"
#include "util.h"
#include "xport.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: ccrup abandon INVENTORY [-p PLAYBOOK] [--clusters PATTERN] --reason TEXT\n"
    "                     [--force] [--state-dir DIR | --state URL]\n"
    "\n"
    "Give up an unfinished run (failed, refused, interrupted) without finishing it:\n"
    "the run's journal gets an `abandoned` record with the reason, your user and\n"
    "host; `resume` then refuses it, `status` and `report` show it abandoned, and\n"
    "the next `apply` archives its journal and starts a new run.  Nothing is sent\n"
    "to a node; what the journal says and what the hosts answer now (the live\n"
    "facts of `plan --live`) is printed, so you know what state the cluster is in.\n"
    "\n"
    "  --reason TEXT         why (required; kept in the journal and shown by status)\n"
    "  --force               abandon even while the run's outage is open (the\n"
    "                        service stays down until you bring it back yourself)\n"
    "  -p, --playbook FILE   playbook (default: playbooks/ccr-sp1.yml)\n"
    "  --clusters PATTERN    only clusters whose name matches (shell pattern)\n"
    "  --state-dir DIR       local state directory (default: state)\n"
    "  --state URL           shared state (etcd://HOST:PORT/PREFIX, docs/state.md)\n"
    "  --trust-new-hosts     accept and remember host keys not yet known (live check)\n"
    "  -q, --quiet           print only errors\n"
    "\n"
    "Exit: 0 abandoned, 2 bad options or nothing to abandon (no run, or the last run\n"
    "finished), 3 refused: an outage is open (use --force), 4 the cluster is locked by\n"
    "another run, 5 the journal is corrupt or cannot be written.\n";

struct abandon_args {
	const char *reason;
	int force;
	int trust;
};

enum { OPT_REASON = 1000, OPT_FORCE, OPT_TRUST };

static const struct option abandon_long[] = {
    {"reason", required_argument, NULL, OPT_REASON},
    {"force", no_argument, NULL, OPT_FORCE},
    {"trust-new-hosts", no_argument, NULL, OPT_TRUST},
    {NULL, 0, NULL, 0},
};

static int abandon_opt(int c, const char *arg, void *ctx)
{
	struct abandon_args *a = ctx;
	if (c == OPT_REASON)
		a->reason = arg;
	else if (c == OPT_FORCE)
		a->force = 1;
	else if (c == OPT_TRUST)
		a->trust = 1;
	return 0;
}

static const char *login_name(void)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *u = pw ? pw->pw_name : getenv("USER");
	return u && *u ? u : "unknown";
}

/* Where the run stands, from its journal: one line per fact worth knowing. */
static void say_journal(const struct replay *rp, const struct plan *p, int open)
{
	char t[32];
	int done = 0, left = 0, inflight = -1;

	for (int i = 0; i < p->nsteps; i++) {
		const struct replay_step *s = replay_step_at(rp, i);
		enum replay_state st = s ? s->state : RS_PENDING;
		if (st == RS_DONE || st == RS_SKIPPED)
			done++;
		else
			left++;
		if ((st == RS_BEGUN || st == RS_INTERRUPTED) && inflight < 0)
			inflight = i;
	}
	format_iso8601(rp->start_ms, t, sizeof(t));
	printf("  journal: run %s, started %s; %d of %d steps settled, %d not\n", rp->run_id, t,
	       done, p->nsteps, left);
	if (inflight >= 0)
		printf("  journal: step %s on %s was in progress: whether it ran is unknown\n",
		       p->steps[inflight].id,
		       p->steps[inflight].node ? p->steps[inflight].node : "-");
	if (rp->last_error)
		printf("  journal: last error: %s\n", rp->last_error);
	if (open)
		printf("  journal: the outage is OPEN: %s is down until it is brought back\n",
		       p->pb->service_name ? p->pb->service_name : "the service");
}

/* The hosts' answer now, as plan --live reads it (read-only probes). */
static void say_live(const struct cli_files *f, const struct cluster_def *cl,
		     const struct abandon_args *a)
{
	static volatile sig_atomic_t stop;
	struct conns_opts co = {.trust_new_hosts = a->trust};
	struct live_plan lp;
	char err[2048], t[32];

	if (xport_global_init() < 0)
		return;
	struct conns *c = conns_new(f->inv, &co);
	memset(&lp, 0, sizeof(lp));
	if (plan_live_eval(f->pb, f->inv, cl, c, &stop, &lp, err, sizeof(err)) != 0) {
		printf("  live: unknown (%s)\n", err);
	} else if (lp.nothing_to_do) {
		printf("  live: nothing left to do: the cluster is where the playbook leads\n");
	} else {
		int n = 0;
		for (int i = 0; i < lp.plan->nsteps; i++)
			n += strcmp(lp.v[i].status, "would-run") == 0;
		format_duration(lp.remaining_ms, t, sizeof(t));
		printf("  live: %d step%s would still run (about %s): `ccrup plan --live` shows "
		       "which\n",
		       n, n == 1 ? "" : "s", t);
	}
	plan_live_release(&lp);
	conns_free(c);
	xport_global_cleanup();
}

/* Did the run write its marker on the cluster and not release it? */
static int marker_left(const struct journal *j, long from)
{
	int left = 0;
	for (size_t i = (size_t)from; i < journal_count(j); i++) {
		const char *ev = json_string_value(json_object_get(journal_record(j, i), "event"));
		if (ev && strcmp(ev, "marker-taken") == 0)
			left = 1;
		else if (ev && strcmp(ev, "marker-released") == 0)
			left = 0;
	}
	return left;
}

static int append_abandoned(struct journal *j, const struct replay *rp, const char *reason,
			    int forced, char *err, size_t errlen)
{
	char host[256] = "";
	json_t *rec = json_object();
	(void)gethostname(host, sizeof(host) - 1);
	json_object_set_new(rec, "run_id", json_string(rp->run_id));
	json_object_set_new(rec, "event", json_string(jev_name(JEV_ABANDONED)));
	json_object_set_new(rec, "reason", json_string(reason));
	json_object_set_new(rec, "user", json_string(login_name()));
	json_object_set_new(rec, "host", json_string(host));
	if (forced)
		json_object_set_new(rec, "forced", json_true());
	int rc = journal_append(j, rec);
	json_decref(rec);
	if (rc < 0)
		snprintf(err, errlen, "%s", journal_error(j));
	return rc;
}

/* Replay the journal and its plan: 0, or an exit code after printing why. */
static int read_run(const struct cli_files *f, const struct cluster_def *cl, struct journal *j,
		    struct replay **rpp, struct plan **pp)
{
	char err[1024];
	*rpp = replay_load(j, cl->name, err, sizeof(err));
	if (*rpp == NULL) {
		fprintf(stderr, "ccrup abandon: %s\n", err);
		return EXIT_JOURNAL;
	}
	if ((*rpp)->nruns == 0)
		return 0;
	*pp = replay_compile_plan(*rpp, f->pb, f->inv, cl, err, sizeof(err));
	if (*pp == NULL) {
		fprintf(stderr, "ccrup abandon: %s\n", err);
		return EXIT_INPUT;
	}
	if (replay_plan(*rpp, *pp, replay_pinned(*rpp, f->pb), err, sizeof(err)) < 0) {
		fprintf(stderr, "ccrup abandon: %s\n", err);
		return EXIT_JOURNAL;
	}
	return 0;
}

/* The more serious of two exit codes, in docs/exit-codes.md's order. */
static int worse(int a, int b)
{
	static const int order[] = {130, 6, 5, 4, 1, 3, 2, 0};
	for (size_t i = 0; i < CCR_ARRAY_LEN(order); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a ? a : b;
}

static int abandon_cluster(struct state *st, const struct cli_files *f,
			   const struct cluster_def *cl, const struct abandon_args *a, int quiet)
{
	char err[1024];
	int other = 0, rc = 0;
	struct journal *j = NULL;
	struct replay *rp = NULL;
	struct plan *p = NULL;
	struct state_lock *l =
	    state_lock_acquire(st, cl->name, "ccrup abandon", 0, NULL, err, sizeof(err), &other);

	if (l == NULL) {
		fprintf(stderr, "ccrup abandon: %s\n", err);
		return other ? EXIT_LOCKED : EXIT_INPUT;
	}
	enum journal_status js = state_journal_open(l, &j, err, sizeof(err));
	if (js != JOURNAL_OK && js != JOURNAL_TORN_TAIL) {
		fprintf(stderr, "ccrup abandon: %s\n", err);
		rc = js == JOURNAL_CORRUPT ? EXIT_JOURNAL : EXIT_INPUT;
		goto out;
	}
	if ((rc = read_run(f, cl, j, &rp, &p)) != 0)
		goto out;
	int over = rp->nruns > 0 && rp->result != NULL &&
		   (strcmp(rp->result, "done") == 0 || strcmp(rp->result, "abandoned") == 0);
	if (rp->nruns == 0 || over) {
		fprintf(stderr, "ccrup abandon: nothing to abandon for cluster %s: %s\n", cl->name,
			rp->nruns == 0			       ? "no run has started"
			: strcmp(rp->result, "abandoned") == 0 ? "the last run is already abandoned"
							       : "the last run finished");
		rc = EXIT_INPUT;
		goto out;
	}
	int open = replay_open_outage(rp) != NULL;
	if (!quiet) {
		printf("Cluster %s: unfinished run %s\n", cl->name, rp->run_id);
		say_journal(rp, p, open);
		say_live(f, cl, a);
	}
	if (open && !a->force) {
		fprintf(stderr,
			"ccrup abandon: cluster %s: refused: the run's outage is open (%s is "
			"down); `ccrup resume` finishes it, or abandon with --force and bring "
			"the service back yourself\n",
			cl->name, f->pb->service_name ? f->pb->service_name : "the service");
		rc = EXIT_REFUSED;
		goto out;
	}
	if (append_abandoned(j, rp, a->reason, open, err, sizeof(err)) < 0) {
		fprintf(stderr, "ccrup abandon: cluster %s: %s\n", cl->name, err);
		char why[256];
		rc = state_lock_ok(l, why, sizeof(why)) ? EXIT_JOURNAL : EXIT_LOCK_LOST;
		goto out;
	}
	if (!quiet) {
		printf("Cluster %s: run %s abandoned (%s); the next `ccrup apply` archives its "
		       "journal and starts a new run\n",
		       cl->name, rp->run_id, a->reason);
		if (f->pb->marker && marker_left(j, rp->start_line > 0 ? rp->start_line - 1 : 0))
			printf(
			    "  the run's marker (playbook `marker:`) stays on the cluster's hosts "
			    "(abandon sends nothing to a node): the next `ccrup apply` from this "
			    "state replaces it; another state's run still sees it\n");
		if (open)
			printf("  the outage is still open: bring %s back yourself\n",
			       f->pb->service_name ? f->pb->service_name : "the service");
	}
out:
	if (rp)
		replay_free(rp);
	plan_free(p);
	journal_close(j);
	state_lock_release(l);
	return rc;
}

int cmd_abandon(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f = {0};
	struct abandon_args a = {0};
	struct state *st = NULL;
	int rc = cli_parse(argc, argv, usage, abandon_long, "", abandon_opt, &a, &o);

	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	if (a.reason == NULL || a.reason[0] == '\0') {
		cli_error("abandon", "--reason TEXT is required: say why the run is given up");
		return EXIT_INPUT;
	}
	if ((rc = cli_load(&o, &f)) || (rc = cli_state_open("abandon", &o, &f, &st)))
		goto out;
	for (int i = 0; i < f.nclusters; i++) {
		int r = abandon_cluster(st, &f, f.clusters[i], &a, o.quiet);
		rc = worse(rc, r);
	}
out:
	cli_state_close(st);
	cli_files_release(&f);
	return rc;
}
