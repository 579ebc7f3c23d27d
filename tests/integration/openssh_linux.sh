#!/bin/sh
# playbooks/linux-rolling-restart.yml against real OpenSSH servers: Debian's
# /usr/sbin/sshd started three times on 127.0.0.1 (distinct free ports,
# generated host keys, one generated client key, strict known_hosts) as the
# Linux nodes web1..web3.  The "service" is tests/fixtures/linux/svcctl, a fake
# systemctl keeping each node's state in its own directory (selected by the
# host var `systemctl:` in a generated inventory), counting every restart.
#   1. plan --live reads the facts from the three sshd and says every restart would run
#   2. apply --yes restarts web1, web2, web3 one by one, each verified: once each; the
#      probes read between two changes go as one remote command per host (`shell: sh`)
#   3. a fresh state: apply --yes is SIGKILLed while web2's restart runs (2 s there); a
#      resume at once is refused by the step's require (service activating) and restarts
#      nothing; once the restart is over, resume --yes completes: every node restarted
#      exactly once, the journal valid, status says done
# A missing /usr/sbin/sshd is a failure (make deps installs openssh-server), never a skip.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/sshd.sh
tmp=$(mktemp -d /tmp/ccrup-ossh.XXXXXX)
APID=
trap '[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null; sshd_stop_all "$tmp/ssh"; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 30 "$2"; }
pb=playbooks/linux-rolling-restart.yml
svc=fakeweb
nodes="web1 web2 web3"

if ! sshd_init "$tmp/ssh"; then
	ko "OpenSSH server: $SSHD_BIN is not installed or not usable (run make deps)"
	echo "openssh_linux: $pass passed, $fail failed"
	exit 1
fi
for n in $nodes; do
	sshd_start "$n" "$tmp/ssh" || { ko "sshd for $n did not start"; echo "openssh_linux: $pass passed, $fail failed"; exit 1; }
done

# inventory DIR: nodes' service state under DIR/nodes/webN (the fake systemctl is
# linked there, and keeps its state beside the link), the inventory DIR/inventory.yml.
inventory() {
	{
		printf 'inventory: openssh-linux\nformat: 1\n\nssh:\n'
		printf '  known_hosts: %s\n  connect_timeout: 5s\n  command_timeout: 1m\n\n' "$tmp/ssh/known_hosts"
		printf 'defaults:\n  user: root\n  identity: %s\n\nhosts:\n' "$tmp/ssh/client_ed25519"
		for n in $nodes; do
			mkdir -p "$1/nodes/$n"
			ln -s "$PWD/tests/fixtures/linux/svcctl" "$1/nodes/$n/systemctl"
			printf '  %s:\n    address: 127.0.0.1\n    port: %s\n    vars: {systemctl: %s}\n' \
				"$n" "$(cat "$tmp/ssh/$n/port")" "$1/nodes/$n/systemctl"
		done
		printf '\nclusters:\n  - name: web\n    members: [web1, web2, web3]\n    vars:\n      service: %s\n' "$svc"
	} >"$1/inventory.yml"
}

# restarts DIR NODE: how many times NODE's service was restarted
restarts() {
	if [ -f "$1/nodes/$2/$svc.restarts" ]; then wc -l <"$1/nodes/$2/$svc.restarts" | tr -d ' '; else echo 0; fi
}

# each_once DIR: every node restarted exactly once
each_once() {
	for n in $nodes; do
		[ "$(restarts "$1" "$n")" = 1 ] || { echo "$n restarted $(restarts "$1" "$n") times, want 1"; return 1; }
	done
}

# status_done DIR: `ccrup status` reads the journal (exit 0) and says done
status_done() {
	bin/ccrup status "$1/inventory.yml" -p "$pb" --state-dir "$1/state" -o json >"$1/status.json" 2>"$1/status.err" &&
		python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['clusters'][0]; sys.exit(0 if c['state']=='done' and c['next'] is None else 1)" "$1/status.json"
}

# ---- 1 + 2: plan --live, then apply --yes ----
d=$tmp/run1
mkdir -p "$d"
inventory "$d"
if bin/ccrup validate "$d/inventory.yml" -p "$pb" >"$d/validate.log" 2>&1; then
	ok "the generated inventory (host vars select each node's service manager) validates"
else
	ko "validate" "$d/validate.log"
fi

if bin/ccrup plan "$d/inventory.yml" -p "$pb" --live -o json >"$d/plan.json" 2>"$d/plan.err" &&
	python3 - "$d/plan.json" "$d/nodes" <<'PY' >"$d/plan.check" 2>&1
