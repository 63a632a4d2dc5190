/**
 * Netlink attributes (struct nlattr): typed attribute sets declared once, used
 * to decode, encode, validate (policy.ts) and print.
 *
 * A decoded attribute set is a plain object keyed by camelCase attribute keys
 * (`portNo`, `name`, ...). To re-encode it byte for byte, the decoder records
 * anything that differs from the set's canonical layout (attribute order, the
 * NLA_F_* flag bits, strings without a NUL, a missing final padding) in a
 * hidden, non-enumerable `ATTR_ORDER` array. Objects built by hand have none
 * and are encoded in the set's declaration order, which follows the order in
 * which the kernel fills its replies.
 */
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, align4 } from './netlink.js';

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

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * An attribute kept as raw bytes: one the set does not know, a repeat of one
 * already decoded, or (when decoding leniently) one whose payload does not
 * fit its type, with the reason in `invalid`.
 */
export interface RawAttr {
  type: number;
  /** NLA_F_NESTED / NLA_F_NET_BYTEORDER bits as found. */
  flags: number;
  data: Uint8Array;
  invalid?: string;
}

/** Growable output buffer shared by all encoders. */
export class Writer {
  buf: Uint8Array;
  dv: DataView;
  pos = 0;
  constructor(size = 4096) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }
  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  /** Zero the padding up to the next 4-byte boundary. */
  pad(): void {
    const end = align4(this.pos);
    this.ensure(end - this.pos);
    while (this.pos < end) this.buf[this.pos++] = 0;
  }
  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
  /** A copy of everything written from `start`. */
  take(start = 0): Uint8Array {
    return this.buf.slice(start, this.pos);
  }
}

/**
 * A writer whose results are views into large slabs that are never written
 * twice: handing out a view costs no copy and no new backing store, which is
 * most of the cost of encoding a small message (the idea of Node's Buffer pool).
 */
export class SlabWriter extends Writer {
  constructor(private readonly slabSize = 1 << 16) {
    super(slabSize);
  }
  /** Call before writing a message: starts a fresh slab when this one is nearly full. */
  begin(): number {
    this.pos = (this.pos + 7) & ~7;
    if (this.pos > this.slabSize - 4096) {
      this.buf = new Uint8Array(this.slabSize);
      this.dv = new DataView(this.buf.buffer);
      this.pos = 0;
    }
    return this.pos;
  }
  /** The bytes written since `start`, as a view that stays valid. */
  view(start: number): Uint8Array {
    return new Uint8Array(this.buf.buffer, start, this.pos - start);
  }
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
  decode(buf: Uint8Array, dv: DataView, off: number, len: number): T;
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

// Extra bits kept in ATTR_ORDER entries beside the 16-bit nla_type.
const ORDER_NO_NUL = 0x10000; // string attribute without a NUL terminator
const ORDER_NO_PAD = 0x20000; // last attribute whose padding the message omits
const ORDER_TYPE_BITS = 0xffff;
// Raw (unknown) attributes appear in ATTR_ORDER as -(index + 1), minus this when unpadded.
const RAW_NO_PAD = 0x40000000;

/**
 * Codec state shared with the compiled fast paths: `extra` is set by a
 * decoder when the value needs an ORDER_* bit to re-encode exactly.
 */
const codecState = { extra: 0 };
/** Set by a writer to ask the attribute writer to skip the terminating NUL. */
let encodeNoNul = false;
/** While true, payloads that do not fit their type are kept raw instead of failing the decode. */
let lenient = false;

/** Run `fn` with lenient attribute decoding (see RawAttr.invalid). */
export function withLenientDecoding<T>(fn: () => T): T {
  const before = lenient;
  lenient = true;
  try {
    return fn();
  } finally {
    lenient = before;
  }
}

/** Hidden key of a decoded set's layout record. */
export const ATTR_ORDER: unique symbol = Symbol('ATTR_ORDER');

export interface AttrDef<T = unknown, N extends string = string, Ty extends number = number> {
  readonly type: Ty;
  /** The uapi constant name, e.g. OVS_VPORT_ATTR_PORT_NO. */
  readonly name: N;
  readonly codec: ValueCodec<T>;
  readonly policy: Policy;
  /** NLA_F_* bits the attribute carries when this codec writes it (nla_nest_start sets NLA_F_NESTED). */
  readonly nlaFlags: number;
}

/** Declare one attribute: its number, uapi name and value codec (policy defaults to the codec's). */
export function attr<T, N extends string, Ty extends number>(
  type: Ty,
  name: N,
  codec: ValueCodec<T>,
  policy?: Partial<Policy>,
  nlaFlags = 0,
): AttrDef<T, N, Ty> {
  let merged: Policy | undefined;
  // Lazy: a nested codec may point at a set that is still being declared (OVS_KEY_ATTR_ENCAP).
  return {
    type,
    name,
    codec,
    nlaFlags,
    get policy(): Policy {
      return (merged ??= { ...codec.policy, ...policy });
    },
  };
}

type DefsRecord = Record<string, AttrDef<unknown>>;
type ValueOfDef<D> = D extends AttrDef<infer T> ? T : never;

/** The TypeScript shape of a decoded attribute set. */
export type AttrValues<D extends DefsRecord> = { [K in keyof D]?: ValueOfDef<D[K]> } & {
  unknown?: RawAttr[];
  [ATTR_ORDER]?: number[];
};
export type AttrsOf<S> = S extends AttrSet<infer D> ? AttrValues<D> : never;

interface Entry {
  readonly key: string;
  readonly def: AttrDef<unknown>;
  /** Position in canonical (declaration) order. */
  readonly pos: number;
  /** def.codec's decode and write, hoisted so the hot loops load them from one object shape. */
  readonly decode: (buf: Uint8Array, dv: DataView, off: number, len: number) => unknown;
  readonly write: (w: Writer, value: unknown, path: string) => void;
}

export class AttrSet<D extends DefsRecord = DefsRecord> {
  readonly entries: readonly Entry[];
  readonly byType: ReadonlyArray<Entry | undefined>;
  readonly byName: ReadonlyMap<string, Entry>;
  readonly maxType: number;
  private policyTable: ReadonlyArray<Policy | undefined> | undefined;
  /** Policy table for validate(), indexed by attribute type. */
  get policies(): ReadonlyArray<Policy | undefined> {
    return (this.policyTable ??= this.byType.map((e) => e?.def.policy));
  }

