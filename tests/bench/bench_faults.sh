#!/usr/bin/env bash
# bench_faults.sh — how precisely the injectors deliver what was asked, next to a peer
# measured the same way in the same run:
#   cpu load 25/50/75% on one burner (from /proc/PID/stat) vs stress-ng --cpu-load;
#   mem growth rate 200 MiB/s and io write rate 100 MiB/s (from /proc, vs requested;
#   stress-ng's unthrottled rate for scale); proxy latency 100 ms (client round trips
#   vs direct); fire-to-effective latency per kind (from the journals).
set -u
MONI=$MONI_BUILD/moni
PY=/usr/bin/python3
PEER=$MONI_SRC/tests/sh/fault_peer.py
export MONI_STATE_DIR=$TMPDIR/state
HZ=$(getconf CLK_TCK)
W=${BENCH_FAULT_WINDOW:-4}  # seconds measured per figure

cpu_of() { awk '{print $14+$15}' /proc/$1/stat 2>/dev/null; }
# measure PID: percent of one core over W seconds, from /proc/PID/stat
measure_cpu() {
    local p=$1 c0 c1 t0 t1
    c0=$(cpu_of $p); t0=$(date +%s%N); sleep "$W"; c1=$(cpu_of $p); t1=$(date +%s%N)
    awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$HZ" 'BEGIN{printf "%.2f", 100*(b-a)/hz/((t1-t0)/1e9)}'
}
wait_line() { # file pattern
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.025; done; return 1
}
idle_pct() { awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %-22s %-26s %s\n' figure moni peer "|error| moni vs peer"
for L in 25 50 75; do
    out=$TMPDIR/cpu$L
    $MONI fault run cpu workers=1 load=$L% --for $((W + 2))s --out "$out" >/dev/null 2>&1 &
    m=$!
    wait_line "$out/faults.jsonl" '"event":"fired"'
    pid=$(grep '"event":"fired"' "$out/faults.jsonl" | sed 's/.*"pids":\[\([0-9]*\).*/\1/')
    sleep 0.5
    mine=$(measure_cpu "$pid"); wait $m
    if command -v stress-ng >/dev/null; then
        stress-ng --cpu 1 --cpu-load $L --timeout $((W + 2))s >/dev/null 2>&1 &
        s=$!; sleep 0.5
        w=$(pgrep -P $s | head -1)
        theirs=$(measure_cpu "$w"); wait $s
    else
        theirs=nan
    fi
    printf '%-26s %-22s %-26s %s\n' "cpu load $L% (1 burner)" "$mine%" "stress-ng $theirs%" \
        "$(awk -v a="$mine" -v b="$theirs" -v l=$L 'BEGIN{d=a-l; e=b-l; printf "%.2f vs %.2f points", (d<0?-d:d), (e<0?-e:e)}')"
done

# mem: RSS slope of the hog between two samples, from /proc/PID/statm
out=$TMPDIR/mem
$MONI fault run mem size=2G rate=200M/s --for 6s --out "$out" >/dev/null 2>&1 &
m=$!
wait_line "$out/faults.jsonl" '"event":"fired"'
pid=$(grep '"event":"fired"' "$out/faults.jsonl" | sed 's/.*"details":{"pid":\([0-9]*\).*/\1/')
sleep 0.5
r0=$(awk '{print $2}' /proc/$pid/statm); t0=$(date +%s%N); sleep "$W"
r1=$(awk '{print $2}' /proc/$pid/statm); t1=$(date +%s%N)
wait $m
pg=$(getconf PAGESIZE)
mem=$(awk -v a="$r0" -v b="$r1" -v t0="$t0" -v t1="$t1" -v pg="$pg" 'BEGIN{printf "%.1f", (b-a)*pg/1048576/((t1-t0)/1e9)}')
sng=n/a
if command -v stress-ng >/dev/null; then  # unthrottled: time to fill 1G, from /proc
    stress-ng --vm 1 --vm-bytes 1G --vm-keep --vm-hang 0 --timeout 4s >/dev/null 2>&1 &
    s=$!; t0=$(date +%s%N); t1=""
    for _ in $(seq 400); do
        for p in $(pgrep -f stress-ng-vm); do
            [ "$(awk '{print $2}' /proc/$p/statm 2>/dev/null || echo 0)" -ge $(( (1 << 30) / pg )) ] && t1=$(date +%s%N)
        done
        [ -n "$t1" ] && break; sleep 0.005
    done
    wait $s
    [ -n "$t1" ] && sng=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.0f", 1024/((t1-t0)/1e9)}')
fi
printf '%-26s %-22s %-26s %s\n' "mem rate 200 MiB/s" "$mem MiB/s" "stress-ng --vm ${sng} MiB/s*" \
    "$(awk -v a="$mem" 'BEGIN{d=(a-200)/2; printf "%.1f%% of requested", (d<0?-d:d)}')"

# io: wchar slope of the writer, from /proc/PID/io
d=$TMPDIR/io; mkdir -p "$d"; out=$TMPDIR/io.out
$MONI fault run io rate=100M/s block=1M size=512M --path "$d" --for $((W + 2))s --out "$out" >/dev/null 2>&1 &
m=$!
wait_line "$out/faults.jsonl" '"event":"fired"'
sleep 0.5
w=$(for p in $(pgrep -P $m); do ls -l /proc/$p/fd 2>/dev/null | grep -q moni-io && echo $p; done | head -1)
a=$(awk '/^wchar/{print $2}' /proc/$w/io); t0=$(date +%s%N); sleep "$W"
b=$(awk '/^wchar/{print $2}' /proc/$w/io); t1=$(date +%s%N)
wait $m
io=$(awk -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.1f", (b-a)/1048576/((t1-t0)/1e9)}')
dd_rate=$(dd if=/dev/zero of="$d/dd" bs=1M count=256 conv=fsync 2>&1 | awk '/copied/{print $(NF-1), $NF}'); rm -f "$d/dd"
printf '%-26s %-22s %-26s %s\n' "io write 100 MiB/s" "$io MiB/s" "dd unthrottled ${dd_rate}*" \
    "$(awk -v a="$io" 'BEGIN{d=a-100; printf "%.1f%% of requested", (d<0?-d:d)}')"

# proxy latency: median client round trip through the proxy minus direct
fp() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
srv=$(fp); lp=$(fp)
$PY "$PEER" server "$srv" & server=$!
for _ in $(seq 50); do $PY "$PEER" rtt "$srv" 1 >/dev/null 2>&1 && break; sleep 0.1; done
direct=$($PY "$PEER" rtt "$srv" 50 | cut -d' ' -f1)
out=$TMPDIR/net
$MONI fault run net delay=100ms direction=up listen=$lp --port "$srv" --for 20s --out "$out" >/dev/null 2>&1 &
m=$!
wait_line "$out/faults.jsonl" '"event":"fired"'
read -r med mean mn mx < <($PY "$PEER" rtt "$lp" 50)
kill -INT $m; wait $m
added=$(awk -v a="$med" -v b="$direct" 'BEGIN{printf "%.2f", a-b}')
printf '%-26s %-22s %-26s %s\n' "proxy latency 100 ms" "+$added ms (median)" "direct rtt $direct ms" \
    "$(awk -v a="$added" -v mn="$mn" -v mx="$mx" -v b="$direct" 'BEGIN{d=a-100; printf "%.2f ms off; through-proxy min %.1f max %.1f", (d<0?-d:d), mn-b, mx-b}')"
kill $server 2>/dev/null

# fire-to-effective latency per kind, from the journals (fault_run polls every 10 ms)
echo
echo "fire-to-effective (ms, from faults.jsonl):"
f2e() { grep '"event":"effective"' "$1" 2>/dev/null | sed 's/.*"fire_to_effective_ms":\([0-9.]*\).*/\1/' | head -1; }
sleep 60 & v=$!
$MONI fault run stop --target $v --for 300ms --out "$TMPDIR/k1" >/dev/null 2>&1
$MONI fault run kill --target $v --out "$TMPDIR/k2" >/dev/null 2>&1; wait $v 2>/dev/null
mkdir -p "$TMPDIR/df"
$MONI fault run disk_fill size=256M --path "$TMPDIR/df" --for 500ms --out "$TMPDIR/k3" >/dev/null 2>&1
$MONI fault run io rate=100M/s --path "$TMPDIR/df" --for 500ms --out "$TMPDIR/k4" >/dev/null 2>&1
$MONI fault run mem size=256M rate=1G/s --for 1s --out "$TMPDIR/k5" >/dev/null 2>&1
if [ -e "$MONI_BUILD/tests/libfake_cuda.so" ]; then
    MONI_CUDA_LIB=$MONI_BUILD/tests/libfake_cuda.so $MONI fault run gpu_mem size=1G --for 300ms --out "$TMPDIR/k6" >/dev/null 2>&1
fi
printf '  %-10s %8s\n' cpu "$(f2e "$TMPDIR/cpu50/faults.jsonl")" stop "$(f2e "$TMPDIR/k1/faults.jsonl")" \
    kill "$(f2e "$TMPDIR/k2/faults.jsonl")" disk_fill "$(f2e "$TMPDIR/k3/faults.jsonl")" \
    io "$(f2e "$TMPDIR/k4/faults.jsonl")" "mem 256M@1G/s" "$(f2e "$TMPDIR/k5/faults.jsonl")" \
    "gpu_mem(fake)" "$(f2e "$TMPDIR/k6/faults.jsonl")" net "$(f2e "$TMPDIR/net/faults.jsonl")"
echo "  (* no rate control in the peer: shown for scale; mem/io precision is against the request)"
