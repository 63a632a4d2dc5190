import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OvsdbClient } from './client.js';
import { DbFile } from './log.js';
import { OvsdbServer, ServedDatabase } from './server.js';
import { Idl } from './idl.js';
import { type TestServer, startTestServer, tempDir } from './testing/helpers.js';
import type { Json } from './json.js';
import { JsonSplitter } from '@ovs/util';
import { vswitchSchema } from './vswitch.js';
import type { VswitchTables } from './vswitch-types.js';

const DB = 'Open_vSwitch';
let srv: TestServer;
const idls: Idl<VswitchTables>[] = [];
afterEach(async () => {
  for (const i of idls.splice(0)) i.close();
  await srv?.close();
});
async function open(): Promise<Idl<VswitchTables>> {
  const idl = await Idl.open<VswitchTables>({ remote: srv.remote, reconnect: { minMs: 20, maxMs: 100 } });
  idls.push(idl);
  return idl;
}

/** add-br as ovs-vsctl builds it: Interface, Port, Bridge, Open_vSwitch.bridges, verify, next_cfg++. */
async function addBridge(idl: Idl<VswitchTables>, name: string) {
  const ovs = idl.first('Open_vSwitch')!;
  const txn = idl.transaction();
  const i = txn.insert('Interface', { name, type: 'internal' });
  const p = txn.insert('Port', { name, interfaces: [i.uuid] });
  const b = txn.insert('Bridge', { name, ports: [p.uuid] });
  txn.verify(ovs, ['bridges']);
  txn.update(ovs, { bridges: [...ovs.get('bridges'), b.uuid] });
  txn.increment(ovs, 'next_cfg');
  txn.comment(`ovs-vsctl add-br ${name}`);
  return txn.commit();
}

