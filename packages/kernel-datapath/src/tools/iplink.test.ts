/**
 * The ip link helpers end to end: requests in bytes over a NetlinkSocket to
 * the model's rtnetlink, answers parsed back, errors as NetlinkErrnoError,
 * and the text `ip link show` prints.
 */
import { Errno, IFF, IF_OPER, NetlinkErrnoError, NetlinkProtocol, type NetlinkSocket } from '@ovs/genl-codec';
import { describe, expect, it } from 'vitest';
import { formatIpLink, ipLinkAdd, ipLinkDel, ipLinkSet, ipLinkShow } from './iplink.js';
import { Kernel } from '../kernel.js';
import type { KernelSocket } from '../net/netlink/af_netlink.js';
import { registerRtnetlink } from '../net/core/rtnetlink.js';

/**
 * A NetlinkSocket that is only bytes: copies each datagram both ways and has
 * no tryRecv, as a socket over a wire would (the helpers must not depend on
 * KernelSocket).
 */
class WireSocket implements NetlinkSocket {
  constructor(private readonly inner: KernelSocket) {}
  get protocol(): number {
    return this.inner.protocol;
  }
  get portId(): number {
    return this.inner.portId;
  }
  async send(datagram: Uint8Array): Promise<void> {
    await this.inner.send(Uint8Array.from(datagram));
  }
  async recv(): Promise<Uint8Array> {
    return Uint8Array.from(await this.inner.recv());
  }
  async joinGroup(group: number): Promise<void> {
    await this.inner.joinGroup(group);
  }
  async leaveGroup(group: number): Promise<void> {
    await this.inner.leaveGroup(group);
  }
  async close(): Promise<void> {
    await this.inner.close();
  }
}

function setup(opts: ConstructorParameters<typeof Kernel>[0] = {}, sock: { capNetAdmin?: boolean } = {}): { k: Kernel; sock: WireSocket } {
  const k = new Kernel(opts);
  registerRtnetlink(k);
  return { k, sock: new WireSocket(k.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE, ...sock })) };
}

async function rejection(p: Promise<unknown>): Promise<NetlinkErrnoError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NetlinkErrnoError) return err;
    throw err;
  }
  throw new Error('expected a NetlinkErrnoError');
}

