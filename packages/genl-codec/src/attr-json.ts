/**
 * The JSON form of attribute sets: keyed by uapi names, in wire order, with
 * the layout details a byte-exact re-encoding needs (NLA_F_* bits, strings
 * without a NUL, a missing final padding, raw attributes) spelled out.
 */
import { ATTR_ORDER, ORDER_NO_NUL, ORDER_NO_PAD, RAW_NO_PAD, forEachAttr } from './attr-order.js';
import type { AttrSet, AttrValues, DefsRecord, RawAttr } from './attr-set.js';
import { NetlinkEncodeError } from './errors.js';
import { fromHex, hex } from './hex.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK } from './netlink.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** JSON form of a decoded set, keyed by uapi names, in wire order. */
export function attrsToJson<D extends DefsRecord>(set: AttrSet<D>, values: AttrValues<D>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  forEachAttr(set, values, (name, def, value, flags, raw) => {
    let key = name;
    for (let n = 2; key in out; n++) key = `${name}#${n}`;
    let json: JsonValue;
    if (raw === undefined) json = def!.codec.toJson(value);
    else if (raw.invalid !== undefined) json = { hex: hex(raw.data), invalid: raw.invalid };
    else if (set.byType[raw.type] !== undefined) json = { hex: hex(raw.data) };
    else json = hex(raw.data);
    // Flags are shown only where they differ from what this codec writes by default.
    if (flags !== (raw === undefined ? def!.nlaFlags : 0)) json = withFlags(json, flags);
    out[key] = json;
  });
  return out;
}

/** Inverse of attrsToJson(): the key order of the JSON object becomes the wire order. */
export function attrsFromJson<D extends DefsRecord>(set: AttrSet<D>, json: unknown, path: string): AttrValues<D> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new NetlinkEncodeError(path, `expected an object of ${set.name} attributes`);
  }
  const out: Record<string, unknown> = {};
  const order: number[] = [];
  const raw: RawAttr[] = [];
  for (const [rawKey, rawValue] of Object.entries(json)) {
    const name = rawKey.replace(/#\d+$/, '');
    const { value, flags, noPad } = splitFlags(rawValue);
    const entry = set.byName.get(name);
    const p = `${path}.${rawKey}`;
    const rawJson = isRawJson(value) ? value : undefined;
    if (entry !== undefined && out[entry.key] === undefined && !rawJson) {
      out[entry.key] = entry.def.codec.fromJson(value, p);
      order.push(entry.def.type | (flags ?? entry.def.nlaFlags) | (noPad ? ORDER_NO_PAD : 0) | (isNoNulJson(rawValue) ? ORDER_NO_NUL : 0));
    } else {
      const type = entry?.def.type ?? parseUnknownName(name, set.namePrefix, p);
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
