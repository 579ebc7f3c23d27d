#!/bin/sh
# Security properties of ccrup, against ccrsim on loopback (time scale 0):
#   host keys   an unknown key is refused (host and fingerprint named, nothing changed);
#               --trust-new-hosts records it atomically (0600, other lines kept, a
#               second run without the flag connects); a changed key is refused even
#               with --trust-new-hosts, with both fingerprints
#   secrets     CCRUP_KEY_PASSPHRASE (the passphrase of the encrypted client key actually
#               used) and a password-like variable never reach the journal, the audit
#               log, the report, status or the terminal, even when a node prints them
#   state       files 0600 and directories 0700 whatever the umask; a state or cluster
#               directory writable by others is refused (exit 2)
#   auth        ccrsim refuses password, keyboard-interactive and none (OpenSSH client)
#   input       an inventory value with shell metacharacters is refused by validate
#               and apply (exit 2, FILE:LINE:COL) before any connection
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-sec.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }
scn=mock-nodes/scenarios/two-node.yml
ssh_base() { echo "-F /dev/null -o BatchMode=yes -o UserKnownHostsFile=$SIM_DIR/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o ConnectTimeout=5"; }

# port_of HOST: the host's port in the generated inventory
port_of() { awk -v h="  $1:" '$0 == h {f = 1} f && /port:/ {print $2; exit}' "$SIM_INV"; }
# fp_of FILE: the SHA256 fingerprint of the first key in a known_hosts-format file
fp_of() { ssh-keygen -lf "$1" | awk '{print $2; exit}'; }
mode_of() { stat -c %a "$1"; }

# ---------------------------------------------------------------- host keys
d=$tmp/hk
sim_start "$scn" 0 "$d/sim" || { echo "security: ccrsim did not start"; exit 1; }
p1=$(port_of NODE1)
p2=$(port_of NODE2)
kh=$SIM_DIR/known_hosts
cp "$kh" "$d/kh.orig"
grep -F "[127.0.0.1]:$p2 " "$d/kh.orig" >"$d/node2.line"
fp2=$(fp_of "$d/node2.line")
grep -vF "[127.0.0.1]:$p2 " "$d/kh.orig" >"$kh"
chmod 0600 "$kh"
cp "$kh" "$d/kh.without"
sim_ctl dump >"$d/w0.json"

bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/state1" >"$d/unknown.log" 2>&1
rc=$?
sim_ctl dump >"$d/w1.json"
if [ $rc != 0 ] && grep -q "host key for NODE2 (127.0.0.1:$p2) is not known" "$d/unknown.log" &&
	grep -qF "$fp2" "$d/unknown.log" && grep -q -- "--trust-new-hosts" "$d/unknown.log"; then
	ok "unknown host key: refused (exit $rc) naming NODE2 and its fingerprint $fp2"
else
	ko "unknown host key: exit $rc, message" "$d/unknown.log"
fi
if python3 tests/lib/world_delta.py "$d/w0.json" "$d/w1.json" any NODE2 >"$d/delta1" &&
	python3 tests/lib/world.py "$d/w1.json" untouched CLUS1 && cmp -s "$kh" "$d/kh.without"; then
	ok "unknown host key: no command reached NODE2, nothing changed anywhere, known_hosts untouched"
else
	ko "unknown host key: the world or known_hosts changed" "$d/delta1"
fi

ino0=$(stat -c %i "$kh")
(umask 022 && bin/ccrup apply "$SIM_INV" --yes --trust-new-hosts --state-dir "$d/state2" >"$d/trust.log" 2>&1)
rc=$?
want=$(cut -d' ' -f1-3 "$d/node2.line")
if [ $rc = 0 ] && [ "$(mode_of "$kh")" = 600 ] && grep -qxF "$want" "$kh" &&
	[ "$(head -n "$(wc -l <"$d/kh.without")" "$kh" | cksum)" = "$(cksum <"$d/kh.without")" ] &&
	[ "$(wc -l <"$kh")" = $(($(wc -l <"$d/kh.without") + 1)) ]; then
	ok "--trust-new-hosts: the run completes; NODE2's key appended (mode 0600 under umask 022, other lines kept byte for byte)"
else
	ko "--trust-new-hosts: exit $rc, mode $(mode_of "$kh")" "$d/trust.log"
	cat "$kh"
