/**
 * ovs-sandbox [-k|--keep] [--dir=DIR] [COMMAND [ARG...]] (like OVS's
 * tutorial/ovs-sandbox): a whole switch in a fresh private state directory —
 * the kernel model (ovs-kernel daemon), the database server (ovs-db serve)
 * and ovs-vswitchd — with the tools on PATH; runs COMMAND (in the caller's
 * directory, so a script's relative paths hold) or, when none is given, an
 * interactive shell that starts in the sandbox directory, after a banner
 * saying where the logs are, as OVS's does; then stops everything it
 * started, by pid, and removes the directory unless it was given (--dir) or
 * kept (--keep). Its exit status is COMMAND's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { randomUUID } from 'node:crypto';
import { hostname, constants as osConstants, tmpdir } from 'node:os';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Idl, type VswitchTables } from '@ovs/ovsdb';
import { VERSION } from './version.js';

const require = createRequire(import.meta.url);
const osSignals = osConstants.signals as Record<string, number>;

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

/** Thrown when a signal (or the parent's death) interrupts start-up. */
class Interrupted extends Error {}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, stop: AbortSignal, child?: ChildProcess, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (stop.aborted) throw new Interrupted();
    if (child && child.exitCode !== null) throw new Error(`${what} exited (status ${child.exitCode})`);
    if (Date.now() > until) throw new Error(`${what} did not come up within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Whether a daemon accepts connections on its unix socket. The socket file
 * alone says nothing: it exists from bind(), before listen(), and a
 * connection in between is refused.
 */
export function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`);
}

/** What ends a sandbox early: these signals, and its parent going away (as if the terminal hung up). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Watches for a stop: each signal, and the parent's death (seen as a change
 * of ppid: Node has no PR_SET_PDEATHSIG). `signal` aborts with the signal's
 * name; `dispose` removes the handlers.
 */
function watchStop(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = () => ac.abort(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  const ppid = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid !== ppid) ac.abort('SIGHUP');
  }, 500);
  poll.unref();
  return {
    signal: ac.signal,
    dispose: () => {
      clearInterval(poll);
      for (const [sig, h] of handlers) process.off(sig, h);
    },
  };
}

const USAGE = `ovs-sandbox, for starting a sandboxed Open vSwitch (TypeScript) environment
usage: ovs-sandbox [OPTION...] [COMMAND [ARG...]]

Starts ovs-kernel (the kernel model), ovs-db and ovs-vswitchd in a private
directory with the tools on PATH, runs COMMAND there (in the current
directory), or without one an interactive shell that starts in the sandbox
directory, then stops the daemons.

Options:
  --dir=DIR            use DIR (created if need be, kept at the end) instead
                       of a new temporary directory
  -k, --keep           keep the temporary directory at the end (it is kept
                       anyway, with its logs, when start-up fails)
  -h, --help           Print this usage message.`;

/** The options before COMMAND, parsed as OVS's ovs-sandbox reads its own (unknown ones refused). */
export function parseSandboxArgs(argv: readonly string[]): { dir?: string; keep: boolean; help: boolean; command: string[] } | { error: string } {
  const args = [...argv];
  let dir: string | undefined;
  let keep = false;
  let help = false;
  while (args.length > 0 && args[0]!.startsWith('-')) {
    const a = args.shift()!;
    if (a === '--') break;
    if (a === '-h' || a === '--help') help = true;
    else if (a === '-k' || a === '--keep') keep = true;
    else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length);
    else if (a === '--dir') {
      dir = args.shift();
      if (dir === undefined) return { error: 'option --dir requires an argument (use --help for help)' };
    } else return { error: `unrecognized option ${a} (use --help for help)` };
  }
  return { ...(dir !== undefined ? { dir } : {}), keep, help, command: args };
}

