/*
 * cmd_plan.c — `ccrup plan INVENTORY [-p PLAYBOOK] [-o text|json]`: the
 * dry run.  Offline, roles are assumed from the inventory's declared
 * active node and marked so.
 */
#include "cli.h"
#include "plan.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: ccrup plan INVENTORY [-p PLAYBOOK] [-o text|json] [--clusters PATTERN]\n"
    "                  [--width N]\n"
    "\n"
    "Show every step of the upgrade in order: phase, role and node, the exact\n"
    "command after substitution, its check / require / verify, reboots, gates,\n"
    "notifications, the outage window, the point of no return and estimated\n"
    "durations.  Nothing is contacted: roles are assumed from the inventory's\n"
    "declared active node.\n"
    "\n"
    "  -p, --playbook FILE   playbook (default: playbooks/ccr-sp1.yml)\n"
    "  -o, --output FORMAT   text (default) or json (format ccrup-plan/1)\n"
    "  --clusters PATTERN    only clusters whose name matches (shell pattern)\n"
    "  --width N             wrap text at N columns (default 100)\n"
    "\n"
    "Exit: 0 ok, 2 input errors.\n";

struct plan_args {
	int width;
};

static const struct option plan_long[] = {
    {"width", required_argument, NULL, 'W'},
    {NULL, 0, NULL, 0},
};

static int plan_opt(int c, const char *arg, void *ctx)
{
	struct plan_args *a = ctx;
	int64_t w;
	if (c == 'W' && parse_int64(arg, 40, 1000, &w) == 0) {
		a->width = (int)w;
		return 0;
	}
	cli_error("plan", "--width takes a number from 40 to 1000, not '%s'", arg);
	return EXIT_INPUT;
}

static int compile_all(const struct cli_files *f, struct plan **plans)
{
	char err[1024];
	for (int i = 0; i < f->nclusters; i++) {
		struct role_binding *roles = NULL;
		int nroles = 0;
		if (plan_assume_roles(f->pb, f->clusters[i], &roles, &nroles, err, sizeof(err)) <
		    0) {
			fprintf(stderr, "ccrup plan: %s\n", err);
			return EXIT_INPUT;
		}
		plans[i] =
		    plan_compile(f->pb, f->inv, f->clusters[i], roles, nroles, err, sizeof(err));
		free(roles);
		if (plans[i] == NULL) {
			fprintf(stderr, "ccrup plan: %s\n", err);
			return EXIT_INPUT;
		}
	}
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f;
	struct plan_args a = {100};
	struct plan **plans = NULL;
	int rc = cli_parse(argc, argv, usage, plan_long, "", plan_opt, &a, &o);

	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	rc = cli_load(&o, &f);
	if (rc)
		goto out;
	plans = xcalloc((size_t)f.nclusters, sizeof(*plans));
	rc = compile_all(&f, plans);
	if (rc)
		goto out;
	if (strcmp(o.output, "json") == 0) {
		json_t *j = plan_to_json((const struct plan *const *)plans, f.nclusters);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		plan_render_text(stdout, (const struct plan *const *)plans, f.nclusters, a.width);
	}
out:
	for (int i = 0; plans && i < f.nclusters; i++)
		plan_free(plans[i]);
	free(plans);
	cli_files_release(&f);
	return rc;
}
