#!/bin/sh
# `ccrup notify --test INVENTORY` sends one test payload to every endpoint, says
# what each answered (ok / FAILED with the status or the connection error, the URL
# shown by host only) and exits 1 when one failed, 0 when all answered 2xx.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/ccrup-notifytest.XXXXXX)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }

addr=127.0.$(($$ % 200 + 20)).$(($$ % 7 + 3))
port=$((24000 + $$ % 2000))
python3 - "$addr" "$port" "$tmp/bodies" <<'PY' >"$tmp/server.log" 2>&1 &
import http.server, json, sys
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "ab") as f:
            f.write(self.path.encode() + b" " + body + b"\n")
        self.send_response(200 if self.path.startswith("/ok") else 500)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer((addr, port), H)
open(out + ".ready", "w").close()
s.serve_forever()
PY
SPID=$!
i=0
while [ ! -f "$tmp/bodies.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
dead=$((port + 1))
sed '/^notify:/,$d' playbooks/inventory.example.yml >"$tmp/inv.yml"
cat >>"$tmp/inv.yml" <<EOT
notify:
  - name: hook
    url: http://$addr:$port/ok/hook?token=sekrit
    events: [outage-start, run-end]
  - name: chat
    kind: slack
    url: http://$addr:$port/ok/slack
  - name: teams
    kind: teams
    url: http://$addr:$port/ok/teams
EOT
bin/ccrup notify --test "$tmp/inv.yml" >"$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(grep -c '^ok ' "$tmp/out")" = 3 ] && ok "three endpoints answer 200: three ok lines, exit 0" || ko "all ok (exit $rc)" "$tmp/out"
grep -q "sekrit" "$tmp/out" && ko "the URL's query was shown" "$tmp/out" || ok "URLs are shown by host only"
python3 - "$tmp/bodies" <<'PY' && ok "payloads: webhook (8 members, event test, names its events), slack text, teams card" || ko "payloads" "$tmp/bodies"
import json, sys
got = {}
for line in open(sys.argv[1], "rb"):
    path, body = line.split(b" ", 1)
    got[path.decode().split("?")[0]] = json.loads(body)
w = got["/ok/hook"]
assert list(w) == ["event", "cluster", "phase", "step", "node", "text", "time", "outage_ms"], w
assert w["event"] == "test" and "outage-start, run-end" in w["text"], w
assert got["/ok/slack"]["text"].startswith(":wave: ccrup notification test"), got["/ok/slack"]
assert got["/ok/teams"]["@type"] == "MessageCard", got["/ok/teams"]
PY

cat >>"$tmp/inv.yml" <<EOT
  - name: broken
    url: http://$addr:$port/bad
  - name: nobody
    kind: teams
    url: http://$addr:$dead/x
    timeout: 2s
EOT
bin/ccrup notify --test "$tmp/inv.yml" >"$tmp/out2" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "^FAILED  broken: http://$addr:$port.* answered HTTP 500" "$tmp/out2" &&
	grep -q "^FAILED  nobody: http://$addr:$dead.*: .*onnect" "$tmp/out2" && [ "$(grep -c '^ok ' "$tmp/out2")" = 3 ]; then
	ok "a 500 and a closed port: FAILED lines with the cause, exit 1"
else
	ko "failures (exit $rc)" "$tmp/out2"
fi
sed '/^notify:/,$d' "$tmp/inv.yml" >"$tmp/none.yml"
bin/ccrup notify --test "$tmp/none.yml" >"$tmp/out3" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "no notify: endpoints" "$tmp/out3" && ok "no endpoints: says so, exit 0" || ko "no endpoints (exit $rc)" "$tmp/out3"
bin/ccrup notify "$tmp/none.yml" >"$tmp/out4" 2>&1
[ $? = 2 ] && grep -q "add --test" "$tmp/out4" && ok "without --test: exit 2 with a hint" || ko "no --test" "$tmp/out4"
echo "notify_test: $pass passed, $fail failed"
[ "$fail" = 0 ]
