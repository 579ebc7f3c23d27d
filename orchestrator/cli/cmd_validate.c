/*
 * cmd_validate.c — `ccrup validate INVENTORY [-p PLAYBOOK]`: everything
 * that can be checked without a network.
 */
#include "cli.h"

#include <stdio.h>

static const char usage[] =
    "usage: ccrup validate INVENTORY [-p PLAYBOOK] [--clusters PATTERN] [-q]\n"
    "\n"
    "Check the inventory and the playbook without touching any host: YAML syntax,\n"
    "unknown or missing keys, types, duplicate ids, undefined facts, variables and\n"
    "roles, regular expressions, expressions, and every value substituted into a\n"
    "command.  Errors are printed as FILE:LINE:COL: message.\n"
    "\n"
    "  -p, --playbook FILE   playbook (default: playbooks/ccr-sp1.yml)\n"
    "  --clusters PATTERN    only clusters whose name matches (shell pattern)\n"
    "  -q, --quiet           print nothing when valid\n"
    "\n"
    "Exit: 0 valid, 2 input errors.\n";

int cmd_validate(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f;
	int rc = cli_parse(argc, argv, usage, NULL, NULL, NULL, NULL, &o);

	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	rc = cli_load(&o, &f);
	if (rc == 0 && !o.quiet) {
		int hosts = 0, steps = 0;
		for (int i = 0; i < f.nclusters; i++)
			for (int g = 0; g < f.clusters[i]->ngroups; g++)
				hosts += f.clusters[i]->groups[g].nhosts;
		for (int i = 0; i < f.pb->nphases; i++)
			steps += f.pb->phases[i].nsteps;
		printf("%s: valid (%d cluster%s, %d host%s)\n", o.inventory, f.nclusters,
		       f.nclusters == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s");
		printf("%s: valid (playbook %s: %d phases, %d steps, %d facts)\n", o.playbook,
		       f.pb->name, f.pb->nphases, steps, f.pb->nfacts);
	}
	cli_files_release(&f);
	return rc;
}
