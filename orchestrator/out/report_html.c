/*
 * report_html.c — the report page (see report.h, docs/report.md).
 *
 * The page is written for a person who was not there: the summary answers
 * "did it work, how long were users down", the timeline shows where the
 * time went, the failures section shows what the failing command printed,
 * and the table lists every step.  Everything that came from a file is
 * escaped; the Content-Security-Policy forbids scripts and every external
 * load, so even a mistake in escaping could not run code or phone home.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textsafe.h"

static const char css[] =
    ":root{--done:#2e7d32;--skipped:#8c959f;--failed:#c62828;--refused:#ad1457;"
    "--progress:#f9a825;--interrupted:#ef6c00;--pending:#d0d7de;--outage:#e53935;--op-skipped:#"
    "8250df}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#f6f8fa;color:#1f2328;font:14px/1.5 'DejaVu Sans','Liberation "
    "Sans',Arial,Helvetica,sans-serif}\n"
    "header{background:#24292f;color:#fff;padding:14px 32px}\n"
    "header h1{margin:0;font-size:20px;font-weight:600}\n"
    "header p{margin:2px 0 0;color:#c9d1d9;font-size:13px}\n"
    "main{padding:20px 32px;max-width:1320px}\n"
    "section.cluster{background:#fff;border:1px solid #d0d7de;border-radius:8px;"
    "padding:6px 24px 20px;margin:0 0 24px}\n"
    "h2{font-size:20px;margin:14px 0 10px}\n"
    "h3{font-size:15px;margin:22px 0 8px;color:#24292f;border-bottom:1px solid #eaeef2;"
    "padding-bottom:4px}\n"
    "h4{font-size:14px;margin:0 0 6px}\n"
    "table{border-collapse:collapse}\n"
    "table.summary th{text-align:left;font-weight:600;color:#57606a;padding:3px 28px 3px 0;"
    "vertical-align:top;white-space:nowrap}\n"
    "table.summary td{padding:3px 0}\n"
    "table.steps{width:100%;font-size:13px}\n"
    "table.steps th{text-align:left;background:#f6f8fa;border-bottom:1px solid #d0d7de;"
    "padding:6px 8px;white-space:nowrap}\n"
    "table.steps td{border-bottom:1px solid #eaeef2;padding:5px 8px;vertical-align:top}\n"
    "table.steps tr.failed td,table.steps tr.refused td{background:#fff5f5}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.id code{font-size:12.5px}\n"
    ".sub{color:#57606a;font-size:12px}\n"
    ".badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:12px;"
    "font-weight:600;color:#fff;background:#57606a;vertical-align:middle;white-space:nowrap}\n"
    ".badge.done{background:var(--done)}.badge.skipped{background:var(--skipped)}\n"
    ".badge.failed{background:var(--failed)}.badge.refused{background:var(--refused)}\n"
    ".badge.in-progress{background:var(--progress);color:#1f2328}\n"
    ".badge.interrupted{background:var(--interrupted)}\n"
    ".badge.begin,.badge.answer,.badge.gate,.badge.run-start,.badge.run-end,.badge.bind,"
    ".badge.rebind,.badge.fact,.badge.record,.badge.window,.badge.marker-taken,"
    ".badge.marker-broken,.badge.marker-released{background:#57606a}\n"
    ".badge.outage-start,.badge.outage-end{background:var(--outage)}\n"
    ".badge.abandoned{background:var(--interrupted)}\n"
    ".badge.pending{background:var(--pending);color:#1f2328}\n"
    ".alert{border-left:5px solid var(--failed);background:#ffebe9;padding:10px 14px;"
    "margin:12px 0;border-radius:4px}\n"
    ".note{border-left:5px solid #0969da;background:#ddf4ff;padding:10px 14px;margin:12px 0;"
    "border-radius:4px}\n"
    ".failure{border:1px solid #ffcecb;border-radius:6px;padding:12px 14px;margin:10px 0;"
    "background:#fffafa}\n"
    "pre{background:#161b22;color:#e6edf3;padding:10px 12px;border-radius:6px;margin:6px 0;"
    "max-height:26em;overflow:auto;white-space:pre-wrap;word-break:break-all;"
    "font:12px/1.45 'DejaVu Sans Mono','Liberation Mono',Menlo,Consolas,monospace}\n"
    "code{font-family:'DejaVu Sans Mono','Liberation Mono',Menlo,Consolas,monospace;"
    "font-size:12.5px;background:#f6f8fa;padding:1px 4px;border-radius:4px;"
    "word-break:break-all}\n"
    ".timeline-box{overflow-x:auto;border:1px solid #eaeef2;border-radius:6px;padding:6px 0}\n"
    "svg.timeline{display:block;width:100%;min-width:900px;height:auto;"
    "font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;font-size:11px}\n"
    "svg .lane-even{fill:#ffffff}svg .lane-odd{fill:#f6f8fa}\n"
    "svg .lane-label{font-size:13px;font-weight:600;fill:#24292f}\n"
    "svg .grid{stroke:#d8dee4;stroke-width:1}svg .divider{stroke:#afb8c1}\n"
    "svg .axis text{fill:#57606a}svg .muted{fill:#8c959f}\n"
    "svg .phase{fill:#ddf4ff;stroke:#54aeff;stroke-width:.8}\n"
    "svg .phase-label{fill:#0550ae;font-size:11px}\n"
    "svg .outage{fill:var(--outage);opacity:.11}\n"
    "svg .outage-bar{fill:var(--outage)}\n"
    "svg .outage-label{fill:#a40e26;font-weight:600}\n"
    "svg .bar-label{fill:#fff;font-size:11px;font-weight:600}svg .bar-label.dark{fill:#1f2328}\n"
    "svg .now-label{fill:#a40e26;font-size:11px;font-weight:600}\n"
    "svg .stop{stroke:#57606a;stroke-width:1.5;stroke-dasharray:2 2}"
    "svg .stop-label{fill:#57606a;font-size:11px}\n"
    "svg .now{stroke:#a40e26;stroke-width:1.5;stroke-dasharray:4 3}\n"
    "svg .done{fill:var(--done)}svg .skipped{fill:var(--skipped)}\n"
    "svg .failed{fill:var(--failed)}svg .refused{fill:var(--refused)}\n"
    "svg .interrupted{fill:var(--interrupted)}\n"
    "svg .killed{fill:#ffe0c2;stroke:var(--interrupted);stroke-width:1.5;"
    "stroke-dasharray:4 2}\n"
    "svg .op-skipped{fill:var(--op-skipped)}\n"
    "svg .in-progress{stroke:#b07d00;stroke-width:1}\n"
    "svg .legend text{fill:#24292f;font-size:12px}\n"
    "table.history td code,table.history td.by{white-space:nowrap;word-break:normal}\n"
    "details.output summary{cursor:pointer;color:#57606a;font-size:12px}\n"
    "details.output pre{max-height:12em}\n"
    "footer{color:#57606a;font-size:12px;padding:0 32px 24px}\n"
    "@media print{body{background:#fff}section.cluster{border:0;padding:0}"
    "pre{max-height:none}}\n";

void report_html_escape(FILE *fp, const char *s)
{
	/* What nodes printed may hold terminal escapes: shown as \xNN, like ccrup's
	 * own output, so the page (and a terminal it is cat'ed to) shows them inert. */
	char *safe = text_needs_escape(s, "\n\t") ? text_escaped(s, "\n\t") : NULL;

	if (safe != NULL)
		s = safe;
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*s, fp);
			break;
		}
	}
	free(safe);
}

