#!/bin/sh
# make install honours PREFIX and DESTDIR: binaries, playbooks, docs, man page,
# completion; the installed ccrup finds its playbook from anywhere.
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
tmp=$(mktemp -d /tmp/ccrup-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
t() { if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); echo "ok - $*"; else fail=$((fail + 1)); echo "not ok - $*"; fi; }

make -s install PREFIX=/opt/ccrup DESTDIR="$tmp/root" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
r="$tmp/root/opt/ccrup"
t test -x "$r/bin/ccrup"
t test -x "$r/bin/ccrsim"
t test -f "$r/share/ccrup/playbooks/ccr-sp1.yml"
t test -f "$r/share/ccrup/playbooks/linux-rolling-restart.yml"
t test -f "$r/share/doc/ccrup/playbook.md"
t test -f "$r/share/man/man1/ccrup.1"
t test -f "$r/share/bash-completion/completions/ccrup"
mkdir -p "$tmp/elsewhere"
t sh -c "cd '$tmp/elsewhere' && '$r/bin/ccrup' validate '$repo/playbooks/inventory.example.yml'"
# ... and names it plainly, without a "bin/.." detour that lengthens every line it is in
t sh -c "cd '$tmp/elsewhere' && '$r/bin/ccrup' validate '$repo/playbooks/inventory.example.yml' | grep -q '^$r/share/ccrup/playbooks/ccr-sp1.yml: valid'"
# A sanitizer build leaves its flavour in bin/.flavour: a plain make relinks (a
# later make install never ships a sanitizer binary), and is then up to date.
cp bin/.flavour "$tmp/flavour"
echo 'sanitize=address,undefined' >bin/.flavour
t sh -c '! make -q all'
t make -s all
t grep -qx plain bin/.flavour
t make -q all
t sh -c '! make -s install SANITIZE=address DESTDIR="$1/root2"' - "$tmp"
echo "install: $pass passed, $fail failed"
[ "$fail" = 0 ]
