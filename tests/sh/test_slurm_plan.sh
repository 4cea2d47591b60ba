#!/usr/bin/env bash
# Cluster faults without a Slurm cluster: two moni processes with the SLURM_*
# environment of ranks 0 and 1 of one job, and a stand-in for srun (MONI_SRUN) that
# checks srun's options and runs the command on this host.  Checks:
#   - bad "nodes"/"ranks" fields: "FILE:LINE: field: ..." and exit 2, nothing started;
#   - a rank or node the job does not have: the same, at run time;
#   - --out DIR/%n-%t expands per node, an unknown %x is refused (exit 2);
#   - rank 0 sends the fault to rank 1's run directory (srun --overlap --jobid -w),
#     rank 1 journals it (ids c1-fN), rank 0 records what it sent, nobody else fires;
#   - moni build --cluster labels rank 1's rows only (and refuses two runs of one
#     node as a job); moni diagnose on the job ranks no node but rank 1.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
M="$MONI_BUILD/moni"
PY=/usr/bin/python3
export MONI_DATA_DIR="$MONI_SRC"
fail() { echo "FAIL: $*"; for f in "$TMPDIR"/*.log; do [ -e "$f" ] && tail -n 8 "$f" | sed "s|^|  $(basename "$f"): |"; done; exit 1; }
unset SLURM_JOB_ID SLURM_JOBID SLURM_PROCID SLURMD_NODENAME SLURM_NTASKS SLURM_STEP_NODELIST \
    SLURM_JOB_NODELIST SLURM_STEP_TASKS_PER_NODE SLURM_TASKS_PER_NODE SLURM_STEP_ID SLURM_LOCALID

# ---- bad fields: file, line, field, exit 2 -------------------------------------------
plan() { # NAME FAULT-JSON
    printf '{"name": "p", "defaults": {"workload": ["sleep", "30"]},\n "experiments": [{"name": "e", "faults": [\n  %s\n ]}]}\n' "$2" >"$TMPDIR/$1.json"
}
expect_bad() { # NAME FAULT-JSON REGEX
    plan "$1" "$2"
    "$M" run --plan "$TMPDIR/$1.json" --out "$TMPDIR/out-$1" --dry-run >"$TMPDIR/$1.out" 2>&1
    local rc=$?
    [ $rc -eq 2 ] || fail "$1: exit $rc, want 2: $(cat "$TMPDIR/$1.out")"
    grep -Eq -- "$3" "$TMPDIR/$1.out" || fail "$1: want /$3/, got: $(cat "$TMPDIR/$1.out")"
    [ ! -e "$TMPDIR/out-$1" ] || fail "$1: created its output"
}
expect_bad empty '{"kind": "stop", "for": "1s", "ranks": []}' "$TMPDIR/empty.json:3: ranks: must be a non-empty list"
expect_bad neg '{"kind": "stop", "for": "1s", "ranks": [0, -1]}' "neg.json:3: ranks: \[1\]: must be a rank"
expect_bad frac '{"kind": "stop", "for": "1s", "ranks": [1.5]}' "frac.json:3: ranks: \[0\]: must be a rank"
expect_bad dup '{"kind": "stop", "for": "1s", "ranks": [1, 1]}' "dup.json:3: ranks: \[1\]: named twice"
expect_bad both '{"kind": "stop", "for": "1s", "ranks": [1], "nodes": ["a"]}' "both.json:3: (ranks|nodes): give \"nodes\" or \"ranks\", not both"
expect_bad badname '{"kind": "stop", "for": "1s", "nodes": ["a b"]}' "badname.json:3: nodes: \[0\]: must be a node name"
expect_bad nofor '{"kind": "stop", "ranks": [1]}' "nofor.json:3: ranks: needs \"for\""
expect_bad notlist '{"kind": "stop", "for": "1s", "nodes": "a"}' "notlist.json:3: nodes: must be a non-empty list"
# valid syntax, but not in this job: outside Slurm only rank 0 / this host exist
expect_bad norank '{"kind": "stop", "for": "1s", "ranks": [1]}' "norank.json:3: ranks: rank 1: not in a Slurm job"
export SLURM_JOB_ID=77 SLURM_NTASKS=2 SLURM_STEP_NODELIST='nodea,nodeb' SLURM_STEP_TASKS_PER_NODE='1(x2)'
expect_bad bigrank '{"kind": "stop", "for": "1s", "ranks": [2]}' "bigrank.json:3: ranks: rank 2 is not in this job \(2 tasks\)"
expect_bad nonode '{"kind": "stop", "for": "1s", "nodes": ["nodec"]}' "nonode.json:3: nodes: node 'nodec' is not in this job"

# ---- --out patterns -------------------------------------------------------------------
SLURMD_NODENAME=nodeb SLURM_PROCID=1 "$M" record --out "$TMPDIR/rec/%j-%n-%t" --duration 1s -- true \
    >"$TMPDIR/rec.log" 2>&1 || fail "record with --out %j-%n-%t"
[ -f "$TMPDIR/rec/77-nodeb-1/meta.json" ] || fail "--out %j-%n-%t not expanded: $(ls "$TMPDIR/rec")"
$PY -c 'import json,sys; n=json.load(open(sys.argv[1]))["node"]; assert n["job_id"]=="77" and n["node"]=="nodeb" and n["rank"]==1 and n["ntasks"]==2, n' \
    "$TMPDIR/rec/77-nodeb-1/meta.json" || fail "meta.json node block"
SLURMD_NODENAME=nodeb SLURM_PROCID=1 "$M" record --out "$TMPDIR/rec/again" --duration 1s -- true \
    >"$TMPDIR/rec2.log" 2>&1 || fail "second record"
# two runs of one node and rank are not a job's nodes: refused, not merged
"$M" build --cluster "$TMPDIR/rec" >"$TMPDIR/notcl.log" 2>&1
[ $? -eq 2 ] && grep -q "not the nodes of one job" "$TMPDIR/notcl.log" ||
    fail "build --cluster on one node's runs: $(cat "$TMPDIR/notcl.log")"
"$M" record --out "$TMPDIR/rec/%q" --duration 1s -- true >"$TMPDIR/q.log" 2>&1
[ $? -eq 2 ] && grep -q "unknown '%q'" "$TMPDIR/q.log" || fail "--out %q: $(cat "$TMPDIR/q.log")"

# ---- rank 0 sends a fault to rank 1 through a stand-in for srun ---------------------
cat >"$TMPDIR/fake-srun" <<'EOF'
#!/usr/bin/python3
# srun's options as moni passes them, then the command, run here
import os, sys
a = sys.argv[1:]
log = open(os.environ["FAKE_SRUN_LOG"], "a")
log.write(" ".join(a) + "\n")
log.close()
assert "--overlap" in a and "--jobid=77" in a and "-N1" in a and "-n1" in a, a
node = a[a.index("-w") + 1]
cmd = a[a.index("--quiet") + 1:]
env = dict(os.environ, SLURMD_NODENAME=node, SLURM_STEP_ID="1", SLURM_PROCID="0", SLURM_NTASKS="1")
os.execve(cmd[0], cmd, env)
EOF
chmod +x "$TMPDIR/fake-srun"
export FAKE_SRUN_LOG="$TMPDIR/srun-calls.log" MONI_SRUN="$TMPDIR/fake-srun"
plan job '{"kind": "stop", "ranks": [1], "at": "2s", "for": "2s"}'
$PY - "$TMPDIR/job.json" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["defaults"]["workload"] = ["sleep", "7"]
json.dump(p, open(sys.argv[1], "w"))
PYEOF
OUT="$TMPDIR/job"
SLURMD_NODENAME=nodeb SLURM_PROCID=1 "$M" run --plan "$TMPDIR/job.json" --out "$OUT/%n" --quiet \
    >"$TMPDIR/rank1.log" 2>&1 &
r1=$!
SLURMD_NODENAME=nodea SLURM_PROCID=0 "$M" run --plan "$TMPDIR/job.json" --out "$OUT/%n" --quiet \
    >"$TMPDIR/rank0.log" 2>&1 &
r0=$!
wait $r0 || fail "rank 0 exit $?"
wait $r1 || fail "rank 1 exit $?"
grep -q -- "-w nodeb" "$FAKE_SRUN_LOG" || fail "srun not asked for nodeb: $(cat "$FAKE_SRUN_LOG")"
grep -q -- "--run $OUT/nodeb/e" "$FAKE_SRUN_LOG" || fail "wrong run dir: $(cat "$FAKE_SRUN_LOG")"
[ "$(wc -l <"$FAKE_SRUN_LOG")" -eq 1 ] || fail "srun called $(wc -l <"$FAKE_SRUN_LOG") times"
$PY - "$OUT" <<'PYEOF' || fail "journals"
import json, os, sys
out = sys.argv[1]
def ev(n): return [json.loads(l) for l in open(os.path.join(out, n, "e", "faults.jsonl")) if l.strip()]
b = ev("nodeb")
assert [e["fault_id"] for e in b if e["event"] == "fired"] == ["c1-f1"], b
assert any(e["event"] == "effective" for e in b), b
assert not [e for e in ev("nodea") if e["event"] == "fired"], ev("nodea")
sent = json.load(open(os.path.join(out, "nodea", "e", "meta.json")))["cluster_faults"]
assert len(sent) == 1 and sent[0]["node"] == "nodeb" and sent[0]["rank"] == 1 and sent[0]["exit_code"] == 0, sent
assert "cluster_faults" not in json.load(open(os.path.join(out, "nodeb", "e", "meta.json")))
PYEOF
"$M" build --cluster "$OUT" >"$TMPDIR/build.log" 2>&1 || fail "build --cluster"
$PY - "$OUT/cluster/e" <<'PYEOF' || fail "cluster dataset"
import csv, os, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(d, "tse_matrix.csv"))))
hdr = open(os.path.join(d, "tse_matrix.csv")).readline().strip().split(",")
assert hdr[:3] == ["timestamp", "node", "rank"] and hdr[-1] == "is_anomaly", hdr[:4]
an = {}
for r in rows:
    an.setdefault(r["node"], 0)
    an[r["node"]] += r["is_anomaly"] == "1"
assert set(an) == {"nodea", "nodeb"} and an["nodeb"] >= 1 and an["nodea"] == 0, an
labels = list(csv.DictReader(open(os.path.join(d, "labels.csv"))))
assert all(l["node"] == "nodeb" for l in labels if l["fault_id"]), labels
assert [l["node"] for l in labels] == [r["node"] for r in rows]
PYEOF
"$M" diagnose --json "$OUT" >"$TMPDIR/diag.json" 2>"$TMPDIR/diag.err" || fail "diagnose on the job: $(cat "$TMPDIR/diag.err")"
$PY - "$TMPDIR/diag.json" <<'PYEOF' || fail "diagnosis: $(head -c 400 "$TMPDIR/diag.json")"
import json, sys
d = json.load(open(sys.argv[1]))
g = d["experiments"][0]
assert g["nodes"] == 2, g
rc = g["root_cause"]
# the hung sleep on nodeb is the only trouble, if the detectors see it at all
assert rc is None or rc["node"] == "nodeb", rc
assert "nodea" in g["healthy"], g["healthy"]
PYEOF
echo ok
