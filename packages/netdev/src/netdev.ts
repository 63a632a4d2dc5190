/**
 * lib/netdev.c: struct netdev and the process's table of them.
 *
 * - netdev_open()/netdev_close()/netdev_remove(): one shared, refcounted
 *   object per name; a device opened without a type is "auto-classified" as
 *   `system` and is replaced (not reused) when someone opens it with another
 *   type.
 * - netdev_register_provider(): pluggable classes (the tunnel and patch
 *   vports of netdev-vport.ts) whose hooks run on open, last close,
 *   set_config and get_config. Without a registered class a vport type still
 *   opens (the port dump of a datapath opened on its own, DpifNetlink.open(),
 *   needs no more than the object).
 * - netdev_set_config()/netdev_get_config(), the change sequence, the MTU's
 *   user configuration, and the process-wide getifaddrs() cache.
 * - The class-independent entry points (netdev_get_mtu, netdev_get_stats,
 *   ...): each hands a Linux netdev to netdev-linux.ts, answers for a vport
 *   from its class state (netdev-vport.ts), and gives the others what OVS
 *   gives a class without the operation.
 *
 * The Linux classes' (system, internal, tap) state lives on the object, as
 * struct netdev_linux embeds struct netdev.
 */
import { AF_INET, AF_INET6, Errno, IFF, NLM_F, NetlinkProtocol, type Message, RTM, strerror } from '@ovs/genl-codec';
import { type NlSock, NlSockError } from '@ovs/netlink-socket';
import { span } from '@ovs/trace';
import { coverageDefine } from '@ovs/util';
import { NetdevConfigError } from './errors.js';
import { mapIpv4 } from './packets.js';
import {
  type LinkFeatures,
  type LinuxNetdevs,
  netdevLinuxConstruct,
  netdevLinuxGetAddrList,
  netdevLinuxGetCarrier,
  netdevLinuxGetEtheraddr,
  netdevLinuxGetFeatures,
  netdevLinuxGetFlags,
  netdevLinuxGetIfindex,
  netdevLinuxGetMtu,
  netdevLinuxGetStats,
  netdevLinuxGetStatus,
  netdevLinuxSetEtheraddr,
  netdevLinuxSetMtu,
  netdevLinuxTurnUp,
} from './netdev-linux.js';
import { VPORT_TYPES, netdevVportTypeFromName, tunnelState } from './netdev-vport.js';

/** How every layer logs: OVS's vlog level, module and text. */
export type LogFn = (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string) => void;

/** The netdev classes netdev-linux provides, as OVS names them. */
const LINUX_TYPES = new Set(['system', 'internal', 'tap']);

/** struct netnsid: unknown, the local namespace, or a remote one's id. */
export type Netnsid = 'unset' | 'local' | number;

/**
 * The part of struct netdev_class a pluggable class provides. Hooks throw to
 * fail (construct: the open fails; setConfig: the configuration is refused).
 */
export interface NetdevClass {
  /** The OVS type name it is registered under: vxlan, patch, ... */
  readonly type: string;
  /** After the object is made, before anyone holds it; may fill `dev.classState`. */
  construct?(dev: Netdev): void | Promise<void>;
  /** When the last reference goes. */
  destruct?(dev: Netdev): void;
  setConfig?(dev: Netdev, args: Record<string, string>): void | Promise<void>;
  getConfig?(dev: Netdev): Record<string, string>;
}

/** A network device as the datapath is asked to add it (the part of struct netdev dpif_port_add needs). */
export interface NetdevSpec {
  name: string;
  /** OVS netdev type: system, tap, internal, vxlan, geneve, gre, lisp, stt, ... */
  type: string;
  /** Tunnel configuration (already parsed by the netdev layer). */
  tunnel?: {
    /** UDP destination port. */
    dstPort?: number;
    /** VXLAN extensions: Group Based Policy. */
    gbp?: boolean;
  };
}

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

/** The counters a vport reply carries (OVS_VPORT_ATTR_STATS). */
export interface VportStats {
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxDropped: bigint;
  txDropped: bigint;
}

/**
 * What netdev-linux needs of the datapath provider: dpif_netlink_vport_get()
 * (netdev-linux.c calls it for the netnsid and the vport's counters). The
 * provider passes it in, since dpif-netlink sits above this package.
 */
