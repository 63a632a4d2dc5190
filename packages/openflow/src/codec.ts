/**
 * OpenFlow messages: bytes <-> typed values, for the messages a bridge's
 * management connection needs (hello with version bitmaps, error, echo,
 * features, switch config, barrier, port descriptions) in OpenFlow 1.0 to
 * 1.5, as lib/ofp-msgs.c and the ofp-*.c encoders of Open vSwitch 3.1 lay
 * them out.
 *
 * The typed values are the wire's: port numbers, config/state/feature bits
 * as that version carries them (see port.ts for the abstract
 * ofputil_phy_port view). `decodeMessage` never throws: it classifies bad
 * input as OVS's decoder would (OFPBRC_BAD_LEN, OFPBRC_BAD_TYPE,
 * OFPBRC_BAD_STAT, OFPBRC_BAD_VENDOR, OFPBRC_BAD_SUBTYPE), which is also the
 * error a switch answers with.
 */
import {
  NX_VENDOR_ID,
  OFP10_VERSION,
  OFP13_VERSION,
  OFP14_VERSION,
  OFP15_VERSION,
  OFP_HEADER_LEN,
  OFP_MAX_MSG_LEN,
  OFPST_PORT_DESC,
  OFPST_VENDOR,
  OFPT10,
  OFPT11,
  ONF_VENDOR_ID,
} from './constants.js';
import { OfpDecodeError, OfpEncodeError } from './errors.js';

/** struct ofp_header. */
export interface OfpHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}

interface Base {
  version: number;
  /** Transaction id (unsigned 32-bit). */
  xid: number;
}

/** struct ofp_hello_elem_header plus its data (without the padding to 8 bytes). */
export interface OfpHelloElement {
  type: number;
  data: Uint8Array;
}

export interface OfpHello extends Base {
  type: 'HELLO';
  elements: OfpHelloElement[];
  /** Bytes after the last well-formed element (OVS ignores them, warning "unknown data in hello"). */
  trailing?: Uint8Array;
}

export interface OfpError extends Base {
  type: 'ERROR';
  /** ofp_error_msg.type (OFPET_*, NXET_VENDOR, OFPET12_EXPERIMENTER). */
  errType: number;
  code: number;
  /** The rest: for most errors the offending request (OVS echoes all of it). */
  data: Uint8Array;
}

export interface OfpEcho extends Base {
  type: 'ECHO_REQUEST' | 'ECHO_REPLY';
  data: Uint8Array;
}

export interface OfpEmpty extends Base {
  type: 'FEATURES_REQUEST' | 'GET_CONFIG_REQUEST' | 'BARRIER_REQUEST' | 'BARRIER_REPLY';
}

/**
 * A port as one version of OpenFlow carries it: ofp10_phy_port (48 bytes),
 * ofp11_port (64 bytes, 1.1-1.3) or ofp14_port with its ethernet property
 * (72 bytes, 1.4+).
 */
export interface OfpPhyPort {
  /** 16 bits in 1.0 (OFPP_LOCAL = 0xfffe), 32 bits from 1.1 (OFPP_LOCAL = 0xfffffffe). */
  portNo: number;
  hwAddr: Uint8Array;
  /** Up to 15 bytes on the wire (NUL-terminated in 16). */
  name: string;
  config: number;
  state: number;
  /** Feature bitmaps in this version's OFPPF_* layout. */
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  /** kbps; on the wire from 1.1 (0 in 1.0). */
  currSpeed: number;
  maxSpeed: number;
}

/** struct ofp_switch_features (+ ports in 1.0-1.2). */
export interface OfpFeaturesReply extends Base {
  type: 'FEATURES_REPLY';
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  /** 1.3+ (a pad byte before). */
  auxiliaryId: number;
  capabilities: number;
  /** OpenFlow 1.0: bitmap of OFPAT10_* actions; 1.1+: reserved. */
  actions: number;
  /** 1.0-1.2 only: 1.3+ moved ports to OFPMP_PORT_DESC. */
  ports: OfpPhyPort[];
}

/** struct ofp_switch_config. */
export interface OfpSwitchConfig extends Base {
  type: 'GET_CONFIG_REPLY' | 'SET_CONFIG';
  flags: number;
  missSendLen: number;
}

