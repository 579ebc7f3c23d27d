# Shared shell helpers for scripts that run ccrsim on loopback: start it, wait
# until it is ready, talk to its control socket, stop it by PID.
# Usage: . tests/lib/sim.sh; sim_start SCENARIO SCALE DIR [extra ccrsim args]

sim_start() {
	_scn=$1; _scale=$2; SIM_DIR=$3; shift 3
	mkdir -p "$SIM_DIR"
	rm -f "$SIM_DIR/ccrsim.pid"
	bin/ccrsim --scenario "$_scn" --time-scale "$_scale" --state-dir "$SIM_DIR" "$@" \
		>"$SIM_DIR/ccrsim.log" 2>&1 &
	SIM_PID=$!
	_i=0
	while [ ! -s "$SIM_DIR/ccrsim.pid" ]; do
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "ccrsim did not start:" >&2
			cat "$SIM_DIR/ccrsim.log" >&2
			return 1
		fi
		_i=$((_i + 1))
		if [ "$_i" -gt 600 ]; then
			echo "ccrsim not ready after 60 s" >&2
			return 1
		fi
		sleep 0.1
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

# sim_json PYEXPR: evaluate a Python expression over the world dump `w`.
sim_json() {
	sim_ctl dump | python3 -c "import json,sys; w=json.load(sys.stdin); print($1)"
}
