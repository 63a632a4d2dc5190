/**
 * Random and mutated requests: the server never crashes, answers every
 * request (or drops the connection for bytes that are not JSON-RPC), and a
 * transaction whose results hold an error leaves the database unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database } from './db.js';
import { execute } from './execution.js';
import type { Json } from './json.js';
import { RawPeer, startTestServer } from './testing/helpers.js';
import { vswitchDatabaseSchema } from './vswitch.js';

const DB = 'Open_vSwitch';
const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface', 'Mirror', 'QoS', 'Nope'];
const COLUMNS = ['name', 'ports', 'interfaces', 'bridges', 'next_cfg', 'ofport_request', 'options', 'external_ids', 'select_src_port', 'type', '_uuid', 'nope'];
const NAMES = ['a', 'b', 'c'];

const uuidRef = fc.oneof(
  fc.constantFrom(...NAMES).map((n) => ['named-uuid', n]),
  fc.constant(['uuid', '00000000-0000-0000-0000-000000000001']),
  fc.constant(['uuid', 'bad']),
);
const value: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -2, max: 70000 }),
  fc.constantFrom('br0', 'p1', 'internal', '', 'x'),
  fc.boolean(),
  uuidRef as fc.Arbitrary<Json>,
  fc.array(uuidRef, { maxLength: 3 }).map((a) => ['set', a] as Json),
  fc.constant(['map', [['k', 'v']]] as Json),
  fc.constant(['set', [1, 1]] as Json),
  fc.constant(null),
);
const row = fc.dictionary(fc.constantFrom(...COLUMNS), value, { maxKeys: 3 });
const where = fc.array(fc.oneof(fc.tuple(fc.constantFrom(...COLUMNS), fc.constantFrom('==', '!=', 'includes', 'excludes', '<', '~'), value), fc.boolean()), {
  maxLength: 2,
});
const op = fc.oneof<fc.Arbitrary<Json>[]>(
  fc.record({ op: fc.constant('insert'), table: fc.constantFrom(...TABLES), 'uuid-name': fc.constantFrom(...NAMES), row }),
  fc.record({ op: fc.constant('update'), table: fc.constantFrom(...TABLES), where, row }),
  fc.record({
    op: fc.constant('mutate'),
    table: fc.constantFrom(...TABLES),
    where,
    mutations: fc.array(fc.tuple(fc.constantFrom(...COLUMNS), fc.constantFrom('insert', 'delete', '+=', '/=', '%=', '??'), value), { maxLength: 2 }),
  }),
  fc.record({ op: fc.constant('delete'), table: fc.constantFrom(...TABLES), where }),
  fc.record({ op: fc.constant('select'), table: fc.constantFrom(...TABLES), where }),
  fc.record({
    op: fc.constant('wait'),
    table: fc.constantFrom(...TABLES),
    where,
    timeout: fc.constant(0),
    columns: fc.constant(['name'] as Json),
    until: fc.constantFrom('==', '!='),
    rows: fc.constant([] as Json),
  }),
  fc.constantFrom<Json>(
    { op: 'abort' },
    { op: 'commit', durable: true },
    { op: 'comment', comment: 'c' },
    { op: 'assert', lock: 'x' },
    { op: 'nope' },
    7,
    null,
  ),
  fc.jsonValue() as fc.Arbitrary<Json>,
);

/** Everything observable: rows with their fields, reference counts, indexes. */
function snapshot(db: Database): string {
  return JSON.stringify([...db.tables].map(([n, t]) => [n, [...t.rows.values()].map((r) => [r.uuid, r.fields]), [...t.refs], t.indexes.map((i) => [...i])]));
}

const hasError = (results: Json[]) => results.some((r) => r !== null && typeof r === 'object' && 'error' in (r as object));

