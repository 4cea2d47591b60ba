#!/usr/bin/env bash
# The bash completion completes subcommands, fault kinds, themes and options.
set -u
C="$MONI_SRC/man/moni.bash-completion"
[ -r "$C" ] || { echo "FAIL: $C missing"; exit 1; }
export PATH="$MONI_BUILD:$PATH" MONI_DATA_DIR="$MONI_SRC"
bash --norc --noprofile -c '
set -u
source "$1"
fail() { echo "FAIL: $*"; exit 1; }
# comp WORDS... : completes the last word; prints COMPREPLY sorted
comp() {
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _moni moni "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
}
has() { [[ " $1 " == *" $2 "* ]] || fail "completing [$3] gave [$1], lacks $2"; }
r=$(comp moni re); has "$r" record "moni re"; has "$r" recover "moni re"
[[ "$r" != *run* ]] || fail "moni re offers run"
r=$(comp moni ""); for c in run record fault parse diagnose doctor alerts grafana; do has "$r" $c "moni"; done
r=$(comp moni fault run ""); for k in cpu mem disk_fill io net kill stop; do has "$r" $k "fault run"; done
r=$(comp moni fault run cp); [ "$r" = "cpu " ] || fail "fault run cp -> [$r]"
r=$(comp moni run --fault d); has "$r" "disk_fill:" "--fault d"
r=$(comp moni --theme ""); for t in default light high-contrast colorblind; do has "$r" $t "--theme"; done
r=$(comp moni --theme hi); [ "$r" = "high-contrast " ] || fail "--theme hi -> [$r]"
r=$(comp moni record --m); has "$r" --metrics-listen "record --m"
r=$(comp moni record --out /tmp --d); has "$r" --duration "record --d"
r=$(comp moni --me); has "$r" --metrics-listen "console --me"
r=$(comp moni parse --format ""); has "$r" jsonl "--format"; has "$r" csv "--format"
r=$(comp moni alerts ""); has "$r" export "alerts"
r=$(comp moni alerts export --); has "$r" --rules "alerts export"
r=$(comp moni grafana ""); has "$r" export "grafana"
r=$(comp moni -- ech); has "$r" echo "after --"
echo ok
' _ "$C"
