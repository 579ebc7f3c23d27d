/*
 * cmd_status.c — `ccrup status INVENTORY [-o text|json]`: where each
 * cluster's run stands, from its journal and lock, without touching a node.
 * A failure inside the outage window is shown loudly: users are down.
 */
#include "bind.h"
#include "cli.h"
#include "journal.h"
#include "state.h"
#include "plan.h"
#include "replay.h"
#include "runner.h"
#include "textsafe.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ccrup status INVENTORY [-o text|json] [--clusters PATTERN] [--state-dir DIR]\n"
    "                    [--state etcd://HOST:PORT[,HOST:PORT...]/PREFIX]\n"
    "\n"
    "Show, from each cluster's journal, where its run stands: per node and step,\n"
    "the last error, whether users are in an outage, and what comes next.  Reads\n"
    "no node and takes no lock.  With shared state (docs/state.md) it shows which\n"
    "orchestrator host runs each cluster.  -o json prints format ccrup-status/1\n"
    "(docs/status-json.md).\n"
    "\n"
    "Exit: 0 ok, 2 input error, 5 journal corrupt.\n";

struct st_view {
	const char *state; /* per plan step */
	int exit;
	int64_t duration_ms;
	const char *reason;
	int op_skipped;	 /* skipped by the operator: still to do */
	int by_operator; /* the operator marked it done */
	int attempts;	 /* begin records: how many times it was started */
	const char *
	    *outcomes;	    /* how each attempt ended: attempt_outcome() words, attempts of them */
	const char *rebind; /* refused (or its command failed) because the live roles
			       changed since the last rebind: what changed; resume needs
			       --rebind */
};

struct cluster_status {
	const struct cluster_def *cl;
	struct journal *j;
	struct replay *rp;
	struct plan *plan;
	struct st_view *v;
	const char *run_id, *result, *last_error;
	char started[32], updated[32];
	int outage_open;
	int stopped; /* the operator answered quit: nothing failed */
	int64_t outage_since, outage_total;
	struct state_holder holder;
	int locked;
	const char *ran_on; /* shared state: host recorded in the run-start */
	int abandoned;	    /* `ccrup abandon` gave the run up: never "resume" */
	const char *abandon_reason, *abandoned_by;
	char abandoned_at[32];
};

/*
 * How each attempt (begin) of s ended: the record that settled it (done, failed,
 * refused, interrupted), "stopped" when the next thing the journal says of the
 * step is another begin (ccrup was killed or crashed during it), "in-progress"
 * for a last begin nothing followed.  One word per begin, in order.
 */
static const char **attempt_outcomes(const struct replay_step *s)
{
	const char **w = xcalloc((size_t)s->natt + 1, sizeof(*w));
	int n = 0, open = 0;
	for (int k = 0; k < s->natt; k++) {
		enum jev ev = s->att[k].ev;
		if (ev == JEV_BEGIN) {
			if (open)
				w[n++] = "stopped";
			open = 1;
		} else if (open && (ev == JEV_DONE || ev == JEV_FAILED || ev == JEV_REFUSED ||
				    ev == JEV_INTERRUPTED)) {
			w[n++] = jev_name(ev);
			open = 0;
		}
	}
	if (open)
		w[n++] = "in-progress";
	return w;
}

static void step_view(struct st_view *v, const struct replay_step *s, int rebind_line)
{
	static const char *const words[] = {
	    [RS_PENDING] = "pending",	     [RS_BEGUN] = "in-progress", [RS_DONE] = "done",
	    [RS_SKIPPED] = "skipped",	     [RS_FAILED] = "failed",	 [RS_REFUSED] = "refused",
	    [RS_INTERRUPTED] = "in-progress"};
	int last = s->last_end > s->last_begin ? s->last_end : s->last_begin;

	v->state = words[s->state];
	if (last >= 0)
		v->reason = s->att[last].reason ? s->att[last].reason : s->att[last].detail;
	v->op_skipped = replay_step_op_skipped(s);
	if ((s->state == RS_REFUSED || s->state == RS_FAILED) && s->last_end >= 0 &&
	    s->att[s->last_end].line > rebind_line)
		v->rebind = s->att[s->last_end].rebind;
	v->by_operator = s->state == RS_DONE && s->last_end >= 0 && s->att[s->last_end].by &&
			 strncmp(s->att[s->last_end].by, "operator", 8) == 0;
	v->outcomes = attempt_outcomes(s);
	for (int k = 0; k < s->natt; k++) {
		if (s->att[k].ev == JEV_BEGIN)
			v->attempts++;
		if (s->att[k].exit >= 0)
			v->exit = s->att[k].exit;
		if (s->att[k].ev == JEV_DONE)
			v->duration_ms = s->att[k].duration_ms;
	}
}

