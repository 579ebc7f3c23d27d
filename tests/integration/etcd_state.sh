#!/bin/sh
# Shared state on a real 3-member etcd (docs/state.md), against ccrsim at time
# scale 0, two "orchestrator hosts" played by two state directories and
# working directories (A and B) on one etcd, lease TTL 3 s:
#   both        two applies at once on one cluster: exactly one runs, the other
#               exits 4 naming the holder and when its lock frees
#   status      status from B while A runs: running on A's host, no lock taken
#   kill        SIGKILL of A mid-command; B's `resume --wait` takes over once A's
#               lease expired and reaches the undisturbed world, no reboot repeated
#   stop        SIGSTOP A past its TTL; B resumes to the end; after SIGCONT A runs
#               no further command and exits 6 saying it lost the lock
#   leader      the etcd leader is killed mid-run: the run goes on (quorum kept)
#   quorum      two members killed mid-run: ccrup stops before its next remote
#               action (exit 6, clear message); with them back, resume finishes
# (leader and quorum run ccrsim at time scale 0.002, so the run lasts seconds)
#   export      state export to a directory and import into a new prefix: journal
#               bytes identical; status reads the imported copy
#   input       bad --state URLs and state: blocks: located errors, exit 2
#   auth        etcd with authentication on (a role granting only the prefix): a run
#               with password_file, status with password_env; a wrong password and a
#               password file others can read are refused; the password is in no file
# etcd members listen on 127.0.0.1:12200-12207 (and 12212-12213 for auth) and are
# stopped by PID.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
. tests/lib/etcd.sh
tmp=$(mktemp -d /tmp/ccrup-etcd.XXXXXX)
APID=
trap 'sim_stop; [ -n "$APID" ] && kill -9 "$APID" 2>/dev/null; etcd_stop; rm -rf "$tmp"' EXIT INT TERM
scn=mock-nodes/scenarios/two-node.yml
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2"; }

etcd_start "$tmp/etcd" 12200 3 || { echo "etcd_state: etcd did not start"; exit 1; }
n=0
# url: a fresh prefix per case, lease TTL 3 s
url() { echo "etcd://$ETCD_URLS/t$1?ttl=3"; }
# journal_has PREFIX EVENT STEP: the journal in etcd has such a record
journal_has() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URLS" --command-timeout=2s get --prefix "$1/clusters/CLUS1/journal/" \
		--print-value-only 2>/dev/null | grep -F "\"event\":\"$2\"" | grep -qF "\"step\":\"$3\""
}
# wait_for COND...: poll up to 10 s
wait_for() {
	_i=0
	while ! "$@"; do
		_i=$((_i + 1))
		[ $_i -gt 1000 ] && return 1
		sleep 0.01
	done
}
apply() { # apply DIR URL [args]: ccrup apply from working directory DIR
	_d=$1; _u=$2; shift 2
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$_d/state" --state "$_u" "$@"
}
# bg_apply DIR URL LOG: the same in the background; $! is ccrup's own pid
bg_apply() {
	(exec bin/ccrup apply "$SIM_INV" --yes --state-dir "$1/state" --state "$2" >"$3" 2>&1) &
}
resume() {
	_d=$1; _u=$2; shift 2
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$_d/state" --state "$_u" "$@"
}
converged() { # converged WORLD EPOCHS
	python3 tests/lib/world.py "$1" converged CLUS1 8.1.240.6 DISABLED "$2"
}

# An undisturbed run on etcd: the reference world (reboots per node).
sim_start "$scn" 0 "$tmp/clean/sim" || exit 1
if apply "$tmp/clean" "$(url clean)" >"$tmp/clean.log" 2>&1; then ok "undisturbed run on etcd"; else ko "undisturbed run on etcd" "$tmp/clean.log"; fi
epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
sim_stop

