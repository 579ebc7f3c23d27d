/*
 * sim_seq.c — cmd.exe's own share of a command line: `cmd [/v:on] /c LINE`.
 *
 * cmd reads LINE once: it expands %errorlevel% (0 in a fresh cmd), splits
 * the line on `&` (and the conditional `&&`, `||`) outside double quotes,
 * then runs the segments one after the other in the one process.  Each
 * segment is a command exactly as if it had come alone (sim_cmd.c counts
 * it, faults and events match it, its steps take their simulated time);
 * the next segment starts at the world time the previous one finished.
 * With delayed expansion (/v:on) `!errorlevel!` is expanded when a segment
 * starts, so it reads the status of the segment before; without it the text
 * stays as typed.  `echo` is cmd's built-in: it writes its text (to stderr
 * with `1>&2` or `>&2`), runs no program, is not counted and no fault
 * matches it.  The line's exit status is the last segment's that ran.
 *
 * A compound line is one action whose state (struct sim_seq) holds the
 * running segment's own action: polling it polls the segment, and a
 * segment that hangs hangs the line after the earlier segments' output was
 * delivered.  A drop fault of a later segment is armed only at the start of
 * a poll, so that the server counts its bytes from that segment's first
 * (sim_action_drop_after says so; the server keeps the base).
 */
#include "sim_cmd_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum seq_conn {
	SEQ_ALWAYS, /* `&`: runs whatever came before */
	SEQ_AND,    /* `&&`: runs if the segment before succeeded */
	SEQ_OR,	    /* `||`: runs if the segment before failed */
};

struct seq_seg {
	char *text;	   /* the segment as split, blanks kept (owned) */
	enum seq_conn how; /* how it joins the segment before it */
};

struct sim_seq {
	struct seq_seg *segs;	/* segments in line order (owned) */
	int nsegs;		/* count of segs */
	int cur;		/* next segment to start (or the running one's index + 1) */
	struct sim_action *run; /* the running segment's action, NULL between segments */
	int64_t next_start;	/* world ms the next segment starts */
	int errorlevel;		/* exit status of the last segment that ran (0 before) */
	int delayed;		/* 1: /v:on, !errorlevel! is expanded when a segment starts */
	int64_t drop_after;	/* a segment's drop fault: bytes from its start, -1 none */
	int drop_armed;		/* 1 once drop_after applies (the server takes its base) */
	int stopped;		/* 1 once aborted: nothing more runs */
	struct sbuf log;	/* "[i] exec SEG" / "[i] exit N" lines not yet taken */
};

/* ---- reading the line ---- */

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* End of a blank-delimited token; a leading quote runs to its closing quote. */
static const char *token_end(const char *p)
{
	if (*p == '"') {
		const char *q = strchr(p + 1, '"');
		return q != NULL ? q + 1 : p + strlen(p);
	}
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	return p;
}

static int is_cmd_program(const char *p, const char *end)
{
	char *tok = xstrndup(p, (size_t)(end - p));
	char *d = tok;
	for (const char *c = tok; *c != '\0'; c++)
		if (*c != '"')
			*d++ = *c;
	*d = '\0';
	char *base = sim_prog_base(tok);
	int yes = strcmp(base, "cmd") == 0 || strcmp(base, "cmd.exe") == 0;
	free(base);
	free(tok);
	return yes;
}

/*
 * cmd /c's rule for quotes: the quotes stay when there are exactly two, no
 * special character between them, a blank between them and they name a
 * program (a name ending in .exe, .com, .bat or .cmd); otherwise (and
 * always with /s) the first and the last quote are removed.
 */
