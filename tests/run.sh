#!/usr/bin/env bash
# tests/run.sh — runs every test: the cmocka unit binaries, then the shell tests
# that drive the real binaries.  Usage: tests/run.sh [NAME-FILTER...]
# Prints one line per test and a closing "N passed, N failed, N skipped" line.
set -u
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
export MONI_BUILD="$BUILD" MONI_SRC="$SRC"
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
# The shell tests check much with Python's assert: never let it be optimised away.
unset PYTHONOPTIMIZE

filters=("$@")
selected() {
    [ ${#filters[@]} -eq 0 ] && return 0
    for f in "${filters[@]}"; do case "$1" in *"$f"*) return 0 ;; esac; done
    return 1
}

passed=0 failed=0 skipped=0 failed_names=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/moni-tests.XXXXXX")
run_one() { # name, command...
    local name=$1; shift
    local t0=$SECONDS tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/moni-t.XXXXXX")
    TMPDIR="$tmp" timeout -k 10 "$TEST_TIMEOUT" "$@" >"$logdir/$name.log" 2>&1
    local rc=$?
    rm -rf "$tmp"
    local dt=$((SECONDS - t0))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS  $name (${dt}s)"
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1)); echo "SKIP  $name: $(tail -n 1 "$logdir/$name.log")"
    else
        failed=$((failed + 1)); failed_names+=("$name")
        echo "FAIL  $name (exit $rc, ${dt}s)"
        tail -n 30 "$logdir/$name.log" | sed 's/^/      | /'
    fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    selected "$name" || continue
    run_one "$name" "$t"
done
for t in tests/sh/test_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    selected "$name" || continue
    run_one "$name" bash "$t"
done

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $logdir)"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
