/**
 * netdev-linux's device state (lib/netdev-linux.c) for system, internal and
 * tap netdevs, over rtnetlink only: MAC, MTU, carrier, statistics (the
 * datapath vport's counters combined with the link's), status. Answers come
 * from the object's caches where OVS caches them (filled by
 * netdev_linux_update_via_netlink, refreshed by the LinkWatcher) and from
 * the kernel otherwise. Vport classes answer from their own state.
 */
import { DpifError, type Netdev, type NetdevRegistry, type NlSock } from '@ovs/dpif-netlink';
import {
  CTRL_CMD,
  DUPLEX,
  ETHTOOL_MSG,
  Errno,
  GENL_ID_CTRL,
  type GenlMessage,
  IFF,
  type Message,
  NLM_F,
  NetlinkProtocol,
  RTM,
  type RtnlLinkMessage,
  ctrlFamily,
  decodeEthtoolLinkmodes,
  ethtoolFamily,
  ethtoolLinkmodesPayload,
  strerror,
} from '@ovs/genl-codec';
import { span } from '@ovs/trace';
import { tunnelState } from './netdev-vport.js';

/** struct netdev_stats; undefined where the class cannot tell (OVS's UINT64_MAX, printed "?"). */
export interface NetdevStats {
  rxPackets?: bigint;
  txPackets?: bigint;
  rxBytes?: bigint;
  txBytes?: bigint;
  rxErrors?: bigint;
  txErrors?: bigint;
  rxDropped?: bigint;
  txDropped?: bigint;
  multicast?: bigint;
  collisions?: bigint;
  rxLengthErrors?: bigint;
  rxOverErrors?: bigint;
  rxCrcErrors?: bigint;
  rxFrameErrors?: bigint;
  rxFifoErrors?: bigint;
  rxMissedErrors?: bigint;
  txAbortedErrors?: bigint;
  txCarrierErrors?: bigint;
  txFifoErrors?: bigint;
  txHeartbeatErrors?: bigint;
  txWindowErrors?: bigint;
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

/** The caches of struct netdev_linux that the Netdev object does not hold itself. */
interface LinuxCache {
  /** VALID_VPORT_STAT_ERROR: the last vport-stats errno (0: they worked). */
  vportStatsError?: number;
  /** VALID_DRVINFO: the driver's name (here: the rtnetlink link kind). */
  driver?: string;
  /** VALID_FEATURES: the current link speed and duplex, or the errno of reading them. */
  features?: LinkFeatures | number;
}

/** What netdev_get_features() tells the bridge: the link's speed (bit/s, 0 if not one OVS names) and whether it is full duplex. */
export interface LinkFeatures {
  bps: number;
  fullDuplex: boolean;
}

const caches = new WeakMap<Netdev, LinuxCache>();

function cacheOf(dev: Netdev): LinuxCache {
  let c = caches.get(dev);
  if (!c) caches.set(dev, (c = {}));
  return c;
}

/** netdev_linux_changed(): forget what a link change may have made stale (the driver is kept across RTM_NEWLINK). */
export function invalidateLinuxCache(dev: Netdev, keepDriver: boolean): void {
  const c = cacheOf(dev);
  c.vportStatsError = undefined;
  c.features = undefined;
  if (!keepDriver) c.driver = undefined;
}

/** netdev_get_etheraddr(): a Linux device's MAC (asked for once, then cached), a vport's made-up one. */
export async function netdevGetEtheraddr(registry: NetdevRegistry, netdev: Netdev): Promise<Uint8Array | undefined> {
  const vport = tunnelState(netdev);
  if (vport) return vport.etheraddr;
  if (!netdev.isLinux) return undefined;
  if (netdev.mac === undefined) await registry.updateViaNetlink(netdev);
  return netdev.mac;
}

/** netdev_get_mtu(): a Linux device's MTU (cached); undefined for classes without one (EOPNOTSUPP). */
export async function netdevGetMtu(registry: NetdevRegistry, netdev: Netdev): Promise<number | undefined> {
  if (!netdev.isLinux) return undefined;
  if (netdev.mtu === undefined) await registry.updateViaNetlink(netdev);
  return netdev.mtu;
}

/**
 * netdev_get_flags(): whether a Linux device is administratively up
 * (netdev_linux_update_flags reads the flags with
 * netdev_linux_update_via_netlink, which also refreshes the cached carrier,
 * MTU, MAC and ifindex); vports are always up.
 */
export async function netdevGetFlags(registry: NetdevRegistry, netdev: Netdev): Promise<{ up: boolean }> {
  return { up: ((await registry.getFlags(netdev)) & IFF.UP) !== 0 };
}

/** netdev_get_carrier_resets(): how often a Linux device's carrier changed since it was opened; 0 for vports. */
export function netdevGetCarrierResets(netdev: Netdev): number {
  return netdev.isLinux ? netdev.carrierResets : 0;
}

/** What setting a Linux device's MTU or MAC needs: the netdev registry and its rtnetlink socket (a DpifNetlinkProvider has both); reading link modes, its generic netlink socket. */
export interface LinuxNetdevs {
  readonly netdevs: NetdevRegistry;
  readonly rtnl: NlSock;
  readonly sock: NlSock;
}

/**
 * netdev_get_features() of netdev-linux (netdev_linux_read_features): the
 * current speed and duplex, which OVS reads with the ETHTOOL_GSET ioctl and
 * this reads with its netlink equivalent, ETHTOOL_MSG_LINKMODES_GET; cached
 * until the device changes. Speeds OVS has no feature bit for give 0 bit/s
 * (no link_speed), as in OVS; 10, 100 and 1000 Mb/s keep the duplex the
 * device reports, faster ones are full duplex. Throws DpifError (EOPNOTSUPP
 * for a device without link settings, and for vports).
 */
export function netdevGetFeatures(devs: LinuxNetdevs, netdev: Netdev): Promise<LinkFeatures> {
  return span('netdev', 'netdev_get_features', netdev.name, async () => {
    if (!netdev.isLinux) throw new DpifError(Errno.EOPNOTSUPP);
    const c = cacheOf(netdev);
    if (c.features === undefined) {
      try {
        const [reply] = await devs.sock.transact(linkmodesRequest(await ethtoolFamilyId(devs.sock), netdev.name));
        const { speed, duplex } = decodeEthtoolLinkmodes(replyPayload(reply)).attrs;
        c.features = featuresOf(speed ?? 0, duplex ?? DUPLEX.UNKNOWN);
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
        c.features = err.errno;
      }
    }
    if (typeof c.features === 'number') throw new DpifError(c.features);
    return c.features;
  });
}

/** netdev_linux_read_features()'s current-speed bits, as netdev_features_to_bps() and netdev_features_is_full_duplex() read them. */
function featuresOf(speed: number, duplex: number): LinkFeatures {
  const bps: Record<number, number> = { 10: 1e7, 100: 1e8, 1000: 1e9, 10000: 1e10, 40000: 4e10, 100000: 1e11, 1000000: 1e12 };
  const b = bps[speed] ?? 0;
  return { bps: b, fullDuplex: b !== 0 && (speed > 1000 || duplex === DUPLEX.FULL) };
}

function linkmodesRequest(familyId: number, name: string): Message {
  return { kind: 'raw', protocol: NetlinkProtocol.NETLINK_GENERIC, header: { len: 0, type: familyId, flags: NLM_F.REQUEST, seq: 0, pid: 0 }, payload: ethtoolLinkmodesPayload(ETHTOOL_MSG.LINKMODES_GET, { header: { devName: name } }) };
}

/** The genlmsghdr and attributes of a reply, however the socket's decoder left it. */
function replyPayload(reply: Message | undefined): Uint8Array {
  if (reply?.kind === 'raw') return reply.payload;
  throw new DpifError(Errno.EPROTO, 'unexpected ETHTOOL_MSG_LINKMODES_GET reply');
}

/** The ethtool family's id on this socket, looked up (CTRL_CMD_GETFAMILY) the first time. */
async function ethtoolFamilyId(sock: NlSock): Promise<number> {
  let id = sock.families.id(ethtoolFamily.name);
  if (id === undefined) {
    const [fam] = await sock.transact({ kind: 'genl', protocol: NetlinkProtocol.NETLINK_GENERIC, header: { len: 0, type: GENL_ID_CTRL, flags: NLM_F.REQUEST, seq: 0, pid: 0 }, family: ctrlFamily, cmd: CTRL_CMD.GETFAMILY, version: 1, reserved: 0, attrs: { familyName: ethtoolFamily.name } } as GenlMessage);
    sock.families.learn((fam as GenlMessage<typeof ctrlFamily>).attrs);
    id = sock.families.id(ethtoolFamily.name);
  }
  if (id === undefined) throw new DpifError(Errno.ENOENT);
  return id;
}

/**
 * netdev_set_mtu() of netdev-linux: nothing if the cached MTU is already
 * that; else RTM_SETLINK with IFLA_MTU (OVS's SIOCSIFMTU). The cache takes
 * the new value (ENODEV too: the device is gone). Errors other than
 * EOPNOTSUPP are logged as netdev_set_mtu() does; the errno is returned
 * (0: done), never thrown. The kernel's RTM_NEWLINK then bumps the change
 * sequence through the LinkWatcher.
 */
export function netdevSetMtu(devs: LinuxNetdevs, netdev: Netdev, mtu: number): Promise<number> {
  return span('netdev', 'netdev_set_mtu', `${netdev.name} ${mtu}`, async () => {
    let error = 0;
    if (!netdev.isLinux) error = Errno.EOPNOTSUPP;
    else if (netdev.mtu !== mtu) {
      error = await setLink(devs, netdev, { mtu });
      if (error === 0) netdev.mtu = mtu;
    }
    if (error && error !== Errno.EOPNOTSUPP) devs.netdevs.log('WARN', 'netdev', `failed to set MTU for network device ${netdev.name}: ${strerror(error)}`);
    return error;
  });
}

/**
 * netdev_set_etheraddr() of netdev-linux: nothing if the cached MAC is
 * already that; else RTM_SETLINK with IFLA_ADDRESS (OVS's SIOCSIFHWADDR),
 * a tap device brought down around it. Returns the errno (0: done); the
 * caller logs as it sees fit (bridge.c does).
 */
export function netdevSetEtheraddr(devs: LinuxNetdevs, netdev: Netdev, mac: Uint8Array): Promise<number> {
  return span('netdev', 'netdev_set_etheraddr', netdev.name, async () => {
    if (!netdev.isLinux) return Errno.EOPNOTSUPP;
    if (netdev.mac !== undefined && netdev.mac.every((b, i) => b === mac[i])) return 0;
    const tapUp = netdev.type === 'tap' && ((netdev.ifiFlags ?? 0) & IFF.UP) !== 0;
    if (tapUp) await setLink(devs, netdev, {}, 0);
    const error = await setLink(devs, netdev, { address: mac.slice() });
    if (error === 0) netdev.mac = mac.slice();
    if (tapUp) await setLink(devs, netdev, {}, IFF.UP);
    return error;
  });
}

/** ETH_ADDR_FMT: "xx:xx:xx:xx:xx:xx". */
export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** eth_addr_from_string(): six hex bytes separated by colons; undefined otherwise. */
export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(text);
  return m ? Uint8Array.from(m.slice(1), (h) => parseInt(h, 16)) : undefined;
}

