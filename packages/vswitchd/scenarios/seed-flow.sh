#!/bin/sh
# The seeds' flow, end to end, in an ovs-sandbox: ovs-vsctl writes the
# configuration into OVSDB, ovs-vswitchd's bridge layer turns it into ofproto
# ports, dpif-netlink into netlink requests, the kernel model into vports.
# The first add-port is traced (--trace): its call path through every layer,
# each netlink message decoded, and what the kernel ran for it.
#   pnpm exec ovs-sandbox sh packages/vswitchd/scenarios/seed-flow.sh
set -e
run() {
  echo "\$ $*"
  "$@"
}
run ovs-kernel ip link add vethA type veth peer name vethB
run ovs-kernel ip link set vethA up
run ovs-kernel ip link set vethB up
run ovs-vsctl add-br br0
run ovs-vsctl --trace add-port br0 vethA
run ovs-vsctl add-port br0 int0 -- set Interface int0 type=internal
run ovs-vsctl add-port br0 vxlan0 -- set Interface vxlan0 type=vxlan options:remote_ip=192.0.2.1
run ovs-vsctl add-port br0 geneve0 -- set Interface geneve0 type=geneve options:remote_ip=192.0.2.1
run ovs-vsctl add-port br0 gre0 -- set Interface gre0 type=gre options:remote_ip=192.0.2.1
run ovs-vsctl add-br br1
run ovs-vsctl add-port br0 patch-a -- set Interface patch-a type=patch options:peer=patch-b -- add-port br1 patch-b -- set Interface patch-b type=patch options:peer=patch-a
run ovs-vsctl --columns=name,ofport,error list Interface vethA int0 vxlan0 geneve0 gre0 patch-a patch-b
run ovs-appctl dpif/show
run ovs-dpctl show
run ovs-vsctl del-port br0 int0
run ovs-appctl dpif/show
