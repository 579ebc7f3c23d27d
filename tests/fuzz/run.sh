#!/bin/sh
# tests/fuzz/run.sh [SECONDS] [TARGET...] — build and run the libFuzzer targets.
#
# Builds the project's sources with clang and -fsanitize=fuzzer,address,undefined
# into build-fuzz/ (the gcc objects of build/ are not used), links one binary per
# tests/fuzz/fuzz_<name>.c, then runs each target for SECONDS (default
# $FUZZ_SECONDS, else 60), one at a time, with the committed seeds of
# tests/fuzz/corpus/<name>/ and a writable work corpus build-fuzz/corpus/<name>/.
# Crashes go to build-fuzz/crashes/<name>/, logs to build-fuzz/logs/<name>.log.
# Inputs that once crashed a target are kept in tests/fuzz/regress/<name>/ and
# replayed before it runs.
# Prints one line per target: executions, exec/s, coverage, crashes.
# Exit status: 0 when every target built and ran without a crash, 1 otherwise.
#
#   make fuzz FUZZ_SECONDS=600
#   sh tests/fuzz/run.sh 30 expr journal
#   FUZZ_BUILD_ONLY=1 sh tests/fuzz/run.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
TARGETS=${*:-playbook inventory expr journal replay simcmd simhttp subst jpath wsman}
OUT=build-fuzz
CC=${FUZZ_CC:-clang}
PKGS="libssh yaml-0.1 libcurl jansson libxml-2.0"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 $SAN -fsanitize=fuzzer-no-link $(for d in common orchestrator/*/ mock-nodes mock-nodes/*/; do printf -- "-I%s " "${d%/}"; done) \
-Itests/fuzz -DFUZZ_SRCDIR=\"$(pwd)\" -DCCRUP_DATADIR=\"/usr/local/share/ccrup\" \
$(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lssl -lcrypto -lz -lpthread"

mkdir -p "$OUT/obj" "$OUT/logs"

# Compile one source into $OUT/obj unless its object is newer than it and every header.
compile() {
	src=$1
	obj=$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
	if [ -f "$obj" ] && [ -z "$(find "$src" orchestrator mock-nodes -name '*.[ch]' -newer "$obj" 2>/dev/null | head -n 1)" ]; then
		echo "$obj"
		return 0
	fi
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -c "$src" -o "$obj" 2>"$obj.err"; then
		cat "$obj.err" >&2
		return 1
	fi
	echo "$obj"
}

# Archive the objects of a source list into $OUT/$1; 1 if any failed to compile.
library() {
	lib=$1
	shift
	objs=""
	for s in "$@"; do
		o=$(compile "$s") || return 1
		objs="$objs $o"
	done
	rm -f "$OUT/$lib"
	# shellcheck disable=SC2086
	ar rcs "$OUT/$lib" $objs
}

orch_src=$(ls common/*.c orchestrator/*/*.c | grep -v -e '/main\.c$')
sim_src=$(ls mock-nodes/*/*.c 2>/dev/null | grep -v '/sim_main\.c$')
orch_ok=0
sim_ok=0
# shellcheck disable=SC2086
library libccrup-fuzz.a $orch_src && orch_ok=1
# shellcheck disable=SC2086
[ -n "$sim_src" ] && library libccrsim-fuzz.a $sim_src && sim_ok=1

status=0
printf '%-10s %8s %12s %9s %8s %8s  %s\n' target seconds execs exec/s cov ft crashes
for t in $TARGETS; do
	bin=$OUT/fuzz_$t
	libs=$OUT/libccrup-fuzz.a
	if [ "$t" = simcmd ] || [ "$t" = simhttp ]; then
		libs="$OUT/libccrsim-fuzz.a $libs"
		[ $sim_ok = 1 ] || { echo "$t: ccrsim sources do not build" >&2; status=1; continue; }
	fi
	[ $orch_ok = 1 ] || { echo "$t: orchestrator sources do not build" >&2; status=1; continue; }
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/fuzz_$t.c" $libs $LIBS -o "$bin" \
		2>"$OUT/logs/$t.build"; then
		cat "$OUT/logs/$t.build" >&2
		echo "$t: does not build" >&2
		status=1
		continue
	fi
	[ -n "${FUZZ_BUILD_ONLY:-}" ] && continue
	# Inputs that once crashed (tests/fuzz/regress/<name>/) must run clean first.
	if [ -d "tests/fuzz/regress/$t" ] && [ -n "$(ls "tests/fuzz/regress/$t")" ]; then
		if ! "$bin" -runs=1 tests/fuzz/regress/"$t"/* >"$OUT/logs/$t.regress" 2>&1; then
			echo "$t: a regression input crashes again: see $OUT/logs/$t.regress" >&2
			status=1
			continue
		fi
	fi
	work=$OUT/corpus/$t
	crashes=$OUT/crashes/$t
	mkdir -p "$work" "$crashes" "tests/fuzz/corpus/$t"
	log=$OUT/logs/$t.log
	start=$(date +%s)
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	timeout -k 30 $((SECS + 120)) "$bin" -max_total_time="$SECS" -rss_limit_mb=2048 \
		-timeout=25 -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
		"$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -a -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ncrash=$(find "$crashes" -type f | wc -l)
	printf '%-10s %8s %12s %9s %8s %8s  %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "$ncrash"
	if [ "$rc" != 0 ] || [ "$ncrash" != 0 ]; then
		status=1
		echo "$t: fuzzer exit $rc; log $log; inputs in $crashes/:" >&2
		find "$crashes" -type f | sed 's/^/  /' >&2
		grep -a -m 3 -E 'ERROR: |runtime error|invariant failed' "$log" | sed 's/^/  /' >&2
	fi
done
exit $status
