#!/usr/bin/env bash
# `moni replay RUN_DIR [--blind]`: a run recorded headless (moni run with a cpu fault
# and a kill) plays back in the console on its own timestamps; p pauses the replay's
# clock, Home/End/g/[ ] seek (back as well), < > set the speed; --blind hides the
# faults, their timeline windows and the root-cause labels; a bad directory is one
# error line and exit 2.
. "$(dirname "$0")/tui_common.sh"
[ -x "${TRAIN[0]}" ] || { echo "skipped: moni-train not built"; exit 77; }
R="$W/rec"
"$MONI_BUILD/moni" run --out "$R" --interval 200ms --duration 6s \
    --fault cpu:workers=1,load=30%@1s+2s --fault kill@4s -- "${TRAIN[@]}" 2>"$W/run.err"
[ -s "$R/samples.csv" ] || { cat "$W/run.err"; fail "moni run left no samples"; }
grep -q '"event":"fired","fault_id":"f1"' "$R/faults.jsonl" || fail "the recording has no fired fault"

start 120 36 -- replay "$R" --speed 2
wait_for "moni REPLAY" 10
wait_for "20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T" 3      # the run's own timestamps
wait_for "cpu +firing +30" 8                     # the dose first (requested 30%)
keys Enter                                         # the row in detail
wait_for "fault cpu \(j/k scroll" 5
wait_for "parameters +.*load=30%" 5
keys Escape
wait_gone_from_screen "fault cpu \(j/k scroll"
wait_for "loss [0-9]" 5
wait_for "cpu +stopped" 8
wait_for "kill +(firing|stopped)" 8
wait_for "end of the recording" 10
wait_for "killed by SIGKILL" 3
screen | grep -A1 " Timeline " | tail -n 1 | grep -q "━" || fail "no fault window on the timeline"
keys q
rc=$(wait_exit 10)
[ "$rc" = 0 ] || fail "replay exited $rc"

# the replay's clock: pause stops it, Home/End and g seek (back replays from the
# start: the panes show what they showed then), < > step the speed
T kill-server 2>/dev/null
start 120 36 -- replay "$R"
wait_for "moni REPLAY .*\| 00:0[0-9]/00:0[0-9] 1x \|" 10
keys p
wait_for "00:0[0-9]/00:0[0-9] 1x PAUSED" 5
clock() { screen | head -n 1 | grep -oE '[0-9]{2}:[0-9]{2}/[0-9]{2}:[0-9]{2}'; }
c1=$(clock)
clock_moved() { [ "$(clock)" != "$c1" ]; }
# paused, the clock stays for 3 s (at 1x it would move within 1 s)
wait_until 3 clock_moved && fail "the paused clock moved: $c1 -> $(clock)"
keys End
wait_for "killed by SIGKILL" 5
wait_for "cpu +stopped" 5
keys Home
wait_for "\| 00:00/00:0[0-9] 1x PAUSED" 5
wait_gone_from_screen "killed by SIGKILL" 5
wait_for "cpu +armed" 5                  # before its fire: the fault row as it was
keys g 2 Enter                           # the cpu fault fired at 1 s for 2 s
wait_for "\| 00:02/00:0[0-9] 1x PAUSED" 5
wait_for "cpu +firing" 5
keys '>' '>'
wait_for "00:02/00:0[0-9] 5x PAUSED" 5
keys '<' '<' '<'
wait_for "00:02/00:0[0-9] 0.5x PAUSED" 5
for i in 1 2 3 4 5 6; do keys '>'; done
wait_for "00:02/00:0[0-9] max PAUSED" 5
keys g x Enter                           # a prompt that takes only times
wait_for "go to: '' is not a time" 5
keys p
wait_for "end of the recording" 10
# Back from the end it plays on.  At max speed the 4 s recording would end again
# within one frame, so come down to 1x first: then the clock is seen running and the
# end is announced anew.
keys '<' '<' '<' '<'
wait_for "\| 00:0[0-9]/00:0[0-9] 1x \|" 5
keys '['
wait_for "\| 00:0[0-2]/00:0[0-9] 1x \|" 5
wait_gone_from_screen "end of the recording" 5
wait_for "end of the recording" 10
keys '!'                                 # no study here: refused with why
wait_for "only while answering a blind study" 5
keys q
wait_exit 10 >/dev/null

T kill-server 2>/dev/null
start 120 36 -- replay "$R" --blind --speed 3
wait_for "moni REPLAY \(blind\)" 10
wait_for "hidden \(blind replay\)" 3
wait_for "end of the recording" 12
s=$(screen)
echo "$s" | grep -Eq "cpu +(armed|firing|stopped)" && fail "blind replay shows the fault"
echo "$s" | grep -A1 " Timeline " | tail -n 1 | grep -q "━" && fail "blind replay shows the fault window"
keys d     # no diagnosis in a blind replay
wait_for "no diagnosis available" 3
keys Enter # nor a fault's details
wait_for "faults are hidden in a blind replay" 3
keys q
wait_exit 10 >/dev/null

T kill-server 2>/dev/null
"$MONI_BUILD/moni" replay "$W/nonexistent" 2>"$W/bad.err" </dev/null
rc=$?
[ "$rc" = 2 ] || fail "replay of a missing dir exited $rc"
[ "$(wc -l < "$W/bad.err")" = 1 ] || fail "want one error line: $(cat "$W/bad.err")"
grep -q "^moni: replay: .*samples.csv" "$W/bad.err" || fail "error: $(cat "$W/bad.err")"
echo "replay ok"
