#!/bin/sh
# ccrup run as root where another local user can reach, against ccrsim on loopback (time scale 0).
# Needs root and creates (if missing) an unprivileged user, ccrup-test, as the attacker.
#   symlinks   a state directory (or cluster directory, or a symlink to one) pre-created by
#              another user in a sticky shared directory is refused naming the path and its
#              owner, and the files it planted (lock -> victim, journal.jsonl -> victim) are
#              never written through; an ancestor writable by others and not sticky is refused;
#              symlinked state files are refused even in our own directory (apply, status,
#              report); plan --save, report --html and known_hosts updates never write through a
#              planted temporary name; a root-owned state directory inside a sticky directory works
#   secrets    a webhook URL (Slack-style: the path is the credential) is never printed or logged
#              whole when delivery fails (stderr, audit.jsonl, report); validate and apply show a
#              rejected owa_url/notify url without its user:password@
#   escapes    what a node prints (OSC title, clear screen, colours, CR, C1 CSI, bidi override)
#              reaches apply, status, report and the HTML report escaped, never raw
#   fifos      validate, plan, apply and status never block on a FIFO, a device or a symlink to
#              one given as inventory or playbook (exit 2 naming the file)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
if [ "$(id -u)" != 0 ]; then
	echo "security_shared: 0 passed, 0 failed (skipped: needs root to act as two users)"
	exit 0
fi
user=ccrup-test
id "$user" >/dev/null 2>&1 || useradd -M -r -s /usr/sbin/nologin "$user" || { echo "cannot create $user"; exit 1; }
as_user() { setpriv --reuid="$user" --regid="$user" --clear-groups -- "$@"; }
uid=$(id -u "$user")
tmp=$(mktemp -d /tmp/ccrup-shared.XXXXXX)
chmod 0755 "$tmp"
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }
scn=mock-nodes/scenarios/two-node.yml
# victims: root's files an attacker would like truncated or overwritten
mkvictims() {
	mkdir -p "$tmp/root-only"
	chmod 0700 "$tmp/root-only"
	for v in x y z w; do printf 'precious %s\n' "$v" >"$tmp/root-only/$v"; done
}
victims_intact() {
	for v in x y z w; do
		[ "$(cat "$tmp/root-only/$v")" = "precious $v" ] || return 1
	done
}
no_raw_ctl() { ! LC_ALL=C grep -q "$(printf '[\033\007\r]')" "$@"; }

sim_start "$scn" 0 "$tmp/sim" || { echo "security_shared: ccrsim did not start"; exit 1; }
sim_ctl dump >"$tmp/w0.json"

# ---------------------------------------------------------------- 3: symlink games
shared=$tmp/shared
mkdir -p "$shared"
chmod 1777 "$shared"
mkvictims

# (a) the attacker pre-creates state/CLUS1 (0700, theirs) with lock and journal planted
as_user mkdir -p "$shared/a/CLUS1"
as_user chmod 0700 "$shared/a" "$shared/a/CLUS1"
as_user ln -s "$tmp/root-only/x" "$shared/a/CLUS1/lock"
as_user ln -s "$tmp/root-only/y" "$shared/a/CLUS1/journal.jsonl"
as_user ln -s "$tmp/root-only/z" "$shared/a/CLUS1/audit.jsonl"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$shared/a" >"$tmp/a.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -qF "state directory $shared/a is owned by $user (uid $uid), not by root" "$tmp/a.log" &&
	victims_intact; then
	ok "a state directory owned by another user in a sticky directory: refused (exit 2) naming it and its owner; planted lock/journal/audit links not followed"
else
	ko "attacker's state directory: exit $rc, victims intact: $(victims_intact && echo yes || echo NO)" "$tmp/a.log"
fi
bin/ccrup status "$SIM_INV" --state-dir "$shared/a" >"$tmp/a-status.log" 2>&1
rc=$?
bin/ccrup report "$SIM_INV" --state-dir "$shared/a" >"$tmp/a-report.log" 2>&1
rc2=$?
if [ $rc != 0 ] && [ $rc2 != 0 ] && victims_intact && [ ! -e "$shared/a/CLUS1/report.html" ] &&
	grep -q "symbolic link" "$tmp/a-status.log" && grep -qF "owned by $user" "$tmp/a-report.log"; then
	ok "status and report on it: the journal link is not followed (status exit $rc), no report written (exit $rc2), victims intact"
else
	ko "status/report on the attacker's directory: status $rc, report $rc2" "$tmp/a-status.log"
	cat "$tmp/a-report.log"
fi

