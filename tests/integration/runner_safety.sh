#!/bin/sh
# The runner's safety nets, against ccrsim on loopback:
#   lock        a second apply/resume while a run holds the cluster's lock exits 4 naming
#               the holder (pid, host, time); status says "running" and names it too; a
#               lock held by some other process (an flock without a record) also exits 4; the lock file a
#               SIGKILLed run leaves behind is no lock
#   journal     a flipped byte or a missing line in the middle: resume and status exit 5
#               naming the line, nothing sent; a torn last line: resume warns and continues
#   changes     a playbook or inventory changed between apply and resume: exit 5, unless
#               --accept-changed-playbook; a stale saved plan (pending reboot set, the
#               Cluster Group moved by hand over ssh): apply --plan exits 3 naming the fact
#   runs        apply over an unfinished run exits 2 saying to resume; resume with nothing
#               to resume says so (exit 2 with no run, 0 after a finished one)
#   signals     SIGTERM during a run (time scale 0.002): exit 130, journal valid, resume
#               completes with every reboot done exactly once
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-safety.XXXXXX)
APID=
FPID=
trap '[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null; [ -n "$FPID" ] && kill "$FPID" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 15 "$2"; }
scn=mock-nodes/scenarios/two-node.yml
target=8.1.240.6
host=$(uname -n)

port_of() { awk -v h="  $1:" '$0 == h {f = 1} f && /port:/ {print $2; exit}' "$SIM_INV"; }
on_node() {
	_p=$(port_of "$1")
	shift
	ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -i "$SIM_DIR/client_ed25519" -p "$_p" administrator@127.0.0.1 "$@"
}
sessions() { sim_json "w['server']['sessions_total']"; }

# ---- reference: the reboots of an undisturbed run ----
sim_start "$scn" 0 "$tmp/s0" || { echo "runner_safety: ccrsim did not start"; exit 1; }
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/clean" >"$tmp/clean.log" 2>&1 || { ko "reference run" "$tmp/clean.log"; exit 1; }
epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
# resume after a finished run: nothing to do, nothing sent
s0=$(sessions)
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/clean" >"$tmp/noresume.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "nothing to resume for cluster CLUS1: the last run finished" "$tmp/noresume.log" && [ "$(sessions)" = "$s0" ]; then
	ok "resume after a finished run: 'nothing to resume ... the last run finished', exit 0, no connection"
else
	ko "resume after a finished run: exit $rc" "$tmp/noresume.log"
fi
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/never" >"$tmp/never.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "nothing to resume for cluster CLUS1: no run has started (use \`ccrup apply\`)" "$tmp/never.log" && [ "$(sessions)" = "$s0" ]; then
	ok "resume with no run at all: 'no run has started (use \`ccrup apply\`)', exit 2"
else
	ko "resume with no run: exit $rc" "$tmp/never.log"
fi
sim_stop

