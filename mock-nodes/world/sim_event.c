/*
 * sim_event.c — scheduled world events (docs/ccrsim.md, Events), in the JSON
 * form shared by the scenario's `events:` list and the control interface.
 *
 * An event fires either at a world time (`at`, a duration scaled like every
 * scenario duration) or on a command (`on`, matched as a fault's `match`:
 * case-insensitive substring of the line or its normalised form, or an ERE),
 * optionally only on commands run on one host (`on_host`), `before` the
 * command runs (default) or `after` it finished.  It then does one thing:
 * `set` a world field (any `ctl set` path), `reboot` or `crash` a host
 * (crash: down at once, no shutdown delay; both come back after `reboot`),
 * `power_off` / `power_on` a host, or `failover` a cluster's CMS as the
 * cluster service does (rule 10).  A target host may be named, or given as
 * CLUSTER.cms_owner / CLUSTER.passive, resolved when the event fires.
 *
 * Everything happens inside world calls (sim_world_tick, sim_exec,
 * sim_action_poll) at a defined world time, so a scenario with events is as
 * deterministic as one without.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const do_names[] = {
    [SIM_EV_SET] = "set",	    [SIM_EV_REBOOT] = "reboot",
    [SIM_EV_CRASH] = "crash",	    [SIM_EV_POWER_OFF] = "power_off",
    [SIM_EV_POWER_ON] = "power_on", [SIM_EV_FAILOVER] = "failover",
};

static void event_release(struct sim_event *e)
{
	free(e->on);
	free(e->on_host);
	free(e->host);
	free(e->cluster);
	free(e->path);
	free(e->value);
	if (e->has_re)
		regfree(&e->re);
}

void sim_event_free_all(struct sim_world *w)
{
	for (int i = 0; i < w->nevents; i++)
		event_release(&w->events[i]);
	free(w->events);
	w->events = NULL;
	w->nevents = 0;
}

static int ev_fail(char *err, size_t errlen, const char *msg, const char *key)
{
	snprintf(err, errlen, "event: %s%s%s", key ? "\"" : "", key ? key : "", msg);
	return -1;
}

static int ev_str(const json_t *o, const char *key, char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) { /* `value: 40` in YAML or JSON */
		*out = xasprintf("%lld", (long long)json_integer_value(v));
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = xstrdup(json_is_true(v) ? "true" : "false");
		return 0;
	}
	if (!json_is_string(v))
		return ev_fail(err, errlen, "\" must be a string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int ev_int(const json_t *o, const char *key, int64_t max, int64_t def, int *out, char *err,
		  size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	*out = (int)def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return ev_fail(err, errlen, "\" must be a non-negative integer", key);
	*out = (int)json_integer_value(v);
	return 0;
}

/* `at`: a duration string ("35m", "90s") or a number of seconds; scaled. */
static int ev_at(const struct sim_world *w, const json_t *o, int64_t *at, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, "at");
	int64_t ms;
	*at = SIM_NEVER;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < INT64_C(1) << 40)
		ms = json_integer_value(v) * 1000;
	else if (!json_is_string(v) || parse_duration_ms(json_string_value(v), &ms) != 0)
		return ev_fail(err, errlen,
			       "\" must be a duration like 35m, 90s or 200ms (a number: seconds)",
			       "at");
	*at = sim_scaled(w, ms);
	return 0;
}

static int check_keys(const json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"at", "on",	 "on_host", "when", "nth",  "count",
					   "do", "host", "cluster", "path", "value"};
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		size_t i = 0;
		while (i < CCR_ARRAY_LEN(keys) && strcmp(keys[i], k) != 0)
			i++;
		if (i == CCR_ARRAY_LEN(keys)) {
			snprintf(err, errlen, "event: unknown key \"%s\"", k);
			return -1;
		}
	}
	return 0;
}

/* A target: a host name, or CLUSTER.cms_owner / CLUSTER.passive. */
static int valid_target(const struct sim_world *w, const char *t)
{
	const char *dot = strchr(t, '.');
	if (dot == NULL)
		return sim_host_find(w, t) >= 0;
	char *cl = xstrndup(t, (size_t)(dot - t));
	int ok = sim_cluster_by_name(w, cl) >= 0 &&
		 (str_ieq(dot + 1, "cms_owner") || str_ieq(dot + 1, "passive"));
	free(cl);
	return ok;
}

