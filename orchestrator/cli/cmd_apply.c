/*
 * cmd_apply.c — `ccrup apply` and `ccrup resume`: run the upgrade, guided
 * on a terminal or unattended with --yes, on one cluster or a fleet with a
 * bounded pool of workers (--parallel N, --max-failed M).
 */
#include "audit.h"
#include "cli.h"
#include "evjson.h"
#include "http.h"
#include "notify.h"
#include "runner.h"
#include "state.h"
#include "ui.h"
#include "xknown.h"
#include "xport.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char apply_usage[] =
    "usage: ccrup apply INVENTORY [-p PLAYBOOK] [--yes] [--plan PLAN] [--parallel N]\n"
    "                   [--max-failed M|P%] [--batches LIST] [--clusters PATTERN]\n"
    "                   [--trust-new-hosts]\n"
    "                   [--max-timeout DURATION] [--state-dir DIR] [-v|-q]\n"
    "\n"
    "Run the upgrade.  On a terminal every step is shown (node, command, why, what\n"
    "the live check found) and confirmed: [y]es [s]kip [d]etails [r]etry\n"
    "[m]ark-done [q]uit.  --yes runs unattended (needed without a terminal and for\n"
    "several clusters).  Every action is journaled in STATE/<cluster>/journal.jsonl\n"
    "before it happens; after a failure or crash, `ccrup resume` continues.\n"
    "\n"
    "  -y, --yes              unattended: no questions; gates pass (journaled)\n"
    "  --plan PLAN            refuse to start if the live facts differ from a plan\n"
    "                         saved with `plan --live --save PLAN`\n"
    "  --parallel N           clusters upgraded at once (default 1); `all`: every\n"
    "                         selected cluster; `auto`: as many as the open-file\n"
    "                         limit allows, at most 256\n"
    "  --max-connecting N     SSH connections being established (connect, key\n"
    "                         exchange, host key, login) at once across the fleet;\n"
    "                         the others wait their turn, their connect timeout\n"
    "                         not yet running (default 8 per CPU, at least 16)\n"
    "  --max-failed M|P%      stop starting clusters after M failed (default 1), or\n"
    "                         after P% of the selected clusters (at least 1); one\n"
    "                         budget across all batches\n"
    "  --batches LIST         staged rollout: batch sizes, each a count or a\n"
    "                         percentage of the selected clusters, e.g. 1,10%,100%\n"
    "                         (a canary, then a tenth, then the rest; the last size\n"
    "                         repeats); a batch starts only when the previous one\n"
    "                         finished within the failure budget.  Without --yes\n"
    "                         (on a terminal) the steps run unattended and each\n"
    "                         batch is confirmed after the previous batch's result\n"
    "                         and outage figures\n"
    "  --clusters PATTERN     only clusters whose name matches (shell pattern)\n"
    "  --window-end TIME      end of the maintenance window (HH:MM, YYYY-MM-DDTHH:MM or\n"
    "                         +DURATION): a phase that would not finish in time is not\n"
    "                         begun (exit 3, resumable); warnings as the end nears\n"
    "  --trust-new-hosts      accept and record unknown host keys (changed keys are\n"
    "                         always refused)\n"
    "  --max-timeout DURATION cap every step's time budget (command timeouts, the\n"
    "                         reboot command, reboot down/up budgets, waits, HTTP\n"
    "                         checks) at DURATION, e.g. 30s, for rehearsals in a lab\n"
    "                         or simulator: a hung command fails fast instead of\n"
    "                         after the playbook's production timeout\n"
    "  --break-marker         replace another run's marker on the cluster (the\n"
    "                         playbook's `marker:`); only when that run is dead:\n"
    "                         its process gone and its operator agreeing\n"
    "  --state-dir DIR        journals and locks (default ./state or $CCRUP_STATE_DIR);\n"
    "                         audit logs always\n"
    "  --state URL            journals and locks in etcd, shared by orchestrator hosts:\n"
    "                         etcd://HOST:PORT[,HOST:PORT...]/PREFIX (or $CCRUP_STATE,\n"
    "                         or the inventory's state: block; docs/state.md).  With\n"
    "                         several clusters, clusters another host holds or already\n"
    "                         upgraded are left to it\n"
    "  -o json                write the run as a stream of JSON lines on stdout, one\n"
    "                         per event (docs/events-json.md); people's output goes\n"
    "                         to stderr\n"
    "  -v, --verbose          show commands (-vv: and their output)\n"
    "  -q, --quiet            only failures, warnings and the summary\n"
    "\n"
    "Exit: 0 done, 1 step failed (resumable), 2 input error, 3 precondition refused,\n"
    "4 lock held (or another run's marker on the cluster), 5 journal corrupt or changed\n"
    "playbook, 6 lost the (etcd) lock mid-run (stopped before the next remote action;\n"
    "resumable), 130 interrupted (resumable).\n";

