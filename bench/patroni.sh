#!/bin/sh
# The Patroni benchmark (part of make bench; BENCH_PATRONI=0 skips it): on one test bed
# (tests/lib/patroni_bed.sh) with the writer committing every 10 ms throughout,
# BENCH_PATRONI_RUNS (5) rounds, interleaved, of
#   a. the whole rolling upgrade by ccrup (a new package version and a pending setting
#      each round): its write outage (the writer's longest gap during the run), the
#      outage ccrup reports, its elapsed time and the sum of its unavoidable waits (the
#      steps that wait on Patroni/PostgreSQL: stop, install, start, catch-up, switchover,
#      the former leader following);
#   b. a bare `patronictl switchover --force` run by hand on the leader: its write outage.
# Writes build/bench/patroni.md (medians and every round) for docs/benchmarks.md.
set -eu
cd "$(dirname "$0")/.."
. tests/lib/patroni_bed.sh
runs=${BENCH_PATRONI_RUNS:-5}
out=${BUILD:-build}/bench
mkdir -p "$out"
bed=$(mktemp -d /tmp/ccrup-bench-patroni.XXXXXX)
trap 'bed_stop "$bed"; rm -rf "$bed"' EXIT
trap 'exit 130' INT TERM
pb=playbooks/patroni-rolling.yml
bed_start "$bed" "$(bed_free_net)"
bed_writer_start "$bed"
now() { date +%s.%N; }
rows=""
i=1
while [ $i -le "$runs" ]; do
	# a. ccrup: a pending setting and a new version each round
	runuser -u postgres -- patronictl -c "$bed/$(bed_leader "$bed")/patroni.yml" edit-config --force \
		-s "postgresql.parameters.max_connections=$((110 + i))" >/dev/null
	BED_TARGET_VERSION="15.99-$i+bench" bed_inventory "$bed" "$bed/inv$i.yml"
	sleep 3
	t0=$(now)
	bin/ccrup apply "$bed/inv$i.yml" -p "$pb" --state-dir "$bed/state$i" --yes >"$bed/apply$i.log" 2>&1 ||
		{ echo "bench: ccrup apply failed in round $i" >&2; tail -n 20 "$bed/apply$i.log" >&2; exit 1; }
	t1=$(now)
	gap_a=$($BED_PY bench/patroni_gap.py "$bed/writer.log" "$t0" "$t1")
	stats=$($BED_PY - "$bed/state$i/bed/journal.jsonl" <<-'PY'
	import json, sys
	waits = ("stop", "install", "start", "streaming", "switchover", "former-leader-follows")
	w = o = 0
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    if r.get("event") == "done" and r.get("step", "").split(".")[-1] in waits:
	        w += r.get("duration_ms", 0)
	    if r.get("event") == "outage-end":
	        o = r.get("duration_ms", 0)
	print("%.3f %.3f" % (w / 1000.0, o / 1000.0))
	PY
	)
	waits=${stats% *} reported=${stats#* }
	elapsed=$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")
	# b. a bare patronictl switchover to the other replica
	bed_wait "$bed" 60 bed_healthy "$bed"
	sleep 3
	l=$(bed_leader "$bed")
	c=$(for m in $BED_MEMBERS; do [ "$m" = "$l" ] || echo "$m"; done | head -n 1)
	t0=$(now)
	runuser -u postgres -- patronictl -c "$bed/$l/patroni.yml" switchover --leader "$l" --candidate "$c" --force >"$bed/bare$i.log" 2>&1
	until [ "$(bed_leader "$bed")" = "$c" ]; do sleep 0.1; done
	t1=$(now)
	gap_b=$($BED_PY bench/patroni_gap.py "$bed/writer.log" "$t0" "$t1")
	echo "bench: round $i: ccrup write outage ${gap_a}s (reported ${reported}s), run ${elapsed}s, waits ${waits}s; bare patronictl write outage ${gap_b}s"
	rows="$rows$i $gap_a $reported $elapsed $waits $gap_b
"
	bed_wait "$bed" 60 bed_healthy "$bed"
	i=$((i + 1))
done
bed_writer_stop "$bed" >/dev/null
$BED_PY "$PWD/tests/lib/pg_rows_check.py" --log "$bed/writer.log" --dsn "$(bed_dsn "$bed")" >"$bed/rows.json"
# (the rounds go in a file: python3 - reads its program from stdin)
printf '%s' "$rows" >"$bed/rounds.txt"
$BED_PY - "$bed/rows.json" "$runs" "$bed/rounds.txt" >"$out/patroni.md" <<-'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[3]).read().splitlines() if l.strip()]
if not rows:
    sys.exit("bench: no rounds recorded")
rc = json.load(open(sys.argv[1]))
col = lambda k: [float(r[k]) for r in rows]
med = lambda k: statistics.median(col(k))
print("## Patroni: write outage and rolling-upgrade time on a real cluster\n")
print("`bench/patroni.sh` on the test bed of docs/patroni.md (etcd, three Patroni 3.0 members managing "
      "PostgreSQL 15, one sshd each, loopback), a writer committing every 10 ms throughout; %s rounds, "
      "interleaved: the whole rolling upgrade by ccrup (a new package version and a pending setting each "
      "round), then a bare `patronictl switchover --force` run by hand.\n" % sys.argv[2])
print("| | median | rounds |")
print("| --- | --- | --- |")
print("| ccrup: users' write outage (writer's longest gap) | %.2f s | %s |" % (med(1), ", ".join("%.2f" % v for v in col(1))))
print("| bare `patronictl switchover`: users' write outage | %.2f s | %s |" % (med(5), ", ".join("%.2f" % v for v in col(5))))
print("| ccrup's outage minus the bare switchover's | %+.2f s | target: at most +0.5 s |" % (med(1) - med(5)))
print("| ccrup: outage it reports (the switchover step) | %.2f s | %s |" % (med(2), ", ".join("%.2f" % v for v in col(2))))
print("| ccrup: whole rolling upgrade | %.1f s | %s |" % (med(3), ", ".join("%.1f" % v for v in col(3))))
print("| its unavoidable waits (stop, install, start, catch-up, switchover, former leader following) | %.1f s | %s |" % (med(4), ", ".join("%.1f" % v for v in col(4))))
print("| ratio whole / waits | %.2f | target: at most 1.2 |" % statistics.median([float(r[3]) / float(r[4]) for r in rows]))
print("\nAcknowledged rows over all rounds: %d, found in the final primary: %d (%d lost)." % (rc["acknowledged"], rc["found"], rc["lost"]))
PY
cat "$out/patroni.md"
