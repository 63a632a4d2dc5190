/**
 * bin/ovsdb-tool.js against Debian's real ovsdb-tool 3.1: the same command
 * sequences in two directories, every stdout, stderr and exit status
 * compared (UUIDs and dates masked).
 */
import { spawnSync } from 'node:child_process';
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
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/g, '<date>');
}

type Step = string[];

/** Runs the steps with one tool in a fresh directory: [status, stdout, stderr] of each, masked. */
function run(tool: 'ours' | 'real', name: string, steps: Step[]): string[] {
  const dir = join(t.dir, `${name}-${tool}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema'), JSON.stringify(ORDINALS));
  copyFileSync(REAL_SCHEMA, join(dir, 'vswitch.ovsschema'));
  const out: string[] = [];
  for (const args of steps) {
    const r =
      tool === 'ours'
        ? spawnSync(process.execPath, [OURS, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
        : spawnSync('ovsdb-tool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
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
    it(name, () => {
      const ours = run('ours', name.replace(/\W+/g, '-'), steps);
      const theirs = run('real', name.replace(/\W+/g, '-'), steps);
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
