/*
 * evjson.c — see evjson.h.
 */
#include "evjson.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "util.h"

struct evjson {
	FILE *fp;
	pthread_mutex_t mu;
	long seq;
	struct redact *rd;
	int64_t outage_ms; /* sum of the outages seen, for the summary */
};

static const struct {
	enum ev_kind kind;
	const char *name;
} names[] = {
    {EV_RUN_START, "run-start"},
    {EV_RUN_END, "run-end"},
    {EV_BIND, "bind"},
    {EV_PHASE_START, "phase-start"},
    {EV_STEP_START, "step-begin"},
    {EV_STEP_SKIPPED, "step-skipped"},
    {EV_STEP_DONE, "step-done"},
    {EV_STEP_FAILED, "step-failed"},
    {EV_STEP_REFUSED, "step-refused"},
    {EV_CMD_START, "command-start"},
    {EV_CMD_OUTPUT, "output"},
    {EV_CMD_END, "command-end"},
    {EV_WAITING, "waiting"},
    {EV_OUTAGE_START, "outage-start"},
    {EV_OUTAGE_END, "outage-end"},
    {EV_GATE, "gate"},
    {EV_INFO, "info"},
    {EV_WARN, "warning"},
    {EV_RUN_REFUSED, "refusal"},
};

const char *evjson_name(enum ev_kind k)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(names); i++)
		if (names[i].kind == k)
			return names[i].name;
	return NULL;
}

struct evjson *evjson_new(FILE *fp)
{
	struct evjson *j = xcalloc(1, sizeof(*j));
	j->fp = fp;
	j->rd = redact_new_from_env();
	pthread_mutex_init(&j->mu, NULL);
	return j;
}

void evjson_free(struct evjson *j)
{
	if (j == NULL)
		return;
	fflush(j->fp);
	redact_free(j->rd);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/* A text as the stream carries it: redacted, valid UTF-8; null when absent. */
static json_t *text(const struct evjson *j, const char *s)
{
	if (s == NULL)
		return json_null();
	char *r = redact_apply(j->rd, s);
	char *u = audit_utf8_copy(r, strlen(r));
	json_t *v = json_string(u);
	free(r);
	free(u);
	return v ? v : json_null();
}

static void set_text(const struct evjson *j, json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, text(j, s));
}

/* Keys every step event has. */
static void step_keys(const struct evjson *j, json_t *o, const struct event *e)
{
	set_text(j, o, "phase", e->phase);
	set_text(j, o, "step", e->step);
	set_text(j, o, "node", e->node);
	json_object_set_new(o, "index", e->index ? json_integer(e->index) : json_null());
}

static void kind_keys(const struct evjson *j, json_t *o, const struct event *e)
{
	switch (e->kind) {
	case EV_BATCH: /* not in the stream: its parts are (command-end) */
		break;
	case EV_RUN_START:
	case EV_RUN_END:
	case EV_BIND:
	case EV_INFO:
	case EV_WARN:
		set_text(j, o, e->kind == EV_RUN_END ? "result" : "text", e->text);
		if (e->kind == EV_RUN_START)
			json_object_set_new(o, "outage_before_ms",
					    json_integer(e->duration_ms > 0 ? e->duration_ms : 0));
		break;
	case EV_PHASE_START:
		set_text(j, o, "name", e->text);
		break;
	case EV_STEP_START:
		set_text(j, o, "name", e->name);
		set_text(j, o, "command", e->command);
		set_text(j, o, "why", e->text);
		set_text(j, o, "found", e->detail);
		set_text(j, o, "next", e->next);
		set_text(j, o, "stakes", e->stakes);
		break;
	case EV_STEP_SKIPPED:
		set_text(j, o, "reason", e->text);
		json_object_set_new(o, "operator_ms", json_integer(e->wait_ms));
		break;
	case EV_STEP_DONE:
		json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
		json_object_set_new(o, "operator_ms", json_integer(e->wait_ms));
		json_object_set_new(o, "exit", e->exit >= 0 ? json_integer(e->exit) : json_null());
		set_text(j, o, "by", e->text);
		break;
	case EV_STEP_FAILED:
	case EV_STEP_REFUSED:
	case EV_RUN_REFUSED:
		set_text(j, o, "reason", e->text);
		set_text(j, o, "next", e->detail);
		json_object_set_new(o, "exit", e->exit >= 0 ? json_integer(e->exit) : json_null());
		break;
	case EV_CMD_START:
		set_text(j, o, "command", e->text ? e->text : e->command);
		json_object_set_new(o, "timeout_ms", json_integer(e->budget_ms));
		break;
	case EV_CMD_OUTPUT:
		json_object_set_new(o, "stream", json_string(e->exit == 2 ? "stderr" : "stdout"));
		set_text(j, o, "text", e->text);
		break;
	case EV_CMD_END:
		set_text(j, o, "command", e->command);
		json_object_set_new(o, "exit", json_integer(e->exit));
		json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
		json_object_set_new(o, "probe", json_boolean(e->step == NULL));
		break;
	case EV_WAITING:
		set_text(j, o, "text", e->text);
		json_object_set_new(o, "elapsed_ms", json_integer(e->elapsed_ms));
		json_object_set_new(o, "budget_ms", json_integer(e->budget_ms));
		break;
	case EV_OUTAGE_START:
		set_text(j, o, "service", e->detail);
		set_text(j, o, "impact", e->text);
		json_object_set_new(o, "estimate_ms", json_integer(e->budget_ms));
		break;
	case EV_OUTAGE_END:
		set_text(j, o, "service", e->detail);
		json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
		break;
	case EV_GATE:
		set_text(j, o, "question", e->text);
		set_text(j, o, "by", e->detail);
		break;
	}
}

