/**
 * Attributes as the kernel parses and reads them: nla_parse() and its
 * validation against a policy (lib/nlattr.c: __nla_validate_parse,
 * validate_nla), and the nla_get_*() readers of include/net/netlink.h, over
 * the policies declared on each AttrSet. Kernel-style handlers use these on
 * request bytes instead of decoding whole messages.
 */
import type { AttrSet } from './attr-set.js';
import { Errno } from './errno.js';
import { NetlinkErrnoError } from './errors.js';
import type { FieldType, StructCodec, StructValue } from './struct.js';
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, align4 } from './netlink.js';

/** Kernel-side attribute policy types (enum nla_types in include/net/netlink.h). */
export type NlaType =
  | 'UNSPEC'
  | 'U8'
  | 'U16'
  | 'U32'
  | 'U64'
  | 'STRING'
  | 'FLAG'
  | 'MSECS'
  | 'NESTED'
  | 'NESTED_ARRAY'
  | 'NUL_STRING'
  | 'BINARY'
  | 'S8'
  | 'S16'
  | 'S32'
  | 'S64'
  | 'BITFIELD32'
  | 'REJECT'
  | 'BE16'
  | 'BE32';

/** One entry of an nla_policy table. */
export interface Policy {
  readonly type: NlaType;
  /** Maximum string length / binary length, or minimum length for UNSPEC and integers, as in the kernel. */
  readonly len?: number;
  /** NLA_POLICY_RANGE / MIN / MAX. */
  readonly min?: number;
  readonly max?: number;
  /** Nested policy (NLA_NESTED / NLA_NESTED_ARRAY). */
  readonly nested?: AttrSet;
  /** Not a kernel policy field: the attribute must be present (checked by validate()). */
  readonly required?: boolean;
}

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
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  MSECS: 8,
  S8: 1,
  S16: 2,
  S32: 4,
  S64: 8,
  BE16: 2,
  BE32: 4,
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

/**
 * One attribute found by nlaParse(): where it sits in the message it was
 * parsed from, which it keeps so that the nla_get_*() readers below need
 * nothing else.
 */
