/**
 * The address and route requests of rtnetlink, as Linux 6.1 answers them:
 * the per-family dispatch (rtnl_register(PF_INET / PF_INET6, ...)), the
 * dumps, the replies and notifications to RTNLGRP_IPV4_IFADDR / IPV6_IFADDR
 * / IPV4_ROUTE / IPV6_ROUTE, and the IPv4 route requests
 * (inet_rtm_newroute / delroute, fib_check_nh of fib_semantics.c) with the
 * table insertion both families share (fib_table_insert, fib6_add_rt2node).
 * The address requests are in devinet.ts (IPv4) and net/ipv6/addrconf.ts,
 * the IPv6 route requests in net/ipv6/route.ts.
 *
 * Requests dispatch on their first payload byte (rtgen_family) as
 * rtnetlink_rcv_msg() does: AF_INET, AF_INET6, or for a dump anything else
 * means both (rtnl_dump_all(): IPv4 first). Replies are built as
 * inet_fill_ifaddr(), inet6_fill_ifaddr(), fib_dump_info() and
 * rt6_fill_node() build them, each in its own attribute order.
 *
 * Not modelled: a GETROUTE that is not a dump (the route lookup: answered
 * EOPNOTSUPP), a GETADDR that is not a dump (IPv6 answers one address in
 * Linux; EOPNOTSUPP here), strict-checking dump filters, multipath routes
 * (RTA_MULTIPATH) and nexthop objects (RTA_NH_ID answers "Nexthop id does not
 * exist", there being none), RTA_VIA, route metrics other than reporting
 * RTA_METRICS back as given, address lifetimes that run out. A dump is a
 * snapshot taken when it starts, handed out chunk by chunk.
 */
import {
  AF_INET,
  IFA,
  RTA,
  nlaGetU32,
  nlaGetU8,
  nlaLen,
  nlaMemcpy,
  nlaStrscpy,
  AF_INET6,
  ATTR_ORDER,
  AttrSet,
  type AttrTable,
  Errno,
  IFA_F,
  INFINITY_LIFE_TIME,
  NLMSG_HDRLEN,
  NLM_F,
  NL_VALIDATE,
  NetlinkProtocol,
  RTM,
  RTM_F,
  RTN,
  RTN_MAX,
  RTNH_F,
  RTNLGRP,
  RT_SCOPE,
  RT_TABLE,
  type RtaAttrs,
  type RtnlAddrMessage,
  type RtnlRouteMessage,
  align4,
  attr,
  binary,
  encode,
  ifaddrmsg,
  nlaParse,
  rtmsg,
  u32,
} from '@ovs/genl-codec';
import { type FibRoute, isRejectType, maskPrefix, minScope, prefixContains, sameBytes, sameKey } from './fib_trie.js';
import { type ExtAck, errMsg, nlaFailure } from '../netlink/extack.js';
import type { HandlerResult } from '../netlink/genetlink.js';
import { type InetAddress, sameRoute } from './devinet.js';
import type { Kernel, ProtocolHandler, Request } from '../../kernel.js';
import type { KernelSocket } from '../netlink/af_netlink.js';
import { NetDevice } from '../../include/linux/netdevice.js';
import { ifaIpv6Policy, inet6RtmDeladdr, inet6RtmNewaddr } from '../ipv6/addrconf.js';
import { inet6RtmRoute, rtmIpv6Policy } from '../ipv6/route.js';
import { ifaIpv4Policy, inetRtmDeladdr, inetRtmNewaddr } from './devinet.js';
import type { Netns } from '../core/net_namespace.js';

type Answer = ReturnType<ProtocolHandler>;

/** Who asked for a change: notifications carry its port id and seq, and echo to it with NLM_F_ECHO. */
interface Requester {
  sock: KernelSocket;
  seq: number;
  flags: number;
}

// ---------------------------------------------------------------------------
// Requests

const u32p = binary({ policy: 'U32' });

/** rtm_ipv4_policy. */
const rtmIpv4Policy = new AttrSet('rtm_ipv4_policy', {
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
  dst: attr(RTA.DST, 'RTA_DST', u32p),
  src: attr(RTA.SRC, 'RTA_SRC', u32p),
  gateway: attr(RTA.GATEWAY, 'RTA_GATEWAY', u32p),
  prefsrc: attr(RTA.PREFSRC, 'RTA_PREFSRC', u32p),
  flow: attr(RTA.FLOW, 'RTA_FLOW', u32p),
});