/* The run as the replay tells it, over the plan it follows. */
static int fold(const struct cli_files *f, struct cluster_status *cs)
{
	struct replay *rp = cs->rp;
	char err[1024];
	int strict = replay_pinned(rp, f->pb);

	cs->plan = replay_compile_plan(rp, f->pb, f->inv, cs->cl, err, sizeof(err));
	if (cs->plan == NULL) {
		fprintf(stderr, "ccrup status: %s\n", err);
		return EXIT_INPUT;
	}
	if (replay_plan(rp, cs->plan, strict, err, sizeof(err)) < 0) {
		fprintf(stderr, "ccrup status: %s\n", err);
		return EXIT_JOURNAL;
	}
	cs->v = xcalloc((size_t)cs->plan->nsteps + 1, sizeof(*cs->v));
	for (int i = 0; i < cs->plan->nsteps; i++) {
		const struct replay_step *s = replay_step_at(rp, i);
		cs->v[i].state = "pending";
		cs->v[i].exit = -1;
		if (s)
			step_view(&cs->v[i], s, rp->rebind_line);
	}
	if (rp->nruns == 0)
		return 0;
	cs->run_id = rp->run_id;
	cs->ran_on = rp->host;
	format_iso8601(rp->start_ms, cs->started, sizeof(cs->started));
	format_iso8601(rp->last_ms, cs->updated, sizeof(cs->updated));
	cs->result = rp->result;
	/* A failure before a rebind was about the earlier roles. */
	for (int i = 0; i < rp->nsteps && cs->result == NULL; i++) {
		const struct replay_step *s = &rp->steps[i];
		if ((s->state == RS_FAILED || s->state == RS_REFUSED) &&
		    s->att[s->last_end].line > rp->rebind_line)
			cs->result = s->state == RS_FAILED ? "failed" : "refused";
	}
	/* A run that finished has no last error: an earlier failure was fixed. */
	cs->last_error = cs->result && strcmp(cs->result, "done") == 0 ? NULL : rp->last_error;
	cs->abandoned = cs->result && strcmp(cs->result, "abandoned") == 0;
	cs->stopped = rp->operator_stopped && !cs->locked;
	if (cs->abandoned) {
		cs->abandon_reason = rp->result_detail;
		cs->abandoned_by = rp->abandoned_by;
		format_iso8601(rp->end_ms, cs->abandoned_at, sizeof(cs->abandoned_at));
	}
	const struct replay_outage *o = replay_open_outage(rp);
	cs->outage_open = o != NULL;
	cs->outage_since = o ? o->start_ms : 0;
	cs->outage_total = rp->outage_total_ms;
	return 0;
}

static int load_status(struct state *st, const struct cli_files *f, struct cluster_status *cs)
{
	char msg[1024];
	int rc = 0;

	enum journal_status js = state_journal_load(st, cs->cl->name, &cs->j, msg, sizeof(msg));
	if (js == JOURNAL_CORRUPT) {
		fprintf(stderr, "ccrup status: %s\n", msg);
		rc = EXIT_JOURNAL;
		goto out;
	}
	if (js == JOURNAL_TORN_TAIL)
		fprintf(stderr, "ccrup status: warning: %s\n", msg);
	if (js == JOURNAL_IO) {
		fprintf(stderr, "ccrup status: %s\n", msg);
		rc = EXIT_INPUT;
		goto out;
	}
	/* 1: a live run holds the flock (running, not interrupted); status only looks. */
	int held = state_lock_holder(st, cs->cl->name, &cs->holder, msg, sizeof(msg));
	if (held < 0)
		fprintf(stderr, "ccrup status: warning: %s\n", msg);
	cs->locked = held == 1;
	cs->rp = replay_load(cs->j, cs->cl->name, msg, sizeof(msg));
	if (cs->rp == NULL) {
		fprintf(stderr, "ccrup status: %s\n", msg);
		rc = EXIT_JOURNAL;
		goto out;
	}
	rc = fold(f, cs);
out:
	return rc;
}