  constructor(
    /** The C enum name, e.g. ovs_vport_attr. */
    readonly name: string,
    readonly defs: D,
    opts: { maxType?: number; namePrefix?: string } = {},
  ) {
    const entries: Entry[] = [];
    const byType: Array<Entry | undefined> = [];
    const byName = new Map<string, Entry>();
    let max = 0;
    for (const [key, def] of Object.entries(defs)) {
      const codec = def.codec;
      const entry: Entry = {
        key,
        def,
        pos: entries.length,
        decode: (buf, dv, off, len) => codec.decode(buf, dv, off, len),
        write: (w, value, path) => codec.write(w, value, path),
      };
      entries.push(entry);
      if (byType[def.type]) throw new Error(`${name}: attribute type ${def.type} declared twice`);
      byType[def.type] = entry;
      byName.set(def.name, entry);
      if (def.type > max) max = def.type;
    }
    for (let i = 0; i <= max; i++) if (byType[i] === undefined) byType[i] = undefined;
    this.entries = entries;
    this.byType = byType;
    this.byName = byName;
    this.maxType = opts.maxType ?? max;
    this.namePrefix = opts.namePrefix ?? commonPrefix(entries.map((e) => e.def.name));
  }

  /** Prefix used to name unknown attributes in JSON, e.g. OVS_VPORT_ATTR_. */
  readonly namePrefix: string;

  /** The attribute number of a declared key: `iflaAttrs.type('mtu')` is IFLA_MTU (4). */
  type<K extends keyof D & string>(key: K): D[K]['type'] {
    return this.defs[key]!.type;
  }

  private fastDecode: FastDecoder | undefined;
  private fastWrite: FastWriter | undefined;

  /** Decode the attributes in buf[start, end). Throws NetlinkDecodeError. */
  decode(buf: Uint8Array, dv: DataView, start: number, end: number): AttrValues<D> {
    const fast = (this.fastDecode ??= compileDecoder(this.entries));
    let r: ReturnType<FastDecoder> = SLOW;
    try {
      r = fast(buf, dv, start, end);
    } catch {
      // The general decoder below finds and reports the problem.
    }
    if (r === SLOW) r = this.decodeGeneral(buf, dv, start, end);
    // What the last inner attribute reported is no concern of the attribute holding this set.
    codecState.extra = 0;
    return r as AttrValues<D>;
  }

