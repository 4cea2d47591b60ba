#!/usr/bin/env bash
# `moni study new` and `moni study report` on a small synthetic study whose numbers
# are computed by hand: three runs with exact times (a multi-process knob fault at
# 10 s in train_worker_3, a stop at 5 s, a healthy run), two testers in both
# conditions, answers files written here.  Checked: the anonymised sessions (no
# journal, truth, control file, scenario name or path), the seeded orders, the
# scores in scores.csv (read with pandas) against the hand-computed ones, the
# machine's row, the HTML page in headless Chromium (fails loudly without it), and
# a bad answer line reported as FILE:LINE with exit 2.
set -u
. "$(dirname "$0")/report_common.sh"
export TZ=UTC
for k in knob:10:train_worker_3 stop:5 healthy:0; do
    IFS=: read -r kind onset comp <<<"$k"
    synth_run "$TMPDIR/runs/$kind" "$kind" "$onset" $comp || fail "synthetic run $kind"
done
S="$TMPDIR/study"
"$M" study new --out "$S" --tester ana --tester ben --seed 3 --each-condition \
    --accept exp_knob=CUDA_OutOfMemory,GPU_OOM "$TMPDIR/runs" >"$TMPDIR/new.out" 2>&1 ||
    fail "study new exited $?: $(cat "$TMPDIR/new.out")"

# hidden truth and anonymised sessions
"$PY" - "$S" "$TMPDIR/runs" <<'PYEOF' || fail "study directory"
import json, os, stat, sys
S, runs = sys.argv[1], sys.argv[2]
t = {x["scenario"]: x for x in json.load(open(S + "/truth.json"))["sessions"]}
assert sorted(t) == ["exp_healthy", "exp_knob", "exp_stop"], sorted(t)
assert stat.S_IMODE(os.stat(S + "/truth.json").st_mode) == 0o600
k, s, h = t["exp_knob"], t["exp_stop"], t["exp_healthy"]
assert abs(k["onset_s"] - 10) < 1e-9 and k["component"] == "train_worker_3", k
assert k["accept"] == ["CUDA_OutOfMemory", "GPU_OOM"], k["accept"]
assert abs(s["onset_s"] - 5) < 1e-9 and s["accept"] == ["Process_Hang"] and s["component"] == "", s
assert h["healthy"] is True and h["onset_s"] is None, h
for x in t.values():
    d = "%s/sessions/%s" % (S, x["session"])
    have = sorted(os.listdir(d))
    for hidden in ("faults.jsonl", "ground_truth.csv", "control", "labels.csv"):
        assert hidden not in have, (x["session"], have)
    for root, _, files in os.walk(d):
        for f in files:
            text = open(os.path.join(root, f), errors="replace").read()
            assert runs not in text, "%s/%s names the run's path" % (root, f)
            assert "exp_" not in text, "%s/%s names the scenario" % (root, f)
    m = json.load(open(d + "/meta.json"))
    assert m["run_id"] == x["session"] and "experiment" not in m, m
study = json.load(open(S + "/study.json"))
assert study["conditions"] == ["logs", "full"] and study["testers"] == ["ana", "ben"], study
assert "truth" not in json.dumps(study) and "exp_" not in json.dumps(study)
for who in ("ana", "ben"):
    o = json.load(open("%s/testers/%s/order.json" % (S, who)))
    pairs = sorted((e["session"], e["condition"]) for e in o)
    assert pairs == sorted((x["session"], c) for x in t.values() for c in ("logs", "full")), pairs
print("sessions:", {n: x["session"] for n, x in t.items()})
PYEOF
# the same seed gives the same orders
"$M" study new --out "$TMPDIR/again" --tester ana --tester ben --seed 3 --each-condition "$TMPDIR/runs" >/dev/null ||
    fail "second study new exited $?"
cmp -s "$S/testers/ben/order.json" "$TMPDIR/again/testers/ben/order.json" || fail "the order is not reproducible"
"$M" study new --out "$S" --tester x "$TMPDIR/runs" 2>"$TMPDIR/err"; rc=$?
[ $rc -eq 2 ] && grep -q "not empty" "$TMPDIR/err" || fail "study new over a study: exit $rc $(cat "$TMPDIR/err")"

# answers: replay times chosen so that every score is computed by hand below
"$PY" - "$S" <<'PYEOF' || fail "cannot write the answers"
import json, sys
S = sys.argv[1]
sid = {x["scenario"]: x["session"] for x in json.load(open(S + "/truth.json"))["sessions"]}
def w(tester, rows):
    with open("%s/testers/%s/answers.jsonl" % (S, tester), "w") as f:
        for scen, cond, kind, r, extra in rows:
            a = {"tester": tester, "session": sid[scen], "condition": cond, "kind": kind,
                 "wall": "2026-12-02T10:00:00.000Z"}
            if r is not None:
                a["replay_s"] = r
            a.update(extra)
            f.write(json.dumps(a) + "\n")
