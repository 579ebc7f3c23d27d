/*
 * notify.c — see notify.h and docs/notifications.md.
 *
 * One thread per endpoint, each with a ring buffer of payloads and a mutex
 * and condition variable of its own.  The runner's thread only formats and
 * queues; the endpoint's thread takes one payload at a time and delivers it
 * with http_request(), retrying with exponential backoff.  The backoff waits
 * on the condition variable, so stopping the thread interrupts it.
 *
 * http_request() cannot be interrupted, so a request can outlive the
 * object: notify_free() waits for a short grace period and then leaves the
 * thread to finish the request on its own.  For that, the endpoint is
 * reference counted (the owner and the thread each hold one reference) and
 * whoever drops the last one frees it; an orphaned thread sends nothing more
 * and calls no callback.
 */
#include "notify.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "http.h"
#include "textsafe.h"
#include "util.h"

#define FREE_GRACE_MS 200 /* notify_free() waits this long for a request in flight */

struct job {
	char *body;    /* JSON payload */
	char *cluster; /* for warnings */
	char *event;   /* event name, for warnings */
};

struct endpoint {
	/* configuration, copied from the inventory; read-only after start */
	char *name, *url;
	enum notify_kind kind;
	unsigned events; /* bit per notified event kind */
	int64_t timeout_ms;
	int retries;
	int insecure;
	struct notify_opts o;
	notify_warn_fn warn; /* set before the first event */
	void *warn_arg;

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* queue changed, stop, or a delivery finished */
	struct job *q;	    /* ring of o.queue_cap jobs */
	int head, count;
	int busy;      /* a job is being delivered */
	int abandoned; /* the job in flight was given up by a flush: do not count it again */
	int stop;      /* the owner wants the thread gone */
	int orphan;    /* the owner is gone: no callbacks */
	int refs;      /* owner + thread */
	unsigned long sent, failed, dropped;
	pthread_t th;
};

struct notify {
	struct endpoint **eps; /* endpoints whose thread runs */
	int neps;
	struct redact *rd; /* secrets to keep out of payloads */
};

static const struct {
	enum ev_kind kind;
	const char *name;
} notified[] = {
    {EV_RUN_START, "run-start"},       {EV_PHASE_START, "phase-start"},
    {EV_OUTAGE_START, "outage-start"}, {EV_OUTAGE_END, "outage-end"},
    {EV_STEP_FAILED, "step-failed"},   {EV_RUN_END, "run-end"},
};

static int event_bit(enum ev_kind k)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(notified); i++)
		if (notified[i].kind == k)
			return (int)i;
	return -1;
}

const char *notify_event_name(enum ev_kind k)
{
	int b = event_bit(k);
	return b < 0 ? NULL : notified[b].name;
}

/* ---- payloads ---- */

/* One line for people, redacted and valid UTF-8.  Caller frees. */
static char *human_text(const struct redact *rd, const struct event *e)
{
	const char *c = e->cluster ? e->cluster : "?", *t = e->text ? e->text : "";
	const char *node = e->node ? e->node : "-", *step = e->step ? e->step : "-";
	char dur[32], *s;

	switch (e->kind) {
	case EV_RUN_START:
		s = xasprintf("%s: %s", c, t);
		break;
	case EV_RUN_END:
		s = strcmp(t, "done") == 0
			? xasprintf("%s: run ended: done", c)
			: xasprintf("%s: run ended: %s; `ccrup status` says where it "
				    "stands, `ccrup resume` continues",
				    c, t);
		break;
	case EV_PHASE_START:
		s = xasprintf("%s: phase %s started: %s (on %s)", c, e->phase ? e->phase : "?", t,
			      node);
		break;
	case EV_OUTAGE_START:
		/* "CLUS1: OUTAGE STARTED: Exchange mailbox service is down, about 10m by the
		 * plan's estimate: users cannot open their mailboxes ... (step cms.stop-cms on
		 * NODE2)" */
		format_duration(e->budget_ms, dur, sizeof(dur));
		s = xasprintf(
		    "%s: service outage started: %s is down%s%s%s: %s (step %s on %s)", c,
		    e->detail ? e->detail : "the service", e->budget_ms > 0 ? ", about " : "",
		    e->budget_ms > 0 ? dur : "", e->budget_ms > 0 ? " by the plan's estimate" : "",
		    e->text ? e->text : "users cannot use the service until it ends", step, node);
		break;
	case EV_OUTAGE_END:
		format_duration(e->duration_ms, dur, sizeof(dur));
		s = xasprintf("%s: service outage ended after %s: %s is back (step %s on %s)", c,
			      dur, e->detail ? e->detail : "the service", step, node);
		break;
	case EV_STEP_FAILED:
		s = xasprintf("%s: run stopped: %s", c, t);
		break;
	default:
		s = xasprintf("%s: %s", c, t);
		break;
	}
	char *r = redact_apply(rd, s);
	char *u = audit_utf8_copy(r, strlen(r));
	free(s);
	free(r);
	return u;
}

