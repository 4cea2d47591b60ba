#!/usr/bin/env bash
# test_fault_straggler.sh — straggler: a CPU-bound workload moved into a cgroup with a
# quota of 0.03 CPU says itself that it gets about that much while the fault fires,
# and its full share again after the revert; the journal says effective (throttled
# periods) and delivered about 0.03 CPU; after SIGKILL of moni the guardian moves it
# back and removes the cgroup.  Skipped without a writable cgroup cpu controller.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
. "$MONI_SRC/tests/sh/run_common.sh"
export MONI_STATE_DIR=$TMPDIR/state
PEER=$MONI_SRC/tests/sh/straggler_peer.py
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done' EXIT
share_le() { awk -v m="$2" '{exit !($2 <= m)}' "$1" 2>/dev/null; }
share_ge() { awk -v m="$2" '{exit !($2 >= m)}' "$1" 2>/dev/null; }
cpu_cgroup() { # the cgroup of pid's cpu controller (v1), else its v2 cgroup
    awk -F: '$2 ~ /(^|,)cpu(,|$)/ {v1 = $3} $2 == "" {v2 = $3} END {print (v1 != "" ? v1 : v2)}' /proc/$1/cgroup
}

# 1. the window
out=$TMPDIR/w st=$TMPDIR/w.status
"$M" run --out "$out" --duration 40s --fault "straggler:cpus=0.03@2s+4s" -- $PY "$PEER" "$st" \
    >"$TMPDIR/w.log" 2>&1 &
moni=$!; pids+=($moni)
wait_until 20 share_ge "$st" 0.2 || fail "the peer never got a fifth of a CPU ($(cat "$st" 2>/dev/null))"
echo "before: $(cat "$st")"
if ! wait_for_file_line "$out/faults.jsonl" '"event":"(fired|failed)"' 20; then fail "never fired"; fi
if grep -q '"event":"failed"' "$out/faults.jsonl"; then
    grep -o '"reason":"[^"]*"' "$out/faults.jsonl" | head -1
    echo "SKIP: no writable cgroup cpu controller"; exit 77
fi
wait_until 10 share_le "$st" 0.12 || fail "no slowdown while firing ($(cat "$st"))"
echo "while firing: $(cat "$st")"
wait_for_file_line "$out/faults.jsonl" '"event":"reverted"' 20 || fail "never reverted"
wait_until 10 share_ge "$st" 0.2 || fail "still slow after the revert ($(cat "$st"))"
echo "after the revert: $(cat "$st")"
kill $moni; wait $moni 2>/dev/null
grep '"event":"effective"' "$out/faults.jsonl" | grep -q '"throttled_periods":[1-9]' ||
    fail "effective without throttled periods"
$PY - "$out/faults.jsonl" <<'PYEOF' || fail "delivered dose"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [e for e in ev if e["event"] == "reverted"][0]
d = r["delivered_dose"]
print("delivered %.3f CPUs, requested %.2f" % (d, r["requested_dose"]))
assert 0.01 <= d <= 0.08, d
cg = r["details"]["cgroup"]
import os
assert not os.path.exists(cg), cg + " left"
PYEOF

# 2. SIGKILL of moni
out=$TMPDIR/k st=$TMPDIR/k.status
"$M" run --out "$out" --duration 60s --fault "straggler:cpus=0.03@1s+50s" -- $PY "$PEER" --outlive "$st" \
    >"$TMPDIR/k.log" 2>&1 &
moni=$!; pids+=($moni)
wait_for_file_line "$out/faults.jsonl" '"event":"effective"' 20 || fail "k: never effective"
wait_until 10 share_le "$st" 0.12 || fail "k: no slowdown ($(cat "$st"))"
wpid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["workload"]["pid"])' "$out/meta.json")
pids+=($wpid)
cg=$(grep -o '"cgroup":"[^"]*"' "$out/faults.jsonl" | head -1 | cut -d'"' -f4)
echo "k: in $(cpu_cgroup "$wpid") ($cg): $(cat "$st")"
kill -9 $moni
wait_for_file_line "$out/faults.jsonl" '"event":"reverted".*"by":"guardian"' 10 ||
    fail "k: the guardian did not journal the revert"
[ ! -e "$cg" ] || fail "k: $cg left after SIGKILL of moni"
case $(cpu_cgroup "$wpid") in *moni-*) fail "k: the workload is still in moni's cgroup";; esac
wait_until 10 share_ge "$st" 0.2 || fail "k: still slow after SIGKILL of moni ($(cat "$st"))"
echo "k: after SIGKILL of moni: in $(cpu_cgroup "$wpid"): $(cat "$st")"
kill -9 "$wpid"
echo PASS
