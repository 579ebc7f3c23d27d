/*
 * sim_cmd_net.c — net start|stop as Windows Server 2003's net.exe: the texts,
 * the dots, exit 2 on every error with its NET HELPMSG number (lmerr.h), and
 * the services it must stop first.
 *
 * net stop waits for the service: it returns when the service is STOPPED, or
 * gives up after `net_wait` (scaled) with "could not be stopped", leaving the
 * service in STOP_PENDING.  Running dependents are listed and, with /y, stopped
 * first (deepest first); without /y net asks, reads no answer and stops
 * nothing.  While it runs: a->stage is the service being waited for, a->target
 * the one named on the command line (indexes in the host's services), a->span
 * the world ms net gives up, a->flags NET_YES / NET_NO.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>

#define NET_YES 1 /* /y: answer yes to the dependents question */
#define NET_NO	2 /* /n: answer no */

/* net accepts the service name or its display name. */
static struct sim_svc *net_find(struct sim_host *h, const char *name)
{
	struct sim_svc *s = sim_svc_find(h, name);
	for (int i = 0; s == NULL && i < h->nsvcs; i++)
		if (str_ieq(h->svcs[i].display, name))
			s = &h->svcs[i];
	return s;
}

static void net_helpmsg(struct sim_action *a, const char *text, int msg)
{
	sim_act_err(a, "%s\n\nMore help is available by typing NET HELPMSG %d.\n\n", text, msg);
	sim_act_exit(a, 2);
}

static void net_start_done(struct sim_action *a, int64_t at)
{
	(void)at;
	sim_act_out(a, ".\nThe %s service was started successfully.\n\n", a->text);
	sim_act_exit(a, 0);
}

static void net_stop_wait(struct sim_action *a, int64_t at);

/* Wake at the earlier of the service's stop and net's patience. */
static void net_wait_next(struct sim_action *a, const struct sim_svc *s, int64_t at)
{
	int64_t t = s->until < a->span ? s->until : a->span;
	sim_act_then(a, net_stop_wait, t > at ? t : at);
}

/* Send the stop control to service i (already STOP_PENDING: only wait for it). */
static void net_stop_one(struct sim_action *a, int i, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	struct sim_svc *s = &h->svcs[i];
	a->stage = i;
	if (s->state == SIM_SVC_RUNNING) {
		int code = sim_svc_stop_refusal(h, s);
		if (code == SIM_ERR_NO_CONTROL) {
			net_helpmsg(a, "The service could not be controlled in its present state.",
				    2189);
			return;
		}
		if (code == SIM_ERR_NOT_VALID) {
			net_helpmsg(a,
				    "The requested pause, continue, or stop is not valid for this "
				    "service.",
				    2191);
			return;
		}
		sim_svc_begin_stop(a->w, s, at);
	}
	sim_act_out(a, "The %s service is stopping", s->display);
	a->span = at + sim_scaled(a->w, a->w->dur.net_wait);
	net_wait_next(a, s, at);
}

/* The next dependent to stop, or the service itself once they all are. */
static void net_stop_continue(struct sim_action *a, int64_t at)
{
	int d = sim_svc_next_dependent(sim_act_host(a), a->target);
	net_stop_one(a, d >= 0 ? d : a->target, at);
}

static void net_stop_wait(struct sim_action *a, int64_t at)
{
	struct sim_svc *s = &sim_act_host(a)->svcs[a->stage];
	if (sim_svc_stopped_by(s, at)) {
		sim_act_out(a, ".\nThe %s service was stopped successfully.\n\n", s->display);
		if (a->stage == a->target)
			sim_act_exit(a, 0);
		else
			net_stop_continue(a, at);
		return;
	}
	if (at >= a->span) {
		sim_act_out(a, ".\n");
		sim_act_err(a, "The %s service could not be stopped.\n\n", s->display);
		sim_act_exit(a, 2);
		return;
	}
	sim_act_out(a, ".");
	net_wait_next(a, s, at);
}

/* Running dependents: list them; stop them first with /y, otherwise stop nothing. */
static int net_dependents(struct sim_action *a, int i)
{
	struct sim_host *h = sim_act_host(a);
	if (!sim_svc_has_dependents(h, &h->svcs[i]))
		return 0;
	int *seen = xcalloc((size_t)h->nsvcs, sizeof(*seen));
	sim_svc_dependents(h, i, seen);
	sim_act_out(a,
		    "The following services are dependent on the %s service.\n"
		    "Stopping the %s service will also stop these services.\n\n",
		    h->svcs[i].display, h->svcs[i].display);
	for (int j = 0; j < h->nsvcs; j++)
		if (seen[j])
			sim_act_out(a, "   %s\n", h->svcs[j].display);
	free(seen);
	sim_act_out(a, "\nDo you want to continue this operation? (Y/N) [N]: ");
	if (a->flags & NET_YES) {
		sim_act_out(a, "y\n");
		return 0;
	}
	if (a->flags & NET_NO)
		sim_act_out(a, "n\n");
	else
		sim_act_err(a, "\nNo valid response was provided.\n");
	sim_act_exit(a, 2);
	return 1;
}

