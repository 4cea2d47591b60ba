#!/usr/bin/python3
"""tests/sh/fault_peer.py — the TCP peer for the net fault tests and bench.

  fault_peer.py server PORT          echo server on 127.0.0.1:PORT (threads), until killed
  fault_peer.py rtt PORT N           N request/response round trips of 64 bytes; prints
                                     "median_ms mean_ms min_ms max_ms"
  fault_peer.py reset PORT           connects and talks; prints "reset" when the peer
                                     resets or closes the connection, "ok" otherwise
  fault_peer.py stall PORT SECONDS   one round trip; prints its duration in ms
  fault_peer.py bulk PORT BYTES      sends BYTES and reads the echo; prints "seconds bytes"
"""
import socket
import statistics
import sys
import threading
import time


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)

    def echo(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def connect(port):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def roundtrip(c, payload):
    t = time.monotonic()
    c.sendall(payload)
    got = b""
    while len(got) < len(payload):
        d = c.recv(65536)
        if not d:
            raise ConnectionResetError("closed")
        got += d
    return (time.monotonic() - t) * 1000.0


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "server":
        serve(port)
    elif mode == "rtt":
        n = int(sys.argv[3])
        c = connect(port)
        rtts = [roundtrip(c, b"x" * 64) for _ in range(n)]
        print("%.2f %.2f %.2f %.2f" % (statistics.median(rtts), statistics.mean(rtts),
                                       min(rtts), max(rtts)))
    elif mode == "reset":
        try:
            c = connect(port)
            for _ in range(3):
                roundtrip(c, b"hello")
            print("ok")
        except OSError:
            print("reset")
    elif mode == "bulk":
        n = int(sys.argv[3])
        c = connect(port)
        t = time.monotonic()
        threading.Thread(target=c.sendall, args=(b"y" * n,), daemon=True).start()
        got = 0
        while got < n:
            d = c.recv(65536)
            if not d:
                break
            got += len(d)
        print("%.3f %d" % (time.monotonic() - t, got))
    elif mode == "stall":
        c = connect(port)
        print("%.1f" % roundtrip(c, b"x" * 64))


if __name__ == "__main__":
    main()
