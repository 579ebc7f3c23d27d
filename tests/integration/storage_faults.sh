#!/bin/sh
# The journal cannot be written: ccrup must stop before its next remote action,
# with a clear message and exit 5, and lose nothing: the journal still replays
# (`ccrup status`), and once the cause is fixed `ccrup resume --yes` completes the
# upgrade (ccrsim on loopback, the whole SP1 procedure).  Real failures only:
#   (a) file size limit   RLIMIT_FSIZE: `ulimit -f` (512-byte blocks) so the journal
#                         hits it mid-run (EFBIG, SIGXFSZ ignored); and a limit a few
#                         bytes past a journal's end, so the first record of a
#                         `resume` - the `begin` of the step to retry - cannot be written
#   (b) read-only         an ext4 image on a loop device: `chattr +i` on journal.jsonl
#                         (EPERM), then the file system forced read-only by an ext4
#                         error with errors=remount-ro (EROFS), both while setup runs
#   (c) disk full         a 1 MiB tmpfs filled with dd while setup runs (ENOSPC)
# Every case checks the world through `ccrsim -v`'s command log: each state-changing
# command has its `begin` record, and the action after the failing write was not run.
# Needs root (mount, losetup, chattr); mounts live in a private mount namespace.
set -u
cd "$(dirname "$0")/../.."
if [ -z "${CCRUP_STORAGE_NS:-}" ] && unshare -m --propagation private true 2>/dev/null; then
	CCRUP_STORAGE_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-storage.XXXXXX)
