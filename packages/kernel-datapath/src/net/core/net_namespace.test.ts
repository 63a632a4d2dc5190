/**
 * Namespaces (net/core/net_namespace.c) and moving devices between them
 * (dev_change_net_namespace() in dev.c, IFLA_NET_NS_FD / IFLA_NET_NS_PID /
 * IFLA_TARGET_NETNSID in rtnetlink.c), RTM_NEWNSID / RTM_GETNSID, and a
 * namespace's end (cleanup_net, default_device_exit, ovs_exit_net).
 *
 * What is expected is what Debian's 6.1.0-57 kernel did in the kernel lab
 * for the same steps, driven by iproute2 6.1 (src/testing/lab/netns.sh, its
 * output quoted beside each check): ifindexes kept across a move unless
 * taken, each namespace counting its own from 1, a new namespace's lo down,
 * lo and a datapath's own port refusing to move (EINVAL), a veth end moved
 * away taking its netdev vport with it, `ip netns del` taking a veth pair
 * with an end inside.
 */
import { readFileSync } from 'node:fs';
import { Errno, IFF, type Message, NLMSG_HDRLEN, NLM_F, NetlinkProtocol, OVS_VPORT_TYPE, RTM, type RtnlLinkMessage, decode, encode } from '@ovs/genl-codec';
import { describe, expect, it } from 'vitest';
import { Kernel } from '../../kernel.js';
import { TestClient, ask, datagrams, drain } from '../../testing/index.js';
import type { KernelSocket } from '../netlink/af_netlink.js';
import { NETNSA, rtnlNetFill } from './net_namespace.js';

const ROUTE = NetlinkProtocol.NETLINK_ROUTE;
const RTNLGRP_LINK = 1;
const RTNLGRP_NSID = 28;

function linkMsg(type: number, flags: number, seq: number, attrs: RtnlLinkMessage['attrs'], index = 0): Uint8Array {
  return Uint8Array.from(
    encode({
      kind: 'rtnl',
      protocol: ROUTE,
      header: { len: 0, type, flags: NLM_F.REQUEST | flags, seq, pid: 0 },
      family: 'link',
      ifinfomsg: { family: 0, pad: 0, type: 0, index, flags: 0, change: 0 },
      attrs,
    }),
  );
}

const veth = (name: string, peer: string, peerAttrs: RtnlLinkMessage['attrs'] = {}): RtnlLinkMessage['attrs'] => ({
  ifname: name,
  linkinfo: {
    kind: 'veth',
    data: { set: 'veth', attrs: { peer: { ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 }, attrs: { ifname: peer, ...peerAttrs } } } },
  },
});

function errorOf(msgs: Message[]): { error: number; msg?: string } {
  const e = msgs.find((m) => m.kind === 'error');
  if (e === undefined || e.kind !== 'error') throw new Error('no NLMSG_ERROR');
  return { error: e.error, ...(e.ext?.msg !== undefined ? { msg: e.ext.msg } : {}) };
}

const links = (msgs: Message[]): RtnlLinkMessage[] => msgs.filter((m): m is RtnlLinkMessage => m.kind === 'rtnl' && m.family === 'link');

function dump(s: KernelSocket): RtnlLinkMessage[] {
  s.sendSync(linkMsg(RTM.GETLINK, NLM_F.DUMP, 900, {}));
  return links(drain(s));
}

function monitor(k: Kernel, netns: string, group: number): KernelSocket {
  const s = k.socket({ protocol: ROUTE, netns });
  k.joinGroup(s, group);
  return s;
}

/** RTM_NEWNSID / RTM_DELNSID datagrams: [type, NETNSA_NSID]. */
function nsids(s: KernelSocket): Array<[number, number]> {
  return datagrams(s).map((d) => {
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    return [dv.getUint16(4, true), dv.getInt32(NLMSG_HDRLEN + 8, true)];
  });
}

