/**
 * Ethernet devices (net/ethernet/eth.c, include/linux/etherdevice.h,
 * include/uapi/linux/if_ether.h): ether_setup() and the address checks.
 */
import { ARPHRD_ETHER, type AttrTable, Errno, IFF, IFLA, nlaGetU32, nlaMemcpy } from '@ovs/genl-codec';
import type { NetDeviceSetup } from '../../include/net/rtnetlink.js';
import { LEGACY_MAX_SIZE } from '../../include/linux/netdevice.js';

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_MIN_MTU = 68;
export const ETH_MAX_MTU = 65535;
export const ETH_DATA_LEN = 1500;

/** ether_setup(): the device an Ethernet driver starts from. */
export const etherSetup: NetDeviceSetup = {
  type: ARPHRD_ETHER,
  addrLen: ETH_ALEN,
  flags: IFF.BROADCAST | IFF.MULTICAST,
  noQueue: true,
  setMac: true,
  liveAddrChange: true,
  changeCarrier: false,
  protoDown: false,
  minMtu: ETH_MIN_MTU,
  maxMtu: ETH_DATA_LEN,
  tsoMaxSize: LEGACY_MAX_SIZE,
  perCpuQueues: false,
};

const isZeroEtherAddr = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** is_valid_ether_addr(): not multicast, not all zeros. */
export function isValidEtherAddr(a: Uint8Array): boolean {
  return a.length >= ETH_ALEN && (a[0]! & 1) === 0 && !isZeroEtherAddr(a.subarray(0, ETH_ALEN));
}

/** eth_validate_addr() as the drivers' ->validate() run it on IFLA_ADDRESS: EINVAL, EADDRNOTAVAIL. */
export function ethValidateAddr(tb: AttrTable): number {
  const addr = tb[IFLA.ADDRESS];
  if (!addr) return 0;
  if (addr.dataLength !== ETH_ALEN) return -Errno.EINVAL;
  if (!isValidEtherAddr(nlaMemcpy(addr))) return -Errno.EADDRNOTAVAIL;
  return 0;
}

/** IFLA_MTU within ETH_MIN_MTU..ETH_MAX_MTU, as veth_validate() wants it. */
export function ethValidateMtu(tb: AttrTable): boolean {
  const mtu = tb[IFLA.MTU];
  if (!mtu) return true;
  const v = nlaGetU32(mtu);
  return v >= ETH_MIN_MTU && v <= ETH_MAX_MTU;
}
