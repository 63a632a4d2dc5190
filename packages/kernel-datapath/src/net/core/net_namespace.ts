/**
 * Network namespaces (net/core/net_namespace.c) and their device tables
 * (the part of net/core/dev.c that lists, names and numbers devices): what
 * the vports bind to and rtnetlink shows and changes; and each namespace's IP
 * addresses and routes (net/ipv4/devinet.ts, fib_trie.ts, net/ipv6/addrconf.ts).
 */
import { Errno, NetlinkErrnoError } from '@ovs/genl-codec';
import { loopbackSetup } from '../../drivers/net/loopback.js';
import { NetDevice, type NetDeviceInit } from '../../include/linux/netdevice.js';
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import { Ftrace, handlerRet } from '../../kernel/trace/ftrace.js';
import { etherSetup } from '../ethernet/eth.js';
import { InetAddresses } from '../ipv4/devinet.js';
import { Fib } from '../ipv4/fib_trie.js';
import { Addrconf } from '../ipv6/addrconf.js';
import { devValidName } from './dev.js';

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
  /** dev_base_seq: bumped as devices come and go (dump consistency). */
  devBaseSeq = 1;
  /** netns_ids: the ids this namespace gave other namespaces (peernet2id). */
  private readonly netnsIds = new Map<Netns, number>();
  /** How many CPUs the kernel has (per-CPU queues). */
  readonly nCpus: number;
  /** rtnl_link_ops_get(): the driver of a kind, when rtnetlink has one. */
  private readonly linkOpsOf: (kind: string) => RtnlLinkOps | undefined;
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
    opts: { addrconf?: boolean; ftrace?: Ftrace; nCpus?: number; linkOps?: (kind: string) => RtnlLinkOps | undefined } = {},
  ) {
    this.ftrace = opts.ftrace ?? new Ftrace();
    this.nCpus = opts.nCpus ?? 2;
    this.linkOpsOf = opts.linkOps ?? (() => undefined);
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

  /**
   * A device made outside the kernel's own paths (a test, a tool): what
   * registerNetdevice() gives, its errno thrown as a NetlinkErrnoError.
   */
  addDevice(init: NetDeviceInit): NetDevice {
    const dev = this.registerNetdevice(init);
    if (typeof dev === 'number') throw new NetlinkErrnoError(-dev);
    return dev;
  }

  /** register_netdevice(): the device, or EEXIST for a taken name, EBUSY for a taken ifindex, EINVAL for a bad name. */
  registerNetdevice(init: NetDeviceInit): NetDevice | number {
    return this.ftrace.call('vport', 'register_netdevice', init.name, () => this.register(init), devRet);
  }

  private register(init: NetDeviceInit): NetDevice | number {
    if (!devValidName(init.name)) return -Errno.EINVAL;
    if (this.byName.has(init.name)) return -Errno.EEXIST;
    let ifindex = init.ifindex ?? 0;
    if (ifindex !== 0) {
      if (this.byIndex.has(ifindex)) return -Errno.EBUSY;
    } else {
      ifindex = this.nextIfindex();
    }
    // alloc_netdev() with the driver's setup: loopback_setup, the rtnetlink driver's, or ether_setup.
    const ops = init.kind === 'loopback' ? undefined : this.linkOpsOf(init.kind);
    const setup = init.kind === 'loopback' ? loopbackSetup : (ops?.setup ?? etherSetup);
    const dev = new NetDevice(this, init, ifindex, this.randomMac(), ops, setup);
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
    if (dev.unregisterNotified) return;
    dev.unregisterNotified = true;
    for (const l of this.listeners) l.unregister?.(dev);
  }

  /** dev_change_name(). */
  rename(dev: NetDevice, name: string): void {
    if (!devValidName(name)) throw new NetlinkErrnoError(Errno.EINVAL);
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

  /** dev_base_seq_inc(). */
  devBaseSeqInc(): void {
    this.devBaseSeq++;
  }

  /** peernet2id_alloc(): the id this namespace knows `peer` by, given on first use. */
  peernet2idAlloc(peer: Netns): number {
    let id = this.netnsIds.get(peer);
    if (id === undefined) this.netnsIds.set(peer, (id = this.netnsIds.size));
    return id;
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

/** What a trace shows register_netdevice() returning: its errno, or nothing for a device. */
const devRet = (v: NetDevice | number): string | undefined => (typeof v === 'number' ? handlerRet(v) : undefined);
