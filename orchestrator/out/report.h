/*
 * report.h — the upgrade report: one self-contained HTML page per run.
 *
 * report_load() reads what a cluster's run left behind, without touching a
 * node or writing anything: the journal (journal_load: the steps, their
 * times and results, the outage window) and the audit log (the output of
 * the commands that failed).  report_write_html() turns one or more loaded
 * clusters into a page with inline CSS and an inline SVG timeline: no
 * script, no external asset, and a Content-Security-Policy that forbids
 * both, so the file can be mailed or attached to a change ticket.  Every
 * string from the journal or the audit log is HTML-escaped.
 *
 * The report covers the journal's current run (from its last run-start);
 * earlier finished runs are archived as journal-<run_id>.jsonl and only
 * counted.  docs/report.md describes the page.
 *
 * Calling sequence:
 *
 *	struct report_cluster *rc;
 *	int st = report_load(state_dir, pb, inv, cl, &rc);   // rc always set
 *	report_write_html(fp, &rc, 1, now_wall_ms(), title);
 *	report_cluster_free(rc);
 */
#ifndef CCR_REPORT_H
#define CCR_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "util.h"

enum report_state {
	REPORT_OK,	   /* a run was found */
	REPORT_NO_JOURNAL, /* no journal: no run has started */
	REPORT_NO_RUN,	   /* a journal without a run-start record */
	REPORT_CORRUPT,	   /* the journal is corrupt (message says where) */
	REPORT_UNREADABLE, /* the journal could not be read (message says why) */
};

/* One step instance as the journal tells it. */
/* One journal record about a step: its history (begin, done, failed, retry, ...). */
struct report_attempt {
	const char *what;    /* the record type: begin, done, failed, refused, interrupted,
				skipped, gate, answer, outage-start, outage-end */
	int64_t time_ms;     /* when it was written (wall clock) */
	int64_t duration_ms; /* done/outage-end: how long it ran; 0 if none */
	int64_t operator_ms; /* waiting for the operator's answers; 0 if not asked */
	int exit;	     /* exit status, -1 if none */
	char *by;	     /* who settled it, or NULL */
	char *text;	     /* reason, detail or answer, or NULL */
	int session;	     /* 0: the run's first process, n: its n-th resume */
	char *out_stdout;    /* begin: the audit log's output of the command this attempt ran */
	char *out_stderr;    /*   (last lines), or NULL */
	int out_exit;	     /*   and its exit, -1 if none */
};

/*
 * One bar of the timeline: an attempt of a step (begin to what ended it),
 * a step settled without running (skipped, done by a check), or the time a
 * step waited for the operator's answers.
 */
struct report_bar {
	const char *kind; /* done failed refused interrupted in-progress skipped op-skipped
			     operator-wait */
	int killed;	  /* interrupted with no record: ccrup stopped; end_ms is the next record */
	int64_t start_ms, end_ms; /* end 0: still running (to now) */
	int hist;		  /* index into the step's hist of the record that ended it, -1 */
	int attempt;		  /* an attempt (from a begin): its number, 1-based; else 0 */
};

struct report_step {
	int index;	    /* 1-based position in the plan, 0 if the plan does not know it */
	char *id;	    /* "phase.step[item]" */
	char *node;	    /* host, or NULL for steps without one */
	char *phase;	    /* phase id */
	char *name;	    /* step name from the plan, or NULL */
	const char *status; /* done skipped failed refused in-progress interrupted pending */
	int64_t start_ms;   /* wall clock, 0 if it never started */
	int64_t end_ms;	    /* wall clock, 0 while running or pending */
	int64_t duration_ms;
	int exit;		     /* exit status, -1 if none */
	char *reason;		     /* why it failed, was skipped or refused; NULL if none */
	char *command;		     /* the command journaled with begin, or NULL */
	int has_output;		     /* the audit log had this step's last command */
	char *out_cmd;		     /* from the audit log: command, exit, output excerpts */
	int out_exit;		     /* exit of that command */
	char *out_stdout;	     /* last lines of its stdout (redacted at write time) */
	char *out_stderr;	     /* last lines of its stderr */
	struct report_attempt *hist; /* every journal record about the step, in order */
	int nhist;
	int attempts;		 /* begin records: how many times it was started */
	struct report_bar *bars; /* every attempt and wait, in journal order */
	int nbars;
};

