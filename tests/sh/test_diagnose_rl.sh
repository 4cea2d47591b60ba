#!/usr/bin/env bash
# `moni diagnose` sees through masking: a GPU OOM followed 30 s later by a stop-job
# timeout names the OOM; a killed rollout worker followed by a batch-size mismatch
# names the kill.  Run directories (workload.log + logs/*.log merged by time) and
# single files; JSON and text; bad input exits 2.
set -u
. "$(dirname "$0")/lp_common.sh"

jcheck() { # DIAG-ARGS... -- PYTHON
    local args=() code
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift; code=$1
    out=$("$M" diagnose --json "${args[@]}") || fail "diagnose ${args[*]} exited $?"
    "$PY" -c 'import json, sys; d = json.load(sys.stdin); c = d["candidates"]
'"$code" <<<"$out" || fail "diagnose ${args[*]}: $out"
}

# 1. OOM masked by a stop-job timeout (controller log alone, then the whole run dir)
jcheck "$LOGS/rl-oom-masked/logs/controller.log" -- '
assert d["root_cause"] == "CUDA_OutOfMemory", d["root_cause"]
assert d["masked"] is True
assert d["component"] == "train_worker_5", d["component"]
assert "Error stopping job job-5: Request timeout" in d["last_error"]["text"] or "pipeline failed" in d["last_error"]["text"]
ex = [e["text"] for e in c[0]["explains"]]
assert any("Error stopping job job-5: Request timeout" in t for t in ex), ex
assert "batch size" in c[0]["action"]
assert c[0]["first"]["line"] == 6 and c[0]["first"]["time"] == "2026-11-25T21:33:17.123Z"
cl = [x for x in c if x["label"] == "Cleanup_Failure"][0]
assert cl["consequence"] is True and cl["rank"] > 1
'
jcheck "$LOGS/rl-oom-masked" -- '
assert d["root_cause"] == "CUDA_OutOfMemory"
f = c[0]["first"]
# merged by time: the worker traceback (21:33:17.110) comes before the controller line
assert f["source"] == "train_worker_5.log" and f["line"] == 9, f
assert any(e["source"] == "controller.log" and "Request timeout" in e["text"] for e in c[0]["explains"])
'
# 2. rollout worker killed, then a batch-size mismatch
jcheck "$LOGS/rl-rollout-killed/logs/controller.log" -- '
assert d["root_cause"] == "Process_Killed", d["root_cause"]
assert d["component"] == "rollout_worker_2", d["component"]
assert d["masked"] is True
ex = c[0]["explains"]
assert any("Batch_Mismatch" in e["labels"] for e in ex), ex
'
jcheck "$LOGS/rl-rollout-killed" -- '
assert d["root_cause"] == "Process_Killed"
bm = [x for x in c if x["label"] == "Batch_Mismatch"]
assert bm and bm[0]["consequence"], c
'
# the run dir form also reads workload.log
mkdir -p "$TMPDIR/run/logs"
printf "{'loss': 0.5}\nKilled\n" >"$TMPDIR/run/workload.log"
jcheck "$TMPDIR/run" -- '
assert d["root_cause"] == "Host_OOM", d
assert c[0]["first"]["source"] == "workload.log"
'
# text report
out=$("$M" diagnose "$LOGS/rl-oom-masked") || fail "text diagnose exited $?"
grep -q "^root cause: CUDA_OutOfMemory in train_worker_5" <<<"$out" || fail "text: $out"
grep -q "explains later errors:" <<<"$out" || fail "text lacks explains: $out"
grep -q "Error stopping job job-5: Request timeout" <<<"$out" || fail "text lacks the masked error"
# a healthy log: no cause
out=$("$M" diagnose "$LOGS/hf_trainer.log") || fail "healthy exited $?"
grep -q "^no errors found" <<<"$out" || fail "healthy log: $out"

# bad input: exit 2 with one line
err=$("$M" diagnose "$TMPDIR/nope" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && grep -q "nope: No such file" <<<"$err" || fail "missing path: rc=$rc $err"
mkdir -p "$TMPDIR/empty"
err=$("$M" diagnose "$TMPDIR/empty" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && grep -q "no workload.log" <<<"$err" || fail "empty dir: rc=$rc $err"
"$M" diagnose >/dev/null 2>&1; [ $? -eq 2 ] || fail "no args should exit 2"
head -c 200000 /dev/urandom >"$TMPDIR/garbage.log"
"$M" diagnose --json "$TMPDIR/garbage.log" | "$PY" -c 'import json,sys; json.load(sys.stdin)' || fail "garbage"
echo ok
