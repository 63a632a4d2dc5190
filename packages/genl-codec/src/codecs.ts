/**
 * Value codecs: how one attribute's payload is represented in TypeScript —
 * integers in host or network order, enums, 64-bit values, flags, strings,
 * opaque bytes, u32 arrays, nests and nested arrays. Fixed C structs are in
 * struct.ts.
 */
import type { AttrSet, AttrsOf } from './attr-set.js';
import type { JsonValue } from './attr-json.js';
import { ORDER_NO_NUL } from './attr-order.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import { fromHex, hex } from './hex.js';
import { align4, isZero } from './netlink.js';
import type { NlaType, Policy } from './nlattr.js';
import type { Writer } from './writer.js';

/**
 * What one decode carries through every codec it calls, instead of module
 * state, so that decodes running inside one another (a codec that decodes
 * another message) cannot affect each other.
 */
export class DecodeContext {
  /**
   * Set by a value codec when the value needs an ORDER_* bit to re-encode
   * exactly (a string without its NUL); read and cleared by the set decoding it.
   */
  extra = 0;
  constructor(
    /** Payloads that do not fit their type are kept raw (RawAttr.invalid) instead of failing the decode. */
    readonly lenient = false,
  ) {}
}

/**
 * How one attribute's payload is represented in TypeScript. Method syntax on
 * purpose: codecs of different value types are stored side by side in sets.
 */
export interface ValueCodec<T> {
  /** Short type name used by the formatter and in error messages. */
  readonly kind: string;
  /** The policy this value type implies when a set declares none. */
  readonly policy: Policy;
  decode(buf: Uint8Array, dv: DataView, off: number, len: number, ctx: DecodeContext): T;
  write(w: Writer, value: T, path: string): void;
  toJson(value: T): JsonValue;
  fromJson(json: unknown, path: string): T;
  format(value: T): string;
  /** For fixed-size integers: what the compiled fast paths need to read and write them inline. */
  readonly int?: IntLayout;
}

/** A fixed-size integer's layout: DataView method suffix, size, byte order, range. */
export interface IntLayout {
  readonly method: 'Uint8' | 'Uint16' | 'Uint32' | 'Int8' | 'Int16' | 'Int32';
  readonly size: 1 | 2 | 4;
  readonly le: boolean;
  readonly min: number;
  readonly max: number;
}

function expectLen(name: string, off: number, len: number, want: number): void {
  if (len !== want) throw new NetlinkDecodeError(off - 4, `${name} payload must be ${want} bytes, got ${len}`);
}

export function intFromJson(json: unknown, path: string, min: number, max: number, names?: ReadonlyMap<string, number>): number {
  let v = json;
  if (typeof v === 'string' && names?.has(v)) return names.get(v)!;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|-?\d+)$/i.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new NetlinkEncodeError(path, `expected an integer, got ${JSON.stringify(json)}`);
  if (v < min || v > max) throw new NetlinkEncodeError(path, `${v} is out of range [${min}, ${max}]`);
  return v;
}

