/*
 * evjson.h — the JSON event stream of `apply -o json` / `resume -o json`:
 * one JSON object per line and per event, for machines (CI systems, chat
 * bots) that follow a run.  The format, ccrup-events/1, is docs/events-json.md.
 *
 * Every line carries "format", "seq" (1, 2, ... per stream), "time" (UTC,
 * ms), "event" and "cluster"; the other keys depend on the event.  Texts are
 * redacted like the audit log (audit.h) and valid UTF-8.  Each line is
 * written with one fputs and flushed, so a reader sees whole lines as they
 * happen.  Thread-safe: a fleet's runners share one stream.
 */
#ifndef CCR_EVJSON_H
#define CCR_EVJSON_H

#include <stdio.h>

#include "events.h"

#define EVJSON_FORMAT "ccrup-events/1"

struct evjson;

struct evjson *evjson_new(FILE *fp);
void evjson_free(struct evjson *j);
/* event_fn for runner sinks; arg is the struct evjson. */
void evjson_event(const struct event *e, void *arg);

/* The closing line: {"event":"summary", "exit": N, "clusters": [...]}. */
struct evjson_cluster {
	const char *name;
	const char *result; /* done, failed, refused, interrupted, locked, not-started, ... */
	int exit;	    /* the cluster's exit code, -1 if not started */
};
void evjson_summary(struct evjson *j, int exit_code, const struct evjson_cluster *c, int n);

/*
 * A batch of a staged rollout (apply --batches): "batch-start" names its
 * clusters; "batch-end" gives each one's result, the batch's outcome and
 * outage figures, the fleet's failure budget and what happens next;
 * "batch-declined" says the operator did not start batch `batch`.
 */
struct evjson_batch {
	int batch, batches;		/* 1-based; how many in all */
	const struct evjson_cluster *c; /* its clusters (results: batch-end only) */
	int n;				/* how many */
	const char *outcome;		/* batch-end: done, failed or interrupted */
	int64_t outage_ms;		/* batch-end: its clusters' outages added up */
	int64_t longest_ms;		/* the longest cluster's outage, 0 if none */
	const char *longest;		/* that cluster, or NULL */
	int outages_open;		/* clusters left inside an outage */
	int failed_total, max_failed;	/* the fleet's failures so far, and the budget */
	const char *then;		/* batch-end: next-batch, last, stop-failure-budget,
					   stop-interrupted */
};
void evjson_batch_start(struct evjson *j, const struct evjson_batch *b);
void evjson_batch_end(struct evjson *j, const struct evjson_batch *b);
void evjson_batch_declined(struct evjson *j, const struct evjson_batch *b);

/* The event's name in the stream ("step-begin", ...), or NULL if not streamed. */
const char *evjson_name(enum ev_kind k);

#endif
