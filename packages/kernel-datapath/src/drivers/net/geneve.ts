/**
 * The geneve driver (drivers/net/geneve.c): struct geneve_config from
 * IFLA_GENEVE_* (geneve_nl2info), geneve_configure()'s checks, changelink,
 * the MTU it clamps, and geneve_fill_info().
 */
import {
  ARPHRD_NONE,
  type AttrTable,
  Errno,
  IFF,
  IFLA,
  IFLA_GENEVE,
  type IflaGeneveAttrs,
  type InfoData,
  OVS_VPORT_TYPE,
  TUNNEL_DF,
  iflaGeneveAttrs,
  nlaGetBe16,
  nlaGetBe32,
  nlaGetU32,
  nlaGetU8,
  nlaMemcpy,
} from '@ovs/genl-codec';
import type { NetDevice } from '../../include/linux/netdevice.js';
import { IP_MAX_MTU, isAnyAddr, sameAddr } from '../../include/net/ip.js';
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import { ETH_ALEN, ETH_HLEN, ETH_MIN_MTU, etherSetup, isValidEtherAddr } from '../../net/ethernet/eth.js';
import { registerNetdevice } from '../../net/core/dev.js';
import { type ExtAck, errMsg } from '../../net/netlink/extack.js';

const GENEVE_UDP_PORT = 6081;
/** GENEVE_BASE_HLEN: struct udphdr + struct genevehdr. */
const GENEVE_BASE_HLEN = 16;
const GENEVE_N_VID = 1 << 24;

/** struct geneve_config (with the remote of its ip_tunnel_info). */
export interface GeneveConf {
  vni: number;
  remote: Uint8Array;
  ipv6: boolean;
  ttl: number;
  tos: number;
  label: number;
  df: number;
  port: number;
  csum: boolean;
  collectMd: boolean;
  udp6RxChecksums: boolean;
  ttlInherit: boolean;
  innerProtoInherit: boolean;
}

function defaultGeneveConf(): GeneveConf {
  return {
    vni: 0,
    remote: new Uint8Array(16),
    ipv6: false,
    ttl: 0,
    tos: 0,
    label: 0,
    df: TUNNEL_DF.UNSET,
    port: GENEVE_UDP_PORT,
    csum: false,
    collectMd: false,
    udp6RxChecksums: false,
    ttlInherit: false,
    innerProtoInherit: false,
  };
}

/** The configuration geneve_dev_create_fb() gives the device of an OVS geneve vport: collect metadata on its port. */
export function geneveCollectMdConf(port: number | undefined): GeneveConf {
  return { ...defaultGeneveConf(), collectMd: true, port: port ?? GENEVE_UDP_PORT };
}

/** netdev_priv() of a geneve device. */
function geneveConfOf(dev: NetDevice): GeneveConf | undefined {
  return dev.priv?.kind === 'geneve' ? dev.priv.conf : undefined;
}

/** geneve_setup() and geneve_configure(): the largest MTU for this configuration. */
function geneveMaxMtu(c: GeneveConf): number {
  const base = IP_MAX_MTU - GENEVE_BASE_HLEN - ETH_HLEN;
  return base - (!c.collectMd && !c.ipv6 ? 20 : 40);
}

/** geneve_fill_info(). */
function geneveFillInfo(c: GeneveConf): InfoData {
  const a: IflaGeneveAttrs = { id: c.vni };
  if (!c.collectMd && !c.ipv6) {
    a.remote = c.remote.slice(0, 4);
    a.udpCsum = c.csum ? 1 : 0;
  } else if (!c.collectMd) {
    a.remote6 = c.remote.slice();
    a.udpZeroCsum6Tx = c.csum ? 0 : 1;
  }
  Object.assign(a, { ttl: c.ttl, tos: c.tos, label: c.label, df: c.df, port: c.port } satisfies IflaGeneveAttrs);
  if (c.collectMd) a.collectMetadata = true;
  a.udpZeroCsum6Rx = c.udp6RxChecksums ? 0 : 1;
  a.ttlInherit = c.ttlInherit ? 1 : 0;
  if (c.innerProtoInherit) a.innerProtoInherit = true;
  return { set: 'geneve', attrs: a };
}

