/**
 * ofproto over dpif-netlink over the in-process kernel model, checked on
 * both sides (ofproto's ofports, ghosts and backers; the kernel's vports),
 * against what real OVS 3.1 did in ../shared/oracle (netdev profile,
 * port_types and ofport scenarios): the same OpenFlow and datapath port
 * numbers for the same sequence of operations, the same warnings.
 *
 * The oracle ran ovs-vswitchd, whose bridge layer retries a failed interface
 * on every reconfiguration; the tests make those retries explicitly, where
 * the oracle's log shows them. Its datapath was the userspace one, which
 * calls internal ports "tap"; the kernel datapath calls them "internal".
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DpifNetlinkProvider } from '@ovs/dpif-netlink';
import { Errno, IFF } from '@ovs/genl-codec';
import { Kernel } from '@ovs/kernel-datapath';
import { type Netdev, NetdevConfigError, netdevSetConfig, registerNetdevClasses } from '@ovs/netdev';
import { beforeEach, describe, expect, it } from 'vitest';
import { dpifShowBacker } from './dpif-show.js';
import { Ofproto } from './ofproto.js';
import { OFPP_LOCAL, OFPP_NONE } from './ofport.js';

const ORACLE = fileURLToPath(new URL('../../../../shared/oracle/transcripts/', import.meta.url));

/** The `ovs-appctl dpif/show` block printed after the step whose title contains `step`. */
function oracleDpifShow(file: string, step: string): string[] {
  const text = readFileSync(ORACLE + file, 'utf8');
  const at = text.indexOf(step);
  const block = text.slice(text.indexOf('$ ovs-appctl dpif/show', at));
  const lines: string[] = [];
  for (const line of block.split('\n').slice(1)) {
    if (!line.startsWith('out| ')) break;
    lines.push(line.slice(5));
  }
  return lines;
}

let kernel: Kernel;
let provider: DpifNetlinkProvider;
let logs: string[];
let bridges: Map<string, Ofproto>;
/** The bridge layer's own reference to each interface's netdev (iface->netdev). */
let ifaces: Map<string, Netdev>;

beforeEach(async () => {
  kernel = new Kernel();
  logs = [];
  provider = await DpifNetlinkProvider.create({ socket: async (protocol) => kernel.socket({ protocol }), log: (l, m, t) => logs.push(`${m}|${l}|${t}`) });
  registerNetdevClasses(provider.netdevs);
  bridges = new Map();
  ifaces = new Map();
});

const env = () => ({ provider, log: (l: 'DBG' | 'INFO' | 'WARN' | 'ERR', m: string, t: string) => logs.push(`${m}|${l}|${t}`) });

async function addBridge(name: string): Promise<Ofproto> {
  const br = await Ofproto.create(env(), name);
  bridges.set(name, br);
  expect(await addIface(br, name, 'internal')).toBe(OFPP_LOCAL);
  return br;
}

/** iface_do_create(): netdev_open, netdev_set_config, ofproto_port_add. */
async function addIface(br: Ofproto, name: string, type = 'system', options: Record<string, string> = {}, ofpRequest?: number): Promise<number> {
  const netdev = await provider.netdevs.open(name, type);
  try {
    await netdevSetConfig(provider.netdevs, netdev, options);
    const ofport = await br.portAdd(netdev, ofpRequest);
    ifaces.set(name, netdev);
    return ofport;
  } catch (err) {
    provider.netdevs.close(netdev);
    throw err;
  }
}

async function delIface(br: Ofproto, name: string): Promise<void> {
  await br.portDel(br.portByName.get(name)!.ofpPort);
  provider.netdevs.close(ifaces.get(name)!);
  ifaces.delete(name);
  for (const b of bridges.values()) await b.run();
}

async function rejectsErrno(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as { errno: number }).errno;
  }
  throw new Error('expected a failure');
}

/** The kernel's view: vports of ovs-system by number. */
function kernelPorts(): Record<number, string> {
  const out: Record<number, string> = {};
  const dp = kernel.ovs!.datapaths().find((d) => d.name === 'ovs-system');
  for (const v of dp?.buckets.flat() ?? []) out[v.portNo] = v.name;
  return out;
}