// ---------------------------------------------------------------------------
// Filling messages

/** The attribute order a fill function writes (ATTR_ORDER), for the family whose order the codec's set does not follow. */
function ordered<T extends object>(attrs: T, order: readonly number[]): T {
  Object.defineProperty(attrs, ATTR_ORDER, { value: [...order], enumerable: false, writable: true, configurable: true });
  return attrs;
}

/** rt6_fill_node(): TABLE, DST, SRC, PREFSRC, METRICS, PRIORITY, GATEWAY, OIF, CACHEINFO, PREF. */
const RT6_FILL_ORDER = [RTA.TABLE, RTA.DST, RTA.SRC, RTA.PREFSRC, RTA.METRICS, RTA.PRIORITY, RTA.GATEWAY, RTA.OIF, RTA.CACHEINFO, RTA.PREF];
/** inet6_fill_ifaddr(): LOCAL and ADDRESS (peer), RT_PRIORITY, CACHEINFO, FLAGS, PROTO. */
const IFA6_FILL_ORDER = [IFA.LOCAL, IFA.ADDRESS, IFA.RT_PRIORITY, IFA.CACHEINFO, IFA.FLAGS, IFA.PROTO];

/** The rtm_flags a route reports: its nexthop's RTNH_F_* (fib_nexthop_info()). */
function reportedFlags(r: FibRoute): number {
  return r.nhFlags & (RTNH_F.ONLINK | RTNH_F.LINKDOWN | RTNH_F.DEAD);
}

/** fib_dump_info() for IPv4, rt6_fill_node() for IPv6. */
export function fillRoute(r: FibRoute, type: number, pid: number, seq: number, flags: number): RtnlRouteMessage {
  const v4 = r.family === AF_INET;
  const attrs: RtaAttrs = { table: r.table };
  if (r.dstLen) attrs.dst = r.dst.slice();
  if (!v4 && r.srcLen) attrs.src = r.src.slice();
  if (v4 && r.priority) attrs.priority = r.priority;
  if (r.metrics !== undefined) attrs.metrics = r.metrics.slice();
  if (r.prefsrc !== undefined) attrs.prefsrc = r.prefsrc.slice();
  if (!v4) attrs.priority = r.priority;
  if (r.gateway !== undefined) attrs.gateway = r.gateway.slice();
  if (r.oif) attrs.oif = r.oif;
  if (!v4) {
    attrs.cacheinfo = { clntref: 0, lastuse: 0, expires: 0, error: 0, used: 0, id: 0, ts: 0, tsage: 0 };
    attrs.pref = r.pref;
    ordered(attrs, RT6_FILL_ORDER);
  }
  return {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type, flags, seq, pid },
    family: 'route',
    rtmsg: {
      family: r.family,
      dstLen: r.dstLen,
      srcLen: v4 ? 0 : r.srcLen,
      tos: v4 ? r.tos : 0,
      table: r.table < 256 ? r.table : RT_TABLE.COMPAT,
      protocol: r.protocol,
      scope: v4 ? r.scope : RT_SCOPE.UNIVERSE,
      type: r.type,
      flags: reportedFlags(r),
    },
    attrs,
  };
}

