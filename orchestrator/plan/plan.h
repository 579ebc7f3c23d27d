/*
 * plan.h — compile a playbook and one cluster of an inventory into the
 * ordered list of step instances the runner executes and the plan shows.
 *
 * A step instance is one step on one host (and one for_each item): phases
 * in order; within a phase, a group-wide phase (for_each: GROUP) runs all
 * its steps host by host; a step whose `on` is a group runs once per host
 * of the group.  Commands are fully substituted here, so what the plan
 * prints is exactly what the runner sends.
 *
 * Roles come from the caller: offline from the inventory's declared active
 * node (plan_assume_roles), live from facts or the journal (runner).
 */
#ifndef CCR_PLAN_H
#define CCR_PLAN_H

#include <jansson.h>
#include <stdio.h>

#include "model.h"
#include "subst.h"

enum pstep_kind {
	PSTEP_RUN,    /* runs a command */
	PSTEP_GATE,   /* a human confirms */
	PSTEP_WAIT,   /* polls facts until a condition holds */
	PSTEP_HTTP,   /* HTTP health check from the orchestrator */
	PSTEP_ASSERT, /* only require: a read-only assertion */
	PSTEP_REBOOT, /* only reboot: the runner restarts the host */
};

/* Offline view of a condition: does the step apply? */
enum plan_applies { APPLIES_NO = 0, APPLIES_YES = 1, APPLIES_LIVE = -1 };

struct plan_step {
	int index;		       /* 1-based position in the plan */
	const struct phase_def *phase; /* borrowed from the playbook */
	const struct step_def *def;    /* borrowed from the playbook */
	enum pstep_kind kind;
	char *id;	  /* "phase.step" or "phase.step[item]"; the journal's key with node */
	char *node;	  /* host it runs on, or NULL for gates without a host */
	char *item;	  /* for_each item, or NULL */
	char *name;	  /* substituted */
	char *command;	  /* substituted run, or NULL */
	char *check_cmd;  /* substituted check probe command, or NULL */
	char *verify_cmd; /* substituted verify probe command, or NULL */
	char *ready_cmd;  /* substituted reboot-ready probe command, or NULL */
	char *record_cmd; /* substituted record command, or NULL */
	char *url;	  /* substituted http_check url, or NULL */
	char *http_json;  /* substituted http_check json path, or NULL */
	enum plan_applies applies; /* from phase and step `when` over vars */
};

struct plan {
	const struct playbook *pb;
	const struct inventory *inv;
	const struct cluster_def *cl;
	struct role_binding *roles; /* owned array; strings borrowed */
	int nroles;
	struct plan_step *steps; /* owned */
	int nsteps;
	int64_t estimate_ms; /* steps that apply or may apply */
	int outage_begin;    /* index of the OUTAGE_BEGINS step, or 0 */
	int outage_end;	     /* index of the OUTAGE_ENDS step, or 0 */
	int64_t outage_ms;   /* estimate from outage_begin through outage_end */
	int ponr;	     /* index of the point of no return, or 0 */
	char **versions;     /* plan --live with the playbook's version: each host of its group's
				version fact (NULL: unreadable); owned; NULL offline */
	unsigned char *runs; /* plan --live: per step, would (or may) it act; owned; NULL
				offline (every step that applies) */
};

/*
 * Offline role binding from the inventory: ASSUME_DECLARED roles get the
 * cluster's declared active host, ASSUME_OTHERS the single other member.
 * Returns 0 and a new array (caller frees), or -1 with err.
 */
int plan_assume_roles(const struct playbook *pb, const struct cluster_def *cl,
		      struct role_binding **roles, int *nroles, char *err, size_t errlen);

/*
 * Compile.  roles is copied.  Returns a plan (caller frees with plan_free)
 * or NULL with err naming the step and the variable that failed.
 */
struct plan *plan_compile(const struct playbook *pb, const struct inventory *inv,
			  const struct cluster_def *cl, const struct role_binding *roles,
			  int nroles, char *err, size_t errlen);
void plan_free(struct plan *p);

/* Fill a substitution context for a step instance (node/item of s, roles of p). */
void plan_subst_ctx(const struct plan *p, const struct plan_step *s, struct subst_ctx *c);

/*
 * A `when` of s (its own or its phase's) as far as the inventory's variables decide it:
 * "true" or "false", then the variables it reads ("false: failback = 'none'"), or
 * "decided live" when it reads facts.  Caller frees.
 */
char *plan_when_value(const struct plan *p, const struct plan_step *s, const struct expr *e);

/* The hosts bound to role, joined by ',' (caller frees), or NULL if it is no role. */
char *plan_role_hosts(const struct plan *p, const char *role);
/*
 * Who holds each role after the run (plan_roles.c): pb->roles order, one
 * entry per role, the hosts joined by ',' as the `verify`s of the steps that
 * apply (live: that would run) leave the facts the role's `where:` reads, or NULL when no step
 * promises them.  Release with plan_roles_after_free().
 */
char **plan_roles_after(const struct plan *p);
void plan_roles_after_free(const struct plan *p, char **after);
/*
 * How each host of the plan's cluster is reached, in group order, each
 * host once: "NODE1 ssh 10.0.0.11:22, NODE2 winrm https://10.0.0.12:5986".
 * New string, caller frees.
 */
char *plan_transports(const struct plan *p);
/* The same as a JSON object host -> "ssh" | "winrm" (new reference). */
json_t *plan_transports_json(const struct plan *p);

/* Plan step by full id and node, or NULL. */
const struct plan_step *plan_find(const struct plan *p, const char *id, const char *node);

/*
 * Print "label text" wrapped at spaces to width columns, the label (when not
 * NULL) padded to a column, continuation lines indented two past the text.
 */
void plan_print_wrapped(FILE *fp, int indent, const char *label, const char *text, int width);

/* Human-readable plan, wrapped to width columns (docs/guide.md, "The dry run"). */
void plan_render_text(FILE *fp, const struct plan *const *plans, int nplans, int width);

/* JSON plan (format "ccrup-plan/1", docs/plan-json.md).  New reference. */
json_t *plan_to_json(const struct plan *const *plans, int nplans);

/*
 * The same document as text, exactly json_dumps(plan_to_json(...),
 * JSON_INDENT(2) | JSON_PRESERVE_ORDER) (with "live": true when live is
 * set), built one cluster at a time: memory goes with the text, not with a
 * tree of every cluster (1,000 clusters: ~60 MiB of text instead of ~400 MiB
 * of tree).  each (may be NULL) is called with every cluster object before it
 * is written (plan --live adds its fields).  Returns a malloc'd string.
 */
char *plan_json_text(const struct plan *const *plans, int nplans, int live,
		     void (*each)(json_t *cluster, int i, void *arg), void *arg);

#endif
