/**
 * Relay databases (relay.ts, transaction-forward.ts) checked against Debian's real ovsdb-server
 * 3.1: the same transactions, through the real ovsdb-client, against a relay in front of a source
 * — our relay before the real server, the real relay before ours, and each before its own kind —
 * give the same replies (writes forwarded to the source, reads and failed waits answered by the
 * relay, a commit-time error from the source), the same relay contents and the same _Server row;
 * a relay whose source is not there has a Database row "relay", not connected, without schema,
 * and answers "database not available", as the real one does; a write sent while the source is
 * away waits for it to come back.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@ovs/util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbClient } from './client.js';
import { type Json, ZERO_UUID } from './json.js';
import { Database } from './db.js';
import { OvsdbRelay, relayPlaceholder } from './relay.js';
import { parseSchema } from './schema.js';
import { type ForwardReply, ServedDatabase } from './server.js';
import { PKG, ensureBuilt, tempDir } from './testing/helpers.js';
import { ensureRealOvs } from './testing/real-ovs.js';

const OURS = join(PKG, 'bin', 'ovsdb-server.js');
const t = tempDir('relay-test-');
const real = ensureRealOvs();
const daemons: string[] = [];

type Which = 'ours' | 'real';

const SCHEMA = {
  name: 'relaytest',
  version: '1.0.0',
  tables: {
    Parent: {
      columns: {
        name: { type: 'string' },
        kids: { type: { key: { type: 'uuid', refTable: 'Child' }, min: 0, max: 'unlimited' } },
      },
      indexes: [['name']],
      isRoot: true,
    },
    Child: { columns: { n: { type: 'integer' } } },
  },
};

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(dir: string, cmd: string, args: string[], timeout = 30_000): Promise<Result> {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    // On exit, not on the pipes' end: a daemon started meanwhile may hold a copy of them.
    child.on('exit', (code) => {
      clearTimeout(timer);
      setTimeout(() => resolve({ status: code, stdout, stderr }), 50);
    });
    child.on('error', (e) => resolve({ status: null, stdout, stderr: e.message }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A daemon of either kind, detached, with its own pid file and control socket in `dir`. */
async function startServer(which: Which, dir: string, name: string, args: string[]): Promise<Result> {
  const common = ['--detach', '--no-chdir', `--pidfile=${name}.pid`, `--log-file=${name}.log`, `--unixctl=${name}.ctl`];
  const r = which === 'ours' ? await run(dir, process.execPath, [OURS, ...common, ...args]) : await run(dir, 'ovsdb-server', [...common, ...args]);
  if (r.status === 0) daemons.push(join(dir, `${name}.pid`));
  return r;
}

async function stopServer(dir: string, name: string): Promise<void> {
  await run(dir, 'ovs-appctl', ['-t', join(dir, `${name}.ctl`), 'exit']);
}

/** UUIDs replaced by <0>, <1>... in order of appearance, as the OVS test suite's uuidfilt does. */
function uuidfilt(s: string): string {
  const seen = new Map<string, number>();
  return s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
    if (!seen.has(u)) seen.set(u, seen.size);
    return `<${seen.get(u)}>`;
  });
}

/** Polls until `ok` holds, at most `ms`; the last value. */
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  let v = await fn();
  for (let waited = 0; !ok(v) && waited < ms; waited += 100) {
    await sleep(100);
    v = await fn();
  }
  return v;
}

const TXNS = [
  // Written: forwarded to the source, whose reply comes back.
  [
    { op: 'insert', table: 'Child', row: { n: 1 }, 'uuid-name': 'c1' },
    { op: 'insert', table: 'Parent', row: { name: 'p1', kids: ['set', [['named-uuid', 'c1']]] } },
  ],
  // Read from the relay's copy, which already has the insert.
  [{ op: 'select', table: 'Parent', where: [['name', '==', 'p1']], columns: ['name', 'kids'] }],
  [
    { op: 'insert', table: 'Child', row: { n: 2 }, 'uuid-name': 'c2' },
    { op: 'mutate', table: 'Parent', where: [], mutations: [['kids', 'insert', ['set', [['named-uuid', 'c2']]]]] },
  ],
  // A commit-time error: the source's.
  [{ op: 'insert', table: 'Parent', row: { name: 'p1' } }],
  // A failed wait and an abort: answered by the relay.
  [{ op: 'wait', table: 'Child', where: [], columns: ['n'], until: '==', rows: [], timeout: 0 }],
  [{ op: 'insert', table: 'Child', row: { n: 3 } }, { op: 'abort' }],
  [{ op: 'update', table: 'Parent', where: [], row: { kids: ['set', []] } }],
  // The children, unreferenced, were collected by the source; the relay sees them go.
  [{ op: 'select', table: 'Child', where: [], columns: ['n'] }],
  [{ op: 'delete', table: 'Parent', where: [['name', '==', 'p1']] }],
  [{ op: 'select', table: 'Parent', where: [] }],
];

