#!/usr/bin/env bash
# Detection end to end on moni-train: a stop fault is detected live within 3 s of
# `fired`, a kill is named from the exit status, a short healthy run is healthy.
# `moni diagnose` gives the same answer with the journal, ground truth and marks
# deleted; `moni build` replays the raw files into the same detections as the live
# run; `moni validate` gives the machine's time to detect.
set -u
. "$(dirname "$0")/run_common.sh"
T="$MONI_BUILD/moni-train"
train() { echo -- "$T" --logging-steps 5 --no-progress --output-dir "$TMPDIR/ckpt-$1"; }

# py CODE DIR...: python with json loaders; sys.argv[1:] are the run directories
py() { local code=$1; shift; "$PY" -c 'import json, sys
def jl(p):
    try:
        return [json.loads(l) for l in open(p) if l.strip()]
    except FileNotFoundError:
        return []
'"$code" "$@"; }

# --- 1. SIGSTOP for 5 s: process_stopped, live, within 3 s ---------------------
R1="$TMPDIR/stop"
"$M" run --out "$R1" --fault 'stop@5s+5s' --duration 14s $(train stop) >"$TMPDIR/r1.log" 2>&1 ||
    { cat "$TMPDIR/r1.log"; fail "stop run exited $?"; }
py '
d = sys.argv[1]
fired = [f for f in jl(d + "/faults.jsonl") if f["event"] == "fired"]
assert fired, "stop never fired"
det = [x for x in jl(d + "/detections.jsonl") if x["detector"] == "process_stopped"]
assert det, "no process_stopped detection: %s" % jl(d + "/detections.jsonl")
delay = (det[0]["mono_ns"] - fired[0]["mono_ns"]) / 1e9
assert 0 <= delay <= 3, "detected %.2f s after fired" % delay
assert det[0]["label"] == "Process_Hang" and "state T" in det[0]["evidence"], det[0]
print("stop detected %.2f s after fired" % delay)
' "$R1" || fail "live stop detection"
grep -q "moni: detection process_stopped" "$TMPDIR/r1.log" || fail "no detection line on stderr"

# diagnose: Process_Hang, and the same without journal, ground truth and marks
"$M" diagnose --json "$R1" >"$TMPDIR/d1.json" || fail "diagnose exited $?"
B="$TMPDIR/stop-blind"
cp -r "$R1" "$B"
rm -f "$B/faults.jsonl" "$B/ground_truth.csv" "$B/labels.csv" "$B/marks.jsonl" "$B/windows.json"
"$M" diagnose --json "$B" >"$TMPDIR/d1b.json" || fail "blind diagnose exited $?"
py '
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["root_cause"] == "Process_Hang", a["root_cause"]
assert a["healthy"] is False and a["causes"][0]["kinds"].startswith("metrics"), a["causes"][0]
assert b["root_cause"] == a["root_cause"] and b["causes"] == a["causes"], (a["causes"], b["causes"])
' "$TMPDIR/d1.json" "$TMPDIR/d1b.json" || fail "diagnose without the journal differs"

# offline replay: the same detections as the live run
rm -f "$B/detections.jsonl"
"$M" build "$B" >/dev/null || fail "build exited $?"
py '
live = [(x["detector"], x["label"], x["mono_ns"]) for x in jl(sys.argv[1] + "/detections.jsonl")]
off = [(x["detector"], x["label"], x["mono_ns"]) for x in jl(sys.argv[2] + "/detections.jsonl")]
assert live and live == off, (live, off)
hdr = open(sys.argv[2] + "/tse_matrix.csv").readline().strip().split(",")
assert "det_process_stopped" in hdr, hdr
col = hdr.index("det_process_stopped")
rows = [l.strip().split(",") for l in open(sys.argv[2] + "/tse_matrix.csv")][1:]
assert sum(r[col] == "1" for r in rows) == 1, "det_process_stopped flags"
' "$R1" "$B" || fail "offline detections differ from live"

"$M" validate "$R1" >"$TMPDIR/v1.txt" || true
grep -q "machine: detected Process_Hang (process_stopped) [0-9.]*s after fired; diagnosis names it" \
    "$TMPDIR/v1.txt" || { cat "$TMPDIR/v1.txt"; fail "validate machine line"; }

# --- 2. SIGKILL: the exit status names it ---------------------------------------
R2="$TMPDIR/kill"
"$M" run --out "$R2" --fault 'kill@5s' --duration 12s $(train kill) >"$TMPDIR/r2.log" 2>&1
rm -f "$R2/faults.jsonl" "$R2/ground_truth.csv"
"$M" diagnose --json "$R2" >"$TMPDIR/d2.json" || fail "diagnose kill exited $?"
py '
d = json.load(open(sys.argv[1]))
assert d["root_cause"] in ("Process_Killed", "Host_OOM"), d["root_cause"]
assert "exit" in d["causes"][0]["kinds"], d["causes"][0]
' "$TMPDIR/d2.json" || fail "kill diagnosis"

# --- 3. a short healthy run is healthy -----------------------------------------
R3="$TMPDIR/healthy"
"$M" run --out "$R3" --duration 10s $(train healthy) >"$TMPDIR/r3.log" 2>&1 ||
    { cat "$TMPDIR/r3.log"; fail "healthy run exited $?"; }
"$M" diagnose --json "$R3" >"$TMPDIR/d3.json" || fail "diagnose healthy exited $?"
py '
d = json.load(open(sys.argv[1]))
assert d["healthy"] is True and d["root_cause"] == "healthy", d
' "$TMPDIR/d3.json" || fail "healthy run diagnosed sick"
"$M" diagnose "$R3" | grep -q "^healthy: no failure found" || fail "healthy text"
echo ok