/* The service outage: from outage-start to outage-end (0 = still going on). */
struct report_outage {
	int64_t start_ms, end_ms;
	char *from_step; /* the step that began it */
	char *to_step;	 /* the step that ended it, NULL while open */
};

/* What report_load() found for one cluster.  Owned; report_cluster_free(). */
struct report_cluster {
	char *name;	  /* cluster name */
	char *cms;	  /* the inventory's `cms:` name, or NULL */
	char *cms_label;  /* the word shown before it: playbook_service_label() */
	char *transports; /* "NODE1 winrm, NODE2 ssh": how each host is reached, or NULL */
	enum report_state state;
	char *message;	     /* for NO_JOURNAL/CORRUPT/UNREADABLE, and the torn-tail warning */
	char *journal_path;  /* state/<cluster>/journal.jsonl */
	char *run_id, *mode; /* from run-start */
	char *playbook;	     /* playbook name from run-start */
	char *result;	     /* last run-end's result, NULL if the run has not ended */
	char *result_detail; /* its detail, if any */
	int locked;	     /* a ccrup process holds the cluster's lock now */
	int64_t start_ms;    /* run-start time */
	int64_t last_ms;     /* time of the last record */
	int64_t end_ms;	     /* run-end time, 0 if the run has not ended */
	struct report_step *steps; /* plan order, then steps only the journal knows */
	int nsteps;
	struct report_outage *outages;
	int noutages;
	int64_t outage_total_ms; /* finished outages */
	char **lanes;		 /* node lanes, in display order (members first) */
	int nlanes;
	char **stops; /* step-failed texts from the audit log (why the run stopped) */
	int nstops;
	int earlier_runs; /* archived journal-<run_id>.jsonl files */
	int audit_found;  /* the audit log exists */
	int resumes;	  /* how many times the run was resumed: processes after the first (after a
			     run-end, or after a begin a killed ccrup never settled) */
};

/*
 * Load cluster cl's current run from state_dir/<cl>/.  pb and inv are used
 * to list the steps that have not run yet (roles from the journal's bind
 * records, else assumed from the inventory); pb may be NULL (then only the
 * journal's steps are listed).
 *
 * Always sets *out (caller frees).  Returns 0 (also for NO_JOURNAL and
 * NO_RUN, which the page reports), EXIT_JOURNAL (5) for a corrupt journal
 * and EXIT_INPUT (2) for one that cannot be read; out->message then says
 * why and the page shows it.
 */
/*
 * The same from any state backend (state.h): the journal, lock and
 * archives come from st; the audit log from st's local directory.
 */
struct state;
int report_load_from(struct state *st, const struct playbook *pb, const struct inventory *inv,
		     const struct cluster_def *cl, struct report_cluster **out);
int report_load(const char *state_dir, const struct playbook *pb, const struct inventory *inv,
		const struct cluster_def *cl, struct report_cluster **out);

void report_cluster_free(struct report_cluster *rc);

/*
 * Write one HTML page covering the n clusters (in order).  now_ms is the
 * wall clock that an unfinished run's timeline and outage extend to; title
 * names the inventory (may be NULL).  Returns 0, or -1 if writing fp failed.
 */
int report_write_html(FILE *fp, struct report_cluster *const *rcs, int n, int64_t now_ms,
		      const char *title);

/* ---- shared by report.c and report_svg.c ---- */

/* Write s HTML-escaped (& < > " ' ); NULL writes nothing. */
void report_html_escape(FILE *fp, const char *s);

/*
 * The inline SVG timeline of rc (state REPORT_OK) from its start to end_ms
 * (the run-end, or now for an unfinished run).  seq makes the SVG's
 * element ids unique when one page holds several clusters.
 */
void report_svg_timeline(FILE *fp, const struct report_cluster *rc, int64_t end_ms, int seq);

/* Parse "2026-11-21T10:31:07.412Z" (milliseconds optional).  0 and *ms, or -1. */
int report_parse_time(const char *s, int64_t *ms);

#endif
