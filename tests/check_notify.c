/*
 * check_notify.c — notifications (orchestrator/out/notify.h,
 * docs/notifications.md): the three payload kinds, event filtering,
 * delivery from background threads, and endpoints that fail in every way
 * a network can (refused, 500, never answering, timing out) without
 * holding up the caller.
 *
 * The HTTP endpoint is the in-process listener of tests/httpsink.h on
 * 127.0.0.1, which records every request.  Assertions are about order,
 * never about wall-clock thresholds: "emit returned while the listener had
 * not answered" is checked by making the listener wait for the test's
 * permission to answer (or sleep 10 s).
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "notify.h"
#include "util.h"

#include "httpsink.h"

struct inv_builder {
	struct inventory inv;
	struct notify_def defs[4];
};

static void add_endpoint(struct inv_builder *b, const char *name, enum notify_kind kind, char *url,
			 char **events, int nevents, int64_t timeout_ms, int retries)
{
	struct notify_def *d = &b->defs[b->inv.nnotify++];
	d->name = (char *)name;
	d->kind = kind;
	d->url = url;
	d->events = events;
	d->nevents = nevents;
	d->timeout_ms = timeout_ms;
	d->retries = retries;
	b->inv.notify = b->defs;
}

static const struct notify_opts fast = {.queue_cap = 16, .backoff_ms = 5, .backoff_max_ms = 20};

static struct event ev(enum ev_kind k)
{
	struct event e = {.kind = k,
			  .wall_ms = 1795602667412LL,
			  .cluster = "CLUS1",
			  .phase = "cms",
			  .step = "cms.stop-cms",
			  .node = "NODE2",
			  .text = "done",
			  .exit = -1};
	if (k == EV_OUTAGE_END)
		e.duration_ms = 252000;
	return e;
}

static json_t *parse(const char *s)
{
	json_error_t je;
	json_t *o = json_loads(s, 0, &je);
	ck_assert_msg(o != NULL, "not JSON (%s): %s", je.text, s);
	return o;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void setup(void)
{
	ck_assert_int_eq(http_global_init(), 0);
}

START_TEST(payload_webhook)
{
	struct event e = ev(EV_OUTAGE_END);
	char *body = notify_payload(NOTIFY_WEBHOOK, &e);
	json_t *o = parse(body);
	const char *keys[] = {"event", "cluster", "phase", "step",
			      "node",  "text",	  "time",  "outage_ms"};
	ck_assert_int_eq(json_object_size(o), CCR_ARRAY_LEN(keys));
	for (size_t i = 0; i < CCR_ARRAY_LEN(keys); i++)
		ck_assert_msg(json_object_get(o, keys[i]) != NULL, "missing %s", keys[i]);
	ck_assert_str_eq(jstr(o, "event"), "outage-end");
	ck_assert_str_eq(jstr(o, "cluster"), "CLUS1");
	ck_assert_str_eq(jstr(o, "step"), "cms.stop-cms");
	ck_assert_str_eq(jstr(o, "node"), "NODE2");
	ck_assert_str_eq(jstr(o, "time"), "2026-11-25T10:31:07.412Z");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "outage_ms")), 252000);
	ck_assert_ptr_nonnull(strstr(jstr(o, "text"), "outage ended after 4m"));
	json_decref(o);
	free(body);

	e = ev(EV_RUN_START);
	e.step = e.node = e.phase = NULL;
	body = notify_payload(NOTIFY_WEBHOOK, &e);
	o = parse(body);
	ck_assert(json_is_null(json_object_get(o, "step")));
	ck_assert(json_is_null(json_object_get(o, "outage_ms")));
	json_decref(o);
	free(body);
}
END_TEST

START_TEST(payload_slack_escapes)
{
	struct event e = ev(EV_STEP_FAILED);
	e.text = "setup.com exited 1: <b>bad</b> & worse";
	char *body = notify_payload(NOTIFY_SLACK, &e);
	json_t *o = parse(body);
	ck_assert_int_eq(json_object_size(o), 1);
	const char *t = jstr(o, "text");
	ck_assert_ptr_nonnull(strstr(t, "CLUS1"));
	ck_assert_ptr_nonnull(strstr(t, "&lt;b&gt;bad&lt;/b&gt; &amp; worse"));
	ck_assert_ptr_null(strchr(t, '<'));
	json_decref(o);
	free(body);
}
END_TEST

START_TEST(payload_teams)
{
	struct event e = ev(EV_OUTAGE_START);
	char *body = notify_payload(NOTIFY_TEAMS, &e);
	json_t *o = parse(body);
	ck_assert_str_eq(jstr(o, "@type"), "MessageCard");
	ck_assert_str_eq(jstr(o, "@context"), "https://schema.org/extensions");
	ck_assert_ptr_nonnull(strstr(jstr(o, "summary"), "outage started"));
	ck_assert_ptr_nonnull(strstr(jstr(o, "title"), "CLUS1"));
	ck_assert_ptr_nonnull(strstr(jstr(o, "text"), "NODE2"));
	ck_assert_str_eq(jstr(o, "themeColor"), "D7000C");
	json_decref(o);
	free(body);
}
END_TEST

START_TEST(outage_start_says_service_length_impact)
{
	struct event e = ev(EV_OUTAGE_START);
	e.detail = "Exchange mailbox service";
	e.text = "users cannot open their mailboxes";
	e.budget_ms = 600000;
	for (int k = NOTIFY_WEBHOOK; k <= NOTIFY_TEAMS; k++) {
		char *body = notify_payload((enum notify_kind)k, &e);
		json_t *o = parse(body);
		const char *t = jstr(o, "text");
		ck_assert_ptr_nonnull(strstr(t,
					     "service outage started: Exchange mailbox service is "
					     "down, about 10m by the plan's estimate: users cannot "
					     "open their mailboxes (step cms.stop-cms on NODE2)"));
		json_decref(o);
		free(body);
	}
	/* Without a playbook service: still says what users lose, in general words. */
	e.detail = NULL;
	e.text = NULL;
	e.budget_ms = 0;
	char *body = notify_payload(NOTIFY_WEBHOOK, &e);
	ck_assert_ptr_nonnull(strstr(body, "the service is down: users cannot use the service"));
	free(body);
}
END_TEST

