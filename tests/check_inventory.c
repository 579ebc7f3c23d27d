/*
 * check_inventory.c — inventory_load(), model_validate(), the value kinds
 * and the model lookups (orchestrator/load/inventory*.c, model*.c).
 *
 * Inventory tests fill one slot of a small base inventory (the cluster's
 * extra keys) or write a whole file; validation tests check the example
 * inventory's variations against the shipped ccr-sp1 playbook.
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
static struct inventory *inv;
static struct playbook *pb;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_inventory.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/inv.yml", dir);
	diag_init(&d);
	inv = NULL;
	pb = NULL;
}

static void teardown(void)
{
	inventory_free(inv);
	playbook_free(pb);
	diag_release(&d);
	unlink(path);
	rmdir(dir);
	free(path);
}

static const char base[] = "inventory: t\n"
			   "format: 1\n"
			   "hosts:\n"
			   "  NODE1: {address: node1.example.net}\n"
			   "  NODE2: {address: 10.0.0.2, port: 2222, user: admin}\n"
			   "  HUBCAS:\n"
			   "clusters:\n"
			   "  - name: CLUS1\n"
			   "    members: [NODE1, NODE2]\n"
			   "%s";

static const char *err(int i)
{
	static char buf[1024];
	ck_assert_msg(d.n > i, "expected an error #%d, got %d", i + 1, d.n);
	snprintf(buf, sizeof(buf), "%d:%d: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	return buf;
}

static struct inventory *load_text(const char *text)
{
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	inv = inventory_load(path, &d);
	return inv;
}

static struct inventory *load_base(const char *extra)
{
	char *text = xasprintf(base, extra);
	load_text(text);
	free(text);
	return inv;
}

static void bad_text(const char *text, const char *want)
{
	ck_assert_ptr_null(load_text(text));
	ck_assert_str_eq(err(0), want);
}

static void bad_base(const char *extra, const char *want)
{
	ck_assert_ptr_null(load_base(extra));
	ck_assert_str_eq(err(0), want);
}

/* Load the base inventory plus extra, and validate it against ccr-sp1. */
static int validate(const char *extra)
{
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	ck_assert_ptr_nonnull(pb);
	load_base(extra);
	if (inv == NULL)
		ck_abort_msg("inventory: %s", err(0));
	return model_validate(pb, inv, &d);
}

static const char sp1[] = "    cms: E2K7CCR\n    active: NODE1\n    hub_cas: [HUBCAS]\n";

static void bad_vars(const char *vars, const char *want)
{
	char *extra = xasprintf("%s    vars:\n%s", sp1, vars);
	ck_assert_int_eq(validate(extra), -1);
	ck_assert_str_eq(err(0), want);
	free(extra);
}

START_TEST(example_loads_and_validates)
{
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	inv = inventory_load("playbooks/inventory.example.yml", &d);
	ck_assert_ptr_nonnull(pb);
	if (inv == NULL)
		ck_abort_msg("example: %s", err(0));
	ck_assert_int_eq(model_validate(pb, inv, &d), 0);
	ck_assert_int_eq(d.n, 0);
	ck_assert_str_eq(inv->name, "seed-lab");
	ck_assert_int_eq(inv->nhosts, 3);
	const struct host_def *h = inventory_host(inv, "NODE1");
	ck_assert_str_eq(h->address, "node1.contoso.local");
	ck_assert_str_eq(h->user, "administrator");
	ck_assert_str_eq(h->identity, "~/.ssh/id_ed25519");
	ck_assert_int_eq(h->port, 22);
	const struct cluster_def *c = inventory_cluster(inv, "CLUS1");
	ck_assert_str_eq(c->cms, "E2K7CCR");
	ck_assert_str_eq(c->active, "NODE1");
	ck_assert_int_eq(c->ngroups, 2);
	ck_assert_str_eq(c->groups[0].name, "members");
	ck_assert_str_eq(c->groups[1].name, "hub_cas");
	ck_assert_str_eq(cluster_group(c, "hub_cas")->hosts[0], "HUBCAS");
	ck_assert_str_eq(cluster_var(c, "failback")->value, "none");
	ck_assert_int_eq(cluster_var(c, "failback")->key_loc.line, 35);
	ck_assert_ptr_null(cluster_var(c, "nope"));
	ck_assert_int_eq(inv->ssh.command_timeout_ms, 600000);
	ck_assert_int_eq(inv->ssh.keepalive_ms, 30000);
}
END_TEST

