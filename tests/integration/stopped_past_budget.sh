#!/bin/sh
# A ccrup process stopped (SIGSTOP: a suspended laptop or VM, a debugger) past a step's
# budget judges the step on what it sees when it runs again, not on what it saw before
# the pause: stopped while NODE2 reboots, for longer than the reboot's (capped) budget,
# while the node comes back, ccrup must find the node up and finish the reboot step --
# not fail it with "did not come back ... (last: connection refused)".  Against ccrsim
# on loopback at time scale 0.005 (a reboot takes 1.5 s), --max-timeout 3s.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-sigstop.XXXXXX)
run=
trap '[ -n "$run" ] && { kill -CONT "$run"; kill -9 "$run"; } 2>/dev/null; sim_stop; [ -z "${KEEP:-}" ] && rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

sim_start mock-nodes/scenarios/two-node.yml 0.005 "$tmp/sim" || exit 1
j=$tmp/st/CLUS1/journal.jsonl
bin/ccrup apply "$SIM_INV" --yes --max-timeout 3s --state-dir "$tmp/st" >"$tmp/apply.log" 2>&1 &
run=$!
i=0
while ! grep -q '"event":"begin".*"step":"passive.dotnet-reboot"' "$j" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
# Into the wait for the node to come back (it goes down within a few hundred ms), then
# stopped for twice the 3 s budget; the node is back after 1.5 s.
sleep 0.6
kill -STOP "$run"
sleep 6
kill -CONT "$run"
i=0
while ! grep -q -e '"event":"done".*"step":"passive.dotnet-reboot"' -e '"event":"failed".*"step":"passive.dotnet-reboot"' "$j" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$run" 2>/dev/null
wait "$run"
run=
if grep -q '"event":"done".*"step":"passive.dotnet-reboot"' "$j" &&
	! grep -q "did not come back" "$tmp/apply.log"; then
	ok "stopped 6 s (budget 3 s) while NODE2 rebooted and came back: the reboot step is done on a fresh look"
else
	ko "stopped past the budget: $(grep -o 'did not come back[^"]*' "$tmp/apply.log" | head -n 1)" "$tmp/apply.log"
fi
echo "stopped_past_budget: $pass passed, $fail failed"
[ "$fail" = 0 ]
