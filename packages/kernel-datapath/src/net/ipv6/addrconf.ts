/**
 * What the IP layer does by itself as devices come and go (inetdev_event()
 * and fib_netdev_event() of net/ipv4, addrconf_notify() of net/ipv6), for one
 * namespace:
 *
 * - NETDEV_UP: lo gets 127.0.0.1/8 (scope host) and its routes; every IPv4
 *   address of the device gets its routes back, every IPv6 one added while
 *   the device was down its prefix route. IPv6 waits for the link to be
 *   ready (addrconf_link_ready(): operstate up or unknown, a qdisc attached).
 * - Link ready (NETDEV_UP or NETDEV_CHANGE): lo gets ::1/128 (init_loopback());
 *   an Ethernet device (MTU >= 1280) gets ff00::/8 in the local table, then its
 *   EUI-64 link-local fe80::/64 (IFA_F_PERMANENT, scope link, IFA_PROTO 3) with
 *   the main-table fe80::/64 metric 256 and the local-table /128; other types
 *   with IFF_MULTICAST only get ff00::/8.
 * - Carrier lost (NETDEV_CHANGE, not ready): addresses stay; routes through
 *   the device (but local and host-scope ones) report RTNH_F_LINKDOWN until
 *   the carrier is back (fib_sync_down_dev(), rt6_sync_down_dev()).
 * - NETDEV_DOWN: IPv4 addresses stay, their routes but host-scope ones go
 *   silently (fib_disable_ip() flushes without notifying); every IPv6 route
 *   through the device goes (RTM_DELROUTE each), then every IPv6 address
 *   (RTM_DELADDR each): keep_addr_on_down is 0.
 * - NETDEV_UNREGISTER: the IPv4 addresses go (RTM_DELADDR, and their
 *   remaining routes RTM_DELROUTE), then whatever route still uses the device.
 *
 * Duplicate address detection is instantaneous: an IPv6 address leaves
 * IFA_F_TENTATIVE (and gets its local /128) as soon as its link is ready,
 * where real Linux waits for DAD (about 1-2 s: one probe after a random
 * delay of up to 1 s, then RetransTimer; see veth3 still tentative in the
 * address dump of golden/pcap/dpctl-datapath.pcap.gz).
 *
 * `auto` off stops the automatic addresses and routes (lo's, link-locals,
 * ff00::/8), so that a test can load a captured machine's tables instead.
 */
import {
  AF_INET,
  AF_INET6,
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  attr,
  AttrSet,
  binary,
  Errno,
  IFA,
  IFA_F,
  ifaddrmsg,
  IFAPROT,
  IFF,
  INFINITY_LIFE_TIME,
  NLM_F,
  NLMSG_HDRLEN,
  RT_SCOPE,
  RT_TABLE,
  RTN,
  RTNH_F,
  RTPROT,
  u32,
  u8,
} from '@ovs/genl-codec';
import type { HandlerResult } from '../netlink/genetlink.js';
import type { Req } from '../ipv4/fib_frontend.js';
import { ipv6RtScope } from '../ipv4/devinet.js';
import { sameBytes } from '../ipv4/fib_trie.js';
import type { FibRoute } from '../ipv4/fib_trie.js';
import { type InetAddress, addKernelRoute, uptimeCs } from '../ipv4/devinet.js';
import type { NetDevice } from '../../include/linux/netdevice.js';
import type { Netns } from '../core/net_namespace.js';

/** IPV6_MIN_MTU: below it a device gets no inet6_dev. */
const IPV6_MIN_MTU = 1280;
/** IP6_RT_PRIO_ADDRCONF: the metric of the routes addrconf makes. */
const IP6_RT_PRIO_ADDRCONF = 256;

/** The state of a device as the IP layer last saw it. */
export interface LinkView {
  up: boolean;
  /** addrconf_link_ready(). */
  ready: boolean;
  /** netif_carrier_ok(). */
  carrier: boolean;
}

/** The EUI-64 link-local address of a 6-byte MAC (addrconf_ifid_eui48()). */
export function eui64LinkLocal(mac: Uint8Array): Uint8Array {
  return Uint8Array.from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, mac[0]! ^ 0x02, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!]);
}

export class Addrconf {
  /** Make Linux's own addresses and routes (see the file comment). */
  auto = true;

  constructor(private readonly ns: Netns) {}

