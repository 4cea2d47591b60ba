#!/usr/bin/env bash
# test_tui_restart.sh — R in the console on moni-train: it asks first, offers to
# resume from the last checkpoint, and resumes (moni-train --resume logs the step it
# continues from); after quitting, meta.json lists both lifetimes (the second resumed
# from the checkpoint, the first ended by moni) and labels.csv keeps the first
# lifetime's phases and has "dead" rows for the restart.  Then "n" keeps it running.
. "$(dirname "$0")/tui_common.sh"
R="$W/run"
start 120 40 -- --out "$R" --interval 200ms -- "${TRAIN[@]}" --eval-steps 10 --save-steps 10
wait_for "phase|step [0-9]+/" 30
# a checkpoint to resume from
has_ckpt() { compgen -G "$W/train-out/checkpoint-*/trainer_state.json" >/dev/null; }
wait_until 60 has_ckpt || fail "moni-train wrote no checkpoint"
wait_for_file_line "$R/workload.log" "eval_loss" 60 || fail "no evaluation in the first lifetime"
# a few seconds of the first lifetime (rows of its own on the 1 s grid)
wait_for_lines "$R/samples.csv" 20 30 || fail "no samples"

# n: asked, nothing happens
keys R
wait_for "restart the workload\?" 5
wait_for "\[r\] resume from checkpoint" 5
wait_for "resume from its last checkpoint, checkpoint-[0-9]+" 5
keys n
wait_for "restart cancelled" 5
grep -q "Continuing training" "$R/workload.log" && fail "restarted on n"

# r: resumed from the checkpoint
keys R
wait_for "\[r\] resume from checkpoint" 5
keys r
wait_for "running pid [0-9]+ \(restarted\)" 20
wait_for_file_line "$R/workload.log" "Continuing training from global step [1-9]" 30 ||
    fail "moni-train did not resume"
wait_for_file_line "$R/workload.log" "'loss'.*" 30 || fail "no training after the resume"
n=$(wc -l <"$R/samples.csv")
wait_for_lines "$R/samples.csv" $((n + 15)) 30 || fail "no samples after the resume"

keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || [ "$rc" = 143 ] || fail "moni exited $rc"
$PY - "$R" <<'PYEOF' || fail "run directory"
import csv, json, sys
d = sys.argv[1]
meta = json.load(open(d + "/meta.json"))
w = meta["workload"]
lives = w["lifetimes"]
assert len(lives) == 2, lives
a, b = lives
assert a["end"] and a["ended_by_moni"] is True, a
assert a["exit_signal"] or a["exit_code"] is not None, a
assert a["resumed_from"] is None, a
assert "checkpoint-" in b["resumed_from"], b
assert b["start_mono_ns"] >= a["end_mono_ns"], (a, b)
assert w["starts"] == 2 and w["started"] == b["start"], w   # the old fields: the last start
assert "--resume" not in w["argv"], w["argv"]                 # the run's own argv
rows = list(csv.DictReader(open(d + "/labels.csv")))
phases = [r["phase"] for r in rows]
assert "dead" in phases, phases
first = phases[:phases.index("dead")]
assert "eval" in first or "checkpoint" in first, first     # the first lifetime kept its phases
assert first.count("idle") <= 2, first
after = phases[phases.index("dead"):]
assert any(p in ("startup", "train", "eval", "checkpoint") for p in after), after
PYEOF
echo "PASS"
