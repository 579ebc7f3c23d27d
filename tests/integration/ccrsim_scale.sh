#!/bin/sh
# ccrsim at fleet scale, with Debian's OpenSSH client: --fleet 5 serves 15
# hosts; --fleet 100 (300 hosts) serves 300 concurrent sessions, every one
# exiting 0 with the right output; the libssh load helper runs 600 complete
# sessions.  Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-scale.XXXXXX)
trap 'sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
SCN=mock-nodes/scenarios/two-node.yml # sim_start gives it ports of its own
BUILD=${BUILD:-build}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d"; fi; }
# Every "address port" of the generated inventory, in host order.
targets() { awk '$1 == "address:" { a = $2 } $1 == "port:" { print a, $2 }' "$SIM_INV"; }
# sshx ADDR PORT CMD
sshx() {
	ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=30 \
		-i "$SIM_DIR/client_ed25519" -p "$2" "administrator@$1" "$3"
}

# --- --fleet 5: 15 hosts, each its own known key ---
sim_start "$SCN" 0 "$tmp/f5" --fleet 5 || exit 1
check "--fleet 5: 15 hosts listening" grep -q '^ccrsim: 15 hosts listening' "$tmp/f5/ccrsim.log"
check "--fleet 5: 45 known_hosts lines (ed25519, ECDSA, RSA per host)" [ "$(wc -l <"$tmp/f5/known_hosts")" = 45 ]
check "--fleet 5: 15 distinct ed25519 host keys" [ "$(awk '$2 == "ssh-ed25519" { print $3 }' "$tmp/f5/known_hosts" | sort -u | wc -l)" = 15 ]
check "--fleet 5: 15 distinct addresses" [ "$(awk '{ print $1 }' "$tmp/f5/known_hosts" | sort -u | wc -l)" = 15 ]
check "--fleet 5: 15 hosts and 5 clusters in the inventory" \
	sh -c "[ \$(grep -c '^    port:' '$SIM_INV') = 15 ] && [ \$(grep -c '^  - name:' '$SIM_INV') = 5 ]"
n=0
targets >"$tmp/t5"
while read -r a p; do
	sshx "$a" "$p" 'sc query ClusSvc' </dev/null 2>/dev/null | grep -q 'SERVICE_NAME: ClusSvc' && n=$((n + 1))
done <"$tmp/t5"
check "--fleet 5: every host answers ($n/15)" [ "$n" = 15 ]
sim_stop

# --- --fleet 100: 300 concurrent sessions ---
# Each command is held by a slow fault (1 s of world time) while the world clock
# is paused: every session stays open until all 300 run, then resume lets them end.
sim_start "$SCN" 0 "$tmp/f100" --fleet 100 || exit 1
check "--fleet 100: 300 hosts listening" grep -q '^ccrsim: 300 hosts listening' "$tmp/f100/ccrsim.log"
sim_ctl fault-add '{"host":"*","match":"sc query ClusSvc","kind":"slow","delay_ms":1000}' >/dev/null &&
	sim_ctl pause >/dev/null
check "slow fault on every host, clock paused" [ $? = 0 ]
targets >"$tmp/t100"
mkdir "$tmp/c"
t0=$(date +%s)
i=0
pids=
while read -r a p; do
	i=$((i + 1))
	(sshx "$a" "$p" 'sc query ClusSvc' >"$tmp/c/$i.out" 2>&1 </dev/null; echo $? >"$tmp/c/$i.rc") &
	pids="$pids $!"
done <"$tmp/t100"
# Wait until all 300 commands run at once (at most 60 s), then let them finish.
peak=0
n=0
while [ "$peak" -lt 300 ] && [ "$n" -lt 240 ]; do
	sleep 0.25
	peak=$(sim_json "w['server']['running']")
	n=$((n + 1))
done
open=$(sim_json "w['server']['sessions']")
sim_ctl resume >/dev/null
# shellcheck disable=SC2086
wait $pids
t1=$(date +%s)
good=0
for f in "$tmp"/c/*.rc; do
	[ "$(cat "$f")" = 0 ] && grep -q 'SERVICE_NAME: ClusSvc' "${f%.rc}.out" && good=$((good + 1))
done
check "300 OpenSSH sessions all exit 0 with output ($good/300, $((t1 - t0)) s)" [ "$good" = 300 ]
check "all 300 were open at once ($peak commands running, $open sessions)" [ "$peak.$open" = 300.300 ]
total=$(sim_json "w['server']['sessions_total']")
check "server counted 300 sessions ($total)" [ "$total" -ge 300 ]
echo "VmHWM: $(grep VmHWM /proc/"$SIM_PID"/status | awk '{ print $2, $3 }')"
sim_ctl fault-clear >/dev/null
if [ -x "$BUILD/tests/ccrsim_load" ]; then
	"$BUILD/tests/ccrsim_load" "$tmp/f100/known_hosts" "$tmp/f100/client_ed25519" 600 16 'sc query ClusSvc' >"$tmp/load"
	check "libssh load: 600 sessions, none failed ($(cat "$tmp/load"))" [ $? = 0 ]
fi
sim_stop

echo "ccrsim_scale: $pass passed, $fail failed"
[ "$fail" = 0 ]
