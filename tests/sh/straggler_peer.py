#!/usr/bin/env python3
"""A CPU-bound workload for test_fault_straggler.sh: spins and writes the share of one
CPU it got over the last 300 ms ("cpu 0.97") to STATUS.
--outlive (first): ignore SIGTERM, to outlive a SIGKILLed moni."""
import os, signal, sys, time

args = sys.argv[1:]
if args and args[0] == "--outlive":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    args = args[1:]
status = args[0]
while True:
    w0, c0 = time.monotonic(), time.process_time()
    while time.monotonic() - w0 < 0.3:
        pass
    share = (time.process_time() - c0) / (time.monotonic() - w0)
    with open(status + ".tmp", "w") as f:
        f.write("cpu %.2f\n" % share)
    os.replace(status + ".tmp", status)
