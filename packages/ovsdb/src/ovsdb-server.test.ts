/**
 * bin/ovsdb-server.js run as OVS's scripts and test suite run ovsdb-server,
 * side by side with Debian's real ovsdb-server 3.1 doing the same: --detach
 * with a pid file the real ovs-appctl finds, --remote=db:Open_vSwitch,
 * Open_vSwitch,manager_options (a Manager row set by the real ovs-vsctl
 * opens its listener, which the real ovsdb-client uses; del-manager closes
 * it), the Manager rows' is_connected and status, unixctl commands, --run,
 * and SSL configured as OVS's start-up scripts configure it (the SSL table
 * through db: references, a pssl: Manager), used by the real ovs-vsctl.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PKG, ensureBuilt, tempDir } from './testing/helpers.js';
import { REAL_SCHEMA, ensureRealOvs } from './testing/real-ovs.js';

const OURS = join(PKG, 'bin', 'ovsdb-server.js');
const t = tempDir('ovsdb-server-test-');
const real = ensureRealOvs();
const children: ChildProcess[] = [];

type Which = 'ours' | 'real';

function setup(which: Which, name: string) {
  const dir = join(t.dir, `${name}-${which}`);
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
  const sh = (cmd: string, args: string[], timeout = 60_000) => spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8', timeout });
  const server = (args: string[]) => (which === 'ours' ? sh(process.execPath, [OURS, ...args]) : sh('ovsdb-server', args));
  copyFileSync(REAL_SCHEMA, join(dir, 'vswitch.ovsschema'));
  expect(sh('ovsdb-tool', ['create', 'conf.db', 'vswitch.ovsschema']).status).toBe(0);
  const vsctl = (...a: string[]) => sh('ovs-vsctl', ['--no-wait', '--db=unix:db.sock', '-vreconnect:emer', ...a]);
  const appctl = (...a: string[]) => sh('ovs-appctl', ['-t', 'ovsdb-server', ...a]);
  return { dir, env, sh, server, vsctl, appctl };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 100 ms for at most `ms`; the last value. */
async function until<T>(fn: () => T, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  let v = fn();
  for (let waited = 0; !ok(v) && waited < ms; waited += 100) {
    await sleep(100);
    v = fn();
  }
  return v;
}

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  t.cleanup();
});

/** How OVS's start-up scripts (ovs-ctl) start the database server, as a daemon serving managers. */
const AS_OVS_CTL = ['--detach', '--no-chdir', '--pidfile', '--log-file', '--remote=punix:db.sock', '--remote=db:Open_vSwitch,Open_vSwitch,manager_options'];

/** The status map with the port masked. */
const maskStatus = (s: string) => s.trim().replace(/bound_port="\d+"/, 'bound_port=<port>');

