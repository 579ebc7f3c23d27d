/*
 * check_httpexpect.c — http_check on JSON bodies:
 *   - the loader: json, value and count read; a bad literal path, a bad
 *     value ERE, value or count without json, a count out of range, each
 *     located at LINE:COL; a path with variables left for the plan;
 *   - httpexpect_json: Patroni's /patroni and /cluster bodies, a value that
 *     does not match, a path that selects nothing, count (exact, and 0),
 *     a body that is not JSON, one cut at the cap, and bodies built to hurt
 *     (nested far deeper than jansson accepts, a 64 KiB array): each fails
 *     with a message, never crashes, in bounded memory.
 */
#include "playbook_test.h"

#include "httpexpect.h"

static const char patroni[] =
    "{\"state\": \"running\", \"role\": \"replica\", \"server_version\": 150010, "
    "\"pending_restart\": true, \"xlog\": {\"received_location\": 50331648}}";
static const char cluster[] =
    "{\"members\": [{\"name\": \"pg1\", \"role\": \"leader\", \"state\": \"running\"}, "
    "{\"name\": \"pg2\", \"role\": \"replica\", \"state\": \"streaming\", \"lag\": 0}, "
    "{\"name\": \"pg3\", \"role\": \"replica\", \"state\": \"starting\", \"lag\": "
    "\"unknown\"}]}";

/* Load one http_check step with these extra keys; its spec. */
static const struct http_check_spec *http(const char *keys)
{
	char *steps = xasprintf("      - id: s\n        name: S\n        http_check:\n"
				"          url: 'http://x:8008/p'\n%s",
				keys);
	ok_base("", steps);
	free(steps);
	return pb->phases[0].steps[0].http;
}

static void bad_http(const char *keys, const char *want)
{
	char *steps = xasprintf("      - id: s\n        name: S\n        http_check:\n"
				"          url: 'http://x:8008/p'\n%s",
				keys);
	bad_step(steps, want);
	free(steps);
}

/* httpexpect_json over text; 1/0, the message in msg. */
static char msg[1024];
static int judge(const struct http_check_spec *h, const char *body)
{
	msg[0] = '\0';
	return httpexpect_json(h, NULL, body, strlen(body), 65536, msg, sizeof(msg));
}

START_TEST(load_keys)
{
	const struct http_check_spec *h =
	    http("          json: 'members[state=streaming]'\n"
		 "          value: '^pg[0-9]$'\n          count: 2\n");
	ck_assert_str_eq(h->json, "members[state=streaming]");
	ck_assert_str_eq(h->value, "^pg[0-9]$");
	ck_assert_int_eq(h->count, 2);
	playbook_free(pb);
	pb = NULL;
	h = http("          json: state\n");
	ck_assert_ptr_null(h->value);
	ck_assert_int_eq(h->count, -1);
	playbook_free(pb);
	pb = NULL;
	h = http("");
	ck_assert_ptr_null(h->json);
	playbook_free(pb);
	pb = NULL;
	/* A path with variables is checked once the plan has substituted it. */
	h = http("          json: 'members[name=${node}].state'\n");
	ck_assert_str_eq(h->json, "members[name=${node}].state");
}
END_TEST

START_TEST(load_errors)
{
	bad_http("          json: 'members[0]name'\n",
		 "26:28: json: expected '.' or '[' at column 11 of 'members[0]name'");
	diag_release(&d);
	bad_http("          json: 'members[role=leader'\n",
		 "26:25: json: unclosed '[' at column 8 of 'members[role=leader'");
	diag_release(&d);
	bad_http("          value: '^running$'\n", "26:11: 'value' needs 'json' in 'http_check'");
	diag_release(&d);
	bad_http("          count: 1\n", "26:11: 'count' needs 'json' in 'http_check'");
	diag_release(&d);
	bad_http("          json: state\n          value: '(running'\n",
		 "27:18: bad regex in 'value': Unmatched ( or \\( ('(running')");
	diag_release(&d);
	bad_http("          json: state\n          count: -1\n",
		 "27:18: 'count': expected an integer 0..1000, got '-1'");
	diag_release(&d);
	bad_http("          json: 'members[name=${nosuch}]'\n",
		 "26:31: undefined variable '${nosuch}'");
}
END_TEST

START_TEST(values)
{
	const struct http_check_spec *h =
	    http("          json: state\n          value: '^running$'\n");
	ck_assert_int_eq(judge(h, patroni), 1);
	ck_assert_int_eq(judge(h, "{\"state\": \"starting\"}"), 0);
	ck_assert_str_eq(msg, "json 'state' is 'starting', want /^running$/");
	ck_assert_int_eq(judge(h, "{\"role\": \"replica\"}"), 0);
	ck_assert_str_eq(msg, "json 'state' selected nothing");
	ck_assert_int_eq(judge(h, "{\"state\": null}"), 0);
	ck_assert_str_eq(msg, "json 'state' selected nothing");
	playbook_free(pb);
	pb = NULL;
	/* Every selected value must match, and the first that does not is named. */
	h = http("          json: 'members[role=replica].state'\n"
		 "          value: '^(running|streaming)$'\n");
	ck_assert_int_eq(judge(h, cluster), 0);
	ck_assert_str_eq(msg, "json 'members[role=replica].state' is 'starting', want "
			      "/^(running|streaming)$/");
	playbook_free(pb);
	pb = NULL;
	/* Without value: at least one value selected; numbers and booleans as text. */
	h = http("          json: 'members[role=leader]'\n");
	ck_assert_int_eq(judge(h, cluster), 1);
	ck_assert_int_eq(judge(h, "{\"members\": []}"), 0);
	ck_assert_str_eq(msg, "json 'members[role=leader]' selected nothing");
	playbook_free(pb);
	pb = NULL;
	h = http("          json: pending_restart\n          value: '^true$'\n");
	ck_assert_int_eq(judge(h, patroni), 1);
	ck_assert_int_eq(judge(h, "{\"pending_restart\": false}"), 0);
	ck_assert_str_eq(msg, "json 'pending_restart' is 'false', want /^true$/");
}
END_TEST

