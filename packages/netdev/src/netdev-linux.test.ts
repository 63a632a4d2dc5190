/**
 * system / internal / tap netdevs over the kernel model's rtnetlink: the
 * device must exist, MAC, MTU, carrier, stats and status from the model,
 * and the LinkWatcher keeping the caches and change sequence numbers
 * current from RTNLGRP_LINK notifications.
 */
import { Errno, IFF, NLM_F, NetlinkProtocol, RTM, type RtnlLinkMessage, newFamilyTable, strerror } from '@ovs/genl-codec';
import { Kernel } from '@ovs/kernel-datapath';
import { NlSockError as DpifError, NlSock } from '@ovs/netlink-socket';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  LinkWatcher,
  NetdevRegistry,
  type VportStats,
  netdevGetCarrier,
  netdevGetChangeSeq,
  netdevGetEtheraddr,
  netdevGetFeatures,
  netdevGetMtu,
  netdevGetStats,
  netdevGetStatus,
  netdevSetEtheraddr,
  netdevSetMtu,
  registerNetdevClasses,
} from './index.js';

let kernel: Kernel;
let registry: NetdevRegistry;
let logs: string[];
/** The datapath's vports as the registry's vport_get sees them: name -> counters (absent: ENODEV, not a vport). */
let vports: Map<string, VportStats>;
/** Requests the registry sent, by type. */
let sent: number[];
let admin: NlSock;

const vportStats = (n: bigint): VportStats => ({
  rxPackets: n,
  txPackets: 2n * n,
  rxBytes: 3n * n,
  txBytes: 4n * n,
  rxErrors: 0n,
  txErrors: 0n,
  rxDropped: 1n,
  txDropped: 0n,
});

beforeEach(async () => {
  kernel = new Kernel();
  kernel.initNet.addDevice({ name: 'eth0', kind: 'dummy', mac: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56) });
  logs = [];
  sent = [];
  vports = new Map();
  const sock = await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE });
  const counted = Object.create(sock) as typeof sock;
  counted.send = (d: Uint8Array) => {
    sent.push(new DataView(d.buffer, d.byteOffset).getUint16(4, true));
    return sock.send(d);
  };
  registry = new NetdevRegistry(
    new NlSock(counted, newFamilyTable()),
    async (name) => {
      const stats = vports.get(name);
      if (!stats) throw new DpifError(Errno.ENODEV);
      return { stats };
    },
    (level, module, text) => logs.push(`${module}|${level}|${text}`),
  );
  registerNetdevClasses(registry);
  admin = new NlSock(await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }), newFamilyTable());
});

/** `ip link set NAME [up] [mtu N]` through rtnetlink. */
async function ipLinkSet(name: string, opts: { up?: boolean; mtu?: number }): Promise<void> {
  const msg: RtnlLinkMessage = {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type: RTM.SETLINK, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 0, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: opts.up ? IFF.UP : 0, change: opts.up === undefined ? 0 : IFF.UP },
    attrs: { ifname: name, ...(opts.mtu ? { mtu: opts.mtu } : {}) },
  };
  await admin.transact(msg);
}

describe('opening', () => {
  it('a system device that does not exist: ENODEV ("No such device", the bridge\'s "could not open network device X" text)', async () => {
    const err = await registry.open('nosuchdev0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DpifError);
    expect((err as DpifError).errno).toBe(Errno.ENODEV);
    expect(strerror((err as DpifError).errno)).toBe('No such device');
    expect(registry.get('nosuchdev0')).toBeUndefined();
  });

  it('an internal device may not exist yet; a vport type needs no device', async () => {
    expect((await registry.open('br0', 'internal')).type).toBe('internal');
    expect((await registry.open('vx', 'vxlan')).type).toBe('vxlan');
  });
});

describe('device state from the kernel', () => {
  it('MAC and MTU: one RTM_GETLINK, then the cache', async () => {
    const dev = await registry.open('eth0', 'system');
    sent.length = 0;
    expect(await netdevGetEtheraddr(registry, dev)).toEqual(Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56));
    expect(await netdevGetMtu(registry, dev)).toBe(1500);
    expect(sent).toEqual([RTM.GETLINK]);
    expect(dev.ifindex).toBe(kernel.initNet.byIfname('eth0')!.ifindex);
  });

  it('carrier: IFF_RUNNING of the flags seen at open; vports always have one', async () => {
    const down = await registry.open('eth0');
    expect(await netdevGetCarrier(registry, down)).toBe(false);
    await ipLinkSet('eth0', { up: true });
    registry.close(down);
    const up = await registry.open('eth0');
    expect(up).not.toBe(down);
    expect(await netdevGetCarrier(registry, up)).toBe(true);
    expect(await netdevGetCarrier(registry, await registry.open('p', 'patch'))).toBe(true);
  });

  it('vport classes: no MTU, their own MAC, userspace counters', async () => {
    const vx = await registry.open('vx', 'vxlan');
    expect(await netdevGetMtu(registry, vx)).toBeUndefined();
    expect(await netdevGetStats(registry, vx)).toEqual({ rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n });
  });

  it('status: the link kind as driver for system devices, openvswitch for internal ones', async () => {
    expect(await netdevGetStatus(registry, await registry.open('eth0'))).toEqual({ driver_name: 'dummy' });
    expect(await netdevGetStatus(registry, await registry.open('br0', 'internal'))).toEqual({ driver_name: 'openvswitch' });
    expect(await netdevGetStatus(registry, await registry.open('vx', 'vxlan'))).toEqual({});
  });
});

