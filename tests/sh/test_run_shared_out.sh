#!/usr/bin/env bash
# Runs that share --out do not corrupt each other (issue 14, item 10): two runs
# started at the same instant into one directory -> exactly one runs, the other exits
# 2 naming the other run; --force starts every file afresh (nothing of the earlier
# run's journal, events, marks or alerts survives), files moni does not know stay.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
for try in 1 2 3; do
    d="$TMPDIR/same-$try"
    "$M" run --quiet --out "$d" --duration 1500ms -- sleep 30 >"$TMPDIR/a.out" 2>&1 &
    a=$!
    "$M" run --quiet --out "$d" --duration 1500ms -- sleep 30 >"$TMPDIR/b.out" 2>&1 &
    b=$!
    wait $a; ra=$?
    wait $b; rb=$?
    case "$ra,$rb" in
    0,2) loser="$TMPDIR/b.out" ;;
    2,0) loser="$TMPDIR/a.out" ;;
    *) fail "try $try: exits $ra and $rb, want one 0 and one 2 ($(cat "$TMPDIR/a.out" "$TMPDIR/b.out"))" ;;
    esac
    grep -q "another moni run is writing there\|directory is not empty" "$loser" ||
        fail "try $try: the refused run does not say why: $(cat "$loser")"
    rows=$(grep -c '^20' "$d/samples.csv")
    hdr=$(grep -c '^timestamp,' "$d/samples.csv")
    [ "$hdr" -eq 1 ] || fail "try $try: $hdr CSV headers in one samples.csv (two writers)"
    [ "$rows" -ge 1 ] || fail "try $try: no rows"
done

# --force: every file afresh
d="$TMPDIR/force"
"$M" run --quiet --out "$d" --duration 2s --fault 'cpu:load=10%@0s+1s' -- sleep 30 2>/dev/null ||
    fail "first run failed"
grep -q '"event":"fired"' "$d/faults.jsonl" || fail "first run: no fault fired"
echo '{"old":"mark"}' >"$d/marks.jsonl"
echo '{"old":"alert"}' >"$d/alerts.jsonl"
echo '{"old":"detection"}' >"$d/detections.jsonl"
echo 'keep me' >"$d/notes.txt"
"$M" run --quiet --out "$d" --duration 1500ms -- sleep 30 2>"$TMPDIR/err" && fail "reuse without --force accepted"
grep -q "not empty" "$TMPDIR/err" || fail "reuse without --force: $(cat "$TMPDIR/err")"
"$M" run --quiet --force --out "$d" --duration 1500ms -- sleep 30 2>"$TMPDIR/err" ||
    fail "--force run failed: $(cat "$TMPDIR/err")"
! grep -q '"kind":"cpu"' "$d/faults.jsonl" 2>/dev/null || fail "--force kept the old fault journal"
for f in marks alerts detections; do
    ! grep -q '"old"' "$d/$f.jsonl" 2>/dev/null || fail "--force kept the old $f.jsonl"
done
[ "$(cat "$d/notes.txt")" = "keep me" ] || fail "--force removed a file moni does not own"
awk -F, 'NR > 1 && $2 != 0 { bad = 1 } END { exit bad }' "$d/labels.csv" ||
    fail "--force run has anomalous labels from the old journal"
echo PASS
