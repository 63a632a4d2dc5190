/**
 * rtnetlink (NETLINK_ROUTE) link and qdisc messages: struct ifinfomsg + IFLA_*
 * attributes (RTM_NEWLINK / DELLINK / GETLINK / SETLINK) and struct tcmsg +
 * TCA_* attributes (RTM_NEWQDISC / DELQDISC / GETQDISC); address and route
 * messages (ifaddrmsg + IFA_*, rtmsg + RTA_*) come from rtnetlink-route.ts.
 * Other rtnetlink message types are left to message.ts, which keeps them raw.
 *
 * Numbers are those of the Linux 6.1 uapi headers (include/uapi/linux/
 * rtnetlink.h, if_link.h, if.h, if_arp.h, if_tunnel.h, veth.h, pkt_sched.h).
 * Attribute sets are declared in the order the kernel writes them
 * (rtnl_fill_ifinfo, vxlan_fill_info, geneve_fill_info, ipgre_fill_info,
 * tc_fill_qdisc), and carry the kernel's nla_policy where it differs from the
 * value type; attributes the kernel only reads come last.
 *
 * IFLA_INFO_DATA is typed by IFLA_INFO_KIND: vxlan, geneve, the GRE family and
 * veth decode to their attribute sets; any other kind (dummy, ovs_geneve, ...)
 * keeps its bytes.
 */
import type { JsonValue } from './attr-json.js';
import { attrTypes, AttrSet, type AttrsOf, attr } from './attr-set.js';
import { DecodeContext, type ValueCodec, be16, be32, binary, flag, nested, prefixed, s32, string, u16, u32, u32Enum, u8, u8Enum } from './codecs.js';
import { fromHex, hex } from './hex.js';
import { struct } from './struct.js';
import type { Writer } from './writer.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import { NLA_TYPE_MASK, NetlinkProtocol, type NlmsgHeader, align4 } from './netlink.js';
import { IFNAMSIZ } from './ovs.js';
import { type IfAddrMsg, type IfaAttrs, type RtMsg, type RtaAttrs, ifaAttrs, ifaddrmsg, rtaAttrs, rtmsg } from './rtnetlink-route.js';

// ---------------------------------------------------------------------------
// Constants

/** rtnetlink message types (enum in include/uapi/linux/rtnetlink.h). */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
  NEWRULE: 32,
  DELRULE: 33,
  GETRULE: 34,
  NEWQDISC: 36,
  DELQDISC: 37,
  GETQDISC: 38,
  NEWTCLASS: 40,
  DELTCLASS: 41,
  GETTCLASS: 42,
  NEWTFILTER: 44,
  DELTFILTER: 45,
  GETTFILTER: 46,
  NEWACTION: 48,
  DELACTION: 49,
  GETACTION: 50,
  NEWPREFIX: 52,
  GETMULTICAST: 58,
  GETANYCAST: 62,
  NEWNEIGHTBL: 64,
  GETNEIGHTBL: 66,
  SETNEIGHTBL: 67,
  NEWNDUSEROPT: 68,
  NEWADDRLABEL: 72,
  DELADDRLABEL: 73,
  GETADDRLABEL: 74,
  GETDCB: 78,
  SETDCB: 79,
  NEWNETCONF: 80,
  DELNETCONF: 81,
  GETNETCONF: 82,
  NEWMDB: 84,
  DELMDB: 85,
  GETMDB: 86,
  NEWNSID: 88,
  DELNSID: 89,
  GETNSID: 90,
  NEWSTATS: 92,
  GETSTATS: 94,
  SETSTATS: 95,
  NEWCACHEREPORT: 96,
  NEWCHAIN: 100,
  DELCHAIN: 101,
  GETCHAIN: 102,
  NEWNEXTHOP: 104,
  DELNEXTHOP: 105,
  GETNEXTHOP: 106,
  NEWLINKPROP: 108,
  DELLINKPROP: 109,
  GETLINKPROP: 110,
  NEWVLAN: 112,
  DELVLAN: 113,
  GETVLAN: 114,
  NEWNEXTHOPBUCKET: 116,
  DELNEXTHOPBUCKET: 117,
  GETNEXTHOPBUCKET: 118,
  NEWTUNNEL: 120,
  DELTUNNEL: 121,
  GETTUNNEL: 122,
} as const;

const rtmNames = new Map<number, string>(Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]));

/** The uapi name of an rtnetlink message type, e.g. RTM_NEWLINK. */
export function rtmName(type: number): string | undefined {
  return rtmNames.get(type);
}

/** rtnetlink multicast groups (enum rtnetlink_groups), for NETLINK_ADD_MEMBERSHIP. */
export const RTNLGRP = {
  NONE: 0,
  LINK: 1,
  NOTIFY: 2,
  NEIGH: 3,
  TC: 4,
  IPV4_IFADDR: 5,
  IPV4_MROUTE: 6,
  IPV4_ROUTE: 7,
  IPV4_RULE: 8,
  IPV6_IFADDR: 9,
  IPV6_MROUTE: 10,
  IPV6_ROUTE: 11,
  IPV6_IFINFO: 12,
  DECnet_IFADDR: 13,
  DECnet_ROUTE: 15,
  DECnet_RULE: 16,
  IPV6_PREFIX: 18,
  IPV6_RULE: 19,
  ND_USEROPT: 20,
  PHONET_IFADDR: 21,
  PHONET_ROUTE: 22,
  DCB: 23,
  IPV4_NETCONF: 24,
  IPV6_NETCONF: 25,
  MDB: 26,
  MPLS_ROUTE: 27,
  NSID: 28,
  MPLS_NETCONF: 29,
  IPV4_MROUTE_R: 30,
  IPV6_MROUTE_R: 31,
  NEXTHOP: 32,
  BRVLAN: 33,
  MCTP_IFADDR: 34,
  TUNNEL: 35,
  STATS: 36,
} as const;
export const RTNLGRP_LINK = RTNLGRP.LINK;
/** The legacy bind(2) group bitmask for link notifications (RTMGRP_LINK = 1 << (RTNLGRP_LINK - 1)). */
export const RTMGRP_LINK = 1;

/** Address families (include/linux/socket.h) found in ifi_family / tcm_family. */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

/** ifi_type values (include/uapi/linux/if_arp.h). */
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_NONE = 0xfffe;

/** Device flags in ifi_flags / ifi_change (enum net_device_flags, include/uapi/linux/if.h). */
export const IFF = {
  UP: 1 << 0,
  BROADCAST: 1 << 1,
  DEBUG: 1 << 2,
  LOOPBACK: 1 << 3,
  POINTOPOINT: 1 << 4,
  NOTRAILERS: 1 << 5,
  RUNNING: 1 << 6,
  NOARP: 1 << 7,
  PROMISC: 1 << 8,
  ALLMULTI: 1 << 9,
  MASTER: 1 << 10,
  SLAVE: 1 << 11,
  MULTICAST: 1 << 12,
  PORTSEL: 1 << 13,
  AUTOMEDIA: 1 << 14,
  DYNAMIC: 1 << 15,
  LOWER_UP: 1 << 16,
  DORMANT: 1 << 17,
  ECHO: 1 << 18,
} as const;