APID=
LOOPDEV=
cleanup() {
	[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null
	sim_stop
	[ -f "$tmp/ro/b2/state/CLUS1/journal.jsonl" ] && chattr -i "$tmp/ro/b2/state/CLUS1/journal.jsonl" 2>/dev/null
	mountpoint -q "$tmp/ro" 2>/dev/null && umount "$tmp/ro"
	mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && grep -v 'audit log' "$2" | tail -n 15; }
scn=mock-nodes/scenarios/two-node.yml
target=8.1.240.6

# journal_has FILE EVENT STEP NODE

# stopped NAME LOG STATE ERRNO_TEXT RC: the run stopped cleanly on the failed write
stopped() {
	_j=$3/CLUS1/journal.jsonl
	if [ "$5" != 5 ]; then
		ko "$1: exit $5, want 5" "$2"
		return 1
	fi
	if ! grep -q "cannot write the journal: [a-z]* $_j: $4.*stopping before any further remote action" "$2"; then
		ko "$1: no clear message naming the journal and '$4'" "$2"
		return 1
	fi
	if ! python3 tests/lib/journal_check.py "$_j" >"$2.jc" 2>&1 ||
		! bin/ccrup status "$SIM_INV" --state-dir "$3" >"$2.status" 2>&1; then
		ko "$1: the journal does not replay after the failure" "$2.jc"
		cat "$2.status"
		return 1
	fi
	if ! python3 tests/lib/writeahead.py "$_j" "$SIM_DIR/ccrsim.log" "$clean" >"$2.wa" 2>&1; then
		ko "$1: write-ahead broken" "$2.wa"
		return 1
	fi
	ok "$1: exit 5, '$4' named; journal valid, status reads it; $(tail -n 1 "$2.wa")"
}

# resumed NAME STATE LOG: after the fix, resume completes and the world converged
resumed() {
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$2" >"$3.resume.log" 2>&1
	_rc=$?
	sim_ctl dump >"$3.world.json"
	if [ $_rc = 0 ] && python3 tests/lib/world.py "$3.world.json" converged CLUS1 "$target" DISABLED "$epochs" >"$3.wc" &&
		python3 tests/lib/journal_check.py "$2/CLUS1/journal.jsonl" --done >>"$3.wc" &&
		bin/ccrup status "$SIM_INV" --state-dir "$2" >/dev/null 2>&1; then
		ok "$1: after the fix, resume --yes completes: cluster at $target, each node rebooted once per planned reboot, journal done"
	else
		ko "$1: resume exited $_rc; $(cat "$3.wc" 2>/dev/null)" "$3.resume.log"
	fi
}

# background_until LOG STATE STEP NODE: apply in the background until STEP's begin on NODE
background_until() {
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$2" >"$1" 2>&1 &
	APID=$!
	wait_begin "$2/CLUS1/journal.jsonl" "$3" "$4"
}

finish() {
	wait "$APID"
	_rc=$?
	APID=
	return $_rc
}

# ---- the reference: an undisturbed run gives the order of actions and the reboots ----
sim_start "$scn" 0 "$tmp/s0" || { echo "storage_faults: ccrsim did not start"; exit 1; }
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/clean" >"$tmp/clean.log" 2>&1 || { ko "reference run" "$tmp/clean.log"; exit 1; }
clean=$tmp/clean/CLUS1/journal.jsonl
epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
full=$(stat -c %s "$clean")
sim_stop

# ---- (a) RLIMIT_FSIZE ----
sim_start "$scn" 0 "$tmp/s1" -v || exit 1
blocks=$((full / 2 / 512))
# ccrup's output goes through a pipe: the limit applies to every file ccrup writes,
# and a log file of its own output would be cut before the message under test.
{
	sh -c 'ulimit -f "$1" && shift && exec "$@"' sh "$blocks" \
		bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/a1" 2>&1
	echo $? >"$tmp/a1.rc"
} | cat >"$tmp/a1.log"
rc=$(cat "$tmp/a1.rc")
stopped "(a) ulimit -f $blocks ($((blocks * 512)) bytes, the journal's half)" "$tmp/a1.log" "$tmp/a1" "File too large" $rc &&
	resumed "(a) ulimit -f" "$tmp/a1" "$tmp/a1"
sim_stop

# A limit 10 bytes past the journal of a failed run: the resume's first record, the
# `begin` of the step it retries, is cut short (EFBIG) and taken back; setup must not run.
sim_start "$scn" 0 "$tmp/s2" -v || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"fail","exit":1,"message":"Setup failed (simulated)","count":1}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/a2" >"$tmp/a2.first.log" 2>&1
rc=$?
j=$tmp/a2/CLUS1/journal.jsonl
cp "$j" "$tmp/a2.before"
size=$(stat -c %s "$j")
{
	python3 -c 'import os, resource, sys
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
os.execv(sys.argv[2], sys.argv[2:])' $((size + 10)) bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/a2" 2>&1
	echo $? >"$tmp/a2.rc"
} | cat >"$tmp/a2.log"
rc2=$(cat "$tmp/a2.rc")
n=$(grep -c 'exec "D:\\Exchange2007SP1\\setup.com" /m:upgrade' "$SIM_DIR/ccrsim.log")
if [ $rc = 1 ] && [ $rc2 = 5 ] && cmp -s "$j" "$tmp/a2.before" && [ "$n" = 1 ] &&
	grep -q "passive.setup on NODE2: warning: cannot write the journal: write $j: File too large" "$tmp/a2.log"; then
	ok "(a) the begin record of the retried setup cannot be written: exit 5, journal byte for byte as before (the partial line cut back), setup not sent"
else
	ko "(a) begin cut short: apply $rc (want 1), resume $rc2 (want 5), setup sent $n times (want 1)" "$tmp/a2.log"
fi
stopped "(a) begin cut short" "$tmp/a2.log" "$tmp/a2" "File too large" $rc2 && resumed "(a) begin cut short" "$tmp/a2" "$tmp/a2"
sim_stop

# SIGXFSZ must not kill ccrup (its default action would, exit 153, before any message);
# the audit log, which hits the limit first, says why it cannot write (not a stale errno).
if grep -q "File size limit exceeded" "$tmp/a1.log" "$tmp/a2.log"; then
	ko "(a) ccrup was killed by SIGXFSZ"
elif grep 'audit log of CLUS1: write:' "$tmp/a1.log" | grep -qv 'write: File too large$'; then
	ko "(a) audit log write failures misreported: $(grep 'audit log' "$tmp/a1.log" | grep -v 'File too large$' | head -n 1)"
else
	ok "(a) not killed by SIGXFSZ; the audit log's own failures say 'File too large' ($(grep -c 'audit log' "$tmp/a1.log") warnings)"
