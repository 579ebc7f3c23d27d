/*
 * fuzz_simhttp.c — libFuzzer target for ccrsim's HTTP responder
 * (mock-nodes/server/sim_http.c), driven the way sim_http_conn.c drives it.
 *
 * mock-nodes/scenarios/two-node.yml is loaded once (HUBCAS serves HTTP).
 * An input's first byte sets the read size (1-64 bytes, so requests arrive
 * split at every possible point) and, in its top bit, whether the CMS is
 * Online; the second picks how the input ends (EOF or timeout).  The rest
 * is fed in reads of that size into a SIM_HTTP_MAX_HEAD buffer, the
 * responder asked after each read, until it answers or the input ends.
 *
 * Contracts checked: 0 ("more") appends nothing and never happens once
 * the buffer is full or the input has ended with bytes in it; -1 (close
 * silently) only for an empty request; any other result is a status
 * 100-599 whose response starts "HTTP/1.1 <status> ", ends its headers
 * with CRLF CRLF, says Connection: close, and carries a Content-Length
 * equal to the body's length; each answer is counted once.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "sim_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sim_world *world;
static int hubcas;

static void world_free_at_exit(void)
{
	sim_world_free(world);
	world = NULL;
}

static int64_t requests(void)
{
	json_t *d = sim_world_dump(world, 0);
	json_t *h = json_array_get(json_object_get(d, "hosts"), (size_t)hubcas);
	int64_t n = json_integer_value(json_object_get(h, "http_requests"));

	json_decref(d);
	return n;
}

static void check_response(const struct sbuf *resp, int status)
{
	char want[32];
	const char *end, *cl;

	FUZZ_ASSERT(status >= 100 && status <= 599);
	snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
	FUZZ_ASSERT(resp->len > strlen(want) && memcmp(resp->buf, want, strlen(want)) == 0);
	end = strstr(resp->buf, "\r\n\r\n");
	FUZZ_ASSERT(end != NULL);
	FUZZ_ASSERT(strstr(resp->buf, "\r\nConnection: close\r\n") < end);
	cl = strstr(resp->buf, "\r\nContent-Length: ");
	FUZZ_ASSERT(cl != NULL && cl < end);
	FUZZ_ASSERT(strtoul(cl + 18, NULL, 10) == resp->len - (size_t)(end + 4 - resp->buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[SIM_HTTP_MAX_HEAD];
	char err[512];
	struct sbuf resp;
	size_t chunk, len = 0, off = 2;
	enum sim_http_end last;
	int st = 0;

	if (world == NULL) {
		world = sim_world_load(FUZZ_SRCDIR "/mock-nodes/scenarios/two-node.yml", 0.0, err,
				       sizeof(err));
		if (world == NULL) {
			fprintf(stderr, "fuzz_simhttp: %s\n", err);
			abort();
		}
		hubcas = sim_host_find(world, "HUBCAS");
		atexit(world_free_at_exit);
	}
	if (size < 2)
		return 0;
	chunk = (size_t)(data[0] & 0x3f) + 1;
	last = data[1] & 1 ? SIM_HTTP_TIMEOUT : SIM_HTTP_EOF;
	(void)sim_world_set(world, "CLUS1.cms_state", data[0] & 0x80 ? "Online" : "Offline", 0, err,
			    sizeof(err));
	int64_t before = requests();
	sbuf_init(&resp);
	while (st == 0 && off < size && len < sizeof(buf)) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (n > sizeof(buf) - len)
			n = sizeof(buf) - len;
		memcpy(buf + len, data + off, n);
		len += n;
		off += n;
		st = sim_http_answer(world, hubcas, buf, len, SIM_HTTP_OPEN, &resp);
		FUZZ_ASSERT(st != -1);
		FUZZ_ASSERT(st != 0 || (resp.len == 0 && len < sizeof(buf)));
	}
	if (st == 0) {
		st = sim_http_answer(world, hubcas, buf, len, last, &resp);
		FUZZ_ASSERT(st != 0);
		FUZZ_ASSERT((st == -1) == (len == 0));
	}
	if (st > 0) {
		check_response(&resp, st);
		FUZZ_ASSERT(requests() == before + 1);
	}
	sbuf_release(&resp);
	return 0;
}
