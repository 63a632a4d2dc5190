/**
 * Messages as text, the way ovs-ofctl prints them (ofp_to_string() in
 * lib/ofp-print.c, with ofputil_switch_features_format() and
 * ofputil_phy_port_format() of lib/ofp-switch.c and lib/ofp-port.c).
 */
import { decodeHeader, decodeMessage, helloVersions, type OfpMessage, type OfpPhyPort } from './codec.js';
import {
  OFP10_VERSION,
  OFP11_VERSION,
  OFP12_VERSION,
  OFP13_VERSION,
  OFP14_VERSION,
  OFP15_VERSION,
  OFPC_FRAG_MASK,
  OFPC_INVALID_TTL_TO_CONTROLLER,
  OFPP_ANY,
  OFPP_NAMES,
  OFPPS,
  OFPSF_MORE,
  formatVersion,
  NETDEV_F,
} from './constants.js';
import { OfpDecodeError, ofperrDecode, type OfpErrName } from './errors.js';
import { decodePhyPort, formatHwAddr, portFromOfp11, type OfpPortDescFull } from './port.js';

// ---------------------------------------------------------------- bits

/** ofp_print_bit_names(): names of the set bits, low to high, then any unnamed rest in hex; "0" for none. */
export function formatBitNames(bits: number, toName: (bit: number) => string | undefined, sep = ' '): string {
  if (!bits) return '0';
  const out: string[] = [];
  let rest = bits >>> 0;
  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if (rest & bit) {
      const name = toName(bit);
      if (name) {
        out.push(name);
        rest = (rest & ~bit) >>> 0;
      }
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out.join(sep);
}

const CONFIG_NAMES: Record<number, string> = {
  [1 << 0]: 'PORT_DOWN',
  [1 << 1]: 'NO_STP',
  [1 << 2]: 'NO_RECV',
  [1 << 3]: 'NO_RECV_STP',
  [1 << 4]: 'NO_FLOOD',
  [1 << 5]: 'NO_FWD',
  [1 << 6]: 'NO_PACKET_IN',
};
const STATE_NAMES: Record<number, string> = { [1 << 0]: 'LINK_DOWN', [1 << 1]: 'BLOCKED', [1 << 2]: 'LIVE' };
const FEATURE_NAMES: Record<number, string> = {
  [NETDEV_F['10MB_HD']]: '10MB-HD',
  [NETDEV_F['10MB_FD']]: '10MB-FD',
  [NETDEV_F['100MB_HD']]: '100MB-HD',
  [NETDEV_F['100MB_FD']]: '100MB-FD',
  [NETDEV_F['1GB_HD']]: '1GB-HD',
  [NETDEV_F['1GB_FD']]: '1GB-FD',
  [NETDEV_F['10GB_FD']]: '10GB-FD',
  [NETDEV_F['40GB_FD']]: '40GB-FD',
  [NETDEV_F['100GB_FD']]: '100GB-FD',
  [NETDEV_F['1TB_FD']]: '1TB-FD',
  [NETDEV_F.OTHER]: 'OTHER',
  [NETDEV_F.COPPER]: 'COPPER',
  [NETDEV_F.FIBER]: 'FIBER',
  [NETDEV_F.AUTONEG]: 'AUTO_NEG',
  [NETDEV_F.PAUSE]: 'AUTO_PAUSE',
  [NETDEV_F.PAUSE_ASYM]: 'AUTO_PAUSE_ASYM',
};

/** ofputil_port_config_format(). */
export function formatPortConfig(config: number): string {
  return formatBitNames(config, (b) => CONFIG_NAMES[b]);
}

/** ofputil_port_state_format(): the 2-bit STP state first (nothing for STP_LISTEN), then the flags. */
export function formatPortState(state: number): string {
  const stp = state & OFPPS.STP_MASK;
  if (stp) {
    const name = stp === OFPPS.STP_LEARN ? 'STP_LEARN' : stp === OFPPS.STP_FORWARD ? 'STP_FORWARD' : 'STP_BLOCK';
    const rest = (state & ~OFPPS.STP_MASK) >>> 0;
    return rest ? `${name}${formatBitNames(rest, (b) => STATE_NAMES[b])}` : name;
  }
  return formatBitNames(state, (b) => STATE_NAMES[b]);
}

/** netdev_features_format(). */
export function formatNetdevFeatures(features: number): string {
  return formatBitNames(features, (b) => FEATURE_NAMES[b]);
}

/** The abstract capability bits (enum ofputil_capabilities). */
export const OFPUTIL_C = {
  FLOW_STATS: 1 << 0,
  TABLE_STATS: 1 << 1,
  PORT_STATS: 1 << 2,
  STP: 1 << 3,
  GROUP_STATS: 1 << 4,
  IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6,
  ARP_MATCH_IP: 1 << 7,
  PORT_BLOCKED: 1 << 8,
  BUNDLES: 1 << 9,
  FLOW_MONITORING: 1 << 10,
} as const;

const CAPABILITY_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OFPUTIL_C).map(([k, v]) => [v, k]));

