/**
 * @ovs/genl-codec: the netlink wire for the Open vSwitch port-management stack.
 * Bytes <-> typed messages for netlink, generic netlink (nlctrl, the OVS
 * families, ethtool), rtnetlink links, addresses, routes and qdiscs;
 * attribute sets and the kernel's way of parsing them; Linux errnos.
 *
 * Every public name is listed here; modules keep their helpers to themselves.
 */

// Messages: bytes <-> typed messages, families
export { decode, decodeOne, encode, encodeAll, isFamily, newFamilyTable, nlPolicyTypeAttrs } from './message.js';
export type { DecodeOptions, DecodeResult, DoneMessage, ErrorMessage, ExtAck, GenlMessage, Message, RawMessage } from './message.js';
export { messageFromJson, messageToJson } from './json.js';
export { formatAttrs, formatMessage } from './format.js';
export { isCapture, readCapture } from './pcap.js';
export type { NetlinkPacket } from './pcap.js';

// The netlink header (include/uapi/linux/netlink.h)
export {
  align4,
  GENL_HDRLEN,
  NetlinkProtocol,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  NLM_F,
  NLMSG,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR,
} from './netlink.js';
export type { NlmsgHeader } from './netlink.js';

// Errors and errnos
export { Errno, errnoName, errnoNumber, strerror } from './errno.js';
export type { ErrnoName } from './errno.js';
export { NetlinkDecodeError, NetlinkEncodeError, NetlinkErrnoError } from './errors.js';

// The socket interface every transport implements
export { recvOrPark } from './socket.js';
export type { KernelTraceEvent, NetlinkSocket, NetlinkSocketOptions, RecvWaiter } from './socket.js';

// Declaring attribute sets and their value codecs
export { attr, AttrSet, attrTypes } from './attr-set.js';
export type { AttrDef, AttrsOf, AttrTypes, AttrValues, RawAttr } from './attr-set.js';
export { ATTR_ORDER } from './attr-order.js';
export {
  be16,
  be32,
  binary,
  DecodeContext,
  flag,
  nested,
  nestedArray,
  prefixed,
  s16,
  s32,
  s64,
  s8,
  string,
  u16,
  u32,
  u32Array,
  u32Enum,
  u64,
  u8,
  u8Enum,
} from './codecs.js';
export type { ValueCodec } from './codecs.js';
export { struct, StructCodec } from './struct.js';
export type { FieldType, StructValue } from './struct.js';
export { Writer } from './writer.js';
export type { JsonValue } from './attr-json.js';
export { fromHex, hex } from './hex.js';

// Attributes read the kernel's way (lib/nlattr.c, include/net/netlink.h, net/netlink/policy.c)
export {
  NL_VALIDATE,
  nlaData,
  nlaFindNested,
  nlaForEachNested,
  nlaGetBe16,
  nlaGetBe32,
  nlaGetFlag,
  nlaGetInAddr,
  nlaGetS32,
  nlaGetStruct,
  nlaGetU32Array,
  nlaGetU16,
  nlaGetU32,
  nlaGetU64,
  nlaGetU8,
  nlaLen,
  nlaMemcpy,
  nlaParse,
  nlaParseNested,
  nlaStrscpy,
  nlaType,
  validate,
} from './nlattr.js';
export type { AttrTable, NlaType, ParsedAttr, Policy, ValidationFailure } from './nlattr.js';
export { NL_ATTR_TYPE, NL_POLICY_TYPE_ATTR, policyDump } from './policy.js';
export type { PolicyDumpAttr } from './policy.js';

