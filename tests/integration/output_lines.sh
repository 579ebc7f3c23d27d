#!/bin/sh
# What ccrup prints, piped and on a terminal: in line mode every step that runs has a
# "started" line before its end; -v names each command with its exit status and time
# (probes too, with their node); -vv prefixes every output line with the time, cluster,
# step and node; refusals to start (lock held, nothing to resume, an unfinished run)
# are not labelled FAILED and print no empty summary table; on an 80-column terminal
# the live status line keeps its timers and the OUTAGE flag and shortens the rest.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-output.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st" -vv >"$tmp/vv.log" 2>&1
rc=$?
[ $rc = 0 ] && ok "apply --yes -vv: exit 0" || ko "apply exit $rc" "$tmp/vv.log"

python3 - "$tmp/vv.log" "$tmp/st/CLUS1/journal.jsonl" <<'PY' && ok "every step that began has a 'started' line before its end" || ko "started lines"
import json, re, sys
log = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in open(sys.argv[2])]
began = {(r["step"], r["node"]) for r in recs if r.get("event") == "begin"}
assert began, "no step began"
for step, node in began:
    pat = re.compile(r"^\S+Z CLUS1 \[\d+/\d+\] " + re.escape(step) + " on " + node + ": ")
    lines = [l for l in log if pat.match(l)]
    assert lines, (step, node)
    starts = [i for i, l in enumerate(lines) if ": started: " in l]
    ends = [i for i, l in enumerate(lines) if re.search(r": done in |: FAILED", l)]
    assert starts and ends and starts[0] < ends[-1], (step, node, lines[:3])
PY
if grep -q ": exit [0-9]*$" "$tmp/vv.log"; then
	ko "a bare 'exit N' line without its command" "$tmp/vv.log"
else
	ok "no bare 'exit N' lines"
fi
grep -q 'passive.setup on NODE2: `"D:\\Exchange2007SP1\\setup.com" /m:upgrade` exited 0 after ' "$tmp/vv.log" &&
	ok "-v: a command's line names it with its exit status and time" || ko "-v command exit" "$tmp/vv.log"
grep -q '^[0-9T:.-]*Z CLUS1 NODE[12]: probe `wmic os get ServicePackMajorVersion` exited 0 after ' "$tmp/vv.log" &&
	ok "-v: probes name their node and command" || ko "-v probe" "$tmp/vv.log"
grep -q '^[0-9T:.-]*Z CLUS1 passive.setup NODE2| The Microsoft Exchange Server setup operation completed successfully.$' "$tmp/vv.log" &&
	ok "-vv: output lines carry time, cluster, step and node" || ko "-vv prefix" "$tmp/vv.log"

# Refusals to start.
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/st" >"$tmp/nores.log" 2>&1
rc=$?
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/none" >"$tmp/never.log" 2>&1
rc2=$?
if [ $rc = 0 ] && [ $rc2 = 2 ] && ! grep -q "FAILED\|^cluster *node" "$tmp/nores.log" "$tmp/never.log" &&
	grep -q "nothing to resume" "$tmp/nores.log" && grep -q "no run has started" "$tmp/never.log"; then
	ok "nothing to resume: no FAILED, no empty summary table (exit 0 / 2)"
else
	ko "nothing to resume: exit $rc/$rc2" "$tmp/never.log"
fi
# A lock held by another process (this shell holds it with flock, like a running ccrup).
mkdir -p "$tmp/locked/CLUS1"
python3 - "$tmp/locked/CLUS1/lock" <<'PY' &
import fcntl, os, sys, time, socket
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, ('{"pid":%d,"host":"%s","started":"2026-12-07T10:00:00Z","command":"ccrup apply x"}\n' % (os.getpid(), socket.gethostname())).encode())
open(sys.argv[1] + ".ready", "w").close()
time.sleep(30)
PY
LPID=$!
i=0
while [ ! -f "$tmp/locked/CLUS1/lock.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/locked" >"$tmp/lock.log" 2>&1
rc=$?
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null
if [ $rc = 4 ] && grep -q "locked" "$tmp/lock.log" && ! grep -q "FAILED\|^cluster *node" "$tmp/lock.log"; then
	ok "lock held: exit 4, not FAILED, no empty summary table"
else
	ko "lock held: exit $rc" "$tmp/lock.log"
fi

# The status line on an 80-column terminal, during the outage (a slow CMS stop).
sim_stop
sim_start mock-nodes/scenarios/two-node.yml 0.002 "$tmp/sim" || exit 1
python3 - "$tmp/tty.log" bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st2" --clusters CLUS1 <<'PY'
import fcntl, os, pty, select, struct, sys, termios, time
log = open(sys.argv[1], "wb")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
end = time.time() + 300
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r:
        continue
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    log.write(data)
os.waitpid(pid, 0)
PY
python3 - "$tmp/tty.log" <<'PY' && ok "80 columns: every status line fits, keeps 'elapsed' and, in the outage, the OUTAGE flag; a long command shows as its program and last argument" || ko "status line" "$tmp/tty.log"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
shown = [ansi.sub("", seg) for seg in raw.split("\r\x1b[K")]
status = [s for s in shown if " | elapsed " in s and "\n" not in s]
assert len(status) > 20, len(status)
too_long = [s for s in status if len(s) > 79]
assert not too_long, too_long[:3]
outage = [s for s in status if "OUTAGE" in s]
assert outage, "no status line during the outage"
assert all(re.search(r"\| OUTAGE [0-9.]+(ms|s|m)", s) for s in outage), outage[:3]
long_where = [s for s in status if "..." in s]
assert long_where, "nothing was shortened"
# A running command too long for the line shows its program and last argument, whole,
# after the step and node, and before the timer: `setup.com /m:upgrade` | 1s of 2h.
setup = [s for s in shown if " of 2h" in s and "\n" not in s]
assert setup, "no status line while setup ran"
assert all(len(s) <= 79 for s in setup), [s for s in setup if len(s) > 79][:3]
bad = [s for s in setup if not re.match(
    r"CLUS1 \[[0-9]+/110\] (passive\.setup on NODE2|former-active\.setup on NODE1)"
    r"( running)? `[^`]*setup\.com\"? /m:upgrade` \| [0-9.]+(ms|s|m) of 2h", s)]
assert not bad, bad[:3]
PY
echo "output_lines: $pass passed, $fail failed"
[ "$fail" = 0 ]
