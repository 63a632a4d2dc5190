/**
 * OpenFlow numbers: include/openflow/openflow-common.h, openflow-1.0.h,
 * openflow-1.1.h, openflow-1.3.h, openflow-1.4.h, openflow-1.5.h, and the
 * ofputil_* abstractions of include/openvswitch/ofp-port.h, ofp-protocol.h
 * (Open vSwitch 3.1).
 */

/** enum ofp_version. */
export const OFP10_VERSION = 0x01;
export const OFP11_VERSION = 0x02;
export const OFP12_VERSION = 0x03;
export const OFP13_VERSION = 0x04;
export const OFP14_VERSION = 0x05;
export const OFP15_VERSION = 0x06;

/** The versions OVS implements: OFPUTIL_SUPPORTED_VERSIONS (OpenFlow 1.0 ... 1.5). */
export const OFPUTIL_SUPPORTED_VERSIONS = 0x7e;
/** OFPUTIL_DEFAULT_VERSIONS: what a bridge allows when Bridge.protocols is empty. */
export const OFPUTIL_DEFAULT_VERSIONS = OFPUTIL_SUPPORTED_VERSIONS;

/** sizeof(struct ofp_header). */
export const OFP_HEADER_LEN = 8;
/** The largest OpenFlow message (ofp_header.length is 16 bits). */
export const OFP_MAX_MSG_LEN = 0xffff;

/**
 * Message types (ofp_header.type) as OpenFlow 1.0 numbers them
 * (OFPT_VENDOR = 4, OFPT10_STATS_REQUEST = 16, OFPT10_BARRIER_REQUEST = 18).
 */
export const OFPT10 = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  VENDOR: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  PORT_MOD: 15,
  STATS_REQUEST: 16,
  STATS_REPLY: 17,
  BARRIER_REQUEST: 18,
  BARRIER_REPLY: 19,
  QUEUE_GET_CONFIG_REQUEST: 20,
  QUEUE_GET_CONFIG_REPLY: 21,
} as const;

/** Message types as OpenFlow 1.1 and later number them (multipart = stats). */
export const OFPT11 = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  STATS_REQUEST: 18,
  STATS_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
} as const;

/** Stats (multipart) types used here: OFPST_PORT_DESC is 13 in every version (an OVS extension in 1.0-1.2). */
export const OFPST_DESC = 0;
export const OFPST_PORT_DESC = 13;
export const OFPST_VENDOR = 0xffff;
/** ofp_stats_msg.flags: OFPSF_REQ_MORE / OFPSF_REPLY_MORE. */
export const OFPSF_MORE = 1;

/** Vendor ids OVS decodes: NX_VENDOR_ID (Nicira), ONF_VENDOR_ID. */
export const NX_VENDOR_ID = 0x00002320;
export const ONF_VENDOR_ID = 0x4f4e4600;

/** Hello element types: OFPHET_VERSIONBITMAP. */
export const OFPHET_VERSIONBITMAP = 1;

/** Special port numbers (16-bit ofp_port_t, OpenFlow 1.0 numbering). */
export const OFPP_MAX = 0xff00;
export const OFPP_UNSET = 0xfff7;
export const OFPP_IN_PORT = 0xfff8;
export const OFPP_TABLE = 0xfff9;
export const OFPP_NORMAL = 0xfffa;
export const OFPP_FLOOD = 0xfffb;
export const OFPP_ALL = 0xfffc;
export const OFPP_CONTROLLER = 0xfffd;
export const OFPP_LOCAL = 0xfffe;
export const OFPP_NONE = 0xffff;
/** OFPP_ANY is OFPP_NONE under another name. */
export const OFPP_ANY = OFPP_NONE;
/** OpenFlow 1.1+ 32-bit port numbers: OFPP11_MAX and the offset of the reserved ports. */
export const OFPP11_MAX = 0xffffff00;
export const OFPP11_OFFSET = 0xffff0000;

/** Names ofputil_format_port() prints for the reserved ports. */
export const OFPP_NAMES: Readonly<Record<number, string>> = {
  [OFPP_UNSET]: 'UNSET',
  [OFPP_IN_PORT]: 'IN_PORT',
  [OFPP_TABLE]: 'TABLE',
  [OFPP_NORMAL]: 'NORMAL',
  [OFPP_FLOOD]: 'FLOOD',
  [OFPP_ALL]: 'ALL',
  [OFPP_CONTROLLER]: 'CONTROLLER',
  [OFPP_LOCAL]: 'LOCAL',
  [OFPP_NONE]: 'ANY',
};

/** Port config bits (enum ofputil_port_config = OFPPC_* / OFPPC10_*). */
export const OFPPC = {
  PORT_DOWN: 1 << 0,
  NO_STP: 1 << 1, // OpenFlow 1.0 only
  NO_RECV: 1 << 2,
  NO_RECV_STP: 1 << 3, // OpenFlow 1.0 only
  NO_FLOOD: 1 << 4, // OpenFlow 1.0 only
  NO_FWD: 1 << 5,
  NO_PACKET_IN: 1 << 6,
} as const;
export const OFPPC10_ALL = 0x7f;
export const OFPPC11_ALL = OFPPC.PORT_DOWN | OFPPC.NO_RECV | OFPPC.NO_FWD | OFPPC.NO_PACKET_IN;

