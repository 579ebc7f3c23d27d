#!/bin/sh
# `ccrup report` rendered by a real browser.  Synthetic journals and audit
# logs (written with correct CRCs by a small Python generator, from the steps
# of `ccrup plan -o json` for playbooks/ccr-sp1.yml) describe three runs: one
# finished (CLUS1), one failed inside the outage with `<script>` in its
# command and output (CLUS2), one in progress with its lock held (CLUS3); a
# fourth cluster has a corrupt journal (exit 5) and a fifth none at all.
# Headless Chromium loads the page with logging on: the DOM must hold the SVG
# lanes, the outage band and the escaped text, and the console must stay
# silent (the page's CSP turns any script or external load into a console
# error).  The screenshot is kept in $BUILD/tests/ and its path printed.
#
# Chromium is installed with apt-get when missing and running as root (CI);
# otherwise the test fails and says how to install it.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d"; fi; }
finish() { echo "report_chromium: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "installing chromium (apt-get install -y chromium) ..."
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq chromium >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }
	fi
	if [ ! -x "$CHROMIUM" ]; then
		no "chromium is needed to render the report: 'apt-get install chromium' failed or this is not root (install it, or set CHROMIUM=/path/to/chromium)"
		finish
	fi
fi
if [ ! -x bin/ccrup ]; then
	no "bin/ccrup is missing: run make first"
	finish
fi

tmp=$(mktemp -d /tmp/report-chromium.XXXXXX)
LOCKPID=
cleanup() {
	[ -n "$LOCKPID" ] && kill "$LOCKPID" 2>/dev/null && wait "$LOCKPID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
state=$tmp/state
mkdir -p "$state"

cat >"$tmp/inv.yml" <<'EOF'
inventory: report-demo
format: 1
defaults:
  user: administrator
hosts:
  NODE1: {address: 127.0.0.1}
  NODE2: {address: 127.0.0.1}
  NODE3: {address: 127.0.0.1}
  NODE4: {address: 127.0.0.1}
  NODE5: {address: 127.0.0.1}
  NODE6: {address: 127.0.0.1}
  NODE7: {address: 127.0.0.1}
  NODE8: {address: 127.0.0.1}
  NODE9: {address: 127.0.0.1}
  NODE10: {address: 127.0.0.1}
  HUBCAS: {address: 127.0.0.1}
clusters:
EOF
n=1
for c in CLUS1 CLUS2 CLUS3 CLUS4 CLUS5; do
	cat >>"$tmp/inv.yml" <<EOF
  - name: $c
    cms: E2K7-$c
    members: [NODE$n, NODE$((n + 1))]
    active: NODE$n
    hub_cas: [HUBCAS]
    vars:
      setup: 'D:\\Exchange2007SP1\\setup.com'
      dotnet_installer: 'D:\\Prereqs\\NetFx20SP1_x86.exe'
      failback: none
EOF
	n=$((n + 2))
done
PB=playbooks/ccr-sp1.yml
bin/ccrup plan "$tmp/inv.yml" -p "$PB" -o json >"$tmp/plan.json" 2>"$tmp/plan.err"
check "ccrup plan -o json for the demo inventory" test -s "$tmp/plan.json"
[ -s "$tmp/plan.json" ] || { cat "$tmp/plan.err"; finish; }

# The generator: journal lines exactly as docs/journal.md defines them (seq,
# time, run_id, event, members, crc over the bytes), audit lines as docs/audit.md.
cat >"$tmp/gen.py" <<'EOF'
import hashlib, json, os, sys, time, zlib
plan = json.load(open(sys.argv[1]))
state, now = sys.argv[2], int(sys.argv[3])
pb_path, inv_path = sys.argv[4], sys.argv[5]
def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()

def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)

class Run:
    def __init__(self, cluster):
        d = os.path.join(state, cluster)
        os.makedirs(d, mode=0o700, exist_ok=True)
        self.j = open(os.path.join(d, "journal.jsonl"), "wb")
        self.a = open(os.path.join(d, "audit.jsonl"), "w")
        self.seq, self.cluster = 0, cluster
    def rec(self, t, event, **kw):
        self.seq += 1
        o = {"seq": self.seq, "time": iso(t), "run_id": "R-" + self.cluster, "event": event}
        o.update({k: v for k, v in kw.items() if v is not None})  # absent, never null
        body = json.dumps(o, separators=(",", ":")).encode()
        self.j.write(body[:-1] + b',"crc":"%08x"}\n' % zlib.crc32(body))
    def audit(self, t, **kw):
        o = {"time": iso(t), "cluster": self.cluster}
        o.update(kw)
        self.a.write(json.dumps(o) + "\n")

