/*
 * cli.c — shared command-line plumbing: option parsing, default paths,
 * loading and validating the user's files.
 */
#include "cli.h"
#include "http.h"
#include "state.h"

#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yamltree.h"

#ifndef CCRUP_DATADIR
#define CCRUP_DATADIR "/usr/local/share/ccrup"
#endif

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ccrup %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_default_playbook(void)
{
	static char exe_rel[PATH_MAX + 64];
	char exe[PATH_MAX];
	const char *env = getenv("CCRUP_PLAYBOOK");

	if (env && *env)
		return env;
	if (access("playbooks/ccr-sp1.yml", R_OK) == 0)
		return "playbooks/ccr-sp1.yml";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* The binary's directory's parent, named plainly ("/usr/local", not
		 * "/usr/local/bin/.."): the kernel's exe path has no symlink to undo. */
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(exe_rel, sizeof(exe_rel), "%s/playbooks/ccr-sp1.yml", exe);
			if (access(exe_rel, R_OK) == 0)
				return exe_rel;
			/* An installed tree moved elsewhere (DESTDIR, a tarball). */
			snprintf(exe_rel, sizeof(exe_rel), "%s/share/ccrup/playbooks/ccr-sp1.yml",
				 exe);
			if (access(exe_rel, R_OK) == 0)
				return exe_rel;
		}
	}
	return CCRUP_DATADIR "/playbooks/ccr-sp1.yml";
}

static const struct option common_long[] = {
    {"playbook", required_argument, NULL, 'p'},
    {"state-dir", required_argument, NULL, 'S'},
    {"clusters", required_argument, NULL, 'C'},
    {"output", required_argument, NULL, 'o'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"state", required_argument, NULL, 'E'},
    {NULL, 0, NULL, 0},
};

static struct option *merge_options(const struct option *extra)
{
	size_t n1 = CCR_ARRAY_LEN(common_long) - 1, n2 = 0;
	while (extra && extra[n2].name)
		n2++;
	struct option *all = xcalloc(n1 + n2 + 1, sizeof(*all));
	memcpy(all, common_long, n1 * sizeof(*all));
	if (n2)
		memcpy(all + n1, extra, n2 * sizeof(*all));
	return all;
}

/*
 * "unknown option '--yse' (did you mean '--yes'?)": the nearest long
 * option to what was typed (its name before any '=').
 */
static void unknown_option(const char *cmd, const char *arg, const struct option *all)
{
	const char *near = NULL;
	if (strncmp(arg, "--", 2) == 0) {
		size_t n = 0;
		while (all[n].name)
			n++;
		const char **names = xcalloc(n + 1, sizeof(*names));
		for (size_t i = 0; i < n; i++)
			names[i] = all[i].name;
		char word[80];
		snprintf(word, sizeof(word), "%s", arg + 2);
		word[strcspn(word, "=")] = '\0';
		near = ysuggest(word, names);
		free(names);
	}
	cli_error(cmd, "unknown option '%s'%s%s%s (see ccrup %s --help)", arg,
		  near ? " (did you mean '--" : "", near ? near : "", near ? "'?)" : "", cmd);
}

static int common_opt(int c, struct cli_opts *o)
{
	switch (c) {
	case 'p':
		o->playbook = optarg;
		return 0;
	case 'S':
		o->state_dir = optarg;
		return 0;
	case 'E':
		o->state_url = optarg;
		return 0;
	case 'C':
		o->clusters = optarg;
		return 0;
	case 'o':
		if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
			return EXIT_INPUT;
		o->output = optarg;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	}
	return 1; /* not a common option */
}

