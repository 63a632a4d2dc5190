/**
 * The ovs-kernel command: argument handling in-process, and start/stop as
 * real processes (node bin/ovs-kernel.js, which runs dist/cli.js: built here
 * first when the dist is missing or older than the sources).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CTRL_CMD,
  Errno,
  GENL_ID_CTRL,
  type GenlMessage,
  NLM_F,
  NetlinkErrnoError,
  type NetlinkSocket,
  NetlinkProtocol,
  ctrlFamily,
  decode,
  encode,
} from '@ovs/genl-codec';
import {
  connectUnixNetlink,
} from '@ovs/genl-codec/unix';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { besideSocket, main, parseIp, socketPathFor } from './cli.js';
import { startDaemon } from './daemon.js';
import { Kernel } from './kernel.js';

// Stand-ins for the ip link helpers of iplink.ts (another engineer's module,
// not there yet when this was written): they record their calls and do what
// a test says, so that the CLI's half (arguments, connection, iproute2-style
// errors and exit codes) is tested on its own.
const ip = vi.hoisted(() => ({
  calls: [] as Array<{ op: string; sock: { protocol: number; portId: number }; args: unknown[] }>,
  behaviour: (_op: string, _args: unknown[]): unknown => undefined,
}));
vi.mock('./index.js', async (importOriginal) => {
  const orig = await importOriginal<Record<string, unknown>>();
  const stub =
    (op: string) =>
    async (sock: NetlinkSocket, ...args: unknown[]): Promise<unknown> => {
      ip.calls.push({ op, sock: { protocol: sock.protocol, portId: sock.portId }, args });
      return ip.behaviour(op, args);
    };
  return {
    ...orig,
    ipLinkAdd: stub('add'),
    ipLinkDel: stub('del'),
    ipLinkSet: stub('set'),
    ipLinkShow: stub('show'),
    formatIpLink: (links: string[]) => links.map((l, i) => `${i + 1}: ${l}`).join('\n'),
  };
});

const PKG = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(PKG, 'bin/ovs-kernel.js');
const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), 'ovs-kernel-cli-'));
/** Every pidfile a test may have caused, to stop leftovers in afterAll. */
const pidfiles: string[] = [];

afterAll(async () => {
  for (const f of pidfiles) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8').trim());
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out, err };
}

/** The CLI as a process, to completion. */
function cli(args: string[], env: NodeJS.ProcessEnv): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, OVS_KERNEL_SOCKET: '', ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Whether a process has exited (a zombie nobody has reaped yet has). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat[stat.lastIndexOf(')') + 2] === 'Z';
}

let n = 0;
function rundir(): string {
  const d = join(tmp, `run${n++}`);
  pidfiles.push(join(d, 'ovs-kernel.pid'));
  return d;
}

function getFamily(seq: number): Uint8Array {
  return encode({
    kind: 'genl',
    protocol: NetlinkProtocol.NETLINK_GENERIC,
    header: { len: 0, type: GENL_ID_CTRL, flags: NLM_F.REQUEST, seq, pid: 0 },
    family: ctrlFamily,
    cmd: CTRL_CMD.GETFAMILY,
    version: 2,
    reserved: 0,
    attrs: { familyName: 'nlctrl' },
  } as GenlMessage);
}

