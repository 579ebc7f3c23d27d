/*
 * runner.c — set-up and the step loop of a cluster's run: state directory,
 * lock, journal (replayed into step states), role binding, plan, then every
 * step in order.  One step's execution lives in runner_step.c.
 *
 * Ordering that matters: the lock is taken before the journal is opened
 * (two runs never append to one journal); roles are bound and journaled
 * before the plan is compiled (a resumed run compiles the same plan); the
 * journal records `begin` before any remote action of a step.
 */
#include "runner_int.h"

#include "audit.h"
#include "bind.h"
#include "fsafe.h"
#include "plan_live.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *runner_cluster_dir(const char *state_dir, const char *cluster)
{
	return xasprintf("%s/%s", state_dir, cluster);
}

void runner_emit(struct runner *r, struct event *e)
{
	/* A message may quote a command's output; a secret from the environment
	 * (docs/audit.md §2) is hidden before any sink (terminal, webhook) sees it. */
	const char *text = e->text, *detail = e->detail;
	char *t = r->rd && text ? redact_apply(r->rd, text) : NULL;
	char *d = r->rd && detail ? redact_apply(r->rd, detail) : NULL;

	if (t)
		e->text = t;
	if (d)
		e->detail = d;
	e->cluster = r->cl->name;
	e->wall_ms = now_wall_ms();
	if (r->plan && e->total == 0)
		e->total = r->plan->nsteps;
	for (int i = 0; i < r->o->nsinks; i++)
		r->o->sinks[i].fn(e, r->o->sinks[i].arg);
	e->text = text;
	e->detail = detail;
	free(t);
	free(d);
}

struct event runner_step_event(enum ev_kind kind, const struct plan_step *s)
{
	struct event e;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.exit = -1;
	if (s) {
		e.phase = s->phase->id;
		e.step = s->id;
		e.name = s->name;
		e.node = s->node;
		e.index = s->index;
	}
	return e;
}

void runner_emitf(struct runner *r, enum ev_kind k, const struct plan_step *s, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	struct event e = runner_step_event(k, s);
	e.text = text;
	runner_emit(r, &e);
	free(text);
}

/* An append or a sync failed: no further remote action.  Returns -1. */
static int stop_on_journal_error(struct runner *r, const struct plan_step *s)
{
	r->journal_broken = 1;
	if (runner_lock_lost(r))
		return -1;
	snprintf(r->err, sizeof(r->err),
		 "cannot write the journal: %s; stopping before any further remote action "
		 "(nothing is lost: fix the cause and run `ccrup resume`)",
		 journal_error(r->j));
	runner_emitf(r, EV_WARN, s, "%s", r->err);
	return -1;
}

/*
 * Records are written at once (readers see them) but fsync'd in groups:
 * runner_journal_sync() before every remote command that changes a node,
 * before the operator is asked, and at the end of the run.  Read-only
 * probes do not wait for it: a lost `done` is settled on resume like a
 * step killed before its `done` (its check, or the boot id).
 */
int runner_journal(struct runner *r, const char *event, const struct plan_step *s, json_t *rec)
{
	if (rec == NULL)
		rec = json_object();
	json_object_set_new(rec, "event", json_string(event));
	if (s) {
		json_object_set_new(rec, "step", json_string(s->id));
		json_object_set_new(rec, "node", s->node ? json_string(s->node) : json_null());
	}
	/* Free text (a failure's reason quotes the command's stderr) never carries a
	 * secret into the journal (DESIGN §5). */
	static const char *const prose[] = {"reason", "detail"};
	for (size_t k = 0; r->rd && k < CCR_ARRAY_LEN(prose); k++) {
		json_t *v = json_object_get(rec, prose[k]);
		if (json_is_string(v)) {
			char *red = redact_apply(r->rd, json_string_value(v));
			json_string_set(v, red);
			free(red);
		}
	}
	int rc = journal_append_deferred(r->j, rec);
	json_decref(rec);
	return rc < 0 ? stop_on_journal_error(r, s) : 0;
}

int runner_journal_sync(struct runner *r, const struct plan_step *s)
{
	if (r->j == NULL || r->journal_broken || !journal_unsynced(r->j))
		return r->journal_broken ? -1 : 0;
	return journal_sync(r->j) < 0 ? stop_on_journal_error(r, s) : 0;
}

int runner_lock_lost(struct runner *r)
{
	char why[1024];

	if (r->lock_lost)
		return 1;
	if (r->lock == NULL || state_lock_ok(r->lock, why, sizeof(why)))
		return 0;
	r->lock_lost = 1;
	snprintf(r->err, sizeof(r->err), "%s", why);
	runner_emitf(r, EV_WARN, NULL, "%s", why);
	r->err_emitted = 1;
	return 1;
}

/* The transport's guard: no remote command once the lock is lost. */
static int lock_guard(void *arg, char *why, size_t whylen)
{
	struct runner *r = arg;

	if (!runner_lock_lost(r))
		return 1;
	snprintf(why, whylen, "not sent: this run lost its lock");
	return 0;
}

int64_t runner_budget(const struct runner *r, int64_t ms)
{
	int64_t cap = r->o->max_timeout_ms;
	return cap > 0 && (ms <= 0 || ms > cap) ? cap : ms;
}