static int keep_quotes(const char *rest)
{
	const char *q2 = strchr(rest + 1, '"');
	if (q2 == NULL || strchr(q2 + 1, '"') != NULL)
		return 0;
	size_t n = (size_t)(q2 - rest - 1);
	if (strcspn(rest + 1, "&<>()@^|") < n || strcspn(rest + 1, " \t") >= n || n < 4)
		return 0;
	static const char *const exts[] = {".exe", ".com", ".bat", ".cmd"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(exts); i++)
		if (strncasecmp(q2 - 4, exts[i], 4) == 0)
			return 1;
	return 0;
}

static char *strip_quotes(const char *rest, int s_switch)
{
	char *s = xstrdup(rest);
	char *last = strrchr(s, '"');
	if (s[0] != '"' || (!s_switch && keep_quotes(s)))
		return s;
	if (last != s)
		memmove(last, last + 1, strlen(last));
	memmove(s, s + 1, strlen(s));
	return s;
}

/* Replace every case-insensitive `name` in s by value (new string). */
static char *expand(const char *s, const char *name, int value)
{
	struct sbuf sb;
	size_t n = strlen(name);
	sbuf_init(&sb);
	while (*s != '\0') {
		if (strncasecmp(s, name, n) == 0) {
			sbuf_addf(&sb, "%d", value);
			s += n;
		} else {
			sbuf_addc(&sb, *s++);
		}
	}
	return sbuf_detach(&sb);
}

int sim_cmdline_parse(const char *line, char **rest, int *delayed)
{
	const char *p = skip_blanks(line);
	const char *end = token_end(p);
	int s_switch = 0;
	*rest = NULL;
	*delayed = 0;
	if (end == p || !is_cmd_program(p, end))
		return 0;
	for (p = skip_blanks(end); *p == '/'; p = skip_blanks(end)) {
		end = token_end(p);
		size_t n = (size_t)(end - p);
		if (n == 2 && (p[1] == 'c' || p[1] == 'C')) {
			char *raw = strip_quotes(skip_blanks(end), s_switch);
			*rest = expand(raw, "%errorlevel%", 0); /* parse time: a fresh cmd's 0 */
			free(raw);
			return 1;
		}
		if (n >= 2 && (p[1] == 'v' || p[1] == 'V'))
			*delayed = !(n == 6 && strncasecmp(p, "/v:off", 6) == 0);
		if (n == 2 && (p[1] == 's' || p[1] == 'S'))
			s_switch = 1;
	}
	return 0;
}

/* ---- splitting ---- */

static void seg_push(struct sim_seq *q, struct sbuf *sb, enum seq_conn how)
{
	q->segs = xreallocarray(q->segs, (size_t)q->nsegs + 1, sizeof(*q->segs));
	q->segs[q->nsegs].text = sbuf_detach(sb);
	q->segs[q->nsegs].how = how;
	q->nsegs++;
}

/*
 * Split on `&`, `&&`, `||` outside double quotes; `^` escapes the next
 * character; `>&` / `<&` are handle redirections, not separators.  A lone
 * `|` (a pipe) is refused: -1.  Blank segments are dropped.
 */
static int split(struct sim_seq *q, const char *s)
{
	struct sbuf sb;
	enum seq_conn how = SEQ_ALWAYS;
	int inq = 0;
	sbuf_init(&sb);
	for (const char *p = s; *p != '\0'; p++) {
		int sep = !inq && (*p == '&' || *p == '|');
		if (*p == '"')
			inq = !inq;
		if (!inq && *p == '^' && p[1] != '\0') {
			sbuf_addc(&sb, *++p);
			continue;
		}
		if (sep && *p == '&' && p > s && (p[-1] == '>' || p[-1] == '<'))
			sep = 0;
		if (sep && *p == '|' && p[1] != '|') {
			sbuf_release(&sb);
			return -1;
		}
		if (!sep) {
			sbuf_addc(&sb, *p);
			continue;
		}
		if (*skip_blanks(sb.buf != NULL ? sb.buf : "") != '\0')
			seg_push(q, &sb, how);
		sbuf_reset(&sb);
		how = p[1] != *p ? SEQ_ALWAYS : *p == '&' ? SEQ_AND : SEQ_OR;
		p += how != SEQ_ALWAYS;
	}
	if (*skip_blanks(sb.buf != NULL ? sb.buf : "") != '\0')
		seg_push(q, &sb, how);
	sbuf_release(&sb);
	return 0;
}