  /** The general decoder, for every layout (order, flags, repeats, unknown types, lenient mode). */
  private decodeGeneral(buf: Uint8Array, dv: DataView, start: number, end: number): AttrValues<D> {
    const out: Record<string, unknown> = {};
    let off = start;
    let order: number[] | undefined;
    let lastPos = -1;
    let raw: RawAttr[] | undefined;
    const byType = this.byType;
    while (off < end) {
      if (end - off < 4) throw new NetlinkDecodeError(off, `truncated attribute header (${end - off} bytes left in ${this.name})`);
      const nlaLen = dv.getUint16(off, true);
      const rawType = dv.getUint16(off + 2, true);
      if (nlaLen < 4) throw new NetlinkDecodeError(off, `attribute length ${nlaLen} is shorter than its 4-byte header`);
      if (nlaLen > end - off) {
        throw new NetlinkDecodeError(off, `attribute length ${nlaLen} runs past its parent (${end - off} bytes left in ${this.name})`);
      }
      const type = rawType & NLA_TYPE_MASK;
      const entry = byType[type];
      let next = off + align4(nlaLen);
      let extra = 0;
      if (next > end) {
        next = end;
        extra = ORDER_NO_PAD;
      } else if (!isZero(buf, off + nlaLen, next)) {
        throw new NetlinkDecodeError(off + nlaLen, 'non-zero attribute padding');
      }
      let invalid: string | undefined;
      let value: unknown;
      if (entry !== undefined) {
        codecState.extra = 0;
        try {
          value = entry.decode(buf, dv, off + 4, nlaLen - 4);
        } catch (err) {
          if (!(err instanceof NetlinkDecodeError)) throw err;
          const reason = err.reason.startsWith(entry.def.name) ? err.reason : `${entry.def.name}: ${err.reason}`;
          if (!lenient) throw new NetlinkDecodeError(err.offset, reason);
          invalid = reason;
        }
      }
      if (value !== undefined && out[entry!.key] !== undefined) {
        // A repeat: nla_parse() keeps the last one, and so does this decoder; the earlier one is kept raw.
        raw ??= [];
        order ??= this.backfillOrder(out, undefined);
        const prev = lastValidOccurrence(entry!.def, buf, dv, start, off, type);
        raw.push({ type, flags: dv.getUint16(prev + 2, true) & ~NLA_TYPE_MASK, data: buf.slice(prev + 4, prev + dv.getUint16(prev, true)) });
        order[order.findIndex((o) => o >= 0 && (o & NLA_TYPE_MASK) === type)] = -raw.length;
        out[entry!.key] = undefined;
      }
      if (value !== undefined) {
        out[entry!.key] = value;
        extra |= codecState.extra;
        if (order === undefined && (entry!.pos <= lastPos || rawType !== (type | entry!.def.nlaFlags) || extra !== 0)) {
          order = this.backfillOrder(out, entry!.key);
        }
        lastPos = entry!.pos;
        if (order !== undefined) order.push(rawType | extra);
      } else {
        raw ??= [];
        const r: RawAttr = { type, flags: rawType & ~NLA_TYPE_MASK, data: buf.slice(off + 4, off + nlaLen) };
        if (invalid !== undefined) r.invalid = invalid;
        raw.push(r);
        order ??= this.backfillOrder(out, undefined);
        order.push(extra & ORDER_NO_PAD ? -raw.length - RAW_NO_PAD : -raw.length);
      }
      off = next;
    }
    if (raw !== undefined) out.unknown = raw;
    if (order !== undefined) Object.defineProperty(out, ATTR_ORDER, { value: order, enumerable: false, writable: true, configurable: true });
    return out as AttrValues<D>;
  }

  /** The order entries of the attributes decoded so far, which were canonical. */
  private backfillOrder(out: Record<string, unknown>, except: string | undefined): number[] {
    const order: number[] = [];
    for (const e of this.entries) if (e.key !== except && out[e.key] !== undefined) order.push(e.def.type | e.def.nlaFlags);
    return order;
  }

  /** Append the attributes of `values` to the writer. */
  write(w: Writer, values: AttrValues<D>, path = this.name): void {
    if (values[ATTR_ORDER] === undefined && values.unknown === undefined) {
      (this.fastWrite ??= compileWriter(this.entries))(w, values as Record<string, unknown>);
      return;
    }
    this.writeGeneral(w, values, path);
  }

  private writeGeneral(w: Writer, values: AttrValues<D>, path: string): void {
    const obj = values as Record<string, unknown>;
    const order = values[ATTR_ORDER];
    if (order === undefined) {
      for (const e of this.entries) {
        const v = obj[e.key];
        if (v !== undefined) this.writeOne(w, e, v, e.def.type | e.def.nlaFlags, 0, path);
      }
      if (values.unknown) for (const r of values.unknown) writeRaw(w, r, 0);
      return;
    }
    const done = new Set<string>();
    let rawUsed = 0;
    for (const o of order) {
      if (o < 0) {
        const noPad = o <= -RAW_NO_PAD;
        const idx = (noPad ? -(o + RAW_NO_PAD) : -o) - 1;
        const r = values.unknown?.[idx];
        if (r !== undefined) {
          writeRaw(w, r, noPad ? ORDER_NO_PAD : 0);
          rawUsed = Math.max(rawUsed, idx + 1);
        }
        continue;
      }
      const e = this.byType[o & NLA_TYPE_MASK];
      if (e === undefined || done.has(e.key)) continue;
      const v = obj[e.key];
      if (v === undefined) continue;
      done.add(e.key);
      this.writeOne(w, e, v, o & ORDER_TYPE_BITS, o & ~ORDER_TYPE_BITS, path);
    }
    for (const e of this.entries) {
      const v = obj[e.key];
      if (v !== undefined && !done.has(e.key)) this.writeOne(w, e, v, e.def.type | e.def.nlaFlags, 0, path);
    }
    if (values.unknown) for (let i = rawUsed; i < values.unknown.length; i++) writeRaw(w, values.unknown[i]!, 0);
  }

  private writeOne(w: Writer, e: Entry, v: unknown, nlaType: number, extra: number, path: string): void {
    const start = w.pos;
    w.ensure(4);
    w.pos += 4;
    encodeNoNul = (extra & ORDER_NO_NUL) !== 0;
    e.write(w, v, e.def.name);
    encodeNoNul = false;
    const len = w.pos - start;
    if (len > 0xffff) throw new NetlinkEncodeError(`${path}: ${e.def.name}`, `attribute too long (${len} bytes)`);
    w.dv.setUint16(start, len, true);
    w.dv.setUint16(start + 2, nlaType, true);
    if ((extra & ORDER_NO_PAD) === 0) w.pad();
  }