beforeAll(() => {
  const dist = join(PKG, 'dist/cli.js');
  const newest = (dir: string): number => Math.max(...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
  const sources = Math.max(newest(join(PKG, 'src')), newest(join(PKG, '../genl-codec/dist')));
  if (!existsSync(dist) || statSync(dist).mtimeMs < sources) {
    execFileSync('npx', ['tsup', '--silent'], { cwd: PKG, stdio: 'ignore' });
  }
}, 120_000);

describe('ovs-kernel usage', () => {
  it('prints help with --help and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain('ovs-kernel start [--socket PATH]');
    expect((await run(['start', '--help'])).code).toBe(0);
  });

  it.each([
    [[], 'missing command'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['--bogus'], 'unknown option "--bogus"'],
    [['start', '--bogus'], "Unknown option '--bogus'"],
    [['start', '--profile', 'linux-2.4'], 'unknown profile "linux-2.4"'],
    [['start', '--cpus', '0'], '--cpus wants a number'],
    [['start', '--cpus', 'two'], '--cpus wants a number'],
    [['start', 'now'], 'unexpected argument "now"'],
    [['stop', 'now'], 'unexpected argument "now"'],
    [['ip', 'route'], 'object "route" is unknown'],
    [['ip', 'link', 'frob'], 'command "frob" is unknown'],
    [['ip', 'link', 'add', 'x'], '"type" argument is required'],
    [['ip', 'link', 'add', 'x', 'type', 'dummy', 'peer', 'name', 'y'], 'unexpected "peer name y"'],
    [['ip', 'link', 'set', 'x'], 'nothing to change'],
    [['ip', 'link', 'set', 'x', 'mtu', 'big'], 'invalid MTU "big"'],
    [['ip', 'link', 'del'], 'a device name expected'],
    [['replay'], 'a capture file is required'],
  ])('%j is a usage error (exit 2): %s', async (args, message) => {
    const r = await run(args as string[], { OVS_RUNDIR: join(tmp, 'unused') });
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain(message);
    expect(r.err[0]).toMatch(/^ovs-kernel: /);
    expect(r.err.join('\n')).toContain('usage: ovs-kernel start');
    expect(r.out).toEqual([]);
  });

  it('reads ip link arguments the way iproute2 does', () => {
    expect(parseIp(['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'])).toEqual({ cmd: { op: 'add', name: 'veth0', kind: 'veth', peer: 'veth1' } });
    expect(parseIp(['link', 'add', 'name', 'v0', 'type', 'veth', 'peer', 'v1']).cmd).toEqual({ op: 'add', name: 'v0', kind: 'veth', peer: 'v1' });
    expect(parseIp(['-n', 'blue', 'link', 'add', 'd0', 'type', 'dummy'])).toEqual({ netns: 'blue', cmd: { op: 'add', name: 'd0', kind: 'dummy' } });
    expect(parseIp(['link', 'delete', 'dev', 'd0']).cmd).toEqual({ op: 'del', name: 'd0' });
    expect(parseIp(['link', 'set', 'dev', 'd0', 'up', 'mtu', '9000']).cmd).toEqual({ op: 'set', name: 'd0', up: true, mtu: 9000 });
    expect(parseIp(['link', 'set', 'd0', 'down']).cmd).toEqual({ op: 'set', name: 'd0', up: false });
    expect(parseIp(['link']).cmd).toEqual({ op: 'show' });
    expect(parseIp(['link', 'show', 'dev', 'd0']).cmd).toEqual({ op: 'show', name: 'd0' });
    expect(parseIp(['link', 'ls', '--socket', '/x.sock'])).toEqual({ socket: '/x.sock', cmd: { op: 'show' } });
  });

  it('finds the socket in $OVS_KERNEL_SOCKET, else $OVS_RUNDIR, else /tmp/ovs-ts-$UID', () => {
    expect(socketPathFor({ OVS_KERNEL_SOCKET: '/a/k.sock', OVS_RUNDIR: '/b' })).toBe('/a/k.sock');
    expect(socketPathFor({ OVS_RUNDIR: '/b' })).toBe('/b/ovs-kernel.sock');
    expect(socketPathFor({ OVS_RUNDIR: '/b' }, '/c/x.sock')).toBe('/c/x.sock');
    expect(socketPathFor({})).toBe(`/tmp/ovs-ts-${process.getuid!()}/ovs-kernel.sock`);
    expect(besideSocket('/b/ovs-kernel.sock', '.pid')).toBe('/b/ovs-kernel.pid');
    expect(besideSocket('/b/other.sock', '.log')).toBe('/b/other.log');
  });

  it('says there is no kernel running, without a stack trace', async () => {
    const dir = rundir();
    const stop = await run(['stop'], { OVS_RUNDIR: dir });
    expect(stop.code).toBe(1);
    expect(stop.err).toEqual([`ovs-kernel: no kernel running at ${join(dir, 'ovs-kernel.sock')}`]);
    const ip = await run(['ip', 'link', 'show'], { OVS_RUNDIR: dir });
    expect(ip.code).toBe(1);
    expect(ip.err).toEqual([`ovs-kernel: cannot connect to ${join(dir, 'ovs-kernel.sock')}: no kernel running (start one with: ovs-kernel start)`]);
  });
});

