/*
 * ui.c — see ui.h.  The UI learns everything from events; it never looks
 * at the runner's state, so it shows exactly what the journal and the
 * audit log will say.
 */
#include "ui.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "textsafe.h"
#include "util.h"

struct node_stat {
	char *cluster, *node;
	int done, skipped, failed;
	int64_t busy_ms; /* time spent in steps that ran */
};

struct ui {
	FILE *fp;
	FILE *in;
	struct ui_opts o;
	pthread_mutex_t mu;
	struct node_stat *stats;
	int nstats;
	int status_shown;	  /* a status line is on screen */
	char status[256];	  /* its text */
	int64_t start_mono;	  /* first event */
	int64_t outage_ms;	  /* sum of outages seen */
	int64_t outage_before_ms; /* outages that ended in earlier attempts of resumed runs */
	int outage_open;	  /* an outage started and has not ended */
	int64_t outage_mono;	  /* when it started (monotonic; a resumed run: back-dated) */
	char out_key[160];	  /* -vv: the step whose partial output line is pending */
	struct sbuf out_line;	  /* -vv: that partial line */
	char last_failure[1024];
	/* The command in flight, for the live counter (terminal only). */
	int act_on;	     /* a command is running */
	int64_t act_start;   /* when it started (monotonic) */
	int64_t act_budget;  /* its timeout, 0 if unknown */
	char act_where[200]; /* "CLUS1 [22/60] passive.setup on NODE2" */
	char act_what[512];  /* the command (shortened to the terminal when drawn) */
	pthread_t ticker;    /* redraws the status line twice a second */
	pthread_cond_t cv;   /* wakes the ticker to stop */
	int ticker_on;	     /* the ticker thread runs */
	int stopping;	     /* ui_free asked it to stop */
};

static void draw_status(struct ui *u);

static void draw_status(struct ui *u);
static int term_cols(const struct ui *u);
static void compose_status(struct ui *u, const char *left, const char *right);

/* The outage flag of the status line and prompts: "OUTAGE 2m 13s", or "". */
static void outage_flag(const struct ui *u, char *buf, size_t len)
{
	char d[32];
	buf[0] = '\0';
	if (!u->outage_open)
		return;
	format_duration(now_mono_ms() - u->outage_mono, d, sizeof(d));
	snprintf(buf, len, "OUTAGE %s", d);
}

/*
 * A command in a few columns: its program's file name and its last argument
 * ("\"D:\\Exchange2007SP1\\setup.com\" /m:upgrade" -> "setup.com /m:upgrade",
 * " ... " where arguments between them are left out), cut in the middle if that
 * is still longer than room.  Empty when room is too small to say anything.
 */
static void short_command(const char *cmd, int room, char *out, size_t len)
{
	char args[512], gist[600];
	const char *p = cmd + strspn(cmd, " "), *stop, *end, *base, *last;
	size_t n;

	out[0] = '\0';
	if (room < 8)
		return;
	if (*p == '"') { /* a quoted program path */
		p++;
		stop = strchr(p, '"');
		end = stop ? stop + 1 : p + strlen(p);
		stop = stop ? stop : end;
	} else {
		stop = end = p + strcspn(p, " ");
	}
	base = p;
	for (const char *q = p; q < stop; q++)
		if (*q == '\\' || *q == '/')
			base = q + 1;
	snprintf(args, sizeof(args), "%s", end + strspn(end, " "));
	n = strlen(args);
	while (n > 0 && args[n - 1] == ' ')
		args[--n] = '\0';
	last = strrchr(args, ' ');
	snprintf(gist, sizeof(gist), "%.*s%s%s", (int)(stop - base), base,
		 n == 0 ? ""
		 : last ? " ... "
			: " ",
		 last ? last + 1 : args);
	n = strlen(gist);
	if ((int)n <= room)
		snprintf(out, len, "%s", gist);
	else /* the middle goes: the program's name and the end of the line stay */
		snprintf(out, len, "%.*s...%s", (room - 3) / 2, gist,
			 gist + n - (size_t)(room - 3 - (room - 3) / 2));
}

