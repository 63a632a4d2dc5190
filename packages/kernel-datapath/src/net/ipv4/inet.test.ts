/**
 * Addresses and routes in the model (fib_trie.ts, devinet.ts, fib_frontend.ts,
 * ../ipv6/addrconf.ts, route.ts) against Linux 6.1: the captured machine of
 * golden/pcap/dpctl-datapath.pcap.gz rebuilt with the same commands gives
 * the same route and address dumps; the tables of that capture loaded into a
 * model without automatic addresses dump back in the same order; addresses
 * and routes follow links up, down and away; requests fail with Linux's errnos.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  AF_INET,
  AF_INET6,
  Errno,
  IFA_F,
  IFF,
  type Message,
  NLM_F,
  NetlinkProtocol,
  RTM,
  RTN,
  RTNH_F,
  RTNLGRP,
  RTPROT,
  RT_SCOPE,
  RT_TABLE,
  type RtnlAddrMessage,
  type RtnlLinkMessage,
  type RtnlRouteMessage,
  decode,
  formatInetAddr,
  messageToJson,
  parseInetAddr,
  readCapture,
} from '@ovs/genl-codec';
import { describe, expect, it } from 'vitest';
import { ipLinkAdd, ipLinkDel, ipLinkSet } from '../../tools/iplink.js';
import { Kernel } from '../../kernel.js';
import type { KernelSocket } from '../netlink/af_netlink.js';
import { ask, drain } from '../../testing/index.js';

const ROUTE = NetlinkProtocol.NETLINK_ROUTE;

// ---------------------------------------------------------------------------
// The capture

/** Every rtnetlink message of dpctl-datapath.pcap.gz, in capture order. */
const captured: Message[] = readCapture(gunzipSync(readFileSync('/work/shared/golden/pcap/dpctl-datapath.pcap.gz')))
  .filter((p) => p.protocol === ROUTE)
  .flatMap((p) => {
    const r = decode(p.data, { protocol: ROUTE });
    if (!r.ok) throw r.error;
    return r.messages;
  });

/** The `n`th multi-part reply of a type (a dump), up to its NLMSG_DONE. */
function capturedDump<T extends Message>(type: number, n: number): T[] {
  const seqs = [...new Set(captured.filter((m) => m.header.type === type && m.header.flags & NLM_F.MULTI).map((m) => `${m.header.pid}/${m.header.seq}`))];
  const key = seqs[n]!;
  return captured.filter((m) => m.header.type === type && `${m.header.pid}/${m.header.seq}` === key) as T[];
}

const capturedLinks = capturedDump<RtnlLinkMessage>(RTM.NEWLINK, 0);
const macOf = (name: string) => capturedLinks.find((l) => l.attrs.ifname === name)!.attrs.address!;

// ---------------------------------------------------------------------------
// Helpers

function errorOf(msgs: Message[]): { error: number; msg?: string } {
  const e = msgs.find((m) => m.kind === 'error');
  if (e === undefined || e.kind !== 'error') throw new Error('no NLMSG_ERROR');
  return { error: e.error, ...(e.ext?.msg !== undefined ? { msg: e.ext.msg } : {}) };
}

const header = (type: number, flags: number, seq = 1) => ({ len: 0, type, flags: NLM_F.REQUEST | flags, seq, pid: 0 });
const NEW = NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL;

function dumpReq(type: number, family = 0): Message {
  return { kind: 'raw', protocol: ROUTE, header: header(type, NLM_F.DUMP, 77), payload: Uint8Array.of(family) };
}

function routes(s: KernelSocket, family = 0): RtnlRouteMessage[] {
  return ask(s, dumpReq(RTM.GETROUTE, family)).filter((m): m is RtnlRouteMessage => m.kind === 'rtnl' && m.family === 'route');
}

function addrs(s: KernelSocket, family = 0): RtnlAddrMessage[] {
  return ask(s, dumpReq(RTM.GETADDR, family)).filter((m): m is RtnlAddrMessage => m.kind === 'rtnl' && m.family === 'addr');
}