export type VportGet = (name: string) => Promise<{ netnsid?: number; stats?: VportStats }>;

/** One address of a device as getifaddrs() reports it: IPv4 as v4-mapped IPv6. */
export interface IfAddr {
  name: string;
  addr: Uint8Array;
  mask: Uint8Array;
}

export class Netdev {
  refs = 0;
  /** netdev_get_change_seq(): 1 when made, bumped by every change; never 0. */
  changeSeq = 1;
  /** netdev->mtu_user_config: the user asked for the MTU (Interface mtu_request). */
  mtuUserConfig = false;
  /** The registered class's private state (struct netdev_vport's fields for a vport). */
  classState: unknown;

  // struct netdev_linux: what netdev-linux.ts caches for system, internal and tap devices.
  netnsid: Netnsid = 'unset';
  ifindex: number | undefined;
  mac: Uint8Array | undefined;
  /** The cached IFLA_MTU (undefined: not known, ask the kernel). */
  mtu: number | undefined;
  /** ifi_flags as last seen (IFF_RUNNING is the carrier). */
  ifiFlags: number | undefined;
  /** How often IFF_RUNNING flipped (netdev_get_carrier_resets). */
  carrierResets = 0;
  /** VALID_VPORT_STAT_ERROR: the last vport-stats errno (0: they worked; undefined: not asked). */
  vportStatsError: number | undefined;
  /** VALID_DRVINFO: the driver's name (here: the rtnetlink link kind). */
  driver: string | undefined;
  /** VALID_FEATURES: the current link speed and duplex, or the errno of reading them. */
  features: LinkFeatures | number | undefined;

  constructor(
    readonly name: string,
    /** The class: system, internal, tap, vxlan, ... */
    readonly type: string,
    /** Opened without a type (a typed open replaces it). */
    readonly autoClassified: boolean,
    /** The registered class, if the type has one. */
    readonly netdevClass?: NetdevClass,
  ) {}

  get isLinux(): boolean {
    return LINUX_TYPES.has(this.type);
  }

  /** netdev_change_seq_changed(). */
  changed(): void {
    this.changeSeq = this.changeSeq + 1 >= Number.MAX_SAFE_INTEGER ? 1 : this.changeSeq + 1;
  }
}

/**
 * The process's netdev module: the live objects by name (netdev_shash), the
 * registered classes, the getifaddrs() cache, and what the Linux classes
 * talk to the kernel with.
 */
export class NetdevRegistry {
  /** netdev_shash: the live objects by name. */
  private readonly devices = new Map<string, Netdev>();
  /** netdev_classes: the pluggable classes by type. */
  private readonly classes = new Map<string, NetdevClass>();
  /** The getifaddrs() result, until flushed. */
  private ifAddrs: IfAddr[] | undefined;

  constructor(
    /** rtnetlink, for the Linux classes' device state. */
    readonly rtnl: NlSock,
    /** dpif_netlink_vport_get(), for the netnsid and the vport's counters. */
    readonly vportGet: VportGet,
    readonly log: LogFn = () => {},
    /** Generic netlink, for ethtool (OVS's SIOCETHTOOL ioctls); none: no ethtool. */
    readonly genl?: NlSock,
  ) {}

  /** netdev_from_name(): the live object, if any. */
  get(name: string): Netdev | undefined {
    return this.devices.get(name);
  }

  /** netdev_get_devices(): the live objects. */
  all(): Netdev[] {
    return [...this.devices.values()];
  }

  /**
   * netdev_register_provider(): a class for objects opened with its type
   * from now on. A type that already has a class is refused (EEXIST), as OVS
   * refuses a duplicate provider.
   */
  registerClass(cls: NetdevClass): void {
    if (this.classes.has(cls.type)) {
      this.log('WARN', 'netdev', `attempted to register duplicate netdev provider: ${cls.type}`);
      throw new NlSockError(Errno.EEXIST);
    }
    this.classes.set(cls.type, cls);
  }

  /** netdev_get_type_from_name(). */
  typeFromName(name: string): string | undefined {
    return netdevVportTypeFromName(name) ?? this.devices.get(name)?.type;
  }

