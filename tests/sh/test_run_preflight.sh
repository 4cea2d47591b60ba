#!/usr/bin/env bash
# A fault that cannot arm fails the run before anything starts (issue 14, item 12):
# `moni run --fault` and plans exit 2 with one line, no run directory, no workload.
# And `moni run --dry-run` without a plan runs nothing: it prints the run (item 13).
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
marker="$TMPDIR/workload-started"
n=0
refused() { # SPEC WORD [env...]: --fault SPEC exits 2, one line containing WORD, nothing ran
    local spec=$1 word=$2 out="$TMPDIR/never-$n" err rc
    shift 2
    n=$((n + 1))
    err=$(env "$@" "$M" run --quiet --out "$out" --fault "$spec" -- sh -c "touch '$marker'" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "--fault $spec: exit $rc, want 2 ($err)"
    [ "$(wc -l <<<"$err")" -eq 1 ] || fail "--fault $spec: not one line: $err"
    grep -q -- "$word" <<<"$err" || fail "--fault $spec: '$err' does not say '$word'"
    [ ! -e "$out" ] || fail "--fault $spec: the run directory was created"
    [ ! -e "$marker" ] || fail "--fault $spec: the workload started"
}
refused 'disk_fill:to=50%,size=1M@1s+2s' "exactly one of"
refused 'net:port=9,host=1.2.3@1s+2s' "not an IPv4 address"
refused 'stop:pid=1,allow_any=1@1s+1s' "init"
refused 'cpu@1s+11m' "hard maximum"
refused 'gpu_mem:size=1M@1s+1s' "cannot load" MONI_CUDA_LIB=/nonexistent/libcuda.so.1
refused 'net:delay=10ms@1s+2s' "missing target port"
refused 'disk_fill:size=1M,path=/nonexistent/dir@1s+2s' "not a directory"
refused 'io:block=2M,size=1M@1s+2s' "larger than size"

# the same in a plan: checked with the plan, exit 2 before the queue starts
p="$TMPDIR/fill.json"
cat >"$p" <<JSON
{"experiments": [{"name": "a", "workload": ["sh", "-c", "touch '$marker'"],
  "faults": [{"kind": "disk_fill", "params": {"to": "50%", "size": "1M"}, "at": "1s", "for": "2s"}]}]}
JSON
err=$("$M" run --quiet --plan "$p" --out "$TMPDIR/plan-out" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "plan with a bad disk_fill: exit $rc ($err)"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "plan: not one line: $err"
case "$err" in "moni: $p:2: disk_fill: give exactly one of"*) ;; *) fail "plan: want '$p:2: disk_fill: ...', got: $err" ;; esac
[ ! -e "$TMPDIR/plan-out" ] && [ ! -e "$marker" ] || fail "plan: something started"
"$M" run --dry-run --plan "$p" >/dev/null 2>&1 && fail "plan --dry-run accepted the bad fault"

# --dry-run of a single run: exit 0, prints the workload and the faults, runs nothing
out=$("$M" run --dry-run --out "$TMPDIR/dry" --duration 5s --fault 'cpu:load=50%@1s+2s' \
      -- sh -c "touch '$marker'" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "--dry-run: exit $rc ($out)"
grep -q "sh -c" <<<"$out" || fail "--dry-run does not print the workload: $out"
grep -q "fault cpu:load=50%@1s+2s" <<<"$out" || fail "--dry-run does not print the fault: $out"
[ ! -e "$TMPDIR/dry" ] && [ ! -e "$marker" ] || fail "--dry-run started the run"
"$M" run --dry-run --fault 'disk_fill:to=50%,size=1M@1s' >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--dry-run with a bad fault: exit $rc, want 2"
echo PASS