/** `ip route`-like one-liners, to read a table at a glance. */
function show(r: RtnlRouteMessage): string {
  const t = r.rtmsg;
  const type = Object.entries(RTN)
    .find(([, v]) => v === t.type)![0]
    .toLowerCase();
  let s = `${type} ${t.dstLen ? `${formatInetAddr(r.attrs.dst!)}/${t.dstLen}` : 'default'} table ${r.attrs.table}`;
  if (r.attrs.gateway) s += ` via ${formatInetAddr(r.attrs.gateway)}`;
  if (r.attrs.oif) s += ` dev ${r.attrs.oif}`;
  if (t.protocol === RTPROT.KERNEL) s += ' proto kernel';
  if (t.family === AF_INET && t.scope) s += ` scope ${t.scope}`;
  if (r.attrs.prefsrc) s += ` src ${formatInetAddr(r.attrs.prefsrc)}`;
  if (r.attrs.priority !== undefined) s += ` metric ${r.attrs.priority}`;
  if (t.flags & RTNH_F.LINKDOWN) s += ' linkdown';
  return s;
}

const showAddr = (a: RtnlAddrMessage) =>
  `${a.ifaddrmsg.index} ${formatInetAddr(a.attrs.local ?? a.attrs.address!)}/${a.ifaddrmsg.prefixlen} scope ${a.ifaddrmsg.scope} flags 0x${a.attrs.flags!.toString(16)}`;

