set -x
ip -V; uname -r
ip netns add a; ip netns add b
ip netns list
ip link add v0 type veth peer name v1
ip link set v1 netns a; echo rc=$?
ip link show v0; ip -n a link show
ip netns list; ip netns list-id
ip -n a link set lo netns b; echo rc=$?
ip link add d0 type dummy; ip link set d0 netns a; echo rc=$?
ip -n a link show
ip link add w0 type veth peer name w1 netns b; echo rc=$?
ip link show w0; ip -n b link show
ip link set w0 address 02:00:00:00:00:01; ip link show w0
ip -n b addr add 10.9.0.2/24 dev w1; echo rc=$?
ip -n b link set w1 up; ip link set w0 up
ip -n b addr show; ip -n b addr show dev w1; ip addr show dev w0
ip -n b addr add 10.9.0.2/24 dev w1; echo rc=$?
ip addr add 1.2.3.4/8 dev nosuch; echo rc=$?
ip link set nosuch netns a; echo rc=$?
ip link set w0 netns nosuch; echo rc=$?
# ovs: move a port's device away, the vport goes
ovs-dpctl add-dp dp0; ovs-dpctl add-if dp0 w0; ovs-dpctl show
ip link set w0 netns a; echo rc=$?; ovs-dpctl show; ip -n a link show w0
ip link set dp0 netns a; echo rc=$?
ovs-dpctl add-if dp0 vx0,type=vxlan; ip link show vxlan_sys_4789; ip link set vxlan_sys_4789 netns a; echo rc=$?
ovs-dpctl del-dp dp0
# ifindex collision: a device moved where its ifindex is taken gets a new one
ip -n a link add z0 type dummy; ip -n a link show z0
ip link add z1 type dummy; ip link show z1
ip netns exec a ip link show
ip netns del b; ip netns list; ip -n a link show
ip netns del nosuch; echo rc=$?
ip netns add a; echo rc=$?
ip netns exec nosuch true; echo rc=$?
ip netns exec a nosuchcmd; echo rc=$?
ip -n nosuch link; echo rc=$?
