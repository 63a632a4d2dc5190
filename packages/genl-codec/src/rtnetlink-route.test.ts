/**
 * Address and route messages against the golden pcaps (OVS 3.1 and glibc on
 * Linux 6.1.192): every NETLINK_ROUTE message of every capture decodes,
 * re-encodes byte for byte (directly and through JSON), and the route and
 * address dumps hold the values read off their hex by hand.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NetlinkDecodeError } from './errors.js';
import { formatMessage } from './format.js';
import { messageFromJson, messageToJson } from './json.js';
import { type Message, decode, encode } from './message.js';
import { NLM_F, NetlinkProtocol } from './netlink.js';
import { readCapture } from './pcap.js';
import { AF_INET, AF_INET6, RTM, RTNLGRP, type RtnlAddrMessage, type RtnlLinkMessage, type RtnlRouteMessage, rtmFamily } from './rtnetlink.js';
import {
  IFAPROT,
  IFA_F,
  INFINITY_LIFE_TIME,
  RTN,
  RTPROT,
  RT_SCOPE,
  RT_TABLE,
  formatInetAddr,
  ifaAttrs,
  ifaddrmsg,
  parseInetAddr,
  rtaAttrs,
  rtaCacheinfo,
  rtmsg,
} from './rtnetlink-route.js';
import { GOLDEN_DIR } from './testing/golden.js';

const PCAPS = ['dpctl-datapath', 'dpctl-ports', 'dpctl-errors', 'raw-genl'];

interface Frame {
  index: number;
  messages: Message[];
}

/** The NETLINK_ROUTE frames of a capture, decoded. */
function routeFrames(name: string): Frame[] {
  const packets = readCapture(gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/${name}.pcap.gz`)));
  return packets
    .filter((p) => p.protocol === NetlinkProtocol.NETLINK_ROUTE)
    .map((p) => {
      const r = decode(p.data, { protocol: NetlinkProtocol.NETLINK_ROUTE });
      if (!r.ok) throw new Error(`${name} frame ${p.index}: ${r.error.message}`);
      return { index: p.index, messages: r.messages };
    });
}

const frames = new Map(PCAPS.map((n) => [n, routeFrames(n)]));
const all = [...frames.values()].flatMap((f) => f.flatMap((x) => x.messages));

const isRoute = (m: Message): m is RtnlRouteMessage => m.kind === 'rtnl' && m.family === 'route';
const isAddr = (m: Message): m is RtnlAddrMessage => m.kind === 'rtnl' && m.family === 'addr';
const isLink = (m: Message): m is RtnlLinkMessage => m.kind === 'rtnl' && m.family === 'link';
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const text = (a: Uint8Array | undefined) => (a === undefined ? undefined : formatInetAddr(a));

/** The messages of the first dump reply in a capture of a given type (one dump's frames, up to NLMSG_DONE). */
function firstDump(name: string, type: number): Message[] {
  const out: Message[] = [];
  let seq: number | undefined;
  for (const f of frames.get(name)!) {
    for (const m of f.messages) {
      if (seq === undefined && m.header.type === type && m.header.flags & NLM_F.MULTI) seq = m.header.seq;
      if (seq === undefined || m.header.seq !== seq) continue;
      if (m.kind === 'done') return out;
      out.push(m);
    }
  }
  return out;
}

describe('constants (Linux 6.1 uapi)', () => {
  it('has the numbers of include/uapi/linux/rtnetlink.h and if_addr.h', () => {
    expect([RTM.NEWADDR, RTM.DELADDR, RTM.GETADDR, RTM.NEWROUTE, RTM.DELROUTE, RTM.GETROUTE]).toEqual([20, 21, 22, 24, 25, 26]);
    expect(Object.values(RTN)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(RT_SCOPE).toEqual({ UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 });
    expect([RT_TABLE.UNSPEC, RT_TABLE.DEFAULT, RT_TABLE.MAIN, RT_TABLE.LOCAL]).toEqual([0, 253, 254, 255]);
    expect(RTPROT).toEqual({ UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4, RA: 9 });
    expect([IFA_F.SECONDARY, IFA_F.NODAD, IFA_F.OPTIMISTIC, IFA_F.DADFAILED, IFA_F.HOMEADDRESS, IFA_F.DEPRECATED]).toEqual([1, 2, 4, 8, 0x10, 0x20]);
    expect([IFA_F.TENTATIVE, IFA_F.PERMANENT, IFA_F.MANAGETEMPADDR, IFA_F.NOPREFIXROUTE, IFA_F.MCAUTOJOIN, IFA_F.STABLE_PRIVACY]).toEqual([
      0x40, 0x80, 0x100, 0x200, 0x400, 0x800,
    ]);
    expect([RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_IFADDR, RTNLGRP.IPV6_ROUTE]).toEqual([5, 7, 9, 11]);
    expect([rtmFamily(20), rtmFamily(22), rtmFamily(23), rtmFamily(24), rtmFamily(26), rtmFamily(27)]).toEqual([
      'addr',
      'addr',
      undefined,
      'route',
      'route',
      undefined,
    ]);
  });

  it('numbers RTA_* 1..30 and IFA_* 1..11, with the struct sizes of the uapi', () => {
    const rta = Object.fromEntries(rtaAttrs.entries.map((e) => [e.def.name, e.def.type]));
    expect(rta).toMatchObject({ RTA_DST: 1, RTA_SRC: 2, RTA_IIF: 3, RTA_OIF: 4, RTA_GATEWAY: 5, RTA_PRIORITY: 6, RTA_PREFSRC: 7, RTA_METRICS: 8 });
    expect(rta).toMatchObject({ RTA_MULTIPATH: 9, RTA_FLOW: 11, RTA_CACHEINFO: 12, RTA_TABLE: 15, RTA_MARK: 16, RTA_MFC_STATS: 17, RTA_VIA: 18 });
    expect(rta).toMatchObject({ RTA_NEWDST: 19, RTA_PREF: 20, RTA_ENCAP_TYPE: 21, RTA_ENCAP: 22, RTA_EXPIRES: 23, RTA_PAD: 24, RTA_UID: 25 });
    expect(rta).toMatchObject({ RTA_TTL_PROPAGATE: 26, RTA_IP_PROTO: 27, RTA_SPORT: 28, RTA_DPORT: 29, RTA_NH_ID: 30 });
    expect(rtaAttrs.maxType).toBe(30);
    const ifa = Object.fromEntries(ifaAttrs.entries.map((e) => [e.def.name, e.def.type]));
    expect(ifa).toEqual({
      IFA_ADDRESS: 1,
      IFA_LOCAL: 2,
      IFA_LABEL: 3,
      IFA_BROADCAST: 4,
      IFA_ANYCAST: 5,
      IFA_CACHEINFO: 6,
      IFA_MULTICAST: 7,
      IFA_FLAGS: 8,
      IFA_RT_PRIORITY: 9,
      IFA_TARGET_NETNSID: 10,
      IFA_PROTO: 11,
    });
    expect([rtmsg.size, ifaddrmsg.size, rtaCacheinfo.size]).toEqual([12, 8, 32]);
  });
});

describe('every NETLINK_ROUTE message of the pcaps', () => {
  it('holds route and address dumps and notifications', () => {
    expect(all.filter(isRoute).length).toBeGreaterThan(50);
    expect(all.filter(isAddr).length).toBeGreaterThan(20);
  });

  it('re-encodes byte for byte, frame by frame', () => {
    for (const [name, fs] of frames) {
      const packets = readCapture(gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/${name}.pcap.gz`)));
      for (const f of fs) {
        const data = packets[f.index]!.data;
        let off = 0;
        for (const m of f.messages) {
          expect(Buffer.from(encode(m)).toString('hex'), `${name} frame ${f.index}`).toBe(Buffer.from(data.subarray(off, off + m.header.len)).toString('hex'));
          off += (m.header.len + 3) & ~3;
        }
      }
    }
  });

  it('round-trips through JSON and formats', () => {
    for (const m of all) {
      const json = JSON.parse(JSON.stringify(messageToJson(m)));
      expect(Buffer.from(encode(messageFromJson(json))).toString('hex')).toBe(Buffer.from(encode(m)).toString('hex'));
      expect(() => formatMessage(m)).not.toThrow();
    }
  });

  it('keeps the bare struct rtgenmsg dump requests raw (OVS: RTM_GETROUTE of 17 bytes, glibc: RTM_GETADDR of 20)', () => {
    const getroute = all.filter((m) => m.header.type === RTM.GETROUTE);
    const getaddr = all.filter((m) => m.header.type === RTM.GETADDR);
    expect(getroute.length).toBeGreaterThan(0);
    expect(getaddr.length).toBeGreaterThan(0);
    for (const m of [...getroute, ...getaddr]) {
      expect(m.kind).toBe('raw');
      expect(m.header.flags).toBe(NLM_F.REQUEST | NLM_F.DUMP | (m.header.type === RTM.GETROUTE ? NLM_F.ACK : 0));
    }
    expect(getroute[0]!.header.len).toBe(17);
    expect(getaddr[0]!.header.len).toBe(20);
  });
});

