/** What the IP tunnel drivers share of include/net/ip.h and include/net/ipv6.h. */

export const IP_MAX_MTU = 65535;

/** All zeros: no address given (ipv4_is_zero, ipv6_addr_any). */
export const isAnyAddr = (a: Uint8Array): boolean => a.every((x) => x === 0);

/** ipv6_addr_equal() and its IPv4 counterpart. */
export const sameAddr = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