static void esc(FILE *fp, const char *s)
{
	report_html_escape(fp, s);
}

static void when(int64_t ms, int date, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0) {
		snprintf(out, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, len, date ? "%Y-%m-%d %H:%M:%S UTC" : "%H:%M:%S", &tm);
}

static const char *result_class(const struct report_cluster *rc)
{
	if (rc->result == NULL)
		return rc->locked ? "in-progress" : "interrupted";
	if (strcmp(rc->result, "done") == 0 || strcmp(rc->result, "refused") == 0 ||
	    strcmp(rc->result, "interrupted") == 0 || strcmp(rc->result, "abandoned") == 0)
		return rc->result;
	return "failed";
}

static const char *result_text(const struct report_cluster *rc)
{
	if (rc->result)
		return rc->result;
	return rc->locked ? "in progress" : "unfinished";
}

static int count_status(const struct report_cluster *rc, const char *st)
{
	int n = 0;
	for (int i = 0; i < rc->nsteps; i++)
		n += strcmp(rc->steps[i].status, st) == 0;
	return n;
}

static int is_failure(const struct report_step *s)
{
	return !strcmp(s->status, "failed") || !strcmp(s->status, "refused") ||
	       !strcmp(s->status, "interrupted");
}

/* Attempts that failed, were refused, interrupted or stopped, beyond the nfail steps
 * whose last attempt did: the ones a resume or a retry went past. */
