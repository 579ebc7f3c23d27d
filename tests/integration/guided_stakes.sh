#!/bin/sh
# Guided mode says what is at stake, through a real pseudo-terminal: the step that
# starts the outage names the service, what users lose and the plan's estimate, and
# wants the word typed (a bare "y" is refused); the point of no return likewise;
# while the outage runs every prompt shows its running time; each step shows what
# comes next; read-only waits and HTTP checks run without asking; the operator's
# thinking time is journaled apart from the running time; a declined gate is not a
# failure and names the next command; a failed step offers retry / details / quit,
# and quitting prints the exact command that continues.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-stakes.XXXXXX)
trap 'sim_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 25 "$2"; }
plain() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | tr '\r' '\n'; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
st="$tmp/state"

# 1. A full guided run: a bare "y" at the outage step first (refused), then the word.
GUIDED_THINK_MS=20 python3 tests/lib/guided.py "cms.stop-cms=Yy" "$tmp/run.log" -- \
	bin/ccrup apply "$SIM_INV" --state-dir "$st"
rc=$?
plain "$tmp/run.log" >"$tmp/run.txt"
[ $rc = 0 ] && ok "guided run with deliberate answers: exit 0" || ko "guided run exit $rc" "$tmp/run.txt"
grep -q "cms.stop-cms on NODE2: !! THIS STEP STARTS AN OUTAGE of Exchange mailbox service" "$tmp/run.txt" &&
	grep -q "about 10m by the plan's estimate: users cannot open their mailboxes" "$tmp/run.txt" &&
	ok "the outage step names the service, the estimate and what users lose, before the question" ||
	ko "outage stakes" "$tmp/run.txt"
grep -q "Type 'outage' to run cms.stop-cms on NODE2, or \[s\]kip" "$tmp/run.txt" &&
	ok "the outage step asks for the word 'outage'" || ko "outage word prompt" "$tmp/run.txt"
grep -q "This step needs a deliberate answer: type 'outage' in full" "$tmp/run.txt" &&
	ok "a bare y is refused at the outage step" || ko "bare y" "$tmp/run.txt"
grep -q "POINT OF NO RETURN" "$tmp/run.txt" && grep -q "Type 'proceed' to run cms.upgrade-cms" "$tmp/run.txt" &&
	ok "the point of no return says so and asks for 'proceed'" || ko "point of no return" "$tmp/run.txt"
grep -q "^\[OUTAGE [0-9.]*m*s\] Run cms.move-cms on NODE2?" "$tmp/run.txt" &&
	ok "a prompt during the outage shows its running time" || ko "outage timer in prompt" "$tmp/run.txt"
if grep "Run passive.setup on NODE2" "$tmp/run.txt" >/dev/null &&
	grep -q "next:  passive.reboot on NODE2: Restart the node" "$tmp/run.txt"; then
	ok "each step shows what comes next"
else
	ko "next step" "$tmp/run.txt"
fi
if grep -q "Run passive.replication-healthy\|Run cms.owa\|Run final.replication-healthy" "$tmp/run.txt"; then
	ko "a read-only wait or HTTP check asked for confirmation" "$tmp/run.txt"
else
	ok "read-only waits and HTTP checks run without asking"
fi
grep -q "cms.owa on NODE2: done" "$tmp/run.txt" && ok "the HTTP check ran" || ko "owa ran" "$tmp/run.txt"
# The operator's time is not the step's running time.
python3 - "$st/CLUS1/journal.jsonl" <<'PY' && ok "done records keep operator_ms apart from duration_ms" || ko "operator_ms"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
done = [r for r in recs if r.get("event") == "done" and r.get("step") == "cms.stop-cms"]
assert done and "operator_ms" in done[-1], done
assert done[-1]["duration_ms"] >= 0
PY
# The operator thinks 20 ms before every answer: every step that asked says so when done.
asked=$(grep -o "Run [^ ]* on [^ ]*?\|Type '[a-z]*' to run [^ ]* on [^ ,]*" "$tmp/run.txt" | sort -u | wc -l)
n=$(grep -c "waited .* for the operator" "$tmp/run.txt")
[ "$asked" -gt 10 ] && [ "$n" = "$asked" ] && ok "every confirmed step's done line says how long the operator was waited for ($n)" ||
	ko "waited lines: $n of $asked confirmed steps" "$tmp/run.txt"

# 2. Details: the header is not repeated.
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
python3 tests/lib/guided.py "passive.dotnet-sp1=dq" "$tmp/det.log" -- \
	bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st2"
