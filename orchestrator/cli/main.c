/*
 * main.c — ccrup's entry point: dispatch to a subcommand.
 * Only main() calls exit(); every subcommand returns its exit code.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

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
    {"status", cmd_status, "where each run stands, the last error, what is next"},
    {"report", cmd_report, "HTML report of a run: timeline, outage, failures"},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: ccrup COMMAND INVENTORY [options]\n\n"
		    "Rolling upgrades of clusters over SSH, one safe step at a time.\n\n"
		    "Commands:\n");
	for (size_t i = 0; i < CCR_ARRAY_LEN(commands); i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\n'ccrup COMMAND --help' describes each command.\n"
		    "Exit codes: 0 done, 1 step failed (resumable), 2 input error, 3 precondition\n"
		    "refused, 4 lock held, 5 journal corrupt, 130 interrupted (resumable).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_INPUT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ccrup %s\n", CCRUP_VERSION);
		return EXIT_DONE;
	}
	for (size_t i = 0; i < CCR_ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ccrup: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_INPUT;
}
