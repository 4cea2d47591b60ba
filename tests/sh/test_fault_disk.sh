#!/usr/bin/env bash
# test_fault_disk.sh — disk_fill by size (file size measured with stat), and to X% on a
# small tmpfs the test mounts (when it may); the fill file is gone afterwards.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
d=$TMPDIR/fill; mkdir -p "$d"
$MONI fault run disk_fill size=64M --path "$d" --for 2s --out "$TMPDIR/o1" >"$TMPDIR/run1.log" 2>&1 &
moni=$!
wait_for_file_line "$TMPDIR/o1/faults.jsonl" '"event":"effective"' || fail "the fault never became effective"
f=$(ls -A "$d" | grep '^\.moni-fill-') || fail "no fill file in $d"
blocks=$(stat -c %b "$d/$f"); bs=$(stat -c %B "$d/$f")
bytes=$((blocks * bs))
echo "fill file $f: $bytes bytes allocated"
[ $bytes -ge $((64 * 1024 * 1024)) ] || fail "fill file has $bytes bytes, want 64M"
wait $moni || fail "moni exited $?"
[ -e "$d/$f" ] && fail "fill file left behind"
grep -q '"event":"reverted"' "$TMPDIR/o1/faults.jsonl" || fail "no reverted"
# the ceiling: refuse a size beyond it
$MONI fault run disk_fill size=200T --path "$d" --out "$TMPDIR/o2" 2>"$TMPDIR/err" && fail "1P accepted"
grep -q ceiling "$TMPDIR/err" || fail "ceiling not said: $(cat "$TMPDIR/err")"

# to=50% on a 64M tmpfs, if we may mount
m=$TMPDIR/mnt; mkdir -p "$m"
if mount -t tmpfs -o size=64M tmpfs "$m" 2>/dev/null; then
    trap 'umount "$m" 2>/dev/null' EXIT
    $MONI fault run disk_fill to=50% --path "$m" --for 1500ms --out "$TMPDIR/o3" >"$TMPDIR/run3.log" 2>&1 &
    moni=$!
    wait_for_file_line "$TMPDIR/o3/faults.jsonl" '"event":"effective"' || fail "to=50% never became effective"
    pct=$(df --output=pcent "$m" | tail -1 | tr -dc 0-9)
    echo "tmpfs at ${pct}% while firing"
    [ "$pct" -ge 49 ] && [ "$pct" -le 52 ] || fail "tmpfs at ${pct}%, want 50%"
    wait $moni || fail "moni exited $?"
    pct=$(df --output=pcent "$m" | tail -1 | tr -dc 0-9)
    [ "$pct" -le 1 ] || fail "tmpfs still at ${pct}% after revert"
    # hold the level: another file is deleted while firing, the fill file grows back
    head -c $((8 << 20)) /dev/zero >"$m/other"
    $MONI fault run disk_fill to=50% recheck=200ms --path "$m" --for 3s --out "$TMPDIR/o5" >/dev/null 2>&1 &
    moni=$!
    wait_for_file_line "$TMPDIR/o5/faults.jsonl" '"event":"effective"' || fail "recheck run never became effective"
    rm -f "$m/other"
    # the fill file grows back to 50% at a recheck (every 200 ms)
    level_held() { pct=$(df --output=pcent "$m" | tail -1 | tr -dc 0-9); [ "$pct" -ge 49 ] && [ "$pct" -le 52 ]; }
    wait_until 2 level_held
    echo "after deleting 8M of other data: tmpfs at ${pct}%"
    [ "$pct" -ge 49 ] && [ "$pct" -le 52 ] || fail "level not held (${pct}%)"
    wait $moni || fail "moni exited $?"
    $MONI fault run disk_fill to=100% --path "$m" --out "$TMPDIR/o4" 2>"$TMPDIR/err"; rc=$?
    [ $rc -eq 2 ] || fail "to=100% beyond the 99% ceiling exited $rc"
else
    echo "note: cannot mount a tmpfs here; to=X% part not run"
fi
echo PASS
