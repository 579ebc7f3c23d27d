#!/bin/sh
# count_run.sh CCRUP [PLAYBOOK]: one `apply --yes` of the SP1 sequence on a fresh
# two-node ccrsim world at time scale 0, under strace; prints the journal
# fsyncs (fsync + fdatasync of every file), the commands ccrsim counted (a compound
# probe's every part) and the remote commands it received (`requests`: one per SSH exec
# or WinRM Command, a compound probe once).
set -eu
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
CCRUP=${1:-bin/ccrup}
tmp=$(mktemp -d /tmp/ccrup-count.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim"
strace -f -qq -e trace=fsync,fdatasync -o "$tmp/strace" -y \
	"$CCRUP" apply "$SIM_INV" --yes --state-dir "$tmp/state" >"$tmp/apply.log" 2>&1 ||
	{ tail "$tmp/apply.log"; exit 1; }
all=$(grep -c 'sync(' "$tmp/strace" || true)
jn=$(grep -c 'journal.jsonl' "$tmp/strace" || true)
recs=$(wc -l <"$tmp/state/CLUS1/journal.jsonl")
cmds=$(sim_json "sum(sum(h.get('commands', {}).values()) for h in w['hosts'])")
per=$(sim_json "' '.join('%s=%s' % (h['name'], sum(h.get('commands', {}).values())) for h in w['hosts'])")
reqs=$(sim_json "sum(h.get('requests', 0) for h in w['hosts'])")
rper=$(sim_json "' '.join('%s=%s' % (h['name'], h.get('requests', 0)) for h in w['hosts'])")
echo "records=$recs fsyncs_all=$all fsyncs_journal=$jn commands=$cmds ($per) requests=$reqs ($rper)"