  /** JSON form keyed by uapi names, in wire order. */
  toJson(values: AttrValues<D>): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    forEachAttr(this, values, (name, def, value, flags, raw) => {
      let key = name;
      for (let n = 2; key in out; n++) key = `${name}#${n}`;
      let json: JsonValue;
      if (raw === undefined) json = def!.codec.toJson(value);
      else if (raw.invalid !== undefined) json = { hex: hex(raw.data), invalid: raw.invalid };
      else if (this.byType[raw.type] !== undefined) json = { hex: hex(raw.data) };
      else json = hex(raw.data);
      // Flags are shown only where they differ from what this codec writes by default.
      if (flags !== (raw === undefined ? def!.nlaFlags : 0)) json = withFlags(json, flags);
      out[key] = json;
    });
    return out;
  }

  /** Inverse of toJson(): the key order of the JSON object becomes the wire order. */
  fromJson(json: unknown, path = this.name): AttrValues<D> {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new NetlinkEncodeError(path, `expected an object of ${this.name} attributes`);
    }
    const out: Record<string, unknown> = {};
    const order: number[] = [];
    const raw: RawAttr[] = [];
    for (const [rawKey, rawValue] of Object.entries(json)) {
      const name = rawKey.replace(/#\d+$/, '');
      const { value, flags, noPad } = splitFlags(rawValue);
      const entry = this.byName.get(name);
      const p = `${path}.${rawKey}`;
      const rawJson = isRawJson(value) ? value : undefined;
      if (entry !== undefined && out[entry.key] === undefined && !rawJson) {
        out[entry.key] = entry.def.codec.fromJson(value, p);
        order.push(entry.def.type | (flags ?? entry.def.nlaFlags) | (noPad ? ORDER_NO_PAD : 0) | (isNoNulJson(rawValue) ? ORDER_NO_NUL : 0));
      } else {
        const type = entry?.def.type ?? parseUnknownName(name, this.namePrefix, p);
        const data = rawJson ? rawJson.hex : value;
        if (typeof data !== 'string') throw new NetlinkEncodeError(p, 'a raw attribute is a hex string');
        const r: RawAttr = { type, flags: flags ?? 0, data: fromHex(data, p) };
        if (rawJson?.invalid !== undefined) r.invalid = rawJson.invalid;
        raw.push(r);
        order.push(noPad ? -raw.length - RAW_NO_PAD : -raw.length);
      }
    }
    if (raw.length) out.unknown = raw;
    Object.defineProperty(out, ATTR_ORDER, { value: order, enumerable: false, writable: true, configurable: true });
    return out as AttrValues<D>;
  }
}

// ---------------------------------------------------------------------------
// Compiled fast paths. A decoded set is a plain object whose keys depend on
// the set; stores and loads through a variable key (`out[entry.key]`) are
// megamorphic and dominate the cost of a small message. So, once per set, we
// generate straight-line code with constant keys for the common layout
// (known attributes, each once, in declaration order, no flag bits, zero
// padding). Anything else returns SLOW and the general code handles it.

const SLOW: unique symbol = Symbol('slow path');
type FastDecoder = (buf: Uint8Array, dv: DataView, start: number, end: number) => Record<string, unknown> | typeof SLOW;
type FastWriter = (w: Writer, values: Record<string, unknown>) => void;

function compileDecoder(entries: readonly Entry[]): FastDecoder {
  const nestedSets = entries.map((e) => (plainNested.has(e.def.codec) ? e.def.codec.policy.nested : undefined));
  const cases = entries
    .map((e, i) => {
      const key = JSON.stringify(e.key);
      const int = e.def.codec.int;
      let read: string;
      if (int) {
        read = `if (len !== ${4 + int.size}) return SLOW;
        o[${key}] = dv.get${int.method}(off + 4${int.size > 1 ? `, ${int.le}` : ''});`;
      } else if (nestedSets[i]) {
        read = `o[${key}] = n${i}.decode(buf, dv, off + 4, off + len);`;
      } else {
        read = `state.extra = 0;
        o[${key}] = c${i}.decode(buf, dv, off + 4, len - 4);
        if (state.extra !== 0) return SLOW;`;
      }
      return `      case ${e.def.type | e.def.nlaFlags}:
        if (last >= ${i}) return SLOW;
        last = ${i};
        ${read}
        break;`;
    })
    .join('\n');
  const body = `return function fastDecode(buf, dv, start, end) {
    const o = {};
    let last = -1;
    let off = start;
    while (off < end) {
      if (end - off < 4) return SLOW;
      const len = dv.getUint16(off, true);
      if (len < 4 || len > end - off) return SLOW;
      const next = off + ((len + 3) & ~3);
      if (next > end) return SLOW;
      for (let i = off + len; i < next; i++) if (buf[i] !== 0) return SLOW;
      switch (dv.getUint16(off + 2, true)) {
${cases}
        default:
          return SLOW;
      }
      off = next;
    }
    return o;
  };`;
  return instantiate(body, entries, nestedSets, { state: codecState, SLOW }) as FastDecoder;
}