static json_t *opt_str(const struct redact *rd, const char *s)
{
	if (s == NULL)
		return json_null();
	char *r = redact_apply(rd, s);
	char *u = audit_utf8_copy(r, strlen(r));
	json_t *j = json_string(u);
	free(r);
	free(u);
	return j;
}

static json_t *webhook_payload(const struct redact *rd, const struct event *e, const char *text,
			       const char *when)
{
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(notify_event_name(e->kind)));
	json_object_set_new(o, "cluster", opt_str(rd, e->cluster));
	json_object_set_new(o, "phase", opt_str(rd, e->phase));
	json_object_set_new(o, "step", opt_str(rd, e->step));
	json_object_set_new(o, "node", opt_str(rd, e->node));
	json_object_set_new(o, "text", json_string(text));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "outage_ms",
			    e->kind == EV_OUTAGE_END ? json_integer(e->duration_ms) : json_null());
	return o;
}

/* A run that did not end done is no finish flag: its own icon, or NULL for the default. */
static const char *run_end_icon(const struct event *e)
{
	if (e->kind != EV_RUN_END || e->text == NULL || strcmp(e->text, "done") == 0)
		return NULL;
	if (strcmp(e->text, "interrupted") == 0)
		return ":double_vertical_bar:";
	if (strcmp(e->text, "refused") == 0)
		return ":no_entry:";
	return ":x:";
}

/* Slack mrkdwn: &, < and > are control characters and must be escaped. */
static json_t *slack_payload(const struct event *e, const char *text)
{
	static const char *const icon[] = {":arrow_forward:",
					   ":large_blue_circle:",
					   ":rotating_light:",
					   ":white_check_mark:",
					   ":x:",
					   ":checkered_flag:"};
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, run_end_icon(e) ? run_end_icon(e) : icon[event_bit(e->kind)]);
	sbuf_adds(&sb, " ccrup ");
	for (const char *p = text; *p; p++) {
		if (*p == '&')
			sbuf_adds(&sb, "&amp;");
		else if (*p == '<')
			sbuf_adds(&sb, "&lt;");
		else if (*p == '>')
			sbuf_adds(&sb, "&gt;");
		else
			sbuf_addc(&sb, *p);
	}
	json_t *o = json_pack("{s:s}", "text", sb.buf);
	sbuf_release(&sb);
	return o;
}

static json_t *teams_payload(const struct redact *rd, const struct event *e, const char *text,
			     const char *when)
{
	static const char *const titles[] = {"run started",  "phase started", "OUTAGE STARTED",
					     "outage ended", "STEP FAILED",   "run ended"};
	int bad = e->kind == EV_OUTAGE_START || e->kind == EV_STEP_FAILED ||
		  (e->kind == EV_RUN_END && e->text && strcmp(e->text, "done") != 0);
	char *title = e->kind == EV_RUN_END && bad
			  ? xasprintf("ccrup: %s RUN %s", e->cluster ? e->cluster : "?",
				      strcmp(e->text, "failed") == 0	    ? "FAILED"
				      : strcmp(e->text, "refused") == 0	    ? "REFUSED"
				      : strcmp(e->text, "interrupted") == 0 ? "INTERRUPTED"
									    : "ENDED BADLY")
			  : xasprintf("ccrup: %s %s", e->cluster ? e->cluster : "?",
				      titles[event_bit(e->kind)]);
	char *u = audit_utf8_copy(title, strlen(title));
	json_t *facts = json_array();
	const char *names[] = {"Cluster", "Phase", "Step", "Node"};
	const char *vals[] = {e->cluster, e->phase, e->step, e->node};

	for (size_t i = 0; i < CCR_ARRAY_LEN(names); i++)
		if (vals[i])
			json_array_append_new(facts, json_pack("{s:s, s:o}", "name", names[i],
							       "value", opt_str(rd, vals[i])));
	json_array_append_new(facts, json_pack("{s:s, s:s}", "name", "Time", "value", when));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:o}]}", "@type", "MessageCard",
			      "@context", "https://schema.org/extensions", "summary", text,
			      "themeColor", bad ? "D7000C" : "2EB886", "title", u, "text", text,
			      "sections", "facts", facts);
	free(title);
	free(u);
	return o;
}