/* ---- echo, cmd's built-in ---- */

/* Remove a `1>&2` or `>&2` outside quotes; 1 if one was there. */
static int take_redirect(char *s)
{
	int inq = 0;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '"')
			inq = !inq;
		size_t n = strncmp(p, "1>&2", 4) == 0 ? 4 : strncmp(p, ">&2", 3) == 0 ? 3 : 0;
		if (!inq && n > 0) {
			memmove(p, p + n, strlen(p + n) + 1);
			return 1;
		}
	}
	return 0;
}

static void echo_step(struct sim_action *a, int64_t at)
{
	(void)at;
	const char *p = skip_blanks(a->line) + 4; /* after "echo" */
	char *text = xstrdup(*p != '\0' ? p + 1 : p);
	int to_err = take_redirect(text);
	const char *said = *skip_blanks(text) == '\0' && (*p == '\0' || *p == ' ' || *p == '\t')
			       ? "ECHO is on."
			       : text;
	if (to_err)
		sim_act_err(a, "%s\n", said);
	else
		sim_act_out(a, "%s\n", said);
	free(text);
	sim_act_exit(a, 0);
}

static int is_echo(const char *seg)
{
	const char *p = skip_blanks(seg);
	return strncasecmp(p, "echo", 4) == 0 &&
	       (p[4] == '\0' || p[4] == ' ' || p[4] == '\t' || p[4] == '.');
}

/* One segment as cmd runs it: echo itself, anything else as its own command. */
static struct sim_action *segment_exec(struct sim_world *w, int host, const char *seg, int64_t at)
{
	if (!is_echo(seg))
		return sim_run_line(w, host, seg, at);
	struct sim_action *a = sim_action_new(w, host, seg, at);
	sim_act_then(a, echo_step, at);
	return a;
}

/* ---- running the segments ---- */

static int seg_wanted(const struct sim_seq *q, int i)
{
	return q->segs[i].how == SEQ_ALWAYS || (q->segs[i].how == SEQ_AND) == (q->errorlevel == 0);
}

/*
 * Start the next segment that cmd would run (none left: the line is done).
 * Returns 1 if the poll must stop here: the segment carries a drop fault and
 * output of earlier segments is still in this poll's hands.
 */
static int seq_start_next(struct sim_action *a, int output_pending)
{
	struct sim_seq *q = a->seq;
	while (q->cur < q->nsegs && !seg_wanted(q, q->cur))
		q->cur++;
	if (q->cur == q->nsegs) {
		sim_act_exit(a, q->errorlevel);
		return 0;
	}
	const char *text = q->segs[q->cur].text;
	char *line = q->delayed ? expand(text, "!errorlevel!", q->errorlevel) : xstrdup(text);
	q->cur++;
	const char *b = skip_blanks(line), *e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	sbuf_addf(&q->log, "[%d] exec %.*s\n", q->cur, (int)(e - b), b);
	q->run = segment_exec(a->w, a->host, line, q->next_start);
	free(line);
	if (q->drop_after < 0 && sim_action_drop_after(q->run) >= 0) {
		q->drop_after = sim_action_drop_after(q->run);
		q->drop_armed = !output_pending;
		return output_pending;
	}
	return 0;
}

static void seq_end_segment(struct sim_action *a, int code)
{
	struct sim_seq *q = a->seq;
	sbuf_addf(&q->log, "[%d] exit %d\n", q->cur, code);
	q->errorlevel = code;
	q->next_start = q->run->done_at;
	sim_action_free(q->run);
	q->run = NULL;
}

