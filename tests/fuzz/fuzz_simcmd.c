/*
 * fuzz_simcmd.c — libFuzzer target for ccrsim's command interpreter and
 * control inputs (sim.h), driven the way sim_server.c drives them.
 *
 * mock-nodes/scenarios/two-node.yml is loaded (time scale 0: every long
 * action is instant, but timed world events still happen in order) and
 * kept across inputs, so commands act on a world that earlier inputs
 * changed; it is recreated every WORLD_INPUTS inputs to stay bounded.
 *
 * An input is up to MAX_LINES lines.  A line's first byte picks the host
 * (modulo the host count), the rest is the command line given to
 * sim_exec(); the action is then polled to completion with the world clock
 * advanced to each due time, like the server's event loop, and aborted if
 * it hangs.  Three prefixes reach the control interface instead:
 * "!set PATH=VALUE" (sim_world_set), "!fault JSON" (sim_fault_add, JSON
 * parsed by jansson first) and "!clear" (sim_fault_clear).  After every
 * input the world is dumped (sim_world_dump) as the control socket would.
 *
 * Contracts checked: sim_exec() never returns NULL; a finished action
 * stays finished; world time never goes backwards.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WORLD_INPUTS 256    /* inputs before the world is recreated */
#define MAX_LINES    32	    /* lines per input */
#define MAX_POLLS    100000 /* polls per command before it counts as hung */
#define FAULT_MAX    8	    /* faults alive at once */

static struct sim_world *world;
static int world_age;
static int64_t world_now; /* world clock, ms */
static int nfaults;

static void world_reset(void)
{
	char err[512];

	sim_world_free(world);
	world =
	    sim_world_load(FUZZ_SRCDIR "/mock-nodes/scenarios/two-node.yml", 0.0, err, sizeof(err));
	if (world == NULL) {
		fprintf(stderr, "fuzz_simcmd: %s\n", err);
		abort();
	}
	world_age = 0;
	world_now = 0;
	nfaults = 0;
}

static void world_free_at_exit(void)
{
	sim_world_free(world);
	world = NULL;
}

/* Wait for a host that is down (rebooting) to come up, as a client retrying would. */
static void wait_up(int host)
{
	for (int i = 0; i < 64 && sim_host_power(world, host, world_now) == SIM_DOWN; i++) {
		int64_t next = sim_world_next_event(world);
		if (next == INT64_MAX)
			return; /* never comes back: the command runs anyway, harmlessly */
		if (next > world_now)
			world_now = next;
		sim_world_tick(world, world_now);
	}
}

static void run_command(int host, const char *line)
{
	struct sbuf out, err;
	int exit_code = -1, done = 0;

	wait_up(host);
	struct sim_action *a = sim_exec(world, host, line, world_now);
	FUZZ_ASSERT(a != NULL);
	sbuf_init(&out);
	sbuf_init(&err);
	for (int i = 0; i < MAX_POLLS && !done; i++) {
		done = sim_action_poll(a, world_now, &out, &err, &exit_code);
		if (done)
			break;
		int64_t next = sim_action_next_ms(a);
		if (next == INT64_MAX)
			break; /* hang fault */
		FUZZ_ASSERT(next >= 0);
		if (next > world_now)
			world_now = next;
	}
	if (done)
		FUZZ_ASSERT(sim_action_poll(a, world_now, &out, &err, &exit_code) == 1);
	else
		sim_action_abort(a, world_now);
	sim_action_free(a);
	sbuf_release(&out);
	sbuf_release(&err);
	sim_world_tick(world, world_now);
}

static void control(const char *line)
{
	char err[512];

	if (strncmp(line, "!set ", 5) == 0) {
		char *path = xstrdup(line + 5);
		char *eq = strchr(path, '=');
		if (eq) {
			*eq = '\0';
			(void)sim_world_set(world, path, eq + 1, world_now, err, sizeof(err));
		}
		free(path);
	} else if (strncmp(line, "!fault ", 7) == 0 && nfaults < FAULT_MAX) {
		json_t *f = json_loads(line + 7, 0, NULL);
		if (f && sim_fault_add(world, f, err, sizeof(err)) == 0)
			nfaults++;
		json_decref(f);
	} else if (strncmp(line, "!clear", 6) == 0) {
		sim_fault_clear(world, line[6] == ' ' ? line + 7 : NULL);
		if (line[6] != ' ')
			nfaults = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size), *line = s;

	if (world == NULL) {
		world_reset();
		atexit(world_free_at_exit);
	} else if (++world_age >= WORLD_INPUTS) {
		world_reset();
	}
	int nhosts = sim_world_nhosts(world);
	FUZZ_ASSERT(nhosts > 0);
	for (int n = 0; line != NULL && n < MAX_LINES; n++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (line[0] == '!')
			control(line);
		else if (line[0] != '\0')
			run_command((unsigned char)line[0] % nhosts, line + 1);
		line = nl ? nl + 1 : NULL;
	}
	int64_t before = world_now;
	json_t *dump = sim_world_dump(world, world_now);
	FUZZ_ASSERT(dump != NULL && world_now == before);
	json_decref(dump);
	free(s);
	return 0;
}
