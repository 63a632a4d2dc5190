#!/bin/bash
# Runs inside the kernel lab: what real ovs-vswitchd 3.1 (MODE=real) or ours
# (MODE=ours, --system) does when the datapath vanishes under it (ovs-dpctl
# del-dp, then rmmod/modprobe openvswitch). Prints the kernel's view, the
# Interface table and the log after each step.
set -u
MODE=${MODE:-real}
D=/tmp/faults-$MODE; rm -rf "$D"; mkdir -p "$D"; export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D
ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$D/conf.db" --remote=punix:"$D/db.sock" --pidfile="$D/ovsdb-server.pid" --detach --log-file="$D/ovsdb-server.log" || exit 3
ovs-vsctl --no-wait init
start_vswitchd() {
  if [ "$MODE" = real ]; then
    ovs-vswitchd unix:"$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" --detach --log-file="$D/ovs-vswitchd.log" || exit 3
  else
    ( cd /project && exec node packages/vswitchd/bin/ovs-vswitchd.js --system unix:"$D/db.sock" --log-file="$D/ovs-vswitchd.log" ) >> "$D/ours.out" 2>&1 &
    for i in $(seq 1 100); do [ -f "$D/ovs-vswitchd.pid" ] && ls "$D"/ovs-vswitchd.*.ctl >/dev/null 2>&1 && break; sleep 0.2; done
  fi
}
start_vswitchd
V="ovs-vsctl --timeout=20"
state() {
  echo "=== $1"
  ovs-dpctl show 2>&1 | sed -E 's/(lookups|masks|flows|caches|cache):.*/\1: <stats>/'
  echo "--- ip link: $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')"
  ovs-vsctl --timeout=5 --columns=name,ofport,error list Interface | grep -v '^$' | paste - - - | sort
  ovs-vsctl --timeout=5 get Open_vSwitch . next_cfg cur_cfg | tr '\n' ' '; echo
  ovs-appctl -t "$D/ovs-vswitchd.$(cat $D/ovs-vswitchd.pid).ctl" dpif/show 2>&1
  echo "--- new log lines"; sed -E 's/^[^|]*\|[0-9]+\|//' "$D/ovs-vswitchd.log" | tail -n +$((LOGSEEN+1)) | grep -v -E 'memory|INFO\|(ofproto_dpif_upcall|connmgr)' | head -40
  LOGSEEN=$(wc -l < "$D/ovs-vswitchd.log")
}
LOGSEEN=0
ip link add v0 type veth peer name v1
$V add-br br0 -- add-port br0 i0 -- set Interface i0 type=internal -- add-port br0 v0 \
  -- add-port br0 vx0 -- set Interface vx0 type=vxlan options:remote_ip=192.0.2.1
state "configured"
ovs-dpctl del-dp ovs-system; echo "del-dp: $?"
sleep 3
state "3 s after ovs-dpctl del-dp ovs-system"
$V add-port br0 i1 -- set Interface i1 type=internal; echo "add-port i1: $?"
sleep 2
state "after add-port i1"
$V del-port br0 i1; echo "del-port i1: $?"
sleep 1
state "after del-port i1"
# The module reloaded under the running daemon.
ovs-vsctl --timeout=5 del-port br0 vx0
sleep 1
lsmod | grep -E '^(openvswitch|vport)'
rmmod openvswitch; echo "rmmod: $?"
sleep 1
modprobe openvswitch; echo "modprobe: $?"
sleep 3
state "3 s after rmmod + modprobe openvswitch"
$V add-port br0 i2 -- set Interface i2 type=internal; echo "add-port i2: $?"
sleep 2
state "after add-port i2"
if [ "$MODE" = real ]; then
  ovs-appctl -t "$D/ovs-vswitchd.$(cat $D/ovs-vswitchd.pid).ctl" exit
  sleep 1; start_vswitchd; sleep 3
  state "after restarting ovs-vswitchd"
fi
ovs-appctl -t "$D/ovs-vswitchd.$(cat $D/ovs-vswitchd.pid).ctl" exit >/dev/null 2>&1 || kill "$(cat "$D/ovs-vswitchd.pid")"
kill "$(cat "$D/ovsdb-server.pid")" 2>/dev/null
sleep 1
