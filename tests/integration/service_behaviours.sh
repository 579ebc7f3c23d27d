#!/bin/sh
# Services with behaviour (docs/ccrsim.md), seen by Debian's OpenSSH client and
# by ccrup applying playbooks/ccr-sp1.yml, on mock-nodes/scenarios/service-behaviours.yml
# at time scale 0:
#   ssh: sc stop refused 1051 (running dependents) and 1061, net stop asking about the
#        dependents (exit 2, nothing stopped), net stop /y stopping them first, a stop
#        that never finishes (sc: STOP_PENDING; net: "could not be stopped", exit 2),
#        a disabled service refusing to start (sc 1058, net 2);
#   apply: Forefront's dependents stopped with their parent (net stop /y); a service
#        still STOP_PENDING after net gave up is waited for (verify `pending`) and the
#        step only passes once it is STOPPED; a service that refuses to stop (1061), one
#        that never stops, and a disabled service the run must start each fail their step
#        at once (or after verify_within), naming node, step and the command's own words.
# Servers on 127.0.0.0/8 only, stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/sim.sh
tmp=$(mktemp -d /tmp/ccrup-svc.XXXXXX)
trap 'sim_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
SCN=mock-nodes/scenarios/service-behaviours.yml
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 15 "$2"; }
# x HOST CMD: stdout in $tmp/out, stderr in $tmp/out.err, exit status in $RC (OpenSSH's ssh
# exits with the remote status modulo 256: sc's 1051 is 27).
x() {
	ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
		-i "$SIM_DIR/client_ed25519" -p "$(sim_inv "$1" port)" "administrator@$(sim_inv "$1" address)" \
		"$2" >"$tmp/out" 2>"$tmp/out.err" </dev/null
	RC=$?
}
has() { grep -qF -- "$2" "$1"; }
state() { x NODE1 "sc query $1"; sed -n 's/.*STATE *: [0-9]  *\([A-Z_]*\).*/\1/p' "$tmp/out"; }

# --- through OpenSSH ---
sim_start "$SCN" 0 "$tmp/ssh" || { no "ccrsim did not start"; exit 1; }
x NODE1 "sc stop FSCController"
if [ "$RC" = $((1051 % 256)) ] && has "$tmp/out" "[SC] ControlService FAILED 1051:" &&
	has "$tmp/out" "other running services are dependent on" && [ "$(state FSCController)" = RUNNING ]; then
	ok "ssh: sc stop with running dependents: FAILED 1051, exit 1051, still RUNNING"
else no "ssh: sc stop 1051 (exit $RC)" "$tmp/out"; fi
x NODE1 "net stop FSCController"
if [ "$RC" = 2 ] && has "$tmp/out" "The following services are dependent on the Microsoft Forefront Server Security Controller service." &&
	has "$tmp/out" "   Microsoft Forefront Server Security Mail Pickup" &&
	has "$tmp/out.err" "No valid response was provided." && [ "$(state FSEIMC)" = RUNNING ]; then
	ok "ssh: net stop with dependents asks, gets no answer, exit 2, nothing stopped"
else no "ssh: net stop dependents (exit $RC)" "$tmp/out"; fi
x NODE1 "net stop FSCController /y"
if [ "$RC" = 0 ] && has "$tmp/out" "Mail Pickup service was stopped successfully." &&
	[ "$(state FSCController)" = STOPPED ] && [ "$(state FSEIMC)" = STOPPED ] && [ "$(state FSEMailPickup)" = STOPPED ]; then
	ok "ssh: net stop /y stops the dependents, then the service, exit 0"
else no "ssh: net stop /y (exit $RC)" "$tmp/out"; fi
sim_ctl set NODE1.service.SysmonLog.refuse_stop 1061 >/dev/null
x NODE1 "sc stop SysmonLog"
rc1=$RC
has "$tmp/out" "The service cannot accept control messages at this time." && t1=1 || t1=0
x NODE1 "net stop SysmonLog"
if [ "$rc1" = $((1061 % 256)) ] && [ "$t1" = 1 ] && [ "$RC" = 2 ] &&
	has "$tmp/out.err" "The service could not be controlled in its present state." &&
	has "$tmp/out.err" "NET HELPMSG 2189." && [ "$(state SysmonLog)" = RUNNING ]; then
	ok "ssh: a service refusing its stop: sc 1061, net exit 2 (NET HELPMSG 2189), still RUNNING"
else no "ssh: refuse 1061 (sc $rc1, net $RC)" "$tmp/out.err"; fi
sim_ctl set NODE1.service.W32Time.stop_hang never >/dev/null
x NODE1 "sc stop W32Time"
rc1=$RC
x NODE1 "net stop W32Time"
if [ "$rc1" = 0 ] && [ "$RC" = 2 ] && has "$tmp/out.err" "The service is starting or stopping." &&
	[ "$(state W32Time)" = STOP_PENDING ]; then
	ok "ssh: a stop that never finishes: sc exit 0, STOP_PENDING stays, net stop exit 2 (2189)"
else no "ssh: stop_hang never (sc $rc1, net $RC)" "$tmp/out.err"; fi
sim_ctl set NODE1.service.W32Time.state RUNNING >/dev/null
x NODE1 "net stop W32Time"
if [ "$RC" = 2 ] && has "$tmp/out" "The W32Time service is stopping" &&
	has "$tmp/out.err" "The W32Time service could not be stopped." && [ "$(state W32Time)" = STOP_PENDING ]; then
	ok "ssh: net stop gives up on a service that does not stop: could not be stopped, exit 2, STOP_PENDING"
