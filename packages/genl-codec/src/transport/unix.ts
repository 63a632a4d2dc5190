/**
 * A netlink socket carried over a unix-domain stream socket: the client side
 * of the `ovs-kernel` daemon, and the wire format both ends speak.
 *
 * Each stream connection is one netlink socket. All integers are u32
 * little-endian unless noted.
 *
 *   frame      := length:u32  type:u8  payload[length - 1]
 *                 (length counts the type byte and the payload; at most
 *                 UNIX_MAX_FRAME_LENGTH; a frame that breaks a rule below ends the
 *                 connection)
 *
 *   client -> daemon
 *     HELLO      1  version:u8 (=1)  flags:u8  reserved:u16 (=0)  protocol:u32
 *                   portId:u32 (0: let the kernel choose)  rcvbuf:u32 (0: the
 *                   kernel's default)  netns:utf8 (the rest; empty: "init").
 *                   flags: 1 CAP_NET_ADMIN (the daemon grants it only to a
 *                   client that has it; without the flag a client gives it
 *                   up), 2 NETLINK_EXT_ACK, 4 NETLINK_CAP_ACK.
 *                   The first frame, and only once. Answered by RESULT, whose
 *                   value is the socket's port id; on an errno (e.g.
 *                   EPROTONOSUPPORT, EADDRINUSE) the daemon then ends the
 *                   connection.
 *     TO_KERNEL  3  one datagram (sendmsg). Answered by RESULT once the kernel
 *                   has handled it; the FROM_KERNEL frames it caused come
 *                   before that RESULT.
 *     JOIN       5  group:u32 (NETLINK_ADD_MEMBERSHIP). Answered by RESULT.
 *     LEAVE      6  group:u32 (NETLINK_DROP_MEMBERSHIP). Answered by RESULT.
 *     CLOSE      8  (empty) close(): the daemon closes the socket and ends the
 *                   connection.
 *     TRACE      9  on:u32 (0 or 1): have the kernel report the functions it
 *                   runs for this socket's requests (KTRACE). Answered by RESULT.
 *     FAULT     11  the kernel's fault injection, as its debugfs files would
 *                   be written: op:u8 (0 SHOW, 1 SET, 2 CLEAR)  mask:u8 (SET:
 *                   which values follow are meant: 1 probability, 2 interval,
 *                   4 times, 8 space, 16 verbose)  reserved:u16 (=0), then
 *                   for SET five i32 (probability, interval, times, space,
 *                   verbose), then the point's name:utf8 (the rest; CLEAR
 *                   with no name clears every point). May come instead of
 *                   HELLO: a control connection with no netlink socket (so
 *                   fail_netlink_create can be cleared), sending only FAULT
 *                   frames. Answered by RESULT whose message is the points'
 *                   state after it as JSON (an errno, e.g. EINVAL for an
 *                   unknown point or a value out of range, EPERM for a
 *                   client without CAP_NET_ADMIN, changes nothing).
 *
 *   daemon -> client
 *     RESULT     2  errno:u32 (0: success)  value:u32  message:utf8 (optional).
 *                   Answers HELLO, TO_KERNEL, JOIN, LEAVE one for one, in order.
 *     FROM_KERNEL 4 one datagram the kernel queued for the socket (a reply,
 *                   a dump chunk, a multicast notification), in queue order.
 *     RECV_ERROR 7  errno:u32: recvmsg() would fail here with this errno
 *                   (ENOBUFS after the receive queue overran); in order with
 *                   FROM_KERNEL.
 *     CLOSE      8  reason:utf8 (optional): the daemon is shutting down; the
 *                   connection ends next.
 *     KTRACE    10  events:utf8, a JSON array of KernelTraceEvent: kernel
 *                   functions run for this socket (while TRACE is on), sent
 *                   before the FROM_KERNEL frames they produced.
 *
 * Datagrams flow as soon as the kernel queues them; a multicast caused by
 * another connection arrives without this client asking. The client keeps
 * what arrives in order; recv() hands it out, and rejects with ENOBUFS where
 * a RECV_ERROR stood. When the connection is lost, datagrams already received
 * are still returned, then recv() rejects with ECONNRESET and send() with
 * EPIPE (UnixNetlinkConnectionError, a NetlinkErrnoError saying why); after
 * close() everything rejects with EBADF.
 */
