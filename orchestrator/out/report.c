/*
 * report.c — see report.h.  Loading: what the journal and the audit log say
 * about a cluster's current run, folded into one struct report_cluster that
 * the HTML (report_html.c) and the timeline (report_svg.c) only read.
 *
 * The journal is authoritative for what happened and when; the plan (if a
 * playbook is given) adds the steps that have not run yet, and the audit
 * log adds what the failed commands printed.  A record after a run-end
 * means the run was resumed, so the result is only the last run-end's if
 * nothing follows it.
 */
#include "report.h"

#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsafe.h"
#include "audit.h"
#include "bind.h"
#include "journal.h"
#include "state.h"
#include "plan.h"
#include "runner.h"

#define AUDIT_READ_MAX (32u << 20) /* the audit log's last 32 MiB are read */
#define EXCERPT_LINES  30	   /* lines of output kept per failed step */
#define EXCERPT_BYTES  4096

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int report_parse_time(const char *s, int64_t *ms)
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
	if (strcmp(p, "Z") != 0)
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

/* ---- the plan: steps not run yet ---- */

static long last_run_start(struct journal *j)
{
	for (long i = (long)journal_count(j) - 1; i >= 0; i--) {
		const char *ev = jstr(journal_record(j, (size_t)i), "event");
		if (ev && strcmp(ev, "run-start") == 0)
			return i;
	}
	return -1;
}

/* Compile the plan with the roles the run bound (or assumed ones); NULL if it cannot. */
static struct plan *run_plan(const struct playbook *pb, const struct inventory *inv,
			     const struct cluster_def *cl, struct journal *j, long start)
{
	struct role_binding *roles = NULL;
	struct plan *p;
	int n = 0;
	char err[1024];

	for (size_t i = (size_t)start; j && start >= 0 && i < journal_count(j); i++) {
		json_t *r = journal_record(j, i);
		const char *ev = jstr(r, "event"), *role = jstr(r, "role"), *host = jstr(r, "host");
		const struct role_def *d = role ? playbook_role(pb, role) : NULL;
		const struct host_def *h = host ? inventory_host(inv, host) : NULL;
		if (ev && strcmp(ev, "bind") == 0 && d && h) {
			roles = xreallocarray(roles, (size_t)n + 1, sizeof(*roles));
			roles[n++] = (struct role_binding){
			    d->name, h->name, 0,
			    (int)json_integer_value(json_object_get(r, "count"))};
		}
	}
	if (!bind_complete(pb, roles, &n)) {
		free(roles);
		roles = NULL;
		n = 0;
		if (plan_assume_roles(pb, cl, &roles, &n, err, sizeof(err)) < 0)
			n = 0;
	}
	p = plan_compile(pb, inv, cl, roles, n, err, sizeof(err));
	free(roles);
	return p;
}

static struct report_step *add_step(struct report_cluster *rc, const char *id, const char *node)
{
	rc->steps = xreallocarray(rc->steps, (size_t)rc->nsteps + 1, sizeof(*rc->steps));
	struct report_step *s = &rc->steps[rc->nsteps++];
	memset(s, 0, sizeof(*s));
	s->id = xstrdup(id);
	s->node = dupn(node);
	const char *dot = strchr(id, '.');
	s->phase = dot ? xstrndup(id, (size_t)(dot - id)) : xstrdup(id);
	s->status = "pending";
	s->exit = -1;
	s->out_exit = -1;
	return s;
}

static struct report_step *find_step(struct report_cluster *rc, const char *id, const char *node)
{
	for (int i = 0; i < rc->nsteps; i++) {
		struct report_step *s = &rc->steps[i];
		if (strcmp(s->id, id) == 0 && ((node == NULL && s->node == NULL) ||
					       (node && s->node && !strcmp(node, s->node))))
			return s;
	}
	return NULL;
}

static void add_lane(struct report_cluster *rc, const char *node)
{
	for (int i = 0; i < rc->nlanes; i++)
		if (strcmp(rc->lanes[i], node) == 0)
			return;
	rc->lanes = xreallocarray(rc->lanes, (size_t)rc->nlanes + 1, sizeof(*rc->lanes));
	rc->lanes[rc->nlanes++] = xstrdup(node);
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = dupn(s);
}

/* ---- the journal ---- */

/*
 * Times a journal claims are clamped to 1970..2200: a hand-edited or hostile
 * journal must not make the report's arithmetic overflow.
 */
#define WALL_MAX_MS 7258118400000LL

static int64_t rec_wall(json_t *r, int64_t t)
{
	json_t *w = json_object_get(r, "wall_ms");
	int64_t v = json_is_integer(w) ? (int64_t)json_integer_value(w) : t;
	return v < 0 ? 0 : v > WALL_MAX_MS ? WALL_MAX_MS : v;
}