START_TEST(linux_example_validates)
{
	if (access("playbooks/linux-rolling-restart.yml", R_OK) != 0 ||
	    access("playbooks/inventory.linux.example.yml", R_OK) != 0)
		return;
	pb = playbook_load("playbooks/linux-rolling-restart.yml", &d);
	inv = inventory_load("playbooks/inventory.linux.example.yml", &d);
	ck_assert_ptr_nonnull(pb);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(model_validate(pb, inv, &d), 0);
}
END_TEST

START_TEST(defaults)
{
	load_base("");
	ck_assert_ptr_nonnull(inv);
	const struct host_def *h = inventory_host(inv, "HUBCAS");
	ck_assert_str_eq(h->address, "HUBCAS");
	ck_assert_int_eq(h->port, 22);
	ck_assert_ptr_null(h->user);
	ck_assert_ptr_null(h->identity);
	h = inventory_host(inv, "NODE2");
	ck_assert_int_eq(h->port, 2222);
	ck_assert_str_eq(h->user, "admin");
	ck_assert_str_eq(inv->ssh.known_hosts, "~/.ssh/known_hosts");
	ck_assert_int_eq(inv->ssh.connect_timeout_ms, 10000);
	ck_assert_ptr_null(inv->clusters[0].active);
	ck_assert_ptr_null(inventory_host(inv, "NODE3"));
	ck_assert_ptr_null(inventory_cluster(inv, "CLUS2"));
}
END_TEST

/* A generated fleet: every host and cluster is found by its exact name (the
 * hash index), names differing only in case or absent are not, and the index
 * agrees with the arrays' order. */
START_TEST(fleet_lookups_hashed)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "inventory: t\nformat: 1\nhosts:\n");
	for (int i = 0; i < 600; i++)
		sbuf_addf(&sb,
			  "  N%dA: {address: 127.0.0.1, port: %d}\n  N%dB: {address: 127.0.0.1, "
			  "port: %d}\n",
			  i, 2000 + 2 * i, i, 2001 + 2 * i);
	sbuf_adds(&sb, "clusters:\n");
	for (int i = 0; i < 600; i++)
		sbuf_addf(&sb, "  - name: C%d\n    members: [N%dA, N%dB]\n    active: N%dA\n", i, i,
			  i, i);
	ck_assert_ptr_nonnull(load_text(sb.buf));
	sbuf_release(&sb);
	ck_assert_ptr_nonnull(inv->host_index);
	ck_assert_int_eq(inv->nhosts, 1200);
	for (int i = 0; i < inv->nhosts; i++)
		ck_assert_ptr_eq(inventory_host(inv, inv->hosts[i].name), &inv->hosts[i]);
	for (int i = 0; i < inv->nclusters; i++)
		ck_assert_ptr_eq(inventory_cluster(inv, inv->clusters[i].name), &inv->clusters[i]);
	ck_assert_ptr_null(inventory_host(inv, "n0a"));
	ck_assert_ptr_null(inventory_host(inv, "N600A"));
	ck_assert_ptr_null(inventory_host(inv, ""));
	ck_assert_ptr_null(inventory_cluster(inv, "c1"));
	ck_assert_ptr_null(inventory_cluster(inv, "C600"));
}
END_TEST

