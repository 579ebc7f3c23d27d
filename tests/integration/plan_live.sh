#!/bin/sh
# `plan --live` read as an operator reads it, against ccrsim's two-node cluster:
#   - the header's role table: who holds each role now and after the run, and each node's
#     version now and the target
#   - a step the cluster already satisfies says why (the check and the values that hold)
#   - a step found satisfied (or refused) now, while an earlier step that would act on its
#     node runs first, is not called satisfied: it is decided when reached (passive.reboot,
#     restore.*, cms.stop-cms's refusal)
#   - piped, the text keeps to 80 columns; --width N is honoured
#   - on the finished cluster: one line, "nothing to do"
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-plive.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && head -n 40 "$2"; }
widest() { awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$1"; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
st=$tmp/st

bin/ccrup plan "$SIM_INV" --live --state-dir "$st" >"$tmp/live.txt" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^  role  *now  *after the run$' "$tmp/live.txt" &&
	grep -q '^  active  *NODE1  *NODE2$' "$tmp/live.txt" && grep -q '^  passive  *NODE2  *NODE1$' "$tmp/live.txt"; then
	ok "the header names who holds each role now and after the run"
else
	ko "role table (exit $rc)" "$tmp/live.txt"
fi

if grep -q '^Versions (binaries_version now -> target_version):$' "$tmp/live.txt" &&
	grep -q '^  NODE1  *08.00.0685.025 -> 8.1.240.6$' "$tmp/live.txt" && grep -q '^  NODE2  *08.00.0685.025 -> 8.1.240.6$' "$tmp/live.txt"; then
	ok "the header names each node's version now and the target (the playbook's version:)"
else
	ko "versions table" "$tmp/live.txt"
fi

# The step and its detail, joined: the detail is on the lines after the step's.
step() { # ID NODE: the step's status line and its detail as one line
	awk -v id="$1" -v node="$2" '
		/^Live state of/ { live = 1 }
		live && $2 == id && $3 == node { on = 1; printf "%s", $0; next }
		on && /^      [ ]*[^ 0-9]/ { sub(/^ +/, " "); printf "%s", $0; next }
		on { exit }' "$tmp/live.txt"
	echo
}
s11=$(step passive.move-cluster-group NODE2)
case $s11 in
*" satisfied already done: cluster_group_owner != node (cluster_group_owner = 'NODE1', node = 'NODE2')"*)
	ok "a satisfied step says why: its check and the values that satisfy it" ;;
*) ko "satisfied with why: '$s11'" "$tmp/live.txt" ;;
esac
s23=$(step passive.reboot NODE2)
case $s23 in
*" when-reached after step "*" on NODE2; now already done: pending_reboot == 0"*)
	ok "passive.reboot, satisfied now but after setup on NODE2, is decided when reached" ;;
*) ko "passive.reboot: '$s23'" "$tmp/live.txt" ;;
esac
s43=$(step restore.firewall-stop NODE1)
s25=$(step cms.stop-cms NODE2)
case "$s43|$s25" in
*" when-reached after step "*"now already done: firewall_state"*"|"*" when-reached after step "*"; now false: binaries_version >= target_version"*)
	ok "restore.* and a refusal that only holds before the upgrade are decided when reached" ;;
*) ko "restore / refusal: '$s43' '$s25'" "$tmp/live.txt" ;;
esac
if ! grep -q ' satisfied$' "$tmp/live.txt" || [ "$(grep -c ' satisfied$' "$tmp/live.txt")" -le 3 ]; then
	ok "no step after work on its node is called satisfied ($(grep -c ' satisfied$' "$tmp/live.txt") satisfied)"
else
	ko "satisfied steps: $(grep ' satisfied$' "$tmp/live.txt" | tr -s ' ' | tr '\n' ';')"
fi
w=$(widest "$tmp/live.txt")
if [ "$w" -le 80 ]; then
	ok "piped, every line of plan --live keeps to 80 columns"
else
	ko "widest line $w" "$tmp/live.txt"
	awk 'length($0) > 80' "$tmp/live.txt" | head -5
fi
bin/ccrup plan "$SIM_INV" --live --width 132 --state-dir "$st" >"$tmp/live132.txt" 2>&1
w=$(widest "$tmp/live132.txt")
if [ "$w" -gt 80 ] && [ "$w" -le 132 ]; then
	ok "--width 132 is honoured (widest line $w)"
else
	ko "--width 132: widest line $w" "$tmp/live132.txt"
fi
bin/ccrup plan "$SIM_INV" --live -o json --state-dir "$st" >"$tmp/live.json" 2>&1
if python3 - "$tmp/live.json" <<'PY'; then
import json, sys
c = json.load(open(sys.argv[1]))["clusters"][0]
live = {(s["id"], s["node"]): (s["live"], s["detail"]) for s in c["steps"]}
assert live[("passive.reboot", "NODE2")][0] == "when-reached", live[("passive.reboot", "NODE2")]
st, d = live[("passive.move-cluster-group", "NODE2")]
assert st == "satisfied" and d.startswith("already done: cluster_group_owner != node"), (st, d)
assert not c["nothing_to_do"]
v = c["versions"]
assert [h["read"] for h in v["hosts"]] == ["read", "read"], v
assert all(h["now"] and h["now"] != v["target"] for h in v["hosts"]), v
assert {r["role"]: r["after"] for r in c["role_holders"]} == {"active": ["NODE2"], "passive": ["NODE1"]}, c["role_holders"]
PY
	ok "plan --live -o json: the same statuses and details"
else
	ko "live JSON" "$tmp/live.json"
fi

bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/apply.log" 2>&1 || ko "apply" "$tmp/apply.log"
bin/ccrup plan "$SIM_INV" --live --state-dir "$st" >"$tmp/done.txt" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/done.txt")" = 1 ] &&
	grep -q '^cluster CLUS1: nothing to do: every step is already done or does not apply$' "$tmp/done.txt"; then
	ok "plan --live on the finished cluster: one line, nothing to do"
else
	ko "plan --live when finished (exit $rc)" "$tmp/done.txt"
	sed -n '/^Live state/,$p' "$tmp/done.txt" | grep -v ' satisfied$\| not-applicable$\| not-needed$' | head -30
fi
sim_stop
echo "plan_live: $pass passed, $fail failed"
[ "$fail" = 0 ]
