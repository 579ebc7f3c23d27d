/*
 * report_svg.c — the report's timeline as inline SVG (see report.h).
 *
 * Layout, top to bottom: clock labels, a row of phase spans, one lane for
 * the service (the CMS) holding the outage and the steps that have no node,
 * then one lane per node; a legend last.  Time runs left to right from the
 * run's start to its end (or now).  The outage is a translucent red band
 * across every lane plus a solid bar in the service lane, so it reads at a
 * glance which steps on which node the users were down for.  Every bar has
 * a <title>, the browser's native tooltip: no script is needed.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVG_W	   1200 /* viewBox width */
#define LABEL_W	   150	/* lane labels on the left */
#define RIGHT_PAD  24
#define AXIS_Y	   18 /* baseline of the clock labels */
#define PHASE_Y	   28 /* phase row */
#define PHASE_H	   20
#define LANES_Y	   60 /* first lane */
#define LANE_H	   34
#define BAR_H	   18
#define CHAR_W	   6.6 /* average advance of an 11px sans-serif character */
#define MIN_BAR_PX 3.0
#define LEGEND_ROW 20 /* the legend takes two rows */
#define WAIT_H	   5  /* the strip that shows a wait for the operator */

struct geo {
	int64_t t0, t1; /* time span shown */
	double pw;	/* plot width */
	int nlanes;	/* service lane + node lanes */
	int height;	/* whole SVG */
	int seq;	/* id suffix */
};

static double xof(const struct geo *g, int64_t t)
{
	if (t < g->t0)
		t = g->t0;
	if (t > g->t1)
		t = g->t1;
	return LABEL_W + (double)(t - g->t0) * g->pw / (double)(g->t1 - g->t0);
}

static int lanes_bottom(const struct geo *g)
{
	return LANES_Y + g->nlanes * LANE_H;
}

/* Lane of a step: 0 = service, i + 1 = rc->lanes[i]. */
static int lane_of(const struct report_cluster *rc, const char *node)
{
	for (int i = 0; node && i < rc->nlanes; i++)
		if (strcmp(rc->lanes[i], node) == 0)
			return i + 1;
	return 0;
}

static void clock_label(int64_t ms, int secs, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, secs ? "%H:%M:%S" : "%H:%M", &tm);
}

static void axis(FILE *fp, const struct geo *g)
{
	static const int64_t steps[] = {1000,	 2000,	  5000,	    10000,    15000,	30000,
					60000,	 120000,  300000,   600000,   900000,	1800000,
					3600000, 7200000, 10800000, 21600000, 43200000, 86400000};
	int64_t span = g->t1 - g->t0, step = steps[CCR_ARRAY_LEN(steps) - 1];
	char lab[16];

	for (size_t i = 0; i < CCR_ARRAY_LEN(steps); i++)
		if (span / steps[i] <= 8) {
			step = steps[i];
			break;
		}
	fprintf(fp, "<g class=\"axis\">\n<text x=\"%d\" y=\"%d\" class=\"muted\">UTC</text>\n",
		LABEL_W - 36, AXIS_Y);
	for (int64_t t = (g->t0 + step - 1) / step * step; t <= g->t1; t += step) {
		double x = xof(g, t);
		clock_label(t, step < 60000, lab, sizeof(lab));
		fprintf(fp,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, AXIS_Y + 6, x, lanes_bottom(g), x, AXIS_Y, lab);
	}
	fprintf(fp, "</g>\n");
}

/* Text that fits in width px, shortened with an ellipsis; NULL if not even 3 chars fit. */
static char *fit(const char *s, double width)
{
	size_t n = strlen(s), room = width > 8 ? (size_t)((width - 8) / CHAR_W) : 0;
	if (n <= room)
		return xstrdup(s);
	if (room < 4)
		return NULL;
	return xasprintf("%.*s\u2026", (int)(room - 1), s);
}

