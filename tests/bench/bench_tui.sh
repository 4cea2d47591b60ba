#!/usr/bin/env bash
# The console's cost next to htop (and btop when installed), each in a tmux session of
# the same size, all started together and measured over the same window: CPU ticks
# from /proc/PID/stat (utime + stime of the whole process) and peak RSS (VmHWM), at
# 120x40 and at 200x60.  The console's workload is moni-train with its progress bar
# on and its default logging (a loss line every 10 steps, CR-redrawn bars); htop and
# btop refresh once a second, as the console samples.  Then the cost of one full
# redraw at 200x60.  A chattier log costs the console more: every line is recorded,
# parsed and (metrics, events) written to events.jsonl by core, whatever is drawn.
# BENCH_SECONDS shortens the 60 s window.  Never pass/fail; target: moni <= htop,
# peak RSS < 15 MB.
set -u
SECS=${BENCH_SECONDS:-60}
command -v tmux >/dev/null || { echo "   skipped: no tmux"; exit 0; }
command -v htop >/dev/null || { echo "   skipped: no htop (make deps installs it)"; exit 0; }
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
TRAIN=("$MONI_BUILD/moni-train" --data-dir "$W/train-data" --train-samples 4000 --eval-samples 400
       --features 4096 --hidden 32 --threads 1 --max-steps 100000000)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU time of all the process's threads in ns (schedstat): ticks are 10 ms grains,
# and a 60 s window of ~20 ticks would be read to +-5% only
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
hwm_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
pid_of() { T display -p -t "$1" '#{pane_pid}'; } # the pane's command itself (exec)
HZ=$(getconf CLK_TCK)
have_btop=0
command -v btop >/dev/null && have_btop=1

# measure COLS LINES: all three side by side over one window
measure() {
    local w=$1 h=$2 n=$3
    T -f /dev/null new-session -d -s moni -x "$w" -y "$h" \
        "exec ${ENV[*]} MONI_TUI_FRAMES=1 $MONI_BUILD/moni --out $W/run$n --interval 1s -- ${TRAIN[*]} --output-dir $W/out$n 2>$W/moni$n.err"
    T new-session -d -s htop -x "$w" -y "$h" "exec ${ENV[*]} htop -d 10"
    [ $have_btop = 1 ] && T new-session -d -s btop -x "$w" -y "$h" "exec ${ENV[*]} btop --utf-force"
    sleep 5 # start-up (moni-train writes its corpus) is not steady state
    local pm ph pb=0 m0 h0 b0=0 m1 h1 b1=0 l0 l1
    pm=$(pid_of moni) ph=$(pid_of htop)
    [ $have_btop = 1 ] && pb=$(pid_of btop)
    l0=$(tr "\r" "\n" < "$W/run$n/workload.log" 2>/dev/null | wc -l)
    m0=$(cpu_ticks "$pm") h0=$(cpu_ticks "$ph")
    [ $have_btop = 1 ] && b0=$(cpu_ticks "$pb")
    local mn0 hn0 mn1 hn1
    mn0=$(cpu_ns "$pm") hn0=$(cpu_ns "$ph")
    sleep "$SECS"
    m1=$(cpu_ticks "$pm") h1=$(cpu_ticks "$ph")
    [ $have_btop = 1 ] && b1=$(cpu_ticks "$pb")
    mn1=$(cpu_ns "$pm") hn1=$(cpu_ns "$ph")
    l1=$(tr "\r" "\n" < "$W/run$n/workload.log" 2>/dev/null | wc -l)
    local mr hr br=0
    mr=$(hwm_kb "$pm") hr=$(hwm_kb "$ph")
    [ $have_btop = 1 ] && br=$(hwm_kb "$pb")
    local dm=$((m1 - m0)) dh=$((h1 - h0)) db=$((b1 - b0))
    echo "   ${w}x${h}, moni-train workload ($(( (l1 - l0) / SECS )) log lines/s, CR redraws counted), ${SECS} s window, CPU ticks (${HZ}/s):"
    echo "     moni $dm | htop $dh$([ $have_btop = 1 ] && echo " | btop $db")  -> moni/htop $(awk -v a="$dm" -v b="$dh" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') (target <= 1)"
    echo "     CPU time (schedstat): moni $(( (mn1 - mn0) / 1000000 )) ms | htop $(( (hn1 - hn0) / 1000000 )) ms  -> moni/htop $(awk -v a="$((mn1 - mn0))" -v b="$((hn1 - hn0))" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
    echo "   peak RSS: moni $(awk -v k="$mr" 'BEGIN { printf "%.1f", k / 1024 }') MB (target < 15 MB) | htop $(awk -v k="$hr" 'BEGIN { printf "%.1f", k / 1024 }') MB$([ $have_btop = 1 ] && awk -v k="$br" 'BEGIN { printf " | btop %.1f MB", k / 1024 }')"
    T kill-server 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
    grep -h "console drew" "$W/moni$n.err" | sed 's/^/     /'
}
measure 120 40 1
measure 200 60 2

# Full redraw at 200x60: moni repaints N frames from a live model; htop refreshing
# 10 times a second (its CPU per refresh includes its own sampling, an upper bound).
N=${BENCH_FRAMES:-300}
T -f /dev/null new-session -d -s moni -x 200 -y 60 \
    "exec ${ENV[*]} MONI_TUI_BENCH=$N $MONI_BUILD/moni --out $W/run3 --interval 1s -- sleep 100000 2>$W/redraw.err"
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