async function managerScenario(which: Which) {
  const s = setup(which, 'manager');
  const log: string[] = [];
  const start = s.server([...AS_OVS_CTL, 'conf.db']);
  log.push(`start: ${start.status}`);
  log.push(`pidfile: ${existsSync(join(s.dir, 'ovsdb-server.pid'))}`);
  log.push(`list-remotes: ${s.appctl('ovsdb-server/list-remotes').stdout}`);
  log.push(`init: ${s.vsctl('init').status}`);
  log.push(`set-manager: ${s.vsctl('set-manager', 'ptcp:0:127.0.0.1').status}`);
  // The listener opens at once; its status is written within 2.5 s.
  const status = await until(
    () => s.vsctl('get', 'Manager', '.', 'status').stdout,
    (v) => v.includes('bound_port'),
  );
  log.push(`status: ${maskStatus(status)}`);
  const port = /bound_port="(\d+)"/.exec(status)?.[1];
  const dump = s.sh('ovsdb-client', ['dump', `tcp:127.0.0.1:${port}`, 'Open_vSwitch', 'Manager', 'target']);
  log.push(`dump: ${dump.status} ${dump.stdout.replace(/[0-9a-f-]{36}/, '<uuid>').replace(/ +\n/g, '\n')}`);
  // A manager that stays connected: is_connected turns true.
  const mon = spawn('ovsdb-client', ['monitor', `tcp:127.0.0.1:${port}`, 'Open_vSwitch', 'Manager', 'target'], { cwd: s.dir, env: s.env, stdio: 'ignore' });
  children.push(mon);
  const connected = await until(
    () => s.vsctl('get', 'Manager', '.', 'is_connected').stdout.trim(),
    (v) => v === 'true',
  );
  log.push(`is_connected: ${connected}`);
  mon.kill('SIGTERM');
  const disconnected = await until(
    () => s.vsctl('get', 'Manager', '.', 'is_connected').stdout.trim(),
    (v) => v === 'false',
  );
  log.push(`after disconnect: ${disconnected}`);
  log.push(`del-manager: ${s.vsctl('del-manager').status}`);
  const refused = await until(
    () => s.sh('ovsdb-client', ['list-dbs', `tcp:127.0.0.1:${port}`]),
    (r) => r.status !== 0,
  );
  log.push(`after del-manager: ${refused.status} ${refused.stderr.trim().replace(port ?? '?', '<port>')}`);
  log.push(`add-remote bad: ${s.appctl('ovsdb-server/add-remote', 'db:Open_vSwitch,Nope,target').stderr.trim()}`);
  log.push(`remove-remote bad: ${s.appctl('ovsdb-server/remove-remote', 'punix:nope').stderr.trim()}`);
  log.push(`add-remote: ${s.appctl('ovsdb-server/add-remote', 'punix:db2.sock').status}`);
  log.push(
    `db2: ${(
      await until(
        () => s.sh('ovsdb-client', ['list-dbs', 'unix:db2.sock']).stdout,
        (v) => v !== '',
      )
    ).trim()}`,
  );
  log.push(`list-remotes: ${s.appctl('ovsdb-server/list-remotes').stdout}`);
  log.push(`remove-remote: ${s.appctl('ovsdb-server/remove-remote', 'punix:db2.sock').status}`);
  log.push(`list-dbs: ${s.appctl('ovsdb-server/list-dbs').stdout.replace('_Server\n', '')}`);
  log.push(`remove-db bad: ${s.appctl('ovsdb-server/remove-db', 'nope').stderr.trim()}`);
  const pid = Number(s.sh('cat', ['ovsdb-server.pid']).stdout);
  log.push(`exit: ${s.appctl('exit').status}`);
  const gone = await until(
    () => spawnSync('kill', ['-0', String(pid)]).status,
    (st) => st !== 0,
  );
  log.push(`gone: ${gone !== 0}, pidfile: ${existsSync(join(s.dir, 'ovsdb-server.pid'))}`);
  return log;
}

/**
 * A PKI made by the real ovs-pki (the switch CA signs the server's and a
 * client's certificate; the controller CA signs a client the server must
 * refuse), shared by both runs.
 */
