/*
 * sim_scenario_svc.c — a host's `services:` in a scenario: state, start
 * type, display name and the behaviours of docs/ccrsim.md "Services with
 * behaviour" (depends_on, stop_hang, refuse_stop).
 */
#include "sim_scenario_int.h"

#include <stdlib.h>
#include <string.h>

int sim_svc_refusal_valid(int code)
{
	return code == 0 || code == SIM_ERR_NOT_VALID || code == SIM_ERR_NO_CONTROL;
}

/* stop_hang: a duration, or "never". */
static int load_stop_hang(struct sim_scn *s, yaml_node_t *v, struct sim_svc *svc)
{
	yaml_node_t *n = sim_yaml_get(&s->y, v, "stop_hang");
	if (n == NULL)
		return 0;
	const char *t = sim_yaml_scalar(&s->y, n, "stop_hang");
	if (t == NULL)
		return -1;
	if (str_ieq(t, "never")) {
		svc->stop_hang = SIM_NEVER;
		return 0;
	}
	if (sim_yaml_duration(&s->y, v, "stop_hang", 0, &svc->stop_hang))
		return -1;
	return 0;
}

static int load_refuse(struct sim_scn *s, yaml_node_t *v, struct sim_svc *svc)
{
	int64_t code;
	if (sim_yaml_int(&s->y, v, "refuse_stop", 0, 99999, 0, &code))
		return -1;
	if (!sim_svc_refusal_valid((int)code))
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, v, "refuse_stop"),
				     "refuse_stop: expected 1061 or 1052, got %lld",
				     (long long)code);
	svc->refuse_stop = (int)code;
	return 0;
}

/* depends_on: a service name or a list of them, each a service of the same host. */
static int load_deps(struct sim_scn *s, struct sim_host *h, yaml_node_t *v, int index)
{
	yaml_node_t *d = sim_yaml_get(&s->y, v, "depends_on");
	if (d == NULL)
		return 0;
	yaml_node_item_t *it = NULL, *end = NULL;
	yaml_node_t *one = d;
	if (d->type == YAML_SEQUENCE_NODE) {
		it = d->data.sequence.items.start;
		end = d->data.sequence.items.top;
		one = NULL;
	}
	for (;;) {
		yaml_node_t *n = one != NULL ? one : (it < end ? sim_yaml_node(&s->y, *it) : NULL);
		if (n == NULL)
			return 0;
		const char *name = sim_yaml_scalar(&s->y, n, "depends_on");
		if (name == NULL)
			return -1;
		struct sim_svc *dep = sim_svc_find(h, name);
		if (dep == NULL)
			return sim_yaml_fail(&s->y, n,
					     "depends_on: %s has no service \"%s\" (declare it "
					     "under services)",
					     h->name, name);
		if (dep == &h->svcs[index])
			return sim_yaml_fail(&s->y, n,
					     "depends_on: a service cannot depend on itself");
		sim_svc_add_dep(&h->svcs[index], dep->name);
		if (one != NULL)
			return 0;
		it++;
	}
}

int sim_scn_services(struct sim_scn *s, struct sim_host *h, yaml_node_t *svcs)
{
	static const char *const keys[] = {"state",	"start",       "display", "depends_on",
					   "stop_hang", "refuse_stop", NULL};
	if (svcs == NULL)
		return 0;
	if (sim_yaml_check_map(&s->y, svcs, NULL))
		return -1;
	int first = h->nsvcs;
	for (yaml_node_pair_t *p = svcs->data.mapping.pairs.start; p < svcs->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sim_yaml_node(&s->y, p->key), *v = sim_yaml_node(&s->y, p->value);
		const char *state, *start, *display;
		enum sim_svc_state st;
		enum sim_svc_start sst;
		if (sim_yaml_check_map(&s->y, v, keys) ||
		    sim_yaml_str(&s->y, v, "state", "STOPPED", &state) ||
		    sim_yaml_str(&s->y, v, "start", "DEMAND_START", &start) ||
		    sim_yaml_str(&s->y, v, "display", NULL, &display))
			return -1;
		if (sim_svc_state_parse(state, &st) != 0)
			return sim_yaml_fail(&s->y, v, "state: expected RUNNING or STOPPED");
		if (sim_svc_start_parse(start, &sst) != 0)
			return sim_yaml_fail(
			    &s->y, v, "start: expected AUTO_START, DEMAND_START or DISABLED");
		struct sim_svc *svc = sim_svc_add(h, (const char *)k->data.scalar.value);
		svc->state = st;
		svc->start = sst;
		if (display != NULL) {
			free(svc->display);
			svc->display = xstrdup(display);
		}
		if (load_stop_hang(s, v, svc) || load_refuse(s, v, svc))
			return -1;
	}
	/* Dependencies once every service of the host is known (any order). */
	int i = first;
	for (yaml_node_pair_t *p = svcs->data.mapping.pairs.start; p < svcs->data.mapping.pairs.top;
	     p++, i++)
		if (load_deps(s, h, sim_yaml_node(&s->y, p->value), i))
			return -1;
	return 0;
}