static void phases(FILE *fp, const struct report_cluster *rc, const struct geo *g)
{
	fprintf(fp, "<g class=\"phases\">\n");
	for (int i = 0; i < rc->nsteps; i++) {
		const struct report_step *s = &rc->steps[i];
		int first = 1;
		for (int k = 0; k < i && first; k++)
			first =
			    strcmp(rc->steps[k].phase, s->phase) != 0 || rc->steps[k].start_ms == 0;
		if (!first || s->start_ms == 0)
			continue;
		int64_t a = s->start_ms, b = 0;
		for (int k = i; k < rc->nsteps; k++) {
			const struct report_step *o = &rc->steps[k];
			if (strcmp(o->phase, s->phase) != 0 || o->start_ms == 0)
				continue;
			a = o->start_ms < a ? o->start_ms : a;
			int64_t e = o->end_ms ? o->end_ms : g->t1;
			b = e > b ? e : b;
		}
		double x1 = xof(g, a), x2 = xof(g, b);
		if (x2 - x1 < 2)
			x2 = x1 + 2;
		char *label = fit(s->phase, x2 - x1);
		fprintf(fp,
			"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"3\" "
			"class=\"phase\"><title>phase ",
			x1, PHASE_Y, x2 - x1, PHASE_H);
		report_html_escape(fp, s->phase);
		fprintf(fp, "</title></rect>\n");
		if (label) {
			fprintf(fp, "<text x=\"%.1f\" y=\"%d\" class=\"phase-label\">", x1 + 4,
				PHASE_Y + 14);
			report_html_escape(fp, label);
			fprintf(fp, "</text>\n");
		}
		free(label);
	}
	fprintf(fp, "</g>\n");
}

static void lane_frames(FILE *fp, const struct report_cluster *rc, const struct geo *g)
{
	for (int l = 0; l < g->nlanes; l++) {
		int y = LANES_Y + l * LANE_H;
		const char *name = l ? rc->lanes[l - 1] : NULL;
		fprintf(fp, "<g class=\"lane\" data-lane=\"");
		if (name)
			report_html_escape(fp, name);
		else
			fprintf(fp, "service");
		fprintf(fp,
			"\"><rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"%s\"/>"
			"<text x=\"10\" y=\"%d\" class=\"lane-label\">",
			y, SVG_W, LANE_H, l % 2 ? "lane-odd" : "lane-even", y + LANE_H / 2 + 5);
		if (name) {
			report_html_escape(fp, name);
		} else if (rc->cms) {
			report_html_escape(fp, rc->cms_label ? rc->cms_label : "service");
			fprintf(fp, " ");
			report_html_escape(fp, rc->cms);
		} else {
			fprintf(fp, "service");
		}
		fprintf(fp, "</text></g>\n");
	}
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"divider\"/>\n", LABEL_W,
		LANES_Y, LABEL_W, lanes_bottom(g));
}

static void outages(FILE *fp, const struct report_cluster *rc, const struct geo *g)
{
	char dur[32];
	for (int i = 0; i < rc->noutages; i++) {
		const struct report_outage *o = &rc->outages[i];
		int64_t end = o->end_ms ? o->end_ms : g->t1;
		double x1 = xof(g, o->start_ms), x2 = xof(g, end);
		if (x2 - x1 < MIN_BAR_PX)
			x2 = x1 + MIN_BAR_PX;
		format_duration(end - o->start_ms, dur, sizeof(dur));
		char *text = xasprintf(o->end_ms ? "outage %s" : "outage ongoing (%s)", dur);
		fprintf(fp,
			"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" class=\"outage\"/>"
			"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\" "
			"class=\"outage-bar\"><title>",
			x1, PHASE_Y, x2 - x1, lanes_bottom(g) - PHASE_Y, x1,
			LANES_Y + (LANE_H - BAR_H) / 2, x2 - x1, BAR_H);
		report_html_escape(fp, text);
		fprintf(fp, "%s", o->from_step ? " from step " : "");
		report_html_escape(fp, o->from_step);
		fprintf(fp, "</title></rect>\n");
		/* The label goes inside the bar if it fits, else beside it where there is room. */
		double tw = (double)strlen(text) * CHAR_W + 8;
		int inside = x2 - x1 >= tw, right = !inside && x2 + tw <= SVG_W;
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" class=\"%s\">%s</text>\n",
			inside	? x1 + 4
			: right ? x2 + 4
				: x1 - 4,
			LANES_Y + LANE_H / 2 + 4, inside || right ? "start" : "end",
			inside ? "bar-label" : "outage-label", text);
		if (!o->end_ms)
			fprintf(fp,
				"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
				"class=\"now\"/>\n",
				x2, PHASE_Y, x2, lanes_bottom(g));
		free(text);
	}
}

/* The words a bar's tooltip and the legend use for its kind. */
static const char *kind_word(const struct report_bar *b)
{
	if (b->killed)
		return "interrupted: ccrup stopped during it, no record of its end; bar runs to "
		       "the next record";
	if (strcmp(b->kind, "op-skipped") == 0)
		return "skipped by the operator";
	if (strcmp(b->kind, "operator-wait") == 0)
		return "waited for the operator";
	return b->kind;
}

