/**
 * Many clients at once, as a CNI plugin or a test suite drives a switch: 50
 * ovs-vsctl processes started together against one bridge — adding ports,
 * deleting ports, setting columns, and some that must fail (two adding the
 * same port, two deleting one that does not exist) — while ovs-vswitchd
 * applies the changes to the kernel model. Three pairings: our ovs-vsctl and
 * our database server; Debian's real ovs-vsctl 3.1 and our server; ours and
 * the real ovsdb-server. Every piece is its own process, as a user runs
 * them (the ovs-kernel daemon, the database server, ovs-vswitchd), so the
 * interleavings are the real ones.
 *
 * What must hold (the real tool's behaviour, and the database's invariants):
 * every call ends — none runs into its --timeout — with the exit status and
 * error text the real ovs-vsctl gives; no port is lost or doubled; ofports
 * are unique, and the ports that were there keep theirs; cur_cfg reaches
 * next_cfg; the datapath holds exactly the interfaces the database has.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRealOvs, startRealServer } from '@ovs/ovsdb/testing';
import { afterEach, describe, expect, it } from 'vitest';

const real = ensureRealOvs();

interface Call {
  args: string[];
  status: number;
  stdout: string;
  stderr: string;
}

type Vsctl = (args: string[]) => Promise<Call>;

function vsctlWith(tool: 'ours' | 'real', remote: string): Vsctl {
  const [cmd, pre] = tool === 'ours' ? [process.execPath, [bin('vsctl', 'ovs-vsctl')]] : ['ovs-vsctl', []];
  return (args) =>
    new Promise((resolve) => {
      // The alarm is the bound: a call that hangs dies of SIGALRM (status 142 in a shell), which the checks below reject.
      execFile(cmd, [...pre, `--db=${remote}`, '--timeout=90', ...args], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: number; signal?: string }) | null;
        resolve({ args, status: e ? (typeof e.code === 'number' ? e.code : 128) : 0, stdout, stderr });
      });
    });
}

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const internal = (name: string) => ['add-port', 'br0', name, '--', 'set', 'Interface', name, 'type=internal'];

/** The 50 concurrent calls, with what the real ovs-vsctl ends with for each (whatever the interleaving). */
function workload(): Array<{ args: string[]; expect: 'ok' | 'dup' | 'nosuch' }> {
  const calls: Array<{ args: string[]; expect: 'ok' | 'dup' | 'nosuch' }> = [];
  for (const p of range(26, 'new')) calls.push({ args: internal(p), expect: 'ok' });
  for (const p of range(10, 'del')) calls.push({ args: ['del-port', 'br0', p], expect: 'ok' });
  for (const [i, p] of range(10, 'keep').entries()) calls.push({ args: ['set', 'Interface', p, `external_ids:stress=${i + 1}`], expect: 'ok' });
  // Two add the same port: one wins, the other finds it there once it retries.
  calls.push({ args: internal('dup'), expect: 'dup' }, { args: internal('dup'), expect: 'dup' });
  calls.push({ args: ['del-port', 'br0', 'gone'], expect: 'nosuch' }, { args: ['del-port', 'br0', 'gone'], expect: 'nosuch' });
  return calls;
}

interface Rig {
  vsctl: Vsctl;
  /** The datapath's port names, as ovs-dpctl show prints them. */
  vports: () => Promise<string[]>;
}

async function stressAndCheck(rig: Rig): Promise<void> {
  const { vsctl } = rig;
  const setup = await vsctl(['add-br', 'br0', ...[...range(10, 'keep'), ...range(10, 'del')].flatMap((p) => ['--', ...internal(p)])]);
  expect(setup).toMatchObject({ status: 0, stderr: '' });
  const before = await ofports(vsctl);

  const calls = workload();
  const results = await Promise.all(calls.map((c) => vsctl(c.args)));

  // Every call ended as the real tool ends it.
  const dupResults = results.filter((_, i) => calls[i]!.expect === 'dup');
  expect(dupResults.map((r) => r.status).sort()).toEqual([0, 1]);
  expect(dupResults.find((r) => r.status === 1)!.stderr).toBe(
    'ovs-vsctl: cannot create a port named dup because a port named dup already exists on bridge br0\n',
  );
  for (const [i, r] of results.entries()) {
    const want = calls[i]!.expect;
    if (want === 'ok') expect(r, r.args.join(' ')).toMatchObject({ status: 0, stderr: '' });
    if (want === 'nosuch') expect(r).toMatchObject({ status: 1, stderr: 'ovs-vsctl: no port named gone\n' });
  }

  // Nothing lost or doubled.
  const ports = (await listPorts(vsctl)).sort();
  expect(ports).toEqual([...range(10, 'keep'), ...range(26, 'new'), 'dup'].sort());
  const after = await ofports(vsctl);
  expect([...after.keys()].sort()).toEqual(['br0', ...ports].sort());
  // ofports unique and set; the ports that were there keep theirs.
  const numbers = [...after.values()];
  expect(new Set(numbers).size).toBe(numbers.length);
  for (const [name, n] of after) expect(n, name).toBeGreaterThan(0);
  for (const p of range(10, 'keep')) expect(after.get(p)).toBe(before.get(p));
  expect(after.get('br0')).toBe(65534);
  // Every set took effect.
  for (const [i, p] of range(10, 'keep').entries()) expect(await getValue(vsctl, ['get', 'Interface', p, 'external_ids:stress'])).toBe(`"${i + 1}"`);
  // ovs-vswitchd caught up, and the datapath is what the database says.
  const [cur, next] = [await getValue(vsctl, ['get', 'Open_vSwitch', '.', 'cur_cfg']), await getValue(vsctl, ['get', 'Open_vSwitch', '.', 'next_cfg'])];
  expect(cur).toBe(next);
  expect((await rig.vports()).sort()).toEqual(['ovs-system', 'br0', ...ports].sort());
}

