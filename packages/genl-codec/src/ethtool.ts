/**
 * The ethtool generic netlink family (include/uapi/linux/ethtool_netlink.h,
 * Linux 6.1) as far as network device features go: the message numbers of
 * both directions, the request header, bitsets, ETHTOOL_MSG_FEATURES_* and
 * the names the kernel gives the feature bits (net/ethtool/common.c).
 *
 * The family has no fixed header after genlmsghdr. Its attribute numbering
 * depends on the command (ETHTOOL_A_FEATURES_* here, ETHTOOL_A_LINKINFO_*
 * elsewhere), so only the FEATURES messages decode to typed attributes; the
 * others stay raw (LINKMODES ones read and write with
 * decodeEthtoolLinkmodes() / ethtoolLinkmodesPayload()). Every nest the kernel writes carries NLA_F_NESTED, and it
 * insists on it in requests (strict validation, nla_parse_nested()).
 */
import type { JsonValue } from './attr-json.js';
import { AttrSet, type AttrsOf, attrTypes, attr } from './attr-set.js';
import { DecodeContext, type ValueCodec, flag, nested, prefixed, string, u32, u32Array, u8 } from './codecs.js';
import { Writer } from './writer.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import type { GenlFamilyDef } from './genl.js';
import { align4, GENL_HDRLEN, isZero, NLA_F_NESTED, NLA_HDRLEN } from './netlink.js';

export const ETHTOOL_GENL_NAME = 'ethtool';
export const ETHTOOL_GENL_VERSION = 1;
export const ETHTOOL_MCGRP_MONITOR_NAME = 'monitor';

/** Message types from userspace to the kernel (ETHTOOL_MSG_*). */
export const ETHTOOL_MSG = {
  STRSET_GET: 1,
  LINKINFO_GET: 2,
  LINKINFO_SET: 3,
  LINKMODES_GET: 4,
  LINKMODES_SET: 5,
  LINKSTATE_GET: 6,
  DEBUG_GET: 7,
  DEBUG_SET: 8,
  WOL_GET: 9,
  WOL_SET: 10,
  FEATURES_GET: 11,
  FEATURES_SET: 12,
  PRIVFLAGS_GET: 13,
  PRIVFLAGS_SET: 14,
  RINGS_GET: 15,
  RINGS_SET: 16,
  CHANNELS_GET: 17,
  CHANNELS_SET: 18,
  COALESCE_GET: 19,
  COALESCE_SET: 20,
  PAUSE_GET: 21,
  PAUSE_SET: 22,
  EEE_GET: 23,
  EEE_SET: 24,
  TSINFO_GET: 25,
  CABLE_TEST_ACT: 26,
  CABLE_TEST_TDR_ACT: 27,
  TUNNEL_INFO_GET: 28,
  FEC_GET: 29,
  FEC_SET: 30,
  MODULE_EEPROM_GET: 31,
  STATS_GET: 32,
  PHC_VCLOCKS_GET: 33,
  MODULE_GET: 34,
  MODULE_SET: 35,
  PSE_GET: 36,
  PSE_SET: 37,
} as const;

/** Message types from the kernel (replies and notifications): a numbering of their own. */
export const ETHTOOL_MSG_KERNEL = {
  STRSET_GET_REPLY: 1,
  LINKINFO_GET_REPLY: 2,
  LINKINFO_NTF: 3,
  LINKMODES_GET_REPLY: 4,
  LINKMODES_NTF: 5,
  LINKSTATE_GET_REPLY: 6,
  DEBUG_GET_REPLY: 7,
  DEBUG_NTF: 8,
  WOL_GET_REPLY: 9,
  WOL_NTF: 10,
  FEATURES_GET_REPLY: 11,
  FEATURES_SET_REPLY: 12,
  FEATURES_NTF: 13,
  PRIVFLAGS_GET_REPLY: 14,
  PRIVFLAGS_NTF: 15,
  RINGS_GET_REPLY: 16,
  RINGS_NTF: 17,
  CHANNELS_GET_REPLY: 18,
  CHANNELS_NTF: 19,
  COALESCE_GET_REPLY: 20,
  COALESCE_NTF: 21,
  PAUSE_GET_REPLY: 22,
  PAUSE_NTF: 23,
  EEE_GET_REPLY: 24,
  EEE_NTF: 25,
  TSINFO_GET_REPLY: 26,
  CABLE_TEST_NTF: 27,
  CABLE_TEST_TDR_NTF: 28,
  TUNNEL_INFO_GET_REPLY: 29,
  FEC_GET_REPLY: 30,
  FEC_NTF: 31,
  MODULE_EEPROM_GET_REPLY: 32,
  STATS_GET_REPLY: 33,
  PHC_VCLOCKS_GET_REPLY: 34,
  MODULE_GET_REPLY: 35,
  MODULE_NTF: 36,
  PSE_GET_REPLY: 37,
} as const;