describe('IDL', () => {
  it('replicates, counts changes, and types rows', async () => {
    srv = await startTestServer();
    const c = await OvsdbClient.connect(srv.remote);
    await c.transact(DB, { op: 'insert', table: DB, row: { external_ids: ['map', [['system-id', 'x']]] } });
    const idl = await open();
    const ovs = idl.first('Open_vSwitch')!;
    expect(ovs.get('external_ids')).toEqual(new Map([['system-id', 'x']]));
    expect(ovs.get('next_cfg')).toBe(0);
    expect(ovs.get('ovs_version')).toBeNull();
    const seen: number[] = [];
    idl.onChange((s) => seen.push(s));
    const s0 = idl.seqno;
    await c.transact(DB, { op: 'mutate', table: DB, where: [], mutations: [['external_ids', 'insert', ['map', [['k', 'v']]]]] });
    expect(await idl.waitForChange(s0)).toBe(s0 + 1);
    expect(ovs.get('external_ids')).toEqual(
      new Map([
        ['k', 'v'],
        ['system-id', 'x'],
      ]),
    );
    expect(seen).toEqual([s0 + 1]);
    c.close();
  });

  it('commits ovs-vsctl-style transactions: inserts with references, verify, increment', async () => {
    srv = await startTestServer();
    const idl = await open();
    expect(await idl.transaction().commit()).toEqual({ status: 'unchanged' });
    const t0 = idl.transaction();
    t0.insert('Open_vSwitch', {});
    expect(await t0.commit()).toMatchObject({ status: 'success' });
    // Our server sends the update before the reply: the replica already has the row.
    expect(idl.first('Open_vSwitch')).toBeDefined();
    const r = await addBridge(idl, 'br0');
    expect(r).toMatchObject({ status: 'success', increment: 1 });
    if (r.status !== 'success') return;
    expect(r.uuids.size).toBe(3);
    const br = [...idl.rows('Bridge')][0]!;
    expect(br.get('name')).toBe('br0');
    expect(idl.get('Port', br.get('ports')[0]!)!.get('interfaces')).toHaveLength(1);
    expect(idl.first('Open_vSwitch')!.get('next_cfg')).toBe(1);
    // Delete: the Bridge leaves Open_vSwitch.bridges and its Port and Interface are collected.
    const ovs = idl.first('Open_vSwitch')!;
    const del = idl.transaction();
    del.mutate(ovs, 'bridges', 'delete', [br.uuid]);
    expect(await del.commit()).toMatchObject({ status: 'success' });
    expect([...idl.rows('Bridge')].length + [...idl.rows('Port')].length + [...idl.rows('Interface')].length).toBe(0);
  });

  it('answers try-again when a verified column changed behind its back, error on a constraint', async () => {
    srv = await startTestServer();
    const a = await open();
    const b = await open();
    const t = a.transaction();
    t.insert('Open_vSwitch', {});
    await t.commit();
    await b.waitForChange(0);
    await new Promise((r) => setTimeout(r, 20));
    const stale = b.transaction();
    stale.verify(b.first('Open_vSwitch')!, ['bridges']);
    stale.update(b.first('Open_vSwitch')!, { bridges: [] });
    expect(await addBridge(a, 'br0')).toMatchObject({ status: 'success' });
    expect(await stale.commit()).toMatchObject({ status: 'try-again', error: { tag: 'timed out' } });
    const bad = a.transaction();
    bad.update(a.first('Open_vSwitch')!, { bridges: ['00000000-0000-0000-0000-000000000009'] });
    expect(await bad.commit()).toMatchObject({ status: 'error', error: { tag: 'referential integrity violation' } });
    expect(await addBridge(a, 'br0')).toMatchObject({ status: 'error', error: { tag: 'constraint violation' } });
  });

  it('reconnects with backoff after the server restarts, and resynchronises', async () => {
    srv = await startTestServer();
    const idl = await open();
    const t = idl.transaction();
    t.insert('Open_vSwitch', {});
    await t.commit();
    await addBridge(idl, 'br0');
    await srv.server.close();
    // While the server is away, a transaction fails with try-again.
    const away = idl.transaction();
    away.update(idl.first('Open_vSwitch')!, { next_cfg: 9 });
    expect(await away.commit()).toMatchObject({ status: 'try-again' });
    const s = idl.seqno;
    const f = DbFile.open(srv.file!);
    const server2 = await OvsdbServer.start({ databases: [new ServedDatabase(f.db, f)], remotes: [`punix:${srv.socket}`] });
    try {
      await idl.waitForChange(s);
      expect([...idl.rows('Bridge')].map((b) => b.get('name'))).toEqual(['br0']);
      expect(await addBridge(idl, 'br1')).toMatchObject({ status: 'success', increment: 2 });
    } finally {
      idl.close();
      await server2.close();
    }
  });

  it('applies updates that come right behind the monitor reply, in the same read', async () => {
    // The server side of ovsdb-server's ordering: a transaction committed while the monitor
    // reply is in flight is sent right after it, often in the same segment. A fake server
    // makes that certain: reply and update2 in one write.
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'fake.sock');
    const schema = vswitchSchema();
    const ovs = '00000000-0000-4000-8000-000000000001';
    const fake = createServer((sock) => {
      const splitter = new JsonSplitter();
      sock.on('data', (d) => {
        for (const t of splitter.push(d)) {
          const m = JSON.parse(t) as { id: Json; method: string; params: Json[] };
          if (m.method === 'get_schema') sock.write(JSON.stringify({ id: m.id, result: schema, error: null }));
          if (m.method === 'monitor_cond') {
            const reply = JSON.stringify({ id: m.id, result: {}, error: null });
            const update = JSON.stringify({ id: null, method: 'update2', params: [m.params[1]!, { Open_vSwitch: { [ovs]: { insert: { next_cfg: 7 } } } }] });
            sock.write(reply + update);
          }
        }
      });
    });
    await new Promise<void>((r) => fake.listen(path, r));
    try {
      const idl = await Idl.open<VswitchTables>({ remote: `unix:${path}`, reconnect: false });
      idls.push(idl);
      expect(idl.first('Open_vSwitch')?.uuid).toBe(ovs);
      expect(idl.first('Open_vSwitch')?.get('next_cfg')).toBe(7);
    } finally {
      for (const i of idls.splice(0)) i.close();
      await new Promise<void>((r) => fake.close(() => r()));
      cleanup();
    }
  });
});
