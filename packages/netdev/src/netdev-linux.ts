/**
 * lib/netdev-linux.c: the system, internal and tap classes, over rtnetlink
 * and ethtool netlink only (where OVS uses an ioctl — SIOCGIFFLAGS,
 * SIOCSIFFLAGS, SIOCSIFMTU, SIOCETHTOOL — this sends the netlink
 * equivalent, since a NetlinkSocket is all there is).
 *
 * The state is struct netdev_linux's, kept on the Netdev object: flags,
 * MTU, MAC, ifindex, netnsid, carrier resets, and the VALID_* caches
 * (driver, link features, the vport-stats error). Answers come from those
 * caches where OVS caches them (filled by netdev_linux_update_via_netlink,
 * dropped by netdev_linux_changed) and from the kernel otherwise:
 *
 * - netdev_linux_netnsid_update(): the first question about a system or
 *   internal device ("is it in another namespace?") is an OVS_VPORT_CMD_GET
 *   by name, cached when it succeeds (or when the module is missing:
 *   ENOENT); a device that is not a vport (ENODEV) stays unknown and is
 *   asked again next time. These are the GETs that fill the start of every
 *   ovs-dpctl capture.
 * - netdev_linux_run(): the LinkWatcher, a NETLINK_ROUTE socket subscribed
 *   to RTNLGRP_LINK; each RTM_NEWLINK / RTM_DELLINK about a Linux netdev
 *   refreshes its state and bumps its change sequence number (what ofproto
 *   and the bridge poll to notice a port changed). A receive queue overrun
 *   (ENOBUFS) makes every Linux netdev start over from the kernel.
 *
 * netdev.ts's entry points (netdev_get_etheraddr, netdev_get_stats, ...)
 * call the netdevLinux* functions here for these classes.
 */
import {
  CTRL_CMD,
  DUPLEX,
  ETHTOOL_FLAG,
  ETHTOOL_MSG,
  Errno,
  type EthtoolFeaturesAttrs,
  GENL_ID_CTRL,
  type GenlMessage,
  IFF,
  IFNAMSIZ,
  type Message,
  NLM_F,
  NetlinkErrnoError,
  NetlinkProtocol,
  type NetlinkSocket,
  RTM,
  RTNLGRP,
  type RtnlLinkMessage,
  ctrlFamily,
  decode,
  decodeEthtoolLinkmodes,
  ethtoolFamily,
  ethtoolLinkmodesPayload,
  newFamilyTable,
  strerror,
} from '@ovs/genl-codec';
import { type NlSock, NlSockError } from '@ovs/netlink-socket';
import { span } from '@ovs/trace';
import type { IfAddr, Netdev, NetdevRegistry, NetdevStats } from './netdev.js';

/**
 * netdev_linux_construct(): the device must exist (get_flags, whose flags
 * are kept), unless it is an internal port still to be made.
 */
export async function netdevLinuxConstruct(registry: NetdevRegistry, dev: Netdev): Promise<void> {
  try {
    // SIOCGIFFLAGS takes the name in a struct ifreq: IFNAMSIZ bytes, so a longer name is cut to 15 characters.
    dev.ifiFlags = (await netdevLinuxGetLink(registry, dev.name.slice(0, IFNAMSIZ - 1))).ifinfomsg.flags;
  } catch (err) {
    if (err instanceof NlSockError && err.errno === Errno.ENODEV && dev.type === 'internal') return;
    throw err;
  }
}

/** netdev_linux_netnsid_update(). */
export async function netdevLinuxNetnsidUpdate(registry: NetdevRegistry, dev: Netdev): Promise<void> {
  if (!dev.isLinux || dev.netnsid !== 'unset') return;
  if (dev.type === 'tap') {
    dev.netnsid = 'local';
    return;
  }
  try {
    const reply = await registry.vportGet(dev.name);
    dev.netnsid = reply.netnsid ?? 'local';
  } catch (err) {
    if (!(err instanceof NlSockError)) throw err;
    // No API (module not loaded): assume local. Anything else: still unknown.
    if (err.errno === Errno.ENOENT) dev.netnsid = 'local';
  }
}