# (b) root's state directory, but the attacker got to CLUS1 first
mkdir -p "$shared/b"
chmod 0700 "$shared/b"
mkdir "$shared/b/CLUS1"
chown "$user" "$shared/b/CLUS1"
chmod 0700 "$shared/b/CLUS1"
ln -s "$tmp/root-only/x" "$shared/b/CLUS1/lock"
chown -h "$user" "$shared/b/CLUS1/lock"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$shared/b" >"$tmp/b.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -qF "state directory $shared/b/CLUS1 is owned by $user (uid $uid)" "$tmp/b.log" && victims_intact; then
	ok "a cluster directory owned by another user: refused (exit 2) naming $shared/b/CLUS1 and $user"
else
	ko "attacker's cluster directory: exit $rc" "$tmp/b.log"
fi

# (c) the state directory path is the attacker's symlink to a directory of root's
mkdir -p "$tmp/root-only/st"
as_user ln -s "$tmp/root-only/st" "$shared/c"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$shared/c" >"$tmp/c.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -qF "symbolic link $shared/c is owned by $user" "$tmp/c.log" && [ -z "$(ls -A "$tmp/root-only/st")" ]; then
	ok "a state directory reached through another user's symlink: refused (exit 2) naming the link and its owner"
else
	ko "attacker's symlink as state directory: exit $rc" "$tmp/c.log"
fi

# (d) an ancestor writable by others and not sticky
mkdir -p "$tmp/open/st"
chmod 0777 "$tmp/open"
chmod 0700 "$tmp/open/st"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/open/st" >"$tmp/d.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -qF "directory $tmp/open (above state directory" "$tmp/d.log" && grep -q "not sticky (mode 777)" "$tmp/d.log" &&
	[ -z "$(ls -A "$tmp/open/st")" ]; then
	ok "a state directory below a directory anyone can write (0777, not sticky): refused (exit 2) naming that directory"
else
	ko "writable ancestor: exit $rc" "$tmp/d.log"
fi

# (e) our own directory, but state files are symlinks (planted earlier, or restored from a backup)
for f in lock journal.jsonl audit.jsonl; do
	rm -rf "$tmp/e"
	mkdir -p "$tmp/e/CLUS1"
	chmod 0700 "$tmp/e" "$tmp/e/CLUS1"
	ln -s "$tmp/root-only/w" "$tmp/e/CLUS1/$f"
	bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/e" >"$tmp/e-$f.log" 2>&1
	rc=$?
	if [ "$f" = audit.jsonl ]; then
		# The audit log is best effort: the run goes on, with a warning naming the link.
		good=$([ $rc = 0 ] && grep -qF "$tmp/e/CLUS1/audit.jsonl is a symbolic link" "$tmp/e-$f.log" && echo y)
	else
		good=$([ $rc = 2 ] && grep -qF "$tmp/e/CLUS1/$f is a symbolic link" "$tmp/e-$f.log" && echo y)
	fi
	if [ "$good" = y ] && victims_intact; then
		ok "a symlinked $f in our own state directory is never followed (apply exit $rc, named)"
	else
		ko "symlinked $f: exit $rc" "$tmp/e-$f.log"
	fi
done
sim_stop
sim_start "$scn" 0 "$tmp/sim" || { echo "security_shared: ccrsim did not start"; exit 1; }

# (f) plan --save, report --html and known_hosts: the temporary file's name cannot be planted.
# The attacker owns the target directory (root saving into a colleague's directory) and
# plants the names the old code used, PATH.tmp.<pid> (the shell's pid, which exec keeps).
mkdir -p "$tmp/colleague"
chown "$user" "$tmp/colleague"
sh -c 'setpriv --reuid="$1" --regid="$1" --clear-groups -- ln -s "$2" "$3.tmp.$$"; exec "$4" plan "$5" --live --save "$3"' \
	sh "$user" "$tmp/root-only/x" "$tmp/colleague/plan.json" "$PWD/bin/ccrup" "$SIM_INV" >"$tmp/f1.log" 2>&1
rc1=$?
sh -c 'setpriv --reuid="$1" --regid="$1" --clear-groups -- ln -s "$2" "$3.tmp.$$"; exec "$4" report "$5" --state-dir "$6" --html "$3"' \
	sh "$user" "$tmp/root-only/y" "$tmp/colleague/report.html" "$PWD/bin/ccrup" "$SIM_INV" "$tmp/f-state" >"$tmp/f2.log" 2>&1
rc2=$?
if victims_intact && [ -s "$tmp/colleague/plan.json" ] && [ ! -L "$tmp/colleague/plan.json" ]; then
	ok "plan --live --save and report --html into a directory another user controls: planted PATH.tmp.<pid> links not written through (plan exit $rc1, report exit $rc2)"
else
	ko "planted temporary names: plan exit $rc1, report exit $rc2, victims intact: $(victims_intact && echo yes || echo NO)" "$tmp/f1.log"
