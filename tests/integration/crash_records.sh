#!/bin/sh
# The every-record crash matrix: ccrup is killed with SIGKILL right after its
# Nth durable journal record (an LD_PRELOAD shim counts the fsyncs of
# journal.jsonl, tests/shim/crash_fsync.c), for every N of an undisturbed
# run, on the two-node scenario and on the same cluster with the roles
# reversed (the CMS and the cluster group on NODE2).  Each N is tried twice:
#   A  apply killed after record N, then `ccrup resume --yes`;
#   B  apply killed after record N, the resume killed in turn after its own
#      Kth record (K cycles through 1..17), then `ccrup resume --yes`.
# Every case must reach the undisturbed world: both nodes and the CMS at the
# target, CMS online, firewall back to DISABLED, each node rebooted exactly as
# often as in the undisturbed run (a reboot never repeats), one outage, closed,
# in the world and in the journal; `status` (text and JSON) and `report`
# agree that no outage is ongoing.
#
#   sh tests/integration/crash_records.sh          a sample (make check): the records
#       around the outage on the two-node scenario, the first, middle and last
#       records on the reversed one; each N as A or B in turn
#   CRASH_ALL=1 sh tests/integration/crash_records.sh   every record (make crash-matrix)
#   CRASH_POINTS="54 55" sh tests/integration/crash_records.sh   those records only
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
BUILD=${BUILD:-build}
SHIM=$(pwd)/$BUILD/tests/crash_fsync.so
[ -f "$SHIM" ] || { echo "crash_records: $SHIM missing (make $BUILD/tests/crash_fsync.so)"; exit 1; }
tmp=$(mktemp -d /tmp/ccrup-crashrec.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
kills=0
rkills=0
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 12 "$2"; }
# The shim is not built with the sanitizers; let an ASan build accept it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"

sed -e 's/^\(    cms_owner:\) NODE1/\1 NODE2/' -e 's/^\(    cluster_group_owner:\) NODE1/\1 NODE2/' \
	mock-nodes/scenarios/two-node.yml >"$tmp/reversed.yml"
grep -q 'cms_owner: NODE2' "$tmp/reversed.yml" || { echo "crash_records: cannot reverse the roles"; exit 1; }

# check DIR: the world and every reader agree the run converged.
check() {
	d=$1
	python3 tests/lib/world.py "$d/world.json" converged CLUS1 8.1.240.6 DISABLED "$epochs" >"$d/check.log" || return 1
	j=$d/state/CLUS1/journal.jsonl
	python3 tests/lib/journal_check.py "$j" --done >>"$d/check.log" || return 1
	python3 - "$j" >>"$d/check.log" <<'PY' || return 1
import json, sys
ev = [json.loads(l)["event"] for l in open(sys.argv[1])]
s, e = ev.count("outage-start"), ev.count("outage-end")
if (s, e) != (1, 1):
    print("journal has %d outage-start and %d outage-end records, want 1 and 1" % (s, e))
    sys.exit(1)
PY
	bin/ccrup status "$SIM_INV" --state-dir "$d/state" >"$d/status.txt" 2>>"$d/check.log" || return 1
	if grep -q 'OUTAGE ONGOING' "$d/status.txt" || ! grep -q 'outage: .* in total' "$d/status.txt"; then
		echo "status: $(grep -i outage "$d/status.txt")" >>"$d/check.log"
		return 1
	fi
	bin/ccrup status "$SIM_INV" -o json --state-dir "$d/state" >"$d/status.json" 2>>"$d/check.log" || return 1
	python3 -c "import json,sys; o=json.load(open(sys.argv[1]))['clusters'][0]; sys.exit(0 if o['state']=='done' and not o['outage']['ongoing'] and o['outage']['total_ms']>0 else 1)" "$d/status.json" ||
		{ echo "status -o json: $(cat "$d/status.json" | tr -d '\n' | cut -c1-300)" >>"$d/check.log"; return 1; }
	bin/ccrup report "$SIM_INV" -q --html "$d/report.html" --state-dir "$d/state" 2>>"$d/check.log" || return 1
	if grep -qi 'outage ongoing' "$d/report.html"; then
		echo "report says the outage is ongoing" >>"$d/check.log"
		return 1
	fi
}