static void step_record(struct report_cluster *rc, json_t *r, const char *ev, int64_t t)
{
	const char *id = jstr(r, "step"), *node = jstr(r, "node");
	json_t *ex = json_object_get(r, "exit");
	struct report_step *s;

	if (id == NULL)
		return;
	if ((s = find_step(rc, id, node)) == NULL)
		s = add_step(rc, id, node);
	if (strcmp(ev, "begin") == 0) {
		s->status = "in-progress";
		s->start_ms = rec_wall(r, t);
		s->end_ms = 0;
		s->exit = -1;
		set_str(&s->command, jstr(r, "command"));
		set_str(&s->reason, NULL);
		return;
	}
	s->end_ms = t;
	if (json_is_integer(ex))
		s->exit = (int)json_integer_value(ex);
	if (strcmp(ev, "done") == 0) {
		s->status = "done";
		int64_t d = json_integer_value(json_object_get(r, "duration_ms"));
		s->duration_ms = d < 0 ? 0 : d > WALL_MAX_MS ? WALL_MAX_MS : d;
		if (s->start_ms == 0 || s->start_ms > t)
			s->start_ms = t - s->duration_ms;
		set_str(&s->reason, jstr(r, "by"));
		return;
	}
	if (s->start_ms == 0 || strcmp(ev, "skipped") == 0)
		s->start_ms = t;
	s->status = strcmp(ev, "skipped") == 0	 ? "skipped"
		    : strcmp(ev, "failed") == 0	 ? "failed"
		    : strcmp(ev, "refused") == 0 ? "refused"
						 : "interrupted";
	s->duration_ms = s->end_ms - s->start_ms;
	const char *why = jstr(r, "reason"), *detail = jstr(r, "detail");
	char *reason = why && detail ? xasprintf("%s: %s", why, detail) : dupn(why ? why : detail);
	free(s->reason);
	s->reason = reason;
}

static void outage_record(struct report_cluster *rc, json_t *r, const char *ev, int64_t t)
{
	int64_t w = rec_wall(r, t);
	if (strcmp(ev, "outage-start") == 0) {
		rc->outages =
		    xreallocarray(rc->outages, (size_t)rc->noutages + 1, sizeof(*rc->outages));
		rc->outages[rc->noutages++] = (struct report_outage){w, 0, dupn(jstr(r, "step"))};
		return;
	}
	for (int i = rc->noutages - 1; i >= 0; i--)
		if (rc->outages[i].end_ms == 0) {
			rc->outages[i].end_ms = w;
			rc->outage_total_ms += w - rc->outages[i].start_ms;
			return;
		}
}

static void replay(struct report_cluster *rc, struct journal *j, long start)
{
	static const char *const step_events[] = {"begin",  "done",    "skipped",
						  "failed", "refused", "interrupted"};
	for (size_t i = (size_t)start; i < journal_count(j); i++) {
		json_t *r = journal_record(j, i);
		const char *ev = jstr(r, "event");
		int64_t t = 0;
		if (ev == NULL)
			continue;
		(void)report_parse_time(jstr(r, "time"), &t);
		rc->last_ms = t;
		if (i == (size_t)start) {
			rc->run_id = dupn(jstr(r, "run_id"));
			rc->mode = dupn(jstr(r, "mode"));
			rc->playbook = dupn(jstr(r, "playbook"));
			rc->start_ms = t;
			continue;
		}
		if (strcmp(ev, "run-end") == 0) {
			set_str(&rc->result, jstr(r, "result"));
			set_str(&rc->result_detail, jstr(r, "detail"));
			rc->end_ms = t;
			continue;
		}
		set_str(&rc->result, NULL); /* anything after a run-end: the run was resumed */
		rc->end_ms = 0;
		if (strcmp(ev, "outage-start") == 0 || strcmp(ev, "outage-end") == 0)
			outage_record(rc, r, ev, t);
		for (size_t k = 0; k < CCR_ARRAY_LEN(step_events); k++)
			if (strcmp(ev, step_events[k]) == 0)
				step_record(rc, r, ev, t);
	}
	for (int i = 0; rc->result && i < rc->nsteps; i++)
		if (strcmp(rc->steps[i].status, "in-progress") == 0)
			rc->steps[i].status = "interrupted";
}

/* ---- the audit log ---- */

/* The last cap bytes of path, from a line start.  NULL if it cannot be read. */
static char *read_tail(const char *path, size_t cap)
{
	char err[512];
	int fd = fsafe_open(path, O_RDONLY, err, sizeof(err));
	struct stat st;
	char *buf = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto out;
	size_t size = (size_t)st.st_size, want = size > cap ? cap : size, got = 0;
	off_t from = (off_t)(size - want);
	buf = xmalloc(want + 1);
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (from > 0) {
		char *nl = strchr(buf, '\n');
		memmove(buf, nl ? nl + 1 : buf + got, strlen(nl ? nl + 1 : buf + got) + 1);
	}
out:
	close(fd);
	return buf;
}