static int check_action(struct sim_world *w, struct sim_event *e, char *err, size_t errlen)
{
	switch (e->what) {
	case SIM_EV_SET:
		if (e->path == NULL || e->value == NULL)
			return ev_fail(err, errlen, "set needs \"path\" and \"value\"", NULL);
		return 0;
	case SIM_EV_FAILOVER:
		if (e->cluster == NULL || sim_cluster_by_name(w, e->cluster) < 0)
			return ev_fail(err, errlen, "\" must name a cluster of the scenario",
				       "cluster");
		return 0;
	default:
		if (e->host == NULL || !valid_target(w, e->host))
			return ev_fail(
			    err, errlen,
			    "\" must name a host, or CLUSTER.cms_owner / CLUSTER.passive", "host");
		return 0;
	}
}

static int parse_do(const json_t *o, struct sim_event *e, char *err, size_t errlen)
{
	const char *d = json_string_value(json_object_get(o, "do"));
	for (size_t i = 0; d != NULL && i < CCR_ARRAY_LEN(do_names); i++)
		if (strcmp(do_names[i], d) == 0) {
			e->what = (enum sim_event_do)i;
			return 0;
		}
	return ev_fail(err, errlen,
		       "\"do\" must be one of set, reboot, crash, power_off, power_on, failover",
		       NULL);
}

