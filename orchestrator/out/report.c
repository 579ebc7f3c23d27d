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
#include "replay.h"
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
	return replay_parse_time(s, ms);
}

/* ---- the steps ---- */

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

/* ---- the journal, through its replay ---- */

static const char *status_word(enum replay_state st, int ended)
{
	static const char *const w[] = {
	    [RS_PENDING] = "pending",	     [RS_BEGUN] = "in-progress", [RS_DONE] = "done",
	    [RS_SKIPPED] = "skipped",	     [RS_FAILED] = "failed",	 [RS_REFUSED] = "refused",
	    [RS_INTERRUPTED] = "interrupted"};
	return st == RS_BEGUN && ended ? "interrupted" : w[st];
}

static void fill_step(struct report_step *rs, const struct replay_step *s, int ended)
{
	int from = s->last_begin < 0 ? 0 : s->last_begin;
	const struct replay_attempt *end = s->last_end >= from ? &s->att[s->last_end] : NULL;

	rs->status = status_word(s->state, ended);
	rs->start_ms = s->start_ms;
	rs->end_ms = s->end_ms;
	if (s->last_begin >= 0)
		set_str(&rs->command, s->att[s->last_begin].command);
	for (int k = from; k < s->natt; k++)
		if (s->att[k].exit >= 0)
			rs->exit = s->att[k].exit;
	if (end == NULL || s->state == RS_BEGUN)
		return;
	if (end->ev == JEV_DONE) {
		rs->duration_ms = end->duration_ms;
		set_str(&rs->reason, end->by);
		return;
	}
	rs->duration_ms = rs->end_ms > rs->start_ms ? rs->end_ms - rs->start_ms : 0;
	free(rs->reason);
	rs->reason = end->reason && end->detail ? xasprintf("%s: %s", end->reason, end->detail)
						: dupn(end->reason ? end->reason : end->detail);
}

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/*
 * The lines (1-based) where each resumed process of the run began: the record
 * after a run-end, or, when ccrup was killed or crashed (no run-end), the first
 * record after a begin that is not that step's own going on (a cluster's steps
 * run one at a time): another step's record, the step begun again, or settled
 * by a resume.
 */
static int *process_starts(const struct replay *rp, const struct journal *j, int *n)
{
	size_t count = journal_count(j);
	int *lines = xcalloc(count + 1, sizeof(*lines));
	int after_end = 0, open = 0;
	const char *ostep = NULL, *onode = NULL;

	*n = 0;
	for (size_t i = (size_t)(rp->start_line > 0 ? rp->start_line : 1); i < count; i++) {
		json_t *r = journal_record(j, i);
		const char *ev = jstr(r, "event"), *step = jstr(r, "step"), *node = jstr(r, "node");
		const char *by = jstr(r, "by");
		if (ev == NULL)
			continue;
		int own = open && step && same_str(step, ostep) && same_str(node, onode) &&
			  strcmp(ev, "begin") != 0 && !(by && strncmp(by, "resume", 6) == 0);
		if (after_end || (open && !own)) {
			lines[(*n)++] = (int)i + 1;
			open = 0;
		}
		after_end = strcmp(ev, "run-end") == 0;
		if (strcmp(ev, "begin") == 0) {
			open = 1;
			ostep = step;
			onode = node;
		} else if (own && (strcmp(ev, "done") == 0 || strcmp(ev, "failed") == 0 ||
				   strcmp(ev, "refused") == 0 || strcmp(ev, "interrupted") == 0 ||
				   strcmp(ev, "skipped") == 0)) {
			open = 0;
		}
	}
	return lines;
}

/* Every record about s, with the process (first run or n-th resume) it came from. */
static void fill_history(struct report_step *rs, const struct replay_step *s,
			 const struct journal *j, const int *ends, int nends)
{
	rs->hist = xcalloc((size_t)s->natt + 1, sizeof(*rs->hist));
	for (int k = 0; k < s->natt; k++) {
		const struct replay_attempt *a = &s->att[k];
		if (a->ev == JEV_RECORD || a->ev == JEV_WINDOW || a->ev == JEV_UNKNOWN)
			continue;
		struct report_attempt *h = &rs->hist[rs->nhist++];
		h->out_exit = -1;
		json_t *r = a->line > 0 ? journal_record(j, (size_t)a->line - 1) : NULL;
		json_t *op = r ? json_object_get(r, "operator_ms") : NULL;
		h->what = jev_name(a->ev);
		h->time_ms = a->wall_ms ? a->wall_ms : a->time_ms;
		h->duration_ms = a->duration_ms;
		h->operator_ms = json_is_integer(op) ? json_integer_value(op) : 0;
		h->exit = a->exit;
		h->by = dupn(a->by);
		h->text = a->answer		   ? dupn(a->answer)
			  : a->reason && a->detail ? xasprintf("%s: %s", a->reason, a->detail)
						   : dupn(a->reason ? a->reason : a->detail);
		for (int e = 0; e < nends; e++)
			h->session += ends[e] <= a->line;
		if (a->ev == JEV_BEGIN)
			rs->attempts++;
	}
}

