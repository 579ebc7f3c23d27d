/*
 * check_sim_http.c — ccrsim's HTTP responder (mock-nodes/server/sim_http.c) and the
 * HTTP ports of the scenario loader, without sockets: GET /owa/ follows the
 * CMS (200 Online, 503 otherwise, set through the control path or by
 * Stop-ClusteredMailboxServer), routes (404, 405), strict request syntax
 * (400, 505), incomplete, timed-out and oversized requests (408, 414, 431),
 * the per-host request count of the dump, and http_port (default SSH port +
 * 10000, explicit, refused on a node, collisions, fleets).  The wire is
 * tested by tests/integration/ccrsim_http.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_http.h"
#include "util.h"

#define TWO_NODE "mock-nodes/scenarios/two-node.yml"
#define GET_OWA	 "GET /owa/ HTTP/1.1\r\nHost: 127.0.0.1:32001\r\nUser-Agent: check\r\n\r\n"

static char tmpdir[64];
static struct sim_world *world;
static int hubcas;
static struct sbuf resp;

static void setup(void)
{
	char err[512];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_sim_http.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	world = sim_world_load(TWO_NODE, 0, err, sizeof(err));
	ck_assert_msg(world != NULL, "%s", err);
	hubcas = sim_host_find(world, "HUBCAS");
	ck_assert_int_ge(hubcas, 0);
	sbuf_init(&resp);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	sim_world_free(world);
	sbuf_release(&resp);
}

/* Ask HUBCAS; resp holds the response (emptied first). */
static int ask_end(const char *req, size_t len, enum sim_http_end end)
{
	sbuf_reset(&resp);
	return sim_http_answer(world, hubcas, req, len, end, &resp);
}

static int ask(const char *req)
{
	return ask_end(req, strlen(req), SIM_HTTP_OPEN);
}

static void set(const char *path, const char *value)
{
	char err[256];

	ck_assert_msg(sim_world_set(world, path, value, 0, err, sizeof(err)) == 0, "%s", err);
}

static int64_t dump_int(const char *host, const char *key)
{
	json_t *d = sim_world_dump(world, 0), *hosts = json_object_get(d, "hosts");
	int64_t v = -2;

	for (size_t i = 0; i < json_array_size(hosts); i++) {
		json_t *h = json_array_get(hosts, i);
		if (strcmp(json_string_value(json_object_get(h, "name")), host) == 0)
			v = json_is_null(json_object_get(h, key))
				? -1
				: json_integer_value(json_object_get(h, key));
	}
	json_decref(d);
	return v;
}

/* Run cmd on host to completion at time scale 0. */
static void run(const char *host, const char *cmd)
{
	struct sbuf out, err;
	int code = -1;
	int64_t now = 0;
	struct sim_action *a = sim_exec(world, sim_host_find(world, host), cmd, now);

	sbuf_init(&out);
	sbuf_init(&err);
	for (int i = 0; i < 1000 && !sim_action_poll(a, now, &out, &err, &code); i++)
		if (sim_action_next_ms(a) > now && sim_action_next_ms(a) != INT64_MAX)
			now = sim_action_next_ms(a);
	sim_world_tick(world, now);
	ck_assert_msg(code == 0, "%s: exit %d: %s", cmd, code, err.buf);
	sim_action_free(a);
	sbuf_release(&out);
	sbuf_release(&err);
}

