/*
 * sim_main.c — ccrsim's command line: `ccrsim --scenario FILE [options]`
 * runs the simulated fleet (sim_server.c); `ccrsim ctl ...` talks to a
 * running one (sim_ctl.c).  Bad arguments print a message and exit 2.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_server.h"

#define SIM_FLEET_MAX 10000 /* copies of the scenario --fleet accepts */

#ifndef CCRSIM_VERSION
#define CCRSIM_VERSION "0.1.0"
#endif
#ifndef CCRUP_DATADIR
#define CCRUP_DATADIR "/usr/local/share/ccrup"
#endif

static const char usage[] =
    "usage: ccrsim --scenario FILE|NAME [--time-scale X] [--fleet N] [--state-dir DIR]\n"
    "              [--control PATH] [--authorized-keys FILE] [--inventory-out FILE]\n"
    "              [--transport ssh|winrm] [-v]\n"
    "       ccrsim ctl [--control PATH | --state-dir DIR] COMMAND [ARGS]   (ccrsim ctl --help)\n"
    "\n"
    "Serves every host of a scenario over SSH, each on its own loopback address or port.\n"
    "  --scenario FILE|NAME    the scenario (docs/ccrsim.md): a file, or the name of a\n"
    "                          shipped one (two-node, half-done, ...) looked up in\n"
    "                          ./mock-nodes/scenarios, then <dir of ccrsim>/../share/ccrup/\n"
    "                          scenarios, then " CCRUP_DATADIR "/scenarios\n"
    "  --time-scale X          multiply every scenario duration by X (default 1, 0 = instant)\n"
    "  --fleet N               serve N renamed copies of the scenario's clusters\n"
    "  --state-dir DIR         host keys, client key, known_hosts, inventory.yml, ccrsim.pid\n"
    "                          (default ./state/ccrsim; created 0700)\n"
    "  --control PATH          control socket (default DIR/control.sock)\n"
    "  --authorized-keys FILE  public keys allowed to log in (default: DIR/authorized_keys,\n"
    "                          made from the generated DIR/client_ed25519)\n"
    "  --inventory-out FILE    where to write the ccrup inventory (default DIR/inventory.yml)\n"
    "  --transport ssh|winrm   how the generated inventory reaches the hosts (default ssh;\n"
    "                          every host serves both)\n"
    "  -v, --verbose           log connections and commands to stderr\n"
    "  --version               print the version and exit\n"
    "Prints \"ccrsim: N hosts listening; control at PATH\" and writes DIR/ccrsim.pid when\n"
    "ready.  SIGTERM or SIGINT stops it cleanly.\n";

static int bad_usage(const char *fmt, ...) CCR_PRINTF(1, 2);
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("ccrsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ccrsim --help'.\n", stderr);
	return 2;
}

static int parse_scale(const char *s, double *out)
{
	char *end = NULL;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* Value of option name at argv[*i]: "--name=V" or "--name V".  NULL if none. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* One option at argv[*i].  0, 1 for --help, or 2 (usage error, message printed). */
static int parse_opt(int argc, char **argv, int *i, struct sim_opts *o)
{
	const char *a = argv[*i];
	const char *v;
	int64_t n;

	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return 1;
	if (strcmp(a, "--version") == 0)
		return 3;
	if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
		o->verbose = 1;
	else if ((v = opt_value(argc, argv, i, "--scenario")) != NULL)
		o->scenario = v;
	else if ((v = opt_value(argc, argv, i, "--time-scale")) != NULL) {
		if (parse_scale(v, &o->time_scale) != 0)
			return bad_usage("--time-scale: not a number >= 0: %s", v);
	} else if ((v = opt_value(argc, argv, i, "--fleet")) != NULL) {
		if (parse_int64(v, 1, SIM_FLEET_MAX, &n) != 0)
			return bad_usage("--fleet: not an integer in 1..10000: %s", v);
		o->fleet = (int)n;
	} else if ((v = opt_value(argc, argv, i, "--state-dir")) != NULL)
		o->state_dir = v;
	else if ((v = opt_value(argc, argv, i, "--control")) != NULL)
		o->control = v;
	else if ((v = opt_value(argc, argv, i, "--authorized-keys")) != NULL)
		o->authorized_keys = v;
	else if ((v = opt_value(argc, argv, i, "--inventory-out")) != NULL)
		o->inventory_out = v;
	else if ((v = opt_value(argc, argv, i, "--transport")) != NULL) {
		if (strcmp(v, "ssh") != 0 && strcmp(v, "winrm") != 0)
			return bad_usage("--transport: expected ssh or winrm, got %s", v);
		o->winrm = v[0] == 'w';
	} else
		return bad_usage("unknown option or missing value: %s", a);
	return 0;
}

/*
 * A scenario given by name ("two-node") rather than path: the first
 * readable NAME or NAME.yml among the shipped scenario folders, into buf.
 * Returns the argument itself when it names a readable file or nothing is found.
 */
static const char *find_scenario(const char *arg, char *buf, size_t len)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32];
	const char *dirs[4] = {"mock-nodes/scenarios", NULL, NULL, CCRUP_DATADIR "/scenarios"};
	static const char *const ext[] = {"", ".yml"};

	if (access(arg, R_OK) == 0 || strchr(arg, '/') != NULL)
		return arg;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%s/../share/ccrup/scenarios", exe);
			dirs[1] = dir;
		}
	}
	for (size_t d = 0; d < 4; d++)
		for (size_t e = 0; dirs[d] && e < 2; e++) {
			snprintf(buf, len, "%s/%s%s", dirs[d], arg, ext[e]);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	return arg;
}

int main(int argc, char **argv)
{
	char scen[PATH_MAX + 64];
	struct sim_opts o = {.time_scale = 1.0, .state_dir = "state/ccrsim"};

	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return sim_ctl_client_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		int rc = parse_opt(argc, argv, &i, &o);

		if (rc == 1) {
			fputs(usage, stdout);
			return 0;
		}
		if (rc == 3) {
			printf("ccrsim %s\n", CCRSIM_VERSION);
			return 0;
		}
		if (rc != 0)
			return rc;
	}
	if (o.scenario == NULL)
		return bad_usage("%s", "--scenario FILE is required");
	if (o.state_dir[0] == '\0')
		return bad_usage("%s", "--state-dir must not be empty");
	o.scenario = find_scenario(o.scenario, scen, sizeof(scen));
	return sim_server_run(&o);
}
