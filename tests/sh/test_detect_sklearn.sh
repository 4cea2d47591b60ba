#!/usr/bin/env bash
# moni detect against the library the field uses: scikit-learn's IsolationForest
# (Debian's python3-sklearn) fitted on the standardised training matrix moni
# exports scores the fault run with an AUC-ROC within 0.05 of moni's own forest.
# Synthetic runs (tests/sh/synth_runs.py) with a weak fault, so neither AUC is 1.
# Also: the score files have one line per matrix row, and moni's AUC-ROC in
# detectors.csv agrees with sklearn's roc_auc_score on moni's scores.
set -u
. "$(dirname "$0")/run_common.sh"
"$PY" -c 'import sklearn' 2>/dev/null || fail "python3-sklearn is not installed (make deps)"
S="$(dirname "$0")/synth_runs.py"
D="$TMPDIR/sk"
"$PY" "$S" "$D/baseline" 1500 0 0 11 || fail "synth baseline"
"$PY" "$S" "$D/fault" 900 300 120 12 cpu 0.25 || fail "synth fault run"
"$M" detect --train "$D/baseline" --export "$D/exp" --csv "$D/detectors.csv" "$D/fault" \
    >"$D/table.txt" 2>&1 || { cat "$D/table.txt"; fail "moni detect exited $?"; }
cat "$D/table.txt"
"$PY" - "$D" <<'PYEOF' || fail "sklearn cross-check"
import csv, sys, time
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
d = sys.argv[1]
train = np.genfromtxt(d + "/exp/train.csv", delimiter=",", skip_header=1)
test = np.genfromtxt(d + "/exp/score-1.csv", delimiter=",", skip_header=1)
X, y = test[:, :-1], test[:, -1].astype(int)
assert X.shape[1] == train.shape[1], (X.shape, train.shape)
rows = sum(1 for _ in open(d + "/fault/scores-iforest.ts"))
assert rows == len(y), "scores-iforest.ts has %d lines for %d rows" % (rows, len(y))
aucs = []
for seed in range(5):
    t0 = time.time()
    f = IsolationForest(n_estimators=100, max_samples=256, random_state=seed).fit(train)
    aucs.append(roc_auc_score(y, -f.score_samples(X)))
sk = float(np.mean(aucs))
moni_scores = np.array([float(r["iforest"]) for r in csv.DictReader(open(d + "/fault/scores.csv"))])
moni_auc = roc_auc_score(y, moni_scores)
table = {r["model"]: r for r in csv.DictReader(open(d + "/detectors.csv"))}
own = float(table["iforest"]["auc_roc"])
print("AUC-ROC: moni iforest %.4f (its table says %.3f), sklearn IsolationForest %.4f "
      "(mean of 5 seeds, %.4f..%.4f); anomaly ratio %.3f" % (moni_auc, own, sk, min(aucs),
      max(aucs), y.mean()))
assert abs(own - moni_auc) < 0.0015, "moni's own AUC-ROC %.3f != sklearn's on its scores %.4f" % (own, moni_auc)
assert moni_auc < 0.999 and sk < 0.999, "the fault is too easy to compare anything"
assert abs(moni_auc - sk) <= 0.05, "moni %.4f vs sklearn %.4f" % (moni_auc, sk)
PYEOF
echo "PASS test_detect_sklearn"
