/*
 * check_jsonfacts.c — facts read from JSON output and roles of several hosts:
 *   - load/jpath: every segment kind, every value type, absent members, every
 *     syntax error with its column;
 *   - facts_extract_json: Patroni's real /cluster and /patroni bodies, capture
 *     and reduce over selected values, output that is not JSON;
 *   - the loader: `json:` with and without `capture`, bad paths located,
 *     `select:` values, a `select: all` role refused as ${ROLE} and ROLE.FACT;
 *   - binding and planning: plan_assume_roles for each select, a phase on a
 *     `select: all` role runs host by host, bind_complete drops a cut set.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "facts.h"
#include "jpath.h"
#include "model.h"
#include "plan.h"
#include "util.h"

static const char cluster_json[] =
    "{\"members\": [{\"name\": \"pg1\", \"role\": \"leader\", \"state\": \"running\", "
    "\"timeline\": 2}, {\"name\": \"pg2\", \"role\": \"replica\", \"state\": \"running\", "
    "\"lag\": 0}, {\"name\": \"pg3\", \"role\": \"replica\", \"state\": \"stopped\", \"lag\": "
    "\"unknown\"}], \"pause\": true, \"scheduled_switchover\": null, \"ratio\": 0.5}";

/* Select path from text; the values joined by '|', or "ERR:<message>". */
static char *sel(const char *text, const char *path)
{
	json_error_t je;
	json_t *root = json_loads(text, JSON_DECODE_ANY, &je);
	char **v = NULL, err[256];
	int n = 0;
	struct sbuf b;

	ck_assert_ptr_nonnull(root);
	sbuf_init(&b);
	if (jpath_select(root, path, &v, &n, err, sizeof(err)) < 0) {
		sbuf_addf(&b, "ERR:%s", err);
	} else {
		for (int i = 0; i < n; i++) {
			sbuf_addf(&b, "%s%s", i ? "|" : "", v[i]);
			free(v[i]);
		}
	}
	free(v);
	json_decref(root);
	return sbuf_detach(&b);
}

#define SEL(text, path, want)                                                                      \
	do {                                                                                       \
		char *got_ = sel(text, path);                                                      \
		ck_assert_msg(strcmp(got_, want) == 0, "%s: got '%s', want '%s'", path, got_,      \
			      want);                                                               \
		free(got_);                                                                        \
	} while (0)

START_TEST(jpath_segments)
{
	SEL(cluster_json, "pause", "true");
	SEL(cluster_json, ".pause", "true");
	SEL(cluster_json, "members[0].name", "pg1");
	SEL(cluster_json, "members[-1].name", "pg3");
	SEL(cluster_json, "members[3].name", "");
	SEL(cluster_json, "members[-4].name", "");
	SEL(cluster_json, "members[*].role", "leader|replica|replica");
	SEL(cluster_json, "members[*].lag", "0|unknown");
	SEL(cluster_json, "members[role=leader].name", "pg1");
	SEL(cluster_json, "members[role=replica].name", "pg2|pg3");
	SEL(cluster_json, "members[lag=0].name", "pg2");
	SEL(cluster_json, "members[role=nobody].name", "");
	SEL(cluster_json, "members[name=pg2]",
	    "{\"name\":\"pg2\",\"role\":\"replica\","
	    "\"state\":\"running\",\"lag\":0}");
	SEL(cluster_json, "scheduled_switchover", "");
	SEL(cluster_json, "scheduled_switchover.at", "");
	SEL(cluster_json, "nothing.at.all", "");
	SEL(cluster_json, "pause.deeper", "");
	SEL(cluster_json, "ratio", "0.5");
	SEL(cluster_json, "members[0][*]", "pg1|leader|running|2");
	SEL("[1, false, null, \"x\"]", "[*]", "1|false|x");
	SEL("[[1, 2], [3]]", "[*][0]", "1|3");
	SEL("\"plain\"", "", "plain");
	SEL("\"plain\"", ".", "plain");
	SEL("{\"Lag in MB\": 3}", "Lag in MB", "3");
	SEL("{\"a\": {\"b\": [10, 20]}}", "a.b[1]", "20");
}
END_TEST