/* The last EXCERPT_LINES lines (at most EXCERPT_BYTES) of s; new string. */
static char *excerpt(const char *s)
{
	size_t len = s ? strlen(s) : 0, from = len;
	int lines = 0;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	from = len;
	while (from > 0 && len - from < EXCERPT_BYTES) {
		if (s[from - 1] == '\n' && ++lines >= EXCERPT_LINES)
			break;
		from--;
	}
	while (from < len && ((unsigned char)s[from] & 0xc0) == 0x80)
		from++;
	return xasprintf("%s%.*s", from > 0 ? "[...]\n" : "", (int)(len - from), s ? s + from : "");
}

static void audit_line(struct report_cluster *rc, json_t *o)
{
	const char *ev = jstr(o, "event"), *id = jstr(o, "step");
	int64_t t = 0;
	if (ev == NULL || report_parse_time(jstr(o, "time"), &t) < 0 || t < rc->start_ms)
		return;
	if (strcmp(ev, "step-failed") == 0 && jstr(o, "text")) {
		rc->stops = xreallocarray(rc->stops, (size_t)rc->nstops + 1, sizeof(*rc->stops));
		rc->stops[rc->nstops++] = xstrdup(jstr(o, "text"));
		return;
	}
	struct report_step *s = id ? find_step(rc, id, jstr(o, "node")) : NULL;
	if (strcmp(ev, "command") != 0 || s == NULL)
		return;
	s->has_output = 1;
	set_str(&s->out_cmd, jstr(o, "command"));
	s->out_exit = (int)json_integer_value(json_object_get(o, "exit"));
	free(s->out_stdout);
	free(s->out_stderr);
	s->out_stdout = excerpt(jstr(o, "stdout"));
	s->out_stderr = excerpt(jstr(o, "stderr"));
}

static void read_audit(struct report_cluster *rc, const char *dir)
{
	char *path = xasprintf("%s/audit.jsonl", dir);
	char *data = read_tail(path, AUDIT_READ_MAX), *save = NULL;

	rc->audit_found = data != NULL;
	for (char *line = data ? strtok_r(data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL);
		if (json_is_object(o))
			audit_line(rc, o);
		json_decref(o);
	}
	free(data);
	free(path);
}

/* ---- putting it together ---- */

static void redact_one(const struct redact *rd, char **s)
{
	if (*s == NULL)
		return;
	char *r = redact_apply(rd, *s);
	free(*s);
	*s = r;
}

/*
 * The audit log is redacted when written, but the journal's reasons quote
 * the failing command's output as the runner saw it: hide the same secrets
 * (docs/audit.md §2) in everything the page shows.
 */
static void redact_all(struct report_cluster *rc)
{
	struct redact *rd = redact_new_from_env();
	for (int i = 0; i < rc->nsteps; i++) {
		struct report_step *s = &rc->steps[i];
		char **f[] = {&s->reason, &s->command, &s->out_cmd, &s->out_stdout, &s->out_stderr};
		for (size_t k = 0; k < CCR_ARRAY_LEN(f); k++)
			redact_one(rd, f[k]);
	}
	for (int i = 0; i < rc->nstops; i++)
		redact_one(rd, &rc->stops[i]);
	redact_one(rd, &rc->result_detail);
	redact_free(rd);
}

static void plan_steps(struct report_cluster *rc, const struct plan *p)
{
	for (int i = 0; p && i < p->nsteps; i++) {
		struct report_step *s = add_step(rc, p->steps[i].id, p->steps[i].node);
		s->index = p->steps[i].index;
		s->name = dupn(p->steps[i].name);
		set_str(&s->phase, p->steps[i].phase->id);
	}
}

static void lanes(struct report_cluster *rc, const struct cluster_def *cl)
{
	for (int g = 0; g < cl->ngroups; g++)
		for (int h = 0; h < cl->groups[g].nhosts; h++)
			add_lane(rc, cl->groups[g].hosts[h]);
	for (int i = 0; i < rc->nsteps; i++)
		if (rc->steps[i].node)
			add_lane(rc, rc->steps[i].node);
}

static int load_journal(struct state *st, struct report_cluster *rc, struct journal **j)
{
	char msg[1024] = "";
	enum journal_status js = state_journal_load(st, rc->name, j, msg, sizeof(msg));
	switch (js) {
	case JOURNAL_OK:
		return 0;
	case JOURNAL_TORN_TAIL:
		rc->message = xstrdup(msg);
		return 0;
	case JOURNAL_MISSING:
		rc->state = REPORT_NO_JOURNAL;
		rc->message = xasprintf("no journal (%s): no run has started", rc->journal_path);
		return 0;
	case JOURNAL_CORRUPT:
		rc->state = REPORT_CORRUPT;
		rc->message = xstrdup(msg);
		return EXIT_JOURNAL;
	default:
		rc->state = REPORT_UNREADABLE;
		rc->message = xstrdup(msg);
		return EXIT_INPUT;
	}
}