const OFPC_COMMON = OFPUTIL_C.FLOW_STATS | OFPUTIL_C.TABLE_STATS | OFPUTIL_C.PORT_STATS | OFPUTIL_C.IP_REASM | OFPUTIL_C.QUEUE_STATS;

/** ofputil_capabilities_mask(): the bits with the same meaning in the message and in enum ofputil_capabilities. */
export function capabilitiesMask(version: number): number {
  switch (version) {
    case OFP10_VERSION:
    case OFP11_VERSION:
      return OFPC_COMMON | OFPUTIL_C.ARP_MATCH_IP;
    case OFP12_VERSION:
    case OFP13_VERSION:
      return OFPC_COMMON | OFPUTIL_C.PORT_BLOCKED;
    case OFP14_VERSION:
    case OFP15_VERSION:
      return OFPC_COMMON | OFPUTIL_C.PORT_BLOCKED | OFPUTIL_C.BUNDLES | OFPUTIL_C.FLOW_MONITORING;
    default:
      return 0;
  }
}

/** ofputil_encode_switch_features()'s capabilities: abstract bits -> the message's. */
export function capabilitiesToWire(abstract: number, version: number): number {
  let wire = abstract & capabilitiesMask(version);
  if (version === OFP10_VERSION ? abstract & OFPUTIL_C.STP : abstract & OFPUTIL_C.GROUP_STATS) wire |= 1 << 3;
  return wire >>> 0;
}

/** ofputil_pull_switch_features()'s capabilities: the message's bits -> abstract. */
export function capabilitiesFromWire(wire: number, version: number): number {
  let abstract = wire & capabilitiesMask(version);
  if (wire & (1 << 3)) abstract |= version === OFP10_VERSION ? OFPUTIL_C.STP : OFPUTIL_C.GROUP_STATS;
  return abstract >>> 0;
}

/** OpenFlow 1.0 action bits in the order of enum ofpact (which ofpact_bitmap_format() follows), with their names. */
const OFP10_ACTIONS: ReadonlyArray<[number, string]> = [
  [0, 'output'],
  [11, 'enqueue'],
  [1, 'set_vlan_vid'],
  [2, 'set_vlan_pcp'],
  [3, 'strip_vlan'],
  [4, 'mod_dl_src'],
  [5, 'mod_dl_dst'],
  [6, 'mod_nw_src'],
  [7, 'mod_nw_dst'],
  [8, 'mod_nw_tos'],
  [9, 'mod_tp_src'],
  [10, 'mod_tp_dst'],
];

/** Every OpenFlow 1.0 action ofproto-dpif supports: what OVS puts in ofp_switch_features.actions (0xfff). */
export const OFP10_ALL_ACTIONS = 0xfff;

/** ofpact_bitmap_format() of an OpenFlow 1.0 action bitmap; undefined when no known action is set (no "actions:" line). */
export function formatOfp10Actions(actions: number): string | undefined {
  const names = OFP10_ACTIONS.filter(([bit]) => actions & (1 << bit)).map(([, name]) => name);
  return names.length ? names.join(' ') : undefined;
}

/** ofputil_format_port(): reserved ports by name, others as a number. */
export function formatPortNo(port: number): string {
  return OFPP_NAMES[port] ?? String(port);
}

// ---------------------------------------------------------------- ports and switch features

