// ovs-vsctl against the database alone (our @ovs/ovsdb server with its file,
// fdatasync on every commit; no ovs-vswitchd, so --no-wait): the cost of one
// `ovs-vsctl add-port` call when the bridge already has 100 and 1,000 ports
// (as a process, and in-process to separate Node's start-up), and 5,000
// ports added in one invocation (one transaction). With the real
// ovs-vsctl 3.1 against the same server when it is installed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbFile, OvsdbServer, ServedDatabase, vswitchSchema } from '@ovs/ovsdb';
import { run } from '../dist/index.js';

const BIN = new URL('../bin/ovs-vsctl.js', import.meta.url).pathname;
const CALLS = Number(process.env.CALLS ?? 20);
const haveReal = spawnSync('sh', ['-c', 'command -v ovs-vsctl']).status === 0;

async function withServer(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'vsctl-bench-'));
  const file = join(dir, 'conf.db');
  DbFile.create(file, vswitchSchema());
  const f = DbFile.open(file);
  const server = await OvsdbServer.start({ databases: [new ServedDatabase(f.db, f)], remotes: [`punix:${join(dir, 'db.sock')}`] });
  try {
    return await fn(`unix:${join(dir, 'db.sock')}`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const addPorts = (from, to) => {
  const args = [];
  for (let i = from; i < to; i++) args.push('--', 'add-port', 'br0', `p${i}`);
  return args.slice(1);
};

async function check(db, argv) {
  const r = await run([`--db=${db}`, '--no-wait', ...argv]);
  if (r.status !== 0) throw new Error(`ovs-vsctl ${argv.slice(0, 4).join(' ')}...: ${r.stderr}`);
}

// Asynchronous: the server runs in this process and must keep answering.
function spawnCall(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')}...: ${err}`))));
  });
}

async function perCall(n) {
  return withServer(async (db) => {
    await check(db, ['add-br', 'br0']);
    if (n) await check(db, addPorts(0, n));
    const out = {};
    let t = performance.now();
    for (let i = 0; i < CALLS; i++) await spawnCall(process.execPath, [BIN, `--db=${db}`, '--no-wait', 'add-port', 'br0', `q${i}`]);
    out.process = (performance.now() - t) / CALLS;
    t = performance.now();
    for (let i = 0; i < CALLS; i++) await check(db, ['add-port', 'br0', `r${i}`]);
    out.inProcess = (performance.now() - t) / CALLS;
    if (haveReal) {
      t = performance.now();
      for (let i = 0; i < CALLS; i++) await spawnCall('ovs-vsctl', [`--db=${db}`, '--no-wait', 'add-port', 'br0', `s${i}`]);
      out.real = (performance.now() - t) / CALLS;
    }
    return out;
  });
}

async function batch(n) {
  return withServer(async (db) => {
    await check(db, ['add-br', 'br0']);
    let t = performance.now();
    await spawnCall(process.execPath, [BIN, `--db=${db}`, '--no-wait', ...addPorts(0, n)]);
    const ours = (performance.now() - t) / 1000;
    let real;
    if (haveReal) {
      await check(db, ['del-br', 'br0', '--', 'add-br', 'br0']);
      t = performance.now();
      await spawnCall('ovs-vsctl', [`--db=${db}`, '--no-wait', ...addPorts(0, n)]);
      real = (performance.now() - t) / 1000;
    }
    return { ours, real };
  });
}

const ms = (x) => (x === undefined ? '—' : `${x.toFixed(1)} ms`);
console.log(`ovs-vsctl --no-wait against our ovsdb server (file, fdatasync), ${CALLS} calls per row`);
console.log('| ports on br0 | ours, one process per call | ours, in-process run() | real ovs-vsctl 3.1 |');
console.log('| ---: | ---: | ---: | ---: |');
for (const n of [100, 1000]) {
  const r = await perCall(n);
  console.log(`| ${n} | ${ms(r.process)} | ${ms(r.inProcess)} | ${ms(r.real)} |`);
}
const b = await batch(5000);
console.log(
  `\n5,000 add-port in one invocation (one transaction): ours ${b.ours.toFixed(2)} s, real ovs-vsctl ${b.real === undefined ? '—' : `${b.real.toFixed(2)} s`}`,
);
