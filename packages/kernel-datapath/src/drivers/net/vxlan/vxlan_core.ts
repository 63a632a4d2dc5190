/**
 * The vxlan driver (drivers/net/vxlan/vxlan_core.c): struct vxlan_config
 * from IFLA_VXLAN_* (vxlan_nl2conf), its checks (vxlan_validate,
 * vxlan_config_validate), changelink, the MTU its lower device allows, and
 * vxlan_fill_info().
 */
import {
  type AttrTable,
  Errno,
  IFLA,
  IFLA_VXLAN,
  type IflaVxlanAttrs,
  type InfoData,
  OVS_VPORT_TYPE,
  TUNNEL_DF,
  iflaVxlanAttrs,
  nlaGetBe16,
  nlaGetBe32,
  nlaGetU32,
  nlaGetU8,
  nlaMemcpy,
} from '@ovs/genl-codec';
import type { NetDevice } from '../../../include/linux/netdevice.js';
import type { RtnlLinkOps } from '../../../include/net/rtnetlink.js';
import type { Netns } from '../../../net/core/net_namespace.js';
import { isAnyAddr } from '../../../include/net/ip.js';
import { ETH_ALEN, ETH_HLEN, ETH_MAX_MTU, ETH_MIN_MTU, etherSetup, isValidEtherAddr } from '../../../net/ethernet/eth.js';
import { registerNetdevice } from '../../../net/core/dev.js';
import { type ExtAck, errMsg } from '../../../net/netlink/extack.js';

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

