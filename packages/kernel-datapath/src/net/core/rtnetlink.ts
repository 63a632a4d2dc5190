/**
 * rtnetlink (NETLINK_ROUTE) inside the model, as Linux 6.1 answers it
 * (net/core/rtnetlink.c, net/core/dev.c, net/core/link_watch.c,
 * net/sched/sch_api.c and the link drivers drivers/net/dummy.c, veth.c,
 * vxlan/vxlan_core.c, geneve.c, net/ipv4/ip_gre.c): link requests
 * (RTM_NEWLINK / DELLINK / GETLINK / SETLINK, dumps included), the ingress
 * side of the qdisc requests OVS sends (RTM_NEWQDISC / DELQDISC / GETQDISC),
 * and RTM_NEWLINK / RTM_DELLINK notifications to RTNLGRP_LINK.
 *
 * Replies and notifications are built as rtnl_fill_ifinfo() builds them, in
 * its attribute order (which @ovs/genl-codec's iflaAttrs follows).
 * IFLA_AF_SPEC is always an empty nest (what the kernel writes for a device
 * being unregistered, whose inet/inet6 data are gone): the per-device IPv4 and
 * IPv6 settings are not modelled.
 *
 * Address and route requests go to rtnetlink-inet.ts; this module tells the
 * namespace's IP layer (addrconf.ts) what becomes of each device: up, down,
 * carrier, unregistered.
 *
 * Like the captured Debian 6.1.192 kernel (golden/vswitchd-ports.json), the
 * RTM_DELLINK notification of a device deleted by an rtnetlink request carries
 * the requester's port id and sequence number and honours NLM_F_ECHO
 * (rtnl_delete_link() with portid and nlh, backported); every other link
 * notification, including the RTM_NEWLINK of a device just created, carries
 * 0 / 0 (that kernel's rtnl_configure_link() has no portid: the capture,
 * which kept every message with the requester's pid and seq, has none).
 *
 * Device state the NetDevice of netns.ts does not hold (carrier and its
 * counters, the qdisc, group, queues, limits, tunnel configuration) lives in
 * a side table here, created on first sight of a device.
 */
import {
  ARPHRD_ETHER,
  ARPHRD_NONE,
  AttrSet,
  type AttrTable,
  Errno,
  IFF,
  IF_LINK_MODE,
  IF_OPER,
  type IflaAttrs,
  type IflaGeneveAttrs,
  type IflaGreAttrs,
  type IflaVxlanAttrs,
  type InfoData,
  NLMSG_HDRLEN,
  NLM_F,
  NL_VALIDATE,
  NetlinkErrnoError,
  NetlinkProtocol,
  OVS_VPORT_TYPE,
  type ParsedAttr,
  RTM,
  RTNLGRP_LINK,
  type RtnlLinkMessage,
  TC_H,
  TUNNEL_DF,
  type ValidationFailure,
  XDP_ATTACHED,
  attr,
  binary,
  encode,
  iflaAttrs,
  iflaGeneveAttrs,
  iflaGreAttrs,
  iflaInfoAttrs,
  iflaVxlanAttrs,
  nlaParse,
  tcaAttrs,
  u32,
  vethInfoAttrs,
} from '@ovs/genl-codec';
import type { HandlerResult } from '../netlink/genetlink.js';
import type { Kernel, ProtocolHandler, Request } from '../../kernel.js';
import type { KernelSocket } from '../netlink/af_netlink.js';
import { type NetDevice, type Netns, type NetnsListener, validIfname } from './net_namespace.js';
import { InetRtnetlink } from '../ipv4/fib_frontend.js';

// ---------------------------------------------------------------------------
// Constants

/** RTM_MAX: the last rtnetlink message type, rounded up to a family of four (RTM_GETTUNNEL + 1). */
const RTM_MAX = 123;
/** enum rtnl_kinds: (type - RTM_BASE) & 3 is NEW 0, DEL 1, GET 2, SET 3. */
const KIND_GET = 2;
/** struct ifinfomsg / struct tcmsg sizes. */
const IFINFOMSG_LEN = 16;
const TCMSG_LEN = 20;

const ARPHRD_IPGRE = 778;
const ETH_ALEN = 6;
const ETH_HLEN = 14;
const ETH_MIN_MTU = 68;
const ETH_MAX_MTU = 65535;
const IP_MAX_MTU = 65535;
const ETH_DATA_LEN = 1500;
/** GSO_LEGACY_MAX_SIZE / TSO_LEGACY_MAX_SIZE, GSO_MAX_SIZE (BIG TCP) and GSO_MAX_SEGS of 6.1. */
const LEGACY_MAX_SIZE = 65536;
const GSO_MAX_SIZE = 524280;
const GSO_MAX_SEGS = 65535;
const IFALIASZ = 256;
const MODULE_NAME_LEN = 56;
const IFNAMSIZ = 16;
/**
 * MAX_TCP_HEADER + 1, the minimum of IFLA_GSO_MAX_SIZE in ifla_policy:
 * L1_CACHE_ALIGN(128 + MAX_HEADER) + 1 with Debian's x86-64 config
 * (LL_MAX_HEADER 128, MAX_HEADER 176).
 */
const GSO_MAX_SIZE_MIN = 321;

/** IFF_VOLATILE: the flags userspace cannot set (include/uapi/linux/if.h). */
const IFF_VOLATILE =
  IFF.LOOPBACK | IFF.POINTOPOINT | IFF.BROADCAST | IFF.ECHO | IFF.MASTER | IFF.SLAVE | IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT;
/** The flags __dev_change_flags() takes from userspace as they are. */
const IFF_USER = IFF.DEBUG | IFF.NOTRAILERS | IFF.NOARP | IFF.DYNAMIC | IFF.MULTICAST | IFF.PORTSEL | IFF.AUTOMEDIA;
/** The flags dev_get_flags() computes rather than stores. */
const IFF_COMPUTED = IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT;

/** IFLA_* numbers used below (include/uapi/linux/if_link.h). */
const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  MASTER: 10,
  PROTINFO: 12,
  TXQLEN: 13,
  MAP: 14,
  OPERSTATE: 16,
  LINKMODE: 17,
  LINKINFO: 18,
  NET_NS_PID: 19,
  IFALIAS: 20,
  VFINFO_LIST: 22,
  VF_PORTS: 24,
  PORT_SELF: 25,
  AF_SPEC: 26,
  GROUP: 27,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  NUM_TX_QUEUES: 31,
  NUM_RX_QUEUES: 32,
  CARRIER: 33,
  LINK_NETNSID: 37,
  PROTO_DOWN: 39,
  GSO_MAX_SEGS: 40,
  GSO_MAX_SIZE: 41,
  XDP: 43,
  TARGET_NETNSID: 46,
  ALT_IFNAME: 53,
  PROTO_DOWN_REASON: 55,
  GRO_MAX_SIZE: 58,
} as const;
const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_DATA: 5 } as const;
const IFLA_XDP = { FD: 1, ATTACHED: 2, FLAGS: 3, PROG_ID: 4 } as const;
const XDP_FLAGS_MASK = 0x1f;
const XDP_FLAGS_MODES = 0x0e;
const VETH_INFO_PEER = 1;
const VX = {
  ID: 1,
  GROUP: 2,
  LINK: 3,
  LOCAL: 4,
  TTL: 5,
  TOS: 6,
  LEARNING: 7,
  AGEING: 8,
  LIMIT: 9,
  PORT_RANGE: 10,
  PROXY: 11,
  RSC: 12,
  L2MISS: 13,
  L3MISS: 14,
  PORT: 15,
  GROUP6: 16,
  LOCAL6: 17,
  UDP_CSUM: 18,
  UDP_ZERO_CSUM6_TX: 19,
  UDP_ZERO_CSUM6_RX: 20,
  REMCSUM_TX: 21,
  REMCSUM_RX: 22,
  GBP: 23,
  REMCSUM_NOPARTIAL: 24,
  COLLECT_METADATA: 25,
  LABEL: 26,
  GPE: 27,
  TTL_INHERIT: 28,
  DF: 29,
  VNIFILTER: 30,
} as const;
/** VXLAN_F_* (include/net/vxlan.h). */
const VXF = {
  LEARN: 0x01,
  PROXY: 0x02,
  RSC: 0x04,
  L2MISS: 0x08,
  L3MISS: 0x10,
  IPV6: 0x20,
  UDP_ZERO_CSUM_TX: 0x40,
  UDP_ZERO_CSUM6_TX: 0x80,
  UDP_ZERO_CSUM6_RX: 0x100,
  REMCSUM_TX: 0x200,
  REMCSUM_RX: 0x400,
  GBP: 0x800,
  REMCSUM_NOPARTIAL: 0x1000,
  COLLECT_METADATA: 0x2000,
  GPE: 0x4000,
  IPV6_LINKLOCAL: 0x8000,
  TTL_INHERIT: 0x10000,
  VNIFILTER: 0x20000,
} as const;
const VXF_RCV_FLAGS = VXF.GBP | VXF.GPE | VXF.UDP_ZERO_CSUM6_RX | VXF.REMCSUM_RX | VXF.REMCSUM_NOPARTIAL | VXF.COLLECT_METADATA | VXF.VNIFILTER;
const VXF_ALLOWED_GPE =
  VXF.GPE | VXF.IPV6 | VXF.IPV6_LINKLOCAL | VXF.UDP_ZERO_CSUM_TX | VXF.UDP_ZERO_CSUM6_TX | VXF.UDP_ZERO_CSUM6_RX | VXF.COLLECT_METADATA | VXF.VNIFILTER;
/** The vxlan module's default destination port (module parameter udp_port), and the GPE one. */
const VXLAN_DEFAULT_PORT = 8472;
const VXLAN_GPE_PORT = 4790;
const FDB_AGE_DEFAULT = 300;
const VXLAN_N_VID = 1 << 24;
const GN = {
  ID: 1,
  REMOTE: 2,
  TTL: 3,
  TOS: 4,
  PORT: 5,
  COLLECT_METADATA: 6,
  REMOTE6: 7,
  UDP_CSUM: 8,
  UDP_ZERO_CSUM6_TX: 9,
  UDP_ZERO_CSUM6_RX: 10,
  LABEL: 11,
  TTL_INHERIT: 12,
  DF: 13,
  INNER_PROTO_INHERIT: 14,
} as const;
const GENEVE_UDP_PORT = 6081;
/** GENEVE_BASE_HLEN: struct udphdr + struct genevehdr. */
const GENEVE_BASE_HLEN = 16;
const GRE = {
  LINK: 1,
  IFLAGS: 2,
  OFLAGS: 3,
  IKEY: 4,
  OKEY: 5,
  LOCAL: 6,
  REMOTE: 7,
  TTL: 8,
  TOS: 9,
  PMTUDISC: 10,
  ENCAP_TYPE: 14,
  ENCAP_FLAGS: 15,
  ENCAP_SPORT: 16,
  ENCAP_DPORT: 17,
  COLLECT_METADATA: 18,
  IGNORE_DF: 19,
  FWMARK: 20,
} as const;
/** GRE_* header flags (include/uapi/linux/if_tunnel.h), host order of the be16. */
const GRE_F = { CSUM: 0x8000, ROUTING: 0x4000, KEY: 0x2000, SEQ: 0x1000, STRICT: 0x0800, REC: 0x0700, VERSION: 0x0007 } as const;
const TCA = { KIND: 1, OPTIONS: 2 } as const;
const TC_H_MAJ_MASK = 0xffff0000;

// ---------------------------------------------------------------------------
// Request policies

/**
 * ifla_policy as nlmsg_parse_deprecated() applies it: the codec's IFLA set,
 * except that the nests ifla_policy leaves without a nested policy are not
 * looked into here (their contents are parsed later, without an extack), and
 * IFLA_GSO_MAX_SIZE has its NLA_POLICY_MIN.
 */
const iflaRequestPolicy = new AttrSet('ifla_policy', {
  ...iflaAttrs.defs,
  linkinfo: attr(18, 'IFLA_LINKINFO', binary({ policy: 'NESTED' })),
  xdp: attr(43, 'IFLA_XDP', binary({ policy: 'NESTED' })),
  protoDownReason: attr(55, 'IFLA_PROTO_DOWN_REASON', binary({ policy: 'NESTED' })),
  gsoMaxSize: attr(41, 'IFLA_GSO_MAX_SIZE', u32, { min: GSO_MAX_SIZE_MIN }),
});

/** ifla_xdp_policy. */
const xdpPolicy = new AttrSet('ifla_xdp_policy', {
  fd: attr(IFLA_XDP.FD, 'IFLA_XDP_FD', binary({ policy: 'S32' })),
  attached: attr(IFLA_XDP.ATTACHED, 'IFLA_XDP_ATTACHED', binary({ policy: 'U8' })),
  flags: attr(IFLA_XDP.FLAGS, 'IFLA_XDP_FLAGS', u32),
  progId: attr(IFLA_XDP.PROG_ID, 'IFLA_XDP_PROG_ID', u32),
});

// ---------------------------------------------------------------------------
// Device kinds

/** What a kind's driver sets up (alloc_netdev + ->setup) and which hooks it has. */
interface KindProfile {
  /** rtnl_link_ops registered: IFLA_LINKINFO is written, RTM_NEWLINK knows the kind. */
  readonly linkOps: boolean;
  /** ops->setup or ops->alloc: RTM_NEWLINK can create one. */
  readonly creatable: boolean;
  /** ops->dellink: RTM_DELLINK can delete one. */
  readonly dellink: boolean;
  /** ops->changelink. */
  readonly changelink: boolean;
  /** IFLA_INFO_DATA attribute set (ops->policy, ops->maxtype). */
  readonly policy: AttrSet | undefined;
  /** IFF_NO_QUEUE: the qdisc attached on first open is noqueue, else the default qdisc. */
  readonly noQueue: boolean;
  /** ndo_set_mac_address is eth_mac_addr (the others have none). */
  readonly setMac: boolean;
  /** IFF_LIVE_ADDR_CHANGE. */
  readonly liveAddrChange: boolean;
  /** ndo_change_carrier. */
  readonly changeCarrier: boolean;
  /** IFF_CHANGE_PROTO_DOWN. */
  readonly protoDown: boolean;
  readonly minMtu: number;
  readonly maxMtu: number;
  readonly tsoMaxSize: number;
  /** num_tx_queues / num_rx_queues: one, or one per possible CPU (veth). */
  readonly perCpuQueues: boolean;
}

const BASE_PROFILE: KindProfile = {
  linkOps: true,
  creatable: true,
  dellink: true,
  changelink: false,
  policy: undefined,
  noQueue: true,
  setMac: true,
  liveAddrChange: true,
  changeCarrier: false,
  protoDown: false,
  minMtu: ETH_MIN_MTU,
  maxMtu: ETH_DATA_LEN,
  tsoMaxSize: LEGACY_MAX_SIZE,
  perCpuQueues: false,
};

const PROFILES: Readonly<Record<string, KindProfile>> = {
  // loopback_setup(): no rtnl_link_ops; min/max MTU 0; tso_max_size GSO_MAX_SIZE.
  loopback: { ...BASE_PROFILE, linkOps: false, creatable: false, dellink: false, liveAddrChange: false, minMtu: 0, maxMtu: 0, tsoMaxSize: GSO_MAX_SIZE },
  // dummy_setup(): ether_setup, IFF_NOARP, no multicast, min/max MTU 0, ndo_change_carrier.
  dummy: { ...BASE_PROFILE, changeCarrier: true, minMtu: 0, maxMtu: 0 },
  // veth_setup(): max_mtu ETH_MAX_MTU, tso_max_size GSO_MAX_SIZE, one queue per possible CPU.
  veth: { ...BASE_PROFILE, policy: vethInfoAttrs, maxMtu: ETH_MAX_MTU, tsoMaxSize: GSO_MAX_SIZE, perCpuQueues: true },
  // vxlan_setup(): MTU 68..65535, no IFF_LIVE_ADDR_CHANGE, IFF_CHANGE_PROTO_DOWN.
  vxlan: { ...BASE_PROFILE, changelink: true, policy: iflaVxlanAttrs, liveAddrChange: false, protoDown: true, maxMtu: ETH_MAX_MTU },
  // geneve_setup(): max_mtu IP_MAX_MTU - GENEVE_BASE_HLEN - ETH_HLEN, reduced by geneve_configure().
  geneve: { ...BASE_PROFILE, changelink: true, policy: iflaGeneveAttrs, maxMtu: IP_MAX_MTU - GENEVE_BASE_HLEN - ETH_HLEN },
  // ipgre_tap_setup(): ether_setup with max_mtu 0; a real qdisc.
  gretap: { ...BASE_PROFILE, changelink: true, policy: iflaGreAttrs, noQueue: false, maxMtu: 0 },
  // ipgre_tunnel_setup(): ARPHRD_IPGRE, no ether_setup (MTU bounds 0), no ndo_set_mac_address.
  gre: { ...BASE_PROFILE, changelink: true, policy: iflaGreAttrs, noQueue: false, setMac: false, liveAddrChange: false, minMtu: 0, maxMtu: 0 },
  // vport-internal_dev.c: rtnl_link_ops without setup or dellink; MTU 68..65535.
  openvswitch: { ...BASE_PROFILE, creatable: false, dellink: false, maxMtu: ETH_MAX_MTU },
};

/** A kind the model has no driver for (a device another module made): no rtnl_link_ops. */
const UNKNOWN_PROFILE: KindProfile = { ...BASE_PROFILE, linkOps: false, creatable: false, dellink: false };

function profileOf(kind: string): KindProfile {
  return Object.hasOwn(PROFILES, kind) ? PROFILES[kind]! : UNKNOWN_PROFILE;
}

