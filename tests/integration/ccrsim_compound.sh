#!/bin/sh
# ccrsim's compound lines (docs/ccrsim.md, Compound lines) with clients nobody
# here wrote: OpenSSH's ssh, paramiko and pywinrm (Debian's python3-winrm).
# A batch in the wire format of notes/compound-spec.md,
#   cmd /v:on /c "P1 & echo ccrup:N:1:!errorlevel!& echo ccrup:N:1: 1>&2& P2 & ..."
# sent as one SSH exec request or one WinRM Command: each part's stdout,
# stderr and exit status equal those of the same command sent alone; a fail
# fault on a middle part shows in its marker and later parts still run; a
# hang delivers the earlier parts and never the later ones; a drop closes the
# connection after the faulted part's bytes; !errorlevel! stays literal
# without /v:on; the dump's requests count remote commands, its commands
# every part.  Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-compound.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && head -c 1500 "$2"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d" "$tmp/out"; fi; }
sshx() { sim_ssh "$@"; }

# The checker: python with paramiko and pywinrm; VIA (ssh|winrm) HOST MODE [fault JSON].
# Each part is run alone, then all in one batch; parts are split on the markers as the
# spec says; prints one line per difference, "same N" when all N parts agree.
cat >"$tmp/check.py" <<'EOF'
import json, re, socket, subprocess, sys, time
import paramiko, winrm

d, via, host, mode = sys.argv[1:5]
inv = open(d + "/inventory.yml").read()
m = re.search(r"(?m)^  %s:\n    address: (\S+)\n    port: (\d+)$" % host, inv)
addr, port = m.group(1), int(m.group(2))
NONCE = "5eedf00d"
PARTS = ['sc query ClusSvc', 'sc query NoSuchService', 'frobnicate /now',
         'cluster group "Cluster Group"', 'reg query "HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS"',
         'wmic os get LastBootUpTime']

def batch(parts):
    return 'cmd /v:on /c "' + "& ".join(
        "%s & echo ccrup:%s:%d:!errorlevel!& echo ccrup:%s:%d: 1>&2" % (p, NONCE, i + 1, NONCE, i + 1)
        for i, p in enumerate(parts)) + '"'

def ssh_run(line, timeout=None):
    c = paramiko.SSHClient()
    c.load_host_keys(d + "/known_hosts")
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.connect(addr, port=port, username="administrator", key_filename=d + "/client_ed25519",
              allow_agent=False, look_for_keys=False, timeout=10)
    ch = c.get_transport().open_session()
    ch.exec_command(line)
    out, err = b"", b""
    end = time.time() + (timeout or 30)
    ch.settimeout(0.2)
    while time.time() < end:
        try:
            b = ch.recv(65536)
            if b:
                out += b
                continue
            if ch.exit_status_ready() or ch.closed:
                break
        except socket.timeout:
            pass
        while ch.recv_stderr_ready():
            err += ch.recv_stderr(65536)
        if ch.exit_status_ready() and not ch.recv_ready():
            break
    while ch.recv_stderr_ready():
        err += ch.recv_stderr(65536)
    code = ch.recv_exit_status() if ch.exit_status_ready() else None
    c.close()
    return out.decode(), err.decode(), code

def winrm_session(op_timeout=20):
    wp = port - 8000  # ccrsim's WinRM HTTP port (docs/ccrsim.md)
    return winrm.Session("http://%s:%d/wsman" % (addr, wp), auth=("administrator", open(d + "/winrm_password").read()),
                         transport="basic", operation_timeout_sec=op_timeout, read_timeout_sec=op_timeout + 10)

def winrm_run(line):
    r = winrm_session().run_cmd(line)
    return r.std_out.decode(), r.std_err.decode(), r.status_code

def run(line, **kw):
    return ssh_run(line, **kw) if via == "ssh" else winrm_run(line)

