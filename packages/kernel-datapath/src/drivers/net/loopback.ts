/** The loopback device (drivers/net/loopback.c): no rtnl_link_ops, so RTM_NEWLINK and RTM_DELLINK cannot touch it. */
import type { NetDeviceSetup } from '../../include/net/rtnetlink.js';
import { etherSetup } from '../../net/ethernet/eth.js';

/** GSO_MAX_SIZE of 6.1 (BIG TCP). */
export const GSO_MAX_SIZE = 524280;

/** loopback_setup(): min/max MTU 0, tso_max_size GSO_MAX_SIZE, no live address change. */
export const loopbackSetup: NetDeviceSetup = { ...etherSetup, liveAddrChange: false, minMtu: 0, maxMtu: 0, tsoMaxSize: GSO_MAX_SIZE };
