/*
 * check_playbook.c — playbook_load() (orchestrator/playbook*.c): the
 * shipped playbooks load into the expected model, and every rule of
 * docs/playbook.md refuses what it should with the exact message and
 * position.
 *
 * Most tests fill a small base playbook's two slots (extra top-level keys,
 * and the steps of its one phase) and look at the first error.  Files are
 * written to a fresh temporary directory per test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

static char dir[64];
static char *path;
static struct diag d;
static struct playbook *pb;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_playbook.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/pb.yml", dir);
	diag_init(&d);
	pb = NULL;
}

static void teardown(void)
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

static struct playbook *load_text(const char *text)
{
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	pb = playbook_load(path, &d);
	return pb;
}

static struct playbook *load_base(const char *top, const char *steps)
{
	char *text = xasprintf(base, top, steps);
	load_text(text);
	free(text);
	return pb;
}

/* "LINE:COL: message" of error i. */
static const char *err(int i)
{
	static char buf[1024];
	ck_assert_msg(d.n > i, "expected an error #%d, got %d", i + 1, d.n);
	snprintf(buf, sizeof(buf), "%d:%d: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	return buf;
}

static void ok_base(const char *top, const char *steps)
{
	load_base(top, steps);
	if (pb == NULL)
		ck_abort_msg("unexpected error: %s", err(0));
}

static void bad_base(const char *top, const char *steps, const char *want)
{
	ck_assert_ptr_null(load_base(top, steps));
	ck_assert_str_eq(err(0), want);
}

static void bad_step(const char *steps, const char *want)
{
	bad_base("", steps, want);
}

static const struct step_def *find(const char *phase, const char *id)
{
	for (int p = 0; p < pb->nphases; p++)
		for (int s = 0; strcmp(pb->phases[p].id, phase) == 0 && s < pb->phases[p].nsteps;
		     s++)
			if (strcmp(pb->phases[p].steps[s].id, id) == 0)
				return &pb->phases[p].steps[s];
	ck_abort_msg("no step %s.%s", phase, id);
	return NULL;
}

START_TEST(ccr_sp1_loads)
{
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	if (pb == NULL)
		ck_abort_msg("ccr-sp1: %s", err(0));
	ck_assert_str_eq(pb->name, "ccr-sp1");
	ck_assert_int_eq(pb->format, 1);
	ck_assert_int_eq(pb->nvars, 8);
	ck_assert_int_eq(pb->nfacts, 16);
	ck_assert_int_eq(pb->nroles, 2);
	ck_assert_int_eq(pb->nphases, 7);
	ck_assert_str_eq(pb->boot_id_fact, "boot_id");
	ck_assert_int_eq(pb->phases[1].nsteps, 10);
	ck_assert_int_eq(pb->phases[3].nsteps, 10);
	ck_assert_ptr_null(pb->phases[4].on);
	ck_assert_str_eq(pb->phases[4].for_each, "members");
	ck_assert_int_eq(d.n, 0);
}
END_TEST

START_TEST(ccr_sp1_model_details)
{
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	ck_assert_ptr_nonnull(pb);
	const struct var_def *v = playbook_var(pb, "perf_services");
	ck_assert(v->is_list);
	ck_assert_int_eq(v->kind, VK_SERVICE);
	ck_assert_int_eq(v->ndef_list, 4);
	ck_assert_str_eq(playbook_var(pb, "owa_url")->def, "");
	ck_assert_int_eq(playbook_var(pb, "failback")->nvalues, 2);
	const struct fact_def *f = playbook_fact(pb, "copy_status");
	ck_assert_int_eq(f->reduce, REDUCE_WORST);
	ck_assert_int_eq(f->norder, 7);
	ck_assert_int_eq(f->scope, FACT_CLUSTER);
	ck_assert_str_eq(playbook_fact(pb, "os_sp")->def, "0");
	ck_assert_int_eq(playbook_role(pb, "passive")->assume, ASSUME_OTHERS);
	const struct step_def *s = find("passive", "dotnet-sp1");
	ck_assert_str_eq(s->from_sequence, "node-upgrade");
	ck_assert_int_eq(s->reboot.when, REBOOT_ON_EXIT);
	ck_assert_int_eq(s->reboot.exit_codes[0], 3010);
	ck_assert_int_eq(s->nok_exit, 2);
	ck_assert_int_eq(s->timeout_ms, 30 * 60 * 1000);
	ck_assert_ptr_nonnull(s->reboot.ready.expr);
	s = find("passive", "stop-service");
	ck_assert_str_eq(s->for_each, "perf_services");
	ck_assert_str_eq(s->record->as, "service_state");
	ck_assert_ptr_nonnull(s->check.probe);
	ck_assert_str_eq(s->check.probe->expect, "STOPPED|FAILED 1060");
	s = find("cms", "upgrade-cms");
	ck_assert(s->point_of_no_return);
	ck_assert_int_eq(s->outage, OUTAGE_ENDS);
	ck_assert(s->idempotent);
	s = find("cms", "owa");
	ck_assert_int_eq(s->http->nstatus, 2);
	ck_assert_int_eq(s->http->retries, 6);
	s = find("preflight", "lab-tested");
	ck_assert_ptr_nonnull(s->gate);
	ck_assert_ptr_null(s->run);
	s = find("final", "replication-healthy");
	ck_assert_int_eq(s->wait->interval_ms, 10000);
	ck_assert_ptr_null(s->from_sequence);
}
END_TEST

START_TEST(ccr_sp1_idempotent_marks)
{
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	ck_assert_ptr_nonnull(pb);
	for (int p = 0; p < pb->nphases; p++) {
		for (int i = 0; i < pb->phases[p].nsteps; i++) {
			const struct step_def *s = &pb->phases[p].steps[i];
			int want = s->run != NULL && strcmp(s->id, "reboot") != 0;
			ck_assert_msg(s->idempotent == want, "%s.%s: idempotent %d",
				      pb->phases[p].id, s->id, s->idempotent);
		}
	}
}
END_TEST

START_TEST(ccr_sp1_sha256)
{
	char *data = NULL, want[65];
	size_t len = 0;
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	ck_assert_int_eq(read_file("playbooks/ccr-sp1.yml", 1 << 24, &data, &len), 0);
	sha256_hex(data, len, want);
	ck_assert_str_eq(pb->sha256, want);
	free(data);
}
END_TEST

START_TEST(linux_playbook_loads)
{
	if (access("playbooks/linux-rolling-restart.yml", R_OK) != 0)
		return;
	pb = playbook_load("playbooks/linux-rolling-restart.yml", &d);
	if (pb == NULL)
		ck_abort_msg("linux-rolling-restart: %s", err(0));
}
END_TEST

START_TEST(defaults_of_a_run_step)
{
	ok_base("", "      - id: s\n        name: S\n        run: 'true'\n");
	const struct step_def *s = &pb->phases[0].steps[0];
	ck_assert_int_eq(s->nok_exit, 1);
	ck_assert_int_eq(s->ok_exit[0], 0);
	ck_assert_int_eq(s->idempotent, 0);
	ck_assert_int_eq(s->retries, 0);
	ck_assert_int_eq(s->retry_delay_ms, 10000);
	ck_assert_int_eq(s->timeout_ms, 0);
	ck_assert_int_eq(s->reboot.when, REBOOT_NEVER);
	ck_assert_int_eq(s->outage, OUTAGE_NONE);
	ck_assert_str_eq(pb->phases[0].name, "p");
	ck_assert_int_eq(s->loc.line, STEP_LINE);
}
END_TEST

START_TEST(unknown_top_key_lists_valid)
{
	bad_base("zzzz: 1\n", "      - id: s\n        name: S\n        run: x\n",
		 "18:1: unknown key 'zzzz' in playbook (valid keys: playbook, format, "
		 "description, vars, facts, boot_id, reboot_command, roles, groups, sequences, "
		 "phases)");
}
END_TEST

START_TEST(misspelled_key_suggested)
{
	bad_step("      - id: s\n        name: S\n        requires: [state == 'active']\n",
		 "24:9: unknown key 'requires' in step (did you mean 'require'?)");
}
END_TEST

START_TEST(missing_required_top_keys)
{
	load_text("description: x\n");
	ck_assert_ptr_null(pb);
	ck_assert_str_eq(err(0), "1:1: missing required key 'playbook' in the playbook (its name)");
	ck_assert_str_eq(err(1), "1:1: missing required key 'format' in the playbook");
	ck_assert_str_eq(err(2), "1:1: missing required key 'phases' in the playbook");
}
END_TEST

START_TEST(unsupported_format)
{
	load_text("playbook: t\nformat: 2\nphases: []\n");
	ck_assert_str_eq(err(0), "2:9: unsupported format '2' (this ccrup reads format: 1)");
}
END_TEST

START_TEST(top_level_not_mapping)
{
	load_text("- a\n- b\n");
	ck_assert_str_eq(err(0), "1:1: expected a mapping at the top of the playbook, got a list");
}
END_TEST

START_TEST(wrong_types)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        ok_exit: {a: 1}\n",
		 "25:18: 'ok_exit': expected a list, got a mapping");
	diag_release(&d);
	load_text("playbook: t\nformat: 1\nvars: [a]\nphases: []\n");
	ck_assert_str_eq(err(0), "3:7: 'vars': expected a mapping, got a list");
}
END_TEST

