/**
 * The iteration order of OVS's string-keyed hash maps (@ovs/util's
 * hash_string, lib/hmap.c's buckets and resizing), for the
 * places where that order is visible: which of several interfaces added in
 * one transaction gets the lower OpenFlow port number.
 */
import { hashString } from '@ovs/util';

/** lib/hash.h's hash_string(), from @ovs/util (its one home), for this module's users. */
export { hashString };

/** calc_mask(): buckets for `capacity` nodes (at least 4 once any are allocated). */
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
 * The order HMAP_FOR_EACH visits `names` after they were shash_add()ed in
 * the given order: bucket by bucket, newest first within a bucket, with the
 * reshuffles of every expansion.
 */
export function shashOrder(names: readonly string[]): string[] {
  let mask = 0;
  let buckets: Array<Array<{ name: string; hash: number }>> = [[]];
  let n = 0;
  const insertFast = (node: { name: string; hash: number }) => {
    buckets[node.hash & mask]!.unshift(node);
  };
  for (const name of names) {
    insertFast({ name, hash: hashString(name) });
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const old = buckets;
        mask = newMask;
        buckets = Array.from({ length: mask + 1 }, () => []);
        for (const bucket of old) for (const node of bucket) insertFast(node);
      }
    }
  }
  return buckets.flat().map((x) => x.name);
}