int runner_sleep(struct runner *r, int64_t ms)
{
	int64_t end = now_mono_ms() + ms;
	while (!(r->o->stop && *r->o->stop)) {
		int64_t left = end - now_mono_ms();
		if (left <= 0)
			return 0;
		struct timespec ts = {0, (long)(left > 50 ? 50 : left) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return 1;
}

/*
 * Refuse a state directory others can write to or own, or one below a
 * directory they control (fsafe.h): they could forge the journal or plant
 * symlinks that turn our writes into writes anywhere.
 */
static enum rres check_state_dir(struct runner *r)
{
	const char *dirs[2] = {r->o->state_dir, r->dir};
	/* Each is checked before anything is created in it. */
	for (int i = 0; i < 2; i++)
		if (fsafe_make_dir(dirs[i], "state directory", r->err, sizeof(r->err)) < 0)
			return RR_INPUT;
	return 0;
}

static enum rres take_lock(struct runner *r)
{
	const char *cmd = r->o->command_line ? r->o->command_line : "ccrup";
	char err[1024];
	int other = 0;

	r->lock = state_lock_acquire(r->o->state, r->cl->name, cmd, 0, r->o->stop, err, sizeof(err),
				     &other);
	if (r->lock == NULL && other && r->o->lock_wait_ms > 0) {
		runner_emitf(r, EV_INFO, NULL, "%s; waiting for it (--wait)", err);
		r->lock = state_lock_acquire(r->o->state, r->cl->name, cmd, r->o->lock_wait_ms,
					     r->o->stop, err, sizeof(err), &other);
	}
	if (r->lock)
		return 0;
	snprintf(r->err, sizeof(r->err), "%s", err);
	if (other && r->o->shared_fleet) {
		r->skipped = 1; /* another orchestrator host runs it: not ours, not an error */
		return RR_NOTHING;
	}
	if (r->o->stop && *r->o->stop && other)
		return RR_INTERRUPTED;
	return other ? RR_LOCKED : RR_INPUT;
}

/* Replay the journal (again: after the run-start of a new run). */
static enum rres reload(struct runner *r)
{
	replay_free(r->rp);
	r->rp = replay_load(r->j, r->cl->name, r->err, sizeof(r->err));
	return r->rp ? RR_OK : RR_JOURNAL;
}

static enum rres open_journal(struct runner *r)
{
	char msg[1024];
	enum journal_status js = state_journal_open(r->lock, &r->j, msg, sizeof(msg));
	if (js == JOURNAL_TORN_TAIL)
		runner_emitf(r, EV_WARN, NULL, "%s", msg);
	if (js == JOURNAL_TORN_TAIL || js == JOURNAL_OK)
		return reload(r);
	snprintf(r->err, sizeof(r->err), "%s", msg);
	return js == JOURNAL_CORRUPT ? RR_JOURNAL : RR_INPUT;
}

/* A finished journal is kept as journal-<run_id>.jsonl; the new run starts a fresh one. */
static enum rres archive_journal(struct runner *r)
{
	char *run = xstrdup(r->rp->run_id ? r->rp->run_id : "old");
	char err[1024];
	journal_close(r->j);
	r->j = NULL;
	int rc = state_journal_archive(r->lock, run, err, sizeof(err));
	free(run);
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "%s", err);
		return runner_lock_lost(r) ? RR_LOCK_LOST : RR_INPUT;
	}
	return open_journal(r);
}

/* The cluster's variable values as the run starts (failback, versions, paths). */
static json_t *vars_snapshot(const struct runner *r)
{
	struct plan p = {.pb = r->pb, .inv = r->inv, .cl = r->cl};
	struct subst_ctx c;
	json_t *o = json_object();
	plan_subst_ctx(&p, NULL, &c);
	for (int i = 0; i < r->pb->nvars; i++) {
		const struct var_def *v = &r->pb->vars[i];
		enum var_kind k;
		const char *val =
		    v->is_list || v->kind == VK_RAW ? NULL : subst_value(&c, v->name, &k);
		if (val)
			json_object_set_new(o, v->name, json_string(val));
	}
	return o;
}

static enum rres start_run(struct runner *r)
{
	char ts[32];
	format_iso8601(now_wall_ms(), ts, sizeof(ts));
	snprintf(r->run_id, sizeof(r->run_id), "%.19s-%ld", ts, (long)getpid());
	for (char *p = r->run_id; *p; p++)
		if (*p == ':')
			*p = '-';
	journal_set_run_id(r->j, r->run_id);
	json_t *rec =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "cluster", r->cl->name, "playbook",
		      r->pb->name, "playbook_path", r->pb->path, "playbook_sha256", r->pb->sha256,
		      "inventory_path", r->inv->path, "inventory_sha256", r->inv->sha256, "mode",
		      r->o->unattended ? "unattended" : "guided");
	json_object_set_new(rec, "inventory_plan_sha256", json_string(r->inv->plan_sha256));
	json_object_set_new(rec, "vars", vars_snapshot(r));
	if (state_shared(r->o->state)) { /* which orchestrator host ran it (status, fleets) */
		char host[256] = "unknown";
		if (gethostname(host, sizeof(host) - 1) < 0)
			snprintf(host, sizeof(host), "unknown");
		json_object_set_new(rec, "host", json_string(host));
		json_object_set_new(rec, "pid", json_integer((json_int_t)getpid()));
	}
	(void)state_lock_set_run(r->lock, r->run_id);
	if (runner_journal(r, jev_name(JEV_RUN_START), NULL, rec) < 0)
		return RR_JOURNAL;
	return reload(r);
}

