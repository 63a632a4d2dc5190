/**
 * The netdev objects ovs-dpctl's code paths touch (lib/netdev.c,
 * lib/netdev-linux.c, lib/netdev-vport.c), with the caches that decide which
 * netlink requests real OVS sends:
 *
 * - netdev_open()/netdev_close(): one shared, refcounted object per name; a
 *   device opened without a type is "auto-classified" as `system` and is
 *   replaced (not reused) when someone opens it with another type.
 * - netdev_linux_netnsid_update(): the first question about a system or
 *   internal device ("is it in another namespace?") is an OVS_VPORT_CMD_GET
 *   by name, cached on the object when it succeeds (or when the module is
 *   missing: ENOENT); a device that is not a vport (ENODEV) stays unknown and
 *   is asked again next time. These are the GETs that fill the start of every
 *   ovs-dpctl capture.
 * - the process-wide getifaddrs() cache (an RTM_GETLINK and an RTM_GETADDR
 *   dump), flushed when the routing table is reset.
 *
 * Where OVS uses an ioctl (SIOCGIFFLAGS to check that a device exists,
 * SIOCSIFFLAGS to bring it up), this uses the rtnetlink equivalent, since a
 * NetlinkSocket is all there is.
 *
 * Other netdev classes (the tunnel and patch vports of @ovs/netdev) plug in
 * with registerClass() (netdev_register_provider): their hooks run on open,
 * last close, set_config and get_config, and keep their state in the
 * object's class slot. Without a registered class a vport type still opens
 * (ovs-dpctl needs no more than the object).
 */
import { AF_INET, AF_INET6, CTRL_CMD, ETHTOOL_FLAG, ETHTOOL_MSG, Errno, type EthtoolFeaturesAttrs, GENL_ID_CTRL, type GenlMessage, IFF, type Message, NLM_F, NetlinkProtocol, RTM, type RtnlLinkMessage, ctrlFamily, ethtoolFamily } from '@ovs/genl-codec';
import { span } from '@ovs/trace';
import type { LogFn } from './dpif-netlink.js';
import { DpifError, type NlSock } from './nl-sock.js';

/** IFNAMSIZ: a device name's buffer, NUL included. */
const IFNAMSIZ = 16;

/** The netdev classes this layer knows, as OVS names them. */
const LINUX_TYPES = new Set(['system', 'internal', 'tap']);
const VPORT_TYPES = new Set(['vxlan', 'geneve', 'gre', 'lisp', 'stt', 'erspan', 'ip6erspan', 'ip6gre', 'gtpu', 'bareudp', 'patch']);

/** netdev_vport_type_from_name(): tunnel device names made by dpif-netlink (vxlan_sys_4789, gre_sys...). */
const DPIF_PORT_PREFIXES: Array<[string, string]> = [
  ['genev_sys', 'geneve'],
  ['gre_sys', 'gre'],
  ['vxlan_sys', 'vxlan'],
  ['lisp_sys', 'lisp'],
  ['stt_sys', 'stt'],
  ['erspan_sys', 'erspan'],
  ['ip6erspan_sys', 'ip6erspan'],
  ['ip6gre_sys', 'ip6gre'],
  ['gtpu_sys', 'gtpu'],
  ['udp_sys', 'bareudp'],
];