describe('the route dump ovs-dpctl asked for (dpctl-datapath.pcap.gz, frames 1-2)', () => {
  const routes = firstDump('dpctl-datapath', RTM.NEWROUTE).filter(isRoute);
  const v4 = routes.filter((r) => r.rtmsg.family === AF_INET);
  const v6 = routes.filter((r) => r.rtmsg.family === AF_INET6);

  it('lists IPv4 first, then IPv6', () => {
    expect(routes.map((r) => r.rtmsg.family)).toEqual([...v4.map(() => AF_INET), ...v6.map(() => AF_INET6)]);
    expect(v4).toHaveLength(3);
    expect(v6).toHaveLength(13);
  });

  it("has lo's IPv4 routes, all in the local table: local 127.0.0.0/8, local 127.0.0.1, broadcast 127.255.255.255", () => {
    expect(v4.map((r) => [text(r.attrs.dst), r.rtmsg.dstLen, r.rtmsg.type, r.rtmsg.scope])).toEqual([
      ['127.0.0.0', 8, RTN.LOCAL, RT_SCOPE.HOST],
      ['127.0.0.1', 32, RTN.LOCAL, RT_SCOPE.HOST],
      ['127.255.255.255', 32, RTN.BROADCAST, RT_SCOPE.LINK],
    ]);
    for (const r of v4) {
      expect(r.rtmsg).toMatchObject({ table: RT_TABLE.LOCAL, protocol: RTPROT.KERNEL, srcLen: 0, tos: 0, flags: 0 });
      expect(r.attrs).toMatchObject({ table: RT_TABLE.LOCAL, oif: 1 });
      expect(text(r.attrs.prefsrc)).toBe('127.0.0.1');
      expect(r.attrs.priority).toBeUndefined();
    }
  });

  it('has the IPv6 main table (fe80::/64 metric 256 per device), then the local table (::1, the link-locals, ff00::/8)', () => {
    const row = (r: RtnlRouteMessage) =>
      `${r.rtmsg.table} ${text(r.attrs.dst)}/${r.rtmsg.dstLen} type ${r.rtmsg.type} dev ${r.attrs.oif} metric ${r.attrs.priority}`;
    expect(v6.map(row)).toEqual([
      '254 fe80::/64 type 1 dev 3 metric 256',
      '254 fe80::/64 type 1 dev 4 metric 256',
      '254 fe80::/64 type 1 dev 5 metric 256',
      '254 fe80::/64 type 1 dev 6 metric 256',
      '254 fe80::/64 type 1 dev 2 metric 256',
      '255 ::1/128 type 2 dev 1 metric 0',
      '255 fe80::245e:9dff:fe52:9e21/128 type 2 dev 3 metric 0',
      '255 fe80::8842:74ff:fe2a:6fcd/128 type 2 dev 2 metric 0',
      '255 ff00::/8 type 5 dev 3 metric 256',
      '255 ff00::/8 type 5 dev 4 metric 256',
      '255 ff00::/8 type 5 dev 5 metric 256',
      '255 ff00::/8 type 5 dev 6 metric 256',
      '255 ff00::/8 type 5 dev 2 metric 256',
    ]);
    for (const r of v6) {
      // rt6_fill_node(): scope is always universe; CACHEINFO all zero for a FIB entry; RTA_PREF medium.
      expect(r.rtmsg).toMatchObject({ protocol: RTPROT.KERNEL, scope: RT_SCOPE.UNIVERSE, flags: 0 });
      expect(r.attrs.table).toBe(r.rtmsg.table);
      expect(Object.values(r.attrs.cacheinfo!)).toEqual(new Array(8).fill(0));
      expect(r.attrs.pref).toBe(0);
    }
  });
});

