/** ovs-db as a user runs it: node bin/ovs-db.js (dist/cli.cjs, built first when stale). */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, tempDir } from './testing/helpers.js';

const DB = 'Open_vSwitch';
const t = tempDir();
const sock = join(t.dir, 'db.sock');
const file = join(t.dir, 'conf.db');
let server: ChildProcess;
let serverErr = '';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, OVS_RUNDIR: t.dir }, timeout: 20_000 });

beforeAll(async () => {
  ensureBuilt();
  expect(cli('create', file)).toMatchObject({ status: 0 });
  server = spawn(process.execPath, [BIN, 'serve', file], { env: { ...process.env, OVS_RUNDIR: t.dir }, stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr!.on('data', (d) => (serverErr += d));
  // Serving once it says so (the socket appears a moment before).
  for (let i = 0; i < 3000 && !serverErr.includes('serving'); i++) await new Promise((r) => setTimeout(r, 10));
}, 120_000);
afterAll(() => {
  if (server.exitCode === null) server.kill('SIGKILL');
  t.cleanup();
});

describe('ovs-db', { timeout: 60_000 }, () => {
  it('create writes the built-in vswitch schema; refuses an existing file', () => {
    expect(readFileSync(file, 'utf8')).toMatch(/^OVSDB JSON \d+ [0-9a-f]{40}\n\{"name":"Open_vSwitch","version":"8.3.1"/);
    expect(cli('create', file)).toMatchObject({ status: 1, stderr: expect.stringContaining('already exists') });
  });

  it('serve, list-dbs, get-schema, transact, query', () => {
    expect(serverErr).toContain(`serving Open_vSwitch on unix:${sock}`);
    expect(cli('list-dbs')).toMatchObject({ status: 0, stdout: 'Open_vSwitch\n' });
    expect(JSON.parse(cli('get-schema', `unix:${sock}`).stdout).version).toBe('8.3.1');
    const ins = cli('transact', JSON.stringify([DB, { op: 'insert', table: DB, row: { next_cfg: 4 } }]));
    expect(ins.status).toBe(0);
    expect(JSON.parse(ins.stdout)[0].uuid[0]).toBe('uuid');
    const bad = cli('transact', JSON.stringify([DB, { op: 'insert', table: DB, row: {} }]));
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)[1]).toMatchObject({ error: 'constraint violation' });
    const q = cli(
      'query',
      JSON.stringify([
        DB,
        { op: 'mutate', table: DB, where: [], mutations: [['next_cfg', '+=', 1]] },
        { op: 'select', table: DB, where: [], columns: ['next_cfg'] },
      ]),
    );
    expect(q).toMatchObject({ status: 0, stdout: '[{"count":1},{"rows":[{"next_cfg":5}]}]\n' });
    expect(cli('query', JSON.stringify([DB, { op: 'select', table: DB, where: [], columns: ['next_cfg'] }])).stdout).toBe('[{"rows":[{"next_cfg":4}]}]\n');
  });

  it('monitor prints the rows, then each change', async () => {
    const mon = spawn(process.execPath, [BIN, 'monitor', `unix:${sock}`, DB, 'Open_vSwitch', 'next_cfg'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    mon.stdout!.on('data', (d) => (out += d));
    for (let i = 0; i < 2000 && !out.includes('initial'); i++) await new Promise((r) => setTimeout(r, 10));
    cli('transact', JSON.stringify([DB, { op: 'mutate', table: DB, where: [], mutations: [['next_cfg', '+=', 1]] }]));
    for (let i = 0; i < 2000 && !out.includes('modify'); i++) await new Promise((r) => setTimeout(r, 10));
    mon.kill('SIGTERM');
    expect(out).toMatch(/^initial Open_vSwitch [0-9a-f-]{36} \{"next_cfg":4\}\nmodify Open_vSwitch [0-9a-f-]{36} \{"next_cfg":5\}\n$/);
  });

  it('usage errors exit 2; an unreachable server exits 1', () => {
    expect(cli('frobnicate')).toMatchObject({ status: 2, stderr: expect.stringContaining("unknown command 'frobnicate'") });
    expect(cli('transact', 'not json')).toMatchObject({ status: 2 });
    expect(cli('list-dbs', `unix:${t.dir}/nope.sock`)).toMatchObject({ status: 1 });
  });

  it('serve stops cleanly on SIGTERM and removes its socket', async () => {
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  it('serve makes a missing run directory 755 (ovs-ctl install_dir) and its socket 0770 less the umask', async () => {
    const dir = join(t.dir, 'run', 'ovs');
    const other = join(t.dir, 'other.db');
    expect(cli('create', other)).toMatchObject({ status: 0 });
    // umask 077: install -d -m 755 still gives 755; the socket, 0770 less 077.
    const s = spawn('sh', ['-c', `umask 077; exec "${process.execPath}" "${BIN}" serve "${other}" --remote "punix:${dir}/db.sock"`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    s.stderr!.on('data', (d) => (err += d));
    try {
      for (let i = 0; i < 3000 && !err.includes('serving'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(err).toContain('serving');
      expect(statSync(dir).mode & 0o777).toBe(0o755);
      expect(statSync(join(dir, 'db.sock')).mode & 0o777).toBe(0o700);
    } finally {
      s.kill('SIGTERM');
    }
  });
});