/** RTM_SETLINK by name with the given attributes (and IFF_UP set or cleared when `up` is given); the errno, 0 on success. */
async function setLink(devs: LinuxNetdevs, netdev: Netdev, attrs: RtnlLinkMessage['attrs'], up?: number): Promise<number> {
  const msg: RtnlLinkMessage = {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type: RTM.SETLINK, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 0, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: up ?? 0, change: up === undefined ? 0 : IFF.UP },
    attrs: { ...attrs, ifname: netdev.name },
  };
  try {
    await devs.rtnl.transact(msg);
    return 0;
  } catch (err) {
    if (err instanceof DpifError) return err.errno;
    throw err;
  }
}

/** netdev_get_carrier(): IFF_RUNNING of the last flags seen for a Linux device; always up for classes without carrier. */
export async function netdevGetCarrier(_registry: NetdevRegistry, netdev: Netdev): Promise<boolean> {
  if (!netdev.isLinux) return true;
  return ((netdev.ifiFlags ?? 0) & IFF.RUNNING) !== 0;
}

/**
 * netdev_get_status(): internal ports report the openvswitch driver; system
 * and tap devices the driver ethtool would name, which over rtnetlink is
 * the link kind (veth, dummy...; none for a device without one).
 */
export function netdevGetStatus(registry: NetdevRegistry, netdev: Netdev): Promise<Record<string, string>> {
  return span('netdev', 'netdev_get_status', netdev.name, async (): Promise<Record<string, string>> => {
    if (netdev.type === 'internal') return { driver_name: 'openvswitch' };
    if (!netdev.isLinux) return {};
    const c = cacheOf(netdev);
    c.driver ??= (await registry.getLink(netdev.name, true)).attrs.linkinfo?.kind ?? '';
    return c.driver ? { driver_name: c.driver } : {};
  });
}

