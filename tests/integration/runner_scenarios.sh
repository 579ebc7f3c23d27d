#!/bin/sh
# ccrup apply --yes against every shipped ccrsim scenario, at time scale 0,
# checking the simulated world through ccrsim's control interface:
#   two-node                 the whole SP1 upgrade, as the seed describes it
#   half-done                NODE2 already at SP1: its setup is skipped, not repeated
#   cluster-group-on-passive the Cluster Group is moved off NODE2 first
#   replication-lagging      refused before anything changes (replication not healthy)
#   trap-both-upgraded       refused before any change, explaining the registry fix
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-scn.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "$2" ] && tail -n 30 "$2"; }

# run NAME SCENARIO EXPECTED_EXIT: start ccrsim, apply, dump the world to $tmp/NAME.json
run() {
	name=$1 scn=$2 want=$3
	shift 3
	sim_start "mock-nodes/scenarios/$scn.yml" 0 "$tmp/$name/sim" || { ko "$name: ccrsim"; return 1; }
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/$name/state" "$@" >"$tmp/$name/apply.log" 2>&1
	got=$?
	sim_ctl dump >"$tmp/$name.json"
	sim_stop
	if [ "$got" != "$want" ]; then
		ko "$name: apply exited $got, want $want" "$tmp/$name/apply.log"
		return 1
	fi
	return 0
}

if run two-node two-node 0; then
	if python3 tests/lib/world.py "$tmp/two-node.json" upgraded CLUS1 8.1.240.6 DISABLED; then
		ok "two-node: both nodes and the CMS at 8.1.240.6, setup once per node, firewall restored, one outage"
	else
		ko "two-node: world" "$tmp/two-node/apply.log"
	fi
	if bin/ccrup status "$SIM_INV" --state-dir "$tmp/two-node/state" -o json >"$tmp/st.json" &&
		python3 -c "import json,sys; d=json.load(open('$tmp/st.json')); c=d['clusters'][0]; sys.exit(0 if c['state']=='done' and c['next'] is None and not c['outage']['ongoing'] else 1)"; then
		ok "two-node: status says done, nothing next, no outage ongoing"
	else
		ko "two-node: status" "$tmp/st.json"
	fi
	# The roles stay as bound at the start, and the finished run says where its steps left
	# them (the CMS moved to NODE2); the header's gist is repeated below the step table.
	bin/ccrup status "$SIM_INV" --state-dir "$tmp/two-node/state" >"$tmp/st.txt" 2>&1
	if grep -Eq '^  role active +NODE1 \(bound at the start of the run; after the run: NODE2\)$' "$tmp/st.txt" &&
		grep -Eq '^  role passive +NODE2 \(bound at the start of the run; after the run: NODE1\)$' "$tmp/st.txt" &&
		tail -n 1 "$tmp/st.txt" | grep -Eq '^Cluster CLUS1 \(summary\): done; outage: [0-9].* in total$' &&
		python3 -c "import json,sys; c=json.load(open('$tmp/st.json'))['clusters'][0]; sys.exit(0 if c['roles']=={'active':'NODE1','passive':'NODE2'} and c['roles_after']=={'active':'NODE2','passive':'NODE1'} else 1)"; then
		ok "two-node: status says the roles were bound at the start and where the run left them; the summary ends the text"
	else
		ko "two-node: status roles and summary" "$tmp/st.txt"
	fi
	# A second apply finds nothing to do: it says so, changes nothing, starts no run.
	sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/again/sim"
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/again/state" >"$tmp/again1.log" 2>&1
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/again/state" >"$tmp/again2.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/again.json"
	sim_stop
	if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/again.json" upgraded CLUS1 8.1.240.6 DISABLED &&
		grep -q "nothing to do" "$tmp/again2.log" &&
		! ls "$tmp/again/state/CLUS1"/journal-*.jsonl >/dev/null 2>&1; then
		ok "two-node: a second apply re-checks everything, repeats nothing, says nothing to do, keeps the finished run's journal"
	else
		ko "two-node: second apply (exit $rc)" "$tmp/again2.log"
	fi
fi

if run half-done half-done 0; then
	if python3 tests/lib/world.py "$tmp/half-done.json" count NODE2 /m:upgrade 0 &&
		python3 tests/lib/world.py "$tmp/half-done.json" count NODE1 /m:upgrade 1 &&
		python3 tests/lib/world.py "$tmp/half-done.json" cms CLUS1 NODE2 Online 8.1.240.6; then
		ok "half-done: NODE2's setup skipped (already at SP1), NODE1 and the CMS upgraded"
	else
		ko "half-done: world" "$tmp/half-done/apply.log"
	fi
fi

if run group cluster-group-on-passive 0; then
	if grep -q "passive.move-cluster-group.*done" "$tmp/group/apply.log" &&
		python3 tests/lib/world.py "$tmp/group.json" upgraded CLUS1 8.1.240.6 DISABLED; then
		ok "cluster-group-on-passive: the Cluster Group moved off NODE2 before setup; upgrade completes"
	else
		ko "cluster-group-on-passive" "$tmp/group/apply.log"
	fi
fi

if run lagging replication-lagging 3; then
	if grep -q "copy_queue" "$tmp/lagging/apply.log" &&
		python3 tests/lib/world.py "$tmp/lagging.json" untouched CLUS1; then
		ok "replication-lagging: refused (exit 3) naming the copy queue, nothing changed"
	else
		ko "replication-lagging" "$tmp/lagging/apply.log"
	fi
fi

if run trap trap-both-upgraded 3; then
	if grep -q 'v8.0\\CMS' "$tmp/trap/apply.log" &&
		python3 tests/lib/world.py "$tmp/trap.json" untouched CLUS1; then
		ok "trap-both-upgraded: refused before any change, with the registry fix"
	else
		ko "trap-both-upgraded" "$tmp/trap/apply.log"
	fi
fi

echo "runner_scenarios: $pass passed, $fail failed"
[ "$fail" = 0 ]
