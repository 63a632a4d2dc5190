/**
 * The ovs-kernel command: argument handling and ip link in-process (ip
 * against a daemon started here), start/stop and replay as real processes
 * (node bin/ovs-kernel.js, which runs dist/cli.cjs: built here first when the
 * dist is missing or older than the sources).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CTRL_CMD, GENL_ID_CTRL, type GenlMessage, NLM_F, NetlinkProtocol, ctrlFamily, decode, encode } from '@ovs/genl-codec';
import { connectUnixNetlink } from '@ovs/genl-codec/unix';
import { unixctlTargetSocket, unixctlTransact } from '@ovs/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { besideSocket, main, parseIp, socketPathFor } from './cli.js';
import { type Daemon, startDaemon } from './daemon.js';

const PKG = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(PKG, 'bin/ovs-kernel.js');
const GOLDEN = fileURLToPath(new URL('../../../../../shared/golden/', import.meta.url));

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
  const dist = join(PKG, 'dist/cli.cjs');
  const newest = (dir: string): number => Math.max(...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => statSync(join(dir, f)).mtimeMs));
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
    [['start', '--bogus'], "start: unrecognized option '--bogus'"],
    [['start', '--pidfile=x', '--user'], "start: option '--user' requires an argument"],
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
    expect(parseIp(['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'])).toEqual({
      cmd: { op: 'add', name: 'veth0', kind: 'veth', peer: 'veth1' },
    });
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

    // ip, through the built command, reaches the same kernel.
    expect(cli(['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], env)).toEqual({ code: 0, out: '', err: '' });
    const show = cli(['ip', 'link', 'show', 'v1'], env);
    expect(show.err).toBe('');
    expect(show.code).toBe(0);
    expect(show.out).toMatch(
      /^2: v1@v0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n {4}link\/ether [0-9a-f:]{17} brd ff:ff:ff:ff:ff:ff\n$/,
    );

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
    const child = spawn(process.execPath, [BIN, 'start', '--foreground'], {
      env: { ...process.env, OVS_KERNEL_SOCKET: '', OVS_RUNDIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

describe("ovs-kernel start with an OVS daemon's options", () => {
  it('--detach returns once the kernel listens; --pidfile, --log-file, -v, the control socket; exit through it', async () => {
    const dir = rundir();
    const env = { OVS_RUNDIR: dir };
    const start = cli(['start', '--detach', '--pidfile', '--log-file', '-vconsole:off', '-vfile:info', '--no-chdir'], env);
    // As the real ovsdb-server 3.1 with these options: the one console line before -vconsole:off applies.
    expect(start.code).toBe(0);
    expect(start.out).toBe('');
    expect(start.err).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|00001\|vlog\|INFO\|opened log file .*\/ovs-kernel\.log\n$/);
    const pidfile = join(dir, 'ovs-kernel.pid');
    pidfiles.push(pidfile);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    // Ready when start returned: the socket answers at once.
    const s = await connectUnixNetlink(join(dir, 'ovs-kernel.sock'), { protocol: NetlinkProtocol.NETLINK_GENERIC });
    await s.send(getFamily(1));
    expect(decode(await s.recv()).messages[0]).toMatchObject({ kind: 'genl', attrs: { familyName: 'nlctrl' } });
    await s.close();
    expect(readFileSync(join(dir, 'ovs-kernel.log'), 'utf8')).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d+\|ovs_kernel\|INFO\|kernel linux-6\.1 with 2 CPUs listening on .*ovs-kernel\.sock$/m,
    );
    // What ovs-appctl -t ovs-kernel does: the pid file names the control socket.
    const ctl = unixctlTargetSocket('ovs-kernel', { ...process.env, OVS_RUNDIR: dir });
    expect(ctl).toBe(join(dir, `ovs-kernel.${pid}.ctl`));
    expect(await unixctlTransact(ctl, 'version', [])).toBe('ovs-kernel (Open vSwitch) 3.1.0\n');
    expect(await unixctlTransact(ctl, 'exit', [])).toBe('');
    const deadline = Date.now() + 10_000;
    while (!gone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(gone(pid)).toBe(true);
    expect(existsSync(pidfile)).toBe(false);
    expect(existsSync(join(dir, 'ovs-kernel.sock'))).toBe(false);
    expect(readFileSync(join(dir, 'ovs-kernel.log'), 'utf8')).toMatch(/\|ovs_kernel\|INFO\|exit requested: shutting down$/m);
  }, 60_000);

  it('a second --detach on the same pid file fails as OVS does, the first one still running', async () => {
    const dir = rundir();
    const env = { OVS_RUNDIR: dir };
    expect(cli(['start', '--detach', '--pidfile'], env).code).toBe(0);
    const pidfile = join(dir, 'ovs-kernel.pid');
    pidfiles.push(pidfile);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    const again = cli(['start', '--detach', '--pidfile', '--socket', join(dir, 'other.sock')], env);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`already running as pid ${pid}`);
    expect(gone(pid)).toBe(false);
    expect(cli(['stop'], env)).toEqual({ code: 0, out: '', err: '' });
  }, 60_000);
});

/** A daemon serving an in-process kernel at SOCKET in the run directory for the enclosing describe; `env` points the CLI at it. */
function inProcessDaemon(socket: string): { env: NodeJS.ProcessEnv; daemon: () => Daemon } {
  const dir = rundir();
  const sock = join(dir, socket);
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    daemon = await startDaemon({ socketPath: sock, log: () => {} });
  });
  afterAll(async () => {
    await daemon?.close();
  });
  return { env: { OVS_KERNEL_SOCKET: sock }, daemon: () => daemon! };
}

