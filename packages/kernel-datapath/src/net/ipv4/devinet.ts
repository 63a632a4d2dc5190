/**
 * The IP addresses of one namespace: each device's IPv4 list (struct
 * in_ifaddr, net/ipv4/devinet.c) and IPv6 list (struct inet6_ifaddr,
 * net/ipv6/addrconf.c), and the routes an address brings with it
 * (fib_add_ifaddr() / fib_del_ifaddr(), addrconf_prefix_route() and the
 * local /128 of addrconf_f6i_alloc()).
 *
 * List order, which is the dump order within a device: IPv4 primaries by
 * scope (host before link before universe), a new one after those of its
 * scope, secondaries (same subnet as an earlier address) after them
 * (__inet_insert_ifa()); IPv6 by source scope (global before link-local), a
 * new one before those of its scope (ipv6_link_dev_addr()).
 *
 * Not modelled: IPv4 secondary promotion on delete, address lifetimes
 * running out (the lifetimes given are reported as they were given),
 * duplicate address detection (see addrconf.ts), IPv6 temporary addresses.
 */
import {
  AF_INET,
  AF_INET6,
  attr,
  AttrSet,
  binary,
  Errno,
  IFA,
  IFA_F,
  type IfaAttrs,
  ifaddrmsg,
  type IfAddrMsg,
  IFF,
  INFINITY_LIFE_TIME,
  NLM_F,
  NLMSG_HDRLEN,
  RT_SCOPE,
  RT_TABLE,
  RTN,
  RTPROT,
  u32,
  u8,
} from '@ovs/genl-codec';
import type { HandlerResult } from '../netlink/genetlink.js';
import { type Req, requester } from './fib_frontend.js';
import { type Fib, type FibRoute, maskPrefix, prefixContains, sameBytes, sameKey } from './fib_trie.js';
import type { NetDevice } from '../../include/linux/netdevice.js';
import type { Netns } from '../core/net_namespace.js';

/** An address: an IPv4 in_ifaddr or an IPv6 inet6_ifaddr. */
export interface InetAddress {
  family: typeof AF_INET | typeof AF_INET6;
  dev: NetDevice;
  /** IPv4 ifa_local; the IPv6 address. */
  local: Uint8Array;
  /** IPv4 ifa_address (the peer on point-to-point links, else ifa_local); the IPv6 peer (empty: none). */
  address: Uint8Array;
  prefixlen: number;
  /** IFA_F_*. */
  flags: number;
  /** RT_SCOPE_*, as ifa_scope reports it. */
  scope: number;
  /** IPv4 ifa_label ('' for IPv6). */
  label: string;
  broadcast: Uint8Array | undefined;
  rtPriority: number;
  /** IFAPROT_*. */
  proto: number;
  prefered: number;
  valid: number;
  /** Created / updated, in hundredths of seconds since boot. */
  cstamp: number;
  tstamp: number;
}

/** What an address change notifies: the address, and who asked (undefined: the kernel itself). */
export interface IfaddrListener {
  addressChanged(addr: InetAddress, event: 'new' | 'del', requester: unknown): void;
}

/** Hundredths of seconds since the model started (jiffies as ifa_cacheinfo counts them). */
export function uptimeCs(): number {
  return Math.floor(performance.now() / 10);
}

/** ipv6_addr_src_scope(): the sort key of a device's IPv6 list. */
function srcScope(a: Uint8Array): number {
  if (a[0] === 0xff) return a[1]! & 0x0f;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) return 0x2;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0xc0) return 0x5;
  if (a.every((x, i) => x === (i === 15 ? 1 : 0))) return 0x2;
  return 0xe;
}

/** rt_scope(ipv6_addr_scope()): the ifa_scope an IPv6 address reports. */
export function ipv6RtScope(a: Uint8Array): number {
  if (a.every((x, i) => x === (i === 15 ? 1 : 0))) return RT_SCOPE.HOST;
  switch (srcScope(a)) {
    case 0x1:
      return RT_SCOPE.HOST;
    case 0x2:
      return RT_SCOPE.LINK;
    case 0x5:
      return RT_SCOPE.SITE;
    default:
      return RT_SCOPE.UNIVERSE;
  }
}

