#!/bin/sh
# Golden tests of the offline plan: the text and JSON plans of the shipped
# playbooks against tests/golden/.  A deliberate change to a playbook or to the
# plan's format regenerates them with: UPDATE_GOLDEN=1 sh tests/integration/plan_golden.sh
# (then review the diff).  sha256 fields are masked: they change with every edit.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/ccrup-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

mask() { sed -E 's/"sha256": "[0-9a-f]{64}"/"sha256": "…"/'; }

check() { # NAME COMMAND...
	name=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	mask <"$tmp/out" >"$tmp/$name"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$tmp/$name" "tests/golden/$name"
	fi
	if [ $rc = 0 ] && cmp -s "$tmp/$name" "tests/golden/$name"; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "not ok - $name (exit $rc)"
		cat "$tmp/err"
		diff -u "tests/golden/$name" "$tmp/$name" | head -40
	fi
}

check ccr-sp1.plan.txt bin/ccrup plan playbooks/inventory.example.yml
check ccr-sp1.plan.json bin/ccrup plan playbooks/inventory.example.yml -o json
check linux.plan.txt bin/ccrup plan playbooks/inventory.linux.example.yml -p playbooks/linux-rolling-restart.yml
check linux.plan.json bin/ccrup plan playbooks/inventory.linux.example.yml -p playbooks/linux-rolling-restart.yml -o json

# A `when` decided by the inventory's variables says so, with the values it read: the
# failback phase (failback: none) does not read as a second outage to come.
want() { # DESCRIPTION FIXED-TEXT (in the text plan)
	if grep -qF -- "$2" "$tmp/ccr-sp1.plan.txt"; then
		pass=$((pass + 1))
		echo "ok - $1"
	else
		fail=$((fail + 1))
		echo "not ok - $1: no line with: $2"
	fi
}
want "the failback phase shows its when, false, and why" \
	"  when     failback == 'original'  (false: failback = 'none')"
want "  and its step says the phase's when makes it not apply" \
	"      when     phase failback: failback == 'original'  (false: failback ="
want "a step's when decided from variables shows the value it read" \
	"      when     owa_url != ''  (false: owa_url = '')"
want "a when that reads facts is decided live" \
	"      when     binaries_version < target_version  (decided live)"

# The JSON plan is valid JSON and lists reference steps 0-14 in order.
if python3 - "$tmp/ccr-sp1.plan.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids = [s["id"] for s in d["clusters"][0]["steps"]]
order = ["preflight.lab-tested", "passive.dotnet-sp1", "passive.move-cluster-group",
         "passive.stop-service[SysmonLog]", "passive.start-remote-registry",
         "passive.firewall-start", "passive.setup", "passive.reboot", "cms.stop-cms",
         "cms.move-cms", "cms.upgrade-cms", "former-active.setup", "restore.firewall-start-type",
         "failback.move-cms-back", "final.cms-at-target"]
pos = [ids.index(x) for x in order]
# move-cluster-group precedes dotnet in the passive phase (resources first), all else in order
assert pos[2] < pos[1] and pos[1] < pos[3] and pos[3:] == sorted(pos[3:]), pos
PY
then
	pass=$((pass + 1))
	echo "ok - the JSON plan lists reference steps 0-14 in order"
else
	fail=$((fail + 1))
	echo "not ok - reference step order"
fi
# The JSON plan carries the text header's tables: role holders now and after the run,
# and the versions (offline: none read yet).
if python3 - "$tmp/ccr-sp1.plan.json" "$tmp/linux.plan.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["clusters"][0]
assert c["role_holders"] == [{"role": "active", "now": ["NODE1"], "after": ["NODE2"]},
                             {"role": "passive", "now": ["NODE2"], "after": ["NODE1"]}], c["role_holders"]
v = c["versions"]
assert v["fact"] == "binaries_version" and v["target_var"] == "target_version", v
assert v["target"] == "8.1.240.6" and v["group"] == "members", v
assert v["hosts"] == [{"host": "NODE1", "now": None, "read": "not-read"},
                      {"host": "NODE2", "now": None, "read": "not-read"}], v["hosts"]
l = json.load(open(sys.argv[2]))["clusters"][0]
assert l["versions"] is None, l["versions"]
assert all(r["after"] is None for r in l["role_holders"]), l["role_holders"]
PY
then
	pass=$((pass + 1))
	echo "ok - the JSON plan has role_holders (now, after) and versions, as the text header"
else
	fail=$((fail + 1))
	echo "not ok - JSON role_holders / versions"
fi
# Piped, the text plan keeps to 80 columns (a terminal's width otherwise, or --width).
if [ "$(cat "$tmp/ccr-sp1.plan.txt" "$tmp/linux.plan.txt" | awk 'length($0) > 80' | wc -l)" = 0 ] &&
	bin/ccrup plan playbooks/inventory.example.yml --width 120 | awk 'length($0) > 80 { n++ } END { exit !(n > 0) }'; then
	pass=$((pass + 1))
	echo "ok - piped, the plan keeps to 80 columns; --width 120 is honoured"
else
	fail=$((fail + 1))
	echo "not ok - plan width"
	awk 'length($0) > 80' "$tmp/ccr-sp1.plan.txt" "$tmp/linux.plan.txt" | head -5
fi
# The word before a cluster's cms: name is the playbook's service: label ("CMS" in the
# Exchange playbooks, kept by the golden file above); "service" without one.
sed -e 's/^    members: \[web1/    cms: webvip\n&/' playbooks/inventory.linux.example.yml >"$tmp/inv-cms.yml"
bin/ccrup plan "$tmp/inv-cms.yml" -p playbooks/linux-rolling-restart.yml >"$tmp/linux-cms.txt" 2>&1
if grep -q '^Cluster web  service webvip  members' "$tmp/linux-cms.txt" && ! grep -q CMS "$tmp/linux-cms.txt"; then
	pass=$((pass + 1))
	echo "ok - a playbook without service: label shows 'service' before the cms: name"
else
	fail=$((fail + 1))
	echo "not ok - service label"
	head -5 "$tmp/linux-cms.txt"
fi
sed -e 's/^  name: PostgreSQL writes.*/&\n  label: VIP/' playbooks/patroni-rolling.yml >"$tmp/patroni-label.yml"
sed -e 's/^    members: \[/    cms: pgvip\n&/' playbooks/inventory.patroni.example.yml >"$tmp/inv-pg.yml"
bin/ccrup plan "$tmp/inv-pg.yml" -p "$tmp/patroni-label.yml" >"$tmp/pg.txt" 2>&1
if grep -q '^Cluster [^ ]*  VIP pgvip  ' "$tmp/pg.txt"; then
	pass=$((pass + 1))
	echo "ok - service: label names the cms: value in the plan"
else
	fail=$((fail + 1))
	echo "not ok - service: label in the plan"
	head -5 "$tmp/pg.txt"
fi
echo "plan_golden: $pass passed, $fail failed"
[ "$fail" = 0 ]
