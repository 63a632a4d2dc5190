/**
 * rtnetlink (NETLINK_ROUTE) inside the model, as Linux 6.1 answers it
 * (net/core/rtnetlink.c): link requests (RTM_NEWLINK / DELLINK / GETLINK /
 * SETLINK, dumps included) and RTM_NEWLINK / RTM_DELLINK notifications to
 * RTNLGRP_LINK; the qdisc requests go to net/sched/sch_api.ts, address and
 * route requests to net/ipv4/fib_frontend.ts. What a request does to a device
 * is in dev.ts (and link_watch.ts), what a kind of device does in its driver
 * (drivers/net/, net/ipv4/ip_gre.ts), registered here as rtnl_link_register()
 * does.
 *
 * Replies and notifications are built as rtnl_fill_ifinfo() builds them, in
 * its attribute order (which @ovs/genl-codec's iflaAttrs follows).
 * IFLA_AF_SPEC is always an empty nest (what the kernel writes for a device
 * being unregistered, whose inet/inet6 data are gone): the per-device IPv4 and
 * IPv6 settings are not modelled.
 *
 * Like the captured Debian 6.1.192 kernel (golden/vswitchd-ports.json), the
 * RTM_DELLINK notification of a device deleted by an rtnetlink request carries
 * the requester's port id and sequence number and honours NLM_F_ECHO
 * (rtnl_delete_link() with portid and nlh, backported); every other link
 * notification, including the RTM_NEWLINK of a device just created, carries
 * 0 / 0 (that kernel's rtnl_configure_link() has no portid: the capture,
 * which kept every message with the requester's pid and seq, has none).
 */
import {
  ARPHRD_ETHER,
  AttrSet,
  type AttrTable,
  Errno,
  IFF,
  IFLA,
  IFLA_INFO,
  IFLA_XDP,
  IF_LINK_MODE,
  IF_OPER,
  type IflaAttrs,
  NLMSG_HDRLEN,
  NLM_F,
  NL_VALIDATE,
  NetlinkProtocol,
  type ParsedAttr,
  RTM,
  RTNLGRP,
  RTNLGRP_LINK,
  type RtnlLinkMessage,
  type ValidationFailure,
  XDP_ATTACHED,
  attr,
  binary,
  encode,
  iflaAttrs,
  iflaInfoAttrs,
  nlaForEachNested,
  nlaGetS32,
  nlaGetU32,
  nlaGetU8,
  nlaMemcpy,
  nlaParse,
  nlaParseNested,
  nlaStrscpy,
  nlaType,
  u32,
} from '@ovs/genl-codec';
import { dummyLinkOps } from '../../drivers/net/dummy.js';
import { geneveLinkOps } from '../../drivers/net/geneve.js';
import { vethFollowPeer, vethLinkOps } from '../../drivers/net/veth.js';
import { vxlanLinkOps } from '../../drivers/net/vxlan/vxlan_core.js';
import { GSO_MAX_SEGS, IFF_COMPUTED, LEGACY_MAX_SIZE, NetDevice, netifOperUp } from '../../include/linux/netdevice.js';
import type { LinkProto, RtnlLinkOps } from '../../include/net/rtnetlink.js';
import type { Kernel, ProtocolHandler, Request } from '../../kernel.js';
import { ETH_DATA_LEN } from '../ethernet/eth.js';
import { ipgreLinkOps, ipgreTapLinkOps } from '../ipv4/ip_gre.js';
import { InetRtnetlink } from '../ipv4/fib_frontend.js';
import type { KernelSocket } from '../netlink/af_netlink.js';
import { type ExtAck, errMsg, nlaFailure } from '../netlink/extack.js';
import type { HandlerResult } from '../netlink/genetlink.js';
import { internalDevLinkOps } from '../openvswitch/vport-internal_dev.js';
import { tcGetQdisc, tcModifyQdisc } from '../sched/sch_api.js';
import { netifCarrierOff, netifCarrierOn, rootQdiscId } from '../sched/sch_generic.js';
import {
  changeFlags,
  devChangeFlags,
  devChangeName,
  defaultDeviceExit,
  devChangeNetNamespace,
  devClose,
  devGetFlags,
  devGetIflink,
  devKernelFlags,
  devSetMacAddress,
  devSetMtu,
  devValidateMtu,
  isRegistered,
  netdevStateChange,
  notifyIpLayer,
  syncFlags,
  unregisterNetdeviceMany,
} from './dev.js';
import { defaultOperstate, linkwatchForgetDev, linkwatchRunQueue } from './link_watch.js';
import { type Netns, type NetnsListener, rtnlNetDumpid, rtnlNetFill, rtnlNetGetid, rtnlNetNewid } from './net_namespace.js';

/** do_setlink()'s status bits. */
const DO_SETLINK_MODIFIED = 1;
const DO_SETLINK_NOTIFY = DO_SETLINK_MODIFIED | 2;
/** RTM_MAX: the last rtnetlink message type, rounded up to a family of four (RTM_GETTUNNEL + 1). */
const RTM_MAX = 123;
/** enum rtnl_kinds: (type - RTM_BASE) & 3 is NEW 0, DEL 1, GET 2, SET 3. */
const KIND_GET = 2;
/** sizeof(struct ifinfomsg). */
const IFINFOMSG_LEN = 16;
const IFALIASZ = 256;
const MODULE_NAME_LEN = 56;
const IFNAMSIZ = 16;
/**
 * MAX_TCP_HEADER + 1, the minimum of IFLA_GSO_MAX_SIZE in ifla_policy:
 * L1_CACHE_ALIGN(128 + MAX_HEADER) + 1 with Debian's x86-64 config
 * (LL_MAX_HEADER 128, MAX_HEADER 176).
 */
const GSO_MAX_SIZE_MIN = 321;
/** IFLA_VF_INFO, the one attribute IFLA_VFINFO_LIST nests (include/uapi/linux/if_link.h). */
const IFLA_VF_INFO = 1;
const XDP_FLAGS_MASK = 0x1f;
const XDP_FLAGS_MODES = 0x0e;

/**
 * ifla_policy as nlmsg_parse_deprecated() applies it: the codec's IFLA set,
 * except that the nests ifla_policy leaves without a nested policy are not
 * looked into here (their contents are parsed later, without an extack), and
 * IFLA_GSO_MAX_SIZE has its NLA_POLICY_MIN.
 */
const iflaRequestPolicy = new AttrSet('ifla_policy', {
  ...iflaAttrs.defs,
  linkinfo: attr(IFLA.LINKINFO, 'IFLA_LINKINFO', binary({ policy: 'NESTED' })),
  xdp: attr(IFLA.XDP, 'IFLA_XDP', binary({ policy: 'NESTED' })),
  protoDownReason: attr(IFLA.PROTO_DOWN_REASON, 'IFLA_PROTO_DOWN_REASON', binary({ policy: 'NESTED' })),
  gsoMaxSize: attr(IFLA.GSO_MAX_SIZE, 'IFLA_GSO_MAX_SIZE', u32, { min: GSO_MAX_SIZE_MIN }),
});

/** ifla_xdp_policy. */
const xdpPolicy = new AttrSet('ifla_xdp_policy', {
  fd: attr(IFLA_XDP.FD, 'IFLA_XDP_FD', binary({ policy: 'S32' })),
  attached: attr(IFLA_XDP.ATTACHED, 'IFLA_XDP_ATTACHED', binary({ policy: 'U8' })),
  flags: attr(IFLA_XDP.FLAGS, 'IFLA_XDP_FLAGS', u32),
  progId: attr(IFLA_XDP.PROG_ID, 'IFLA_XDP_PROG_ID', u32),
});

