/**
 * End to end: the oracle's scenarios (../shared/oracle/transcripts, real OVS
 * 3.1, netdev profile) replayed command by command against our whole switch —
 * the ovs-kernel daemon, our OVSDB server, ovs-vswitchd, and the ovs-vsctl /
 * ovs-appctl commands (in-process, over their real sockets) — comparing what
 * the real tools printed and their exit statuses: ovs-vsctl's output and
 * errors, the Interface table (ofport, error, type, options), `ovs-appctl
 * dpif/show` and `dpctl/show`.
 *
 * What necessarily differs, and how it is mapped:
 * - the oracle's datapath was the userspace one (`netdev@ovs-netdev`, which
 *   calls internal ports "tap"); ours is the kernel's (`system@ovs-system`,
 *   "internal"); `datapath_type=netdev` is dropped from the commands;
 * - the oracle made veths with `ip link` in a network namespace; here
 *   `ovs-kernel ip link` makes them in the model; the model has no
 *   /dev/net/tun, so a tap port's device is made beforehand;
 * - the userspace datapath takes a 17-character internal port name (its
 *   OpenFlow name cut to 15); the kernel refuses names over 15 characters
 *   (ERANGE, see bridge.test.ts), so that scenario uses a 15-character name;
 * - which of two interfaces in the same bucket of OVS's hash map goes first
 *   follows their rows' UUIDs (random): when ours came out the other way
 *   round, the two swap roles (names) in the oracle's later commands and
 *   outputs, so everything that follows compares exactly;
 * - a failing interface is retried on every reconfiguration, spending an
 *   OpenFlow number each time; on the kernel datapath a tunnel backer is a
 *   real device (genev_sys_6081, gre_sys), whose link notifications make
 *   OVS's if_notifier reconfigure once more — the userspace datapath makes
 *   no such device. The retries are visible in both logs ("attempting to add
 *   tunnel port"), so numbers given after them are compared with the
 *   oracle's plus the extra retries made before they were given;
 * - traffic counters (lookups, flows) and MAC addresses differ;
 * - `ovs-ofctl` is not part of this project: its port list is checked
 *   against the Interface table instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectUnixNetlink } from '@ovs/genl-codec/unix';
import { type Daemon, ipLinkAdd, ipLinkSet, startDaemon } from '@ovs/kernel-datapath';
import { Database, OvsdbServer, ServedDatabase, vswitchDatabaseSchema } from '@ovs/ovsdb';
import { run as vsctl } from '@ovs/vsctl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as appctl } from './appctl.js';
import { type OracleCommand, interfaceRecords, readTranscript, transcriptLogs } from './testing/oracle.js';
import { Vlog } from '@ovs/util';
import { Vswitchd } from './vswitchd.js';

interface Switch {
  /** Retries (ours minus the oracle's) so far per bridge, and at the time each interface got its number. */
  extra: Map<string, number>;
  extraAt: Map<string, number>;
  /** Oracle name -> ours, for same-bucket pairs our UUIDs ordered the other way round. */
  rename: Map<string, string>;
  dir: string;
  env: NodeJS.ProcessEnv;
  kernel: Daemon;
  server: OvsdbServer;
  vswitchd: Vswitchd;
  internal: Set<string>;
}

async function startSwitch(): Promise<Switch> {
  const dir = mkdtempSync(join(tmpdir(), 'ovs-e2e-'));
  const env = { ...process.env, OVS_RUNDIR: dir };
  const kernel = await startDaemon({ socketPath: join(dir, 'ovs-kernel.sock') });
  const server = await OvsdbServer.start({
    databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))],
    remotes: [`punix:${join(dir, 'db.sock')}`],
  });
  expect((await vsctl(['--no-wait', 'init'], { env })).status).toBe(0);
  const vswitchd = await Vswitchd.start({
    db: `unix:${join(dir, 'db.sock')}`,
    socket: (protocol) => connectUnixNetlink(join(dir, 'ovs-kernel.sock'), { protocol }),
    unixctl: join(dir, `ovs-vswitchd.${process.pid}.ctl`),
    pidfile: join(dir, 'ovs-vswitchd.pid'),
    vlog: new Vlog(),
    pollIntervalMs: 50,
  });
  return { extra: new Map(), extraAt: new Map(), rename: new Map(), dir, env, kernel, server, vswitchd, internal: new Set() };
}

