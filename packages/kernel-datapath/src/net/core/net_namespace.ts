/**
 * Network namespaces (net/core/net_namespace.c) and their device tables
 * (the part of net/core/dev.c that lists, names and numbers devices): what
 * the vports bind to and rtnetlink shows and changes; and each namespace's IP
 * addresses and routes (net/ipv4/devinet.ts, fib_trie.ts, net/ipv6/addrconf.ts).
 */
import {
  type AttrTable,
  AttrSet,
  Errno,
  IFF,
  NLMSG_HDRLEN,
  NLM_F,
  NL_VALIDATE,
  NetlinkErrnoError,
  type ParsedAttr,
  RTM,
  attr,
  nlaGetS32,
  nlaGetU32,
  nlaParse,
  s32,
  u32,
} from '@ovs/genl-codec';
import { type ExtAck, errMsg, nlaFailure } from '../netlink/extack.js';
import { loopbackSetup } from '../../drivers/net/loopback.js';
import { NetDevice, type NetDeviceInit } from '../../include/linux/netdevice.js';
import type { RtnlLinkOps } from '../../include/net/rtnetlink.js';
import { Ftrace, handlerRet } from '../../kernel/trace/ftrace.js';
import { etherSetup } from '../ethernet/eth.js';
import { InetAddresses } from '../ipv4/devinet.js';
import { Fib } from '../ipv4/fib_trie.js';
import { Addrconf } from '../ipv6/addrconf.js';
import { devValidName } from './dev.js';

