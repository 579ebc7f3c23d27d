#!/bin/sh
# A declared `active:` that differs from the live owner (issue 10, defect 8): the run
# binds the role from the live facts AND warns, naming both hosts; a declared active
# that matches says nothing.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-decl.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 15 "$2"; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/s" || { echo "declared_active: ccrsim did not start"; exit 1; }
inv=$tmp/inv.yml
sed -e 's/^    active: NODE1$/    active: NODE2/' "$SIM_INV" >"$inv"
grep -q "active: NODE2" "$inv" || ko "setup: inventory not rewritten"
bin/ccrup apply "$inv" --yes --state-dir "$tmp/st" >"$tmp/a.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "declares active: NODE2 for cluster CLUS1, but the live facts bind role active to NODE1" "$tmp/a.log" &&
	grep -q '"event":"bind".*"role":"active".*"host":"NODE1"' "$tmp/st/CLUS1/journal.jsonl"; then
	ok "differs: bound from live facts (active = NODE1) and warned, naming both"
else
	ko "differs: exit $rc, warning or binding missing" "$tmp/a.log"
fi
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/s2" || { echo "declared_active: ccrsim did not start"; exit 1; }
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st2" >"$tmp/b.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q "declares active" "$tmp/b.log"; then
	ok "matches: no warning"
else
	ko "matches: exit $rc or a needless warning" "$tmp/b.log"
fi
echo "declared_active: $pass passed, $fail failed"
[ $fail -eq 0 ]
