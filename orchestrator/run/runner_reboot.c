/*
 * runner_reboot.c — reboots are verified, not assumed (DESIGN §4): issue
 * the playbook's reboot command, see the node go down (or its boot id
 * change) within the down budget, then see SSH answer again with a new
 * boot id and the step's `ready` condition hold within the up budget.
 */
#include "runner_int.h"

#include <string.h>

/* The node's boot id now: 0 with a new string, -1 when it cannot be read. */
int runner_boot_id(struct runner *r, const char *node, char **value, char *err, size_t errlen)
{
	facts_invalidate(r->facts);
	return runner_boot_id_read(r, node, value, err, errlen);
}

int runner_boot_id_read(struct runner *r, const char *node, char **value, char *err, size_t errlen)
{
	const char *v = NULL;
	if (facts_get(r->facts, r->pb->boot_id_fact, node, &v, NULL, err, errlen) < 0)
		return -1;
	*value = xstrdup(v);
	return 0;
}

static void waiting(struct runner *r, const struct plan_step *s, const char *what, int64_t t0,
		    int64_t budget)
{
	struct event e = runner_step_event(EV_WAITING, s);
	e.text = what;
	e.elapsed_ms = now_mono_ms() - t0;
	e.budget_ms = budget;
	runner_emit(r, &e);
}

/*
 * The first re-probe of a reboot comes soon (a fast node or a simulator is
 * back within milliseconds: a first sleep of 100 ms was most of a reboot step
 * at time scale 0), then the interval doubles up to the cap, so a slow node
 * costs a handful of extra probes.  Sleep first, double after; a sleep
 * while the node is going down ends early when the node closes our
 * connection, which a rebooting node does first.
 */
#define REBOOT_POLL_FIRST_MS 5
/*
 * While the node is down there is no connection to watch, and a look is
 * one TCP connect that is refused at once: the first comes after 1 ms, so
 * a node that is back within milliseconds (a simulator at time scale 0)
 * costs 1-3 refused connects rather than a 5 ms sleep.
 */
#define REBOOT_UP_POLL_FIRST_MS 1
/*
 * While the node is down a poll is one TCP connect (refused, or bounded by
 * the connect timeout): cheap enough to try twice a second, so the node's
 * return is noticed within half a second rather than within the 2 s (or
 * xport_connect_retry's 5 s) a longer interval would add to every reboot.
 */
#define REBOOT_UP_POLL_MAX_MS 500

/* How a wait for the node to go down or come back ended. */
enum wait_res {
	WR_OK = 0,  /* it went down / came back ready */
	WR_TIMEOUT, /* the budget was spent */
	WR_STOPPED, /* *stop was set */
	WR_HOSTKEY, /* it came back with a host key or authentication problem */
};

/*
 * Sleep up to ms, waking as soon as node's connection is closed by the node
 * (a reboot closes it before anything else shows).  Returns 1 if stopped.
 */
static int sleep_or_closed(struct runner *r, const char *node, int64_t ms)
{
	struct xport *x = conns_get(r->conns, node);
	int64_t end = now_mono_ms() + ms;

	while (!(r->o->stop && *r->o->stop)) {
		int64_t left = end - now_mono_ms();
		if (left <= 0 || xport_wait_closed(x, left > 50 ? 50 : left) == 1)
			return 0;
	}
	return 1;
}

/*
 * Until the node stops answering or shows a new boot id (*seen_new = 1:
 * the new boot id was read, wait_up need not read it again).  Each look
 * comes when the node closes our connection, or after the poll interval.
 */
static enum wait_res wait_down(struct runner *r, const struct plan_step *s, const char *pre,
			       int64_t budget, int *seen_new)
{
	int64_t t0 = now_mono_ms(), poll = REBOOT_POLL_FIRST_MS;
	char err[512];

	*seen_new = 0;
	for (;;) {
		if (sleep_or_closed(r, s->node, poll))
			return WR_STOPPED;
		char *now = NULL;
		if (runner_boot_id(r, s->node, &now, err, sizeof(err)) < 0)
			return WR_OK; /* not answering: it went down */
		int changed = strcmp(now, pre) != 0;
		free(now);
		if (changed) {
			*seen_new = 1;
			return WR_OK;
		}
		if (now_mono_ms() - t0 >= budget)
			return WR_TIMEOUT;
		waiting(r, s, "node going down for the reboot", t0, budget);
		poll = poll * 2 > 1000 ? 1000 : poll * 2;
	}
}

/*
 * Until SSH answers with a new boot id and `ready` holds.  seen_new: the
 * new boot id was just read (by wait_down), so the first look goes
 * straight to `ready`.
 */