START_TEST(steps_must_be_a_list)
{
	load_text("playbook: t\nformat: 1\nphases:\n  - id: p\n    on: members\n    steps: x\n");
	ck_assert_str_eq(err(0), "6:12: 'steps': expected a list, got a string");
}
END_TEST

START_TEST(step_id_and_name_required)
{
	bad_step("      - run: x\n", "22:9: missing required key 'id' in step");
	ck_assert_str_eq(err(1), "22:9: missing required key 'name' in step");
}
END_TEST

START_TEST(step_name_without_value)
{
	bad_step("      - id: s\n        name:\n        run: x\n",
		 "23:9: 'name' has no value (required in step)");
}
END_TEST

START_TEST(bad_step_id)
{
	bad_step("      - id: Setup_1\n        name: S\n        run: x\n",
		 "22:13: bad step id 'Setup_1' (lower-case letters, digits and '-')");
}
END_TEST

START_TEST(duplicate_step_id)
{
	bad_step("      - {id: s, name: A, run: x}\n      - {id: s, name: B, run: y}\n",
		 "23:9: duplicate step id 's' in phase 'p' (first at 22:9)");
}
END_TEST

START_TEST(duplicate_phase_id)
{
	bad_step("      - {id: s, name: A, run: x}\n  - id: p\n    on: members\n    steps:\n"
		 "      - {id: t, name: B, run: y}\n",
		 "23:5: duplicate phase id 'p' (first at 19:5)");
}
END_TEST

