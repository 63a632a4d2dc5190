/**
 * netdev_features_t (include/linux/netdev_features.h): the masks the stack
 * uses, and the features each driver registers its devices with.
 */
import { NETDEV_FEATURE_COUNT, NETIF_F_BIT } from '@ovs/genl-codec';
import type { NetDevice } from './netdevice.js';

/** The netdev_features_t with these NETIF_F_*_BIT bits set. */
export function featureMask(...bits: number[]): bigint {
  let mask = 0n;
  for (const b of bits) mask |= 1n << BigInt(b);
  return mask;
}

const F = NETIF_F_BIT;
export const ALL_FEATURES = (1n << BigInt(NETDEV_FEATURE_COUNT)) - 1n;
/** NETIF_F_NEVER_CHANGE: what the driver decides for good (ETHTOOL_A_FEATURES_NOCHANGE). */
export const NETIF_F_NEVER_CHANGE = featureMask(F.VLAN_CHALLENGED, F.LLTX, F.NETNS_LOCAL);
/** NETIF_F_ETHTOOL_BITS: what a FEATURES_SET may name. */
export const NETIF_F_ETHTOOL_BITS = ALL_FEATURES & ~NETIF_F_NEVER_CHANGE;
export const NETIF_F_ALL_TSO = featureMask(F.TSO, F.TSO6, F.TSO_ECN, F.TSO_MANGLEID);
export const NETIF_F_LRO = featureMask(F.LRO);

/**
 * hw_features (changeable) and features (active) as each driver has them
 * once registered, read with ETHTOOL_MSG_FEATURES_GET off Debian's
 * 6.1.0-56-amd64, the captures' kernel; wanted_features starts as
 * features & hw_features (register_netdevice()). None has LRO, on or
 * changeable. veth offers GRO but leaves it off. gre is gretap's; geneve is
 * vxlan's. An OVS datapath's own port (OVSP_LOCAL) also has NETNS_LOCAL,
 * which internal_dev_create() adds to that one only.
 */
const DRIVER_FEATURES: Readonly<Record<string, { hw: bigint; features: bigint }>> = {
  loopback: { hw: 0x0a000006401d4800n, features: 0x00000516401d7c69n },
  veth: { hw: 0x0a0063164fdd49e9n, features: 0x000061164fdd19e9n },
  dummy: { hw: 0x0a0002064fdd5869n, features: 0x000000064fdd5869n },
  vxlan: { hw: 0x0a000306401d4849n, features: 0x00000106401d5849n },
  geneve: { hw: 0x0a000306401d4849n, features: 0x00000106401d5849n },
  gretap: { hw: 0x0a000206401d4869n, features: 0x00000006401d5869n },
  gre: { hw: 0x0a000206401d4869n, features: 0x00000006401d5869n },
  openvswitch: { hw: 0x0a0022064fdd48e9n, features: 0x000020064fdd58e9n },
};

/**
 * What register_netdevice() alone gives a driver that sets nothing: GSO and
 * GRO on and changeable (GSO then dropped for want of SG), GRO_FRAGLIST,
 * GRO_UDP_FWD and NOCACHE_COPY changeable but off.
 */
const BARE_FEATURES = {
  hw: featureMask(F.GSO, F.GRO, F.GRO_FRAGLIST, F.GRO_UDP_FWD, F.NOCACHE_COPY),
  features: featureMask(F.GRO),
};

/** A new device's hw_features, features and wanted_features, by rtnetlink kind. */
export function driverFeatures(kind: string): { hw: bigint; features: bigint; wanted: bigint } {
  const d = DRIVER_FEATURES[kind] ?? BARE_FEATURES;
  return { hw: d.hw, features: d.features, wanted: d.features & d.hw };
}

/**
 * Test hook: make `mask` changeable and on, as a driver offering those
 * offloads registers its device (a NIC with LRO: featureMask(NETIF_F_BIT.LRO)).
 * Nobody is notified: the driver did it before anyone was looking.
 */
export function offerFeatures(dev: NetDevice, mask: bigint): void {
  dev.hwFeatures |= mask;
  dev.wantedFeatures |= mask;
  dev.features |= mask;
}
