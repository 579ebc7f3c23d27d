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
    "command.  Errors are printed as FILE:LINE:COL: message.  A step with no\n"
    "`why` (the reason guided mode shows) is a warning, not an error.\n"
    "\n"
    "  -p, --playbook FILE   playbook (default: playbooks/ccr-sp1.yml)\n"
    "  --clusters PATTERN    only clusters whose name matches (shell pattern)\n"
    "  -q, --quiet           print nothing when valid\n"
    "\n"
    "Exit: 0 valid, 2 input errors.\n";

/* Steps without a `why`: warnings (FILE:LINE:COL), once per step definition. */
static int warn_missing_why(const struct playbook *pb)
{
	int n = 0;
	for (int i = 0; i < pb->nphases; i++)
		for (int k = 0; k < pb->phases[i].nsteps; k++) {
			const struct step_def *d = &pb->phases[i].steps[k];
			int seen = 0;
			if (d->why && *d->why)
				continue;
			/* A sequence used by two phases is one definition: warn once. */
			for (int j = 0; j < i && !seen; j++)
				for (int m = 0; m < pb->phases[j].nsteps && !seen; m++)
					seen = pb->phases[j].steps[m].loc.line == d->loc.line &&
					       pb->phases[j].steps[m].loc.col == d->loc.col;
			if (seen)
				continue;
			fprintf(
			    stderr,
			    "%s:%d:%d: warning: step %s.%s has no `why` (guided mode shows it)\n",
			    pb->path, d->loc.line, d->loc.col, pb->phases[i].id, d->id);
			n++;
		}
	return n;
}

int cmd_validate(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_files f;
	int rc = cli_parse(argc, argv, usage, NULL, NULL, NULL, NULL, &o);

	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	rc = cli_load(&o, &f);
	if (rc == 0 && !o.quiet)
		warn_missing_why(f.pb);
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