def split(stream, n):
    """Parts of one stream: text before marker i (after marker i-1's line end); status after it."""
    res, pos = [], 0
    for i in range(1, n + 1):
        mk = "ccrup:%s:%d:" % (NONCE, i)
        at = stream.find(mk, pos)
        if at < 0:
            res.append(None)
            break
        eol = stream.find("\n", at)
        res.append((stream[pos:at], stream[at + len(mk):eol].rstrip("\r ")))
        pos = eol + 1
    return res

if mode == "same":
    alone = [run(p) for p in PARTS]
    out, err, code = run(batch(PARTS))
    so, se = split(out, len(PARTS)), split(err, len(PARTS))
    bad = 0
    for i, p in enumerate(PARTS):
        if so[i] is None or se[i] is None:
            print("part %d: no marker" % (i + 1)); bad += 1; continue
        if so[i][0] != alone[i][0]: print("part %d stdout differs: %r vs %r" % (i + 1, so[i][0], alone[i][0])); bad += 1
        if se[i][0] != alone[i][1]: print("part %d stderr differs: %r vs %r" % (i + 1, se[i][0], alone[i][1])); bad += 1
        if so[i][1] != str(alone[i][2]): print("part %d status %s vs %s" % (i + 1, so[i][1], alone[i][2])); bad += 1
    print("statuses", " ".join(str(a[2]) for a in alone), "batch", code)
    if not bad: print("same", len(PARTS))
elif mode == "fail":
    out, err, code = run(batch(PARTS[:4]))
    so, se = split(out, 4), split(err, 4)
    print("part2", so[1][1], repr(se[1][0]), "part4", so[3][1], "Cluster Group" in so[3][0])
elif mode == "hang":
    if via == "ssh":
        out, err, code = ssh_run(batch(PARTS[:4]), timeout=3)
        print("exit", code, "m1", ("ccrup:%s:1:0" % NONCE) in out, "m2", ("ccrup:%s:2:" % NONCE) in out,
              "clus", "SERVICE_NAME: ClusSvc" in out, "group", "Cluster Group" in out)
    else:
        s = winrm_session(op_timeout=2)
        p = s.protocol
        sh = p.open_shell()
        cid = p.run_command(sh, batch(PARTS[:4]))
        o, e, rc, done = p._raw_get_command_output(sh, cid)
        o = o.decode()
        try:
            p._raw_get_command_output(sh, cid)
            timed_out = False
        except winrm.exceptions.WinRMOperationTimeoutError:
            timed_out = True
        print("done", done, "m1", ("ccrup:%s:1:0" % NONCE) in o, "m2", ("ccrup:%s:2:" % NONCE) in o,
              "clus", "SERVICE_NAME: ClusSvc" in o, "timedout", timed_out)
        p.cleanup_command(sh, cid)
        p.close_shell(sh)
elif mode == "literal":
    for line in ('cmd /c "frobnicate & echo x:!errorlevel!"', 'cmd /v:on /c "frobnicate & echo x:!errorlevel!"',
                 'cmd /v:on /c "frobnicate & echo x:%errorlevel%"'):
        print(run(line)[0].strip())
EOF
para() { /usr/bin/python3 "$tmp/check.py" "$SIM_DIR" "$@"; }

sim_start mock-nodes/scenarios/two-node.yml 0.01 "$tmp/sim" -v || { echo "ccrsim_compound: 0 passed, 1 failed (no start)"; exit 1; }

# --- each part as if alone, over SSH (paramiko) and WinRM (pywinrm) ---
for via in ssh winrm; do
	para "$via" NODE1 same >"$tmp/out" 2>&1
	check "$via: six parts in one batch: stdout, stderr, exit status each as alone" grep -qx "same 6" "$tmp/out"
	check "$via: statuses as alone: 0 1060 9009 0 0 0, the batch exits 0" grep -qx "statuses 0 1060 9009 0 0 0 batch 0" "$tmp/out"
done