static const char resume_usage[] =
    "usage: ccrup resume INVENTORY [-p PLAYBOOK] [--yes] [--accept-changed-playbook]\n"
    "                    [--mark-done STEP] [--retry STEP] [--rebind]\n"
    "                    [--clusters PATTERN] [--trust-new-hosts] [--max-timeout DURATION]\n"
    "                    [--state-dir DIR] [--state URL] [--wait]\n"
    "\n"
    "Continue the unfinished run of each cluster from its journal: finished steps\n"
    "never repeat; a step that was in progress is re-probed (its check, or the boot\n"
    "id for a reboot); roles come back as they were bound.  A step that was in\n"
    "progress, is not idempotent and whose check cannot tell is never run again by\n"
    "itself: say what happened with --mark-done or --retry.  The playbook and\n"
    "inventory must be unchanged unless --accept-changed-playbook.\n"
    "\n"
    "  -y, --yes                    unattended\n"
    "  --rebind                     the live roles no longer match the run's (an\n"
    "                               unplanned failover): bind them afresh from live\n"
    "                               facts, show each change (guided: ask), journal it\n"
    "                               and plan the rest of the run from the new roles;\n"
    "                               what a node already did counts where its new role\n"
    "                               has the same step, nothing done runs again.  No\n"
    "                               host can be bound, or no step still to do is\n"
    "                               refused by the roles: nothing changes, exit 3\n"
    "  --mark-done STEP             STEP (PHASE.STEP or PHASE.STEP@NODE) was done by\n"
    "                               hand or did run: record it done once its verify\n"
    "                               holds live (refused, exit 3, while it does not)\n"
    "  --retry STEP                 STEP was interrupted and did not take effect: run\n"
    "                               it again\n"
    "  --accept-changed-playbook    resume although the files changed\n"
    "  --parallel N, --max-failed M as for apply\n"
    "  --max-connecting N           as for apply\n"
    "  --trust-new-hosts, --max-timeout DURATION, --break-marker  as for apply\n"
    "  --state URL                  as for apply: resume another host's run from etcd\n"
    "  --wait                       when another process holds a cluster's lock, wait\n"
    "                               for it to free (its holder finished, or died and its\n"
    "                               lease expired) instead of exiting 4\n"
    "  -o json                      the JSON event stream, as for apply\n"
    "                               (docs/events-json.md)\n"
    "\n"
    "Exit codes as for apply.\n";

struct apply_args {
	int64_t window_end_ms;
	int64_t max_timeout_ms;
	int yes;
	int trust;
	int accept_changed;
	int break_marker;
	const char *plan;
	const char *ssh_config;
	int parallel; /* clusters at once, or PARALLEL_ALL / PARALLEL_AUTO */
	int max_failed;
	int max_connecting;	/* --max-connecting: SSH establishments at once, 0 = default */
	const char **mark_done; /* resume --mark-done, owned array of borrowed strings */
	int nmark_done;
	const char **retry; /* resume --retry */
	int nretry;
	int max_failed_pct;  /* --max-failed P%: a percentage of the selected clusters, 0 = none */
	const char *batches; /* --batches LIST, or NULL */
	int wait;
	int rebind; /* resume --rebind */
};

#define BATCHES_MAX 64

/* --parallel all / auto, resolved against the fleet by fleet_parallel(). */
#define PARALLEL_ALL  (-1)
#define PARALLEL_AUTO (-2)

enum {
	OPT_TRUST = 1000,
	OPT_PLAN,
	OPT_PARALLEL,
	OPT_MAXFAIL,
	OPT_BATCHES,
	OPT_ACCEPT,
	OPT_SSHCONF,
	OPT_WINDOW,
	OPT_MAXTIMEOUT,
	OPT_WAIT,
	OPT_BREAKMARKER,
	OPT_MARKDONE,
	OPT_RETRY,
	OPT_REBIND,
	OPT_MAXCONN
};

static const struct option apply_long[] = {
    {"yes", no_argument, NULL, 'y'},
    {"trust-new-hosts", no_argument, NULL, OPT_TRUST},
    {"plan", required_argument, NULL, OPT_PLAN},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"max-failed", required_argument, NULL, OPT_MAXFAIL},
    {"max-connecting", required_argument, NULL, OPT_MAXCONN},
    {"batches", required_argument, NULL, OPT_BATCHES},
    {"accept-changed-playbook", no_argument, NULL, OPT_ACCEPT},
    {"ssh-config", required_argument, NULL, OPT_SSHCONF},
    {"window-end", required_argument, NULL, OPT_WINDOW},
    {"max-timeout", required_argument, NULL, OPT_MAXTIMEOUT},
    {"break-marker", no_argument, NULL, OPT_BREAKMARKER},
    {"wait", no_argument, NULL, OPT_WAIT},
    {NULL, 0, NULL, 0},
};

static const struct option resume_long[] = {
    {"yes", no_argument, NULL, 'y'},
    {"trust-new-hosts", no_argument, NULL, OPT_TRUST},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"max-failed", required_argument, NULL, OPT_MAXFAIL},
    {"max-connecting", required_argument, NULL, OPT_MAXCONN},
    {"accept-changed-playbook", no_argument, NULL, OPT_ACCEPT},
    {"ssh-config", required_argument, NULL, OPT_SSHCONF},
    {"window-end", required_argument, NULL, OPT_WINDOW},
    {"max-timeout", required_argument, NULL, OPT_MAXTIMEOUT},
    {"plan", required_argument, NULL, OPT_PLAN}, /* accepted, as before; unused by resume */
    {"wait", no_argument, NULL, OPT_WAIT},
    {"mark-done", required_argument, NULL, OPT_MARKDONE},
    {"retry", required_argument, NULL, OPT_RETRY},
    {"rebind", no_argument, NULL, OPT_REBIND},
    {NULL, 0, NULL, 0},
};

