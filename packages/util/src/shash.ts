/**
 * lib/shash.c over lib/hmap.c: the order in which SHASH_FOR_EACH visits the
 * names of a string hash map. OVS's output inherits it wherever it walks one:
 * which of several interfaces added in one transaction gets the lower
 * OpenFlow port number (vswitchd), which row a duplicate-index error calls
 * "First" (ovsdb_column_set_add_all(), hence duplicate_index_row()).
 */
import { hashString } from './hash.js';

/** calc_mask(): buckets for `capacity` nodes. */
function calcMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask;
}

/**
 * The iteration order of an shash after shash_add() of `names`, in this
 * order: buckets in index order, each bucket's nodes newest first, with the
 * reshuffles of every expansion, as hmap_insert() and its resize() leave them.
 */
export function shashOrder(names: readonly string[]): string[] {
  let mask = 0;
  let buckets: { name: string; hash: number }[][] = [[]];
  let n = 0;
  for (const name of names) {
    const hash = hashString(name);
    // hmap_insert_fast(): at the head of its bucket.
    buckets[hash & mask]!.unshift({ name, hash });
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        // resize(): the old buckets in order, each node re-inserted at the head of its new bucket.
        const next: { name: string; hash: number }[][] = Array.from({ length: newMask + 1 }, () => []);
        for (const bucket of buckets) for (const node of bucket) next[node.hash & newMask]!.unshift(node);
        buckets = next;
        mask = newMask;
      }
    }
  }
  return buckets.flat().map((node) => node.name);
}
