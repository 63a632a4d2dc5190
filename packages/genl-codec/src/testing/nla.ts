/** Raw attribute bytes for tests that feed the parsers by hand. */
import { Writer } from '../writer.js';

/** [type, payload] pairs as back-to-back attributes, each padded to 4 bytes as the kernel expects. */
export function rawAttrs(...list: Array<[number, ArrayLike<number>]>): Uint8Array {
  const w = new Writer();
  for (const [type, payload] of list) {
    w.ensure(4 + payload.length);
    w.dv.setUint16(w.pos, 4 + payload.length, true);
    w.dv.setUint16(w.pos + 2, type, true);
    w.pos += 4;
    w.bytes(Uint8Array.from(payload));
    w.pad();
  }
  return w.take();
}
