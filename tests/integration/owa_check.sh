#!/bin/sh
# The cms.owa step of ccr-sp1 (http_check of the inventory's owa_url) against
# the Outlook Web Access that ccrsim's HUBCAS serves, at time scale 0:
#   done    a full `ccrup apply --yes`: cms.owa runs right after /UpgradeCMS,
#           its GET answered 200 (counted on HUBCAS), the run finishes
#   503     a playbook copy with one step added after /UpgradeCMS that stops
#           the CMS again (and the check's retries cut from 6 to 2, to keep the
#           test short): the apply fails at cms.owa after 3 attempts, exit 1,
#           the message naming the URL and "answered 503"; the CMS is started
#           again over ssh and `ccrup resume` passes the check and finishes
# Why a playbook copy: in the shipped playbook /UpgradeCMS is verified Online
# just before the check, so only a step in between can leave the CMS offline
# at the moment the check runs.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-owa.XXXXXX)
trap 'sim_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2"; }
owa_url() { sed -n "s/^      owa_url: '\(.*\)'$/\1/p" "$SIM_INV"; }
requests() { sim_json "[h['http_requests'] for h in w['hosts'] if h['name'] == 'HUBCAS'][0]"; }
sshx() { sim_ssh "$1" "$2"; }

# 1. The whole upgrade: the check runs and passes.
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/ok/sim" || { echo "owa_check: ccrsim did not start"; exit 1; }
url=$(owa_url)
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/ok/state" >"$tmp/ok.log" 2>&1
rc=$?
n=$(requests)
sim_ctl dump >"$tmp/ok.json"
python3 tests/lib/world.py "$tmp/ok.json" upgraded CLUS1 8.1.240.6 DISABLED
world=$?
sim_stop
if [ $rc = 0 ] && [ $world = 0 ] && grep -q "cms.owa on NODE2: GET $url: ok" "$tmp/ok.log" &&
	grep -q "cms.owa on NODE2: done" "$tmp/ok.log" && [ "$n" = 1 ]; then
	ok "apply: cms.owa done after /UpgradeCMS (GET $url: ok, 1 request on HUBCAS), upgrade complete"
else
	ko "apply: exit $rc, world $world, $n HTTP requests" "$tmp/ok.log"
fi
# The check comes after /UpgradeCMS and before the former active node is touched.
if awk '/cms.upgrade-cms on NODE2: done/ { u = NR } /cms.owa on NODE2: done/ { o = NR }
	/former-active\./ && !f { f = NR } END { exit !(u && o && f && u < o && o < f) }' "$tmp/ok.log"; then
	ok "apply: the order is upgrade-cms, owa, then the former active node"
else
	ko "apply: step order" "$tmp/ok.log"
fi

# 2. The CMS offline when the check runs: 503 after the retries, exit 1; then resume.
python3 - playbooks/ccr-sp1.yml "$tmp/pb.yml" <<'EOF'
import sys
text = open(sys.argv[1]).read()
step = """      - id: cms-stops-again
        name: (test) The CMS stops again after /UpgradeCMS
        run: >-
          ${ems} "Stop-ClusteredMailboxServer -Identity ${cms} -StopReason 'owa test'
          -Confirm:$false"
        timeout: 5m
"""
head, sep, tail = text.partition("      - id: owa\n")
assert sep, "no owa step"
tail = tail.replace("          retries: 6\n", "          retries: 2\n", 1)
open(sys.argv[2], "w").write(head + step + sep + tail)
EOF
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/down/sim" || { echo "owa_check: ccrsim did not start"; exit 1; }
url=$(owa_url)
st="$tmp/down/state"
bin/ccrup apply "$SIM_INV" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/down.log" 2>&1
rc=$?
n=$(requests)
if [ $rc = 1 ] && grep -q "http check: $url answered 503" "$tmp/down.log" &&
	[ "$(grep -c "cms.owa on NODE2: GET $url: $url answered 503" "$tmp/down.log")" = 3 ] &&
	[ "$n" = 3 ]; then
	ok "CMS offline: cms.owa fails after 3 attempts, exit 1, 'http check: $url answered 503'"
else
	ko "CMS offline: apply exit $rc, $n HTTP requests" "$tmp/down.log"
fi
if bin/ccrup status "$SIM_INV" -p "$tmp/pb.yml" --state-dir "$st" -o json >"$tmp/st.json" 2>&1 &&
	python3 - "$tmp/st.json" "$url" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["clusters"][0]
owa = [s["state"] for s in c["steps"] if s["id"] == "cms.owa"]
sys.exit(0 if c["state"] == "failed" and owa == ["failed"] and c["next"]["id"] == "cms.owa" and
         "step cms.owa: http check: %s answered 503" % sys.argv[2] in c["last_error"] else 1)
EOF
then
	ok "status: failed at cms.owa (next), the last error naming the URL and the 503"
else
	ko "status" "$tmp/st.json"
fi
sshx NODE2 'Start-ClusteredMailboxServer -Identity E2K7CCR' >"$tmp/start.log" 2>&1
sim_ctl wait-idle 10000 >/dev/null
bin/ccrup resume "$SIM_INV" -p "$tmp/pb.yml" --yes --state-dir "$st" >"$tmp/resume.log" 2>&1
rc=$?
sim_ctl dump >"$tmp/down.json"
sim_stop
if [ $rc = 0 ] && grep -q "cms.owa on NODE2: GET $url: ok" "$tmp/resume.log" &&
	! grep -q "cms-stops-again" "$tmp/resume.log" &&
	python3 tests/lib/world.py "$tmp/down.json" cms CLUS1 NODE2 Online 8.1.240.6 &&
	python3 tests/lib/world.py "$tmp/down.json" count NODE1 /m:upgrade 1 &&
	python3 tests/lib/world.py "$tmp/down.json" count NODE2 /m:upgrade 1; then
	ok "CMS started again: resume passes cms.owa (the stop step not repeated) and finishes"
else
	ko "resume: exit $rc" "$tmp/resume.log"
fi

echo "owa_check: $pass passed, $fail failed"
[ "$fail" = 0 ]