static char *build_payload(const struct redact *rd, enum notify_kind kind, const struct event *e)
{
	char when[32];
	char *text = human_text(rd, e);
	json_t *o;

	format_iso8601(e->wall_ms ? e->wall_ms : now_wall_ms(), when, sizeof(when));
	if (kind == NOTIFY_SLACK)
		o = slack_payload(e, text);
	else if (kind == NOTIFY_TEAMS)
		o = teams_payload(rd, e, text, when);
	else
		o = webhook_payload(rd, e, text, when);
	char *body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (body == NULL)
		abort(); /* only out of memory: every string above is valid UTF-8 */
	json_decref(o);
	free(text);
	return body;
}

char *notify_payload(enum notify_kind kind, const struct event *e)
{
	struct redact *rd = redact_new_from_env();
	char *body = event_bit(e->kind) < 0 ? NULL : build_payload(rd, kind, e);
	redact_free(rd);
	return body;
}

/* ---- endpoints ---- */

static void job_free(struct job *j)
{
	free(j->body);
	free(j->cluster);
	free(j->event);
	memset(j, 0, sizeof(*j));
}

static void ep_unref_locked(struct endpoint *ep)
{
	int last = --ep->refs == 0;
	pthread_mutex_unlock(&ep->mu);
	if (!last)
		return;
	for (int i = 0; i < ep->count; i++)
		job_free(&ep->q[(ep->head + i) % ep->o.queue_cap]);
	free(ep->q);
	free(ep->name);
	free(ep->url);
	pthread_cond_destroy(&ep->cv);
	pthread_mutex_destroy(&ep->mu);
	free(ep);
}

/* Called with ep->mu held. */
static void ep_warn(struct endpoint *ep, const char *cluster, const char *fmt, ...)
    CCR_PRINTF(3, 4);

static void ep_warn(struct endpoint *ep, const char *cluster, const char *fmt, ...)
{
	va_list ap;
	if (ep->orphan)
		return;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "ccrup: warning: notification '%s': %s\n", ep->name, msg);
	if (ep->warn) {
		char *full = xasprintf("notification '%s': %s", ep->name, msg);
		ep->warn(ep->warn_arg, cluster, full);
		free(full);
	}
	free(msg);
}