fi
kh=$SIM_DIR/known_hosts
p2=$(awk -v h="  NODE2:" '$0 == h {f = 1} f && /port:/ {print $2; exit}' "$SIM_INV")
grep -vF "[127.0.0.1]:$p2 " "$kh" >"$kh.new" && mv "$kh.new" "$kh"
chmod 0600 "$kh"
sh -c 'ln -s "$1" "$2.tmp.$$"; exec "$3" apply "$4" --yes --trust-new-hosts --state-dir "$5"' \
	sh "$tmp/root-only/z" "$kh" "$PWD/bin/ccrup" "$SIM_INV" "$tmp/f-st2" >"$tmp/f3.log" 2>&1
rc=$?
if victims_intact && [ $rc = 0 ] && grep -qF "[127.0.0.1]:$p2 " "$kh" && [ ! -L "$kh" ]; then
	ok "--trust-new-hosts: a planted known_hosts.tmp.<pid> link is not written through; the key is recorded"
else
	ko "known_hosts update with a planted temporary name: exit $rc" "$tmp/f3.log"
fi
rm -f "$kh".tmp.*

# (g) and the good case: a root-owned 0700 state directory inside a sticky shared directory
mkdir "$shared/good"
chmod 0700 "$shared/good"
bin/ccrup apply "$SIM_INV" --yes --state-dir "$shared/good" >"$tmp/g.log" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(stat -c %U "$shared/good/CLUS1/journal.jsonl")" = root ]; then
	ok "a root-owned state directory inside a sticky world-writable directory works (exit 0)"
else
	ko "root's state directory in a sticky directory: exit $rc" "$tmp/g.log"
fi
sim_stop

# ---------------------------------------------------------------- 4: webhook URLs and userinfo
sim_start "$scn" 0 "$tmp/sim4" || { echo "security_shared: ccrsim did not start"; exit 1; }
secret_path=T0CCRUP/B0CCRUP/zzSecretHookPath
cat >>"$SIM_INV" <<EOF
notify:
  - name: chat
    kind: slack
    url: http://127.0.0.1:9/services/$secret_path?token=qqSecretQuery
    retries: 0
    timeout: 2s
EOF
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st4" >"$tmp/h.log" 2>&1
rc=$?
bin/ccrup report "$SIM_INV" --state-dir "$tmp/st4" >"$tmp/h-report.log" 2>&1
leaks=$(grep -rlF -e zzSecretHookPath -e qqSecretQuery "$tmp/h.log" "$tmp/h-report.log" "$tmp/st4")
if [ $rc = 0 ] && grep -qF "notification 'chat'" "$tmp/h.log" && grep -qF "http://127.0.0.1:9/[REDACTED]" "$tmp/h.log" &&
	grep -qF "127.0.0.1:9/[REDACTED]" "$tmp/st4/CLUS1/audit.jsonl" && [ -z "$leaks" ]; then
	ok "an undeliverable Slack URL: warned with its host only (stderr, audit.jsonl, report), path and query never shown"
else
	ko "webhook URL leaked into: ${leaks:-nothing, but the warning is missing} (exit $rc)" "$tmp/h.log"
fi
# a rejected URL with user:password@ is echoed without them
for case in owa notify; do
	inv=$tmp/inv-$case.yml
	if [ $case = owa ]; then
		awk '/^      owa_url: / {print "      owa_url: \"http://admin:pw9Secret@owa.example/owa/`id`\""; next} {print}' "$SIM_INV" >"$inv"
		want="http://[REDACTED]@owa.example/owa/"
	else
		sed 's|^    url: .*|    url: "ftp://hook:pw9Secret@hooks.example/services/zzSecretHookPath"|' "$SIM_INV" >"$inv"
		want="ftp://[REDACTED]@hooks.example/[REDACTED]"
	fi
	bin/ccrup validate "$inv" >"$tmp/v-$case.log" 2>&1
	rv=$?
	bin/ccrup apply "$inv" --yes --state-dir "$tmp/st4-$case" >"$tmp/a-$case.log" 2>&1
	ra=$?
	if [ $rv = 2 ] && [ $ra = 2 ] && grep -qF "$want" "$tmp/v-$case.log" &&
		! grep -qF -e pw9Secret -e zzSecretHookPath "$tmp/v-$case.log" "$tmp/a-$case.log"; then
		ok "a rejected $case url with user:password@: validate and apply (exit 2) show $want"
	else
		ko "rejected $case url: validate $rv, apply $ra" "$tmp/v-$case.log"
	fi
done
sim_stop