/* PHASE.STEP or PHASE.STEP@NODE: a step id has a dot and no blank. */
static int step_arg_ok(const char *arg)
{
	const char *dot = strchr(arg, '.');
	return dot && dot != arg && dot[1] && dot[1] != '@' && strpbrk(arg, " \t\n") == NULL &&
	       (strchr(arg, '@') == NULL || strchr(arg, '@')[1]);
}

static void add_step_arg(const char ***list, int *n, const char *arg)
{
	*list = xreallocarray(*list, (size_t)*n + 1, sizeof(**list));
	(*list)[(*n)++] = arg;
}

/*
 * End of the maintenance window: "HH:MM" (the next such local time),
 * "YYYY-MM-DDTHH:MM" (local), or "+DURATION" from now ("+3h").  Wall ms, or -1.
 */
static int64_t parse_window_end(const char *arg)
{
	struct tm tm;
	time_t now = time(NULL);
	int64_t ms;
	const char *end;

	if (arg[0] == '+') {
		int64_t now_ms = now_wall_ms();
		if (parse_duration_ms(arg + 1, &ms) < 0 || ms > INT64_MAX - now_ms)
			return -1;
		return now_ms + ms;
	}
	localtime_r(&now, &tm);
	if ((end = strptime(arg, "%Y-%m-%dT%H:%M", &tm)) != NULL && *end == '\0') {
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		return (int64_t)mktime(&tm) * 1000;
	}
	localtime_r(&now, &tm);
	if ((end = strptime(arg, "%H:%M", &tm)) == NULL || *end != '\0')
		return -1;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t <= now)
		t += 24 * 3600;
	return (int64_t)t * 1000;
}

static int apply_opt(int c, const char *arg, void *ctx)
{
	struct apply_args *a = ctx;
	int64_t v;
	switch (c) {
	case 'y':
		a->yes = 1;
		return 0;
	case OPT_TRUST:
		a->trust = 1;
		return 0;
	case OPT_PLAN:
		a->plan = arg;
		return 0;
	case OPT_ACCEPT:
		a->accept_changed = 1;
		return 0;
	case OPT_BREAKMARKER:
		a->break_marker = 1;
		return 0;
	case OPT_WAIT:
		a->wait = 1;
		return 0;
	case OPT_REBIND:
		a->rebind = 1;
		return 0;
	case OPT_SSHCONF:
		a->ssh_config = arg;
		return 0;
	case OPT_WINDOW:
		if ((a->window_end_ms = parse_window_end(arg)) < 0) {
			cli_error("apply",
				  "--window-end takes HH:MM, YYYY-MM-DDTHH:MM or +DURATION "
				  "(e.g. +2h), not '%s'",
				  arg);
			return EXIT_INPUT;
		}
		return 0;
	case OPT_MAXTIMEOUT:
		if (parse_duration_ms(arg, &a->max_timeout_ms) < 0 || a->max_timeout_ms <= 0) {
			cli_error("apply",
				  "--max-timeout takes a positive duration (e.g. 30s, 5m), "
				  "not '%s'",
				  arg);
			return EXIT_INPUT;
		}
		return 0;
	case OPT_MARKDONE:
	case OPT_RETRY:
		if (!step_arg_ok(arg)) {
			cli_error("resume", "--%s takes PHASE.STEP or PHASE.STEP@NODE, not '%s'",
				  c == OPT_RETRY ? "retry" : "mark-done", arg);
			return EXIT_INPUT;
		}
		if (c == OPT_RETRY)
			add_step_arg(&a->retry, &a->nretry, arg);
		else
			add_step_arg(&a->mark_done, &a->nmark_done, arg);
		return 0;
	case OPT_MAXCONN:
		if (parse_int64(arg, 1, 100000, &v) < 0) {
			cli_error("apply", "--max-connecting takes a positive number, not '%s'",
				  arg);
			return EXIT_INPUT;
		}
		a->max_connecting = (int)v;
		return 0;
	case OPT_PARALLEL:
		if (strcmp(arg, "all") == 0 || strcmp(arg, "auto") == 0) {
			a->parallel = arg[1] == 'l' ? PARALLEL_ALL : PARALLEL_AUTO;
			return 0;
		}
		/* fall through */
	case OPT_MAXFAIL:
		if (c == OPT_MAXFAIL && *arg && arg[strlen(arg) - 1] == '%') {
			char num[16];
			snprintf(num, sizeof(num), "%.*s", (int)strlen(arg) - 1, arg);
			if (strlen(arg) > 8 || parse_int64(num, 1, 100, &v) < 0) {
				cli_error("apply",
					  "--max-failed takes a positive number or a percentage "
					  "1%%..100%%, not '%s'",
					  arg);
				return EXIT_INPUT;
			}
			a->max_failed_pct = (int)v;
			return 0;
		}
		if (parse_int64(arg, 1, 100000, &v) < 0) {
			cli_error("apply", "--%s takes a positive number, not '%s'",
				  c == OPT_PARALLEL ? "parallel" : "max-failed", arg);
			return EXIT_INPUT;
		}
		if (c == OPT_PARALLEL)
			a->parallel = (int)v;
		else
			a->max_failed = (int)v;
		return 0;
	case OPT_BATCHES:
		a->batches = arg;
		return 0;
	}
	return EXIT_INPUT;
}

