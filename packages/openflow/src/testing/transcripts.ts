/**
 * The `ovs-ofctl show` blocks of the oracle's transcripts
 * (../shared/oracle/transcripts: real OVS 3.1 recorded step by step), and the
 * port data each one shows, read back from its text.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NETDEV_F, OFPP_LOCAL, OFPPC, OFPPS } from '../constants.js';
import type { OfpPortDesc } from '../port.js';

export const TRANSCRIPTS = fileURLToPath(new URL('../../../../../shared/oracle/transcripts/', import.meta.url));

export interface ShowBlock {
  file: string;
  /** 1-based line of the "$ ovs-ofctl show BR" command. */
  line: number;
  bridge: string;
  /** What real ovs-ofctl printed (stdout), newline-terminated. */
  stdout: string;
  exit: number;
  datapathId: bigint;
  ports: OfpPortDesc[];
}

const CONFIG: Record<string, number> = {
  PORT_DOWN: OFPPC.PORT_DOWN,
  NO_STP: OFPPC.NO_STP,
  NO_RECV: OFPPC.NO_RECV,
  NO_RECV_STP: OFPPC.NO_RECV_STP,
  NO_FLOOD: OFPPC.NO_FLOOD,
  NO_FWD: OFPPC.NO_FWD,
  NO_PACKET_IN: OFPPC.NO_PACKET_IN,
};
const STATE: Record<string, number> = { LINK_DOWN: OFPPS.LINK_DOWN, BLOCKED: OFPPS.BLOCKED, LIVE: OFPPS.LIVE };
const FEATURES: Record<string, number> = {
  '10MB-HD': NETDEV_F['10MB_HD'],
  '10MB-FD': NETDEV_F['10MB_FD'],
  '100MB-HD': NETDEV_F['100MB_HD'],
  '100MB-FD': NETDEV_F['100MB_FD'],
  '1GB-HD': NETDEV_F['1GB_HD'],
  '1GB-FD': NETDEV_F['1GB_FD'],
  '10GB-FD': NETDEV_F['10GB_FD'],
  COPPER: NETDEV_F.COPPER,
  FIBER: NETDEV_F.FIBER,
  AUTO_NEG: NETDEV_F.AUTONEG,
};

function bits(words: string, table: Record<string, number>): number {
  if (words.trim() === '0') return 0;
  return words
    .trim()
    .split(/\s+/)
    .reduce((acc, w) => {
      const b = table[w];
      if (b === undefined) throw new Error(`unknown bit name ${w}`);
      return acc | b;
    }, 0);
}

/** Every `ovs-ofctl show` of every transcript. */
export function showBlocks(): ShowBlock[] {
  const blocks: ShowBlock[] = [];
  for (const file of readdirSync(TRANSCRIPTS)
    .filter((f) => f.endsWith('.txt'))
    .sort()) {
    const lines = readFileSync(TRANSCRIPTS + file, 'utf8').split('\n');
    lines.forEach((l, i) => {
      const m = /^\$ ovs-ofctl show (\S+)$/.exec(l);
      if (!m) return;
      const out: string[] = [];
      let j = i + 1;
      for (; !lines[j]!.startsWith('exit='); j++) {
        if (lines[j]!.startsWith('out| ')) out.push(lines[j]!.slice(5));
        else if (lines[j] === 'out|') out.push('');
        else throw new Error(`${file}:${j + 1}: unexpected ${lines[j]}`);
      }
      const ports: OfpPortDesc[] = [];
      let dpid = 0n;
      for (const o of out) {
        const d = /dpid:([0-9a-f]{16})$/.exec(o);
        if (d) dpid = BigInt(`0x${d[1]}`);
        const p = /^ (\w+)\((.*)\): addr:(\S+)$/.exec(o);
        if (p) ports.push({ portNo: p[1] === 'LOCAL' ? OFPP_LOCAL : Number(p[1]), name: p[2]!, hwAddr: p[3]! });
        const last = ports[ports.length - 1];
        const f = /^ {5}(config|state|current|advertised|supported|peer): +(.*)$/.exec(o);
        if (f && last) {
          const [, key, val] = f;
          if (key === 'config') last.config = bits(val!, CONFIG);
          else if (key === 'state') last.state = bits(val!, STATE);
          else if (key === 'current') last.curr = bits(val!, FEATURES);
          else if (key === 'advertised') last.advertised = bits(val!, FEATURES);
          else if (key === 'supported') last.supported = bits(val!, FEATURES);
          else last.peer = bits(val!, FEATURES);
        }
      }
      blocks.push({ file, line: i + 1, bridge: m[1]!, stdout: out.map((o) => `${o}\n`).join(''), exit: Number(lines[j]!.slice(5)), datapathId: dpid, ports });
    });
  }
  return blocks;
}