static enum rres check_digests(struct runner *r)
{
	const char *pb = NULL, *inv = NULL;
	if (journal_pinned_digests(r->j, &pb, &inv) < 0)
		return 0;
	/* A journal that pins the inventory's plan digest compares that one: a
	   change to how the hosts are reached (address, port, user, key, ssh:)
	   changes no step.  Older journals compare the whole file. */
	const char *inv_plan = journal_pinned_plan_digest(r->j);
	const char *inv_now = inv_plan ? r->inv->plan_sha256 : r->inv->sha256;
	if (inv_plan)
		inv = inv_plan;
	int pb_changed = pb && strcmp(pb, r->pb->sha256) != 0;
	int inv_changed = inv && strcmp(inv, inv_now) != 0;
	if (!pb_changed && !inv_changed) {
		const char *whole = NULL;
		if (inv_plan && journal_pinned_digests(r->j, &pb, &whole) == 0 &&
		    strcmp(whole, r->inv->sha256) != 0)
			runner_emitf(r, EV_INFO, NULL,
				     "%s changed only in how the hosts are reached (connection "
				     "settings); the run's plan is unchanged",
				     r->inv->path);
		return 0;
	}
	if (r->o->accept_changed_playbook) {
		runner_emitf(r, EV_WARN, NULL,
			     "%s changed since the run started; continuing "
			     "(--accept-changed-playbook)",
			     pb_changed ? r->pb->path : r->inv->path);
		return 0;
	}
	snprintf(r->err, sizeof(r->err),
		 "%s changed since this run started%s (sha256 %.12s..., now %.12s...); a resumed "
		 "run must follow the plan it began with.  Put the file back, or resume with "
		 "--accept-changed-playbook if the change is deliberate",
		 pb_changed ? r->pb->path : r->inv->path,
		 pb_changed || !inv_plan ? ""
					 : " in more than how the hosts are reached (clusters, "
					   "roles, vars or notify)",
		 pb_changed ? pb : inv, pb_changed ? r->pb->sha256 : inv_now);
	return RR_JOURNAL;
}

/* Did the run starting at record `start` act on a node (a `begin`)? */
static int run_acted(const struct replay *rp)
{
	for (int i = 0; i < rp->nsteps; i++)
		if (rp->steps[i].last_begin >= 0)
			return 1;
	return 0;
}
/*
 * Shared fleet: the last run finished with the same playbook and inventory,
 * so another orchestrator host already upgraded this cluster.
 */
static int done_elsewhere(struct runner *r, const char *res)
{
	const char *pb = NULL, *inv = NULL;

	if (!r->o->shared_fleet || res == NULL || strcmp(res, "done") != 0 ||
	    journal_pinned_digests(r->j, &pb, &inv) < 0 || strcmp(pb, r->pb->sha256) != 0 ||
	    strcmp(inv, r->inv->sha256) != 0)
		return 0;
	const char *host = r->rp->host;
	snprintf(r->err, sizeof(r->err),
		 "cluster %s was already upgraded by run %s%s%s with this playbook and "
		 "inventory; left alone (apply --clusters %s runs it again)",
		 r->cl->name, r->rp->run_id, host ? " on host " : "", host ? host : "",
		 r->cl->name);
	r->skipped = 1;
	return 1;
}
/*
 * Choose between a new run and the unfinished one, per apply/resume.  For
 * apply, nothing is written yet: the new run starts (start_run) only once
 * the plan is known to have something to do.
 */
static enum rres choose_run(struct runner *r)
{
	long start = r->rp->nruns > 0 ? 0 : -1;
	const char *res = r->rp->result;
	/* An abandoned run is over: apply archives it like a finished one. */
	int abandoned = res != NULL && strcmp(res, "abandoned") == 0;
	int unfinished = start >= 0 && !abandoned && (res == NULL || strcmp(res, "done") != 0);

	if (r->o->resume) {
		if (!unfinished) {
			snprintf(r->err, sizeof(r->err), "nothing to resume for cluster %s: %s%s%s",
				 r->cl->name,
				 start < 0   ? "no run has started (use `ccrup apply`)"
				 : abandoned ? "the last run was abandoned ("
					     : "the last run finished",
				 abandoned ? r->rp->result_detail : "",
				 abandoned ? "); `ccrup apply` starts a new run" : "");
			return start < 0 || abandoned ? RR_INPUT : RR_NOTHING;
		}
		snprintf(r->run_id, sizeof(r->run_id), "%s", r->rp->run_id);
		journal_set_run_id(r->j, r->run_id);
		(void)state_lock_set_run(r->lock, r->run_id);
		enum rres rc = check_digests(r);
		/* Another run's marker on the cluster: refused before anything is written. */
		return rc != RR_OK ? rc : runner_result_of_exit(runner_marker_peek(r));
	}
	if (start >= 0 && !unfinished && done_elsewhere(r, res))
		return RR_NOTHING;
	if (unfinished && run_acted(r->rp)) {
		snprintf(r->err, sizeof(r->err),
			 "cluster %s has an unfinished run (%s); continue it with `ccrup resume`",
			 r->cl->name, res ? res : "interrupted");
		return RR_INPUT;
	}
	if (unfinished)
		r->replaces = 1; /* it took no remote action: the new run replaces it */
	/* Another run's marker on the cluster: refused before anything is written. */
	return runner_result_of_exit(runner_marker_peek(r));
}