/** What the shell session prints first: OVS's banner, with where this sandbox's logs are. */
function banner(dir: string, keep: boolean): string {
  return `
----------------------------------------------------------------------
You are running in a sandboxed Open vSwitch (TypeScript) environment: the
kernel model, ovs-db and ovs-vswitchd.  You can use ovs-vsctl, ovs-appctl,
ovs-dpctl, ovs-kernel ip, and other tools to work with the switch.

Log files, pidfiles, and the configuration database are in the sandbox
directory, where this shell starts:
  ${dir}
  (ovs-vswitchd.log, ovs-db.log, ovs-kernel.log)

Exit the shell to kill the running daemons${keep ? '; the directory is kept.' : ' and remove the directory.'}`;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseSandboxArgs(argv);
  if ('error' in parsed) {
    console.error(parsed.error);
    return 1;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const args = parsed.command;
  let dir = parsed.dir;
  const stop = watchStop();
  const ownDir = dir === undefined;
  dir ??= mkdtempSync(join(tmpdir(), 'ovs-sandbox-'));
  mkdirSync(dir, { recursive: true });
  const bin = makeBin(dir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_DBDIR: dir,
    OVS_LOGDIR: dir,
    OVS_SANDBOX: dir,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
  };
  const tool = (name: string) => join(bin, name);
  const children: ChildProcess[] = [];
  /** The pid file a child removes itself on a clean exit. */
  const pidfiles = new Map<ChildProcess, string>();
  const log = (name: string) => openSync(join(dir!, `${name}.log`), 'a');
  let keepDir = !ownDir || parsed.keep;
  try {
    // The kernel: the ovs-kernel daemon, started as OVS's sandbox starts its daemons (--detach returns once it listens).
    run(tool('ovs-kernel'), ['start', '--detach', '--no-chdir', '--pidfile', '-vconsole:off', '--log-file'], env);
    // The database.
    const db = join(dir, 'conf.db');
    const dbSock = join(dir, 'db.sock');
    run(tool('ovs-db'), ['create', db], env);
    const dbServer = spawn(tool('ovs-db'), ['serve', db, '--remote', `punix:${dbSock}`], {
      env,
      detached: true,
      stdio: ['ignore', log('ovs-db'), log('ovs-db')],
    });
    children.push(dbServer);
    await waitFor('ovs-db serve', () => accepts(dbSock), stop.signal, dbServer);
    await initDatabase(dbSock, dir);
    // The switch: ready once its control socket (named by the pid in its pid file) accepts connections.
    const vswitchd = spawn(tool('ovs-vswitchd'), [`unix:${dbSock}`, `--log-file=${join(dir, 'ovs-vswitchd.log')}`], {
      env,
      detached: true,
      stdio: ['ignore', log('ovs-vswitchd.out'), log('ovs-vswitchd.out')],
    });
    children.push(vswitchd);
    const pidfile = join(dir, 'ovs-vswitchd.pid');
    pidfiles.set(vswitchd, pidfile);
    const ctl = () => (existsSync(pidfile) ? join(dir!, `ovs-vswitchd.${readFileSync(pidfile, 'utf8').trim()}.ctl`) : undefined);
    await waitFor('ovs-vswitchd', async () => ctl() !== undefined && (await accepts(ctl()!)), stop.signal, vswitchd);
    // The user's command (or a shell), in the sandbox's environment.
    const session = args.length === 0;
    const [cmd, ...cmdArgs] = session ? [process.env.SHELL || '/bin/sh'] : args;
    if (session) console.log(banner(dir, keepDir));
    // The shell starts in the sandbox directory; a command runs where it was asked for.
    const user = spawn(cmd!, cmdArgs, { env, stdio: 'inherit', ...(session ? { cwd: dir } : {}) });
    const status = await new Promise<number>((resolve) => {
      user.on('error', (err) => {
        console.error(`ovs-sandbox: ${cmd}: ${err.message}`);
        resolve(127);
      });
      user.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (osSignals[signal] ?? 0) : 1)));
      // A stop is passed on to the command; the sandbox goes down when it has exited (SIGKILL after 10 s).
      stop.signal.addEventListener('abort', () => {
        const sig = stop.signal.reason as StopSignal;
        if (user.exitCode === null && user.signalCode === null) {
          user.kill(sig);
          setTimeout(() => user.kill('SIGKILL'), 10000).unref();
        }
        user.once('exit', () => resolve(128 + osSignals[sig]!));
      });
    });
    if (session) console.log('----------------------------------------------------------------------\n\n\n');
    return status;
  } catch (err) {
    if (err instanceof Interrupted) return 128 + osSignals[stop.signal.reason as StopSignal]!;
    keepDir = true;
    console.error(`ovs-sandbox: ${(err as Error).message} (logs in ${dir})`);
    return 1;
  } finally {
    for (const child of [...children].reverse()) await stopChild(child, pidfiles.get(child));
    spawnSync(tool('ovs-kernel'), ['stop'], { env });
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    else if (ownDir && parsed.keep) console.error(`ovs-sandbox: kept ${dir}`);
    stop.dispose();
  }
}

/**
 * What ovs-ctl does to the database when it starts OVS: `ovs-vsctl init`
 * with db-version (the schema's version), then set_system_ids —
 * ovs-version (ovs-vswitchd's), external-ids:system-id (a random UUID, kept
 * in the directory's system-id.conf as ovs-ctl keeps it in its etc
 * directory) and rundir, system-type and system-version from
 * /etc/os-release — and, once ovs-vswitchd runs, external-ids:hostname.
 */
async function initDatabase(socket: string, dir: string): Promise<void> {
  const idl = await Idl.open<VswitchTables>({ remote: `unix:${socket}`, tables: { Open_vSwitch: true }, reconnect: false });
  try {
    const txn = idl.transaction();
    const row = idl.first('Open_vSwitch') ?? txn.insert('Open_vSwitch', {});
    const idFile = join(dir, 'system-id.conf');
    if (!existsSync(idFile)) writeFileSync(idFile, `${randomUUID()}\n`);
    const os = osRelease();
    const externalIds = new Map(idl.first('Open_vSwitch')?.get('external_ids') ?? []);
    externalIds.set('system-id', readFileSync(idFile, 'utf8').trim());
    externalIds.set('rundir', dir);
    if (!externalIds.has('hostname')) externalIds.set('hostname', hostname());
    txn.update(row, {
      db_version: idl.schema.version,
      ovs_version: VERSION,
      system_type: os.ID ?? 'unknown',
      system_version: os.VERSION_ID ?? 'unknown',
      external_ids: externalIds,
    });
    const r = await txn.commit();
    if (r.status === 'error') throw new Error(`cannot initialize the database (${r.error.message})`);
  } finally {
    idl.close();
  }
}

/** /etc/os-release's variables (ovs-ctl sources it for ID and VERSION_ID). */
function osRelease(): Record<string, string> {
  try {
    const vars: Record<string, string> = {};
    for (const m of readFileSync('/etc/os-release', 'utf8').matchAll(/^([A-Z_]+)=(?:"([^"]*)"|(\S*))$/gm)) vars[m[1]!] = m[2] ?? m[3] ?? '';
    return vars;
  } catch {
    return {};
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
