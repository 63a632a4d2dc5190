# ovs-appctl commands of ovs-vswitchd on the kernel datapath (for real-vs-ours.sh): each command's
# output and exit status, as the real ovs-appctl prints them.
V="ovs-vsctl --timeout=30"
A() { echo "\$ ovs-appctl $*"; ovs-appctl "$@" 2>&1; echo "exit=$?"; }
ip link add v0 type veth peer name v1
$V add-br br0 -- add-port br0 v0 -- add-port br0 i0 -- set Interface i0 type=internal
$V add-port br0 vx0 -- set Interface vx0 type=vxlan options:remote_ip=192.0.2.1
$V add-port br0 gnv0 -- set Interface gnv0 type=geneve options:remote_ip=192.0.2.2
$V add-br br1
A ofproto/list
A dpif/show
A dpif/show-dp-features br0
A dpif/show-dp-features br1
A dpif/show-dp-features nobr
A dpif/show-dp-features
A tnl/ports/show
A tnl/ports/show -v
A memory/show
A bridge/reconnect
A bridge/reconnect br0
A bridge/reconnect nobr
A dpctl/dump-dps
A dpctl/show
A dpctl/show system@ovs-system
A dpctl/show -s ovs-system
A dpctl/show nodp
A dpctl/add-dp dp9
A dpctl/add-dp system@dp9
A dpctl/dump-dps
A dpctl/add-if dp9 dum9,type=internal
A dpctl/add-if dp9 nosuchdev
A dpctl/set-if dp9 dum9,type=internal
A dpctl/show dp9
A dpctl/del-if dp9 dum9
A dpctl/del-if dp9 nosuch
A dpctl/del-dp dp9
A dpctl/del-dp dp9
A dpctl/dump-flows
A dpctl/dump-flows system@ovs-system
A dpctl/del-flows
A dpctl/help
A dpctl/list-commands
A coverage/read-counter bridge_reconfigure
A coverage/read-counter dpif_port_add
A coverage/read-counter nosuch
sleep 6
A coverage/show
A version
A exit --cleanup extra
D=$OVS_RUNDIR
for i in $(seq 1 50); do [ -f "$D/ovs-vswitchd.pid" ] || break; sleep 0.1; done
echo '--- log at exit'; sed -n '/deleted interface/p;/exiting/p' "$D/ovs-vswitchd.log" | sed -E 's/^[^|]*\|[0-9]+\|//'
echo '--- kernel after exit --cleanup'; ovs-dpctl show 2>&1 | sed -E 's/(lookups|masks|flows|caches|cache):.*/\1: <stats>/'
