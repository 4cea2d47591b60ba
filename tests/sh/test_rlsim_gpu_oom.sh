#!/usr/bin/env bash
# Scenario 3 (GPU OOM masked by cleanup): train_worker_3's emulated GPU memory pushed
# over capacity -> torch.OutOfMemoryError -> HTTP 500 -> cleanup -> slow scheduler
# -> the LAST line of controller.log is a stop-job timeout.
set -u
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-s3.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$D/controller.log" 2>/dev/null; exit 1; }
has() { grep -q -- "$2" "$D/$1" || fail "$1 lacks: $2"; }

printf 'train_worker.3.gpu_mem_extra=5G@2\nscheduler.delay_ms=20000@2\n' >"$D/control"
"$B" --quick --steps 5 --log-dir "$D" --control "$D/control" >"$D/stdout" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
has train_worker_3.log "^torch.OutOfMemoryError: CUDA out of memory. Tried to allocate [0-9.]* GiB. GPU 0 has a total capacity of 16.00 GiB"
has train_worker_3.log "ERROR \[train_worker_3\] Exception in train_batch:"
has controller.log "TrainEngineError: train_batch failed on train_worker_3: HTTP 500 from /train: torch.OutOfMemoryError: CUDA out of memory"
has controller.log "FrameworkError: step 2 failed at stage=train"
has controller.log "cleanup: stopping 2 jobs via scheduler"
has scheduler.log "stop job rlsim-train-[0-9]* requested"
last=$(tail -n 1 "$D/controller.log")
case "$last" in
*"ERROR [controller] Error stopping job rlsim-rollout-"*": Request timeout") ;;
*) fail "last controller line is not a stop-job timeout: $last" ;;
esac
[ "$(grep -c 'Error stopping job .*: Request timeout' "$D/controller.log")" -eq 2 ] || fail "expected 2 stop-job timeouts"
# other train workers stay within capacity
grep -q "OutOfMemoryError" "$D/train_worker_0.log" && fail "train_worker_0 must not OOM"
echo "ok: scenario 3 chain"
exit 0
