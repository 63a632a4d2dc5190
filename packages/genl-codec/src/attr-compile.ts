/**
 * Compiled fast paths. A decoded set is a plain object whose keys depend on
 * the set; stores and loads through a variable key (`out[entry.key]`) are
 * megamorphic and dominate the cost of a small message. So, once per set, we
 * generate straight-line code with constant keys for the common layout
 * (known attributes, each once, in declaration order, no flag bits, zero
 * padding). Anything else returns SLOW and the general code of attr-set.ts
 * handles it.
 */
import type { AttrSet, Entry } from './attr-set.js';
import type { DecodeContext } from './codecs.js';
import { checkInt, plainNested } from './codecs.js';
import { NetlinkEncodeError } from './errors.js';
import type { Writer } from './writer.js';

export const SLOW: unique symbol = Symbol('slow path');
export type FastDecoder = (buf: Uint8Array, dv: DataView, start: number, end: number, ctx: DecodeContext) => Record<string, unknown> | typeof SLOW;
export type FastWriter = (w: Writer, values: Record<string, unknown>) => void;

export function compileDecoder(entries: readonly Entry[]): FastDecoder {
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
        read = `o[${key}] = n${i}.decode(buf, dv, off + 4, off + len, ctx);`;
      } else {
        read = `ctx.extra = 0;
        o[${key}] = c${i}.decode(buf, dv, off + 4, len - 4, ctx);
        if (ctx.extra !== 0) return SLOW;`;
      }
      return `      case ${e.def.type | e.def.nlaFlags}:
        if (last >= ${i}) return SLOW;
        last = ${i};
        ${read}
        break;`;
    })
    .join('\n');
  const body = `return function fastDecode(buf, dv, start, end, ctx) {
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
  return instantiate(body, entries, nestedSets, { SLOW }) as FastDecoder;
}

export function compileWriter(entries: readonly Entry[]): FastWriter {
  const nestedSets = entries.map((e) => (plainNested.has(e.def.codec) ? e.def.codec.policy.nested : undefined));
  const parts = entries.map((e, i) => {
    const int = e.def.codec.int;
    if (int) {
      const padded = (4 + int.size + 3) & ~3;
      const zero = Array.from({ length: padded - 4 - int.size }, (_, k) => `w.buf[s + ${4 + int.size + k}] = 0;`).join(' ');
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
    const call = nestedSets[i]
      ? `if (x === null || typeof x !== 'object') notNested(${JSON.stringify(e.def.name)});
      n${i}.write(w, x, ${JSON.stringify(e.def.name)});`
      : `c${i}.write(w, x, ${JSON.stringify(e.def.name)});`;
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
