#!/bin/sh
# Fail on banned C calls (curl's list): they are easy to misuse and each has a
# bounded or checked replacement in common/util.h.
set -e
banned='\b(strcpy|sprintf|strtok|atoi|sscanf|strncpy|gets|vsprintf|strcat)[[:space:]]*\('
files=$(ls common/*.[ch] orchestrator/*/*.[ch] mock-nodes/*.h mock-nodes/*/*.[ch] tests/*.[ch] tests/helpers/*.c tests/fuzz/*.c 2>/dev/null || true)
bad=$(grep -nE "$banned" $files | grep -v 'lint:allow' || true)
if [ -n "$bad" ]; then
	echo "lint: banned calls:" >&2
	echo "$bad" >&2
	exit 1
fi
if command -v clang-format >/dev/null 2>&1; then
	drift=0
	for f in $files; do
		if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
			echo "lint: $f is not clang-formatted (make format)" >&2
			drift=1
		fi
	done
	[ "$drift" = 0 ] || exit 1
fi
echo "lint: ok ($(echo $files | wc -w) files)"
