#!/usr/bin/env bash
# `moni fault list` prints no limit the parser rejects (issue 14, item 16: sizes were
# printed as "1.00P", durations as "1m00s"): every printed MIN..MAX of every kind is
# fed back as key=MIN and key=MAX through `moni run --dry-run --fault`, and no
# parameter error may name it.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
"$M" fault list >"$TMPDIR/list" || fail "fault list failed"
kind="" n=0
while IFS= read -r line; do
    case "$line" in
    [a-z]*" — "*) kind=${line%% *}; continue ;;
    "  "[a-z]*=*) ;;
    *) continue ;;
    esac
    key=${line#  }; key=${key%%=*}
    lim=$(grep -oE '[^ ]+\.\.[^ ]+' <<<"$line" | head -1)
    [ -n "$lim" ] || continue
    case "$lim" in *"|"*) continue ;; esac
    for v in "${lim%%..*}" "${lim##*..}"; do
        err=$("$M" run --dry-run --fault "$kind:$key=$v@0s" -- true 2>&1 >/dev/null)
        n=$((n + 1))
        case "$err" in *"$key=$v:"*) fail "$kind: the printed limit $key=$v is rejected: $err" ;; esac
    done
done <"$TMPDIR/list"
[ $n -ge 40 ] || fail "only $n limits checked: is the list format still parsed?"
echo "checked $n limits"
echo PASS
