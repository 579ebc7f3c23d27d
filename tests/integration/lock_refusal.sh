#!/bin/sh
# A second `apply` refused because another run holds the cluster's lock touches nothing
# of the holder's (issue 10, defect 6): it exits 4 naming the holder, writes nothing into
# the running run's audit log, sends no webhook, and the report of the real run lists no
# failure for it.  Against ccrsim on loopback (time scale 0), with a webhook listener.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-lockref.XXXXXX)
hold=
sink=
trap '[ -n "$hold" ] && kill "$hold" 2>/dev/null; [ -n "$sink" ] && kill "$sink" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || exit 1
# A webhook listener: every POST body, one per line.
addr=127.0.0.$((20 + $$ % 200))
port=$((18000 + $$ % 1000))
python3 - "$addr" "$port" "$tmp/hook.log" <<'PY' &
import http.server, sys
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        with open(out, 'ab') as f:
            f.write(self.rfile.read(n) + b'\n')
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer((addr, port), H).serve_forever()
PY
sink=$!
i=0
while ! python3 -c "import socket,sys; socket.create_connection(('$addr',$port),1)" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
cat >>"$SIM_INV" <<EOF
notify:
  - name: ops
    kind: webhook
    url: http://$addr:$port/hook
    retries: 0
EOF
# The holder hangs in passive.setup on NODE2 until stopped.
sim_ctl fault-add '{"host":"NODE2","match":"/m:upgrade","kind":"hang"}' >/dev/null
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st" >"$tmp/holder.log" 2>&1 &
hold=$!
i=0
while ! grep -q "/m:upgrade" "$tmp/st/CLUS1/audit.jsonl" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.3
cp "$tmp/st/CLUS1/audit.jsonl" "$tmp/audit.before"
hooks_before=$(cat "$tmp/hook.log" 2>/dev/null | wc -l)
bin/ccrup apply "$SIM_INV" --yes --state-dir "$tmp/st" >"$tmp/second.log" 2>&1
rc=$?
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/st" >"$tmp/third.log" 2>&1
rc3=$?
sleep 0.5
if [ $rc = 4 ] && [ $rc3 = 4 ] && grep -q "cluster CLUS1 is locked by pid $hold" "$tmp/second.log"; then
	ok "a second apply and a resume while the run holds the lock: exit 4 naming the holder (pid $hold)"
else
	ko "second apply: exit $rc, resume $rc3 (want 4)" "$tmp/second.log"
fi
# The holder may log lines of its own meanwhile; never the refusal.
if ! grep -q "locked" "$tmp/st/CLUS1/audit.jsonl"; then
	ok "the refusals wrote nothing into the running run's audit log"
else
	ko "the holder's audit log got the refusal" "$tmp/st/CLUS1/audit.jsonl"
fi
hooks_after=$(cat "$tmp/hook.log" 2>/dev/null | wc -l)
if [ "$hooks_before" -gt 0 ] && ! grep -q "locked" "$tmp/hook.log" && [ "$hooks_after" = "$hooks_before" ]; then
	ok "no webhook was sent for the refusals ($hooks_before from the holder before, none since)"
else
	ko "webhooks: $hooks_before before, $hooks_after after" "$tmp/hook.log"
fi
kill -INT "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
hold=
sim_ctl fault-clear NODE2 >/dev/null
bin/ccrup resume "$SIM_INV" --yes --state-dir "$tmp/st" >"$tmp/resume.log" 2>&1
rc=$?
bin/ccrup report "$SIM_INV" --state-dir "$tmp/st" >/dev/null 2>&1
if [ $rc = 0 ] && ! grep -q "is locked by" "$tmp/st/CLUS1/report.html"; then
	ok "the real run finishes (resume exit 0); its report lists no failure for the refusals"
else
	ko "resume exit $rc, or the report names the refusal" "$tmp/resume.log"
fi
echo "lock_refusal: $pass passed, $fail failed"
[ "$fail" = 0 ]