/** geneve_nl2info() into `c`. */
function geneveNl2info(data: AttrTable, c: GeneveConf, changelink: boolean, extack: ExtAck): number {
  const GN = IFLA_GENEVE;
  const notsup = (type: number): number =>
    errMsg(
      extack,
      Errno.EOPNOTSUPP,
      'Changing VNI, Port, endpoint IP address family, external, inner_proto_inherit, and UDP checksum attributes are not supported',
      data[type],
    );
  const remote = data[GN.REMOTE];
  const remote6 = data[GN.REMOTE6];
  if (remote && remote6) return errMsg(extack, Errno.EINVAL, 'Cannot specify both IPv4 and IPv6 Remote addresses');
  if (remote) {
    if (changelink && c.ipv6) return notsup(GN.REMOTE);
    const a = nlaMemcpy(remote, 4);
    c.remote = new Uint8Array(16);
    c.remote.set(a);
    if ((a[0]! & 0xf0) === 0xe0) return errMsg(extack, Errno.EINVAL, 'Remote IPv4 address cannot be Multicast', remote);
  }
  if (remote6) {
    if (changelink && !c.ipv6) return notsup(GN.REMOTE6);
    c.ipv6 = true;
    c.remote = nlaMemcpy(remote6, 16);
    if (c.remote[0] === 0xfe && (c.remote[1]! & 0xc0) === 0x80) return errMsg(extack, Errno.EINVAL, 'Remote IPv6 address cannot be link-local', remote6);
    if (c.remote[0] === 0xff) return errMsg(extack, Errno.EINVAL, 'Remote IPv6 address cannot be Multicast', remote6);
    c.csum = true;
    c.udp6RxChecksums = true;
  }
  const id = data[GN.ID];
  if (id) {
    const vni = nlaGetU32(id) & 0xffffff;
    if (changelink && vni !== c.vni) return notsup(GN.ID);
    c.vni = vni;
  }
  const ttlInherit = data[GN.TTL_INHERIT];
  const ttl = data[GN.TTL];
  if (ttlInherit) c.ttlInherit = nlaGetU8(ttlInherit) !== 0;
  else if (ttl) {
    c.ttl = nlaGetU8(ttl);
    c.ttlInherit = false;
  }
  const tos = data[GN.TOS];
  if (tos) c.tos = nlaGetU8(tos);
  const df = data[GN.DF];
  if (df) c.df = nlaGetU8(df);
  const label = data[GN.LABEL];
  if (label) {
    c.label = nlaGetBe32(label) & 0x000fffff;
    if (c.label && !c.ipv6) return errMsg(extack, Errno.EINVAL, 'Label attribute only applies for IPv6 Geneve devices', label);
  }
  const port = data[GN.PORT];
  if (port) {
    if (changelink) return notsup(GN.PORT);
    c.port = nlaGetBe16(port);
  }
  if (data[GN.COLLECT_METADATA]) {
    if (changelink) return notsup(GN.COLLECT_METADATA);
    c.collectMd = true;
  }
  const csum = data[GN.UDP_CSUM];
  if (csum) {
    if (changelink) return notsup(GN.UDP_CSUM);
    if (nlaGetU8(csum)) c.csum = true;
  }
  const z6tx = data[GN.UDP_ZERO_CSUM6_TX];
  if (z6tx) {
    if (changelink) return notsup(GN.UDP_ZERO_CSUM6_TX);
    if (nlaGetU8(z6tx)) c.csum = false;
  }
  const z6rx = data[GN.UDP_ZERO_CSUM6_RX];
  if (z6rx) {
    if (changelink) return notsup(GN.UDP_ZERO_CSUM6_RX);
    if (nlaGetU8(z6rx)) c.udp6RxChecksums = false;
  }
  if (data[GN.INNER_PROTO_INHERIT]) {
    if (changelink) return notsup(GN.INNER_PROTO_INHERIT);
    c.innerProtoInherit = true;
  }
  return 0;
}