START_TEST(failed_run_is_no_finish_flag)
{
	static const char *const res[] = {"failed", "refused", "interrupted", "done"};
	for (size_t i = 0; i < CCR_ARRAY_LEN(res); i++) {
		struct event e = ev(EV_RUN_END);
		e.step = e.node = e.phase = NULL;
		e.text = res[i];
		char *body = notify_payload(NOTIFY_SLACK, &e);
		int done = strcmp(res[i], "done") == 0;
		ck_assert_msg((strstr(body, ":checkered_flag:") != NULL) == done, "%s: %s", res[i],
			      body);
		if (!done)
			ck_assert_ptr_nonnull(strstr(body, "ccrup resume"));
		free(body);
		body = notify_payload(NOTIFY_TEAMS, &e);
		json_t *o = parse(body);
		ck_assert_str_eq(jstr(o, "themeColor"), done ? "2EB886" : "D7000C");
		if (!done)
			ck_assert_ptr_nonnull(strstr(jstr(o, "title"), "RUN "));
		json_decref(o);
		free(body);
	}
}
END_TEST

START_TEST(payload_redacts_secrets)
{
	setenv("CCRUP_KEY_PASSPHRASE", "hunter2-correct-horse", 1);
	struct event e = ev(EV_STEP_FAILED);
	e.text = "ssh-add said hunter2-correct-horse; tool -Password s3cr3tP4ss failed";
	for (int k = NOTIFY_WEBHOOK; k <= NOTIFY_TEAMS; k++) {
		char *body = notify_payload((enum notify_kind)k, &e);
		ck_assert_ptr_null(strstr(body, "hunter2"));
		ck_assert_ptr_null(strstr(body, "s3cr3tP4ss"));
		ck_assert_ptr_nonnull(strstr(body, "[REDACTED]"));
		free(body);
	}
}
END_TEST

