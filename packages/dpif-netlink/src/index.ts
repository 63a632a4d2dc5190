/**
 * @ovs/dpif-netlink: userspace's datapath interface (lib/dpif.c,
 * lib/dpif-netlink.c) over any NetlinkSocket.
 */
export type { Dpif, DpifPort, DpifProvider, DpifStats, NetdevSpec, PortPollResult } from './dpif.js';
export { dpifClose, dpifOpen, dpifPortAdd } from './dpif.js';
export { DpifNetlink, DpifNetlinkProvider, lookupFamilies, netdevToOvsVportType, vportTypeName } from './dpif-netlink.js';
export { Netdev, NetdevRegistry, netdevVportTypeFromName } from './netdev-linux.js';
export type { IfAddr, NetdevClass, Netnsid, VportGet, VportStats } from './netdev-linux.js';
export { RouteTable } from './route-table.js';
export type { OvsRoute } from './route-table.js';
export type { DpifNetlinkOptions, LogFn, OvsFamilies, SocketFactory } from './dpif-netlink.js';
export { DpifError, NlSock } from './nl-sock.js';
export { AfNetlinkSocket, NetlinkBindingUnavailableError, NetlinkSyscallError, closeAllNetlinkSockets, openNetlinkSocket } from './transport-netlink.js';
export type { OpenNetlinkSocketOptions } from './transport-netlink.js';
export { runDpctl } from './dpctl.js';
export type { DpctlIo } from './dpctl.js';
export { tunnelDpifPortName } from './dpif-netlink.js';