START_TEST(phase_on_and_for_each)
{
	load_text("playbook: t\nformat: 1\nphases:\n  - id: p\n    steps:\n"
		  "      - {id: s, name: A, run: x}\n");
	ck_assert_str_eq(err(0), "4:5: missing required key 'on' in phase (a role or group; or "
				 "'for_each: GROUP' to run the steps host by host)");
	diag_release(&d);
	load_text("playbook: t\nformat: 1\nphases:\n  - id: p\n    on: members\n"
		  "    for_each: members\n    steps:\n      - {id: s, name: A, run: x}\n");
	ck_assert_str_eq(err(0), "6:5: a phase takes 'on' (a role or group) or 'for_each' (a "
				 "group), not both");
}
END_TEST

START_TEST(phase_for_each_role_refused)
{
	load_text("playbook: t\nformat: 1\nfacts:\n  f: {run: x, capture: y}\nroles:\n"
		  "  lead: {from: members, where: f == 'a'}\nphases:\n  - id: p\n"
		  "    for_each: lead\n    steps:\n      - {id: s, name: A, run: x}\n");
	ck_assert_str_eq(err(0), "9:15: 'for_each': 'lead' is a role; for_each takes a group "
				 "(members, hub_cas)");
}
END_TEST

START_TEST(undefined_role_in_on)
{
	bad_step("      - {id: s, name: A, run: x, on: laed}\n",
		 "22:38: 'on': undefined role or group 'laed' (did you mean 'lead'?)");
}
END_TEST

START_TEST(playbook_groups_accepted)
{
	ok_base("groups: [db, web]\n", "      - {id: s, name: A, run: x, on: db}\n");
	diag_release(&d);
	playbook_free(pb);
	bad_step("      - {id: s, name: A, run: x, on: db}\n",
		 "22:38: 'on': undefined role or group 'db' (known: lead, members, hub_cas)");
}
END_TEST

START_TEST(undefined_fact_in_expression)
{
	bad_step("      - id: s\n        name: S\n        require: [stat == 'active']\n",
		 "24:19: undefined name 'stat' in expression (did you mean 'state'?)");
}
END_TEST

START_TEST(expression_error_column)
{
	bad_step("      - id: s\n        name: S\n        require: [state == ]\n",
		 "24:27: bad expression in 'require': unexpected end of expression");
}
END_TEST

START_TEST(expression_error_in_quoted_scalar)
{
	load_base("", "      - id: s\n        name: S\n        when: 'state == (limit'\n"
		      "        run: x\n");
	ck_assert_ptr_null(pb);
	ck_assert_int_eq(d.v[0].line, 24);
	ck_assert_int_eq(d.v[0].col, 31);
}
END_TEST

START_TEST(expression_error_in_folded_scalar_at_start)
{
	load_base("", "      - id: s\n        name: S\n        when: >-\n          state ==\n"
		      "          and limit\n        run: x\n");
	ck_assert_ptr_null(pb);
	ck_assert_int_eq(d.v[0].line, 24);
	ck_assert_int_eq(d.v[0].col, 15);
}
END_TEST

START_TEST(item_only_in_for_each)
{
	bad_step("      - id: s\n        name: S ${item}\n        run: x\n",
		 "23:17: 'item' is only defined in a step with for_each");
}
END_TEST