/** ETHTOOL_A_HEADER_FLAGS bits. */
export const ETHTOOL_FLAG = {
  /** Bitsets in the reply as value/mask words instead of lists of named bits. */
  COMPACT_BITSETS: 1 << 0,
  /** No reply to a SET request (the ack, if asked for, still comes). */
  OMIT_REPLY: 1 << 1,
  /** Statistics in the reply, where the driver has them. */
  STATS: 1 << 2,
} as const;

/** ETHTOOL_A_BITSET_BITS_*: the one member type of a verbose bit list. */
export const ETHTOOL_A_BITSET_BITS = { BIT: 1 } as const;

/** include/uapi/linux/if.h: the longest name a device can be looked up by (altnames included). */
export const ALTIFNAMSIZ = 128;
/** The largest ETHTOOL_A_BITSET_SIZE the kernel accepts (S16_MAX, net/ethtool/bitset.h). */
export const ETHNL_MAX_BITSET_SIZE = 0x7fff;

/**
 * ETHTOOL_A_HEADER_*, in the order ethnl_fill_reply_header() writes them
 * (replies carry DEV_INDEX and DEV_NAME; FLAGS is request-only). The kernel
 * also limits FLAGS to COMPACT_BITSETS | OMIT_REPLY (NLA_POLICY_MASK, "reserved
 * bit set"), a check the codec's Policy cannot express.
 */
export const ethtoolHeaderAttrs = new AttrSet('ethtool_a_header', {
  devIndex: attr(1, 'ETHTOOL_A_HEADER_DEV_INDEX', u32),
  devName: attr(2, 'ETHTOOL_A_HEADER_DEV_NAME', string({ nul: true, maxLen: ALTIFNAMSIZ - 1 })),
  flags: attr(3, 'ETHTOOL_A_HEADER_FLAGS', u32),
});
export type EthtoolHeaderAttrs = AttrsOf<typeof ethtoolHeaderAttrs>;
export const ETHTOOL_A_HEADER = attrTypes(ethtoolHeaderAttrs, 'ETHTOOL_A_HEADER_');

/** ETHTOOL_A_BITSET_BIT_*: one bit of a verbose bitset, in ethnl_put_bitset32() order. */
export const ethtoolBitsetBitAttrs = new AttrSet('ethtool_a_bitset_bit', {
  index: attr(1, 'ETHTOOL_A_BITSET_BIT_INDEX', u32),
  name: attr(2, 'ETHTOOL_A_BITSET_BIT_NAME', string({ nul: true })),
  value: attr(3, 'ETHTOOL_A_BITSET_BIT_VALUE', flag),
});
export type EthtoolBitsetBit = AttrsOf<typeof ethtoolBitsetBitAttrs>;
export const ETHTOOL_A_BITSET_BIT = attrTypes(ethtoolBitsetBitAttrs, 'ETHTOOL_A_BITSET_BIT_');

/**
 * Hidden record of a decoded bit list whose members' nla_type is not the
 * canonical ETHTOOL_A_BITSET_BITS_BIT | NLA_F_NESTED: one raw nla_type per member.
 */
const BIT_NLA_TYPES: unique symbol = Symbol('BIT_NLA_TYPES');
const BIT_NLA_TYPE = ETHTOOL_A_BITSET_BITS.BIT | NLA_F_NESTED;

type BitList = EthtoolBitsetBit[] & { [BIT_NLA_TYPES]?: number[] };

/**
 * ETHTOOL_A_BITSET_BITS: a nest of ETHTOOL_A_BITSET_BITS_BIT nests, every
 * member of the same type (a list, not an NLA_NESTED_ARRAY numbered 1..n).
 * The kernel's FEATURES_SET parser does not look at the members' type, so a
 * member of another type is kept (with its nla_type) rather than refused.
 */