/** inet_fill_ifaddr() for IPv4, inet6_fill_ifaddr() for IPv6. */
export function fillAddr(a: InetAddress, type: number, pid: number, seq: number, flags: number): RtnlAddrMessage {
  const permanent = a.family === AF_INET ? (a.flags & IFA_F.PERMANENT) !== 0 : (a.flags & IFA_F.PERMANENT) !== 0 && a.prefered === INFINITY_LIFE_TIME;
  const cacheinfo = {
    prefered: permanent ? INFINITY_LIFE_TIME : a.prefered,
    valid: permanent ? INFINITY_LIFE_TIME : a.valid,
    cstamp: a.cstamp,
    tstamp: a.tstamp,
  };
  const attrs: RtnlAddrMessage['attrs'] = {};
  const nonzero = (b: Uint8Array | undefined) => b?.some((x) => x !== 0) === true;
  if (a.family === AF_INET) {
    if (nonzero(a.address)) attrs.address = a.address.slice();
    if (nonzero(a.local)) attrs.local = a.local.slice();
    if (nonzero(a.broadcast)) attrs.broadcast = a.broadcast!.slice();
    if (a.label) attrs.label = a.label;
    if (a.proto) attrs.proto = a.proto;
    attrs.flags = a.flags;
    if (a.rtPriority) attrs.rtPriority = a.rtPriority;
    attrs.cacheinfo = cacheinfo;
  } else {
    if (a.address.length) {
      attrs.local = a.local.slice();
      attrs.address = a.address.slice();
    } else {
      attrs.address = a.local.slice();
    }
    if (a.rtPriority) attrs.rtPriority = a.rtPriority;
    attrs.cacheinfo = cacheinfo;
    attrs.flags = a.flags;
    if (a.proto) attrs.proto = a.proto;
    ordered(attrs, IFA6_FILL_ORDER);
  }
  return {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type, flags, seq, pid },
    family: 'addr',
    ifaddrmsg: { family: a.family, prefixlen: a.prefixlen, flags: a.flags & 0xff, scope: a.scope, index: a.dev.ifindex },
    attrs,
  };
}

// ---------------------------------------------------------------------------
// Requests

/** A request being handled: the message, and its tb[] read with the codec's nla_get_*(). */
export class Req {
  readonly dv: DataView;
  constructor(
    readonly req: Request,
    readonly tb: AttrTable,
  ) {
    this.dv = req.dv;
  }
  has(t: number): boolean {
    return this.tb[t] !== undefined;
  }
  u32(t: number, dflt = 0): number {
    return nlaGetU32(this.tb[t], dflt);
  }
  u8(t: number, dflt = 0): number {
    return nlaGetU8(this.tb[t], dflt);
  }
  /** The first `n` bytes of an attribute (nla_memcpy), zero-filled past its end. */
  bytes(t: number, n: number): Uint8Array | undefined {
    const a = this.tb[t];
    return a !== undefined ? nlaMemcpy(a, n) : undefined;
  }
  len(t: number): number {
    const a = this.tb[t];
    return a !== undefined ? nlaLen(a) : 0;
  }
  /** nla_strscpy(). */
  str(t: number, size: number): string | undefined {
    const a = this.tb[t];
    return a !== undefined ? nlaStrscpy(a, size) : undefined;
  }
}

/** The NETLINK_ROUTE handlers for addresses and routes; rtnetlink.ts dispatches to them. */
export class InetRtnetlink {
  private readonly attached = new WeakSet<Netns>();

  constructor(private readonly kernel: Kernel) {}

  /** Send a namespace's address and route changes to their groups. */
  attach(ns: Netns): void {
    if (this.attached.has(ns)) return;
    this.attached.add(ns);
    ns.fib.listeners.push({
      routeChanged: (r, event, nlFlags, requester) => {
        const ctx = requester as Requester | undefined;
        const msg = fillRoute(r, event === 'new' ? RTM.NEWROUTE : RTM.DELROUTE, ctx?.sock.portId ?? 0, ctx?.seq ?? 0, nlFlags);
        this.notify(ns, r.family === AF_INET ? RTNLGRP.IPV4_ROUTE : RTNLGRP.IPV6_ROUTE, encode(msg), ctx);
      },
    });
    ns.addresses.listeners.push({
      addressChanged: (a, event, requester) => {
        // inet6_ifa_notify() has no requester: port id and seq 0, no echo.
        const ctx = a.family === AF_INET ? (requester as Requester | undefined) : undefined;
        const msg = fillAddr(a, event === 'new' ? RTM.NEWADDR : RTM.DELADDR, ctx?.sock.portId ?? 0, ctx?.seq ?? 0, 0);
        this.notify(ns, a.family === AF_INET ? RTNLGRP.IPV4_IFADDR : RTNLGRP.IPV6_IFADDR, encode(msg), ctx);
      },
    });
  }

  /** rtnl_notify(): the group's members, the requester excluded and echoed to when it asked (NLM_F_ECHO). */
  private notify(ns: Netns, group: number, bytes: Uint8Array, ctx: Requester | undefined): void {
    const echo = ctx !== undefined && (ctx.flags & NLM_F.ECHO) !== 0;
    this.kernel.multicast(NetlinkProtocol.NETLINK_ROUTE, ns, group, bytes, echo ? ctx.sock.portId : 0);
    if (echo && ctx.sock.netns === ns) ctx.sock.deliver(bytes);
  }