static struct timespec deadline_ts(int64_t ms_from_now)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms_from_now / 1000;
	ts.tv_nsec += (long)(ms_from_now % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static int retryable(int rc, long status)
{
	return rc < 0 || status >= 500 || status == 429 || status == 408;
}

/*
 * Deliver one job, called with ep->mu held (released around each request).
 * Returns 1 when the endpoint answered 2xx, 0 with err set otherwise.
 */
static int deliver(struct endpoint *ep, const struct job *j, char *err, size_t errlen)
{
	int64_t delay = ep->o.backoff_ms;
	for (int attempt = 0; attempt <= ep->retries; attempt++) {
		if (attempt > 0) {
			struct timespec ts = deadline_ts(delay);
			while (!ep->stop && !ep->abandoned &&
			       pthread_cond_timedwait(&ep->cv, &ep->mu, &ts) != ETIMEDOUT)
				;
			delay = delay * 2 > ep->o.backoff_max_ms ? ep->o.backoff_max_ms : delay * 2;
		}
		if (ep->stop || ep->abandoned)
			return 0;
		struct http_req rq = {.method = "POST",
				      .url = ep->url,
				      .body = j->body,
				      .content_type = "application/json",
				      .timeout_ms = ep->timeout_ms,
				      .insecure = ep->insecure,
				      .body_cap = 1024};
		long status = 0;
		pthread_mutex_unlock(&ep->mu);
		int rc = http_request(&rq, &status, NULL, err, errlen);
		pthread_mutex_lock(&ep->mu);
		if (rc == 0 && status >= 200 && status < 300)
			return 1;
		/* The URL is the credential for Slack and Teams: only its host is shown. */
		char *shown = url_redact(ep->url, 1);
		if (rc == 0) {
			snprintf(err, errlen, "%s answered HTTP %ld", shown, status);
		} else {
			char *why = xstrdup(err);
			snprintf(err, errlen, "%s: %s", shown, why);
			free(why);
		}
		free(shown);
		if (!retryable(rc, status))
			return 0;
	}
	return 0;
}

static void *ep_thread(void *arg)
{
	struct endpoint *ep = arg;
	char err[512];

	pthread_mutex_lock(&ep->mu);
	for (;;) {
		while (!ep->stop && ep->count == 0)
			pthread_cond_wait(&ep->cv, &ep->mu);
		if (ep->stop)
			break;
		struct job j = ep->q[ep->head];
		ep->head = (ep->head + 1) % ep->o.queue_cap;
		ep->count--;
		ep->busy = 1;
		ep->abandoned = 0;
		err[0] = '\0';
		int ok = deliver(ep, &j, err, sizeof(err));
		if (!ep->abandoned && ok)
			ep->sent++;
		if (!ep->abandoned && !ok) {
			ep->failed++;
			ep_warn(ep, j.cluster, "%s not delivered: %s", j.event,
				err[0] ? err : "stopped");
		}
		ep->busy = 0;
		pthread_cond_broadcast(&ep->cv);
		job_free(&j);
	}
	ep_unref_locked(ep);
	return NULL;
}

static unsigned event_mask(const struct notify_def *d)
{
	unsigned m = 0;
	if (d->events == NULL)
		return (1u << CCR_ARRAY_LEN(notified)) - 1;
	for (int i = 0; i < d->nevents; i++)
		for (size_t k = 0; k < CCR_ARRAY_LEN(notified); k++)
			if (strcmp(d->events[i], notified[k].name) == 0)
				m |= 1u << k;
	return m;
}

static struct endpoint *ep_start(const struct notify_def *d, const struct notify_opts *o)
{
	struct endpoint *ep = xcalloc(1, sizeof(*ep));
	pthread_condattr_t ca;

	ep->name = xstrdup(d->name ? d->name : "?");
	ep->url = xstrdup(d->url ? d->url : "");
	ep->kind = d->kind;
	ep->events = event_mask(d);
	ep->timeout_ms = d->timeout_ms > 0 ? d->timeout_ms : 10000;
	ep->retries = d->retries < 0 ? 0 : d->retries;
	ep->insecure = d->insecure;
	ep->o = *o;
	ep->q = xcalloc((size_t)o->queue_cap, sizeof(*ep->q));
	ep->refs = 2;
	pthread_mutex_init(&ep->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ep->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ep->th, NULL, ep_thread, ep) != 0) {
		fprintf(stderr,
			"ccrup: warning: notification '%s': cannot start a thread; "
			"it is disabled\n",
			ep->name);
		pthread_mutex_lock(&ep->mu);
		ep->refs = 1;
		ep_unref_locked(ep);
		return NULL;
	}
	return ep;
}

struct notify *notify_new_opts(const struct inventory *inv, const struct notify_opts *o)
{
	struct notify *n = xcalloc(1, sizeof(*n));
	struct notify_opts def = {64, 1000, 30000};

	if (o) {
		def.queue_cap = o->queue_cap > 0 ? o->queue_cap : def.queue_cap;
		def.backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : def.backoff_ms;
		def.backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : def.backoff_max_ms;
	}
	n->rd = redact_new_from_env();
	n->eps = xcalloc((size_t)(inv ? inv->nnotify : 0) + 1, sizeof(*n->eps));
	for (int i = 0; inv && i < inv->nnotify; i++) {
		struct endpoint *ep = ep_start(&inv->notify[i], &def);
		if (ep)
			n->eps[n->neps++] = ep;
	}
	return n;
}

