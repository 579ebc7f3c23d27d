# A real Patroni cluster on loopback, for the tests, the demo and the benchmark:
# one etcd, three Patroni members (pg1..pg3) each managing a PostgreSQL 15 instance
# as user postgres, each member on its own address (NET.1..NET.3, the same ports on
# each, like three hosts) and reachable through its own OpenSSH sshd there.
# Usage: . tests/lib/patroni_bed.sh
#   bed_start DIR [NET]     NET defaults to 127.0.2 (etcd on NET.10:13379/13380,
#                           PostgreSQL :5432, Patroni REST :8008, sshd :2222 per member);
#                           DIR must not exist yet or be empty.  Waits until pg1 leads
#                           and pg2, pg3 stream.
#   bed_inventory DIR FILE  an inventory for playbooks/patroni-rolling.yml
#   bed_prepare_upgrade DIR a restart-requiring change (max_connections) pending on
#                           every member
#   bed_writer_start DIR    the continuous writer (tests/lib/pg_writer.py)
#   bed_writer_stop DIR     stop it; prints its summary JSON (DIR/writer.json)
#   bed_sql DIR SQL         run SQL on the current primary (psql -tA)
#   bed_leader DIR          the current leader's name
#   bed_stop DIR            stop everything started under DIR, by pid
# Each member's "host" is DIR/pgN: patroni.yml, data/, sock/, bin/ (PostgreSQL's
# programs: links, and a copy of the server that the apt-get stand-in replaces),
# systemctl, apt-get and dpkg-query stand-ins (tests/fixtures/patroni), logs.

BED_PY=/usr/bin/python3
BED_PGBIN=/usr/lib/postgresql/15/bin
BED_MEMBERS="pg1 pg2 pg3"
BED_PASS=bed-secret

bed_log() { echo "patroni bed: $*" >&2; }

# bed_addr DIR MEMBER -> its address
bed_addr() { echo "$(cat "$1/net").${2#pg}"; }

bed_etcd_start() {
	_d=$1 _net=$2
	mkdir -p "$_d/etcd/data" || return 1
	etcd --name bed --data-dir "$_d/etcd/data" \
		--listen-client-urls "http://$_net.10:13379" --advertise-client-urls "http://$_net.10:13379" \
		--listen-peer-urls "http://$_net.10:13380" --initial-advertise-peer-urls "http://$_net.10:13380" \
		--initial-cluster "bed=http://$_net.10:13380" --initial-cluster-state new \
		--listen-metrics-urls '' >"$_d/etcd/etcd.log" 2>&1 &
	echo $! >"$_d/etcd/pid"
	_i=0
	until curl -sf "http://$_net.10:13379/health" 2>/dev/null | grep -q true; do
		_i=$((_i + 1))
		if [ $_i -gt 200 ] || ! kill -0 "$(cat "$_d/etcd/pid")" 2>/dev/null; then
			bed_log "etcd did not start"; tail -n 20 "$_d/etcd/etcd.log" >&2; return 1
		fi
		sleep 0.05
	done
}

bed_sshd_start() {
	_d=$1 _m=$2 _a=$3
	_nd=$_d/ssh/$_m
	mkdir -p "$_nd" || return 1
	ssh-keygen -q -t ed25519 -N '' -C "$_m" -f "$_nd/hostkey" </dev/null || return 1
	cat >"$_nd/config" <<-CONF
	ListenAddress $_a
	Port 2222
	HostKey $_nd/hostkey
	PidFile $_nd/sshd.pid
	AuthorizedKeysFile $_d/ssh/authorized_keys
	StrictModes no
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	UsePAM no
	SetEnv SHLVL=1
	PermitUserEnvironment no
	AllowTcpForwarding no
	X11Forwarding no
	PrintMotd no
	MaxStartups 100
	MaxSessions 50
	LogLevel INFO
	CONF
	: >"$_nd/sshd.log"
	/usr/sbin/sshd -D -e -f "$_nd/config" >>"$_nd/sshd.log" 2>&1 &
	echo $! >"$_nd/sshd.bgpid"
	_i=0
	until grep -q "Server listening on $_a port 2222" "$_nd/sshd.log"; do
		_i=$((_i + 1))
		if [ $_i -gt 200 ] || ! kill -0 "$(cat "$_nd/sshd.bgpid")" 2>/dev/null; then
			bed_log "sshd for $_m did not start"; cat "$_nd/sshd.log" >&2; return 1
		fi
		sleep 0.05
	done
	printf '[%s]:2222 %s\n' "$_a" "$(cut -d' ' -f1,2 "$_nd/hostkey.pub")" >>"$_d/ssh/known_hosts"
}

