# tests/sh/lp_common.sh — shared by the test_parse_* and test_diagnose_* scripts:
# the moni binary, the built-in packs (wherever the build dir is) and helpers.
M="$MONI_BUILD/moni"
. "$MONI_SRC/tests/sh/wait_common.sh"
LOGS="$MONI_SRC/tests/data/logs"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$M" ] || { echo "moni not built at $M"; exit 77; }
# The build dir may be outside the tree: point the data dir at the source packs.
mkdir -p "$TMPDIR/data"
ln -sfn "$MONI_SRC/logparse/rules" "$TMPDIR/data/rules"
export MONI_DATA_DIR="$TMPDIR/data"
# Keep the user's own packs out of the tests.
export XDG_CONFIG_HOME="$TMPDIR/xdg"
export TZ=UTC
