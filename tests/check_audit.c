/*
 * check_audit.c — the audit log (orchestrator/out/audit.h, docs/audit.md):
 * redaction of secrets from the environment and of password-style
 * arguments, the JSON lines written per event, output truncation, UTF-8
 * repair, file modes, failures that must not stop a run, lines from many
 * threads at once, and closing a cluster's file when its run ends (a later
 * line reopens it; a close racing with writers loses nothing).
 *
 * Every test works in its own temporary directory.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "util.h"

static char tmpdir[256];
static char state[512];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_audit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(state, sizeof(state), "%s/state", tmpdir);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *redacted(const struct redact *r, const char *s)
{
	static char out[4096];
	char *x = redact_apply(r, s);
	snprintf(out, sizeof(out), "%s", x);
	free(x);
	return out;
}

START_TEST(env_secrets_are_redacted)
{
	setenv("CCRUP_KEY_PASSPHRASE", "correct-horse", 1);
	setenv("my_api_token", "tok-12345", 1);
	setenv("DB_PASSWORD", "pw-abc", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "AKIAxyz", 1);
	setenv("HOME_DIR_NAME", "correct", 1); /* not a secret name */
	setenv("SHORT_TOKEN", "ab1", 1);       /* too short to redact */
	struct redact *r = redact_new_from_env();
	ck_assert_str_eq(redacted(r, "ssh-add: correct-horse accepted"),
			 "ssh-add: [REDACTED] accepted");
	ck_assert_str_eq(redacted(r, "curl -H tok-12345 x; db pw-abc; aws AKIAxyz"),
			 "curl -H [REDACTED] x; db [REDACTED]; aws [REDACTED]");
	ck_assert_str_eq(redacted(r, "correct ab1"), "correct ab1");
	ck_assert_str_eq(redacted(r, "twice correct-horse correct-horse"),
			 "twice [REDACTED] [REDACTED]");
	redact_free(r);
}
END_TEST

START_TEST(longest_secret_first)
{
	struct redact *r = redact_new_from_env();
	redact_add(r, "abcd");
	redact_add(r, "abcdefgh");
	redact_add(r, "ab"); /* ignored: too short */
	ck_assert_str_eq(redacted(r, "x abcdefgh y abcd ab"), "x [REDACTED] y [REDACTED] ab");
	redact_free(r);
}
END_TEST

START_TEST(argument_patterns)
{
	struct {
		const char *in, *want;
	} cases[] = {
	    {"tool password=hunter2 next", "tool password=[REDACTED] next"},
	    {"tool --password=hunter2", "tool --password=[REDACTED]"},
	    {"setup.com /password:hunter2 /mode:x", "setup.com /password:[REDACTED] /mode:x"},
	    {"New-Thing -Password hunter2 -Force", "New-Thing -Password [REDACTED] -Force"},
	    {"New-Thing -AccountPassword 'a b c' -Force",
	     "New-Thing -AccountPassword '[REDACTED]' -Force"},
	    {"x -Password (ConvertTo-SecureString \"p w\" -AsPlainText) -Y",
	     "x -Password [REDACTED] -Y"},
	    {"PASSWORD=\"a b\" run", "PASSWORD=\"[REDACTED]\" run"},
	    {"GET /api?token=abc123&page=2", "GET /api?token=[REDACTED]&page=2"},
	    {"mysql --passwd secretish -u root", "mysql --passwd [REDACTED] -u root"},
	    {"api_key:XYZ", "api_key:[REDACTED]"},
	    {"-Password -Force", "-Password -Force"}, /* no value: nothing to hide */
	    {"Enter password: ", "Enter password: "},
	    {"sc query MOM", "sc query MOM"},
	    {"reg query HKLM\\Software /v Key", "reg query HKLM\\Software /v Key"},
	    /* keywords anywhere in a word, in any case, at its very end too */
	    {"x DbPassWord=abc", "x DbPassWord=[REDACTED]"},
	    {"x MYTOKEN:abc y", "x MYTOKEN:[REDACTED] y"},
	    {"x --X-Api-Key v", "x --X-Api-Key [REDACTED]"},
	    {"x apiKEY=v", "x apiKEY=[REDACTED]"},
	    {"x client_Secret=v", "x client_Secret=[REDACTED]"},
	    {"x -Passphrase v", "x -Passphrase [REDACTED]"},
	    {"x Tokens=v", "x Tokens=[REDACTED]"},
	    {"x toke=v apik=v secre=v passw=v", "x toke=v apik=v secre=v passw=v"},
	    {"tokenpassword", "tokenpassword"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++)
		ck_assert_msg(strcmp(redacted(NULL, cases[i].in), cases[i].want) == 0,
			      "'%s' -> '%s', want '%s'", cases[i].in, redacted(NULL, cases[i].in),
			      cases[i].want);
}
END_TEST

START_TEST(utf8_repair)
{
	char *s = audit_utf8_copy("ok \xc3\xa9 bad \xff\xfe end \xe2\x82", 19);
	ck_assert_str_eq(s, "ok \xc3\xa9 bad ?? end ??");
	free(s);
	s = audit_utf8_copy("a\0b", 3);
	ck_assert_str_eq(s, "a?b");
	free(s);
	s = audit_utf8_copy("\xc0\xaf", 2); /* overlong '/' */
	ck_assert_str_eq(s, "??");
	free(s);
}
END_TEST

static json_t **read_lines(const char *cluster, int *n)
{
	char *path = xasprintf("%s/%s/audit.jsonl", state, cluster);
	char *data = NULL, *save = NULL;
	size_t len;
	json_t **v = NULL;
	*n = 0;
	ck_assert_int_eq(read_file(path, 1 << 26, &data, &len), 0);
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		ck_assert_msg(o != NULL, "line %d is not JSON: %s", *n + 1, je.text);
		v = xreallocarray(v, (size_t)*n + 1, sizeof(*v));
		v[(*n)++] = o;
	}
	free(data);
	free(path);
	return v;
}

