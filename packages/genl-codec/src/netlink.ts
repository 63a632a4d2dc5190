/**
 * Netlink framing: include/uapi/linux/netlink.h.
 */

/** Netlink protocol numbers (the third argument of socket(AF_NETLINK, ...)). */
export const NetlinkProtocol = {
  NETLINK_ROUTE: 0,
  NETLINK_UNUSED: 1,
  NETLINK_USERSOCK: 2,
  NETLINK_FIREWALL: 3,
  NETLINK_SOCK_DIAG: 4,
  NETLINK_NFLOG: 5,
  NETLINK_XFRM: 6,
  NETLINK_SELINUX: 7,
  NETLINK_ISCSI: 8,
  NETLINK_AUDIT: 9,
  NETLINK_FIB_LOOKUP: 10,
  NETLINK_CONNECTOR: 11,
  NETLINK_NETFILTER: 12,
  NETLINK_IP6_FW: 13,
  NETLINK_DNRTMSG: 14,
  NETLINK_KOBJECT_UEVENT: 15,
  NETLINK_GENERIC: 16,
  NETLINK_SCSITRANSPORT: 18,
  NETLINK_ECRYPTFS: 19,
  NETLINK_RDMA: 20,
  NETLINK_CRYPTO: 21,
  NETLINK_SMC: 22,
} as const;

/** nlmsghdr.nlmsg_flags. Several bits have a different meaning for GET and NEW requests. */
export const NLM_F = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // Modifiers to GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  // Modifiers to NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // Modifiers to DELETE requests
  NONREC: 0x100,
  BULK: 0x200,
  // Flags for ACK messages
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** Control message types below NLMSG_MIN_TYPE. */
export const NLMSG = {
  NOOP: 0x1,
  ERROR: 0x2,
  DONE: 0x3,
  OVERRUN: 0x4,
  MIN_TYPE: 0x10,
} as const;

/** Extended-ack attributes of an NLMSG_ERROR / NLMSG_DONE carrying NLM_F_ACK_TLVS. */
export const NLMSGERR_ATTR = {
  UNUSED: 0,
  MSG: 1,
  OFFS: 2,
  COOKIE: 3,
  POLICY: 4,
  MISS_TYPE: 5,
  MISS_NEST: 6,
} as const;

export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const GENL_HDRLEN = 4;

/** Round up to the 4-byte netlink alignment (NLMSG_ALIGN, NLA_ALIGN). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Whether buf[from, to) is all zero: the padding NLMSG_ALIGN / NLA_ALIGN leave must be. */
export function isZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/** struct nlmsghdr. */
export interface NlmsgHeader {
  /** nlmsg_len: length of the whole message, header included. */
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/**
 * The names of the flag bits set in `flags`, as the kernel would print them
 * for a message of this kind: GET-style (ROOT, MATCH, ATOMIC, DUMP), NEW-style
 * (REPLACE, EXCL, CREATE, APPEND), DEL-style (NONREC, BULK) or ACK-style
 * (CAPPED, ACK_TLVS) meanings of the 0x100..0x800 bits.
 */
export function nlmFlagNames(flags: number, style: 'get' | 'new' | 'del' | 'ack' = 'get'): string[] {
  const names: string[] = [];
  const low: Array<[string, number]> = [
    ['REQUEST', NLM_F.REQUEST],
    ['MULTI', NLM_F.MULTI],
    ['ACK', NLM_F.ACK],
    ['ECHO', NLM_F.ECHO],
    ['DUMP_INTR', NLM_F.DUMP_INTR],
    ['DUMP_FILTERED', NLM_F.DUMP_FILTERED],
  ];
  const high: Record<typeof style, Array<[string, number]>> = {
    get: [
      ['DUMP', NLM_F.DUMP],
      ['ROOT', NLM_F.ROOT],
      ['MATCH', NLM_F.MATCH],
      ['ATOMIC', NLM_F.ATOMIC],
    ],
    new: [
      ['REPLACE', NLM_F.REPLACE],
      ['EXCL', NLM_F.EXCL],
      ['CREATE', NLM_F.CREATE],
      ['APPEND', NLM_F.APPEND],
    ],
    del: [
      ['NONREC', NLM_F.NONREC],
      ['BULK', NLM_F.BULK],
    ],
    ack: [
      ['CAPPED', NLM_F.CAPPED],
      ['ACK_TLVS', NLM_F.ACK_TLVS],
    ],
  };
  let rest = flags;
  for (const [name, bit] of [...low, ...high[style]]) {
    if ((rest & bit) === bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  for (let bit = 1; rest !== 0 && bit <= 0x8000; bit <<= 1) {
    if (rest & bit) {
      names.push(`0x${bit.toString(16)}`);
      rest &= ~bit;
    }
  }
  return names;
}

/** Parse flag names (as produced by nlmFlagNames, or raw "0x.." numbers) back into bits. */
export function nlmFlagsFromNames(names: readonly string[]): number {
  let flags = 0;
  for (const name of names) {
    const bit = (NLM_F as Record<string, number>)[name];
    if (bit !== undefined) flags |= bit;
    else if (/^0x[0-9a-f]+$/i.test(name)) flags |= Number.parseInt(name, 16);
    else throw new TypeError(`unknown netlink flag ${JSON.stringify(name)}`);
  }
  return flags;
}
