#!/usr/bin/env bash
# The console on moni-rlsim (a multi-process RLHF pipeline), with the fake NVML: the
# Workload pane lists the pipeline's processes (one per log file: name, CPU%, RSS,
# state) under the controller's "step N stage=X (for Ns)", fitting at 80x24 and
# growing to every process on a taller screen; q quits cleanly.  The recorded run
# replayed shows the same stage header and per-process rows, rebuilt from logs/.
. "$(dirname "$0")/tui_common.sh"
lib="$MONI_BUILD/tests/libfake_nvml.so"
[ -e "$lib" ] || { echo "skipped: no $lib"; exit 77; }
[ -x "$MONI_BUILD/moni-rlsim" ] || { echo "skipped: moni-rlsim not built"; exit 77; }
R="$W/run"
# --log-dir as the runner would add it (RUN_DIR/logs, which it follows live)
start 80 24 MONI_NVML_LIB="$lib" MONI_FAKE_NVML_GPUS=1 -- \
    --out "$R" --interval 500ms -- "$MONI_BUILD/moni-rlsim" --quick --steps 50 --log-dir "$R/logs"
wait_for ' REC ' 10
# 80x24: the stage header and worker rows with CPU% and RSS from the process tree
wait_for " Workload +[0-9]+ procs" 20
wait_for "^ +[^ ].* step [0-9]+ stage=[a-z_]+ \(for [0-9]+[smh]" 20
wait_for "rollout_worker_0 +[0-9]+\.[0-9] +[0-9.]+[BKMG] running" 10
wait_for "controller +[0-9]+\.[0-9] +[0-9.]+[BKMG] running" 5
screen | grep -q " Faults " || fail "the Faults pane is gone at 80x24"
screen | grep -q " Training " || fail "the Training pane is gone at 80x24"
rows=$(screen | grep -cE "(controller|scheduler|(train|rollout)_worker_[0-9]+) ")
[ "$rows" -ge 4 ] || fail "only $rows worker rows at 80x24"
# taller: every process has a row (4 train + 4 rollout workers, scheduler, controller)
T resize-window -t m -x 100 -y 40
wait_for "train_worker_0 +([0-9]+\.[0-9]|-) " 5
wait_for "train_worker_3 " 5
wait_for "rollout_worker_3 " 5
wait_for "scheduler " 5
screen | grep -qE "rollout_worker_0 " || fail "no rollout_worker_0 row at 100x40"
screen | grep -qE "step [0-9]+ stage=" || fail "no stage header at 100x40"
# the stage moves on
stage() { screen | grep -oE "step [0-9]+ stage=[a-z_]+" | head -n 1; }
s1=$(stage)
[ -n "$s1" ] || fail "no stage shown"
stage_moved() { s2=$(stage); [ -n "$s2" ] && [ "$s2" != "$s1" ]; }
wait_until 10 stage_moved || fail "the stage stayed at '$s1' for 10 s"
# a worker killed: its row reads "gone" (its pid left the tree), the pipeline's
# errors follow as "error: RULE" rows, problems sorted first
pid=$(grep -oE "worker train_worker_1 pid=[0-9]+" "$R/logs/controller.log" | head -n 1 | cut -d= -f2)
[ -n "$pid" ] || fail "no train_worker_1 pid in controller.log"
kill -9 "$pid"
wait_for "train_worker_1 +- +- +gone" 10
wait_for "Workload +[0-9]+ procs, [0-9]+ err, [1-9][0-9]* gone" 5
wait_for "[a-z_0-9]+ +([0-9]+\.[0-9]|-) +([0-9.]+[BKMG]|-) +(gone, )?error: [A-Za-z]" 30
# the pipeline fails without its worker; moni's status is the workload's
wait_for "workload exited [0-9]+" 30
want=$(screen | grep -oE "workload exited [0-9]+" | head -n 1 | awk '{ print $3 }')
keys q
rc=$(wait_exit 20)
[ "$rc" = "$want" ] || fail "moni exited $rc, the workload $want"
ls "$R/logs"/train_worker_0.log "$R/logs"/rollout_worker_0.log >/dev/null 2>&1 ||
    fail "no per-process logs in $R/logs"
# replay: the rows and the stage come back from RUN_DIR/logs and events.jsonl (no
# process tree in a recording: CPU and RSS read "-", nothing reads "gone")
T kill-server 2>/dev/null
start 100 40 -- replay "$R" --speed 20
wait_for "step [0-9]+ stage=[a-z_]+" 15
wait_for "train_worker_3 +- +- +(running|quiet|error)" 10
wait_for "rollout_worker_0 +- +- " 5
wait_for "controller +- +- " 5
wait_for "[a-z_0-9]+ +- +- +error: [A-Za-z]" 30
screen | grep -qE "(controller|scheduler|_[0-9]+) +- +- +gone" && fail "a replayed row reads gone"
wait_for "end of the recording" 30
keys q
rc=$(wait_exit 10)
[ "$rc" = 0 ] || fail "replay exited $rc"
echo "console rlsim ok ($rows rows at 80x24; '$s1' -> '$s2'; replayed)"
