#!/bin/sh
# ccrsim's HTTP (Client Access) over real sockets, with curl and raw requests:
# the inventory's owa_url; GET /owa/ is 200 while the CMS is Online and 503
# naming its state after `ctl set CLUS1.cms_state Offline` or
# Stop-ClusteredMailboxServer over ssh (200 again after Start-...); 404, 405;
# a 100 KB request refused with its whole response (no reset); malformed and
# half-closed requests answered at once; 50 clients at once; no HTTP on the
# nodes; the CAS's port closed while it is down; per-host request counts in
# the dump; -v logs each request; a fleet's CASes each follow their own
# cluster; an HTTP port already taken stops start-up with exit 1.
# Servers listen on 127.0.0.0/8 only and are stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrsim-http.XXXXXX)
trap 'sim_stop; [ -n "${squat:-}" ] && kill "$squat" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
SCN=mock-nodes/scenarios/two-node.yml
pass=0
fail=0
answered=0 # requests ccrsim should have counted on HUBCAS
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && head -c 600 "$2"; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else no "$_d" "$tmp/body"; fi; }
# get URL [curl args]: the status in $tmp/code (000: no answer), body in $tmp/body,
# headers in $tmp/hdr, curl's exit status in $tmp/rc.
get() {
	_u=$1; shift
	curl -s --max-time 10 -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' "$@" "$_u" >"$tmp/code"
	echo $? >"$tmp/rc"
	[ "$(cat "$tmp/code")" != 000 ] && answered=$((answered + 1))
}
code() { [ "$(cat "$tmp/code")" = "$1" ]; }
has() { grep -q -- "$1" "$tmp/${2:-body}"; }
# raw HOST PORT PYTHON-BYTES [half-close]: send bytes, print the status line's code.
raw() {
	python3 - "$@" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(eval(sys.argv[3]))
if len(sys.argv) > 4:
    s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1 ") else "none")
EOF
}
sshx() { sim_ssh "$1" "$2"; }
requests() { sim_json "[h['http_requests'] for h in w['hosts'] if h['name'] == '$1'][0]"; }

sim_start "$SCN" 0 "$tmp/sim" -v || { echo "ccrsim_http: 0 passed, 1 failed (no start)"; exit 1; }
url=$(sed -n "s/^      owa_url: '\(.*\)'$/\1/p" "$SIM_INV")
hport=$(($(sim_inv HUBCAS port) + 10000))
check "inventory: owa_url is HUBCAS's SSH port + 10000" [ "$url" = "http://127.0.0.1:$hport/owa/" ]
bin/ccrup validate "$SIM_INV" >"$tmp/body" 2>&1
check "inventory with owa_url validates against ccr-sp1" [ $? = 0 ]
check "dump: HUBCAS http_port, none on the nodes" \
	[ "$(sim_json "[h['http_port'] for h in w['hosts']]")" = "[$hport, None, None]" ]

# --- the CMS decides ---
get "$url"
check "CMS Online: 200 with the OWA page" sh -c "[ \"\$(cat $tmp/code)\" = 200 ] && grep -q 'Outlook Web Access' $tmp/body"
check "headers: Connection: close, Content-Length" sh -c "grep -q '^Connection: close' $tmp/hdr && grep -q '^Content-Length: [0-9]' $tmp/hdr"
sim_ctl set CLUS1.cms_state Offline >/dev/null
get "$url"
check "ctl set CLUS1.cms_state Offline: 503 naming the state" sh -c "[ \"\$(cat $tmp/code)\" = 503 ] && grep -q 'E2K7CCR (CLUS1) is Offline' $tmp/body"
sim_ctl set CLUS1.cms_state Online >/dev/null
get "$url"
check "back Online: 200" code 200
sshx NODE1 'Stop-ClusteredMailboxServer -Identity E2K7CCR -StopReason test -Confirm:$false' >"$tmp/ssh.out" 2>&1
get "$url"
check "Stop-ClusteredMailboxServer over ssh: 503" sh -c "[ \"\$(cat $tmp/code)\" = 503 ] && grep -q 'is Offline' $tmp/body"
sshx NODE1 'Start-ClusteredMailboxServer -Identity E2K7CCR' >"$tmp/ssh.out" 2>&1
sim_ctl wait-idle 10000 >/dev/null
get "$url"
check "Start-ClusteredMailboxServer over ssh: 200" code 200