static void emit(struct evjson *j, json_t *o)
{
	char ts[32];
	json_t *line = json_object();
	pthread_mutex_lock(&j->mu);
	format_iso8601(now_wall_ms(), ts, sizeof(ts));
	json_object_set_new(line, "format", json_string(EVJSON_FORMAT));
	json_object_set_new(line, "seq", json_integer(++j->seq));
	json_object_set_new(line, "time", json_string(ts));
	json_object_update(line, o);
	char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		fputs(s, j->fp);
		fputc('\n', j->fp);
		fflush(j->fp);
	}
	pthread_mutex_unlock(&j->mu);
	free(s);
	json_decref(line);
}

void evjson_event(const struct event *e, void *arg)
{
	struct evjson *j = arg;
	const char *name = evjson_name(e->kind);
	if (name == NULL)
		return;
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(name));
	set_text(j, o, "cluster", e->cluster);
	if (e->kind != EV_RUN_START && e->kind != EV_RUN_END)
		step_keys(j, o, e);
	kind_keys(j, o, e);
	if (e->kind == EV_OUTAGE_END) {
		pthread_mutex_lock(&j->mu);
		j->outage_ms += e->duration_ms;
		pthread_mutex_unlock(&j->mu);
	}
	emit(j, o);
	json_decref(o);
}

/* [{"cluster", "result", "exit"}, ...], or just the names when results is 0. */
static json_t *cluster_list(const struct evjson *j, const struct evjson_cluster *c, int n,
			    int results)
{
	json_t *all = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(
		    all, results ? json_pack("{s:o, s:s, s:o}", "cluster", text(j, c[i].name),
					     "result", c[i].result, "exit",
					     c[i].exit >= 0 ? json_integer(c[i].exit) : json_null())
				 : text(j, c[i].name));
	return all;
}

void evjson_batch_start(struct evjson *j, const struct evjson_batch *b)
{
	json_t *o = json_pack("{s:s, s:i, s:i, s:o}", "event", "batch-start", "batch", b->batch,
			      "batches", b->batches, "clusters", cluster_list(j, b->c, b->n, 0));
	emit(j, o);
	json_decref(o);
}

void evjson_batch_end(struct evjson *j, const struct evjson_batch *b)
{
	int done = 0, failed = 0, notrun = 0;
	for (int i = 0; i < b->n; i++) {
		done += b->c[i].exit == 0;
		notrun += b->c[i].exit < 0;
		failed += b->c[i].exit > 0;
	}
	json_t *o =
	    json_pack("{s:s, s:i, s:i, s:s, s:i, s:i, s:i, s:I, s:I, s:o, s:i, s:i, s:i, s:s, s:o}",
		      "event", "batch-end", "batch", b->batch, "batches", b->batches, "outcome",
		      b->outcome, "done", done, "failed", failed, "not_started", notrun,
		      "outage_ms", (json_int_t)b->outage_ms, "longest_outage_ms",
		      (json_int_t)b->longest_ms, "longest_outage_cluster", text(j, b->longest),
		      "outages_open", b->outages_open, "failures", b->failed_total, "max_failed",
		      b->max_failed, "then", b->then, "clusters", cluster_list(j, b->c, b->n, 1));
	emit(j, o);
	json_decref(o);
}

void evjson_batch_declined(struct evjson *j, const struct evjson_batch *b)
{
	json_t *o = json_pack("{s:s, s:i, s:i, s:o}", "event", "batch-declined", "batch", b->batch,
			      "batches", b->batches, "clusters", cluster_list(j, b->c, b->n, 0));
	emit(j, o);
	json_decref(o);
}

void evjson_summary(struct evjson *j, int exit_code, const struct evjson_cluster *c, int n)
{
	json_t *all = cluster_list(j, c, n, 1);
	int done = 0;
	for (int i = 0; i < n; i++)
		done += c[i].exit == 0;
	pthread_mutex_lock(&j->mu);
	int64_t outage = j->outage_ms;
	pthread_mutex_unlock(&j->mu);
	json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:I, s:o}", "event", "summary", "exit",
			      exit_code, "clusters_total", n, "clusters_done", done, "outage_ms",
			      (json_int_t)outage, "clusters", all);
	emit(j, o);
	json_decref(o);
}
