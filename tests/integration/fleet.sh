#!/bin/sh
# ccrup apply over a fleet: one ccrup process, a bounded pool of cluster
# workers, against ccrsim --fleet 6 (six copies of two-node.yml: CLUS1-001 ..
# CLUS1-006, hosts NODE1-00N / NODE2-00N / HUBCAS-00N) at time scale 0.
#   parallel     --parallel 3 upgrades every cluster; one journal and lock each;
#                HUBCAS (read in preflight only) disconnected once no step needs it
#   isolation    a failing cluster (setup fails on NODE2-002) does not stop the others
#   max-failed   --max-failed 1 --parallel 1, two failing clusters: nothing new starts
#                after the first failure, the rest "not started", exit 1
#   select       --clusters PATTERN touches only the clusters it names
#   status/report across the fleet; reboots at time scale 0 settle within milliseconds
# Every world is fresh; ccrsim listens on loopback only and is stopped by PID.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-fleet.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
FLEET=6
TARGET=8.1.240.6

ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2"; }

# fresh NAME: a new fleet world in $tmp/NAME/sim
fresh() {
	sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/$1/sim" --fleet "$FLEET"
}

# fault HOST: setup.com /m:upgrade fails on HOST
fault() {
	sim_ctl fault-add "{\"host\":\"$1\",\"match\":\"setup.com /m:upgrade\",\"kind\":\"fail\",\"exit\":1,\"message\":\"Setup encountered a problem\"}" >/dev/null
}

