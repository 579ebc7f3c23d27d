#!/bin/sh
# An unplanned failover mid-run, against ccrsim on loopback (issue 10, defect 4):
# the CMS owner NODE1 crashes right after NODE2 (the passive node being upgraded)
# started its firewall, before setup; the CMS fails over to NODE2 (its binaries
# still match).  The run's pinned roles (active NODE1, passive NODE2) no longer
# match the live ones, and passive.setup on NODE2 is refused (`cms_owner != node`).
#   refused   the refusal says the live roles changed and names `resume --rebind`;
#             `status` (text and JSON) suggests `ccrup resume --rebind`, never plain
#             resume; plain `resume --yes` is refused again (exit 3) and changes nothing
#   rebind    `resume --rebind --yes` shows each change (role: old -> new), journals one
#             `rebind` record; killed (-9) in the rebound run, `status` reads the new
#             roles and plain `resume --yes` finishes: the world is an upgraded cluster,
#             and no step that ran on NODE2 before the failover ran there again
#   guided    through a pseudo-terminal, --rebind shows the changes and asks: "n" journals
#             nothing and changes nothing (exit 3); "y" (second scenario) runs the rebound plan
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-rebind.XXXXXX)
APID=
trap '[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null; sim_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 15 "$2"; }
W=tests/lib/world.py

changing() { # changing DUMP_BEFORE DUMP_AFTER: no state-changing command between two dumps
	python3 tests/lib/world.py "$2" quiet-since "$1"
}

# two-node.yml plus one event: NODE1 (the CMS owner) crashes once NODE2's
# `net start SharedAccess` (passive.firewall-start) has run.
scn=$tmp/failover.yml
python3 - mock-nodes/scenarios/two-node.yml "$scn" <<'PY'
import sys
s = open(sys.argv[1]).read()
assert "\nfaults: []" in s and "\nevents:" not in s
s += """
events:
  - on: net start SharedAccess
    on_host: NODE2
    when: after
    do: crash
    host: CLUS1.cms_owner
"""
open(sys.argv[2], "w").write(s)
PY

sim_start "$scn" 0 "$tmp/s1" || { echo "rebind: ccrsim did not start"; exit 1; }
st=$tmp/st
j=$st/CLUS1/journal.jsonl

# ---- refused: the failover strands the pinned plan ----
bin/ccrup apply "$SIM_INV" --yes --state-dir "$st" >"$tmp/apply.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/w1.json"
if [ $rc = 3 ] && python3 $W "$tmp/w1.json" cms CLUS1 NODE2 Online 8.0.685.25 &&
	grep -q "cms_owner != node" "$tmp/apply.log" &&
	grep -q "live roles no longer match" "$tmp/apply.log" &&
	grep -qF "ccrup resume --rebind" "$tmp/apply.log" &&
	grep -F '"event":"refused"' "$j" | grep -qF '"rebind":'; then
	ok "the failover is seen: passive.setup refused (exit 3), the message names the role change and resume --rebind"
else
	ko "apply after the failover: exit $rc" "$tmp/apply.log"
fi

bin/ccrup status "$SIM_INV" --state-dir "$st" >"$tmp/status1.txt" 2>&1
bin/ccrup status "$SIM_INV" --state-dir "$st" -o json >"$tmp/status1.json" 2>&1
if grep -qF "ccrup resume --rebind" "$tmp/status1.txt" && ! grep -q '(`ccrup resume`)' "$tmp/status1.txt" &&
	python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["clusters"][0]
n = c["next"]
assert n["id"] == "passive.setup", n
assert n["command"] == "ccrup resume --rebind", n
assert "NODE2" in n["why"] and "active" in n["why"], n
' "$tmp/status1.json"; then
	ok "status suggests ccrup resume --rebind with the reason (text and JSON), not plain resume"
else
	ko "status after the failover" "$tmp/status1.txt"
	cat "$tmp/status1.json"
fi

sim_ctl dump >"$tmp/w2a.json"
bin/ccrup resume "$SIM_INV" --yes --state-dir "$st" >"$tmp/resume1.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/w2b.json"
if [ $rc = 3 ] && grep -qF "ccrup resume --rebind" "$tmp/resume1.log" && changing "$tmp/w2a.json" "$tmp/w2b.json"; then
	ok "plain resume is refused again (exit 3), changes nothing and names --rebind"
