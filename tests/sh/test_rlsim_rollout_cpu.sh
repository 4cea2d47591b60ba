#!/usr/bin/env bash
# Scenario 2 (rollout CPU contention): the last rollout worker slows down (or dies,
# like an OOM kill); the controller drops its samples at the rollout deadline and the
# train stage fails with a batch size mismatch on the last train worker.
set -u
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-s2.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$1/controller.log" 2>/dev/null; exit 1; }

# a) slow worker: work_factor multiplies its CPU work
printf 'rollout_worker.3.work_factor=40@2\n' >"$D/control"
"$B" --quick --steps 5 --log-dir "$D/a" --control "$D/control" >"$D/a.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "$D/a" "slow: exit $rc, expected 1"
L="$D/a/controller.log"
grep -q "WARNING \[controller\] rollout_worker_3 did not deliver its rollout within [0-9.]*s (rollout timeout 2.0s" "$L" || fail "$D/a" "no rollout timeout warning"
grep -q "step 2 gathered 48 of 64 samples (missing: rollout_worker_3)" "$L" || fail "$D/a" "no short batch"
grep -q "ERROR \[controller\] TrainEngineError: train_batch failed on train_worker_3: HTTP 500 from /train: RuntimeError: batch size mismatch" "$L" || fail "$D/a" "no batch size mismatch"
grep -q "FrameworkError: step 2 failed at stage=train" "$L" || fail "$D/a" "wrong failure stage"
grep -q "WARNING \[rollout_worker_3\] step 2 generate slow" "$D/a/rollout_worker_3.log" || fail "$D/a" "slow worker did not report"
grep -q "^RuntimeError: batch size mismatch: Expected input batch_size (0) to match target batch_size (16)." "$D/a/train_worker_3.log" || fail "$D/a" "train worker traceback"
a=$(grep -n "did not deliver" "$L" | head -1 | cut -d: -f1)
b=$(grep -n "TrainEngineError" "$L" | head -1 | cut -d: -f1)
[ "$a" -lt "$b" ] || fail "$D/a" "rollout warning must precede the train error"

# b) worker dies (SIGKILL, as the OOM killer would)
printf 'rollout_worker.3.die=1@2\n' >"$D/control"
"$B" --quick --steps 5 --log-dir "$D/b" --control "$D/control" >"$D/b.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "$D/b" "die: exit $rc, expected 1"
L="$D/b/controller.log"
grep -q "ERROR \[controller\] worker rollout_worker_3 (pid [0-9]*) exited unexpectedly: killed by SIGKILL" "$L" || fail "$D/b" "death not noticed"
grep -q "WARNING \[controller\] rollout_worker_3 did not deliver its rollout: requests.exceptions.ConnectionError" "$L" || fail "$D/b" "no connection error for the dead worker"
grep -q "TrainEngineError: train_batch failed on train_worker_3: .*batch size mismatch" "$L" || fail "$D/b" "no mismatch after death"
echo "ok: scenario 2 chain"
exit 0