describe('ovs-kernel start / stop', () => {
  it('daemonises, serves netlink on the socket, refuses a second start, and stops', async () => {
    const dir = rundir();
    const env = { OVS_RUNDIR: dir };
    const sock = join(dir, 'ovs-kernel.sock');
    const start = cli(['start'], env);
    expect(start.err).toBe('');
    expect(start.code).toBe(0);
    expect(start.out.trim().split('\n')).toHaveLength(1);
    const pid = Number(readFileSync(join(dir, 'ovs-kernel.pid'), 'utf8'));
    expect(start.out).toContain(`pid ${pid}`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    // It is a kernel: nlctrl answers.
    const s = await connectUnixNetlink(sock, { protocol: NetlinkProtocol.NETLINK_GENERIC });
    await s.send(getFamily(1));
    const r = decode(await s.recv());
    expect(r.messages[0]).toMatchObject({ kind: 'genl', attrs: { familyName: 'nlctrl' } });
    await s.close();

    const again = cli(['start'], env);
    expect(again.code).toBe(1);
    expect(again.err.trim()).toBe(`ovs-kernel: a kernel is already running at ${sock} (pid ${pid})`);

    const stop = cli(['stop'], env);
    expect(stop.err).toBe('');
    expect(stop.code).toBe(0);
    expect(gone(pid)).toBe(true);
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(join(dir, 'ovs-kernel.pid'))).toBe(false);
    expect(readFileSync(join(dir, 'ovs-kernel.log'), 'utf8')).toMatch(/SIGTERM: shutting down/);

    const stopAgain = cli(['stop'], env);
    expect(stopAgain.code).toBe(1);
    expect(stopAgain.err.trim()).toBe(`ovs-kernel: no kernel running at ${sock}`);
  }, 60_000);

  it('takes --socket, --profile and --cpus', async () => {
    const dir = rundir();
    const sock = join(dir, 'k.sock');
    pidfiles.push(join(dir, 'k.pid'));
    const start = cli(['start', '--socket', sock, '--profile', 'ovs-2.5', '--cpus', '4'], {});
    expect(start.code).toBe(0);
    expect(readFileSync(join(dir, 'k.log'), 'utf8')).toContain(`kernel ovs-2.5 with 4 CPUs listening on ${sock}`);
    expect(cli(['stop', '--socket', sock], {}).code).toBe(0);
    expect(existsSync(join(dir, 'k.pid'))).toBe(false);
  }, 60_000);

  it('runs in the foreground until SIGTERM, then cleans up', async () => {
    const dir = rundir();
    const sock = join(dir, 'ovs-kernel.sock');
    const child = spawn(process.execPath, [BIN, 'start', '--foreground'], { env: { ...process.env, OVS_KERNEL_SOCKET: '', OVS_RUNDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await expect.poll(() => existsSync(join(dir, 'ovs-kernel.pid')), { timeout: 10_000 }).toBe(true);
    expect(Number(readFileSync(join(dir, 'ovs-kernel.pid'), 'utf8'))).toBe(child.pid);
    const s = await connectUnixNetlink(sock, { protocol: NetlinkProtocol.NETLINK_GENERIC });
    const pending = s.recv().then(
      () => 'datagram',
      (e: Error) => e.message,
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await pending).toContain('shutting down');
    await s.close();
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(join(dir, 'ovs-kernel.pid'))).toBe(false);
    expect(stderr).toContain('listening on');
    expect(stderr).toContain('stopped');
  }, 60_000);

  it('removes a stale pidfile and says nothing was running', async () => {
    const dir = rundir();
    const env = { OVS_RUNDIR: dir };
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    expect(cli(['start'], env).code).toBe(0);
    expect(cli(['stop'], env).code).toBe(0);
    writeFileSync(join(dir, 'ovs-kernel.pid'), `${dead.stdout}\n`);
    const r = await run(['stop'], env);
    expect(r.code).toBe(1);
    expect(r.err[0]).toContain(`removed the stale pidfile of pid ${dead.stdout}`);
    expect(existsSync(join(dir, 'ovs-kernel.pid'))).toBe(false);
  }, 60_000);
});

describe('ovs-kernel ip link (helpers stubbed)', () => {
  const dir = rundir();
  const sock = join(dir, 'ip.sock');
  const env = { OVS_KERNEL_SOCKET: sock };
  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const kernel = new Kernel();
    // Until the model has rtnetlink, any handler lets a NETLINK_ROUTE socket open.
    kernel.setProtocolHandler(NetlinkProtocol.NETLINK_ROUTE, () => -Errno.EOPNOTSUPP);
    const d = await startDaemon({ socketPath: sock, kernel, kernelOptions: {}, log: () => {} });
    close = () => d.close();
  });
  afterAll(() => close());

  const fail = (errno: number, extack?: string) => () => {
    throw new NetlinkErrnoError(errno, extack);
  };

  it('passes what was asked to the helpers, over a NETLINK_ROUTE socket in the namespace asked', async () => {
    ip.calls.length = 0;
    ip.behaviour = () => undefined;
    expect((await run(['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], env)).code).toBe(0);
    expect((await run(['ip', '-n', 'blue', 'link', 'set', 'v0', 'up', 'mtu', '9000'], env)).code).toBe(0);
    expect((await run(['ip', 'link', 'del', 'v0'], env)).code).toBe(0);
    expect(ip.calls.map((c) => [c.op, ...c.args])).toEqual([
      ['add', 'v0', 'veth', { peer: 'v1' }],
      ['set', 'v0', { up: true, mtu: 9000 }],
      ['del', 'v0'],
    ]);
    expect(ip.calls.every((c) => c.sock.protocol === NetlinkProtocol.NETLINK_ROUTE && c.sock.portId > 0)).toBe(true);
  });

  it('prints what formatIpLink makes of the links', async () => {
    ip.behaviour = (op, args) => (op === 'show' ? (args[0] === undefined ? ['lo', 'v0'] : [String(args[0])]) : undefined);
    expect(await run(['ip', 'link', 'show'], env)).toEqual({ code: 0, out: ['1: lo', '2: v0'], err: [] });
    expect(await run(['ip', 'link', 'show', 'dev', 'v0'], env)).toEqual({ code: 0, out: ['1: v0'], err: [] });
  });

  it('prints kernel errors as iproute2 does, exit 2', async () => {
    ip.behaviour = fail(Errno.EEXIST);
    expect(await run(['ip', 'link', 'add', 'd0', 'type', 'dummy'], env)).toEqual({ code: 2, out: [], err: ['RTNETLINK answers: File exists'] });
    ip.behaviour = fail(Errno.EOPNOTSUPP, 'Unknown device type');
    expect(await run(['ip', 'link', 'add', 'd0', 'type', 'bogus'], env)).toEqual({ code: 2, out: [], err: ['Error: Unknown device type.'] });
    ip.behaviour = fail(Errno.EINVAL, 'MTU too big.');
    expect((await run(['ip', 'link', 'set', 'd0', 'mtu', '70000'], env)).err).toEqual(['Error: MTU too big.']);
  });

  it('says a device does not exist in iproute2 words, exit 1', async () => {
    ip.behaviour = fail(Errno.ENODEV);
    expect(await run(['ip', 'link', 'del', 'nope'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nope"'] });
    expect(await run(['ip', 'link', 'set', 'nope', 'up'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nope"'] });
    expect(await run(['ip', 'link', 'show', 'nope'], env)).toEqual({ code: 1, out: [], err: ['Device "nope" does not exist.'] });
  });
});

describe('ovs-kernel replay', () => {
  const file = join(GOLDEN, 'raw-genl.json');

  it.skipIf(!existsSync(file))('prints the report, the normalisations, then "N passed, N failed" last', async () => {
    const r = await run(['replay', file]);
    const last = r.out.at(-1)!;
    expect(last).toMatch(/^\d+ passed, \d+ failed$/);
    const failed = Number(/(\d+) failed/.exec(last)![1]);
    expect(r.code).toBe(failed > 0 ? 1 : 0);
    expect(r.out).toContain('normalisations:');
    expect(r.out.some((l) => l.startsWith('ok '))).toBe(true);
    expect(r.err).toEqual([]);
  });

  it('explains an unreadable, invalid or wrong file (exit 1)', async () => {
    const missing = await run(['replay', join(tmp, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([`ovs-kernel: cannot read ${join(tmp, 'nope.json')}: no such file`]);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{ not json');
    const invalid = await run(['replay', bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.err[0]).toContain('invalid JSON');
    const wrong = join(tmp, 'wrong.json');
    writeFileSync(wrong, '{"hello": 1}');
    const notCapture = await run(['replay', wrong]);
    expect(notCapture.code).toBe(1);
    expect(notCapture.err[0]).toMatch(/^ovs-kernel: .*wrong\.json: /);
  });
});
