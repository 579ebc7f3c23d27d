#!/bin/sh
# SIGTERM (and SIGINT) while a fact probe runs is an interruption, not a failure: exit 130,
# "run interrupted", the journal's run-end says interrupted, no step is recorded failed, and
# `ccrup resume` finishes the run.  Probes at role binding (before any step) and inside a step
# (its check/require), against ccrsim on loopback (time scale 0) with a `hang` fault on the
# probe's command.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-intprobe.XXXXXX)
run=
trap '[ -n "$run" ] && kill "$run" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

fired() { sim_ctl dump | python3 -c "import json,sys; print(sum(f['fired'] for f in json.load(sys.stdin)['faults']))"; }

# case NAME SIGNAL MATCH: hang MATCH once, signal ccrup while it hangs there
case_probe() {
	name=$1 sig=$2 match=$3
	d=$tmp/$name
	sim_start mock-nodes/scenarios/two-node.yml 0 "$d/sim" || { ko "$name: ccrsim did not start"; return; }
	sim_ctl fault-add "{\"host\":\"*\",\"match\":\"$match\",\"kind\":\"hang\",\"count\":1}" >/dev/null
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/st" >"$d/apply.log" 2>&1 &
	run=$!
	i=0
	while [ "$(fired)" = 0 ] && [ $i -lt 300 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.2
	kill -"$sig" "$run"
	wait "$run"
	rc=$?
	run=
	last=$(tail -n 1 "$d/st/CLUS1/journal.jsonl" 2>/dev/null)
	if [ "$(fired)" = 1 ] && [ $rc = 130 ] && grep -q "run interrupted" "$d/apply.log" &&
		! grep -q "FAILED" "$d/apply.log" && ! grep -q '"event":"failed"' "$d/st/CLUS1/journal.jsonl" &&
		echo "$last" | grep -q '"result":"interrupted"'; then
		ok "$name: SIG$sig while the probe ($match) hangs: exit 130, run interrupted, no step failed"
	else
		ko "$name: SIG$sig during the probe: exit $rc (want 130); last record: $last" "$d/apply.log"
	fi
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$d/st" >"$d/resume.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		ok "$name: resume finishes the run (exit 0)"
	else
		ko "$name: resume exit $rc" "$d/resume.log"
	fi
	sim_stop
}

case_probe binding TERM "Get-ClusteredMailboxServerStatus"
case_probe step-probe TERM "PendingFileRenameOperations"
case_probe step-probe-int INT "PendingFileRenameOperations"

echo "interrupt_probe: $pass passed, $fail failed"
[ "$fail" = 0 ]
