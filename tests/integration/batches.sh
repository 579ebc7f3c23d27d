#!/bin/sh
# Staged rollouts over a ccrsim fleet (--fleet 6: CLUS1-001 .. CLUS1-006):
#   canary fault   --batches 1,50%,100% --max-failed 1 with setup failing on the canary's
#                  NODE2-001: only the canary is touched, "failure budget spent", exit 1
#   sizes          --batches 1,2 (the last size repeats): four batches 1+2+2+1, all done
#   budget in %    --max-failed 50% (3 of 6) across batches: the canary fails, the rest goes on
#   guided         --batches 1,100% without --yes on a terminal: after the canary the batch's
#                  result and outage figures, then "Start batch 2 of 2 ...? [y]es [q]uit";
#                  q leaves the rest untouched (exit 130), y upgrades them
#   bad lists      0, 150%, abc, empty: exit 2 before anything starts
#   -o json        the canary and budget runs stream batch-start / batch-end events (batch
#                  number, clusters, outcome, outage figures, budget, what happens next)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-batches.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2"; }
fresh() { sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/$1/sim" --fleet 6; }
fault() {
	sim_ctl fault-add "{\"host\":\"$1\",\"match\":\"setup.com /m:upgrade\",\"kind\":\"fail\",\"exit\":1,\"message\":\"Setup encountered a problem\"}" >/dev/null
}
# touched LIST: the clusters (numbers 1..6) on which setup or a reboot ran, from a dump
touched() {
	python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))
hosts = {h["name"]: h for h in w["hosts"]}
out = []
for c in w["clusters"]:
    if any(k.startswith(("setup.com", "shutdown", "netfx")) for m in c["members"] for k in hosts[m]["commands"]):
        out.append(c["name"][-1])
print(",".join(sorted(out)))' "$1"
}

# 1. A fault in the canary spends the budget: nothing else starts.
fresh canary
fault NODE2-001
bin/ccrup apply "$SIM_INV" --yes --batches 1,50%,100% --max-failed 1 -o json --state-dir "$tmp/canary/st" >"$tmp/canary.jsonl" 2>"$tmp/canary.log"
rc=$?
sim_ctl dump >"$tmp/canary.json"
sim_stop
t=$(touched "$tmp/canary.json")
if [ $rc = 1 ] && [ "$t" = 1 ] && grep -q "^batch 1 of 3: 1 cluster, 0 done, 1 failed, 0 not started" "$tmp/canary.log" &&
	grep -q "failure budget spent (1 of --max-failed 1): batches 2..3 not started" "$tmp/canary.log" &&
	grep -q "fleet: 6 clusters, 0 done, 1 failed, 5 not started" "$tmp/canary.log"; then
	ok "canary fails: only CLUS1-001 touched, budget spent, batches 2..3 not started, exit 1"
else
	ko "canary fault (exit $rc, touched '$t')" "$tmp/canary.log"
fi
# The same in the JSON event stream: batch 1 starts with the canary, ends failed, and the
# budget stops the rollout; no other batch starts.
if python3 - "$tmp/canary.jsonl" <<'PY'; then
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
b = [e for e in ev if e["event"].startswith("batch-")]
assert [e["event"] for e in b] == ["batch-start", "batch-end"], b
s, e = b
assert s["batch"] == 1 and s["batches"] == 3 and s["clusters"] == ["CLUS1-001"], s
assert e["batch"] == 1 and e["outcome"] == "failed" and e["failed"] == 1 and e["done"] == 0, e
assert e["then"] == "stop-failure-budget" and e["failures"] == 1 and e["max_failed"] == 1, e
assert e["clusters"] == [{"cluster": "CLUS1-001", "result": "failed", "exit": 1}], e
seq = [x["seq"] for x in ev]
assert seq == sorted(seq), "seq order"
runs = [x for x in ev if x["event"] == "run-start"]
assert runs and all(s["seq"] < r["seq"] < e["seq"] for r in runs), "runs inside the batch"
assert ev[-1]["event"] == "summary" and e["seq"] < ev[-1]["seq"]
PY
	ok "-o json: batch-start (CLUS1-001) and batch-end (failed, budget spent), the runs between"
else
	ko "batch events of the canary" "$tmp/canary.jsonl"
fi

# 2. Sizes: 1,2 -> 1+2+2+1, everything done.
fresh sizes
bin/ccrup apply "$SIM_INV" --yes --batches 1,2 --parallel 2 --state-dir "$tmp/sizes/st" >"$tmp/sizes.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/sizes.json"
sim_stop
n=$(grep -c "^batch [1-4] of 4: [0-9] clusters*, [0-9] done" "$tmp/sizes.log")
if [ $rc = 0 ] && [ "$(touched "$tmp/sizes.json")" = "1,2,3,4,5,6" ] && [ "$n" = 4 ] &&
	grep -q "^batch 2 of 4: 2 clusters, 2 done, 0 failed, 0 not started; outage [0-9.]*m*s in total, longest" "$tmp/sizes.log" &&
	grep -q "^batch 4 of 4: 1 cluster, 1 done" "$tmp/sizes.log"; then
	ok "--batches 1,2: four batches of 1, 2, 2, 1 with outage figures, all six upgraded"
