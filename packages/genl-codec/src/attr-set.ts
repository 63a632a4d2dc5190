/**
 * Netlink attributes (struct nlattr): typed attribute sets declared once, used
 * to decode, encode, validate (nlattr.ts) and print.
 *
 * A decoded attribute set is a plain object keyed by camelCase attribute keys
 * (`portNo`, `name`, ...), with a hidden layout record (attr-order.ts) when
 * the bytes it came from differ from the set's canonical layout. The common
 * layout goes through decoders and writers compiled per set (attr-compile.ts);
 * everything else through the general code here.
 */
import { SLOW, type FastDecoder, type FastWriter, compileDecoder, compileWriter } from './attr-compile.js';
import { type JsonValue, attrsFromJson, attrsToJson } from './attr-json.js';
import { ATTR_ORDER, ORDER_NO_NUL, ORDER_NO_PAD, ORDER_TYPE_BITS, RAW_NO_PAD } from './attr-order.js';
import type { DecodeContext, ValueCodec } from './codecs.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import { align4, isZero, NLA_TYPE_MASK } from './netlink.js';
import type { Policy } from './nlattr.js';
import type { Writer } from './writer.js';

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
  return new Attr(type, name, codec, policy, nlaFlags);
}

/**
 * An attribute's declaration. A class, not an object literal with a getter: the codecs declare
 * some 400 attributes at load, and a literal with an accessor costs each one its own closure,
 * context and accessor pair — a garbage collection in every short-lived process.
 */
class Attr<T, N extends string, Ty extends number> implements AttrDef<T, N, Ty> {
  private merged: Policy | undefined;
  constructor(
    readonly type: Ty,
    readonly name: N,
    readonly codec: ValueCodec<T>,
    private readonly override: Partial<Policy> | undefined,
    readonly nlaFlags: number,
  ) {}

  /** Lazy: a nested codec may point at a set that is still being declared (OVS_KEY_ATTR_ENCAP). */
  get policy(): Policy {
    return (this.merged ??= { ...this.codec.policy, ...this.override });
  }
}

export type DefsRecord = Record<string, AttrDef<unknown>>;
type ValueOfDef<D> = D extends AttrDef<infer T> ? T : never;

/** The TypeScript shape of a decoded attribute set. */
export type AttrValues<D extends DefsRecord> = { [K in keyof D]?: ValueOfDef<D[K]> } & {
  unknown?: RawAttr[];
  [ATTR_ORDER]?: number[];
};
export type AttrsOf<S> = S extends AttrSet<infer D> ? AttrValues<D> : never;

export interface Entry {
  readonly key: string;
  readonly def: AttrDef<unknown>;
  /** Position in canonical (declaration) order. */
  readonly pos: number;
  /** def.codec's decode and write, hoisted so the hot loops load them from one object shape. */
  readonly decode: (buf: Uint8Array, dv: DataView, off: number, len: number, ctx: DecodeContext) => unknown;
  readonly write: (w: Writer, value: unknown, path: string) => void;
}

/** What an AttrSet looks attributes up by, built the first time it is used. */
interface AttrIndex {
  readonly entries: readonly Entry[];
  readonly byType: ReadonlyArray<Entry | undefined>;
  readonly byName: ReadonlyMap<string, Entry>;
  readonly maxType: number;
  readonly namePrefix: string;
}

export class AttrSet<D extends DefsRecord = DefsRecord> {
  private policyTable: ReadonlyArray<Policy | undefined> | undefined;
  /** Policy table for validate(), indexed by attribute type. */
  get policies(): ReadonlyArray<Policy | undefined> {
    return (this.policyTable ??= this.byType.map((e) => e?.def.policy));
  }

  private index: AttrIndex | undefined;

  /**
   * A set of attributes. Its lookup tables are built when it is first used, not here: a tool
   * that loads every family's declarations uses a few of them (a duplicate attribute type is
   * reported then).
   */
  constructor(
    /** The C enum name, e.g. ovs_vport_attr. */
    readonly name: string,
    readonly defs: D,
    private readonly opts: { maxType?: number; namePrefix?: string } = {},
  ) {}

  private get built(): AttrIndex {
    return (this.index ??= this.build());
  }

  private build(): AttrIndex {
    const entries: Entry[] = [];
    const byType: Array<Entry | undefined> = [];
    const byName = new Map<string, Entry>();
    let max = 0;
    for (const [key, def] of Object.entries(this.defs)) {
      const codec = def.codec;
      const entry: Entry = {
        key,
        def,
        pos: entries.length,
        decode: (buf, dv, off, len, ctx) => codec.decode(buf, dv, off, len, ctx),
        write: (w, value, path) => codec.write(w, value, path),
      };
      entries.push(entry);
      if (byType[def.type]) throw new Error(`${this.name}: attribute type ${def.type} declared twice`);
      byType[def.type] = entry;
      byName.set(def.name, entry);
      if (def.type > max) max = def.type;
    }
    for (let i = 0; i <= max; i++) if (byType[i] === undefined) byType[i] = undefined;
    return {
      entries,
      byType,
      byName,
      maxType: this.opts.maxType ?? max,
      namePrefix: this.opts.namePrefix ?? commonPrefix(entries.map((e) => e.def.name)),
    };
  }

  get entries(): readonly Entry[] {
    return this.built.entries;
  }

  get byType(): ReadonlyArray<Entry | undefined> {
    return this.built.byType;
  }

  get byName(): ReadonlyMap<string, Entry> {
    return this.built.byName;
  }

  get maxType(): number {
    return this.built.maxType;
  }

