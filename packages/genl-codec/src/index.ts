/**
 * @ovs/genl-codec: the netlink wire for the Open vSwitch port-management stack.
 * Bytes <-> typed messages for netlink, generic netlink (nlctrl, the OVS
 * families, ethtool's features), rtnetlink links, addresses and routes;
 * kernel-style attribute policies; Linux errnos.
 */
export * from './errno.js';
export * from './errors.js';
export * from './netlink.js';
export { ATTR_ORDER, forEachAttr } from './attr-order.js';
export { AttrSet, attr, attrTypes } from './attr-set.js';
export { be16, be32, binary, flag, nested, nestedArray, prefixed, s16, s32, s64, s8, string, u16, u32, u32Array, u32Enum, u64, u8, u8Enum } from './codecs.js';
export { fromHex, hex } from './hex.js';
export { StructCodec, struct } from './struct.js';
export { Writer } from './writer.js';
export type { JsonValue } from './attr-json.js';
export type { AttrDef, AttrTypes, AttrValues, AttrsOf, RawAttr } from './attr-set.js';
export type { ValueCodec } from './codecs.js';
export type { NlaType, Policy } from './nlattr.js';
export type { FieldType, StructValue } from './struct.js';
export * from './policy.js';
export * from './nlattr.js';
export * from './genl.js';
export * from './ovs.js';
export * from './ethtool.js';
export * from './rtnetlink.js';
export * from './rtnetlink-route.js';
export * from './message.js';
export { messageFromJson, messageToJson, protocolName } from './json.js';
export { formatAttrs, formatMessage } from './format.js';
export { LINKTYPE_NETLINK, isCapture, readCapture } from './pcap.js';
export type { NetlinkPacket } from './pcap.js';
export { recvOrPark } from './socket.js';
export type { KernelTraceEvent, NetlinkSocket, NetlinkSocketOptions, RecvWaiter } from './socket.js';