/** netdev_linux_netnsid_is_remote(). */
async function isRemote(registry: NetdevRegistry, dev: Netdev): Promise<boolean> {
  await netdevLinuxNetnsidUpdate(registry, dev);
  return typeof dev.netnsid === 'number';
}

/** netdev_linux_get_addr_list(): the device's addresses from the getifaddrs() cache; EADDRNOTAVAIL if none. */
export async function netdevLinuxGetAddrList(registry: NetdevRegistry, dev: Netdev): Promise<IfAddr[]> {
  if (await isRemote(registry, dev)) throw new NlSockError(Errno.EOPNOTSUPP);
  const all = await registry.getifaddrs();
  const mine = all.filter((a) => a.name === dev.name);
  if (mine.length === 0) throw new NlSockError(Errno.EADDRNOTAVAIL);
  return mine;
}

/**
 * netdev_linux_get_flags() (netdev_linux_update_flags): the ifi_flags, read
 * with netdev_linux_update_via_netlink(), which also refreshes the cached
 * carrier, MTU, MAC and ifindex.
 */
export async function netdevLinuxGetFlags(registry: NetdevRegistry, dev: Netdev): Promise<number> {
  return (await netdevLinuxUpdateViaNetlink(registry, dev)).ifinfomsg.flags;
}

/**
 * netdev_linux_update_via_netlink(): RTM_GETLINK by name without stats
 * (not for a device in another namespace), its answer taken into the
 * object's caches.
 */
function netdevLinuxUpdateViaNetlink(registry: NetdevRegistry, dev: Netdev): Promise<RtnlLinkMessage> {
  return span('netdev', 'netdev_linux_update_via_netlink', dev.name, async () => {
    if (await isRemote(registry, dev)) throw new NlSockError(Errno.EOPNOTSUPP);
    const link = await netdevLinuxGetLink(registry, dev.name, true);
    updateFromLink(dev, link);
    return link;
  });
}

/**
 * Take in what an RTM_NEWLINK says about the device (the reply of
 * netdev_linux_update_via_netlink); bumps the change sequence if anything
 * differs.
 */
function updateFromLink(dev: Netdev, link: RtnlLinkMessage): void {
  let changed = false;
  const flags = link.ifinfomsg.flags;
  if (dev.ifiFlags !== undefined && (flags ^ dev.ifiFlags) & IFF.RUNNING) dev.carrierResets++;
  if (flags !== dev.ifiFlags) changed = true;
  dev.ifiFlags = flags;
  const { mtu, address } = link.attrs;
  if (mtu && mtu !== dev.mtu) {
    dev.mtu = mtu;
    changed = true;
  }
  // Only an Ethernet address counts, and never all-zeros (eth_addr_is_zero).
  if (address?.length === 6 && address.some((b) => b !== 0) && !sameBytes(address, dev.mac)) {
    dev.mac = address;
    changed = true;
  }
  if (link.ifinfomsg.index !== dev.ifindex) {
    dev.ifindex = link.ifinfomsg.index;
    changed = true;
  }
  if (changed) dev.changed();
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** netdev_linux_get_ifindex(): asked of the kernel unless cached. */
export async function netdevLinuxGetIfindex(registry: NetdevRegistry, dev: Netdev): Promise<number> {
  if (await isRemote(registry, dev)) throw new NlSockError(Errno.EOPNOTSUPP);
  if (dev.ifindex === undefined) dev.ifindex = (await netdevLinuxGetLink(registry, dev.name)).ifinfomsg.index;
  return dev.ifindex;
}

/** update_flags() turning NETDEV_UP on: SIOCSIFFLAGS in OVS, RTM_SETLINK here. */
export async function netdevLinuxTurnUp(registry: NetdevRegistry, dev: Netdev): Promise<void> {
  await registry.rtnl.transact(linkMessage(RTM.SETLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: dev.name }, IFF.UP));
}

/** The link by name (RTM_GETLINK; `skipStats`: RTEXT_FILTER_SKIP_STATS). */
export async function netdevLinuxGetLink(registry: NetdevRegistry, name: string, skipStats = false): Promise<RtnlLinkMessage> {
  const [reply] = await registry.rtnl.transact(
    linkMessage(RTM.GETLINK, NLM_F.REQUEST, skipStats ? { ifname: name, extMask: 8 /* RTEXT_FILTER_SKIP_STATS */ } : { ifname: name }),
  );
  return reply as RtnlLinkMessage;
}

