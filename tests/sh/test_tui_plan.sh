#!/usr/bin/env bash
# test_tui_plan.sh — plans from the console, in tmux: `:pla` Tab completes to
# `:plan `, Tab completes the plan's file name, the queue view lists both
# experiments, r runs them in turn (the console's own run ends first) and both end
# done, each in its own run directory with runs.csv beside them; a second plan:
# s skips the running experiment (the next starts), A aborts the plan (the running
# one is stopped, the last never starts).  Also: an unknown command gets one line
# with a did-you-mean, and the console keeps running through all of it.
. "$(dirname "$0")/tui_common.sh"
R="$W/run"
cat >"$W/twoplan.json" <<'PLAN'
{"name": "two", "defaults": {"cooldown": "0s"}, "queue": {"retries": 0},
 "experiments": [
   {"name": "first", "workload": ["sh", "-c", "echo plan-item-first; sleep 2"]},
   {"name": "second", "workload": ["sh", "-c", "echo plan-item-second; sleep 2"]}]}
PLAN
cat >"$W/stopplan.json" <<'PLAN'
{"name": "stops", "defaults": {"cooldown": "0s"}, "queue": {"retries": 0},
 "experiments": [
   {"name": "s1", "workload": ["sleep", "300"]},
   {"name": "s2", "workload": ["sleep", "300"]},
   {"name": "s3", "workload": ["sleep", "300"]}]}
PLAN
start 120 40 -- --out "$R" --interval 200ms -- sleep 600
wait_for 'REC ' 15

# an unknown command: one line, naming it, with the nearest command
keys :
wait_for "Tab completes, Enter runs" 5
keys -l "fier"
keys Enter
wait_for 'unknown command "fier" \(did you mean "fire"\?\)' 5

# :pla<Tab> -> ":plan ", then the file name completes
keys :
wait_for "Tab completes, Enter runs" 5
keys -l "pla"
keys Tab
wait_for "^:plan _" 5
keys -l "$W/tw"
keys Tab
wait_for "^:plan $W/twoplan.json _" 5
keys Enter
wait_for "plan two \(r run, s skip, A abort" 5
wait_for "2 runs, 0 done, not started: r runs it" 5
wait_for "1 first +queued" 5
wait_for "2 second +queued" 5
P="$R-two"

# r: the console's own run ends, then both experiments run in turn
keys r
wait_for "1 first +(running|done)" 15
wait_for "1 first +done +completed, exit 0" 20
wait_for "2 second +(running|done)" 15
wait_for "2 second +done +completed, exit 0" 20
wait_for "2 runs, 2 done, all done" 10
grep -q plan-item-first "$P/first/workload.log" || fail "first did not run in $P/first"
grep -q plan-item-second "$P/second/workload.log" || fail "second did not run in $P/second"
grep -q '^first,completed,0,' "$P/runs.csv" || { cat "$P/runs.csv"; fail "first not completed in runs.csv"; }
grep -q '^second,completed,0,' "$P/runs.csv" || { cat "$P/runs.csv"; fail "second not completed in runs.csv"; }
[ -s "$R/meta.json" ] && [ -s "$R/samples.csv" ] || fail "the console's own run was not finished"
# the runs are whole: the dataset was built for each
for d in first second; do [ -s "$P/$d/tse_matrix.csv" ] || fail "$d has no dataset"; done

# a second plan: skip the running one, then abort
keys :
wait_for "Tab completes, Enter runs" 5
keys -l "plan $W/stopplan.json"
keys Enter
wait_for "plan stops \(r run" 5
keys r
wait_for "1 s1 +running" 15
keys s                                             # the selected one: s1, running
wait_for "1 s1 +skipped" 15
wait_for "2 s2 +running" 15
keys A
wait_for "2 s2 +aborted" 15
wait_for "3 s3 +not run" 5
wait_for "aborted; ETA -" 5
S="$R-stops"
grep -q '^s1,skipped,' "$S/runs.csv" || { cat "$S/runs.csv"; fail "s1 not skipped in runs.csv"; }
grep -q '^s2,interrupted,' "$S/runs.csv" || { cat "$S/runs.csv"; fail "s2 not interrupted in runs.csv"; }
grep -q '^s3,not_run,' "$S/runs.csv" || { cat "$S/runs.csv"; fail "s3 not listed as not run"; }
[ ! -e "$S/s3" ] || fail "s3 was started after the abort"

# the console quits cleanly from the idle queue
keys Escape q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "console exit $rc, want 0"
grep -q "plan runs saved in $S" "$W/err" || fail "no closing line for the plan's runs"
echo PASS
