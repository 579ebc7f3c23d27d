/*
 * main.c — ccrup's entry point: dispatch to a subcommand.
 * Only main() calls exit(); every subcommand returns its exit code.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "yamltree.h"

#define CCRUP_VERSION "0.1.0"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand commands[] = {
    {"validate", cmd_validate, "check the inventory and playbook offline"},
    {"plan", cmd_plan, "show every step, node and command (dry run)"},
    {"apply", cmd_apply, "run the upgrade (guided on a terminal, or --yes)"},
    {"resume", cmd_resume, "continue an interrupted or failed run"},
    {"abandon", cmd_abandon, "give up an unfinished run; the next apply starts anew"},
    {"status", cmd_status, "where each run stands, the last error, what is next"},
    {"report", cmd_report, "HTML report of a run: timeline, outage, failures"},
    {"state", cmd_state, "export/import journals between etcd and a directory"},
    {"notify", cmd_notify, "notify --test: send a test to every notification endpoint"},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: ccrup COMMAND INVENTORY [options]\n\n"
		    "Rolling upgrades of clusters over SSH, one safe step at a time.\n\n"
		    "Commands:\n");
	for (size_t i = 0; i < CCR_ARRAY_LEN(commands); i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp,
		"\n'ccrup help COMMAND' (or 'ccrup COMMAND --help') describes each command.\n"
		"Exit codes: 0 done, 1 step failed (resumable), 2 input error, 3 precondition\n"
		"refused, 4 lock held, 5 journal corrupt, 6 lost the lock mid-run (resumable),\n"
		"130 interrupted (resumable).\n");
}

static const struct subcommand *find_command(const char *name)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(commands); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* The nearest command name to a mistyped one, or NULL. */
static const char *near_command(const char *name)
{
	const char *names[CCR_ARRAY_LEN(commands) + 1];
	for (size_t i = 0; i < CCR_ARRAY_LEN(commands); i++)
		names[i] = commands[i].name;
	names[CCR_ARRAY_LEN(commands)] = NULL;
	const char *near = ysuggest(name, names);
	for (size_t i = 0; near == NULL && *name && i < CCR_ARRAY_LEN(commands); i++)
		if (strncmp(commands[i].name, name, strlen(name)) == 0)
			near = commands[i].name; /* "stat" for status */
	return near;
}

static int unknown_command(const char *name)
{
	const char *near = near_command(name);
	fprintf(stderr, "ccrup: unknown command '%s'%s%s%s\n", name, near ? " (did you mean '" : "",
		near ? near : "", near ? "'?)" : "");
	usage(stderr);
	return EXIT_INPUT;
}

/* `ccrup help [COMMAND]`: the general help, or COMMAND's own. */
static int help(int argc, char **argv)
{
	if (argc < 3) {
		usage(stdout);
		return EXIT_DONE;
	}
	const struct subcommand *c = find_command(argv[2]);
	if (c == NULL)
		return unknown_command(argv[2]);
	char *args[] = {(char *)c->name, "--help", NULL};
	return c->fn(2, args);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_INPUT;
	}
	if (strcmp(argv[1], "help") == 0)
		return help(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ccrup %s\n", CCRUP_VERSION);
		return EXIT_DONE;
	}
	const struct subcommand *c = find_command(argv[1]);
	if (c)
		return c->fn(argc - 1, argv + 1);
	return unknown_command(argv[1]);
}