else
	ko "plain resume after the failover: exit $rc" "$tmp/resume1.log"
fi

# ---- guided: the changes are shown, the question asked; "n" changes nothing ----
sim_ctl dump >"$tmp/w2c.json"
python3 tests/lib/guided.py "rebind=n" "$tmp/guided.log" -- bin/ccrup resume "$SIM_INV" --rebind --state-dir "$st"
rc=$?
sim_ctl dump >"$tmp/w2d.json"
if [ $rc = 3 ] && grep -q "role active: NODE1 -> NODE2" "$tmp/guided.log" &&
	grep -q "Rebind the roles and re-plan" "$tmp/guided.log" &&
	grep -q "not rebound: nothing was changed" "$tmp/guided.log" &&
	! grep -qF '"event":"rebind"' "$j" && changing "$tmp/w2c.json" "$tmp/w2d.json"; then
	ok "guided --rebind shows the changes and asks; declined, nothing is journaled or changed (exit 3)"
else
	ko "guided --rebind declined: exit $rc" "$tmp/guided.log"
fi

# ---- rebind, killed in the rebound run, resumed ----
sim_ctl fault-add '{"host": "NODE1", "match": "net stop RemoteRegistry", "kind": "hang"}' >/dev/null
bin/ccrup resume "$SIM_INV" --rebind --yes --state-dir "$st" >"$tmp/rebind.log" 2>&1 &
APID=$!
if wait_begin "$j" passive.stop-remote-registry NODE1; then
	sleep 0.2
	kill -9 "$APID"
	wait "$APID" 2>/dev/null
	APID=
	sim_ctl fault-clear >/dev/null
	if grep -q "role active: NODE1 -> NODE2" "$tmp/rebind.log" &&
		grep -q "role passive: NODE2 -> NODE1" "$tmp/rebind.log" &&
		[ "$(grep -cF '"event":"rebind"' "$j")" = 1 ]; then
		ok "resume --rebind shows each role change and journals one rebind record"
	else
		ko "resume --rebind output or journal" "$tmp/rebind.log"
	fi
	bin/ccrup status "$SIM_INV" --state-dir "$st" >"$tmp/status2.txt" 2>&1
	if grep -qE "role active +NODE2" "$tmp/status2.txt" && grep -qE "role passive +NODE1" "$tmp/status2.txt" &&
		grep -qE "former-active.setup +NODE2 +pending" "$tmp/status2.txt" &&
		grep -qE "former-active.firewall-start +NODE2 +done" "$tmp/status2.txt"; then
		ok "after a kill -9, status reads the rebound roles and the steps NODE2 already did"
	else
		ko "status after the kill"; cat "$tmp/status2.txt"
	fi
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$st" >"$tmp/resume2.log" 2>&1
	rc=$?
	sim_ctl dump >"$tmp/w3.json"
	if [ $rc = 0 ] && python3 $W "$tmp/w3.json" upgraded CLUS1 8.1.240.6 DISABLED 2 &&
		python3 $W "$tmp/w3.json" count NODE2 "net stop RemoteRegistry" 1 &&
		python3 $W "$tmp/w3.json" count NODE2 "net start RemoteRegistry" 1 &&
		python3 $W "$tmp/w3.json" count NODE2 "net start SharedAccess" 1 &&
		python3 $W "$tmp/w3.json" count NODE2 "sc config SharedAccess start= demand" 1 &&
		python3 $W "$tmp/w3.json" count NODE2 "net stop SysmonLog" 1 &&
		python3 $W "$tmp/w3.json" count NODE2 "NetFx20SP1" 1 &&
		python3 $W "$tmp/w3.json" count NODE1 "/m:upgrade" 1; then
		ok "resume finishes the rebound run: an upgraded cluster, nothing NODE2 did before the failover ran twice"
	else
		ko "resume after the kill: exit $rc" "$tmp/resume2.log"
	fi
	bin/ccrup status "$SIM_INV" --state-dir "$st" >"$tmp/status3.txt" 2>&1
	if [ $? = 0 ] && grep -q "Cluster CLUS1: done" "$tmp/status3.txt"; then
		ok "status reads the finished rebound run"
	else
		ko "status after the run" "$tmp/status3.txt"
	fi
	bin/ccrup report "$SIM_INV" --state-dir "$st" --html "$tmp/report.html" >"$tmp/report.log" 2>&1
	if [ $? = 0 ] && grep -q "former-active.stop-remote-registry on NODE2: done" "$tmp/report.html" &&
		grep -q "former-active.dotnet-sp1 on NODE2: skipped" "$tmp/report.html" &&
		! grep -q "passive.dotnet-sp1 on NODE2" "$tmp/report.html"; then
		ok "report reads the journal with its rebind record: NODE2's earlier work shown under its new role"
	else
		ko "report after the rebound run" "$tmp/report.log"
	fi
