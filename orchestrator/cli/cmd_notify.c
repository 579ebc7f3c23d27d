/*
 * cmd_notify.c — `ccrup notify --test INVENTORY`: check the inventory's
 * notification endpoints before a maintenance window by sending each one a
 * test payload and reporting what it answered.
 */
#include "cli.h"
#include "diag.h"
#include "http.h"
#include "notify.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: ccrup notify --test INVENTORY\n"
    "\n"
    "Send one test notification (event \"test\") to every endpoint of the inventory's\n"
    "notify: list, now, once each (no retries), and print what each answered: \"ok\"\n"
    "for a 2xx answer, \"FAILED\" with the HTTP status or the connection error\n"
    "otherwise.  URLs are shown by host only.  Payloads: docs/notifications.md.\n"
    "\n"
    "Exit: 0 every endpoint answered 2xx (or there is none), 1 one or more failed,\n"
    "2 input error.\n";

enum { OPT_TEST = 1000 };

static const struct option notify_long[] = {
    {"test", no_argument, NULL, OPT_TEST},
    {NULL, 0, NULL, 0},
};

static int notify_opt(int c, const char *arg, void *ctx)
{
	(void)arg;
	if (c != OPT_TEST)
		return EXIT_INPUT;
	*(int *)ctx = 1;
	return 0;
}

int cmd_notify(int argc, char **argv)
{
	struct cli_opts o;
	struct diag d;
	int test = 0;
	int rc = cli_parse(argc, argv, usage, notify_long, NULL, notify_opt, &test, &o);
	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	if (!test) {
		cli_error("notify", "nothing to do: add --test (see ccrup notify --help)");
		return EXIT_INPUT;
	}
	diag_init(&d);
	struct inventory *inv = inventory_load(o.inventory, &d);
	if (inv == NULL || d.total > 0) {
		diag_print(&d, stderr);
		diag_release(&d);
		inventory_free(inv);
		return EXIT_INPUT;
	}
	diag_release(&d);
	if (http_global_init() < 0) {
		cli_error("notify", "cannot initialise libcurl");
		inventory_free(inv);
		return EXIT_INPUT;
	}
	rc = notify_test(inv, stdout) ? EXIT_STEP_FAILED : EXIT_DONE;
	http_global_cleanup();
	inventory_free(inv);
	return rc;
}