START_TEST(not_notified_kinds)
{
	struct event e = ev(EV_CMD_END);
	ck_assert_ptr_null(notify_event_name(EV_CMD_END));
	ck_assert_ptr_null(notify_payload(NOTIFY_WEBHOOK, &e));
	ck_assert_str_eq(notify_event_name(EV_PHASE_START), "phase-start");
}
END_TEST

START_TEST(delivers_each_kind)
{
	struct listener *l = listener_start(200, 0, 0);
	struct inv_builder b = {0};
	char *u1 = url_of(l, "/hook"), *u2 = url_of(l, "/slack"), *u3 = url_of(l, "/teams");
	add_endpoint(&b, "hook", NOTIFY_WEBHOOK, u1, NULL, 0, 5000, 0);
	add_endpoint(&b, "chat", NOTIFY_SLACK, u2, NULL, 0, 5000, 0);
	add_endpoint(&b, "teams", NOTIFY_TEAMS, u3, NULL, 0, 5000, 0);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	static const enum ev_kind kinds[] = {EV_RUN_START,    EV_PHASE_START, EV_CMD_END,
					     EV_OUTAGE_START, EV_OUTAGE_END,  EV_STEP_FAILED,
					     EV_RUN_END};
	for (size_t i = 0; i < CCR_ARRAY_LEN(kinds); i++) {
		struct event e = ev(kinds[i]);
		notify_event(&e, n);
	}
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.sent, 18);
	ck_assert_int_eq(st.failed, 0);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(wait_requests(l, 18), 18);
	int hooks = 0, slacks = 0, teams = 0;
	for (int i = 0; i < 18; i++) {
		json_t *o = parse(l->body[i]);
		ck_assert_str_eq(l->ctype[i], "application/json");
		if (strcmp(l->path[i], "/hook") == 0) {
			ck_assert_ptr_nonnull(jstr(o, "event"));
			ck_assert_ptr_nonnull(json_object_get(o, "outage_ms"));
			hooks++;
		} else if (strcmp(l->path[i], "/slack") == 0) {
			ck_assert_ptr_nonnull(jstr(o, "text"));
			slacks++;
		} else {
			ck_assert_str_eq(jstr(o, "@type"), "MessageCard");
			teams++;
		}
		json_decref(o);
	}
	ck_assert_int_eq(hooks, 6);
	ck_assert_int_eq(slacks, 6);
	ck_assert_int_eq(teams, 6);
	notify_free(n);
	free(u1);
	free(u2);
	free(u3);
}
END_TEST

START_TEST(filters_events)
{
	struct listener *l = listener_start(200, 0, 0);
	struct inv_builder b = {0};
	char *evs[] = {"outage-start", "outage-end"};
	char *u = url_of(l, "/only-outage");
	add_endpoint(&b, "outage-only", NOTIFY_WEBHOOK, u, evs, 2, 5000, 0);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	static const enum ev_kind kinds[] = {EV_RUN_START, EV_PHASE_START, EV_OUTAGE_START,
					     EV_STEP_DONE, EV_OUTAGE_END,  EV_STEP_FAILED,
					     EV_RUN_END};
	for (size_t i = 0; i < CCR_ARRAY_LEN(kinds); i++) {
		struct event e = ev(kinds[i]);
		notify_event(&e, n);
	}
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	ck_assert_int_eq(l->nreq, 2);
	json_t *a = parse(l->body[0]), *z = parse(l->body[1]);
	ck_assert_str_eq(jstr(a, "event"), "outage-start");
	ck_assert_str_eq(jstr(z, "event"), "outage-end");
	json_decref(a);
	json_decref(z);
	notify_free(n);
	free(u);
}
END_TEST

struct warned {
	int n;
	char last[512];
	char cluster[64];
};

static void on_warn(void *arg, const char *cluster, const char *msg)
{
	struct warned *w = arg;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
	snprintf(w->cluster, sizeof(w->cluster), "%s", cluster ? cluster : "");
}