/** OFPST_PORT_DESC request (OFPMP_PORT_DESC). */
export interface OfpPortDescRequest extends Base {
  type: 'PORT_DESC_REQUEST';
  /** ofp_stats_msg.flags (OFPSF_REQ_MORE). */
  flags: number;
  /** OpenFlow 1.5's ofp15_port_desc_request.port_no (32-bit; OFPP_ANY = 0xffffffff); absent before. */
  portNo?: number;
}

export interface OfpPortDescReply extends Base {
  type: 'PORT_DESC_REPLY';
  /** OFPSF_REPLY_MORE when more replies follow. */
  flags: number;
  ports: OfpPhyPort[];
}

export type OfpMessage = OfpHello | OfpError | OfpEcho | OfpEmpty | OfpFeaturesReply | OfpSwitchConfig | OfpPortDescRequest | OfpPortDescReply;

export type OfpMessageType = OfpMessage['type'];

export type DecodeResult = { ok: true; message: OfpMessage } | { ok: false; error: OfpDecodeError; header?: OfpHeader };

/** Sizes of the structures. */
export const OFP_SWITCH_FEATURES_LEN = 24;
export const OFP10_PHY_PORT_LEN = 48;
export const OFP11_PORT_LEN = 64;
export const OFP14_PORT_LEN = 40;
export const OFP14_PORT_DESC_PROP_ETHERNET_LEN = 32;
export const OFP10_STATS_MSG_LEN = 12;
export const OFP11_STATS_MSG_LEN = 16;

/** Size of one port in `version`. */
export function phyPortLen(version: number): number {
  return version === OFP10_VERSION ? OFP10_PHY_PORT_LEN : version < OFP14_VERSION ? OFP11_PORT_LEN : OFP14_PORT_LEN + OFP14_PORT_DESC_PROP_ETHERNET_LEN;
}

/** Size of a stats (multipart) header in `version`. */
export function statsHeaderLen(version: number): number {
  return version === OFP10_VERSION ? OFP10_STATS_MSG_LEN : OFP11_STATS_MSG_LEN;
}

const isKnownVersion = (v: number): boolean => v >= OFP10_VERSION && v <= OFP15_VERSION;