# --- routes and refusals ---
get "http://127.0.0.1:$hport/x"
check "another path: 404" code 404
get "$url" -X POST -d 'a=b'
check "POST: 405 with Allow: GET" sh -c "[ \"\$(cat $tmp/code)\" = 405 ] && grep -q '^Allow: GET' $tmp/hdr"
big=$(head -c 102400 /dev/zero | tr '\0' a)
get "$url" -H "X-Big: $big"
check "a 100 KB header: 431, the whole response read (curl exit 0)" sh -c "[ \"\$(cat $tmp/code)\" = 431 ] && [ \"\$(cat $tmp/rc)\" = 0 ]"
get "$url$big"
check "a 100 KB URL: 414" code 414
get "$url" --http1.0
check "HTTP/1.0: 200" code 200
check "bare LF: 400 at once" [ "$(raw 127.0.0.1 "$hport" 'b"GET /owa/ HTTP/1.1\n\n"')" = 400 ]
check "TLS ClientHello: 400" [ "$(raw 127.0.0.1 "$hport" 'b"\x16\x03\x01\x02\x00\x01\x00"')" = 400 ]
check "half-closed before the end of the head: 400" \
	[ "$(raw 127.0.0.1 "$hport" 'b"GET /owa/ HTTP/1.1\r\nHost: x\r\n"' half)" = 400 ]
check "raw request, no Host in HTTP/1.1: 400" [ "$(raw 127.0.0.1 "$hport" 'b"GET /owa/ HTTP/1.1\r\n\r\n"')" = 400 ]
answered=$((answered + 4))

# --- many clients at once, one loop ---
i=0
pids=
while [ $i -lt 50 ]; do
	curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$url" >"$tmp/par.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids # not a bare wait: ccrsim is a child too
check "50 clients at once: 50 x 200" [ "$(cat "$tmp"/par.* | grep -c '^200$')" = 50 ]
answered=$((answered + 50))

# --- nodes, power ---
get "http://127.0.0.1:$(($(sim_inv NODE1 port) + 10000))/owa/"
check "a node serves no HTTP (connection refused)" sh -c "[ \"\$(cat $tmp/rc)\" = 7 ]"
sim_ctl set HUBCAS.power down >/dev/null
get "$url"
check "HUBCAS down: connection refused" sh -c "[ \"\$(cat $tmp/rc)\" = 7 ]"
sim_ctl set HUBCAS.power up >/dev/null
i=0
while get "$url" && ! code 200 && [ $i -lt 50 ]; do # it listens again within a sweep
	i=$((i + 1))
	sleep 0.1
done
check "HUBCAS up again: 200" code 200

check "dump: http_requests counts every answer on HUBCAS ($answered)" [ "$(requests HUBCAS)" = "$answered" ]
check "dump: no requests on NODE1" [ "$(requests NODE1)" = 0 ]
check "-v logs each request" grep -q "HUBCAS: HTTP \"GET /owa/ HTTP/1.1\" 503" "$tmp/sim/ccrsim.log"

# --- an HTTP port already taken: start-up fails, exit 1 ---
sim_stop
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $hport)); s.listen(1); time.sleep(30)" &
squat=$!
# The squatter must hold the port before ccrsim starts (python may take a while
# to start on a loaded machine); a ccrsim that starts anyway is stopped by timeout.
i=0
while ! python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $hport)) != 0)" &&
	[ $i -lt 300 ]; do
	i=$((i + 1))
	sleep 0.1
done
timeout 30 bin/ccrsim --scenario "$tmp/sim/scenario.yml" --time-scale 0 --state-dir "$tmp/sim" >"$tmp/body" 2>&1
check "HTTP port in use: exit 1 naming it" sh -c "[ $? = 1 ] && grep -q 'HTTP 127.0.0.1:$hport: Address already in use' $tmp/body"
kill "$squat" 2>/dev/null
wait "$squat" 2>/dev/null
squat=

# --- a fleet: each CAS follows its own cluster ---
sim_start "$SCN" 0 "$tmp/fleet" --fleet 2 || { no "fleet: ccrsim"; }
u1=$(sed -n "s/^      owa_url: '\(.*\)'$/\1/p" "$SIM_INV" | sed -n 1p)
u2=$(sed -n "s/^      owa_url: '\(.*\)'$/\1/p" "$SIM_INV" | sed -n 2p)
check "fleet: one owa_url per cluster, distinct" sh -c "[ -n '$u1' ] && [ -n '$u2' ] && [ '$u1' != '$u2' ]"
sim_ctl set CLUS1-001.cms_state Failed >/dev/null
get "$u1"
check "fleet: CLUS1-001 Failed: its CAS answers 503" sh -c "[ \"\$(cat $tmp/code)\" = 503 ] && grep -q 'E2K7CCR-001 (CLUS1-001) is Failed' $tmp/body"
get "$u2"
check "fleet: CLUS1-002's CAS still 200" code 200
sim_stop

echo "ccrsim_http: $pass passed, $fail failed"
[ "$fail" = 0 ]