describe('ovs-kernel ip link, against an in-process kernel', () => {
  // Every expected line and status below is what iproute2 6.1 prints for the
  // same commands against Linux (checked in a fresh network namespace), except
  // lo, which is up here as in a booted host's namespace. Addresses are random.
  const { env } = inProcessDaemon('ip.sock');

  const LO = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
  ];
  const ETHER = /^ {4}link\/ether ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}) brd ff:ff:ff:ff:ff:ff$/;
  /** The address of a `link/ether` line. */
  const mac = (line: string | undefined): string => {
    expect(line).toMatch(ETHER);
    return ETHER.exec(line!)![1]!;
  };
  const macs: Record<string, string> = {};

  it('adds a veth pair and lists it: index, name@peer, flags, mtu, link/ether', async () => {
    expect(await run(['ip', 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'], env)).toEqual({ code: 0, out: [], err: [] });
    const show = await run(['ip', 'link', 'show'], env);
    expect(show.code).toBe(0);
    expect(show.err).toEqual([]);
    expect(show.out).toHaveLength(6);
    expect(show.out.slice(0, 2)).toEqual(LO);
    // veth_newlink() registers the peer first: it takes the lower index.
    expect(show.out[2]).toBe('2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000');
    macs.veth1 = mac(show.out[3]);
    expect(show.out[4]).toBe('3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000');
    macs.veth0 = mac(show.out[5]);
    expect(macs.veth0).not.toBe(macs.veth1);
    // eth_hw_addr_random(): unicast, locally administered.
    for (const m of Object.values(macs)) expect(Number.parseInt(m.slice(0, 2), 16) & 0x03).toBe(0x02);
  });

  it('sets a device up: no carrier while its peer is down', async () => {
    expect(await run(['ip', 'link', 'set', 'veth0', 'up'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(await run(['ip', 'link', 'show'], env)).toEqual({
      code: 0,
      out: [
        ...LO,
        '2: veth1@veth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
        `    link/ether ${macs.veth1} brd ff:ff:ff:ff:ff:ff`,
        '3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000',
        `    link/ether ${macs.veth0} brd ff:ff:ff:ff:ff:ff`,
      ],
      err: [],
    });
  });

  it('shows one device by name, its peer named and its M-DOWN as in a full listing', async () => {
    expect(await run(['ip', 'link', 'show', 'veth0'], env)).toEqual({
      code: 0,
      out: [
        '3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000',
        `    link/ether ${macs.veth0} brd ff:ff:ff:ff:ff:ff`,
      ],
      err: [],
    });
    expect(await run(['ip', 'link', 'show', 'dev', 'veth1'], env)).toEqual({
      code: 0,
      out: [
        '2: veth1@veth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
        `    link/ether ${macs.veth1} brd ff:ff:ff:ff:ff:ff`,
      ],
      err: [],
    });
  });

  it('refuses a name that exists: "RTNETLINK answers: File exists", exit 2', async () => {
    const exists = { code: 2, out: [], err: ['RTNETLINK answers: File exists'] };
    expect(await run(['ip', 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'], env)).toEqual(exists);
    expect(await run(['ip', 'link', 'add', 'veth1', 'type', 'dummy'], env)).toEqual(exists);
    expect(await run(['ip', 'link', 'add', 'x0', 'type', 'bogus'], env)).toEqual({ code: 2, out: [], err: ['Error: Unknown device type.'] });
  });

  it('deletes a veth and its peer with it', async () => {
    expect(await run(['ip', 'link', 'del', 'veth0'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(await run(['ip', 'link', 'show'], env)).toEqual({ code: 0, out: LO, err: [] });
    expect(await run(['ip', 'link', 'show', 'veth1'], env)).toEqual({ code: 1, out: [], err: ['Device "veth1" does not exist.'] });
  });

  it('says a device does not exist in iproute2 words, exit 1', async () => {
    expect(await run(['ip', 'link', 'show', 'nosuch'], env)).toEqual({ code: 1, out: [], err: ['Device "nosuch" does not exist.'] });
    expect(await run(['ip', 'link', 'del', 'nosuch'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nosuch"'] });
    expect(await run(['ip', 'link', 'set', 'nosuch', 'up'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nosuch"'] });
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

  it('replays the ovs-vswitchd capture without a difference (the built command)', () => {
    const r = cli(['replay', join(GOLDEN, 'vswitchd-ports.json')], {});
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const last = r.out.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^\d+ passed, 0 failed$/);
    expect(Number(/^(\d+) passed/.exec(last)![1])).toBeGreaterThan(600);
  }, 60_000);

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

describe('ovs-kernel fault, against an in-process kernel', () => {
  const { env } = inProcessDaemon('fault.sock');

  it('show lists every point, off (as DECLARE_FAULT_ATTR leaves them)', async () => {
    expect(await run(['fault', 'show'], env)).toEqual({
      code: 0,
      err: [],
      out: [
        'failslab: probability 0 interval 1 times 1 space 0 verbose 2 (failures injected: 0)',
        'fail_request_module: probability 0 interval 1 times 1 space 0 verbose 2 (failures injected: 0)',
        'fail_netlink_create: probability 0 interval 1 times 1 space 0 verbose 2 (failures injected: 0)',
      ],
    });
  });

  it('set --interval N --times K arms a point at probability 100; ip link add then fails with ENOMEM; clear disarms', async () => {
    const set = await run(['fault', 'set', 'failslab', '--interval', '1', '--times', '1'], env);
    expect(set.code).toBe(0);
    expect(set.out[0]).toBe('failslab: probability 100 interval 1 times 1 space 0 verbose 2 (failures injected: 0)');
    // iproute2's words for ENOMEM from RTM_NEWLINK.
    expect(await run(['ip', 'link', 'add', 'd0', 'type', 'dummy'], env)).toEqual({ code: 2, out: [], err: ['RTNETLINK answers: Cannot allocate memory'] });
    expect((await run(['fault', 'show'], env)).out[0]).toBe('failslab: probability 100 interval 1 times 0 space 0 verbose 2 (failures injected: 1)');
    expect((await run(['ip', 'link', 'add', 'd0', 'type', 'dummy'], env)).code).toBe(0);
    expect((await run(['fault', 'clear'], env)).out[0]).toBe('failslab: probability 0 interval 1 times 1 space 0 verbose 2 (failures injected: 0)');
  });

  it('--nth N fails the Nth call from now', async () => {
    expect((await run(['fault', 'set', 'failslab', '--nth', '2'], env)).out[0]).toBe(
      'failslab: probability 100 interval 1 times 1 space 2 verbose 2 (failures injected: 0)',
    );
    expect((await run(['ip', 'link', 'add', 'd1', 'type', 'dummy'], env)).code).toBe(0);
    expect((await run(['ip', 'link', 'add', 'd2', 'type', 'dummy'], env)).code).toBe(2);
    expect((await run(['ip', 'link', 'add', 'd2', 'type', 'dummy'], env)).code).toBe(0);
    await run(['fault', 'clear', 'failslab'], env);
  });

  it('usage errors exit 2; a value the kernel refuses exits 1 with its reason', async () => {
    expect((await run(['fault'], env)).code).toBe(2);
    expect((await run(['fault', 'set'], env)).code).toBe(2);
    expect((await run(['fault', 'set', 'failslab', '--times', 'many'], env)).code).toBe(2);
    expect((await run(['fault', 'show', 'x'], env)).code).toBe(2);
    const bad = await run(['fault', 'set', 'failslab', '--probability', '200'], env);
    expect(bad).toEqual({ code: 1, out: [], err: ['ovs-kernel: fault set: fault attribute out of range'] });
    const unknown = await run(['fault', 'set', 'fail_all'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/no fault point "fail_all"/);
  });
});

describe('ovs-kernel ip link set name / address / mtu', () => {
  const { env, daemon: d } = inProcessDaemon('set.sock');

  it('renames a device (same ifindex), changes its address and MTU, as iproute2 6.1 would', async () => {
    expect((await run(['ip', 'link', 'add', 'd0', 'type', 'dummy'], env)).code).toBe(0);
    const index = d().kernel.initNet.byIfname('d0')!.ifindex;
    expect(await run(['ip', 'link', 'set', 'd0', 'name', 'd9'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(d().kernel.initNet.byIfname('d9')?.ifindex).toBe(index);
    expect(await run(['ip', 'link', 'set', 'd9', 'address', '02:00:00:00:00:09', 'mtu', '9000'], env)).toEqual({ code: 0, out: [], err: [] });
    const show = await run(['ip', 'link', 'show', 'd9'], env);
    expect(show.out[0]).toBe(`${index}: d9: <BROADCAST,NOARP> mtu 9000 qdisc noop state DOWN mode DEFAULT group default qlen 1000`);
    expect(show.out[1]).toBe('    link/ether 02:00:00:00:00:09 brd ff:ff:ff:ff:ff:ff');
  });

  it('errors: a missing device, a name taken, a bad address', async () => {
    expect(await run(['ip', 'link', 'set', 'nosuch', 'name', 'x'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nosuch"'] });
    expect((await run(['ip', 'link', 'add', 'd1', 'type', 'dummy'], env)).code).toBe(0);
    expect(await run(['ip', 'link', 'set', 'd1', 'name', 'lo'], env)).toEqual({ code: 2, out: [], err: ['RTNETLINK answers: File exists'] });
    expect((await run(['ip', 'link', 'set', 'd1', 'address', 'zz'], env)).code).toBe(2);
  });
});

describe('ovs-kernel ip netns, ip link ... netns, ip addr, against an in-process kernel', () => {
  // The steps of src/testing/lab/netns.sh, which Debian's 6.1 kernel and
  // iproute2 6.1 ran in the kernel lab: every line and status below is what
  // they printed there (addresses aside, which are random; the lab's IPv6
  // link-local was still "tentative": DAD is instantaneous here).
  const { env, daemon: d } = inProcessDaemon('netns.sock');
  const mac = (line: string | undefined): string => /link\/ether (\S+) /.exec(line ?? '')![1]!;

  it('ip netns add / list: newest first, the id a namespace has here beside it', async () => {
    expect(await run(['ip', 'netns', 'add', 'a'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(await run(['ip', 'netns', 'add', 'b'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(await run(['ip', 'netns', 'list'], env)).toEqual({ code: 0, out: ['b', 'a'], err: [] });
    expect(await run(['ip', 'netns', 'add', 'a'], env)).toEqual({ code: 1, out: [], err: ['Cannot create namespace file "/run/netns/a": File exists'] });
    expect(await run(['ip', 'netns', 'del', 'nosuch'], env)).toEqual({
      code: 1,
      out: [],
      err: ['Cannot remove namespace file "/run/netns/nosuch": No such file or directory'],
    });
  });

  it('ip link set v1 netns a: the end moves, keeps its index; each side names the other by namespace', async () => {
    expect((await run(['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], env)).code).toBe(0);
    const k = d().kernel;
    const [i0, i1] = [k.initNet.byIfname('v0')!.ifindex, k.initNet.byIfname('v1')!.ifindex];
    expect(await run(['ip', 'link', 'set', 'v1', 'netns', 'a'], env)).toEqual({ code: 0, out: [], err: [] });
    const v0 = await run(['ip', 'link', 'show', 'v0'], env);
    expect(v0.out[0]).toBe(`${i0}: v0@if${i1}: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000`);
    expect(v0.out[1]).toMatch(/^ {4}link\/ether \S+ brd ff:ff:ff:ff:ff:ff link-netns a$/);
    const inA = await run(['ip', '-n', 'a', 'link', 'show'], env);
    expect(inA.out).toEqual([
      '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      `${i1}: v1@if${i0}: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000`,
      `    link/ether ${mac(inA.out[3])} brd ff:ff:ff:ff:ff:ff link-netnsid 0`,
    ]);
    expect(await run(['ip', 'netns', 'list'], env)).toEqual({ code: 0, out: ['b', 'a (id: 0)'], err: [] });
    expect(await run(['ip', '-n', 'a', 'link', 'set', 'lo', 'netns', 'b'], env)).toEqual({ code: 2, out: [], err: ['RTNETLINK answers: Invalid argument'] });
  });

  it('ip link add w0 type veth peer name w1 netns b; ip addr add / show in both namespaces', async () => {
    expect(await run(['ip', 'link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1', 'netns', 'b'], env)).toEqual({ code: 0, out: [], err: [] });
    const w0 = d().kernel.initNet.byIfname('w0')!.ifindex;
    const inB = await run(['ip', '-n', 'b', 'link', 'show'], env);
    expect(inB.out[2]).toBe(`2: w1@if${w0}: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000`);
    expect(await run(['ip', 'link', 'set', 'w0', 'address', '02:00:00:00:00:01'], env)).toEqual({ code: 0, out: [], err: [] });
    expect((await run(['ip', 'link', 'show', 'w0'], env)).out).toEqual([
      `${w0}: w0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000`,
      '    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netns b',
    ]);
    expect(await run(['ip', '-n', 'b', 'addr', 'add', '10.9.0.2/24', 'dev', 'w1'], env)).toEqual({ code: 0, out: [], err: [] });
    expect((await run(['ip', '-n', 'b', 'link', 'set', 'w1', 'up'], env)).code).toBe(0);
    expect((await run(['ip', 'link', 'set', 'w0', 'up'], env)).code).toBe(0);
    const w1mac = mac(inB.out[3]);
    const eui64 = (m: string): string => {
      const b = m.split(':').map((x) => Number.parseInt(x, 16));
      const w = [(b[0]! ^ 2) * 256 + b[1]!, b[2]! * 256 + 0xff, 0xfe00 + b[3]!, b[4]! * 256 + b[5]!];
      return `fe80::${w.map((x) => x.toString(16)).join(':')}`;
    };
    const w1 = [
      `2: w1@if${w0}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000`,
      `    link/ether ${w1mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0`,
      '    inet 10.9.0.2/24 scope global w1',
      '       valid_lft forever preferred_lft forever',
      `    inet6 ${eui64(w1mac)}/64 scope link `,
      '       valid_lft forever preferred_lft forever',
    ];
    expect(await run(['ip', '-n', 'b', 'addr', 'show', 'dev', 'w1'], env)).toEqual({ code: 0, out: w1, err: [] });
    expect(await run(['ip', '-n', 'b', 'addr', 'show'], env)).toEqual({
      code: 0,
      out: ['1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000', '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00', ...w1],
      err: [],
    });
    expect(await run(['ip', 'addr', 'show', 'dev', 'w0'], env)).toEqual({
      code: 0,
      out: [
        `${w0}: w0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000`,
        '    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netns b',
        '    inet6 fe80::ff:fe00:1/64 scope link ',
        '       valid_lft forever preferred_lft forever',
      ],
      err: [],
    });
  });

  it('errors in iproute2 words and statuses', async () => {
    expect(await run(['ip', '-n', 'b', 'addr', 'add', '10.9.0.2/24', 'dev', 'w1'], env)).toEqual({ code: 2, out: [], err: ['RTNETLINK answers: File exists'] });
    expect(await run(['ip', 'addr', 'add', '1.2.3.4/8', 'dev', 'nosuch'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nosuch"'] });
    expect(await run(['ip', 'addr', 'show', 'dev', 'nosuch'], env)).toEqual({ code: 1, out: [], err: ['Device "nosuch" does not exist.'] });
    expect(await run(['ip', 'link', 'set', 'nosuch', 'netns', 'a'], env)).toEqual({ code: 1, out: [], err: ['Cannot find device "nosuch"'] });
    expect(await run(['ip', 'link', 'set', 'w0', 'netns', 'nosuch'], env)).toEqual({
      code: 255,
      out: [],
      err: ['Error: argument "nosuch" is wrong: Invalid "netns" value', ''],
    });
    const noNs = { code: 255, out: [], err: ['Cannot open network namespace "nosuch": No such file or directory'] };
    expect(await run(['ip', 'netns', 'exec', 'nosuch', 'true'], env)).toEqual(noNs);
    expect(await run(['ip', '-n', 'nosuch', 'link'], env)).toEqual(noNs);
    expect(await run(['ip', 'netns', 'exec', 'a', 'nosuchcmd'], env)).toEqual({
      code: 1,
      out: [],
      err: ['exec of "nosuchcmd" failed: No such file or directory'],
    });
  });

  it('ip netns exec runs the command in the namespace (OVS_KERNEL_NETNS) with its exit status', async () => {
    expect(await run(['ip', 'netns', 'exec', 'b', 'sh', '-c', 'echo "$OVS_KERNEL_NETNS"; exit 3'], env)).toEqual({ code: 3, out: ['b'], err: [] });
    const inA = await run(['ip', 'netns', 'exec', 'a', process.execPath, BIN, 'ip', 'link', 'show'], env);
    expect(inA.code).toBe(0);
    expect(inA.out.filter((l) => !l.startsWith(' '))).toEqual([
      '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
      expect.stringMatching(/^\d+: v1@if\d+: /),
    ]);
  }, 30_000);

  it('ip link set X netns PID: the namespace a client process of the daemon is in (needs ss to find it)', async () => {
    // A process that entered a (OVS_KERNEL_NETNS, as ip netns exec leaves it) and holds a netlink socket there.
    const unix = fileURLToPath(new URL('../../node_modules/@ovs/genl-codec/dist/transport/unix.js', import.meta.url));
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { connectUnixNetlink } = await import(${JSON.stringify(unix)}); const s = await connectUnixNetlink(process.env.OVS_KERNEL_SOCKET, { protocol: 0 }); console.log('ready'); process.stdin.on('end', () => s.close()); process.stdin.resume();`,
      ],
      { env: { ...process.env, ...env, OVS_KERNEL_NETNS: 'a' }, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    expect((await run(['ip', 'link', 'add', 'p0', 'type', 'dummy'], env)).code).toBe(0);
    expect(await run(['ip', 'link', 'set', 'p0', 'netns', String(holder.pid)], env)).toEqual({ code: 0, out: [], err: [] });
    expect(d().kernel.netns('a').byIfname('p0')).toBeDefined();
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.stdin!.end();
    await exited;
    // Gone: get_net_ns_by_pid() finds no such process.
    expect(await run(['ip', '-n', 'a', 'link', 'set', 'p0', 'netns', String(holder.pid)], env)).toEqual({
      code: 2,
      out: [],
      err: ['RTNETLINK answers: No such process'],
    });
    expect(await run(['ip', '-n', 'a', 'link', 'set', 'p0', 'netns', '1'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(await run(['ip', 'link', 'del', 'p0'], env)).toEqual({ code: 0, out: [], err: [] });
  }, 30_000);

  it('ip netns del b: the namespace goes, and the veth with an end in it', async () => {
    expect(await run(['ip', 'netns', 'del', 'b'], env)).toEqual({ code: 0, out: [], err: [] });
    expect(await run(['ip', 'netns', 'list'], env)).toEqual({ code: 0, out: ['a (id: 0)'], err: [] });
    expect(await run(['ip', 'link', 'show', 'w0'], env)).toEqual({ code: 1, out: [], err: ['Device "w0" does not exist.'] });
  });
});
