/**
 * struct net_device (include/linux/netdevice.h): what a device holds, its
 * driver's setup and private configuration included. Devices are made and
 * registered by their namespace (net_namespace.ts) and changed through
 * net/core/dev.ts and rtnetlink.
 */
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF, IF_LINK_MODE, IF_OPER } from '@ovs/genl-codec';
import type { Vport } from '../../net/openvswitch/vport.js';
import type { GeneveConf } from '../../drivers/net/geneve.js';
import type { VxlanConf } from '../../drivers/net/vxlan/vxlan_core.js';
import { driverFeatures } from './netdev_features.js';
import type { Netns } from '../../net/core/net_namespace.js';
import type { GreConf } from '../../net/ipv4/ip_gre.js';
import type { LinkView } from '../../net/ipv6/addrconf.js';
import type { NetDeviceSetup, RtnlLinkOps } from '../net/rtnetlink.js';

/** GSO_LEGACY_MAX_SIZE / TSO_LEGACY_MAX_SIZE and GSO_MAX_SEGS of 6.1. */
export const LEGACY_MAX_SIZE = 65536;
export const GSO_MAX_SEGS = 65535;
/** The flags dev_get_flags() computes rather than stores. */
export const IFF_COMPUTED = IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT;

/** netif_oper_up(). */
export function netifOperUp(operstate: number): boolean {
  return operstate === IF_OPER.UP || operstate === IF_OPER.UNKNOWN;
}

/** The rx_handler slot of a net_device: who consumes its packets (a vport, a bridge...). */
export interface RxHandlerOwner {
  readonly description: string;
}

/** netdev_priv() of the drivers that keep a configuration: the tunnels. */
export type LinkPriv =
  | { kind: 'vxlan'; conf: VxlanConf }
  | { kind: 'geneve'; conf: GeneveConf }
  | { kind: 'gre'; conf: GreConf }
  // struct internal_dev: an internal device's vport.
  | { kind: 'openvswitch'; vport: Vport };

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
  /** The driver's configuration (a tunnel's); absent, the driver's default for a device another module makes. */
  priv?: LinkPriv;
}

export class NetDevice {
  /** dev_net(): changed only by dev_change_net_namespace(). */
  netns: Netns;
  name: string;
  /** Changed only by dev_change_net_namespace() (a number taken in the new namespace). */
  ifindex: number;
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
  readonly stats = { rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n, rxErrors: 0n, txErrors: 0n, rxDropped: 0n, txDropped: 0n };

  /** dev->rtnl_link_ops: undefined for a device of no driver rtnetlink knows (loopback, another module's). */
  readonly rtnlLinkOps: RtnlLinkOps | undefined;
  /** What the driver's setup() gave it. */
  readonly setup: NetDeviceSetup;
  /** netdev_priv(): the driver's configuration. */
  priv: LinkPriv | undefined;
  /** netif_carrier_ok(), and the counts netif_carrier_on/off keep. */
  carrier = true;
  carrierUpCount = 0;
  carrierDownCount = 0;
  /** A root qdisc was attached by the first dev_activate(); before that it is noop_qdisc. */
  qdiscAttached: boolean;
  /** dev->ingress_queue exists (dev_ingress_queue_create()), and the qdisc on it. */
  ingressQueue = false;
  ingressQdisc: 'ingress' | 'clsact' | undefined = undefined;
  /** dev->gflags: IFF_PROMISC / IFF_ALLMULTI asked for by userspace. */
  gflags: number;
  /** The IFF_ALLMULTI count (dev_set_allmulti). */
  allmulti = 0;
  group = 0;
  linkmode: number = IF_LINK_MODE.DEFAULT;
  ifalias = '';
  broadcast: Uint8Array;
  minMtu: number;
  maxMtu: number;
  numTxQueues: number;
  numRxQueues: number;
  gsoMaxSize = LEGACY_MAX_SIZE;
  gsoMaxSegs = GSO_MAX_SEGS;
  groMaxSize = LEGACY_MAX_SIZE;
  tsoMaxSize: number;
  tsoMaxSegs = GSO_MAX_SEGS;
  protoDown = 0;
  /** rtnl_link_state == RTNL_LINK_INITIALIZED: its first RTM_NEWLINK was sent. */
  rtnlLinkInitialized = true;
  /** NETDEV_UNREGISTER was called for it. */
  unregisterNotified = false;
  /** dev->ip6_ptr as addrconf keeps it: the device as the IP layer last saw it, and IF_READY. */
  inet6Dev: (LinkView & { ifReady: boolean }) | undefined = undefined;
  /** What rtnetlink last announced (the ifi_change and master moves of changes made elsewhere). */
  announced: { flags: number; master: NetDevice | undefined; promiscuity: number };

  constructor(netns: Netns, init: NetDeviceInit, ifindex: number, mac: Uint8Array, ops: RtnlLinkOps | undefined, setup: NetDeviceSetup) {
    this.netns = netns;
    this.name = init.name;
    this.ifindex = ifindex;
    this.kind = init.kind;
    this.type = init.type ?? (init.kind === 'loopback' ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
    this.mtu = init.mtu ?? (init.kind === 'loopback' ? 65536 : 1500);
    this.mac = init.mac ?? mac;
    this.flags = init.flags ?? (init.kind === 'loopback' ? IFF.LOOPBACK | IFF.UP | IFF.RUNNING | IFF.LOWER_UP : IFF.BROADCAST | IFF.MULTICAST);
    this.operstate = init.kind === 'loopback' ? IF_OPER.UNKNOWN : IF_OPER.DOWN;
    this.txqlen = 1000;
    this.peer = undefined;
    this.rxHandler = undefined;
    this.master = undefined;
    const f = driverFeatures(init.kind);
    this.features = f.features;
    this.hwFeatures = f.hw;
    this.wantedFeatures = f.wanted;
    this.rtnlLinkOps = ops;
    this.setup = setup;
    this.priv = init.priv;
    const queues = setup.perCpuQueues ? netns.nCpus : 1;
    this.numTxQueues = queues;
    this.numRxQueues = queues;
    this.minMtu = setup.minMtu;
    this.maxMtu = setup.maxMtu;
    this.tsoMaxSize = setup.tsoMaxSize;
    this.qdiscAttached = this.isUp;
    this.gflags = this.flags & (IFF.PROMISC | IFF.ALLMULTI);
    this.broadcast = this.type === ARPHRD_ETHER ? new Uint8Array(6).fill(0xff) : new Uint8Array(this.mac.length);
    this.announced = { flags: (this.flags & ~(IFF_COMPUTED | IFF.PROMISC | IFF.ALLMULTI)) >>> 0, master: undefined, promiscuity: 0 };
    ops?.init?.(this);
  }

  get isUp(): boolean {
    return (this.flags & IFF.UP) !== 0;
  }
}
