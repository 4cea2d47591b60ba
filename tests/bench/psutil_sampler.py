#!/usr/bin/python3
"""tests/bench/psutil_sampler.py — the peer for bench_observer.sh: what a Python
prototype would run.  Samples the same system fields as moni's system source with
psutil at a fixed rate (absolute deadlines) and appends one CSV row per tick.
usage: psutil_sampler.py INTERVAL_S DURATION_S OUT.csv"""
import os
import sys
import time

import psutil


def psi():
    out = []
    for r in ("cpu", "memory", "io"):
        try:
            with open("/proc/pressure/" + r) as f:
                for line in f:
                    parts = line.split()
                    out.append(float(parts[1].split("=")[1]))
                    out.append(int(parts[4].split("=")[1]))
        except OSError:
            pass
    return out


def main():
    interval, duration, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    psutil.cpu_times_percent(percpu=False)
    psutil.cpu_times_percent(percpu=True)
    prev_disk = psutil.disk_io_counters(perdisk=True)
    prev_net = psutil.net_io_counters(pernic=True)
    start = time.monotonic()
    k = 0
    with open(path, "w") as out:
        while True:
            k += 1
            deadline = start + k * interval
            if deadline - start > duration:
                break
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            row = [time.time(), time.monotonic_ns()]
            t = psutil.cpu_times_percent(percpu=False)
            row += [100 - t.idle - t.iowait, t.user, t.system, t.iowait, t.steal, t.idle]
            for c in psutil.cpu_times_percent(percpu=True):
                row += [100 - c.idle - c.iowait, c.user, c.system, c.iowait, c.steal, c.idle]
            row += list(os.getloadavg())
            vm = psutil.virtual_memory()
            sw = psutil.swap_memory()
            row += [vm.total, vm.used, vm.available, vm.cached, vm.free, sw.total, sw.used]
            disk = psutil.disk_io_counters(perdisk=True)
            for name, d in disk.items():
                p = prev_disk.get(name, d)
                row += [(d.read_bytes - p.read_bytes) / interval,
                        (d.write_bytes - p.write_bytes) / interval,
                        (d.read_count - p.read_count) / interval,
                        (d.write_count - p.write_count) / interval,
                        (d.busy_time - p.busy_time) / (interval * 10)]
            prev_disk = disk
            net = psutil.net_io_counters(pernic=True)
            for name, n in net.items():
                p = prev_net.get(name, n)
                row += [(n.bytes_recv - p.bytes_recv) / interval,
                        (n.bytes_sent - p.bytes_sent) / interval,
                        n.errin, n.errout, n.dropin, n.dropout]
            prev_net = net
            row += psi()
            out.write(",".join(str(v) for v in row) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