describe('ip link helpers', () => {
  it('adds a dummy and a veth pair, and shows them as `ip link show` prints them', async () => {
    const { sock } = setup();
    await ipLinkAdd(sock, 'dummy0', 'dummy');
    await ipLinkAdd(sock, 'veth0', 'veth', { peer: 'veth1' });
    await ipLinkSet(sock, 'veth0', { up: true });
    await ipLinkSet(sock, 'veth1', { up: true });
    const links = await ipLinkShow(sock);
    expect(links.map((l) => [l.ifindex, l.name, l.kind])).toEqual([
      [1, 'lo', undefined],
      [2, 'dummy0', 'dummy'],
      [3, 'veth1', 'veth'],
      [4, 'veth0', 'veth'],
    ]);
    expect(formatIpLink(links)).toBe(
      [
        '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
        '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
        '2: dummy0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000',
        '    link/ether 02:4f:56:00:00:02 brd ff:ff:ff:ff:ff:ff',
        '3: veth1@veth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000',
        '    link/ether 02:4f:56:00:00:03 brd ff:ff:ff:ff:ff:ff',
        '4: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000',
        '    link/ether 02:4f:56:00:00:04 brd ff:ff:ff:ff:ff:ff',
        '',
      ].join('\n'),
    );
  });

  it('shows one link by name, with NO-CARRIER and M-DOWN while the peer is down', async () => {
    const { sock } = setup();
    await ipLinkAdd(sock, 'veth0', 'veth', { peer: 'veth1' });
    await ipLinkSet(sock, 'veth0', { up: true, mtu: 9000 });
    const [v0] = await ipLinkShow(sock, 'veth0');
    expect(v0).toMatchObject({ name: 'veth0', mtu: 9000, operstate: IF_OPER.LOWERLAYERDOWN, carrier: false, link: 2, kind: 'veth', minMtu: 68, maxMtu: 65535 });
    expect(v0!.flags).toBe(IFF.UP | IFF.BROADCAST | IFF.MULTICAST);
    const both = await ipLinkShow(sock);
    expect(
      formatIpLink(
        both.filter((l) => l.name === 'veth0'),
        { names: new Map([[2, 'veth1']]) },
      ),
    ).toBe(
      '3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 9000 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000\n' +
        '    link/ether 02:4f:56:00:00:03 brd ff:ff:ff:ff:ff:ff\n',
    );
    expect(formatIpLink(both).split('\n')[4]).toBe(
      '3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 9000 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000',
    );
    // A peer it knows nothing about prints as ifN.
    expect(formatIpLink([v0!]).split('\n')[0]).toMatch(/^3: veth0@if2: /);
    await ipLinkSet(sock, 'veth0', { up: false });
    const [down] = await ipLinkShow(sock, 'veth0');
    expect(down!.flags & IFF.UP).toBe(0);
  });

  it('lets the kernel name the peer when none is given, and deletes the pair with either end', async () => {
    const { k, sock } = setup();
    await ipLinkAdd(sock, 'v0', 'veth');
    expect([...k.initNet.devices].map((d) => d.name)).toEqual(['lo', 'veth0', 'v0']);
    await ipLinkDel(sock, 'veth0');
    expect([...k.initNet.devices].map((d) => d.name)).toEqual(['lo']);
  });

  it('turns kernel errors into NetlinkErrnoError with the errno and the extended ack', async () => {
    const { sock } = setup();
    await ipLinkAdd(sock, 'd0', 'dummy');
    expect(await rejection(ipLinkAdd(sock, 'd0', 'dummy'))).toMatchObject({ errno: Errno.EEXIST, code: 'EEXIST' });
    const unknown = await rejection(ipLinkAdd(sock, 'x0', 'bogus' as 'dummy'));
    expect(unknown).toMatchObject({ errno: Errno.EOPNOTSUPP, extackMessage: 'Unknown device type' });
    expect(await rejection(ipLinkDel(sock, 'nope'))).toMatchObject({ errno: Errno.ENODEV });
    expect(await rejection(ipLinkDel(sock, 'lo'))).toMatchObject({ errno: Errno.EOPNOTSUPP });
    expect(await rejection(ipLinkShow(sock, 'nope'))).toMatchObject({ errno: Errno.ENODEV });
    await ipLinkAdd(sock, 'v0', 'veth', { peer: 'v1' });
    expect(await rejection(ipLinkSet(sock, 'v0', { mtu: 70000 }))).toMatchObject({ errno: Errno.EINVAL, extackMessage: 'mtu greater than device maximum' });
    expect(await rejection(ipLinkAdd(sock, 'this-name-is-too-long', 'dummy'))).toMatchObject({
      errno: Errno.ERANGE,
      extackMessage: 'Attribute failed policy validation',
      extackOffset: 32,
    });
  });

  it('needs CAP_NET_ADMIN to change links, not to show them', async () => {
    const { sock } = setup({}, { capNetAdmin: false });
    expect(await rejection(ipLinkAdd(sock, 'd0', 'dummy'))).toMatchObject({ errno: Errno.EPERM });
    expect((await ipLinkShow(sock)).map((l) => l.name)).toEqual(['lo']);
  });

  it('skips notifications read while waiting, even those carrying its own sequence number', async () => {
    const { k, sock } = setup();
    await sock.joinGroup(1);
    await ipLinkAdd(sock, 'veth0', 'veth', { peer: 'veth1' });
    await ipLinkSet(sock, 'veth0', { up: true });
    const shown = await ipLinkShow(sock, 'veth1');
    expect(shown.map((l) => l.name)).toEqual(['veth1']);
    const all = await ipLinkShow(sock);
    expect(all.map((l) => l.name)).toEqual(['lo', 'veth1', 'veth0']);
    await ipLinkDel(sock, 'veth0');
    expect((await ipLinkShow(sock)).map((l) => l.name)).toEqual(['lo']);
    // Other sockets' traffic does not get in the way either.
    const other = new WireSocket(k.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }));
    await ipLinkAdd(other, 'd0', 'dummy');
    expect((await ipLinkShow(sock, 'd0'))[0]!.kind).toBe('dummy');
  });

  it('reads a dump spanning many datagrams to its end', async () => {
    const { sock } = setup({ dumpChunkSize: 700 });
    for (let i = 0; i < 25; i++) await ipLinkAdd(sock, `d${i}`, 'dummy');
    const links = await ipLinkShow(sock);
    expect(links.map((l) => l.name)).toEqual(['lo', ...Array.from({ length: 25 }, (_, i) => `d${i}`)]);
    expect(formatIpLink(links).split('\n')).toHaveLength(2 * 26 + 1);
  });

  it('prints tunnels as iproute2 does: a gre with its endpoints, a gretap linked to NONE', async () => {
    const { k, sock } = setup();
    const ns = k.initNet;
    ns.addDevice({ name: 'ovs-system', kind: 'openvswitch' });
    const d = ns.addDevice({ name: 'p0', kind: 'dummy' });
    d.master = ns.byIfname('ovs-system');
    ns.changed(d);
    const links = await ipLinkShow(sock);
    expect(formatIpLink(links).split('\n')[4]).toBe(
      '3: p0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master ovs-system state DOWN mode DEFAULT group default qlen 1000',
    );
    expect(links[2]!.attrs.linkinfo).toEqual({ kind: 'dummy', slaveKind: 'openvswitch' });
    expect(
      formatIpLink([
        {
          ifindex: 7,
          name: 'gre1',
          flags: IFF.POINTOPOINT | IFF.NOARP | IFF.UP | IFF.RUNNING | IFF.LOWER_UP,
          type: 778,
          mtu: 1476,
          qdisc: 'fq_codel',
          operstate: IF_OPER.UNKNOWN,
          linkmode: 0,
          group: 0,
          txqlen: 1000,
          link: 0,
          address: Uint8Array.from([192, 0, 2, 9]),
          broadcast: Uint8Array.from([192, 0, 2, 3]),
          ifalias: 'to the lab',
          attrs: {},
        },
      ]),
    ).toBe(
      '7: gre1@NONE: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1476 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 1000\n' +
        '    link/gre 192.0.2.9 peer 192.0.2.3\n' +
        '    alias to the lab\n',
    );
  });
});