/** RFC 2863 operational states: IFLA_OPERSTATE. */
export const IF_OPER = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;

/** IFLA_LINKMODE values. */
export const IF_LINK_MODE = { DEFAULT: 0, DORMANT: 1, TESTING: 2 } as const;

/** IFLA_XDP_ATTACHED values. */
export const XDP_ATTACHED = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

/** IFLA_EVENT values. */
export const IFLA_EVENT = {
  NONE: 0,
  REBOOT: 1,
  FEATURES: 2,
  BONDING_FAILOVER: 3,
  NOTIFY_PEERS: 4,
  IGMP_RESEND: 5,
  BONDING_OPTIONS: 6,
} as const;

/** IFLA_VXLAN_DF / IFLA_GENEVE_DF values (enum ifla_vxlan_df, enum ifla_geneve_df). */
export const TUNNEL_DF = { UNSET: 0, SET: 1, INHERIT: 2 } as const;

/** Traffic-control handles (include/uapi/linux/pkt_sched.h). */
export const TC_H = {
  UNSPEC: 0,
  ROOT: 0xffffffff,
  INGRESS: 0xfffffff1,
  CLSACT: 0xfffffff1,
  MAJ_MASK: 0xffff0000,
  MIN_MASK: 0x0000ffff,
  MIN_PRIORITY: 0xffe0,
  MIN_INGRESS: 0xfff2,
  MIN_EGRESS: 0xfff3,
} as const;

/** MAX_ADDR_LEN (include/linux/netdevice.h): the policy length of link-layer addresses. */
const MAX_ADDR_LEN = 32;
/** MAX_PHYS_ITEM_ID_LEN (include/linux/netdevice.h). */
const MAX_PHYS_ITEM_ID_LEN = 32;
const IFALIASZ = 256;
const ALTIFNAMSIZ = 128;

// ---------------------------------------------------------------------------
// Fixed structs

/** struct ifinfomsg: the fixed header of link messages (16 bytes). */
export const ifinfomsg = struct('ifinfomsg', {
  family: 'u8',
  pad: 'u8',
  type: 'u16',
  index: 's32',
  flags: 'u32',
  change: 'u32',
});
export type IfInfoMsg = ReturnType<typeof ifinfomsg.read>;

/** struct tcmsg: the fixed header of traffic-control messages (20 bytes). */
export const tcmsg = struct('tcmsg', {
  family: 'u8',
  pad1: 'u8',
  pad2: 'u16',
  ifindex: 's32',
  handle: 'u32',
  parent: 'u32',
  info: 'u32',
});
export type TcMsg = ReturnType<typeof tcmsg.read>;

/** struct rtnl_link_stats (IFLA_STATS): 24 u32 counters, 96 bytes. */
export const rtnlLinkStats = struct('rtnl_link_stats', {
  rxPackets: 'u32',
  txPackets: 'u32',
  rxBytes: 'u32',
  txBytes: 'u32',
  rxErrors: 'u32',
  txErrors: 'u32',
  rxDropped: 'u32',
  txDropped: 'u32',
  multicast: 'u32',
  collisions: 'u32',
  rxLengthErrors: 'u32',
  rxOverErrors: 'u32',
  rxCrcErrors: 'u32',
  rxFrameErrors: 'u32',
  rxFifoErrors: 'u32',
  rxMissedErrors: 'u32',
  txAbortedErrors: 'u32',
  txCarrierErrors: 'u32',
  txFifoErrors: 'u32',
  txHeartbeatErrors: 'u32',
  txWindowErrors: 'u32',
  rxCompressed: 'u32',
  txCompressed: 'u32',
  rxNohandler: 'u32',
});

/** struct rtnl_link_stats64 (IFLA_STATS64): 25 u64 counters in 6.1 (rx_otherhost_dropped is new in 5.19), 200 bytes. */
export const rtnlLinkStats64 = struct('rtnl_link_stats64', {
  rxPackets: 'u64',
  txPackets: 'u64',
  rxBytes: 'u64',
  txBytes: 'u64',
  rxErrors: 'u64',
  txErrors: 'u64',
  rxDropped: 'u64',
  txDropped: 'u64',
  multicast: 'u64',
  collisions: 'u64',
  rxLengthErrors: 'u64',
  rxOverErrors: 'u64',
  rxCrcErrors: 'u64',
  rxFrameErrors: 'u64',
  rxFifoErrors: 'u64',
  rxMissedErrors: 'u64',
  txAbortedErrors: 'u64',
  txCarrierErrors: 'u64',
  txFifoErrors: 'u64',
  txHeartbeatErrors: 'u64',
  txWindowErrors: 'u64',
  rxCompressed: 'u64',
  txCompressed: 'u64',
  rxNohandler: 'u64',
  rxOtherhostDropped: 'u64',
});

/**
 * struct rtnl_link_ifmap (IFLA_MAP) as laid out on 64-bit hosts: 28 bytes of
 * fields and 4 bytes of tail padding (the u64 members align the struct to 8),
 * kept as `pad` so that whatever it holds re-encodes.
 */
export const rtnlLinkIfmap = struct('rtnl_link_ifmap', {
  memStart: 'u64',
  memEnd: 'u64',
  baseAddr: 'u64',
  irq: 'u16',
  dma: 'u8',
  port: 'u8',
  pad: 'u32',
});

/** struct ifla_vxlan_port_range (IFLA_VXLAN_PORT_RANGE): UDP source ports, network byte order. */
export const iflaVxlanPortRange = struct('ifla_vxlan_port_range', { low: 'be16', high: 'be16' });

// ---------------------------------------------------------------------------
// Value codecs particular to rtnetlink

/**
 * IFLA_VXLAN_TTL_INHERIT is an NLA_FLAG in vxlan_policy (requests), but
 * vxlan_fill_info() reports it as a u8: `true` is the empty flag, a number the u8.
 */
const flagOrU8: ValueCodec<true | number> = {
  kind: 'flag|u8',
  policy: { type: 'FLAG' },
  decode(_buf, dv, off, len) {
    if (len === 0) return true;
    if (len === 1) return dv.getUint8(off);
    throw new NetlinkDecodeError(off - 4, `flag or u8 attribute has a ${len}-byte payload`);
  },
  write(w, value, path) {
    if (value !== true) u8.write(w, value, path);
  },
  toJson: (v) => v,
  fromJson: (j, path) => (j === true ? true : u8.fromJson(j, path)),
  format: (v) => String(v),
};

/** Prefix every key of a constant table, for enum codecs that show uapi names. */

// ---------------------------------------------------------------------------
// Kind-specific IFLA_INFO_DATA sets