else
	ko "the rebound run never began stop-remote-registry on NODE1" "$tmp/rebind.log"
fi
sim_stop

# ---- failed: the owner crashes as setup starts on NODE2, which then owns the CMS ----
# setup.com itself refuses on the CMS owner (exit 1): a failed step, not a refused one;
# a plain resume would be refused at its precondition, so --rebind is what is named.
scn2=$tmp/failover-setup.yml
python3 - mock-nodes/scenarios/two-node.yml "$scn2" <<'PY2'
import sys
s = open(sys.argv[1]).read()
s += """
events:
  - on: setup.com /m:upgrade
    on_host: NODE2
    when: before
    do: crash
    host: CLUS1.cms_owner
"""
open(sys.argv[2], "w").write(s)
PY2
sim_start "$scn2" 0 "$tmp/s2" || { echo "rebind: ccrsim did not start"; exit 1; }
st2=$tmp/st2
bin/ccrup apply "$SIM_INV" --yes --state-dir "$st2" >"$tmp/apply2.log" 2>&1
rc=$?
bin/ccrup status "$SIM_INV" --state-dir "$st2" -o json >"$tmp/status4.json" 2>&1
if [ $rc = 1 ] && grep -q "passive.setup.*exited 1" "$tmp/apply2.log" &&
	grep -qF "ccrup resume --rebind" "$tmp/apply2.log" &&
	python3 -c '
import json, sys
n = json.load(open(sys.argv[1]))["clusters"][0]["next"]
assert n["id"] == "passive.setup" and n["command"] == "ccrup resume --rebind", n
' "$tmp/status4.json"; then
	ok "setup failed on the node the CMS failed over to: exit 1 names resume --rebind, and so does status"
else
	ko "apply with the owner crashing as setup starts: exit $rc" "$tmp/apply2.log"
	cat "$tmp/status4.json"
fi
python3 tests/lib/guided.py "" "$tmp/rebind2.log" -- bin/ccrup resume "$SIM_INV" --rebind --state-dir "$st2"
rc=$?
sim_ctl dump >"$tmp/w4.json"
if [ $rc = 0 ] && grep -q "Rebind the roles and re-plan" "$tmp/rebind2.log" &&
	grep -q "role passive: NODE2 -> NODE1" "$tmp/rebind2.log" &&
	python3 $W "$tmp/w4.json" cms CLUS1 NODE1 Online 8.1.240.6 &&
	python3 $W "$tmp/w4.json" count NODE1 "/m:upgrade" 1 &&
	python3 $W "$tmp/w4.json" count NODE2 "/m:upgrade" 2 &&
	python3 $W "$tmp/w4.json" count NODE2 "net stop RemoteRegistry" 1 &&
	python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))
v = {h["name"]: h["binaries_version"] for h in w["hosts"] if h["name"] in ("NODE1", "NODE2")}
assert v == {"NODE1": "8.1.240.6", "NODE2": "8.1.240.6"}, v
' "$tmp/w4.json"; then
	ok "guided resume --rebind (answered yes) finishes it: both nodes and the CMS upgraded, setup ran once more only where it had been refused"
else
	ko "resume --rebind after the failed setup: exit $rc" "$tmp/rebind2.log"
fi
sim_stop

echo "rebind: $pass passed, $fail failed"
[ $fail = 0 ]