  /**
   * netdev_open(): the live object of that name (a typed open of an
   * auto-classified one makes a new object), or a new one; a system device
   * must exist, an internal one need not yet. Throws NlSockError.
   */
  open(name: string, type?: string): Promise<Netdev> {
    return span(
      'netdev',
      'netdev_open',
      `${name}${type ? ` (${type})` : ''}`,
      async () => {
        if (name === '') throw new NlSockError(Errno.EINVAL);
        let dev = this.devices.get(name);
        if (dev && type && type !== dev.type) {
          if (!dev.autoClassified) throw new NlSockError(Errno.EEXIST);
          // Its holders keep it; new opens get a properly typed object.
          this.devices.delete(name);
          dev = undefined;
        }
        if (!dev) {
          const cls = type || 'system';
          const netdevClass = this.classes.get(cls);
          if (!LINUX_TYPES.has(cls) && !VPORT_TYPES.has(cls) && !netdevClass) {
            this.log('WARN', 'netdev', `could not create netdev ${name} of unknown type ${cls}`);
            throw new NlSockError(Errno.EAFNOSUPPORT);
          }
          dev = new Netdev(name, cls, !type, netdevClass);
          if (cls === 'system' || cls === 'internal') await netdevLinuxConstruct(this, dev);
          await netdevClass?.construct?.(dev);
          dev.changed();
          this.devices.set(name, dev);
        }
        dev.refs++;
        return dev;
      },
      (d) => d.type,
    );
  }

  /** netdev_close(): the last reference destroys the object (its caches, its class state). */
  close(dev: Netdev): void {
    if (--dev.refs !== 0) return;
    if (this.devices.get(dev.name) === dev) this.devices.delete(dev.name);
    dev.netdevClass?.destruct?.(dev);
  }

  /**
   * netdev_remove(): the object leaves the name table (its other holders
   * keep it), so the next open of the name makes a new one and asks the
   * kernel again; then this reference goes (netdev_close).
   */
  remove(dev: Netdev): void {
    if (this.devices.get(dev.name) === dev) {
      this.devices.delete(dev.name);
      dev.changed();
    }
    this.close(dev);
  }

  /** netdev_get_addrs_list_flush(). */
  flushAddrs(): void {
    this.ifAddrs = undefined;
  }

  /** netdev_get_addrs(): glibc getifaddrs() (an RTM_GETLINK dump for the names, an RTM_GETADDR dump for the addresses), cached until flushed. */
  async getifaddrs(): Promise<IfAddr[]> {
    if (this.ifAddrs) return this.ifAddrs;
    const names = new Map<number, string>();
    for (const m of await this.rtnl.transact(rtgenDump(RTM.GETLINK, 17 /* AF_PACKET */))) {
      if (m.kind === 'rtnl' && m.family === 'link' && m.attrs.ifname !== undefined) names.set(m.ifinfomsg.index, m.attrs.ifname);
    }
    const out: IfAddr[] = [];
    for (const m of await this.rtnl.transact(rtgenDump(RTM.GETADDR, 0))) {
      if (m.kind !== 'rtnl' || m.family !== 'addr') continue;
      const name = names.get(m.ifaddrmsg.index);
      const { family, prefixlen } = m.ifaddrmsg;
      if (name === undefined || (family !== AF_INET && family !== AF_INET6)) continue;
      // getifaddrs() takes IFA_LOCAL for IPv4 when present, IFA_ADDRESS otherwise.
      const raw = family === AF_INET ? (m.attrs.local ?? m.attrs.address) : m.attrs.address;
      if (raw === undefined) continue;
      out.push(
        family === AF_INET ? { name, addr: mapIpv4(raw), mask: prefixMask(96 + prefixlen) } : { name, addr: raw.slice(0, 16), mask: prefixMask(prefixlen) },
      );
    }
    this.ifAddrs = out;
    return out;
  }
}

/** A prefix length as a 16-byte mask (IPv4 lengths count from bit 96). */
function prefixMask(plen: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, plen - i * 8));
    out[i] = (0xff00 >> bits) & 0xff;
  }
  return out;
}

/** A dump request whose body is a bare struct rtgenmsg, as OVS's route dump and glibc's getifaddrs() send them. */
export function rtgenDump(type: number, family: number, flags: number = NLM_F.REQUEST | NLM_F.DUMP): Message {
  return { kind: 'raw', protocol: NetlinkProtocol.NETLINK_ROUTE, header: { len: 0, type, flags, seq: 0, pid: 0 }, payload: Uint8Array.of(family) };
}

