/**
 * The Open vSwitch generic netlink families (include/uapi/linux/openvswitch.h,
 * plus the out-of-tree 2.5-era vport types). Each attribute set is declared in
 * the order the kernel writes it in its replies, and carries the kernel's
 * nla_policy (net/openvswitch/datapath.c) where that differs from the value type.
 */
import { attrTypes, AttrSet, type AttrsOf, attr } from './attr-set.js';
import { be16, binary, flag, nested, prefixed, string, u16, u32, u32Array, u32Enum, u64, u8 } from './codecs.js';
import { struct, type StructValue } from './struct.js';
import type { GenlFamilyDef } from './genl.js';

export const IFNAMSIZ = 16;
/** Maximum number of ports in a datapath (net/openvswitch/datapath.h): port numbers are 0..65534. */
export const DP_MAX_PORTS = 65535;
/** The datapath's own internal port. */
export const OVSP_LOCAL = 0;

/** struct ovs_header: the fixed header of every OVS family message. */
export const ovsHeader = struct('ovs_header', { dpIfindex: 's32' });
export type OvsHeader = StructValue<{ dpIfindex: 's32' }>;

// ---------------------------------------------------------------------------
// ovs_datapath

export const OVS_DATAPATH_FAMILY = 'ovs_datapath';
export const OVS_DATAPATH_MCGROUP = 'ovs_datapath';
export const OVS_DATAPATH_VERSION = 2;

export const OVS_DP_CMD = { UNSPEC: 0, NEW: 1, DEL: 2, GET: 3, SET: 4 } as const;

/** OVS_DP_ATTR_USER_FEATURES bits (OVS_DP_F_*). */
export const OVS_DP_F = {
  UNALIGNED: 1 << 0,
  VPORT_PIDS: 1 << 1,
  TC_RECIRC_SHARING: 1 << 2,
  DISPATCH_UPCALL_PER_CPU: 1 << 3,
} as const;

const ovsDpStats = struct('ovs_dp_stats', { nHit: 'u64', nMissed: 'u64', nLost: 'u64', nFlows: 'u64' });
const ovsDpMegaflowStats = struct('ovs_dp_megaflow_stats', {
  nMaskHit: 'u64',
  nMasks: 'u32',
  pad0: 'u32',
  nCacheHit: 'u64',
  pad1: 'u64',
});

/** PCPU_MIN_UNIT_SIZE / sizeof(struct mask_cache_entry): the largest masks cache. */
export const DP_MASKS_CACHE_MAX = (32 << 10) / 8;

export const ovsDatapathAttrs = new AttrSet('ovs_datapath_attr', {
  name: attr(1, 'OVS_DP_ATTR_NAME', string({ nul: true, maxLen: IFNAMSIZ - 1 })),
  upcallPid: attr(2, 'OVS_DP_ATTR_UPCALL_PID', u32),
  stats: attr(3, 'OVS_DP_ATTR_STATS', ovsDpStats, { type: 'UNSPEC', len: 0 }),
  megaflowStats: attr(4, 'OVS_DP_ATTR_MEGAFLOW_STATS', ovsDpMegaflowStats, { type: 'UNSPEC', len: 0 }),
  userFeatures: attr(5, 'OVS_DP_ATTR_USER_FEATURES', u32),
  masksCacheSize: attr(7, 'OVS_DP_ATTR_MASKS_CACHE_SIZE', u32, { min: 0, max: DP_MASKS_CACHE_MAX }),
  perCpuPids: attr(8, 'OVS_DP_ATTR_PER_CPU_PIDS', u32Array, { type: 'UNSPEC', len: 0 }),
  ifindex: attr(9, 'OVS_DP_ATTR_IFINDEX', u32, { type: 'S32', min: 0 }),
  pad: attr(6, 'OVS_DP_ATTR_PAD', binary({ policy: 'UNSPEC' })),
});
export type OvsDatapathAttrs = AttrsOf<typeof ovsDatapathAttrs>;

export const ovsDatapathFamily: GenlFamilyDef<typeof ovsDatapathAttrs> = {
  name: OVS_DATAPATH_FAMILY,
  version: OVS_DATAPATH_VERSION,
  userHeader: ovsHeader,
  cmds: prefixed('OVS_DP_CMD_', OVS_DP_CMD),
  attrs: ovsDatapathAttrs,
  mcastGroups: [OVS_DATAPATH_MCGROUP],
};

