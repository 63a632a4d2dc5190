# How testing/lab/*.json (and genl-codec's testing/lab/unaligned-echo.*) were captured on the
# kernel lab (Linux 6.1, Debian's openvswitch.ko), from the repository root:
#   mkdir -p /var/tmp/ovs-kernel-lab/share/h1 && cp packages/kernel-datapath/src/testing/lab/capture.* /var/tmp/ovs-kernel-lab/share/h1/
#   ../shared/kernel-lab/kernel-lab.sh run 'bash /share/h1/capture.sh'
# Each mode prints one JSON line per request (request and replies in hex, or the notifications a
# RTMGRP_LINK listener read) into /share/h1/MODE.out, while nlmon captures MODE.pcap.
set -x
cd /share/h1
ip link add nlmon0 type nlmon; ip link set nlmon0 up
for m in echo tunnel ethtool; do
  tcpdump -i nlmon0 -w /share/h1/$m.pcap -U 2>/dev/null & TP=$!
  sleep 1
  python3 /share/h1/capture.py $m > /share/h1/$m.out 2>&1
  sleep 1; kill $TP; wait $TP
  ip link del va 2>/dev/null; ovs-dpctl del-dp dp0 2>/dev/null; for d in d0 vxl gnl gtl grl gnv0 vx0 gt0; do ip link del $d 2>/dev/null; done
done
