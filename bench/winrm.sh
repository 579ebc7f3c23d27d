#!/bin/sh
# The WinRM figures of make bench (docs/benchmarks.md, docs/winrm.md): the whole
# two-node SP1 upgrade against ccrsim (time scale 0) by
#   a. ccrup apply --yes over SSH,
#   b. ccrup apply --yes over WinRM (HTTPS, one shell per host kept open),
#   c. pywinrm (Debian's python3-winrm) running the same command list over HTTPS,
#      one shell per host kept open (bench/winrm_py.py): the client administrators
#      use today, doing only the remote commands (no planning, no journal).
# Rounds interleaved (BENCH_WINRM_RUNS, default 5); medians and every round in
# build/bench/winrm.md.
set -u
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
. bench/lib.sh
BUILD=${BUILD:-build}
out=$BUILD/bench
mkdir -p "$out"
runs=${BENCH_WINRM_RUNS:-5}
tmp=$(mktemp -d /tmp/ccrup-bench-winrm.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
scn=mock-nodes/scenarios/two-node.yml
PY=/usr/bin/python3
now() { date +%s%N; }
since() { ns_to_s "$(($(now) - $1))"; }
# Remote commands sent: compound probes' `batch` events and commands outside a batch.
ncmd() {
	python3 -c 'import json, sys
print(sum(1 for e in map(json.loads, open(sys.argv[1]))
          if e.get("event") == "batch" or (e.get("event") == "command" and "batch" not in e)))' "$1"
}

rows=""
load0=$(cut -d' ' -f1 /proc/loadavg)
for i in $(seq 1 "$runs"); do
	sim_start "$scn" 0 "$tmp/a$i/sim" || exit 1
	t0=$(now)
	bin/ccrup apply "$SIM_INV" --yes -q --state-dir "$tmp/a$i/state" >"$tmp/a$i.log" 2>&1 || { cat "$tmp/a$i.log"; exit 1; }
	ta=$(since "$t0")
	sim_stop
	na=$(ncmd "$tmp/a$i/state/CLUS1/audit.jsonl")
	SIM_TRANSPORT=winrm sim_start "$scn" 0 "$tmp/b$i/sim" || exit 1
	t0=$(now)
	bin/ccrup apply "$SIM_INV" --yes -q --state-dir "$tmp/b$i/state" >"$tmp/b$i.log" 2>&1 || { cat "$tmp/b$i.log"; exit 1; }
	tb=$(since "$t0")
	sim_stop
	nb=$(ncmd "$tmp/b$i/state/CLUS1/audit.jsonl")
	sim_start "$scn" 0 "$tmp/c$i/sim" || exit 1
	set -- $($PY bench/winrm_py.py "$tmp/b$i/state/CLUS1/audit.jsonl" "$SIM_DIR") || exit 1
	nc=$1 tc=$2
	sim_stop
	echo "bench: winrm round $i: ccrup/ssh ${ta}s ($na commands), ccrup/winrm ${tb}s ($nb), pywinrm ${tc}s ($nc)"
	rows="$rows$ta $na $tb $nb $tc $nc
"
done
ver=$(dpkg-query -W -f '${Version}' python3-winrm 2>/dev/null || echo "?")
printf '%s' "$rows" >"$tmp/rows"
python3 - "$runs" "$ver" "$tmp/rows" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$load0" \
	"$(cut -d' ' -f1 /proc/loadavg)" >"$out/winrm.md" <<-'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[3]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in rows)
col = lambda k: ", ".join("%.3f" % r[k] for r in rows)
print("### WinRM beside SSH and pywinrm\n")
print("`bench/winrm.sh`: the two-node SP1 upgrade against ccrsim at time scale 0, %s interleaved "
      "rounds; pywinrm (python3-winrm %s) runs the same command list as ccrup over WinRM, one "
      "shell per host kept open, over HTTPS like ccrup. Taken %s, load average (1 min) %s at "
      "the start, %s at the end (2 cores; other work running moves these figures by tens of "
      "percent).\n" % (sys.argv[1], sys.argv[2], sys.argv[4], sys.argv[5], sys.argv[6]))
print("| run | remote commands | wall (median) | per command | every round (s) |")
print("| --- | ---: | ---: | ---: | --- |")
for name, t, n in (("ccrup `apply --yes` over SSH", 0, 1), ("ccrup `apply --yes` over WinRM (HTTPS)", 2, 3),
                   ("pywinrm, the same commands (HTTPS)", 4, 5)):
    print("| %s | %d | %.3f s | %.1f ms | %s |" % (name, med(n), med(t), 1000 * med(t) / med(n), col(t)))
paired = statistics.median(r[4] / r[2] for r in rows)
print("\nccrup over WinRM is **%.1f×** faster than pywinrm on the same commands (target ≥ 5×; "
      "median of the rounds' own ratios, each round's runs back to back under the same load: "
      "%.1f×, every round: %s), and takes %.1f× the time of ccrup over SSH."
      % (med(4) / med(2), paired, ", ".join("%.1f" % (r[4] / r[2]) for r in rows), med(2) / med(0)))
PY
cat "$out/winrm.md"