async function getValue(vsctl: Vsctl, args: string[]): Promise<string> {
  const r = await vsctl(args);
  expect(r, args.join(' ')).toMatchObject({ status: 0, stderr: '' });
  return r.stdout.trim();
}

async function listPorts(vsctl: Vsctl): Promise<string[]> {
  return (await getValue(vsctl, ['list-ports', 'br0'])).split('\n').filter(Boolean);
}

/** Interface name -> ofport. */
async function ofports(vsctl: Vsctl): Promise<Map<string, number>> {
  const text = await getValue(vsctl, ['--bare', '--columns=name,ofport', 'list', 'Interface']);
  return new Map(text.split(/\n\n/).map((b) => b.split('\n') as [string, string]).map(([n, o]) => [n, Number(o)]));
}

const bin = (pkg: string, tool: string) => fileURLToPath(new URL(`../../${pkg}/bin/${tool}.js`, import.meta.url));

/** Runs one of our tools to completion. */
function tool(pkg: string, name: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin(pkg, name), ...args], { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${name} ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}

/** Whether something accepts connections on a unix socket. */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not come up within 30 s`);
}

/** A daemon of ours, stopped with SIGTERM (SIGKILL if it has not exited 10 s later). */
function daemon(pkg: string, name: string, args: string[], env: NodeJS.ProcessEnv, log: string): () => Promise<void> {
  const child = spawn(process.execPath, [bin(pkg, name), ...args], { env, stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')] });
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

describe('50 concurrent ovs-vsctl calls on one bridge', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function rig(server: 'ours' | 'real', client: 'ours' | 'real'): Promise<Rig> {
    const dir = mkdtempSync(join(tmpdir(), 'vswitchd-stress-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
    // The kernel model's daemon (it backgrounds itself once it accepts connections).
    await tool('kernel-datapath', 'ovs-kernel', ['start'], env);
    cleanups.push(() => tool('kernel-datapath', 'ovs-kernel', ['stop'], env));
    let socket: string;
    if (server === 'ours') {
      socket = join(dir, 'db.sock');
      await tool('ovsdb', 'ovs-db', ['create', join(dir, 'conf.db')], env);
      cleanups.push(daemon('ovsdb', 'ovs-db', ['serve', join(dir, 'conf.db'), '--remote', `punix:${socket}`], env, join(dir, 'ovs-db.log')));
      await until('ovs-db serve', () => accepts(socket));
    } else {
      const s = await startRealServer(dir);
      cleanups.push(() => s.stop());
      socket = s.socket;
    }
    const vsctl = vsctlWith(client, `unix:${socket}`);
    expect((await vsctl(['--no-wait', 'init'])).status).toBe(0);
    cleanups.push(daemon('vswitchd', 'ovs-vswitchd', [`unix:${socket}`, '--log-file', join(dir, 'ovs-vswitchd.log')], env, join(dir, 'ovs-vswitchd.out')));
    const pidfile = join(dir, 'ovs-vswitchd.pid');
    await until('ovs-vswitchd', async () => existsSync(pidfile) && accepts(join(dir, `ovs-vswitchd.${readFileSync(pidfile, 'utf8').trim()}.ctl`)));
    const vports = async () => {
      const show = await tool('dpif-netlink', 'ovs-dpctl', ['show'], env);
      return [...show.matchAll(/^ {2}port \d+: (\S+)/gm)].map((m) => m[1]!);
    };
    return { vsctl, vports };
  }

  it('our ovs-vsctl, our database server', async () => {
    await stressAndCheck(await rig('ours', 'ours'));
  }, 240_000);

  it.runIf(real.ok)("Debian's ovs-vsctl, our database server", async () => {
    await stressAndCheck(await rig('ours', 'real'));
  }, 240_000);

  it.runIf(real.ok)("our ovs-vsctl, Debian's ovsdb-server", async () => {
    await stressAndCheck(await rig('real', 'ours'));
  }, 240_000);
});