/** An RTM_*LINK request with an empty ifinfomsg; `up` given: IFF_UP set to it (ifi_change IFF_UP). */
export function linkMessage(type: number, flags: number, attrs: RtnlLinkMessage['attrs'], up?: number): RtnlLinkMessage {
  return {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type, flags, seq: 0, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: up ?? 0, change: up === undefined ? 0 : IFF.UP },
    attrs,
  };
}

/**
 * netdev_linux_ethtool_set_flag(): a device feature flag (OVS: LRO, off
 * for every netdev port) through Linux's ethtool netlink API — read it,
 * and only if it is not as wanted, set it and read it back. Errors are
 * logged, not thrown: a device without the feature is fine.
 */
export function netdevLinuxEthtoolSetFlag(registry: NetdevRegistry, name: string, bit: number, flagName: string, enable: boolean): Promise<void> {
  return span('netdev', 'netdev_linux_ethtool_set_flag', `${name} ${flagName} ${enable ? 'on' : 'off'}`, async () => {
    const genl = registry.genl;
    if (genl === undefined) return;
    let id = 0;
    const request = (cmd: number, attrs: EthtoolFeaturesAttrs): GenlMessage =>
      ({
        kind: 'genl',
        protocol: NetlinkProtocol.NETLINK_GENERIC,
        header: { len: 0, type: id, flags: NLM_F.REQUEST, seq: 0, pid: 0 },
        family: ethtoolFamily,
        cmd,
        version: ethtoolFamily.version,
        reserved: 0,
        attrs,
      }) as GenlMessage;
    const active = async (): Promise<boolean> => {
      const [reply] = await genl.transact(request(ETHTOOL_MSG.FEATURES_GET, { header: { devName: name, flags: ETHTOOL_FLAG.COMPACT_BITSETS } }));
      const words = ((reply as GenlMessage).attrs as EthtoolFeaturesAttrs).active?.value ?? [];
      return ((words[bit >> 5] ?? 0) >>> (bit & 31)) % 2 === 1;
    };
    let step = 'ETHTOOL_MSG_FEATURES_GET';
    try {
      id = await ethtoolFamilyId(genl);
      if ((await active()) === enable) return;
      step = 'ETHTOOL_MSG_FEATURES_SET';
      const words = [0, 0];
      words[bit >> 5] = (1 << (bit & 31)) >>> 0;
      await genl.transact(
        request(ETHTOOL_MSG.FEATURES_SET, {
          header: { devName: name, flags: ETHTOOL_FLAG.COMPACT_BITSETS },
          wanted: { size: 64, value: enable ? words : [0, 0], mask: words },
        }),
      );
      step = 'ETHTOOL_MSG_FEATURES_GET';
      if ((await active()) !== enable)
        registry.log('WARN', 'netdev_linux', `attempted to ${enable ? 'enable' : 'disable'} flag ${flagName} on ${name} but failed`);
    } catch (err) {
      if (!(err instanceof NlSockError)) throw err;
      // No ethtool family (ENOENT), a device that has no such feature or cannot change it: nothing to do, as OVS.
      if (err.errno !== Errno.ENOENT && err.errno !== Errno.EOPNOTSUPP)
        registry.log('WARN', 'netdev_linux', `ethtool command ${step} on network device ${name} failed: ${err.text}`);
    }
  });
}

/** netdev_linux_get_etheraddr(): asked for once, then cached. */
export async function netdevLinuxGetEtheraddr(registry: NetdevRegistry, netdev: Netdev): Promise<Uint8Array | undefined> {
  if (netdev.mac === undefined) await netdevLinuxUpdateViaNetlink(registry, netdev);
  return netdev.mac;
}

/** netdev_linux_get_mtu(): cached. */
export async function netdevLinuxGetMtu(registry: NetdevRegistry, netdev: Netdev): Promise<number | undefined> {
  if (netdev.mtu === undefined) await netdevLinuxUpdateViaNetlink(registry, netdev);
  return netdev.mtu;
}