int cli_parse(int argc, char **argv, const char *usage, const struct option *extra,
	      const char *extra_short, cli_opt_fn cb, void *ctx, struct cli_opts *o)
{
	struct option *all = merge_options(extra);
	char *shorts = xasprintf(":p:o:vqh%s", extra_short ? extra_short : "");
	int rc = 0, c;
	const char *cmd = argv[0];

	memset(o, 0, sizeof(*o));
	o->output = "text";
	o->state_dir = getenv("CCRUP_STATE_DIR");
	if (o->state_dir == NULL || *o->state_dir == '\0')
		o->state_dir = "state";
	o->state_url = getenv("CCRUP_STATE");
	if (o->state_url != NULL && *o->state_url == '\0')
		o->state_url = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			rc = -1;
			goto out;
		}
		if (c == '?') {
			unknown_option(cmd, argv[optind - 1], all);
			rc = EXIT_INPUT;
			goto out;
		}
		if (c == ':') {
			cli_error(cmd, "missing value for option '%s' (see ccrup %s --help)",
				  argv[optind - 1], cmd);
			rc = EXIT_INPUT;
			goto out;
		}
		int r = common_opt(c, o);
		if (r == EXIT_INPUT) {
			cli_error(cmd, "-o takes 'text' or 'json', not '%s'", optarg);
			rc = EXIT_INPUT;
			goto out;
		}
		if (r == 1 && (cb == NULL || (rc = cb(c, optarg, ctx)) != 0))
			goto out;
	}
	if (optind >= argc) {
		cli_error(cmd, "missing INVENTORY (see ccrup %s --help)", cmd);
		rc = EXIT_INPUT;
		goto out;
	}
	o->inventory = argv[optind++];
	if (optind < argc) {
		cli_error(cmd, "unexpected argument '%s' (see ccrup %s --help)", argv[optind], cmd);
		rc = EXIT_INPUT;
		goto out;
	}
	if (o->playbook == NULL)
		o->playbook = cli_default_playbook();
out:
	free(all);
	free(shorts);
	return rc;
}

static int select_clusters(const struct cli_opts *o, struct cli_files *f)
{
	f->clusters = xcalloc((size_t)f->inv->nclusters + 1, sizeof(*f->clusters));
	for (int i = 0; i < f->inv->nclusters; i++) {
		const struct cluster_def *c = &f->inv->clusters[i];
		if (o->clusters == NULL || fnmatch(o->clusters, c->name, FNM_CASEFOLD) == 0)
			f->clusters[f->nclusters++] = c;
	}
	if (f->nclusters == 0) {
		fprintf(stderr, "%s: no cluster matches --clusters '%s'\n", o->inventory,
			o->clusters);
		return EXIT_INPUT;
	}
	return 0;
}

int cli_load(const struct cli_opts *o, struct cli_files *f)
{
	struct diag d;
	int rc = EXIT_INPUT;

	memset(f, 0, sizeof(*f));
	diag_init(&d);
	f->inv = inventory_load(o->inventory, &d);
	f->pb = playbook_load(o->playbook, &d);
	if (f->inv && f->pb)
		model_validate(f->pb, f->inv, &d);
	if (d.total > 0) {
		diag_print(&d, stderr);
		goto out;
	}
	rc = select_clusters(o, f);
out:
	diag_release(&d);
	return rc;
}

int cli_state_open(const char *cmd, const struct cli_opts *o, const struct cli_files *f,
		   struct state **st)
{
	const struct state_def *sd = f->inv ? f->inv->state : NULL;
	struct state_config c = {.dir = o->state_dir, .url = o->state_url};
	char err[1024];
	int rc;

	if (sd != NULL) {
		if (c.url == NULL)
			c.url = sd->url;
		c.ca_file = sd->ca_file;
		c.cert_file = sd->cert_file;
		c.key_file = sd->key_file;
		c.user = sd->user;
		c.password_file = sd->password_file;
		c.password_env = sd->password_env;
		c.lease_ttl_s = sd->lease_ttl_s;
	}
	if (http_global_init() < 0) {
		cli_error(cmd, "cannot initialise libcurl");
		return EXIT_INPUT;
	}
	rc = state_open(&c, st, err, sizeof(err));
	if (rc != 0) {
		if (sd != NULL && o->state_url == NULL)
			cli_error(cmd, "%s:%d:%d: state: %s", sd->loc.file, sd->loc.line,
				  sd->loc.col, err);
		else
			cli_error(cmd, "%s", err);
		http_global_cleanup();
	}
	return rc;
}

void cli_state_close(struct state *st)
{
	if (st == NULL)
		return;
	state_free(st);
	http_global_cleanup();
}

void cli_files_release(struct cli_files *f)
{
	free(f->clusters);
	playbook_free(f->pb);
	inventory_free(f->inv);
	memset(f, 0, sizeof(*f));
}