/** Port state bits (enum ofputil_port_state = OFPPS_* / OFPPS10_STP_* / OFPPS11_*). */
export const OFPPS = {
  LINK_DOWN: 1 << 0,
  BLOCKED: 1 << 1, // OpenFlow 1.1+
  LIVE: 1 << 2, // OpenFlow 1.1+
  STP_LISTEN: 0 << 8, // OpenFlow 1.0 only, like the three below
  STP_LEARN: 1 << 8,
  STP_FORWARD: 2 << 8,
  STP_BLOCK: 3 << 8,
  STP_MASK: 3 << 8,
} as const;
export const OFPPS10_ALL = OFPPS.LINK_DOWN | OFPPS.STP_MASK;
export const OFPPS11_ALL = OFPPS.LINK_DOWN | OFPPS.BLOCKED | OFPPS.LIVE;

/**
 * Port features (enum netdev_features, which is OpenFlow 1.1's OFPPF_* layout):
 * what netdev_get_features() reports and what the abstract port description
 * holds. OpenFlow 1.0 puts COPPER...PAUSE_ASYM four bits lower on the wire and
 * has no 40GB/100GB/1TB/OTHER.
 */
export const NETDEV_F = {
  '10MB_HD': 1 << 0,
  '10MB_FD': 1 << 1,
  '100MB_HD': 1 << 2,
  '100MB_FD': 1 << 3,
  '1GB_HD': 1 << 4,
  '1GB_FD': 1 << 5,
  '10GB_FD': 1 << 6,
  '40GB_FD': 1 << 7,
  '100GB_FD': 1 << 8,
  '1TB_FD': 1 << 9,
  OTHER: 1 << 10,
  COPPER: 1 << 11,
  FIBER: 1 << 12,
  AUTONEG: 1 << 13,
  PAUSE: 1 << 14,
  PAUSE_ASYM: 1 << 15,
} as const;

/** Switch capabilities (enum ofputil_capabilities; the OFPC_* bits that are the same in every version). */
export const OFPC = {
  FLOW_STATS: 1 << 0,
  TABLE_STATS: 1 << 1,
  PORT_STATS: 1 << 2,
  STP: 1 << 3, // OFPC10_STP; OpenFlow 1.1+ calls bit 3 OFPC11_GROUP_STATS
  GROUP_STATS: 1 << 3,
  IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6,
  ARP_MATCH_IP: 1 << 7, // OpenFlow 1.0 and 1.1
  PORT_BLOCKED: 1 << 8, // OpenFlow 1.2+
  BUNDLES: 1 << 9, // OpenFlow 1.4+
  FLOW_MONITORING: 1 << 10, // OpenFlow 1.4+
} as const;

/** ofp_switch_config.flags: fragment handling (OFPC_FRAG_*) and OFPC_INVALID_TTL_TO_CONTROLLER (< 1.3). */
export const OFPC_FRAG_NORMAL = 0;
export const OFPC_FRAG_DROP = 1;
export const OFPC_FRAG_REASM = 2;
export const OFPC_FRAG_NX_MATCH = 3;
export const OFPC_FRAG_MASK = 3;
export const OFPC_INVALID_TTL_TO_CONTROLLER = 1 << 2;

/** OFP_DEFAULT_MISS_SEND_LEN: what a primary controller connection starts with (service connections: 0). */
export const OFP_DEFAULT_MISS_SEND_LEN = 128;

/** The OpenFlow 1.0 action types (ofp10_action_type), the bits of ofp_switch_features.actions. */
export const OFPAT10 = {
  OUTPUT: 0,
  SET_VLAN_VID: 1,
  SET_VLAN_PCP: 2,
  STRIP_VLAN: 3,
  SET_DL_SRC: 4,
  SET_DL_DST: 5,
  SET_NW_SRC: 6,
  SET_NW_DST: 7,
  SET_NW_TOS: 8,
  SET_TP_SRC: 9,
  SET_TP_DST: 10,
  ENQUEUE: 11,
} as const;

/** Error types (OFPET_*) and the vendor escapes (NXET_VENDOR in 1.0-1.1, OFPET12_EXPERIMENTER in 1.2+). */
export const OFPET_HELLO_FAILED = 0;
export const OFPET_BAD_REQUEST = 1;
export const OFPET_BAD_ACTION = 2;
export const OFPET11_SWITCH_CONFIG_FAILED = 10;
export const NXET_VENDOR = 0xb0c2;
export const NXVC_VENDOR_ERROR = 0;
export const OFPET12_EXPERIMENTER = 0xffff;

/** Versions as ofputil_format_version() writes them ("0x01"). */
export function formatVersion(version: number): string {
  return `0x${version.toString(16).padStart(2, '0')}`;
}

/** OpenFlow names of the versions, as -O takes them (ofputil_version_to_string). */
export const OFP_VERSION_NAMES: Readonly<Record<number, string>> = {
  [OFP10_VERSION]: 'OpenFlow10',
  [OFP11_VERSION]: 'OpenFlow11',
  [OFP12_VERSION]: 'OpenFlow12',
  [OFP13_VERSION]: 'OpenFlow13',
  [OFP14_VERSION]: 'OpenFlow14',
  [OFP15_VERSION]: 'OpenFlow15',
};

/** The index of the highest set bit (leftmost_1bit_idx); -1 for 0. */
export function leftmost1BitIdx(x: number): number {
  return x === 0 ? -1 : 31 - Math.clz32(x);
}