# both: two applies at once from two state clients; a slow first command keeps the winner busy.
sim_start "$scn" 0 "$tmp/both/sim" || exit 1
sim_ctl fault-add '{"host":"NODE1","match":"Get-ExchangeServer","kind":"slow","delay_ms":1500}' >/dev/null
bg_apply "$tmp/both/A" "$(url both)" "$tmp/both/A.log"
pa=$!
bg_apply "$tmp/both/B" "$(url both)" "$tmp/both/B.log"
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
sim_ctl dump >"$tmp/both/world.json"
sim_stop
loser=
[ "$ra" = 0 ] && [ "$rb" = 4 ] && loser=B
[ "$ra" = 4 ] && [ "$rb" = 0 ] && loser=A
if [ -z "$loser" ]; then
	ko "both: exits $ra and $rb, want 0 and 4" "$tmp/both/A.log"
elif ! grep -q "is locked by pid [0-9]* on host $(hostname)" "$tmp/both/$loser.log" ||
	! grep -q "the lock frees 3 s after that process stops" "$tmp/both/$loser.log"; then
	ko "both: the refusal does not name the holder and its TTL" "$tmp/both/$loser.log"
elif ! python3 tests/lib/world.py "$tmp/both/world.json" upgraded CLUS1 8.1.240.6 DISABLED >"$tmp/both/check"; then
	ko "both: $(cat "$tmp/both/check")"
else
	ok "both: one runs, the other exits 4 naming the holder"
fi

# status (B) while A holds the cluster in a hung command; then kill: SIGKILL A, B resumes.
sim_start "$scn" 0 "$tmp/kill/sim" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","nth":1,"kind":"hang"}' >/dev/null
bg_apply "$tmp/kill/A" "$(url kill)" "$tmp/kill/A.log"
APID=$!
wait_for journal_has "tkill" begin passive.setup || ko "kill: A never began passive.setup" "$tmp/kill/A.log"
sleep 0.2
bin/ccrup status "$SIM_INV" --state-dir "$tmp/kill/B/state" --state "$(url kill)" >"$tmp/kill/status.txt" 2>&1
if grep -q "CLUS1: running" "$tmp/kill/status.txt" && grep -q "running on host $(hostname): pid $APID" "$tmp/kill/status.txt"; then
	ok "status from another client shows the host and pid running the cluster"
else
	ko "status while A runs" "$tmp/kill/status.txt"
fi
resume "$tmp/kill/B" "$(url kill)" >"$tmp/kill/B0.log" 2>&1
rb=$?
if [ $rb = 4 ] && grep -q "frees 3 s after" "$tmp/kill/B0.log"; then ok "resume while A lives: exit 4"; else ko "resume while A lives: exit $rb" "$tmp/kill/B0.log"; fi
kill -9 "$APID"; wait "$APID" 2>/dev/null; APID=
t0=$(date +%s.%N)
sim_ctl fault-clear >/dev/null
resume "$tmp/kill/B" "$(url kill)" --wait >"$tmp/kill/B.log" 2>&1
rb=$?
t1=$(date +%s.%N)
sim_ctl dump >"$tmp/kill/world.json"
sim_stop
took=$(python3 -c "print('%.1f' % ($t1 - $t0))")
if [ $rb != 0 ]; then
	ko "kill: B's resume --wait exited $rb" "$tmp/kill/B.log"
elif ! grep -q "waiting for it (--wait)" "$tmp/kill/B.log"; then
	ko "kill: B did not say it waits for the lock" "$tmp/kill/B.log"
elif ! converged "$tmp/kill/world.json" "$epochs" >"$tmp/kill/check"; then
	ko "kill: $(cat "$tmp/kill/check")" "$tmp/kill/B.log"
else
	ok "kill: B took over A's run after the lease (${took}s) and reached the undisturbed world"
fi

