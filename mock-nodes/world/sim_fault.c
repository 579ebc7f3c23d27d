/*
 * sim_fault.c — injected faults, in the JSON form shared by the scenario's
 * `faults:` list and the control interface (docs/ccrsim.md, Faults).
 *
 * Command faults (fail, hang, drop, slow) are matched when a command starts:
 * the host ("*" for any), the command (a case-insensitive substring of the
 * line as received or of its normalised form, or a POSIX ERE matching
 * either), and the call count of that fault on that host (nth; 0 = every
 * call).  count caps how often a fault fires in total.  Boot faults
 * (no-return, new-hostkey) are matched when a host goes down / comes up.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    [SIM_FAULT_FAIL] = "fail",		 [SIM_FAULT_HANG] = "hang",
    [SIM_FAULT_DROP] = "drop",		 [SIM_FAULT_SLOW] = "slow",
    [SIM_FAULT_NO_RETURN] = "no-return", [SIM_FAULT_NEW_HOSTKEY] = "new-hostkey",
};

static void fault_release(struct sim_fault *f)
{
	free(f->host);
	free(f->match);
	free(f->message);
	free(f->calls);
	if (f->has_re)
		regfree(&f->re);
}

void sim_fault_free_all(struct sim_world *w)
{
	for (int i = 0; i < w->nfaults; i++)
		fault_release(&w->faults[i]);
	free(w->faults);
	w->faults = NULL;
	w->nfaults = 0;
}

static int get_int(const json_t *o, const char *key, int64_t min, int64_t max, int64_t def,
		   int64_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "fault: \"%s\" must be an integer in [%lld, %lld]", key,
			 (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int get_str(const json_t *o, const char *key, char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "fault: \"%s\" must be a string", key);
		return -1;
	}
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* "match", or its alias "command" (not both). */
static int get_match(const json_t *o, char **out, char *err, size_t errlen)
{
	if (json_object_get(o, "match") != NULL && json_object_get(o, "command") != NULL) {
		snprintf(err, errlen, "fault: give \"match\" or \"command\", not both");
		*out = NULL;
		return -1;
	}
	return get_str(o, json_object_get(o, "match") ? "match" : "command", out, err, errlen);
}

static int check_keys(const json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"host", "match",   "command",     "nth",	 "kind",
					   "exit", "message", "after_bytes", "delay_ms", "count"};
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		size_t i = 0;
		while (i < CCR_ARRAY_LEN(keys) && strcmp(keys[i], k) != 0)
			i++;
		if (i == CCR_ARRAY_LEN(keys)) {
			snprintf(err, errlen, "fault: unknown key \"%s\"", k);
			return -1;
		}
	}
	return 0;
}

static int parse_kind(const json_t *o, enum sim_fault_kind *kind, char *err, size_t errlen)
{
	const char *k = json_string_value(json_object_get(o, "kind"));
	for (size_t i = 0; k != NULL && i < CCR_ARRAY_LEN(kind_names); i++)
		if (strcmp(kind_names[i], k) == 0) {
			*kind = (enum sim_fault_kind)i;
			return 0;
		}
	snprintf(err, errlen,
		 "fault: \"kind\" must be one of fail, hang, drop, slow, no-return, new-hostkey");
	return -1;
}

static int parse_numbers(const json_t *o, struct sim_fault *f, char *err, size_t errlen)
{
	int64_t nth, ex, after, delay, count;
	if (get_int(o, "nth", 0, 1000000, 0, &nth, err, errlen) ||
	    get_int(o, "exit", 0, 2147483647, 1, &ex, err, errlen) ||
	    get_int(o, "after_bytes", 0, INT64_C(1) << 40, 0, &after, err, errlen) ||
	    get_int(o, "delay_ms", 0, 86400000, 0, &delay, err, errlen) ||
	    get_int(o, "count", 0, 1000000, 0, &count, err, errlen))
		return -1;
	f->nth = (int)nth;
	f->exit_code = (int)ex;
	f->after_bytes = after;
	f->delay_ms = delay;
	f->count = (int)count;
	return 0;
}