/** Hand-derived defaults of an address, for the test-facing add(). */
function addressFromMessage(ns: Netns, ifa: IfAddrMsg, attrs: IfaAttrs): InetAddress {
  const dev = ns.byIfindex(ifa.index);
  if (dev === undefined) throw new Error(`no device with ifindex ${ifa.index} in ${ns.name}`);
  const family = ifa.family === AF_INET6 ? AF_INET6 : AF_INET;
  const local = (family === AF_INET ? (attrs.local ?? attrs.address) : (attrs.address ?? attrs.local)) ?? new Uint8Array(family === AF_INET ? 4 : 16);
  const ci = attrs.cacheinfo;
  return {
    family,
    dev,
    local: local.slice(),
    address:
      family === AF_INET
        ? (attrs.address ?? local).slice()
        : attrs.local !== undefined && attrs.address !== undefined
          ? attrs.address.slice()
          : new Uint8Array(0),
    prefixlen: ifa.prefixlen,
    flags: attrs.flags ?? ifa.flags,
    scope: ifa.scope,
    label: attrs.label ?? '',
    broadcast: attrs.broadcast?.slice(),
    rtPriority: attrs.rtPriority ?? 0,
    proto: attrs.proto ?? 0,
    prefered: ci?.prefered ?? INFINITY_LIFE_TIME,
    valid: ci?.valid ?? INFINITY_LIFE_TIME,
    cstamp: ci?.cstamp ?? uptimeCs(),
    tstamp: ci?.tstamp ?? uptimeCs(),
  };
}

/** The addresses of one namespace. */
export class InetAddresses {
  private readonly v4 = new Map<NetDevice, InetAddress[]>();
  private readonly v6 = new Map<NetDevice, InetAddress[]>();
  readonly listeners: IfaddrListener[] = [];

  constructor(
    private readonly ns: Netns,
    private readonly fib: Fib,
  ) {}

  private lists(family: number): Map<NetDevice, InetAddress[]> {
    return family === AF_INET ? this.v4 : this.v6;
  }

  /** A device's addresses of one family, in list order. */
  of(dev: NetDevice, family: number): readonly InetAddress[] {
    return this.lists(family).get(dev) ?? [];
  }

  /**
   * Every address of `family` (both, IPv4 first, when undefined) in dump
   * order: devices in dev_index_head order (256 buckets by ifindex, the
   * newest device first in a bucket), each device's list in its order.
   */
  all(family?: number): InetAddress[] {
    const devs = [...this.ns.devices].sort((a, b) => (a.ifindex & 0xff) - (b.ifindex & 0xff) || b.ifindex - a.ifindex);
    const out: InetAddress[] = [];
    for (const f of family === undefined ? [AF_INET, AF_INET6] : [family]) for (const d of devs) out.push(...this.of(d, f));
    return out;
  }

  private notify(addr: InetAddress, event: 'new' | 'del', requester: unknown): void {
    for (const l of this.listeners) l.addressChanged(addr, event, requester);
  }

  // -------------------------------------------------------------------------
  // IPv4 (devinet.c, fib_frontend.c)

  /**
   * __inet_insert_ifa(): EEXIST for the same local address in the same
   * subnet, EINVAL for a different scope there; otherwise a secondary when
   * the subnet already has a primary. RTM_NEWADDR, then the routes.
   */
  insertV4(ifa: InetAddress, requester?: unknown): number {
    const list = this.lists(AF_INET).get(ifa.dev) ?? [];
    ifa.flags &= ~IFA_F.SECONDARY;
    let lastPrimary = 0;
    for (const [i, a] of list.entries()) {
      if (!(a.flags & IFA_F.SECONDARY) && ifa.scope <= a.scope) lastPrimary = i + 1;
      if (a.prefixlen === ifa.prefixlen && prefixContains(maskPrefix(a.address, a.prefixlen), ifa.prefixlen, ifa.address)) {
        if (sameBytes(a.local, ifa.local)) return -Errno.EEXIST;
        if (a.scope !== ifa.scope) return -Errno.EINVAL;
        ifa.flags |= IFA_F.SECONDARY;
      }
    }
    list.splice(ifa.flags & IFA_F.SECONDARY ? list.length : lastPrimary, 0, ifa);
    this.lists(AF_INET).set(ifa.dev, list);
    this.notify(ifa, 'new', requester);
    this.addV4Routes(ifa);
    return 0;
  }

