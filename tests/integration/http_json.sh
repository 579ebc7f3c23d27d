#!/bin/sh
# http_check on JSON bodies (json, value, count), against a tiny python3 HTTP
# server on 127.0.0.1 (tests/lib/jsonserve.py) whose answers change from one
# request to the next, and ccrsim for the hosts the steps run on:
#   retries  /a/patroni answers "starting", then a body that is not JSON, then
#            "running": the check (retries 3) passes at the third GET, each
#            failed attempt logged with the URL, the path and what was found;
#            a path with ${node} is substituted per host; exit 0
#   fails    /b/cluster has one member streaming where count wants 2: after the
#            retries exit 1, "http check: URL: json 'members[state=streaming]'
#            selected 1 value, want 2"; once a second member streams, resume
#            passes the check and finishes (exit 0)
#   nothing  a path that selects nothing: exit 1, "... selected nothing"
#   plan     the plan shows the substituted path, text and JSON; a path that is
#            only bad once substituted is refused by the plan (exit 2)
#   validate value without json, a bad path, a bad ERE: exit 2, FILE:LINE:COL
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-httpjson.XXXXXX)
SPID=
trap 'sim_stop; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 20 "$2"; }
hits() { grep -cx "$1" "$tmp/www/hits" 2>/dev/null || echo 0; }

# The JSON server: a port in 12600-12999 (below the ephemeral range, outside
# the bands of tests/lib/sim.sh and the etcd tests), the first free one from
# a start that differs per process.
mkdir -p "$tmp/www"
first=$((12600 + $$ % 300))
python3 tests/lib/jsonserve.py "$tmp/www" "$first" $((first + 99)) 2>"$tmp/www.log" &
SPID=$!
i=0
while [ ! -s "$tmp/www/port" ] && kill -0 "$SPID" 2>/dev/null && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
[ -s "$tmp/www/port" ] || { echo "http_json: the JSON server did not start"; cat "$tmp/www.log"; exit 1; }
base="http://127.0.0.1:$(cat "$tmp/www/port")"

echo '{"state": "starting", "role": "replica"}' >"$tmp/www/a_patroni.0"
echo '<html><body>503 Service Unavailable</body></html>' >"$tmp/www/a_patroni.1"
echo '{"state": "running", "role": "replica"}' >"$tmp/www/a_patroni.2"
echo '{"members": [{"name": "NODE1", "state": "running"}, {"name": "NODE2", "state": "streaming", "lag": 0}]}' >"$tmp/www/a_cluster.0"
echo '{"members": [{"name": "NODE1", "role": "leader", "state": "running"}, {"name": "NODE2", "state": "streaming"}]}' >"$tmp/www/b_cluster.0"
echo '{"members": [{"name": "NODE1", "role": "replica", "state": "running"}]}' >"$tmp/www/c_cluster.0"

# playbook FILE PREFIX CHECK-YAML: one command on each member, then the check.
playbook() {
	cat >"$1" <<EOP
playbook: http-json-test
format: 1
vars:
  api_url: {kind: url, default: '$base/$2'}
phases:
  - id: touch
    name: Something to do on each member
    on: members
    steps:
      - {id: query, name: 'Query ClusSvc on \${node}', why: work, run: 'sc query ClusSvc'}
  - id: check
    name: The service answers as expected
    on: members
    steps:
$3
EOP
}
playbook "$tmp/a.yml" a "      - id: state
        name: \${node} runs
        why: t
        http_check:
          url: \${api_url}/patroni
          json: state
          value: '^running\$'
          timeout: 5s
          retries: 3
      - id: member
        name: \${node} is running or streaming
        why: t
        http_check:
          url: \${api_url}/cluster
          json: 'members[name=\${node}].state'
          value: '^(running|streaming)\$'
          count: 1"
playbook "$tmp/b.yml" b "      - id: streaming
        name: Two members stream
        why: t
        http_check:
          url: \${api_url}/cluster
          json: 'members[state=streaming]'
          count: 2
          timeout: 5s
          retries: 1"
playbook "$tmp/c.yml" c "      - id: leader
        name: One member leads
        why: t
        http_check:
          url: \${api_url}/cluster
          json: 'members[role=leader]'"

sim_start mock-nodes/scenarios/two-node.yml 0 "$tmp/sim" || { echo "http_json: ccrsim did not start"; exit 1; }
# The generated inventory without what only ccr-sp1 knows (owa_url, its gates).
inv=$tmp/inventory.yml
grep -v -e '^    vars:$' -e '^      owa_url:' -e '^    acknowledge:' "$SIM_INV" >"$inv"

# 1. Retries until the JSON says running; the per-host path substituted.
bin/ccrup apply "$inv" -p "$tmp/a.yml" --yes --state-dir "$tmp/sa" >"$tmp/a.log" 2>&1
rc=$?
u="$base/a/patroni"
if [ $rc = 0 ] &&
	grep -qF "check.state on NODE1: GET $u: $u: json 'state' is 'starting', want /^running\$/" "$tmp/a.log" &&
	grep -qF "check.state on NODE1: GET $u: $u: the body is not JSON (" "$tmp/a.log" &&
	[ "$(grep -cF "check.state on NODE1: GET $u: ok" "$tmp/a.log")" = 1 ] &&
	[ "$(grep -cF "check.state on NODE2: GET $u: ok" "$tmp/a.log")" = 1 ] &&
	[ "$(hits a_patroni)" = 4 ] && [ "$(hits a_cluster)" = 2 ] &&
	grep -qF "check.member on NODE2: GET $base/a/cluster: ok" "$tmp/a.log"; then
	ok "retries: starting, not JSON, then running: passes at the third GET (4 GETs for 2 hosts), exit 0"