/** What setting a Linux device's MTU or MAC needs: the netdev registry and its rtnetlink socket (a DpifNetlinkProvider has both); reading link modes, its generic netlink socket. */
export interface LinuxNetdevs {
  readonly netdevs: NetdevRegistry;
  readonly rtnl: NlSock;
  readonly sock: NlSock;
}

/** What netdev_get_features() tells the bridge: the link's speed (bit/s, 0 if not one OVS names) and whether it is full duplex. */
export interface LinkFeatures {
  bps: number;
  fullDuplex: boolean;
}

/**
 * netdev_linux_get_features() (netdev_linux_read_features): the current
 * speed and duplex, which OVS reads with the ETHTOOL_GSET ioctl and this
 * reads with its netlink equivalent, ETHTOOL_MSG_LINKMODES_GET; cached until
 * the device changes. Speeds OVS has no feature bit for give 0 bit/s (no
 * link_speed), as in OVS; 10, 100 and 1000 Mb/s keep the duplex the device
 * reports, faster ones are full duplex. Throws NlSockError (EOPNOTSUPP for a
 * device without link settings).
 */
export async function netdevLinuxGetFeatures(devs: LinuxNetdevs, netdev: Netdev): Promise<LinkFeatures> {
  if (netdev.features === undefined) {
    try {
      const [reply] = await devs.sock.transact(linkmodesRequest(await ethtoolFamilyId(devs.sock), netdev.name));
      const { speed, duplex } = decodeEthtoolLinkmodes(replyPayload(reply)).attrs;
      netdev.features = featuresOf(speed ?? 0, duplex ?? DUPLEX.UNKNOWN);
    } catch (err) {
      if (!(err instanceof NlSockError)) throw err;
      netdev.features = err.errno;
    }
  }
  if (typeof netdev.features === 'number') throw new NlSockError(netdev.features);
  return netdev.features;
}

/** netdev_linux_read_features()'s current-speed bits, as netdev_features_to_bps() and netdev_features_is_full_duplex() read them. */
function featuresOf(speed: number, duplex: number): LinkFeatures {
  const bps: Record<number, number> = { 10: 1e7, 100: 1e8, 1000: 1e9, 10000: 1e10, 40000: 4e10, 100000: 1e11, 1000000: 1e12 };
  const b = bps[speed] ?? 0;
  return { bps: b, fullDuplex: b !== 0 && (speed > 1000 || duplex === DUPLEX.FULL) };
}

function linkmodesRequest(familyId: number, name: string): Message {
  return {
    kind: 'raw',
    protocol: NetlinkProtocol.NETLINK_GENERIC,
    header: { len: 0, type: familyId, flags: NLM_F.REQUEST, seq: 0, pid: 0 },
    payload: ethtoolLinkmodesPayload(ETHTOOL_MSG.LINKMODES_GET, { header: { devName: name } }),
  };
}

/** The genlmsghdr and attributes of a reply, however the socket's decoder left it. */
function replyPayload(reply: Message | undefined): Uint8Array {
  if (reply?.kind === 'raw') return reply.payload;
  throw new NlSockError(Errno.EPROTO, 'unexpected ETHTOOL_MSG_LINKMODES_GET reply');
}

/** The ethtool family's id on this socket, looked up (CTRL_CMD_GETFAMILY) the first time. */
async function ethtoolFamilyId(sock: NlSock): Promise<number> {
  let id = sock.families.id(ethtoolFamily.name);
  if (id === undefined) {
    const [fam] = await sock.transact({
      kind: 'genl',
      protocol: NetlinkProtocol.NETLINK_GENERIC,
      header: { len: 0, type: GENL_ID_CTRL, flags: NLM_F.REQUEST, seq: 0, pid: 0 },
      family: ctrlFamily,
      cmd: CTRL_CMD.GETFAMILY,
      version: 1,
      reserved: 0,
      attrs: { familyName: ethtoolFamily.name },
    } as GenlMessage);
    sock.families.learn((fam as GenlMessage<typeof ctrlFamily>).attrs);
    id = sock.families.id(ethtoolFamily.name);
  }
  if (id === undefined) throw new NlSockError(Errno.ENOENT);
  return id;
}

/**
 * netdev_linux_set_mtu(): nothing if the cached MTU is already that; else
 * RTM_SETLINK with IFLA_MTU (OVS's SIOCSIFMTU), and the cache takes the new
 * value. Returns the errno (0: done). The kernel's RTM_NEWLINK then bumps
 * the change sequence through the LinkWatcher.
 */
