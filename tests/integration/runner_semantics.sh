#!/bin/sh
# Runner semantics a user can trust, against ccrsim on loopback (issue: one
# result type, re-runs that change nothing, answers that cannot strand a cluster):
#   inflight    a non-idempotent step in flight when ccrup was killed (-9) is never run
#               again by `resume --yes`: exit 1, the message names the node, the check
#               and both answers; --mark-done refuses while its verify is false (exit 3);
#               --retry runs it once; a typo in STEP is exit 2
#   noop        `apply --yes` on a finished cluster, and on a cluster at the target before
#               ccrup ever ran: zero state-changing commands, no phase, no gate, exit 0,
#               one "nothing to do" line, the journal untouched; `plan --live` says so
#   guarded     guided: at cms.upgrade-cms (outage, point of no return) `s` and `m` need a
#               second answer; mark-done runs its verify live and is refused while false; a
#               confirmed skip leaves it pending: status names it next, the run ends exit 1,
#               resume offers it again (the outage shown as ongoing) and finishes; a skip of
#               a harmless step is one key, and the run still ends exit 1 until it is done
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-sem.XXXXXX)
APID=
trap '[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 15 "$2"; }
scn=mock-nodes/scenarios/two-node.yml
W=tests/lib/world.py

fault() { # fault HOST MATCH KIND
	sim_ctl fault-add "$(python3 -c 'import json,sys; print(json.dumps({"host": sys.argv[1], "match": sys.argv[2], "kind": sys.argv[3]}))' "$1" "$2" "$3")" >/dev/null
}
changing() { # changing DUMP_BEFORE DUMP_AFTER: no state-changing command between two dumps
	python3 tests/lib/world.py "$2" quiet-since "$1"
}

# ---- inflight: a non-idempotent step killed while it hangs ----
pb=$tmp/sp1-nonidem.yml
python3 - playbooks/ccr-sp1.yml "$pb" <<'PY'
import sys
s = open(sys.argv[1]).read()
a = """      run: '"${setup}" /m:upgrade'
      timeout: 2h
      estimate: 30m
      idempotent: true"""
assert a in s
open(sys.argv[2], "w").write(s.replace(a, a.replace("idempotent: true", "idempotent: false")))
PY
sim_start "$scn" 0 "$tmp/s1" || { echo "runner_semantics: ccrsim did not start"; exit 1; }
st=$tmp/st1
j=$st/CLUS1/journal.jsonl
fault NODE2 "setup.com /m:upgrade" hang
bin/ccrup apply "$SIM_INV" -p "$pb" --yes --state-dir "$st" >"$tmp/hang.log" 2>&1 &
APID=$!
if wait_begin "$j" passive.setup NODE2; then
	sleep 0.2
	kill -9 "$APID"
	wait "$APID" 2>/dev/null
	APID=
	sim_ctl fault-clear >/dev/null
	# ccrsim counts the command it held (it never ran): 1 so far
	bin/ccrup resume "$SIM_INV" -p "$pb" --yes --state-dir "$st" >"$tmp/res1.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/w-after.json"
	if [ $rc = 1 ] && python3 $W "$tmp/w-after.json" count NODE2 "/m:upgrade" 1 &&
		grep -q "step passive.setup was interrupted" "$tmp/res1.log" &&
		grep -q "Check on NODE2 whether it ran" "$tmp/res1.log" &&
		grep -qF -- "--mark-done passive.setup@NODE2" "$tmp/res1.log" &&
		grep -qF -- "--retry passive.setup@NODE2" "$tmp/res1.log" &&
		grep -qF "binaries_version >= target_version" "$tmp/res1.log"; then
		ok "resume --yes stops before a non-idempotent step that was in flight: exit 1, setup not re-run, says what to check and how to answer"
	else
		ko "resume --yes re-ran or misreported the in-flight step: exit $rc" "$tmp/res1.log"
	fi
	bin/ccrup resume "$SIM_INV" -p "$pb" --yes --state-dir "$st" >"$tmp/res1b.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/w-after2.json"
	if [ $rc = 1 ] && python3 $W "$tmp/w-after2.json" count NODE2 "/m:upgrade" 1; then
		ok "asked again, resume --yes still does not run it (exit 1)"
	else
		ko "second resume --yes: exit $rc" "$tmp/res1b.log"
	fi
	bin/ccrup resume "$SIM_INV" -p "$pb" --yes --mark-done passive.nosuch --state-dir "$st" >"$tmp/res-typo.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "no such step" "$tmp/res-typo.log"; then
		ok "--mark-done naming a step not in the plan: exit 2"
	else
		ko "--mark-done typo: exit $rc" "$tmp/res-typo.log"
	fi
	bin/ccrup resume "$SIM_INV" -p "$pb" --yes --mark-done passive.setup@NODE2 --state-dir "$st" >"$tmp/res-mark.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/w-mark.json"
	if [ $rc = 3 ] && grep -q "cannot mark passive.setup done: its verify" "$tmp/res-mark.log" &&
		python3 $W "$tmp/w-mark.json" count NODE2 "/m:upgrade" 1 && ! grep -F '"event":"done"' "$j" | grep -qF passive.setup; then
		ok "--mark-done while its verify is false: refused (exit 3), not journaled done, not run"
	else
		ko "--mark-done with a false verify: exit $rc" "$tmp/res-mark.log"
	fi
	bin/ccrup resume "$SIM_INV" -p "$pb" --yes --retry passive.setup@NODE2 --state-dir "$st" >"$tmp/res-retry.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/w-retry.json"
	if [ $rc = 0 ] && python3 $W "$tmp/w-retry.json" count NODE2 "/m:upgrade" 2 &&
		python3 $W "$tmp/w-retry.json" cms CLUS1 NODE2 Online 8.1.240.6; then
		ok "--retry runs it exactly once and the upgrade finishes"
	else
		ko "--retry: exit $rc" "$tmp/res-retry.log"
	fi
