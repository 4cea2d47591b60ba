#!/usr/bin/env bash
# Exporter figures next to a peer measured in the same run: scrape latency of moni's
# /metrics next to Prometheus' own /metrics (Go client_golang, the reference
# implementation), both on loopback, one new connection per scrape; and the CPU
# moni spends sampling at 10 Hz while being scraped 10 times a second.
set -u
M="$MONI_BUILD/moni"
PY=/usr/bin/python3
export MONI_DATA_DIR="$MONI_SRC"
PROM=$(command -v prometheus || true)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT

"$M" alerts _exporter-demo --metrics-listen 0 --interval 100ms --duration 120s >"$TMPDIR/demo.log" 2>&1 &
dpid=$!
pids+=($dpid)
for _ in $(seq 50); do grep -q "^listening" "$TMPDIR/demo.log" && break; sleep 0.1; done
mport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMPDIR/demo.log")
pport=""
if [ -n "$PROM" ]; then
    pport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'global:\n  scrape_interval: 15s\n' >"$TMPDIR/p.yml"
    "$PROM" --config.file="$TMPDIR/p.yml" --storage.tsdb.path="$TMPDIR/tsdb" \
        --web.listen-address="127.0.0.1:$pport" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$pport/metrics" -o /dev/null && break; sleep 0.1; done
fi

$PY - "$mport" "$pport" "$dpid" <<'EOF'
import http.client, sys, time, os
def scrape(port):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    c.request("GET", "/metrics")
    body = c.getresponse().read()
    c.close()
    return len(body)
def measure(port, n=300):
    for _ in range(20):
        scrape(port)
    ts, size = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        size = scrape(port)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return sum(ts) / n * 1e3, ts[int(n * 0.99)] * 1e3, size
mport, pport, dpid = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = measure(mport)
print("scrape moni /metrics:       mean %.3f ms  p99 %.3f ms  %d bytes" % m)
if pport:
    p = measure(pport)
    print("scrape prometheus /metrics: mean %.3f ms  p99 %.3f ms  %d bytes" % p)
    print("ratio (prometheus/moni mean latency): %.1fx" % (p[0] / m[0]))
else:
    print("prometheus not installed: no peer for the scrape latency")
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c0, t0 = cpu(dpid), time.time()
while time.time() - t0 < 10:
    scrape(mport)
    time.sleep(0.1)
c1, t1 = cpu(dpid), time.time()
print("moni sampling at 10 Hz + 10 scrapes/s: %.4f cpu-s/s (%.2f%% of one core)"
      % ((c1 - c0) / (t1 - t0), 100 * (c1 - c0) / (t1 - t0)))
EOF
