/*
 * sim_world_set.c — sim_world_set(): change one field of the world from the
 * control interface or a test ("NODE2.pending_reboot" = "1").  The accepted
 * paths are listed in docs/ccrsim.md (World dump).  Changes take effect at
 * `now` and go through the same functions the commands use, so a CMS set
 * Offline opens an outage interval and a Cluster service set STOPPED hands
 * the node's groups over.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct set_ctx {
	struct sim_world *w; /* the world */
	const char *value;   /* new value as text */
	int64_t now;	     /* world ms */
	char *err;	     /* message buffer */
	size_t errlen;	     /* its size */
};

static int bad(struct set_ctx *x, const char *what)
{
	snprintf(x->err, x->errlen, "%s: invalid value \"%s\"", what, x->value);
	return -1;
}

static int parse_bool(const char *s, int *out)
{
	if (str_ieq(s, "1") || str_ieq(s, "true") || str_ieq(s, "yes"))
		*out = 1;
	else if (str_ieq(s, "0") || str_ieq(s, "false") || str_ieq(s, "no"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int set_version(struct set_ctx *x, char **field, const char *what)
{
	int v[4];
	if (sim_ver_parse(x->value, v) != 0)
		return bad(x, what);
	free(*field);
	*field = xstrdup(x->value);
	return 0;
}

/* stop_hang (duration, never, 0), refuse_stop (0, 1052, 1061), depends_on ("A,B", "" none). */
static int set_behaviour(struct set_ctx *x, struct sim_host *h, struct sim_svc *s, const char *what)
{
	if (strcmp(what, "stop_hang") == 0) {
		int64_t ms;
		if (str_ieq(x->value, "never"))
			ms = SIM_NEVER;
		else if (strcmp(x->value, "0") != 0 && parse_duration_ms(x->value, &ms) != 0)
			return bad(x, "stop_hang");
		s->stop_hang = strcmp(x->value, "0") == 0 ? 0 : ms;
		return 0;
	}
	if (strcmp(what, "refuse_stop") == 0) {
		int64_t code;
		if (parse_int64(x->value, 0, 99999, &code) != 0 ||
		    !sim_svc_refusal_valid((int)code))
			return bad(x, "refuse_stop (0, 1052 or 1061)");
		s->refuse_stop = (int)code;
		return 0;
	}
	char **names = NULL;
	int n = 0, rc = 0;
	char *list = xstrdup(x->value);
	char *p = list;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char *next = p[len] == ',' ? p + len + 1 : p + len;
		p[len] = '\0';
		const struct sim_svc *d = sim_svc_find(h, p);
		if (d == NULL || d == s) {
			rc = bad(x, "depends_on (services of the host, comma-separated)");
			break;
		}
		names = xreallocarray(names, (size_t)n + 1, sizeof(*names));
		names[n++] = xstrdup(d->name);
		p = next;
	}
	if (rc == 0) {
		for (int i = 0; i < s->ndeps; i++)
			free(s->deps[i]);
		free(s->deps);
		s->deps = names;
		s->ndeps = n;
		names = NULL;
		n = 0;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(list);
	return rc;
}

static int set_service(struct set_ctx *x, int host, const char *rest)
{
	struct sim_host *h = &x->w->hosts[host];
	const char *dot = strrchr(rest, '.');
	if (dot == NULL || dot == rest)
		return bad(x, "service path");
	char *name = xstrndup(rest, (size_t)(dot - rest));
	struct sim_svc *s = sim_svc_find(h, name);
	if (s == NULL)
		s = sim_svc_add(h, name);
	free(name);
	if (strcmp(dot + 1, "stop_hang") == 0 || strcmp(dot + 1, "refuse_stop") == 0 ||
	    strcmp(dot + 1, "depends_on") == 0)
		return set_behaviour(x, h, s, dot + 1);
	if (strcmp(dot + 1, "start") == 0) {
		enum sim_svc_start st;
		if (sim_svc_start_parse(x->value, &st) != 0)
			return bad(x, "start type");
		s->start = st;
		return 0;
	}
	enum sim_svc_state st;
	if (strcmp(dot + 1, "state") != 0 || sim_svc_state_parse(x->value, &st) != 0)
		return bad(x, "service state");
	int was = s->state == SIM_SVC_RUNNING;
	s->state = st;
	s->until = SIM_NEVER;
	if (str_ieq(s->name, "ClusSvc") && was && st != SIM_SVC_RUNNING)
		sim_node_leave(x->w, host, x->now);
	else if (str_ieq(s->name, "ClusSvc") && !was && st == SIM_SVC_RUNNING)
		sim_node_join(x->w, host, x->now);
	return 0;
}

static int set_power(struct set_ctx *x, int host)
{
	struct sim_host *h = &x->w->hosts[host];
	if (str_ieq(x->value, "down")) {
		if (h->up) {
			h->restarting = 0;
			sim_host_down(x->w, host, x->now);
		}
	} else if (str_ieq(x->value, "up")) {
		if (!h->up)
			sim_host_boot(x->w, host, x->now);
	} else if (str_ieq(x->value, "reboot")) {
		if (h->up && h->down_at == SIM_NEVER)
			sim_host_schedule_reboot(x->w, host, x->now);
	} else {
		return bad(x, "power");
	}
	return 0;
}

static int set_net_sp(struct set_ctx *x, struct sim_host *h)
{
	int64_t v;
	if (str_ieq(x->value, "none"))
		h->net_sp = -1;
	else if (parse_int64(x->value, 0, 9, &v) == 0)
		h->net_sp = (int)v;
	else
		return bad(x, "net_sp");
	return 0;
}

static int set_host(struct set_ctx *x, int host, const char *field)
{
	struct sim_host *h = &x->w->hosts[host];
	int64_t v;
	if (strncmp(field, "service.", 8) == 0)
		return set_service(x, host, field + 8);
	if (strcmp(field, "pending_reboot") == 0)
		return parse_bool(x->value, &h->pending_reboot) ? bad(x, field) : 0;
	if (strcmp(field, "dotnet_restart") == 0)
		return parse_bool(x->value, &h->dotnet_restart) ? bad(x, field) : 0;
	if (strcmp(field, "max_sessions") == 0) {
		int64_t m;
		if (parse_int64(x->value, 1, 1000, &m) != 0)
			return bad(x, field);
		h->max_sessions = (int)m;
		return 0;
	}
	if (strcmp(field, "binaries_version") == 0)
		return set_version(x, &h->binaries, field);
	if (strcmp(field, "server_version") == 0)
		return set_version(x, &h->server_version, field);
	if (strcmp(field, "windows_installer") == 0)
		return set_version(x, &h->msi.installer, field);
	if (strcmp(field, "arch") == 0) {
		if (strcmp(x->value, "x64") != 0 && strcmp(x->value, "x86") != 0)
			return bad(x, field);
		free(h->msi.arch);
		h->msi.arch = xstrdup(x->value);
		return 0;
	}
	if (strcmp(field, "net_sp") == 0)
		return set_net_sp(x, h);
	if (strcmp(field, "os_sp") == 0) {
		if (parse_int64(x->value, 0, 9, &v) != 0)
			return bad(x, field);
		h->os_sp = (int)v;
		return 0;
	}
	if (strcmp(field, "watermark") == 0) {
		if (str_ieq(x->value, "none"))
			v = 0;
		else if (parse_int64(x->value, 0, 99, &v) != 0)
			return bad(x, field);
		h->watermark = (int)v;
		return 0;
	}
	if (strcmp(field, "power") == 0)
		return set_power(x, host);
	snprintf(x->err, x->errlen, "unknown host field \"%s\"", field);
	return -1;
}

static int member_value(struct set_ctx *x, const struct sim_cluster *c, const char *what)
{
	int t = sim_host_find(x->w, x->value);
	if (t < 0 || !sim_is_member(c, t))
		return bad(x, what);
	return t;
}

static const char *const copy_statuses[] = {"Healthy",	 "Initializing", "Failed",
					    "Suspended", "Seeding",	 "ServiceDown"};

static int set_copy(struct set_ctx *x, struct sim_cluster *c, int status)
{
	int64_t q = 0;
	size_t k = 0;
	if (status) {
		while (k < CCR_ARRAY_LEN(copy_statuses) && !str_ieq(copy_statuses[k], x->value))
			k++;
		if (k == CCR_ARRAY_LEN(copy_statuses))
			return bad(x, "copy_status");
	} else if (parse_int64(x->value, 0, 100000000, &q) != 0) {
		return bad(x, "copy_queue");
	}
	for (int i = 0; i < c->nsgs; i++) {
		struct sim_sg *sg = &c->sgs[i];
		if (!status)
			sg->queue = q;
		else {
			sg->queue = sim_sg_queue(sg, x->now);
			free(sg->status);
			sg->status = xstrdup(copy_statuses[k]);
		}
		sg->drain_end = SIM_NEVER;
	}
	return 0;
}

static int set_cms_state(struct set_ctx *x, struct sim_cluster *c)
{
	enum sim_cms_state st;
	if (sim_cms_state_parse(x->value, &st) != 0)
		return bad(x, "cms_state");
	if (st == SIM_CMS_FAILED)
		sim_cms_fail(x->w, c, x->now);
	else
		sim_cms_set_state(x->w, c, st, x->now);
	c->restart_on_boot = 0;
	return 0;
}

static int set_cluster(struct set_ctx *x, struct sim_cluster *c, const char *field)
{
	int t, b;
	if (strcmp(field, "cms_owner") == 0) {
		if ((t = member_value(x, c, field)) < 0)
			return -1;
		c->owner = t;
		return 0;
	}
	if (strcmp(field, "cluster_group_owner") == 0) {
		if ((t = member_value(x, c, field)) < 0)
			return -1;
		c->group_owner = t;
		return 0;
	}
	if (strcmp(field, "cms_state") == 0)
		return set_cms_state(x, c);
	if (strcmp(field, "cms_version") == 0)
		return set_version(x, &c->cms_version, field);
	if (strcmp(field, "copy_queue") == 0 || strcmp(field, "copy_status") == 0)
		return set_copy(x, c, strcmp(field, "copy_status") == 0);
	if (strcmp(field, "cms_key") == 0) {
		if (parse_bool(x->value, &b) != 0)
			return bad(x, field);
		c->cms_key = b;
		return 0;
	}
	snprintf(x->err, x->errlen, "unknown cluster field \"%s\"", field);
	return -1;
}

int sim_world_set(struct sim_world *w, const char *path, const char *value, int64_t now, char *err,
		  size_t errlen)
{
	struct set_ctx x = {w, value, now, err, errlen};
	const char *dot = strchr(path, '.');
	int rc = -1;
	if (dot == NULL || value == NULL) {
		snprintf(err, errlen, "expected HOST.field or CLUSTER.field, got \"%s\"", path);
		return -1;
	}
	sim_world_tick(w, now);
	char *head = xstrndup(path, (size_t)(dot - path));
	int h = sim_host_find(w, head);
	int c = sim_cluster_by_name(w, head);
	if (h >= 0)
		rc = set_host(&x, h, dot + 1);
	else if (c >= 0)
		rc = set_cluster(&x, &w->clusters[c], dot + 1);
	else
		snprintf(err, errlen, "no host or cluster named \"%s\"", head);
	free(head);
	return rc;
}