/** rtnl_link_ops_get(): the kinds RTM_NEWLINK knows. */
function linkOpsOf(kind: string): KindProfile | undefined {
  const p = Object.hasOwn(PROFILES, kind) ? PROFILES[kind]! : undefined;
  return p?.linkOps ? p : undefined;
}

// ---------------------------------------------------------------------------
// Tunnel configurations (struct vxlan_config, struct geneve_config, struct ip_tunnel_parm)

interface VxlanConf {
  vni: number;
  /** Remote (group) address and its family (4, 6, or 0 when none was given). */
  remote: Uint8Array;
  remoteFamily: 0 | 4 | 6;
  local: Uint8Array;
  localFamily: 0 | 4 | 6;
  remoteIfindex: number;
  ttl: number;
  tos: number;
  df: number;
  label: number;
  flags: number;
  ageing: number;
  limit: number;
  port: number;
  portMin: number;
  portMax: number;
  mtu: number;
}

interface GeneveConf {
  vni: number;
  remote: Uint8Array;
  ipv6: boolean;
  ttl: number;
  tos: number;
  label: number;
  df: number;
  port: number;
  csum: boolean;
  collectMd: boolean;
  udp6RxChecksums: boolean;
  ttlInherit: boolean;
  innerProtoInherit: boolean;
}

interface GreConf {
  link: number;
  iflags: number;
  oflags: number;
  ikey: number;
  okey: number;
  local: Uint8Array;
  remote: Uint8Array;
  ttl: number;
  tos: number;
  pmtudisc: boolean;
  ignoreDf: boolean;
  collectMd: boolean;
  fwmark: number;
}

type TunnelConf = { kind: 'vxlan'; conf: VxlanConf } | { kind: 'geneve'; conf: GeneveConf } | { kind: 'gre'; conf: GreConf };

function defaultVxlanConf(): VxlanConf {
  return {
    vni: 0,
    remote: new Uint8Array(4),
    remoteFamily: 0,
    local: new Uint8Array(4),
    localFamily: 0,
    remoteIfindex: 0,
    ttl: 0,
    tos: 0,
    df: TUNNEL_DF.UNSET,
    label: 0,
    flags: 0,
    ageing: 0,
    limit: 0,
    port: 0,
    portMin: 0,
    portMax: 0,
    mtu: 0,
  };
}

function defaultGeneveConf(): GeneveConf {
  return {
    vni: 0,
    remote: new Uint8Array(16),
    ipv6: false,
    ttl: 0,
    tos: 0,
    label: 0,
    df: TUNNEL_DF.UNSET,
    port: GENEVE_UDP_PORT,
    csum: false,
    collectMd: false,
    udp6RxChecksums: false,
    ttlInherit: false,
    innerProtoInherit: false,
  };
}

function defaultGreConf(): GreConf {
  return {
    link: 0,
    iflags: 0,
    oflags: 0,
    ikey: 0,
    okey: 0,
    local: new Uint8Array(4),
    remote: new Uint8Array(4),
    ttl: 0,
    tos: 0,
    pmtudisc: true,
    ignoreDf: false,
    collectMd: false,
    fwmark: 0,
  };
}

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** vxlan_fill_info(). */
function vxlanInfo(c: VxlanConf): InfoData {
  const f = (bit: number): number => ((c.flags & bit) !== 0 ? 1 : 0);
  const a: IflaVxlanAttrs = { id: c.vni };
  if (!isZero(c.remote)) {
    if (c.remoteFamily === 6) a.group6 = c.remote.slice();
    else a.group = c.remote.slice(0, 4);
  }
  if (c.remoteIfindex) a.link = c.remoteIfindex;
  if (!isZero(c.local)) {
    if (c.localFamily === 6) a.local6 = c.local.slice();
    else a.local = c.local.slice(0, 4);
  }
  Object.assign(a, {
    ttl: c.ttl,
    ttlInherit: f(VXF.TTL_INHERIT),
    tos: c.tos,
    df: c.df,
    label: c.label,
    learning: f(VXF.LEARN),
    proxy: f(VXF.PROXY),
    rsc: f(VXF.RSC),
    l2miss: f(VXF.L2MISS),
    l3miss: f(VXF.L3MISS),
    collectMetadata: f(VXF.COLLECT_METADATA),
    ageing: c.ageing,
    limit: c.limit,
    port: c.port,
    udpCsum: (c.flags & VXF.UDP_ZERO_CSUM_TX) === 0 ? 1 : 0,
    udpZeroCsum6Tx: f(VXF.UDP_ZERO_CSUM6_TX),
    udpZeroCsum6Rx: f(VXF.UDP_ZERO_CSUM6_RX),
    remcsumTx: f(VXF.REMCSUM_TX),
    remcsumRx: f(VXF.REMCSUM_RX),
    portRange: { low: c.portMin, high: c.portMax },
  } satisfies IflaVxlanAttrs);
  if (c.flags & VXF.GBP) a.gbp = true;
  if (c.flags & VXF.GPE) a.gpe = true;
  if (c.flags & VXF.REMCSUM_NOPARTIAL) a.remcsumNopartial = true;
  if (c.flags & VXF.VNIFILTER) a.vnifilter = 1;
  return { set: 'vxlan', attrs: a };
}

/** geneve_fill_info(). */
function geneveInfo(c: GeneveConf): InfoData {
  const a: IflaGeneveAttrs = { id: c.vni };
  if (!c.collectMd && !c.ipv6) {
    a.remote = c.remote.slice(0, 4);
    a.udpCsum = c.csum ? 1 : 0;
  } else if (!c.collectMd) {
    a.remote6 = c.remote.slice();
    a.udpZeroCsum6Tx = c.csum ? 0 : 1;
  }
  Object.assign(a, { ttl: c.ttl, tos: c.tos, label: c.label, df: c.df, port: c.port } satisfies IflaGeneveAttrs);
  if (c.collectMd) a.collectMetadata = true;
  a.udpZeroCsum6Rx = c.udp6RxChecksums ? 0 : 1;
  a.ttlInherit = c.ttlInherit ? 1 : 0;
  if (c.innerProtoInherit) a.innerProtoInherit = true;
  return { set: 'geneve', attrs: a };
}

/** ipgre_fill_info(). */
function greInfo(c: GreConf): InfoData {
  const a: IflaGreAttrs = {
    link: c.link,
    iflags: c.iflags,
    oflags: c.oflags,
    ikey: c.ikey,
    okey: c.okey,
    local: c.local.slice(0, 4),
    remote: c.remote.slice(0, 4),
    ttl: c.ttl,
    tos: c.tos,
    pmtudisc: c.pmtudisc ? 1 : 0,
    fwmark: c.fwmark,
    encapType: 0,
    encapSport: 0,
    encapDport: 0,
    encapFlags: 0,
    ignoreDf: c.ignoreDf ? 1 : 0,
  };
  if (c.collectMd) a.collectMetadata = true;
  return { set: 'gre', attrs: a };
}

function isInfoData(v: unknown): v is InfoData {
  if (v === null || typeof v !== 'object') return false;
  const set = (v as { set?: unknown }).set;
  return set === 'vxlan' || set === 'geneve' || set === 'gre' || set === 'veth' || set === 'raw';
}

/** The configuration behind a device's typed IFLA_INFO_DATA (for devices this module did not create). */
function confFromInfo(kind: string, data: unknown): TunnelConf | undefined {
  // Another module's shape: { dstPort?, gbp? } for the devices of the OVS compat tunnel vports
  // (vport-vxlan.c: COLLECT_METADATA | UDP_ZERO_CSUM6_RX; vport-geneve.c and vport-gre.c: collect_md).
  const compat = data !== null && typeof data === 'object' && !isInfoData(data) ? (data as { dstPort?: unknown; gbp?: unknown }) : undefined;
  switch (kind) {
    case 'vxlan': {
      const c = defaultVxlanConf();
      if (isInfoData(data) && data.set === 'vxlan') {
        const a = data.attrs;
        c.vni = a.id ?? 0;
        if (a.group6) [c.remote, c.remoteFamily] = [a.group6, 6];
        else if (a.group) [c.remote, c.remoteFamily] = [a.group, 4];
        if (a.local6) [c.local, c.localFamily] = [a.local6, 6];
        else if (a.local) [c.local, c.localFamily] = [a.local, 4];
        c.remoteIfindex = a.link ?? 0;
        c.ttl = a.ttl ?? 0;
        c.tos = a.tos ?? 0;
        c.df = a.df ?? 0;
        c.label = a.label ?? 0;
        const bits: Array<[unknown, number]> = [
          [a.ttlInherit, VXF.TTL_INHERIT],
          [a.learning, VXF.LEARN],
          [a.proxy, VXF.PROXY],
          [a.rsc, VXF.RSC],
          [a.l2miss, VXF.L2MISS],
          [a.l3miss, VXF.L3MISS],
          [a.collectMetadata, VXF.COLLECT_METADATA],
          [a.udpZeroCsum6Tx, VXF.UDP_ZERO_CSUM6_TX],
          [a.udpZeroCsum6Rx, VXF.UDP_ZERO_CSUM6_RX],
          [a.remcsumTx, VXF.REMCSUM_TX],
          [a.remcsumRx, VXF.REMCSUM_RX],
          [a.gbp, VXF.GBP],
          [a.gpe, VXF.GPE],
          [a.remcsumNopartial, VXF.REMCSUM_NOPARTIAL],
          [a.vnifilter, VXF.VNIFILTER],
        ];
        for (const [v, bit] of bits) if (v === true || (typeof v === 'number' && v !== 0)) c.flags |= bit;
        if (a.udpCsum === 0) c.flags |= VXF.UDP_ZERO_CSUM_TX;
        if (c.remoteFamily === 6 || c.localFamily === 6) c.flags |= VXF.IPV6;
        c.ageing = a.ageing ?? FDB_AGE_DEFAULT;
        c.limit = a.limit ?? 0;
        c.port = a.port ?? VXLAN_DEFAULT_PORT;
        c.portMin = a.portRange?.low ?? 0;
        c.portMax = a.portRange?.high ?? 0;
      } else {
        c.flags = VXF.COLLECT_METADATA | VXF.UDP_ZERO_CSUM6_RX | (compat?.gbp === true ? VXF.GBP : 0);
        c.port = typeof compat?.dstPort === 'number' ? compat.dstPort : VXLAN_DEFAULT_PORT;
        c.ageing = FDB_AGE_DEFAULT;
      }
      return { kind: 'vxlan', conf: c };
    }
    case 'geneve': {
      const c = defaultGeneveConf();
      if (isInfoData(data) && data.set === 'geneve') {
        const a = data.attrs;
        c.vni = a.id ?? 0;
        if (a.remote6) [c.remote, c.ipv6] = [a.remote6, true];
        else if (a.remote) c.remote.set(a.remote.subarray(0, 4));
        c.csum = a.remote6 ? a.udpZeroCsum6Tx === 0 : a.udpCsum === 1;
        c.ttl = a.ttl ?? 0;
        c.tos = a.tos ?? 0;
        c.label = a.label ?? 0;
        c.df = a.df ?? 0;
        c.port = a.port ?? GENEVE_UDP_PORT;
        c.collectMd = a.collectMetadata === true;
        c.udp6RxChecksums = a.udpZeroCsum6Rx === 0;
        c.ttlInherit = a.ttlInherit === 1;
        c.innerProtoInherit = a.innerProtoInherit === true;
      } else {
        c.collectMd = true;
        if (typeof compat?.dstPort === 'number') c.port = compat.dstPort;
      }
      return { kind: 'geneve', conf: c };
    }
    case 'gre':
    case 'gretap': {
      const c = defaultGreConf();
      if (isInfoData(data) && data.set === 'gre') {
        const a = data.attrs;
        Object.assign(c, {
          link: a.link ?? 0,
          iflags: a.iflags ?? 0,
          oflags: a.oflags ?? 0,
          ikey: a.ikey ?? 0,
          okey: a.okey ?? 0,
          local: a.local ?? new Uint8Array(4),
          remote: a.remote ?? new Uint8Array(4),
          ttl: a.ttl ?? 0,
          tos: a.tos ?? 0,
          pmtudisc: a.pmtudisc !== 0,
          ignoreDf: a.ignoreDf === 1,
          collectMd: a.collectMetadata === true,
          fwmark: a.fwmark ?? 0,
        } satisfies Partial<GreConf>);
      } else {
        c.collectMd = true;
      }
      return { kind: 'gre', conf: c };
    }
    default:
      return undefined;
  }
}

function infoOf(t: TunnelConf): InfoData {
  switch (t.kind) {
    case 'vxlan':
      return vxlanInfo(t.conf);
    case 'geneve':
      return geneveInfo(t.conf);
    case 'gre':
      return greInfo(t.conf);
  }
}

/** vxlan_headroom(): outer IP + UDP + VXLAN + Ethernet headers. */
function vxlanHeadroom(flags: number): number {
  return (flags & VXF.IPV6 ? 40 : 20) + 8 + 8 + ETH_HLEN;
}

/** gre_calc_hlen(): the GRE header for these flags. */
function greHlen(oflags: number): number {
  let n = 4;
  if (oflags & GRE_F.CSUM) n += 4;
  if (oflags & GRE_F.KEY) n += 4;
  if (oflags & GRE_F.SEQ) n += 4;
  return n;
}

// ---------------------------------------------------------------------------
// Per-device state beside NetDevice

interface LinkState {
  profile: KindProfile;
  /** netif_carrier_ok() and the counters netif_carrier_on/off keep. */
  carrier: boolean;
  carrierUp: number;
  carrierDown: number;
  /** A root qdisc was attached by the first dev_activate(); before that it is noop_qdisc. */
  qdiscAttached: boolean;
  /** An ingress queue exists (dev_ingress_queue_create()), and the qdisc on it. */
  ingressQueue: boolean;
  ingress: 'ingress' | 'clsact' | undefined;
  /** dev->gflags: IFF_PROMISC / IFF_ALLMULTI asked for by userspace. */
  gflags: number;
  allmulti: number;
  group: number;
  linkmode: number;
  ifalias: string;
  broadcast: Uint8Array;
  minMtu: number;
  maxMtu: number;
  numTxQueues: number;
  numRxQueues: number;
  gsoMaxSize: number;
  gsoMaxSegs: number;
  groMaxSize: number;
  tsoMaxSize: number;
  tsoMaxSegs: number;
  protoDown: number;
  /** rtnl_link_state == RTNL_LINK_INITIALIZED (its first RTM_NEWLINK was sent). */
  initialized: boolean;
  /** Tunnel configuration, for the kinds that have one. */
  tunnel: TunnelConf | undefined;
  /** dev->flags (PROMISC/ALLMULTI by counters) as last notified: ifi_change of changes made elsewhere. */
  lastFlags: number;
  /** The master and promiscuity count as last notified (changes made elsewhere). */
  lastMaster: NetDevice | undefined;
  lastPromiscuity: number;
}

/** Who a notification is for: the requester (port id, seq, NLM_F_ECHO) of the change, if any. */
interface NotifyCtx {
  sock: KernelSocket;
  seq: number;
  flags: number;
}

/** A request being handled: the message and its attribute table. */
interface Msg {
  req: Request;
  bytes: Uint8Array;
  dv: DataView;
}

type Result = HandlerResult;
/** What a protocol handler returns: a result, or DUMP_STARTED. */
type Answer = ReturnType<ProtocolHandler>;

function failure(f: ValidationFailure): Result {
  const r: { error: number; message?: string; offset?: number; policy?: ValidationFailure['policy']; missingType?: number } = { error: -f.errno };
  if (f.message !== undefined) r.message = f.message;
  if (f.offset !== undefined) r.offset = f.offset;
  if (f.policy !== undefined) r.policy = f.policy;
  if (f.missingType !== undefined) r.missingType = f.missingType;
  return r;
}

/** NL_SET_ERR_MSG / NL_SET_ERR_MSG_ATTR. */
function errMsg(errno: number, message: string, at?: ParsedAttr): Result {
  return at !== undefined ? { error: -errno, message, offset: at.offset } : { error: -errno, message };
}

/** The kernel functions behind each message type's doit and dumpit, as a trace names them. */
const RTNL_DOIT_NAMES: Readonly<Record<number, string>> = {
  [RTM.NEWLINK]: 'rtnl_newlink',
  [RTM.DELLINK]: 'rtnl_dellink',
  [RTM.GETLINK]: 'rtnl_getlink',
  [RTM.SETLINK]: 'rtnl_setlink',
  [RTM.NEWQDISC]: 'tc_modify_qdisc',
  [RTM.DELQDISC]: 'tc_get_qdisc',
  [RTM.GETQDISC]: 'tc_get_qdisc',
  [RTM.NEWADDR]: 'inet_rtm_newaddr',
  [RTM.DELADDR]: 'inet_rtm_deladdr',
  [RTM.NEWROUTE]: 'inet_rtm_newroute',
  [RTM.DELROUTE]: 'inet_rtm_delroute',
};
const RTNL_DUMPIT_NAMES: Readonly<Record<number, string>> = {
  [RTM.GETLINK]: 'rtnl_dump_ifinfo',
  [RTM.GETQDISC]: 'tc_dump_qdisc',
  [RTM.GETADDR]: 'rtnl_dump_all',
  [RTM.GETROUTE]: 'rtnl_dump_all',
  [RTM.GETNETCONF]: 'rtnl_dump_all',
};