/* ---- the timeline's bars: every attempt, settling and wait ---- */

static int add_bar(struct report_step *rs, const char *kind, int64_t a, int64_t b, int hist)
{
	rs->bars = xreallocarray(rs->bars, (size_t)rs->nbars + 1, sizeof(*rs->bars));
	rs->bars[rs->nbars] = (struct report_bar){kind, 0, a, b, hist, 0};
	return rs->nbars++;
}

/* The time of the journal's record after line (1-based), or dflt if it has none. */
static int64_t next_record_ms(const struct journal *j, int line, int64_t dflt)
{
	int64_t t;
	if (line <= 0 || (size_t)line >= journal_count(j) ||
	    report_parse_time(jstr(journal_record(j, (size_t)line), "time"), &t) < 0)
		return dflt;
	return t < dflt ? dflt : t;
}

/* A begin nothing ended: ccrup stopped (killed, crashed) during it.  It runs to the
 * journal's next record, written when ccrup came back (or by the run's end). */
static void end_killed(struct report_step *rs, int bar, const struct journal *j, int line)
{
	struct report_bar *b = &rs->bars[bar];
	b->kind = "interrupted";
	b->killed = 1;
	b->end_ms = next_record_ms(j, line, b->start_ms);
	if (b->hist >= 0 && rs->hist[b->hist].text == NULL)
		rs->hist[b->hist].text = xstrdup("no record of its end: ccrup stopped (killed or "
						 "crashed) during this attempt");
}

static void settle_bar(struct report_step *rs, int *open, const struct report_attempt *h, int hi)
{
	int64_t t = h->time_ms;
	if (h->operator_ms > 0) { /* the questions came first: the step's processing began then */
		int64_t t0 = t - h->duration_ms - h->operator_ms;
		add_bar(rs, "operator-wait", t0, t0 + h->operator_ms, hi);
	}
	if (*open >= 0) {
		rs->bars[*open].kind = h->what;
		rs->bars[*open].end_ms = t;
		rs->bars[*open].hist = hi;
		*open = -1;
		return;
	}
	int op = strcmp(h->what, "skipped") == 0 && h->text &&
		 strncmp(h->text, REPLAY_SKIP_OPERATOR, strlen(REPLAY_SKIP_OPERATOR)) == 0;
	add_bar(rs, op ? "op-skipped" : h->what, t - h->duration_ms, t, hi);
}

/* One bar per attempt (begin to the record that ended it), per settling without a
 * begin, and per wait for the operator.  rs->hist is filled (same skips as fill_history). */
static void fill_bars(struct report_step *rs, const struct replay_step *s, const struct journal *j,
		      int ended)
{
	int hi = -1, open = -1, last = 0, n = 0;
	for (int k = 0; k < s->natt; k++) {
		const struct replay_attempt *a = &s->att[k];
		if (a->ev == JEV_RECORD || a->ev == JEV_WINDOW || a->ev == JEV_UNKNOWN) {
			last = a->line > last ? a->line : last;
			continue;
		}
		const struct report_attempt *h = &rs->hist[++hi];
		switch (a->ev) {
		case JEV_BEGIN:
			if (open >= 0)
				end_killed(rs, open, j, last);
			open = add_bar(rs, "in-progress", h->time_ms, 0, hi);
			rs->bars[open].attempt = ++n;
			break;
		case JEV_DONE:
		case JEV_FAILED:
		case JEV_REFUSED:
		case JEV_INTERRUPTED:
		case JEV_SKIPPED:
			settle_bar(rs, &open, h, hi);
			break;
		default:
			break;
		}
		last = a->line > last ? a->line : last;
	}
	if (open >= 0 && (ended || s->state != RS_BEGUN))
		end_killed(rs, open, j, last);
}

