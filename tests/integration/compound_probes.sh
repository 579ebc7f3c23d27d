#!/bin/sh
# Compound probes (issue 14; docs/playbook.md `shell:`) on the whole SP1 sequence against
# ccrsim two-node.yml:
#   1. playbooks/ccr-sp1.yml as shipped (`shell: cmd`): apply --yes upgrades the world in at
#      most 90 remote commands (ccrsim's per-host `requests`, down from 209); the audit log's
#      `batch` lines carry the commands as sent and their parts add up to the `command` lines
#      that name them
#   2. the same playbook without `shell:`: every probe is its own remote command (requests =
#      the audit's command lines, no batch), and the world ends the same (same reboots)
# Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-compound.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

# run NAME PLAYBOOK: apply --yes on a fresh world; leaves $tmp/NAME/{apply.log,world.json,state}
run() {
	d=$tmp/$1
	mkdir -p "$d"
	sim_start mock-nodes/scenarios/two-node.yml 0 "$d/sim" || return 1
	bin/ccrup apply "$SIM_INV" -p "$2" --yes --state-dir "$d/state" >"$d/apply.log" 2>&1
	rc=$?
	sim_ctl dump >"$d/world.json"
	sim_stop
	return $rc
}

grep -v '^shell:' playbooks/ccr-sp1.yml >"$tmp/plain.yml"
if run plain "$tmp/plain.yml"; then
	epochs=$(python3 -c "import json,sys; w=json.load(open(sys.argv[1])); print(','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node'))" "$tmp/plain/world.json")
	ok "without shell: apply --yes done"
else
	ko "without shell: apply --yes" "$tmp/plain/apply.log"
	epochs=NODE1=1,NODE2=2
fi
if python3 - "$tmp/plain/world.json" "$tmp/plain/state/CLUS1/audit.jsonl" <<'PY' >"$tmp/plain.check" 2>&1
import json, sys
w = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
req = sum(h["requests"] for h in w["hosts"])
cmds = [r for r in recs if r["event"] == "command"]
assert not [r for r in recs if r["event"] == "batch" or r.get("batch")], "a batch without shell:"
# every command that reached the node (a reboot's poll refused at connect did not) is one request
sent = [r for r in cmds if r["exit"] >= 0]
assert req == len(sent), (req, len(sent), len(cmds))
print(req)
PY
then
	ok "without shell: every probe its own remote command ($(cat "$tmp/plain.check") requests)"
else
	ko "without shell: remote commands" "$tmp/plain.check"
fi

if run cmd playbooks/ccr-sp1.yml; then
	ok "shell: cmd: apply --yes done"
else
	ko "shell: cmd: apply --yes" "$tmp/cmd/apply.log"
fi
if python3 tests/lib/world.py "$tmp/cmd/world.json" converged CLUS1 8.1.240.6 DISABLED "$epochs" >"$tmp/cmd.world" 2>&1; then
	ok "shell: cmd: the world upgraded, firewall put back, one outage, the same reboots ($epochs)"
else
	ko "shell: cmd: world" "$tmp/cmd.world"
fi
if python3 - "$tmp/cmd/world.json" "$tmp/cmd/state/CLUS1/audit.jsonl" <<'PY' >"$tmp/cmd.check" 2>&1
import json, sys
w = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
req = sum(h["requests"] for h in w["hosts"])
batches = {r["batch"]: r for r in recs if r["event"] == "batch"}
parts = [r for r in recs if r["event"] == "command" and r.get("batch")]
assert req <= 90, "%d remote commands, want <= 90" % req
assert batches, "no batch"
for b in batches.values():
    assert b["command"].startswith('cmd /v:on /c "') and "ccrup:%s:1:!errorlevel!" % b["batch"] in b["command"], b["command"][:200]
    assert b["parts"] == len([p for p in parts if p["batch"] == b["batch"]]), b
assert all(p["batch"] in batches for p in parts)
assert all(p["node"] == batches[p["batch"]]["node"] for p in parts)
print("%d requests, %d batches of %d parts" % (req, len(batches), len(parts)))
PY
then
	ok "shell: cmd: $(cat "$tmp/cmd.check") (at most 90)"
else
	ko "shell: cmd: remote commands and the audit log" "$tmp/cmd.check"
fi
echo "compound_probes: $pass passed, $fail failed"
[ "$fail" = 0 ]