# ---- lock and signals: a slow run (time scale 0.002) ----
sim_start "$scn" 0.002 "$tmp/s1" || exit 1
st=$tmp/slow
j=$st/CLUS1/journal.jsonl
bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/slow.log" 2>&1 &
APID=$!
if wait_begin "$j" passive.setup NODE2; then
	s1=$(sessions)
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/second.log" 2>&1
	rc=$?
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$st" >"$tmp/second-resume.log" 2>&1
	rc2=$?
	if [ $rc = 4 ] && [ $rc2 = 4 ] && [ "$(sessions)" = "$s1" ] &&
		grep -Eq "cluster CLUS1 is locked by pid $APID on host $host since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z \(ccrup apply " "$tmp/second.log"; then
		ok "lock held by a running apply: a second apply and a resume exit 4 naming pid $APID, host $host and the start time; no connection"
	else
		ko "lock held: apply exited $rc, resume $rc2 (want 4)" "$tmp/second.log"
	fi
	bin/ccrup status "$SIM_INV" --state-dir "$st" >"$tmp/status-running.txt" 2>&1
	bin/ccrup status "$SIM_INV" --state-dir "$st" -o json >"$tmp/status-running.json" 2>&1
	if grep -q "^Cluster CLUS1: running" "$tmp/status-running.txt" &&
		grep -q "lock held by pid $APID on $host" "$tmp/status-running.txt" &&
		python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['clusters'][0]; sys.exit(0 if c['state']=='running' and c['lock']['pid']==int(sys.argv[2]) else 1)" "$tmp/status-running.json" "$APID"; then
		ok "status during the run: 'running', lock held by pid $APID (text and JSON)"
	else
		ko "status during the run" "$tmp/status-running.txt"
	fi
	# SIGTERM while setup runs on NODE2
	kill -TERM "$APID"
	wait "$APID"
	rc=$?
	APID=
	if [ $rc = 130 ] && python3 tests/lib/journal_check.py "$j" --count interrupted passive.setup NODE2 1 >"$tmp/jc.log" 2>&1 &&
		tail -n 1 "$j" | grep -q '"event":"run-end","result":"interrupted"'; then
		ok "SIGTERM during setup: exit 130; journal valid, ends 'interrupted' at passive.setup on NODE2"
	else
		ko "SIGTERM: exit $rc (want 130)" "$tmp/slow.log"
		cat "$tmp/jc.log"
	fi
	bin/ccrup status "$SIM_INV" --state-dir "$st" >"$tmp/status-int.txt" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q "^Cluster CLUS1: interrupted" "$tmp/status-int.txt" && ! grep -q "lock held" "$tmp/status-int.txt" &&
		grep -q "next: step [0-9]* passive.setup on NODE2 (\`ccrup resume\`)" "$tmp/status-int.txt"; then
		ok "status after SIGTERM: interrupted, lock free, next step passive.setup (\`ccrup resume\`)"
	else
		ko "status after SIGTERM: exit $rc" "$tmp/status-int.txt"
	fi
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/unfinished.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "cluster CLUS1 has an unfinished run (interrupted); continue it with \`ccrup resume\`" "$tmp/unfinished.log"; then
		ok "apply over the unfinished run: exit 2, 'continue it with \`ccrup resume\`'"
	else
		ko "apply over an unfinished run: exit $rc" "$tmp/unfinished.log"
	fi
	# A lock held by something else than ccrup (no holder record): one process, so that
	# stopping it by its PID frees the lock (flock(1)'s child would keep it).
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(30)' "$st/CLUS1/lock" "$tmp/flock.ready" &
	FPID=$!
	i=0
	while [ ! -f "$tmp/flock.ready" ] && [ $i -lt 200 ]; do
		i=$((i + 1))
		sleep 0.02
	done
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$st" >"$tmp/flock.log" 2>&1
	rc=$?
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
	FPID=
	if [ $rc = 4 ] && grep -q "cluster CLUS1 is locked by another process ($st/CLUS1/lock has no holder record yet)" "$tmp/flock.log"; then
		ok "lock held by another process (flock(1)): resume exits 4 saying there is no holder record"
	else
		ko "flock(1) holder: exit $rc" "$tmp/flock.log"
	fi
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$st" >"$tmp/resume.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/slow.json"
	if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/slow.json" converged CLUS1 "$target" DISABLED "$epochs" >"$tmp/wc" &&
		python3 tests/lib/journal_check.py "$j" --done >>"$tmp/wc"; then
		ok "resume --yes after SIGTERM completes: cluster at $target, reboots exactly as planned ($epochs), journal done"
	else
		ko "resume after SIGTERM: exit $rc; $(cat "$tmp/wc")" "$tmp/resume.log"
	fi
else
	ko "the slow run never began setup on NODE2" "$tmp/slow.log"
	kill -9 "$APID" 2>/dev/null
	APID=
fi
sim_stop

# ---- a SIGKILLed run's lock file is no lock ----
sim_start "$scn" 0 "$tmp/s2" || exit 1
st=$tmp/killed
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"hang","count":1}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/killed.log" 2>&1 &
APID=$!
wait_begin "$st/CLUS1/journal.jsonl" passive.setup NODE2
kill -9 "$APID"
wait "$APID" 2>/dev/null
dead=$APID
APID=
sim_ctl fault-clear >/dev/null
grep -q "\"pid\":$dead," "$st/CLUS1/lock"
had=$?
bin/ccrup resume "$SIM_INV" --yes --state-dir "$st" >"$tmp/killed-resume.log" 2>&1
rc=$?
if [ $had = 0 ] && [ $rc = 0 ] && [ ! -s "$st/CLUS1/lock" ]; then
	ok "a SIGKILLed run's lock file (holder pid $dead, dead) is no lock: resume takes it, completes, empties the record"
else
	ko "stale lock after SIGKILL: record present $had (want 0), resume exit $rc" "$tmp/killed-resume.log"
fi
sim_stop