function compileWriter(entries: readonly Entry[]): FastWriter {
  const nestedSets = entries.map((e) => (plainNested.has(e.def.codec) ? e.def.codec.policy.nested : undefined));
  const parts = entries.map((e, i) => {
    const int = e.def.codec.int;
    if (int) {
      const padded = (4 + int.size + 3) & ~3;
      const zero = Array.from({ length: padded - 4 - int.size }, (_, k) => `w.buf[s + ${4 + int.size + k}] = 0;`).join(' ');
      // Nested sets are written by the set itself, skipping the codec's wrapper.
    const call = nestedSets[i] ? `if (x === null || typeof x !== 'object') notNested(${JSON.stringify(e.def.name)});
      n${i}.write(w, x, ${JSON.stringify(e.def.name)});` : `c${i}.write(w, x, ${JSON.stringify(e.def.name)});`;
    return `    x = v[${JSON.stringify(e.key)}];
    if (x !== undefined) {
      if (typeof x !== 'number' || !(x >= ${int.min} && x <= ${int.max}) || Math.floor(x) !== x) badInt(${JSON.stringify(e.def.name)}, x, ${int.min}, ${int.max});
      w.ensure(${padded});
      s = w.pos;
      w.dv.setUint16(s, ${4 + int.size}, true);
      w.dv.setUint16(s + 2, ${e.def.type | e.def.nlaFlags}, true);
      w.dv.set${int.method}(s + 4, x${int.size > 1 ? `, ${int.le}` : ''});
      ${zero}
      w.pos = s + ${padded};
    }`;
    }
    // Nested sets are written by the set itself, skipping the codec's wrapper.
    const call = nestedSets[i] ? `if (x === null || typeof x !== 'object') notNested(${JSON.stringify(e.def.name)});
      n${i}.write(w, x, ${JSON.stringify(e.def.name)});` : `c${i}.write(w, x, ${JSON.stringify(e.def.name)});`;
    return `    x = v[${JSON.stringify(e.key)}];
    if (x !== undefined) {
      s = w.pos;
      w.ensure(4);
      w.pos = s + 4;
      ${call}
      l = w.pos - s;
      if (l > 0xffff) tooLong(${JSON.stringify(e.def.name)}, l);
      w.dv.setUint16(s, l, true);
      w.dv.setUint16(s + 2, ${e.def.type | e.def.nlaFlags}, true);
      w.pad();
    }`;
  });
  const body = `return function fastWrite(w, v) {
    let x, s, l;
${parts.join('\n')}
  };`;
  const tooLong = (name: string, len: number) => {
    throw new NetlinkEncodeError(name, `attribute too long (${len} bytes)`);
  };
  const badInt = (name: string, x: unknown, min: number, max: number) => checkInt(x, name, min, max);
  const notNested = (name: string) => {
    throw new NetlinkEncodeError(name, 'expected nested attributes');
  };
  return instantiate(body, entries, nestedSets, { tooLong, badInt, notNested }) as FastWriter;
}

/**
 * Build a compiled function. Each codec (c0, c1...) and nested set (n0...)
 * is a parameter of its own rather than an array element, so that every
 * call site in the generated code sees one receiver and stays monomorphic.
 */
function instantiate(body: string, entries: readonly Entry[], nestedSets: ReadonlyArray<AttrSet | undefined>, extra: Record<string, unknown>): unknown {
  const names = [...entries.map((_, i) => `c${i}`), ...entries.map((_, i) => `n${i}`), ...Object.keys(extra)];
  const values = [...entries.map((e) => e.def.codec), ...nestedSets, ...Object.values(extra)];
  return new Function(...names, body)(...values);
}

/** Offset of the last attribute of `type` in buf[start, end) whose payload decodes. */
function lastValidOccurrence(def: AttrDef<unknown>, buf: Uint8Array, dv: DataView, start: number, end: number, type: number): number {
  let found = -1;
  for (let off = start; off < end; off += align4(dv.getUint16(off, true))) {
    if ((dv.getUint16(off + 2, true) & NLA_TYPE_MASK) !== type) continue;
    try {
      def.codec.decode(buf, dv, off + 4, dv.getUint16(off, true) - 4);
      found = off;
    } catch {
      // kept raw already
    }
  }
  return found;
}

/**
 * The attribute numbers of a set as a uapi-style table, keyed by the uapi
 * names without `prefix`: `attrTypes(iflaAttrs, 'IFLA_')` is
 * `{ IF_NETNSID: 46, IFNAME: 3, MTU: 4, ... }`, typed so that only declared
 * names compile. Attributes whose names do not start with `prefix` are left out.
 */
export function attrTypes<D extends DefsRecord, P extends string>(set: AttrSet<D>, prefix: P): AttrTypes<D, P> {
  const out: Record<string, number> = {};
  for (const e of set.entries) if (e.def.name.startsWith(prefix)) out[e.def.name.slice(prefix.length)] = e.def.type;
  return Object.freeze(out) as AttrTypes<D, P>;
}

