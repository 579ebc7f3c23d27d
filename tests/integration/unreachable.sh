#!/bin/sh
# Connection errors name every host that failed, in plain words: with a key no node
# accepts, apply says "cannot reach NODE1 (ADDR:PORT): authentication failed ..." for each
# member (not an expression and its fact), exits 1 and changes nothing.  (A changed host
# key names the known_hosts file and line of the old entry: check_xport.)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-unreach.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other_key"
sed "s|identity: .*|identity: $tmp/other_key|" "$SIM_INV" >"$tmp/badkey.yml"
bin/ccrup apply "$tmp/badkey.yml" --yes --state-dir "$tmp/st" >"$tmp/a.log" 2>&1
rc=$?
n=$(grep -o "cannot reach NODE[12] ([0-9.]*:[0-9]*): authentication failed for user administrator (tried $tmp/other_key (not accepted))" "$tmp/a.log" | sort -u | wc -l)
if [ $rc = 1 ] && [ "$n" = 2 ] && grep -q "of 3 hosts of cluster CLUS1" "$tmp/a.log"; then
	ok "a key nobody accepts: every member named with its address and the key tried"
else
	ko "bad key (exit $rc, $n hosts named)" "$tmp/a.log"
fi
if grep -q "cms_owner == node" "$tmp/a.log"; then ko "the expression jargon is still there" "$tmp/a.log"; else ok "no expression jargon"; fi
sim_ctl dump >"$tmp/w.json"
python3 tests/lib/world.py "$tmp/w.json" count NODE2 "setup.com" 0 && ok "nothing ran" || ko "something ran"

echo "unreachable: $pass passed, $fail failed"
[ "$fail" = 0 ]
