/**
 * Whole netlink messages: nlmsghdr + payload, for every protocol the stack
 * speaks. decode() is total: whatever the bytes, it gives typed messages or a typed error
 * naming the offset; it never throws and never reads past the buffer.
 */
import { AttrSet, type AttrsOf, attr } from './attr-set.js';
import { DecodeContext, binary, nested, prefixed, s64, string, u32, u32Enum, u64 } from './codecs.js';
import { SlabWriter, type Writer } from './writer.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import { ethtoolFamily } from './ethtool.js';
import { FamilyTable, type GenlFamilyDef, ctrlFamily, CTRL_CMD } from './genl.js';
import { align4, GENL_HDRLEN, isZero, NetlinkProtocol, NLA_F_NESTED, NLM_F, NLMSG, NLMSG_HDRLEN, type NlmsgHeader } from './netlink.js';
import { ovsCtLimitFamily, ovsDatapathFamily, ovsFlowFamily, ovsMeterFamily, ovsPacketFamily, ovsVportFamily } from './ovs.js';
import { NL_ATTR_TYPE } from './policy.js';
import { type RtnlMessage, decodeRtnl, writeRtnl } from './rtnetlink.js';

/** NL_POLICY_TYPE_ATTR_*, in the order the kernel writes them (type last). */
export const nlPolicyTypeAttrs = new AttrSet('netlink_policy_type_attr', {
  minValueU: attr(4, 'NL_POLICY_TYPE_ATTR_MIN_VALUE_U', u64),
  maxValueU: attr(5, 'NL_POLICY_TYPE_ATTR_MAX_VALUE_U', u64),
  minValueS: attr(2, 'NL_POLICY_TYPE_ATTR_MIN_VALUE_S', s64),
  maxValueS: attr(3, 'NL_POLICY_TYPE_ATTR_MAX_VALUE_S', s64),
  mask: attr(12, 'NL_POLICY_TYPE_ATTR_MASK', u64),
  minLength: attr(6, 'NL_POLICY_TYPE_ATTR_MIN_LENGTH', u32),
  maxLength: attr(7, 'NL_POLICY_TYPE_ATTR_MAX_LENGTH', u32),
  policyIdx: attr(8, 'NL_POLICY_TYPE_ATTR_POLICY_IDX', u32),
  policyMaxtype: attr(9, 'NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE', u32),
  bitfield32Mask: attr(10, 'NL_POLICY_TYPE_ATTR_BITFIELD32_MASK', u32),
  pad: attr(11, 'NL_POLICY_TYPE_ATTR_PAD', binary()),
  type: attr(1, 'NL_POLICY_TYPE_ATTR_TYPE', u32Enum(prefixed('NL_ATTR_TYPE_', NL_ATTR_TYPE))),
});

/** Extended-ack TLVs (NLMSGERR_ATTR_*), in netlink_ack_tlv_fill() order. */
export const extAckAttrs = new AttrSet('nlmsgerr_attrs', {
  msg: attr(1, 'NLMSGERR_ATTR_MSG', string({ nul: true })),
  cookie: attr(3, 'NLMSGERR_ATTR_COOKIE', binary()),
  offs: attr(2, 'NLMSGERR_ATTR_OFFS', u32),
  // netlink_policy_dump_write_attr() opens the nest with nla_nest_start(): NLA_F_NESTED is set.
  policy: attr(4, 'NLMSGERR_ATTR_POLICY', nested(nlPolicyTypeAttrs), undefined, NLA_F_NESTED),
  missType: attr(5, 'NLMSGERR_ATTR_MISS_TYPE', u32),
  missNest: attr(6, 'NLMSGERR_ATTR_MISS_NEST', u32),
});
export type ExtAck = AttrsOf<typeof extAckAttrs>;