  /** One address or route request (the caller checked the type, the 1-byte minimum and CAP_NET_ADMIN). */
  handle(req: Request): Answer {
    this.attach(req.sock.netns);
    const family = req.bytes[NLMSG_HDRLEN]!;
    if ((req.flags & NLM_F.DUMP) === NLM_F.DUMP && (req.type === RTM.GETADDR || req.type === RTM.GETROUTE)) {
      return this.dump(req, family);
    }
    if (family !== AF_INET && family !== AF_INET6) return -Errno.EOPNOTSUPP;
    switch (req.type) {
      case RTM.NEWADDR:
      case RTM.DELADDR: {
        const tb = this.parse(req, ifaddrmsg.size, family === AF_INET ? ifaIpv4Policy : ifaIpv6Policy);
        if (!Array.isArray(tb)) return tb;
        const r = new Req(req, tb);
        if (family === AF_INET) return req.type === RTM.NEWADDR ? inetRtmNewaddr(r) : inetRtmDeladdr(r);
        return req.type === RTM.NEWADDR ? inet6RtmNewaddr(r) : inet6RtmDeladdr(r);
      }
      case RTM.NEWROUTE:
      case RTM.DELROUTE: {
        const tb = this.parse(req, rtmsg.size, family === AF_INET ? rtmIpv4Policy : rtmIpv6Policy);
        if (!Array.isArray(tb)) return tb;
        const r = new Req(req, tb);
        return family === AF_INET ? inetRtmRoute(r, req.type === RTM.NEWROUTE) : inet6RtmRoute(r, req.type === RTM.NEWROUTE);
      }
      default:
        return -Errno.EOPNOTSUPP;
    }
  }

  /** nlmsg_parse_deprecated(): the fixed header must be there, attributes validated liberally. */
  private parse(req: Request, hdrlen: number, policy: AttrSet): AttrTable | HandlerResult {
    if (req.bytes.length < NLMSG_HDRLEN + hdrlen) return -Errno.EINVAL;
    const r = nlaParse(policy, req.bytes, NLMSG_HDRLEN + hdrlen, req.bytes.length, NL_VALIDATE.LIBERAL);
    if ('failure' in r) return nlaFailure(req.extack, r.failure);
    return r.tb;
  }

  /** inet_dump_ifaddr() / inet6_dump_addr() / inet_dump_fib() / inet6_dump_fib(), or rtnl_dump_all() over both. */
  private dump(req: Request, family: number): Answer {
    const ns = req.sock.netns;
    const fam = family === AF_INET || family === AF_INET6 ? family : undefined;
    const sock = req.sock;
    const flags = NLM_F.MULTI;
    let out: Uint8Array[];
    if (req.type === RTM.GETADDR) {
      out = ns.addresses.all(fam).map((a) => encode(fillAddr(a, RTM.NEWADDR, sock.portId, req.seq, flags)));
    } else {
      // A full rtmsg may ask for the cache (RTM_F_CLONED: exceptions only) or IPv6 RA prefixes (RTM_F_PREFIX): none here.
      const rtmFlags = req.bytes.length >= NLMSG_HDRLEN + rtmsg.size ? req.dv.getUint32(NLMSG_HDRLEN + 8, true) : 0;
      const routes = rtmFlags & RTM_F.CLONED ? [] : ns.fib.routes(fam).filter((r) => !(rtmFlags & RTM_F.PREFIX && r.family === AF_INET6));
      out = routes.map((r) => encode(fillRoute(r, RTM.NEWROUTE, sock.portId, req.seq, flags)));
    }
    let next = 0;
    return this.kernel.startDump(sock, req.seq, (chunk, budget) => {
      let used = 0;
      while (next < out.length) {
        const b = out[next]!;
        if (used > 0 && used + align4(b.length) > budget) return { done: false };
        chunk.push(b);
        used += align4(b.length);
        next++;
      }
      return used > 0 ? { done: false } : { done: true, error: 0 };
    });
  }
}

export function requester(req: Request): Requester {
  return { sock: req.sock, seq: req.seq, flags: req.flags };
}

