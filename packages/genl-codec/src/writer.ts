/** The output buffers every encoder writes into. */
import { align4 } from './netlink.js';

/** Growable output buffer shared by all encoders. */
export class Writer {
  buf: Uint8Array;
  dv: DataView;
  pos = 0;
  /**
   * Set by the attribute writer around one string attribute that was decoded
   * without its NUL (ORDER_NO_NUL), so that the string codec leaves it out.
   * On the writer, not in the module, so that two encodes cannot see each other's.
   */
  noNul = false;
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