/** What attrTypes() returns for a set's definitions and a name prefix. */
export type AttrTypes<D extends DefsRecord, P extends string> = {
  readonly [K in keyof D as D[K]['name'] extends `${P}${infer R}` ? R : never]: D[K]['type'];
};

/** Visit attributes in wire order: name, definition (undefined for raw ones), value, NLA_F flags. */
export function forEachAttr<D extends DefsRecord>(
  set: AttrSet<D>,
  values: AttrValues<D>,
  fn: (name: string, def: AttrDef<unknown> | undefined, value: unknown, flags: number, raw: RawAttr | undefined) => void,
): void {
  const obj = values as Record<string, unknown>;
  const order = values[ATTR_ORDER];
  const rawName = (r: RawAttr) => set.byType[r.type]?.def.name ?? `${set.namePrefix}${r.type}`;
  const done = new Set<string>();
  let rawUsed = 0;
  if (order !== undefined) {
    for (const o of order) {
      if (o < 0) {
        const idx = (o <= -RAW_NO_PAD ? -(o + RAW_NO_PAD) : -o) - 1;
        const r = values.unknown?.[idx];
        if (r) {
          fn(rawName(r), undefined, r.data, r.flags | (o <= -RAW_NO_PAD ? ORDER_NO_PAD : 0), r);
          rawUsed = Math.max(rawUsed, idx + 1);
        }
        continue;
      }
      const e = set.byType[o & NLA_TYPE_MASK];
      if (!e || done.has(e.key) || obj[e.key] === undefined) continue;
      done.add(e.key);
      fn(e.def.name, e.def, obj[e.key], (o & ~NLA_TYPE_MASK & ORDER_TYPE_BITS) | (o & ~ORDER_TYPE_BITS), undefined);
    }
  }
  for (const e of set.entries) {
    if (!done.has(e.key) && obj[e.key] !== undefined) fn(e.def.name, e.def, obj[e.key], e.def.nlaFlags, undefined);
  }
  if (values.unknown) for (let i = rawUsed; i < values.unknown.length; i++) fn(rawName(values.unknown[i]!), undefined, values.unknown[i]!.data, values.unknown[i]!.flags, values.unknown[i]);
}

function writeRaw(w: Writer, r: RawAttr, extra: number): void {
  const len = 4 + r.data.length;
  if (len > 0xffff) throw new NetlinkEncodeError('', `raw attribute ${r.type} too long`);
  w.ensure(len);
  w.dv.setUint16(w.pos, len, true);
  w.dv.setUint16(w.pos + 2, r.type | r.flags, true);
  w.pos += 4;
  w.bytes(r.data);
  if ((extra & ORDER_NO_PAD) === 0) w.pad();
}

function isZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

function commonPrefix(names: string[]): string {
  if (names.length === 0) return '';
  let p = names[0]!;
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  const cut = p.lastIndexOf('_');
  return p.slice(0, cut + 1);
}

function parseUnknownName(name: string, prefix: string, path: string): number {
  const m = /(\d+)$/.exec(name);
  if (!m || (prefix && !name.startsWith(prefix) && !/^ATTR_\d+$/.test(name))) {
    throw new NetlinkEncodeError(path, `unknown attribute ${JSON.stringify(name)}`);
  }
  const type = Number(m[1]);
  if (type > NLA_TYPE_MASK) throw new NetlinkEncodeError(path, `attribute type ${type} does not fit in 14 bits`);
  return type;
}

// JSON flags: a value whose attribute header carries NLA_F_* bits, a string
// without a NUL, or a missing final padding is wrapped as
// {"value": ..., "flags": ["NLA_F_NESTED"], ...}.
function withFlags(json: JsonValue, flags: number): JsonValue {
  const names: string[] = [];
  if (flags & NLA_F_NESTED) names.push('NLA_F_NESTED');
  if (flags & NLA_F_NET_BYTEORDER) names.push('NLA_F_NET_BYTEORDER');
  if (flags & ORDER_NO_NUL) names.push('NO_NUL');
  if (flags & ORDER_NO_PAD) names.push('NO_PAD');
  return { value: json, flags: names };
}

function isFlagWrapper(v: unknown): v is { value: unknown; flags: string[] } {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.keys(v).length === 2 &&
    'value' in v &&
    'flags' in v &&
    Array.isArray((v as { flags: unknown }).flags)
  );
}

function splitFlags(v: unknown): { value: unknown; flags: number | undefined; noPad: boolean } {
  if (!isFlagWrapper(v)) return { value: v, flags: undefined, noPad: false };
  let flags = 0;
  for (const f of v.flags) {
    if (f === 'NLA_F_NESTED') flags |= NLA_F_NESTED;
    else if (f === 'NLA_F_NET_BYTEORDER') flags |= NLA_F_NET_BYTEORDER;
  }
  return { value: v.value, flags, noPad: v.flags.includes('NO_PAD') };
}