/** The families this codec can decode by name; ids come from a FamilyTable. */
export const KNOWN_FAMILIES: ReadonlyMap<string, GenlFamilyDef> = new Map<string, GenlFamilyDef>(
  [ctrlFamily, ethtoolFamily, ovsDatapathFamily, ovsVportFamily, ovsFlowFamily, ovsPacketFamily, ovsMeterFamily, ovsCtLimitFamily].map((f) => [
    f.name,
    f as GenlFamilyDef,
  ]),
);

/** A fresh id table knowing every family of this codec (only nlctrl's id is fixed). */
export function newFamilyTable(ids: Readonly<Record<string, number>> = {}): FamilyTable {
  const t = new FamilyTable(KNOWN_FAMILIES);
  for (const [name, id] of Object.entries(ids)) t.set(name, id);
  return t;
}

/** A generic netlink message of a known family. */
export interface GenlMessage<F extends GenlFamilyDef = GenlFamilyDef> {
  kind: 'genl';
  protocol: number;
  header: NlmsgHeader;
  family: F;
  cmd: number;
  version: number;
  reserved: number;
  /** struct ovs_header.dp_ifindex, for families that have that header. */
  dpIfindex?: number;
  attrs: AttrsOf<F['attrs']>;
}

/** NLMSG_ERROR: an error (error < 0) or an ack (error == 0). */
export interface ErrorMessage {
  kind: 'error';
  protocol: number;
  header: NlmsgHeader;
  /** nlmsgerr.error: 0 or a negative errno. */
  error: number;
  /** The echoed request: its header, and its payload unless NLM_F_CAPPED. */
  request: Uint8Array;
  ext?: ExtAck;
}

/** NLMSG_DONE: the end of a dump, possibly carrying an error and extended ack. */
export interface DoneMessage {
  kind: 'done';
  protocol: number;
  header: NlmsgHeader;
  error?: number;
  ext?: ExtAck;
}

/** NLMSG_NOOP / NLMSG_OVERRUN, a message of an unknown family or protocol. */
export interface RawMessage {
  kind: 'raw';
  protocol: number;
  header: NlmsgHeader;
  payload: Uint8Array;
}

export type Message = GenlMessage | ErrorMessage | DoneMessage | RawMessage | RtnlMessage;

export interface DecodeOptions {
  /** NETLINK_GENERIC (default) or NETLINK_ROUTE, ... */
  protocol?: number;
  /**
   * Keep attributes whose payload does not fit their type (a 2-byte u32, a
   * string without its NUL...) as raw attributes marked `invalid` instead of
   * failing: what a capture of requests the kernel rejected needs.
   */
  lenient?: boolean;
  /** Family ids; learned from CTRL_CMD_NEWFAMILY replies as they are decoded. */
  families?: FamilyTable;
}

export type DecodeResult = { ok: true; messages: Message[] } | { ok: false; messages: Message[]; error: NetlinkDecodeError };

const EMPTY: Message[] = [];

// Decoders work on views of the whole ArrayBuffer with absolute offsets, so
// that messages carved out of one buffer (a slab, a datagram) share the views.
let lastBuffer: ArrayBufferLike | undefined;
let lastU8: Uint8Array = new Uint8Array(0);
let lastDv: DataView = new DataView(lastU8.buffer);

