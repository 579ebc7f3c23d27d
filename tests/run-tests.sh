#!/bin/sh
# Run every unit suite given on the command line (Check, fork mode), then every
# integration script tests/integration/*.sh (skipped with UNIT_ONLY=1; single
# scripts skipped by name with SKIP_INTEGRATION="a b", or only those named in
# ONLY_INTEGRATION="a b" run).
# Prints one summary line per suite and a final "N passed, N failed" line.
BUILD=${BUILD:-build}
export BUILD
pass=0
fail=0
failed=""
for t in "$@"; do
	name=$(basename "$t")
	if CK_FORK=yes CK_VERBOSITY=${CK_VERBOSITY:-normal} "$t" >"$BUILD/tests/$name.log" 2>&1; then
		pass=$((pass + 1))
		tail -n 1 "$BUILD/tests/$name.log" | sed "s/^/$name: /"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		cat "$BUILD/tests/$name.log"
		echo "$name: FAILED"
	fi
done
if [ -z "$UNIT_ONLY" ]; then
	for s in tests/integration/*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .sh)
		case " ${SKIP_INTEGRATION:-} " in
		*" $name "*)
			echo "$name: skipped in this pass (SKIP_INTEGRATION)"
			continue
			;;
		esac
		if [ -n "${ONLY_INTEGRATION:-}" ]; then
			case " $ONLY_INTEGRATION " in
			*" $name "*) ;;
			*) continue ;;
			esac
		fi
		t0=$(date +%s)
		if sh "$s" >"$BUILD/tests/$name.log" 2>&1; then
			pass=$((pass + 1))
			tail -n 1 "$BUILD/tests/$name.log" | sed "s/^/$name: /;s/\$/ ($(($(date +%s) - t0)) s)/"
		else
			fail=$((fail + 1))
			failed="$failed $name"
			tail -n 40 "$BUILD/tests/$name.log"
			echo "$name: FAILED (log: $BUILD/tests/$name.log)"
		fi
	done
fi
echo "suites: $pass passed, $fail failed"
[ -n "$failed" ] && echo "failed suites:$failed"
[ "$fail" = 0 ]
