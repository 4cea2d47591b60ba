#!/usr/bin/env bash
# The console's cost next to htop and btop, each in a tmux pane of the same size over
# the same period: CPU seconds per wall second at 1 Hz, peak RSS, and the cost of one
# full redraw at 200x60 (moni: MONI_TUI_BENCH=N full repaints; htop: its CPU per
# refresh at 10 Hz).  BENCH_SECONDS shortens the 60 s window.  Never pass/fail.
set -u
SECS=${BENCH_SECONDS:-60}
command -v tmux >/dev/null || { echo "   skipped: no tmux"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-tui.XXXXXX")
SOCK="bench-tui-$$"
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/data" "$W/config/btop"
ln -s "$MONI_SRC/logparse/rules" "$W/data/rules"
ln -s "$MONI_SRC/themes" "$W/data/themes"
ln -s "$MONI_SRC/examples" "$W/data/examples"
# btop: 1 s updates like the others
printf 'update_ms = 1000\ncolor_theme = "Default"\n' > "$W/config/btop/btop.conf"
ENV=(env LANG=C.UTF-8 TERM=xterm-256color MONI_DATA_DIR="$W/data" XDG_CONFIG_HOME="$W/config"
     MONI_STATE_DIR="$W/state")

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
pid_of() { # the pane's process by name (tmux pane_pid is the command itself)
    local p; p=$(T display -p -t "$1" '#{pane_pid}'); echo "$p"
}
HZ=$(getconf CLK_TCK)
W_=120 H_=40
T -f /dev/null new-session -d -s moni -x $W_ -y $H_ \
    "exec ${ENV[*]} $MONI_BUILD/moni --out $W/run --interval 1s -- sleep 100000 2>$W/moni.err"
T new-session -d -s htop -x $W_ -y $H_ "exec ${ENV[*]} htop -d 10"
have_btop=0
if command -v btop >/dev/null; then
    T new-session -d -s btop -x $W_ -y $H_ "exec ${ENV[*]} btop --utf-force"
    have_btop=1
fi
sleep 3 # start-up is not steady state
pm=$(pid_of moni) ph=$(pid_of htop)
pb=$([ $have_btop = 1 ] && pid_of btop || echo 0)
m0=$(cpu_ticks "$pm") h0=$(cpu_ticks "$ph") b0=$(cpu_ticks "$pb")
sleep "$SECS"
m1=$(cpu_ticks "$pm") h1=$(cpu_ticks "$ph") b1=$(cpu_ticks "$pb")
mr=$(hwm_kb "$pm") hr=$(hwm_kb "$ph") br=$(hwm_kb "$pb")
rate() { awk -v a="$1" -v b="$2" -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.5f", (b - a) / hz / s }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x > 0) printf "%.1fx", y / x; else printf "n/a (moni below the %s s tick resolution)", "1/'"$HZ"'" }'; }
mc=$(rate "$m0" "$m1") hc=$(rate "$h0" "$h1") bc=$(rate "$b0" "$b1")
echo "   console CPU at 1 Hz, ${W_}x${H_}, ${SECS}s (cpu-s/s; ratio = peer / moni):"
echo "     moni $mc | htop $hc (ratio $(ratio "$mc" "$hc"))$([ $have_btop = 1 ] && echo " | btop $bc (ratio $(ratio "$mc" "$bc"))")"
echo "   peak RSS: moni $((mr / 1024)) MB (target < 15 MB) | htop $((hr / 1024)) MB$([ $have_btop = 1 ] && echo " | btop $((br / 1024)) MB")"
T kill-server 2>/dev/null
sleep 0.5

# Full redraw at 200x60: moni repaints N frames from a live model; htop refreshing
# 10 times a second (its CPU per refresh includes its own sampling, an upper bound).
N=${BENCH_FRAMES:-300}
T -f /dev/null new-session -d -s moni -x 200 -y 60 \
    "exec ${ENV[*]} MONI_TUI_BENCH=$N $MONI_BUILD/moni --out $W/run2 --interval 1s -- sleep 100000 2>$W/redraw.err"
for i in $(seq 300); do grep -q "ms/frame" "$W/redraw.err" 2>/dev/null && break; sleep 0.1; done
mf=$(sed -n 's/.*frames, \([0-9.]*\) ms\/frame.*/\1/p' "$W/redraw.err")
T new-session -d -s htop -x 200 -y 60 "exec ${ENV[*]} htop -d 1"
sleep 1
ph=$(pid_of htop)
h0=$(cpu_ticks "$ph")
sleep 10
h1=$(cpu_ticks "$ph")
hf=$(awk -v a="$h0" -v b="$h1" -v hz="$HZ" 'BEGIN { printf "%.3f", (b - a) / hz / 100 * 1000 }')
rf=$(awk -v x="${mf:-0}" -v y="$hf" 'BEGIN { if (x > 0) printf "%.1fx", y / x; else print "n/a" }')
echo "   full redraw at 200x60: moni ${mf:-?} ms/frame ($N frames) | htop ${hf} ms/refresh at 10 Hz (ratio $rf)"
