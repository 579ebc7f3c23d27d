#!/bin/sh
# fleet_limits.sh — `apply --parallel` against the open-file limit: a --parallel
# the limit cannot carry is refused before any cluster starts (exit 2, naming the
# figures and what to use instead); `--parallel auto` fits itself under the
# limit; `--parallel all` is accepted.  No simulator needed: the refusal comes
# before any connection, and the hosts of the generated fleet do not answer.
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
python3 bench/gen.py inventory 200 "$T/inv.yml" || exit 1
# Every generated host points at a port nothing listens on.
sed -i 's/^    port: 22$/    port: 9/' "$T/inv.yml"
mkdir -m 700 "$T/state" "$T/state3"

sh -c "ulimit -n 256; exec bin/ccrup apply '$T/inv.yml' --yes --parallel 100 --state-dir '$T/state'" \
	>"$T/out" 2>"$T/err"
rc=$?
check "--parallel 100 under ulimit -n 256: exit 2 (got $rc)" [ "$rc" = 2 ]
check "the refusal gives the figures" grep -q -- '--parallel 100 needs about 764 open files (7 per cluster), but the limit is 256' "$T/err"
check "the refusal says what fits" grep -q -- 'use --parallel 27 or less, --parallel auto' "$T/err"
check "nothing started: no cluster directory" [ -z "$(ls "$T/state")" ]

sh -c "ulimit -n 256; exec bin/ccrup apply '$T/inv.yml' --yes --parallel auto --max-failed 1000 --state-dir '$T/state'" \
	>"$T/out2" 2>"$T/err2"
rc=$?
check "--parallel auto is not refused for the limit" sh -c "! grep -q 'open files' '$T/err2'"
check "--parallel auto ran the clusters (they fail: nothing listens): exit 1 (got $rc)" [ "$rc" = 1 ]
check "--parallel auto: every cluster was tried" grep -q 'fleet: 200 clusters, 0 done, 200 failed, 0 not started' "$T/out2"

bin/ccrup apply "$T/inv.yml" --yes --parallel all --max-failed 1 --clusters 'CLUS-000[1-3]' --state-dir "$T/state3" >"$T/out3" 2>"$T/err3"
rc=$?
check "--parallel all accepted (exit 1: nothing listens; got $rc)" [ "$rc" = 1 ]
check "--parallel all: no usage error" sh -c "! grep -q 'takes a positive number' '$T/err3'"

echo "fleet_limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