START_TEST(jpath_errors)
{
	static const struct {
		const char *path;
		int col;
		const char *msg;
	} bad[] = {
	    {"members[", 8, "unclosed '['"},
	    {"members[]", 9, "empty '[]'"},
	    {"members[x]", 9, "expected an index, '*' or KEY=TEXT in '[...]'"},
	    {"members[+1]", 9, "expected an index, '*' or KEY=TEXT in '[...]'"},
	    {"members[=a]", 9, "'[=...]' needs a key"},
	    {"a..b", 3, "expected a key after '.'"},
	    {"a.", 3, "expected a key after '.'"},
	    {"members[0]name", 11, "expected '.' or '['"},
	    {"a]b", 2, "expected '.' or '['"},
	    {"a=b", 2, "expected '.' or '['"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(bad); i++) {
		char err[256];
		int col = 0;
		ck_assert_msg(jpath_check(bad[i].path, &col, err, sizeof(err)) < 0, "%s accepted",
			      bad[i].path);
		ck_assert_msg(col == bad[i].col, "%s: column %d, want %d", bad[i].path, col,
			      bad[i].col);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL, "%s: '%s'", bad[i].path, err);
	}
	char err[256];
	int col = 0;
	struct sbuf deep;
	sbuf_init(&deep);
	for (int i = 0; i < 40; i++)
		sbuf_adds(&deep, i ? ".k" : "k");
	ck_assert_int_lt(jpath_check(deep.buf, &col, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "more than 32 segments"));
	sbuf_release(&deep);
	ck_assert_int_eq(jpath_check("members[role=leader].name", &col, err, sizeof(err)), 0);
	ck_assert_int_eq(jpath_check("", &col, err, sizeof(err)), 0);
}
END_TEST

static struct fact_def fact(const char *capture, enum fact_reduce r, const char *def)
{
	struct fact_def f;
	memset(&f, 0, sizeof(f));
	f.name = "f";
	f.reduce = r;
	f.def = (char *)def;
	if (capture) {
		f.capture = (char *)capture;
		ck_assert_int_eq(regcomp(&f.capture_re, capture, REG_EXTENDED | REG_NEWLINE), 0);
	}
	return f;
}

static char *xj(struct fact_def *f, const char *path, const char *text)
{
	char err[512];
	char *v = facts_extract_json(f, path, text, 0, err, sizeof(err));
	if (f->capture)
		regfree(&f->capture_re);
	return v ? v : xasprintf("ERR:%s", err);
}

#define XJ(capture, reduce, def, path, text, want)                                                 \
	do {                                                                                       \
		struct fact_def f_ = fact(capture, reduce, def);                                   \
		char *got_ = xj(&f_, path, text);                                                  \
		ck_assert_msg(strncmp(got_, want, strlen(want)) == 0, "%s: got '%s', want '%s'",   \
			      path, got_, want);                                                   \
		free(got_);                                                                        \
	} while (0)

/* A capture that can match the empty string, at the end of the text (read past its NUL before). */
START_TEST(extract_empty_match_at_end)
{
	static const char *const texts[] = {"", "abc", "12 x", "1\n2\n", "x\n"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(texts); i++) {
		char err[256];
		char *t = xstrdup(texts[i]); /* exactly its length: ASan sees any read past it */
		struct fact_def f = fact(i % 2 ? "([0-9]*)$" : "(x*)$", REDUCE_COUNT, NULL);
		char *v = facts_extract(&f, t, 0, err, sizeof(err));
		ck_assert_ptr_nonnull(v);
		free(v);
		regfree(&f.capture_re);
		free(t);
	}
}
END_TEST

