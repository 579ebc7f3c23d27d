#!/bin/sh
# playbooks/patroni-rolling.yml against a real Patroni cluster (tests/lib/patroni_bed.sh):
# one etcd, three Patroni 3.0 members each managing a PostgreSQL 15 instance as user
# postgres, each on its own loopback address behind its own OpenSSH sshd, a service
# stand-in for systemctl, an apt-get/dpkg-query stand-in that replaces the server binary
# like dpkg does.  A continuous writer commits a numbered row every ~10 ms throughout.
#   1. validate, plan --live: the roles come from Patroni (leader pg1, replicas pg2,pg3)
#   2. a restart-requiring setting (max_connections) is made pending everywhere, then
#      apply --yes is SIGKILLed while a replica restarts (pg3's stop), resume --yes is
#      SIGKILLed during the switchover, resume --yes is SIGKILLed while the former leader
#      restarts (pg1's start), and a last resume --yes finishes
#   3. end state: zero acknowledged rows lost, exactly one switchover (timeline 2), every
#      member stopped once and started once, the package everywhere, nothing pending,
#      pg2 leads; status says done with the outage; the journal is valid
#   4. a second apply on the upgraded cluster changes nothing: no stop, no start, no
#      switchover, no command run
# Missing PostgreSQL, Patroni, etcd or sshd is a failure (make deps installs them).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/patroni_bed.sh
pb=playbooks/patroni-rolling.yml
bed=$(mktemp -d /tmp/ccrup-patroni.XXXXXX)
APID=
cleanup() {
	[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null
	bed_stop "$bed"
	if [ "${KEEP_BED:-0}" = 1 ]; then echo "bed kept in $bed"; else rm -rf "$bed"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -f "${2:-}" ] && tail -n 30 "$2"; }