def history(r, t, sid, node, cmd):
    # Interrupted (Ctrl-C), resumed, failed, retried by the operator, done.
    r.rec(t, "begin", step=sid, node=node, wall_ms=t, command=cmd)
    t += 30000
    r.rec(t, "interrupted", step=sid, node=node)
    r.rec(t + 10, "run-end", result="interrupted", detail="interrupted by SIGINT")
    t += 600000  # resumed ten minutes later
    r.rec(t, "begin", step=sid, node=node, wall_ms=t, command=cmd)
    t += 45000
    r.audit(t, event="command", node=node, step=sid, command=cmd, exit=1603, duration_ms=45000,
            stdout="Copying setup files\n", stdout_truncated=False,
            stderr="MSI error 1603 in the second attempt: disk D: full\n", stderr_truncated=False)
    r.rec(t, "failed", step=sid, node=node, exit=1603, reason="exited 1603: fatal error during installation")
    t += 42000
    r.rec(t, "answer", step=sid, node=node, answer="retry", operator_ms=42000)
    r.rec(t, "begin", step=sid, node=node, wall_ms=t, command=cmd)
    t += 61000
    r.rec(t, "done", step=sid, node=node, duration_ms=61000, exit=0, operator_ms=42000)
    return t

def killed(r, t, sid, node, cmd):
    # ccrup killed (no record) while the step ran; resumed five minutes later, done.
    r.rec(t, "begin", step=sid, node=node, wall_ms=t, command=cmd)
    t += 300000
    r.rec(t, "begin", step=sid, node=node, wall_ms=t, command=cmd)
    t += 20000
    r.rec(t, "done", step=sid, node=node, duration_ms=20000, exit=0)
    return t

def opskip(r, t, sid, node):
    # The operator thought for 25 s and skipped the step.
    t += 25000
    r.rec(t, "answer", step=sid, node=node, answer="skip")
    r.rec(t, "skipped", step=sid, node=node, reason="skipped by the operator",
          detail="guided answer; the step stays pending and `ccrup resume` offers it again",
          operator_ms=25000)
    return t

