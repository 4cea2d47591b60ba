#!/usr/bin/env bash
# One outlier mono_ns in samples.csv does not make `moni build` try a huge grid
# (issue 14, item 16: a row 30 years away asked for a 959 GB grid): the grid is bounded
# by the run's real span, the row is left out and counted as a bad line.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
d="$TMPDIR/run"
"$M" record --out "$d" --interval 100ms --duration 2s -- sleep 5 >/dev/null 2>&1 || fail "record failed"
rows_before=$(($(wc -l <"$d/tse_matrix.csv") - 1))
# the third data row gets a mono_ns 30 years away
awk -F, 'BEGIN { OFS = "," } NR == 4 { $2 = "946080000000000000" } { print }' \
    "$d/samples.csv" >"$TMPDIR/s.csv" && cp "$TMPDIR/s.csv" "$d/samples.csv"
timeout 30 "$M" build "$d" >"$TMPDIR/out" 2>&1; rc=$?
[ $rc -eq 0 ] || fail "build exit $rc: $(cat "$TMPDIR/out")"
rows=$(($(wc -l <"$d/tse_matrix.csv") - 1))
[ "$rows" -le $((rows_before + 1)) ] || fail "$rows grid rows for a 2 s run (was $rows_before)"
"$M" validate "$d" | grep -q "[1-9][0-9]* unreadable or torn lines" || fail "the outlier is not counted"
# without meta.json (a killed run) the median cluster bounds it too
rm "$d/meta.json"
timeout 30 "$M" build "$d" >"$TMPDIR/out" 2>&1 || fail "build without meta.json: $(cat "$TMPDIR/out")"
rows=$(($(wc -l <"$d/tse_matrix.csv") - 1))
[ "$rows" -le $((rows_before + 1)) ] || fail "without meta.json: $rows grid rows"
echo PASS
