#!/bin/bash
# test:kernel — the live-state scenario (live-state.sh), then the concurrency one (concurrency.sh), in the kernel lab (real Linux 6.1 and its
# openvswitch module, ../../../../shared/kernel-lab), once with Debian's ovs-vswitchd 3.1 and once with
# ours (--system), both under the real ovsdb-server and driven by the real ovs-vsctl and ip; then
# the two outputs are compared. Masked, as they legitimately differ: OpenFlow and datapath port
# numbers given in hash order (the rows' random UUIDs decide), counters, timings, the log's timing
# warnings, and the status keys driver_version / firmware_version (OVS reads them with the
# ETHTOOL_GDRVINFO ioctl, which has no netlink equivalent). One guest for both runs: what the
# first leaves (its devices, the datapath ovs-vswitchd keeps on exit) is removed before the second.
# Root and a built checkout needed.
set -u
cd "$(dirname "$0")/../../.." || exit 2
LAB=${LAB:-../shared/kernel-lab/kernel-lab.sh}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$LAB" run 'for m in real ours; do echo "=== MODE $m"; MODE=$m bash /project/packages/vswitchd/kernel-lab/real-vs-ours.sh /project/packages/vswitchd/kernel-lab/live-state.sh 2>&1; ovs-dpctl del-dp ovs-system; for d in vA dum0 br0 i0; do ip link del $d 2>/dev/null; done; done; for m in real ours; do echo "=== CONCURRENCY $m"; MODE=$m bash /project/packages/vswitchd/kernel-lab/real-vs-ours.sh /project/packages/vswitchd/kernel-lab/concurrency.sh 2>&1; ovs-dpctl del-dp ovs-system; done' > "$out/all.txt" 2>&1
for m in real ours; do
  # vA and dum0 get OpenFlow ports 2 and 3 in hash order, which their rows' random UUIDs decide; later numbers are fixed.
  sed -n "/^=== MODE $m\$/,/^=== MODE /p" "$out/all.txt" | sed -n '/^--- Open_vSwitch/,/^--- kernel/p' | grep -v '^--- kernel' \
    | perl -pe 's/\bofport=[23]\b/ofport=<2|3>/g; s/, driver_version="[^"]*", firmware_version="[^"]*"//; s/lab-(real|ours)/lab-MODE/g;
                s/^(\s+\S+ (\d+|<n>))\/(\d+|none):/$1\/<dp>:/; s/^(\s+(vA|dum0)) [23]\//$1 <2|3>\//; s/datapath_id="0000(?!020000000099)[0-9a-f]{12}"/datapath_id="<br0 MAC>"/' > "$out/$m.txt"
done
if [ ! -s "$out/real.txt" ] || [ ! -s "$out/ours.txt" ]; then echo "kernel lab run failed:"; tail -30 "$out/all.txt"; exit 1; fi
status=0
if diff -u "$out/real.txt" "$out/ours.txt"; then
  echo "live-state: ours (--system) and real OVS 3.1 agree on Linux 6.1 ($(grep -c '' "$out/real.txt") lines compared)"
else
  echo "live-state: ours and real OVS 3.1 differ (above: - real, + ours)"; status=1
fi
# Concurrency: what must not depend on the interleaving — failed calls and their stderr, the
# port set, unique ofports, cur_cfg, the devices — not the numbers the interleaving hands out.
for m in real ours; do
  sed -n "/^=== CONCURRENCY $m\$/,/^=== CONCURRENCY /p" "$out/all.txt" | sed -n '/^--- time/q; /^\(FAILED\|stderr: \|--- ports\|--- interfaces\|--- cur_cfg\)/p; /^--- ip link/{n;p}' > "$out/cc-$m.txt"
done
if [ ! -s "$out/cc-real.txt" ]; then echo "kernel lab concurrency run failed:"; tail -30 "$out/all.txt"; exit 1; fi
if diff -u "$out/cc-real.txt" "$out/cc-ours.txt"; then
  echo "concurrency: ours (--system) and real OVS 3.1 agree on Linux 6.1 ($(grep -c '' "$out/cc-real.txt") lines compared)"
else
  echo "concurrency: ours and real OVS 3.1 differ (above: - real, + ours)"; status=1
fi
exit $status
