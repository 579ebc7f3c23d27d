#!/bin/sh
# Guided mode in an 80-column terminal (a PTY that reports its size, as tmux or an
# xterm does): every line of the step display and the prompt keeps to 80 columns,
# long texts wrap at spaces under their value ("why:   ...") instead of cutting
# words, and a phase line names its node without a hole ("CLUS1 [22/110] NODE2: phase").
# `status` and `validate` in the same terminal wrap the same way.  A PTY that reports no size (as the
# other PTY tests use) is not wrapped.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-width.XXXXXX)
trap 'sim_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 30 "$2"; }

# drive.py COLS LOG -- ARGV: answers q at the first step prompt; the screen's lines to LOG.
cat >"$tmp/drive.py" <<'PY'
import fcntl, os, pty, re, select, struct, sys, termios, time
cols, log = int(sys.argv[1]), sys.argv[2]
argv = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    if cols:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    os.execvp(argv[0], argv)
raw, end = b"", time.time() + 60
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
    raw += data
    if re.search(rb"\[q\]\s*uit \S*$|\[q\]uit\S* $", re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", raw)):
        os.write(fd, b"q\n")
os.waitpid(pid, 0)
text = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", raw).decode("utf-8", "replace")
# What the screen shows: after a carriage return the line is redrawn.
lines = [l.split("\r")[-1] for l in text.replace("\r\n", "\n").split("\n")]
open(log, "w").write("\n".join(lines) + "\n")
PY

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
python3 "$tmp/drive.py" 80 "$tmp/w80.txt" -- bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st"
long=$(awk 'length($0) > 80' "$tmp/w80.txt" | wc -l)
if [ "$long" = 0 ] && grep -q '^Run passive.dotnet-sp1 on NODE2? \[y\]es \[s\]kip' "$tmp/w80.txt"; then
	ok "80 columns: no line of the guided display or the prompt is wider"
else
	ko "$long lines wider than 80" "$tmp/w80.txt"
	awk 'length($0) > 80' "$tmp/w80.txt" | head -5
fi
if grep -q '^    why:   Microsoft recommends .NET 2.0 SP1 for Exchange 2007 SP1 on Windows$' "$tmp/w80.txt" &&
	grep -q '^           2003 (procedure step 1)\.$' "$tmp/w80.txt"; then
	ok "a long why: wraps at a space, under its value"
else
	ko "why: wrapping" "$tmp/w80.txt"
fi
if grep -q '^CLUS1 \[[0-9]*/[0-9]*\] NODE2: phase passive: Upgrade the passive node$' "$tmp/w80.txt"; then
	ok "a phase line names its node without an empty step"
else
	ko "phase line" "$tmp/w80.txt"
fi
python3 "$tmp/drive.py" 80 "$tmp/s80.txt" -- bin/ccrup status "$SIM_INV" --state-dir "$tmp/st"
if [ "$(awk 'length($0) > 80' "$tmp/s80.txt" | wc -l)" = 0 ] && grep -q '^Cluster CLUS1: interrupted\( by the operator\)\{0,1\} (run ' "$tmp/s80.txt" &&
	grep -q '^    .*last record [0-9:.TZ-]*)$' "$tmp/s80.txt"; then
	ok "status at 80 columns: its long lines wrap at spaces"
else
	ko "status at 80 columns" "$tmp/s80.txt"
	awk 'length($0) > 80' "$tmp/s80.txt" | head -3
fi
mkdir -p "$tmp/the-playbooks-of-the-change-ticket"
cp playbooks/ccr-sp1.yml "$tmp/the-playbooks-of-the-change-ticket/"
python3 "$tmp/drive.py" 80 "$tmp/v80.txt" -- bin/ccrup validate "$SIM_INV" -p "$tmp/the-playbooks-of-the-change-ticket/ccr-sp1.yml"
if [ "$(awk 'length($0) > 80' "$tmp/v80.txt" | wc -l)" = 0 ] && grep -q '^    ' "$tmp/v80.txt" &&
	sed 's/^    / /' "$tmp/v80.txt" | tr -d '\n' | grep -q 'change-ticket/ccr-sp1.yml: valid (playbook ccr-sp1: 7 phases'; then
	ok "validate at 80 columns: nothing wider"
else
	ko "validate at 80 columns" "$tmp/v80.txt"
fi
rm -rf "$tmp/st"
python3 "$tmp/drive.py" 0 "$tmp/w0.txt" -- bin/ccrup apply "$SIM_INV" --state-dir "$tmp/st"
if grep -q '^    why:   Microsoft recommends .NET 2.0 SP1 for Exchange 2007 SP1 on Windows 2003 (procedure step 1)\.$' "$tmp/w0.txt"; then
	ok "a terminal of unknown size is not wrapped"
else
	ko "unknown size" "$tmp/w0.txt"
fi
sim_stop
echo "terminal_width: $pass passed, $fail failed"
[ "$fail" = 0 ]