function veth(a: string, b: string): void {
  const x = kernel.initNet.addDevice({ name: a, kind: 'veth' });
  const y = kernel.initNet.addDevice({ name: b, kind: 'veth' });
  x.peer = y;
  y.peer = x;
  x.flags |= IFF.UP;
  y.flags |= IFF.UP;
}

describe('ofproto-dpif: the oracle port_types scenario (netdev profile)', () => {
  it('gives the OpenFlow and datapath port numbers real OVS gave, tunnels as ghosts on shared backers, patches with no datapath port', async () => {
    const br0 = await addBridge('br0');
    veth('vethA', 'vethB');
    expect(await addIface(br0, 'vethA')).toBe(1);
    expect(await addIface(br0, 'int0', 'internal')).toBe(2);
    // The model has no /dev/net/tun: the tap device exists beforehand, as a persistent tap would.
    kernel.initNet.addDevice({ name: 'tap0', kind: 'tun' });
    expect(await addIface(br0, 'tap0', 'tap')).toBe(3);
    expect(await addIface(br0, 'vxlan0', 'vxlan', { remote_ip: '192.0.2.1' })).toBe(4);
    expect(await addIface(br0, 'vxlan1', 'vxlan', { remote_ip: '192.0.2.1', dst_port: '4790' })).toBe(5);
    expect(await addIface(br0, 'vxlan2', 'vxlan', { remote_ip: '192.0.2.2' })).toBe(6);

    // Same remote, key and UDP port as vxlan0: refused, and the number it was given (7) is spent.
    logs.length = 0;
    expect(await rejectsErrno(addIface(br0, 'vxlan3', 'vxlan', { remote_ip: '192.0.2.1' }))).toBe(Errno.EEXIST);
    expect(logs).toEqual([
      "tunnel|WARN|vxlan3: attempting to add tunnel port with same config as port 'vxlan0' (::->192.0.2.1, key=0, legacy_l2, dp port=5)",
      'ofproto|WARN|br0: could not add port vxlan3 (File exists)',
    ]);
    const retryVxlan3 = async () => expect(await rejectsErrno(addIface(br0, 'vxlan3', 'vxlan', { remote_ip: '192.0.2.1' }))).toBe(Errno.EEXIST);

    expect(await addIface(br0, 'geneve0', 'geneve', { remote_ip: '192.0.2.1' })).toBe(8);
    await retryVxlan3(); // 9
    await retryVxlan3(); // 10
    expect(await addIface(br0, 'gre0', 'gre', { remote_ip: '192.0.2.1' })).toBe(11);

    // A bad configuration fails in the netdev layer: no number is spent.
    logs.length = 0;
    const bad = await provider.netdevs.open('vxlanbad', 'vxlan');
    await expect(netdevSetConfig(provider.netdevs, bad, {})).rejects.toBeInstanceOf(NetdevConfigError);
    provider.netdevs.close(bad);
    expect(logs).toEqual([
      "netdev_vport|WARN|vxlanbad: vxlan type requires valid 'remote_ip' argument",
      'netdev|WARN|vxlanbad: could not set configuration (Invalid argument)',
    ]);
    await retryVxlan3(); // 12

    const br1 = await addBridge('br1');
    await retryVxlan3(); // 13
    await retryVxlan3(); // 14
    await retryVxlan3(); // 15
    expect(await addIface(br0, 'patch-a', 'patch', { peer: 'patch-b' })).toBe(16);
    expect(await addIface(br1, 'patch-b', 'patch', { peer: 'patch-a' })).toBe(1);

    const expected = oracleDpifShow('netdev-port_types.txt', 'patch pair br0:patch-a <-> br1:patch-b').map((l) =>
      l
        // The kernel datapath's name, and its word for internal ports (the userspace datapath says "tap").
        .replace(/^netdev@ovs-netdev: hit:\d+ missed:\d+/, 'system@ovs-system: hit:0 missed:0')
        .replace(/^(\s+(?:br0|br1|int0) \S+): \(tap\)$/, '$1: (internal)'),
    );
    expect(await dpifShowBacker(br0.backer, bridges.values())).toEqual(expected);
    // The kernel: one vport per datapath port, tunnels on their shared backers, no patch vports.
    expect(kernelPorts()).toEqual({
      0: 'ovs-system',
      1: 'br0',
      2: 'vethA',
      3: 'int0',
      4: 'tap0',
      5: 'vxlan_sys_4789',
      6: 'vxlan_sys_4790',
      7: 'genev_sys_6081',
      8: 'gre_sys',
      9: 'br1',
    });

    // Patch ports need a peer, and not themselves.
    logs.length = 0;
    for (const [name, opts] of [
      ['patch-x', {}],
      ['patch-y', { peer: 'patch-y' }],
    ] as const) {
      const nd = await provider.netdevs.open(name, 'patch');
      await expect(netdevSetConfig(provider.netdevs, nd, opts)).rejects.toBeInstanceOf(NetdevConfigError);
      provider.netdevs.close(nd);
    }
    expect(logs.filter((l) => l.startsWith('netdev_vport'))).toEqual([
      "netdev_vport|ERR|patch-x: patch type requires valid 'peer' argument",
      'netdev_vport|ERR|patch-y: patch peer must not be self',
    ]);
    await retryVxlan3(); // 17
    await retryVxlan3(); // 18

    // The last users of vxlan_sys_4789 go: vxlan3 finally fits, on the surviving backer, with number 20.
    // (The bridge layer takes a deleted tunnel's ofport away only at the end of the reconfiguration that
    // deleted it, in ofproto_run, after that reconfiguration's retry of vxlan3: hence 19 is spent first.)
    await retryVxlan3(); // 19
    await delIface(br0, 'vxlan0');
    await delIface(br0, 'vxlan2');
    expect(await addIface(br0, 'vxlan3', 'vxlan', { remote_ip: '192.0.2.1' })).toBe(20);
    expect((await dpifShowBacker(br0.backer, bridges.values())).find((l) => l.includes('vxlan3'))).toBe('    vxlan3 20/5: (vxlan: remote_ip=192.0.2.1)');
    await delIface(br0, 'vxlan3');
    // The backer went with its last user; the others stay while used.
    expect(Object.values(kernelPorts())).not.toContain('vxlan_sys_4789');
    expect(Object.values(kernelPorts())).toEqual(expect.arrayContaining(['vxlan_sys_4790', 'genev_sys_6081', 'gre_sys']));
    expect(kernel.initNet.byIfname('vxlan_sys_4789')).toBeUndefined();
  });
});