else
	ko "setup never began" "$tmp/hang.log"
fi
sim_stop

# ---- inflight, marked done: the operator ran it by hand; no check could tell ----
pb2=$tmp/sp1-nocheck.yml
python3 - "$pb" "$pb2" <<'PY'
import sys
s = open(sys.argv[1]).read()
a = """      check: binaries_version >= target_version
      run: '"${setup}" /m:upgrade'"""
assert a in s
open(sys.argv[2], "w").write(s.replace(a, a.split("\n")[1]))
PY
pb=$pb2
sim_start "$scn" 0 "$tmp/s1b" || exit 1
st=$tmp/st1b
j=$st/CLUS1/journal.jsonl
fault NODE2 "setup.com /m:upgrade" hang
bin/ccrup apply "$SIM_INV" -p "$pb" --yes --state-dir "$st" >"$tmp/hang2.log" 2>&1 &
APID=$!
if wait_begin "$j" passive.setup NODE2; then
	sleep 0.2
	kill -9 "$APID"
	wait "$APID" 2>/dev/null
	APID=
	sim_ctl fault-clear >/dev/null
	# the operator runs setup by hand, as the message says
	port=$(awk '$0 == "  NODE2:" {f = 1} f && /port:/ {print $2; exit}' "$SIM_INV")
	ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -i "$SIM_DIR/client_ed25519" -p "$port" administrator@127.0.0.1 \
		'"D:\Exchange2007SP1\setup.com" /m:upgrade' >/dev/null 2>&1
	bin/ccrup resume "$SIM_INV" -p "$pb" --yes --mark-done passive.setup --state-dir "$st" >"$tmp/res-mark2.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/w-mark2.json"
	if [ $rc = 0 ] && python3 $W "$tmp/w-mark2.json" count NODE2 "/m:upgrade" 2 &&
		grep -F '"event":"done"' "$j" | grep -F passive.setup | grep -qF 'operator (--mark-done)'; then
		ok "--mark-done after the operator ran it: verified live, journaled done by the operator, not run again"
	else
		ko "--mark-done after a manual run: exit $rc" "$tmp/res-mark2.log"
	fi
else
	ko "setup never began (second)" "$tmp/hang2.log"
fi
sim_stop

# ---- noop: a second apply, and a cluster already at the target ----
sim_start "$scn" 0 "$tmp/s2" || exit 1
st=$tmp/st2
bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/first.log" 2>&1 || ko "first apply" "$tmp/first.log"
sim_ctl dump >"$tmp/n1.json"
cp "$st/CLUS1/journal.jsonl" "$tmp/j-before"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/second.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/n2.json"
if [ $rc = 0 ] && changing "$tmp/n1.json" "$tmp/n2.json" >"$tmp/changed.txt" &&
	[ "$(grep -c "nothing to do" "$tmp/second.log")" = 1 ] &&
	! grep -qiE "phase|gate|OUTAGE" "$tmp/second.log" &&
	cmp -s "$tmp/j-before" "$st/CLUS1/journal.jsonl"; then
	ok "second apply --yes: exit 0, no state-changing command, no phase, no gate, one 'nothing to do' line, journal untouched"
