#!/usr/bin/env bash
# test_diagnose_inject.sh — `moni diagnose` names Straggler and Clock_Skew from the
# metrics and the log alone: a CPU quota (straggler fault) on moni-train, and a wall
# clock an hour ahead (clock fault) in moni-rlsim, whose lines carry their own time
# (moni-train's carry none, so a clock fault leaves nothing in its output to see).
# The live run writes the detection to detections.jsonl; then the run directory is
# diagnosed with the journal and again with faults.jsonl, ground truth, labels and
# marks removed.  The label must be the first cause whose evidence starts after the
# fault fired: on a busy machine, contention that was there before is printed, not
# counted.  The two runs go side by side.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
export MONI_STATE_DIR=$TMPDIR/state
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done' EXIT

# the shipped plan of these kinds checks out (faults, targets, triggers), runs nothing
"$M" run --plan "$MONI_SRC/examples/fault-matrix-inject.json" --quick --dry-run \
    >"$TMPDIR/plan.out" 2>&1 || fail "examples/fault-matrix-inject.json: $(cat "$TMPDIR/plan.out")"
[ "$(grep -c '^    fault ' "$TMPDIR/plan.out")" = 5 ] || fail "the plan's 5 faults: $(cat "$TMPDIR/plan.out")"

"$M" run --out "$TMPDIR/strag" --duration 80s --fault 'straggler:cpus=0.02@30s+40s' -- \
    "$MONI_BUILD/moni-train" --logging-steps 5 --no-progress --output-dir "$TMPDIR/strag-out" \
    >"$TMPDIR/strag.log" 2>&1 &
pids+=($!)
"$M" run --out "$TMPDIR/clock" --duration 80s --fault 'clock:offset=3600@15s+30s' -- \
    "$MONI_BUILD/moni-rlsim" --quick --steps 40 --rollout-timeout 60s --rpc-timeout 60s \
    --request-timeout 20s >"$TMPDIR/clock.log" 2>&1 &
pids+=($!)
wait "${pids[@]}"

# check NAME LABEL DIR FIRED: the diagnosis of DIR names LABEL first after FIRED
check() {
    local name=$1 label=$2 dir=$3 fired=$4
    "$M" diagnose --json "$dir" >"$TMPDIR/$name.json" || fail "$name: diagnose exited $?"
    "$PY" - "$label" "$TMPDIR/$name.json" "$fired" <<'EOF' || fail "$name: $(cat "$TMPDIR/$name.json")"
import json, sys
from datetime import datetime
label, diag, fired = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
after = [c for c in diag["causes"] if ts(c["first"]) >= ts(fired) - 1]
before = [c["label"] for c in diag["causes"] if ts(c["first"]) < ts(fired) - 1]
print("%s: root cause %s; before the fault: %s; after: %s" % (
    label, diag["root_cause"], before or "-", [c["label"] for c in after]))
if label == "Straggler" and after and after[0]["label"] == "CPU_Contention":
    # a shared machine whose other processes took the CPUs during the window: that
    # contention is true as well; the straggler must be the first cause besides it
    print("note: CPU_Contention during the window too (a busy machine)")
    after = [c for c in after if c["label"] != "CPU_Contention"]
assert after and after[0]["label"] == label, "the first cause after the fault is not " + label
assert "metrics" in after[0]["kinds"], after[0]
EOF
}

# case NAME LABEL DETECTOR
case_() {
    local name=$1 label=$2 det=$3 d=$TMPDIR/$1
    if grep -q '"event":"failed"' "$d/faults.jsonl"; then
        grep -o '"reason":"[^"]*"' "$d/faults.jsonl" | head -1
        echo "SKIP: the $name fault failed here"
        return 1
    fi
    local fired
    fired=$(grep '"event":"fired"' "$d/faults.jsonl" | head -1 |
        "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["timestamp"])') ||
        fail "$name: never fired ($(cat "$TMPDIR/$name.log"))"
    grep -q "\"detector\":\"$det\"" "$d/detections.jsonl" ||
        fail "$name: no live $det detection ($(cat "$d/detections.jsonl"))"
    check "$name" "$label" "$d" "$fired"
    local blind=$TMPDIR/$name-blind
    cp -r "$d" "$blind"
    rm -f "$blind"/{faults.jsonl,ground_truth.csv,labels.csv,windows.json,marks.jsonl,detections.jsonl}
    check "$name-blind" "$label" "$blind" "$fired"
}

case_ clock Clock_Skew clock_skew || fail "clock: the in-process fault failed"
# A quota can only slow a job that gets more than it: on a machine so busy that the
# trainer got under 3 times the quota (6% of a core) before the fault, there is
# nothing to see.
# Nor can it be told from contention when the other processes took more than the
# trainer gave up while the quota held (the detector's own excuse, with its 30% margin).
read -r share busier p1 o0 o1 < <("$PY" - "$TMPDIR/strag" <<'EOF'
import csv, json, sys
d = sys.argv[1]
fired = [json.loads(l) for l in open(d + "/faults.jsonl") if '"fired"' in l]
t = fired[0]["mono_ns"] if fired else 0
ncpu = json.load(open(d + "/meta.json")).get("host", {}).get("cpus") or 1
rows = [r for r in csv.DictReader(open(d + "/samples.csv")) if r["proc_cpu_pct"] and r["cpu_pct"]]
def window(lo, hi):
    w = [r for r in rows if lo <= int(r["mono_ns"]) < hi]
    proc = [float(r["proc_cpu_pct"]) for r in w]
    other = [max(0.0, float(r["cpu_pct"]) * ncpu - float(r["proc_cpu_pct"])) for r in w]
    avg = lambda v: sum(v) / len(v) if v else 0.0
    return avg(proc), avg(other)
p0, o0 = window(t - 15e9, t)
p1, o1 = window(t + 10e9, t + 40e9)
print("%.0f %d %.0f %.0f %.0f" % (p0, (o1 - o0) > (p0 - p1) + 30, p1, o0, o1))
EOF
)
if [ "${share:-0}" -lt 6 ]; then
    echo "SKIP: the machine is too busy: moni-train got ${share}% of a core before the quota"
    exit 77
fi
if [ "${busier:-0}" = 1 ]; then
    echo "SKIP: the machine got busier while the quota held: other processes went from ${o0}% to ${o1}% of a core while the trainer gave up $((share - p1))%"
    exit 77
fi
echo "strag: moni-train got ${share}% of a core before a quota of 2%"
case_ strag Straggler straggler || exit 77
echo PASS
