/*
 * playbook_int.h — private to the playbook loader (playbook.c,
 * playbook_steps.c, playbook_names.c).
 *
 * Loading happens in this order, because later parts refer to earlier
 * ones: vars, facts, boot_id, groups, roles; then the names every step may
 * read as saved.NAME (collected from all record: keys up front, since a
 * restore step usually comes after its record); then the sequences (each
 * checked once, errors reported at the sequence); then the phases, where
 * `use:` inlines a sequence's steps by reading them again with errors
 * muted (they were reported once already).
 */
#ifndef CCR_PLAYBOOK_INT_H
#define CCR_PLAYBOOK_INT_H

#include "loader.h"
#include "model.h"
#include "yamltree.h"

/* What names an expression or template may use besides vars and builtins. */
#define NS_ROLES 1 /* role names (their bound host) and ROLE.FACT */
#define NS_SAVED 2 /* saved.NAME from record: */
#define NS_ITEM	 4 /* item, in a step with for_each */

struct pbctx {
	struct yctx y;		     /* file, diag, error count */
	struct playbook *pb;	     /* being filled */
	const struct ynode *seqs;    /* the sequences: mapping, or NULL */
	int *seq_bad;		     /* per sequence: refused (cycle, nesting), already reported */
	char **groups;		     /* members, hub_cas and the playbook's groups: */
	int ngroups;		     /* count */
	char **records;		     /* every record.as name */
	struct src_loc *record_locs; /* where each was declared */
	int nrecords;		     /* count */
	struct nameidx vars;	     /* var name -> index in pb->vars */
	struct nameidx facts;	     /* fact name -> index in pb->facts */
	struct nameidx roles;	     /* role name -> index in pb->roles */
	struct nameidx recidx;	     /* record name -> index in records */
	struct nameidx seqidx;	     /* sequence name -> index in seqs */
	struct nameidx grpidx;	     /* group name -> index in groups */
};

/* Lookups through the indexes (the public playbook_var() & co. scan linearly). */
const struct var_def *pb_var(const struct pbctx *c, const char *name);
const struct fact_def *pb_fact(const struct pbctx *c, const char *name);
const struct role_def *pb_role(const struct pbctx *c, const char *name);

/* playbook_names.c: expressions, templates, regexes, roles and groups. */

/* Line and column of the off'th byte (1-based) of scalar n, or n's start when unknown. */
void pb_pos(const struct ynode *n, int off, int *line, int *col);
/* Parse the expression at key of m; check every identifier against ns.  Getter convention. */
int pb_get_expr(struct pbctx *c, const struct ynode *m, const char *key, int ns, struct expr **out);
int pb_expr(struct pbctx *c, const struct ynode *n, const char *key, int ns, struct expr **out);
/* A command template: every ${name} must resolve within ns.  Getter convention. */
int pb_get_template(struct pbctx *c, const struct ynode *m, const char *key, int ns, char **out);
/* A POSIX ERE, compiled into *re; *src is set only on success.  Getter convention. */
int pb_get_regex(struct pbctx *c, const struct ynode *m, const char *key, regex_t *re, char **src);
/* Is name a group (members, hub_cas, or one listed in groups:)? */
int pb_is_group(const struct pbctx *c, const char *name);
/* on: a role or a group (roles only if allow_role).  Getter convention. */
int pb_get_target(struct pbctx *c, const struct ynode *m, const char *key, int allow_role,
		  char **out);

/* playbook_steps.c: one step. */

/* Read one step mapping into *s (zeroed first).  0, or -1 after errors (s partly filled). */
int pb_read_step(struct pbctx *c, const struct ynode *m, struct step_def *s);
void pb_step_release(struct step_def *s);
/* require: one expression or a list of them.  Getter convention. */
int pb_read_require(struct pbctx *c, const struct ynode *m, int ns, struct expr ***out,
		    struct src_loc **locs, int *n);

/* playbook_seq.c: sequences, use:, records. */

/* Collect every record.as name (phases and sequences) into c->records; refuse duplicates. */
void pb_collect_records(struct pbctx *c, const struct ynode *phases);
/* Check the sequences mapping once: names, steps, use targets, cycles. */
void pb_check_sequences(struct pbctx *c);
/* Read a phase's steps (inlining use:) into *out and *n.  Returns -1 if any error. */
int pb_read_steps(struct pbctx *c, const struct ynode *list, struct step_def **out, int *n);

#endif
