# What a CNI plugin does to a pod's veth, with the bridge port on the host end,
# then the host end moved into the pod's namespace too — in ovs-sandbox, with
# ovs-kernel ip for ip:
#   ovs-sandbox sh packages/vswitchd/scenarios/cni-netns.sh
# cni-netns.expected is what real OVS 3.1 on Linux 6.1 printed for the same
# steps (cni-netns-lab.sh with the real ip, in the kernel lab with
# ../shared/kernel-lab/examples/real-vs-ours.sh, MODE=real; the datapath's
# hit/missed counters normalised).
V="ovs-vsctl --timeout=30"
ovs-kernel ip netns add pod1
ovs-kernel ip link add veth0 type veth peer name eth0 netns pod1
ovs-kernel ip link set veth0 up
$V add-br br0 -- add-port br0 veth0
ovs-appctl dpif/show | sed -E 's/hit:[0-9]+ missed:[0-9]+/hit:N missed:N/'
ovs-kernel ip -n pod1 addr add 10.1.0.2/24 dev eth0
ovs-kernel ip -n pod1 link set eth0 up
ovs-kernel ip link set veth0 netns pod1
sleep 3
ovs-appctl dpif/show | sed -E 's/hit:[0-9]+ missed:[0-9]+/hit:N missed:N/'
$V --columns=name,ofport,error list Interface | grep -v '^$' | paste - - - | sort
ovs-kernel ip netns del pod1
sleep 1
$V --columns=name,ofport,error list Interface | grep -v '^$' | paste - - - | sort