import json, os, sys
p = json.load(open(sys.argv[1]))
c = p["clusters"][0]
assert p["live"] is True, "not a live plan"
facts = {(f["fact"], f["host"]): f["value"] for f in c["facts"]}
for n in ("web1", "web2", "web3"):
    assert facts.get(("service_state", n)) == "active", ("service_state", n, facts)
    # the fake service has never started: the same default every node reports
    assert facts.get(("restarted_at", n)) == "1000000", ("restarted_at", n, facts)
    st = [s for s in c["steps"] if s["id"] == "rolling.restart" and s["node"] == n]
    assert len(st) == 1 and st[0]["live"] == "would-run", ("restart", n, st)
    assert st[0]["command"] == os.path.join(sys.argv[2], n, "systemctl") + " restart fakeweb", st[0]["command"]
    pre = [s for s in c["steps"] if s["id"] == "preflight.service-active" and s["node"] == n]
    assert pre[0]["live"] == "would-run", pre
PY
then
	ok "plan --live: facts read over the three sshd, every node's restart would run (with its own systemctl)"
else
	ko "plan --live" "$d/plan.check"
	cat "$d/plan.err"
fi
if [ "$(cat "$d"/nodes/*/$svc.restarts 2>/dev/null | wc -l)" = 0 ]; then
	ok "plan --live changed nothing"
else
	ko "plan --live restarted a service"
fi

t0=$(date +%s%N)
bin/ccrup apply "$d/inventory.yml" -p "$pb" --yes --state-dir "$d/state" >"$d/apply.log" 2>&1
rc=$?
t1=$(date +%s%N)
if [ $rc = 0 ] && why=$(each_once "$d"); then
	ok "apply --yes: exit 0, each node restarted exactly once ($(( (t1 - t0) / 1000000 )) ms)"
else
	ko "apply --yes exited $rc: ${why:-}" "$d/apply.log"
fi
# Compound probes (the playbook's `shell: sh`): over real sshd, the probes read between two
# changes went as one remote command per host, and every part answered on its own.
if python3 - "$d/state/web/audit.jsonl" <<'PY' >"$d/batch.log" 2>&1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
batches = [r for r in recs if r["event"] == "batch"]
cmds = [r for r in recs if r["event"] == "command"]
parts = [r for r in cmds if r.get("batch")]
sent = len(batches) + len(cmds) - len(parts)
assert batches, "no batch"
assert all(b["command"].startswith("(") and "ccrup:" + b["batch"] + ":1:" in b["command"] for b in batches), batches[0]
assert sum(b["parts"] for b in batches) == len(parts), (len(parts), [b["parts"] for b in batches])
assert all(p["exit"] >= 0 for p in parts), [p for p in parts if p["exit"] < 0]
assert sent < len(cmds), (sent, len(cmds))
print("%d remote commands for %d commands" % (sent, len(cmds)))
PY
then
	ok "compound probes over OpenSSH: $(cat "$d/batch.log")"
else
	ko "compound probes over OpenSSH" "$d/batch.log"
fi
# One by one: each node's restart began after the previous node was verified active again.
if python3 - "$d/state/web/journal.jsonl" <<'PY' >"$d/order.log" 2>&1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
seq = [(r["event"], r["step"], r["node"]) for r in recs if r.get("node")]
order = []
for ev, step, node in seq:
    if step.startswith("rolling."):
        order.append((ev, step, node))
want = []
for n in ("web1", "web2", "web3"):
    want += [("begin", "rolling.restart", n), ("done", "rolling.restart", n),
             ("begin", "rolling.active-again", n), ("done", "rolling.active-again", n),
             ("skipped", "rolling.health", n)]
got = [x for x in order if x[0] != "record"]
assert got == want, got
PY
then
	ok "rolling: web1, web2, web3 in turn, each restart verified (new ActiveEnterTimestampMonotonic) and active again before the next"
else
	ko "rolling order" "$d/order.log"
fi
if status_done "$d" && python3 tests/lib/journal_check.py "$d/state/web/journal.jsonl" --done >"$d/jc.log"; then
	ok "journal valid (CRC, seq) and status says done"
else
	ko "journal or status after apply" "$d/status.err"
	cat "$d/jc.log" 2>/dev/null
fi