/**
 * netdev_set_config(): the class's set_config; on failure
 * "netdev|WARN|NAME: could not set configuration (ERR)" is logged and a
 * NetdevConfigError thrown. A class without set_config takes no options
 * (a warning if some are given, not an error).
 */
export function netdevSetConfig(registry: NetdevRegistry, netdev: Netdev, options: Record<string, string>): Promise<void> {
  return span(
    'netdev',
    'netdev_set_config',
    `${netdev.name}${
      Object.keys(options).length
        ? ` ${Object.entries(options)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`
        : ''
    }`,
    async () => {
      const cls = netdev.netdevClass;
      if (!cls?.setConfig) {
        if (Object.keys(options).length) registry.log('WARN', 'netdev', `${netdev.name}: arguments provided to device that is not configurable`);
        return;
      }
      try {
        await cls.setConfig(netdev, options);
      } catch (err) {
        if (!(err instanceof NetdevConfigError)) throw err;
        const line = `${netdev.name}: could not set configuration (${strerror(err.errno)})`;
        registry.log('WARN', 'netdev', line);
        throw err.message ? err : new NetdevConfigError(err.errno, line);
      }
    },
  );
}

/** netdev_get_config(): the class's view of its configuration, keys sorted; {} for classes without one. */
export function netdevGetConfig(netdev: Netdev): Record<string, string> {
  return netdev.netdevClass?.getConfig?.(netdev) ?? {};
}

/** netdev_get_change_seq(). */
export function netdevGetChangeSeq(netdev: Netdev): number {
  return netdev.changeSeq;
}

/** What dpif_port_add takes for this netdev: name, type, and a tunnel's UDP port and VXLAN GBP flag. */
export function netdevToSpec(netdev: Netdev): NetdevSpec {
  const tnl = tunnelState(netdev)?.cfg;
  if (!tnl) return { name: netdev.name, type: netdev.type };
  // As dpif_netlink_port_add_compat(): no port (GRE's 0) means no port option.
  return { name: netdev.name, type: netdev.type, tunnel: { ...(tnl.dstPort ? { dstPort: tnl.dstPort } : {}), ...(tnl.exts.gbp ? { gbp: true } : {}) } };
}

/** netdev_mtu_user_config(): whether the user controls the MTU (then ofproto does not override it); a change bumps the change sequence. */
export function netdevMtuUserConfig(netdev: Netdev, userConfig: boolean): void {
  if (netdev.mtuUserConfig === userConfig) return;
  netdev.changed();
  netdev.mtuUserConfig = userConfig;
}

/** netdev_mtu_is_user_config(). */
export function netdevMtuIsUserConfig(netdev: Netdev): boolean {
  return netdev.mtuUserConfig;
}

// The entry points a netdev's class answers. None throws synchronously (span() may call them outside a recording).

/** netdev_get_etheraddr(): a Linux device's MAC, a vport's made-up one. */
export function netdevGetEtheraddr(registry: NetdevRegistry, netdev: Netdev): Promise<Uint8Array | undefined> {
  const vport = tunnelState(netdev);
  if (vport) return Promise.resolve(vport.etheraddr);
  return netdev.isLinux ? netdevLinuxGetEtheraddr(registry, netdev) : Promise.resolve(undefined);
}

/** netdev_get_mtu(): a Linux device's MTU; undefined for classes without one (EOPNOTSUPP). */
export function netdevGetMtu(registry: NetdevRegistry, netdev: Netdev): Promise<number | undefined> {
  return netdev.isLinux ? netdevLinuxGetMtu(registry, netdev) : Promise.resolve(undefined);
}

/**
 * netdev_set_mtu(): the errno is returned (0: done), never thrown; errors
 * other than EOPNOTSUPP (a class without an MTU) are logged.
 */
export function netdevSetMtu(devs: LinuxNetdevs, netdev: Netdev, mtu: number): Promise<number> {
  return span('netdev', 'netdev_set_mtu', `${netdev.name} ${mtu}`, async () => {
    const error = netdev.isLinux ? await netdevLinuxSetMtu(devs, netdev, mtu) : Errno.EOPNOTSUPP;
    if (error && error !== Errno.EOPNOTSUPP) devs.netdevs.log('WARN', 'netdev', `failed to set MTU for network device ${netdev.name}: ${strerror(error)}`);
    return error;
  });
}

/** netdev_set_etheraddr(): the errno (0: done; EOPNOTSUPP for vports); the caller logs as it sees fit (bridge.c does). */
export function netdevSetEtheraddr(devs: LinuxNetdevs, netdev: Netdev, mac: Uint8Array): Promise<number> {
  return span('netdev', 'netdev_set_etheraddr', netdev.name, () =>
    netdev.isLinux ? netdevLinuxSetEtheraddr(devs, netdev, mac) : Promise.resolve(Errno.EOPNOTSUPP),
  );
}

/** netdev_get_flags(): whether the device is administratively up, and a loopback; vports are always up. */
export async function netdevGetFlags(registry: NetdevRegistry, netdev: Netdev): Promise<{ up: boolean; loopback: boolean }> {
  const flags = netdev.isLinux ? await netdevLinuxGetFlags(registry, netdev) : IFF.UP;
  return { up: (flags & IFF.UP) !== 0, loopback: (flags & IFF.LOOPBACK) !== 0 };
}

/** netdev_turn_flags_on(NETDEV_UP): a no-op for vports. */
export function netdevTurnFlagsOn(registry: NetdevRegistry, netdev: Netdev): Promise<void> {
  return netdev.isLinux ? netdevLinuxTurnUp(registry, netdev) : Promise.resolve();
}

/** netdev_get_carrier(): a Linux device's IFF_RUNNING; always up for classes without carrier. */
export async function netdevGetCarrier(_registry: NetdevRegistry, netdev: Netdev): Promise<boolean> {
  return netdev.isLinux ? netdevLinuxGetCarrier(netdev) : true;
}

/** netdev_get_carrier_resets(): how often a Linux device's carrier changed since it was opened; 0 for vports. */
export function netdevGetCarrierResets(netdev: Netdev): number {
  return netdev.isLinux ? netdev.carrierResets : 0;
}

/** netdev_get_features(): a Linux device's link speed and duplex; EOPNOTSUPP for vports. */
export function netdevGetFeatures(devs: LinuxNetdevs, netdev: Netdev): Promise<LinkFeatures> {
  return span('netdev', 'netdev_get_features', netdev.name, () =>
    netdev.isLinux ? netdevLinuxGetFeatures(devs, netdev) : Promise.reject(new NlSockError(Errno.EOPNOTSUPP)),
  );
}

/** netdev_get_ifindex(): netdev-linux asks the kernel unless cached; tunnels answer without netlink (undefined). */
export function netdevGetIfindex(registry: NetdevRegistry, netdev: Netdev): Promise<number | undefined> {
  return span(
    'netdev',
    'netdev_get_ifindex',
    netdev.name,
    () => (netdev.isLinux ? netdevLinuxGetIfindex(registry, netdev) : Promise.resolve(undefined)),
    (i) => (i === undefined ? undefined : `ifindex ${i}`),
  );
}

/** netdev_get_addr_list(): a Linux device's addresses; EOPNOTSUPP for vports. */
export function netdevGetAddrList(registry: NetdevRegistry, netdev: Netdev): Promise<IfAddr[]> {
  return netdev.isLinux ? netdevLinuxGetAddrList(registry, netdev) : Promise.reject(new NlSockError(Errno.EOPNOTSUPP));
}

/** netdev_get_status(): the driver a Linux device reports; nothing for vports. */
export function netdevGetStatus(registry: NetdevRegistry, netdev: Netdev): Promise<Record<string, string>> {
  return span('netdev', 'netdev_get_status', netdev.name, () => (netdev.isLinux ? netdevLinuxGetStatus(registry, netdev) : Promise.resolve({})));
}

/** lib/netdev.c's COVERAGE_DEFINE(netdev_get_stats). */
const COVERAGE_NETDEV_GET_STATS = coverageDefine('netdev_get_stats');

/** netdev_get_stats(): a Linux device's (netdev-linux), a vport's userspace counters; EOPNOTSUPP for other classes. */
export function netdevGetStats(registry: NetdevRegistry, netdev: Netdev): Promise<NetdevStats> {
  COVERAGE_NETDEV_GET_STATS.inc();
  const vport = tunnelState(netdev);
  if (vport) return Promise.resolve({ ...vport.stats });
  return netdev.isLinux ? netdevLinuxGetStats(registry, netdev) : Promise.reject(new NlSockError(Errno.EOPNOTSUPP));
}
