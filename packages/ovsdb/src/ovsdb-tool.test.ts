/**
 * bin/ovsdb-tool.js against Debian's real ovsdb-tool 3.1: the same command
 * sequences in two directories, every stdout, stderr and exit status
 * compared (UUIDs and dates masked).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PKG, ensureBuilt, tempDir } from './testing/helpers.js';
import { REAL_SCHEMA, ensureRealOvs } from './testing/real-ovs.js';

const OURS = join(PKG, 'bin', 'ovsdb-tool.js');
const t = tempDir('ovsdb-tool-test-');
const real = ensureRealOvs();

/** The ordinals schema of OVS's tests (tests/ovsdb-macros.at's ordinal_schema). */
const ORDINALS = {
  name: 'ordinals',
  version: '5.1.3',
  cksum: '12345678 9',
  tables: { ordinals: { columns: { number: { type: 'integer' }, name: { type: 'string' } }, indexes: [['number']] } },
};

function mask(s: string): string {
  const uuids = new Map<string, string>();
  return s
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
      if (!uuids.has(u)) uuids.set(u, `<${uuids.size}>`);
      return uuids.get(u)!;
    })
    .replace(/\b[0-9a-f]{8}\b(?=[:)])/g, '<short>')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/g, '<date>')
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, '<time>|');
}

type Step = string[];