/** IFLA_VXLAN_*, in vxlan_fill_info() order (GROUP/GROUP6 and LOCAL/LOCAL6 are alternatives). */
export const iflaVxlanAttrs = new AttrSet('ifla_vxlan', {
  id: attr(1, 'IFLA_VXLAN_ID', u32),
  group: attr(2, 'IFLA_VXLAN_GROUP', binary({ policy: 'UNSPEC', len: 4 })),
  group6: attr(16, 'IFLA_VXLAN_GROUP6', binary({ policy: 'UNSPEC', len: 16 })),
  link: attr(3, 'IFLA_VXLAN_LINK', u32),
  local: attr(4, 'IFLA_VXLAN_LOCAL', binary({ policy: 'UNSPEC', len: 4 })),
  local6: attr(17, 'IFLA_VXLAN_LOCAL6', binary({ policy: 'UNSPEC', len: 16 })),
  ttl: attr(5, 'IFLA_VXLAN_TTL', u8),
  ttlInherit: attr(28, 'IFLA_VXLAN_TTL_INHERIT', flagOrU8),
  tos: attr(6, 'IFLA_VXLAN_TOS', u8),
  df: attr(29, 'IFLA_VXLAN_DF', u8Enum(prefixed('VXLAN_DF_', TUNNEL_DF))),
  // The kernel reads and writes the label as __be32 under an NLA_U32 policy.
  label: attr(26, 'IFLA_VXLAN_LABEL', be32, { type: 'U32' }),
  learning: attr(7, 'IFLA_VXLAN_LEARNING', u8),
  proxy: attr(11, 'IFLA_VXLAN_PROXY', u8),
  rsc: attr(12, 'IFLA_VXLAN_RSC', u8),
  l2miss: attr(13, 'IFLA_VXLAN_L2MISS', u8),
  l3miss: attr(14, 'IFLA_VXLAN_L3MISS', u8),
  collectMetadata: attr(25, 'IFLA_VXLAN_COLLECT_METADATA', u8),
  ageing: attr(8, 'IFLA_VXLAN_AGEING', u32),
  limit: attr(9, 'IFLA_VXLAN_LIMIT', u32),
  // Destination UDP port, network byte order under an NLA_U16 policy.
  port: attr(15, 'IFLA_VXLAN_PORT', be16, { type: 'U16' }),
  udpCsum: attr(18, 'IFLA_VXLAN_UDP_CSUM', u8),
  udpZeroCsum6Tx: attr(19, 'IFLA_VXLAN_UDP_ZERO_CSUM6_TX', u8),
  udpZeroCsum6Rx: attr(20, 'IFLA_VXLAN_UDP_ZERO_CSUM6_RX', u8),
  remcsumTx: attr(21, 'IFLA_VXLAN_REMCSUM_TX', u8),
  remcsumRx: attr(22, 'IFLA_VXLAN_REMCSUM_RX', u8),
  portRange: attr(10, 'IFLA_VXLAN_PORT_RANGE', iflaVxlanPortRange),
  gbp: attr(23, 'IFLA_VXLAN_GBP', flag),
  gpe: attr(27, 'IFLA_VXLAN_GPE', flag),
  remcsumNopartial: attr(24, 'IFLA_VXLAN_REMCSUM_NOPARTIAL', flag),
  vnifilter: attr(30, 'IFLA_VXLAN_VNIFILTER', u8),
});
export type IflaVxlanAttrs = AttrsOf<typeof iflaVxlanAttrs>;

/** IFLA_GENEVE_*, in geneve_fill_info() order (REMOTE+UDP_CSUM or REMOTE6+UDP_ZERO_CSUM6_TX). */
export const iflaGeneveAttrs = new AttrSet('ifla_geneve', {
  id: attr(1, 'IFLA_GENEVE_ID', u32),
  remote: attr(2, 'IFLA_GENEVE_REMOTE', binary({ policy: 'UNSPEC', len: 4 })),
  udpCsum: attr(8, 'IFLA_GENEVE_UDP_CSUM', u8),
  remote6: attr(7, 'IFLA_GENEVE_REMOTE6', binary({ policy: 'UNSPEC', len: 16 })),
  udpZeroCsum6Tx: attr(9, 'IFLA_GENEVE_UDP_ZERO_CSUM6_TX', u8),
  ttl: attr(3, 'IFLA_GENEVE_TTL', u8),
  tos: attr(4, 'IFLA_GENEVE_TOS', u8),
  label: attr(11, 'IFLA_GENEVE_LABEL', be32, { type: 'U32' }),
  df: attr(13, 'IFLA_GENEVE_DF', u8Enum(prefixed('GENEVE_DF_', TUNNEL_DF))),
  port: attr(5, 'IFLA_GENEVE_PORT', be16, { type: 'U16' }),
  collectMetadata: attr(6, 'IFLA_GENEVE_COLLECT_METADATA', flag),
  udpZeroCsum6Rx: attr(10, 'IFLA_GENEVE_UDP_ZERO_CSUM6_RX', u8),
  ttlInherit: attr(12, 'IFLA_GENEVE_TTL_INHERIT', u8),
  innerProtoInherit: attr(14, 'IFLA_GENEVE_INNER_PROTO_INHERIT', flag),
});
export type IflaGeneveAttrs = AttrsOf<typeof iflaGeneveAttrs>;

/**
 * IFLA_GRE_* (include/uapi/linux/if_tunnel.h), shared by gre, gretap, erspan,
 * ip6gre, ip6gretap and ip6erspan, in ipgre_fill_info() order; the ip6gre-only
 * ENCAP_LIMIT/FLOWINFO/FLAGS sit where ip6gre_fill_info() puts them. The
 * erspan kinds write ERSPAN_* first; a decoded message keeps that order.
 * LOCAL/REMOTE are 4 bytes (16 for the ip6 kinds).
 */
export const iflaGreAttrs = new AttrSet('ifla_gre', {
  link: attr(1, 'IFLA_GRE_LINK', u32),
  // GRE_* flag bits and keys travel in network byte order under U16/U32 policies.
  iflags: attr(2, 'IFLA_GRE_IFLAGS', be16, { type: 'U16' }),
  oflags: attr(3, 'IFLA_GRE_OFLAGS', be16, { type: 'U16' }),
  ikey: attr(4, 'IFLA_GRE_IKEY', be32, { type: 'U32' }),
  okey: attr(5, 'IFLA_GRE_OKEY', be32, { type: 'U32' }),
  local: attr(6, 'IFLA_GRE_LOCAL', binary({ policy: 'UNSPEC', len: 4 })),
  remote: attr(7, 'IFLA_GRE_REMOTE', binary({ policy: 'UNSPEC', len: 4 })),
  ttl: attr(8, 'IFLA_GRE_TTL', u8),
  tos: attr(9, 'IFLA_GRE_TOS', u8),
  pmtudisc: attr(10, 'IFLA_GRE_PMTUDISC', u8),
  encapLimit: attr(11, 'IFLA_GRE_ENCAP_LIMIT', u8),
  flowinfo: attr(12, 'IFLA_GRE_FLOWINFO', be32, { type: 'U32' }),
  flags: attr(13, 'IFLA_GRE_FLAGS', u32),
  fwmark: attr(20, 'IFLA_GRE_FWMARK', u32),
  encapType: attr(14, 'IFLA_GRE_ENCAP_TYPE', u16),
  encapSport: attr(16, 'IFLA_GRE_ENCAP_SPORT', be16, { type: 'U16' }),
  encapDport: attr(17, 'IFLA_GRE_ENCAP_DPORT', be16, { type: 'U16' }),
  encapFlags: attr(15, 'IFLA_GRE_ENCAP_FLAGS', u16),
  ignoreDf: attr(19, 'IFLA_GRE_IGNORE_DF', u8),
  collectMetadata: attr(18, 'IFLA_GRE_COLLECT_METADATA', flag),
  erspanVer: attr(22, 'IFLA_GRE_ERSPAN_VER', u8),
  erspanIndex: attr(21, 'IFLA_GRE_ERSPAN_INDEX', u32),
  erspanDir: attr(23, 'IFLA_GRE_ERSPAN_DIR', u8),
  erspanHwid: attr(24, 'IFLA_GRE_ERSPAN_HWID', u16),
});
export type IflaGreAttrs = AttrsOf<typeof iflaGreAttrs>;