// ---------------------------------------------------------------------------
// ovs_vport

export const OVS_VPORT_FAMILY = 'ovs_vport';
export const OVS_VPORT_MCGROUP = 'ovs_vport';
export const OVS_VPORT_VERSION = 1;

export const OVS_VPORT_CMD = { UNSPEC: 0, NEW: 1, DEL: 2, GET: 3, SET: 4 } as const;

/**
 * Vport types. NETDEV..GENEVE are upstream; LISP and STT only ever existed in
 * the out-of-tree module (OVS 2.5 era), numbered from 105 so as not to clash.
 */
export const OVS_VPORT_TYPE = {
  UNSPEC: 0,
  NETDEV: 1,
  INTERNAL: 2,
  GRE: 3,
  VXLAN: 4,
  GENEVE: 5,
  LISP: 105,
  STT: 106,
} as const;
export type OvsVportType = (typeof OVS_VPORT_TYPE)[keyof typeof OVS_VPORT_TYPE];

const ovsVportStats = struct('ovs_vport_stats', {
  rxPackets: 'u64',
  txPackets: 'u64',
  rxBytes: 'u64',
  txBytes: 'u64',
  rxErrors: 'u64',
  txErrors: 'u64',
  rxDropped: 'u64',
  txDropped: 'u64',
});
export type OvsVportStats = ReturnType<typeof ovsVportStats.read>;

/** OVS_VXLAN_EXT_*: nested in OVS_TUNNEL_ATTR_EXTENSION. */
export const ovsVxlanExtAttrs = new AttrSet('ovs_vxlan_ext', {
  gbp: attr(1, 'OVS_VXLAN_EXT_GBP', flag),
});

/** OVS_TUNNEL_ATTR_*: the OPTIONS of a tunnel vport. */
export const ovsTunnelAttrs = new AttrSet('ovs_tunnel_attr', {
  dstPort: attr(1, 'OVS_TUNNEL_ATTR_DST_PORT', u16),
  extension: attr(2, 'OVS_TUNNEL_ATTR_EXTENSION', nested(ovsVxlanExtAttrs)),
});
export type OvsTunnelAttrs = AttrsOf<typeof ovsTunnelAttrs>;

export const ovsVportUpcallAttrs = new AttrSet('ovs_vport_upcall_attr', {
  success: attr(0, 'OVS_VPORT_UPCALL_ATTR_SUCCESS', u64),
  fail: attr(1, 'OVS_VPORT_UPCALL_ATTR_FAIL', u64),
  pad: attr(2, 'OVS_VPORT_UPCALL_ATTR_PAD', binary({ policy: 'UNSPEC' })),
});

/** In ovs_vport_cmd_fill_info() order. */
export const ovsVportAttrs = new AttrSet(
  'ovs_vport_attr',
  {
    portNo: attr(1, 'OVS_VPORT_ATTR_PORT_NO', u32),
    type: attr(2, 'OVS_VPORT_ATTR_TYPE', u32Enum(prefixed('OVS_VPORT_TYPE_', OVS_VPORT_TYPE))),
    name: attr(3, 'OVS_VPORT_ATTR_NAME', string({ nul: true, maxLen: IFNAMSIZ - 1 })),
    ifindex: attr(8, 'OVS_VPORT_ATTR_IFINDEX', u32, { type: 'S32', min: 0 }),
    netnsid: attr(9, 'OVS_VPORT_ATTR_NETNSID', u32, { type: 'S32' }),
    pad: attr(7, 'OVS_VPORT_ATTR_PAD', binary({ policy: 'UNSPEC' })),
    stats: attr(6, 'OVS_VPORT_ATTR_STATS', ovsVportStats),
    upcallStats: attr(10, 'OVS_VPORT_ATTR_UPCALL_STATS', nested(ovsVportUpcallAttrs)),
    upcallPid: attr(5, 'OVS_VPORT_ATTR_UPCALL_PID', u32Array, { type: 'UNSPEC', len: 0 }),
    options: attr(4, 'OVS_VPORT_ATTR_OPTIONS', nested(ovsTunnelAttrs), { nested: undefined }),
  },
  { maxType: 9 },
); // Linux 6.1 stops at NETNSID; UPCALL_STATS (10) came in 6.2
export type OvsVportAttrs = AttrsOf<typeof ovsVportAttrs>;

