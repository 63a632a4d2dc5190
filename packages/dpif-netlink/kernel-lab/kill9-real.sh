#!/bin/bash
# Runs inside the kernel lab: ovs-vswitchd (MODE=real: Debian's 3.1; MODE=ours:
# the project's, --system) killed with SIGKILL while it adds the ports of one
# big ovs-vsctl transaction, then started again. Prints the datapath, the
# devices and the Interface numbers before and after.
set -u
MODE=${MODE:-real}; N=${N:-400}
D=/tmp/kill9-$MODE; rm -rf "$D"; mkdir -p "$D"; export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D
ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$D/conf.db" --remote=punix:"$D/db.sock" --pidfile="$D/ovsdb-server.pid" --detach --log-file="$D/ovsdb-server.log" || exit 3
ovs-vsctl --no-wait init
start_vswitchd() {
  rm -f "$D/ovs-vswitchd.pid"
  if [ "$MODE" = real ]; then
    ovs-vswitchd unix:"$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" --detach --log-file="$D/ovs-vswitchd.log" || exit 3
  else
    ( cd /project && exec node packages/vswitchd/bin/ovs-vswitchd.js --system unix:"$D/db.sock" --log-file="$D/ovs-vswitchd.log" ) >> "$D/ours.out" 2>&1 &
    for i in $(seq 1 100); do [ -f "$D/ovs-vswitchd.pid" ] && break; sleep 0.2; done
  fi
}
ifaces() { ovs-vsctl --timeout=5 --bare --columns=name,ofport list Interface | paste -d' ' - - - | sort; }
start_vswitchd
V="ovs-vsctl --timeout=60"
$V add-br br0
$V add-port br0 keep0 -- set Interface keep0 type=internal -- add-port br0 vx0 -- set Interface vx0 type=vxlan options:remote_ip=192.0.2.1
$V add-port br0 keep1 -- set Interface keep1 type=internal ofport_request=77
$V add-port br0 gone0 -- set Interface gone0 type=internal
$V add-port br0 keep2 -- set Interface keep2 type=internal
$V del-port br0 gone0
echo "=== before"; ifaces | grep -v '^p'
ovs-dpctl show | grep -E 'port [0-9]+: (br0|keep|vx)'
args=""
for i in $(seq 0 $((N-1))); do args="$args -- add-port br0 p$i -- set Interface p$i type=internal"; done
ovs-vsctl --timeout=240 ${args# -- } > "$D/vsctl.out" 2>&1 &
VSCTL=$!
for i in $(seq 1 600); do n=$(ovs-dpctl show | grep -c 'port [0-9]*: p'); [ "$n" -ge $((N/4)) ] && break; sleep 0.05; done
kill -9 "$(cat $D/ovs-vswitchd.pid)"
sleep 0.5
echo "=== at the kill: $(ovs-dpctl show | grep -c 'port [0-9]*: p') of $N p-ports in the datapath; cur_cfg $(ovs-vsctl --no-wait get Open_vSwitch . cur_cfg) next_cfg $(ovs-vsctl --no-wait get Open_vSwitch . next_cfg)"
start_vswitchd
wait $VSCTL; echo "waiting ovs-vsctl: exit $? $(cat $D/vsctl.out)"
sleep 2
echo "=== after restart"; ifaces | grep -v '^p'
ovs-dpctl show | grep -E 'port [0-9]+: (br0|keep|vx)'
echo "--- p-ports: $(ovs-dpctl show | grep -c 'port [0-9]*: p') in the datapath; $(ifaces | grep '^p' | awk '$2>0' | wc -l) with an ofport; distinct ofports: $(ifaces | awk '{print $2}' | sort -u | wc -l) of $(ifaces | wc -l)"
echo "--- errors: $(ovs-vsctl --bare --columns=error list Interface | grep -v '^$' | sort | uniq -c)"
ovs-dpctl show | sed -nE "s/.*port [0-9]+: ([^ ]+).*/\1/p" | sort > /tmp/vp; ip -o link show | awk -F": " "{print \$2}" | sed "s/@.*//" | sort > /tmp/dv; echo "--- devices not vports: $(comm -23 /tmp/dv /tmp/vp | tr "\n" " ")"
echo "--- log WARN/ERR:"; grep -E '\|(WARN|ERR|EMER)\|' "$D/ovs-vswitchd.log" | sed -E 's/^[^|]*\|[0-9]+\|//' | sort | uniq -c | head -20
ovs-appctl -t "$D/ovs-vswitchd.$(cat $D/ovs-vswitchd.pid).ctl" exit >/dev/null 2>&1 || kill "$(cat "$D/ovs-vswitchd.pid")"
kill "$(cat "$D/ovsdb-server.pid")" 2>/dev/null
sleep 1
