/**
 * The policy description the kernel puts in an extended ack
 * (NLMSGERR_ATTR_POLICY) and in policy dumps (net/netlink/policy.c).
 */
import type { NlaType, Policy } from './nlattr.js';

/** netlink_attribute_type: NL_ATTR_TYPE_* as reported in policy dumps. */
export const NL_ATTR_TYPE = {
  INVALID: 0,
  FLAG: 1,
  U8: 2,
  U16: 3,
  U32: 4,
  U64: 5,
  S8: 6,
  S16: 7,
  S32: 8,
  S64: 9,
  BINARY: 10,
  STRING: 11,
  NUL_STRING: 12,
  NESTED: 13,
  NESTED_ARRAY: 14,
  BITFIELD32: 15,
} as const;

/** netlink_policy_type_attr: NL_POLICY_TYPE_ATTR_*. */
export const NL_POLICY_TYPE_ATTR = {
  UNSPEC: 0,
  TYPE: 1,
  MIN_VALUE_S: 2,
  MAX_VALUE_S: 3,
  MIN_VALUE_U: 4,
  MAX_VALUE_U: 5,
  MIN_LENGTH: 6,
  MAX_LENGTH: 7,
  POLICY_IDX: 8,
  POLICY_MAXTYPE: 9,
  BITFIELD32_MASK: 10,
  PAD: 11,
  MASK: 12,
} as const;

/** One attribute of a policy description: NL_POLICY_TYPE_ATTR_* and its value. */
export interface PolicyDumpAttr {
  type: number;
  /** 'u32' values are 4 bytes, 'u64'/'s64' values 8 bytes (with a PAD attribute only where alignment needs it: never on x86-64). */
  width: 'u32' | 'u64' | 's64';
  value: bigint;
}

const U_MAX: Partial<Record<NlaType, bigint>> = { U8: 0xffn, U16: 0xffffn, U32: 0xffffffffn, U64: 0xffffffffffffffffn, MSECS: 0xffffffffffffffffn };
const S_RANGE: Partial<Record<NlaType, [bigint, bigint]>> = {
  S8: [-128n, 127n],
  S16: [-32768n, 32767n],
  S32: [-2147483648n, 2147483647n],
  S64: [-9223372036854775808n, 9223372036854775807n],
};

/**
 * The attributes __netlink_policy_dump_write_attr() writes for a policy, in
 * the kernel's order (the type comes last), or undefined for policies the
 * kernel does not describe (NLA_UNSPEC, NLA_REJECT): then the extack has no
 * NLMSGERR_ATTR_POLICY.
 */
export function policyDump(pt: Policy): PolicyDumpAttr[] | undefined {
  const A = NL_POLICY_TYPE_ATTR;
  const out: PolicyDumpAttr[] = [];
  const u32 = (type: number, v: number) => out.push({ type, width: 'u32', value: BigInt(v) });
  let type: number;
  switch (pt.type) {
    case 'NESTED':
      type = NL_ATTR_TYPE.NESTED;
      break;
    case 'NESTED_ARRAY':
      type = NL_ATTR_TYPE.NESTED_ARRAY;
      break;
    case 'U8':
    case 'U16':
    case 'U32':
    case 'U64':
    case 'MSECS':
      type = { U8: NL_ATTR_TYPE.U8, U16: NL_ATTR_TYPE.U16, U32: NL_ATTR_TYPE.U32 }[pt.type as 'U8'] ?? NL_ATTR_TYPE.U64;
      out.push({ type: A.MIN_VALUE_U, width: 'u64', value: BigInt(pt.min ?? 0) });
      out.push({ type: A.MAX_VALUE_U, width: 'u64', value: pt.max !== undefined ? BigInt(pt.max) : U_MAX[pt.type]! });
      break;
    case 'S8':
    case 'S16':
    case 'S32':
    case 'S64': {
      type = { S8: NL_ATTR_TYPE.S8, S16: NL_ATTR_TYPE.S16, S32: NL_ATTR_TYPE.S32, S64: NL_ATTR_TYPE.S64 }[pt.type];
      const [lo, hi] = S_RANGE[pt.type]!;
      out.push({ type: A.MIN_VALUE_S, width: 's64', value: pt.min !== undefined ? BigInt(pt.min) : lo });
      out.push({ type: A.MAX_VALUE_S, width: 's64', value: pt.max !== undefined ? BigInt(pt.max) : hi });
      break;
    }
    case 'STRING':
    case 'NUL_STRING':
    case 'BINARY':
      type = pt.type === 'STRING' ? NL_ATTR_TYPE.STRING : pt.type === 'NUL_STRING' ? NL_ATTR_TYPE.NUL_STRING : NL_ATTR_TYPE.BINARY;
      if (pt.len) u32(A.MAX_LENGTH, pt.len);
      break;
    case 'FLAG':
      type = NL_ATTR_TYPE.FLAG;
      break;
    case 'BE16':
    case 'BE32':
      type = pt.type === 'BE16' ? NL_ATTR_TYPE.U16 : NL_ATTR_TYPE.U32;
      out.push({ type: A.MIN_VALUE_U, width: 'u64', value: 0n });
      out.push({ type: A.MAX_VALUE_U, width: 'u64', value: pt.type === 'BE16' ? 0xffffn : 0xffffffffn });
      break;
    default:
      return undefined;
  }
  u32(A.TYPE, type);
  return out;
}
