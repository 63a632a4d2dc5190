/**
 * Decoding state travels in a DecodeContext, not in the module: a decode run
 * from inside another (strict inside lenient, a string with its NUL inside
 * the decode of one without) sees only its own settings and reports.
 */
import { describe, expect, it } from 'vitest';
import { AttrSet, attr } from './attr-set.js';
import { DecodeContext, type ValueCodec, string, u32 } from './codecs.js';
import { NetlinkDecodeError } from './errors.js';
import { Writer } from './writer.js';
import { rawAttrs } from './testing/nla.js';

const text = (s: string) => [...Buffer.from(s)];
const dvOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function encode(set: AttrSet, values: object): Uint8Array {
  const w = new Writer();
  set.write(w, values);
  return w.take();
}

const innerAttrs = new AttrSet('inner', { name: attr(1, 'INNER_NAME', string()), n: attr(2, 'INNER_N', u32) });
/** Strict decode must fail: INNER_N has 3 bytes. */
const innerBad = rawAttrs([1, [...text('br0'), 0]], [2, [1, 2, 3]]);
/** Decodes; its name carries a NUL, which must come back on re-encoding. */
const innerGood = rawAttrs([1, [...text('br0'), 0]], [2, [7, 0, 0, 0]]);

type Outcome = { values: object } | { error: unknown };
function run(bytes: Uint8Array): Outcome {
  try {
    return { values: innerAttrs.decode(bytes, dvOf(bytes), 0, bytes.length, new DecodeContext()) };
  } catch (error) {
    return { error };
  }
}

/** A string codec that, once it has read its value, runs two other, strict decodes. */
const plain = string();
let inner: Outcome[] = [];
const nameThenDecode: ValueCodec<string> = {
  ...plain,
  decode(buf, dv, off, len, ctx) {
    const v = plain.decode(buf, dv, off, len, ctx);
    inner = [run(innerBad), run(innerGood)];
    return v;
  },
};
const outerAttrs = new AttrSet('outer', { name: attr(1, 'OUTER_NAME', nameThenDecode), n: attr(2, 'OUTER_N', u32) });

describe('DecodeContext', () => {
  it('keeps interleaved decodes apart: lenient/strict, and the no-NUL layout report', () => {
    // The outer attributes: a name without its NUL, and a 3-byte u32, decoded leniently.
    const outer = rawAttrs([1, text('eth0')], [2, [9, 9, 9]]);
    const values = outerAttrs.decode(outer, dvOf(outer), 0, outer.length, new DecodeContext(true));

    // The strict decodes run inside it stayed strict...
    expect(inner).toHaveLength(2);
    expect('error' in inner[0]! && inner[0].error).toBeInstanceOf(NetlinkDecodeError);
    expect('error' in inner[0]! && (inner[0].error as NetlinkDecodeError).reason).toMatch(/INNER_N/);
    // ...and the one that decoded re-encodes with its NUL.
    const good = inner[1]!;
    expect('values' in good && good.values).toMatchObject({ name: 'br0', n: 7 });
    expect('values' in good && encode(innerAttrs, good.values)).toEqual(innerGood);

    // The lenient one stayed lenient after them, and kept its missing NUL.
    expect(values.name).toBe('eth0');
    expect(values.n).toBeUndefined();
    expect(values.unknown).toMatchObject([{ type: 2, invalid: expect.stringMatching(/OUTER_N/) }]);
    expect(encode(outerAttrs, values)).toEqual(outer);
  });

  it('a strict decode does not become lenient because another one was', () => {
    const outer = rawAttrs([1, text('eth0')], [2, [9, 9, 9]]);
    outerAttrs.decode(outer, dvOf(outer), 0, outer.length, new DecodeContext(true));
    expect(() => outerAttrs.decode(outer, dvOf(outer), 0, outer.length, new DecodeContext())).toThrow(/OUTER_N/);
  });
});
