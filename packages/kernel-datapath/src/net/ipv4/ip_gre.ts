/**
 * The gre and gretap drivers (net/ipv4/ip_gre.c, with what they use of
 * net/ipv4/ip_tunnel.c): struct ip_tunnel_parm from IFLA_GRE_*
 * (ipgre_netlink_parms), validation, ip_tunnel_newlink / changelink with
 * ip_tunnel_find(), the strict MTU change, and ipgre_fill_info().
 */
import {
  ARPHRD_ETHER,
  ARPHRD_NONE,
  type AttrTable,
  Errno,
  IFF,
  IFLA,
  IFLA_GRE,
  type IflaGreAttrs,
  type InfoData,
  OVS_VPORT_TYPE,
  iflaGreAttrs,
  nlaGetBe16,
  nlaGetBe32,
  nlaGetU16,
  nlaGetU32,
  nlaGetU8,
  nlaMemcpy,
} from '@ovs/genl-codec';
import type { NetDevice } from '../../include/linux/netdevice.js';
import { IP_MAX_MTU, isAnyAddr, sameAddr } from '../../include/net/ip.js';
import type { LinkProto, NewlinkRequest, RtnlLinkOps } from '../../include/net/rtnetlink.js';
import type { Rtnetlink } from '../core/rtnetlink.js';
import { netdevStateChange, registerNetdevice } from '../core/dev.js';
import { ETH_DATA_LEN, ETH_HLEN, ETH_MIN_MTU, ethValidateAddr, etherSetup } from '../ethernet/eth.js';

const ARPHRD_IPGRE = 778;
/** GRE_* header flags (include/uapi/linux/if_tunnel.h), host order of the be16. */
const GRE_F = { CSUM: 0x8000, ROUTING: 0x4000, KEY: 0x2000, SEQ: 0x1000, STRICT: 0x0800, REC: 0x0700, VERSION: 0x0007 } as const;

/** struct ip_tunnel_parm, and the ip_tunnel fields set beside it. */
export interface GreConf {
  link: number;
  iflags: number;
  oflags: number;
  ikey: number;
  okey: number;
  local: Uint8Array;
  remote: Uint8Array;
  ttl: number;
  tos: number;
  pmtudisc: boolean;
  ignoreDf: boolean;
  collectMd: boolean;
  fwmark: number;
}

function defaultGreConf(): GreConf {
  return {
    link: 0,
    iflags: 0,
    oflags: 0,
    ikey: 0,
    okey: 0,
    local: new Uint8Array(4),
    remote: new Uint8Array(4),
    ttl: 0,
    tos: 0,
    pmtudisc: true,
    ignoreDf: false,
    collectMd: false,
    fwmark: 0,
  };
}

/** netdev_priv() of a gre or gretap device. */
function greConfOf(dev: NetDevice): GreConf | undefined {
  return dev.priv?.kind === 'gre' ? dev.priv.conf : undefined;
}

/** gre_calc_hlen(): the GRE header for these flags. */
function greCalcHlen(oflags: number): number {
  let n = 4;
  if (oflags & GRE_F.CSUM) n += 4;
  if (oflags & GRE_F.KEY) n += 4;
  if (oflags & GRE_F.SEQ) n += 4;
  return n;
}

/** ip_tunnel_find()'s match: the same endpoints, link, device type and matching keys. */
function ipTunnelMatch(t: GreConf, p: GreConf, sameType: boolean): boolean {
  if (!sameAddr(t.local, p.local) || !sameAddr(t.remote, p.remote) || t.link !== p.link || !sameType) return false;
  // ip_tunnel_key_match()
  if (t.iflags & GRE_F.KEY) return (p.iflags & GRE_F.KEY) !== 0 && p.ikey === t.ikey;
  return !(p.iflags & GRE_F.KEY);
}

/** ipgre_fill_info(). */
function ipgreFillInfo(c: GreConf): InfoData {
  const a: IflaGreAttrs = {
    link: c.link,
    iflags: c.iflags,
    oflags: c.oflags,
    ikey: c.ikey,
    okey: c.okey,
    local: c.local.slice(0, 4),
    remote: c.remote.slice(0, 4),
    ttl: c.ttl,
    tos: c.tos,
    pmtudisc: c.pmtudisc ? 1 : 0,
    fwmark: c.fwmark,
    encapType: 0,
    encapSport: 0,
    encapDport: 0,
    encapFlags: 0,
    ignoreDf: c.ignoreDf ? 1 : 0,
  };
  if (c.collectMd) a.collectMetadata = true;
  return { set: 'gre', attrs: a };
}