/** A source of one kind and a relay of another; the real ovsdb-client's view of the relay. */
async function relayScenario(source: Which, relay: Which): Promise<string[]> {
  const dir = join(t.dir, `${source}-${relay}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema'), JSON.stringify(SCHEMA));
  const out: string[] = [];
  expect((await run(dir, 'ovsdb-tool', ['create', 'db1', 'schema'])).status).toBe(0);
  out.push(`source: ${(await startServer(source, dir, 's1', ['--remote=punix:db1.sock', 'db1'])).status}`);
  out.push(`relay: ${(await startServer(relay, dir, 's2', ['--remote=punix:db2.sock', 'relay:relaytest:unix:db1.sock'])).status}`);
  const client = (...a: string[]) => run(dir, 'ovsdb-client', a);
  // ovsdb-client wait: until the relay has its source's schema and data.
  out.push(`wait: ${(await client('--timeout=20', 'wait', 'unix:db2.sock', 'relaytest', 'connected')).status}`);
  await until(
    () => client('get-schema', 'unix:db2.sock', 'relaytest'),
    (r) => r.status === 0,
  );
  for (const ops of TXNS) {
    const r = await client('transact', 'unix:db2.sock', JSON.stringify(['relaytest', ...ops]));
    out.push(`${r.status} ${r.stdout.trim()}${r.stderr.trim() ? ` ${r.stderr.trim()}` : ''}`);
  }
  const dump = (sock: string, ...a: string[]) => client('dump', `unix:${sock}`, ...a).then((r) => `${r.status} ${r.stdout.replace(/ +\n/g, '\n')}`);
  // A source's copy and its relay's are equal once the last update is applied.
  const sourceDump = await dump('db1.sock', 'relaytest');
  out.push(
    `equal: ${
      (await until(
        () => dump('db2.sock', 'relaytest'),
        (v) => v === sourceDump,
      )) === sourceDump
    }`,
  );
  out.push(await dump('db2.sock', '_Server', 'Database', 'name', 'model', 'connected', 'leader'));
  out.push(`list-dbs: ${(await client('list-dbs', 'unix:db2.sock')).stdout}`);
  await stopServer(dir, 's2');
  await stopServer(dir, 's1');
  return out.map(uuidfilt);
}

/** A relay whose source is not there (yet). */
async function disconnectedScenario(relay: Which): Promise<string[]> {
  const dir = join(t.dir, `disconnected-${relay}`);
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  out.push(`relay: ${(await startServer(relay, dir, 's2', ['--remote=punix:db2.sock', 'relay:relaytest:unix:db1.sock'])).status}`);
  const client = (...a: string[]) => run(dir, 'ovsdb-client', a);
  await sleep(300);
  out.push(`list-dbs: ${(await client('list-dbs', 'unix:db2.sock')).stdout}`);
  const dump = await client('dump', 'unix:db2.sock', '_Server', 'Database', 'name', 'model', 'connected', 'leader', 'schema');
  out.push(dump.stdout.replace(/ +\n/g, '\n'));
  const schema = await client('get-schema', 'unix:db2.sock', 'relaytest');
  out.push(`${schema.status} ${schema.stderr.trim()}`);
  const txn = await client('transact', 'unix:db2.sock', JSON.stringify(['relaytest', { op: 'select', table: 'Child', where: [] }]));
  out.push(`${txn.status} ${txn.stdout.trim()} ${txn.stderr.trim()}`);
  const bad = await run(dir, 'ovs-appctl', ['-t', join(dir, 's2.ctl'), 'ovsdb-server/add-db', 'relay:nocolon']);
  out.push(`add-db: ${bad.status} ${bad.stdout}${bad.stderr.replaceAll(dir, 'DIR')}`);
  await stopServer(dir, 's2');
  return out;
}

/**
 * A write sent while the relay's source is away (after it had one): queued, and answered once the
 * source is back.
 */
async function sourceRestartScenario(source: Which, relay: Which): Promise<string[]> {
  const dir = join(t.dir, `restart-${source}-${relay}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema'), JSON.stringify(SCHEMA));
  const out: string[] = [];
  await run(dir, 'ovsdb-tool', ['create', 'db1', 'schema']);
  await startServer(source, dir, 's1', ['--remote=punix:db1.sock', 'db1']);
  await startServer(relay, dir, 's2', ['--remote=punix:db2.sock', 'relay:relaytest:unix:db1.sock']);
  const client = (...a: string[]) => run(dir, 'ovsdb-client', a);
  out.push(`wait: ${(await client('--timeout=20', 'wait', 'unix:db2.sock', 'relaytest', 'connected')).status}`);
  await until(
    () => client('get-schema', 'unix:db2.sock', 'relaytest'),
    (r) => r.status === 0,
  );
  await stopServer(dir, 's1');
  await until(
    async () => existsSync(join(dir, 's1.pid')),
    (v) => !v,
  );
  const pending = client('transact', 'unix:db2.sock', JSON.stringify(['relaytest', { op: 'insert', table: 'Parent', row: { name: 'p7' } }]));
  await sleep(500);
  // Still connected as far as _Server shows: the source has been away for less than 30 s.
  out.push((await client('dump', 'unix:db2.sock', '_Server', 'Database', 'name', 'connected')).stdout.replace(/ +\n/g, '\n'));
  await startServer(source, dir, 's1', ['--remote=punix:db1.sock', 'db1']);
  const r = await pending;
  out.push(`${r.status} ${r.stdout.trim()}`);
  const rows = await until(
    () => client('transact', 'unix:db2.sock', JSON.stringify(['relaytest', { op: 'select', table: 'Parent', where: [], columns: ['name'] }])),
    (v) => v.stdout.includes('p7'),
  );
  out.push(rows.stdout.trim());
  await stopServer(dir, 's2');
  await stopServer(dir, 's1');
  return out.map(uuidfilt);
}

/**
 * A clustered source (the real ovsdb-server): a relay's monitors see the source's transaction ids,
 * and a monitor_cond_since from the last of them finds it.
 */
async function txnIdScenario(relay: Which): Promise<string[]> {
  const dir = join(t.dir, `txnid-${relay}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema'), JSON.stringify(SCHEMA));
  await run(dir, 'ovsdb-tool', ['create-cluster', 'db1', 'schema', 'unix:s1.raft']);
  await startServer('real', dir, 's1', ['--remote=punix:db1.sock', 'db1']);
  await startServer(relay, dir, 's2', ['--remote=punix:db2.sock', 'relay:relaytest:unix:db1.sock']);
  const out: string[] = [];
  out.push(`wait: ${(await run(dir, 'ovsdb-client', ['--timeout=20', 'wait', 'unix:db2.sock', 'relaytest', 'connected'])).status}`);
  await until(
    () => run(dir, 'ovsdb-client', ['get-schema', 'unix:db2.sock', 'relaytest']),
    (r) => r.status === 0,
  );
  const source = await OvsdbClient.connect(`unix:${join(dir, 'db1.sock')}`);
  const copy = await OvsdbClient.connect(`unix:${join(dir, 'db2.sock')}`);
  const seen = (c: OvsdbClient) => {
    const ids: string[] = [];
    c.on('notification', (method: string, params: Json[]) => {
      if (method === 'update3') ids.push(params[1] as string);
    });
    return ids;
  };
  const sourceIds = seen(source);
  const copyIds = seen(copy);
  const monitor = (c: OvsdbClient, id: string, last: string) => c.request('monitor_cond_since', ['relaytest', id, { Parent: [{ columns: ['name'] }] }, last]);
  await monitor(source, 'm', ZERO_UUID);
  await monitor(copy, 'm', ZERO_UUID);
  for (const name of ['a', 'b']) {
    const r = await copy.transact('relaytest', { op: 'insert', table: 'Parent', row: { name } });
    out.push(uuidfilt(JSON.stringify(r)));
  }
  // The source's own client may hear of the second transaction after the relay's does.
  await until(
    async () => Math.min(copyIds.length, sourceIds.length),
    (n) => n >= 2,
  );
  out.push(`ids equal: ${JSON.stringify(copyIds) === JSON.stringify(sourceIds)}, zero: ${copyIds.includes(ZERO_UUID)}, count: ${copyIds.length}`);
  // What the relay's copy has is up to the last id: nothing to send.
  const since = (await monitor(copy, 'm2', copyIds[copyIds.length - 1]!)) as Json[];
  out.push(`since last: ${since[0]} ${since[1] === copyIds[copyIds.length - 1]} ${JSON.stringify(since[2])}`);
  source.close();
  copy.close();
  await stopServer(dir, 's2');
  await stopServer(dir, 's1');
  return out;
}

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => {
  for (const pidfile of daemons) {
    try {
      process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // Exited already.
    }
  }
  t.cleanup();
});

describe.skipIf(!real.ok)('relay databases, side by side with the real ovsdb-server 3.1', () => {
  it('forwards writes, serves reads and shows the same contents and _Server row, whichever of the two is the relay or the source', async () => {
    const [realReal, oursReal, realOurs, oursOurs] = await Promise.all([
      relayScenario('real', 'real'),
      relayScenario('real', 'ours'),
      relayScenario('ours', 'real'),
      relayScenario('ours', 'ours'),
    ]);
    expect(realReal).toContain('equal: true');
    expect(realReal.join('\n')).toContain('relay      relaytest');
    expect(oursReal).toEqual(realReal);
    expect(realOurs).toEqual(realReal);
    expect(oursOurs).toEqual(realReal);
  }, 120_000);

  it('without its source: not connected, no schema, "database not available"', async () => {
    const [ours, realOut] = await Promise.all([disconnectedScenario('ours'), disconnectedScenario('real')]);
    expect(realOut.join('\n')).toContain('database not available');
    expect(ours).toEqual(realOut);
  }, 60_000);

  it("in front of a clustered source, the relay's monitors see the source's transaction ids", async () => {
    const [ours, realOut] = await Promise.all([txnIdScenario('ours'), txnIdScenario('real')]);
    expect(realOut).toContain('ids equal: true, zero: false, count: 2');
    expect(ours).toEqual(realOut);
  }, 60_000);

  it('a write sent while the source is away is answered when it is back', async () => {
    const [ours, realOut] = await Promise.all([sourceRestartScenario('ours', 'ours'), sourceRestartScenario('real', 'real')]);
    expect(realOut[2]).toMatch(/^0 \[\{"uuid"/);
    expect(realOut[3]).toBe('[{"rows":[{"name":"p7"}]}]');
    expect(ours).toEqual(realOut);
  }, 90_000);
});

describe('a relay whose source misbehaves', () => {
  it('logs what does not apply, starts over, and serves once the source behaves; forwards errors whole', async () => {
    const sock = join(t.dir, 'fake-source.sock');
    const row = '11111111-2222-3333-4444-555555555555';
    let n = 0;
    const connections: Connection[] = [];
    // A source without _Server whose first two monitors send what no copy can apply.
    const server = createServer((s) => {
      const conn = new Connection(s);
      connections.push(conn);
      const which = ++n;
      conn.on('message', (m) => {
        if (m.kind !== 'request' || m.id === null) return;
        if (m.method === 'get_schema') {
          if (m.params[0] === '_Server') conn.replyError(m.id, { error: 'unknown database' });
          else conn.reply(m.id, SCHEMA);
        } else if (m.method === 'monitor_cond_since') {
          if (which === 1) return conn.reply(m.id, [false, ZERO_UUID, { Parent: { 'not-a-uuid': { insert: {} } } }]);
          conn.reply(m.id, [false, ZERO_UUID, {}]);
          const id = crypto.randomUUID();
          if (which === 2) conn.notify('update3', [['monid', 'relaytest'], id, { Parent: { [row]: { modify: { name: 'x' } } } }]);
          else conn.notify('update3', [['monid', 'relaytest'], id, { Parent: { [row]: { insert: { name: 'ok' } } } }]);
        } else if (m.method === 'transact') {
          conn.replyError(m.id, { error: 'boom', details: 'from the source' });
        } else conn.reply(m.id, {});
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    const served = new ServedDatabase(relayPlaceholder('relaytest'));
    served.available = false;
    const logs: string[] = [];
    const relay = new OvsdbRelay(served, [`unix:${sock}`], {
      log: (level, module, msg) => logs.push(`${level}|${module}|${msg}`),
      debugEnabled: () => false,
      sslContext: () => {
        throw new Error('no SSL here');
      },
      schemaChanged: (s, schema) => s.replace(new Database(schema)),
      statusChanged: () => {},
    });
    try {
      relay.start();
      await until(
        async () => served.db.table('Parent')?.rows.size ?? 0,
        (size) => size === 1,
      );
      expect(served.db.table('Parent')!.rows.get(row)!.fields.name).toEqual({ keys: ['ok'] });
      expect(relay.isConnected()).toBe(true);
      expect(logs.filter((l) => l.startsWith('warn|relay|'))).toEqual([
        `warn|relay|syntax error: <table-update> for table "Parent" contains bad UUID "not-a-uuid" as member name`,
        `warn|relay|consistency violation: Cannot update missing row ${row} in table Parent`,
      ]);
      const reply = await new Promise<ForwardReply>((done) => served.forwarder!.forward(['relaytest', { op: 'insert', table: 'Parent', row: {} }], done));
      expect(reply).toEqual({ error: { error: 'boom', details: 'from the source' } });
      expect(parseSchema(SCHEMA).name).toBe(served.name);
    } finally {
      relay.destroy();
      for (const c of connections) c.close();
      await new Promise((r) => server.close(r));
    }
  }, 30_000);
});
