#!/usr/bin/env bash
# A 50 MB log line during a live 100 ms run costs no ticks (issue 14, item 16: it
# cost 7-8, as the executor rescanned the growing line per read and the rules ran on
# every 1 MB piece).  workload.log keeps the line whole.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
d="$TMPDIR/run"
# the run ends when the workload does, once the line is out (a fixed --duration lost
# the line on a loaded machine where Python took longer to build it)
"$M" run --quiet --out "$d" --interval 100ms --duration 120s -- "$PY" -c \
    "import sys, time; time.sleep(1); sys.stdout.write('x' * 50000000 + '\n'); sys.stdout.flush(); time.sleep(2)" \
    >/dev/null 2>&1 || fail "run failed"
[ "$(stat -c %s "$d/workload.log")" -eq 50000001 ] || fail "workload.log is $(stat -c %s "$d/workload.log") bytes"
missed=$("$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))['ticks']['missed'])" "$d/meta.json")
echo "missed ticks: $missed"
[ "$missed" -le 2 ] || fail "$missed ticks missed while reading the long line"
echo PASS