bed_member_setup() {
	_d=$1 _m=$2
	_a=$(bed_addr "$_d" "$_m")
	_md=$_d/$_m
	mkdir -p "$_md/bin" "$_md/sock" || return 1
	for _f in "$BED_PGBIN"/*; do
		[ "$(basename "$_f")" = postgres ] || ln -s "$_f" "$_md/bin/"
	done
	cp "$BED_PGBIN/postgres" "$_md/bin/postgres" || return 1
	# The server finds its libraries at ../lib from where it runs.
	ln -s "$BED_PGBIN/../lib" "$_md/lib" || return 1
	echo "$(dpkg-query -W -f '${Version}' postgresql-15 2>/dev/null || echo 15)" >"$_md/installed"
	for _t in systemctl apt-get dpkg-query; do
		ln -s "$PWD/tests/fixtures/patroni/$_t" "$_md/$_t" || return 1
	done
	cat >"$_md/patroni.yml" <<-YML
	scope: bed
	name: $_m
	log:
	  level: INFO
	restapi:
	  listen: $_a:8008
	  connect_address: $_a:8008
	etcd3:
	  hosts: [$(cat "$_d/net").10:13379]
	bootstrap:
	  dcs:
	    ttl: 20
	    loop_wait: 1
	    retry_timeout: 5
	    maximum_lag_on_failover: 16777216
	    postgresql:
	      use_pg_rewind: true
	      use_slots: true
	      parameters:
	        max_connections: 100
	        wal_level: replica
	        hot_standby: 'on'
	        max_wal_senders: 10
	        max_replication_slots: 10
	        wal_keep_size: 256MB
	        fsync: 'on'
	        synchronous_commit: 'on'
	        shared_buffers: 16MB
	  initdb:
	    - encoding: UTF8
	    - auth: scram-sha-256
	  pg_hba:
	    - local all all trust
	    - host replication replicator 127.0.0.0/8 scram-sha-256
	    - host all all 127.0.0.0/8 scram-sha-256
	postgresql:
	  listen: $_a:5432
	  connect_address: $_a:5432
	  data_dir: $_md/data
	  bin_dir: $_md/bin
	  pgpass: $_md/pgpass
	  authentication:
	    superuser: {username: postgres, password: $BED_PASS}
	    replication: {username: replicator, password: $BED_PASS}
	  pg_hba:
	    - local all all trust
	    - host replication replicator 127.0.0.0/8 scram-sha-256
	    - host all all 127.0.0.0/8 scram-sha-256
	  parameters:
	    unix_socket_directories: $_md/sock
	YML
	chown -R postgres:postgres "$_md" && chmod 0700 "$_md" || return 1
	# The member's own stand-ins and files stay readable to root only where it matters;
	# postgres must reach its data, socket and config.
	bed_sshd_start "$_d" "$_m" "$_a"
}

# bed_wait DIR SECONDS COND-FUNCTION ...: poll until the function succeeds
bed_wait() {
	_d=$1 _s=$2
	shift 2
	_end=$(($(date +%s) + _s))
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}

# bed_cluster DIR: /cluster from any member that answers
bed_cluster() {
	for _m in $BED_MEMBERS; do
		curl -sf --max-time 2 "http://$(bed_addr "$1" "$_m"):8008/cluster" 2>/dev/null && return 0
	done
	return 1
}

# bed_healthy DIR: one leader running, every other member running with a streaming receiver
bed_healthy() {
	bed_cluster "$1" | $BED_PY -c '
import json, sys
c = json.load(sys.stdin)
m = c.get("members", [])
leaders = [x for x in m if x.get("role") == "leader" and x.get("state") == "running"]
reps = [x for x in m if x.get("role") == "replica" and x.get("state") in ("running", "streaming")
        and isinstance(x.get("lag"), int) and x["lag"] <= 1048576]
sys.exit(0 if len(m) == 3 and len(leaders) == 1 and len(reps) == 2 else 1)' 2>/dev/null
}

bed_leader() {
	bed_cluster "$1" | $BED_PY -c '
import json, sys
print(next((x["name"] for x in json.load(sys.stdin)["members"] if x.get("role") == "leader"), ""))'
}

bed_start() {
	_d=$1 _net=${2:-127.0.2}
	mkdir -p "$_d" && chmod 0755 "$_d" || return 1
	echo "$_net" >"$_d/net"
	mkdir -p "$_d/ssh" && chmod 0700 "$_d/ssh" || return 1
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || return 1
	ssh-keygen -q -t ed25519 -N '' -C ccrup-bed -f "$_d/ssh/client_ed25519" </dev/null || return 1
	cp "$_d/ssh/client_ed25519.pub" "$_d/ssh/authorized_keys"
	: >"$_d/ssh/known_hosts"
	bed_etcd_start "$_d" "$_net" || return 1
	for _m in $BED_MEMBERS; do
		bed_member_setup "$_d" "$_m" || return 1
	done
	"$_d/pg1/systemctl" start patroni || return 1
	# pg1 bootstraps the cluster; the others clone it once it leads.
	_lead() { [ "$(bed_leader "$1" 2>/dev/null)" = pg1 ]; }
	bed_wait "$_d" 60 _lead "$_d" || { bed_log "pg1 did not become the leader"; tail -n 30 "$_d/pg1/patroni.log" >&2; return 1; }
	"$_d/pg2/systemctl" start patroni && "$_d/pg3/systemctl" start patroni || return 1
	bed_wait "$_d" 90 bed_healthy "$_d" || { bed_log "the replicas did not start streaming"; bed_cluster "$_d" >&2; return 1; }
	bed_sql "$_d" "CREATE TABLE IF NOT EXISTS ticks (n bigint PRIMARY KEY, at timestamptz DEFAULT now())" >/dev/null
}

# bed_dsn DIR: the multi-host connection string clients use (read-write: the primary)
bed_dsn() {
	_n=$(cat "$1/net")
	echo "host=$_n.1,$_n.2,$_n.3 port=5432,5432,5432 dbname=postgres user=postgres password=$BED_PASS target_session_attrs=read-write connect_timeout=2"
}

bed_sql() {
	PGPASSWORD=$BED_PASS PGCONNECT_TIMEOUT=3 psql -X -q -tA "$(bed_dsn "$1" | sed "s/password=$BED_PASS //")" -c "$2"
}

bed_prepare_upgrade() {
	_l=$(bed_leader "$1")
	runuser -u postgres -- patronictl -c "$1/$_l/patroni.yml" edit-config --force \
		-s postgresql.parameters.max_connections=110 >/dev/null || return 1
	_pending() {
		for _m in $BED_MEMBERS; do
			curl -sf --max-time 2 "http://$(bed_addr "$1" "$_m"):8008/patroni" | grep -q '"pending_restart": true' || return 1
		done
	}
	bed_wait "$1" 30 _pending "$1"
}

bed_inventory() {
	_d=$1 _f=$2
	{
		printf 'inventory: patroni-bed\nformat: 1\n\nssh:\n'
		printf '  known_hosts: %s\n  connect_timeout: 5s\n  command_timeout: 2m\n\n' "$_d/ssh/known_hosts"
		printf 'defaults:\n  user: root\n  port: 2222\n  identity: %s\n\nhosts:\n' "$_d/ssh/client_ed25519"
		for _m in $BED_MEMBERS; do
			printf '  %s:\n    address: %s\n    vars:\n' "$_m" "$(bed_addr "$_d" "$_m")"
			printf '      api_url: http://%s:8008\n' "$(bed_addr "$_d" "$_m")"
			printf '      patroni_config: %s/patroni.yml\n' "$_d/$_m"
			printf '      systemctl: %s/systemctl\n' "$_d/$_m"
			printf '      apt_get: %s/apt-get\n' "$_d/$_m"
			printf '      dpkg_query: %s/dpkg-query\n' "$_d/$_m"
			printf '      pg_socket: %s/sock\n' "$_d/$_m"
		done
		printf '\nclusters:\n  - name: bed\n    members: [pg1, pg2, pg3]\n'
		printf '    vars:\n      target_version: %s\n' "${BED_TARGET_VERSION:-15.99-0+bed1}"
	} >"$_f"
}

bed_writer_start() {
	$BED_PY "$PWD/tests/lib/pg_writer.py" --dsn "$(bed_dsn "$1")" --log "$1/writer.log" \
		--summary "$1/writer.json" >"$1/writer.out" 2>&1 &
	echo $! >"$1/writer.pid"
	_w() { [ -s "$1/writer.log" ]; }
	bed_wait "$1" 20 _w "$1"
}

bed_writer_stop() {
	[ -f "$1/writer.pid" ] || return 1
	kill -TERM "$(cat "$1/writer.pid")" 2>/dev/null
	_i=0
	while kill -0 "$(cat "$1/writer.pid")" 2>/dev/null && [ $_i -lt 100 ]; do
		_i=$((_i + 1)); sleep 0.1
	done
	rm -f "$1/writer.pid"
	cat "$1/writer.json"
}

bed_stop() {
	_d=$1
	[ -f "$_d/writer.pid" ] && kill -TERM "$(cat "$_d/writer.pid")" 2>/dev/null
	for _m in $BED_MEMBERS; do
		[ -x "$_d/$_m/systemctl" ] && "$_d/$_m/systemctl" stop patroni >/dev/null 2>&1
	done
	for _m in $BED_MEMBERS; do
		# A PostgreSQL left behind by a killed Patroni: stop it by its own pid file.
		if [ -f "$_d/$_m/data/postmaster.pid" ]; then
			_p=$(head -n 1 "$_d/$_m/data/postmaster.pid")
			[ -n "$_p" ] && kill -INT "$_p" 2>/dev/null
		fi
		_p=$(cat "$_d/ssh/$_m/sshd.bgpid" 2>/dev/null)
		[ -n "$_p" ] && kill "$_p" 2>/dev/null
	done
	_p=$(cat "$_d/etcd/pid" 2>/dev/null)
	[ -n "$_p" ] && kill "$_p" 2>/dev/null
	sleep 0.2
	return 0
}

# bed_timeline DIR: the current timeline (1 after bootstrap, +1 per promotion)
bed_timeline() {
	curl -sf --max-time 3 "http://$(bed_addr "$1" "$(bed_leader "$1")"):8008/patroni" |
		$BED_PY -c 'import json,sys; print(json.load(sys.stdin).get("timeline", 0))'
}

# bed_count DIR MEMBER VERB: how many times the service stand-in did VERB (start/stop)
bed_count() { grep -c " $3\$" "$1/$2/service.log" 2>/dev/null || echo 0; }

# bed_summary DIR: the rows check (DIR/rows.json) and one line: rows acknowledged, rows
# found in the final primary, the longest write outage, switchovers, restarts per member.
# Exit 1 when an acknowledged row is missing.
bed_summary() {
	_rc=0
	$BED_PY "$PWD/tests/lib/pg_rows_check.py" --log "$1/writer.log" --dsn "$(bed_dsn "$1")" >"$1/rows.json" || _rc=1
	_r=""
	for _m in $BED_MEMBERS; do _r="$_r $_m=$(bed_count "$1" "$_m" stop)"; done
	$BED_PY - "$1/rows.json" "$1/writer.json" "$(bed_timeline "$1")" "$_r" <<-'PY'
	import json, sys
	rows = json.load(open(sys.argv[1]))
	w = json.load(open(sys.argv[2]))
	print("rows acknowledged: %d, found in the final primary: %d (%d lost), longest write outage: %.2f s, "
	      "switchovers: %d, restarts per member:%s" % (rows["acknowledged"], rows["found"], rows["lost"],
	      w["longest_gap_s"], int(sys.argv[3]) - 1, sys.argv[4]))
	PY
	return $_rc
}

# bed_free_net: a 127.X.Y network whose etcd address is free (tests run side by side)
bed_free_net() {
	_i=0
	while [ $_i -lt 50 ]; do
		_n="127.$((20 + ($$ + _i * 7) % 200)).$((1 + ($$ / 200 + _i) % 250))"
		if ! ss -ltn 2>/dev/null | grep -q " $_n\."; then
			echo "$_n"
			return 0
		fi
		_i=$((_i + 1))
	done
	return 1
}
