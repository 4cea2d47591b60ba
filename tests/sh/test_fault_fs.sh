#!/usr/bin/env bash
# test_fault_fs.sh — fs, the in-process file fault (libmoni-inject.so):
#  1. ENOSPC on moni-train's checkpoint directory while the disk has room: the
#     trainer logs its own OSError, the journal says effective (changed calls counted
#     by the library) then reverted, meta.json says the library was in;
#  2. a fault on a workload that outlives moni (it ignores SIGTERM): its writes fail
#     while the fault fires, and after SIGKILL of moni the guardian clears the rule
#     and the writes succeed again;
#  3. the library on its own: a rule from a live owner changes calls, the same rule
#     with a stale heartbeat or a dead owner changes nothing; latency and short writes;
#  4. refusals: --no-inject, a statically linked and a set-user-ID workload (named as such).
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
. "$MONI_SRC/tests/sh/run_common.sh"
export MONI_STATE_DIR=$TMPDIR/state
LIB=$MONI_BUILD/libmoni-inject.so
[ -e "$LIB" ] || fail "$LIB not built"
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done' EXIT
df -Pk "$TMPDIR" | awk 'NR==2 && $4 < 65536 {exit 1}' || fail "less than 64M free: the test needs room"

# --- 1. ENOSPC on the checkpoint directory only
out=$TMPDIR/r1 ck=$TMPDIR/ck1
"$M" run --out "$out" --duration 60s --fault "fs:error=ENOSPC,path=$ck@1s+30s" -- \
    "$MONI_BUILD/moni-train" --threads 1 --data-dir "$TMPDIR/data1" --output-dir "$ck" \
    --train-samples 4000 --eval-samples 400 --features 4096 --hidden 32 --no-progress \
    --save-steps 20 --logging-steps 10 >"$TMPDIR/r1.log" 2>&1
grep -q "OSError: \[Errno 28\] No space left on device: '$ck/checkpoint-" "$out/workload.log" ||
    { tail -5 "$out/workload.log"; fail "1: no OSError from moni-train"; }
for ev in armed fired effective stopped reverted; do
    grep -q "\"event\":\"$ev\"" "$out/faults.jsonl" || fail "1: no $ev in the journal"
done
grep '"event":"effective"' "$out/faults.jsonl" | grep -q '"changed_calls":[1-9]' ||
    fail "1: effective without changed calls"
$PY - "$out/meta.json" <<'EOF' || fail "1: meta.json inject"
import json, sys
i = json.load(open(sys.argv[1]))["inject"]
assert i["enabled"] and i["library"].endswith("libmoni-inject.so"), i
EOF
echo "1: ok: $(grep -o "OSError[^\"]*" "$out/workload.log" | head -1)"

# --- 2. SIGKILL of moni while the fault fires: the guardian clears the rule
d=$TMPDIR/d2; mkdir -p "$d"; st=$TMPDIR/status2
cat >"$TMPDIR/writer.py" <<'EOF'
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)   # outlive moni
target, status = sys.argv[1], sys.argv[2]
n = 0
while True:
    n += 1
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, b"x" * 100)
            r = "ok"
        finally:
            os.close(fd)
    except OSError as e:
        r = "err %d" % e.errno
    with open(status + ".tmp", "w") as f:
        f.write("%s %d\n" % (r, n))
    os.replace(status + ".tmp", status)
    time.sleep(0.02)
EOF
out=$TMPDIR/r2
"$M" run --out "$out" --duration 60s --fault "fs:error=EIO,ops=write,path=$d@1s+50s" -- \
    $PY "$TMPDIR/writer.py" "$d/f" "$st" >"$TMPDIR/r2.log" 2>&1 &
moni=$!; pids+=($moni)
wait_for_file_line "$st" '^ok' 20 || fail "2: the writer never wrote"
wait_for_file_line "$st" '^err 5 ' 20 || { cat "$st"; fail "2: writes did not fail with EIO"; }
wait_for_file_line "$out/faults.jsonl" '"event":"effective"' 10 || fail "2: not effective"
wpid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["workload"]["pid"])' "$out/meta.json")
pids+=($wpid)
t0=$(now_us)
kill -9 $moni
wait_for_file_line "$st" '^ok' 10 || { cat "$st"; fail "2: writes still fail after SIGKILL of moni"; }
echo "2: writes succeed $(( ($(now_us) - t0) / 1000 )) ms after SIGKILL of moni"
wait_for_file_line "$out/faults.jsonl" '"event":"reverted".*"by":"guardian"' 10 ||
    fail "2: the guardian did not journal the revert"
grep '"event":"reverted"' "$out/faults.jsonl" | grep -q 'in-process rule 0 .*cleared' ||
    fail "2: the guardian's revert does not say the rule was cleared"
proc_gone "$wpid" || { kill -9 "$wpid"; wait_gone "$wpid"; }

