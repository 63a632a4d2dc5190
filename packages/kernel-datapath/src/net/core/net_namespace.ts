/**
 * Network namespaces and their net_devices: the device table the vports bind
 * to (name, ifindex, MAC, MTU, flags, the rx_handler a vport registers) and
 * that rtnetlink shows and changes; and each namespace's IP addresses and
 * routes (ifaddr.ts, fib.ts, addrconf.ts).
 */
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, Errno, IFF, IF_OPER, NetlinkErrnoError } from '@ovs/genl-codec';
import { Addrconf } from '../ipv6/addrconf.js';
import { driverFeatures } from '../ethtool/netlink.js';
import { Fib } from '../ipv4/fib_trie.js';
import { Ftrace } from '../../kernel/trace/ftrace.js';
import { InetAddresses } from '../ipv4/devinet.js';

/** The rx_handler slot of a net_device: who consumes its packets (a vport, a bridge...). */
export interface RxHandlerOwner {
  readonly description: string;
}

export interface NetDeviceInit {
  name: string;
  /** rtnetlink kind: dummy, veth, vxlan, geneve, gretap, openvswitch (internal ports), loopback. */
  kind: string;
  /** Requested ifindex (0 or absent: the next free one). */
  ifindex?: number;
  mtu?: number;
  mac?: Uint8Array;
  flags?: number;
  type?: number;
  /** Kind-specific configuration as rtnetlink returns it in IFLA_INFO_DATA (typed by the rtnetlink layer). */
  linkData?: unknown;
}

export class NetDevice {
  readonly netns: Netns;
  name: string;
  readonly ifindex: number;
  readonly kind: string;
  /** ARPHRD_* */
  readonly type: number;
  mtu: number;
  mac: Uint8Array;
  /** IFF_* as dev_get_flags() reports them. */
  flags: number;
  operstate: number;
  txqlen: number;
  /** veth peer. */
  peer: NetDevice | undefined;
  /** Who registered the rx_handler (netdev_rx_handler_register): at most one. */
  rxHandler: RxHandlerOwner | undefined;
  /** The upper device (netdev_upper_dev_link), e.g. the datapath's local port. */
  master: NetDevice | undefined;
  /** Promiscuity count (dev_set_promiscuity). */
  promiscuity = 0;
  /** dev->features: the offloads in effect, a netdev_features_t (bit i is NETIF_F_BIT's i). */
  features: bigint;
  /** dev->hw_features: those ethtool may change. */
  hwFeatures: bigint;
  /** dev->wanted_features: those of the changeable ones asked for. */
  wantedFeatures: bigint;
  linkData: unknown;
  readonly stats = { rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n, rxErrors: 0n, txErrors: 0n, rxDropped: 0n, txDropped: 0n };

  constructor(netns: Netns, init: NetDeviceInit, ifindex: number, mac: Uint8Array) {
    this.netns = netns;
    this.name = init.name;
    this.ifindex = ifindex;
    this.kind = init.kind;
    this.type = init.type ?? (init.kind === 'loopback' ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
    this.mtu = init.mtu ?? (init.kind === 'loopback' ? 65536 : 1500);
    this.mac = init.mac ?? mac;
    this.flags = init.flags ?? (init.kind === 'loopback' ? IFF.LOOPBACK | IFF.UP | IFF.RUNNING | IFF.LOWER_UP : IFF.BROADCAST | IFF.MULTICAST);
    this.operstate = init.kind === 'loopback' ? IF_OPER.UNKNOWN : IF_OPER.DOWN;
    this.txqlen = init.kind === 'loopback' ? 1000 : init.kind === 'veth' || init.kind === 'dummy' ? 1000 : 1000;
    this.peer = undefined;
    this.rxHandler = undefined;
    this.master = undefined;
    this.linkData = init.linkData;
    const f = driverFeatures(init.kind);
    this.features = f.features;
    this.hwFeatures = f.hw;
    this.wantedFeatures = f.wanted;
  }

  get isUp(): boolean {
    return (this.flags & IFF.UP) !== 0;
  }
}

/** What a namespace tells the world about its devices (rtnetlink sends RTM_NEWLINK / RTM_DELLINK). */
export interface NetnsListener {
  linkChanged(dev: NetDevice, event: 'new' | 'del' | 'change'): void;
  /**
   * NETDEV_UNREGISTER: the device is going (no longer registered; changes made
   * to it now are not notified). Called after it was closed and before
   * RTM_DELLINK is built, which therefore shows what the listeners left (a
   * vport's detach: no master, promiscuity down).
   */
  unregister?(dev: NetDevice): void;
}

/**
 * One network namespace. ifindexes are allocated as dev_new_index() does:
 * one past the last one handed out, never reusing a number while counting up.
 */
export class Netns {
  private readonly byName = new Map<string, NetDevice>();
  private readonly byIndex = new Map<number, NetDevice>();
  private lastIfindex = 0;
  private macCounter = 0;
  readonly listeners: NetnsListener[] = [];
  /** Who hears of NETDEV_FEAT_CHANGE besides rtnetlink (ethtool's FEATURES_NTF). */
  readonly featureListeners: Array<(dev: NetDevice) => void> = [];
  /** The IPv4 and IPv6 routing tables. */
  readonly fib = new Fib();
  /** The IPv4 and IPv6 addresses of the devices. */
  readonly addresses: InetAddresses = new InetAddresses(this, this.fib);
  /** What the IP layer does by itself as devices come and go (`addrconf.auto = false` stops its own addresses). */
  readonly addrconf: Addrconf = new Addrconf(this);

