// Add 65,534 ports (every number up to DP_MAX_PORTS - 1) to one datapath through
// the byte interface, then delete them; per-add cost at 1k, 10k and 65k ports,
// and memory per vport.   pnpm --filter @ovs/kernel-datapath bench
import os from 'node:os';
import { NLM_F, OVS_DP_CMD, OVS_VPORT_CMD, OVS_VPORT_TYPE, encode, decode, newFamilyTable, ovsDatapathFamily, ovsVportFamily } from '@ovs/genl-codec';
import { Kernel } from '../dist/index.js';

const N = 65534;
const kernel = new Kernel();
const sock = kernel.socket({ protocol: 16 });
const families = newFamilyTable({ ovs_datapath: 32, ovs_vport: 33 });
let seq = 1;

function request(family, type, cmd, attrs, dpIfindex = 0) {
  sock.sendSync(
    encode({
      kind: 'genl',
      protocol: 16,
      header: { len: 0, type, flags: NLM_F.REQUEST | NLM_F.ECHO, seq: seq++, pid: sock.portId },
      family,
      cmd,
      version: family.version,
      reserved: 0,
      dpIfindex,
      attrs,
    }),
  );
  const reply = sock.tryRecv();
  if (reply === undefined) throw new Error('no reply');
  return reply;
}

const dpReply = decode(request(ovsDatapathFamily, 32, OVS_DP_CMD.NEW, { name: 'dp0', upcallPid: 0, userFeatures: 3 }), { families }).messages[0];
const dp = dpReply.dpIfindex;

globalThis.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const marks = { 1000: 0, 10000: 0, 65534: 0 };
const t0 = process.hrtime.bigint();
let windowStart = t0;
const perAdd = {};
for (let i = 1; i <= N; i++) {
  const reply = request(ovsVportFamily, 33, OVS_VPORT_CMD.NEW, { type: OVS_VPORT_TYPE.INTERNAL, name: `p${i}`, upcallPid: [i] }, dp);
  if (reply[4] !== 33) throw new Error(`port ${i} failed: ${Buffer.from(reply).toString('hex')}`);
  // Per-add cost over the 1,000 adds ending at each mark.
  if (i + 1000 in marks || i === N - 1000) windowStart = process.hrtime.bigint();
  if (i in marks) perAdd[i] = Number(process.hrtime.bigint() - windowStart) / 1000;
}
const addNs = Number(process.hrtime.bigint() - t0);
globalThis.gc?.();
const heap1 = process.memoryUsage().heapUsed;
const portNos = decode(request(ovsVportFamily, 33, OVS_VPORT_CMD.GET, { name: `p${N}` }), { families }).messages[0].attrs.portNo;
if (portNos !== N) throw new Error(`last port got number ${portNos}, expected ${N}`);

const t1 = process.hrtime.bigint();
for (let i = 1; i <= N; i++) request(ovsVportFamily, 33, OVS_VPORT_CMD.DEL, { portNo: i }, dp);
const delNs = Number(process.hrtime.bigint() - t1);

console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
console.log(`adds: ${N} internal ports in ${(addNs / 1e9).toFixed(2)} s (${Math.round(addNs / N / 1000)} us/add on average)`);
for (const [at, ns] of Object.entries(perAdd)) console.log(`  per add at ${Number(at).toLocaleString('en-US')} ports: ${(ns / 1000).toFixed(1)} us`);
console.log(`deletes: ${N} in ${(delNs / 1e9).toFixed(2)} s (${Math.round(delNs / N / 1000)} us/del)`);
console.log(
  `memory: ${((heap1 - heap0) / N).toFixed(0)} bytes per vport (vport + its net_device + name tables${globalThis.gc ? '' : ', run with --expose-gc for exact figures'})`,
);