# world DUMP PYTHON-EXPR: evaluate over the dump `w`, with c(NAME) the cluster and
# up(c) "every member and the CMS at TARGET, CMS Online"; exit 0 if true
world() {
	python3 - "$1" "$2" "$TARGET" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
target = sys.argv[3]
hosts = {h["name"]: h for h in w["hosts"]}
def c(name):
    return [x for x in w["clusters"] if x["name"] == name][0]
def up(x):
    return (x["cms"]["version"] == target and x["cms"]["state"] == "Online"
            and all(hosts[m]["binaries_version"] == target for m in x["members"]))
def touched(x):
    return any(k.startswith(("setup.com", "netfx", "shutdown", "net stop", "sc config"))
               for m in x["members"] for k in hosts[m]["commands"])
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

# 1. --parallel 3: all six clusters upgraded, each with its own journal and lock.
# ccrsim -v logs each command and each closed connection.
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/par/sim" --fleet "$FLEET" -v
bin/ccrup apply "$SIM_INV" --yes --parallel 3 --state-dir "$tmp/par/state" >"$tmp/par.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/par.json"
sim_stop
if [ $rc = 0 ] && world "$tmp/par.json" \
	"len(w['clusters']) == $FLEET and all(up(x) for x in w['clusters'])"; then
	ok "--parallel 3: every CMS at $TARGET Online, both nodes upgraded, exit 0"
else
	ko "--parallel 3 (exit $rc)" "$tmp/par.log"
fi
# A host no remaining step needs is let go: HUBCAS (read in preflight only) is
# disconnected while the nodes still have commands to run, not at the end.
n=0
for i in 001 002 003 004 005 006; do
	closed=$(grep -n "^ccrsim: HUBCAS-$i: connection closed" "$tmp/par/sim/ccrsim.log" | head -n 1 | cut -d: -f1)
	last=$(grep -n "^ccrsim: NODE[12]-$i: exec " "$tmp/par/sim/ccrsim.log" | tail -n 1 | cut -d: -f1)
	[ -n "$closed" ] && [ -n "$last" ] && [ "$closed" -lt "$last" ] && n=$((n + 1))
done
if [ $n = $FLEET ]; then
	ok "--parallel 3: each HUBCAS session closed after preflight, before its nodes' last command"
else
	ko "--parallel 3: $n of $FLEET HUBCAS sessions closed before their nodes' last command" "$tmp/par/sim/ccrsim.log"
fi
n=0
for i in 001 002 003 004 005 006; do
	d="$tmp/par/state/CLUS1-$i"
	[ -s "$d/journal.jsonl" ] && [ -f "$d/lock" ] &&
		[ "$(grep -o '"cluster":"[^"]*"' "$d/journal.jsonl" | sort -u)" = "\"cluster\":\"CLUS1-$i\"" ] &&
		[ "$(grep -o '"node":"[^"]*"' "$d/journal.jsonl" | grep -vc -- "-$i\"\$")" = 0 ] &&
		n=$((n + 1))
done
if [ $n = $FLEET ]; then
	ok "--parallel 3: state/<cluster>/journal.jsonl (naming only its own cluster and nodes) and lock, for each of the $FLEET clusters"
else
	ko "--parallel 3: $n of $FLEET clusters have their own journal and lock"
	ls -R "$tmp/par/state" | head -40
fi
if grep -q "fleet: $FLEET clusters, $FLEET done, 0 failed, 0 not started" "$tmp/par.log"; then
	ok "--parallel 3: fleet summary says $FLEET done"
else
	ko "--parallel 3: fleet summary" "$tmp/par.log"
fi

# status across the fleet: every cluster done, nothing next.
if bin/ccrup status "$SIM_INV" --state-dir "$tmp/par/state" -o json >"$tmp/par-st.json" &&
	python3 -c "
import json, sys
d = json.load(open('$tmp/par-st.json'))
cs = d['clusters']
sys.exit(0 if len(cs) == $FLEET and all(c['state'] == 'done' and c['next'] is None for c in cs) else 1)"; then
	ok "status: all $FLEET clusters done, nothing next"
else
	ko "status across the fleet" "$tmp/par-st.json"
fi

# Reboots settle promptly at time scale 0 (ccrsim restarts a node within milliseconds): the
# node is re-probed after 5 ms, not after a first sleep of 100 ms or a 200 ms connect backoff.
if python3 -c "
import json, statistics, sys
cs = json.load(open('$tmp/par-st.json'))['clusters']
ms = [s['duration_ms'] for c in cs for s in c['steps'] if s['id'].endswith('reboot') and s['state'] == 'done']
print('reboot steps: %d, median %d ms' % (len(ms), statistics.median(ms)))
sys.exit(0 if len(ms) == 3 * $FLEET and statistics.median(ms) < 60 else 1)" >"$tmp/reboot.txt"; then
	ok "reboots at time scale 0 settle promptly ($(cat "$tmp/reboot.txt"))"
else
	ko "reboots at time scale 0 are slow: $(cat "$tmp/reboot.txt")"
fi

# report across the fleet: one page per cluster, or one page for all.
if bin/ccrup report "$SIM_INV" --state-dir "$tmp/par/state" -q >"$tmp/rep.log" 2>&1 &&
	[ "$(ls "$tmp"/par/state/CLUS1-*/report.html 2>/dev/null | wc -l)" = $FLEET ] &&
	bin/ccrup report "$SIM_INV" --state-dir "$tmp/par/state" --html "$tmp/all.html" -q \
		>>"$tmp/rep.log" 2>&1 &&
	[ "$(grep -o 'CLUS1-00[1-6]' "$tmp/all.html" | sort -u | wc -l)" = $FLEET ]; then
	ok "report: a page per cluster, and one page naming all $FLEET"
else
	ko "report across the fleet" "$tmp/rep.log"
fi

# 2. One failing cluster does not stop the others (--max-failed high enough).
fresh iso
fault NODE2-002
bin/ccrup apply "$SIM_INV" --yes --parallel 3 --max-failed $FLEET --state-dir "$tmp/iso/state" \
	>"$tmp/iso.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/iso.json"
sim_stop
if [ $rc = 1 ] && world "$tmp/iso.json" \
	"not up(c('CLUS1-002')) and c('CLUS1-002')['cms']['state'] == 'Online' and all(up(c('CLUS1-00%d' % i)) for i in (1, 3, 4, 5, 6))"; then
	ok "isolation: CLUS1-002 fails (exit 1, its CMS still Online), the five others upgraded"
else
	ko "isolation (exit $rc)" "$tmp/iso.log"
fi
if grep -q "fleet: $FLEET clusters, 5 done, 1 failed, 0 not started" "$tmp/iso.log" &&
	grep -q "^  CLUS1-002 *failed" "$tmp/iso.log" &&
	[ "$(grep -c '^  CLUS1-' "$tmp/iso.log")" = 1 ]; then
	ok "isolation: the fleet summary lists CLUS1-002 as failed, and only it"
else
	ko "isolation: fleet summary" "$tmp/iso.log"
fi
if bin/ccrup status "$SIM_INV" --state-dir "$tmp/iso/state" -o json >"$tmp/iso-st.json" &&
	python3 -c "
import json, sys
s = {c['name']: c for c in json.load(open('$tmp/iso-st.json'))['clusters']}
bad = s['CLUS1-002']
sys.exit(0 if bad['state'] == 'failed' and bad['last_error'] and 'passive.setup' in json.dumps(bad)
         and all(s['CLUS1-00%d' % i]['state'] == 'done' for i in (1, 3, 4, 5, 6)) else 1)"; then
	ok "status: CLUS1-002 failed at passive.setup with its error, the others done"
else
	ko "status after a failure" "$tmp/iso-st.json"
fi

# 3. --max-failed 1, --parallel 1, CLUS1-002 and CLUS1-004 fail: after 002 nothing starts.
fresh maxf
fault NODE2-002
fault NODE2-004
bin/ccrup apply "$SIM_INV" --yes --parallel 1 --max-failed 1 --state-dir "$tmp/maxf/state" \
	>"$tmp/maxf.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/maxf.json"
sim_stop
if [ $rc = 1 ] && world "$tmp/maxf.json" \
	"up(c('CLUS1-001')) and not up(c('CLUS1-002')) and not any(touched(c('CLUS1-00%d' % i)) for i in (3, 4, 5, 6))"; then
	ok "--max-failed 1: CLUS1-001 done, CLUS1-002 failed, 003-006 untouched, exit 1"
else
	ko "--max-failed 1 (exit $rc)" "$tmp/maxf.log"
fi
nstart=$(grep -c '^  CLUS1-00[3-6] *not started' "$tmp/maxf.log")
if grep -q "fleet: $FLEET clusters, 1 done, 1 failed, 4 not started" "$tmp/maxf.log" &&
	grep -q "^  CLUS1-002 *failed" "$tmp/maxf.log" && [ "$nstart" = 4 ] &&
	[ ! -e "$tmp/maxf/state/CLUS1-003/journal.jsonl" ]; then
	ok "--max-failed 1: summary lists CLUS1-002 failed and 003-006 not started (no journal)"
else
	ko "--max-failed 1: summary ($nstart not started)" "$tmp/maxf.log"
fi

if bin/ccrup status "$SIM_INV" --state-dir "$tmp/maxf/state" -o json >"$tmp/maxf-st.json" &&
	python3 -c "
import json, sys
s = {c['name']: c['state'] for c in json.load(open('$tmp/maxf-st.json'))['clusters']}
want = {'CLUS1-001': 'done', 'CLUS1-002': 'failed'}
want.update({'CLUS1-00%d' % i: 'not started' for i in (3, 4, 5, 6)})
sys.exit(0 if s == want else 1)"; then
	ok "status: 001 done, 002 failed, 003-006 not started"
else
	ko "status after --max-failed" "$tmp/maxf-st.json"
fi

# 4. --clusters selects: only CLUS1-005 and CLUS1-006 are touched.
fresh sel
bin/ccrup apply "$SIM_INV" --yes --parallel 2 --clusters 'CLUS1-00[56]' \
	--state-dir "$tmp/sel/state" >"$tmp/sel.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/sel.json"
sim_stop
if [ $rc = 0 ] && world "$tmp/sel.json" \
	"up(c('CLUS1-005')) and up(c('CLUS1-006')) and not any(touched(c('CLUS1-00%d' % i)) for i in range(1, 5))" &&
	[ "$(ls "$tmp/sel/state")" = "$(printf 'CLUS1-005\nCLUS1-006')" ] &&
	grep -q "fleet: 2 clusters, 2 done" "$tmp/sel.log"; then
	ok "--clusters 'CLUS1-00[56]': those two upgraded, the four others untouched"
else
	ko "--clusters (exit $rc)" "$tmp/sel.log"
fi
if bin/ccrup status "$SIM_INV" --state-dir "$tmp/sel/state" --clusters 'CLUS1-00[56]' -o json \
	>"$tmp/sel-st.json" && python3 -c "
import json, sys
cs = json.load(open('$tmp/sel-st.json'))['clusters']
sys.exit(0 if [c['name'] for c in cs] == ['CLUS1-005', 'CLUS1-006'] and all(c['state'] == 'done' for c in cs) else 1)"; then
	ok "status --clusters: the two selected clusters, done"
else
	ko "status --clusters" "$tmp/sel-st.json"
fi

echo "fleet: $pass passed, $fail failed"
[ "$fail" = 0 ]
