#!/bin/sh
# The rest of the Exchange 2007 CCR lifecycle against ccrsim (time scale 0):
#   - playbooks/ccr-rollup.yml end to end on sp1-rollup.yml (Update Rollup 9 for
#     SP1), then a second apply that runs no state-changing command;
#   - a guided run through a pseudo-terminal (tests/lib/guided.py): details, yes,
#     quit before the CMS move, a guided resume;
#   - its refusals before anything changes: a rollup for another service pack, an
#     .msp for another architecture;
#   - a crash subset: ccrup killed (SIGKILL) in the middle of each msiexec, of the
#     CMS move, and after a few step boundaries, then `ccrup resume --yes` must
#     reach the world of an undisturbed run (each node restarted as often);
#   - playbooks/ccr-sp.yml to SP2 (and SP3) end to end, its org-level phase run
#     once, the re-run no-op, its refusals (schema not prepared with
#     prepare_org: check, CAS/Hub behind with hub_cas_upgrade: check, Windows
#     Installer older than 4.5, an RTM cluster), a crash subset;
#   - the documented series SP1 -> SP2 -> SP2 rollup as three applies.
# EXCHANGE_CRASH_ALL=1 crashes at every command and step boundary of both clean runs
# instead of the subsets (about 3 minutes more).
# Servers on 127.0.0.0/8 only, stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-exchange.XXXXXX)
trap 'sim_stop; [ -n "${APID:-}" ] && kill -9 "$APID" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2" | sed 's/^/    /'; }
RB=playbooks/ccr-rollup.yml
SPB=playbooks/ccr-sp.yml
ROLLUP=mock-nodes/scenarios/sp1-rollup.yml
UR9=8.1.375.2

