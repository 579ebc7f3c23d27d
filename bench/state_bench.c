/*
 * state_bench.c — the state backends (orchestrator/state/state.h) measured
 * as a run uses them.
 *
 *	state_bench append SPEC RECORDS
 *	    SPEC is a local directory or an etcd URL.  Takes cluster BENCH's lock,
 *	    opens its journal and appends RECORDS records shaped like a step's
 *	    `done`, one at a time (each durable before the next: fsync locally, a
 *	    quorum-committed txn on etcd).  Prints
 *	    "records N seconds S records_per_s R p50_us P p99_us Q".
 *	state_bench takeover URL ROUNDS
 *	    Each round a child process takes cluster TAKEOVER's lock and is
 *	    SIGKILLed; the parent, already waiting (polling as `resume --wait`
 *	    does), measures from the kill to holding the lock.  Prints
 *	    "ttl_s T rounds N p50_ms X max_ms Y".
 *
 * Built by bench/run.sh against build/libccrup.a; never part of `make check`.
 */
#include "diag.h"
#include "state.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct state *open_state(const char *spec)
{
	struct state_config c = {.dir = spec, .url = NULL};
	struct state *st = NULL;
	char err[1024];

	if (strstr(spec, "://") != NULL) {
		c.dir = "/nonexistent-state-bench";
		c.url = spec;
	}
	if (state_open(&c, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "state_bench: %s\n", err);
		exit(1);
	}
	return st;
}

static int append(const char *spec, long n)
{
	struct state *st = open_state(spec);
	struct state_lock *l;
	struct journal *j = NULL;
	double *lat = xcalloc((size_t)n, sizeof(double));
	char err[1024];
	int other = 0;

	l = state_lock_acquire(st, "BENCH", "state_bench", 0, NULL, err, sizeof(err), &other);
	if (l == NULL || state_journal_open(l, &j, err, sizeof(err)) < 0) {
		fprintf(stderr, "state_bench: %s\n", err);
		return 1;
	}
	journal_set_run_id(j, "2026-11-21T10-20-03-4242");
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		json_t *rec = json_pack("{s:s, s:I, s:i, s:s, s:s}", "event", "done", "duration_ms",
					(json_int_t)(i % 5000), "exit", 0, "step",
					"passive.stop-service[HealthService]", "node", "NODE2-001");
		double a = now_s();
		int rc = journal_append(j, rec);
		lat[i] = (now_s() - a) * 1e6;
		json_decref(rec);
		if (rc < 0) {
			fprintf(stderr, "state_bench: %s\n", journal_error(j));
			return 1;
		}
	}
	double secs = now_s() - t0;
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	printf("records %ld seconds %.3f records_per_s %.1f p50_us %.1f p99_us %.1f\n", n, secs,
	       (double)n / secs, lat[n / 2], lat[(size_t)((double)n * 0.99)]);
	journal_close(j);
	state_lock_release(l);
	state_free(st);
	free(lat);
	return 0;
}

/* The child: take the lock, say so on fd, wait to be killed. */
static void holder(const char *url, int fd)
{
	struct state *st = open_state(url);
	char err[1024];
	int other = 0;
	struct state_lock *l =
	    state_lock_acquire(st, "TAKEOVER", "state_bench holder", 60000, NULL, err, sizeof(err),
			       &other);

	if (l == NULL) {
		fprintf(stderr, "state_bench: holder: %s\n", err);
		_exit(1);
	}
	if (write(fd, "1", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static int takeover(const char *url, long rounds)
{
	double *ms = xcalloc((size_t)rounds, sizeof(double));
	int ttl = 0;

	for (long r = 0; r < rounds; r++) {
		int p[2];
		char c;
		if (pipe(p) < 0)
			return 1;
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			holder(url, p[1]);
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1) {
			fprintf(stderr, "state_bench: the holder did not take the lock\n");
			return 1;
		}
		close(p[0]);
		struct state *st = open_state(url);
		struct state_holder h;
		char err[1024];
		int other = 0;
		if (state_lock_holder(st, "TAKEOVER", &h, err, sizeof(err)) == 1)
			ttl = h.ttl_s;
		state_holder_release(&h);
		double t0 = now_s();
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		struct state_lock *l = state_lock_acquire(st, "TAKEOVER", "state_bench", 600000, NULL,
							  err, sizeof(err), &other);
		ms[r] = (now_s() - t0) * 1000;
		if (l == NULL) {
			fprintf(stderr, "state_bench: %s\n", err);
			return 1;
		}
		state_lock_release(l);
		state_free(st);
	}
	qsort(ms, (size_t)rounds, sizeof(double), cmp_double);
	printf("ttl_s %d rounds %ld p50_ms %.0f max_ms %.0f\n", ttl, rounds, ms[rounds / 2],
	       ms[rounds - 1]);
	free(ms);
	return 0;
}

int main(int argc, char **argv)
{
	int64_t n;

	if (argc != 4 || parse_int64(argv[3], 1, 1000000, &n) < 0) {
		fprintf(stderr, "usage: state_bench append SPEC RECORDS | takeover URL ROUNDS\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "append") == 0)
		return append(argv[2], (long)n);
	if (strcmp(argv[1], "takeover") == 0)
		return takeover(argv[2], (long)n);
	fprintf(stderr, "state_bench: unknown mode '%s'\n", argv[1]);
	return 2;
}
