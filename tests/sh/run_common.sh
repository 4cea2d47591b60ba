# tests/sh/run_common.sh — shared by test_run_*.sh: paths, data dir, helpers.
M="$MONI_BUILD/moni"
. "$MONI_SRC/tests/sh/wait_common.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
# The built-in rule packs and examples from the source tree (the build dir may be
# anywhere).
if [ -z "${MONI_DATA_DIR:-}" ]; then
    export MONI_DATA_DIR="$TMPDIR/data"
    mkdir -p "$MONI_DATA_DIR"
    ln -sfn "$MONI_SRC/logparse/rules" "$MONI_DATA_DIR/rules"
    ln -sfn "$MONI_SRC/examples" "$MONI_DATA_DIR/examples"
fi
# moni-train's corpus cache is shared by the runs of one test
export TMPDIR
