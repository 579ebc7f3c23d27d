/*
 * sim_cmd_int.h — commands as actions.
 *
 * A command runs as a small state machine: sim_exec() parses the line,
 * counts it, lets faults shape it and schedules its first step "now".
 * sim_action_poll() runs every step that is due, in order, each at its own
 * due time (so world effects are stamped with the beat they belong to, not
 * with the time the server happened to poll).  A step appends output, may
 * change the world, and either schedules the next step (sim_act_then) or
 * finishes (sim_act_exit).  Long commands stream their output by spreading
 * steps over their scaled duration; with time scale 0 every step is due at
 * once.
 */
#ifndef CCR_SIM_CMD_INT_H
#define CCR_SIM_CMD_INT_H

#include "sim_world_int.h"

struct sim_action;
typedef void (*sim_step_fn)(struct sim_action *a, int64_t at);

struct sim_action {
	struct sim_world *w; /* the world it runs in (borrowed) */
	int host;	     /* index of the host it runs on */
	char *line;	     /* command line as received */
	char **argv;	     /* the line split by Windows rules (owned) */
	int argc;	     /* count of argv */
	sim_step_fn step;    /* next step, NULL once finished (or hung) */
	sim_step_fn abort;   /* what an interruption leaves behind, or NULL */
	sim_step_fn after;   /* continuation once a shared sequence (CMS move) is done */
	int64_t next_at;     /* world ms the next step is due, SIM_NEVER: never */
	int64_t start;	     /* world ms the command started */
	int stage;	     /* progress counter private to the command */
	int cluster;	     /* cluster the command acts on, -1 none */
	int target;	     /* command-specific host index, -1 none */
	int flags;	     /* command-specific bits */
	int64_t span;	     /* command-specific scaled duration */
	char *text;	     /* command-specific string (owned), may be NULL */
	int mark;	     /* PowerShell: offset in text where errors point */
	int done;	     /* 1 once exit_code is final */
	int exit_code;	     /* exit status once done */
	struct sbuf out;     /* stdout produced, not yet polled */
	struct sbuf err;     /* stderr produced, not yet polled */
	int64_t drop_after;  /* drop fault: close after this many bytes, -1 none */
	int64_t slow_ms;     /* slow fault: added before each output chunk */
	char *key;	     /* normalised command line (counting, faults, events) */
	int after_fired;     /* 1 once the "after" events of the command ran */
	int64_t done_at;     /* world ms of the step that finished it */
	struct sim_seq *seq; /* a compound cmd line's segments (sim_seq.c), NULL: one command */
};

/* A blank action for line on host starting at now (no step yet); the caller owns it. */
struct sim_action *sim_action_new(struct sim_world *w, int host, const char *line, int64_t now);
/*
 * Run a command line as the interpreter does, without counting a request:
 * a `cmd /c` line through sim_seq.c, anything else as one command.
 */
struct sim_action *sim_run_line(struct sim_world *w, int host, const char *line, int64_t now);

/*
 * sim_seq.c: cmd.exe's part of a line.  sim_cmdline_parse: 1 if line is
 * `cmd [switches] /c REST`, with *rest (caller frees) the text after /c, its
 * quotes treated as cmd does and %errorlevel% expanded, and *delayed 1 with
 * /v:on; 0 otherwise (*rest NULL).  sim_seq_exec runs REST: one segment as
 * that command alone, several as a compound action (a->seq).
 */
int sim_cmdline_parse(const char *line, char **rest, int *delayed);
struct sim_action *sim_seq_exec(struct sim_world *w, int host, const char *line, const char *rest,
				int delayed, int64_t now);
/* The action API of a compound action (sim_action.c dispatches to these). */
int sim_seq_poll(struct sim_action *a, int64_t now, struct sbuf *out, struct sbuf *err,
		 int *exit_code);
int64_t sim_seq_next_ms(const struct sim_action *a);
int64_t sim_seq_drop_after(const struct sim_action *a);
int64_t sim_seq_slow_ms(const struct sim_action *a);
void sim_seq_abort(struct sim_action *a, int64_t now);
void sim_seq_take_log(struct sim_action *a, struct sbuf *log);
void sim_seq_free(struct sim_seq *q);

void sim_act_out(struct sim_action *a, const char *fmt, ...) CCR_PRINTF(2, 3);
void sim_act_err(struct sim_action *a, const char *fmt, ...) CCR_PRINTF(2, 3);
/* Schedule fn at world time at (never earlier than the current step). */
void sim_act_then(struct sim_action *a, sim_step_fn fn, int64_t at);
/* Finish with this exit status. */
void sim_act_exit(struct sim_action *a, int code);
struct sim_host *sim_act_host(const struct sim_action *a);
/* Split a Windows command line (MSVCRT quoting rules).  Caller frees with sim_argv_free. */
char **sim_argv_split(const char *line, int *argc);
void sim_argv_free(char **argv, int argc);
/* "basename(program) lower-cased + arguments" (docs/ccrsim.md, World dump). */
char *sim_cmd_normalise(char **argv, int argc);
/* Basename of a Windows or POSIX path, lower-cased, owned by the caller. */
char *sim_prog_base(const char *path);

