/**
 * A whole switch as separate processes, the way a user runs it: the
 * ovs-kernel daemon, a database server (ours, or Debian's real ovsdb-server)
 * and ovs-vswitchd, in a private run directory, with ovs-vsctl (ours or the
 * real one) to drive it. For the tests that need the real interleavings of
 * processes (concurrency, hostile input), where an in-process rig would
 * serialise everything on one event loop.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRealServer } from '@ovs/ovsdb/testing';
import { accepts } from '../sandbox.js';

/** A workspace package's bin script. */
export const bin = (pkg: string, tool: string) => fileURLToPath(new URL(`../../../${pkg}/bin/${tool}.js`, import.meta.url));

export interface Call {
  args: string[];
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs one of our tools to completion (rejects with its stderr on failure). */
export function tool(pkg: string, name: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin(pkg, name), ...args], { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${name} ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

export async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not happen within ${ms / 1000} s`);
}

export interface Daemon {
  pid: number;
  alive: () => boolean;
  /** SIGTERM (SIGKILL if it has not exited 10 s later). */
  stop: () => Promise<void>;
}

/** One of our daemons as a child process, its output to `log`. */
export function daemon(pkg: string, name: string, args: string[], env: NodeJS.ProcessEnv, log: string): Daemon {
  const child = spawn(process.execPath, [bin(pkg, name), ...args], { env, stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')] });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    alive,
    stop: () =>
      new Promise<void>((resolve) => {
        if (!alive()) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export type Vsctl = (args: string[]) => Promise<Call>;

/** ovs-vsctl (ours or Debian's) against `remote`, with a --timeout: a call that hangs dies of SIGALRM. */
export function vsctlWith(which: 'ours' | 'real', remote: string, env: NodeJS.ProcessEnv = process.env): Vsctl {
  const [cmd, pre] = which === 'ours' ? [process.execPath, [bin('vsctl', 'ovs-vsctl')]] : ['ovs-vsctl', []];
  return (args) =>
    new Promise((resolve) => {
      execFile(cmd, [...pre, `--db=${remote}`, '--timeout=90', ...args], { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: number }) | null;
        resolve({ args, status: e ? (typeof e.code === 'number' ? e.code : 128) : 0, stdout, stderr });
      });
    });
}

export interface Switch {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The database's unix socket. */
  dbSocket: string;
  vsctl: Vsctl;
  /** ovs-vswitchd's control socket. */
  ctl: string;
  kernelSocket: string;
  vswitchd: Daemon;
  /** Our database server (absent with the real one). */
  dbServer?: Daemon;
  /** Stops our database server and starts it again on the same file. */
  restartDb: () => Promise<void>;
  /** Every daemon's pid (the kernel daemon's from its pid file). */
  pids: () => number[];
  /** The datapath's port names, as ovs-dpctl show prints them. */
  vports: () => Promise<string[]>;
  stop: () => Promise<void>;
}

/** Starts the kernel daemon, a database server and ovs-vswitchd, and initialises the database. */
export async function startSwitch(opts: { server?: 'ours' | 'real'; client?: 'ours' | 'real' } = {}): Promise<Switch> {
  const dir = mkdtempSync(join(tmpdir(), 'vswitchd-daemons-'));
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const stops: Array<() => Promise<unknown>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    await tool('kernel-datapath', 'ovs-kernel', ['start'], env);
    stops.push(() => tool('kernel-datapath', 'ovs-kernel', ['stop'], env));
    let dbSocket: string;
    let dbServer: Daemon | undefined;
    const startDb = async () => {
      dbServer = daemon('ovsdb', 'ovs-db', ['serve', join(dir, 'conf.db'), '--remote', `punix:${dbSocket}`], env, join(dir, 'ovs-db.log'));
      await until('ovs-db serve accepting connections', () => accepts(dbSocket));
    };
    if ((opts.server ?? 'ours') === 'ours') {
      dbSocket = join(dir, 'db.sock');
      await tool('ovsdb', 'ovs-db', ['create', join(dir, 'conf.db')], env);
      stops.push(() => dbServer!.stop());
      await startDb();
    } else {
      const s = await startRealServer(dir);
      stops.push(s.stop);
      dbSocket = s.socket;
    }
    const vsctl = vsctlWith(opts.client ?? 'ours', `unix:${dbSocket}`, env);
    const init = await vsctl(['--no-wait', 'init']);
    if (init.status !== 0) throw new Error(`ovs-vsctl init: ${init.stderr}`);
    const vswitchd = daemon(
      'vswitchd',
      'ovs-vswitchd',
      [`unix:${dbSocket}`, `--log-file=${join(dir, 'ovs-vswitchd.log')}`],
      env,
      join(dir, 'ovs-vswitchd.out'),
    );
    stops.push(vswitchd.stop);
    const ctl = join(dir, `ovs-vswitchd.${vswitchd.pid}.ctl`);
    await until('ovs-vswitchd accepting connections', () => accepts(ctl));
    const kernelSocket = join(dir, 'ovs-kernel.sock');
    const kernelPid = Number(readFileSync(join(dir, 'ovs-kernel.pid'), 'utf8'));
    return {
      dir,
      env,
      dbSocket,
      vsctl,
      ctl,
      kernelSocket,
      vswitchd,
      get dbServer() {
        return dbServer;
      },
      restartDb: async () => {
        if (!dbServer) throw new Error('not our database server');
        await dbServer.stop();
        await startDb();
      },
      pids: () => [kernelPid, vswitchd.pid, ...(dbServer ? [dbServer.pid] : [])],
      vports: async () => [...(await tool('dpif-netlink', 'ovs-dpctl', ['show'], env)).matchAll(/^ {2}port \d+: (\S+)/gm)].map((m) => m[1]!),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Whether a process exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
