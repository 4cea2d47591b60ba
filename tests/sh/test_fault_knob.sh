#!/usr/bin/env bash
# test_fault_knob.sh — knob: KEY=VALUE lines merged into a control file while firing
# (atomic replace, other lines kept), undo_KEY written at stop, or the file restored;
# `effective` comes from the trainer's acknowledgement CONTROL.ack (a stand-in trainer
# writes it here): not from an ack older than the firing, nor one with other values.
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

# ---- the ack: a stand-in trainer acknowledges what it read, as moni-train does
ack() { # step values-json ignored-json: written atomically, like moni-train's
    printf '{"control": "%s", "step": %s, "time": "2026-01-01T00:00:0%s.000Z", "mono_ns": 1, "applied": {}, "values": %s, "ignored": %s, "warnings": 0}\n' \
        "$ctl" "$1" "${1: -1}" "$2" "$3" >"$ctl.ack.tmp" && mv "$ctl.ack.tmp" "$ctl.ack"
}
printf 'lr=0.001\n' >"$ctl"
ack 5 '{"lr": 10}' '[]' # an ack from before the firing, with the very value: not an answer
$MONI fault run knob lr=10 --path "$ctl" --for 4s --out "$TMPDIR/o4" >"$TMPDIR/run4.log" 2>&1 &
moni=$!
wait_for_file_line "$TMPDIR/o4/faults.jsonl" '"event":"fired"' || fail "o4: never fired"
ack 6 '{"lr": 0.001}' '[]' # the trainer read the file before the write landed
wait_until 2 file_has "$TMPDIR/o4/faults.jsonl" '"event":"effective"' && fail "effective on an old or other ack"
ack 7 '{"lr": 10, "sleep_ms": 0}' '[]'
wait_for_file_line "$TMPDIR/o4/faults.jsonl" '"event":"effective"' 5 || fail "o4: ack not seen: $(cat "$TMPDIR/o4/faults.jsonl")"
grep '"event":"effective"' "$TMPDIR/o4/faults.jsonl" | grep -q '"effect":"applied at step 7, 2026-01-01T00:00:07.000Z' ||
    fail "effective without the ack's step and time: $(grep effective "$TMPDIR/o4/faults.jsonl")"
wait $moni || fail "o4: moni exited $?"
# a trainer that ignored every key: the fault failed, said in the journal
rm -f "$ctl.ack"
$MONI fault run knob lr_typo=10 --path "$ctl" --for 4s --out "$TMPDIR/o5" >"$TMPDIR/run5.log" 2>&1 &
moni=$!
wait_for_file_line "$TMPDIR/o5/faults.jsonl" '"event":"fired"' || fail "o5: never fired"
ack 8 '{"lr": 0.001}' '["lr_typo"]'
wait_for_file_line "$TMPDIR/o5/faults.jsonl" '"event":"failed".*ignored every key' 5 ||
    fail "o5: all keys ignored but not failed: $(cat "$TMPDIR/o5/faults.jsonl")"
wait $moni
grep -q '"event":"effective"' "$TMPDIR/o5/faults.jsonl" && fail "o5: effective though every key was ignored"
echo PASS
