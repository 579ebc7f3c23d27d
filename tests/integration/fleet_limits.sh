#!/bin/sh
# fleet_limits.sh — `apply --parallel` against the open-file limit: a --parallel
# the limit cannot carry is refused before any cluster starts (exit 2, naming the
# figures and what to use instead); `--parallel auto` fits itself under the
# limit, counting the descriptors it inherited, and the fleet holds the files of
# its running clusters only (400 clusters under ulimit -n 256: with an audit file
# kept open per finished cluster, descriptors ran out every time); `--parallel
# all` is accepted.  No simulator needed: the refusal comes before any
# connection, and the hosts of the generated fleet do not answer.
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/fleet_limits.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
pass=0
fail=0
check() {
	desc=$1
	shift
	if "$@"; then pass=$((pass + 1)); else
		fail=$((fail + 1))
		echo "FAIL: $desc"
	fi
}
python3 bench/gen.py inventory 400 "$T/inv.yml" || exit 1
# Every generated host points at a port nothing listens on.
sed -i 's/^    port: 22$/    port: 9/' "$T/inv.yml"
mkdir -m 700 "$T/state" "$T/state3" "$T/state4"

sh -c "ulimit -n 256; exec bin/ccrup apply '$T/inv.yml' --yes --parallel 100 --state-dir '$T/state'" \
	>"$T/out" 2>"$T/err"
rc=$?
check "--parallel 100 under ulimit -n 256: exit 2 (got $rc)" [ "$rc" = 2 ]
# K: the descriptors ccrup found open (its standard streams and whatever it
# inherited); the figures follow from it: 100 x 7 per cluster + 64 kept + K.
K=$(sed -n 's/.*(7 per cluster, \([0-9]*\) already open).*/\1/p' "$T/err")
check "the refusal counts what is already open (got '$K')" [ -n "$K" ]
K=${K:-0}
check "the refusal gives the figures" grep -q -- "--parallel 100 needs about $((764 + K)) open files (7 per cluster, $K already open), but the limit is 256" "$T/err"
check "the refusal says what fits" grep -q -- "use --parallel $(((192 - K) / 7)) or less, --parallel auto" "$T/err"
check "nothing started: no cluster directory" [ -z "$(ls "$T/state")" ]

sh -c "ulimit -n 256; exec bin/ccrup apply '$T/inv.yml' --yes --parallel auto --max-failed 1000 --state-dir '$T/state'" \
	>"$T/out2" 2>"$T/err2"
rc=$?
check "--parallel auto is not refused for the limit" sh -c "! grep -q 'open files' '$T/err2'"
check "--parallel auto: no descriptor ran out" sh -c "! grep -qi 'too many open' '$T/err2' '$T/out2'"
check "--parallel auto ran the clusters (they fail: nothing listens): exit 1 (got $rc)" [ "$rc" = 1 ]
check "--parallel auto: every cluster was tried" grep -q 'fleet: 400 clusters, 0 done, 400 failed, 0 not started' "$T/out2"
check "--parallel auto: says what the limit allows" grep -q -- "--parallel auto: $(((192 - K) / 7)) clusters at once (the open-file limit is 256: 7 per cluster, $K already open" "$T/err2"

# 150 descriptors inherited (a parent that leaks them: a make jobserver, a
# shell's redirections) take room under the same limit: auto counts them.
python3 - "$T" >"$T/out4" 2>"$T/err4" <<'EOF'
import os, resource, sys
t = sys.argv[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
for _ in range(150):
    os.set_inheritable(os.open("/dev/null", os.O_RDONLY), True)
os.execv("bin/ccrup", ["ccrup", "apply", t + "/inv.yml", "--yes", "--parallel", "auto",
                       "--max-failed", "1000", "--state-dir", t + "/state4"])
EOF
rc=$?
H=$(sed -n 's/.*7 per cluster, \([0-9]*\) already open.*/\1/p' "$T/err4")
check "150 inherited: counted as already open (got '$H', K $K)" [ "${H:-0}" -ge $((K + 150)) ]
check "150 inherited: auto fits under what is left" grep -q -- "--parallel auto: $(((192 - ${H:-0}) / 7)) clusters at once" "$T/err4"
check "150 inherited: no descriptor ran out" sh -c "! grep -qi 'too many open' '$T/err4' '$T/out4'"
check "150 inherited: every cluster was tried, exit 1 (got $rc)" [ "$rc" = 1 ]
check "150 inherited: fleet summary" grep -q 'fleet: 400 clusters, 0 done, 400 failed, 0 not started' "$T/out4"

bin/ccrup apply "$T/inv.yml" --yes --parallel all --max-failed 1 --clusters 'CLUS-000[1-3]' --state-dir "$T/state3" >"$T/out3" 2>"$T/err3"
rc=$?
check "--parallel all accepted (exit 1: nothing listens; got $rc)" [ "$rc" = 1 ]
check "--parallel all: no usage error" sh -c "! grep -q 'takes a positive number' '$T/err3'"

echo "fleet_limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
