# A switch that follows its devices, takes many clients at once and comes
# back from faults (run inside ovs-sandbox; see the README's "Running it for
# real"). Each step prints what a user would look at.
set -e
show() { ovs-vsctl --columns="$2" list Interface "$1" | sed 's/  *:/:/'; }

# Device state follows the device, with no other write to the database.
ovs-kernel ip link add vA type veth peer name vB
ovs-vsctl add-br br0 -- add-port br0 vA
show vA link_state,admin_state,link_speed,duplex,mtu
ovs-kernel ip link set vA up
ovs-kernel ip link set vB up                     # the peer comes up: now vA has carrier
ovs-vsctl --timeout=10 wait-until Interface vA link_state=up
ovs-kernel ip link set vA mtu 9000
ovs-vsctl --timeout=10 wait-until Interface vA mtu=9000
show vA link_state,link_resets,mtu
ovs-vsctl set Interface vA mtu_request=1400      # applied to the device, as OVS does
ovs-kernel ip link show vA | grep -o 'mtu [0-9]*'

# The device deleted under the switch: OVS's error, ofport -1; made again: the port is back.
ovs-kernel ip link del vA
ovs-vsctl --timeout=10 wait-until Interface vA ofport=-1
show vA ofport,error
ovs-kernel ip link add vA type veth peer name vB
ovs-vsctl --timeout=10 wait-until Interface vA 'ofport>=1'
show vA ofport,error,mtu

# Ten clients at once: every call ends, every port gets its own number.
for i in 0 1 2 3 4 5 6 7 8 9; do ovs-vsctl add-port br0 p$i -- set Interface p$i type=internal & done; wait
ovs-vsctl --bare --columns=ofport list Interface | grep -v '^$' | sort -un | tr '\n' ' '; echo

# A fault in the kernel (the next net_device allocation fails): reported as OVS words it, retried once it clears.
ovs-kernel fault set failslab --nth 1 --times 1 >/dev/null
ovs-vsctl add-port br0 i0 -- set Interface i0 type=internal 2>&1 | sed "s#$OVS_LOGDIR#\$OVS_LOGDIR#"
show i0 ofport,error
ovs-kernel fault clear >/dev/null
ovs-kernel ip link add kick type dummy           # any link change makes ovs-vswitchd try failed ports again
ovs-vsctl --timeout=10 wait-until Interface i0 'ofport>=1'
show i0 ofport,error
ovs-appctl dpif/show | grep -c '(internal'
