/**
 * ovs-kernel: run the kernel model as a daemon on a unix socket, and talk to
 * it the way iproute2 talks to Linux.
 *
 *   ovs-kernel start [--socket PATH] [--profile linux-6.1|ovs-2.5] [--cpus N] [--foreground]
 *                    [--detach] [--pidfile[=FILE]] [--log-file[=FILE]] [-vSPEC] [--unixctl=PATH] ...
 *   ovs-kernel stop [--socket PATH]
 *   ovs-kernel ip [-n NETNS] link add|del|set|show ... | addr add|show ... | netns add|del|list|exec ...
 *   ovs-kernel replay FILE.json [--verbose]
 *   ovs-kernel fault show | set POINT [--probability P] [--interval N] [--times K] [--space N] [--nth N] | clear [POINT]
 *
 * Exit status: 0 on success; 1 on a failure (no kernel running, a failed
 * replay...); 2 on a usage error, and for `ip`, when the kernel answered with
 * an error (as iproute2).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DAEMON_LONG_OPTIONS,
  Daemon,
  type LongOption,
  OvsError,
  type ParsedOption,
  UNIXCTL_LONG_OPTIONS,
  VLOG_LONG_OPTIONS,
  Vlog,
  getoptLong,
  unixctlServerCreate,
} from '@ovs/util';
import { gunzipSync } from 'node:zlib';
import { constants as osConstants } from 'node:os';
import { Errno, NetlinkErrnoError, NetlinkProtocol, errnoNumber, strerror } from '@ovs/genl-codec';
import { UnixNetlinkConnectionError, type UnixNetlinkSocket, connectUnixNetlink, kernelSocketPath, unixFaultRequest } from '@ovs/genl-codec/unix';
import type { Daemon as Daemon_ } from './daemon.js';
import type { FaultPointState } from '../lib/fault-inject.js';
import { type IpLink, type IpLinkKind, type NetnsRef, formatIpLink, ipLinkAdd, ipLinkDel, ipLinkSet, ipLinkShow } from './iplink.js';
import { formatIpAddr, ipAddrAdd, ipAddrDump, parsePrefix } from './ipaddress.js';
import { NetnsControl, OVS_KERNEL_NETNS, netnsIds } from './ipnetns.js';
import type { KernelOptions, KernelProfile } from '../kernel.js';
// The kernel model (daemon.js, replay.js) is loaded by the commands that run it, not by every client call.
const daemonJs = () => import('./daemon.js');

const SYNOPSIS = `usage: ovs-kernel start [--socket PATH] [--profile linux-6.1|ovs-2.5] [--cpus N] [--foreground]
                         [--detach] [--pidfile[=FILE]] [--log-file[=FILE]] [--no-chdir] [--monitor]
                         [--unixctl=PATH] [-v[SPEC]] [--verbose[=SPEC]]
       ovs-kernel stop [--socket PATH]
       ovs-kernel ip [-n NETNS] link add NAME [netns NS] type dummy|veth [peer [name] NAME [netns NS]]
       ovs-kernel ip [-n NETNS] link del NAME
       ovs-kernel ip [-n NETNS] link set NAME [up|down] [mtu N] [address MAC] [name NEWNAME] [netns NS|PID]
       ovs-kernel ip [-n NETNS] link show [NAME]
       ovs-kernel ip [-n NETNS] addr add ADDR/LEN dev NAME
       ovs-kernel ip [-n NETNS] addr show [dev NAME]
       ovs-kernel ip netns add|del NAME
       ovs-kernel ip netns list
       ovs-kernel ip netns exec NAME COMMAND [ARG...]
       ovs-kernel replay FILE.json [--verbose]
       ovs-kernel fault show
       ovs-kernel fault set failslab|fail_request_module|fail_netlink_create [--probability P]
                 [--interval N] [--times K] [--space N] [--verbose V] [--nth N]
       ovs-kernel fault clear [POINT]`;

const HELP = `${SYNOPSIS}

start   runs a kernel (the openvswitch module's model) serving netlink on a
        unix socket, in the background: a detached process logging to
        ovs-kernel.log and writing ovs-kernel.pid beside the socket. With
        --foreground it stays in the terminal until SIGINT or SIGTERM.
        With any of an OVS daemon's options it runs as OVS daemons do
        (lib/daemon-unix.c): in the foreground unless --detach, which
        returns once the kernel listens; --pidfile[=FILE] (locked, default
        $OVS_RUNDIR/ovs-kernel.pid), --log-file[=FILE], -v specs,
        --monitor, --no-chdir, and a control socket (--unixctl=PATH,
        default $OVS_RUNDIR/ovs-kernel.PID.ctl) for ovs-appctl: exit,
        version, list-commands, vlog/*.
        --profile picks the module (Linux 6.1's, the default, or OVS 2.5's
        out-of-tree one); --cpus the number of CPUs it reports (default 2).
stop    stops the kernel started on that socket (SIGTERM, then waits).
ip      creates, deletes, changes and lists network devices, addresses and
        namespaces in the running kernel, like iproute2's ip link, ip addr
        and ip netns; -n NETNS works in that namespace. ip netns exec runs
        COMMAND in the namespace: OVS_KERNEL_NETNS=NAME in its environment
        makes every netlink socket it opens on the daemon one of NAME's.
replay  replays a golden capture (JSON) against a fresh in-process kernel and
        reports each exchange that differs; exit 1 if any does.
fault   reads and sets the running kernel's fault injection, as Linux's
        debugfs fault_attr files: failslab (datapath, vport and net_device
        allocations: ENOMEM), fail_request_module (a module that cannot
        load), fail_netlink_create (netlink sockets: ENOMEM). set takes the
        probability as 100 unless given; --nth N fails the Nth call from now
        (space N), with --times K it and the K-1 calls after it. Each
        prints every point's state.

The socket is --socket PATH, else $OVS_KERNEL_SOCKET, else
\${OVS_RUNDIR:-/tmp/ovs-ts-$UID}/ovs-kernel.sock.
Exit status: 0 success, 1 failure, 2 usage error (and, for ip, an error
answered by the kernel, as iproute2).`;

/** How long start waits for the daemon to listen, and stop for it to exit. */
const WAIT_MS = 10_000;
/** sockaddr_un.sun_path holds 108 bytes, NUL included. */
const MAX_SOCKET_PATH = 107;