START_TEST(host_name_rules)
{
	bad_text("inventory: t\nformat: 1\nhosts:\n  NODE 1:\n  node;rm:\n  $(x):\n"
		 "clusters: [{name: C, members: [NODE1]}]\n",
		 "4:3: bad host name 'NODE 1' (a host or DNS name: letters, digits, '-' and dots, "
		 "e.g. NODE1)");
	ck_assert_str_eq(err(1), "5:3: bad host name 'node;rm' (a host or DNS name: letters, "
				 "digits, '-' and dots, e.g. NODE1)");
	ck_assert_str_eq(err(2), "6:3: bad host name '$(x)' (a host or DNS name: letters, digits, "
				 "'-' and dots, e.g. NODE1)");
}
END_TEST

START_TEST(host_case_duplicate)
{
	bad_text("inventory: t\nformat: 1\nhosts:\n  NODE1:\n  node1:\n"
		 "clusters: [{name: C, members: [NODE1]}]\n",
		 "5:3: host 'node1' differs from 'NODE1' (at 4:3) only in case");
}
END_TEST

START_TEST(address_rules)
{
	bad_text(
	    "inventory: t\nformat: 1\nhosts:\n  A: {address: 'a b'}\n  B: {address: 999.1.1.1}\n"
	    "  C: {address: 'fe80::1%eth0'}\n  D: {address: '::1'}\n"
	    "clusters: [{name: C, members: [A]}]\n",
	    "4:16: bad address 'a b' (a DNS name, or an IPv4 or IPv6 address)");
	ck_assert_str_eq(err(1), "5:16: bad address '999.1.1.1' (a DNS name, or an IPv4 or IPv6 "
				 "address)");
	ck_assert_int_eq(d.n, 2);
}
END_TEST

START_TEST(port_rules)
{
	bad_text("inventory: t\nformat: 1\ndefaults: {port: 0}\nhosts:\n  A: {port: 70000}\n"
		 "clusters: [{name: C, members: [A]}]\n",
		 "3:18: 'port': expected an integer 1..65535, got '0'");
	ck_assert_str_eq(err(1), "5:13: 'port': expected an integer 1..65535, got '70000'");
}
END_TEST

START_TEST(user_and_identity_rules)
{
	bad_text("inventory: t\nformat: 1\ndefaults: {user: 'a b', identity: \"x\\ty\"}\nhosts:\n"
		 "  A:\nclusters: [{name: C, members: [A]}]\n",
		 "3:18: bad user name 'a b' (letters, digits, . _ -)");
	ck_assert_str_eq(err(1), "3:35: 'identity': 'x\\ty' is not a usable file path");
}
END_TEST

START_TEST(undefined_host_in_members)
{
	bad_base("    hub_cas: [HUBCA]\n    groups:\n      db: [NODE3]\n",
		 "10:15: undefined host 'HUBCA' in 'hub_cas' (did you mean 'HUBCAS'?)");
	ck_assert_str_eq(err(1), "12:12: undefined host 'NODE3' in 'db' (did you mean 'NODE1'?)");
}
END_TEST

START_TEST(active_not_member)
{
	bad_base("    active: HUBCAS\n", "10:13: active 'HUBCAS' is not a member of the cluster");
}
END_TEST

START_TEST(member_listed_twice)
{
	bad_text("inventory: t\nformat: 1\nhosts: {A: , B: }\nclusters:\n"
		 "  - {name: C, members: [A, A]}\n",
		 "5:28: host 'A' is listed twice in 'members'");
}
END_TEST

START_TEST(host_in_two_clusters)
{
	bad_text("inventory: t\nformat: 1\nhosts: {A: , B: }\nclusters:\n"
		 "  - {name: C1, members: [A]}\n  - {name: C2, members: [B, A]}\n",
		 "6:29: host 'A' is already a member of cluster 'C1'");
}
END_TEST