  /** __inet_del_ifa(): RTM_DELADDR, then the routes no other address of the device still needs. */
  deleteV4(ifa: InetAddress, requester?: unknown): void {
    const list = this.lists(AF_INET).get(ifa.dev) ?? [];
    const i = list.indexOf(ifa);
    if (i < 0) return;
    list.splice(i, 1);
    this.notify(ifa, 'del', requester);
    const kept = list.flatMap((a) => this.v4Routes(a));
    for (const want of this.v4Routes(ifa)) {
      if (kept.some((k) => sameRoute(k, want))) continue;
      const r = this.fib.tableRoutes(AF_INET, want.table)?.find((x) => sameRoute(x, want));
      if (r !== undefined) this.fib.remove(r);
    }
  }

  /** The routes fib_add_ifaddr() makes for an address (broadcasts and the prefix only while the device is up). */
  private v4Routes(ifa: InetAddress): FibRoute[] {
    const dev = ifa.dev;
    const prim =
      ifa.flags & IFA_F.SECONDARY
        ? this.of(dev, AF_INET).find(
            (a) =>
              !(a.flags & IFA_F.SECONDARY) && a.prefixlen === ifa.prefixlen && prefixContains(maskPrefix(a.address, a.prefixlen), a.prefixlen, ifa.address),
          )
        : ifa;
    if (prim === undefined) return [];
    const magic = (type: number, dst: Uint8Array, dstLen: number, priority = 0): FibRoute => ({
      family: AF_INET,
      table: type === RTN.UNICAST ? RT_TABLE.MAIN : RT_TABLE.LOCAL,
      dst: maskPrefix(dst, dstLen),
      dstLen,
      src: new Uint8Array(0),
      srcLen: 0,
      tos: 0,
      type,
      protocol: RTPROT.KERNEL,
      scope: type === RTN.LOCAL ? RT_SCOPE.HOST : RT_SCOPE.LINK,
      priority,
      oif: dev.ifindex,
      gateway: undefined,
      prefsrc: prim.local.slice(),
      nhFlags: 0,
      metrics: undefined,
      pref: 0,
    });
    const out = [magic(RTN.LOCAL, ifa.local, 32)];
    if (!dev.isUp) return out;
    const bcast = (a: Uint8Array) => a.some((x) => x !== 0) && !a.every((x) => x === 0xff);
    if (ifa.broadcast !== undefined && bcast(ifa.broadcast)) out.push(magic(RTN.BROADCAST, ifa.broadcast, 32));
    const prefix = maskPrefix(ifa.address, ifa.prefixlen);
    if (prefix.some((x) => x !== 0) && !(ifa.flags & IFA_F.SECONDARY) && (!sameBytes(prefix, ifa.local) || ifa.prefixlen < 32)) {
      if (!(ifa.flags & IFA_F.NOPREFIXROUTE)) out.push(magic(dev.flags & IFF.LOOPBACK ? RTN.LOCAL : RTN.UNICAST, prefix, ifa.prefixlen, ifa.rtPriority));
      if (ifa.prefixlen < 31) out.push(magic(RTN.BROADCAST, broadcastOf(prefix, ifa.prefixlen), 32));
    }
    return out;
  }

  /** fib_add_ifaddr() through fib_magic(): NLM_F_CREATE | NLM_F_APPEND, an identical route already there is left alone. */
  addV4Routes(ifa: InetAddress): void {
    for (const r of this.v4Routes(ifa)) addKernelRoute(this.fib, r, true);
  }

  // -------------------------------------------------------------------------
  // IPv6 (addrconf.c)