# --- OpenSSH's client: one exec request; the markers as the spec shows them ---
n0=$(sim_json "[h['requests'] for h in w['hosts'] if h['name']=='NODE2'][0]")
c0=$(sim_json "[h['commands'].get('sc query ClusSvc', 0) for h in w['hosts'] if h['name']=='NODE2'][0]")
sshx NODE2 'cmd /v:on /c "sc query ClusSvc & echo ccrup:0123abcd:1:!errorlevel!& echo ccrup:0123abcd:1: 1>&2& frobnicate & echo ccrup:0123abcd:2:!errorlevel!& echo ccrup:0123abcd:2: 1>&2"' >"$tmp/out" 2>"$tmp/err"
echo $? >"$tmp/rc"
check "ssh: the batch exits 0 (its last echo's)" [ "$(cat "$tmp/rc")" = 0 ]
check "ssh: stdout has part 1's output, then its marker with status 0" sh -c "grep -q 'SERVICE_NAME: ClusSvc' '$tmp/out' && grep -qx 'ccrup:0123abcd:1:0' '$tmp/out'"
check "ssh: part 2's marker says 9009" grep -qx "ccrup:0123abcd:2:9009" "$tmp/out"
check "ssh: stderr: marker 1, cmd's message for part 2, marker 2" sh -c "[ \"\$(sed -n '1p;4p' '$tmp/err')\" = 'ccrup:0123abcd:1: 
ccrup:0123abcd:2: ' ] && sed -n 2p '$tmp/err' | grep -q \"^'frobnicate' is not recognized\""
n1=$(sim_json "[h['requests'] for h in w['hosts'] if h['name']=='NODE2'][0]")
c1=$(sim_json "[h['commands'].get('sc query ClusSvc', 0) for h in w['hosts'] if h['name']=='NODE2'][0]")
check "dump: one request for the batch" [ $((n1 - n0)) = 1 ]
check "dump: its parts counted in commands as if alone" [ $((c1 - c0)) = 1 ]
sim_ctl dump >"$tmp/dump"
check "dump: echo is cmd's own, not a command" sh -c "! grep -q '\"echo' '$tmp/dump'"
check "-v: a line per segment start and exit" sh -c "grep -qx 'ccrsim: NODE2: \[1\] exec sc query ClusSvc' '$SIM_DIR/ccrsim.log' && grep -qx 'ccrsim: NODE2: \[4\] exit 9009' '$SIM_DIR/ccrsim.log'"

# --- requests vs commands over both transports ---
r0=$(sim_json "[h['requests'] for h in w['hosts'] if h['name']=='HUBCAS'][0]")
/usr/bin/python3 - "$SIM_DIR" <<'EOF' >"$tmp/out" 2>&1
import re, sys, winrm
d = sys.argv[1]
inv = open(d + "/inventory.yml").read()
m = re.search(r"(?m)^  HUBCAS:\n    address: (\S+)\n    port: (\d+)$", inv)
s = winrm.Session("http://%s:%d/wsman" % (m.group(1), int(m.group(2)) - 8000),
                  auth=("administrator", open(d + "/winrm_password").read()), transport="basic")
r = s.run_cmd('cmd /c "sc query W3SVC & sc query W3SVC & echo done"')
print(r.status_code, r.std_out.decode().count("SERVICE_NAME"), r.std_out.decode().strip().splitlines()[-1])
EOF
check "winrm: three segments in one Command: both queries and the echo" grep -qx "0 2 done" "$tmp/out"
sshx HUBCAS 'cmd /c "sc query W3SVC & sc query W3SVC"' >/dev/null 2>&1
check "dump: requests +2 (one WinRM Command, one SSH exec)" [ "$(sim_json "[h['requests'] for h in w['hosts'] if h['name']=='HUBCAS'][0]")" = $((r0 + 2)) ]
check "dump: commands counts each of the four queries" [ "$(sim_json "[h['commands'].get('sc query W3SVC', 0) for h in w['hosts'] if h['name']=='HUBCAS'][0]")" = 4 ]

