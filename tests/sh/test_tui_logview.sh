#!/usr/bin/env bash
# test_tui_logview.sh — the raw log view (l) like lnav's, on a scripted log: a tqdm
# bar redrawn with CR collapses to its last state (r shows every redraw), each line
# shows its time (t hides them), e/E and w/W jump to the errors and warnings the
# parser found, / searches.
. "$(dirname "$0")/tui_common.sh"
cat >"$W/wl.sh" <<'WL'
#!/bin/bash
echo "starting the job"
echo "WARNING: something odd happened here"
for i in 1 2 3 4 5 6 7 8 9; do printf ' %d0%%|###       | %d/10 [00:0%d<00:01, 1.00it/s]\r' $i $i $i; sleep 0.05; done
printf '100%%|##########| 10/10 [00:10<00:00, 1.00it/s]\n'
echo "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
echo "a plain line with marker-xyz"
for k in $(seq 1 15); do echo "filler line $k"; done
while [ ! -e "$1/done" ]; do sleep 0.1; done
WL
chmod +x "$W/wl.sh"
start 120 40 -- --out "$W/run" --interval 500ms -- "$W/wl.sh" "$W"
wait_for "cuda_oom" 20
wait_for "Log events +[2-9] events" 10
keys l
wait_for "raw log \(workload.log" 5
wait_for "filler line 15" 5
# the bar's last state only; r shows every redraw, then collapses them again
screen | grep -q "10/10 \[00:10" || fail "the bar's last state is not shown"
screen_lacks "\| 5/10 \[" || fail "a redraw of the bar is shown"
keys r
wait_for "\| 5/10 \[" 5
wait_for "redraws shown" 5
keys r
wait_gone_from_screen "\| 5/10 \[" 5
# times: shown, t hides them
wait_for "[0-9]+  [0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3} filler line 15" 5
keys t
wait_for "[0-9]+  filler line 15" 5
keys t
wait_for "[0-9]{3} filler line 15" 5
# the last line shown in the view: the line jumped to
last_row() { screen | grep -E '^│ +[0-9]+' | tail -n 1; }
bottom_is() { last_row | grep -q -- "$1"; }
keys e
wait_until 10 bottom_is "CUDA out of memory" || fail "e did not go to the error: $(last_row)"
keys w
wait_until 10 bottom_is "WARNING: something odd" || fail "w did not go to the warning: $(last_row)"
keys w
wait_for "no older warning or error in the view" 5
keys E
wait_until 10 bottom_is "CUDA out of memory" || fail "E did not go to the newer error: $(last_row)"
keys E
wait_for "no newer error in the view" 5
# search
keys /
wait_for "search log:" 5
keys -l "marker-xyz"
keys Enter
wait_until 10 bottom_is "marker-xyz" || fail "/ did not find the line: $(last_row)"
wait_for "raw log /marker-xyz \(workload.log" 5
keys Escape
wait_gone_from_screen "raw log .*\(workload.log" 5
touch "$W/done"
wait_for "workload exited 0" 15
keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "moni exited $rc"
echo PASS