/** IFLA_XDP_*, in rtnl_xdp_fill() order; FD, EXPECTED_FD and FLAGS are request-only. */
export const iflaXdpAttrs = new AttrSet('ifla_xdp', {
  skbProgId: attr(6, 'IFLA_XDP_SKB_PROG_ID', u32, { type: 'UNSPEC' }),
  drvProgId: attr(5, 'IFLA_XDP_DRV_PROG_ID', u32, { type: 'UNSPEC' }),
  hwProgId: attr(7, 'IFLA_XDP_HW_PROG_ID', u32, { type: 'UNSPEC' }),
  attached: attr(2, 'IFLA_XDP_ATTACHED', u8Enum(prefixed('XDP_ATTACHED_', XDP_ATTACHED))),
  progId: attr(4, 'IFLA_XDP_PROG_ID', u32),
  fd: attr(1, 'IFLA_XDP_FD', s32),
  expectedFd: attr(8, 'IFLA_XDP_EXPECTED_FD', s32),
  flags: attr(3, 'IFLA_XDP_FLAGS', u32),
});

/** IFLA_PROTO_DOWN_REASON_*. */
export const iflaProtoDownReasonAttrs = new AttrSet('ifla_proto_down_reason', {
  mask: attr(1, 'IFLA_PROTO_DOWN_REASON_MASK', u32),
  value: attr(2, 'IFLA_PROTO_DOWN_REASON_VALUE', u32),
});

// ---------------------------------------------------------------------------
// IFLA_INFO_DATA, typed by IFLA_INFO_KIND

/** The IFLA_INFO_KIND values whose IFLA_INFO_DATA this codec types, and their attribute sets. */
const LINK_KIND_SETS = {
  vxlan: 'vxlan',
  geneve: 'geneve',
  gre: 'gre',
  gretap: 'gre',
  erspan: 'gre',
  ip6gre: 'gre',
  ip6gretap: 'gre',
  ip6erspan: 'gre',
  veth: 'veth',
} as const;

/**
 * IFLA_INFO_DATA: a kind-specific nest (`set` names the attribute set) or,
 * for a kind this codec does not model, the payload as found.
 */
export type InfoData =
  | { set: 'vxlan'; attrs: IflaVxlanAttrs }
  | { set: 'geneve'; attrs: IflaGeneveAttrs }
  | { set: 'gre'; attrs: IflaGreAttrs }
  | { set: 'veth'; attrs: VethInfoAttrs }
  | { set: 'raw'; bytes: Uint8Array };
type InfoDataSet = Exclude<InfoData['set'], 'raw'>;

function setOfKind(kind: string | undefined): InfoDataSet | undefined {
  return kind !== undefined && Object.hasOwn(LINK_KIND_SETS, kind) ? LINK_KIND_SETS[kind as keyof typeof LINK_KIND_SETS] : undefined;
}

// Uapi name prefixes, to tell a JSON nest's set when IFLA_INFO_KIND does not.
const setPrefixes: ReadonlyArray<[string, InfoDataSet]> = [
  ['IFLA_VXLAN_', 'vxlan'],
  ['IFLA_GENEVE_', 'geneve'],
  ['IFLA_GRE_', 'gre'],
  ['VETH_INFO_', 'veth'],
];

/**
 * IFLA_INFO_DATA for a nest whose IFLA_INFO_KIND names `kindSet` (undefined:
 * no kind, or one not modelled). Each kind has its own codec, and its own
 * IFLA_INFO set (iflaInfoAttrsOf), so that the kind travels with the decode
 * instead of through module state.
 */
const infoDataCodec = (kindSet: InfoDataSet | undefined): ValueCodec<InfoData> => ({
  kind: 'info_data',
  policy: { type: 'NESTED' },
  decode(buf, dv, off, len, ctx) {
    switch (kindSet) {
      case 'vxlan':
        return { set: 'vxlan', attrs: iflaVxlanAttrs.decode(buf, dv, off, off + len, ctx) };
      case 'geneve':
        return { set: 'geneve', attrs: iflaGeneveAttrs.decode(buf, dv, off, off + len, ctx) };
      case 'gre':
        return { set: 'gre', attrs: iflaGreAttrs.decode(buf, dv, off, off + len, ctx) };
      case 'veth':
        return { set: 'veth', attrs: vethInfoAttrs.decode(buf, dv, off, off + len, ctx) };
      default:
        return { set: 'raw', bytes: buf.slice(off, off + len) };
    }
  },
  write(w, value, path) {
    switch (value?.set) {
      case 'vxlan':
        return iflaVxlanAttrs.write(w, value.attrs, path);
      case 'geneve':
        return iflaGeneveAttrs.write(w, value.attrs, path);
      case 'gre':
        return iflaGreAttrs.write(w, value.attrs, path);
      case 'veth':
        return vethInfoAttrs.write(w, value.attrs, path);
      case 'raw':
        if (!(value.bytes instanceof Uint8Array)) throw new NetlinkEncodeError(path, 'raw IFLA_INFO_DATA needs `bytes` (a Uint8Array)');
        return w.bytes(value.bytes);
      default:
        throw new NetlinkEncodeError(path, 'expected IFLA_INFO_DATA as { set, attrs } or { set: "raw", bytes }');
    }
  },
  toJson(value) {
    switch (value.set) {
      case 'vxlan':
        return iflaVxlanAttrs.toJson(value.attrs);
      case 'geneve':
        return iflaGeneveAttrs.toJson(value.attrs);
      case 'gre':
        return iflaGreAttrs.toJson(value.attrs);
      case 'veth':
        return vethInfoAttrs.toJson(value.attrs);
      case 'raw':
        return hex(value.bytes);
    }
  },
  fromJson(json, path) {
    // Raw payloads are hex strings; nests are objects of uapi-named attributes.
    if (typeof json === 'string') return { set: 'raw', bytes: fromHex(json, path) };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new NetlinkEncodeError(path, 'expected IFLA_INFO_DATA as an object of attributes or a hex string');
    }
    const keys = Object.keys(json);
    const set = kindSet ?? setPrefixes.find(([p]) => keys.length > 0 && keys.every((k) => k.startsWith(p)))?.[1];
    switch (set) {
      case 'vxlan':
        return { set, attrs: iflaVxlanAttrs.fromJson(json, path) };
      case 'geneve':
        return { set, attrs: iflaGeneveAttrs.fromJson(json, path) };
      case 'gre':
        return { set, attrs: iflaGreAttrs.fromJson(json, path) };
      case 'veth':
        return { set, attrs: vethInfoAttrs.fromJson(json, path) };
      default:
        // An empty nest of an unknown set has no bytes either way.
        if (keys.length === 0) return { set: 'raw', bytes: new Uint8Array(0) };
        throw new NetlinkEncodeError(path, 'cannot tell the IFLA_INFO_DATA attribute set: give IFLA_INFO_KIND or a hex string');
    }
  },
  format: (v) => (v.set === 'raw' ? hex(v.bytes) || '<empty>' : `{${v.set}}`),
});