/** rtm_to_fib_config(), then inet_rtm_newroute() (fib_create_info(), fib_table_insert()) or inet_rtm_delroute(). */
function inetRtmRoute(r: Req, add: boolean): HandlerResult {
  const rtm = rtmsg.read(r.req.bytes, r.dv, NLMSG_HDRLEN);
  const ns = r.req.sock.netns;
  if (rtm.tos & 3) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid dsfield (tos): ECN bits must be 0');
  if (rtm.type > RTN_MAX) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid route type');
  const dst = r.bytes(RTA.DST, 4) ?? new Uint8Array(4);
  const gw = r.bytes(RTA.GATEWAY, 4);
  const gateway = gw?.some((x) => x !== 0) ? gw : undefined;
  const oif = r.u32(RTA.OIF);
  const multipath = r.has(RTA.MULTIPATH);
  if (rtm.dstLen > 32) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid prefix length');
  if (!sameBytes(maskPrefix(dst, rtm.dstLen), dst)) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid prefix for given prefix length');
  if (r.has(RTA.NH_ID) && (oif || gateway || multipath))
    return errMsg(r.req.extack, Errno.EINVAL, 'Nexthop specification and nexthop id are mutually exclusive');
  if (r.has(RTA.GATEWAY) && r.has(RTA.VIA)) return errMsg(r.req.extack, Errno.EINVAL, 'Nexthop configuration can not contain both GATEWAY and VIA');
  const table = r.u32(RTA.TABLE, rtm.table) || RT_TABLE.MAIN;
  const cfg: FibRoute = {
    family: AF_INET,
    table,
    dst,
    dstLen: rtm.dstLen,
    src: new Uint8Array(0),
    srcLen: 0,
    tos: rtm.tos,
    type: rtm.type,
    protocol: rtm.protocol,
    scope: rtm.scope,
    priority: r.u32(RTA.PRIORITY),
    oif,
    gateway,
    prefsrc: r.bytes(RTA.PREFSRC, 4),
    nhFlags: rtm.flags & RTNH_F.ONLINK,
    metrics: r.has(RTA.METRICS) ? r.bytes(RTA.METRICS, r.len(RTA.METRICS)) : undefined,
    pref: 0,
  };
  const who = requester(r.req);
  if (r.has(RTA.NH_ID)) return errMsg(r.req.extack, Errno.EINVAL, 'Nexthop id does not exist');
  if (!add) {
    if (!ns.fib.hasTable(AF_INET, table)) return errMsg(r.req.extack, Errno.ESRCH, 'FIB table does not exist');
    // fib_table_delete(): the first alias of that prefix and TOS that every given field matches.
    const victim = ns.fib
      .tableRoutes(AF_INET, table)!
      .find(
        (x) =>
          sameKey(x, cfg) &&
          (!cfg.type || x.type === cfg.type) &&
          (cfg.scope === RT_SCOPE.NOWHERE || x.scope === cfg.scope) &&
          (cfg.prefsrc === undefined || !cfg.prefsrc.some((b) => b !== 0) || sameBytes(x.prefsrc, cfg.prefsrc)) &&
          (!cfg.protocol || x.protocol === cfg.protocol) &&
          (!cfg.priority || x.priority === cfg.priority) &&
          (!oif || x.oif === oif) &&
          (gateway === undefined || sameBytes(x.gateway, gateway)),
      );
    if (victim === undefined) return -Errno.ESRCH;
    ns.fib.remove(victim, { requester: who });
    return 0;
  }
  if (multipath || r.has(RTA.VIA)) return -Errno.EOPNOTSUPP;
  // fib_create_info()
  if (minScope(cfg.type) > cfg.scope) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid scope');
  if (isRejectType(cfg.type)) {
    if (gateway || oif) return errMsg(r.req.extack, Errno.EINVAL, 'Gateway, device and multipath can not be specified for this route type');
  } else {
    if (cfg.type < RTN.UNICAST || cfg.type > RTN.MULTICAST) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid route type');
    if (cfg.scope > RT_SCOPE.HOST) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid scope');
    if (cfg.scope === RT_SCOPE.HOST) {
      if (gateway) return errMsg(r.req.extack, Errno.EINVAL, 'Route with host scope can not have a gateway');
      if (ns.byIfindex(oif) === undefined) return -Errno.ENODEV;
    } else {
      const dev = fibCheckNh(ns, cfg, r.req.extack);
      if (!(dev instanceof NetDevice)) return dev;
      cfg.oif = dev.ifindex;
      if (!dev.carrier) cfg.nhFlags |= RTNH_F.LINKDOWN;
    }
  }
  if (cfg.prefsrc !== undefined && !cfg.prefsrc.some((x) => x !== 0)) cfg.prefsrc = undefined;
  if (cfg.prefsrc !== undefined) {
    const local = ns.addresses.all(AF_INET).some((a) => sameBytes(a.local, cfg.prefsrc));
    if (!local && !(cfg.type === RTN.LOCAL && sameBytes(cfg.prefsrc, cfg.dst))) return errMsg(r.req.extack, Errno.EINVAL, 'Invalid prefsrc address');
  }
  return fibTableInsert(ns, cfg, r.req.flags, who);
}