/**
 * A raw attribute of a known type: {"hex": ...}, plus "invalid": reason when
 * its payload did not fit the type (lenient decoding).
 */
function isRawJson(v: unknown): v is { hex: string; invalid?: string } {
  if (v === null || typeof v !== 'object' || typeof (v as { hex?: unknown }).hex !== 'string') return false;
  const keys = Object.keys(v);
  return keys.length === 1 || (keys.length === 2 && typeof (v as { invalid?: unknown }).invalid === 'string');
}

function isNoNulJson(v: unknown): boolean {
  return isFlagWrapper(v) && v.flags.includes('NO_NUL');
}

export function hex(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += (data[i]! < 16 ? '0' : '') + data[i]!.toString(16);
  return s;
}

export function fromHex(s: string, path = ''): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new NetlinkEncodeError(path, `not a hex string: ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

// ---------------------------------------------------------------------------
// Value codecs.

function expectLen(name: string, off: number, len: number, want: number): void {
  if (len !== want) throw new NetlinkDecodeError(off - 4, `${name} payload must be ${want} bytes, got ${len}`);
}

function intFromJson(json: unknown, path: string, min: number, max: number, names?: ReadonlyMap<string, number>): number {
  let v = json;
  if (typeof v === 'string' && names?.has(v)) return names.get(v)!;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|-?\d+)$/i.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new NetlinkEncodeError(path, `expected an integer, got ${JSON.stringify(json)}`);
  if (v < min || v > max) throw new NetlinkEncodeError(path, `${v} is out of range [${min}, ${max}]`);
  return v;
}

function checkInt(value: unknown, path: string, min: number, max: number): number {
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

function bigFromJson(json: unknown, path: string, signed: boolean): bigint {
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

function bigToJson(v: bigint): JsonValue {
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
    decode(buf, _dv, off, len) {
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
        codecState.extra = ORDER_NO_NUL;
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
      if (!encodeNoNul) w.buf[p++] = 0;
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

/** Fields of a fixed C struct: all little-endian (host order) u8..u64 or be16/be32 or byte arrays. */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'be16' | 'be32' | `bytes${number}`;
type FieldValue<F extends FieldType> = F extends 'u64' ? bigint : F extends `bytes${number}` ? Uint8Array : number;
export type StructValue<F extends Record<string, FieldType>> = { [K in keyof F]: FieldValue<F[K]> };

function fieldSize(t: FieldType): number {
  switch (t) {
    case 'u8':
      return 1;
    case 'u16':
    case 'be16':
      return 2;
    case 'u32':
    case 's32':
    case 'be32':
      return 4;
    case 'u64':
      return 8;
    default:
      return Number(t.slice(5));
  }
}

/** A fixed-size C struct such as struct ovs_dp_stats or struct ifinfomsg. */
export class StructCodec<F extends Record<string, FieldType>> implements ValueCodec<StructValue<F>> {
  readonly kind: string;
  readonly policy: Policy;
  readonly size: number;
  readonly fields: ReadonlyArray<{ readonly key: string; readonly type: FieldType; readonly off: number }>;
  constructor(
    readonly cName: string,
    fields: F,
  ) {
    this.kind = cName;
    let off = 0;
    const list: Array<{ key: string; type: FieldType; off: number }> = [];
    for (const [key, type] of Object.entries(fields)) {
      list.push({ key, type, off });
      off += fieldSize(type);
    }
    this.fields = list;
    this.size = off;
    this.policy = { type: 'UNSPEC', len: off };
  }
  decode(buf: Uint8Array, dv: DataView, off: number, len: number): StructValue<F> {
    if (len !== this.size) throw new NetlinkDecodeError(off - 4, `struct ${this.cName} must be ${this.size} bytes, got ${len}`);
    return this.read(buf, dv, off);
  }
  /** Read the struct at `off` (the caller checked the length). */
  read(buf: Uint8Array, dv: DataView, off: number): StructValue<F> {
    return (this.compiledRead ??= this.compileRead())(buf, dv, off);
  }
  write(w: Writer, value: StructValue<F>, path: string): void {
    (this.compiledWrite ??= this.compileWrite())(w, value, path);
  }

  // Like attribute sets, structs compile to straight-line code with constant keys.
  private compiledRead: ((buf: Uint8Array, dv: DataView, off: number) => StructValue<F>) | undefined;
  private compiledWrite: ((w: Writer, value: StructValue<F>, path: string) => void) | undefined;

  private compileRead(): (buf: Uint8Array, dv: DataView, off: number) => StructValue<F> {
    const fields = this.fields.map((f) => {
      const o = `off + ${f.off}`;
      const get: Record<string, string> = {
        u8: `dv.getUint8(${o})`,
        u16: `dv.getUint16(${o}, true)`,
        be16: `dv.getUint16(${o}, false)`,
        u32: `dv.getUint32(${o}, true)`,
        s32: `dv.getInt32(${o}, true)`,
        be32: `dv.getUint32(${o}, false)`,
        u64: `dv.getBigUint64(${o}, true)`,
      };
      return `${JSON.stringify(f.key)}: ${get[f.type] ?? `buf.slice(${o}, ${o} + ${fieldSize(f.type)})`}`;
    });
    return new Function(`return function read(buf, dv, off) { return { ${fields.join(', ')} }; };`)() as never;
  }

  private compileWrite(): (w: Writer, value: StructValue<F>, path: string) => void {
    const ranges: Record<string, [number, number, string, boolean]> = {
      u8: [0, 0xff, 'Uint8', true],
      u16: [0, 0xffff, 'Uint16', true],
      be16: [0, 0xffff, 'Uint16', false],
      u32: [0, 0xffffffff, 'Uint32', true],
      s32: [-0x80000000, 0x7fffffff, 'Int32', true],
      be32: [0, 0xffffffff, 'Uint32', false],
    };
    const lines = this.fields.map((f) => {
      const key = JSON.stringify(f.key);
      const o = `b + ${f.off}`;
      const r = ranges[f.type];
      if (r) {
        const [min, max, method, le] = r;
        return `x = v[${key}];
      if (typeof x !== 'number' || !(x >= ${min} && x <= ${max}) || Math.floor(x) !== x) badInt(path + '.' + ${key}, x, ${min}, ${max});
      w.dv.set${method}(${o}, x${method === 'Uint8' ? '' : `, ${le}`});`;
      }
      if (f.type === 'u64') {
        return `x = v[${key}];
      if (typeof x !== 'bigint' || x < 0n || x > 0xffffffffffffffffn) bad(path + '.' + ${key}, 'expected a bigint in [0, 2^64)');
      w.dv.setBigUint64(${o}, x, true);`;
      }
      const n = fieldSize(f.type);
      return `x = v[${key}];
      if (!(x instanceof Uint8Array) || x.length !== ${n}) bad(path + '.' + ${key}, 'expected ${n} bytes');
      w.buf.set(x, ${o});`;
    });
    const body = `return function write(w, v, path) {
      if (v === null || typeof v !== 'object') bad(path, ${JSON.stringify(`expected struct ${this.cName}`)});
      w.ensure(${this.size});
      const b = w.pos;
      let x;
      ${lines.join('\n      ')}
      w.pos = b + ${this.size};
    };`;
    const bad = (path: string, reason: string) => {
      throw new NetlinkEncodeError(path, reason);
    };
    const badInt = (path: string, x: unknown, min: number, max: number) => checkInt(x, path, min, max);
    return new Function('bad', 'badInt', body)(bad, badInt) as never;
  }
  toJson(value: StructValue<F>): JsonValue {
    const out: Record<string, JsonValue> = {};
    const v = value as Record<string, unknown>;
    for (const f of this.fields) {
      const x = v[f.key];
      out[f.key] = typeof x === 'bigint' ? bigToJson(x) : x instanceof Uint8Array ? hex(x) : (x as number);
    }
    return out;
  }
  fromJson(json: unknown, path: string): StructValue<F> {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new NetlinkEncodeError(path, `expected struct ${this.cName}`);
    const j = json as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of this.fields) {
      const p = `${path}.${f.key}`;
      const x = j[f.key] ?? 0;
      if (f.type === 'u64') out[f.key] = bigFromJson(x, p, false);
      else if (f.type.startsWith('bytes')) {
        if (typeof x !== 'string') throw new NetlinkEncodeError(p, 'expected a hex string');
        out[f.key] = fromHex(x, p);
      } else {
        const size = fieldSize(f.type);
        const signed = f.type === 's32';
        out[f.key] = intFromJson(x, p, signed ? -(2 ** 31) : 0, signed ? 2 ** 31 - 1 : 2 ** (size * 8) - 1);
      }
    }
    return out as StructValue<F>;
  }
  format(value: StructValue<F>): string {
    const v = value as Record<string, unknown>;
    return `{${this.fields
      .map((f) => {
        const x = v[f.key];
        return `${f.key}=${x instanceof Uint8Array ? hex(x) : String(x)}`;
      })
      .join(' ')}}`;
  }
}

export function struct<F extends Record<string, FieldType>>(cName: string, fields: F): StructCodec<F> {
  return new StructCodec(cName, fields);
}

/** Codecs made by nested(): the compiled fast paths call their set directly. */
const plainNested = new WeakSet<ValueCodec<unknown>>();

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
    decode: (buf, dv, off, len) => target().decode(buf, dv, off, off + len) as AttrsOf<S>,
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
    decode(buf, dv, off, len) {
      const end = off + len;
      const out: Array<AttrsOf<S>> = [];
      while (off < end) {
        if (end - off < 4) throw new NetlinkDecodeError(off, 'truncated array element header');
        const l = dv.getUint16(off, true);
        const t = dv.getUint16(off + 2, true);
        if (l < 4 || l > end - off) throw new NetlinkDecodeError(off, `array element length ${l} is invalid (${end - off} bytes left)`);
        if (t !== out.length + 1) throw new NetlinkDecodeError(off, `array element numbered ${t}, expected ${out.length + 1}`);
        out.push(set.decode(buf, dv, off + 4, off + l) as AttrsOf<S>);
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