static void free_lines(json_t **v, int n)
{
	for (int i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static struct event cmd_end(const char *cluster, const char *cmd, const char *out, const char *err)
{
	struct event e = {.kind = EV_CMD_END,
			  .wall_ms = 1795602667412LL,
			  .cluster = cluster,
			  .phase = "passive",
			  .step = "passive.setup",
			  .node = "NODE2",
			  .command = cmd,
			  .text = out,
			  .detail = err,
			  .exit = 3010,
			  .duration_ms = 61234};
	return e;
}

START_TEST(command_lines)
{
	setenv("CCRUP_KEY_PASSPHRASE", "correct-horse", 1);
	struct audit *a = audit_new(state);
	struct event e = cmd_end("CLUS1", "setup.com /m:upgrade /password:hunter2",
				 "passphrase correct-horse ok\n", "warning: reboot needed\n");
	audit_event(&e, a);
	e.kind = EV_CMD_OUTPUT; /* not kept */
	audit_event(&e, a);
	struct event f = {.kind = EV_STEP_FAILED, .cluster = "CLUS1", .text = "verify failed"};
	struct event o1 = {.kind = EV_OUTAGE_START, .cluster = "CLUS1", .step = "cms.stop-cms"};
	struct event o2 = {.kind = EV_OUTAGE_END, .cluster = "CLUS1", .duration_ms = 4200};
	struct event info = {.kind = EV_INFO, .cluster = "CLUS1", .text = "not kept"};
	audit_event(&o1, a);
	audit_event(&info, a);
	audit_event(&o2, a);
	audit_event(&f, a);
	audit_warn(a, "CLUS1", "notification 'hook': run-end not delivered");
	unsigned long lines, errors;
	audit_counts(a, &lines, &errors);
	ck_assert_int_eq(lines, 5);
	ck_assert_int_eq(errors, 0);
	audit_free(a);

	int n;
	json_t **v = read_lines("CLUS1", &n);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(jstr(v[0], "event"), "command");
	ck_assert_str_eq(jstr(v[0], "time"), "2026-11-25T10:31:07.412Z");
	ck_assert_str_eq(jstr(v[0], "cluster"), "CLUS1");
	ck_assert_str_eq(jstr(v[0], "node"), "NODE2");
	ck_assert_str_eq(jstr(v[0], "step"), "passive.setup");
	ck_assert_str_eq(jstr(v[0], "command"), "setup.com /m:upgrade /password:[REDACTED]");
	ck_assert_int_eq(json_integer_value(json_object_get(v[0], "exit")), 3010);
	ck_assert_int_eq(json_integer_value(json_object_get(v[0], "duration_ms")), 61234);
	ck_assert_str_eq(jstr(v[0], "stdout"), "passphrase [REDACTED] ok\n");
	ck_assert_str_eq(jstr(v[0], "stderr"), "warning: reboot needed\n");
	ck_assert(json_is_false(json_object_get(v[0], "stdout_truncated")));
	ck_assert(json_is_false(json_object_get(v[0], "stderr_truncated")));
	ck_assert_str_eq(jstr(v[1], "event"), "outage-start");
	ck_assert_str_eq(jstr(v[1], "step"), "cms.stop-cms");
	ck_assert_str_eq(jstr(v[2], "event"), "outage-end");
	ck_assert_int_eq(json_integer_value(json_object_get(v[2], "duration_ms")), 4200);
	ck_assert_str_eq(jstr(v[3], "event"), "step-failed");
	ck_assert_str_eq(jstr(v[3], "text"), "verify failed");
	ck_assert_str_eq(jstr(v[4], "event"), "warning");
	free_lines(v, n);

	char *path = xasprintf("%s/CLUS1/audit.jsonl", state), *dir = xasprintf("%s/CLUS1", state);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	char *data = NULL;
	size_t len;
	ck_assert_int_eq(read_file(path, 1 << 20, &data, &len), 0);
	ck_assert_ptr_null(strstr(data, "correct-horse"));
	ck_assert_ptr_null(strstr(data, "hunter2"));
	free(data);
	free(path);
	free(dir);
}
END_TEST

START_TEST(appends_to_existing_file)
{
	for (int round = 0; round < 2; round++) {
		struct audit *a = audit_new(state);
		struct event e = cmd_end("CLUS1", "hostname", "NODE2\n", "");
		audit_event(&e, a);
		audit_free(a);
	}
	int n;
	json_t **v = read_lines("CLUS1", &n);
	ck_assert_int_eq(n, 2);
	free_lines(v, n);
}
END_TEST

START_TEST(long_output_is_cut)
{
	struct sbuf big;
	sbuf_init(&big);
	sbuf_adds(&big, "HEAD-MARK\n");
	for (int i = 0; i < 4000; i++)
		sbuf_adds(&big, "0123456789\n");
	sbuf_adds(&big, "error: the last line\n");
	struct audit *a = audit_new(state);
	struct event e = cmd_end("CLUS1", "setup.com", big.buf, "bad \xff byte");
	audit_event(&e, a);
	audit_free(a);
	int n;
	json_t **v = read_lines("CLUS1", &n);
	ck_assert_int_eq(n, 1);
	const char *out = jstr(v[0], "stdout");
	ck_assert(json_is_true(json_object_get(v[0], "stdout_truncated")));
	ck_assert_uint_le(strlen(out), AUDIT_MAX_OUTPUT + 64);
	ck_assert_ptr_nonnull(strstr(out, "HEAD-MARK"));
	ck_assert_ptr_nonnull(strstr(out, "error: the last line"));
	ck_assert_ptr_nonnull(strstr(out, "bytes omitted"));
	ck_assert_str_eq(jstr(v[0], "stderr"), "bad ? byte");
	free_lines(v, n);
	sbuf_release(&big);
}
END_TEST

START_TEST(escaping_in_json)
{
	struct audit *a = audit_new(state);
	struct event e = cmd_end("CLUS1", "echo \"<script>\"\n\ttab", "line1\nline2\r\n", NULL);
	audit_event(&e, a);
	audit_free(a);
	int n;
	json_t **v = read_lines("CLUS1", &n);
	ck_assert_int_eq(n, 1); /* newlines inside values never split a line */
	ck_assert_str_eq(jstr(v[0], "command"), "echo \"<script>\"\n\ttab");
	ck_assert_str_eq(jstr(v[0], "stderr"), "");
	free_lines(v, n);
}
END_TEST

START_TEST(unwritable_state_dir_does_not_fail)
{
	char *file = xasprintf("%s/not-a-dir", tmpdir);
	FILE *fp = fopen(file, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	struct audit *a = audit_new(file);
	struct event e = cmd_end("CLUS1", "hostname", "", "");
	audit_event(&e, a);
	audit_event(&e, a);
	unsigned long lines, errors;
	audit_counts(a, &lines, &errors);
	ck_assert_int_eq(lines, 0);
	ck_assert_int_eq(errors, 1); /* reported once, not per line */
	audit_free(a);
	audit_free(NULL);
	free(file);
}
END_TEST

START_TEST(bad_cluster_names_are_refused)
{
	struct audit *a = audit_new(state);
	struct event e = cmd_end("../escape", "hostname", "", "");
	audit_event(&e, a);
	unsigned long lines, errors;
	audit_counts(a, &lines, &errors);
	ck_assert_int_eq(lines, 0);
	audit_free(a);
	char *p = xasprintf("%s/escape", tmpdir);
	ck_assert_int_ne(access(p, F_OK), 0);
	free(p);
}
END_TEST

#define THREADS	 8
#define PER_THRD 300

static void *hammer(void *arg)
{
	struct audit *a = arg;
	char out[2048];
	memset(out, 'x', sizeof(out) - 1);
	out[sizeof(out) - 1] = '\0';
	for (int i = 0; i < PER_THRD; i++) {
		struct event e = cmd_end(i % 2 ? "CLUS1" : "CLUS2", "hostname", out, "");
		audit_event(&e, a);
	}
	return NULL;
}

START_TEST(many_threads)
{
	struct audit *a = audit_new(state);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, a), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	audit_free(a);
	int n1, n2;
	json_t **v1 = read_lines("CLUS1", &n1), **v2 = read_lines("CLUS2", &n2);
	ck_assert_int_eq(n1, THREADS * PER_THRD / 2);
	ck_assert_int_eq(n2, THREADS * PER_THRD / 2);
	for (int i = 0; i < n1; i++)
		ck_assert_uint_eq(strlen(jstr(v1[i], "stdout")), 2047);
	free_lines(v1, n1);
	free_lines(v2, n2);
}
END_TEST

/* Descriptors open in this process now. */
static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

START_TEST(close_releases_the_file)
{
	struct audit *a = audit_new(state);
	int before = open_fds();
	for (int i = 0; i < 50; i++) {
		char c[16];
		snprintf(c, sizeof(c), "CLUS%d", i);
		struct event e = cmd_end(c, "hostname", "NODE2\n", "");
		audit_event(&e, a);
		audit_close(a, c);
	}
	/* A fleet holds the files of its running clusters only. */
	ck_assert_int_eq(open_fds(), before);
	/* A line after the close (a late warning) opens the file again and appends. */
	audit_warn(a, "CLUS7", "notification 'hook': run-end not delivered");
	ck_assert_int_eq(open_fds(), before + 1);
	audit_close(a, "CLUS7");
	audit_close(a, "CLUS7"); /* twice, or never opened: nothing to do */
	audit_close(a, "NEVER");
	audit_close(a, NULL);
	ck_assert_int_eq(open_fds(), before);
	audit_free(a);
	int n;
	json_t **v = read_lines("CLUS7", &n);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(jstr(v[0], "event"), "command");
	ck_assert_str_eq(jstr(v[1], "event"), "warning");
	free_lines(v, n);
}
END_TEST

static volatile int closing_done;

static void *closer(void *arg)
{
	struct audit *a = arg;
	while (!closing_done) {
		audit_close(a, "CLUS1");
		audit_close(a, "CLUS2");
	}
	return NULL;
}

/* Closes racing with writers: no line is lost or lands elsewhere. */
START_TEST(close_while_writing)
{
	struct audit *a = audit_new(state);
	int before = open_fds();
	pthread_t t[THREADS], c;
	closing_done = 0;
	ck_assert_int_eq(pthread_create(&c, NULL, closer, a), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, a), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	closing_done = 1;
	pthread_join(c, NULL);
	audit_close(a, "CLUS1");
	audit_close(a, "CLUS2");
	ck_assert_int_eq(open_fds(), before);
	unsigned long lines, errors;
	audit_counts(a, &lines, &errors);
	ck_assert_int_eq(lines, THREADS * PER_THRD);
	ck_assert_int_eq(errors, 0);
	audit_free(a);
	int n1, n2;
	json_t **v1 = read_lines("CLUS1", &n1), **v2 = read_lines("CLUS2", &n2);
	ck_assert_int_eq(n1, THREADS * PER_THRD / 2);
	ck_assert_int_eq(n2, THREADS * PER_THRD / 2);
	free_lines(v1, n1);
	free_lines(v2, n2);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *r = tcase_create("redact");
	tcase_add_test(r, env_secrets_are_redacted);
	tcase_add_test(r, longest_secret_first);
	tcase_add_test(r, argument_patterns);
	tcase_add_test(r, utf8_repair);
	suite_add_tcase(s, r);
	TCase *f = tcase_create("file");
	tcase_add_checked_fixture(f, setup, teardown);
	tcase_set_timeout(f, 60);
	tcase_add_test(f, command_lines);
	tcase_add_test(f, appends_to_existing_file);
	tcase_add_test(f, long_output_is_cut);
	tcase_add_test(f, escaping_in_json);
	tcase_add_test(f, unwritable_state_dir_does_not_fail);
	tcase_add_test(f, bad_cluster_names_are_refused);
	tcase_add_test(f, many_threads);
	tcase_add_test(f, close_releases_the_file);
	tcase_add_test(f, close_while_writing);
	suite_add_tcase(s, f);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(audit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
