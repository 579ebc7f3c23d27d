#!/bin/sh
# Every step of every shipped playbook says why it exists (guided mode shows it);
# validate warns, with FILE:LINE:COL, about a step that does not, and still exits 0; likewise
# about a `record` whose value no step reads afterwards (nothing puts it back).
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/ccrup-why.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

for pair in "ccr-sp1.yml inventory.example.yml" "linux-rolling-restart.yml inventory.linux.example.yml" \
	"ccr-rollup.yml inventory.rollup.example.yml" "ccr-sp.yml inventory.sp2.example.yml" \
	"ccr-sp.yml inventory.sp3.example.yml"; do
	set -- $pair
	bin/ccrup validate "playbooks/$2" -p "playbooks/$1" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 0 ] && ! grep -q warning "$tmp/err"; then ok "$1: no step without why"; else bad "$1 (exit $rc): $(cat "$tmp/err")"; fi
	# The plan agrees: every step instance carries a why.
	n=$(bin/ccrup plan "playbooks/$2" -p "playbooks/$1" -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
def steps(o):
    if isinstance(o, dict):
        if "index" in o and "id" in o and "kind" in o:
            yield o
        for v in o.values():
            yield from steps(v)
    elif isinstance(o, list):
        for v in o:
            yield from steps(v)
s = list(steps(d))
print(len(s), sum(1 for x in s if not x.get("why")))')
	set -- $n
	if [ "${1:-0}" -gt 0 ] && [ "${2:-1}" = 0 ]; then ok "$pair: $1 planned steps, all with why"; else bad "$pair: planned steps/without why: $n"; fi
done

# The whys speak to an administrator: a reference to Microsoft's procedure says "(procedure
# step N)", never a bare "(step N)" that reads as ccrup's own [22/110] numbering, and no
# project jargon ("the seed").
for pair in "ccr-sp1.yml inventory.example.yml" "ccr-rollup.yml inventory.rollup.example.yml" \
	"ccr-sp.yml inventory.sp2.example.yml"; do
	set -- $pair
	bad_whys=$(bin/ccrup plan "playbooks/$2" -p "playbooks/$1" -o json | python3 -c '
import json, re, sys
d = json.load(sys.stdin)
def whys(o):
    if isinstance(o, dict):
        if isinstance(o.get("why"), str):
            yield o["why"]
        for v in o.values():
            yield from whys(v)
    elif isinstance(o, list):
        for v in o:
            yield from whys(v)
for w in sorted(set(whys(d))):
    if re.search(r"(?<!procedure )\bsteps? [0-9]", w) or re.search(r"\bseed", w, re.I):
        print(w)')
	if [ -z "$bad_whys" ]; then ok "$1: whys cite the procedure's steps as (procedure step N), no jargon"; else bad "$1: $bad_whys"; fi
done

# A step without why: a located warning, exit 0.
sed '/^ *why: Restart/d; /^ *why: Picks up/d' playbooks/linux-rolling-restart.yml >"$tmp/pb.yml"
bin/ccrup validate playbooks/inventory.linux.example.yml -p "$tmp/pb.yml" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" = 0 ] && grep -q "^$tmp/pb.yml:[0-9]*:[0-9]*: warning: step rolling.restart has no \`why\`" "$tmp/err"; then
	ok "missing why: located warning, exit 0"
else
	bad "missing why (exit $rc): $(cat "$tmp/err")"
fi
# A record nothing reads afterwards (nothing puts the value back): a located warning, exit 0.
sed 's/saved\.firewall_start/saved.firewall_state/g' playbooks/ccr-sp1.yml >"$tmp/rec.yml"
bin/ccrup validate playbooks/inventory.example.yml -p "$tmp/rec.yml" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" = 0 ] && [ "$(grep -c warning "$tmp/err")" = 1 ] &&
	grep -q "^$tmp/rec.yml:[0-9]*:[0-9]*: warning: step passive.note-firewall-start records 'firewall_start' but no step reads saved.firewall_start afterwards" "$tmp/err"; then
	ok "unread record: one located warning, exit 0"
else
	bad "unread record (exit $rc): $(cat "$tmp/err")"
fi
echo "playbook_why: $pass passed, $fail failed"
[ "$fail" = 0 ]