describe("the address dump of glibc's getifaddrs (dpctl-datapath.pcap.gz, frames 32-33)", () => {
  const addrs = firstDump('dpctl-datapath', RTM.NEWADDR).filter(isAddr);
  const links = firstDump('dpctl-datapath', RTM.NEWLINK).filter(isLink);

  it("has lo's 127.0.0.1/8 (scope host, permanent, labelled lo), then ::1 and each device's link-local", () => {
    expect(addrs.map((a) => `${a.ifaddrmsg.index} ${text(a.attrs.address)}/${a.ifaddrmsg.prefixlen} scope ${a.ifaddrmsg.scope}`)).toEqual([
      '1 127.0.0.1/8 scope 254',
      '1 ::1/128 scope 254',
      '2 fe80::8842:74ff:fe2a:6fcd/64 scope 253',
      '3 fe80::245e:9dff:fe52:9e21/64 scope 253',
      '4 fe80::84dc:a5ff:fec2:f951/64 scope 253',
      '5 fe80::b8a3:4bff:fef7:e487/64 scope 253',
      '6 fe80::44c5:73ff:fe08:5a78/64 scope 253',
    ]);
    const lo = addrs[0]!;
    expect(lo.attrs).toMatchObject({ label: 'lo', flags: IFA_F.PERMANENT });
    expect(text(lo.attrs.local)).toBe('127.0.0.1');
    expect(lo.attrs.cacheinfo).toMatchObject({ prefered: INFINITY_LIFE_TIME, valid: INFINITY_LIFE_TIME });
    expect(addrs[1]!.attrs.proto).toBe(IFAPROT.KERNEL_LO);
  });

  it('derives each link-local from the MAC (EUI-64) and marks it kernel-made; veth3 is still tentative', () => {
    for (const a of addrs.slice(2)) {
      const mac = links.find((l) => l.ifinfomsg.index === a.ifaddrmsg.index)!.attrs.address!;
      const eui = [mac[0]! ^ 2, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!];
      expect([...a.attrs.address!]).toEqual([0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...eui]);
      expect(a.attrs.proto).toBe(IFAPROT.KERNEL_LL);
      const tentative = a.ifaddrmsg.index === 5;
      expect(a.attrs.flags).toBe(IFA_F.PERMANENT | (tentative ? IFA_F.TENTATIVE : 0));
      expect(a.ifaddrmsg.flags).toBe(a.attrs.flags);
    }
  });
});

