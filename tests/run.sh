#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Runs every test program and script, counts TAP lines ("ok" / "not ok"),
# and ends with the one line "N passed, N failed". A program that exits
# non-zero without reporting a failure (a crash, a sanitizer report, a
# hang stopped by timeout) counts as one more failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
passed=0
failed=0

run_one() { # name, timeout seconds, command...
	local name=$1 limit=$2; shift 2
	local log=$LOGDIR/$name.log
	mkdir -p "$(dirname "$log")"
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	local st=$?
	local p f
	p=$(grep -cE '^ok [0-9]+' "$log" || true)
	f=$(grep -cE '^not ok [0-9]+' "$log" || true)
	p=${p:-0}
	f=${f:-0}
	if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $st" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-40s %4d passed %4d failed\n' "$name" "$p" "$f"
	if [ "$f" -ne 0 ]; then
		grep -E '^not ok' "$log" | head -20 | sed 's/^/    /'
		[ "$st" -ne 0 ] && tail -15 "$log" | sed 's/^/    | /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" 300 "$t"
done
for t in "$BUILD"/tests/replay_fuzz_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t"); n=${n#replay_fuzz_}
	run_one "fuzz-replay/$n" 300 "$t" "tests/fuzz/corpus/$n"
done
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] && run_one "integration/$(basename "$t" .sh)" 900 bash "$t"
done
for t in tests/interop/test_*.sh; do
	[ -f "$t" ] && run_one "interop/$(basename "$t" .sh)" 900 bash "$t"
done
for t in tests/browser/test_*.sh; do
	[ -f "$t" ] && run_one "browser/$(basename "$t" .sh)" 900 bash "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