export const ovsVportFamily: GenlFamilyDef<typeof ovsVportAttrs> = {
  name: OVS_VPORT_FAMILY,
  version: OVS_VPORT_VERSION,
  userHeader: ovsHeader,
  cmds: prefixed('OVS_VPORT_CMD_', OVS_VPORT_CMD),
  attrs: ovsVportAttrs,
  mcastGroups: [OVS_VPORT_MCGROUP],
};

// ---------------------------------------------------------------------------
// ovs_flow and the flow key / actions it carries (also used by ovs_packet)

export const OVS_FLOW_FAMILY = 'ovs_flow';
export const OVS_FLOW_MCGROUP = 'ovs_flow';
export const OVS_FLOW_VERSION = 1;
export const OVS_FLOW_CMD = { UNSPEC: 0, NEW: 1, DEL: 2, GET: 3, SET: 4 } as const;

export const ovsTunnelKeyAttrs = new AttrSet('ovs_tunnel_key_attr', {
  id: attr(0, 'OVS_TUNNEL_KEY_ATTR_ID', binary()),
  ipv4Src: attr(1, 'OVS_TUNNEL_KEY_ATTR_IPV4_SRC', binary()),
  ipv4Dst: attr(2, 'OVS_TUNNEL_KEY_ATTR_IPV4_DST', binary()),
  tos: attr(3, 'OVS_TUNNEL_KEY_ATTR_TOS', u8),
  ttl: attr(4, 'OVS_TUNNEL_KEY_ATTR_TTL', u8),
  dontFragment: attr(5, 'OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT', flag),
  csum: attr(6, 'OVS_TUNNEL_KEY_ATTR_CSUM', flag),
  oam: attr(7, 'OVS_TUNNEL_KEY_ATTR_OAM', flag),
  geneveOpts: attr(8, 'OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS', binary()),
  tpSrc: attr(9, 'OVS_TUNNEL_KEY_ATTR_TP_SRC', be16),
  tpDst: attr(10, 'OVS_TUNNEL_KEY_ATTR_TP_DST', be16),
  vxlanOpts: attr(11, 'OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS', binary()),
  ipv6Src: attr(12, 'OVS_TUNNEL_KEY_ATTR_IPV6_SRC', binary()),
  ipv6Dst: attr(13, 'OVS_TUNNEL_KEY_ATTR_IPV6_DST', binary()),
  pad: attr(14, 'OVS_TUNNEL_KEY_ATTR_PAD', binary()),
  erspanOpts: attr(15, 'OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS', binary()),
  ipv4InfoBridge: attr(16, 'OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE', flag),
});

/**
 * OVS_KEY_ATTR_*: the flow key. Fixed-size keys (struct ovs_key_ethernet,
 * ovs_key_ipv4, ...) are kept as bytes; the codec's job here is to name them.
 */