/*
 * --batches "1,10%,100%": the size of each batch, resolved against n
 * selected clusters (a percentage rounds up, at least 1); the last size
 * repeats until every cluster has a batch, as Ansible's serial does.
 * Fills ends[] with each batch's end index; returns the number of batches,
 * or -1 with err set.
 */
static int parse_batches(const char *list, int n, int *ends, char *err, size_t errlen)
{
	int sizes[BATCHES_MAX], ns = 0, nb = 0, at = 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int pct = len > 1 && p[len - 1] == '%';
		char item[16];
		int64_t v = 0;
		snprintf(item, sizeof(item), "%.*s", (int)(len - (size_t)pct), p);
		if (ns == BATCHES_MAX || len == 0 || len >= sizeof(item) ||
		    parse_int64(item, 1, pct ? 100 : 1000000, &v) < 0) {
			snprintf(
			    err, errlen,
			    "--batches takes sizes separated by commas, each a number >= 1 or a "
			    "percentage 1%%..100%% (e.g. 1,10%%,100%%), at most %d, not '%s'",
			    BATCHES_MAX, list);
			return -1;
		}
		sizes[ns++] = pct ? (int)((v * n + 99) / 100) : (int)v;
		if (sizes[ns - 1] < 1)
			sizes[ns - 1] = 1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (ns == 0) {
		snprintf(err, errlen, "--batches is empty (e.g. 1,10%%,100%%)");
		return -1;
	}
	for (int k = 0; at < n; k++) {
		int size = sizes[k < ns ? k : ns - 1];
		at = at + size > n ? n : at + size;
		if (nb == BATCHES_MAX) {
			ends[nb - 1] = n; /* the rest in the last batch */
			break;
		}
		ends[nb++] = at;
	}
	return nb;
}

struct fleet {
	const struct cli_files *f;
	struct run_opts ro; /* template; stop, sinks shared */
	pthread_mutex_t mu;
	int next;   /* next cluster to start */
	int limit;  /* clusters before this index only (the current batch) */
	int failed; /* clusters that ended badly */
	int max_failed;
	int *rc;	    /* per cluster exit code, -1 = not started */
	int64_t *outage_ms; /* per cluster: sum of its outages (from events) */
	int *outage_open;   /* per cluster: an outage began and has not ended */
	int declined;	    /* the operator declined a batch */
	struct evjson *ej;  /* -o json: batches are streamed too; else NULL */
	struct audit *au;   /* a cluster's audit file is closed when its run ends */
};

static void *worker(void *arg)
{
	struct fleet *fl = arg;
	for (;;) {
		pthread_mutex_lock(&fl->mu);
		int i = fl->next;
		int go = i < fl->limit && fl->failed < fl->max_failed && !stop_flag;
		if (go)
			fl->next++;
		pthread_mutex_unlock(&fl->mu);
		if (!go)
			return NULL;
		int rc = runner_run(fl->f->pb, fl->f->inv, fl->f->clusters[i], &fl->ro);
		/* Before this worker takes the next cluster: a fleet holds the
		 * descriptors of its running clusters only. */
		audit_close(fl->au, fl->f->clusters[i]->name);
		pthread_mutex_lock(&fl->mu);
		fl->rc[i] = rc;
		if (rc != EXIT_DONE)
			fl->failed++;
		pthread_mutex_unlock(&fl->mu);
	}
}

/* Combine per-cluster results: interrupted beats failed beats refused beats done. */
static int fleet_exit(const struct fleet *fl)
{
	static const int order[] = {EXIT_INTERRUPTED, EXIT_LOCK_LOST, EXIT_JOURNAL, EXIT_LOCKED,
				    EXIT_STEP_FAILED, EXIT_REFUSED,   EXIT_INPUT};
	for (size_t k = 0; k < CCR_ARRAY_LEN(order); k++)
		for (int i = 0; i < fl->f->nclusters; i++)
			if (fl->rc[i] == order[k])
				return order[k];
	for (int i = 0; i < fl->f->nclusters; i++)
		if (fl->rc[i] < 0) /* not started: a declined batch, or max-failed reached */
			return fl->declined ? EXIT_INTERRUPTED : EXIT_STEP_FAILED;
	return EXIT_DONE;
}

static void fleet_summary(const struct fleet *fl, FILE *fp)
{
	int done = 0, notrun = 0;
	if (fl->f->nclusters < 2)
		return;
	for (int i = 0; i < fl->f->nclusters; i++) {
		done += fl->rc[i] == EXIT_DONE;
		notrun += fl->rc[i] < 0;
	}
	fprintf(fp, "\nfleet: %d clusters, %d done, %d failed, %d not started\n", fl->f->nclusters,
		done, fl->f->nclusters - done - notrun, notrun);
	for (int i = 0; i < fl->f->nclusters; i++)
		if (fl->rc[i] != EXIT_DONE)
			fprintf(fp, "  %-20s %s\n", fl->f->clusters[i]->name,
				fl->rc[i] < 0 ? "not started (--max-failed reached, a batch "
						"declined, or interrupted)"
				: fl->rc[i] == EXIT_REFUSED	? "refused (exit 3)"
				: fl->rc[i] == EXIT_INTERRUPTED ? "interrupted (exit 130)"
								: "failed");
}

