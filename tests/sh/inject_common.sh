# tests/sh/inject_common.sh — shared by the in-process fault tests (sourced, not a
# test): the fault acts on tests/sh/inject_peer.py, and is gone after its revert and
# after SIGKILL of moni.
. "$MONI_SRC/tests/sh/wait_common.sh"
. "$MONI_SRC/tests/sh/run_common.sh"
export MONI_STATE_DIR=$TMPDIR/state
PEER=$MONI_SRC/tests/sh/inject_peer.py
inject_pids=()
trap 'for p in "${inject_pids[@]}"; do kill -9 $p 2>/dev/null; done' EXIT
status_is() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# inject_window NAME SPEC BAD GOOD PEER-ARGS...: the fault fires at 1s for 2s; the
# peer's status shows BAD (an ERE) while it fires and GOOD after it; the journal says
# effective (changed calls counted) and reverted.
inject_window() {
    local name=$1 spec=$2 bad=$3 good=$4; shift 4
    local out=$TMPDIR/$name-w st=$TMPDIR/$name-w.status
    "$M" run --out "$out" --duration 30s --fault "$spec@1s+2s" -- $PY "$PEER" "$st" "$@" \
        >"$TMPDIR/$name-w.log" 2>&1 &
    local moni=$!; inject_pids+=($moni)
    wait_until 20 status_is "$st" "$good" || fail "$name: the peer never worked ($(cat "$st" 2>/dev/null))"
    wait_until 20 status_is "$st" "$bad" || { cat "$TMPDIR/$name-w.log"; fail "$name: no effect while firing ($(cat "$st"))"; }
    echo "$name: while firing: $(cat "$st")"
    wait_for_file_line "$out/faults.jsonl" '"event":"reverted"' 20 || fail "$name: never reverted"
    wait_until 10 status_is "$st" "$good" || fail "$name: still changed after the revert ($(cat "$st"))"
    echo "$name: after the revert: $(cat "$st")"
    kill $moni; wait $moni 2>/dev/null
    grep '"event":"effective"' "$out/faults.jsonl" | grep -q '"changed_calls":[1-9]' ||
        fail "$name: effective without changed calls in the journal"
    grep -q '"event":"stopped"' "$out/faults.jsonl" || fail "$name: no stopped"
}

# inject_sigkill NAME SPEC BAD GOOD PEER-ARGS...: moni is SIGKILLed while the fault
# fires on a peer that outlives it; the peer's calls are normal again at once, and
# the guardian journals the rule cleared.
inject_sigkill() {
    local name=$1 spec=$2 bad=$3 good=$4; shift 4
    local out=$TMPDIR/$name-k st=$TMPDIR/$name-k.status
    "$M" run --out "$out" --duration 60s --fault "$spec@1s+50s" -- $PY "$PEER" --outlive "$st" "$@" \
        >"$TMPDIR/$name-k.log" 2>&1 &
    local moni=$!; inject_pids+=($moni)
    wait_until 20 status_is "$st" "$bad" || fail "$name: no effect before the SIGKILL ($(cat "$st" 2>/dev/null))"
    local wpid
    wpid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["workload"]["pid"])' "$out/meta.json")
    inject_pids+=($wpid)
    local t0; t0=$(now_us)
    kill -9 $moni
    wait_until 10 status_is "$st" "$good" || fail "$name: still changed after SIGKILL of moni ($(cat "$st"))"
    echo "$name: normal again $(( ($(now_us) - t0) / 1000 )) ms after SIGKILL of moni: $(cat "$st")"
    wait_for_file_line "$out/faults.jsonl" '"event":"reverted".*"by":"guardian"' 10 ||
        fail "$name: the guardian did not journal the revert"
    grep '"event":"reverted"' "$out/faults.jsonl" | grep -q 'in-process rule .*cleared' ||
        fail "$name: the guardian did not clear the rule"
    kill -9 "$wpid" 2>/dev/null
}
