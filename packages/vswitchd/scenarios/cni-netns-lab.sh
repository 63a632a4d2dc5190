# What a CNI plugin does to a pod's veth, with the bridge port on the host end,
# then the host end moved into the pod's namespace too: run on the kernel lab
# with real OVS 3.1 and the real ip (../shared/kernel-lab/examples/real-vs-ours.sh);
# cni-netns.sh is the same steps with ovs-kernel ip in ovs-sandbox.
V="ovs-vsctl --timeout=30"
ip netns add pod1
ip link add veth0 type veth peer name eth0 netns pod1
ip link set veth0 up
$V add-br br0 -- add-port br0 veth0
ovs-appctl dpif/show | sed -E 's/hit:[0-9]+ missed:[0-9]+/hit:N missed:N/'
ip -n pod1 addr add 10.1.0.2/24 dev eth0
ip -n pod1 link set eth0 up
ip link set veth0 netns pod1
sleep 3
ovs-appctl dpif/show | sed -E 's/hit:[0-9]+ missed:[0-9]+/hit:N missed:N/'
$V --columns=name,ofport,error list Interface | grep -v '^$' | paste - - - | sort
ip netns del pod1
sleep 1
$V --columns=name,ofport,error list Interface | grep -v '^$' | paste - - - | sort
