/*
 * bind.c — see bind.h.
 */
#include "bind.h"

#include <string.h>

const char *bind_host(const struct role_binding *roles, int n, const char *role)
{
	for (int i = 0; i < n; i++)
		if (strcmp(roles[i].role, role) == 0)
			return roles[i].host;
	return NULL;
}

static int bind_one(const struct cluster_def *cl, const struct role_def *d, struct facts *f,
		    const char **found, char *err, size_t errlen)
{
	const struct host_group *g = cluster_group(cl, d->from);
	struct sbuf seen;
	int n = 0, rc = 0;

	sbuf_init(&seen);
	for (int i = 0; g && i < g->nhosts; i++) {
		int ok = 0;
		sbuf_addf(&seen, "%s%s: ", i ? "; " : "", g->hosts[i]);
		if (facts_eval(f, d->where, NULL, g->hosts[i], NULL, &ok, &seen, err, errlen) < 0) {
			rc = EXIT_STEP_FAILED;
			goto out;
		}
		sbuf_addf(&seen, " -> %s", ok ? "yes" : "no");
		if (ok && n++ == 0)
			*found = g->hosts[i];
	}
	if (n != 1) {
		snprintf(err, errlen,
			 "cluster %s: role %s needs exactly one host of '%s' where `%s`, found %d "
			 "(%s)",
			 cl->name, d->name, d->from, expr_source(d->where), n, seen.buf);
		rc = EXIT_REFUSED;
	}
out:
	sbuf_release(&seen);
	return rc;
}

int bind_roles_live(const struct playbook *pb, const struct cluster_def *cl, struct facts *f,
		    struct role_binding **roles, int *n, char *err, size_t errlen)
{
	for (int i = 0; i < pb->nroles; i++) {
		const struct role_def *d = &pb->roles[i];
		const char *host = NULL;
		if (bind_host(*roles, *n, d->name))
			continue;
		int rc = bind_one(cl, d, f, &host, err, errlen);
		if (rc)
			return rc;
		*roles = xreallocarray(*roles, (size_t)*n + 1, sizeof(**roles));
		(*roles)[(*n)++] = (struct role_binding){d->name, host, 0};
	}
	return 0;
}
