/**
 * @ovs/kernel-datapath: the Linux openvswitch module's control plane as a
 * model that speaks only netlink bytes. Userspace talks to it through
 * KernelSocket (an implementation of @ovs/genl-codec's NetlinkSocket).
 */
export { Kernel, DUMP_STARTED } from './kernel.js';
export type { KernelOptions, KernelProfile, Request, ProtocolHandler } from './kernel.js';
export { ExtAck } from './net/netlink/extack.js';
export { KernelSocket, DEFAULT_RCVBUF } from './net/netlink/af_netlink.js';
export { Netns } from './net/core/net_namespace.js';
export type { NetnsListener } from './net/core/net_namespace.js';
export { NetDevice } from './include/linux/netdevice.js';
export type { NetDeviceInit, RxHandlerOwner, LinkPriv } from './include/linux/netdevice.js';
export { devValidName as validIfname } from './net/core/dev.js';
export type { RtnlLinkOps, NetDeviceSetup } from './include/net/rtnetlink.js';
export { GenlRegistry, reportedOpFlags } from './net/netlink/genetlink.js';
export type { GenlInfo, GenlOp, DumpContext, KernelGenlFamily, HandlerResult } from './net/netlink/genetlink.js';
export { Openvswitch, Datapath } from './net/openvswitch/datapath.js';
export { Ethtool, ETHTOOL_FAMILY_ID, ETHTOOL_MCGRP_MONITOR_ID } from './net/ethtool/netlink.js';
export { driverFeatures, featureMask, offerFeatures } from './include/linux/netdev_features.js';
export { linkKsettings } from './net/ethtool/linkmodes.js';
export type { LinkKsettings } from './net/ethtool/linkmodes.js';
export { Vport, VportModules } from './net/openvswitch/vport.js';
export { FaultInjection, FAULT_POINTS, FAULT_ATTR_DEFAULT } from './lib/fault-inject.js';
export type { FaultAttr, FaultPoint, FaultPointState, FaultLogEntry } from './lib/fault-inject.js';
export type { VportOps, VportParms, VportModule } from './net/openvswitch/vport.js';
export { PortMap } from './net/openvswitch/portmap.js';
export { replayCapture, NORMALISATIONS } from './tools/replay.js';
export type { ReplayOptions, ReplayReport } from './tools/replay.js';
export { startDaemon, DaemonError } from './tools/daemon.js';
export type { Daemon } from './tools/daemon.js';
export { registerRtnetlink } from './net/core/rtnetlink.js';
export { Fib, routeFromMessage } from './net/ipv4/fib_trie.js';
export type { FibRoute, FibListener } from './net/ipv4/fib_trie.js';
export { InetAddresses } from './net/ipv4/devinet.js';
export type { InetAddress, IfaddrListener } from './net/ipv4/devinet.js';
export { Addrconf, eui64LinkLocal } from './net/ipv6/addrconf.js';
export type { LinkView } from './net/ipv6/addrconf.js';
export { fillAddr, fillRoute } from './net/ipv4/fib_frontend.js';
export { ipLinkAdd, ipLinkDel, ipLinkSet, ipLinkShow, toIpLink, formatIpLink } from './tools/iplink.js';
export type { IpLink, IpLinkKind } from './tools/iplink.js';
