#!/bin/sh
# ccrsim over real SSH with Debian's OpenSSH client: the command line, the
# generated files (strict known_hosts, keys, inventory), exec with and without
# a PTY, exit statuses, public-key-only authentication, shells refused, the
# control socket, key reuse across restarts, --authorized-keys, clean SIGTERM.
# Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-ssh.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
SCN=mock-nodes/scenarios/two-node.yml # sim_start gives it ports of its own
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d"; fi; }
# sshx USER HOST CMD [ssh options]: strict known_hosts, the generated client key, no agent.
# An empty CMD asks for a shell.
sshx() {
	_u=$1; _h=$2; _c=$3; shift 3
	ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
		-i "$SIM_DIR/client_ed25519" -p "$(sim_inv "$_h" port)" "$@" "$_u@$(sim_inv "$_h" address)" ${_c:+"$_c"}
}
# run HOST CMD [ssh options]: output in $tmp/out, $tmp/err, exit status in $tmp/rc.
run() { sshx administrator "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc"; }
rc() { [ "$(cat "$tmp/rc")" = "$1" ]; }
has() { grep -q -- "$1" "$tmp/${2:-out}"; }
CR=$(printf '\r')

# --- the command line ---
bin/ccrsim --help >"$tmp/help" 2>&1
check "--help exits 0 and shows usage" grep -q -- '--scenario FILE' "$tmp/help"
for bad in "" "--scenario" "--scenario $SCN --fleet 0" "--scenario $SCN --time-scale -1" \
	"--scenario $SCN --time-scale x" "--scenario $SCN --bogus"; do
	# shellcheck disable=SC2086
	bin/ccrsim $bad >/dev/null 2>&1
	check "bad arguments '$bad' exit 2" [ $? = 2 ]
done
bin/ccrsim ctl --control "$tmp/none.sock" frobnicate >/dev/null 2>&1
check "ctl: unknown command exits 2" [ $? = 2 ]
bin/ccrsim ctl --control "$tmp/none.sock" fault-add '[1' >/dev/null 2>&1
check "ctl: fault-add with bad JSON exits 2" [ $? = 2 ]
bin/ccrsim ctl --control "$tmp/none.sock" dump >/dev/null 2>&1
check "ctl: no server exits 1" [ $? = 1 ]

# --- start-up and generated files ---
sim_start "$SCN" 0 "$tmp/sim" || { echo "ccrsim_ssh: 0 passed, 1 failed (no start)"; exit 1; }
check "ready line" grep -q "^ccrsim: 3 hosts listening; control at $tmp/sim/control.sock" \
	"$tmp/sim/ccrsim.log"
check "pid file holds the pid" [ "$(cat "$tmp/sim/ccrsim.pid")" = "$SIM_PID" ]
check "control socket is 0600" [ "$(stat -c %a "$tmp/sim/control.sock")" = 600 ]
check "host keys are 0600" [ "$(stat -c %a "$tmp/sim/hostkeys/NODE1.key")" = 600 ]
check "client key is 0600" [ "$(stat -c %a "$tmp/sim/client_ed25519")" = 600 ]
check "known_hosts has three lines per host (ed25519, ECDSA, RSA)" [ "$(wc -l <"$tmp/sim/known_hosts")" = 9 ]
p1=$(sim_inv NODE1 port)
check "known_hosts line format" grep -Eq "^(\[127\.[0-9.]+\]:$p1|127\.[0-9.]+) ssh-ed25519 AAAA" \
	"$tmp/sim/known_hosts"
check "inventory: clusters with cms, members, active, hub_cas, acknowledge" \
	grep -q 'acknowledge: \[preflight.lab-tested, preflight.backup-recent, preflight.users-informed, final.new-backup\]' "$SIM_INV"
check "inventory: identity is absolute" grep -q "identity: /.*/client_ed25519" "$SIM_INV"
grep -q "cms: E2K7CCR" "$SIM_INV" && grep -q "members: \[NODE1, NODE2\]" "$SIM_INV" &&
	grep -q "active: NODE1" "$SIM_INV" && grep -q "hub_cas: \[HUBCAS\]" "$SIM_INV"
check "inventory: CLUS1 as in the scenario" [ $? = 0 ]
bin/ccrup validate "$SIM_INV" >"$tmp/validate" 2>&1
check "ccrup validate accepts the generated inventory" [ $? = 0 ]

# --- exec without and with a PTY ---
run NODE1 'sc query SysmonLog'
check "exec: exit 0" rc 0
check "exec: sc query output" has 'SERVICE_NAME: SysmonLog'
check "exec without PTY: plain LF" sh -c "! grep -q '$CR' '$tmp/out'"
run NODE1 'sc query SysmonLog' -tt
check "exec with -tt: exit 0" rc 0
check "exec with -tt: CRLF line ends" grep -q "SERVICE_NAME: SysmonLog$CR" "$tmp/out"
run NODE2 'frobnicate /now'
check "unknown command: exit 9009 as cmd.exe's (OpenSSH shows its low 8 bits, 49)" rc 49
check "unknown command: message on stderr" has 'is not recognized' err
check "unknown command: stdout empty without PTY" [ ! -s "$tmp/out" ]
run NODE2 'frobnicate /now' -tt
check "unknown command with -tt: exit 9009 (49), message on the terminal" sh -c \
	"[ \"\$(cat '$tmp/rc')\" = 49 ] && grep -q 'is not recognized' '$tmp/out'"