# stop: SIGSTOP A past its TTL; B finishes; A, continued, does nothing more and exits 6.
sim_start "$scn" 0 "$tmp/stop/sim" || exit 1
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","nth":1,"kind":"slow","delay_ms":1500}' >/dev/null
bg_apply "$tmp/stop/A" "$(url stop)" "$tmp/stop/A.log"
APID=$!
wait_for journal_has "tstop" begin passive.setup || ko "stop: A never began passive.setup" "$tmp/stop/A.log"
kill -STOP "$APID"
resume "$tmp/stop/B" "$(url stop)" --wait >"$tmp/stop/B.log" 2>&1
rb=$?
sim_ctl dump >"$tmp/stop/world-B.json"
kill -CONT "$APID"
wait "$APID"; ra=$?; APID=
sim_ctl dump >"$tmp/stop/world.json"
sim_stop
if [ $rb != 0 ]; then
	ko "stop: B's resume exited $rb" "$tmp/stop/B.log"
elif [ $ra != 6 ] || ! grep -q "lost the lock on cluster CLUS1" "$tmp/stop/A.log"; then
	ko "stop: A exited $ra after SIGCONT, want 6 with 'lost the lock'" "$tmp/stop/A.log"
elif ! python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if [h["commands"] for h in a["hosts"]] == [h["commands"] for h in b["hosts"]] else 1)' "$tmp/stop/world-B.json" "$tmp/stop/world.json"; then
	ko "stop: A ran commands after SIGCONT" "$tmp/stop/A.log"
elif ! converged "$tmp/stop/world.json" "$epochs" >"$tmp/stop/check"; then
	ko "stop: $(cat "$tmp/stop/check")"
else
	ok "stop: a holder paused past its TTL takes no action after SIGCONT (exit 6); B finished"
fi

# leader: kill the etcd leader mid-run; the run continues.
sim_start "$scn" 0.002 "$tmp/leader/sim" || exit 1
bg_apply "$tmp/leader/A" "$(url leader)" "$tmp/leader/A.log"
APID=$!
wait_for journal_has "tleader" done preflight.lab-tested
ld=$(etcd_leader)
etcd_member_kill "$ld"
wait "$APID"; ra=$?; APID=
sim_ctl dump >"$tmp/leader/world.json"
sim_stop
etcd_member_start "$ld"
etcd_wait_healthy
if [ $ra = 0 ] && python3 tests/lib/world.py "$tmp/leader/world.json" upgraded CLUS1 8.1.240.6 DISABLED >"$tmp/leader/check"; then
	ok "leader: member $ld (the leader) killed mid-run, the run went on to the end"
else
	ko "leader: exit $ra $(cat "$tmp/leader/check" 2>/dev/null)" "$tmp/leader/A.log"
fi

# quorum: two members killed mid-run; ccrup stops (exit 6); back, resume finishes.
sim_start "$scn" 0.002 "$tmp/quorum/sim" || exit 1
bg_apply "$tmp/quorum/A" "$(url quorum)" "$tmp/quorum/A.log"
APID=$!
wait_for journal_has "tquorum" done preflight.lab-tested
etcd_member_kill 1
etcd_member_kill 2
wait "$APID"; ra=$?; APID=
sim_ctl dump >"$tmp/quorum/world-stop.json"
etcd_member_start 1
etcd_member_start 2
etcd_wait_healthy
resume "$tmp/quorum/A" "$(url quorum)" --wait >"$tmp/quorum/resume.log" 2>&1
rr=$?
sim_ctl dump >"$tmp/quorum/world.json"
sim_stop
if [ $ra != 6 ] || ! grep -q "lost the lock on cluster CLUS1" "$tmp/quorum/A.log" ||
	! grep -q "stopped before the next remote action" "$tmp/quorum/A.log"; then
	ko "quorum: exit $ra, want 6 with a clear message" "$tmp/quorum/A.log"
