// The whole stack through ovs-vsctl (run inside an ovs-sandbox: the
// ovs-kernel daemon, ovs-db serve and ovs-vswitchd as real processes), timed
// until every Interface has its ofport:
//   1. N_SERIAL internal ports, one ovs-vsctl call each (the per-call cost,
//      reported at the start and at the end);
//   2. N_BATCH internal ports added by one ovs-vsctl call (one transaction).
// ovs-vsctl runs in this process (`run` of @ovs/vsctl), so node's start-up
// (~0.1 s per process) is left out; a few real process calls are timed apart.
//   pnpm --filter @ovs/vswitchd bench
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { run as vsctl } from '@ovs/vsctl';

if (!process.env.OVS_SANDBOX) {
  // Re-run inside a sandbox.
  const r = spawnSync(
    process.execPath,
    [new URL('../bin/ovs-sandbox.js', import.meta.url).pathname, process.execPath, new URL(import.meta.url).pathname, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const N_SERIAL = Number(process.argv[2] ?? 1000);
const N_BATCH = Number(process.argv[3] ?? 5000);
const must = async (args) => {
  const r = await vsctl(args);
  if (r.status !== 0) throw new Error(`ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const ofportsDone = async () => {
  const out = await must(['--bare', '--columns=ofport', 'find', 'Interface', 'ofport=[]']);
  return out.trim() === '';
};

console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
await must(['add-br', 'br0']);

// 1. One call each (first, on a fresh switch, as the oracle measured it).
const windows = [];
let t0 = performance.now();
let w0 = t0;
for (let i = 0; i < N_SERIAL; i++) {
  await must(['add-port', 'br0', `s${i}`, '--', 'set', 'Interface', `s${i}`, 'type=internal']);
  if ((i + 1) % 100 === 0) {
    const now = performance.now();
    windows.push((now - w0) / 100);
    w0 = now;
  }
}
console.log(
  `${N_SERIAL} ports, one ovs-vsctl call each: ${((performance.now() - t0) / 1000).toFixed(1)} s (real OVS 3.1 here: 87 s for 1,000); per call ${windows[0].toFixed(1)} ms for the first 100, ${windows.at(-1).toFixed(1)} ms for the last 100 (on a bridge growing to ${N_SERIAL} ports)`,
);

// 2. One transaction (another bridge).
t0 = performance.now();
const batch = ['add-br', 'br1'];
for (let i = 0; i < N_BATCH; i++) batch.push('--', 'add-port', 'br1', `b${i}`, '--', 'set', 'Interface', `b${i}`, 'type=internal');
await must(batch);
while (!(await ofportsDone())) await new Promise((r) => setTimeout(r, 20));
console.log(`${N_BATCH} ports in one transaction: ${((performance.now() - t0) / 1000).toFixed(1)} s (real OVS 3.1 here: 29 s for 5,000)`);

// A few calls as real processes (what a shell script pays per call).
t0 = performance.now();
for (let i = 0; i < 5; i++) {
  const r = spawnSync('ovs-vsctl', ['add-port', 'br0', `p${i}`, '--', 'set', 'Interface', `p${i}`, 'type=internal']);
  if (r.status !== 0) throw new Error(String(r.stderr));
}
console.log(`ovs-vsctl as a process: ${((performance.now() - t0) / 5).toFixed(0)} ms per call (node start-up included)`);