  /**
   * ipv6_add_addr() and what inet6_addr_add() / addrconf_add_linklocal() do
   * next: the prefix route (unless IFA_F_NOPREFIXROUTE or `noPrefixRoute`),
   * RTM_NEWADDR, and once the address is no longer tentative its local /128.
   * The kernel makes those routes for itself: their notifications carry no requester.
   */
  insertV6(ifa: InetAddress, opts: { prefixRoute: boolean }): number {
    if (this.of(ifa.dev, AF_INET6).some((a) => sameBytes(a.local, ifa.local))) return -Errno.EEXIST;
    const list = this.lists(AF_INET6).get(ifa.dev) ?? [];
    const scope = srcScope(ifa.local);
    let i = list.findIndex((a) => scope >= srcScope(a.local));
    if (i < 0) i = list.length;
    list.splice(i, 0, ifa);
    this.lists(AF_INET6).set(ifa.dev, list);
    if (opts.prefixRoute && !(ifa.flags & IFA_F.NOPREFIXROUTE)) addKernelRoute(this.fib, this.v6PrefixRoute(ifa), false);
    this.notify(ifa, 'new', undefined);
    if (!(ifa.flags & IFA_F.TENTATIVE)) addKernelRoute(this.fib, v6LocalRoute(ifa), false);
    return 0;
  }

  /** addrconf_dad_completed(): the address leaves IFA_F_TENTATIVE: RTM_NEWADDR, then its local route. */
  dadCompleted(ifa: InetAddress): void {
    if (!(ifa.flags & IFA_F.TENTATIVE)) return;
    ifa.flags &= ~IFA_F.TENTATIVE;
    this.notify(ifa, 'new', undefined);
    addKernelRoute(this.fib, v6LocalRoute(ifa), false);
  }

  /** ipv6_del_addr(): RTM_DELADDR, its local route, and its prefix route when no other address of the device shares it. */
  deleteV6(ifa: InetAddress): void {
    const list = this.lists(AF_INET6).get(ifa.dev) ?? [];
    const i = list.indexOf(ifa);
    if (i < 0) return;
    list.splice(i, 1);
    this.notify(ifa, 'del', undefined);
    const local = v6LocalRoute(ifa);
    this.fib.removeWhere((r) => sameRoute(r, local));
    const prefix = this.v6PrefixRoute(ifa);
    const shared = list.some((a) => a.prefixlen === ifa.prefixlen && prefixContains(prefix.dst, prefix.dstLen, a.local));
    if (!shared && !(ifa.flags & IFA_F.NOPREFIXROUTE)) {
      const r = this.fib
        .tableRoutes(AF_INET6, RT_TABLE.MAIN)
        ?.find((x) => sameKey(x, prefix) && x.oif === prefix.oif && x.priority === prefix.priority && x.protocol === RTPROT.KERNEL);
      if (r !== undefined) this.fib.remove(r);
    }
  }

  /** addrconf_permanent_addr() on NETDEV_UP: the prefix routes of the permanent addresses (added while down). */
  restoreV6PrefixRoutes(dev: NetDevice): void {
    for (const a of this.of(dev, AF_INET6)) {
      if (a.flags & IFA_F.PERMANENT && !(a.flags & IFA_F.NOPREFIXROUTE)) addKernelRoute(this.fib, this.v6PrefixRoute(a), false);
    }
  }

  /** addrconf_prefix_route(): main table, metric IFA_RT_PRIORITY or 256. */
  private v6PrefixRoute(ifa: InetAddress): FibRoute {
    return {
      ...v6LocalRoute(ifa),
      table: RT_TABLE.MAIN,
      dst: maskPrefix(ifa.local, ifa.prefixlen),
      dstLen: ifa.prefixlen,
      type: RTN.UNICAST,
      priority: ifa.rtPriority || 256,
    };
  }

  /** Forget a device's addresses without notifications or routes (the device is gone). */
  forget(dev: NetDevice, family: number): void {
    this.lists(family).delete(dev);
  }

  // -------------------------------------------------------------------------
  // For tests: make the lists equal to a captured machine's.

  /** Remove every address (no notifications, routes untouched). */
  flush(): void {
    this.v4.clear();
    this.v6.clear();
  }

  /** Append an address given as the parts of a decoded RTM_NEWADDR, as a dump lists it (no routes, no notification). */
  add(parts: { ifaddrmsg: IfAddrMsg; attrs: IfaAttrs }): InetAddress {
    const a = addressFromMessage(this.ns, parts.ifaddrmsg, parts.attrs);
    const lists = this.lists(a.family);
    lists.set(a.dev, [...(lists.get(a.dev) ?? []), a]);
    return a;
  }
}

