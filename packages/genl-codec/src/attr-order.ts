/**
 * The layout record of a decoded attribute set. To re-encode it byte for
 * byte, the decoder records anything that differs from the set's canonical
 * layout (attribute order, the NLA_F_* flag bits, strings without a NUL, a
 * missing final padding) in a hidden, non-enumerable ATTR_ORDER array of
 * nla_type values with extra ORDER_* bits; raw attributes appear in it as
 * -(index in `unknown` + 1). Objects built by hand have none and are encoded
 * in the set's declaration order.
 */
import type { AttrDef, AttrSet, AttrValues, DefsRecord, RawAttr } from './attr-set.js';
import { NLA_TYPE_MASK } from './netlink.js';

// Extra bits kept in ATTR_ORDER entries beside the 16-bit nla_type.
export const ORDER_NO_NUL = 0x10000; // string attribute without a NUL terminator
export const ORDER_NO_PAD = 0x20000; // last attribute whose padding the message omits
export const ORDER_TYPE_BITS = 0xffff;
// Raw (unknown) attributes appear in ATTR_ORDER as -(index + 1), minus this when unpadded.
export const RAW_NO_PAD = 0x40000000;

/** Hidden key of a decoded set's layout record. */
export const ATTR_ORDER: unique symbol = Symbol('ATTR_ORDER');

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
  if (values.unknown)
    for (let i = rawUsed; i < values.unknown.length; i++)
      fn(rawName(values.unknown[i]!), undefined, values.unknown[i]!.data, values.unknown[i]!.flags, values.unknown[i]);
}