/** Thrown inside a handler to answer with this result (a failed step deep in a call chain). */
/** Link kinds whose driver Debian builds as a module, and the vport type whose module depends on it. */
const LINK_MODULES: Readonly<Record<string, { name: string; vportType: number }>> = {
  vxlan: { name: 'vxlan', vportType: OVS_VPORT_TYPE.VXLAN },
  geneve: { name: 'geneve', vportType: OVS_VPORT_TYPE.GENEVE },
  gretap: { name: 'ip_gre', vportType: OVS_VPORT_TYPE.GRE },
  gre: { name: 'ip_gre', vportType: OVS_VPORT_TYPE.GRE },
};

class Abort {
  constructor(readonly result: Result) {}
  /** The errno a trace shows for the function it unwinds through. */
  get errno(): number {
    const r = this.result;
    return -(typeof r === 'number' ? r : r.error);
  }
}

function fromThrown(err: unknown): Result {
  if (err instanceof Abort) return err.result;
  if (err instanceof NetlinkErrnoError) return -err.errno;
  throw err;
}

// Attribute readers (nla_get_*), for a validated tb[] entry.
const getU8 = (m: Msg, a: ParsedAttr): number => m.dv.getUint8(a.dataOffset);
const getU16 = (m: Msg, a: ParsedAttr): number => m.dv.getUint16(a.dataOffset, true);
const getU32 = (m: Msg, a: ParsedAttr): number => m.dv.getUint32(a.dataOffset, true);
const getS32 = (m: Msg, a: ParsedAttr): number => m.dv.getInt32(a.dataOffset, true);
const getBe16 = (m: Msg, a: ParsedAttr): number => m.dv.getUint16(a.dataOffset, false);
const getBe32 = (m: Msg, a: ParsedAttr): number => m.dv.getUint32(a.dataOffset, false);
const getBytes = (m: Msg, a: ParsedAttr, n = a.dataLength): Uint8Array => m.bytes.slice(a.dataOffset, a.dataOffset + Math.min(n, a.dataLength));

/** nla_strscpy(): up to the first NUL, at most size - 1 bytes. */
function getStr(m: Msg, a: ParsedAttr, size: number): string {
  let end = a.dataOffset;
  const limit = a.dataOffset + Math.min(a.dataLength, size - 1);
  while (end < limit && m.bytes[end] !== 0) end++;
  return Buffer.from(m.bytes.subarray(a.dataOffset, end)).toString('utf8');
}

/** An optional attribute: its value, or `dflt` when absent. */
function optU32(m: Msg, a: ParsedAttr | undefined, dflt: number): number {
  return a !== undefined ? getU32(m, a) : dflt;
}
function optStr(m: Msg, a: ParsedAttr | undefined, size: number, dflt: string): string {
  return a !== undefined ? getStr(m, a, size) : dflt;
}

function parseNested(m: Msg, set: AttrSet, a: ParsedAttr): { tb: AttrTable } | { failure: ValidationFailure } {
  return nlaParse(set, m.bytes, a.dataOffset, a.dataOffset + a.dataLength, NL_VALIDATE.LIBERAL);
}

/** is_valid_ether_addr(): not multicast, not all zeros. */
function validEtherAddr(a: Uint8Array): boolean {
  return a.length >= ETH_ALEN && (a[0]! & 1) === 0 && !isZero(a.subarray(0, ETH_ALEN));
}

/** netif_oper_up(). */
function operUp(operstate: number): boolean {
  return operstate === IF_OPER.UP || operstate === IF_OPER.UNKNOWN;
}

// ---------------------------------------------------------------------------
// The NETLINK_ROUTE side of a Kernel

const registered = new WeakMap<Kernel, Rtnetlink>();

/**
 * Install rtnetlink on a kernel: the NETLINK_ROUTE protocol handler, and
 * link notifications for every namespace (those that exist now; a namespace
 * created later is attached when a NETLINK_ROUTE request is next handled,
 * Kernel having no hook for new namespaces). Calling it again is a no-op.
 */
export function registerRtnetlink(kernel: Kernel): void {
  if (registered.has(kernel)) return;
  const rtnl = new Rtnetlink(kernel);
  registered.set(kernel, rtnl);
  kernel.setProtocolHandler(NetlinkProtocol.NETLINK_ROUTE, (req) => rtnl.handle(req));
  rtnl.attachNamespaces();
}

class Rtnetlink {
  private readonly states = new WeakMap<NetDevice, LinkState>();
  private readonly attached = new WeakSet<Netns>();
  /** dev_base_seq of each namespace: bumped as devices come and go (dump consistency). */
  private readonly baseSeq = new WeakMap<Netns, number>();
  /** peernet2id: ids a namespace gave to other namespaces. */
  private readonly nsids = new WeakMap<Netns, Map<Netns, number>>();
  /** linkwatch: devices with a carrier change not yet processed, in event order. */
  private readonly linkwatch = new Set<NetDevice>();
  /** Listener events are ignored while this module changes devices itself (it notifies on its own). */
  private quiet = 0;
  /** The request whose device removals are under way (DELLINK notifications carry its port id and seq). */
  private delCtx: NotifyCtx | undefined;
  private readonly listener: NetnsListener = { linkChanged: (dev, event) => this.linkChanged(dev, event) };
  /** RTM_*ADDR and RTM_*ROUTE. */
  private readonly inet: InetRtnetlink;

  constructor(private readonly kernel: Kernel) {
    this.inet = new InetRtnetlink(kernel, (dev) => this.state(dev).carrier);
  }

  /** Listen to every namespace not yet listened to. */
  attachNamespaces(): void {
    for (const ns of this.kernel.allNamespaces) {
      if (this.attached.has(ns)) continue;
      this.attached.add(ns);
      ns.listeners.push(this.listener);
      this.inet.attach(ns);
      for (const dev of ns.devices) {
        this.state(dev);
        this.ipSync(dev);
      }
    }
  }

  /**
   * Tell the namespace's IP layer the device's state (it turns changes into
   * NETDEV_UP / CHANGE / DOWN): up, addrconf_link_ready() (operstate up or
   * unknown, a qdisc attached), carrier.
   */
  private ipSync(dev: NetDevice): void {
    if (!this.isRegistered(dev)) return;
    const st = this.state(dev);
    dev.netns.addrconf.sync(dev, { up: dev.isUp, ready: dev.isUp && operUp(dev.operstate) && st.qdiscAttached, carrier: st.carrier });
  }

  // -------------------------------------------------------------------------
  // Device state

  private state(dev: NetDevice): LinkState {
    let st = this.states.get(dev);
    if (st === undefined) {
      st = this.initState(dev);
      this.states.set(dev, st);
    }
    return st;
  }

  private initState(dev: NetDevice): LinkState {
    const profile = profileOf(dev.kind);
    const queues = profile.perCpuQueues ? this.kernel.nCpus : 1;
    const tunnel = confFromInfo(dev.kind, dev.linkData);
    let maxMtu = profile.maxMtu;
    if (tunnel?.kind === 'geneve') maxMtu = geneveMaxMtu(tunnel.conf);
    const ether = dev.type === ARPHRD_ETHER;
    const st: LinkState = {
      profile,
      carrier: dev.kind === 'veth' ? dev.isUp && dev.peer !== undefined && dev.peer.isUp : true,
      carrierUp: 0,
      carrierDown: 0,
      qdiscAttached: dev.isUp,
      ingressQueue: false,
      ingress: undefined,
      gflags: dev.flags & (IFF.PROMISC | IFF.ALLMULTI),
      allmulti: 0,
      group: 0,
      linkmode: IF_LINK_MODE.DEFAULT,
      ifalias: '',
      broadcast: ether ? new Uint8Array(ETH_ALEN).fill(0xff) : new Uint8Array(dev.mac.length),
      minMtu: profile.minMtu,
      maxMtu,
      numTxQueues: queues,
      numRxQueues: queues,
      gsoMaxSize: LEGACY_MAX_SIZE,
      gsoMaxSegs: GSO_MAX_SEGS,
      groMaxSize: LEGACY_MAX_SIZE,
      tsoMaxSize: profile.tsoMaxSize,
      tsoMaxSegs: GSO_MAX_SEGS,
      protoDown: 0,
      initialized: true,
      tunnel,
      lastFlags: 0,
      lastMaster: dev.master,
      lastPromiscuity: dev.promiscuity,
    };
    if (tunnel?.kind === 'gre' && dev.kind === 'gre') st.broadcast = tunnel.conf.remote.slice(0, 4);
    this.states.set(dev, st);
    st.lastFlags = this.kernelFlags(dev);
    return st;
  }

