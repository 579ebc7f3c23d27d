#!/bin/sh
# A fleet shared by orchestrator hosts (docs/state.md): ccrsim --fleet 100 at
# time scale 0, one etcd member, three ccrup processes started together on the
# same inventory and etcd prefix, each `apply --parallel 4` from its own
# working directory.  Each takes the clusters whose lock is free and leaves
# the ones another holds or already upgraded: every cluster is upgraded
# exactly once (setup /m:upgrade once per node, /UpgradeCMS once per CMS, one
# run per journal), none is forgotten, all three exit 0, and `status` names
# the host that ran each cluster.  etcd listens on 127.0.0.1:12302-12303.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
. tests/lib/etcd.sh
tmp=$(mktemp -d /tmp/ccrup-etcdfleet.XXXXXX)
trap 'sim_stop; for p in ${PIDS:-}; do kill -9 "$p" 2>/dev/null; done; etcd_stop; rm -rf "$tmp"' EXIT INT TERM
FLEET=${FLEET:-100}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2"; }

etcd_start "$tmp/etcd" 12300 1 || { echo "etcd_fleet: etcd did not start"; exit 1; }
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" --fleet "$FLEET" || exit 1
url="etcd://$ETCD_URLS/fleet?ttl=5"
PIDS=
for h in 1 2 3; do
	(exec bin/ccrup apply "$SIM_INV" --yes --parallel 4 --max-failed 100 -q --state-dir "$tmp/h$h/state" \
		--state "$url" >"$tmp/h$h.log" 2>&1) &
	PIDS="$PIDS $!"
done
rcs=
for p in $PIDS; do
	wait "$p"
	rcs="$rcs $?"
done
PIDS=
sim_ctl dump >"$tmp/world.json"
if [ "$rcs" = " 0 0 0" ]; then ok "three processes on one fleet: all exit 0"; else ko "exits:$rcs" "$tmp/h1.log"; tail -n 5 "$tmp/h2.log" "$tmp/h3.log"; fi

# The world: every cluster upgraded, each node's setup and each CMS upgrade run once.
if python3 - "$tmp/world.json" "$FLEET" >"$tmp/world.check" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
hosts = {h["name"]: h for h in w["hosts"]}
def count(h, needle):
    return sum(n for c, n in h["commands"].items() if needle.lower() in c.lower())
bad = []
for c in w["clusters"]:
    if c["cms"]["version"] != "8.1.240.6" or c["cms"]["state"] != "Online":
        bad.append("%s: CMS %s %s" % (c["name"], c["cms"]["version"], c["cms"]["state"]))
    for m in c["members"]:
        if count(hosts[m], "/m:upgrade") != 1:
            bad.append("%s: setup ran %d times" % (m, count(hosts[m], "/m:upgrade")))
    if sum(count(hosts[m], "/UpgradeCMS") for m in c["members"]) != 1:
        bad.append("%s: /UpgradeCMS not once" % c["name"])
if len(w["clusters"]) != int(sys.argv[2]):
    bad.append("%d clusters in the world" % len(w["clusters"]))
print("; ".join(bad[:10]) or "all %d clusters upgraded exactly once" % len(w["clusters"]))
sys.exit(1 if bad else 0)
PY
then ok "$(cat "$tmp/world.check")"; else ko "world: $(cat "$tmp/world.check")"; fi

# The journals in etcd: one generation, one run-start, ending done, per cluster;
# the work was shared (each process ran some clusters).
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URLS" get --prefix fleet/clusters/ -w json >"$tmp/keys.json"
if python3 - "$tmp/keys.json" "$FLEET" >"$tmp/journal.check" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
runs, ends, pids, gens, locks = {}, {}, {}, set(), 0
for kv in d.get("kvs", []):
    k = base64.b64decode(kv["key"]).decode()
    parts = k.split("/")
    if parts[3] == "lock":
        locks += 1
    if parts[3] == "gen":
        gens.add(parts[2])
    if parts[3] != "journal":
        continue
    r = json.loads(base64.b64decode(kv["value"]))
    if r["event"] == "run-start":
        runs[parts[2]] = runs.get(parts[2], 0) + 1
        pids[parts[2]] = r.get("pid")
    if r["event"] == "run-end":
        ends[parts[2]] = r["result"]
bad = [c for c in runs if runs[c] != 1 or ends.get(c) != "done"]
if len(runs) != int(sys.argv[2]) or bad or gens or locks:
    print("runs %d, bad %s, archived %s, locks left %d" % (len(runs), bad[:5], sorted(gens)[:5], locks))
    sys.exit(1)
share = sorted(list(pids.values()).count(p) for p in set(pids.values()))
print("%d journals, one run each, done; clusters per process: %s" % (len(runs), share))
sys.exit(0 if len(share) >= 2 else 1)
PY
then ok "$(cat "$tmp/journal.check")"; else ko "journals: $(cat "$tmp/journal.check")"; fi

# status from a fourth client: every cluster done, each naming the host that ran it.
bin/ccrup status "$SIM_INV" --state "$url" --state-dir "$tmp/h4/state" -o json >"$tmp/status.json" 2>"$tmp/status.err"
if python3 -c '
import json, socket, sys
cs = json.load(open(sys.argv[1]))["clusters"]
sys.exit(0 if len(cs) == int(sys.argv[2]) and all(c["state"] == "done" and c.get("host") == socket.gethostname() for c in cs) else 1)' "$tmp/status.json" "$FLEET"; then
	ok "status: all $FLEET done, each with the host that ran it"
else
	ko "status" "$tmp/status.err"
fi
# A second round of the same apply finds nothing to do: every cluster is left alone.
bin/ccrup apply "$SIM_INV" --yes --parallel 4 -q --state-dir "$tmp/h1/state" --state "$url" >"$tmp/again.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/world2.json"
sim_stop
if [ $rc = 0 ] && python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if [h["commands"] for h in a["hosts"]] == [h["commands"] for h in b["hosts"]] else 1)' "$tmp/world.json" "$tmp/world2.json"; then
	ok "apply again on the shared fleet: every cluster left alone (already upgraded), no command"
else
	ko "apply again: exit $rc" "$tmp/again.log"
fi
echo "etcd_fleet: $pass passed, $fail failed"
[ "$fail" = 0 ]