START_TEST(counts)
{
	const struct http_check_spec *h =
	    http("          json: 'members[role=replica]'\n          count: 2\n");
	ck_assert_int_eq(judge(h, cluster), 1);
	ck_assert_int_eq(judge(h, "{\"members\": [{\"role\": \"replica\"}]}"), 0);
	ck_assert_str_eq(msg, "json 'members[role=replica]' selected 1 value, want 2");
	ck_assert_int_eq(judge(h, "{\"members\": []}"), 0);
	ck_assert_str_eq(msg, "json 'members[role=replica]' selected nothing, want 2 values");
	playbook_free(pb);
	pb = NULL;
	/* count with value: the number selected, then each must match. */
	h = http("          json: 'members[role=replica].lag'\n          count: 2\n"
		 "          value: '^0$'\n");
	ck_assert_int_eq(judge(h, cluster), 0);
	ck_assert_str_eq(msg, "json 'members[role=replica].lag' is 'unknown', want /^0$/");
	playbook_free(pb);
	pb = NULL;
	/* count 0: nothing may be selected (no member with a restart pending). */
	h = http("          json: 'members[pending_restart=true]'\n          count: 0\n");
	ck_assert_int_eq(judge(h, cluster), 1);
	ck_assert_int_eq(
	    judge(h, "{\"members\": [{\"name\": \"pg2\", \"pending_restart\": true}]}"), 0);
	ck_assert_str_eq(msg, "json 'members[pending_restart=true]' selected 1 value, want 0");
}
END_TEST

START_TEST(not_json)
{
	const struct http_check_spec *h = http("          json: state\n");
	ck_assert_int_eq(judge(h, "<html>503 Service Unavailable</html>"), 0);
	ck_assert_str_eq(msg, "the body is not JSON (invalid token near '<' at line 1 "
			      "column 1)");
	ck_assert_int_eq(judge(h, ""), 0);
	ck_assert_ptr_nonnull(strstr(msg, "the body is not JSON"));
	/* A body cut at the cap says so. */
	const char cut[] = "{\"state\": \"runn";
	ck_assert_int_eq(httpexpect_json(h, NULL, cut, strlen(cut), strlen(cut), msg, sizeof(msg)),
			 0);
	ck_assert_ptr_nonnull(strstr(msg, "(only its first 15 bytes are read)"));
	/* The substituted path, when given, is the one used and named. */
	ck_assert_int_eq(
	    httpexpect_json(h, "role", patroni, strlen(patroni), 65536, msg, sizeof(msg)), 1);
	ck_assert_int_eq(
	    httpexpect_json(h, "nosuch", patroni, strlen(patroni), 65536, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "json 'nosuch' selected nothing");
}
END_TEST

/* 64 KiB of '[' (beyond jansson's depth limit) and a 64 KiB flat array. */
START_TEST(hostile_bodies)
{
	const struct http_check_spec *h = http("          json: '[*]'\n          value: '^1$'\n");
	size_t n = 65536;
	char *deep = xmalloc(n + 1);
	memset(deep, '[', n);
	deep[n] = '\0';
	ck_assert_int_eq(httpexpect_json(h, NULL, deep, n, 65536, msg, sizeof(msg)), 0);
	ck_assert_ptr_nonnull(strstr(msg, "the body is not JSON (maximum parsing depth"));
	ck_assert_ptr_nonnull(strstr(msg, "(only its first 65536 bytes are read)"));
	/* Balanced but too deep: still refused by the parser, not by a crash. */
	for (size_t i = 0; i < n / 2; i++)
		deep[n / 2 + i] = ']';
	ck_assert_int_eq(httpexpect_json(h, NULL, deep, n, 0, msg, sizeof(msg)), 0);
	ck_assert_ptr_nonnull(strstr(msg, "maximum parsing depth"));
	free(deep);
	/* [1,1,...,1,2]: every element selected, the one that does not match named. */
	struct sbuf b;
	sbuf_init(&b);
	sbuf_adds(&b, "[");
	while (b.len < n - 8)
		sbuf_adds(&b, "1,");
	sbuf_adds(&b, "2]");
	ck_assert_int_eq(httpexpect_json(h, NULL, b.buf, b.len, 65536, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "json '[*]' is '2', want /^1$/");
	sbuf_release(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("httpexpect");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60); /* the hostile bodies take seconds under ASan */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, load_keys);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, values);
	tcase_add_test(tc, counts);
	tcase_add_test(tc, not_json);
	tcase_add_test(tc, hostile_bodies);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
