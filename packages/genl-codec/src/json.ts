/**
 * The JSON form of messages used by `ovs-genl decode --json` and
 * `ovs-genl encode`: header fields, flags by name, family and command names,
 * dp_ifindex, attributes keyed by their uapi constant names (in wire order)
 * with enum values by name. toJson() then fromJson() gives back a message
 * that encodes to the same bytes.
 */
import type { JsonValue } from './attr-json.js';
import { fromHex, hex } from './hex.js';
import { errnoName, errnoNumber } from './errno.js';
import { NetlinkEncodeError } from './errors.js';
import type { FamilyTable, GenlFamilyDef } from './genl.js';
import { type DoneMessage, type ErrorMessage, KNOWN_FAMILIES, type Message, cmdName, decode, encode, extAckAttrs, newFamilyTable } from './message.js';
import { NLMSG, NLM_F, NetlinkProtocol, nlmFlagNames, nlmFlagsFromNames, type NlmsgHeader } from './netlink.js';
import { rtnlFromJson, rtnlToJson } from './rtnetlink.js';

const protocolNames = new Map<number, string>(Object.entries(NetlinkProtocol).map(([k, v]) => [v, k]));

export function protocolName(protocol: number): string {
  return protocolNames.get(protocol) ?? `NETLINK_${protocol}`;
}

function protocolFromJson(v: unknown): number {
  if (v === undefined) return NetlinkProtocol.NETLINK_GENERIC;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const n = (NetlinkProtocol as Record<string, number>)[v];
    if (n !== undefined) return n;
    const m = /^NETLINK_(\d+)$/.exec(v);
    if (m) return Number(m[1]);
  }
  throw new NetlinkEncodeError('protocol', `unknown netlink protocol ${JSON.stringify(v)}`);
}

/** Which meaning of the 0x100..0x800 flag bits applies to this message. */
function flagStyle(msg: Message): 'get' | 'new' | 'del' | 'ack' {
  if (msg.kind === 'error' || msg.kind === 'done') return 'ack';
  if (msg.kind === 'genl') {
    const name = cmdName(msg.family, msg.cmd, (msg.header.flags & NLM_F.REQUEST) !== 0);
    if (name.endsWith('_NEW') || name.endsWith('_SET')) return 'new';
    if (name.endsWith('_DEL')) return 'del';
  }
  if (msg.kind === 'rtnl' && msg.header.type % 4 === 0) return 'new';
  if (msg.kind === 'rtnl' && msg.header.type % 4 === 1) return 'del';
  return 'get';
}

const controlNames: Record<number, string> = { 1: 'NLMSG_NOOP', 2: 'NLMSG_ERROR', 3: 'NLMSG_DONE', 4: 'NLMSG_OVERRUN' };

function headerJson(msg: Message): Record<string, JsonValue> {
  const h = msg.header;
  return {
    protocol: protocolName(msg.protocol),
    nlmsg_len: h.len,
    nlmsg_type: controlNames[h.type] ?? h.type,
    nlmsg_flags: nlmFlagNames(h.flags, flagStyle(msg)),
    nlmsg_seq: h.seq,
    nlmsg_pid: h.pid,
  };
}

function errorFields(error: number): Record<string, JsonValue> {
  return error === 0 ? { error: 0 } : { error, errno: errnoName(error) };
}

/**
 * The JSON object for one message. `families` decodes the request echoed in
 * an NLMSG_ERROR (it is shown decoded when that is lossless, else as hex).
 */
export function messageToJson(msg: Message, families: FamilyTable = newFamilyTable()): Record<string, JsonValue> {
  const out = headerJson(msg);
  switch (msg.kind) {
    case 'genl':
      out.family = msg.family.name;
      out.cmd = cmdName(msg.family, msg.cmd, (msg.header.flags & NLM_F.REQUEST) !== 0);
      out.version = msg.version;
      if (msg.reserved !== 0) out.reserved = msg.reserved;
      if (msg.dpIfindex !== undefined) out.dp_ifindex = msg.dpIfindex;
      out.attrs = msg.family.attrs.toJson(msg.attrs);
      break;
    case 'error':
      Object.assign(out, errorFields(msg.error));
      out.request = echoedRequestJson(msg, families);
      if (msg.ext) out.ext_ack = extAckAttrs.toJson(msg.ext);
      break;
    case 'done':
      if (msg.error !== undefined) Object.assign(out, errorFields(msg.error));
      if (msg.ext) out.ext_ack = extAckAttrs.toJson(msg.ext);
      break;
    case 'raw':
      out.payload = hex(msg.payload);
      break;
    case 'rtnl':
      Object.assign(out, rtnlToJson(msg));
      break;
  }
  return out;
}

function echoedRequestJson(msg: ErrorMessage, families: FamilyTable): JsonValue {
  if (!(msg.header.flags & NLM_F.CAPPED)) {
    const r = decode(msg.request, { protocol: msg.protocol, families, lenient: true });
    if (r.ok && r.messages.length === 1) {
      const req = r.messages[0]!;
      const bytes = encode(req);
      if (bytes.length === msg.request.length && bytes.every((b, i) => b === msg.request[i])) {
        const json = messageToJson(req, families);
        delete json.protocol;
        return json;
      }
    }
  }
  return { hex: hex(msg.request) };
}

function field(obj: Record<string, unknown>, key: string, path: string): unknown {
  if (!(key in obj)) throw new NetlinkEncodeError(path, `missing "${key}"`);
  return obj[key];
}

