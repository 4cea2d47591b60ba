#!/usr/bin/env bash
# moni on a real Slurm cluster on this host (Debian's slurmctld, slurmd, munge): the
# test starts munged, slurmctld and three slurmd (n1..n3, one host: Debian's Slurm
# runs several slurmd on one host with -N NODE and a Port per node), submits
# examples/slurm/moni-job.sbatch with a plan whose fault names rank 1, and checks
#   - 3 run directories, each meta.json naming the job, its node and rank;
#   - the fault journalled on rank 1's node only (sent by rank 0 through srun);
#   - the merged cluster dataset: only that node's rows carry the fault label;
#   - `moni diagnose` on the job names that node first.
# Everything runs as root from state directories in TMPDIR and is stopped at the end.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
M="$MONI_BUILD/moni"
PY=/usr/bin/python3
export MONI_DATA_DIR="$MONI_SRC"
for p in munged slurmctld slurmd srun sbatch sinfo scontrol; do
    command -v "$p" >/dev/null ||
        { echo "skipped: $p not installed (Debian packages munge slurmctld slurmd slurm-client)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (SlurmUser=root, slurmd runs jobs as the user)"; exit 77; }

T=$(mktemp -d "$TMPDIR/slurm.XXXXXX")
chmod 755 "$T" # munged wants a socket directory others may search, not write
C="$T/etc"
mkdir -p "$C" "$T/state" "$T/spool" "$T/log" "$T/runs"
fail() {
    echo "FAIL: $*"
    for f in "$T"/log/*.log "$T"/runs/*.out; do [ -e "$f" ] && tail -n 12 "$f" | sed "s|^|  $(basename "$f"): |"; done
    exit 1
}
pidfiles=()
cleanup() {
    [ -n "${SLURM_CONF:-}" ] && [ -e "$T/state/up" ] && timeout 10 scontrol shutdown >/dev/null 2>&1
    for f in "${pidfiles[@]}"; do
        [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    for f in "${pidfiles[@]}"; do
        [ -s "$f" ] && wait_gone 10 "$(cat "$f")"
    done
    return 0
}
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- munge: a fresh key, our own socket --------------------------------------------
head -c 1024 /dev/urandom >"$C/munge.key"
chmod 400 "$C/munge.key"
pidfiles+=("$T/munged.pid")
munged -f --socket="$T/munge.sock" --key-file="$C/munge.key" --pid-file="$T/munged.pid" \
    --log-file="$T/log/munged.log" --seed-file="$T/munged.seed" ||
    { echo "skipped: munged does not start here: $(tail -n 1 "$T/log/munged.log" 2>/dev/null)"; exit 77; }
wait_until 10 test -S "$T/munge.sock" || fail "munged socket"

# ---- slurm.conf: 3 nodes on this host, ports picked free ------------------------------
host=$(hostname -s)
cport=$(free_port) dport=$(free_port)
p1=$(free_port) p2=$(free_port) p3=$(free_port)
cat >"$C/slurm.conf" <<EOF
ClusterName=monitest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$cport
SlurmdPort=$dport
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool/%n
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd-%n.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$p1 CPUs=1 RealMemory=500 State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$p2 CPUs=1 RealMemory=500 State=UNKNOWN
NodeName=n3 NodeHostname=$host NodeAddr=127.0.0.1 Port=$p3 CPUs=1 RealMemory=500 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
export SLURM_CONF="$C/slurm.conf"
pidfiles+=("$T/slurmctld.pid")
slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
: >"$T/state/up"
for n in n1 n2 n3; do
    mkdir -p "$T/spool/$n"
    pidfiles+=("$T/slurmd-$n.pid")
    slurmd -f "$SLURM_CONF" -N "$n" || fail "slurmd -N $n did not start"
done
nodes_idle() { [ "$(sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle$')" -eq 3 ]; }
wait_until 60 nodes_idle || fail "3 nodes not idle: $(sinfo -N 2>&1 | tr '\n' ' ')"
echo "slurm: $(sinfo -h -N -o '%N:%t' | tr '\n' ' ')"

# ---- the job: moni on every node, a fault on rank 1 ----------------------------------
D="$T/data" # the corpus once, so that three tasks do not write it at once
"$MONI_BUILD/moni-train" --data-dir "$D" --output-dir "$T/warm" --train-samples 4000 \
    --eval-samples 400 --features 4096 --hidden 32 --threads 1 --no-progress \
    --max-steps 1 --eval-steps 0 --save-steps 0 >/dev/null 2>&1 || fail "moni-train warm-up"
$PY - "$MONI_SRC/examples/slurm/cluster-plan.json" "$T/plan.json" "$D" <<'PYEOF' || fail "plan"
import json, sys
p = json.load(open(sys.argv[1]))
p["defaults"]["workload"] += ["--data-dir", sys.argv[3]]
# every node runs 25 s whatever the machine's speed: the fault (5s..10s) fits
p["defaults"]["duration"] = "25s"
p["experiments"][0]["args"] = ["--max-steps", "100000"]
json.dump(p, open(sys.argv[2], "w"), indent=1)
PYEOF
OUT="$T/runs/job"
cd "$T/runs" || fail "cd"
jid=$(MONI="$M" PLAN="$T/plan.json" OUT="$OUT" sbatch --parsable --export=ALL \
    -o "$T/runs/job-%j.out" "$MONI_SRC/examples/slurm/moni-job.sbatch") || fail "sbatch"
echo "job $jid submitted"
job_done() { ! squeue -h -j "$jid" 2>/dev/null | grep -q .; }
wait_until 240 job_done || fail "job $jid still running: $(squeue 2>&1 | tr '\n' ' ')"
cat "$T/runs/job-$jid.out"

# ---- what the job left ----------------------------------------------------------------
$PY - "$OUT" "$jid" <<'PYEOF' || fail "checks"
import csv, json, os, sys
out, jid = sys.argv[1], sys.argv[2]
exp = "hang-rank1"
runs = {n: os.path.join(out, n, exp) for n in ("n1", "n2", "n3")}
rank_of = {}
for n, d in runs.items():
    m = json.load(open(os.path.join(d, "meta.json")))
    node = m["node"]
    assert node["source"] == "slurm" and node["job_id"] == jid, node
    assert node["node"] == n and node["ntasks"] == 3, node
    assert "clock" in node and node["clock"]["source"] == "adjtimex", node
    rank_of[n] = node["rank"]
assert sorted(rank_of.values()) == [0, 1, 2], rank_of
target = [n for n, r in rank_of.items() if r == 1][0]
first = [n for n, r in rank_of.items() if r == 0][0]
for n, d in runs.items():
    ev = [json.loads(l) for l in open(os.path.join(d, "faults.jsonl")) if l.strip()]
    fired = [e for e in ev if e.get("event") == "fired"]
    if n == target:
        assert fired and all(e["fault_id"].startswith("c1-") for e in fired), ev
        assert any(e.get("event") == "stopped" for e in ev), ev
    else:
        assert not fired, (n, ev)
sent = json.load(open(os.path.join(runs[first], "meta.json")))["cluster_faults"]
assert len(sent) == 1 and sent[0]["node"] == target and sent[0]["rank"] == 1, sent
assert sent[0].get("exit_code") == 0, sent
cdir = os.path.join(out, "cluster", exp)
cj = json.load(open(os.path.join(cdir, "cluster.json")))
assert [x["node"] for x in cj["nodes"]] == sorted(runs, key=lambda k: rank_of[k]), cj["nodes"]
rows = list(csv.DictReader(open(os.path.join(cdir, "tse_matrix.csv"))))
labels = list(csv.DictReader(open(os.path.join(cdir, "labels.csv"))))
assert len(rows) == len(labels) and rows, (len(rows), len(labels))
per = {n: [r for r in rows if r["node"] == n] for n in runs}
assert all(per[n] for n in runs), {n: len(v) for n, v in per.items()}
anom = {n: sum(r["is_anomaly"] == "1" for r in v) for n, v in per.items()}
assert anom[target] >= 3 and all(anom[n] == 0 for n in runs if n != target), anom
lab = [l for l in labels if l["fault_id"]]
assert lab and all(l["node"] == target and l["fault_kind"] == "stop" for l in lab), lab[:3]
gt = list(csv.DictReader(open(os.path.join(cdir, "ground_truth.csv"))))
assert len(gt) == 1 and gt[0]["node"] == target and gt[0]["kind"] == "stop", gt
# one grid: every node's rows sit on the same whole seconds
ts = {n: {r["timestamp"] for r in v} for n, v in per.items()}
common = set.intersection(*ts.values())
assert len(common) >= 3, {n: len(t) for n, t in ts.items()}
print("ok: fault on %s (rank 1) only; %d merged rows, %s anomalous by node" % (target, len(rows), anom))
PYEOF

# the diagnosis across nodes names the hung node first
"$M" diagnose --json "$OUT" >"$T/diag.json" || fail "moni diagnose on the cluster"
$PY - "$T/diag.json" "$OUT" <<'PYEOF' || fail "diagnosis: $(head -c 600 "$T/diag.json")"
import json, sys, os
d = json.load(open(sys.argv[1]))
g = d["experiments"][0]
ranks = {n: json.load(open(os.path.join(sys.argv[2], n, "hang-rank1", "meta.json")))["node"]["rank"]
         for n in ("n1", "n2", "n3")}
target = [n for n, r in ranks.items() if r == 1][0]
assert g["root_cause"] and g["root_cause"]["node"] == target, g["root_cause"]
print("ok: diagnose names", target, g["root_cause"]["label"])
PYEOF
echo "ok"
