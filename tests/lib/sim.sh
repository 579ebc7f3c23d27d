# Shared shell helpers for scripts that run ccrsim on loopback: start it, wait
# until it is ready, talk to its control socket, stop it by PID.
# Usage: . tests/lib/sim.sh; sim_start SCENARIO SCALE DIR [extra ccrsim args]
# SIM_WRAPPER (e.g. "valgrind -q") prefixes the ccrsim command.
# SIM_TRANSPORT=winrm makes the generated inventory reach the hosts over WinRM.

sim_start() {
	_scn=$1; _scale=$2; SIM_DIR=$3; shift 3
	mkdir -p "$SIM_DIR"
	# Tests may run side by side: each ccrsim gets its own port range, retried
	# on a collision.  Scenarios number their hosts from base_port; SSH ports
	# 17100-19999, HT/CAS HTTP (SSH + 10000) 27100-29999, WinRM HTTP (SSH - 8000)
	# 9100-11999 and HTTPS (SSH - 16000) 1100-3999: every port below the
	# ephemeral range (32768-60999), the bands never overlap (bench/ uses SSH
	# 20000-21999, etcd in tests 12200-12499), and a fleet spreads its hosts over
	# loopback addresses, keeping these ports.
	_try=0
	while :; do
		# Above 16000: hosts sharing 127.0.0.1 with SSH ports of 16000 or less would
		# all want WinRM's own 5985/5986 (docs/ccrsim.md) and collide.
		_base=$(( 17100 + ( ($$ * 7 + _try * 131 + $(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 29) * 100 ))
		sed -e '/^base_port:/d' "$_scn" >"$SIM_DIR/scenario.yml"
		printf 'base_port: %s\n' "$_base" >>"$SIM_DIR/scenario.yml"
		rm -f "$SIM_DIR/ccrsim.pid"
		${SIM_WRAPPER:-} bin/ccrsim --scenario "$SIM_DIR/scenario.yml" --time-scale "$_scale" \
			--state-dir "$SIM_DIR" --transport "${SIM_TRANSPORT:-ssh}" "$@" \
			>"$SIM_DIR/ccrsim.log" 2>&1 &
		SIM_PID=$!
		# 30 s to be ready (key generation under load); 3 minutes under a wrapper (valgrind).
		_i=0
		_max=600
		if [ -n "${SIM_WRAPPER:-}" ]; then _max=3600; fi
		while [ ! -s "$SIM_DIR/ccrsim.pid" ] && kill -0 "$SIM_PID" 2>/dev/null && [ "$_i" -lt "$_max" ]; do
			_i=$((_i + 1))
			sleep 0.05
		done
		[ -s "$SIM_DIR/ccrsim.pid" ] && break
		# Not ready in time: stopped, never waited for forever.
		if kill "$SIM_PID" 2>/dev/null; then echo "ccrsim: not ready after $((_max / 20)) s" >>"$SIM_DIR/ccrsim.log"; fi
		wait "$SIM_PID" 2>/dev/null || true # (scripts under set -e: its failure is handled below)
		_try=$((_try + 1))
		if ! grep -q "in use" "$SIM_DIR/ccrsim.log" || [ "$_try" -ge 8 ]; then
			echo "ccrsim did not start:" >&2
			cat "$SIM_DIR/ccrsim.log" >&2
			SIM_PID=
			return 1
		fi
	done
	SIM_INV="$SIM_DIR/inventory.yml"
}

sim_stop() {
	if [ -n "${SIM_PID:-}" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
		SIM_PID=
	fi
}

# sim_ctl ARGS...: the control client, against the running simulator.
sim_ctl() {
	bin/ccrsim ctl --state-dir "$SIM_DIR" "$@"
}

# sim_inv HOST KEY: a field of HOST in the generated inventory (address, port, ...).
sim_inv() {
	awk -v h="  $1:" -v k="$2:" '$0 == h { f = 1; next } f && $1 == k { print $2; exit }' "$SIM_INV"
}

# sim_ssh HOST CMD [ssh options]: OpenSSH's client as administrator, strict known_hosts,
# the generated client key, no agent.
sim_ssh() {
	_h=$1; _c=$2; shift 2
	ssh -F /dev/null -o UserKnownHostsFile="$SIM_DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
		-i "$SIM_DIR/client_ed25519" -p "$(sim_inv "$_h" port)" "$@" "administrator@$(sim_inv "$_h" address)" "$_c"
}

# sim_json PYEXPR: evaluate a Python expression over the world dump `w`.
sim_json() {
	sim_ctl dump | python3 -c "import json,sys; w=json.load(sys.stdin); print($1)"
}

# journal_has JOURNAL EVENT STEP NODE: the local journal holds that record.
journal_has() {
	[ -f "$1" ] && grep -F "\"event\":\"$2\"" "$1" | grep -F "\"step\":\"$3\"" | grep -qF "\"node\":\"$4\""
}
# wait_begin JOURNAL STEP NODE: until STEP's begin on NODE is journaled, or the run
# in $APID ended (30 s at most); then whether it is.
wait_begin() {
	_i=0
	while ! journal_has "$1" begin "$2" "$3" && kill -0 "$APID" 2>/dev/null && [ $_i -lt 3000 ]; do
		_i=$((_i + 1))
		sleep 0.01
	done
	journal_has "$1" begin "$2" "$3"
}