function getNsid(s: KernelSocket, attr: number, value: number, seq: number): number | { error: number; msg?: string } {
  const len = NLMSG_HDRLEN + 12;
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, RTM.GETNSID, true);
  dv.setUint16(6, NLM_F.REQUEST, true);
  dv.setUint32(8, seq, true);
  dv.setUint16(NLMSG_HDRLEN + 4, 8, true);
  dv.setUint16(NLMSG_HDRLEN + 6, attr, true);
  dv.setInt32(NLMSG_HDRLEN + 8, value, true);
  s.sendSync(b);
  const [d] = datagrams(s);
  const r = decode(d!, { protocol: ROUTE });
  if (!r.ok) throw r.error;
  const m = r.messages[0]!;
  if (m.kind === 'error') return errorOf([m]);
  const rdv = new DataView(d!.buffer, d!.byteOffset, d!.byteLength);
  expect(m.header.type).toBe(RTM.NEWNSID);
  return rdv.getInt32(NLMSG_HDRLEN + 8, true);
}

describe('moving a device to another namespace', () => {
  it('ip link set v1 netns a: RTM_DELLINK here with NEW_NETNSID / NEW_IFINDEX, RTM_NEWLINK there, the ifindex kept, ids given', () => {
    const k = new Kernel();
    const a = k.netnsAdd('a');
    expect(a).not.toBeTypeOf('number');
    const s = k.socket({ protocol: ROUTE });
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, 1, veth('v0', 'v1'))))).toEqual({ error: 0 });
    const v1 = k.initNet.byIfname('v1')!;
    const index = v1.ifindex;
    const here = monitor(k, 'init', RTNLGRP_LINK);
    const there = monitor(k, 'a', RTNLGRP_LINK);
    const nsidHere = monitor(k, 'init', RTNLGRP_NSID);
    const fd = k.nsfsOpen('a');
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 2, { netNsFd: fd }, index)))).toEqual({ error: 0 });
    expect(v1.netns).toBe(a);
    // lab: "3: v1@if4: ... link-netnsid 0" in a, "4: v0@if3: ... link-netns a" here: v1 kept its index.
    expect(v1.ifindex).toBe(index);
    const del = links(drain(here)).filter((m) => m.header.type === RTM.DELLINK);
    expect(del).toHaveLength(1);
    expect(del[0]!.ifinfomsg.index).toBe(index);
    expect(del[0]!.attrs).toMatchObject({ ifname: 'v1', newNetnsid: 0, newIfindex: index });
    const added = links(drain(there));
    expect(added.map((m) => [m.header.type, m.ifinfomsg.index, m.attrs.ifname])).toEqual([[RTM.NEWLINK, index, 'v1']]);
    // v1's peer is in init, which a numbers 0; here a is numbered 0 (RTM_NEWNSID when the move took it).
    expect(added[0]!.attrs).toMatchObject({ linkNetnsid: 0, link: k.initNet.byIfname('v0')!.ifindex });
    expect(nsids(nsidHere)).toEqual([[RTM.NEWNSID, 0]]);
    const v0 = links(ask(s, linkMsg(RTM.GETLINK, 0, 3, { ifname: 'v0' })))[0]!;
    expect(v0.attrs).toMatchObject({ linkNetnsid: 0, link: index });
    // ip netns list: "a (id: 0)"; list-id "nsid 0 (iproute2 netns name: a)".
    expect(getNsid(s, NETNSA.FD, fd, 4)).toBe(0);
    expect([...k.netnsMounts.keys()]).toEqual(['a']);
  });

  it('a name or ifindex taken there: EEXIST for the name; a new ifindex from that namespace for the index', () => {
    const k = new Kernel();
    k.netnsAdd('a');
    const s = k.socket({ protocol: ROUTE });
    const sa = k.socket({ protocol: ROUTE, netns: 'a' });
    const create = (sock: KernelSocket, name: string, seq: number) =>
      errorOf(ask(sock, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq, { ifname: name, linkinfo: { kind: 'dummy' } })));
    // lab: a namespace counts its own ifindexes from 1: z0, the first made in a, is 2 there.
    expect(create(sa, 'z0', 1)).toEqual({ error: 0 });
    expect(k.netns('a').byIfname('z0')!.ifindex).toBe(2);
    expect(create(s, 'd0', 2)).toEqual({ error: 0 });
    expect(create(s, 'z0', 3)).toEqual({ error: 0 });
    const d0 = k.initNet.byIfname('d0')!;
    expect(d0.ifindex).toBe(2);
    const fd = k.nsfsOpen('a');
    // d0's index 2 is z0's in a: it gets the next one there.
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 4, { netNsFd: fd }, d0.ifindex)))).toEqual({ error: 0 });
    expect([d0.netns.name, d0.ifindex]).toEqual(['a', 3]);
    // z0 is taken in a, and no IFLA_IFNAME pattern was given: EEXIST (iproute2: "RTNETLINK answers: File exists").
    const z0 = k.initNet.byIfname('z0')!;
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 5, { netNsFd: fd }, z0.ifindex)))).toEqual({ error: -Errno.EEXIST });
    expect(z0.netns).toBe(k.initNet);
  });

  it('lo and a datapath local port cannot move (NETIF_F_NETNS_LOCAL): EINVAL; a bad fd EBADF, pid ESRCH, pid 1 is init', () => {
    const k = new Kernel();
    k.netnsAdd('a');
    k.netnsAdd('b');
    const c = new TestClient(k);
    c.newDatapath('dp0');
    const s = k.socket({ protocol: ROUTE });
    const fd = k.nsfsOpen('a');
    // lab: "ip -n a link set lo netns b" and "ip link set dp0 netns a": "RTNETLINK answers: Invalid argument".
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 1, { ifname: 'lo', netNsFd: fd })))).toEqual({ error: -Errno.EINVAL });
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 2, { ifname: 'dp0', netNsFd: fd })))).toEqual({ error: -Errno.EINVAL });
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 3, { ifname: 'dp0', netNsFd: 77 })))).toEqual({ error: -Errno.EBADF });
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 4, { ifname: 'dp0', netNsPid: 4242 })))).toEqual({ error: -Errno.ESRCH });
    const sa = k.socket({ protocol: ROUTE, netns: 'a' });
    ask(sa, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE, 5, { ifname: 'd1', linkinfo: { kind: 'dummy' } }));
    // `ip -n a link set d1 netns 1`: pid 1 is in the init namespace.
    expect(errorOf(ask(sa, linkMsg(RTM.NEWLINK, NLM_F.ACK, 6, { ifname: 'd1', netNsPid: 1 })))).toEqual({ error: 0 });
    expect(k.initNet.byIfname('d1')).toBeDefined();
  });

  it('a netdev vport whose device leaves its namespace goes (NETDEV_UNREGISTER): OVS_VPORT_CMD_DEL, the device unlinked', () => {
    const k = new Kernel();
    k.netnsAdd('a');
    const c = new TestClient(k);
    const dp = c.newDatapath('dp0');
    const s = k.socket({ protocol: ROUTE });
    ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE, 1, veth('w0', 'w1')));
    expect(TestClient.errno(c.newVport(dp, 'w0', OVS_VPORT_TYPE.NETDEV))).toBeUndefined();
    const w0 = k.initNet.byIfname('w0')!;
    expect(w0.master?.name).toBe('dp0');
    const watcher = new TestClient(k);
    k.joinGroup(watcher.sock, [...k.genl.families].find((f) => f.def.name === 'ovs_vport')!.mcgrps[0]!.id);
    // lab: "ip link set w0 netns a", then ovs-dpctl show lists only port 0.
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 2, { ifname: 'w0', netNsFd: k.nsfsOpen('a') })))).toEqual({ error: 0 });
    expect(k.ovs!.locate(k.initNet, 'w0')).toBeUndefined();
    expect(k.ovs!.datapaths()[0]!.ports.length).toBe(1);
    expect(watcher.drain().map((m) => (m.kind === 'genl' ? [m.cmd, m.attrs.name] : m.kind))).toEqual([[2, 'w0']]);
    expect([w0.netns.name, w0.master, w0.promiscuity, w0.flags & IFF.UP]).toEqual(['a', undefined, 0, 0]);
  });
});

