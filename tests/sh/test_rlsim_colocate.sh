#!/usr/bin/env bash
# Scenario 4 (colocation deadlock): the rollout_start event to rollout_worker_0 is
# delayed past the event timeout; train_worker_0 keeps the GPU lock, rollout_worker_0
# fails to allocate and retries, both hang until the controller's generate call
# times out.
set -u
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-s4.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$D/controller.log" 2>/dev/null; exit 1; }
has() { grep -q -- "$2" "$D/$1" || fail "$1 lacks: $2"; }

printf 'rollout_worker.0.event_delay_ms=30000@2\n' >"$D/control"
"$B" --quick --colocate --steps 5 --rpc-timeout 6s --log-dir "$D" --control "$D/control" \
    >"$D/stdout" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
# step 1 handed the GPU over normally
has rollout_worker_0.log "event rollout_start: GPU 0 acquired from train_worker_0"
has train_worker_0.log "offload: GPU 0 handed to rollout_worker_0"
has controller.log "WARNING \[controller\] event rollout_start -> rollout_worker_0 not sent within event timeout"
has rollout_worker_0.log "ERROR \[rollout_worker_0\] RuntimeError: CUDA error: out of memory: failed to allocate KV cache on GPU 0: device memory held by train_worker_0"
has train_worker_0.log "WARNING \[train_worker_0\] GPU 0 held by train_worker_0 for .* while idle: no offload request"
has controller.log "ERROR \[controller\] InferenceEngineError: generate failed on rollout_worker_0: requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port=[0-9]*): Read timed out. (read timeout=6.0)"
has controller.log "FrameworkError: step 2 failed at stage=rollout"
# the other pairs were unaffected
grep -q "failed to allocate" "$D/rollout_worker_1.log" && fail "rollout_worker_1 should not fail"
n=$(grep -c "failed to allocate" "$D/rollout_worker_0.log")
[ "$n" -ge 2 ] || fail "rollout_worker_0 should keep retrying (hang), saw $n attempts"
echo "ok: scenario 4 chain"
exit 0