  /**
   * The device's state now: the differences from what was last seen become
   * NETDEV_UP, NETDEV_CHANGE or NETDEV_DOWN, in that order of checks.
   */
  sync(dev: NetDevice, now: LinkView): void {
    const was = dev.inet6Dev ?? { up: false, ready: false, carrier: now.carrier, ifReady: false };
    if (was.up === now.up && was.ready === now.ready && was.carrier === now.carrier) return;
    const st = { ...now, ifReady: was.ifReady };
    dev.inet6Dev = st;
    if (!was.up && now.up) this.netdevUp(dev, st);
    else if (was.up && !now.up) this.netdevDown(dev, st);
    else if (now.up && (was.ready !== now.ready || was.carrier !== now.carrier)) this.netdevChange(dev, st);
  }

  /** IF_READY: the device's link became ready since it was last brought up (IPv6 addresses are no longer tentative). */
  ready(dev: NetDevice): boolean {
    return dev.inet6Dev?.ifReady ?? false;
  }

  /** NETDEV_UNREGISTER (after NETDEV_DOWN if the device was up). */
  unregister(dev: NetDevice): void {
    const st = dev.inet6Dev;
    if (st?.up) this.netdevDown(dev, st);
    dev.inet6Dev = undefined;
    const { addresses, fib } = this.ns;
    for (const a of [...addresses.of(dev, AF_INET)]) addresses.deleteV4(a);
    if (fib.usesDevice(dev.ifindex)) {
      fib.removeWhere((r) => r.family === AF_INET && r.oif === dev.ifindex, { notify: false });
      fib.removeWhere((r) => r.family === AF_INET6 && r.oif === dev.ifindex);
    }
    addresses.forget(dev, AF_INET);
    addresses.forget(dev, AF_INET6);
  }

  private netdevUp(dev: NetDevice, st: LinkView & { ifReady: boolean }): void {
    const { addresses } = this.ns;
    if (dev.flags & IFF.LOOPBACK && this.auto && !addresses.of(dev, AF_INET).length) {
      const now = uptimeCs();
      addresses.insertV4({
        family: AF_INET,
        dev,
        local: Uint8Array.of(127, 0, 0, 1),
        address: Uint8Array.of(127, 0, 0, 1),
        prefixlen: 8,
        flags: IFA_F.PERMANENT,
        scope: RT_SCOPE.HOST,
        label: dev.name,
        broadcast: undefined,
        rtPriority: 0,
        proto: 0,
        prefered: INFINITY_LIFE_TIME,
        valid: INFINITY_LIFE_TIME,
        cstamp: now,
        tstamp: now,
      });
    }
    for (const a of addresses.of(dev, AF_INET)) addresses.addV4Routes(a);
    addresses.restoreV6PrefixRoutes(dev);
    this.setLinkdown(dev, !st.carrier);
    if (st.ready) this.linkReady(dev, st);
  }

  private netdevChange(dev: NetDevice, st: LinkView & { ifReady: boolean }): void {
    this.setLinkdown(dev, !st.carrier);
    if (st.ready && !st.ifReady) this.linkReady(dev, st);
  }

  private netdevDown(dev: NetDevice, st: LinkView & { ifReady: boolean }): void {
    const { addresses, fib } = this.ns;
    st.ifReady = false;
    if (fib.usesDevice(dev.ifindex)) {
      fib.removeWhere((r) => r.family === AF_INET && r.oif === dev.ifindex && r.scope !== RT_SCOPE.HOST, { notify: false });
      fib.removeWhere((r) => r.family === AF_INET6 && r.oif === dev.ifindex);
    }
    for (const a of [...addresses.of(dev, AF_INET6)]) addresses.deleteV6(a);
  }

