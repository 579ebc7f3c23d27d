#!/bin/sh
# The crash matrix: ccrup is killed with SIGKILL
#   (a) in the middle of every state-changing remote command of the whole SP1
#       sequence (the command is held by a ccrsim "hang" fault, ccrup is killed
#       while it waits, the fault is cleared), and
#   (b) right after every step's `done` record (a step boundary),
# then `ccrup resume --yes` must reach the same final world as an undisturbed
# run: both nodes and the CMS at SP1, CMS online, firewall back to DISABLED,
# one outage, each node rebooted exactly as often (a reboot is the one action
# that must never repeat), and a journal that `ccrup status` reads cleanly.
# SIM_TRANSPORT=winrm runs it all over WinRM (tests/integration/winrm.sh).
# CRASH_MATRIX_STATE=etcd keeps the journal and lock in a throwaway etcd
# (docs/state.md; one member on 127.0.0.1:12402-12403, lease TTL 2 s, a prefix
# per case); the resume then waits for the killed run's lease (--wait).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
. tests/lib/etcd.sh
tmp=$(mktemp -d /tmp/ccrup-crash.XXXXXX)
trap 'sim_stop; [ -n "${APID:-}" ] && kill -9 "$APID" 2>/dev/null; etcd_stop; rm -rf "$tmp"' EXIT INT TERM
ETCD_MODE=
if [ "${CRASH_MATRIX_STATE:-}" = etcd ]; then
	ETCD_MODE=1
	etcd_start "$tmp/etcd" 12400 1 || { echo "crash_matrix: etcd did not start"; exit 1; }
fi
# st DIR NAME: where a run keeps its state (a local directory, or an etcd prefix too)
st() {
	if [ -n "$ETCD_MODE" ]; then
		echo "--state-dir $1/state --state etcd://$ETCD_URLS/$2?ttl=2"
	else
		echo "--state-dir $1/state"
	fi
}
# journal_of DIR NAME: a file holding the run's journal (read from etcd when there)
journal_of() {
	if [ -n "$ETCD_MODE" ]; then
		ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URLS" --command-timeout=2s get --prefix \
			"$2/clusters/CLUS1/journal/" --print-value-only >"$1/journal.etcd" 2>/dev/null
		echo "$1/journal.etcd"
	else
		echo "$1/state/CLUS1/journal.jsonl"
	fi
}
scn=mock-nodes/scenarios/two-node.yml
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 15 "$2"; }

# An undisturbed run gives the begin records to attack and the reboot counts.
sim_start "$scn" 0 "$tmp/clean/sim"
# shellcheck disable=SC2046
bin/ccrup apply "$SIM_INV" --yes $(st "$tmp/clean" clean) >"$tmp/clean.log" 2>&1 ||
	{ ko "clean run" "$tmp/clean.log"; exit 1; }
if [ -n "$ETCD_MODE" ]; then # the same journal bytes, as a file
	bin/ccrup state export "$SIM_INV" --state "etcd://$ETCD_URLS/clean" --to "$tmp/clean/state" >/dev/null 2>&1 ||
		{ ko "export of the clean run"; exit 1; }
fi
epochs=$(sim_json "','.join('%s=%s' % (h['name'], h['boot_epoch']) for h in w['hosts'] if h['role'] == 'node')")
sim_stop
python3 - "$tmp/clean/state/CLUS1/journal.jsonl" >"$tmp/targets" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "begin" and r.get("node"):
        if r.get("command"):
            cmd = r["command"]
        elif "reboot" in r["step"]:
            cmd = "shutdown /r /t 0"
        else:
            continue  # a wait step: no command to hold

        # the fault matches a substring: the command's most distinctive part
        key = cmd
        for word in ("Stop-ClusteredMailboxServer", "Move-ClusteredMailboxServer", "/UpgradeCMS",
                     "/m:upgrade", "NetFx20SP1"):
            if word in cmd:
                key = word
        nth = seen[(r["node"], key)] = seen.get((r["node"], key), 0) + 1
        print("mid\t%s\t%s\t%s\t%d" % (r["step"], r["node"], key, nth))
    if r["event"] == "done" and r.get("node"):
        print("after\t%s\t%s\t-\t0" % (r["step"], r["node"]))
PY
# CRASH_MATRIX_EVERY=N keeps every Nth target (a representative subset, e.g. over WinRM).
if [ -n "${CRASH_MATRIX_EVERY:-}" ]; then
	awk -v n="$CRASH_MATRIX_EVERY" '(NR - 1) % n == 0' "$tmp/targets" >"$tmp/targets.sub"
	mv "$tmp/targets.sub" "$tmp/targets"
fi
echo "crash_matrix: $(grep -c '^mid' "$tmp/targets") commands, $(grep -c '^after' "$tmp/targets") step boundaries; reboots per node: $epochs"

# journal_has FILE EVENT STEP NODE

n=0
while IFS='	' read -r kind step node key nth; do
	n=$((n + 1))
	d="$tmp/$n"
	sim_start "$scn" 0 "$d/sim" || { ko "$kind $step: ccrsim"; continue; }
	if [ "$kind" = mid ]; then
		sim_ctl fault-add "$(python3 -c 'import json,sys; print(json.dumps({"host": sys.argv[1], "match": sys.argv[2], "nth": int(sys.argv[3]), "kind": "hang"}))' "$node" "$key" "$nth")" >/dev/null
		want=begin
	else
		want=done
	fi
	mkdir -p "$d"
	# shellcheck disable=SC2046
	bin/ccrup apply "$SIM_INV" --yes $(st "$d" "c$n") >"$d/apply.log" 2>&1 &
	APID=$!
	i=0
	while ! journal_has "$(journal_of "$d" "c$n")" "$want" "$step" "$node" && kill -0 "$APID" 2>/dev/null && [ $i -lt 3000 ]; do
		i=$((i + 1))
		sleep 0.01
	done
	[ "$kind" = mid ] && sleep 0.1
	kill -9 "$APID" 2>/dev/null
	wait "$APID" 2>/dev/null
	APID=
	sim_ctl fault-clear >/dev/null
	# shellcheck disable=SC2046
	bin/ccrup resume "$SIM_INV" --yes $(st "$d" "c$n") ${ETCD_MODE:+--wait} >"$d/resume.log" 2>&1
	rc=$?
	sim_ctl dump >"$d/world.json"
	sim_stop
	if [ $rc != 0 ]; then
		ko "kill $kind $step on $node: resume exited $rc" "$d/resume.log"
	elif ! python3 tests/lib/world.py "$d/world.json" converged CLUS1 8.1.240.6 DISABLED "$epochs" >"$d/check.log"; then
		ko "kill $kind $step on $node: $(cat "$d/check.log")" "$d/resume.log"
	elif ! bin/ccrup status "$SIM_INV" $(st "$d" "c$n") >/dev/null 2>"$d/status.err"; then
		ko "kill $kind $step on $node: status cannot read the journal" "$d/status.err"
	else
		ok
	fi
	rm -rf "$d"
done <"$tmp/targets"
echo "crash_matrix${ETCD_MODE:+ (etcd)}: $pass passed, $fail failed"
[ "$fail" = 0 ]
