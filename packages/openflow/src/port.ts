/**
 * A port as ofproto knows it (struct ofputil_phy_port, lib/ofp-port.c), and
 * its translation to and from each version's wire format.
 */
import { OFP10_VERSION, OFPP11_MAX, OFPP11_OFFSET, OFPP_MAX, OFPPC10_ALL, OFPPC11_ALL, OFPPS10_ALL, OFPPS11_ALL, NETDEV_F } from './constants.js';
import type { OfpPhyPort } from './codec.js';
import { OfpDecodeError, OfpEncodeError } from './errors.js';

/**
 * What the switch says about one of its ports: struct ofputil_phy_port, as
 * ofport_open() fills it from the port's netdev.
 */
export interface OfpPortDesc {
  /** OpenFlow port number (ofp_port_t, 16 bits): 1, 2, ... or OFPP_LOCAL (0xfffe) for the bridge's own port. */
  portNo: number;
  /** The port's name (at most 15 bytes travel). */
  name: string;
  /** MAC address: 6 bytes, or "aa:bb:cc:dd:ee:ff". */
  hwAddr: Uint8Array | string;
  /** OFPPC_* bits: OFPPC.PORT_DOWN when the netdev is not up (NETDEV_UP clear). Default 0. */
  config?: number;
  /** OFPPS_* bits: OFPPS.LINK_DOWN when the netdev has no carrier. Default 0. */
  state?: number;
  /** NETDEV_F_* bits (netdev_get_features()): current, advertised, supported, peer. Default 0. */
  curr?: number;
  advertised?: number;
  supported?: number;
  peer?: number;
  /** kbps; default netdev_features_to_bps(curr) / 1000 and netdev_features_to_bps(supported) / 1000, as ofport_open() computes them. */
  currSpeed?: number;
  maxSpeed?: number;
}

/** OfpPortDesc with every field filled in (what a decoder returns). */
export interface OfpPortDescFull extends Required<Omit<OfpPortDesc, 'hwAddr'>> {
  hwAddr: Uint8Array;
}

/** netdev_features_to_bps(): the speed of the fastest mode in `features`, or `defaultBps`. */
export function netdevFeaturesToBps(features: number, defaultBps = 0): number {
  const F = NETDEV_F;
  if (features & F['1TB_FD']) return 1e12;
  if (features & F['100GB_FD']) return 100e9;
  if (features & F['40GB_FD']) return 40e9;
  if (features & F['10GB_FD']) return 10e9;
  if (features & (F['1GB_HD'] | F['1GB_FD'])) return 1e9;
  if (features & (F['100MB_HD'] | F['100MB_FD'])) return 100e6;
  if (features & (F['10MB_HD'] | F['10MB_FD'])) return 10e6;
  return defaultBps;
}

/** netdev_port_features_to_ofp10(): COPPER...PAUSE_ASYM move down 4 bits; 40GB...OTHER do not exist. */
export function netdevFeaturesToOfp10(features: number): number {
  return ((features & 0x7f) | ((features & 0xf800) >>> 4)) >>> 0;
}

/** netdev_port_features_from_ofp10(). */
export function netdevFeaturesFromOfp10(ofp10: number): number {
  return ((ofp10 & 0x7f) | ((ofp10 & 0xf80) << 4)) >>> 0;
}

/** ofputil_port_to_ofp11(): reserved ports (>= OFPP_MAX) move to 0xffffff00 and up. */
export function portToOfp11(port: number): number {
  return port < OFPP_MAX ? port : (port + OFPP11_OFFSET) >>> 0;
}

/** ofputil_port_from_ofp11(); undefined for 0xff00...0xfffffeff (OFPERR_OFPBAC_BAD_OUT_PORT). */
export function portFromOfp11(port: number): number | undefined {
  if (port < OFPP_MAX) return port;
  if (port >= OFPP11_MAX) return (port - OFPP11_OFFSET) >>> 0;
  return undefined;
}