/** ofputil_phy_port_format(): one port's five to nine lines. */
export function formatPhyPort(port: OfpPortDescFull): string {
  let name = '';
  for (let i = 0; i < port.name.length && i < 15; i++) {
    const c = port.name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) break;
    name += port.name[i];
  }
  let s = ` ${formatPortNo(port.portNo)}(${name}): addr:${formatHwAddr(port.hwAddr)}\n`;
  s += `     config:     ${formatPortConfig(port.config)}\n`;
  s += `     state:      ${formatPortState(port.state)}\n`;
  if (port.curr) s += `     current:    ${formatNetdevFeatures(port.curr)}\n`;
  if (port.advertised) s += `     advertised: ${formatNetdevFeatures(port.advertised)}\n`;
  if (port.supported) s += `     supported:  ${formatNetdevFeatures(port.supported)}\n`;
  if (port.peer) s += `     peer:       ${formatNetdevFeatures(port.peer)}\n`;
  s += `     speed: ${Math.floor(port.currSpeed / 1000)} Mbps now, ${Math.floor(port.maxSpeed / 1000)} Mbps max\n`;
  return s;
}

/** ofputil_phy_ports_format(): the ports of one message, sorted by port number. */
export function formatPhyPorts(version: number, ports: readonly OfpPhyPort[]): string {
  const decoded = ports.map((p) => decodePhyPort(version, p));
  decoded.sort((a, b) => (a.portNo & 0xffff) - (b.portNo & 0xffff));
  return decoded.map(formatPhyPort).join('');
}

// ---------------------------------------------------------------- whole messages

/** ofpraw_get_name() of the messages this package knows. */
export function messageName(msg: OfpMessage): string {
  switch (msg.type) {
    case 'PORT_DESC_REQUEST':
      return 'OFPST_PORT_DESC request';
    case 'PORT_DESC_REPLY':
      return 'OFPST_PORT_DESC reply';
    default:
      return `OFPT_${msg.type}`;
  }
}

/** ofpraw_decode_partial() + ofpraw_get_name() from the headers alone (no length checks), for the messages this package knows. */
export function rawName(bytes: Uint8Array): string | undefined {
  const h = decodeHeader(bytes);
  if (!h) return undefined;
  if (h.version !== 0 && h.type <= 3) return ['OFPT_HELLO', 'OFPT_ERROR', 'OFPT_ECHO_REQUEST', 'OFPT_ECHO_REPLY'][h.type];
  if (h.version < OFP10_VERSION || h.version > OFP15_VERSION) return undefined;
  const v10 = h.version === OFP10_VERSION;
  const simple: Record<number, string> = {
    5: 'OFPT_FEATURES_REQUEST',
    6: 'OFPT_FEATURES_REPLY',
    7: 'OFPT_GET_CONFIG_REQUEST',
    8: 'OFPT_GET_CONFIG_REPLY',
    9: 'OFPT_SET_CONFIG',
    [v10 ? 18 : 20]: 'OFPT_BARRIER_REQUEST',
    [v10 ? 19 : 21]: 'OFPT_BARRIER_REPLY',
  };
  if (simple[h.type]) return simple[h.type];
  const statsReq = v10 ? 16 : 18;
  if ((h.type === statsReq || h.type === statsReq + 1) && bytes.length >= (v10 ? 12 : 16) && bytes[8] === 0 && bytes[9] === 13) {
    return h.type === statsReq ? 'OFPST_PORT_DESC request' : 'OFPST_PORT_DESC reply';
  }
  return undefined;
}

/** ofp_print_version(): " (OF1.3)" (nothing for 1.0) and the xid. */
function versionAndXid(version: number, xid: number): string {
  const v =
    version === OFP10_VERSION
      ? ''
      : version >= OFP11_VERSION && version <= OFP15_VERSION
        ? ` (OF1.${version - 1})`
        : ` (OF 0x${version.toString(16).padStart(2, '0')})`;
  return `${v} (xid=0x${(xid >>> 0).toString(16)}):`;
}

