#!/usr/bin/env bash
# test_tui_faults_inject.sh — the in-process and cgroup fault kinds, 10 to 14 in the
# table (fs, dns, connect, clock, straggler), armed, fired and stopped from the
# keyboard in tmux through the same forms as the classic kinds: `0` selects kind 10
# and, pressed again, the next ones.  fs slows moni-train's shard reads (effective
# once a read is changed), dns needs its host (a form without one is refused and
# journals nothing), connect and clock take their defaults or one field, straggler
# its default quota (failed, with the reason on its row, where the machine has no
# writable cgroup cpu controller).  Each row reads armed, firing, stopped; the
# journal has fired and reverted for each, with its kind's label kind.
. "$(dirname "$0")/tui_common.sh"
[ -x "${TRAIN[0]}" ] || { echo "skipped: moni-train not built"; exit 77; }
R="$W/run"
J="$R/faults.jsonl"
start 120 40 -- --out "$R" --interval 500ms -- "${TRAIN[@]}"
wait_for "loss [0-9]" 30

# pick N: kind N (10-14) with `0` pressed N-9 times after `1`
pick() {
    local i
    keys 1
    wait_for ">1 cpu " 5
    for ((i = 10; i <= $1; i++)); do
        keys 0
        wait_for ">$i " 5
    done
}
# cycle N KIND ID [FIELD_ERE VALUE]...: arm with those fields, fire, stop, reverted
cycle() {
    local n=$1 kind=$2 id=$3
    shift 3
    pick "$n"
    wait_for ">$n $kind " 5
    keys a
    wait_for "arm $kind" 5
    while [ $# -ge 2 ]; do
        focus "$1"
        keys -l "$2"
        wait_for "│ $1 +[^│]*${2: -10}_" 5        # a long value scrolls in its field
        shift 2
    done
    keys Enter
    wait_for ">$n $kind +armed" 10
    keys f
    wait_for ">$n $kind +(firing|failed)" 10
    if screen_has ">$n $kind +failed"; then
        echo "$kind: failed on this machine: $(grep "\"fault_id\":\"$id\"" "$J" | grep -o '"reason":"[^"]*"' | head -n 1)"
        return 1
    fi
    wait_until 10 journal_has "$J" fired "$id" || fail "$kind never fired"
    [ "$kind" != "${EFFECTIVE:-}" ] || wait_until 60 journal_has "$J" effective "$id" ||
        fail "$kind never effective: $(grep "\"fault_id\":\"$id\"" "$J")"
    keys s
    wait_for ">$n $kind +stopped" 10
    wait_until 15 journal_has "$J" reverted "$id" || fail "$kind not reverted"
    grep "\"event\":\"fired\",\"fault_id\":\"$id\"" "$J" | grep -q "\"kind\":\"$kind\".*\"label_kind\":\"interval\"\|\"label_kind\":\"interval\".*\"kind\":\"$kind\"" ||
        fail "$kind: the fired line lacks its kind or label kind: $(grep "\"fault_id\":\"$id\"" "$J" | head -n 2)"
    echo "$kind: armed, fired, stopped and reverted from the keyboard"
}

# ---- fs (10): every read of the training shards waits 1 ms; the trainer re-reads
# them every epoch, so the library counts changed calls
EFFECTIVE=fs cycle 10 fs f1 "ops" "read" "delay \(s\)" "1ms" "path" "$W/train-data" ||
    fail "fs failed: $(cat "$J")"
grep '"event":"effective","fault_id":"f1"' "$J" | grep -q '"changed_calls":[1-9]' ||
    fail "fs: no changed calls journalled: $(grep f1 "$J")"
keys Enter                                  # the drill-down of an in-process kind
wait_for "fault fs \(j/k scroll" 5
wait_for "effect +effective" 5
keys Escape
wait_gone_from_screen "fault fs \(j/k scroll"

# ---- dns (11): the host is required; the form says so and journals nothing
pick 11
keys a
wait_for "arm dns" 5
before=$(journal_lines)
keys Enter
wait_for "host: give the host names" 10
[ "$(journal_lines)" = "$before" ] || fail "a refused dns form was journalled: $(tail -n 1 "$J")"
keys Escape
wait_gone_from_screen "arm dns" 5
cycle 11 dns f2 "host" "localhost" || fail "dns failed"

# ---- connect (12): its defaults (refuse, any address); clock (13): an hour ahead
cycle 12 connect f3 || fail "connect failed"
cycle 13 clock f4 "offset \(s\)" "3600" || fail "clock failed"

# ---- straggler (14): the default quota of half a CPU
if cycle 14 straggler f5; then
    grep -q '"event":"reverted","fault_id":"f5"' "$J" || fail "straggler not reverted"
else
    grep '"fault_id":"f5"' "$J" | grep -q '"event":"failed".*cgroup' ||
        fail "straggler failed for another reason than the cgroup: $(grep f5 "$J")"
fi

keys q
rc=$(wait_exit 30)
echo "moni exited $rc"
grep '"event":"failed"' "$J" | grep -v '"fault_id":"f5"' && fail "a fault failed"
echo PASS
