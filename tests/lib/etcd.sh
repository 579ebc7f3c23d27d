# Throwaway etcd clusters for tests: members on 127.0.0.1, client and peer
# ports from a base the caller picks (tests use 12000-12999, below Linux's
# ephemeral range), data in a temporary directory, stopped by PID.
# Usage: . tests/lib/etcd.sh; etcd_start DIR BASE N   (N = 1 or 3 members)
# Member i (1..N) listens for clients on BASE+2i and for peers on BASE+2i+1.
# ETCD_URLS is "127.0.0.1:P1,127.0.0.1:P2,...", ready for etcd://$ETCD_URLS/prefix.
# Elections are quick (heartbeat 50 ms, election timeout 500 ms) so tests that
# kill the leader do not wait long.

etcd_member_args() {
	_i=$1
	_cp=$((ETCD_BASE + 2 * _i))
	_pp=$((ETCD_BASE + 2 * _i + 1))
	echo "--name m$_i --data-dir $ETCD_DIR/m$_i.data \
--listen-client-urls http://127.0.0.1:$_cp --advertise-client-urls http://127.0.0.1:$_cp \
--listen-peer-urls http://127.0.0.1:$_pp --initial-advertise-peer-urls http://127.0.0.1:$_pp \
--initial-cluster $ETCD_CLUSTER --initial-cluster-token ccrup-test-$ETCD_BASE \
--initial-cluster-state ${ETCD_STATE:-new} --heartbeat-interval 50 --election-timeout 500 \
--log-level error --logger zap"
}

# etcd_member_start I: (re)start member I with its existing data directory.
etcd_member_start() {
	# shellcheck disable=SC2046
	etcd $(etcd_member_args "$1") >>"$ETCD_DIR/m$1.log" 2>&1 &
	echo $! >"$ETCD_DIR/m$1.pid"
}

# etcd_member_kill I [SIGNAL]: stop member I by its PID (SIGKILL by default).
etcd_member_kill() {
	_p=$(cat "$ETCD_DIR/m$1.pid" 2>/dev/null)
	[ -n "$_p" ] || return 0
	kill "-${2:-KILL}" "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	rm -f "$ETCD_DIR/m$1.pid"
}

# etcd_healthy: 0 once a range request succeeds (a leader exists).
etcd_healthy() {
	for _e in $(echo "$ETCD_URLS" | tr ',' ' '); do
		curl -s -m 1 -X POST "http://$_e/v3/kv/range" -d '{"key":"AA=="}' 2>/dev/null |
			grep -q '"revision"' && return 0
	done
	return 1
}

etcd_wait_healthy() {
	_i=0
	while ! etcd_healthy; do
		_i=$((_i + 1))
		[ "$_i" -gt 200 ] && { echo "etcd did not become healthy" >&2; cat "$ETCD_DIR"/m*.log >&2; return 1; }
		sleep 0.05
	done
}

etcd_start() {
	ETCD_DIR=$1; ETCD_BASE=$2; ETCD_N=$3
	mkdir -p "$ETCD_DIR"
	ETCD_CLUSTER=
	ETCD_URLS=
	_i=1
	while [ "$_i" -le "$ETCD_N" ]; do
		ETCD_CLUSTER="${ETCD_CLUSTER:+$ETCD_CLUSTER,}m$_i=http://127.0.0.1:$((ETCD_BASE + 2 * _i + 1))"
		ETCD_URLS="${ETCD_URLS:+$ETCD_URLS,}127.0.0.1:$((ETCD_BASE + 2 * _i))"
		_i=$((_i + 1))
	done
	_i=1
	while [ "$_i" -le "$ETCD_N" ]; do
		etcd_member_start "$_i"
		_i=$((_i + 1))
	done
	etcd_wait_healthy
}

etcd_stop() {
	[ -n "${ETCD_DIR:-}" ] || return 0
	_i=1
	while [ "$_i" -le "${ETCD_N:-0}" ]; do
		etcd_member_kill "$_i" TERM
		_i=$((_i + 1))
	done
}

# etcd_leader: the member number (1..N) that is the leader now.
etcd_leader() {
	_i=1
	while [ "$_i" -le "$ETCD_N" ]; do
		_st=$(curl -s -m 1 -X POST "http://127.0.0.1:$((ETCD_BASE + 2 * _i))/v3/maintenance/status" -d '{}' 2>/dev/null)
		if [ -n "$_st" ] && python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s.get("leader") and s["leader"] == s["header"]["member_id"] else 1)' "$_st" 2>/dev/null; then
			echo "$_i"
			return 0
		fi
		_i=$((_i + 1))
	done
	return 1
}
