/**
 * Attribute validation as the kernel does it (lib/nlattr.c: __nla_validate_parse
 * and validate_nla), driven by the policies declared on each AttrSet, and the
 * policy description the kernel puts in an extended ack (NLMSGERR_ATTR_POLICY,
 * net/netlink/policy.c).
 */
import { type AttrSet, type Policy, type NlaType } from './attrs.js';
import { Errno } from './errno.js';
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, align4 } from './netlink.js';

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

/** Validation strictness bits (enum netlink_validation). */
export const NL_VALIDATE = {
  LIBERAL: 0,
  TRAILING: 1 << 0,
  MAXTYPE: 1 << 1,
  UNSPEC: 1 << 2,
  STRICT_ATTRS: 1 << 3,
  NESTED: 1 << 4,
  STRICT: 0x1f,
} as const;

/** Exact lengths (nla_attr_len) and minimum lengths (nla_attr_minlen) per policy type. */
const EXACT_LEN: Partial<Record<NlaType, number>> = {
  U8: 1, U16: 2, U32: 4, U64: 8, MSECS: 8, S8: 1, S16: 2, S32: 4, S64: 8, BE16: 2, BE32: 4,
};
const MIN_LEN: Partial<Record<NlaType, number>> = { ...EXACT_LEN, NESTED: 0 };

/** What the kernel answers when validation fails: errno and the extack fields. */
export interface ValidationFailure {
  errno: number;
  /** NLMSGERR_ATTR_MSG. */
  message?: string;
  /** Offset of the offending attribute in the buffer given to validate (NLMSGERR_ATTR_OFFS once rebased on the nlmsghdr). */
  offset?: number;
  /** The policy of the offending attribute (NLMSGERR_ATTR_POLICY). */
  policy?: Policy;
  /** NLMSGERR_ATTR_MISS_TYPE for a missing required attribute. */
  missingType?: number;
}

export interface ParsedAttr {
  /** Offset of the attribute header. */
  offset: number;
  /** nla_type with the flag bits. */
  rawType: number;
  /** Payload offset and length. */
  dataOffset: number;
  dataLength: number;
}

/** tb[]: the last occurrence of each attribute type, as nla_parse leaves it. */
export type AttrTable = Array<ParsedAttr | undefined>;

/**
 * nla_parse(): walk the attributes in buf[start, end) the kernel's way
 * (nla_for_each_attr stops quietly at a malformed header; leftovers are only
 * an error with NL_VALIDATE_TRAILING), validate each against the set's
 * policies and return tb[], or the failure the kernel reports.
 */
export function nlaParse(
  set: AttrSet,
  buf: Uint8Array,
  start: number,
  end: number,
  validate: number = NL_VALIDATE.LIBERAL,
  depth = 0,
): { tb: AttrTable } | { failure: ValidationFailure } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tb: AttrTable = [];
  const maxType = set.maxType;
  let off = start;
  while (end - off >= NLA_HDRLEN) {
    const len = dv.getUint16(off, true);
    if (len < NLA_HDRLEN || len > end - off) break;
    const rawType = dv.getUint16(off + 2, true);
    const type = rawType & NLA_TYPE_MASK;
    if (type === 0 || type > maxType) {
      if (validate & NL_VALIDATE.MAXTYPE) return { failure: { errno: Errno.EINVAL, message: 'Unknown attribute type', offset: off } };
    } else {
      const failure = validateNla(set.policies[type], buf, dv, off, len, rawType, validate, depth);
      if (failure) return { failure };
      tb[type] = { offset: off, rawType, dataOffset: off + NLA_HDRLEN, dataLength: len - NLA_HDRLEN };
    }
    off += align4(len);
  }
  if (off < end && validate & NL_VALIDATE.TRAILING) {
    return { failure: { errno: Errno.EINVAL, message: 'bytes leftover after parsing attributes' } };
  }
  for (let t = 1; t <= maxType; t++) {
    if (set.policies[t]?.required && tb[t] === undefined) {
      return { failure: { errno: Errno.EINVAL, message: 'Missing attribute', missingType: t } };
    }
  }
  return { tb };
}

/** validate(): like nlaParse but only the verdict (null when the attributes pass). */
export function validate(set: AttrSet, buf: Uint8Array, start: number, end: number, flags: number = NL_VALIDATE.LIBERAL): ValidationFailure | null {
  const r = nlaParse(set, buf, start, end, flags);
  return 'failure' in r ? r.failure : null;
}

