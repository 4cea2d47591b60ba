#!/usr/bin/env bash
# test_fault_stop.sh — stop: the victim is in state T while the fault fires, runs again
# afterwards; the journal says effective and reverted.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
sleep 60 & victim=$!
trap 'kill -CONT $victim 2>/dev/null; kill $victim 2>/dev/null' EXIT
$MONI fault run stop --target $victim --for 1500ms --out "$TMPDIR/o" >"$TMPDIR/run.log" 2>&1 &
moni=$!
wait_for_file_line "$TMPDIR/o/faults.jsonl" '"event":"effective"' || fail "the fault never became effective"
s=$(proc_state $victim); echo "victim state while firing: $s"
[ "$s" = T ] || fail "victim not stopped (state $s)"
wait $moni || fail "moni exited $?"
s=$(proc_state $victim); echo "victim state after: $s"
[ "$s" = S ] || [ "$s" = R ] || fail "victim still $s"
cat "$TMPDIR/run.log"
grep -q '"event":"reverted"' "$TMPDIR/o/faults.jsonl" || fail "no reverted"
echo PASS