  /** IF_READY: the automatic IPv6 configuration, then DAD of the addresses waiting for it. */
  private linkReady(dev: NetDevice, st: { ifReady: boolean }): void {
    st.ifReady = true;
    const { addresses } = this.ns;
    if (this.auto && dev.mtu >= IPV6_MIN_MTU) {
      if (dev.type === ARPHRD_LOOPBACK) {
        this.addLinkAddress(
          dev,
          Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0)),
          128,
          RT_SCOPE.HOST,
          IFAPROT.KERNEL_LO,
          false,
        );
      } else {
        if (dev.flags & IFF.MULTICAST || dev.type === ARPHRD_ETHER) addKernelRoute(this.ns.fib, multicastRoute(dev), false);
        if (dev.type === ARPHRD_ETHER && dev.mac.length === 6) this.addLinkAddress(dev, eui64LinkLocal(dev.mac), 64, RT_SCOPE.LINK, IFAPROT.KERNEL_LL, true);
      }
    }
    for (const a of [...addresses.of(dev, AF_INET6)]) addresses.dadCompleted(a);
  }

  private addLinkAddress(dev: NetDevice, local: Uint8Array, prefixlen: number, scope: number, proto: number, prefixRoute: boolean): void {
    const now = uptimeCs();
    const a: InetAddress = {
      family: AF_INET6,
      dev,
      local,
      address: new Uint8Array(0),
      prefixlen,
      flags: IFA_F.PERMANENT,
      scope,
      label: '',
      broadcast: undefined,
      rtPriority: 0,
      proto,
      prefered: INFINITY_LIFE_TIME,
      valid: INFINITY_LIFE_TIME,
      cstamp: now,
      tstamp: now,
    };
    this.ns.addresses.insertV6(a, { prefixRoute });
  }

  /** RTNH_F_LINKDOWN on the routes through a device without carrier (not local, not host scope). */
  private setLinkdown(dev: NetDevice, down: boolean): void {
    if (!this.ns.fib.usesDevice(dev.ifindex)) return;
    for (const r of this.ns.fib.routes()) {
      if (r.oif !== dev.ifindex || r.type === RTN.LOCAL || r.type === RTN.ANYCAST || (r.family === AF_INET && r.scope === RT_SCOPE.HOST)) continue;
      r.nhFlags = down ? r.nhFlags | RTNH_F.LINKDOWN : r.nhFlags & ~RTNH_F.LINKDOWN;
    }
  }
}

/** addrconf_add_mroute(): ff00::/8 in the local table, metric 256. */
function multicastRoute(dev: NetDevice): FibRoute {
  const dst = new Uint8Array(16);
  dst[0] = 0xff;
  return {
    family: AF_INET6,
    table: RT_TABLE.LOCAL,
    dst,
    dstLen: 8,
    src: new Uint8Array(0),
    srcLen: 0,
    tos: 0,
    type: RTN.MULTICAST,
    protocol: RTPROT.KERNEL,
    scope: RT_SCOPE.UNIVERSE,
    priority: IP6_RT_PRIO_ADDRCONF,
    oif: dev.ifindex,
    gateway: undefined,
    prefsrc: undefined,
    nhFlags: 0,
    metrics: undefined,
    pref: 0,
  };
}

// ---------------------------------------------------------------------------
// RTM_NEWADDR / RTM_DELADDR for AF_INET6 (fib_frontend.ts dispatches them)

const in6p = binary({ policy: 'UNSPEC', len: 16 });

/** ifa_ipv6_policy. */
export const ifaIpv6Policy = new AttrSet('ifa_ipv6_policy', {
  address: attr(IFA.ADDRESS, 'IFA_ADDRESS', in6p),
  local: attr(IFA.LOCAL, 'IFA_LOCAL', in6p),
  cacheinfo: attr(IFA.CACHEINFO, 'IFA_CACHEINFO', binary({ policy: 'UNSPEC', len: 16 })),
  flags: attr(IFA.FLAGS, 'IFA_FLAGS', u32),
  rtPriority: attr(IFA.RT_PRIORITY, 'IFA_RT_PRIORITY', u32),
  targetNetnsid: attr(IFA.TARGET_NETNSID, 'IFA_TARGET_NETNSID', binary({ policy: 'S32' })),
  proto: attr(IFA.PROTO, 'IFA_PROTO', u8),
});

/** extract_addr(): IFA_LOCAL if given (IFA_ADDRESS then being the peer), else IFA_ADDRESS. */
function extractAddr(r: Req): { pfx: Uint8Array; peer: Uint8Array } | undefined {
  const local = r.bytes(IFA.LOCAL, 16);
  const address = r.bytes(IFA.ADDRESS, 16);
  if (local !== undefined) return { pfx: local, peer: address !== undefined && !sameBytes(address, local) ? address : new Uint8Array(0) };
  return address === undefined ? undefined : { pfx: address, peer: new Uint8Array(0) };
}

