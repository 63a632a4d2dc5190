/**
 * ovs-appctl (utilities/ovs-appctl.c) and the commands of ovs-vswitchd's
 * control socket, against what the real tools print (fixtures/appctl: Debian's
 * OVS 3.1.0 on Linux 6.1's openvswitch module in the kernel lab, and in the
 * oracle). The daemon runs in-process over the kernel model and our OVSDB
 * server; the commands go through ovs-appctl's main().
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDpctl } from '@ovs/dpif-netlink';
import { Kernel } from '@ovs/kernel-datapath';
import { Database, Idl, OvsdbServer, ServedDatabase, type VswitchTables, vswitchDatabaseSchema } from '@ovs/ovsdb';
import { Vlog } from '@ovs/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './appctl.js';
import { Vswitchd } from './vswitchd.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/appctl/${name}`, import.meta.url), 'utf8');

/** The real tool's transcript: `$ ovs-appctl CMD` -> its outputs (stdout and stderr) and exit statuses, in order. */
function transcript(text: string): Map<string, Array<{ out: string; exit: number }>> {
  const m = new Map<string, Array<{ out: string; exit: number }>>();
  const re = /^\$ ovs-appctl (.*)\n([\s\S]*?)^exit=(\d+)\n/gm;
  for (let r = re.exec(text); r; r = re.exec(text)) {
    if (!m.has(r[1]!)) m.set(r[1]!, []);
    m.get(r[1]!)!.push({ out: r[2]!, exit: Number(r[3]) });
  }
  return m;
}
const REAL = transcript(fixture('kernel-lab-real.txt'));
const seen = new Map<string, number>();
/** The real tool's result for the next run of `cmd` (a command run twice in the lab has two). */
const real = (cmd: string, peek = false) => {
  const all = REAL.get(cmd);
  if (!all) throw new Error(`no "${cmd}" in the transcript`);
  const n = seen.get(cmd) ?? 0;
  if (!peek) seen.set(cmd, n + 1);
  return all[Math.min(n, all.length - 1)]!;
};

/** ovs-appctl's main() with its output captured. */
async function appctl(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string; err: string; exit: number }> {
  let out = '';
  let err = '';
  const exit = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) }, env);
  return { out, err, exit };
}