/** Decode every netlink message in `bytes` (one datagram, or several messages back to back). */
export function decode(bytes: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  const ctx = new DecodeContext(opts.lenient ?? false);
  const protocol = opts.protocol ?? NetlinkProtocol.NETLINK_GENERIC;
  const families = opts.families ?? newFamilyTable();
  const ab = bytes.buffer;
  if (ab !== lastBuffer || lastU8.length < bytes.byteOffset + bytes.length) {
    lastBuffer = ab;
    lastU8 = new Uint8Array(ab);
    lastDv = new DataView(ab);
  }
  const buf = lastU8;
  const base = bytes.byteOffset;
  const limit = base + bytes.length;
  // Usually one message: `[msg]` allocates just what it needs, where push() into [] reserves 16 slots.
  let messages: Message[] = EMPTY;
  let off = base;
  try {
    while (off < limit) {
      const msg = decodeAt(buf, lastDv, off, limit, protocol, families, ctx);
      if (messages === EMPTY) messages = [msg];
      else messages.push(msg);
      const end = off + msg.header.len;
      off = Math.min(limit, off + align4(msg.header.len));
      if (!isZero(buf, end, off)) throw new NetlinkDecodeError(end, 'non-zero padding after the message');
    }
  } catch (err) {
    if (messages === EMPTY) messages = [];
    if (err instanceof NetlinkDecodeError) return { ok: false, messages, error: new NetlinkDecodeError(err.offset - base, err.reason) };
    // Anything else is a bug in a decoder; still report it as a decode error, with the offset.
    return { ok: false, messages, error: new NetlinkDecodeError(off - base, `internal decoder error: ${String(err)}`) };
  }
  return { ok: true, messages: messages === EMPTY ? [] : messages };
}

/** Decode exactly one message; bytes after it are an error. */
export function decodeOne(bytes: Uint8Array, opts: DecodeOptions = {}): { ok: true; message: Message } | { ok: false; error: NetlinkDecodeError } {
  const r = decode(bytes, opts);
  if (!r.ok) return r;
  if (r.messages.length !== 1) return { ok: false, error: new NetlinkDecodeError(0, `expected one message, found ${r.messages.length}`) };
  return { ok: true, message: r.messages[0]! };
}

function readHeader(dv: DataView, off: number): NlmsgHeader {
  return {
    len: dv.getUint32(off, true),
    type: dv.getUint16(off + 4, true),
    flags: dv.getUint16(off + 6, true),
    seq: dv.getUint32(off + 8, true),
    pid: dv.getUint32(off + 12, true),
  };
}

function decodeAt(buf: Uint8Array, dv: DataView, off: number, limit: number, protocol: number, families: FamilyTable, ctx: DecodeContext): Message {
  const left = limit - off;
  if (left < NLMSG_HDRLEN) throw new NetlinkDecodeError(off, `truncated nlmsghdr (${left} bytes, need ${NLMSG_HDRLEN})`);
  const header = readHeader(dv, off);
  if (header.len < NLMSG_HDRLEN) throw new NetlinkDecodeError(off, `nlmsg_len ${header.len} is shorter than the ${NLMSG_HDRLEN}-byte header`);
  if (header.len > left) throw new NetlinkDecodeError(off, `nlmsg_len ${header.len} runs past the buffer (${left} bytes left)`);
  const start = off + NLMSG_HDRLEN;
  const end = off + header.len;
  switch (header.type) {
    case NLMSG.ERROR:
      return decodeError(buf, dv, header, start, end, protocol, ctx);
    case NLMSG.DONE:
      return decodeDone(buf, dv, header, start, end, protocol, ctx);
    case NLMSG.NOOP:
    case NLMSG.OVERRUN:
      return { kind: 'raw', protocol, header, payload: buf.slice(start, end) };
  }
  if (protocol === NetlinkProtocol.NETLINK_GENERIC) {
    const family = families.byId(header.type);
    if (family !== undefined && describes(family, end - start >= GENL_HDRLEN ? buf[start]! : undefined, header.flags)) {
      const msg = decodeGenl(buf, dv, header, start, end, protocol, family, ctx);
      if (family === ctrlFamily && msg.cmd === CTRL_CMD.NEWFAMILY) families.learn(msg.attrs as AttrsOf<typeof ctrlFamily.attrs>);
      return msg;
    }
  } else if (protocol === NetlinkProtocol.NETLINK_ROUTE) {
    const msg = decodeRtnl(buf, dv, header, start, end, ctx);
    if (msg !== undefined) return msg;
  }
  return { kind: 'raw', protocol, header, payload: buf.slice(start, end) };
}

/** Whether the family's attribute set describes a message of this command (undefined: too short to tell). */
function describes(family: GenlFamilyDef, cmd: number | undefined, flags: number): boolean {
  const only = family.attrsCmds;
  if (only === undefined || cmd === undefined) return true;
  return (flags & NLM_F.REQUEST ? only.request : only.kernel).includes(cmd);
}

