#!/usr/bin/env bash
# moni record: a network interface created during the run (a dummy, else a veth
# pair, else a bridge) and deleted before its end is noted in meta.json once as
# appeared and once as disappeared, gets no columns (the header is fixed at start),
# and the net_* totals stay sane (never negative).  Needs root and iproute2.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
PY=/usr/bin/python3
out="$TMPDIR/run"
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
IF="mhp$$"   # <= 15 bytes (IFNAMSIZ)
PEER="${IF}p"
moni_pid=
cleanup() {
    ip link del "$IF" >/dev/null 2>&1
    ip link del "$PEER" >/dev/null 2>&1
    [ -n "$moni_pid" ] && kill "$moni_pid" 2>/dev/null
}
trap cleanup EXIT

# Which kind of link can we make here?  Try it once before the run.
kind=
for k in dummy veth bridge; do
    if [ "$k" = veth ]; then
        ip link add "$IF" type veth peer name "$PEER" >/dev/null 2>&1 || continue
    else
        ip link add "$IF" type "$k" >/dev/null 2>&1 || continue
    fi
    kind=$k
    cleanup
    break
done
[ -n "$kind" ] || skip "cannot create a network interface here (not root, or no dummy/veth/bridge support)"
add_link() {
    if [ "$kind" = veth ]; then
        ip link add "$IF" type veth peer name "$PEER"
    else
        ip link add "$IF" type "$kind"
    fi
}
# wait until the interface is gone (deletion is asynchronous for some kinds)
wait_until 5 eval '! grep -q "^ *$IF:" /proc/net/dev' || fail "$IF still listed before the run"

MONI_NVML_LIB=/nonexistent/libnvidia-ml.so.1 \
    "$MONI_BUILD/moni" record --out "$out" --interval 100ms --duration 3s 2>"$TMPDIR/err" &
moni_pid=$!
# add the link once a few samples were taken (the header is fixed by then), and
# delete it after a few more samples saw it
wait_for_lines "$out/samples.csv" 4 || fail "moni took no samples"
add_link || fail "ip link add $IF type $kind failed during the run"
ip link set "$IF" up >/dev/null 2>&1
rows=$(wc -l <"$out/samples.csv")
wait_for_lines "$out/samples.csv" $((rows + 4)) || fail "no samples after the link was added"
ip link del "$IF" || fail "ip link del $IF failed"
wait "$moni_pid"
rc=$?
moni_pid=
[ $rc -eq 0 ] || { cat "$TMPDIR/err"; fail "moni record exit $rc"; }

$PY - "$out" "$IF" <<'PYEOF' || exit 1
import csv, json, os, sys
d, ifname = sys.argv[1], sys.argv[2]
def fail(m):
    print("FAIL:", m); sys.exit(1)
meta = json.load(open(os.path.join(d, "meta.json")))
notes = meta.get("notes") or []
app = [n for n in notes if n.startswith("interface %s appeared at " % ifname)]
gone = [n for n in notes if n.startswith("interface %s disappeared at " % ifname)]
if len(app) != 1: fail("want one 'appeared' note for %s, notes: %r" % (ifname, notes))
if "counted in net_* totals; no per-device columns in this run" not in app[0]:
    fail("appeared note says %r" % app[0])
if len(gone) != 1: fail("want one 'disappeared' note for %s, notes: %r" % (ifname, notes))
if notes.index(app[0]) > notes.index(gone[0]): fail("disappeared noted before appeared")
rows = list(csv.reader(open(os.path.join(d, "samples.csv"))))
hdr, body = rows[0], rows[1:]
if len(body) < 20: fail("only %d rows" % len(body))
if any(len(r) != len(hdr) for r in body): fail("ragged rows")
if any(h.startswith("net_%s_" % ifname.replace("-", "_")) for h in hdr):
    fail("columns for an interface that appeared after start")
for col in ("net_rx_Bps", "net_tx_Bps", "net_rx_errors"):
    if col not in hdr: fail("no column " + col)
    i = hdr.index(col)
    vals = [float(r[i]) for r in body[1:] if r[i] != ""]
    if len(vals) < len(body) - 3: fail(col + " mostly missing")
    if any(v < 0 for v in vals): fail(col + " negative")
print("ok:", app[0], "|", gone[0])
PYEOF
echo "interface kind: $kind"
