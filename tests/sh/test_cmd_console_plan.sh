#!/usr/bin/env bash
# The console with --plan drives the experiment queue (core/queue.c) as `moni run
# --plan` does: it runs the queue's current item (the highest priority, not the
# first in the file) in OUT/EXPERIMENT, and runs.csv records it and the rest as
# not run yet.
. "$(dirname "$0")/tui_common.sh"
R="$W/out"
cat >"$W/plan.json" <<'PLAN'
{"name": "cp", "defaults": {"cooldown": "0s"},
 "queue": {"retries": 0},
 "experiments": [
   {"name": "later", "workload": ["sleep", "60"]},
   {"name": "first", "priority": 5, "workload": ["sh", "-c", "echo queue-item-first; sleep 60"]}]}
PLAN
start 100 30 -- --plan "$W/plan.json" --out "$R" --interval 200ms
wait_for 'REC' 10
for ((i = 0; i < 100; i++)); do grep -qs queue-item-first "$R/first/workload.log" && break; sleep 0.1; done
grep -q queue-item-first "$R/first/workload.log" || fail "the console did not run the priority item"
keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "console exit $rc, want 0"
[ -s "$R/runs.csv" ] || fail "no runs.csv"
grep -q '^first,completed,0,,first,1,0,' "$R/runs.csv" || { cat "$R/runs.csv"; fail "first not recorded"; }
grep -q '^later,not_run,' "$R/runs.csv" || { cat "$R/runs.csv"; fail "later not listed as not run"; }
[ ! -e "$R/later" ] || fail "the second experiment was started"
echo PASS