static int earlier_failures(const struct report_cluster *rc, int nfail)
{
	int n = 0;
	for (int i = 0; i < rc->nsteps; i++)
		for (int k = 0; k < rc->steps[i].nbars; k++) {
			const char *w = rc->steps[i].bars[k].kind;
			n += !strcmp(w, "failed") || !strcmp(w, "refused") ||
			     !strcmp(w, "interrupted");
		}
	return n > nfail ? n - nfail : 0;
}

static void row(FILE *fp, const char *th, const char *td)
{
	fprintf(fp, "<tr><th>");
	esc(fp, th); /* a playbook's service label among them */
	fprintf(fp, "</th><td>");
	esc(fp, td);
	fprintf(fp, "</td></tr>\n");
}

/* end: the run's end (or now); chart: where an open outage ends (now). */
static void summary(FILE *fp, const struct report_cluster *rc, int64_t end, int64_t chart)
{
	char a[48], b[48], d[32], o[96];
	int nfail = 0;
	for (int i = 0; i < rc->nsteps; i++)
		nfail += is_failure(&rc->steps[i]);
	fprintf(fp, "<table class=\"summary\">\n");
	row(fp, "Cluster", rc->name);
	if (rc->cms)
		row(fp, rc->cms_label ? rc->cms_label : "service", rc->cms);
	if (rc->transports)
		row(fp, "Transport", rc->transports);
	row(fp, "Run", rc->run_id);
	if (rc->playbook || rc->mode) {
		char *pm =
		    xasprintf("%s%s%s%s", rc->playbook ? rc->playbook : "", rc->mode ? " (" : "",
			      rc->mode ? rc->mode : "", rc->mode ? ")" : "");
		row(fp, "Playbook", pm);
		free(pm);
	}
	fprintf(fp, "<tr><th>Result</th><td><span class=\"badge %s\">", result_class(rc));
	esc(fp, result_text(rc));
	fprintf(fp, "</span>");
	if (rc->result == NULL)
		fprintf(fp, " <span class=\"sub\">%s</span>",
			rc->locked ? "a ccrup process holds the cluster's lock now"
				   : "no run-end record: the run was stopped, killed or crashed; "
				     "<code>ccrup resume</code> continues it");
	fprintf(fp, "</td></tr>\n");
	when(rc->start_ms, 1, a, sizeof(a));
	row(fp, "Started", a);
	when(rc->end_ms ? rc->end_ms : rc->last_ms, 1, b, sizeof(b));
	row(fp, rc->end_ms ? "Ended" : "Last record", b);
	format_duration(end - rc->start_ms, d, sizeof(d));
	row(fp, rc->end_ms ? "Duration" : "Duration so far", d);
	int64_t total = rc->outage_total_ms;
	int open = 0;
	for (int i = 0; i < rc->noutages; i++)
		if (rc->outages[i].end_ms == 0) {
			open = 1;
			total += chart - rc->outages[i].start_ms;
		}
	format_duration(total, d, sizeof(d));
	snprintf(o, sizeof(o), "%s%s", rc->noutages ? d : "none", open ? " and counting" : "");
	row(fp, "Service outage", o);
	fprintf(fp,
		"<tr><th>Steps</th><td>%d done &middot; %d skipped &middot; %d failed &middot; "
		"%d in progress &middot; %d pending</td></tr>\n",
		count_status(rc, "done"), count_status(rc, "skipped"), nfail,
		count_status(rc, "in-progress"), count_status(rc, "pending"));
	int earlier = earlier_failures(rc, nfail);
	fprintf(fp, "<tr><th>Failures</th><td>%d", nfail);
	if (earlier)
		fprintf(fp,
			" (and %d earlier attempt%s that failed, were interrupted or stopped, "
			"then tried again: see History)",
			earlier, earlier == 1 ? "" : "s");
	fprintf(fp, "</td></tr>\n");
	if (rc->earlier_runs)
		fprintf(fp,
			"<tr><th>Earlier runs</th><td>%d archived journal(s) beside this one"
			"</td></tr>\n",
			rc->earlier_runs);
	fprintf(fp, "</table>\n");
}