class UsageError extends Error {}
/** A failure already explained in words; exit status 1 unless given. */
class Failure extends Error {
  constructor(
    message: string,
    readonly status = 1,
  ) {
    super(message);
  }
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/** Entry point; returns the exit status. */
export async function main(argv: string[], ioArg: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo, ...ioArg };
  try {
    let args = argv;
    let socket: string | undefined;
    // Options before the command: --help, --socket PATH.
    while (args.length > 0 && args[0]!.startsWith('-')) {
      const a = args[0]!;
      if (a === '-h' || a === '--help') {
        io.out(HELP);
        return 0;
      }
      if (a === '--socket' && args.length > 1) {
        socket = args[1];
        args = args.slice(2);
      } else if (a.startsWith('--socket=')) {
        socket = a.slice('--socket='.length);
        args = args.slice(1);
      } else {
        throw new UsageError(`unknown option ${JSON.stringify(a)}`);
      }
    }
    const [command, ...rest] = args;
    switch (command) {
      case undefined:
        throw new UsageError('missing command');
      case 'help':
        io.out(HELP);
        return 0;
      case 'start':
        return await cmdStart(rest, socket, io);
      case 'stop':
        return await cmdStop(rest, socket, io);
      case 'ip':
        return await cmdIp(rest, socket, io);
      case 'replay':
        return await cmdReplay(rest, io);
      case 'fault':
        return await cmdFault(rest, socket, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`ovs-kernel: ${err.message}`);
      io.err(SYNOPSIS);
      return 2;
    }
    if (err instanceof Failure) {
      io.err(`ovs-kernel: ${err.message}`);
      return err.status;
    }
    if (err instanceof UnixNetlinkConnectionError) {
      io.err(`ovs-kernel: ${connectionMessage(err)}`);
      return 1;
    }
    io.err(`ovs-kernel: internal error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

function connectionMessage(err: UnixNetlinkConnectionError): string {
  const hint = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? ' (start one with: ovs-kernel start)' : '';
  return `${err.reason || err.message}${hint}`;
}

/** Run parseArgs, its errors becoming usage errors. */
function parsing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message.split('. ')[0]!);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Paths

/** The socket path (shared with every client of the daemon). */
export const socketPathFor = (env: NodeJS.ProcessEnv, option?: string): string => kernelSocketPath(env, option);

/** A file beside the socket: ovs-kernel.sock -> ovs-kernel.pid / ovs-kernel.log. */
export function besideSocket(socketPath: string, ext: '.pid' | '.log'): string {
  const base = basename(socketPath);
  const stem = base.endsWith('.sock') ? base.slice(0, -'.sock'.length) : base;
  return join(dirname(socketPath), `${stem}${ext}`);
}

function readPid(pidfile: string): number | undefined {
  try {
    const n = Number(readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process is alive (a zombie is not). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(0) is all we know
  }
}

/** Whether the pid's command line looks like ours (a pidfile may outlive its process, and the pid be reused). */
function looksLikeOvsKernel(pid: number): boolean {
  try {
    return /ovs-kernel|kernel-datapath/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------
// start / stop

const PROFILES: readonly KernelProfile[] = ['linux-6.1', 'ovs-2.5'];
/** The vlog module of the daemon's own messages. */
const THIS_MODULE = 'ovs_kernel';

/** What `start` takes: its own options, and an OVS daemon's (lib/daemon-unix.c, lib/vlog.c, lib/unixctl.c). */
const START_OPTIONS: readonly LongOption[] = [
  { name: 'socket', arg: 'required' },
  { name: 'profile', arg: 'required' },
  { name: 'cpus', arg: 'required' },
  { name: 'foreground', arg: 'no' },
  { name: 'help', arg: 'no', short: 'h' },
  ...DAEMON_LONG_OPTIONS,
  ...VLOG_LONG_OPTIONS,
  ...UNIXCTL_LONG_OPTIONS,
];
const OVS_DAEMON_OPTIONS = new Set([...DAEMON_LONG_OPTIONS, ...VLOG_LONG_OPTIONS, ...UNIXCTL_LONG_OPTIONS].map((o) => o.name));

async function cmdStart(args: string[], socketOpt: string | undefined, io: CliIo): Promise<number> {
  const cmdline = getoptLong(args, START_OPTIONS);
  if ('error' in cmdline) throw new UsageError(`start: ${cmdline.error}`);
  const values = cmdline.values;
  if (values.has('help')) {
    io.out(HELP);
    return 0;
  }
  if (cmdline.operands.length > 0) throw new UsageError(`start: unexpected argument ${JSON.stringify(cmdline.operands[0])}`);
  const kernelOptions: KernelOptions = {};
  const profile = values.get('profile');
  if (profile !== undefined) {
    if (!(PROFILES as readonly string[]).includes(profile))
      throw new UsageError(`start: unknown profile ${JSON.stringify(profile)} (${PROFILES.join(' or ')})`);
    kernelOptions.profile = profile as KernelProfile;
  }
  const cpus = values.get('cpus');
  if (cpus !== undefined) {
    const n = Number(cpus);
    if (!/^\d+$/.test(cpus) || n < 1 || n > 4096) throw new UsageError(`start: --cpus wants a number from 1 to 4096, not ${JSON.stringify(cpus)}`);
    kernelOptions.nCpus = n;
  }
  const path = socketPathFor(io.env, values.get('socket') ?? socketOpt);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new Failure(`socket path too long for a unix socket (${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH}): ${path}`);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Failure(`cannot create ${dirname(path)}: ${(err as Error).message}`);
  }
  // An OVS daemon's options: run as OVS runs its daemons (in the foreground unless --detach).
  if (cmdline.options.some((o) => OVS_DAEMON_OPTIONS.has(o.option.name))) return runOvsDaemon(path, kernelOptions, cmdline.options, io);
  if (values.has('foreground')) return runForeground(path, kernelOptions, io);

  const pidfile = besideSocket(path, '.pid');
  if (await (await daemonJs()).probeSocket(path)) {
    const pid = readPid(pidfile);
    throw new Failure(`a kernel is already running at ${path}${pid !== undefined ? ` (pid ${pid})` : ''}`);
  }
  const logfile = besideSocket(path, '.log');
  let fd: number;
  try {
    fd = openSync(logfile, 'a', 0o600);
  } catch (err) {
    throw new Failure(`cannot open the log ${logfile}: ${(err as Error).message}`);
  }
  const childArgs = [selfScript(), 'start', '--foreground', '--socket', path];
  if (kernelOptions.profile !== undefined) childArgs.push('--profile', kernelOptions.profile);
  if (kernelOptions.nCpus !== undefined) childArgs.push('--cpus', String(kernelOptions.nCpus));
  const child = spawn(process.execPath, childArgs, { detached: true, stdio: ['ignore', fd, fd], env: io.env, cwd: dirname(path) });
  closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal !== null ? `killed by ${signal}` : `exit status ${code}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  child.unref();

  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    await sleep(25);
    if (exited !== undefined) throw new Failure(`the kernel did not start (${exited})${logTail(logfile)}`);
    if (child.pid !== undefined && readPid(pidfile) === child.pid && (await (await daemonJs()).probeSocket(path))) {
      io.out(`ovs-kernel: kernel running (pid ${child.pid}), socket ${path}`);
      return 0;
    }
  }
  if (child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  throw new Failure(`the kernel did not start listening on ${path} within ${WAIT_MS / 1000} s${logTail(logfile)}`);
}

/**
 * `ovs-kernel start` with an OVS daemon's options, through @ovs/util's
 * Daemon and Vlog as every OVS daemon runs: in the foreground unless
 * --detach (which returns once the kernel listens), --pidfile[=FILE]
 * (fcntl-locked; default RUNDIR/ovs-kernel.pid, where `ovs-kernel stop`
 * looks), --log-file[=FILE], -v specs, --monitor, --no-chdir, and a control
 * socket (--unixctl=PATH, default RUNDIR/ovs-kernel.PID.ctl) answering
 * `ovs-appctl -t ovs-kernel exit`, version, list-commands and vlog/*.
 */
async function runOvsDaemon(path: string, kernelOptions: KernelOptions, options: readonly ParsedOption[], io: CliIo): Promise<number> {
  const program = 'ovs-kernel';
  const vlog = new Vlog({ program, console: 'INFO', modules: [THIS_MODULE], env: io.env });
  const daemon = new Daemon({ program, vlog, env: io.env, respawn: [process.execPath, ...process.execArgv, selfScript(), ...process.argv.slice(2)] });
  let unixctlPath: string | undefined;
  try {
    for (const { option, value } of options) {
      if (daemon.handleOption(option.name, value) || vlog.handleOption(option.name, value)) continue;
      if (option.name === 'unixctl') unixctlPath = value;
    }
    await daemon.start();
    let stop: (why: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => {
      stop = resolve;
    });
    const unixctl = await unixctlServerCreate(unixctlPath, { program, version: `${program} (Open vSwitch) 3.1.0`, env: io.env });
    if (unixctl) {
      vlog.registerUnixctl(unixctl);
      // The kernel stops after the reply has gone out, as OVS's exit commands do.
      unixctl.register('exit', '', 0, 0, () => {
        setImmediate(() => stop('exit requested'));
        return '';
      });
    }
    let kd: Daemon_;
    const { startDaemon, DaemonError } = await daemonJs();
    try {
      kd = await startDaemon({ socketPath: path, kernelOptions, log: (line) => vlog.log('INFO', THIS_MODULE, line.replace(/^ovs-kernel: /, '')) });
    } catch (err) {
      await unixctl?.close();
      throw new OvsError(
        err instanceof DaemonError ? err.message : `cannot listen on ${path}: ${(err as Error).message}`,
        err instanceof DaemonError ? err.code : 'EIO',
      );
    }
    vlog.log('INFO', THIS_MODULE, `kernel ${kd.kernel.profile} with ${kd.kernel.nCpus} CPUs listening on ${path}`);
    daemon.complete();
    const handler = (sig: NodeJS.Signals): void => stop(sig);
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    const why = await stopped;
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
    vlog.log('INFO', THIS_MODULE, `${why}: shutting down`);
    await kd.close();
    await unixctl?.close();
    return 0;
  } catch (err) {
    if (err instanceof OvsError) {
      if (err.message) io.err(`${program}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/** The script that runs this CLI (bin/ovs-kernel.js), for the detached child. */
function selfScript(): string {
  try {
    // dist/cli.cjs in the package (import.meta.url shimmed), src/tools/cli.ts under a test runner.
    const here = import.meta.url;
    return fileURLToPath(new URL(here.includes('/src/tools/') ? '../../bin/ovs-kernel.js' : '../bin/ovs-kernel.js', here));
  } catch {
    return process.argv[1]!; // CommonJS build: no import.meta
  }
}

/** The last lines of the log, indented, to explain a failed start. */
function logTail(logfile: string): string {
  try {
    const lines = readFileSync(logfile, 'utf8').trimEnd().split('\n').slice(-5);
    return lines.length > 0 && lines[0] !== '' ? `; from ${logfile}:\n${lines.map((l) => `  ${l}`).join('\n')}` : '';
  } catch {
    return '';
  }
}

async function runForeground(path: string, kernelOptions: KernelOptions, io: CliIo): Promise<number> {
  const pidfile = besideSocket(path, '.pid');
  const log = (line: string): void => io.err(`${new Date().toISOString()} ${line}`);
  let daemon: Daemon_;
  const { startDaemon, DaemonError } = await daemonJs();
  try {
    daemon = await startDaemon({ socketPath: path, kernelOptions, log });
  } catch (err) {
    if (err instanceof DaemonError) throw new Failure(err.message);
    throw new Failure(`cannot listen on ${path}: ${(err as Error).message}`);
  }
  writeFileSync(pidfile, `${process.pid}\n`, { mode: 0o644 });
  log(`ovs-kernel: kernel ${daemon.kernel.profile} with ${daemon.kernel.nCpus} CPUs listening on ${path} (pid ${process.pid})`);
  const signal = await new Promise<NodeJS.Signals>((done) => {
    const handler = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      done(sig);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
  log(`ovs-kernel: ${signal}: shutting down`);
  await daemon.close();
  if (readPid(pidfile) === process.pid) unlinkQuietly(pidfile);
  log('ovs-kernel: stopped');
  return 0;
}

async function cmdStop(args: string[], socketOpt: string | undefined, io: CliIo): Promise<number> {
  const { values, positionals } = parsing(() =>
    parseArgs({ args, allowPositionals: true, options: { socket: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }),
  );
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`stop: unexpected argument ${JSON.stringify(positionals[0])}`);
  const path = socketPathFor(io.env, values.socket ?? socketOpt);
  const pidfile = besideSocket(path, '.pid');
  const pid = readPid(pidfile);
  const listening = await (await daemonJs()).probeSocket(path).catch(() => false);
  if (pid === undefined) {
    if (listening) throw new Failure(`a kernel is listening at ${path} but ${pidfile} is missing; stop it by hand`);
    throw new Failure(`no kernel running at ${path}`);
  }
  if (!isRunning(pid) || (!listening && !looksLikeOvsKernel(pid))) {
    unlinkQuietly(pidfile);
    if (!listening && existsSync(path) && lstatSync(path).isSocket()) unlinkQuietly(path);
    throw new Failure(`no kernel running at ${path} (removed the stale pidfile of pid ${pid})`);
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH') throw new Failure(`cannot stop pid ${pid}: ${code === 'EPERM' ? 'permission denied' : (err as Error).message}`);
  }
  const deadline = Date.now() + WAIT_MS;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Failure(`pid ${pid} did not exit within ${WAIT_MS / 1000} s of SIGTERM`);
    await sleep(25);
  }
  if (readPid(pidfile) === pid) unlinkQuietly(pidfile);
  return 0;
}

// ---------------------------------------------------------------------------
// fault

const FAULT_OPTIONS = ['probability', 'interval', 'times', 'space', 'verbose', 'nth'] as const;

async function cmdFault(args: string[], socketOpt: string | undefined, io: CliIo): Promise<number> {
  const str = { type: 'string' } as const;
  const { values, positionals } = parsing(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { probability: str, interval: str, times: str, space: str, verbose: str, nth: str, socket: str, help: { type: 'boolean', short: 'h' } },
    }),
  );
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const [op, point, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`fault: unexpected argument ${JSON.stringify(extra[0])}`);
  const path = socketPathFor(io.env, values.socket ?? socketOpt);
  const numbers: Record<string, number> = {};
  for (const o of FAULT_OPTIONS) {
    const v = values[o];
    if (v === undefined) continue;
    if (!/^-?\d+$/.test(v) || Math.abs(Number(v)) > 0x7fffffff) throw new UsageError(`fault: --${o} ${JSON.stringify(v)} is not a number`);
    numbers[o] = Number(v);
  }
  let state: unknown;
  try {
    switch (op) {
      case 'show':
        if (point !== undefined || Object.keys(numbers).length > 0) throw new UsageError('fault show takes no arguments');
        state = await unixFaultRequest(path, { op: 'show' });
        break;
      case 'clear':
        if (Object.keys(numbers).length > 0) throw new UsageError('fault clear takes only a point');
        state = await unixFaultRequest(path, point === undefined ? { op: 'clear' } : { op: 'clear', point });
        break;
      case 'set': {
        if (point === undefined) throw new UsageError('fault set: which point? (failslab, fail_request_module, fail_netlink_create)');
        const { nth, ...attrs } = numbers;
        if (nth !== undefined) {
          if (attrs.space !== undefined) throw new UsageError('fault set: --nth is --space; give one');
          attrs.space = nth;
          attrs.interval ??= 1;
        }
        attrs.probability ??= 100;
        state = await unixFaultRequest(path, { op: 'set', point, attrs });
        break;
      }
      default:
        throw new UsageError(op === undefined ? 'fault: show, set or clear?' : `fault: unknown operation ${JSON.stringify(op)} (show, set, clear)`);
    }
  } catch (err) {
    if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
    throw new Failure(`fault ${op}: ${err.extackMessage ?? strerror(err.errno)}`);
  }
  for (const p of state as FaultPointState[]) {
    io.out(
      `${p.point}: probability ${p.probability} interval ${p.interval} times ${p.times} space ${p.space} verbose ${p.verbose} (failures injected: ${p.injected})`,
    );
  }
  return 0;
}

// ---------------------------------------------------------------------------
// ip: link, addr, netns (iproute2's ip/iplink.c, ipaddress.c, ipnetns.c)

type IpCommand =
  | { op: 'add'; name: string; kind: string; peer?: string; netns?: string; peerNetns?: string }
  | { op: 'del'; name: string }
  | { op: 'set'; name: string; up?: boolean; mtu?: number; address?: Uint8Array; newName?: string; netns?: string }
  | { op: 'show'; name?: string }
  | { op: 'addr-add'; prefix: string; dev: string }
  | { op: 'addr-show'; dev?: string }
  | { op: 'netns-add' | 'netns-del'; name: string }
  | { op: 'netns-list' }
  | { op: 'netns-exec'; name: string; argv: string[] };

/** What iproute2 reports and exits with itself, before asking the kernel (invarg(), missing arguments: exit -1). */
class IpExit extends Error {
  constructor(
    readonly lines: string[],
    readonly status: number,
  ) {
    super(lines.join('\n'));
  }
}

const LINK_OBJECTS = ['link', 'l', 'li', 'lin'];
const ADDR_OBJECTS = ['address', 'addr', 'a', 'ad', 'add', 'addre', 'addres'];
const NETNS_OBJECTS = ['netns', 'n', 'ne', 'net', 'netn'];
const SHOW_VERBS = [undefined, 'show', 'list', 'lst', 'ls', 'sh'];

/** Parse `ip [-n NETNS] link|addr|netns ...` the way iproute2 reads its arguments. */
export function parseIp(args: string[]): { netns?: string; socket?: string; cmd: IpCommand } {
  let netns: string | undefined;
  let socket: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // Everything after `netns exec NAME` is the command's own.
    if (rest.length >= 2 && NETNS_OBJECTS.includes(rest[0]!) && rest[1] === 'exec') {
      rest.push(...args.slice(i));
      break;
    }
    if (rest.length === 0 && (a === '-n' || a === '-netns' || a === '--netns')) {
      netns = args[++i];
      if (netns === undefined) throw new UsageError(`ip: ${a} wants a namespace name`);
    } else if (a === '--socket') {
      socket = args[++i];
      if (socket === undefined) throw new UsageError('--socket wants a path');
    } else if (a.startsWith('--socket=')) {
      socket = a.slice('--socket='.length);
    } else if (rest.length === 0 && a.startsWith('-')) {
      throw new UsageError(`ip: unknown option ${JSON.stringify(a)}`);
    } else {
      rest.push(a);
    }
  }
  const [object, verb, ...words] = rest;
  const base = { ...(netns !== undefined ? { netns } : {}), ...(socket !== undefined ? { socket } : {}) };
  if (object === undefined) throw new UsageError('ip: missing object (link, addr or netns)');
  if (LINK_OBJECTS.includes(object)) return { ...base, cmd: parseIpLink(verb, words) };
  if (ADDR_OBJECTS.includes(object)) return { ...base, cmd: parseIpAddr(verb, words) };
  if (NETNS_OBJECTS.includes(object)) return { ...base, cmd: parseIpNetns(verb, words) };
  throw new UsageError(`ip: object ${JSON.stringify(object)} is unknown (link, addr, netns)`);
}

function parseIpLink(verb: string | undefined, words: string[]): IpCommand {
  const next = (i: number, what: string): string => {
    const w = words[i];
    if (w === undefined) throw new UsageError(`ip link ${verb}: ${what} expected`);
    return w;
  };
  const garbage = (i: number): never => {
    throw new UsageError(`ip link ${verb}: unexpected ${JSON.stringify(words.slice(i).join(' '))}`);
  };
  if (SHOW_VERBS.includes(verb)) {
    let i = 0;
    if (words[i] === 'dev') i++;
    const name = words[i];
    if (words[i + 1] !== undefined) garbage(i + 1);
    return name === undefined ? { op: 'show' } : { op: 'show', name };
  }
  switch (verb) {
    case 'add': {
      let i = 0;
      let name: string | undefined;
      let kind: string | undefined;
      let peer: string | undefined;
      let netns: string | undefined;
      let peerNetns: string | undefined;
      while (i < words.length) {
        const w = words[i]!;
        if (w === 'name' || w === 'dev') {
          name = next(i + 1, 'a device name');
          i += 2;
        } else if (w === 'netns') {
          netns = next(i + 1, 'a namespace');
          i += 2;
        } else if (w === 'type') {
          kind = next(i + 1, 'a device type');
          i += 2;
          if (words[i] === 'peer') {
            if (kind !== 'veth') garbage(i);
            i++;
            // The peer's own arguments: [name] NAME, netns NS.
            while (i < words.length) {
              const p = words[i]!;
              if (p === 'netns') {
                peerNetns = next(i + 1, 'a namespace');
                i += 2;
              } else if (p === 'name') {
                peer = next(i + 1, 'a peer name');
                i += 2;
              } else if (peer === undefined) {
                peer = p;
                i++;
              } else garbage(i);
            }
          }
          if (i < words.length) garbage(i);
        } else if (name === undefined) {
          name = w;
          i++;
        } else {
          garbage(i);
        }
      }
      if (name === undefined) throw new UsageError('ip link add: a device name is required');
      if (kind === undefined) throw new UsageError('ip link add: "type" argument is required');
      return {
        op: 'add',
        name,
        kind,
        ...(peer !== undefined ? { peer } : {}),
        ...(netns !== undefined ? { netns } : {}),
        ...(peerNetns !== undefined ? { peerNetns } : {}),
      };
    }
    case 'del':
    case 'delete': {
      let i = 0;
      if (words[i] === 'dev') i++;
      const name = next(i, 'a device name');
      if (words[i + 1] !== undefined) garbage(i + 1);
      return { op: 'del', name };
    }
    case 'set': {
      let i = 0;
      if (words[i] === 'dev') i++;
      const name = next(i, 'a device name');
      const cmd: Extract<IpCommand, { op: 'set' }> = { op: 'set', name };
      for (i++; i < words.length; i++) {
        const w = words[i]!;
        if (w === 'up' || w === 'down') cmd.up = w === 'up';
        else if (w === 'mtu') {
          const v = next(++i, 'an MTU');
          if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new UsageError(`ip link set: invalid MTU ${JSON.stringify(v)}`);
          cmd.mtu = Number(v);
        } else if (w === 'address') {
          const v = next(++i, 'an address');
          if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i.test(v)) throw new UsageError(`ip link set: "${v}" is invalid lladdr`);
          cmd.address = Uint8Array.from(v.split(':').map((x) => Number.parseInt(x, 16)));
        } else if (w === 'name') {
          cmd.newName = next(++i, 'a new name');
        } else if (w === 'netns') {
          cmd.netns = next(++i, 'a namespace');
        } else garbage(i);
      }
      if (cmd.up === undefined && cmd.mtu === undefined && cmd.address === undefined && cmd.newName === undefined && cmd.netns === undefined) {
        throw new UsageError('ip link set: nothing to change (up, down, mtu N, address MAC, name NEWNAME, netns NS)');
      }
      return cmd;
    }
    default:
      throw new UsageError(`ip link: command ${JSON.stringify(verb)} is unknown (add, del, set, show)`);
  }
}

function parseIpAddr(verb: string | undefined, words: string[]): IpCommand {
  if (SHOW_VERBS.includes(verb)) {
    let i = 0;
    if (words[i] === 'dev') i++;
    const dev = words[i];
    if (words[i + 1] !== undefined) throw new UsageError(`ip addr show: unexpected ${JSON.stringify(words.slice(i + 1).join(' '))}`);
    return dev === undefined ? { op: 'addr-show' } : { op: 'addr-show', dev };
  }
  if (verb !== 'add') throw new UsageError(`ip addr: command ${JSON.stringify(verb)} is unknown (add, show)`);
  let prefix: string | undefined;
  let dev: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'dev') {
      dev = words[++i];
      if (dev === undefined) throw new UsageError('ip addr add: dev wants a device name');
    } else if (w === 'local' || prefix === undefined) {
      prefix = w === 'local' ? words[++i] : w;
    } else {
      throw new UsageError(`ip addr add: unexpected ${JSON.stringify(w)}`);
    }
  }
  if (prefix === undefined) throw new UsageError('ip addr add: an address is required');
  // ipaddr_modify(): "Not enough information: \"dev\" argument is required."
  if (dev === undefined) throw new IpExit(['Not enough information: "dev" argument is required.'], 255);
  return { op: 'addr-add', prefix, dev };
}

function parseIpNetns(verb: string | undefined, words: string[]): IpCommand {
  switch (verb) {
    case undefined:
    case 'list':
    case 'show':
    case 'lst':
    case 'ls':
      return { op: 'netns-list' };
    case 'add':
    case 'del':
    case 'delete': {
      const name = words[0];
      if (name === undefined) throw new IpExit(['No netns name specified'], 255);
      return { op: verb === 'add' ? 'netns-add' : 'netns-del', name };
    }
    case 'exec': {
      const [name, ...argv] = words;
      if (name === undefined) throw new IpExit(['No netns name specified'], 255);
      if (argv.length === 0) throw new IpExit(['No command specified'], 255);
      return { op: 'netns-exec', name, argv };
    }
    default:
      throw new UsageError(`ip netns: command ${JSON.stringify(verb)} is unknown (add, del, list, exec)`);
  }
}

/** `Cannot open network namespace "NS": ...` and exit -1, as netns_switch() fails. */
function cannotOpenNetns(name: string, err: unknown): never {
  const errno = err instanceof NetlinkErrnoError ? err.errno : Errno.EIO;
  throw new IpExit([`Cannot open network namespace "${name}": ${strerror(errno)}`], 255);
}

/** netns_get_fd() or a pid (iplink_parse()'s "netns" argument), else invarg's message and exit -1. */
async function netnsRef(ctl: LazyNetnsControl, arg: string): Promise<NetnsRef> {
  try {
    return { fd: await ctl.open(arg) };
  } catch (err) {
    if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
    if (/^-?\d+$/.test(arg) || /^0x[0-9a-f]+$/i.test(arg)) return { pid: Number(arg) };
    throw new IpExit([`Error: argument "${arg}" is wrong: Invalid "netns" value`, ''], 255);
  }
}

async function cmdIp(args: string[], socketOpt: string | undefined, io: CliIo): Promise<number> {
  if (args.includes('help') || args.includes('--help') || args.includes('-h')) {
    io.out(SYNOPSIS);
    return 0;
  }
  let parsed: ReturnType<typeof parseIp>;
  try {
    parsed = parseIp(args);
  } catch (err) {
    if (!(err instanceof IpExit)) throw err;
    for (const l of err.lines) io.err(l);
    return err.status;
  }
  const { socket, cmd } = parsed;
  const path = socketPathFor(io.env, socket ?? socketOpt);
  // The namespace this process is in (`ip netns exec` put it there), or -n's.
  const netns = parsed.netns ?? (io.env[OVS_KERNEL_NETNS] || undefined);
  // The model's /run/netns, reached only when a command needs it.
  let control: Promise<NetnsControl> | undefined;
  const ctl = new LazyNetnsControl(() => (control ??= NetnsControl.connect(path)));
  let sock: UnixNetlinkSocket | undefined;
  try {
    if (cmd.op === 'netns-add' || cmd.op === 'netns-del' || cmd.op === 'netns-exec') return await ipNetnsChange(ctl, cmd, path, io);
    if (netns !== undefined && netns !== 'init') {
      try {
        await ctl.request({ op: 'close', fd: await ctl.open(netns) });
      } catch (err) {
        if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
        cannotOpenNetns(netns, err);
      }
    }
    try {
      sock = await connectUnixNetlink(path, { protocol: NetlinkProtocol.NETLINK_ROUTE, netns: netns ?? 'init' });
    } catch (err) {
      if (err instanceof UnixNetlinkConnectionError) throw err;
      if (err instanceof NetlinkErrnoError)
        throw new Failure(`cannot open a NETLINK_ROUTE socket: ${strerror(err.errno)}${err.extackMessage ? ` (${err.extackMessage})` : ''}`);
      throw err;
    }
    return await ipRun(ctl, sock, cmd, io);
  } catch (err) {
    if (err instanceof IpExit) {
      for (const l of err.lines) io.err(l);
      return err.status;
    }
    if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
    return ipError(err, cmd, io);
  } finally {
    await sock?.close();
    if (control !== undefined) (await control.catch(() => undefined))?.close();
  }
}

/** A NetnsControl connected on first use. */
class LazyNetnsControl {
  constructor(private readonly get: () => Promise<NetnsControl>) {}
  async request(r: Parameters<NetnsControl['request']>[0]): ReturnType<NetnsControl['request']> {
    return (await this.get()).request(r);
  }
  async list(): Promise<string[]> {
    return (await this.get()).list();
  }
  async open(name: string): Promise<number> {
    return (await this.get()).open(name);
  }
}

async function ipRun(ctl: LazyNetnsControl, sock: UnixNetlinkSocket, cmd: IpCommand, io: CliIo): Promise<number> {
  switch (cmd.op) {
    case 'add': {
      // Any type goes to the kernel as given (ipLinkAdd passes it on); an unknown one is the
      // kernel's "Unknown device type", as with iproute2.
      const opts: Parameters<typeof ipLinkAdd>[3] = {};
      if (cmd.peer !== undefined) opts.peer = cmd.peer;
      if (cmd.netns !== undefined) opts.netns = await netnsRef(ctl, cmd.netns);
      if (cmd.peerNetns !== undefined) opts.peerNetns = await netnsRef(ctl, cmd.peerNetns);
      await ipLinkAdd(sock, cmd.name, cmd.kind as IpLinkKind, opts);
      return 0;
    }
    case 'del':
      await ipLinkDel(sock, cmd.name);
      return 0;
    case 'set':
      await ipLinkSet(sock, cmd.name, {
        ...(cmd.up !== undefined ? { up: cmd.up } : {}),
        ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}),
        ...(cmd.address !== undefined ? { address: cmd.address } : {}),
        ...(cmd.newName !== undefined ? { newName: cmd.newName } : {}),
        ...(cmd.netns !== undefined ? { netns: await netnsRef(ctl, cmd.netns) } : {}),
      });
      return 0;
    case 'show':
      for (const line of await showLinks(ctl, sock, cmd.name)) io.out(line);
      return 0;
    case 'addr-add': {
      let prefix: ReturnType<typeof parsePrefix>;
      try {
        prefix = parsePrefix(cmd.prefix);
      } catch {
        throw new IpExit([`Error: any valid prefix is expected rather than "${cmd.prefix}".`], 1);
      }
      const [link] = await ipLinkShow(sock, cmd.dev);
      await ipAddrAdd(sock, link!.ifindex, prefix);
      return 0;
    }
    case 'addr-show': {
      const byLink = new Map<number, string[]>();
      const links = await ipLinkShow(sock, cmd.dev);
      for (const a of await ipAddrDump(sock)) {
        const list = byLink.get(a.ifindex) ?? [];
        list.push(...formatIpAddr(a));
        byLink.set(a.ifindex, list);
      }
      for (const line of await showLinks(ctl, sock, cmd.dev, byLink, links)) io.out(line);
      return 0;
    }
    case 'netns-list': {
      const names = await ctl.list();
      const ids = await netnsIds(ctl, sock, names, 0x60000000);
      for (const name of names) {
        const id = ids.get(name);
        io.out(id !== undefined && id >= 0 ? `${name} (id: ${id})` : name);
      }
      return 0;
    }
    default:
      throw new Error(`unhandled ip command ${cmd.op}`);
  }
}

/** `ip netns add|del NAME` and `ip netns exec NAME CMD...`. */
async function ipNetnsChange(
  ctl: LazyNetnsControl,
  cmd: Extract<IpCommand, { op: 'netns-add' | 'netns-del' | 'netns-exec' }>,
  path: string,
  io: CliIo,
): Promise<number> {
  if (cmd.op !== 'netns-exec') {
    try {
      await ctl.request({ op: cmd.op === 'netns-add' ? 'add' : 'del', name: cmd.name });
      return 0;
    } catch (err) {
      if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
      if (err.errno === Errno.EPERM && err.extackMessage) throw new Failure(err.extackMessage);
      io.err(`Cannot ${cmd.op === 'netns-add' ? 'create' : 'remove'} namespace file "/run/netns/${cmd.name}": ${strerror(err.errno)}`);
      return 1;
    }
  }
  try {
    await ctl.request({ op: 'close', fd: await ctl.open(cmd.name) });
  } catch (err) {
    if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
    cannotOpenNetns(cmd.name, err);
  }
  // setns() is the environment here: the command's netlink sockets are made in the namespace.
  const env = { ...io.env, [OVS_KERNEL_NETNS]: cmd.name, OVS_KERNEL_SOCKET: path };
  const inherit = io.out === defaultIo.out && io.err === defaultIo.err;
  const [file, ...argv] = cmd.argv;
  return await new Promise<number>((resolve) => {
    const child = spawn(file!, argv, { env, stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    const lines = (stream: NodeJS.ReadableStream | null, put: (l: string) => void): void => {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          put(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream?.on('end', () => {
        if (buf !== '') put(buf);
      });
    };
    lines(child.stdout, io.out);
    lines(child.stderr, io.err);
    child.once('error', (err: NodeJS.ErrnoException) => {
      io.err(`exec of "${file}" failed: ${strerror(errnoNumber(err.code ?? '') ?? Errno.EIO)}`);
      resolve(1);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal !== null ? 128 + (osConstants.signals[signal] ?? 0) : 1)));
  });
}

/**
 * The lines of `ip link show [NAME]` (or of `ip addr show`, with each
 * link's address lines). For one device iproute2 still names its peer (or
 * lower device) and master, and marks M-DOWN when that peer is down, asking
 * the kernel about them by index; here they come from a dump and are
 * formatted alongside, only NAME's entry being kept. A peer in another
 * namespace is named by that namespace's mount name when it has one
 * (link-netns NAME), as netns_map_init() finds them.
 */
async function showLinks(
  ctl: LazyNetnsControl,
  sock: UnixNetlinkSocket,
  name: string | undefined,
  addresses?: ReadonlyMap<number, string[]>,
  shownLinks?: IpLink[],
): Promise<string[]> {
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
  const links = shownLinks ?? (await ipLinkShow(sock, name));
  let netnsNames: Map<number, string> | undefined;
  if (links.some((l) => l.linkNetnsid !== undefined && l.linkNetnsid >= 0)) {
    netnsNames = new Map();
    for (const [n, id] of await netnsIds(ctl, sock, await ctl.list(), 0x50000000)) if (id >= 0) netnsNames.set(id, n);
  }
  const fmt = (ls: IpLink[]): string =>
    formatIpLink(ls, { ...(netnsNames !== undefined ? { netnsNames } : {}), ...(addresses !== undefined ? { addresses } : {}) });
  if (name === undefined) return lines(fmt(links));
  const shown = new Set(links.map((l) => l.ifindex));
  const related = new Set<number>();
  for (const l of links) {
    if (l.link !== undefined && l.link !== 0 && l.linkNetnsid === undefined && !shown.has(l.link)) related.add(l.link);
    if (l.master !== undefined && !shown.has(l.master)) related.add(l.master);
  }
  if (related.size === 0) return lines(fmt(links));
  const others = (await ipLinkShow(sock)).filter((l) => related.has(l.ifindex));
  // Each entry's first line starts at column 0, its others are indented.
  const out: string[] = [];
  let entries = 0;
  for (const line of lines(fmt([...links, ...others]))) {
    if (!line.startsWith(' ') && ++entries > links.length) break;
    out.push(line);
  }
  return out;
}

/**
 * An error the kernel answered, printed as iproute2 prints it: the extended
 * ack's message as "Error: ...", else "RTNETLINK answers: <strerror>", exit 2.
 * A device that does not exist is found out by iproute2 itself before it asks
 * the kernel (ll_name_to_index), with its own words and exit 1.
 */
function ipError(err: NetlinkErrnoError, cmd: IpCommand, io: CliIo): number {
  if (err.errno === Errno.ENODEV && !err.extackMessage) {
    if ((cmd.op === 'show' && cmd.name !== undefined) || (cmd.op === 'addr-show' && cmd.dev !== undefined)) {
      io.err(`Device "${cmd.op === 'show' ? cmd.name : cmd.dev}" does not exist.`);
      return 1;
    }
    if (cmd.op === 'set' || cmd.op === 'del' || cmd.op === 'addr-add') {
      io.err(`Cannot find device "${cmd.op === 'addr-add' ? cmd.dev : cmd.name}"`);
      return 1;
    }
  }
  const msg = err.extackMessage;
  if (msg) io.err(`Error: ${msg}${msg.endsWith('.') ? '' : '.'}`);
  else io.err(`RTNETLINK answers: ${strerror(err.errno)}`);
  return 2;
}

// ---------------------------------------------------------------------------
// replay

async function cmdReplay(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parsing(() =>
    parseArgs({ args, allowPositionals: true, options: { verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } } }),
  );
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'replay: a capture file is required' : 'replay: one capture file at a time');
  const file = positionals[0]!;
  let capture: unknown;
  try {
    let bytes = readFileSync(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    capture = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Failure(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e instanceof SyntaxError ? `invalid JSON: ${e.message}` : e.message}`);
  }
  const { replayCapture } = await import('./replay.js');
  let report: ReturnType<typeof replayCapture>;
  try {
    report = replayCapture(capture, values.verbose ? { verbose: true } : {});
  } catch (err) {
    throw new Failure(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const line of report.lines) io.out(line);
  if (report.normalisations.length > 0) {
    io.out('normalisations:');
    for (const n of report.normalisations) io.out(`  - ${n}`);
  }
  io.out(`${report.passed} passed, ${report.failed} failed`);
  return report.failed > 0 ? 1 : 0;
}
