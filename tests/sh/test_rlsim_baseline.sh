#!/usr/bin/env bash
# moni-rlsim baseline: the whole pipeline (controller + MetaServer, 4 train, 4 rollout
# workers, scheduler) runs N steps, writes every log and both checkpoint parities,
# exits 0 and leaves no process behind.
set -u
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-base.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$D/controller.log" 2>/dev/null; exit 1; }
has() { grep -q -- "$2" "$D/$1" || fail "$1 lacks: $2"; }

"$B" --quick --steps 4 --log-dir "$D" >"$D/stdout" 2>"$D/stderr"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc, expected 0: $(cat "$D/stderr")"
for f in controller scheduler train_worker_0 train_worker_3 rollout_worker_0 rollout_worker_3; do
    [ -s "$D/$f.log" ] || fail "$f.log missing or empty"
done
has controller.log "INFO \[controller\] worker train_worker_3 pid=[0-9]* port=[0-9]*"
has controller.log "INFO \[controller\] worker rollout_worker_0 pid=[0-9]* port=[0-9]*"
has controller.log "INFO \[controller\] worker scheduler pid=[0-9]* port=[0-9]*"
for s in rollout train weight_update checkpoint; do has controller.log "step 4 stage=$s"; done
has controller.log "pipeline completed: 4 steps"
has controller.log "job rlsim-rollout-[0-9]* stopped"
has stdout "moni-rlsim: OK: 4 steps completed"
has stdout "step 2 stage=train" # the controller's lines are on stdout too
# timestamp format: 2026-11-25 21:33:17.123 LEVEL [component]
grep -Eqv '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} (INFO|WARNING|ERROR) \[' \
    "$D/controller.log" && fail "controller.log has a line not in the log format"
grep -h ' ERROR ' "$D"/*.log && fail "a baseline run logged an ERROR"
for p in even odd; do
    n=$(ls "$D/ckpt/ckpt_$p" 2>/dev/null | wc -l)
    [ "$n" -eq 4 ] || fail "ckpt_$p has $n rank files, expected 4"
done
has train_worker_0.log "step 4 checkpoint saved .*ckpt_even/rank_0.pt"
has rollout_worker_2.log "step 4 update_weights: fetched 4 shards of v4"
# nothing outlives the controller
for pid in $(grep -o 'pid=[0-9]*' "$D/controller.log" | cut -d= -f2); do
    kill -0 "$pid" 2>/dev/null && fail "process $pid still alive after exit"
done
# scaled counts: 2 train + 3 rollout workers, disk weight sync
"$B" --quick --steps 3 --train-workers 2 --rollout-workers 3 --weight-sync disk \
    --log-dir "$D/small" >"$D/small.out" 2>&1 || fail "2+3 disk-mode run failed: $(tail -n 3 "$D/small.out")"
grep -q "loaded checkpoint of step 2 (2 ranks" "$D/small/rollout_worker_2.log" ||
    fail "disk mode did not read back the previous checkpoint"
[ -e "$D/small/train_worker_2.log" ] && fail "a third train worker was started"
echo "ok: baseline pipeline"
exit 0