function decodeGenl(
  buf: Uint8Array,
  dv: DataView,
  header: NlmsgHeader,
  start: number,
  end: number,
  protocol: number,
  family: GenlFamilyDef,
  ctx: DecodeContext,
): GenlMessage {
  const fixed = family.userHeader === undefined ? 0 : 4;
  if (end - start < GENL_HDRLEN + fixed) {
    throw new NetlinkDecodeError(start, `${family.name} message too short for genlmsghdr${fixed ? ' + ovs_header' : ''} (${end - start} bytes)`);
  }
  // One literal with every field, so all genl messages share one object shape.
  return {
    kind: 'genl',
    protocol,
    header,
    family,
    cmd: buf[start]!,
    version: buf[start + 1]!,
    reserved: dv.getUint16(start + 2, true),
    dpIfindex: fixed ? dv.getInt32(start + GENL_HDRLEN, true) : undefined,
    attrs: family.attrs.decode(buf, dv, start + GENL_HDRLEN + fixed, end, ctx),
  };
}

function decodeExtAck(buf: Uint8Array, dv: DataView, header: NlmsgHeader, off: number, end: number, ctx: DecodeContext): ExtAck | undefined {
  if (header.flags & NLM_F.ACK_TLVS) return extAckAttrs.decode(buf, dv, off, end, ctx);
  if (off < end) throw new NetlinkDecodeError(off, `${end - off} unexpected bytes after the message (no NLM_F_ACK_TLVS)`);
  return undefined;
}

function decodeError(buf: Uint8Array, dv: DataView, header: NlmsgHeader, start: number, end: number, protocol: number, ctx: DecodeContext): ErrorMessage {
  if (end - start < 4 + NLMSG_HDRLEN) throw new NetlinkDecodeError(start, `NLMSG_ERROR too short for struct nlmsgerr (${end - start} bytes)`);
  const error = dv.getInt32(start, true);
  const echoStart = start + 4;
  let echoLen = NLMSG_HDRLEN;
  if (!(header.flags & NLM_F.CAPPED)) {
    echoLen = dv.getUint32(echoStart, true);
    if (echoLen < NLMSG_HDRLEN || echoLen > end - echoStart) {
      throw new NetlinkDecodeError(echoStart, `echoed request length ${echoLen} does not fit the NLMSG_ERROR (${end - echoStart} bytes left)`);
    }
  }
  const echoEnd = echoStart + echoLen;
  const msg: ErrorMessage = { kind: 'error', protocol, header, error, request: buf.slice(echoStart, echoEnd) };
  // The kernel's nlmsg_len covers the echoed request padded to NLMSG_ALIGN (a request whose
  // nlmsg_len is not a multiple of 4 leaves up to 3 zero bytes); extack TLVs follow that.
  const extStart = echoStart + align4(echoLen);
  if (extStart > end) throw new NetlinkDecodeError(echoEnd, `NLMSG_ERROR ends inside the padding of the echoed request (${extStart - end} bytes short)`);
  if (!isZero(buf, echoEnd, extStart)) throw new NetlinkDecodeError(echoEnd, 'non-zero padding after the echoed request');
  if (extStart === end) return msg;
  if (!(header.flags & NLM_F.ACK_TLVS))
    throw new NetlinkDecodeError(extStart, `${end - extStart} unexpected bytes after the echoed request (no NLM_F_ACK_TLVS)`);
  msg.ext = extAckAttrs.decode(buf, dv, extStart, end, ctx);
  return msg;
}