elif [ $rr != 0 ] || ! python3 tests/lib/world.py "$tmp/quorum/world.json" upgraded CLUS1 8.1.240.6 DISABLED >"$tmp/quorum/check"; then
	ko "quorum: resume exit $rr $(cat "$tmp/quorum/check" 2>/dev/null)" "$tmp/quorum/resume.log"
else
	ok "quorum: two members down, ccrup stopped (exit 6); they came back and resume finished"
fi

# export / import: the journals of the clean run, byte for byte.
exp="$tmp/export"
if bin/ccrup state export "$SIM_INV" --state "$(url clean)" --to "$exp" >"$tmp/export.log" 2>&1 &&
	bin/ccrup state import "$SIM_INV" --state "$(url imported)" --from "$exp" >>"$tmp/export.log" 2>&1 &&
	bin/ccrup state export "$SIM_INV" --state "$(url imported)" --to "$tmp/export2" >>"$tmp/export.log" 2>&1 &&
	diff -r "$exp" "$tmp/export2" >>"$tmp/export.log" 2>&1 &&
	[ -s "$exp/CLUS1/journal.jsonl" ] &&
	python3 tests/lib/journal_check.py "$exp/CLUS1/journal.jsonl" >>"$tmp/export.log" 2>&1 &&
	bin/ccrup status "$SIM_INV" --state "$(url imported)" --state-dir "$tmp/none" | grep -q "CLUS1: done"; then
	ok "export/import: journal bytes identical, CRCs valid, status reads the import"
else
	ko "export/import" "$tmp/export.log"
fi
if bin/ccrup state import "$SIM_INV" --state "$(url imported)" --from "$exp" >"$tmp/import2.log" 2>&1; then
	ko "import over an existing journal was accepted" "$tmp/import2.log"
elif grep -q "already has a journal" "$tmp/import2.log"; then
	ok "import refuses to overwrite a journal"
else
	ko "import over an existing journal: unclear message" "$tmp/import2.log"
fi

# input: URLs and state: blocks.
for bad in "etcd://127.0.0.1/x" "etcd://127.0.0.1:99999/x" "etcd://127.0.0.1:12202" "etcd://127.0.0.1:12202/a b" "http://x:1/p"; do
	bin/ccrup status "$SIM_INV" --state "$bad" >"$tmp/bad.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q "column [0-9]*:" "$tmp/bad.log"; then ok "--state '$bad': exit 2 with a column"; else ko "--state '$bad': exit $rc" "$tmp/bad.log"; fi
done
bin/ccrup status "$SIM_INV" --state "etcd://127.0.0.1:12298/x" >"$tmp/bad.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "cannot use etcd" "$tmp/bad.log"; then ok "unreachable etcd: exit 2 naming it"; else ko "unreachable etcd: exit $rc" "$tmp/bad.log"; fi
inv="$tmp/inv.yml"
mkinv() { cp "$SIM_INV" "$inv"; cat >>"$inv"; }
printf 'state:\n  endpoints: [%s]\n  prefix: /tclean\n  lease_ttl: 3s\n' "$(echo "$ETCD_URLS" | sed 's/,/, /g')" | mkinv
if bin/ccrup status "$inv" --state-dir "$tmp/none" 2>"$tmp/inv.err" | grep -q "CLUS1: done"; then ok "inventory state: block reaches etcd"; else ko "inventory state: block" "$tmp/inv.err"; fi
printf 'state:\n  endpoints: [127.0.0.1:12202]\n  prefix: /x\n  user: root\n  password: hunter2\n' | mkinv
bin/ccrup validate "$inv" >"$tmp/inv.log" 2>&1
rc=$?
line=$(grep -n '^  password:' "$inv" | cut -d: -f1)
if [ $rc = 2 ] && grep -q "inv.yml:$line:[0-9]*: .*never put the etcd password in the inventory" "$tmp/inv.log" && ! grep -q hunter2 "$tmp/inv.log"; then
	ok "a password in the inventory is refused at file:line:col"
else
	ko "password in the inventory: exit $rc" "$tmp/inv.log"
