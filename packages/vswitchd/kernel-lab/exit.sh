# ovs-appctl exit [--cleanup] on the kernel datapath (for real-vs-ours.sh; EXIT_ARGS="" or "--cleanup"):
# what ovs-vswitchd logs as it exits, and what it leaves in the kernel.
V="ovs-vsctl --timeout=30"
ip link add v0 type veth peer name v1
$V add-br br0 -- add-port br0 v0 -- add-port br0 i0 -- set Interface i0 type=internal
$V add-port br0 vx0 -- set Interface vx0 type=vxlan options:remote_ip=192.0.2.1
$V add-br br1
D=$OVS_RUNDIR
LINES=$(wc -l < "$D/ovs-vswitchd.log")
echo "\$ ovs-appctl exit $EXIT_ARGS"; ovs-appctl exit $EXIT_ARGS; echo "exit=$?"
for i in $(seq 1 100); do [ -f "$D/ovs-vswitchd.pid" ] || break; sleep 0.1; done
echo '--- log after exit'; tail -n +$((LINES + 1)) "$D/ovs-vswitchd.log" | sed -E 's/^[^|]*\|[0-9]+\|//' | grep -v '^timeval|'
echo '--- kernel after exit'; ovs-dpctl show 2>&1 | sed -E 's/(lookups|masks|flows|caches|cache):.*/\1: <stats>/'
echo '--- ip link after exit'; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; echo