/*
 * Open files a running cluster needs: one SSH socket per host of the cluster
 * (the largest cluster counts), its journal, its lock, its audit file and an
 * HTTP check's socket.  The process needs a few more of its own (the audit
 * log of a late warning, notification sockets, libcurl's resolver, a
 * resolver's /etc files), and every descriptor already open when the fleet
 * starts counts too: those the process inherited (a make jobserver, a shell's
 * redirections) take room under the same limit.
 */
#define FD_PER_CLUSTER_EXTRA 4
#define FD_PROCESS_RESERVE   64
#define PARALLEL_AUTO_MAX    256

static long fds_per_cluster(const struct cli_files *f)
{
	long most = 0;
	for (int i = 0; i < f->nclusters; i++) {
		long n = 0;
		for (int g = 0; g < f->clusters[i]->ngroups; g++)
			n += f->clusters[i]->groups[g].nhosts;
		if (n > most)
			most = n;
	}
	return most + FD_PER_CLUSTER_EXTRA;
}

/*
 * Descriptors open now (inherited ones included), counted in /proc/self/fd;
 * without /proc, probed one by one up to the limit (at most 65,536).
 */
static long fds_open_now(rlim_t limit)
{
	long n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		closedir(d);
		return n > 0 ? n - 1 : 0; /* not the directory's own descriptor */
	}
	long top = limit == RLIM_INFINITY || limit > 65536 ? 65536 : (long)limit;
	for (long fd = 0; fd < top; fd++)
		n += fcntl((int)fd, F_GETFD) >= 0;
	return n;
}

/*
 * Resolve --parallel against the fleet and the open-file limit: raise the soft
 * limit as far as the hard one when more is needed, and refuse (exit 2, with
 * the figures and what to do) a --parallel the limit cannot carry, before any
 * cluster starts, rather than failing connections half-way through a fleet.
 * --parallel auto fits itself under the limit and says so on stderr when the
 * limit, not the fleet, decided.
 */
static int fleet_parallel(const struct cli_files *f, int asked, const char *cmd, int *out)
{
	struct rlimit rl;
	long per = fds_per_cluster(f);
	long want = asked == PARALLEL_ALL || asked == PARALLEL_AUTO ? f->nclusters : asked;
	if (want > f->nclusters)
		want = f->nclusters;
	if (asked == PARALLEL_AUTO && want > PARALLEL_AUTO_MAX)
		want = PARALLEL_AUTO_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		*out = (int)want;
		return 0;
	}
	long held = fds_open_now(rl.rlim_cur);
	rlim_t need = (rlim_t)(want * per + FD_PROCESS_RESERVE + held);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		long fit = ((long)rl.rlim_cur - FD_PROCESS_RESERVE - held) / per;
		if (asked == PARALLEL_AUTO && fit >= 1) {
			fprintf(
			    stderr,
			    "ccrup: --parallel auto: %ld cluster%s at once (the open-file limit "
			    "is %llu: %ld per cluster, %ld already open, %d kept for the "
			    "process)\n",
			    fit, fit == 1 ? "" : "s", (unsigned long long)rl.rlim_cur, per, held,
			    FD_PROCESS_RESERVE);
			*out = (int)fit;
			return 0;
		}
		char what[96] = "not even one cluster fits: raise the limit";
		if (fit >= 1)
			snprintf(what, sizeof(what),
				 "use --parallel %ld or less, --parallel auto, or raise the limit",
				 fit);
		cli_error(
		    cmd,
		    "--parallel %ld needs about %llu open files (%ld per cluster, %ld already "
		    "open), but the limit is %llu (ulimit -n; hard limit %llu): %s",
		    want, (unsigned long long)need, per, held, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_max, what);
		return EXIT_INPUT;
	}
	*out = (int)want;
	return 0;
}

static void run_batch(struct fleet *fl, int parallel)
{
	int left = fl->limit - fl->next;
	int n = parallel < left ? parallel : left;
	if (n < 1)
		return;
	pthread_t *t = xcalloc((size_t)n, sizeof(*t));
	int started = 0;

	for (int i = 0; i < n; i++) {
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 256 * 1024);
		if (pthread_create(&t[i], &at, worker, fl) == 0)
			started++;
		pthread_attr_destroy(&at);
	}
	if (started == 0)
		worker(fl);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
}

/* Events of every cluster, for the outage figures between batches. */
static void fleet_event(const struct event *e, void *arg)
{
	struct fleet *fl = arg;
	if (e->kind != EV_OUTAGE_START && e->kind != EV_OUTAGE_END)
		return;
	for (int i = 0; i < fl->f->nclusters; i++)
		if (strcmp(fl->f->clusters[i]->name, e->cluster) == 0) {
			pthread_mutex_lock(&fl->mu);
			fl->outage_open[i] = e->kind == EV_OUTAGE_START;
			if (e->kind == EV_OUTAGE_END)
				fl->outage_ms[i] += e->duration_ms;
			pthread_mutex_unlock(&fl->mu);
		}
}

/* "batch 1 of 3: 1 cluster, 1 done, 0 failed, 0 not started; outage 10m 4s in total, longest 10m 4s
 * (CLUS1-001)" */
