#!/usr/bin/env python3
"""A workload for the in-process fault tests (test_fault_dns/connect/clock.sh):
makes one kind of call every 50 ms and writes what happened, one line per call, to
stdout and (the latest only) to STATUS.
  inject_peer.py STATUS dns HOST      getaddrinfo(HOST): "ok" or "err <the error>"
  inject_peer.py STATUS connect       connect() to its own listener on 127.0.0.1
  inject_peer.py STATUS connect-send  the same, then send 10 x 100 bytes on it
  inject_peer.py STATUS clock         "skew <wall - monotonic drift since start, s>"
--outlive (first): ignore SIGTERM, to outlive a SIGKILLed moni."""
import os, signal, socket, sys, time

args = sys.argv[1:]
if args and args[0] == "--outlive":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    args = args[1:]
status, kind = args[0], args[1]
srv = None
if kind.startswith("connect"):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    srv.settimeout(1)
wall0, mono0 = time.time(), time.monotonic()
while True:
    try:
        if kind == "dns":
            socket.getaddrinfo(args[2], 80)
            r = "ok"
        elif kind.startswith("connect"):
            c = socket.create_connection(srv.getsockname(), timeout=3)
            a = srv.accept()[0]
            try:
                for _ in range(10 if kind == "connect-send" else 0):
                    c.sendall(b"x" * 100)
                    a.recv(100)
            finally:
                c.close()
                a.close()
            r = "ok"
        else:
            r = "skew %.3f" % ((time.time() - wall0) - (time.monotonic() - mono0))
    except OSError as e:
        r = "err %s" % e
    with open(status + ".tmp", "w") as f:
        f.write(r + "\n")
    os.replace(status + ".tmp", status)
    try:
        print(r, flush=True)
    except OSError:  # moni, reading our stdout, is gone: go on for the status file
        sys.stdout = open(os.devnull, "w")
    time.sleep(0.05)