/**
 * netdev_get_stats(). System devices: the vport's counters plus the link's
 * error details (the link's alone if the device is no vport); tap: the
 * link's with rx/tx swapped where the vport has none; internal: the vport's
 * only; vports: what userspace counted. Throws DpifError when nothing is
 * known.
 */
export async function netdevGetStats(registry: NetdevRegistry, netdev: Netdev): Promise<NetdevStats> {
  const vport = tunnelState(netdev);
  if (vport) return { ...vport.stats };
  if (!netdev.isLinux) throw new DpifError(Errno.EOPNOTSUPP);
  const fromVport = await statsViaVport(registry, netdev);
  const vportError = cacheOf(netdev).vportStatsError ?? 0;
  if (netdev.type === 'internal') {
    if (!fromVport) throw new DpifError(vportError);
    return fromVport;
  }
  let dev: NetdevStats;
  try {
    dev = statsOfLink(await registry.getLink(netdev.name));
  } catch (err) {
    if (!(err instanceof DpifError) || !fromVport) throw err;
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
  const c = cacheOf(netdev);
  if (c.vportStatsError) return undefined;
  try {
    const s = (await registry.vportGet(netdev.name)).stats;
    if (!s) throw new DpifError(Errno.EOPNOTSUPP);
    c.vportStatsError = 0;
    const out: NetdevStats = {};
    for (const k of BASIC) out[k] = s[k];
    for (const k of DETAIL) out[k] = 0n;
    return out;
  } catch (err) {
    if (!(err instanceof DpifError)) throw err;
    if (err.errno !== Errno.ENOENT && err.errno !== Errno.ENODEV) registry.log('WARN', 'netdev_linux', `${netdev.name}: obtaining netdev stats via vport failed (${strerror(err.errno)})`);
    c.vportStatsError = err.errno;
    return undefined;
  }
}

/** get_stats_via_netlink(): IFLA_STATS64, else IFLA_STATS. */
function statsOfLink(link: RtnlLinkMessage): NetdevStats {
  const s = link.attrs.stats64 ?? link.attrs.stats;
  if (!s) {
    throw new DpifError(Errno.EPROTO, 'RTM_GETLINK reply lacks stats');
  }
  const out: NetdevStats = {};
  for (const k of [...BASIC, ...DETAIL]) out[k] = BigInt(s[k]);
  return out;
}

/** netdev_tap_get_stats() without vport counters: the link's seen from the switch (rx/tx swapped, no error details). */
function swapped(s: NetdevStats): NetdevStats {
  const out: NetdevStats = { ...s, rxPackets: s.txPackets, txPackets: s.rxPackets, rxBytes: s.txBytes, txBytes: s.rxBytes, rxErrors: s.txErrors, txErrors: s.rxErrors, rxDropped: s.txDropped, txDropped: s.rxDropped };
  for (const k of DETAIL) if (k !== 'multicast' && k !== 'collisions') out[k] = 0n;
  return out;
}
