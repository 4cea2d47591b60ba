#!/usr/bin/env bash
# `moni study run STUDY --tester NAME` played by a scripted tester in tmux: the
# sessions come in the tester's order, each in the blind replay (its screen names
# no fault: "hidden (blind replay)"), framed by start and done answers; the answers
# given meanwhile with `moni study answer` are kept; q at the prompt stops the study
# and a second `study run` goes on with the session not yet done.
set -u
. "$(dirname "$0")/report_common.sh"   # synth_run
. "$(dirname "$0")/tui_common.sh"      # then the console's data dir and fail()
for k in stop:5 cpu:8; do
    IFS=: read -r kind onset <<<"$k"
    synth_run "$W/runs/$kind" "$kind" "$onset" || fail "synthetic run $kind"
done
# a retried experiment's failed attempt, kept beside it by the queue: not a session
cp -r "$W/runs/cpu" "$W/runs/cpu.attempt1"
S="$W/study"
"$M" study new --out "$S" --tester ana --condition logs "$W/runs" >/dev/null 2>"$W/new.err" ||
    fail "study new exited $?"
grep -q "cpu.attempt1 left out: a failed attempt" "$W/new.err" || fail "no word of the attempt: $(cat "$W/new.err")"
first=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["session"])' "$S/testers/ana/order.json")
second=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[1]["session"])' "$S/testers/ana/order.json")

start 120 36 -- study run "$S" --tester ana --speed 4
wait_for "session 1 of 2: $first, condition logs" 10
keys Enter
wait_for "moni REPLAY \(blind\)" 10
wait_for "logs only: the job.s output" 5   # the logs condition: the log panes only
screen_lacks "stop|exp_" || fail "the blind replay names the fault or the scenario"
"$M" study answer "$S" -t ana -s "$first" -c logs --detected -r 7 || fail "answer exited $?"
keys q
wait_for "session 2 of 2: $second" 10
keys q Enter
[ "$(wait_exit 10)" = 0 ] || fail "study run exited non-zero: $(cat "$W/err")"
"$PY" - "$S/testers/ana/answers.jsonl" "$first" <<'PYEOF' || fail "answers after the first session"
import json, sys
rows = [(r["session"], r["kind"]) for r in map(json.loads, open(sys.argv[1]))]
s = sys.argv[2]
assert rows == [(s, "start"), (s, "detected"), (s, "done")], rows
PYEOF

# again: the first session is done, the second comes first
T kill-server
start 120 36 -- study run "$S" --tester ana --speed 4
wait_for "session 2 of 2: $second" 10
screen_lacks "session 1 of 2" || fail "a done session was offered again"
keys Enter
wait_for "moni REPLAY \(blind\)" 10
keys q
wait_for "1 session played" 10
[ "$(wait_exit 10)" = 0 ] || fail "second study run exited non-zero: $(cat "$W/err")"
grep -c '"kind":"done"' "$S/testers/ana/answers.jsonl" | grep -qx 2 || fail "not two done answers"
echo ok