START_TEST(refused_endpoint_fails_quietly)
{
	struct inv_builder b = {0};
	struct warned w = {0};
	char *u = xasprintf("http://127.0.0.1:%d/x", dead_port());
	add_endpoint(&b, "down", NOTIFY_WEBHOOK, u, NULL, 0, 5000, 2);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	notify_set_warn(n, on_warn, &w);
	struct event e = ev(EV_OUTAGE_START);
	notify_event(&e, n);
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.sent, 0);
	ck_assert_int_eq(st.failed, 1);
	ck_assert_int_eq(w.n, 1);
	ck_assert_ptr_nonnull(strstr(w.last, "'down'"));
	ck_assert_ptr_nonnull(strstr(w.last, "outage-start not delivered"));
	ck_assert_str_eq(w.cluster, "CLUS1");
	notify_free(n);
	free(u);
}
END_TEST

START_TEST(status_500_is_retried_then_fails)
{
	struct listener *l = listener_start(500, 0, 0);
	struct inv_builder b = {0};
	char *u = url_of(l, "/broken");
	add_endpoint(&b, "broken", NOTIFY_SLACK, u, NULL, 0, 5000, 2);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	struct event e = ev(EV_RUN_END);
	notify_event(&e, n);
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	ck_assert_int_eq(l->nreq, 3); /* first try + 2 retries */
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.failed, 1);
	ck_assert_int_eq(st.sent, 0);
	notify_free(n);
	free(u);
}
END_TEST

START_TEST(status_404_is_not_retried)
{
	struct listener *l = listener_start(404, 0, 0);
	struct inv_builder b = {0};
	char *u = url_of(l, "/gone");
	add_endpoint(&b, "gone", NOTIFY_TEAMS, u, NULL, 0, 5000, 3);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	struct event e = ev(EV_RUN_END);
	notify_event(&e, n);
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	ck_assert_int_eq(l->nreq, 1);
	notify_free(n);
	free(u);
}
END_TEST

START_TEST(retry_succeeds_after_500)
{
	struct listener *l = listener_start(500, 0, 1);
	struct inv_builder b = {0};
	char *u = url_of(l, "/flaky");
	add_endpoint(&b, "flaky", NOTIFY_WEBHOOK, u, NULL, 0, 5000, 1);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	struct event e = ev(EV_RUN_START);
	notify_event(&e, n);
	ck_assert_int_eq(wait_requests(l, 1), 1);
	pthread_mutex_lock(&l->mu); /* answer 500 once, then 200 */
	l->hold = 0;
	pthread_cond_broadcast(&l->cv);
	while (l->answered < 1)
		pthread_cond_wait(&l->cv, &l->mu);
	l->status = 200;
	pthread_mutex_unlock(&l->mu);
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.sent, 1);
	ck_assert_int_eq(st.failed, 0);
	ck_assert_int_eq(l->nreq, 2);
	notify_free(n);
	free(u);
}
END_TEST

/*
 * The listener accepts, reads the request and then sleeps 10 s.  emit must
 * return while the listener has not answered; a flush with 500 ms returns,
 * again before the listener answered, and counts the event as failed.
 */
START_TEST(hanging_endpoint_never_blocks)
{
	struct listener *l = listener_start(200, 10000, 0);
	struct inv_builder b = {0};
	char *u = url_of(l, "/slow");
	add_endpoint(&b, "slow", NOTIFY_WEBHOOK, u, NULL, 0, 60000, 0);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	struct event e = ev(EV_OUTAGE_START);
	notify_event(&e, n);
	ck_assert_int_eq(l->answered, 0);
	ck_assert_int_eq(wait_requests(l, 1), 1); /* the request is in flight */
	notify_event(&e, n);			  /* queued behind it: still immediate */
	ck_assert_int_eq(l->answered, 0);
	ck_assert_int_eq(notify_flush(n, 500), 2);
	ck_assert_int_eq(l->answered, 0);
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.failed, 2);
	ck_assert_int_eq(st.sent, 0);
	ck_assert_int_eq(st.pending, 0);
	notify_free(n); /* does not wait out the listener either */
	ck_assert_int_eq(l->answered, 0);
	free(u);
}
END_TEST

