/**
 * struct netdev_tunnel_config and how lib/netdev-vport.c reads it from an
 * Interface's options (set_tunnel_config) and prints it back
 * (get_tunnel_config), with OVS 3.1's texts; plus ofproto/tunnel.c's view of
 * it (the match that makes two tunnel ports "the same", and how it is
 * printed).
 */
import { Errno } from '@ovs/genl-codec';
import { atoi, strtol, strtoull, truncU } from './cnum.js';
import { formatMapped, isSet, mapIpv4, parseIpv4, parseIpv6 } from './packets.js';

/** enum netdev_pt_mode: 'unknown' until configured (a fresh object), then one of the three. */
export type PtMode = 'unknown' | 'legacy_l2' | 'legacy_l3' | 'ptap';

export interface TunnelConfig {
  /** UDP destination port (0 for GRE). */
  dstPort: number;
  /** remote_ip: IPv4 as a dotted quad, IPv6 as inet_ntop prints it; undefined if not set. */
  ipDst?: string;
  ipDstFlow: boolean;
  ipSrc?: string;
  ipSrcFlow: boolean;
  inKey: bigint;
  inKeyPresent: boolean;
  inKeyFlow: boolean;
  outKey: bigint;
  outKeyPresent: boolean;
  outKeyFlow: boolean;
  ttl: number;
  ttlInherit: boolean;
  /** DSCP bits only (IP_DSCP_MASK). */
  tos: number;
  tosInherit: boolean;
  csum: boolean;
  /** GRE sequence numbers. */
  setSeq: boolean;
  dontFragment: boolean;
  /** OVS_VXLAN_EXT_GBP, OVS_VXLAN_EXT_GPE, OVS_BAREUDP_EXT_MULTIPROTO_MODE. */
  exts: { gbp: boolean; gpe: boolean; multiproto: boolean };
  ptMode: PtMode;
  egressPktMark: number;
  setEgressPktMark: boolean;
  erspanIdx: number;
  erspanIdxFlow: boolean;
  erspanVer: number;
  erspanVerFlow: boolean;
  erspanDir: number;
  erspanDirFlow: boolean;
  erspanHwid: number;
  erspanHwidFlow: boolean;
  /** bareudp's payload ethertype. */
  payloadEthertype: number;
}

/** The 2.5-era default UDP ports of the tunnel types (GENEVE_DST_PORT, ...). */
export const DEFAULT_DST_PORT: Readonly<Record<string, number>> = { geneve: 6081, vxlan: 4789, lisp: 4341, stt: 7471, gtpu: 2152 };
export const DEFAULT_TTL = 64;
const IP_DSCP_MASK = 0xfc;
const ERSPAN_IDX_MASK = 0xfffff;
const ERSPAN_HWID_MASK = 0x03f0;
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_MPLS = 0x8847;

/** A zeroed struct netdev_tunnel_config (memset 0). */
export function zeroTunnelConfig(): TunnelConfig {
  return {
    dstPort: 0,
    ipDstFlow: false,
    ipSrcFlow: false,
    inKey: 0n,
    inKeyPresent: false,
    inKeyFlow: false,
    outKey: 0n,
    outKeyPresent: false,
    outKeyFlow: false,
    ttl: 0,
    ttlInherit: false,
    tos: 0,
    tosInherit: false,
    csum: false,
    setSeq: false,
    dontFragment: false,
    exts: { gbp: false, gpe: false, multiproto: false },
    ptMode: 'unknown',
    egressPktMark: 0,
    setEgressPktMark: false,
    erspanIdx: 0,
    erspanIdxFlow: false,
    erspanVer: 0,
    erspanVerFlow: false,
    erspanDir: 0,
    erspanDirFlow: false,
    erspanHwid: 0,
    erspanHwidFlow: false,
    payloadEthertype: 0,
  };
}

/** netdev_vport_needs_dst_port(): the UDP-based types, whose datapath port name carries the port. */
export function needsDstPort(type: string): boolean {
  return ['geneve', 'vxlan', 'lisp', 'stt', 'gtpu', 'bareudp'].includes(type);
}