/** spawnSync()'s answer without blocking the test worker (which must keep talking to vitest while a long sequence runs). */
function spawnAsync(cmd: string, args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs the steps with one tool in a fresh directory: [status, stdout, stderr] of each, masked. */
async function run(tool: 'ours' | 'real', name: string, steps: Step[]): Promise<string[]> {
  const dir = join(t.dir, `${name}-${tool}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema'), JSON.stringify(ORDINALS));
  copyFileSync(REAL_SCHEMA, join(dir, 'vswitch.ovsschema'));
  const out: string[] = [];
  for (const args of steps) {
    const r = tool === 'ours' ? await spawnAsync(process.execPath, [OURS, ...args], dir) : await spawnAsync('ovsdb-tool', args, dir);
    out.push(`$ ovsdb-tool ${args.join(' ')}\n[${r.status}]\n${mask(r.stdout)}${mask(r.stderr).replace(/^ovsdb-tool: /gm, 'ovsdb-tool: ')}`);
  }
  return out;
}

const insert = (n: number, name: string) =>
  JSON.stringify(['ordinals', { op: 'insert', table: 'ordinals', row: { number: n, name } }, { op: 'comment', comment: `add ${name}` }]);

const SEQUENCES: Record<string, Step[]> = {
  'create, inspect, transact, query, show-log': [
    ['create', 'db', 'schema'],
    ['create', 'db', 'schema'],
    ['db-name', 'db'],
    ['db-version', 'db'],
    ['db-cksum', 'db'],
    ['schema-name', 'schema'],
    ['schema-version', 'schema'],
    ['schema-cksum', 'schema'],
    ['db-is-standalone', 'db'],
    ['db-is-clustered', 'db'],
    ['db-cid', 'db'],
    ['db-sid', 'db'],
    ['db-local-address', 'db'],
    ['transact', 'db', insert(1, 'one')],
    ['transact', 'db', insert(2, 'two')],
    ['transact', 'db', insert(1, 'uno')],
    ['query', 'db', insert(3, 'three')],
    ['query', 'db', JSON.stringify(['ordinals', { op: 'select', table: 'ordinals', where: [], sort: ['number'], columns: ['name', 'number'] }])],
    ['transact', 'db', JSON.stringify(['ordinals', { op: 'wait', table: 'ordinals', where: [], until: '==', rows: [], timeout: 1000 }])],
    ['transact', 'db', JSON.stringify(['ordinals', { op: 'update', table: 'ordinals', where: [['number', '==', 2]], row: { name: 'deux' } }])],
    ['transact', 'db', JSON.stringify(['ordinals', { op: 'delete', table: 'ordinals', where: [['number', '==', 1]] }])],
    ['transact', 'db', JSON.stringify(['nosuchdb', { op: 'select', table: 'ordinals', where: [] }])],
    ['show-log', 'db'],
    ['-m', 'show-log', 'db'],
    ['-mm', 'show-log', 'db'],
  ],
  'compact and convert': [
    ['create', 'db', 'schema'],
    ['transact', 'db', insert(1, 'one')],
    ['transact', 'db', insert(2, 'two')],
    ['transact', 'db', JSON.stringify(['ordinals', { op: 'delete', table: 'ordinals', where: [['number', '==', 1]] }])],
    ['compact', 'db'],
    ['query', 'db', JSON.stringify(['ordinals', { op: 'select', table: 'ordinals', where: [], columns: ['name', 'number'] }])],
    ['needs-conversion', 'db', 'schema'],
    ['needs-conversion', 'db', 'vswitch.ovsschema'],
    ['compact', 'db', 'db2'],
    ['db-version', 'db2'],
  ],
  // tests/ovsdb-tool.at's cluster tests, and the errors around them.
  'clustered files: create-cluster, join-cluster, inspection, refusals': [
    ['create-cluster', 'db', 'schema', 'unix:s1.raft'],
    ['create-cluster', 'db', 'schema', 'unix:s1.raft'],
    ['create-cluster', 'vs', 'vswitch.ovsschema', 'tcp:1.2.3.4:1234'],
    ['create-cluster', 'x1', 'schema', 'tcp:1.2.3.4'],
    ['create-cluster', 'x2', 'schema', 'foo:1'],
    ['create-cluster', 'x3', 'schema', 'tcp:[::1]:99'],
    ['create-cluster', 'x4', 'nosuchfile', 'unix:x'],
    ['--election-timer=5', 'create-cluster', 'x5', 'schema', 'unix:x'],
    ['--election-timer=1000', 'create-cluster', 'et', 'schema', 'unix:x'],
    ['create', 'sa', 'schema'],
    ['transact', 'sa', insert(1, 'one')],
    ['create-cluster', 'fromdb', 'sa', 'unix:y'],
    ['join-cluster', 'j1', 'ordinals', 'tcp:1.2.3.4:1234', 'tcp:2.3.4.5:1234'],
    ['--cid=520cf525-3772-43cc-8268-23bf5b548cf4', 'join-cluster', 'j2', 'ordinals', 'tcp:1.2.3.4:1234', 'tcp:2.3.4.5:1234', 'tcp:3.3.3.3:5'],
    ['join-cluster', 'x6', 'ordinals', 'tcp:1.2.3.4:1', 'tcp:1.2.3.4:1'],
    ['join-cluster', 'x7', '9bad', 'tcp:1.2.3.4:1', 'tcp:1.2.3.4:2'],
    ['--cid=00000000-0000-0000-0000-000000000000', 'join-cluster', 'x8', 'X', 'tcp:1.2.3.4:1', 'tcp:1.2.3.4:2'],
    ['join-cluster', 'x9', 'X', 'tcp:1.2.3.4:1'],
    ...['db', 'fromdb', 'j1', 'j2', 'sa', 'schema'].flatMap((f) => [
      ['db-name', f],
      ['db-cid', f],
      ['db-sid', f],
      ['db-local-address', f],
    ]),
    ['db-version', 'db'],
    ['db-cksum', 'j1'],
    ['db-is-clustered', 'et'],
    ['db-is-standalone', 'vs'],
  ],
  'clustered files: cluster-to-standalone, and what other commands say of them': [
    ['create', 'sa', 'schema'],
    ['transact', 'sa', insert(1, 'one')],
    ['create-cluster', 'fromdb', 'sa', 'unix:y'],
    ['create-cluster', 'db', 'schema', 'unix:s1.raft'],
    ['cluster-to-standalone', 'back', 'fromdb'],
    ['query', 'back', JSON.stringify(['ordinals', { op: 'select', table: 'ordinals', where: [], columns: ['number', 'name'] }])],
    ['cluster-to-standalone', 'back', 'fromdb'],
    ['cluster-to-standalone', 'notcl', 'sa'],
    ['db-is-standalone', 'notcl'],
    ['cluster-to-standalone', 'x10', 'nosuchfile'],
    ['compact', 'db'],
    ['convert', 'db', 'schema'],
    ['needs-conversion', 'db', 'schema'],
    ['query', 'db', '[]'],
    ['transact', 'db', '[]'],
  ],
  'usage errors': [
    [],
    ['frob'],
    ['db-version', 'a', 'b'],
    ['transact'],
    ['db-version', 'nodb'],
    ['schema-version', 'noschema'],
    ['create', 'db', 'schema'],
    ['transact', 'db', '['],
    ['--frob'],
  ],
};

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => t.cleanup());

describe.runIf(real.ok)('ovsdb-tool, side by side with the real one', { timeout: 600_000 }, () => {
  for (const [name, steps] of Object.entries(SEQUENCES)) {
    it(name, async () => {
      const ours = await run('ours', name.replace(/\W+/g, '-'), steps);
      const theirs = await run('real', name.replace(/\W+/g, '-'), steps);
      // The JSON parser's own words for bad input differ (lib/json.c vs V8): only where they are compared.
      // And a `query` that writes: 3.1.0 commits it to its read-only log and appends an I/O error
      // ("db: cannot truncate to length N") to the results; the query is aborted either way (the
      // select after it finds no row three), so only that element is left out.
      const norm = (s: string) =>
        s
          .replace(/^(ovsdb-tool: "\[": ).*$/m, '$1<json error>')
          .replace(/,\{"details":"db: cannot truncate to length \d+","error":"I\/O error","io-error":"Invalid argument"\}\]$/m, ']');
      expect(ours.map(norm)).toEqual(theirs.map(norm));
    });
  }

  it("writes clustered files as the real one does, and each reads the other's", async () => {
    const dirs = { ours: join(t.dir, 'clustered-files-ours'), real: join(t.dir, 'clustered-files-real') };
    const steps: Step[] = [
      ['create-cluster', 'c', 'vswitch.ovsschema', 'tcp:1.2.3.4:1234'],
      ['--election-timer=1000', 'create-cluster', 'e', 'schema', 'unix:s1.raft'],
      ['--cid=520cf525-3772-43cc-8268-23bf5b548cf4', 'join-cluster', 'j', 'ordinals', 'tcp:1.2.3.4:1234', 'tcp:2.3.4.5:1234'],
    ];
    await run('ours', 'clustered-files', steps);
    await run('real', 'clustered-files', steps);
    // Byte for byte but for the random UUIDs (and so the record lengths and hashes).
    const file = (d: string, f: string) => mask(readFileSync(join(d, f), 'utf8')).replace(/^OVSDB CLUSTER \d+ [0-9a-f]{40}$/gm, 'OVSDB CLUSTER <len> <sha1>');
    for (const f of ['c', 'e', 'j']) expect(file(dirs.ours, f)).toBe(file(dirs.real, f));
    // The real tool reads ours, and ours the real one's.
    const tool = (which: 'ours' | 'real', dir: string, ...a: string[]) =>
      (which === 'ours'
        ? spawnSync(process.execPath, [OURS, ...a], { cwd: dir, encoding: 'utf8' })
        : spawnSync('ovsdb-tool', a, { cwd: dir, encoding: 'utf8' })
      ).stdout;
    for (const [reader, writer] of [
      ['real', 'ours'],
      ['ours', 'real'],
    ] as const) {
      for (const f of ['c', 'j']) {
        for (const c of ['db-name', 'db-cid', 'db-sid', 'db-local-address']) expect(tool(reader, dirs[writer], c, f)).toBe(tool(writer, dirs[writer], c, f));
      }
    }
  });

  it('cluster-to-standalone of a cluster the real ovsdb-server wrote to: the same standalone file, byte for byte', async () => {
    const dir = join(t.dir, 'cluster-to-standalone');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'schema'), JSON.stringify(ORDINALS));
    const sh = (cmd: string, ...a: string[]) => spawnSync(cmd, a, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(sh('ovsdb-tool', 'create-cluster', 'db', 'schema', 'unix:s1.raft').status).toBe(0);
    const server = sh(
      'ovsdb-server',
      '--detach',
      '--no-chdir',
      `--pidfile=${join(dir, 'pid')}`,
      `--remote=punix:${join(dir, 'sock')}`,
      `--unixctl=${join(dir, 'ctl')}`,
      'db',
    );
    expect(server.status).toBe(0);
    try {
      for (let i = 0; i < 3; i++) {
        // The one-server cluster elects itself first; a transaction before that is answered with an error, and tried again.
        for (let tries = 0; tries < 50; tries++) {
          const r = sh('ovsdb-client', 'transact', `unix:${join(dir, 'sock')}`, insert(i, `n${i}`));
          if (r.status === 0 && !r.stdout.includes('"error"')) break;
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    } finally {
      sh('ovs-appctl', '-t', join(dir, 'ctl'), 'exit');
    }
    expect(sh('ovsdb-tool', 'cluster-to-standalone', 'real.db', 'db').status).toBe(0);
    expect(spawnSync(process.execPath, [OURS, 'cluster-to-standalone', 'ours.db', 'db'], { cwd: dir }).status).toBe(0);
    expect(readFileSync(join(dir, 'real.db'), 'utf8').split('\n').length).toBeGreaterThan(6);
    expect(readFileSync(join(dir, 'ours.db'), 'utf8')).toBe(readFileSync(join(dir, 'real.db'), 'utf8'));
  });

  it('compact keeps a dangling symlink a symlink and writes the schema and one record', () => {
    const dir = join(t.dir, 'symlink');
    mkdirSync(join(dir, 'dir'), { recursive: true });
    writeFileSync(join(dir, 'schema'), JSON.stringify(ORDINALS));
    spawnSync('ln', ['-s', 'dir/db', 'db'], { cwd: dir });
    const tool = (...a: string[]) => spawnSync(process.execPath, [OURS, ...a], { cwd: dir, encoding: 'utf8' });
    expect(tool('create', 'db', 'schema').status).toBe(0);
    for (let i = 0; i < 5; i++) expect(tool('transact', 'db', insert(i, `n${i}`)).status).toBe(0);
    expect(tool('compact', 'db').status).toBe(0);
    expect(spawnSync('test', ['-h', join(dir, 'db')]).status).toBe(0);
    expect(readFileSync(join(dir, 'dir/db'), 'utf8').split('\n').length - 1).toBe(4);
    const q = spawnSync('ovsdb-tool', ['query', 'db', JSON.stringify(['ordinals', { op: 'select', table: 'ordinals', where: [], columns: ['number'] }])], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(JSON.parse(q.stdout)[0].rows).toHaveLength(5);
  });
});
