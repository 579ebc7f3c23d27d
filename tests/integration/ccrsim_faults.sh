#!/bin/sh
# Reboots and injected faults as Debian's OpenSSH client sees them: a reboot
# drops a session whose command is still running and refuses connections
# while the host is down; fail, hang, drop (mid-output), slow, no-return and
# new-hostkey faults, each added through the control socket and observed by
# the client.  Servers on 127.0.0.0/8 only, stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-faults.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# A copy of the scenario with 20-minute reboots: at the test's time scale a
# reboot then refuses connections for 1.2 s, long enough to be seen on a loaded
# machine.  (sim_start gives it ports of its own.)
sed -e 's/^  reboot: .*/  reboot: 20m/' mock-nodes/scenarios/two-node.yml >"$tmp/two-node.yml"
SCN=$tmp/two-node.yml
SCALE=${CCRSIM_TEST_SCALE:-0.001}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d"; fi; }
# x HOST CMD [OUT]: stdout in OUT (default $tmp/out), stderr in OUT.err, exit status in $RC.
x() {
	_o=${3:-$tmp/out}
	ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
		-i "$SIM_DIR/client_ed25519" -p "$(sim_inv "$1" port)" "administrator@$(sim_inv "$1" address)" \
		"$2" >"$_o" 2>"$_o.err" </dev/null
	RC=$?
}
# accepts HOST: 0 if a TCP connection to the host's SSH port succeeds.
accepts() {
	python3 -c "
import socket, sys
s = socket.socket(); s.settimeout(2)
try: s.connect(('$(sim_inv "$1" address)', $(sim_inv "$1" port)))
except OSError: sys.exit(1)" 2>/dev/null
}
# wait_until SECONDS CMD...: poll CMD every 20 ms.
wait_until() {
	_n=$(($1 * 50)); shift
	while ! "$@"; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || return 1
		sleep 0.02
	done
}
refuses() { ! accepts "$1"; }
running() { [ "$(sim_json "w['server']['running']")" -ge 1 ]; }
fault() { sim_ctl fault-add "$1" >"$tmp/ctl" || { no "fault-add $1: $(cat "$tmp/ctl")"; return 1; }; }

sim_start "$SCN" "$SCALE" "$tmp/sim" || exit 1

# --- a reboot drops a live session and refuses connections while down ---
fault '{"host":"NODE2","match":"sc query W32Time","kind":"hang"}'
x NODE2 'sc query W32Time' "$tmp/live" &
live=$!
wait_until 10 running
check "a command is in flight on NODE2" [ $? = 0 ]
x NODE2 'shutdown /r /t 0'
check "shutdown /r /t 0 from a second session (exit $RC)" sh -c "[ $RC = 0 ] || [ $RC = 255 ]"
wait_until 10 refuses NODE2
check "NODE2 refuses connections while rebooting" [ $? = 0 ]
x NODE2 'sc query ClusSvc' "$tmp/during"
check "ssh during the reboot fails (exit $RC)" sh -c "[ $RC = 255 ] && grep -q 'refused' '$tmp/during.err'"
wait "$live"
check "the live session was dropped (exit $?)" grep -q 'closed by remote host' "$tmp/live.err"
wait_until 20 accepts NODE2
check "NODE2 accepts connections again" [ $? = 0 ]
sim_ctl fault-clear >/dev/null
sim_ctl wait-idle 20000 >/dev/null

# --- fail ---
fault '{"host":"NODE1","match":"sc query SysmonLog","kind":"fail","exit":5,"message":"[SC] OpenService FAILED 5:  Access is denied."}'
x NODE1 'sc query SysmonLog'
check "fail: exit status 5 ($RC)" [ "$RC" = 5 ]
check "fail: message on stderr" grep -q 'Access is denied' "$tmp/out.err"
x NODE1 'sc query ClusSvc'
check "fail: other commands unaffected" [ "$RC" = 0 ]
sim_ctl fault-clear NODE1 >/dev/null

# --- hang: the client gives up; the server aborts the command ---
fault '{"host":"NODE1","match":"sc query SysmonLog","kind":"hang"}'
timeout 3 ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
	-o IdentitiesOnly=yes -o BatchMode=yes -i "$SIM_DIR/client_ed25519" -p "$(sim_inv NODE1 port)" \
	"administrator@$(sim_inv NODE1 address)" 'sc query SysmonLog' >/dev/null 2>&1 </dev/null
check "hang: the command never returns (timeout: $?)" [ $? = 124 ]
sim_ctl wait-idle 5000 >/dev/null
check "hang: aborted once the client left (server idle)" [ $? = 0 ]
sim_ctl fault-clear >/dev/null

# --- drop mid-output ---
fault '{"host":"NODE1","match":"sc query SysmonLog","kind":"drop","after_bytes":40}'
x NODE1 'sc query SysmonLog'
check "drop: connection closed (exit $RC)" [ "$RC" = 255 ]
check "drop: exactly 40 bytes arrived ($(wc -c <"$tmp/out"))" [ "$(wc -c <"$tmp/out")" = 40 ]
check "drop: client saw the connection close" grep -q 'closed by remote host' "$tmp/out.err"
sim_ctl fault-clear >/dev/null

# --- slow ---
fault '{"host":"NODE1","match":"sc query SysmonLog","kind":"slow","delay_ms":1500}'
t0=$(date +%s%N)
x NODE1 'sc query SysmonLog'
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "slow: took ${ms} ms (>= 1500), exit $RC, full output" \
	sh -c "[ $ms -ge 1500 ] && [ $RC = 0 ] && grep -q 'SERVICE_NAME: SysmonLog' '$tmp/out'"
sim_ctl fault-clear >/dev/null

# --- no-return: the host stays down until the fault is cleared ---
fault '{"host":"HUBCAS","kind":"no-return"}'
x HUBCAS 'shutdown /r /t 0'
wait_until 10 refuses HUBCAS
check "no-return: HUBCAS went down" [ $? = 0 ]
sleep 1
check "no-return: still refusing a second later" refuses HUBCAS
sim_json "[h['power'] for h in w['hosts'] if h['name'] == 'HUBCAS'][0]" >"$tmp/power"
check "no-return: dump says down" grep -q down "$tmp/power"
sim_ctl fault-clear HUBCAS >/dev/null
wait_until 20 accepts HUBCAS
check "no-return: back once the fault is cleared" [ $? = 0 ]
sim_ctl wait-idle 20000 >/dev/null

# --- new-hostkey: strict clients refuse the changed key ---
fault '{"host":"HUBCAS","kind":"new-hostkey"}'
cp "$SIM_DIR/known_hosts" "$tmp/known_before"
x HUBCAS 'shutdown /r /t 0'
wait_until 10 refuses HUBCAS
wait_until 20 accepts HUBCAS
sim_ctl wait-idle 20000 >/dev/null
x HUBCAS 'sc query W32Time'
check "new-hostkey: ssh refuses (exit $RC)" sh -c "[ $RC = 255 ] && grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' '$tmp/out.err'"
check "new-hostkey: known_hosts not rewritten" cmp -s "$tmp/known_before" "$SIM_DIR/known_hosts"
x NODE1 'sc query ClusSvc'
check "new-hostkey: other hosts keep their keys" [ "$RC" = 0 ]
sim_stop

echo "ccrsim_faults: $pass passed, $fail failed"
[ "$fail" = 0 ]
