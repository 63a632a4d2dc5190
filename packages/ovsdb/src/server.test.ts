import { afterEach, describe, expect, it } from 'vitest';
import { OvsdbClient, RpcError } from './client.js';
import { Database } from './db.js';
import type { Json } from './json.js';
import { OvsdbServer, ServedDatabase } from './server.js';
import { RawPeer, type TestServer, startTestServer } from './testing/helpers.js';
import { vswitchDatabaseSchema } from './vswitch.js';

const DB = 'Open_vSwitch';
let srv: TestServer;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await srv?.close();
});
async function peer(): Promise<RawPeer> {
  const p = await RawPeer.open(srv.socket);
  peers.push(p);
  return p;
}
const method = (m: Json) => (m as { method?: string }).method;

describe('JSON-RPC methods', () => {
  it('sends a committer its monitor update before the reply to its transact', async () => {
    srv = await startTestServer({ memory: true });
    const p = await peer();
    expect((await p.call('monitor', [DB, 'm', { Open_vSwitch: { columns: ['next_cfg'] } }], 1)).result).toEqual({});
    await p.call('transact', [DB, { op: 'insert', table: DB, row: { next_cfg: 2 } }], 2);
    const kinds = p.messages.map((m) => method(m) ?? `reply${(m as { id: Json }).id}`);
    expect(kinds).toEqual(['reply1', 'update', 'reply2']);
    const upd = p.messages[1] as { params: [Json, Record<string, Record<string, Json>>] };
    expect(upd.params[0]).toBe('m');
    expect(Object.values(upd.params[1].Open_vSwitch!)).toEqual([{ new: { next_cfg: 2 } }]);
    expect((await p.call('monitor_cancel', ['m'])).result).toEqual({});
    await p.call('transact', [DB, { op: 'mutate', table: DB, where: [], mutations: [['next_cfg', '+=', 1]] }], 3);
    expect(p.messages.filter((m) => method(m) === 'update')).toHaveLength(1);
    expect((await p.call('monitor_cancel', ['m'])).error).toBe('unknown monitor');
  });

  it('monitor_cond_since on a database that keeps no transaction history (not clustered): the zero id, never found, as the real 3.1', async () => {
    srv = await startTestServer({ memory: true });
    const p = await peer();
    await p.call('transact', [DB, { op: 'insert', table: DB, row: {} }]);
    const req = { Open_vSwitch: { columns: ['next_cfg'], where: [['next_cfg', '>=', 0]] } };
    const zero = '00000000-0000-0000-0000-000000000000';
    const r1 = (await p.call('monitor_cond_since', [DB, 'a', req, zero])).result as [boolean, string, Json];
    expect(r1.slice(0, 2)).toEqual([false, zero]);
    expect(Object.keys((r1[2] as Record<string, Json>).Open_vSwitch as object)).toHaveLength(1);
    const r2 = (await p.call('monitor_cond_since', [DB, 'b', req, '11111111-2222-3333-4444-555555555555'])).result as [boolean, string, Json];
    expect(r2).toEqual([false, zero, r1[2]]);
    await p.call('transact', [DB, { op: 'mutate', table: DB, where: [], mutations: [['next_cfg', '+=', 1]] }]);
    const u3 = p.messages.filter((m) => method(m) === 'update3') as { params: [Json, string, Json] }[];
    expect(u3.map((m) => m.params[0]).sort()).toEqual(['a', 'b']);
    expect(u3[0]!.params[1]).toBe(zero);
    expect(Object.values((u3[0]!.params[2] as Record<string, Record<string, Json>>).Open_vSwitch!)).toEqual([{ modify: { next_cfg: 1 } }]);
  });

  it('monitor_cond: rows entering and leaving the condition are inserts and deletes', async () => {
    srv = await startTestServer({ memory: true });
    const p = await peer();
    await p.call('transact', [DB, { op: 'insert', table: 'QoS', row: { type: 'a' } }]);
    await p.call('monitor_cond', [DB, 'c', { QoS: { columns: ['type'], where: [['type', '==', 'b']] } }]);
    await p.call('transact', [DB, { op: 'update', table: 'QoS', where: [], row: { type: 'b' } }]);
    await p.call('transact', [DB, { op: 'update', table: 'QoS', where: [], row: { type: 'c' } }]);
    const ups = p.messages
      .filter((m) => method(m) === 'update2')
      .map((m) => Object.values((m as { params: [Json, Record<string, Record<string, Json>>] }).params[1].QoS!)[0]);
    expect(ups).toEqual([{ insert: { type: 'b' } }, { delete: null }]);
  });

  it('lock, steal, unlock: "locked" and "stolen" notifications; assert follows ownership', async () => {
    srv = await startTestServer({ memory: true });
    const a = await peer();
    const b = await peer();
    expect((await a.call('lock', ['L'])).result).toEqual({ locked: true });
    expect((await b.call('lock', ['L'])).result).toEqual({ locked: false });
    expect((await a.call('lock', ['L'])).error).toMatchObject({ details: 'must issue "unlock" before new "lock"' });
    expect((await a.call('unlock', ['L'])).result).toEqual({});
    await b.until((m) => m.some((x) => method(x) === 'locked'));
    expect(b.messages.find((x) => method(x) === 'locked')).toEqual({ id: null, method: 'locked', params: ['L'] });
    expect((await a.call('steal', ['L'])).result).toEqual({ locked: true });
    await b.until((m) => m.some((x) => method(x) === 'stolen'));
    expect(((await b.call('transact', [DB, { op: 'assert', lock: 'L' }])).result as Json[])[0]).toMatchObject({ error: 'not owner' });
    expect(((await a.call('transact', [DB, { op: 'assert', lock: 'L' }])).result as Json[])[0]).toEqual({});
    a.close(); // the thief goes away: the victim gets the lock back
    await b.until((m) => m.filter((x) => method(x) === 'locked').length === 2);
  });

  it('a blocked "wait" completes when another client makes it true, times out otherwise, and can be cancelled', async () => {
    srv = await startTestServer({ memory: true });
    const a = await peer();
    const b = await peer();
    const wait = (timeout: number): Json => ({ op: 'wait', table: 'QoS', timeout, where: [], columns: ['type'], until: '==', rows: [{ type: 'go' }] });
    a.send({ method: 'transact', params: [DB, wait(60_000), { op: 'insert', table: 'Queue', row: {} }], id: 'w' });
    await b.call('echo', []);
    expect(a.messages).toEqual([]);
    await b.call('transact', [DB, { op: 'insert', table: 'QoS', row: { type: 'go' } }]);
    await a.until((m) => m.length > 0);
    expect((a.messages[0] as { result: Json[] }).result).toHaveLength(2);
    expect(srv.served.db.table('Queue')!.rows.size).toBe(1);
    const t = await a.call('transact', [DB, { ...(wait(50) as object), rows: [] }], 't');
    expect((t.result as Json[])[0]).toMatchObject({ error: 'timed out', details: expect.stringMatching(/^"wait" timed out after \d+ ms$/) });
    a.send({ method: 'transact', params: [DB, { ...(wait(60_000) as object), rows: [] }], id: 'c' });
    a.send({ method: 'cancel', params: ['c'], id: null });
    await a.until((m) => m.some((x) => (x as { id: Json }).id === 'c'));
    expect(a.messages.find((x) => (x as { id: Json }).id === 'c')).toEqual({ id: 'c', error: 'canceled' });
  });

  it('listens on TCP too, and the client speaks to it', async () => {
    const server = await OvsdbServer.start({ databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))], remotes: ['ptcp:0:127.0.0.1'] });
    try {
      const c = await OvsdbClient.connect(server.addresses[0]!);
      expect(await c.listDbs()).toEqual(['Open_vSwitch']);
      expect(await c.echo('x', 1)).toEqual(['x', 1]);
      await expect(c.request('nope', [])).rejects.toThrow(RpcError);
      c.close();
    } finally {
      await server.close();
    }
  });
});

