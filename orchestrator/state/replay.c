/*
 * replay.c — see replay.h.  The record table (what each type must carry)
 * is the single definition of the journal's meaning; docs/journal.md §1.4
 * is its prose.
 */
#include "replay.h"

#include "bind.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Times a journal may claim: 1970..2200, so no arithmetic on them overflows. */
#define WALL_MAX_MS 7258118400000LL

static const char *const jev_names[JEV_COUNT] = {
    [JEV_UNKNOWN] = "",
    [JEV_RUN_START] = "run-start",
    [JEV_BIND] = "bind",
    [JEV_FACT] = "fact",
    [JEV_RECORD] = "record",
    [JEV_SKIPPED] = "skipped",
    [JEV_GATE] = "gate",
    [JEV_ANSWER] = "answer",
    [JEV_OUTAGE_START] = "outage-start",
    [JEV_BEGIN] = "begin",
    [JEV_DONE] = "done",
    [JEV_OUTAGE_END] = "outage-end",
    [JEV_FAILED] = "failed",
    [JEV_REFUSED] = "refused",
    [JEV_INTERRUPTED] = "interrupted",
    [JEV_RUN_END] = "run-end",
    [JEV_WINDOW] = "window",
    [JEV_MARKER_TAKEN] = "marker-taken",
    [JEV_MARKER_BROKEN] = "marker-broken",
    [JEV_MARKER_RELEASED] = "marker-released",
    [JEV_REBIND] = "rebind",
    [JEV_ABANDONED] = "abandoned",
};

const char *jev_name(enum jev e)
{
	return e > JEV_UNKNOWN && e < JEV_COUNT ? jev_names[e] : "";
}

enum jev jev_parse(const char *name)
{
	for (int e = JEV_UNKNOWN + 1; name && e < JEV_COUNT; e++)
		if (strcmp(name, jev_names[e]) == 0)
			return (enum jev)e;
	return JEV_UNKNOWN;
}

/* ---- the record table ---- */

enum ftype {
	F_STR = 1, /* a string */
	F_OSTR,	   /* a string or null */
	F_INT,	   /* an integer that fits an int */
	F_MS,	   /* milliseconds: an integer in 0..WALL_MAX_MS */
	F_SMS,	   /* signed milliseconds: an integer in -WALL_MAX_MS..WALL_MAX_MS */
	F_OBJ,	   /* an object */
	F_BINDS,   /* a list of bindings: objects {"role": string, "host": string, "count"?: int} */
	F_BOOL,	   /* true or false */
};

struct field {
	const char *name;
	unsigned char type;
	unsigned char required;
};

#define STEP_FIELDS                                                                                \
	{"step", F_STR, 1},                                                                        \
	{                                                                                          \
		"node", F_OSTR, 1                                                                  \
	}

static const struct field f_run_start[] = {{"cluster", F_STR, 1},
					   {"playbook", F_STR, 0},
					   {"playbook_path", F_STR, 0},
					   {"playbook_sha256", F_STR, 1},
					   {"inventory_path", F_STR, 0},
					   {"inventory_sha256", F_STR, 1},
					   {"inventory_plan_sha256", F_STR, 0},
					   {"mode", F_STR, 0},
					   {"host", F_STR, 0},
					   {"pid", F_INT, 0},
					   {"vars", F_OBJ, 0},
					   {NULL, 0, 0}};
static const struct field f_bind[] = {
    {"role", F_STR, 1}, {"host", F_STR, 1}, {"count", F_INT, 0}, {NULL, 0, 0}};
static const struct field f_fact[] = {
    {"node", F_OSTR, 0}, {"name", F_STR, 1}, {"value", F_STR, 1}, {NULL, 0, 0}};
static const struct field f_record[] = {
    STEP_FIELDS, {"name", F_STR, 1}, {"value", F_STR, 1}, {"item", F_OSTR, 0}, {NULL, 0, 0}};