const bitList: ValueCodec<EthtoolBitsetBit[]> = {
  kind: 'nested[]',
  policy: { type: 'NESTED', nested: ethtoolBitsetBitAttrs },
  decode(buf, dv, off, len, ctx) {
    const end = off + len;
    const out: BitList = [];
    let types: number[] | undefined;
    while (off < end) {
      if (end - off < NLA_HDRLEN) throw new NetlinkDecodeError(off, `truncated bit header (${end - off} bytes left)`);
      const l = dv.getUint16(off, true);
      const t = dv.getUint16(off + 2, true);
      if (l < NLA_HDRLEN || l > end - off) throw new NetlinkDecodeError(off, `bit length ${l} is invalid (${end - off} bytes left)`);
      const next = off + align4(l);
      if (next > end || !isZero(buf, off + l, next)) throw new NetlinkDecodeError(off + l, 'bit padding is missing or non-zero');
      if (t !== BIT_NLA_TYPE) types ??= out.map(() => BIT_NLA_TYPE);
      types?.push(t);
      out.push(ethtoolBitsetBitAttrs.decode(buf, dv, off + NLA_HDRLEN, off + l, ctx));
      off = next;
    }
    if (types !== undefined) Object.defineProperty(out, BIT_NLA_TYPES, { value: types, enumerable: false, configurable: true });
    return out;
  },
  write(w, value, path) {
    if (!Array.isArray(value)) throw new NetlinkEncodeError(path, 'expected an array of bits');
    const types = (value as BitList)[BIT_NLA_TYPES];
    value.forEach((bit, i) => {
      const start = w.pos;
      w.ensure(NLA_HDRLEN);
      w.pos += NLA_HDRLEN;
      ethtoolBitsetBitAttrs.write(w, bit, `${path}[${i}]`);
      w.dv.setUint16(start, w.pos - start, true);
      w.dv.setUint16(start + 2, types?.[i] ?? BIT_NLA_TYPE, true);
      w.pad();
    });
  },
  // A member with another nla_type shows as {"nla_type": N, "value": {...}}.
  toJson(value) {
    const types = (value as BitList)[BIT_NLA_TYPES];
    return value.map((bit, i): JsonValue => {
      const json = ethtoolBitsetBitAttrs.toJson(bit);
      const t = types?.[i] ?? BIT_NLA_TYPE;
      return t === BIT_NLA_TYPE ? json : { nla_type: t, value: json };
    });
  },
  fromJson(json, path) {
    if (!Array.isArray(json)) throw new NetlinkEncodeError(path, 'expected an array of bits');
    const out: BitList = [];
    const types: number[] = [];
    json.forEach((el: unknown, i) => {
      const p = `${path}[${i}]`;
      const wrapped = el !== null && typeof el === 'object' && 'nla_type' in el ? (el as { nla_type: unknown; value?: unknown }) : undefined;
      const t = wrapped ? wrapped.nla_type : BIT_NLA_TYPE;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffff) throw new NetlinkEncodeError(`${p}.nla_type`, 'expected a 16-bit nla_type');
      types.push(t);
      out.push(ethtoolBitsetBitAttrs.fromJson(wrapped ? wrapped.value : el, p));
    });
    if (types.some((t) => t !== BIT_NLA_TYPE)) Object.defineProperty(out, BIT_NLA_TYPES, { value: types, enumerable: false, configurable: true });
    return out;
  },
  format: (v) => `[${v.length} bits]`,
};

/**
 * ETHTOOL_A_BITSET_*, in ethnl_put_bitset32() order. Compact form: SIZE,
 * VALUE and (unless NOMASK) MASK, as u32 words, bit i in word i / 32.
 * Verbose form: SIZE and BITS, the bits present in the mask (or, with
 * NOMASK, those set), each by index and name, VALUE flagging the set ones.
 */
export const ethtoolBitsetAttrs = new AttrSet('ethtool_a_bitset', {
  nomask: attr(1, 'ETHTOOL_A_BITSET_NOMASK', flag),
  size: attr(2, 'ETHTOOL_A_BITSET_SIZE', u32, { max: ETHNL_MAX_BITSET_SIZE }),
  // bitset_policy: a plain NLA_NESTED; the bits are checked one by one later (bit_policy).
  bits: attr(3, 'ETHTOOL_A_BITSET_BITS', bitList, { nested: undefined }, NLA_F_NESTED),
  value: attr(4, 'ETHTOOL_A_BITSET_VALUE', u32Array, { type: 'BINARY', len: undefined }),
  mask: attr(5, 'ETHTOOL_A_BITSET_MASK', u32Array, { type: 'BINARY', len: undefined }),
});
export type EthtoolBitset = AttrsOf<typeof ethtoolBitsetAttrs>;
export const ETHTOOL_A_BITSET = attrTypes(ethtoolBitsetAttrs, 'ETHTOOL_A_BITSET_');