/** ipgre_newlink_encap_setup() and ipgre_netlink_parms() into `c`. */
function ipgreNetlinkParms(data: AttrTable | undefined, c: GreConf): number {
  if (data === undefined) return 0;
  // ip_tunnel_encap_setup(): no FOU/GUE encapsulation module in the model.
  const et = data[IFLA_GRE.ENCAP_TYPE];
  if (et && nlaGetU16(et) !== 0) return -Errno.EINVAL;
  const link = data[IFLA_GRE.LINK];
  if (link) c.link = nlaGetU32(link);
  const toTnl = (f: number): number => (f & (GRE_F.CSUM | GRE_F.KEY | GRE_F.SEQ | GRE_F.STRICT)) | (f & GRE_F.REC ? GRE_F.REC : 0);
  const iflags = data[IFLA_GRE.IFLAGS];
  if (iflags) c.iflags = toTnl(nlaGetBe16(iflags));
  const oflags = data[IFLA_GRE.OFLAGS];
  if (oflags) c.oflags = toTnl(nlaGetBe16(oflags));
  const ikey = data[IFLA_GRE.IKEY];
  if (ikey) c.ikey = nlaGetBe32(ikey);
  const okey = data[IFLA_GRE.OKEY];
  if (okey) c.okey = nlaGetBe32(okey);
  const local = data[IFLA_GRE.LOCAL];
  if (local) c.local = nlaMemcpy(local, 4);
  const remote = data[IFLA_GRE.REMOTE];
  if (remote) c.remote = nlaMemcpy(remote, 4);
  const ttl = data[IFLA_GRE.TTL];
  if (ttl) c.ttl = nlaGetU8(ttl);
  const tos = data[IFLA_GRE.TOS];
  if (tos) c.tos = nlaGetU8(tos);
  const pmtu = data[IFLA_GRE.PMTUDISC];
  c.pmtudisc = false;
  if (!pmtu || nlaGetU8(pmtu)) {
    if (c.ignoreDf) return -Errno.EINVAL;
    c.pmtudisc = true;
  }
  if (data[IFLA_GRE.COLLECT_METADATA]) c.collectMd = true;
  const ignoreDf = data[IFLA_GRE.IGNORE_DF];
  if (ignoreDf) {
    if (nlaGetU8(ignoreDf) && c.pmtudisc) return -Errno.EINVAL;
    c.ignoreDf = nlaGetU8(ignoreDf) !== 0;
  }
  const fwmark = data[IFLA_GRE.FWMARK];
  if (fwmark) c.fwmark = nlaGetU32(fwmark);
  return 0;
}

/** ipgre_tunnel_validate(). */
function ipgreTunnelValidate(data: AttrTable | undefined): number {
  if (data === undefined) return 0;
  let flags = 0;
  const i = data[IFLA_GRE.IFLAGS];
  const o = data[IFLA_GRE.OFLAGS];
  if (i) flags |= nlaGetBe16(i);
  if (o) flags |= nlaGetBe16(o);
  if (flags & (GRE_F.VERSION | GRE_F.ROUTING)) return -Errno.EINVAL;
  const et = data[IFLA_GRE.ENCAP_TYPE];
  if (data[IFLA_GRE.COLLECT_METADATA] && et && nlaGetU16(et) !== 0) return -Errno.EINVAL;
  return 0;
}

/** ipgre_newlink() / ipgre_tap_newlink() -> ip_tunnel_newlink(). */
function ipgreNewlink(rtnl: Rtnetlink, r: NewlinkRequest, proto: LinkProto): NetDevice | number {
  const c = defaultGreConf();
  const bad = ipgreNetlinkParms(r.data, c);
  if (bad) return bad;
  const gre = proto.kind === 'gre';
  if (gre) proto.type = c.collectMd ? ARPHRD_NONE : ARPHRD_IPGRE;
  // One collect_md device per namespace and kind, else no equal tunnel.
  for (const d of r.ns.devices) {
    const o = d.kind === proto.kind ? greConfOf(d) : undefined;
    if (o === undefined) continue;
    if (c.collectMd ? o.collectMd : !o.collectMd && ipTunnelMatch(o, c, d.type === proto.type)) return -Errno.EEXIST;
  }
  const tHlen = greCalcHlen(c.oflags) + 20;
  const eth = gre ? 0 : ETH_HLEN;
  // ip_tunnel_bind_dev(): no route, so no lower device (unless IFLA_GRE_LINK names one).
  const lower = c.link ? r.ns.byIfindex(c.link) : undefined;
  let mtu = (lower !== undefined ? Math.min(lower.mtu, IP_MAX_MTU) : ETH_DATA_LEN) - tHlen - eth;
  if (mtu < 68) mtu = 68;
  if (r.tb[IFLA.MTU]) mtu = Math.max(ETH_MIN_MTU, Math.min(proto.mtu, IP_MAX_MTU - tHlen - eth));
  proto.mtu = mtu;
  if (gre) {
    // ipgre_tunnel_init(): the addresses are the tunnel's endpoints.
    proto.flags = IFF.NOARP | (!isAnyAddr(c.remote) && !c.collectMd ? IFF.POINTOPOINT : 0);
    proto.mac = c.local.slice(0, 4);
    proto.broadcast = c.remote.slice(0, 4);
  }
  proto.priv = { kind: 'gre', conf: c };
  return registerNetdevice(rtnl, r.ns, proto);
}