# --- authentication ---
: >"$tmp/empty_known"
ssh -F /dev/null -o UserKnownHostsFile="$tmp/empty_known" -o StrictHostKeyChecking=yes \
	-o IdentitiesOnly=yes -o BatchMode=yes -i "$tmp/sim/client_ed25519" -p "$p1" \
	"administrator@$(sim_inv NODE1 address)" 'sc query SysmonLog' >/dev/null 2>"$tmp/err"
check "strict known_hosts: unknown key refused" has 'Host key verification failed' err
for m in password keyboard-interactive none; do
	run NODE1 'sc query SysmonLog' -o PreferredAuthentications=$m
	check "$m auth refused" sh -c "[ \"\$(cat '$tmp/rc')\" = 255 ] && grep -q 'Permission denied (publickey)' '$tmp/err'"
done
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other" >/dev/null
ssh -F /dev/null -o UserKnownHostsFile="$tmp/sim/known_hosts" -o StrictHostKeyChecking=yes \
	-o IdentitiesOnly=yes -o BatchMode=yes -i "$tmp/other" -p "$p1" \
	"administrator@$(sim_inv NODE1 address)" 'sc query SysmonLog' >/dev/null 2>"$tmp/err"
check "a key not authorized is refused" has 'Permission denied (publickey)' err
sshx someone NODE1 'sc query SysmonLog' >/dev/null 2>&1
check "any user name is accepted" [ $? = 0 ]

# --- shell requests ---
sshx administrator NODE1 '' </dev/null >"$tmp/out" 2>"$tmp/err"
check "shell request: exit 1 with a polite notice" sh -c \
	"[ $? = 1 ] && grep -q 'interactive shells are not supported' '$tmp/out'"

# --- control socket ---
sim_ctl dump >"$tmp/dump"
check "ctl dump: ok" [ $? = 0 ]
python3 -c "import json,sys; d=json.load(open('$tmp/dump')); s=d['server']; sys.exit(not (d['ok'] is True and s['paused'] is False and s['sessions_total'] >= 10 and s['now_ms'] >= 0 and s['sessions'] >= 0))"
check "ctl dump: server section" [ $? = 0 ]
sim_ctl pause >/dev/null && sim_json "w['server']['paused']" >"$tmp/p"
check "ctl pause" grep -q True "$tmp/p"
t1=$(sim_json "w['server']['now_ms']")
sleep 0.3
t2=$(sim_json "w['server']['now_ms']")
check "paused clock stands still" [ "$t1" = "$t2" ]
sim_ctl resume >/dev/null && sleep 0.2
t3=$(sim_json "w['server']['now_ms']")
check "ctl resume: clock runs again" [ "$t3" -gt "$t2" ]
sim_ctl set NOSUCHHOST.pending_reboot 1 >"$tmp/out"
check "ctl set: bad path -> ok false, exit 1" sh -c "[ $? = 1 ] && grep -q '\"ok\":false' '$tmp/out'"
sim_ctl fault-clear >/dev/null
check "ctl fault-clear" [ $? = 0 ]
sim_ctl wait-idle 5000 >"$tmp/out"
check "ctl wait-idle" [ $? = 0 ]
printf '{"op":"frob"}\nnot json\n' | python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect('$tmp/sim/control.sock'); s.sendall(sys.stdin.buffer.read())
b=b''
while b.count(b'\n') < 2: b+=s.recv(4096)
print(b.decode())" >"$tmp/out" 2>&1
check "control socket: unknown op and bad JSON answered with errors" \
	[ "$(grep -c '"ok":false' "$tmp/out")" = 2 ]

# --- restart: keys reused; --authorized-keys ---
awk '{ print $2, $3 }' "$tmp/sim/known_hosts" >"$tmp/keys_before"
sim_stop
check "SIGTERM: control socket and pid file removed" \
	sh -c "[ ! -e '$tmp/sim/control.sock' ] && [ ! -e '$tmp/sim/ccrsim.pid' ]"
sim_start "$SCN" 0 "$tmp/sim" || exit 1
awk '{ print $2, $3 }' "$tmp/sim/known_hosts" >"$tmp/keys_after"
check "restart: same host keys" cmp -s "$tmp/keys_before" "$tmp/keys_after"
run NODE2 'sc query SysmonLog'
check "restart: the old client key still works" rc 0
sim_stop
sim_start "$SCN" 0 "$tmp/sim" --authorized-keys "$tmp/other.pub" || exit 1
p1=$(sim_inv NODE1 port)
ssh -F /dev/null -o UserKnownHostsFile="$tmp/sim/known_hosts" -o StrictHostKeyChecking=yes \
	-o IdentitiesOnly=yes -o BatchMode=yes -i "$tmp/other" -p "$p1" \
	"administrator@$(sim_inv NODE1 address)" 'sc query SysmonLog' >/dev/null 2>&1
check "--authorized-keys: that key is accepted" [ $? = 0 ]
run NODE1 'sc query SysmonLog'
check "--authorized-keys: the generated key is not" rc 255
check "--authorized-keys: no identity in the inventory" sh -c "! grep -q identity: '$SIM_INV'"
sim_stop

echo "ccrsim_ssh: $pass passed, $fail failed"
[ "$fail" = 0 ]
