#!/usr/bin/env bash
# End to end: a 2-experiment plan (baseline + a cpu fault window) on a short
# moni-train run.  The cpu fault's label window in labels.csv and ground_truth.csv
# matches its journal times to the second grid, the CPU columns move inside the
# window, pandas reads tse_matrix.csv with a parsed timestamp index, and runs.csv
# lists both runs.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
$PY -c 'import pandas' 2>/dev/null || { echo "skipped: python3-pandas missing"; exit 77; }
plan="$TMPDIR/plan.json"
cat >"$plan" <<'PLAN'
{
  "name": "e2e",
  "defaults": {
    "workload": ["moni-train", "--threads", "1", "--train-samples", "3000",
                 "--eval-samples", "200", "--logging-steps", "5", "--no-progress",
                 "--eval-steps", "0", "--save-steps", "0"],
    "duration": "14s", "cooldown": "1s"
  },
  "queue": {"gate": {"cpu": "100%", "mem": "100%", "disk": "100%"}},
  "experiments": [
    {"name": "baseline"},
    {"name": "cpu", "faults": [
      {"kind": "cpu", "params": {"workers": 1, "load": "100%"}, "at": "5s", "for": "5s",
       "root_cause": "cpu_contention"}]}
  ]
}
PLAN
out="$TMPDIR/out"
"$M" run --plan "$plan" --out "$out" 2>"$TMPDIR/err" || { cat "$TMPDIR/err"; fail "moni run exited $?"; }
[ -s "$out/runs.csv" ] || fail "no runs.csv"
for f in samples.csv meta.json workload.log workload.idx events.jsonl faults.jsonl \
         tse_matrix.csv labels.csv ground_truth.csv windows.json; do
    [ -e "$out/cpu/$f" ] || fail "cpu/$f missing"
done
$PY - "$out" <<'PYEOF' || exit 1
import csv, json, sys, math
import pandas as pd
out = sys.argv[1]
def fail(m): print("FAIL:", m); sys.exit(1)
runs = list(csv.DictReader(open(out + "/runs.csv")))
if [r["name"] for r in runs] != ["baseline", "cpu"]: fail("runs.csv names %s" % runs)
for r in runs:
    if r["outcome"] != "completed": fail("run %s outcome %s" % (r["name"], r["outcome"]))
d = out + "/cpu"
j = [json.loads(l) for l in open(d + "/faults.jsonl")]
# the first line of each transition counts, as in the dataset: under heavy load the
# guardian may end the window itself and moni journal its own stop just after
ev = {}
for x in j:
    if x["fault_id"] == "f1":
        ev.setdefault(x["event"], x)
for k in ("armed", "fired", "stopped"):
    if k not in ev: fail("journal has no %s" % k)
fired = pd.Timestamp(ev["fired"]["timestamp"]); stopped = pd.Timestamp(ev["stopped"]["timestamp"])
gt = list(csv.DictReader(open(d + "/ground_truth.csv")))
if len(gt) != 1 or gt[0]["fault_id"] != "f1" or gt[0]["kind"] != "cpu": fail("ground_truth %s" % gt)
g = gt[0]
if g["start"] != ev["fired"]["timestamp"] or g["end"] != ev["stopped"]["timestamp"]:
    fail("ground truth %s..%s vs journal %s..%s" % (g["start"], g["end"], fired, stopped))
if g["label_kind"] != "interval" or g["root_cause"] != "cpu_contention": fail("gt row %s" % g)
eff_end = pd.Timestamp(g["effect_end"])
lab = pd.read_csv(d + "/labels.csv", index_col="timestamp", parse_dates=True)
an = lab.index[lab["is_anomaly"] == 1]
if len(an) == 0: fail("no anomalous rows")
if an[0] != fired.floor("s"): fail("first labelled row %s, fired %s" % (an[0], fired))
last_want = (stopped - pd.Timedelta("1ns")).floor("s")
if an[-1] < last_want or an[-1] > (eff_end - pd.Timedelta("1ns")).floor("s"):
    fail("last labelled row %s, stopped %s, effect_end %s" % (an[-1], stopped, eff_end))
if (lab.loc[an, "fault_id"] != "f1").any(): fail("labelled rows not attributed to f1")
m = pd.read_csv(d + "/tse_matrix.csv", index_col="timestamp", parse_dates=True)
if str(m.index.dtype).find("datetime64") < 0: fail("timestamp index dtype %s" % m.index.dtype)
if m.columns[-1] != "is_anomaly": fail("is_anomaly is not last")
if list(m["is_anomaly"]) != list(lab["is_anomaly"]): fail("matrix and labels disagree")
inside = m[(m.index >= fired.ceil("s")) & (m.index < stopped.floor("s"))]
outside = m[(m.index < fired.floor("s") - pd.Timedelta("1s")) |
            (m.index > eff_end.ceil("s") + pd.Timedelta("1s"))]
moved = []
for c in ("cpu_pct", "cpu_user_pct", "proc_cpu_pct", "psi_cpu_some_avg10", "load1"):
    if c not in m: continue
    a, b = inside[c].dropna(), outside[c].dropna()
    if len(a) < 2 or len(b) < 2: continue
    diff = abs(a.mean() - b.mean())
    if diff > max(3.0, 1.0 * b.std()): moved.append("%s %.1f->%.1f" % (c, b.mean(), a.mean()))
# a machine already saturated outside the window (other tests, builds) leaves a burner
# nothing to take: then the columns cannot move, and the labels above are the check
busy = outside["cpu_pct"].dropna().mean() if "cpu_pct" in outside else float("nan")
if not moved and busy >= 90:
    print("note: the machine was %.0f%% busy outside the window: no CPU column could move" % busy)
elif not moved: fail("no CPU column moved inside the window: %s" %
                     inside[["cpu_pct", "proc_cpu_pct"]].describe())
b = pd.read_csv(out + "/baseline/tse_matrix.csv", index_col="timestamp", parse_dates=True)
if b["is_anomaly"].sum() != 0: fail("baseline has anomalous rows")
if (b.iloc[:, :-1].fillna(0) == 0).all().all(): fail("baseline matrix is empty")
w = json.load(open(d + "/windows.json"))
if len(list(w.values())[0]) != 1: fail("windows.json %s" % w)
print("ok: window %s..%s, moved: %s" % (an[0], an[-1], "; ".join(moved)))
PYEOF
# validate runs against the baseline run and names the fault
"$M" validate "$out/cpu" >"$TMPDIR/val" 2>&1; rc=$?
[ $rc -le 1 ] || { cat "$TMPDIR/val"; fail "validate exit $rc"; }
grep -q "fault f1 cpu" "$TMPDIR/val" || { cat "$TMPDIR/val"; fail "validate does not report f1"; }
echo PASS
