/*
 * cmd_plan.c — `ccrup plan INVENTORY [-p PLAYBOOK] [-o text|json]`: the
 * dry run.  Offline, roles are assumed from the inventory's declared
 * active node and marked so.
 */
#include "cli.h"
#include "plan.h"
#include "plan_live.h"
#include "xport.h"

#include <errno.h>
#include <signal.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char usage[] =
    "usage: ccrup plan INVENTORY [-p PLAYBOOK] [-o text|json] [--clusters PATTERN]\n"
    "                  [--width N] [--live [--save PLAN]] [--trust-new-hosts]\n"
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
    "  --width N             wrap text at N columns (default: the terminal's width,\n"
    "                        80 when the output is not a terminal)\n"
    "  --live                connect read-only: bind roles from live facts, mark the\n"
    "                        steps already satisfied and why; a cluster with nothing\n"
    "                        to do is one line\n"
    "  --save PLAN           with --live: save the plan and the facts it saw; `apply\n"
    "                        --plan PLAN` refuses to start if any of them changed\n"
    "  --trust-new-hosts     accept and record unknown host keys\n"
    "\n"
    "Exit: 0 ok, 2 input errors, 3 a role could not be bound live, 1 a host could not\n"
    "be read.\n";

struct plan_args {
	int width;
	int live;
	int trust;
	const char *save;
	const char *ssh_config;
};

enum { OPT_WIDTH = 1000, OPT_LIVE, OPT_SAVE, OPT_TRUST, OPT_SSHCONF };

static const struct option plan_long[] = {
    {"width", required_argument, NULL, OPT_WIDTH},
    {"live", no_argument, NULL, OPT_LIVE},
    {"save", required_argument, NULL, OPT_SAVE},
    {"trust-new-hosts", no_argument, NULL, OPT_TRUST},
    {"ssh-config", required_argument, NULL, OPT_SSHCONF},
    {NULL, 0, NULL, 0},
};

static int plan_opt(int c, const char *arg, void *ctx)
{
	struct plan_args *a = ctx;
	int64_t w;

	if (c == OPT_LIVE)
		a->live = 1;
	else if (c == OPT_SAVE)
		a->save = arg;
	else if (c == OPT_TRUST)
		a->trust = 1;
	else if (c == OPT_SSHCONF)
		a->ssh_config = arg;
	else if (c == OPT_WIDTH && parse_int64(arg, 40, 1000, &w) == 0)
		a->width = (int)w;
	else {
		cli_error("plan", "--width takes a number from 40 to 1000, not '%s'", arg);
		return EXIT_INPUT;
	}
	return 0;
}

/* The terminal's width (40 to 1000 columns), or 80 when stdout is not a terminal. */
static int default_width(void)
{
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col > 1000 ? 1000 : ws.ws_col;
	return 80;
}

/*
 * The text plan.  Live, a cluster with nothing to do is one line, after the
 * plans of those that have work.
 */
static void write_text(const struct cli_files *f, struct plan **plans, struct live_plan *lps,
		       int width)
{
	const struct plan **work = xcalloc((size_t)f->nclusters + 1, sizeof(*work));
	int n = 0;

	for (int i = 0; i < f->nclusters; i++)
		if (lps == NULL || !lps[i].nothing_to_do)
			work[n++] = plans[i];
	plan_render_text(stdout, work, n, width);
	for (int i = 0; lps && i < f->nclusters; i++)
		if (!lps[i].nothing_to_do)
			plan_live_text(stdout, &lps[i], width);
	for (int i = 0; lps && i < f->nclusters; i++)
		if (lps[i].nothing_to_do)
			plan_live_text(stdout, &lps[i], width);
	free(work);
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

static volatile sig_atomic_t plan_stop;

static int live_all(const struct cli_files *f, const struct plan_args *a, struct live_plan *lps,
		    struct plan **plans)
{
	struct conns_opts co = {.trust_new_hosts = a->trust, .ssh_config = a->ssh_config};
	struct conns *c = conns_new(f->inv, &co);
	char err[2048];
	int rc = 0;

	if (xport_global_init() < 0) {
		conns_free(c);
		return EXIT_INPUT;
	}
	for (int i = 0; i < f->nclusters && rc == 0; i++) {
		rc = plan_live_eval(f->pb, f->inv, f->clusters[i], c, &plan_stop, &lps[i], err,
				    sizeof(err));
		if (rc)
			fprintf(stderr, "ccrup plan --live: %s\n", err);
		plans[i] = lps[i].plan;
	}
	conns_free(c);
	xport_global_cleanup();
	return rc;
}

static void live_fields(json_t *cluster, int i, void *arg)
{
	plan_live_json(&((struct live_plan *)arg)[i], cluster);
}

static int write_json(const struct cli_files *f, struct plan **plans, struct live_plan *lps,
		      const char *save, int to_stdout)
{
	/* Cluster by cluster: a tree of the whole fleet's plan took ~400 MiB for 1,000. */
	char *text = plan_json_text((const struct plan *const *)plans, f->nclusters, lps != NULL,
				    lps ? live_fields : NULL, lps);
	int rc = 0;
	if (to_stdout)
		printf("%s\n", text);
	if (save && write_file_atomic(save, text, strlen(text), 0600) < 0) {
		fprintf(stderr, "ccrup plan: cannot write %s: %s\n", save, strerror(errno));
		rc = EXIT_INPUT;
	} else if (save) {
		fprintf(stderr, "ccrup plan: saved to %s (use `ccrup apply --plan %s`)\n", save,
			save);
	}
	free(text);
	return rc;
}

int cmd_plan(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f;
	struct plan_args a = {0, 0, 0, NULL, NULL};
	struct plan **plans = NULL;
	struct live_plan *lps = NULL;
	int rc = cli_parse(argc, argv, usage, plan_long, "", plan_opt, &a, &o);

	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	rc = cli_load(&o, &f);
	if (rc)
		goto out;
	plans = xcalloc((size_t)f.nclusters, sizeof(*plans));
	if (a.save && !a.live) {
		cli_error("plan", "--save needs --live: a saved plan pins the facts it observed");
		rc = EXIT_INPUT;
		goto out;
	}
	if (a.live) {
		lps = xcalloc((size_t)f.nclusters, sizeof(*lps));
		rc = live_all(&f, &a, lps, plans);
	} else {
		rc = compile_all(&f, plans);
	}
	if (rc)
		goto out;
	if (strcmp(o.output, "json") == 0 || a.save)
		rc = write_json(&f, plans, lps, a.save, strcmp(o.output, "json") == 0);
	if (strcmp(o.output, "text") == 0)
		write_text(&f, plans, lps, a.width ? a.width : default_width());
out:
	for (int i = 0; plans && i < f.nclusters; i++)
		if (lps == NULL)
			plan_free(plans[i]);
	for (int i = 0; lps && i < f.nclusters; i++)
		plan_live_release(&lps[i]);
	free(lps);
	free(plans);
	cli_files_release(&f);
	return rc;
}