# ---- 3: SIGKILL while web2's restart runs, then resume ----
d=$tmp/run2
mkdir -p "$d"
inventory "$d"
echo 2 >"$d/nodes/web2/restart-seconds" # time to resume while it still runs
bin/ccrup apply "$d/inventory.yml" -p "$pb" --yes --state-dir "$d/state" >"$d/apply.log" 2>&1 &
APID=$!
j=$d/state/web/journal.jsonl
i=0
while ! { [ -f "$j" ] && grep '"event":"begin"' "$j" | grep -F '"step":"rolling.restart"' | grep -qF '"node":"web2"'; } &&
	kill -0 "$APID" 2>/dev/null && [ $i -lt 1000 ]; do
	i=$((i + 1))
	sleep 0.01
done
sleep 0.15
mid=$(cat "$d/nodes/web2/$svc.state" 2>/dev/null)
kill -9 "$APID" 2>/dev/null
wait "$APID" 2>/dev/null
killed=$?
APID=
if [ "$killed" = 137 ] && [ "$mid" = activating ] && [ "$(restarts "$d" web1)" = 1 ] && [ "$(restarts "$d" web3)" = 0 ]; then
	ok "SIGKILL landed while web2's restart ran (web1 done, web3 untouched)"
else
	ko "kill mid-restart: exit $killed, web2 state '$mid', restarts web1=$(restarts "$d" web1) web3=$(restarts "$d" web3)" "$d/apply.log"
fi
# The restart carries on without its session, as a real service manager's job does.
# Resumed at once, the step is still in progress on web2: its check (a new timestamp)
# does not hold yet and the service is 'activating', so the require refuses (exit 3)
# instead of restarting it a second time.
bin/ccrup resume "$d/inventory.yml" -p "$pb" --yes --state-dir "$d/state" >"$d/resume0.log" 2>&1
rc=$?
still=$(cat "$d/nodes/web2/$svc.state" 2>/dev/null)
if [ $rc = 3 ] && [ "$still" = activating ] && grep -q "service_state = 'activating'" "$d/resume0.log" &&
	[ "$(restarts "$d" web2)" = 0 ] && [ "$(restarts "$d" web3)" = 0 ]; then
	ok "resume while web2's restart still runs: refused (exit 3, service activating), nothing restarted again"
else
	ko "resume during the in-flight restart: exit $rc (want 3), web2 '$still', restarts web2=$(restarts "$d" web2) web3=$(restarts "$d" web3)" "$d/resume0.log"
fi
# Once it is over, the resumed run must find its effect instead of restarting again.
i=0
while [ "$(cat "$d/nodes/web2/$svc.state" 2>/dev/null)" != active ] && [ $i -lt 500 ]; do
	i=$((i + 1))
	sleep 0.01
done
python3 tests/lib/journal_check.py "$j" --torn-ok >"$d/jc-killed.log" 2>&1 ||
	ko "journal after SIGKILL" "$d/jc-killed.log"
if bin/ccrup apply "$d/inventory.yml" -p "$pb" --yes --state-dir "$d/state" >"$d/apply2.log" 2>&1; then
	ko "apply over the killed run should refuse (unfinished run)" "$d/apply2.log"
fi
bin/ccrup resume "$d/inventory.yml" -p "$pb" --yes --state-dir "$d/state" >"$d/resume.log" 2>&1
rc=$?
if [ $rc = 0 ] && why=$(each_once "$d"); then
	ok "resume --yes: exit 0, each node restarted exactly once over both runs"
else
	ko "resume exited $rc: ${why:-}" "$d/resume.log"
fi
if grep -q 'rolling.restart on web2: done.*resume: check satisfied\|rolling.restart on web2.*already' "$d/resume.log" ||
	grep '"step":"rolling.restart"' "$j" | grep '"node":"web2"' | grep -q '"by":"resume: check satisfied"'; then
	ok "resume settled web2's in-flight restart by its check (new timestamp), not by restarting again"
else
	ko "web2's in-flight restart not settled by its check" "$d/resume.log"
fi
if status_done "$d" && python3 tests/lib/journal_check.py "$j" --done --count begin rolling.restart web2 1 \
	--count begin rolling.restart web1 1 --count begin rolling.restart web3 1 >"$d/jc.log"; then
	ok "journal valid after kill + resume (one begin per restart) and status says done"
else
	ko "journal or status after resume" "$d/status.err"
	cat "$d/jc.log" 2>/dev/null
fi

sshd_stop_all "$tmp/ssh"
left=0
for n in $nodes; do
	p=$(cat "$tmp/ssh/$n/sshd.pid" 2>/dev/null)
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && left=$((left + 1))
done
if [ $left = 0 ]; then
	ok "every sshd stopped by its PID"
else
	ko "$left sshd still running"
fi

echo "openssh_linux: $pass passed, $fail failed"
[ "$fail" = 0 ]