/** The kernel functions behind each message type's doit and dumpit, as a trace names them. */
const RTNL_DOIT_NAMES: Readonly<Record<number, string>> = {
  [RTM.NEWLINK]: 'rtnl_newlink',
  [RTM.DELLINK]: 'rtnl_dellink',
  [RTM.GETLINK]: 'rtnl_getlink',
  [RTM.SETLINK]: 'rtnl_setlink',
  [RTM.NEWQDISC]: 'tc_modify_qdisc',
  [RTM.DELQDISC]: 'tc_get_qdisc',
  [RTM.GETQDISC]: 'tc_get_qdisc',
  [RTM.NEWADDR]: 'inet_rtm_newaddr',
  [RTM.DELADDR]: 'inet_rtm_deladdr',
  [RTM.NEWROUTE]: 'inet_rtm_newroute',
  [RTM.DELROUTE]: 'inet_rtm_delroute',
  [RTM.NEWNSID]: 'rtnl_net_newid',
  [RTM.GETNSID]: 'rtnl_net_getid',
};
const RTNL_DUMPIT_NAMES: Readonly<Record<number, string>> = {
  [RTM.GETLINK]: 'rtnl_dump_ifinfo',
  [RTM.GETQDISC]: 'tc_dump_qdisc',
  [RTM.GETADDR]: 'rtnl_dump_all',
  [RTM.GETROUTE]: 'rtnl_dump_all',
  [RTM.GETNETCONF]: 'rtnl_dump_all',
  [RTM.GETNSID]: 'rtnl_net_dumpid',
};

/** Who a notification is for: the requester (port id, seq, NLM_F_ECHO) of the change, if any. */
export interface NotifyCtx {
  sock: KernelSocket;
  seq: number;
  flags: number;
}

/** What a protocol handler returns: a result, or DUMP_STARTED. */
type Answer = ReturnType<ProtocolHandler>;

// ---------------------------------------------------------------------------
// Link drivers (rtnl_link_register / rtnl_link_ops_get)

const linkOps = new Map<string, RtnlLinkOps>();

/** rtnl_link_register(). */
function rtnlLinkRegister(ops: RtnlLinkOps): void {
  linkOps.set(ops.kind, ops);
}

/** rtnl_link_ops_get(): the driver of a kind, if one registered. */
export function rtnlLinkOpsGet(kind: string): RtnlLinkOps | undefined {
  return linkOps.get(kind);
}

// The drivers built into the model (loopback has no rtnl_link_ops). Which of the modular ones
// are loaded is a kernel's own state (Rtnetlink.linkModuleLoaded).
for (const ops of [dummyLinkOps, vethLinkOps, vxlanLinkOps, geneveLinkOps, ipgreTapLinkOps, ipgreLinkOps, internalDevLinkOps]) rtnlLinkRegister(ops);

/** ops->dellink(): the devices that go with this one (a veth's peer). */
function dellinkList(dev: NetDevice): NetDevice[] {
  return dev.rtnlLinkOps?.dellink?.(dev) ?? [dev];
}

// ---------------------------------------------------------------------------
// The NETLINK_ROUTE side of a Kernel

const registered = new WeakMap<Kernel, Rtnetlink>();

/**
 * Install rtnetlink on a kernel: the NETLINK_ROUTE protocol handler, and
 * link notifications for every namespace (those that exist now; a namespace
 * created later is attached when a NETLINK_ROUTE request is next handled,
 * Kernel having no hook for new namespaces). Calling it again is a no-op.
 */
export function registerRtnetlink(kernel: Kernel): void {
  if (registered.has(kernel)) return;
  const rtnl = new Rtnetlink(kernel);
  registered.set(kernel, rtnl);
  kernel.setProtocolHandler(NetlinkProtocol.NETLINK_ROUTE, (req) => rtnl.handle(req));
  rtnl.attachNamespaces();
}

export class Rtnetlink {
  /** The namespaces listened to. */
  private readonly attached = new WeakSet<Netns>();
  /** Listener events are ignored while this module changes devices itself (it notifies on its own). */
  private quiet = 0;
  /** The request whose device removals are under way (DELLINK notifications carry its port id and seq). */
  private delCtx: NotifyCtx | undefined;
  /** lweventlist: devices with a carrier change not yet processed, in event order (link_watch.ts). */
  readonly lweventlist = new Set<NetDevice>();
  /** The modular link kinds' modules loaded so far (by rtnetlink requests). */
  private readonly loadedModules = new Set<string>();
  private readonly listener: NetnsListener = { linkChanged: (dev, event) => this.linkChanged(dev, event) };

  /** RTM_*ADDR and RTM_*ROUTE. */
  private readonly inet: InetRtnetlink;

  constructor(private readonly kernel: Kernel) {
    this.inet = new InetRtnetlink(kernel);
    // default_device_ops' exit: a dismantled namespace's devices go back to init_net or are deleted.
    kernel.onNetnsExit((ns) => defaultDeviceExit(this, ns, kernel.initNet));
  }

  /** rtnl_net_notifyid(): RTM_NEWNSID / RTM_DELNSID to RTNLGRP_NSID of `ns` (and the requester with NLM_F_ECHO). */
  private notifyNsid(ns: Netns, type: 'new' | 'del', id: number, requester: unknown): void {
    const ctx = requester as NotifyCtx | undefined;
    const bytes = rtnlNetFill(type === 'new' ? RTM.NEWNSID : RTM.DELNSID, ctx?.sock.portId ?? 0, ctx?.seq ?? 0, 0, id);
    const echo = ctx !== undefined && (ctx.flags & NLM_F.ECHO) !== 0;
    this.kernel.multicast(NetlinkProtocol.NETLINK_ROUTE, ns, RTNLGRP.NSID, bytes, echo ? ctx.sock.portId : 0);
    if (echo) ctx.sock.deliver(bytes);
  }

  /** Listen to every namespace not yet listened to. */
  attachNamespaces(): void {
    for (const ns of this.kernel.allNamespaces) {
      if (this.attached.has(ns)) continue;
      this.attached.add(ns);
      ns.listeners.push(this.listener);
      ns.nsidListeners.push((type, id, _peer, requester) => this.notifyNsid(ns, type, id, requester));
      this.inet.attach(ns);
      for (const dev of ns.devices) {
        this.adopt(dev);
        notifyIpLayer(dev);
      }
    }
  }

  /**
   * A device of a namespace rtnetlink starts listening to only now (made
   * before it listened): what rtnetlink would have seen of it at its
   * registration it takes as it is now.
   */
  private adopt(dev: NetDevice): void {
    if (dev.kind === 'veth') dev.carrier = dev.isUp && dev.peer?.isUp === true;
    dev.qdiscAttached = dev.isUp;
    dev.gflags = dev.flags & (IFF.PROMISC | IFF.ALLMULTI);
    dev.announced = { flags: devKernelFlags(dev), master: dev.master, promiscuity: dev.promiscuity };
  }

  /** Changes to devices made by this module, which announces them itself. */
  quietly<T>(change: () => T): T {
    this.quiet++;
    try {
      return change();
    } finally {
      this.quiet--;
    }
  }

  /** Device removals on behalf of a request: their RTM_DELLINK carries its port id and sequence number. */
  withDeleter(ctx: NotifyCtx | undefined, remove: () => void): void {
    const saved = this.delCtx;
    this.delCtx = ctx;
    try {
      remove();
    } finally {
      this.delCtx = saved;
    }
  }

  // -------------------------------------------------------------------------
  // Listening to namespaces: changes other modules make (register_netdevice,
  // unregister_netdevice, flags / master / promiscuity changes).

