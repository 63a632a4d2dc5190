/**
 * C's number parsing, because OVS reads options with it and its quirks are
 * part of the behaviour: strtol/strtoul/strtoull (leading space, sign, 0x and
 * 0 prefixes in base 0, the end pointer, saturation) and atoi.
 */

const SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

interface Scan {
  negative: boolean;
  /** The magnitude read (unbounded). */
  magnitude: bigint;
  /** Index just past the number; 0 when there was no number at all (endptr == nptr). */
  end: number;
}

function scan(s: string, base: 0 | 10 | 16): Scan {
  let i = 0;
  while (i < s.length && SPACE.has(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  let radix: number = base;
  const hexPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '');
  if ((base === 0 || base === 16) && hexPrefix) {
    radix = 16;
    i += 2;
  } else if (base === 0) {
    radix = s[i] === '0' ? 8 : 10;
  }
  let magnitude = 0n;
  const start = i;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= radix) break;
    magnitude = magnitude * BigInt(radix) + BigInt(d);
  }
  return { negative, magnitude, end: i === start ? 0 : i };
}

const LONG_MAX = (1n << 63n) - 1n;
const ULONG_MAX = (1n << 64n) - 1n;

/** strtol() on a 64-bit long: value and end index. */
export function strtol(s: string, base: 0 | 10 | 16): { value: bigint; end: number } {
  const { negative, magnitude, end } = scan(s, base);
  const value = negative ? (magnitude > LONG_MAX + 1n ? -LONG_MAX - 1n : -magnitude) : magnitude > LONG_MAX ? LONG_MAX : magnitude;
  return { value, end };
}

/** strtoul()/strtoull() on 64 bits: a minus sign negates modulo 2^64; overflow saturates. */
export function strtoull(s: string, base: 0 | 10 | 16): bigint {
  const { negative, magnitude } = scan(s, base);
  if (magnitude > ULONG_MAX) return ULONG_MAX;
  return negative ? (ULONG_MAX + 1n - magnitude) & ULONG_MAX : magnitude;
}

/** atoi(): glibc's (int) strtol(s, NULL, 10). */
export function atoi(s: string): number {
  return Number(BigInt.asIntN(32, strtol(s, 10).value));
}

/** Truncation to an unsigned C field of `bits` bits (uint8_t ttl, ovs_be16 dst_port...). */
export function truncU(v: bigint | number, bits: number): number {
  return Number(BigInt.asUintN(bits, BigInt(v)));
}
