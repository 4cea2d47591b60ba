#!/usr/bin/env bash
# Per-worker path overrides, the way moni's net proxy fault uses them: a real TCP
# proxy that delays every forwarded segment sits between train_worker_3 and the
# MetaServer (--train-meta-port 3=PROXY), and a black-hole listener stands in for a
# stalled scheduler (--scheduler-port-for-controller). Same chains as scenarios 1/3.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
PY=/usr/bin/python3
[ -x $PY ] || { echo "skip: no $PY"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-net.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; tail -n 15 "$D/controller.log" 2>/dev/null; exit 1; }
has() { grep -q -- "$2" "$D/$1" || fail "$1 lacks: $2"; }

BASE=$($PY -c 'import socket
for p in range(21000, 60000, 97):
    ok = True
    for q in range(p, p + 12):
        s = socket.socket()
        try: s.bind(("127.0.0.1", q))
        except OSError: ok = False
        s.close()
        if not ok: break
    if ok: print(p); break')
META=$BASE PROXY=$((BASE + 10)) HOLE=$((BASE + 11))
cat >"$D/proxy.py" <<'PYEOF'
import asyncio, sys
listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data: break
            await asyncio.sleep(delay)
            w.write(data); await w.drain()
    except Exception: pass
    finally: w.close()
async def handle(r, w):
    try: tr, tw = await asyncio.open_connection("127.0.0.1", target)
    except Exception: w.close(); return
    asyncio.ensure_future(pipe(r, tw)); asyncio.ensure_future(pipe(tr, w))
# the scheduler path: job submission goes to the scheduler directly; every call
# through this port (the cleanup's stop-job calls) is held forever
async def hole(r, w):
    await asyncio.sleep(3600)
async def main():
    await asyncio.start_server(handle, "127.0.0.1", listen)
    await asyncio.start_server(hole, "127.0.0.1", int(sys.argv[4]))
    print("ready", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
PYEOF
$PY "$D/proxy.py" "$PROXY" "$META" 0.3 "$HOLE" >"$D/proxy.out" 2>&1 &
PIDS="$PIDS $!"
wait_for_file_line "$D/proxy.out" ready 10
grep -q ready "$D/proxy.out" || fail "proxy did not start: $(cat "$D/proxy.out")"

"$B" --quick --steps 3 --base-port "$BASE" --train-meta-port "3=$PROXY" \
    --scheduler-port-for-controller "$HOLE" --request-timeout 3s --rpc-timeout 6s \
    --scheduler-timeout 1s --log-dir "$D" >"$D/stdout" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
has controller.log "worker train_worker_3 pid=[0-9]* port=$((BASE + 5)) metaserver_port=$PROXY"
has controller.log "metaserver listening on 127.0.0.1:$META"
has train_worker_3.log "metaserver=127.0.0.1:$PROXY"
grep -Eq "did not finish within 3.0s|ReadTimeout: HTTPConnectionPool\(host='127.0.0.1', port=$PROXY\)" "$D/train_worker_3.log" ||
    fail "train_worker_3 upload through the proxy did not time out"
has controller.log "scheduler: job rlsim-train-[0-9]* submitted"
has rollout_worker_1.log "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port=$META): Read timed out. (read timeout=3.0)"
has controller.log "FrameworkError: step 1 failed at stage=weight_update: InferenceEngineError"
last=$(tail -n 1 "$D/controller.log")
case "$last" in
*"Error stopping job rlsim-rollout-"*": Request timeout") ;;
*) fail "last line is not a stop-job timeout: $last" ;;
esac
echo "ok: net path overrides"
exit 0
