#!/usr/bin/env bash
# `moni diagnose` dates a log line by when it arrived (workload.idx), not by when the
# diagnosis ran: a recorded run diagnosed minutes later must give the line's own
# time, equal to its idx row and inside the run.  (A bug read only the monotonic
# column of the idx and left every log line dated "now".)
set -u
. "$(dirname "$0")/run_common.sh"
R="$TMPDIR/oom"
# a workload whose log names its failure a moment after it starts
"$M" run --out "$R" --duration 20s -- "$PY" -c 'import time
print("step 1 loss 0.52", flush=True)
time.sleep(1.5)
print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", flush=True)
time.sleep(0.5)
raise SystemExit(1)' >"$TMPDIR/run.log" 2>&1
"$M" diagnose --json "$R" >"$TMPDIR/d.json" || fail "diagnose exited $?"
"$PY" - "$R" "$TMPDIR/d.json" <<'PY' || fail "log evidence time"
import json, re, sys
run, dj = sys.argv[1:3]
d = json.load(open(dj))
idx = {}
for l in open(run + "/workload.idx"):
    f = l.strip().split(",")
    if f[0].isdigit():
        idx[int(f[0])] = f[1]
meta = json.load(open(run + "/meta.json"))
logs = [(c["label"], e) for c in d["causes"] for e in c["evidence"] if e["kind"] == "log"]
assert logs, "no log evidence: %s" % d["causes"]
for label, e in logs:
    m = re.match(r"workload\.log:(\d+):", e["text"])
    assert m, e
    line = int(m.group(1))
    assert e["timestamp"] == idx[line], (label, e, idx[line])
    assert e["timestamp"] <= meta["end"], (e["timestamp"], meta["end"])
print("%d log evidence lines dated by workload.idx" % len(logs))
PY
echo "PASS"