export function checkInt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new NetlinkEncodeError(path, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

interface IntSpec {
  kind: string;
  size: 1 | 2 | 4;
  signed: boolean;
  be: boolean;
  policy: NlaType;
}

function intCodec(spec: IntSpec, names?: Readonly<Record<string, number>>): ValueCodec<number> {
  const { size, signed, be, kind } = spec;
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  const byName = names ? new Map(Object.entries(names)) : undefined;
  const byValue = names ? new Map(Object.entries(names).map(([k, v]) => [v, k])) : undefined;
  const le = !be;
  const method = `${signed ? 'Int' : 'Uint'}${size * 8}` as IntLayout['method'];
  return {
    kind,
    policy: { type: spec.policy },
    int: { method, size, le, min, max },
    decode(_buf, dv, off, len) {
      expectLen(kind, off, len, size);
      if (size === 4) return signed ? dv.getInt32(off, le) : dv.getUint32(off, le);
      if (size === 2) return signed ? dv.getInt16(off, le) : dv.getUint16(off, le);
      return signed ? dv.getInt8(off) : dv.getUint8(off);
    },
    write(w, value, path) {
      checkInt(value, path, min, max);
      w.ensure(size);
      if (size === 4) signed ? w.dv.setInt32(w.pos, value, le) : w.dv.setUint32(w.pos, value, le);
      else if (size === 2) signed ? w.dv.setInt16(w.pos, value, le) : w.dv.setUint16(w.pos, value, le);
      else signed ? w.dv.setInt8(w.pos, value) : w.dv.setUint8(w.pos, value);
      w.pos += size;
    },
    toJson: (v) => byValue?.get(v) ?? v,
    fromJson: (j, path) => intFromJson(j, path, min, max, byName),
    format: (v) => (byValue?.has(v) ? `${byValue.get(v)}(${v})` : String(v)),
  };
}

export const u8 = intCodec({ kind: 'u8', size: 1, signed: false, be: false, policy: 'U8' });
export const u16 = intCodec({ kind: 'u16', size: 2, signed: false, be: false, policy: 'U16' });
export const u32 = intCodec({ kind: 'u32', size: 4, signed: false, be: false, policy: 'U32' });
export const s8 = intCodec({ kind: 's8', size: 1, signed: true, be: false, policy: 'S8' });
export const s16 = intCodec({ kind: 's16', size: 2, signed: true, be: false, policy: 'S16' });
export const s32 = intCodec({ kind: 's32', size: 4, signed: true, be: false, policy: 'S32' });
/** Big-endian (network byte order) integers, e.g. UDP ports in rtnetlink. */
export const be16 = intCodec({ kind: 'be16', size: 2, signed: false, be: true, policy: 'BE16' });
export const be32 = intCodec({ kind: 'be32', size: 4, signed: false, be: true, policy: 'BE32' });

/** Enum names with their C prefix: prefixed('OVS_VPORT_TYPE_', { NETDEV: 1 }) is { OVS_VPORT_TYPE_NETDEV: 1 }. */
export function prefixed(prefix: string, values: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** A u32 whose values have names (an enum); JSON and the formatter show the name. */
export function u32Enum(names: Readonly<Record<string, number>>): ValueCodec<number> {
  return intCodec({ kind: 'u32', size: 4, signed: false, be: false, policy: 'U32' }, names);
}
export function u8Enum(names: Readonly<Record<string, number>>): ValueCodec<number> {
  return intCodec({ kind: 'u8', size: 1, signed: false, be: false, policy: 'U8' }, names);
}

export function bigFromJson(json: unknown, path: string, signed: boolean): bigint {
  let v: bigint;
  try {
    if (typeof json === 'number' && Number.isInteger(json)) v = BigInt(json);
    else if (typeof json === 'string' && /^(0x[0-9a-f]+|-?\d+)$/i.test(json)) v = BigInt(json);
    else throw new Error();
  } catch {
    throw new NetlinkEncodeError(path, `expected a 64-bit integer, got ${JSON.stringify(json)}`);
  }
  const ok = signed ? BigInt.asIntN(64, v) === v : BigInt.asUintN(64, v) === v;
  if (!ok) throw new NetlinkEncodeError(path, `${v} does not fit in 64 bits`);
  return v;
}

export function bigToJson(v: bigint): JsonValue {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

function u64Codec(signed: boolean): ValueCodec<bigint> {
  const kind = signed ? 's64' : 'u64';
  return {
    kind,
    policy: { type: signed ? 'S64' : 'U64' },
    decode(_buf, dv, off, len) {
      expectLen(kind, off, len, 8);
      return signed ? dv.getBigInt64(off, true) : dv.getBigUint64(off, true);
    },
    write(w, value, path) {
      if (typeof value !== 'bigint') throw new NetlinkEncodeError(path, `expected a bigint, got ${typeof value}`);
      w.ensure(8);
      if (signed) w.dv.setBigInt64(w.pos, value, true);
      else w.dv.setBigUint64(w.pos, value, true);
      w.pos += 8;
    },
    toJson: bigToJson,
    fromJson: (j, p) => bigFromJson(j, p, signed),
    format: (v) => v.toString(),
  };
}
export const u64 = u64Codec(false);
export const s64 = u64Codec(true);

/** NLA_FLAG: present means true; the payload is empty. */
export const flag: ValueCodec<true> = {
  kind: 'flag',
  policy: { type: 'FLAG' },
  decode(_buf, _dv, off, len) {
    if (len !== 0) throw new NetlinkDecodeError(off - 4, `flag attribute has a ${len}-byte payload`);
    return true;
  },
  write(_w, value, path) {
    if (value !== true) throw new NetlinkEncodeError(path, 'a flag attribute is `true` when present');
  },
  toJson: () => true,
  fromJson(j, path) {
    if (j !== true) throw new NetlinkEncodeError(path, 'a flag attribute is `true` when present');
    return true;
  },
  format: () => 'true',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

// Interface, datapath and family names repeat endlessly: a small direct-mapped
// cache of short ASCII strings saves building the same string again.
const TEXT_CACHE_SIZE = 1024;
const textCache: Array<string | undefined> = new Array<string | undefined>(TEXT_CACHE_SIZE).fill(undefined);

/** Text of buf[off, end): ASCII through the cache, anything else as UTF-8. */
function decodeText(buf: Uint8Array, off: number, end: number, hash: number, ascii: boolean): string {
  const n = end - off;
  if (!ascii) {
    try {
      return utf8.decode(buf.subarray(off, end));
    } catch {
      throw new NetlinkDecodeError(off, 'string is not valid UTF-8');
    }
  }
  if (n > 32) return String.fromCharCode.apply(null, buf.subarray(off, end) as unknown as number[]);
  const slot = hash & (TEXT_CACHE_SIZE - 1);
  const cached = textCache[slot];
  if (cached !== undefined && cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === buf[off + i]) i++;
    if (i === n) return cached;
  }
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(buf[i]!);
  textCache[slot] = s;
  return s;
}

/**
 * A string attribute. `nul: true` (NLA_NUL_STRING) requires the terminating
 * NUL; otherwise (NLA_STRING) it is optional and its absence is remembered.
 * `maxLen` is the policy's length limit, excluding the NUL.
 */
export function string(opts: { nul?: boolean; maxLen?: number } = {}): ValueCodec<string> {
  const nul = opts.nul ?? false;
  return {
    kind: 'string',
    policy: { type: nul ? 'NUL_STRING' : 'STRING', ...(opts.maxLen !== undefined ? { len: opts.maxLen } : {}) },
    decode(buf, _dv, off, len, ctx) {
      const end = off + len;
      // One pass: find the NUL, check for ASCII, hash for the cache.
      let hash = 0;
      let ascii = true;
      let z = off;
      for (; z < end; z++) {
        const c = buf[z]!;
        if (c === 0) break;
        if (c >= 0x80) ascii = false;
        hash = (Math.imul(hash, 31) + c) | 0;
      }
      if (z === end) {
        if (nul) throw new NetlinkDecodeError(off - 4, 'string attribute without a NUL terminator');
        ctx.extra = ORDER_NO_NUL;
      } else if (z !== end - 1) {
        throw new NetlinkDecodeError(z, 'string attribute has bytes after its NUL terminator');
      }
      return decodeText(buf, off, z, hash, ascii);
    },
    write(w, value, path) {
      if (typeof value !== 'string') throw new NetlinkEncodeError(path, `expected a string, got ${typeof value}`);
      const n = value.length;
      w.ensure(n + 1);
      const buf = w.buf;
      let p = w.pos;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c === 0) throw new NetlinkEncodeError(path, 'string contains a NUL character');
        if (c >= 0x80) {
          // Not ASCII: encode the whole string as UTF-8 instead.
          const bytes = utf8enc.encode(value);
          w.ensure(bytes.length + 1);
          w.buf.set(bytes, w.pos);
          p = w.pos + bytes.length;
          break;
        }
        buf[p++] = c;
      }
      if (!w.noNul) w.buf[p++] = 0;
      w.pos = p;
    },
    toJson: (v) => v,
    fromJson(j, path) {
      if (typeof j !== 'string') throw new NetlinkEncodeError(path, `expected a string, got ${JSON.stringify(j)}`);
      return j;
    },
    format: (v) => JSON.stringify(v),
  };
}

/** Opaque bytes (NLA_BINARY, or NLA_UNSPEC with a minimum length). */
export function binary(opts: { policy?: NlaType; len?: number } = {}): ValueCodec<Uint8Array> {
  return {
    kind: 'binary',
    policy: { type: opts.policy ?? 'BINARY', ...(opts.len !== undefined ? { len: opts.len } : {}) },
    decode: (buf, _dv, off, len) => buf.slice(off, off + len),
    write(w, value, path) {
      if (!(value instanceof Uint8Array)) throw new NetlinkEncodeError(path, 'expected a Uint8Array');
      w.bytes(value);
    },
    toJson: (v) => hex(v),
    fromJson(j, path) {
      if (typeof j !== 'string') throw new NetlinkEncodeError(path, 'expected a hex string');
      return fromHex(j, path);
    },
    format: (v) => (v.length === 0 ? '<empty>' : hex(v)),
  };
}

/** An array of u32 packed back to back (OVS_VPORT_ATTR_UPCALL_PID, OVS_DP_ATTR_PER_CPU_PIDS). */
export const u32Array: ValueCodec<number[]> = {
  kind: 'u32[]',
  policy: { type: 'UNSPEC', len: 4 },
  decode(_buf, dv, off, len) {
    if (len % 4 !== 0) throw new NetlinkDecodeError(off - 4, `u32 array payload of ${len} bytes is not a multiple of 4`);
    const out = new Array<number>(len >> 2);
    for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(off + i * 4, true);
    return out;
  },
  write(w, value, path) {
    if (!Array.isArray(value)) throw new NetlinkEncodeError(path, 'expected an array of u32');
    w.ensure(value.length * 4);
    for (let i = 0; i < value.length; i++) {
      const x = value[i];
      if (typeof x !== 'number' || x >>> 0 !== x) checkInt(x, `${path}[${i}]`, 0, 0xffffffff);
      w.dv.setUint32(w.pos, x as number, true);
      w.pos += 4;
    }
  },
  toJson: (v) => v,
  fromJson(j, path) {
    if (!Array.isArray(j)) throw new NetlinkEncodeError(path, 'expected an array of u32');
    return j.map((x, i) => intFromJson(x, `${path}[${i}]`, 0, 0xffffffff));
  },
  format: (v) => `[${v.join(', ')}]`,
};

/** Codecs made by nested(): the compiled fast paths call their set directly. */
export const plainNested = new WeakSet<ValueCodec<unknown>>();

/** Nested attributes of another set (NLA_NESTED). */
export function nested<S extends AttrSet>(set: S | (() => S)): ValueCodec<AttrsOf<S>> {
  const get = typeof set === 'function' ? set : () => set;
  let cached: S | undefined;
  const target = () => (cached ??= get());
  const codec: ValueCodec<AttrsOf<S>> = {
    kind: 'nested',
    get policy(): Policy {
      return { type: 'NESTED', nested: target() };
    },
    decode: (buf, dv, off, len, ctx) => target().decode(buf, dv, off, off + len, ctx) as AttrsOf<S>,
    write(w, value, path) {
      if (value === null || typeof value !== 'object') throw new NetlinkEncodeError(path, 'expected nested attributes');
      target().write(w, value, path);
    },
    toJson: (v) => target().toJson(v),
    fromJson: (j, p) => target().fromJson(j, p) as AttrsOf<S>,
    format: () => '{...}',
  };
  plainNested.add(codec as ValueCodec<unknown>);
  return codec;
}

/**
 * NLA_NESTED_ARRAY: a nest whose members are numbered 1..n and each hold the
 * element set (CTRL_ATTR_OPS, CTRL_ATTR_MCAST_GROUPS).
 */
export function nestedArray<S extends AttrSet>(set: S): ValueCodec<Array<AttrsOf<S>>> {
  return {
    kind: 'nested[]',
    policy: { type: 'NESTED_ARRAY', nested: set },
    decode(buf, dv, off, len, ctx) {
      const end = off + len;
      const out: Array<AttrsOf<S>> = [];
      while (off < end) {
        if (end - off < 4) throw new NetlinkDecodeError(off, 'truncated array element header');
        const l = dv.getUint16(off, true);
        const t = dv.getUint16(off + 2, true);
        if (l < 4 || l > end - off) throw new NetlinkDecodeError(off, `array element length ${l} is invalid (${end - off} bytes left)`);
        if (t !== out.length + 1) throw new NetlinkDecodeError(off, `array element numbered ${t}, expected ${out.length + 1}`);
        out.push(set.decode(buf, dv, off + 4, off + l, ctx) as AttrsOf<S>);
        const next = off + align4(l);
        if (next > end || !isZero(buf, off + l, next)) throw new NetlinkDecodeError(off + l, 'array element padding is missing or non-zero');
        off = next;
      }
      return out;
    },
    write(w, value, path) {
      if (!Array.isArray(value)) throw new NetlinkEncodeError(path, 'expected an array');
      value.forEach((el, i) => {
        const start = w.pos;
        w.ensure(4);
        w.pos += 4;
        set.write(w, el, `${path}[${i}]`);
        w.dv.setUint16(start, w.pos - start, true);
        w.dv.setUint16(start + 2, i + 1, true);
        w.pad();
      });
    },
    toJson: (v) => v.map((el) => set.toJson(el)),
    fromJson(j, path) {
      if (!Array.isArray(j)) throw new NetlinkEncodeError(path, 'expected an array');
      return j.map((el, i) => set.fromJson(el, `${path}[${i}]`) as AttrsOf<S>);
    },
    format: (v) => `[${v.length} elements]`,
  };
}