struct notify *notify_new(const struct inventory *inv)
{
	return notify_new_opts(inv, NULL);
}

void notify_set_warn(struct notify *n, notify_warn_fn fn, void *arg)
{
	for (int i = 0; i < n->neps; i++) {
		pthread_mutex_lock(&n->eps[i]->mu);
		n->eps[i]->warn = fn;
		n->eps[i]->warn_arg = arg;
		pthread_mutex_unlock(&n->eps[i]->mu);
	}
}

static void enqueue(struct endpoint *ep, const char *body, const struct event *e)
{
	pthread_mutex_lock(&ep->mu);
	if (ep->count == ep->o.queue_cap) {
		struct job *old = &ep->q[ep->head];
		ep_warn(ep, e->cluster, "queue full (%d waiting): dropped the oldest (%s of %s)",
			ep->count, old->event, old->cluster ? old->cluster : "-");
		job_free(old);
		ep->head = (ep->head + 1) % ep->o.queue_cap;
		ep->count--;
		ep->dropped++;
	}
	struct job *j = &ep->q[(ep->head + ep->count) % ep->o.queue_cap];
	j->body = xstrdup(body);
	j->cluster = e->cluster ? xstrdup(e->cluster) : NULL;
	j->event = xstrdup(notify_event_name(e->kind));
	ep->count++;
	pthread_cond_broadcast(&ep->cv);
	pthread_mutex_unlock(&ep->mu);
}

void notify_event(const struct event *e, void *arg)
{
	struct notify *n = arg;
	char *bodies[3] = {NULL, NULL, NULL}; /* one per kind, built on first use */
	int bit = event_bit(e->kind);

	/* An outage still open from the run being resumed was announced when it began. */
	if (bit < 0 || e->local || (e->kind == EV_OUTAGE_START && e->elapsed_ms > 0))
		return;
	for (int i = 0; i < n->neps; i++) {
		struct endpoint *ep = n->eps[i];
		if (!(ep->events & (1u << bit)))
			continue;
		if (bodies[ep->kind] == NULL)
			bodies[ep->kind] = build_payload(n->rd, ep->kind, e);
		enqueue(ep, bodies[ep->kind], e);
	}
	for (size_t k = 0; k < CCR_ARRAY_LEN(bodies); k++)
		free(bodies[k]);
}

/* Give up what ep still holds; called with ep->mu held.  Returns how many. */
static int ep_abandon(struct endpoint *ep)
{
	int n = ep->count + (ep->busy && !ep->abandoned);
	if (n == 0)
		return 0;
	ep_warn(ep, NULL, "%d notification(s) not delivered in time; given up", n);
	while (ep->count > 0) {
		job_free(&ep->q[ep->head]);
		ep->head = (ep->head + 1) % ep->o.queue_cap;
		ep->count--;
	}
	if (ep->busy)
		ep->abandoned = 1;
	ep->failed += (unsigned long)n;
	pthread_cond_broadcast(&ep->cv);
	return n;
}

int notify_flush(struct notify *n, int64_t max_wait_ms)
{
	struct timespec ts = deadline_ts(max_wait_ms > 0 ? max_wait_ms : 0);
	int given_up = 0;

	for (int i = 0; i < n->neps; i++) {
		struct endpoint *ep = n->eps[i];
		int rc = 0;
		pthread_mutex_lock(&ep->mu);
		while ((ep->count > 0 || (ep->busy && !ep->abandoned)) && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&ep->cv, &ep->mu, &ts);
		given_up += ep_abandon(ep);
		pthread_mutex_unlock(&ep->mu);
	}
	return given_up;
}

void notify_get_stats(struct notify *n, struct notify_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < n->neps; i++) {
		struct endpoint *ep = n->eps[i];
		pthread_mutex_lock(&ep->mu);
		st->sent += ep->sent;
		st->failed += ep->failed;
		st->dropped += ep->dropped;
		st->pending += (unsigned long)ep->count + (ep->busy && !ep->abandoned);
		pthread_mutex_unlock(&ep->mu);
	}
}

