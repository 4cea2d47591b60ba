#!/usr/bin/env bash
# `moni validate` reports torn lines (issue 14, item 9): a write cut short (moni
# killed mid-line, or the disk filled up) leaves a last line without its newline;
# validate names the files and lines and counts it as a problem.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
d="$TMPDIR/run"
"$M" record --out "$d" --interval 100ms --duration 1s -- sleep 5 >/dev/null 2>&1 || fail "record failed"
"$M" validate "$d" >"$TMPDIR/clean" 2>&1
grep -q "TORN" "$TMPDIR/clean" && fail "a clean run reported torn: $(cat "$TMPDIR/clean")"
rows=$(wc -l <"$d/samples.csv")
printf '2026-12-02T01:00:00.000Z,123,4' >>"$d/samples.csv"
printf '{"timestamp":"2026-12-02T01:00:00' >>"$d/faults.jsonl"
"$M" validate "$d" >"$TMPDIR/out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "validate exit $rc, want 1: $(cat "$TMPDIR/out")"
grep -q "TORN LINES: samples.csv line $((rows + 1)), faults.jsonl line 1" "$TMPDIR/out" ||
    fail "torn lines not reported: $(cat "$TMPDIR/out")"
"$M" validate --json "$d" >"$TMPDIR/json" 2>&1
grep -q '"torn":[[:space:]]*"samples.csv line' "$TMPDIR/json" || fail "--json: $(cat "$TMPDIR/json")"
echo PASS
