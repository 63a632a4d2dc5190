/**
 * IPv6 routes requested over rtnetlink (net/ipv6/route.c): rtm_ipv6_policy,
 * inet6_rtm_newroute() / inet6_rtm_delroute() with rtm_to_fib6_config() and
 * ip6_route_check_nh(). The table itself is fib_trie.ts's, replies
 * fib_frontend.ts's fillRoute() (rt6_fill_node()).
 */
import {
  AF_INET6,
  attr,
  AttrSet,
  binary,
  Errno,
  IFF,
  NLMSG_HDRLEN,
  RT_SCOPE,
  RT_TABLE,
  RTA,
  RTM_F,
  rtmsg,
  RTN,
  RTN_MAX,
  RTNH_F,
  RTPROT,
  u32,
  u8,
} from '@ovs/genl-codec';
import { NetDevice } from '../../include/linux/netdevice.js';
import type { Netns } from '../core/net_namespace.js';
import { type FibRoute, isRejectType, maskPrefix, prefixContains, sameBytes, sameKey } from '../ipv4/fib_trie.js';
import { type Req, fibTableInsert, requester } from '../ipv4/fib_frontend.js';
import { type ExtAck, errMsg } from '../netlink/extack.js';
import type { HandlerResult } from '../netlink/genetlink.js';
const in6p = binary({ policy: 'UNSPEC', len: 16 });
/** IP6_RT_PRIO_USER: the metric of an IPv6 route added without RTA_PRIORITY. */
const IP6_RT_PRIO_USER = 1024;
/** ICMPV6_ROUTER_PREF_LOW / HIGH; anything else reads as MEDIUM (0). */
const ROUTER_PREF_HIGH = 1;
const ROUTER_PREF_LOW = 3;
const u32p = binary({ policy: 'U32' });

/** rtm_ipv6_policy. */
export const rtmIpv6Policy = new AttrSet('rtm_ipv6_policy', {
  oif: attr(RTA.OIF, 'RTA_OIF', u32),
  iif: attr(RTA.IIF, 'RTA_IIF', u32),
  priority: attr(RTA.PRIORITY, 'RTA_PRIORITY', u32),
  metrics: attr(RTA.METRICS, 'RTA_METRICS', binary({ policy: 'NESTED' })),
  multipath: attr(RTA.MULTIPATH, 'RTA_MULTIPATH', binary({ policy: 'UNSPEC', len: 8 })),
  encapType: attr(RTA.ENCAP_TYPE, 'RTA_ENCAP_TYPE', binary({ policy: 'U16' })),
  encap: attr(RTA.ENCAP, 'RTA_ENCAP', binary({ policy: 'NESTED' })),
  uid: attr(RTA.UID, 'RTA_UID', u32p),
  mark: attr(RTA.MARK, 'RTA_MARK', u32p),
  table: attr(RTA.TABLE, 'RTA_TABLE', u32),
  ipProto: attr(RTA.IP_PROTO, 'RTA_IP_PROTO', binary({ policy: 'U8' })),
  sport: attr(RTA.SPORT, 'RTA_SPORT', binary({ policy: 'U16' })),
  dport: attr(RTA.DPORT, 'RTA_DPORT', binary({ policy: 'U16' })),
  nhId: attr(RTA.NH_ID, 'RTA_NH_ID', u32),
  dst: attr(RTA.DST, 'RTA_DST', binary()),
  src: attr(RTA.SRC, 'RTA_SRC', binary()),
  gateway: attr(RTA.GATEWAY, 'RTA_GATEWAY', in6p),
  prefsrc: attr(RTA.PREFSRC, 'RTA_PREFSRC', in6p),
  pref: attr(RTA.PREF, 'RTA_PREF', u8),
  expires: attr(RTA.EXPIRES, 'RTA_EXPIRES', u32),
});