/**
 * ETHTOOL_A_FEATURES_*, in features_fill_reply() order. The policies are
 * ETHTOOL_MSG_FEATURES_SET's (ethnl_features_set_policy, maxattr WANTED):
 * WANTED is a plain NLA_NESTED (ethnl_parse_bitset() reads it later), HW is
 * a hole (NLA_UNSPEC: "Unsupported attribute" under strict validation), and
 * ACTIVE and NOCHANGE, which only the kernel sends, are past the maximum.
 */
export const ethtoolFeaturesAttrs = new AttrSet(
  'ethtool_a_features',
  {
    header: attr(1, 'ETHTOOL_A_FEATURES_HEADER', nested(ethtoolHeaderAttrs), undefined, NLA_F_NESTED),
    hw: attr(2, 'ETHTOOL_A_FEATURES_HW', nested(ethtoolBitsetAttrs), { type: 'UNSPEC', nested: undefined }, NLA_F_NESTED),
    wanted: attr(3, 'ETHTOOL_A_FEATURES_WANTED', nested(ethtoolBitsetAttrs), { nested: undefined }, NLA_F_NESTED),
    active: attr(4, 'ETHTOOL_A_FEATURES_ACTIVE', nested(ethtoolBitsetAttrs), undefined, NLA_F_NESTED),
    nochange: attr(5, 'ETHTOOL_A_FEATURES_NOCHANGE', nested(ethtoolBitsetAttrs), undefined, NLA_F_NESTED),
  },
  { maxType: 3 /* ETHTOOL_A_FEATURES_WANTED */ },
);
export type EthtoolFeaturesAttrs = AttrsOf<typeof ethtoolFeaturesAttrs>;
export const ETHTOOL_A_FEATURES = attrTypes(ethtoolFeaturesAttrs, 'ETHTOOL_A_FEATURES_');

/** The ethtool family; its typed messages are the FEATURES ones (GET, SET, their replies, NTF). */
export const ethtoolFamily: GenlFamilyDef<typeof ethtoolFeaturesAttrs> = {
  name: ETHTOOL_GENL_NAME,
  version: ETHTOOL_GENL_VERSION,
  cmds: prefixed('ETHTOOL_MSG_', ETHTOOL_MSG),
  kernelCmds: prefixed('ETHTOOL_MSG_', ETHTOOL_MSG_KERNEL),
  attrsCmds: {
    request: [ETHTOOL_MSG.FEATURES_GET, ETHTOOL_MSG.FEATURES_SET],
    kernel: [ETHTOOL_MSG_KERNEL.FEATURES_GET_REPLY, ETHTOOL_MSG_KERNEL.FEATURES_SET_REPLY, ETHTOOL_MSG_KERNEL.FEATURES_NTF],
  },
  attrs: ethtoolFeaturesAttrs,
  mcastGroups: [ETHTOOL_MCGRP_MONITOR_NAME],
};

// ---------------------------------------------------------------------------
// Network device features (include/linux/netdev_features.h, 6.1)