async function stopSwitch(sw: Switch): Promise<void> {
  await sw.vswitchd.stop(true);
  await sw.server.close();
  await sw.kernel.close();
  rmSync(sw.dir, { recursive: true, force: true });
}

/** The oracle's command, as it runs here (see the header). */
function adapt(cmd: string): string {
  return cmd
    .replace(/ -- set Bridge (\S+) datapath_type=netdev/g, '')
    .replace(/ \| sed .*$/, '')
    .replace(LONG_NAME, SHORT_NAME);
}

const LONG_NAME = /abcdefghijklmnopq/g;
const SHORT_NAME = 'abcdefghijklmno';

/**
 * Interfaces added in one transaction that share a bucket of OVS's hash map
 * (hash_string & mask): which gets the lower number follows the UUIDs.
 */
const SAME_BUCKET = [
  ['q1', 'q2'],
  ['m1', 'm4'],
  ['m2', 'm3'],
  ['e1', 'e3'],
];

/** The oracle's text with pair roles swapped where ours came out the other way round. */
function renamed(sw: Switch, text: string): string {
  if (sw.rename.size === 0) return text;
  return text.replace(/[A-Za-z][\w-]*/g, (w) => sw.rename.get(w) ?? w);
}

/**
 * At a `list Interface` snapshot: for each same-bucket pair both here and in
 * the oracle's output, whether our numbers are the oracle's with the pair's
 * names swapped — if so, the two swap roles from now on.
 */
function learnPairs(sw: Switch, ours: string[], theirs: string[]): void {
  const ofport = (recs: string[], n: string) => recs.find((r) => r.startsWith(`name : ${n};`))?.match(/; ofport : (-?\d+);/)?.[1];
  for (const [a, b] of SAME_BUCKET) {
    const [oa, ob, ta, tb] = [ofport(ours, a!), ofport(ours, b!), ofport(theirs, a!), ofport(theirs, b!)];
    if (oa === undefined || ob === undefined || ta === undefined || tb === undefined || oa === ob) continue;
    if (oa === tb && ob === ta) {
      sw.rename.set(a!, b!);
      sw.rename.set(b!, a!);
    }
  }
}

/** Runs of dpif/show port lines (4-space indent) sorted. */
function byNameRuns(lines: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  for (const l of [...lines, '']) {
    if (/^ {4}\S/.test(l)) run.push(l);
    else {
      out.push(...run.sort());
      run = [];
      if (l !== '') out.push(l);
    }
  }
  return out;
}

/** The oracle's number for an interface, plus the extra retries made here before it got it. */
function shifted(sw: Switch, name: string, n: number): number {
  if (n < 0 || n === 65534) return n;
  if (!sw.extraAt.has(name)) {
    const br = [...sw.vswitchd.bridges.bridges.values()].find((b) => b.ifaceByName.has(name) || b.failed.has(name));
    sw.extraAt.set(name, br ? (sw.extra.get(br.name) ?? 0) : 0);
  }
  return n + sw.extraAt.get(name)!;
}

/** The oracle's `list Interface` records with their numbers shifted (see shifted()). */
function shiftRecords(sw: Switch, records: string[]): string[] {
  return records.map((r) => {
    const name = /^name : (\S+);/.exec(r)?.[1];
    return name ? r.replace(/; ofport : (-?\d+);/, (_m, n: string) => `; ofport : ${shifted(sw, name, Number(n))};`) : r;
  });
}