START_TEST(extract_json)
{
	XJ("^leader$", REDUCE_COUNT, NULL, "members[*].role", cluster_json, "1");
	XJ("^(running|streaming)$", REDUCE_COUNT, NULL, "members[*].state", cluster_json, "2");
	XJ(NULL, REDUCE_COUNT, NULL, "members[*].name", cluster_json, "3");
	XJ("^[0-9]+$", REDUCE_MAX, "0", "members[*].lag", cluster_json, "0");
	XJ(NULL, REDUCE_FIRST, "none", "members[role=leader].name", cluster_json, "pg1");
	XJ(NULL, REDUCE_LAST, NULL, "members[role=replica].name", cluster_json, "pg3");
	XJ(NULL, REDUCE_FIRST, "none", "scheduled_switchover.at", cluster_json, "none");
	XJ(NULL, REDUCE_FIRST, "false", "pending_restart", "{\"state\": \"running\"}", "false");
	XJ(NULL, REDUCE_FIRST, "false", "pending_restart", "{\"pending_restart\": true}", "true");
	XJ("^([0-9]+)[0-9]{4}$", REDUCE_FIRST, NULL, "server_version",
	   "{\"server_version\": 150020}", "15");
	/* Not JSON: the service is down (curl printed nothing, or an error page). */
	XJ(NULL, REDUCE_FIRST, "down", "state", "", "down");
	XJ(NULL, REDUCE_FIRST, "down", "state", "<html>502</html>", "down");
	XJ("^leader$", REDUCE_COUNT, NULL, "members[*].role", "curl: (7) refused", "0");
	XJ(NULL, REDUCE_FIRST, NULL, "state", "oops", "ERR:output is not JSON");
	XJ(NULL, REDUCE_FIRST, NULL, "missing", "{}", "ERR:no match for json 'missing'");
	XJ(NULL, REDUCE_FIRST, NULL, "a[", "{}", "ERR:unclosed '['");
}
END_TEST

/* ---- loader, binding, planning ---- */

static char dir[64];

static char *write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_jsonfacts.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static const char pb_head[] = "playbook: t\nformat: 1\n"
			      "facts:\n"
			      "  role:\n"
			      "    run: curl -s http://${node}:8008/patroni\n"
			      "    json: role\n"
			      "    default: down\n";

