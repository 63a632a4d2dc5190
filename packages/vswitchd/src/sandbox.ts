/**
 * ovs-sandbox [--dir DIR] [COMMAND [ARG...]] (like OVS's tutorial/ovs-sandbox):
 * a whole switch in a fresh private state directory — the kernel model
 * (ovs-kernel daemon), the database server (ovs-db serve) and ovs-vswitchd —
 * with the tools on PATH; runs COMMAND there (an interactive shell when none
 * is given), then stops everything it started, by pid. Its exit status is
 * COMMAND's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Idl, type VswitchTables } from '@ovs/ovsdb';

const require = createRequire(import.meta.url);

/** The tools a sandbox puts on PATH: command name -> the package and its bin script. */
const TOOLS: Array<[string, string, string]> = [
  ['ovs-vsctl', '@ovs/vsctl', 'bin/ovs-vsctl.js'],
  ['ovs-vswitchd', '@ovs/vswitchd', 'bin/ovs-vswitchd.js'],
  ['ovs-appctl', '@ovs/vswitchd', 'bin/ovs-appctl.js'],
  ['ovs-dpctl', '@ovs/dpif-netlink', 'bin/ovs-dpctl.js'],
  ['ovs-kernel', '@ovs/kernel-datapath', 'bin/ovs-kernel.js'],
  ['ovs-db', '@ovs/ovsdb', 'bin/ovs-db.js'],
  ['ovs-genl', '@ovs/genl-codec', 'bin/ovs-genl.js'],
];

/** Where a package's bin script is (this package's own, or a workspace dependency's). */
function toolScript(pkg: string, script: string): string | undefined {
  try {
    const root = pkg === '@ovs/vswitchd' ? join(dirname(new URL(import.meta.url).pathname), '..') : dirname(require.resolve(`${pkg}/package.json`));
    const path = join(root, script);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** bin/ in the sandbox: one small wrapper per tool, so they run as plain commands. */
function makeBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, pkg, script] of TOOLS) {
    const path = toolScript(pkg, script);
    if (!path) continue;
    writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${path}" "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

async function waitFor(what: string, ok: () => boolean, child?: ChildProcess, ms = 15000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited (status ${child.exitCode})`);
    if (Date.now() > until) throw new Error(`${what} did not come up within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`);
}

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let dir: string | undefined;
  if (args[0] === '--dir') {
    args.shift();
    dir = args.shift();
  }
  if (args[0] === '-h' || args[0] === '--help') {
    console.log('usage: ovs-sandbox [--dir DIR] [COMMAND [ARG...]]\nStarts ovs-kernel, ovs-db and ovs-vswitchd in a private directory, runs COMMAND (default: a shell) there, then stops them.');
    return 0;
  }
  dir ??= mkdtempSync(join(tmpdir(), 'ovs-sandbox-'));
  mkdirSync(dir, { recursive: true });
  const bin = makeBin(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SANDBOX: dir, PATH: `${bin}:${process.env.PATH ?? ''}` };
  const tool = (name: string) => join(bin, name);
  const children: ChildProcess[] = [];
  /** The pid file a child removes itself on a clean exit. */
  const pidfiles = new Map<ChildProcess, string>();
  const log = (name: string) => openSync(join(dir!, `${name}.log`), 'a');
  try {
    // The kernel: the ovs-kernel daemon, which backgrounds itself.
    run(tool('ovs-kernel'), ['start'], env);
    // The database.
    const db = join(dir, 'conf.db');
    run(tool('ovs-db'), ['create', db], env);
    const dbServer = spawn(tool('ovs-db'), ['serve', db, '--remote', `punix:${join(dir, 'db.sock')}`], { env, detached: true, stdio: ['ignore', log('ovs-db'), log('ovs-db')] });
    children.push(dbServer);
    await waitFor('ovs-db serve', () => existsSync(join(dir!, 'db.sock')), dbServer);
    await initDatabase(join(dir, 'db.sock'));
    // The switch.
    const vswitchd = spawn(tool('ovs-vswitchd'), [`unix:${join(dir, 'db.sock')}`, '--log-file', join(dir, 'ovs-vswitchd.log')], { env, detached: true, stdio: ['ignore', log('ovs-vswitchd.out'), log('ovs-vswitchd.out')] });
    children.push(vswitchd);
    pidfiles.set(vswitchd, join(dir, 'ovs-vswitchd.pid'));
    await waitFor('ovs-vswitchd', () => existsSync(join(dir!, 'ovs-vswitchd.pid')) && existsSync(join(dir!, `ovs-vswitchd.${readFileSync(join(dir!, 'ovs-vswitchd.pid'), 'utf8').trim()}.ctl`)), vswitchd);
    // The user's command (or a shell), in the sandbox's environment.
    const [cmd, ...cmdArgs] = args.length ? args : [process.env.SHELL || '/bin/sh'];
    if (!args.length) console.log(`----------------------------------------------------------------------\nYou are running in an Open vSwitch (TypeScript) sandbox in ${dir}.\nThe tools (ovs-vsctl, ovs-appctl, ovs-dpctl, ovs-kernel ip link...) are on PATH.\nExit the shell to stop the sandbox.\n----------------------------------------------------------------------`);
    const user = spawn(cmd!, cmdArgs, { env, stdio: 'inherit' });
    return await new Promise<number>((resolve) => {
      user.on('error', (err) => {
        console.error(`ovs-sandbox: ${cmd}: ${err.message}`);
        resolve(127);
      });
      user.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } catch (err) {
    console.error(`ovs-sandbox: ${(err as Error).message} (logs in ${dir})`);
    return 1;
  } finally {
    for (const child of [...children].reverse()) await stopChild(child, pidfiles.get(child));
    spawnSync(tool('ovs-kernel'), ['stop'], { env });
  }
}

/** ovs-vsctl init: the Open_vSwitch row, if the database has none. */
async function initDatabase(socket: string): Promise<void> {
  const idl = await Idl.open<VswitchTables>({ remote: `unix:${socket}`, tables: { Open_vSwitch: true }, reconnect: false });
  try {
    if (!idl.first('Open_vSwitch')) {
      const txn = idl.transaction();
      txn.insert('Open_vSwitch', {});
      const r = await txn.commit();
      if (r.status !== 'success') throw new Error(`cannot initialize the database (${r.status})`);
    }
  } finally {
    idl.close();
  }
}

/** SIGTERM, then wait for the exit (SIGKILL after 20 s; then the pid file it could not remove goes too). */
async function stopChild(child: ChildProcess, pidfile?: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, 20000);
  await exited;
  clearTimeout(timer);
  if (killed && pidfile) rmSync(pidfile, { force: true });
}