/* Command handlers: the first step of each command. */
void sim_cmd_sc(struct sim_action *a, int64_t at);
void sim_cmd_net(struct sim_action *a, int64_t at);
void sim_cmd_reg(struct sim_action *a, int64_t at);
void sim_cmd_wmic(struct sim_action *a, int64_t at);
void sim_cmd_shutdown(struct sim_action *a, int64_t at);
void sim_cmd_cluster(struct sim_action *a, int64_t at);
void sim_cmd_powershell(struct sim_action *a, int64_t at);
void sim_cmd_setup(struct sim_action *a, int64_t at);
void sim_cmd_setup_exe(struct sim_action *a, int64_t at);
void sim_cmd_dotnet(struct sim_action *a, int64_t at);
/* sim_cmd_msi.c: msiexec (update rollups), dsquery (the organisation's versions). */
void sim_cmd_msiexec(struct sim_action *a, int64_t at);
void sim_cmd_dsquery(struct sim_action *a, int64_t at);
/* setup.com /PrepareSchema (ad 0) or /PrepareAD (ad 1), after the banner. */
void sim_setup_prepare(struct sim_action *a, int64_t at, int ad);
/* SP2 and later: the prerequisite check's error text for this host, or NULL (caller frees). */
char *sim_setup_sp_prereq(const struct sim_action *a);
/* wmic datafile where name="...msi.dll" get Version: Windows Installer's file version. */
void sim_msi_wmic_datafile(struct sim_action *a);
/* reg query under the Exchange product's Installer key: 1 if it answered. */
int sim_msi_reg_query(struct sim_action *a, const char *norm, const char *vname, int recurse);
/* PowerShell (sim_cmd_ems.c): one parsed cmdlet invocation. */
#define SIM_PS_MAXP		8    /* parameters per cmdlet */
#define SIM_EXIT_NOT_RECOGNIZED 9009 /* cmd.exe: "'X' is not recognized as an internal ..." */
#define SIM_PS_MAXF		12   /* properties per output record */

struct sim_ps {
	const char *cmdlet;		/* canonical cmdlet name */
	const char *names[SIM_PS_MAXP]; /* the cmdlet's parameter names ('?' prefix: switch) */
	const char *vals[SIM_PS_MAXP];	/* values by parameter, NULL when not given */
	char **props;			/* Format-List / Format-Table properties, or NULL */
	int nprops;			/* count of props */
	int format;			/* 0 the cmdlet's default view, 1 list, 2 table */
	int noninteractive;		/* powershell -NonInteractive */
};

/* One object in the output: property names (static) and rendered values (owned). */
struct sim_psrec {
	const char *name[SIM_PS_MAXF]; /* property names */
	char *val[SIM_PS_MAXF];	       /* rendered values */
	int n;			       /* count */
};

/* The value of a parameter by name ("" for a given switch), or NULL. */
const char *sim_ps_arg(const struct sim_ps *ps, const char *name);
/* Red error text for the cmdlet in a->text, exit 1. */
void sim_ps_error(struct sim_action *a, const char *fmt, ...) CCR_PRINTF(2, 3);
void sim_psrec_add(struct sim_psrec *r, const char *name, char *val);
/* Print records in the requested view (ps), or the default (list or table with props). */
void sim_ps_print(struct sim_action *a, const struct sim_ps *ps, struct sim_psrec *recs, int n,
		  int def_table, const char *const *def_props);
/* 1 if a mandatory prompt would be needed in -NonInteractive mode (error printed). */
int sim_ps_need_confirm(struct sim_action *a, const struct sim_ps *ps);
/* "Version 8.1 (Build 240.6)" (caller frees). */
char *sim_admin_version(const char *ver);

/* The cmdlets (sim_cmd_cms.c). */
void sim_ems_get_server(struct sim_action *a, struct sim_ps *ps, int64_t at);
void sim_ems_cms_status(struct sim_action *a, struct sim_ps *ps, int64_t at);
void sim_ems_stop(struct sim_action *a, struct sim_ps *ps, int64_t at);
void sim_ems_start(struct sim_action *a, struct sim_ps *ps, int64_t at);
void sim_ems_move(struct sim_action *a, struct sim_ps *ps, int64_t at);
void sim_ems_copy_status(struct sim_action *a, struct sim_ps *ps, int64_t at);
void sim_ems_mailbox_db(struct sim_action *a, struct sim_ps *ps, int64_t at);

/* setup.com /m:upgrade stage names (1-based, as watermarks count them); NULL past the end. */
const char *sim_setup_stage_name(int stage);
/* Stage index by name (case-insensitive), or -1. */
int sim_setup_stage_find(const char *name);

/* Start a CMS move to target (Move-ClusteredMailboxServer, cluster.exe); sim_cmd_ems.c. */
void sim_cms_move_begin(struct sim_action *a, int64_t at, int target, sim_step_fn done);

#endif
