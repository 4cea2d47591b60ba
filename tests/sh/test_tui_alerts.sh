#!/usr/bin/env bash
# The console runs one alert engine, the runner's: a workload whose loss goes NaN
# fires TrainingLossNaN once in alerts.jsonl (a second engine attached by the
# console used to journal every firing twice) while the training pane shows the
# NaN; quitting leaves a complete run.
. "$(dirname "$0")/tui_common.sh"
cat > "$W/nan.py" <<'PYEOF'
import time
for i in range(4):
    print("{'loss': nan, 'learning_rate': 0.1, 'epoch': %d}" % i, flush=True)
    time.sleep(0.3)
time.sleep(60)
PYEOF
R="$W/run"
start 120 40 -- --out "$R" --interval 200ms -- "$PY" "$W/nan.py"
wait_for "REC .*/run" 10
for ((i = 0; i < 150; i++)); do
    grep -q '"alert":"TrainingLossNaN","state":"firing"' "$R/alerts.jsonl" 2>/dev/null && break
    sleep 0.1
done
grep -q '"alert":"TrainingLossNaN","state":"firing"' "$R/alerts.jsonl" 2>/dev/null ||
    fail "no TrainingLossNaN firing in alerts.jsonl within 15 s"
wait_for "loss NaN" 5
keys q
rc=$(wait_exit 20)
[ "$rc" = 0 ] || fail "moni exited $rc"
n=$(grep -c '"alert":"TrainingLossNaN","state":"firing"' "$R/alerts.jsonl")
[ "$n" = 1 ] || fail "TrainingLossNaN journalled $n times (want 1): $(cat "$R/alerts.jsonl")"
"$PY" -c 'import json, sys; assert json.load(open(sys.argv[1]))["complete"] is True' \
    "$R/meta.json" || fail "meta.json is not complete"
echo "alerts ok"
