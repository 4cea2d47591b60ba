#!/usr/bin/env bash
# `moni study answer` appends one checked answer per call to the tester's answers
# file (what a facilitator or a scripted tester types), with the wall-clock time,
# every revision kept; `moni study report` scores them.  Wrong testers, sessions,
# conditions, kinds and numbers are refused with one line and exit 2, and nothing
# is written for them.
set -u
. "$(dirname "$0")/report_common.sh"
synth_run "$TMPDIR/runs/stop" stop 5 || fail "synthetic run"
S="$TMPDIR/study"
"$M" study new --out "$S" --tester ana --condition logs "$TMPDIR/runs" >/dev/null || fail "study new exited $?"
A="$M study answer $S --tester ana --session s01 --condition logs"
$A --start --replay-s 0 || fail "start exited $?"
$A --detected --replay-s 8.5 || fail "detected exited $?"
$A --cause CPU_Contention --replay-s 9 --confidence 0.4 --note "cpu?" || fail "cause exited $?"
$A --log workload.log --lines 40 || fail "log exited $?"
$A --cause Process_Hang --replay-s 11 --confidence 0.9 || fail "revision exited $?"
$A --done --replay-s 12 || fail "done exited $?"
"$PY" - "$S/testers/ana/answers.jsonl" <<'PYEOF' || fail "answers file"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["kind"] for r in rows] == ["start", "detected", "cause", "log", "cause", "done"], rows
assert rows[2]["cause"] == "CPU_Contention" and rows[2]["confidence"] == 0.4 and rows[2]["note"] == "cpu?"
assert rows[4]["cause"] == "Process_Hang" and rows[4]["replay_s"] == 11
assert rows[3]["file"] == "workload.log" and rows[3]["lines"] == 40
assert all(r["tester"] == "ana" and r["session"] == "s01" and r["wall"].endswith("Z") for r in rows)
PYEOF
n0=$(wc -l <"$S/testers/ana/answers.jsonl")
bad() { # expected-message, args...
    local want=$1; shift
    "$M" study answer "$S" "$@" 2>"$TMPDIR/err" >/dev/null; local rc=$?
    [ $rc -eq 2 ] || fail "$* exited $rc, expected 2"
    grep -q -- "$want" "$TMPDIR/err" || fail "$*: message '$(cat "$TMPDIR/err")' lacks '$want'"
}
bad "not a tester" --tester zoe --session s01 --condition logs --detected --replay-s 1
bad "not a session" --tester ana --session s09 --condition logs --detected --replay-s 1
bad "not a condition" --tester ana --session s01 --condition full --detected --replay-s 1
bad "replay-s: required" --tester ana --session s01 --condition logs --detected
bad "exactly one of" --tester ana --session s01 --condition logs --detected --done --replay-s 1
bad "confidence: must be" --tester ana --session s01 --condition logs --cause X --replay-s 1 --confidence 2
bad "expected a number" --tester ana --session s01 --condition logs --detected --replay-s soon
[ "$(wc -l <"$S/testers/ana/answers.jsonl")" -eq "$n0" ] || fail "a refused answer was written"
# scored: detected at 8.5 (onset 5): 3.5 s; right from 11: 6 s; one log file, 40 lines
"$M" study report "$S" >/dev/null || fail "study report exited $?"
"$PY" - "$S/report/scores.csv" <<'PYEOF' || fail "scores"
import pandas as pd, sys
r = pd.read_csv(sys.argv[1]).set_index(["scenario", "condition"]).loc[("exp_stop", "logs")]
assert abs(r.mttd_median_s - 3.5) < 1e-6 and abs(r.diagnose_median_s - 6) < 1e-6, r
assert r.misdiagnosed == 0 and r.log_files_mean == 1 and r.log_lines_mean == 40, r
PYEOF
# answering "healthy" says there is nothing to detect: neither a detection nor a
# false alarm; a real cause named on a healthy run is a false alarm
synth_run "$TMPDIR/hruns/healthy" healthy 0 || fail "synthetic healthy run"
H="$TMPDIR/hstudy"
"$M" study new --out "$H" --tester ana --tester ben --condition logs "$TMPDIR/hruns" >/dev/null ||
    fail "study new (healthy) exited $?"
"$M" study answer "$H" -t ana -s s01 -c logs --cause healthy --replay-s 30 || fail "healthy answer exited $?"
"$M" study answer "$H" -t ben -s s01 -c logs --cause Process_Hang --replay-s 12 || fail "cause answer exited $?"
"$M" study report "$H" >/dev/null || fail "study report (healthy) exited $?"
"$PY" - "$H/report/attempts.csv" <<'PYEOF' || fail "healthy scores"
import pandas as pd, sys
a = pd.read_csv(sys.argv[1]).set_index("tester")
assert a.loc["ana"].false_alarms == 0 and not a.loc["ana"].misdiagnosed, a.loc["ana"]
assert a.loc["ben"].false_alarms == 1 and a.loc["ben"].misdiagnosed, a.loc["ben"]
PYEOF
echo ok