/** Split a command line into words (single and double quotes as the shell has them). */
function words(cmd: string): string[] {
  const out: string[] = [];
  for (const m of cmd.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  return out;
}

/**
 * `ovs-vsctl show` as comparable data: its bridges and, in each, its port
 * blocks sorted (the tool prints them in the order of the rows' UUIDs,
 * which are random); the datapath type line left out.
 */
function showBlocks(lines: string[]): string[] {
  const bridges: string[][] = [];
  let ports: string[] = [];
  let block: string[] = [];
  const flushPort = () => {
    if (block.length) ports.push(block.join('\n'));
    block = [];
  };
  for (const l of lines) {
    if (l === '' || /^[0-9a-f-]{36}$/.test(l) || /^\s+datapath_type: /.test(l)) continue;
    if (/^ {4}Bridge /.test(l)) {
      flushPort();
      ports = [l];
      bridges.push(ports);
    } else if (/^ {8}Port /.test(l)) {
      flushPort();
      block = [l];
    } else if (block.length) block.push(l);
    else ports.push(l);
  }
  flushPort();
  return bridges.map(([head, ...rest]) => [head, ...rest.sort()].join('\n')).sort();
}

/** Map the userspace datapath's words to the kernel datapath's. */
function mapDatapath(line: string, internal: Set<string>): string {
  return line
    .replace(/^netdev@ovs-netdev: hit:\d+ missed:\d+$/, 'system@ovs-system: hit:N missed:N')
    .replace(/^netdev@ovs-netdev:$/, 'system@ovs-system:')
    .replace(/^(\s+)port 0: ovs-netdev \(tap\)$/, '$1port 0: ovs-system (internal)')
    .replace(/^(\s+(?:port \d+: )?(\S+)(?: \S+)?): \(tap\)$/, (m, head: string, name: string) => (internal.has(name) ? `${head}: (internal)` : m))
    .replace(/^(\s+port \d+: (\S+)) \(tap\)$/, (m, head: string, name: string) => (internal.has(name) ? `${head} (internal)` : m))
    .replace(/(lookups: hit:)\d+ missed:\d+ lost:\d+/, '$1N missed:N lost:N')
    .replace(/(flows: )\d+/, '$1N');
}

function ours(line: string): string {
  return line
    .replace(/^system@ovs-system: hit:\d+ missed:\d+$/, 'system@ovs-system: hit:N missed:N')
    .replace(/(lookups: hit:)\d+ missed:\d+ lost:\d+/, '$1N missed:N lost:N')
    .replace(/(flows: )\d+/, '$1N');
}

async function runStep(sw: Switch, oracle: OracleCommand): Promise<void> {
  const c = { ...oracle, cmd: renamed(sw, oracle.cmd), out: oracle.out.map((l) => renamed(sw, l)), err: oracle.err.map((l) => renamed(sw, l)) };
  const cmd = adapt(c.cmd);
  const w = words(cmd);
  const what = `[${c.section}] ${c.cmd}`;
  if (w[0] === 'ip' && w[1] === 'link' && w[2] === 'add') {
    // ip link add A type veth peer name B && ip link set A up && ip link set B up
    const [a, , , , , b] = w.slice(3);
    const sock = await connectUnixNetlink(join(sw.dir, 'ovs-kernel.sock'), { protocol: 0 });
    try {
      await ipLinkAdd(sock, a!, 'veth', { peer: b! });
      await ipLinkSet(sock, a!, { up: true });
      await ipLinkSet(sock, b!, { up: true });
    } finally {
      await sock.close();
    }
    return;
  }
  if (w[0] === 'ovs-vsctl') {
    if (/type=tap\b/.test(cmd)) {
      const name = /add-port \S+ (\S+)/.exec(cmd)![1]!;
      if (!sw.kernel.kernel.initNet.byIfname(name)) sw.kernel.kernel.initNet.addDevice({ name, kind: 'tun' });
    }
    for (const m of cmd.matchAll(/Interface (\S+) type=internal/g)) sw.internal.add(m[1]!);
    for (const m of cmd.matchAll(/add-br (\S+)/g)) sw.internal.add(m[1]!);
    const r = await vsctl(w.slice(1), { env: sw.env });
    expect(r.status, what).toBe(c.exit);
    const err = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(sw.dir, '<rundir>'));
    expect(err, what).toEqual(c.err.map((l) => l.replace(LONG_NAME, SHORT_NAME)));
    if (/ list Interface/.test(cmd)) {
      const mine = interfaceRecords(r.stdout.split('\n'));
      learnPairs(sw, mine, shiftRecords(sw, interfaceRecords(c.out.map((l) => l.replace(LONG_NAME, SHORT_NAME)))));
      const theirs = shiftRecords(sw, interfaceRecords(oracle.out.map((l) => renamed(sw, l).replace(LONG_NAME, SHORT_NAME))));
      expect(mine, what).toEqual(theirs);
    } else if (w.includes('show')) expect(showBlocks(r.stdout.split('\n')), what).toEqual(showBlocks(c.out.map((l) => l.replace(LONG_NAME, SHORT_NAME))));
    else expect(r.stdout.split('\n').filter(Boolean), what).toEqual(c.out.filter(Boolean));
    return;
  }
  if (w[0] === 'ovs-appctl') {
    let out = '';
    let err = '';
    const status = await appctl(
      w.slice(1),
      {
        out: (s: string) => {
          out += s;
          return true;
        },
        err: (s: string) => {
          err += s;
          return true;
        },
      },
      sw.env,
    );
    expect(status, `${what}: ${err}`).toBe(c.exit);
    const theirs = c.out
      .map((l) => mapDatapath(l.replace(LONG_NAME, SHORT_NAME), sw.internal))
      .map((l) =>
        l
          .replace(/^( {4}(\S+) )(\d+)\//, (_m, head: string, name: string, n: string) => `${head.slice(0, head.length - 0)}${shifted(sw, name, Number(n))}/`)
          .replace(/^( {4}\S+ )\d+\/(\d+)\/$/, '$1$2/'),
      );
    // The kernel datapath also reports its megaflow masks and caches; the userspace one does not.
    const mine = out
      .split('\n')
      .filter((l) => l !== '' && !/^\s+(masks: |caches:|masks-cache: )/.test(l))
      .map(ours);
    // dpif/show lists ports by name, which a swap of roles (above) reorders: compare each bridge's ports sorted.
    expect(byNameRuns(mine), what).toEqual(byNameRuns(theirs.filter(Boolean)));
    return;
  }
  if (w[0] === 'ovs-ofctl') {
    // Its port lines: N(name) for each interface with an OpenFlow port, LOCAL(br) for the bridge.
    const ports = c.out
      .flatMap((l) => /^ (\d+|LOCAL)\(([^)]*)\):/.exec(l)?.slice(1, 3) ?? [])
      .map((x, i, a) => (i % 2 === 0 && x !== 'LOCAL' ? String(shifted(sw, a[i + 1]!, Number(x))) : x));
    const br = w[2]!;
    const bridge = sw.vswitchd.bridges.bridges.get(br)!;
    const mine = [...bridge.ofproto!.ports.values()]
      .map((p) => [p.ofpPort === 0xfffe ? 'LOCAL' : String(p.ofpPort), p.name.slice(0, 15)])
      .sort((a, b) => (a[0] === 'LOCAL' ? 1 : b[0] === 'LOCAL' ? -1 : Number(a[0]) - Number(b[0])))
      .flat();
    expect(mine, what).toEqual(ports);
  }
}

