// Run in the kernel lab guest, in a consumer project whose node_modules came from
// `npm install` of the packed tarballs (no compiler): a real datapath and ports
// through the real openvswitch module, over @ovs/posix's AF_NETLINK socket.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { DpifNetlink } from '@ovs/dpif-netlink';
import { openNetlinkSocket, openSocketFactory } from '@ovs/netlink-socket';

const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
const check = (what, ok) => {
  console.log(`${ok ? 'ok' : 'FAIL'} ${what}`);
  if (!ok) process.exitCode = 1;
};
const where = createRequire(import.meta.url).resolve('@ovs/posix');
check(`@ovs/posix from the consumer's node_modules (${where})`, where.includes('/node_modules/@ovs/posix/'));

sh('ip link add cveth0 type veth peer name cveth1; ip link set cveth0 up');
const dpif = await DpifNetlink.open('cdp0', { socket: openSocketFactory({ system: true }) }, true);
check('DpifNetlink.open(cdp0, create) over the real module', true);
const port = await dpif.portAdd({ name: 'cveth0', type: 'system' });
check(`portAdd(cveth0) -> port ${port}`, port > 0);
const internal = await dpif.portAdd({ name: 'cint0', type: 'internal' });
check(`portAdd(cint0, internal) -> port ${internal}`, internal > 0);
const dump = (await dpif.portDump()).map((p) => `${p.portNo}:${p.name}:${p.type}`);
console.log('  portDump', JSON.stringify(dump));
const real = sh('ovs-dpctl show cdp0');
console.log(real.replace(/^/gm, '  | '));
check('the real ovs-dpctl shows both ports', /port \d+: cveth0\b/.test(real) && /port \d+: cint0 \(internal\)/.test(real));

// A recv() that has to wait: a notification that comes later, from another process (the real ovs-dpctl).
const vportGroup = dpif.families?.vportGroup;
const listener = await openNetlinkSocket(16);
let ticks = 0;
const ticker = setInterval(() => ticks++, 5);
if (vportGroup !== undefined) {
  await listener.joinGroup(vportGroup);
  sh('ip link add cveth2 type veth peer name cveth3');
  const waiting = listener.recv();
  setTimeout(() => spawn('ovs-dpctl', ['add-if', 'cdp0', 'cveth2'], { stdio: 'inherit' }), 300);
  const d = await waiting;
  check(`a waiting recv() woke with the ovs_vport notification (${d.length} bytes) while the event loop ran (${ticks} ticks)`, d.length > 20 && ticks > 10);
} else console.log('  (families.vportGroup not exposed: notification wait skipped)');
clearInterval(ticker);
await listener.close();

await dpif.portDel(internal);
check('portDel(cint0)', !/cint0/.test(sh('ovs-dpctl show cdp0')));
await dpif.destroy();
await dpif.close();
check('destroy(): the datapath is gone for the real ovs-dpctl', !/cdp0/.test(sh('ovs-dpctl dump-dps || true')));
sh('ip link del cveth0 || true; ip link del cveth2 || true');

// CJS too, from the same install.
const cjs = createRequire(import.meta.url)('@ovs/netlink-socket');
const s = await cjs.openNetlinkSocket(16);
check(`require('@ovs/netlink-socket') opens a socket too (port id ${s.portId})`, s.portId > 0);
await s.close();
