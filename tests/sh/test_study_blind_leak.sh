#!/usr/bin/env bash
# Blind replays leak nothing that gives the answer away, for every fault kind a study
# can replay: for each kind of `moni fault list`, a synthetic run with that fault (its
# journal, ground truth, labelled error events, detections naming its effect), and
# runs recorded for real with moni-train (cpu, knob, kill, stop), go through `moni
# study new`; each session is played blind in tmux, in the full condition (every
# pane) and, for the recorded runs, the logs condition, and the screen is captured all along the replay,
# then with the raw log and the help open.  No capture may show the kind's fault
# row, its parameters, its labels (the causes the study accepts), the scenario or
# run name, the run's path, a journal or detection word, or the session's truth.
# What the workload itself wrote is the tester's to read, so a knob must not announce
# itself there: moni-train acknowledges a control change in CONTROL.ack, never in its
# log, so the knob recording's workload.log holds no "[control]" line (checked) and
# no screen shows one.
set -u
. "$(dirname "$0")/report_common.sh"   # synth_run
. "$(dirname "$0")/tui_common.sh"      # the console in tmux, fail()
kinds=$("$M" fault list | sed -n 's/^\([a-z_]*\) — .*/\1/p')
[ "$(wc -w <<<"$kinds")" -ge 14 ] || fail "fault list names too few kinds: $kinds"
for k in $kinds; do
    synth_run "$W/runs/syn_$k" "$k" 5 || fail "synthetic run $k"
done
# real recordings: the workload's own output as it was
rec() { # NAME FAULT...
    local n=$1; shift
    local args=()
    for f in "$@"; do args+=(--fault "$f"); done
    "$M" run --out "$W/runs/real_$n" --interval 200ms --duration 5s "${args[@]}" -- "${TRAIN[@]}" \
        >"$W/rec-$n.out" 2>&1
    [ -s "$W/runs/real_$n/faults.jsonl" ] || fail "recording $n: $(tail -n 3 "$W/rec-$n.out")"
}
rec cpu cpu:workers=1,load=40%@1s+2s
rec kill kill@3s
rec stop stop@1s+2s
rec knob "knob:lr=10@1s"
grep -q '"event":"effective"' "$W/runs/real_knob/faults.jsonl" ||
    fail "the knob recording's lr=10 never took effect: $(cat "$W/runs/real_knob/faults.jsonl")"
if grep -n '\[control\]' "$W/runs/real_knob/workload.log"; then
    fail "the knob recording's raw log announces the knob"
fi
S="$W/study"
"$M" study new --out "$S" --tester t --condition full "$W/runs" >/dev/null || fail "study new exited $?"

# the words one session's screens must never show
"$PY" - "$S" "$W/runs" >"$W/forbidden" <<'PYEOF'
import json, re, sys
S, runs = sys.argv[1], sys.argv[2]
for x in json.load(open(S + "/truth.json"))["sessions"]:
    words = ["exp_", "synthetic-", runs, "faults.jsonl", "ground_truth", "fault_id", "detect:",
             "reverted", "root_cause", "hidden truth", r"\[control\]", "applied at step",
             r"control\.ack"]
    name = x["run"].rsplit("/", 1)[1]
    # a fault id ("f1") as a word: a temporary directory's random name may hold it
    words += [name, x.get("root_cause") or "", r"\b%s\b" % re.escape(x.get("fault_id") or "-none-")]
    words += [a for a in x["accept"] if a != "healthy"]
    kind = x.get("kind")
    if kind:
        words.append(r"\b%s +(idle|armed|firing|stopped|failed)\b" % kind)
        for l in open(x["run"] + "/faults.jsonl"):
            for k, v in (json.loads(l).get("params") or {}).items():
                words.append(re.escape("%s=%s" % (k, v)))
    # the synthetic workload.log is "step N" lines: the logs condition adds nothing there
    conds = "full,logs" if name.startswith("real_") else "full"
    print(x["session"], conds, "\t".join(w for w in words if w))
PYEOF

n=0
while read -r sess conds pats; do
    for cond in ${conds//,/ }; do
        T kill-server 2>/dev/null
        extra=()
        [ "$cond" = logs ] && extra=(--logs-only)
        start 120 36 -- replay "$S/sessions/$sess" --blind --speed 50 "${extra[@]}"
        : >"$W/seen"
        grab() { screen >>"$W/seen"; grep -q "end of the recording" "$W/seen"; }
        wait_until 30 grab || fail "$sess ($cond): the replay did not end"
        keys l; wait_for "raw log \(workload.log" 5; screen >>"$W/seen"; keys Escape
        keys '?'; wait_for "moni keys in a replay" 5; screen >>"$W/seen"; keys Escape
        keys Enter; wait_for "faults are hidden in a blind replay|no fault selected" 5; screen >>"$W/seen"
        keys q; wait_exit 10 >/dev/null
        grep -q "moni REPLAY (blind) $sess " "$W/seen" || fail "$sess: the header does not name the session"
        IFS=$'\t' read -r -a words <<<"$pats"
        for w in "${words[@]}"; do
            if grep -Eq -- "$w" "$W/seen"; then
                echo "--- $sess ($cond) shows /$w/:"; grep -En -- "$w" "$W/seen" | head -n 3
                fail "blind replay of $sess leaks /$w/"
            fi
        done
        n=$((n + 1))
    done
done <"$W/forbidden"
echo "ok: $n blind replays of $(wc -l <"$W/forbidden") sessions, nothing leaked"
