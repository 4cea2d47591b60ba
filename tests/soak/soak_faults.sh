#!/usr/bin/env bash
# tests/soak/soak_faults.sh — the reliability soak (not part of `make test`): for
# SOAK_MINUTES (default 30), runs moni-train under `moni run` with random faults of
# every kind that works here fired and stopped at random offsets, SIGKILLs moni at a
# random moment of each run, and checks after every kill that nothing is left active
# and that the journal tells the truth:
#   - no burner, hog, writer, fill file, I/O file, stopped workload, straggler cgroup
#     or preload rule outlives moni by more than the guardian's second (we allow 5 s);
#   - every fault the journal says `fired` has a `reverted` (or `failed`) line after it;
#   - the guardian's state file is gone.
# Prints one line per run and a closing "soak: N runs, F faults fired, K kills,
# L leftovers, J journal errors"; exit 1 when anything was left or untrue.
# Usage: BUILD=build SOAK_MINUTES=30 tests/soak/soak_faults.sh
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
M="$BUILD/moni" T="$BUILD/moni-train" PY=/usr/bin/python3
MINUTES=${SOAK_MINUTES:-30}
SEED=${SOAK_SEED:-$$}
RANDOM=$SEED
W=$(mktemp -d "${TMPDIR:-/tmp}/moni-soak.XXXXXX")
export MONI_DATA_DIR="$W/data"
mkdir -p "$MONI_DATA_DIR"
ln -sfn "$SRC/logparse/rules" "$MONI_DATA_DIR/rules"
ln -sfn "$SRC/examples" "$MONI_DATA_DIR/examples"
export MONI_STATE_DIR="$W/state"
mkdir -p "$MONI_STATE_DIR" && chmod 700 "$MONI_STATE_DIR"
MARK="MONI_SOAK_$SEED"
export "$MARK=1" # every process of the soak carries it in its environment
trap 'pkill -9 -f "$W/" 2>/dev/null; rm -rf "$W"' EXIT

# a random fault spec of a random kind, in run directory $1, at offset $2 s
spec() {
    local dir=$1 at=$2 len=$((2 + RANDOM % 8))
    case $((RANDOM % 10)) in
    0) echo "cpu:workers=1,load=$((20 + RANDOM % 80))%@${at}s+${len}s" ;;
    1) echo "mem:size=$((64 + RANDOM % 256))M,rate=256M/s@${at}s+${len}s" ;;
    2) echo "disk_fill:size=$((8 + RANDOM % 64))M,path=$dir@${at}s+${len}s" ;;
    3) echo "io:rate=50M/s,size=32M,path=$dir@${at}s+${len}s" ;;
    4) echo "stop@${at}s+${len}s" ;;
    5) echo "knob:lr=0.0$((1 + RANDOM % 9))@${at}s+${len}s" ;;
    6) echo "fs:path=$dir/checkpoints,error=EIO,ops=all@${at}s+${len}s" ;;
    7) echo "clock:offset=3600@${at}s+${len}s" ;;
    8) echo "straggler:cpus=0.$((1 + RANDOM % 8))@${at}s+${len}s" ;;
    9) echo "kill:signal=CONT@${at}s" ;;
    esac
}

# processes of the soak left after moni died: burners, hogs, writers, the
# workload (which dies with moni), the guardian once it has reverted
leftover_procs() {
    local p n=0
    for p in /proc/[0-9]*; do
        [ -r "$p/environ" ] || continue
        { tr "\\0" "\\n" <"$p/environ"; } 2>/dev/null | grep -q "^$MARK=" || continue
        [ "${p#/proc/}" = $$ ] && continue
        [ "${p#/proc/}" = "$BASHPID" ] && continue
        n=$((n + 1)); echo "    left: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" | cut -c1-100)" >&2
    done
    echo $n
}

leftover_files() {
    local dir=$1 n=0 f
    for f in "$dir"/.moni-fill-* "$dir"/.moni-io-*; do
        [ -e "$f" ] && { n=$((n + 1)); echo "    left: $f" >&2; }
    done
    for f in "$MONI_STATE_DIR"/*; do
        [ -e "$f" ] && { n=$((n + 1)); echo "    left: state file $f" >&2; }
    done
    # a straggler cgroup of this run's moni (moni-PID-fN beside the workload's own,
    # v1 or v2); other moni processes on the machine (a test suite) have their own
    while read -r f; do
        [ -n "$f" ] && { n=$((n + 1)); echo "    left: cgroup $f" >&2; }
    done < <(find /sys/fs/cgroup -maxdepth 8 -type d -name "moni-$mpid-f[0-9]*" 2>/dev/null)
    echo $n
}

# every fired fault has a reverted or failed line after it
journal_errors() {
    $PY - "$1/faults.jsonl" <<'EOF'
import json, sys
fired, ended = set(), set()
try:
    for l in open(sys.argv[1]):
        try:
            o = json.loads(l)
        except ValueError:
            continue  # a torn last line: moni was killed mid-write
        if o.get("event") == "fired":
            fired.add(o["fault_id"])
        if o.get("event") in ("reverted", "failed"):
            ended.add(o["fault_id"])
except FileNotFoundError:
    pass
bad = sorted(fired - ended)
for f in bad:
    print("    journal: %s fired but never reverted" % f, file=sys.stderr)
print(len(bad), len(fired))
EOF
}

wait_clean() { # run dir: waits up to 5 s for the guardian to finish
    local end=$((SECONDS + 5))
    while [ $SECONDS -lt $end ]; do
        [ "$(leftover_procs 2>/dev/null)" = 0 ] && [ "$(leftover_files "$1" 2>/dev/null)" = 0 ] && return 0
        sleep 0.2
    done
}

runs=0 fired=0 kills=0 left=0 jerr=0
end=$((SECONDS + MINUTES * 60))
while [ $SECONDS -lt $end ]; do
    runs=$((runs + 1))
    dir="$W/run$runs"
    mkdir -p "$dir"
    args=()
    for _ in $(seq $((3 + RANDOM % 6))); do args+=(--fault "$(spec "$dir" $((1 + RANDOM % 20)))"); done
    "$M" run --out "$dir" --force --duration 5m -q "${args[@]}" -- "$T" --logging-steps 5 \
        --no-progress --output-dir "$dir/checkpoints" >"$dir.log" 2>&1 &
    mpid=$!
    sleep $((3 + RANDOM % 22)).$((RANDOM % 10))
    if kill -0 $mpid 2>/dev/null; then
        kill -9 $mpid
        kills=$((kills + 1))
    fi
    wait $mpid 2>/dev/null
    wait_clean "$dir"
    lp=$(leftover_procs) lf=$(leftover_files "$dir")
    read -r bad nf <<<"$(journal_errors "$dir")"
    fired=$((fired + nf)) left=$((left + lp + lf)) jerr=$((jerr + bad))
    printf 'run %3d: %d faults fired, leftovers %d, journal errors %d\n' "$runs" "$nf" $((lp + lf)) "$bad"
    pkill -9 -f "$W/" 2>/dev/null # nothing of this run may disturb the next
    rm -rf "$dir" "$dir.log"
done
echo "soak: $runs runs, $fired faults fired, $kills kills, $left leftovers, $jerr journal errors (seed $SEED, $MINUTES min)"
[ $left -eq 0 ] && [ $jerr -eq 0 ]