static void net_stop(struct sim_action *a, struct sim_svc *s, int64_t at)
{
	if (s->state == SIM_SVC_STOPPED) {
		char *t = xasprintf("The %s service is not started.", s->display);
		net_helpmsg(a, t, 3521);
		free(t);
		return;
	}
	if (s->state != SIM_SVC_RUNNING) {
		net_helpmsg(a, "The service is starting or stopping.  Please try again later.",
			    2189);
		return;
	}
	a->target = (int)(s - sim_act_host(a)->svcs);
	if (net_dependents(a, a->target))
		return;
	net_stop_continue(a, at);
}

static void net_start(struct sim_action *a, struct sim_svc *s, int64_t at)
{
	if (s->start == SIM_START_DISABLED) {
		sim_act_err(a, "System error %d has occurred.\n\n%s\n\n", SIM_ERR_DISABLED,
			    sim_svc_error_text(SIM_ERR_DISABLED));
		sim_act_exit(a, 2);
		return;
	}
	if (s->state == SIM_SVC_RUNNING) {
		net_helpmsg(a, "The requested service has already been started.", 2182);
		return;
	}
	if (s->state != SIM_SVC_STOPPED) {
		net_helpmsg(a, "The service is starting or stopping.  Please try again later.",
			    2189);
		return;
	}
	int64_t d = sim_scaled(a->w, a->w->dur.net_start);
	sim_svc_transition(s, SIM_SVC_START_PENDING, SIM_SVC_RUNNING, at + d);
	a->text = xstrdup(s->display);
	sim_act_out(a, "The %s service is starting", s->display);
	sim_act_then(a, net_start_done, at + d);
}

static void net_list(struct sim_action *a)
{
	struct sim_host *h = sim_act_host(a);
	sim_act_out(a, "These Windows services are started:\n\n");
	for (int i = 0; i < h->nsvcs; i++)
		if (h->svcs[i].state == SIM_SVC_RUNNING)
			sim_act_out(a, "   %s\n", h->svcs[i].display);
	sim_act_out(a, "\nThe command completed successfully.\n\n");
	sim_act_exit(a, 0);
}

static void net_syntax(struct sim_action *a)
{
	sim_act_err(a, "The syntax of this command is:\n\n"
		       "NET [ ACCOUNTS | COMPUTER | CONFIG | CONTINUE | FILE | GROUP | HELP |\n"
		       "      HELPMSG | LOCALGROUP | PAUSE | PRINT | SESSION | SHARE | START |\n"
		       "      STATISTICS | STOP | TIME | USE | USER | VIEW ]\n\n");
	sim_act_exit(a, 1);
}

/*
 * The service name may be split over several unquoted words (net stop Remote
 * Registry); /y and /n answer the dependents question.  NULL (message given)
 * on an unknown option.
 */
static char *net_name(struct sim_action *a)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = 2; i < a->argc; i++) {
		const char *w = a->argv[i];
		if (str_ieq(w, "/y") || str_ieq(w, "/yes")) {
			a->flags |= NET_YES;
		} else if (str_ieq(w, "/n") || str_ieq(w, "/no")) {
			a->flags |= NET_NO;
		} else if (w[0] == '/') {
			sim_act_err(a, "The option %s is unknown.\n\n", w);
			sbuf_release(&sb);
			net_syntax(a);
			return NULL;
		} else {
			sbuf_addf(&sb, sb.len > 0 ? " %s" : "%s", w);
		}
	}
	return sbuf_detach(&sb);
}

void sim_cmd_net(struct sim_action *a, int64_t at)
{
	int stop = a->argc >= 2 && str_ieq(a->argv[1], "stop");
	int start = a->argc >= 2 && str_ieq(a->argv[1], "start");
	if (start && a->argc == 2) {
		net_list(a);
		return;
	}
	if ((!stop && !start) || a->argc < 3) {
		net_syntax(a);
		return;
	}
	char *name = net_name(a);
	if (name == NULL)
		return;
	struct sim_svc *s = name[0] != '\0' ? net_find(sim_act_host(a), name) : NULL;
	free(name);
	if (s == NULL)
		net_helpmsg(a, "The service name is invalid.", 2185);
	else if (stop)
		net_stop(a, s, at);
	else
		net_start(a, s, at);
}