int sim_fault_add(struct sim_world *w, const json_t *fault, char *err, size_t errlen)
{
	struct sim_fault f;
	memset(&f, 0, sizeof(f));
	if (!json_is_object(fault)) {
		snprintf(err, errlen, "fault: expected a JSON object");
		return -1;
	}
	if (check_keys(fault, err, errlen) || parse_kind(fault, &f.kind, err, errlen) ||
	    parse_numbers(fault, &f, err, errlen) || get_str(fault, "host", &f.host, err, errlen) ||
	    get_match(fault, &f.match, err, errlen) ||
	    get_str(fault, "message", &f.message, err, errlen))
		goto fail;
	if (f.host == NULL || (strcmp(f.host, "*") != 0 && sim_host_find(w, f.host) < 0)) {
		snprintf(err, errlen,
			 "fault: \"host\" must name a host of the scenario or be \"*\"");
		goto fail;
	}
	if (f.match != NULL)
		f.has_re = regcomp(&f.re, f.match, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
	if (f.message == NULL)
		f.message = xstrdup("");
	f.calls = xcalloc((size_t)w->nhosts + 1, sizeof(*f.calls));
	f.id = w->next_fault_id++;
	w->faults = xreallocarray(w->faults, (size_t)w->nfaults + 1, sizeof(*w->faults));
	w->faults[w->nfaults++] = f;
	return 0;
fail:
	fault_release(&f);
	return -1;
}

static int host_matches(const struct sim_world *w, const struct sim_fault *f, int host)
{
	return strcmp(f->host, "*") == 0 || str_ieq(f->host, w->hosts[host].name);
}

static int cmd_matches(const struct sim_fault *f, const char *line, const char *key)
{
	if (f->match == NULL)
		return 1;
	if (strcasestr(line, f->match) != NULL || strcasestr(key, f->match) != NULL)
		return 1;
	return f->has_re &&
	       (regexec(&f->re, line, 0, NULL, 0) == 0 || regexec(&f->re, key, 0, NULL, 0) == 0);
}

static int may_fire(const struct sim_fault *f)
{
	return f->count == 0 || f->fired < f->count;
}

static void fault_fail_step(struct sim_action *a, int64_t at)
{
	(void)at;
	if (a->text != NULL && a->text[0] != '\0')
		sim_act_err(a, "%s\n", a->text);
	sim_act_exit(a, a->flags);
}

/* fail and hang replace the command (the first such fault wins); drop and slow shape it. */
static void fault_apply(struct sim_fault *f, struct sim_action *a, int *replaced)
{
	if (f->kind == SIM_FAULT_FAIL || f->kind == SIM_FAULT_HANG) {
		if (*replaced)
			return;
		*replaced = 1;
		if (f->kind == SIM_FAULT_FAIL) {
			free(a->text);
			a->text = xstrdup(f->message);
			a->flags = f->exit_code;
			sim_act_then(a, fault_fail_step, a->next_at);
		} else {
			a->step = NULL;
			a->next_at = SIM_NEVER;
		}
	} else if (f->kind == SIM_FAULT_DROP) {
		a->drop_after = f->after_bytes;
	} else {
		a->slow_ms += f->delay_ms;
	}
	f->fired++;
}

void sim_fault_shape(struct sim_world *w, int host, const char *line, const char *key,
		     struct sim_action *a)
{
	int replaced = 0;
	for (int i = 0; i < w->nfaults; i++) {
		struct sim_fault *f = &w->faults[i];
		if (f->kind == SIM_FAULT_NO_RETURN || f->kind == SIM_FAULT_NEW_HOSTKEY ||
		    !host_matches(w, f, host) || !cmd_matches(f, line, key))
			continue;
		f->calls[host]++;
		if ((f->nth == 0 || f->calls[host] == f->nth) && may_fire(f))
			fault_apply(f, a, &replaced);
	}
}

/* The id of the no-return fault that keeps this restarting host down, or 0. */
int sim_fault_no_return(struct sim_world *w, int host)
{
	for (int i = 0; i < w->nfaults; i++) {
		struct sim_fault *f = &w->faults[i];
		if (f->kind == SIM_FAULT_NO_RETURN && host_matches(w, f, host) && may_fire(f)) {
			f->fired++;
			return f->id;
		}
	}
	return 0;
}

void sim_fault_on_boot(struct sim_world *w, int host)
{
	for (int i = 0; i < w->nfaults; i++) {
		struct sim_fault *f = &w->faults[i];
		if (f->kind == SIM_FAULT_NEW_HOSTKEY && host_matches(w, f, host) && may_fire(f)) {
			f->fired++;
			w->hosts[host].new_key = 1;
		}
	}
}

int sim_fault_alive(const struct sim_world *w, int id)
{
	for (int i = 0; i < w->nfaults; i++)
		if (w->faults[i].id == id)
			return 1;
	return 0;
}

/* Hosts held down by a fault that is gone come back at the next tick. */
static void release_stuck(struct sim_world *w)
{
	for (int i = 0; i < w->nhosts; i++) {
		struct sim_host *h = &w->hosts[i];
		if (h->stuck_fault == 0 || sim_fault_alive(w, h->stuck_fault))
			continue;
		h->stuck_fault = 0;
		if (!h->up && h->up_at == SIM_NEVER)
			h->up_at = w->last_tick;
	}
}

void sim_fault_clear(struct sim_world *w, const char *host)
{
	int n = 0;
	for (int i = 0; i < w->nfaults; i++) {
		if (host == NULL || str_ieq(w->faults[i].host, host))
			fault_release(&w->faults[i]);
		else
			w->faults[n++] = w->faults[i];
	}
	w->nfaults = n;
	release_stuck(w);
}

json_t *sim_fault_json(const struct sim_fault *f)
{
	return json_pack("{s:i, s:s, s:s?, s:i, s:s, s:i, s:s, s:I, s:I, s:i, s:i}", "id", f->id,
			 "host", f->host, "match", f->match, "nth", f->nth, "kind",
			 kind_names[f->kind], "exit", f->exit_code, "message", f->message,
			 "after_bytes", (json_int_t)f->after_bytes, "delay_ms",
			 (json_int_t)f->delay_ms, "count", f->count, "fired", f->fired);
}
