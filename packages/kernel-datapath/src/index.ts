/**
 * @ovs/kernel-datapath: the Linux openvswitch module's control plane as a
 * model that speaks only netlink bytes. Userspace talks to it through
 * KernelSocket (an implementation of @ovs/genl-codec's NetlinkSocket).
 */
export { Kernel, DUMP_STARTED } from './kernel.js';
export type { KernelOptions, KernelProfile, Failure, Request, ProtocolHandler } from './kernel.js';
export { KernelSocket, DEFAULT_RCVBUF } from './ksocket.js';
export { Netns, NetDevice, validIfname } from './netns.js';
export type { NetDeviceInit, RxHandlerOwner, NetnsListener } from './netns.js';
export { GenlRegistry, reportedOpFlags } from './genetlink.js';
export type { GenlInfo, GenlOp, DumpContext, KernelGenlFamily, HandlerResult } from './genetlink.js';
export { Openvswitch, Datapath } from './datapath.js';
export { Ethtool, ETHTOOL_FAMILY_ID, ETHTOOL_MCGRP_MONITOR_ID, driverFeatures, featureMask, linkKsettings, offerFeatures } from './ethtool.js';
export type { LinkKsettings } from './ethtool.js';
export { Vport, VportModules } from './vport.js';
export { FaultInjection, FAULT_POINTS, FAULT_ATTR_DEFAULT } from './fault-inject.js';
export type { FaultAttr, FaultPoint, FaultPointState, FaultLogEntry } from './fault-inject.js';
export type { VportOps, VportParms, VportModule } from './vport.js';
export { PortMap } from './portmap.js';
export { replayCapture, NORMALISATIONS } from './replay.js';
export type { ReplayOptions, ReplayReport } from './replay.js';
export { startDaemon, DaemonError } from './daemon.js';
export type { Daemon } from './daemon.js';
export { registerRtnetlink } from './rtnetlink.js';
export { Fib, routeFromMessage } from './fib.js';
export type { FibRoute, FibListener } from './fib.js';
export { InetAddresses } from './ifaddr.js';
export type { InetAddress, IfaddrListener } from './ifaddr.js';
export { Addrconf, eui64LinkLocal } from './addrconf.js';
export type { LinkView } from './addrconf.js';
export { fillAddr, fillRoute } from './rtnetlink-inet.js';
export { ipLinkAdd, ipLinkDel, ipLinkSet, ipLinkShow, toIpLink, formatIpLink } from './iplink.js';
export type { IpLink, IpLinkKind } from './iplink.js';