START_TEST(for_each_and_item)
{
	ok_base("", "      - id: s\n        name: S ${item}\n        for_each: items\n"
		    "        when: item != 'a'\n        run: echo ${item} $1 $false\n");
	ck_assert_str_eq(pb->phases[0].steps[0].run, "echo ${item} $1 $false");
}
END_TEST

START_TEST(for_each_not_a_list)
{
	bad_step("      - id: s\n        name: S\n        for_each: svc\n        run: x\n",
		 "24:19: 'for_each': 'svc' is not a list variable (declare it with list: true)");
}
END_TEST

START_TEST(list_var_in_expression_or_template)
{
	bad_step("      - id: s\n        name: S\n        run: echo ${items}\n",
		 "24:19: 'items' is a list variable: use it as a step's for_each, and ${item}");
}
END_TEST

START_TEST(undefined_var_in_command)
{
	bad_step("      - id: s\n        name: S\n        run: systemctl restart ${svcc}\n",
		 "24:32: undefined variable '${svcc}' (did you mean '${svc}'?)");
}
END_TEST

START_TEST(fact_in_template)
{
	bad_step("      - id: s\n        name: S\n        run: echo ${state}\n",
		 "24:19: '${state}' is a fact: commands substitute vars, roles, node, cluster, cms "
		 "and item; facts are read by expressions");
}
END_TEST

START_TEST(unterminated_substitution)
{
	bad_step("      - id: s\n        name: S\n        run: echo ${svc\n",
		 "24:19: '${' without a closing '}' (write $ alone for a literal $)");
}
END_TEST

START_TEST(role_in_template_and_expression)
{
	ok_base("", "      - id: s\n        name: S\n        require: [lead.state == 'active', "
		    "lead != node, cms != '', cluster != '']\n        run: echo ${lead} ${node}\n");
}
END_TEST

START_TEST(role_dotted_unknown_fact)
{
	bad_step("      - id: s\n        name: S\n        require: [lead.stat == 'a']\n",
		 "24:19: undefined fact 'stat' in 'lead.stat'");
}
END_TEST

START_TEST(saved_requires_record)
{
	bad_step("      - id: s\n        name: S\n        when: saved.x == 'a'\n        run: y\n",
		 "24:15: undefined 'saved.x': no step has record.as 'x'");
	diag_release(&d);
	ok_base("", "      - id: s\n        name: S\n        when: saved.x == 'a'\n        run: y\n"
		    "      - id: r\n        name: R\n        record: {as: x, fact: state}\n"
		    "        run: z\n");
}
END_TEST

START_TEST(role_where_cannot_use_roles)
{
	load_text(
	    "playbook: t\nformat: 1\nfacts:\n  f: {run: x, capture: y}\nroles:\n"
	    "  a: {from: members, where: f == node}\n  b: {from: members, where: a == node}\n"
	    "phases:\n  - id: p\n    on: members\n    steps:\n      - {id: s, name: A, run: x}\n");
	ck_assert_str_eq(err(0), "7:29: role 'a' cannot be used here (roles are bound from facts "
				 "and role conditions)");
}
END_TEST

START_TEST(bad_regex)
{
	bad_base("",
		 "      - id: s\n        name: S\n        check: {run: x, expect: 'a(b'}\n"
		 "        run: y\n",
		 "24:33: bad regex in 'expect': Unmatched ( or \\( ('a(b')");
}
END_TEST

START_TEST(perl_digit_escape_refused)
{
	bad_base("",
		 "      - id: s\n        name: S\n        check: {run: x, expect: 'v\\d+'}\n"
		 "        run: y\n",
		 "24:35: bad regex in 'expect': use [0-9]: \\d is not POSIX");
	diag_release(&d);
	bad_base("",
		 "      - id: s\n        name: S\n        check: {run: x, expect: 'v\\D'}\n"
		 "        run: y\n",
		 "24:35: bad regex in 'expect': use [^0-9]: \\D is not POSIX");
	diag_release(&d);
	ok_base("",
		"      - id: s\n        name: S\n        check: {run: x, expect: 'a\\\\d\\s\\w'}\n"
		"        run: y\n");
}
END_TEST

START_TEST(fact_rules)
{
	load_text("playbook: t\nformat: 1\nfacts:\n  f:\n    run: x\n    capture: '(a)(b)'\n"
		  "    value: '$1.$3'\n  g:\n    run: x\n    capture: a\n    reduce: worst\n"
		  "  h:\n    capture: a\n    order: [a]\nphases: []\n");
	ck_assert_str_eq(err(0), "7:16: 'value' uses $3 but 'capture' has 2 groups");
	ck_assert_str_eq(err(1), "9:5: fact 'g' with 'reduce: worst' needs 'order' (worst value "
				 "first)");
	ck_assert_str_eq(err(2), "13:5: missing required key 'run' in fact 'h'");
	ck_assert_str_eq(err(3), "14:5: 'order' only applies to 'reduce: worst'");
}
END_TEST

