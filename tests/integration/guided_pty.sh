#!/bin/sh
# Guided mode through a real pseudo-terminal: ccrup shows each step (node,
# command, why, what the live check found) and asks.  The operator asks for
# details, skips a step, quits half-way (exit 130); `resume` in guided mode
# then finishes the upgrade.  Every answer is journaled.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-guided.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 25 "$2"; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
st="$tmp/state"
python3 tests/lib/guided.py \
	"passive.dotnet-sp1=dy,passive.stop-remote-registry=s,passive.firewall-start-type=q" \
	"$tmp/first.log" -- bin/ccrup apply "$SIM_INV" --state-dir "$st"
rc=$?
j="$st/CLUS1/journal.jsonl"
if [ $rc = 130 ]; then ok "quit at a prompt exits 130"; else ko "quit exit $rc" "$tmp/first.log"; fi
if grep -q "why:" "$tmp/first.log" && grep -q 'run:   "D:\\Prereqs\\NetFx20SP1_x86.exe" /q /norestart' "$tmp/first.log"; then
	ok "each step is shown with why and the exact command"
else
	ko "step display" "$tmp/first.log"
fi
if grep -q "idempotent:" "$tmp/first.log"; then ok "[d]etails shows the step in full"; else ko "details" "$tmp/first.log"; fi
for a in details yes skip quit; do
	if grep -F '"event":"answer"' "$j" | grep -qF "\"answer\":\"$a\""; then
		ok "answer '$a' journaled"
	else
		ko "answer '$a' not in the journal" "$j"
	fi
done
if grep -F '"event":"skipped"' "$j" | grep -F 'stop-remote-registry' | grep -qF 'operator'; then
	ok "skip is journaled as the operator's decision"
else
	ko "operator skip" "$j"
fi
sim_ctl dump >"$tmp/w1.json"
if python3 tests/lib/world.py "$tmp/w1.json" count NODE2 "net stop remoteregistry" 0 &&
	python3 tests/lib/world.py "$tmp/w1.json" count NODE2 "sc config sharedaccess" 0; then
	ok "the skipped step and the step after quit did not run"
else
	ko "world after quit"
fi

python3 tests/lib/guided.py "" "$tmp/second.log" -- bin/ccrup resume "$SIM_INV" --state-dir "$st"
rc=$?
sim_ctl dump >"$tmp/w2.json"
if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/w2.json" upgraded CLUS1 8.1.240.6 DISABLED; then
	ok "guided resume finishes the upgrade"
else
	ko "guided resume exit $rc" "$tmp/second.log"
fi
if grep -q "Run passive.dotnet-sp1" "$tmp/second.log"; then
	ko "resume asked again about a finished step" "$tmp/second.log"
else
	ok "resume does not ask about finished steps"
fi
echo </dev/null | bin/ccrup apply "$SIM_INV" --state-dir "$tmp/state2" >"$tmp/notty.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q -- "--yes" "$tmp/notty.log"; then
	ok "without a terminal and without --yes, apply refuses with a hint (exit 2)"
else
	ko "no-tty refusal exit $rc" "$tmp/notty.log"
fi
echo "guided_pty: $pass passed, $fail failed"
[ "$fail" = 0 ]