describe('what a move announces, as Linux 6.1 did in the kernel lab', () => {
  // testing/lab/netns-move.py on Debian 6.1.0-57: v0/v1 up, listeners on RTNLGRP_LINK and
  // RTNLGRP_NSID in init and in a, then `ip link set v1 netns a`.
  const lab = JSON.parse(readFileSync(new URL('../../testing/lab/netns-move.json', import.meta.url), 'utf8')) as Record<'init' | 'a', string[]>;
  /** What a message says about the move: its type, and for a link what changed and where it points. */
  const summary = (datagrams: Uint8Array[]): unknown[] =>
    datagrams.flatMap((d) => {
      const r = decode(d, { protocol: ROUTE });
      if (!r.ok) throw r.error;
      return r.messages.map((m) => {
        if (m.kind === 'raw') return [m.header.type, Buffer.from(m.payload).toString('hex')];
        if (m.kind !== 'rtnl' || m.family !== 'link') return [m.kind];
        // Every attribute but the random addresses, the counters and IFLA_AF_SPEC (not modelled), in order.
        const { address: _a, broadcast: _b, stats: _s, stats64: _s64, afSpec: _af, ...rest } = m.attrs;
        return [m.header.type, m.header.flags, m.ifinfomsg, rest];
      });
    });

  it('init: RTM_NEWLINK (closed), RTM_NEWNSID, RTM_DELLINK with NEW_NETNSID / NEW_IFINDEX, the peer losing its carrier; a: RTM_NEWNSID, RTM_NEWLINK', () => {
    const k = new Kernel();
    k.netnsAdd('a');
    // The lab's dummy module made dummy0 (ifindex 2) at load.
    k.initNet.addDevice({ name: 'dummy0', kind: 'dummy' });
    const s = k.socket({ protocol: ROUTE });
    ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, 1, veth('v0', 'v1')));
    for (const [seq, name] of [
      [2, 'v0'],
      [3, 'v1'],
    ] as const) {
      s.sendSync(
        Uint8Array.from(
          encode({
            kind: 'rtnl',
            protocol: ROUTE,
            header: { len: 0, type: RTM.NEWLINK, flags: NLM_F.REQUEST | NLM_F.ACK, seq, pid: 0 },
            family: 'link',
            ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: IFF.UP, change: IFF.UP },
            attrs: { ifname: name },
          }),
        ),
      );
    }
    drain(s);
    const listeners = (['init', 'a'] as const).map((ns) => {
      const l = k.socket({ protocol: ROUTE, netns: ns });
      k.joinGroup(l, RTNLGRP_LINK);
      k.joinGroup(l, RTNLGRP_NSID);
      return l;
    });
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK, 4, { netNsFd: k.nsfsOpen('a') }, 3)))).toEqual({ error: 0 });
    const want = (ns: 'init' | 'a') => summary(lab[ns].map((h) => Uint8Array.from(Buffer.from(h, 'hex'))));
    expect(summary(datagrams(listeners[0]!))).toEqual(want('init'));
    expect(summary(datagrams(listeners[1]!))).toEqual(want('a'));
  });
});

