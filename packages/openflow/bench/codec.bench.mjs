// OpenFlow codec and `show` costs, through the built package's public API, on one core:
// a features reply of 1,000 ports (OpenFlow 1.0, 48,032 bytes) encoded, decoded, built
// from port descriptions and printed, and a whole `ovs-ofctl show` (two connections,
// four requests) against the management server over its unix socket.
//   pnpm --filter @ovs/openflow bench
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  NETDEV_F,
  OFPP_LOCAL,
  OpenflowMgmtServer,
  buildFeaturesReply,
  buildPortDescReplies,
  decodeMessage,
  encodeMessage,
  formatMessage,
  runOfctl,
} from '../dist/index.js';

const N = 1000;
const ports = [
  { portNo: OFPP_LOCAL, name: 'br0', hwAddr: '7e:cc:79:af:cd:44', config: 1, state: 1, curr: NETDEV_F['10GB_FD'] | NETDEV_F.COPPER },
  ...Array.from({ length: N - 1 }, (_, i) => ({
    portNo: i + 1,
    name: `port${i + 1}`,
    hwAddr: new Uint8Array([0xaa, 0x55, 0, 0, (i + 1) >> 8, (i + 1) & 0xff]),
    curr: NETDEV_F['10GB_FD'] | NETDEV_F.COPPER,
  })),
];

/** Runs `fn` repeatedly for ~`ms` milliseconds, three times; returns per-call microseconds of each round. */
async function measure(fn, ms = 1000) {
  for (let i = 0; i < 20; i++) await fn(); // warm up
  const rounds = [];
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(ms) * 1_000_000n;
    let t = t0;
    while (t < end) {
      await fn();
      n++;
      t = process.hrtime.bigint();
    }
    rounds.push(Number(t - t0) / 1000 / n);
  }
  return rounds;
}

const fmt = (rounds, unit = 'µs') => {
  const best = Math.min(...rounds);
  const worst = Math.max(...rounds);
  const per = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} ${unit}`);
  return `${per(best)} – ${per(worst)} per op (${Math.round(1e6 / worst).toLocaleString('en-US')} – ${Math.round(1e6 / best).toLocaleString('en-US')} ops/s)`;
};

console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, node ${process.version}`);

const reply = buildFeaturesReply(1, 2, 0x7ecc79afcd44n, ports);
const bytes = encodeMessage(reply);
console.log(`features reply, ${N} ports: ${bytes.length} bytes`);
const sink = [];
console.log(`encode:                 ${fmt(await measure(() => void sink.push(encodeMessage(reply).length)))}`);
console.log(
  `decode:                 ${fmt(
    await measure(() => {
      const r = decodeMessage(bytes);
      if (!r.ok || r.message.ports.length !== N) throw new Error('decode failed');
    }),
  )}`,
);
console.log(
  `build from ports + encode (the server's work): ${fmt(await measure(() => void sink.push(encodeMessage(buildFeaturesReply(1, 2, 1n, ports)).length)))}`,
);
console.log(
  `OFPST_PORT_DESC (OF1.3) build + encode:        ${fmt(await measure(() => void sink.push(buildPortDescReplies(4, 3, ports).map(encodeMessage).length)))}`,
);
console.log(`print (formatMessage, ovs-ofctl's text):       ${fmt(await measure(() => void sink.push(formatMessage(bytes).length)))}`);

const dir = mkdtempSync(join(os.tmpdir(), 'openflow-bench-'));
try {
  for (const n of [1, N]) {
    const server = await OpenflowMgmtServer.listen(join(dir, 'br0.mgmt'), { datapathId: () => 0x7ecc79afcd44n, ports: () => ports.slice(0, n) });
    let out = '';
    const io = { out: (s) => (out += s), err: (s) => process.stderr.write(s) };
    const show = async () => {
      out = '';
      const code = await runOfctl(['show', 'br0'], io, { OVS_RUNDIR: dir });
      if (code !== 0) throw new Error(`show failed: ${code}`);
    };
    console.log(`ovs-ofctl show, ${String(n).padStart(4)} port(s), in process over the socket: ${fmt(await measure(show, 2000))}`);
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