/* apply: archive the previous journal (if any) and journal the new run's start. */
static enum rres begin_new_run(struct runner *r)
{
	enum rres rc;
	if (r->rp->nruns > 0) {
		if (r->replaces)
			runner_emitf(r, EV_INFO, NULL,
				     "the unfinished run took no remote action: archived, and "
				     "replaced by this one");
		snprintf(r->ended_run_id, sizeof(r->ended_run_id), "%s",
			 r->rp->run_id ? r->rp->run_id : "");
		if ((rc = archive_journal(r)) != RR_OK)
			return rc;
	}
	return start_run(r);
}

/* Bindings and recorded values of the current run, from the replay. */
static void replay_binds(struct runner *r)
{
	const struct replay *rp = r->rp;
	replay_roles(rp, r->pb, r->inv, &r->roles, &r->nroles);
	for (int i = 0; i < rp->nvalues; i++)
		saved_set(r->saved, rp->values[i].node, rp->values[i].name, rp->values[i].item,
			  rp->values[i].value);
}

/*
 * Before anything is probed live: the journal checked against the plan it
 * tells of (its bindings, the rest assumed), as status and report read it.
 */
static enum rres check_journal(struct runner *r)
{
	struct replay *rp = r->rp;
	int strict = replay_pinned(rp, r->pb);
	char err[1024];
	enum rres rc = RR_OK;

	if (rp->nruns == 0 || !strict)
		return RR_OK;
	struct plan *p = replay_compile_plan(rp, r->pb, r->inv, r->cl, err, sizeof(err));
	if (p && replay_plan(rp, p, 1, r->err, sizeof(r->err)) < 0)
		rc = RR_JOURNAL;
	plan_free(p);
	return rc;
}

/*
 * Work done under the roles before a rebind counts for plan step i (replay_plan):
 * whether it still holds is for the step's check to say, live, when its effect
 * can be seen and running it again is safe (idempotent): the check skips it
 * without a command, or it runs again where something undid it (a restart that
 * restarted a stopped service).  Anything else stays done: never run twice.
 */
static int carried_recheck(const struct runner *r, int i, const struct replay_step *s)
{
	const struct plan_step *ps = &r->plan->steps[i];
	int carried = strcmp(s->id, ps->id) != 0 || (s->node == NULL) != (ps->node == NULL) ||
		      (s->node && !str_ieq(s->node, ps->node));
	const struct step_def *d = ps->def;
	return carried && d->idempotent && (d->check.expr != NULL || d->check.probe != NULL);
}

/*
 * Step states and the outage from the replay, checked against the plan.
 * The plan-level rules apply when the playbook is the one the run pinned.
 * An operator's skip leaves the step pending: resume offers it again.
 */
static enum rres replay_steps(struct runner *r)
{
	struct replay *rp = r->rp;
	int strict = replay_pinned(rp, r->pb);
	static const enum sstate map[] = {
	    [RS_PENDING] = SS_PENDING,	[RS_BEGUN] = SS_BEGUN,	 [RS_DONE] = SS_DONE,
	    [RS_SKIPPED] = SS_SKIPPED,	[RS_FAILED] = SS_FAILED, [RS_REFUSED] = SS_REFUSED,
	    [RS_INTERRUPTED] = SS_BEGUN};

	if (replay_plan(rp, r->plan, strict, r->err, sizeof(r->err)) < 0)
		return RR_JOURNAL;
	for (int i = 0; i < r->plan->nsteps; i++) {
		const struct replay_step *s = replay_step_at(rp, i);
		struct stepstate *ss = &r->st[i];
		if (s == NULL)
			continue;
		ss->st = map[s->state];
		ss->op_skipped = replay_step_op_skipped(s);
		if (ss->st == SS_DONE && carried_recheck(r, i, s))
			ss->st = SS_PENDING;
		ss->acted = s->last_begin >= 0;
		if (ss->st == SS_BEGUN && s->last_begin >= 0) {
			const struct replay_attempt *b = &s->att[s->last_begin];
			free(ss->boot_id);
			ss->boot_id = b->boot_id ? xstrdup(b->boot_id) : NULL;
			ss->begin_wall = b->wall_ms;
		}
	}
	const struct replay_outage *o = rp->noutages ? &rp->outages[rp->noutages - 1] : NULL;
	if (o && (o->end_ms == 0 || o->implied)) {
		r->in_outage = 1;
		r->outage_wall = o->start_ms;
	}
	/* Killed between the outage's last step and its outage-end: close it now,
	 * at the time its last step ended, and tell whoever listens. */
	if (o && o->implied) {
		const struct plan_step *s = plan_find(r->plan, o->end_step, o->end_node);
		if (runner_outage_end(r, s, o->end_ms, "resume: its last step was done") < 0)
			return RR_JOURNAL;
	}
	return RR_OK;
}

