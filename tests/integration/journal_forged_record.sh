#!/bin/sh
# journal_forged_record.sh — a journal that passes its CRC but whose `record`
# events lack their name or value (or carry null) is refused by resume with
# exit 5 naming the line, never dereferenced (resume used to crash in the
# replay of recorded values).  status keeps reading it.  One real run against
# ccrsim gives a finished journal; each case appends one forged, CRC-valid
# record after its run-end (which reopens the run for resume).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/journal_forged.XXXXXX) || exit 1
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0
fail=0
check() {
	desc=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "ok - $desc"
	else
		fail=$((fail + 1))
		echo "not ok - $desc"
	fi
}
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
mkdir -m 700 "$tmp/state"
bin/ccrup apply "$SIM_INV" --yes -q --state-dir "$tmp/state" >"$tmp/apply.out" 2>&1
rc=$?
check "the run upgrades the cluster (exit $rc)" [ "$rc" = 0 ]
cp "$tmp/state/CLUS1/journal.jsonl" "$tmp/finished.jsonl"

# forge NAME JSON-MEMBERS: the finished journal plus one record event.
forge() {
	python3 - "$tmp/finished.jsonl" "$tmp/state/CLUS1/journal.jsonl" "$1" <<'PY'
import json, sys, zlib
src, dst, extra = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src).read().splitlines()
last = json.loads(lines[-1])
rec = {"seq": last["seq"] + 1, "time": last["time"], "run_id": last["run_id"],
       "event": "record", "step": "passive.firewall-start-type", "node": "NODE2"}
rec.update(json.loads(extra))
rec = {k: v for k, v in rec.items() if v != "@drop"}
b = json.dumps(rec, separators=(",", ":"))
with open(dst, "w") as f:
    f.write("\n".join(lines) + "\n" + b[:-1] + ',"crc":"%08x"}\n' % zlib.crc32(b.encode()))
print(len(lines) + 1)
PY
}

for case in '{"name":"firewall_start"}' '{"value":"DISABLED"}' '{"name":"firewall_start","value":null}' \
	'{"name":null,"value":"x"}' '{"name":"firewall_start","value":7}' '{"name":7,"value":"x"}' \
	'{"name":"firewall_start","value":"x","node":5}' '{"name":"firewall_start","value":"x","item":[1]}'; do
	line=$(forge "$case")
	bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/state" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "$case: resume exits 5 (got $rc)" [ "$rc" = 5 ]
	check "$case: the message names the file, line and member ($line)" grep -q "journal.jsonl:$line: .record. record: member \"[a-z]*\" " "$tmp/out" "$tmp/err"
	bin/ccrup status "$SIM_INV" --state-dir "$tmp/state" >"$tmp/st" 2>&1
	rc=$?
	check "$case: status does not crash (exit $rc < 128)" [ "$rc" -lt 128 ]
done

# A well-formed forged record is accepted by the replay (the control case).
forge '{"name":"firewall_start","value":"DISABLED"}' >/dev/null
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/state" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a well-formed record replays (resume does not exit 5: $rc)" [ "$rc" != 5 ] && [ "$rc" -lt 128 ]

echo "journal_forged_record: $pass passed, $fail failed"
[ "$fail" = 0 ]