/** IFLA_INFO_*, in rtnl_link_info_fill() / rtnl_link_slave_info_fill() order, with IFLA_INFO_DATA of `kindSet`. */
const iflaInfoSet = (kindSet: InfoDataSet | undefined) =>
  new AttrSet('ifla_info', {
    // iproute2 sends the kind without a NUL; the kernel and OVS include it.
    kind: attr(1, 'IFLA_INFO_KIND', string()),
    xstats: attr(3, 'IFLA_INFO_XSTATS', binary({ policy: 'UNSPEC' })),
    data: attr(2, 'IFLA_INFO_DATA', infoDataCodec(kindSet)),
    slaveKind: attr(4, 'IFLA_INFO_SLAVE_KIND', string()),
    slaveData: attr(5, 'IFLA_INFO_SLAVE_DATA', binary({ policy: 'NESTED' })),
  });

/** IFLA_INFO_*: IFLA_INFO_DATA is typed by the set its value names, raw when read without a kind. */
export const iflaInfoAttrs = iflaInfoSet(undefined);
export type IflaInfoAttrs = AttrsOf<typeof iflaInfoAttrs>;

/** The IFLA_INFO set that reads IFLA_INFO_DATA as the given kind does. */
const iflaInfoAttrsOfSet: Readonly<Record<InfoDataSet, typeof iflaInfoAttrs>> = {
  vxlan: iflaInfoSet('vxlan'),
  geneve: iflaInfoSet('geneve'),
  gre: iflaInfoSet('gre'),
  veth: iflaInfoSet('veth'),
};
function iflaInfoAttrsOf(kind: string | undefined): typeof iflaInfoAttrs {
  const set = setOfKind(kind);
  return set === undefined ? iflaInfoAttrs : iflaInfoAttrsOfSet[set];
}

/**
 * The IFLA_INFO_KIND string of an IFLA_LINKINFO payload, found before decoding
 * it (DATA may come first). Like nla_parse(), the last of repeated ones counts.
 */
function scanKind(buf: Uint8Array, dv: DataView, off: number, end: number): string | undefined {
  let kind: string | undefined;
  while (end - off >= 4) {
    const len = dv.getUint16(off, true);
    if (len < 4 || len > end - off) break; // the real decode reports it
    if ((dv.getUint16(off + 2, true) & NLA_TYPE_MASK) === 1) {
      let z = off + 4;
      while (z < off + len && buf[z] !== 0) z++;
      kind = String.fromCharCode(...buf.subarray(off + 4, z));
    }
    off += align4(len);
  }
  return kind;
}

function kindFromJson(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  let v: unknown = (json as Record<string, unknown>).IFLA_INFO_KIND;
  if (v !== null && typeof v === 'object' && 'value' in v) v = (v as { value: unknown }).value; // flags wrapper
  return typeof v === 'string' ? v : undefined;
}

/** IFLA_LINKINFO: iflaInfoAttrs, with IFLA_INFO_DATA decoded by the set its IFLA_INFO_KIND names. */
const linkInfoCodec: ValueCodec<IflaInfoAttrs> = {
  kind: 'nested',
  get policy() {
    return { type: 'NESTED' as const, nested: iflaInfoAttrs };
  },
  decode: (buf, dv, off, len, ctx) => iflaInfoAttrsOf(scanKind(buf, dv, off, off + len)).decode(buf, dv, off, off + len, ctx),
  write(w, value, path) {
    if (value === null || typeof value !== 'object') throw new NetlinkEncodeError(path, 'expected nested attributes');
    iflaInfoAttrs.write(w, value, path);
  },
  toJson: (v) => iflaInfoAttrs.toJson(v),
  fromJson: (j, path) => iflaInfoAttrsOf(kindFromJson(j)).fromJson(j, path),
  format: (v) => `{${v.kind ?? '?'}}`,
};

// ---------------------------------------------------------------------------
// IFLA_*

/**
 * IFLA_*: every attribute of Linux 6.1, in rtnl_fill_ifinfo() order, then the
 * request-only ones. Policies follow ifla_policy; an attribute the policy has
 * no entry for is NLA_UNSPEC.
 */