int report_load(const char *state_dir, const struct playbook *pb, const struct inventory *inv,
		const struct cluster_def *cl, struct report_cluster **out)
{
	struct state_config sc = {.dir = state_dir};
	struct state *st = NULL;
	char err[256];
	int rc;

	if (state_open(&sc, &st, err, sizeof(err)) != 0) { /* a local state cannot fail to open */
		*out = xcalloc(1, sizeof(**out));
		(*out)->name = xstrdup(cl->name);
		(*out)->state = REPORT_UNREADABLE;
		(*out)->message = xstrdup(err);
		return EXIT_INPUT;
	}
	rc = report_load_from(st, pb, inv, cl, out);
	state_free(st);
	return rc;
}

/* "NODE1 winrm, NODE2 ssh" for the cluster's hosts, each once, or NULL without an inventory. */
static char *cluster_transports(const struct inventory *inv, const struct cluster_def *cl)
{
	struct sbuf b;

	if (inv == NULL)
		return NULL;
	sbuf_init(&b);
	for (int g = 0; g < cl->ngroups; g++)
		for (int i = 0; i < cl->groups[g].nhosts; i++) {
			const struct host_def *h = inventory_host(inv, cl->groups[g].hosts[i]);
			char *item;
			if (h == NULL)
				continue;
			item = xasprintf("%s %s", h->name,
					 h->transport == TRANSPORT_WINRM ? "winrm" : "ssh");
			if (strstr(b.buf, item) == NULL) /* a host in several groups: once */
				sbuf_addf(&b, "%s%s", b.len ? ", " : "", item);
			free(item);
		}
	return sbuf_detach(&b);
}

int report_load_from(struct state *sta, const struct playbook *pb, const struct inventory *inv,
		     const struct cluster_def *cl, struct report_cluster **out)
{
	struct report_cluster *rc = xcalloc(1, sizeof(*rc));
	char *dir = runner_cluster_dir(state_local_dir(sta), cl->name);
	struct journal *j = NULL;
	struct plan *p = NULL;
	struct state_holder h;
	char err[512];
	int st;

	*out = rc;
	rc->name = xstrdup(cl->name);
	rc->cms = dupn(cl->cms);
	rc->transports = cluster_transports(inv, cl);
	rc->journal_path = state_shared(sta)
			       ? xasprintf("%s (cluster %s)", state_name(sta), cl->name)
			       : xasprintf("%s/journal.jsonl", dir);
	if ((st = load_journal(sta, rc, &j)) != 0 || rc->state != REPORT_OK)
		goto out;
	long start = last_run_start(j);
	if (start < 0) {
		rc->state = REPORT_NO_RUN;
		set_str(&rc->message, "the journal holds no run-start record: no run has started");
		goto out;
	}
	if (pb && inv)
		p = run_plan(pb, inv, cl, j, start);
	plan_steps(rc, p);
	replay(rc, j, start);
	read_audit(rc, dir);
	redact_all(rc);
	rc->locked = state_lock_holder(sta, cl->name, &h, err, sizeof(err)) == 1;
	state_holder_release(&h);
	rc->earlier_runs = state_journal_archives(sta, cl->name);
out:
	lanes(rc, cl);
	plan_free(p);
	journal_close(j);
	free(dir);
	return st;
}

void report_cluster_free(struct report_cluster *rc)
{
	if (rc == NULL)
		return;
	for (int i = 0; i < rc->nsteps; i++) {
		struct report_step *s = &rc->steps[i];
		char *strs[] = {s->id,	    s->node,	s->phase,      s->name,	     s->reason,
				s->command, s->out_cmd, s->out_stdout, s->out_stderr};
		for (size_t k = 0; k < CCR_ARRAY_LEN(strs); k++)
			free(strs[k]);
	}
	free(rc->transports);
	for (int i = 0; i < rc->noutages; i++)
		free(rc->outages[i].from_step);
	for (int i = 0; i < rc->nlanes; i++)
		free(rc->lanes[i]);
	for (int i = 0; i < rc->nstops; i++)
		free(rc->stops[i]);
	char *strs[] = {rc->name, rc->cms,	rc->message, rc->journal_path, rc->run_id,
			rc->mode, rc->playbook, rc->result,  rc->result_detail};
	for (size_t k = 0; k < CCR_ARRAY_LEN(strs); k++)
		free(strs[k]);
	free(rc->steps);
	free(rc->outages);
	free(rc->lanes);
	free(rc->stops);
	free(rc);
}
