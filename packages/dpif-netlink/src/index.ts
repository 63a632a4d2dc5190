/**
 * @ovs/dpif-netlink: userspace's datapath interface (lib/dpif.c,
 * lib/dpif-netlink.c) over any NetlinkSocket, and ovs-dpctl. The netdevs it
 * adds as ports are @ovs/netdev's; the sockets, @ovs/netlink-socket's.
 */
export type { Dpif, DpifPort, DpifProvider, DpifStats, PortPollResult } from './dpif.js';
export { DpifError, dpifClose, dpifFlowFlush, dpifOpen, dpifPortAdd } from './dpif.js';
export { DpifNetlink, DpifNetlinkProvider, lookupFamilies, netdevToOvsVportType, vportTypeName } from './dpif-netlink.js';
export type { DpifNetlinkOptions, OvsFamilies } from './dpif-netlink.js';
export { DPCTL_COMMANDS, dpctlUnixctlHandler, dpctlUnixctlRegister, runDpctl } from './dpctl.js';
export type { DpctlCommand, DpctlIo, DpctlUnixctlContext, DpctlUnixctlServer } from './dpctl.js';
