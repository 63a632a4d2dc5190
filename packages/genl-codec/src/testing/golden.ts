/**
 * Test access to ../shared/golden: real netlink traffic between OVS 3.1 and
 * the Linux 6.1 openvswitch module (see that folder's README).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = fileURLToPath(new URL('../../../../../shared/golden/', import.meta.url));

export const GOLDEN_FILES = ['dpctl-datapath.json', 'dpctl-ports.json', 'dpctl-errors.json', 'raw-genl.json', 'vswitchd-ports.json'] as const;

export interface GoldenMessage {
  dir: 'to-kernel' | 'from-kernel';
  protocol: string;
  family: string;
  cmd: string | null;
  hex: string;
  note?: string;
  nlmsg_type: number;
  flags: string;
  seq: number;
  pid: number;
  len: number;
  packet: number;
  batched?: boolean;
  error?: number;
  errno?: string;
  ext_ack?: Record<string, string>;
  genl_cmd?: number;
  genl_version?: number;
}

export interface GoldenCapture {
  scenario: string;
  families: Record<string, { name: string; id: number; version: number; hdrsize: number; maxattr: number; mcast_groups: Record<string, number> }>;
  capture: { pcap?: string };
  steps: Array<{ command?: string; cmd?: string; exit?: number; output?: string }>;
  messages: GoldenMessage[];
}

const cache = new Map<string, GoldenCapture>();

export function loadGolden(file: string): GoldenCapture {
  let c = cache.get(file);
  if (!c) {
    c = JSON.parse(readFileSync(GOLDEN_DIR + file, 'utf8')) as GoldenCapture;
    cache.set(file, c);
  }
  return c;
}

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export const PROTOCOLS: Record<string, number> = { NETLINK_ROUTE: 0, NETLINK_NETFILTER: 12, NETLINK_GENERIC: 16 };

/** key=value pairs of the last clause of a capture note (the capture tool's own decoding). */
export function noteFields(note: string | undefined): Record<string, string> {
  const tail = (note ?? '').split('; ').pop() ?? '';
  const out: Record<string, string> = {};
  for (const m of tail.matchAll(/(\w+)=(\{[^}]*\}|\[[^\]]*\]|\S+)/g)) out[m[1]!] = m[2]!;
  return out;
}