static const char *run_state(const struct cluster_status *cs)
{
	if (cs->run_id == NULL)
		return "not started";
	if (cs->locked)
		return "running";
	if (cs->result == NULL)
		return "interrupted";
	return cs->result;
}

/* The first step not settled; a step the operator skipped is still to do. */
static int next_step(const struct cluster_status *cs)
{
	for (int i = 0; i < cs->plan->nsteps; i++) {
		const struct st_view *v = &cs->v[i];
		if (v->op_skipped ||
		    (strcmp(v->state, "done") != 0 && strcmp(v->state, "skipped") != 0))
			return i;
	}
	return -1;
}

/*
 * The command that continues the run at step nx: plain resume, or resume
 * --rebind when the step was refused because the live roles changed (plain
 * resume would be refused the same way).
 */
static const char *next_command(const struct cluster_status *cs, int nx)
{
	return nx >= 0 && cs->v[nx].rebind ? "ccrup resume --rebind" : "ccrup resume";
}

/* Who holds role after a finished run, as the verifies of its steps left the facts the
 * role is bound by, when the plan predicts it (an entry of after, or NULL). */
static const char *role_after(const struct cluster_status *cs, char **after, const char *role)
{
	if (after == NULL)
		return NULL;
	for (int r = 0; r < cs->plan->pb->nroles; r++)
		if (strcmp(cs->plan->pb->roles[r].name, role) == 0)
			return after[r];
	return NULL;
}

static char **roles_after_done(const struct cluster_status *cs)
{
	if (cs->run_id == NULL || strcmp(run_state(cs), "done") != 0)
		return NULL;
	return plan_roles_after(cs->plan);
}

/*
 * The roles as the run bound them at its start (they stay so for the whole run); a
 * finished run also says who holds a role after it when its steps moved it.
 */
static void print_roles(FILE *fp, const struct cluster_status *cs)
{
	char **after = roles_after_done(cs);

	for (int i = 0; i < cs->plan->nroles; i++) {
		const struct role_binding *b = &cs->plan->roles[i];
		const char *now = role_after(cs, after, b->role);
		char *had = plan_role_hosts(cs->plan, b->role);
		fprintf(fp, "  role %-12s %s", b->role, b->host);
		if (b->assumed)
			fprintf(fp, " (assumed; not bound yet)");
		else if (cs->run_id && now && had && strcmp(now, had) != 0)
			fprintf(fp, " (bound at the start of the run; after the run: %s)", now);
		else if (cs->run_id)
			fprintf(fp, " (bound at the start of the run)");
		fputc('\n', fp);
		free(had);
	}
	if (after)
		plan_roles_after_free(cs->plan, after);
}

/* The header's gist again below the step table, which can be longer than a terminal. */
static void print_summary(FILE *fp, const struct cluster_status *cs, int nx)
{
	char t[32], ts[32];

	fprintf(fp, "Cluster %s (summary): %s%s", cs->cl->name, run_state(cs),
		cs->stopped ? " by the operator" : "");
	if (nx >= 0 && cs->run_id && !cs->abandoned)
		fprintf(fp, "; next: step %d %s on %s (%s%s%s)", nx + 1, cs->plan->steps[nx].id,
			cs->plan->steps[nx].node ? cs->plan->steps[nx].node : "-",
			cs->locked ? "" : "`", cs->locked ? "in progress" : next_command(cs, nx),
			cs->locked ? "" : "`");
	if (cs->outage_open) {
		format_iso8601(cs->outage_since, ts, sizeof(ts));
		fprintf(fp, "; !!! OUTAGE ONGOING since %s !!!\n", ts);
	} else if (cs->outage_total) {
		format_duration(cs->outage_total, t, sizeof(t));
		fprintf(fp, "; outage: %s in total\n", t);
	} else {
		fprintf(fp, "; outage: none\n");
	}
}