export const geneveLinkOps: RtnlLinkOps = {
  kind: 'geneve',
  policy: iflaGeneveAttrs,
  module: { name: 'geneve', vportType: OVS_VPORT_TYPE.GENEVE },
  // geneve_setup(): max_mtu IP_MAX_MTU - GENEVE_BASE_HLEN - ETH_HLEN, reduced by geneve_configure().
  setup: {
    ...etherSetup,
    maxMtu: IP_MAX_MTU - GENEVE_BASE_HLEN - ETH_HLEN,
    // geneve_change_mtu() clamps.
    changeMtu: (dev, mtu) => Math.max(dev.minMtu, Math.min(mtu, dev.maxMtu)),
  },

  /** geneve_validate(). */
  validate(tb, data, extack) {
    const addr = tb[IFLA.ADDRESS];
    if (addr) {
      if (addr.dataLength !== ETH_ALEN) return errMsg(extack, Errno.EINVAL, 'Provided link layer address is not Ethernet', addr);
      if (!isValidEtherAddr(nlaMemcpy(addr))) return errMsg(extack, Errno.EADDRNOTAVAIL, 'Provided Ethernet address is not unicast', addr);
    }
    if (data === undefined) return errMsg(extack, Errno.EINVAL, 'Not enough attributes provided to perform the operation');
    const id = data[IFLA_GENEVE.ID];
    if (id && nlaGetU32(id) >= GENEVE_N_VID) return errMsg(extack, Errno.ERANGE, 'Geneve ID must be lower than 16777216', id);
    const df = data[IFLA_GENEVE.DF];
    if (df && nlaGetU8(df) > TUNNEL_DF.INHERIT) return errMsg(extack, Errno.EINVAL, 'Invalid DF attribute', df);
    return 0;
  },

  /** geneve_newlink() -> geneve_configure(). */
  newlink(rtnl, r, proto) {
    const c = defaultGeneveConf();
    const err = geneveNl2info(r.data ?? [], c, false, r.extack);
    if (err) return err;
    const zero = c.vni === 0 && !c.csum && c.tos === 0 && c.ttl === 0 && c.label === 0 && isAnyAddr(c.remote);
    if (c.collectMd && !zero) {
      return errMsg(r.extack, Errno.EINVAL, 'Device is externally controlled, so attributes (VNI, Port, and so on) must not be specified');
    }
    let samePort = false;
    let mdOnPort = false;
    for (const d of r.ns.devices) {
      const o = d.kind === 'geneve' ? geneveConfOf(d) : undefined;
      if (o === undefined) continue;
      if (o.port === c.port) {
        samePort = true;
        mdOnPort = o.collectMd;
      }
      if (o.vni === c.vni && o.port === c.port && sameAddr(o.remote, c.remote)) return -Errno.EBUSY;
    }
    proto.maxMtu = geneveMaxMtu(c);
    if (c.collectMd && samePort) return errMsg(r.extack, Errno.EPERM, 'There can be only one externally controlled device on a destination port');
    if (!c.collectMd && mdOnPort) return errMsg(r.extack, Errno.EPERM, 'There already exists an externally controlled device on this destination port');
    if (c.innerProtoInherit) {
      proto.type = ARPHRD_NONE;
      proto.mac = new Uint8Array(0);
      proto.broadcast = new Uint8Array(0);
      proto.flags = IFF.NOARP;
    }
    // geneve_link_config(): IFLA_MTU clamped; no route to learn a lower device's MTU from.
    if (r.tb[IFLA.MTU]) proto.mtu = Math.max(ETH_MIN_MTU, Math.min(proto.mtu, proto.maxMtu));
    proto.priv = { kind: 'geneve', conf: c };
    return registerNetdevice(rtnl, r.ns, proto);
  },

  /** geneve_changelink(). */
  changelink(_rtnl, dev, _tb, data, extack) {
    const old = geneveConfOf(dev);
    if (old === undefined || old.collectMd) return -Errno.EOPNOTSUPP;
    const c: GeneveConf = { ...old, remote: old.remote.slice() };
    const err = geneveNl2info(data, c, true, extack);
    if (err) return err;
    dev.priv = { kind: 'geneve', conf: c };
    return 0;
  },

  dellink: (dev) => [dev],

  fillInfo(dev) {
    const c = geneveConfOf(dev);
    return c !== undefined ? geneveFillInfo(c) : undefined;
  },

  init(dev) {
    dev.priv ??= { kind: 'geneve', conf: geneveCollectMdConf(undefined) };
    const c = geneveConfOf(dev);
    if (c !== undefined) dev.maxMtu = geneveMaxMtu(c);
  },
};
