/*
 * playbook_names.c — the checks that tie a playbook together: every
 * expression parses and names only things that exist, every ${name} in a
 * command template resolves, every regex compiles as POSIX ERE, every
 * `on:` is a role or a group.
 *
 * What a name may refer to depends on where it is used (the NS_* flags):
 * a fact's command may use vars and node/cluster/cms, but not roles (roles
 * are bound from facts); a role's `where:` may use facts but not other
 * roles; only a step with for_each has an item.  Facts are read by
 * expressions, never substituted into commands.
 */
#include "playbook_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const builtins[] = {"node", "cluster", "cms", NULL};

void pb_pos(const struct ynode *n, int off, int *line, int *col)
{
	*line = n->line;
	*col = n->col;
	if (n->kind != YNODE_SCALAR || n->line != n->end_line || off < 1)
		return;
	int span = n->end_col - n->col;
	if (n->style == YSTYLE_PLAIN && span == (int)n->len)
		*col = n->col + off - 1;
	else if (n->style == YSTYLE_QUOTED && span == (int)n->len + 2)
		*col = n->col + off;
}

const struct var_def *pb_var(const struct pbctx *c, const char *name)
{
	int i = nameidx_get(&c->vars, name);
	return i < 0 ? NULL : &c->pb->vars[i];
}

const struct fact_def *pb_fact(const struct pbctx *c, const char *name)
{
	int i = nameidx_get(&c->facts, name);
	return i < 0 ? NULL : &c->pb->facts[i];
}

const struct role_def *pb_role(const struct pbctx *c, const char *name)
{
	int i = nameidx_get(&c->roles, name);
	return i < 0 ? NULL : &c->pb->roles[i];
}

int pb_is_group(const struct pbctx *c, const char *name)
{
	return nameidx_get(&c->grpidx, name) >= 0;
}

static int is_builtin(const char *name)
{
	for (int i = 0; builtins[i]; i++)
		if (strcmp(builtins[i], name) == 0)
			return 1;
	return 0;
}

static int has_record(const struct pbctx *c, const char *name)
{
	return nameidx_get(&c->recidx, name) >= 0;
}

/* Names a user may have meant, for "did you mean": NULL-terminated, caller frees the array. */
static const char **candidates(const struct pbctx *c, int ns, int is_expr)
{
	const struct playbook *pb = c->pb;
	size_t n = 0, cap = (size_t)pb->nvars + (size_t)pb->nfacts + (size_t)pb->nroles + 5;
	const char **v = xcalloc(cap, sizeof(*v));

	for (int i = 0; i < pb->nvars; i++)
		if (!pb->vars[i].is_list)
			v[n++] = pb->vars[i].name;
	for (int i = 0; is_expr && i < pb->nfacts; i++)
		v[n++] = pb->facts[i].name;
	for (int i = 0; (ns & NS_ROLES) && i < pb->nroles; i++)
		v[n++] = pb->roles[i].name;
	for (int i = 0; builtins[i]; i++)
		v[n++] = builtins[i];
	if (ns & NS_ITEM)
		v[n++] = "item";
	return v;
}

struct use {
	struct pbctx *c;
	const struct ynode *n; /* the scalar holding the text */
	int ns;		       /* NS_* allowed here */
	int is_expr;	       /* 1: expression identifier; 0: ${name} in a template */
	int off;	       /* 1-based byte offset of the name (or "${") in the text */
};

static void use_err(const struct use *u, const char *fmt, ...) CCR_PRINTF(2, 3);

static void use_err(const struct use *u, const char *fmt, ...)
{
	va_list ap;
	int line, col;

	pb_pos(u->n, u->off, &line, &col);
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	yerr_at(&u->c->y, line, col, "%s", msg);
	free(msg);
}

static void report_undefined(const struct use *u, const char *name)
{
	const char **cand = ydiag_room(&u->c->y) ? candidates(u->c, u->ns, u->is_expr) : NULL;
	const char *near = cand ? ysuggest(name, cand) : NULL;
	struct yctx *y = &u->c->y;

	if (u->is_expr && near)
		use_err(u, "undefined name '%s' in expression (did you mean '%s'?)", yq(y, name),
			near);
	else if (u->is_expr)
		use_err(u, "undefined name '%s' in expression (not a fact, var, role or builtin)",
			yq(y, name));
	else if (near)
		use_err(u, "undefined variable '${%s}' (did you mean '${%s}'?)", yq(y, name), near);
	else
		use_err(u, "undefined variable '${%s}'", yq(y, name));
	free(cand);
}