static void print_text(FILE *fp, const struct cluster_status *cs)
{
	char t[32], ts[32];
	int nx = next_step(cs);

	fprintf(fp, "Cluster %s: %s%s", cs->cl->name, run_state(cs),
		cs->stopped ? " by the operator" : "");
	if (cs->run_id)
		fprintf(fp, " (run %s, started %s, last record %s)", cs->run_id, cs->started,
			cs->updated);
	fprintf(fp, "\n");
	if (cs->locked && cs->holder.user != NULL)
		fprintf(
		    fp,
		    "  running on host %s: pid %ld, user %s, since %s (%s); the lock frees %d s "
		    "after that process stops\n",
		    cs->holder.host ? cs->holder.host : "?", cs->holder.pid, cs->holder.user,
		    cs->holder.started ? cs->holder.started : "?",
		    cs->holder.command ? cs->holder.command : "?", cs->holder.ttl_s);
	else if (cs->locked)
		fprintf(fp, "  lock held by pid %ld on %s since %s (%s)\n", cs->holder.pid,
			cs->holder.host ? cs->holder.host : "?",
			cs->holder.started ? cs->holder.started : "?",
			cs->holder.command ? cs->holder.command : "?");
	else if (cs->ran_on != NULL)
		fprintf(fp, "  last run by host %s\n", cs->ran_on);
	print_roles(fp, cs);
	char *tr = plan_transports(cs->plan);
	fprintf(fp, "  transport %s\n", tr);
	free(tr);
	if (cs->abandoned)
		fprintf(fp, "  abandoned at %s by %s: %s; `ccrup apply` starts a new run\n",
			cs->abandoned_at, cs->abandoned_by ? cs->abandoned_by : "?",
			cs->abandon_reason ? cs->abandon_reason : "");
	if (cs->outage_open && cs->abandoned) {
		format_iso8601(cs->outage_since, ts, sizeof(ts));
		const char *svc = cs->plan->pb->service_name;
		fprintf(fp,
			"  !!! OUTAGE ONGOING since %s: %s is down and the run was abandoned: "
			"bring it back by hand !!!\n",
			ts, svc ? svc : "the service");
	} else if (cs->outage_open) {
		format_iso8601(cs->outage_since, ts, sizeof(ts));
		int64_t now = now_wall_ms();
		int64_t since = cs->outage_since; /* from the journal: may be anything */
		format_duration(since > 0 && since < now ? now - since : 0, t, sizeof(t));
		const char *svc = cs->plan->pb->service_name;
		fprintf(fp,
			"  !!! OUTAGE ONGOING since %s (%s): %s is down; %s `ccrup resume` !!!\n",
			ts, t, svc ? svc : "the service",
			cs->stopped ? "the operator stopped the run inside it: continue it with"
				    : "fix the cause and run");
	} else if (cs->outage_total) {
		format_duration(cs->outage_total, t, sizeof(t));
		fprintf(fp, "  outage: %s in total\n", t);
	}
	if (cs->last_error && strcmp(run_state(cs), "done") != 0)
		fprintf(fp, "  %s%s\n", cs->stopped ? "" : "last error: ", cs->last_error);
	if (nx >= 0 && cs->run_id && !cs->abandoned && !cs->locked && cs->v[nx].rebind)
		fprintf(fp,
			"  next: step %d %s on %s (`%s`: the live roles no longer match the "
			"run's: %s; plain `ccrup resume` is refused the same way)\n",
			nx + 1, cs->plan->steps[nx].id,
			cs->plan->steps[nx].node ? cs->plan->steps[nx].node : "-",
			next_command(cs, nx), cs->v[nx].rebind);
	else if (nx >= 0 && cs->run_id && !cs->abandoned)
		fprintf(fp, "  next: step %d %s on %s (%s)\n", nx + 1, cs->plan->steps[nx].id,
			cs->plan->steps[nx].node ? cs->plan->steps[nx].node : "-",
			cs->locked ? "in progress" : "`ccrup resume`");
	int idw = 20; /* the step column: as wide as the longest id */
	for (int i = 0; i < cs->plan->nsteps; i++)
		if ((int)strlen(cs->plan->steps[i].id) > idw)
			idw = (int)strlen(cs->plan->steps[i].id);
	for (int i = 0; i < cs->plan->nsteps; i++) {
		const struct plan_step *s = &cs->plan->steps[i];
		const struct st_view *v = &cs->v[i];
		char more[256];
		t[0] = '\0';
		if (v->duration_ms)
			format_duration(v->duration_ms, t, sizeof(t));
		more[0] = '\0';
		if (v->attempts > 1) {
			snprintf(more, sizeof(more), " (%d attempts:", v->attempts);
			for (int k = 0; k < v->attempts; k++)
				snprintf(more + strlen(more), sizeof(more) - strlen(more), "%s %s",
					 k ? "," : "", v->outcomes[k]);
			snprintf(more + strlen(more), sizeof(more) - strlen(more), ")");
		}
		/* An operator's skip leaves the step to do: its own word, not "skipped". */
		fprintf(fp, "  %3d %-*s %-10s %-12s %s%s%s\n", s->index, idw, s->id,
			s->node ? s->node : "-", v->op_skipped ? "op-skipped" : v->state, t, more,
			v->op_skipped	 ? " still to do: skipped by the operator"
			: v->by_operator ? " (marked done by the operator)"
					 : "");
	}
	for (int i = 0; i < cs->plan->nsteps; i++)
		if (cs->v[i].op_skipped && !cs->abandoned) {
			fprintf(fp,
				"  op-skipped: the operator skipped the step; it is still to do "
				"(`ccrup resume` offers it again)\n");
			break;
		}
	if (cs->plan->nsteps > 0)
		print_summary(fp, cs, nx);
}