/*
 * The live counter: "CLUS1 [22/60] passive.setup on NODE2 running `"D:\x\setup.com" /m:upgrade`
 * | 1m 12s of 2h | elapsed 41m".  Too long for the terminal, the step, node, timer and
 * flags stay: the command shrinks to its program and last argument (`setup.com /m:upgrade`),
 * then the total elapsed time goes, then the command is cut in the middle.
 */
static void tick_status(struct ui *u)
{
	char sp[32], bud[32], el[32], timer[80], of[48], cmd[600];
	char left[900], right[sizeof(timer) + sizeof(el) + sizeof(of) + 16];
	int64_t now = now_mono_ms();
	int cols = term_cols(u) - 1, fixed, room;
	format_duration(now - u->act_start, sp, sizeof(sp));
	format_duration(u->act_budget, bud, sizeof(bud));
	format_duration(now - u->start_mono, el, sizeof(el));
	outage_flag(u, of, sizeof(of));
	snprintf(timer, sizeof(timer), "%s%s%s", sp, u->act_budget ? " of " : "",
		 u->act_budget ? bud : "");
	snprintf(right, sizeof(right), "%s | elapsed %s%s%s", timer, el, of[0] ? " | " : "", of);
	fixed = (int)strlen(u->act_where) + 3 + (int)strlen(right);
	if (fixed + (int)strlen(" running ``") + (int)strlen(u->act_what) <= cols) {
		snprintf(left, sizeof(left), "%s running `%s`", u->act_where, u->act_what);
		goto out;
	}
	short_command(u->act_what, cols - fixed - 3, cmd, sizeof(cmd));
	if (strstr(cmd, "...") != NULL || cmd[0] == '\0') { /* no room for the gist: drop elapsed */
		snprintf(right, sizeof(right), "%s%s%s", timer, of[0] ? " | " : "", of);
		fixed = (int)strlen(u->act_where) + 3 + (int)strlen(right);
		room = cols - fixed - 3;
		short_command(u->act_what, room, cmd, sizeof(cmd));
	}
	if (cmd[0])
		snprintf(left, sizeof(left), "%s `%s`", u->act_where, cmd);
	else
		snprintf(left, sizeof(left), "%s", u->act_where);
out:
	compose_status(u, left, right);
	draw_status(u);
}

