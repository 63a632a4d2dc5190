/**
 * route_table_reset() (lib/route-table.c) with the parts of lib/ovs-router.c
 * and lib/tnl-ports.c it drives: every OVS process that opens a datapath
 * first reads the kernel's routing table, finds a source address for each
 * unicast/local route on the route's device and remembers the device for
 * tunnel termination. ovs-dpctl has no use for the result, but the netdev
 * lookups it makes are the requests that open every real ovs-dpctl run; the
 * table is kept so that a reader can see what OVS would route with.
 */
import { AF_INET, AF_INET6, NLM_F, RTM, RTN, RT_SCOPE } from '@ovs/genl-codec';
import { type NlSock, NlSockError } from '@ovs/netlink-socket';
import { mapIpv4 } from './packets.js';
import { type IfAddr, type Netdev, type NetdevRegistry, netdevGetAddrList, netdevGetFlags, rtgenDump } from './netdev.js';

/** An ovs-router entry: a destination prefix (IPv4 as v4-mapped IPv6), its device and source address. */
export interface OvsRoute {
  dst: Uint8Array;
  plen: number;
  local: boolean;
  device: string;
  gateway?: Uint8Array;
  src: Uint8Array;
  mark: number;
}

export class RouteTable {
  /** ovs-router's classifier, longest prefix first. */
  readonly routes: OvsRoute[] = [];
  /** tnl-ports' addr_list: the devices with addresses, holding a netdev reference each. */
  private readonly ipDevices = new Map<string, Netdev>();

  constructor(
    private readonly netdevs: NetdevRegistry,
    private readonly rtnl: NlSock,
  ) {}

  /** route_table_reset(): dump the kernel's routes (both families) and insert the relevant ones. */
  async reset(): Promise<void> {
    this.routes.length = 0;
    this.netdevs.flushAddrs();
    const dump = await this.rtnl.transact(rtgenDump(RTM.GETROUTE, 0 /* AF_UNSPEC */, NLM_F.REQUEST | NLM_F.ACK | NLM_F.DUMP));
    // if_indextoname() for the routes' output devices.
    let names: Map<number, string> | undefined;
    for (const m of dump) {
      if (m.kind !== 'rtnl' || m.family !== 'route' || m.header.type !== RTM.NEWROUTE) continue;
      const { rtmsg: rtm, attrs } = m;
      if (rtm.family !== AF_INET && rtm.family !== AF_INET6) continue;
      if (rtm.scope === RT_SCOPE.NOWHERE || (rtm.type !== RTN.UNICAST && rtm.type !== RTN.LOCAL)) continue;
      const v4 = rtm.family === AF_INET;
      let device = '';
      if (attrs.oif !== undefined) {
        names ??= await this.linkNames();
        const name = names.get(attrs.oif);
        if (name === undefined) continue; // ENXIO: not relevant
        device = name;
      }
      const addr = (a: Uint8Array | undefined) => (a === undefined ? undefined : v4 ? mapIpv4(a) : a.slice(0, 16));
      await this.insert({
        dst: addr(attrs.dst) ?? (v4 ? mapIpv4(new Uint8Array(4)) : new Uint8Array(16)),
        plen: rtm.dstLen + (v4 ? 96 : 0),
        local: rtm.type === RTN.LOCAL,
        device,
        ...(attrs.gateway ? { gateway: addr(attrs.gateway)! } : {}),
        mark: attrs.mark ?? 0,
      });
    }
  }

  private async linkNames(): Promise<Map<number, string>> {
    const names = new Map<number, string>();
    for (const m of await this.rtnl.transact(rtgenDump(RTM.GETLINK, 0))) {
      if (m.kind === 'rtnl' && m.family === 'link' && m.attrs.ifname !== undefined) names.set(m.ifinfomsg.index, m.attrs.ifname);
    }
    return names;
  }

  /** ovs_router_insert__(): a route needs a source address on its device (for its destination, else its gateway). */
  private async insert(route: Omit<OvsRoute, 'src'>): Promise<void> {
    let src = await this.sourceAddress(route.dst, route.device);
    if (src === undefined && route.gateway && route.gateway.some((b) => b !== 0)) src = await this.sourceAddress(route.gateway, route.device);
    if (src === undefined) return;
    const i = this.routes.findIndex((r) => r.plen < route.plen);
    this.routes.splice(i < 0 ? this.routes.length : i, 0, { ...route, src });
    await this.insertIpdev(route.device);
  }

  /** get_src_addr(): the device's address with the longest mask that covers `dst` (IPv4 only among IPv4). */
  private async sourceAddress(dst: Uint8Array, device: string): Promise<Uint8Array | undefined> {
    let dev: Netdev;
    try {
      dev = await this.netdevs.open(device);
    } catch (err) {
      if (err instanceof NlSockError) return undefined;
      throw err;
    }
    try {
      let addrs: IfAddr[];
      try {
        addrs = await netdevGetAddrList(this.netdevs, dev);
      } catch (err) {
        if (err instanceof NlSockError) return undefined;
        throw err;
      }
      const v4 = isV4Mapped(dst);
      let best: Uint8Array | undefined;
      let bestLen = -1;
      for (const a of addrs) {
        if (v4 && !isV4Mapped(a.addr)) continue;
        const bits = a.mask.reduce((n, b) => n + popcount(b), 0);
        if (bits > bestLen && a.mask.every((m, i) => (dst[i]! & m) === (a.addr[i]! & m))) {
          best = a.addr;
          bestLen = bits;
        }
      }
      return best;
    } finally {
      this.netdevs.close(dev);
    }
  }

  /** tnl_port_map_insert_ipdev(): remember a device with addresses (not the loopback), once. */
  private async insertIpdev(device: string): Promise<void> {
    if (this.ipDevices.has(device)) return;
    let dev: Netdev;
    try {
      dev = await this.netdevs.open(device, this.netdevs.typeFromName(device));
    } catch (err) {
      if (err instanceof NlSockError) return;
      throw err;
    }
    let keep = false;
    try {
      await netdevGetAddrList(this.netdevs, dev);
      keep = !(await netdevGetFlags(this.netdevs, dev)).loopback;
    } catch (err) {
      if (!(err instanceof NlSockError)) throw err;
    }
    if (keep) this.ipDevices.set(device, dev);
    else this.netdevs.close(dev);
  }

  /** Drop the devices' references (process exit). */
  close(): void {
    for (const dev of this.ipDevices.values()) this.netdevs.close(dev);
    this.ipDevices.clear();
  }
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}