START_TEST(fact_run_cannot_use_roles_or_item)
{
	load_text("playbook: t\nformat: 1\nfacts:\n  f: {run: 'x ${item}', capture: a}\n"
		  "phases: []\n");
	ck_assert_str_eq(err(0), "4:15: 'item' is only defined in a step with for_each");
}
END_TEST

START_TEST(var_rules)
{
	load_text("playbook: t\nformat: 1\nvars:\n  a: {kind: versoin}\n  b: {kind: enum}\n"
		  "  c: {kind: int, values: [1]}\n  d: {kind: version, default: 8.x}\n"
		  "  e: {kind: word, default: [x]}\n  f: {kind: raw}\n  g: {kind: enum, values: "
		  "[a], default: b}\n  Bad: {kind: int}\n  node: {kind: int}\nphases: []\n");
	ck_assert_str_eq(err(0), "4:13: unknown kind 'versoin' (kinds: name, service, path, "
				 "version, int, word, text, url, enum, raw)");
	ck_assert_str_eq(err(1), "5:6: var 'b' of kind enum needs 'values'");
	ck_assert_str_eq(err(2), "6:18: 'values' only applies to kind: enum");
	ck_assert_str_eq(err(3), "7:31: default '8.x' for 'd' is not a valid version (dotted "
				 "numbers, e.g. 8.1.240.6)");
	ck_assert_str_eq(err(4), "8:28: 'default': expected a string, got a list (add 'list: "
				 "true' for a list)");
	ck_assert_str_eq(err(5), "9:3: raw var 'f' needs a default (an inventory may not set it)");
	ck_assert_str_eq(err(6), "10:41: default 'b' for 'g' is not one of its values");
	ck_assert_str_eq(err(7), "11:3: bad var name 'Bad' (lower-case letters, digits and '_', "
				 "starting with a letter)");
	ck_assert_str_eq(err(8), "12:3: 'node' is a built-in name and cannot be a var");
}
END_TEST

START_TEST(name_clash_var_fact)
{
	load_text("playbook: t\nformat: 1\nvars:\n  x: {kind: int, default: 1}\nfacts:\n"
		  "  x: {run: a, capture: b}\nphases: []\n");
	ck_assert_str_eq(err(0), "6:3: fact 'x' has the name of a var (at 4:3)");
}
END_TEST

START_TEST(duration_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        timeout: fivemin\n",
		 "25:18: bad duration 'fivemin' for 'timeout' (examples: 30s, 5m, 1h30m, 500ms)");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        timeout: 0\n",
		 "25:18: 'timeout' must be at least 1ms, got '0'");
	diag_release(&d);
	ok_base("", "      - id: s\n        name: S\n        run: x\n        timeout: 1h30m\n"
		    "        estimate: 90\n");
	ck_assert_int_eq(pb->phases[0].steps[0].timeout_ms, 90 * 60 * 1000);
	ck_assert_int_eq(pb->phases[0].steps[0].estimate_ms, 90 * 1000);
}
END_TEST

START_TEST(exit_code_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        ok_exit: [0, -1]\n",
		 "25:22: bad value '-1' in 'ok_exit' (integers 0..2147483647)");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        ok_exit: [abc]\n",
		 "25:19: bad value 'abc' in 'ok_exit' (integers 0..2147483647)");
}
END_TEST

START_TEST(retries_range_and_bool)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        retries: 101\n"
		 "        idempotent: yes\n",
		 "25:18: 'retries': expected an integer 0..100, got '101'");
	ck_assert_str_eq(err(1), "26:21: 'idempotent': expected true or false, got 'yes'");
}
END_TEST

START_TEST(outage_enum)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        outage: begin\n",
		 "25:17: 'outage': expected one of begins, ends, within, got 'begin' (did you "
		 "mean 'begins'?)");
}
END_TEST

START_TEST(gate_with_run)
{
	bad_step("      - id: s\n        name: S\n        gate: Sure?\n        run: x\n",
		 "24:9: a step does one thing: 'gate' cannot be combined with 'run'");
}
END_TEST

START_TEST(step_with_nothing_to_do)
{
	bad_step("      - id: s\n        name: S\n        why: because\n",
		 "22:9: step has nothing to do: give it 'run', 'gate', 'wait', 'http_check', "
		 "'reboot' or 'require'");
}
END_TEST

