import { describe, expect, it } from 'vitest';
import { Database } from './db.js';
import { execute } from './execution.js';
import type { Json } from './json.js';
import { vswitchDatabaseSchema } from './vswitch.js';

const DB = 'Open_vSwitch';

/** Runs and commits a transaction; returns its results. */
function tx(db: Database, ...ops: Json[]): Json[] {
  const out = execute(db, [DB, ...ops]);
  if (out.kind !== 'done') throw new Error('blocked');
  if (out.txn) out.txn.commit();
  return out.results;
}

const count = (db: Database, t: string) => db.table(t)!.rows.size;
const names = (db: Database, t: string) => [...db.table(t)!.rows.values()].map((r) => r.fields.name!.keys[0]).sort();

function bridgeWithPorts(db: Database, bridge: string, ports: string[]) {
  const ops: Json[] = [];
  for (const p of ports) {
    ops.push({ op: 'insert', table: 'Interface', 'uuid-name': `i_${p}`, row: { name: p } });
    ops.push({ op: 'insert', table: 'Port', 'uuid-name': `p_${p}`, row: { name: p, interfaces: ['named-uuid', `i_${p}`] } });
  }
  ops.push({ op: 'insert', table: 'Bridge', 'uuid-name': 'br', row: { name: bridge, ports: ['set', ports.map((p) => ['named-uuid', `p_${p}`])] } });
  ops.push({ op: 'mutate', table: DB, where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'br']]]]] });
  return tx(db, ...ops);
}

describe('transact', () => {
  it('is atomic: an error in the last operation undoes the first ones, and later results are null', () => {
    const db = new Database(vswitchDatabaseSchema());
    tx(db, { op: 'insert', table: DB, row: {} });
    const r = tx(
      db,
      { op: 'insert', table: 'Interface', 'uuid-name': 'i', row: { name: 'a' } },
      { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name: 'a', interfaces: ['named-uuid', 'i'] } },
      { op: 'update', table: 'Interface', where: [], row: { ofport_request: 70000 } },
      { op: 'select', table: 'Port', where: [] },
    );
    expect(r[0]).toHaveProperty('uuid');
    expect(r[2]).toEqual({ error: 'constraint violation', details: '70000 is not in the valid range 1 to 65279 (inclusive)' });
    expect(r[3]).toBeNull();
    expect(r).toHaveLength(4);
    expect(count(db, 'Port') + count(db, 'Interface')).toBe(0);
  });

  it('reports a commit-time error as one more result after the operations', () => {
    const db = new Database(vswitchDatabaseSchema());
    const r = tx(db, { op: 'insert', table: 'Port', row: { name: 'x', interfaces: ['uuid', '00000000-0000-0000-0000-00000000000a'] } });
    expect(r).toHaveLength(2);
    expect(r[1]).toMatchObject({ error: 'referential integrity violation' });
    expect(count(db, 'Port')).toBe(0);
  });

  it('collects garbage transitively: removing a bridge from Open_vSwitch removes its ports and interfaces', () => {
    const db = new Database(vswitchDatabaseSchema());
    tx(db, { op: 'insert', table: DB, row: {} });
    bridgeWithPorts(db, 'br0', ['a', 'b']);
    bridgeWithPorts(db, 'br1', ['c']);
    expect(names(db, 'Interface')).toEqual(['a', 'b', 'c']);
    const br0 = [...db.table('Bridge')!.rows.values()].find((r) => r.fields.name!.keys[0] === 'br0')!;
    tx(db, { op: 'mutate', table: DB, where: [], mutations: [['bridges', 'delete', ['uuid', br0.uuid]]] });
    expect(names(db, 'Bridge')).toEqual(['br1']);
    expect(names(db, 'Port')).toEqual(['c']);
    expect(names(db, 'Interface')).toEqual(['c']);
    expect(db.table('Port')!.refs.size).toBe(1);
  });

  it('changes _version on every modification and only then', () => {
    const db = new Database(vswitchDatabaseSchema());
    tx(db, { op: 'insert', table: DB, row: {} });
    const v = () => (tx(db, { op: 'select', table: DB, where: [], columns: ['_version'] })[0] as { rows: { _version: Json }[] }).rows[0]!._version;
    const v0 = v();
    tx(db, { op: 'update', table: DB, where: [], row: { next_cfg: 0 } }); // no change
    expect(v()).toEqual(v0);
    tx(db, { op: 'mutate', table: DB, where: [], mutations: [['next_cfg', '+=', 1]] });
    expect(v()).not.toEqual(v0);
  });

  it('blocks on an unmet "wait" with a timeout left, and times out at once with timeout 0', () => {
    const db = new Database(vswitchDatabaseSchema());
    const wait = (timeout: number) => ({ op: 'wait', table: 'Bridge', timeout, where: [], columns: ['name'], until: '==', rows: [{ name: 'br0' }] });
    expect(execute(db, [DB, wait(1000)])).toEqual({ kind: 'blocked', timeoutMs: 1000 });
    expect(execute(db, [DB, wait(1000)], { elapsedMs: 1000 })).toMatchObject({
      kind: 'done',
      results: [{ error: 'timed out', details: '"wait" timed out after 1000 ms' }],
    });
    expect(execute(db, [DB, wait(0)])).toMatchObject({ results: [{ error: 'timed out', details: '"where" clause test failed' }] });
  });

  it('"assert" needs the lock', () => {
    const db = new Database(vswitchDatabaseSchema());
    expect(execute(db, [DB, { op: 'assert', lock: 'l' }], { ownsLock: () => true })).toMatchObject({ results: [{}] });
    expect(execute(db, [DB, { op: 'assert', lock: 'l' }], { ownsLock: () => false })).toMatchObject({
      results: [{ error: 'not owner', details: 'Asserted lock l not held.' }],
    });
  });

  it('keeps the name index current across renames, deletes and re-adds', () => {
    const db = new Database(vswitchDatabaseSchema());
    tx(db, { op: 'insert', table: DB, row: {} });
    bridgeWithPorts(db, 'br0', ['a']);
    const br = [...db.table('Bridge')!.rows.values()][0]!;
    tx(db, { op: 'update', table: 'Bridge', where: [], row: { ports: ['set', []] } }); // a is collected
    expect(bridgeWithPorts(db, 'br1', ['a']).some((r) => r && typeof r === 'object' && 'error' in r)).toBe(false);
    tx(db, { op: 'mutate', table: DB, where: [], mutations: [['bridges', 'delete', ['uuid', br.uuid]]] });
    expect(bridgeWithPorts(db, 'br0', ['b']).some((r) => r && typeof r === 'object' && 'error' in r)).toBe(false);
    expect(db.table('Bridge')!.indexes[0]!.size).toBe(2);
  });
});
