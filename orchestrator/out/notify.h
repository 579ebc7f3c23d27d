/*
 * notify.h — tell people what a run is doing: webhooks, Slack, Teams.
 *
 * The inventory's `notify:` list names endpoints (struct notify_def): a
 * kind (webhook, slack, teams), a URL, the events it wants, a timeout and a
 * number of retries.  The notify sink turns six runner events into a
 * payload for each endpoint that wants them:
 *
 *	EV_RUN_START    run-start       EV_OUTAGE_END   outage-end
 *	EV_PHASE_START  phase-start     EV_STEP_FAILED  step-failed
 *	EV_OUTAGE_START outage-start    EV_RUN_END      run-end
 *
 * Delivery never holds up an upgrade: notify_event() only formats the
 * payload and queues it.  Every endpoint has its own background thread and
 * its own bounded queue, so a slow endpoint delays nobody but itself; when
 * a queue is full the oldest payload is dropped with a warning.  A request
 * is retried on connection errors, timeouts, 408, 429 and 5xx with
 * exponential backoff; anything else that is not 2xx fails at once.  A
 * failure is a warning on stderr (and through the warning callback, e.g.
 * into the audit log), never an error of the run.  TLS certificates are
 * verified unless the endpoint says `insecure_tls: true`.  The format of
 * each payload is docs/notifications.md.
 *
 * Calling sequence:
 *
 *	struct notify *n = notify_new(inv);          // starts one thread per endpoint
 *	notify_set_warn(n, audit_warn, audit);        // optional
 *	struct event_sink sink = {notify_event, n};   // given to the runner
 *	...
 *	notify_flush(n, 10000);                       // bounded wait for the queues
 *	notify_free(n);
 *
 * notify_event() may be called from several threads at once.
 */
#ifndef CCR_NOTIFY_H
#define CCR_NOTIFY_H

#include <stdint.h>
#include <stdio.h>

#include "events.h"
#include "model.h"

/* Tunables; notify_new() uses the defaults in brackets. */
struct notify_opts {
	int queue_cap;		/* payloads waiting per endpoint [64] */
	int64_t backoff_ms;	/* delay before the first retry, doubled each time [1000] */
	int64_t backoff_max_ms; /* cap on one delay [30000] */
};

/* Counters summed over every endpoint. */
struct notify_stats {
	unsigned long sent;    /* delivered: the endpoint answered 2xx */
	unsigned long failed;  /* given up: errors, retries exhausted, or abandoned by a flush */
	unsigned long dropped; /* pushed out of a full queue before being tried */
	unsigned long pending; /* queued or in flight now */
};

/* Warning callback: cluster may be NULL; msg is one line without a newline. */
typedef void (*notify_warn_fn)(void *arg, const char *cluster, const char *msg);

/*
 * A sink for the inventory's endpoints (copied: inv may be freed after).
 * With no endpoints it is a valid sink that does nothing.  An endpoint
 * whose thread cannot be started is reported on stderr and skipped.
 * Never returns NULL.
 */
struct notify *notify_new(const struct inventory *inv);
struct notify *notify_new_opts(const struct inventory *inv, const struct notify_opts *o);

/* Also send warnings to fn(arg, ...).  Call before the first event. */
void notify_set_warn(struct notify *n, notify_warn_fn fn, void *arg);

/* event_fn: queue e for every endpoint that wants it.  arg is the notify. */
void notify_event(const struct event *e, void *arg);

/*
 * Wait until every queue is empty and nothing is in flight, or max_wait_ms
 * has passed.  What is still queued or in flight then is given up: counted
 * as failed, reported as a warning, never sent later.  Returns the number
 * of payloads given up (0 = everything was delivered or failed on its own).
 */
int notify_flush(struct notify *n, int64_t max_wait_ms);

void notify_get_stats(struct notify *n, struct notify_stats *st);

/*
 * Stop the threads and free n; NULL is a no-op.  Queued payloads are not
 * sent (call notify_flush() first).  A request still in flight is not
 * waited for beyond a short grace period: its thread is left to finish on
 * its own (bounded by the endpoint's timeout) and frees its own state.
 */
void notify_free(struct notify *n);

/*
 * The event name for a kind ("outage-start"), or NULL if the kind is not
 * notified.
 */
const char *notify_event_name(enum ev_kind k);

/*
 * The payload one endpoint kind gets for e (a notified kind), as a new JSON
 * string (caller frees).  Secret values are redacted from every text.
 * Exposed for tests and docs.
 */
char *notify_payload(enum notify_kind kind, const struct event *e);

/*
 * `ccrup notify --test`: send one test payload (event "test") to every
 * endpoint of inv, synchronously and once (no retries), printing one line
 * per endpoint to out ("ok ..." or "FAILED ...").  Returns how many failed.
 */
int notify_test(const struct inventory *inv, FILE *out);

#endif
