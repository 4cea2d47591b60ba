#!/usr/bin/env bash
# Bad input is refused before anything starts: malformed plans exit 2 with one line
# "moni: FILE:LINE: field: what"; bad --fault specs exit 2.  A workload that cannot
# start is recorded as failed in runs.csv and the queue goes on.  A single run
# exits with the workload's status.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
check_bad() { # name, plan text, line, field, word
    local p="$TMPDIR/$1.json"
    printf '%s\n' "$2" >"$p"
    local err rc
    err=$("$M" run --plan "$p" --out "$TMPDIR/never-$1" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "$1: exit $rc, want 2 ($err)"
    [ "$(wc -l <<<"$err")" -eq 1 ] || fail "$1: not one line: $err"
    case "$err" in "moni: $p:$3: $4: "*"$5"*) ;; *) fail "$1: got '$err', want '$p:$3: $4: ...$5'" ;; esac
    [ ! -e "$TMPDIR/never-$1" ] || fail "$1: something started"
}
check_bad unknown_key '{"experiments": [{"name": "a",
  "colour": "red"}]}' 2 colour "unknown key"
check_bad wrong_type '{"experiments": [{"name": "a",
  "duration": true}]}' 2 duration "duration"
check_bad negative '{"defaults": {"cooldown": "5s",
  "duration": "-3s"}, "experiments": [{"name": "a"}]}' 2 duration "negative"
check_bad unknown_kind '{"experiments": [{"name": "a", "faults": [
  {"kind": "teleport", "at": "1s"}]}]}' 2 kind "unknown fault kind"
check_bad bad_param '{"experiments": [{"name": "a", "faults": [{"kind": "cpu",
  "params": {"load": "150%"}}]}]}' 2 params "load"
check_bad unknown_rule '{"experiments": [{"name": "a", "faults": [{"kind": "kill",
  "when": {"rule": "no_such_rule"}}]}]}' 2 rule "no rule"

err=$("$M" run --out "$TMPDIR/x" --fault 'cpu:load=150%@1s' -- true 2>&1); rc=$?
[ $rc -eq 2 ] || fail "--fault load=150%: exit $rc ($err)"
grep -q "load" <<<"$err" || fail "--fault error does not name the parameter: $err"
[ ! -e "$TMPDIR/x" ] || fail "--fault error: something started"

# single run: the workload's exit status
"$M" run --quiet --out "$TMPDIR/single" -- sh -c 'echo hello; exit 3' 2>/dev/null; rc=$?
[ $rc -eq 3 ] || fail "single run exit $rc, want 3"
[ -s "$TMPDIR/single/tse_matrix.csv" ] || fail "single run has no tse_matrix.csv"

# a workload that cannot start: failed in runs.csv, the queue goes on
cat >"$TMPDIR/q.json" <<'PLAN'
{"name": "q", "defaults": {"duration": "2s", "cooldown": "0s"},
 "queue": {"retries": 0, "gate": {"cpu": "100%", "mem": "100%", "disk": "100%"}},
 "experiments": [
   {"name": "broken", "workload": ["/nonexistent/train"]},
   {"name": "fine", "workload": ["sleep", "30"]}]}
PLAN
"$M" run --quiet --plan "$TMPDIR/q.json" --out "$TMPDIR/q" 2>"$TMPDIR/q.err"; rc=$?
[ $rc -eq 1 ] || { cat "$TMPDIR/q.err"; fail "plan with a broken run: exit $rc, want 1"; }
grep -q '^broken,could_not_start,' "$TMPDIR/q/runs.csv" || { cat "$TMPDIR/q/runs.csv"; fail "broken run not recorded"; }
grep -q '^fine,completed,0,' "$TMPDIR/q/runs.csv" || { cat "$TMPDIR/q/runs.csv"; fail "the queue did not go on"; }
echo PASS
