#!/usr/bin/env bash
# kill -9 of `moni run` midway through a run with a fault firing: the guardian
# reverts the fault, and `moni build` on the half-written run directory succeeds
# (torn last lines tolerated) and labels the fault up to its revert.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
. "$MONI_SRC/tests/sh/run_common.sh"
out="$TMPDIR/run"
"$M" run --out "$out" --duration 60s --fault 'cpu:workers=1,load=30%@1s+40s' -- \
    "$MONI_BUILD/moni-train" --threads 1 --train-samples 3000 --no-progress >/dev/null 2>&1 &
mpid=$!
wait_for_file_line "$out/faults.jsonl" '"fired"' 30 || { kill -9 $mpid; fail "the fault never fired"; }
# let a few samples be taken while the fault fires, so that it gets labels
rows=$(wc -l <"$out/samples.csv")
wait_for_lines "$out/samples.csv" $((rows + 3)) 30 || { kill -9 $mpid; fail "no samples while the fault fired"; }
wpid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["workload"].get("pid") or "")' "$out/meta.json" 2>/dev/null)
kill -9 $mpid
wait $mpid 2>/dev/null
# the guardian journals the revert
wait_for_file_line "$out/faults.jsonl" '"reverted"' || fail "the guardian did not journal the revert"
# the workload dies with moni
echo "workload pid ${wpid:-unknown}"
if [ -n "$wpid" ]; then
    wait_gone "$wpid" || { kill -9 "$wpid"; fail "the workload $wpid survived moni"; }
fi
[ ! -e "$out/tse_matrix.csv" ] || fail "tse_matrix.csv exists before the build"
"$M" build "$out" >"$TMPDIR/build.out" 2>&1 || { cat "$TMPDIR/build.out"; fail "moni build exited $?"; }
grep -q "incomplete" "$TMPDIR/build.out" || { cat "$TMPDIR/build.out"; fail "build does not say the run is incomplete"; }
$PY - "$out" <<'PYEOF' || exit 1
import csv, json, sys
d = sys.argv[1]
def fail(m): print("FAIL:", m); sys.exit(1)
rows = list(csv.reader(open(d + "/tse_matrix.csv")))
if len(rows) < 4: fail("only %d matrix rows" % (len(rows) - 1))
if rows[0][0] != "timestamp" or rows[0][-1] != "is_anomaly": fail("header %s" % rows[0][:2])
if any(len(r) != len(rows[0]) for r in rows): fail("ragged matrix")
gt = list(csv.DictReader(open(d + "/ground_truth.csv")))
if len(gt) != 1 or not gt[0]["start"] or not gt[0]["end"]: fail("ground truth %s" % gt)
lab = list(csv.DictReader(open(d + "/labels.csv")))
if not any(r["is_anomaly"] == "1" and r["fault_id"] == "f1" for r in lab): fail("no f1 label")
meta = json.load(open(d + "/meta.json"))
if not meta.get("dataset", {}).get("incomplete"): fail("meta.json dataset.incomplete not set")
print("ok: %d rows, fault %s..%s" % (len(rows) - 1, gt[0]["start"], gt[0]["end"]))
PYEOF
echo PASS