export async function netdevLinuxSetMtu(devs: LinuxNetdevs, netdev: Netdev, mtu: number): Promise<number> {
  if (netdev.mtu === mtu) return 0;
  const error = await setLink(devs, netdev, { mtu });
  if (error === 0) netdev.mtu = mtu;
  return error;
}

/**
 * netdev_linux_set_etheraddr(): nothing if the cached MAC is already that;
 * else RTM_SETLINK with IFLA_ADDRESS (OVS's SIOCSIFHWADDR), a tap device
 * brought down around it. Returns the errno (0: done).
 */
export async function netdevLinuxSetEtheraddr(devs: LinuxNetdevs, netdev: Netdev, mac: Uint8Array): Promise<number> {
  if (netdev.mac?.every((b, i) => b === mac[i])) return 0;
  const tapUp = netdev.type === 'tap' && ((netdev.ifiFlags ?? 0) & IFF.UP) !== 0;
  if (tapUp) await setLink(devs, netdev, {}, 0);
  const error = await setLink(devs, netdev, { address: mac.slice() });
  if (error === 0) netdev.mac = mac.slice();
  if (tapUp) await setLink(devs, netdev, {}, IFF.UP);
  return error;
}

/** RTM_SETLINK by name with the given attributes (and IFF_UP set or cleared when `up` is given); the errno, 0 on success. */
async function setLink(devs: LinuxNetdevs, netdev: Netdev, attrs: RtnlLinkMessage['attrs'], up?: number): Promise<number> {
  try {
    await devs.rtnl.transact(linkMessage(RTM.SETLINK, NLM_F.REQUEST | NLM_F.ACK, { ...attrs, ifname: netdev.name }, up));
    return 0;
  } catch (err) {
    if (err instanceof NlSockError) return err.errno;
    throw err;
  }
}

/** netdev_linux_get_carrier(): IFF_RUNNING of the last flags seen. */
export function netdevLinuxGetCarrier(netdev: Netdev): boolean {
  return ((netdev.ifiFlags ?? 0) & IFF.RUNNING) !== 0;
}

/**
 * netdev_linux_get_status() and netdev_internal_get_status(): internal
 * ports report the openvswitch driver; system and tap devices the driver
 * ethtool would name, which over rtnetlink is the link kind (veth,
 * dummy...; none for a device without one).
 */
export async function netdevLinuxGetStatus(registry: NetdevRegistry, netdev: Netdev): Promise<Record<string, string>> {
  if (netdev.type === 'internal') return { driver_name: 'openvswitch' };
  netdev.driver ??= (await netdevLinuxGetLink(registry, netdev.name, true)).attrs.linkinfo?.kind ?? '';
  return netdev.driver ? { driver_name: netdev.driver } : {};
}

const BASIC = ['rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxErrors', 'txErrors', 'rxDropped', 'txDropped'] as const;
const DETAIL = [
  'multicast',
  'collisions',
  'rxLengthErrors',
  'rxOverErrors',
  'rxCrcErrors',
  'rxFrameErrors',
  'rxFifoErrors',
  'rxMissedErrors',
  'txAbortedErrors',
  'txCarrierErrors',
  'txFifoErrors',
  'txHeartbeatErrors',
  'txWindowErrors',
] as const;

/**
 * netdev_linux_get_stats(), netdev_tap_get_stats(),
 * netdev_internal_get_stats(). System devices: the vport's counters plus
 * the link's error details (the link's alone if the device is no vport);
 * tap: the link's with rx/tx swapped where the vport has none; internal:
 * the vport's only. Throws NlSockError when nothing is known.
 */