export const ovsKeyAttrs: AttrSet = new AttrSet('ovs_key_attr', {
  encap: attr(
    1,
    'OVS_KEY_ATTR_ENCAP',
    nested((): AttrSet => ovsKeyAttrs),
  ),
  priority: attr(2, 'OVS_KEY_ATTR_PRIORITY', u32),
  inPort: attr(3, 'OVS_KEY_ATTR_IN_PORT', u32),
  ethernet: attr(4, 'OVS_KEY_ATTR_ETHERNET', binary()),
  vlan: attr(5, 'OVS_KEY_ATTR_VLAN', be16),
  ethertype: attr(6, 'OVS_KEY_ATTR_ETHERTYPE', be16),
  ipv4: attr(7, 'OVS_KEY_ATTR_IPV4', binary()),
  ipv6: attr(8, 'OVS_KEY_ATTR_IPV6', binary()),
  tcp: attr(9, 'OVS_KEY_ATTR_TCP', binary()),
  udp: attr(10, 'OVS_KEY_ATTR_UDP', binary()),
  icmp: attr(11, 'OVS_KEY_ATTR_ICMP', binary()),
  icmpv6: attr(12, 'OVS_KEY_ATTR_ICMPV6', binary()),
  arp: attr(13, 'OVS_KEY_ATTR_ARP', binary()),
  nd: attr(14, 'OVS_KEY_ATTR_ND', binary()),
  skbMark: attr(15, 'OVS_KEY_ATTR_SKB_MARK', u32),
  tunnel: attr(16, 'OVS_KEY_ATTR_TUNNEL', nested(ovsTunnelKeyAttrs)),
  sctp: attr(17, 'OVS_KEY_ATTR_SCTP', binary()),
  tcpFlags: attr(18, 'OVS_KEY_ATTR_TCP_FLAGS', be16),
  dpHash: attr(19, 'OVS_KEY_ATTR_DP_HASH', u32),
  recircId: attr(20, 'OVS_KEY_ATTR_RECIRC_ID', u32),
  mpls: attr(21, 'OVS_KEY_ATTR_MPLS', binary()),
  ctState: attr(22, 'OVS_KEY_ATTR_CT_STATE', u32),
  ctZone: attr(23, 'OVS_KEY_ATTR_CT_ZONE', u16),
  ctMark: attr(24, 'OVS_KEY_ATTR_CT_MARK', u32),
  ctLabels: attr(25, 'OVS_KEY_ATTR_CT_LABELS', binary()),
  ctOrigTupleIpv4: attr(26, 'OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4', binary()),
  ctOrigTupleIpv6: attr(27, 'OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6', binary()),
  nsh: attr(28, 'OVS_KEY_ATTR_NSH', binary()),
  packetType: attr(29, 'OVS_KEY_ATTR_PACKET_TYPE', binary()),
  ndExtensions: attr(30, 'OVS_KEY_ATTR_ND_EXTENSIONS', binary()),
  tunnelInfo: attr(31, 'OVS_KEY_ATTR_TUNNEL_INFO', binary()),
  ipv6Exthdrs: attr(32, 'OVS_KEY_ATTR_IPV6_EXTHDRS', binary()),
});

/** OVS_ACTION_ATTR_*: actions are listed by name with their arguments as bytes. */
export const ovsActionAttrs = new AttrSet('ovs_action_attr', {
  output: attr(1, 'OVS_ACTION_ATTR_OUTPUT', u32),
  userspace: attr(2, 'OVS_ACTION_ATTR_USERSPACE', binary()),
  set: attr(3, 'OVS_ACTION_ATTR_SET', binary()),
  pushVlan: attr(4, 'OVS_ACTION_ATTR_PUSH_VLAN', binary()),
  popVlan: attr(5, 'OVS_ACTION_ATTR_POP_VLAN', flag),
  sample: attr(6, 'OVS_ACTION_ATTR_SAMPLE', binary()),
  recirc: attr(7, 'OVS_ACTION_ATTR_RECIRC', u32),
  hash: attr(8, 'OVS_ACTION_ATTR_HASH', binary()),
  pushMpls: attr(9, 'OVS_ACTION_ATTR_PUSH_MPLS', binary()),
  popMpls: attr(10, 'OVS_ACTION_ATTR_POP_MPLS', be16),
  setMasked: attr(11, 'OVS_ACTION_ATTR_SET_MASKED', binary()),
  ct: attr(12, 'OVS_ACTION_ATTR_CT', binary()),
  trunc: attr(13, 'OVS_ACTION_ATTR_TRUNC', u32),
  pushEth: attr(14, 'OVS_ACTION_ATTR_PUSH_ETH', binary()),
  popEth: attr(15, 'OVS_ACTION_ATTR_POP_ETH', flag),
  ctClear: attr(16, 'OVS_ACTION_ATTR_CT_CLEAR', flag),
  pushNsh: attr(17, 'OVS_ACTION_ATTR_PUSH_NSH', binary()),
  popNsh: attr(18, 'OVS_ACTION_ATTR_POP_NSH', flag),
  meter: attr(19, 'OVS_ACTION_ATTR_METER', u32),
  clone: attr(20, 'OVS_ACTION_ATTR_CLONE', binary()),
  checkPktLen: attr(21, 'OVS_ACTION_ATTR_CHECK_PKT_LEN', binary()),
  addMpls: attr(22, 'OVS_ACTION_ATTR_ADD_MPLS', binary()),
  decTtl: attr(23, 'OVS_ACTION_ATTR_DEC_TTL', binary()),
  drop: attr(24, 'OVS_ACTION_ATTR_DROP', u32),
});

const ovsFlowStats = struct('ovs_flow_stats', { nPackets: 'u64', nBytes: 'u64' });

