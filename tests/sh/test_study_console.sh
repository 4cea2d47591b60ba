#!/usr/bin/env bash
# A blind study answered in the console, as a scripted tester in tmux does it: `moni
# study run` plays each session in its condition (logs: the raw log and the log
# events only; full: every pane, and the tester opens the raw log once), the tester
# presses ! when the error shows, pauses, then c, types part of a label into the
# cause picker, picks it (and the process of the multi-process run), a confidence
# and a note, and q ends the session.  Checked: the answers file holds start,
# (log,) detected, cause and done for every session in the one format `moni study
# answer` writes, timed by the replay clock (not before the error's time, soon
# after), and `moni study report` scores them: every session detected and
# diagnosed right, MTTD as computed here from the answers, the log opened counted.
set -u
. "$(dirname "$0")/report_common.sh"   # synth_run
. "$(dirname "$0")/tui_common.sh"      # then the console's data dir and fail()
# stop at 5 s (Process_Hang), a multi-process knob fault at 8 s in train_worker_3;
# each run's first error line is 6 s after its onset
for k in stop:5 knob:8:train_worker_3; do
    IFS=: read -r kind onset comp <<<"$k"
    synth_run "$W/runs/$kind" "$kind" "$onset" $comp || fail "synthetic run $kind"
done
S="$W/study"
"$M" study new --out "$S" --tester ana --each-condition --accept exp_knob=CUDA_OutOfMemory \
    "$W/runs" >/dev/null || fail "study new exited $?"
# the tester's script: which label to pick for which session (a real tester reads it
# off the screen; the keys and the files are what is tested here)
"$PY" - "$S" >"$W/plan" <<'PYEOF'
import json, sys
S = sys.argv[1]
t = {x["session"]: x for x in json.load(open(S + "/truth.json"))["sessions"]}
for e in json.load(open(S + "/testers/ana/order.json")):
    x = t[e["session"]]
    print(e["session"], e["condition"], "Process_H" if x["kind"] == "stop" else "CUDA_Out",
          x["component"] or "-")
PYEOF
[ "$(wc -l <"$W/plan")" = 4 ] || fail "want 4 sessions: $(cat "$W/plan")"

start 120 36 -- study run "$S" --tester ana --speed 4
n=0
while read -r sess cond filter comp; do
    n=$((n + 1))
    wait_for "session $n of 4: $sess, condition $cond" 20
    keys Enter
    wait_for "moni REPLAY \(blind\) $sess" 10
    if [ "$cond" = logs ]; then
        wait_for "logs only: the job's output" 5
        screen_lacks "CPU / memory / PSI|Training|Workload  |Faults  |Timeline" ||
            fail "the logs condition shows a pane other than the logs"
    else
        wait_for "CPU / memory / PSI" 5
        wait_for "Faults  hidden \(blind replay\)" 5
        keys l                               # the raw log opened: a log answer
        wait_for "raw log \(workload.log" 5
        keys Escape
        wait_gone_from_screen "raw log \(workload.log" 5
    fi
    wait_for "something broke" 30            # the first error line (onset + 6 s)
    keys '!'
    wait_for "recorded: a problem seen at" 5
    keys p                                   # paused while answering: the clock stops
    wait_for "\| [0-9:]+/00:30 4x PAUSED \|" 5
    keys c
    wait_for "root cause\? type to filter" 5
    keys "$filter"
    wait_for "> ${filter}" 5
    keys Enter
    if [ "$comp" != - ]; then
        wait_for "which process\?" 5
        keys "$comp"
        wait_for "> $comp" 5
        keys Enter
    fi
    wait_for "how sure\?" 5
    keys Down Down Down Down Enter           # 0.8
    wait_for "a note \(optional\)" 5
    keys "from the log" Enter
    wait_for "recorded: cause ${filter}" 5
    keys q
done <"$W/plan"
wait_for "4 sessions played" 20
[ "$(wait_exit 10)" = 0 ] || fail "study run exited non-zero: $(cat "$W/err")"

"$PY" - "$S" <<'PYEOF' || fail "answers"
import json, sys
S = sys.argv[1]
t = {x["session"]: x for x in json.load(open(S + "/truth.json"))["sessions"]}
rows = [json.loads(l) for l in open(S + "/testers/ana/answers.jsonl")]
by = {}
for r in rows:
    assert r["tester"] == "ana" and r["wall"].endswith("Z"), r
    by.setdefault((r["session"], r["condition"]), []).append(r)
assert len(by) == 4, sorted(by)
for (s, c), rs in by.items():
    want = ["start", "log", "detected", "cause", "done"] if c == "full" else ["start", "detected", "cause", "done"]
    assert [r["kind"] for r in rs] == want, rs
    if c == "full":
        lg = rs.pop(1)
        assert lg["file"] == "workload.log" and lg["lines"] >= 0 and lg["replay_s"] >= 0, lg
    err = t[s]["onset_s"] + 6
    d, k = rs[1], rs[2]
    # on the replay clock: not before the error was written, and soon after
    # (a loaded machine: 20 s of replay is 5 s of the tester's polling at 4x)
    assert err - 0.5 <= d["replay_s"] <= err + 20, (s, c, d, err)
    assert d["replay_s"] <= k["replay_s"] <= d["replay_s"] + 20, (s, c, d, k)  # paused soon after
    assert k["cause"] in t[s]["accept"], (k, t[s]["accept"])
    assert k.get("component", "") == t[s]["component"], (k, t[s])
    assert k["confidence"] == 0.8 and k["note"] == "from the log", k
print("answers ok")
PYEOF
"$M" study report "$S" >"$W/report.out" || fail "study report exited $?"
"$PY" - "$S" <<'PYEOF' || fail "scores"
import json, sys
import pandas as pd
S = sys.argv[1]
t = {x["session"]: x for x in json.load(open(S + "/truth.json"))["sessions"]}
rows = [json.loads(l) for l in open(S + "/testers/ana/answers.jsonl")]
df = pd.read_csv(S + "/report/scores.csv").set_index(["scenario", "condition"])
for r in rows:
    if r["kind"] != "detected":
        continue
    x = t[r["session"]]
    got = df.loc[(x["scenario"], r["condition"])]
    assert got.detection_rate == 1 and got.misdiagnosed == 0, got
    assert got.log_files_mean == (1 if r["condition"] == "full" else 0), got
    assert abs(got.mttd_median_s - (r["replay_s"] - x["onset_s"])) < 1e-3, (got.mttd_median_s, r, x)
print("scores ok")
PYEOF
echo ok