START_TEST(assertion_step_ok)
{
	ok_base("", "      - id: s\n        name: S\n        require: state == 'active'\n");
	ck_assert_int_eq(pb->phases[0].steps[0].nrequire, 1);
	ck_assert_int_eq(pb->phases[0].steps[0].require_loc[0].line, 24);
}
END_TEST

START_TEST(run_only_keys)
{
	bad_step("      - id: s\n        name: S\n        gate: ok?\n        ok_exit: [0]\n",
		 "25:9: 'ok_exit' only applies to a step with 'run'");
}
END_TEST

START_TEST(reboot_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        reboot: {when: always}\n",
		 "25:9: a step with 'reboot' needs the playbook's top-level 'boot_id:' (the fact "
		 "that changes on every reboot)");
	diag_release(&d);
	bad_base(
	    "boot_id: boot\n",
	    "      - id: s\n        name: S\n        run: x\n        reboot: {when: on_exit}\n",
	    "26:17: reboot 'when: on_exit' needs 'exit_codes' (e.g. [3010])");
	diag_release(&d);
	bad_base("boot_id: boot\n",
		 "      - id: s\n        name: S\n        run: x\n        reboot: {when: on_exit, "
		 "exit_codes: [3010]}\n",
		 "26:45: reboot exit code 3010 is not in the step's ok_exit");
	diag_release(&d);
	ok_base("boot_id: boot\n", "      - id: s\n        name: S\n        run: x\n"
				   "        reboot: {when: always, ready: state == 'active'}\n");
	ck_assert_int_eq(pb->phases[0].steps[0].reboot.down_timeout_ms, 600000);
	ck_assert_int_eq(pb->phases[0].steps[0].reboot.up_timeout_ms, 1800000);
}
END_TEST

START_TEST(reboot_without_run)
{
	bad_base("boot_id: boot\n",
		 "      - id: s\n        name: S\n        reboot: {when: always}\n",
		 "25:9: a 'reboot' step without 'run' needs the playbook's top-level "
		 "'reboot_command:' (how to restart a host)");
	diag_release(&d);
	ok_base("boot_id: boot\nreboot_command: systemctl reboot\n",
		"      - id: s\n        name: S\n        reboot: {when: always}\n");
	ck_assert_str_eq(pb->reboot_command, "systemctl reboot");
	ck_assert_ptr_null(pb->phases[0].steps[0].run);
	playbook_free(pb);
	pb = NULL;
	bad_base(
	    "boot_id: boot\nreboot_command: systemctl reboot\n",
	    "      - id: s\n        name: S\n        reboot: {when: on_exit, exit_codes: [1]}\n",
	    "26:17: reboot 'when: on_exit' needs the step's 'run' (whose exit decides)");
	diag_release(&d);
	bad_base(
	    "boot_id: boot\nreboot_command: systemctl reboot\n",
	    "      - id: s\n        name: S\n        gate: sure?\n        reboot: {when: always}\n",
	    "27:9: a step does one thing: 'reboot' cannot be combined with 'gate'");
	diag_release(&d);
	bad_base("reboot_command: ${nope}\n", "      - {id: s, name: A, run: x}\n",
		 "18:17: undefined variable '${nope}' (did you mean '${node}'?)");
}
END_TEST

START_TEST(boot_id_must_be_a_fact)
{
	bad_base("boot_id: boot_time\n", "      - {id: s, name: A, run: x}\n",
		 "18:10: 'boot_id': undefined fact 'boot_time' (name the fact that changes on "
		 "every reboot)");
}
END_TEST

START_TEST(record_rules)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        record: {as: r}\n",
		 "25:17: 'record' needs 'fact', or 'run' and 'capture'");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        record: {as: r, fact: "
		 "state, run: y, capture: z}\n",
		 "25:17: 'record' takes 'fact' or 'run' + 'capture', not both");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        record: {as: r, fact: "
		 "nope}\n",
		 "25:31: 'record': undefined fact 'nope'");
}
END_TEST

START_TEST(duplicate_record_name)
{
	bad_step("      - {id: a, name: A, run: x, record: {as: r, fact: state}}\n"
		 "      - {id: b, name: B, run: x, record: {as: r, fact: boot}}\n",
		 "23:47: duplicate record name 'r' (first at 22:47)");
}
END_TEST

START_TEST(wait_rules)
{
	bad_step("      - id: s\n        name: S\n        wait: {until: state == 'active'}\n",
		 "24:15: missing required key 'timeout' in wait");
	diag_release(&d);
	ok_base("", "      - id: s\n        name: S\n        wait: {until: state == 'active', "
		    "timeout: 5m}\n");
	ck_assert_int_eq(pb->phases[0].steps[0].wait->interval_ms, 10000);
	ck_assert_int_eq(pb->phases[0].steps[0].wait->timeout_ms, 300000);
}
END_TEST

