#!/bin/sh
# The SP1 procedure of playbooks/ccr-sp1.yml typed by hand into ccrsim with
# Debian's OpenSSH client, node by node, reboots included (each host must
# refuse connections, then accept them again).  The world, read back with
# `ccrsim ctl dump`, must end with both nodes and the CMS at 8.1.240.6, the
# CMS Online, setup /m:upgrade run once per node and one outage, from
# Stop-ClusteredMailboxServer to the end of /UpgradeCMS.  Then the trap of
# rule 9: upgrading the second node before /UpgradeCMS strands the CMS, and
# the documented way out.  Servers on 127.0.0.0/8 only, stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-upgrade.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# A copy of the scenario with 10-minute reboots (refusing connections for 0.6 s at
# the test's time scale: plenty for the watcher) and 10-minute setups, to keep the
# test short.  (sim_start gives it ports of its own.)
sed -e 's/^  reboot: .*/  reboot: 10m/' -e 's/^  setup: .*/  setup: 10m/' \
	mock-nodes/scenarios/two-node.yml >"$tmp/two-node.yml"
SCN=$tmp/two-node.yml
# Reboots of a few minutes last a few hundred ms: long enough to see the refusal.
SCALE=${CCRSIM_TEST_SCALE:-0.001}
EMS='powershell -NonInteractive -PSConsoleFile "C:\Program Files\Microsoft\Exchange Server\Bin\exshell.psc1" -Command'
SETUP='"D:\Exchange2007SP1\setup.com"'
DOTNET='"D:\Prereqs\NetFx20SP1_x86.exe" /q /norestart'
NETKEY='reg query "HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v2.0.50727" /v SP'
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d"; fi; }
# x HOST CMD: run CMD on HOST; output in $tmp/out (stdout+stderr), exit status in $RC.
x() {
	ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
		-i "$SIM_DIR/client_ed25519" -p "$(sim_inv "$1" port)" "administrator@$(sim_inv "$1" address)" \
		"$2" >"$tmp/out" 2>&1 </dev/null
	RC=$?
	printf '  %s [%s] %s -> %s\n' "$(date +%T.%N | cut -c1-12)" "$1" "$2" "$RC"
}
# xok HOST CMD [EXIT...]: run, and record a check that the exit status is one of EXIT (0).
xok() {
	_h=$1; _c=$2; shift 2
	x "$_h" "$_c"
	_want=${*:-0}
	case " $_want " in
	*" $RC "*) ok "$_h: $_c" ;;
	*) no "$_h: $_c (exit $RC, want $_want)"; sed 's/^/    /' "$tmp/out" ;;
	esac
}
# reboot HOST: shutdown /r /t 0; the host must refuse connections, then accept them
# again, within 30 s.  The watcher starts first, so that it cannot miss the refusal.
reboot() {
	rm -f "$tmp/watching"
	python3 - "$(sim_inv "$1" address)" "$(sim_inv "$1" port)" "$tmp/watching" <<'EOF' &
import socket, sys, time
addr, port = sys.argv[1], int(sys.argv[2])
def accepts():
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()
end = time.time() + 30
first = True
while accepts():
    if first:  # connected once: from now on a refusal cannot be missed
        open(sys.argv[3], "w").close()
        first = False
    if time.time() > end:
        sys.exit("never refused")
    time.sleep(0.003)
while not accepts():
    if time.time() > end:
        sys.exit("never came back")
    time.sleep(0.01)
EOF
	_w=$!
	_i=0 # until the watcher has connected once
	while [ ! -e "$tmp/watching" ] && [ $_i -lt 300 ]; do sleep 0.05; _i=$((_i + 1)); done
	xok "$1" 'shutdown /r /t 0' 0 255
	wait "$_w"
	check "$1: refused connections while rebooting, then accepted them" [ $? = 0 ]
}
now_ms() { sim_json "w['server']['now_ms']"; }
idle() { sim_ctl wait-idle 30000 >/dev/null || no "world idle"; }
ems() { printf '%s "%s"' "$EMS" "$1"; }

# Steps 1-7 on one node: .NET SP1 if missing, services, firewall, setup, reboot.
node_upgrade() {
	x "$1" "$NETKEY"
	if ! grep -Eq 'SP[[:space:]]+REG_DWORD[[:space:]]+0x[1-9]' "$tmp/out"; then
		# 3010 (success, restart required) reaches ssh's exit status as 3010 % 256 = 194.
		xok "$1" "$DOTNET" 0 194
		if [ "$RC" = 194 ]; then
			reboot "$1"
			idle
		fi
	fi
	for s in MOM HealthService FSCController SysmonLog; do
		xok "$1" "net stop $s" 0 2
	done
	xok "$1" 'net stop RemoteRegistry' 0 2
	xok "$1" 'net start RemoteRegistry' 0 2
	xok "$1" 'sc config SharedAccess start= demand'
	xok "$1" 'net start SharedAccess' 0 2
	xok "$1" "$SETUP /m:upgrade"
	check "$1: setup reports success" grep -qi 'completed successfully' "$tmp/out"
	reboot "$1"
	idle
}