int runner_outage_end(struct runner *r, const struct plan_step *s, int64_t wall, const char *by)
{
	json_t *rec = json_pack("{s:I, s:I}", "wall_ms", (json_int_t)wall, "duration_ms",
				(json_int_t)(wall - r->outage_wall));
	if (by)
		json_object_set_new(rec, "by", json_string(by));
	if (runner_journal(r, jev_name(JEV_OUTAGE_END), s, rec) < 0)
		return -1;
	struct event e = runner_step_event(EV_OUTAGE_END, s);
	e.duration_ms = wall - r->outage_wall;
	runner_emit(r, &e);
	r->in_outage = 0;
	return 0;
}

/* Is host a member of the group a role is bound from? */
static int role_host_ok(const struct runner *r, const struct role_binding *b, const char **from)
{
	const struct role_def *d = playbook_role(r->pb, b->role);
	const struct host_group *g = d ? cluster_group(r->cl, d->from) : NULL;
	int member = 0;
	for (int i = 0; g && i < g->nhosts; i++)
		member |= str_ieq(g->hosts[i], b->host);
	*from = d ? d->from : "?";
	return member;
}

/*
 * Roles not in the journal are bound now, from live facts, before anything
 * changes; a resumed run reuses its bindings and checks that each host is
 * still where it was bound.  New bindings are journaled by journal_binds.
 */
/*
 * Binding the roles failed: if hosts cannot be reached, say so in plain
 * words for every one of them ("cannot reach NODE2 (127.0.0.1:25303):
 * authentication failed ..."), instead of the expression whose fact could
 * not be probed.  r->err is kept when every host answers.
 */
static void explain_unreachable(struct runner *r)
{
	struct sbuf sb;
	int bad = 0, total = 0;
	const char **seen = NULL;

	sbuf_init(&sb);
	for (int g = 0; g < r->cl->ngroups; g++)
		for (int i = 0; i < r->cl->groups[g].nhosts; i++) {
			const char *h = r->cl->groups[g].hosts[i];
			int dup = 0;
			for (int k = 0; k < total; k++)
				dup |= str_ieq(seen[k], h);
			if (dup)
				continue;
			seen = xreallocarray(seen, (size_t)total + 1, sizeof(*seen));
			seen[total++] = h;
			struct xport *x = conns_get(r->conns, h);
			if (x == NULL || xport_connect(x) == XPORT_OK)
				continue;
			sbuf_addf(&sb, "%scannot reach %s", bad ? "; " : "", xport_error(x));
			bad++;
		}
	if (bad)
		snprintf(r->err, sizeof(r->err), "%s (%d of %d hosts of cluster %s)", sb.buf, bad,
			 total, r->cl->name);
	free(seen);
	sbuf_release(&sb);
}

static enum rres bind_roles(struct runner *r)
{
	const char *from;

	r->had_roles = r->nroles;
	r->bindplan.roles = r->roles;
	r->bindplan.nroles = r->nroles;
	int rc =
	    bind_roles_live(r->pb, r->cl, r->facts, &r->roles, &r->nroles, r->err, sizeof(r->err));
	if (rc) {
		if (!(r->o->stop && *r->o->stop))
			explain_unreachable(r);
		return runner_result_of_exit(rc);
	}
	for (int k = 0; k < r->had_roles; k++) {
		if (!role_host_ok(r, &r->roles[k], &from)) {
			snprintf(
			    r->err, sizeof(r->err),
			    "role %s was bound to %s, which is no longer in '%s' of cluster %s",
			    r->roles[k].role, r->roles[k].host, from, r->cl->name);
			return RR_JOURNAL;
		}
	}
	return RR_OK;
}

/* Journal the bindings made by this process and announce every binding. */
static enum rres journal_binds(struct runner *r)
{
	for (int k = 0; k < r->had_roles; k++)
		runner_emitf(r, EV_BIND, NULL, "role %s = %s (from the journal)", r->roles[k].role,
			     r->roles[k].host);
	for (int k = r->had_roles; k < r->nroles; k++) {
		json_t *rec =
		    json_pack("{s:s, s:s}", "role", r->roles[k].role, "host", r->roles[k].host);
		const struct role_def *d = playbook_role(r->pb, r->roles[k].role);
		if (d && d->select == SELECT_ALL) /* a set: resume can tell a whole one */
			json_object_set_new(
			    rec, "count",
			    json_integer(bind_count(r->roles, r->nroles, r->roles[k].role)));
		if (runner_journal(r, "bind", NULL, rec) < 0)
			return RR_JOURNAL;
		runner_emitf(r, EV_BIND, NULL, "role %s = %s", r->roles[k].role, r->roles[k].host);
		if (d && d->assume == ASSUME_DECLARED && r->cl->active &&
		    !str_ieq(r->cl->active, r->roles[k].host))
			runner_emitf(
			    r, EV_WARN, NULL,
			    "the inventory declares active: %s for cluster %s, but the live "
			    "facts bind role %s to %s; bound from the live facts (%s).  "
			    "Update active: in %s",
			    r->cl->active, r->cl->name, r->roles[k].role, r->roles[k].host,
			    r->roles[k].host, r->inv->path);
	}
	return RR_OK;
}

