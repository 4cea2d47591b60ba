"""Synthetic run directories for the detector tests: a healthy run and a run with a
cpu fault, in the raw files moni build reads (samples.csv, meta.json,
faults.jsonl).  Six channels driven by one load signal plus noise; under the fault
cpu_pct and psi rise and progress falls, so the rows leave the healthy manifold.
usage: synth_runs.py DIR SECONDS FAULT_START FAULT_LEN SEED [KIND [STRENGTH [EXTRA]]]
EXTRA: that many more noisy columns (x0_pct ...), for the bench's wide matrix"""
import json, math, os, random, sys
from datetime import datetime, timezone

def write(d, n, seed, fault=None, kind="cpu", k=1.0, extra=0):
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(seed)
    real0, mono0 = 1795600800 * 10**9, 10**12
    iso = lambda ns: datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with open(d + "/samples.csv", "w") as f:
        f.write("timestamp,mono_ns,cpu_pct,load_share,psi_cpu_some_pct,steps_per_s,"
                "mem_used_bytes,net_rx_total" + "".join(",x%d_pct" % j for j in range(extra)) + "\n")
        rx = 0.0
        for i in range(n):
            t = i + 0.5
            load = 0.5 + 0.3 * math.sin(2 * math.pi * i / 60.0) + rnd.gauss(0, 0.03)
            inside = fault and fault[0] <= t < fault[0] + fault[1]
            cpu = 40 + 40 * load + rnd.gauss(0, 2)
            share = 90 * load + rnd.gauss(0, 2)
            psi = 2 + rnd.gauss(0, 0.5)
            steps = 10 * load + rnd.gauss(0, 0.3)
            if inside:
                cpu, psi = cpu + 15 * k, psi + 25 * k
                share, steps = share * (1 - 0.5 * k), steps * (1 - 0.5 * k)
            mem = 4e9 + 1e8 * load + rnd.gauss(0, 5e6)
            rx += 1e6 * load
            ns = int(t * 1e9)
            f.write("%s,%d,%.3f,%.3f,%.3f,%.3f,%.0f,%.0f" % (
                iso(real0 + ns), mono0 + ns, cpu, share, psi, steps, mem, rx))
            f.write("".join(",%.2f" % (50 * load + rnd.random()) for j in range(extra)) + "\n")
    meta = {"interval_ns": 10**9, "start": iso(real0), "end": iso(real0 + n * 10**9),
            "complete": True}
    json.dump(meta, open(d + "/meta.json", "w"))
    with open(d + "/faults.jsonl", "w") as f:
        if fault:
            for ev, t in (("armed", 0.1), ("fired", fault[0]), ("effective", fault[0]),
                          ("stopped", fault[0] + fault[1]), ("reverted", fault[0] + fault[1] + 0.1)):
                ns = int(t * 1e9)
                f.write(json.dumps({"timestamp": iso(real0 + ns), "mono_ns": mono0 + ns,
                                    "event": ev, "fault_id": "f1", "kind": kind,
                                    "target": "pid:42", "params": {"load": "90%"}}) + "\n")

if __name__ == "__main__":
    d, n, fs, fl, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    write(d, n, seed, (fs, fl) if fl > 0 else None, sys.argv[6] if len(sys.argv) > 6 else "cpu",
          float(sys.argv[7]) if len(sys.argv) > 7 else 1.0,
          int(sys.argv[8]) if len(sys.argv) > 8 else 0)
