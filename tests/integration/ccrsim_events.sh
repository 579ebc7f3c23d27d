#!/bin/sh
# ccrsim's events over real SSH (Debian's OpenSSH client): owner-crash-on-move.yml
# crashes the CMS owner when Move-ClusteredMailboxServer starts, in 10 runs out of
# 10; `ccrsim ctl event-add` schedules a crash at a world time and a set after a
# command; event-clear; the dump lists events and how often they fired.
# Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-events.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d"; fi; }
# sshx HOST CMD: stdin from /dev/null (an open stdin kept the session, and the test, waiting).
sshx() { sim_ssh "$1" "$2" </dev/null; }
EMS='powershell -NonInteractive -Command'
power() { sim_json "[h['power'] for h in w['hosts'] if h['name']=='$1'][0]"; }

# --- owner-crash-on-move.yml, 10 runs ---
good=0
for r in 1 2 3 4 5 6 7 8 9 10; do
	sim_start mock-nodes/scenarios/owner-crash-on-move.yml 0.01 "$tmp/r$r" || break
	sshx NODE1 "$EMS \"Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason x -Confirm:\$false\"" >/dev/null 2>&1
	before=$(power NODE1)
	sshx NODE2 "$EMS \"Move-ClusteredMailboxServer -Identity E2K7CCR -TargetMachine NODE2 -MoveComment x -Confirm:\$false\"" >/dev/null 2>&1
	after=$(sim_json "([h['power'] for h in w['hosts'] if h['name']=='NODE1'][0], w['events'][0]['fired'], [h['boot_epoch'] for h in w['hosts'] if h['name']=='NODE1'][0])")
	[ "$before" = up ] && [ "$after" = "('down', 1, 0)" ] && good=$((good + 1))
	sim_stop
done
check "owner-crash-on-move.yml: NODE1 (the owner) down when the move ran, event fired once: $good/10" [ "$good" = 10 ]

# --- ctl event-add / event-clear ---
sim_start mock-nodes/scenarios/two-node.yml 0.01 "$tmp/ctl" || exit 1
now=$(sim_json "w['now_ms']")
sim_ctl event-add "{\"at\": \"$(( (now + 1500) / 10 ))\", \"do\": \"crash\", \"host\": \"NODE2\"}" >/dev/null
check "event-add: a crash at a world time (listed with at_ms)" [ "$(sim_json "w['events'][0]['do']")" = crash ]
i=0
while [ "$(power NODE2)" = up ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the crash happened at its world time (NODE2 went down)" [ "$(sim_json "w['events'][0]['fired']")" = 1 ]
sim_ctl event-add '{"on": "sc query ClusSvc", "when": "after", "do": "set", "path": "NODE1.pending_reboot", "value": 1}' >/dev/null
sshx NODE1 'sc query ClusSvc' >"$tmp/out" 2>&1
check "after event: the command ran normally" grep -q 'SERVICE_NAME: ClusSvc' "$tmp/out"
check "after event: then the set applied" [ "$(sim_json "[h['pending_reboot'] for h in w['hosts'] if h['name']=='NODE1'][0]")" = True ]
bin/ccrsim ctl --state-dir "$SIM_DIR" event-add '{"at": 1, "do": "explode"}' >"$tmp/out" 2>&1
rc=$?
check "event-add refuses a bad event (exit 1, the reason)" sh -c "[ $rc = 1 ] && grep -q 'must be one of' '$tmp/out'"
sim_ctl event-clear >/dev/null
check "event-clear removes them" [ "$(sim_json "len(w['events'])")" = 0 ]
sim_stop

echo "ccrsim_events: $pass passed, $fail failed"
[ "$fail" = 0 ]