export const iflaAttrs = new AttrSet('ifla', {
  // IFLA_TARGET_NETNSID is the newer alias of IFLA_IF_NETNSID (46).
  ifNetnsid: attr(46, 'IFLA_IF_NETNSID', s32),
  ifname: attr(3, 'IFLA_IFNAME', string({ maxLen: IFNAMSIZ - 1 })),
  txqlen: attr(13, 'IFLA_TXQLEN', u32),
  operstate: attr(16, 'IFLA_OPERSTATE', u8Enum(prefixed('IF_OPER_', IF_OPER))),
  linkmode: attr(17, 'IFLA_LINKMODE', u8Enum(prefixed('IF_LINK_MODE_', IF_LINK_MODE))),
  mtu: attr(4, 'IFLA_MTU', u32),
  minMtu: attr(50, 'IFLA_MIN_MTU', u32),
  maxMtu: attr(51, 'IFLA_MAX_MTU', u32),
  group: attr(27, 'IFLA_GROUP', u32),
  promiscuity: attr(30, 'IFLA_PROMISCUITY', u32),
  allmulti: attr(61, 'IFLA_ALLMULTI', u32, { type: 'REJECT' }),
  numTxQueues: attr(31, 'IFLA_NUM_TX_QUEUES', u32),
  gsoMaxSegs: attr(40, 'IFLA_GSO_MAX_SEGS', u32),
  gsoMaxSize: attr(41, 'IFLA_GSO_MAX_SIZE', u32),
  groMaxSize: attr(58, 'IFLA_GRO_MAX_SIZE', u32),
  tsoMaxSize: attr(59, 'IFLA_TSO_MAX_SIZE', u32, { type: 'REJECT' }),
  tsoMaxSegs: attr(60, 'IFLA_TSO_MAX_SEGS', u32, { type: 'REJECT' }),
  numRxQueues: attr(32, 'IFLA_NUM_RX_QUEUES', u32),
  master: attr(10, 'IFLA_MASTER', u32),
  carrier: attr(33, 'IFLA_CARRIER', u8),
  qdisc: attr(6, 'IFLA_QDISC', string(), { type: 'UNSPEC' }),
  // NLA_BINARY in ifla_policy so that an empty alias can clear it.
  ifalias: attr(20, 'IFLA_IFALIAS', string(), { type: 'BINARY', len: IFALIASZ - 1 }),
  carrierChanges: attr(35, 'IFLA_CARRIER_CHANGES', u32),
  carrierUpCount: attr(47, 'IFLA_CARRIER_UP_COUNT', u32),
  carrierDownCount: attr(48, 'IFLA_CARRIER_DOWN_COUNT', u32),
  protoDown: attr(39, 'IFLA_PROTO_DOWN', u8),
  protoDownReason: attr(55, 'IFLA_PROTO_DOWN_REASON', nested(iflaProtoDownReasonAttrs)),
  event: attr(44, 'IFLA_EVENT', u32Enum(prefixed('IFLA_EVENT_', IFLA_EVENT))),
  map: attr(14, 'IFLA_MAP', rtnlLinkIfmap),
  address: attr(1, 'IFLA_ADDRESS', binary({ len: MAX_ADDR_LEN })),
  broadcast: attr(2, 'IFLA_BROADCAST', binary({ len: MAX_ADDR_LEN })),
  physPortId: attr(34, 'IFLA_PHYS_PORT_ID', binary({ len: MAX_PHYS_ITEM_ID_LEN })),
  physPortName: attr(38, 'IFLA_PHYS_PORT_NAME', string(), { type: 'UNSPEC' }),
  physSwitchId: attr(36, 'IFLA_PHYS_SWITCH_ID', binary({ len: MAX_PHYS_ITEM_ID_LEN })),
  // Where the kernel aligns a 64-bit payload (nla_reserve_64bit) on hosts that need it.
  pad: attr(42, 'IFLA_PAD', binary({ policy: 'UNSPEC' })),
  stats64: attr(23, 'IFLA_STATS64', rtnlLinkStats64, { type: 'UNSPEC', len: 0 }),
  stats: attr(7, 'IFLA_STATS', rtnlLinkStats, { type: 'UNSPEC', len: 0 }),
  numVf: attr(21, 'IFLA_NUM_VF', u32, { type: 'UNSPEC' }),
  vfinfoList: attr(22, 'IFLA_VFINFO_LIST', binary({ policy: 'NESTED' })),
  portSelf: attr(25, 'IFLA_PORT_SELF', binary({ policy: 'NESTED' })),
  vfPorts: attr(24, 'IFLA_VF_PORTS', binary({ policy: 'NESTED' })),
  xdp: attr(43, 'IFLA_XDP', nested(iflaXdpAttrs)),
  linkinfo: attr(18, 'IFLA_LINKINFO', linkInfoCodec),
  linkNetnsid: attr(37, 'IFLA_LINK_NETNSID', s32),
  link: attr(5, 'IFLA_LINK', u32),
  newNetnsid: attr(45, 'IFLA_NEW_NETNSID', s32, { type: 'UNSPEC' }),
  newIfindex: attr(49, 'IFLA_NEW_IFINDEX', s32, { min: 1 }),
  permAddress: attr(54, 'IFLA_PERM_ADDRESS', binary({ policy: 'REJECT' })),
  afSpec: attr(26, 'IFLA_AF_SPEC', binary({ policy: 'NESTED' })),
  propList: attr(52, 'IFLA_PROP_LIST', binary({ policy: 'NESTED' })),
  parentDevName: attr(56, 'IFLA_PARENT_DEV_NAME', string({ nul: true })),
  parentDevBusName: attr(57, 'IFLA_PARENT_DEV_BUS_NAME', string(), { type: 'UNSPEC' }),
  // Only ever sent to the kernel.
  netNsPid: attr(19, 'IFLA_NET_NS_PID', u32),
  netNsFd: attr(28, 'IFLA_NET_NS_FD', u32),
  extMask: attr(29, 'IFLA_EXT_MASK', u32),
  altIfname: attr(53, 'IFLA_ALT_IFNAME', string({ maxLen: ALTIFNAMSIZ - 1 })),
  weight: attr(15, 'IFLA_WEIGHT', u32),
  // Legacy or written by other code paths (wireless events, bridge ports).
  cost: attr(8, 'IFLA_COST', binary({ policy: 'UNSPEC' })),
  priority: attr(9, 'IFLA_PRIORITY', binary({ policy: 'UNSPEC' })),
  wireless: attr(11, 'IFLA_WIRELESS', binary({ policy: 'UNSPEC' })),
  protinfo: attr(12, 'IFLA_PROTINFO', binary({ policy: 'UNSPEC' })),
});
export type IflaAttrs = AttrsOf<typeof iflaAttrs>;

// ---------------------------------------------------------------------------
// veth

/** VETH_INFO_PEER: the peer device, as a struct ifinfomsg followed by its IFLA attributes. */
export interface VethPeer {
  ifinfomsg: IfInfoMsg;
  attrs: IflaAttrs;
}

const vethPeerCodec: ValueCodec<VethPeer> = {
  kind: 'ifinfomsg+ifla',
  // veth_policy: { .len = sizeof(struct ifinfomsg) }.
  policy: { type: 'UNSPEC', len: ifinfomsg.size },
  decode(buf, dv, off, len, ctx) {
    if (len < ifinfomsg.size) {
      throw new NetlinkDecodeError(off - 4, `VETH_INFO_PEER payload of ${len} bytes is shorter than struct ifinfomsg (${ifinfomsg.size})`);
    }
    return { ifinfomsg: ifinfomsg.read(buf, dv, off), attrs: iflaAttrs.decode(buf, dv, off + ifinfomsg.size, off + len, ctx) };
  },
  write(w, value, path) {
    if (value === null || typeof value !== 'object') throw new NetlinkEncodeError(path, 'expected { ifinfomsg, attrs }');
    ifinfomsg.write(w, value.ifinfomsg, `${path}.ifinfomsg`);
    iflaAttrs.write(w, value.attrs, `${path}.attrs`);
  },
  toJson: (v) => ({ ...ifinfoToJson(v.ifinfomsg), attrs: iflaAttrs.toJson(v.attrs) }),
  fromJson(json, path) {
    const obj = jsonObject(json, path);
    return { ifinfomsg: ifinfoFromJson(obj, path), attrs: iflaAttrs.fromJson(obj.attrs ?? {}, `${path}.attrs`) };
  },
  format: (v) => `{ifindex=${v.ifinfomsg.index}${v.attrs.ifname !== undefined ? ` ${JSON.stringify(v.attrs.ifname)}` : ''}}`,
};

/** VETH_INFO_* (include/uapi/linux/veth.h): the IFLA_INFO_DATA of kind veth. */
export const vethInfoAttrs = new AttrSet('veth_info', {
  peer: attr(1, 'VETH_INFO_PEER', vethPeerCodec),
});
export type VethInfoAttrs = AttrsOf<typeof vethInfoAttrs>;

// ---------------------------------------------------------------------------
// TCA_*

/**
 * TCA_*, in tc_fill_qdisc() order (TCA_PAD may align TCA_STATS2), then the
 * request-only ones. Policies follow rtm_tca_policy.
 */
