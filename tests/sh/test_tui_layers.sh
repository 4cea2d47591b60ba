#!/usr/bin/env bash
# The console is a view over core: tui/ reaches faults and the log parser only
# through core's runner API (core/runner-ctl.c), so no tui/ file includes faults/ or
# logparse/ headers.  (The command front-ends tui/cmd-*.c and tui/main.c are leaving
# for cmd/ and are not checked here.)  The check itself is tested on a planted file.
set -u
cd "$MONI_SRC"
check() { # files... -> prints "FILE:LINE: include" for every forbidden include
    grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(faults|logparse)/' "$@" /dev/null
}
files=()
for f in tui/*.c tui/*.h; do
    case "$f" in tui/cmd-*.c|tui/main.c) continue ;; esac
    files+=("$f")
done
[ ${#files[@]} -gt 5 ] || { echo "FAIL: only ${#files[@]} tui files found"; exit 1; }
bad=$(check "${files[@]}")
[ -z "$bad" ] || { echo "FAIL: tui/ includes below core:"; echo "$bad"; exit 1; }
# the check finds a planted include
t=$(mktemp "${TMPDIR:-/tmp}/moni-layer.XXXXXX.c")
printf '#include "tui/tui.h"\n#include "faults/faults.h"\n' > "$t"
check "$t" | grep -q ':2:' || { rm -f "$t"; echo "FAIL: the check missed a planted include"; exit 1; }
rm -f "$t"
echo "ok: ${#files[@]} tui files include only core"
