#!/usr/bin/env bash
# test_fault_limits.sh — faults end when the run ends and are judged on what is true:
#  8. a stop fault still active at --duration is undone before the workload is told to
#     end, so the run does not overshoot by the 5 s grace (issue 14 item 8);
#  7. a memory hog stopped while it is still large is reaped before it is judged: the
#     journal says reverted, not "still running" (issue 14 item 7).
set -u
M=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }

# --- 8. --duration 2s with a 60 s stop fault from 1 s
t0=$(date +%s%N)
timeout 30 $M run --fault "stop@1s+60s" --duration 2s --out "$TMPDIR/o8" -- sleep 30 \
    >"$TMPDIR/o8.log" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$TMPDIR/o8.log"
echo "run took $ms ms"
[ $ms -lt 5500 ] || fail "the run overshot --duration 2s: $ms ms"
grep -q '"event":"reverted"' "$TMPDIR/o8/faults.jsonl" || fail "stop fault not reverted"
grep '"event":"stopped"' "$TMPDIR/o8/faults.jsonl" | grep '"by":"moni"' | grep -q 'run duration reached' \
    || fail "not stopped by moni at the run's duration"

# --- 7. a 1.5G hog stopped as soon as it is effective
$M fault run mem size=1536M rate=8G/s --for 700ms --out "$TMPDIR/o7" >"$TMPDIR/o7.log" 2>&1
rc=$?
cat "$TMPDIR/o7.log"
[ $rc = 0 ] || fail "mem fault run exited $rc"
grep -q '"event":"failed"' "$TMPDIR/o7/faults.jsonl" && fail "mem fault journalled failed"
grep -q '"event":"reverted"' "$TMPDIR/o7/faults.jsonl" || fail "mem fault not reverted"
echo PASS