/** ipgre_changelink() -> ip_tunnel_changelink() -> ip_tunnel_update(). */
function ipgreChangelink(rtnl: Rtnetlink, dev: NetDevice, tb: AttrTable, data: AttrTable): number {
  const old = greConfOf(dev);
  if (old === undefined) return -Errno.EOPNOTSUPP;
  const c = defaultGreConf();
  c.collectMd = old.collectMd;
  c.ignoreDf = old.ignoreDf;
  c.fwmark = old.fwmark;
  const bad = ipgreNetlinkParms(data, c);
  if (bad) return bad;
  for (const d of dev.netns.devices) {
    const o = d !== dev && d.kind === dev.kind ? greConfOf(d) : undefined;
    if (o === undefined) continue;
    if (!o.collectMd && ipTunnelMatch(o, c, d.type === dev.type)) return -Errno.EEXIST;
  }
  if (dev.type !== ARPHRD_ETHER) {
    const r = c.remote;
    const nflags = (r[0]! & 0xf0) === 0xe0 ? IFF.BROADCAST : !isAnyAddr(r) ? IFF.POINTOPOINT : 0;
    if ((dev.flags ^ nflags) & (IFF.POINTOPOINT | IFF.BROADCAST)) return -Errno.EINVAL;
    dev.mac = c.local.slice(0, 4);
    dev.broadcast = c.remote.slice(0, 4);
  }
  if ((old.link !== c.link || old.fwmark !== c.fwmark) && !tb[IFLA.MTU]) {
    const lower = c.link ? dev.netns.byIfindex(c.link) : undefined;
    const tHlen = greCalcHlen(c.oflags) + 20;
    dev.mtu = Math.max(68, (lower !== undefined ? lower.mtu : ETH_DATA_LEN) - tHlen - (dev.type === ARPHRD_ETHER ? ETH_HLEN : 0));
  }
  dev.priv = { kind: 'gre', conf: c };
  netdevStateChange(rtnl, dev);
  return 0;
}

/** What gre and gretap share: the tunnel's net_device_ops. */
const ipTunnelNetdevOps = {
  /** __ip_tunnel_change_mtu(strict). */
  changeMtu(dev: NetDevice, mtu: number): number {
    const c = greConfOf(dev);
    const max = IP_MAX_MTU - (greCalcHlen(c?.oflags ?? 0) + 20) - (dev.type === ARPHRD_ETHER ? ETH_HLEN : 0);
    return mtu < ETH_MIN_MTU || mtu > max ? -Errno.EINVAL : mtu;
  },
  /** ip_tunnel_get_iflink(). */
  getIflink: (dev: NetDevice): number => greConfOf(dev)?.link ?? 0,
};

const ipgreCommonOps = {
  policy: iflaGreAttrs,
  module: { name: 'ip_gre', vportType: OVS_VPORT_TYPE.GRE },
  newlink: ipgreNewlink,
  changelink: ipgreChangelink,
  dellink: (dev: NetDevice): NetDevice[] => [dev],
  fillInfo(dev: NetDevice): InfoData | undefined {
    const c = greConfOf(dev);
    return c !== undefined ? ipgreFillInfo(c) : undefined;
  },
};

export const ipgreLinkOps: RtnlLinkOps = {
  ...ipgreCommonOps,
  kind: 'gre',
  // ipgre_tunnel_setup(): ARPHRD_IPGRE, no ether_setup (MTU bounds 0), no ndo_set_mac_address.
  setup: {
    ...etherSetup,
    ...ipTunnelNetdevOps,
    type: ARPHRD_IPGRE,
    addrLen: 4,
    flags: IFF.NOARP,
    noQueue: false,
    setMac: false,
    liveAddrChange: false,
    minMtu: 0,
    maxMtu: 0,
  },
  validate: (_tb, data) => ipgreTunnelValidate(data),
  init(dev) {
    dev.priv ??= { kind: 'gre', conf: gretapCollectMdConf() };
    const c = greConfOf(dev);
    if (c !== undefined) dev.broadcast = c.remote.slice(0, 4);
  },
};

export const ipgreTapLinkOps: RtnlLinkOps = {
  ...ipgreCommonOps,
  kind: 'gretap',
  // ipgre_tap_setup(): ether_setup with max_mtu 0; a real qdisc.
  setup: { ...etherSetup, ...ipTunnelNetdevOps, noQueue: false, maxMtu: 0 },
  /** ipgre_tap_validate(). */
  validate(tb, data) {
    const bad = ethValidateAddr(tb);
    if (bad) return bad;
    const remote = data?.[IFLA_GRE.REMOTE];
    if (remote && isAnyAddr(nlaMemcpy(remote, 4))) return -Errno.EINVAL;
    return ipgreTunnelValidate(data);
  },
  init(dev) {
    dev.priv ??= { kind: 'gre', conf: gretapCollectMdConf() };
  },
};

/** The configuration gretap_fb_dev_create() gives the device of an OVS gre vport: collect metadata. */
export function gretapCollectMdConf(): GreConf {
  return { ...defaultGreConf(), collectMd: true };
}
