#!/bin/sh
# How late ccrup notices that a wait step's condition came true.  ccrsim runs
# two-node.yml at time scale 1 with every Windows action shortened to
# milliseconds except replication_catchup (2 s): after each node's restart the
# copy shows Initializing and drains for 2 s, and ccr-sp1's replication-healthy
# wait polls for it.  A wait polls again after a quarter of the time waited so
# far (at least 100 ms, at most the step's interval): the 2 s catch-up must be
# seen within 2.7 s.  (Doubling the pause from 100 ms saw it at 3.0 s.)
# ccrsim on loopback, stopped by PID; temp dir removed.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-waitlat.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2"; }

sed -e 's/^  setup: .*/  setup: 100ms/' -e 's/^  upgrade_cms: .*/  upgrade_cms: 50ms/' \
	-e 's/^  dotnet: .*/  dotnet: 20ms/' -e 's/^  reboot: .*/  reboot: 50ms/' \
	-e 's/^  reboot_down: .*/  reboot_down: 5ms/' -e 's/^  cms_stop: .*/  cms_stop: 20ms/' \
	-e 's/^  cms_start: .*/  cms_start: 20ms/' -e 's/^  cms_move: .*/  cms_move: 20ms/' \
	-e 's/^  failover: .*/  failover: 20ms/' -e 's/^  replication_catchup: .*/  replication_catchup: 2s/' \
	-e 's/^  net_stop: .*/  net_stop: 5ms/' -e 's/^  net_start: .*/  net_start: 5ms/' \
	-e 's/^  cluster_move: .*/  cluster_move: 5ms/' \
	mock-nodes/scenarios/two-node.yml >"$tmp/scenario.yml"

sim_start "$tmp/scenario.yml" 1 "$tmp/sim" || { ko "ccrsim"; exit 1; }
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/state" >"$tmp/apply.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/world.json"
sim_stop
if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/world.json" upgraded CLUS1 8.1.240.6 DISABLED; then
	ok "upgrade with a 2 s replication catch-up after each restart: done, world upgraded"
else
	ko "apply exited $rc" "$tmp/apply.log"
fi

bin/ccrup status "$SIM_INV" --state-dir "$tmp/state" -o json >"$tmp/st.json"
if python3 -c "
import json, sys
c = json.load(open('$tmp/st.json'))['clusters'][0]
ms = {s['id']: s['duration_ms'] for s in c['steps'] if s['id'].endswith('.replication-healthy')}
w = [ms['passive.replication-healthy'], ms['former-active.replication-healthy']]
print('replication-healthy waits: %s ms' % ', '.join(str(x) for x in w))
sys.exit(0 if all(1500 <= x <= 2700 for x in w) else 1)" >"$tmp/waits.txt"; then
	ok "the 2 s catch-ups are noticed promptly ($(cat "$tmp/waits.txt"))"
else
	ko "waits noticed late: $(cat "$tmp/waits.txt")" "$tmp/st.json"
fi

echo "wait_latency: $pass passed, $fail failed"
[ "$fail" = 0 ]