describe('ovs-vswitchd commands through ovs-appctl (the kernel lab scenario)', () => {
  let dir: string;
  let kernel: Kernel;
  let server: OvsdbServer;
  let idl: Idl<VswitchTables>;
  let vswitchd: Vswitchd;
  let ctl: string;
  /** The command run as the real tool was run in the lab, our way: -t the socket. */
  const run = async (cmd: string) => {
    const r = await appctl(['-t', ctl, ...cmd.split(' ')]);
    // The real transcript has stdout then stderr; the error message names the target as given.
    return { out: r.out + r.err.replaceAll(`ovs-appctl: ${ctl}: `, 'ovs-appctl: ovs-vswitchd: '), exit: r.exit };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'appctl-test-'));
    kernel = new Kernel();
    server = await OvsdbServer.start({ databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))], remotes: [`punix:${join(dir, 'db.sock')}`] });
    idl = await Idl.open<VswitchTables>({ remote: `unix:${join(dir, 'db.sock')}` });
    const init = idl.transaction();
    init.insert('Open_vSwitch', {});
    await init.commit();
    ctl = join(dir, 'ovs-vswitchd.ctl');
    vswitchd = await Vswitchd.start({
      db: `unix:${join(dir, 'db.sock')}`,
      socket: async (protocol) => kernel.socket({ protocol }),
      unixctl: ctl,
      vlog: new Vlog({ now: () => new Date(0) }),
      pollIntervalMs: 50,
    });
    // The lab's set-up: ip link add v0 type veth peer name v1; add-br br0 with v0 and internal i0; vx0, gnv0; add-br br1.
    kernel.initNet.addDevice({ name: 'v0', kind: 'dummy' });
    const txn = idl.transaction();
    const port = (name: string, iface: Partial<VswitchTables['Interface']> = {}) =>
      txn.insert('Port', { name, interfaces: [txn.insert('Interface', { name, ...iface }).uuid] }).uuid;
    const br0 = txn.insert('Bridge', {
      name: 'br0',
      ports: [
        port('br0', { type: 'internal' }),
        port('v0'),
        port('i0', { type: 'internal' }),
        port('vx0', { type: 'vxlan', options: new Map([['remote_ip', '192.0.2.1']]) }),
        port('gnv0', { type: 'geneve', options: new Map([['remote_ip', '192.0.2.2']]) }),
      ],
    });
    const br1 = txn.insert('Bridge', { name: 'br1', ports: [port('br1', { type: 'internal' })] });
    txn.mutate(idl.first('Open_vSwitch')!, 'bridges', 'insert', [br0.uuid, br1.uuid]);
    txn.increment(idl.first('Open_vSwitch')!, 'next_cfg');
    const r = await txn.commit();
    if (r.status !== 'success') throw new Error(`transaction ${r.status}`);
    for (let i = 0; i < 400 && (idl.first('Open_vSwitch')!.get('cur_cfg') ?? 0) < r.increment!; i++) await idl.waitForChange();
    await vswitchd.settle();
  }, 60_000);

  afterAll(async () => {
    await vswitchd?.stop(true);
    idl?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ofproto/list, dpif/show-dp-features, tnl/ports/show, bridge/reconnect as the real one', async () => {
    for (const cmd of [
      'ofproto/list',
      'dpif/show-dp-features br0',
      'dpif/show-dp-features br1',
      'dpif/show-dp-features nobr',
      'dpif/show-dp-features',
      'tnl/ports/show',
      'tnl/ports/show -v',
      'bridge/reconnect',
      'bridge/reconnect br0',
      'bridge/reconnect nobr',
    ]) {
      expect(await run(cmd), cmd).toEqual(real(cmd));
    }
    expect((await run('dpif/show-dp-features br0')).out).toBe(fixture('dp-features-linux-6.1.txt'));
  });

  it("memory/show: the real one's ports and IDL cells (this switch has no handler or revalidator threads, no flow rules)", async () => {
    const r = real('memory/show');
    expect(r.out).toBe('handlers:2 idl-cells-Open_vSwitch:403 ports:6 revalidators:1 rules:10\n');
    const without = `${r.out
      .trim()
      .split(' ')
      .filter((kv) => !/^(handlers|revalidators|rules):/.test(kv))
      .join(' ')}\n`;
    expect(await run('memory/show')).toEqual({ out: without, exit: 0 });
  });

  it('dpctl/* through the daemon: outputs, errors and statuses of the real one', async () => {
    // The lab's lookup counters come from its traffic (packets the model never sees): masked.
    const mask = (s: string) => s.replace(/lookups: hit:\d+ missed:\d+ lost:\d+/g, 'lookups: <stats>');
    for (const cmd of [
      'dpctl/dump-dps',
      'dpctl/show nodp',
      'dpctl/add-dp dp9',
      'dpctl/add-dp system@dp9',
      'dpctl/add-if dp9 dum9,type=internal',
      'dpctl/add-if dp9 nosuchdev',
      'dpctl/set-if dp9 dum9,type=internal',
      'dpctl/show dp9',
      'dpctl/del-if dp9 dum9',
      'dpctl/del-if dp9 nosuch',
      'dpctl/del-dp dp9',
      'dpctl/del-dp dp9',
      'dpctl/dump-flows',
      'dpctl/dump-flows system@ovs-system',
      'dpctl/del-flows',
      'dpctl/help',
      'dpctl/list-commands',
    ]) {
      const ours = await run(cmd);
      const theirs = real(cmd);
      expect({ ...ours, out: mask(ours.out) }, cmd).toEqual({ ...theirs, out: mask(theirs.out) });
    }
  });

  it('dpctl/show with and without -s: the ports of the datapath as the real one lists them', async () => {
    const portLines = (s: string) => s.split('\n').filter((l) => /^ {2}port \d+: /.test(l));
    // Datapath port numbers follow the order ports were added (the lab's add-port order differs for br0's internal port).
    const names = (s: string) => portLines(s).map((l) => l.replace(/^ {2}port \d+: /, ''));
    expect(names((await run('dpctl/show')).out).sort()).toEqual(names(real('dpctl/show').out).sort());
    const s = (await run('dpctl/show -s ovs-system')).out;
    expect(s).toMatch(/^system@ovs-system:\n {2}lookups: hit:\d+ missed:\d+ lost:\d+\n {2}flows: 0\n/);
    expect(s).toContain('\n  port 0: ovs-system (internal)\n    RX packets:0 errors:0 dropped:0 overruns:0 frame:0\n');
  });

  it("coverage/read-counter and coverage/show count this stack's events under OVS's names", async () => {
    for (const name of ['bridge_reconfigure', 'dpif_port_add', 'ofproto_update_port']) {
      const r = await run(`coverage/read-counter ${name}`);
      expect(r.exit, name).toBe(0);
      expect(Number(r.out), name).toBeGreaterThan(0);
    }
    expect(await run('coverage/read-counter nosuch')).toEqual(real('coverage/read-counter nosuch'));
    const show = (await run('coverage/show')).out.split('\n');
    const realShow = real('coverage/show').out.split('\n');
    expect(show[0]).toMatch(/^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:$/);
    expect(realShow[0]).toMatch(/^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:$/);
    const line = /^(\S+) +\d+\.\d\/sec +\d+\.\d{3}\/sec +\d+\.\d{4}\/sec {3}total: \d+$/;
    const counted = show.filter((l) => line.test(l)).map((l) => l.split(' ')[0]);
    // Every counter we count is one the real ovs-vswitchd counted in the same scenario.
    const realCounted = new Set(realShow.filter((l) => line.test(l)).map((l) => l.split(' ')[0]));
    expect(counted.length).toBeGreaterThan(3);
    for (const c of counted) expect(realCounted, c).toContain(c);
    expect(show.at(-2)).toMatch(/^\d+ events never hit$/);
  });

  it("list-commands: the real one's format, and the real usage of every command both have", async () => {
    const parse = (text: string) =>
      new Map(
        text
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .map((l) => [l.slice(2).split(' ')[0]!, l] as const),
      );
    const ours = parse((await run('list-commands')).out);
    const theirs = parse(fixture('list-commands-userspace.txt'));
    for (const name of [
      'bridge/reconnect',
      'coverage/read-counter',
      'coverage/show',
      'dpctl/add-dp',
      'dpctl/dump-flows',
      'dpctl/show',
      'dpif/show',
      'dpif/show-dp-features',
      'exit',
      'list-commands',
      'memory/show',
      'ofproto/list',
      'tnl/ports/show',
      'version',
      'vlog/list',
      'vlog/set',
    ]) {
      expect(ours.get(name), name).toBe(theirs.get(name));
    }
    // Every dpctl command the real one has, ours has, with the same usage.
    for (const [name, l] of theirs) if (name.startsWith('dpctl/')) expect(ours.get(name), name).toBe(l);
  });

  it('version; exit refuses a second argument', async () => {
    expect((await run('version')).out).toMatch(/^ovs-vswitchd \(Open vSwitch\) \d+\.\d+\.\d+\n$/);
    expect(await run('exit --cleanup extra')).toEqual(real('exit --cleanup extra'));
  });
});