import { createConnection, type Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { Errno, errnoNumber, strerror } from '../errno.js';
import { NetlinkErrnoError, brandClass, errorBrand, hasBrand } from '../errors.js';
import { type KernelTraceEvent, type NetlinkSocket, type NetlinkSocketOptions, type RecvWaiter, recvOrPark } from '../socket.js';

export const UNIX_NETLINK_VERSION = 1;

/** Frame types (the type byte). */
export const UNIX_FRAME = {
  HELLO: 1,
  RESULT: 2,
  TO_KERNEL: 3,
  FROM_KERNEL: 4,
  JOIN: 5,
  LEAVE: 6,
  RECV_ERROR: 7,
  CLOSE: 8,
  TRACE: 9,
  KTRACE: 10,
  FAULT: 11,
} as const;

/** FAULT operations. */
export const UNIX_FAULT_OP = { SHOW: 0, SET: 1, CLEAR: 2 } as const;

/** The fault_attr values a FAULT SET carries, in wire order. */
export const UNIX_FAULT_ATTRS = ['probability', 'interval', 'times', 'space', 'verbose'] as const;

/** What a FAULT frame asks. */
export type UnixFault =
  | { op: 'show' }
  | { op: 'clear'; point?: string }
  | { op: 'set'; point: string; attrs: Partial<Record<(typeof UNIX_FAULT_ATTRS)[number], number>> };

/** HELLO flags. */
export const UNIX_HELLO_FLAG = {
  CAP_NET_ADMIN: 1,
  EXT_ACK: 2,
  CAP_ACK: 4,
} as const;

/** The largest frame either end accepts (length field). */
export const UNIX_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

const CONNECTION = errorBrand('UnixNetlinkConnectionError');
const FRAME = errorBrand('UnixFrameError');

/**
 * The connection to the daemon failed or was lost (connect() errors, no
 * answer to HELLO, ECONNRESET, EPIPE, EPROTO): an error of the transport, not
 * an errno the kernel answered. The reason, for people, is in extackMessage.
 */
export class UnixNetlinkConnectionError extends NetlinkErrnoError {
  constructor(errno: number, reason: string) {
    super(errno, reason);
  }

  get reason(): string {
    return this.extackMessage ?? '';
  }

  /** Whether `x` is a UnixNetlinkConnectionError of any copy of this package. */
  static override isInstance(x: unknown): x is UnixNetlinkConnectionError {
    return hasBrand(x, CONNECTION);
  }

  static {
    brandClass(UnixNetlinkConnectionError, CONNECTION);
  }
}

/** A frame that breaks the format. */
export class UnixFrameError extends Error {
  override readonly name = 'UnixFrameError';

  /** Whether `x` is a UnixFrameError of any copy of this package. */
  static isInstance(x: unknown): x is UnixFrameError {
    return hasBrand(x, FRAME);
  }

  static {
    brandClass(UnixFrameError, FRAME);
  }
}

export interface UnixFrame {
  type: number;
  payload: Buffer;
}

/** One frame's bytes. */
export function encodeUnixFrame(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt32LE(payload.length + 1, 0);
  out.writeUInt8(type, 4);
  out.set(payload, 5);
  return out;
}

/** A frame whose payload is one u32 (JOIN, LEAVE, RECV_ERROR). */
export function encodeUnixU32Frame(type: number, value: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32LE(value >>> 0, 0);
  return encodeUnixFrame(type, p);
}

/** The RESULT frame. */
export function encodeUnixResult(errno: number, value = 0, message?: string): Buffer {
  const text = message ? Buffer.from(message, 'utf8') : Buffer.alloc(0);
  const p = Buffer.allocUnsafe(8 + text.length);
  p.writeUInt32LE(Math.abs(errno), 0);
  p.writeUInt32LE(value >>> 0, 4);
  text.copy(p, 8);
  return encodeUnixFrame(UNIX_FRAME.RESULT, p);
}

export interface UnixResult {
  errno: number;
  value: number;
  message?: string;
}

export function decodeUnixResult(payload: Buffer): UnixResult {
  if (payload.length < 8) throw new UnixFrameError(`RESULT of ${payload.length} bytes (at least 8)`);
  const message = payload.length > 8 ? payload.toString('utf8', 8) : undefined;
  return { errno: payload.readUInt32LE(0), value: payload.readUInt32LE(4), ...(message ? { message } : {}) };
}

export function decodeUnixU32(frame: UnixFrame): number {
  if (frame.payload.length !== 4) throw new UnixFrameError(`frame type ${frame.type} with ${frame.payload.length} bytes (expected 4)`);
  return frame.payload.readUInt32LE(0);
}

/** The KTRACE frame. */
export function encodeUnixKtrace(events: readonly KernelTraceEvent[]): Buffer {
  return encodeUnixFrame(UNIX_FRAME.KTRACE, Buffer.from(JSON.stringify(events), 'utf8'));
}

/** A KTRACE frame's events, each checked: a malformed one is a UnixFrameError. */
export function decodeUnixKtrace(payload: Buffer): KernelTraceEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new UnixFrameError('KTRACE is not JSON');
  }
  if (!Array.isArray(parsed)) throw new UnixFrameError('KTRACE is not an array');
  return parsed.map((e: unknown, i) => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const ok =
      Number.isInteger(o.depth) &&
      (o.depth as number) >= 0 &&
      typeof o.layer === 'string' &&
      typeof o.fn === 'string' &&
      (o.note === undefined || typeof o.note === 'string') &&
      (o.ret === undefined || typeof o.ret === 'string');
    if (!ok) throw new UnixFrameError(`KTRACE event ${i} is malformed`);
    const ev: KernelTraceEvent = { depth: o.depth as number, layer: o.layer as string, fn: o.fn as string };
    if (o.note !== undefined) ev.note = o.note as string;
    if (o.ret !== undefined) ev.ret = o.ret as string;
    return ev;
  });
}

