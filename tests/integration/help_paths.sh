#!/bin/sh
# Help texts and man pages name only paths and documents that exist: every
# docs/X.md a help text names is in the tree and installed; every installed
# path a man page names exists after `make install`.  `ccrup help CMD` prints
# CMD's help; mistyped commands and options get "did you mean"; ccrsim
# --version works; an installed ccrsim finds its shipped scenario by name.
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
tmp=$(mktemp -d /tmp/ccrup-help.XXXXXX)
simpid=
trap '[ -n "$simpid" ] && kill "$simpid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
t() { if "$@" >/dev/null 2>&1; then ok "$*"; else bad "$*"; fi; }

make -s install PREFIX=/usr/local DESTDIR="$tmp/root" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
r="$tmp/root/usr/local"

# Every help text.
{
	bin/ccrup help
	for c in validate plan apply resume abandon status report notify; do bin/ccrup "$c" --help; done
	bin/ccrsim --help
	bin/ccrsim ctl --help
} >"$tmp/help.txt" 2>&1

# 1. docs/NAME.md named in a help text: in the tree and installed.
grep -o 'docs/[A-Za-z0-9_.-]*' "$tmp/help.txt" | sed 's/[.]$//' | sort -u >"$tmp/docs"
[ -s "$tmp/docs" ] || bad "help texts name no docs/ file at all (the extraction is broken)"
while read -r d; do
	t test -f "$repo/$d"
	t test -f "$r/share/doc/ccrup/$(basename "$d")"
done <"$tmp/docs"

# 2. Absolute installed paths a man page names (/usr/local/...): present after install.
for m in docs/ccrup.1 docs/ccrsim.1; do
	t test -f "$r/share/man/man1/$(basename "$m")"
	sed 's/\\-/-/g; s/\\f[BIR]//g' "$m" | grep -o '/usr/local/[A-Za-z0-9_./-]*' | sort -u >"$tmp/paths"
	[ -s "$tmp/paths" ] || bad "$m names no installed path (the extraction is broken)"
	while read -r p; do
		t test -e "$tmp/root$p"
	done <"$tmp/paths"
	# Documents named by bare name (inventory.md, ...) are installed docs.
	sed 's/\\-/-/g; s/\\f[BIR]//g' "$m" | grep -o '[a-z][a-z-]*\.md' | sort -u >"$tmp/mds"
	while read -r d; do
		t test -f "$r/share/doc/ccrup/$d"
	done <"$tmp/mds"
	# Paths relative to the binary ("../share/ccrup/playbooks/ccr-sp1.yml" beside it):
	# beside the installed binary, or beside the one in the source tree.
	sed 's/\\-/-/g; s/\\f[BIR]//g' "$m" | grep -o '\.\./[A-Za-z0-9_./-]*' | sort -u >"$tmp/rel"
	while read -r p; do
		if [ -e "$r/bin/$p" ] || [ -e "$repo/bin/$p" ]; then ok "$m: $p beside the binary"; else bad "$m: $p beside the binary"; fi
	done <"$tmp/rel"
done

# 3. ccrup help CMD is CMD's own help, for every command.
for c in validate plan apply resume abandon status report notify; do
	bin/ccrup help "$c" >"$tmp/a" 2>&1
	bin/ccrup "$c" --help >"$tmp/b" 2>&1
	if cmp -s "$tmp/a" "$tmp/b" && grep -q "usage: ccrup $c" "$tmp/a"; then ok "help $c"; else bad "help $c"; fi
done
bin/ccrup help bogus >"$tmp/o" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "unknown command 'bogus'" "$tmp/o"; then ok "help bogus: exit 2"; else bad "help bogus: exit $rc"; fi

# 4. "did you mean" for commands and options.
expect() { # expect EXIT PATTERN CMD...
	want=$1 pat=$2
	shift 2
	"$@" >"$tmp/o" 2>&1
	got=$?
	if [ "$got" = "$want" ] && grep -q -- "$pat" "$tmp/o"; then ok "$* -> $pat"; else bad "$* (exit $got): $(head -2 "$tmp/o")"; fi
}
expect 2 "did you mean 'apply'" bin/ccrup aply x.yml
expect 2 "did you mean 'resume'" bin/ccrup resmue x.yml
expect 2 "did you mean 'status'" bin/ccrup staus x.yml
expect 2 "did you mean 'plan'" bin/ccrup help paln
expect 2 "did you mean '--width'" bin/ccrup plan x.yml --widht 3
expect 2 "did you mean '--yes'" bin/ccrup apply x.yml --yse
expect 2 "did you mean '--trust-new-hosts'" bin/ccrup apply x.yml --trust-new-hots
expect 2 "did you mean '--state-dir'" bin/ccrup status x.yml --state-dri=/tmp
expect 2 "unknown option '--zzzzzz' (see" bin/ccrup status x.yml --zzzzzz

# 5. ccrsim --version; the installed ccrsim finds a shipped scenario by name.
expect 0 "^ccrsim [0-9]" bin/ccrsim --version
expect 0 "^ccrup [0-9]" bin/ccrup --version
t test -f "$r/share/ccrup/scenarios/two-node.yml"
mkdir -p "$tmp/elsewhere"
(cd "$tmp/elsewhere" && exec "$r/bin/ccrsim" --scenario two-node --time-scale 0 --state-dir "$tmp/sim") \
	>"$tmp/sim.log" 2>&1 &
simpid=$!
i=0
while [ ! -s "$tmp/sim/ccrsim.pid" ] && kill -0 "$simpid" 2>/dev/null && [ "$i" -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
# Listening, or stopped only because a port of the fixed scenario is taken: either way it found the file.
if [ -s "$tmp/sim/ccrsim.pid" ] || grep -q "in use" "$tmp/sim.log"; then
	ok "installed ccrsim --scenario two-node"
else
	bad "installed ccrsim --scenario two-node: $(cat "$tmp/sim.log")"
fi
kill "$simpid" 2>/dev/null
wait "$simpid" 2>/dev/null
simpid=
expect 2 "no-such-scenario" sh -c "cd '$tmp/elsewhere' && '$r/bin/ccrsim' --scenario no-such-scenario --state-dir '$tmp/sim2'"

echo "help_paths: $pass passed, $fail failed"
[ "$fail" = 0 ]