START_TEST(owa_follows_the_cms)
{
	ck_assert_int_eq(ask(GET_OWA), 200);
	ck_assert(str_startswith(resp.buf, "HTTP/1.1 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(resp.buf, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(strstr(resp.buf, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(resp.buf, "<title>Outlook Web Access</title>"));
	ck_assert_ptr_nonnull(strstr(resp.buf, "E2K7CCR (CLUS1) is Online"));
	const char *body = strstr(resp.buf, "\r\n\r\n") + 4;
	char cl[64];
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(body));
	ck_assert_ptr_nonnull(strstr(resp.buf, cl));

	set("CLUS1.cms_state", "Offline");
	ck_assert_int_eq(ask(GET_OWA), 503);
	ck_assert(str_startswith(resp.buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	ck_assert_ptr_nonnull(strstr(resp.buf, "E2K7CCR (CLUS1) is Offline"));
	set("CLUS1.cms_state", "Failed");
	ck_assert_int_eq(ask(GET_OWA), 503);
	ck_assert_ptr_nonnull(strstr(resp.buf, "is Failed"));
	set("CLUS1.cms_state", "Online");
	ck_assert_int_eq(ask(GET_OWA), 200);

	/* The way the playbook takes it down: the cmdlet on the owner. */
	run("NODE1",
	    "Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason test -Confirm:$false");
	ck_assert_int_eq(ask(GET_OWA), 503);
	ck_assert_ptr_nonnull(strstr(resp.buf, "is Offline"));
	run("NODE1", "Start-ClusteredMailboxServer -Identity E2K7CCR");
	ck_assert_int_eq(ask(GET_OWA), 200);
}
END_TEST

START_TEST(routes)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	    {"GET /owa/?ae=Folder&t=IPF.Note HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	    {"GET /OWA/ HTTP/1.1\r\nHost: a\r\n\r\n", 200}, /* IIS paths ignore case */
	    {"GET /owa HTTP/1.1\r\nHost: a\r\n\r\n", 404},
	    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 404},
	    {"GET /owa/auth/logon.aspx HTTP/1.1\r\nHost: a\r\n\r\n", 404},
	    {"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", 404},
	    {"POST /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405},
	    {"HEAD /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", 405},
	    {"get /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", 405}, /* methods are case-sensitive */
	};

	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++) {
		int st = ask(cases[i].req);
		ck_assert_msg(st == cases[i].status, "case %zu: %d, want %d", i, st,
			      cases[i].status);
	}
	ask("POST /owa/ HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert(str_startswith(resp.buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
	ck_assert_ptr_nonnull(strstr(resp.buf, "\r\nAllow: GET\r\n"));
	ask("GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert(str_startswith(resp.buf, "HTTP/1.1 404 Not Found\r\n"));
}
END_TEST

START_TEST(strict_syntax)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	    {"GET /owa/ HTTP/1.0\r\n\r\n", 200}, /* 1.0 needs no Host */
	    {"GET /owa/ HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Tab:\tv \t\r\n\r\n", 200},
	    {"GET /owa/ HTTP/1.1\n\n", 400},	 /* bare LF */
	    {"GET /owa/ HTTP/1.1\r\n\r\n", 400}, /* 1.1 without Host */
	    {"GET /owa/ HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400}, /* folded */
	    {"GET /owa/ HTTP/1.1\r\nHost : a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\nHost a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
	     400},
	    {"GET /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     400},
	    {"GET  /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
	    {"GET owa HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET http://a/owa/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/\r\n\r\n", 400}, /* HTTP/0.9 */
	    {"GET /owa/ http/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/1.10\r\nHost: a\r\n\r\n", 400},
	    {"GET /owa/ HTTP/2.0\r\nHost: a\r\n\r\n", 505},
	    {"GET /owa/ HTTP/1.2\r\nHost: a\r\n\r\n", 505},
	    {"GET /owa/ HTTP/0.9\r\nHost: a\r\n\r\n", 505},
	    {"\r\nGET /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"G(T /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	};

	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++) {
		int st = ask(cases[i].req);
		ck_assert_msg(st == cases[i].status, "case %zu: %d, want %d", i, st,
			      cases[i].status);
		ck_assert(str_startswith(resp.buf, "HTTP/1.1 "));
	}
	/* A NUL anywhere. */
	ck_assert_int_eq(ask_end("GET /owa/ HTTP/1.1\r\nHost: a\0\r\n\r\n", 28, SIM_HTTP_OPEN),
			 400);
}
END_TEST

/* Errors are answered as soon as they show, not after a timeout. */
START_TEST(refused_early)
{
	ck_assert_int_eq(ask_end("\x16\x03\x01\x02\x00\x01", 6, SIM_HTTP_OPEN), 400); /* TLS */
	ck_assert_int_eq(ask("GET /owa/ HTTP/1.1\n"), 400);
	ck_assert_int_eq(ask("GET /owa/ HTTP/1.1\rX"), 400);
	ck_assert_int_eq(ask("GET /owa/ HTTP/3.0\r\n"), 505);
	ck_assert_int_eq(ask("GET x HTTP/1.1\r\nHost"), 400);
	ck_assert_int_eq(ask("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), 400);
}
END_TEST

START_TEST(incomplete_timed_out_and_too_long)
{
	const char *part = "GET /owa/ HTTP/1.1\r\nHost: a\r\n";
	char *big = xmalloc(SIM_HTTP_MAX_HEAD);

	ck_assert_int_eq(ask(""), 0);
	ck_assert_int_eq(ask("GET /ow"), 0);
	ck_assert_int_eq(ask("GET /owa/ HTTP/1.1\r"), 0);
	ck_assert_int_eq(ask(part), 0);
	ck_assert_uint_eq(resp.len, 0);
	ck_assert_int_eq(ask_end(part, strlen(part), SIM_HTTP_EOF), 400);
	ck_assert_int_eq(ask_end(part, strlen(part), SIM_HTTP_TIMEOUT), 408);
	ck_assert(str_startswith(resp.buf, "HTTP/1.1 408 Request Timeout\r\n"));
	ck_assert_int_eq(ask_end("", 0, SIM_HTTP_EOF), -1);
	ck_assert_int_eq(ask_end("", 0, SIM_HTTP_TIMEOUT), -1);
	ck_assert_uint_eq(resp.len, 0);

	/* A request line longer than the whole head may be. */
	memset(big, 'a', SIM_HTTP_MAX_HEAD);
	memcpy(big, "GET /", 5);
	ck_assert_int_eq(ask_end(big, SIM_HTTP_MAX_HEAD - 1, SIM_HTTP_OPEN), 0);
	ck_assert_int_eq(ask_end(big, SIM_HTTP_MAX_HEAD, SIM_HTTP_OPEN), 414);
	/* Headers that do not end within it. */
	const char *head = "GET /owa/ HTTP/1.1\r\nHost: a\r\nX-Big: ";
	memcpy(big, head, strlen(head));
	ck_assert_int_eq(ask_end(big, SIM_HTTP_MAX_HEAD, SIM_HTTP_OPEN), 431);
	ck_assert(str_startswith(resp.buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	/* Exactly the limit, complete: answered. */
	memcpy(big + SIM_HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(ask_end(big, SIM_HTTP_MAX_HEAD, SIM_HTTP_OPEN), 200);
	free(big);
}
END_TEST

START_TEST(requests_counted_per_host)
{
	ck_assert_int_eq(dump_int("HUBCAS", "http_requests"), 0);
	ck_assert_int_eq(dump_int("HUBCAS", "http_port"), 32001);
	ck_assert_int_eq(dump_int("NODE1", "http_port"), -1);
	ck_assert_int_eq(sim_host_http_port(world, sim_host_find(world, "NODE2")), 0);
	ask(GET_OWA);
	ask("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
	ask("junk\n");
	ask("GET /owa/ HTTP/1.1\r\n");	  /* not answered yet: not counted */
	ask_end("", 0, SIM_HTTP_TIMEOUT); /* silent connection: not counted */
	ck_assert_int_eq(dump_int("HUBCAS", "http_requests"), 3);
	ck_assert_int_eq(dump_int("NODE1", "http_requests"), 0);
}
END_TEST

/* ---- the scenario's HTTP ports ---- */

#define HUB_HOSTS                                                                                  \
	"hosts:\n"                                                                                 \
	"  H: {server_version: 8.1.240.6}\n"                                                       \
	"  N1: {binaries_version: 8.0.685.25}\n"                                                   \
	"  N2: {binaries_version: 8.0.685.25}\n"
#define HUB_CLUSTER                                                                                \
	"clusters:\n"                                                                              \
	"  C1:\n"                                                                                  \
	"    cms: CMS1\n"                                                                          \
	"    cms_version: 8.0.685.25\n"                                                            \
	"    cms_owner: N1\n"                                                                      \
	"    members: [N1, N2]\n"                                                                  \
	"    hub_cas: [H]\n"

/* Load text as a scenario (fleet copies if fleet > 0); NULL with err set on failure. */
static struct sim_world *load_text(const char *text, int fleet, char *err, size_t errlen)
{
	char *path = xasprintf("%s/s.yml", tmpdir);
	struct sim_world *w;

	ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0600), 0);
	w = fleet > 0 ? sim_world_fleet(path, fleet, 0, err, errlen)
		      : sim_world_load(path, 0, err, errlen);
	free(path);
	return w;
}

START_TEST(http_port_default_and_explicit)
{
	char err[512];
	struct sim_world *w = load_text(HUB_HOSTS HUB_CLUSTER, 0, err, sizeof(err));

	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(sim_host_port(w, 0), 22001);
	ck_assert_int_eq(sim_host_http_port(w, 0), 32001);
	ck_assert_int_eq(sim_host_http_port(w, 1), 0);
	sim_world_free(w);
	w = load_text("base_port: 12000\n" HUB_HOSTS HUB_CLUSTER, 0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(sim_host_http_port(w, 0), 22000); /* moves with base_port */
	sim_world_free(w);
	w = load_text("hosts:\n  H: {server_version: 8.1.240.6, http_port: 8080}\n"
		      "  N1: {binaries_version: 8.0.685.25}\n"
		      "  N2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER,
		      0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(sim_host_http_port(w, 0), 8080);
	sim_world_free(w);
	/* A fleet keeps the ports and gives every host its own address. */
	w = load_text("hosts:\n  H: {server_version: 8.1.240.6, http_port: 8080}\n"
		      "  N1: {binaries_version: 8.0.685.25}\n"
		      "  N2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER,
		      3, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	int h2 = sim_host_find(w, "H-002");
	ck_assert_int_eq(sim_host_port(w, h2), 22001);
	ck_assert_int_eq(sim_host_http_port(w, h2), 8080);
	ck_assert_str_eq(sim_host_addr(w, h2), "127.0.0.4");
	sim_world_free(w);
}
END_TEST

START_TEST(http_port_refused)
{
	static const char *const cases[][2] = {
	    {"hosts:\n  H: {server_version: 8.1.240.6}\n"
	     "  N1: {binaries_version: 8.0.685.25, http_port: 80}\n"
	     "  N2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER,
	     "3:49: http_port: N1 is a cluster node; only an HT/CAS (hubcas) serves HTTP"},
	    {"hosts:\n  H: {server_version: 8.1.240.6, http_port: 22002}\n"
	     "  N1: {binaries_version: 8.0.685.25}\n"
	     "  N2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER,
	     "2:45: H's HTTP port 127.0.0.1:22002 is already N1's SSH port"},
	    {"hosts:\n  H: {server_version: 8.1.240.6, http_port: 8080}\n"
	     "  H2: {server_version: 8.1.240.6, http_port: 8080}\n"
	     "  N1: {binaries_version: 8.0.685.25}\n"
	     "  N2: {binaries_version: 8.0.685.25}\n"
	     "clusters:\n  C1:\n    cms: CMS1\n    cms_version: 8.0.685.25\n    cms_owner: N1\n"
	     "    members: [N1, N2]\n    hub_cas: [H, H2]\n",
	     "3:46: H2's HTTP port 127.0.0.1:8080 is already H's HTTP port"},
	    {"hosts:\n  H: {server_version: 8.1.240.6, http_port: 70000}\n"
	     "  N1: {binaries_version: 8.0.685.25}\n"
	     "  N2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER,
	     "2:45: http_port: expected an integer in [1, 32767], got \"70000\""},
	    {"hosts:\n  H: {server_version: 8.1.240.6, http_port: 32768}\n"
	     "  N1: {binaries_version: 8.0.685.25}\n"
	     "  N2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER,
	     "2:45: http_port: expected an integer in [1, 32767], got \"32768\""},
	    {"base_port: 22768\n" HUB_HOSTS HUB_CLUSTER,
	     "3:6: H: HTTP port 32768 (SSH port + 10000) is in Linux's ephemeral range (from "
	     "32768); give it an http_port"},
	    {"base_port: 32767\n" HUB_HOSTS HUB_CLUSTER,
	     "4:7: port 32768 (base_port + 1) is in Linux's ephemeral range (from 32768); lower "
	     "base_port or give the host a port"},
	    {"base_port: 40000\n" HUB_HOSTS HUB_CLUSTER,
	     "1:12: base_port: expected an integer in [1024, 32767], got \"40000\""},
	};
	char err[512];

	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++) {
		struct sim_world *w = load_text(cases[i][0], 0, err, sizeof(err));
		ck_assert_msg(w == NULL, "case %zu loaded", i);
		ck_assert_msg(strstr(err, cases[i][1]) != NULL, "case %zu: got \"%s\", want \"%s\"",
			      i, err, cases[i][1]);
	}
}
END_TEST

/* A fleet of 10,002 hosts: no collision, every port below 32768, one address each. */
START_TEST(http_port_fleet_collision)
{
	char err[512];
	struct sim_world *w = load_text(HUB_HOSTS HUB_CLUSTER, 3334, err, sizeof(err));

	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(sim_world_nhosts(w), 10002);
	for (int i = 0; i < sim_world_nhosts(w); i++) {
		ck_assert_int_lt(sim_host_port(w, i), 32768);
		ck_assert_int_lt(sim_host_http_port(w, i), 32768);
	}
	ck_assert_str_eq(sim_host_addr(w, 10001), "127.0.39.96");
	sim_world_free(w);
}
END_TEST

/* A CAS that serves two clusters answers while either CMS is Online. */
START_TEST(cas_of_two_clusters)
{
	char err[512];
	struct sim_world *w =
	    load_text(HUB_HOSTS "  M1: {binaries_version: 8.0.685.25}\n"
				"  M2: {binaries_version: 8.0.685.25}\n" HUB_CLUSTER
				"  C2:\n    cms: CMS2\n    cms_version: 8.0.685.25\n"
				"    cms_owner: M1\n    members: [M1, M2]\n    hub_cas: [H]\n",
		      0, err, sizeof(err));
	struct sbuf why;

	ck_assert_msg(w != NULL, "%s", err);
	sbuf_init(&why);
	ck_assert_int_eq(sim_cas_owa_online(w, 0, &why), 1);
	ck_assert_str_eq(why.buf, "CMS1 (C1) is Online; CMS2 (C2) is Online");
	ck_assert_int_eq(sim_world_set(w, "C1.cms_state", "Offline", 0, err, sizeof(err)), 0);
	sbuf_reset(&why);
	ck_assert_int_eq(sim_cas_owa_online(w, 0, &why), 1);
	ck_assert_int_eq(sim_world_set(w, "C2.cms_state", "Failed", 0, err, sizeof(err)), 0);
	sbuf_reset(&why);
	ck_assert_int_eq(sim_cas_owa_online(w, 0, &why), 0);
	ck_assert_str_eq(why.buf, "CMS1 (C1) is Offline; CMS2 (C2) is Failed");
	sbuf_release(&why);
	sim_world_free(w);
}
END_TEST

static Suite *sim_http_suite(void)
{
	Suite *s = suite_create("sim_http");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300); /* the 10,002-host fleet takes ~55 s under ASan */
	tcase_add_test(tc, owa_follows_the_cms);
	tcase_add_test(tc, routes);
	tcase_add_test(tc, strict_syntax);
	tcase_add_test(tc, refused_early);
	tcase_add_test(tc, incomplete_timed_out_and_too_long);
	tcase_add_test(tc, requests_counted_per_host);
	tcase_add_test(tc, http_port_default_and_explicit);
	tcase_add_test(tc, http_port_refused);
	tcase_add_test(tc, http_port_fleet_collision);
	tcase_add_test(tc, cas_of_two_clusters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_http_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