describe('making a device in another namespace', () => {
  it('ip link add w0 type veth peer name w1 netns b: the peer made there, numbered there', () => {
    const k = new Kernel();
    k.netnsAdd('b');
    const s = k.socket({ protocol: ROUTE });
    const fd = k.nsfsOpen('b');
    expect(errorOf(ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, 1, veth('w0', 'w1', { netNsFd: fd }))))).toEqual({ error: 0 });
    const b = k.netns('b');
    // lab: "2: w1@if6: ... link-netnsid 0" in b; "6: w0@if2: ... link-netns b" here.
    expect(b.byIfname('w1')!.ifindex).toBe(2);
    expect(k.initNet.byIfname('w1')).toBeUndefined();
    const w0 = dump(s).find((l) => l.attrs.ifname === 'w0')!;
    expect(w0.attrs).toMatchObject({ link: 2, linkNetnsid: 0 });
    const sb = k.socket({ protocol: ROUTE, netns: 'b' });
    expect(dump(sb).map((l) => [l.ifinfomsg.index, l.attrs.ifname, l.ifinfomsg.flags & IFF.UP])).toEqual([
      [1, 'lo', 0],
      [2, 'w1', 0],
    ]);
  });

  it('IFLA_TARGET_NETNSID: get, dump and delete in the namespace of an id, the reply carrying the id', () => {
    const k = new Kernel();
    k.netnsAdd('b');
    const s = k.socket({ protocol: ROUTE });
    ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE, 1, veth('w0', 'w1', { netNsFd: k.nsfsOpen('b') })));
    const id = k.initNet.peernet2id(k.netns('b'));
    expect(id).toBe(0);
    const got = links(ask(s, linkMsg(RTM.GETLINK, 0, 2, { ifname: 'w1', ifNetnsid: id })));
    expect(got[0]!.attrs).toMatchObject({ ifNetnsid: 0, ifname: 'w1' });
    expect(errorOf(ask(s, linkMsg(RTM.GETLINK, 0, 3, { ifname: 'w1', ifNetnsid: 7 })))).toEqual({ error: -Errno.EINVAL });
    s.sendSync(linkMsg(RTM.GETLINK, NLM_F.DUMP, 4, { ifNetnsid: id }));
    expect(links(drain(s)).map((l) => l.attrs.ifname)).toEqual(['lo', 'w1']);
    expect(errorOf(ask(s, linkMsg(RTM.DELLINK, NLM_F.ACK, 5, { ifname: 'w1', ifNetnsid: id })))).toEqual({ error: 0 });
    expect(k.initNet.byIfname('w0')).toBeUndefined();
  });
});

