/**
 * struct rtnl_link_ops (include/net/rtnetlink.h) and the part of a driver's
 * setup the model keeps (struct net_device_ops, priv_flags, MTU bounds): what
 * each link driver gives rtnetlink, registered like rtnl_link_register().
 */
import type { AttrSet, AttrTable, InfoData } from '@ovs/genl-codec';
import type { Rtnetlink } from '../../net/core/rtnetlink.js';
import type { ExtAck } from '../../net/netlink/extack.js';
import type { HandlerResult } from '../../net/netlink/genetlink.js';
import type { LinkPriv, NetDevice } from '../linux/netdevice.js';
import type { Netns } from '../../net/core/net_namespace.js';

/** What a driver's setup() leaves on every device it makes. */
export interface NetDeviceSetup {
  /** dev->type (ARPHRD_*) and dev->addr_len of a device RTM_NEWLINK makes. */
  readonly type: number;
  readonly addrLen: number;
  /** dev->flags of a device RTM_NEWLINK makes (ether_setup: BROADCAST | MULTICAST). */
  readonly flags: number;
  /** IFF_NO_QUEUE: the qdisc attached on first open is noqueue, else the default qdisc. */
  readonly noQueue: boolean;
  /** ndo_set_mac_address is eth_mac_addr (the others have none). */
  readonly setMac: boolean;
  /** IFF_LIVE_ADDR_CHANGE. */
  readonly liveAddrChange: boolean;
  /** ndo_change_carrier. */
  readonly changeCarrier: boolean;
  /** IFF_CHANGE_PROTO_DOWN. */
  readonly protoDown: boolean;
  readonly minMtu: number;
  readonly maxMtu: number;
  readonly tsoMaxSize: number;
  /** num_tx_queues / num_rx_queues: one, or one per possible CPU (veth). */
  readonly perCpuQueues: boolean;
  /** ndo_open(): an errno, or 0. */
  readonly open?: (rtnl: Rtnetlink, dev: NetDevice) => number;
  /** ndo_stop(). */
  readonly stop?: (rtnl: Rtnetlink, dev: NetDevice) => void;
  /** ndo_change_mtu(): the MTU to set, or a negative errno. */
  readonly changeMtu?: (dev: NetDevice, mtu: number) => number;
  /** ndo_get_iflink() (without one, the device's own ifindex). */
  readonly getIflink?: (dev: NetDevice, deleting: boolean) => number;
}

/** A device rtnl_create_link() prepared, not yet registered. */
export interface LinkProto {
  kind: string;
  name: string;
  ifindex: number;
  mtu: number;
  mac: Uint8Array | undefined;
  flags: number;
  type: number;
  txqlen: number;
  broadcast: Uint8Array;
  minMtu: number;
  maxMtu: number;
  numTxQueues: number;
  numRxQueues: number;
  gsoMaxSize: number;
  gsoMaxSegs: number;
  groMaxSize: number;
  tsoMaxSize: number;
  linkmode: number;
  group: number;
  /** IFLA_OPERSTATE as set_operstate() leaves it on a device not yet registered. */
  operstate: number;
  priv: LinkPriv | undefined;
}

/** An RTM_NEWLINK being handled, as the driver sees it. */
export interface NewlinkRequest {
  /** Where the device is made (dev_net(dev)). */
  readonly ns: Netns;
  /** The namespace ops->newlink() is given (src_net: the requester's, or the IFLA_LINK_NETNSID one). */
  readonly srcNet: Netns;
  /** ifinfomsg's ifi_index, ifi_flags, ifi_change. */
  readonly ifm: { index: number; flags: number; change: number };
  readonly tb: AttrTable;
  readonly data: AttrTable | undefined;
  readonly extack: ExtAck;
}

/** struct rtnl_link_ops. */
export interface RtnlLinkOps {
  readonly kind: string;
  /** ops->policy and ops->maxtype: the IFLA_INFO_DATA attributes. */
  readonly policy?: AttrSet;
  /** ops->setup(): what every device of the kind gets. */
  readonly setup: NetDeviceSetup;
  /** The module Debian builds the driver as, and the vport type whose module loads it too. */
  readonly module?: { readonly name: string; readonly vportType: number };
  /** ops->validate(). */
  validate?(tb: AttrTable, data: AttrTable | undefined, extack: ExtAck): HandlerResult;
  /**
   * ops->newlink(): register what rtnl_create_link() prepared (through
   * rtnl.register) with the driver's configuration. Without it, RTM_NEWLINK
   * cannot make a device of the kind.
   */
  newlink?(rtnl: Rtnetlink, r: NewlinkRequest, proto: LinkProto): NetDevice | HandlerResult;
  /** ops->changelink(). */
  changelink?(rtnl: Rtnetlink, dev: NetDevice, tb: AttrTable, data: AttrTable, extack: ExtAck): HandlerResult;
  /** ops->dellink(): the devices unregistered with this one. Without it, RTM_DELLINK cannot delete one. */
  dellink?(dev: NetDevice): NetDevice[];
  /** ops->fill_info(): IFLA_INFO_DATA. */
  fillInfo?(dev: NetDevice): InfoData | undefined;
  /** ops->netns_refund: a device of the kind goes back to the init namespace when its namespace is dismantled, instead of being deleted. */
  readonly netnsRefund?: boolean;
  /** ops->get_link_net(): the namespace of the device's link (a veth's peer). */
  getLinkNet?(dev: NetDevice): Netns;
  /**
   * What the driver sets on a device made outside rtnetlink (by another
   * module, or a test): its default configuration, and what that implies
   * (geneve_configure()'s max_mtu, ipgre_tunnel_init()'s broadcast address,
   * veth's carrier off until both ends are up).
   */
  init?(dev: NetDevice): void;
}