/** The last address of a prefix (prefix | ~mask). */
function broadcastOf(prefix: Uint8Array, len: number): Uint8Array {
  const mask = maskPrefix(new Uint8Array(prefix.length).fill(0xff), len);
  return prefix.map((x, i) => x | (~mask[i]! & 0xff));
}

/** The local /128 of an IPv6 address (addrconf_f6i_alloc()): local table, metric 0, on the address's device. */
function v6LocalRoute(ifa: InetAddress): FibRoute {
  return {
    family: AF_INET6,
    table: RT_TABLE.LOCAL,
    dst: ifa.local.slice(),
    dstLen: 128,
    src: new Uint8Array(0),
    srcLen: 0,
    tos: 0,
    type: RTN.LOCAL,
    protocol: RTPROT.KERNEL,
    scope: RT_SCOPE.UNIVERSE,
    priority: 0,
    oif: ifa.dev.ifindex,
    gateway: undefined,
    prefsrc: undefined,
    nhFlags: 0,
    metrics: undefined,
    pref: 0,
  };
}

/** The same route: key, type, table, nexthop, source, priority, protocol. */
export function sameRoute(a: FibRoute, b: FibRoute): boolean {
  return (
    sameKey(a, b) &&
    a.table === b.table &&
    a.type === b.type &&
    a.oif === b.oif &&
    a.priority === b.priority &&
    a.protocol === b.protocol &&
    sameBytes(a.gateway, b.gateway) &&
    sameBytes(a.prefsrc, b.prefsrc)
  );
}

/**
 * A route the kernel adds for itself (no nlmsghdr): an identical one already
 * there is left alone (EEXIST, ignored). The notification's flags are those
 * fib_table_insert() / fib6_add_rt2node() compute: NLM_F_CREATE, with
 * NLM_F_EXCL unless routes of that key (IPv6: and metric) were there, and
 * NLM_F_APPEND for IPv4's appends.
 */
export function addKernelRoute(fib: Fib, route: FibRoute, append: boolean): void {
  const routes = fib.tableRoutes(route.family, route.table) ?? [];
  if (routes.some((r) => sameRoute(r, route))) return;
  const crowd = routes.some((r) => sameKey(r, route) && r.priority === route.priority);
  const nlFlags = NLM_F.CREATE | (crowd ? (route.family === AF_INET && append ? NLM_F.APPEND : 0) : NLM_F.EXCL);
  fib.insert(route, { append, nlFlags });
}

// ---------------------------------------------------------------------------
// RTM_NEWADDR / RTM_DELADDR for AF_INET (fib_frontend.ts dispatches them)

const u32p = binary({ policy: 'U32' });

/** ifa_ipv4_policy. */
export const ifaIpv4Policy = new AttrSet('ifa_ipv4_policy', {
  address: attr(IFA.ADDRESS, 'IFA_ADDRESS', u32p),
  local: attr(IFA.LOCAL, 'IFA_LOCAL', u32p),
  label: attr(IFA.LABEL, 'IFA_LABEL', binary({ policy: 'STRING', len: 15 })),
  broadcast: attr(IFA.BROADCAST, 'IFA_BROADCAST', u32p),
  cacheinfo: attr(IFA.CACHEINFO, 'IFA_CACHEINFO', binary({ policy: 'UNSPEC', len: 16 })),
  flags: attr(IFA.FLAGS, 'IFA_FLAGS', u32),
  rtPriority: attr(IFA.RT_PRIORITY, 'IFA_RT_PRIORITY', u32),
  targetNetnsid: attr(IFA.TARGET_NETNSID, 'IFA_TARGET_NETNSID', binary({ policy: 'S32' })),
  proto: attr(IFA.PROTO, 'IFA_PROTO', u8),
});