/** The ofp_header at the start of `bytes`, if there are 8 bytes. */
export function decodeHeader(bytes: Uint8Array): OfpHeader | undefined {
  if (bytes.length < OFP_HEADER_LEN) return undefined;
  const dv = view(bytes);
  return { version: bytes[0]!, type: bytes[1]!, length: dv.getUint16(2), xid: dv.getUint32(4) };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The stats type of a stats/multipart message (after the header), if it is one in its version. */
function isStatsType(version: number, type: number): 'request' | 'reply' | undefined {
  if (version === OFP10_VERSION) return type === OFPT10.STATS_REQUEST ? 'request' : type === OFPT10.STATS_REPLY ? 'reply' : undefined;
  return type === OFPT11.STATS_REQUEST ? 'request' : type === OFPT11.STATS_REPLY ? 'reply' : undefined;
}

/** ofpmsg_is_stat_request(). */
export function isStatsRequest(header: Pick<OfpHeader, 'version' | 'type'>): boolean {
  return isStatsType(header.version, header.type) === 'request';
}

const fail = (ofperr: OfpDecodeError['ofperr'], reason: string, offset: number): never => {
  throw new OfpDecodeError(ofperr, reason, offset);
};

/** Exact, at-least or multiple-of length checks (ofpraw_check_length). */
function checkLength(name: string, len: number, min: number, multiple: 0 | 1 | number): void {
  if (multiple === 0 ? len !== min : len < min || (multiple > 1 && (len - min) % multiple !== 0)) {
    const expected =
      multiple === 0
        ? `expected length ${min}`
        : multiple === 1
          ? `expected length at least ${min} bytes`
          : `must be exactly ${min} bytes or longer by an integer multiple of ${multiple} bytes`;
    fail('OFPBRC_BAD_LEN', `received ${name} with incorrect length ${len} (${expected})`, 0);
  }
}

/**
 * Decodes one message: `bytes` must hold exactly the message (ofp_header.length
 * bytes). Never throws; a failure carries the OFPERR_* OVS would answer.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  const header = decodeHeader(bytes);
  try {
    if (!header) return fail('OFPBRC_BAD_LEN', `message too short for ofp_header (${bytes.length} bytes)`, 0);
    if (header.length !== bytes.length) {
      return fail('OFPBRC_BAD_LEN', `ofp_header.length ${header.length} but ${bytes.length} bytes`, 2);
    }
    return { ok: true, message: decodeChecked(bytes, header) };
  } catch (err) {
    const error = err instanceof OfpDecodeError ? err : new OfpDecodeError('OFPBRC_BAD_LEN', `malformed message (${String(err)})`, 0);
    return header ? { ok: false, error, header } : { ok: false, error };
  }
}

/** decodeMessage() for callers that prefer exceptions: throws only OfpDecodeError. */
export function decodeMessageOrThrow(bytes: Uint8Array): OfpMessage {
  const r = decodeMessage(bytes);
  if (!r.ok) throw r.error;
  return r.message;
}

function decodeChecked(b: Uint8Array, h: OfpHeader): OfpMessage {
  const { version, type, length: len, xid } = h;
  const dv = view(b);
  // Immutable messages: every version 0x01...0xff ("<all>").
  if (version !== 0 && type <= OFPT10.ECHO_REPLY) {
    switch (type) {
      case OFPT10.HELLO:
        return decodeHello(b, version, xid);
      case OFPT10.ERROR:
        checkLength('OFPT_ERROR', len, 12, 1);
        return { type: 'ERROR', version, xid, errType: dv.getUint16(8), code: dv.getUint16(10), data: b.slice(12) };
      default:
        return { type: type === OFPT10.ECHO_REQUEST ? 'ECHO_REQUEST' : 'ECHO_REPLY', version, xid, data: b.slice(8) };
    }
  }
  // ofphdrs_decode(): vendor and stats sub-headers.
  if (type === OFPT10.VENDOR) {
    if (len < 16) fail('OFPBRC_BAD_LEN', 'vendor message shorter than ofp_vendor_header', 0);
    const vendor = dv.getUint32(8);
    if (vendor === NX_VENDOR_ID || vendor === ONF_VENDOR_ID) {
      fail('OFPBRC_BAD_SUBTYPE', `unsupported vendor message (vendor 0x${vendor.toString(16)}, subtype ${dv.getUint32(12)})`, 12);
    }
    fail('OFPBRC_BAD_VENDOR', `OpenFlow message has unknown vendor 0x${vendor.toString(16)}`, 8);
  }
  const stats = isStatsType(version, type);
  if (stats) {
    const hdrLen = version === OFP10_VERSION ? OFP10_STATS_MSG_LEN : OFP11_STATS_MSG_LEN;
    if (len < hdrLen) fail('OFPBRC_BAD_LEN', 'stats message shorter than its stats header', 0);
    const stat = dv.getUint16(8);
    const flags = dv.getUint16(10);
    if (stat === OFPST_VENDOR) {
      const vendorOfs = hdrLen;
      // ofp10_vendor_stats_msg is 16 bytes, ofp11_vendor_stats_msg (with its subtype) 24.
      if (len < (version === OFP10_VERSION ? 16 : 24)) fail('OFPBRC_BAD_LEN', 'vendor stats message too short', 0);
      const vendor = dv.getUint32(vendorOfs);
      const known = vendor === NX_VENDOR_ID || (version !== OFP10_VERSION && vendor === ONF_VENDOR_ID);
      if (!known) fail('OFPBRC_BAD_VENDOR', `OpenFlow message has unknown vendor 0x${vendor.toString(16)}`, vendorOfs);
      // nicira10_stats_msg is 24 bytes.
      if (len < 24) fail('OFPBRC_BAD_LEN', 'vendor stats message too short', 0);
      fail('OFPBRC_BAD_SUBTYPE', `unsupported vendor stats (vendor 0x${vendor.toString(16)}, subtype ${dv.getUint32(vendorOfs + 4)})`, vendorOfs + 4);
    }
    if (!isKnownVersion(version) || stat !== OFPST_PORT_DESC) {
      fail('OFPBRC_BAD_STAT', `unsupported OpenFlow message (version ${version}, type ${type}, stat ${stat})`, 8);
    }
    return stats === 'request' ? decodePortDescRequest(b, dv, version, xid, flags) : decodePortDescReply(b, dv, version, xid, flags);
  }
  if (!isKnownVersion(version)) fail('OFPBRC_BAD_TYPE', `unsupported OpenFlow message (version ${version}, type ${type})`, 1);
  const v10 = version === OFP10_VERSION;
  switch (type) {
    case OFPT10.FEATURES_REQUEST:
      checkLength('OFPT_FEATURES_REQUEST', len, 8, 0);
      return { type: 'FEATURES_REQUEST', version, xid };
    case OFPT10.FEATURES_REPLY:
      return decodeFeaturesReply(b, dv, version, xid);
    case OFPT10.GET_CONFIG_REQUEST:
      checkLength('OFPT_GET_CONFIG_REQUEST', len, 8, 0);
      return { type: 'GET_CONFIG_REQUEST', version, xid };
    case OFPT10.GET_CONFIG_REPLY:
    case OFPT10.SET_CONFIG: {
      const name = type === OFPT10.SET_CONFIG ? 'SET_CONFIG' : 'GET_CONFIG_REPLY';
      checkLength(`OFPT_${name}`, len, 12, 0);
      return { type: name, version, xid, flags: dv.getUint16(8), missSendLen: dv.getUint16(10) };
    }
    default:
      break;
  }
  if (type === (v10 ? OFPT10.BARRIER_REQUEST : OFPT11.BARRIER_REQUEST)) {
    checkLength('OFPT_BARRIER_REQUEST', len, 8, 0);
    return { type: 'BARRIER_REQUEST', version, xid };
  }
  if (type === (v10 ? OFPT10.BARRIER_REPLY : OFPT11.BARRIER_REPLY)) {
    checkLength('OFPT_BARRIER_REPLY', len, 8, 0);
    return { type: 'BARRIER_REPLY', version, xid };
  }
  return fail('OFPBRC_BAD_TYPE', `unsupported OpenFlow message (version ${version}, type ${type})`, 1);
}

function decodeHello(b: Uint8Array, version: number, xid: number): OfpHello {
  const dv = view(b);
  const elements: OfpHelloElement[] = [];
  let ofs = OFP_HEADER_LEN;
  while (ofs < b.length) {
    const left = b.length - ofs;
    if (left < 4) break;
    const elen = dv.getUint16(ofs + 2);
    const padded = (elen + 7) & ~7;
    if (elen < 4 || padded > left) break;
    elements.push({ type: dv.getUint16(ofs), data: b.slice(ofs + 4, ofs + elen) });
    ofs += padded;
  }
  const hello: OfpHello = { type: 'HELLO', version, xid, elements };
  if (ofs < b.length) hello.trailing = b.slice(ofs);
  return hello;
}

function decodeFeaturesReply(b: Uint8Array, dv: DataView, version: number, xid: number): OfpFeaturesReply {
  const len = b.length;
  const min = OFP_HEADER_LEN + OFP_SWITCH_FEATURES_LEN;
  if (version >= OFP13_VERSION) checkLength('OFPT_FEATURES_REPLY', len, min, 0);
  else checkLength('OFPT_FEATURES_REPLY', len, min, version === OFP10_VERSION ? OFP10_PHY_PORT_LEN : OFP11_PORT_LEN);
  const ports: OfpPhyPort[] = [];
  for (let ofs = min; ofs < len; ) ofs = pullPhyPort(b, dv, version, ofs, ports);
  return {
    type: 'FEATURES_REPLY',
    version,
    xid,
    datapathId: dv.getBigUint64(8),
    nBuffers: dv.getUint32(16),
    nTables: b[20]!,
    auxiliaryId: version >= OFP13_VERSION ? b[21]! : 0,
    capabilities: dv.getUint32(24),
    actions: dv.getUint32(28),
    ports,
  };
}

function decodePortDescRequest(b: Uint8Array, dv: DataView, version: number, xid: number, flags: number): OfpPortDescRequest {
  const hdr = statsHeaderLen(version);
  if (version >= OFP15_VERSION) {
    checkLength('OFPST_PORT_DESC request', b.length, hdr + 8, 0);
    return { type: 'PORT_DESC_REQUEST', version, xid, flags, portNo: dv.getUint32(hdr) };
  }
  checkLength('OFPST_PORT_DESC request', b.length, hdr, 0);
  return { type: 'PORT_DESC_REQUEST', version, xid, flags };
}

function decodePortDescReply(b: Uint8Array, dv: DataView, version: number, xid: number, flags: number): OfpPortDescReply {
  const hdr = statsHeaderLen(version);
  const multiple = version === OFP10_VERSION ? OFP10_PHY_PORT_LEN : version < OFP14_VERSION ? OFP11_PORT_LEN : 8;
  checkLength('OFPST_PORT_DESC reply', b.length, hdr, multiple);
  const ports: OfpPhyPort[] = [];
  for (let ofs = hdr; ofs < b.length; ) ofs = pullPhyPort(b, dv, version, ofs, ports);
  return { type: 'PORT_DESC_REPLY', version, xid, flags, ports };
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** A NUL-terminated name in a 16-byte array, as ovs_strlcpy_arrays() reads it (at most 15 bytes). */
function readName(b: Uint8Array, ofs: number): string {
  let end = ofs;
  while (end < ofs + 15 && b[end] !== 0) end++;
  let s = '';
  for (let i = ofs; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x80) return utf8.decode(b.subarray(ofs, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** Reads the port at `ofs` into `out`; returns the offset after it. */
function pullPhyPort(b: Uint8Array, dv: DataView, version: number, ofs: number, out: OfpPhyPort[]): number {
  if (version === OFP10_VERSION) {
    out.push({
      portNo: dv.getUint16(ofs),
      hwAddr: b.slice(ofs + 2, ofs + 8),
      name: readName(b, ofs + 8),
      config: dv.getUint32(ofs + 24),
      state: dv.getUint32(ofs + 28),
      curr: dv.getUint32(ofs + 32),
      advertised: dv.getUint32(ofs + 36),
      supported: dv.getUint32(ofs + 40),
      peer: dv.getUint32(ofs + 44),
      currSpeed: 0,
      maxSpeed: 0,
    });
    return ofs + OFP10_PHY_PORT_LEN;
  }
  if (version < OFP14_VERSION) {
    out.push({
      portNo: dv.getUint32(ofs),
      hwAddr: b.slice(ofs + 8, ofs + 14),
      name: readName(b, ofs + 16),
      config: dv.getUint32(ofs + 32),
      state: dv.getUint32(ofs + 36),
      curr: dv.getUint32(ofs + 40),
      advertised: dv.getUint32(ofs + 44),
      supported: dv.getUint32(ofs + 48),
      peer: dv.getUint32(ofs + 52),
      currSpeed: dv.getUint32(ofs + 56),
      maxSpeed: dv.getUint32(ofs + 60),
    });
    return ofs + OFP11_PORT_LEN;
  }
  // struct ofp14_port + properties (ofputil_pull_ofp14_port).
  const left = b.length - ofs;
  if (left < OFP14_PORT_LEN) fail('OFPBRC_BAD_LEN', 'truncated ofp14_port', ofs);
  const plen = dv.getUint16(ofs + 4);
  if (plen < OFP14_PORT_LEN || plen > left) fail('OFPBRC_BAD_LEN', `ofp14_port length ${plen}`, ofs + 4);
  const port: OfpPhyPort = {
    portNo: dv.getUint32(ofs),
    hwAddr: b.slice(ofs + 8, ofs + 14),
    name: readName(b, ofs + 16),
    config: dv.getUint32(ofs + 32),
    state: dv.getUint32(ofs + 36),
    curr: 0,
    advertised: 0,
    supported: 0,
    peer: 0,
    currSpeed: 0,
    maxSpeed: 0,
  };
  const end = ofs + plen;
  for (let p = ofs + OFP14_PORT_LEN; p < end; ) {
    if (end - p < 4) fail('OFPBRC_BAD_LEN', 'truncated port property', p);
    const ptype = dv.getUint16(p);
    const len = dv.getUint16(p + 2);
    const padded = (len + 7) & ~7;
    if (len < 4 || padded > end - p) fail('OFPBRC_BAD_LEN', `port property length ${len}`, p + 2);
    if (ptype === 0) {
      // OFPPDPT14_ETHERNET
      if (len !== OFP14_PORT_DESC_PROP_ETHERNET_LEN) fail('OFPBRC_BAD_LEN', `ethernet property length ${len}`, p + 2);
      port.curr = dv.getUint32(p + 8);
      port.advertised = dv.getUint32(p + 12);
      port.supported = dv.getUint32(p + 16);
      port.peer = dv.getUint32(p + 20);
      port.currSpeed = dv.getUint32(p + 24);
      port.maxSpeed = dv.getUint32(p + 28);
    }
    p += padded;
  }
  out.push(port);
  return end;
}

// ---------------------------------------------------------------- encoding

/** The wire type number of `msg` in its version. */
function wireType(msg: OfpMessage): number {
  const v10 = msg.version === OFP10_VERSION;
  switch (msg.type) {
    case 'HELLO':
      return OFPT10.HELLO;
    case 'ERROR':
      return OFPT10.ERROR;
    case 'ECHO_REQUEST':
      return OFPT10.ECHO_REQUEST;
    case 'ECHO_REPLY':
      return OFPT10.ECHO_REPLY;
    case 'FEATURES_REQUEST':
      return OFPT10.FEATURES_REQUEST;
    case 'FEATURES_REPLY':
      return OFPT10.FEATURES_REPLY;
    case 'GET_CONFIG_REQUEST':
      return OFPT10.GET_CONFIG_REQUEST;
    case 'GET_CONFIG_REPLY':
      return OFPT10.GET_CONFIG_REPLY;
    case 'SET_CONFIG':
      return OFPT10.SET_CONFIG;
    case 'BARRIER_REQUEST':
      return v10 ? OFPT10.BARRIER_REQUEST : OFPT11.BARRIER_REQUEST;
    case 'BARRIER_REPLY':
      return v10 ? OFPT10.BARRIER_REPLY : OFPT11.BARRIER_REPLY;
    case 'PORT_DESC_REQUEST':
      return v10 ? OFPT10.STATS_REQUEST : OFPT11.STATS_REQUEST;
    case 'PORT_DESC_REPLY':
      return v10 ? OFPT10.STATS_REPLY : OFPT11.STATS_REPLY;
  }
}

function bodyLength(msg: OfpMessage): number {
  switch (msg.type) {
    case 'HELLO': {
      let n = 0;
      for (const e of msg.elements) n += (4 + e.data.length + 7) & ~7;
      return n + (msg.trailing?.length ?? 0);
    }
    case 'ERROR':
      return 4 + msg.data.length;
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY':
      return msg.data.length;
    case 'FEATURES_REQUEST':
    case 'GET_CONFIG_REQUEST':
    case 'BARRIER_REQUEST':
    case 'BARRIER_REPLY':
      return 0;
    case 'FEATURES_REPLY':
      return OFP_SWITCH_FEATURES_LEN + msg.ports.length * phyPortLen(msg.version);
    case 'GET_CONFIG_REPLY':
    case 'SET_CONFIG':
      return 4;
    case 'PORT_DESC_REQUEST':
      return statsHeaderLen(msg.version) - OFP_HEADER_LEN + (msg.version >= OFP15_VERSION ? 8 : 0);
    case 'PORT_DESC_REPLY':
      return statsHeaderLen(msg.version) - OFP_HEADER_LEN + msg.ports.length * phyPortLen(msg.version);
  }
}

const u8 = (n: number, what: string): number => {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new OfpEncodeError(`${what} ${n} does not fit in 8 bits`);
  return n;
};

function checkVersion(msg: OfpMessage): void {
  u8(msg.version, 'version');
  const immutable = msg.type === 'HELLO' || msg.type === 'ERROR' || msg.type === 'ECHO_REQUEST' || msg.type === 'ECHO_REPLY';
  if (immutable ? msg.version === 0 : !isKnownVersion(msg.version)) {
    throw new OfpEncodeError(`${msg.type} does not exist in OpenFlow version ${msg.version}`);
  }
  if (msg.type === 'FEATURES_REPLY' && msg.version >= OFP13_VERSION && msg.ports.length) {
    throw new OfpEncodeError('OpenFlow 1.3+ features replies carry no ports (use OFPMP_PORT_DESC)');
  }
  if (msg.type === 'PORT_DESC_REQUEST' && (msg.portNo !== undefined) !== msg.version >= OFP15_VERSION) {
    throw new OfpEncodeError('OFPST_PORT_DESC request: portNo is required in OpenFlow 1.5 and absent before');
  }
}

/** Encodes `msg`; ofp_header.length is computed. Throws OfpEncodeError for values that do not fit. */
export function encodeMessage(msg: OfpMessage): Uint8Array {
  checkVersion(msg);
  const length = OFP_HEADER_LEN + bodyLength(msg);
  if (length > OFP_MAX_MSG_LEN) throw new OfpEncodeError(`${msg.type} of ${length} bytes exceeds the 65535-byte OpenFlow limit`);
  const b = new Uint8Array(length);
  const dv = view(b);
  b[0] = msg.version;
  b[1] = wireType(msg);
  dv.setUint16(2, length);
  dv.setUint32(4, msg.xid >>> 0);
  switch (msg.type) {
    case 'HELLO': {
      let ofs = OFP_HEADER_LEN;
      for (const e of msg.elements) {
        const elen = 4 + e.data.length;
        if (elen > 0xffff) throw new OfpEncodeError('hello element too long');
        dv.setUint16(ofs, e.type);
        dv.setUint16(ofs + 2, elen);
        b.set(e.data, ofs + 4);
        ofs += (elen + 7) & ~7;
      }
      if (msg.trailing) b.set(msg.trailing, ofs);
      break;
    }
    case 'ERROR':
      dv.setUint16(8, msg.errType);
      dv.setUint16(10, msg.code);
      b.set(msg.data, 12);
      break;
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY':
      b.set(msg.data, 8);
      break;
    case 'FEATURES_REPLY': {
      dv.setBigUint64(8, BigInt.asUintN(64, msg.datapathId));
      dv.setUint32(16, msg.nBuffers >>> 0);
      b[20] = u8(msg.nTables, 'n_tables');
      if (msg.version >= OFP13_VERSION) b[21] = u8(msg.auxiliaryId, 'auxiliary_id');
      dv.setUint32(24, msg.capabilities >>> 0);
      dv.setUint32(28, msg.actions >>> 0);
      let ofs = OFP_HEADER_LEN + OFP_SWITCH_FEATURES_LEN;
      for (const p of msg.ports) ofs = putPhyPort(b, dv, msg.version, ofs, p);
      break;
    }
    case 'GET_CONFIG_REPLY':
    case 'SET_CONFIG':
      dv.setUint16(8, msg.flags);
      dv.setUint16(10, msg.missSendLen);
      break;
    case 'PORT_DESC_REQUEST':
    case 'PORT_DESC_REPLY': {
      dv.setUint16(8, OFPST_PORT_DESC);
      dv.setUint16(10, msg.flags);
      let ofs = statsHeaderLen(msg.version);
      if (msg.type === 'PORT_DESC_REQUEST') {
        if (msg.portNo !== undefined) dv.setUint32(ofs, msg.portNo >>> 0);
      } else {
        for (const p of msg.ports) ofs = putPhyPort(b, dv, msg.version, ofs, p);
      }
      break;
    }
    default:
      break;
  }
  return b;
}

/** Writes `name` NUL-terminated in 16 bytes, as ovs_strlcpy_arrays() does (at most 15 bytes kept). */
function putName(b: Uint8Array, ofs: number, name: string): void {
  let ascii = name.length <= 15;
  if (ascii) {
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 0x80 || c === 0) {
        ascii = false;
        break;
      }
      b[ofs + i] = c;
    }
    if (ascii) return;
  }
  const bytes = utf8Encoder.encode(name);
  let n = 0;
  while (n < bytes.length && n < 15 && bytes[n] !== 0) n++;
  b.fill(0, ofs, ofs + 16);
  b.set(bytes.subarray(0, n), ofs);
}

function putHwAddr(b: Uint8Array, ofs: number, hw: Uint8Array): void {
  if (hw.length !== 6) throw new OfpEncodeError(`hardware address of ${hw.length} bytes (6 expected)`);
  b.set(hw, ofs);
}

function putPhyPort(b: Uint8Array, dv: DataView, version: number, ofs: number, p: OfpPhyPort): number {
  if (version === OFP10_VERSION) {
    if (!Number.isInteger(p.portNo) || p.portNo < 0 || p.portNo > 0xffff)
      throw new OfpEncodeError(`OpenFlow 1.0 port number ${p.portNo} does not fit in 16 bits`);
    dv.setUint16(ofs, p.portNo);
    putHwAddr(b, ofs + 2, p.hwAddr);
    putName(b, ofs + 8, p.name);
    dv.setUint32(ofs + 24, p.config >>> 0);
    dv.setUint32(ofs + 28, p.state >>> 0);
    dv.setUint32(ofs + 32, p.curr >>> 0);
    dv.setUint32(ofs + 36, p.advertised >>> 0);
    dv.setUint32(ofs + 40, p.supported >>> 0);
    dv.setUint32(ofs + 44, p.peer >>> 0);
    return ofs + OFP10_PHY_PORT_LEN;
  }
  dv.setUint32(ofs, p.portNo >>> 0);
  putHwAddr(b, ofs + 8, p.hwAddr);
  putName(b, ofs + 16, p.name);
  dv.setUint32(ofs + 32, p.config >>> 0);
  dv.setUint32(ofs + 36, p.state >>> 0);
  if (version < OFP14_VERSION) {
    dv.setUint32(ofs + 40, p.curr >>> 0);
    dv.setUint32(ofs + 44, p.advertised >>> 0);
    dv.setUint32(ofs + 48, p.supported >>> 0);
    dv.setUint32(ofs + 52, p.peer >>> 0);
    dv.setUint32(ofs + 56, p.currSpeed >>> 0);
    dv.setUint32(ofs + 60, p.maxSpeed >>> 0);
    return ofs + OFP11_PORT_LEN;
  }
  dv.setUint16(ofs + 4, OFP14_PORT_LEN + OFP14_PORT_DESC_PROP_ETHERNET_LEN);
  const e = ofs + OFP14_PORT_LEN;
  dv.setUint16(e, 0); // OFPPDPT14_ETHERNET
  dv.setUint16(e + 2, OFP14_PORT_DESC_PROP_ETHERNET_LEN);
  dv.setUint32(e + 8, p.curr >>> 0);
  dv.setUint32(e + 12, p.advertised >>> 0);
  dv.setUint32(e + 16, p.supported >>> 0);
  dv.setUint32(e + 20, p.peer >>> 0);
  dv.setUint32(e + 24, p.currSpeed >>> 0);
  dv.setUint32(e + 28, p.maxSpeed >>> 0);
  return e + OFP14_PORT_DESC_PROP_ETHERNET_LEN;
}

// ---------------------------------------------------------------- framing

/**
 * Splits a byte stream into OpenFlow messages (vconn_stream_recv): each
 * message is ofp_header.length bytes; a length below 8 is a protocol error
 * that ends the connection ("received too-short ofp_header").
 */
export class OfpFramer {
  private buf: Uint8Array = new Uint8Array(0);

  /** Appends `chunk`; returns the complete messages (copies) and, on a bad length, the error text. */
  push(chunk: Uint8Array): { messages: Uint8Array[]; error?: string } {
    const data = this.buf.length ? concat(this.buf, chunk) : chunk;
    const messages: Uint8Array[] = [];
    let ofs = 0;
    while (data.length - ofs >= OFP_HEADER_LEN) {
      const len = (data[ofs + 2]! << 8) | data[ofs + 3]!;
      if (len < OFP_HEADER_LEN) {
        this.buf = new Uint8Array(0);
        return { messages, error: `received too-short ofp_header (${len} bytes)` };
      }
      if (data.length - ofs < len) break;
      messages.push(data.slice(ofs, ofs + len));
      ofs += len;
    }
    this.buf = data.slice(ofs);
    return { messages };
  }

  /** Bytes of an incomplete message held back. */
  get pending(): number {
    return this.buf.length;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------- hello

/** version_bitmap_from_version(): the versions a hello of `version` without a bitmap announces (1...version). */
export function versionBitmapFromVersion(version: number): number {
  return version >= 32 ? 0xfffffffe : (((1 << version) >>> 0) - 1) * 2;
}

/**
 * ofputil_decode_hello(): the versions the peer announces, and whether the
 * hello was understood completely (OVS logs "unknown data in hello" otherwise).
 */
export function helloVersions(hello: OfpHello): { versions: number; ok: boolean } {
  let versions = versionBitmapFromVersion(hello.version) >>> 0;
  let ok = hello.trailing === undefined;
  for (const e of hello.elements) {
    if (e.type !== 1 || e.data.length === 0 || e.data.length % 4 !== 0) {
      ok = false;
      continue;
    }
    let bitmap = ((e.data[0]! << 24) | (e.data[1]! << 16) | (e.data[2]! << 8) | e.data[3]!) >>> 0;
    // There's no OpenFlow version 0.
    bitmap = (bitmap & ~1) >>> 0;
    if (!bitmap) {
      ok = false;
      continue;
    }
    versions = bitmap;
  }
  return { versions, ok };
}

/** ofputil_encode_hello(): a hello for the highest allowed version, with a bitmap unless the set is 1...N. */
export function encodeHelloFor(allowedVersions: number, xid: number): OfpHello {
  const version = 31 - Math.clz32(allowedVersions);
  // should_send_version_bitmap(): unless the set is 1...N, i.e. (v >> 1) + 1 is a power of 2.
  const needsBitmap = (((allowedVersions >>> 1) + 1) & (allowedVersions >>> 1)) !== 0;
  const elements: OfpHelloElement[] = [];
  if (needsBitmap) {
    const data = new Uint8Array(4);
    view(data).setUint32(0, allowedVersions >>> 0);
    elements.push({ type: 1, data });
  }
  return { type: 'HELLO', version, xid, elements };
}
