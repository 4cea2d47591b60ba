#!/usr/bin/env bash
# Scenario 1 (weight-sync delay): delay on the path train_worker_3 -> MetaServer
# during the weights update. Chain: train_worker_3's upload times out, every rollout
# worker's shard read times out (requests ReadTimeout), the controller fails the
# weight_update stage with InferenceEngineError from the rollout side.
set -u
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-s1.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$D/controller.log" 2>/dev/null; exit 1; }
has() { grep -q -- "$2" "$D/$1" || fail "$1 lacks: $2"; }

printf 'train_worker.3.meta_delay_ms=1000@2\ntrain_worker.3.meta_jitter_ms=500@2\ntrain_worker.3.meta_loss_pct=10@2\n' >"$D/control"
"$B" --quick --steps 6 --request-timeout 3s --rpc-timeout 6s --log-dir "$D" --control "$D/control" \
    >"$D/stdout" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
has train_worker_3.log "MetaServer 127.0.0.1:[0-9]* slow: chunk 0"
has train_worker_3.log "TimeoutError: weight upload to MetaServer 127.0.0.1:[0-9]* did not finish within 3.0s"
for j in 0 1 2 3; do
    has rollout_worker_$j.log "shard weights/v2/rank3 (from train_worker_3) not available from MetaServer"
    has rollout_worker_$j.log "^requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port=[0-9]*): Read timed out. (read timeout=3.0)"
    has rollout_worker_$j.log "^Traceback (most recent call last):"
done
has controller.log "ERROR \[controller\] InferenceEngineError: update_weights failed on rollout_worker_0: HTTP 500"
has controller.log "ERROR \[controller\] TrainEngineError: update_weights failed on train_worker_3"
has controller.log "FrameworkError: step 2 failed at stage=weight_update: InferenceEngineError"
# only worker 3's path is slow: the other train workers uploaded fine
has train_worker_0.log "step 2 uploaded shard weights/v2/rank0"
grep -q "uploaded shard weights/v2/rank3" "$D/train_worker_3.log" && fail "train_worker_3 upload should not finish"
has stdout "moni-rlsim: FAILED at step 2 stage=weight_update"
echo "ok: scenario 1 chain"
exit 0
