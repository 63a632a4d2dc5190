/**
 * What net/core/dev.c does to a device for rtnetlink: open and close, flags,
 * MTU, address, name, registration and unregistration, each change told to
 * the IP layer (the netdevice notifier) and announced by rtnetlink.
 */
import { Errno, IFF, NETIF_F_BIT, RTM } from '@ovs/genl-codec';
import { NETIF_F_ALL_TSO, NETIF_F_LRO, featureMask } from '../../include/linux/netdev_features.js';
import { IFF_COMPUTED, type NetDevice, netifOperUp } from '../../include/linux/netdevice.js';
import type { LinkProto } from '../../include/net/rtnetlink.js';
import type { HandlerResult } from '../netlink/genetlink.js';
import { ETH_ALEN, isValidEtherAddr } from '../ethernet/eth.js';
import { type ExtAck, errMsg } from '../netlink/extack.js';
import type { Netns } from './net_namespace.js';
import { linkwatchForgetDev, linkwatchRunQueue } from './link_watch.js';
import type { NotifyCtx, Rtnetlink } from './rtnetlink.js';

/** IFF_VOLATILE: the flags userspace cannot set (include/uapi/linux/if.h). */
const IFF_VOLATILE = IFF.LOOPBACK | IFF.POINTOPOINT | IFF.BROADCAST | IFF.ECHO | IFF.MASTER | IFF.SLAVE | IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT;
/** The flags __dev_change_flags() takes from userspace as they are. */
const IFF_USER = IFF.DEBUG | IFF.NOTRAILERS | IFF.NOARP | IFF.DYNAMIC | IFF.MULTICAST | IFF.PORTSEL | IFF.AUTOMEDIA;

/** dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace. */
export function devValidName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) >= 16) return false;
  if (name === '.' || name === '..') return false;
  return !/[/:\s]/.test(name);
}

export function isRegistered(dev: NetDevice): boolean {
  return dev.netns.byIfindex(dev.ifindex) === dev;
}

/** dev->flags: what the device holds, IFF_PROMISC / IFF_ALLMULTI while their counters are non-zero. */
export function devKernelFlags(dev: NetDevice): number {
  let f = dev.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI);
  if (dev.promiscuity > 0) f |= IFF.PROMISC;
  if (dev.allmulti > 0) f |= IFF.ALLMULTI;
  return f >>> 0;
}

/** dev_get_flags(). */
export function devGetFlags(dev: NetDevice): number {
  let f = (dev.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI)) | (dev.gflags & (IFF.PROMISC | IFF.ALLMULTI));
  if (dev.isUp) {
    if (netifOperUp(dev.operstate)) f |= IFF.RUNNING;
    if (dev.carrier) f |= IFF.LOWER_UP;
  }
  return f >>> 0;
}

/** Keep NetDevice.flags what dev_get_flags() reports. */
export function syncFlags(dev: NetDevice): void {
  dev.flags = devGetFlags(dev);
}

/**
 * The netdevice notifier as the namespace's IP layer hears it (it turns
 * changes into NETDEV_UP / CHANGE / DOWN): up, addrconf_link_ready()
 * (operstate up or unknown, a qdisc attached), carrier.
 */
export function notifyIpLayer(dev: NetDevice): void {
  if (!isRegistered(dev)) return;
  dev.netns.addrconf.sync(dev, { up: dev.isUp, ready: dev.isUp && netifOperUp(dev.operstate) && dev.qdiscAttached, carrier: dev.carrier });
}

/** __dev_open(): ndo_open, IFF_UP, dev_activate(). */
function devOpen(rtnl: Rtnetlink, dev: NetDevice): number {
  if (dev.isUp) return 0;
  const err = dev.setup.open?.(rtnl, dev) ?? 0;
  if (err) return err;
  dev.flags |= IFF.UP;
  dev.qdiscAttached = true;
  syncFlags(dev);
  notifyIpLayer(dev); // NETDEV_UP
  return 0;
}

