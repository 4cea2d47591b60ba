#!/usr/bin/env bash
# test_tui_truth.sh — the panes say what is true, on a scripted trainer log driven
# step by step (each step waits for a file the test creates): the evaluation's bar
# is shown as "eval 3/7", never as training's "step 3/7"; a checkpoint phase ends
# when training goes on; phase lines (evaluation, checkpoint) are events in the
# events pane; a SIGSTOPped workload reads "stopped", not "running"; the timeline
# draws faults and what was seen on rows of its own, under the title.  Faults
# armed from the form fire on their trigger: a log event, a step, a delay.
. "$(dirname "$0")/tui_common.sh"
cat >"$W/trainer.sh" <<'WL'
#!/bin/bash
d=$1
gate() { while [ ! -e "$d/$1" ]; do sleep 0.1; done; }
echo "***** Running training *****"
echo "  Total optimization steps = 100"
for i in 1 2 3 4; do echo "{'loss': 0.69$i, 'learning_rate': 0.01, 'epoch': 0.$i}"; done
echo " 20%|██        | 20/100 [00:01<00:04, 10.00it/s]"
gate go1
echo "***** Running Evaluation *****"
echo " 43%|████▎     | 3/7 [00:00<00:00, 116.85it/s]"
gate go2
echo "100%|██████████| 7/7 [00:00<00:00, 116.85it/s]"
echo "{'eval_loss': 0.678, 'eval_accuracy': 0.53, 'epoch': 0.4}"
echo "Saving model checkpoint to $d/checkpoint-20"
gate go3
echo "{'loss': 0.655, 'learning_rate': 0.009, 'epoch': 0.5}"
echo " 25%|██▌       | 25/100 [00:02<00:04, 10.00it/s]"
gate go4
WL
chmod +x "$W/trainer.sh"
R="$W/run"
start 120 40 -- --out "$R" --interval 200ms -- "$W/trainer.sh" "$W"
wait_for "step 20/100" 20
wait_for "phase train" 5

# faults that fire on a trigger, armed from the form: cpu on the checkpoint line,
# mem at training step 25, disk_fill after a delay
arm_on() { # N KIND FIELD VALUE [FIELD VALUE]
    local n=$1 kind=$2; shift 2
    keys "$n" a
    wait_for "arm $kind" 5
    while [ $# -gt 1 ]; do
        focus "$1"
        keys -l "$2"
        wait_for "│ $1 +$2_" 5
        shift 2
    done
    keys Enter
    wait_for ">$n $kind +armed" 10
}
arm_on 1 cpu fire_on checkpoint_save
wait_for "armed: fires on its trigger" 5
arm_on 2 mem "size \(B\)" 32M fire_at_step 25
arm_on 3 disk_fill "size \(B\)" 8M "fire_after \(s\)" 1s
wait_for "[ >]3 disk_fill +firing" 10                  # after its delay
screen | grep -Eq "[ >]1 cpu +armed" || fail "cpu fired before its event"

# evaluation: its own bar, apart from training's
touch "$W/go1"
wait_for "phase eval" 10
wait_for "step 20/100  eval 3/7" 10
screen_lacks "step 3/7" || fail "the evaluation's bar read as training progress"

# the checkpoint: the evaluation's 7/7 is not training's, the phase is shown
touch "$W/go2"
wait_for "phase checkpoint_save" 10
screen_lacks "step 7/7" || fail "the evaluation's bar read as training progress"
screen | grep -q "step 20/100" || fail "training progress lost at the checkpoint"
wait_for "[ >]1 cpu +firing" 10                        # on the checkpoint line
screen | grep -Eq "[ >]2 mem +armed" || fail "mem fired before its step"
# phase lines are events: the evaluation and the checkpoint
wait_for "Log events +[3-9] events" 10
wait_for "checkpoint_save" 5
screen | grep -q "hf_running_eval" || fail "the evaluation is not in the events pane"

# training goes on: the checkpoint phase ends
touch "$W/go3"
wait_for "step 25/100" 10
wait_for "phase train" 10
screen_lacks "phase checkpoint_save" || fail "checkpoint_save stayed after training went on"
wait_for "[ >]2 mem +firing" 10                        # at step 25
J="$R/faults.jsonl"
for id in f1 f2 f3; do journal_has "$J" fired $id || fail "$id did not fire"; done
keys X                                               # stop them all
wait_for "PANIC: every fault stopped" 5

# the process's own state
pid=$(screen | grep -oE "workload running pid [0-9]+" | awk '{ print $4 }')
[ -n "$pid" ] || fail "no workload process"
kill -STOP "$pid"
wait_for "workload stopped pid $pid" 10
kill -CONT "$pid"
wait_for "workload running pid $pid" 10

# timeline: a mark on the second row under the title, the first row for faults
keys m
wait_for "mark note:" 5
keys -l "here"
keys Enter
wait_for "marked: here" 5
tl_rows() { screen | grep -A2 " Timeline " | tail -n 2; }
mark_on_events_row() { tl_rows | sed -n 2p | grep -q "^ events .*▲"; }
wait_until 10 mark_on_events_row || fail "the mark is not on the events row: $(tl_rows)"
tl_rows | sed -n 1p | grep -q "^ faults" || fail "no faults row: $(tl_rows)"
tl_rows | grep -q "───" && fail "the timeline is drawn on a separator line: $(tl_rows)"

touch "$W/go4"
wait_for "workload exited 0" 10
keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "moni exited $rc"
echo PASS