finish() { echo "patroni: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

for b in /usr/bin/patroni /usr/bin/etcd /usr/sbin/sshd "$BED_PGBIN/postgres" /usr/bin/curl; do
	[ -x "$b" ] || { ko "$b is missing (run make deps)"; finish; }
done
net=$(bed_free_net) || { ko "no free loopback network for the bed"; finish; }
if bed_start "$bed" "$net" 2>"$bed/start.err"; then
	ok "the bed is up on $net.1-3: pg1 leads, pg2 and pg3 stream"
else
	ko "the bed did not start" "$bed/start.err"
	finish
fi
inv=$bed/inventory.yml
state=$bed/state
journal=$state/bed/journal.jsonl
bed_inventory "$bed" "$inv"
ccrup() { bin/ccrup "$@" "$inv" -p "$pb" --state-dir "$state"; }

# ---- 1: validate, plan --live ----
if bin/ccrup validate "$inv" -p "$pb" >"$bed/validate.log" 2>&1; then
	ok "the inventory and the playbook validate"
else
	ko "validate" "$bed/validate.log"
fi
ccrup plan --live --width 120 >"$bed/plan.log" 2>&1
if grep -q '^  leader  *pg1$' "$bed/plan.log" && grep -q '^  replicas  *pg2,pg3$' "$bed/plan.log" &&
	grep -q 'replicas - Upgrade the replicas, one at a time (on replicas = pg2,pg3)' "$bed/plan.log"; then
	ok "plan --live binds leader pg1 and replicas pg2,pg3 from Patroni's REST API"
else
	ko "plan --live roles" "$bed/plan.log"
fi

# ---- 2: the upgrade, killed three times ----
if bed_prepare_upgrade "$bed"; then
	ok "max_connections 100 -> 110 is pending on every member"
else
	ko "pending restart"
fi
bed_writer_start "$bed" || ko "the writer did not start" "$bed/writer.out"

# run_until VERB STEP NODE DELAY: run ccrup VERB --yes in the background; once the
# journal has `begin` for STEP on NODE, wait DELAY seconds and SIGKILL it.
run_until() {
	bin/ccrup "$1" "$inv" -p "$pb" --state-dir "$state" --yes >>"$bed/ccrup.log" 2>&1 &
	APID=$!
	_i=0
	until grep -q "\"event\":\"begin\".*\"step\":\"$2\",\"node\":\"$3\"" "$journal" 2>/dev/null; do
		if ! kill -0 "$APID" 2>/dev/null || [ $_i -gt 3000 ]; then
			wait "$APID"
			echo "ccrup $1 ended (exit $?) before $2 began on $3" >>"$bed/ccrup.log"
			APID=
			return 1
		fi
		_i=$((_i + 1))
		sleep 0.05
	done
	sleep "$4"
	kill -9 "$APID" 2>/dev/null
	wait "$APID" 2>/dev/null
	APID=
	echo "== SIGKILL during $2 on $3" >>"$bed/ccrup.log"
}

if run_until apply replicas.stop pg3 0.5; then
	ok "apply --yes SIGKILLed while pg3 (a replica) stops"
else
	ko "apply did not reach pg3's restart" "$bed/ccrup.log"
fi
if run_until resume switchover.switchover pg1 0.3; then
	ok "resume --yes SIGKILLed during the switchover"
else
	ko "resume did not reach the switchover" "$bed/ccrup.log"
fi
if run_until resume former-leader.start pg1 0.1; then
	ok "resume --yes SIGKILLed while pg1 (the former leader) starts again"
else
	ko "resume did not reach the former leader's restart" "$bed/ccrup.log"
fi
ccrup resume --yes >>"$bed/ccrup.log" 2>&1
rc=$?
if [ $rc = 0 ]; then
	ok "the last resume --yes finishes (exit 0)"
else
	ko "the last resume exited $rc" "$bed/ccrup.log"
fi
sleep 1 # a few more commits on the new primary
bed_writer_stop "$bed" >/dev/null

# ---- 3: the end state ----
if bed_summary "$bed" >"$bed/summary.txt"; then
	ok "zero acknowledged rows lost: $(cat "$bed/summary.txt")"
else
	ko "acknowledged rows are missing: $(cat "$bed/rows.json")" "$bed/summary.txt"
fi
acked=$($BED_PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["acknowledged"])' "$bed/rows.json")
if [ "${acked:-0}" -gt 200 ]; then
	ok "the writer committed throughout ($acked rows acknowledged)"
else
	ko "the writer acknowledged only ${acked:-0} rows" "$bed/writer.out"
fi
tl=$(bed_timeline "$bed")
if [ "$tl" = 2 ]; then
	ok "exactly one switchover (timeline 1 -> 2), despite the kill during it"
else
	ko "timeline is $tl, want 2 (one promotion)"
fi
if [ "$(bed_leader "$bed")" = pg2 ]; then
	ok "pg2 (the candidate, upgraded first) leads"
else
	ko "the leader is $(bed_leader "$bed"), want pg2"
fi
each=""
for m in $BED_MEMBERS; do
	s=$(bed_count "$bed" "$m" stop) t=$(bed_count "$bed" "$m" start)
	[ "$s" = 1 ] && [ "$t" = 2 ] || each="$each $m: $s stops, $t starts;"
done
if [ -z "$each" ]; then
	ok "every member restarted exactly once (one stop, one start after the bed's)"
else
	ko "restarts:$each"
fi
pending=""
for m in $BED_MEMBERS; do
	j=$(curl -sf "http://$(bed_addr "$bed" "$m"):8008/patroni")
	echo "$j" | grep -q '"pending_restart": true' && pending="$pending $m(pending restart)"
	echo "$j" | grep -q '"state": "running"' || pending="$pending $m(not running)"
	[ "$(cat "$bed/$m/installed")" = "${BED_TARGET_VERSION:-15.99-0+bed1}" ] || pending="$pending $m(package)"
	readlink "/proc/$(head -n 1 "$bed/$m/data/postmaster.pid")/exe" | grep -q deleted && pending="$pending $m(stale binary)"
done
if [ -z "$pending" ] && bed_healthy "$bed"; then
	ok "every member runs the new package with nothing pending; one leader, replicas streaming"
else
	ko "not upgraded:$pending"
fi
if $BED_PY tests/lib/journal_check.py "$journal" --done >"$bed/jc.log" 2>&1; then
	ok "the journal is valid and ends done ($(cat "$bed/jc.log"))"
else
	ko "journal" "$bed/jc.log"
fi
ccrup status -o json >"$bed/status.json" 2>"$bed/status.err"
if $BED_PY - "$bed/status.json" <<'PY'; then
import json, sys
c = json.load(open(sys.argv[1]))["clusters"][0]
o = c.get("outage") or {}
ok = (c["state"] == "done" and c["next"] is None and c["roles"]["replicas"] == ["pg2", "pg3"]
      and c["roles"]["leader"] == "pg1" and not o.get("ongoing") and 0 < o.get("total_ms", 0) < 60000)
sys.exit(0 if ok else 1)
PY
	ok "status: done, roles as bound (replicas a list), the switchover's outage reported"
else
	ko "status" "$bed/status.json"
fi
n_so=$(grep -c '"event":"outage-start"' "$journal")
if [ "$n_so" = 1 ]; then
	ok "one outage window in the journal (the switchover)"
else
	ko "$n_so outage windows in the journal"
fi

# ---- 4: a second apply changes nothing ----
before=""
for m in $BED_MEMBERS; do before="$before $(bed_count "$bed" "$m" stop)/$(bed_count "$bed" "$m" start)"; done
# Commands begun in every journal of the cluster (a run that has nothing to do may keep the
# last journal instead of starting a new one).
commands() { cat "$state"/bed/journal*.jsonl | grep '"event":"begin"' | grep -c '"command"'; }
ran_before=$(commands)
ccrup apply --yes >"$bed/apply2.log" 2>&1
rc=$?
after=""
for m in $BED_MEMBERS; do after="$after $(bed_count "$bed" "$m" stop)/$(bed_count "$bed" "$m" start)"; done
ran=$(($(commands) - ran_before))
if [ $rc = 0 ] && [ "$before" = "$after" ] && [ "$(bed_timeline "$bed")" = 2 ] && [ "$ran" = 0 ]; then
	ok "a second apply on the upgraded cluster changes nothing (no restart, no switchover, no command)"
else
	ko "second apply: exit $rc, stops/starts$before ->$after, timeline $(bed_timeline "$bed"), $ran commands" "$bed/apply2.log"
fi
finish