export async function netdevLinuxGetStats(registry: NetdevRegistry, netdev: Netdev): Promise<NetdevStats> {
  const fromVport = await statsViaVport(registry, netdev);
  const vportError = netdev.vportStatsError ?? 0;
  if (netdev.type === 'internal') {
    if (!fromVport) throw new NlSockError(vportError);
    return fromVport;
  }
  let dev: NetdevStats;
  try {
    dev = statsOfLink(await netdevLinuxGetLink(registry, netdev.name));
  } catch (err) {
    if (!(err instanceof NlSockError) || !fromVport) throw err;
    return fromVport;
  }
  if (!fromVport) return netdev.type === 'tap' ? swapped(dev) : dev;
  if (netdev.type === 'tap') {
    // The vport counts from the switch's side; the link's packet counts are the wire's (GSO/TSO).
    return {
      ...fromVport,
      rxPackets: dev.txPackets,
      rxBytes: dev.txBytes,
      txPackets: dev.rxPackets,
      txBytes: dev.rxBytes,
      rxDropped: add(fromVport.rxDropped, dev.txDropped),
      txDropped: add(fromVport.txDropped, dev.rxDropped),
      rxErrors: add(fromVport.rxErrors, dev.txErrors),
      txErrors: add(fromVport.txErrors, dev.rxErrors),
      multicast: add(fromVport.multicast, dev.multicast),
      collisions: add(fromVport.collisions, dev.collisions),
    };
  }
  const out: NetdevStats = { ...fromVport };
  for (const k of DETAIL) out[k] = add(fromVport[k], dev[k]);
  return out;
}

function add(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  return a === undefined || b === undefined ? undefined : BigInt.asUintN(64, a + b);
}

/**
 * get_stats_via_vport(): the datapath vport's counters (details zero), not
 * asked again after a failure until the device changes. A failure other
 * than "not a vport" is worth a warning.
 */
async function statsViaVport(registry: NetdevRegistry, netdev: Netdev): Promise<NetdevStats | undefined> {
  if (netdev.vportStatsError) return undefined;
  try {
    const s = (await registry.vportGet(netdev.name)).stats;
    if (!s) throw new NlSockError(Errno.EOPNOTSUPP);
    netdev.vportStatsError = 0;
    const out: NetdevStats = {};
    for (const k of BASIC) out[k] = s[k];
    for (const k of DETAIL) out[k] = 0n;
    return out;
  } catch (err) {
    if (!(err instanceof NlSockError)) throw err;
    if (err.errno !== Errno.ENOENT && err.errno !== Errno.ENODEV)
      registry.log('WARN', 'netdev_linux', `${netdev.name}: obtaining netdev stats via vport failed (${strerror(err.errno)})`);
    netdev.vportStatsError = err.errno;
    return undefined;
  }
}

/** get_stats_via_netlink(): IFLA_STATS64, else IFLA_STATS. */
function statsOfLink(link: RtnlLinkMessage): NetdevStats {
  const s = link.attrs.stats64 ?? link.attrs.stats;
  if (!s) {
    throw new NlSockError(Errno.EPROTO, 'RTM_GETLINK reply lacks stats');
  }
  const out: NetdevStats = {};
  for (const k of [...BASIC, ...DETAIL]) out[k] = BigInt(s[k]);
  return out;
}

/** netdev_tap_get_stats() without vport counters: the link's seen from the switch (rx/tx swapped, no error details). */
function swapped(s: NetdevStats): NetdevStats {
  const out: NetdevStats = {
    ...s,
    rxPackets: s.txPackets,
    txPackets: s.rxPackets,
    rxBytes: s.txBytes,
    txBytes: s.rxBytes,
    rxErrors: s.txErrors,
    txErrors: s.rxErrors,
    rxDropped: s.txDropped,
    txDropped: s.rxDropped,
  };
  for (const k of DETAIL) if (k !== 'multicast' && k !== 'collisions') out[k] = 0n;
  return out;
}

/** netdev_linux_changed(): forget what a link change may have made stale (the driver is kept across RTM_NEWLINK). */
function invalidateCaches(dev: Netdev, keepDriver: boolean): void {
  dev.vportStatsError = undefined;
  dev.features = undefined;
  if (!keepDriver) dev.driver = undefined;
}

/**
 * netdev_linux_run()'s notifier (netdev_linux_notify_sock): RTNLGRP_LINK
 * messages about the registry's Linux netdevs, read without waiting.
 */
export class LinkWatcher {
  private readonly families = newFamilyTable();

  private constructor(
    private readonly registry: NetdevRegistry,
    private readonly sock: NetlinkSocket,
  ) {}

