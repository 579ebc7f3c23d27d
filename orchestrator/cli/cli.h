/*
 * cli.h — what every subcommand shares: common options, loading and
 * validating the user's files, selecting clusters.  Each subcommand lives
 * in its own cmd_<name>.c with its own option table and --help.
 */
#ifndef CCR_CLI_H
#define CCR_CLI_H

#include "model.h"

/* Options common to all subcommands; set once in main, read-only after. */
struct cli_opts {
	const char *inventory; /* positional INVENTORY */
	const char *playbook;  /* -p, or resolved default */
	const char *state_dir; /* --state-dir, $CCRUP_STATE_DIR, or "state" */
	const char *state_url; /* --state, $CCRUP_STATE, or NULL (then the inventory's state:) */
	const char *clusters;  /* --clusters PATTERN (fnmatch), or NULL = all */
	const char *output;    /* -o text|json */
	int verbose;	       /* -v count */
	int quiet;	       /* -q */
};

/* Loaded and cross-validated files.  Owned; release with cli_files_release. */
struct cli_files {
	struct playbook *pb;
	struct inventory *inv;
	const struct cluster_def **clusters; /* selected clusters (borrowed from inv) */
	int nclusters;
};

/*
 * Resolve the default playbook when -p was not given: $CCRUP_PLAYBOOK,
 * ./playbooks/ccr-sp1.yml, <dir of the binary>/../playbooks/ccr-sp1.yml,
 * <dir of the binary>/../share/ccrup/playbooks/ccr-sp1.yml, then the
 * compiled-in installed copy.  Returns a static or environment string.
 */
const char *cli_default_playbook(void);

/*
 * Load the inventory and playbook, validate both and each against the
 * other, and select clusters.  On any input error prints every located
 * error to stderr and returns EXIT_INPUT; 0 on success.
 */
int cli_load(const struct cli_opts *o, struct cli_files *f);
void cli_files_release(struct cli_files *f);

/*
 * Open where journals and locks live: --state or $CCRUP_STATE (an etcd URL),
 * else the inventory's state: block, else the local --state-dir.  TLS and
 * authentication settings come from the inventory's state: block.  Returns
 * 0 with *st (free with cli_state_close), or EXIT_INPUT after printing why.
 */
struct state;
int cli_state_open(const char *cmd, const struct cli_opts *o, const struct cli_files *f,
		   struct state **st);
void cli_state_close(struct state *st);

/* Print "ccrup <cmd>: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) CCR_PRINTF(2, 3);

/* Subcommands: argc/argv start at the subcommand name; return an exit code. */
int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_abandon(int argc, char **argv);

/*
 * Parse the options every subcommand accepts.  extra is an optional
 * getopt_long table of the subcommand's own options (handled by cb, which
 * returns 0 or an exit code).  Returns 0, or EXIT_INPUT after printing a
 * usage error, or -1 when --help was printed (caller exits 0).
 */
struct option;
typedef int (*cli_opt_fn)(int opt, const char *arg, void *ctx);
int cli_parse(int argc, char **argv, const char *usage, const struct option *extra,
	      const char *extra_short, cli_opt_fn cb, void *ctx, struct cli_opts *o);

#endif
