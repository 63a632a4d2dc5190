/**
 * dpif-netlink over the in-process kernel model and over the ovs-kernel
 * daemon's socket. The test wires the transport; the package itself only
 * ever sees NetlinkSocket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Errno, NETIF_F_BIT, type NetlinkSocket, OVS_VPORT_TYPE } from '@ovs/genl-codec';
import { rejection } from '@ovs/genl-codec/testing';
import { connectUnixNetlink } from '@ovs/genl-codec/unix';
import { Kernel, type KernelOptions, featureMask, offerFeatures, startDaemon } from '@ovs/kernel-datapath';
import { openNetlinkSocket } from '@ovs/netlink-socket';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DpifNetlink, type DpifNetlinkOptions, netdevToOvsVportType } from './dpif-netlink.js';
import { DpifError } from './dpif.js';

let kernel: Kernel;
let logs: string[];

function setup(opts: KernelOptions = {}, capNetAdmin = true): DpifNetlinkOptions {
  kernel = new Kernel(opts);
  for (const name of ['veth0', 'veth2', 'd0']) kernel.initNet.addDevice({ name, kind: 'dummy' });
  logs = [];
  return {
    socket: async (protocol) => kernel.socket({ protocol, capNetAdmin }),
    log: (level, module, text) => logs.push(`${module}|${level}|${text}`),
  };
}

describe('netdev_to_ovs_vport_type', () => {
  it('maps OVS netdev types to kernel vport types as OVS does', () => {
    expect(netdevToOvsVportType('system')).toBe(OVS_VPORT_TYPE.NETDEV);
    expect(netdevToOvsVportType('tap')).toBe(OVS_VPORT_TYPE.NETDEV);
    expect(netdevToOvsVportType('internal')).toBe(OVS_VPORT_TYPE.INTERNAL);
    expect(netdevToOvsVportType('stt')).toBe(OVS_VPORT_TYPE.STT);
    expect(netdevToOvsVportType('geneve')).toBe(OVS_VPORT_TYPE.GENEVE);
    expect(netdevToOvsVportType('gre')).toBe(OVS_VPORT_TYPE.GRE);
    expect(netdevToOvsVportType('ip6gre')).toBe(OVS_VPORT_TYPE.GRE);
    expect(netdevToOvsVportType('vxlan')).toBe(OVS_VPORT_TYPE.VXLAN);
    expect(netdevToOvsVportType('lisp')).toBe(OVS_VPORT_TYPE.LISP);
    expect(netdevToOvsVportType('patch')).toBe(OVS_VPORT_TYPE.UNSPEC);
    expect(netdevToOvsVportType('dummy')).toBe(OVS_VPORT_TYPE.UNSPEC);
  });
});

describe('open', () => {
  it('creates a datapath with per-CPU dispatch on Linux 6.1 (the impossible feature bit refused first)', async () => {
    const dpif = await DpifNetlink.open('ovs-system', setup(), true);
    expect(dpif.perCpu).toBe(true);
    expect(dpif.fullName).toBe('system@ovs-system');
    expect(kernel.ovs!.datapaths()[0]?.userFeatures).toBe(9); // UNALIGNED | DISPATCH_UPCALL_PER_CPU, as OVS 3.1 settles
    expect(logs).toContain('dpif_netlink|INFO|Datapath dispatch mode: per-cpu');
    await dpif.close();
  });

  it('falls back to per-vport upcall pids on the OVS 2.5 module, which accepts any feature bit', async () => {
    const dpif = await DpifNetlink.open('dp0', setup({ profile: 'ovs-2.5' }), true);
    expect(dpif.perCpu).toBe(false);
    expect(kernel.ovs!.datapaths()[0]?.userFeatures).toBe(3); // UNALIGNED | VPORT_PIDS
    expect(logs).toContain('dpif_netlink|INFO|Kernel does not correctly support feature negotiation. Using standard features.');
    await dpif.close();
  });

  it("on the out-of-tree module (ovs_geneve exists) tunnels are the seeds' compat vport types, with no rtnetlink device", async () => {
    const dpif = await DpifNetlink.open('dp0', setup({ profile: 'ovs-2.5' }), true);
    expect(dpif.outOfTreeTunnels).toBe(true);
    expect(kernel.initNet.byIfname('genev_sys_6081')).toBeUndefined(); // the probe's device was deleted again
    const n = await dpif.portAdd({ name: 'vx0', type: 'vxlan', tunnel: { dstPort: 4789 } });
    expect(await dpif.portQueryByNumber(n)).toMatchObject({ name: 'vxlan_sys_4789', type: 'vxlan' });
    expect(kernel.ovs!.datapaths()[0]!.ports.get(n)!.upcallPids).toEqual(dpif.channelPids(n));
    await dpif.close();
  });

  it('on Linux 6.1 the ovs_geneve probe is refused: tunnels are rtnetlink devices', async () => {
    const dpif = await DpifNetlink.open('dp0', setup(), true);
    expect(dpif.outOfTreeTunnels).toBe(false);
    await dpif.close();
  });

  it('opens an existing datapath, and an absent one is ENODEV', async () => {
    const opts = setup();
    await (await DpifNetlink.open('dp0', opts, true)).close();
    const again = await DpifNetlink.open('dp0', opts, false);
    expect(again.dpIfindex).toBe(kernel.ovs!.datapaths()[0]!.ifindex);
    expect((await rejection(DpifNetlink.open('nope', opts, false), DpifError)).errno).toBe(Errno.ENODEV);
  });

  it('says the openvswitch module is not loaded when its family is missing', async () => {
    const err = await rejection(DpifNetlink.open('dp0', setup({ openvswitch: false }), true), DpifError);
    expect(err.errno).toBe(Errno.ENOENT);
    expect(err.message).toMatch(/openvswitch kernel module is not loaded/);
  });

  it('creating an existing datapath is EEXIST; an unprivileged socket gets EPERM', async () => {
    const opts = setup();
    await (await DpifNetlink.open('dp0', opts, true)).close();
    expect((await rejection(DpifNetlink.open('dp0', opts, true), DpifError)).errno).toBe(Errno.EEXIST);
    const user = { ...opts, socket: async (protocol: number) => kernel.socket({ protocol, capNetAdmin: false }) };
    expect((await rejection(DpifNetlink.open('dp1', user, true), DpifError)).errno).toBe(Errno.EPERM);
  });
});

describe('ports', () => {
  let dpif: DpifNetlink;
  let setupOpts: DpifNetlinkOptions;
  beforeEach(async () => {
    setupOpts = setup();
    dpif = await DpifNetlink.open('dp0', setupOpts, true);
  });
  afterEach(async () => {
    await dpif.close();
  });

  it('adds system, internal and vxlan ports; queries, dumps and deletes them', async () => {
    expect(await dpif.portAdd({ name: 'veth0', type: 'system' })).toBe(1);
    expect(await dpif.portAdd({ name: 'int1', type: 'internal' })).toBe(2);
    await dpif.close();
    dpif = await DpifNetlink.open('dp0', { ...setupOpts, tunnels: 'compat' }, false);
    expect(await dpif.portAdd({ name: 'vx0', type: 'vxlan', tunnel: { dstPort: 4789 } })).toBe(3);
    expect(await dpif.portQueryByNumber(2)).toMatchObject({ name: 'int1', type: 'internal', portNo: 2 });
    expect(await dpif.portQueryByName('vxlan_sys_4789')).toMatchObject({ name: 'vxlan_sys_4789', type: 'vxlan', portNo: 3 });
    expect((await dpif.portDump()).map((p) => `${p.portNo}:${p.name}:${p.type}`)).toEqual([
      '0:dp0:internal',
      '1:veth0:system',
      '2:int1:internal',
      '3:vxlan_sys_4789:vxlan',
    ]);
    await dpif.portDel(2);
    expect((await rejection(dpif.portQueryByNumber(2), DpifError)).errno).toBe(Errno.ENODEV);
    expect(kernel.initNet.byIfname('int1')).toBeUndefined();
  });

  it('tunnels as OVS 2.8+ makes them: a vxlan_sys_4789 / genev_sys_6081 / gre_sys device by rtnetlink, added as a netdev vport', async () => {
    const vx = await dpif.portAdd({ name: 'vx0', type: 'vxlan', tunnel: { dstPort: 4789 } });
    const gn = await dpif.portAdd({ name: 'gnv0', type: 'geneve', tunnel: { dstPort: 6081 } });
    const gr = await dpif.portAdd({ name: 'gre0', type: 'gre' });
    const ns = kernel.initNet;
    expect([ns.byIfname('vxlan_sys_4789')?.kind, ns.byIfname('genev_sys_6081')?.kind, ns.byIfname('gre_sys')?.kind]).toEqual(['vxlan', 'geneve', 'gretap']);
    // get_vport_type(): a netdev vport named like a dpif-netlink tunnel device is that tunnel's type.
    expect(await dpif.portQueryByNumber(vx)).toMatchObject({ name: 'vxlan_sys_4789', type: 'vxlan', portNo: vx });
    expect(ns.byIfname('gre_sys')?.mtu).toBe(65000);
    // A second vxlan port on the same UDP port, as dpif_netlink_port_add() handles it: the device exists and
    // is verified, its vport exists (EEXIST), so the device is deleted (taking the first port with it) and
    // the compat way makes a VXLAN vport of that name. (ofproto never asks twice: it shares tunnel backers.)
    const vx1 = await dpif.portAdd({ name: 'vx1', type: 'vxlan', tunnel: { dstPort: 4789 } });
    // The new vport took the lowest free number: the one its predecessor left.
    expect(vx1).toBe(vx);
    expect((await dpif.portDump()).filter((p) => p.name === 'vxlan_sys_4789')).toHaveLength(1);
    // Deleting it: the compat vport takes its device with it, so port_del's RTM_DELLINK finds none (ENODEV,
    // which dpif_netlink_port_del__() returns, as it does here).
    expect((await rejection(dpif.portDel(vx1), DpifError)).errno).toBe(Errno.ENODEV);
    expect((await dpif.portDump()).map((p) => p.name)).not.toContain('vxlan_sys_4789');
    await dpif.portDel(gn);
    await dpif.portDel(gr);
    expect(ns.byIfname('vxlan_sys_4789')).toBeUndefined(); // RTM_DELLINK after the vport
    expect(ns.byIfname('gre_sys')).toBeUndefined();
  });

  it('falls back to the compat vport type when the kernel refuses the device', async () => {
    const opts = { ...setupOpts, socket: async (protocol: number) => kernel.socket({ protocol }) };
    await dpif.close();
    // A kernel whose rtnetlink cannot make vxlan devices: refuse RTM_NEWLINK by taking NETLINK_ROUTE away.
    kernel.setProtocolHandler(0, () => -Errno.EOPNOTSUPP);
    dpif = await DpifNetlink.open('dp0', opts, false);
    const n = await dpif.portAdd({ name: 'vx0', type: 'vxlan', tunnel: { dstPort: 4789 } });
    expect(await dpif.portQueryByNumber(n)).toMatchObject({ name: 'vxlan_sys_4789', type: 'vxlan', portNo: n });
    // EOPNOTSUPP is the expected "no rtnetlink device for this" answer: OVS falls back without a warning.
    expect(logs.filter((l) => l.includes('Failed to create'))).toEqual([]);
  });

  it('a compat tunnel whose vport module is not loaded yet: the kernel loads it and restarts (EAGAIN inside); one that cannot be loaded is EAFNOSUPPORT', async () => {
    await dpif.close();
    dpif = await DpifNetlink.open('dp0', { ...setupOpts, tunnels: 'compat' }, false);
    const vxlan = kernel.ovs!.modules.module(OVS_VPORT_TYPE.VXLAN)!;
    expect(vxlan.loaded).toBe(false);
    const n = await dpif.portAdd({ name: 'vx0', type: 'vxlan', tunnel: { dstPort: 4789 } });
    expect(vxlan.loaded).toBe(true);
    expect(await dpif.portQueryByNumber(n)).toMatchObject({ name: 'vxlan_sys_4789', type: 'vxlan' });
    kernel.ovs!.modules.module(OVS_VPORT_TYPE.GENEVE)!.failLoad = true;
    expect((await rejection(dpif.portAdd({ name: 'gnv0', type: 'geneve', tunnel: { dstPort: 6081 } }), DpifError)).errnoName).toBe('EAFNOSUPPORT');
  });

  it('port dump: multi-part (several datagrams), read as it arrives; stopping early leaves the socket ready', async () => {
    for (let i = 0; i < 300; i++) await dpif.portAdd({ name: `dmp${i}`, type: 'internal' });
    const all = await dpif.portDump();
    expect(all).toHaveLength(301); // dp0 and the 300 internal ports
    expect(new Set(all.map((p) => p.portNo)).size).toBe(301);
    const firstFew: string[] = [];
    for await (const p of dpif.portDumpStart()) {
      firstFew.push(p.name);
      if (firstFew.length === 5) break;
    }
    expect(firstFew).toEqual(all.slice(0, 5).map((p) => p.name));
    // The rest of that dump was drained: the next request gets its own answer.
    expect(await dpif.portQueryByName('dmp299')).toMatchObject({ name: 'dmp299', type: 'internal' });
    expect(await dpif.portDump()).toHaveLength(301);
  });

  it('LRO is turned off on a netdev port whose device has it on (netdev_linux_ethtool_set_flag, over ethtool netlink)', async () => {
    const dev = kernel.initNet.addDevice({ name: 'nic0', kind: 'dummy' });
    offerFeatures(dev, featureMask(NETIF_F_BIT.LRO));
    expect(dev.features & featureMask(NETIF_F_BIT.LRO)).not.toBe(0n);
    await dpif.portAdd({ name: 'nic0', type: 'system' });
    expect(dev.features & featureMask(NETIF_F_BIT.LRO)).toBe(0n);
    // A device whose LRO is off already (a veth, a dummy) is only read.
    const plain = kernel.initNet.addDevice({ name: 'plain0', kind: 'dummy' });
    await dpif.portAdd({ name: 'plain0', type: 'system' });
    expect(plain.features & featureMask(NETIF_F_BIT.LRO)).toBe(0n);
  });

  it('per-CPU dispatch: ports get upcall pid 0 and no channels', async () => {
    const n = await dpif.portAdd({ name: 'veth0', type: 'system' });
    expect(kernel.ovs!.datapaths()[0]!.ports.get(n)!.upcallPids).toEqual([0]);
    expect(dpif.channelPids(n)).toEqual([]);
  });

  it('a requested port number is honoured; in use it is EBUSY, logged as OVS logs it', async () => {
    expect(await dpif.portAdd({ name: 'veth0', type: 'system' }, 7)).toBe(7);
    expect((await rejection(dpif.portAdd({ name: 'veth2', type: 'system' }, 7), DpifError)).errno).toBe(Errno.EBUSY);
    expect(logs).toContain('dpif_netlink|INFO|system@dp0: requested port 7 is in use');
    expect((await rejection(dpif.portAdd({ name: 'veth2', type: 'system' }, 65535), DpifError)).errno).toBe(Errno.EFBIG);
  });

  it("an unsupported type is EINVAL with OVS's warning, and nothing reaches the kernel", async () => {
    const err = await rejection(dpif.portAdd({ name: 'p0', type: 'patch' }), DpifError);
    expect(err.errno).toBe(Errno.EINVAL);
    expect(logs).toContain("dpif_netlink|WARN|system@dp0: cannot create port `p0' because it has unsupported type `patch'");
    expect(kernel.ovs!.datapaths()[0]!.ports.length).toBe(1);
  });

  it('kernel errors carry the errno name and number: an absent device is ENODEV', async () => {
    const err = await rejection(dpif.portAdd({ name: 'nosuchdev', type: 'system' }), DpifError);
    expect(err.errno).toBe(Errno.ENODEV);
    expect(err.errnoName).toBe('ENODEV');
    expect(err.text).toBe('No such device');
  });

  it('port_poll: resync first, then the names of changed ports of this datapath', async () => {
    expect(await dpif.portPoll()).toEqual({ kind: 'resync' });
    expect(await dpif.portPoll()).toEqual({ kind: 'none' });
    await dpif.portAdd({ name: 'veth0', type: 'system' });
    await dpif.portAdd({ name: 'int1', type: 'internal' });
    expect(await dpif.portPoll()).toEqual({ kind: 'changed', name: 'veth0' });
    expect(await dpif.portPoll()).toEqual({ kind: 'changed', name: 'int1' });
    expect(await dpif.portPoll()).toEqual({ kind: 'none' });
  });

  it('handlers: per-CPU dispatch sends one handler socket per CPU as OVS_DP_ATTR_PER_CPU_PIDS', async () => {
    await dpif.handlersSet(2);
    expect(kernel.ovs!.datapaths()[0]!.perCpuPids).toEqual(dpif.handlerPids);
    expect(dpif.handlerPids).toHaveLength(2);
  });

  it('port_poll: an overflowing notification socket (ENOBUFS) asks for a resync', async () => {
    await dpif.close();
    // Sockets with a tiny receive buffer: a burst of notifications overflows the poll socket.
    dpif = await DpifNetlink.open('dp0', { ...setupOpts, socket: async (protocol) => kernel.socket({ protocol, rcvbuf: 1500 }) }, false);
    expect(await dpif.portPoll()).toEqual({ kind: 'resync' });
    for (const name of ['veth0', 'veth2', 'd0']) await dpif.portAdd({ name, type: 'system' });
    expect(await dpif.portPoll()).toEqual({ kind: 'resync' });
  });

  it('get_stats reads the datapath counters and masks cache size', async () => {
    expect(await dpif.getStats()).toMatchObject({ nHit: 0n, nMissed: 0n, nLost: 0n, nFlows: 0n, masksCacheSize: 256 });
  });
});

describe('per-vport dispatch', () => {
  it('gives each port one upcall socket per handler; a channel failure deletes the kernel port and closes them', async () => {
    const opts = { ...setup(), dispatch: 'per-vport' as const, nHandlers: 2 };
    const dpif = await DpifNetlink.open('dp0', opts, true);
    expect(dpif.perCpu).toBe(false);
    const n = await dpif.portAdd({ name: 'veth0', type: 'system' });
    const pids = dpif.channelPids(n);
    expect(pids).toHaveLength(2);
    expect(kernel.ovs!.datapaths()[0]!.ports.get(n)!.upcallPids).toEqual(pids);

    // handlers_set() refreshes the existing ports' upcall pids (at most one per CPU on this kernel).
    await dpif.handlersSet(1);
    expect(kernel.ovs!.datapaths()[0]!.ports.get(n)!.upcallPids).toEqual(dpif.channelPids(n));
    expect(dpif.channelPids(n)).toHaveLength(1);
    await dpif.handlersSet(2);
    // vport_add_channel() fails (say, out of memory) for the next port.
    Object.defineProperty(dpif, 'addChannels', {
      value() {
        throw new DpifError(Errno.ENOMEM, undefined, 'vport_add_channel');
      },
    });
    const before = [...kernel.openSockets].length;
    expect((await rejection(dpif.portAdd({ name: 'veth2', type: 'system' }), DpifError)).errno).toBe(Errno.ENOMEM);
    expect(kernel.ovs!.locate(kernel.initNet, 'veth2')).toBeUndefined(); // rolled back in the kernel
    expect([...kernel.openSockets].length).toBe(before); // and the two upcall sockets closed
    await dpif.close();
  });

  it('a port whose second upcall socket cannot be made (socket() fails: ENOMEM) leaves no socket and no vport', async () => {
    const base = setup();
    let calls = 0;
    let failAt = Infinity;
    const opts: DpifNetlinkOptions = {
      ...base,
      dispatch: 'per-vport',
      nHandlers: 2,
      socket: async (protocol) => {
        if (++calls === failAt) throw new DpifError(Errno.ENOMEM, undefined, 'netlink_create');
        return base.socket(protocol);
      },
    };
    const dpif = await DpifNetlink.open('dp0', opts, true);
    const before = [...kernel.openSockets].length;
    failAt = calls + 2;
    expect((await rejection(dpif.portAdd({ name: 'veth0', type: 'system' }), DpifError)).errno).toBe(Errno.ENOMEM);
    expect(kernel.ovs!.locate(kernel.initNet, 'veth0')).toBeUndefined();
    expect([...kernel.openSockets].length).toBe(before);
    // The fault gone, the same port goes in.
    expect(await dpif.portAdd({ name: 'veth0', type: 'system' })).toBe(1);
    // handlers_set() failing half-way leaves the ports' sockets as they were and no new one open.
    const pids = dpif.channelPids(1);
    const open = [...kernel.openSockets].length;
    failAt = calls + 2;
    expect((await rejection(dpif.handlersSet(2), DpifError)).errno).toBe(Errno.ENOMEM);
    expect(dpif.channelPids(1)).toEqual(pids);
    expect([...kernel.openSockets].length).toBe(open);
    await dpif.close();
  });
});

describe('over the ovs-kernel daemon', () => {
  it('adds and deletes ports through the unix socket, state kept between connections', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpif-'));
    const socketPath = join(dir, 'k.sock');
    const daemon = await startDaemon({ socketPath });
    try {
      daemon.kernel.initNet.addDevice({ name: 'veth0', kind: 'dummy' });
      const opts: DpifNetlinkOptions = { socket: (protocol): Promise<NetlinkSocket> => connectUnixNetlink(socketPath, { protocol }) };
      const a = await DpifNetlink.open('dp0', opts, true);
      expect(await a.portAdd({ name: 'veth0', type: 'system' })).toBe(1);
      await a.close();
      const b = await DpifNetlink.open('dp0', opts, false);
      expect((await b.portDump()).map((p) => p.name)).toEqual(['dp0', 'veth0']);
      await b.portDel(1);
      await b.destroy();
      await b.close();
      expect(daemon.kernel.ovs!.datapaths()).toHaveLength(0);
    } finally {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a restarted daemon is a new kernel behind the same sockets, as a module reload is on Linux: the datapath is gone (ENODEV), notifications were lost (resync)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpif-'));
    const socketPath = join(dir, 'k.sock');
    let daemon = await startDaemon({ socketPath });
    try {
      const opts: DpifNetlinkOptions = { socket: (protocol): Promise<NetlinkSocket> => connectUnixNetlink(socketPath, { protocol }) };
      const dpif = await DpifNetlink.open('ovs-system', opts, true);
      expect(await dpif.portAdd({ name: 'int0', type: 'internal' })).toBe(1);
      expect(await dpif.portPoll()).toEqual({ kind: 'resync' });
      expect(await dpif.portPoll()).toEqual({ kind: 'none' });
      await daemon.close();
      // While it is down: the transport's error (the request in flight reset, or no daemon to connect to), as a DpifError.
      expect([Errno.ECONNRESET, Errno.ENOENT]).toContain((await rejection(dpif.portQueryByName('int0'), DpifError)).errno);
      expect((await rejection(dpif.portQueryByName('int0'), DpifError)).errno).toBe(Errno.ENOENT);
      daemon = await startDaemon({ socketPath });
      // The next requests reach the new kernel, which has no such datapath (what OVS 3.1 gets after `ovs-dpctl del-dp`).
      expect((await rejection(dpif.portQueryByName('int0'), DpifError)).errno).toBe(Errno.ENODEV);
      expect((await rejection(dpif.portAdd({ name: 'int1', type: 'internal' }), DpifError)).errno).toBe(Errno.ENODEV);
      expect(await dpif.provider.enumerate()).toEqual([]);
      // The port notifications missed while reconnecting: the poller is told to look at every port again.
      // (Its socket reconnects in the background on the first poll; until then nothing can have arrived.)
      let polled = await dpif.portPoll();
      for (let i = 0; i < 200 && polled.kind === 'none'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        polled = await dpif.portPoll();
      }
      expect(polled).toEqual({ kind: 'resync' });
      expect(await dpif.portPoll()).toEqual({ kind: 'none' });
      // A datapath made anew is usable through the same provider.
      const again = await dpif.provider.open('ovs-system', true);
      expect(await again.portAdd({ name: 'int0', type: 'internal' })).toBe(1);
      expect(daemon.kernel.ovs!.datapaths().map((d) => d.name)).toEqual(['ovs-system']);
      await again.close();
      await dpif.close();
      for (let i = 0; i < 100 && daemon.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(daemon.connections).toBe(0); // nothing left open
    } finally {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("over AF_NETLINK on this machine's kernel (no openvswitch module)", () => {
  it('DpifNetlink.open() says the openvswitch module is not loaded (ENOENT)', async () => {
    // A kernel with the module loaded would really create dp0: that case is the kernel lab's.
    const sockets: NetlinkSocket[] = [];
    const factory = async (protocol: number): Promise<NetlinkSocket> => {
      const s = await openNetlinkSocket(protocol);
      sockets.push(s);
      return s;
    };
    const err = await DpifNetlink.open('dp0', { socket: factory }, true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DpifError);
    expect((err as DpifError).errno).toBe(Errno.ENOENT);
    expect((err as DpifError).message).toMatch(/the openvswitch kernel module is not loaded/);
    // open() closed its sockets (generic netlink and rtnetlink) on the way out.
    expect(sockets.map((s) => s.protocol)).toEqual([16, 0]);
    for (const s of sockets) expect(() => s.tryRecv!()).toThrow(expect.objectContaining({ errno: Errno.EBADF }));
  });
});