/** struct vxlan_config. */
export interface VxlanConf {
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

/**
 * The configuration vport-vxlan.c's vxlan_tnl_create() gives
 * vxlan_dev_create(): collect metadata, no UDP checksum over IPv6 required,
 * its destination port, and GBP if the vport asked for it.
 */
export function vxlanCollectMdConf(port: number | undefined, gbp: boolean): VxlanConf {
  return {
    ...defaultVxlanConf(),
    flags: VXF.COLLECT_METADATA | VXF.UDP_ZERO_CSUM6_RX | (gbp ? VXF.GBP : 0),
    port: port ?? VXLAN_DEFAULT_PORT,
    ageing: FDB_AGE_DEFAULT,
  };
}

/** netdev_priv() of a vxlan device. */
export function vxlanConfOf(dev: NetDevice): VxlanConf | undefined {
  return dev.priv?.kind === 'vxlan' ? dev.priv.conf : undefined;
}

/** vxlan_headroom(): outer IP + UDP + VXLAN + Ethernet headers. */
function vxlanHeadroom(flags: number): number {
  return (flags & VXF.IPV6 ? 40 : 20) + 8 + 8 + ETH_HLEN;
}

/** vxlan_fill_info(). */
function vxlanFillInfo(c: VxlanConf): InfoData {
  const f = (bit: number): number => ((c.flags & bit) !== 0 ? 1 : 0);
  const a: IflaVxlanAttrs = { id: c.vni };
  if (!isAnyAddr(c.remote)) {
    if (c.remoteFamily === 6) a.group6 = c.remote.slice();
    else a.group = c.remote.slice(0, 4);
  }
  if (c.remoteIfindex) a.link = c.remoteIfindex;
  if (!isAnyAddr(c.local)) {
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

/** The flags vxlan_nl2flag() refuses to change, by attribute, as its extack names them. */
const FLAG_NAMES: Readonly<Record<number, string>> = {
  [IFLA_VXLAN.TTL_INHERIT]: 'TTL_INHERIT',
  [IFLA_VXLAN.LEARNING]: 'LEARNING',
  [IFLA_VXLAN.PROXY]: 'PROXY',
  [IFLA_VXLAN.RSC]: 'RSC',
  [IFLA_VXLAN.L2MISS]: 'L2MISS',
  [IFLA_VXLAN.L3MISS]: 'L3MISS',
  [IFLA_VXLAN.COLLECT_METADATA]: 'COLLECT_METADATA',
  [IFLA_VXLAN.UDP_ZERO_CSUM6_TX]: 'UDP_ZERO_CSUM6_TX',
  [IFLA_VXLAN.UDP_ZERO_CSUM6_RX]: 'UDP_ZERO_CSUM6_RX',
  [IFLA_VXLAN.REMCSUM_TX]: 'REMCSUM_TX',
  [IFLA_VXLAN.REMCSUM_RX]: 'REMCSUM_RX',
  [IFLA_VXLAN.GBP]: 'GBP',
  [IFLA_VXLAN.GPE]: 'GPE',
  [IFLA_VXLAN.REMCSUM_NOPARTIAL]: 'REMCSUM_NOPARTIAL',
};

/** vxlan_nl2conf(); `old` for changelink. */
function vxlanNl2conf(tb: AttrTable, data: AttrTable, old: VxlanConf | undefined, extack: ExtAck): VxlanConf | number {
  const VX = IFLA_VXLAN;
  const changelink = old !== undefined;
  const c: VxlanConf = old !== undefined ? { ...old, remote: old.remote.slice(), local: old.local.slice() } : defaultVxlanConf();
  const cannot = (type: number, what: string): number => errMsg(extack, Errno.EOPNOTSUPP, what, tb[type]);
  const id = data[VX.ID];
  if (id) {
    const vni = nlaGetU32(id);
    if (changelink && vni !== c.vni) return cannot(VX.ID, 'Cannot change VNI');
    c.vni = vni;
  }
  const group = data[VX.GROUP];
  const group6 = data[VX.GROUP6];
  if (group) {
    if (changelink && c.remoteFamily !== 4) return cannot(VX.GROUP, 'New group address family does not match old group');
    c.remote = nlaMemcpy(group, 4);
    c.remoteFamily = 4;
  } else if (group6) {
    if (changelink && c.remoteFamily !== 6) return cannot(VX.GROUP6, 'New group address family does not match old group');
    c.remote = nlaMemcpy(group6, 16);
    c.remoteFamily = 6;
  }
  const local = data[VX.LOCAL];
  const local6 = data[VX.LOCAL6];
  if (local) {
    if (changelink && c.localFamily !== 4) return cannot(VX.LOCAL, 'New local address family does not match old');
    c.local = nlaMemcpy(local, 4);
    c.localFamily = 4;
  } else if (local6) {
    if (changelink && c.localFamily !== 6) return cannot(VX.LOCAL6, 'New local address family does not match old');
    c.local = nlaMemcpy(local6, 16);
    c.localFamily = 6;
  }
  const link = data[VX.LINK];
  if (link) c.remoteIfindex = nlaGetU32(link);
  const tos = data[VX.TOS];
  if (tos) c.tos = nlaGetU8(tos);
  const ttl = data[VX.TTL];
  if (ttl) c.ttl = nlaGetU8(ttl);
  // vxlan_nl2flag(): a flag attribute sets its bit, a u8 sets or clears it.
  const flag = (type: number, bit: number, changeable: boolean, isFlag = false): number => {
    const a = data[type];
    if (!a) return 0;
    if (changelink && !changeable) {
      const n = FLAG_NAMES[type];
      return errMsg(extack, Errno.EOPNOTSUPP, n !== undefined ? `vxlan: cannot change ${n} flag` : 'vxlan: cannot change flag');
    }
    if (isFlag || nlaGetU8(a)) c.flags |= bit;
    else c.flags &= ~bit;
    return 0;
  };
  let err: number;
  if ((err = flag(VX.TTL_INHERIT, VXF.TTL_INHERIT, false, true))) return err;
  const label = data[VX.LABEL];
  if (label) c.label = nlaGetBe32(label) & 0x000fffff;
  if (data[VX.LEARNING])
    flag(VX.LEARNING, VXF.LEARN, true); // changeable: cannot fail
  else if (!changelink) c.flags |= VXF.LEARN;
  const ageing = data[VX.AGEING];
  if (ageing) c.ageing = nlaGetU32(ageing);
  if ((err = flag(VX.PROXY, VXF.PROXY, false))) return err;
  if ((err = flag(VX.RSC, VXF.RSC, false))) return err;
  if ((err = flag(VX.L2MISS, VXF.L2MISS, false))) return err;
  if ((err = flag(VX.L3MISS, VXF.L3MISS, false))) return err;
  const limit = data[VX.LIMIT];
  if (limit) {
    if (changelink) return cannot(VX.LIMIT, 'Cannot change limit');
    c.limit = nlaGetU32(limit);
  }
  if ((err = flag(VX.COLLECT_METADATA, VXF.COLLECT_METADATA, false))) return err;
  const range = data[VX.PORT_RANGE];
  if (range) {
    if (changelink) return cannot(VX.PORT_RANGE, 'Cannot change port range');
    c.portMin = nlaGetBe16(range);
    c.portMax = range.dv.getUint16(range.dataOffset + 2, false);
  }
  const port = data[VX.PORT];
  if (port) {
    if (changelink) return cannot(VX.PORT, 'Cannot change port');
    c.port = nlaGetBe16(port);
  }
  const csum = data[VX.UDP_CSUM];
  if (csum) {
    if (changelink) return cannot(VX.UDP_CSUM, 'Cannot change UDP_CSUM flag');
    if (!nlaGetU8(csum)) c.flags |= VXF.UDP_ZERO_CSUM_TX;
  }
  if ((err = flag(VX.UDP_ZERO_CSUM6_TX, VXF.UDP_ZERO_CSUM6_TX, false))) return err;
  if ((err = flag(VX.UDP_ZERO_CSUM6_RX, VXF.UDP_ZERO_CSUM6_RX, false))) return err;
  if ((err = flag(VX.REMCSUM_TX, VXF.REMCSUM_TX, false))) return err;
  if ((err = flag(VX.REMCSUM_RX, VXF.REMCSUM_RX, false))) return err;
  if ((err = flag(VX.GBP, VXF.GBP, false, true))) return err;
  if ((err = flag(VX.GPE, VXF.GPE, false, true))) return err;
  if ((err = flag(VX.REMCSUM_NOPARTIAL, VXF.REMCSUM_NOPARTIAL, false, true))) return err;
  const mtu = tb[IFLA.MTU];
  if (mtu) {
    if (changelink) return cannot(IFLA.MTU, 'Cannot change mtu');
    c.mtu = nlaGetU32(mtu);
  }
  const df = data[VX.DF];
  if (df) c.df = nlaGetU8(df);
  const vnifilter = data[VX.VNIFILTER];
  if (vnifilter) {
    if ((err = flag(VX.VNIFILTER, VXF.VNIFILTER, false))) return err;
    if (c.flags & VXF.VNIFILTER && !(c.flags & VXF.COLLECT_METADATA)) {
      return errMsg(extack, Errno.EINVAL, 'vxlan vnifilter only valid in collect metadata mode', vnifilter);
    }
  }
  return c;
}

/** vxlan_config_validate(); returns the lower device (IFLA_VXLAN_LINK), if any. */
function vxlanConfigValidate(ns: Netns, c: VxlanConf, self: NetDevice | undefined, extack: ExtAck): { lower: NetDevice | undefined } | number {
  if (c.flags & VXF.GPE && (c.flags & ~VXF_ALLOWED_GPE || !(c.flags & VXF.COLLECT_METADATA))) {
    return errMsg(extack, Errno.EINVAL, 'VXLAN GPE does not support this combination of attributes');
  }
  if (!c.remoteFamily && !c.localFamily) {
    c.remoteFamily = 4;
    c.localFamily = 4;
  } else if (!c.remoteFamily) {
    c.remoteFamily = c.localFamily;
  } else if (!c.localFamily) {
    c.localFamily = c.remoteFamily;
  }
  if (c.remoteFamily !== c.localFamily) return errMsg(extack, Errno.EINVAL, 'Local and remote address must be from the same family');
  if (c.remote.length !== (c.remoteFamily === 6 ? 16 : 4)) c.remote = new Uint8Array(c.remoteFamily === 6 ? 16 : 4);
  if (c.local.length !== (c.localFamily === 6 ? 16 : 4)) c.local = new Uint8Array(c.localFamily === 6 ? 16 : 4);
  const multicast = (a: Uint8Array, fam: number): boolean => (fam === 6 ? a[0] === 0xff : (a[0]! & 0xf0) === 0xe0);
  if (multicast(c.local, c.localFamily)) return errMsg(extack, Errno.EINVAL, 'Local address cannot be multicast');
  const ipv6 = c.localFamily === 6;
  if (ipv6) {
    c.flags |= VXF.IPV6;
    if (!(c.flags & VXF.COLLECT_METADATA)) {
      const linkLocal = (a: Uint8Array): boolean => a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;
      if (linkLocal(c.local)) {
        if (!linkLocal(c.remote) && !isAnyAddr(c.remote)) return errMsg(extack, Errno.EINVAL, 'Invalid combination of local and remote address scopes');
        c.flags |= VXF.IPV6_LINKLOCAL;
      } else {
        if (linkLocal(c.remote)) return errMsg(extack, Errno.EINVAL, 'Invalid combination of local and remote address scopes');
        c.flags &= ~VXF.IPV6_LINKLOCAL;
      }
    }
  }
  if (c.label && !ipv6) return errMsg(extack, Errno.EINVAL, 'Label attribute only applies to IPv6 VXLAN devices');
  let lower: NetDevice | undefined;
  if (c.remoteIfindex) {
    lower = ns.byIfindex(c.remoteIfindex);
    if (lower === undefined) return errMsg(extack, Errno.ENODEV, 'Invalid local interface, device not found');
  } else {
    if (multicast(c.remote, c.remoteFamily)) return errMsg(extack, Errno.EINVAL, 'Local interface required for multicast remote destination');
    if (c.flags & VXF.IPV6_LINKLOCAL) return errMsg(extack, Errno.EINVAL, 'Local interface required for link-local local/remote addresses');
  }
  if (!c.port) c.port = c.flags & VXF.GPE ? VXLAN_GPE_PORT : VXLAN_DEFAULT_PORT;
  if (!c.ageing) c.ageing = FDB_AGE_DEFAULT;
  // vxlan_vni_in_use()
  for (const d of ns.devices) {
    if (d === self || d.kind !== 'vxlan') continue;
    const o = vxlanConfOf(d);
    if (o === undefined) continue;
    if (o.flags & VXF.VNIFILTER ? false : o.vni !== c.vni) continue;
    if (o.port !== c.port) continue;
    if ((o.flags & (VXF_RCV_FLAGS | VXF.IPV6)) !== (c.flags & (VXF_RCV_FLAGS | VXF.IPV6))) continue;
    if (c.flags & VXF.IPV6_LINKLOCAL && o.remoteIfindex !== c.remoteIfindex) continue;
    return errMsg(extack, Errno.EEXIST, 'A VXLAN device with the specified VNI already exists');
  }
  return { lower };
}

export const vxlanLinkOps: RtnlLinkOps = {
  kind: 'vxlan',
  policy: iflaVxlanAttrs,
  module: { name: 'vxlan', vportType: OVS_VPORT_TYPE.VXLAN },
  // vxlan_setup(): MTU 68..65535, no IFF_LIVE_ADDR_CHANGE, IFF_CHANGE_PROTO_DOWN.
  setup: {
    ...etherSetup,
    liveAddrChange: false,
    protoDown: true,
    maxMtu: ETH_MAX_MTU,
    // vxlan_change_mtu(): no more than the lower device takes.
    changeMtu(dev, mtu) {
      const c = vxlanConfOf(dev);
      if (c?.remoteIfindex) {
        const lower = dev.netns.byIfindex(c.remoteIfindex);
        if (lower && mtu > lower.mtu - vxlanHeadroom(c.flags)) return -Errno.EINVAL;
      }
      return mtu;
    },
  },

  /** vxlan_validate(). */
  validate(tb, data, extack) {
    const addr = tb[IFLA.ADDRESS];
    if (addr) {
      if (addr.dataLength !== ETH_ALEN) return errMsg(extack, Errno.EINVAL, 'Provided link layer address is not Ethernet', addr);
      if (!isValidEtherAddr(nlaMemcpy(addr))) return errMsg(extack, Errno.EADDRNOTAVAIL, 'Provided Ethernet address is not unicast', addr);
    }
    const mtu = tb[IFLA.MTU];
    if (mtu) {
      const v = nlaGetU32(mtu);
      if (v < ETH_MIN_MTU || v > ETH_MAX_MTU) return errMsg(extack, Errno.EINVAL, 'MTU must be between 68 and 65535', mtu);
    }
    if (data === undefined) return errMsg(extack, Errno.EINVAL, 'Required attributes not provided to perform the operation');
    const id = data[IFLA_VXLAN.ID];
    if (id && nlaGetU32(id) >= VXLAN_N_VID) return errMsg(extack, Errno.ERANGE, 'VXLAN ID must be lower than 16777216', id);
    const range = data[IFLA_VXLAN.PORT_RANGE];
    if (range && nlaGetBe16(range) > range.dv.getUint16(range.dataOffset + 2, false)) {
      return errMsg(extack, Errno.EINVAL, 'Invalid source port range', range);
    }
    const df = data[IFLA_VXLAN.DF];
    if (df && nlaGetU8(df) > TUNNEL_DF.INHERIT) return errMsg(extack, Errno.EINVAL, 'Invalid DF attribute', df);
    return 0;
  },

  /** vxlan_newlink() -> __vxlan_dev_create(). */
  newlink(rtnl, r, proto) {
    const c = vxlanNl2conf(r.tb, r.data ?? [], undefined, r.extack);
    if (typeof c === 'number') return c;
    const valid = vxlanConfigValidate(r.ns, c, undefined, r.extack);
    if (typeof valid === 'number') return valid;
    const lower = valid.lower;
    if (lower !== undefined) {
      proto.maxMtu = Math.max(ETH_MIN_MTU, lower.mtu - vxlanHeadroom(c.flags));
      if (!c.mtu) proto.mtu = proto.maxMtu;
    }
    if (c.mtu) proto.mtu = c.mtu;
    if (proto.mtu > proto.maxMtu) proto.mtu = proto.maxMtu;
    proto.priv = { kind: 'vxlan', conf: c };
    const dev = registerNetdevice(rtnl, r.ns, proto);
    if (typeof dev === 'number') return dev;
    // __vxlan_dev_create() calls rtnl_configure_link(dev, NULL) itself.
    rtnl.configureLink(dev, undefined);
    return dev;
  },

  /** vxlan_changelink(). */
  changelink(_rtnl, dev, tb, data, extack) {
    const c = vxlanNl2conf(tb, data, vxlanConfOf(dev), extack);
    if (typeof c === 'number') return c;
    const valid = vxlanConfigValidate(dev.netns, c, dev, extack);
    if (typeof valid === 'number') return valid;
    const lower = valid.lower;
    if (lower !== undefined) dev.maxMtu = Math.max(ETH_MIN_MTU, lower.mtu - vxlanHeadroom(c.flags));
    if (dev.mtu > dev.maxMtu) dev.mtu = dev.maxMtu;
    dev.priv = { kind: 'vxlan', conf: c };
    return 0;
  },

  dellink: (dev) => [dev],

  fillInfo(dev) {
    const c = vxlanConfOf(dev);
    return c !== undefined ? vxlanFillInfo(c) : undefined;
  },

  init(dev) {
    dev.priv ??= { kind: 'vxlan', conf: vxlanCollectMdConf(undefined, false) };
  },
};