/** __dev_close(): ndo_stop, IFF_UP cleared. */
export function devClose(rtnl: Rtnetlink, dev: NetDevice): void {
  if (!dev.isUp) return;
  dev.setup.stop?.(rtnl, dev);
  dev.flags &= ~IFF.UP;
  syncFlags(dev);
  notifyIpLayer(dev); // NETDEV_DOWN
}

/** __dev_change_flags(): the flags as asked, without notifying. Returns an errno (open failures). */
export function changeFlags(rtnl: Rtnetlink, dev: NetDevice, flags: number): number {
  const old = devKernelFlags(dev);
  const keep = dev.flags & (IFF.UP | IFF_VOLATILE) & ~IFF_COMPUTED;
  dev.flags = ((flags & IFF_USER) | keep | (dev.flags & IFF_COMPUTED)) >>> 0;
  let ret = 0;
  if ((old ^ flags) & IFF.UP) {
    if (old & IFF.UP) devClose(rtnl, dev);
    else ret = devOpen(rtnl, dev);
  }
  if ((flags ^ dev.gflags) & IFF.PROMISC) {
    dev.gflags ^= IFF.PROMISC;
    dev.promiscuity = Math.max(0, dev.promiscuity + (flags & IFF.PROMISC ? 1 : -1));
  }
  if ((flags ^ dev.gflags) & IFF.ALLMULTI) {
    dev.gflags ^= IFF.ALLMULTI;
    dev.allmulti = Math.max(0, dev.allmulti + (flags & IFF.ALLMULTI ? 1 : -1));
  }
  syncFlags(dev);
  return ret;
}

/** dev_change_flags(): __dev_change_flags, then RTM_NEWLINK with the changes (__dev_notify_flags). */
export function devChangeFlags(rtnl: Rtnetlink, dev: NetDevice, flags: number): number {
  const old = devKernelFlags(dev);
  const oldG = dev.gflags;
  const ret = changeFlags(rtnl, dev, flags);
  if (ret < 0) return ret;
  const changes = ((old ^ devKernelFlags(dev)) | (oldG ^ dev.gflags)) >>> 0;
  if (changes) rtnl.notify(dev, RTM.NEWLINK, changes);
  return 0;
}

/** netdev_state_change(): RTM_NEWLINK (change 0) if the device is up. */
export function netdevStateChange(rtnl: Rtnetlink, dev: NetDevice): void {
  if (dev.isUp) rtnl.notify(dev, RTM.NEWLINK, 0);
}

/** dev_set_mac_address() with eth_mac_addr() as the drivers' ndo_set_mac_address. */
export function devSetMacAddress(rtnl: Rtnetlink, dev: NetDevice, addr: Uint8Array): HandlerResult {
  if (!dev.setup.setMac) return -Errno.EOPNOTSUPP;
  if (!dev.setup.liveAddrChange && dev.isUp) return -Errno.EBUSY;
  if (!isValidEtherAddr(addr)) return -Errno.EADDRNOTAVAIL;
  dev.mac = addr.slice(0, ETH_ALEN);
  rtnl.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGEADDR
  return 0;
}

/** dev_validate_mtu(). */
export function devValidateMtu(bounds: { minMtu: number; maxMtu: number }, mtu: number, extack: ExtAck): HandlerResult {
  if (mtu < bounds.minMtu || mtu > 0x7fffffff) return errMsg(extack, Errno.EINVAL, 'mtu less than device minimum');
  if (bounds.maxMtu > 0 && mtu > bounds.maxMtu) return errMsg(extack, Errno.EINVAL, 'mtu greater than device maximum');
  return 0;
}

/** dev_set_mtu_ext() with the driver's ndo_change_mtu. */
export function devSetMtu(rtnl: Rtnetlink, dev: NetDevice, mtu: number, extack: ExtAck): HandlerResult {
  if (mtu === dev.mtu) return 0;
  const bad = devValidateMtu(dev, mtu, extack);
  if (bad) return bad;
  const ret = dev.setup.changeMtu?.(dev, mtu) ?? mtu;
  if (ret < 0) return ret;
  dev.mtu = ret;
  rtnl.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGEMTU
  return 0;
}

