#!/bin/sh
# failback: original moves the CMS back to the node it started on (a second,
# short outage, journaled); --window-end keeps phases whole: a phase that would
# not finish before the window closes is not begun (exit 3), and the next
# window's resume finishes the job.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-fbw.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

# failback: original, set as a cluster variable in the inventory.
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/fb/sim" || exit 1
# (the generated inventory already has cluster vars: owa_url)
sed 's/^    vars:$/    vars:\n      failback: original/' "$SIM_INV" >"$tmp/fb/inv.yml"
bin/ccrup apply "$tmp/fb/inv.yml" --yes --state-dir "$tmp/fb/state" >"$tmp/fb/apply.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/fb.json"
sim_stop
if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/fb.json" cms CLUS1 NODE1 Online 8.1.240.6; then
	ok "failback: original puts the CMS back on NODE1, online at SP1"
else
	ko "failback exit $rc" "$tmp/fb/apply.log"
fi
if python3 -c "import json,sys; c=json.load(open('$tmp/fb.json'))['clusters'][0]; sys.exit(0 if len(c['outages'])==2 and all(o['end_ms'] is not None for o in c['outages']) else 1)"; then
	ok "failback: two outages (the upgrade and the move back), both closed"
else
	ko "failback outages"
fi
if grep -F '"event":"run-start"' "$tmp/fb/state/CLUS1/journal.jsonl" | grep -qF '"failback":"original"' &&
	grep -F '"event":"done"' "$tmp/fb/state/CLUS1/journal.jsonl" | grep -qF 'failback.move-cms-back'; then
	ok "failback: the choice and the move are journaled"
else
	ko "failback journal"
fi

# A window that closes in a minute: the passive phase (estimated ~1 h) is not begun.
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/w/sim" || exit 1
bin/ccrup apply "$SIM_INV" --yes --window-end +1m --state-dir "$tmp/w/state" >"$tmp/w/apply.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/w1.json"
if [ $rc = 3 ] && grep -q "maintenance window" "$tmp/w/apply.log" &&
	python3 tests/lib/world.py "$tmp/w1.json" untouched CLUS1; then
	ok "window: a phase that would overrun is not begun (exit 3), nothing changed"
else
	ko "window exit $rc" "$tmp/w/apply.log"
fi
bin/ccrup resume "$SIM_INV" --yes --window-end +12h --state-dir "$tmp/w/state" >"$tmp/w/resume.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/w2.json"
sim_stop
if [ $rc = 0 ] && python3 tests/lib/world.py "$tmp/w2.json" upgraded CLUS1 8.1.240.6 DISABLED; then
	ok "window: the next window's resume completes the upgrade"
else
	ko "window resume exit $rc" "$tmp/w/resume.log"
fi
if bin/ccrup apply "$SIM_INV" --yes --window-end 25:99 --state-dir "$tmp/x" >"$tmp/bad.log" 2>&1; then
	ko "a bad --window-end is accepted" "$tmp/bad.log"
elif grep -q "window-end" "$tmp/bad.log"; then
	ok "a bad --window-end is refused with a usage message"
else
	ko "bad --window-end message" "$tmp/bad.log"
fi
echo "failback_window: $pass passed, $fail failed"
[ "$fail" = 0 ]
