// OVSDB server + client + IDL costs, over a unix socket, with the database file
// fsynced on every commit:   pnpm --filter @ovs/ovsdb bench
//  1. one transaction adding 10,000 Port+Interface rows to a Bridge;
//  2. 1,000 transactions adding one port each to a growing bridge, three ways:
//     raw (insert Interface + Port, mutate Bridge.ports), the IDL as ovs-vsctl
//     3.1 does it (verify Bridge.ports, update it whole, next_cfg++), the IDL
//     with a mutate instead, and — when Debian's ovsdb-server is installed —
//     the IDL ways against the real server;
//  3. memory per row of the in-memory database.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Database, DbFile, Idl, OvsdbClient, OvsdbServer, ServedDatabase, execute, vswitchDatabaseSchema, vswitchSchema } from '../dist/index.js';

const DB = 'Open_vSwitch';
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const dir = mkdtempSync(join(os.tmpdir(), 'ovsdb-bench-'));

async function ourServer(name) {
  const file = join(dir, `${name}.db`);
  DbFile.create(file, vswitchSchema());
  const f = DbFile.open(file);
  const sock = join(dir, `${name}.sock`);
  const server = await OvsdbServer.start({ databases: [new ServedDatabase(f.db, f)], remotes: [`punix:${sock}`] });
  return { remote: `unix:${sock}`, close: () => server.close() };
}

async function realServer(name) {
  if (spawnSync('sh', ['-c', 'command -v ovsdb-server']).status !== 0) return null;
  const file = join(dir, `${name}.db`);
  execFileSync('ovsdb-tool', ['create', file, '/usr/share/openvswitch/vswitch.ovsschema']);
  const sock = join(dir, `${name}.sock`);
  const p = spawn('ovsdb-server', [file, `--remote=punix:${sock}`, `--unixctl=${join(dir, `${name}.ctl`)}`, '--no-chdir', '-vconsole:off'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  return { remote: `unix:${sock}`, close: async () => p.kill('SIGTERM') };
}

async function setupBridge(c) {
  const r = await c.transact(
    DB,
    { op: 'insert', table: DB, 'uuid-name': 'o', row: { bridges: ['named-uuid', 'b'] } },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0' } },
  );
  return r[1].uuid[1];
}

function portOps(names) {
  const ops = [];
  for (const n of names) {
    ops.push({ op: 'insert', table: 'Interface', 'uuid-name': `i${n}`, row: { name: n, type: 'internal' } });
    ops.push({ op: 'insert', table: 'Port', 'uuid-name': `p${n}`, row: { name: n, interfaces: ['named-uuid', `i${n}`] } });
  }
  return ops;
}
const addToBridge = (br, names) => ({
  op: 'mutate',
  table: 'Bridge',
  where: [['_uuid', '==', ['uuid', br]]],
  mutations: [['ports', 'insert', ['set', names.map((n) => ['named-uuid', `p${n}`])]]],
});

async function batch(srv) {
  const c = await OvsdbClient.connect(srv.remote);
  const br = await setupBridge(c);
  const names = Array.from({ length: 10000 }, (_, i) => `p${i}`);
  const t0 = process.hrtime.bigint();
  const r = await c.transact(DB, ...portOps(names), addToBridge(br, names));
  const t = ms(t0);
  if (r.some((x) => x?.error)) throw new Error(JSON.stringify(r.find((x) => x?.error)));
  c.close();
  return t;
}

async function serialRaw(srv, n = 1000) {
  const c = await OvsdbClient.connect(srv.remote);
  const br = await setupBridge(c);
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await c.transact(DB, ...portOps([`p${i}`]), addToBridge(br, [`p${i}`]));
    times.push(ms(t0));
    if (r.some((x) => x?.error)) throw new Error(JSON.stringify(r));
  }
  c.close();
  return times;
}

async function serialIdl(srv, mode, n = 1000) {
  const idl = await Idl.open({ remote: srv.remote, tables: { Open_vSwitch: true, Bridge: true, Port: true, Interface: true } });
  const t = idl.transaction();
  const b = t.insert('Bridge', { name: 'br0' });
  t.insert('Open_vSwitch', { bridges: [b.uuid] });
  await t.commit();
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const ovs = idl.first('Open_vSwitch');
    const bridge = idl.first('Bridge');
    const txn = idl.transaction();
    const iface = txn.insert('Interface', { name: `p${i}` });
    const port = txn.insert('Port', { name: `p${i}`, interfaces: [iface.uuid] });
    if (mode === 'vsctl') {
      txn.verify(bridge, ['ports']);
      txn.update(bridge, { ports: [...bridge.get('ports'), port.uuid] });
    } else {
      txn.mutate(bridge, 'ports', 'insert', [port.uuid]);
    }
    txn.increment(ovs, 'next_cfg');
    const r = await txn.commit();
    if (r.status !== 'success') throw new Error(JSON.stringify(r));
    times.push(ms(t0));
  }
  idl.close();
  return times;
}

