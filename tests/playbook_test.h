/*
 * playbook_test.h — fixtures shared by the playbook suites (check_playbook.c,
 * check_playbook_steps.c): a fresh temporary directory per test, a small
 * base playbook with two slots (extra top-level keys, and the steps of its
 * one phase), and helpers that load it and compare the first error
 * ("LINE:COL: message").  Included by one test file each; not a library.
 */
#ifndef CCR_PLAYBOOK_TEST_H
#define CCR_PLAYBOOK_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

/* Helpers a suite may not use: no -Wunused-function for them. */
#define TEST_HELPER static __attribute__((unused))

static char dir[64];
static char *path;
static struct diag d;
static struct playbook *pb;

TEST_HELPER void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_playbook.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/pb.yml", dir);
	diag_init(&d);
	pb = NULL;
}

TEST_HELPER void teardown(void)
{
	playbook_free(pb);
	diag_release(&d);
	unlink(path);
	rmdir(dir);
	free(path);
}

static const char base[] = "playbook: t\n"
			   "format: 1\n"
			   "vars:\n"
			   "  svc: {kind: service, default: nginx}\n"
			   "  items: {kind: word, list: true, default: [a, b]}\n"
			   "  limit: {kind: int, default: 10}\n"
			   "facts:\n"
			   "  state:\n"
			   "    run: systemctl is-active ${svc}\n"
			   "    capture: '^(active|inactive)'\n"
			   "  boot:\n"
			   "    run: cat /proc/sys/kernel/random/boot_id\n"
			   "    capture: '^(.*)$'\n"
			   "roles:\n"
			   "  lead:\n"
			   "    from: members\n"
			   "    where: state == 'active'\n"
			   "%s"
			   "phases:\n"
			   "  - id: p\n"
			   "    on: lead\n"
			   "    steps:\n"
			   "%s";

/* Line of the first step in base (for expected positions). */
#define STEP_LINE 22

TEST_HELPER struct playbook *load_text(const char *text)
{
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	pb = playbook_load(path, &d);
	return pb;
}

TEST_HELPER struct playbook *load_base(const char *top, const char *steps)
{
	char *text = xasprintf(base, top, steps);
	load_text(text);
	free(text);
	return pb;
}

/* "LINE:COL: message" of error i. */
TEST_HELPER const char *err(int i)
{
	static char buf[1024];
	ck_assert_msg(d.n > i, "expected an error #%d, got %d", i + 1, d.n);
	snprintf(buf, sizeof(buf), "%d:%d: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	return buf;
}

TEST_HELPER void ok_base(const char *top, const char *steps)
{
	load_base(top, steps);
	if (pb == NULL)
		ck_abort_msg("unexpected error: %s", err(0));
}

TEST_HELPER void bad_base(const char *top, const char *steps, const char *want)
{
	ck_assert_ptr_null(load_base(top, steps));
	ck_assert_str_eq(err(0), want);
}

TEST_HELPER void bad_step(const char *steps, const char *want)
{
	bad_base("", steps, want);
}

TEST_HELPER const struct step_def *find(const char *phase, const char *id)
{
	for (int p = 0; p < pb->nphases; p++)
		for (int s = 0; strcmp(pb->phases[p].id, phase) == 0 && s < pb->phases[p].nsteps;
		     s++)
			if (strcmp(pb->phases[p].steps[s].id, id) == 0)
				return &pb->phases[p].steps[s];
	ck_abort_msg("no step %s.%s", phase, id);
	return NULL;
}

#endif
