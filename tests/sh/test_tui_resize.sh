#!/usr/bin/env bash
# Live resize: 200x60 -> 80x24 -> too small (message) -> 100x30 (recovers), with
# the cast recording the resizes; --ascii has no UTF-8 glyphs on screen.
. "$(dirname "$0")/tui_common.sh"
R="$W/run"
start 200 60 -- --out "$R" --interval 200ms -- sleep 60
wait_for "Faults .*a arm" 10
wait_for "Timeline  00:00 \.\. 00:0[1-9]" 5
[ "$(screen | wc -l)" -ge 60 ] || fail "not 60 rows"
screen | grep -q "^ 0 .*\[.*\] 1 .*\[" || fail "no per-core bars at 200x60"
# Graph glyphs: any braille cell (U+2801..U+28FF, the CPU and I/O graphs) or a
# sparkline block (U+2581..U+2588).  A graph cell is blank for a zero sample and the
# I/O graphs are zero on a quiet box, so a core is kept busy until the CPU graph has
# drawn, and the test waits for the glyphs instead of looking once.
graph_drawn() { screen | LC_ALL=C grep -Eq $'\xe2([\xa0-\xa3][\x80-\xbf]|\x96[\x81-\x88])'; }
( while :; do :; done ) & burner=$!
trap 'kill $burner 2>/dev/null; cleanup' EXIT
wait_until 15 graph_drawn || fail "no graph glyphs in 15 s"
kill $burner
T resize-window -t m -x 80 -y 24
wait_for "^ CPU / memory / PSI" 5
for want in "GPU" "Training" "Workload" "Faults" "Log events" "Timeline" "\?Help"; do
    wait_for "$want" 5
done
screen | grep -q "qqqq" && fail "line drawing came out as ACS letters"
T resize-window -t m -x 60 -y 20
wait_for "terminal too small: 60x20 \(moni needs 80x24\)" 5
keys j k    # keys while too small do nothing harmful
T resize-window -t m -x 100 -y 30
wait_for "Faults .*a arm" 5
screen | grep -q "too small" && fail "message stayed after enlarging"
# R asks, n keeps it; then R and y restart the workload (sleep dies on SIGTERM at once)
keys R
wait_for "restart the workload\?" 5
keys n
wait_for "restart cancelled" 5
screen | grep -q "(restarted)" && fail "n restarted the workload"
keys R
wait_for "restart the workload\?" 5
keys y
wait_for "running pid [0-9]+ \(restarted\)" 10
keys q
rc=$(wait_exit 20)
[ "$rc" = 0 ] || fail "moni exited $rc"
$PY - "$R/session.cast" <<'PYEOF' || fail "cast"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
h = json.loads(lines[0])
assert (h["width"], h["height"]) == (200, 60), h
rs = [json.loads(l)[2] for l in lines[1:] if json.loads(l)[1] == "r"]
assert rs[:3] == ["80x24", "60x20", "100x30"], rs
PYEOF
# --ascii: the same screen without UTF-8 glyphs
T kill-server
R2="$W/run2"
start 100 30 -- --out "$R2" --interval 200ms --ascii -- sleep 60
wait_for "Timeline  00:00 \.\. 00:0[2-9]" 10
screen | LC_ALL=C grep -q '[^ -~]' && fail "--ascii drew non-ASCII characters"
keys q
rc=$(wait_exit 20)
[ "$rc" = 0 ] || fail "moni --ascii exited $rc"
echo "resize ok"