  /** dev->flags: what the device holds, IFF_PROMISC / IFF_ALLMULTI while their counters are non-zero. */
  private kernelFlags(dev: NetDevice): number {
    const st = this.state(dev);
    let f = dev.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI);
    if (dev.promiscuity > 0) f |= IFF.PROMISC;
    if (st.allmulti > 0) f |= IFF.ALLMULTI;
    return f >>> 0;
  }

  /** dev_get_flags(). */
  private reportedFlags(dev: NetDevice): number {
    const st = this.state(dev);
    let f = (dev.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI)) | (st.gflags & (IFF.PROMISC | IFF.ALLMULTI));
    if (dev.isUp) {
      if (operUp(dev.operstate)) f |= IFF.RUNNING;
      if (st.carrier) f |= IFF.LOWER_UP;
    }
    return f >>> 0;
  }

  /** Keep NetDevice.flags what dev_get_flags() reports. */
  private syncFlags(dev: NetDevice): void {
    dev.flags = this.reportedFlags(dev);
  }

  private isRegistered(dev: NetDevice): boolean {
    return dev.netns.byIfindex(dev.ifindex) === dev;
  }

  private bumpBaseSeq(ns: Netns): void {
    this.baseSeq.set(ns, (this.baseSeq.get(ns) ?? 1) + 1);
  }

  // -------------------------------------------------------------------------
  // Listening to namespaces: changes other modules make (register_netdevice,
  // unregister_netdevice, flags / master / promiscuity changes).

  private linkChanged(dev: NetDevice, event: 'new' | 'del' | 'change'): void {
    if (event === 'del') {
      this.unregistered(dev);
      return;
    }
    // rtmsg_ifinfo_event() stays quiet for a device that is not (or no longer) registered.
    if (this.quiet > 0 || !this.isRegistered(dev)) return;
    if (event === 'new') {
      this.bumpBaseSeq(dev.netns);
      const st = this.state(dev);
      // alloc_netdev() leaves operstate IF_OPER_UNKNOWN; linkwatch_init_dev() only sets it without carrier.
      dev.operstate = st.carrier ? (dev.kind === 'loopback' ? dev.operstate : IF_OPER.UNKNOWN) : this.defaultOperstate(dev);
      if (dev.isUp) st.qdiscAttached = true;
      this.notify(dev, RTM.NEWLINK, 0xffffffff);
      this.ipSync(dev);
      return;
    }
    // A change made elsewhere: what opening or closing the device entails here, then RTM_NEWLINK
    // for a new or removed master (NETDEV_CHANGEUPPER, before the promiscuity change that comes
    // with it in vport-netdev.c), with the flags that changed (__dev_notify_flags), or with 0 for
    // any other change (rtnetlink_event).
    const st = this.state(dev);
    if (dev.isUp) st.qdiscAttached = true;
    if (dev.kind === 'veth') {
      const on = dev.isUp && dev.peer !== undefined && dev.peer.isUp;
      this.setCarrier(dev, on);
      if (dev.peer !== undefined) this.setCarrier(dev.peer, on);
    }
    const masterChanged = dev.master !== st.lastMaster;
    // dev_set_promiscuity() notifies IFF_PROMISC as changed whenever the count moves, even
    // when the flag stays (a count going 2 -> 1: the lab's RTM_NEWLINK has change 0x100).
    const promiscuityMoved = dev.promiscuity !== st.lastPromiscuity;
    const changes = ((st.lastFlags ^ this.kernelFlags(dev)) | (promiscuityMoved ? IFF.PROMISC : 0)) >>> 0;
    if (masterChanged) this.notify(dev, RTM.NEWLINK, 0, undefined, false, st.lastPromiscuity);
    if (changes || !masterChanged) this.notify(dev, RTM.NEWLINK, changes);
    this.ipSync(dev);
    this.runLinkwatch();
  }

  /** unregister_netdevice_many() for one device: dev_close_many() if it is up, then RTM_DELLINK. */
  private unregistered(dev: NetDevice): void {
    this.bumpBaseSeq(dev.netns);
    this.linkwatch.delete(dev);
    if (dev.isUp) {
      this.closeDev(dev);
      this.notify(dev, RTM.NEWLINK, IFF.UP | IFF.RUNNING);
    }
    const st = this.state(dev);
    // NETDEV_UNREGISTER: the device's addresses and routes go before RTM_DELLINK, and so does
    // what other subsystems do (dp_device_event detaches a vport: no master, promiscuity -1).
    dev.netns.addrconf.unregister(dev);
    dev.netns.unregisterNotify(dev);
    if (st.initialized || !st.profile.linkOps) this.notify(dev, RTM.DELLINK, 0xffffffff, this.delCtx, true);
    // A veth's peer lost its carrier.
    this.runLinkwatch();
  }

  // -------------------------------------------------------------------------
  // Carrier, operstate, open / close (netif_carrier_on/off, link_watch.c, __dev_open/__dev_close)

  private setCarrier(dev: NetDevice, on: boolean): void {
    const st = this.state(dev);
    if (st.carrier === on) return;
    st.carrier = on;
    if (on) st.carrierUp++;
    else st.carrierDown++;
    this.linkwatch.add(dev);
  }

  /** dev_get_iflink(). */
  private iflink(dev: NetDevice, deleting = false): number {
    switch (dev.kind) {
      case 'veth':
        return deleting ? 0 : (dev.peer?.ifindex ?? 0);
      case 'gre':
      case 'gretap': {
        const t = this.state(dev).tunnel;
        return t?.kind === 'gre' ? t.conf.link : 0;
      }
      default:
        return dev.ifindex;
    }
  }

  /** default_operstate() of link_watch.c. */
  private defaultOperstate(dev: NetDevice): number {
    if (!this.state(dev).carrier) return dev.ifindex !== this.iflink(dev) ? IF_OPER.LOWERLAYERDOWN : IF_OPER.DOWN;
    return IF_OPER.UP;
  }

  /** rfc2863_policy(). */
  private rfc2863(dev: NetDevice): void {
    let operstate = this.defaultOperstate(dev);
    if (operstate === dev.operstate) return;
    const mode = this.state(dev).linkmode;
    if (operstate === IF_OPER.UP && mode === IF_LINK_MODE.TESTING) operstate = IF_OPER.TESTING;
    if (operstate === IF_OPER.UP && mode === IF_LINK_MODE.DORMANT) operstate = IF_OPER.DORMANT;
    dev.operstate = operstate;
  }

  /** linkwatch_event(): each device with a carrier change, in order; RTM_NEWLINK for those up. */
  private runLinkwatch(): void {
    while (this.linkwatch.size > 0) {
      const dev = this.linkwatch.values().next().value!;
      this.linkwatch.delete(dev);
      if (!this.isRegistered(dev)) continue;
      this.rfc2863(dev);
      if (dev.isUp) {
        this.state(dev).qdiscAttached = true;
        this.notify(dev, RTM.NEWLINK, 0);
      } else {
        this.syncFlags(dev);
      }
      this.ipSync(dev); // NETDEV_CHANGE
    }
  }

  /** __dev_open(): ndo_open, IFF_UP, dev_activate(). */
  private openDev(dev: NetDevice): number {
    if (dev.isUp) return 0;
    if (dev.kind === 'veth') {
      // veth_open()
      const peer = dev.peer;
      if (peer === undefined) return -Errno.ENOTCONN;
      if (peer.isUp) {
        this.setCarrier(dev, true);
        this.setCarrier(peer, true);
      }
    }
    dev.flags |= IFF.UP;
    this.state(dev).qdiscAttached = true;
    this.syncFlags(dev);
    this.ipSync(dev); // NETDEV_UP
    return 0;
  }

  /** __dev_close(): ndo_stop, IFF_UP cleared. */
  private closeDev(dev: NetDevice): void {
    if (!dev.isUp) return;
    if (dev.kind === 'veth') {
      // veth_close()
      this.setCarrier(dev, false);
      if (dev.peer !== undefined) this.setCarrier(dev.peer, false);
    }
    dev.flags &= ~IFF.UP;
    this.syncFlags(dev);
    this.ipSync(dev); // NETDEV_DOWN
  }

  /** __dev_change_flags(). Returns an errno (open failures). */
  private changeFlags(dev: NetDevice, flags: number): number {
    const st = this.state(dev);
    const old = this.kernelFlags(dev);
    const keep = dev.flags & (IFF.UP | IFF_VOLATILE) & ~IFF_COMPUTED;
    dev.flags = ((flags & IFF_USER) | keep | (dev.flags & IFF_COMPUTED)) >>> 0;
    let ret = 0;
    if ((old ^ flags) & IFF.UP) {
      if (old & IFF.UP) this.closeDev(dev);
      else ret = this.openDev(dev);
    }
    if ((flags ^ st.gflags) & IFF.PROMISC) {
      st.gflags ^= IFF.PROMISC;
      dev.promiscuity = Math.max(0, dev.promiscuity + (flags & IFF.PROMISC ? 1 : -1));
    }
    if ((flags ^ st.gflags) & IFF.ALLMULTI) {
      st.gflags ^= IFF.ALLMULTI;
      st.allmulti = Math.max(0, st.allmulti + (flags & IFF.ALLMULTI ? 1 : -1));
    }
    this.syncFlags(dev);
    return ret;
  }

  /** dev_change_flags(): __dev_change_flags, then RTM_NEWLINK with the changes (__dev_notify_flags). */
  private devChangeFlags(dev: NetDevice, flags: number): number {
    const st = this.state(dev);
    const old = this.kernelFlags(dev);
    const oldG = st.gflags;
    const ret = this.changeFlags(dev, flags);
    if (ret < 0) return ret;
    const changes = ((old ^ this.kernelFlags(dev)) | (oldG ^ st.gflags)) >>> 0;
    if (changes) this.notify(dev, RTM.NEWLINK, changes);
    return 0;
  }

  /** rtnl_dev_combine_flags(): ifi_change 0 means every flag (bugwards compatibility). */
  private combineFlags(dev: NetDevice, ifiFlags: number, ifiChange: number): number {
    if (!ifiChange) return ifiFlags;
    const current = (dev.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI)) | (this.state(dev).gflags & (IFF.PROMISC | IFF.ALLMULTI));
    return ((ifiFlags & ifiChange) | (current & ~ifiChange)) >>> 0;
  }

  /** netdev_state_change(): RTM_NEWLINK (change 0) if the device is up. */
  private stateChange(dev: NetDevice): void {
    if (dev.isUp) this.notify(dev, RTM.NEWLINK, 0);
  }

  // -------------------------------------------------------------------------
  // Notifications (rtmsg_ifinfo -> rtnl_notify)

  private notify(dev: NetDevice, type: number, change: number, ctx?: NotifyCtx, deleting = false, promiscuity?: number): void {
    this.syncFlags(dev);
    const st = this.state(dev);
    const msg = this.fillLink(dev, dev.netns, type, ctx?.sock.portId ?? 0, ctx?.seq ?? 0, change, 0, deleting);
    if (promiscuity !== undefined) msg.attrs.promiscuity = promiscuity;
    const bytes = encode(msg);
    const echo = ctx !== undefined && (ctx.flags & NLM_F.ECHO) !== 0;
    this.kernel.multicast(NetlinkProtocol.NETLINK_ROUTE, dev.netns, RTNLGRP_LINK, bytes, echo ? ctx.sock.portId : 0);
    if (echo && ctx.sock.netns === dev.netns) ctx.sock.deliver(bytes);
    st.lastFlags = this.kernelFlags(dev);
    st.lastMaster = dev.master;
    st.lastPromiscuity = dev.promiscuity;
  }

  /** peernet2id_alloc(). */
  private peernetId(from: Netns, to: Netns): number {
    let ids = this.nsids.get(from);
    if (ids === undefined) this.nsids.set(from, (ids = new Map()));
    let id = ids.get(to);
    if (id === undefined) ids.set(to, (id = ids.size));
    return id;
  }

  /** The root qdisc's id (qdisc->ops->id). */
  private qdiscName(dev: NetDevice, deleting: boolean): string {
    const st = this.state(dev);
    if (deleting || !st.qdiscAttached) return 'noop';
    return st.profile.noQueue ? 'noqueue' : 'fq_codel';
  }

  /** rtnl_fill_ifinfo(). `srcNet` is the namespace the message is for (link-netnsid ids are its). */
  private fillLink(dev: NetDevice, srcNet: Netns, type: number, pid: number, seq: number, change: number, nlFlags: number, deleting = false): RtnlLinkMessage {
    const st = this.state(dev);
    const s = dev.stats;
    const attrs: IflaAttrs = {
      ifname: dev.name,
      txqlen: dev.txqlen,
      operstate: dev.isUp && !deleting ? dev.operstate : IF_OPER.DOWN,
      linkmode: st.linkmode,
      mtu: dev.mtu,
      minMtu: st.minMtu,
      maxMtu: st.maxMtu,
      group: st.group,
      promiscuity: dev.promiscuity,
      allmulti: st.allmulti,
      numTxQueues: st.numTxQueues,
      gsoMaxSegs: st.gsoMaxSegs,
      gsoMaxSize: st.gsoMaxSize,
      groMaxSize: st.groMaxSize,
      tsoMaxSize: st.tsoMaxSize,
      tsoMaxSegs: st.tsoMaxSegs,
      numRxQueues: st.numRxQueues,
    };
    // Unregistering, the device has left its master (NETDEV_UNREGISTER handlers unlink it).
    if (dev.master !== undefined && !deleting) attrs.master = dev.master.ifindex;
    attrs.carrier = st.carrier ? 1 : 0;
    attrs.qdisc = this.qdiscName(dev, deleting);
    if (st.ifalias !== '') attrs.ifalias = st.ifalias;
    Object.assign(attrs, {
      carrierChanges: st.carrierUp + st.carrierDown,
      carrierUpCount: st.carrierUp,
      carrierDownCount: st.carrierDown,
      protoDown: st.protoDown,
      map: { memStart: 0n, memEnd: 0n, baseAddr: 0n, irq: 0, dma: 0, port: 0, pad: 0 },
    } satisfies IflaAttrs);
    if (dev.mac.length > 0) {
      attrs.address = dev.mac.slice();
      attrs.broadcast = st.broadcast.slice(0, dev.mac.length);
    }
    const u32of = (v: bigint): number => Number(v & 0xffffffffn);
    const stats64 = {
      rxPackets: s.rxPackets,
      txPackets: s.txPackets,
      rxBytes: s.rxBytes,
      txBytes: s.txBytes,
      rxErrors: s.rxErrors,
      txErrors: s.txErrors,
      rxDropped: s.rxDropped,
      txDropped: s.txDropped,
      multicast: 0n,
      collisions: 0n,
      rxLengthErrors: 0n,
      rxOverErrors: 0n,
      rxCrcErrors: 0n,
      rxFrameErrors: 0n,
      rxFifoErrors: 0n,
      rxMissedErrors: 0n,
      txAbortedErrors: 0n,
      txCarrierErrors: 0n,
      txFifoErrors: 0n,
      txHeartbeatErrors: 0n,
      txWindowErrors: 0n,
      rxCompressed: 0n,
      txCompressed: 0n,
      rxNohandler: 0n,
      rxOtherhostDropped: 0n,
    };
    attrs.stats64 = stats64;
    const { rxOtherhostDropped: _dropped, ...legacy } = stats64;
    attrs.stats = Object.fromEntries(Object.entries(legacy).map(([k, v]) => [k, u32of(v)])) as NonNullable<IflaAttrs['stats']>;
    attrs.xdp = { attached: XDP_ATTACHED.NONE };
    // rtnl_link_fill(): the device's kind and data, then its master's kind (rtnl_link_slave_info_fill).
    const masterOps = dev.master !== undefined && !deleting && profileOf(dev.master.kind).linkOps ? dev.master.kind : undefined;
    if (st.profile.linkOps || masterOps !== undefined) {
      const linkinfo: NonNullable<IflaAttrs['linkinfo']> = {};
      if (st.profile.linkOps) {
        linkinfo.kind = dev.kind;
        const data = st.tunnel !== undefined ? infoOf(st.tunnel) : isInfoData(dev.linkData) && dev.linkData.set !== 'veth' ? dev.linkData : undefined;
        if (data !== undefined) linkinfo.data = data;
      }
      if (masterOps !== undefined) linkinfo.slaveKind = masterOps;
      attrs.linkinfo = linkinfo;
    }
    // rtnl_fill_link_netnsid() and nla_put_iflink().
    const iflink = this.iflink(dev, deleting);
    const linkNet = dev.kind === 'veth' && !deleting && dev.peer !== undefined ? dev.peer.netns : dev.netns;
    if (linkNet !== dev.netns) attrs.linkNetnsid = this.peernetId(srcNet, linkNet);
    if (iflink !== dev.ifindex || linkNet !== dev.netns) attrs.link = iflink;
    attrs.afSpec = new Uint8Array(0);
    return {
      kind: 'rtnl',
      protocol: NetlinkProtocol.NETLINK_ROUTE,
      header: { len: 0, type, flags: nlFlags, seq, pid },
      family: 'link',
      ifinfomsg: { family: 0, pad: 0, type: dev.type, index: dev.ifindex, flags: this.reportedFlags(dev), change: change >>> 0 },
      attrs,
    };
  }

  // -------------------------------------------------------------------------
  // Dispatch (rtnetlink_rcv_msg)

  handle(req: Request): Answer {
    this.attachNamespaces();
    const type = req.type;
    if (type > RTM_MAX) return -Errno.EOPNOTSUPP;
    // All the messages must have at least 1 byte length.
    if (req.bytes.length - NLMSG_HDRLEN < 1) return 0;
    const kind = (type - RTM.NEWLINK) & 3;
    if (kind !== KIND_GET && !req.sock.capNetAdmin) return -Errno.EPERM;
    const m: Msg = { req, bytes: req.bytes, dv: req.dv };
    try {
      if (kind === KIND_GET && req.flags & NLM_F.DUMP) {
        return this.kernel.ftrace.call('kernel', RTNL_DUMPIT_NAMES[type] ?? 'rtnetlink_rcv_msg', undefined, () => this.dumpStart(req, m));
      }
      const result = this.kernel.ftrace.call('kernel', RTNL_DOIT_NAMES[type] ?? 'rtnetlink_rcv_msg', undefined, () => this.doit(req, m));
      if (typeof result === 'symbol') return result;
      this.runLinkwatch();
      return result;
    } catch (err) {
      this.runLinkwatch();
      return fromThrown(err);
    }
  }

  /** rtnl_dump_*(): the dump a GET with NLM_F_DUMP starts. */
  private dumpStart(req: Request, m: Msg): Answer {
    switch (req.type) {
      case RTM.GETLINK:
        return this.dumpLinks(m);
      case RTM.GETQDISC:
        return this.kernel.startDump(req.sock, req.seq, () => ({ done: true, error: 0 }));
      case RTM.GETADDR:
      case RTM.GETROUTE:
        return this.inet.handle(req);
      // rtnl_dump_all(): the per-family dumps; the model has no netconf to show.
      case RTM.GETNETCONF:
        return this.kernel.startDump(req.sock, req.seq, () => ({ done: true, error: 0 }));
      default:
        return -Errno.EOPNOTSUPP;
    }
  }

  /** The doit of a message type (rtnl_newlink, rtnl_getlink, ...). */
  private doit(req: Request, m: Msg): Answer {
    switch (req.type) {
      case RTM.NEWLINK:
        return this.newLink(m);
      case RTM.DELLINK:
        return this.delLink(m);
      case RTM.GETLINK:
        return this.getLink(m);
      case RTM.SETLINK:
        return this.setLink(m);
      case RTM.NEWQDISC:
        return this.modifyQdisc(m);
      case RTM.DELQDISC:
      case RTM.GETQDISC:
        return this.getQdisc(m);
      case RTM.NEWADDR:
      case RTM.DELADDR:
      case RTM.NEWROUTE:
      case RTM.DELROUTE:
        return this.inet.handle(req);
      default:
        return -Errno.EOPNOTSUPP;
    }
  }

  /** nlmsg_parse_deprecated(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, ifla_policy, extack). */
  private parseLink(m: Msg): AttrTable {
    if (m.bytes.length < NLMSG_HDRLEN + IFINFOMSG_LEN) throw new Abort(-Errno.EINVAL);
    const r = nlaParse(iflaRequestPolicy, m.bytes, NLMSG_HDRLEN + IFINFOMSG_LEN, m.bytes.length, NL_VALIDATE.LIBERAL);
    if ('failure' in r) throw new Abort(failure(r.failure));
    return r.tb;
  }

  private ifinfo(m: Msg): { index: number; flags: number; change: number } {
    return {
      index: m.dv.getInt32(NLMSG_HDRLEN + 4, true),
      flags: m.dv.getUint32(NLMSG_HDRLEN + 8, true),
      change: m.dv.getUint32(NLMSG_HDRLEN + 12, true),
    };
  }

  /** rtnl_ensure_unique_netns(). */
  private ensureUniqueNetns(tb: AttrTable, netnsIdOnly: boolean): void {
    if (netnsIdOnly) {
      if (!tb[IFLA.NET_NS_PID] && !tb[IFLA.NET_NS_FD]) return;
      throw new Abort(errMsg(Errno.EOPNOTSUPP, 'specified netns attribute not supported'));
    }
    const n = [IFLA.TARGET_NETNSID, IFLA.NET_NS_PID, IFLA.NET_NS_FD].filter((t) => tb[t] !== undefined).length;
    if (n > 1) throw new Abort(errMsg(Errno.EINVAL, 'multiple netns identifying attributes specified'));
  }

  /**
   * rtnl_link_get_net_capable(): the model names namespaces and has no
   * processes, descriptors or namespace ids to find one by.
   */
  private otherNetnsError(tb: AttrTable): Result | undefined {
    if (tb[IFLA.NET_NS_PID]) return -Errno.ESRCH;
    if (tb[IFLA.NET_NS_FD]) return -Errno.EBADF;
    if (tb[IFLA.TARGET_NETNSID]) return -Errno.EINVAL;
    return undefined;
  }

  /** rtnl_dev_get() and __dev_get_by_index(). */
  private lookup(m: Msg, ns: Netns, index: number, tb: AttrTable): NetDevice | undefined {
    if (index > 0) return ns.byIfindex(index);
    const a = tb[IFLA.IFNAME] ?? tb[IFLA.ALT_IFNAME];
    if (a === undefined) return undefined;
    return ns.byIfname(getStr(m, a, tb[IFLA.IFNAME] ? IFNAMSIZ : 128));
  }

  // -------------------------------------------------------------------------
  // RTM_GETLINK

  /** rtnl_getlink(). */
  private getLink(m: Msg): Result {
    if (m.bytes.length < NLMSG_HDRLEN + IFINFOMSG_LEN) return errMsg(Errno.EINVAL, 'Invalid header for get link');
    const tb = this.parseLink(m);
    this.ensureUniqueNetns(tb, true);
    if (tb[IFLA.TARGET_NETNSID]) return -Errno.EINVAL;
    const ifm = this.ifinfo(m);
    const ns = m.req.sock.netns;
    if (ifm.index <= 0 && !tb[IFLA.IFNAME] && !tb[IFLA.ALT_IFNAME]) return -Errno.EINVAL;
    const dev = this.lookup(m, ns, ifm.index, tb);
    if (dev === undefined) return -Errno.ENODEV;
    const sock = m.req.sock;
    this.kernel.unicast(sock, encode(this.fillLink(dev, ns, RTM.NEWLINK, sock.portId, m.req.seq, 0, 0)));
    return 0;
  }

  /** rtnl_dump_ifinfo(), resumable at cb->args[0] (hash bucket) and cb->args[1] (index in it). */
  private dumpLinks(m: Msg): Answer {
    // rtnl_valid_dump_ifinfo_req() without strict checking: a bare struct rtgenmsg is accepted, and a
    // request whose attributes do not parse is dumped unfiltered.
    const hdrlen = m.bytes.length - NLMSG_HDRLEN < IFINFOMSG_LEN ? 4 : IFINFOMSG_LEN;
    let master = 0;
    let kindOps: string | undefined;
    if (m.bytes.length >= NLMSG_HDRLEN + hdrlen) {
      const r = nlaParse(iflaRequestPolicy, m.bytes, NLMSG_HDRLEN + hdrlen, m.bytes.length, NL_VALIDATE.LIBERAL);
      if ('tb' in r) {
        if (r.tb[IFLA.TARGET_NETNSID]) return this.kernel.startDump(m.req.sock, m.req.seq, () => ({ done: true, error: -Errno.EINVAL }));
        const mst = r.tb[IFLA.MASTER];
        if (mst) master = getU32(m, mst);
        const li = r.tb[IFLA.LINKINFO];
        if (li) {
          const p = parseNested(m, iflaInfoAttrs, li);
          const k = 'tb' in p ? p.tb[IFLA_INFO.KIND] : undefined;
          if (k) {
            const name = getStr(m, k, MODULE_NAME_LEN);
            if (linkOpsOf(name)) kindOps = name;
          }
        }
      }
    }
    const nlFlags = NLM_F.MULTI | (master || kindOps !== undefined ? NLM_F.DUMP_FILTERED : 0);
    const sock = m.req.sock;
    const ns = sock.netns;
    const seq = m.req.seq;
    const args = { h: 0, idx: 0, prevSeq: 0 };
    const filtered = (dev: NetDevice): boolean => {
      if (master) {
        const up = dev.master;
        if (master === -1 || master === 0xffffffff) return up !== undefined;
        if (up === undefined || up.ifindex !== master) return true;
      }
      return kindOps !== undefined && dev.kind !== kindOps;
    };
    return this.kernel.startDump(sock, seq, (out, budget) => {
      // dev_index_head[]: 256 buckets by ifindex, the newest device first in each.
      const buckets = new Map<number, NetDevice[]>();
      for (const dev of ns.devices) {
        const h = dev.ifindex & 0xff;
        const list = buckets.get(h);
        if (list) list.push(dev);
        else buckets.set(h, [dev]);
      }
      for (const list of buckets.values()) list.sort((a, b) => b.ifindex - a.ifindex);
      let used = 0;
      const first = out.length;
      let h = args.h;
      let sIdx = args.idx;
      let idx = 0;
      let full = false;
      for (; h < 256; h++, sIdx = 0) {
        idx = 0;
        for (const dev of buckets.get(h) ?? []) {
          if (!filtered(dev) && idx >= sIdx) {
            const b = encode(this.fillLink(dev, ns, RTM.NEWLINK, sock.portId, seq, 0, nlFlags));
            if (used > 0 && used + ((b.length + 3) & ~3) > budget) {
              full = true;
              break;
            }
            out.push(b);
            used += (b.length + 3) & ~3;
          }
          idx++;
        }
        if (full) break;
      }
      args.h = h;
      args.idx = idx;
      // nl_dump_check_consistent(): the device list changed since the last chunk.
      const cur = this.baseSeq.get(ns) ?? 1;
      if (out.length > first && args.prevSeq && cur !== args.prevSeq) {
        const b = out[first]!;
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        dv.setUint16(6, dv.getUint16(6, true) | NLM_F.DUMP_INTR, true);
      }
      args.prevSeq = cur;
      return out.length > first ? { done: false } : { done: true, error: 0 };
    });
  }

  // -------------------------------------------------------------------------
  // RTM_SETLINK / RTM_NEWLINK on an existing device (do_setlink)

  /** rtnl_setlink(). */
  private setLink(m: Msg): Result {
    const tb = this.parseLink(m);
    this.ensureUniqueNetns(tb, false);
    const ifm = this.ifinfo(m);
    if (ifm.index <= 0 && !tb[IFLA.IFNAME] && !tb[IFLA.ALT_IFNAME]) return -Errno.EINVAL;
    const dev = this.lookup(m, m.req.sock.netns, ifm.index, tb);
    if (dev === undefined) return -Errno.ENODEV;
    return this.doSetlink(m, dev, ifm, tb, 0);
  }

  /** validate_linkmsg(). */
  private validateLinkmsg(dev: NetDevice | undefined, tb: AttrTable, addrLen?: number): void {
    const len = addrLen ?? dev?.mac.length;
    if (len !== undefined) {
      const a = tb[IFLA.ADDRESS];
      if (a && a.dataLength < len) throw new Abort(-Errno.EINVAL);
      const b = tb[IFLA.BROADCAST];
      if (b && b.dataLength < len) throw new Abort(-Errno.EINVAL);
    }
    // IFLA_AF_SPEC: rtnl_af_lookup() finds no address family in a model without an IP layer.
    const af = tb[IFLA.AF_SPEC];
    if (af && af.dataLength >= 4) throw new Abort(-Errno.EAFNOSUPPORT);
  }

  /** do_setlink(): each attribute in the kernel's order; a failure keeps what was already changed. */
  private doSetlink(m: Msg, dev: NetDevice, ifm: { index: number; flags: number; change: number }, tb: AttrTable, status: number): Result {
    const MODIFIED = 1;
    const NOTIFY = 3;
    const st = this.state(dev);
    this.validateLinkmsg(dev, tb);
    const ifname = optStr(m, tb[IFLA.IFNAME], IFNAMSIZ, '');
    let err: Result = 0;
    out: {
      const netnsErr = this.otherNetnsError(tb);
      if (netnsErr !== undefined) {
        err = netnsErr;
        break out;
      }
      if (tb[IFLA.MAP]) {
        // No ndo_set_config on any modelled device.
        err = -Errno.EOPNOTSUPP;
        break out;
      }
      const addr = tb[IFLA.ADDRESS];
      if (addr) {
        err = this.setMacAddress(dev, getBytes(m, addr, dev.mac.length));
        if (err) break out;
        status |= MODIFIED;
      }
      const mtu = tb[IFLA.MTU];
      if (mtu) {
        err = this.setMtu(dev, getU32(m, mtu));
        if (err) break out;
        status |= MODIFIED;
      }
      const group = tb[IFLA.GROUP];
      if (group) {
        st.group = getU32(m, group);
        status |= NOTIFY;
      }
      if (ifm.index > 0 && ifname !== '') {
        err = this.changeName(dev, ifname);
        if (err) break out;
        status |= MODIFIED;
      }
      const alias = tb[IFLA.IFALIAS];
      if (alias) {
        if (alias.dataLength >= IFALIASZ) {
          err = -Errno.EINVAL;
          break out;
        }
        // dev_set_alias() keeps the bytes up to a NUL as a C string.
        st.ifalias = getStr(m, alias, IFALIASZ);
        status |= NOTIFY;
      }
      const brd = tb[IFLA.BROADCAST];
      if (brd) {
        st.broadcast = getBytes(m, brd, dev.mac.length);
        this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGEADDR
      }
      if (ifm.flags || ifm.change) {
        err = this.devChangeFlags(dev, this.combineFlags(dev, ifm.flags, ifm.change));
        if (err) break out;
      }
      const master = tb[IFLA.MASTER];
      if (master) {
        err = this.setMaster(dev, getU32(m, master));
        if (err) break out;
        status |= MODIFIED;
      }
      const carrier = tb[IFLA.CARRIER];
      if (carrier) {
        if (!st.profile.changeCarrier) {
          err = -Errno.EOPNOTSUPP;
          break out;
        }
        this.setCarrier(dev, getU8(m, carrier) !== 0);
        status |= MODIFIED;
      }
      const txqlen = tb[IFLA.TXQLEN];
      if (txqlen) {
        const v = getU32(m, txqlen);
        if (v !== dev.txqlen) {
          dev.txqlen = v;
          this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGE_TX_QUEUE_LEN
        }
        status |= MODIFIED;
      }
      const gsoSize = tb[IFLA.GSO_MAX_SIZE];
      if (gsoSize) {
        const v = getU32(m, gsoSize);
        if (v > st.tsoMaxSize) {
          err = -Errno.EINVAL;
          break out;
        }
        if (v !== st.gsoMaxSize) {
          st.gsoMaxSize = v;
          status |= MODIFIED;
        }
      }
      const gsoSegs = tb[IFLA.GSO_MAX_SEGS];
      if (gsoSegs) {
        const v = getU32(m, gsoSegs);
        if (v > GSO_MAX_SEGS || v > st.tsoMaxSegs) {
          err = -Errno.EINVAL;
          break out;
        }
        if (v !== st.gsoMaxSegs) {
          st.gsoMaxSegs = v;
          status |= MODIFIED;
        }
      }
      const gro = tb[IFLA.GRO_MAX_SIZE];
      if (gro) {
        const v = getU32(m, gro);
        if (v !== st.groMaxSize) {
          st.groMaxSize = v;
          status |= MODIFIED;
        }
      }
      const operstate = tb[IFLA.OPERSTATE];
      if (operstate) this.setOperstate(dev, getU8(m, operstate));
      const linkmode = tb[IFLA.LINKMODE];
      if (linkmode) {
        const v = getU8(m, linkmode);
        if (v !== st.linkmode) status |= NOTIFY;
        st.linkmode = v;
      }
      const vfinfo = tb[IFLA.VFINFO_LIST];
      if (vfinfo) {
        // Each IFLA_VF_INFO needs an ndo_set_vf_* no modelled device has.
        let off = vfinfo.dataOffset;
        const end = vfinfo.dataOffset + vfinfo.dataLength;
        while (end - off >= 4) {
          const len = m.dv.getUint16(off, true);
          if (len < 4 || len > end - off) break;
          err = (m.dv.getUint16(off + 2, true) & 0x3fff) !== 1 ? -Errno.EINVAL : -Errno.EOPNOTSUPP;
          break out;
        }
      }
      if (tb[IFLA.VF_PORTS] || tb[IFLA.PORT_SELF]) {
        err = -Errno.EOPNOTSUPP;
        break out;
      }
      if (tb[IFLA.PROTO_DOWN] || tb[IFLA.PROTO_DOWN_REASON]) {
        // do_set_proto_down()
        if (!st.profile.protoDown) {
          err = errMsg(Errno.EOPNOTSUPP, 'Protodown not supported by device');
          break out;
        }
        const pd = tb[IFLA.PROTO_DOWN];
        if (pd) {
          const down = getU8(m, pd) !== 0;
          this.setCarrier(dev, !down);
          st.protoDown = down ? 1 : 0;
        }
        status |= NOTIFY;
      }
      const xdp = tb[IFLA.XDP];
      if (xdp) {
        err = this.setXdp(m, xdp);
        if (err) break out;
      }
    }
    if (status & MODIFIED && (status & NOTIFY) === NOTIFY) this.stateChange(dev);
    return err;
  }

  /** The IFLA_XDP part of do_setlink(): the model has no BPF programs to attach. */
  private setXdp(m: Msg, a: ParsedAttr): Result {
    const p = parseNested(m, xdpPolicy, a);
    if ('failure' in p) return -p.failure.errno;
    if (p.tb[IFLA_XDP.ATTACHED] || p.tb[IFLA_XDP.PROG_ID]) return -Errno.EINVAL;
    const fl = p.tb[IFLA_XDP.FLAGS];
    if (fl) {
      const v = getU32(m, fl);
      if (v & ~XDP_FLAGS_MASK) return -Errno.EINVAL;
      const modes = v & XDP_FLAGS_MODES;
      if (modes & (modes - 1)) return -Errno.EINVAL;
    }
    const fd = p.tb[IFLA_XDP.FD];
    if (fd && getS32(m, fd) !== -1) return -Errno.EBADF;
    return 0;
  }

  /** dev_set_mac_address() with eth_mac_addr() as the drivers' ndo_set_mac_address. */
  private setMacAddress(dev: NetDevice, addr: Uint8Array): Result {
    const st = this.state(dev);
    if (!st.profile.setMac) return -Errno.EOPNOTSUPP;
    if (!st.profile.liveAddrChange && dev.isUp) return -Errno.EBUSY;
    if (!validEtherAddr(addr)) return -Errno.EADDRNOTAVAIL;
    dev.mac = addr.slice(0, ETH_ALEN);
    this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGEADDR
    return 0;
  }

  /** dev_validate_mtu(). */
  private validateMtu(st: { minMtu: number; maxMtu: number }, mtu: number): Result {
    if (mtu < st.minMtu || mtu > 0x7fffffff) return errMsg(Errno.EINVAL, 'mtu less than device minimum');
    if (st.maxMtu > 0 && mtu > st.maxMtu) return errMsg(Errno.EINVAL, 'mtu greater than device maximum');
    return 0;
  }

  /** dev_set_mtu_ext() with the drivers' ndo_change_mtu. */
  private setMtu(dev: NetDevice, mtu: number): Result {
    const st = this.state(dev);
    if (mtu === dev.mtu) return 0;
    const bad = this.validateMtu(st, mtu);
    if (bad) return bad;
    const t = st.tunnel;
    if (t?.kind === 'gre') {
      // __ip_tunnel_change_mtu(strict)
      const max = IP_MAX_MTU - (greHlen(t.conf.oflags) + 20) - (dev.type === ARPHRD_ETHER ? ETH_HLEN : 0);
      if (mtu < ETH_MIN_MTU || mtu > max) return -Errno.EINVAL;
    } else if (t?.kind === 'geneve') {
      // geneve_change_mtu() clamps.
      mtu = Math.max(st.minMtu, Math.min(mtu, st.maxMtu));
    } else if (t?.kind === 'vxlan' && t.conf.remoteIfindex) {
      const lower = dev.netns.byIfindex(t.conf.remoteIfindex);
      if (lower && mtu > lower.mtu - vxlanHeadroom(t.conf.flags)) return -Errno.EINVAL;
    }
    dev.mtu = mtu;
    this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGEMTU
    return 0;
  }

  /** dev_change_name(). */
  private changeName(dev: NetDevice, name: string): Result {
    if (dev.isUp) return -Errno.EBUSY;
    if (name === dev.name) return 0;
    const resolved = this.allocName(dev.netns, name);
    if (typeof resolved !== 'string') return resolved;
    this.quiet++;
    try {
      dev.netns.rename(dev, resolved);
    } finally {
      this.quiet--;
    }
    this.bumpBaseSeq(dev.netns);
    this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGENAME
    return 0;
  }

  /** dev_get_valid_name(): a valid name not in use, with one "%d" replaced by the lowest free number. */
  private allocName(ns: Netns, name: string): string | Result {
    if (!validIfname(name)) return -Errno.EINVAL;
    const p = name.indexOf('%');
    if (p < 0) return ns.byIfname(name) !== undefined ? -Errno.EEXIST : name;
    if (name[p + 1] !== 'd' || name.indexOf('%', p + 2) >= 0) return -Errno.EINVAL;
    for (let i = 0; i < 32768; i++) {
      const candidate = name.slice(0, p) + String(i) + name.slice(p + 2);
      if (!validIfname(candidate)) return -Errno.EINVAL;
      if (ns.byIfname(candidate) === undefined) return candidate;
    }
    return -Errno.ENFILE;
  }

  /** do_set_master(): no modelled device is a master with ndo_add_slave / ndo_del_slave. */
  private setMaster(dev: NetDevice, ifindex: number): Result {
    const upper = dev.master;
    if (upper !== undefined) {
      if (upper.ifindex === ifindex) return 0;
      return -Errno.EOPNOTSUPP;
    }
    if (ifindex) {
      if (dev.netns.byIfindex(ifindex) === undefined) return -Errno.EINVAL;
      return -Errno.EOPNOTSUPP;
    }
    return 0;
  }

  /** set_operstate(). */
  private setOperstate(dev: NetDevice, transition: number): void {
    let operstate = dev.operstate;
    switch (transition) {
      case IF_OPER.UP:
        if (operstate === IF_OPER.DORMANT || operstate === IF_OPER.TESTING || operstate === IF_OPER.UNKNOWN) operstate = IF_OPER.UP;
        break;
      case IF_OPER.TESTING:
        if (operUp(operstate)) operstate = IF_OPER.TESTING;
        break;
      case IF_OPER.DORMANT:
        if (operUp(operstate)) operstate = IF_OPER.DORMANT;
        break;
    }
    if (operstate !== dev.operstate) {
      dev.operstate = operstate;
      if (this.isRegistered(dev)) this.stateChange(dev);
    }
  }

  // -------------------------------------------------------------------------
  // RTM_NEWLINK

  /** __rtnl_newlink(). */
  private newLink(m: Msg): Result {
    const tb = this.parseLink(m);
    this.ensureUniqueNetns(tb, false);
    const ifm = this.ifinfo(m);
    const ns = m.req.sock.netns;
    let dev: NetDevice | undefined;
    let linkSpecified = false;
    if (ifm.index > 0) {
      linkSpecified = true;
      dev = ns.byIfindex(ifm.index);
    } else if (ifm.index < 0) {
      return errMsg(Errno.EINVAL, "ifindex can't be negative");
    } else if (tb[IFLA.IFNAME] || tb[IFLA.ALT_IFNAME]) {
      linkSpecified = true;
      dev = this.lookup(m, ns, 0, tb);
    }
    this.validateLinkmsg(dev, tb);

    let linkinfo: AttrTable = [];
    const li = tb[IFLA.LINKINFO];
    if (li) {
      const p = parseNested(m, iflaInfoAttrs, li);
      if ('failure' in p) return -p.failure.errno; // parsed without an extack
      linkinfo = p.tb;
    }
    const kindAttr = linkinfo[IFLA_INFO.KIND];
    const requestedKind = kindAttr ? getStr(m, kindAttr, MODULE_NAME_LEN) : '';
    // The out-of-tree openvswitch module (the ovs-2.5 profile) brings its own geneve driver,
    // registered as "ovs_geneve": OVS probes for it to choose its compat tunnel ports.
    const kind = requestedKind === 'ovs_geneve' && this.kernel.profile === 'ovs-2.5' ? 'geneve' : requestedKind;
    // rtnl_link_ops_get(): a kind whose module is not loaded has no ops yet (a device of the kind proves it is).
    const ops = kind !== '' && (dev?.kind === kind || this.linkModuleLoaded(kind)) ? linkOpsOf(kind) : undefined;
    let data: AttrTable | undefined;
    const dataAttr = linkinfo[IFLA_INFO.DATA];
    if (ops !== undefined) {
      if (ops.policy !== undefined && dataAttr) {
        const p = parseNested(m, ops.policy, dataAttr);
        if ('failure' in p) return failure(p.failure);
        data = p.tb;
      }
      const bad = this.validateKind(m, kind, tb, data);
      if (bad) return bad;
    }

    if (dev !== undefined) {
      let status = 0;
      if (m.req.flags & NLM_F.EXCL) return -Errno.EEXIST;
      if (m.req.flags & NLM_F.REPLACE) return -Errno.EOPNOTSUPP;
      if (dataAttr) {
        const devOps = this.state(dev).profile;
        if (ops === undefined || kind !== dev.kind || !devOps.changelink) return -Errno.EOPNOTSUPP;
        const r = this.changelink(m, dev, tb, data ?? []);
        if (r) return r;
        status |= 3;
      }
      // No modelled master has slave_changelink.
      if (linkinfo[IFLA_INFO.SLAVE_DATA]) return -Errno.EOPNOTSUPP;
      return this.doSetlink(m, dev, ifm, tb, status);
    }

    if (!(m.req.flags & NLM_F.CREATE)) {
      if (linkSpecified) return -Errno.ENODEV;
      const g = tb[IFLA.GROUP];
      if (g) {
        // rtnl_group_changelink()
        const group = getU32(m, g);
        for (const d of [...ns.devices]) {
          if (this.state(d).group !== group) continue;
          const r = this.doSetlink(m, d, ifm, tb, 0);
          if (r) return r;
        }
        return 0;
      }
      return -Errno.ENODEV;
    }
    if (tb[IFLA.MAP] || tb[IFLA.PROTINFO]) return -Errno.EOPNOTSUPP;
    if (ops === undefined) {
      // request_module("rtnl-link-%s"), and the request again (replay) if it loaded the kind.
      if (linkOpsOf(kind) !== undefined && this.requestLinkModule(kind)) return this.newLink(m);
      return errMsg(Errno.EOPNOTSUPP, 'Unknown device type');
    }
    return this.createLink(m, ifm, kind, ops, tb, data);
  }

  /**
   * Whether the module of a link kind is loaded. vxlan, geneve and ip_gre are
   * modules loaded on first use, by rtnetlink or by the vport type that
   * depends on them; the other kinds are always there.
   */
  private linkModuleLoaded(kind: string): boolean {
    const mod = LINK_MODULES[kind];
    if (mod === undefined || this.loadedModules.has(mod.name)) return true;
    return this.kernel.ovs?.modules.lookup(mod.vportType) !== undefined;
  }

  /** request_module("rtnl-link-<kind>"): loads the kind's module unless fail_request_module fails it. */
  private requestLinkModule(kind: string): boolean {
    const mod = LINK_MODULES[kind];
    if (mod === undefined || this.kernel.faults.shouldFail('fail_request_module', `rtnl-link-${kind}`)) return false;
    this.loadedModules.add(mod.name);
    return true;
  }

  /** The modular link kinds' modules loaded so far (by rtnetlink requests). */
  private readonly loadedModules = new Set<string>();

  /** ops->validate() of each kind. */
  private validateKind(m: Msg, kind: string, tb: AttrTable, data: AttrTable | undefined): Result {
    const addr = tb[IFLA.ADDRESS];
    const mtu = tb[IFLA.MTU];
    switch (kind) {
      case 'dummy':
      case 'veth':
      case 'gretap':
        if (addr) {
          if (addr.dataLength !== ETH_ALEN) return -Errno.EINVAL;
          if (!validEtherAddr(getBytes(m, addr))) return -Errno.EADDRNOTAVAIL;
        }
        if (kind === 'veth' && mtu) {
          const v = getU32(m, mtu);
          if (v < ETH_MIN_MTU || v > ETH_MAX_MTU) return -Errno.EINVAL;
        }
        if (kind === 'gretap') {
          const remote = data?.[GRE.REMOTE];
          if (remote && isZero(getBytes(m, remote, 4))) return -Errno.EINVAL;
          return this.validateGre(m, data);
        }
        return 0;
      case 'gre':
        return this.validateGre(m, data);
      case 'vxlan': {
        if (addr) {
          if (addr.dataLength !== ETH_ALEN) return errMsg(Errno.EINVAL, 'Provided link layer address is not Ethernet', addr);
          if (!validEtherAddr(getBytes(m, addr))) return errMsg(Errno.EADDRNOTAVAIL, 'Provided Ethernet address is not unicast', addr);
        }
        if (mtu) {
          const v = getU32(m, mtu);
          if (v < ETH_MIN_MTU || v > ETH_MAX_MTU) return errMsg(Errno.EINVAL, 'MTU must be between 68 and 65535', mtu);
        }
        if (data === undefined) return errMsg(Errno.EINVAL, 'Required attributes not provided to perform the operation');
        const id = data[VX.ID];
        if (id && getU32(m, id) >= VXLAN_N_VID) return errMsg(Errno.ERANGE, 'VXLAN ID must be lower than 16777216', id);
        const range = data[VX.PORT_RANGE];
        if (range && getBe16(m, range) > m.dv.getUint16(range.dataOffset + 2, false)) {
          return errMsg(Errno.EINVAL, 'Invalid source port range', range);
        }
        const df = data[VX.DF];
        if (df && getU8(m, df) > TUNNEL_DF.INHERIT) return errMsg(Errno.EINVAL, 'Invalid DF attribute', df);
        return 0;
      }
      case 'geneve': {
        if (addr) {
          if (addr.dataLength !== ETH_ALEN) return errMsg(Errno.EINVAL, 'Provided link layer address is not Ethernet', addr);
          if (!validEtherAddr(getBytes(m, addr))) return errMsg(Errno.EADDRNOTAVAIL, 'Provided Ethernet address is not unicast', addr);
        }
        if (data === undefined) return errMsg(Errno.EINVAL, 'Not enough attributes provided to perform the operation');
        const id = data[GN.ID];
        if (id && getU32(m, id) >= VXLAN_N_VID) return errMsg(Errno.ERANGE, 'Geneve ID must be lower than 16777216', id);
        const df = data[GN.DF];
        if (df && getU8(m, df) > TUNNEL_DF.INHERIT) return errMsg(Errno.EINVAL, 'Invalid DF attribute', df);
        return 0;
      }
      default:
        return 0;
    }
  }

  /** ipgre_tunnel_validate(). */
  private validateGre(m: Msg, data: AttrTable | undefined): Result {
    if (data === undefined) return 0;
    let flags = 0;
    const i = data[GRE.IFLAGS];
    const o = data[GRE.OFLAGS];
    if (i) flags |= getBe16(m, i);
    if (o) flags |= getBe16(m, o);
    if (flags & (GRE_F.VERSION | GRE_F.ROUTING)) return -Errno.EINVAL;
    const et = data[GRE.ENCAP_TYPE];
    if (data[GRE.COLLECT_METADATA] && et && getU16(m, et) !== 0) return -Errno.EINVAL;
    return 0;
  }

  /**
   * rtnl_newlink_create() -> rtnl_create_link(), ops->newlink(),
   * rtnl_configure_link(). Devices are registered with notifications held
   * back; each is announced as the kernel announces it.
   */
  private createLink(m: Msg, ifm: { index: number; flags: number; change: number }, kind: string, ops: KindProfile, tb: AttrTable, data: AttrTable | undefined): Result {
    if (!ops.creatable) return -Errno.EOPNOTSUPP;
    const ns = m.req.sock.netns;
    const name = optStr(m, tb[IFLA.IFNAME], IFNAMSIZ, `${kind}%d`);
    const netnsErr = this.otherNetnsError(tb);
    if (netnsErr !== undefined) return netnsErr;
    if (tb[37 /* IFLA_LINK_NETNSID */]) return errMsg(Errno.EINVAL, 'Unknown network namespace id');
    const ctx: NotifyCtx = { sock: m.req.sock, seq: m.req.seq, flags: m.req.flags };

    if (kind === 'veth') return this.createVeth(m, ns, name, ifm, tb, data, ctx);

    const proto = this.protoDevice(m, kind, tb);
    let tunnel: TunnelConf | undefined;
    let mtu = proto.mtu;
    let maxMtu = proto.st.maxMtu;
    let type = proto.type;
    let flags = proto.flags;
    let mac = proto.mac;
    let broadcast = proto.broadcast;
    switch (kind) {
      case 'vxlan': {
        const c = this.vxlanConf(m, tb, data ?? [], undefined);
        const lower = this.vxlanValidate(ns, c, undefined);
        if (lower !== undefined) {
          maxMtu = Math.max(ETH_MIN_MTU, lower.mtu - vxlanHeadroom(c.flags));
          if (!c.mtu) mtu = maxMtu;
        }
        if (c.mtu) mtu = c.mtu;
        if (mtu > maxMtu) mtu = maxMtu;
        tunnel = { kind: 'vxlan', conf: c };
        break;
      }
      case 'geneve': {
        const c = defaultGeneveConf();
        this.geneveConf(m, data ?? [], c, false);
        // geneve_configure()
        const zero = c.vni === 0 && !c.csum && c.tos === 0 && c.ttl === 0 && c.label === 0 && isZero(c.remote);
        if (c.collectMd && !zero) {
          return errMsg(Errno.EINVAL, 'Device is externally controlled, so attributes (VNI, Port, and so on) must not be specified');
        }
        let samePort = false;
        let mdOnPort = false;
        for (const d of ns.devices) {
          const t = this.state(d).tunnel;
          if (d.kind !== 'geneve' || t?.kind !== 'geneve') continue;
          if (t.conf.port === c.port) {
            samePort = true;
            mdOnPort = t.conf.collectMd;
          }
          if (t.conf.vni === c.vni && t.conf.port === c.port && sameBytes(t.conf.remote, c.remote)) return -Errno.EBUSY;
        }
        maxMtu = geneveMaxMtu(c);
        if (c.collectMd && samePort) return errMsg(Errno.EPERM, 'There can be only one externally controlled device on a destination port');
        if (!c.collectMd && mdOnPort) return errMsg(Errno.EPERM, 'There already exists an externally controlled device on this destination port');
        if (c.innerProtoInherit) {
          type = ARPHRD_NONE;
          mac = new Uint8Array(0);
          broadcast = new Uint8Array(0);
          flags = IFF.NOARP;
        }
        // geneve_link_config(): IFLA_MTU clamped; no route to learn a lower device's MTU from.
        if (tb[IFLA.MTU]) mtu = Math.max(ETH_MIN_MTU, Math.min(mtu, maxMtu));
        tunnel = { kind: 'geneve', conf: c };
        break;
      }
      case 'gre':
      case 'gretap': {
        const c = defaultGreConf();
        const bad = this.greConf(m, data, c);
        if (bad) return bad;
        const gre = kind === 'gre';
        if (gre) type = c.collectMd ? ARPHRD_NONE : ARPHRD_IPGRE;
        // ip_tunnel_newlink(): one collect_md device per namespace and kind, else no equal tunnel.
        for (const d of ns.devices) {
          const t = this.state(d).tunnel;
          if (d.kind !== kind || t?.kind !== 'gre') continue;
          if (c.collectMd ? t.conf.collectMd : !t.conf.collectMd && greSameTunnel(t.conf, c, d.type === type)) return -Errno.EEXIST;
        }
        const tHlen = greHlen(c.oflags) + 20;
        const eth = gre ? 0 : ETH_HLEN;
        // ip_tunnel_bind_dev(): no route, so no lower device (unless IFLA_GRE_LINK names one).
        const lower = c.link ? ns.byIfindex(c.link) : undefined;
        let bound = (lower !== undefined ? Math.min(lower.mtu, IP_MAX_MTU) : ETH_DATA_LEN) - tHlen - eth;
        if (bound < 68) bound = 68;
        if (tb[IFLA.MTU]) bound = Math.max(ETH_MIN_MTU, Math.min(mtu, IP_MAX_MTU - tHlen - eth));
        mtu = bound;
        if (gre) {
          // ipgre_tunnel_init(): the addresses are the tunnel's endpoints.
          flags = IFF.NOARP | (!isZero(c.remote) && !c.collectMd ? IFF.POINTOPOINT : 0);
          mac = c.local.slice(0, 4);
          broadcast = c.remote.slice(0, 4);
        }
        tunnel = { kind: 'gre', conf: c };
        break;
      }
    }
    proto.st.maxMtu = maxMtu;
    proto.st.tunnel = tunnel;
    proto.st.broadcast = broadcast;
    const dev = this.register(ns, { name, kind, ifindex: ifm.index, mtu, mac, flags, type, st: proto.st, txqlen: proto.txqlen }, this.createOperstate(m, tb));
    if (kind === 'vxlan') {
      // __vxlan_dev_create() calls rtnl_configure_link(dev, NULL) itself.
      this.configureLink(dev, undefined);
    }
    const r = this.configureLink(dev, ifm);
    if (r) return r;
    return this.afterCreate(m, dev, tb, [dev]);
  }

  /** IFLA_MASTER after creation; a failure unregisters what was made (out_unregister). */
  private afterCreate(m: Msg, dev: NetDevice, tb: AttrTable, made: NetDevice[]): Result {
    const master = tb[IFLA.MASTER];
    if (master) {
      const r = this.setMaster(dev, getU32(m, master));
      if (r) {
        this.unregisterMany(made, undefined);
        return r;
      }
    }
    return 0;
  }

  /**
   * rtnl_create_link() for a new device of `kind`: queues, MTU, addresses
   * and the other attributes it takes from tb[]; the result is registered by
   * register() once the kind's checks pass.
   */
  private protoDevice(
    m: Msg,
    kind: string,
    tb: AttrTable,
  ): { st: LinkState; mtu: number; mac: Uint8Array | undefined; flags: number; type: number; broadcast: Uint8Array; txqlen: number } {
    const profile = profileOf(kind);
    const queues = profile.perCpuQueues ? this.kernel.nCpus : 1;
    const tx = optU32(m, tb[IFLA.NUM_TX_QUEUES], queues);
    const rx = optU32(m, tb[IFLA.NUM_RX_QUEUES], queues);
    if (tx < 1 || tx > 4096) throw new Abort(errMsg(Errno.EINVAL, 'Invalid number of transmit queues'));
    if (rx < 1 || rx > 4096) throw new Abort(errMsg(Errno.EINVAL, 'Invalid number of receive queues'));
    const gre = kind === 'gre';
    const addrLen = gre ? 4 : ETH_ALEN;
    this.validateLinkmsg(undefined, tb, addrLen);
    // alloc_netdev_mqs(): nothing exists yet when it fails.
    if (this.kernel.faults.shouldFail('failslab', 'alloc_netdev_mqs')) throw new Abort(-Errno.ENOMEM);
    // ->setup(): ether_setup() (dummy: NOARP without MULTICAST) or ipgre_tunnel_setup().
    const flags = kind === 'dummy' ? IFF.BROADCAST | IFF.NOARP : gre ? IFF.NOARP : IFF.BROADCAST | IFF.MULTICAST;
    const type = gre ? ARPHRD_IPGRE : ARPHRD_ETHER;
    const st: LinkState = {
      profile,
      carrier: true,
      carrierUp: 0,
      carrierDown: 0,
      qdiscAttached: false,
      ingressQueue: false,
      ingress: undefined,
      gflags: 0,
      allmulti: 0,
      group: 0,
      linkmode: IF_LINK_MODE.DEFAULT,
      ifalias: '',
      broadcast: gre ? new Uint8Array(4) : new Uint8Array(ETH_ALEN).fill(0xff),
      minMtu: profile.minMtu,
      maxMtu: profile.maxMtu,
      numTxQueues: tx,
      numRxQueues: rx,
      gsoMaxSize: LEGACY_MAX_SIZE,
      gsoMaxSegs: GSO_MAX_SEGS,
      groMaxSize: LEGACY_MAX_SIZE,
      tsoMaxSize: profile.tsoMaxSize,
      tsoMaxSegs: GSO_MAX_SEGS,
      protoDown: 0,
      initialized: false,
      tunnel: undefined,
      lastFlags: 0,
      lastMaster: undefined,
      lastPromiscuity: 0,
    };
    let mtu = ETH_DATA_LEN;
    const mtuAttr = tb[IFLA.MTU];
    if (mtuAttr) {
      const v = getU32(m, mtuAttr);
      const bad = this.validateMtu(st, v);
      if (bad) throw new Abort(bad);
      mtu = v;
    }
    let mac: Uint8Array | undefined;
    const addr = tb[IFLA.ADDRESS];
    if (addr) mac = getBytes(m, addr, addrLen);
    const brd = tb[IFLA.BROADCAST];
    if (brd) st.broadcast = getBytes(m, brd, addrLen);
    const txq = tb[IFLA.TXQLEN];
    const linkmode = tb[IFLA.LINKMODE];
    if (linkmode) st.linkmode = getU8(m, linkmode);
    const group = tb[IFLA.GROUP];
    if (group) st.group = getU32(m, group);
    const gsoSize = tb[IFLA.GSO_MAX_SIZE];
    if (gsoSize) st.gsoMaxSize = getU32(m, gsoSize);
    const gsoSegs = tb[IFLA.GSO_MAX_SEGS];
    if (gsoSegs) st.gsoMaxSegs = getU32(m, gsoSegs);
    const gro = tb[IFLA.GRO_MAX_SIZE];
    if (gro) st.groMaxSize = getU32(m, gro);
    return { st, mtu, mac, flags, type, broadcast: st.broadcast, txqlen: txq ? getU32(m, txq) : 1000 };
  }

  /** register_netdevice(): the name resolved and checked, the ifindex taken; no notification yet. */
  private register(
    ns: Netns,
    d: { name: string; kind: string; ifindex: number; mtu: number; mac: Uint8Array | undefined; flags: number; type: number; st: LinkState; txqlen: number },
    operstate?: number,
  ): NetDevice {
    const name = this.allocName(ns, d.name);
    if (typeof name !== 'string') throw new Abort(name);
    if (d.ifindex > 0 && ns.byIfindex(d.ifindex) !== undefined) throw new Abort(-Errno.EBUSY);
    let dev: NetDevice;
    this.quiet++;
    try {
      dev = ns.addDevice({
        name,
        kind: d.kind,
        ...(d.ifindex > 0 ? { ifindex: d.ifindex } : {}),
        mtu: d.mtu,
        ...(d.mac !== undefined ? { mac: d.mac } : {}),
        flags: d.flags,
        type: d.type,
      });
    } finally {
      this.quiet--;
    }
    this.states.set(dev, d.st);
    if (d.st.tunnel !== undefined) dev.linkData = infoOf(d.st.tunnel);
    if (d.kind === 'gre' && d.mac === undefined) dev.mac = new Uint8Array(4);
    dev.txqlen = d.txqlen;
    // alloc_netdev() leaves operstate IF_OPER_UNKNOWN; IFLA_OPERSTATE may have moved it (set_operstate).
    dev.operstate = operstate ?? IF_OPER.UNKNOWN;
    d.st.lastFlags = this.kernelFlags(dev);
    this.bumpBaseSeq(ns);
    this.syncFlags(dev);
    return dev;
  }

  /** IFLA_OPERSTATE of rtnl_create_link(): set_operstate() from IF_OPER_UNKNOWN, on a device not yet registered. */
  private createOperstate(m: Msg, tb: AttrTable): number {
    const a = tb[IFLA.OPERSTATE];
    const t = a !== undefined ? getU8(m, a) : -1;
    return t === IF_OPER.UP || t === IF_OPER.TESTING || t === IF_OPER.DORMANT ? t : IF_OPER.UNKNOWN;
  }

  /** rtnl_configure_link(): the requested flags, then the device's first RTM_NEWLINK (or the changes). */
  private configureLink(dev: NetDevice, ifm: { flags: number; change: number } | undefined): Result {
    const st = this.state(dev);
    const old = this.kernelFlags(dev);
    if (ifm !== undefined && (ifm.flags || ifm.change)) {
      const r = this.changeFlags(dev, this.combineFlags(dev, ifm.flags, ifm.change));
      if (r < 0) {
        this.unregisterMany(dev.kind === 'veth' && dev.peer ? [dev, dev.peer] : [dev], undefined);
        return r;
      }
    }
    // 6.1's rtnl_configure_link() notifies without the requester (see the top of this file).
    if (st.initialized) {
      const changes = (old ^ this.kernelFlags(dev)) >>> 0;
      if (changes) this.notify(dev, RTM.NEWLINK, changes);
    } else {
      st.initialized = true;
      this.notify(dev, RTM.NEWLINK, 0xffffffff);
    }
    return 0;
  }

  /** veth_newlink(): the peer first (from VETH_INFO_PEER), then the device. */
  private createVeth(m: Msg, ns: Netns, name: string, ifm: { index: number; flags: number; change: number }, tb: AttrTable, data: AttrTable | undefined, ctx: NotifyCtx): Result {
    // rtnl_create_link() of the device came first (rtnl_newlink_create), then veth_newlink().
    const devProto = this.protoDevice(m, 'veth', tb);
    let peerTb: AttrTable = tb;
    let peerIfm: { index: number; flags: number; change: number } | undefined;
    const peerAttr = data?.[VETH_INFO_PEER];
    if (peerAttr) {
      const off = peerAttr.dataOffset;
      peerIfm = { index: m.dv.getInt32(off + 4, true), flags: m.dv.getUint32(off + 8, true), change: m.dv.getUint32(off + 12, true) };
      // rtnl_nla_parse_ifinfomsg()
      if (peerIfm.index < 0) return errMsg(Errno.EINVAL, "ifindex can't be negative", peerAttr);
      const p = nlaParse(iflaRequestPolicy, m.bytes, off + IFINFOMSG_LEN, off + peerAttr.dataLength, NL_VALIDATE.LIBERAL);
      if ('failure' in p) return failure(p.failure);
      peerTb = p.tb;
      const bad = this.validateKind(m, 'veth', peerTb, undefined);
      if (bad) return bad;
    }
    const peerName = peerIfm !== undefined ? optStr(m, peerTb[IFLA.IFNAME], IFNAMSIZ, 'veth%d') : 'veth%d';
    if (peerIfm !== undefined) {
      const netnsErr = this.otherNetnsError(peerTb);
      if (netnsErr !== undefined) return netnsErr;
    }
    const peerProto = this.protoDevice(m, 'veth', peerTb);
    // netif_inherit_tso_max(peer, dev)
    peerProto.st.tsoMaxSize = devProto.st.tsoMaxSize;
    const peerMac = peerIfm !== undefined ? peerProto.mac : undefined;
    const peerIndex = peerIfm !== undefined && ifm.index > 0 ? peerIfm.index : 0;
    const peer = this.register(
      ns,
      { name: peerName, kind: 'veth', ifindex: peerIndex, mtu: peerProto.mtu, mac: peerMac, flags: peerProto.flags, type: ARPHRD_ETHER, st: peerProto.st, txqlen: peerProto.txqlen },
      this.createOperstate(m, peerTb),
    );
    this.setCarrier(peer, false);
    const r = this.configureLink(peer, peerIfm);
    if (r) return r;
    let dev: NetDevice;
    try {
      dev = this.register(
        ns,
        { name, kind: 'veth', ifindex: ifm.index, mtu: devProto.mtu, mac: devProto.mac, flags: devProto.flags, type: ARPHRD_ETHER, st: devProto.st, txqlen: devProto.txqlen },
        this.createOperstate(m, tb),
      );
    } catch (err) {
      this.unregisterMany([peer], undefined);
      throw err;
    }
    this.setCarrier(dev, false);
    dev.peer = peer;
    peer.peer = dev;
    const r2 = this.configureLink(dev, ifm);
    if (r2) return r2;
    return this.afterCreate(m, dev, tb, [dev, peer]);
  }

  // -------------------------------------------------------------------------
  // Tunnel configuration from a request (vxlan_nl2conf, geneve_nl2info, ipgre_netlink_parms)

  /** vxlan_nl2conf(); `old` for changelink. */
  private vxlanConf(m: Msg, tb: AttrTable, data: AttrTable, old: VxlanConf | undefined): VxlanConf {
    const changelink = old !== undefined;
    const c: VxlanConf = old !== undefined ? { ...old, remote: old.remote.slice(), local: old.local.slice() } : defaultVxlanConf();
    const cannot = (type: number, what: string): never => {
      throw new Abort(errMsg(Errno.EOPNOTSUPP, what, tb[type]));
    };
    const id = data[VX.ID];
    if (id) {
      const vni = getU32(m, id);
      if (changelink && vni !== c.vni) cannot(VX.ID, 'Cannot change VNI');
      c.vni = vni;
    }
    const group = data[VX.GROUP];
    const group6 = data[VX.GROUP6];
    if (group) {
      if (changelink && c.remoteFamily !== 4) cannot(VX.GROUP, 'New group address family does not match old group');
      c.remote = getBytes(m, group, 4);
      c.remoteFamily = 4;
    } else if (group6) {
      if (changelink && c.remoteFamily !== 6) cannot(VX.GROUP6, 'New group address family does not match old group');
      c.remote = getBytes(m, group6, 16);
      c.remoteFamily = 6;
    }
    const local = data[VX.LOCAL];
    const local6 = data[VX.LOCAL6];
    if (local) {
      if (changelink && c.localFamily !== 4) cannot(VX.LOCAL, 'New local address family does not match old');
      c.local = getBytes(m, local, 4);
      c.localFamily = 4;
    } else if (local6) {
      if (changelink && c.localFamily !== 6) cannot(VX.LOCAL6, 'New local address family does not match old');
      c.local = getBytes(m, local6, 16);
      c.localFamily = 6;
    }
    const link = data[VX.LINK];
    if (link) c.remoteIfindex = getU32(m, link);
    const tos = data[VX.TOS];
    if (tos) c.tos = getU8(m, tos);
    const ttl = data[VX.TTL];
    if (ttl) c.ttl = getU8(m, ttl);
    // vxlan_nl2flag(): a flag attribute sets its bit, a u8 sets or clears it.
    const flag = (type: number, bit: number, changeable: boolean, isFlag = false): void => {
      const a = data[type];
      if (!a) return;
      if (changelink && !changeable) {
        const names: Record<number, string> = {
          [VX.TTL_INHERIT]: 'TTL_INHERIT',
          [VX.LEARNING]: 'LEARNING',
          [VX.PROXY]: 'PROXY',
          [VX.RSC]: 'RSC',
          [VX.L2MISS]: 'L2MISS',
          [VX.L3MISS]: 'L3MISS',
          [VX.COLLECT_METADATA]: 'COLLECT_METADATA',
          [VX.UDP_ZERO_CSUM6_TX]: 'UDP_ZERO_CSUM6_TX',
          [VX.UDP_ZERO_CSUM6_RX]: 'UDP_ZERO_CSUM6_RX',
          [VX.REMCSUM_TX]: 'REMCSUM_TX',
          [VX.REMCSUM_RX]: 'REMCSUM_RX',
          [VX.GBP]: 'GBP',
          [VX.GPE]: 'GPE',
          [VX.REMCSUM_NOPARTIAL]: 'REMCSUM_NOPARTIAL',
        };
        const n = names[type];
        throw new Abort(errMsg(Errno.EOPNOTSUPP, n !== undefined ? `vxlan: cannot change ${n} flag` : 'vxlan: cannot change flag'));
      }
      if (isFlag || getU8(m, a)) c.flags |= bit;
      else c.flags &= ~bit;
    };
    flag(VX.TTL_INHERIT, VXF.TTL_INHERIT, false, true);
    const label = data[VX.LABEL];
    if (label) c.label = getBe32(m, label) & 0x000fffff;
    if (data[VX.LEARNING]) flag(VX.LEARNING, VXF.LEARN, true);
    else if (!changelink) c.flags |= VXF.LEARN;
    const ageing = data[VX.AGEING];
    if (ageing) c.ageing = getU32(m, ageing);
    flag(VX.PROXY, VXF.PROXY, false);
    flag(VX.RSC, VXF.RSC, false);
    flag(VX.L2MISS, VXF.L2MISS, false);
    flag(VX.L3MISS, VXF.L3MISS, false);
    const limit = data[VX.LIMIT];
    if (limit) {
      if (changelink) cannot(VX.LIMIT, 'Cannot change limit');
      c.limit = getU32(m, limit);
    }
    flag(VX.COLLECT_METADATA, VXF.COLLECT_METADATA, false);
    const range = data[VX.PORT_RANGE];
    if (range) {
      if (changelink) cannot(VX.PORT_RANGE, 'Cannot change port range');
      c.portMin = getBe16(m, range);
      c.portMax = m.dv.getUint16(range.dataOffset + 2, false);
    }
    const port = data[VX.PORT];
    if (port) {
      if (changelink) cannot(VX.PORT, 'Cannot change port');
      c.port = getBe16(m, port);
    }
    const csum = data[VX.UDP_CSUM];
    if (csum) {
      if (changelink) cannot(VX.UDP_CSUM, 'Cannot change UDP_CSUM flag');
      if (!getU8(m, csum)) c.flags |= VXF.UDP_ZERO_CSUM_TX;
    }
    flag(VX.UDP_ZERO_CSUM6_TX, VXF.UDP_ZERO_CSUM6_TX, false);
    flag(VX.UDP_ZERO_CSUM6_RX, VXF.UDP_ZERO_CSUM6_RX, false);
    flag(VX.REMCSUM_TX, VXF.REMCSUM_TX, false);
    flag(VX.REMCSUM_RX, VXF.REMCSUM_RX, false);
    flag(VX.GBP, VXF.GBP, false, true);
    flag(VX.GPE, VXF.GPE, false, true);
    flag(VX.REMCSUM_NOPARTIAL, VXF.REMCSUM_NOPARTIAL, false, true);
    const mtu = tb[IFLA.MTU];
    if (mtu) {
      if (changelink) cannot(IFLA.MTU, 'Cannot change mtu');
      c.mtu = getU32(m, mtu);
    }
    const df = data[VX.DF];
    if (df) c.df = getU8(m, df);
    const vnifilter = data[VX.VNIFILTER];
    if (vnifilter) {
      flag(VX.VNIFILTER, VXF.VNIFILTER, false);
      if (c.flags & VXF.VNIFILTER && !(c.flags & VXF.COLLECT_METADATA)) {
        throw new Abort(errMsg(Errno.EINVAL, 'vxlan vnifilter only valid in collect metadata mode', vnifilter));
      }
    }
    return c;
  }

  /** vxlan_config_validate(); returns the lower device (IFLA_VXLAN_LINK), if any. */
  private vxlanValidate(ns: Netns, c: VxlanConf, self: NetDevice | undefined): NetDevice | undefined {
    if (c.flags & VXF.GPE && (c.flags & ~VXF_ALLOWED_GPE || !(c.flags & VXF.COLLECT_METADATA))) {
      throw new Abort(errMsg(Errno.EINVAL, 'VXLAN GPE does not support this combination of attributes'));
    }
    if (!c.remoteFamily && !c.localFamily) {
      c.remoteFamily = 4;
      c.localFamily = 4;
    } else if (!c.remoteFamily) {
      c.remoteFamily = c.localFamily;
    } else if (!c.localFamily) {
      c.localFamily = c.remoteFamily;
    }
    if (c.remoteFamily !== c.localFamily) throw new Abort(errMsg(Errno.EINVAL, 'Local and remote address must be from the same family'));
    if (c.remote.length !== (c.remoteFamily === 6 ? 16 : 4)) c.remote = new Uint8Array(c.remoteFamily === 6 ? 16 : 4);
    if (c.local.length !== (c.localFamily === 6 ? 16 : 4)) c.local = new Uint8Array(c.localFamily === 6 ? 16 : 4);
    const multicast = (a: Uint8Array, fam: number): boolean => (fam === 6 ? a[0] === 0xff : (a[0]! & 0xf0) === 0xe0);
    if (multicast(c.local, c.localFamily)) throw new Abort(errMsg(Errno.EINVAL, 'Local address cannot be multicast'));
    const ipv6 = c.localFamily === 6;
    if (ipv6) {
      c.flags |= VXF.IPV6;
      if (!(c.flags & VXF.COLLECT_METADATA)) {
        const linkLocal = (a: Uint8Array): boolean => a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;
        if (linkLocal(c.local)) {
          if (!linkLocal(c.remote) && !isZero(c.remote)) throw new Abort(errMsg(Errno.EINVAL, 'Invalid combination of local and remote address scopes'));
          c.flags |= VXF.IPV6_LINKLOCAL;
        } else {
          if (linkLocal(c.remote)) throw new Abort(errMsg(Errno.EINVAL, 'Invalid combination of local and remote address scopes'));
          c.flags &= ~VXF.IPV6_LINKLOCAL;
        }
      }
    }
    if (c.label && !ipv6) throw new Abort(errMsg(Errno.EINVAL, 'Label attribute only applies to IPv6 VXLAN devices'));
    let lower: NetDevice | undefined;
    if (c.remoteIfindex) {
      lower = ns.byIfindex(c.remoteIfindex);
      if (lower === undefined) throw new Abort(errMsg(Errno.ENODEV, 'Invalid local interface, device not found'));
    } else {
      if (multicast(c.remote, c.remoteFamily)) throw new Abort(errMsg(Errno.EINVAL, 'Local interface required for multicast remote destination'));
      if (c.flags & VXF.IPV6_LINKLOCAL) throw new Abort(errMsg(Errno.EINVAL, 'Local interface required for link-local local/remote addresses'));
    }
    if (!c.port) c.port = c.flags & VXF.GPE ? VXLAN_GPE_PORT : VXLAN_DEFAULT_PORT;
    if (!c.ageing) c.ageing = FDB_AGE_DEFAULT;
    // vxlan_vni_in_use()
    for (const d of ns.devices) {
      if (d === self || d.kind !== 'vxlan') continue;
      const t = this.state(d).tunnel;
      if (t?.kind !== 'vxlan') continue;
      const o = t.conf;
      if (o.flags & VXF.VNIFILTER ? false : o.vni !== c.vni) continue;
      if (o.port !== c.port) continue;
      if ((o.flags & (VXF_RCV_FLAGS | VXF.IPV6)) !== (c.flags & (VXF_RCV_FLAGS | VXF.IPV6))) continue;
      if (c.flags & VXF.IPV6_LINKLOCAL && o.remoteIfindex !== c.remoteIfindex) continue;
      throw new Abort(errMsg(Errno.EEXIST, 'A VXLAN device with the specified VNI already exists'));
    }
    return lower;
  }

  /** geneve_nl2info() into `c`. */
  private geneveConf(m: Msg, data: AttrTable, c: GeneveConf, changelink: boolean): void {
    const notsup = (type: number): never => {
      throw new Abort(
        errMsg(Errno.EOPNOTSUPP, 'Changing VNI, Port, endpoint IP address family, external, inner_proto_inherit, and UDP checksum attributes are not supported', data[type]),
      );
    };
    const remote = data[GN.REMOTE];
    const remote6 = data[GN.REMOTE6];
    if (remote && remote6) throw new Abort(errMsg(Errno.EINVAL, 'Cannot specify both IPv4 and IPv6 Remote addresses'));
    if (remote) {
      if (changelink && c.ipv6) notsup(GN.REMOTE);
      const a = getBytes(m, remote, 4);
      c.remote = new Uint8Array(16);
      c.remote.set(a);
      if ((a[0]! & 0xf0) === 0xe0) throw new Abort(errMsg(Errno.EINVAL, 'Remote IPv4 address cannot be Multicast', remote));
    }
    if (remote6) {
      if (changelink && !c.ipv6) notsup(GN.REMOTE6);
      c.ipv6 = true;
      c.remote = getBytes(m, remote6, 16);
      if (c.remote[0] === 0xfe && (c.remote[1]! & 0xc0) === 0x80) throw new Abort(errMsg(Errno.EINVAL, 'Remote IPv6 address cannot be link-local', remote6));
      if (c.remote[0] === 0xff) throw new Abort(errMsg(Errno.EINVAL, 'Remote IPv6 address cannot be Multicast', remote6));
      c.csum = true;
      c.udp6RxChecksums = true;
    }
    const id = data[GN.ID];
    if (id) {
      const vni = getU32(m, id) & 0xffffff;
      if (changelink && vni !== c.vni) notsup(GN.ID);
      c.vni = vni;
    }
    const ttlInherit = data[GN.TTL_INHERIT];
    const ttl = data[GN.TTL];
    if (ttlInherit) c.ttlInherit = getU8(m, ttlInherit) !== 0;
    else if (ttl) {
      c.ttl = getU8(m, ttl);
      c.ttlInherit = false;
    }
    const tos = data[GN.TOS];
    if (tos) c.tos = getU8(m, tos);
    const df = data[GN.DF];
    if (df) c.df = getU8(m, df);
    const label = data[GN.LABEL];
    if (label) {
      c.label = getBe32(m, label) & 0x000fffff;
      if (c.label && !c.ipv6) throw new Abort(errMsg(Errno.EINVAL, 'Label attribute only applies for IPv6 Geneve devices', label));
    }
    const port = data[GN.PORT];
    if (port) {
      if (changelink) notsup(GN.PORT);
      c.port = getBe16(m, port);
    }
    if (data[GN.COLLECT_METADATA]) {
      if (changelink) notsup(GN.COLLECT_METADATA);
      c.collectMd = true;
    }
    const csum = data[GN.UDP_CSUM];
    if (csum) {
      if (changelink) notsup(GN.UDP_CSUM);
      if (getU8(m, csum)) c.csum = true;
    }
    const z6tx = data[GN.UDP_ZERO_CSUM6_TX];
    if (z6tx) {
      if (changelink) notsup(GN.UDP_ZERO_CSUM6_TX);
      if (getU8(m, z6tx)) c.csum = false;
    }
    const z6rx = data[GN.UDP_ZERO_CSUM6_RX];
    if (z6rx) {
      if (changelink) notsup(GN.UDP_ZERO_CSUM6_RX);
      if (getU8(m, z6rx)) c.udp6RxChecksums = false;
    }
    if (data[GN.INNER_PROTO_INHERIT]) {
      if (changelink) notsup(GN.INNER_PROTO_INHERIT);
      c.innerProtoInherit = true;
    }
  }

  /** ipgre_newlink_encap_setup() and ipgre_netlink_parms() into `c`. */
  private greConf(m: Msg, data: AttrTable | undefined, c: GreConf): Result {
    if (data === undefined) return 0;
    // ip_tunnel_encap_setup(): no FOU/GUE encapsulation module in the model.
    const et = data[GRE.ENCAP_TYPE];
    if (et && getU16(m, et) !== 0) return -Errno.EINVAL;
    const link = data[GRE.LINK];
    if (link) c.link = getU32(m, link);
    const toTnl = (f: number): number => (f & (GRE_F.CSUM | GRE_F.KEY | GRE_F.SEQ | GRE_F.STRICT)) | (f & GRE_F.REC ? GRE_F.REC : 0);
    const iflags = data[GRE.IFLAGS];
    if (iflags) c.iflags = toTnl(getBe16(m, iflags));
    const oflags = data[GRE.OFLAGS];
    if (oflags) c.oflags = toTnl(getBe16(m, oflags));
    const ikey = data[GRE.IKEY];
    if (ikey) c.ikey = getBe32(m, ikey);
    const okey = data[GRE.OKEY];
    if (okey) c.okey = getBe32(m, okey);
    const local = data[GRE.LOCAL];
    if (local) c.local = getBytes(m, local, 4);
    const remote = data[GRE.REMOTE];
    if (remote) c.remote = getBytes(m, remote, 4);
    const ttl = data[GRE.TTL];
    if (ttl) c.ttl = getU8(m, ttl);
    const tos = data[GRE.TOS];
    if (tos) c.tos = getU8(m, tos);
    const pmtu = data[GRE.PMTUDISC];
    c.pmtudisc = false;
    if (!pmtu || getU8(m, pmtu)) {
      if (c.ignoreDf) return -Errno.EINVAL;
      c.pmtudisc = true;
    }
    if (data[GRE.COLLECT_METADATA]) c.collectMd = true;
    const ignoreDf = data[GRE.IGNORE_DF];
    if (ignoreDf) {
      if (getU8(m, ignoreDf) && c.pmtudisc) return -Errno.EINVAL;
      c.ignoreDf = getU8(m, ignoreDf) !== 0;
    }
    const fwmark = data[GRE.FWMARK];
    if (fwmark) c.fwmark = getU32(m, fwmark);
    return 0;
  }

  /** ops->changelink() of vxlan, geneve, gre and gretap. */
  private changelink(m: Msg, dev: NetDevice, tb: AttrTable, data: AttrTable): Result {
    const st = this.state(dev);
    const t = st.tunnel ?? confFromInfo(dev.kind, dev.linkData);
    if (t === undefined) return -Errno.EOPNOTSUPP;
    switch (t.kind) {
      case 'vxlan': {
        const c = this.vxlanConf(m, tb, data, t.conf);
        const lower = this.vxlanValidate(dev.netns, c, dev);
        if (lower !== undefined) st.maxMtu = Math.max(ETH_MIN_MTU, lower.mtu - vxlanHeadroom(c.flags));
        if (dev.mtu > st.maxMtu) dev.mtu = st.maxMtu;
        st.tunnel = { kind: 'vxlan', conf: c };
        break;
      }
      case 'geneve': {
        if (t.conf.collectMd) return -Errno.EOPNOTSUPP;
        const c: GeneveConf = { ...t.conf, remote: t.conf.remote.slice() };
        this.geneveConf(m, data, c, true);
        st.tunnel = { kind: 'geneve', conf: c };
        break;
      }
      case 'gre': {
        const c = defaultGreConf();
        c.collectMd = t.conf.collectMd;
        c.ignoreDf = t.conf.ignoreDf;
        c.fwmark = t.conf.fwmark;
        const bad = this.greConf(m, data, c);
        if (bad) return bad;
        // ip_tunnel_changelink()
        for (const d of dev.netns.devices) {
          const o = this.state(d).tunnel;
          if (d === dev || d.kind !== dev.kind || o?.kind !== 'gre') continue;
          if (!o.conf.collectMd && greSameTunnel(o.conf, c, d.type === dev.type)) return -Errno.EEXIST;
        }
        if (dev.type !== ARPHRD_ETHER) {
          const r = c.remote;
          const nflags = (r[0]! & 0xf0) === 0xe0 ? IFF.BROADCAST : !isZero(r) ? IFF.POINTOPOINT : 0;
          if ((dev.flags ^ nflags) & (IFF.POINTOPOINT | IFF.BROADCAST)) return -Errno.EINVAL;
          dev.mac = c.local.slice(0, 4);
          st.broadcast = c.remote.slice(0, 4);
        }
        if ((t.conf.link !== c.link || t.conf.fwmark !== c.fwmark) && !tb[IFLA.MTU]) {
          const lower = c.link ? dev.netns.byIfindex(c.link) : undefined;
          const tHlen = greHlen(c.oflags) + 20;
          dev.mtu = Math.max(68, (lower !== undefined ? lower.mtu : ETH_DATA_LEN) - tHlen - (dev.type === ARPHRD_ETHER ? ETH_HLEN : 0));
        }
        st.tunnel = { kind: 'gre', conf: c };
        dev.linkData = infoOf(st.tunnel);
        // ip_tunnel_update() ends with netdev_state_change().
        this.stateChange(dev);
        return 0;
      }
    }
    dev.linkData = infoOf(st.tunnel);
    return 0;
  }

  // -------------------------------------------------------------------------
  // RTM_DELLINK

  /** rtnl_dellink(). */
  private delLink(m: Msg): Result {
    const tb = this.parseLink(m);
    this.ensureUniqueNetns(tb, true);
    if (tb[IFLA.TARGET_NETNSID]) return -Errno.EINVAL;
    const ifm = this.ifinfo(m);
    const ns = m.req.sock.netns;
    const ctx: NotifyCtx = { sock: m.req.sock, seq: m.req.seq, flags: m.req.flags };
    let dev: NetDevice | undefined;
    if (ifm.index > 0 || tb[IFLA.IFNAME] || tb[IFLA.ALT_IFNAME]) {
      dev = this.lookup(m, ns, ifm.index, tb);
      if (dev === undefined) return -Errno.ENODEV;
    } else if (tb[IFLA.GROUP]) {
      // rtnl_group_dellink()
      const group = optU32(m, tb[IFLA.GROUP], 0);
      if (!group) return -Errno.EPERM;
      const members = [...ns.devices].filter((d) => this.state(d).group === group);
      if (members.length === 0) return -Errno.ENODEV;
      if (members.some((d) => !this.state(d).profile.dellink)) return -Errno.EOPNOTSUPP;
      const kill: NetDevice[] = [];
      for (const d of members) for (const k of this.dellinkList(d)) if (!kill.includes(k)) kill.push(k);
      this.unregisterMany(kill, undefined);
      return 0;
    } else {
      return -Errno.EINVAL;
    }
    // rtnl_delete_link()
    if (!this.state(dev).profile.dellink) return -Errno.EOPNOTSUPP;
    this.unregisterMany(this.dellinkList(dev), ctx);
    return 0;
  }

  /** ops->dellink(): a veth takes its peer. */
  private dellinkList(dev: NetDevice): NetDevice[] {
    return dev.kind === 'veth' && dev.peer !== undefined ? [dev, dev.peer] : [dev];
  }

  /** unregister_netdevice_many(): dev_close_many() of the list, then RTM_DELLINK and removal of each. */
  private unregisterMany(devs: NetDevice[], ctx: NotifyCtx | undefined): void {
    const closed = devs.filter((d) => d.isUp);
    for (const d of closed) this.closeDev(d);
    for (const d of closed) this.notify(d, RTM.NEWLINK, IFF.UP | IFF.RUNNING);
    const saved = this.delCtx;
    this.delCtx = ctx;
    try {
      for (const d of devs) {
        if (!this.isRegistered(d)) continue;
        d.netns.removeDevice(d);
      }
    } finally {
      this.delCtx = saved;
    }
  }

  // -------------------------------------------------------------------------
  // Qdiscs (net/sched/sch_api.c): the root qdisc a device gets (noop, noqueue, the default
  // qdisc), and ingress / clsact on the ingress queue. Replies and RTNLGRP_TC notifications
  // carrying tc_fill_qdisc() are not modelled.

  private parseTc(m: Msg): { tb: AttrTable; ifindex: number; handle: number; parent: number } {
    if (m.bytes.length < NLMSG_HDRLEN + TCMSG_LEN) throw new Abort(-Errno.EINVAL);
    const r = nlaParse(tcaAttrs, m.bytes, NLMSG_HDRLEN + TCMSG_LEN, m.bytes.length, NL_VALIDATE.LIBERAL);
    if ('failure' in r) throw new Abort(failure(r.failure));
    return {
      tb: r.tb,
      ifindex: m.dv.getInt32(NLMSG_HDRLEN + 4, true),
      handle: m.dv.getUint32(NLMSG_HDRLEN + 8, true),
      parent: m.dv.getUint32(NLMSG_HDRLEN + 12, true),
    };
  }

  /** A qdisc of the model: its id, handle and parent. */
  private rootQdisc(dev: NetDevice): { id: string; handle: number; parent: number; ingress: boolean } {
    return { id: this.qdiscName(dev, false), handle: 0, parent: TC_H.ROOT, ingress: false };
  }

  private ingressQdisc(dev: NetDevice): { id: string; handle: number; parent: number; ingress: boolean } | undefined {
    const st = this.state(dev);
    if (!st.ingressQueue) return undefined;
    if (st.ingress === undefined) return { id: 'noop', handle: 0, parent: TC_H.INGRESS, ingress: false };
    return { id: st.ingress, handle: (TC_H_MAJ_MASK & TC_H.INGRESS) >>> 0, parent: TC_H.INGRESS, ingress: true };
  }

  /** qdisc_lookup(): the root (handle 0 matches it) or the ingress qdisc. */
  private qdiscLookup(dev: NetDevice, handle: number): { id: string; handle: number; parent: number; ingress: boolean } | undefined {
    const root = this.rootQdisc(dev);
    if (root.handle === handle) return root;
    const ing = this.ingressQdisc(dev);
    if (ing !== undefined && ing.handle === handle && handle !== 0) return ing;
    return undefined;
  }

  /** tc_get_qdisc() for RTM_GETQDISC and RTM_DELQDISC. */
  private getQdisc(m: Msg): Result {
    const { tb, ifindex, handle, parent: clid } = this.parseTc(m);
    const dev = m.req.sock.netns.byIfindex(ifindex);
    if (dev === undefined) return -Errno.ENODEV;
    let q: { id: string; handle: number; parent: number; ingress: boolean } | undefined;
    if (clid) {
      if (clid !== TC_H.ROOT) {
        if ((clid & TC_H_MAJ_MASK) >>> 0 !== (TC_H.INGRESS & TC_H_MAJ_MASK) >>> 0) {
          // qdisc_lookup(dev, TC_H_MAJ(clid)): no classful qdisc in the model.
          return errMsg(Errno.ENOENT, 'Failed to find qdisc with specified classid');
        }
        q = this.ingressQdisc(dev);
      } else {
        q = this.rootQdisc(dev);
      }
      if (q === undefined) return errMsg(Errno.ENOENT, 'Cannot find specified qdisc on specified device');
      if (handle && q.handle !== handle) return errMsg(Errno.EINVAL, 'Invalid handle');
    } else {
      q = this.qdiscLookup(dev, handle);
      if (q === undefined) return errMsg(Errno.ENOENT, 'Failed to find qdisc with specified handle');
    }
    const kind = tb[TCA.KIND];
    if (kind && getStr(m, kind, 4096) !== q.id) return errMsg(Errno.EINVAL, 'Invalid qdisc name');
    if (m.req.type === RTM.DELQDISC) {
      if (!clid) return errMsg(Errno.EINVAL, 'Classid cannot be zero');
      if (q.handle === 0) return errMsg(Errno.ENOENT, 'Cannot delete qdisc with handle of zero');
      // qdisc_graft(): noop_qdisc takes the ingress queue.
      if (q.ingress) this.state(dev).ingress = undefined;
    }
    return 0;
  }

  /** tc_modify_qdisc() for RTM_NEWQDISC: creating and changing ingress / clsact. */
  private modifyQdisc(m: Msg): Result {
    const { tb, ifindex, handle, parent: clid } = this.parseTc(m);
    const flags = m.req.flags;
    const dev = m.req.sock.netns.byIfindex(ifindex);
    if (dev === undefined) return -Errno.ENODEV;
    const st = this.state(dev);
    const kindAttr = tb[TCA.KIND];
    const kind = kindAttr ? getStr(m, kindAttr, IFNAMSIZ) : undefined;
    let q: { id: string; handle: number; parent: number; ingress: boolean } | undefined;
    let create = false;
    let checkCreate = true;
    if (clid) {
      if (clid !== TC_H.ROOT) {
        if (clid !== TC_H.INGRESS) return errMsg(Errno.ENOENT, 'Failed to find specified qdisc');
        st.ingressQueue = true; // dev_ingress_queue_create()
        q = this.ingressQdisc(dev);
      } else {
        q = this.rootQdisc(dev);
      }
      // It may be the default qdisc: ignore it.
      if (q !== undefined && q.handle === 0) q = undefined;
      if (q === undefined || !handle || q.handle !== handle) {
        if (handle) {
          if (q !== undefined && !(flags & NLM_F.REPLACE)) return errMsg(Errno.EEXIST, 'NLM_F_REPLACE needed to override');
          if (handle & 0xffff) return errMsg(Errno.EINVAL, 'Invalid minor handle');
          q = this.qdiscLookup(dev, handle);
          if (q === undefined) {
            create = true;
          } else {
            if (q.parent !== clid) return errMsg(Errno.EINVAL, 'Cannot move an existing qdisc to a different parent');
            if (flags & NLM_F.EXCL) return errMsg(Errno.EEXIST, 'Exclusivity flag on, cannot override');
            if (kind !== undefined && kind !== q.id) return errMsg(Errno.EINVAL, 'Invalid qdisc name');
            if (q.ingress) return errMsg(Errno.EINVAL, 'Cannot regraft ingress or clsact Qdiscs');
            return errMsg(Errno.EINVAL, 'Ingress cannot graft directly');
          }
        } else if (q === undefined) {
          create = true;
        } else if (kind !== undefined && kind !== q.id) {
          const c = (flags & NLM_F.CREATE) !== 0;
          if ((c && flags & NLM_F.REPLACE) || (c && flags & NLM_F.EXCL)) create = true;
          else if (!(flags & (NLM_F.CREATE | NLM_F.REPLACE | NLM_F.EXCL))) {
            create = true;
            checkCreate = false;
          }
        }
      }
    } else {
      if (!handle) return errMsg(Errno.EINVAL, 'Handle cannot be zero');
      q = this.qdiscLookup(dev, handle);
    }
    if (!create) {
      // Change the qdisc's parameters.
      if (q === undefined) return errMsg(Errno.ENOENT, 'Specified qdisc not found');
      if (flags & NLM_F.EXCL) return errMsg(Errno.EEXIST, 'Exclusivity flag on, cannot modify');
      if (kind !== undefined && kind !== q.id) return errMsg(Errno.EINVAL, 'Invalid qdisc name');
      if (tb[TCA.OPTIONS]) return errMsg(Errno.EINVAL, 'Change operation not supported by specified qdisc');
      return 0;
    }
    if (checkCreate && !(flags & NLM_F.CREATE)) return errMsg(Errno.ENOENT, 'Qdisc not found. To create specify NLM_F_CREATE flag');
    // qdisc_create(): the model's qdisc table has ingress and clsact (sch_ingress.c).
    if (kind !== 'ingress' && kind !== 'clsact') return errMsg(Errno.ENOENT, 'Specified qdisc kind is unknown');
    // ingress_init() / clsact_init() refuse any parent but TC_H_INGRESS (== TC_H_CLSACT).
    if (clid !== TC_H.INGRESS) return -Errno.EOPNOTSUPP;
    if (!st.ingressQueue) return errMsg(Errno.ENOENT, 'Cannot find ingress queue for specified device');
    st.ingress = kind;
    return 0;
  }
}

/** geneve_setup() and geneve_configure(): the largest MTU for this configuration. */
function geneveMaxMtu(c: GeneveConf): number {
  const base = IP_MAX_MTU - GENEVE_BASE_HLEN - ETH_HLEN;
  return base - (!c.collectMd && !c.ipv6 ? 20 : 40);
}

/** ip_tunnel_find(): the same endpoints, link, device type and matching keys. */
function greSameTunnel(t: GreConf, p: GreConf, sameType: boolean): boolean {
  if (!sameBytes(t.local, p.local) || !sameBytes(t.remote, p.remote) || t.link !== p.link || !sameType) return false;
  // ip_tunnel_key_match()
  if (t.iflags & GRE_F.KEY) return (p.iflags & GRE_F.KEY) !== 0 && p.ikey === t.ikey;
  return !(p.iflags & GRE_F.KEY);
}