else
	ko "batch sizes (exit $rc, $n batch lines)" "$tmp/sizes.log"
fi

# 3. --max-failed 50%: a failed canary leaves budget; the rest goes on.
fresh pct
fault NODE2-001
bin/ccrup apply "$SIM_INV" --yes --batches 1,100% --max-failed 50% --parallel 3 -o json --state-dir "$tmp/pct/st" >"$tmp/pct.jsonl" 2>"$tmp/pct.log"
rc=$?
sim_ctl dump >"$tmp/pct.json"
sim_stop
if [ $rc = 1 ] && [ "$(touched "$tmp/pct.json")" = "1,2,3,4,5,6" ] &&
	grep -q "failures so far 1 of 3 allowed" "$tmp/pct.log" &&
	grep -q "fleet: 6 clusters, 5 done, 1 failed, 0 not started" "$tmp/pct.log"; then
	ok "--max-failed 50%: budget 3 of 6 across batches; canary failed, the other five done"
else
	ko "percentage budget (exit $rc)" "$tmp/pct.log"
fi
if python3 - "$tmp/pct.jsonl" <<'PY'; then
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
b = [e for e in ev if e["event"].startswith("batch-")]
assert [(e["event"], e["batch"]) for e in b] == [("batch-start", 1), ("batch-end", 1), ("batch-start", 2), ("batch-end", 2)], b
assert b[1]["outcome"] == "failed" and b[1]["then"] == "next-batch", b[1]
assert b[2]["clusters"] == ["CLUS1-00%d" % i for i in range(2, 7)], b[2]
e = b[3]
assert e["outcome"] == "done" and e["done"] == 5 and e["failed"] == 0 and e["then"] == "last", e
assert e["failures"] == 1 and e["max_failed"] == 3 and e["outages_open"] == 0, e
assert [c["result"] for c in e["clusters"]] == ["done"] * 5, e
assert e["outage_ms"] >= e["longest_outage_ms"] >= 0, e
assert (e["longest_outage_cluster"] is None) == (e["longest_outage_ms"] == 0), e
PY
	ok "-o json: two batches, the canary failed then next-batch, the rest done then last"
else
	ko "batch events with a budget left" "$tmp/pct.jsonl"
fi

# 4. Guided: confirm between batches (the PTY answers q, then y in a second run).
fresh guided
cat >"$tmp/drive.py" <<'PY'
import os, pty, re, select, sys, time
answer, log = sys.argv[1], open(sys.argv[2], "wb")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
buf, end = b"", time.time() + 180
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
    buf = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", buf + data)
    if re.search(rb"Start batch 2 of 2 \(5 clusters: CLUS1-002, \.\.\.\)\? \[y\]es \[q\]uit", buf):
        os.write(fd, (answer + "\n").encode())
        buf = b""
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
PY
python3 "$tmp/drive.py" q "$tmp/gq.log" bin/ccrup apply "$SIM_INV" --batches 1,100% --state-dir "$tmp/guided/st"
rc=$?
sim_ctl dump >"$tmp/gq.json"
if [ $rc = 130 ] && [ "$(touched "$tmp/gq.json")" = 1 ] &&
	grep -aq "batch 1 of 2: 1 cluster, 1 done, 0 failed, 0 not started; outage [0-9.]*m*s in total, longest [0-9.]*m*s (CLUS1-001)" "$tmp/gq.log" &&
	grep -aq "stopped by the operator before batch 2 of 2" "$tmp/gq.log"; then
	ok "guided: the canary's result and outage, then the question; q leaves 002-006 untouched (exit 130)"
else
	ko "guided batches, q (exit $rc)" "$tmp/gq.log"
fi
sim_stop
fresh guided2
python3 "$tmp/drive.py" y "$tmp/gy.log" bin/ccrup apply "$SIM_INV" --batches 1,100% --parallel 3 --state-dir "$tmp/guided2/st"
rc=$?
sim_ctl dump >"$tmp/gy.json"
sim_stop
if [ $rc = 0 ] && [ "$(touched "$tmp/gy.json")" = "1,2,3,4,5,6" ]; then
	ok "guided: y starts batch 2 and the fleet is upgraded (exit 0)"
else
	ko "guided batches, y (exit $rc)" "$tmp/gy.log"
fi

# 5. Bad lists.
for bad in 0 150% abc "" "1,,2" "-1"; do
	bin/ccrup apply playbooks/inventory.example.yml --yes --batches "$bad" --state-dir "$tmp/bad" >"$tmp/bad.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q -- "--batches" "$tmp/bad.log" && [ ! -d "$tmp/bad/CLUS1" ]; then ok "--batches '$bad': exit 2"; else ko "--batches '$bad' (exit $rc)" "$tmp/bad.log"; fi
done
for bad in 0% 101% x%; do
	bin/ccrup apply playbooks/inventory.example.yml --yes --max-failed "$bad" >"$tmp/bad.log" 2>&1
	[ $? = 2 ] && ok "--max-failed '$bad': exit 2" || ko "--max-failed '$bad'" "$tmp/bad.log"
done
echo "batches: $pass passed, $fail failed"
[ "$fail" = 0 ]
