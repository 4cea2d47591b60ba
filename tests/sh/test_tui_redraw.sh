#!/usr/bin/env bash
# test_tui_redraw.sh — the console redraws at most a few times a second, not for
# every log line: a workload writes 200 lines a second for 8 s (loss lines, parsed
# and graphed), and the frame count moni reports at the end (MONI_TUI_FRAMES=1)
# stays under 2 per second of the session (log lines alone are drawn once a second,
# with the samples) while the lines are many times more.
. "$(dirname "$0")/tui_common.sh"
cat >"$W/chatty.py" <<'PY'
import sys, time
t0 = time.monotonic()
i = 0
while time.monotonic() - t0 < 8:
    i += 1
    print("{'loss': %.4f, 'learning_rate': 0.01, 'epoch': %.3f}" % (1.0 / i, i / 1000), flush=True)
    time.sleep(0.005)
print("lines written", i, flush=True)
PY
start 120 40 MONI_TUI_FRAMES=1 -- --out "$W/run" --interval 1s -- "$PY" "$W/chatty.py"
wait_for "workload exited 0" 30
keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "moni exited $rc"
line=$(grep "console drew" "$W/err") || fail "no frame count on stderr"
frames=$(awk '{ print $4 }' <<<"$line")
secs=$(awk '{ print $7 }' <<<"$line")
lines=$(wc -l < "$W/run/workload.log")
echo "$frames frames in $secs s for $lines log lines"
awk -v f="$frames" -v s="$secs" 'BEGIN { exit !(f <= 2 * s + 6) }' ||
    fail "$frames frames in $secs s: more than 2 a second"
[ "$lines" -gt $((frames * 3)) ] || fail "only $lines log lines for $frames frames: not a chatty log"
[ "$frames" -ge 3 ] || fail "only $frames frames drawn"
echo PASS