/* apply --plan: refuse, before the run starts, a plan whose facts changed since. */
static enum rres check_saved_plan(struct runner *r)
{
	if (r->o->saved_plan == NULL || r->o->resume)
		return RR_OK;
	return runner_result_of_exit(plan_live_check_saved(r->o->saved_plan, r->pb, r->inv, r->cl,
							   r->facts, r->err, sizeof(r->err)));
}

/* Every probe the facts module runs is a remote command too: the audit sees it. */
static void on_probe(const char *host, const char *cmd, const struct xport_result *res,
		     const char *batch, void *arg)
{
	struct runner *r = arg;
	struct event e = {.kind = EV_CMD_END,
			  .node = host,
			  .command = cmd,
			  .exit = res->exit,
			  .duration_ms = res->duration_ms,
			  .text = res->out.buf,
			  .detail = res->err.buf,
			  .batch = batch};
	runner_emit(r, &e);
}

static enum rres compile_plan(struct runner *r)
{
	char err[1024];
	r->plan = plan_compile(r->pb, r->inv, r->cl, r->roles, r->nroles, err, sizeof(err));
	if (r->plan == NULL) {
		snprintf(r->err, sizeof(r->err), "%s", err);
		return RR_INPUT;
	}
	r->st = xcalloc((size_t)r->plan->nsteps + 1, sizeof(*r->st));
	facts_free(r->facts);
	r->facts = facts_new(r->plan, r->conns, r->o->stop);
	facts_set_observer(r->facts, on_probe, r);
	runner_prefetch_init(r);
	return 0;
}

/* Journal the run's end, emit it, and turn the result into the exit code. */
static int finish(struct runner *r, enum rres rc)
{
	if (runner_lock_lost(r))
		rc = RR_LOCK_LOST; /* whatever stopped the step, the cause is the lost lock */
	/* A set-up failure (binding roles: fact probes) after a stop request is the
	 * stop's doing: an interruption, like a step's (runner_fail). */
	else if ((rc == RR_FAILED || rc == RR_INPUT) && r->o->stop && *r->o->stop) {
		snprintf(r->err, sizeof(r->err),
			 "interrupted while probing the cluster's state; continue with: %s",
			 runner_resume_hint(r));
		rc = RR_INTERRUPTED;
	}
	const char *res = runner_result_name(rc);

	if (r->j && r->run_id[0] && !r->journal_broken && !r->lock_lost) {
		json_t *rec = json_pack("{s:s}", "result", res);
		if (r->err[0])
			json_object_set_new(rec, "detail", json_string(r->err));
		if ((runner_journal(r, "run-end", NULL, rec) < 0 ||
		     runner_journal_sync(r, NULL) < 0) &&
		    rc == RR_OK)
			rc = RR_JOURNAL;
	}
	if (rc != RR_OK && r->err[0] && !r->err_emitted)
		runner_emitf(r,
			     rc == RR_INTERRUPTED ? EV_WARN
			     : rc == RR_REFUSED	  ? EV_RUN_REFUSED
						  : EV_STEP_FAILED,
			     NULL, "%s", r->err);
	else if (rc == RR_LOCK_LOST)
		runner_emitf(r, EV_STEP_FAILED, NULL, "%s", r->err);
	runner_emitf(r, EV_RUN_END, NULL, "%s", runner_result_name(rc));
	return runner_exit_code(rc);
}

const char *runner_resume_hint(const struct runner *r)
{
	static __thread char buf[1024];
	if (r->o->resume_command)
		return r->o->resume_command;
	snprintf(buf, sizeof(buf), "ccrup resume %s", r->inv->path);
	return buf;
}

/*
 * Guided mode, after step i failed: retry it, show details, or quit with
 * the exact command that continues.  1 to retry, 0 to stop.
 */
static int after_failure(struct runner *r, int i)
{
	const struct plan_step *s = &r->plan->steps[i];
	for (;;) {
		char *q = xasprintf("%s on %s failed. [r]etry [d]etails [q]uit", s->id,
				    s->node ? s->node : "-");
		int c = runner_ask(r, q, "rdq");
		free(q);
		runner_journal(r, "answer", s,
			       json_pack("{s:s}", "answer",
					 c == 'r'   ? "retry"
					 : c == 'd' ? "details"
						    : "quit"));
		if (c == 'd') {
			int own = r->last_output != NULL && r->last_output_of == s;
			runner_emitf(r, EV_INFO, s, "details of the failure: %s%s%s", r->err,
				     own ? "\n" : "", own ? r->last_output : "");
			continue;
		}
		if (c == 'r') {
			r->err[0] = '\0';
			r->err_emitted = 0;
			r->retrying = 1;
			return 1;
		}
		runner_emitf(r, EV_INFO, s, "after fixing the cause, continue with: %s",
			     runner_resume_hint(r));
		return 0;
	}
}