static void alerts(FILE *fp, const struct report_cluster *rc, int64_t end)
{
	char t[48], d[32];
	for (int i = 0; i < rc->noutages; i++) {
		if (rc->outages[i].end_ms)
			continue;
		when(rc->outages[i].start_ms, 1, t, sizeof(t));
		format_duration(end - rc->outages[i].start_ms, d, sizeof(d));
		fprintf(fp,
			"<div class=\"alert\"><strong>Outage ongoing</strong> since %s (%s): "
			"%s</div>\n",
			t, d,
			rc->result && strcmp(rc->result, "abandoned") == 0
			    ? "the run was abandoned: the service is down until someone brings it "
			      "back by hand."
			    : "the service is down until the run is resumed and finishes the "
			      "outage phase.");
	}
	if (rc->result_detail && rc->result && strcmp(rc->result, "abandoned") == 0) {
		fprintf(fp, "<div class=\"alert\"><strong>The run was abandoned</strong> "
			    "(<code>ccrup abandon</code>; the next <code>ccrup apply</code> starts "
			    "a new run): ");
		esc(fp, rc->result_detail);
		fprintf(fp, "</div>\n");
	} else if (rc->result_detail && rc->result && strcmp(rc->result, "done") != 0) {
		fprintf(fp, "<div class=\"alert\"><strong>The run stopped:</strong> ");
		esc(fp, rc->result_detail);
		fprintf(fp, "</div>\n");
	}
	if (rc->message) {
		fprintf(fp, "<div class=\"note\">");
		esc(fp, rc->message);
		fprintf(fp, "</div>\n");
	}
}

static void failure(FILE *fp, const struct report_cluster *rc, const struct report_step *s)
{
	fprintf(fp, "<div class=\"failure\"><h4>");
	if (s->index)
		fprintf(fp, "#%d ", s->index);
	fprintf(fp, "<code>");
	esc(fp, s->id);
	fprintf(fp, "</code> on ");
	esc(fp, s->node ? s->node : "-");
	fprintf(fp, " <span class=\"badge %s\">%s</span></h4>\n", s->status, s->status);
	if (s->reason) {
		fprintf(fp, "<p>");
		esc(fp, s->reason);
		fprintf(fp, "</p>\n");
	}
	const char *cmd = s->has_output ? s->out_cmd : s->command;
	if (cmd) {
		fprintf(fp, "<p>Command: <code>");
		esc(fp, cmd);
		fprintf(fp, "</code>");
		if (s->has_output)
			fprintf(fp, " &rarr; exit %d", s->out_exit);
		fprintf(fp, "</p>\n");
	}
	if (s->has_output) {
		const char *label[] = {"stderr", "stdout"};
		const char *text[] = {s->out_stderr, s->out_stdout};
		for (int k = 0; k < 2; k++) {
			if (text[k] == NULL || text[k][0] == '\0')
				continue;
			fprintf(fp, "<div class=\"sub\">%s (last lines)</div><pre>", label[k]);
			esc(fp, text[k]);
			fprintf(fp, "</pre>\n");
		}
	} else {
		fprintf(fp, "<p class=\"sub\">%s</p>\n",
			rc->audit_found ? "The audit log has no command output for this step."
					: "No audit log (audit.jsonl): command output is not "
					  "available.");
	}
	fprintf(fp, "</div>\n");
}