plain "$tmp/det.log" >"$tmp/det.txt"
if grep -q "passive.dotnet-sp1 on NODE2: details of \"Install .NET Framework 2.0 SP1\"" "$tmp/det.txt" &&
	! grep -q "on NODE2: step passive.dotnet-sp1" "$tmp/det.txt"; then
	ok "details header names the step once"
else
	ko "details header" "$tmp/det.txt"
fi
grep -q "continue from here with: ccrup resume $SIM_INV --state-dir $tmp/st2" "$tmp/det.txt" &&
	ok "quitting prints the exact resume command" || ko "quit hint" "$tmp/det.txt"

# 3. A gate: a wrong key names the keys the prompt offers; "n" stops without FAILED.
sed '/acknowledge:/d' "$SIM_INV" >"$tmp/noack.yml"
python3 tests/lib/guided.py "gate=xn" "$tmp/gate.log" -- \
	bin/ccrup apply "$tmp/noack.yml" --state-dir "$tmp/st3"
rc=$?
plain "$tmp/gate.log" >"$tmp/gate.txt"
[ $rc = 3 ] && ok "a declined gate exits 3" || ko "declined gate exit $rc" "$tmp/gate.txt"
grep -q "Please answer one of: y, n or q" "$tmp/gate.txt" && ok "gate key handling matches its prompt" ||
	ko "gate keys" "$tmp/gate.txt"
if grep -q "FAILED" "$tmp/gate.txt"; then ko "a declined gate says FAILED" "$tmp/gate.txt"; else ok "a declined gate is not FAILED"; fi
grep -q "gate preflight.lab-tested not confirmed .*continue from this step with: ccrup resume $tmp/noack.yml --state-dir $tmp/st3" "$tmp/gate.txt" &&
	ok "a declined gate names the next command" || ko "gate next step" "$tmp/gate.txt"
# The gate was the first step: nothing ran, so no (empty) summary table.
if grep -q "^cluster *node *done" "$tmp/gate.txt"; then ko "an empty summary table after a declined first gate" "$tmp/gate.txt"; else ok "no empty summary table after a declined gate"; fi

# 4. A failed step: [d]etails, [r]etry (the fault fired once), then the run goes on.
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"setup.com /m:upgrade","kind":"fail","exit":5,"message":"Setup encountered a problem","count":1}' >/dev/null
python3 tests/lib/guided.py "passive.setup!fail=dr" "$tmp/fail.log" -- \
	bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st4"
rc=$?
plain "$tmp/fail.log" >"$tmp/fail.txt"
grep -q "passive.setup on NODE2 failed. \[r\]etry \[d\]etails \[q\]uit" "$tmp/fail.txt" &&
	ok "a failed step offers retry / details / quit" || ko "failure prompt" "$tmp/fail.txt"
grep -q "details of the failure: .*Setup encountered a problem" "$tmp/fail.txt" &&
	ok "[d]etails shows the failure" || ko "failure details" "$tmp/fail.txt"
# ... and more than the FAILED line already on screen: the command, its exit, its output.
grep -q '^    command: "D:\\Exchange2007SP1\\setup.com" /m:upgrade' "$tmp/fail.txt" &&
	grep -q "^    exit:    5, after" "$tmp/fail.txt" &&
	grep -A3 "^    std\(out\|err\):" "$tmp/fail.txt" | grep -q "^      .*Setup encountered a problem" &&
	ok "[d]etails shows the command, its exit status and its output's last lines" ||
	ko "failure details: command, exit, output" "$tmp/fail.txt"
[ $rc = 0 ] && ok "[r]etry ran the step again and the run finished" || ko "retry exit $rc" "$tmp/fail.txt"
grep -F '"event":"answer"' "$tmp/st4/CLUS1/journal.jsonl" | grep -q '"retry"' &&
	ok "the retry is journaled" || ko "retry journaled"

# 5. A failed step, then quit: the exact command to continue.
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"setup.com /m:upgrade","kind":"fail","exit":5,"message":"Setup encountered a problem","count":1}' >/dev/null
python3 tests/lib/guided.py "" "$tmp/quit.log" -- bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st5"
rc=$?
plain "$tmp/quit.log" >"$tmp/quit.txt"
[ $rc = 1 ] && ok "quit after a failure exits 1" || ko "quit after failure exit $rc" "$tmp/quit.txt"
grep -q "after fixing the cause, continue with: ccrup resume $SIM_INV --state-dir $tmp/st5" "$tmp/quit.txt" &&
	ok "quit after a failure prints the exact resume command" || ko "resume hint" "$tmp/quit.txt"

# 6. Quit inside the outage takes a second, deliberate answer: "n" goes back to the
# step's question, "y" stops (exit 130) with the outage still open for `resume`.
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
python3 tests/lib/guided.py "cms.move-cms=qnqy" "$tmp/oq.log" -- \
	bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st6"