export interface ParsedAttr {
  /** Offset of the attribute header. */
  readonly offset: number;
  /** nla_type with the flag bits. */
  readonly rawType: number;
  /** Payload offset and length. */
  readonly dataOffset: number;
  readonly dataLength: number;
  /** The message the offsets point into, and a view of it. */
  readonly buf: Uint8Array;
  readonly dv: DataView;
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
      tb[type] = { offset: off, rawType, dataOffset: off + NLA_HDRLEN, dataLength: len - NLA_HDRLEN, buf, dv };
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
    case 'U8':
      return dv.getUint8(off);
    case 'U16':
      return dv.getUint16(off, true);
    case 'U32':
      return dv.getUint32(off, true);
    case 'S8':
      return dv.getInt8(off);
    case 'S16':
      return dv.getInt16(off, true);
    case 'S32':
      return dv.getInt32(off, true);
    case 'BE16':
      return dv.getUint16(off, false);
    case 'BE32':
      return dv.getUint32(off, false);
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// nla_get_*(): readers of an attribute found by nlaParse(). The integer
// readers take an optional default for an absent attribute (the
// nla_get_*_default() of later kernels); without one the attribute must exist.

/** nla_type(): the attribute number without the NLA_F_* bits. */
export function nlaType(a: ParsedAttr): number {
  return a.rawType & NLA_TYPE_MASK;
}

/** nla_len(): the payload length. */
export function nlaLen(a: ParsedAttr): number {
  return a.dataLength;
}

/** nla_data(): the payload, as a view of the message (no copy). */
export function nlaData(a: ParsedAttr): Uint8Array {
  return a.buf.subarray(a.dataOffset, a.dataOffset + a.dataLength);
}

/** nla_memcpy(): the first `n` payload bytes (all of them by default), copied, zero-filled past the payload's end. */
export function nlaMemcpy(a: ParsedAttr, n = a.dataLength): Uint8Array {
  const out = new Uint8Array(n);
  out.set(a.buf.subarray(a.dataOffset, a.dataOffset + Math.min(n, a.dataLength)));
  return out;
}

/** nla_get_flag(): whether the attribute is present. */
export function nlaGetFlag(a: ParsedAttr | undefined): boolean {
  return a !== undefined;
}

export function nlaGetU8(a: ParsedAttr): number;
export function nlaGetU8(a: ParsedAttr | undefined, dflt: number): number;
export function nlaGetU8(a: ParsedAttr | undefined, dflt?: number): number {
  return a === undefined ? dflt! : a.dv.getUint8(a.dataOffset);
}

export function nlaGetU16(a: ParsedAttr): number;
export function nlaGetU16(a: ParsedAttr | undefined, dflt: number): number;
export function nlaGetU16(a: ParsedAttr | undefined, dflt?: number): number {
  return a === undefined ? dflt! : a.dv.getUint16(a.dataOffset, true);
}

export function nlaGetU32(a: ParsedAttr): number;
export function nlaGetU32(a: ParsedAttr | undefined, dflt: number): number;
export function nlaGetU32(a: ParsedAttr | undefined, dflt?: number): number {
  return a === undefined ? dflt! : a.dv.getUint32(a.dataOffset, true);
}

export function nlaGetU64(a: ParsedAttr): bigint;
export function nlaGetU64(a: ParsedAttr | undefined, dflt: bigint): bigint;
export function nlaGetU64(a: ParsedAttr | undefined, dflt?: bigint): bigint {
  return a === undefined ? dflt! : a.dv.getBigUint64(a.dataOffset, true);
}

export function nlaGetS32(a: ParsedAttr): number;
export function nlaGetS32(a: ParsedAttr | undefined, dflt: number): number;
export function nlaGetS32(a: ParsedAttr | undefined, dflt?: number): number {
  return a === undefined ? dflt! : a.dv.getInt32(a.dataOffset, true);
}

/** nla_get_be16(): the value in host terms (a UDP port reads as 4789). */
export function nlaGetBe16(a: ParsedAttr): number;
export function nlaGetBe16(a: ParsedAttr | undefined, dflt: number): number;
export function nlaGetBe16(a: ParsedAttr | undefined, dflt?: number): number {
  return a === undefined ? dflt! : a.dv.getUint16(a.dataOffset, false);
}

/** nla_get_be32(): the value in host terms. */
export function nlaGetBe32(a: ParsedAttr): number;
export function nlaGetBe32(a: ParsedAttr | undefined, dflt: number): number;
export function nlaGetBe32(a: ParsedAttr | undefined, dflt?: number): number {
  return a === undefined ? dflt! : a.dv.getUint32(a.dataOffset, false);
}

/** nla_get_in_addr(): an IPv4 address, its 4 bytes as they are on the wire. */
export function nlaGetInAddr(a: ParsedAttr): Uint8Array {
  return a.buf.slice(a.dataOffset, a.dataOffset + 4);
}

/**
 * nla_strscpy() into a buffer of `size` bytes: the payload up to its first NUL,
 * at most size - 1 bytes, as UTF-8. Without `size`, the whole payload up to a NUL.
 */
export function nlaStrscpy(a: ParsedAttr, size = a.dataLength + 1): string {
  const start = a.dataOffset;
  const limit = start + Math.min(a.dataLength, size - 1);
  let end = start;
  while (end < limit && a.buf[end] !== 0) end++;
  return utf8.decode(a.buf.subarray(start, end));
}
const utf8 = new TextDecoder();

/**
 * The payload read as host-order u32 words, as kernel code reads an array
 * through nla_data() (OVS_DP_ATTR_PER_CPU_PIDS, an ethtool bitmap); a
 * trailing partial word is left out.
 */
export function nlaGetU32Array(a: ParsedAttr): number[] {
  const out = new Array<number>(a.dataLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = a.dv.getUint32(a.dataOffset + 4 * i, true);
  return out;
}

/**
 * The payload read as a C struct, as kernel code does with a cast of
 * nla_data() (struct ifa_cacheinfo, struct ifla_vxlan_port_range,
 * struct ifinfomsg...). Its policy should have checked the length; a payload
 * shorter than the struct is EINVAL rather than a read into what follows.
 */
export function nlaGetStruct<F extends Record<string, FieldType>>(a: ParsedAttr, s: StructCodec<F>): StructValue<F> {
  if (a.dataLength < s.size) throw new NetlinkErrnoError(-Errno.EINVAL, `attribute shorter than struct ${s.cName}`);
  return s.read(a.buf, a.dv, a.dataOffset);
}

/** nla_parse_nested(): the attributes inside `a`, parsed against `set`. */
export function nlaParseNested(set: AttrSet, a: ParsedAttr, validate: number = NL_VALIDATE.LIBERAL): { tb: AttrTable } | { failure: ValidationFailure } {
  return nlaParse(set, a.buf, a.dataOffset, a.dataOffset + a.dataLength, validate);
}

/**
 * nla_for_each_nested(): every attribute inside `a`, in order, repeats
 * included, stopping quietly at a malformed header as the kernel does.
 */
export function* nlaForEachNested(a: ParsedAttr): Generator<ParsedAttr> {
  const { buf, dv } = a;
  const end = a.dataOffset + a.dataLength;
  for (let off = a.dataOffset; end - off >= NLA_HDRLEN; ) {
    const len = dv.getUint16(off, true);
    if (len < NLA_HDRLEN || len > end - off) return;
    yield { offset: off, rawType: dv.getUint16(off + 2, true), dataOffset: off + NLA_HDRLEN, dataLength: len - NLA_HDRLEN, buf, dv };
    off += align4(len);
  }
}

/** nla_find_nested(): the first attribute of `type` inside `a`. */
export function nlaFindNested(a: ParsedAttr, type: number): ParsedAttr | undefined {
  for (const n of nlaForEachNested(a)) if (nlaType(n) === type) return n;
  return undefined;
}