static void failures(FILE *fp, const struct report_cluster *rc)
{
	int n = 0;
	for (int i = 0; i < rc->nsteps; i++)
		n += is_failure(&rc->steps[i]);
	if (n == 0 && rc->nstops == 0)
		return;
	/* No step failed now: the runner's messages are of stops a resume went past. */
	fprintf(fp, "<h3>%s</h3>\n", n ? "Failures" : "Earlier stops");
	if (n == 0)
		fprintf(fp, "<p class=\"sub\">No step has failed in the end; the run stopped "
			    "earlier, and was resumed:</p>\n");
	for (int i = 0; i < rc->nsteps; i++)
		if (is_failure(&rc->steps[i]))
			failure(fp, rc, &rc->steps[i]);
	for (int i = 0; i < rc->nstops; i++) {
		fprintf(fp, "<p class=\"sub\">Runner: ");
		esc(fp, rc->stops[i]);
		fprintf(fp, "</p>\n");
	}
}

/* "3 attempts: interrupted, failed, done" for a step begun more than once (as status). */
static void attempts_line(FILE *fp, const struct report_step *s)
{
	if (s->attempts < 2)
		return;
	fprintf(fp, "<div class=\"sub\">%d attempts:", s->attempts);
	for (int k = 0, n = 0; k < s->nbars; k++)
		if (s->bars[k].attempt > 0)
			fprintf(fp, "%s %s", n++ ? "," : "",
				s->bars[k].killed ? "stopped" : s->bars[k].kind);
	fprintf(fp, "</div>");
}

static void step_row(FILE *fp, const struct report_step *s, int64_t end)
{
	char t[32] = "", d[40] = "", x[16] = "";
	when(s->start_ms, 0, t, sizeof(t));
	if (s->end_ms) {
		format_duration(s->end_ms - s->start_ms, d, sizeof(d));
	} else if (s->start_ms && strcmp(s->status, "in-progress") == 0) {
		char r[32];
		format_duration(end - s->start_ms, r, sizeof(r));
		snprintf(d, sizeof(d), "%s so far", r);
	}
	if (s->exit >= 0)
		snprintf(x, sizeof(x), "%d", s->exit);
	fprintf(fp, "<tr class=\"%s\"><td class=\"num\">", s->status);
	if (s->index)
		fprintf(fp, "%d", s->index);
	fprintf(fp, "</td><td class=\"id\"><code>");
	esc(fp, s->id);
	fprintf(fp, "</code>");
	if (s->name || s->reason) {
		fprintf(fp, "<div class=\"sub\">");
		esc(fp, s->name);
		fprintf(fp, "%s", s->name && s->reason ? " &middot; " : "");
		esc(fp, s->reason);
		fprintf(fp, "</div>");
	}
	attempts_line(fp, s);
	fprintf(fp, "</td><td>");
	esc(fp, s->node ? s->node : "-");
	fprintf(fp,
		"</td><td><span class=\"badge %s\">%s</span></td><td class=\"num\">%s</td>"
		"<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
		s->status, s->status, t, d, x);
}

static void steps_table(FILE *fp, const struct report_cluster *rc, int64_t end)
{
	fprintf(fp, "<h3>Steps</h3>\n<table class=\"steps\"><thead><tr><th>#</th><th>Step</th>"
		    "<th>Node</th><th>Status</th><th>Start (UTC)</th><th>Duration</th>"
		    "<th>Exit</th></tr></thead><tbody>\n");
	for (int i = 0; i < rc->nsteps; i++)
		step_row(fp, &rc->steps[i], end);
	fprintf(fp, "</tbody></table>\n");
}

/* A step whose history is more than one begin and its done: show every record. */
static int eventful(const struct report_step *s)
{
	if (s->attempts > 1)
		return 1;
	for (int k = 0; k < s->nhist; k++) {
		const char *w = s->hist[k].what;
		if (strcmp(w, "failed") == 0 || strcmp(w, "refused") == 0 ||
		    strcmp(w, "interrupted") == 0 || strcmp(w, "answer") == 0 ||
		    strcmp(w, "gate") == 0 || s->hist[k].operator_ms > 0 ||
		    (strcmp(w, "skipped") == 0 && s->hist[k].text &&
		     strstr(s->hist[k].text, "operator") != NULL))
			return 1;
	}
	return 0;
}

