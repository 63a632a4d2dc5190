/**
 * Many clients at once on one server: IDLs opening while other clients commit
 * as fast as they can (every replica must end equal to the server's contents,
 * the case ovs-vsctl hung on when an update right behind the monitor reply was
 * dropped), against our server and Debian's real ovsdb-server; 200
 * connections, half of them reading late and slowly or not at all, against
 * ovsdb-server's flow control.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OvsdbClient } from './client.js';
import { Idl } from './idl.js';
import { type Json, type JsonObject, sortedJson } from './json.js';
import { type TestServer, startTestServer, tempDir } from './testing/helpers.js';
import { type RealServer, ensureRealOvs, startRealServer } from './testing/real-ovs.js';

const DB = 'Open_vSwitch';
const TABLES = { Open_vSwitch: ['external_ids'], QoS: ['type', 'other_config'] } as const;
const WRITERS = 8;
const TXNS_PER_WRITER = 40;
const IDLS = 30;

/** A table's rows as "uuid → sorted column JSON", from a select reply or from an IDL replica. */
type Snapshot = Record<string, Record<string, string>>;

async function serverSnapshot(c: OvsdbClient): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const [table, cols] of Object.entries(TABLES)) {
    const [r] = (await c.transact(DB, { op: 'select', table, where: [], columns: ['_uuid', ...cols] })) as [{ rows: JsonObject[] }];
    out[table] = {};
    for (const row of r.rows) {
      const norm: JsonObject = {};
      for (const col of cols) norm[col] = normalizeDatum(row[col]!);
      out[table]![(row._uuid as [string, string])[1]] = JSON.stringify(norm);
    }
  }
  return out;
}