/*
 * The text form, with every control character escaped: run ids, errors and
 * holder names come from the journal and the lock, and what a node printed
 * reaches them; none of it may drive the operator's terminal.
 */
static void print_text_safe(const struct cluster_status *cs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		return;
	print_text(mem, cs);
	fclose(mem);
	char *safe = text_escaped(buf, "\n");
	text_put_term(stdout, safe); /* a terminal: wrapped at spaces, never mid-word */
	free(safe);
	free(buf);
}

/* role -> hosts (joined by ',') after a finished run, for the roles its steps moved,
 * or null before the run is done. */
static json_t *roles_after_json(const struct cluster_status *cs)
{
	char **after = roles_after_done(cs);
	json_t *o;

	if (after == NULL)
		return json_null();
	o = json_object();
	for (int r = 0; r < cs->plan->pb->nroles; r++) {
		const char *role = cs->plan->pb->roles[r].name;
		char *had = plan_role_hosts(cs->plan, role);
		if (after[r] && had && strcmp(after[r], had) != 0)
			json_object_set_new(o, role, json_string(after[r]));
		free(had);
	}
	plan_roles_after_free(cs->plan, after);
	return o;
}

static json_t *to_json(const struct cluster_status *cs)
{
	json_t *steps = json_array();
	int nx = next_step(cs);
	for (int i = 0; i < cs->plan->nsteps; i++) {
		const struct plan_step *s = &cs->plan->steps[i];
		const struct st_view *v = &cs->v[i];
		json_t *o = json_pack("{s:i, s:s, s:o, s:s, s:I}", "index", s->index, "id", s->id,
				      "node", s->node ? json_string(s->node) : json_null(), "state",
				      v->state, "duration_ms", (json_int_t)v->duration_ms);
		json_object_set_new(o, "exit", v->exit >= 0 ? json_integer(v->exit) : json_null());
		json_object_set_new(o, "reason", v->reason ? json_string(v->reason) : json_null());
		json_object_set_new(o, "skipped_by_operator", json_boolean(v->op_skipped));
		json_object_set_new(o, "by",
				    v->op_skipped || v->by_operator ? json_string("operator")
								    : json_null());
		json_object_set_new(o, "attempts", json_integer(v->attempts));
		json_t *outcomes = json_array();
		for (int k = 0; k < v->attempts; k++)
			json_array_append_new(outcomes, json_string(v->outcomes[k]));
		json_object_set_new(o, "attempt_outcomes", outcomes);
		json_array_append_new(steps, o);
	}
	json_t *roles = json_object();
	for (int i = 0; i < cs->plan->nroles; i++) {
		/* A `select: all` role is a list of hosts; any other role one host. */
		const struct role_binding *b = &cs->plan->roles[i];
		const struct role_def *d = playbook_role(cs->plan->pb, b->role);
		json_t *have = json_object_get(roles, b->role);
		if (d && d->select == SELECT_ALL) {
			if (have == NULL)
				json_object_set_new(roles, b->role, have = json_array());
			json_array_append_new(have, json_string(b->host));
		} else {
			json_object_set_new(roles, b->role, json_string(b->host));
		}
	}
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "name", cs->cl->name, "state",
		      run_state(cs), "run_id", cs->run_id ? json_string(cs->run_id) : json_null(),
		      "roles", roles, "transports", plan_transports_json(cs->plan), "last_error",
		      cs->last_error ? json_string(cs->last_error) : json_null(), "steps", steps);
	json_object_set_new(o, "roles_after", roles_after_json(cs));
	json_object_set_new(o, "stopped_by_operator", json_boolean(cs->stopped));
	json_object_set_new(o, "outage",
			    json_pack("{s:b, s:I, s:I}", "ongoing", cs->outage_open, "since_ms",
				      (json_int_t)cs->outage_since, "total_ms",
				      (json_int_t)cs->outage_total));
	json_t *next = NULL;
	if (nx >= 0 && cs->run_id && !cs->abandoned) {
		next = json_pack("{s:i, s:s}", "index", nx + 1, "id", cs->plan->steps[nx].id);
		json_object_set_new(next, "command",
				    cs->locked ? json_null() : json_string(next_command(cs, nx)));
		json_object_set_new(next, "why",
				    cs->v[nx].rebind && !cs->locked ? json_string(cs->v[nx].rebind)
								    : json_null());
	}
	json_object_set_new(o, "next", next ? next : json_null());
	if (cs->locked) {
		json_t *lk = json_pack("{s:I, s:s}", "pid", (json_int_t)cs->holder.pid, "host",
				       cs->holder.host ? cs->holder.host : "");
		const char *more[][2] = {{"user", cs->holder.user},
					 {"command", cs->holder.command},
					 {"started", cs->holder.started},
					 {"run_id", cs->holder.run_id}};
		for (size_t k = 0; k < CCR_ARRAY_LEN(more); k++)
			if (more[k][1] != NULL)
				json_object_set_new(lk, more[k][0], json_string(more[k][1]));
		if (cs->holder.ttl_s > 0)
			json_object_set_new(lk, "ttl_s", json_integer(cs->holder.ttl_s));
		json_object_set_new(o, "lock", lk);
	}
	if (cs->ran_on != NULL)
		json_object_set_new(o, "host", json_string(cs->ran_on));
	if (cs->abandoned)
		json_object_set_new(
		    o, "abandoned",
		    json_pack("{s:s, s:o, s:s}", "reason",
			      cs->abandon_reason ? cs->abandon_reason : "", "user",
			      cs->abandoned_by ? json_string(cs->abandoned_by) : json_null(),
			      "time", cs->abandoned_at));
	return o;
}