START_TEST(timeout_counts_as_failure)
{
	struct listener *l = listener_start(200, 10000, 0);
	struct inv_builder b = {0};
	struct warned w = {0};
	char *u = url_of(l, "/slow");
	add_endpoint(&b, "slow", NOTIFY_WEBHOOK, u, NULL, 0, 200, 0);
	struct notify *n = notify_new_opts(&b.inv, &fast);
	notify_set_warn(n, on_warn, &w);
	struct event e = ev(EV_RUN_END);
	notify_event(&e, n);
	ck_assert_int_eq(notify_flush(n, 20000), 0); /* curl's timeout ends it first */
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.failed, 1);
	ck_assert_ptr_nonnull(strcasestr(w.last, "timed out"));
	notify_free(n);
	free(u);
}
END_TEST

START_TEST(full_queue_drops_oldest)
{
	struct listener *l = listener_start(200, 0, 1);
	struct inv_builder b = {0};
	struct warned w = {0};
	struct notify_opts small = fast;
	char *u = url_of(l, "/q");
	small.queue_cap = 2;
	add_endpoint(&b, "q", NOTIFY_WEBHOOK, u, NULL, 0, 20000, 0);
	struct notify *n = notify_new_opts(&b.inv, &small);
	notify_set_warn(n, on_warn, &w);
	struct event e = ev(EV_PHASE_START);
	const char *phases[] = {"p1", "p2", "p3", "p4", "p5", "p6"};
	e.phase = phases[0];
	notify_event(&e, n);
	ck_assert_int_eq(wait_requests(l, 1), 1); /* p1 in flight, held */
	for (int i = 1; i < 6; i++) {
		e.phase = phases[i];
		notify_event(&e, n);
	}
	struct notify_stats st;
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.dropped, 3); /* p2, p3, p4 pushed out by p5, p6 */
	ck_assert_int_eq(st.pending, 3);
	ck_assert_ptr_nonnull(strstr(w.last, "queue full"));
	listener_release(l);
	ck_assert_int_eq(notify_flush(n, 20000), 0);
	notify_get_stats(n, &st);
	ck_assert_int_eq(st.sent, 3);
	ck_assert_int_eq(l->nreq, 3);
	const char *want[] = {"p1", "p5", "p6"};
	for (int i = 0; i < 3; i++) {
		json_t *o = parse(l->body[i]);
		ck_assert_str_eq(jstr(o, "phase"), want[i]);
		json_decref(o);
	}
	notify_free(n);
	free(u);
}
END_TEST

START_TEST(no_endpoints_is_a_noop)
{
	struct inventory inv;
	memset(&inv, 0, sizeof(inv));
	struct notify *n = notify_new(&inv);
	struct event e = ev(EV_RUN_START);
	notify_event(&e, n);
	ck_assert_int_eq(notify_flush(n, 10), 0);
	notify_free(n);
	notify_free(NULL);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *p = tcase_create("payloads");
	tcase_add_test(p, payload_webhook);
	tcase_add_test(p, payload_slack_escapes);
	tcase_add_test(p, payload_teams);
	tcase_add_test(p, outage_start_says_service_length_impact);
	tcase_add_test(p, failed_run_is_no_finish_flag);
	tcase_add_test(p, payload_redacts_secrets);
	tcase_add_test(p, not_notified_kinds);
	suite_add_tcase(s, p);
	TCase *d = tcase_create("delivery");
	tcase_add_checked_fixture(d, setup, NULL);
	tcase_set_timeout(d, 60);
	tcase_add_test(d, delivers_each_kind);
	tcase_add_test(d, filters_events);
	tcase_add_test(d, refused_endpoint_fails_quietly);
	tcase_add_test(d, status_500_is_retried_then_fails);
	tcase_add_test(d, status_404_is_not_retried);
	tcase_add_test(d, retry_succeeds_after_500);
	tcase_add_test(d, hanging_endpoint_never_blocks);
	tcase_add_test(d, timeout_counts_as_failure);
	tcase_add_test(d, full_queue_drops_oldest);
	tcase_add_test(d, no_endpoints_is_a_noop);
	suite_add_tcase(s, d);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