static enum wait_res wait_up(struct runner *r, const struct plan_step *s, const char *pre,
			     int seen_new, int64_t budget, char *last, size_t lastlen)
{
	int64_t t0 = now_mono_ms(), poll = REBOOT_UP_POLL_FIRST_MS;
	struct xport *x = conns_get(r->conns, s->node);
	const struct cond *ready = &s->def->reboot.ready;

	for (;;) {
		/* One attempt per poll: xport_connect_retry's own backoff (200 ms doubling to
		 * 5 s) would overshoot the node's return by up to half the downtime. */
		enum xport_outcome o = seen_new ? XPORT_OK : xport_connect(x);
		if (o == XPORT_HOSTKEY || o == XPORT_AUTH_FAILED) {
			snprintf(last, lastlen, "%s", xport_error(x));
			return WR_HOSTKEY;
		}
		char *now = NULL;
		if (o != XPORT_OK) {
			snprintf(last, lastlen, "%s", xport_error(x));
		} else if (seen_new || runner_boot_id(r, s->node, &now, last, lastlen) == 0) {
			int changed = seen_new || strcmp(now, pre) != 0;
			free(now);
			seen_new = 0;
			if (changed) {
				struct sbuf why;
				sbuf_init(&why);
				int ok = facts_cond(r->facts, ready, s->ready_cmd, s, r->saved,
						    &why, last, lastlen);
				if (ok == 1) {
					sbuf_release(&why);
					return WR_OK;
				}
				if (ok == 0)
					snprintf(last, lastlen, "not ready yet: %s", why.buf);
				sbuf_release(&why);
			} else {
				snprintf(last, lastlen, "boot id is still %s", pre);
			}
		}
		/* The budget is judged after a fresh attempt, never before one: a process
		 * stopped (SIGSTOP, a suspended VM) past the budget looks once more, so
		 * the verdict and its "last:" describe the node now, not before the pause. */
		if (budget - (now_mono_ms() - t0) <= 0)
			return WR_TIMEOUT;
		waiting(r, s, "node coming back from the reboot", t0, budget);
		if (runner_sleep(r, poll))
			return WR_STOPPED;
		poll = poll * 2 > REBOOT_UP_POLL_MAX_MS ? REBOOT_UP_POLL_MAX_MS : poll * 2;
	}
}

enum reboot_res runner_reboot(struct runner *r, const struct plan_step *s, const char *pre,
			      int issue, int64_t down_budget_ms, char *err, size_t errlen)
{
	const struct reboot_spec *rb = &s->def->reboot;
	char t[32];

	if (issue) {
		struct xport *x = conns_get(r->conns, s->node);
		struct xport_result res;
		/* Write-ahead: the `begin` with the boot id on disk before the restart. */
		if (runner_journal_sync(r, s) < 0) {
			snprintf(err, errlen, "%.900s", r->err); /* (r->err is far shorter) */
			return RB_FAILED;
		}
		xport_result_init(&res);
		runner_emitf(r, EV_CMD_START, s, "%s", r->pb->reboot_command);
		enum xport_outcome o = xport_exec(x, r->pb->reboot_command, runner_budget(r, 60000),
						  65536, NULL, NULL, r->o->stop, &res);
		/* Its end, like any command's: the audit log shows the restart that was sent. */
		struct event e = runner_step_event(EV_CMD_END, s);
		e.command = r->pb->reboot_command;
		e.exit = res.exit;
		e.duration_ms = res.duration_ms;
		e.text = res.out.buf;
		e.detail = res.err.buf;
		runner_emit(r, &e);
		int bad = o != XPORT_OK && o != XPORT_DROPPED;
		if (o == XPORT_OK && res.exit != 0)
			snprintf(err, errlen, "`%s` exited %d: %.200s", r->pb->reboot_command,
				 res.exit, res.err.len ? res.err.buf : res.out.buf);
		else if (bad)
			snprintf(err, errlen, "`%s`: %s", r->pb->reboot_command, xport_error(x));
		xport_result_release(&res);
		if (o == XPORT_STOPPED)
			return RB_STOPPED;
		if (bad || (o == XPORT_OK && res.exit != 0))
			return RB_FAILED;
	}
	int64_t down = down_budget_ms > 0 ? down_budget_ms : runner_budget(r, rb->down_timeout_ms);
	int64_t up = runner_budget(r, rb->up_timeout_ms);
	int seen_new = 0;
	enum wait_res w = wait_down(r, s, pre, down, &seen_new);
	if (w == WR_TIMEOUT) {
		format_duration(down, t, sizeof(t));
		snprintf(err, errlen, "%s did not go down within %s after `%s` (boot id still %s)",
			 s->node, t, r->pb->reboot_command, pre);
		return RB_NOT_DOWN;
	}
	if (w == WR_STOPPED)
		return RB_STOPPED;
	char last[512] = "";
	w = wait_up(r, s, pre, seen_new, up, last, sizeof(last));
	if (w == WR_STOPPED)
		return RB_STOPPED;
	if (w == WR_OK)
		return RB_OK;
	format_duration(up, t, sizeof(t));
	if (w == WR_HOSTKEY)
		snprintf(err, errlen, "%s came back with a problem: %s", s->node, last);
	else
		snprintf(err, errlen, "%s did not come back within %s of the reboot (last: %s)",
			 s->node, t, last);
	return RB_FAILED;
}