/** inet6_rtm_newaddr() and inet6_addr_add(). */
export function inet6RtmNewaddr(r: Req): HandlerResult {
  const ifm = ifaddrmsg.read(r.req.bytes, r.dv, NLMSG_HDRLEN);
  const a6 = extractAddr(r);
  if (a6 === undefined) return -Errno.EINVAL;
  let valid = INFINITY_LIFE_TIME;
  let prefered = INFINITY_LIFE_TIME;
  if (r.has(IFA.CACHEINFO)) {
    const off = r.tb[IFA.CACHEINFO]!.dataOffset;
    prefered = r.dv.getUint32(off, true);
    valid = r.dv.getUint32(off + 4, true);
  }
  const ns = r.req.sock.netns;
  const dev = ns.byIfindex(ifm.index);
  if (dev === undefined) return -Errno.ENODEV;
  let flags = r.has(IFA.FLAGS) ? r.u32(IFA.FLAGS) : ifm.flags;
  flags &= IFA_F.NODAD | IFA_F.HOMEADDRESS | IFA_F.MANAGETEMPADDR | IFA_F.NOPREFIXROUTE | IFA_F.MCAUTOJOIN | IFA_F.OPTIMISTIC;
  // optimistic_dad is off by default (ipv6_allow_optimistic_dad()).
  flags &= ~IFA_F.OPTIMISTIC;
  if (dev.mtu < 1280) return -Errno.ENODEV; // ipv6_find_idev(): no inet6_dev below IPV6_MIN_MTU
  const existing = ns.addresses.of(dev, AF_INET6).find((a) => sameBytes(a.local, a6.pfx));
  if (existing !== undefined) {
    if (r.req.flags & NLM_F.EXCL || !(r.req.flags & NLM_F.REPLACE)) return -Errno.EEXIST;
    Object.assign(existing, { rtPriority: r.u32(IFA.RT_PRIORITY), prefered, valid, tstamp: uptimeCs() });
    for (const l of ns.addresses.listeners) l.addressChanged(existing, 'new', undefined);
    return 0;
  }
  // inet6_addr_add()
  if (ifm.prefixlen > 128) return -Errno.EINVAL;
  if (!valid || prefered > valid) return -Errno.EINVAL;
  if (flags & IFA_F.MANAGETEMPADDR && ifm.prefixlen !== 64) return -Errno.EINVAL;
  if (valid === INFINITY_LIFE_TIME) flags |= IFA_F.PERMANENT;
  if (prefered === 0) flags |= IFA_F.DEPRECATED;
  // ipv6_add_addr(): not the unspecified address, not multicast (without MCAUTOJOIN), ::1 only on loopback.
  const multicast = a6.pfx[0] === 0xff;
  const loopback = a6.pfx.every((x, i) => x === (i === 15 ? 1 : 0));
  if (a6.pfx.every((x) => x === 0) || (multicast && !(flags & IFA_F.MCAUTOJOIN)) || (loopback && !(dev.flags & IFF.LOOPBACK))) return -Errno.EADDRNOTAVAIL;
  // Instantaneous DAD (see addrconf.ts): tentative only while the link is not ready.
  if (!ns.addrconf.ready(dev) && !(flags & IFA_F.NODAD) && !(dev.flags & IFF.LOOPBACK)) flags |= IFA_F.TENTATIVE;
  const now = uptimeCs();
  return ns.addresses.insertV6(
    {
      family: AF_INET6,
      dev,
      local: a6.pfx,
      address: a6.peer,
      prefixlen: ifm.prefixlen,
      flags,
      scope: ipv6RtScope(a6.pfx),
      label: '',
      broadcast: undefined,
      rtPriority: r.u32(IFA.RT_PRIORITY),
      proto: r.u8(IFA.PROTO),
      prefered,
      valid,
      cstamp: now,
      tstamp: now,
    },
    // addrconf_prefix_route() fails on a device that is down (fib6_nh_init(): ENETDOWN, ignored).
    { prefixRoute: dev.isUp },
  );
}

/** inet6_rtm_deladdr() and inet6_addr_del(). */
export function inet6RtmDeladdr(r: Req): HandlerResult {
  const ifm = ifaddrmsg.read(r.req.bytes, r.dv, NLMSG_HDRLEN);
  const a6 = extractAddr(r);
  if (a6 === undefined) return -Errno.EINVAL;
  if (ifm.prefixlen > 128) return -Errno.EINVAL;
  const ns = r.req.sock.netns;
  const dev = ns.byIfindex(ifm.index);
  if (dev === undefined) return -Errno.ENODEV;
  if (dev.mtu < 1280) return -Errno.ENXIO;
  const ifa = ns.addresses.of(dev, AF_INET6).find((a) => a.prefixlen === ifm.prefixlen && sameBytes(a.local, a6.pfx));
  if (ifa === undefined) return -Errno.EADDRNOTAVAIL;
  ns.addresses.deleteV6(ifa);
  return 0;
}
