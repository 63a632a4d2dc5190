/**
 * rtnetlink addresses and routes: struct ifaddrmsg + IFA_* (RTM_NEWADDR /
 * DELADDR / GETADDR) and struct rtmsg + RTA_* (RTM_NEWROUTE / DELROUTE /
 * GETROUTE), with their constants.
 *
 * Numbers are those of the Linux 6.1 uapi headers (include/uapi/linux/
 * rtnetlink.h, if_addr.h). IPv4 and IPv6 share the attribute numbers but not
 * the kernel's fill order: the sets below are declared in the IPv4 order
 * (inet_fill_ifaddr(), fib_dump_info()); a decoded IPv6 message keeps its own
 * order (ATTR_ORDER) and re-encodes as it came.
 *
 * Addresses are raw bytes (4 for AF_INET, 16 for AF_INET6, whatever arrived
 * otherwise); JSON and the formatter show them as 192.0.2.1 / fe80::1 text.
 */
import { AttrSet, type AttrsOf, attrTypes, attr } from './attr-set.js';
import { type ValueCodec, be16, binary, s32, string, u16, u32, u8 } from './codecs.js';
import { fromHex, hex } from './hex.js';
import { struct } from './struct.js';
import { NetlinkEncodeError } from './errors.js';

// ---------------------------------------------------------------------------
// Constants

/** rtm_type values (RTN_*). */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;
/** RTN_MAX. */
export const RTN_MAX = 11;

/** rtm_scope / ifa_scope values (enum rt_scope_t). */
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

/** Reserved table ids (enum rt_class_t). */
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** rtm_protocol values (RTPROT_*): who installed the route. */
export const RTPROT = { UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4, RA: 9 } as const;

/** rtm_flags (RTM_F_*); the low byte carries RTNH_F_* of a single nexthop. */
export const RTM_F = {
  NOTIFY: 0x100,
  CLONED: 0x200,
  EQUALIZE: 0x400,
  PREFIX: 0x800,
  LOOKUP_TABLE: 0x1000,
  FIB_MATCH: 0x2000,
  OFFLOAD: 0x4000,
  TRAP: 0x8000,
  OFFLOAD_FAILED: 0x20000000,
} as const;

/** Nexthop flags (RTNH_F_*), reported in rtm_flags for single-path routes. */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16, UNRESOLVED: 32, TRAP: 64 } as const;

/** ifa_flags / IFA_FLAGS bits (IFA_F_*). */
export const IFA_F = {
  SECONDARY: 0x01,
  TEMPORARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** IFA_PROTO values (IFAPROT_*): who configured the address. */
export const IFAPROT = { UNSPEC: 0, KERNEL_LO: 1, KERNEL_RA: 2, KERNEL_LL: 3 } as const;

/** ifa_prefered / ifa_valid of an address that never expires (INFINITY_LIFE_TIME). */
export const INFINITY_LIFE_TIME = 0xffffffff;

// ---------------------------------------------------------------------------
// Fixed structs

/** struct rtmsg: the fixed header of route messages (12 bytes). */
export const rtmsg = struct('rtmsg', {
  family: 'u8',
  dstLen: 'u8',
  srcLen: 'u8',
  tos: 'u8',
  table: 'u8',
  protocol: 'u8',
  scope: 'u8',
  type: 'u8',
  flags: 'u32',
});
export type RtMsg = ReturnType<typeof rtmsg.read>;

/** struct ifaddrmsg: the fixed header of address messages (8 bytes). */
export const ifaddrmsg = struct('ifaddrmsg', {
  family: 'u8',
  prefixlen: 'u8',
  flags: 'u8',
  scope: 'u8',
  index: 'u32',
});
export type IfAddrMsg = ReturnType<typeof ifaddrmsg.read>;

/** struct rta_cacheinfo (RTA_CACHEINFO), 32 bytes. */
export const rtaCacheinfo = struct('rta_cacheinfo', {
  clntref: 'u32',
  lastuse: 'u32',
  expires: 's32',
  error: 'u32',
  used: 'u32',
  id: 'u32',
  ts: 'u32',
  tsage: 'u32',
});
export type RtaCacheinfo = ReturnType<typeof rtaCacheinfo.read>;

/** struct ifa_cacheinfo (IFA_CACHEINFO): lifetimes in seconds, stamps in hundredths of seconds since boot. */
export const ifaCacheinfo = struct('ifa_cacheinfo', { prefered: 'u32', valid: 'u32', cstamp: 'u32', tstamp: 'u32' });
export type IfaCacheinfo = ReturnType<typeof ifaCacheinfo.read>;

// ---------------------------------------------------------------------------
// Addresses as text

/** An IPv4 or IPv6 address as text (RFC 5952 for IPv6); other lengths as hex. */
export function formatInetAddr(a: Uint8Array): string {
  if (a.length === 4) return a.join('.');
  if (a.length !== 16) return hex(a);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i]! << 8) | a[i + 1]!);
  // The longest run of two or more zero groups becomes "::" (the first of equal runs).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const h = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  return best < 0 ? h(groups) : `${h(groups.slice(0, best))}::${h(groups.slice(best + bestLen))}`;
}

/** Inverse of formatInetAddr(): dotted quad, IPv6 text, or hex. Throws NetlinkEncodeError. */
export function parseInetAddr(s: string, path = ''): Uint8Array {
  const bad = () => new NetlinkEncodeError(path, `${JSON.stringify(s)} is not an IPv4 or IPv6 address`);
  if (s.includes(':')) {
    const halves = s.split('::');
    if (halves.length > 2) throw bad();
    const part = (p: string) => (p === '' ? [] : p.split(':'));
    const head = part(halves[0]!);
    const tail = halves.length === 2 ? part(halves[1]!) : [];
    const fill = 8 - head.length - tail.length;
    if (halves.length === 2 ? fill < 1 : fill !== 0) throw bad();
    const groups = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) throw bad();
      const v = parseInt(g, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return out;
  }
  if (s.includes('.')) {
    const parts = s.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) throw bad();
    return Uint8Array.from(parts.map(Number));
  }
  return fromHex(s, path);
}

