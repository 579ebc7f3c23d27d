/*
 * sim_scenario_msi.c — the scenario keys of update rollups, service pack
 * prerequisites and the Exchange organisation (docs/ccrsim.md, Scenarios):
 * the top-level `rollups` (media) and `organization`, and each host's
 * `windows_installer`, `arch`, `rollups`, `interim_updates` and `internet`.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_scenario_int.h"

#define KB_MIN 100000
#define KB_MAX 9999999

static int arch_of(struct sim_scn *s, yaml_node_t *map, const char *key, char **out)
{
	const char *a;
	if (sim_yaml_str(&s->y, map, key, "x64", &a))
		return -1;
	if (strcmp(a, "x64") != 0 && strcmp(a, "x86") != 0)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, key),
				     "%s: expected x64 or x86, got \"%s\"", key, a);
	*out = xstrdup(a);
	return 0;
}

static const struct sim_rollup *media_of(const struct sim_world *w, int kb)
{
	for (int i = 0; i < w->nrollups; i++)
		if (w->rollups[i].kb == kb)
			return &w->rollups[i];
	return NULL;
}

static int load_media(struct sim_scn *s, yaml_node_t *n)
{
	static const char *const keys[] = {"kb",      "rollup", "service_pack", "version", "arch",
					   "restart", NULL};
	struct sim_world *w = s->w;
	int64_t kb, num, sp;
	int v[4];
	if (sim_yaml_check_map(&s->y, n, keys) ||
	    sim_yaml_int(&s->y, n, "kb", KB_MIN, KB_MAX, 0, &kb) ||
	    sim_yaml_int(&s->y, n, "rollup", 1, 99, 1, &num) ||
	    sim_yaml_int(&s->y, n, "service_pack", 0, 9, 1, &sp))
		return -1;
	if (sim_yaml_get(&s->y, n, "kb") == NULL || sim_yaml_get(&s->y, n, "version") == NULL)
		return sim_yaml_fail(&s->y, n, "rollups: kb and version are required");
	w->rollups = xreallocarray(w->rollups, (size_t)w->nrollups + 1, sizeof(*w->rollups));
	struct sim_rollup *r = &w->rollups[w->nrollups++];
	memset(r, 0, sizeof(*r));
	r->kb = (int)kb;
	r->number = (int)num;
	r->sp = (int)sp;
	if (sim_yaml_version(&s->y, n, "version", NULL, &r->version) ||
	    arch_of(s, n, "arch", &r->arch) || sim_yaml_bool(&s->y, n, "restart", 1, &r->restart))
		return -1;
	for (int i = 0; i + 1 < w->nrollups; i++)
		if (w->rollups[i].kb == r->kb && strcmp(w->rollups[i].arch, r->arch) == 0)
			return sim_yaml_fail(&s->y, n, "rollups: KB%d (%s) given twice", r->kb,
					     r->arch);
	if (sim_ver_parse(r->version, v) != 0 || v[1] != r->sp)
		return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, n, "version"),
				     "version %s is not a build of service pack %d (8.%d.x.y)",
				     r->version, r->sp, r->sp);
	return 0;
}

static int load_org(struct sim_scn *s, yaml_node_t *root)
{
	static const char *const keys[] = {"name", "schema_version", "ad_version", NULL};
	yaml_node_t *o = sim_yaml_get(&s->y, root, "organization");
	const char *name;
	char *schema = NULL, *ad = NULL;
	if (o != NULL && sim_yaml_check_map(&s->y, o, keys))
		return -1;
	if (sim_yaml_str(&s->y, o, "name", "First Organization", &name) ||
	    sim_yaml_version(&s->y, o, "schema_version", "8.1.240.6", &schema) ||
	    sim_yaml_version(&s->y, o, "ad_version", schema, &ad)) {
		free(schema);
		return -1;
	}
	free(s->w->org_name);
	s->w->org_name = xstrdup(name);
	free(s->w->schema_version);
	s->w->schema_version = schema;
	free(s->w->ad_version);
	s->w->ad_version = ad;
	return 0;
}

int sim_scn_msi_world(struct sim_scn *s, yaml_node_t *root)
{
	yaml_node_t *r = sim_yaml_get(&s->y, root, "rollups");
	if (load_org(s, root))
		return -1;
	if (r == NULL || sim_yaml_is_null(r))
		return 0;
	if (r->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, r, "rollups: expected a list");
	for (yaml_node_item_t *i = r->data.sequence.items.start; i < r->data.sequence.items.top;
	     i++)
		if (load_media(s, sim_yaml_node(&s->y, *i)))
			return -1;
	return 0;
}

/* A list of KB numbers (123456 or "KB123456"). */
static int kb_list(struct sim_scn *s, yaml_node_t *map, const char *key, int **out, int *n)
{
	yaml_node_t *l = sim_yaml_get(&s->y, map, key);
	*out = NULL;
	*n = 0;
	if (l == NULL || sim_yaml_is_null(l))
		return 0;
	if (l->type != YAML_SEQUENCE_NODE)
		return sim_yaml_fail(&s->y, l, "%s: expected a list of KB numbers", key);
	for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = sim_yaml_node(&s->y, *i);
		const char *t = sim_yaml_scalar(&s->y, e, key);
		if (t == NULL)
			return -1;
		if ((t[0] == 'K' || t[0] == 'k') && (t[1] == 'B' || t[1] == 'b'))
			t += 2;
		long kb = 0;
		const char *p = t;
		while (*p >= '0' && *p <= '9' && kb <= KB_MAX)
			kb = kb * 10 + (*p++ - '0');
		if (p == t || *p != '\0' || kb < KB_MIN || kb > KB_MAX)
			return sim_yaml_fail(&s->y, e, "%s: expected a KB number like 970162", key);
		*out = xreallocarray(*out, (size_t)*n + 1, sizeof(**out));
		(*out)[(*n)++] = (int)kb;
	}
	return 0;
}

int sim_scn_msi_host(struct sim_scn *s, struct sim_host *h, yaml_node_t *map)
{
	struct sim_msi *m = &h->msi;
	int internet;
	if (sim_yaml_bool(&s->y, map, "internet", 1, &internet))
		return -1;
	m->offline = !internet;
	if (sim_yaml_version(&s->y, map, "windows_installer", "3.1", &m->installer) ||
	    arch_of(s, map, "arch", &m->arch) ||
	    kb_list(s, map, "rollups", &m->rollups, &m->nrollups) ||
	    kb_list(s, map, "interim_updates", &m->interim, &m->ninterim))
		return -1;
	m->rollup_s = xcalloc((size_t)m->nrollups + 1, sizeof(*m->rollup_s));
	for (int i = 0; i < m->nrollups; i++) {
		const struct sim_rollup *r = media_of(s->w, m->rollups[i]);
		m->rollup_s[i] = h->boot_s;
		if (r == NULL)
			return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "rollups"),
					     "rollups: KB%d is not in the scenario's rollups media",
					     m->rollups[i]);
		if (h->binaries != NULL && sim_ver_cmp(h->binaries, r->version) < 0)
			return sim_yaml_fail(&s->y, sim_yaml_get(&s->y, map, "rollups"),
					     "rollups: KB%d brings %s but binaries_version is %s",
					     r->kb, r->version, h->binaries);
	}
	return 0;
}
