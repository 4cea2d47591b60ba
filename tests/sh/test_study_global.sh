#!/usr/bin/env bash
# A run whose whole length is the anomaly (a plan's "global" label, e.g. lr 1e-9:
# no fault fires, the loss never comes down) is not a healthy session of a study:
# its truth has onset 0 and the causes --accept gives, so a tester's "problem seen"
# is a detection, not a false alarm, and `moni study report` scores it so.
set -u
. "$(dirname "$0")/report_common.sh"   # synth_run, $M, $PY, fail
synth_run "$TMPDIR/runs/flat" healthy 0 || fail "synthetic run"
synth_run "$TMPDIR/runs/ok" healthy 0 || fail "synthetic run"
"$PY" - "$TMPDIR/runs/flat/meta.json" <<'PYEOF' || fail "meta.json"
import json, sys
m = json.load(open(sys.argv[1]))
m["experiment"] = "exp_flat"
m["experiment_labels"] = {"global": "non_convergence", "root_cause": "learning_rate_too_small"}
json.dump(m, open(sys.argv[1], "w"))
PYEOF
S=$TMPDIR/study
"$M" study new --out "$S" --tester ana --condition logs --accept exp_flat=No_Convergence "$TMPDIR/runs" >/dev/null ||
    fail "study new exited $?"
read -r flat ok < <("$PY" - "$S/truth.json" <<'PYEOF'
import json, sys
t = {x["scenario"]: x for x in json.load(open(sys.argv[1]))["sessions"]}
f, h = t["exp_flat"], t["exp_healthy"]
assert f["healthy"] is False and f["onset_s"] == 0, f
assert f["accept"] == ["No_Convergence"] and f["root_cause"] == "learning_rate_too_small", f
assert h["healthy"] is True and h["onset_s"] is None and h["accept"] == ["healthy"], h
print(f["session"], h["session"])
PYEOF
) || fail "truth.json: $(cat "$S/truth.json")"
A() { "$M" study answer "$S" -t ana -c logs "$@" >/dev/null || fail "study answer $* exited $?"; }
A -s "$flat" --start; A -s "$flat" --detected -r 12; A -s "$flat" --cause No_Convergence -r 14; A -s "$flat" --done
A -s "$ok" --start; A -s "$ok" --cause healthy -r 30; A -s "$ok" --done
"$M" study report "$S" >"$TMPDIR/report.txt" || fail "study report exited $?"
"$PY" - "$S/report/scores.csv" <<'PYEOF' || fail "scores: $(cat "$S/report/scores.csv")"
import csv, sys
rows = {(r["scenario"], r["condition"]): r for r in csv.DictReader(open(sys.argv[1]))}
f = rows[("exp_flat", "logs")]
assert f["detected"] == "1" and float(f["mttd_median_s"]) == 12, f
assert f["misdiagnosed"] == "0" and f["false_alarms"] == "0", f
h = rows[("exp_healthy", "logs")]
assert h["detected"] == "0" and h["misdiagnosed"] == "0", h
PYEOF
echo ok