/** NETNSA_NSID_NOT_ASSIGNED: a namespace without an id in another. */
export const NETNSA_NSID_NOT_ASSIGNED = -1;

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
  /** netns_ids: the ids this namespace gave other namespaces (peernet2id), an idr handing out the lowest free id. */
  private readonly netnsIds = new Map<Netns, number>();
  /** rtnl_net_notifyid(): who hears RTM_NEWNSID / RTM_DELNSID (rtnetlink, to RTNLGRP_NSID). */
  readonly nsidListeners: Array<(type: 'new' | 'del', id: number, peer: Netns, requester?: unknown) => void> = [];
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
    opts: {
      addrconf?: boolean;
      ftrace?: Ftrace;
      nCpus?: number;
      linkOps?: (kind: string) => RtnlLinkOps | undefined;
      /**
       * Whether lo comes up with the namespace (default true: the init
       * namespace, whose lo the system's start-up brings up). A namespace
       * made by `ip netns add` has its lo down, as loopback_net_init()
       * registers it.
       */
      loopbackUp?: boolean;
    } = {},
  ) {
    this.ftrace = opts.ftrace ?? new Ftrace();
    this.nCpus = opts.nCpus ?? 2;
    this.linkOpsOf = opts.linkOps ?? (() => undefined);
    this.addrconf.auto = opts.addrconf ?? true;
    // lo is up from the start: 127.0.0.1/8 and ::1 with their routes (unless addrconf is off).
    if (opts.loopbackUp === false) {
      this.addDevice({ name: 'lo', kind: 'loopback', mac: new Uint8Array(6), flags: IFF.LOOPBACK });
    } else {
      const lo = this.addDevice({ name: 'lo', kind: 'loopback', mac: new Uint8Array(6) });
      this.addrconf.sync(lo, { up: true, ready: true, carrier: true });
    }
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

  /**
   * peernet2id_alloc(): the id this namespace knows `peer` by, given on
   * first use (the lowest free one, as alloc_netid()'s idr_alloc() from 0)
   * and announced with RTM_NEWNSID.
   */
  peernet2idAlloc(peer: Netns, requester?: unknown): number {
    let id = this.netnsIds.get(peer);
    if (id !== undefined) return id;
    id = this.allocNetid(0);
    this.netnsIds.set(peer, id);
    for (const l of this.nsidListeners) l('new', id, peer, requester);
    return id;
  }

  /** peernet2id(): the id of `peer` here, NETNSA_NSID_NOT_ASSIGNED (-1) if it has none. */
  peernet2id(peer: Netns): number {
    return this.netnsIds.get(peer) ?? NETNSA_NSID_NOT_ASSIGNED;
  }

  /** get_net_ns_by_id(). */
  getNetNsById(id: number): Netns | undefined {
    if (id < 0) return undefined;
    for (const [ns, n] of this.netnsIds) if (n === id) return ns;
    return undefined;
  }

  /** Every (peer, id) this namespace has given, lowest id first (rtnl_net_dumpid's idr walk). */
  nsids(): Array<[Netns, number]> {
    return [...this.netnsIds].sort((a, b) => a[1] - b[1]);
  }

  /**
   * rtnl_net_newid()'s part under nsid_lock: EEXIST if `peer` has an id
   * already, else alloc_netid(net, peer, id): `id` itself (ENOSPC if taken)
   * or, for a negative one, the lowest free; the new id announced.
   */
  setNsid(peer: Netns, id: number, requester?: unknown): number {
    if (this.netnsIds.has(peer)) return -Errno.EEXIST;
    let n: number;
    if (id >= 0) {
      if (this.getNetNsById(id) !== undefined) return -Errno.ENOSPC;
      n = id;
    } else {
      n = this.allocNetid(0);
    }
    this.netnsIds.set(peer, n);
    for (const l of this.nsidListeners) l('new', n, peer, requester);
    return n;
  }

  /** unhash_nsid() for one peer going away: its id removed, RTM_DELNSID announced. */
  forgetPeer(peer: Netns): void {
    const id = this.netnsIds.get(peer);
    if (id === undefined) return;
    this.netnsIds.delete(peer);
    for (const l of this.nsidListeners) l('del', id, peer);
  }

  private allocNetid(min: number): number {
    const used = new Set(this.netnsIds.values());
    let id = min;
    while (used.has(id)) id++;
    return id;
  }

  /** unlist_netdevice(): out of the name and index tables (moving to another namespace). */
  unlistNetdevice(dev: NetDevice): void {
    if (this.byIndex.get(dev.ifindex) !== dev) return;
    this.byName.delete(dev.name);
    this.byIndex.delete(dev.ifindex);
    this.devBaseSeqInc();
  }

  /** list_netdevice(): into the tables under its (new) name and ifindex. */
  listNetdevice(dev: NetDevice): void {
    this.byName.set(dev.name, dev);
    this.byIndex.set(dev.ifindex, dev);
    this.devBaseSeqInc();
  }

  /** dev_new_index(). */
  devNewIndex(): number {
    return this.nextIfindex();
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

// ---------------------------------------------------------------------------
// RTM_NEWNSID / RTM_GETNSID (rtnl_net_newid, rtnl_net_getid, rtnl_net_dumpid,
// rtnl_net_notifyid): the ids a namespace gives others, over rtnetlink.

/** NETNSA_*. */
export const NETNSA = { NSID: 1, PID: 2, FD: 3, TARGET_NSID: 4, CURRENT_NSID: 5 } as const;

/** rtnl_net_policy (NETNSA_CURRENT_NSID, past it, is NLA_UNSPEC). */
const rtnlNetPolicy = new AttrSet('rtnl_net_policy', {
  nsid: attr(NETNSA.NSID, 'NETNSA_NSID', s32),
  pid: attr(NETNSA.PID, 'NETNSA_PID', u32),
  fd: attr(NETNSA.FD, 'NETNSA_FD', u32),
  targetNsid: attr(NETNSA.TARGET_NSID, 'NETNSA_TARGET_NSID', s32),
  currentNsid: attr(NETNSA.CURRENT_NSID, 'NETNSA_CURRENT_NSID', s32, { type: 'UNSPEC' }),
});

/** NLMSG_ALIGN(sizeof(struct rtgenmsg)). */
const RTGENMSG_LEN = 4;

/** How a namespace is found by a process id or an nsfs file descriptor (the Kernel). */
export interface NetnsResolver {
  getNetNsByPid(pid: number): Netns | number;
  getNetNsByFd(fd: number): Netns | number;
}

/** rtnl_net_fill(): RTM_NEWNSID (or DELNSID) with NETNSA_NSID, and NETNSA_CURRENT_NSID when asked. */
export function rtnlNetFill(cmd: number, portid: number, seq: number, flags: number, nsid: number, refNsid?: number): Uint8Array {
  const len = NLMSG_HDRLEN + RTGENMSG_LEN + 8 + (refNsid !== undefined ? 8 : 0);
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, cmd, true);
  dv.setUint16(6, flags, true);
  dv.setUint32(8, seq, true);
  dv.setUint32(12, portid, true);
  // struct rtgenmsg: rtgen_family AF_UNSPEC, then padding.
  let off = NLMSG_HDRLEN + RTGENMSG_LEN;
  for (const [type, v] of refNsid !== undefined
    ? [
        [NETNSA.NSID, nsid],
        [NETNSA.CURRENT_NSID, refNsid],
      ]
    : [[NETNSA.NSID, nsid]]) {
    dv.setUint16(off, 8, true);
    dv.setUint16(off + 2, type!, true);
    dv.setInt32(off + 4, v!, true);
    off += 8;
  }
  return b;
}

function parseNetnsa(bytes: Uint8Array, extack: ExtAck): AttrTable | number {
  if (bytes.length < NLMSG_HDRLEN + RTGENMSG_LEN) return -Errno.EINVAL;
  const r = nlaParse(rtnlNetPolicy, bytes, NLMSG_HDRLEN + RTGENMSG_LEN, bytes.length, NL_VALIDATE.LIBERAL);
  if ('failure' in r) return nlaFailure(extack, r.failure);
  return r.tb;
}

/** The peer NETNSA_PID or NETNSA_FD names (and the attribute that named it). */
function peerOf(kernel: NetnsResolver, tb: AttrTable): { peer: Netns | number; nla: ParsedAttr } | undefined {
  const pid = tb[NETNSA.PID];
  if (pid) return { peer: kernel.getNetNsByPid(nlaGetU32(pid)), nla: pid };
  const fd = tb[NETNSA.FD];
  if (fd) return { peer: kernel.getNetNsByFd(nlaGetU32(fd)), nla: fd };
  return undefined;
}

/** rtnl_net_newid(): give the namespace of NETNSA_PID / NETNSA_FD the id NETNSA_NSID (negative: the lowest free) here. */
export function rtnlNetNewid(kernel: NetnsResolver, net: Netns, bytes: Uint8Array, extack: ExtAck, requester: unknown): number {
  const tb = parseNetnsa(bytes, extack);
  if (typeof tb === 'number') return tb;
  const nsidAttr = tb[NETNSA.NSID];
  if (!nsidAttr) return errMsg(extack, Errno.EINVAL, 'nsid is missing');
  const nsid = nlaGetS32(nsidAttr);
  const p = peerOf(kernel, tb);
  if (p === undefined) return errMsg(extack, Errno.EINVAL, 'Peer netns reference is missing');
  if (typeof p.peer === 'number') return errMsg(extack, -p.peer, 'Peer netns reference is invalid', p.nla);
  const err = net.setNsid(p.peer, nsid, requester);
  if (err === -Errno.EEXIST) return errMsg(extack, Errno.EEXIST, 'Peer netns already has a nsid assigned', p.nla);
  if (err === -Errno.ENOSPC) return errMsg(extack, Errno.EEXIST, 'The specified nsid is already used', nsidAttr);
  return Math.min(err, 0);
}

/**
 * rtnl_net_getid(): the id the requester's namespace (or NETNSA_TARGET_NSID's)
 * gives the namespace of NETNSA_PID, NETNSA_FD or NETNSA_NSID, as
 * RTM_NEWNSID (NETNSA_NSID -1 when it has none).
 */
export function rtnlNetGetid(
  kernel: NetnsResolver,
  net: Netns,
  bytes: Uint8Array,
  extack: ExtAck,
  reply: (msg: Uint8Array) => void,
  portid: number,
  seq: number,
): number {
  const tb = parseNetnsa(bytes, extack);
  if (typeof tb === 'number') return tb;
  let p = peerOf(kernel, tb);
  if (p === undefined) {
    const id = tb[NETNSA.NSID];
    if (!id) return errMsg(extack, Errno.EINVAL, 'Peer netns reference is missing');
    p = { peer: net.getNetNsById(nlaGetS32(id)) ?? -Errno.ENOENT, nla: id };
  }
  if (typeof p.peer === 'number') return errMsg(extack, -p.peer, 'Peer netns reference is invalid', p.nla);
  let target = net;
  let refNsid: number | undefined;
  const t = tb[NETNSA.TARGET_NSID];
  if (t) {
    const tn = net.getNetNsById(nlaGetS32(t));
    if (tn === undefined) return errMsg(extack, Errno.EINVAL, 'Target netns reference is invalid', t);
    target = tn;
    refNsid = net.peernet2id(p.peer);
  }
  reply(rtnlNetFill(RTM.NEWNSID, portid, seq, 0, target.peernet2id(p.peer), refNsid));
  return 0;
}

/** rtnl_net_dumpid(): every id the namespace gave, RTM_NEWNSID each (NLM_F_MULTI). */
export function rtnlNetDumpid(net: Netns, portid: number, seq: number): Uint8Array[] {
  return net.nsids().map(([, id]) => rtnlNetFill(RTM.NEWNSID, portid, seq, NLM_F.MULTI, id));
}
