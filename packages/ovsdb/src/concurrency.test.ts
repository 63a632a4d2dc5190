/**
 * Many clients at once on one server: IDLs opening while other clients commit
 * as fast as they can (every replica must end equal to the server's contents,
 * the case ovs-vsctl hung on when an update right behind the monitor reply was
 * dropped), against our server and Debian's real ovsdb-server.
 */
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
        await c.transact(DB, { op: 'mutate', table: 'QoS', where: [['_uuid', '==', ['uuid', u]]], mutations: [['other_config', 'insert', ['map', [[`k${k}`, `${w}`]]]]] });
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
  (real.ok ? it : it.skip)('every replica ends equal to the real ovsdb-server', async () => {
    const { dir, cleanup } = tempDir();
    let rs: RealServer | undefined;
    try {
      rs = await startRealServer(dir);
      await scenario(rs.remote);
    } finally {
      await rs?.stop();
      cleanup();
    }
  }, 60_000);
});
