#!/bin/sh
# The fault matrix: every step of ccr-sp1.yml that sends a command (every `begin`
# record of an undisturbed run that has a command, and the reboot steps, which
# send `shutdown /r /t 0`) meets every ccrsim fault kind -- fail (exit 5), hang,
# drop half-way through the output, slow output, and for reboot steps a restart
# that never returns and a changed host key -- each in a fresh ccrsim (time scale
# 0), against `ccrup apply --yes --max-timeout 3s` with 3 s command and 2 s
# connect timeouts.  Each case must end in its budget with the documented exit
# code and a message naming cluster, node, step and cause; `ccrup status -o json`
# must read the journal; the CMS may be offline only after a failure inside the
# outage window, and then `ccrup status` says OUTAGE ONGOING; once the fault is
# cleared (and a changed key accepted) `ccrup resume --yes` must reach the same
# world as the undisturbed run, reboot counts included.  The results table is
# written into a copy of docs/reliability.md (## Fault matrix) in $BUILD, and
# into docs/reliability.md itself only with FAULT_MATRIX_DOC=1 (so that `make
# check` leaves the work tree as it found it).  The cases themselves run
# in tests/lib/fault_matrix.py, several at once (FAULT_MATRIX_JOBS, default 4);
# FAULT_MATRIX_ONLY=REGEX runs only the cases whose "STEP NODE KIND" matches
# (the table is then left alone); FAULT_MATRIX_KEEP=1 keeps failed cases' files.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-fault.XXXXXX)
trap 'sim_stop; [ -z "${FAULT_MATRIX_KEEP:-}" ] && rm -rf "$tmp"' EXIT INT TERM
scn=mock-nodes/scenarios/two-node.yml

# The cases run copies of the binaries: the tree may be rebuilt while they run.
mkdir -p "$tmp/cases" "$tmp/bin"
cp bin/ccrup bin/ccrsim "$tmp/bin/" && "$tmp/bin/ccrup" --help >/dev/null 2>&1 ||
	{ echo "not ok - cannot copy bin/ccrup and bin/ccrsim"; exit 1; }
export CCRUP="$tmp/bin/ccrup" CCRSIM="$tmp/bin/ccrsim"

# An undisturbed run gives the steps to attack, their output sizes (for a drop
# half-way through), the reboot counts to expect, and the keys every case reuses.
sim_start "$scn" 0 "$tmp/clean/sim" || exit 1
"$CCRUP" apply "$SIM_INV" --yes --state-dir "$tmp/clean/state" >"$tmp/clean.log" 2>&1 ||
	{ echo "not ok - clean run"; tail -n 15 "$tmp/clean.log"; exit 1; }
epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
sim_stop
echo "fault_matrix: reboots per node in a clean run: $epochs"

if [ -n "${FAULT_MATRIX_ONLY:-}" ]; then
	python3 tests/lib/fault_matrix.py "$tmp/clean" "$tmp/cases" "$epochs" \
		--jobs "${FAULT_MATRIX_JOBS:-4}" --only "$FAULT_MATRIX_ONLY"
else
	doc=docs/reliability.md
	if [ "${FAULT_MATRIX_DOC:-0}" != 1 ]; then
		doc=${BUILD:-build}/reliability.md
		mkdir -p "$(dirname "$doc")" && cp docs/reliability.md "$doc"
	fi
	echo "fault_matrix: the table goes to $doc"
	python3 tests/lib/fault_matrix.py "$tmp/clean" "$tmp/cases" "$epochs" \
		--jobs "${FAULT_MATRIX_JOBS:-4}" --doc "$doc"
fi
rc=$?
[ -n "${FAULT_MATRIX_KEEP:-}" ] && echo "fault_matrix: files kept in $tmp"
exit $rc