def run(cl, start, fail_at=None, hang_at=None, end=True, hist_at=None, kill_at=None, skip_at=None):
    r, t, out = Run(cl["name"]), start, cl["outage"]
    r.rec(t, "run-start", cluster=cl["name"], playbook="ccr-sp1", playbook_path=pb_path,
          playbook_sha256=sha(pb_path), inventory_path=inv_path, inventory_sha256=sha(inv_path),
          mode="unattended")
    for b in cl["roles"]:
        t += 400
        r.rec(t, "bind", role=b["role"], host=b["host"])
    for s in cl["steps"]:
        sid, node, cmd = s["id"], s["node"], s["command"]
        if s["kind"] in ("check", "gate", "assert") or s["applies"] == "no":
            t += 700
            if s["applies"] == "no":
                r.rec(t, "skipped", step=sid, node=node, reason="when is false", detail="")
            elif s["kind"] == "gate":
                r.rec(t, "gate", step=sid, node=node, answer="yes", by="--yes")
                r.rec(t, "done", step=sid, node=node, duration_ms=0, by="--yes")
            else:
                r.rec(t, "done", step=sid, node=node, duration_ms=300)
            continue
        if sid in (out["from"], out["to"]):
            # guided: the operator typed the word that runs an outage step
            r.rec(t, "answer", step=sid, node=node, answer="yes")
        if sid == out["from"]:
            r.rec(t, "outage-start", step=sid, node=node, wall_ms=t)
            ostart = t
        t += 1500
        if s["index"] == hist_at:
            t = history(r, t, sid, node, cmd)
            continue
        if s["index"] == kill_at:
            t = killed(r, t, sid, node, cmd)
            continue
        if s["index"] == skip_at:
            t = opskip(r, t, sid, node)
            continue
        r.rec(t, "begin", step=sid, node=node, wall_ms=t, command=cmd,
              boot_id="boot-%s-%d" % (node, t) if s["kind"] == "reboot" or s.get("reboot") else None)
        if s["index"] == hang_at:
            return
        if s["index"] == fail_at:
            d = 95000
            r.audit(t + d, event="command", node=node, step=sid, exit=1, duration_ms=d,
                    command=cmd + " <script>alert(1)</script>",
                    stdout="Setup is checking prerequisites...\nConfiguring Microsoft Exchange Server\n",
                    stdout_truncated=False,
                    stderr="The binaries and the CMS version differ.\n<script>alert('x')</script> & more\n",
                    stderr_truncated=False)
            r.rec(t + d, "failed", step=sid, node=node, exit=1,
                  reason="exited 1: <b>CMS version differs</b>")
            r.rec(t + d + 50, "run-end", result="failed",
                  detail="cluster %s, node %s, step %s: exited 1" % (cl["name"], node, sid))
            return
        d = max(2000, min(s["estimate_ms"], 900000) // 3)
        r.audit(t + d, event="command", node=node, step=sid, command=cmd, exit=0, duration_ms=d,
                stdout="ok\n", stdout_truncated=False, stderr="", stderr_truncated=False)
        t += d
        r.rec(t, "done", step=sid, node=node, duration_ms=d, exit=0)
        if sid == out["to"]:
            r.rec(t, "outage-end", step=sid, node=node, wall_ms=t, duration_ms=t - ostart)
    r.rec(t + 100, "run-end", result="done")

cls = {c["name"]: c for c in plan["clusters"]}
def index(c, sid):
    return [s["index"] for s in cls[c]["steps"] if s["id"] == sid][0]
run(cls["CLUS1"], now - 3 * 3600 * 1000)
# CLUS1 had stopped once at a declined gate (the audit log's step-failed), then finished.
with open(os.path.join(state, "CLUS1", "audit.jsonl"), "a") as f:
    f.write(json.dumps({"time": iso(now - 3 * 3600 * 1000 + 900), "cluster": "CLUS1",
                        "event": "step-failed", "text": "gate preflight.lab-tested declined"}) + "\n")
run(cls["CLUS2"], now - 95 * 60 * 1000, fail_at=index("CLUS2", "cms.upgrade-cms"),
    hist_at=index("CLUS2", "passive.setup"), kill_at=index("CLUS2", "passive.dotnet-sp1"),
    skip_at=index("CLUS2", "passive.stop-remote-registry"))
run(cls["CLUS3"], now - 25 * 60 * 1000, hang_at=index("CLUS3", "passive.setup"))
run(cls["CLUS4"], now - 10 * 60 * 1000)
with open(os.path.join(state, "CLUS4", "journal.jsonl"), "r+b") as f:
    f.seek(40)
    f.write(b"#")          # a flipped byte on line 1: CRC mismatch
EOF
python3 "$tmp/gen.py" "$tmp/plan.json" "$state" "$(($(date +%s) * 1000))" "$PB" "$tmp/inv.yml"
check "synthetic journals written" test -s "$state/CLUS2/journal.jsonl"

# CLUS3 is "in progress": a live process holds its flock.
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(120)' "$state/CLUS3/lock" "$tmp/locked" &
LOCKPID=$!
i=0
while [ ! -e "$tmp/locked" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

# `ccrup status` of the same journal shows every attempt's outcome too, in text and JSON.
bin/ccrup status "$tmp/inv.yml" -p "$PB" --state-dir "$state" --clusters CLUS2 >"$tmp/status.txt" 2>&1
check "status: passive.setup's three attempts and how each ended" \
	grep -Eq '^ +[0-9]+ passive\.setup +NODE4 +done .*\(3 attempts: interrupted, failed, done\)' "$tmp/status.txt"
check "status: passive.dotnet-sp1 killed then resumed: stopped, done" \
	grep -Eq '^ +[0-9]+ passive\.dotnet-sp1 +NODE4 +done .*\(2 attempts: stopped, done\)' "$tmp/status.txt"
bin/ccrup status "$tmp/inv.yml" -p "$PB" --state-dir "$state" --clusters CLUS2 -o json >"$tmp/status.json" 2>&1
check "status -o json: attempt_outcomes per step" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["clusters"][0] if "clusters" in d else d
s = {x["id"]: x for x in c["steps"]}
assert s["passive.setup"]["attempt_outcomes"] == ["interrupted", "failed", "done"], s["passive.setup"]
assert s["passive.dotnet-sp1"]["attempt_outcomes"] == ["stopped", "done"], s["passive.dotnet-sp1"]
assert s["cms.upgrade-cms"]["attempt_outcomes"] == ["failed"], s["cms.upgrade-cms"]
assert s["passive.stop-remote-registry"]["attempt_outcomes"] == [], s["passive.stop-remote-registry"]
assert all(len(x["attempt_outcomes"]) == x["attempts"] for x in c["steps"])
' "$tmp/status.json"

bin/ccrup report "$tmp/inv.yml" -p "$PB" --state-dir "$state" --clusters 'CLUS[1235]' >"$tmp/out" 2>&1
check "report exits 0 for finished, failed, in-progress and missing runs" test $? = 0
for c in CLUS1 CLUS2 CLUS3 CLUS5; do
	check "default file STATE/$c/report.html written" test -s "$state/$c/report.html"
done
check "the paths written are printed" grep -q "report: $state/CLUS2/report.html" "$tmp/out"
check "report file mode 0600" test "$(stat -c %a "$state/CLUS2/report.html")" = 600
bin/ccrup report "$tmp/inv.yml" -p "$PB" --state-dir "$state" --clusters CLUS4 >"$tmp/out4" 2>&1
check "a corrupt journal exits 5" test $? = 5
check "  and names the line" grep -q "journal.jsonl:1:" "$tmp/out4"
check "  and the page says so" grep -q "journal corrupt" "$state/CLUS4/report.html"
bin/ccrup report "$tmp/inv.yml" -p "$PB" --state-dir "$state" --html "$tmp/all.html" >/dev/null 2>&1
check "--html FILE: one page for all clusters (exit 5: CLUS4 is corrupt)" test $? = 5
check "  with a section per cluster" test "$(grep -c '<section class="cluster"' "$tmp/all.html")" = 5
bin/ccrup report "$tmp/inv.yml" -p "$PB" --state-dir "$state" --clusters CLUS1 --html - >"$tmp/stdout.html" 2>&1
check "--html - writes the page to stdout" grep -q '</html>' "$tmp/stdout.html"
bin/ccrup report "$tmp/nope.yml" >/dev/null 2>&1
check "a missing inventory exits 2" test $? = 2
check "no <script> element anywhere" sh -c "! grep -l '<script' $state/*/report.html $tmp/all.html"

chrome() {
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 "$@"
}

# The console detector must see a page that breaks the policy, or its silence proves nothing.
cat >"$tmp/bad.html" <<'EOF'
<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head>
<body><img src="http://127.0.0.1:9/x.png"><script>console.error("x")</script></body></html>
EOF
chrome --dump-dom "file://$tmp/bad.html" >/dev/null 2>"$tmp/bad.log"
check "the console detector sees a CSP violation on a bad page" grep -q ':CONSOLE' "$tmp/bad.log"

for page in "$state/CLUS2/report.html" "$tmp/all.html"; do
	case $page in
	*/all.html) name=all.html ;;
	*) name=CLUS2/report.html ;;
	esac
	chrome --dump-dom "file://$page" >"$tmp/dom.html" 2>"$tmp/chrome.log"
	check "$name: chromium renders the page" grep -q '</svg>' "$tmp/dom.html"
	if grep -E ':CONSOLE|Refused to|net::ERR' "$tmp/chrome.log" >"$tmp/console"; then
		no "$name: console errors:"
		sed 's/^/    /' "$tmp/console"
	else
		ok "$name: no console errors or blocked loads"
	fi
	check "$name: no <script> element in the DOM" sh -c "! grep -q '<script' $tmp/dom.html"
	check "$name: the command's <script> shows as text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$tmp/dom.html"