/* A begin's command output from the audit log, folded: each attempt keeps its own. */
static void attempt_output(FILE *fp, const struct report_attempt *h)
{
	const char *label[] = {"stderr", "stdout"};
	const char *text[] = {h->out_stderr, h->out_stdout};
	for (int k = 0; k < 2; k++) {
		if (text[k] == NULL || text[k][0] == '\0')
			continue;
		fprintf(fp, "<details class=\"output\"%s><summary>%s (exit %d)</summary><pre>",
			k == 0 && h->out_exit != 0 ? " open" : "", label[k], h->out_exit);
		esc(fp, text[k]);
		fprintf(fp, "</pre></details>");
	}
}

static void history_row(FILE *fp, const struct report_step *s, const struct report_attempt *h)
{
	char t[32] = "", d[40] = "", w[40] = "", x[16] = "", p[24] = "first run";

	when(h->time_ms, 0, t, sizeof(t));
	if (h->duration_ms)
		format_duration(h->duration_ms, d, sizeof(d));
	if (h->operator_ms)
		format_duration(h->operator_ms, w, sizeof(w));
	if (h->exit >= 0)
		snprintf(x, sizeof(x), "%d", h->exit);
	if (h->session)
		snprintf(p, sizeof(p), "resume %d", h->session);
	fprintf(fp, "<tr class=\"%s\"><td class=\"num\">%s</td><td>%s</td><td><code>", h->what, t,
		p);
	esc(fp, s->id);
	fprintf(fp, "</code></td><td>");
	esc(fp, s->node ? s->node : "-");
	fprintf(fp, "</td><td><span class=\"badge %s\">%s</span></td><td class=\"by\">", h->what,
		h->what);
	esc(fp, h->by);
	fprintf(
	    fp,
	    "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td>",
	    x, d, w);
	esc(fp, h->text);
	attempt_output(fp, h);
	fprintf(fp, "</td></tr>\n");
}

/* Every attempt of every step that did not simply begin and finish: retries, failures,
 * interruptions, the operator's answers and waits, and which process (run or resume). */
static void history(FILE *fp, const struct report_cluster *rc)
{
	int n = 0;
	for (int i = 0; i < rc->nsteps; i++)
		n += eventful(&rc->steps[i]);
	fprintf(fp, "<h3>History</h3>\n<p class=\"sub\">The run was resumed %d time%s. ",
		rc->resumes, rc->resumes == 1 ? "" : "s");
	if (n == 0) {
		fprintf(fp, "Every step ran once, without failure or operator answer.</p>\n");
		return;
	}
	fprintf(fp,
		"Every record of the %d step%s that failed, were retried, interrupted, "
		"refused or answered by the operator (\"Ran\": the time the step ran; "
		"\"Operator\": the time spent waiting for the operator's answers).</p>\n",
		n, n == 1 ? "" : "s");
	fprintf(fp, "<table class=\"steps history\"><thead><tr><th>Time (UTC)</th><th>Process</th>"
		    "<th>Step</th><th>Node</th><th>Event</th><th>By</th><th>Exit</th><th>Ran</th>"
		    "<th>Operator</th><th>Reason / answer</th></tr></thead><tbody>\n");
	for (int i = 0; i < rc->nsteps; i++)
		if (eventful(&rc->steps[i]))
			for (int k = 0; k < rc->steps[i].nhist; k++)
				history_row(fp, &rc->steps[i], &rc->steps[i].hist[k]);
	fprintf(fp, "</tbody></table>\n");
}