/** rtmsg and attributes as JSON, the header (seq, pid) aside. */
function body(m: Message, drop: (j: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const j = JSON.parse(JSON.stringify(messageToJson(m))) as Record<string, unknown>;
  for (const k of ['nlmsg_len', 'nlmsg_seq', 'nlmsg_pid', 'nlmsg_flags']) delete j[k];
  drop(j);
  return j;
}

function addrMsg(type: number, flags: number, family: number, index: number, plen: number, attrs: RtnlAddrMessage['attrs'], ifaFlags = 0): Message {
  return {
    kind: 'rtnl',
    protocol: ROUTE,
    header: header(type, flags),
    family: 'addr',
    ifaddrmsg: { family, prefixlen: plen, flags: ifaFlags, scope: 0, index },
    attrs,
  };
}

function routeMsg(type: number, flags: number, rt: Partial<RtnlRouteMessage['rtmsg']> & { family: number }, attrs: RtnlRouteMessage['attrs']): Message {
  return {
    kind: 'rtnl',
    protocol: ROUTE,
    header: header(type, flags),
    family: 'route',
    rtmsg: { dstLen: 0, srcLen: 0, tos: 0, table: RT_TABLE.MAIN, protocol: RTPROT.BOOT, scope: RT_SCOPE.UNIVERSE, type: RTN.UNICAST, flags: 0, ...rt },
    attrs,
  };
}

const ip = parseInetAddr;

/** The captured machine, rebuilt: dummy0 (2), veth1/veth0 (3/4), veth3/veth2 (5/6) with the captured MACs, brought up in the captured order. */
async function capturedMachine(): Promise<{ k: Kernel; s: KernelSocket }> {
  const k = new Kernel();
  const s = k.socket({ protocol: ROUTE });
  await ipLinkAdd(s, 'dummy0', 'dummy');
  await ipLinkAdd(s, 'veth0', 'veth', { peer: 'veth1' });
  await ipLinkAdd(s, 'veth2', 'veth', { peer: 'veth3' });
  for (const d of k.initNet.devices) if (d.name !== 'lo') d.mac = macOf(d.name).slice();
  for (const name of ['veth0', 'veth1', 'veth2', 'veth3', 'dummy0']) await ipLinkSet(s, name, { up: true });
  drain(s);
  return { k, s };
}

// ---------------------------------------------------------------------------

describe("a fresh namespace: lo's addresses and routes", () => {
  it('has 127.0.0.1/8 and ::1/128, and the routes Linux makes for them', () => {
    const k = new Kernel();
    const s = k.socket({ protocol: ROUTE });
    expect(addrs(s).map(showAddr)).toEqual(['1 127.0.0.1/8 scope 254 flags 0x80', '1 ::1/128 scope 254 flags 0x80']);
    expect(routes(s).map(show)).toEqual([
      'local 127.0.0.0/8 table 255 dev 1 proto kernel scope 254 src 127.0.0.1',
      'local 127.0.0.1/32 table 255 dev 1 proto kernel scope 254 src 127.0.0.1',
      'broadcast 127.255.255.255/32 table 255 dev 1 proto kernel scope 253 src 127.0.0.1',
      'local ::1/128 table 255 dev 1 proto kernel metric 0',
    ]);
    // The first captured dump's IPv4 part, byte for byte but the header.
    const v4 = capturedDump<RtnlRouteMessage>(RTM.NEWROUTE, 0).filter((r) => r.rtmsg.family === AF_INET);
    expect(routes(s, AF_INET).map((m) => body(m))).toEqual(v4.map((m) => body(m)));
    expect(routes(s, AF_INET6).map(show)).toEqual(['local ::1/128 table 255 dev 1 proto kernel metric 0']);
  });
});

describe('the captured machine rebuilt with the same commands', () => {
  it('dumps the same routes as the capture, in the same order, byte for byte but the header', async () => {
    const { s } = await capturedMachine();
    // The second dump: by then DAD had finished on every device (the model's DAD is instantaneous).
    const want = capturedDump<RtnlRouteMessage>(RTM.NEWROUTE, 1);
    const got = routes(s);
    expect(got.map(show)).toEqual(want.map(show));
    expect(got.map((m) => body(m))).toEqual(want.map((m) => body(m)));
    expect(got.map(show).slice(3, 8)).toEqual([3, 4, 5, 6, 2].map((i) => `unicast fe80::/64 table 254 dev ${i} proto kernel metric 256`));
  });

  it('dumps the same addresses (the cacheinfo time stamps aside)', async () => {
    const { s } = await capturedMachine();
    const noStamps = (j: Record<string, unknown>) => {
      const ci = (j.attrs as Record<string, Record<string, unknown>>).IFA_CACHEINFO!;
      delete ci.cstamp;
      delete ci.tstamp;
    };
    const want = capturedDump<RtnlAddrMessage>(RTM.NEWADDR, 1);
    expect(addrs(s).map((m) => body(m, noStamps))).toEqual(want.map((m) => body(m, noStamps)));
  });
});

describe('tables loaded from a capture (addrconf off)', () => {
  const wantRoutes = capturedDump<RtnlRouteMessage>(RTM.NEWROUTE, 1);
  const wantAddrs = capturedDump<RtnlAddrMessage>(RTM.NEWADDR, 1);

  function emptyKernel(): { k: Kernel; s: KernelSocket } {
    const k = new Kernel({ addrconf: false });
    const ns = k.initNet;
    for (const [name, ifindex] of [
      ['dummy0', 2],
      ['veth1', 3],
      ['veth0', 4],
      ['veth3', 5],
      ['veth2', 6],
    ] as const) {
      ns.addDevice({ name, kind: 'dummy', ifindex });
    }
    return { k, s: k.socket({ protocol: ROUTE }) };
  }

  it('starts empty, and flush() empties a namespace that addrconf filled', () => {
    const { s } = emptyKernel();
    expect(routes(s)).toEqual([]);
    expect(addrs(s)).toEqual([]);
    const k = new Kernel();
    k.initNet.fib.flush();
    k.initNet.addresses.flush();
    const s2 = k.socket({ protocol: ROUTE });
    expect([...routes(s2), ...addrs(s2)]).toEqual([]);
  });

  it('dumps the loaded routes back in the captured order', () => {
    const { k, s } = emptyKernel();
    for (const r of wantRoutes) k.initNet.fib.add(r);
    expect(routes(s).map((m) => body(m))).toEqual(wantRoutes.map((m) => body(m)));
  });

  it('puts routes loaded in reverse order back in the order of the walk (ties keep their arrival order)', () => {
    const { k, s } = emptyKernel();
    for (const r of [...wantRoutes].reverse()) k.initNet.fib.add(r);
    const key = (m: RtnlRouteMessage) => `${m.rtmsg.table} ${formatInetAddr(m.attrs.dst ?? new Uint8Array(0))}/${m.rtmsg.dstLen}`;
    expect(routes(s).map(key)).toEqual(wantRoutes.map(key));
  });

  it('dumps the loaded addresses back as captured', () => {
    const { k, s } = emptyKernel();
    for (const a of wantAddrs) k.initNet.addresses.add(a);
    expect(addrs(s).map((m) => body(m))).toEqual(wantAddrs.map((m) => body(m)));
  });
});

describe('addresses and routes follow the links', () => {
  async function setup() {
    const k = new Kernel();
    const s = k.socket({ protocol: ROUTE });
    const mon = k.socket({ protocol: ROUTE });
    for (const g of [RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_IFADDR, RTNLGRP.IPV6_ROUTE]) k.joinGroup(mon, g);
    return { k, s, mon };
  }
  const events = (mon: KernelSocket) =>
    drain(mon).map(
      (m) =>
        `${m.header.type === RTM.NEWROUTE || m.header.type === RTM.NEWADDR ? 'new' : 'del'} ${m.kind === 'rtnl' && m.family === 'route' ? show(m) : showAddr(m as RtnlAddrMessage)}`,
    );

  it('a dummy brought up gets ff00::/8, its link-local with fe80::/64 and the local /128; down takes them all', async () => {
    const { k, s, mon } = await setup();
    await ipLinkAdd(s, 'dummy0', 'dummy');
    const dev = k.initNet.byIfname('dummy0')!;
    dev.mac = Uint8Array.of(0x8a, 0x42, 0x74, 0x2a, 0x6f, 0xcd);
    expect(events(mon)).toEqual([]);
    await ipLinkSet(s, 'dummy0', { up: true });
    expect(events(mon)).toEqual([
      'new multicast ff00::/8 table 255 dev 2 proto kernel metric 256',
      'new unicast fe80::/64 table 254 dev 2 proto kernel metric 256',
      'new 2 fe80::8842:74ff:fe2a:6fcd/64 scope 253 flags 0x80',
      'new local fe80::8842:74ff:fe2a:6fcd/128 table 255 dev 2 proto kernel metric 0',
    ]);
    await ipLinkSet(s, 'dummy0', { up: false });
    // rt6_sync_down_dev() walks the tables (main, then local in tree order), then the addresses go.
    expect(events(mon)).toEqual([
      'del unicast fe80::/64 table 254 dev 2 proto kernel metric 256',
      'del local fe80::8842:74ff:fe2a:6fcd/128 table 255 dev 2 proto kernel metric 0',
      'del multicast ff00::/8 table 255 dev 2 proto kernel metric 256',
      'del 2 fe80::8842:74ff:fe2a:6fcd/64 scope 253 flags 0x80',
    ]);
    expect(routes(s, AF_INET6).map(show)).toEqual(['local ::1/128 table 255 dev 1 proto kernel metric 0']);
    expect(addrs(s, AF_INET6)).toHaveLength(1);
  });

  it('a veth waits for its peer (carrier); losing the carrier marks its routes linkdown, keeps the address', async () => {
    const { k, s } = await setup();
    await ipLinkAdd(s, 'veth0', 'veth', { peer: 'veth1' });
    await ipLinkSet(s, 'veth0', { up: true });
    expect(addrs(s, AF_INET6)).toHaveLength(1);
    await ipLinkSet(s, 'veth1', { up: true });
    expect(addrs(s, AF_INET6).map((a) => a.ifaddrmsg.index)).toEqual([1, 2, 3]);
    // veth1 (2) was opened last but linkwatch reports its carrier first.
    expect(
      routes(s, AF_INET6)
        .filter((r) => r.rtmsg.table === RT_TABLE.MAIN)
        .map((r) => r.attrs.oif),
    ).toEqual([2, 3]);
    await ipLinkSet(s, 'veth1', { up: false });
    const v0 = k.initNet.byIfname('veth0')!.ifindex;
    expect(addrs(s, AF_INET6).map((a) => a.ifaddrmsg.index)).toEqual([1, v0]);
    expect(
      routes(s, AF_INET6)
        .filter((r) => r.attrs.oif === v0)
        .map(show),
    ).toEqual([
      `unicast fe80::/64 table 254 dev ${v0} proto kernel metric 256 linkdown`,
      expect.stringMatching(new RegExp(`^local fe80::.*/128 table 255 dev ${v0} proto kernel metric 0$`)),
      `multicast ff00::/8 table 255 dev ${v0} proto kernel metric 256 linkdown`,
    ]);
    await ipLinkSet(s, 'veth1', { up: true });
    expect(routes(s, AF_INET6).filter((r) => r.attrs.oif === v0 && r.rtmsg.flags & RTNH_F.LINKDOWN)).toEqual([]);
  });

  it('deleting a device takes its addresses and routes, IPv4 ones included', async () => {
    const { k, s, mon } = await setup();
    await ipLinkAdd(s, 'dummy0', 'dummy');
    await ipLinkSet(s, 'dummy0', { up: true });
    expect(errorOf(ask(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 24, { local: ip('10.0.0.1'), address: ip('10.0.0.1') })))).toEqual({ error: 0 });
    expect(routes(s, AF_INET).map(show)).toEqual([
      'unicast 10.0.0.0/24 table 254 dev 2 proto kernel scope 253 src 10.0.0.1',
      'local 10.0.0.1/32 table 255 dev 2 proto kernel scope 254 src 10.0.0.1',
      'broadcast 10.0.0.255/32 table 255 dev 2 proto kernel scope 253 src 10.0.0.1',
      'local 127.0.0.0/8 table 255 dev 1 proto kernel scope 254 src 127.0.0.1',
      'local 127.0.0.1/32 table 255 dev 1 proto kernel scope 254 src 127.0.0.1',
      'broadcast 127.255.255.255/32 table 255 dev 1 proto kernel scope 253 src 127.0.0.1',
    ]);
    // The RTM_NEWADDR notification carries the requester's seq (rtmsg_ifa()), then fib_add_ifaddr()'s routes.
    const notes = drain(mon).filter(
      (m) => m.kind === 'rtnl' && (m.family === 'route' ? m.rtmsg.family : m.family === 'addr' ? m.ifaddrmsg.family : 0) === AF_INET,
    );
    expect(notes.map((m) => m.header.type)).toEqual([RTM.NEWADDR, RTM.NEWROUTE, RTM.NEWROUTE, RTM.NEWROUTE]);
    expect(notes[0]!.header.seq).toBe(1);
    expect(addrs(s, AF_INET).map(showAddr)).toEqual(['1 127.0.0.1/8 scope 254 flags 0x80', '2 10.0.0.1/24 scope 0 flags 0x80']);
    await ipLinkDel(s, 'dummy0');
    expect(addrs(s).map((a) => a.ifaddrmsg.index)).toEqual([1, 1]);
    expect(routes(s).filter((r) => r.attrs.oif !== 1)).toEqual([]);
    expect(k.initNet.fib.routes().length).toBe(4);
  });

  it('IPv4 routes but host-scope ones go silently with the device down and come back up', async () => {
    const { s, mon } = await setup();
    await ipLinkAdd(s, 'dummy0', 'dummy');
    await ipLinkSet(s, 'dummy0', { up: true });
    ask(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 24, { local: ip('10.0.0.1') }));
    drain(mon);
    await ipLinkSet(s, 'dummy0', { up: false });
    expect(drain(mon).filter((m) => m.kind === 'rtnl' && m.family === 'route' && m.rtmsg.family === AF_INET)).toEqual([]);
    expect(
      routes(s, AF_INET)
        .filter((r) => r.attrs.oif === 2)
        .map(show),
    ).toEqual(['local 10.0.0.1/32 table 255 dev 2 proto kernel scope 254 src 10.0.0.1']);
    await ipLinkSet(s, 'dummy0', { up: true });
    expect(routes(s, AF_INET).filter((r) => r.attrs.oif === 2)).toHaveLength(3);
  });
});

