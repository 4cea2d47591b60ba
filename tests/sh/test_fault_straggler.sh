#!/usr/bin/env bash
# test_fault_straggler.sh — straggler: a CPU-bound workload moved into a cgroup with a
# quota of 0.03 CPU says itself that it gets about that much while the fault fires,
# and its full share again after the revert; the journal says effective (throttled
# periods) and delivered about 0.03 CPU; after SIGKILL of moni the guardian moves it
# back and removes the cgroup; after SIGKILL of both, `moni recover` does.  Skipped without a writable cgroup cpu controller.
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
wait_until 20 share_ge "$st" 0.15 || fail "the peer never got 0.15 CPU ($(cat "$st" 2>/dev/null))"
echo "before: $(cat "$st")"
if ! wait_for_file_line "$out/faults.jsonl" '"event":"(fired|failed)"' 20; then fail "never fired"; fi
if grep -q '"event":"failed"' "$out/faults.jsonl"; then
    grep -o '"reason":"[^"]*"' "$out/faults.jsonl" | head -1
    echo "SKIP: no writable cgroup cpu controller"; exit 77
fi
wait_until 10 share_le "$st" 0.08 || fail "no slowdown while firing ($(cat "$st"))"
echo "while firing: $(cat "$st")"
wait_for_file_line "$out/faults.jsonl" '"event":"reverted"' 20 || fail "never reverted"
wait_until 10 share_ge "$st" 0.15 || fail "still slow after the revert ($(cat "$st"))"
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
wait_until 10 share_le "$st" 0.08 || fail "k: no slowdown ($(cat "$st"))"
wpid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["workload"]["pid"])' "$out/meta.json")
pids+=($wpid)
cg=$(grep -o '"cgroup":"[^"]*"' "$out/faults.jsonl" | head -1 | cut -d'"' -f4)
echo "k: in $(cpu_cgroup "$wpid") ($cg): $(cat "$st")"
kill -9 $moni
wait_for_file_line "$out/faults.jsonl" '"event":"reverted".*"by":"guardian"' 10 ||
    fail "k: the guardian did not journal the revert"
[ ! -e "$cg" ] || fail "k: $cg left after SIGKILL of moni"
case $(cpu_cgroup "$wpid") in *moni-*) fail "k: the workload is still in moni's cgroup";; esac
wait_until 10 share_ge "$st" 0.15 || fail "k: still slow after SIGKILL of moni ($(cat "$st"))"
echo "k: after SIGKILL of moni: in $(cpu_cgroup "$wpid"): $(cat "$st")"
kill -9 "$wpid"

# 3. SIGKILL of moni AND its guardian: the cgroup is left; `moni recover` undoes it
guardian_of() { # moni pid -> its guardian (a child of moni leading its own session)
    pgrep -P "$1" -x moni | while read -r p; do
        [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] && echo "$p"
    done
}
out=$TMPDIR/r st=$TMPDIR/r.status
"$M" run --out "$out" --duration 60s --fault "straggler:cpus=0.03@1s+50s" -- $PY "$PEER" --outlive "$st" \
    >"$TMPDIR/r.log" 2>&1 &
moni=$!; pids+=($moni)
wait_for_file_line "$out/faults.jsonl" '"event":"effective"' 20 || fail "r: never effective"
wpid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["workload"]["pid"])' "$out/meta.json")
pids+=($wpid)
g=$(guardian_of $moni)
[ -n "$g" ] || fail "r: no guardian found"
cg=$(grep -o '"cgroup":"[^"]*"' "$out/faults.jsonl" | head -1 | cut -d'"' -f4)
kill -STOP $moni # else moni may start a new guardian between the two kills (issue 14)
kill -9 "$g" $moni
wait_gone "$g" $moni || fail "r: moni or its guardian survived kill -9"
[ -d "$cg" ] || fail "r: expected the cgroup left behind"
"$M" recover | tee "$TMPDIR/recover.log" || fail "r: moni recover exited $?"
grep -q "cgroup $cg: processes moved back, removed" "$TMPDIR/recover.log" || fail "r: recover did not say so"
[ ! -e "$cg" ] || fail "r: $cg left after recover"
case $(cpu_cgroup "$wpid") in *moni-*) fail "r: the workload is still in moni's cgroup";; esac
wait_until 10 share_ge "$st" 0.15 || fail "r: still slow after recover ($(cat "$st"))"
grep '"event":"reverted"' "$out/faults.jsonl" | grep -q '"by":"recover"' || fail "r: recover did not journal"
echo "r: after recover: $(cat "$st")"
kill -9 "$wpid"
echo PASS