/* Each outage: the step that began it, when, the step that ended it, how long. */
static void outages(FILE *fp, const struct report_cluster *rc, int64_t chart)
{
	if (rc->noutages == 0)
		return;
	fprintf(fp, "<h3>Outages</h3>\n<table class=\"steps outages\"><thead><tr><th>#</th>"
		    "<th>Began with</th><th>Start (UTC)</th><th>Ended with</th><th>End (UTC)</th>"
		    "<th>Duration</th></tr></thead><tbody>\n");
	for (int i = 0; i < rc->noutages; i++) {
		const struct report_outage *o = &rc->outages[i];
		char a[48] = "", b[48] = "still open", d[48];
		when(o->start_ms, 1, a, sizeof(a));
		if (o->end_ms)
			when(o->end_ms, 1, b, sizeof(b));
		format_duration((o->end_ms ? o->end_ms : chart) - o->start_ms, d, sizeof(d));
		fprintf(fp, "<tr><td class=\"num\">%d</td><td><code>", i + 1);
		esc(fp, o->from_step);
		fprintf(fp, "</code></td><td class=\"num\">%s</td><td><code>", a);
		esc(fp, o->to_step ? o->to_step : "-");
		fprintf(fp,
			"</code></td><td class=\"num\">%s</td><td class=\"num\">%s%s</td></tr>\n",
			b, d, o->end_ms ? "" : " so far");
	}
	fprintf(fp, "</tbody></table>\n");
}

static void cluster(FILE *fp, const struct report_cluster *rc, int64_t now_ms, int seq)
{
	fprintf(fp, "<section class=\"cluster\" id=\"cluster-%d\">\n<h2>", seq);
	esc(fp, rc->name);
	if (rc->state != REPORT_OK) {
		fprintf(fp, " <span class=\"badge %s\">%s</span></h2>\n",
			rc->state == REPORT_CORRUPT ? "failed" : "pending",
			rc->state == REPORT_CORRUPT	 ? "journal corrupt"
			: rc->state == REPORT_UNREADABLE ? "journal unreadable"
							 : "no run");
		fprintf(fp, "<div class=\"%s\">", rc->state == REPORT_CORRUPT ? "alert" : "note");
		esc(fp, rc->message);
		fprintf(fp, "</div>\n</section>\n");
		return;
	}
	fprintf(fp, " <span class=\"badge %s\">", result_class(rc));
	esc(fp, result_text(rc));
	fprintf(fp, "</span></h2>\n");
	int64_t end = rc->end_ms ? rc->end_ms : now_ms, chart;
	if (end < rc->last_ms)
		end = rc->last_ms;
	chart = end; /* an outage still open lasts until now, even after the run stopped */
	for (int i = 0; i < rc->noutages; i++)
		if (rc->outages[i].end_ms == 0 && now_ms > chart)
			chart = now_ms;
	alerts(fp, rc, chart);
	summary(fp, rc, end, chart);
	fprintf(fp, "<h3>Timeline</h3>\n<div class=\"timeline-box\">\n");
	report_svg_timeline(fp, rc, chart, seq);
	fprintf(fp, "</div>\n");
	failures(fp, rc);
	outages(fp, rc, chart);
	history(fp, rc);
	steps_table(fp, rc, end);
	fprintf(fp, "</section>\n");
}

int report_write_html(FILE *fp, struct report_cluster *const *rcs, int n, int64_t now_ms,
		      const char *title)
{
	char gen[48];
	when(now_ms, 1, gen, sizeof(gen));
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'; img-src data:\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>ccrup report");
	for (int i = 0; i < n && i < 4; i++) {
		fprintf(fp, "%s", i ? ", " : ": ");
		esc(fp, rcs[i]->name);
	}
	fprintf(fp,
		"%s</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>ccrup upgrade "
		"report</h1><p>",
		n > 4 ? ", ..." : "", css);
	if (title) {
		fprintf(fp, "inventory ");
		esc(fp, title);
		fprintf(fp, " &middot; ");
	}
	fprintf(fp, "%d cluster%s &middot; generated %s</p></header>\n<main>\n", n,
		n == 1 ? "" : "s", gen);
	for (int i = 0; i < n; i++)
		cluster(fp, rcs[i], now_ms, i + 1);
	fprintf(fp, "</main>\n<footer>Generated by <code>ccrup report</code> from the journal "
		    "(journal.jsonl) and the audit log (audit.jsonl). Times are UTC. Hover a bar "
		    "for its details.</footer>\n</body>\n</html>\n");
	fflush(fp);
	return ferror(fp) ? -1 : 0;
}
