#!/usr/bin/env bash
# tests/bench/mttd_table.sh — the machine's time to detect, per fault kind: each kind
# fired alone at its default strength on moni-train (a run of its own, the fault at
# 20 s for 60 s), then `moni validate --json` (the first detection naming the fault's
# effect and its delay from `fired`) and `moni diagnose` with the journal removed
# (does the root cause name it?).  net runs on moni-rlsim, the workload here that uses
# the network.  Not part of `make test` (about 17 minutes);
# usage: [KEEP=1] BUILD=build tests/bench/mttd_table.sh [CASE...].  The disk_fill run uses a
# 1 GiB tmpfs as its run directory's filesystem when it can mount one (root), so
# that "full" is quick and harms nothing else.
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
M="$BUILD/moni" T="$BUILD/moni-train" PY=/usr/bin/python3
export MONI_DATA_DIR="${MONI_DATA_DIR:-}"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/moni-mttd.XXXXXX")
if [ -n "${KEEP:-}" ]; then # KEEP=1 keeps the runs
    echo "output kept in $OUT"
    trap 'mountpoint -q "$OUT/fs" && umount "$OUT/fs"' EXIT
else
    trap 'mountpoint -q "$OUT/fs" && umount "$OUT/fs"; rm -rf "$OUT"' EXIT
fi

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# name, spec, duration, extra moni-train args (rlsim: the workload is moni-rlsim)
cases=(
    "cpu|cpu@20s+60s|90s|"
    "mem|mem:rate=200M/s,size=8G@20s+60s|90s|"
    "disk_fill|disk_fill:to=99%,path=RUN@20s+60s|90s|"
    "io|io:path=RUN@20s+60s|90s|"
    "kill|kill@20s|40s|"
    "stop|stop@20s+30s|60s|"
    "knob_lr10|knob:lr=10@20s|60s|"
    "knob_lr1e-9|knob:lr=1e-9@1s|60s|"
    "net|net:port=META,listen=PROXY,delay=2s@20s+60s|90s|rlsim"
)
want=("$@")
printf '%-12s %-20s %-18s %8s %-16s %s\n' case detected detector mttd_s root_cause right
for c in "${cases[@]}"; do
    IFS='|' read -r name spec dur extra <<<"$c"
    if [ ${#want[@]} -gt 0 ]; then
        m=0; for w in "${want[@]}"; do [ "$w" = "$name" ] && m=1; done; [ $m = 1 ] || continue
    fi
    run="$OUT/$name"
    if [ "$name" = disk_fill ]; then
        mkdir -p "$OUT/fs"
        if mount -t tmpfs -o size=1G tmpfs "$OUT/fs" 2>/dev/null; then run="$OUT/fs/$name"; fi
    fi
    spec=${spec//RUN/$run}
    mkdir -p "$run"
    if [ "$extra" = rlsim ]; then
        # the network case needs a workload that talks: moni-rlsim, with train_worker_3's
        # MetaServer connection through the proxy the net fault puts on META
        meta=$(free_port) proxy=$(free_port)
        spec=${spec//META/$meta}
        spec=${spec//PROXY/$proxy}
        "$M" run --force --out "$run" --fault "$spec" --duration "$dur" -- "$BUILD/moni-rlsim" \
            --steps 10000 --meta-port "$meta" --train-meta-port "3=$proxy" \
            --log-dir "$run/logs" --ckpt-dir "$OUT/ckpt-$name" >"$OUT/$name.log" 2>&1
    else
        # shellcheck disable=SC2086
        "$M" run --force --out "$run" --fault "$spec" --duration "$dur" -- "$T" --logging-steps 5 \
            --no-progress --output-dir "$OUT/ckpt-$name" $extra >"$OUT/$name.log" 2>&1
    fi
    "$M" validate --json "$run" >"$OUT/$name.v.json" 2>/dev/null
    mkdir -p "$OUT/blind-$name"
    cp -r "$run/." "$OUT/blind-$name/"
    rm -f "$OUT/blind-$name/faults.jsonl" "$OUT/blind-$name/ground_truth.csv" "$OUT/blind-$name/labels.csv"
    "$M" diagnose --json "$OUT/blind-$name" >"$OUT/$name.d.json" 2>/dev/null
    "$PY" - "$name" "$OUT/$name.v.json" "$OUT/$name.d.json" "$M" <<'EOF'
import json, sys, subprocess
name, vj, dj = sys.argv[1:4]
try:
    v = json.load(open(vj))
except Exception:
    v = {"faults": []}
try:
    d = json.load(open(dj))
except Exception:
    d = {"root_cause": "?"}
f = [x for x in v.get("faults", []) if x.get("fired")]
m = f[0].get("machine", {}) if f else {}
ok = m.get("diagnosis_rank") == 1
print("%-12s %-20s %-18s %8s %-16s %s" % (
    name, m.get("label") or "-", m.get("detector") or "-",
    "%.1f" % m["detect_s"] if m.get("detect_s") is not None else "-",
    d.get("root_cause", "?"), "yes" if ok else ("no fault fired" if not f else "no")))
EOF
    [ "$name" = disk_fill ] && mountpoint -q "$OUT/fs" && umount "$OUT/fs"
done
