// Encode + decode round trips of an OVS_VPORT_CMD_NEW request and of its reply
// through the public typed API (the built package), on one core.
//   pnpm --filter @ovs/genl-codec bench
import os from 'node:os';
import { NLM_F, OVS_VPORT_CMD, OVS_VPORT_TYPE, decode, encode, newFamilyTable, ovsVportFamily } from '../dist/index.js';

const VPORT_ID = 33;
const families = newFamilyTable({ ovs_vport: VPORT_ID });

/** OVS_VPORT_CMD_NEW as dpif_netlink_port_add__ sends it for the vxlan backer (76 bytes). */
const request = {
  kind: 'genl',
  protocol: 16,
  header: { len: 0, type: VPORT_ID, flags: NLM_F.REQUEST | NLM_F.ECHO, seq: 42, pid: 3045 },
  family: ovsVportFamily,
  cmd: OVS_VPORT_CMD.NEW,
  version: 1,
  reserved: 0,
  dpIfindex: 7,
  attrs: {
    type: OVS_VPORT_TYPE.VXLAN,
    name: 'vxlan_sys_4789',
    upcallPid: [3046, 3047],
    options: { dstPort: 4789 },
  },
};

/** The kernel's answer, as ovs_vport_cmd_fill_info() builds it. */
const reply = {
  ...request,
  header: { len: 0, type: VPORT_ID, flags: 0, seq: 42, pid: 3045 },
  attrs: {
    portNo: 3,
    type: OVS_VPORT_TYPE.VXLAN,
    name: 'vxlan_sys_4789',
    ifindex: 12,
    stats: { rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n, rxErrors: 0n, txErrors: 0n, rxDropped: 0n, txDropped: 0n },
    upcallPid: [3046, 3047],
    options: { dstPort: 4789 },
  },
};

function roundTrip(msg) {
  const r = decode(encode(msg), { families });
  if (!r.ok) throw r.error;
  return r.messages[0];
}

function measure(label, msg) {
  const bytes = encode(msg).length;
  const check = roundTrip(msg);
  if (check.attrs.name !== 'vxlan_sys_4789') throw new Error('round trip mismatch');
  for (let i = 0; i < 200_000; i++) roundTrip(msg); // warm up the JIT
  const rates = [];
  for (let round = 0; round < 5; round++) {
    const n = 1_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) roundTrip(msg);
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(n / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  const median = rates[2];
  console.log(`${label}: ${Math.round(median).toLocaleString('en-US')} round trips/s (${bytes} bytes, ${(1e9 / median).toFixed(0)} ns each, median of 5)`);
}

console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
measure('vport request', request);
measure('vport reply', reply);
