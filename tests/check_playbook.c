/*
 * check_playbook.c — playbook_load() (orchestrator/load/playbook*.c), part one:
 * the shipped playbooks load into the expected model; the top level, vars,
 * facts, roles and phases; names, expressions, templates and regexes.
 * Steps and sequences are in check_playbook_steps.c.  Each rule of
 * docs/playbook.md is checked with its exact message and position.
 */
#include "playbook_test.h"

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
	/* passive and former-active: one own step, then the whole node-upgrade sequence. */
	ck_assert_int_ge(pb->phases[1].nsteps, 10);
	ck_assert_int_eq(pb->phases[1].nsteps, pb->phases[3].nsteps);
	for (int i = 1; i < pb->phases[1].nsteps; i++) {
		ck_assert_str_eq(pb->phases[1].steps[i].id, pb->phases[3].steps[i].id);
		ck_assert_str_eq(pb->phases[1].steps[i].from_sequence, "node-upgrade");
	}
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
	ck_assert_int_eq(s->nok_exit, 2);
	ck_assert_int_eq(s->ok_exit[1], 3010);
	ck_assert_int_eq(s->timeout_ms, 30 * 60 * 1000);
	s = find("former-active", "reboot");
	ck_assert_int_eq(s->reboot.when, REBOOT_ALWAYS);
	ck_assert_ptr_null(s->run);
	ck_assert_ptr_nonnull(s->reboot.ready.expr);
	ck_assert_ptr_nonnull(pb->reboot_command);
	s = find("passive", "note-service");
	ck_assert_str_eq(s->for_each, "perf_services");
	ck_assert_str_eq(s->record->as, "service_state");
	ck_assert_ptr_null(s->run);
	s = find("passive", "stop-service");
	ck_assert_str_eq(s->for_each, "perf_services");
	ck_assert_ptr_null(s->record);
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
START_TEST(unknown_top_key_lists_valid)
{
	bad_base("zzzz: 1\n", "      - id: s\n        name: S\n        run: x\n",
		 "18:1: unknown key 'zzzz' in playbook (valid keys: playbook, format, "
		 "description, vars, facts, boot_id, reboot_command, roles, groups, sequences, "
		 "phases, service, marker, version, shell)");
}
END_TEST

START_TEST(service_loads)
{
	ok_base("service:\n  name: the web shop\n  impact: customers cannot order\n",
		"      - id: s\n        name: S\n        run: x\n");
	ck_assert_str_eq(pb->service_name, "the web shop");
	ck_assert_str_eq(pb->outage_impact, "customers cannot order");
}
END_TEST

START_TEST(service_bad)
{
	bad_base("service:\n  name: shop\n  impakt: x\n",
		 "      - id: s\n        name: S\n        run: x\n",
		 "20:3: unknown key 'impakt' in service (did you mean 'impact'?)");
	playbook_free(pb);
	pb = NULL;
	diag_release(&d);
	diag_init(&d);
	ck_assert_ptr_null(
	    load_base("service: [a]\n", "      - id: s\n        name: S\n        run: x\n"));
	ck_assert_int_ge(d.n, 1);
}
END_TEST
START_TEST(shell_loads_and_bad_shell_located)
{
	ok_base("shell: cmd\n", "      - id: s\n        name: S\n        run: x\n");
	ck_assert_int_eq(pb->shell, PB_SHELL_CMD);
	playbook_free(pb);
	pb = NULL;
	ok_base("shell: sh\n", "      - id: s\n        name: S\n        run: x\n");
	ck_assert_int_eq(pb->shell, PB_SHELL_SH);
	playbook_free(pb);
	pb = NULL;
	ok_base("", "      - id: s\n        name: S\n        run: x\n");
	ck_assert_int_eq(pb->shell, PB_SHELL_NONE);
	playbook_free(pb);
	pb = NULL;
	diag_release(&d);
	diag_init(&d);
	bad_base("shell: powershell\n", "      - id: s\n        name: S\n        run: x\n",
		 "18:8: 'shell': unknown shell 'powershell' (cmd or sh)");
}
END_TEST

START_TEST(misspelled_key_suggested)
{
	bad_step("      - id: s\n        name: S\n        requires: [state == 'active']\n",
		 "24:9: unknown key 'requires' in step (did you mean 'require'?)");
}
END_TEST
START_TEST(misspelled_required_key_reported_once)
{
	load_text("playbook: t\nformat: 1\nfacts:\n  f: {run: x, captur: y}\nphases: []\n");
	ck_assert_ptr_null(pb);
	ck_assert_int_eq(d.n, 2);
	ck_assert_str_eq(err(0),
			 "4:15: unknown key 'captur' in fact 'f' (did you mean 'capture'?)");
	ck_assert_str_eq(err(1), "5:9: 'phases' is empty: a playbook needs at least one phase");
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
START_TEST(expression_must_be_text)
{
	bad_step("      - id: s\n        name: S\n        require:\n          - {state: active}\n",
		 "25:13: 'require': expected an expression, got a mapping");
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
				 "version, int, word, text, url, enum, raw, package, dn)");
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
	tcase_add_test(tc, unknown_top_key_lists_valid);
	tcase_add_test(tc, service_loads);
	tcase_add_test(tc, service_bad);
	tcase_add_test(tc, shell_loads_and_bad_shell_located);
	tcase_add_test(tc, misspelled_key_suggested);
	tcase_add_test(tc, misspelled_required_key_reported_once);
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
	tcase_add_test(tc, expression_must_be_text);
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
