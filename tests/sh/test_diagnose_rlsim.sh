#!/usr/bin/env bash
# `moni diagnose` names the true root cause and component of each moni-rlsim
# scenario, not the last error: each scenario is run quickly with moni-rlsim itself
# (--quick, --log-dir, a control file, as the test_rlsim_* scripts do) and its log
# directory is diagnosed.  Then one scenario of examples/rlhf-scenarios.json runs end
# to end under `moni run --plan --quick`: the knob fault fires on its log trigger, the
# run directory's ground_truth.csv names the root cause and stage, and events.jsonl
# carries the worker log names.  The scenarios run one at a time (a loaded machine
# makes healthy rollout workers slow too, which blurs scenario 2).
set -u
. "$(dirname "$0")/lp_common.sh"
R="$MONI_BUILD/moni-rlsim"
[ -x "$R" ] || { echo "skip: $R not built"; exit 77; }
ln -sfn "$MONI_SRC/examples" "$TMPDIR/data/examples"

# scen NAME LABEL COMPONENT CONTROL-LINES -- RLSIM-ARGS...
scen() {
    local name=$1 label=$2 comp=$3 ctl=$4 d="$TMPDIR/$1"
    shift 5
    mkdir -p "$d"
    printf '%b' "$ctl" >"$d/control"
    "$R" --quick --log-dir "$d" --control "$d/control" "$@" >"$d/stdout" 2>&1
    local rc=$?
    [ $rc -eq 1 ] || fail "$name: moni-rlsim exited $rc, expected 1: $(tail -n 2 "$d/stdout")"
    out=$("$M" diagnose --json "$d") || fail "$name: diagnose exited $?"
    "$PY" -c 'import json, sys
d = json.load(sys.stdin)
label, comp = sys.argv[1], sys.argv[2]
assert d["root_cause"] == label and d["component"] == comp, \
    "root cause %s in %s, expected %s in %s" % (d["root_cause"], d["component"], label, comp)
' "$label" "$comp" <<<"$out" || fail "$name: $(tail -n 1 "$d/stdout")"
}

# 1. weight-sync delay on train worker 3's MetaServer path: the rollout side times out, but
#    the slow path the train worker reported first is the cause (generation gets a minute:
#    on a loaded machine a rollout worker would otherwise report itself starved, rightly,
#    before the network fault begins)
scen s1_weight_sync Network_Degradation train_worker_3 \
    'train_worker.3.meta_delay_ms=1000@2\ntrain_worker.3.meta_jitter_ms=500@2\ntrain_worker.3.meta_loss_pct=10@2\n' \
    -- --steps 4 --request-timeout 3s --rpc-timeout 6s --rollout-timeout 60s
grep -q "InferenceEngineError: update_weights failed on rollout_worker_" "$TMPDIR/s1_weight_sync/controller.log" ||
    fail "s1: no InferenceEngineError on the rollout side"
# 2. a rollout straggler: the train stage reports the batch size mismatch; the cause is
#    the worker's own "slow on 24% of one core" (CPU contention)
scen s2_rollout_cpu CPU_Contention rollout_worker_3 'rollout_worker.3.work_factor=40@2\n' -- --steps 3
grep -q "batch size mismatch" "$TMPDIR/s2_rollout_cpu/controller.log" || fail "s2: no batch size mismatch"
# 3. CUDA OOM on train worker 3, masked by the cleanup's stop-job timeouts
scen s3_gpu_oom CUDA_OutOfMemory train_worker_3 \
    'train_worker.3.gpu_mem_extra=5G@2\nscheduler.delay_ms=20000@2\n' -- --steps 3
last=$(tail -n 1 "$TMPDIR/s3_gpu_oom/controller.log")
case "$last" in
*"Error stopping job "*": Request timeout") ;;
*) fail "s3: the last line is not the stop-job timeout: $last" ;;
esac
"$M" diagnose --json "$TMPDIR/s3_gpu_oom" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
assert d["masked"] is True, d["masked"]
assert "Request timeout" in d["last_error"]["text"], d["last_error"]
' || fail "s3: the stop-job timeout is not reported as masking the OOM"
# 4. colocation deadlock: the undelivered rollout_start event, not the allocation errors
scen s4_colocate colocation_handover rollout_worker_0 'rollout_worker.0.event_delay_ms=30000@2\n' \
    -- --colocate --steps 3 --rpc-timeout 6s
