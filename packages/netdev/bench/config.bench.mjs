// Tunnel configuration as a bridge reconfiguration applies it: parse an
// Interface's options map (netdev_set_config) and derive the datapath port
// name; and a vxlan netdev opened, configured and closed through the registry.
//   pnpm --filter @ovs/netdev bench
import os from 'node:os';
import { NetlinkProtocol, newFamilyTable } from '@ovs/genl-codec';
import { Kernel } from '@ovs/kernel-datapath';
import { NlSock } from '@ovs/netlink-socket';
import { NetdevRegistry, netdevSetConfig, netdevVportGetDpifPort, parseTunnelConfig, registerNetdevClasses } from '../dist/index.js';

const N = 200000;
const opts = { remote_ip: '192.0.2.1', key: 'flow', dst_port: '4790', csum: 'true', tos: 'inherit' };
const time = (label, n, fn) => {
  for (let i = 0; i < Math.min(n, 20000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label}: ${(1e9 / ns).toFixed(0)}/s (${(ns / 1000).toFixed(2)} us)`);
};
console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
time('parseTunnelConfig (vxlan, 5 options)', N, () => parseTunnelConfig('vx0', 'vxlan', opts));

const kernel = new Kernel({ addrconf: false });
const rtnl = new NlSock(await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }), newFamilyTable());
// A tunnel netdev asks nothing of the datapath (no vport_get).
const netdevs = new NetdevRegistry(rtnl, async () => ({}));
registerNetdevClasses(netdevs);
const M = 50000;
const t0 = process.hrtime.bigint();
for (let i = 0; i < M; i++) {
  const nd = await netdevs.open(`vx${i}`, 'vxlan');
  await netdevSetConfig(netdevs, nd, opts);
  netdevVportGetDpifPort(nd);
  netdevs.close(nd);
}
const ns = Number(process.hrtime.bigint() - t0) / M;
console.log(`open + set_config + get_dpif_port + close (vxlan): ${(1e9 / ns).toFixed(0)}/s (${(ns / 1000).toFixed(2)} us)`);
await rtnl.sock.close();