describe.each(['netdev-add_br.txt', 'netdev-ofport.txt', 'netdev-errors.txt', 'netdev-delete.txt', 'netdev-reuse.txt', 'netdev-port_types.txt'])(
  'the oracle scenario %s',
  (file) => {
    let sw: Switch;
    beforeAll(async () => {
      sw = await startSwitch();
    });
    afterAll(async () => {
      await stopSwitch(sw);
    });
    it('replays to the same outputs, exit statuses, OpenFlow and datapath port numbers', async () => {
      const logs = transcriptLogs(file);
      const retries = (lines: string[]) => lines.filter((l) => l.includes('attempting to add tunnel port with same config')).length;
      let section: string | undefined;
      let logStart = 0;
      const endSection = () => {
        if (section === undefined) return;
        const mine = sw.vswitchd.vlog.recent.slice(logStart);
        const ours = retries(mine);
        const theirs = retries(logs.get(section) ?? []);
        expect(ours, `retries in [${section}]`).toBeGreaterThanOrEqual(theirs);
        if (ours === theirs) return;
        // The bridge of the retrying interface.
        const name = /\|tunnel\|WARN\|(\S+): attempting/.exec(mine.find((l) => l.includes('attempting to add tunnel port'))!)![1]!;
        const br = [...sw.vswitchd.bridges.bridges.values()].find((b) => b.failed.has(name) || b.ifaceByName.has(name))!;
        sw.extra.set(br.name, (sw.extra.get(br.name) ?? 0) + ours - theirs);
      };
      for (const c of readTranscript(file)) {
        if (c.section !== section) {
          await sw.vswitchd.settle();
          endSection();
          section = c.section;
          logStart = sw.vswitchd.vlog.recent.length;
        }
        await runStep(sw, c);
      }
      await sw.vswitchd.settle();
      endSection();
      if (process.env.OVS_TEST_VERBOSE) console.log(`${file}: extra retries per bridge ${JSON.stringify(Object.fromEntries(sw.extra))}`);
    });
  },
);