function validateNla(
  pt: Policy | undefined,
  buf: Uint8Array,
  dv: DataView,
  off: number,
  nlaLen: number,
  rawType: number,
  validate: number,
  depth: number,
): ValidationFailure | undefined {
  if (pt === undefined) {
    // A hole in the policy table is NLA_UNSPEC with len 0.
    if (validate & NL_VALIDATE.UNSPEC) return { errno: Errno.EINVAL, message: 'Unsupported attribute', offset: off };
    return undefined;
  }
  const attrlen = nlaLen - NLA_HDRLEN;
  const data = off + NLA_HDRLEN;
  const bad = (errno: number = Errno.ERANGE): ValidationFailure => ({
    errno,
    message: 'Attribute failed policy validation',
    offset: off,
    policy: pt,
  });
  const exact = EXACT_LEN[pt.type];
  if (exact !== undefined && attrlen !== exact && validate & NL_VALIDATE.STRICT_ATTRS) {
    return { errno: Errno.EINVAL, message: 'invalid attribute length', offset: off, policy: pt };
  }
  if (validate & NL_VALIDATE.NESTED) {
    const isNest = pt.type === 'NESTED' || pt.type === 'NESTED_ARRAY';
    if (isNest && !(rawType & NLA_F_NESTED)) return { errno: Errno.EINVAL, message: 'NLA_F_NESTED is missing', offset: off, policy: pt };
    if (!isNest && pt.type !== 'UNSPEC' && rawType & NLA_F_NESTED) {
      return { errno: Errno.EINVAL, message: 'NLA_F_NESTED not expected', offset: off, policy: pt };
    }
  }
  switch (pt.type) {
    case 'REJECT':
      return { errno: Errno.EINVAL, message: 'Attribute failed policy validation', offset: off, policy: pt };
    case 'FLAG':
      if (attrlen > 0) return bad();
      break;
    case 'NUL_STRING':
    case 'STRING': {
      if (pt.type === 'NUL_STRING') {
        const minlen = pt.len ? Math.min(attrlen, pt.len + 1) : attrlen;
        const z = buf.indexOf(0, data);
        if (minlen === 0 || z === -1 || z >= data + minlen) return bad(Errno.EINVAL);
      }
      if (attrlen < 1) return bad();
      if (pt.len) {
        let l = attrlen;
        if (buf[data + l - 1] === 0) l--;
        if (l > pt.len) return bad();
      }
      break;
    }
    case 'BINARY':
      if (pt.len && attrlen > pt.len) return bad();
      break;
    case 'NESTED':
    case 'NESTED_ARRAY': {
      if (attrlen === 0) break;
      if (attrlen < NLA_HDRLEN) return bad();
      if (pt.nested) {
        if (pt.type === 'NESTED') {
          const r = nlaParse(pt.nested, buf, data, data + attrlen, validate, depth + 1);
          if ('failure' in r) return r.failure;
        } else {
          let o = data;
          const e = data + attrlen;
          while (e - o >= NLA_HDRLEN) {
            const l = dv.getUint16(o, true);
            if (l < NLA_HDRLEN || l > e - o) break;
            const r = nlaParse(pt.nested, buf, o + NLA_HDRLEN, o + l, validate, depth + 1);
            if ('failure' in r) return r.failure;
            o += align4(l);
          }
        }
      }
      break;
    }
    case 'UNSPEC':
      if (validate & NL_VALIDATE.UNSPEC) return { errno: Errno.EINVAL, message: 'Unsupported attribute', offset: off };
      if (attrlen < (pt.len ?? 0)) return bad();
      break;
    default: {
      const minlen = pt.len || MIN_LEN[pt.type] || 0;
      if (attrlen < minlen) return bad();
    }
  }
  if (pt.min !== undefined || pt.max !== undefined) {
    const v = readInt(pt.type, dv, data);
    if (v !== undefined && ((pt.min !== undefined && v < pt.min) || (pt.max !== undefined && v > pt.max))) {
      return { errno: Errno.ERANGE, message: 'integer out of range', offset: off, policy: pt };
    }
  }
  return undefined;
}

function readInt(type: NlaType, dv: DataView, off: number): number | undefined {
  switch (type) {
    case 'U8': return dv.getUint8(off);
    case 'U16': return dv.getUint16(off, true);
    case 'U32': return dv.getUint32(off, true);
    case 'S8': return dv.getInt8(off);
    case 'S16': return dv.getInt16(off, true);
    case 'S32': return dv.getInt32(off, true);
    case 'BE16': return dv.getUint16(off, false);
    case 'BE32': return dv.getUint32(off, false);
    default: return undefined;
  }
}

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