else
	ko "retries: exit $rc, $(hits a_patroni) GETs of /a/patroni, $(hits a_cluster) of /a/cluster" "$tmp/a.log"
fi

# 2. The count is not met: exit 1 after the retries, the message says what was found.
bin/ccrup apply "$inv" -p "$tmp/b.yml" --yes --state-dir "$tmp/sb" >"$tmp/b.log" 2>&1
rc=$?
u="$base/b/cluster"
if [ $rc = 1 ] && [ "$(hits b_cluster)" = 2 ] &&
	grep -qF "http check: $u: json 'members[state=streaming]' selected 1 value, want 2" "$tmp/b.log"; then
	ok "fails: count 2 with one member streaming: exit 1 after 2 GETs, the message names URL, path and count"
else
	ko "fails: exit $rc, $(hits b_cluster) GETs" "$tmp/b.log"
fi
echo '{"members": [{"name": "NODE1", "role": "leader", "state": "streaming"}, {"name": "NODE2", "state": "streaming"}]}' >"$tmp/www/b_cluster.0"
bin/ccrup resume "$inv" -p "$tmp/b.yml" --yes --state-dir "$tmp/sb" >"$tmp/b2.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qF "check.streaming on NODE2: GET $u: ok" "$tmp/b2.log"; then
	ok "fails: once two members stream, resume passes the check and finishes (exit 0)"
else
	ko "fails: resume exit $rc" "$tmp/b2.log"
fi

# 3. Nothing selected.
bin/ccrup apply "$inv" -p "$tmp/c.yml" --yes --state-dir "$tmp/sc" >"$tmp/c.log" 2>&1
rc=$?
if [ $rc = 1 ] && grep -qF "http check: $base/c/cluster: json 'members[role=leader]' selected nothing" "$tmp/c.log"; then
	ok "nothing: a path that selects nothing fails the check, exit 1"
else
	ko "nothing: exit $rc" "$tmp/c.log"
fi
sim_stop

# 4. The plan shows the check with the path substituted per host.
bin/ccrup plan "$inv" -p "$tmp/a.yml" >"$tmp/plan.txt" 2>&1
rc=$?
bin/ccrup plan "$inv" -p "$tmp/a.yml" -o json >"$tmp/plan.json" 2>"$tmp/plan.err"
rcj=$?
if [ $rc = 0 ] && [ $rcj = 0 ] &&
	grep -qF "json     'members[name=NODE2].state' selects 1 value, each matching" "$tmp/plan.txt" &&
	python3 - "$tmp/plan.json" <<'EOF'; then
import json, sys
steps = json.load(open(sys.argv[1]))["clusters"][0]["steps"]
h = [s["http"] for s in steps if s["id"] == "check.member" and s["node"] == "NODE2"][0]
assert h["json"] == "members[name=NODE2].state", h
assert h["value"] == "^(running|streaming)$" and h["count"] == 1 and h["status"] == [200], h
s = [s for s in steps if s["id"] == "check.state"][0]["http"]
assert s["count"] is None and s["retries"] == 3 and s["timeout_ms"] == 5000 and s["body"] is None, s
assert all("http" not in s for s in steps if s["kind"] != "http")
EOF
	ok "plan: text and JSON show json, value and count, the path substituted per host"
else
	ko "plan: exit $rc/$rcj" "$tmp/plan.txt"
fi

# A path that only goes wrong once substituted is refused when the plan is made.
sed -e "s|^  api_url: .*|&\n  frag: {kind: raw, default: 'members[role=leader'}|" \
	-e "s|json: 'members\[role=leader\]'|json: '\${frag}'|" "$tmp/c.yml" >"$tmp/c-frag.yml"
bin/ccrup plan "$inv" -p "$tmp/c-frag.yml" >"$tmp/frag.log" 2>&1
rc=$?
if [ $rc = 2 ] && grep -qF "step check.leader on NODE1, http_check.json: 'members[role=leader': unclosed '['" "$tmp/frag.log"; then
	ok "plan: a substituted path that is not valid is refused (exit 2), naming the step and host"
else
	ko "plan: substituted bad path: exit $rc" "$tmp/frag.log"
fi

# 5. validate refuses bad combinations, located.
bad() { # bad NAME CHECK-YAML EXPECTED
	playbook "$tmp/$1.yml" x "      - id: s
        name: S
        why: t
        http_check:
          url: 'http://127.0.0.1:1/x'
$2"
	bin/ccrup validate "$inv" -p "$tmp/$1.yml" >"$tmp/$1.log" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -qF "$tmp/$1.yml:$3" "$tmp/$1.log"; then
		ok "validate: $1 refused (exit 2): $3"
	else
		ko "validate: $1: exit $rc" "$tmp/$1.log"
	fi
}
bad novalue "          value: '^running\$'" "20:11: 'value' needs 'json' in 'http_check'"
bad badpath "          json: 'members[role=leader'" "20:25: json: unclosed '[' at column 8"
bad badere "          json: state
          value: '(running'" "21:18: bad regex in 'value'"

echo "http_json: $pass passed, $fail failed"
[ $fail = 0 ]