  private linkChanged(dev: NetDevice, event: 'new' | 'del' | 'change'): void {
    if (event === 'del') {
      this.unregistered(dev);
      return;
    }
    // rtmsg_ifinfo_event() stays quiet for a device that is not (or no longer) registered.
    if (this.quiet > 0 || !isRegistered(dev)) return;
    if (event === 'new') {
      dev.netns.devBaseSeqInc();
      // alloc_netdev() leaves operstate IF_OPER_UNKNOWN; linkwatch_init_dev() only sets it without carrier.
      dev.operstate = dev.carrier ? (dev.kind === 'loopback' ? dev.operstate : IF_OPER.UNKNOWN) : defaultOperstate(dev);
      if (dev.isUp) dev.qdiscAttached = true;
      this.notify(dev, RTM.NEWLINK, 0xffffffff);
      notifyIpLayer(dev);
      return;
    }
    // A change made elsewhere: what opening or closing the device entails here, then RTM_NEWLINK
    // for a new or removed master (NETDEV_CHANGEUPPER, before the promiscuity change that comes
    // with it in vport-netdev.c), with the flags that changed (__dev_notify_flags), or with 0 for
    // any other change (rtnetlink_event).
    if (dev.isUp) dev.qdiscAttached = true;
    if (dev.kind === 'veth') vethFollowPeer(this, dev);
    const masterChanged = dev.master !== dev.announced.master;
    // dev_set_promiscuity() notifies IFF_PROMISC as changed whenever the count moves, even
    // when the flag stays (a count going 2 -> 1: the lab's RTM_NEWLINK has change 0x100).
    const promiscuityMoved = dev.promiscuity !== dev.announced.promiscuity;
    const changes = ((dev.announced.flags ^ devKernelFlags(dev)) | (promiscuityMoved ? IFF.PROMISC : 0)) >>> 0;
    if (masterChanged) this.notify(dev, RTM.NEWLINK, 0, undefined, false, dev.announced.promiscuity);
    if (changes || !masterChanged) this.notify(dev, RTM.NEWLINK, changes);
    notifyIpLayer(dev);
    linkwatchRunQueue(this);
  }

  /** unregister_netdevice_many() for one device: dev_close_many() if it is up, then RTM_DELLINK. */
  private unregistered(dev: NetDevice): void {
    dev.netns.devBaseSeqInc();
    linkwatchForgetDev(this, dev);
    if (dev.isUp) {
      devClose(this, dev);
      this.notify(dev, RTM.NEWLINK, IFF.UP | IFF.RUNNING);
    }
    // NETDEV_UNREGISTER: the device's addresses and routes go before RTM_DELLINK, and so does
    // what other subsystems do (dp_device_event detaches a vport: no master, promiscuity -1).
    dev.netns.addrconf.unregister(dev);
    dev.netns.unregisterNotify(dev);
    if (dev.rtnlLinkInitialized || dev.rtnlLinkOps === undefined) this.notify(dev, RTM.DELLINK, 0xffffffff, this.delCtx, true);
    // A veth's peer lost its carrier.
    linkwatchRunQueue(this);
  }