static void bar_title(FILE *fp, const struct report_step *s, const struct report_bar *b, int n,
		      int of)
{
	const struct report_attempt *h = b->hist >= 0 ? &s->hist[b->hist] : NULL;
	char dur[32];
	fprintf(fp, "<title>");
	if (s->index)
		fprintf(fp, "#%d ", s->index);
	report_html_escape(fp, s->id);
	fprintf(fp, " on ");
	report_html_escape(fp, s->node ? s->node : "-");
	if (of > 1 && n > 0)
		fprintf(fp, ", attempt %d of %d", n, of);
	fprintf(fp, ": %s", kind_word(b));
	if (b->end_ms) {
		format_duration(b->end_ms - b->start_ms, dur, sizeof(dur));
		fprintf(fp, ", %s", dur);
	}
	if (h && h->exit >= 0 && strcmp(b->kind, "operator-wait") != 0)
		fprintf(fp, ", exit %d", h->exit);
	if (h && h->text && strcmp(b->kind, "operator-wait") != 0) {
		fprintf(fp, " \u2014 ");
		report_html_escape(fp, h->text);
	}
	fprintf(fp, "</title>");
}

/* Ends the data-step attribute and adds data-node (the step's host, "-" for none). */
static void bar_node(FILE *fp, const struct report_step *s)
{
	fprintf(fp, "\" data-node=\"");
	report_html_escape(fp, s->node ? s->node : "-");
	fprintf(fp, "\"");
}

/* The time waited for the operator: a thin hatched strip under the lane's bars. */
static void wait_bar(FILE *fp, const struct report_step *s, const struct report_bar *b, int lane,
		     const struct geo *g)
{
	double x1 = xof(g, b->start_ms), x2 = xof(g, b->end_ms);
	if (x2 - x1 < MIN_BAR_PX)
		x2 = x1 + MIN_BAR_PX;
	fprintf(fp, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" data-step=\"", x1,
		LANES_Y + lane * LANE_H + LANE_H - WAIT_H - 1, x2 - x1, WAIT_H);
	report_html_escape(fp, s->id);
	bar_node(fp, s);
	fprintf(fp, " fill=\"url(#waits%d)\" class=\"operator-wait\">", g->seq);
	bar_title(fp, s, b, 0, 0);
	fprintf(fp, "</rect>\n");
}

static void step_bar(FILE *fp, const struct report_step *s, const struct report_bar *b, int lane,
		     const struct geo *g)
{
	int skipped = strcmp(b->kind, "skipped") == 0 || strcmp(b->kind, "op-skipped") == 0;
	int ip = strcmp(b->kind, "in-progress") == 0;
	int op = strcmp(b->kind, "op-skipped") == 0; /* a full-height mark: it stays to do */
	int h = skipped && !op ? 10 : BAR_H,
	    y = LANES_Y + lane * LANE_H + (LANE_H - WAIT_H - h) / 2;
	double x1 = xof(g, b->start_ms), x2 = xof(g, b->end_ms ? b->end_ms : g->t1);
	if (x2 - x1 < MIN_BAR_PX + op)
		x2 = x1 + MIN_BAR_PX + op;
	fprintf(fp,
		"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\" "
		"data-step=\"",
		x1, y, x2 - x1, h);
	report_html_escape(fp, s->id);
	bar_node(fp, s);
	fprintf(fp, " ");
	if (ip)
		fprintf(fp, "fill=\"url(#stripes%d)\" ", g->seq);
	fprintf(fp, "class=\"step %s%s\">", b->kind, b->killed ? " killed" : "");
	bar_title(fp, s, b, b->attempt, s->attempts);
	fprintf(fp, "</rect>\n");
	const char *dot = strchr(s->id, '.');
	char *label = skipped ? NULL : fit(dot ? dot + 1 : s->id, x2 - x1);
	if (label) {
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" class=\"bar-label%s\">", x1 + 4,
			y + BAR_H / 2 + 4, ip || b->killed ? " dark" : "");
		report_html_escape(fp, label);
		fprintf(fp, "</text>\n");
	}
	free(label);
}

