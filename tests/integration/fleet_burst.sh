#!/bin/sh
# fleet_burst.sh — SSH connection establishments are bounded across a fleet
# (apply --max-connecting, xgate.h): with --parallel all every cluster starts
# at once and connects to its three hosts, but only N handshakes run at a
# time; the others wait, their connect timeout not yet running.
#   bound      40 clusters (120 hosts) at --parallel all, --max-connecting 4:
#              ccrsim (-v: "connection accepted" ... "authenticated") never
#              had more than 4 connections in their handshake at once
#              (without the bound: 38 at once)
#   slow       80 clusters against a ccrsim throttled to a quarter of the CPU
#              (stopped 75 ms of every 100 ms) with a 300 ms connect timeout:
#              --max-connecting 16 upgrades every cluster; without a bound the
#              handshakes all ran at once: 4 of 80 clusters failed, 100 of 100
#              at --fleet 100 ("timeout connecting")
# ccrsim listens on loopback only and is stopped by PID.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-fleet-burst.XXXXXX)
TP=
trap '[ -n "$TP" ] && kill "$TP" 2>/dev/null; [ -n "${SIM_PID:-}" ] && kill -CONT "$SIM_PID" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2"; }

# peak LOG: the most connections ccrsim had accepted and not yet authenticated
# (nor closed) at once, from its -v log (one line per event, in order).
peak() {
	python3 - "$1" <<'PY'
import re, sys
inflight, total, peak = {}, 0, 0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"ccrsim: (\S+): (connection accepted|authenticated|connection closed)$",
                 line.rstrip("\n"))
    if not m:
        continue
    host, what = m.groups()
    if what == "connection accepted":
        inflight[host] = inflight.get(host, 0) + 1
        total += 1
        peak = max(peak, total)
    elif inflight.get(host, 0) > 0:
        inflight[host] -= 1
        total -= 1
print(peak)
PY
}

# 1. The bound, as the server sees it.
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/b/sim" --fleet 40 -v || exit 1
bin/ccrup apply "$SIM_INV" --yes --parallel all --max-connecting 4 --state-dir "$tmp/b/state" \
	>"$tmp/b.log" 2>&1
rc=$?
sim_stop
p=$(peak "$tmp/b/sim/ccrsim.log")
if [ $rc = 0 ] && grep -q 'fleet: 40 clusters, 40 done, 0 failed' "$tmp/b.log"; then
	ok "--parallel all --max-connecting 4: 40 of 40 clusters upgraded"
else
	ko "--parallel all --max-connecting 4 (exit $rc)" "$tmp/b.log"
fi
if [ "$p" -ge 1 ] && [ "$p" -le 4 ]; then
	ok "at most 4 handshakes in flight at ccrsim (peak $p)"
else
	ko "handshakes in flight at ccrsim: peak $p, bound 4" "$tmp/b/sim/ccrsim.log"
fi
n=$(grep -c ': connection accepted$' "$tmp/b/sim/ccrsim.log")
if [ "$n" -ge 120 ]; then ok "every host connected ($n connections)"; else ko "only $n connections accepted"; fi

# 2. A slow server: handshakes that all run at once pass a short timeout.
sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/s/sim" --fleet 80 -v || exit 1
sed -i 's/^  connect_timeout: 10s$/  connect_timeout: 300ms/' "$SIM_INV"
grep -q '^  connect_timeout: 300ms$' "$SIM_INV" || ko "inventory connect_timeout not set"
(while kill -STOP "$SIM_PID" 2>/dev/null; do
	sleep 0.075
	kill -CONT "$SIM_PID"
	sleep 0.025
done) &
TP=$!
bin/ccrup apply "$SIM_INV" --yes --parallel all --max-connecting 16 --max-failed 100% \
	--state-dir "$tmp/s/state" >"$tmp/s.log" 2>&1
rc=$?
kill "$TP"
wait "$TP" 2>/dev/null
TP=
kill -CONT "$SIM_PID"
sim_stop
p=$(peak "$tmp/s/sim/ccrsim.log")
t=$(grep -c 'timeout connecting' "$tmp/s.log")
if [ $rc = 0 ] && [ "$t" = 0 ] && grep -q 'fleet: 80 clusters, 80 done, 0 failed' "$tmp/s.log"; then
	ok "throttled ccrsim, 300 ms connect timeout, --max-connecting 16: 80 of 80 upgraded"
else
	ko "throttled ccrsim: exit $rc, $t connect timeouts" "$tmp/s.log"
fi
if [ "$p" -le 16 ]; then ok "at most 16 handshakes in flight (peak $p)"; else ko "peak $p > 16"; fi

# 3. Both apply and resume take the option, and refuse a bound below 1.
for cmd in apply resume; do
	bin/ccrup $cmd "$SIM_INV" --yes --max-connecting 0 --state-dir "$tmp/b/state" >"$tmp/r.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q -- "--max-connecting takes a positive number, not '0'" "$tmp/r.log" &&
		bin/ccrup $cmd --help 2>&1 | grep -q -- "--max-connecting N"; then
		ok "$cmd: --max-connecting documented, 0 refused (exit 2)"
	else
		ko "$cmd --max-connecting 0 (exit $rc)" "$tmp/r.log"
	fi
done

echo "fleet_burst: $pass passed, $fail failed"
[ "$fail" = 0 ]