static void batch_report(const struct fleet *fl, int b, int nb, int from, int to, FILE *fp)
{
	int done = 0, bad = 0, notrun = 0, longest = -1, open = 0;
	int64_t total = 0;
	char t[32], l[32];
	for (int i = from; i < to; i++) {
		done += fl->rc[i] == EXIT_DONE;
		notrun += fl->rc[i] < 0;
		bad += fl->rc[i] > 0;
		total += fl->outage_ms[i];
		open += fl->outage_open[i];
		if (fl->outage_ms[i] > 0 &&
		    (longest < 0 || fl->outage_ms[i] > fl->outage_ms[longest]))
			longest = i;
	}
	format_duration(total, t, sizeof(t));
	format_duration(longest >= 0 ? fl->outage_ms[longest] : 0, l, sizeof(l));
	fprintf(
	    fp,
	    "batch %d of %d: %d cluster%s, %d done, %d failed, %d not started; outage %s in total",
	    b + 1, nb, to - from, to - from == 1 ? "" : "s", done, bad, notrun, t);
	if (longest >= 0)
		fprintf(fp, ", longest %s (%s)", l, fl->f->clusters[longest]->name);
	if (open)
		fprintf(fp, "; %d cluster%s STILL IN AN OUTAGE", open, open == 1 ? "" : "s");
	fprintf(fp, "; failures so far %d of %d allowed\n", fl->failed, fl->max_failed);
	fflush(fp);
}

/* Guided, between batches: go on?  1 yes. */
static int batch_confirm(struct ui *u, const struct fleet *fl, int b, int nb, int from, int to)
{
	char q[512];
	snprintf(q, sizeof(q), "Start batch %d of %d (%d cluster%s: %s%s)? [y]es [q]uit", b + 1, nb,
		 to - from, to - from == 1 ? "" : "s", fl->f->clusters[from]->name,
		 to - from > 1 ? ", ..." : "");
	return ui_ask(u, q, "yq") == 'y';
}

/* Clusters from..to-1 as the JSON event stream names them, with their results. */
static struct evjson_cluster *json_clusters(const struct fleet *fl, int from, int to)
{
	struct evjson_cluster *c = xcalloc((size_t)(to - from) + 1, sizeof(*c));
	for (int i = from; i < to; i++) {
		int x = fl->rc[i];
		c[i - from].name = fl->f->clusters[i]->name;
		c[i - from].exit = x;
		c[i - from].result = x < 0		     ? "not-started"
				     : x == EXIT_DONE	     ? "done"
				     : x == EXIT_STEP_FAILED ? "failed"
				     : x == EXIT_REFUSED     ? "refused"
				     : x == EXIT_LOCKED	     ? "locked"
				     : x == EXIT_JOURNAL     ? "journal-error"
				     : x == EXIT_INTERRUPTED ? "interrupted"
							     : "input-error";
	}
	return c;
}

/* The closing line of the JSON event stream: each cluster's result. */
static void json_summary(struct evjson *ej, const struct fleet *fl, int rc)
{
	struct evjson_cluster *c = json_clusters(fl, 0, fl->f->nclusters);
	evjson_summary(ej, rc, c, fl->f->nclusters);
	free(c);
}

/* batch-start, batch-end (with what happens next) or batch-declined, on the JSON stream. */
static void json_batch(const struct fleet *fl, const char *what, int b, int nb, int from, int to,
		       const char *then)
{
	struct evjson_batch e = {.batch = b + 1, .batches = nb, .n = to - from, .then = then};
	int bad = 0, longest = -1;

	if (fl->ej == NULL)
		return;
	e.c = json_clusters(fl, from, to);
	for (int i = from; i < to; i++) {
		bad += fl->rc[i] > 0;
		e.outage_ms += fl->outage_ms[i];
		e.outages_open += fl->outage_open[i];
		if (fl->outage_ms[i] > 0 &&
		    (longest < 0 || fl->outage_ms[i] > fl->outage_ms[longest]))
			longest = i;
	}
	if (longest >= 0) {
		e.longest_ms = fl->outage_ms[longest];
		e.longest = fl->f->clusters[longest]->name;
	}
	e.outcome = stop_flag ? "interrupted" : bad ? "failed" : "done";
	e.failed_total = fl->failed;
	e.max_failed = fl->max_failed;
	if (strcmp(what, "start") == 0)
		evjson_batch_start(fl->ej, &e);
	else if (strcmp(what, "end") == 0)
		evjson_batch_end(fl->ej, &e);
	else
		evjson_batch_declined(fl->ej, &e);
	free((void *)e.c);
}

/* What follows batch b: another batch, the end, or a stop. */
static const char *batch_then(const struct fleet *fl, int b, int nb)
{
	if (stop_flag)
		return "stop-interrupted";
	if (b + 1 >= nb)
		return "last";
	return fl->failed >= fl->max_failed ? "stop-failure-budget" : "next-batch";
}

/*
 * Every batch in turn (one batch of everything without --batches): the
 * failure budget is global, and a batch starts only when the budget holds,
 * nothing was interrupted and, in guided mode, the operator says so.
 */