START_TEST(cluster_name_rules)
{
	bad_text("inventory: t\nformat: 1\nhosts: {A: , B: , C: }\nclusters:\n"
		 "  - {name: 'a/b', members: [A]}\n  - {name: '..', members: [B]}\n"
		 "  - {name: A1, members: [C]}\n  - {name: a1, members: []}\n",
		 "5:12: bad cluster name 'a/b' (a host or DNS name: letters, digits, '-' and dots, "
		 "e.g. NODE1)");
	ck_assert_str_eq(err(1), "6:12: bad cluster name '..' (a host or DNS name: letters, "
				 "digits, '-' and dots, e.g. NODE1)");
	ck_assert_str_eq(err(2), "8:12: duplicate cluster name 'a1' (first at 7:5)");
	ck_assert_str_eq(err(3), "8:25: 'members' is empty: a cluster needs at least one member");
}
END_TEST

START_TEST(cms_name_rules)
{
	bad_base("    cms: 'E2K7 CCR'\n",
		 "10:10: bad name 'E2K7 CCR' in 'cms:' (a host or DNS name: "
		 "letters, digits, '-' and dots, e.g. NODE1)");
}
END_TEST

START_TEST(at_least_one_cluster)
{
	bad_text("inventory: t\nformat: 1\nhosts: {A: }\nclusters: []\n",
		 "4:11: 'clusters' is empty: an inventory needs at least one cluster");
	diag_release(&d);
	bad_text("inventory: t\nformat: 1\nhosts: {A: }\n",
		 "1:1: missing required key 'clusters' in the inventory");
}
END_TEST

START_TEST(groups_order_and_reserved)
{
	load_base("    groups:\n      db: [NODE1]\n    hub_cas: [HUBCAS]\n");
	ck_assert_ptr_nonnull(inv);
	const struct cluster_def *c = &inv->clusters[0];
	ck_assert_int_eq(c->ngroups, 3);
	ck_assert_str_eq(c->groups[0].name, "members");
	ck_assert_str_eq(c->groups[1].name, "hub_cas");
	ck_assert_str_eq(c->groups[2].name, "db");
	inventory_free(inv);
	inv = NULL;
	bad_base("    groups:\n      members: [NODE1]\n",
		 "11:7: group 'members' is set by the cluster's own 'members:' key");
}
END_TEST

START_TEST(unknown_keys)
{
	bad_base("    memebrs: [NODE1]\n", "10:5: unknown key 'memebrs' in cluster (did you mean "
					   "'members'?)");
}
END_TEST

START_TEST(notify_rules)
{
	load_base("notify:\n  - {name: ops, url: 'https://hooks.example.net/x', events: "
		  "[outage-start, run-end]}\n");
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(inv->nnotify, 1);
	ck_assert_int_eq(inv->notify[0].kind, NOTIFY_WEBHOOK);
	ck_assert_int_eq(inv->notify[0].nevents, 2);
	ck_assert_int_eq(inv->notify[0].retries, 2);
	ck_assert_int_eq(inv->notify[0].timeout_ms, 10000);
	inventory_free(inv);
	inv = NULL;
	bad_base("notify:\n  - {name: ops, kind: email, url: 'ftp://x', events: [run-stat]}\n",
		 "11:23: 'kind': expected one of webhook, slack, teams, got 'email'");
	ck_assert_str_eq(err(1), "11:35: bad url 'ftp://x' (http(s)://host[:port][/path], or "
				 "empty)");
	ck_assert_str_eq(err(2), "11:55: unknown event 'run-stat' (did you mean 'run-start'? "
				 "events: run-start, phase-start, outage-start, outage-end, "
				 "step-failed, run-end)");
}
END_TEST

START_TEST(acknowledge_syntax)
{
	bad_base("    acknowledge: [preflight, a.b.c]\n",
		 "10:19: acknowledge 'preflight' is not a gate id 'PHASE.STEP'");
	ck_assert_str_eq(err(1), "10:30: acknowledge 'a.b.c' is not a gate id 'PHASE.STEP'");
}
END_TEST

