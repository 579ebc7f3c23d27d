#!/bin/sh
# make demo: start ccrsim with the seed's two-node CCR cluster on loopback, show
# the plan, run the whole SP1 upgrade unattended with live progress, show the
# status and the simulator's view of the outage, stop ccrsim.
# TRANSPORT=winrm (make demo TRANSPORT=winrm) runs it all over WinRM (HTTPS).
set -eu
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
scale=${CCRUP_DEMO_SCALE:-0.004}
transport=${TRANSPORT:-ssh}
dir=$(mktemp -d /tmp/ccrup-demo.XXXXXX)
state=state/demo
rm -rf "$state"
mkdir -p state && chmod 700 state
trap 'sim_stop; rm -rf "$dir"' EXIT INT TERM

echo "== starting ccrsim: CLUS1 (E2K7CCR on NODE1, NODE2 passive, HUBCAS), time x$scale, over $transport"
sim_start mock-nodes/scenarios/two-node.yml "$scale" "$dir/sim" --transport "$transport"
head -n 1 "$dir/sim/ccrsim.log"

echo
echo "== ccrup plan --live (read-only)"
bin/ccrup plan "$SIM_INV" --live --state-dir "$state" | tail -n 8

echo
echo "== ccrup apply --yes"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$state"

echo
echo "== ccrup status"
bin/ccrup status "$SIM_INV" --state-dir "$state" | head -n 8

echo
echo "== what the simulated cluster says"
sim_json "'CMS %s on %s, %s, version %s; outage %.1f s (scaled time)' % (w['clusters'][0]['cms']['name'], w['clusters'][0]['cms']['owner'], w['clusters'][0]['cms']['state'], w['clusters'][0]['cms']['version'], w['clusters'][0]['outage_total_ms']/1000.0)"
echo
echo "== ccrup report"
bin/ccrup report "$SIM_INV" --state-dir "$state" --html "$state/report.html"
echo "demo: done; the journal, audit log and HTML report are in $state/"