/** NETIF_F_*_BIT: a feature's bit in netdev_features_t, and its index in ethtool's feature bitsets. */
export const NETIF_F_BIT = {
  SG: 0,
  IP_CSUM: 1,
  HW_CSUM: 3,
  IPV6_CSUM: 4,
  HIGHDMA: 5,
  FRAGLIST: 6,
  HW_VLAN_CTAG_TX: 7,
  HW_VLAN_CTAG_RX: 8,
  HW_VLAN_CTAG_FILTER: 9,
  VLAN_CHALLENGED: 10,
  GSO: 11,
  LLTX: 12,
  NETNS_LOCAL: 13,
  GRO: 14,
  LRO: 15,
  TSO: 16,
  GSO_ROBUST: 17,
  TSO_ECN: 18,
  TSO_MANGLEID: 19,
  TSO6: 20,
  FSO: 21,
  GSO_GRE: 22,
  GSO_GRE_CSUM: 23,
  GSO_IPXIP4: 24,
  GSO_IPXIP6: 25,
  GSO_UDP_TUNNEL: 26,
  GSO_UDP_TUNNEL_CSUM: 27,
  GSO_PARTIAL: 28,
  GSO_TUNNEL_REMCSUM: 29,
  GSO_SCTP: 30,
  GSO_ESP: 31,
  GSO_UDP: 32,
  GSO_UDP_L4: 33,
  GSO_FRAGLIST: 34,
  FCOE_CRC: 35,
  SCTP_CRC: 36,
  FCOE_MTU: 37,
  NTUPLE: 38,
  RXHASH: 39,
  RXCSUM: 40,
  NOCACHE_COPY: 41,
  LOOPBACK: 42,
  RXFCS: 43,
  RXALL: 44,
  HW_VLAN_STAG_TX: 45,
  HW_VLAN_STAG_RX: 46,
  HW_VLAN_STAG_FILTER: 47,
  HW_L2FW_DOFFLOAD: 48,
  HW_TC: 49,
  HW_ESP: 50,
  HW_ESP_TX_CSUM: 51,
  RX_UDP_TUNNEL_PORT: 52,
  HW_TLS_TX: 53,
  HW_TLS_RX: 54,
  GRO_HW: 55,
  HW_TLS_RECORD: 56,
  GRO_FRAGLIST: 57,
  HW_MACSEC: 58,
  GRO_UDP_FWD: 59,
  HW_HSR_TAG_INS: 60,
  HW_HSR_TAG_RM: 61,
  HW_HSR_FWD: 62,
  HW_HSR_DUP: 63,
} as const;

/** NETDEV_FEATURE_COUNT: the size of every feature bitset (ETHTOOL_A_BITSET_SIZE). */
export const NETDEV_FEATURE_COUNT = 64;

/**
 * netdev_features_strings: each feature bit's name as the kernel gives it in
 * verbose bitsets and looks it up in requests, by index; '' for the unused
 * bit 2 and for GSO_UDP (32), which have none. These are not ethtool(8)'s
 * legacy names: its "large-receive-offload" is the kernel's "rx-lro"
 * (NETIF_F_BIT.LRO, 15), and a request naming "large-receive-offload" gets
 * EOPNOTSUPP "bit name not found".
 */
export const NETDEV_FEATURE_NAMES: readonly string[] = [
  'tx-scatter-gather',
  'tx-checksum-ipv4',
  '',
  'tx-checksum-ip-generic', // 0
  'tx-checksum-ipv6',
  'highdma',
  'tx-scatter-gather-fraglist',
  'tx-vlan-hw-insert', // 4
  'rx-vlan-hw-parse',
  'rx-vlan-filter',
  'vlan-challenged',
  'tx-generic-segmentation', // 8
  'tx-lockless',
  'netns-local',
  'rx-gro',
  'rx-lro', // 12
  'tx-tcp-segmentation',
  'tx-gso-robust',
  'tx-tcp-ecn-segmentation',
  'tx-tcp-mangleid-segmentation', // 16
  'tx-tcp6-segmentation',
  'tx-fcoe-segmentation',
  'tx-gre-segmentation',
  'tx-gre-csum-segmentation', // 20
  'tx-ipxip4-segmentation',
  'tx-ipxip6-segmentation',
  'tx-udp_tnl-segmentation',
  'tx-udp_tnl-csum-segmentation', // 24
  'tx-gso-partial',
  'tx-tunnel-remcsum-segmentation',
  'tx-sctp-segmentation',
  'tx-esp-segmentation', // 28
  '',
  'tx-udp-segmentation',
  'tx-gso-list',
  'tx-checksum-fcoe-crc', // 32
  'tx-checksum-sctp',
  'fcoe-mtu',
  'rx-ntuple-filter',
  'rx-hashing', // 36
  'rx-checksum',
  'tx-nocache-copy',
  'loopback',
  'rx-fcs', // 40
  'rx-all',
  'tx-vlan-stag-hw-insert',
  'rx-vlan-stag-hw-parse',
  'rx-vlan-stag-filter', // 44
  'l2-fwd-offload',
  'hw-tc-offload',
  'esp-hw-offload',
  'esp-tx-csum-hw-offload', // 48
  'rx-udp_tunnel-port-offload',
  'tls-hw-tx-offload',
  'tls-hw-rx-offload',
  'rx-gro-hw', // 52
  'tls-hw-record',
  'rx-gro-list',
  'macsec-hw-offload',
  'rx-udp-gro-forwarding', // 56
  'hsr-tag-ins-offload',
  'hsr-tag-rm-offload',
  'hsr-fwd-offload',
  'hsr-dup-offload', // 60
];

