#!/bin/sh
# bad_input_cli.sh — ccrup refuses bad command lines, saved plans and journals
# with the documented exit code and message, and never crashes.
#
# Rows come from two tables:
#   tests/bad-input/cli.tsv      ARGS, EXIT, MESSAGE[, SETUP] (format in its header)
#   tests/bad-input/journal.tsv  NAME, corrupt|torn|ok, LINE, MESSAGE: each journal
#                                fixture is put in a state directory and given to
#                                `ccrup status`: corrupt exits 5 naming PATH:LINE, torn
#                                exits 0 with a warning naming the line, ok exits 0.
# Every row also fails if the exit status is 128 or more (a signal: crash, abort),
# except the documented 130, if the run took over 60 s, or if stderr carries a
# sanitizer report — run it once with a `make SANITIZE=address,undefined` binary:
#   CCRUP=path/to/sanitized/ccrup sh tests/integration/bad_input_cli.sh
# Prints one line per failure and a summary line.  Exit 0 when every row passed.
cd "$(dirname "$0")/../.." || exit 1
CCRUP=${CCRUP:-bin/ccrup}
[ -x "$CCRUP" ] || {
	echo "bad_input_cli: $CCRUP not built (make)" >&2
	exit 1
}
case $CCRUP in /*) ;; *) CCRUP=$(pwd)/$CCRUP ;; esac
umask 077
TMPROOT=$(mktemp -d /tmp/bad_input_cli.XXXXXX) || exit 1
trap 'rm -rf "$TMPROOT"' EXIT INT TERM
INV=playbooks/inventory.example.yml
PB=playbooks/ccr-sp1.yml
PB_SHA=$(sha256sum "$PB" | cut -c1-64)
INV_SHA=$(sha256sum "$INV" | cut -c1-64)
LONG=$(printf '%05000d' 0 | tr 0 a)
US=$(printf '\037') # tabs become this separator: IFS would merge empty tab-separated fields
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS
unset CCRUP_STATE_DIR CCRUP_PLAYBOOK
pass=0
fail=0
n=0

# A journal whose second line is a valid record of 1 MiB + 1 bytes.
long_journal() {
	python3 - "$1" <<'EOF'
import json, sys, zlib
def line(rec):
    b = json.dumps(rec, separators=(",", ":"))
    return b[:-1] + ',"crc":"%08x"}\n' % zlib.crc32(b.encode())
first = line({"seq": 1, "event": "run-start", "cluster": "CLUS1"})
pad = 1048577 - len(line({"seq": 2, "event": "begin", "detail": ""})) + 1
with open(sys.argv[1], "w") as f:
    f.write(first + line({"seq": 2, "event": "begin", "detail": "x" * pad}))
EOF
}

# New scratch directories for a row: sets DIR and STATE.
row_dirs() {
	n=$((n + 1))
	DIR=$TMPROOT/row$n
	STATE=$DIR/state
	mkdir -p "$DIR/ww" "$STATE"
	chmod 777 "$DIR/ww"
	echo x >"$DIR/file"
}

# setup SPEC: prepare the state directory of the row.
setup() {
	case $1 in
	journal=@longline)
		mkdir -p "$STATE/CLUS1"
		long_journal "$STATE/CLUS1/journal.jsonl"
		;;
	journal=*)
		mkdir -p "$STATE/CLUS1"
		cp "tests/bad-input/journal/${1#journal=}.jsonl" "$STATE/CLUS1/journal.jsonl"
		# The journals that readers refuse by the plan's rules pin today's playbook
		# (the rules apply to the playbook a run pinned): re-pin and re-CRC the copy.
		if grep -q "^${1#journal=}	" tests/bad-input/journal-readers.tsv; then
			python3 - "$STATE/CLUS1/journal.jsonl" playbooks/ccr-sp1.yml <<'PY'
import hashlib, json, sys, zlib
path, pb = sys.argv[1], sys.argv[2]
sha = hashlib.sha256(open(pb, "rb").read()).hexdigest()
lines = open(path, "rb").read().split(b"\n")
r = json.loads(lines[0])
if r.get("event") == "run-start" and len(r.get("playbook_sha256", "")) == 64:
    del r["crc"]
    r["playbook_sha256"] = sha
    b = json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode()
    lines[0] = b[:-1] + b',"crc":"%08x"}' % zlib.crc32(b)
    open(path, "wb").write(b"\n".join(lines))
PY
		fi
		;;
	'') ;;
	*) echo "bad_input_cli: unknown setup '$1'" >&2 ;;
	esac
}

# Replace @plan:NAME words in $1 by prepared copies; prints the new argument text.
plans() {
	text=$1
	for name in $(printf '%s\n' "$text" | grep -o '@plan:[A-Za-z0-9_-]*' | sed 's/@plan://'); do
		sed -e "s/@PB_SHA@/$PB_SHA/g" -e "s/@INV_SHA@/$INV_SHA/g" \
			"tests/bad-input/plan/$name.json" >"$DIR/$name.json"
		text=$(printf '%s\n' "$text" | sed "s|@plan:$name|$DIR/$name.json|g")
	done
	printf '%s\n' "$text"
}

# check LABEL WANT_EXIT MESSAGE [MESSAGE2]: judge the last run (rc, $DIR/out, $DIR/err).
check() {
	label=$1
	want=$2
	msg=$3
	msg2=${4:-}
	why=""
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out"
	elif [ "$rc" -ge 128 ] && [ "$rc" != 130 ]; then
		why="crashed (exit $rc)"
	elif [ "$rc" != "$want" ]; then
		why="exit $rc, want $want"
	fi
	if grep -q -E 'runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' \
		"$DIR/err"; then
		why="${why:+$why; }sanitizer report"
	fi
	case $msg in
	stdout:*) where=$DIR/out msg=${msg#stdout:} ;;
	*) where=$DIR/err ;;
	esac
	if [ -n "$msg" ] && ! grep -q -F -e "$msg" "$where"; then
		why="${why:+$why; }message '$msg' not in $(basename "$where")"
	fi
	if [ -n "$msg2" ] && ! grep -q -F -e "$msg2" "$where"; then
		why="${why:+$why; }message '$msg2' not in $(basename "$where")"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		return
	fi
	fail=$((fail + 1))
	echo "FAIL $label: $why"
	sed 's/^/    err: /' "$DIR/err" | head -n 8
	grep -v '^$' "$DIR/out" | sed 's/^/    out: /' | head -n 4
}

# run ARGS...: run ccrup from the repository root, no terminal, 60 s at most.
run() {
	timeout -k 5 60 "$CCRUP" "$@" <"$DIR/null" >"$DIR/out" 2>"$DIR/err"
	rc=$?
}

while IFS="$US" read -r args want msg spec; do
	case $args in '#'*) continue ;; esac
	[ -n "$want" ] || continue
	row_dirs
	: >"$DIR/null"
	setup "$spec"
	words=$(plans "$args")
	eval "set -- $words"
	run "$@"
	check "ccrup $args${spec:+ [$spec]}" "$want" "$msg"
done <<EOF
$(tr '\t' "$US" <tests/bad-input/cli.tsv)
EOF

while IFS="$US" read -r name result line msg; do
	case $name in '#'* | '') continue ;; esac
	row_dirs
	: >"$DIR/null"
	setup "journal=$name"
	run status "$INV" --state-dir "$STATE"
	path="$STATE/CLUS1/journal.jsonl"
	case $result in
	corrupt) check "status [journal $name]" 5 "ccrup status: $path:$line: " "$msg" ;;
	torn) check "status [journal $name]" 0 "ccrup status: warning: $path:$line: " "$msg" ;;
	*)
		refusal=$(awk -F '\t' -v n="$name" '$1 == n { print $2 "\t" $3 }' tests/bad-input/journal-readers.tsv)
		if [ -n "$refusal" ]; then
			check "status [journal $name]" 5 "ccrup status: $path:${refusal%%	*}: " "${refusal#*	}"
		else
			check "status [journal $name]" 0 ""
		fi
		;;
	esac
done <<EOF
$(tr '\t' "$US" <tests/bad-input/journal.tsv)
EOF

echo "bad_input_cli: $pass passed, $fail failed ($(basename "$CCRUP"): $CCRUP)"
[ "$fail" = 0 ]