# setvar NAME VALUE: set a playbook variable in the generated inventory's cluster.
setvar() {
	sed -i "/^    vars:/a\\      $1: $2" "$SIM_INV"
}
# changing: state-changing commands the world saw (world.py's list), one per line.
changing() {
	sim_ctl dump | python3 -c '
import json, sys
sys.path.insert(0, "tests/lib")
ch = ("setup.com", "netfx", "shutdown", "net stop", "net start", "sc config",
      "stop-clusteredmailboxserver", "move-clusteredmailboxserver",
      "start-clusteredmailboxserver", "/move:", "reg delete", "reg add", "msiexec")
w = json.load(sys.stdin)
for h in w["hosts"]:
    for c, n in sorted(h["commands"].items()):
        if any(x in c.lower() for x in ch):
            print("%s %s x%d" % (h["name"], c, n))'
}
world() { sim_ctl dump >"$tmp/world.json" && python3 tests/lib/world.py "$tmp/world.json" "$@"; }
epochs() { sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')"; }

# ---- the rollup, end to end, and the second apply ----
sim_start "$ROLLUP" 0 "$tmp/r1/sim"
if bin/ccrup apply "$SIM_INV" -p "$RB" --yes --state-dir "$tmp/r1/st" >"$tmp/r1.log" 2>&1; then
	ok "rollup: apply exits 0"
else
	no "rollup: apply exits 0" "$tmp/r1.log"
fi
if world rolled CLUS1 "$UR9" 970162 8.1.240.6 NODE1=1,NODE2=1 >"$tmp/chk"; then
	ok "rollup: both nodes at $UR9 with KB970162 once, each restarted once, CMS online at 8.1.240.6"
else
	no "rollup: final world: $(cat "$tmp/chk")"
fi
RB_EPOCHS=$(epochs)
world count NODE1 msiexec 1 >"$tmp/chk" && world count NODE2 msiexec 1 >>"$tmp/chk" &&
	world count NODE1 setup.com 0 >>"$tmp/chk" && world count NODE2 setup.com 0 >>"$tmp/chk" &&
	ok "rollup: msiexec ran once per node, setup.com (/UpgradeCMS) never" ||
	no "rollup: msiexec/setup counts: $(cat "$tmp/chk")"
sim_json "w['clusters'][0]['cms']['owner']" | grep -qx NODE2 &&
	ok "rollup: the CMS ends on the node updated first (failback: none)" ||
	no "rollup: CMS owner $(sim_json "w['clusters'][0]['cms']['owner']")"
# Order: NODE2's msiexec before the CMS move, NODE1's after it (the journal's begin records).
python3 - "$tmp/r1/st/CLUS1/journal.jsonl" >"$tmp/order" <<'PY'
import json, sys
seq = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("event") == "begin" and r.get("command"):
        c = r["command"]
        if "msiexec" in c or "Move-ClusteredMailboxServer" in c or "/move:" in c:
            seq.append("%s:%s" % (r["node"], "msiexec" if "msiexec" in c else
                                  "move-cms" if "Move-Clustered" in c else "move-group"))
print(" ".join(seq))
PY
grep -qx "NODE2:move-group NODE2:msiexec NODE2:move-cms NODE1:move-group NODE1:msiexec" "$tmp/order" &&
	ok "rollup: Cluster Group off NODE2, NODE2's msiexec, CMS move, Cluster Group off NODE1, NODE1's msiexec" ||
	no "rollup: order $(cat "$tmp/order")"
changing >"$tmp/before"
if bin/ccrup apply "$SIM_INV" -p "$RB" --yes --state-dir "$tmp/r1/st" >"$tmp/r1b.log" 2>&1 &&
	grep -q "nothing to do" "$tmp/r1b.log"; then
	ok "rollup: a second apply says nothing to do"
else
	no "rollup: a second apply says nothing to do" "$tmp/r1b.log"
fi
changing >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok "rollup: the second apply ran no state-changing command" ||
	no "rollup: the second apply changed things: $(diff "$tmp/before" "$tmp/after" | tr '\n' ' ')"
sim_stop

# ---- the rollup guided through a pseudo-terminal: details, yes, quit before the move, resume ----
sim_start "$ROLLUP" 0 "$tmp/g/sim"
python3 tests/lib/guided.py "passive.install=dy,cms.move-cms=q" "$tmp/g1.log" -- \
	bin/ccrup apply "$SIM_INV" -p "$RB" --state-dir "$tmp/g/st" >/dev/null 2>&1
rc=$?
if [ $rc = 130 ] && grep -q "why:" "$tmp/g1.log" && grep -q 'msiexec /update "D:.Rollups.Exchange2007-KB970162-x64-EN.msp" /quiet /norestart' "$tmp/g1.log" &&
	grep -q "idempotent:" "$tmp/g1.log"; then
	ok "guided rollup: each step shown with why and the msiexec line, details, quit exits 130"
else
	no "guided rollup: exit $rc" "$tmp/g1.log"
fi
world count NODE2 msiexec 1 >"$tmp/chk" && world count NODE1 msiexec 0 >>"$tmp/chk" &&
	world cms CLUS1 NODE1 Online 8.1.240.6 >>"$tmp/chk" &&
	ok "guided rollup: NODE2 updated, the CMS not moved after quit" || no "guided rollup: $(cat "$tmp/chk")"
python3 tests/lib/guided.py "" "$tmp/g2.log" -- bin/ccrup resume "$SIM_INV" -p "$RB" --state-dir "$tmp/g/st" >/dev/null 2>&1
rc=$?
if [ $rc = 0 ] && world rolled CLUS1 "$UR9" 970162 8.1.240.6 NODE1=1,NODE2=1 >"$tmp/chk"; then
	ok "guided rollup: a guided resume finishes the rollup"
else
	no "guided rollup: resume exit $rc: $(cat "$tmp/chk")" "$tmp/g2.log"
fi
sim_stop

# ---- refusals before anything changes ----
# refuse NAME PLAYBOOK SCENARIO VAR=VALUE... -- PATTERN: apply with those vars must exit
# 3, name PATTERN (the refusing step), and leave the world untouched.
refuse() {
	_name=$1 _pb=$2 _scn=$3
	shift 3
	sim_start "$_scn" 0 "$tmp/ref/sim"
	while [ "$1" != -- ]; do setvar "${1%%=*}" "${1#*=}"; shift; done
	shift
	bin/ccrup apply "$SIM_INV" -p "$_pb" --yes --state-dir "$tmp/ref/st" >"$tmp/ref.log" 2>&1
	_rc=$?
	if [ $_rc = 3 ] && grep -q "$1" "$tmp/ref.log" && world untouched CLUS1 >"$tmp/chk"; then
		ok "refused: $_name (exit 3, $1, nothing changed)"
	else
		no "refused: $_name (exit $_rc, want 3 and $1): $(cat "$tmp/chk" 2>/dev/null)" "$tmp/ref.log"
	fi
	sim_stop
	rm -rf "$tmp/ref"
}
refuse "rollup: an SP2 rollup on SP1 binaries" "$RB" "$ROLLUP" \
	rollup="'D:\\Rollups\\Exchange2007-KB971534-x64-EN.msp'" rollup_service_pack="'8.2'" \
	rollup_version=8.2.217.3 -- "preflight.service-pack"
refuse "rollup: an x86 .msp on x64 nodes" "$RB" "$ROLLUP" \
	rollup="'D:\\Rollups\\Exchange2007-KB970162-x86-EN.msp'" rollup_arch=x86 -- "preflight.architecture"
sed -e '/^  NODE1:/,/services:/s/^    arch: x64/    arch: x64\n    interim_updates: [958690]/' "$ROLLUP" >"$tmp/interim.yml"
refuse "rollup: an interim update left on NODE1" "$RB" "$tmp/interim.yml" -- "preflight.no-interim-updates"
refuse "SP2: schema not prepared (prepare_org: check)" "$SPB" "$ROLLUP" prepare_org=check -- \
	"preflight.organization-prepared"
refuse "SP2: the HT/CAS still at SP1 (hub_cas_upgrade: check)" "$SPB" "$ROLLUP" hub_cas_upgrade=check -- \
	"preflight.hub-cas-at-target"
sed -e '/^  NODE2:/,/services:/s/windows_installer: "4.5"/windows_installer: "3.1"/' "$ROLLUP" >"$tmp/msi31.yml"
refuse "SP2: Windows Installer 3.1 on NODE2" "$SPB" "$tmp/msi31.yml" -- "preflight.windows-installer"
sed -e 's/8\.1\.240\.6/8.0.685.25/' "$ROLLUP" >"$tmp/rtm.yml"
refuse "SP2: an RTM cluster (SP1 first)" "$SPB" "$tmp/rtm.yml" -- "preflight.from-sp1"

# ---- crash subset of the rollup ----
# crash NAME KIND STEP NODE [MATCH NTH]: kill ccrup mid-command (KIND mid: MATCH held by a
# hang fault) or right after STEP's done record on NODE (KIND after); resume must converge.
crash() {
	_name=$1 _kind=$2 _step=$3 _node=$4 _pb=$5 _scn=$6 _check=$7
	_d="$tmp/crash"
	rm -rf "$_d"
	sim_start "$_scn" 0 "$_d/sim" || { no "crash $_name: ccrsim"; return; }
	if [ "$_kind" = mid ]; then
		sim_ctl fault-add "$(python3 -c 'import json,sys; print(json.dumps({"host": sys.argv[1], "match": sys.argv[2], "nth": 1, "kind": "hang"}))' "$_node" "$8")" >/dev/null
		_want=begin
	else
		_want=done
	fi
	bin/ccrup apply "$SIM_INV" -p "$_pb" --yes --state-dir "$_d/st" >"$_d/apply.log" 2>&1 &
	APID=$!
	_i=0
	while ! { [ -f "$_d/st/CLUS1/journal.jsonl" ] && grep -F "\"event\":\"$_want\"" "$_d/st/CLUS1/journal.jsonl" |
		grep -F "\"step\":\"$_step\"" | grep -qF "\"node\":\"$_node\""; } &&
		kill -0 "$APID" 2>/dev/null && [ $_i -lt 3000 ]; do
		_i=$((_i + 1))
		sleep 0.01
	done
	[ "$_kind" = mid ] && sleep 0.1
	kill -9 "$APID" 2>/dev/null
	wait "$APID" 2>/dev/null
	APID=
	sim_ctl fault-clear >/dev/null
	bin/ccrup resume "$SIM_INV" -p "$_pb" --yes --state-dir "$_d/st" >"$_d/resume.log" 2>&1
	_rc=$?
	# shellcheck disable=SC2086
	if [ $_rc != 0 ]; then
		no "crash $_name: resume exited $_rc" "$_d/resume.log"
	elif ! world $_check >"$tmp/chk"; then
		no "crash $_name: $(cat "$tmp/chk")" "$_d/resume.log"
	else
		ok "crash $_name: resume converges"
	fi
	sim_stop
}
# crash_all JOURNAL PLAYBOOK SCENARIO CHECK: with EXCHANGE_CRASH_ALL=1, every state-changing
# command (its first run per node) and every step boundary of a clean run's journal, as
# crash_matrix.sh does for SP1, instead of the subsets below.
crash_all() {
	[ -n "${EXCHANGE_CRASH_ALL:-}" ] || return 0
	python3 - "$1" >"$tmp/targets" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "begin" and r.get("node"):
        cmd = r.get("command") or ("shutdown /r /t 0" if "reboot" in r["step"] else None)
        if cmd is None:
            continue
        key = cmd
        for word in ("Move-ClusteredMailboxServer", "Stop-ClusteredMailboxServer", "msiexec",
                     "/move:", "/PrepareSchema", "/PrepareAD", "/m:upgrade", "/UpgradeCMS"):
            if word in cmd:
                key = word
        seen[(r["node"], key)] = seen.get((r["node"], key), 0) + 1
        if seen[(r["node"], key)] == 1:
            print("mid\t%s\t%s\t%s" % (r["step"], r["node"], key))
    if r["event"] == "done" and r.get("node"):
        print("after\t%s\t%s\t-" % (r["step"], r["node"]))
PY
	while IFS='	' read -r _k _s _n _m; do
		crash "$_k $_s on $_n" "$_k" "$_s" "$_n" "$2" "$3" "$4" "$_m"
	done <"$tmp/targets"
}
RCHK="rolled CLUS1 $UR9 970162 8.1.240.6 $RB_EPOCHS"
crash_all "$tmp/r1/st/CLUS1/journal.jsonl" "$RB" "$ROLLUP" "$RCHK"
crash "rollup: mid msiexec on NODE2" mid passive.install NODE2 "$RB" "$ROLLUP" "$RCHK" msiexec
crash "rollup: mid the CMS move" mid cms.move-cms NODE2 "$RB" "$ROLLUP" "$RCHK" Move-ClusteredMailboxServer
crash "rollup: mid msiexec on NODE1" mid former-active.install NODE1 "$RB" "$ROLLUP" "$RCHK" msiexec
crash "rollup: after NODE2's restart" after passive.reboot NODE2 "$RB" "$ROLLUP" "$RCHK"

# ---- SP2 with ccr-sp.yml, end to end, and the second apply ----
SP2=8.2.176.2
sim_start "$ROLLUP" 0 "$tmp/s1/sim"
if bin/ccrup apply "$SIM_INV" -p "$SPB" --yes --state-dir "$tmp/s1/st" >"$tmp/s1.log" 2>&1; then
	cp "$tmp/s1/st/CLUS1/journal.jsonl" "$tmp/sp2.journal"
	ok "SP2: apply exits 0"
else
	no "SP2: apply exits 0" "$tmp/s1.log"
fi
world upgraded CLUS1 "$SP2" DISABLED >"$tmp/chk" && world org CLUS1 "$SP2" "$SP2" >>"$tmp/chk" &&
	ok "SP2: nodes and CMS at $SP2 (setup once per node, /UpgradeCMS once, one outage), the organisation prepared" ||
	no "SP2: final world: $(cat "$tmp/chk")"
SP_EPOCHS=$(epochs)
sim_json "[h['server_version'] for h in w['hosts'] if h['name'] == 'HUBCAS'][0]" | grep -qx "$SP2" &&
	ok "SP2: HUBCAS at $SP2" || no "SP2: HUBCAS not upgraded"
n=$(sim_json "sum(n for h in w['hosts'] for c, n in h['commands'].items() if '/prepare' in c.lower())")
o=$(sim_json "sum(n for h in w['hosts'] if h['name'] != 'NODE1' for c, n in h['commands'].items() if '/prepare' in c.lower())")
[ "$n" = 2 ] && [ "$o" = 0 ] && ok "SP2: /PrepareSchema and /PrepareAD ran once each, for the organisation (from NODE1)" ||
	no "SP2: /Prepare* ran $n times ($o elsewhere than NODE1)"
python3 - "$tmp/s1/st/CLUS1/journal.jsonl" >"$tmp/order" <<'PY'
import json, sys
seq = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    c = r.get("command") or ""
    if r.get("event") == "begin" and "setup.com" in c:
        seq.append("%s:%s" % (r["node"], c.split()[-1]))
print(" ".join(seq))
PY
grep -qx "NODE1:/PrepareSchema NODE1:/PrepareAD HUBCAS:/m:upgrade NODE2:/m:upgrade NODE2:/UpgradeCMS NODE1:/m:upgrade" "$tmp/order" &&
	ok "SP2: schema, organisation, HT/CAS, passive node, /UpgradeCMS, former active node, in that order" ||
	no "SP2: setup order $(cat "$tmp/order")"
changing >"$tmp/before"
bin/ccrup apply "$SIM_INV" -p "$SPB" --yes --state-dir "$tmp/s1/st" >"$tmp/s1b.log" 2>&1 && grep -q "nothing to do" "$tmp/s1b.log" &&
	ok "SP2: a second apply says nothing to do" || no "SP2: a second apply says nothing to do" "$tmp/s1b.log"
changing >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok "SP2: the second apply ran no state-changing command" ||
	no "SP2: the second apply changed things: $(diff "$tmp/before" "$tmp/after" | tr '\n' ' ')"

# ---- the series: SP1 -> SP2 (above) -> Update Rollup 1 for SP2, in the same world ----
setvar rollup "'D:\\Rollups\\Exchange2007-KB971534-x64-EN.msp'"
setvar rollup_service_pack "'8.2'"
setvar rollup_version 8.2.217.3
if bin/ccrup plan "$SIM_INV" -p "$RB" --live --state-dir "$tmp/s1/st" >"$tmp/s1p.log" 2>&1 &&
	bin/ccrup apply "$SIM_INV" -p "$RB" --yes --state-dir "$tmp/s1/st" >"$tmp/s1r.log" 2>&1 &&
	world rolled CLUS1 8.2.217.3 971534 "$SP2" - 2 >"$tmp/chk"; then
	ok "series: SP1 -> SP2 -> SP2 rollup 1 (8.2.217.3) as three applies on one cluster"
else
	no "series: the SP2 rollup after SP2: $(cat "$tmp/chk" 2>/dev/null)" "$tmp/s1r.log"
fi
sim_stop

# ---- SP3 straight from SP1, the same playbook with its target ----
sed -e 's/^media_version:.*/media_version: 8.3.083.6/' "$ROLLUP" >"$tmp/sp3.yml"
sim_start "$tmp/sp3.yml" 0 "$tmp/s3/sim"
setvar target_version 8.3.083.6
setvar setup "'D:\\Exchange2007SP3\\setup.com'"
setvar schema_range_upper 14625
if bin/ccrup apply "$SIM_INV" -p "$SPB" --yes --state-dir "$tmp/s3/st" >"$tmp/s3.log" 2>&1 &&
	world upgraded CLUS1 8.3.083.6 DISABLED >"$tmp/chk" && world org CLUS1 8.3.083.6 8.3.083.6 >>"$tmp/chk"; then
	ok "SP3: SP1 -> SP3 (8.3.083.6) end to end, schema at 14625"
else
	no "SP3: $(cat "$tmp/chk" 2>/dev/null)" "$tmp/s3.log"
fi
sim_stop

# ---- crash subset of the service pack ----
SCHK="converged CLUS1 $SP2 DISABLED $SP_EPOCHS"
crash_all "$tmp/sp2.journal" "$SPB" "$ROLLUP" "$SCHK"
crash "SP2: mid /PrepareSchema" mid organization.prepare-schema NODE1 "$SPB" "$ROLLUP" "$SCHK" /PrepareSchema
crash "SP2: mid the HT/CAS setup" mid hub-cas.setup HUBCAS "$SPB" "$ROLLUP" "$SCHK" /m:upgrade
crash "SP2: mid /UpgradeCMS" mid cms.upgrade-cms NODE2 "$SPB" "$ROLLUP" "$SCHK" /UpgradeCMS

echo "exchange_lifecycle: $pass passed, $fail failed"
[ "$fail" = 0 ]