describe('fuzz', () => {
  it('transactions: no exception, and an error anywhere means no change at all', () => {
    const db = new Database(vswitchDatabaseSchema());
    execute(db, [DB, { op: 'insert', table: DB, row: {} }]);
    let committed = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 6 }), (ops) => {
        const before = snapshot(db);
        const out = execute(db, [DB, ...ops]);
        if (out.kind !== 'done') throw new Error('a wait with timeout 0 never blocks');
        if (hasError(out.results)) {
          expect(out.txn).toBeNull();
          expect(snapshot(db)).toBe(before);
        } else if (out.txn) {
          out.txn.commit();
          committed++;
        }
        // Invariants after every step: strong references all resolve, counts match.
        const counts = new Map<string, number>();
        for (const t of db.tables.values()) {
          for (const r of t.rows.values()) {
            for (const c of t.refColumns) {
              const d = r.fields[c.name]!;
              const check = (tab: string | undefined, weak: boolean, u: string) => {
                if (!tab) return;
                expect(db.table(tab)!.rows.has(u), `${t.schema.name}.${c.name} → ${u}`).toBe(true);
                if (!weak && u !== r.uuid) counts.set(`${tab}/${u}`, (counts.get(`${tab}/${u}`) ?? 0) + 1);
              };
              for (const k of d.keys) check(c.type.key.refTable, c.type.key.refType === 'weak', k as string);
              for (const v of d.values ?? []) check(c.type.value?.refTable, c.type.value?.refType === 'weak', v as string);
            }
          }
        }
        for (const t of db.tables.values()) {
          for (const r of t.rows.values()) {
            const n = counts.get(`${t.schema.name}/${r.uuid}`) ?? 0;
            expect(t.refs.get(r.uuid) ?? 0).toBe(n);
            if (!t.schema.isRoot) expect(n).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 400 },
    );
    expect(committed).toBeGreaterThan(0);
  });

  it('the server survives random bytes and mutated requests, and keeps serving', async () => {
    const srv = await startTestServer({ memory: true });
    let answered = 0;
    try {
      const valid = JSON.stringify({ method: 'transact', params: [DB, { op: 'insert', table: 'QoS', row: { type: 'x' } }], id: 1 });
      const mutate = fc
        .tuple(fc.nat(valid.length - 1), fc.string({ maxLength: 4 }), fc.nat(3))
        .map(([at, s, cut]) => valid.slice(0, at) + s + valid.slice(at + cut));
      const requests = fc.oneof(
        mutate,
        fc.string({ maxLength: 40 }),
        fc.jsonValue().map((j) => JSON.stringify(j)),
        // Around lib/json.c's nesting limit (1,000), and far past it.
        fc
          .oneof(fc.integer({ min: 995, max: 1005 }), fc.integer({ min: 1006, max: 100_000 }))
          .map((n) => `{"method":"echo","id":1,"params":${'['.repeat(n)}${']'.repeat(n)}}`),
        fc
          .record({
            method: fc.constantFrom('transact', 'monitor', 'monitor_cond', 'monitor_cond_since', 'lock', 'unlock', 'steal', 'get_schema', 'echo', 'x'),
            params: fc.array(fc.jsonValue(), { maxLength: 4 }),
            id: fc.oneof(fc.integer(), fc.constant(null)),
          })
          .map((r) => JSON.stringify(r)),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(requests, { minLength: 1, maxLength: 4 }), async (reqs) => {
          const p = await RawPeer.open(srv.socket);
          for (const r of reqs) p.send(r);
          // A sentinel: the connection was dropped, or it still answers, or (a message left
          // unfinished) the server is waiting for the rest of it.
          p.send('{"method":"echo","params":["sentinel"],"id":"s"}');
          await p.until((m) => m.some((x) => (x as { id?: Json }).id === 's'), 300);
          answered += p.closed || p.messages.some((x) => (x as { id?: Json }).id === 's') ? 1 : 0;
          p.close();
        }),
        { numRuns: 150 },
      );
      expect(answered).toBeGreaterThan(75);
      const q = await RawPeer.open(srv.socket);
      expect((await q.call('echo', ['alive'])).result).toEqual(['alive']);
      q.close();
    } finally {
      await srv.close();
    }
  }, 60_000);
});
