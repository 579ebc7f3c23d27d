/*
 * sim_svc.c — how a service answers a stop control, shared by sc and net
 * (sim_cmd_sc.c, sim_cmd_net.c): the refusals of the service control manager
 * and of the service itself, the dependents that must stop first, and a
 * stop that takes net_stop, the service's stop_hang, or never ends.
 */
#include "sim_cmd_int.h"

#include <string.h>

const char *sim_svc_error_text(int code)
{
	switch (code) {
	case SIM_ERR_DEPENDENTS:
		return "A stop control has been sent to a service that other running services "
		       "are dependent on.";
	case SIM_ERR_NOT_VALID:
		return "The requested control is not valid for this service.";
	case SIM_ERR_DISABLED:
		return "The service cannot be started, either because it is disabled or because "
		       "it has no enabled devices associated with it.";
	case SIM_ERR_NO_CONTROL:
		return "The service cannot accept control messages at this time.";
	case SIM_ERR_NOT_ACTIVE:
		return "The service has not been started.";
	default:
		return "The operation failed.";
	}
}

int sim_svc_has_dependents(const struct sim_host *h, const struct sim_svc *s)
{
	for (int i = 0; i < h->nsvcs; i++)
		if (h->svcs[i].state != SIM_SVC_STOPPED && sim_svc_depends_on(&h->svcs[i], s->name))
			return 1;
	return 0;
}

int sim_svc_stop_refusal(const struct sim_host *h, const struct sim_svc *s)
{
	if (s->state == SIM_SVC_STOPPED)
		return SIM_ERR_NOT_ACTIVE;
	if (s->state != SIM_SVC_RUNNING)
		return SIM_ERR_NO_CONTROL;
	if (sim_svc_has_dependents(h, s))
		return SIM_ERR_DEPENDENTS;
	return s->refuse_stop;
}

void sim_svc_begin_stop(struct sim_world *w, struct sim_svc *s, int64_t at)
{
	int64_t until = SIM_NEVER;
	if (s->stop_hang != SIM_NEVER)
		until = at + sim_scaled(w, s->stop_hang > 0 ? s->stop_hang : w->dur.net_stop);
	sim_svc_transition(s, SIM_SVC_STOP_PENDING, SIM_SVC_STOPPED, until);
}

int sim_svc_stopped_by(const struct sim_svc *s, int64_t at)
{
	return s->state == SIM_SVC_STOPPED ||
	       (s->state == SIM_SVC_STOP_PENDING && s->target == SIM_SVC_STOPPED && s->until <= at);
}

/* A dependent of s (transitively) not stopped whose own dependents are all stopped. */
static int leaf_dependent(const struct sim_host *h, int s, int depth)
{
	if (depth > h->nsvcs)
		return -1; /* a dependency cycle (ctl set can make one): stop looking */
	for (int i = 0; i < h->nsvcs; i++) {
		if (i == s || h->svcs[i].state == SIM_SVC_STOPPED ||
		    !sim_svc_depends_on(&h->svcs[i], h->svcs[s].name))
			continue;
		int deeper = leaf_dependent(h, i, depth + 1);
		return deeper >= 0 ? deeper : i;
	}
	return -1;
}

int sim_svc_next_dependent(const struct sim_host *h, int s)
{
	return leaf_dependent(h, s, 0);
}

static void collect(const struct sim_host *h, int s, int *seen, int depth)
{
	if (depth > h->nsvcs)
		return;
	for (int i = 0; i < h->nsvcs; i++) {
		if (i == s || seen[i] || h->svcs[i].state == SIM_SVC_STOPPED ||
		    !sim_svc_depends_on(&h->svcs[i], h->svcs[s].name))
			continue;
		seen[i] = 1;
		collect(h, i, seen, depth + 1);
	}
}

void sim_svc_dependents(const struct sim_host *h, int s, int *seen)
{
	memset(seen, 0, sizeof(*seen) * (size_t)h->nsvcs);
	collect(h, s, seen, 0);
}