# --- the correct sequence ---
sim_start "$SCN" "$SCALE" "$tmp/ok" || exit 1
echo "# passive node NODE2"
xok NODE2 'cluster group "Cluster Group" /move:NODE1'
node_upgrade NODE2
echo "# the CMS: stop, move to NODE2, /UpgradeCMS (the outage)"
t_before=$(now_ms)
xok NODE2 "$(ems "Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason 'SP1 upgrade' -Confirm:\$false")"
xok NODE2 "$(ems "Move-ClusteredMailboxServer -Identity E2K7CCR -TargetMachine NODE2 -MoveComment 'SP1 upgrade' -Confirm:\$false")"
xok NODE2 "$SETUP /UpgradeCMS"
idle
t_after=$(now_ms)
echo "# former active node NODE1"
xok NODE1 'cluster group "Cluster Group" /move:NODE2'
node_upgrade NODE1
idle
sim_ctl dump >"$tmp/dump"
python3 - "$tmp/dump" "$t_before" "$t_after" >"$tmp/verdict" 2>&1 <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
t_before, t_after = int(sys.argv[2]), int(sys.argv[3])
hosts = {h["name"]: h for h in w["hosts"]}
c = w["clusters"][0]
bad = []
for n in ("NODE1", "NODE2"):
    if hosts[n]["binaries_version"] != "8.1.240.6":
        bad.append("%s binaries %s" % (n, hosts[n]["binaries_version"]))
    runs = sum(v for k, v in hosts[n]["commands"].items() if "/m:upgrade" in k.lower())
    if runs != 1:
        bad.append("%s ran setup /m:upgrade %d times" % (n, runs))
if c["cms"]["version"] != "8.1.240.6" or c["cms"]["state"] != "Online":
    bad.append("CMS %s %s" % (c["cms"]["version"], c["cms"]["state"]))
out = c["outages"]
if len(out) != 1 or out[0]["end_ms"] is None:
    bad.append("outages %r" % out)
elif not (t_before <= out[0]["start_ms"] and out[0]["end_ms"] <= t_after):
    bad.append("outage %r outside [%d, %d]" % (out[0], t_before, t_after))
print("; ".join(bad) or "CMS %s on %s at %s, outage %d ms" % (
    c["cms"]["state"], c["cms"]["owner"], c["cms"]["version"], c["outage_total_ms"]))
sys.exit(1 if bad else 0)
EOF
check "world after the SP1 sequence: $(cat "$tmp/verdict")" [ $? = 0 ]
sim_stop

# --- the trap: the second node upgraded before /UpgradeCMS ---
sim_start "$SCN" "$SCALE" "$tmp/trap" || exit 1
echo "# trap: NODE2, stop and move the CMS, then NODE1 without /UpgradeCMS"
xok NODE2 'cluster group "Cluster Group" /move:NODE1'
node_upgrade NODE2
xok NODE2 "$(ems "Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason 'SP1 upgrade' -Confirm:\$false")"
xok NODE2 "$(ems "Move-ClusteredMailboxServer -Identity E2K7CCR -TargetMachine NODE2 -MoveComment 'SP1 upgrade' -Confirm:\$false")"
xok NODE1 'cluster group "Cluster Group" /move:NODE2'
node_upgrade NODE1
x NODE2 "$(ems "Start-ClusteredMailboxServer -Identity E2K7CCR -Confirm:\$false")"
check "trap: the CMS will not start (exit $RC)" [ "$RC" != 0 ]
x NODE2 "$SETUP /UpgradeCMS"
check "trap: /UpgradeCMS refuses (exit $RC)" [ "$RC" != 0 ]
sim_json "w['clusters'][0]['cms']['state'] + ' ' + w['clusters'][0]['cms']['version']" >"$tmp/st"
check "trap: CMS not online, still 8.0 ($(cat "$tmp/st"))" sh -c "! grep -q '^Online' '$tmp/st' && grep -q ' 8.0' '$tmp/st'"
echo "# the way out: delete the CMS key, then /UpgradeCMS"
xok NODE2 'reg delete "HKLM\SOFTWARE\Microsoft\Exchange\v8.0\CMS" /f'
xok NODE2 "$SETUP /UpgradeCMS"
idle
sim_json "w['clusters'][0]['cms']['state'] + ' ' + w['clusters'][0]['cms']['version']" >"$tmp/st"
check "trap fixed: CMS $(cat "$tmp/st")" grep -q '^Online 8.1.240.6' "$tmp/st"
sim_stop

echo "ccrsim_upgrade: $pass passed, $fail failed"
[ "$fail" = 0 ]
