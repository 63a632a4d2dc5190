/**
 * Active-backup replication (replication.ts) against Debian's real
 * ovsdb-server 3.1: the same scenario run with the real server as active and
 * backup, then with ours as the backup of a real active server, then with ours
 * as the active server of a real backup. Everything the scenario observes —
 * sync-status, the backup's copy (same UUIDs, excluded table left alone, its
 * own rows gone), writes and locks refused on the backup, the switch to active,
 * set/get-sync-exclude-tables, self-replication refused — must be the same.
 * Then the schema check: a backup whose schema has more than the active
 * server's replicates it, one with less gives up and stays active.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbClient, type RpcError } from './client.js';
import { PKG, ensureBuilt, tempDir } from './testing/helpers.js';
import { ensureRealOvs } from './testing/real-ovs.js';

const run = promisify(execFile);
const OURS = join(PKG, 'bin', 'ovsdb-server.js');
const t = tempDir('replication-test-');
const real = ensureRealOvs();
const children: ChildProcess[] = [];
const suite = real.ok ? describe : describe.skip;

type Which = 'ours' | 'real';

/** tests/ovsdb-server.at's replication_schema. */
const SCHEMA = {
  name: 'mydb',
  tables: {
    a: { columns: { number: { type: 'integer' }, name: { type: 'string' } }, indexes: [['number']] },
    b: { columns: { number: { type: 'integer' }, name: { type: 'string' } }, indexes: [['number']] },
  },
  version: '1.0.0',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command; its stdout, or "ERROR: stderr" (never throws). */
async function sh(cwd: string, cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { cwd, timeout: 15_000 })).stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `ERROR: ${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
}

/** A server in the foreground, as our child, on NAME.sock with control socket NAME.ctl and log NAME.log. */
async function startServer(which: Which, dir: string, name: string, args: string[]): Promise<void> {
  const sock = join(dir, `${name}.sock`);
  const all = [
    `--remote=punix:${sock}`,
    `--unixctl=${join(dir, `${name}.ctl`)}`,
    `--log-file=${join(dir, `${name}.log`)}`,
    '-vconsole:off',
    '--no-chdir',
    ...args,
  ];
  const proc =
    which === 'ours' ? spawn(process.execPath, [OURS, ...all], { cwd: dir, stdio: 'ignore' }) : spawn('ovsdb-server', all, { cwd: dir, stdio: 'ignore' });
  children.push(proc);
  for (let i = 0; i < 400 && !(existsSync(sock) && existsSync(join(dir, `${name}.ctl`))); i++) await sleep(25);
}

/** Polls `fn` every 100 ms for at most 15 s; the last value. */
async function until(fn: () => Promise<string>, ok: (v: string) => boolean): Promise<string> {
  let v = await fn();
  for (let waited = 0; !ok(v) && waited < 15_000; waited += 100) {
    await sleep(100);
    v = await fn();
  }
  return v;
}

/** UUIDs replaced by <N> in order of appearance, paths by <dir>. */
function filter(s: string, dir: string): string {
  const seen = new Map<string, number>();
  return s
    .split(dir)
    .join('<dir>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
      if (!seen.has(u)) seen.set(u, seen.size);
      return `<${seen.get(u)}>`;
    });
}

async function scenario(active: Which, backup: Which): Promise<string[]> {
  const dir = join(t.dir, `${active}-${backup}`);
  await run('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'schema'), JSON.stringify(SCHEMA));
  const log: string[] = [];
  const note = (what: string, s: string) => log.push(`${what}: ${filter(s, dir)}`);
  const client = (...a: string[]) => sh(dir, 'ovsdb-client', a);
  const appctl = (name: string, ...a: string[]) => sh(dir, 'ovs-appctl', ['-t', join(dir, `${name}.ctl`), ...a]);
  const transact = (name: string, ...ops: object[]) => client('transact', `unix:${join(dir, `${name}.sock`)}`, JSON.stringify(['mydb', ...ops]));
  const dump = (name: string, ...a: string[]) => client('dump', `unix:${join(dir, `${name}.sock`)}`, ...a);

  await sh(dir, 'ovsdb-tool', ['create', 'db1', 'schema']);
  await sh(dir, 'ovsdb-tool', ['create', 'db2', 'schema']);
  // The backup's own rows do not survive its first monitor reply; its excluded table's do.
  const stale = [
    { op: 'insert', table: 'a', row: { number: 7, name: 'stale' } },
    { op: 'insert', table: 'b', row: { number: 8, name: 'kept' } },
  ];
  await sh(dir, 'ovsdb-tool', ['transact', 'db2', JSON.stringify(['mydb', ...stale])]);

  await startServer(active, dir, 'active', ['db1']);
  await startServer(backup, dir, 'backup', [`--sync-from=unix:${join(dir, 'active.sock')}`, '--sync-exclude-tables=mydb:b', 'db2']);
  note(
    'backup status',
    await until(
      () => appctl('backup', 'ovsdb-server/sync-status'),
      (s) => s.includes('replicating'),
    ),
  );
  note('active status', await appctl('active', 'ovsdb-server/sync-status'));
  note('get-active', await appctl('backup', 'ovsdb-server/get-active-ovsdb-server'));
  note('get-exclude', await appctl('backup', 'ovsdb-server/get-sync-exclude-tables'));

  await transact(
    'active',
    { op: 'insert', table: 'a', row: { number: 0, name: 'zero' } },
    { op: 'insert', table: 'a', row: { number: 1, name: 'one' } },
    { op: 'insert', table: 'b', row: { number: 2, name: 'two' } },
  );
  await transact('active', { op: 'update', table: 'a', where: [['number', '==', 1]], row: { name: 'uno' } });
  await transact('active', { op: 'delete', table: 'a', where: [['number', '==', 0]] });
  const copied = await until(
    () => dump('backup'),
    (s) => s.includes('uno') && !s.includes('zero'),
  );
  // Same rows under the same UUIDs in the table replicated.
  log.push(`same a: ${(await dump('active', 'a')) === (await dump('backup', 'a'))}`);
  // The rows' _version: the backup's own (ovsdb_txn_row_insert() and update_version() make new ones).
  const versions = (name: string) => transact(name, { op: 'select', table: 'a', where: [], columns: ['_uuid', '_version'] });
  log.push(`same versions: ${(await versions('active')) === (await versions('backup'))}`);
  note('backup dump', copied);

  note('backup insert', await transact('backup', { op: 'insert', table: 'a', row: { number: 5 } }));
  note('backup bad table', await transact('backup', { op: 'insert', table: 'zz', row: {} }));
  note('backup select', await transact('backup', { op: 'select', table: 'a', where: [], columns: ['name'] }));
  const peer = await OvsdbClient.connect(`unix:${join(dir, 'backup.sock')}`);
  for (const method of ['lock', 'unlock']) {
    note(`backup ${method}`, await peer.request(method, ['x']).then(JSON.stringify, (e: RpcError) => `error ${JSON.stringify(e.error)}`));
  }
  peer.close();
  note(
    'backup _Server',
    await client('transact', `unix:${join(dir, 'backup.sock')}`, JSON.stringify(['_Server', { op: 'delete', table: 'Database', where: [] }])),
  );

  // The backup becomes active: writable, no longer following.
  note('disconnect', await appctl('backup', 'ovsdb-server/disconnect-active-ovsdb-server'));
  note('backup status after', await appctl('backup', 'ovsdb-server/sync-status'));
  note(
    'backup insert after',
    await transact('backup', { op: 'insert', table: 'a', row: { number: 5, name: 'five' } }).then((s) => s.replace(/"uuid",".*"/, '"uuid",<uuid>')),
  );
  note(
    'active _Server',
    await client('transact', `unix:${join(dir, 'active.sock')}`, JSON.stringify(['_Server', { op: 'delete', table: 'Database', where: [] }])),
  );

  // Exclusions as set-sync-exclude-tables parses them (never an error: glibc's strtok_r).
  for (const arg of ['foo', ':x', 'a:b:c', 'mydb:b,mydb:a  ,, x:y']) {
    note(`set-exclude ${arg}`, await appctl('active', 'ovsdb-server/set-sync-exclude-tables', arg));
    note(`get-exclude ${arg}`, await appctl('active', 'ovsdb-server/get-sync-exclude-tables'));
  }
  note('probe x', await appctl('active', 'ovsdb-server/set-active-ovsdb-server-probe-interval', 'x'));
  note('connect unset', await appctl('active', 'ovsdb-server/connect-active-ovsdb-server'));

  // A server may not back itself up: it stays active, its data untouched.
  const before = await dump('active');
  await appctl('active', 'ovsdb-server/set-active-ovsdb-server', `unix:${join(dir, 'active.sock')}`);
  await appctl('active', 'ovsdb-server/connect-active-ovsdb-server');
  const self = await until(
    async () => (existsSync(join(dir, 'active.log')) ? readFileSync(join(dir, 'active.log'), 'utf8') : ''),
    (s) => s.includes('Self replicating is not allowed'),
  );
  log.push(`self refused: ${/\|ovsdb_error\|ERR\|unexpected ovsdb error: Server ID check failed: Self replicating is not allowed/.test(self)}`);
  note(
    'self status',
    await until(
      () => appctl('active', 'ovsdb-server/sync-status'),
      (s) => s.includes('active'),
    ),
  );
  log.push(`self data kept: ${before === (await dump('active'))}`);
  return log;
}

/** The replication module's log lines of a server, without their time stamps. */
const replicationLog = (dir: string, name: string) =>
  readFileSync(join(dir, `${name}.log`), 'utf8')
    .split('\n')
    .filter((l) => /\|(replication|ovsdb_error)\|/.test(l))
    .map((l) => l.replace(/^[^|]*\|\d+\|/, ''));

/** ovsdb-server.at's "replication with schema mismatch": server 1 has SCHEMA, server 2 SCHEMA and a table more. */
async function schemaMismatch(one: Which, two: Which): Promise<string[]> {
  const dir = join(t.dir, `mismatch-${one}-${two}`);
  await run('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'subset'), JSON.stringify(SCHEMA));
  writeFileSync(join(dir, 'superset'), JSON.stringify({ ...SCHEMA, tables: { ...SCHEMA.tables, c: { columns: { x: { type: 'integer' } } } } }));
  const log: string[] = [];
  const note = (what: string, v: string | string[]) => log.push(`${what}: ${filter(Array.isArray(v) ? v.join('\n') : v, dir)}`);
  const appctl = (name: string, ...a: string[]) => sh(dir, 'ovs-appctl', ['-t', join(dir, `${name}.ctl`), ...a]);
  const dumpA = (name: string) => sh(dir, 'ovsdb-client', ['dump', `unix:${join(dir, `${name}.sock`)}`, 'a', 'number', 'name']);
  await sh(dir, 'ovsdb-tool', ['create', 'db1', 'subset']);
  await sh(dir, 'ovsdb-tool', ['create', 'db2', 'superset']);
  await sh(dir, 'ovsdb-tool', ['transact', 'db1', JSON.stringify(['mydb', { op: 'insert', table: 'a', row: { number: 9, name: 'nine' } }])]);
  await sh(dir, 'ovsdb-tool', ['transact', 'db2', JSON.stringify(['mydb', { op: 'insert', table: 'a', row: { number: 10, name: 'ten' } }])]);
  await startServer(one, dir, 'one', ['--active', 'db1']);
  await startServer(two, dir, 'two', ['db2']);

  // One cannot follow two: two has a table one lacks. It gives up and stays active.
  await appctl('one', 'ovsdb-server/set-active-ovsdb-server', `unix:${join(dir, 'two.sock')}`);
  await appctl('one', 'ovsdb-server/connect-active-ovsdb-server');
  await until(
    async () => replicationLog(dir, 'one').join('\n'),
    (s) => s.includes('Nothing to replicate'),
  );
  note(
    'one status',
    await until(
      () => appctl('one', 'ovsdb-server/sync-status'),
      (s) => s.includes('active'),
    ),
  );
  note('one log', replicationLog(dir, 'one'));
  note('one a', await dumpA('one'));

  // Two can follow one: its schema has all of one's.
  await appctl('one', 'ovsdb-server/disconnect-active-ovsdb-server');
  await appctl('two', 'ovsdb-server/set-active-ovsdb-server', `unix:${join(dir, 'one.sock')}`);
  await appctl('two', 'ovsdb-server/connect-active-ovsdb-server');
  note(
    'two status',
    await until(
      () => appctl('two', 'ovsdb-server/sync-status'),
      (s) => s.includes('replicating'),
    ),
  );
  note(
    'two a',
    await until(
      () => dumpA('two'),
      (s) => s.includes('nine') && !s.includes('ten'),
    ),
  );
  await sh(dir, 'ovsdb-client', [
    'transact',
    `unix:${join(dir, 'one.sock')}`,
    JSON.stringify(['mydb', { op: 'insert', table: 'a', row: { number: 6, name: 'six' } }]),
  ]);
  note(
    'two a after',
    await until(
      () => dumpA('two'),
      (s) => s.includes('six'),
    ),
  );
  note('two log', replicationLog(dir, 'two'));
  return log;
}

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  t.cleanup();
});

suite('replication, as the real ovsdb-server replicates', () => {
  let expected: string[];
  beforeAll(async () => {
    expected = await scenario('real', 'real');
  }, 120_000);

  it('the real scenario is what OVS documents', () => {
    expect(expected).toContain('backup insert: [{"details":"insert operation not allowed when database server is in read only mode","error":"not allowed"}]\n');
    expect(expected).toContain('same a: true');
  });

  it('ours backs up a real active server', async () => {
    expect(await scenario('real', 'ours')).toEqual(expected);
  }, 120_000);

  it('a real backup follows our active server', async () => {
    expect(await scenario('ours', 'real')).toEqual(expected);
  }, 120_000);
});

suite('replication with schema mismatch, as the real ovsdb-server', () => {
  let expected: string[];
  beforeAll(async () => {
    expected = await schemaMismatch('real', 'real');
  }, 120_000);

  it('ours refuses a larger schema and follows a smaller one', async () => {
    expect(expected.join('\n')).toContain('mydb cannot be replicated.');
    expect(await schemaMismatch('ours', 'ours')).toEqual(expected);
  }, 120_000);

  it('ours with the real one on the other side', async () => {
    expect(await schemaMismatch('ours', 'real')).toEqual(expected);
    expect(await schemaMismatch('real', 'ours')).toEqual(expected);
  }, 120_000);
});