/** TNL_L2 / TNL_L3: what a tunnel type can carry (tunnel_supported_layers). */
function supportedLayers(type: string, cfg: TunnelConfig): { l2: boolean; l3: boolean } {
  if (type === 'lisp' || type === 'gtpu' || type === 'bareudp') return { l2: false, l3: true };
  if (type === 'gre' || (type === 'vxlan' && cfg.exts.gpe)) return { l2: true, l3: true };
  return { l2: true, l3: false };
}

function defaultPtMode(layers: { l2: boolean; l3: boolean }): PtMode {
  return layers.l3 && !layers.l2 ? 'legacy_l3' : 'legacy_l2';
}

/** What parsing produced: the configuration, the error lines, and the errno if it is refused. */
export interface TunnelParse {
  cfg: TunnelConfig;
  /** The lines of set_tunnel_config()'s `errors` buffer, each "NAME: ...". */
  errors: string[];
  /** 0: accepted (errors, if any, are warnings only). */
  errno: number;
}

/** A log line emitted while parsing (socket_util's complaint about an address). */
export type ParseLog = (level: 'ERR' | 'WARN', module: string, text: string) => void;

/**
 * parse_tunnel_ip(): "flow", or an address (IPv6 if it has a ':'); ENOENT
 * for an unparsable one (lookup_ip logs it), EINVAL for a multicast one
 * where that is not allowed.
 */
function parseTunnelIp(value: string, acceptMcast: boolean, log: ParseLog): { err: number; flow?: boolean; addr?: Uint8Array; proto?: number } {
  if (value === 'flow') return { err: 0, flow: true, proto: 0 };
  if (value.includes(':')) {
    const a = parseIpv6(value);
    if (!a) {
      log('ERR', 'socket_util', `"${value}" is not a valid IPv6 address`);
      return { err: Errno.ENOENT };
    }
    if (!acceptMcast && a[0] === 0xff) return { err: Errno.EINVAL };
    return { err: 0, addr: a, proto: ETH_TYPE_IPV6 };
  }
  const v4 = parseIpv4(value);
  if (!v4) {
    log('ERR', 'socket_util', `"${value}" is not a valid IP address`);
    return { err: Errno.ENOENT };
  }
  if (!acceptMcast && (v4[0]! & 0xf0) === 0xe0) return { err: Errno.EINVAL };
  return { err: 0, addr: mapIpv4(v4), proto: ETH_TYPE_IP };
}

/** parse_key(): `name` (in_key/out_key), else `key`; "flow" or strtoull(base 0). */
function parseKey(args: Record<string, string>, name: string): { key: bigint; present: boolean; flow: boolean } {
  const s = args[name] ?? args.key;
  if (s === undefined) return { key: 0n, present: false, flow: false };
  if (s === 'flow') return { key: 0n, present: true, flow: true };
  return { key: strtoull(s, 0), present: true, flow: false };
}

/** `*endptr == '\0'` after strtol: the number ran to the end (with no number at all, endptr is the start). */
function wholeString(s: string, end: number): boolean {
  return end > 0 ? end === s.length : s === '';
}

/** str_to_u16() via str_to_int(): strtol base 0, the whole string, 0..65535. */
function strToU16(s: string): number | undefined {
  const { value, end } = strtol(s, 0);
  if (!wholeString(s, end)) return undefined;
  return value < 0n || value > 65535n ? undefined : Number(value);
}

/**
 * set_tunnel_config() up to (not including) the VXLAN GBP check, which needs
 * the class's global state: every option in key order (the order an OVSDB
 * map has), then the rules that need all of them. `errors` holds the lines
 * OVS accumulates; a nonzero errno means the configuration is refused.
 */