/** fib_check_nh(): the nexthop device, through the gateway's connected route when there is a gateway. */
function fibCheckNh(ns: Netns, cfg: FibRoute, extack: ExtAck): NetDevice | HandlerResult {
  let dev: NetDevice | undefined;
  if (cfg.gateway !== undefined && !(cfg.nhFlags & RTNH_F.ONLINK)) {
    const via = ns.fib
      .routes(AF_INET)
      .filter(
        (x) =>
          (x.table === cfg.table || x.table === RT_TABLE.MAIN || x.table === RT_TABLE.LOCAL) &&
          x.gateway === undefined &&
          x.oif &&
          prefixContains(x.dst, x.dstLen, cfg.gateway!),
      )
      .sort((a, b) => b.dstLen - a.dstLen)[0];
    if (via === undefined || (cfg.oif && via.oif !== cfg.oif)) return errMsg(extack, Errno.ENETUNREACH, 'Nexthop has invalid gateway');
    if (via.type === RTN.LOCAL) return errMsg(extack, Errno.EINVAL, 'Nexthop has invalid gateway');
    dev = ns.byIfindex(via.oif);
  } else {
    dev = ns.byIfindex(cfg.oif);
  }
  if (dev === undefined) return -Errno.ENODEV;
  if (!dev.isUp) return errMsg(extack, Errno.ENETDOWN, cfg.gateway !== undefined ? 'Nexthop device is not up' : 'Device for nexthop is not up');
  return dev;
}

/**
 * A route with the same prefix and priority as others: EEXIST with
 * NLM_F_EXCL; NLM_F_REPLACE replaces the first of them; an identical one
 * (IPv6: the same nexthop) is EEXIST; otherwise it joins them. Without
 * NLM_F_CREATE an IPv4 route is ENOENT (IPv6 only warns).
 */
export function fibTableInsert(ns: Netns, cfg: FibRoute, nlFlags: number, who: Requester): HandlerResult {
  const peers = (ns.fib.tableRoutes(cfg.family, cfg.table) ?? []).filter((x) => sameKey(x, cfg) && x.priority === cfg.priority);
  const v4 = cfg.family === AF_INET;
  let flags: number = NLM_F.EXCL;
  if (peers.length > 0) {
    if (nlFlags & NLM_F.EXCL) return -Errno.EEXIST;
    flags &= ~NLM_F.EXCL;
    const match = peers.find((x) => (v4 ? sameRoute(x, cfg) && x.scope === cfg.scope : x.oif === cfg.oif && sameBytes(x.gateway, cfg.gateway)));
    if (nlFlags & NLM_F.REPLACE) {
      if (match !== undefined && v4) return match === peers[0] ? 0 : -Errno.EEXIST;
      ns.fib.remove(peers[0]!, { notify: false });
      ns.fib.insert(cfg, { nlFlags: NLM_F.REPLACE, requester: who });
      return 0;
    }
    if (match !== undefined) return -Errno.EEXIST;
    if (v4 && nlFlags & NLM_F.APPEND) flags |= NLM_F.APPEND;
  } else if (nlFlags & NLM_F.REPLACE && !v4 && !(nlFlags & NLM_F.CREATE)) {
    return -Errno.ENOENT;
  }
  if (v4 && !(nlFlags & NLM_F.CREATE)) return -Errno.ENOENT;
  ns.fib.insert(cfg, { append: (nlFlags & NLM_F.APPEND) !== 0, nlFlags: flags | NLM_F.CREATE, requester: who });
  return 0;
}