grep -q "CUDA error: out of memory" "$TMPDIR/s4_colocate/rollout_worker_0.log" ||
    fail "s4: rollout_worker_0 did not fail to allocate"
# 5. a torn step-10 checkpoint, found by step 11's disk-mode weight update
scen s5_late_ckpt Disk_Full train_worker_1 'train_worker.1.ckpt_truncate=0.5@10\n' \
    -- --weight-sync disk --steps 12 --rollout-work 40ms --train-work 30ms --shard-size 512K
grep -q "FrameworkError: step 11 failed at stage=weight_update" "$TMPDIR/s5_late_ckpt/controller.log" ||
    fail "s5: step 11 did not fail in weight_update"

# End to end: scenario 3 of the shipped plan under `moni run --plan --quick`
"$PY" - "$MONI_SRC/examples/rlhf-scenarios.json" "$TMPDIR/plan.json" <<'EOF' || fail "cannot extract the plan"
import json, sys
p = json.load(open(sys.argv[1]))
p["experiments"] = [e for e in p["experiments"] if e["name"] == "gpu_oom_masked"]
assert len(p["experiments"]) == 1
p["quick"]["duration"] = "60s"
p["quick"]["cooldown"] = "0s"
p["queue"]["retries"] = 0
p["queue"]["gate"]["max_wait"] = "5s"
json.dump(p, open(sys.argv[2], "w"), indent=1)
EOF
"$M" run --plan "$TMPDIR/plan.json" --quick --out "$TMPDIR/runs" >"$TMPDIR/run.out" 2>&1 ||
    fail "moni run exited $?: $(tail -n 5 "$TMPDIR/run.out")"
RD="$TMPDIR/runs/gpu_oom_masked"
grep -q "^gpu_oom_masked,failed_as_injected,1," "$TMPDIR/runs/runs.csv" || fail "runs.csv: $(cat "$TMPDIR/runs/runs.csv")"
grep -q "trigger 'rl_stage'" "$TMPDIR/run.out" || fail "the stage trigger did not fire: $(cat "$TMPDIR/run.out")"
grep -q "trigger 'cuda_oom'" "$TMPDIR/run.out" || fail "the OOM trigger did not fire"
case "$(tail -n 1 "$RD/logs/controller.log")" in
*"Error stopping job "*": Request timeout") ;;
*) fail "e2e: the last controller line is not the stop-job timeout" ;;
esac
"$PY" - "$RD" <<'EOF' || fail "e2e dataset: see above"
import csv, json, sys
rd = sys.argv[1]
gt = list(csv.DictReader(open(rd + "/ground_truth.csv")))
assert len(gt) == 2, gt
oom, sched = gt
assert oom["root_cause"] == "cuda_oom@train_worker_3:train", oom
assert oom["expected_failure_stage"] == "train", oom
assert sched["root_cause"] == "cleanup_delay_masks_error@scheduler:cleanup", sched
for g in gt:
    assert g["start"] and g["end"], g
# the OOM knob is written at step 1's weight_update, before the OOM (not at 0 s)
ev = [json.loads(l) for l in open(rd + "/events.jsonl")]
files = {e["file"] for e in ev}
assert "train_worker_3.log" in files and "controller.log" in files, files
assert "workload.log" not in files, "controller lines parsed twice"
oomev = [e for e in ev if e["rule"] == "cuda_oom" and e["file"] == "train_worker_3.log"]
assert oomev, "no cuda_oom event from train_worker_3.log"
assert oom["start"] < oomev[0]["timestamp"], (oom["start"], oomev[0]["timestamp"])
assert sched["start"] >= oom["start"], (sched["start"], oom["start"])
stages = [e for e in ev if e["rule"] == "rl_stage"]
assert len(stages) >= 5, len(stages)
EOF
out=$("$M" diagnose --json "$RD") || fail "diagnose RUN_DIR exited $?"
"$PY" -c 'import json, sys
d = json.load(sys.stdin)
assert d["root_cause"] == "CUDA_OutOfMemory" and d["component"] == "train_worker_3", d
assert d["masked"] is True and "Request timeout" in d["last_error"]["text"], d["last_error"]
' <<<"$out" || fail "diagnose RUN_DIR"
echo ok
