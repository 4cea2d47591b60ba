#!/usr/bin/env bash
# Rules rewritten for speed (tests/data/rules-before-rewrite.json keeps their old
# pattern and prefilter) give the same records as before, all packs together and
# each rule alone, on the corpus, the test logs, the fuzz seeds, every rule's test
# lines, the bench mix and a mutated copy of them (tests/sh/rules_equiv.py).
set -u
. "$(dirname "$0")/lp_common.sh"
work="$TMPDIR/equiv"
mkdir -p "$work"
"$PY" "$MONI_SRC/tests/sh/rules_equiv.py" "$M" "$MONI_SRC" "$work" 20000 || fail "rewritten rules changed records"
exit 0