/** dev_get_valid_name(): a valid name not in use, with one "%d" replaced by the lowest free number. */
function devGetValidName(ns: Netns, name: string): string | HandlerResult {
  if (!devValidName(name)) return -Errno.EINVAL;
  const p = name.indexOf('%');
  if (p < 0) return ns.byIfname(name) !== undefined ? -Errno.EEXIST : name;
  if (name[p + 1] !== 'd' || name.indexOf('%', p + 2) >= 0) return -Errno.EINVAL;
  for (let i = 0; i < 32768; i++) {
    const candidate = name.slice(0, p) + String(i) + name.slice(p + 2);
    if (!devValidName(candidate)) return -Errno.EINVAL;
    if (ns.byIfname(candidate) === undefined) return candidate;
  }
  return -Errno.ENFILE;
}

/** dev_change_name(). */
export function devChangeName(rtnl: Rtnetlink, dev: NetDevice, name: string): HandlerResult {
  if (dev.isUp) return -Errno.EBUSY;
  if (name === dev.name) return 0;
  const resolved = devGetValidName(dev.netns, name);
  if (typeof resolved !== 'string') return resolved;
  rtnl.quietly(() => dev.netns.rename(dev, resolved));
  dev.netns.devBaseSeqInc();
  rtnl.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGENAME
  return 0;
}

/** dev_get_iflink(): the driver's ndo_get_iflink, else the device itself. */
export function devGetIflink(dev: NetDevice, deleting = false): number {
  return dev.setup.getIflink?.(dev, deleting) ?? dev.ifindex;
}

/**
 * dev_change_net_namespace() (6.1's: no new ifindex can be asked for):
 * EINVAL for a device bound to its namespace (NETIF_F_NETNS_LOCAL: lo, a
 * datapath's own port) or not registered; nothing for the namespace it is
 * in; EEXIST when its name is taken there, unless `pat` (the request's
 * IFLA_IFNAME) gives one that is free. Then a mini unregister/register:
 * closed (RTM_NEWLINK), unlisted, its qdisc gone, NETDEV_UNREGISTER in the
 * old namespace (its addresses and routes go; an OVS port's vport is
 * detached), RTM_DELLINK there carrying IFLA_NEW_NETNSID (the new
 * namespace's id in the old, allocated if need be) and IFLA_NEW_IFINDEX;
 * its ifindex kept unless taken in the new namespace (then dev_new_index()
 * there); listed in the new namespace, NETDEV_REGISTER, RTM_NEWLINK there.
 */
export function devChangeNetNamespace(rtnl: Rtnetlink, dev: NetDevice, net: Netns, pat: string | undefined): HandlerResult {
  if (dev.features & featureMask(NETIF_F_BIT.NETNS_LOCAL)) return -Errno.EINVAL;
  if (!isRegistered(dev)) return -Errno.EINVAL;
  const old = dev.netns;
  if (old === net) return 0;
  let name = dev.name;
  if (net.byIfname(dev.name) !== undefined) {
    if (pat === undefined) return -Errno.EEXIST;
    const valid = devGetValidName(net, pat);
    if (typeof valid !== 'string') return valid;
    name = valid;
  }
  rtnl.attachNamespaces();
  old.ftrace.event('kernel', 'dev_change_net_namespace', `${dev.name} -> ${net.name}`);
  linkwatchForgetDev(rtnl, dev);
  if (dev.isUp) {
    devClose(rtnl, dev);
    rtnl.notify(dev, RTM.NEWLINK, IFF.UP | IFF.RUNNING);
  }
  old.unlistNetdevice(dev);
  // dev_shutdown(): the root qdisc becomes noop.
  dev.qdiscAttached = false;
  // NETDEV_UNREGISTER (reg_state stays NETREG_REGISTERED: it is a move).
  old.addrconf.unregister(dev);
  dev.unregisterNotified = false;
  old.unregisterNotify(dev);
  dev.unregisterNotified = false;
  const newNsid = old.peernet2idAlloc(net);
  const newIfindex = net.byIfindex(dev.ifindex) !== undefined ? net.devNewIndex() : dev.ifindex;
  rtnl.notify(dev, RTM.DELLINK, 0xffffffff, undefined, false, undefined, { newNetnsid: newNsid, newIfindex });
  dev.netns = net;
  dev.ifindex = newIfindex;
  dev.name = name;
  net.listNetdevice(dev);
  // NETDEV_REGISTER, then the device announced where it now is.
  notifyIpLayer(dev);
  rtnl.notify(dev, RTM.NEWLINK, 0xffffffff);
  // A veth's peer lost its carrier.
  linkwatchRunQueue(rtnl);
  return 0;
}