static int parse_trigger(struct sim_world *w, const json_t *o, struct sim_event *e, char *err,
			 size_t errlen)
{
	char *when = NULL;
	int rc = -1;
	if (ev_at(w, o, &e->at, err, errlen) || ev_str(o, "on", &e->on, err, errlen) ||
	    ev_str(o, "on_host", &e->on_host, err, errlen) ||
	    ev_str(o, "when", &when, err, errlen) ||
	    ev_int(o, "nth", 1000000, 0, &e->nth, err, errlen) ||
	    ev_int(o, "count", 1000000, 1, &e->count, err, errlen))
		goto out;
	if ((e->at == SIM_NEVER) == (e->on == NULL)) {
		ev_fail(err, errlen,
			"give exactly one of \"at\" (a world time) or \"on\" (a command)", NULL);
		goto out;
	}
	if (when != NULL && strcmp(when, "before") != 0 && strcmp(when, "after") != 0) {
		ev_fail(err, errlen, "\" must be before or after", "when");
		goto out;
	}
	if (e->on == NULL && (when != NULL || e->on_host != NULL || e->nth != 0)) {
		ev_fail(err, errlen, "when, on_host and nth go with \"on\"", NULL);
		goto out;
	}
	if (e->on_host != NULL && strcmp(e->on_host, "*") != 0 &&
	    sim_host_find(w, e->on_host) < 0) {
		ev_fail(err, errlen, "\" must name a host of the scenario or be \"*\"", "on_host");
		goto out;
	}
	e->after = when != NULL && strcmp(when, "after") == 0;
	if (e->on != NULL)
		e->has_re = regcomp(&e->re, e->on, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
	rc = 0;
out:
	free(when);
	return rc;
}

int sim_event_add(struct sim_world *w, const json_t *ev, char *err, size_t errlen)
{
	struct sim_event e;
	memset(&e, 0, sizeof(e));
	if (!json_is_object(ev)) {
		snprintf(err, errlen, "event: expected a JSON object");
		return -1;
	}
	if (check_keys(ev, err, errlen) || parse_do(ev, &e, err, errlen) ||
	    parse_trigger(w, ev, &e, err, errlen) || ev_str(ev, "host", &e.host, err, errlen) ||
	    ev_str(ev, "cluster", &e.cluster, err, errlen) ||
	    ev_str(ev, "path", &e.path, err, errlen) ||
	    ev_str(ev, "value", &e.value, err, errlen) || check_action(w, &e, err, errlen))
		goto fail;
	if (e.on == NULL)
		e.count = 1; /* a world time happens once */
	e.id = w->next_event_id++;
	w->events = xreallocarray(w->events, (size_t)w->nevents + 1, sizeof(*w->events));
	w->events[w->nevents++] = e;
	return 0;
fail:
	event_release(&e);
	return -1;
}

void sim_event_clear(struct sim_world *w)
{
	sim_event_free_all(w);
}

/* ---- firing ---- */

static int resolve_host(const struct sim_world *w, const char *t)
{
	const char *dot = strchr(t, '.');
	if (dot == NULL)
		return sim_host_find(w, t);
	char *cl = xstrndup(t, (size_t)(dot - t));
	int ci = sim_cluster_by_name(w, cl);
	free(cl);
	if (ci < 0)
		return -1;
	const struct sim_cluster *c = &w->clusters[ci];
	return str_ieq(dot + 1, "cms_owner") ? c->owner : sim_other_member(c, c->owner);
}

/* The CMS fails over as the cluster service would (rule 10), or stays Failed. */
static void do_failover(struct sim_world *w, struct sim_cluster *c, int64_t at)
{
	int other = sim_other_member(c, c->owner);
	if (sim_cms_can_host(w, c, other)) {
		sim_cms_set_state(w, c, SIM_CMS_OFFLINE_PENDING, at);
		c->owner = other;
		sim_cms_begin_online(w, c, at, sim_scaled(w, w->dur.failover));
	} else {
		sim_cms_fail(w, c, at);
	}
}

static void event_do(struct sim_world *w, struct sim_event *e, int64_t at)
{
	char err[256];
	int h = e->host != NULL ? resolve_host(w, e->host) : -1;
	struct sim_host *hp = h >= 0 ? &w->hosts[h] : NULL;

	e->fired++;
	e->last_ms = at;
	switch (e->what) {
	case SIM_EV_SET:
		if (sim_world_set(w, e->path, e->value, at, err, sizeof(err)) != 0)
			e->failed++;
		break;
	case SIM_EV_REBOOT:
		if (hp != NULL && hp->up && hp->down_at == SIM_NEVER)
			sim_host_schedule_reboot(w, h, at);
		break;
	case SIM_EV_CRASH:
		if (hp != NULL && hp->up) {
			int64_t len = sim_scaled(w, w->dur.reboot);
			hp->restarting = 1;
			hp->reboot_ms = len < 1 ? 1 : len;
			sim_host_down(w, h, at);
		}
		break;
	case SIM_EV_POWER_OFF:
		if (hp != NULL && hp->up) {
			hp->restarting = 0;
			sim_host_down(w, h, at);
		}
		break;
	case SIM_EV_POWER_ON:
		if (hp != NULL && !hp->up)
			sim_host_boot(w, h, at);
		break;
	case SIM_EV_FAILOVER:
		do_failover(w, &w->clusters[sim_cluster_by_name(w, e->cluster)], at);
		break;
	}
}

static int may_fire(const struct sim_event *e)
{
	return e->count == 0 || e->fired < e->count;
}

int64_t sim_event_next(const struct sim_world *w)
{
	int64_t t = SIM_NEVER;
	for (int i = 0; i < w->nevents; i++) {
		const struct sim_event *e = &w->events[i];
		if (e->on == NULL && may_fire(e) && e->at < t)
			t = e->at;
	}
	return t;
}

void sim_event_tick(struct sim_world *w, int64_t t)
{
	for (int i = 0; i < w->nevents; i++) {
		struct sim_event *e = &w->events[i];
		if (e->on == NULL && may_fire(e) && e->at <= t)
			event_do(w, e, e->at < w->last_tick ? w->last_tick : e->at);
	}
}

static int cmd_matches(const struct sim_event *e, const char *line, const char *key)
{
	if (strcasestr(line, e->on) != NULL || strcasestr(key, e->on) != NULL)
		return 1;
	return e->has_re &&
	       (regexec(&e->re, line, 0, NULL, 0) == 0 || regexec(&e->re, key, 0, NULL, 0) == 0);
}

void sim_event_on_command(struct sim_world *w, int host, const char *line, const char *key,
			  int after, int64_t now)
{
	for (int i = 0; i < w->nevents; i++) {
		struct sim_event *e = &w->events[i];
		if (e->on == NULL || e->after != after || !may_fire(e) ||
		    (e->on_host != NULL && strcmp(e->on_host, "*") != 0 &&
		     !str_ieq(e->on_host, w->hosts[host].name)) ||
		    !cmd_matches(e, line, key))
			continue;
		e->calls++;
		if (e->nth == 0 || e->calls == e->nth)
			event_do(w, e, now);
	}
}

json_t *sim_event_json(const struct sim_event *e)
{
	json_t *o = json_pack("{s:i, s:s, s:i, s:i, s:i}", "id", e->id, "do", do_names[e->what],
			      "count", e->count, "fired", e->fired, "failed", e->failed);
	if (e->on == NULL) {
		json_object_set_new(o, "at_ms", json_integer(e->at));
	} else {
		json_object_set_new(o, "on", json_string(e->on));
		json_object_set_new(o, "when", json_string(e->after ? "after" : "before"));
		json_object_set_new(o, "on_host",
				    e->on_host ? json_string(e->on_host) : json_null());
		json_object_set_new(o, "nth", json_integer(e->nth));
	}
	if (e->host != NULL)
		json_object_set_new(o, "host", json_string(e->host));
	if (e->cluster != NULL)
		json_object_set_new(o, "cluster", json_string(e->cluster));
	if (e->path != NULL)
		json_object_set_new(o, "path", json_string(e->path));
	if (e->value != NULL)
		json_object_set_new(o, "value", json_string(e->value));
	json_object_set_new(o, "last_ms", e->fired > 0 ? json_integer(e->last_ms) : json_null());
	return o;
}