/** rtm_to_ifaddr() and inet_rtm_newaddr(). */
export function inetRtmNewaddr(r: Req): HandlerResult {
  const ifm = ifaddrmsg.read(r.req.bytes, r.dv, NLMSG_HDRLEN);
  if (ifm.prefixlen > 32 || !r.has(IFA.LOCAL)) return -Errno.EINVAL;
  const ns = r.req.sock.netns;
  const dev = ns.byIfindex(ifm.index);
  if (dev === undefined) return -Errno.ENODEV;
  let valid = INFINITY_LIFE_TIME;
  let prefered = INFINITY_LIFE_TIME;
  if (r.has(IFA.CACHEINFO)) {
    const off = r.tb[IFA.CACHEINFO]!.dataOffset;
    prefered = r.dv.getUint32(off, true);
    valid = r.dv.getUint32(off + 4, true);
    if (!valid || prefered > valid) return -Errno.EINVAL;
  }
  const local = r.bytes(IFA.LOCAL, 4)!;
  const now = uptimeCs();
  // set_ifa_lifetime(): IFA_F_PERMANENT iff the address never expires (IPv6-only flags dropped).
  let flags = r.has(IFA.FLAGS) ? r.u32(IFA.FLAGS) : ifm.flags;
  flags &= ~(
    IFA_F.NODAD |
    IFA_F.OPTIMISTIC |
    IFA_F.DADFAILED |
    IFA_F.HOMEADDRESS |
    IFA_F.TENTATIVE |
    IFA_F.MANAGETEMPADDR |
    IFA_F.STABLE_PRIVACY |
    IFA_F.DEPRECATED |
    IFA_F.PERMANENT
  );
  if (valid === INFINITY_LIFE_TIME) flags |= IFA_F.PERMANENT;
  if (prefered === 0) flags |= IFA_F.DEPRECATED;
  const ifa: InetAddress = {
    family: AF_INET,
    dev,
    local,
    address: r.bytes(IFA.ADDRESS, 4) ?? local.slice(),
    prefixlen: ifm.prefixlen,
    flags,
    scope: ifm.scope,
    label: r.str(IFA.LABEL, 16) ?? dev.name,
    broadcast: r.bytes(IFA.BROADCAST, 4),
    rtPriority: r.u32(IFA.RT_PRIORITY),
    proto: r.u8(IFA.PROTO),
    prefered,
    valid,
    cstamp: now,
    tstamp: now,
  };
  // find_matching_ifa(): same prefix length, subnet and local address.
  const existing = ns.addresses
    .of(dev, AF_INET)
    .find(
      (a) =>
        a.prefixlen === ifa.prefixlen && sameBytes(maskPrefix(a.address, a.prefixlen), maskPrefix(ifa.address, ifa.prefixlen)) && sameBytes(a.local, ifa.local),
    );
  if (existing !== undefined) {
    if (r.req.flags & NLM_F.EXCL || !(r.req.flags & NLM_F.REPLACE)) return -Errno.EEXIST;
    Object.assign(existing, {
      rtPriority: ifa.rtPriority,
      prefered,
      valid,
      tstamp: now,
      flags: (existing.flags & ~(IFA_F.PERMANENT | IFA_F.DEPRECATED)) | (flags & (IFA_F.PERMANENT | IFA_F.DEPRECATED)),
    });
    for (const l of ns.addresses.listeners) l.addressChanged(existing, 'new', requester(r.req));
    return 0;
  }
  if (!local.some((x) => x !== 0)) return 0; // __inet_insert_ifa(): no local address, nothing to do
  return ns.addresses.insertV4(ifa, requester(r.req));
}

/** inet_rtm_deladdr(): the first address matching IFA_LOCAL, IFA_LABEL and IFA_ADDRESS/prefix length. */
export function inetRtmDeladdr(r: Req): HandlerResult {
  const ifm = ifaddrmsg.read(r.req.bytes, r.dv, NLMSG_HDRLEN);
  const ns = r.req.sock.netns;
  const dev = ns.byIfindex(ifm.index);
  if (dev === undefined) return -Errno.ENODEV;
  const local = r.bytes(IFA.LOCAL, 4);
  const label = r.str(IFA.LABEL, 16);
  const address = r.bytes(IFA.ADDRESS, 4);
  const ifa = ns.addresses
    .of(dev, AF_INET)
    .find(
      (a) =>
        (local === undefined || sameBytes(a.local, local)) &&
        (label === undefined || a.label === label) &&
        (address === undefined || (ifm.prefixlen === a.prefixlen && prefixContains(maskPrefix(a.address, a.prefixlen), a.prefixlen, address))),
    );
  if (ifa === undefined) return -Errno.EADDRNOTAVAIL;
  ns.addresses.deleteV4(ifa, requester(r.req));
  return 0;
}