fi
if [ "$(stat -c %i "$kh")" != "$ino0" ] && [ -z "$(find "$SIM_DIR" -maxdepth 1 -name '*known_hosts?*' ! -name known_hosts)" ]; then
	ok "--trust-new-hosts: known_hosts replaced by rename (new inode), no temporary file left"
else
	ko "--trust-new-hosts: not replaced atomically (inode $ino0 -> $(stat -c %i "$kh"))"
	ls -la "$SIM_DIR"
fi
if bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/state3" >"$d/again.log" 2>&1 &&
	! grep -q "not known" "$d/again.log"; then
	ok "a second run without --trust-new-hosts connects to every node"
else
	ko "second run without the flag" "$d/again.log"
fi

# ccrsim offers publickey only.
for m in password keyboard-interactive none; do
	# shellcheck disable=SC2046
	ssh -v $(ssh_base) -o PreferredAuthentications=$m -o PubkeyAuthentication=no -p "$p1" administrator@127.0.0.1 true >"$d/auth-$m.log" 2>&1
	rc=$?
	if [ $rc = 255 ] && grep -q "Permission denied (publickey)" "$d/auth-$m.log" &&
		! grep -q "Authenticated to" "$d/auth-$m.log"; then
		ok "ccrsim refuses $m authentication (OpenSSH: Permission denied (publickey))"
	else
		ko "ccrsim and $m authentication: ssh exited $rc" "$d/auth-$m.log"
	fi