else
	ko "second apply: exit $rc" "$tmp/second.log"
	cat "$tmp/changed.txt"
fi
bin/ccrup plan "$SIM_INV" --live >"$tmp/plan-live.txt" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qi "nothing to do" "$tmp/plan-live.txt" && ! grep -q "Still to do" "$tmp/plan-live.txt"; then
	ok "plan --live on the finished cluster says nothing to do"
else
	ko "plan --live on a finished cluster: exit $rc" "$tmp/plan-live.txt"
fi
sim_stop
# a cluster already upgraded before ccrup ever ran (CMS on NODE2, binaries at SP1)
python3 - "$scn" "$tmp/at-sp1.yml" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = s.replace("8.0.685.25", "8.1.240.6")
open(sys.argv[2], "w").write(s)
PY
sim_start "$tmp/at-sp1.yml" 0 "$tmp/s3" || exit 1
sim_ctl dump >"$tmp/u1.json"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st3" >"$tmp/atsp1.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/u2.json"
if [ $rc = 0 ] && changing "$tmp/u1.json" "$tmp/u2.json" >"$tmp/changed3.txt" &&
	[ "$(grep -c "nothing to do" "$tmp/atsp1.log")" = 1 ] && [ ! -f "$tmp/st3/CLUS1/journal.jsonl" -o ! -s "$tmp/st3/CLUS1/journal.jsonl" ]; then
	ok "apply on a cluster already at the target: nothing to do, nothing sent, no run journaled"
else
	ko "apply on a cluster already at SP1: exit $rc" "$tmp/atsp1.log"
	cat "$tmp/changed3.txt"
fi
sim_stop

# ---- guarded: skip and mark-done at the point of no return, inside the outage ----
sim_start "$scn" 0 "$tmp/s4" || exit 1
st=$tmp/st4
j=$st/CLUS1/journal.jsonl
python3 tests/lib/guided.py "cms.upgrade-cms=snmy" "$tmp/g1.log" -- bin/ccrup apply "$SIM_INV" --state-dir "$st"
rc=$?
sim_ctl dump >"$tmp/g1.json"
answers=$(grep -F '"event":"answer"' "$j" | grep -F '"step":"cms.upgrade-cms"' | sed 's/.*"answer":"\([a-z-]*\)".*/\1/' | tr '\n' ' ')
if [ $rc = 0 ] && [ "$answers" = "skip cancel mark-done confirm yes " ] &&
	grep -q "Skip cms.upgrade-cms although it is inside the outage window" "$tmp/g1.log" &&
	grep -q "cannot mark cms.upgrade-cms done: its verify" "$tmp/g1.log" &&
	! grep -F '"event":"skipped"' "$j" | grep -qF cms.upgrade-cms &&
	python3 $W "$tmp/g1.json" upgraded CLUS1 8.1.240.6 DISABLED; then
	ok "guided, in the outage: skip needs a second answer (cancelled), mark-done is refused while its verify is false, then it runs"
else
	ko "guided guard at cms.upgrade-cms: exit $rc, answers '$answers'" "$tmp/g1.log"
fi
sim_stop
sim_start "$scn" 0 "$tmp/s5" || exit 1
st=$tmp/st5
j=$st/CLUS1/journal.jsonl
python3 tests/lib/guided.py "cms.upgrade-cms=sy" "$tmp/g2.log" -- bin/ccrup apply "$SIM_INV" --state-dir "$st" --max-timeout 3s
rc=$?
bin/ccrup status "$SIM_INV" --state-dir "$st" >"$tmp/g2-status.txt" 2>&1
idx=$(grep -E "^ +[0-9]+ cms.upgrade-cms " "$tmp/g2-status.txt" | awk '{print $1}')
if [ $rc = 1 ] && grep -F '"event":"skipped"' "$j" | grep -F cms.upgrade-cms | grep -qF "skipped by the operator" &&
	grep -q "next: step $idx cms.upgrade-cms on NODE2" "$tmp/g2-status.txt" && grep -q "OUTAGE ONGOING" "$tmp/g2-status.txt"; then
	ok "a confirmed skip inside the outage: the run fails later (exit 1), status names the skipped step next and the outage ongoing"
else
	ko "confirmed skip: exit $rc" "$tmp/g2-status.txt"
	tail -5 "$tmp/g2.log"