static const struct field f_skipped[] = {
    STEP_FIELDS, {"reason", F_STR, 0}, {"detail", F_STR, 0}, {"by", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_gate[] = {
    STEP_FIELDS, {"answer", F_STR, 1}, {"by", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_answer[] = {STEP_FIELDS, {"answer", F_STR, 1}, {NULL, 0, 0}};
static const struct field f_outage_start[] = {STEP_FIELDS, {"wall_ms", F_MS, 1}, {NULL, 0, 0}};
static const struct field f_begin[] = {
    STEP_FIELDS, {"wall_ms", F_MS, 0}, {"command", F_STR, 0}, {"boot_id", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_done[] = {
    STEP_FIELDS,	{"duration_ms", F_MS, 0}, {"operator_ms", F_MS, 0},
    {"exit", F_INT, 0}, {"by", F_STR, 0},	  {NULL, 0, 0}};
static const struct field f_outage_end[] = {
    STEP_FIELDS, {"wall_ms", F_MS, 1}, {"duration_ms", F_MS, 0}, {"by", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_failed[] = {
    STEP_FIELDS, {"reason", F_STR, 0}, {"exit", F_INT, 0}, {"rebind", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_rebind[] = {
    {"old", F_BINDS, 1}, {"new", F_BINDS, 1}, {"reason", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_interrupted[] = {STEP_FIELDS, {NULL, 0, 0}};
static const struct field f_run_end[] = {{"result", F_STR, 1}, {"detail", F_STR, 0}, {NULL, 0, 0}};
static const struct field f_window[] = {
    STEP_FIELDS, {"phase", F_STR, 0}, {"needed_ms", F_MS, 0}, {"left_ms", F_SMS, 0}, {NULL, 0, 0}};

static const struct field f_marker_taken[] = {{"marker", F_STR, 1}, {NULL, 0, 0}};
static const struct field f_marker_broken[] = {{"host", F_STR, 1}, {"was", F_STR, 1}, {NULL, 0, 0}};

static const struct field f_abandoned[] = {{"reason", F_STR, 1},
					   {"user", F_STR, 0},
					   {"host", F_STR, 0},
					   {"forced", F_BOOL, 0},
					   {NULL, 0, 0}};

static const struct field *const record_fields[JEV_COUNT] = {
    [JEV_RUN_START] = f_run_start,
    [JEV_BIND] = f_bind,
    [JEV_FACT] = f_fact,
    [JEV_RECORD] = f_record,
    [JEV_SKIPPED] = f_skipped,
    [JEV_GATE] = f_gate,
    [JEV_ANSWER] = f_answer,
    [JEV_OUTAGE_START] = f_outage_start,
    [JEV_BEGIN] = f_begin,
    [JEV_DONE] = f_done,
    [JEV_OUTAGE_END] = f_outage_end,
    [JEV_FAILED] = f_failed,
    [JEV_REFUSED] = f_failed,
    [JEV_INTERRUPTED] = f_interrupted,
    [JEV_RUN_END] = f_run_end,
    [JEV_WINDOW] = f_window,
    [JEV_MARKER_TAKEN] = f_marker_taken,
    [JEV_MARKER_BROKEN] = f_marker_broken,
    [JEV_REBIND] = f_rebind,
    [JEV_ABANDONED] = f_abandoned,
};

/* ---- private state ---- */

struct replay_int {
	json_t *index; /* "id\x1fnode" -> step index (integer) */
	/* Every step record of the current run in journal order, for replay_plan(). */
	struct seq_ent {
		int step; /* index into rp->steps at load time */
		int att;  /* index into that step's att */
	} * seq;
	int nseq;
	int rebind_line; /* line of the last rebind, 0 */
	int quit;	 /* the last step record was the operator's quit (or its confirm) */
	int *order;	 /* load-time step index -> index after replay_plan() reorder */
	int *at;	 /* plan index -> index into rp->steps, -1 (replay_plan) */
	struct replay_step *load; /* the steps in load order (replay_plan); owns att */
	int nat;
};

static void fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
    CCR_PRINTF(5, 6);

static void fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s:%d: %s", path, line, text);
	free(text);
}

int replay_parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, frac = 0;

	if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (parse_digits(s, 4, &y) || parse_digits(s + 5, 2, &mo) || parse_digits(s + 8, 2, &d) ||
	    parse_digits(s + 11, 2, &h) || parse_digits(s + 14, 2, &mi) ||
	    parse_digits(s + 17, 2, &sec))
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		if (parse_digits(p + 1, 3, &frac))
			return -1;
		p += 4;
	}
	if (strcmp(p, "Z") != 0 || y < 1970 || y > 2199 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

static const char *type_name(unsigned char t)
{
	switch (t) {
	case F_STR:
		return "a string";
	case F_OSTR:
		return "a string or null";
	case F_INT:
		return "an integer";
	case F_MS:
		return "a number of milliseconds (0 to 7258118400000)";
	case F_SMS:
		return "a number of milliseconds";
	case F_BINDS:
		return "a list of {\"role\": string, \"host\": string} objects";
	case F_BOOL:
		return "true or false";
	default:
		return "an object";
	}
}

static int binds_ok(json_t *v)
{
	size_t i;
	json_t *b;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, b)
	{
		json_t *c = json_object_get(b, "count");
		if (!json_is_string(json_object_get(b, "role")) ||
		    !json_is_string(json_object_get(b, "host")) ||
		    (c && !(json_is_integer(c) && json_integer_value(c) >= 0 &&
			    json_integer_value(c) <= INT_MAX)))
			return 0;
	}
	return 1;
}

static int field_ok(json_t *v, unsigned char t)
{
	json_int_t n = json_integer_value(v);
	switch (t) {
	case F_STR:
		return json_is_string(v);
	case F_OSTR:
		return json_is_string(v) || json_is_null(v);
	case F_INT:
		return json_is_integer(v) && n >= INT_MIN && n <= INT_MAX;
	case F_MS:
		return json_is_integer(v) && n >= 0 && n <= WALL_MAX_MS;
	case F_SMS:
		return json_is_integer(v) && n >= -WALL_MAX_MS && n <= WALL_MAX_MS;
	case F_BINDS:
		return binds_ok(v);
	case F_BOOL:
		return json_is_boolean(v);
	default:
		return json_is_object(v);
	}
}

/* Every member the record's type defines, checked before anything uses it. */
static int check_fields(json_t *rec, enum jev ev, const char *path, int line, int64_t *t, char *err,
			size_t errlen)
{
	const char *name = jev_name(ev);
	json_t *time = json_object_get(rec, "time"), *run_id = json_object_get(rec, "run_id");

	if (!json_is_string(time) || replay_parse_time(json_string_value(time), t) < 0) {
		fail(err, errlen, path, line,
		     "`%s` record: member \"time\" must be an ISO-8601 UTC time "
		     "(2026-11-21T10:31:07.412Z)",
		     name[0] ? name : json_string_value(json_object_get(rec, "event")));
		return -1;
	}
	if (!json_is_string(run_id)) {
		fail(err, errlen, path, line, "`%s` record: member \"run_id\" must be %s",
		     name[0] ? name : "unknown", run_id ? "a string" : "present");
		return -1;
	}
	for (const struct field *f = record_fields[ev]; f && f->name; f++) {
		json_t *v = json_object_get(rec, f->name);
		if (v == NULL && !f->required)
			continue;
		if (v == NULL || !field_ok(v, f->type)) {
			fail(err, errlen, path, line, "`%s` record: member \"%s\" %s %s", name,
			     f->name, v == NULL ? "is missing; it must be" : "must be",
			     type_name(f->type));
			return -1;
		}
	}
	return 0;
}

/* ---- pass 1 ---- */

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t jint(json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static void free_steps(struct replay *rp)
{
	struct replay_step *own = rp->in && rp->in->load ? rp->in->load : rp->steps;
	for (int i = 0; i < rp->nsteps; i++)
		free(own[i].att);
	free(rp->steps);
	if (rp->in) {
		free(rp->in->load);
		rp->in->load = NULL;
	}
}

static void reset_run(struct replay *rp)
{
	free_steps(rp);
	free(rp->binds);
	free(rp->values);
	free(rp->outages);
	free(rp->in->seq);
	free(rp->in->order);
	free(rp->in->at);
	json_decref(rp->in->index);
	struct replay_int *in = rp->in;
	int nruns = rp->nruns;
	const char *path = rp->path;
	memset(rp, 0, sizeof(*rp));
	memset(in, 0, sizeof(*in));
	rp->in = in;
	rp->nruns = nruns;
	rp->path = path;
	in->index = json_object();
}

static struct replay_step *step_of(struct replay *rp, json_t *rec, int *idx)
{
	const char *id = jstr(rec, "step"), *node = jstr(rec, "node");
	char *key = xasprintf("%s\x1f%s", id, node ? node : "");
	json_t *k = json_object_get(rp->in->index, key);
	int i;

	if (k) {
		i = (int)json_integer_value(k);
	} else {
		i = rp->nsteps;
		rp->steps = xreallocarray(rp->steps, (size_t)rp->nsteps + 1, sizeof(*rp->steps));
		struct replay_step *s = &rp->steps[rp->nsteps++];
		memset(s, 0, sizeof(*s));
		s->id = id;
		s->node = node;
		s->plan_index = -1;
		s->last_begin = s->last_end = -1;
		json_object_set_new(rp->in->index, key, json_integer(i));
	}
	free(key);
	*idx = i;
	return &rp->steps[i];
}

static int is_step_event(enum jev ev)
{
	return ev == JEV_RECORD || ev == JEV_SKIPPED || ev == JEV_GATE || ev == JEV_ANSWER ||
	       ev == JEV_OUTAGE_START || ev == JEV_BEGIN || ev == JEV_DONE ||
	       ev == JEV_OUTAGE_END || ev == JEV_FAILED || ev == JEV_REFUSED ||
	       ev == JEV_INTERRUPTED || ev == JEV_WINDOW;
}

static void step_event(struct replay *rp, json_t *rec, enum jev ev, int line, int64_t t)
{
	int si;
	struct replay_step *s = step_of(rp, rec, &si);
	s->att = xreallocarray(s->att, (size_t)s->natt + 1, sizeof(*s->att));
	struct replay_attempt *a = &s->att[s->natt];
	*a = (struct replay_attempt){.ev = ev,
				     .line = line,
				     .time_ms = t,
				     .wall_ms = jint(rec, "wall_ms", t),
				     .duration_ms = jint(rec, "duration_ms", 0),
				     .exit = (int)jint(rec, "exit", -1),
				     .by = jstr(rec, "by"),
				     .reason = jstr(rec, "reason"),
				     .detail = jstr(rec, "detail"),
				     .command = jstr(rec, "command"),
				     .boot_id = jstr(rec, "boot_id"),
				     .answer = jstr(rec, "answer"),
				     .rebind = jstr(rec, "rebind")};
	rp->in->seq = xreallocarray(rp->in->seq, (size_t)rp->in->nseq + 1, sizeof(*rp->in->seq));
	rp->in->seq[rp->in->nseq++] = (struct seq_ent){si, s->natt};
	/* "quit", then "confirm" where quitting asks twice (inside an outage); not a
	 * quit after the step failed: the failure is what stopped the run. */
	if (ev == JEV_ANSWER && a->answer != NULL)
		rp->in->quit = (strcmp(a->answer, "quit") == 0 && s->state != RS_FAILED &&
				s->state != RS_REFUSED) ||
			       (rp->in->quit && strcmp(a->answer, "confirm") == 0);
	else
		rp->in->quit = 0;
	s->natt++;
	switch (ev) {
	case JEV_BEGIN:
		s->state = RS_BEGUN;
		s->last_begin = s->natt - 1;
		s->start_ms = a->wall_ms;
		s->end_ms = 0;
		return;
	case JEV_INTERRUPTED:
		/* A stop before the step began leaves it pending. */
		if (s->state == RS_BEGUN)
			s->state = RS_INTERRUPTED;
		else
			return;
		break;
	case JEV_DONE:
		s->state = RS_DONE;
		break;
	case JEV_SKIPPED:
		s->state = RS_SKIPPED;
		break;
	case JEV_FAILED:
		s->state = RS_FAILED;
		rp->last_error = a->reason;
		break;
	case JEV_REFUSED:
		s->state = RS_REFUSED;
		rp->last_error = a->reason;
		break;
	default:
		return;
	}
	s->last_end = s->natt - 1;
	s->end_ms = t;
	if (ev == JEV_DONE) {
		int64_t from = t - a->duration_ms;
		if (s->last_begin < 0 || s->start_ms == 0 || s->start_ms > t)
			s->start_ms = from > 0 ? from : 0;
	} else if (ev == JEV_SKIPPED || s->start_ms == 0 || s->last_begin < 0) {
		s->start_ms = t;
	}
}

static int outage_event(struct replay *rp, json_t *rec, enum jev ev, int line, int64_t t, char *err,
			size_t errlen)
{
	struct replay_outage *o = rp->noutages ? &rp->outages[rp->noutages - 1] : NULL;
	int64_t w = jint(rec, "wall_ms", t);

	if (ev == JEV_OUTAGE_START) {
		if (o && o->end_ms == 0) {
			fail(err, errlen, rp->path, line,
			     "inconsistent journal: outage-start while the outage begun at line "
			     "%d is still open (rule: one outage at a time)",
			     o->start_line);
			return -1;
		}
		rp->outages =
		    xreallocarray(rp->outages, (size_t)rp->noutages + 1, sizeof(*rp->outages));
		rp->outages[rp->noutages++] = (struct replay_outage){.step = jstr(rec, "step"),
								     .node = jstr(rec, "node"),
								     .start_line = line,
								     .start_ms = w};
		return 0;
	}
	if (o == NULL || o->end_ms != 0) {
		fail(err, errlen, rp->path, line,
		     "inconsistent journal: outage-end without an open outage (rule: an "
		     "outage-end closes an outage-start)");
		return -1;
	}
	o->end_ms = w < o->start_ms ? o->start_ms : w;
	o->end_line = line;
	o->end_step = jstr(rec, "step");
	o->end_node = jstr(rec, "node");
	rp->outage_total_ms += o->end_ms - o->start_ms;
	return 0;
}

static void add_bind(struct replay *rp, json_t *rec, int line)
{
	/* Bindings come before the first step; one after steps ran is a rebind. */
	if (rp->in->nseq > 0) {
		rp->rebound = 1;
		rp->in->rebind_line = line;
	}
	rp->binds = xreallocarray(rp->binds, (size_t)rp->nbinds + 1, sizeof(*rp->binds));
	rp->binds[rp->nbinds++] = (struct replay_binding){jstr(rec, "role"), jstr(rec, "host"),
							  (int)jint(rec, "count", 0), line};
}

/* A rebind: the bindings start over from its "new" list. */
static void rebind(struct replay *rp, json_t *rec, int line)
{
	json_t *list = json_object_get(rec, "new"), *b;
	size_t i;

	rp->rebinds++;
	rp->rebind_line = line;
	rp->last_error = NULL; /* about the earlier roles */
	rp->rebound = 1;
	rp->in->rebind_line = line;
	rp->nbinds = 0;
	rp->binds = xreallocarray(rp->binds, json_array_size(list) + 1, sizeof(*rp->binds));
	json_array_foreach(list, i, b) rp->binds[rp->nbinds++] = (struct replay_binding){
	    jstr(b, "role"), jstr(b, "host"), (int)jint(b, "count", 0), line};
}

static void add_value(struct replay *rp, json_t *rec, int line)
{
	rp->values = xreallocarray(rp->values, (size_t)rp->nvalues + 1, sizeof(*rp->values));
	rp->values[rp->nvalues++] =
	    (struct replay_value){jstr(rec, "step"), jstr(rec, "node"),	 jstr(rec, "name"),
				  jstr(rec, "item"), jstr(rec, "value"), line};
}

static int run_start(struct replay *rp, json_t *rec, int line, int64_t t, const char *cluster,
		     char *err, size_t errlen)
{
	reset_run(rp);
	rp->nruns++;
	rp->start_line = line;
	rp->run_id = jstr(rec, "run_id");
	rp->cluster = jstr(rec, "cluster");
	rp->mode = jstr(rec, "mode");
	rp->host = jstr(rec, "host");
	rp->playbook = jstr(rec, "playbook");
	rp->playbook_sha256 = jstr(rec, "playbook_sha256");
	rp->inventory_sha256 = jstr(rec, "inventory_sha256");
	rp->start_ms = t;
	if (cluster && strcmp(cluster, rp->cluster) != 0) {
		fail(err, errlen, rp->path, line,
		     "inconsistent journal: this is the journal of cluster %s, not of %s (rule: "
		     "a cluster's journal names it)",
		     rp->cluster, cluster);
		return -1;
	}
	return 0;
}

/* One record: fields first, then the run-level rules, then fold it in. */
static int load_record(struct replay *rp, json_t *rec, int line, const char *cluster, char *err,
		       size_t errlen)
{
	const char *evname = jstr(rec, "event");
	enum jev ev = jev_parse(evname);
	int64_t t = 0;

	if (evname == NULL) {
		fail(err, errlen, rp->path, line, "record has no string member \"event\"");
		return -1;
	}
	if (check_fields(rec, ev, rp->path, line, &t, err, errlen) < 0)
		return -1;
	if (ev == JEV_RUN_START)
		return run_start(rp, rec, line, t, cluster, err, errlen);
	if (rp->nruns == 0) {
		fail(err, errlen, rp->path, line,
		     "inconsistent journal: `%s` before any run-start (rule: a journal begins "
		     "with run-start)",
		     evname);
		return -1;
	}
	if (strcmp(jstr(rec, "run_id"), rp->run_id) != 0) {
		fail(err, errlen, rp->path, line,
		     "inconsistent journal: run id %s in run %s begun at line %d (rule: one run "
		     "id per run)",
		     jstr(rec, "run_id"), rp->run_id, rp->start_line);
		return -1;
	}
	rp->last_ms = t;
	if (ev == JEV_UNKNOWN)
		return 0; /* a newer writer's record: readers ignore what they do not know */
	/* The run marker's records say where the marker is, not where the steps are: they
	 * neither resume an ended run nor settle a step. */
	if (ev == JEV_MARKER_TAKEN || ev == JEV_MARKER_BROKEN || ev == JEV_MARKER_RELEASED)
		return 0;
	if (ev == JEV_ABANDONED) { /* ends the run like a run-end, for good */
		rp->result = "abandoned";
		rp->result_detail = jstr(rec, "reason");
		rp->abandoned_by = jstr(rec, "user");
		rp->end_ms = t;
		rp->end_line = line;
		rp->last_error = NULL;
		return 0;
	}
	if (ev == JEV_RUN_END) {
		rp->result = jstr(rec, "result");
		rp->result_detail = jstr(rec, "detail");
		rp->operator_stopped =
		    rp->in->quit && rp->result != NULL && strcmp(rp->result, "interrupted") == 0;
		rp->end_ms = t;
		rp->end_line = line;
		if (rp->result_detail)
			rp->last_error = rp->result_detail;
		return 0;
	}
	/* Anything after a run-end: the run was resumed. */
	rp->operator_stopped = 0;
	rp->result = NULL;
	rp->result_detail = NULL;
	rp->end_ms = 0;
	rp->end_line = 0;
	if (ev == JEV_BIND)
		add_bind(rp, rec, line);
	else if (ev == JEV_REBIND)
		rebind(rp, rec, line);
	else if (ev == JEV_RECORD)
		add_value(rp, rec, line);
	if ((ev == JEV_OUTAGE_START || ev == JEV_OUTAGE_END) &&
	    outage_event(rp, rec, ev, line, t, err, errlen) < 0)
		return -1;
	if (is_step_event(ev))
		step_event(rp, rec, ev, line, t);
	return 0;
}

struct replay *replay_load(const struct journal *j, const char *cluster, char *err, size_t errlen)
{
	struct replay *rp = xcalloc(1, sizeof(*rp));

	rp->in = xcalloc(1, sizeof(*rp->in));
	rp->in->index = json_object();
	rp->path = j ? journal_path(j) : "";
	for (size_t i = 0; j && i < journal_count(j); i++)
		if (load_record(rp, journal_record(j, i), (int)i + 1, cluster, err, errlen) < 0) {
			replay_free(rp);
			return NULL;
		}
	if (rp->start_ms && rp->last_ms == 0)
		rp->last_ms = rp->start_ms;
	return rp;
}

const char *replay_binding(const struct replay *rp, const char *role)
{
	for (int i = 0; i < rp->nbinds; i++)
		if (strcmp(rp->binds[i].role, role) == 0)
			return rp->binds[i].host;
	return NULL;
}

int replay_roles(const struct replay *rp, const struct playbook *pb, const struct inventory *inv,
		 struct role_binding **roles, int *n)
{
	*roles = NULL;
	*n = 0;
	for (int i = 0; i < rp->nbinds; i++) {
		const struct role_def *d = playbook_role(pb, rp->binds[i].role);
		const struct host_def *h = inventory_host(inv, rp->binds[i].host);
		if (d == NULL || h == NULL)
			continue;
		*roles = xreallocarray(*roles, (size_t)*n + 1, sizeof(**roles));
		(*roles)[(*n)++] = (struct role_binding){d->name, h->name, 0, rp->binds[i].of};
	}
	return bind_complete(pb, *roles, n);
}

struct plan *replay_compile_plan(const struct replay *rp, const struct playbook *pb,
				 const struct inventory *inv, const struct cluster_def *cl,
				 char *err, size_t errlen)
{
	struct role_binding *roles = NULL;
	int n = 0;

	if (!replay_roles(rp, pb, inv, &roles, &n)) {
		free(roles);
		roles = NULL;
		if (plan_assume_roles(pb, cl, &roles, &n, err, errlen) < 0)
			n = 0;
	}
	struct plan *p = plan_compile(pb, inv, cl, roles, n, err, errlen);
	free(roles);
	return p;
}

/* ---- pass 2 ---- */

static int settled(enum replay_state st)
{
	return st == RS_DONE || st == RS_SKIPPED;
}

static const char *state_word(enum replay_state st)
{
	static const char *const w[] = {"pending", "in progress", "done",	"skipped",
					"failed",  "refused",	  "interrupted"};
	return w[st];
}

/* Did the operator (or a gate) settle step s just before attempt k? */
static int answered(const struct replay_step *s, int k, enum jev ev, const char *answer)
{
	for (int i = k - 1; i >= 0; i--) {
		const struct replay_attempt *a = &s->att[i];
		if (a->ev == ev)
			return a->answer && strcmp(a->answer, answer) == 0;
		if (a->ev != JEV_RECORD && a->ev != JEV_ANSWER && a->ev != JEV_GATE)
			return 0;
	}
	return 0;
}

struct sim {
	enum replay_state *st; /* per plan step, as the records go */
	int *begun;	       /* attempt index of the open begin, -1 */
	const char **boot;     /* the open begin's boot id (it may be another step's record:
				  one done before a rebind under another role), or NULL */
};

/* The plan-level rules for one record about plan step pi. */
static int check_step_record(const struct replay *rp, const struct plan *p, struct sim *sm,
			     const struct replay_step *s, int k, char *err, size_t errlen)
{
	const struct replay_attempt *a = &s->att[k];
	const struct plan_step *ps = &p->steps[s->plan_index];
	int pi = s->plan_index;

	for (int i = 0; i < pi && a->ev != JEV_INTERRUPTED; i++)
		if (!settled(sm->st[i])) {
			fail(err, errlen, rp->path, a->line,
			     "inconsistent journal: `%s` of step %s on %s while step %d %s on %s "
			     "is %s (rule: steps in plan order)",
			     jev_name(a->ev), s->id, s->node ? s->node : "-", i + 1, p->steps[i].id,
			     p->steps[i].node ? p->steps[i].node : "-", state_word(sm->st[i]));
			return -1;
		}
	if (a->ev == JEV_BEGIN && ps->def->reboot.when != REBOOT_NEVER &&
	    (a->boot_id == NULL || a->boot_id[0] == '\0')) {
		fail(err, errlen, rp->path, a->line,
		     "inconsistent journal: `begin` of reboot step %s on %s without the boot id "
		     "it is checked by (rule: reboot evidence)",
		     s->id, s->node ? s->node : "-");
		return -1;
	}
	if (a->ev == JEV_DONE) {
		int ok = sm->begun[pi] >= 0 || ps->kind == PSTEP_ASSERT ||
			 (ps->kind == PSTEP_GATE && answered(s, k, JEV_GATE, "yes")) ||
			 answered(s, k, JEV_ANSWER, "mark-done");
		if (!ok) {
			fail(err, errlen, rp->path, a->line,
			     "inconsistent journal: `done` of step %s on %s without its `begin` "
			     "(rule: done only after begin, a gate's yes or an operator's "
			     "mark-done)",
			     s->id, s->node ? s->node : "-");
			return -1;
		}
		if (a->by && strcmp(a->by, "resume: reboot observed") == 0 &&
		    (sm->begun[pi] < 0 || sm->boot[pi] == NULL)) {
			fail(err, errlen, rp->path, a->line,
			     "inconsistent journal: step %s on %s is settled by a reboot, but its "
			     "`begin` has no boot id (rule: reboot evidence)",
			     s->id, s->node ? s->node : "-");
			return -1;
		}
	}
	return 0;
}

static void sim_apply(struct sim *sm, int pi, const struct replay_attempt *a, int k)
{
	switch (a->ev) {
	case JEV_BEGIN:
		sm->st[pi] = RS_BEGUN;
		sm->begun[pi] = k;
		sm->boot[pi] = a->boot_id;
		return;
	case JEV_INTERRUPTED:
		if (sm->st[pi] == RS_BEGUN)
			sm->st[pi] = RS_INTERRUPTED;
		return;
	case JEV_DONE:
		sm->st[pi] = RS_DONE;
		break;
	case JEV_SKIPPED:
		sm->st[pi] = RS_SKIPPED;
		break;
	case JEV_FAILED:
		sm->st[pi] = RS_FAILED;
		break;
	case JEV_REFUSED:
		sm->st[pi] = RS_REFUSED;
		break;
	default:
		return;
	}
	sm->begun[pi] = -1;
}

static int check_order(const struct replay *rp, const struct plan *p, char *err, size_t errlen)
{
	struct sim sm;
	int rc = 0;

	sm.st = xcalloc((size_t)p->nsteps + 1, sizeof(*sm.st));
	sm.begun = xcalloc((size_t)p->nsteps + 1, sizeof(*sm.begun));
	sm.boot = xcalloc((size_t)p->nsteps + 1, sizeof(*sm.boot));
	for (int i = 0; i < p->nsteps; i++)
		sm.begun[i] = -1;
	for (int q = 0; q < rp->in->nseq && rc == 0; q++) {
		const struct replay_step *s = &rp->steps[rp->in->order[rp->in->seq[q].step]];
		int k = rp->in->seq[q].att;
		if (s->plan_index < 0)
			continue;
		/* After a rebind the plan changed under the earlier records: they are
		 * checked for fields only. */
		if (s->att[k].line > rp->in->rebind_line)
			rc = check_step_record(rp, p, &sm, s, k, err, errlen);
		sim_apply(&sm, s->plan_index, &s->att[k], k);
	}
	if (rc == 0 && rp->result && strcmp(rp->result, "done") == 0)
		for (int i = 0; i < p->nsteps; i++)
			if (!settled(sm.st[i])) {
				fail(err, errlen, rp->path, rp->end_line,
				     "inconsistent journal: run-end says done, but step %d %s on "
				     "%s is %s (rule: a run is done when every step is)",
				     i + 1, p->steps[i].id,
				     p->steps[i].node ? p->steps[i].node : "-",
				     state_word(sm.st[i]));
				rc = -1;
				break;
			}
	free(sm.st);
	free(sm.begun);
	free(sm.boot);
	return rc;
}

/* The plan index of the step that ends an outage begun at plan index from, or -1. */
static int outage_end_index(const struct plan *p, int from)
{
	for (int i = from; i >= 0 && i < p->nsteps; i++)
		if (p->steps[i].def->outage == OUTAGE_ENDS ||
		    p->steps[i].def->outage == OUTAGE_WITHIN)
			return i;
	return -1;
}

int replay_pinned(const struct replay *rp, const struct playbook *pb)
{
	return rp->playbook_sha256 && strcmp(rp->playbook_sha256, pb->sha256) == 0;
}

int replay_step_op_skipped(const struct replay_step *s)
{
	const struct replay_attempt *end = s->last_end >= 0 ? &s->att[s->last_end] : NULL;
	return s->state == RS_SKIPPED && end && end->reason &&
	       strcmp(end->reason, REPLAY_SKIP_OPERATOR) == 0;
}

/*
 * An open outage whose ending step is settled is over: at that step's end.
 * Skipped by the operator, the step is still to do and the outage goes on.
 */
static void derive_outages(struct replay *rp, const struct plan *p)
{
	struct replay_outage *o = rp->noutages ? &rp->outages[rp->noutages - 1] : NULL;
	const struct plan_step *from;

	if (o == NULL || o->end_ms != 0 || o->step == NULL)
		return;
	from = plan_find(p, o->step, o->node);
	int e = from ? outage_end_index(p, from->index - 1) : -1;
	const struct replay_step *s = e >= 0 ? replay_step_at(rp, e) : NULL;
	if (s == NULL || !settled(s->state) || replay_step_op_skipped(s))
		return;
	o->end_ms = s->end_ms < o->start_ms ? o->start_ms : s->end_ms;
	o->end_step = s->id;
	o->end_node = s->node;
	o->implied = 1;
	rp->outage_total_ms += o->end_ms - o->start_ms;
}

/* The definition a journal step id ("phase.step" or "phase.step[item]") names in pb, or NULL. */
static const struct step_def *def_of(const struct playbook *pb, const char *id, const char **item,
				     size_t *itemlen)
{
	const char *dot = strchr(id, '.');
	if (dot == NULL)
		return NULL;
	const char *sid = dot + 1, *br = strchr(sid, '[');
	size_t plen = (size_t)(dot - id), slen = br ? (size_t)(br - sid) : strlen(sid);
	*item = br ? br + 1 : NULL;
	*itemlen = br && strlen(br) >= 2 ? strlen(br) - 2 : 0;
	for (int i = 0; i < pb->nphases; i++) {
		const struct phase_def *ph = &pb->phases[i];
		if (strlen(ph->id) != plen || strncmp(ph->id, id, plen) != 0)
			continue;
		for (int k = 0; k < ph->nsteps; k++)
			if (strlen(ph->steps[k].id) == slen &&
			    strncmp(ph->steps[k].id, sid, slen) == 0)
				return &ph->steps[k];
	}
	return NULL;
}

/*
 * Is s (records no plan step names) the same work as plan step ps under
 * the roles before a rebind?  The same sequence step and item on the same
 * node, or the same gate (it asks a person, on no node's behalf).
 */
static int same_work(const struct plan *p, const struct plan_step *ps, const struct replay_step *s)
{
	const char *item;
	size_t itemlen;
	const struct step_def *d = def_of(p->pb, s->id, &item, &itemlen);

	if (d == NULL)
		return 0;
	if (d == ps->def)
		return ps->kind == PSTEP_GATE;
	if (!s->node || !ps->node || !str_ieq(s->node, ps->node))
		return 0;
	if ((item == NULL) != (ps->item == NULL) ||
	    (item && (strlen(ps->item) != itemlen || strncmp(item, ps->item, itemlen) != 0)))
		return 0;
	return d->from_sequence && ps->def->from_sequence &&
	       strcmp(d->from_sequence, ps->def->from_sequence) == 0 &&
	       strcmp(d->id, ps->def->id) == 0;
}

/* After a rebind: plan steps no record names take the records of the same work (replay.h). */
static void carry_over(struct replay *rp, const struct plan *p, struct replay_step *copy)
{
	for (int pi = 0; rp->rebinds && pi < p->nsteps; pi++) {
		for (int i = 0; i < rp->nsteps; i++) {
			enum replay_state st = copy[i].state;
			/* What ended in failure or a refusal is to do again: not carried. */
			if (copy[i].plan_index >= 0 || st == RS_PENDING || st == RS_FAILED ||
			    st == RS_REFUSED || !same_work(p, &p->steps[pi], &copy[i]))
				continue;
			copy[i].plan_index = pi;
			if (rp->in->at[pi] < 0)
				rp->in->at[pi] = i;
			break;
		}
	}
}

int replay_plan(struct replay *rp, const struct plan *p, int strict, char *err, size_t errlen)
{
	struct replay_int *in = rp->in;
	int n = 0;

	/* Always from load order, so the plan may be given again (another plan). */
	if (in->load == NULL) {
		in->load = xcalloc((size_t)rp->nsteps + 1, sizeof(*in->load));
		if (rp->nsteps)
			memcpy(in->load, rp->steps, (size_t)rp->nsteps * sizeof(*rp->steps));
	}
	struct replay_step *copy = in->load;

	free(in->order);
	free(in->at);
	in->order = xcalloc((size_t)rp->nsteps + 1, sizeof(*in->order));
	in->at = xcalloc((size_t)p->nsteps + 1, sizeof(*in->at));
	in->nat = p->nsteps;
	for (int i = 0; i < p->nsteps; i++)
		in->at[i] = -1;
	for (int i = 0; i < rp->nsteps; i++) {
		const struct plan_step *ps = plan_find(p, copy[i].id, copy[i].node);
		copy[i].plan_index = ps ? ps->index - 1 : -1;
		if (ps)
			in->at[ps->index - 1] = i;
	}
	carry_over(rp, p, copy);
	/* Plan order first, then the rest (the steps the plan does not know, and
	 * work done before a rebind that a later record of its step supersedes), in
	 * journal order; order[] maps a load-time index to its new place (the record
	 * sequence uses it). */
	char *placed = xcalloc((size_t)rp->nsteps + 1, 1);
	for (int pi = 0; pi < p->nsteps; pi++)
		if (in->at[pi] >= 0) {
			placed[in->at[pi]] = 1;
			in->order[in->at[pi]] = n;
			rp->steps[n] = copy[in->at[pi]];
			in->at[pi] = n++;
		}
	for (int i = 0; i < rp->nsteps; i++)
		if (!placed[i]) {
			in->order[i] = n;
			rp->steps[n++] = copy[i];
		}
	free(placed);
	derive_outages(rp, p);
	if (strict && check_order(rp, p, err, errlen) < 0)
		return -1;
	return 0;
}

const struct replay_step *replay_step_at(const struct replay *rp, int i)
{
	if (rp->in->at == NULL || i < 0 || i >= rp->in->nat || rp->in->at[i] < 0)
		return NULL;
	return &rp->steps[rp->in->at[i]];
}

const struct replay_outage *replay_open_outage(const struct replay *rp)
{
	const struct replay_outage *o = rp->noutages ? &rp->outages[rp->noutages - 1] : NULL;
	return o && o->end_ms == 0 ? o : NULL;
}

void replay_free(struct replay *rp)
{
	if (rp == NULL)
		return;
	free_steps(rp);
	free(rp->binds);
	free(rp->values);
	free(rp->outages);
	if (rp->in) {
		free(rp->in->seq);
		free(rp->in->order);
		free(rp->in->at);
		json_decref(rp->in->index);
		free(rp->in);
	}
	free(rp);
}