static int resolve_dotted(const struct use *u, const char *name, const char *dot)
{
	struct pbctx *c = u->c;
	char *head = xstrndup(name, (size_t)(dot - name));
	const char *tail = dot + 1;
	int rc = 0;

	if (!u->is_expr) {
		report_undefined(u, name);
		rc = -1;
	} else if (strcmp(head, "saved") == 0 && (u->ns & NS_SAVED)) {
		if (!has_record(c, tail)) {
			use_err(u, "undefined '%s': no step has record.as '%s'", yq(&c->y, name),
				yq(&c->y, tail));
			rc = -1;
		}
	} else if (pb_role(c, head) && (u->ns & NS_ROLES)) {
		if (pb_role(c, head)->select == SELECT_ALL) {
			use_err(u,
				"role '%s' stands for several hosts (select: all): run steps on it "
				"with on: or for_each:, and read node facts there",
				yq(&c->y, head));
			rc = -1;
		} else if (!pb_fact(c, tail)) {
			use_err(u, "undefined fact '%s' in '%s'", yq(&c->y, tail), yq(&c->y, name));
			rc = -1;
		}
	} else {
		use_err(u,
			"undefined name '%s' in expression (dotted names are saved.RECORD or "
			"ROLE.FACT%s)",
			yq(&c->y, name), (u->ns & NS_ROLES) ? "" : ", not usable here");
		rc = -1;
	}
	free(head);
	return rc;
}

static int resolve(const struct use *u, const char *name)
{
	const struct pbctx *c = u->c;
	const char *dot = strchr(name, '.');
	const struct var_def *v;

	if (dot)
		return resolve_dotted(u, name, dot);
	if (is_builtin(name))
		return 0;
	if (strcmp(name, "item") == 0) {
		if (u->ns & NS_ITEM)
			return 0;
		use_err(u, "'item' is only defined in a step with for_each");
		return -1;
	}
	if ((v = pb_var(c, name)) != NULL) {
		if (!v->is_list)
			return 0;
		use_err(u, "'%s' is a list variable: use it as a step's for_each, and ${item}",
			name);
		return -1;
	}
	if (pb_fact(c, name)) {
		if (u->is_expr)
			return 0;
		use_err(u,
			"'${%s}' is a fact: commands substitute vars, roles, node, cluster, "
			"cms and item; facts are read by expressions",
			name);
		return -1;
	}
	if (pb_role(c, name)) {
		if ((u->ns & NS_ROLES) && pb_role(c, name)->select == SELECT_ALL) {
			use_err(u,
				"role '%s' stands for several hosts (select: all): run steps on it "
				"with on: or for_each:",
				name);
			return -1;
		}
		if (u->ns & NS_ROLES)
			return 0;
		use_err(u,
			"role '%s' cannot be used here (roles are bound from facts and "
			"role conditions)",
			name);
		return -1;
	}
	report_undefined(u, name);
	return -1;
}

static int ident_cb(const char *name, int col, void *arg)
{
	struct use *u = arg;
	u->off = col;
	resolve(u, name);
	return 0;
}

int pb_expr(struct pbctx *c, const struct ynode *n, const char *key, int ns, struct expr **out)
{
	char err[200];
	int ecol = 1, line, col, before = c->y.nerr;

	if (n->kind != YNODE_SCALAR || n->is_null) {
		yerr(&c->y, n, "'%s': expected an expression, got %s", key, ynode_describe(n));
		return -1;
	}
	struct expr *e = expr_parse(n->text, err, sizeof(err), &ecol);
	if (e == NULL) {
		pb_pos(n, ecol, &line, &col);
		yerr_at(&c->y, line, col, "bad expression in '%s': %s", key, err);
		return -1;
	}
	struct use u = {.c = c, .n = n, .ns = ns, .is_expr = 1};
	(void)expr_foreach_ident(e, ident_cb, &u);
	if (c->y.nerr > before) {
		expr_free(e);
		return -1;
	}
	*out = e;
	return 1;
}

int pb_get_expr(struct pbctx *c, const struct ynode *m, const char *key, int ns, struct expr **out)
{
	const struct ynode *n = ymap_get(m, key);
	if (n == NULL || (n->kind == YNODE_SCALAR && n->is_null))
		return 0;
	return pb_expr(c, n, key, ns, out);
}