fi
bin/ccrup status "$SIM_INV" --state-dir "$st" -o json >"$tmp/g2-status.json" 2>&1
if grep -E "^ +$idx cms.upgrade-cms +NODE2 +op-skipped .*still to do: skipped by the operator" "$tmp/g2-status.txt" >/dev/null &&
	python3 - "$tmp/g2-status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["clusters"][0] if "clusters" in d else d
s = {x["id"] + "@" + str(x["node"]): x for x in c["steps"]}
u = s["cms.upgrade-cms@NODE2"]
assert u["state"] == "skipped" and u["skipped_by_operator"] is True and u["by"] == "operator", u
assert u["attempts"] == 0, u
done = [x for x in c["steps"] if x["state"] == "done"]
assert done and all(x["skipped_by_operator"] is False and x["attempts"] >= 0 for x in done)
assert any(x["attempts"] == 1 for x in done)
PY
then
	ok "status marks the operator's skip as still to do: text 'op-skipped', JSON skipped_by_operator/by/attempts"
else
	ko "status: operator skip not marked" "$tmp/g2-status.txt"
	cat "$tmp/g2-status.json" | head -c 600
fi
python3 tests/lib/guided.py "" "$tmp/g3.log" -- bin/ccrup resume "$SIM_INV" --state-dir "$st"
rc=$?
sim_ctl dump >"$tmp/g3.json"
if [ $rc = 0 ] && grep -qE "(Run|to run) cms.upgrade-cms on NODE2" "$tmp/g3.log" && grep -q "OUTAGE ONGOING for" "$tmp/g3.log" &&
	! grep -q "outage: 0ms" "$tmp/g3.log" && python3 $W "$tmp/g3.json" cms CLUS1 NODE2 Online 8.1.240.6; then
	ok "resume offers the skipped step again (the outage shown as ongoing, counted in the summary) and finishes"
else
	ko "resume after a skip: exit $rc" "$tmp/g3.log"
fi
sim_stop
sim_start "$scn" 0 "$tmp/s6" || exit 1
st=$tmp/st6
python3 tests/lib/guided.py "restore.firewall-start-type=s" "$tmp/g4.log" -- bin/ccrup apply "$SIM_INV" --state-dir "$st"
rc=$?
if [ $rc = 1 ] && ! grep -q "although" "$tmp/g4.log" &&
	grep -q "1 step skipped by the operator is still to do (restore.firewall-start-type on NODE[12])" "$tmp/g4.log"; then
	ok "a harmless step is skipped on one key; the run ends exit 1 naming it as still to do"
else
	ko "harmless skip: exit $rc" "$tmp/g4.log"
fi
python3 tests/lib/guided.py "" "$tmp/g5.log" -- bin/ccrup resume "$SIM_INV" --state-dir "$st"
rc=$?
if [ $rc = 0 ] && grep -q "Run restore.firewall-start-type on NODE[12]?" "$tmp/g5.log"; then
	ok "resume offers the skipped harmless step and ends done"
else
	ko "resume after a harmless skip: exit $rc" "$tmp/g5.log"
fi
# The report of that real journal: the operator's skip and the later run are two bars
# of the step, each in its style (skips are drawn last, on top); the time the operator took is drawn apart.
bin/ccrup report "$SIM_INV" --state-dir "$st" --html "$tmp/g5.html" >/dev/null 2>&1
n=$(sed -n 's/.*skipped by the operator is still to do (restore.firewall-start-type on \(NODE[12]\)).*/\1/p' "$tmp/g4.log" | head -1)
bars=$(grep -oE "<rect[^>]*data-step=\"restore\\.firewall-start-type\" data-node=\"$n\"[^>]*class=\"step [^\"]*\"" "$tmp/g5.html" | sed 's/.*class="//; s/"$//' | sort | tr '\n' ',')
if [ -n "$n" ] && [ "$bars" = "step done,step op-skipped," ] && grep -q 'data-step="restore.firewall-start-type"[^>]*class="operator-wait"' "$tmp/g5.html" &&
	grep -q "The run was resumed 1 time\." "$tmp/g5.html"; then
	ok "report of the real journal: the skip (purple) and the resumed run (green) are two bars; the operator's time a strip apart"
else
	ko "report after skip and resume: bars on '$n': '$bars'" "$tmp/g5.html"
fi
sim_stop

echo "runner_semantics: $pass passed, $fail failed"
[ "$fail" = 0 ]
