/** Bytes as lowercase hex and back: how JSON, the CLI and the formatter show raw payloads. */
import { NetlinkEncodeError } from './errors.js';

export function hex(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += (data[i]! < 16 ? '0' : '') + data[i]!.toString(16);
  return s;
}

export function fromHex(s: string, path = ''): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new NetlinkEncodeError(path, `not a hex string: ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.substr(i * 2, 2), 16);
  return out;
}