# one_case SCENARIO N K: kill apply after record N (and the resume after its Kth, if K > 0).
one_case() {
	scn=$1 n=$2 k=$3
	d=$tmp/case
	rm -rf "$d"
	sim_start "$scn" 0 "$d/sim" || { ko "$name N=$n: ccrsim"; return; }
	CCRUP_CRASH_AFTER=$n LD_PRELOAD=$SHIM bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/state" >"$d/apply.log" 2>&1
	rc=$?
	[ $rc = 137 ] && kills=$((kills + 1))
	if [ $rc != 137 ] && [ $rc != 0 ]; then
		sim_stop
		ko "$name N=$n: apply exited $rc (want killed, or 0 past the last record)" "$d/apply.log"
		return
	fi
	if [ "$k" -gt 0 ]; then
		CCRUP_CRASH_AFTER=$k LD_PRELOAD=$SHIM bin/ccrup resume "$SIM_INV" --yes --state-dir "$d/state" >"$d/resume1.log" 2>&1
		rc=$?
		[ $rc = 137 ] && rkills=$((rkills + 1))
		if [ $rc != 137 ] && [ $rc != 0 ]; then
			sim_stop
			ko "$name N=$n K=$k: first resume exited $rc" "$d/resume1.log"
			return
		fi
	fi
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$d/state" >"$d/resume.log" 2>&1
	rc=$?
	sim_ctl dump >"$d/world.json"
	if [ $rc != 0 ]; then
		ko "$name N=$n K=$k: resume exited $rc" "$d/resume.log"
	elif ! check "$d"; then
		ko "$name N=$n K=$k: $(tail -n 3 "$d/check.log" | tr '\n' ' ')" "$d/resume.log"
	else
		pass=$((pass + 1))
	fi
	sim_stop
}

sample=
for name in two-node reversed; do
	scn=mock-nodes/scenarios/two-node.yml
	[ $name = reversed ] && scn=$tmp/reversed.yml
	# An undisturbed run: how many records, and how often each node reboots.
	sim_start "$scn" 0 "$tmp/clean" || { ko "$name: ccrsim"; continue; }
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/clean/state" >"$tmp/clean.log" 2>&1 ||
		{ ko "$name: undisturbed run" "$tmp/clean.log"; sim_stop; continue; }
	epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
	sim_stop
	J=$tmp/clean/state/CLUS1/journal.jsonl
	total=$(wc -l <"$J")
	# The records around the outage are always in the sample.
	crit=$(python3 -c "
import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    r = json.loads(l)
    if r['event'] in ('outage-start', 'outage-end') or (r['event'] == 'done' and r.get('step', '').startswith('cms.')):
        print(n - 1, n)
" "$J" | tr '\n' ' ')
	rm -rf "$tmp/clean"
	if [ -n "${CRASH_POINTS:-}" ]; then
		cases=$CRASH_POINTS
	elif [ -n "${CRASH_ALL:-}" ]; then
		cases=$(seq 1 "$total")
	else
		sample=1
		if [ $name = two-node ]; then
			cases=$(printf '%s\n' $crit | sort -nu)
		else
			cases=$(printf '%s\n' 1 $((total / 2)) $total | sort -nu)
		fi
	fi
	echo "crash_records: $name: $total records in an undisturbed run; reboots: $epochs; cases: $(echo $cases | wc -w)${sample:+ (A and B in turn)}${sample:- x 2 (A and B)}"
	i=0
	for n in $cases; do
		[ "$n" -ge 1 ] || continue
		i=$((i + 1))
		if [ -z "${sample:-}" ] || [ $((i % 2)) = 1 ]; then one_case "$scn" "$n" 0; fi
		if [ -z "${sample:-}" ] || [ $((i % 2)) = 0 ]; then one_case "$scn" "$n" $((1 + (n * 7) % 17)); fi
	done
done
echo "crash_records: $pass passed, $fail failed ($kills applies and $rkills resumes killed after a record)"
[ "$fail" = 0 ]