export function parseTunnelConfig(name: string, type: string, args: Record<string, string>, log: ParseLog = () => {}): TunnelParse {
  const errors: string[] = [];
  const cfg = zeroTunnelConfig();
  const hasCsum = ['gre', 'geneve', 'stt', 'vxlan'].some((t) => type.includes(t));
  const hasSeq = type.includes('gre');
  cfg.dstPort = DEFAULT_DST_PORT[type] ?? 0;
  cfg.dontFragment = true;
  let dstProto = 0;
  let srcProto = 0;
  const fail = (errno: number, line?: string): TunnelParse => {
    if (line) errors.push(line);
    return { cfg, errors, errno };
  };

  for (const key of Object.keys(args).sort()) {
    const value = args[key]!;
    switch (key) {
      case 'remote_ip': {
        const r = parseTunnelIp(value, false, log);
        if (r.err === Errno.ENOENT) errors.push(`${name}: bad ${type} 'remote_ip'`);
        else if (r.err === Errno.EINVAL) return fail(Errno.EINVAL, `${name}: multicast remote_ip=${value} not allowed`);
        else {
          if (r.flow) cfg.ipDstFlow = true;
          if (r.addr && isSet(r.addr)) cfg.ipDst = formatMapped(r.addr);
          dstProto = r.proto!;
        }
        continue;
      }
      case 'local_ip': {
        const r = parseTunnelIp(value, true, log);
        if (r.err === Errno.ENOENT) errors.push(`${name}: bad ${type} 'local_ip'`);
        else {
          if (r.flow) cfg.ipSrcFlow = true;
          if (r.addr && isSet(r.addr)) cfg.ipSrc = formatMapped(r.addr);
          srcProto = r.proto!;
        }
        continue;
      }
      case 'tos':
        if (value === 'inherit') {
          cfg.tosInherit = true;
        } else {
          const { value: v, end } = strtol(value, 0);
          const tos = Number(BigInt.asIntN(32, v));
          // endptr at the end: a string without digits counts as 0, like C.
          if (wholeString(value, end) && tos === (tos & IP_DSCP_MASK)) cfg.tos = tos;
          else errors.push(`${name}: invalid TOS ${value}`);
        }
        continue;
      case 'ttl':
        if (value === 'inherit') cfg.ttlInherit = true;
        else cfg.ttl = truncU(atoi(value), 8);
        continue;
      case 'key':
      case 'in_key':
      case 'out_key':
      case 'packet_type':
        continue; // read below
      case 'remote_cert':
      case 'remote_name':
      case 'psk':
        continue; // ovs-monitor-ipsec's options, ignored here
      case 'egress_pkt_mark':
        cfg.egressPktMark = truncU(strtoull(value, 10), 32);
        cfg.setEgressPktMark = true;
        continue;
      case 'erspan_idx':
        if (value === 'flow') {
          cfg.erspanIdxFlow = true;
        } else {
          cfg.erspanIdxFlow = false;
          cfg.erspanIdx = truncU(strtol(value, 16).value, 32);
          if (cfg.erspanIdx & ~ERSPAN_IDX_MASK) return fail(Errno.EINVAL, `${name}: invalid erspan index: ${value}`);
        }
        continue;
      case 'erspan_ver':
        if (value === 'flow') {
          cfg.erspanVerFlow = cfg.erspanIdxFlow = cfg.erspanDirFlow = cfg.erspanHwidFlow = true;
        } else {
          cfg.erspanVerFlow = false;
          cfg.erspanVer = truncU(atoi(value), 8);
          if (cfg.erspanVer !== 1 && cfg.erspanVer !== 2) return fail(Errno.EINVAL, `${name}: invalid erspan version: ${value}`);
        }
        continue;
      case 'erspan_dir':
        if (value === 'flow') {
          cfg.erspanDirFlow = true;
        } else {
          cfg.erspanDirFlow = false;
          cfg.erspanDir = truncU(atoi(value), 8);
          if (cfg.erspanDir !== 0 && cfg.erspanDir !== 1) return fail(Errno.EINVAL, `${name}: invalid erspan direction: ${value}`);
        }
        continue;
      case 'erspan_hwid':
        if (value === 'flow') {
          cfg.erspanHwidFlow = true;
        } else {
          cfg.erspanHwidFlow = false;
          cfg.erspanHwid = truncU(strtol(value, 16).value, 8);
          if (cfg.erspanHwid & ~(ERSPAN_HWID_MASK >> 4)) return fail(Errno.EINVAL, `${name}: invalid erspan hardware ID: ${value}`);
        }
        continue;
      case 'payload_type':
        if (value === 'mpls' || value === 'ip') {
          cfg.payloadEthertype = value === 'mpls' ? ETH_TYPE_MPLS : ETH_TYPE_IP;
          cfg.exts.multiproto = true;
        } else {
          const v = strToU16(value);
          if (v === undefined) return fail(Errno.EINVAL); // OVS gives no text for this one
          cfg.payloadEthertype = v;
        }
        continue;
    }
    // The options only some types take; for the others they are unknown.
    if (key === 'dst_port' && needsDstPort(type)) {
      cfg.dstPort = truncU(atoi(value), 16);
    } else if (key === 'csum' && hasCsum) {
      if (value === 'true') cfg.csum = true;
    } else if (key === 'seq' && hasSeq) {
      if (value === 'true') cfg.setSeq = true;
    } else if (key === 'df_default') {
      if (value === 'false') cfg.dontFragment = false;
    } else if (key === 'exts' && type === 'vxlan') {
      cfg.exts.gbp = cfg.exts.gpe = cfg.exts.multiproto = false;
      for (const ext of value.split(',').filter((e) => e !== '')) {
        if (ext === 'gbp') cfg.exts.gbp = true;
        else if (ext === 'gpe') cfg.exts.gpe = true;
        else errors.push(`${name}: unknown extension '${ext}'`);
      }
    } else {
      errors.push(`${name}: unknown ${type} argument '${key}'`);
    }
  }

  const layers = supportedLayers(type, cfg);
  const fullType = type !== 'vxlan' ? type : cfg.exts.gpe ? 'VXLAN-GPE' : 'VXLAN (without GPE)';
  const packetType = args.packet_type;
  if (packetType === undefined) {
    cfg.ptMode = defaultPtMode(layers);
  } else if (packetType === 'legacy_l2') {
    cfg.ptMode = 'legacy_l2';
    if (!layers.l2) return fail(Errno.EINVAL, `${name}: legacy_l2 configured on ${fullType} tunnel that cannot carry L2 traffic`);
  } else if (packetType === 'legacy_l3') {
    cfg.ptMode = 'legacy_l3';
    if (!layers.l3) return fail(Errno.EINVAL, `${name}: legacy_l3 configured on ${fullType} tunnel that cannot carry L3 traffic`);
  } else if (packetType === 'ptap') {
    cfg.ptMode = 'ptap';
  } else {
    return fail(Errno.EINVAL, `${name}: unknown packet_type '${packetType}'`);
  }

  if (cfg.ipDst === undefined && !cfg.ipDstFlow) return fail(Errno.EINVAL, `${name}: ${type} type requires valid 'remote_ip' argument`);
  if (cfg.ipSrcFlow && !cfg.ipDstFlow) return fail(Errno.EINVAL, `${name}: ${type} type requires 'remote_ip=flow' with 'local_ip=flow'`);
  if (srcProto && dstProto && srcProto !== dstProto) return fail(Errno.EINVAL, `${name}: 'remote_ip' and 'local_ip' has to be of the same address family`);
  if (!cfg.ttl) cfg.ttl = DEFAULT_TTL;

  const inKey = parseKey(args, 'in_key');
  const outKey = parseKey(args, 'out_key');
  Object.assign(cfg, {
    inKey: inKey.key,
    inKeyPresent: inKey.present,
    inKeyFlow: inKey.flow,
    outKey: outKey.key,
    outKeyPresent: outKey.present,
    outKeyFlow: outKey.flow,
  });
  return { cfg, errors, errno: 0 };
}

