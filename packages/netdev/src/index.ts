/**
 * @ovs/netdev: network devices as OVS sees them (lib/netdev.c,
 * lib/netdev-vport.c, lib/netdev-linux.c) on top of @ovs/dpif-netlink's
 * netdev registry: the tunnel and patch classes, tunnel configuration with
 * OVS 3.1's texts, datapath port names, and Linux device state over
 * rtnetlink.
 */
export { NetdevConfigError } from './errors.js';
export { netdevGetChangeSeq, netdevGetConfig, netdevMtuIsUserConfig, netdevMtuUserConfig, netdevSetConfig, netdevToSpec } from './netdev.js';
export { VportClass, netdevGetTunnelConfig, netdevVportGetDpifPort, netdevVportIsPatch, netdevVportPatchPeer, registerNetdevClasses } from './netdev-vport.js';
export type { VportState } from './netdev-vport.js';
export { DEFAULT_DST_PORT, formatTunnelConfig, parseTunnelConfig, tunnelConfigEqual, tunnelGetConfig } from './tunnel-config.js';
export type { PtMode, TunnelConfig, TunnelParse } from './tunnel-config.js';
export { formatMac, netdevGetCarrier, netdevGetCarrierResets, netdevGetEtheraddr, netdevGetFeatures, netdevGetFlags, netdevGetMtu, netdevGetStats, netdevGetStatus, netdevSetEtheraddr, netdevSetMtu, parseMac } from './netdev-linux-extras.js';
export type { LinkFeatures, LinuxNetdevs } from './netdev-linux-extras.js';
export type { NetdevStats } from './netdev-linux-extras.js';
export { LinkWatcher } from './link-watcher.js';
export type { Netdev, NetdevRegistry, NetdevSpec } from '@ovs/dpif-netlink';
