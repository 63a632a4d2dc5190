/**
 * lib/packets.c's addresses as OVS reads and prints them: MACs
 * (eth_addr_from_string, ETH_ADDR_FMT), and IP addresses through glibc's
 * inet_pton() (strict: four decimal octets without leading zeros for IPv4;
 * RFC 4291 text for IPv6) and inet_ntop(), with IPv4 kept as v4-mapped IPv6
 * (in6_addr_set_mapped_ipv4) and printed back as dotted quads
 * (ipv6_format_mapped).
 */

/** inet_pton(AF_INET): the 4 bytes, or undefined. */
export function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let octets = 0;
  let sawDigit = false;
  let cur = 0;
  for (const ch of s) {
    if (ch >= '0' && ch <= '9') {
      // glibc refuses a leading zero ("01") and octets above 255.
      if (sawDigit && cur === 0) return undefined;
      cur = cur * 10 + (ch.charCodeAt(0) - 48);
      if (cur > 255) return undefined;
      if (!sawDigit) {
        if (++octets > 4) return undefined;
        sawDigit = true;
      }
    } else if (ch === '.' && sawDigit) {
      if (octets === 4) return undefined;
      out[octets - 1] = cur;
      cur = 0;
      sawDigit = false;
    } else {
      return undefined;
    }
  }
  if (octets < 4 || !sawDigit) return undefined;
  out[3] = cur;
  return out;
}

/** inet_pton(AF_INET6): the 16 bytes, or undefined. */
export function parseIpv6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  let i = 0;
  if (s.startsWith(':') && !s.startsWith('::')) return undefined;
  if (s.startsWith('::')) i = 1; // the first ':' of a leading "::" carries no group
  let tp = 0;
  let colonp = -1;
  let curtok = i;
  let sawXdigit = false;
  let val = 0;
  let digits = 0;
  for (; i < s.length; i++) {
    const ch = s[i]!;
    const hex = '0123456789abcdef'.indexOf(ch.toLowerCase());
    if (hex >= 0) {
      if (++digits > 4) return undefined;
      val = (val << 4) | hex;
      sawXdigit = true;
      continue;
    }
    if (ch === ':') {
      curtok = i + 1;
      if (!sawXdigit) {
        if (colonp >= 0) return undefined;
        colonp = tp;
        continue;
      }
      if (i + 1 >= s.length) return undefined; // a trailing single ':'
      if (tp + 2 > 16) return undefined;
      out[tp++] = val >> 8;
      out[tp++] = val & 0xff;
      sawXdigit = false;
      val = 0;
      digits = 0;
      continue;
    }
    if (ch === '.' && tp + 4 <= 16) {
      const v4 = parseIpv4(s.slice(curtok));
      if (!v4) return undefined;
      out.set(v4, tp);
      tp += 4;
      sawXdigit = false;
      break;
    }
    return undefined;
  }
  if (sawXdigit) {
    if (tp + 2 > 16) return undefined;
    out[tp++] = val >> 8;
    out[tp++] = val & 0xff;
  }
  if (colonp >= 0) {
    if (tp === 16) return undefined;
    const n = tp - colonp;
    out.copyWithin(16 - n, colonp, tp);
    out.fill(0, colonp, 16 - n);
    tp = 16;
  }
  return tp === 16 ? out : undefined;
}

/** in6_addr_set_mapped_ipv4(): the first 4 bytes of `v4`. */
export function mapIpv4(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  // Byte by byte: no view to allocate for what is called on every tunnel option parse.
  out[12] = v4[0]!;
  out[13] = v4[1]!;
  out[14] = v4[2]!;
  out[15] = v4[3]!;
  return out;
}

function isMapped(a: Uint8Array): boolean {
  return a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
}

/** inet_ntop(AF_INET6) as glibc writes it: the longest run (2+) of zero groups as "::", ::a.b.c.d and ::ffff:a.b.c.d forms. */
export function formatIpv6(a: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, k) => (a[2 * k]! << 8) | a[2 * k + 1]!);
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let k = 0; k < 8; k++) {
    if (words[k] === 0) {
      cur = cur.base < 0 ? { base: k, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = { ...cur };
    } else {
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (best.base >= 0 && k >= best.base && k < best.base + best.len) {
      if (k === best.base) out += ':';
      continue;
    }
    if (k !== 0) out += ':';
    if (k === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += Array.from(a.subarray(12, 16)).join('.');
      break;
    }
    out += words[k]!.toString(16);
  }
  if (best.base >= 0 && best.base + best.len === 8) out += ':';
  return out;
}

/** ipv6_format_mapped() / ipv6_string_mapped(): v4-mapped addresses as dotted quads. */
export function formatMapped(a: Uint8Array): string {
  return isMapped(a) ? Array.from(a.subarray(12, 16)).join('.') : formatIpv6(a);
}

/** ipv6_addr_is_set(). */
export function isSet(a: Uint8Array): boolean {
  return a.some((b) => b !== 0);
}

/** ETH_ADDR_FMT: "xx:xx:xx:xx:xx:xx". */
export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** eth_addr_from_string(): six hex bytes separated by colons; undefined otherwise. */
export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(text);
  return m ? Uint8Array.from(m.slice(1), (h) => parseInt(h, 16)) : undefined;
}