/** ["map", [[k, v]...]] and plain atoms, in one comparable form. */
function normalizeDatum(j: Json): Json {
  if (Array.isArray(j) && j[0] === 'map') return (j[1] as [Json, Json][]).map(([k, v]) => [k, v]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return j;
}

function idlSnapshot(idl: Idl): Snapshot {
  const out: Snapshot = {};
  for (const [table, cols] of Object.entries(TABLES)) {
    out[table] = {};
    for (const row of idl.rows(table)) {
      const norm: JsonObject = {};
      for (const col of cols) {
        const v = row.get(col);
        norm[col] = v instanceof Map ? normalizeDatum(['map', [...v.entries()] as Json]) : (v as Json);
      }
      out[table]![row.uuid] = JSON.stringify(norm);
    }
  }
  return out;
}

/** One writer: inserts, modifies and deletes QoS rows and adds keys to Open_vSwitch, back to back. */
async function writer(remote: string, w: number): Promise<void> {
  const c = await OvsdbClient.connect(remote);
  try {
    const mine: string[] = [];
    for (let k = 0; k < TXNS_PER_WRITER; k++) {
      const op = k % 4;
      if (op === 3 && mine.length) {
        const u = mine.shift()!;
        await c.transact(DB, { op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', u]]] });
      } else if (op === 2 && mine.length) {
        const u = mine[mine.length - 1]!;
        await c.transact(DB, {
          op: 'mutate',
          table: 'QoS',
          where: [['_uuid', '==', ['uuid', u]]],
          mutations: [['other_config', 'insert', ['map', [[`k${k}`, `${w}`]]]]],
        });
      } else {
        const [r] = (await c.transact(
          DB,
          { op: 'insert', table: 'QoS', row: { type: `w${w}-${k}` } },
          { op: 'mutate', table: DB, where: [], mutations: [['external_ids', 'insert', ['map', [[`w${w}-${k}`, 'x']]]]] },
        )) as [{ uuid: [string, string] }];
        mine.push(r.uuid[1]);
      }
    }
  } finally {
    c.close();
  }
}

/** Opens IDLs one after another while the writers run; all opened ones, also when one fails. */
async function openIdls(remote: string, idls: Idl[]): Promise<void> {
  for (let i = 0; i < IDLS; i++) {
    idls.push(await Idl.open({ remote, tables: { ...TABLES }, reconnect: false }));
  }
}

/** Waits (bounded) until the replica equals the snapshot; returns the replica's last state. */
async function converged(idl: Idl, want: Snapshot, ms: number): Promise<Snapshot> {
  const deadline = Date.now() + ms;
  let have = idlSnapshot(idl);
  while (sortedJson(have) !== sortedJson(want) && Date.now() < deadline) {
    await Promise.race([idl.waitForChange(), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
    have = idlSnapshot(idl);
  }
  return have;
}

async function scenario(remote: string): Promise<void> {
  const setup = await OvsdbClient.connect(remote);
  const idls: Idl[] = [];
  try {
    await setup.transact(DB, { op: 'insert', table: DB, row: {} });
    await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(remote, w)), openIdls(remote, idls)]);
    expect(idls).toHaveLength(IDLS);
    const want = await serverSnapshot(setup);
    expect(Object.keys(want.QoS!).length).toBeGreaterThan(0);
    for (const idl of idls) expect(await converged(idl, want, 10_000)).toEqual(want);
  } finally {
    for (const i of idls) i.close();
    setup.close();
  }
}

describe('IDLs opening while others commit', () => {
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('every replica ends equal to our server', async () => {
    srv = await startTestServer({ memory: true });
    await scenario(srv.remote);
  }, 60_000);

  const real = ensureRealOvs();
  (real.ok ? it : it.skip)(
    'every replica ends equal to the real ovsdb-server',
    async () => {
      const { dir, cleanup } = tempDir();
      let rs: RealServer | undefined;
      try {
        rs = await startRealServer(dir);
        await scenario(rs.remote);
      } finally {
        await rs?.stop();
        cleanup();
      }
    },
    60_000,
  );
});

/** Relays a client to the server, reading what the server sends late and in small pieces. */
function slowProxy(path: string, target: string): Promise<Server> {
  const proxy = createServer((client) => {
    const upstream = connect(target);
    client.pipe(upstream);
    upstream.on('readable', function pace(this: Socket) {
      upstream.removeListener('readable', pace);
      const step = () => {
        const piece = upstream.read(Math.min(2048, upstream.readableLength || 2048)) as Buffer | null;
        if (piece) client.write(piece);
        if (!upstream.destroyed) setTimeout(step, piece ? 2 : 10).unref();
      };
      setTimeout(step, 50).unref();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((r) => proxy.listen(path, () => r(proxy)));
}

describe('200 connections, half of them slow or never reading', () => {
  let srv: TestServer | undefined;
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await srv?.close();
    srv = undefined;
  });

  it('the server answers everyone else, the slow ones catch up, and what waits for a non-reader stays bounded', async () => {
    srv = await startTestServer({ memory: true });
    const remote = srv.remote;
    const setup = await OvsdbClient.connect(remote);
    closers.push(() => setup.close());
    await setup.transact(DB, { op: 'insert', table: DB, row: {} });
    const rows: string[] = [];
    for (let i = 0; i < 8; i++) {
      const [r] = (await setup.transact(DB, { op: 'insert', table: 'QoS', row: { type: `r${i}` } })) as [{ uuid: [string, string] }];
      rows.push(r.uuid[1]);
    }

    const open = (r: string) => Idl.open({ remote: r, tables: { ...TABLES }, reconnect: false });
    const fast = await Promise.all(Array.from({ length: 100 }, () => open(remote)));
    closers.push(() => fast.forEach((i) => i.close()));
    const proxyPath = join(srv.dir, 'slow.sock');
    const proxy = await slowProxy(proxyPath, srv.socket);
    closers.push(() => proxy.close());
    const slow = await Promise.all(Array.from({ length: 90 }, () => open(`unix:${proxyPath}`)));
    closers.push(() => slow.forEach((i) => i.close()));
    // Never read a byte: a monitor asked for, then nothing.
    const deaf: Socket[] = [];
    for (let i = 0; i < 10; i++) {
      const s = connect(srv.socket);
      s.on('error', () => {});
      s.pause();
      s.write(JSON.stringify({ id: 1, method: 'monitor_cond', params: [DB, ['deaf', i], { QoS: { columns: ['other_config'] } }] }));
      deaf.push(s);
    }
    closers.push(() => deaf.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.server.sessions.size).toBe(1 + 100 + 90 + 10);

    // 4 writers, 100 commits each, each commit a 4 KiB value: 1.6 MB of updates for every
    // monitor, far more than a socket buffer holds.
    const big = 'x'.repeat(4096);
    let committed = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        const c = await OvsdbClient.connect(remote);
        try {
          for (let k = 0; k < 100; k++) {
            const u = rows[(w * 2 + (k % 2)) % rows.length]!;
            const r = (await c.transact(DB, {
              op: 'update',
              table: 'QoS',
              where: [['_uuid', '==', ['uuid', u]]],
              row: { other_config: ['map', [['v', `${k}${big}`]]] },
            })) as [{ count: number }];
            if (r[0].count === 1) committed++;
          }
        } finally {
          c.close();
        }
      }),
    );
    expect(committed).toBe(400);

    // What waits for a non-reader is what one merged update holds, not 1.6 MB.
    const deafSessions = [...srv.server.sessions].filter((s) => s.conn.backlogged);
    expect(deafSessions.length).toBeGreaterThanOrEqual(10);
    for (const s of deafSessions) expect(s.conn.socket.writableLength).toBeLessThan(256 * 1024);

    const want = await serverSnapshot(setup);
    for (const idl of [...fast, ...slow]) expect(await converged(idl, want, 30_000)).toEqual(want);
    // The server still answers, and the non-readers are still connected (as ovsdb-server keeps
    // a unix client that does not read: no inactivity probe on unix sockets).
    expect(await setup.echo('still')).toEqual(['still']);
    expect(srv.server.sessions.size).toBe(1 + 100 + 90 + 10);
  }, 120_000);

  it('a client that keeps sending requests but reads no reply stops being read (memory stays bounded)', async () => {
    srv = await startTestServer({ memory: true });
    const s = connect(srv.socket);
    s.on('error', () => {});
    s.pause();
    closers.push(() => s.destroy());
    // 3,000 get_schema: about 80 MB of replies if the server answered them all.
    s.write('{"method":"get_schema","params":["Open_vSwitch"],"id":1}'.repeat(3000));
    const session = () => [...srv!.server.sessions][0];
    for (let i = 0; i < 250 && !session()?.conn.backlogged; i++) await new Promise((r) => setTimeout(r, 20));
    expect(session()?.conn.backlogged).toBe(true);
    expect(session()!.conn.socket.writableLength).toBeLessThan(1024 * 1024);
    const c = await OvsdbClient.connect(srv.remote);
    closers.push(() => c.close());
    expect(await c.echo('others')).toEqual(['others']);
  }, 30_000);

  it("a TCP client that never reads is dropped by the inactivity probe, with ovsdb-server's log line", async () => {
    const log: string[] = [];
    srv = await startTestServer({ memory: true, remotes: ['ptcp:0:127.0.0.1'], probeIntervalMs: 200, log: (m) => log.push(m) });
    const tcp = srv.server.addresses.find((a) => a.startsWith('tcp:'))!;
    const [, host, port] = /^tcp:(.+):(\d+)$/.exec(tcp)!;
    const s = connect(Number(port), host!);
    s.on('error', () => {});
    s.pause();
    await new Promise((r) => s.once('connect', r));
    closers.push(() => s.destroy());
    s.write(JSON.stringify({ id: 1, method: 'monitor_cond', params: [DB, 'm', { QoS: { columns: ['type'] } }] }));
    const c = await OvsdbClient.connect(srv.remote);
    closers.push(() => c.close());
    // Others keep committing and being answered meanwhile.
    for (let k = 0; k < 200 && !log.length; k++) {
      await c.transact(DB, { op: 'insert', table: 'QoS', row: { type: 'x'.repeat(2000) } });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(new RegExp(`^tcp:127\\.0\\.0\\.1:${s.localPort}: no response to inactivity probe after [0-9.]+ seconds, disconnecting$`));
    expect(srv.server.sessions.size).toBe(1);
  }, 60_000);
});