function makePki(): string {
  const dir = join(t.dir, 'pki');
  mkdirSync(dir, { recursive: true });
  const pki = (...a: string[]) => {
    const r = spawnSync('ovs-pki', [`--dir=${join(dir, 'pki')}`, `--log=${join(dir, 'ovs-pki.log')}`, ...a], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
  };
  pki('init');
  pki('req+sign', 'server', 'switch');
  pki('req+sign', 'client', 'switch');
  pki('req+sign', 'stranger', 'controller');
  return dir;
}

async function sslScenario(which: Which, pki: string) {
  const s = setup(which, 'ssl');
  const log: string[] = [];
  const start = s.server([
    ...AS_OVS_CTL,
    // What ovs-ctl passes: the SSL table names the files.
    '--private-key=db:Open_vSwitch,SSL,private_key',
    '--certificate=db:Open_vSwitch,SSL,certificate',
    '--bootstrap-ca-cert=db:Open_vSwitch,SSL,ca_cert',
    'conf.db',
  ]);
  log.push(`start: ${start.status}`);
  log.push(`init: ${s.vsctl('init').status}`);
  log.push(`set-ssl: ${s.vsctl('set-ssl', join(pki, 'server-privkey.pem'), join(pki, 'server-cert.pem'), join(pki, 'pki/switchca/cacert.pem')).status}`);
  log.push(`set-manager: ${s.vsctl('set-manager', 'pssl:0:127.0.0.1').status}`);
  const status = await until(
    () => s.vsctl('get', 'Manager', '.', 'status').stdout,
    (v) => v.includes('bound_port'),
  );
  const port = /bound_port="(\d+)"/.exec(status)?.[1] ?? '?';
  const remote = `ssl:127.0.0.1:${port}`;
  const client = (name: string, ca: string, ...a: string[]) => {
    const r = s.sh('ovs-vsctl', [
      '-t',
      '10',
      `--db=${remote}`,
      `--private-key=${join(pki, `${name}-privkey.pem`)}`,
      `--certificate=${join(pki, `${name}-cert.pem`)}`,
      ca,
      '-vreconnect:emer',
      ...a,
    ]);
    return `${r.status}|${r.stdout}|${r.stderr.replaceAll(port, '<port>')}`;
  };
  const bootstrapped = join(s.dir, 'bootstrapped-ca.pem');
  // First contact: the server's CA is saved and the connection dropped.
  log.push(`bootstrap: ${client('client', `--bootstrap-ca-cert=${bootstrapped}`, '--no-wait', 'list-br')}`);
  log.push(`bootstrapped: ${existsSync(bootstrapped) && readFileSync(bootstrapped, 'utf8') === readFileSync(join(pki, 'pki/switchca/cacert.pem'), 'utf8')}`);
  log.push(`add-br: ${client('client', `--bootstrap-ca-cert=${bootstrapped}`, '--no-wait', 'add-br', 'br0')}`);
  log.push(`list-br: ${client('client', `--ca-cert=${bootstrapped}`, '--no-wait', 'list-br')}`);
  // A client whose certificate the switch CA did not sign is refused.
  log.push(`stranger: ${client('stranger', `--ca-cert=${bootstrapped}`, '--no-wait', 'list-br').split('|')[0]}`);
  log.push(`del-ssl: ${s.vsctl('del-ssl').status}`);
  // Without a key configured, new SSL connections fail; the listener stays.
  log.push(`after del-ssl: ${client('client', `--ca-cert=${bootstrapped}`, '--no-wait', 'list-br').split('|')[0]}`);
  log.push(`exit: ${s.appctl('exit').status}`);
  return log;
}

/**
 * A cluster of one (ovsdb-tool create-cluster) served by ours, then by the
 * real ovsdb-server, then by ours again: each reads the log the other wrote
 * (ours compacting it online first);
 * the real ovsdb-tool converts the result to a standalone file holding every
 * row; the real ovsdb-client sees the _Server row of a clustered database.
 */
async function clusterScenario(): Promise<{ rows: string; server: string; cid: string }> {
  const dir = join(t.dir, 'cluster-of-one');
  mkdirSync(dir, { recursive: true });
  const schema = { name: 'ordinals', tables: { ordinals: { columns: { number: { type: 'integer' }, name: { type: 'string' } } } } };
  const sh = (cmd: string, ...a: string[]) => spawnSync(cmd, a, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  const writeSchema = sh('sh', '-c', `echo '${JSON.stringify(schema)}' > schema`);
  expect(writeSchema.status).toBe(0);
  expect(sh('ovsdb-tool', 'create-cluster', 'db', 'schema', 'unix:s1.raft').status).toBe(0);
  const sock = `unix:${join(dir, 'sock')}`;
  let n = 0;
  let serverRow = '';
  for (const which of ['ours', 'real', 'ours'] as const) {
    const args = ['--detach', '--no-chdir', `--pidfile=${join(dir, 'pid')}`, `--remote=p${sock}`, `--unixctl=${join(dir, 'ctl')}`, '-vconsole:off', 'db'];
    expect((which === 'ours' ? sh(process.execPath, OURS, ...args) : sh('ovsdb-server', ...args)).status).toBe(0);
    expect(sh('ovsdb-client', '--timeout=30', 'wait', sock, 'ordinals', 'connected').status).toBe(0);
    for (let i = 0; i < 2; i++, n++) {
      const r = sh(
        'ovsdb-client',
        'transact',
        sock,
        JSON.stringify(['ordinals', { op: 'insert', table: 'ordinals', row: { number: n, name: `${which}${i}` } }]),
      );
      expect(r.stdout).toContain('"uuid"');
    }
    if (which === 'ours') {
      serverRow = sh('ovsdb-client', 'dump', sock, '_Server', 'Database', 'name', 'model', 'connected', 'leader', 'cid').stdout;
      // Compacted online: the next server reads a snapshot of what we wrote.
      expect(sh('ovs-appctl', '-t', join(dir, 'ctl'), 'ovsdb-server/compact').status).toBe(0);
    }
    const pid = Number(sh('cat', 'pid').stdout);
    sh('ovs-appctl', '-t', join(dir, 'ctl'), 'exit');
    await until(
      () => spawnSync('kill', ['-0', String(pid)]).status,
      (st) => st !== 0,
    );
  }
  expect(sh('ovsdb-tool', 'cluster-to-standalone', 'standalone.db', 'db').status).toBe(0);
  const q = sh(
    'ovsdb-tool',
    'query',
    'standalone.db',
    JSON.stringify(['ordinals', { op: 'select', table: 'ordinals', where: [], columns: ['number', 'name'], sort: ['number'] }]),
  );
  return { rows: q.stdout, server: serverRow, cid: sh('ovsdb-tool', 'db-cid', 'db').stdout.trim() };
}

describe.runIf(real.ok)('ovsdb-server, side by side with the real one', { timeout: 600_000 }, () => {
  it('a clustered database of one server: served by ours and the real one in turn, each reading the log of the other', async () => {
    const { rows, server, cid } = await clusterScenario();
    const numbers = [...rows.matchAll(/"number":(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    expect(numbers).toEqual([0, 1, 2, 3, 4, 5]);
    for (const name of ['ours0', 'ours1', 'real0', 'real1']) expect(rows).toContain(`"${name}"`);
    const line = server.split('\n').find((l) => l.includes('ordinals'))!;
    expect(line.split(/\s+/).filter(Boolean)).toEqual([cid, 'true', 'true', 'clustered', 'ordinals']);
  });

  it('SSL: the SSL table by db: references, a pssl: manager, CA bootstrap, refused peers', async () => {
    const pki = makePki();
    const ours = await sslScenario('ours', pki);
    const theirs = await sslScenario('real', pki);
    expect(ours).toEqual(theirs);
  });

  it('db: remotes from the Manager table, their status, unixctl, exit', async () => {
    const ours = await managerScenario('ours');
    const theirs = await managerScenario('real');
    expect(ours).toEqual(theirs);
  });

  it('--run runs a command against the served database and exits with it', () => {
    const out: Record<Which, string[]> = { ours: [], real: [] };
    for (const which of ['ours', 'real'] as const) {
      const s = setup(which, 'run');
      const txn = JSON.stringify(['Open_vSwitch', { op: 'insert', table: 'Open_vSwitch', row: {} }]);
      for (const cmd of [`ovsdb-client transact unix:db.sock '${txn}'`, 'ovsdb-client list-dbs unix:db.sock; exit 3']) {
        const r = s.server(['--remote=punix:db.sock', 'conf.db', `--run=${cmd}`]);
        out[which].push(`${r.status}|${r.stdout.replace(/[0-9a-f-]{36}/g, '<uuid>')}|${r.stderr}`);
      }
    }
    expect(out.ours).toEqual(out.real);
  });

  it('refuses what it cannot serve, with the real texts', () => {
    const out: Record<Which, string[]> = { ours: [], real: [] };
    for (const which of ['ours', 'real'] as const) {
      const s = setup(which, 'errors');
      for (const args of [
        ['--remote=db:Open_vSwitch,Nope,target', 'conf.db'],
        ['--remote=db:Nodb,Open_vSwitch,manager_options', 'conf.db'],
        ['--remote=db:Open_vSwitch', 'conf.db'],
        ['nosuch.db'],
        ['--frob'],
      ]) {
        const r = s.server([...args, '--unixctl=ctl', '-vconsole:off']);
        out[which].push(`${r.status}|${r.stderr}`);
      }
    }
    expect(out.ours).toEqual(out.real);
  });
});