/** The FAULT frame. */
export function encodeUnixFault(f: UnixFault): Buffer {
  const name = Buffer.from(f.op === 'show' ? '' : (f.point ?? ''), 'utf8');
  const fixed = f.op === 'set' ? 24 : 4;
  const p = Buffer.alloc(fixed + name.length);
  p.writeUInt8(UNIX_FAULT_OP[f.op === 'show' ? 'SHOW' : f.op === 'set' ? 'SET' : 'CLEAR'], 0);
  if (f.op === 'set') {
    let mask = 0;
    UNIX_FAULT_ATTRS.forEach((k, i) => {
      const v = f.attrs[k];
      if (v === undefined) return;
      mask |= 1 << i;
      p.writeInt32LE(v, 4 + 4 * i);
    });
    p.writeUInt8(mask, 1);
  }
  name.copy(p, fixed);
  return encodeUnixFrame(UNIX_FRAME.FAULT, p);
}

/** A FAULT frame's request; anything malformed is a UnixFrameError. */
export function decodeUnixFault(payload: Buffer): UnixFault {
  if (payload.length < 4) throw new UnixFrameError(`FAULT of ${payload.length} bytes (at least 4)`);
  const op = payload.readUInt8(0);
  const mask = payload.readUInt8(1);
  if (payload.readUInt16LE(2) !== 0) throw new UnixFrameError('FAULT reserved bytes are not 0');
  switch (op) {
    case UNIX_FAULT_OP.SHOW:
      if (payload.length !== 4 || mask !== 0) throw new UnixFrameError('FAULT SHOW carries nothing');
      return { op: 'show' };
    case UNIX_FAULT_OP.CLEAR: {
      if (mask !== 0) throw new UnixFrameError('FAULT CLEAR has no values');
      const point = payload.toString('utf8', 4);
      return point ? { op: 'clear', point } : { op: 'clear' };
    }
    case UNIX_FAULT_OP.SET: {
      if (payload.length < 24) throw new UnixFrameError(`FAULT SET of ${payload.length} bytes (at least 24)`);
      if (mask >= 1 << UNIX_FAULT_ATTRS.length) throw new UnixFrameError(`FAULT SET mask ${mask}`);
      const attrs: Partial<Record<(typeof UNIX_FAULT_ATTRS)[number], number>> = {};
      UNIX_FAULT_ATTRS.forEach((k, i) => {
        if (mask & (1 << i)) attrs[k] = payload.readInt32LE(4 + 4 * i);
      });
      return { op: 'set', point: payload.toString('utf8', 24), attrs };
    }
    default:
      throw new UnixFrameError(`FAULT op ${op}`);
  }
}