static void fold(struct report_cluster *rc, const struct replay *rp, const struct journal *j)
{
	int nends = 0;
	int *ends = process_starts(rp, j, &nends);

	rc->run_id = dupn(rp->run_id);
	rc->mode = dupn(rp->mode);
	rc->playbook = dupn(rp->playbook);
	rc->start_ms = rp->start_ms;
	rc->last_ms = rp->last_ms;
	rc->end_ms = rp->end_ms;
	rc->result = dupn(rp->result);
	rc->result_detail = dupn(rp->result_detail);
	for (int i = 0; i < rp->nsteps; i++) {
		const struct replay_step *s = &rp->steps[i];
		/* After a rebind a plan step may count the records of the same work done
		 * under the earlier roles (replay_plan): shown as the step they count for,
		 * unless the step's own later records tell it. */
		if (s->plan_index >= 0 && replay_step_at(rp, s->plan_index) != s)
			continue;
		struct report_step *rs = s->plan_index >= 0 && s->plan_index < rc->nsteps
					     ? &rc->steps[s->plan_index]
					     : find_step(rc, s->id, s->node);
		if (rs == NULL && s->state == RS_PENDING)
			continue; /* only named by a record, gate or outage mark */
		if (rs == NULL)
			rs = add_step(rc, s->id, s->node);
		fill_step(rs, s, rp->result != NULL);
		if (rs->hist == NULL) {
			fill_history(rs, s, j, ends, nends);
			fill_bars(rs, s, j, rp->result != NULL);
		}
	}
	rc->resumes = nends; /* each process after the first resumed the run */
	free(ends);
	rc->outages = xcalloc((size_t)rp->noutages + 1, sizeof(*rc->outages));
	for (int i = 0; i < rp->noutages; i++)
		rc->outages[rc->noutages++] = (struct report_outage){
		    rp->outages[i].start_ms, rp->outages[i].end_ms, dupn(rp->outages[i].step),
		    dupn(rp->outages[i].end_step)};
	rc->outage_total_ms = rp->outage_total_ms;
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
	/* and to the attempt it ended: the last begin before it */
	struct report_attempt *b = NULL;
	for (int k = 0; k < s->nhist; k++)
		if (strcmp(s->hist[k].what, "begin") == 0 && s->hist[k].time_ms <= t)
			b = &s->hist[k];
	if (b == NULL)
		return;
	free(b->out_stdout);
	free(b->out_stderr);
	b->out_stdout = xstrdup(s->out_stdout);
	b->out_stderr = xstrdup(s->out_stderr);
	b->out_exit = s->out_exit;
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
		for (int k = 0; k < s->nhist; k++) {
			redact_one(rd, &s->hist[k].text);
			redact_one(rd, &s->hist[k].by);
			redact_one(rd, &s->hist[k].out_stdout);
			redact_one(rd, &s->hist[k].out_stderr);
		}
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
	struct replay *rp = NULL;
	struct state_holder h;
	char err[1024];
	int st;

	*out = rc;
	rc->name = xstrdup(cl->name);
	rc->cms = dupn(cl->cms);
	rc->cms_label = xstrdup(playbook_service_label(pb));
	rc->transports = cluster_transports(inv, cl);
	rc->journal_path = state_shared(sta)
			       ? xasprintf("%s (cluster %s)", state_name(sta), cl->name)
			       : xasprintf("%s/journal.jsonl", dir);
	if ((st = load_journal(sta, rc, &j)) != 0 || rc->state != REPORT_OK)
		goto out;
	if ((rp = replay_load(j, cl->name, err, sizeof(err))) == NULL ||
	    (rp->nruns > 0 && pb && inv &&
	     (p = replay_compile_plan(rp, pb, inv, cl, err, sizeof(err))) != NULL &&
	     replay_plan(rp, p, replay_pinned(rp, pb), err, sizeof(err)) < 0)) {
		rc->state = REPORT_CORRUPT;
		set_str(&rc->message, err);
		st = EXIT_JOURNAL;
		goto out;
	}
	if (rp->nruns == 0) {
		rc->state = REPORT_NO_RUN;
		set_str(&rc->message, "the journal holds no run-start record: no run has started");
		goto out;
	}
	plan_steps(rc, p);
	fold(rc, rp, j);
	read_audit(rc, dir);
	redact_all(rc);
	rc->locked = state_lock_holder(sta, cl->name, &h, err, sizeof(err)) == 1;
	state_holder_release(&h);
	rc->earlier_runs = state_journal_archives(sta, cl->name);
out:
	lanes(rc, cl);
	replay_free(rp);
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
		for (int k = 0; k < s->nhist; k++) {
			free(s->hist[k].by);
			free(s->hist[k].text);
			free(s->hist[k].out_stdout);
			free(s->hist[k].out_stderr);
		}
		free(s->hist);
		free(s->bars);
	}
	free(rc->transports);
	for (int i = 0; i < rc->noutages; i++) {
		free(rc->outages[i].from_step);
		free(rc->outages[i].to_step);
	}
	for (int i = 0; i < rc->nlanes; i++)
		free(rc->lanes[i]);
	for (int i = 0; i < rc->nstops; i++)
		free(rc->stops[i]);
	char *strs[] = {rc->name,   rc->cms,  rc->cms_label, rc->message, rc->journal_path,
			rc->run_id, rc->mode, rc->playbook,  rc->result,  rc->result_detail};
	for (size_t k = 0; k < CCR_ARRAY_LEN(strs); k++)
		free(strs[k]);
	free(rc->steps);
	free(rc->outages);
	free(rc->lanes);
	free(rc->stops);
	free(rc);
}
