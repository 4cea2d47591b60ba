#!/usr/bin/python3
"""Writes a synthetic run directory for bench_build.sh: 24 hours at 1 Hz (86,400
rows), 40 columns in samples.csv (timestamp, mono_ns, 38 metrics: gauges, a few
cumulative *_total counters, some missing cells), one log line per second in
workload.log/workload.idx, a training metric record every 10 s in events.jsonl,
and a few faults in faults.jsonl.  Usage: gen_run.py DIR [HOURS]"""
import json, math, os, random, sys, time

d = sys.argv[1]
hours = float(sys.argv[2]) if len(sys.argv) > 2 else 24
n = int(hours * 3600)
os.makedirs(d, exist_ok=True)
rnd = random.Random(7)
real0 = 1795600800.0  # 2026-11-25T10:00:00Z
mono0 = 1_000_000_000_000


def iso(t):
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t)))
    return "%s.%03dZ" % (s, int(round((t - int(t)) * 1000)) % 1000)


gauges = ["cpu_pct", "cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "mem_used_bytes",
          "mem_available_bytes", "mem_cached_bytes", "load1", "load5", "disk_read_Bps",
          "disk_write_Bps", "disk_busy_pct", "net_rx_Bps", "net_tx_Bps", "psi_cpu_some_avg10",
          "psi_memory_some_avg10", "psi_io_some_avg10", "proc_cpu_pct", "proc_rss_bytes",
          "proc_threads", "proc_read_Bps", "proc_write_Bps", "proc_heartbeat_age_s",
          "gpu0_util_pct", "gpu0_mem_used_bytes", "gpu0_mem_total_bytes", "gpu0_temp_c",
          "gpu0_power_w", "gpu0_sm_clock_mhz", "gpu0_pcie_rx_Bps", "gpu0_pcie_tx_Bps",
          "moni_cpu_pct", "tick_lag_ms"]
counters = ["psi_cpu_some_total_us", "psi_io_some_total_us", "disk_read_total",
            "net_rx_total", "gpu0_xid_total"]
cols = gauges + counters
assert len(cols) == 38
with open(d + "/samples.csv", "w") as f:
    f.write("timestamp,mono_ns," + ",".join(cols) + "\n")
    acc = [0.0] * len(counters)
    for i in range(n):
        jitter = rnd.random() * 0.004
        t = i + 0.25 + jitter
        row = [iso(real0 + t), str(mono0 + int(t * 1e9))]
        for k, c in enumerate(gauges):
            if k % 11 == 3 and i % 97 == 0:
                row.append("")  # a missing value now and then
            elif c.endswith("_bytes"):
                row.append(str(int(2e9 + 1e8 * math.sin(i / 600.0 + k) + rnd.random() * 1e6)))
            else:
                row.append("%.4g" % (50 + 40 * math.sin(i / 300.0 + k) + rnd.random()))
        for k in range(len(counters)):
            acc[k] += 1000 * rnd.random()
            row.append("%d" % acc[k])
        f.write(",".join(row) + "\n")
with open(d + "/workload.log", "w") as log, open(d + "/workload.idx", "w") as idx, \
        open(d + "/events.jsonl", "w") as ev:
    idx.write("line,timestamp,mono_ns,stream\n")
    for i in range(n):
        t = i + 0.5
        loss = 0.7 * math.exp(-i / 20000.0) + 0.01 * rnd.random()
        log.write("{'loss': %.4f, 'learning_rate': 0.001, 'epoch': %.2f}\n" % (loss, i / 3600.0))
        idx.write("%d,%s,%d,1\n" % (i + 1, iso(real0 + t), mono0 + int(t * 1e9)))
        if i % 10 == 0:
            ev.write(json.dumps({"timestamp": iso(real0 + t), "mono_ns": mono0 + int(t * 1e9),
                                 "file": "workload.log", "line": i + 1, "rule": "hf_metrics",
                                 "kind": "metric", "event": "", "severity": "info",
                                 "labels": [], "fields": {"loss": loss, "learning_rate": 0.001,
                                                          "epoch": i / 3600.0}}) + "\n")
with open(d + "/faults.jsonl", "w") as f:
    for k, (kind, at, dur) in enumerate([("cpu", 3600, 600), ("io", 20000, 900),
                                         ("kill", 80000, 0)]):
        for evn, dt in (("armed", -1), ("fired", 0), ("stopped", dur), ("reverted", dur + 0.1)):
            if kind == "kill" and evn in ("stopped", "reverted"):
                continue
            t = at + dt
            f.write(json.dumps({"timestamp": iso(real0 + t), "mono_ns": mono0 + int(t * 1e9),
                                "event": evn, "fault_id": "f%d" % (k + 1), "kind": kind,
                                "target": "", "params": {}, "requested_dose": 1,
                                "delivered_dose": 1}) + "\n")
json.dump({"format": "moni-run/1", "interval_s": 1, "start": iso(real0),
           "end": iso(real0 + n), "complete": True,
           "workload": {"started": iso(real0), "ended": iso(real0 + n), "exit_code": 0}},
          open(d + "/meta.json", "w"))