/** ds_put_hex_dump() with the ASCII column. */
export function hexDump(buf: Uint8Array, ofs = 0): string {
  let s = '';
  let i0 = 0;
  let size = buf.length;
  while (size > 0) {
    const start = ofs % 16;
    let end = 16;
    if (end - start > size) end = start + size;
    const n = end - start;
    s += (ofs - start).toString(16).padStart(8, '0') + '  ';
    let i = 0;
    for (; i < start; i++) s += '   ';
    for (; i < end; i++) s += buf[i0 + i - start]!.toString(16).padStart(2, '0') + (i === 7 ? '-' : ' ');
    for (; i < 16; i++) s += '   ';
    s += '|';
    for (i = 0; i < start; i++) s += ' ';
    for (; i < end; i++) {
      const c = buf[i0 + i - start]!;
      s += c >= 32 && c < 127 ? String.fromCharCode(c) : '.';
    }
    for (; i < 16; i++) s += ' ';
    s += '|\n';
    ofs += n;
    i0 += n;
    size -= n;
  }
  return s;
}

/** ds_put_printable(). */
function printable(data: Uint8Array): string {
  let s = '';
  for (const c of data) s += c < 0x20 || c > 0x7e || c === 0x5c || c === 0x22 ? `\\${c.toString(8).padStart(3, '0')}` : String.fromCharCode(c);
  return s;
}

/** ofp_print_stats(): " flags=[more]" and unknown flags. */
function statsFlags(msg: { flags: number; version: number; type: string }): string {
  let flags = msg.flags;
  if (!flags) return '';
  let s = ' flags=';
  const isRequest = msg.type === 'PORT_DESC_REQUEST';
  if ((!isRequest || msg.version >= OFP13_VERSION) && flags & OFPSF_MORE) {
    s += '[more]';
    flags &= ~OFPSF_MORE;
  }
  if (flags) s += `[***unknown flags 0x${flags.toString(16).padStart(4, '0')}***]`;
  return s;
}

/** ofputil_frag_handling_to_string(). */
export function fragHandlingName(frag: number): string {
  return ['normal', 'drop', 'reassemble', 'nx-match'][frag & OFPC_FRAG_MASK]!;
}

/** The body text of a decoded message (ofp_to_string__()); throws OfpDecodeError where OVS's printer fails. */
function formatBody(msg: OfpMessage, bytes: Uint8Array, verbosity: number): string {
  switch (msg.type) {
    case 'HELLO': {
      const { versions, ok } = helloVersions(msg);
      const list: string[] = [];
      for (let v = 0; v < 32; v++) if (versions & (1 << v)) list.push(formatVersion(v));
      let s = `\n version bitmap: ${list.join(', ')}`;
      if (!ok) {
        // The whole message, as ofputil_hello_format() dumps it.
        s += `\n unknown data in hello:\n${hexDump(bytes)}`;
      }
      return s;
    }
    case 'ERROR':
      return formatErrorBody(msg.version, msg.errType, msg.code, msg.data);
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY':
      return ` ${msg.data.length} bytes of payload\n` + (verbosity > 1 ? hexDump(msg.data) : '');
    case 'FEATURES_REQUEST':
    case 'GET_CONFIG_REQUEST':
    case 'BARRIER_REQUEST':
    case 'BARRIER_REPLY':
      return '';
    case 'FEATURES_REPLY': {
      let s = ` dpid:${msg.datapathId.toString(16).padStart(16, '0')}\n`;
      s += `n_tables:${msg.nTables}, n_buffers:${msg.nBuffers}`;
      const aux = msg.version >= OFP13_VERSION ? msg.auxiliaryId : 0;
      if (aux) s += `, auxiliary_id:${aux}`;
      s += '\n';
      const caps = capabilitiesFromWire(msg.capabilities, msg.version);
      s += `capabilities: ${formatBitNames(caps, (b) => CAPABILITY_NAMES[b])}\n`;
      const actions = msg.version === OFP10_VERSION ? formatOfp10Actions(msg.actions) : undefined;
      if (actions) s += `actions: ${actions}\n`;
      return s + formatPhyPorts(msg.version, msg.ports);
    }
    case 'GET_CONFIG_REPLY':
    case 'SET_CONFIG': {
      const valid = msg.version < OFP13_VERSION ? OFPC_FRAG_MASK | OFPC_INVALID_TTL_TO_CONTROLLER : OFPC_FRAG_MASK;
      if (msg.type === 'SET_CONFIG' && msg.flags & ~valid) throw new OfpDecodeError('OFPSCFC_BAD_FLAGS', 'bad flags', 8);
      const ttl = msg.version < OFP13_VERSION && msg.flags & OFPC_INVALID_TTL_TO_CONTROLLER;
      return ` frags=${fragHandlingName(msg.flags)}${ttl ? ' invalid_ttl_to_controller' : ''} miss_send_len=${msg.missSendLen}\n`;
    }
    case 'PORT_DESC_REQUEST': {
      let port = OFPP_ANY;
      if (msg.portNo !== undefined) {
        const p = portFromOfp11(msg.portNo);
        if (p === undefined) throw new OfpDecodeError('OFPBAC_BAD_OUT_PORT', 'bad port', 16);
        port = p;
      }
      return `${statsFlags(msg)} port=${formatPortNo(port)}`;
    }
    case 'PORT_DESC_REPLY':
      return `${statsFlags(msg)}\n${formatPhyPorts(msg.version, msg.ports)}`;
  }
}

