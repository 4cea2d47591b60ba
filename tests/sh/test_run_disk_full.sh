#!/usr/bin/env bash
# A full filesystem is an error (issue 14, item 9): when the run directory fills up
# mid-run, moni stops the faults, ends the run at once, says what could not be
# finalised and exits non-zero (before: samples stopped, faults went on, exit 0).
# Needs a small tmpfs (root); skipped with a reason otherwise.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
mnt="$TMPDIR/small"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4M tmpfs "$mnt" 2>"$TMPDIR/mount.err"; then
    echo "skipped: cannot mount a tmpfs: $(cat "$TMPDIR/mount.err")"
    exit 77
fi
cleanup() { umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; }
trap cleanup EXIT
d="$mnt/run"
start=$(now_us)
"$M" run --quiet --out "$d" --interval 100ms --duration 40s \
    --fault 'cpu:load=20%@500ms+30s' -- sleep 60 >"$TMPDIR/out" 2>"$TMPDIR/err" &
pid=$!
wait_for_file_line "$d/faults.jsonl" '"event":"fired"' 20 || fail "the fault never fired: $(cat "$TMPDIR/err")"
wait_for_lines "$d/samples.csv" 5 20 || fail "no rows"
# the disk fills up (someone else's file) while the fault is active
dd if=/dev/zero of="$mnt/filler" bs=64K 2>/dev/null
wait_until 15 proc_gone $pid || { kill $pid; fail "moni went on on a full disk"; }
wait $pid; rc=$?
elapsed=$(( ($(now_us) - start) / 1000000 ))
[ $rc -ne 0 ] || fail "exit 0 on a full disk ($(cat "$TMPDIR/err"))"
[ $elapsed -lt 30 ] || fail "the run went on for ${elapsed}s after the disk filled"
grep -q "No space left on device" "$TMPDIR/err" || fail "the error is not named: $(cat "$TMPDIR/err")"
grep -q "faults stopped" "$TMPDIR/err" || fail "no word of the faults: $(cat "$TMPDIR/err")"
grep -q "incomplete (" "$TMPDIR/err" || fail "what could not be finalised is not said: $(cat "$TMPDIR/err")"
[ "$(grep -c 'incomplete (' "$TMPDIR/err")" -eq 1 ] || fail "more than one summary line"
# validate tells a row cut short by the full disk
rm -f "$mnt/filler"
if [ -n "$(tail -c 1 "$d/samples.csv")" ]; then
    "$M" validate "$d" 2>&1 | grep -q "TORN LINES: samples.csv" || fail "validate misses the torn row"
fi
# no burner outlived the run
! pgrep -f "moni.*burn" -P $$ >/dev/null 2>&1 || fail "a burner is left"
echo PASS