const rawBytes = binary();

/** An address attribute (IFA_ADDRESS, RTA_DST, ...): bytes, shown as address text. */
const inetAddr: ValueCodec<Uint8Array> = {
  kind: 'inaddr',
  policy: { type: 'UNSPEC' },
  decode: (buf, dv, off, len, ctx) => rawBytes.decode(buf, dv, off, len, ctx),
  write: (w, value, path) => rawBytes.write(w, value, path),
  toJson: (v) => formatInetAddr(v),
  fromJson(json, path) {
    if (typeof json !== 'string') throw new NetlinkEncodeError(path, 'expected an address string');
    return parseInetAddr(json, path);
  },
  format: (v) => formatInetAddr(v) || '<empty>',
};

// ---------------------------------------------------------------------------
// Attribute sets

/**
 * IFA_*: in inet_fill_ifaddr() order (inet6_fill_ifaddr() writes ADDRESS,
 * RT_PRIORITY, CACHEINFO, FLAGS, PROTO), then what only requests or other
 * paths carry. Policies follow ifa_ipv4_policy.
 */
export const ifaAttrs = new AttrSet('ifa', {
  targetNetnsid: attr(10, 'IFA_TARGET_NETNSID', s32),
  address: attr(1, 'IFA_ADDRESS', inetAddr),
  local: attr(2, 'IFA_LOCAL', inetAddr),
  broadcast: attr(4, 'IFA_BROADCAST', inetAddr),
  label: attr(3, 'IFA_LABEL', string({ maxLen: 15 })),
  proto: attr(11, 'IFA_PROTO', u8),
  flags: attr(8, 'IFA_FLAGS', u32),
  rtPriority: attr(9, 'IFA_RT_PRIORITY', u32),
  cacheinfo: attr(6, 'IFA_CACHEINFO', ifaCacheinfo),
  anycast: attr(5, 'IFA_ANYCAST', inetAddr),
  multicast: attr(7, 'IFA_MULTICAST', inetAddr),
});
export type IfaAttrs = AttrsOf<typeof ifaAttrs>;

/**
 * RTA_*: in fib_dump_info() order (rt6_fill_node() writes TABLE, DST, SRC,
 * IIF, PREFSRC, METRICS, PRIORITY, the nexthop, CACHEINFO, PREF), then the
 * request-only and legacy ones. Policies follow rtm_ipv4_policy; METRICS
 * (RTAX_*), MULTIPATH (struct rtnexthop array), VIA, ENCAP and NEWDST stay bytes.
 */
export const rtaAttrs = new AttrSet('rtattr_type', {
  table: attr(15, 'RTA_TABLE', u32),
  dst: attr(1, 'RTA_DST', inetAddr),
  src: attr(2, 'RTA_SRC', inetAddr),
  iif: attr(3, 'RTA_IIF', u32),
  priority: attr(6, 'RTA_PRIORITY', u32),
  metrics: attr(8, 'RTA_METRICS', binary({ policy: 'NESTED' })),
  prefsrc: attr(7, 'RTA_PREFSRC', inetAddr),
  nhId: attr(30, 'RTA_NH_ID', u32),
  gateway: attr(5, 'RTA_GATEWAY', inetAddr),
  via: attr(18, 'RTA_VIA', binary()),
  oif: attr(4, 'RTA_OIF', u32),
  encap: attr(22, 'RTA_ENCAP', binary({ policy: 'NESTED' })),
  encapType: attr(21, 'RTA_ENCAP_TYPE', u16),
  flow: attr(11, 'RTA_FLOW', u32),
  multipath: attr(9, 'RTA_MULTIPATH', binary({ policy: 'UNSPEC', len: 8 })),
  expires: attr(23, 'RTA_EXPIRES', u32),
  cacheinfo: attr(12, 'RTA_CACHEINFO', rtaCacheinfo),
  pref: attr(20, 'RTA_PREF', u8),
  mark: attr(16, 'RTA_MARK', u32),
  uid: attr(25, 'RTA_UID', u32),
  ipProto: attr(27, 'RTA_IP_PROTO', u8),
  // Transport ports travel in network byte order under NLA_U16 policies.
  sport: attr(28, 'RTA_SPORT', be16, { type: 'U16' }),
  dport: attr(29, 'RTA_DPORT', be16, { type: 'U16' }),
  ttlPropagate: attr(26, 'RTA_TTL_PROPAGATE', u8),
  newdst: attr(19, 'RTA_NEWDST', binary()),
  mfcStats: attr(17, 'RTA_MFC_STATS', binary()),
  pad: attr(24, 'RTA_PAD', binary()),
  // No longer used by the kernel.
  protoinfo: attr(10, 'RTA_PROTOINFO', binary()),
  session: attr(13, 'RTA_SESSION', binary()),
  mpAlgo: attr(14, 'RTA_MP_ALGO', binary()),
});
export type RtaAttrs = AttrsOf<typeof rtaAttrs>;

// ---------------------------------------------------------------------------
// Attribute numbers, for code that reads attributes with nlaParse() (the kernel model)

export const IFA = attrTypes(ifaAttrs, 'IFA_');
export const RTA = attrTypes(rtaAttrs, 'RTA_');
