/**
 * The forwarding information base of one namespace: the IPv4 tables
 * (net/ipv4/fib_trie.c) and the IPv6 tables (net/ipv6/ip6_fib.c), as
 * ordered lists that reproduce the order in which Linux 6.1 walks them.
 *
 * Dump order, the rule implemented here (and checked against the route dump
 * of golden/pcap/dpctl-datapath.pcap.gz):
 *
 * - IPv4 before IPv6 (rtnl_dump_all() walks the families by number).
 * - Within a family, table by table in hash order: bucket `id & 255`
 *   ascending (main 254 before local 255), and within a bucket the table
 *   created last first (hlist_add_head). Linux keeps IPv4 main and local in
 *   one trie, but inet_dump_fib() still walks one table after the other,
 *   printing only the aliases of that table (fn_trie_dump_leaf()).
 * - IPv4, within a table: trie leaves by key (the destination as a 32-bit
 *   number) ascending; in a leaf, longer prefixes first (fa_slen ascending),
 *   then TOS descending, then priority ascending. A route equal on all four to
 *   existing ones goes before them, or after them with NLM_F_APPEND
 *   (fib_table_insert(), fib_insert_alias()).
 * - IPv6, within a table: fib6_walk() is a post-order walk of a binary radix
 *   tree whose left child holds the 0 bit: of two prefixes, the one whose
 *   first differing bit is 0 comes first, and a prefix comes after every
 *   prefix it contains. Routes of one prefix (one fib6_node) by metric
 *   ascending, a new route after those of equal metric (fib6_add_rt2node()).
 *
 * Loaded in the captured dump order, routes therefore come out in that order.
 */
import { AF_INET, AF_INET6, RTN, RTNH_F, RT_SCOPE, RT_TABLE, type RtMsg, type RtaAttrs } from '@ovs/genl-codec';

/** One route: an IPv4 fib_alias with its fib_info, or an IPv6 fib6_info, with a single nexthop. */
export interface FibRoute {
  family: typeof AF_INET | typeof AF_INET6;
  /** Table id (u32). */
  table: number;
  /** The destination prefix, host bits zero (4 or 16 bytes). */
  dst: Uint8Array;
  dstLen: number;
  /** IPv6 source prefix (subtrees); empty for none. */
  src: Uint8Array;
  srcLen: number;
  tos: number;
  /** RTN_*. */
  type: number;
  /** RTPROT_*. */
  protocol: number;
  /** RT_SCOPE_* (IPv6 routes always report universe). */
  scope: number;
  /** IPv4 fib_priority / IPv6 fib6_metric. */
  priority: number;
  /** The nexthop device's ifindex (0: none, e.g. a blackhole). */
  oif: number;
  gateway: Uint8Array | undefined;
  prefsrc: Uint8Array | undefined;
  /** RTNH_F_ONLINK as requested; RTNH_F_LINKDOWN while the device has no carrier. */
  nhFlags: number;
  /** RTA_METRICS as given (nested RTAX_*), reported back as is. */
  metrics: Uint8Array | undefined;
  /** IPv6 router preference (RTA_PREF). */
  pref: number;
}

/** What a change notifies: the route, and who asked (undefined: the kernel itself). */
export interface FibListener {
  routeChanged(route: FibRoute, event: 'new' | 'del', nlFlags: number, requester: unknown): void;
}

/** A table: its id, when it was created (for the bucket order), and its routes in walk order. */
interface FibTable {
  readonly id: number;
  readonly created: number;
  readonly routes: FibRoute[];
}

const ipv4Key = (a: Uint8Array): number => ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
const bit = (a: Uint8Array, i: number): number => (a[i >> 3]! >> (7 - (i & 7))) & 1;

/** The address with every bit past `len` cleared (ipv6_addr_prefix, inet_make_mask). */
export function maskPrefix(a: Uint8Array, len: number): Uint8Array {
  const out = a.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    out[i]! &= (0xff00 >> keep) & 0xff;
  }
  return out;
}

/** Does prefix `p`/`len` contain address `a`? */
export function prefixContains(p: Uint8Array, len: number, a: Uint8Array): boolean {
  if (p.length !== a.length) return false;
  for (let i = 0; i < len; i++) if (bit(p, i) !== bit(a, i)) return false;
  return true;
}

