#!/usr/bin/env bash
# Every man page lints clean: `mandoc -Tlint -Wstyle` (Debian's mandoc) may report
# style suggestions, nothing above (WARNING, ERROR, UNSUPP).  Also checks that the
# pages DESIGN.md promises exist.
set -u
cd "$MONI_SRC"
command -v mandoc >/dev/null || { echo "skipped: mandoc not installed (Debian package mandoc)"; exit 77; }
fail=0
for want in man/moni.1; do
    [ -e "$want" ] || { echo "FAIL: $want is missing"; fail=1; }
done
n=0
for f in man/*.[157]; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    # mandoc's own notes about the system's mandoc.db are not about the page
    out=$(mandoc -Tlint -Wstyle "$f" 2>&1 | grep -v 'outdated mandoc.db')
    bad=$(grep -E ': (WARNING|ERROR|UNSUPP|BADARG|SYSERR):' <<<"$out")
    if [ -n "$bad" ]; then
        echo "FAIL: $f:"; echo "$bad" | sed 's/^/  /'; fail=1
    fi
    # and it renders
    mandoc -Tutf8 "$f" >/dev/null 2>&1 || { echo "FAIL: $f does not render"; fail=1; }
done
[ $n -gt 0 ] || { echo "FAIL: no man pages"; exit 1; }
[ $fail -eq 0 ] || exit 1
echo "ok: $n pages"