START_TEST(format_and_name)
{
	bad_text("inventory: 'a b'\nformat: 3\nhosts: {A: }\nclusters: [{name: C, members: [A]}]\n",
		 "1:12: bad inventory name 'a b' (letters, digits, _ . -)");
	ck_assert_str_eq(err(1), "2:9: unsupported format '3' (this ccrup reads format: 1)");
}
END_TEST

START_TEST(validate_clean)
{
	ck_assert_int_eq(validate(sp1), 0);
	ck_assert_int_eq(d.n, 0);
}
END_TEST

START_TEST(validate_unknown_var)
{
	bad_vars(
	    "      setupp: 'D:\\x\\setup.com'\n",
	    "14:7: unknown variable 'setupp' (did you mean 'setup'? the playbook ccr-sp1 "
	    "declares: target_version, setup, dotnet_installer, perf_services, max_copy_queue, "
	    "failback, owa_url, ems)");
}
END_TEST

START_TEST(validate_metacharacters_in_value)
{
	bad_vars("      setup: 'D:\\x\" & del *'\n",
		 "14:14: value 'D:\\x\" & del *' for 'setup' is not a valid path (a path: letters, "
		 "digits, space, _ . - \\ / ( ), optional drive 'C:')");
}
END_TEST

START_TEST(validate_wrong_kind)
{
	bad_vars("      target_version: 8.x\n",
		 "14:23: value '8.x' for 'target_version' is not a valid version (dotted numbers, "
		 "e.g. 8.1.240.6)");
}
END_TEST

START_TEST(validate_enum)
{
	bad_vars("      failback: sometimes\n",
		 "14:17: value 'sometimes' for 'failback' is not one of: none, original");
}
END_TEST

START_TEST(validate_raw_refused)
{
	bad_vars("      ems: 'cmd /c'\n", "14:7: variable 'ems' is a raw command fragment: only "
					  "the playbook sets it, an inventory may not");
}
END_TEST

START_TEST(validate_list_shape)
{
	bad_vars("      perf_services: MOM\n",
		 "14:22: 'perf_services': expected a list (it is a list variable), got a string");
	diag_release(&d);
	playbook_free(pb);
	inventory_free(inv);
	bad_vars("      perf_services: [MOM, 'bad name']\n",
		 "14:28: value 'bad name' for 'perf_services' is not a valid service (a service "
		 "name: 1-80 of letters, digits, _ . @ -)");
	diag_release(&d);
	playbook_free(pb);
	inventory_free(inv);
	bad_vars("      setup: [a]\n", "14:14: 'setup': expected a string, got a list");
}
END_TEST

START_TEST(validate_host_vars)
{
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	load_text("inventory: t\nformat: 1\nhosts:\n  A: {vars: {max_copy_queue: many}}\n"
		  "clusters: [{name: C, cms: X, members: [A], hub_cas: []}]\n");
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(model_validate(pb, inv, &d), -1);
	ck_assert_str_eq(err(0), "4:30: value 'many' for 'max_copy_queue' is not a valid int (a "
				 "decimal integer)");
}
END_TEST

START_TEST(validate_missing_group_and_cms)
{
	ck_assert_int_eq(validate(""), -1);
	ck_assert(str_startswith(err(0), "8:5: cluster 'CLUS1' has no group 'hub_cas' (the "
					 "playbook ccr-sp1 uses it at playbooks/ccr-sp1.yml:"));
	ck_assert_str_eq(err(1), "8:5: cluster 'CLUS1' has no 'cms:' but the playbook ccr-sp1 "
				 "uses ${cms}");
}
END_TEST

START_TEST(validate_acknowledge)
{
	char *extra = xasprintf("%s    acknowledge: [preflight.lab-tested, preflight.lab-test, "
				"preflight.cms-online]\n",
				sp1);
	ck_assert_int_eq(validate(extra), -1);
	ck_assert_int_eq(d.n, 2);
	ck_assert_str_eq(err(0), "13:41: acknowledged gate 'preflight.lab-test' is not a step of "
				 "the playbook ccr-sp1");
	ck_assert_str_eq(err(1), "13:61: 'preflight.cms-online' is not a gate: only gate steps "
				 "can be acknowledged");
	free(extra);
}
END_TEST