export const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** fib6 tree order of two prefixes: <0 when (a, alen) is walked first, 0 for the same node. */
function fib6Order(a: Uint8Array, alen: number, b: Uint8Array, blen: number): number {
  const n = Math.min(alen, blen);
  for (let i = 0; i < n; i++) {
    const d = bit(a, i) - bit(b, i);
    if (d !== 0) return d;
  }
  return blen - alen;
}

/**
 * Where a route sorts among the routes of its table, before tie-breaking by
 * arrival: negative before, positive after, 0 when Linux keeps them side by side.
 */
function compare(a: FibRoute, b: FibRoute): number {
  if (a.family === AF_INET) {
    return ipv4Key(a.dst) - ipv4Key(b.dst) || b.dstLen - a.dstLen || b.tos - a.tos || a.priority - b.priority;
  }
  return fib6Order(a.dst, a.dstLen, b.dst, b.dstLen) || fib6Order(a.src, a.srcLen, b.src, b.srcLen) || a.priority - b.priority;
}

/** The prefix of the two routes is one fib6 node / fib leaf alias group. */
export function sameKey(a: FibRoute, b: FibRoute): boolean {
  return a.family === b.family && a.dstLen === b.dstLen && sameBytes(a.dst, b.dst) && a.srcLen === b.srcLen && sameBytes(a.src, b.src) && a.tos === b.tos;
}

/** fib_props[type].error: routes that answer with an error and have no nexthop. */
export function isRejectType(type: number): boolean {
  return type === RTN.BLACKHOLE || type === RTN.UNREACHABLE || type === RTN.PROHIBIT || type === RTN.THROW;
}

/** A route from the parts of a decoded RTM_NEWROUTE (what a dump of a real machine holds). */
export function routeFromMessage(rtmsg: RtMsg, attrs: RtaAttrs): FibRoute {
  const family = rtmsg.family === AF_INET6 ? AF_INET6 : AF_INET;
  const alen = family === AF_INET ? 4 : 16;
  const addr = (a: Uint8Array | undefined) => (a === undefined ? new Uint8Array(alen) : a.slice(0, alen));
  return {
    family,
    table: attrs.table ?? rtmsg.table,
    dst: maskPrefix(addr(attrs.dst), rtmsg.dstLen),
    dstLen: rtmsg.dstLen,
    src: rtmsg.srcLen ? maskPrefix(addr(attrs.src), rtmsg.srcLen) : new Uint8Array(0),
    srcLen: rtmsg.srcLen,
    tos: rtmsg.tos,
    type: rtmsg.type,
    protocol: rtmsg.protocol,
    scope: rtmsg.scope,
    priority: attrs.priority ?? 0,
    oif: attrs.oif ?? 0,
    gateway: attrs.gateway?.slice(),
    prefsrc: attrs.prefsrc?.slice(),
    nhFlags: rtmsg.flags & (RTNH_F.ONLINK | RTNH_F.LINKDOWN),
    metrics: attrs.metrics?.slice(),
    pref: attrs.pref ?? 0,
  };
}

/** The tables of one namespace, both families. */
export class Fib {
  private readonly tables = new Map<string, FibTable>();
  private created = 0;
  /** How many routes go through each device (ifindex): devices without any are skipped quickly. */
  private readonly perDevice = new Map<number, number>();
  readonly listeners: FibListener[] = [];

  constructor() {
    // fib6_tables_init(): IPv6 main and local exist from the start (IPv4 creates its tables on first use).
    this.table(AF_INET6, RT_TABLE.MAIN, true);
    this.table(AF_INET6, RT_TABLE.LOCAL, true);
  }

  /** fib_get_table() / fib6_get_table(), or with `create` fib_new_table() / fib6_new_table(). */
  private table(family: number, id: number, create: true): FibTable;
  private table(family: number, id: number, create?: boolean): FibTable | undefined;
  private table(family: number, id: number, create = false): FibTable | undefined {
    const key = `${family}:${id}`;
    let t = this.tables.get(key);
    if (t === undefined && create) this.tables.set(key, (t = { id, created: this.created++, routes: [] }));
    return t;
  }

