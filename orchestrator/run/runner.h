/*
 * runner.h — the state machine that upgrades one cluster (DESIGN §4).
 *
 * For every step instance of the plan, in order:
 *   when -> record -> check (already done: skip) -> require (fresh facts;
 *   false: refuse, exit 3) -> gate / guided confirmation -> journal `begin`
 *   (fsync) -> run (timeout, retries, ok_exit; reconnect on a drop) ->
 *   reboot (boot id must change, SSH back, ready) -> verify -> journal
 *   `done` / `failed` (fsync).
 * The journal is written ahead of every remote action, so a crash at any
 * point leaves a run that `resume` continues: a done step never repeats; a
 * begun step is re-probed; roles come back from the journal.
 */
#ifndef CCR_RUNNER_H
#define CCR_RUNNER_H

#include <signal.h>

#include "events.h"
#include "model.h"
#include "state.h"

struct xport_gate;
struct xport_known;

struct xport_ops;

/*
 * Guided mode: ask the operator.  question is one line; choices are the
 * accepted letters ("ysdrmq").  Returns the letter chosen, or 'q' on EOF.
 * choices "=WORD:LETTERS" asks for a deliberate answer: WORD typed in full
 * returns 'y' (a bare "y" is refused), any of LETTERS returns that letter.
 */
typedef int (*ask_fn)(void *arg, const char *question, const char *choices);

struct run_opts {
	int resume;			/* continue the unfinished run instead of starting one */
	int rebind;			/* resume --rebind: bind the roles afresh from live facts
					   and plan the rest of the run from them */
	int unattended;			/* --yes: no questions; gates need --yes or acknowledge */
	int trust_new_hosts;		/* record unknown host keys */
	int accept_changed_playbook;	/* resume although the playbook/inventory changed */
	int break_marker;		/* --break-marker: replace another run's marker */
	const char *state_dir;		/* parent of <cluster>/: audit logs (and journals, locks
					   when state is local) */
	struct state *state;		/* journals and locks (state.h); borrowed */
	int64_t lock_wait_ms;		/* resume --wait: wait this long for a held lock */
	int shared_fleet;		/* several clusters on shared state: a cluster another
					   process holds, or already upgraded with the same
					   files, is left alone (not an error) */
	const char *ssh_config;		/* NULL: ~/.ssh/config; "none": no config */
	const char *saved_plan;		/* apply --plan FILE, or NULL */
	int64_t window_end_ms;		/* wall-clock end of the maintenance window, 0 = none */
	int64_t max_timeout_ms;		/* --max-timeout: cap on every step budget, 0 = none */
	const char *command_line;	/* for the lock holder record */
	const char *resume_command;	/* the exact command that continues a stopped run,
					   shown to the operator; NULL: "ccrup resume INVENTORY" */
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM */
	struct xport_gate *gate;	/* bound on SSH establishments in flight, shared by
					   every cluster of the process (xgate.h); borrowed;
					   NULL: none */
	struct xport_known *known;	/* known_hosts read once for every cluster (xknown.h);
					   borrowed; NULL: none */
	const struct event_sink *sinks; /* event subscribers */
	int nsinks;
	ask_fn ask; /* guided mode, NULL when unattended */
	void *ask_arg;
	/*
	 * resume --mark-done STEP / --retry STEP: the operator's word on a step,
	 * "phase.step" or "phase.step@NODE".  mark_done: the step is done (its
	 * verify is run live first, and a false verify refuses); retry: a step
	 * that was interrupted may run again.  Borrowed.
	 */
	const char *const *mark_done;
	int nmark_done;
	const char *const *retry;
	int nretry;
	/* Another transport implementation for every host (xport_options.ops):
	 * the unit tests' scripted fake.  NULL: the inventory's SSH or WinRM. */
	const struct xport_ops *xport_ops;
	void *xport_arg;
};

/*
 * Run (or resume) the upgrade of cluster cl.  Returns an exit code of
 * enum ccr_exit: 0 done, 1 a step failed, 2 input/usage (e.g. nothing to
 * resume), 3 a precondition refused, 4 locked, 5 journal corrupt, changed
 * playbook or unwritable journal, 6 lost the lock mid-run, 130 interrupted.  Every message has been
 * emitted as an event (EV_STEP_FAILED, EV_WARN...) before returning.
 */
int runner_run(const struct playbook *pb, const struct inventory *inv, const struct cluster_def *cl,
	       const struct run_opts *o);

/* Path of a cluster's state directory: <state_dir>/<cluster>.  Caller frees. */
char *runner_cluster_dir(const char *state_dir, const char *cluster);

#endif
