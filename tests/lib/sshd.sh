# Shared shell helpers that run Debian's OpenSSH server on loopback as test
# "nodes": one sshd per node, each with its own generated host key and port,
# all accepting one generated client key, stopped by PID.
# Usage: . tests/lib/sshd.sh
#   sshd_init DIR              client key DIR/client_ed25519, DIR/authorized_keys,
#                              an empty DIR/known_hosts; fails if sshd is missing
#   sshd_start NAME DIR        start node NAME: DIR/NAME/{config,hostkey,sshd.log,sshd.pid};
#                              sets SSHD_PORT (also in DIR/NAME/port) and appends the
#                              host key to DIR/known_hosts
#   sshd_stop_all DIR          stop every sshd started under DIR (by the pid each wrote)
# The servers listen on 127.0.0.1 only.  Commands run through the login user's shell
# with SHLVL=1, so bash does not read ~/.bashrc (root's may be slow or print things).

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

sshd_init() {
	_d=$1
	if [ ! -x "$SSHD_BIN" ]; then
		echo "$SSHD_BIN is missing: install openssh-server (make deps) to run the OpenSSH tests" >&2
		return 1
	fi
	# The privilege-separation directory the Debian package creates at service start.
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || return 1
	mkdir -p "$_d" && chmod 0700 "$_d" || return 1
	ssh-keygen -q -t ed25519 -N '' -C ccrup-test-client -f "$_d/client_ed25519" </dev/null || return 1
	cp "$_d/client_ed25519.pub" "$_d/authorized_keys" && chmod 0600 "$_d/authorized_keys"
	: >"$_d/known_hosts"
	chmod 0600 "$_d/known_hosts"
}

sshd_start() {
	_n=$1 _d=$2
	_nd=$_d/$_n
	mkdir -p "$_nd" || return 1
	[ -f "$_nd/hostkey" ] ||
		ssh-keygen -q -t ed25519 -N '' -C "$_n" -f "$_nd/hostkey" </dev/null || return 1
	_try=0
	while :; do
		# 20000-22999: below tests/lib/sim.sh's 23000-30999, the fault matrix's
		# 31000-32699 and the ephemeral range (32768-); a collision is retried.
		SSHD_PORT=$(( 20000 + ( ($$ * 13 + _try * 977 + $(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 3000) ))
		cat >"$_nd/config" <<-CONF
		ListenAddress 127.0.0.1
		Port $SSHD_PORT
		HostKey $_nd/hostkey
		PidFile $_nd/sshd.pid
		AuthorizedKeysFile $_d/authorized_keys
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
		rm -f "$_nd/sshd.pid"
		: >"$_nd/sshd.log" # before the background job opens it: the wait below reads it
		"$SSHD_BIN" -D -e -f "$_nd/config" >>"$_nd/sshd.log" 2>&1 &
		_pid=$!
		echo "$_pid" >"$_nd/sshd.bgpid"
		_i=0
		while ! grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$_nd/sshd.log" &&
			kill -0 "$_pid" 2>/dev/null && [ $_i -lt 200 ]; do
			_i=$((_i + 1))
			sleep 0.05
		done
		if grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$_nd/sshd.log"; then
			break
		fi
		kill "$_pid" 2>/dev/null
		wait "$_pid" 2>/dev/null
		_try=$((_try + 1))
		if ! grep -qi "in use" "$_nd/sshd.log" || [ $_try -ge 8 ]; then
			echo "sshd for $_n did not start:" >&2
			cat "$_nd/sshd.log" >&2
			return 1
		fi
	done
	echo "$SSHD_PORT" >"$_nd/port"
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$_nd/hostkey.pub")" >>"$_d/known_hosts"
}

sshd_stop_all() {
	for _p in "$1"/*/sshd.bgpid; do
		[ -f "$_p" ] || continue
		_pid=$(cat "$_p")
		kill "$_pid" 2>/dev/null && wait "$_pid" 2>/dev/null
		rm -f "$_p"
	done
}
