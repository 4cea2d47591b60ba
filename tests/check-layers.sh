#!/usr/bin/env bash
# tests/check-layers.sh — fails (exit 1) when an #include points up the layer graph:
#   (tui, cmd) -> core -> (logparse, faults) -> base (core/base.h)
# faults/ and logparse/ may include only core/base.h of core; core/ never includes
# tui/ or cmd/; base.h includes no moni header at all.  The Makefile runs this
# before compiling anything, so a wrong include fails the build, not just a test.
set -u
cd "$(dirname "$0")/.."
bad=0
complain() { echo "layers: $1:$2: includes \"$3\": $4" >&2; bad=1; }
check() { # folder-glob, allowed-regex, reason
    local f line inc
    for f in $1; do
        [ -e "$f" ] || continue
        while IFS=: read -r line inc; do
            inc=${inc#*\"}; inc=${inc%%\"*}
            [[ $inc =~ $2 ]] || complain "$f" "$line" "$inc" "$3"
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
    done
}
check 'faults/*.c faults/*.h' '^(core/base\.h|faults/[^/]+\.h)$' \
    'faults/ may include only core/base.h and its own headers'
check 'logparse/*.c logparse/*.h' '^(core/base\.h|logparse/[^/]+\.h)$' \
    'logparse/ may include only core/base.h and its own headers'
check 'core/*.c core/*.h' '^(core|faults|logparse)/' \
    'core/ never includes tui/ or cmd/'
check 'core/base.h' '^$' 'the base header includes no other moni header'
exit $bad