describe('ovs-appctl exit [--cleanup]: the log and the datapath as real OVS leaves them (fixtures/appctl/kernel-lab-exit-real.txt)', () => {
  const REAL_EXIT = fixture('kernel-lab-exit-real.txt');
  /** The real run's section for EXIT_ARGS=args: the "deleted interface" lines (as a set: hash order) and the kernel's ports. */
  const realRun = (args: string) => {
    const part = REAL_EXIT.split(/^=== EXIT_ARGS=/m).find((p) => p.startsWith(`${args}\n`))!;
    const log = part.slice(part.indexOf('--- log after exit\n'), part.indexOf('--- kernel after exit'));
    const kernel = part.slice(part.indexOf('--- kernel after exit\n'), part.indexOf('--- ip link after exit'));
    return {
      deleted: log
        .split('\n')
        .filter((l) => l.includes('deleted interface'))
        .sort(),
      other: log.split('\n').filter((l) => l && !l.startsWith('---') && !l.includes('deleted interface')),
      ports: kernel
        .split('\n')
        .filter((l) => /^ {2}port \d+: /.test(l))
        .map((l) => l.replace(/^ {2}port \d+: /, ''))
        .sort(),
    };
  };

  for (const args of ['', '--cleanup']) {
    it(`exit ${args || '(no --cleanup)'}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'appctl-exit-'));
      const kernel = new Kernel();
      const server = await OvsdbServer.start({
        databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))],
        remotes: [`punix:${join(dir, 'db.sock')}`],
      });
      const idl = await Idl.open<VswitchTables>({ remote: `unix:${join(dir, 'db.sock')}` });
      const init = idl.transaction();
      init.insert('Open_vSwitch', {});
      await init.commit();
      const vlog = new Vlog({ now: () => new Date(0) });
      const ctl = join(dir, 'ovs-vswitchd.ctl');
      const socket = async (protocol: number) => kernel.socket({ protocol });
      const d = await Vswitchd.start({ db: `unix:${join(dir, 'db.sock')}`, socket, unixctl: ctl, vlog, pollIntervalMs: 50 });
      try {
        // The lab's exit.sh: v0, internal i0, vx0 on br0; br1.
        kernel.initNet.addDevice({ name: 'v0', kind: 'dummy' });
        const txn = idl.transaction();
        const port = (name: string, iface: Partial<VswitchTables['Interface']> = {}) =>
          txn.insert('Port', { name, interfaces: [txn.insert('Interface', { name, ...iface }).uuid] }).uuid;
        const br0 = txn.insert('Bridge', {
          name: 'br0',
          ports: [
            port('br0', { type: 'internal' }),
            port('v0'),
            port('i0', { type: 'internal' }),
            port('vx0', { type: 'vxlan', options: new Map([['remote_ip', '192.0.2.1']]) }),
          ],
        });
        const br1 = txn.insert('Bridge', { name: 'br1', ports: [port('br1', { type: 'internal' })] });
        txn.mutate(idl.first('Open_vSwitch')!, 'bridges', 'insert', [br0.uuid, br1.uuid]);
        txn.increment(idl.first('Open_vSwitch')!, 'next_cfg');
        const r = await txn.commit();
        if (r.status !== 'success') throw new Error(`transaction ${r.status}`);
        for (let i = 0; i < 400 && (idl.first('Open_vSwitch')!.get('cur_cfg') ?? 0) < r.increment!; i++) await idl.waitForChange();
        await d.settle();
        const before = vlog.recent.length;
        expect(await appctl(['-t', ctl, 'exit', ...(args ? [args] : [])])).toEqual({ out: '', err: '', exit: 0 });
        await d.exited;
        const logged = vlog.recent.slice(before).map((l) => l.replace(/^[^|]*\|\d+\|/, ''));
        const want = realRun(args);
        expect(
          logged
            .filter((l) => l.includes('deleted interface'))
            .sort()
            // OpenFlow port numbers of v0, i0 and vx0 follow the rows' hash order (random UUIDs): compared without them.
            .map((l) => l.replace(/ on port \d+$/, '')),
        ).toEqual(want.deleted.map((l) => l.replace(/ on port \d+$/, '')));
        expect(logged.filter((l) => !l.includes('deleted interface'))).toEqual(want.other);
        const shown: string[] = [];
        await runDpctl(['show'], { out: (l) => shown.push(l), err: () => {}, socket });
        expect(
          shown
            .filter((l) => /^ {2}port \d+: /.test(l))
            .map((l) => l.replace(/^ {2}port \d+: /, ''))
            .sort(),
        ).toEqual(want.ports);
      } finally {
        await d.stop(true);
        idl.close();
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});

describe('ovs-appctl: options and errors as utilities/ovs-appctl.c', () => {
  let dir: string;
  let silent: Server;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'appctl-client-'));
    // A daemon that accepts and never answers (for -T).
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(join(dir, 'silent.ctl'), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => silent.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  // The real ovs-appctl 3.1.0's texts (run on this machine, 2026-12-07).
  it('usage errors', async () => {
    expect(await appctl([])).toEqual({ out: '', err: 'ovs-appctl: at least one non-option argument is required (use --help for help)\n', exit: 1 });
    expect(await appctl(['-T', '0', 'version'])).toMatchObject({ err: 'ovs-appctl: value 0 on -T or --timeout is invalid\n', exit: 1 });
    expect(await appctl(['-T', 'abc', 'version'])).toMatchObject({ err: 'ovs-appctl: value abc on -T or --timeout is invalid\n', exit: 1 });
    expect(await appctl(['-t', 'a', '-t', 'b', 'version'])).toMatchObject({ err: 'ovs-appctl: -t or --target may be specified only once\n', exit: 1 });
    expect(await appctl(['--bogus'])).toMatchObject({ err: "ovs-appctl: unrecognized option '--bogus'\n", exit: 1 });
  });

  it('--help, -o, -V; options end at the command', async () => {
    expect(await appctl(['--help'])).toEqual({ out: fixture('ovs-appctl-help.txt'), err: '', exit: 0 });
    expect(await appctl(['-o'])).toEqual({ out: fixture('ovs-appctl-o.txt'), err: '', exit: 0 });
    expect((await appctl(['-V'])).out).toMatch(/^ovs-appctl \(Open vSwitch\) \d+\.\d+\.\d+\n$/);
    // "+" in the optstring: -h after the command is the command's.
    const r = await appctl(['-t', join(dir, 'none.ctl'), 'version', '-h']);
    expect(r.exit).toBe(1);
  });

  it('a daemon name is looked up through its pid file; a missing or stale one is an error', async () => {
    const env = { OVS_RUNDIR: dir };
    const missing = await appctl(['version'], env);
    expect(missing.exit).toBe(1);
    expect(missing.err).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\|00001\\|daemon_unix\\|WARN\\|${dir}/ovs-vswitchd.pid: open: No such file or directory\\n` +
          `ovs-appctl: cannot read pidfile "${dir}/ovs-vswitchd.pid" \\(No such file or directory\\)\\n$`,
      ),
    );
    // Not locked by a live process: ESRCH, not logged.
    writeFileSync(join(dir, 'foo.pid'), '12345\n');
    expect(await appctl(['-t', 'foo', 'version'], env)).toEqual({
      out: '',
      err: `ovs-appctl: cannot read pidfile "${dir}/foo.pid" (No such process)\n`,
      exit: 1,
    });
    // Only a leading '/' makes a path.
    expect((await appctl(['-t', './x', 'version'], env)).err).toContain(`ovs-appctl: cannot read pidfile "${dir}/./x.pid" (No such file or directory)\n`);
    // -vconsole:off silences the tool's own log lines.
    expect((await appctl(['-vconsole:off', 'version'], env)).err).toBe(
      `ovs-appctl: cannot read pidfile "${dir}/ovs-vswitchd.pid" (No such file or directory)\n`,
    );
  });

  it('a socket path that cannot be connected to', async () => {
    const path = join(dir, 'nonexist.ctl');
    const r = await appctl(['-t', path, 'version']);
    expect(r.exit).toBe(1);
    expect(r.err).toMatch(
      new RegExp(`\\|00001\\|unixctl\\|WARN\\|failed to connect to ${path}\\novs-appctl: cannot connect to "${path}" \\(No such file or directory\\)\\n$`),
    );
  });

  it('-T SECS: a daemon that does not answer in time kills the tool with SIGALRM, as the real one', () => {
    const bin = new URL('../bin/ovs-appctl.js', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, '-T', '1', '-t', join(dir, 'silent.ctl'), 'version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBe('SIGALRM');
    expect(r.stderr).toMatch(/\|fatal_signal\|WARN\|terminating with signal 14 \(Alarm clock\)\n$/);
  });
});