static void release_status(struct cluster_status *cs)
{
	replay_free(cs->rp);
	journal_close(cs->j);
	for (int i = 0; cs->v && cs->plan && i < cs->plan->nsteps; i++)
		free(cs->v[i].outcomes);
	plan_free(cs->plan);
	free(cs->v);
	state_holder_release(&cs->holder);
}

int cmd_status(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f;
	int rc = cli_parse(argc, argv, usage, NULL, NULL, NULL, NULL, &o);
	json_t *all = NULL;
	struct state *st = NULL;

	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	if ((rc = cli_load(&o, &f)) || (rc = cli_state_open("status", &o, &f, &st)))
		goto out;
	all = json_array();
	for (int i = 0; i < f.nclusters && rc == 0; i++) {
		struct cluster_status cs;
		memset(&cs, 0, sizeof(cs));
		cs.cl = f.clusters[i];
		rc = load_status(st, &f, &cs);
		if (rc == 0 && strcmp(o.output, "json") == 0)
			json_array_append_new(all, to_json(&cs));
		else if (rc == 0)
			print_text_safe(&cs);
		release_status(&cs);
	}
	if (rc == 0 && strcmp(o.output, "json") == 0) {
		json_t *doc = json_pack("{s:s, s:o}", "format", "ccrup-status/1", "clusters", all);
		all = NULL;
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	}
out:
	json_decref(all);
	cli_state_close(st);
	cli_files_release(&f);
	return rc;
}
