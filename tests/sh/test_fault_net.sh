#!/usr/bin/env bash
# test_fault_net.sh — net proxy mode: latency added by the proxy, measured by a client
# (round trips through the proxy vs direct), connection resets, and the proxy gone
# after the fault.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
PY=/usr/bin/python3
PEER=$MONI_SRC/tests/sh/fault_peer.py
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
srv=$(freeport); lp=$(freeport)
$PY "$PEER" server "$srv" & server=$!
trap 'kill $server 2>/dev/null' EXIT
wait_until 10 $PY "$PEER" rtt "$srv" 1 >/dev/null 2>&1 || fail "the echo server did not start"
direct=$($PY "$PEER" rtt "$srv" 20 | cut -d' ' -f1)

out=$TMPDIR/o1
$MONI fault run net delay=50ms direction=up listen="$lp" --port "$srv" --for 6s --out "$out" >"$TMPDIR/run1.log" 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired ($out)"
proxied=$($PY "$PEER" rtt "$lp" 20 | cut -d' ' -f1)
added=$(awk -v a="$proxied" -v b="$direct" 'BEGIN{printf "%.1f", a-b}')
echo "rtt direct ${direct} ms, through proxy ${proxied} ms: added ${added} ms (requested 50)"
awk -v x="$added" 'BEGIN{exit !(x >= 48 && x <= 65)}' || fail "added latency ${added} ms not 50 (up to +15 on a loaded box)"
pp=$(grep '"event":"fired"' "$out/faults.jsonl" | sed -n 's/.*"proxy_pid":\([0-9][0-9]*\).*/\1/p')
[ -n "$pp" ] && ! proc_gone "$pp" || fail "no running proxy pid in the fired line"
wait $moni || fail "moni exited $?"
cat "$TMPDIR/run1.log"
grep -q '"event":"effective"' "$out/faults.jsonl" || fail "no effective"
grep '"event":"stopped"' "$out/faults.jsonl" | grep -q '"mean_added_delay_ms":5' || fail "delivered delay not ~50 ms"
proc_gone "$pp" || fail "proxy $pp still running"
# jitter and both directions: 2 x (20±10) ms
out=$TMPDIR/o2; lp=$(freeport)
$MONI fault run net delay=20ms jitter=10ms listen="$lp" --port "$srv" --for 4s --out "$out" >/dev/null 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired ($out)"
read -r med _ mn mx < <($PY "$PEER" rtt "$lp" 30)
echo "delay=20ms jitter=10ms both ways: median ${med} ms, min ${mn}, max ${mx}"
awk -v m="$med" -v lo="$mn" -v hi="$mx" 'BEGIN{exit !(m >= 30 && m <= 75 && hi - lo >= 5)}' || fail "jitter not seen"
wait $moni || fail "jitter: moni exited $?"
# resets: every new connection
out=$TMPDIR/o3; lp=$(freeport)
$MONI fault run net reset=100% listen="$lp" --port "$srv" --for 3s --out "$out" >/dev/null 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired ($out)"
r=$($PY "$PEER" reset "$lp"); echo "reset=100%: client saw '$r'"
[ "$r" = reset ] || fail "connection not reset"
wait $moni || fail "reset: moni exited $?"
# stall: the first round trip waits for the stall to end
out=$TMPDIR/o4; lp=$(freeport)
$MONI fault run net stall=800ms listen="$lp" --port "$srv" --for 3s --out "$out" >/dev/null 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired ($out)"
ms=$($PY "$PEER" stall "$lp"); echo "stall=800ms: first round trip ${ms} ms"
awk -v x="$ms" 'BEGIN{exit !(x >= 500 && x <= 1200)}' || fail "stall not seen (${ms} ms)"
wait $moni || fail "stall: moni exited $?"
# bandwidth: 200K each way through rate=100K/s takes ~2 s (directions overlap)
out=$TMPDIR/o5; lp=$(freeport)
$MONI fault run net rate=100K/s listen="$lp" --port "$srv" --for 8s --out "$out" >/dev/null 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired ($out)"
read -r secs got < <($PY "$PEER" bulk "$lp" 204800)
echo "rate=100K/s: 200K echoed in ${secs} s ($got bytes)"
[ "$got" = 204800 ] || fail "bytes lost through the rate limit"
awk -v x="$secs" 'BEGIN{exit !(x >= 1.7 && x <= 3)}' || fail "rate limit not applied (${secs} s)"
kill -INT $moni; wait $moni
echo PASS