describe('hand-built messages', () => {
  it('encodes `ip route add 10.1.0.0/16 via 192.0.2.1 dev 2 metric 100` and decodes it back', () => {
    const msg: RtnlRouteMessage = {
      kind: 'rtnl',
      protocol: 0,
      header: { len: 0, type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq: 7, pid: 0 },
      family: 'route',
      rtmsg: {
        family: AF_INET,
        dstLen: 16,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE.MAIN,
        protocol: RTPROT.BOOT,
        scope: RT_SCOPE.UNIVERSE,
        type: RTN.UNICAST,
        flags: 0,
      },
      attrs: { dst: parseInetAddr('10.1.0.0'), gateway: parseInetAddr('192.0.2.1'), oif: 2, priority: 100 },
    };
    const b = encode(msg);
    expect(b.length).toBe(16 + 12 + 8 * 4);
    const r = decode(b, { protocol: 0 });
    expect(r.ok && r.messages[0]).toEqual({ ...msg, header: { ...msg.header, len: b.length } });
    const json = messageToJson(msg) as Record<string, unknown>;
    expect(json).toMatchObject({ rtm_family: 2, rtm_dst_len: 16, rtm_table: 254, rtm_type: 1 });
    expect(json.attrs).toEqual({ RTA_DST: '10.1.0.0', RTA_PRIORITY: 100, RTA_GATEWAY: '192.0.2.1', RTA_OIF: 2 });
  });

  it('encodes an IPv6 address request with IFA_FLAGS and decodes it back', () => {
    const msg: RtnlAddrMessage = {
      kind: 'rtnl',
      protocol: 0,
      header: { len: 0, type: RTM.NEWADDR, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq: 1, pid: 0 },
      family: 'addr',
      ifaddrmsg: { family: AF_INET6, prefixlen: 64, flags: 0, scope: 0, index: 3 },
      attrs: { local: parseInetAddr('2001:db8::1'), flags: IFA_F.NODAD },
    };
    const b = encode(msg);
    const r = decode(b, { protocol: 0 });
    expect(r.ok && r.messages[0]).toEqual({ ...msg, header: { ...msg.header, len: b.length } });
    expect(formatMessage(msg)).toContain('IFA_LOCAL: 2001:db8::1');
  });

  it('prints addresses as RFC 5952 text and parses them back', () => {
    for (const [s, canon] of [
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::1', 'fe80::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
      ['ff00::', 'ff00::'],
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
    ] as const) {
      expect(formatInetAddr(parseInetAddr(s))).toBe(canon);
    }
    expect(formatInetAddr(bytes('0102'))).toBe('0102');
    for (const bad of ['1.2.3', '1.2.3.256', '1:::2', '1:2:3:4:5:6:7:8:9', 'fe80::g', '1::2::3'])
      expect(() => parseInetAddr(bad)).toThrow(/not an IPv4 or IPv6/);
  });
});