# ---- the journal, the playbook, the inventory: a run that failed at setup on NODE2 ----
sim_start "$scn" 0 "$tmp/s3" || exit 1
cp playbooks/ccr-sp1.yml "$tmp/pb.yml"
cp "$SIM_INV" "$tmp/inv.yml"
st=$tmp/j
j=$st/CLUS1/journal.jsonl
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"fail","exit":1,"message":"Setup failed (simulated)","count":1}' >/dev/null
bin/ccrup apply "$tmp/inv.yml" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/j-apply.log" 2>&1
rc=$?
[ $rc = 1 ] || ko "the run that fails at setup: exit $rc (want 1)" "$tmp/j-apply.log"
cp "$j" "$tmp/j.good"
s3=$(sessions)

# changed playbook, then changed inventory
printf '# an edit after the run began\n' >>"$tmp/pb.yml"
bin/ccrup resume "$tmp/inv.yml" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/pb-changed.log" 2>&1
rc=$?
if [ $rc = 5 ] && grep -q "$tmp/pb.yml changed since this run started (sha256 [0-9a-f]*\.\.\., now [0-9a-f]*\.\.\.)" "$tmp/pb-changed.log" &&
	grep -q -- "--accept-changed-playbook" "$tmp/pb-changed.log" && [ "$(sessions)" = "$s3" ] && cmp -s "$j" "$tmp/j.good"; then
	ok "playbook changed between apply and resume: exit 5 naming it and both digests; nothing sent, journal untouched"
else
	ko "changed playbook: exit $rc (want 5)" "$tmp/pb-changed.log"
fi
cp playbooks/ccr-sp1.yml "$tmp/pb.yml"
# A change to the plan (the CMS's name), not only to how hosts are reached (docs/journal.md).
sed -i 's/^    cms: E2K7CCR$/    cms: E2K7CCX/' "$tmp/inv.yml"
grep -q 'cms: E2K7CCX' "$tmp/inv.yml" || ko "the inventory edit did not apply" "$tmp/inv.yml"
bin/ccrup resume "$tmp/inv.yml" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/inv-changed.log" 2>&1
rc=$?
if [ $rc = 5 ] && grep -q "$tmp/inv.yml changed since this run started" "$tmp/inv-changed.log" && [ "$(sessions)" = "$s3" ]; then
	ok "inventory changed between apply and resume: exit 5 naming it; nothing sent"
else
	ko "changed inventory: exit $rc (want 5)" "$tmp/inv-changed.log"
fi
cp "$SIM_INV" "$tmp/inv.yml"

# a flipped byte in the middle line
n=$(wc -l <"$j")
m=$(( (n + 1) / 2 ))
python3 - "$j" "$m" <<'PY'
import sys
path, m = sys.argv[1], int(sys.argv[2])
lines = open(path, "rb").read().split(b"\n")
line = bytearray(lines[m - 1])
at = line.index(b'"time":"') + 8 + 3  # a digit of the year: the JSON stays valid
line[at] = ord("7") if line[at] != ord("7") else ord("8")
lines[m - 1] = bytes(line)
open(path, "wb").write(b"\n".join(lines))
PY
bin/ccrup resume "$tmp/inv.yml" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/flip-resume.log" 2>&1
rc=$?
bin/ccrup status "$tmp/inv.yml" -p "$tmp/pb.yml" --state-dir "$st" >"$tmp/flip-status.log" 2>&1
rc2=$?
if [ $rc = 5 ] && [ $rc2 = 5 ] && grep -q "$j:$m: .*CRC" "$tmp/flip-resume.log" && grep -q "$j:$m: .*CRC" "$tmp/flip-status.log" &&
	[ "$(sessions)" = "$s3" ]; then
	ok "a flipped byte in line $m of $n: resume and status exit 5 naming $(basename "$j"):$m (CRC); nothing sent"
else
	ko "flipped byte: resume exited $rc, status $rc2 (want 5, line $m)" "$tmp/flip-resume.log"
	cat "$tmp/flip-status.log"
fi
# a line missing in the middle (seq gap)
sed "${m}d" "$tmp/j.good" >"$j"
bin/ccrup resume "$tmp/inv.yml" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/gap.log" 2>&1
rc=$?
if [ $rc = 5 ] && grep -q "$j:$m: seq $((m + 1)) after seq $((m - 1))" "$tmp/gap.log" && [ "$(sessions)" = "$s3" ]; then
	ok "a line missing in the middle: resume exits 5 naming line $m (seq $((m + 1)) after seq $((m - 1)))"
else
	ko "missing line: exit $rc (want 5)" "$tmp/gap.log"
fi
cp "$tmp/j.good" "$j"