export function netdevVportTypeFromName(name: string): string | undefined {
  return DPIF_PORT_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

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

export class Netdev {
  refs = 0;
  netnsid: Netnsid = 'unset';
  ifindex: number | undefined;
  mac: Uint8Array | undefined;
  /** netdev-linux's cached IFLA_MTU (undefined: not known, ask the kernel). */
  mtu: number | undefined;
  /** netdev-linux's ifi_flags as last seen (IFF_RUNNING is the carrier). */
  ifiFlags: number | undefined;
  /** How often IFF_RUNNING flipped (netdev_get_carrier_resets). */
  carrierResets = 0;
  /** netdev_get_change_seq(): 1 when made, bumped by every change; never 0. */
  changeSeq = 1;
  /** The registered class's private state (struct netdev_vport's fields for a vport). */
  classState: unknown;

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

  /**
   * Take in what an RTM_NEWLINK says about the device (the reply of
   * netdev_linux_update_via_netlink); bumps the change sequence if anything
   * differs. Returns whether it did.
   */
  updateFromLink(link: RtnlLinkMessage): boolean {
    let changed = false;
    const flags = link.ifinfomsg.flags;
    if (this.ifiFlags !== undefined && (flags ^ this.ifiFlags) & IFF.RUNNING) this.carrierResets++;
    if (flags !== this.ifiFlags) changed = true;
    this.ifiFlags = flags;
    const { mtu, address } = link.attrs;
    if (mtu && mtu !== this.mtu) {
      this.mtu = mtu;
      changed = true;
    }
    // Only an Ethernet address counts, and never all-zeros (eth_addr_is_zero).
    if (address?.length === 6 && address.some((b) => b !== 0) && !sameBytes(address, this.mac)) {
      this.mac = address;
      changed = true;
    }
    if (link.ifinfomsg.index !== this.ifindex) {
      this.ifindex = link.ifinfomsg.index;
      changed = true;
    }
    if (changed) this.changed();
    return changed;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** One address of a device as getifaddrs() reports it: IPv4 as v4-mapped IPv6. */
export interface IfAddr {
  name: string;
  addr: Uint8Array;
  mask: Uint8Array;
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

/** What the netdev layer needs of the datapath provider: dpif_netlink_vport_get(). */
export type VportGet = (name: string) => Promise<{ netnsid?: number; stats?: VportStats }>;

/** An IPv4 address as a v4-mapped IPv6 address (in6_addr_set_mapped_ipv4). */
export function mappedIpv4(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4.subarray(0, 4), 12);
  return out;
}

/** A prefix length as a 16-byte mask (IPv4 lengths count from bit 96). */
export function prefixMask(plen: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, plen - i * 8));
    out[i] = (0xff00 >> bits) & 0xff;
  }
  return out;
}

export class NetdevRegistry {
  /** netdev_shash: the live objects by name. */
  private readonly devices = new Map<string, Netdev>();
  /** netdev_classes: the pluggable classes by type. */
  private readonly classes = new Map<string, NetdevClass>();
  /** The getifaddrs() result, until flushed. */
  private ifAddrs: IfAddr[] | undefined;

  constructor(
    private readonly rtnl: NlSock,
    /** dpif_netlink_vport_get(), for the netnsid and the vport's counters. */
    readonly vportGet: VportGet,
    readonly log: LogFn = () => {},
    /** Generic netlink, for ethtool (OVS's SIOCETHTOOL ioctls); none: no ethtool. */
    private readonly genl?: NlSock,
  ) {}