describe('malformed payloads', () => {
  const hdr = (len: number, type: number) => new Uint8Array(new Uint32Array([len, type | (NLM_F.REQUEST << 16), 1, 0]).buffer);

  it('rejects a route or address message shorter than its struct, but keeps short GETs raw', () => {
    for (const [type, size] of [
      [RTM.NEWROUTE, 12],
      [RTM.DELADDR, 8],
    ] as const) {
      const r = decode(Uint8Array.from([...hdr(20, type), 0, 0, 0, 0]), { protocol: 0 });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toBeInstanceOf(NetlinkDecodeError);
      expect(r.error.offset).toBe(16);
      expect(r.error.reason).toContain(`(${size})`);
    }
    for (const type of [RTM.GETROUTE, RTM.GETADDR]) {
      const r = decode(Uint8Array.from([...hdr(20, type), 10, 0, 0, 0]), { protocol: 0 });
      expect(r.ok && r.messages[0]!.kind).toBe('raw');
    }
  });

  it('reports an RTA_CACHEINFO of the wrong size, and keeps it raw when lenient', () => {
    const b = Uint8Array.from([...hdr(16 + 12 + 8, RTM.NEWROUTE), 10, 0, 0, 0, 254, 2, 0, 1, 0, 0, 0, 0, 8, 0, 12, 0, 0, 0, 0, 0]);
    const r = decode(b, { protocol: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toMatch(/RTA_CACHEINFO/);
    const l = decode(b, { protocol: 0, lenient: true });
    expect(l.ok).toBe(true);
    if (l.ok) expect(Buffer.from(encode(l.messages[0]!)).toString('hex')).toBe(Buffer.from(b).toString('hex'));
  });
});
