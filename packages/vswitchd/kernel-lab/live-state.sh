# Live device state (issue 12): run by real-vs-ours.sh, once with real ovs-vswitchd 3.1, once with ours.
V="ovs-vsctl --timeout=20"
COLS=name,ofport,error,admin_state,link_state,link_resets,mtu,mtu_request,ifindex,link_speed,duplex,status
show() { # one line per interface: columns, with the MAC and ifindex checked against ip link instead of printed
  for i in "$@"; do
    echo "$i: $($V --columns=$COLS list Interface "$i" | sed -E 's/ +: /=/' | tr '\n' ' ' | sed -E 's/ifindex=([0-9]+)/ifindex=<n>/')"
    m=$($V get Interface "$i" mac_in_use 2>/dev/null | tr -d '"'); k=$(cat /sys/class/net/$i/address 2>/dev/null)
    echo "  mac_in_use matches device: $([ "$m" = "$k" ] && echo yes || echo "no ($m vs $k)")"
    x=$($V get Interface "$i" ifindex 2>/dev/null); y=$(cat /sys/class/net/$i/ifindex 2>/dev/null)
    echo "  ifindex matches device: $([ "$x" = "${y:-0}" ] && echo yes || echo "no ($x vs $y)")"
  done
}
echo '--- Open_vSwitch'
$V --columns=ovs_version,db_version,system_type,system_version,iface_types,datapath_types list Open_vSwitch | sed -E 's/ +: /=/'
echo "    (host: $(. /etc/os-release; echo $ID $VERSION_ID) ovs-vswitchd $(ovs-vswitchd --version | head -1))"
ip link add vA type veth peer name vB
ip link add dum0 type dummy
$V add-br br0 -- add-port br0 vA -- add-port br0 dum0 -- add-port br0 i0 -- set Interface i0 type=internal
$V --columns=datapath_id,datapath_version,datapath_type list Bridge br0 | sed -E 's/ +: /=/'
u=$($V get Bridge br0 _uuid)
echo "    br0 MAC from the Bridge row's UUID (OVS's default_ea): $([ "$(cat /sys/class/net/br0/address)" = "$(printf '%02x:%s:%s:%s:%s:%s' $(( 0x${u:6:2} & 0xfe | 2 )) ${u:4:2} ${u:2:2} ${u:0:2} ${u:16:2} ${u:14:2})" ] && echo yes || echo "no ($(cat /sys/class/net/br0/address) vs $u)")"
sleep 2
echo '--- after add (vB down)'; show vA dum0 i0 br0
echo '--- vA up, vB up, wait-until link_state=up'
ip link set vA up; ip link set vB up
$V wait-until Interface vA link_state=up && echo "wait-until returned"
show vA
echo '--- vB down'; ip link set vB down; sleep 2; show vA
echo '--- vB up'; ip link set vB up; sleep 2; show vA
echo '--- statistics keys'; $V get Interface vA statistics | tr -d '{}' | tr ',' '\n' | sed -E 's/=.*//; s/^ //' | sort | tr '\n' ' '; echo
echo '--- ip link set vA mtu 9000'; ip link set vA mtu 9000; sleep 2; show vA br0 i0
echo '--- ip link set dum0 mtu 1400'; ip link set dum0 mtu 1400; sleep 2; show dum0 br0 i0
echo '--- mtu_request=2000 on vA'; $V set Interface vA mtu_request=2000; sleep 2; show vA br0; echo "    ip: vA mtu $(cat /sys/class/net/vA/mtu)"
echo '--- ip link set dum0 down'; ip link set dum0 down; sleep 2; show dum0
echo '--- mac on i0'; $V set Interface i0 mac='"02:00:00:00:00:42"'; sleep 2; echo "    i0 $(cat /sys/class/net/i0/address)"; show i0
echo '--- hwaddr on br0'; $V set Bridge br0 other_config:hwaddr='"02:00:00:00:00:99"'; sleep 2; echo "    br0 $(cat /sys/class/net/br0/address)"
$V --columns=datapath_id list Bridge br0 | sed -E 's/ +: /=/'
echo '--- rename dum0 -> dumX'; ip link set dum0 name dumX; sleep 2; show dum0
echo '--- rename back'; ip link set dumX name dum0; sleep 2; show dum0
echo '--- delete vA (ip link del vA)'; ip link del vA; sleep 2; show vA
echo '--- vA created again'; ip link add vA type veth peer name vB; sleep 2; show vA
echo '--- type=bogus, patch without peer'
$V add-port br0 bg0 -- set Interface bg0 type=bogus -- add-port br0 pp0 -- set Interface pp0 type=patch options:peer=nope
$V add-port br0 pp1 -- set Interface pp1 type=patch
sleep 3; $V --columns=name,ofport,error list Interface bg0 pp0 pp1 | sed -E 's/ +: /=/' | paste - - - -
echo '--- after another link change (dum0 up)'; ip link set dum0 up; sleep 3
$V --columns=name,ofport,error list Interface pp0 | sed -E 's/ +: /=/' | paste - - -
echo '--- dpif/show'; ovs-appctl -t "$(ls "$OVS_RUNDIR"/ovs-vswitchd.*.ctl | head -1)" dpif/show | sed -E 's/hit:[0-9]+ missed:[0-9]+/hit:<n> missed:<n>/'
