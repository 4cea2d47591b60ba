#!/usr/bin/env bash
# moni detect (the L2/L3 scores) on a 24-hour 1 Hz run (86400 rows, 106 columns; synthetic, from
# tests/sh/synth_runs.py): training on a 24-hour baseline and scoring a 24-hour fault
# run, beside scikit-learn's IsolationForest fitted and scored on the same
# standardised matrices (the time to read them excluded).
set -u
M="$MONI_BUILD/moni"
S="$MONI_SRC/tests/sh/synth_runs.py"
D="$TMPDIR/day"
/usr/bin/python3 "$S" "$D/baseline" 86400 0 0 1 cpu 1 100 || exit 1
/usr/bin/python3 "$S" "$D/fault" 86400 40000 600 2 cpu 0.5 100 || exit 1
t0=$EPOCHREALTIME
"$M" detect -q --train "$D/baseline" "$D/fault" || exit 1
t1=$EPOCHREALTIME
echo "   moni detect (build grid, fit both models, score, write): $(echo "$t1 - $t0" | bc) s"
# the standardised matrices for the peer, untimed: writing 2 x 86400 rows of text is
# the export's cost, not detection's
"$M" detect -q --train "$D/baseline" --export "$D/exp" "$D/fault" || exit 1
/usr/bin/python3 - "$D/exp" <<'PYEOF'
import sys, time
import numpy as np
try:
    from sklearn.ensemble import IsolationForest
except ImportError:
    print("   sklearn: not installed"); sys.exit(0)
d = sys.argv[1]
train = np.loadtxt(d + "/train.csv", delimiter=",", skiprows=1)
test = np.loadtxt(d + "/score-1.csv", delimiter=",", skiprows=1)[:, :-1]
t0 = time.time()
f = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(train)
f.score_samples(test)
print("   sklearn IsolationForest (fit + score only, same matrices): %.2f s" % (time.time() - t0))
PYEOF
