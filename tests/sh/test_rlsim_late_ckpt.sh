#!/usr/bin/env bash
# Scenario 5 (late checkpoint failure): the step-10 save of train_worker_1 is torn
# (disk full emulated); the async saver only warns; step 11's disk-mode weight update
# reads it back and fails with a corrupt-checkpoint error.
set -u
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-s5.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$D/controller.log" 2>/dev/null; exit 1; }
has() { grep -q -- "$2" "$D/$1" || fail "$1 lacks: $2"; }

printf 'train_worker.1.ckpt_truncate=0.5@10\n' >"$D/control"
"$B" --quick --weight-sync disk --steps 12 --rollout-work 40ms --train-work 30ms --shard-size 512K \
    --log-dir "$D" --control "$D/control" >"$D/stdout" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
has train_worker_1.log "WARNING \[train_worker_1\] step 10 async checkpoint save failed, continuing: OSError: \[Errno 28\] No space left on device"
has controller.log "step 10 checkpoint saved ckpt_even"
has rollout_worker_0.log "^RuntimeError: corrupt checkpoint '.*ckpt_even/rank_1.pt' .*failed finding central directory"
has rollout_worker_0.log "Exception in update_weights (disk, checkpoint of step 10):"
has controller.log "InferenceEngineError: update_weights failed on rollout_worker_0: HTTP 500 from /update_weights: RuntimeError: corrupt checkpoint"
has controller.log "FrameworkError: step 11 failed at stage=weight_update"
has stdout "FAILED at step 11 stage=weight_update"
size=$(stat -c %s "$D/ckpt/ckpt_even/rank_1.pt")
good=$(stat -c %s "$D/ckpt/ckpt_even/rank_0.pt")
[ "$size" -lt "$good" ] || fail "rank_1 checkpoint is not truncated ($size vs $good)"
# b) a real ENOSPC: rank 2's even checkpoint is a symlink to /dev/full, so the step-2
# save fails inside write(2); step 3's disk-mode update finds the torn file
if [ -w /dev/full ]; then
    mkdir -p "$D/b/ckpt/ckpt_even"
    ln -s /dev/full "$D/b/ckpt/ckpt_even/rank_2.pt"
    "$B" --quick --weight-sync disk --steps 4 --rollout-work 40ms --train-work 30ms --shard-size 512K \
        --log-dir "$D/b" >"$D/b.out" 2>&1
    rc=$?
    [ $rc -eq 1 ] || fail "ENOSPC run: exit $rc, expected 1"
    grep -q "step 2 async checkpoint save failed, continuing: OSError: \[Errno 28\] No space left on device" \
        "$D/b/train_worker_2.log" || fail "ENOSPC not reported by train_worker_2"
    grep -q "FrameworkError: step 3 failed at stage=weight_update: InferenceEngineError: .*corrupt checkpoint '.*ckpt_even/rank_2.pt'" \
        "$D/b/controller.log" || fail "ENOSPC checkpoint not detected at step 3"
fi
echo "ok: scenario 5 chain"
exit 0