int sim_seq_poll(struct sim_action *a, int64_t now, struct sbuf *out, struct sbuf *err,
		 int *exit_code)
{
	struct sim_seq *q = a->seq;
	size_t before = out->len + err->len;
	int code;
	if (q->drop_after >= 0)
		q->drop_armed = 1;
	while (!a->done && !q->stopped) {
		if (q->run == NULL) {
			if (q->next_start > now ||
			    seq_start_next(a, out->len + err->len > before) != 0)
				break;
			continue;
		}
		if (sim_action_poll(q->run, now, out, err, &code) == 0)
			break;
		seq_end_segment(a, code);
		if (q->drop_armed && !a->done)
			break; /* one segment a poll: the server cuts in the order output came */
	}
	if (!a->done)
		return 0;
	*exit_code = a->exit_code;
	return 1;
}

int64_t sim_seq_next_ms(const struct sim_action *a)
{
	const struct sim_seq *q = a->seq;
	if (a->done)
		return a->start;
	if (q->stopped)
		return SIM_NEVER;
	return q->run != NULL ? sim_action_next_ms(q->run) : q->next_start;
}

int64_t sim_seq_drop_after(const struct sim_action *a)
{
	return a->seq->drop_armed ? a->seq->drop_after : -1;
}

int64_t sim_seq_slow_ms(const struct sim_action *a)
{
	return a->seq->run != NULL ? sim_action_slow_ms(a->seq->run) : 0;
}

/* What was due by now still ran; the running segment is interrupted, no later one starts. */
void sim_seq_abort(struct sim_action *a, int64_t now)
{
	struct sim_seq *q = a->seq;
	struct sbuf out, err;
	int code;
	sbuf_init(&out);
	sbuf_init(&err);
	sim_seq_poll(a, now, &out, &err, &code);
	sbuf_release(&out);
	sbuf_release(&err);
	if (q->run != NULL && !q->run->done)
		sim_action_abort(q->run, now);
	q->stopped = 1;
}

void sim_seq_take_log(struct sim_action *a, struct sbuf *log)
{
	sbuf_add(log, a->seq->log.buf, a->seq->log.len);
	sbuf_reset(&a->seq->log);
}

void sim_seq_free(struct sim_seq *q)
{
	if (q == NULL)
		return;
	sim_action_free(q->run);
	for (int i = 0; i < q->nsegs; i++)
		free(q->segs[i].text);
	free(q->segs);
	sbuf_release(&q->log);
	free(q);
}

static void pipe_refused(struct sim_action *a, int64_t at)
{
	(void)at;
	sim_act_err(a, "ccrsim: a pipe (|) in a cmd line is not supported\n");
	sim_act_exit(a, 1);
}

/* A line of one segment: that command alone (delayed expansion still applies). */
static struct sim_action *seq_single(struct sim_world *w, int host, const char *seg, int delayed,
				     int64_t now)
{
	char *x = delayed ? expand(seg, "!errorlevel!", 0) : xstrdup(seg);
	struct sim_action *a = segment_exec(w, host, x, now);
	free(x);
	return a;
}

struct sim_action *sim_seq_exec(struct sim_world *w, int host, const char *line, const char *rest,
				int delayed, int64_t now)
{
	struct sim_seq *q = xcalloc(1, sizeof(*q));
	struct sim_action *a = NULL;
	sbuf_init(&q->log);
	q->drop_after = -1;
	q->delayed = delayed;
	q->next_start = now;
	if (split(q, rest) != 0) {
		a = sim_action_new(w, host, line, now);
		sim_act_then(a, pipe_refused, now);
	} else if (q->nsegs <= 1) {
		a = seq_single(w, host, q->nsegs == 1 ? q->segs[0].text : "", delayed, now);
	} else {
		a = sim_action_new(w, host, line, now);
		a->seq = q;
		seq_start_next(a, 0);
		return a;
	}
	sim_seq_free(q);
	return a;
}
