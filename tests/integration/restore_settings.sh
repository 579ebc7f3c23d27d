#!/bin/sh
# Every setting a playbook records is put back exactly as it was recorded ("make a note and
# restore it"): ccrup apply --yes with playbooks/ccr-sp1.yml on mock-nodes/scenarios/two-node.yml,
# at time scale 0, with Windows Firewall/ICS (SharedAccess) in each of the six combinations of
# start type (DISABLED, DEMAND_START, AUTO_START) and state (STOPPED, RUNNING) on both nodes,
# and the recorded performance-counter services (SysmonLog, HealthService) in varied
# combinations too (a service disabled while it ran included): after the run, each has the start type and state it had before it, although
# the run started the firewall, stopped the services and restarted both nodes (a restart starts
# only AUTO_START services).  Then the update rollup (playbooks/ccr-rollup.yml on
# mock-nodes/scenarios/sp1-rollup.yml) with a stopped AUTO_START service it records.
# Servers on 127.0.0.0/8 only, stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-restore.XXXXXX)
trap 'sim_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 25 "$2"; }

# scenario SRC OUT SVC=START/STATE...: SRC with each named service's line replaced (the
# shipped scenarios declare the nodes' services once, under an anchor both nodes share).
scenario() {
	src=$1 out=$2
	shift 2
	cp "$src" "$out"
	for kv in "$@"; do
		svc=${kv%%=*} v=${kv#*=}
		sed -i "s|^\\(      $svc: \\){state: [A-Z_]*, start: [A-Z_]*}|\\1{state: ${v#*/}, start: ${v%/*}}|" "$out"
		grep -q "^      $svc: {state: ${v#*/}, start: ${v%/*}}" "$out" || { echo "scenario: no $svc in $src" >&2; return 1; }
	done
}

# case NAME PLAYBOOK SRC CHECKED_SERVICES SVC=START/STATE...
case_() {
	name=$1 pb=$2 src=$3 checked=$4
	shift 4
	d=$tmp/$name
	mkdir -p "$d"
	scenario "$src" "$d/scn.yml" "$@" || { no "$name: scenario"; return; }
	sim_start "$d/scn.yml" 0 "$d/sim" || { no "$name: ccrsim"; return; }
	sim_ctl dump >"$d/before.json"
	bin/ccrup apply "$SIM_INV" -p "$pb" --yes --state-dir "$d/st" >"$d/apply.log" 2>&1
	rc=$?
	sim_ctl dump >"$d/after.json"
	sim_stop
	# shellcheck disable=SC2086
	if [ $rc = 0 ] && python3 tests/lib/world.py "$d/after.json" services CLUS1 "$d/before.json" $checked >"$d/chk"; then
		ok "$name: $* restored as recorded"
	else
		no "$name (apply exit $rc): $(cat "$d/chk")" "$d/apply.log"
	fi
}

SP1=playbooks/ccr-sp1.yml
TWO=mock-nodes/scenarios/two-node.yml
S="SharedAccess SysmonLog HealthService"
case_ fw-disabled-stopped $SP1 $TWO "$S" SharedAccess=DISABLED/STOPPED SysmonLog=AUTO_START/STOPPED HealthService=DEMAND_START/RUNNING
case_ fw-disabled-running $SP1 $TWO "$S" SharedAccess=DISABLED/RUNNING SysmonLog=DEMAND_START/RUNNING HealthService=AUTO_START/STOPPED
case_ fw-demand-stopped $SP1 $TWO "$S" SharedAccess=DEMAND_START/STOPPED SysmonLog=DISABLED/STOPPED HealthService=AUTO_START/RUNNING
case_ fw-demand-running $SP1 $TWO "$S" SharedAccess=DEMAND_START/RUNNING SysmonLog=AUTO_START/RUNNING HealthService=DEMAND_START/STOPPED
case_ fw-auto-stopped $SP1 $TWO "$S" SharedAccess=AUTO_START/STOPPED SysmonLog=AUTO_START/STOPPED HealthService=DEMAND_START/RUNNING
case_ fw-auto-running $SP1 $TWO "$S" SharedAccess=AUTO_START/RUNNING SysmonLog=DEMAND_START/STOPPED HealthService=DISABLED/STOPPED
case_ svc-disabled-running $SP1 $TWO "$S" SharedAccess=DEMAND_START/RUNNING SysmonLog=DISABLED/RUNNING HealthService=DISABLED/RUNNING
case_ rollup-auto-stopped playbooks/ccr-rollup.yml mock-nodes/scenarios/sp1-rollup.yml "SharedAccess HealthService" \
	HealthService=AUTO_START/STOPPED
case_ rollup-disabled-running playbooks/ccr-rollup.yml mock-nodes/scenarios/sp1-rollup.yml "SharedAccess HealthService" \
	HealthService=DISABLED/RUNNING

echo "restore_settings: $pass passed, $fail failed"
[ "$fail" = 0 ]