START_TEST(http_check_rules)
{
	ok_base("",
		"      - id: s\n        name: S\n        http_check: {url: 'http://x:8080/a'}\n");
	const struct http_check_spec *h = pb->phases[0].steps[0].http;
	ck_assert_int_eq(h->nstatus, 1);
	ck_assert_int_eq(h->status[0], 200);
	ck_assert_int_eq(h->timeout_ms, 10000);
	playbook_free(pb);
	pb = NULL;
	bad_step("      - id: s\n        name: S\n        http_check: {url: 'ftp://x', status: "
		 "[99]}\n",
		 "24:27: 'url': 'ftp://x' is not http(s)://host[:port][/path], or empty");
	ck_assert_str_eq(err(1), "24:47: bad value '99' in 'status' (integers 100..599)");
}
END_TEST

START_TEST(check_forms)
{
	bad_step("      - id: s\n        name: S\n        run: x\n        check: [a]\n",
		 "25:16: 'check': expected an expression or a mapping {run, expect, exit}, got a "
		 "list");
	diag_release(&d);
	bad_step("      - id: s\n        name: S\n        run: x\n        check: {expect: a}\n",
		 "25:16: missing required key 'run' in 'check' probe");
	diag_release(&d);
	ok_base("",
		"      - id: s\n        name: S\n        run: x\n        verify: {run: y, exit: "
		"[0, 1]}\n");
	ck_assert_int_eq(pb->phases[0].steps[0].verify.probe->nexit, 2);
}
END_TEST

START_TEST(require_forms)
{
	bad_step("      - id: s\n        name: S\n        require: {a: b}\n",
		 "24:18: 'require': expected an expression or a list of expressions, got a "
		 "mapping");
}
END_TEST

static const char seqs[] = "sequences:\n"
			   "  up:\n"
			   "    - {id: one, name: One, run: x}\n"
			   "    - {id: two, name: Two, run: y}\n";

START_TEST(sequence_inlined)
{
	ok_base(seqs, "      - {id: first, name: F, run: z}\n      - use: up\n");
	ck_assert_int_eq(pb->phases[0].nsteps, 3);
	ck_assert_str_eq(pb->phases[0].steps[2].id, "two");
	ck_assert_str_eq(pb->phases[0].steps[2].from_sequence, "up");
	ck_assert_int_eq(pb->phases[0].steps[2].loc.line, 21);
}
END_TEST

START_TEST(sequence_used_twice_duplicates)
{
	bad_base(seqs, "      - use: up\n      - use: up\n",
		 "20:7: duplicate step id 'one' in phase 'p' (first at 20:7)");
}
END_TEST

START_TEST(undefined_sequence)
{
	bad_base(seqs, "      - use: upp\n",
		 "26:14: 'use': undefined sequence 'upp' (did you mean 'up'?)");
}
END_TEST

START_TEST(use_stands_alone)
{
	bad_base(seqs, "      - use: up\n        id: x\n",
		 "27:9: 'use' stands alone: an item with 'use' takes no other keys (found 'id')");
}
END_TEST

START_TEST(sequence_errors_reported_once)
{
	bad_base("sequences:\n  up:\n    - {id: one, name: One, run: '${zzz}'}\n",
		 "      - use: up\n      - use: up\n", "20:34: undefined variable '${zzz}'");
	ck_assert_int_eq(d.n, 1);
}
END_TEST

START_TEST(sequence_nesting)
{
	ok_base("sequences:\n  a:\n    - {id: x, name: X, run: x}\n  b:\n    - use: a\n"
		"    - {id: y, name: Y, run: y}\n",
		"      - use: b\n");
	ck_assert_int_eq(pb->phases[0].nsteps, 2);
	ck_assert_str_eq(pb->phases[0].steps[0].from_sequence, "a");
	playbook_free(pb);
	pb = NULL;
	bad_base("sequences:\n  a:\n    - {id: x, name: X, run: x}\n  b:\n    - use: a\n"
		 "  c:\n    - use: b\n",
		 "      - use: c\n",
		 "24:12: sequence 'b' uses other sequences itself, so 'c' cannot use it "
		 "(sequences nest one level)");
}
END_TEST

START_TEST(sequence_cycles)
{
	bad_base("sequences:\n  a:\n    - use: a\n", "      - use: a\n",
		 "20:12: sequence 'a' uses itself (a cycle)");
	diag_release(&d);
	bad_base("sequences:\n  a:\n    - use: b\n  b:\n    - use: a\n", "      - use: a\n",
		 "20:12: sequences 'a' and 'b' use each other (a cycle)");
	ck_assert_str_eq(err(1), "22:12: sequences 'b' and 'a' use each other (a cycle)");
}
END_TEST