done
lanes=$(grep -o '<g class="lane"' "$tmp/dom.html" | wc -l)
# CLUS1..3 each: the CMS lane, NODEa, NODEb, HUBCAS; CLUS4 (corrupt) and CLUS5 (no run): no timeline
check "all.html: 12 SVG lanes (CMS + 2 nodes + HUBCAS, 3 clusters) (got $lanes)" test "$lanes" = 12
check "all.html: lanes named after the nodes" grep -q 'data-lane="NODE4"' "$tmp/dom.html"
check "all.html: an outage band per outage (CLUS1 closed, CLUS2 open)" test "$(grep -o 'class="outage"' "$tmp/dom.html" | wc -l)" = 2
check "all.html: CLUS2's outage is still open" grep -q 'outage ongoing (' "$tmp/dom.html"
check "all.html: CLUS3 is in progress (lock held) with a striped bar" grep -q 'class="step in-progress"' "$tmp/dom.html"
check "all.html: the failed step is red" grep -q 'class="step failed"' "$tmp/dom.html"
check "all.html: CLUS5 says no run has started" grep -q 'no run has started' "$tmp/dom.html"

# CLUS2's history: passive.setup interrupted, resumed, failed, retried by the operator, done.
chrome --dump-dom "file://$state/CLUS2/report.html" >"$tmp/dom2.html" 2>/dev/null
python3 - "$tmp/dom2.html" >"$tmp/hist.txt" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows, self.cur, self.cell, self.sec, self.t = [], None, None, "", []
    def handle_starttag(self, tag, a):
        if tag == "table": self.sec = dict(a).get("class", "")
        if tag == "tr": self.cur = []
        if tag in ("td", "th"): self.cell = []
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cur is not None and self.cell is not None:
            self.cur.append("".join(self.cell).strip()); self.cell = None
        if tag == "tr" and self.cur is not None:
            self.rows.append((self.sec, self.cur)); self.cur = None
    def handle_data(self, d):
        if self.cell is not None: self.cell.append(d)
        self.t.append(d)
