/*
 * cmd_validate.c — `ccrup validate INVENTORY [-p PLAYBOOK]`: everything
 * that can be checked without a network.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "textsafe.h"
#include "util.h"

static const char usage[] =
    "usage: ccrup validate INVENTORY [-p PLAYBOOK] [--clusters PATTERN] [-q]\n"
    "\n"
    "Check the inventory and the playbook without touching any host: YAML syntax,\n"
    "unknown or missing keys, types, duplicate ids, undefined facts, variables and\n"
    "roles, regular expressions, expressions, and every value substituted into a\n"
    "command.  Errors are printed as FILE:LINE:COL: message.  A step with no\n"
    "`why` (the reason guided mode shows) is a warning, not an error; so is a\n"
    "`record` that no step (the same or a later one) reads as saved.NAME: a\n"
    "value noted to be put back that nothing puts back.\n"
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

static int is_saved_read(const char *name, int col, void *arg)
{
	(void)col;
	return str_startswith(name, "saved.") && strcmp(name + 6, (const char *)arg) == 0;
}

static int expr_reads(const struct expr *e, const char *as)
{
	return e != NULL && expr_foreach_ident(e, is_saved_read, (void *)as) != 0;
}

/* Does a phase or step condition read saved.AS? */
static int step_reads(const struct step_def *d, const char *as)
{
	int r = expr_reads(d->when, as) || expr_reads(d->check.expr, as) ||
		expr_reads(d->verify.expr, as) || expr_reads(d->reboot.ready.expr, as) ||
		(d->wait && expr_reads(d->wait->until, as));
	for (int i = 0; !r && i < d->nrequire; i++)
		r = expr_reads(d->require[i], as);
	return r;
}

static int phase_reads(const struct phase_def *ph, const char *as)
{
	int r = expr_reads(ph->when, as);
	for (int i = 0; !r && i < ph->nrequire; i++)
		r = expr_reads(ph->require[i], as);
	return r;
}

/* Is saved.AS read by the step at (phase i, step k) or any step after it? */
static int read_from(const struct playbook *pb, int i, int k, const char *as)
{
	for (; i < pb->nphases; i++, k = 0) {
		if (phase_reads(&pb->phases[i], as))
			return 1;
		for (; k < pb->phases[i].nsteps; k++)
			if (step_reads(&pb->phases[i].steps[k], as))
				return 1;
	}
	return 0;
}

/*
 * A `record` whose value nothing reads afterwards: warnings (FILE:LINE:COL),
 * once per record (a sequence used by two phases records once).
 */
static int warn_unread_records(const struct playbook *pb)
{
	int n = 0;
	for (int i = 0; i < pb->nphases; i++)
		for (int k = 0; k < pb->phases[i].nsteps; k++) {
			const struct step_def *d = &pb->phases[i].steps[k];
			if (d->record == NULL || read_from(pb, i, k, d->record->as))
				continue;
			int seen = 0;
			for (int j = 0; j <= i && !seen; j++)
				for (int m = 0; m < pb->phases[j].nsteps && !seen; m++) {
					const struct step_def *o = &pb->phases[j].steps[m];
					if (o == d)
						break;
					seen = o->record &&
					       o->record->loc.line == d->record->loc.line &&
					       o->record->loc.col == d->record->loc.col;
				}
			if (seen)
				continue;
			fprintf(stderr,
				"%s:%d:%d: warning: step %s.%s records '%s' but no step reads "
				"saved.%s afterwards: nothing puts the recorded value back\n",
				pb->path, d->record->loc.line, d->record->loc.col, pb->phases[i].id,
				d->id, d->record->as, d->record->as);
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
	if (rc == 0 && !o.quiet) {
		warn_missing_why(f.pb);
		warn_unread_records(f.pb);
	}
	if (rc == 0 && !o.quiet) {
		int hosts = 0, steps = 0;
		for (int i = 0; i < f.nclusters; i++)
			for (int g = 0; g < f.clusters[i]->ngroups; g++)
				hosts += f.clusters[i]->groups[g].nhosts;
		for (int i = 0; i < f.pb->nphases; i++)
			steps += f.pb->phases[i].nsteps;
		char *text = xasprintf("%s: valid (%d cluster%s, %d host%s)\n"
				       "%s: valid (playbook %s: %d phases, %d steps, %d facts)\n",
				       o.inventory, f.nclusters, f.nclusters == 1 ? "" : "s", hosts,
				       hosts == 1 ? "" : "s", o.playbook, f.pb->name, f.pb->nphases,
				       steps, f.pb->nfacts);
		text_put_term(stdout, text); /* a terminal: wrapped at spaces, never mid-word */
		free(text);
	}
	cli_files_release(&f);
	return rc;
}