/**
 * default_device_exit_net() and default_device_exit_batch(), for a
 * namespace being dismantled: a device that may go back (no rtnl_link_ops,
 * or ops->netns_refund) and is not bound to it moves to the init namespace
 * (named devN after its ifindex, or dev%d, if its name is taken there); the
 * others are unregistered, each driver's dellink taking its companions (a
 * veth's peer in another namespace, which hears RTM_DELLINK).
 */
export function defaultDeviceExit(rtnl: Rtnetlink, net: Netns, initNet: Netns): void {
  for (const dev of [...net.devices]) {
    if (dev.features & featureMask(NETIF_F_BIT.NETNS_LOCAL)) continue;
    if (dev.rtnlLinkOps !== undefined && !dev.rtnlLinkOps.netnsRefund) continue;
    const fb = `dev${dev.ifindex}`;
    devChangeNetNamespace(rtnl, dev, initNet, initNet.byIfname(fb) !== undefined ? 'dev%d' : fb);
  }
  const kill: NetDevice[] = [];
  for (const dev of [...net.devices].reverse()) {
    const list = dev.rtnlLinkOps?.dellink?.(dev) ?? [dev];
    for (const d of list) if (!kill.includes(d)) kill.push(d);
  }
  unregisterNetdeviceMany(rtnl, kill, undefined);
}

/** register_netdevice() of a device rtnl_create_link() prepared: the name resolved and checked, the ifindex taken; no notification yet. */
export function registerNetdevice(rtnl: Rtnetlink, ns: Netns, proto: LinkProto): NetDevice | number {
  const name = devGetValidName(ns, proto.name);
  if (typeof name !== 'string') return name;
  if (proto.ifindex > 0 && ns.byIfindex(proto.ifindex) !== undefined) return -Errno.EBUSY;
  const dev = rtnl.quietly(() =>
    ns.addDevice({
      name,
      kind: proto.kind,
      ...(proto.ifindex > 0 ? { ifindex: proto.ifindex } : {}),
      mtu: proto.mtu,
      ...(proto.mac !== undefined ? { mac: proto.mac } : {}),
      flags: proto.flags,
      type: proto.type,
      ...(proto.priv !== undefined ? { priv: proto.priv } : {}),
    }),
  );
  Object.assign(dev, {
    carrier: true,
    qdiscAttached: false,
    gflags: 0,
    broadcast: proto.broadcast,
    minMtu: proto.minMtu,
    maxMtu: proto.maxMtu,
    numTxQueues: proto.numTxQueues,
    numRxQueues: proto.numRxQueues,
    gsoMaxSize: proto.gsoMaxSize,
    gsoMaxSegs: proto.gsoMaxSegs,
    groMaxSize: proto.groMaxSize,
    tsoMaxSize: proto.tsoMaxSize,
    linkmode: proto.linkmode,
    group: proto.group,
    rtnlLinkInitialized: false,
    txqlen: proto.txqlen,
    // alloc_netdev() leaves operstate IF_OPER_UNKNOWN; IFLA_OPERSTATE may have moved it (set_operstate).
    operstate: proto.operstate,
  } satisfies Partial<NetDevice>);
  dev.announced = { flags: devKernelFlags(dev), master: undefined, promiscuity: 0 };
  ns.devBaseSeqInc();
  syncFlags(dev);
  return dev;
}