// ---------------------------------------------------------------------------
// Link modes (ETHTOOL_MSG_LINKMODES_GET: speed, duplex, autonegotiation)

/** include/uapi/linux/ethtool.h: SPEED_UNKNOWN, and the DUPLEX_* and AUTONEG_* values. */
export const SPEED_UNKNOWN = 0xffffffff;
export const DUPLEX = { HALF: 0, FULL: 1, UNKNOWN: 0xff } as const;
export const AUTONEG = { DISABLE: 0, ENABLE: 1 } as const;
/** __ETHTOOL_LINK_MODE_MASK_NBITS in Linux 6.1: the size of the OURS and PEER bitsets. */
export const ETHTOOL_LINK_MODE_MASK_NBITS = 93;

/** ETHTOOL_A_LINKMODES_*, in linkmodes_fill_reply() order. */
export const ethtoolLinkmodesAttrs = new AttrSet('ethtool_a_linkmodes', {
  header: attr(1, 'ETHTOOL_A_LINKMODES_HEADER', nested(ethtoolHeaderAttrs), undefined, NLA_F_NESTED),
  autoneg: attr(2, 'ETHTOOL_A_LINKMODES_AUTONEG', u8),
  ours: attr(3, 'ETHTOOL_A_LINKMODES_OURS', nested(ethtoolBitsetAttrs), undefined, NLA_F_NESTED),
  peer: attr(4, 'ETHTOOL_A_LINKMODES_PEER', nested(ethtoolBitsetAttrs), undefined, NLA_F_NESTED),
  speed: attr(5, 'ETHTOOL_A_LINKMODES_SPEED', u32),
  duplex: attr(6, 'ETHTOOL_A_LINKMODES_DUPLEX', u8),
  masterSlaveCfg: attr(7, 'ETHTOOL_A_LINKMODES_MASTER_SLAVE_CFG', u8),
  masterSlaveState: attr(8, 'ETHTOOL_A_LINKMODES_MASTER_SLAVE_STATE', u8),
  lanes: attr(9, 'ETHTOOL_A_LINKMODES_LANES', u32),
  rateMatching: attr(10, 'ETHTOOL_A_LINKMODES_RATE_MATCHING', u8),
});
export type EthtoolLinkmodesAttrs = AttrsOf<typeof ethtoolLinkmodesAttrs>;
export const ETHTOOL_A_LINKMODES = attrTypes(ethtoolLinkmodesAttrs, 'ETHTOOL_A_LINKMODES_');

/**
 * The payload (genlmsghdr and attributes) of an ethtool LINKMODES message, for
 * a raw message: `{ kind: 'raw', protocol: 16, header: { type: familyId, ... },
 * payload }`. `cmd` is ETHTOOL_MSG.LINKMODES_GET from userspace,
 * ETHTOOL_MSG_KERNEL.LINKMODES_GET_REPLY / _NTF from the kernel.
 */
export function ethtoolLinkmodesPayload(cmd: number, attrs: EthtoolLinkmodesAttrs): Uint8Array {
  const w = new Writer(256);
  w.ensure(GENL_HDRLEN);
  w.buf[0] = cmd;
  w.buf[1] = ETHTOOL_GENL_VERSION;
  w.pos = GENL_HDRLEN;
  ethtoolLinkmodesAttrs.write(w, attrs);
  return w.take();
}

/** The command and attributes of a raw ethtool LINKMODES message's payload; a NetlinkDecodeError if malformed. */
export function decodeEthtoolLinkmodes(payload: Uint8Array): { cmd: number; version: number; attrs: EthtoolLinkmodesAttrs } {
  if (payload.length < GENL_HDRLEN) throw new NetlinkDecodeError(0, `ethtool message too short for genlmsghdr (${payload.length} bytes)`);
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { cmd: payload[0]!, version: payload[1]!, attrs: ethtoolLinkmodesAttrs.decode(payload, dv, GENL_HDRLEN, payload.length, new DecodeContext()) };
}
