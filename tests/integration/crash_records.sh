#!/bin/sh
# The every-record crash matrix: ccrup is killed with SIGKILL at every point
# where its journal changes, for every such point of an undisturbed run, on
# the two-node scenario and on the same cluster with the roles reversed (the
# CMS and the cluster group on NODE2).  An LD_PRELOAD shim
# (tests/shim/crash_fsync.c) counts the writes and fsyncs of journal.jsonl.
# Records are written at once and fsync'd in groups, before the next remote
# command that changes a node (docs/reliability.md), so the points are:
#   write N  killed right after the Nth record's write(2), before its fsync,
#            with what the last fsync did not cover kept (the process died),
#            all lost or half lost, ending in a torn line (the machine died);
#            the three in turn, by N
#   fsync N  killed right after the Nth fsync
# Each write point is tried twice, each fsync point once:
#   A  apply killed at the point, then `ccrup resume --yes`;
#   B  apply killed at write N, the resume killed in turn after its own Kth
#      write (K cycles through 1..17, losing its unsynced tail in turn), then
#      `ccrup resume --yes`.
# Every case must reach the undisturbed world: both nodes and the CMS at the
# target, CMS online, firewall back to DISABLED, each node rebooted exactly as
# often as in the undisturbed run (a reboot never repeats), one outage, closed,
# in the world and in the journal; `status` (text and JSON) and `report`
# agree that no outage is ongoing.
#
#   sh tests/integration/crash_records.sh          a sample (make check): the records
#       around the outage on the two-node scenario, the first, middle and last
#       records on the reversed one, as write points A or B in turn; and the
#       fsync points around the outage
#   CRASH_ALL=1 sh tests/integration/crash_records.sh   every point (make crash-matrix)
#   CRASH_POINTS="54 55" sh tests/integration/crash_records.sh   those write points only
#   CRASH_SCENARIOS=reversed  only these scenarios (two-node, reversed; default both)
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

# lose_mode N: what a crash at write point N does to the unsynced tail, in turn.
lose_mode() {
	case $(($1 % 3)) in 0) echo keep ;; 1) echo unsynced ;; *) echo torn ;; esac
}

# again DIR: what continues after a crash: `resume`, or `apply` when the crash
# lost every record (the run-start was never durable: nothing that changes a
# node had been sent, and resume rightly says no run has started).
again() {
	if [ "$(cat "$1/state/CLUS1/journal.jsonl" 2>/dev/null | wc -l)" -gt 0 ]; then echo resume; else echo apply; fi
}

# one_case SCENARIO KIND N K: kill apply at point N (KIND write or fsync), and
# the resume after its Kth write if K > 0.
one_case() {
	scn=$1 kind=$2 n=$3 k=$4
	d=$tmp/case
	rm -rf "$d"
	if [ "$kind" = write ]; then
		lose=$(lose_mode "$n")
		what="$name write N=$n ($lose)"
		set -- CCRUP_CRASH_AFTER_WRITE="$n" CCRUP_CRASH_LOSE="$lose"
	else
		what="$name fsync N=$n"
		set -- CCRUP_CRASH_AFTER="$n"
	fi
	sim_start "$scn" 0 "$d/sim" || { ko "$what: ccrsim"; return; }
	env "$@" LD_PRELOAD="$SHIM" bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/state" >"$d/apply.log" 2>&1
	rc=$?
	[ $rc = 137 ] && kills=$((kills + 1))
	if [ $rc != 137 ] && [ $rc != 0 ]; then
		sim_stop
		ko "$what: apply exited $rc (want killed, or 0 past the last point)" "$d/apply.log"
		return
	fi
	if [ "$k" -gt 0 ]; then
		what="$what K=$k ($(lose_mode $((k + 1))))"
		CCRUP_CRASH_AFTER_WRITE=$k CCRUP_CRASH_LOSE=$(lose_mode $((k + 1))) LD_PRELOAD=$SHIM \
			bin/ccrup "$(again "$d")" "$SIM_INV" --yes --state-dir "$d/state" >"$d/resume1.log" 2>&1
		rc=$?
		[ $rc = 137 ] && rkills=$((rkills + 1))
		if [ $rc != 137 ] && [ $rc != 0 ]; then
			sim_stop
			ko "$what: first resume exited $rc" "$d/resume1.log"
			return
		fi
	fi
	bin/ccrup "$(again "$d")" "$SIM_INV" --yes --state-dir "$d/state" >"$d/resume.log" 2>&1
	rc=$?
	sim_ctl dump >"$d/world.json"
	if [ $rc != 0 ]; then
		ko "$what: resume exited $rc" "$d/resume.log"
	elif ! check "$d"; then
		ko "$what: $(tail -n 3 "$d/check.log" | tr '\n' ' ')" "$d/resume.log"
	else
		pass=$((pass + 1))
	fi
	sim_stop
}