/** unregister_netdevice_many(): dev_close_many() of the list, then RTM_DELLINK and removal of each. */
export function unregisterNetdeviceMany(rtnl: Rtnetlink, devs: NetDevice[], ctx: NotifyCtx | undefined): void {
  const closed = devs.filter((d) => d.isUp);
  for (const d of closed) devClose(rtnl, d);
  for (const d of closed) rtnl.notify(d, RTM.NEWLINK, IFF.UP | IFF.RUNNING);
  rtnl.withDeleter(ctx, () => {
    for (const d of devs) if (isRegistered(d)) d.netns.removeDevice(d);
  });
}

// ---------------------------------------------------------------------------
// Features

const F = NETIF_F_BIT;

/** netdev_fix_features(): features that depend on others go when those are off. */
function netdevFixFeatures(features: bigint): bigint {
  const has = (mask: bigint) => (features & mask) !== 0n;
  const bit = (b: number) => featureMask(b);
  if (has(bit(F.HW_CSUM)) && has(featureMask(F.IP_CSUM, F.IPV6_CSUM))) features &= ~featureMask(F.IP_CSUM, F.IPV6_CSUM);
  if (has(NETIF_F_ALL_TSO) && !has(bit(F.SG))) features &= ~NETIF_F_ALL_TSO;
  if (has(bit(F.TSO)) && !has(featureMask(F.HW_CSUM, F.IP_CSUM))) features &= ~featureMask(F.TSO, F.TSO_ECN);
  if (has(bit(F.TSO6)) && !has(featureMask(F.HW_CSUM, F.IPV6_CSUM))) features &= ~bit(F.TSO6);
  if (has(bit(F.TSO_MANGLEID)) && !has(bit(F.TSO))) features &= ~bit(F.TSO_MANGLEID);
  if ((features & NETIF_F_ALL_TSO) === bit(F.TSO_ECN)) features &= ~bit(F.TSO_ECN);
  if (has(bit(F.GSO)) && !has(bit(F.SG))) features &= ~bit(F.GSO);
  // No driver here has gso_partial_features.
  if (!has(bit(F.RXCSUM))) features &= ~bit(F.GRO_HW);
  if (has(bit(F.RXFCS))) features &= ~featureMask(F.LRO, F.GRO_HW);
  if (has(bit(F.GRO_HW)) && has(bit(F.LRO))) features &= ~bit(F.LRO);
  if (has(bit(F.HW_TLS_TX))) {
    const ipCsum = (features & featureMask(F.IP_CSUM, F.IPV6_CSUM)) === featureMask(F.IP_CSUM, F.IPV6_CSUM);
    if (!ipCsum && !has(bit(F.HW_CSUM))) features &= ~bit(F.HW_TLS_TX);
  }
  if (has(bit(F.HW_TLS_RX)) && !has(bit(F.RXCSUM))) features &= ~bit(F.HW_TLS_RX);
  return features;
}

/**
 * __netdev_update_features(): the features become the wanted ones among the
 * changeable (netdev_get_wanted_features()), fixed up, less LRO under an
 * upper device that does not want it (netdev_sync_upper_features(), e.g. a
 * port of an OVS datapath). No ndo_fix_features here: veth's acts only with
 * XDP. Returns whether they changed; the caller notifies.
 */
export function netdevUpdateFeatures(dev: NetDevice): boolean {
  let features = (dev.features & ~dev.hwFeatures) | dev.wantedFeatures;
  features = netdevFixFeatures(features);
  if (dev.master !== undefined && !(dev.master.wantedFeatures & NETIF_F_LRO)) features &= ~NETIF_F_LRO;
  if (features === dev.features) return false;
  dev.features = features;
  return true;
}