function intField(obj: Record<string, unknown>, key: string, path: string, fallback?: number): number {
  const v = key in obj ? obj[key] : fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new NetlinkEncodeError(`${path}.${key}`, `expected an integer, got ${JSON.stringify(v)}`);
  return v;
}

function familyByName(name: unknown, path: string): GenlFamilyDef {
  const f = typeof name === 'string' ? KNOWN_FAMILIES.get(name) : undefined;
  if (!f) throw new NetlinkEncodeError(`${path}.family`, `unknown generic netlink family ${JSON.stringify(name)}`);
  return f;
}

function typeFromJson(json: Record<string, unknown>, path: string, families: FamilyTable): number {
  const t = json.nlmsg_type;
  if (typeof t === 'string') {
    const control = Object.entries(controlNames).find(([, n]) => n === t);
    if (control) return Number(control[0]);
  }
  if (typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 0xffff) return t;
  if (t === undefined && typeof json.family === 'string') {
    const id = families.id(json.family);
    if (id !== undefined) return id;
    throw new NetlinkEncodeError(`${path}.nlmsg_type`, `no id known for family ${json.family} (pass --family ${json.family}=ID)`);
  }
  throw new NetlinkEncodeError(`${path}.nlmsg_type`, `expected a message type, got ${JSON.stringify(t)}`);
}

function extFromJson(json: Record<string, unknown>, path: string) {
  return json.ext_ack === undefined ? undefined : extAckAttrs.fromJson(json.ext_ack, `${path}.ext_ack`);
}

function errorFromJson(json: Record<string, unknown>, path: string): number {
  if (typeof json.error === 'number') return json.error;
  if (typeof json.errno === 'string') {
    const n = errnoNumber(json.errno);
    if (n !== undefined) return -n;
  }
  throw new NetlinkEncodeError(`${path}.error`, 'expected a number');
}

/** Inverse of messageToJson(). */
export function messageFromJson(input: unknown, families: FamilyTable = newFamilyTable(), path = 'message'): Message {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new NetlinkEncodeError(path, 'expected a JSON object');
  const json = input as Record<string, unknown>;
  const protocol = protocolFromJson(json.protocol);
  const flagsJson = json.nlmsg_flags ?? [];
  let flags: number;
  if (typeof flagsJson === 'number') flags = flagsJson;
  else if (Array.isArray(flagsJson) && flagsJson.every((f) => typeof f === 'string')) {
    try {
      flags = nlmFlagsFromNames(flagsJson as string[]);
    } catch (err) {
      throw new NetlinkEncodeError(`${path}.nlmsg_flags`, (err as Error).message);
    }
  } else throw new NetlinkEncodeError(`${path}.nlmsg_flags`, 'expected an array of flag names');
  const header: NlmsgHeader = {
    len: 0,
    type: typeFromJson(json, path, families),
    flags,
    seq: intField(json, 'nlmsg_seq', path, 0),
    pid: intField(json, 'nlmsg_pid', path, 0),
  };
  if (header.type === NLMSG.ERROR) {
    const req = field(json, 'request', path);
    let request: Uint8Array;
    if (req !== null && typeof req === 'object' && 'hex' in req && typeof (req as { hex: unknown }).hex === 'string') {
      request = fromHex((req as { hex: string }).hex, `${path}.request.hex`);
    } else {
      request = encode(messageFromJson({ protocol, ...(req as object) }, families, `${path}.request`));
    }
    const msg: ErrorMessage = { kind: 'error', protocol, header, error: errorFromJson(json, path), request };
    const ext = extFromJson(json, path);
    if (ext) msg.ext = ext;
    return msg;
  }
  if (header.type === NLMSG.DONE) {
    const msg: DoneMessage = { kind: 'done', protocol, header };
    if (json.error !== undefined || json.errno !== undefined) msg.error = errorFromJson(json, path);
    const ext = extFromJson(json, path);
    if (ext) msg.ext = ext;
    return msg;
  }
  if (typeof json.payload === 'string') return { kind: 'raw', protocol, header, payload: fromHex(json.payload, `${path}.payload`) };
  if (json.family !== undefined) {
    const family = familyByName(json.family, path);
    const cmdJson = field(json, 'cmd', path);
    const cmd = typeof cmdJson === 'string' ? (family.cmds[cmdJson] ?? family.kernelCmds?.[cmdJson] ?? /^CMD_(\d+)$/.exec(cmdJson)?.map(Number)[1]) : cmdJson;
    if (typeof cmd !== 'number' || !Number.isInteger(cmd) || cmd < 0 || cmd > 255) {
      throw new NetlinkEncodeError(`${path}.cmd`, `unknown ${family.name} command ${JSON.stringify(cmdJson)}`);
    }
    return {
      kind: 'genl',
      protocol,
      header,
      family,
      cmd,
      version: intField(json, 'version', path, family.version),
      reserved: intField(json, 'reserved', path, 0),
      ...(family.userHeader ? { dpIfindex: intField(json, 'dp_ifindex', path, 0) } : {}),
      attrs: family.attrs.fromJson(json.attrs ?? {}, `${path}.attrs`),
    };
  }
  if (protocol === NetlinkProtocol.NETLINK_ROUTE) return rtnlFromJson(json, header, protocol);
  throw new NetlinkEncodeError(path, 'cannot tell the message kind: expected "family", "payload", or an NLMSG_ERROR/NLMSG_DONE type');
}