describe('RTM_NEWADDR / DELADDR / NEWROUTE / DELROUTE errors', () => {
  async function up() {
    const k = new Kernel();
    const s = k.socket({ protocol: ROUTE });
    await ipLinkAdd(s, 'dummy0', 'dummy');
    await ipLinkAdd(s, 'dummy1', 'dummy');
    await ipLinkSet(s, 'dummy0', { up: true });
    return { k, s };
  }
  const e = (s: KernelSocket, m: Message) => errorOf(ask(s, m));

  it('addresses: EPERM unprivileged, ENODEV, EEXIST with NLM_F_EXCL, EINVAL, EADDRNOTAVAIL, EOPNOTSUPP for AF_UNSPEC', async () => {
    const { k, s } = await up();
    const v4 = { local: ip('192.0.2.1') };
    const user = k.socket({ protocol: ROUTE, capNetAdmin: false });
    expect(e(user, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 24, v4))).toEqual({ error: -Errno.EPERM });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 99, 24, v4))).toEqual({ error: -Errno.ENODEV });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 33, v4))).toEqual({ error: -Errno.EINVAL });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 24, { address: ip('192.0.2.1') }))).toEqual({ error: -Errno.EINVAL });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 24, v4))).toEqual({ error: 0 });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET, 2, 24, v4))).toEqual({ error: -Errno.EEXIST });
    expect(e(s, addrMsg(RTM.NEWADDR, NLM_F.ACK | NLM_F.REPLACE, AF_INET, 2, 24, v4))).toEqual({ error: 0 });
    expect(e(s, addrMsg(RTM.DELADDR, NLM_F.ACK, AF_INET, 2, 24, { local: ip('192.0.2.9') }))).toEqual({ error: -Errno.EADDRNOTAVAIL });
    expect(e(s, addrMsg(RTM.DELADDR, NLM_F.ACK, AF_INET, 2, 24, v4))).toEqual({ error: 0 });
    expect(e(s, addrMsg(RTM.DELADDR, NLM_F.ACK, AF_INET, 99, 24, v4))).toEqual({ error: -Errno.ENODEV });
    const v6 = { local: ip('2001:db8::1') };
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET6, 2, 64, v6))).toEqual({ error: 0 });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET6, 2, 64, v6))).toEqual({ error: -Errno.EEXIST });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET6, 2, 64, {}))).toEqual({ error: -Errno.EINVAL });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET6, 2, 64, { local: ip('ff02::1') }))).toEqual({ error: -Errno.EADDRNOTAVAIL });
    expect(e(s, addrMsg(RTM.DELADDR, NLM_F.ACK, AF_INET6, 2, 64, { local: ip('2001:db8::2') }))).toEqual({ error: -Errno.EADDRNOTAVAIL });
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, 0, 2, 64, v6))).toEqual({ error: -Errno.EOPNOTSUPP });
    // A global address sorts before the link-local; its prefix route and local /128 are there.
    const onDummy0 = addrs(s, AF_INET6)
      .filter((a) => a.ifaddrmsg.index === 2)
      .map(showAddr);
    expect(onDummy0).toHaveLength(2);
    expect(onDummy0[0]).toBe('2 2001:db8::1/64 scope 0 flags 0x80');
    expect(onDummy0[1]).toMatch(/^2 fe80::\S+\/64 scope 253 flags 0x80$/);
    expect(routes(s, AF_INET6).map(show)).toContain('unicast 2001:db8::/64 table 254 dev 2 proto kernel metric 256');
    expect(routes(s, AF_INET6).map(show)).toContain('local 2001:db8::1/128 table 255 dev 2 proto kernel metric 0');
    // On a device that is down the address waits, tentative.
    expect(e(s, addrMsg(RTM.NEWADDR, NEW, AF_INET6, 3, 64, { local: ip('2001:db8:1::1') }))).toEqual({ error: 0 });
    expect(addrs(s, AF_INET6).find((a) => a.ifaddrmsg.index === 3)!.attrs.flags).toBe(IFA_F.PERMANENT | IFA_F.TENTATIVE);
    expect(routes(s, AF_INET6).filter((r) => r.attrs.oif === 3)).toEqual([]);
    // Up, it gets its prefix route, and its link-local; DAD ends at once: both addresses get their local /128.
    await ipLinkSet(s, 'dummy1', { up: true });
    expect(addrs(s, AF_INET6).find((a) => a.ifaddrmsg.index === 3)!.attrs.flags).toBe(IFA_F.PERMANENT);
    expect(
      routes(s, AF_INET6)
        .filter((r) => r.attrs.oif === 3)
        .map(show),
    ).toEqual([
      'unicast 2001:db8:1::/64 table 254 dev 3 proto kernel metric 256',
      expect.stringMatching(/^unicast fe80::\/64 table 254 dev 3 /),
      'local 2001:db8:1::1/128 table 255 dev 3 proto kernel metric 0',
      expect.stringMatching(/^local fe80::\S+\/128 table 255 dev 3 /),
      'multicast ff00::/8 table 255 dev 3 proto kernel metric 256',
    ]);
  });

  it('routes: ENODEV, ENETDOWN, EEXIST, ESRCH, EINVAL with the kernel texts, ENETUNREACH for a gateway off-link', async () => {
    const { s } = await up();
    const r4 = (flags: number, attrs: RtnlRouteMessage['attrs'], rt: Partial<RtnlRouteMessage['rtmsg']> = {}) =>
      routeMsg(RTM.NEWROUTE, flags, { family: AF_INET, dstLen: 24, scope: RT_SCOPE.LINK, ...rt }, { dst: ip('198.51.100.0'), ...attrs });
    expect(e(s, r4(NEW, { oif: 99 }))).toEqual({ error: -Errno.ENODEV });
    expect(e(s, r4(NEW, { oif: 3 }))).toEqual({ error: -Errno.ENETDOWN, msg: 'Device for nexthop is not up' });
    expect(e(s, r4(NEW, { oif: 2, dst: ip('198.51.100.1') }))).toEqual({ error: -Errno.EINVAL, msg: 'Invalid prefix for given prefix length' });
    expect(e(s, r4(NEW, { oif: 2 }, { dstLen: 33 }))).toEqual({ error: -Errno.EINVAL, msg: 'Invalid prefix length' });
    expect(e(s, r4(NEW, { oif: 2 }, { type: 12 }))).toEqual({ error: -Errno.EINVAL, msg: 'Invalid route type' });
    expect(e(s, r4(NEW, { oif: 2 }, { type: RTN.LOCAL }))).toEqual({ error: -Errno.EINVAL, msg: 'Invalid scope' });
    expect(e(s, r4(NEW, { oif: 2 }))).toEqual({ error: 0 });
    expect(e(s, r4(NEW, { oif: 2 }))).toEqual({ error: -Errno.EEXIST });
    expect(e(s, r4(NLM_F.ACK | NLM_F.CREATE, { oif: 2 }))).toEqual({ error: -Errno.EEXIST });
    expect(e(s, r4(NLM_F.ACK, { oif: 2 }, { dstLen: 25 }))).toEqual({ error: -Errno.ENOENT });
    expect(e(s, r4(NEW, { dst: ip('203.0.0.0'), gateway: ip('192.0.2.99') }, { dstLen: 16, scope: RT_SCOPE.UNIVERSE }))).toEqual({
      error: -Errno.ENETUNREACH,
      msg: 'Nexthop has invalid gateway',
    });
    expect(e(s, r4(NEW, { dst: ip('203.0.0.0'), gateway: ip('198.51.100.7') }, { dstLen: 16, scope: RT_SCOPE.UNIVERSE }))).toEqual({ error: 0 });
    expect(routes(s, AF_INET).map(show).slice(0, 2)).toEqual([
      'unicast 198.51.100.0/24 table 254 dev 2 scope 253',
      'unicast 203.0.0.0/16 table 254 via 198.51.100.7 dev 2',
    ]);
    const del = routeMsg(RTM.DELROUTE, NLM_F.ACK, { family: AF_INET, dstLen: 24, scope: RT_SCOPE.NOWHERE, protocol: 0, type: 0 }, { dst: ip('198.51.100.0') });
    expect(e(s, del)).toEqual({ error: 0 });
    expect(e(s, del)).toEqual({ error: -Errno.ESRCH });
    expect(e(s, { ...del, attrs: { ...(del as RtnlRouteMessage).attrs, table: 1234 } } as Message)).toEqual({
      error: -Errno.ESRCH,
      msg: 'FIB table does not exist',
    });
    const r6 = (flags: number, attrs: RtnlRouteMessage['attrs']) =>
      routeMsg(RTM.NEWROUTE, flags, { family: AF_INET6, dstLen: 48 }, { dst: ip('2001:db8:5::'), ...attrs });
    expect(e(s, r6(NEW, { oif: 3 }))).toEqual({ error: -Errno.ENETDOWN, msg: 'Nexthop device is not up' });
    expect(e(s, r6(NEW, {}))).toEqual({ error: -Errno.ENODEV });
    expect(e(s, r6(NEW, { oif: 2 }))).toEqual({ error: 0 });
    expect(e(s, r6(NEW, { oif: 2 }))).toEqual({ error: -Errno.EEXIST });
    expect(routes(s, AF_INET6).map(show)).toContain('unicast 2001:db8:5::/48 table 254 dev 2 metric 1024');
    const del6 = routeMsg(RTM.DELROUTE, NLM_F.ACK, { family: AF_INET6, dstLen: 48, protocol: 0 }, { dst: ip('2001:db8:5::') });
    expect(e(s, del6)).toEqual({ error: 0 });
    expect(e(s, del6)).toEqual({ error: -Errno.ESRCH });
  });

  it('a route request echoes its notification to the requester with NLM_F_ECHO', async () => {
    const { s } = await up();
    const msgs = ask(s, routeMsg(RTM.NEWROUTE, NEW | NLM_F.ECHO, { family: AF_INET, dstLen: 24, scope: RT_SCOPE.LINK }, { dst: ip('198.51.100.0'), oif: 2 }));
    expect(msgs.map((m) => m.header.type)).toEqual([RTM.NEWROUTE, 2]);
    expect(msgs[0]!.header).toMatchObject({ seq: 1, pid: s.portId, flags: NLM_F.CREATE | NLM_F.EXCL });
  });

  it('gives a device below 1280 bytes of MTU no IPv6 (no inet6_dev)', () => {
    const k = new Kernel();
    const dev = k.initNet.addDevice({ name: 'tiny0', kind: 'dummy', mtu: 1000, flags: IFF.UP | IFF.BROADCAST | IFF.MULTICAST });
    k.initNet.addrconf.sync(dev, { up: true, ready: true, carrier: true });
    expect(k.initNet.addresses.of(dev, AF_INET6)).toEqual([]);
  });
});