p = P(); p.feed(open(sys.argv[1]).read())
for sec, r in p.rows:
    if "history" in sec or "outages" in sec:
        print(sec.split()[-1] + "|" + "|".join(r))
print("TEXT|" + " ".join("".join(p.t).split()))
PY
hist() { grep "^history|" "$tmp/hist.txt" | grep -F "|passive.setup|"; }
check "CLUS2 history: every record of passive.setup in order (begin interrupted begin failed answer begin done)" \
	test "$(hist | cut -d'|' -f6 | tr '\n' ' ')" = "begin interrupted begin failed answer begin done "
check "CLUS2 history: passive.setup's first attempt in resume 1 (after the kill), the later ones in resume 2" \
	test "$(hist | cut -d'|' -f3 | tr '\n' ' ')" = "resume 1 resume 1 resume 2 resume 2 resume 2 resume 2 resume 2 "
check "CLUS2 history: the killed attempt in the first run, its successor in resume 1 (no run-end between)" \
	test "$(grep '^history|' "$tmp/hist.txt" | grep -F '|passive.dotnet-sp1|' | cut -d'|' -f3 | tr '\n' ' ')" = "first run resume 1 resume 1 "
check "CLUS2 history: the failure's exit and reason" sh -c "grep '^history|' $tmp/hist.txt | grep -F '|failed|' | grep -F '|1603|' | grep -qF 'fatal error during installation'"
check "CLUS2 history: the operator's retry and wait (42s), the run time apart (1m 1s)" \
	sh -c "grep '^history|' $tmp/hist.txt | grep -F '|answer|' | grep -F 'retry' | grep -qF '42' && grep '^history|' $tmp/hist.txt | grep -F '|done|' | grep -F '1m' | grep -qF '42'"
check "CLUS2 summary: 1 failure now, 3 earlier attempts (interrupted, stopped, failed) counted apart" \
	grep -q "Failures *1 (and 3 earlier attempts that failed, were interrupted or stopped, then tried again: see History)" "$tmp/hist.txt"
chrome --dump-dom "file://$state/CLUS1/report.html" >"$tmp/dom1.html" 2>/dev/null
check "CLUS2 steps: each step begun more than once says how each attempt ended, as status does" \
	sh -c "grep -q '3 attempts: interrupted, failed, done' $tmp/hist.txt && grep -q '2 attempts: stopped, done' $tmp/hist.txt"
check "CLUS1 (done): the declined gate is an earlier stop, not a failure" \
	sh -c "grep -q '<h3>Earlier stops</h3>' $tmp/dom1.html && ! grep -q '<h3>Failures</h3>' $tmp/dom1.html && grep -q 'declined' $tmp/dom1.html"
