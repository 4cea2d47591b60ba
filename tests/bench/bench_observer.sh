#!/usr/bin/env bash
# tests/bench/bench_observer.sh — observer cost next to a psutil sampler collecting
# the same system fields at the same rate, and next to a floor: a C loop that only
# wakes on the same timer and reads the same /proc files (run side by side, same 30 s
# window).  psutil/floor is the largest ratio any sampler of these fields can reach on
# this machine; moni/floor is what moni spends beyond the kernel's share:
# CPU seconds per wall second (from /proc/PID/task/*/schedstat, startup excluded), peak RSS
# (VmHWM), and moni's sampling jitter at 10 Hz from samples.csv against the ideal
# grid start + k*interval.
set -u
PY=/usr/bin/python3
SECS=${BENCH_SECS:-30}
WARM=2
FLOOR="$TMPDIR/floor_sampler"
cc -O2 -std=c11 -o "$FLOOR" "$MONI_SRC/tests/bench/floor_sampler.c" || exit 1
# CPU time in ns summed over every thread, from schedstat (ns resolution; /proc/PID/stat
# counts 10 ms jiffies, too coarse for a process that sleeps 99.9% of the time).
cpu_ticks() { cat /proc/$1/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

measure() { # rate_label interval_s interval_arg
    local label=$1 iv=$2 ivarg=$3
    local out="$TMPDIR/moni-$label"
    MONI_NVML_LIB=/nonexistent "$MONI_BUILD/moni" record --out "$out" --interval "$ivarg" \
        --duration $((SECS + WARM + 2))s 2>/dev/null &
    local mpid=$!
    $PY "$MONI_SRC/tests/bench/psutil_sampler.py" "$iv" $((SECS + WARM + 2)) "$TMPDIR/py-$label.csv" &
    local ppid=$!
    "$FLOOR" "$(awk "BEGIN{printf \"%d\", $iv * 1e9}")" $((SECS + WARM + 2)) >/dev/null &
    local fpid=$!
    sleep $WARM
    local m0 p0 f0 m1 p1 f1
    m0=$(cpu_ticks $mpid); p0=$(cpu_ticks $ppid); f0=$(cpu_ticks $fpid)
    sleep "$SECS"
    m1=$(cpu_ticks $mpid); p1=$(cpu_ticks $ppid); f1=$(cpu_ticks $fpid)
    local mh ph
    mh=$(hwm_kb $mpid); ph=$(hwm_kb $ppid)
    wait $mpid $ppid $fpid 2>/dev/null
    $PY - "$label" "$SECS" 1000000000 "$m0" "$m1" "$p0" "$p1" "$mh" "$ph" "$f0" "$f1" <<'PYEOF'
import sys
label, secs, tck, m0, m1, p0, p1, mh, ph, f0, f1 = sys.argv[1], *map(float, sys.argv[2:])
m = (m1 - m0) / tck / secs
p = (p1 - p0) / tck / secs
fl = (f1 - f0) / tck / secs
r = lambda a, b: "%.1fx" % (a / b) if b > 0 else "inf"
print("observer %-5s: moni %.5f cpu-s/s (%.3f%% of a core) | psutil %.5f cpu-s/s | ratio %s"
      % (label, m, m * 100, p, r(p, m)))
print("floor    %-5s: wake + read the same /proc files %.5f cpu-s/s | moni/floor %s |"
      " psutil/floor %s (the most any sampler can be cheaper than psutil here)"
      % (label, fl, r(m, fl), r(p, fl)))
print("peak RSS %-5s: moni %.1f MB | psutil %.1f MB | ratio %.1fx" % (label, mh / 1024, ph / 1024, ph / mh if mh else 0))
PYEOF
}

measure 1Hz 1 1s
measure 10Hz 0.1 100ms
$PY - "$TMPDIR/moni-10Hz" <<'PYEOF'
import csv, json, sys
d = sys.argv[1]
meta = json.load(open(d + "/meta.json"))
start, iv = meta["start_mono_ns"], int(meta["interval_s"] * 1e9)
lags = []
for r in csv.DictReader(open(d + "/samples.csv")):
    t = int(r["mono_ns"])
    k = round((t - start) / iv)
    lags.append(abs(t - (start + k * iv)) / 1e6)
lags.sort()
n = len(lags)
pct = lambda q: lags[min(n - 1, int(q * n))]
print("jitter 10Hz : p50 %.3f ms | p99 %.3f ms | max %.3f ms over %d ticks (late %d, missed %d)"
      % (pct(0.5), pct(0.99), lags[-1], n, meta["ticks"]["late"], meta["ticks"]["missed"]))
PYEOF