describe('OpenFlow port numbers (alloc_ofp_port): the oracle ofport scenario', () => {
  beforeEach(() => {
    for (const n of ['p1', 'p2', 'p3', 'p10', 'q1', 'q2', 'q3', 'a', 'b', 'c', 'd']) kernel.initNet.addDevice({ name: n, kind: 'dummy' });
  });

  it('a request does not move the automatic counter; a taken request falls back to automatic', async () => {
    const br0 = await addBridge('br0');
    expect(await addIface(br0, 'p1')).toBe(1);
    expect(await addIface(br0, 'p2')).toBe(2);
    expect(await addIface(br0, 'p10', 'system', {}, 10)).toBe(10);
    expect(await addIface(br0, 'p3')).toBe(3);
    expect(await addIface(br0, 'q3', 'system', {}, 10)).toBe(4);
  });

  it('a deleted number is not handed out again; a new bridge starts at 1', async () => {
    const br0 = await addBridge('br0');
    expect([await addIface(br0, 'a'), await addIface(br0, 'b'), await addIface(br0, 'c')]).toEqual([1, 2, 3]);
    await delIface(br0, 'b');
    expect(await addIface(br0, 'b')).toBe(4);
    await delIface(br0, 'b');
    expect(await addIface(br0, 'd')).toBe(5);
    expect(await addIface(br0, 'b')).toBe(6);
    // The datapath side reuses the lowest free number at once (b's first port, 4, freed when it was deleted).
    expect(kernelPorts()).toMatchObject({ 1: 'br0', 2: 'a', 4: 'c' });
    await br0.destroy();
    bridges.delete('br0');
    const again = await addBridge('br0');
    expect([await addIface(again, 'b'), await addIface(again, 'a')]).toEqual([1, 2]);
  });

  it('numbers freed over an hour ago may be reused once the counter wraps; until then the least recently freed is last resort', async () => {
    let now = 0;
    const br = await Ofproto.create({ ...env(), now: () => now }, 'brx');
    // Drive the allocator directly: 32767 numbers, all used and freed at once.
    for (let i = 1; i < 32768; i++) br.allocOfpPort(`n${i}`);
    expect(br.allocOfpPort('full')).toBe(0xffff); // OFPP_NONE: nothing free
    now = 1000;
    (br as unknown as { deallocOfpPort(n: number): void }).deallocOfpPort(5);
    (br as unknown as { deallocOfpPort(n: number): void }).deallocOfpPort(7);
    now = 2000;
    expect(br.allocOfpPort('x')).toBe(5); // least recently freed, within the hour
    now = 1000 + 60 * 60 * 1000 + 1;
    expect(br.allocOfpPort('y')).toBe(7); // freed over an hour ago
  });
});