fi
printf 'state:\n  endpoints: [127.0.0.1:0]\n  prefix: /x\n' | mkinv
bin/ccrup validate "$inv" >"$tmp/inv.log" 2>&1
rc=$?
line=$(grep -n '^  endpoints:' "$inv" | cut -d: -f1)
if [ $rc = 2 ] && grep -q "inv.yml:$line:[0-9]*: .*not HOST:PORT" "$tmp/inv.log"; then ok "a bad endpoint is located"; else ko "bad endpoint: exit $rc" "$tmp/inv.log"; fi
# auth: a separate one-member etcd with authentication enabled.
sim_start "$scn" 0 "$tmp/auth/sim" || exit 1
etcd_stop
etcd_start "$tmp/etcd-auth" 12210 1 || exit 1
(
	export ETCDCTL_API=3
	e="--endpoints $ETCD_URLS"
	etcdctl $e user add root:rootpw && etcdctl $e user add ccrup:s3cret-pw &&
		etcdctl $e role add ccrup && etcdctl $e role grant-permission ccrup --prefix=true readwrite au/ &&
		etcdctl $e user grant-role ccrup ccrup && etcdctl $e auth enable
) >"$tmp/auth/setup.log" 2>&1
printf 's3cret-pw\n' >"$tmp/auth/pw"
chmod 600 "$tmp/auth/pw"
cp "$SIM_INV" "$tmp/auth/inv.yml"
printf 'state:\n  endpoints: [%s]\n  prefix: /au\n  user: ccrup\n  password_file: %s\n  lease_ttl: 3s\n' "$ETCD_URLS" "$tmp/auth/pw" >>"$tmp/auth/inv.yml"
bin/ccrup apply "$tmp/auth/inv.yml" --yes --state-dir "$tmp/auth/state" >"$tmp/auth/apply.log" 2>&1
ra=$?
sed "s|password_file: .*|password_env: CCRUP_TEST_ETCD_PW|" "$tmp/auth/inv.yml" >"$tmp/auth/inv-env.yml"
CCRUP_TEST_ETCD_PW=s3cret-pw bin/ccrup status "$tmp/auth/inv-env.yml" --state-dir "$tmp/auth/state" >"$tmp/auth/status.txt" 2>&1
printf 'wrong\n' >"$tmp/auth/pw"
bin/ccrup status "$tmp/auth/inv.yml" --state-dir "$tmp/auth/state" >"$tmp/auth/wrong.log" 2>&1
rw=$?
printf 's3cret-pw\n' >"$tmp/auth/pw"
chmod 644 "$tmp/auth/pw"
bin/ccrup status "$tmp/auth/inv.yml" --state-dir "$tmp/auth/state" >"$tmp/auth/mode.log" 2>&1
rm=$?
sim_stop
if [ $ra != 0 ] || ! grep -q "CLUS1: done" "$tmp/auth/status.txt"; then
	ko "auth: apply exit $ra; status with password_env" "$tmp/auth/apply.log"
	cat "$tmp/auth/status.txt" "$tmp/auth/setup.log"
elif [ $rw != 2 ] || ! grep -q "authentication failed" "$tmp/auth/wrong.log"; then
	ko "auth: a wrong password: exit $rw" "$tmp/auth/wrong.log"
elif [ $rm != 2 ] || ! grep -q "readable by group or others" "$tmp/auth/mode.log"; then
	ko "auth: a 0644 password file: exit $rm" "$tmp/auth/mode.log"
elif grep -rq "s3cret-pw" "$tmp/auth/state" "$tmp/auth/apply.log" "$tmp/auth/status.txt"; then
	ko "auth: the password appears in a state file or the output"
else
	ok "auth: runs with password_file and password_env; wrong or exposed passwords refused; the password is in no file"
fi
echo "etcd_state: $pass passed, $fail failed"
[ "$fail" = 0 ]