export const ovsFlowAttrs = new AttrSet('ovs_flow_attr', {
  key: attr(1, 'OVS_FLOW_ATTR_KEY', nested(ovsKeyAttrs)),
  ufid: attr(9, 'OVS_FLOW_ATTR_UFID', binary(), { type: 'UNSPEC', len: 1 }),
  mask: attr(7, 'OVS_FLOW_ATTR_MASK', nested(ovsKeyAttrs)),
  stats: attr(3, 'OVS_FLOW_ATTR_STATS', ovsFlowStats),
  tcpFlags: attr(4, 'OVS_FLOW_ATTR_TCP_FLAGS', u8),
  used: attr(5, 'OVS_FLOW_ATTR_USED', u64),
  actions: attr(2, 'OVS_FLOW_ATTR_ACTIONS', nested(ovsActionAttrs)),
  clear: attr(6, 'OVS_FLOW_ATTR_CLEAR', flag),
  probe: attr(8, 'OVS_FLOW_ATTR_PROBE', flag),
  ufidFlags: attr(10, 'OVS_FLOW_ATTR_UFID_FLAGS', u32),
  pad: attr(11, 'OVS_FLOW_ATTR_PAD', binary()),
});

export const ovsFlowFamily: GenlFamilyDef<typeof ovsFlowAttrs> = {
  name: OVS_FLOW_FAMILY,
  version: OVS_FLOW_VERSION,
  userHeader: ovsHeader,
  cmds: prefixed('OVS_FLOW_CMD_', OVS_FLOW_CMD),
  attrs: ovsFlowAttrs,
  mcastGroups: [OVS_FLOW_MCGROUP],
};

// ---------------------------------------------------------------------------
// ovs_packet

export const OVS_PACKET_FAMILY = 'ovs_packet';
export const OVS_PACKET_VERSION = 1;
export const OVS_PACKET_CMD = { UNSPEC: 0, MISS: 1, ACTION: 2, EXECUTE: 3 } as const;

/** In queue_userspace_packet() order for upcalls. */
export const ovsPacketAttrs = new AttrSet('ovs_packet_attr', {
  key: attr(2, 'OVS_PACKET_ATTR_KEY', nested(ovsKeyAttrs)),
  userdata: attr(4, 'OVS_PACKET_ATTR_USERDATA', binary()),
  egressTunKey: attr(5, 'OVS_PACKET_ATTR_EGRESS_TUN_KEY', nested(ovsTunnelKeyAttrs)),
  actions: attr(3, 'OVS_PACKET_ATTR_ACTIONS', nested(ovsActionAttrs)),
  mru: attr(9, 'OVS_PACKET_ATTR_MRU', u16),
  len: attr(10, 'OVS_PACKET_ATTR_LEN', u32),
  hash: attr(11, 'OVS_PACKET_ATTR_HASH', u64),
  packet: attr(1, 'OVS_PACKET_ATTR_PACKET', binary(), { type: 'UNSPEC', len: 14 }),
  unused1: attr(6, 'OVS_PACKET_ATTR_UNUSED1', binary()),
  unused2: attr(7, 'OVS_PACKET_ATTR_UNUSED2', binary()),
  probe: attr(8, 'OVS_PACKET_ATTR_PROBE', flag),
});

export const ovsPacketFamily: GenlFamilyDef<typeof ovsPacketAttrs> = {
  name: OVS_PACKET_FAMILY,
  version: OVS_PACKET_VERSION,
  userHeader: ovsHeader,
  cmds: prefixed('OVS_PACKET_CMD_', OVS_PACKET_CMD),
  attrs: ovsPacketAttrs,
  mcastGroups: [],
};

// ---------------------------------------------------------------------------
// ovs_meter

export const OVS_METER_FAMILY = 'ovs_meter';
export const OVS_METER_MCGROUP = 'ovs_meter';
export const OVS_METER_VERSION = 1;
export const OVS_METER_CMD = { UNSPEC: 0, FEATURES: 1, SET: 2, DEL: 3, GET: 4 } as const;
export const OVS_METER_BAND_TYPE = { UNSPEC: 0, DROP: 1 } as const;

export const ovsBandAttrs = new AttrSet('ovs_band_attr', {
  type: attr(1, 'OVS_BAND_ATTR_TYPE', u32Enum(prefixed('OVS_METER_BAND_TYPE_', OVS_METER_BAND_TYPE))),
  rate: attr(2, 'OVS_BAND_ATTR_RATE', u32),
  burst: attr(3, 'OVS_BAND_ATTR_BURST', u32),
  stats: attr(4, 'OVS_BAND_ATTR_STATS', ovsFlowStats),
});

