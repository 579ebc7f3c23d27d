#!/bin/sh
# Resume after an inventory edit (issue 10, defect 5): a change to how the
# hosts are reached (the key path, ssh:, address, port, user, winrm_*) is not a
# changed plan, so resume goes on; a change to a cluster, role or var still is:
# exit 5 naming the file and what kind of change it was.
#   key       a failed run, the identity moved and the inventory fixed: resume finishes
#   var       a failed run, a var changed: resume refused, exit 5, nothing journaled
#   old       a journal without inventory_plan_sha256 keeps the strict rule (exit 5)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-resinv.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 15 "$2"; }
scn=mock-nodes/scenarios/two-node.yml
fault() { # fault HOST MATCH KIND
	sim_ctl fault-add "$(python3 -c 'import json,sys; print(json.dumps({"host": sys.argv[1], "match": sys.argv[2], "kind": sys.argv[3]}))' "$1" "$2" "$3")" >/dev/null
}
failed_run() { # failed_run STATEDIR: an apply that fails at passive.setup on NODE2
	sim_ctl fault-clear >/dev/null
	fault NODE2 "setup.com /m:upgrade" fail
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$1" >"$1.apply.log" 2>&1
	_rc=$?
	sim_ctl fault-clear >/dev/null
	return $_rc
}

fresh() { # fresh NAME: a new simulated cluster, not yet upgraded
	sim_stop
	sim_start "$scn" 0 "$tmp/s-$1" || { echo "resume_inventory: ccrsim did not start"; exit 1; }
	key=$SIM_DIR/client_ed25519
}
mkdir -p "$tmp/keys"

# ---- key: the identity file moved; the inventory names the new path ----
fresh key
st=$tmp/st-key
failed_run "$st"
rc=$?
inv=$tmp/inv-key.yml
cp "$key" "$tmp/keys/id" && chmod 600 "$tmp/keys/id"
sed -e "s|identity: $key|identity: $tmp/keys/id|" -e 's|connect_timeout: 10s|connect_timeout: 20s|' \
	"$SIM_INV" >"$inv"
if [ $rc -ne 0 ] && ! cmp -s "$inv" "$SIM_INV" && grep -q "identity: $tmp/keys/id" "$inv"; then
	bin/ccrup resume "$inv" --yes --state-dir "$st" >"$tmp/key.log" 2>&1
	rc2=$?
	if [ $rc2 -eq 0 ] && grep -q "changed only in how the hosts are reached" "$tmp/key.log"; then
		ok "key: resume after fixing the identity path and ssh: finishes (exit 0)"
	else
		ko "key: resume after fixing the identity path exited $rc2" "$tmp/key.log"
	fi
else
	ko "key: setup (apply rc $rc)" "$st.apply.log"
fi

# ---- var: a real change is still refused ----
fresh var
st=$tmp/st-var
failed_run "$st"
rc=$?
inv=$tmp/inv-var.yml
sed -e "s|owa_url: '|owa_url: 'http://127.0.0.1:1/x' #|" "$SIM_INV" >"$inv"
n0=$(wc -l <"$st/CLUS1/journal.jsonl")
bin/ccrup resume "$inv" --yes --state-dir "$st" >"$tmp/var.log" 2>&1
rc2=$?
n1=$(wc -l <"$st/CLUS1/journal.jsonl")
if [ $rc -ne 0 ] && [ $rc2 -eq 5 ] && grep -q "inv-var.yml changed since this run started in more than how the hosts are reached" "$tmp/var.log" &&
	[ "$n0" = "$n1" ]; then
	ok "var: a changed var is refused, exit 5, naming the file and the kind of change"
else
	ko "var: resume exited $rc2 (apply $rc, journal $n0 -> $n1 lines)" "$tmp/var.log"
fi

# ---- old: a journal written before inventory_plan_sha256 compares the whole file ----
fresh old
st=$tmp/st-old
failed_run "$st"
rc=$?
j=$st/CLUS1/journal.jsonl
# The first record without inventory_plan_sha256, its CRC recomputed (jrecord.c: the CRC-32
# of the line without its crc member).
python3 - "$j" <<'PY'
import json, sys, zlib
p = sys.argv[1]
lines = open(p).read().splitlines()
r = json.loads(lines[0])
r.pop("inventory_plan_sha256")
r.pop("crc")
body = json.dumps(r, separators=(",", ":"), ensure_ascii=False)
lines[0] = body[:-1] + ',"crc":"%08x"}' % (zlib.crc32(body.encode()) & 0xffffffff)
open(p, "w").write("\n".join(lines) + "\n")
PY
inv=$tmp/inv-old.yml
cp "$key" "$tmp/keys/id2" && chmod 600 "$tmp/keys/id2"
sed -e "s|identity: $key|identity: $tmp/keys/id2|" "$SIM_INV" >"$inv"
bin/ccrup resume "$inv" --yes --state-dir "$st" >"$tmp/old.log" 2>&1
rc2=$?
if [ $rc -ne 0 ] && [ $rc2 -eq 5 ] && grep -q "inv-old.yml changed since this run started (sha256" "$tmp/old.log"; then
	ok "old: a journal without the plan digest keeps the strict comparison (exit 5)"
else
	ko "old: resume exited $rc2" "$tmp/old.log"
fi

echo "resume_inventory: $pass passed, $fail failed"
[ $fail -eq 0 ]
