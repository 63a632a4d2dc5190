import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbClient } from './client.js';
import type { Json } from './json.js';
import { DbFile, encodeRecord, readRecords } from './log.js';
import { BIN, ensureBuilt, startTestServer, tempDir } from './testing/helpers.js';
import { vswitchSchema } from './vswitch.js';

const DB = 'Open_vSwitch';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const qosNames = (f: DbFile) =>
  [...f.db.table('QoS')!.rows.values()].map((r) => r.fields.external_ids!.values![0] as string).sort((a, b) => Number(a) - Number(b));

describe('the database file', () => {
  it('has the real format: header "OVSDB JSON <len> <sha1>", the schema first', () => {
    const d = dir();
    DbFile.create(join(d, 'x.db'), vswitchSchema());
    const text = readFileSync(join(d, 'x.db'), 'utf8');
    const [header, body] = text.split('\n');
    expect(header).toMatch(/^OVSDB JSON \d+ [0-9a-f]{40}$/);
    expect(Number(header!.split(' ')[2])).toBe(Buffer.byteLength(`${body}\n`));
    expect(JSON.parse(body!).version).toBe('8.3.1');
    expect(() => DbFile.create(join(d, 'x.db'), vswitchSchema())).toThrow(/already exists/);
  });

  it('replays committed transactions on open', async () => {
    const s = await startTestServer();
    const c = await OvsdbClient.connect(s.remote);
    await c.transact(DB, { op: 'insert', table: DB, row: { external_ids: ['map', [['a', 'b']]] } });
    await c.transact(DB, { op: 'mutate', table: DB, where: [], mutations: [['next_cfg', '+=', 5]] });
    c.close();
    await s.server.close(); // keeps the file: close() of the helper would delete it
    const f = DbFile.open(s.file!);
    const row = [...f.db.table(DB)!.rows.values()][0]!;
    expect(row.fields.next_cfg).toEqual({ keys: [5] });
    expect(row.fields.external_ids).toEqual({ keys: ['a'], values: ['b'] });
    f.close();
  });

  it('drops a torn or corrupt last record with a warning, truncating the file there', () => {
    const d = dir();
    const path = join(d, 'x.db');
    DbFile.create(path, vswitchSchema());
    const rec = (n: number) => encodeRecord({ QoS: { [`00000000-0000-0000-0000-00000000000${n}`]: { external_ids: ['map', [['n', String(n)]]] } }, _date: 0 });
    appendFileSync(path, rec(1));
    const good = statSync(path).size;
    for (const damage of ['torn', 'sha'] as const) {
      const r2 = rec(2);
      if (damage === 'torn') appendFileSync(path, r2.subarray(0, r2.length - 7));
      else {
        const bad = Buffer.from(r2);
        bad[bad.length - 5] = bad[bad.length - 5]! ^ 1;
        appendFileSync(path, bad);
      }
      const warnings: string[] = [];
      const f = DbFile.open(path, { onWarning: (w) => warnings.push(w) });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        damage === 'torn' ? /error reading \d+ bytes starting at offset \d+ \(End of file\)/ : /have SHA-1 hash [0-9a-f]{40} but should have hash/,
      );
      expect(qosNames(f)).toEqual(['1']);
      expect(statSync(path).size).toBe(good);
      f.close();
    }
    expect(readRecords(readFileSync(path)).problem).toBeUndefined();
  });

  it('compacts when the log grows, keeping every row', async () => {
    const s = await startTestServer({ compactMinBytes: 20_000 });
    const c = await OvsdbClient.connect(s.remote);
    for (let i = 0; i < 200; i++) {
      await c.transact(DB, { op: 'insert', table: 'QoS', row: { type: 'x'.repeat(500), external_ids: ['map', [['n', String(i)]]] } });
      if (i % 2) await c.transact(DB, { op: 'delete', table: 'QoS', where: [['external_ids', 'includes', ['map', [['n', String(i - 1)]]]]] });
    }
    c.close();
    await s.server.close();
    const { records } = readRecords(readFileSync(s.file!));
    // Compacted: the schema, one snapshot, then what was committed since (fewer than the 300 transactions).
    expect(records.length).toBeLessThan(301);
    expect(records[1]).toMatchObject({ _comment: 'compacting database online' });
    const f = DbFile.open(s.file!);
    expect(qosNames(f)).toEqual(Array.from({ length: 100 }, (_, i) => String(2 * i + 1)));
    f.close();
  });
});

describe('kill -9', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  /** Runs `ovs-db serve` as a child, pipelines transactions, SIGKILLs it after `killAfter` acks. */
  async function crashRun(path: string, killAfter: number, start: number): Promise<Set<number>> {
    const sock = join(path, '..', `s${start}.sock`);
    const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', path, '--remote', `punix:${sock}`], { stdio: 'ignore' });
    for (let i = 0; i < 3000 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
    let c: OvsdbClient | undefined;
    for (let i = 0; !c; i++) {
      // The socket file appears when bound, a moment before the server accepts.
      c = await OvsdbClient.connect(`unix:${sock}`).catch((e) => {
        if (i > 300) throw e;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 10));
      });
    }
    const acked = new Set<number>();
    let n = start;
    await new Promise<void>((resolve) => {
      const one = () => {
        const id = n++;
        // Two rows per transaction: both or neither must survive.
        c.transact(DB, ...[0, 1].map((k) => ({ op: 'insert', table: 'QoS', row: { type: `t${k}`, external_ids: ['map', [['n', String(id)]]] } }) as Json)).then(
          (r) => {
            if (!r.some((x) => x && typeof x === 'object' && 'error' in x)) acked.add(id);
            if (acked.size === killAfter) {
              child.kill('SIGKILL'); // with several transactions still in flight
              resolve();
            } else one();
          },
          () => resolve(),
        );
      };
      for (let k = 0; k < 8; k++) one();
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    c.close();
    return acked;
  }

  it('loses nothing acknowledged and never keeps half a transaction', async () => {
    const d = dir();
    const path = join(d, 'conf.db');
    DbFile.create(path, vswitchSchema());
    const allAcked = new Set<number>();
    for (const [round, killAfter] of [37, 150, 5].entries()) {
      for (const id of await crashRun(path, killAfter, round * 1000)) allAcked.add(id);
      const f = DbFile.open(path, { onWarning: () => {} });
      const byN = new Map<string, number>();
      for (const r of f.db.table('QoS')!.rows.values()) {
        const k = r.fields.external_ids!.values![0] as string;
        byN.set(k, (byN.get(k) ?? 0) + 1);
      }
      f.close();
      for (const id of allAcked) expect(byN.get(String(id)), `transaction ${id}`).toBe(2);
      for (const [k, count] of byN) expect(count, `transaction ${k}`).toBe(2);
    }
  }, 60_000);

  it('reads a file whose last write was cut by a crash (simulated) and goes on appending', () => {
    const d = dir();
    const path = join(d, 'conf.db');
    DbFile.create(path, vswitchSchema());
    const rec = encodeRecord({ QoS: { '00000000-0000-0000-0000-000000000001': { external_ids: ['map', [['n', '1']]] } }, _date: 0 });
    appendFileSync(path, rec);
    for (let cut = 1; cut < rec.length; cut += 37) {
      const copy = join(d, `c${cut}.db`);
      writeFileSync(copy, readFileSync(path));
      appendFileSync(copy, rec.subarray(0, cut));
      const f = DbFile.open(copy, { onWarning: () => {} });
      expect(qosNames(f)).toEqual(['1']);
      f.close();
    }
    truncateSync(path, statSync(path).size);
  });
});
