// Port add + del round trips through dpif-netlink, over the in-process kernel
// model and over the ovs-kernel daemon's unix socket; per-operation cost
// from 1 to 60,000 ports.   pnpm --filter @ovs/dpif-netlink bench
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connectUnixNetlink } from '@ovs/genl-codec/unix';
import { Kernel, startDaemon } from '@ovs/kernel-datapath';
import { DpifNetlink } from '../dist/index.js';

const FILL = 60000;

async function run(label, opts, kernel, fill) {
  const dpif = await DpifNetlink.open('dp0', opts, true);
  const ns = kernel.initNet;
  for (let i = 0; i < fill + 1000; i++) ns.addDevice({ name: `p${i}`, kind: 'dummy' });
  // Add/del pairs on a datapath holding `held` ports, timed.
  const measure = async (n) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const port = await dpif.portAdd({ name: `p${fill + (i % 1000)}`, type: 'system' });
      await dpif.portDel(port);
    }
    return Number(process.hrtime.bigint() - t0) / n;
  };
  await measure(2000); // warm up
  const results = [];
  let held = 0;
  for (const target of [1, 1000, 10000, fill]) {
    while (held < target - 1) await dpif.portAdd({ name: `p${held++}`, type: 'system' });
    const ns1 = await measure(3000);
    results.push(`${target.toLocaleString('en-US')} ports: ${(1e9 / ns1).toFixed(0)} add+del/s (${(ns1 / 1000).toFixed(1)} us)`);
  }
  console.log(`${label}: ${results.join('; ')}`);
  await dpif.destroy();
  await dpif.close();
}

console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
{
  const kernel = new Kernel();
  await run('in-process', { socket: async (protocol) => kernel.socket({ protocol }) }, kernel, FILL);
}
{
  const dir = mkdtempSync(join(os.tmpdir(), 'dpif-bench-'));
  const socketPath = join(dir, 'k.sock');
  const daemon = await startDaemon({ socketPath });
  try {
    await run('daemon socket', { socket: (protocol) => connectUnixNetlink(socketPath, { protocol }) }, daemon.kernel, FILL);
  } finally {
    await daemon.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