static int run_fleet(struct fleet *fl, int parallel, const int *ends, int nb, struct ui *ask,
		     FILE *human)
{
	for (int b = 0; b < nb; b++) {
		int from = fl->next;
		if (fl->failed >= fl->max_failed || stop_flag)
			break;
		if (b > 0 && ask && !batch_confirm(ask, fl, b, nb, from, ends[b])) {
			if (nb > 1)
				json_batch(fl, "declined", b, nb, from, ends[b], NULL);
			fprintf(human,
				"stopped by the operator before batch %d of %d; the clusters not "
				"started are upgraded by running apply again with --clusters\n",
				b + 1, nb);
			fl->declined = 1;
			break;
		}
		if (nb > 1)
			fprintf(human, "batch %d of %d: %d cluster%s, from %s\n", b + 1, nb,
				ends[b] - from, ends[b] - from == 1 ? "" : "s",
				fl->f->clusters[from]->name);
		fl->limit = ends[b];
		if (nb > 1)
			json_batch(fl, "start", b, nb, from, fl->limit, NULL);
		run_batch(fl, parallel);
		if (nb > 1) {
			batch_report(fl, b, nb, from, fl->limit, human);
			json_batch(fl, "end", b, nb, from, fl->limit, batch_then(fl, b, nb));
		}
		if (nb > 1 && fl->failed >= fl->max_failed && b + 1 < nb)
			fprintf(human,
				"failure budget spent (%d of --max-failed %d): batches %d..%d not "
				"started\n",
				fl->failed, fl->max_failed, b + 2, nb);
	}
	return fleet_exit(fl);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Past RLIMIT_FSIZE, write(2) must fail with EFBIG (the journal then stops
	 * the run cleanly, exit 5) instead of the signal killing ccrup. */
	signal(SIGXFSZ, SIG_IGN);
}

static char *join_args(int argc, char **argv)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "ccrup");
	for (int i = 0; i < argc; i++)
		sbuf_addf(&sb, " %s", argv[i]);
	return sbuf_detach(&sb);
}

/* An argument as the shell needs it: bare when safe, else in single quotes. */
static void add_shell_arg(struct sbuf *sb, const char *a)
{
	int plain = *a != '\0';
	for (const char *p = a; *p; p++)
		if (!(strchr("-_./=:,+@%", *p) || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			plain = 0;
	sbuf_addc(sb, ' ');
	if (plain) {
		sbuf_adds(sb, a);
		return;
	}
	sbuf_addc(sb, '\'');
	for (const char *p = a; *p; p++)
		if (*p == '\'')
			sbuf_adds(sb, "'\\''");
		else
			sbuf_addc(sb, *p);
	sbuf_addc(sb, '\'');
}

/*
 * The exact command that continues a stopped run: this command line as
 * `ccrup resume`, without what only apply takes (--plan, --window-end) and
 * without --yes / -o json in guided mode.
 */
static char *resume_command(int argc, char **argv, int guided)
{
	static const char *const drop_value[] = {"--plan", "--window-end", "--batches", NULL};
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "ccrup resume");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int skip = 0;
		for (int k = 0; drop_value[k]; k++) {
			size_t n = strlen(drop_value[k]);
			if (strncmp(a, drop_value[k], n) == 0 && a[n] == '=')
				skip = 1;
			else if (strcmp(a, drop_value[k]) == 0)
				skip = 2;
		}
		if (guided && (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0))
			skip = 1;
		if (strcmp(a, "--rebind") == 0) /* once: the run then has its new roles */
			skip = 1;
		if (skip == 2)
			i++;
		if (skip)
			continue;
		add_shell_arg(&sb, a);
	}
	return sbuf_detach(&sb);
}