  /** rtnl_dev_combine_flags(): ifi_change 0 means every flag (bugwards compatibility). */
  private combineFlags(dev: NetDevice, ifiFlags: number, ifiChange: number): number {
    if (!ifiChange) return ifiFlags;
    const current = (dev.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI)) | (dev.gflags & (IFF.PROMISC | IFF.ALLMULTI));
    return ((ifiFlags & ifiChange) | (current & ~ifiChange)) >>> 0;
  }

  // -------------------------------------------------------------------------
  // Notifications (rtmsg_ifinfo -> rtnl_notify)

  /** rtmsg_ifinfo(): RTM_NEWLINK / RTM_DELLINK to RTNLGRP_LINK (and the requester, with NLM_F_ECHO). */
  notify(
    dev: NetDevice,
    type: number,
    change: number,
    ctx?: NotifyCtx,
    deleting = false,
    promiscuity?: number,
    newnet?: { newNetnsid: number; newIfindex: number },
  ): void {
    syncFlags(dev);
    const msg = this.fillLink(dev, dev.netns, type, ctx?.sock.portId ?? 0, ctx?.seq ?? 0, change, 0, deleting);
    if (promiscuity !== undefined) msg.attrs.promiscuity = promiscuity;
    // rtmsg_ifinfo_newnet(): where a device moving to another namespace goes.
    if (newnet !== undefined) Object.assign(msg.attrs, newnet);
    const bytes = encode(msg);
    const echo = ctx !== undefined && (ctx.flags & NLM_F.ECHO) !== 0;
    this.kernel.multicast(NetlinkProtocol.NETLINK_ROUTE, dev.netns, RTNLGRP_LINK, bytes, echo ? ctx.sock.portId : 0);
    if (echo && ctx.sock.netns === dev.netns) ctx.sock.deliver(bytes);
    dev.announced.flags = devKernelFlags(dev);
    dev.announced.master = dev.master;
    dev.announced.promiscuity = dev.promiscuity;
  }

  /** rtnl_fill_ifinfo(). `srcNet` is the namespace the message is for (link-netnsid ids are its). */
  private fillLink(dev: NetDevice, srcNet: Netns, type: number, pid: number, seq: number, change: number, nlFlags: number, deleting = false): RtnlLinkMessage {
    const s = dev.stats;
    const attrs: IflaAttrs = {
      ifname: dev.name,
      txqlen: dev.txqlen,
      operstate: dev.isUp && !deleting ? dev.operstate : IF_OPER.DOWN,
      linkmode: dev.linkmode,
      mtu: dev.mtu,
      minMtu: dev.minMtu,
      maxMtu: dev.maxMtu,
      group: dev.group,
      promiscuity: dev.promiscuity,
      allmulti: dev.allmulti,
      numTxQueues: dev.numTxQueues,
      gsoMaxSegs: dev.gsoMaxSegs,
      gsoMaxSize: dev.gsoMaxSize,
      groMaxSize: dev.groMaxSize,
      tsoMaxSize: dev.tsoMaxSize,
      tsoMaxSegs: dev.tsoMaxSegs,
      numRxQueues: dev.numRxQueues,
    };
    // Unregistering, the device has left its master (NETDEV_UNREGISTER handlers unlink it).
    if (dev.master !== undefined && !deleting) attrs.master = dev.master.ifindex;
    attrs.carrier = dev.carrier ? 1 : 0;
    attrs.qdisc = rootQdiscId(dev, deleting);
    if (dev.ifalias !== '') attrs.ifalias = dev.ifalias;
    Object.assign(attrs, {
      carrierChanges: dev.carrierUpCount + dev.carrierDownCount,
      carrierUpCount: dev.carrierUpCount,
      carrierDownCount: dev.carrierDownCount,
      protoDown: dev.protoDown,
      map: { memStart: 0n, memEnd: 0n, baseAddr: 0n, irq: 0, dma: 0, port: 0, pad: 0 },
    } satisfies IflaAttrs);
    if (dev.mac.length > 0) {
      attrs.address = dev.mac.slice();
      attrs.broadcast = dev.broadcast.slice(0, dev.mac.length);
    }
    const u32of = (v: bigint): number => Number(v & 0xffffffffn);
    const stats64 = {
      rxPackets: s.rxPackets,
      txPackets: s.txPackets,
      rxBytes: s.rxBytes,
      txBytes: s.txBytes,
      rxErrors: s.rxErrors,
      txErrors: s.txErrors,
      rxDropped: s.rxDropped,
      txDropped: s.txDropped,
      multicast: 0n,
      collisions: 0n,
      rxLengthErrors: 0n,
      rxOverErrors: 0n,
      rxCrcErrors: 0n,
      rxFrameErrors: 0n,
      rxFifoErrors: 0n,
      rxMissedErrors: 0n,
      txAbortedErrors: 0n,
      txCarrierErrors: 0n,
      txFifoErrors: 0n,
      txHeartbeatErrors: 0n,
      txWindowErrors: 0n,
      rxCompressed: 0n,
      txCompressed: 0n,
      rxNohandler: 0n,
      rxOtherhostDropped: 0n,
    };
    attrs.stats64 = stats64;
    const { rxOtherhostDropped: _dropped, ...legacy } = stats64;
    attrs.stats = Object.fromEntries(Object.entries(legacy).map(([k, v]) => [k, u32of(v)])) as NonNullable<IflaAttrs['stats']>;
    attrs.xdp = { attached: XDP_ATTACHED.NONE };
    // rtnl_link_fill(): the device's kind and data, then its master's kind (rtnl_link_slave_info_fill).
    const ops = dev.rtnlLinkOps;
    const masterOps = dev.master !== undefined && !deleting ? dev.master.rtnlLinkOps : undefined;
    if (ops !== undefined || masterOps !== undefined) {
      const linkinfo: NonNullable<IflaAttrs['linkinfo']> = {};
      if (ops !== undefined) {
        linkinfo.kind = ops.kind;
        const data = ops.fillInfo?.(dev);
        if (data !== undefined) linkinfo.data = data;
      }
      if (masterOps !== undefined) linkinfo.slaveKind = masterOps.kind;
      attrs.linkinfo = linkinfo;
    }
    // rtnl_fill_link_netnsid() and nla_put_iflink().
    const iflink = devGetIflink(dev, deleting);
    const linkNet = !deleting && ops?.getLinkNet !== undefined ? ops.getLinkNet(dev) : dev.netns;
    if (linkNet !== dev.netns) attrs.linkNetnsid = srcNet.peernet2idAlloc(linkNet);
    if (iflink !== dev.ifindex || linkNet !== dev.netns) attrs.link = iflink;
    attrs.afSpec = new Uint8Array(0);
    return {
      kind: 'rtnl',
      protocol: NetlinkProtocol.NETLINK_ROUTE,
      header: { len: 0, type, flags: nlFlags, seq, pid },
      family: 'link',
      ifinfomsg: { family: 0, pad: 0, type: dev.type, index: dev.ifindex, flags: devGetFlags(dev), change: change >>> 0 },
      attrs,
    };
  }

  // -------------------------------------------------------------------------
  // Dispatch (rtnetlink_rcv_msg)

  handle(req: Request): Answer {
    this.attachNamespaces();
    const type = req.type;
    if (type > RTM_MAX) return -Errno.EOPNOTSUPP;
    // All the messages must have at least 1 byte length.
    if (req.bytes.length - NLMSG_HDRLEN < 1) return 0;
    const kind = (type - RTM.NEWLINK) & 3;
    if (kind !== KIND_GET && !req.sock.capNetAdmin) return -Errno.EPERM;
    if (kind === KIND_GET && req.flags & NLM_F.DUMP) {
      return this.kernel.ftrace.call('kernel', RTNL_DUMPIT_NAMES[type] ?? 'rtnetlink_rcv_msg', undefined, () => this.dumpStart(req));
    }
    const result = this.kernel.ftrace.call('kernel', RTNL_DOIT_NAMES[type] ?? 'rtnetlink_rcv_msg', undefined, () => this.doit(req));
    if (typeof result === 'symbol') return result;
    linkwatchRunQueue(this);
    return result;
  }

  /** rtnl_dump_*(): the dump a GET with NLM_F_DUMP starts. */
  private dumpStart(req: Request): Answer {
    switch (req.type) {
      case RTM.GETLINK:
        return this.dumpLinks(req);
      case RTM.GETQDISC:
        return this.kernel.startDump(req.sock, req.seq, () => ({ done: true, error: 0 }));
      case RTM.GETADDR:
      case RTM.GETROUTE:
        return this.inet.handle(req);
      // rtnl_dump_all(): the per-family dumps; the model has no netconf to show.
      case RTM.GETNETCONF:
        return this.kernel.startDump(req.sock, req.seq, () => ({ done: true, error: 0 }));
      case RTM.GETNSID: {
        // rtnl_net_dumpid(): the whole idr in one go.
        const parts = rtnlNetDumpid(req.sock.netns, req.sock.portId, req.seq);
        return this.kernel.startDump(req.sock, req.seq, (out) => {
          out.push(...parts.splice(0));
          return out.length > 0 ? { done: false } : { done: true, error: 0 };
        });
      }
      default:
        return -Errno.EOPNOTSUPP;
    }
  }

  /** The doit of a message type (rtnl_newlink, rtnl_getlink, ...). */
  private doit(req: Request): Answer {
    switch (req.type) {
      case RTM.NEWLINK:
        return this.newLink(req);
      case RTM.DELLINK:
        return this.delLink(req);
      case RTM.GETLINK:
        return this.getLink(req);
      case RTM.SETLINK:
        return this.setLink(req);
      case RTM.NEWQDISC:
        return tcModifyQdisc(req);
      case RTM.DELQDISC:
      case RTM.GETQDISC:
        return tcGetQdisc(req);
      case RTM.NEWNSID:
        return rtnlNetNewid(this.kernel, req.sock.netns, req.bytes, req.extack, { sock: req.sock, seq: req.seq, flags: req.flags } satisfies NotifyCtx);
      case RTM.GETNSID:
        return rtnlNetGetid(this.kernel, req.sock.netns, req.bytes, req.extack, (m) => this.kernel.unicast(req.sock, m), req.sock.portId, req.seq);
      case RTM.NEWADDR:
      case RTM.DELADDR:
      case RTM.NEWROUTE:
      case RTM.DELROUTE:
        return this.inet.handle(req);
      default:
        return -Errno.EOPNOTSUPP;
    }
  }

  /** nlmsg_parse_deprecated(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, ifla_policy, extack). */
  private parseLink(req: Request): AttrTable | number {
    if (req.bytes.length < NLMSG_HDRLEN + IFINFOMSG_LEN) return -Errno.EINVAL;
    const r = nlaParse(iflaRequestPolicy, req.bytes, NLMSG_HDRLEN + IFINFOMSG_LEN, req.bytes.length, NL_VALIDATE.LIBERAL);
    if ('failure' in r) return nlaFailure(req.extack, r.failure);
    return r.tb;
  }

  /** parseLink() and rtnl_ensure_unique_netns(), which every link request starts with. */
  private linkAttrs(req: Request, netnsIdOnly: boolean): AttrTable | number {
    const tb = this.parseLink(req);
    if (typeof tb === 'number') return tb;
    return this.ensureUniqueNetns(tb, netnsIdOnly, req.extack) || tb;
  }

  private ifinfo(req: Request): { index: number; flags: number; change: number } {
    return {
      index: req.dv.getInt32(NLMSG_HDRLEN + 4, true),
      flags: req.dv.getUint32(NLMSG_HDRLEN + 8, true),
      change: req.dv.getUint32(NLMSG_HDRLEN + 12, true),
    };
  }

  /** rtnl_ensure_unique_netns(). */
  private ensureUniqueNetns(tb: AttrTable, netnsIdOnly: boolean, extack: ExtAck): number {
    if (netnsIdOnly) {
      if (!tb[IFLA.NET_NS_PID] && !tb[IFLA.NET_NS_FD]) return 0;
      return errMsg(extack, Errno.EOPNOTSUPP, 'specified netns attribute not supported');
    }
    const n = [IFLA.TARGET_NETNSID, IFLA.NET_NS_PID, IFLA.NET_NS_FD].filter((t) => tb[t] !== undefined).length;
    return n > 1 ? errMsg(extack, Errno.EINVAL, 'multiple netns identifying attributes specified') : 0;
  }

  /**
   * rtnl_link_get_net_capable() (with rtnl_link_get_net_by_nlattr()): the
   * namespace IFLA_NET_NS_PID, IFLA_NET_NS_FD or IFLA_TARGET_NETNSID (an id
   * in `srcNet`) names, in that order, else `srcNet`; ESRCH, EBADF or EINVAL
   * when it names none. The model's namespaces share one user namespace, so
   * CAP_NET_ADMIN there is the socket's own (checked before the doit).
   */
  linkGetNetCapable(srcNet: Netns, tb: AttrTable): Netns | HandlerResult {
    if (tb[IFLA.NET_NS_PID] || tb[IFLA.NET_NS_FD]) return this.linkGetNet(srcNet, tb);
    const id = tb[IFLA.TARGET_NETNSID];
    if (id) return srcNet.getNetNsById(nlaGetS32(id)) ?? -Errno.EINVAL;
    return srcNet;
  }

  /** rtnl_link_get_net(): the namespace of IFLA_NET_NS_PID, else of IFLA_NET_NS_FD, else `srcNet`. */
  linkGetNet(srcNet: Netns, tb: AttrTable): Netns | HandlerResult {
    const pid = tb[IFLA.NET_NS_PID];
    if (pid) return this.kernel.getNetNsByPid(nlaGetU32(pid));
    const fd = tb[IFLA.NET_NS_FD];
    if (fd) return this.kernel.getNetNsByFd(nlaGetU32(fd));
    return srcNet;
  }

  /** rtnl_get_net_ns_capable(): the namespace of a target netnsid in the socket's, else EINVAL. */
  private getNetNsCapable(sock: KernelSocket, netnsid: number): Netns | HandlerResult {
    return sock.netns.getNetNsById(netnsid) ?? -Errno.EINVAL;
  }

  /** rtnl_dev_get() and __dev_get_by_index(). */
  private lookup(ns: Netns, index: number, tb: AttrTable): NetDevice | undefined {
    if (index > 0) return ns.byIfindex(index);
    const a = tb[IFLA.IFNAME] ?? tb[IFLA.ALT_IFNAME];
    if (a === undefined) return undefined;
    return ns.byIfname(nlaStrscpy(a, tb[IFLA.IFNAME] ? IFNAMSIZ : 128));
  }

  /** rtnl_getlink(). */
  private getLink(req: Request): HandlerResult {
    if (req.bytes.length < NLMSG_HDRLEN + IFINFOMSG_LEN) return errMsg(req.extack, Errno.EINVAL, 'Invalid header for get link');
    const tb = this.linkAttrs(req, true);
    if (typeof tb === 'number') return tb;
    const sock = req.sock;
    let tgt = sock.netns;
    let netnsid = -1;
    const t = tb[IFLA.TARGET_NETNSID];
    if (t) {
      netnsid = nlaGetS32(t);
      const n = this.getNetNsCapable(sock, netnsid);
      if (typeof n === 'number') return n;
      tgt = n;
    }
    const ifm = this.ifinfo(req);
    if (ifm.index <= 0 && !tb[IFLA.IFNAME] && !tb[IFLA.ALT_IFNAME]) return -Errno.EINVAL;
    const dev = this.lookup(tgt, ifm.index, tb);
    if (dev === undefined) return -Errno.ENODEV;
    const msg = this.fillLink(dev, sock.netns, RTM.NEWLINK, sock.portId, req.seq, 0, 0);
    if (netnsid >= 0) msg.attrs.ifNetnsid = netnsid;
    this.kernel.unicast(sock, encode(msg));
    return 0;
  }

  /** rtnl_dump_ifinfo(), resumable at cb->args[0] (hash bucket) and cb->args[1] (index in it). */
  private dumpLinks(req: Request): Answer {
    // rtnl_valid_dump_ifinfo_req() without strict checking: a bare struct rtgenmsg is accepted, and a
    // request whose attributes do not parse is dumped unfiltered.
    const hdrlen = req.bytes.length - NLMSG_HDRLEN < IFINFOMSG_LEN ? 4 : IFINFOMSG_LEN;
    let tgt = req.sock.netns;
    let netnsid = -1;
    let master = 0;
    let kindOps: string | undefined;
    if (req.bytes.length >= NLMSG_HDRLEN + hdrlen) {
      const r = nlaParse(iflaRequestPolicy, req.bytes, NLMSG_HDRLEN + hdrlen, req.bytes.length, NL_VALIDATE.LIBERAL);
      if ('tb' in r) {
        const t = r.tb[IFLA.TARGET_NETNSID];
        if (t) {
          netnsid = nlaGetS32(t);
          const n = this.getNetNsCapable(req.sock, netnsid);
          if (typeof n === 'number') return this.kernel.startDump(req.sock, req.seq, () => ({ done: true, error: n }));
          tgt = n;
        }
        const mst = r.tb[IFLA.MASTER];
        if (mst) master = nlaGetU32(mst);
        const li = r.tb[IFLA.LINKINFO];
        if (li) {
          const p = nlaParseNested(iflaInfoAttrs, li);
          const k = 'tb' in p ? p.tb[IFLA_INFO.KIND] : undefined;
          if (k) {
            const name = nlaStrscpy(k, MODULE_NAME_LEN);
            if (rtnlLinkOpsGet(name)) kindOps = name;
          }
        }
      }
    }
    const nlFlags = NLM_F.MULTI | (master || kindOps !== undefined ? NLM_F.DUMP_FILTERED : 0);
    const sock = req.sock;
    const ns = tgt;
    const seq = req.seq;
    const args = { h: 0, idx: 0, prevSeq: 0 };
    const filtered = (dev: NetDevice): boolean => {
      if (master) {
        const up = dev.master;
        if (master === -1 || master === 0xffffffff) return up !== undefined;
        if (up === undefined || up.ifindex !== master) return true;
      }
      return kindOps !== undefined && dev.kind !== kindOps;
    };
    return this.kernel.startDump(sock, seq, (out, budget) => {
      // dev_index_head[]: 256 buckets by ifindex, the newest device first in each.
      const buckets = new Map<number, NetDevice[]>();
      for (const dev of ns.devices) {
        const h = dev.ifindex & 0xff;
        const list = buckets.get(h);
        if (list) list.push(dev);
        else buckets.set(h, [dev]);
      }
      for (const list of buckets.values()) list.sort((a, b) => b.ifindex - a.ifindex);
      let used = 0;
      const first = out.length;
      let h = args.h;
      let sIdx = args.idx;
      let idx = 0;
      let full = false;
      for (; h < 256; h++, sIdx = 0) {
        idx = 0;
        for (const dev of buckets.get(h) ?? []) {
          if (!filtered(dev) && idx >= sIdx) {
            const msg = this.fillLink(dev, sock.netns, RTM.NEWLINK, sock.portId, seq, 0, nlFlags);
            if (netnsid >= 0) msg.attrs.ifNetnsid = netnsid;
            const b = encode(msg);
            if (used > 0 && used + ((b.length + 3) & ~3) > budget) {
              full = true;
              break;
            }
            out.push(b);
            used += (b.length + 3) & ~3;
          }
          idx++;
        }
        if (full) break;
      }
      args.h = h;
      args.idx = idx;
      // nl_dump_check_consistent(): the device list changed since the last chunk.
      const cur = ns.devBaseSeq;
      if (out.length > first && args.prevSeq && cur !== args.prevSeq) {
        const b = out[first]!;
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        dv.setUint16(6, dv.getUint16(6, true) | NLM_F.DUMP_INTR, true);
      }
      args.prevSeq = cur;
      return out.length > first ? { done: false } : { done: true, error: 0 };
    });
  }

  /** rtnl_setlink(). */
  private setLink(req: Request): HandlerResult {
    const tb = this.linkAttrs(req, false);
    if (typeof tb === 'number') return tb;
    const ifm = this.ifinfo(req);
    if (ifm.index <= 0 && !tb[IFLA.IFNAME] && !tb[IFLA.ALT_IFNAME]) return -Errno.EINVAL;
    const dev = this.lookup(req.sock.netns, ifm.index, tb);
    if (dev === undefined) return -Errno.ENODEV;
    return this.doSetlink(dev, ifm, tb, 0, req.extack);
  }

  /** validate_linkmsg(). */
  private validateLinkmsg(dev: NetDevice | undefined, tb: AttrTable, addrLen?: number): number {
    const len = addrLen ?? dev?.mac.length;
    if (len !== undefined) {
      const a = tb[IFLA.ADDRESS];
      if (a && a.dataLength < len) return -Errno.EINVAL;
      const b = tb[IFLA.BROADCAST];
      if (b && b.dataLength < len) return -Errno.EINVAL;
    }
    // IFLA_AF_SPEC: rtnl_af_lookup() finds no address family in a model without an IP layer.
    const af = tb[IFLA.AF_SPEC];
    return af && af.dataLength >= 4 ? -Errno.EAFNOSUPPORT : 0;
  }

  /** do_setlink(): each attribute in the kernel's order; a failure keeps what was already changed (and still announces it). */
  private doSetlink(dev: NetDevice, ifm: { index: number; flags: number; change: number }, tb: AttrTable, status: number, extack: ExtAck): HandlerResult {
    const invalid = this.validateLinkmsg(dev, tb);
    if (invalid) return invalid;
    const change = { status };
    const err = this.doSetlinkAttrs(dev, ifm, tb, change, extack);
    if (change.status & DO_SETLINK_MODIFIED && (change.status & DO_SETLINK_NOTIFY) === DO_SETLINK_NOTIFY) netdevStateChange(this, dev);
    return err;
  }

  /** do_setlink() up to its errout label: the first failure returns, with `change.status` saying what was done before it. */
  private doSetlinkAttrs(
    dev: NetDevice,
    ifm: { index: number; flags: number; change: number },
    tb: AttrTable,
    change: { status: number },
    extack: ExtAck,
  ): HandlerResult {
    const ifnameAttr = tb[IFLA.IFNAME];
    const ifname = ifnameAttr !== undefined ? nlaStrscpy(ifnameAttr, IFNAMSIZ) : '';
    if (tb[IFLA.NET_NS_PID] || tb[IFLA.NET_NS_FD] || tb[IFLA.TARGET_NETNSID]) {
      const net = this.linkGetNetCapable(dev.netns, tb);
      if (typeof net === 'number') return net;
      const err = devChangeNetNamespace(this, dev, net, ifname !== '' ? ifname : undefined);
      if (err) return err;
      change.status |= DO_SETLINK_MODIFIED;
    }
    if (tb[IFLA.MAP]) {
      // No ndo_set_config on any modelled device.
      return -Errno.EOPNOTSUPP;
    }
    const addr = tb[IFLA.ADDRESS];
    if (addr) {
      const err = devSetMacAddress(this, dev, nlaMemcpy(addr, dev.mac.length));
      if (err) return err;
      change.status |= DO_SETLINK_MODIFIED;
    }
    const mtu = tb[IFLA.MTU];
    if (mtu) {
      const err = devSetMtu(this, dev, nlaGetU32(mtu), extack);
      if (err) return err;
      change.status |= DO_SETLINK_MODIFIED;
    }
    const group = tb[IFLA.GROUP];
    if (group) {
      dev.group = nlaGetU32(group);
      change.status |= DO_SETLINK_NOTIFY;
    }
    if (ifm.index > 0 && ifname !== '') {
      const err = devChangeName(this, dev, ifname);
      if (err) return err;
      change.status |= DO_SETLINK_MODIFIED;
    }
    const alias = tb[IFLA.IFALIAS];
    if (alias) {
      if (alias.dataLength >= IFALIASZ) {
        return -Errno.EINVAL;
      }
      // dev_set_alias() keeps the bytes up to a NUL as a C string.
      dev.ifalias = nlaStrscpy(alias, IFALIASZ);
      change.status |= DO_SETLINK_NOTIFY;
    }
    const brd = tb[IFLA.BROADCAST];
    if (brd) {
      dev.broadcast = nlaMemcpy(brd, dev.mac.length);
      this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGEADDR
    }
    if (ifm.flags || ifm.change) {
      const err = devChangeFlags(this, dev, this.combineFlags(dev, ifm.flags, ifm.change));
      if (err) return err;
    }
    const master = tb[IFLA.MASTER];
    if (master) {
      const err = this.setMaster(dev, nlaGetU32(master));
      if (err) return err;
      change.status |= DO_SETLINK_MODIFIED;
    }
    const carrier = tb[IFLA.CARRIER];
    if (carrier) {
      if (!dev.setup.changeCarrier) {
        return -Errno.EOPNOTSUPP;
      }
      (nlaGetU8(carrier) !== 0 ? netifCarrierOn : netifCarrierOff)(this, dev);
      change.status |= DO_SETLINK_MODIFIED;
    }
    const txqlen = tb[IFLA.TXQLEN];
    if (txqlen) {
      const v = nlaGetU32(txqlen);
      if (v !== dev.txqlen) {
        dev.txqlen = v;
        this.notify(dev, RTM.NEWLINK, 0); // NETDEV_CHANGE_TX_QUEUE_LEN
      }
      change.status |= DO_SETLINK_MODIFIED;
    }
    const gsoSize = tb[IFLA.GSO_MAX_SIZE];
    if (gsoSize) {
      const v = nlaGetU32(gsoSize);
      if (v > dev.tsoMaxSize) {
        return -Errno.EINVAL;
      }
      if (v !== dev.gsoMaxSize) {
        dev.gsoMaxSize = v;
        change.status |= DO_SETLINK_MODIFIED;
      }
    }
    const gsoSegs = tb[IFLA.GSO_MAX_SEGS];
    if (gsoSegs) {
      const v = nlaGetU32(gsoSegs);
      if (v > GSO_MAX_SEGS || v > dev.tsoMaxSegs) {
        return -Errno.EINVAL;
      }
      if (v !== dev.gsoMaxSegs) {
        dev.gsoMaxSegs = v;
        change.status |= DO_SETLINK_MODIFIED;
      }
    }
    const gro = tb[IFLA.GRO_MAX_SIZE];
    if (gro) {
      const v = nlaGetU32(gro);
      if (v !== dev.groMaxSize) {
        dev.groMaxSize = v;
        change.status |= DO_SETLINK_MODIFIED;
      }
    }
    const operstate = tb[IFLA.OPERSTATE];
    if (operstate) this.setOperstate(dev, nlaGetU8(operstate));
    const linkmode = tb[IFLA.LINKMODE];
    if (linkmode) {
      const v = nlaGetU8(linkmode);
      if (v !== dev.linkmode) change.status |= DO_SETLINK_NOTIFY;
      dev.linkmode = v;
    }
    const vfinfo = tb[IFLA.VFINFO_LIST];
    if (vfinfo) {
      // Each IFLA_VF_INFO needs an ndo_set_vf_* no modelled device has.
      for (const vf of nlaForEachNested(vfinfo)) {
        return nlaType(vf) !== IFLA_VF_INFO ? -Errno.EINVAL : -Errno.EOPNOTSUPP;
      }
    }
    if (tb[IFLA.VF_PORTS] || tb[IFLA.PORT_SELF]) {
      return -Errno.EOPNOTSUPP;
    }
    if (tb[IFLA.PROTO_DOWN] || tb[IFLA.PROTO_DOWN_REASON]) {
      // do_set_proto_down()
      if (!dev.setup.protoDown) {
        return errMsg(extack, Errno.EOPNOTSUPP, 'Protodown not supported by device');
      }
      const pd = tb[IFLA.PROTO_DOWN];
      if (pd) {
        const down = nlaGetU8(pd) !== 0;
        (down ? netifCarrierOff : netifCarrierOn)(this, dev);
        dev.protoDown = down ? 1 : 0;
      }
      change.status |= DO_SETLINK_NOTIFY;
    }
    const xdp = tb[IFLA.XDP];
    if (xdp) {
      const err = this.setXdp(xdp);
      if (err) return err;
    }

    return 0;
  }

  /** The IFLA_XDP part of do_setlink(): the model has no BPF programs to attach. */
  private setXdp(a: ParsedAttr): HandlerResult {
    const p = nlaParseNested(xdpPolicy, a);
    if ('failure' in p) return -p.failure.errno;
    if (p.tb[IFLA_XDP.ATTACHED] || p.tb[IFLA_XDP.PROG_ID]) return -Errno.EINVAL;
    const fl = p.tb[IFLA_XDP.FLAGS];
    if (fl) {
      const v = nlaGetU32(fl);
      if (v & ~XDP_FLAGS_MASK) return -Errno.EINVAL;
      const modes = v & XDP_FLAGS_MODES;
      if (modes & (modes - 1)) return -Errno.EINVAL;
    }
    const fd = p.tb[IFLA_XDP.FD];
    if (fd && nlaGetS32(fd) !== -1) return -Errno.EBADF;
    return 0;
  }

  /** do_set_master(): no modelled device is a master with ndo_add_slave / ndo_del_slave. */
  private setMaster(dev: NetDevice, ifindex: number): HandlerResult {
    const upper = dev.master;
    if (upper !== undefined) {
      if (upper.ifindex === ifindex) return 0;
      return -Errno.EOPNOTSUPP;
    }
    if (ifindex) {
      if (dev.netns.byIfindex(ifindex) === undefined) return -Errno.EINVAL;
      return -Errno.EOPNOTSUPP;
    }
    return 0;
  }

  /** set_operstate(). */
  private setOperstate(dev: NetDevice, transition: number): void {
    let operstate = dev.operstate;
    switch (transition) {
      case IF_OPER.UP:
        if (operstate === IF_OPER.DORMANT || operstate === IF_OPER.TESTING || operstate === IF_OPER.UNKNOWN) operstate = IF_OPER.UP;
        break;
      case IF_OPER.TESTING:
        if (netifOperUp(operstate)) operstate = IF_OPER.TESTING;
        break;
      case IF_OPER.DORMANT:
        if (netifOperUp(operstate)) operstate = IF_OPER.DORMANT;
        break;
    }
    if (operstate !== dev.operstate) {
      dev.operstate = operstate;
      if (isRegistered(dev)) netdevStateChange(this, dev);
    }
  }

  /** __rtnl_newlink(). */
  private newLink(req: Request): HandlerResult {
    const tb = this.linkAttrs(req, false);
    if (typeof tb === 'number') return tb;
    const ifm = this.ifinfo(req);
    const ns = req.sock.netns;
    let dev: NetDevice | undefined;
    let linkSpecified = false;
    if (ifm.index > 0) {
      linkSpecified = true;
      dev = ns.byIfindex(ifm.index);
    } else if (ifm.index < 0) {
      return errMsg(req.extack, Errno.EINVAL, "ifindex can't be negative");
    } else if (tb[IFLA.IFNAME] || tb[IFLA.ALT_IFNAME]) {
      linkSpecified = true;
      dev = this.lookup(ns, 0, tb);
    }
    const invalid = this.validateLinkmsg(dev, tb);
    if (invalid) return invalid;

    let linkinfo: AttrTable = [];
    const li = tb[IFLA.LINKINFO];
    if (li) {
      const p = nlaParseNested(iflaInfoAttrs, li);
      if ('failure' in p) return -p.failure.errno; // parsed without an extack
      linkinfo = p.tb;
    }
    const kindAttr = linkinfo[IFLA_INFO.KIND];
    const requestedKind = kindAttr ? nlaStrscpy(kindAttr, MODULE_NAME_LEN) : '';
    // The out-of-tree openvswitch module (the ovs-2.5 profile) brings its own geneve driver,
    // registered as "ovs_geneve": OVS probes for it to choose its compat tunnel ports.
    const kind = requestedKind === 'ovs_geneve' && this.kernel.profile === 'ovs-2.5' ? 'geneve' : requestedKind;
    // rtnl_link_ops_get(): a kind whose module is not loaded has no ops yet (a device of the kind proves it is).
    const ops = kind !== '' && (dev?.kind === kind || this.linkModuleLoaded(kind)) ? rtnlLinkOpsGet(kind) : undefined;
    let data: AttrTable | undefined;
    const dataAttr = linkinfo[IFLA_INFO.DATA];
    if (ops !== undefined) {
      if (ops.policy !== undefined && dataAttr) {
        const p = nlaParseNested(ops.policy, dataAttr);
        if ('failure' in p) return nlaFailure(req.extack, p.failure);
        data = p.tb;
      }
      const bad = ops.validate?.(tb, data, req.extack) ?? 0;
      if (bad) return bad;
    }

    if (dev !== undefined) {
      let status = 0;
      if (req.flags & NLM_F.EXCL) return -Errno.EEXIST;
      if (req.flags & NLM_F.REPLACE) return -Errno.EOPNOTSUPP;
      if (dataAttr) {
        const changelink = dev.rtnlLinkOps?.changelink;
        if (ops === undefined || kind !== dev.kind || changelink === undefined) return -Errno.EOPNOTSUPP;
        const r = changelink(this, dev, tb, data ?? [], req.extack);
        if (r) return r;
        status |= 3;
      }
      // No modelled master has slave_changelink.
      if (linkinfo[IFLA_INFO.SLAVE_DATA]) return -Errno.EOPNOTSUPP;
      return this.doSetlink(dev, ifm, tb, status, req.extack);
    }

    if (!(req.flags & NLM_F.CREATE)) {
      if (linkSpecified) return -Errno.ENODEV;
      const g = tb[IFLA.GROUP];
      if (g) {
        // rtnl_group_changelink()
        const group = nlaGetU32(g);
        for (const d of [...ns.devices]) {
          if (d.group !== group) continue;
          const r = this.doSetlink(d, ifm, tb, 0, req.extack);
          if (r) return r;
        }
        return 0;
      }
      return -Errno.ENODEV;
    }
    if (tb[IFLA.MAP] || tb[IFLA.PROTINFO]) return -Errno.EOPNOTSUPP;
    if (ops === undefined) {
      // request_module("rtnl-link-%s"), and the request again (replay) if it loaded the kind.
      if (rtnlLinkOpsGet(kind) !== undefined && this.requestLinkModule(kind)) return this.newLink(req);
      return errMsg(req.extack, Errno.EOPNOTSUPP, 'Unknown device type');
    }
    return this.newlinkCreate(req, ifm, ops, tb, data);
  }

  /**
   * Whether the module of a link kind is loaded. vxlan, geneve and ip_gre are
   * modules loaded on first use, by rtnetlink or by the vport type that
   * depends on them; the other kinds are always there.
   */
  private linkModuleLoaded(kind: string): boolean {
    const mod = rtnlLinkOpsGet(kind)?.module;
    if (mod === undefined || this.loadedModules.has(mod.name)) return true;
    return this.kernel.ovs?.modules.lookup(mod.vportType) !== undefined;
  }

  /** request_module("rtnl-link-<kind>"): loads the kind's module unless fail_request_module fails it. */
  private requestLinkModule(kind: string): boolean {
    const mod = rtnlLinkOpsGet(kind)?.module;
    if (mod === undefined || this.kernel.faults.shouldFail('fail_request_module', `rtnl-link-${kind}`)) return false;
    this.loadedModules.add(mod.name);
    return true;
  }

  /**
   * rtnl_newlink_create(): rtnl_create_link(), ops->newlink(),
   * rtnl_configure_link(), then IFLA_MASTER. Devices are registered with
   * notifications held back; each is announced as the kernel announces it.
   */
  private newlinkCreate(
    req: Request,
    ifm: { index: number; flags: number; change: number },
    ops: RtnlLinkOps,
    tb: AttrTable,
    data: AttrTable | undefined,
  ): HandlerResult {
    if (ops.newlink === undefined) return -Errno.EOPNOTSUPP;
    const srcNet = req.sock.netns;
    const nameAttr = tb[IFLA.IFNAME];
    const name = nameAttr !== undefined ? nlaStrscpy(nameAttr, IFNAMSIZ) : `${ops.kind}%d`;
    const destNet = this.linkGetNetCapable(srcNet, tb);
    if (typeof destNet === 'number') return destNet;
    // IFLA_LINK_NETNSID: the device is made in that namespace (an id of dest_net's), then moved to dest_net.
    let linkNet: Netns | undefined;
    const lnid = tb[IFLA.LINK_NETNSID];
    if (lnid) {
      linkNet = destNet.getNetNsById(nlaGetS32(lnid));
      if (linkNet === undefined) return errMsg(req.extack, Errno.EINVAL, 'Unknown network namespace id');
    }
    const proto = this.createLink(ops, tb, name, ifm.index, req.extack);
    if (typeof proto === 'number') return proto;
    this.attachNamespaces();
    const dev = ops.newlink(this, { ns: linkNet ?? destNet, srcNet: linkNet ?? srcNet, ifm, tb, data, extack: req.extack }, proto);
    if (!(dev instanceof NetDevice)) return dev;
    const r = this.configureLink(dev, ifm);
    if (r) return r;
    if (linkNet !== undefined) {
      const err = devChangeNetNamespace(this, dev, destNet, name);
      if (err) {
        unregisterNetdeviceMany(this, dellinkList(dev), undefined);
        return err;
      }
    }
    return this.afterCreate(dev, tb, dellinkList(dev));
  }

  /** IFLA_MASTER after creation; a failure unregisters what was made (out_unregister). */
  private afterCreate(dev: NetDevice, tb: AttrTable, made: NetDevice[]): HandlerResult {
    const master = tb[IFLA.MASTER];
    if (master) {
      const r = this.setMaster(dev, nlaGetU32(master));
      if (r) {
        unregisterNetdeviceMany(this, made, undefined);
        return r;
      }
    }
    return 0;
  }

  /**
   * rtnl_create_link(): a device of the driver's kind with the queues, MTU,
   * addresses and other attributes of tb[], and IFLA_OPERSTATE as
   * set_operstate() leaves it on a device not yet registered; the driver's
   * newlink registers it once its own checks pass.
   */
  createLink(ops: RtnlLinkOps, tb: AttrTable, name: string, ifindex: number, extack: ExtAck): LinkProto | number {
    const setup = ops.setup;
    const queues = setup.perCpuQueues ? this.kernel.nCpus : 1;
    const tx = nlaGetU32(tb[IFLA.NUM_TX_QUEUES], queues);
    const rx = nlaGetU32(tb[IFLA.NUM_RX_QUEUES], queues);
    if (tx < 1 || tx > 4096) return errMsg(extack, Errno.EINVAL, 'Invalid number of transmit queues');
    if (rx < 1 || rx > 4096) return errMsg(extack, Errno.EINVAL, 'Invalid number of receive queues');
    const invalid = this.validateLinkmsg(undefined, tb, setup.addrLen);
    if (invalid) return invalid;
    // alloc_netdev_mqs(): nothing exists yet when it fails.
    if (this.kernel.faults.shouldFail('failslab', 'alloc_netdev_mqs')) return -Errno.ENOMEM;
    const mtuAttr = tb[IFLA.MTU];
    const mtu = mtuAttr !== undefined ? nlaGetU32(mtuAttr) : ETH_DATA_LEN;
    if (mtuAttr !== undefined) {
      const bad = devValidateMtu(setup, mtu, extack);
      if (bad) return bad;
    }
    const addr = tb[IFLA.ADDRESS];
    const brd = tb[IFLA.BROADCAST];
    const operstate = nlaGetU8(tb[IFLA.OPERSTATE], -1);
    return {
      kind: ops.kind,
      name,
      ifindex,
      mtu,
      mac: addr !== undefined ? nlaMemcpy(addr, setup.addrLen) : undefined,
      flags: setup.flags,
      type: setup.type,
      txqlen: nlaGetU32(tb[IFLA.TXQLEN], 1000),
      broadcast: brd !== undefined ? nlaMemcpy(brd, setup.addrLen) : new Uint8Array(setup.addrLen).fill(setup.type === ARPHRD_ETHER ? 0xff : 0),
      minMtu: setup.minMtu,
      maxMtu: setup.maxMtu,
      numTxQueues: tx,
      numRxQueues: rx,
      gsoMaxSize: nlaGetU32(tb[IFLA.GSO_MAX_SIZE], LEGACY_MAX_SIZE),
      gsoMaxSegs: nlaGetU32(tb[IFLA.GSO_MAX_SEGS], GSO_MAX_SEGS),
      groMaxSize: nlaGetU32(tb[IFLA.GRO_MAX_SIZE], LEGACY_MAX_SIZE),
      tsoMaxSize: setup.tsoMaxSize,
      linkmode: nlaGetU8(tb[IFLA.LINKMODE], IF_LINK_MODE.DEFAULT),
      group: nlaGetU32(tb[IFLA.GROUP], 0),
      operstate: operstate === IF_OPER.UP || operstate === IF_OPER.TESTING || operstate === IF_OPER.DORMANT ? operstate : IF_OPER.UNKNOWN,
      priv: undefined,
    };
  }

  /** rtnl_nla_parse_ifinfomsg(): the struct ifinfomsg and attributes nested in `a` (VETH_INFO_PEER). */
  nlaParseIfinfomsg(a: ParsedAttr): { ifm: { index: number; flags: number; change: number }; attrs: { tb: AttrTable } | { failure: ValidationFailure } } {
    const off = a.dataOffset;
    return {
      ifm: { index: a.dv.getInt32(off + 4, true), flags: a.dv.getUint32(off + 8, true), change: a.dv.getUint32(off + 12, true) },
      attrs: nlaParse(iflaRequestPolicy, a.buf, off + IFINFOMSG_LEN, off + a.dataLength, NL_VALIDATE.LIBERAL),
    };
  }

  /** rtnl_configure_link(): the requested flags, then the device's first RTM_NEWLINK (or the changes). */
  configureLink(dev: NetDevice, ifm: { flags: number; change: number } | undefined): HandlerResult {
    const old = devKernelFlags(dev);
    if (ifm !== undefined && (ifm.flags || ifm.change)) {
      const r = changeFlags(this, dev, this.combineFlags(dev, ifm.flags, ifm.change));
      if (r < 0) {
        unregisterNetdeviceMany(this, dellinkList(dev), undefined);
        return r;
      }
    }
    // 6.1's rtnl_configure_link() notifies without the requester (see the top of this file).
    if (dev.rtnlLinkInitialized) {
      const changes = (old ^ devKernelFlags(dev)) >>> 0;
      if (changes) this.notify(dev, RTM.NEWLINK, changes);
    } else {
      dev.rtnlLinkInitialized = true;
      this.notify(dev, RTM.NEWLINK, 0xffffffff);
    }
    return 0;
  }

  /** rtnl_dellink(). */
  private delLink(req: Request): HandlerResult {
    const tb = this.linkAttrs(req, true);
    if (typeof tb === 'number') return tb;
    let ns = req.sock.netns;
    const t = tb[IFLA.TARGET_NETNSID];
    if (t) {
      const n = this.getNetNsCapable(req.sock, nlaGetS32(t));
      if (typeof n === 'number') return n;
      ns = n;
    }
    const ifm = this.ifinfo(req);
    const ctx: NotifyCtx = { sock: req.sock, seq: req.seq, flags: req.flags };
    let dev: NetDevice | undefined;
    if (ifm.index > 0 || tb[IFLA.IFNAME] || tb[IFLA.ALT_IFNAME]) {
      dev = this.lookup(ns, ifm.index, tb);
      if (dev === undefined) return -Errno.ENODEV;
    } else if (tb[IFLA.GROUP]) {
      // rtnl_group_dellink()
      const group = nlaGetU32(tb[IFLA.GROUP], 0);
      if (!group) return -Errno.EPERM;
      const members = [...ns.devices].filter((d) => d.group === group);
      if (members.length === 0) return -Errno.ENODEV;
      if (members.some((d) => d.rtnlLinkOps?.dellink === undefined)) return -Errno.EOPNOTSUPP;
      const kill: NetDevice[] = [];
      for (const d of members) for (const k of dellinkList(d)) if (!kill.includes(k)) kill.push(k);
      unregisterNetdeviceMany(this, kill, undefined);
      return 0;
    } else {
      return -Errno.EINVAL;
    }
    // rtnl_delete_link()
    if (dev.rtnlLinkOps?.dellink === undefined) return -Errno.EOPNOTSUPP;
    unregisterNetdeviceMany(this, dellinkList(dev), ctx);
    return 0;
  }
}
