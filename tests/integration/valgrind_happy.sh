#!/bin/sh
# The happy path under valgrind memcheck: ccrsim (two-node, time scale 0) and a
# whole `ccrup apply --yes` plus `status`, `plan --live` and `report`, each with
# zero errors and zero definite leaks (make deps installs valgrind).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind_happy: valgrind not installed: apt-get install valgrind" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/ccrup-vg.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"

vg() { # NAME ARGS...: run bin/ccrup under valgrind
	name=$1
	shift
	$VG bin/ccrup "$@" >"$tmp/$name.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		echo "ok - ccrup $name under valgrind"
	else
		fail=$((fail + 1))
		echo "not ok - ccrup $name under valgrind (exit $rc)"
		tail -n 40 "$tmp/$name.log"
	fi
}

# ccrsim itself under valgrind: its exit status at SIGTERM carries valgrind's verdict.
SIM_WRAPPER="$VG" sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
vg validate validate "$SIM_INV"
vg plan-live plan "$SIM_INV" --live --state-dir "$tmp/state"
vg apply apply "$SIM_INV" --yes --state-dir "$tmp/state"
vg status status "$SIM_INV" --state-dir "$tmp/state"
vg report report "$SIM_INV" --state-dir "$tmp/state" --html "$tmp/report.html"
kill "$SIM_PID"
wait "$SIM_PID"
rc=$?
SIM_PID=
if [ $rc = 0 ] && ! grep -q "definitely lost\|Invalid\|uninitialised" "$tmp/sim/ccrsim.log"; then
	pass=$((pass + 1))
	echo "ok - ccrsim under valgrind"
else
	fail=$((fail + 1))
	echo "not ok - ccrsim under valgrind (exit $rc)"
	tail -n 40 "$tmp/sim/ccrsim.log"
fi
echo "valgrind_happy: $pass passed, $fail failed"
[ "$fail" = 0 ]