# --- !errorlevel! literal without /v:on; %errorlevel% at parse time ---
for via in ssh winrm; do
	para "$via" NODE1 literal >"$tmp/out" 2>&1
	check "$via: !errorlevel! literal without /v:on, 9009 with it; %errorlevel% 0" sh -c "[ \"\$(cat '$tmp/out')\" = 'x:!errorlevel!
x:9009
x:0' ]"
done

# --- a fail fault on a middle part: its status in its marker, later parts still run ---
sim_ctl fault-add '{"host":"NODE1","match":"NoSuchService","kind":"fail","exit":77,"message":"injected"}' >/dev/null
for via in ssh winrm; do
	para "$via" NODE1 fail >"$tmp/out" 2>&1
	check "$via: fail on part 2: marker 77, its message, part 4 still ran" grep -qx "part2 77 'injected\\\\n' part4 0 True" "$tmp/out"
done
sim_ctl fault-clear >/dev/null

# --- a hang on a middle part: earlier output arrives, later never ---
sim_ctl fault-add '{"host":"NODE1","match":"NoSuchService","kind":"hang"}' >/dev/null
para ssh NODE1 hang >"$tmp/out" 2>&1
check "ssh: hang on part 2: part 1 and its marker arrive, nothing after, no exit status" grep -qx "exit None m1 True m2 False clus True group False" "$tmp/out"
para winrm NODE1 hang >"$tmp/out" 2>&1
check "winrm: hang on part 2: part 1 in the first Receive, then the operation timeout" grep -qx "done False m1 True m2 False clus True timedout True" "$tmp/out"
sim_ctl fault-clear >/dev/null

# --- a drop on a middle part: its bytes count from that part; the connection closes ---
sshx NODE1 'cmd /v:on /c "sc query ClusSvc & echo ccrup:0123abcd:1:!errorlevel!& echo ccrup:0123abcd:1: 1>&2& frobnicate & echo ccrup:0123abcd:2:!errorlevel!& echo ccrup:0123abcd:2: 1>&2"' >"$tmp/a.out" 2>"$tmp/a.err"
sim_ctl fault-add '{"host":"NODE1","match":"frobnicate","kind":"drop","after_bytes":10}' >/dev/null
sshx NODE1 'cmd /v:on /c "sc query ClusSvc & echo ccrup:0123abcd:1:!errorlevel!& echo ccrup:0123abcd:1: 1>&2& frobnicate & echo ccrup:0123abcd:2:!errorlevel!& echo ccrup:0123abcd:2: 1>&2"' >"$tmp/out" 2>"$tmp/err"
echo $? >"$tmp/rc"
sim_ctl fault-clear >/dev/null
before=$(($(sed '/ccrup:0123abcd:1:/q' "$tmp/a.out" | wc -c) + $(sed '/ccrup:0123abcd:1:/q' "$tmp/a.err" | wc -c)))
check "ssh: drop on part 2: connection closed (ssh exits 255)" [ "$(cat "$tmp/rc")" = 255 ]
check "ssh: part 1 whole with its markers" sh -c "grep -qx 'ccrup:0123abcd:1:0' '$tmp/out' && grep -qx 'ccrup:0123abcd:1: ' '$tmp/err'"
check "ssh: then exactly 10 bytes (after_bytes) of what followed, no marker 2" sh -c "[ \$((\$(wc -c <'$tmp/out') + \$(python3 -c 'import sys; print(len(open(sys.argv[1], \"rb\").read().split(b\"Connection to \")[0]))' '$tmp/err'))) = $((before + 10)) ] && ! grep -q 'ccrup:0123abcd:2:' '$tmp/out' '$tmp/err'"
check "ssh: those 10 bytes are part 2's own (its stderr), not the next echo's" sh -c "sed -n 2p '$tmp/err' | grep -q \"^'frobnicatConnection to \""

sim_stop
echo "ccrsim_compound: $pass passed, $fail failed"
[ "$fail" = 0 ]