describe('bad input', () => {
  it('closes a connection that sends malformed JSON, a non-object, or a non-JSON-RPC object; others are unaffected', async () => {
    srv = await startTestServer({ memory: true });
    const good = await peer();
    for (const bad of [
      '{"method": "echo", "params": [1,]}',
      '{"a": tru}',
      '42',
      '"str"',
      '{"hello": 1}',
      '{"method": "echo", "params": 5, "id": 1}',
      '[1,2]',
      '{"method":"echo","params":[],"id":1,"x":2}',
    ]) {
      const p = await peer();
      p.send(bad);
      await p.until(() => false);
      expect(p.closed, bad).toBe(true);
      expect(p.messages).toEqual([]);
    }
    expect((await good.call('echo', ['still here'])).result).toEqual(['still here']);
  });

  it('closes a connection whose message exceeds the size limit', async () => {
    const served = new ServedDatabase(new Database(vswitchDatabaseSchema()));
    const server = await OvsdbServer.start({ databases: [served], maxMessageBytes: 10_000 });
    const { tempDir } = await import('./testing/helpers.js');
    const t = tempDir();
    await server.listen(`punix:${t.dir}/s.sock`);
    try {
      const p = await RawPeer.open(`${t.dir}/s.sock`);
      p.send({ method: 'echo', params: ['x'.repeat(20_000)], id: 1 });
      await p.until(() => false);
      expect(p.closed).toBe(true);
      expect(p.messages).toEqual([]);
      const q = await RawPeer.open(`${t.dir}/s.sock`);
      expect((await q.call('echo', ['x'.repeat(5000)])).result).toEqual(['x'.repeat(5000)]);
      q.close();
    } finally {
      await server.close();
      t.cleanup();
    }
  });

  it('answers unknown methods and wrong params with errors, without closing', async () => {
    srv = await startTestServer({ memory: true });
    const p = await peer();
    expect((await p.call('frob', [])).error).toBe('unknown method');
    expect((await p.call('transact', [])).error).toMatchObject({ error: 'syntax error', details: 'transact request params must begin with <db-name>' });
    expect((await p.call('transact', [DB, 'not an op'])).result).toEqual([
      { error: 'syntax error', details: 'Parsing ovsdb operation 1 of 1 failed: Object expected.' },
    ]);
    expect((await p.call('monitor', [DB])).error).toMatchObject({ details: 'invalid parameters' });
    expect((await p.call('echo', ['ok'])).result).toEqual(['ok']);
  });

  it('a client vanishing mid-message or mid-wait leaves nothing half-done', async () => {
    srv = await startTestServer({ memory: true });
    const a = await peer();
    a.send('{"method":"transact","params":["Open_vSwitch",{"op":"insert","table":"QoS","row":{}}');
    a.close();
    const b = await peer();
    b.send({
      method: 'transact',
      params: [DB, { op: 'insert', table: 'QoS', row: {} }, { op: 'wait', table: 'Queue', where: [], columns: ['dscp'], until: '!=', rows: [] }],
      id: 1,
    });
    await b.call('echo', []);
    b.close();
    const c = await peer();
    await c.call('transact', [DB, { op: 'insert', table: 'Queue', row: {} }]);
    expect(srv.served.db.table('QoS')!.rows.size).toBe(0);
    expect(srv.server.sessions.size).toBe(1);
  });
});