static int run_cmd(int argc, char **argv, int resume)
{
	const char *cmd = resume ? "resume" : "apply";
	struct cli_opts o;
	struct cli_files f;
	struct apply_args a = {0};
	struct ui *u = NULL;
	struct audit *au = NULL;
	struct notify *nt = NULL;
	struct state *st = NULL;
	char *cmdline = NULL, *resume_cmd = NULL;
	struct evjson *ej = NULL;
	struct fleet fl;
	int rc;

	a.parallel = 1;
	a.max_failed = 1;
	/* getopt reorders argv: keep the order the operator typed for the resume hint. */
	char **typed = xcalloc((size_t)argc + 1, sizeof(*typed));
	memcpy(typed, argv, (size_t)argc * sizeof(*typed));
	rc = cli_parse(argc, argv, resume ? resume_usage : apply_usage,
		       resume ? resume_long : apply_long, "y", apply_opt, &a, &o);
	if (rc) {
		free(typed);
		free(a.mark_done);
		free(a.retry);
		return rc < 0 ? EXIT_DONE : rc;
	}
	rc = cli_load(&o, &f);
	if (rc)
		goto out;
	if (a.wait && !resume) {
		cli_error(cmd, "--wait is for resume (apply exits 4 when a cluster is locked)");
		rc = EXIT_INPUT;
		goto out;
	}
	if ((rc = cli_state_open(cmd, &o, &f, &st)))
		goto out;
	int tty_in = isatty(STDIN_FILENO), tty_out = isatty(STDOUT_FILENO);
	/* Guided batches: the steps run unattended, the operator confirms each batch. */
	int guided_batches = a.batches && !a.yes && tty_in;
	if (!a.yes && !guided_batches && (!tty_in || f.nclusters > 1)) {
		cli_error(
		    cmd, "%s",
		    f.nclusters > 1
			? "several clusters are selected: add --yes to run them unattended, or "
			  "pick one with --clusters NAME for a guided run"
			: "no terminal to ask on: add --yes for an unattended run (see `ccrup "
			  "plan` first)");
		rc = EXIT_INPUT;
		goto out;
	}
	/* -o json: the event stream owns stdout; people read stderr (prompts in
	 * guided mode; failures, warnings and the summary with --yes). */
	int json = strcmp(o.output, "json") == 0;
	FILE *human = json ? stderr : stdout;
	int tty_h = json ? isatty(STDERR_FILENO) : tty_out;
	struct ui_opts uo = {tty_h, tty_h && getenv("NO_COLOR") == NULL, o.quiet || (json && a.yes),
			     o.verbose};
	u = ui_new(human, &uo);
	au = audit_new(o.state_dir);
	nt = notify_new(f.inv);
	notify_set_warn(nt, audit_warn, au);
	if (json)
		ej = evjson_new(stdout);
	struct event_sink sinks[] = {{ui_event, u},
				     {audit_event, au},
				     {notify_event, nt},
				     {fleet_event, &fl},
				     {evjson_event, ej}};
	cmdline = join_args(argc, argv);
	resume_cmd = resume_command(argc, typed, !a.yes);
	install_signals();
	if (xport_global_init() < 0 || http_global_init() < 0) {
		cli_error(cmd, "cannot initialise libssh/libcurl");
		rc = EXIT_INPUT;
		goto out;
	}
	int parallel;
	rc = fleet_parallel(&f, a.parallel, cmd, &parallel);
	if (rc)
		goto out;
	memset(&fl, 0, sizeof(fl));
	fl.f = &f;
	fl.max_failed = a.max_failed;
	fl.ej = ej;
	fl.au = au;
	if (a.max_failed_pct) {
		fl.max_failed = f.nclusters * a.max_failed_pct / 100;
		if (fl.max_failed < 1)
			fl.max_failed = 1;
	}
	int ends[BATCHES_MAX], nb = 1;
	ends[0] = f.nclusters;
	if (a.batches) {
		char berr[256];
		if ((nb = parse_batches(a.batches, f.nclusters, ends, berr, sizeof(berr))) < 0) {
			cli_error(cmd, "%s", berr);
			rc = EXIT_INPUT;
			goto out;
		}
	}
	fl.outage_ms = xcalloc((size_t)f.nclusters + 1, sizeof(*fl.outage_ms));
	fl.outage_open = xcalloc((size_t)f.nclusters + 1, sizeof(*fl.outage_open));
	fl.rc = xcalloc((size_t)f.nclusters, sizeof(int));
	for (int i = 0; i < f.nclusters; i++)
		fl.rc[i] = -1;
	pthread_mutex_init(&fl.mu, NULL);
	/* One bound on SSH handshakes in flight for the whole fleet (xgate.h). */
	struct xport_gate *gate = xport_gate_new(
	    a.max_connecting > 0 ? a.max_connecting : xport_gate_default_slots(), &stop_flag);
	struct xport_known *known = xport_known_new(); /* known_hosts parsed once (xknown.h) */
	fl.ro = (struct run_opts){.resume = resume,
				  .rebind = a.rebind,
				  .unattended = a.yes || guided_batches,
				  .trust_new_hosts = a.trust,
				  .accept_changed_playbook = a.accept_changed,
				  .break_marker = a.break_marker,
				  .state_dir = o.state_dir,
				  .state = st,
				  .lock_wait_ms = a.wait ? INT64_MAX / 4 : 0,
				  .shared_fleet = state_shared(st) && f.nclusters > 1,
				  .ssh_config = a.ssh_config,
				  .saved_plan = a.plan,
				  .command_line = cmdline,
				  .resume_command = resume_cmd,
				  .window_end_ms = a.window_end_ms,
				  .max_timeout_ms = a.max_timeout_ms,
				  .stop = &stop_flag,
				  .gate = gate,
				  .known = known,
				  .sinks = sinks,
				  .nsinks = (int)CCR_ARRAY_LEN(sinks) - (json ? 0 : 1),
				  .ask = a.yes || guided_batches ? NULL : ui_ask,
				  .ask_arg = u,
				  .mark_done = a.mark_done,
				  .nmark_done = a.nmark_done,
				  .retry = a.retry,
				  .nretry = a.nretry};
	rc = run_fleet(&fl, parallel, ends, nb, guided_batches ? u : NULL, human);
	xport_gate_free(gate); /* every cluster's transports are freed by now */
	xport_known_free(known);
	ui_summary(u);
	fleet_summary(&fl, human);
	if (ej)
		json_summary(ej, &fl, rc);
	pthread_mutex_destroy(&fl.mu);
	free(fl.rc);
	free(fl.outage_ms);
	free(fl.outage_open);
	notify_flush(nt, stop_flag ? 2000 : 10000); /* bounded: shorter after an interrupt */
	notify_free(nt);
	nt = NULL;
	http_global_cleanup();
	xport_global_cleanup();
out:
	free(typed);
	free(a.mark_done);
	free(a.retry);
	free(cmdline);
	free(resume_cmd);
	notify_free(nt);
	cli_state_close(st);
	audit_free(au);
	ui_free(u);
	evjson_free(ej);
	cli_files_release(&f);
	return rc;
}

int cmd_apply(int argc, char **argv)
{
	return run_cmd(argc, argv, 0);
}

int cmd_resume(int argc, char **argv)
{
	return run_cmd(argc, argv, 1);
}