void notify_free(struct notify *n)
{
	struct timespec ts = deadline_ts(FREE_GRACE_MS);
	if (n == NULL)
		return;
	for (int i = 0; i < n->neps; i++) {
		pthread_mutex_lock(&n->eps[i]->mu);
		n->eps[i]->stop = 1;
		pthread_cond_broadcast(&n->eps[i]->cv);
		pthread_mutex_unlock(&n->eps[i]->mu);
	}
	for (int i = 0; i < n->neps; i++) {
		struct endpoint *ep = n->eps[i];
		int rc = 0;
		pthread_mutex_lock(&ep->mu);
		while (ep->busy && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&ep->cv, &ep->mu, &ts);
		int orphan = ep->orphan = ep->busy;
		pthread_mutex_unlock(&ep->mu);
		if (orphan)
			pthread_detach(ep->th);
		else
			pthread_join(ep->th, NULL);
		pthread_mutex_lock(&ep->mu);
		ep_unref_locked(ep);
	}
	free(n->eps);
	redact_free(n->rd);
	free(n);
}

/* ---- notify --test ---- */

static json_t *test_payload(const struct notify_def *d, const char *text, const char *when)
{
	if (d->kind == NOTIFY_SLACK) {
		char *t = xasprintf(":wave: ccrup %s", text);
		json_t *o = json_pack("{s:s}", "text", t);
		free(t);
		return o;
	}
	if (d->kind == NOTIFY_TEAMS)
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:[{s:s, s:s}]}]}", "@type",
				 "MessageCard", "@context", "https://schema.org/extensions",
				 "summary", text, "themeColor", "2EB886", "title",
				 "ccrup: notification test", "text", text, "sections", "facts",
				 "name", "Time", "value", when);
	return json_pack("{s:s, s:n, s:n, s:n, s:n, s:s, s:s, s:n}", "event", "test", "cluster",
			 "phase", "step", "node", "text", text, "time", when, "outage_ms");
}

int notify_test(const struct inventory *inv, FILE *out)
{
	char when[32], err[512], host[256] = "?";
	int bad = 0;

	gethostname(host, sizeof(host) - 1);
	format_iso8601(now_wall_ms(), when, sizeof(when));
	if (inv->nnotify == 0) {
		fprintf(out, "%s: no notify: endpoints to test\n", inv->path);
		return 0;
	}
	for (int i = 0; i < inv->nnotify; i++) {
		const struct notify_def *d = &inv->notify[i];
		struct sbuf ev;
		sbuf_init(&ev);
		for (size_t k = 0; k < CCR_ARRAY_LEN(notified); k++)
			if (event_mask(d) & (1u << k))
				sbuf_addf(&ev, "%s%s", ev.len ? ", " : "", notified[k].name);
		char *text =
		    xasprintf("notification test from %s for %s: this endpoint ('%s') will be "
			      "sent %s",
			      host, inv->path, d->name ? d->name : "?", ev.buf);
		json_t *o = test_payload(d, text, when);
		char *body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		struct http_req rq = {.method = "POST",
				      .url = d->url,
				      .body = body,
				      .content_type = "application/json",
				      .timeout_ms = d->timeout_ms > 0 ? d->timeout_ms : 10000,
				      .insecure = d->insecure,
				      .body_cap = 1024};
		long status = 0;
		char *shown = url_redact(d->url, 1);
		err[0] = '\0';
		int rc = http_request(&rq, &status, NULL, err, sizeof(err));
		if (rc == 0 && status >= 200 && status < 300) {
			fprintf(out, "ok      %s (%s): %s answered HTTP %ld\n", d->name,
				d->kind == NOTIFY_SLACK	  ? "slack"
				: d->kind == NOTIFY_TEAMS ? "teams"
							  : "webhook",
				shown, status);
		} else {
			bad++;
			if (rc == 0)
				fprintf(out, "FAILED  %s: %s answered HTTP %ld\n", d->name, shown,
					status);
			else
				fprintf(out, "FAILED  %s: %s: %s\n", d->name, shown, err);
		}
		free(shown);
		free(body);
		free(text);
		json_decref(o);
		sbuf_release(&ev);
	}
	return bad;
}