START_TEST(validate_required_var)
{
	FILE *fp;
	char *pbpath = xasprintf("%s/pb.yml", dir);
	fp = fopen(pbpath, "w");
	fputs("playbook: r\nformat: 1\nvars:\n  need: {kind: word}\nphases:\n  - id: p\n"
	      "    on: members\n    steps:\n      - {id: s, name: S, run: 'echo ${need}'}\n",
	      fp);
	fclose(fp);
	pb = playbook_load(pbpath, &d);
	ck_assert_ptr_nonnull(pb);
	load_base("");
	ck_assert_int_eq(model_validate(pb, inv, &d), -1);
	ck_assert_str_eq(err(0), "8:5: cluster 'CLUS1' does not set variable 'need' (the playbook "
				 "r has no default for it)");
	diag_release(&d);
	inventory_free(inv);
	load_base("    vars: {need: x}\n");
	ck_assert_int_eq(model_validate(pb, inv, &d), 0);
	unlink(pbpath);
	free(pbpath);
}
END_TEST

/*
 * 100,000 hosts in 50,000 clusters: linear work.  A quadratic scan would take
 * minutes and trip the test case's 30 s timeout (fork mode).
 */
START_TEST(big_inventory_is_fast)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_adds(&sb, "inventory: big\nformat: 1\nhosts:\n");
	for (int i = 0; i < 100000; i++)
		sbuf_addf(&sb, "  H%d:\n", i);
	sbuf_adds(&sb, "clusters:\n");
	for (int i = 0; i < 100000; i += 2)
		sbuf_addf(&sb, "  - {name: C%d, cms: X%d, members: [H%d, H%d], hub_cas: [H0]}\n", i,
			  i, i, i + 1);
	load_text(sb.buf);
	sbuf_release(&sb);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(inv->nclusters, 50000);
	pb = playbook_load("playbooks/ccr-sp1.yml", &d);
	ck_assert_int_eq(model_validate(pb, inv, &d), 0);
}
END_TEST

START_TEST(kind_checks)
{
	struct var_def e = {.name = "e", .kind = VK_ENUM};
	char *vals[] = {"none", "original"};
	e.values = vals;
	e.nvalues = 2;
	ck_assert(var_kind_check(VK_NAME, NULL, "NODE1"));
	ck_assert(var_kind_check(VK_NAME, NULL, "node1.contoso.local"));
	ck_assert(!var_kind_check(VK_NAME, NULL, "-x"));
	ck_assert(!var_kind_check(VK_NAME, NULL, "a..b"));
	ck_assert(!var_kind_check(VK_NAME, NULL, "a."));
	ck_assert(!var_kind_check(VK_NAME, NULL, "NODE 1"));
	ck_assert(var_kind_check(VK_SERVICE, NULL, "getty@tty1.service"));
	ck_assert(!var_kind_check(VK_SERVICE, NULL, "a;b"));
	ck_assert(var_kind_check(VK_PATH, NULL, "D:\\Exchange2007SP1\\setup.com"));
	ck_assert(var_kind_check(VK_PATH, NULL, "/usr/bin/systemctl"));
	ck_assert(var_kind_check(VK_PATH, NULL, "C:\\Program Files (x86)\\a"));
	ck_assert(!var_kind_check(VK_PATH, NULL, "D:\\x\" & del *"));
	ck_assert(!var_kind_check(VK_PATH, NULL, "ab:c"));
	ck_assert(!var_kind_check(VK_PATH, NULL, "-rf"));
	ck_assert(!var_kind_check(VK_PATH, NULL, ""));
	ck_assert(var_kind_check(VK_VERSION, NULL, "8.1.240.6"));
	ck_assert(var_kind_check(VK_VERSION, NULL, "8"));
	ck_assert(!var_kind_check(VK_VERSION, NULL, "8.x"));
	ck_assert(!var_kind_check(VK_VERSION, NULL, "8..1"));
	ck_assert(!var_kind_check(VK_VERSION, NULL, "8."));
	ck_assert(var_kind_check(VK_INT, NULL, "-10"));
	ck_assert(!var_kind_check(VK_INT, NULL, "+1"));
	ck_assert(!var_kind_check(VK_INT, NULL, "1e3"));
	ck_assert(var_kind_check(VK_WORD, NULL, "a_b.c-d"));
	ck_assert(!var_kind_check(VK_WORD, NULL, ""));
	ck_assert(var_kind_check(VK_TEXT, NULL, "SP1 upgrade (step 8): ok, done"));
	ck_assert(!var_kind_check(VK_TEXT, NULL, "it's"));
	ck_assert(var_kind_check(VK_URL, NULL, ""));
	ck_assert(var_kind_check(VK_URL, NULL, "https://owa.contoso.local/owa"));
	ck_assert(var_kind_check(VK_URL, NULL, "http://[::1]:8080/a?b=c%20d"));
	ck_assert(!var_kind_check(VK_URL, NULL, "http://x/a&b"));
	ck_assert(!var_kind_check(VK_URL, NULL, "http://x:0/"));
	ck_assert(!var_kind_check(VK_URL, NULL, "http://x/%zz"));
	ck_assert(!var_kind_check(VK_URL, NULL, "ftp://x/"));
	ck_assert(var_kind_check(VK_ENUM, &e, "none"));
	ck_assert(!var_kind_check(VK_ENUM, &e, "None"));
	ck_assert(var_kind_check(VK_RAW, NULL, "anything ; goes"));
}
END_TEST