/* Every bar of every step: each attempt, each settling, each wait for the operator. */
static void steps(FILE *fp, const struct report_cluster *rc, const struct geo *g)
{
	/* The operator's skips last, so that the next steps' bars do not hide them. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < rc->nsteps; i++) {
			const struct report_step *s = &rc->steps[i];
			int lane = lane_of(rc, s->node);
			for (int k = 0; k < s->nbars; k++) {
				const struct report_bar *b = &s->bars[k];
				if (pass != (strcmp(b->kind, "op-skipped") == 0))
					continue;
				if (strcmp(b->kind, "operator-wait") == 0)
					wait_bar(fp, s, b, lane, g);
				else
					step_bar(fp, s, b, lane, g);
			}
		}
}

static void legend(FILE *fp, const struct geo *g)
{
	static const char *const items[][2] = {{"done", "done"},
					       {"skipped", "skipped"},
					       {"op-skipped", "skipped by the operator"},
					       {"failed", "failed"},
					       {"refused", "refused"},
					       {"in-progress", "in progress"},
					       {"interrupted", "interrupted"},
					       {"interrupted killed", "stopped, resumed later"},
					       {"operator-wait", "waited for the operator"},
					       {"outage-bar", "service outage"}};
	int y = lanes_bottom(g) + 22;
	double x = LABEL_W;
	fprintf(fp, "<g class=\"legend\">\n");
	for (size_t i = 0; i < CCR_ARRAY_LEN(items); i++) {
		int ip = strcmp(items[i][0], "in-progress") == 0;
		int wait = strcmp(items[i][0], "operator-wait") == 0;
		fprintf(fp, "<rect x=\"%.1f\" y=\"%d\" width=\"14\" height=\"14\" rx=\"2\" ", x,
			y - 11);
		if (ip || wait)
			fprintf(fp, "fill=\"url(#%s%d)\" ", ip ? "stripes" : "waits", g->seq);
		fprintf(fp, "class=\"%s%s\"/><text x=\"%.1f\" y=\"%d\">%s</text>\n",
			strcmp(items[i][0], "outage-bar") ? "swatch " : "", items[i][0], x + 20, y,
			items[i][1]);
		x += 20 + strlen(items[i][1]) * CHAR_W + 28;
		if (i + 1 < CCR_ARRAY_LEN(items) &&
		    x + 20 + strlen(items[i + 1][1]) * CHAR_W > SVG_W - RIGHT_PAD) {
			x = LABEL_W; /* a second row */
			y += LEGEND_ROW;
		}
	}
	fprintf(fp, "</g>\n");
}

void report_svg_timeline(FILE *fp, const struct report_cluster *rc, int64_t end_ms, int seq)
{
	struct geo g = {rc->start_ms, end_ms, SVG_W - LABEL_W - RIGHT_PAD, rc->nlanes + 1, 0, seq};
	if (g.t1 - g.t0 < 1000)
		g.t1 = g.t0 + 1000;
	g.height = lanes_bottom(&g) + 40 + LEGEND_ROW;
	fprintf(fp,
		"<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		"aria-label=\"timeline of the run, one lane per node\">\n"
		"<defs><pattern id=\"stripes%d\" width=\"8\" height=\"8\" "
		"patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
		"<rect width=\"8\" height=\"8\" fill=\"#f9a825\"/>"
		"<rect width=\"4\" height=\"8\" fill=\"#fbc02d\" opacity=\"0.55\"/>"
		"</pattern><pattern id=\"waits%d\" width=\"6\" height=\"6\" "
		"patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(-45)\">"
		"<rect width=\"6\" height=\"6\" fill=\"#ddf4ff\"/>"
		"<rect width=\"3\" height=\"6\" fill=\"#0969da\"/>"
		"</pattern></defs>\n",
		SVG_W, g.height, SVG_W, g.height, seq, seq);
	lane_frames(fp, rc, &g);
	axis(fp, &g);
	phases(fp, rc, &g);
	outages(fp, rc, &g);
	steps(fp, rc, &g);
	if (rc->end_ms && rc->end_ms < g.t1) /* stopped, but an outage runs on to now */
		fprintf(fp,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"stop\"/>"
			"<text x=\"%.1f\" y=\"%d\" class=\"stop-label\">run stopped</text>\n",
			xof(&g, rc->end_ms), PHASE_Y, xof(&g, rc->end_ms), lanes_bottom(&g),
			xof(&g, rc->end_ms) + 4, lanes_bottom(&g) - 4);
	if (rc->end_ms == 0) /* unfinished: the chart runs to now */
		fprintf(fp,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"now\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" class=\"now-label\">now"
			"</text>\n",
			xof(&g, g.t1), PHASE_Y, xof(&g, g.t1), lanes_bottom(&g), xof(&g, g.t1) - 4,
			lanes_bottom(&g) - 4);
	legend(fp, &g);
	fprintf(fp, "</svg>\n");
}
