#!/usr/bin/env bash
# tests/bench/fault_matrix.sh — issue 15's first figure: runs examples/fault-matrix.json
# (--quick unless FULL=1), then for each run diagnoses a copy without the journal,
# ground truth, labels and marks (what a blind diagnosis sees) and prints one row per
# run: the expected cause, moni's root cause, and whether it is right.  Right means:
# the baseline is healthy; in a run with faults the first cause is a fired fault's
# effect (`moni validate` diagnosis_rank 1) and every fired fault's effect is among
# the causes; a whole-run label (global) is the blind root cause.  KEEP=1 keeps the
# runs; RUNS=DIR scores a plan output recorded before.  Not part of `make test` (about 8 minutes with --quick).
# usage: BUILD=build tests/bench/fault_matrix.sh [PLAN]
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
M="$BUILD/moni" PY=/usr/bin/python3
PLAN=${1:-examples/fault-matrix.json}
case "$PLAN" in /*) ;; *) PLAN="$SRC/$PLAN" ;; esac
OUT=$(mktemp -d "${TMPDIR:-/tmp}/moni-matrix.XXXXXX")
if [ -n "${KEEP:-}" ]; then echo "output kept in $OUT"; else trap 'rm -rf "$OUT"' EXIT; fi
quick=--quick
[ "${FULL:-0}" = 1 ] && quick=
RUNDIR=$OUT/runs
if [ -n "${RUNS:-}" ]; then # score a plan output already recorded
    RUNDIR=$RUNS
else
    "$M" run --plan "$PLAN" $quick --out "$RUNDIR" --quiet >"$OUT/run.log" 2>&1 ||
        echo "moni run exited $? (a run may fail as injected)"
fi
printf '%-18s %-26s %-22s %s\n' run expected blind_root_cause right
right=0 total=0
for d in "$RUNDIR"/*/; do
    n=$(basename "$d")
    [ -f "$d/meta.json" ] || continue
    b="$OUT/blind-$n"
    cp -r "$d" "$b"
    rm -f "$b/faults.jsonl" "$b/ground_truth.csv" "$b/labels.csv" "$b/marks.jsonl" "$b/windows.json"
    "$M" diagnose --json "$b" >"$OUT/$n.d.json" 2>/dev/null
    "$M" validate --json "$d" >"$OUT/$n.v.json" 2>/dev/null
    if "$PY" - "$n" "$OUT/$n.d.json" "$OUT/$n.v.json" "$PLAN" <<'PY'; then right=$((right + 1)); fi
import json, sys
name, dj, vj, plan = sys.argv[1:5]
def load(p, empty):
    try:
        return json.load(open(p))
    except Exception:
        return empty
d, v = load(dj, {}), load(vj, {"faults": []})
exp = next((e for e in json.load(open(plan))["experiments"] if e["name"] == name), {})
fired = [f for f in v.get("faults", []) if f.get("fired")]
root = d.get("root_cause") or ("healthy" if d.get("healthy") else "?")
# the blind label a whole-run (global) experiment expects
GLOBAL = {"non_convergence": "No_Convergence"}
if exp.get("global"):
    want = GLOBAL.get(exp["global"], exp["global"])
    ok = root == want
elif fired:
    # faults fired together (cpu and mem at once): the first cause is one of them and
    # every one of them is among the causes
    want = "+".join(f.get("machine", {}).get("label") or f.get("kind") for f in fired)
    ranks = [f.get("machine", {}).get("diagnosis_rank") for f in fired]
    ok = 1 in ranks and all(r is not None for r in ranks)
else:
    want = "healthy"
    ok = bool(d.get("healthy"))
print("%-18s %-26s %-22s %s" % (name, want[:26], root[:22], "yes" if ok else "NO"))
sys.exit(0 if ok else 1)
PY
    total=$((total + 1))
done
echo "fault matrix: $right of $total diagnosed right"