const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const describeSerial = (label, times) => {
  const total = times.reduce((x, y) => x + y, 0);
  console.log(
    `${label}: ${(total / 1000).toFixed(2)} s total; per transaction ${avg(times.slice(0, 100)).toFixed(3)} ms (ports 1-100), ` +
      `${avg(times.slice(450, 550)).toFixed(3)} ms (451-550), ${avg(times.slice(-100)).toFixed(3)} ms (901-1000)`,
  );
};

function memoryPerRow() {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const db = new Database(vswitchDatabaseSchema());
  const names = Array.from({ length: 10000 }, (_, i) => `p${i}`);
  const out = execute(db, [
    DB,
    { op: 'insert', table: DB, 'uuid-name': 'o', row: { bridges: ['named-uuid', 'b'] } },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0', ports: ['set', names.map((n) => ['named-uuid', `p${n}`])] } },
    ...portOps(names),
  ]);
  out.txn.commit();
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  const rows = db.rowCount();
  return { rows, bytesPerRow: (after - before) / rows, keep: db };
}

console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, node ${process.version}; database file fsynced per commit`);
{
  const s = await ourServer('batch');
  console.log(`ours: one transaction adding 10,000 Port+Interface rows to a Bridge: ${(await batch(s)).toFixed(0)} ms`);
  await s.close();
}
{
  const s = await ourServer('raw');
  describeSerial('ours, raw client: 1,000 transactions adding one port each', await serialRaw(s));
  await s.close();
}
{
  const s = await ourServer('idl');
  describeSerial('ours, IDL as ovs-vsctl 3.1 (verify + update whole Bridge.ports, next_cfg++): 1,000 transactions', await serialIdl(s, 'vsctl'));
  await s.close();
  const s2 = await ourServer('idl2');
  describeSerial('ours, IDL with mutate (insert into Bridge.ports, next_cfg++): 1,000 transactions', await serialIdl(s2, 'mutate'));
  await s2.close();
}
{
  const r = await realServer('real-batch');
  if (r) {
    console.log(`real ovsdb-server 3.1: one transaction adding 10,000 Port+Interface rows: ${(await batch(r)).toFixed(0)} ms`);
    await r.close();
    const r2 = await realServer('real-idl');
    describeSerial('real ovsdb-server 3.1, our IDL as ovs-vsctl 3.1: 1,000 transactions', await serialIdl(r2, 'vsctl'));
    await r2.close();
    const r3 = await realServer('real-idl2');
    describeSerial('real ovsdb-server 3.1, our IDL with mutate: 1,000 transactions', await serialIdl(r3, 'mutate'));
    await r3.close();
  } else {
    console.log('(real ovsdb-server not installed: no comparison run)');
  }
}
const m = memoryPerRow();
console.log(
  `memory: ${m.rows} rows (10,000 Port + 10,000 Interface + Bridge + Open_vSwitch), ${(m.bytesPerRow / 1024).toFixed(2)} KiB per row (heap, in-memory database only)`,
);
rmSync(dir, { recursive: true, force: true });
