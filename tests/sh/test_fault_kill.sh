#!/usr/bin/env bash
# test_fault_kill.sh — kill: the victim dies of the signal (its exit status says so),
# by pid and by name inside the target's tree; refusals for PID 1 and outside the tree.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
sleep 60 & victim=$!
$MONI fault run kill signal=TERM --target $victim --out "$TMPDIR/o1" || fail "moni exited $?"
wait $victim; rc=$?
echo "victim exit status $rc"
[ $rc -eq 143 ] || fail "victim exit status $rc, want 143 (SIGTERM)"
grep -q '"event":"effective"' "$TMPDIR/o1/faults.jsonl" || fail "no effective"
grep -q '"label_kind":"point"' "$TMPDIR/o1/faults.jsonl" || fail "not a point label"
# by name in the tree: a shell whose child is a sleep
bash -c 'sleep 61 & wait' & tree=$!
tree_child() { child=$(pgrep -P $tree sleep); [ -n "$child" ]; }
wait_until 10 tree_child || fail "the tree's sleep never started"
$MONI fault run kill name=sleep --target $tree --out "$TMPDIR/o2" || fail "kill by name exited $?"
wait_gone $child || fail "sleep $child in the tree survived"
wait $tree
# refusals
$MONI fault run kill --target 1 --allow-any --out "$TMPDIR/o3" 2>"$TMPDIR/err"; rc=$?
[ $rc -eq 2 ] && grep -q init "$TMPDIR/err" || fail "PID 1 not refused ($rc: $(cat "$TMPDIR/err"))"
$MONI fault run --spec "kill:pid=$$" --out "$TMPDIR/o4" 2>"$TMPDIR/err"; rc=$?
[ $rc -eq 2 ] || fail "moni's parent not refused ($rc)"
echo PASS
