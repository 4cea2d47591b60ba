#!/usr/bin/env bash
# moni run --plan writes detectors.csv into the plan's output directory once every
# run has finished: a 3-experiment plan (baseline, a cpu fault, a memory fault) on a
# small workload gets a table with one row per model and fault kind, the same
# columns `moni validate --detectors` writes; a plan without a baseline gets no
# detectors.csv and one line saying why.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
plan="$TMPDIR/plan.json"
cat >"$plan" <<'PLAN'
{
  "name": "det3",
  "defaults": {"workload": ["sleep", "60"], "duration": "7s", "interval": "250ms",
               "cooldown": "0s"},
  "queue": {"gate": {"cpu": "100%", "mem": "100%", "disk": "100%"}},
  "experiments": [
    {"name": "baseline"},
    {"name": "cpu", "faults": [
      {"kind": "cpu", "params": {"workers": 1, "load": "100%"}, "at": "2s", "for": "3s"}]},
    {"name": "mem", "faults": [
      {"kind": "mem", "params": {"size": "64M", "rate": "256M/s"}, "at": "2s", "for": "3s"}]}
  ]
}
PLAN
out="$TMPDIR/out"
"$M" run --plan "$plan" --out "$out" 2>"$TMPDIR/err" || { cat "$TMPDIR/err"; fail "moni run exited $?"; }
[ -s "$out/detectors.csv" ] || { cat "$TMPDIR/err"; fail "no detectors.csv in the plan output"; }
grep -q "detectors.csv: detectors trained on 1 baseline run, 2 runs scored" "$TMPDIR/err" ||
    fail "no line about detectors.csv: $(tail -3 "$TMPDIR/err")"
$PY - "$out/detectors.csv" <<'PYEOF' || fail "detectors.csv"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
need = {"model", "fault_kind", "auc_roc", "auc_pr", "vus_pr", "range_precision",
        "range_recall", "range_f1", "pa_f1_optimistic", "median_delay_s", "anomaly_ratio"}
assert need <= set(rows[0].keys()), sorted(rows[0].keys())
got = sorted((r["model"], r["fault_kind"]) for r in rows)
assert got == [("autoencoder", "cpu"), ("autoencoder", "mem"), ("detectors", "cpu"),
               ("detectors", "mem"), ("iforest", "cpu"), ("iforest", "mem")], got
for r in rows:
    assert 0 <= float(r["auc_roc"]) <= 1, r
    assert 0 < float(r["anomaly_ratio"]) < 1, r
PYEOF
# the same table as moni validate --detectors on the same output
cp "$out/detectors.csv" "$TMPDIR/from-run.csv"
"$M" validate --detectors "$out" >/dev/null 2>&1 || fail "validate --detectors exited $?"
cmp -s "$out/detectors.csv" "$TMPDIR/from-run.csv" || fail "validate --detectors wrote another table"

# no baseline: nothing written, one line why
cat >"$TMPDIR/nobase.json" <<'PLAN'
{
  "name": "nobase",
  "defaults": {"workload": ["sleep", "60"], "duration": "2s", "interval": "250ms",
               "cooldown": "0s"},
  "queue": {"gate": {"cpu": "100%", "mem": "100%", "disk": "100%"}},
  "experiments": [{"name": "cpu", "faults": [
      {"kind": "cpu", "params": {"workers": 1, "load": "50%"}, "at": "0s", "for": "1s"}]}]
}
PLAN
"$M" run --plan "$TMPDIR/nobase.json" --out "$TMPDIR/out2" 2>"$TMPDIR/err2" ||
    { cat "$TMPDIR/err2"; fail "moni run (no baseline) exited $?"; }
[ ! -e "$TMPDIR/out2/detectors.csv" ] || fail "detectors.csv without a baseline"
[ "$(grep -c "no detectors.csv: the plan has no baseline run" "$TMPDIR/err2")" = 1 ] ||
    fail "no one-line reason: $(cat "$TMPDIR/err2")"
echo "PASS test_run_plan_detectors"
