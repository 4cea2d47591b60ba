#!/usr/bin/env bash
# test_fault_knob.sh — knob: KEY=VALUE lines merged into a control file while firing
# (atomic replace, other lines kept), undo_KEY written at stop, or the file restored.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
ctl=$TMPDIR/control
printf 'lr=0.001\nsleep_ms=0\n' >"$ctl"
$MONI fault run knob lr=10 nan_next_step=1 --path "$ctl" --for 1s --out "$TMPDIR/o" >"$TMPDIR/run.log" 2>&1 &
moni=$!
wait_for_file_line "$TMPDIR/o/faults.jsonl" '"event":"fired"' || fail "the fault never fired"
during=$(cat "$ctl")
echo "while firing: $(echo $during)"
grep -qx 'lr=10' "$ctl" && grep -qx 'nan_next_step=1' "$ctl" && grep -qx 'sleep_ms=0' "$ctl" || fail "keys not merged"
grep -qx 'lr=0.001' "$ctl" && fail "old lr line kept"
wait $moni || fail "moni exited $?"
[ "$(cat "$ctl")" = "$(printf 'lr=0.001\nsleep_ms=0')" ] || fail "file not restored: $(cat "$ctl")"
ls "$TMPDIR" | grep -q moni-backup && fail "backup left behind"
# undo_KEY
$MONI fault run knob lr=10 undo_lr=0.002 --path "$ctl" --for 300ms --out "$TMPDIR/o2" >/dev/null 2>&1 || fail "exit $?"
grep -qx 'lr=0.002' "$ctl" || fail "undo_lr not written: $(cat "$ctl")"
grep -q '"requested_dose":10' "$TMPDIR/o2/faults.jsonl" || fail "dose not the value"
$MONI fault run knob --path "$ctl" --out "$TMPDIR/o3" 2>/dev/null; [ $? -eq 2 ] || fail "knob without keys accepted"
echo PASS
