/**
 * A datapath's port table: the vport by number, and the lowest free number
 * in near-constant time. The kernel scans 1, 2, 3... for the first free port
 * (ovs_vport_cmd_new), which is O(ports) per add; this answers the same
 * question with a three-level bitmap (64 Ki bits, 32-bit words), so adding
 * the 65,534th port costs what adding the first did.
 */
export class PortMap<T> {
  private readonly ports: Array<T | undefined>;
  /** Bit set = number used. level0: one bit per port; level1: one bit per full level0 word; level2 likewise. */
  private readonly level0: Uint32Array;
  private readonly level1: Uint32Array;
  private readonly level2: Uint32Array;
  private count = 0;

  constructor(readonly size: number) {
    this.ports = new Array<T | undefined>(size);
    this.level0 = new Uint32Array(Math.ceil(size / 32));
    this.level1 = new Uint32Array(Math.ceil(this.level0.length / 32));
    this.level2 = new Uint32Array(Math.ceil(this.level1.length / 32));
    // Numbers at or beyond `size` in the last words count as used, so they are never handed out.
    for (let n = size; n < this.level0.length * 32; n++) this.mark(n);
  }

  get length(): number {
    return this.count;
  }

  get(portNo: number): T | undefined {
    return this.ports[portNo];
  }

  has(portNo: number): boolean {
    return this.ports[portNo] !== undefined;
  }

  set(portNo: number, value: T): void {
    if (this.ports[portNo] === undefined) {
      this.count++;
      this.mark(portNo);
    }
    this.ports[portNo] = value;
  }

  delete(portNo: number): void {
    if (this.ports[portNo] === undefined) return;
    this.ports[portNo] = undefined;
    this.count--;
    const w = portNo >>> 5;
    this.level0[w]! &= ~(1 << (portNo & 31));
    this.level1[w >>> 5]! &= ~(1 << (w & 31));
    this.level2[w >>> 10]! &= ~(1 << ((w >>> 5) & 31));
  }

  /** The lowest unused number >= from, or -1 if none. */
  lowestFree(from = 0): number {
    // Fast path: the candidate's own word.
    const w0 = from >>> 5;
    if (w0 >= this.level0.length) return -1;
    const bits = ~this.level0[w0]! & (~0 << (from & 31));
    if (bits !== 0) return (w0 << 5) + ctz(bits);
    // Otherwise find the first level0 word after w0 that is not full.
    const w = this.firstNotFull(w0 + 1);
    if (w < 0) return -1;
    return (w << 5) + ctz(~this.level0[w]!);
  }

  /** Numbers in use, ascending. */
  *keys(): IterableIterator<number> {
    for (let w = 0; w < this.level0.length; w++) {
      if (this.level0[w] === 0) continue;
      for (let b = 0; b < 32; b++) {
        const n = (w << 5) + b;
        if (n < this.size && this.ports[n] !== undefined) yield n;
      }
    }
  }

  private mark(n: number): void {
    const w = n >>> 5;
    this.level0[w]! |= 1 << (n & 31);
    if (this.level0[w] === 0xffffffff) {
      this.level1[w >>> 5]! |= 1 << (w & 31);
      if (this.level1[w >>> 5] === 0xffffffff) this.level2[w >>> 10]! |= 1 << ((w >>> 5) & 31);
    }
  }

  /** First level0 word index >= start that has a free bit. */
  private firstNotFull(start: number): number {
    if (start >= this.level0.length) return -1;
    let w1 = start >>> 5;
    // Within the level1 word holding `start`.
    let free1 = ~this.level1[w1]! & (~0 << (start & 31));
    if (free1 !== 0) return this.clampL0((w1 << 5) + ctz(free1));
    // Next level1 words, found through level2.
    w1++;
    let w2 = w1 >>> 5;
    if (w2 >= this.level2.length) return -1;
    let free2 = ~this.level2[w2]! & (~0 << (w1 & 31));
    while (free2 === 0) {
      w2++;
      if (w2 >= this.level2.length) return -1;
      free2 = ~this.level2[w2]!;
    }
    w1 = (w2 << 5) + ctz(free2);
    if (w1 >= this.level1.length) return -1;
    free1 = ~this.level1[w1]!;
    return this.clampL0((w1 << 5) + ctz(free1));
  }

  private clampL0(w: number): number {
    return w < this.level0.length ? w : -1;
  }
}

/** Count trailing zeros of a non-zero 32-bit value. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}