# --- 3. the library alone: owner alive, heartbeat stale, owner dead
ctl=$TMPDIR/ctl3; d=$TMPDIR/d3; mkdir -p "$d"
# mkctl OWNER_PID HEARTBEAT_AGE_S ERRNO DELAY_NS SHORT_PCT: a control block with one fs rule on $d
mkctl() {
    $PY - "$ctl" "$d" "$@" <<'EOF'
import struct, sys, time
path, pat, pid, age, err, delay, short = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
hb = now - int(age * 1e9)
ops = 0x3f                                 # open,read,write,fsync,rename,close
rule = struct.pack("<IIiIqIIqqqQ224s", 1, ops, int(err), 1, int(delay), int(short), 0, 0, 0, 0,
                   0, pat.encode())
orders = struct.pack("<QIIIIiIqq", 0x314a4e4931494e4d, 1, 8192, 1 << 1, 0, int(pid), 0, hb,
                     3 * 10**9) + rule
open(path, "wb").write(orders.ljust(8192, b"\0"))
EOF
}
# try: what `dd` says when it writes 1000 bytes into $d/f with the library
try() { LD_PRELOAD=$LIB MONI_INJECT_CTL=$ctl dd if=/dev/zero of="$d/f" bs=1000 count=1 2>&1 | tail -1; }
counted() { $PY -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(struct.unpack_from("<QQ",d,4096)[0], struct.unpack_from("<Q",d,4096+64)[0])' "$ctl"; }
mkctl $$ 0 28 0 0
r=$(try); echo "3: live owner: $r"
case $r in *"No space left"*) ;; *) fail "3: a live owner's ENOSPC rule did not act ($r)";; esac
[ "$(counted)" != "0 0" ] || fail "3: the library counted nothing"
mkctl $$ 10 28 0 0
r=$(try); echo "3: stale heartbeat: $r"
case $r in *"1000 bytes"*) ;; *) fail "3: a stale owner's rule still acts ($r)";; esac
sleep 60 & dead=$!; kill -9 $dead; wait $dead 2>/dev/null
mkctl $dead 0 28 0 0
r=$(try); echo "3: dead owner: $r"
case $r in *"1000 bytes"*) ;; *) fail "3: a dead owner's rule still acts ($r)";; esac
mkctl $$ 0 0 0 50
r=$(try); echo "3: short writes: $r"
case $r in *"1000 bytes"*) ;; *) fail "3: short writes: dd should retry to 1000 bytes ($r)";; esac
[ "$(counted | cut -d" " -f2)" -ge 5 ] || fail "3: short writes not counted ($(counted))"
mkctl $$ 0 0 300000000 0
t0=$(now_us); try >/dev/null; ms=$(( ($(now_us) - t0) / 1000 ))
echo "3: delay 300ms: dd took $ms ms"
[ "$ms" -ge 550 ] || fail "3: latency not added to open and write ($ms ms)"

# --- 4. refusals
out=$TMPDIR/r4
"$M" run --no-inject --out "$out" --duration 20s --fault "fs:error=EIO,path=$TMPDIR@1s+5s" -- \
    sleep 2 >"$TMPDIR/r4.log" 2>&1
grep -q -- "--no-inject" "$TMPDIR/r4.log" || { cat "$TMPDIR/r4.log"; fail "4: --no-inject refusal unclear"; }
$PY -c 'import json,sys; i = json.load(open(sys.argv[1]))["inject"]; assert not i["enabled"] and i["reason"] == "--no-inject", i' "$out/meta.json" ||
    fail "4: meta.json does not say --no-inject"
printf '#include <unistd.h>\nint main(void){sleep(2);return 0;}\n' >"$TMPDIR/st.c"
if cc -static -o "$TMPDIR/static-prog" "$TMPDIR/st.c" 2>/dev/null; then
    out=$TMPDIR/r5
    "$M" run --out "$out" --duration 20s --fault "fs:error=EIO,path=$TMPDIR@1s+5s" -- \
        "$TMPDIR/static-prog" >"$TMPDIR/r5.log" 2>&1
    grep -q "statically linked" "$TMPDIR/r5.log" || { cat "$TMPDIR/r5.log"; fail "4: static workload not named"; }
    $PY - "$out/meta.json" <<'EOF' || fail "4: meta.json for a static workload"
import json, sys
i = json.load(open(sys.argv[1]))["inject"]
assert not i["enabled"] and "statically linked" in i["reason"], i
EOF
    echo "4: $(grep -o 'refused: .*' "$TMPDIR/r5.log" | head -1)"
else
    echo "4: no static libc: static workload check skipped"
fi
cp "$(command -v sleep)" "$TMPDIR/suid-sleep" && chmod u+s "$TMPDIR/suid-sleep"
out=$TMPDIR/r6
"$M" run --out "$out" --duration 20s --fault "fs:error=EIO,path=$TMPDIR@1s+5s" -- \
    "$TMPDIR/suid-sleep" 2 >"$TMPDIR/r6.log" 2>&1
grep -q "set-user-ID" "$TMPDIR/r6.log" || { cat "$TMPDIR/r6.log"; fail "4: setuid workload not named"; }
echo "4: $(grep -o 'refused: .*' "$TMPDIR/r6.log" | head -1)"
echo PASS
