import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortMap } from './portmap.js';

/** The kernel's own answer: scan from `from` for the first unused number. */
function scan(used: Set<number>, size: number, from: number): number {
  for (let n = from; n < size; n++) if (!used.has(n)) return n;
  return -1;
}

describe('PortMap', () => {
  it('lowestFree agrees with a linear scan after any sequence of adds and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(65534)), { maxLength: 300 }), fc.nat(65534), (ops, from) => {
        const map = new PortMap<number>(65535);
        const used = new Set<number>();
        for (const [add, n] of ops) {
          if (add) {
            map.set(n, n);
            used.add(n);
          } else {
            map.delete(n);
            used.delete(n);
          }
        }
        expect(map.lowestFree(from)).toBe(scan(used, 65535, from));
        expect(map.lowestFree(1)).toBe(scan(used, 65535, 1));
        expect(map.length).toBe(used.size);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('fills every number up to size - 1, then has none free', () => {
    const map = new PortMap<number>(65535);
    for (let i = 0; i < 65535; i++) {
      const n = map.lowestFree(0);
      expect(n).toBe(i);
      map.set(n, n);
    }
    expect(map.lowestFree(0)).toBe(-1);
    map.delete(40000);
    expect(map.lowestFree(1)).toBe(40000);
  }, 60_000);
});