/** Parses "aa:bb:cc:dd:ee:ff" or checks 6 bytes. */
export function parseHwAddr(hw: Uint8Array | string): Uint8Array {
  if (typeof hw !== 'string') {
    if (hw.length !== 6) throw new OfpEncodeError(`hardware address of ${hw.length} bytes (6 expected)`);
    return hw;
  }
  const m = /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i.exec(hw);
  if (!m) throw new OfpEncodeError(`bad hardware address "${hw}"`);
  return Uint8Array.from(m.slice(1), (x) => parseInt(x, 16));
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** ETH_ADDR_FMT. */
export function formatHwAddr(hw: Uint8Array): string {
  return `${HEX2[hw[0]!]}:${HEX2[hw[1]!]}:${HEX2[hw[2]!]}:${HEX2[hw[3]!]}:${HEX2[hw[4]!]}:${HEX2[hw[5]!]}`;
}

/** ofputil_put_phy_port(): `desc` as `version` carries it. */
export function encodePhyPort(version: number, desc: OfpPortDesc): OfpPhyPort {
  const portNo = desc.portNo;
  if (!Number.isInteger(portNo) || portNo < 0 || portNo > 0xffff) throw new OfpEncodeError(`port number ${portNo} is not a 16-bit ofp_port_t`);
  const hwAddr = parseHwAddr(desc.hwAddr);
  const config = desc.config ?? 0;
  const state = desc.state ?? 0;
  const curr = desc.curr ?? 0;
  const advertised = desc.advertised ?? 0;
  const supported = desc.supported ?? 0;
  const peer = desc.peer ?? 0;
  if (version === OFP10_VERSION) {
    return {
      portNo,
      hwAddr,
      name: desc.name,
      config: (config & OFPPC10_ALL) >>> 0,
      state: (state & OFPPS10_ALL) >>> 0,
      curr: netdevFeaturesToOfp10(curr),
      advertised: netdevFeaturesToOfp10(advertised),
      supported: netdevFeaturesToOfp10(supported),
      peer: netdevFeaturesToOfp10(peer),
      currSpeed: 0,
      maxSpeed: 0,
    };
  }
  return {
    portNo: portToOfp11(portNo),
    hwAddr,
    name: desc.name,
    config: (config & OFPPC11_ALL) >>> 0,
    state: (state & OFPPS11_ALL) >>> 0,
    curr: (curr & 0xffff) >>> 0,
    advertised: (advertised & 0xffff) >>> 0,
    supported: (supported & 0xffff) >>> 0,
    peer: (peer & 0xffff) >>> 0,
    currSpeed: (desc.currSpeed ?? netdevFeaturesToBps(curr) / 1000) >>> 0,
    maxSpeed: (desc.maxSpeed ?? netdevFeaturesToBps(supported) / 1000) >>> 0,
  };
}

/** ofputil_pull_phy_port()'s decoders: the abstract port from `version`'s wire form. */
export function decodePhyPort(version: number, wire: OfpPhyPort): OfpPortDescFull {
  if (version === OFP10_VERSION) {
    const curr = netdevFeaturesFromOfp10(wire.curr);
    const supported = netdevFeaturesFromOfp10(wire.supported);
    return {
      portNo: wire.portNo,
      hwAddr: wire.hwAddr,
      name: wire.name,
      config: (wire.config & OFPPC10_ALL) >>> 0,
      state: (wire.state & OFPPS10_ALL) >>> 0,
      curr,
      advertised: netdevFeaturesFromOfp10(wire.advertised),
      supported,
      peer: netdevFeaturesFromOfp10(wire.peer),
      currSpeed: Math.floor(netdevFeaturesToBps(curr) / 1000),
      maxSpeed: Math.floor(netdevFeaturesToBps(supported) / 1000),
    };
  }
  const portNo = portFromOfp11(wire.portNo);
  if (portNo === undefined)
    throw new OfpDecodeError(
      'OFPBAC_BAD_OUT_PORT',
      `port ${wire.portNo} is outside the supported range 0 through ${OFPP_MAX - 1} or 0x${OFPP11_MAX.toString(16)} through 0xffffffff`,
      0,
    );
  return {
    portNo,
    hwAddr: wire.hwAddr,
    name: wire.name,
    config: (wire.config & OFPPC11_ALL) >>> 0,
    state: (wire.state & OFPPS11_ALL) >>> 0,
    curr: (wire.curr & 0xffff) >>> 0,
    advertised: (wire.advertised & 0xffff) >>> 0,
    supported: (wire.supported & 0xffff) >>> 0,
    peer: (wire.peer & 0xffff) >>> 0,
    currSpeed: wire.currSpeed,
    maxSpeed: wire.maxSpeed,
  };
}