sample=
for name in ${CRASH_SCENARIOS:-two-node reversed}; do
	scn=mock-nodes/scenarios/two-node.yml
	[ $name = reversed ] && scn=$tmp/reversed.yml
	# An undisturbed run: how many records and fsyncs, and how often each node reboots.
	sim_start "$scn" 0 "$tmp/clean" || { ko "$name: ccrsim"; continue; }
	CCRUP_CRASH_TALLY=$tmp/tally LD_PRELOAD=$SHIM bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/clean/state" >"$tmp/clean.log" 2>&1 ||
		{ ko "$name: undisturbed run" "$tmp/clean.log"; sim_stop; continue; }
	epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
	sim_stop
	J=$tmp/clean/state/CLUS1/journal.jsonl
	total=$(wc -l <"$J")
	read -r fsyncs writes <"$tmp/tally"
	[ "$writes" = "$total" ] || ko "$name: the shim counted $writes writes for $total records"
	# The records around the outage are always in the sample.
	crit=$(python3 -c "
import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    r = json.loads(l)
    if r['event'] in ('outage-start', 'outage-end') or (r['event'] == 'done' and r.get('step', '').startswith('cms.')):
        print(n - 1, n)
" "$J" | tr '\n' ' ')
	rm -rf "$tmp/clean"
	fcases=
	if [ -n "${CRASH_POINTS:-}" ]; then
		cases=$CRASH_POINTS
	elif [ -n "${CRASH_ALL:-}" ]; then
		cases=$(seq 1 "$total")
		fcases=$(seq 1 "$fsyncs")
	else
		sample=1
		if [ $name = two-node ]; then
			cases=$(printf '%s\n' $crit | sort -nu)
			fcases=$(printf '%s\n' 1 $((fsyncs / 2)) $((fsyncs / 2 + 1)) "$fsyncs" | sort -nu)
		else
			cases=$(printf '%s\n' 1 $((total / 2)) $total | sort -nu)
		fi
	fi
	echo "crash_records: $name: $total records and $fsyncs fsyncs in an undisturbed run; reboots: $epochs;" \
		"write points: $(echo $cases | wc -w) $([ -n "$sample" ] && echo "(A and B in turn)" || echo "x 2 (A and B)"); fsync points: $(echo $fcases | wc -w)"
	i=0
	for n in $cases; do
		[ "$n" -ge 1 ] || continue
		i=$((i + 1))
		if [ -z "${sample:-}" ] || [ $((i % 2)) = 1 ]; then one_case "$scn" write "$n" 0; fi
		if [ -z "${sample:-}" ] || [ $((i % 2)) = 0 ]; then one_case "$scn" write "$n" $((1 + (n * 7) % 17)); fi
	done
	for n in $fcases; do
		one_case "$scn" fsync "$n" 0
	done
done
echo "crash_records: $pass passed, $fail failed ($kills applies and $rkills resumes killed at a crash point)"
[ "$fail" = 0 ]