done
# A changed key: NODE2 comes back from a reboot with a new host key.
cp "$kh" "$d/kh.before-change"
sim_ctl fault-add '{"host":"NODE2","kind":"new-hostkey"}' >/dev/null
# shellcheck disable=SC2046
ssh $(ssh_base) -i "$SIM_DIR/client_ed25519" -p "$p2" administrator@127.0.0.1 'shutdown /r /t 0' >/dev/null 2>&1
i=0
fpn=$fp2
while [ "$fpn" = "$fp2" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
	ssh-keyscan -t ed25519 -p "$p2" 127.0.0.1 >"$d/newkey" 2>/dev/null && fpn=$(fp_of "$d/newkey")
done
sim_ctl dump >"$d/w2.json"
bin/ccrup apply "$SIM_INV" --yes --trust-new-hosts --state-dir "$d/state4" >"$d/changed.log" 2>&1
rc=$?
sim_ctl dump >"$d/w3.json"
if [ "$fpn" != "$fp2" ] && [ $rc != 0 ] && grep -q "host key for NODE2 (127.0.0.1:$p2) has CHANGED" "$d/changed.log" &&
	grep -qF "known_hosts has $fp2" "$d/changed.log" && grep -qF "server offered $fpn" "$d/changed.log"; then
	ok "changed host key: refused even with --trust-new-hosts (exit $rc), both fingerprints named"
else
	ko "changed host key: exit $rc, old $fp2 new $fpn" "$d/changed.log"
fi
if cmp -s "$kh" "$d/kh.before-change" && python3 tests/lib/world_delta.py "$d/w2.json" "$d/w3.json" any NODE2 >"$d/delta3" &&
	python3 tests/lib/world_delta.py "$d/w2.json" "$d/w3.json" changing >>"$d/delta3"; then
	ok "changed host key: known_hosts untouched, no command reached NODE2, nothing changed"
else
	ko "changed host key: side effects" "$d/delta3"
fi

sim_stop

# ---------------------------------------------------------------- secrets and modes
d=$tmp/sec
mkdir -p "$d"
secret1=s3cret-passphrase-xyz
secret2=hunter2-zz
ssh-keygen -q -t ed25519 -N "$secret1" -C ccrup-test-encrypted -f "$d/enc_key" </dev/null
cp "$d/enc_key.pub" "$d/authorized_keys"
sim_start "$scn" 0 "$d/sim" --authorized-keys "$d/authorized_keys" || { echo "security: ccrsim did not start"; exit 1; }
# The generated inventory has no identity with --authorized-keys: ours is encrypted.
sed -i "s|^  user: administrator\$|&\n  identity: $d/enc_key|" "$SIM_INV"
# The node prints both secrets when setup fails (once): they must not travel further.
sim_ctl fault-add "{\"host\":\"NODE2\",\"match\":\"/m:upgrade\",\"kind\":\"fail\",\"exit\":1,\"count\":1,\"message\":\"setup: connecting with password $secret2 (key $secret1) failed\"}" >/dev/null
export CCRUP_KEY_PASSPHRASE="$secret1" SOME_PASSWORD="$secret2"
(umask 000 && bin/ccrup apply "$SIM_INV" --yes -vv --state-dir "$d/state" >"$d/out1.log" 2>&1)
rc1=$?
(umask 000 && bin/ccrup status "$SIM_INV" --state-dir "$d/state" >"$d/out2.log" 2>&1)
(umask 000 && bin/ccrup resume "$SIM_INV" --yes -vv --state-dir "$d/state" >"$d/out3.log" 2>&1)
rc3=$?
(umask 000 && bin/ccrup status "$SIM_INV" --state-dir "$d/state" -o json >"$d/out4.log" 2>&1)
(umask 000 && bin/ccrup report "$SIM_INV" --state-dir "$d/state" >"$d/out5.log" 2>&1)
CCRUP_KEY_PASSPHRASE=not-the-passphrase-q1 bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/state-wrong" >"$d/out6.log" 2>&1
rc6=$?
env -u CCRUP_KEY_PASSPHRASE bin/ccrup plan "$SIM_INV" --live -o json >"$d/out7.log" 2>&1
rc7=$?
unset CCRUP_KEY_PASSPHRASE SOME_PASSWORD
sim_stop
if [ $rc1 = 1 ] && grep -q "\[REDACTED\]" "$d/out1.log" && [ $rc3 = 0 ]; then
	ok "the encrypted key is used with \$CCRUP_KEY_PASSPHRASE; setup's failure (printing both secrets) shown redacted; resume completes"
else
	ko "secrets run: apply exited $rc1 (want 1), resume $rc3 (want 0)" "$d/out1.log"
fi
if [ $rc6 != 0 ] && grep -q "wrong passphrase" "$d/out6.log" && [ $rc7 != 0 ]; then
	ok "a wrong or missing passphrase: authentication fails, said plainly"
else
	ko "wrong passphrase: apply exited $rc6, plan without it $rc7" "$d/out6.log"
fi
leaks=$(grep -rlF -e "$secret1" -e "$secret2" "$d/state" "$d/state-wrong" "$d"/out*.log 2>/dev/null)
nfiles=$(find "$d/state" "$d/state-wrong" -type f | wc -l)
if [ -z "$leaks" ] && grep -q REDACTED "$d/state/CLUS1/journal.jsonl" && grep -q REDACTED "$d/state/CLUS1/audit.jsonl"; then
	ok "no secret in any of $nfiles state files (journal, audit log, report, lock) or in the output of apply, resume, status, report, plan"
else
	ko "secrets leaked into: $leaks"
	for f in $leaks; do grep -F -e "$secret1" -e "$secret2" "$f" | cut -c1-300 | head -n 3; done
fi
bad=""
for x in "$d/state" "$d/state/CLUS1"; do
	[ "$(mode_of "$x")" = 700 ] || bad="$bad $x:$(mode_of "$x")"
done
for x in journal.jsonl lock audit.jsonl report.html; do
	[ "$(mode_of "$d/state/CLUS1/$x")" = 600 ] || bad="$bad $x:$(mode_of "$d/state/CLUS1/$x")"
done
for x in $(find "$d/state" -type f); do
	[ "$(mode_of "$x")" = 600 ] || bad="$bad $x:$(mode_of "$x")"
done
if [ -z "$bad" ]; then
	ok "under umask 000: state dir and cluster dir 0700; journal, lock, audit log, report 0600"
else
	ko "modes:$bad"
fi

# ---------------------------------------------------------------- insecure state directories
d=$tmp/perm
sim_start "$scn" 0 "$d/sim" || { echo "security: ccrsim did not start"; exit 1; }
mkdir -p "$d/open" "$d/closed/CLUS1"
chmod 0777 "$d/open"
chmod 0700 "$d/closed"
chmod 0777 "$d/closed/CLUS1"
sim_ctl dump >"$d/w0.json"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$d/open" >"$d/open.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "state directory $d/open is writable by group or others (mode 777); refusing" "$d/open.log" &&
	[ -z "$(ls -A "$d/open")" ]; then
	ok "a state directory writable by others (0777): refused, exit 2, nothing created in it (no journal, lock, audit log)"
else
	ls -laR "$d/open"
	ko "0777 state directory: exit $rc" "$d/open.log"
fi
bin/ccrup resume "$SIM_INV" --yes --state-dir "$d/closed" >"$d/closed.log" 2>&1
rc=$?
sim_ctl dump >"$d/w1.json"
if [ $rc = 2 ] && grep -q "state directory $d/closed/CLUS1 is writable by group or others (mode 777)" "$d/closed.log" &&
	[ -z "$(ls -A "$d/closed/CLUS1")" ] &&
	python3 tests/lib/world_delta.py "$d/w0.json" "$d/w1.json" any >"$d/delta"; then
	ok "a cluster directory writable by others: refused, exit 2, nothing written in it; no command reached any node"
else
	ko "0777 cluster directory: exit $rc" "$d/closed.log"
	cat "$d/delta"
fi

# ---------------------------------------------------------------- values with metacharacters
# name|where|yaml value|expected message fragment[|the offending item, for a list].  Each goes into a copy of the generated
# inventory; validate and apply must refuse it (exit 2) at FILE:LINE:COL, before any connection.
cat >"$d/cases" <<'EOF'
setup|cluster|'D:\x" & del *'|value 'D:\x" & del *' for 'setup' is not a valid path
setup-subshell|cluster|'D:\$(reboot)\setup.com'|for 'setup' is not a valid path
target|cluster|'8.1.240.6; shutdown /r'|for 'target_version' is not a valid version
dotnet|cluster|'C:\x`id`.exe'|for 'dotnet_installer' is not a valid path
perf|cluster|[MOM, 'Sysmon;Log']|for 'perf_services' is not a valid service|'Sysmon
failback|cluster|'none && del'|for 'failback' is not one of
owa|cluster|'https://owa.example/`id`'|for 'owa_url' is not a valid url
host-var|NODE2|'D:\x" & del *'|for 'setup' is not a valid path
newline|cluster|"D:\\x\ndel *"|for 'setup' is not a valid path
EOF
while IFS='|' read -r name where value frag item; do
	inv=$d/inv-$name.yml
	case $name in
	setup* | host-var | newline) key=setup ;;
	target) key=target_version ;;
	dotnet) key=dotnet_installer ;;
	perf) key=perf_services ;;
	*) key=$name ;;
	esac
	[ "$name" = owa ] && key=owa_url
	if [ "$where" = cluster ]; then
		# The cluster's generated vars (owa_url) give way to the one under test.
		K=$key V=$value awk '/^    vars:$/ || /^      owa_url: / {next} {print} /^    hub_cas:/ {print "    vars:"; print "      " ENVIRON["K"] ": " ENVIRON["V"]}' "$SIM_INV" >"$inv"
	else
		H="  $where:" K=$key V=$value awk '{print} $0 == ENVIRON["H"] {print "    vars:"; print "      " ENVIRON["K"] ": " ENVIRON["V"]}' "$SIM_INV" >"$inv"
	fi
	line=$(grep -n "^ *$key: " "$inv" | head -n 1 | cut -d: -f1)
	col=$(N=$line I=${item:-: } awk 'NR == ENVIRON["N"] {print index($0, ENVIRON["I"]) + (ENVIRON["I"] == ": " ? 2 : 0)}' "$inv")
	bin/ccrup validate "$inv" >"$d/v-$name.log" 2>&1
	rv=$?
	bin/ccrup apply "$inv" --yes --state-dir "$d/st-$name" >"$d/a-$name.log" 2>&1
	ra=$?
	if [ $rv = 2 ] && [ $ra = 2 ] && grep -qF "$inv:$line:$col: " "$d/v-$name.log" &&
		grep -qF "$frag" "$d/v-$name.log" && grep -qF "$inv:$line:$col: " "$d/a-$name.log"; then
		ok "inventory value with metacharacters ($name): validate and apply exit 2 at $(basename "$inv"):$line:$col"
	else
		ko "metacharacters $name: validate $rv, apply $ra, want 2 at :$line:$col: $frag" "$d/v-$name.log"
	fi
done <"$d/cases"
sim_ctl dump >"$d/w2.json"
if python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['server']['sessions_total']; t=json.load(open(sys.argv[2]))['server']['sessions_total']; sys.exit(0 if s == t else 1)" "$d/w1.json" "$d/w2.json"; then
	ok "no refused inventory opened a single SSH session"
else
	ko "a refused inventory connected to ccrsim"
fi
sim_stop

echo "security: $pass passed, $fail failed"
[ "$fail" = 0 ]
