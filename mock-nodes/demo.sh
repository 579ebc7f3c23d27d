#!/bin/sh
# make demo: start ccrsim with the seed's two-node CCR cluster on loopback, show
# the plan, run the whole SP1 upgrade unattended with live progress, show the
# status and the simulator's view of the outage, stop ccrsim.
# TRANSPORT=winrm (make demo TRANSPORT=winrm) runs it all over WinRM (HTTPS).
# PLAYBOOK=NAME (make demo PLAYBOOK=ccr-rollup) runs another Exchange playbook
# against the scenario made for it (docs/exchange.md):
#   ccr-sp1     the SP1 upgrade (two-node.yml; the default)
#   ccr-rollup  Update Rollup 9 for SP1 (sp1-rollup.yml)
#   ccr-sp2     SP2 with ccr-sp.yml: the organisation, HT/CAS, then the cluster (sp1-rollup.yml)
#   ccr-sp3     SP3 with ccr-sp.yml, straight from SP1 (sp1-rollup.yml with SP3 media)
set -eu
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
scale=${CCRUP_DEMO_SCALE:-0.004}
transport=${TRANSPORT:-ssh}
playbook=${PLAYBOOK:-ccr-sp1}
playbook=${playbook##*/}
playbook=${playbook%.yml}
dir=$(mktemp -d /tmp/ccrup-demo.XXXXXX)
trap 'sim_stop; rm -rf "$dir"' EXIT INT TERM
vars=
case $playbook in
ccr-sp1)
	scn=mock-nodes/scenarios/two-node.yml pb=playbooks/ccr-sp1.yml
	what="CLUS1 (E2K7CCR on NODE1 at RTM, NODE2 passive, HUBCAS at SP1)" ;;
ccr-rollup)
	scn=mock-nodes/scenarios/sp1-rollup.yml pb=playbooks/ccr-rollup.yml
	what="CLUS1 at SP1 (E2K7CCR on NODE1), Update Rollup 9 for SP1 (KB970162)" ;;
ccr-sp2)
	scn=mock-nodes/scenarios/sp1-rollup.yml pb=playbooks/ccr-sp.yml
	what="CLUS1 and HUBCAS at SP1, the organisation at SP1, SP2 media (8.2.176.2)" ;;
ccr-sp3)
	sed -e 's/^media_version:.*/media_version: 8.3.083.6/' mock-nodes/scenarios/sp1-rollup.yml >"$dir/sp3.yml"
	scn=$dir/sp3.yml pb=playbooks/ccr-sp.yml
	vars="target_version=8.3.083.6 setup='D:\\Exchange2007SP3\\setup.com' schema_range_upper=14625"
	what="CLUS1 and HUBCAS at SP1, the organisation at SP1, SP3 media (8.3.083.6)" ;;
*)
	echo "demo: unknown PLAYBOOK '$playbook' (ccr-sp1, ccr-rollup, ccr-sp2, ccr-sp3)" >&2
	exit 2 ;;
esac
state=state/demo-$playbook
[ "$playbook" = ccr-sp1 ] && state=state/demo
rm -rf "$state"
mkdir -p state && chmod 700 state

echo "== starting ccrsim: $what, time x$scale, over $transport"
sim_start "$scn" "$scale" "$dir/sim" --transport "$transport"
head -n 1 "$dir/sim/ccrsim.log"
for v in $vars; do
	sed -i "/^    vars:/a\\      ${v%%=*}: ${v#*=}" "$SIM_INV"
done

echo
echo "== ccrup plan --live -p $pb (read-only)"
bin/ccrup plan "$SIM_INV" -p "$pb" --live --state-dir "$state" | tail -n 8

echo
echo "== ccrup apply -p $pb --yes"
bin/ccrup apply "$SIM_INV" -p "$pb" --yes --state-dir "$state"

echo
echo "== ccrup status"
bin/ccrup status "$SIM_INV" --state-dir "$state" | head -n 8

echo
echo "== what the simulated cluster says"
sim_json "'CMS %s on %s, %s, version %s; outage %.1f s (scaled time)' % (w['clusters'][0]['cms']['name'], w['clusters'][0]['cms']['owner'], w['clusters'][0]['cms']['state'], w['clusters'][0]['cms']['version'], w['clusters'][0]['outage_total_ms']/1000.0)"
sim_json "'; '.join('%s %s%s' % (h['name'], h['binaries_version'], ''.join(' +KB%d' % r['kb'] for r in h['msi']['rollups'])) for h in w['hosts'])"
echo
echo "== ccrup report"
bin/ccrup report "$SIM_INV" -p "$pb" --state-dir "$state" --html "$state/report.html"
echo "demo: done; the journal, audit log and HTML report are in $state/"
