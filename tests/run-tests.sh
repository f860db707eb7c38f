#!/bin/sh
# Run every unit test binary given as argument (cmocka, TAP output) and
# every integration test in tests/integration/test_*.{sh,py} (TAP output),
# then print one closing line "N passed, N failed".  A test program that
# exits non-zero without reporting a failure counts as one failure.
# Environment: FIXTURES, PW_BIN, BUILD (set by the Makefile).
set -u
here=$(cd "$(dirname "$0")" && pwd)
passed=0; failed=0; skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM

tally() {	# $1: name, $2: exit status; reads TAP from $log
	p=$(grep -c '^ok ' "$log" | tr -d ' ')
	s=$(grep -c '^ok .*# [Ss][Kk][Ii][Pp]\|^not ok .*# [Ss][Kk][Ii][Pp]' "$log" | tr -d ' ')
	f=$(grep '^not ok ' "$log" | grep -vc '# [Ss][Kk][Ii][Pp]' | tr -d ' ')
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $1 exited with status $2"
		f=1
	fi
	p=$((p - $(grep -c '^ok .*# [Ss][Kk][Ii][Pp]' "$log" | tr -d ' ')))
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	echo "== $1: $p passed, $f failed, $s skipped"
}

export CMOCKA_MESSAGE_OUTPUT=TAP
for t in "$@"; do
	name=$(basename "$t")
	echo "== $name"
	"$t" >"$log" 2>&1; rc=$?
	grep -v '^ok ' "$log" | sed 's/^/   /' | grep -v '^   $' | head -200
	tally "$name" "$rc"
done

for t in "$here"/integration/test_*.sh "$here"/integration/test_*.py; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	echo "== $name"
	case "$t" in
	*.py) timeout 900 /usr/bin/python3 "$t" >"$log" 2>&1; rc=$? ;;
	*)    timeout 900 sh "$t" >"$log" 2>&1; rc=$? ;;
	esac
	sed 's/^/   /' "$log" | tail -80
	tally "$name" "$rc"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