export const tcaAttrs = new AttrSet('tca', {
  kind: attr(1, 'TCA_KIND', string()),
  ingressBlock: attr(13, 'TCA_INGRESS_BLOCK', u32),
  egressBlock: attr(14, 'TCA_EGRESS_BLOCK', u32),
  options: attr(2, 'TCA_OPTIONS', binary({ policy: 'UNSPEC' })),
  hwOffload: attr(12, 'TCA_HW_OFFLOAD', u8, { type: 'UNSPEC' }),
  stab: attr(8, 'TCA_STAB', binary({ policy: 'NESTED' })),
  pad: attr(9, 'TCA_PAD', binary({ policy: 'UNSPEC' })),
  stats2: attr(7, 'TCA_STATS2', binary({ policy: 'UNSPEC' })),
  stats: attr(3, 'TCA_STATS', binary({ policy: 'UNSPEC' })),
  xstats: attr(4, 'TCA_XSTATS', binary({ policy: 'UNSPEC' })),
  extWarnMsg: attr(16, 'TCA_EXT_WARN_MSG', string(), { type: 'UNSPEC' }),
  // struct tc_estimator (2 bytes).
  rate: attr(5, 'TCA_RATE', binary({ len: 2 })),
  fcnt: attr(6, 'TCA_FCNT', binary({ policy: 'UNSPEC' })),
  dumpInvisible: attr(10, 'TCA_DUMP_INVISIBLE', flag),
  chain: attr(11, 'TCA_CHAIN', u32),
  dumpFlags: attr(15, 'TCA_DUMP_FLAGS', binary({ policy: 'UNSPEC' })),
});
export type TcaAttrs = AttrsOf<typeof tcaAttrs>;

// ---------------------------------------------------------------------------
// Messages

interface RtnlBase {
  kind: 'rtnl';
  protocol: number;
  header: NlmsgHeader;
}

/** RTM_NEWLINK / DELLINK / GETLINK / SETLINK. */
export interface RtnlLinkMessage extends RtnlBase {
  family: 'link';
  ifinfomsg: IfInfoMsg;
  attrs: IflaAttrs;
}

/** RTM_NEWQDISC / DELQDISC / GETQDISC. */
export interface RtnlQdiscMessage extends RtnlBase {
  family: 'qdisc';
  tcmsg: TcMsg;
  attrs: TcaAttrs;
}

/** RTM_NEWADDR / DELADDR / GETADDR. */
export interface RtnlAddrMessage extends RtnlBase {
  family: 'addr';
  ifaddrmsg: IfAddrMsg;
  attrs: IfaAttrs;
}

/** RTM_NEWROUTE / DELROUTE / GETROUTE. */
export interface RtnlRouteMessage extends RtnlBase {
  family: 'route';
  rtmsg: RtMsg;
  attrs: RtaAttrs;
}

/** An rtnetlink message this codec models; `family` is the rtnetlink message family (RTM_FAM). */
export type RtnlMessage = RtnlLinkMessage | RtnlQdiscMessage | RtnlAddrMessage | RtnlRouteMessage;

/** Which modeled message family an nlmsg_type belongs to. */
export function rtmFamily(type: number): RtnlMessage['family'] | undefined {
  if (type >= RTM.NEWLINK && type <= RTM.SETLINK) return 'link';
  if (type >= RTM.NEWADDR && type <= RTM.GETADDR) return 'addr';
  if (type >= RTM.NEWROUTE && type <= RTM.GETROUTE) return 'route';
  if (type >= RTM.NEWQDISC && type <= RTM.GETQDISC) return 'qdisc';
  return undefined;
}

const FIXED = { link: ifinfomsg, qdisc: tcmsg, addr: ifaddrmsg, route: rtmsg } as const;

/**
 * Decode the payload buf[start, end) of an rtnetlink message. Returns
 * undefined for message types this codec does not model. Throws
 * NetlinkDecodeError (offsets into buf) for malformed payloads.
 */
export function decodeRtnl(buf: Uint8Array, dv: DataView, header: NlmsgHeader, start: number, end: number, ctx = new DecodeContext()): RtnlMessage | undefined {
  const family = rtmFamily(header.type);
  if (family === undefined) return undefined;
  const protocol = NetlinkProtocol.NETLINK_ROUTE;
  const fixed = FIXED[family];
  if (end - start < fixed.size) {
    // Link, address and route dumps may still be asked for with a bare struct rtgenmsg (OVS's route
    // dump, glibc's getifaddrs; the kernel accepts it): keep those raw.
    if (header.type === RTM.GETLINK || header.type === RTM.GETADDR || header.type === RTM.GETROUTE) return undefined;
    throw new NetlinkDecodeError(start, `${rtmName(header.type)} payload of ${end - start} bytes is shorter than struct ${fixed.cName} (${fixed.size})`);
  }
  const attrStart = start + fixed.size;
  switch (family) {
    case 'link':
      return { kind: 'rtnl', protocol, header, family, ifinfomsg: ifinfomsg.read(buf, dv, start), attrs: iflaAttrs.decode(buf, dv, attrStart, end, ctx) };
    case 'addr':
      return { kind: 'rtnl', protocol, header, family, ifaddrmsg: ifaddrmsg.read(buf, dv, start), attrs: ifaAttrs.decode(buf, dv, attrStart, end, ctx) };
    case 'route':
      return { kind: 'rtnl', protocol, header, family, rtmsg: rtmsg.read(buf, dv, start), attrs: rtaAttrs.decode(buf, dv, attrStart, end, ctx) };
    case 'qdisc':
      return { kind: 'rtnl', protocol, header, family, tcmsg: tcmsg.read(buf, dv, start), attrs: tcaAttrs.decode(buf, dv, attrStart, end, ctx) };
  }
}

/** Write the payload of `msg` (its fixed struct and attributes) after the nlmsghdr. */
export function writeRtnl(w: Writer, msg: RtnlMessage): void {
  const name = rtmName(msg.header.type) ?? `RTM_${msg.header.type}`;
  if (msg.family === 'link') {
    ifinfomsg.write(w, msg.ifinfomsg, `${name}.ifinfomsg`);
    iflaAttrs.write(w, msg.attrs, name);
  } else if (msg.family === 'qdisc') {
    tcmsg.write(w, msg.tcmsg, `${name}.tcmsg`);
    tcaAttrs.write(w, msg.attrs, name);
  } else if (msg.family === 'addr') {
    ifaddrmsg.write(w, msg.ifaddrmsg, `${name}.ifaddrmsg`);
    ifaAttrs.write(w, msg.attrs, name);
  } else if (msg.family === 'route') {
    rtmsg.write(w, msg.rtmsg, `${name}.rtmsg`);
    rtaAttrs.write(w, msg.attrs, name);
  } else {
    throw new NetlinkEncodeError(name, `unknown rtnetlink message family ${JSON.stringify((msg as { family: unknown }).family)}`);
  }
}

// ---------------------------------------------------------------------------
// JSON: fixed struct fields under their C names, attributes under `attrs`.

function ifinfoToJson(h: IfInfoMsg): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = { ifi_family: h.family };
  if (h.pad !== 0) out.__ifi_pad = h.pad;
  Object.assign(out, { ifi_type: h.type, ifi_index: h.index, ifi_flags: h.flags, ifi_change: h.change });
  return out;
}

function ifinfoFromJson(j: Record<string, unknown>, path: string): IfInfoMsg {
  return {
    family: intField(j, 'ifi_family', path, 0, 0xff),
    pad: intField(j, '__ifi_pad', path, 0, 0xff),
    type: intField(j, 'ifi_type', path, 0, 0xffff),
    index: intField(j, 'ifi_index', path, -0x80000000, 0x7fffffff),
    flags: intField(j, 'ifi_flags', path, 0, 0xffffffff),
    change: intField(j, 'ifi_change', path, 0, 0xffffffff),
  };
}

