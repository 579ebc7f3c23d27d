/*
 * events.h — what the runner tells the world while it works.
 *
 * The runner emits one struct event per thing that happens; sinks (the
 * terminal UI, the audit log, webhooks) subscribe.  Every string is
 * borrowed for the duration of the call only.  Sinks must not block for
 * long: a slow webhook never holds up an upgrade.
 */
#ifndef CCR_EVENTS_H
#define CCR_EVENTS_H

#include <stdint.h>

enum ev_kind {
	EV_RUN_START,	 /* text: "starting run ID" / "resuming run ID"; duration_ms: on
			    resume, the users' outage the run's earlier attempts saw end */
	EV_RUN_END,	 /* text: result (done, failed, refused, interrupted) */
	EV_BIND,	 /* step: role, node: host */
	EV_PHASE_START,	 /* phase, text: phase name */
	EV_STEP_START,	 /* a step is being considered (guided: shown before its question);
			    text: why, detail: what the live check found, next: the step after
			    it, stakes: what the step puts at stake (outage, point of no return),
			    budget_ms: the outage's estimated length when it starts one */
	EV_STEP_SKIPPED, /* text: why */
	EV_STEP_DONE,	 /* duration_ms (running only), wait_ms (waiting for the operator),
			    exit, text: who settled it when not the command ("operator",
			    "--yes", "resume: check satisfied", ...) */
	EV_STEP_FAILED,	 /* text: cause */
	EV_STEP_REFUSED, /* text: expression and values */
	EV_CMD_START,	 /* command on node */
	EV_CMD_OUTPUT,	 /* text: a chunk of output (stream in exit: 1 or 2) */
	EV_CMD_END,	 /* command, exit, duration_ms, text: stdout, detail: stderr */
	EV_WAITING,	 /* text: what for, elapsed_ms of budget_ms */
	EV_OUTAGE_START, /* the users' outage begins: text: what users lose (the playbook's
			    service impact) or NULL, detail: the service's name or NULL,
			    budget_ms: the plan's estimate of its length (0 unknown);
			    elapsed_ms > 0: it began that long ago, in the run being resumed,
			    and is still open */
	EV_OUTAGE_END,	 /* the outage ends; duration_ms */
	EV_GATE,	 /* text: question, detail: answer */
	EV_INFO,	 /* text */
	EV_WARN,	 /* text */
	EV_RUN_REFUSED,	 /* the run did not start or stopped without a failed step (lock held,
			    nothing to resume, a gate declined, the maintenance window):
			    text: why, detail: what to do next */
	EV_BATCH,	 /* compound probes sent as one remote command: node, command (as
			    sent), exit, duration_ms, batch (id), parts; each part is its own
			    EV_CMD_END with the same batch */
};

struct event {
	enum ev_kind kind;
	int64_t wall_ms;     /* when, wall clock */
	const char *cluster; /* always set */
	const char *phase;   /* phase id or NULL */
	const char *step;    /* full step id or NULL */
	const char *name;    /* step name or NULL */
	const char *node;    /* host or NULL */
	const char *command; /* command or NULL */
	const char *text;    /* message or NULL */
	const char *detail;  /* secondary text or NULL */
	int index;	     /* 1-based step index, 0 if none */
	int total;	     /* steps in the plan */
	int exit;	     /* exit status or -1 */
	int64_t duration_ms; /* for *_DONE / CMD_END / OUTAGE_END */
	int64_t elapsed_ms;  /* WAITING */
	int64_t budget_ms;   /* WAITING, CMD_START (timeout), OUTAGE_START, STEP_START */
	int64_t wait_ms;     /* STEP_DONE, STEP_SKIPPED: time spent waiting for the operator */
	const char *next;    /* STEP_START: "ID on NODE: NAME" of the step after, or NULL */
	const char *stakes;  /* STEP_START: what is at stake, or NULL */
	const char *word;    /* STEP_START: the word the operator must type, or NULL */
	const char *batch;   /* CMD_END of a batch's part, BATCH: the batch's id, else NULL */
	int parts;	     /* BATCH: how many commands it joins */
	int local;	     /* 1: for the operator's terminal only, never logged or sent:
				a refusal before the cluster's lock was ours (its audit
				log and its webhooks belong to the run that holds it) */
};

typedef void (*event_fn)(const struct event *e, void *arg);

struct event_sink {
	event_fn fn; /* called on the runner's thread */
	void *arg;
};

#endif