else no "ssh: net gives up (exit $RC)" "$tmp/out.err"; fi
x NODE1 "sc start SharedAccess"
rc1=$RC
x NODE1 "net start SharedAccess"
if [ "$rc1" = $((1058 % 256)) ] && [ "$RC" = 2 ] && has "$tmp/out.err" "System error 1058 has occurred." &&
	[ "$(state SharedAccess)" = STOPPED ]; then
	ok "ssh: a disabled service: sc start 1058, net start exit 2 (System error 1058)"
else no "ssh: disabled (sc $rc1, net $RC)" "$tmp/out.err"; fi
sim_stop

# --- ccrup apply ---
# apply NAME EXPECTED_EXIT PLAYBOOK [PATH=VALUE (ctl set) | event=JSON ...]: at time scale
# $SCALE (default 0).
apply() {
	name=$1 want=$2 pbk=$3
	shift 3
	sim_start "$SCN" "${SCALE:-0}" "$tmp/$name/sim" || { no "$name: ccrsim"; return 1; }
	for kv in "$@"; do
		case $kv in
		event=*) sim_ctl event-add "${kv#event=}" >/dev/null ;;
		*) sim_ctl set "${kv%%=*}" "${kv#*=}" >/dev/null ;;
		esac
	done
	bin/ccrup apply "$SIM_INV" --yes -p "$pbk" --state-dir "$tmp/$name/state" -o json \
		>"$tmp/$name.jsonl" 2>"$tmp/$name.log"
	got=$?
	sim_ctl dump >"$tmp/$name.json"
	sim_stop
	[ "$got" = "$want" ] && return 0
	no "$name: apply exited $got, want $want" "$tmp/$name.log"
	return 1
}
PB=playbooks/ccr-sp1.yml
svc() { python3 -c "import json; w=json.load(open('$tmp/$1.json')); h=[h for h in w['hosts'] if h['name']=='$2'][0]; print(h['services']['$3']['state'] if '$3' in h['services'] else h['commands'].get('$3', 0))"; }

if apply forefront 0 "$PB"; then
	if [ "$(svc forefront NODE2 'net stop FSCController /y')" -ge 1 ] && [ "$(svc forefront NODE1 'net stop FSCController /y')" -ge 1 ] &&
		[ "$(svc forefront NODE2 FSEIMC)" = RUNNING ]; then
		ok "apply: Forefront's dependents stopped with FSCController (net stop /y) on both nodes; back after the restart"
	else no "apply: forefront world" "$tmp/forefront.log"; fi
fi

# At time scale 0.001 NODE2's agent takes 60 min (3.6 s) to stop while net waits 30 s
# (30 ms): net gives up, the service is still STOP_PENDING, verify must wait for it.
if SCALE=0.001 apply slow 0 "$PB" NODE2.service.HealthService.stop_hang=60m; then
	if grep '"event":"waiting"' "$tmp/slow.jsonl" | grep -q '"step":"passive.stop-service\[HealthService\]","node":"NODE2"' &&
		grep '"event":"step-done"' "$tmp/slow.jsonl" | grep -q '"step":"passive.stop-service\[HealthService\]","node":"NODE2"' &&
		[ "$(svc slow NODE2 'net stop HealthService /y')" = 1 ]; then
		ok "apply: a service still STOP_PENDING after net stop gave up is waited for, then the step is done"
	else no "apply: slow stop not waited for" "$tmp/slow.log"; fi
fi

if apply refuse 1 "$PB" NODE2.service.SysmonLog.refuse_stop=1061; then
	if grep -q "FAILED: cluster CLUS1, node NODE2, step passive.stop-service\[SysmonLog\]: verify failed after \`net stop SysmonLog /y\` exited 2 (accepted by ok_exit).*the command said: The service could not be controlled in its present state." "$tmp/refuse.log" &&
		! grep -q "still after" "$tmp/refuse.log"; then
		ok "apply: a refused stop (1061) fails its step at once, naming node, step and net's words"
	else no "apply: refusal message" "$tmp/refuse.log"; fi
fi

sed -e 's/^      verify_within: 10m$/      verify_within: 1s/' "$PB" >"$tmp/short.yml"
if apply never 1 "$tmp/short.yml" NODE2.service.HealthService.stop_hang=never; then
	if grep -q "node NODE2, step passive.stop-service\[HealthService\]: verify failed after \`net stop HealthService /y\` exited 2 (accepted by ok_exit): .* is false, still after 1s.*the command said: The OpsMgr Health Service service could not be stopped." "$tmp/never.log"; then
		ok "apply: a stop that never finishes fails after verify_within, naming node, step and cause"
	else no "apply: never-stopping message" "$tmp/never.log"; fi
fi

if apply disabled 1 "$PB" NODE2.service.RemoteRegistry.start=DISABLED; then
	if grep -q "node NODE2, step passive.start-remote-registry: verify failed after \`net start RemoteRegistry\` exited 2 (accepted by ok_exit).*the command said: System error 1058 has occurred." "$tmp/disabled.log"; then
		ok "apply: a disabled service the run must start fails its step, naming System error 1058"
	else no "apply: disabled message" "$tmp/disabled.log"; fi
fi

echo "service_behaviours: $pass passed, $fail failed"
[ "$fail" = 0 ]