/**
 * Send one FAULT request on a control connection to the daemon at `path`
 * (no netlink socket is opened) and return the points' state it answers
 * with; an errno answer rejects with a NetlinkErrnoError.
 */
export async function unixFaultRequest(path: string, f: UnixFault, timeoutMs = 10000): Promise<unknown> {
  const stream = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection(path);
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      reject(new UnixNetlinkConnectionError(errnoNumber(err.code ?? '') ?? Errno.EIO, `cannot connect to ${path}: ${connectReason(err.code)}`));
    });
    s.once('connect', () => resolve(s));
  });
  try {
    const reader = new UnixFrameReader();
    const answer = new Promise<UnixResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UnixNetlinkConnectionError(Errno.ETIMEDOUT, `no answer from ${path}`)), timeoutMs);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new UnixNetlinkConnectionError(Errno.EPROTO, why));
      };
      stream.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk);
          const frame = reader.next();
          if (frame === undefined) return;
          clearTimeout(timer);
          if (frame.type !== UNIX_FRAME.RESULT) return fail(`unexpected frame type ${frame.type} from ${path}`);
          resolve(decodeUnixResult(frame.payload));
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        }
      });
      stream.on('close', () => fail(`${path} closed the connection`));
    });
    stream.write(encodeUnixFault(f));
    const r = await answer;
    if (r.errno !== 0) throw new NetlinkErrnoError(r.errno, r.message);
    try {
      return JSON.parse(r.message ?? 'null') as unknown;
    } catch {
      throw new UnixNetlinkConnectionError(Errno.EPROTO, 'FAULT answer is not JSON');
    }
  } finally {
    stream.destroy();
  }
}

/** What a HELLO carries. */
export interface UnixHello {
  version: number;
  protocol: number;
  /** 0: the kernel chooses. */
  portId: number;
  /** 0: the kernel's default. */
  rcvbuf: number;
  netns: string;
  capNetAdmin: boolean;
  extAck: boolean;
  capAck: boolean;
}

export function encodeUnixHello(h: Omit<UnixHello, 'version'> & { version?: number }): Buffer {
  const name = Buffer.from(h.netns, 'utf8');
  const p = Buffer.alloc(16 + name.length);
  p.writeUInt8(h.version ?? UNIX_NETLINK_VERSION, 0);
  p.writeUInt8((h.capNetAdmin ? UNIX_HELLO_FLAG.CAP_NET_ADMIN : 0) | (h.extAck ? UNIX_HELLO_FLAG.EXT_ACK : 0) | (h.capAck ? UNIX_HELLO_FLAG.CAP_ACK : 0), 1);
  p.writeUInt32LE(h.protocol >>> 0, 4);
  p.writeUInt32LE(h.portId >>> 0, 8);
  p.writeUInt32LE(h.rcvbuf >>> 0, 12);
  name.copy(p, 16);
  return encodeUnixFrame(UNIX_FRAME.HELLO, p);
}

/** A HELLO's payload; the version is returned as sent (the daemon decides what it accepts). */
export function decodeUnixHello(payload: Buffer): UnixHello {
  if (payload.length < 16) throw new UnixFrameError(`HELLO of ${payload.length} bytes (at least 16)`);
  const flags = payload.readUInt8(1);
  return {
    version: payload.readUInt8(0),
    protocol: payload.readUInt32LE(4),
    portId: payload.readUInt32LE(8),
    rcvbuf: payload.readUInt32LE(12),
    netns: payload.toString('utf8', 16) || 'init',
    capNetAdmin: (flags & UNIX_HELLO_FLAG.CAP_NET_ADMIN) !== 0,
    extAck: (flags & UNIX_HELLO_FLAG.EXT_ACK) !== 0,
    capAck: (flags & UNIX_HELLO_FLAG.CAP_ACK) !== 0,
  };
}

