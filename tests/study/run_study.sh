#!/usr/bin/env bash
# tests/study/run_study.sh — a blind MTTD study end to end, with a scripted tester
# (tests/study/participant.py) answering through the console's keys in tmux from
# what the blind replay shows on screen.  Not in `make test` (it records about 17
# minutes of runs); test_study_console.sh is its short version on synthetic runs.
#
#   tests/study/run_study.sh [--out DIR] [--speed X] [--look S] [--runs RUN_DIR...]
#
# Without --runs it records the 7 fault-matrix runs (examples/fault-matrix.json
# --quick) and the RLHF scenarios (examples/rlhf-scenarios.json --quick, moni-rlsim)
# into DIR/runs (kept: a second call with the same --out plays them again).  --runs
# takes plan outputs or single run directories (two runs = a small study of two
# sessions per condition).  Then `moni study new` (one tester, every run in both
# conditions, the plan's root causes mapped to the labels a tester can pick),
# `moni study run` played by the scripted tester (--look: replay seconds it watches
# after the first symptom before answering), and `moni study report`, whose table is
# printed with the participant's answers.  Run it on a quiet machine: a loaded one
# makes moni-rlsim time out at step 1 whatever the scenario.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${MONI_BUILD:-$SRC/build}
OUT="" SPEED=10 LOOK=10 RUNS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --out) OUT=$2; shift 2 ;;
    --speed) SPEED=$2; shift 2 ;;
    --look) LOOK=$2; shift 2 ;;
    --runs) shift; RUNS=("$@"); break ;;
    *) echo "usage: $0 [--out DIR] [--speed X] [--look S] [--runs RUN_DIR...]" >&2; exit 2 ;;
    esac
done
[ -n "$OUT" ] || OUT=$(mktemp -d "${TMPDIR:-/tmp}/moni-study.XXXXXX")
mkdir -p "$OUT"
export PATH="$B:$PATH" LANG=C.UTF-8
# the rule packs and themes of this tree
mkdir -p "$OUT/data"
for d in rules:logparse/rules themes:themes examples:examples; do
    [ -e "$OUT/data/${d%%:*}" ] || ln -s "$SRC/${d#*:}" "$OUT/data/${d%%:*}"
done
export MONI_DATA_DIR="$OUT/data"
say() { echo "run_study: $*" >&2; }

if [ ${#RUNS[@]} -eq 0 ]; then
    for p in fault-matrix rlhf-scenarios; do
        if [ ! -d "$OUT/runs/$p" ]; then
            say "recording $p --quick (minutes)"
            moni run --plan "$SRC/examples/$p.json" --quick --out "$OUT/runs/$p" >"$OUT/$p.log" 2>&1 ||
                say "$p: moni run exited $? (see $OUT/$p.log); its runs are studied as they are"
        fi
    done
    RUNS=("$OUT/runs/fault-matrix" "$OUT/runs/rlhf-scenarios")
fi

# What counts as the right cause, in the labels the picker offers (the plans name
# causes such as learning_rate_too_high that are not labels a tester can pick).
ACCEPT=(
    nan_loss=NaN_Loss oom=Host_OOM,Memory_Leak non_convergence=No_Convergence
    io_bottleneck=IO_Bottleneck,Slowdown contention=CPU_Contention,Memory_Leak,Slowdown
    process_kill=Process_Killed
    weight_sync_delay=Network_Degradation,Network_Timeout
    rollout_cpu_contention=CPU_Contention,Slowdown gpu_oom_masked=CUDA_OutOfMemory
    colocation_deadlock=Process_Hang late_checkpoint_failure=Disk_Full,Checkpoint_Corrupt
)
S="$OUT/study"
rm -rf "$S"
args=()
for a in "${ACCEPT[@]}"; do args+=(--accept "$a"); done
moni study new --out "$S" --tester scripted --each-condition --seed 7 "${args[@]}" "${RUNS[@]}" >&2 ||
    { say "study new failed"; exit 1; }

SOCK="moni-study-$$"
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null' EXIT
cat >"$OUT/play.sh" <<PLAY
#!/bin/bash
cd "$OUT"
TERM=xterm-256color moni study run "$S" --tester scripted --speed $SPEED 2>"$OUT/study-run.err"
echo \$? >"$OUT/study-run.rc"
sleep 600
PLAY
rm -f "$OUT/study-run.rc"
T -f /dev/null new-session -d -s m -x 132 -y 40 "bash $OUT/play.sh"
say "the scripted tester plays $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$S/testers/scripted/order.json") sessions at ${SPEED}x"
t0=$(date +%s)
python3 "$SRC/tests/study/participant.py" "$SOCK" m --timeout 3600 --look "$LOOK" >"$OUT/participant.log" ||
    { say "the participant failed: $(tail -n 5 "$OUT/participant.log")"; T capture-pane -p -t m >&2; exit 1; }
for _ in $(seq 100); do [ -s "$OUT/study-run.rc" ] && break; sleep 0.1; done
[ "$(cat "$OUT/study-run.rc" 2>/dev/null)" = 0 ] || { say "study run: $(cat "$OUT/study-run.err")"; exit 1; }
say "played in $(($(date +%s) - t0)) s"
moni study report "$S" || { say "study report exited $?"; exit 1; }
echo
cat "$OUT/participant.log"
echo
echo "answers: $S/testers/scripted/answers.jsonl; participant log: $OUT/participant.log"