/** ofperr_msg_format(): the error's name, then the request it quotes (or the text of a hello failure). */
function formatErrorBody(version: number, errType: number, code: number, data: Uint8Array): string {
  let vendor = 0;
  let type = errType;
  let c = code;
  let payload = data;
  if (errType === 0xb0c2 && code === 0) {
    // NXET_VENDOR / NXVC_VENDOR_ERROR: struct nx_vendor_error follows.
    if (data.length < 8) throw new OfpDecodeError('OFPBRC_BAD_LEN', 'short vendor error', 12);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    vendor = dv.getUint32(0);
    type = dv.getUint16(4);
    c = dv.getUint16(6);
    payload = data.subarray(8);
  } else if (errType === 0xffff) {
    if (data.length < 4) throw new OfpDecodeError('OFPBRC_BAD_LEN', 'short experimenter error', 12);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    vendor = dv.getUint32(0);
    type = code;
    c = 0;
    payload = data.subarray(4);
  }
  const name = ofperrDecode(version, vendor, type, c);
  if (!name) throw new OfpDecodeError('OFPBRC_BAD_LEN', `unknown error ${type},${c}`, 8);
  let s = ` ${name}\n`;
  if (name === 'OFPHFC_INCOMPATIBLE' || name === 'OFPHFC_EPERM') s += printable(payload);
  else s += formatMessage(payload, 1);
  return s;
}

/**
 * ofp_to_string(): one message as ovs-ofctl prints it, ending in a newline.
 * `verbosity` is ovs-ofctl's (1 for `show`, 2 for `ofp-parse`).
 */
export function formatMessage(bytes: Uint8Array, verbosity = 1): string {
  if (bytes.length === 0) return 'OpenFlow message is empty\n';
  if (bytes.length < 8) return `OpenFlow packet too short (only ${bytes.length} bytes):\n${hexDump(bytes)}`;
  const header = decodeHeader(bytes)!;
  if (header.length > bytes.length) {
    const name = rawName(bytes);
    const s = name ? `${name}${versionAndXid(header.version, header.xid)}\n` : '';
    return `${s}(***truncated to ${bytes.length} bytes from ${header.length}***)\n${hexDump(bytes)}`;
  }
  if (header.length < bytes.length) return `(***only uses ${header.length} bytes out of ${bytes.length}***)\n${hexDump(bytes)}`;
  const r = decodeMessage(bytes);
  let s: string;
  let error: OfpErrName | undefined;
  if (!r.ok) {
    s = decodeErrorLine(r.error.ofperr);
    error = r.error.ofperr;
  } else {
    s = `${messageName(r.message)}${versionAndXid(header.version, header.xid)}`;
    const headerLen = s.length;
    try {
      s += formatBody(r.message, bytes, verbosity);
      s = chompSpaces(s);
    } catch (err) {
      if (!(err instanceof OfpDecodeError)) throw err;
      error = err.ofperr;
      if (s.length > headerLen) {
        s = chompSpaces(s);
        if (!s.endsWith('\n')) s += '\n';
      } else {
        s += ' ';
      }
      s += decodeErrorLine(err.ofperr);
    }
  }
  if (verbosity >= 5 || error) {
    if (!s.endsWith('\n')) s += '\n';
    s += hexDump(bytes);
  }
  if (!s.endsWith('\n')) s += '\n';
  return s;
}

/** ds_chomp(s, ' '): drops one trailing space. */
function chompSpaces(s: string): string {
  return s.endsWith(' ') ? s.slice(0, -1) : s;
}

function decodeErrorLine(name: OfpErrName): string {
  return `***decode error: ${name}***\n`;
}