fi

# ---- (b) read-only: an ext4 file system on a loop device ----
mkdir -p "$tmp/ro"
if ! truncate -s 16M "$tmp/ext4.img" || ! mkfs.ext4 -q -F "$tmp/ext4.img" ||
	! LOOPDEV=$(losetup -f --show "$tmp/ext4.img") || ! mount -o errors=remount-ro "$LOOPDEV" "$tmp/ro"; then
	ko "(b) cannot set up an ext4 file system on a loop device (needs root, losetup, mkfs.ext4)"
	LOOPDEV=${LOOPDEV:-}
else
	sim_start "$scn" 0.001 "$tmp/s3" -v || exit 1
	# (b1) the journal file made immutable while setup runs on NODE2: EPERM
	st=$tmp/ro/b2/state
	mkdir -p "$st" && chmod -R 0700 "$tmp/ro/b2"
	if background_until "$tmp/b1.log" "$st" passive.setup NODE2; then
		chattr +i "$st/CLUS1/journal.jsonl"
		finish
		rc=$?
		stopped "(b1) chattr +i journal.jsonl while setup runs" "$tmp/b1.log" "$st" "Operation not permitted" $rc
		chattr -i "$st/CLUS1/journal.jsonl"
		resumed "(b1) chattr +i" "$st" "$tmp/b1"
	else
		finish
		ko "(b1) the run never began setup on NODE2" "$tmp/b1.log"
	fi
	sim_stop

	# (b2) the file system turns read-only (an ext4 error, errors=remount-ro): EROFS
	sim_start "$scn" 0.001 "$tmp/s4" -v || exit 1
	st=$tmp/ro/b3/state
	mkdir -p "$st" && chmod -R 0700 "$tmp/ro/b3"
	if background_until "$tmp/b2.log" "$st" passive.setup NODE2; then
		echo "storage_faults test" >"/sys/fs/ext4/$(basename "$LOOPDEV")/trigger_fs_error"
		finish
		rc=$?
		if touch "$tmp/ro/probe" 2>"$tmp/b2.touch"; then
			ko "(b2) the ext4 error did not make the file system read-only"
		else
			stopped "(b2) file system turned read-only while setup runs" "$tmp/b2.log" "$st" "Read-only file system" $rc
		fi
		# the fix: unmount, fsck, mount again
		umount "$tmp/ro" && e2fsck -fy "$tmp/ext4.img" >"$tmp/fsck.log" 2>&1
		[ $? -le 1 ] && mount -o errors=remount-ro "$LOOPDEV" "$tmp/ro" || ko "(b2) fsck and remount" "$tmp/fsck.log"
		resumed "(b2) read-only file system" "$st" "$tmp/b2"
	else
		finish
		ko "(b2) the run never began setup on NODE2" "$tmp/b2.log"
	fi
	sim_stop
fi

# ---- (c) disk full: a small tmpfs filled while setup runs ----
mkdir -p "$tmp/full"
if ! mount -t tmpfs -o size=1m,mode=0700 ccrup-test "$tmp/full"; then
	ko "(c) cannot mount a tmpfs (needs root)"
else
	sim_start "$scn" 0.001 "$tmp/s5" -v || exit 1
	st=$tmp/full/state
	mkdir -m 0700 "$st"
	if background_until "$tmp/c.log" "$st" passive.setup NODE2; then
		dd if=/dev/zero of="$tmp/full/filler" bs=4k >/dev/null 2>&1
		df -k "$tmp/full" | awk 'NR == 2 && $4 != 0 {exit 1}' || ko "(c) the tmpfs is not full"
		finish
		rc=$?
		stopped "(c) disk full while setup runs" "$tmp/c.log" "$st" "No space left on device" $rc
		rm -f "$tmp/full/filler"
		resumed "(c) disk full" "$st" "$tmp/c"
	else
		finish
		ko "(c) the run never began setup on NODE2" "$tmp/c.log"
	fi
	sim_stop
fi

echo "storage_faults: $pass passed, $fail failed"
[ "$fail" = 0 ]