/** Splits a byte stream into frames; copes with frames split across and packed into chunks. */
export class UnixFrameReader {
  private chunks: Buffer[] = [];
  private length = 0;

  /** `maxLength`: the largest frame length accepted (a reader may be stricter than the format). */
  constructor(private readonly maxLength = UNIX_MAX_FRAME_LENGTH) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next whole frame, or undefined until more bytes arrive. Throws UnixFrameError on a bad length. */
  next(): UnixFrame | undefined {
    if (this.length < 4) return undefined;
    if (this.chunks[0]!.length < 4) this.coalesce();
    const len = this.chunks[0]!.readUInt32LE(0);
    if (len < 1 || len > this.maxLength) throw new UnixFrameError(`frame length ${len} (1 to ${this.maxLength})`);
    if (this.length < 4 + len) return undefined;
    if (this.chunks[0]!.length < 4 + len) this.coalesce();
    const head = this.chunks[0]!;
    const frame: UnixFrame = { type: head.readUInt8(4), payload: head.subarray(5, 4 + len) };
    if (head.length === 4 + len) this.chunks.shift();
    else this.chunks[0] = head.subarray(4 + len);
    this.length -= 4 + len;
    return frame;
  }

  /** Bytes received that do not form a whole frame yet. */
  get buffered(): number {
    return this.length;
  }

  private coalesce(): void {
    this.chunks = [Buffer.concat(this.chunks, this.length)];
  }
}

/** How connectUnixNetlink opens its socket: NetlinkSocketOptions plus what the model's socket() takes. */
export interface UnixNetlinkOptions extends NetlinkSocketOptions {
  /** Ask for this port id (bind() with nl_pid); EADDRINUSE if taken. */
  portId?: number;
  /** SO_RCVBUF: bytes the kernel queues before dropping (ENOBUFS). */
  rcvbuf?: number;
  /** NETLINK_EXT_ACK (default true, as OVS and iproute2 set it). */
  extAck?: boolean;
  /** NETLINK_CAP_ACK (default false). */
  capAck?: boolean;
  /** How long to wait for the daemon to answer the HELLO, in ms (default 10000). */
  handshakeTimeoutMs?: number;
}

type Received = { datagram: Uint8Array } | { errno: number };
interface PendingOp {
  resolve: (value: number) => void;
  reject: (e: Error) => void;
}

/** Why a connect() failed, in words for a person. */
function connectReason(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return 'no kernel running';
    case 'EACCES':
      return 'permission denied';
    case 'ENOTSOCK':
      return 'not a socket';
    default:
      return code !== undefined && errnoNumber(code) !== undefined ? strerror(errnoNumber(code)!) : (code ?? 'connection failed');
  }
}

/**
 * Open a netlink socket through the daemon listening on `path`. Rejects with a
 * UnixNetlinkConnectionError carrying the connect() errno (ENOENT or
 * ECONNREFUSED when nothing listens there; its reason says "no kernel
 * running"), or with a NetlinkErrnoError carrying the errno the kernel gave
 * socket()/bind() (EPROTONOSUPPORT, EADDRINUSE...).
 */
export async function connectUnixNetlink(path: string, opts: UnixNetlinkOptions): Promise<UnixNetlinkSocket> {
  const stream = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection(path);
    const onError = (err: NodeJS.ErrnoException): void => {
      s.destroy();
      reject(new UnixNetlinkConnectionError(errnoNumber(err.code ?? '') ?? Errno.EIO, `cannot connect to ${path}: ${connectReason(err.code)}`));
    };
    s.once('error', onError);
    s.once('connect', () => {
      s.off('error', onError);
      resolve(s);
    });
  });
  const sock = new UnixNetlinkSocket(stream, path, opts.protocol);
  try {
    await sock.handshake(opts);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  return sock;
}

