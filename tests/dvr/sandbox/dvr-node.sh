#!/usr/bin/env bash
# Build a DVR node's layout inside a private sandbox and capture its state.
#
#   unshare --mount --net --propagation private bash dvr-node.sh ROLE OUTDIR PYTHON
#
# ROLE is network (dvr_snat) or compute (dvr). Run only inside that unshare: it mounts
# a tmpfs over /run (so /run/netns and the OVS run/db/log dirs are private), starts its
# own ovsdb-server and ovs-vswitchd (userspace datapath, private sockets), builds the
# bridges, namespaces, devices and routes Neutron's DVR would, and writes
# OUTDIR/ROLE-ok.json, then one capture per broken thing (OUTDIR/ROLE-<break>.json).
# Only loopback and documentation addresses are used; nothing leaves the network
# namespace. On exit it kills the two daemons it started, by pid.
set -euo pipefail

ROLE=$1 OUT=$2 PY=$3

# Refuse to run outside a fresh network namespace (a host would have more than lo).
if [ "$(ip -o link show | grep -cv ": lo:")" != 0 ]; then
    echo "dvr-node.sh: not in a private network namespace; run it under unshare --net" >&2
    exit 2
fi

mount -t tmpfs -o mode=0755 tf-sandbox /run
mkdir -p /run/netns /run/tf-ovs/run /run/tf-ovs/db /run/tf-ovs/log /run/tf-ovs/etc
export OVS_RUNDIR=/run/tf-ovs/run OVS_DBDIR=/run/tf-ovs/db OVS_LOGDIR=/run/tf-ovs/log \
    OVS_SYSCONFDIR=/run/tf-ovs/etc OVS_PKGDATADIR=/usr/share/openvswitch
DB=unix:$OVS_RUNDIR/db.sock

PIDS=()
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
cleanup() {  # stop only the daemons this script started, by pid, and wait for them
    local pid i
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
}
trap cleanup EXIT

ovsdb-tool create "$OVS_DBDIR/conf.db" "$OVS_PKGDATADIR/vswitch.ovsschema"
ovsdb-server "$OVS_DBDIR/conf.db" --remote="p$DB" --detach --no-chdir -vconsole:off \
    --pidfile="$OVS_RUNDIR/ovsdb-server.pid" --unixctl="$OVS_RUNDIR/ovsdb-server.ctl" \
    --log-file="$OVS_LOGDIR/ovsdb-server.log"
PIDS+=("$(cat "$OVS_RUNDIR/ovsdb-server.pid")")
ovs-vsctl --db="$DB" --no-wait init
ovs-vswitchd "$DB" --detach --no-chdir -vconsole:off --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" \
    --unixctl="$OVS_RUNDIR/ovs-vswitchd.ctl" --log-file="$OVS_LOGDIR/ovs-vswitchd.log"
PIDS+=("$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")")

vsctl() { ovs-vsctl --db="$DB" --timeout=20 "$@"; }

# Neutron ids (fixed, so captures are comparable); device names are prefix + id, 14 chars.
R=5f2c7e0a-3b1d-4c6e-9a8f-0d1e2f3a4b5c        # router
NET=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d      # tenant network 192.0.2.0/24
EXT=e0e1e2e3-e4e5-4e6e-8e9e-aeb0c0d0e0f0      # external network 203.0.113.0/24
QR=qr-1a2b3c4d-5e  QG=qg-2b3c4d5e-6f  SG=sg-3c4d5e6f-70  FG=fg-4d5e6f70-81  DHCP=tap5e6f7081-92
RFP=rfp-5f2c7e0a-3 FPR=fpr-5f2c7e0a-3

ip link set lo up
if [ "$ROLE" = network ]; then LOCAL=127.0.0.1 REMOTE=127.0.0.2; else LOCAL=127.0.0.2 REMOTE=127.0.0.1; fi

# R26: bridges (userspace datapath, secure fail mode), patch ports, vxlan, br-ex port.
for br in br-int br-tun br-ex; do
    vsctl --may-exist add-br "$br" -- set Bridge "$br" datapath_type=netdev fail_mode=secure
    ip link set "$br" up
done
vsctl --may-exist add-port br-int patch-tun -- set Interface patch-tun type=patch options:peer=patch-int
vsctl --may-exist add-port br-tun patch-int -- set Interface patch-int type=patch options:peer=patch-tun
vsctl --may-exist add-port br-int int-br-ex -- set Interface int-br-ex type=patch options:peer=phy-br-ex
vsctl --may-exist add-port br-ex phy-br-ex -- set Interface phy-br-ex type=patch options:peer=int-br-ex
vsctl --may-exist add-port br-tun vxlan-7f000002 -- set Interface vxlan-7f000002 type=vxlan \
    options:local_ip=$LOCAL options:remote_ip=$REMOTE options:in_key=flow options:out_key=flow
ip link add eth1 type veth peer name eth1-peer
ip link set eth1 up && ip link set eth1-peer up
vsctl --may-exist add-port br-ex eth1

# An OVS internal port on br-int, moved into a namespace with an address.
plug() {  # plug NS DEV ADDR
    vsctl --may-exist add-port br-int "$2" -- set Interface "$2" type=internal
    ip link set "$2" netns "$1"
    ip -n "$1" link set "$2" up
    [ -z "$3" ] || ip -n "$1" addr add "$3" dev "$2"
}
ns() { ip netns add "$1"; ip -n "$1" link set lo up; }

ns "qrouter-$R"
plug "qrouter-$R" "$QR" 192.0.2.1/24
if [ "$ROLE" = network ]; then
    ip addr add 203.0.113.2/24 dev br-ex                  # host address: connected route via br-ex
    ns "qdhcp-$NET";  plug "qdhcp-$NET" "$DHCP" 192.0.2.2/24
    ns "snat-$R";     plug "snat-$R" "$QG" 203.0.113.100/24; plug "snat-$R" "$SG" 192.0.2.3/24
else
    ip route replace 203.0.113.0/24 dev br-ex             # R29: host reaches floating IPs via br-ex
    ns "fip-$EXT";    plug "fip-$EXT" "$FG" 203.0.113.102/24
    # rfp/fpr pair (Neutron takes a /31 from 169.254.64.0/18; documentation range here).
    ip link add "$RFP" type veth peer name "$FPR"
    ip link set "$RFP" netns "qrouter-$R"; ip link set "$FPR" netns "fip-$EXT"
    ip -n "qrouter-$R" addr add 198.51.100.200/31 dev "$RFP"; ip -n "qrouter-$R" link set "$RFP" up
    ip -n "fip-$EXT" addr add 198.51.100.201/31 dev "$FPR"; ip -n "fip-$EXT" link set "$FPR" up
    ip -n "fip-$EXT" route replace 203.0.113.101 via 198.51.100.200 dev "$FPR"
fi

host=cmp1; [ "$ROLE" = network ] && host=net1
snap() { "$PY" -m tenantfusion.dvr capture --host "$host" -o "$OUT/$ROLE-$1.json" >/dev/null; }

snap ok
# One break at a time, each restored before the next.
vsctl del-port br-ex eth1; snap no-brex-port; vsctl --may-exist add-port br-ex eth1
if [ "$ROLE" = network ]; then
    ip netns del "qdhcp-$NET"; snap no-qdhcp
else
    ip route replace 203.0.113.0/24 dev eth1-peer; snap wrong-route
    ip route replace 203.0.113.0/24 dev br-ex
    ip netns del "fip-$EXT"; snap no-fip-ns
fi
echo "sandbox $ROLE: done"