/* Check every ${name} in scalar n. */
static int check_template(struct pbctx *c, const struct ynode *n, int ns)
{
	struct use u = {.c = c, .n = n, .ns = ns, .is_expr = 0};
	const char *s = n->text, *p = s;
	int rc = 0;

	while ((p = strstr(p, "${")) != NULL) {
		const char *close = strchr(p + 2, '}');
		u.off = (int)(p - s) + 1;
		if (close == NULL) {
			use_err(&u, "'${' without a closing '}' (write $ alone for a literal $)");
			return -1;
		}
		char *name = xstrndup(p + 2, (size_t)(close - p - 2));
		if (*name == '\0') {
			use_err(&u, "empty variable name '${}'");
			rc = -1;
		} else if (resolve(&u, name) < 0) {
			rc = -1;
		}
		free(name);
		p = close + 1;
	}
	return rc;
}

int pb_get_template(struct pbctx *c, const struct ynode *m, const char *key, int ns, char **out)
{
	const struct ynode *n = NULL;
	int rc = yget_scalar(&c->y, m, key, &n);
	if (rc != 1)
		return rc;
	if (check_template(c, n, ns) < 0)
		return -1;
	*out = xstrdup(n->text);
	return 1;
}

/* glibc reads \d as a plain 'd' without complaint: refuse it so "\d+" never silently fails. */
static int check_perl_escapes(struct pbctx *c, const struct ynode *n, const char *key)
{
	const char *t = n->text;
	int line, col;

	for (size_t i = 0; t[i]; i++) {
		if (t[i] != '\\' || t[i + 1] == '\0')
			continue;
		if (t[i + 1] == 'd' || t[i + 1] == 'D') {
			pb_pos(n, (int)i + 1, &line, &col);
			yerr_at(&c->y, line, col, "bad regex in '%s': use %s: \\%c is not POSIX",
				key, t[i + 1] == 'd' ? "[0-9]" : "[^0-9]", t[i + 1]);
			return -1;
		}
		i++;
	}
	return 0;
}

int pb_get_regex(struct pbctx *c, const struct ynode *m, const char *key, regex_t *re, char **src)
{
	const struct ynode *n = NULL;
	char err[200];
	int rc = yget_scalar(&c->y, m, key, &n);
	if (rc != 1)
		return rc;
	if (n->len == 0) {
		yerr(&c->y, n, "bad regex in '%s': empty pattern", key);
		return -1;
	}
	if (check_perl_escapes(c, n, key) < 0)
		return -1;
	int e = regcomp(re, n->text, REG_EXTENDED | REG_NEWLINE);
	if (e != 0) {
		regerror(e, re, err, sizeof(err));
		yerr(&c->y, n, "bad regex in '%s': %s ('%s')", key, err, yq(&c->y, n->text));
		return -1;
	}
	*src = xstrdup(n->text);
	return 1;
}

static void target_err(struct pbctx *c, const struct ynode *n, const char *key, int allow_role)
{
	size_t k = 0;
	const char **cand = xcalloc((size_t)c->ngroups + (size_t)c->pb->nroles + 1, sizeof(*cand));

	for (int i = 0; allow_role && i < c->pb->nroles; i++)
		cand[k++] = c->pb->roles[i].name;
	for (int i = 0; i < c->ngroups; i++)
		cand[k++] = c->groups[i];
	const char *near = ydiag_room(&c->y) ? ysuggest(n->text, cand) : NULL;
	struct sbuf sb;
	sbuf_init(&sb);
	for (size_t i = 0; i < k; i++)
		sbuf_addf(&sb, "%s%s", i ? ", " : "", cand[i]);
	if (!allow_role && pb_role(c, n->text))
		yerr(&c->y, n, "'%s': '%s' is a role; %s takes a group (%s)", key, n->text, key,
		     sb.buf);
	else if (near)
		yerr(&c->y, n, "'%s': undefined %s '%s' (did you mean '%s'?)", key,
		     allow_role ? "role or group" : "group", yq(&c->y, n->text), near);
	else
		yerr(&c->y, n, "'%s': undefined %s '%s' (known: %s)", key,
		     allow_role ? "role or group" : "group", yq(&c->y, n->text), sb.buf);
	sbuf_release(&sb);
	free(cand);
}

int pb_get_target(struct pbctx *c, const struct ynode *m, const char *key, int allow_role,
		  char **out)
{
	const struct ynode *n = NULL;
	int rc = yget_scalar(&c->y, m, key, &n);
	if (rc != 1)
		return rc;
	if (pb_is_group(c, n->text) || (allow_role && pb_role(c, n->text))) {
		*out = xstrdup(n->text);
		return 1;
	}
	target_err(c, n, key, allow_role);
	return -1;
}
