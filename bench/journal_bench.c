/*
 * journal_bench.c — fsync'd journal appends per second, through the real
 * orchestrator/state/journal.h (one write(2) + fsync(2) per record), as a runner
 * writes them: THREADS journals in THREADS threads at once (a fleet), each
 * appending RECORDS records shaped like a step's `done`.
 *
 *	journal_bench DIR RECORDS THREADS
 *
 * Prints one line: "threads T records N seconds S records_per_s R p50_us P p99_us Q".
 * Built by bench/run.sh against build/libccrup.a; never part of `make check`.
 */
#include "journal.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
	char path[4096];
	long records;
	double *lat_us; /* one per record */
	int failed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct journal *j = NULL;
	char msg[512];

	if (journal_open(w->path, &j, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "journal_bench: %s\n", msg);
		w->failed = 1;
		return NULL;
	}
	journal_set_run_id(j, "2026-11-21T10-20-03-4242");
	for (long i = 0; i < w->records; i++) {
		json_t *rec = json_pack("{s:s, s:I, s:i, s:s, s:s}", "event", "done", "duration_ms",
					(json_int_t)(i % 5000), "exit", 0, "step",
					"passive.stop-service[HealthService]", "node", "NODE2-001");
		double t0 = now_s();
		int rc = journal_append(j, rec);
		w->lat_us[i] = (now_s() - t0) * 1e6;
		json_decref(rec);
		if (rc < 0) {
			fprintf(stderr, "journal_bench: %s\n", journal_error(j));
			w->failed = 1;
			break;
		}
	}
	journal_close(j);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static long arg_long(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 10000000) {
		fprintf(stderr, "journal_bench: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: journal_bench DIR RECORDS THREADS\n");
		return 2;
	}
	long n = arg_long(argv[2], "RECORDS"), t = arg_long(argv[3], "THREADS");
	struct worker *w = calloc((size_t)t, sizeof(*w));
	pthread_t *th = calloc((size_t)t, sizeof(*th));
	double *all = calloc((size_t)(n * t), sizeof(double));
	if (w == NULL || th == NULL || all == NULL)
		return 1;
	for (long i = 0; i < t; i++) {
		snprintf(w[i].path, sizeof(w[i].path), "%s/t%ld/journal.jsonl", argv[1], i);
		w[i].records = n;
		w[i].lat_us = all + i * n;
	}
	double t0 = now_s();
	for (long i = 0; i < t; i++)
		if (pthread_create(&th[i], NULL, run, &w[i]) != 0)
			return 1;
	int failed = 0;
	for (long i = 0; i < t; i++) {
		pthread_join(th[i], NULL);
		failed |= w[i].failed;
	}
	double el = now_s() - t0;
	if (failed)
		return 1;
	qsort(all, (size_t)(n * t), sizeof(double), cmp_double);
	printf("threads %ld records %ld seconds %.3f records_per_s %.0f p50_us %.0f p99_us %.0f\n",
	       t, n * t, el, (double)(n * t) / el, all[(n * t) / 2], all[(n * t) * 99 / 100]);
	free(all);
	free(th);
	free(w);
	return 0;
}
