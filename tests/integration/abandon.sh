#!/bin/sh
# ccrup abandon (issue 10, defect 5): give up an unfinished run so the next apply starts
# afresh, against ccrsim's two-node scenario at time scale 0:
#   unfinished  a run that failed after remote actions: apply refuses it; abandon journals
#               `abandoned` (reason, user, host), says what the journal and the live hosts
#               say; status and report show it abandoned with the reason and never suggest
#               resume; resume refuses it (exit 2); the next apply archives its journal,
#               replaces the run marker it left and finishes (exit 0)
#   outage      a run that failed with its outage open: refused (exit 3) without --force,
#               nothing written; with --force abandoned, status says the outage is open and
#               the run abandoned (never "resume")
#   nothing     no run, a finished run, an abandoned run: exit 2 with the reason
#   locked      another run holds the cluster's lock: exit 4, nothing written
#   options     no --reason, an unknown option: exit 2
#   etcd        the same on shared state (one etcd member on 127.0.0.1:12462-12463)
# Servers on 127.0.0.0/8 only, stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
. tests/lib/etcd.sh
tmp=$(mktemp -d /tmp/ccrup-abandon.XXXXXX)
hold=
trap '[ -n "$hold" ] && kill "$hold" 2>/dev/null; sim_stop; etcd_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2"; }
fault() { sim_ctl fault-add "{\"host\":\"$1\",\"match\":\"$2\",\"kind\":\"$3\",\"exit\":1}" >/dev/null; }
last_event() { tail -n 1 "$1/CLUS1/journal.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["event"])'; }
status_json() { bin/ccrup status "$SIM_INV" $1 -o json | python3 -c "import json,sys; c=json.load(sys.stdin)['clusters'][0]; print($2)"; }

# unfinished_run DIR STATE_ARGS...: a run that fails at passive.setup, after remote actions.
unfinished_run() {
	_d=$1
	shift
	sim_start mock-nodes/scenarios/two-node.yml 0 "$_d/sim" || return 1
	fault NODE2 /m:upgrade fail
	bin/ccrup apply "$SIM_INV" --yes "$@" >"$_d/apply1.log" 2>&1
	[ $? = 1 ]
}

# --- options ---
bin/ccrup abandon playbooks/inventory.example.yml --state-dir "$tmp/none" >"$tmp/o1.log" 2>&1
r1=$?
bin/ccrup abandon playbooks/inventory.example.yml --reason x --bogus >"$tmp/o2.log" 2>&1
r2=$?
bin/ccrup abandon --help >"$tmp/o3.log" 2>&1
r3=$?
if [ $r1 = 2 ] && grep -q -- "--reason TEXT is required" "$tmp/o1.log" && [ $r2 = 2 ] && [ $r3 = 0 ] &&
	grep -q "usage: ccrup abandon INVENTORY" "$tmp/o3.log"; then
	ok "options: no --reason and an unknown option exit 2; --help exits 0"
else no "options: exits $r1 $r2 $r3" "$tmp/o1.log"; fi

# --- nothing to abandon: no run ---
bin/ccrup abandon playbooks/inventory.example.yml --state-dir "$tmp/none" --reason x >"$tmp/n1.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "nothing to abandon for cluster CLUS1: no run has started" "$tmp/n1.log"; then
	ok "nothing to abandon (no run): exit 2, says why"
else no "nothing to abandon, no run (exit $rc)" "$tmp/n1.log"; fi

# --- an unfinished run ---
d=$tmp/u
S="--state-dir $d/st"
if unfinished_run "$d" $S; then
	bin/ccrup apply "$SIM_INV" --yes $S >"$d/apply2.log" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -q "has an unfinished run" "$d/apply2.log" &&
		ok "unfinished: apply refuses the unfinished run (exit 2)" || no "unfinished: apply (exit $rc)" "$d/apply2.log"
	bin/ccrup abandon "$SIM_INV" $S --reason "setup media broken; rescheduled" >"$d/ab.log" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(last_event "$d/st")" = abandoned ] &&
		tail -n 1 "$d/st/CLUS1/journal.jsonl" | grep -q '"reason":"setup media broken; rescheduled","user":"[^"]*","host":"[^"]*"' &&
		grep -q "journal: run .*; [0-9]* of [0-9]* steps settled" "$d/ab.log" &&
		grep -q "journal: last error: .*passive.setup" "$d/ab.log" &&
		grep -q "live: [0-9]* steps would still run" "$d/ab.log" &&
		grep -q "abandoned (setup media broken; rescheduled); the next .ccrup apply. archives" "$d/ab.log"; then
		ok "unfinished: abandoned (exit 0): journal record with reason, user, host; journal and live state said"
	else no "unfinished: abandon (exit $rc)" "$d/ab.log"; fi
	bin/ccrup status "$SIM_INV" $S >"$d/st.txt" 2>&1
	if grep -q "^Cluster CLUS1: abandoned (run" "$d/st.txt" &&
		grep -q "abandoned at .* by .*: setup media broken; rescheduled; .ccrup apply. starts a new run" "$d/st.txt" &&
		! grep -q "resume" "$d/st.txt" &&
		[ "$(status_json "$S" "c['state'], c['next'], c['abandoned']['reason']")" = "abandoned None setup media broken; rescheduled" ]; then
		ok "unfinished: status (text and JSON) shows abandoned with the reason, no next step, never resume"
	else no "unfinished: status" "$d/st.txt"; fi
	bin/ccrup report "$SIM_INV" $S >/dev/null 2>&1
	if grep -q 'class="badge abandoned">abandoned<' "$d/st/CLUS1/report.html" &&
		grep -q "The run was abandoned.*setup media broken; rescheduled" "$d/st/CLUS1/report.html" &&
		! grep -q "ccrup resume</code> continues" "$d/st/CLUS1/report.html"; then
		ok "unfinished: the report shows the run abandoned with the reason"
	else no "unfinished: report" "$d/st/CLUS1/report.html"; fi
	bin/ccrup resume "$SIM_INV" --yes $S >"$d/resume.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "nothing to resume for cluster CLUS1: the last run was abandoned (setup media broken; rescheduled)" "$d/resume.log" &&
		[ "$(last_event "$d/st")" = abandoned ]; then
		ok "unfinished: resume refuses the abandoned run (exit 2), writes nothing"
	else no "unfinished: resume (exit $rc)" "$d/resume.log"; fi
	bin/ccrup abandon "$SIM_INV" $S --reason again >"$d/ab2.log" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -q "nothing to abandon for cluster CLUS1: the last run is already abandoned" "$d/ab2.log" &&
		ok "nothing to abandon (already abandoned): exit 2" || no "abandon twice (exit $rc)" "$d/ab2.log"
	sim_ctl fault-clear >/dev/null
	bin/ccrup apply "$SIM_INV" --yes $S >"$d/apply3.log" 2>&1
	rc=$?
	if [ $rc = 0 ] && ls "$d/st/CLUS1/"journal-*.jsonl >/dev/null 2>&1 &&
		grep -q '"event":"abandoned"' "$d/st/CLUS1/"journal-*.jsonl &&
		! grep -q abandoned "$d/st/CLUS1/journal.jsonl" &&
		grep -q "replacing the run marker on NODE1 left by the ended run" "$d/apply3.log"; then
		ok "unfinished: the next apply archives the abandoned journal, replaces its marker and finishes (exit 0)"
	else no "unfinished: next apply (exit $rc)" "$d/apply3.log"; fi
	bin/ccrup abandon "$SIM_INV" $S --reason x >"$d/ab3.log" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -q "nothing to abandon for cluster CLUS1: the last run finished" "$d/ab3.log" &&
		ok "nothing to abandon (finished run): exit 2" || no "abandon a finished run (exit $rc)" "$d/ab3.log"
	sim_stop
else no "unfinished: the failing run" "$d/apply1.log"; fi

# --- a run that failed with its outage open ---
d=$tmp/o
S="--state-dir $d/st"
sim_start mock-nodes/scenarios/two-node.yml 0 "$d/sim" && fault NODE2 /UpgradeCMS fail
bin/ccrup apply "$SIM_INV" --yes $S >"$d/apply1.log" 2>&1
rc=$?
if [ $rc = 1 ] && [ "$(status_json "$S" "c['outage']['ongoing']")" = True ]; then
	n=$(wc -l <"$d/st/CLUS1/journal.jsonl")
	bin/ccrup abandon "$SIM_INV" $S --reason "giving up" >"$d/ab.log" 2>&1
	rc=$?
	if [ $rc = 3 ] && grep -q "refused: the run's outage is open" "$d/ab.log" &&
		grep -q "journal: the outage is OPEN" "$d/ab.log" &&
		[ "$(wc -l <"$d/st/CLUS1/journal.jsonl")" = "$n" ]; then
		ok "outage: refused without --force (exit 3), nothing written"
	else no "outage: abandon without --force (exit $rc)" "$d/ab.log"; fi
	bin/ccrup abandon "$SIM_INV" $S --reason "giving up" --force >"$d/ab2.log" 2>&1
	rc=$?
	bin/ccrup status "$SIM_INV" $S >"$d/st.txt" 2>&1
	if [ $rc = 0 ] && [ "$(last_event "$d/st")" = abandoned ] &&
		tail -n 1 "$d/st/CLUS1/journal.jsonl" | grep -q '"forced":true' &&
		grep -q "the outage is still open" "$d/ab2.log" &&
		grep -q "OUTAGE ONGOING since .* the run was abandoned" "$d/st.txt" && ! grep -q resume "$d/st.txt"; then
		ok "outage: --force abandons (exit 0); status says the outage is open and the run abandoned, never resume"
	else no "outage: --force (exit $rc)" "$d/ab2.log"; fi
else no "outage: the failing run (exit $rc)" "$d/apply1.log"; fi
sim_stop

# --- another run holds the lock ---
d=$tmp/l
S="--state-dir $d/st"
sim_start mock-nodes/scenarios/two-node.yml 0 "$d/sim"
fault NODE2 /m:upgrade hang
bin/ccrup apply "$SIM_INV" --yes $S >"$d/holder.log" 2>&1 &
hold=$!
i=0
while ! grep -q "/m:upgrade" "$d/st/CLUS1/audit.jsonl" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
n=$(wc -l <"$d/st/CLUS1/journal.jsonl")
bin/ccrup abandon "$SIM_INV" $S --reason x --force >"$d/ab.log" 2>&1
rc=$?
if [ $rc = 4 ] && grep -q "cluster CLUS1 is locked by pid $hold" "$d/ab.log" &&
	[ "$(wc -l <"$d/st/CLUS1/journal.jsonl")" = "$n" ]; then
	ok "locked: another run holds the lock: exit 4 naming it, nothing written"
else no "locked (exit $rc)" "$d/ab.log"; fi
kill -INT "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
hold=
sim_stop

# --- etcd ---
if command -v etcd >/dev/null 2>&1 && etcd_start "$tmp/etcd" 12460 1; then
	d=$tmp/e
	U="etcd://$ETCD_URLS/abandon?ttl=3"
	if unfinished_run "$d" --state-dir "$d/st" --state "$U"; then
		bin/ccrup abandon "$SIM_INV" --state-dir "$d/st" --state "$U" --reason "on etcd" >"$d/ab.log" 2>&1
		r1=$?
		st=$(status_json "--state-dir $d/st --state $U" "c['state'], c['abandoned']['reason']")
		bin/ccrup resume "$SIM_INV" --yes --state-dir "$d/st" --state "$U" >"$d/resume.log" 2>&1
		r2=$?
		sim_ctl fault-clear >/dev/null
		bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/st" --state "$U" >"$d/apply2.log" 2>&1
		r3=$?
		if [ $r1 = 0 ] && [ "$st" = "abandoned on etcd" ] && [ $r2 = 2 ] && [ $r3 = 0 ] &&
			[ "$(status_json "--state-dir $d/st --state $U" "c['state']")" = done ]; then
			ok "etcd: abandoned, shown abandoned, resume refused, the next apply starts afresh and finishes"
		else no "etcd: abandon $r1, status '$st', resume $r2, apply $r3" "$d/apply2.log"; fi
	else no "etcd: the failing run" "$d/apply1.log"; fi
	sim_stop
else
	no "etcd: did not start"
fi

echo "abandon: $pass passed, $fail failed"
[ "$fail" = 0 ]