describe('the datapath changes under ofproto', () => {
  it('a port whose device disappears loses its ofport on the next run (port_poll); one added behind its back is removed', async () => {
    const br0 = await addBridge('br0');
    veth('vethA', 'vethB');
    expect(await addIface(br0, 'vethA')).toBe(1);
    await br0.run();
    // ip link del vethA: the kernel drops the vport (dp_device_event), ofproto follows.
    kernel.initNet.removeDevice(kernel.initNet.byIfname('vethA')!);
    await br0.run();
    expect(br0.portByName.has('vethA')).toBe(false);
    expect([...br0.portByName.keys()]).toEqual(['br0']);
    // A vport no bridge asked for (ovs-dpctl add-if behind vswitchd's back) is taken out again.
    kernel.initNet.addDevice({ name: 'stray0', kind: 'dummy' });
    await br0.backer.dpif.portAdd({ name: 'stray0', type: 'system' });
    await br0.run();
    expect(Object.values(kernelPorts())).toEqual(['ovs-system', 'br0']);
  });
});

describe('a restart: the datapath an earlier run left (open_dpif_backer, construct, init_ports)', () => {
  /** What the earlier run left in the kernel: ports by number, as `kernelPorts()` shows them. */
  async function earlierRun(): Promise<Record<number, string>> {
    const br0 = await addBridge('br0');
    expect(await addIface(br0, 'keep0', 'internal')).toBe(1);
    expect(await addIface(br0, 'vx0', 'vxlan', { remote_ip: '192.0.2.1' })).toBe(2);
    expect(await addIface(br0, 'keep1', 'internal', {}, 77)).toBe(77);
    expect(await addIface(br0, 'gone0', 'internal')).toBe(3); // a request does not move the automatic counter
    kernel.initNet.addDevice({ name: 'stray0', kind: 'dummy' });
    await br0.backer.dpif.portAdd({ name: 'stray0', type: 'system' });
    // Another datapath of the type (ovs-dpctl add-dp), and the process gone without cleaning up.
    const other = await provider.open('dp9', true);
    await other.close();
    await provider.close();
    provider = await DpifNetlinkProvider.create({ socket: async (protocol) => kernel.socket({ protocol }), log: (l, m, t) => logs.push(`${m}|${l}|${t}`) });
    registerNetdevClasses(provider.netdevs);
    return kernelPorts();
  }

  it('keeps the configured ports with the numbers the database gave them, deletes the rest and other datapaths; new numbers go on after the highest', async () => {
    const before = await earlierRun();
    const ifaceHints = new Map([
      ['br0', { brName: 'br0', brType: 'system', ofpPort: OFPP_NONE }],
      ['keep0', { brName: 'br0', brType: 'system', ofpPort: 1 }],
      ['vx0', { brName: 'br0', brType: 'system', ofpPort: 2 }],
      ['keep1', { brName: 'br0', brType: 'system', ofpPort: 77 }],
      // Configured, in the datapath, never given a number (the run died before writing it back).
      ['late0', { brName: 'br0', brType: 'system', ofpPort: OFPP_NONE }],
    ]);
    // late0 made it into the kernel before the crash.
    const dp = await provider.open('ovs-system', false);
    const late0 = await dp.portAdd({ name: 'late0', type: 'internal' });
    await dp.close();
    const br0 = await Ofproto.create({ ...env(), ifaceHints }, 'br0');
    // Other datapaths go (OVS assumes it is their only user); this bridge's hints are used up.
    expect(kernel.ovs!.datapaths().map((d) => d.name)).toEqual(['ovs-system']);
    expect(ifaceHints.size).toBe(0);
    // init_ports(): the hinted ports first (keeping their numbers), then late0 after the highest (77).
    expect(Object.fromEntries([...br0.portByName].map(([n, p]) => [n, p.ofpPort]))).toEqual({ br0: OFPP_LOCAL, keep0: 1, keep1: 77, late0: 78 });
    expect(br0.backer.odpToOfport.get(late0)?.name).toBe('late0');
    // The bridge layer then adds its interfaces: the ones present keep their datapath ports and numbers;
    // the tunnel finds its backer (vxlan_sys_4789, the same datapath port); a new port gets the next number.
    bridges.set('br0', br0);
    expect(await addIface(br0, 'br0', 'internal')).toBe(OFPP_LOCAL);
    expect(await addIface(br0, 'keep0', 'internal', {}, 1)).toBe(1);
    expect(await addIface(br0, 'vx0', 'vxlan', { remote_ip: '192.0.2.1' }, 2)).toBe(2);
    expect(await addIface(br0, 'new0', 'internal')).toBe(79);
    await br0.run();
    // Stale ports (gone0, stray0) were tunnel-backer candidates: no tunnel needs them, so run() deleted them.
    const after = kernelPorts();
    expect(Object.values(after).sort()).toEqual(['br0', 'keep0', 'keep1', 'late0', 'new0', 'ovs-system', 'vxlan_sys_4789']);
    for (const name of ['br0', 'keep0', 'keep1', 'vxlan_sys_4789']) {
      expect(Object.entries(after).find(([, n]) => n === name)![0]).toBe(Object.entries(before).find(([, n]) => n === name)![0]);
    }
    expect(kernel.initNet.byIfname('gone0')).toBeUndefined();
  });

  it('without hints (a switch with nothing configured) every port of the old datapath goes on the first run', async () => {
    await earlierRun();
    const br0 = await Ofproto.create({ ...env(), ifaceHints: new Map() }, 'br0');
    expect([...br0.portByName.keys()]).toEqual([]);
    await br0.run();
    expect(Object.values(kernelPorts())).toEqual(['ovs-system']);
  });
});

