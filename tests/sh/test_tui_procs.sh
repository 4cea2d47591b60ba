#!/usr/bin/env bash
# test_tui_procs.sh — the Workload pane as htop's process list, on moni-train: the
# workload's process, a cpu fault's burner marked as its injector (and gone when
# the fault stops), the other processes in the order of the sort key (PID: rising),
# the filter, a signal after a confirmation (SIGSTOP: the header and the row say
# stopped; SIGCONT: running again), and no signal to moni's guardian.
. "$(dirname "$0")/tui_common.sh"
R="$W/run"
start 160 48 -- --out "$R" --interval 500ms -- "${TRAIN[@]}"
wait_for "workload running pid [0-9]+" 20
pid=$(screen | grep -oE "workload running pid [0-9]+" | awk '{ print $4 }')
wait_for " $pid [RSD] .*moni-train" 10

# a cpu fault: its burner is listed, marked, with the guardian
keys 1 a
wait_for "arm cpu" 10
keys Enter
wait_for "[ >]1 cpu +armed" 10
keys f
wait_for "[ >]1 cpu +firing" 10
wait_for "\[cpu injector\] moni" 10
wait_for "\[moni guardian\] moni" 10

# no signal to the guardian: it is the row after the workload's
keys O                                   # focus on the pane (and sort by RSS)
wait_for "sort RSS" 5
keys Down
gpid=$(screen | grep -oE "[0-9]+ [RSD] +[0-9.]+ +[^ ]+ +[0-9]+ \[moni guardian\]" | awk '{ print $1 }')
[ -n "$gpid" ] || fail "no guardian row"
keys K
wait_for "no signal to $gpid: that is moni's guardian" 5
keys 1 s
wait_for "[ >]1 cpu +stopped" 10
wait_gone_from_screen "\[cpu injector\]" 10

# sorting by PID: the other processes' PIDs rise
keys O O                                 # threads, then PID
wait_for "other processes by PID" 5
others() { # the PIDs under the heading, in the pane (right half)
    screen | cut -c81- | awk '/other processes by/ { on = 1; next } on && $1 ~ /^[0-9]+$/ { print $1; next } on { exit }'
}
two_others() { [ "$(others | wc -l)" -ge 2 ]; }
wait_until 10 two_others || fail "fewer than two other processes listed"
others | sort -n -c || fail "not sorted by PID: $(others | tr '\n' ' ')"
keys O                                   # command
wait_for "other processes by command" 5
keys O                                   # back to CPU%
wait_for "sort CPU%" 5

# the filter: the workload's PID alone
keys '\'
wait_for "filter processes:" 5
keys -l "$pid"
keys Enter
wait_for "filter: $pid" 5
wait_gone_from_screen "other processes by" 10
screen | grep -Eq " $pid [RSDT] .*moni-train" || fail "the filtered row is gone"
keys '\'
wait_for "filter processes:" 5
keys Escape
wait_for "other processes by" 10

# SIGSTOP after the confirmation, then SIGCONT
keys Up Up Up
keys K
wait_for "Send SIGTERM \(15\) to $pid" 5
keys Right Right Right Right
wait_for "Send SIGSTOP \(19\) to $pid" 5
keys n
wait_for "no signal sent" 5
screen | grep -q "workload running pid $pid" || fail "a cancelled signal was sent"
keys K
wait_for "Send SIGTERM" 5
keys Right Right Right Right
wait_for "Send SIGSTOP" 5
keys y
wait_for "sent SIGSTOP to $pid" 5
wait_for "workload stopped pid $pid" 10
wait_for " $pid T .*moni-train" 10
keys K
wait_for "Send SIGTERM" 5
keys Left Left Left Left
wait_for "Send SIGCONT \(18\) to $pid" 5
keys Enter
wait_for "workload running pid $pid" 10

keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "moni exited $rc"
echo PASS
