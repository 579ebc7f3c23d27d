#!/bin/sh
# ccrsim behaves like a real Windows host with Win32-OpenSSH, checked with
# clients nobody here wrote (Debian's OpenSSH `ssh` and paramiko):
#   an unknown command exits 9009 with cmd.exe's "is not recognized" text;
#   MaxSessions 10 by default (the 11th session channel of a connection is
#   refused), scenario- and ctl-settable;
#   Ctrl-C (0x03) through a PTY interrupts the running command (exit
#   STATUS_CONTROL_C_EXIT), and is plain input without one;
#   keepalive@openssh.com is answered with failure, as sshd does;
#   ed25519, ECDSA and RSA host keys are offered: clients restricted to
#   rsa-sha2-512 or ecdsa-sha2-nistp256 connect with strict known_hosts;
#   a drop fault with after_bytes 50 delivers exactly 50 bytes under -tt too.
# Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-realhost.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && head -c 800 "$2"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d" "$tmp/out"; fi; }
sshx() { sim_ssh "$@"; }
# para HOST SCRIPT: run python with a connected paramiko client `c` (strict host keys).
para() {
	/usr/bin/python3 - "$(sim_inv "$1" address)" "$(sim_inv "$1" port)" "$SIM_DIR" "$2" <<'EOF'
import sys, paramiko
addr, port, d, script = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = paramiko.SSHClient()
c.load_host_keys(d + "/known_hosts")
c.set_missing_host_key_policy(paramiko.RejectPolicy())
c.connect(addr, port=port, username="administrator", key_filename=d + "/client_ed25519",
          allow_agent=False, look_for_keys=False, timeout=10)
exec(script)
c.close()
EOF
}

cat mock-nodes/scenarios/two-node.yml >"$tmp/scn.yml"
sim_start "$tmp/scn.yml" 0.1 "$tmp/sim" -v || { echo "ccrsim_realhost: 0 passed, 1 failed (no start)"; exit 1; }

# --- unknown command: 9009, cmd.exe's message ---
sshx NODE1 'frobnicate /now' >"$tmp/out" 2>"$tmp/err"
echo $? >"$tmp/rc"
check "ssh: unknown command exits 9009 (ssh shows 9009 & 255 = 49)" [ "$(cat "$tmp/rc")" = 49 ]
check "ssh: cmd.exe's message on stderr" grep -q "^'frobnicate' is not recognized as an internal or external command," "$tmp/err"
para NODE1 '
ch = c.get_transport().open_session(); ch.exec_command("frobnicate /now")
print(ch.recv_exit_status())' >"$tmp/out" 2>&1
check "paramiko: unknown command's exit-status is 9009" grep -qx 9009 "$tmp/out"

# --- MaxSessions ---
para NODE1 '
t = c.get_transport(); chans = []
for i in range(12):
    try:
        chans.append(t.open_session(timeout=5)); print("open", i + 1)
    except paramiko.ChannelException as e:
        print("refused", i + 1, e.code)
        break' >"$tmp/out" 2>&1
check "paramiko: 10 session channels open on one connection" grep -qx "open 10" "$tmp/out"
check "paramiko: the 11th is refused (channel open failure)" grep -q "^refused 11 " "$tmp/out"
check "dump: max_sessions 10 by default" [ "$(sim_json "[h['max_sessions'] for h in w['hosts'] if h['name']=='NODE1'][0]")" = 10 ]
sim_ctl set NODE1.max_sessions 2 >/dev/null
para NODE1 '
t = c.get_transport(); chans = []
for i in range(4):
    try:
        chans.append(t.open_session(timeout=5)); print("open", i + 1)
    except paramiko.ChannelException as e:
        print("refused", i + 1)
        break' >"$tmp/out" 2>&1
check "ctl set NODE1.max_sessions 2: the 3rd channel is refused" grep -qx "refused 3" "$tmp/out"
sim_ctl set NODE1.max_sessions 10 >/dev/null
# OpenSSH multiplexing: one master, 11 sessions at once through it.
ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
	-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -i "$SIM_DIR/client_ed25519" \
	-o ControlMaster=yes -o ControlPath="$tmp/mux" -o ControlPersist=30 -fN \
	-p "$(sim_inv NODE2 port)" "administrator@$(sim_inv NODE2 address)"
sim_ctl fault-add '{"host":"NODE2","match":"sc query ClusSvc","kind":"slow","delay_ms":3000}' >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10 11; do
	(ssh -F /dev/null -o ControlPath="$tmp/mux" -p "$(sim_inv NODE2 port)" \
		"administrator@$(sim_inv NODE2 address)" 'sc query ClusSvc' >"$tmp/mux.$i" 2>&1; echo $? >"$tmp/mux.$i.rc") &
done
wait_n=0
while [ "$(ls "$tmp"/mux.*.rc 2>/dev/null | wc -l)" -lt 11 ] && [ "$wait_n" -lt 300 ]; do sleep 0.1; wait_n=$((wait_n + 1)); done
nok=$(grep -lx 0 "$tmp"/mux.*.rc | wc -l)
check "OpenSSH multiplexing 11 sessions over one connection: 10 run, 1 refused ($nok ok)" [ "$nok" = 10 ]
cat "$tmp"/mux.[0-9] "$tmp"/mux.[0-9][0-9] >"$tmp/out" 2>/dev/null
check "OpenSSH reports the refused one as with sshd's MaxSessions (Session open refused by peer)" \
	grep -q "Session open refused by peer" "$tmp/out"