# ---------------------------------------------------------------- 5: escapes from nodes
sim_start "$scn" 0 "$tmp/sim5" || { echo "security_shared: ccrsim did not start"; exit 1; }
evil='\u001b]0;owned\u0007\u001b[2J\u001b[1;31mFAKE: run done\u001b[0m\rcarriage \u00c2\u009b31m \u202egnp.exe'
sim_ctl fault-add "{\"host\":\"NODE2\",\"match\":\"/m:upgrade\",\"kind\":\"fail\",\"exit\":1,\"count\":1,\"message\":\"$evil\"}" >/dev/null
bin/ccrup apply "$SIM_INV" --yes -vv --state-dir "$tmp/st5" >"$tmp/e1.log" 2>&1
rc1=$?
bin/ccrup status "$SIM_INV" --state-dir "$tmp/st5" >"$tmp/e2.log" 2>&1
bin/ccrup report "$SIM_INV" --state-dir "$tmp/st5" >"$tmp/e3.log" 2>&1
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/st5" >"$tmp/e4.log" 2>&1
rc4=$?
if [ $rc1 = 1 ] && grep -qF '\x1b]0;owned\x07\x1b[2J\x1b[1;31mFAKE: run done' "$tmp/e1.log" &&
	no_raw_ctl "$tmp/e1.log"; then
	ok "apply -vv: the node's OSC/CSI/CR bytes are shown escaped (\\x1b]0;owned\\x07...), no raw control byte in the output"
else
	ko "apply output: exit $rc1 (want 1), raw control bytes: $(no_raw_ctl "$tmp/e1.log" && echo none || echo PRESENT)" "$tmp/e1.log"
fi
if grep -qF 'FAKE: run done' "$tmp/e2.log" && grep -qF '\x1b[' "$tmp/e2.log" && no_raw_ctl "$tmp/e2.log" "$tmp/e3.log"; then
	ok "status shows the last error escaped; report's output has no raw control byte"
else
	ko "status output: raw control bytes: $(no_raw_ctl "$tmp/e2.log" && echo none || echo PRESENT)" "$tmp/e2.log"
fi
if no_raw_ctl "$tmp/st5/CLUS1/report.html" && grep -qF 'FAKE: run done' "$tmp/st5/CLUS1/report.html" &&
	! LC_ALL=C grep -q "$(printf '\342\200\256')" "$tmp/st5/CLUS1/report.html" "$tmp/e1.log" "$tmp/e2.log"; then
	ok "the HTML report shows it escaped too; the bidi override (U+202E) appears nowhere raw"
else
	ko "report.html or bidi override" "$tmp/e3.log"
fi
[ $rc4 = 0 ] && ok "resume completes after the escaped failure" || ko "resume: exit $rc4" "$tmp/e4.log"
sim_stop

# ---------------------------------------------------------------- 7: FIFOs and devices never block
mkfifo "$tmp/inv.fifo" "$tmp/pb.fifo"
ln -s "$tmp/inv.fifo" "$tmp/inv-link.yml"
cp playbooks/ccr-sp1.yml "$tmp/pb.yml"
good_inv=playbooks/inventory.example.yml
check_noblock() { # NAME EXPECTED-FRAGMENT FILE-NAMED COMMAND...
	name=$1 frag=$2 file=$3
	shift 3
	log=$tmp/fifo-$(echo "$name" | tr -c "a-zA-Z0-9\n" -).log
	timeout 10 "$@" >"$log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -qF "$file" "$log" && grep -qF "$frag" "$log"; then
		ok "$name: exit 2 at once, naming $file ($frag)"
	else
		ko "$name: exit $rc (124 = blocked), want 2 naming $file" "$log"
	fi
}
check_noblock "validate on a FIFO" "is a FIFO, not a regular file" "$tmp/inv.fifo" bin/ccrup validate "$tmp/inv.fifo"
check_noblock "plan on a FIFO" "is a FIFO, not a regular file" "$tmp/inv.fifo" bin/ccrup plan "$tmp/inv.fifo"
check_noblock "validate on a symlink to a FIFO" "is a FIFO, not a regular file" "$tmp/inv-link.yml" bin/ccrup validate "$tmp/inv-link.yml"
check_noblock "apply on a FIFO" "is a FIFO, not a regular file" "$tmp/inv.fifo" bin/ccrup apply "$tmp/inv.fifo" --yes --state-dir "$tmp/st7"
check_noblock "status on a FIFO" "is a FIFO, not a regular file" "$tmp/inv.fifo" bin/ccrup status "$tmp/inv.fifo" --state-dir "$tmp/st7"
check_noblock "validate on /dev/zero" "is a character device, not a regular file" /dev/zero bin/ccrup validate /dev/zero
check_noblock "validate on a directory" "is a directory, not a regular file" "$tmp" bin/ccrup validate "$tmp"
if [ -n "$good_inv" ]; then
	check_noblock "a FIFO playbook (-p)" "is a FIFO, not a regular file" "$tmp/pb.fifo" bin/ccrup validate "$good_inv" -p "$tmp/pb.fifo"
fi

echo "security_shared: $pass passed, $fail failed"
[ "$fail" = 0 ]
