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

/*
 * The hosts of d's group where `where` holds, by d->select: exactly one, the
 * first or last of one or more, or all of one or more (found[], in group order).
 */
static int bind_one(const struct cluster_def *cl, const struct role_def *d, struct facts *f,
		    const char ***found, int *nfound, char *err, size_t errlen)
{
	static const char *const want[] = {"exactly one host", "at least one host",
					   "at least one host", "at least one host"};
	const struct host_group *g = cluster_group(cl, d->from);
	struct sbuf seen;
	int n = 0, rc = 0;

	sbuf_init(&seen);
	*found = xcalloc((size_t)(g ? g->nhosts : 0) + 1, sizeof(**found));
	for (int i = 0; g && i < g->nhosts; i++) {
		int ok = 0;
		sbuf_addf(&seen, "%s%s: ", i ? "; " : "", g->hosts[i]);
		if (facts_eval(f, d->where, NULL, g->hosts[i], NULL, &ok, &seen, err, errlen) < 0) {
			rc = EXIT_STEP_FAILED;
			goto out;
		}
		sbuf_addf(&seen, " -> %s", ok ? "yes" : "no");
		if (ok)
			(*found)[n++] = g->hosts[i];
	}
	if (n == 0 || (d->select == SELECT_ONE && n != 1)) {
		snprintf(err, errlen,
			 "cluster %s: role %s needs %s of '%s' where `%s`, found %d (%s)", cl->name,
			 d->name, want[d->select], d->from, expr_source(d->where), n, seen.buf);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (d->select == SELECT_LAST)
		(*found)[0] = (*found)[n - 1];
	*nfound = d->select == SELECT_ALL ? n : 1;
out:
	sbuf_release(&seen);
	return rc;
}

int bind_roles_live(const struct playbook *pb, const struct cluster_def *cl, struct facts *f,
		    struct role_binding **roles, int *n, char *err, size_t errlen)
{
	for (int i = 0; i < pb->nroles; i++) {
		const struct role_def *d = &pb->roles[i];
		const char **hosts = NULL;
		int nh = 0;
		if (bind_host(*roles, *n, d->name))
			continue;
		int rc = bind_one(cl, d, f, &hosts, &nh, err, errlen);
		if (rc) {
			free(hosts);
			return rc;
		}
		*roles = xreallocarray(*roles, (size_t)*n + (size_t)nh, sizeof(**roles));
		for (int k = 0; k < nh; k++)
			(*roles)[(*n)++] = (struct role_binding){d->name, hosts[k], 0, 0};
		free(hosts);
	}
	return 0;
}

int bind_count(const struct role_binding *roles, int n, const char *role)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += strcmp(roles[i].role, role) == 0;
	return k;
}

int bind_complete(const struct playbook *pb, struct role_binding *roles, int *n)
{
	int out = 0, all = 1;

	for (int i = 0; i < *n; i++) {
		int have = bind_count(roles, *n, roles[i].role);
		if (roles[i].of > 0 && have != roles[i].of)
			continue; /* a set cut short: bind the role again */
		roles[out++] = roles[i];
	}
	*n = out;
	for (int i = 0; i < pb->nroles; i++)
		all &= bind_host(roles, *n, pb->roles[i].name) != NULL;
	return all;
}