  /**
   * netdev_linux_ethtool_set_flag(): a device feature flag (OVS: LRO, off
   * for every netdev port) through Linux's ethtool netlink API — read it,
   * and only if it is not as wanted, set it and read it back. Errors are
   * logged, not thrown: a device without the feature is fine.
   */
  ethtoolSetFlag(name: string, bit: number, flagName: string, enable: boolean): Promise<void> {
    return span('netdev', 'netdev_linux_ethtool_set_flag', `${name} ${flagName} ${enable ? 'on' : 'off'}`, async () => {
      const genl = this.genl;
      if (genl === undefined) return;
      let id = genl.families.id(ethtoolFamily.name);
      const request = (cmd: number, attrs: EthtoolFeaturesAttrs): GenlMessage =>
        ({ kind: 'genl', protocol: NetlinkProtocol.NETLINK_GENERIC, header: { len: 0, type: id!, flags: NLM_F.REQUEST, seq: 0, pid: 0 }, family: ethtoolFamily, cmd, version: ethtoolFamily.version, reserved: 0, attrs }) as GenlMessage;
      const active = async (): Promise<boolean> => {
        const [reply] = await genl.transact(request(ETHTOOL_MSG.FEATURES_GET, { header: { devName: name, flags: ETHTOOL_FLAG.COMPACT_BITSETS } }));
        const words = ((reply as GenlMessage).attrs as EthtoolFeaturesAttrs).active?.value ?? [];
        return ((words[bit >> 5] ?? 0) >>> (bit & 31)) % 2 === 1;
      };
      let step = 'ETHTOOL_MSG_FEATURES_GET';
      try {
        if (id === undefined) {
          const [fam] = await genl.transact({ kind: 'genl', protocol: NetlinkProtocol.NETLINK_GENERIC, header: { len: 0, type: GENL_ID_CTRL, flags: NLM_F.REQUEST, seq: 0, pid: 0 }, family: ctrlFamily, cmd: CTRL_CMD.GETFAMILY, version: 1, reserved: 0, attrs: { familyName: ethtoolFamily.name } } as GenlMessage);
          genl.families.learn((fam as GenlMessage<typeof ctrlFamily>).attrs);
          id = genl.families.id(ethtoolFamily.name);
        }
        if ((await active()) === enable) return;
        step = 'ETHTOOL_MSG_FEATURES_SET';
        const words = [0, 0];
        words[bit >> 5] = (1 << (bit & 31)) >>> 0;
        await genl.transact(request(ETHTOOL_MSG.FEATURES_SET, { header: { devName: name, flags: ETHTOOL_FLAG.COMPACT_BITSETS }, wanted: { size: 64, value: enable ? words : [0, 0], mask: words } }));
        step = 'ETHTOOL_MSG_FEATURES_GET';
        if ((await active()) !== enable) this.log('WARN', 'netdev_linux', `attempted to ${enable ? 'enable' : 'disable'} flag ${flagName} on ${name} but failed`);
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
        // No ethtool family (ENOENT), a device that has no such feature or cannot change it: nothing to do, as OVS.
        if (err.errno !== Errno.ENOENT && err.errno !== Errno.EOPNOTSUPP) this.log('WARN', 'netdev_linux', `ethtool command ${step} on network device ${name} failed: ${err.text}`);
      }
    });
  }

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
      throw new DpifError(Errno.EEXIST);
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
   * must exist, an internal one need not yet. Throws DpifError.
   */
  open(name: string, type?: string): Promise<Netdev> {
    return span('netdev', 'netdev_open', `${name}${type ? ` (${type})` : ''}`, async () => {
      if (name === '') throw new DpifError(Errno.EINVAL);
      let dev = this.devices.get(name);
      if (dev && type && type !== dev.type) {
        if (!dev.autoClassified) throw new DpifError(Errno.EEXIST);
        // Its holders keep it; new opens get a properly typed object.
        this.devices.delete(name);
        dev = undefined;
      }
      if (!dev) {
        const cls = type || 'system';
        const netdevClass = this.classes.get(cls);
        if (!LINUX_TYPES.has(cls) && !VPORT_TYPES.has(cls) && !netdevClass) {
          this.log('WARN', 'netdev', `could not create netdev ${name} of unknown type ${cls}`);
          throw new DpifError(Errno.EAFNOSUPPORT);
        }
        dev = new Netdev(name, cls, !type, netdevClass);
        if (cls === 'system' || cls === 'internal') await this.construct(dev);
        await netdevClass?.construct?.(dev);
        dev.changed();
        this.devices.set(name, dev);
      }
      dev.refs++;
      return dev;
    }, (d) => d.type);
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

  /**
   * netdev_linux_construct(): the device must exist (get_flags, whose flags
   * are kept), unless it is an internal port still to be made.
   */
  private async construct(dev: Netdev): Promise<void> {
    try {
      // SIOCGIFFLAGS takes the name in a struct ifreq: IFNAMSIZ bytes, so a longer name is cut to 15 characters.
      dev.ifiFlags = (await this.getLink(dev.name.slice(0, IFNAMSIZ - 1))).ifinfomsg.flags;
    } catch (err) {
      if (err instanceof DpifError && err.errno === Errno.ENODEV && dev.type === 'internal') return;
      throw err;
    }
  }

  /** netdev_linux_netnsid_update(). */
  async netnsidUpdate(dev: Netdev): Promise<void> {
    if (!dev.isLinux || dev.netnsid !== 'unset') return;
    if (dev.type === 'tap') {
      dev.netnsid = 'local';
      return;
    }
    try {
      const reply = await this.vportGet(dev.name);
      dev.netnsid = reply.netnsid ?? 'local';
    } catch (err) {
      if (!(err instanceof DpifError)) throw err;
      // No API (module not loaded): assume local. Anything else: still unknown.
      if (err.errno === Errno.ENOENT) dev.netnsid = 'local';
    }
  }

  private async remote(dev: Netdev): Promise<boolean> {
    await this.netnsidUpdate(dev);
    return typeof dev.netnsid === 'number';
  }

  /** netdev_get_addr_list(): the device's addresses from the getifaddrs() cache; EADDRNOTAVAIL if none. */
  async getAddrList(dev: Netdev): Promise<IfAddr[]> {
    if (!dev.isLinux || (await this.remote(dev))) throw new DpifError(Errno.EOPNOTSUPP);
    const all = await this.getifaddrs();
    const mine = all.filter((a) => a.name === dev.name);
    if (mine.length === 0) throw new DpifError(Errno.EADDRNOTAVAIL);
    return mine;
  }

  /** netdev_get_flags() of netdev-linux: netdev_linux_update_via_netlink(), which also caches ifindex, MAC and MTU. */
  async getFlags(dev: Netdev): Promise<number> {
    if (!dev.isLinux) return IFF.UP;
    return (await this.updateViaNetlink(dev)).ifinfomsg.flags;
  }

  /**
   * netdev_linux_update_via_netlink(): RTM_GETLINK by name without stats
   * (not for a device in another namespace), its answer taken into the
   * object's caches.
   */
  updateViaNetlink(dev: Netdev): Promise<RtnlLinkMessage> {
    return span('netdev', 'netdev_linux_update_via_netlink', dev.name, async () => {
      if (await this.remote(dev)) throw new DpifError(Errno.EOPNOTSUPP);
      const link = await this.getLink(dev.name, true);
      dev.updateFromLink(link);
      return link;
    });
  }

  /** netdev_get_ifindex(): netdev-linux asks the kernel unless cached; tunnels answer without netlink. */
  getIfindex(dev: Netdev): Promise<number | undefined> {
    return span('netdev', 'netdev_get_ifindex', dev.name, async () => {
      if (!dev.isLinux) return undefined;
      if (await this.remote(dev)) throw new DpifError(Errno.EOPNOTSUPP);
      if (dev.ifindex === undefined) dev.ifindex = (await this.getLink(dev.name)).ifinfomsg.index;
      return dev.ifindex;
    }, (i) => (i === undefined ? undefined : `ifindex ${i}`));
  }

  /** netdev_turn_flags_on(IFF_UP): SIOCSIFFLAGS in OVS, RTM_SETLINK here. */
  async setUp(dev: Netdev): Promise<void> {
    if (!dev.isLinux) return;
    await this.rtnl.transact(linkMessage(RTM.SETLINK, NLM_F.REQUEST | NLM_F.ACK, { ifname: dev.name }, IFF.UP));
  }

  /** The link by name (RTM_GETLINK). */
  async getLink(name: string, extMask = false): Promise<RtnlLinkMessage> {
    const [reply] = await this.rtnl.transact(linkMessage(RTM.GETLINK, NLM_F.REQUEST, extMask ? { ifname: name, extMask: 8 /* RTEXT_FILTER_SKIP_STATS */ } : { ifname: name }));
    return reply as RtnlLinkMessage;
  }

  /** netdev_get_addrs_list_flush(). */
  flushAddrs(): void {
    this.ifAddrs = undefined;
  }

  /** glibc getifaddrs(): an RTM_GETLINK dump for the names, an RTM_GETADDR dump for the addresses. */
  private async getifaddrs(): Promise<IfAddr[]> {
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
      out.push(family === AF_INET ? { name, addr: mappedIpv4(raw), mask: prefixMask(96 + prefixlen) } : { name, addr: raw.slice(0, 16), mask: prefixMask(prefixlen) });
    }
    this.ifAddrs = out;
    return out;
  }
}

/** An RTM_*LINK request with an empty ifinfomsg (flags/change for IFF_UP when `up` is given). */
export function linkMessage(type: number, flags: number, attrs: RtnlLinkMessage['attrs'], up?: number): RtnlLinkMessage {
  return {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type, flags, seq: 0, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: up ?? 0, change: up ?? 0 },
    attrs,
  };
}

/** A dump request whose body is a bare struct rtgenmsg, as OVS's route dump and glibc's getifaddrs() send them. */
export function rtgenDump(type: number, family: number, flags: number = NLM_F.REQUEST | NLM_F.DUMP): Message {
  return { kind: 'raw', protocol: NetlinkProtocol.NETLINK_ROUTE, header: { len: 0, type, flags, seq: 0, pid: 0 }, payload: Uint8Array.of(family) };
}
