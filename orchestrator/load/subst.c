/*
 * subst.c — see subst.h.
 */
#include "subst.h"
#include "textsafe.h"

#include <stdlib.h>
#include <string.h>

const char *subst_role_host(const struct subst_ctx *c, const char *role)
{
	for (int i = 0; i < c->nroles; i++)
		if (strcmp(c->roles[i].role, role) == 0)
			return c->roles[i].host;
	return NULL;
}

static const struct inv_value *find_value(const struct inv_value *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].key, name) == 0)
			return &v[i];
	return NULL;
}

/* The inventory's value for a playbook var: host vars first, then cluster vars. */
static const struct inv_value *inventory_value(const struct subst_ctx *c, const char *name)
{
	const struct inv_value *v = NULL;
	if (c->node && c->inv) {
		const struct host_def *h = inventory_host(c->inv, c->node);
		if (h)
			v = find_value(h->vars, h->nvars, name);
	}
	if (v == NULL && c->cl)
		v = find_value(c->cl->vars, c->cl->nvars, name);
	return v;
}

static const char *builtin_value(const struct subst_ctx *c, const char *name)
{
	if (strcmp(name, "node") == 0)
		return c->node;
	if (strcmp(name, "cluster") == 0)
		return c->cl ? c->cl->name : NULL;
	if (strcmp(name, "cms") == 0)
		return c->cl ? c->cl->cms : NULL;
	return NULL;
}

static int is_builtin(const char *name)
{
	return strcmp(name, "node") == 0 || strcmp(name, "cluster") == 0 ||
	       strcmp(name, "cms") == 0;
}

const char *subst_value(const struct subst_ctx *c, const char *name, enum var_kind *kind)
{
	if (strcmp(name, "item") == 0) {
		*kind = c->item_kind;
		return c->item;
	}
	if (is_builtin(name)) {
		*kind = VK_NAME;
		return builtin_value(c, name);
	}
	const char *role = subst_role_host(c, name);
	if (role) {
		*kind = VK_NAME;
		return role;
	}
	const struct var_def *def = playbook_var(c->pb, name);
	if (def == NULL || def->is_list)
		return NULL;
	*kind = def->kind;
	const struct inv_value *v = inventory_value(c, name);
	if (v && !v->is_list)
		return v->value;
	return def->def;
}

int subst_list(const struct subst_ctx *c, const char *name, char *const **items, int *n)
{
	const struct var_def *def = playbook_var(c->pb, name);
	if (def == NULL || !def->is_list)
		return -1;
	const struct inv_value *v = inventory_value(c, name);
	if (v && v->is_list) {
		*items = v->list;
		*n = v->nlist;
		return 0;
	}
	if (def->ndef_list < 0)
		return -1;
	*items = def->def_list;
	*n = def->ndef_list;
	return 0;
}

static int value_ok(const struct subst_ctx *c, const char *name, enum var_kind kind,
		    const char *value)
{
	if (kind == VK_RAW)
		return 1;
	return var_kind_check(kind, playbook_var(c->pb, name), value);
}

char *subst_expand(const struct subst_ctx *c, const char *tmpl, char *err, size_t errlen)
{
	struct sbuf out;
	const char *p = tmpl;

	sbuf_init(&out);
	while (*p) {
		const char *open = strstr(p, "${");
		if (open == NULL) {
			sbuf_adds(&out, p);
			break;
		}
		sbuf_add(&out, p, (size_t)(open - p));
		const char *close = strchr(open + 2, '}');
		if (close == NULL) {
			snprintf(err, errlen, "unterminated '${' in '%s'", tmpl);
			goto fail;
		}
		char *name = xstrndup(open + 2, (size_t)(close - open - 2));
		enum var_kind kind = VK_RAW;
		const char *v = subst_value(c, name, &kind);
		if (v == NULL) {
			snprintf(err, errlen, "variable '%s' has no value here", name);
			free(name);
			goto fail;
		}
		if (!value_ok(c, name, kind, v)) {
			struct sbuf q;
			char *shown = kind == VK_URL ? url_redact(v, 0) : xstrdup(v);
			sbuf_init(&q);
			diag_quote(&q, shown);
			free(shown);
			snprintf(err, errlen, "variable '%s' = '%s' is not a valid %s", name, q.buf,
				 var_kind_name(kind));
			sbuf_release(&q);
			free(name);
			goto fail;
		}
		sbuf_adds(&out, v);
		free(name);
		p = close + 1;
	}
	return sbuf_detach(&out);
fail:
	sbuf_release(&out);
	return NULL;
}
