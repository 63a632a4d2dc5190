/**
 * ovs-genl: decode netlink messages (hex or an nlmon pcap/pcapng capture) to
 * text or JSON, and encode that JSON back to hex.
 *
 *   ovs-genl decode [FILE|-] [--json] [--lenient] [--protocol P] [--only P] [--family NAME=ID,...] [--limit N]
 *   ovs-genl encode [FILE|-] [--family NAME=ID,...]
 *
 * Exit status: 0 on success, 1 on bad input, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { fromHex, hex } from './hex.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import type { FamilyTable } from './genl.js';
import { messageFromJson, messageToJson, protocolName } from './json.js';
import { type Message, decode, encode, newFamilyTable } from './message.js';
import { NetlinkProtocol } from './netlink.js';
import { formatMessage } from './format.js';
import { isCapture, readCapture } from './pcap.js';

const USAGE = `usage: ovs-genl decode [FILE|-] [--json] [--lenient] [--protocol P] [--only P] [--family NAME=ID,...] [--limit N]
       ovs-genl encode [FILE|-] [--family NAME=ID,...]

decode  reads netlink messages as hex (one message, or a run of messages, per
        line; '#' starts a comment) or an nlmon capture (pcap or pcapng,
        optionally gzipped, LINKTYPE_NETLINK), and prints each message as text
        or, with --json, as one JSON object per line. Generic netlink family
        ids are learned from CTRL_CMD_GETFAMILY replies earlier in the input,
        or given with --family ovs_datapath=32,ovs_vport=33. An attribute
        whose payload does not fit its type is an error; with --lenient it is
        printed raw and marked invalid (captures of rejected requests).
        --protocol P (generic, route or a number) is the protocol of hex
        input; --only P prints only a capture's messages of that protocol.
encode  reads JSON objects (one per line, or a JSON array) as printed by
        decode --json and prints each message as a line of hex.`;

class UsageError extends Error {}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  readInput: (file: string) => Buffer;
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  readInput: (file) => readFileSync(file === '-' ? 0 : file),
};

function parseProtocol(v: string | undefined): number {
  if (v === undefined || v === 'generic') return NetlinkProtocol.NETLINK_GENERIC;
  if (v === 'route') return NetlinkProtocol.NETLINK_ROUTE;
  const byName = (NetlinkProtocol as Record<string, number>)[v.toUpperCase()];
  if (byName !== undefined) return byName;
  if (/^\d+$/.test(v)) return Number(v);
  throw new UsageError(`unknown protocol ${JSON.stringify(v)} (generic, route, or a number)`);
}

function parseFamilies(v: string | undefined): FamilyTable {
  const table = newFamilyTable();
  if (!v) return table;
  for (const item of v.split(',')) {
    const m = /^([A-Za-z0-9_]+)=(\d+)$/.exec(item.trim());
    if (!m || Number(m[2]) > 0xffff) throw new UsageError(`bad --family entry ${JSON.stringify(item)} (expected NAME=ID)`);
    table.set(m[1]!, Number(m[2]));
  }
  return table;
}

/** Entry point; returns the exit status. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        lenient: { type: 'boolean' },
        only: { type: 'string' },
        protocol: { type: 'string' },
        family: { type: 'string' },
        limit: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const [command, file = '-', ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    const families = parseFamilies(values.family);
    if (command === 'decode') {
      let limit = Number.POSITIVE_INFINITY;
      if (values.limit !== undefined) {
        if (!/^\d+$/.test(values.limit)) throw new UsageError('--limit takes a number');
        limit = Number(values.limit);
      }
      const only = values.only === undefined ? undefined : parseProtocol(values.only);
      return runDecode(io, file, parseProtocol(values.protocol), families, { json: values.json ?? false, lenient: values.lenient ?? false, limit, only });
    }
    if (command === 'encode') return runEncode(io, file, families);
    throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'missing command');
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`ovs-genl: ${(err as Error).message}`);
      io.err(USAGE);
      return 2;
    }
    if ((err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'EISDIR') {
      io.err(`ovs-genl: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  }
}

interface Chunk {
  /** Where the bytes came from, for messages: "line 3", "packet 12". */
  where: string;
  protocol: number;
  bytes: Uint8Array;
  packet?: number;
}

