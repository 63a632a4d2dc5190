/**
 * The iteration order of OVS's string-keyed hash maps (lib/hash.h's
 * Murmur-based hash_string, lib/hmap.c's buckets and resizing), for the
 * places where that order is visible: which of several interfaces added in
 * one transaction gets the lower OpenFlow port number.
 */

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** mhash_add(). */
function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rotl(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rotl(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

/** mhash_finish(). */
function mhashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** hash_string(s, basis): hash_bytes over the UTF-8 bytes, 4 at a time little-endian. */
export function hashString(s: string, basis = 0): number {
  const b = Buffer.from(s, 'utf8');
  let h = basis >>> 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) h = mhashAdd(h, b.readUInt32LE(i));
  if (i < b.length) {
    let tail = 0;
    for (let j = 0; i + j < b.length; j++) tail |= b[i + j]! << (8 * j);
    h = mhashAdd(h, tail >>> 0);
  }
  return mhashFinish((h ^ b.length) >>> 0);
}

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