rc=$?
plain "$tmp/oq.log" >"$tmp/oq.txt"
n=$(grep -c "Quit before cms.move-cms while the outage is ongoing? Users stay without the service until \`ccrup resume\` ends it" "$tmp/oq.txt")
[ "$n" = 2 ] && ok "quit inside the outage asks again, naming what users keep losing ($n times)" ||
	ko "outage quit question shown $n times" "$tmp/oq.txt"
[ "$(grep -c "Run cms.move-cms on NODE2?" "$tmp/oq.txt")" -ge 2 ] &&
	ok "'n' at the quit question goes back to the step's question" || ko "back after n" "$tmp/oq.txt"
[ $rc = 130 ] && ok "'y' at the quit question stops: exit 130" || ko "outage quit exit $rc" "$tmp/oq.txt"
bin/ccrup status "$SIM_INV" --state-dir "$tmp/st6" >"$tmp/oq.status" 2>&1
grep -q "OUTAGE ONGOING" "$tmp/oq.status" && ok "status then says the outage is ongoing" ||
	ko "status after outage quit" "$tmp/oq.status"
# A deliberate stop is not a failure: status says who stopped it, not "fix the cause".
if grep -q "^Cluster CLUS1: interrupted by the operator" "$tmp/oq.status" &&
	grep -q "the operator stopped the run inside it: continue it with \`ccrup resume\`" "$tmp/oq.status" &&
	! grep -q "fix the cause\|last error" "$tmp/oq.status"; then
	ok "status after a deliberate quit says the operator stopped it, not that something failed"
else
	ko "status wording after a deliberate quit" "$tmp/oq.status"
fi
bin/ccrup status "$SIM_INV" --state-dir "$tmp/st6" -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["clusters"][0]
assert c["state"] == "interrupted" and c["stopped_by_operator"] is True, c' &&
	ok "status JSON: stopped_by_operator true after the quit" || ko "status JSON stopped_by_operator"
bin/ccrup status "$SIM_INV" --state-dir "$tmp/st5" -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["clusters"][0]
assert c["stopped_by_operator"] is False and c["last_error"], c' &&
	ok "status JSON: a quit after a failure is the failure's stop, not the operator's" ||
	ko "status JSON after failure quit"
grep -F '"event":"answer"' "$tmp/st6/CLUS1/journal.jsonl" | grep -q '"cancel"' &&
	grep -F '"event":"answer"' "$tmp/st6/CLUS1/journal.jsonl" | grep -q '"confirm"' &&
	ok "both answers to the quit question are journaled" || ko "quit answers journaled"
# Outside the outage, one "q" still quits (nothing is lost by stopping there).
if grep -q "Quit before" "$tmp/det.txt"; then ko "quit outside the outage asked twice" "$tmp/det.txt"; else ok "quit outside the outage needs one key"; fi

# 8. A refused mark-done says what the probe wanted and what the node said instead.
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
python3 tests/lib/guided.py "passive.stop-service[HealthService]=myq" "$tmp/md.log" -- \
	bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st8" >/dev/null 2>&1
plain "$tmp/md.log" | tr -s '\n' >"$tmp/md.txt"
grep -q "cannot mark passive.stop-service\[HealthService\] done: its verify .*output does not match /STOPPED.*/ (it says: .*STATE : 4 RUNNING" "$tmp/md.txt" &&
	ok "a refused mark-done quotes the expected pattern and what the output said" ||
	ko "mark-done refusal wording" "$tmp/md.txt"

# 7. Quit after the outage ended, then resume: the resume's summary counts the outage
# the earlier attempt saw end (it said "outage: 0ms").
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
GUIDED_THINK_MS=20 python3 tests/lib/guided.py "former-active.move-cluster-group=q" "$tmp/aq.log" -- \
	bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st7"
rc=$?
bin/ccrup resume "$SIM_INV" --state-dir "$tmp/st7" --yes >"$tmp/aq2.log" 2>&1
rc2=$?
if [ $rc = 130 ] && [ $rc2 = 0 ] && grep -q "^outage: [0-9.]*m*s in all ([0-9.]*m*s of it before this resume)$" "$tmp/aq2.log" &&
	! grep -q "^outage: 0ms" "$tmp/aq2.log"; then
	ok "a resume after the outage ended counts it in its summary"
else
	ko "resume summary outage (exit $rc, $rc2)" "$tmp/aq2.log"
fi

echo "guided_stakes: $pass passed, $fail failed"
[ "$fail" = 0 ]