describe('the datapath removed under a running ofproto (ovs-dpctl del-dp ovs-system)', () => {
  it('port dump leaves out every port the datapath no longer has; ghosts stay; re-adding fails with ENODEV as in OVS 3.1', async () => {
    const br0 = await addBridge('br0');
    expect(await addIface(br0, 'i0', 'internal')).toBe(1);
    expect(await addIface(br0, 'vx0', 'vxlan', { remote_ip: '192.0.2.1' })).toBe(2);
    expect(await addIface(br0, 'pa', 'patch', { peer: 'pb' })).toBe(3);
    expect((await br0.portDump()).map((p) => `${p.name} ${p.ofpPort}`).sort()).toEqual(['br0 65534', 'i0 1', 'pa 3', 'vx0 2']);
    const other = await provider.open('ovs-system', false);
    await other.destroy();
    await other.close();
    // Linux sends no vport notification for the ports of a destroyed datapath: a dump (the bridge's sweep) is
    // what finds them gone; the ghosts (tunnel, patch) stay, as vx0 did in dpif/show on the lab's kernel.
    expect((await br0.portDump()).map((p) => p.name).sort()).toEqual(['pa', 'vx0']);
    // dpif/show still answers (the counters unreadable: zero, with OVS's warning).
    logs.length = 0;
    expect((await dpifShowBacker(br0.backer, [br0]))[0]).toBe('system@ovs-system: hit:0 missed:0');
    expect(logs).toEqual(['dpif|WARN|system@ovs-system: get_stats failed (No such device)']);
    // Adding a port (the bridge layer adding back what vanished): ENODEV, with OVS's log line, nothing created.
    await br0.run();
    logs.length = 0;
    expect(await rejectsErrno(addIface(br0, 'i1', 'internal'))).toBe(Errno.ENODEV);
    expect(logs).toContain('dpif|WARN|system@ovs-system: failed to add i1 as port: No such device');
    expect(kernel.initNet.byIfname('i1')).toBeUndefined();
    expect(kernel.ovs!.datapaths()).toEqual([]);
  });
});
