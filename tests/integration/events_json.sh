#!/bin/sh
# apply/resume -o json: one JSON object per line and per event, every line in format
# ccrup-events/1 with the keys docs/events-json.md lists for its event (the test reads
# the table), seq increasing, each begun step's step-begin before its end, the outage
# with its service, impact and estimate, output chunks, a failure and its resume, a
# refusal, and a closing summary with ccrup's exit code.  People's output goes to stderr.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-events.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

check() { # check STREAM WANT_EXIT LABEL [EXTRA_PY]
	python3 - "$1" "$2" docs/events-json.md "${4:-}" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
want_exit = int(sys.argv[2])
doc = open(sys.argv[3]).read()
table = {}
for m in re.finditer(r"^\| `([a-z-]+)` \| [^|]+ \| (.+) \|$", doc, re.M):
    cell = m.group(2)
    while re.search(r"\([^()]*\)", cell):
        cell = re.sub(r"\([^()]*\)", "", cell)
    keys = set(re.findall(r"`([a-z_]+)`", cell))
    table[m.group(1)] = keys | {"format", "seq", "time", "event", "cluster"}
table["summary"].discard("cluster")
assert len(table) >= 20, sorted(table)
ev = [json.loads(l) for l in lines]
assert ev, "empty stream"
seq = 0
for e in ev:
    assert e["format"] == "ccrup-events/1", e
    assert e["seq"] == seq + 1, (seq, e)
    seq = e["seq"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["time"]), e
    assert e["event"] in table, ("undocumented event", e["event"])
    assert set(e) == table[e["event"]], (e["event"], sorted(set(e) ^ table[e["event"]]))
last = ev[-1]
assert last["event"] == "summary" and last["exit"] == want_exit, last
assert sum(1 for e in ev if e["event"] == "summary") == 1
extra = sys.argv[4]
if extra:
    exec(extra)
PY
}

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
sim_ctl fault-add '{"host":"NODE1","match":"setup.com /m:upgrade","kind":"fail","exit":5,"message":"Setup encountered a problem","count":1}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st" -o json >"$tmp/a.jsonl" 2>"$tmp/a.err"
rc=$?
[ $rc = 1 ] && ok "apply -o json with a failing setup: exit 1" || ko "apply exit $rc" "$tmp/a.err"
check "$tmp/a.jsonl" 1 "" '
begun = {}
for i, e in enumerate(ev):
    if e["event"] == "step-begin":
        begun.setdefault((e["step"], e["node"]), i)
    if e["event"] in ("step-done", "step-failed") and e["step"] and (e["step"], e["node"]) in begun:
        assert begun[(e["step"], e["node"])] < i
assert len(begun) > 10, len(begun)
o = [e for e in ev if e["event"] == "outage-start"]
assert len(o) == 1 and o[0]["step"] == "cms.stop-cms" and o[0]["estimate_ms"] == 600000, o
assert "Exchange mailbox service" in o[0]["service"] and "mailboxes" in o[0]["impact"], o
assert [e for e in ev if e["event"] == "outage-end" and e["duration_ms"] >= 0]
out = [e for e in ev if e["event"] == "output" and e["step"] == "passive.setup"]
assert out and "completed successfully" in "".join(x["text"] for x in out), out[:2]
f = [e for e in ev if e["event"] == "step-failed"]
assert len(f) == 1 and f[0]["step"] == "former-active.setup" and "Setup encountered a problem" in f[0]["reason"] and f[0]["exit"] == 5, f
s = ev[-1]["clusters"]
assert s == [{"cluster": "CLUS1", "result": "failed", "exit": 1}], s
assert any(e["event"] == "command-end" and e["probe"] for e in ev)
' && ok "every line documented, in order; outage, output, failure and summary as run" || ko "stream of the failing apply" "$tmp/a.jsonl"
if grep -q "FAILED" "$tmp/a.err" && ! grep -q '"event"' "$tmp/a.err"; then ok "people read stderr"; else ko "stderr" "$tmp/a.err"; fi

bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/st" -o json >"$tmp/r.jsonl" 2>"$tmp/r.err"
rc=$?
[ $rc = 0 ] && ok "resume -o json: exit 0" || ko "resume exit $rc" "$tmp/r.err"
check "$tmp/r.jsonl" 0 "" '
rs = [e for e in ev if e["event"] == "run-start"]  # the run marker is read before it
assert rs and "resuming" in rs[0]["text"], rs[:1]
assert any(e["event"] == "step-done" and e["step"] == "former-active.setup" for e in ev)
assert [e for e in ev if e["event"] == "run-end"][-1]["result"] == "done"
assert ev[-1]["clusters"][0]["result"] == "done"
' && ok "the resumed run's stream ends done" || ko "stream of the resume" "$tmp/r.jsonl"

bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/none" -o json >"$tmp/n.jsonl" 2>"$tmp/n.err"
rc=$?
check "$tmp/n.jsonl" 2 "" '
r = [e for e in ev if e["event"] == "refusal"]
assert len(r) == 1 and "no run has started" in r[0]["reason"], ev
assert ev[-1]["clusters"][0]["result"] == "input-error"
' && ok "nothing to resume: a refusal event and summary exit 2" || ko "refusal stream (exit $rc)" "$tmp/n.jsonl"

echo "events_json: $pass passed, $fail failed"
[ "$fail" = 0 ]