/**
 * get_tunnel_config(): the options that reproduce the configuration, only
 * where it differs from the defaults; keys in sorted order, as dpif/show
 * prints them (smap_sort).
 */
export function tunnelGetConfig(type: string, cfg: TunnelConfig): Record<string, string> {
  const out: Record<string, string> = {};
  if (cfg.ipDst !== undefined) out.remote_ip = cfg.ipDst;
  else if (cfg.ipDstFlow) out.remote_ip = 'flow';
  if (cfg.ipSrc !== undefined) out.local_ip = cfg.ipSrc;
  else if (cfg.ipSrcFlow) out.local_ip = 'flow';

  if (cfg.inKeyFlow && cfg.outKeyFlow) {
    out.key = 'flow';
  } else if (cfg.inKeyPresent && cfg.outKeyPresent && cfg.inKey === cfg.outKey) {
    out.key = String(cfg.inKey);
  } else {
    if (cfg.inKeyFlow) out.in_key = 'flow';
    else if (cfg.inKeyPresent) out.in_key = String(cfg.inKey);
    if (cfg.outKeyFlow) out.out_key = 'flow';
    else if (cfg.outKeyPresent) out.out_key = String(cfg.outKey);
  }

  if (cfg.ttlInherit) out.ttl = 'inherit';
  else if (cfg.ttl !== DEFAULT_TTL) out.ttl = String(cfg.ttl);
  if (cfg.tosInherit) out.tos = 'inherit';
  else if (cfg.tos) out.tos = `0x${cfg.tos.toString(16)}`;

  if (cfg.dstPort && (type === 'bareudp' || (DEFAULT_DST_PORT[type] !== undefined && cfg.dstPort !== DEFAULT_DST_PORT[type])))
    out.dst_port = String(cfg.dstPort);
  if (cfg.csum) out.csum = 'true';
  if (cfg.setSeq) out.seq = 'true';
  // A fresh object's 'unknown' mode differs from any default: it shows as ptap.
  if (cfg.ptMode !== defaultPtMode(supportedLayers(type, cfg)))
    out.packet_type = cfg.ptMode === 'legacy_l2' || cfg.ptMode === 'legacy_l3' ? cfg.ptMode : 'ptap';
  if (!cfg.dontFragment) out.df_default = 'false';
  if (cfg.setEgressPktMark) out.egress_pkt_mark = String(cfg.egressPktMark);

  if (type === 'erspan' || type === 'ip6erspan') {
    if (cfg.erspanVerFlow) {
      Object.assign(out, { erspan_ver: 'flow', erspan_idx: 'flow', erspan_dir: 'flow', erspan_hwid: 'flow' });
    } else {
      out.erspan_ver = String(cfg.erspanVer);
      if (cfg.erspanVer === 1) {
        out.erspan_idx = cfg.erspanIdxFlow ? 'flow' : `0x${cfg.erspanIdx.toString(16)}`;
      } else if (cfg.erspanVer === 2) {
        out.erspan_dir = cfg.erspanDirFlow ? 'flow' : String(cfg.erspanDir);
        out.erspan_hwid = cfg.erspanHwidFlow ? 'flow' : `0x${cfg.erspanHwid.toString(16)}`;
      }
    }
  }
  return sortKeys(out);
}