static void *ticker_main(void *arg)
{
	struct ui *u = arg;
	pthread_mutex_lock(&u->mu);
	while (!u->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&u->cv, &u->mu, &ts);
		if (!u->stopping && u->act_on && now_mono_ms() - u->act_start >= 1000)
			tick_status(u);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

struct ui *ui_new(FILE *fp, const struct ui_opts *o)
{
	struct ui *u = xcalloc(1, sizeof(*u));
	u->fp = fp;
	u->in = stdin;
	u->o = *o;
	u->start_mono = now_mono_ms();
	sbuf_init(&u->out_line);
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	if (u->o.tty && !u->o.quiet && pthread_create(&u->ticker, NULL, ticker_main, u) == 0)
		u->ticker_on = 1;
	return u;
}

void ui_free(struct ui *u)
{
	if (u == NULL)
		return;
	if (u->ticker_on) {
		pthread_mutex_lock(&u->mu);
		u->stopping = 1;
		pthread_cond_signal(&u->cv);
		pthread_mutex_unlock(&u->mu);
		pthread_join(u->ticker, NULL);
	}
	pthread_cond_destroy(&u->cv);
	sbuf_release(&u->out_line);
	for (int i = 0; i < u->nstats; i++) {
		free(u->stats[i].cluster);
		free(u->stats[i].node);
	}
	free(u->stats);
	pthread_mutex_destroy(&u->mu);
	free(u);
}

void ui_set_input(struct ui *u, FILE *in)
{
	u->in = in;
}

static struct node_stat *stat_for(struct ui *u, const char *cluster, const char *node)
{
	for (int i = 0; i < u->nstats; i++)
		if (strcmp(u->stats[i].cluster, cluster) == 0 &&
		    strcmp(u->stats[i].node, node) == 0)
			return &u->stats[i];
	u->stats = xreallocarray(u->stats, (size_t)u->nstats + 1, sizeof(*u->stats));
	struct node_stat *s = &u->stats[u->nstats++];
	memset(s, 0, sizeof(*s));
	s->cluster = xstrdup(cluster);
	s->node = xstrdup(node);
	return s;
}

static const char *col(const struct ui *u, const char *code)
{
	return u->o.color ? code : "";
}

static void clear_status(struct ui *u)
{
	if (u->status_shown) {
		fputs("\r\033[K", u->fp);
		u->status_shown = 0;
	}
}

/* Terminal width, so the status line never wraps (a wrapped line cannot be redrawn). */
static int term_cols(const struct ui *u)
{
	struct winsize ws;
	if (ioctl(fileno(u->fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* The terminal's width when it says (a bare PTY says 0): lines are wrapped to it; 0: not. */
static int wrap_cols(const struct ui *u)
{
	return u->o.tty ? text_term_cols(u->fp) : 0;
}

/*
 * The status line is "LEFT | RIGHT": RIGHT (state, timers, flags) is kept
 * whole; LEFT (where, the command) is shortened to fit the terminal.
 */
static void compose_status(struct ui *u, const char *left, const char *right)
{
	int cols = term_cols(u) - 1;
	int rl = (int)strlen(right), ll = (int)strlen(left);
	int room = cols - rl - 3;
	if (room < 8) /* a very narrow terminal: the right side alone, cut */
		snprintf(u->status, sizeof(u->status), "%.*s", cols, right);
	else if (ll <= room)
		snprintf(u->status, sizeof(u->status), "%s | %s", left, right);
	else
		snprintf(u->status, sizeof(u->status), "%.*s... | %s", room - 3, left, right);
}

static void draw_status(struct ui *u)
{
	if (!u->o.tty || u->o.quiet || u->status[0] == '\0')
		return;
	char *safe = text_escaped(u->status, "");
	const char *flag = strstr(safe, "OUTAGE");
	int cols = term_cols(u) - 1;
	int n = (int)strlen(safe);
	if (n > cols)
		n = cols;
	if (flag && flag - safe < n) {
		int head = (int)(flag - safe);
		fprintf(u->fp, "\r\033[K%s%.*s%s%s%.*s%s", col(u, "\033[2m"), head, safe,
			col(u, "\033[0m"), col(u, "\033[1;41;97m"), n - head, flag,
			col(u, "\033[0m"));
	} else {
		fprintf(u->fp, "\r\033[K%s%.*s%s", col(u, "\033[2m"), n, safe, col(u, "\033[0m"));
	}
	free(safe);
	u->status_shown = 1;
	fflush(u->fp);
}

/* "[12/47] CLUS1 passive.setup NODE2" */
static void where(const struct event *e, char *buf, size_t len)
{
	if (e->index && (e->step == NULL || *e->step == '\0')) /* a phase: where it runs */
		snprintf(buf, len, "%s [%d/%d]%s%s", e->cluster, e->index, e->total,
			 e->node ? " " : "", e->node ? e->node : "");
	else if (e->index)
		snprintf(buf, len, "%s [%d/%d] %s%s%s", e->cluster, e->index, e->total,
			 e->step ? e->step : "", e->node ? " on " : "", e->node ? e->node : "");
	else if (e->node)
		snprintf(buf, len, "%s %s", e->cluster, e->node);
	else
		snprintf(buf, len, "%s", e->cluster);
}

/* fputs with control characters other than those in keep escaped (textsafe.h). */
static void fputs_safe(const char *s, const char *keep, FILE *fp)
{
	if (!text_needs_escape(s, keep)) {
		fputs(s, fp);
		return;
	}
	char *safe = text_escaped(s, keep);
	fputs(safe, fp);
	free(safe);
}

static void vline(struct ui *u, const struct event *e, const char *color, int whole,
		  const char *fmt, va_list ap) CCR_PRINTF(5, 0);

static void vline(struct ui *u, const struct event *e, const char *color, int whole,
		  const char *fmt, va_list ap)
{
	char w[256], ts[32];

	clear_status(u);
	where(e, w, sizeof(w));
	if (!u->o.tty) {
		format_iso8601(e->wall_ms, ts, sizeof(ts));
		fprintf(u->fp, "%s ", ts);
	}
	fprintf(u->fp, "%s%s%s: ", col(u, color), w, whole ? "" : col(u, "\033[0m"));
	char *msg = xvasprintf(fmt, ap);
	/* Texts carry what nodes printed: never let them drive the terminal. */
	int cols = wrap_cols(u);
	if (cols) {
		char *safe = text_escaped(msg, "\n");
		text_put_wrapped(u->fp, safe, (int)strlen(w) + 2, cols);
		free(safe);
	} else {
		fputs_safe(msg, "\n", u->fp);
	}
	free(msg);
	if (whole)
		fputs(col(u, "\033[0m"), u->fp);
	fputc('\n', u->fp);
	draw_status(u);
	fflush(u->fp);
}

static void line(struct ui *u, const struct event *e, const char *color, const char *fmt, ...)
    CCR_PRINTF(4, 5);
static void line(struct ui *u, const struct event *e, const char *color, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(u, e, color, 0, fmt, ap);
	va_end(ap);
}

/* The whole line in colour (warnings that must not be missed). */
static void loud(struct ui *u, const struct event *e, const char *color, const char *fmt, ...)
    CCR_PRINTF(4, 5);
static void loud(struct ui *u, const struct event *e, const char *color, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(u, e, color, 1, fmt, ap);
	va_end(ap);
}

static void update_status(struct ui *u, const struct event *e)
{
	char el[32], bud[32], w[200], right[160], of[48];
	format_duration(now_mono_ms() - u->start_mono, el, sizeof(el));
	where(e, w, sizeof(w));
	outage_flag(u, of, sizeof(of));
	if (e->kind == EV_WAITING) {
		char sp[32], left[320];
		format_duration(e->elapsed_ms, sp, sizeof(sp));
		format_duration(e->budget_ms, bud, sizeof(bud));
		snprintf(left, sizeof(left), "%s %s", w, e->text ? e->text : "waiting");
		snprintf(right, sizeof(right), "%s of %s | elapsed %s%s%s", sp, bud, el,
			 of[0] ? " | " : "", of);
		compose_status(u, left, right);
	} else {
		snprintf(right, sizeof(right), "phase %s | elapsed %s%s%s",
			 e->phase ? e->phase : "-", el, of[0] ? " | " : "", of);
		compose_status(u, w, right);
	}
}

static void track_command(struct ui *u, const struct event *e)
{
	if (e->kind == EV_CMD_START) {
		u->act_on = 1;
		u->act_start = now_mono_ms();
		u->act_budget = e->budget_ms;
		where(e, u->act_where, sizeof(u->act_where));
		snprintf(u->act_what, sizeof(u->act_what), "%s", e->text ? e->text : "");
	} else if (e->kind == EV_CMD_END || e->kind == EV_STEP_DONE || e->kind == EV_STEP_FAILED ||
		   e->kind == EV_RUN_END) {
		u->act_on = 0;
	}
}

static void count(struct ui *u, const struct event *e)
{
	if (e->node == NULL || (e->kind != EV_STEP_DONE && e->kind != EV_STEP_SKIPPED &&
				e->kind != EV_STEP_FAILED && e->kind != EV_STEP_REFUSED))
		return;
	struct node_stat *s = stat_for(u, e->cluster, e->node);
	if (e->kind == EV_STEP_DONE) {
		s->done++;
		s->busy_ms += e->duration_ms;
	} else if (e->kind == EV_STEP_SKIPPED) {
		s->skipped++;
	} else if (e->kind == EV_STEP_FAILED || e->kind == EV_STEP_REFUSED) {
		s->failed++;
	}
}

/* -vv: output lines prefixed with the time and the step, "12:01:02 CLUS1 passive.setup NODE2| ". */
static void out_prefix(struct ui *u, const struct event *e)
{
	char ts[32];
	format_iso8601(e->wall_ms ? e->wall_ms : now_wall_ms(), ts, sizeof(ts));
	fprintf(u->fp, "%s%s %s %s %s|%s ", col(u, "\033[2m"), ts, e->cluster,
		e->step ? e->step : "probe", e->node ? e->node : "-", col(u, "\033[0m"));
}

static void out_flush(struct ui *u, const struct event *e)
{
	if (u->out_line.len == 0)
		return;
	clear_status(u);
	out_prefix(u, e);
	fputs_safe(u->out_line.buf, "\t", u->fp);
	fputc('\n', u->fp);
	sbuf_reset(&u->out_line);
}

static void show_output(struct ui *u, const struct event *e)
{
	char key[160];
	snprintf(key, sizeof(key), "%s/%s/%s", e->cluster, e->step ? e->step : "",
		 e->node ? e->node : "");
	if (strcmp(key, u->out_key) != 0) {
		out_flush(u, e);
		snprintf(u->out_key, sizeof(u->out_key), "%s", key);
	}
	for (const char *p = e->text ? e->text : ""; *p; p++) {
		if (*p == '\n') {
			clear_status(u);
			out_prefix(u, e);
			fputs_safe(u->out_line.len ? u->out_line.buf : "", "\t", u->fp);
			fputc('\n', u->fp);
			sbuf_reset(&u->out_line);
		} else if (*p != '\r') {
			sbuf_addc(&u->out_line, *p);
		}
	}
	draw_status(u);
}

static void show_step_start(struct ui *u, const struct event *e)
{
	char est[32];
	if (!u->o.tty || u->o.quiet) {
		/* Line mode: one "started" line per step, so a long step is never silent in a log.
		 */
		if (!u->o.quiet)
			line(u, e, "\033[1m", "started: %s%s%s%s", e->name, e->command ? " (`" : "",
			     e->command ? e->command : "", e->command ? "`)" : "");
		return;
	}
	line(u, e, "\033[1m", "%s%s%s\n    run:   %s%s%s\n    next:  %s", e->name,
	     e->text ? "\n    why:   " : "", e->text ? e->text : "",
	     e->command ? e->command : "- (read-only, runs without asking)",
	     e->detail ? "\n    found: " : "", e->detail ? e->detail : "", e->next ? e->next : "-");
	if (e->stakes) {
		format_duration(e->budget_ms, est, sizeof(est));
		loud(u, e, e->word ? "\033[1;41;97m" : "\033[1;33m", "!! %s", e->stakes);
	}
}

static void show_outage_start(struct ui *u, const struct event *e)
{
	char est[32];
	if (e->elapsed_ms > 0) { /* still open from the run being resumed */
		format_duration(e->elapsed_ms, est, sizeof(est));
		loud(u, e, "\033[1;41;97m", "OUTAGE ONGOING for %s%s%s: %s", est,
		     e->detail ? " of " : "", e->detail ? e->detail : "",
		     e->text ? e->text : "users cannot use the service until it ends");
		return;
	}
	format_duration(e->budget_ms, est, sizeof(est));
	loud(u, e, "\033[1;41;97m", "OUTAGE STARTS%s%s: %s%s%s%s", e->detail ? " for " : "",
	     e->detail ? e->detail : "",
	     e->text ? e->text : "users cannot use the service until it ends",
	     e->budget_ms > 0 ? " (about " : "", e->budget_ms > 0 ? est : "",
	     e->budget_ms > 0 ? " by the plan's estimate)" : "");
}

static void show(struct ui *u, const struct event *e)
{
	char d[32], w[32];
	int q = u->o.quiet, v = u->o.verbose;

	switch (e->kind) {
	case EV_RUN_START:
		u->outage_before_ms += e->duration_ms;
		if (!q)
			line(u, e, "\033[1m", "%s", e->text);
		break;
	case EV_RUN_END:
		if (!q)
			line(u, e, "\033[1m", "run %s", e->text);
		break;
	case EV_BIND:
		if (!q)
			line(u, e, "", "%s", e->text);
		break;
	case EV_PHASE_START:
		if (!q)
			line(u, e, "\033[1;34m", "phase %s: %s", e->phase, e->text);
		break;
	case EV_STEP_START:
		show_step_start(u, e);
		break;
	case EV_STEP_SKIPPED:
		format_duration(e->wait_ms, w, sizeof(w));
		if (!q)
			line(u, e, "\033[2m", "skipped (%s)%s%s%s", e->text,
			     e->wait_ms > 0 ? ", after waiting " : "", e->wait_ms > 0 ? w : "",
			     e->wait_ms > 0 ? " for the operator" : "");
		break;
	case EV_STEP_DONE:
		format_duration(e->duration_ms, d, sizeof(d));
		format_duration(e->wait_ms, w, sizeof(w));
		if (!q)
			line(u, e, "\033[32m", "done in %s%s%s%s%s%s", d, e->text ? ", by " : "",
			     e->text ? e->text : "", e->wait_ms > 0 ? " (waited " : "",
			     e->wait_ms > 0 ? w : "", e->wait_ms > 0 ? " for the operator)" : "");
		break;
	case EV_STEP_FAILED:
	case EV_STEP_REFUSED:
		line(u, e, "\033[1;31m", "%s: %s",
		     e->kind == EV_STEP_REFUSED ? "REFUSED" : "FAILED", e->text);
		snprintf(u->last_failure, sizeof(u->last_failure), "%s", e->text);
		break;
	case EV_RUN_REFUSED:
		line(u, e, "\033[1;33m", "%s%s%s", e->text, e->detail ? "; " : "",
		     e->detail ? e->detail : "");
		break;
	case EV_CMD_START:
		if (v)
			line(u, e, "\033[2m", "$ %s", e->text);
		break;
	case EV_CMD_OUTPUT:
		if (v > 1)
			show_output(u, e);
		break;
	case EV_CMD_END:
		if (v > 1)
			out_flush(u, e);
		format_duration(e->duration_ms, d, sizeof(d));
		if (v)
			line(u, e, "\033[2m", "%s`%s` exited %d after %s", e->step ? "" : "probe ",
			     e->command ? e->command : "?", e->exit, d);
		break;
	case EV_BATCH:
		format_duration(e->duration_ms, d, sizeof(d));
		if (v)
			line(u, e, "\033[2m",
			     "%d probes sent as one command to %s, answered after %s", e->parts,
			     e->node ? e->node : "?", d);
		break;
	case EV_WAITING:
		if (!u->o.tty && v) {
			format_duration(e->elapsed_ms, d, sizeof(d));
			line(u, e, "", "waiting: %s (%s)", e->text, d);
		}
		break;
	case EV_OUTAGE_START:
		show_outage_start(u, e);
		break;
	case EV_OUTAGE_END:
		format_duration(e->duration_ms, d, sizeof(d));
		loud(u, e, "\033[1;32m", "outage over after %s%s%s", d, e->detail ? ": " : "",
		     e->detail ? e->detail : "");
		break;
	case EV_GATE:
		if (!q)
			line(u, e, "", "gate confirmed (%s): %s", e->detail, e->text);
		break;
	case EV_INFO:
		if (!q)
			line(u, e, "", "%s", e->text);
		break;
	case EV_WARN:
		line(u, e, "\033[33m", "warning: %s", e->text);
		break;
	}
}

void ui_event(const struct event *e, void *arg)
{
	struct ui *u = arg;
	pthread_mutex_lock(&u->mu);
	if (e->kind == EV_OUTAGE_START) {
		u->outage_open = 1;
		u->outage_mono = now_mono_ms() - (e->elapsed_ms > 0 ? e->elapsed_ms : 0);
	}
	if (e->kind == EV_OUTAGE_END) {
		u->outage_open = 0;
		u->outage_ms += e->duration_ms;
	}
	count(u, e);
	track_command(u, e);
	update_status(u, e);
	show(u, e);
	if (e->kind == EV_WAITING || e->kind == EV_CMD_START)
		draw_status(u);
	pthread_mutex_unlock(&u->mu);
}

/* "y, n or q" from "ynq". */
static void list_letters(const char *letters, char *buf, size_t len)
{
	size_t n = strlen(letters), o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 8 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%c",
				      i == 0	   ? ""
				      : i + 1 == n ? " or "
						   : ", ",
				      letters[i]);
}

/* The answer typed, trimmed and lower-cased, into buf. */
static void trim_answer(char *buf)
{
	size_t n = strlen(buf), k = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	while (buf[k] == ' ')
		k++;
	memmove(buf, buf + k, n - k + 1);
	for (char *p = buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

int ui_ask(void *arg, const char *question, const char *choices)
{
	struct ui *u = arg;
	char buf[64], word[32] = "", letters[16], list[64], of[48];

	if (choices[0] == '=') { /* "=WORD:LETTERS": WORD typed in full answers 'y' */
		const char *colon = strchr(choices, ':');
		size_t wl = colon ? (size_t)(colon - choices - 1) : strlen(choices + 1);
		snprintf(word, sizeof(word), "%.*s", (int)wl, choices + 1);
		snprintf(letters, sizeof(letters), "%s", colon ? colon + 1 : "");
	} else {
		snprintf(letters, sizeof(letters), "%s", choices);
	}
	list_letters(letters, list, sizeof(list));
	pthread_mutex_lock(&u->mu);
	clear_status(u);
	for (;;) {
		outage_flag(u, of, sizeof(of));
		if (of[0])
			fprintf(u->fp, "%s[%s]%s ", col(u, "\033[1;41;97m"), of, col(u, "\033[0m"));
		fputs(col(u, "\033[1;36m"), u->fp);
		if (wrap_cols(u))
			text_put_wrapped(u->fp, question, of[0] ? (int)strlen(of) + 3 : 0,
					 wrap_cols(u));
		else
			fputs(question, u->fp);
		fprintf(u->fp, "%s ", col(u, "\033[0m"));
		fflush(u->fp);
		if (fgets(buf, sizeof(buf), u->in) == NULL) {
			fputc('\n', u->fp);
			pthread_mutex_unlock(&u->mu);
			return 'q';
		}
		trim_answer(buf);
		if (word[0] && strcmp(buf, word) == 0) {
			pthread_mutex_unlock(&u->mu);
			return 'y';
		}
		if (strlen(buf) == 1 && strchr(letters, buf[0])) {
			pthread_mutex_unlock(&u->mu);
			return buf[0];
		}
		if (word[0])
			fprintf(u->fp,
				"This step needs a deliberate answer: type '%s' in full, or one "
				"of: %s\n",
				word, list);
		else
			fprintf(u->fp, "Please answer one of: %s\n", list);
	}
}

void ui_summary(struct ui *u)
{
	char d[32], w[32];
	int steps = 0;
	pthread_mutex_lock(&u->mu);
	clear_status(u);
	for (int i = 0; i < u->nstats; i++)
		steps += u->stats[i].done + u->stats[i].skipped + u->stats[i].failed;
	if (steps == 0 && u->outage_ms == 0 && u->outage_before_ms == 0 && !u->outage_open) {
		/* Nothing ran (a refusal to start, or nothing to do): no empty table. */
		pthread_mutex_unlock(&u->mu);
		return;
	}
	fprintf(u->fp, "\n%-12s %-16s %6s %8s %7s %10s\n", "cluster", "node", "done", "skipped",
		"failed", "busy");
	for (int i = 0; i < u->nstats; i++) {
		const struct node_stat *s = &u->stats[i];
		format_duration(s->busy_ms, d, sizeof(d));
		fprintf(u->fp, "%-12s %-16s %6d %8d %7d %10s\n", s->cluster, s->node, s->done,
			s->skipped, s->failed, d);
	}
	/* An open outage counts up to now, from when it began (maybe in an earlier run). */
	int64_t open_ms = u->outage_open ? now_mono_ms() - u->outage_mono : 0;
	format_duration(u->outage_ms + open_ms + u->outage_before_ms, d, sizeof(d));
	format_duration(u->outage_before_ms, w, sizeof(w));
	fprintf(u->fp, "outage: %s%s%s%s%s\n", d, u->outage_before_ms > 0 ? " in all (" : "",
		u->outage_before_ms > 0 ? w : "",
		u->outage_before_ms > 0 ? " of it before this resume)" : "",
		u->outage_open ? " so far, and STILL ONGOING: `ccrup resume` ends it" : "");
	format_duration(now_mono_ms() - u->start_mono, d, sizeof(d));
	fprintf(u->fp, "elapsed: %s\n", d);
	fflush(u->fp);
	pthread_mutex_unlock(&u->mu);
}
