// 10,000 ports added to one bridge and deleted again through ofproto ->
// dpif-netlink -> the in-process kernel model (system ports on dummy
// devices): per-port cost at 1k and 10k ports, and memory per port across
// these layers (kernel model included).   pnpm --filter @ovs/ofproto bench
import os from 'node:os';
import { DpifNetlinkProvider } from '@ovs/dpif-netlink';
import { Kernel } from '@ovs/kernel-datapath';
import { registerNetdevClasses } from '@ovs/netdev';
import { Ofproto } from '../dist/index.js';

const N = 10000;
const gc = globalThis.gc ?? (() => {});
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const kernel = new Kernel({ addrconf: false });
for (let i = 0; i < N; i++) kernel.initNet.addDevice({ name: `p${i}`, kind: 'dummy' });
const log = () => {};
const provider = await DpifNetlinkProvider.create({ socket: async (protocol) => kernel.socket({ protocol }), log });
registerNetdevClasses(provider.netdevs);
const br = await Ofproto.create({ provider, log }, 'br0');
const local = await provider.netdevs.open('br0', 'internal');
await br.portAdd(local);

// Warm-up (JIT): 1,000 ports added and deleted on another bridge first.
{
  const warm = await Ofproto.create({ provider, log }, 'warm');
  for (let i = 0; i < 1000; i++) {
    const nd = await provider.netdevs.open(`p${i}`, 'system');
    await warm.portAdd(nd);
    await warm.portDel(warm.portByName.get(`p${i}`).ofpPort);
    provider.netdevs.close(nd);
  }
  await warm.destroy(false);
}
const netdevs = [];
const heap0 = heap();
const addTimes = [];
let t = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const nd = await provider.netdevs.open(`p${i}`, 'system');
  await br.portAdd(nd);
  netdevs.push(nd);
  if ((i + 1) % 1000 === 0) {
    const now = process.hrtime.bigint();
    addTimes.push(Number(now - t) / 1e6); // us per port over these 1,000
    t = now;
  }
}
const perPortBytes = (heap() - heap0) / N;
const delTimes = [];
t = process.hrtime.bigint();
for (let i = N - 1; i >= 0; i--) {
  await br.portDel(br.portByName.get(`p${i}`).ofpPort);
  provider.netdevs.close(netdevs[i]);
  if (i % 1000 === 0) {
    const now = process.hrtime.bigint();
    delTimes.push(Number(now - t) / 1e6);
    t = now;
  }
}
await br.run();
const us = (x) => `${x.toFixed(0)} us`;
console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
console.log(`add: per port ${us(addTimes[0])} for ports 1-1000, ${us(addTimes[addTimes.length - 1])} for ports 9001-10000`);
console.log(`del: per port ${us(delTimes[0])} at 10000 ports, ${us(delTimes[delTimes.length - 1])} for the last 1000`);
console.log(`memory: ${(perPortBytes / 1024).toFixed(1)} KiB of heap per port (ofproto, netdev, dpif and kernel model)`);
await br.destroy(true);
await provider.close();