describe('stats', () => {
  it("system device in the datapath: the vport counters, the link's error details added", async () => {
    const d = kernel.initNet.byIfname('eth0')!;
    Object.assign(d.stats, { rxPackets: 100n, txPackets: 200n });
    vports.set('eth0', vportStats(5n));
    const s = await netdevGetStats(registry, await registry.open('eth0'));
    expect(s).toMatchObject({ rxPackets: 5n, txPackets: 10n, rxBytes: 15n, txBytes: 20n, rxDropped: 1n, collisions: 0n, rxOverErrors: 0n });
  });

  it("system device that is no vport: the link's counters, and no second vport_get until the device changes", async () => {
    Object.assign(kernel.initNet.byIfname('eth0')!.stats, { rxPackets: 100n, txPackets: 200n, rxBytes: 1000n });
    const dev = await registry.open('eth0');
    let asked = 0;
    const get = registry.vportGet;
    Object.defineProperty(registry, 'vportGet', {
      value: (n: string) => {
        asked++;
        return get(n);
      },
    });
    expect(await netdevGetStats(registry, dev)).toMatchObject({ rxPackets: 100n, txPackets: 200n, rxBytes: 1000n });
    await netdevGetStats(registry, dev);
    expect(asked).toBe(1);
    expect(logs).toEqual([]); // ENODEV is no reason to warn
  });

  it('internal ports: the vport counters only; none is an error', async () => {
    const br = await registry.open('br0', 'internal');
    await expect(netdevGetStats(registry, br)).rejects.toMatchObject({ errno: Errno.ENODEV });
    vports.set('br0', vportStats(1n));
    const fresh = await registry.open('br1', 'internal');
    vports.set('br1', vportStats(7n));
    expect(await netdevGetStats(registry, fresh)).toMatchObject({ rxPackets: 7n, txPackets: 14n, multicast: 0n });
  });
});

