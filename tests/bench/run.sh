#!/usr/bin/env bash
# tests/bench/run.sh — `make bench`: every tests/bench/bench_*.sh, each printing its
# figures next to a peer measured in the same run.  Never pass/fail.
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
export MONI_BUILD="$BUILD" MONI_SRC="$SRC"
for b in tests/bench/bench_*.sh; do
    [ -e "$b" ] || continue
    [ $# -gt 0 ] && { m=0; for f in "$@"; do case "$b" in *"$f"*) m=1 ;; esac; done; [ $m = 1 ] || continue; }
    echo "== $(basename "$b" .sh)"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/moni-bench.XXXXXX")
    TMPDIR="$tmp" bash "$b" || echo "   (bench $(basename "$b") exited $?)"
    rm -rf "$tmp"
done