/** rtm_to_fib6_config(), then inet6_rtm_newroute() (ip6_route_info_create(), fib6_add()) or inet6_rtm_delroute(). */
export function inet6RtmRoute(r: Req, add: boolean): HandlerResult {
  const rtm = rtmsg.read(r.req.bytes, r.dv, NLMSG_HDRLEN);
  const ns = r.req.sock.netns;
  const prefixBytes = (t: number, plen: number): Uint8Array | undefined | false => {
    if (!r.has(t)) return undefined;
    const n = (plen + 7) >> 3;
    return r.len(t) < n
      ? false
      : maskPrefix(
          r.bytes(t, 16)!.map((x, i) => (i < n ? x : 0)),
          Math.min(plen, 128),
        );
  };
  if (r.has(RTA.VIA)) return errMsg(r.req.extack, Errno.EINVAL, 'IPv6 does not support RTA_VIA attribute');
  const dst = prefixBytes(RTA.DST, rtm.dstLen);
  const src = prefixBytes(RTA.SRC, rtm.srcLen);
  if (dst === false || src === false) return -Errno.EINVAL;
  const pref = r.u8(RTA.PREF);
  const cfg: FibRoute = {
    family: AF_INET6,
    table: r.u32(RTA.TABLE, rtm.table),
    dst: dst ?? new Uint8Array(16),
    dstLen: rtm.dstLen,
    src: rtm.srcLen ? (src ?? new Uint8Array(16)) : new Uint8Array(0),
    srcLen: rtm.srcLen,
    tos: 0,
    type: rtm.type,
    protocol: rtm.protocol,
    scope: RT_SCOPE.UNIVERSE,
    priority: r.u32(RTA.PRIORITY),
    oif: r.u32(RTA.OIF),
    gateway: r.bytes(RTA.GATEWAY, 16),
    prefsrc: r.bytes(RTA.PREFSRC, 16),
    nhFlags: rtm.flags & RTNH_F.ONLINK,
    metrics: r.has(RTA.METRICS) ? r.bytes(RTA.METRICS, r.len(RTA.METRICS)) : undefined,
    pref: pref === ROUTER_PREF_LOW || pref === ROUTER_PREF_HIGH ? pref : 0,
  };
  // fib6_get_table() / fib6_new_table(): table 0 is main.
  if (!cfg.table) cfg.table = RT_TABLE.MAIN;
  if (!add) {
    if (!ns.fib.hasTable(AF_INET6, cfg.table)) return errMsg(r.req.extack, Errno.ESRCH, 'FIB table does not exist');
    // ip6_route_del(): the routes of that node; metric, protocol, device and gateway when given.
    const victim = ns.fib
      .tableRoutes(AF_INET6, cfg.table)!
      .find(
        (x) =>
          sameKey(x, cfg) &&
          (!cfg.priority || x.priority === cfg.priority) &&
          (!cfg.protocol || x.protocol === cfg.protocol) &&
          (!cfg.oif || x.oif === cfg.oif) &&
          (cfg.gateway === undefined || sameBytes(x.gateway, cfg.gateway)),
      );
    if (victim === undefined) return -Errno.ESRCH;
    ns.fib.remove(victim, { requester: requester(r.req) });
    return 0;
  }
  if (r.has(RTA.MULTIPATH)) return -Errno.EOPNOTSUPP;
  if (!cfg.priority) cfg.priority = IP6_RT_PRIO_USER;
  // ip6_route_info_create()
  if (rtm.flags & RTM_F.CLONED) return errMsg(r.req.extack, Errno.EINVAL, 'Userspace can not set RTF_CACHE');
  if (cfg.type > RTN_MAX) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid route type');
  if (cfg.dstLen > 128) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid prefix length');
  if (cfg.srcLen > 128) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid source address length');
  if (r.has(RTA.NH_ID)) return errMsg(r.req.extack, Errno.EINVAL, 'Nexthop id does not exist');
  if (!cfg.protocol) cfg.protocol = RTPROT.BOOT;
  if (!cfg.type) cfg.type = RTN.UNICAST;
  // fib6_nh_init()
  let dev: NetDevice | undefined;
  if (cfg.oif) {
    dev = ns.byIfindex(cfg.oif);
    if (dev === undefined || dev.mtu < 1280) return -Errno.ENODEV;
  }
  if (isRejectType(cfg.type)) {
    dev = ns.byIfname('lo');
    cfg.gateway = undefined;
  } else {
    if (cfg.gateway !== undefined) {
      const found = ip6RouteCheckGw(ns, cfg, dev, r.req.extack);
      if (!(found instanceof NetDevice)) return found;
      dev = found;
    }
    if (dev === undefined) return -Errno.ENODEV;
    if (!dev.isUp) return errMsg(r.req.extack, Errno.ENETDOWN, 'Nexthop device is not up');
    if (cfg.type !== RTN.LOCAL && cfg.type !== RTN.ANYCAST && !dev.carrier) cfg.nhFlags |= RTNH_F.LINKDOWN;
  }
  cfg.oif = dev?.ifindex ?? 0;
  if (cfg.prefsrc !== undefined) {
    if (!ns.addresses.all(AF_INET6).some((a) => sameBytes(a.local, cfg.prefsrc) && (dev === undefined || a.dev === dev))) {
      return errMsg(r.req.extack, Errno.EINVAL, 'Invalid source address');
    }
  }
  return fibTableInsert(ns, cfg, r.req.flags, requester(r.req));
}

/** ip6_validate_gw(): a link-local gateway needs the device; another needs a route to it. */
function ip6RouteCheckGw(ns: Netns, cfg: FibRoute, dev: NetDevice | undefined, extack: ExtAck): NetDevice | HandlerResult {
  const gw = cfg.gateway!;
  if (ns.addresses.all(AF_INET6).some((a) => sameBytes(a.local, gw) && (dev === undefined || a.dev === dev))) {
    return errMsg(extack, Errno.EINVAL, 'Gateway can not be a local address');
  }
  const linkLocal = gw[0] === 0xfe && (gw[1]! & 0xc0) === 0x80;
  if (!linkLocal) {
    if (gw[0] === 0xff || gw.every((x) => x === 0)) return errMsg(extack, Errno.EINVAL, 'Invalid gateway address');
    if (!(cfg.nhFlags & RTNH_F.ONLINK)) {
      const via = ns.fib
        .routes(AF_INET6)
        .filter((x) => x.type === RTN.UNICAST && x.gateway === undefined && prefixContains(x.dst, x.dstLen, gw) && (dev === undefined || x.oif === dev.ifindex))
        .sort((a, b) => b.dstLen - a.dstLen)[0];
      if (via === undefined) return -Errno.EHOSTUNREACH;
      dev ??= ns.byIfindex(via.oif);
    }
  }
  if (dev === undefined) return errMsg(extack, Errno.EINVAL, 'Egress device not specified');
  if (dev.flags & IFF.LOOPBACK) return errMsg(extack, Errno.EINVAL, 'Egress device can not be loopback device for this route');
  return dev;
}