  /** The kernel's function tracer (device registration is reported to traced requests). */
  readonly ftrace: Ftrace;

  constructor(
    readonly name: string,
    /** A namespace id seed, so MACs differ across namespaces. */
    private readonly seed: number,
    opts: { addrconf?: boolean; ftrace?: Ftrace } = {},
  ) {
    this.ftrace = opts.ftrace ?? new Ftrace();
    this.addrconf.auto = opts.addrconf ?? true;
    // lo is up from the start: 127.0.0.1/8 and ::1 with their routes (unless addrconf is off).
    const lo = this.addDevice({ name: 'lo', kind: 'loopback', mac: new Uint8Array(6) });
    this.addrconf.sync(lo, { up: true, ready: true, carrier: true });
  }

  get devices(): IterableIterator<NetDevice> {
    return this.byIndex.values();
  }

  get deviceCount(): number {
    return this.byIndex.size;
  }

  byIfname(name: string): NetDevice | undefined {
    return this.byName.get(name);
  }

  byIfindex(ifindex: number): NetDevice | undefined {
    return this.byIndex.get(ifindex);
  }

  /** register_netdevice(): EEXIST for a taken name or ifindex, EINVAL for a bad name. */
  addDevice(init: NetDeviceInit): NetDevice {
    return this.ftrace.call('vport', 'register_netdevice', init.name, () => this.registerNetdevice(init), noRet);
  }

  private registerNetdevice(init: NetDeviceInit): NetDevice {
    if (!validIfname(init.name)) throw new NetlinkErrnoError(Errno.EINVAL);
    if (this.byName.has(init.name)) throw new NetlinkErrnoError(Errno.EEXIST);
    let ifindex = init.ifindex ?? 0;
    if (ifindex !== 0) {
      if (this.byIndex.has(ifindex)) throw new NetlinkErrnoError(Errno.EBUSY);
    } else {
      ifindex = this.nextIfindex();
    }
    const dev = new NetDevice(this, init, ifindex, this.randomMac());
    this.byName.set(dev.name, dev);
    this.byIndex.set(ifindex, dev);
    for (const l of this.listeners) l.linkChanged(dev, 'new');
    return dev;
  }

  /** unregister_netdevice(): a veth takes its peer with it. */
  removeDevice(dev: NetDevice): void {
    if (this.byIndex.get(dev.ifindex) !== dev) return;
    this.ftrace.event('vport', 'unregister_netdevice', dev.name);
    this.byName.delete(dev.name);
    this.byIndex.delete(dev.ifindex);
    for (const l of this.listeners) l.linkChanged(dev, 'del');
    // rtnetlink runs the notifier chain between closing the device and RTM_DELLINK; without it, here.
    this.unregisterNotify(dev);
    // Without rtnetlink listening (it calls this first, before RTM_DELLINK), the IP layer still lets go.
    this.addrconf.unregister(dev);
    const peer = dev.peer;
    if (peer !== undefined) {
      dev.peer = undefined;
      peer.peer = undefined;
      peer.netns.removeDevice(peer);
    }
  }

  /** call_netdevice_notifiers(NETDEV_UNREGISTER, dev): once per removal. */
  unregisterNotify(dev: NetDevice): void {
    if (this.notifiedUnregister.has(dev)) return;
    this.notifiedUnregister.add(dev);
    for (const l of this.listeners) l.unregister?.(dev);
  }

  private readonly notifiedUnregister = new WeakSet<NetDevice>();

  /** dev_change_name(). */
  rename(dev: NetDevice, name: string): void {
    if (!validIfname(name)) throw new NetlinkErrnoError(Errno.EINVAL);
    if (name === dev.name) return;
    if (this.byName.has(name)) throw new NetlinkErrnoError(Errno.EEXIST);
    this.byName.delete(dev.name);
    dev.name = name;
    this.byName.set(name, dev);
    this.changed(dev);
  }

  /** Tell listeners a device's state changed (flags, MTU, master...). */
  changed(dev: NetDevice): void {
    for (const l of this.listeners) l.linkChanged(dev, 'change');
  }

  /**
   * netdev_features_change(): NETDEV_FEAT_CHANGE, to rtnetlink (RTM_NEWLINK)
   * and then to ethtool, in the order they registered their notifiers.
   */
  featuresChanged(dev: NetDevice): void {
    this.changed(dev);
    for (const l of this.featureListeners) l(dev);
  }

  private nextIfindex(): number {
    for (;;) {
      this.lastIfindex = this.lastIfindex >= 0x7fffffff ? 1 : this.lastIfindex + 1;
      if (!this.byIndex.has(this.lastIfindex)) return this.lastIfindex;
    }
  }

  /** eth_hw_addr_random(): locally administered, unicast; deterministic here so runs repeat. */
  private randomMac(): Uint8Array {
    const n = ++this.macCounter;
    return Uint8Array.from([0x02, 0x4f, 0x56, this.seed & 0xff, (n >> 8) & 0xff, n & 0xff]);
  }
}

/** dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace. */
export function validIfname(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) >= 16) return false;
  if (name === '.' || name === '..') return false;
  return !/[/:\s]/.test(name);
}

const noRet = (): undefined => undefined;