describe('namespace ids and the end of a namespace', () => {
  it('RTM_NEWNSID sets an id (announced), RTM_GETNSID finds it by fd, pid or id; errors as rtnl_net_newid/getid', () => {
    const k = new Kernel();
    k.netnsAdd('a');
    k.netnsAdd('b');
    const s = k.socket({ protocol: ROUTE });
    const mon = monitor(k, 'init', RTNLGRP_NSID);
    const fdA = k.nsfsOpen('a');
    const fdB = k.nsfsOpen('b');
    const newid = (seq: number, attrs: Array<[number, number]>): Message[] => {
      const len = NLMSG_HDRLEN + 4 + 8 * attrs.length;
      const b = new Uint8Array(len);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, len, true);
      dv.setUint16(4, RTM.NEWNSID, true);
      dv.setUint16(6, NLM_F.REQUEST | NLM_F.ACK, true);
      dv.setUint32(8, seq, true);
      attrs.forEach(([t, v], i) => {
        dv.setUint16(NLMSG_HDRLEN + 4 + 8 * i, 8, true);
        dv.setUint16(NLMSG_HDRLEN + 6 + 8 * i, t, true);
        dv.setInt32(NLMSG_HDRLEN + 8 + 8 * i, v, true);
      });
      return ask(s, b);
    };
    expect(
      errorOf(
        newid(1, [
          [NETNSA.NSID, 5],
          [NETNSA.FD, fdA],
        ]),
      ),
    ).toEqual({ error: 0 });
    expect(nsids(mon)).toEqual([[RTM.NEWNSID, 5]]);
    expect(
      errorOf(
        newid(2, [
          [NETNSA.NSID, 6],
          [NETNSA.FD, fdA],
        ]),
      ),
    ).toEqual({ error: -Errno.EEXIST, msg: 'Peer netns already has a nsid assigned' });
    expect(
      errorOf(
        newid(3, [
          [NETNSA.NSID, 5],
          [NETNSA.FD, fdB],
        ]),
      ),
    ).toEqual({ error: -Errno.EEXIST, msg: 'The specified nsid is already used' });
    expect(errorOf(newid(4, [[NETNSA.FD, fdB]]))).toEqual({ error: -Errno.EINVAL, msg: 'nsid is missing' });
    expect(errorOf(newid(5, [[NETNSA.NSID, 1]]))).toEqual({ error: -Errno.EINVAL, msg: 'Peer netns reference is missing' });
    expect(
      errorOf(
        newid(6, [
          [NETNSA.NSID, 1],
          [NETNSA.FD, 99],
        ]),
      ),
    ).toEqual({ error: -Errno.EBADF, msg: 'Peer netns reference is invalid' });
    // -1: the lowest free id.
    expect(
      errorOf(
        newid(7, [
          [NETNSA.NSID, -1],
          [NETNSA.FD, fdB],
        ]),
      ),
    ).toEqual({ error: 0 });
    expect(getNsid(s, NETNSA.FD, fdB, 8)).toBe(0);
    expect(getNsid(s, NETNSA.NSID, 5, 9)).toBe(5);
    expect(getNsid(s, NETNSA.PID, 1, 10)).toBe(-1);
    expect(getNsid(s, NETNSA.NSID, 9, 11)).toEqual({ error: -Errno.ENOENT, msg: 'Peer netns reference is invalid' });
    expect(rtnlNetFill(RTM.NEWNSID, 1, 2, 0, 3).length).toBe(NLMSG_HDRLEN + 12);
  });

  it('ip netns del: the namespace goes once nothing holds it; a veth with an end there goes whole; its id is withdrawn', () => {
    const k = new Kernel();
    k.netnsAdd('b');
    const s = k.socket({ protocol: ROUTE });
    const fd = k.nsfsOpen('b');
    ask(s, linkMsg(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE, 1, veth('w0', 'w1', { netNsFd: fd })));
    const here = monitor(k, 'init', RTNLGRP_LINK);
    const nsidHere = monitor(k, 'init', RTNLGRP_NSID);
    expect(k.netnsDel('b')).toBe(0);
    expect(k.netnsDel('b')).toBe(-Errno.ENOENT);
    // Still held by the open descriptor: nothing happens yet.
    expect(k.initNet.byIfname('w0')).toBeDefined();
    expect(k.netnsMounts.size).toBe(0);
    k.nsfsClose(fd);
    // lab: after "ip netns del b", "ip link show w0" in a: gone.
    expect(k.initNet.byIfname('w0')).toBeUndefined();
    expect(links(drain(here)).map((m) => [m.header.type, m.attrs.ifname])).toEqual([[RTM.DELLINK, 'w0']]);
    expect(nsids(nsidHere)).toEqual([[RTM.DELNSID, 0]]);
    expect([...k.allNamespaces].map((n) => n.name)).toEqual(['init']);
    // The name is free again; a new namespace of that name has its lo down, as loopback_net_init() leaves it.
    const b = k.netnsAdd('b');
    expect(typeof b === 'number' ? b : b.byIfname('lo')!.flags & IFF.UP).toBe(0);
    expect(k.netnsAdd('b')).toBe(-Errno.EEXIST);
  });

  it('a dismantled namespace takes its datapaths; a device that may go back returns to init as devN', () => {
    const k = new Kernel();
    k.netnsAdd('a');
    const c = new TestClient(k, { netns: 'a' });
    c.newDatapath('dpa');
    const d = k.netns('a').addDevice({ name: 'eth9', kind: 'physical' });
    c.sock.closeSync();
    expect(k.netnsDel('a')).toBe(0);
    expect(k.ovs!.datapaths(d.netns)).toHaveLength(0);
    // default_device_exit_net(): no rtnl_link_ops, so back to init_net (as devN only if its name were taken there).
    expect(d.netns).toBe(k.initNet);
    expect(k.initNet.byIfname('eth9')).toBe(d);
  });
});
