#!/bin/sh
# The run marker on the cluster itself (playbook `marker:`; ccr-sp1: HKLM\SOFTWARE\ccrup
# RunMarker on both nodes), against ccrsim on loopback (time scale 0):
#   - a run holds it on both nodes while it works, naming run id, host, user and start;
#   - a second operator with another state directory (the local lock cannot see the first)
#     is refused with exit 4 naming the holder, before anything is journaled or sent;
#   - a dead holder (SIGKILL) still blocks; --break-marker replaces it (warned, journaled)
#     and the run completes, releasing the marker on both nodes;
#   - a failed run keeps its marker; its own resume takes it again and releases it at the end;
#   - a marker changed under a running run stops it before its next phase (exit 4);
#   - a re-run on a finished cluster leaves no marker behind.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-marker.XXXXXX)
run=
trap '[ -n "$run" ] && kill -9 "$run" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }
scn=mock-nodes/scenarios/two-node.yml
# markers: "NODE1=<text or ->,NODE2=..." from the world dump
markers() { sim_json "','.join('%s=%s' % (h['name'], h['registry'].get('HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\ccrup\\\\RunMarker', '-')) for h in w['hosts'] if h['role'] == 'node')"; }
port_of() { awk -v h="  $1:" '$0 == h {f = 1} f && /port:/ {print $2; exit}' "$SIM_INV"; }
on_node() { # NODE COMMAND: run a command on a simulated node with OpenSSH
	ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -i "$SIM_DIR/client_ed25519" -p "$(port_of "$1")" administrator@127.0.0.1 "$2"
}
wait_fired() {
	i=0
	while [ "$(sim_json "sum(f['fired'] for f in w['faults'])")" = 0 ] && [ $i -lt 300 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.3
}

# ---- two operators, two state directories
sim_start "$scn" 0 "$tmp/sim1" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"hang"}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/opA" >"$tmp/A.log" 2>&1 &
run=$!
wait_fired
runA=$(grep -o '"run_id":"[^"]*"' "$tmp/opA/CLUS1/journal.jsonl" | head -n 1 | cut -d'"' -f4)
m=$(markers)
case $m in
"NODE1=run=$runA;host="*";user="*";started="*",NODE2=run=$runA;host="*)
	ok "run A holds the marker on both nodes while it works: $(echo "$m" | cut -d, -f1)" ;;
*) ko "markers while A runs: $m (A is $runA)" "$tmp/A.log" ;;
esac
sim_ctl dump >"$tmp/w0.json"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/opB" >"$tmp/B1.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/w1.json"
if [ $rc = 4 ] && grep -q "cluster CLUS1 is being upgraded by another run: the marker on NODE1 names run $runA by user $(id -un) on host" "$tmp/B1.log" &&
	python3 tests/lib/world_delta.py "$tmp/w0.json" "$tmp/w1.json" changing >"$tmp/delta1" &&
	! grep -q '"event":"run-start"' "$tmp/opB/CLUS1/journal.jsonl" 2>/dev/null; then
	ok "operator B (another state directory) is refused: exit 4 naming A's run, user and host; nothing journaled or changed"
else
	ko "operator B while A runs: exit $rc (want 4)" "$tmp/B1.log"
	cat "$tmp/delta1"
fi
kill -9 "$run"
wait "$run" 2>/dev/null
run=
sim_ctl fault-clear >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/opB" >"$tmp/B2.log" 2>&1
rc=$?
if [ $rc = 4 ] && grep -q "names run $runA" "$tmp/B2.log" && grep -q -- "--break-marker" "$tmp/B2.log"; then
	ok "A killed (-9): its marker still refuses B (exit 4), which is told about --break-marker"
else
	ko "after A died: exit $rc (want 4)" "$tmp/B2.log"
fi
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/opB" --break-marker >"$tmp/B3.log" 2>&1
rc=$?
m=$(markers)
if [ $rc = 0 ] && grep -q "break-marker: replacing the run marker on NODE1 (run $runA" "$tmp/B3.log" &&
	grep -q '"event":"marker-broken"' "$tmp/opB/CLUS1/journal.jsonl" && [ "$m" = "NODE1=-,NODE2=-" ]; then
	ok "--break-marker: warned and journaled, B's run completes (exit 0) and releases the marker on both nodes"
else
	ko "--break-marker: exit $rc, markers $m" "$tmp/B3.log"
fi
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/opC" >"$tmp/C.log" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(markers)" = "NODE1=-,NODE2=-" ]; then
	ok "a third run on the finished cluster (yet another state directory): exit 0, no marker left behind"
else
	ko "re-run on the finished cluster: exit $rc, markers $(markers)" "$tmp/C.log"
fi
sim_stop

# ---- a failed run keeps its marker; its resume releases it
sim_start "$scn" 0 "$tmp/sim2" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"fail","exit":1,"count":1}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st2" >"$tmp/F1.log" 2>&1
rc1=$?
m1=$(markers)
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/st2" >"$tmp/F2.log" 2>&1
rc2=$?
m2=$(markers)
case $m1 in NODE1=run=*,NODE2=run=*) held=1 ;; *) held=0 ;; esac
if [ $rc1 = 1 ] && [ $held = 1 ] && [ $rc2 = 0 ] && [ "$m2" = "NODE1=-,NODE2=-" ]; then
	ok "a failed run keeps its marker (the cluster is mid-upgrade); its resume takes it again and releases it"
else
	ko "failed run $rc1 (markers $m1), resume $rc2 (markers $m2)" "$tmp/F2.log"
fi
sim_stop

# ---- a marker changed under a running run stops it before its next phase
sim_start "$scn" 0 "$tmp/sim3" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"slow","delay_ms":1500}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st3" >"$tmp/P.log" 2>&1 &
run=$!
wait_fired
on_node NODE2 'reg add "HKLM\SOFTWARE\ccrup" /v RunMarker /t REG_SZ /d "run=intruder-1;host=elsewhere;user=bob;started=2026-01-01T00:00:00Z" /f' >/dev/null 2>&1
wait "$run"
rc=$?
run=
if [ $rc = 4 ] && grep -q "the marker on NODE2 names run intruder-1 by user bob on host elsewhere" "$tmp/P.log" &&
	grep -q "stopped before the next phase" "$tmp/P.log" && ! grep -q "phase cms" "$tmp/P.log" &&
	[ "$(markers)" = "NODE1=run=$(grep -o '"run_id":"[^"]*"' "$tmp/st3/CLUS1/journal.jsonl" | head -n 1 | cut -d'"' -f4);$(markers | sed 's/^NODE1=run=[^;]*;//; s/,NODE2=.*//'),NODE2=run=intruder-1;host=elsewhere;user=bob;started=2026-01-01T00:00:00Z" ]; then
	ok "another run's marker written mid-run: the run stops before its next phase (exit 4), the CMS phase never starts, the intruder's marker stays"
else
	ko "marker changed mid-run: exit $rc (want 4); markers $(markers)" "$tmp/P.log"
fi
sim_stop

echo "run_marker: $pass passed, $fail failed"
[ "$fail" = 0 ]