# a torn last line: the run-end record cut in the middle, as a crash mid-write leaves it
size=$(stat -c %s "$j")
lastlen=$(tail -n 1 "$j" | wc -c)
truncate -s $((size - lastlen / 2)) "$j"
bin/ccrup resume "$tmp/inv.yml" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/torn.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/torn.json"
if [ $rc = 0 ] && grep -q "$j:$n: torn last record ignored (crash during write)" "$tmp/torn.log" &&
	python3 tests/lib/world.py "$tmp/torn.json" converged CLUS1 "$target" DISABLED "$epochs" >"$tmp/wc" &&
	python3 tests/lib/journal_check.py "$j" --done >>"$tmp/wc"; then
	ok "a torn last line: resume warns ($(basename "$j"):$n: torn last record ignored) and completes; the journal is whole again"
else
	ko "torn last line: exit $rc; $(cat "$tmp/wc" 2>/dev/null)" "$tmp/torn.log"
fi
sim_stop

# --accept-changed-playbook
sim_start "$scn" 0 "$tmp/s4" || exit 1
cp playbooks/ccr-sp1.yml "$tmp/pb2.yml"
st=$tmp/acc
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"fail","exit":1,"count":1}' >/dev/null
bin/ccrup apply "$SIM_INV" -p "$tmp/pb2.yml" --yes --state-dir "$st" >"$tmp/acc-apply.log" 2>&1
printf '# a deliberate edit\n' >>"$tmp/pb2.yml"
bin/ccrup resume "$SIM_INV" -p "$tmp/pb2.yml" --yes --accept-changed-playbook --state-dir "$st" >"$tmp/acc.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/acc.json"
if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/acc.json" converged CLUS1 "$target" DISABLED "$epochs" >"$tmp/wc"; then
	ok "the same change with --accept-changed-playbook: resume completes"
else
	ko "--accept-changed-playbook: exit $rc; $(cat "$tmp/wc")" "$tmp/acc.log"
fi
sim_stop

# ---- a stale saved plan ----
sim_start "$scn" 0 "$tmp/s5" || exit 1
st=$tmp/plan
bin/ccrup plan "$SIM_INV" --live --save "$tmp/plan.json" >"$tmp/plan.log" 2>&1 || ko "plan --live --save" "$tmp/plan.log"
sim_ctl dump >"$tmp/p0.json"
sim_ctl set NODE2.pending_reboot 1 >/dev/null
bin/ccrup apply "$SIM_INV" --yes --plan "$tmp/plan.json" --state-dir "$st" >"$tmp/stale1.log" 2>&1
rc=$?
sim_ctl set NODE2.pending_reboot 0 >/dev/null
on_node NODE1 'cluster group "Cluster Group" /move:NODE2' >/dev/null 2>&1
bin/ccrup apply "$SIM_INV" --yes --plan "$tmp/plan.json" --state-dir "$st" >"$tmp/stale2.log" 2>&1
rc2=$?
sim_ctl dump >"$tmp/p1.json"
if [ $rc = 3 ] && grep -q "saved plan $tmp/plan.json is stale for cluster CLUS1: pending_reboot on NODE2 was '0', now '1'" "$tmp/stale1.log"; then
	ok "stale saved plan (NODE2 now has a pending reboot): apply --plan exits 3 naming pending_reboot on NODE2, '0' -> '1'"
else
	ko "stale plan, pending reboot: exit $rc (want 3)" "$tmp/stale1.log"
fi
if [ $rc2 = 3 ] && grep -q "is stale for cluster CLUS1: cluster_group_owner was 'NODE1', now 'NODE2'" "$tmp/stale2.log" &&
	! python3 tests/lib/world_delta.py "$tmp/p0.json" "$tmp/p1.json" changing | grep -v '/move:NODE2' | grep -q changing; then
	ok "stale saved plan (Cluster Group moved by hand over ssh): exit 3 naming cluster_group_owner; ccrup changed nothing"
else
	ko "stale plan, Cluster Group moved: exit $rc2 (want 3)" "$tmp/stale2.log"
fi
on_node NODE1 'cluster group "Cluster Group" /move:NODE1' >/dev/null 2>&1
bin/ccrup apply "$SIM_INV" --yes --plan "$tmp/plan.json" --state-dir "$st" >"$tmp/fresh.log" 2>&1
rc=$?
if [ $rc = 0 ]; then
	ok "the same plan once the cluster is back as it was observed: apply --plan completes"
else
	ko "apply --plan on an unchanged cluster: exit $rc" "$tmp/fresh.log"
fi
sim_stop

echo "runner_safety: $pass passed, $fail failed"
[ "$fail" = 0 ]