/* Steps the operator skipped and nothing settled since: the run is not done. */
static enum rres left_pending(struct runner *r)
{
	struct sbuf list;
	int n = 0;
	sbuf_init(&list);
	for (int i = 0; i < r->plan->nsteps; i++) {
		const struct plan_step *s = &r->plan->steps[i];
		if (r->st[i].st != SS_SKIPPED || !r->st[i].op_skipped)
			continue;
		sbuf_addf(&list, "%s%s on %s", n++ ? ", " : "", s->id, s->node ? s->node : "-");
	}
	if (n)
		snprintf(r->err, sizeof(r->err),
			 "%d step%s skipped by the operator %s still to do (%s); `ccrup resume` "
			 "offers %s again",
			 n, n > 1 ? "s" : "", n > 1 ? "are" : "is", list.buf,
			 n > 1 ? "them" : "it");
	sbuf_release(&list);
	return n ? RR_INCOMPLETE : RR_OK;
}

/* Does host run a step of the plan from index from on, or hold the run marker? */
static int host_needed(const struct runner *r, const char *host, int from)
{
	const struct host_group *g = r->pb->marker ? cluster_group(r->cl, r->pb->marker->on) : NULL;
	for (int i = 0; g && i < g->nhosts; i++)
		if (str_ieq(g->hosts[i], host))
			return 1;
	for (int i = from; i < r->plan->nsteps; i++)
		if (r->plan->steps[i].node && str_ieq(r->plan->steps[i].node, host))
			return 1;
	return 0;
}

/*
 * Close the session of every host of the cluster that no step from index
 * from on runs on and the run marker does not need, so that a fleet holds
 * the sockets of the hosts still at work (two-node's Hub Transport / CAS
 * server is only read in preflight).  A host needed after all (a later
 * step's fact read there, roles that moved) is reconnected on first use.
 */
static void close_idle_hosts(struct runner *r, int from)
{
	for (int g = 0; g < r->cl->ngroups; g++)
		for (int i = 0; i < r->cl->groups[g].nhosts; i++) {
			const char *h = r->cl->groups[g].hosts[i];
			if (!host_needed(r, h, from))
				conns_close(r->conns, h);
		}
}

static enum rres run_steps(struct runner *r)
{
	for (int i = 0; i < r->plan->nsteps; i++) {
		if (r->o->stop && *r->o->stop) {
			snprintf(r->err, sizeof(r->err),
				 "interrupted before step %s; continue with: %s",
				 r->plan->steps[i].id, runner_resume_hint(r));
			return RR_INTERRUPTED;
		}
		if (runner_lock_lost(r))
			return RR_LOCK_LOST;
		enum rres rc = runner_step(r, i);
		if (rc == RR_FAILED && r->o->ask && !r->journal_broken &&
		    !(r->o->stop && *r->o->stop) && after_failure(r, i)) {
			i--;
			continue;
		}
		if (rc != RR_OK)
			return rc;
		/* The step that ends the outage is settled (done, or skipped because its
		 * effect was already there): the outage is over. */
		enum outage_mark m = r->plan->steps[i].def->outage;
		if (r->in_outage && (m == OUTAGE_ENDS || m == OUTAGE_WITHIN) &&
		    !r->st[i].op_skipped &&
		    runner_outage_end(r, &r->plan->steps[i], now_wall_ms(), NULL) < 0)
			return RR_JOURNAL;
		close_idle_hosts(r, i + 1);
	}
	return left_pending(r);
}

/* resume --mark-done/--retry name steps of the plan: a typo is an input error. */
static enum rres check_told(struct runner *r)
{
	const char *const *lists[2] = {r->o->mark_done, r->o->retry};
	int counts[2] = {r->o->nmark_done, r->o->nretry};
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < counts[l]; k++) {
			int found = 0;
			for (int i = 0; i < r->plan->nsteps && !found; i++)
				found = runner_told(&r->plan->steps[i], &lists[l][k], 1);
			if (!found) {
				snprintf(r->err, sizeof(r->err),
					 "--%s %s: no such step in the plan of cluster %s (give "
					 "PHASE.STEP or PHASE.STEP@NODE, as `ccrup status` shows)",
					 l ? "retry" : "mark-done", lists[l][k], r->cl->name);
				return RR_INPUT;
			}
		}
	return RR_OK;
}

static void release(struct runner *r)
{
	for (int i = 0; r->st && r->plan && i < r->plan->nsteps; i++)
		free(r->st[i].boot_id);
	free(r->st);
	plan_free(r->plan);
	facts_free(r->facts);
	conns_free(r->conns);
	saved_free(r->saved);
	free(r->roles);
	replay_free(r->rp);
	journal_close(r->j);
	state_lock_release(r->lock);
	redact_free(r->rd);
	free(r->dir);
	free(r->run_said);
	free(r->last_output);
	free(r->rebind_why);
}

