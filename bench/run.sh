#!/bin/sh
# make bench: the ccrup benchmarks against ccrsim on loopback (never part of `make check`).
# Installs what is missing (Debian's ansible, openssh-client, time), builds the bench
# helpers against build/libccrup.a, runs bench/bench.py (results in
# build/bench/results.json), then writes docs/benchmarks.md with bench/report.py.
# Environment knobs: see bench/bench.py (BENCH_RUNS, BENCH_FLEETS, BENCH_ONLY, ...).
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v ansible-playbook >/dev/null 2>&1 || missing="$missing ansible"
command -v ssh >/dev/null 2>&1 || missing="$missing openssh-client"
[ -x /usr/bin/time ] || missing="$missing time"
python3 -c 'import yaml' 2>/dev/null || missing="$missing python3-yaml"
if [ -n "$missing" ]; then
	echo "bench: installing$missing"
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
	else
		echo "bench: not root: install$missing first" >&2
		exit 1
	fi
fi

# The bench helpers: built here, not by the main Makefile.
BUILD=${BUILD:-build}
B="$BUILD/bench"
mkdir -p "$B"
PKGS="libssh yaml-0.1 libcurl jansson"
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g"
if [ ! -x "$B/reap" ] || [ bench/reap.c -nt "$B/reap" ]; then
	cc $CFLAGS -o "$B/reap" bench/reap.c
fi
if [ ! -x "$B/floor" ] || [ bench/floor.c -nt "$B/floor" ]; then
	# shellcheck disable=SC2046
	cc $CFLAGS -o "$B/floor" bench/floor.c $(pkg-config --cflags --libs libssh)
fi
if [ ! -x "$B/journal_bench" ] || [ bench/journal_bench.c -nt "$B/journal_bench" ] ||
	[ "$BUILD/libccrup.a" -nt "$B/journal_bench" ]; then
	# shellcheck disable=SC2046
	cc $CFLAGS -Icommon -Iorchestrator/state $(pkg-config --cflags $PKGS) -o "$B/journal_bench" \
		bench/journal_bench.c "$BUILD/libccrup.a" $(pkg-config --libs $PKGS) -lcrypto -lz -lpthread
fi

if [ ! -x "$B/state_bench" ] || [ bench/state_bench.c -nt "$B/state_bench" ] ||
	[ "$BUILD/libccrup.a" -nt "$B/state_bench" ]; then
	# shellcheck disable=SC2046
	cc $CFLAGS -Icommon -Iorchestrator/state -Iorchestrator/load $(pkg-config --cflags $PKGS) \
		-o "$B/state_bench" bench/state_bench.c "$BUILD/libccrup.a" \
		$(pkg-config --libs $PKGS libxml-2.0) -lssl -lcrypto -lz -lpthread
fi

# A 1,002-host fleet: 1,002 listening sockets in ccrsim, up to 1,002 sessions in ccrup.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi
echo "bench: open files $(ulimit -n)"

python3 bench/bench.py
python3 bench/report.py "$B/results.json" bench/notes.md docs/benchmarks.md
# WinRM beside SSH and pywinrm on the same commands (BENCH_WINRM=0 skips them).
if [ "${BENCH_WINRM:-1}" = 1 ]; then
	sh bench/winrm.sh
	{ echo; cat "$B/winrm.md"; } >>docs/benchmarks.md
fi
# The Patroni figures: a real cluster, so a few minutes (BENCH_PATRONI=0 skips them).
if [ "${BENCH_PATRONI:-1}" = 1 ]; then
	sh bench/patroni.sh
	{ echo; cat "$B/patroni.md"; } >>docs/benchmarks.md
fi