  /** Prefix used to name unknown attributes in JSON, e.g. OVS_VPORT_ATTR_. */
  get namePrefix(): string {
    return this.built.namePrefix;
  }

  /** The attribute number of a declared key: `iflaAttrs.type('mtu')` is IFLA_MTU (4). */
  type<K extends keyof D & string>(key: K): D[K]['type'] {
    return this.defs[key]!.type;
  }

  private fastDecode: FastDecoder | undefined;
  private fastWrite: FastWriter | undefined;

  /** Decode the attributes in buf[start, end), as part of the decode `ctx`. Throws NetlinkDecodeError. */
  decode(buf: Uint8Array, dv: DataView, start: number, end: number, ctx: DecodeContext): AttrValues<D> {
    const fast = (this.fastDecode ??= compileDecoder(this.entries));
    let r: ReturnType<FastDecoder> = SLOW;
    try {
      r = fast(buf, dv, start, end, ctx);
    } catch {
      // The general decoder below finds and reports the problem.
    }
    if (r === SLOW) r = this.decodeGeneral(buf, dv, start, end, ctx);
    // What the last inner attribute reported is no concern of the attribute holding this set.
    ctx.extra = 0;
    return r as AttrValues<D>;
  }

  /** The general decoder, for every layout (order, flags, repeats, unknown types, lenient mode). */
  private decodeGeneral(buf: Uint8Array, dv: DataView, start: number, end: number, ctx: DecodeContext): AttrValues<D> {
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
        ctx.extra = 0;
        try {
          value = entry.decode(buf, dv, off + 4, nlaLen - 4, ctx);
        } catch (err) {
          if (!(err instanceof NetlinkDecodeError)) throw err;
          const reason = err.reason.startsWith(entry.def.name) ? err.reason : `${entry.def.name}: ${err.reason}`;
          if (!ctx.lenient) throw new NetlinkDecodeError(err.offset, reason);
          invalid = reason;
        }
      }
      if (value !== undefined && out[entry!.key] !== undefined) {
        // A repeat: nla_parse() keeps the last one, and so does this decoder; the earlier one is kept raw.
        raw ??= [];
        order ??= this.backfillOrder(out, undefined);
        const prev = lastValidOccurrence(entry!.def, buf, dv, start, off, type, ctx);
        raw.push({ type, flags: dv.getUint16(prev + 2, true) & ~NLA_TYPE_MASK, data: buf.slice(prev + 4, prev + dv.getUint16(prev, true)) });
        order[order.findIndex((o) => o >= 0 && (o & NLA_TYPE_MASK) === type)] = -raw.length;
        out[entry!.key] = undefined;
      }
      if (value !== undefined) {
        out[entry!.key] = value;
        extra |= ctx.extra;
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
    w.noNul = (extra & ORDER_NO_NUL) !== 0;
    e.write(w, v, e.def.name);
    w.noNul = false;
    const len = w.pos - start;
    if (len > 0xffff) throw new NetlinkEncodeError(`${path}: ${e.def.name}`, `attribute too long (${len} bytes)`);
    w.dv.setUint16(start, len, true);
    w.dv.setUint16(start + 2, nlaType, true);
    if ((extra & ORDER_NO_PAD) === 0) w.pad();
  }

  /** JSON form keyed by uapi names, in wire order (attr-json.ts). */
  toJson(values: AttrValues<D>): Record<string, JsonValue> {
    return attrsToJson(this, values);
  }

  /** Inverse of toJson(): the key order of the JSON object becomes the wire order. */
  fromJson(json: unknown, path = this.name): AttrValues<D> {
    return attrsFromJson(this, json, path);
  }
}

/**
 * The attribute numbers of a set as a uapi-style table, keyed by the uapi
 * names without `prefix`: `attrTypes(iflaAttrs, 'IFLA_')` is
 * `{ IF_NETNSID: 46, IFNAME: 3, MTU: 4, ... }`, typed so that only declared
 * names compile. Attributes whose names do not start with `prefix` are left out.
 */
export function attrTypes<D extends DefsRecord, P extends string>(set: AttrSet<D>, prefix: P): AttrTypes<D, P> {
  const out: Record<string, number> = {};
  // From the declarations, so that the table costs the set no lookup tables.
  for (const def of Object.values(set.defs)) if (def.name.startsWith(prefix)) out[def.name.slice(prefix.length)] = def.type;
  return Object.freeze(out) as AttrTypes<D, P>;
}

/** What attrTypes() returns for a set's definitions and a name prefix. */
export type AttrTypes<D extends DefsRecord, P extends string> = {
  readonly [K in keyof D as D[K]['name'] extends `${P}${infer R}` ? R : never]: D[K]['type'];
};

/** Offset of the last attribute of `type` in buf[start, end) whose payload decodes. */
function lastValidOccurrence(def: AttrDef<unknown>, buf: Uint8Array, dv: DataView, start: number, end: number, type: number, ctx: DecodeContext): number {
  let found = -1;
  for (let off = start; off < end; off += align4(dv.getUint16(off, true))) {
    if ((dv.getUint16(off + 2, true) & NLA_TYPE_MASK) !== type) continue;
    try {
      def.codec.decode(buf, dv, off + 4, dv.getUint16(off, true) - 4, ctx);
      found = off;
    } catch {
      // kept raw already
    }
  }
  return found;
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

function commonPrefix(names: string[]): string {
  if (names.length === 0) return '';
  let p = names[0]!;
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  const cut = p.lastIndexOf('_');
  return p.slice(0, cut + 1);
}