START_TEST(errors_are_collected)
{
	bad_step("      - id: s\n        name: S\n        run: ${zzz}\n        timeout: soon\n"
		 "        retries: -1\n",
		 "24:14: undefined variable '${zzz}'");
	ck_assert_int_eq(d.n, 3);
	ck_assert_str_eq(err(1), "25:18: bad duration 'soon' for 'timeout' (examples: 30s, 5m, "
				 "1h30m, 500ms)");
	ck_assert_str_eq(err(2), "26:18: 'retries': expected an integer 0..100, got '-1'");
}
END_TEST

START_TEST(missing_file)
{
	ck_assert_ptr_null(playbook_load("/nonexistent.yml", &d));
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].line, 0);
}
END_TEST

static Suite *playbook_suite(void)
{
	Suite *s = suite_create("playbook");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ccr_sp1_loads);
	tcase_add_test(tc, ccr_sp1_model_details);
	tcase_add_test(tc, ccr_sp1_idempotent_marks);
	tcase_add_test(tc, ccr_sp1_sha256);
	tcase_add_test(tc, linux_playbook_loads);
	tcase_add_test(tc, defaults_of_a_run_step);
	tcase_add_test(tc, unknown_top_key_lists_valid);
	tcase_add_test(tc, misspelled_key_suggested);
	tcase_add_test(tc, missing_required_top_keys);
	tcase_add_test(tc, unsupported_format);
	tcase_add_test(tc, top_level_not_mapping);
	tcase_add_test(tc, wrong_types);
	tcase_add_test(tc, steps_must_be_a_list);
	tcase_add_test(tc, step_id_and_name_required);
	tcase_add_test(tc, step_name_without_value);
	tcase_add_test(tc, bad_step_id);
	tcase_add_test(tc, duplicate_step_id);
	tcase_add_test(tc, duplicate_phase_id);
	tcase_add_test(tc, phase_on_and_for_each);
	tcase_add_test(tc, phase_for_each_role_refused);
	tcase_add_test(tc, undefined_role_in_on);
	tcase_add_test(tc, playbook_groups_accepted);
	tcase_add_test(tc, undefined_fact_in_expression);
	tcase_add_test(tc, expression_error_column);
	tcase_add_test(tc, expression_error_in_quoted_scalar);
	tcase_add_test(tc, expression_error_in_folded_scalar_at_start);
	tcase_add_test(tc, item_only_in_for_each);
	tcase_add_test(tc, for_each_and_item);
	tcase_add_test(tc, for_each_not_a_list);
	tcase_add_test(tc, list_var_in_expression_or_template);
	tcase_add_test(tc, undefined_var_in_command);
	tcase_add_test(tc, fact_in_template);
	tcase_add_test(tc, unterminated_substitution);
	tcase_add_test(tc, role_in_template_and_expression);
	tcase_add_test(tc, role_dotted_unknown_fact);
	tcase_add_test(tc, saved_requires_record);
	tcase_add_test(tc, role_where_cannot_use_roles);
	tcase_add_test(tc, bad_regex);
	tcase_add_test(tc, perl_digit_escape_refused);
	tcase_add_test(tc, fact_rules);
	tcase_add_test(tc, fact_run_cannot_use_roles_or_item);
	tcase_add_test(tc, var_rules);
	tcase_add_test(tc, name_clash_var_fact);
	tcase_add_test(tc, duration_rules);
	tcase_add_test(tc, exit_code_rules);
	tcase_add_test(tc, retries_range_and_bool);
	tcase_add_test(tc, outage_enum);
	tcase_add_test(tc, gate_with_run);
	tcase_add_test(tc, step_with_nothing_to_do);
	tcase_add_test(tc, assertion_step_ok);
	tcase_add_test(tc, run_only_keys);
	tcase_add_test(tc, reboot_rules);
	tcase_add_test(tc, reboot_without_run);
	tcase_add_test(tc, boot_id_must_be_a_fact);
	tcase_add_test(tc, record_rules);
	tcase_add_test(tc, duplicate_record_name);
	tcase_add_test(tc, wait_rules);
	tcase_add_test(tc, http_check_rules);
	tcase_add_test(tc, check_forms);
	tcase_add_test(tc, require_forms);
	tcase_add_test(tc, sequence_inlined);
	tcase_add_test(tc, sequence_used_twice_duplicates);
	tcase_add_test(tc, undefined_sequence);
	tcase_add_test(tc, use_stands_alone);
	tcase_add_test(tc, sequence_errors_reported_once);
	tcase_add_test(tc, sequence_nesting);
	tcase_add_test(tc, sequence_cycles);
	tcase_add_test(tc, errors_are_collected);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(playbook_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
