/**
 * lib/hash.h and lib/hash.c: OVS's Murmur-based hashes (the portable build,
 * as Debian's x86-64 packages are compiled without SSE4.2), where their values
 * are visible — hash-map iteration order, coverage/show's hash.
 */

/** hash_rot(). */
const hashRot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** mhash_add(): one 32-bit word into the hash (a zero word only mixes). */
export function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = hashRot(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = hashRot(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

/** mhash_finish(). */
export function mhashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** hash_finish(). */
const hashFinish = (hash: number, final: number): number => mhashFinish((hash ^ final) >>> 0);

/** hash_bytes(): 4 bytes at a time, little-endian, the tail zero-padded. */
export function hashBytes(b: Uint8Array, basis = 0): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let h = basis >>> 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) h = mhashAdd(h, view.getUint32(i, true));
  if (i < b.length) {
    let tail = 0;
    for (let j = 0; i + j < b.length; j++) tail |= b[i + j]! << (8 * j);
    h = mhashAdd(h, tail >>> 0);
  }
  return hashFinish(h, b.length);
}

/** hash_string(): hash_bytes() over the string's UTF-8 bytes. */
export function hashString(s: string, basis = 0): number {
  return hashBytes(Buffer.from(s, 'utf8'), basis);
}

/** hash_2words(). */
export function hash2Words(x: number, y: number): number {
  return hashFinish(mhashAdd(mhashAdd(x >>> 0, 0), y >>> 0), 8);
}

/** hash_int(). */
export function hashInt(x: number, basis: number): number {
  return hash2Words(x, basis);
}