/* Load pb_head + rest; NULL with the first error in first_err. */
static struct playbook *load_pb(const char *rest, char *first_err, size_t len)
{
	char *text = xasprintf("%s%s", pb_head, rest);
	char *p = write_file("pb.yml", text);
	struct diag d;
	diag_init(&d);
	struct playbook *pb = playbook_load(p, &d);
	first_err[0] = '\0';
	if (d.n > 0)
		snprintf(first_err, len, "%d:%d: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	diag_release(&d);
	free(text);
	free(p);
	return pb;
}

static const char roles_phases[] =
    "roles:\n"
    "  leader: {from: members, where: role == 'master', assume: "
    "declared}\n"
    "  replicas: {from: members, where: role == 'replica', select: "
    "all, assume: others}\n"
    "  first: {from: members, where: role == 'replica', select: first, "
    "assume: others}\n"
    "  last: {from: members, where: role == 'replica', select: last, "
    "assume: others}\n"
    "phases:\n"
    "  - id: rolling\n"
    "    on: replicas\n"
    "    steps:\n"
    "      - {id: a, name: 'A on ${node}', why: w, run: 'true'}\n"
    "      - {id: b, name: 'B to ${first}', why: w, run: 'true', on: last}\n";

START_TEST(load_json_facts)
{
	char err[512];
	struct playbook *pb = load_pb(roles_phases, err, sizeof(err));
	ck_assert_msg(pb != NULL, "%s", err);
	const struct fact_def *f = playbook_fact(pb, "role");
	ck_assert_str_eq(f->json, "role");
	ck_assert_ptr_null(f->capture);
	ck_assert_int_eq(playbook_role(pb, "replicas")->select, SELECT_ALL);
	ck_assert_int_eq(playbook_role(pb, "first")->select, SELECT_FIRST);
	ck_assert_int_eq(playbook_role(pb, "last")->select, SELECT_LAST);
	ck_assert_int_eq(playbook_role(pb, "leader")->select, SELECT_ONE);
	playbook_free(pb);

	/* A path with variables is checked once substituted; a literal one at load. */
	pb = load_pb("  two:\n    run: x\n    json: 'members[name=${node}].lag'\n"
		     "phases:\n  - id: p\n    on: members\n    steps:\n"
		     "      - {id: s, name: S, why: w, require: [two == 0]}\n",
		     err, sizeof(err));
	ck_assert_msg(pb != NULL, "%s", err);
	playbook_free(pb);
	pb = load_pb("  two:\n    run: x\n    json: 'members[0]name'\n"
		     "phases:\n  - id: p\n    on: members\n    steps:\n"
		     "      - {id: s, name: S, why: w, require: [two == 0]}\n",
		     err, sizeof(err));
	ck_assert_ptr_null(pb);
	ck_assert_str_eq(err, "10:22: json: expected '.' or '[' at column 11 of 'members[0]name'");
	pb = load_pb("  two:\n    run: x\n"
		     "phases:\n  - id: p\n    on: members\n    steps:\n"
		     "      - {id: s, name: S, why: w, require: [two == 0]}\n",
		     err, sizeof(err));
	ck_assert_ptr_null(pb);
	ck_assert_ptr_nonnull(strstr(err, "capture"));
}
END_TEST

START_TEST(select_all_refused_as_one_host)
{
	char err[512];
	static const char roles[] = "roles:\n"
				    "  replicas: {from: members, where: role == 'replica', select: "
				    "all}\n"
				    "phases:\n  - id: p\n    on: members\n    steps:\n";
	char *t = xasprintf("%s      - {id: s, name: S, why: w, run: 'echo ${replicas}'}\n", roles);
	struct playbook *pb = load_pb(t, err, sizeof(err));
	free(t);
	ck_assert_ptr_null(pb);
	ck_assert_ptr_nonnull(strstr(err, "role 'replicas' stands for several hosts"));
	t = xasprintf("%s      - {id: s, name: S, why: w, require: [replicas.role == 'x']}\n",
		      roles);
	pb = load_pb(t, err, sizeof(err));
	free(t);
	ck_assert_ptr_null(pb);
	ck_assert_ptr_nonnull(strstr(err, "role 'replicas' stands for several hosts"));
	pb = load_pb("roles:\n  r: {from: members, where: role == 'x', select: many}\n"
		     "phases:\n  - id: p\n    on: members\n    steps:\n"
		     "      - {id: s, name: S, why: w, run: 'true'}\n",
		     err, sizeof(err));
	ck_assert_ptr_null(pb);
	ck_assert_ptr_nonnull(strstr(err, "many"));
}
END_TEST

static const char inv_text[] = "inventory: i\nformat: 1\nhosts:\n  pg1:\n  pg2:\n  pg3:\n"
			       "clusters:\n  - name: c\n    members: [pg1, pg2, pg3]\n"
			       "    active: pg2\n";

START_TEST(plan_select_all)
{
	char err[512];
	struct playbook *pb = load_pb(roles_phases, err, sizeof(err));
	ck_assert_msg(pb != NULL, "%s", err);
	char *ip = write_file("inv.yml", inv_text);
	struct diag d;
	diag_init(&d);
	struct inventory *inv = inventory_load(ip, &d);
	ck_assert_ptr_nonnull(inv);
	struct role_binding *roles = NULL;
	int n = 0;
	ck_assert_int_eq(plan_assume_roles(pb, &inv->clusters[0], &roles, &n, err, sizeof(err)), 0);
	/* leader pg2 (declared); replicas pg1,pg3; first pg1; last pg3 */
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(bind_count(roles, n, "replicas"), 2);
	ck_assert_str_eq(bind_host(roles, n, "first"), "pg1");
	ck_assert_str_eq(bind_host(roles, n, "last"), "pg3");
	struct plan *p = plan_compile(pb, inv, &inv->clusters[0], roles, n, err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	char *hosts = plan_role_hosts(p, "replicas");
	ck_assert_str_eq(hosts, "pg1,pg3");
	free(hosts);
	ck_assert_ptr_null(plan_role_hosts(p, "members"));
	/* Host by host: a and b for pg1, then a and b for pg3; b runs on `last`. */
	ck_assert_int_eq(p->nsteps, 4);
	ck_assert_str_eq(p->steps[0].node, "pg1");
	ck_assert_str_eq(p->steps[0].name, "A on pg1");
	ck_assert_str_eq(p->steps[1].node, "pg3");
	ck_assert_str_eq(p->steps[1].name, "B to pg1");
	ck_assert_str_eq(p->steps[2].node, "pg3");
	ck_assert_str_eq(p->steps[2].name, "A on pg3");
	plan_free(p);

	/* A set cut short in a journal is dropped (bound again); a whole one kept. */
	struct role_binding j[] = {{"leader", "pg2", 0, 0},
				   {"replicas", "pg1", 0, 2},
				   {"first", "pg1", 0, 0},
				   {"last", "pg3", 0, 0}};
	int jn = 4;
	ck_assert_int_eq(bind_complete(pb, j, &jn), 0);
	ck_assert_int_eq(jn, 3);
	ck_assert_ptr_null(bind_host(j, jn, "replicas"));
	struct role_binding k[] = {{"leader", "pg2", 0, 0},
				   {"replicas", "pg1", 0, 2},
				   {"replicas", "pg3", 0, 2},
				   {"first", "pg1", 0, 0},
				   {"last", "pg3", 0, 0}};
	int kn = 5;
	ck_assert_int_eq(bind_complete(pb, k, &kn), 1);
	ck_assert_int_eq(kn, 5);
	free(roles);
	inventory_free(inv);
	diag_release(&d);
	free(ip);
	playbook_free(pb);
}
END_TEST

START_TEST(package_kind)
{
	ck_assert(var_kind_check(VK_PACKAGE, NULL, ""));
	ck_assert(var_kind_check(VK_PACKAGE, NULL, "15.10-0+deb12u1"));
	ck_assert(var_kind_check(VK_PACKAGE, NULL, "postgresql-15=1:15.10-0+deb12u1~bpo"));
	ck_assert(!var_kind_check(VK_PACKAGE, NULL, "-o"));
	ck_assert(!var_kind_check(VK_PACKAGE, NULL, "a b"));
	ck_assert(!var_kind_check(VK_PACKAGE, NULL, "a;b"));
	ck_assert(!var_kind_check(VK_PACKAGE, NULL, "a$(x)"));
	/* dn: LDAP distinguished names, nothing a shell or a quote could use */
	ck_assert(var_kind_check(VK_DN, NULL, "CN=Schema,CN=Configuration,DC=contoso,DC=com"));
	ck_assert(
	    var_kind_check(VK_DN, NULL, "CN=First Organization,CN=Microsoft Exchange,DC=a-b,DC=c"));
	ck_assert(var_kind_check(VK_DN, NULL, "ou=x_y.z"));
	ck_assert(!var_kind_check(VK_DN, NULL, ""));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN=a,"));
	ck_assert(!var_kind_check(VK_DN, NULL, ",CN=a"));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN="));
	ck_assert(!var_kind_check(VK_DN, NULL, "=a"));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN=a b "));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN=a\"b"));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN=a;b"));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN=$(x)"));
	ck_assert(!var_kind_check(VK_DN, NULL, "CN=a,DC=b c,1X=d"));
	ck_assert(!var_kind_check(VK_PACKAGE, NULL, "a'"));
	ck_assert_str_eq(var_kind_name(VK_PACKAGE), "package");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("jsonfacts");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, jpath_segments);
	tcase_add_test(tc, jpath_errors);
	tcase_add_test(tc, extract_json);
	tcase_add_test(tc, extract_empty_match_at_end);
	tcase_add_test(tc, load_json_facts);
	tcase_add_test(tc, select_all_refused_as_one_host);
	tcase_add_test(tc, plan_select_all);
	tcase_add_test(tc, package_kind);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