ssh -F /dev/null -o ControlPath="$tmp/mux" -O exit -p "$(sim_inv NODE2 port)" "administrator@$(sim_inv NODE2 address)" 2>/dev/null
sim_ctl fault-clear NODE2 >/dev/null

# --- Ctrl-C through a PTY ---
para NODE2 '
import time
ch = c.get_transport().open_session(); ch.get_pty(); ch.exec_command("D:\\Exchange2007SP1\\setup.com /m:upgrade")
time.sleep(1.5); ch.send(b"\x03"); t0 = time.time()
st = ch.recv_exit_status(); out = b""
while ch.recv_ready(): out += ch.recv(65536)
print("status", st, "fast", time.time() - t0 < 5, "caret", b"^C" in out)' >"$tmp/out" 2>&1
check "paramiko + PTY: Ctrl-C ends setup.com at once with STATUS_CONTROL_C_EXIT (3221225786), ^C echoed" \
	grep -qx "status 3221225786 fast True caret True" "$tmp/out"
check "-v logs the interruption" grep -q "NODE2: Ctrl-C: command interrupted" "$SIM_DIR/ccrsim.log"
check "the world saw setup interrupted (ClusSvc running again, binaries unchanged)" \
	[ "$(sim_json "[h['binaries_version'] for h in w['hosts'] if h['name']=='NODE2'][0]")" = 8.0.685.25 ]
(sleep 1.5; printf '\003'; sleep 10) | sshx NODE2 'D:\Exchange2007SP1\setup.com /m:upgrade' -tt >"$tmp/out" 2>"$tmp/err" &
sp=$!
i=0
while kill -0 "$sp" 2>/dev/null && [ "$i" -lt 80 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$sp" 2>/dev/null && { kill "$sp"; stuck=1; } || stuck=0
wait "$sp"
rc=$?
check "ssh -tt: Ctrl-C ends the command within 8 s (exit $rc = 0xC000013A & 255 = 58)" sh -c "[ $stuck = 0 ] && [ $rc = 58 ]"
sim_ctl fault-add '{"host":"NODE2","match":"sc query ClusSvc","kind":"slow","delay_ms":1000}' >/dev/null
para NODE2 '
import time
ch = c.get_transport().open_session(); ch.exec_command("sc query ClusSvc")
time.sleep(0.3); ch.send(b"\x03"); print("status", ch.recv_exit_status())' >"$tmp/out" 2>&1
sim_ctl fault-clear NODE2 >/dev/null
check "without a PTY 0x03 is plain input: the command completes (exit 0)" grep -qx "status 0" "$tmp/out"

# --- keepalive@openssh.com ---
para NODE1 '
r = c.get_transport().global_request("keepalive@openssh.com", wait=True)
print("reply", "success" if r is not None else "failure")' >"$tmp/out" 2>&1
check "paramiko: keepalive@openssh.com answered with failure, as sshd" grep -qx "reply failure" "$tmp/out"
sshx NODE1 'sc query ClusSvc' -o ServerAliveInterval=1 -o ServerAliveCountMax=2 >"$tmp/out" 2>&1
check "OpenSSH with ServerAliveInterval still runs commands" grep -q "SERVICE_NAME: ClusSvc" "$tmp/out"

# --- host keys: ed25519, ECDSA, RSA ---
check "known_hosts lists ed25519, ECDSA and RSA for every host (9 lines)" sh -c \
	"[ \$(wc -l <$SIM_DIR/known_hosts) = 9 ] && grep -q ' ssh-rsa ' $SIM_DIR/known_hosts && grep -q ' ecdsa-sha2-nistp256 ' $SIM_DIR/known_hosts"
for alg in rsa-sha2-512 rsa-sha2-256 ecdsa-sha2-nistp256 ssh-ed25519; do
	sshx NODE1 'sc query ClusSvc' -o HostKeyAlgorithms=$alg >"$tmp/out" 2>&1
	check "ssh -o HostKeyAlgorithms=$alg connects with strict known_hosts" grep -q "SERVICE_NAME: ClusSvc" "$tmp/out"
done
para NODE1 'print(c.get_transport().get_remote_server_key().get_name())' >"$tmp/out" 2>&1
check "paramiko verifies the host key against known_hosts" grep -q "^ssh-" "$tmp/out"

# --- drop after_bytes under -tt: exactly that many bytes ---
sim_ctl fault-add '{"host":"NODE1","match":"sc query ClusSvc","kind":"drop","after_bytes":50}' >/dev/null
sshx NODE1 'sc query ClusSvc' -tt >"$tmp/out" 2>"$tmp/err"
check "ssh -tt: drop after_bytes 50 delivers exactly 50 bytes ($(wc -c <"$tmp/out"))" [ "$(wc -c <"$tmp/out")" = 50 ]
sshx NODE1 'sc query ClusSvc' >"$tmp/out" 2>"$tmp/err"
check "ssh without PTY: exactly 50 bytes too" [ "$(wc -c <"$tmp/out")" = 50 ]
sim_ctl fault-clear >/dev/null

echo "ccrsim_realhost: $pass passed, $fail failed"
[ "$fail" = 0 ]
