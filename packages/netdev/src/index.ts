/**
 * @ovs/netdev: network devices as OVS sees them (lib/netdev.c,
 * lib/netdev-linux.c, lib/netdev-vport.c, lib/route-table.c): the netdev
 * objects and their registry, the Linux classes over rtnetlink and ethtool,
 * the tunnel and patch classes with OVS 3.1's configuration texts, and the
 * routing table every datapath open reads first. Below @ovs/dpif-netlink,
 * above @ovs/netlink-socket.
 */
export { NetdevConfigError } from './errors.js';
export {
  Netdev,
  NetdevRegistry,
  netdevGetAddrList,
  netdevGetCarrier,
  netdevGetCarrierResets,
  netdevGetChangeSeq,
  netdevGetConfig,
  netdevGetEtheraddr,
  netdevGetFeatures,
  netdevGetFlags,
  netdevGetIfindex,
  netdevGetMtu,
  netdevGetStats,
  netdevGetStatus,
  netdevMtuIsUserConfig,
  netdevMtuUserConfig,
  netdevSetConfig,
  netdevSetEtheraddr,
  netdevSetMtu,
  netdevToSpec,
  netdevTurnFlagsOn,
} from './netdev.js';
export type { IfAddr, LogFn, NetdevClass, NetdevSpec, NetdevStats, Netnsid, VportGet, VportStats } from './netdev.js';
export { LinkWatcher, linkMessage, netdevLinuxEthtoolSetFlag, netdevLinuxGetLink, netdevLinuxNetnsidUpdate } from './netdev-linux.js';
export type { LinkFeatures, LinuxNetdevs } from './netdev-linux.js';
export {
  VportClass,
  netdevGetTunnelConfig,
  netdevVportDpifPortName,
  netdevVportGetDpifPort,
  netdevVportIsPatch,
  netdevVportPatchPeer,
  netdevVportTypeFromName,
  registerNetdevClasses,
} from './netdev-vport.js';
export type { VportState } from './netdev-vport.js';
export { DEFAULT_DST_PORT, formatTunnelConfig, parseTunnelConfig, tunnelConfigEqual, tunnelGetConfig } from './tunnel-config.js';
export type { PtMode, TunnelConfig, TunnelParse } from './tunnel-config.js';
export { formatMac, parseMac } from './packets.js';
// C's atoi() as OVS's option parsing (and ovs-dpctl's port numbers) read with it.
export { atoi } from './cnum.js';
export { RouteTable } from './route-table.js';
export type { OvsRoute } from './route-table.js';