// Families and their uapi: generic netlink, Open vSwitch, ethtool, rtnetlink
export {
  CTRL_ATTR,
  CTRL_ATTR_MCAST_GRP,
  CTRL_ATTR_OP,
  CTRL_CMD,
  ctrlAttrs,
  ctrlFamily,
  ctrlMcastGrpAttrs,
  ctrlOpAttrs,
  FamilyTable,
  GENL_FLAGS,
  GENL_ID_CTRL,
  GENL_NAMSIZ,
} from './genl.js';
export type { CtrlAttrs, GenlFamilyDef } from './genl.js';
export {
  DP_MASKS_CACHE_MAX,
  DP_MAX_PORTS,
  IFNAMSIZ,
  OVS_BAND_ATTR,
  OVS_CT_LIMIT_ATTR,
  OVS_CT_LIMIT_CMD,
  OVS_CT_LIMIT_FAMILY,
  OVS_CT_LIMIT_MCGROUP,
  OVS_CT_LIMIT_VERSION,
  OVS_DATAPATH_FAMILY,
  OVS_DATAPATH_MCGROUP,
  OVS_DATAPATH_VERSION,
  OVS_DP_ATTR,
  OVS_DP_CMD,
  OVS_DP_F,
  OVS_FLOW_ATTR,
  OVS_FLOW_CMD,
  OVS_FLOW_FAMILY,
  OVS_FLOW_MCGROUP,
  OVS_FLOW_VERSION,
  OVS_METER_ATTR,
  OVS_METER_BAND_TYPE,
  OVS_METER_CMD,
  OVS_METER_FAMILY,
  OVS_METER_MCGROUP,
  OVS_METER_VERSION,
  OVS_PACKET_ATTR,
  OVS_PACKET_CMD,
  OVS_PACKET_FAMILY,
  OVS_PACKET_VERSION,
  OVS_TUNNEL_ATTR,
  OVS_VPORT_ATTR,
  OVS_VPORT_CMD,
  OVS_VPORT_FAMILY,
  OVS_VPORT_MCGROUP,
  OVS_VPORT_TYPE,
  OVS_VPORT_UPCALL_ATTR,
  OVS_VPORT_VERSION,
  OVS_VXLAN_EXT,
  ovsActionAttrs,
  ovsBandAttrs,
  ovsCtLimitAttrs,
  ovsCtLimitFamily,
  ovsDatapathAttrs,
  ovsDatapathFamily,
  ovsFlowAttrs,
  ovsFlowFamily,
  ovsHeader,
  ovsKeyAttrs,
  ovsMeterAttrs,
  ovsMeterFamily,
  OVSP_LOCAL,
  ovsPacketAttrs,
  ovsPacketFamily,
  ovsTunnelAttrs,
  ovsTunnelKeyAttrs,
  ovsVportAttrs,
  ovsVportFamily,
  ovsVportUpcallAttrs,
  ovsVxlanExtAttrs,
} from './ovs.js';
export type { OvsDatapathAttrs, OvsHeader, OvsTunnelAttrs, OvsVportAttrs, OvsVportStats, OvsVportType } from './ovs.js';
export {
  ALTIFNAMSIZ,
  AUTONEG,
  decodeEthtoolLinkmodes,
  DUPLEX,
  ETHNL_MAX_BITSET_SIZE,
  ETHTOOL_A_BITSET,
  ETHTOOL_A_BITSET_BIT,
  ETHTOOL_A_BITSET_BITS,
  ETHTOOL_A_FEATURES,
  ETHTOOL_A_HEADER,
  ETHTOOL_A_LINKMODES,
  ETHTOOL_FLAG,
  ETHTOOL_GENL_NAME,
  ETHTOOL_GENL_VERSION,
  ETHTOOL_LINK_MODE_MASK_NBITS,
  ETHTOOL_MCGRP_MONITOR_NAME,
  ETHTOOL_MSG,
  ETHTOOL_MSG_KERNEL,
  ethtoolBitsetAttrs,
  ethtoolBitsetBitAttrs,
  ethtoolFamily,
  ethtoolFeaturesAttrs,
  ethtoolHeaderAttrs,
  ethtoolLinkmodesAttrs,
  ethtoolLinkmodesPayload,
  NETDEV_FEATURE_COUNT,
  NETDEV_FEATURE_NAMES,
  NETIF_F_BIT,
  SPEED_UNKNOWN,
} from './ethtool.js';
export type { EthtoolBitset, EthtoolBitsetBit, EthtoolFeaturesAttrs, EthtoolHeaderAttrs, EthtoolLinkmodesAttrs } from './ethtool.js';
export {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  ARPHRD_NONE,
  IF_LINK_MODE,
  IF_OPER,
  IFF,
  ifinfomsg,
  IFLA,
  IFLA_EVENT,
  IFLA_GENEVE,
  IFLA_GRE,
  IFLA_INFO,
  IFLA_PROTO_DOWN_REASON,
  IFLA_VXLAN,
  IFLA_XDP,
  iflaAttrs,
  iflaGeneveAttrs,
  iflaGreAttrs,
  iflaInfoAttrs,
  iflaProtoDownReasonAttrs,
  iflaVxlanAttrs,
  iflaVxlanPortRange,
  iflaXdpAttrs,
  RTM,
  RTMGRP_LINK,
  RTNLGRP,
  RTNLGRP_LINK,
  TC_H,
  TCA,
  tcaAttrs,
  tcmsg,
  TUNNEL_DF,
  VETH_INFO,
  vethInfoAttrs,
  XDP_ATTACHED,
} from './rtnetlink.js';
export type {
  IfInfoMsg,
  IflaAttrs,
  IflaGeneveAttrs,
  IflaGreAttrs,
  IflaInfoAttrs,
  IflaVxlanAttrs,
  InfoData,
  RtnlAddrMessage,
  RtnlLinkMessage,
  RtnlMessage,
  RtnlQdiscMessage,
  RtnlRouteMessage,
  TcaAttrs,
  TcMsg,
  VethInfoAttrs,
  VethPeer,
} from './rtnetlink.js';
export {
  formatInetAddr,
  IFA,
  IFA_F,
  ifaAttrs,
  ifaCacheinfo,
  ifaddrmsg,
  IFAPROT,
  INFINITY_LIFE_TIME,
  parseInetAddr,
  RT_SCOPE,
  RT_TABLE,
  RTA,
  rtaAttrs,
  rtaCacheinfo,
  RTM_F,
  rtmsg,
  RTN,
  RTN_MAX,
  RTNH_F,
  RTPROT,
} from './rtnetlink-route.js';
export type { IfaAttrs, IfaCacheinfo, IfAddrMsg, RtaAttrs, RtaCacheinfo, RtMsg } from './rtnetlink-route.js';
