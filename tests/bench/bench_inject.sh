#!/usr/bin/env bash
# bench_inject.sh — libmoni-inject.so (the in-process faults):
#   the cost of a wrapped call with no fault active: write(2) of 1 byte to /dev/null
#   and clock_gettime(CLOCK_REALTIME), 20k calls, best of 200 short rounds (a busy machine), next to libc's own
#   function called in the same process (the peer), without the library, with it and
#   its control block empty, and with a rule of another kind set; target: under 50 ns
#   per call over the unwrapped call;
#   fire -> effective latency per kind (straggler: the journal's only): from the rule written to the first
#   call the library changed (the journal's first_change_ms), on a workload that
#   makes the call without pause, next to the poll-bound journal figure.
set -u
PY=/usr/bin/python3
M="$MONI_BUILD/moni"
LIB="$MONI_BUILD/libmoni-inject.so"
export MONI_STATE_DIR=$TMPDIR/state
[ -e "$LIB" ] || { echo "   skipped: $LIB not built"; exit 0; }
BIN=$TMPDIR/inject_cost
cc -O2 -std=c11 -D_GNU_SOURCE -o "$BIN" "$MONI_SRC/tests/bench/inject_cost.c" -ldl ||
    { echo "   skipped: cannot build inject_cost"; exit 0; }
N=${BENCH_INJECT_CALLS:-20000}

# mkctl FILE ACTIVE_BITS KIND PATTERN: a control block with one rule (KIND 0: none)
mkctl() {
    $PY - "$@" <<'EOF'
import os, struct, sys, time
path, bits, kind, pat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
hb = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 3600 * 10**9   # fresh for the whole bench
rule = struct.pack("<IIiIqIIqqqQ224s", kind, 0x3f, 5, 1, 0, 0, 0, 0, 0, 0, 0, pat.encode())
orders = struct.pack("<QIIIIiIqq", 0x314a4e4931494e4d, 1, 8192, bits, 0, os.getppid(), 0, hb,
                     3 * 10**9) + rule
open(path, "wb").write(orders.ljust(8192, b"\0"))
EOF
}
mkctl "$TMPDIR/empty.ctl" 0 0 ""
mkctl "$TMPDIR/clock.ctl" $((1 << 4)) 4 ""
# each line: wrapped write, libc write, wrapped clock_gettime, libc clock_gettime
read -r w0 lw0 c0 lc0 <<<"$("$BIN" cost "$N")"
read -r w1 lw1 c1 lc1 <<<"$(LD_PRELOAD=$LIB MONI_INJECT_CTL=$TMPDIR/empty.ctl "$BIN" cost "$N")"
read -r w2 lw2 _ _ <<<"$(LD_PRELOAD=$LIB MONI_INJECT_CTL=$TMPDIR/clock.ctl "$BIN" cost "$N")"
over() { echo "$1 - $2" | bc -l; }
echo "   ns per call, best of 200 rounds x $N calls; the peer is libc's own function called"
echo "   in the same process, rounds alternated (without the library both are libc's)"
printf '   %-40s %9s %9s %16s\n' call wrapped "libc's" "over (<50 target)"
printf '   %-40s %9s %9s %16.2f\n' "write(/dev/null, 1 byte), no library" "$w0" "$lw0" "$(over "$w0" "$lw0")"
printf '   %-40s %9s %9s %16.2f\n' "write, library idle" "$w1" "$lw1" "$(over "$w1" "$lw1")"
printf '   %-40s %9s %9s %16.2f\n' "write, a clock rule set (other kind)" "$w2" "$lw2" "$(over "$w2" "$lw2")"
printf '   %-40s %9s %9s %16.2f\n' "clock_gettime(REALTIME), no library" "$c0" "$lc0" "$(over "$c0" "$lc0")"
printf '   %-40s %9s %9s %16.2f\n' "clock_gettime(REALTIME), library idle" "$c1" "$lc1" "$(over "$c1" "$lc1")"

# fire -> first changed call, per kind
echo "   fire -> effective (rule written -> first changed call | journal's effective - fired):"
first_change() { # run-dir: the first_change_ms and the journal's fired->effective in ms
    $PY - "$1/faults.jsonl" <<'EOF'
import json, sys
ev = {}
for l in open(sys.argv[1]):
    try: o = json.loads(l)
    except ValueError: continue
    ev.setdefault(o["event"], o)
fc = max((json.loads(l).get("details", {}).get("first_change_ms", -1)
          for l in open(sys.argv[1]) if l.strip()), default=-1)
if "effective" in ev and "fired" in ev:
    print("%.3f ms | %.1f ms" % (fc, (ev["effective"]["mono_ns"] - ev["fired"]["mono_ns"]) / 1e6))
else:
    print("not effective")
EOF
}
bench_kind() { # name spec spin-args...
    local name=$1 spec=$2; shift 2
    local out=$TMPDIR/run-$name
    "$M" run --out "$out" --duration 6s --fault "$spec@2s+2s" -- "$BIN" spin "$@" >/dev/null 2>&1
    printf '   %-10s %s\n' "$name" "$(first_change "$out")"
}
mkdir -p "$TMPDIR/spin"
bench_kind fs "fs:error=EIO,path=$TMPDIR/spin" fs "$TMPDIR/spin/f"
for k in dns connect clock; do
    "$M" fault list "$k" >/dev/null 2>&1 || continue
    case $k in
    dns) bench_kind dns "dns:host=localhost,error=EAI_AGAIN" dns localhost ;;
    connect) bench_kind connect "connect:host=127.0.0.1,port=9,action=refuse" connect 9 ;;
    clock) bench_kind clock "clock:offset=3600" clock ;;
    esac
done
# straggler acts from outside (a cgroup quota): the journal's fired -> effective only
if "$M" fault list straggler >/dev/null 2>&1; then
    out=$TMPDIR/run-straggler
    "$M" run --out "$out" --duration 6s --fault "straggler:cpus=0.1@2s+2s" -- "$BIN" spin clock >/dev/null 2>&1
    printf '   %-10s %s\n' straggler "$(first_change "$out" | sed 's/^-1.000 ms/(n\/a)/')"
fi