/** The client end: a NetlinkSocket whose kernel is the daemon at the other end of a unix socket. */
export class UnixNetlinkSocket implements NetlinkSocket {
  readonly protocol: number;
  private port = 0;
  private readonly reader = new UnixFrameReader();
  private readonly received: Received[] = [];
  private readonly waiters: RecvWaiter[] = [];
  private readonly ops: PendingOp[] = [];
  /** KTRACE events not yet taken. */
  private kernelTrace: KernelTraceEvent[] = [];
  /** Set once the connection is gone (not by close()). */
  private lost: { errno: number; reason: string } | undefined;
  private closed = false;
  private readonly ended: Promise<void>;

  constructor(
    private readonly stream: Socket,
    /** The daemon's socket path (for messages). */
    readonly path: string,
    protocol: number,
  ) {
    this.protocol = protocol;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    // Errors (EPIPE, ECONNRESET) are followed by 'close'; the loss is reported there.
    stream.on('error', () => {});
    this.ended = new Promise((resolve) => {
      stream.once('close', () => {
        this.connectionLost(`lost the connection to the ovs-kernel daemon at ${this.path}`);
        resolve();
      });
    });
  }

  get portId(): number {
    return this.port;
  }

  /** Send HELLO and wait for the port id (connectUnixNetlink does this). @internal */
  async handshake(opts: UnixNetlinkOptions): Promise<void> {
    const timeoutMs = opts.handshakeTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnixNetlinkConnectionError(Errno.ETIMEDOUT, `no answer from ${this.path} (is it an ovs-kernel daemon?)`)), timeoutMs);
    });
    try {
      this.port = await Promise.race([
        this.request(
          encodeUnixHello({
            protocol: opts.protocol,
            netns: opts.netns ?? (process.env.OVS_KERNEL_NETNS || 'init'),
            capNetAdmin: opts.capNetAdmin ?? true,
            portId: opts.portId ?? 0,
            rcvbuf: opts.rcvbuf ?? 0,
            extAck: opts.extAck ?? true,
            capAck: opts.capAck ?? false,
          }),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the daemon has handled the datagram (as sendmsg() returns after the kernel has); its replies are then already here. */
  async send(datagram: Uint8Array): Promise<void> {
    await this.request(encodeUnixFrame(UNIX_FRAME.TO_KERNEL, datagram));
  }

  recv(): Promise<Uint8Array> {
    return recvOrPark(
      () => this.tryRecv(),
      (w) => this.waiters.push(w),
    );
  }

  /** A datagram that has already arrived from the daemon, else undefined. */
  tryRecv(): Uint8Array | undefined {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    const r = this.received.shift();
    if (r !== undefined) {
      if ('errno' in r) throw new NetlinkErrnoError(r.errno);
      return r.datagram;
    }
    if (this.lost !== undefined) throw new UnixNetlinkConnectionError(this.lost.errno, this.lost.reason);
    return undefined;
  }

  /** Have the daemon's kernel report the functions it runs for this socket (TRACE). */
  async setKernelTrace(on: boolean): Promise<void> {
    await this.request(encodeUnixU32Frame(UNIX_FRAME.TRACE, on ? 1 : 0));
    if (!on) this.kernelTrace = [];
  }

  takeKernelTrace(): KernelTraceEvent[] {
    const events = this.kernelTrace;
    if (events.length > 0) this.kernelTrace = [];
    return events;
  }

  async joinGroup(group: number): Promise<void> {
    await this.request(encodeUnixU32Frame(UNIX_FRAME.JOIN, group));
  }

  async leaveGroup(group: number): Promise<void> {
    await this.request(encodeUnixU32Frame(UNIX_FRAME.LEAVE, group));
  }

  /** Close the socket and end the connection; pending recv() calls reject with EBADF. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ebadf = new NetlinkErrnoError(Errno.EBADF);
    for (const w of this.waiters.splice(0)) w.reject(ebadf);
    for (const op of this.ops.splice(0)) op.reject(ebadf);
    this.received.length = 0;
    if (this.lost === undefined && !this.stream.destroyed) {
      this.stream.end(encodeUnixFrame(UNIX_FRAME.CLOSE));
      const timer = setTimeout(() => this.stream.destroy(), 1000);
      timer.unref();
      await this.ended;
      clearTimeout(timer);
    } else {
      this.stream.destroy();
    }
  }

  /** Write a frame that the daemon answers with RESULT; resolves with its value. */
  private request(frame: Buffer): Promise<number> {
    if (this.closed) return Promise.reject(new NetlinkErrnoError(Errno.EBADF));
    if (this.lost !== undefined) return Promise.reject(new UnixNetlinkConnectionError(Errno.EPIPE, this.lost.reason));
    return new Promise((resolve, reject) => {
      this.ops.push({ resolve, reject });
      this.stream.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    try {
      for (let f = this.reader.next(); f !== undefined; f = this.reader.next()) this.onFrame(f);
    } catch (err) {
      const reason = err instanceof UnixFrameError ? err.message : String(err);
      this.connectionLost(`the ovs-kernel daemon at ${this.path} broke the protocol: ${reason}`, Errno.EPROTO);
      this.stream.destroy();
    }
  }

  private onFrame(f: UnixFrame): void {
    switch (f.type) {
      case UNIX_FRAME.RESULT: {
        const r = decodeUnixResult(f.payload);
        const op = this.ops.shift();
        if (op === undefined) throw new UnixFrameError('RESULT with no request outstanding');
        if (r.errno === 0) op.resolve(r.value);
        else op.reject(new NetlinkErrnoError(r.errno, r.message));
        return;
      }
      case UNIX_FRAME.FROM_KERNEL:
        // A copy: the chunk may hold other frames, and the caller owns what recv() returns.
        this.push({ datagram: new Uint8Array(f.payload) });
        return;
      case UNIX_FRAME.RECV_ERROR:
        this.push({ errno: decodeUnixU32(f) });
        return;
      case UNIX_FRAME.KTRACE:
        for (const ev of decodeUnixKtrace(f.payload)) this.kernelTrace.push(ev);
        return;
      case UNIX_FRAME.CLOSE: {
        const why = f.payload.length > 0 ? f.payload.toString('utf8') : 'shutting down';
        this.connectionLost(`the ovs-kernel daemon at ${this.path} closed the connection: ${why}`);
        return;
      }
      default:
        throw new UnixFrameError(`unknown frame type ${f.type} from the daemon`);
    }
  }

  private push(r: Received): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w === undefined) {
      this.received.push(r);
      return;
    }
    if ('errno' in r) w.reject(new NetlinkErrnoError(r.errno));
    else w.resolve(r.datagram);
  }

  /** The connection is gone: outstanding requests fail with ECONNRESET (or `errno`), as do recv() calls once the queue is empty. */
  private connectionLost(reason: string, errno: number = Errno.ECONNRESET): void {
    if (this.lost !== undefined || this.closed) return;
    this.lost = { errno, reason };
    for (const op of this.ops.splice(0)) op.reject(new UnixNetlinkConnectionError(errno, reason));
    for (const w of this.waiters.splice(0)) w.reject(new UnixNetlinkConnectionError(errno, reason));
  }
}

/**
 * Where the ovs-kernel daemon listens: --socket, else $OVS_KERNEL_SOCKET,
 * else ${OVS_RUNDIR:-/tmp/ovs-ts-$UID}/ovs-kernel.sock. Shared by the daemon
 * and every tool that talks to it.
 */
export function kernelSocketPath(env: NodeJS.ProcessEnv = process.env, option?: string): string {
  if (option !== undefined && option !== '') return resolvePath(option);
  if (env.OVS_KERNEL_SOCKET) return resolvePath(env.OVS_KERNEL_SOCKET);
  const dir = env.OVS_RUNDIR || `/tmp/ovs-ts-${process.getuid?.() ?? 0}`;
  return resolvePath(dir, 'ovs-kernel.sock');
}