  /** Does the table exist (fib_get_table() / fib6_get_table())? */
  hasTable(family: number, id: number): boolean {
    return this.tables.has(`${family}:${id}`);
  }

  /**
   * Put a route in its table (created if need be) at its place in the walk
   * order; `append` puts it after routes of the same key (NLM_F_APPEND).
   * No checks: callers (rtnetlink requests, addrconf) make the kernel's.
   */
  insert(route: FibRoute, opts: { append?: boolean; nlFlags?: number; requester?: unknown } = {}): void {
    const routes = this.table(route.family, route.table, true).routes;
    let i = 0;
    // IPv4 inserts before the equal group unless appending; IPv6 (a node's leaf list) after it.
    const after = route.family === AF_INET6 || opts.append === true;
    while (i < routes.length) {
      const c = compare(route, routes[i]!);
      if (c < 0 || (c === 0 && !after)) break;
      i++;
    }
    routes.splice(i, 0, route);
    this.count(route, 1);
    for (const l of this.listeners) l.routeChanged(route, 'new', opts.nlFlags ?? 0, opts.requester);
  }

  /** Take a route out of its table; `notify` false for the kernel's silent flushes (fib_table_flush()). */
  remove(route: FibRoute, opts: { notify?: boolean; requester?: unknown } = {}): void {
    const routes = this.table(route.family, route.table)?.routes;
    const i = routes?.indexOf(route) ?? -1;
    if (i < 0) return;
    routes!.splice(i, 1);
    this.count(route, -1);
    if (opts.notify !== false) for (const l of this.listeners) l.routeChanged(route, 'del', 0, opts.requester);
  }

  private count(route: FibRoute, n: number): void {
    this.perDevice.set(route.oif, (this.perDevice.get(route.oif) ?? 0) + n);
  }

  /** Does any route go through the device? */
  usesDevice(ifindex: number): boolean {
    return (this.perDevice.get(ifindex) ?? 0) > 0;
  }

  /** Remove every route `pred` selects, in walk order. */
  removeWhere(pred: (r: FibRoute) => boolean, opts: { notify?: boolean } = {}): FibRoute[] {
    const gone = this.routes().filter(pred);
    for (const r of gone) this.remove(r, opts);
    return gone;
  }

  /** The routes of one table (undefined: no such table), in walk order. */
  tableRoutes(family: number, id: number): readonly FibRoute[] | undefined {
    return this.table(family, id)?.routes;
  }

  /** Every route of `family` (both when undefined) in dump order: see the file comment. */
  routes(family?: number): FibRoute[] {
    const families = family === undefined ? [AF_INET, AF_INET6] : [family];
    const out: FibRoute[] = [];
    for (const f of families) {
      const tables = [...this.tables.entries()]
        .filter(([k]) => k.startsWith(`${f}:`))
        .map(([, t]) => t)
        .sort((a, b) => (a.id & 0xff) - (b.id & 0xff) || b.created - a.created);
      for (const t of tables) out.push(...t.routes);
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // For tests: make the tables equal to a captured machine's.

  /** Empty every table (no notifications). */
  flush(): void {
    for (const t of this.tables.values()) t.routes.length = 0;
    this.perDevice.clear();
  }

  /** Append a route given as the parts of a decoded RTM_NEWROUTE, as a dump lists it (no checks, no notification). */
  add(route: { rtmsg: RtMsg; attrs: RtaAttrs } | FibRoute): FibRoute {
    const r = 'rtmsg' in route ? routeFromMessage(route.rtmsg, route.attrs) : route;
    const routes = this.table(r.family, r.table, true).routes;
    let i = routes.length;
    while (i > 0 && compare(r, routes[i - 1]!) < 0) i--;
    routes.splice(i, 0, r);
    this.count(r, 1);
    return r;
  }
}

/** The scope a route type needs at least (fib_props[].scope). */
export function minScope(type: number): number {
  switch (type) {
    case RTN.LOCAL:
      return RT_SCOPE.HOST;
    case RTN.BROADCAST:
    case RTN.ANYCAST:
      return RT_SCOPE.LINK;
    case RTN.NAT:
    case RTN.XRESOLVE:
      return RT_SCOPE.NOWHERE;
    default:
      return RT_SCOPE.UNIVERSE;
  }
}
