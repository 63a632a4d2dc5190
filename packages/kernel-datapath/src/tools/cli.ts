/**
 * ovs-kernel: run the kernel model as a daemon on a unix socket, and talk to
 * it the way iproute2 talks to Linux.
 *
 *   ovs-kernel start [--socket PATH] [--profile linux-6.1|ovs-2.5] [--cpus N] [--foreground]
 *   ovs-kernel stop [--socket PATH]
 *   ovs-kernel ip [-n NETNS] link add|del|set|show ...
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
import { gunzipSync } from 'node:zlib';
import { Errno, NetlinkErrnoError, NetlinkProtocol, strerror } from '@ovs/genl-codec';
import { UnixNetlinkConnectionError, type UnixNetlinkSocket, connectUnixNetlink, kernelSocketPath, unixFaultRequest } from '@ovs/genl-codec/unix';
import { type Daemon, DaemonError, probeSocket, startDaemon } from './daemon.js';
import type { FaultPointState } from '../lib/fault-inject.js';
import { type IpLinkKind, formatIpLink, ipLinkAdd, ipLinkDel, ipLinkSet, ipLinkShow } from './iplink.js';
import type { KernelOptions, KernelProfile } from '../kernel.js';
import { replayCapture } from './replay.js';

const SYNOPSIS = `usage: ovs-kernel start [--socket PATH] [--profile linux-6.1|ovs-2.5] [--cpus N] [--foreground]
       ovs-kernel stop [--socket PATH]
       ovs-kernel ip [-n NETNS] link add NAME type dummy|veth [peer name NAME]
       ovs-kernel ip [-n NETNS] link del NAME
       ovs-kernel ip [-n NETNS] link set NAME [up|down] [mtu N] [address MAC] [name NEWNAME]
       ovs-kernel ip [-n NETNS] link show [NAME]
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
        --profile picks the module (Linux 6.1's, the default, or OVS 2.5's
        out-of-tree one); --cpus the number of CPUs it reports (default 2).
stop    stops the kernel started on that socket (SIGTERM, then waits).
ip      creates, deletes, changes and lists network devices in the running
        kernel, like iproute2's ip link; -n NETNS works in that namespace.
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
        return cmdReplay(rest, io);
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

async function cmdStart(args: string[], socketOpt: string | undefined, io: CliIo): Promise<number> {
  const { values, positionals } = parsing(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        socket: { type: 'string' },
        profile: { type: 'string' },
        cpus: { type: 'string' },
        foreground: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`start: unexpected argument ${JSON.stringify(positionals[0])}`);
  const kernelOptions: KernelOptions = {};
  if (values.profile !== undefined) {
    if (!(PROFILES as readonly string[]).includes(values.profile))
      throw new UsageError(`start: unknown profile ${JSON.stringify(values.profile)} (${PROFILES.join(' or ')})`);
    kernelOptions.profile = values.profile as KernelProfile;
  }
  if (values.cpus !== undefined) {
    const n = Number(values.cpus);
    if (!/^\d+$/.test(values.cpus) || n < 1 || n > 4096)
      throw new UsageError(`start: --cpus wants a number from 1 to 4096, not ${JSON.stringify(values.cpus)}`);
    kernelOptions.nCpus = n;
  }
  const path = socketPathFor(io.env, values.socket ?? socketOpt);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new Failure(`socket path too long for a unix socket (${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH}): ${path}`);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Failure(`cannot create ${dirname(path)}: ${(err as Error).message}`);
  }
  if (values.foreground) return runForeground(path, kernelOptions, io);

  const pidfile = besideSocket(path, '.pid');
  if (await probeSocket(path)) {
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
    if (child.pid !== undefined && readPid(pidfile) === child.pid && (await probeSocket(path))) {
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

/** The script that runs this CLI (bin/ovs-kernel.js), for the detached child. */
function selfScript(): string {
  try {
    // dist/cli.js in the package, src/tools/cli.ts under a test runner.
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
  let daemon: Daemon;
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
  const listening = await probeSocket(path).catch(() => false);
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
// ip link

type IpLinkCommand =
  | { op: 'add'; name: string; kind: string; peer?: string }
  | { op: 'del'; name: string }
  | { op: 'set'; name: string; up?: boolean; mtu?: number; address?: Uint8Array; newName?: string }
  | { op: 'show'; name?: string };

/** Parse `ip [-n NETNS] link ...` the way iproute2 reads its arguments. */
export function parseIp(args: string[]): { netns?: string; socket?: string; cmd: IpLinkCommand } {
  let netns: string | undefined;
  let socket: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
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
  if (object === undefined) throw new UsageError('ip: missing object (only "link" is supported)');
  if (object !== 'link' && object !== 'l') throw new UsageError(`ip: object ${JSON.stringify(object)} is unknown (only "link" is supported)`);
  const next = (i: number, what: string): string => {
    const w = words[i];
    if (w === undefined) throw new UsageError(`ip link ${verb}: ${what} expected`);
    return w;
  };
  const garbage = (i: number): never => {
    throw new UsageError(`ip link ${verb}: unexpected ${JSON.stringify(words.slice(i).join(' '))}`);
  };
  switch (verb) {
    case undefined:
    case 'show':
    case 'list':
    case 'lst':
    case 'ls':
    case 'sh': {
      let i = 0;
      if (words[i] === 'dev') i++;
      const name = words[i];
      if (words[i + 1] !== undefined) garbage(i + 1);
      return { netns, socket, cmd: name === undefined ? { op: 'show' } : { op: 'show', name } };
    }
    case 'add': {
      let i = 0;
      let name: string | undefined;
      let kind: string | undefined;
      let peer: string | undefined;
      while (i < words.length) {
        const w = words[i]!;
        if (w === 'name' || w === 'dev') {
          name = next(i + 1, 'a device name');
          i += 2;
        } else if (w === 'type') {
          kind = next(i + 1, 'a device type');
          i += 2;
          if (words[i] === 'peer') {
            if (kind !== 'veth') garbage(i);
            i++;
            if (words[i] === 'name') i++;
            peer = next(i, 'a peer name');
            i++;
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
      return { netns, socket, cmd: { op: 'add', name, kind, ...(peer !== undefined ? { peer } : {}) } };
    }
    case 'del':
    case 'delete': {
      let i = 0;
      if (words[i] === 'dev') i++;
      const name = next(i, 'a device name');
      if (words[i + 1] !== undefined) garbage(i + 1);
      return { netns, socket, cmd: { op: 'del', name } };
    }
    case 'set': {
      let i = 0;
      if (words[i] === 'dev') i++;
      const name = next(i, 'a device name');
      const cmd: IpLinkCommand = { op: 'set', name };
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
        } else garbage(i);
      }
      if (cmd.up === undefined && cmd.mtu === undefined && cmd.address === undefined && cmd.newName === undefined) {
        throw new UsageError('ip link set: nothing to change (up, down, mtu N, address MAC, name NEWNAME)');
      }
      return { netns, socket, cmd };
    }
    default:
      throw new UsageError(`ip link: command ${JSON.stringify(verb)} is unknown (add, del, set, show)`);
  }
}

async function cmdIp(args: string[], socketOpt: string | undefined, io: CliIo): Promise<number> {
  if (args.includes('help') || args.includes('--help') || args.includes('-h')) {
    io.out(SYNOPSIS);
    return 0;
  }
  const { netns, socket, cmd } = parseIp(args);
  const path = socketPathFor(io.env, socket ?? socketOpt);
  let sock: UnixNetlinkSocket;
  try {
    sock = await connectUnixNetlink(path, { protocol: NetlinkProtocol.NETLINK_ROUTE, ...(netns !== undefined ? { netns } : {}) });
  } catch (err) {
    if (err instanceof UnixNetlinkConnectionError) throw err;
    if (err instanceof NetlinkErrnoError)
      throw new Failure(`cannot open a NETLINK_ROUTE socket: ${strerror(err.errno)}${err.extackMessage ? ` (${err.extackMessage})` : ''}`);
    throw err;
  }
  try {
    switch (cmd.op) {
      case 'add':
        // Any type goes to the kernel as given (ipLinkAdd passes it on); an unknown one is the
        // kernel's "Unknown device type", as with iproute2.
        await ipLinkAdd(sock, cmd.name, cmd.kind as IpLinkKind, cmd.peer !== undefined ? { peer: cmd.peer } : {});
        break;
      case 'del':
        await ipLinkDel(sock, cmd.name);
        break;
      case 'set':
        await ipLinkSet(sock, cmd.name, {
          ...(cmd.up !== undefined ? { up: cmd.up } : {}),
          ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}),
          ...(cmd.address !== undefined ? { address: cmd.address } : {}),
          ...(cmd.newName !== undefined ? { newName: cmd.newName } : {}),
        });
        break;
      case 'show':
        for (const line of await showLinks(sock, cmd.name)) io.out(line);
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof UnixNetlinkConnectionError || !(err instanceof NetlinkErrnoError)) throw err;
    return ipError(err, cmd, io);
  } finally {
    await sock.close();
  }
}

/**
 * The lines of `ip link show [NAME]`. For one device iproute2 still names its
 * peer (or lower device) and master, and marks M-DOWN when that peer is down,
 * asking the kernel about them by index; here they come from a dump and are
 * formatted alongside, only NAME's entry being kept.
 */
async function showLinks(sock: UnixNetlinkSocket, name: string | undefined): Promise<string[]> {
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
  const links = await ipLinkShow(sock, name);
  if (name === undefined) return lines(formatIpLink(links));
  const shown = new Set(links.map((l) => l.ifindex));
  const related = new Set<number>();
  for (const l of links) {
    if (l.link !== undefined && l.link !== 0 && l.linkNetnsid === undefined && !shown.has(l.link)) related.add(l.link);
    if (l.master !== undefined && !shown.has(l.master)) related.add(l.master);
  }
  if (related.size === 0) return lines(formatIpLink(links));
  const others = (await ipLinkShow(sock)).filter((l) => related.has(l.ifindex));
  // Each entry's first line starts at column 0, its others are indented.
  const out: string[] = [];
  let entries = 0;
  for (const line of lines(formatIpLink([...links, ...others]))) {
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
function ipError(err: NetlinkErrnoError, cmd: IpLinkCommand, io: CliIo): number {
  if (err.errno === Errno.ENODEV && !err.extackMessage) {
    if (cmd.op === 'show' && cmd.name !== undefined) {
      io.err(`Device "${cmd.name}" does not exist.`);
      return 1;
    }
    if (cmd.op === 'set' || cmd.op === 'del') {
      io.err(`Cannot find device "${cmd.name}"`);
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

function cmdReplay(args: string[], io: CliIo): number {
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
