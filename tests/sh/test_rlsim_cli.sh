#!/usr/bin/env bash
# moni-rlsim command line: bad flags and port collisions are one clear line and
# exit 2, before any process is started.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
B=${MONI_BUILD:?MONI_BUILD not set}/moni-rlsim
[ -x "$B" ] || { echo "skip: $B not built"; exit 77; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rlsim-cli.XXXXXX")
PY=/usr/bin/python3
trap 'rm -rf "$D"; [ -n "${HOLD:-}" ] && kill "$HOLD" 2>/dev/null' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_usage() { # expected-substring args...
    local want=$1; shift
    "$B" "$@" >"$D/out" 2>"$D/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "'$*': exit $rc, expected 2"
    [ "$(wc -l <"$D/err")" -eq 1 ] || fail "'$*': stderr is not one line: $(cat "$D/err")"
    grep -q "^moni-rlsim: " "$D/err" || fail "'$*': no moni-rlsim: prefix"
    grep -qF -- "$want" "$D/err" || fail "'$*': stderr lacks '$want': $(cat "$D/err")"
    [ -s "$D/out" ] && fail "'$*': wrote to stdout"
    return 0
}
expect_usage "unknown option '--bogus'" --bogus
expect_usage "'--steps' needs a value" --steps
expect_usage "--steps: expected a number" --steps abc
expect_usage "--train-workers: expected a worker count" --train-workers 0
expect_usage "--weight-sync: expected 'meta' or 'disk'" --weight-sync nfs
expect_usage "--request-timeout: expected a duration" --request-timeout 5parsecs
expect_usage "--gpu-mem: expected a size" --gpu-mem lots
expect_usage "--train-meta-port: expected WORKER=PORT" --train-meta-port 5
expect_usage "worker 7 does not exist" --train-meta-port 7=4000
expect_usage "--colocate pairs" --colocate --train-workers 2
expect_usage "--time-scale" --time-scale 0
expect_usage "unexpected argument 'oops'" oops
"$B" --help >"$D/out" 2>&1 || fail "--help exit $?"
grep -q "usage: moni-rlsim" "$D/out" || fail "--help text"

# port collision: hold a port, then ask for it as the MetaServer port
$PY -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$D/port" &
HOLD=$!
wait_until 10 test -s "$D/port"
P=$(cat "$D/port")
[ -n "$P" ] || fail "could not hold a port"
"$B" --quick --steps 1 --meta-port "$P" --log-dir "$D/run" >"$D/out" 2>"$D/err"
rc=$?
[ $rc -eq 2 ] || fail "collision: exit $rc, expected 2"
[ "$(wc -l <"$D/err")" -eq 1 ] || fail "collision: not one line: $(cat "$D/err")"
grep -q "cannot listen on 127.0.0.1:$P (metaserver): Address already in use" "$D/err" || fail "collision text: $(cat "$D/err")"
[ -e "$D/run/controller.log" ] && fail "collision: a run was started"
# a base port whose 4th slot (train_worker_1) is taken.  The three slots below it
# must be free: when another program holds one of them (tests run beside other
# work), the error names that slot instead; try again lower down.
ok=0
for base in $((P - 3)) $((P - 13)) $((P - 23)) $((P - 33)); do
    kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null
    $PY -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); print("held", flush=True); time.sleep(60)' $((base + 3)) >"$D/held" 2>/dev/null &
    HOLD=$!
    # held, or the holder gave up (the port was taken by someone else)
    wait_until 10 eval '[ -s "$D/held" ] || proc_gone $HOLD'
    [ -s "$D/held" ] || continue
    "$B" --quick --steps 1 --base-port "$base" --log-dir "$D/run" >"$D/out" 2>"$D/err"
    rc=$?
    [ $rc -eq 2 ] || fail "base-port collision: exit $rc"
    if grep -q "(train_worker_1): Address already in use" "$D/err"; then ok=1; break; fi
    grep -q "Address already in use" "$D/err" || fail "base-port collision text: $(cat "$D/err")"
done
[ $ok = 1 ] || fail "base-port collision: no free slots below any held port: $(cat "$D/err")"
echo "ok: cli errors"
exit 0