function readChunks(io: Io, file: string, protocol: number): Chunk[] {
  let data: Uint8Array = io.readInput(file);
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = gunzipSync(data);
    } catch (err) {
      throw new NetlinkDecodeError(0, `corrupt gzip data: ${(err as Error).message}`);
    }
  }
  if (isCapture(data)) {
    return readCapture(data).map((p) => ({ where: `packet ${p.index}`, protocol: p.protocol, bytes: p.data, packet: p.index }));
  }
  const text = Buffer.from(data).toString('utf8');
  const chunks: Chunk[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const clean = line.replace(/#.*/, '').replace(/\s+/g, '');
    if (!clean) return;
    try {
      chunks.push({ where: `line ${i + 1}`, protocol, bytes: fromHex(clean) });
    } catch {
      throw new NetlinkDecodeError(0, `line ${i + 1}: not hex`);
    }
  });
  return chunks;
}

function runDecode(
  io: Io,
  file: string,
  protocol: number,
  families: FamilyTable,
  { json, lenient, limit, only }: { json: boolean; lenient: boolean; limit: number; only: number | undefined },
): number {
  let chunks: Chunk[];
  try {
    chunks = readChunks(io, file, protocol);
  } catch (err) {
    if (err instanceof NetlinkDecodeError) {
      io.err(`ovs-genl: ${err.message}`);
      return 1;
    }
    throw err;
  }
  let printed = 0;
  for (const chunk of chunks) {
    const r = decode(chunk.bytes, { protocol: chunk.protocol, families, lenient });
    for (const msg of r.messages) {
      if (only !== undefined && chunk.protocol !== only) continue;
      if (printed++ >= limit) return 0;
      print(io, msg, chunk, families, json);
    }
    if (!r.ok) {
      io.err(`ovs-genl: ${chunk.where}: ${r.error.message}`);
      return 1;
    }
  }
  return 0;
}

function print(io: Io, msg: Message, chunk: Chunk, families: FamilyTable, json: boolean): void {
  if (json) {
    const obj = messageToJson(msg, families);
    io.out(JSON.stringify(chunk.packet !== undefined ? { packet: chunk.packet, ...obj } : obj));
  } else {
    const where = chunk.packet !== undefined ? `#${chunk.packet} ${protocolName(chunk.protocol)} ` : '';
    io.out(`${where}${formatMessage(msg, families)}`);
  }
}

function runEncode(io: Io, file: string, families: FamilyTable): number {
  const text = io.readInput(file).toString('utf8');
  let items: Array<{ where: string; value: unknown }>;
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('[')) {
      items = (JSON.parse(trimmed) as unknown[]).map((value, i) => ({ where: `element ${i}`, value }));
    } else {
      items = [];
      text.split(/\r?\n/).forEach((line, i) => {
        if (line.trim()) items.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
      });
    }
  } catch (err) {
    io.err(`ovs-genl: invalid JSON: ${(err as Error).message}`);
    return 1;
  }
  for (const { where, value } of items) {
    try {
      const msg = messageFromJson(value, families);
      const bytes = encode(msg);
      // Keep learning ids from nlctrl replies so later messages can name their family only.
      decode(bytes, { protocol: msg.protocol, families, lenient: true });
      io.out(hex(bytes));
    } catch (err) {
      if (err instanceof NetlinkEncodeError || err instanceof NetlinkDecodeError) {
        io.err(`ovs-genl: ${where}: ${err.message}`);
        return 1;
      }
      throw err;
    }
  }
  return 0;
}