w("ana", [
    ("exp_stop", "logs", "start", 0, {}),
    ("exp_stop", "logs", "detected", 4, {}),                       # before the onset: a false alarm
    ("exp_stop", "logs", "detected", 8, {}),                       # mttd 3
    ("exp_stop", "logs", "cause", 9, {"cause": "Process_Hang", "confidence": 0.9}),  # right from 9: 4
    ("exp_stop", "full", "detected", 6, {}),                       # mttd 1
    ("exp_stop", "full", "cause", 6.5, {"cause": "Memory_Leak", "note": "rss?"}),    # wrong
    ("exp_knob", "logs", "cause", 15, {"cause": "cuda_outofmemory", "component": "train_worker.3"}),  # detection 15: mttd 5, right
    ("exp_knob", "logs", "log", None, {"file": "logs/controller.log", "lines": 50}),
    ("exp_knob", "logs", "log", None, {"file": "logs/controller.log", "lines": 80}),
    ("exp_knob", "logs", "log", None, {"file": "logs/train_worker_3.log", "lines": 20}),
    ("exp_healthy", "logs", "detected", 12, {}),                   # a false alarm
    ("exp_healthy", "logs", "cause", 12, {"cause": "Slowdown"}),
])
w("ben", [
    ("exp_stop", "logs", "detected", 7, {}),                       # mttd 2
    ("exp_stop", "logs", "cause", 8, {"cause": "CPU_Contention"}),
    ("exp_stop", "logs", "cause", 12, {"cause": "Process_Hang", "note": "revised"}),  # right from 12: 7
    ("exp_stop", "full", "start", 0, {}),                          # played, never detected
    ("exp_knob", "logs", "detected", 13, {}),                      # mttd 3
    ("exp_knob", "logs", "cause", 14, {"cause": "CUDA_OutOfMemory", "component": "train_worker_0"}),  # wrong component
    ("exp_knob", "logs", "log", None, {"file": "logs/train_worker_0.log", "lines": 100}),
])
PYEOF
"$M" study report "$S" >"$TMPDIR/report.out" 2>&1 || fail "study report exited $?: $(cat "$TMPDIR/report.out")"
cat "$TMPDIR/report.out"
"$PY" - "$S/report" <<'PYEOF' || fail "the scores differ from the hand-computed ones"
import json, math, sys
import pandas as pd
R = sys.argv[1]
df = pd.read_csv(R + "/scores.csv").set_index(["scenario", "condition"])
js = pd.DataFrame(json.load(open(R + "/scores.json"))).set_index(["scenario", "condition"])
nan = float("nan")
want = {
    # scenario, condition: attempts, detected, rate, mttd median, p90, mean, diagnose median, p90,
    #                      answered, misdiagnosed, rate, false alarms, log files mean, lines mean
    ("exp_stop", "logs"): (2, 2, 1.0, 2.5, 2.9, 2.5, 5.5, 6.7, 2, 0, 0.0, 1, 0, 0),
    ("exp_stop", "full"): (2, 1, 0.5, 1.0, 1.0, 1.0, nan, nan, 1, 1, 1.0, 0, 0, 0),
    ("exp_knob", "logs"): (2, 2, 1.0, 4.0, 4.8, 4.0, 5.0, 5.0, 2, 1, 0.5, 0, 1.5, 100),
    ("exp_healthy", "logs"): (1, 0, nan, nan, nan, nan, nan, nan, 1, 1, 1.0, 1, 0, 0),
    # the machine: the detection naming the effect 4 s after the onset; the one
    # 3 s before it is a false alarm
    ("exp_stop", "machine"): (1, 1, 1.0, 4.0, 4.0, 4.0, None, None, 1, None, None, 1, 0, 0),
    ("exp_knob", "machine"): (1, 1, 1.0, 4.0, 4.0, 4.0, None, None, 1, None, None, 1, 0, 0),
}
cols = ["attempts", "detected", "detection_rate", "mttd_median_s", "mttd_p90_s", "mttd_mean_s",
        "diagnose_median_s", "diagnose_p90_s", "answered", "misdiagnosed", "misdiagnosis_rate",
        "false_alarms", "log_files_mean", "log_lines_mean"]
bad = []
for key, vals in want.items():
    for col, v in zip(cols, vals):
        if v is None:
            continue
        for name, t in (("csv", df), ("json", js)):
            got = t.loc[key, col]
            ok = (math.isnan(v) and (got is None or pd.isna(got))) or (not math.isnan(v) and abs(float(got) - v) < 1e-6)
            if not ok:
                bad.append("%s %s %s: got %r, want %r" % (name, key, col, got, v))
assert not bad, "\n".join(bad)
assert ("exp_knob", "full") in df.index and df.loc[("exp_knob", "full"), "attempts"] == 0
att = pd.read_csv(R + "/attempts.csv")
row = att[(att.tester == "ben") & (att.scenario == "exp_stop") & (att.condition == "logs")].iloc[0]
assert row.cause == "Process_Hang" and row.misdiagnosed == 0 and abs(row.diagnose_s - 7) < 1e-6, row
print("scores match the hand-computed ones")
PYEOF
grep -q "exp_stop .* logs .*2.5s .*2.9s" "$TMPDIR/report.out" || fail "summary lacks the exp_stop logs row"

# the page as a person sees it
chromium_check
dom_text "$S/report/report.html" "$TMPDIR/dom.html"
for want in "MTTD by scenario: humans per condition next to the machine" "logs 2.5" "full 1.0" \
    "machine 4.0" "exp_knob" "exp_stop" "Fault propagation path" "Key metrics over time" \
    "gap 6.0 s from the injection to the first error log"; do
    grep -qF "$want" "$TMPDIR/dom.html" || fail "the study page lacks '$want'"
done
screenshot "$S/report/report.html" "$TMPDIR/study.png"
png_not_blank "$TMPDIR/study.png" || fail "the study page is blank"
[ -n "${MONI_KEEP_PNG:-}" ] && cp "$TMPDIR/study.png" "$MONI_KEEP_PNG"

# a bad answer: FILE:LINE: field, exit 2
echo '{"tester":"ben","session":"s99","condition":"logs","kind":"detected","replay_s":1}' >>"$S/testers/ben/answers.jsonl"
"$M" study report "$S" >/dev/null 2>"$TMPDIR/err"; rc=$?
[ $rc -eq 2 ] || fail "a bad answer exited $rc"
grep -q "testers/ben/answers.jsonl:8: session: 's99' is not a session" "$TMPDIR/err" || fail "bad answer message: $(cat "$TMPDIR/err")"
echo ok
