#!/usr/bin/env bash
# The detectors' CPU per sample (all of core/detect*.c on a 120-column frame with a
# loss and a step every tick), next to the observer's own per-tick cost: moni record
# at 1 Hz over 30 s, CPU seconds / ticks (the observer figure of bench_observer).
set -u
M="$MONI_BUILD/moni"
BIN="$TMPDIR/detect_cost"
cc -O2 -std=c11 -D_GNU_SOURCE -I"$MONI_SRC" $(pkg-config --cflags libcjson) -o "$BIN" \
    "$MONI_SRC/tests/bench/detect_cost.c" "$MONI_BUILD/libmoni.a" \
    $(pkg-config --libs libcjson libpcre2-8) -lpthread -lm -ldl || { echo "   build failed"; exit 0; }
read -r det_ns ticks <<<"$("$BIN" 86400)"
"$M" record --out "$TMPDIR/obs" --interval 1s --duration 30s -- sleep 60 >/dev/null 2>&1 &
pid=$!
wait $pid
ticks_obs=$(($(wc -l <"$TMPDIR/obs/samples.csv") - 1))
# moni's own CPU is in samples.csv (moni_cpu_pct, % of a core over each tick)
obs_ns=$(/usr/bin/python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
v = [float(r["moni_cpu_pct"]) for r in rows[2:] if r["moni_cpu_pct"]]
print("%.0f" % (sum(v) / len(v) / 100 * 1e9))  # ns of CPU per 1 s tick
' "$TMPDIR/obs/samples.csv")
printf '   detectors: %s ns CPU per tick (%s ticks) | observer at 1 Hz: %s ns CPU per tick (%s ticks) | detectors/observer %.3f\n' \
    "$det_ns" "$ticks" "$obs_ns" "$ticks_obs" "$(echo "$det_ns / $obs_ns" | bc -l)"