  /** netdev_linux_notify_sock(): the socket (NETLINK_ROUTE, owned by the watcher from now on) joins RTNLGRP_LINK. */
  static async open(registry: NetdevRegistry, sock: NetlinkSocket): Promise<LinkWatcher> {
    if (!sock.tryRecv) throw new TypeError('LinkWatcher needs a socket that can be polled (tryRecv)');
    await sock.joinGroup(RTNLGRP.LINK);
    return new LinkWatcher(registry, sock);
  }

  /** Handle every notification queued now, without waiting. Returns the netdevs whose state changed. */
  async run(): Promise<Netdev[]> {
    const changed = new Set<Netdev>();
    for (;;) {
      let datagram: Uint8Array | undefined;
      try {
        datagram = this.sock.tryRecv!();
      } catch (err) {
        if (!(err instanceof NetlinkErrnoError) || err.errno !== Errno.ENOBUFS) throw err;
        // nl_sock_drain(): what is still queued predates the loss; the kernel is asked afresh instead.
        this.drain();
        for (const dev of await this.resync()) changed.add(dev);
        continue;
      }
      if (datagram === undefined) return [...changed];
      const r = decode(datagram, { protocol: NetlinkProtocol.NETLINK_ROUTE, families: this.families });
      if (!r.ok) continue; // not something rtnetlink_parse() would take
      for (const m of r.messages) {
        if (m.kind !== 'rtnl' || m.family !== 'link' || (m.header.type !== RTM.NEWLINK && m.header.type !== RTM.DELLINK)) continue;
        const dev = await this.update(m);
        if (dev) changed.add(dev);
      }
    }
  }

  private drain(): void {
    for (;;) {
      try {
        if (this.sock.tryRecv!() === undefined) return;
      } catch (err) {
        if (!(err instanceof NetlinkErrnoError) || err.errno !== Errno.ENOBUFS) throw err;
      }
    }
  }

  close(): Promise<void> {
    return this.sock.close();
  }

  /** netdev_linux_update(): only for a Linux netdev known to be in this namespace. */
  private async update(m: RtnlLinkMessage): Promise<Netdev | undefined> {
    // Wireless extension events change nothing (rtnetlink_parse marks them irrelevant).
    if (m.attrs.wireless && m.ifinfomsg.change === 0) return undefined;
    const index = m.ifinfomsg.index;
    const dev = m.attrs.ifname !== undefined ? this.registry.get(m.attrs.ifname) : this.registry.all().find((d) => d.ifindex === index);
    if (!dev?.isLinux) return undefined;
    await netdevLinuxNetnsidUpdate(this.registry, dev);
    if (dev.netnsid !== 'local') return undefined;
    const flags = m.ifinfomsg.flags;
    if (m.header.type === RTM.NEWLINK) {
      // The driver (and addresses) survive; MTU, MAC and ifindex are the message's.
      this.changed(dev, flags, true);
      dev.mtu = m.attrs.mtu || undefined;
      const mac = m.attrs.address;
      dev.mac = mac?.length === 6 && mac.some((b) => b !== 0) ? mac : undefined;
      dev.ifindex = index;
    } else {
      this.changed(dev, flags, false);
      dev.netnsid = 'unset';
    }
    return dev;
  }

  /** netdev_linux_changed(): new seq, carrier resets counted, caches dropped (all but the driver if `keepDriver`). */
  private changed(dev: Netdev, flags: number, keepDriver: boolean): void {
    dev.changed();
    if (((dev.ifiFlags ?? 0) ^ flags) & IFF.RUNNING) dev.carrierResets++;
    dev.ifiFlags = flags;
    dev.mtu = undefined;
    dev.mac = undefined;
    dev.ifindex = undefined;
    invalidateCaches(dev, keepDriver);
    if (!keepDriver) this.registry.flushAddrs();
  }

  /** After an overrun: each Linux netdev's flags afresh, everything else forgotten. */
  private async resync(): Promise<Netdev[]> {
    const devs = this.registry.all().filter((d) => d.isLinux);
    for (const dev of devs) {
      const flags = await netdevLinuxGetLink(this.registry, dev.name).then(
        (l) => l.ifinfomsg.flags,
        () => 0,
      );
      this.changed(dev, flags, false);
    }
    return devs;
  }
}