function tcmsgToJson(h: TcMsg): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = { tcm_family: h.family };
  if (h.pad1 !== 0) out.tcm__pad1 = h.pad1;
  if (h.pad2 !== 0) out.tcm__pad2 = h.pad2;
  Object.assign(out, { tcm_ifindex: h.ifindex, tcm_handle: h.handle, tcm_parent: h.parent, tcm_info: h.info });
  return out;
}

function tcmsgFromJson(j: Record<string, unknown>, path: string): TcMsg {
  return {
    family: intField(j, 'tcm_family', path, 0, 0xff),
    pad1: intField(j, 'tcm__pad1', path, 0, 0xff),
    pad2: intField(j, 'tcm__pad2', path, 0, 0xffff),
    ifindex: intField(j, 'tcm_ifindex', path, -0x80000000, 0x7fffffff),
    handle: intField(j, 'tcm_handle', path, 0, 0xffffffff),
    parent: intField(j, 'tcm_parent', path, 0, 0xffffffff),
    info: intField(j, 'tcm_info', path, 0, 0xffffffff),
  };
}

function ifaddrToJson(h: IfAddrMsg): Record<string, JsonValue> {
  return { ifa_family: h.family, ifa_prefixlen: h.prefixlen, ifa_flags: h.flags, ifa_scope: h.scope, ifa_index: h.index };
}

function ifaddrFromJson(j: Record<string, unknown>, path: string): IfAddrMsg {
  return {
    family: intField(j, 'ifa_family', path, 0, 0xff),
    prefixlen: intField(j, 'ifa_prefixlen', path, 0, 0xff),
    flags: intField(j, 'ifa_flags', path, 0, 0xff),
    scope: intField(j, 'ifa_scope', path, 0, 0xff),
    index: intField(j, 'ifa_index', path, 0, 0xffffffff),
  };
}

function rtmsgToJson(h: RtMsg): Record<string, JsonValue> {
  return {
    rtm_family: h.family,
    rtm_dst_len: h.dstLen,
    rtm_src_len: h.srcLen,
    rtm_tos: h.tos,
    rtm_table: h.table,
    rtm_protocol: h.protocol,
    rtm_scope: h.scope,
    rtm_type: h.type,
    rtm_flags: h.flags,
  };
}

function rtmsgFromJson(j: Record<string, unknown>, path: string): RtMsg {
  return {
    family: intField(j, 'rtm_family', path, 0, 0xff),
    dstLen: intField(j, 'rtm_dst_len', path, 0, 0xff),
    srcLen: intField(j, 'rtm_src_len', path, 0, 0xff),
    tos: intField(j, 'rtm_tos', path, 0, 0xff),
    table: intField(j, 'rtm_table', path, 0, 0xff),
    protocol: intField(j, 'rtm_protocol', path, 0, 0xff),
    scope: intField(j, 'rtm_scope', path, 0, 0xff),
    type: intField(j, 'rtm_type', path, 0, 0xff),
    flags: intField(j, 'rtm_flags', path, 0, 0xffffffff),
  };
}

/** An integer field of a JSON object (absent: 0); "0x..." strings are accepted for handles and masks. */
function intField(j: Record<string, unknown>, key: string, path: string, min: number, max: number): number {
  let v = j[key] ?? 0;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new NetlinkEncodeError(`${path}.${key}`, `expected an integer in [${min}, ${max}], got ${JSON.stringify(j[key])}`);
  }
  return v;
}

function jsonObject(json: unknown, path: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new NetlinkEncodeError(path, 'expected a JSON object');
  return json as Record<string, unknown>;
}

/** The JSON form of an rtnetlink payload: struct fields by C name (ifi_index, tcm_parent, ...) and `attrs` by uapi name. */
export function rtnlToJson(msg: RtnlMessage): Record<string, JsonValue> {
  switch (msg.family) {
    case 'link':
      return { ...ifinfoToJson(msg.ifinfomsg), attrs: iflaAttrs.toJson(msg.attrs) };
    case 'addr':
      return { ...ifaddrToJson(msg.ifaddrmsg), attrs: ifaAttrs.toJson(msg.attrs) };
    case 'route':
      return { ...rtmsgToJson(msg.rtmsg), attrs: rtaAttrs.toJson(msg.attrs) };
    case 'qdisc':
      return { ...tcmsgToJson(msg.tcmsg), attrs: tcaAttrs.toJson(msg.attrs) };
  }
}

/**
 * Inverse of rtnlToJson(): `json` may be a whole message's JSON (header keys are
 * ignored); the message family comes from header.type.
 */
export function rtnlFromJson(json: Record<string, unknown>, header: NlmsgHeader, protocol: number): RtnlMessage {
  const family = rtmFamily(header.type);
  const path = rtmName(header.type) ?? `RTM_${header.type}`;
  if (family === 'link') {
    return { kind: 'rtnl', protocol, header, family, ifinfomsg: ifinfoFromJson(json, path), attrs: iflaAttrs.fromJson(json.attrs ?? {}, `${path}.attrs`) };
  }
  if (family === 'qdisc') {
    return { kind: 'rtnl', protocol, header, family, tcmsg: tcmsgFromJson(json, path), attrs: tcaAttrs.fromJson(json.attrs ?? {}, `${path}.attrs`) };
  }
  if (family === 'addr') {
    return { kind: 'rtnl', protocol, header, family, ifaddrmsg: ifaddrFromJson(json, path), attrs: ifaAttrs.fromJson(json.attrs ?? {}, `${path}.attrs`) };
  }
  if (family === 'route') {
    return { kind: 'rtnl', protocol, header, family, rtmsg: rtmsgFromJson(json, path), attrs: rtaAttrs.fromJson(json.attrs ?? {}, `${path}.attrs`) };
  }
  throw new NetlinkEncodeError(path, `rtnetlink message type ${header.type} is not modeled: give its payload as a hex string`);
}

// ---------------------------------------------------------------------------
// Attribute numbers, for code that reads attributes with nlaParse() (the kernel model)

export const IFLA = Object.freeze({
  ...attrTypes(iflaAttrs, 'IFLA_'),
  /** The newer name of IFLA_IF_NETNSID. */
  TARGET_NETNSID: iflaAttrs.type('ifNetnsid'),
});
export const IFLA_INFO = attrTypes(iflaInfoAttrs, 'IFLA_INFO_');
export const IFLA_XDP = attrTypes(iflaXdpAttrs, 'IFLA_XDP_');
export const IFLA_PROTO_DOWN_REASON = attrTypes(iflaProtoDownReasonAttrs, 'IFLA_PROTO_DOWN_REASON_');
export const IFLA_VXLAN = attrTypes(iflaVxlanAttrs, 'IFLA_VXLAN_');
export const IFLA_GENEVE = attrTypes(iflaGeneveAttrs, 'IFLA_GENEVE_');
export const IFLA_GRE = attrTypes(iflaGreAttrs, 'IFLA_GRE_');
export const VETH_INFO = attrTypes(vethInfoAttrs, 'VETH_INFO_');
export const TCA = attrTypes(tcaAttrs, 'TCA_');