export const ovsMeterAttrs = new AttrSet('ovs_meter_attr', {
  id: attr(1, 'OVS_METER_ATTR_ID', u32),
  kbps: attr(2, 'OVS_METER_ATTR_KBPS', flag),
  stats: attr(3, 'OVS_METER_ATTR_STATS', ovsFlowStats),
  bands: attr(4, 'OVS_METER_ATTR_BANDS', binary(), { type: 'NESTED' }),
  used: attr(5, 'OVS_METER_ATTR_USED', u64),
  clear: attr(6, 'OVS_METER_ATTR_CLEAR', flag),
  maxMeters: attr(7, 'OVS_METER_ATTR_MAX_METERS', u32),
  maxBands: attr(8, 'OVS_METER_ATTR_MAX_BANDS', u32),
  pad: attr(9, 'OVS_METER_ATTR_PAD', binary()),
});

export const ovsMeterFamily: GenlFamilyDef<typeof ovsMeterAttrs> = {
  name: OVS_METER_FAMILY,
  version: OVS_METER_VERSION,
  userHeader: ovsHeader,
  cmds: prefixed('OVS_METER_CMD_', OVS_METER_CMD),
  attrs: ovsMeterAttrs,
  mcastGroups: [OVS_METER_MCGROUP],
};

// ---------------------------------------------------------------------------
// ovs_ct_limit

export const OVS_CT_LIMIT_FAMILY = 'ovs_ct_limit';
export const OVS_CT_LIMIT_MCGROUP = 'ovs_ct_limit';
export const OVS_CT_LIMIT_VERSION = 1;
export const OVS_CT_LIMIT_CMD = { UNSPEC: 0, SET: 1, DEL: 2, GET: 3 } as const;

/** OVS_CT_LIMIT_ATTR_ZONE_LIMIT carries an array of struct ovs_zone_limit {s32 zone_id; u32 limit; u32 count}. */
export const ovsCtLimitAttrs = new AttrSet('ovs_ct_limit_attr', {
  zoneLimit: attr(1, 'OVS_CT_LIMIT_ATTR_ZONE_LIMIT', binary(), { type: 'NESTED' }),
});

export const ovsCtLimitFamily: GenlFamilyDef<typeof ovsCtLimitAttrs> = {
  name: OVS_CT_LIMIT_FAMILY,
  version: OVS_CT_LIMIT_VERSION,
  userHeader: ovsHeader,
  cmds: prefixed('OVS_CT_LIMIT_CMD_', OVS_CT_LIMIT_CMD),
  attrs: ovsCtLimitAttrs,
  mcastGroups: [OVS_CT_LIMIT_MCGROUP],
};

// ---------------------------------------------------------------------------
// Attribute numbers, for code that reads attributes with nlaParse() (the kernel model)

export const OVS_DP_ATTR = attrTypes(ovsDatapathAttrs, 'OVS_DP_ATTR_');
export const OVS_VPORT_ATTR = attrTypes(ovsVportAttrs, 'OVS_VPORT_ATTR_');
export const OVS_VPORT_UPCALL_ATTR = attrTypes(ovsVportUpcallAttrs, 'OVS_VPORT_UPCALL_ATTR_');
export const OVS_TUNNEL_ATTR = attrTypes(ovsTunnelAttrs, 'OVS_TUNNEL_ATTR_');
export const OVS_VXLAN_EXT = attrTypes(ovsVxlanExtAttrs, 'OVS_VXLAN_EXT_');
export const OVS_FLOW_ATTR = attrTypes(ovsFlowAttrs, 'OVS_FLOW_ATTR_');
export const OVS_PACKET_ATTR = attrTypes(ovsPacketAttrs, 'OVS_PACKET_ATTR_');
export const OVS_METER_ATTR = attrTypes(ovsMeterAttrs, 'OVS_METER_ATTR_');
export const OVS_BAND_ATTR = attrTypes(ovsBandAttrs, 'OVS_BAND_ATTR_');
export const OVS_CT_LIMIT_ATTR = attrTypes(ovsCtLimitAttrs, 'OVS_CT_LIMIT_ATTR_');