/* resume: the unfinished run's bindings, plan and step states, from the journal. */
static enum rres prepare_resume(struct runner *r)
{
	enum rres rc;
	/* The outages the run's earlier attempts saw through count in this one's summary. */
	char *t = xasprintf("resuming run %s", r->run_id);
	struct event start = runner_step_event(EV_RUN_START, NULL);
	start.text = t;
	start.duration_ms = r->rp != NULL ? r->rp->outage_total_ms : 0;
	runner_emit(r, &start);
	free(t);
	replay_binds(r);
	if ((rc = check_journal(r)) != RR_OK)
		return rc;
	/* --rebind: the roles afresh; the replay then reads the rebind record. */
	if (r->o->rebind && ((rc = runner_rebind(r)) != RR_OK || (r->rebound && (rc = reload(r)))))
		return rc;
	if ((rc = bind_roles(r)) != RR_OK || (rc = journal_binds(r)) != RR_OK ||
	    (rc = compile_plan(r)) != RR_OK)
		return rc;
	if ((rc = replay_steps(r)) != RR_OK || (rc = check_told(r)) != RR_OK)
		return rc;
	if (r->in_outage) {
		/* Still open from the run being resumed: say so, and how long it has lasted. */
		struct event e = runner_step_event(EV_OUTAGE_START, NULL);
		e.elapsed_ms = now_wall_ms() - r->outage_wall;
		e.text = r->pb->outage_impact;
		e.detail = r->pb->service_name;
		runner_emit(r, &e);
	}
	r->run_has_work = runner_plan_has_work(r);
	return RR_OK;
}

/*
 * apply: bind and plan from live facts first; a cluster where nothing has
 * anything to do gets one line and no run at all (the journal is not
 * touched, no gate is asked, nothing is announced).  Otherwise the new run
 * is journaled, then its bindings.
 */
static enum rres prepare_apply(struct runner *r)
{
	enum rres rc, rc2;
	if ((rc = bind_roles(r)) != RR_OK || (rc = compile_plan(r)) != RR_OK) {
		/* The run that could not bind is journaled (status shows it, resume retries). */
		if ((rc2 = begin_new_run(r)) != RR_OK)
			return rc2;
		return rc;
	}
	r->run_has_work = runner_plan_has_work(r);
	if (!r->run_has_work) {
		runner_emitf(r, EV_INFO, NULL,
			     "cluster %s: nothing to do: every step is already done or does not "
			     "apply",
			     r->cl->name);
		return RR_NOTHING;
	}
	if ((rc = begin_new_run(r)) != RR_OK)
		return rc;
	runner_emitf(r, EV_RUN_START, NULL, "starting run %s", r->run_id);
	return journal_binds(r);
}

static void runner_init(struct runner *r, const struct playbook *pb, const struct inventory *inv,
			const struct cluster_def *cl, const struct run_opts *o)
{
	struct conns_opts co = {.trust_new_hosts = o->trust_new_hosts,
				.ssh_config = o->ssh_config,
				.gate = o->gate,
				.known = o->known,
				.guard = lock_guard,
				.guard_arg = r,
				.ops = o->xport_ops,
				.ops_arg = o->xport_arg};
	memset(r, 0, sizeof(*r));
	r->rd = redact_new_from_env();
	r->pb = pb;
	r->inv = inv;
	r->cl = cl;
	r->o = o;
	r->dir = runner_cluster_dir(o->state_dir, cl->name);
	r->saved = saved_new();
	r->conns = conns_new(inv, &co);
	r->bindplan.pb = pb;
	r->bindplan.inv = inv;
	r->bindplan.cl = cl;
	r->facts = facts_new(&r->bindplan, r->conns, o->stop);
	facts_set_observer(r->facts, on_probe, r);
}

int runner_run(const struct playbook *pb, const struct inventory *inv, const struct cluster_def *cl,
	       const struct run_opts *o)
{
	struct runner r;
	enum rres rc;
	int code;

	runner_init(&r, pb, inv, cl, o);
	/* Until the lock is ours, the cluster's audit log and webhooks belong to
	 * whoever holds it: a refusal is told to this operator only. */
	if ((rc = check_state_dir(&r)) != RR_OK || (rc = take_lock(&r)) != RR_OK) {
		struct event e =
		    runner_step_event(rc == RR_NOTHING ? EV_INFO : EV_RUN_REFUSED, NULL);
		e.text = r.err;
		e.local = 1;
		runner_emit(&r, &e);
		code = runner_exit_code(rc); /* RR_NOTHING: another orchestrator host runs it */
		goto out;
	}
	if ((rc = open_journal(&r)) != RR_OK || (rc = check_saved_plan(&r)) != RR_OK ||
	    (rc = choose_run(&r)) != RR_OK) {
		/* Nothing was attempted: a refusal to start (or nothing to resume, or upgraded by
		 * another host), not a failed step. */
		runner_emitf(&r, rc == RR_NOTHING ? EV_INFO : EV_RUN_REFUSED, NULL, "%s", r.err);
		code = runner_exit_code(rc);
		goto out;
	}
	rc = o->resume ? prepare_resume(&r) : prepare_apply(&r);
	if (rc == RR_NOTHING) {
		code = runner_exit_code(rc);
		goto out;
	}
	if (rc == RR_OK && (rc = run_steps(&r)) == RR_OK)
		runner_marker_release(&r);
	code = finish(&r, rc);
out:
	release(&r);
	return code;
}