function decodeDone(buf: Uint8Array, dv: DataView, header: NlmsgHeader, start: number, end: number, protocol: number, ctx: DecodeContext): DoneMessage {
  const msg: DoneMessage = { kind: 'done', protocol, header };
  if (end === start) return msg;
  if (end - start < 4) throw new NetlinkDecodeError(start, `NLMSG_DONE payload of ${end - start} bytes (expected an int)`);
  msg.error = dv.getInt32(start, true);
  const ext = decodeExtAck(buf, dv, header, start + 4, end, ctx);
  if (ext !== undefined) msg.ext = ext;
  return msg;
}

// ---------------------------------------------------------------------------
// Encoding

const slab = new SlabWriter();

/** Encode one message. nlmsg_len is computed; every other header field is taken as given. */
export function encode(msg: Message): Uint8Array {
  const start = slab.begin();
  try {
    encodeInto(slab, msg);
  } catch (err) {
    slab.pos = start;
    throw err;
  }
  return slab.view(start);
}

/** Encode several messages back to back (one datagram). */
export function encodeAll(msgs: readonly Message[]): Uint8Array {
  const start = slab.begin();
  try {
    for (const m of msgs) {
      slab.pad();
      encodeInto(slab, m);
    }
  } catch (err) {
    slab.pos = start;
    throw err;
  }
  return slab.view(start);
}

/** Append one message to a writer. */
function encodeInto(w: Writer, msg: Message): void {
  const start = w.pos;
  const h = msg.header;
  w.ensure(NLMSG_HDRLEN);
  w.dv.setUint16(start + 4, h.type, true);
  w.dv.setUint16(start + 6, h.flags, true);
  w.dv.setUint32(start + 8, h.seq >>> 0, true);
  w.dv.setUint32(start + 12, h.pid >>> 0, true);
  w.pos += NLMSG_HDRLEN;
  switch (msg.kind) {
    case 'genl': {
      w.ensure(GENL_HDRLEN + 4);
      w.buf[w.pos] = msg.cmd;
      w.buf[w.pos + 1] = msg.version;
      w.dv.setUint16(w.pos + 2, msg.reserved, true);
      w.pos += GENL_HDRLEN;
      if (msg.family.userHeader) {
        w.dv.setInt32(w.pos, msg.dpIfindex ?? 0, true);
        w.pos += 4;
      }
      msg.family.attrs.write(w, msg.attrs, msg.family.name);
      break;
    }
    case 'error':
      w.ensure(4);
      w.dv.setInt32(w.pos, msg.error, true);
      w.pos += 4;
      // netlink_ack() puts the echo with nlmsg_put(), which reserves NLMSG_ALIGN of it, and
      // nlmsg_end() makes nlmsg_len cover that padding (a 31-byte request: nlmsg_len 52).
      w.bytes(msg.request);
      w.pad();
      if (msg.ext) extAckAttrs.write(w, msg.ext);
      break;
    case 'done':
      if (msg.error !== undefined) {
        w.ensure(4);
        w.dv.setInt32(w.pos, msg.error, true);
        w.pos += 4;
      }
      if (msg.ext) extAckAttrs.write(w, msg.ext);
      break;
    case 'raw':
      w.bytes(msg.payload);
      break;
    case 'rtnl':
      writeRtnl(w, msg);
      break;
    default:
      throw new NetlinkEncodeError('', `unknown message kind ${JSON.stringify((msg as { kind: unknown }).kind)}`);
  }
  w.dv.setUint32(start, w.pos - start, true);
}

/** Is `msg` a message of `family`? Narrows the attribute type. */
export function isFamily<F extends GenlFamilyDef>(msg: Message, family: F): msg is GenlMessage<F> {
  return msg.kind === 'genl' && msg.family === (family as GenlFamilyDef);
}

/**
 * The name of a genl command, e.g. OVS_VPORT_CMD_NEW; `request` false for a
 * message from the kernel, for families that number those apart (ethtool).
 */
export function cmdName(family: GenlFamilyDef, cmd: number, request = true): string {
  const names = request ? family.cmds : (family.kernelCmds ?? family.cmds);
  for (const [name, value] of Object.entries(names)) if (value === cmd) return name;
  return `CMD_${cmd}`;
}
