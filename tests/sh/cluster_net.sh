# tests/sh/cluster_net.sh — sourced by the cluster test and the late-tick bench (not a
# test itself): the "nodes" of a cluster on one host.  Each node gets its own network
# namespace (a veth to a bridge in the root namespace, its own address in a /24 no
# other run holds) and its own host name (a UTS namespace), so that moni's node label
# is the node's host name and Prometheus, in the root namespace, scrapes the node's own
# address.  Where a namespace cannot be made (not root, no CAP_NET_ADMIN, no veth or
# bridge in the kernel), or MONI_TEST_NETNS=0 asks for it, every node is a port on
# 127.0.0.1 and MONI_NODE names it.  CNET_MODE says which: netns or ports.
#
# Names carry the PID of the shell that sources this (namespaces moni-PID-NODE, bridge
# mnbPID, veths mnvPIDnI), so parallel runs never clash.  cnet_down removes all of it;
# a run killed before its trap ran (SIGKILL) leaves names whose PID is gone, and the
# next run removes those.
#
#   cnet_up NODE...          make the nodes; sets CNET_MODE (and CNET_WHY in ports mode)
#   cnet_run NODE CMD ARG... exec CMD as that node (run it with & to get its pid)
#   cnet_listen NODE         ADDR:PORT for that node's --metrics-listen
#   cnet_addr NODE           the node's address
#   cnet_down                remove the namespaces, veths and bridge (idempotent)
#   cnet_leftovers           this run's namespaces and links still present (empty: none)

CNET_ID=$$
CNET_BRIDGE="mnb$CNET_ID"
CNET_PORT=9464          # every namespace has its own address: one port for all
CNET_MODE=ports
CNET_WHY=
CNET_NET=
CNET_NODES=()
declare -A CNET_IP=() CNET_LISTEN=()

cnet_ns() { echo "moni-$CNET_ID-$1"; }

# a free TCP port on 127.0.0.1 (ports mode)
cnet_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Remove what runs killed by SIGKILL left: names of ours whose PID no longer exists.
cnet_sweep_dead() {
    local n pid l
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^moni-[0-9]+-'); do
        pid=${n#moni-}; pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null || ip netns del "$n" 2>/dev/null
    done
    for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
               grep -E '^mn[bv][0-9]+'); do
        pid=${l#mn?}; pid=${pid%%n*}
        kill -0 "$pid" 2>/dev/null || ip link del "$l" 2>/dev/null
    done
}

# A /24 under 10.77 that no interface of the root namespace holds.  Called with the
# lock held, so that two runs starting together cannot take the same one.
cnet_free_net() {
    local used k
    used=$(ip -4 -o addr show 2>/dev/null | grep -Eo ' 10\.77\.[0-9]+\.' | sort -u)
    for ((k = 1; k < 255; k++)); do
        grep -qx " 10\.77\.$k\." <<<"$used" || { echo "10.77.$k"; return 0; }
    done
    return 1
}

# ip ARGS..., keeping why it failed in CNET_WHY
cnet_ip() {
    local out
    out=$(ip "$@" 2>&1) && return 0
    CNET_WHY="ip $*: ${out:-failed}"
    return 1
}

# The bridge, namespaces and veths; returns non-zero at the first step that fails,
# with CNET_WHY saying which.
cnet_make() {
    local lockfd node ns i=0 veth rc=0
    mkdir -p /run/netns 2>/dev/null && exec {lockfd}</run/netns && flock "$lockfd" ||
        { CNET_WHY="cannot lock /run/netns"; return 1; }
    cnet_sweep_dead
    CNET_NET=$(cnet_free_net) || { CNET_WHY="no free 10.77.K.0/24"; rc=1; }
    [ $rc = 0 ] && { cnet_ip link add "$CNET_BRIDGE" type bridge &&
        cnet_ip addr add "$CNET_NET.1/24" dev "$CNET_BRIDGE" &&
        cnet_ip link set "$CNET_BRIDGE" up || rc=1; }
    exec {lockfd}<&-
    [ $rc = 0 ] || return 1
    for node in "${CNET_NODES[@]}"; do
        i=$((i + 1)); ns=$(cnet_ns "$node"); veth="mnv${CNET_ID}n$i"
        CNET_IP[$node]="$CNET_NET.$((10 + i))"
        CNET_LISTEN[$node]="${CNET_IP[$node]}:$CNET_PORT"
        cnet_ip netns add "$ns" &&
            cnet_ip link add "$veth" type veth peer name eth0 netns "$ns" &&
            cnet_ip link set "$veth" master "$CNET_BRIDGE" &&
            cnet_ip link set "$veth" up &&
            cnet_ip -n "$ns" addr add "${CNET_IP[$node]}/24" dev eth0 &&
            cnet_ip -n "$ns" link set lo up &&
            cnet_ip -n "$ns" link set eth0 up || return 1
    done
}

cnet_up() {
    CNET_NODES=("$@")
    CNET_WHY=
    local node
    if [ "${MONI_TEST_NETNS:-1}" = 0 ]; then
        CNET_WHY="MONI_TEST_NETNS=0"
    elif ! command -v ip >/dev/null || ! command -v nsenter >/dev/null ||
         ! command -v unshare >/dev/null || ! command -v flock >/dev/null; then
        CNET_WHY="ip, nsenter, unshare or flock missing"
    elif cnet_make; then
        CNET_MODE=netns
        return 0
    fi
    cnet_down
    CNET_MODE=ports
    for node in "${CNET_NODES[@]}"; do
        CNET_IP[$node]=127.0.0.1
        CNET_LISTEN[$node]="127.0.0.1:$(cnet_free_port)"
    done
}

cnet_addr() { echo "${CNET_IP[$1]}"; }
cnet_listen() { echo "${CNET_LISTEN[$1]}"; }

# exec CMD as NODE: in its network namespace with its host name (the shell only sets
# the host name of the new UTS namespace, then execs CMD: the pid stays CMD's), or,
# in ports mode, with MONI_NODE naming it.
cnet_run() {
    local node=$1; shift
    if [ "$CNET_MODE" = netns ]; then
        exec nsenter --net="/run/netns/$(cnet_ns "$node")" \
            unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' "$node" "$@"
    fi
    exec env MONI_NODE="$node" "$@"
}

cnet_leftovers() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^moni-$CNET_ID-"
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
        grep -E "^mn[bv]${CNET_ID}(n[0-9]+)?$"
}

# Namespaces first (a namespace still holding a process lives on, so the veth is also
# deleted by name: deleting one end of a veth deletes both), then the bridge.
cnet_down() {
    local node i=0
    command -v ip >/dev/null || return 0
    for node in "${CNET_NODES[@]}"; do
        i=$((i + 1))
        ip netns del "$(cnet_ns "$node")" 2>/dev/null
        ip link del "mnv${CNET_ID}n$i" 2>/dev/null
    done
    ip link del "$CNET_BRIDGE" 2>/dev/null
    return 0
}