describe('LinkWatcher', () => {
  async function watched() {
    const watcher = await LinkWatcher.open(registry, await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }));
    vports.set('eth0', vportStats(0n)); // in the datapath: its namespace is known (local)
    const dev = await registry.open('eth0');
    expect(await netdevGetMtu(registry, dev)).toBe(1500);
    return { watcher, dev };
  }

  it('an MTU change notified on RTNLGRP_LINK: new MTU without asking, change seq bumped', async () => {
    const { watcher, dev } = await watched();
    const seq = netdevGetChangeSeq(dev);
    await ipLinkSet('eth0', { mtu: 9000 });
    expect(await watcher.run()).toEqual([dev]);
    expect(netdevGetChangeSeq(dev)).toBeGreaterThan(seq);
    sent.length = 0;
    expect(await netdevGetMtu(registry, dev)).toBe(9000);
    expect(sent).toEqual([]);
    expect(await watcher.run()).toEqual([]);
    await watcher.close();
  });

  it('carrier follows the notifications and its flips are counted', async () => {
    const { watcher, dev } = await watched();
    await ipLinkSet('eth0', { up: true });
    await watcher.run();
    expect(await netdevGetCarrier(registry, dev)).toBe(true);
    await ipLinkSet('eth0', { up: false });
    await watcher.run();
    expect(await netdevGetCarrier(registry, dev)).toBe(false);
    expect(dev.carrierResets).toBe(2);
    await watcher.close();
  });

  it('a deleted device: everything forgotten, its namespace unknown again', async () => {
    const { watcher, dev } = await watched();
    const seq = netdevGetChangeSeq(dev);
    kernel.initNet.removeDevice(kernel.initNet.byIfname('eth0')!);
    expect(await watcher.run()).toEqual([dev]);
    expect(netdevGetChangeSeq(dev)).toBeGreaterThan(seq);
    expect(dev).toMatchObject({ mtu: undefined, mac: undefined, ifindex: undefined, netnsid: 'unset' });
    await expect(netdevGetMtu(registry, dev)).rejects.toMatchObject({ errno: Errno.ENODEV });
    await watcher.close();
  });

  it('as in OVS, a device whose namespace is unknown (not a vport: ENODEV) is not updated', async () => {
    const watcher = await LinkWatcher.open(registry, await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }));
    const dev = await registry.open('eth0');
    const seq = netdevGetChangeSeq(dev);
    await ipLinkSet('eth0', { mtu: 9000 });
    expect(await watcher.run()).toEqual([]);
    expect(netdevGetChangeSeq(dev)).toBe(seq);
    await watcher.close();
  });

  it('an overrun queue (ENOBUFS): every Linux netdev starts over', async () => {
    const watcher = await LinkWatcher.open(registry, await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE, rcvbuf: 2048 }));
    vports.set('eth0', vportStats(0n));
    const dev = await registry.open('eth0');
    await netdevGetMtu(registry, dev);
    const seq = netdevGetChangeSeq(dev);
    for (let i = 0; i < 40; i++) await ipLinkSet('eth0', { mtu: 1400 + i });
    const changed = await watcher.run();
    expect(changed).toContain(dev);
    expect(netdevGetChangeSeq(dev)).toBeGreaterThan(seq);
    expect(await netdevGetMtu(registry, dev)).toBe(1439);
    await watcher.close();
  });
});

describe('setting MTU and MAC, reading link modes (netdev_set_mtu, netdev_set_etheraddr, netdev_get_features)', () => {
  async function devs() {
    return {
      netdevs: registry,
      rtnl: new NlSock(await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }), newFamilyTable()),
      sock: new NlSock(await kernel.socket({ protocol: NetlinkProtocol.NETLINK_GENERIC }), newFamilyTable()),
    };
  }

  it('netdev_set_mtu: RTM_SETLINK, then the cache holds it and the same MTU again sends nothing; errors returned and logged as OVS', async () => {
    const d = await devs();
    const dev = await registry.open('eth0');
    expect(await netdevSetMtu(d, dev, 9000)).toBe(0);
    expect(kernel.initNet.byIfname('eth0')!.mtu).toBe(9000);
    kernel.initNet.byIfname('eth0')!.mtu = 1500; // behind the cache's back: not asked again
    expect(await netdevSetMtu(d, dev, 9000)).toBe(0);
    expect(kernel.initNet.byIfname('eth0')!.mtu).toBe(1500);
    // Linux's dev_validate_mtu(): under a veth's min_mtu (ETH_MIN_MTU, 68) is EINVAL.
    kernel.initNet.addDevice({ name: 'v0', kind: 'veth' });
    expect(await netdevSetMtu(d, await registry.open('v0'), 67)).toBe(Errno.EINVAL);
    expect(logs).toContain('netdev|WARN|failed to set MTU for network device v0: Invalid argument');
    const vx = await registry.open('vx0', 'vxlan');
    expect(await netdevSetMtu(d, vx, 1400)).toBe(Errno.EOPNOTSUPP);
  });

  it('netdev_set_etheraddr: the device takes the MAC, the cache too', async () => {
    const d = await devs();
    const dev = await registry.open('eth0');
    const mac = Uint8Array.of(2, 0, 0, 0, 0, 0x42);
    expect(await netdevSetEtheraddr(d, dev, mac)).toBe(0);
    expect([...kernel.initNet.byIfname('eth0')!.mac]).toEqual([...mac]);
    expect([...(await netdevGetEtheraddr(registry, dev))!]).toEqual([...mac]);
  });

  it('netdev_get_features over ETHTOOL_MSG_LINKMODES_GET: a veth 10 Gb/s full duplex (as the lab kernel reports it), a dummy none (EOPNOTSUPP)', async () => {
    const d = await devs();
    kernel.initNet.addDevice({ name: 'v0', kind: 'veth' });
    expect(await netdevGetFeatures(d, await registry.open('v0'))).toEqual({ bps: 10_000_000_000, fullDuplex: true });
    await expect(netdevGetFeatures(d, await registry.open('eth0'))).rejects.toMatchObject({ errno: Errno.EOPNOTSUPP });
  });
});