START_TEST(kind_names)
{
	ck_assert_str_eq(var_kind_name(VK_NAME), "name");
	ck_assert_str_eq(var_kind_name(VK_VERSION), "version");
	ck_assert_str_eq(var_kind_name(VK_RAW), "raw");
	ck_assert_str_eq(var_kind_name((enum var_kind)99), "?");
}
END_TEST

static Suite *inventory_suite(void)
{
	Suite *s = suite_create("inventory");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, example_loads_and_validates);
	tcase_add_test(tc, linux_example_validates);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, fleet_lookups_hashed);
	tcase_add_test(tc, host_name_rules);
	tcase_add_test(tc, host_case_duplicate);
	tcase_add_test(tc, address_rules);
	tcase_add_test(tc, port_rules);
	tcase_add_test(tc, user_and_identity_rules);
	tcase_add_test(tc, undefined_host_in_members);
	tcase_add_test(tc, active_not_member);
	tcase_add_test(tc, member_listed_twice);
	tcase_add_test(tc, host_in_two_clusters);
	tcase_add_test(tc, cluster_name_rules);
	tcase_add_test(tc, cms_name_rules);
	tcase_add_test(tc, at_least_one_cluster);
	tcase_add_test(tc, groups_order_and_reserved);
	tcase_add_test(tc, unknown_keys);
	tcase_add_test(tc, notify_rules);
	tcase_add_test(tc, acknowledge_syntax);
	tcase_add_test(tc, format_and_name);
	tcase_add_test(tc, validate_clean);
	tcase_add_test(tc, validate_unknown_var);
	tcase_add_test(tc, validate_metacharacters_in_value);
	tcase_add_test(tc, validate_wrong_kind);
	tcase_add_test(tc, validate_enum);
	tcase_add_test(tc, validate_raw_refused);
	tcase_add_test(tc, validate_list_shape);
	tcase_add_test(tc, validate_host_vars);
	tcase_add_test(tc, validate_missing_group_and_cms);
	tcase_add_test(tc, validate_acknowledge);
	tcase_add_test(tc, validate_required_var);
	tcase_add_test(tc, big_inventory_is_fast);
	tcase_add_test(tc, kind_checks);
	tcase_add_test(tc, kind_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(inventory_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
