#!/usr/bin/env bash
# The include graph points downward only: tests/check-layers.sh passes on the tree
# and fails on copies with an upward include planted in faults/, logparse/, core/.
set -eu
cd "${MONI_SRC:-$(dirname "$0")/../..}"
tests/check-layers.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
plant() { # file, include line, expected message part
    rm -rf "$tmp/t"; mkdir -p "$tmp/t/tests"
    cp -r core faults logparse "$tmp/t/"; cp tests/check-layers.sh "$tmp/t/tests/"
    echo "$2" >> "$tmp/t/$1"
    if out=$("$tmp/t/tests/check-layers.sh" 2>&1); then
        echo "FAIL: $1 with $2 passed the layer check"; exit 1
    fi
    grep -q "$3" <<<"$out" || { echo "FAIL: message for $1: $out"; exit 1; }
}
plant faults/table.c '#include "core/core.h"' 'faults/table.c:.*core/core.h'
plant logparse/parser.c '#include "faults/faults.h"' 'logparse/parser.c:.*faults/faults.h'
plant core/session.c '#include "tui/tui.h"' 'core/session.c:.*tui/tui.h'
plant core/plan.c '#  include "cmd/cmd.h"' 'core/plan.c:.*cmd/cmd.h'
plant core/base.h '#include "core/core.h"' 'core/base.h'
echo "layer check: tree clean, 5 planted upward includes caught"