check "CLUS2 history: says how many resumes (after the Ctrl-C and after the kill)" grep -q "The run was resumed 2 times\." "$tmp/hist.txt"
check "CLUS2 history: the failed attempt's stderr kept after the retry succeeded" \
	sh -c "grep '^history|' $tmp/hist.txt | grep -qF 'MSI error 1603 in the second attempt'"
check "CLUS2 history: the killed attempt says ccrup stopped during it" sh -c "grep '^history|' $tmp/hist.txt | grep -F '|passive.dotnet-sp1|' | grep -F '|begin|' | grep -qF 'ccrup stopped'"
check "CLUS2 history: the operator's skip is listed" sh -c "grep '^history|' $tmp/hist.txt | grep -F '|passive.stop-remote-registry|' | grep -qF '|skipped|'"

# CLUS2's timeline: one bar per attempt, each in its own style; waits for the operator apart.
bars() { grep -o "<rect[^>]*data-step=\"$1\"[^>]*class=\"step [^\"]*\"" "$tmp/dom2.html" | sed 's/.*class="//; s/"$//' | tr '\n' ','; }
check "CLUS2 timeline: passive.setup drawn once per attempt: interrupted, failed, done (got $(bars passive.setup))" \
	test "$(bars passive.setup)" = "step interrupted,step failed,step done,"
check "CLUS2 timeline: passive.dotnet-sp1 killed then resumed: a dashed interrupted bar and a done one (got $(bars passive.dotnet-sp1))" \
	test "$(bars passive.dotnet-sp1)" = "step interrupted killed,step done,"
check "CLUS2 timeline: the operator's skip has its own style (got $(bars passive.stop-remote-registry))" \
	sh -c "echo '$(bars passive.stop-remote-registry)' | grep -q 'step op-skipped'"
check "CLUS2 timeline: waiting for the operator drawn apart from running (skip 25s, retry 42s)" \
	test "$(grep -o 'class="operator-wait"' "$tmp/dom2.html" | wc -l)" = 2
check "CLUS2 timeline: the legend names each style" sh -c "grep -q '>skipped by the operator<' $tmp/dom2.html && grep -q '>waited for the operator<' $tmp/dom2.html && grep -q '>stopped, resumed later<' $tmp/dom2.html"
check "CLUS2 outages: one row, began with cms.stop-cms, still open" sh -c "grep '^outages|' $tmp/hist.txt | grep -v '|#|' | grep -qF 'still open'"

# Every badge the pages use (a step's status, a History record kind such as answer, begin,
# gate, outage-start, outage-end, the run's result) has a CSS rule giving it a background:
# the badge text is white, so a badge without one is invisible.
check "every badge class used has a CSS rule with a background" python3 - "$tmp/all.html" "$state/CLUS1/report.html" "$state/CLUS2/report.html" <<'PY'
import re, sys
missing = set()
for f in sys.argv[1:]:
    page = open(f).read()
    css = "".join(re.findall(r"<style[^>]*>(.*?)</style>", page, re.S))
    styled = set()
    for sels, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if re.search(r"(^|;)\s*background(-color)?\s*:", body):
            for sel in sels.split(","):
                m = re.fullmatch(r"\s*\.badge\.([\w-]+)\s*", sel)
                if m:
                    styled.add(m.group(1))
    used = set()
    for cls in re.findall(r'class="badge ([^"]+)"', page):
        used.update(cls.split())
    assert used, f + ": no badge found"
    missing |= used - styled
if missing:
    print("badge classes without a background:", " ".join(sorted(missing)))
    sys.exit(1)
PY

shot="$BUILD/tests/report_chromium.png"
mkdir -p "$BUILD/tests"
rm -f "$shot"
chrome --screenshot="$tmp/shot.png" --window-size=1280,1000 "file://$state/CLUS2/report.html" \
	>/dev/null 2>&1
cp "$tmp/shot.png" "$shot" 2>/dev/null
check "screenshot taken" test -s "$shot"
check "screenshot is a PNG" sh -c "head -c 8 '$shot' | od -An -c | grep -q 'P   N   G'"
echo "screenshot: $shot"
finish