export function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every field equal (set_tunnel_config's memcmp: is this a change?). */
export function sameTunnelConfig(a: TunnelConfig, b: TunnelConfig): boolean {
  return (
    (Object.keys(a) as Array<keyof TunnelConfig>).every((k) =>
      k === 'exts' ? a.exts.gbp === b.exts.gbp && a.exts.gpe === b.exts.gpe && a.exts.multiproto === b.exts.multiproto : a[k] === b[k],
    ) &&
    a.ipDst === b.ipDst &&
    a.ipSrc === b.ipSrc
  );
}

/**
 * ofproto/tunnel.c's "same config" test (tnl_find_exact on struct
 * tnl_match): in_key, both addresses, the three flow flags and the packet
 * type mode. The caller compares the datapath ports, the match's other field.
 */
export function tunnelConfigEqual(a: TunnelConfig, b: TunnelConfig): boolean {
  return (
    a.inKey === b.inKey &&
    a.ipSrc === b.ipSrc &&
    a.ipDst === b.ipDst &&
    a.ipSrcFlow === b.ipSrcFlow &&
    a.ipDstFlow === b.ipDstFlow &&
    a.inKeyFlow === b.inKeyFlow &&
    a.ptMode === b.ptMode
  );
}

/** tnl_match_fmt(): "::->192.0.2.1, key=0, legacy_l2, dp port=5". */
export function formatTunnelConfig(cfg: TunnelConfig, odpPort: number): string {
  const src = cfg.ipSrc ?? '::';
  const dst = cfg.ipDst ?? '::';
  const ends = !cfg.ipDstFlow ? `${src}->${dst}` : !cfg.ipSrcFlow ? `${src}->flow` : 'flow->flow';
  // %#"PRIx64": no 0x prefix for zero.
  const key = cfg.inKeyFlow ? 'flow' : cfg.inKey === 0n ? '0' : `0x${cfg.inKey.toString(16)}`;
  const pt = cfg.ptMode === 'legacy_l2' || cfg.ptMode === 'legacy_l3' ? cfg.ptMode : 'ptap';
  return `${ends}, key=${key}, ${pt}, dp port=${odpPort}`;
}
