/**
 * A real AF_NETLINK socket as a NetlinkSocket: the transport that talks to
 * the running Linux kernel, built on the raw socket of the `netlink` npm
 * package (an N-API binding; the monorepo patches it and builds it from
 * source at install, see below).
 *
 * The binding is loaded lazily, by the first openNetlinkSocket() call, so
 * netlink sockets work without it over the kernel model or the ovs-kernel
 * daemon; where it cannot be loaded, openNetlinkSocket() rejects with a
 * NetlinkBindingUnavailableError (an NlSockError, ENOSYS) that says so.
 *
 * What the binding gives (netlink@0.3.0 as patched by the monorepo's
 * patches/netlink@0.3.0.patch, built from source at install):
 * - socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), bound to a port id
 *   of its own choosing (pid-based, retried on EADDRINUSE): portId is what
 *   getsockname() then reports.
 * - sendmsg() to the kernel (nl_pid 0), completed asynchronously; send()
 *   resolves once sendmsg() has returned, i.e. once the kernel has handled
 *   the request and queued its replies.
 * - recvmsg() whenever libuv sees the socket readable, each datagram read
 *   whole (MSG_PEEK | MSG_TRUNC first). Datagrams and receive errors reach
 *   this transport as events, in the order the kernel gave them; recv()
 *   hands them out in that order. ENOBUFS (the kernel dropped datagrams: the
 *   receive queue overran) is a NetlinkErrnoError(ENOBUFS) in its place, and
 *   the datagrams after it follow as usual. (Unpatched, the binding aborts
 *   the process there: libuv reports the socket error as POLLERR/UV_EBADF and
 *   the binding's error path throws a C++ exception from a libuv callback.)
 * - tryRecv() returns what the event loop has already read: a datagram the
 *   kernel queued during the current turn of the loop shows up once the loop
 *   has polled the socket (its next poll phase), not before.
 * - NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP, SO_RCVBUF, and (patch)
 *   setsockopt() of an int: NETLINK_EXT_ACK is turned on as OVS does, so
 *   errors carry the kernel's extended-ack message; NETLINK_CAP_ACK stays
 *   off, the kernel's default (an error echoes the whole request). With an
 *   unpatched binding (no setSockOptInt) extended acks stay off.
 *
 * While a recv() waits or a send() is unfinished the socket keeps the event
 * loop alive; idle, it does not (a forgotten socket does not hold the
 * process open, and one still open when the process exits is closed then).
 * After close(), everything rejects with EBADF.
 */
import { Errno, NetlinkErrnoError, type NetlinkSocket, type RecvWaiter, recvOrPark } from '@ovs/genl-codec';
import { NlSockError } from './netlink-socket.js';

/** The errno exception the binding throws and reports (errno is positive). */
export interface RawErrnoException extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}

/** What the binding reports with a datagram. */
export interface RawMessageInfo {
  /** The sender's port (0: the kernel). */
  port: number;
  groups: number;
  /** Set when the datagram was truncated: its real size. */
  truncated?: number;
}

/** The part of the `netlink` package's RawNetlinkSocket this transport uses. */
export interface RawNetlinkLike {
  on(event: 'message', listener: (msg: Buffer, rinfo: RawMessageInfo) => void): unknown;
  on(event: 'truncatedMessage', listener: (msg: Buffer, rinfo: RawMessageInfo) => void): unknown;
  on(event: 'error', listener: (err: RawErrnoException) => void): unknown;
  send(msg: Uint8Array, options: { port?: number; groups?: number }, callback: (error?: RawErrnoException) => void): void;
  close(): void;
  address(): { port: number; groups: number };
  ref(): void;
  unref(): void;
  addMembership(group: number): void;
  dropMembership(group: number): void;
  setRecvBufferSize(size: number): unknown;
  /** setsockopt() of an int (patches/netlink@0.3.0.patch). */
  setSockOptInt?(level: number, name: number, value: number): void;
  getSockOptInt?(level: number, name: number): number;
}

export const SOL_NETLINK = 270;
/** Socket options of SOL_NETLINK (linux/netlink.h). */
export const NETLINK_SOCKOPT = {
  ADD_MEMBERSHIP: 1,
  DROP_MEMBERSHIP: 2,
  NO_ENOBUFS: 5,
  CAP_ACK: 10,
  EXT_ACK: 11,
} as const;

/** A system call on the socket failed (socket, bind, sendmsg, setsockopt...): the errno plus the call. */
export class NetlinkSyscallError extends NetlinkErrnoError {
  override readonly name: string = 'NetlinkSyscallError';
  constructor(
    errno: number,
    readonly syscall: string,
  ) {
    super(errno);
    this.message = `${syscall}: ${this.message}`;
  }
}

/** The `netlink` package's native binding could not be loaded: no real AF_NETLINK socket here. */
export class NetlinkBindingUnavailableError extends NlSockError {
  override readonly name: string = 'NetlinkBindingUnavailableError';
  override readonly cause: unknown;
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(
      Errno.ENOSYS,
      undefined,
      `AF_NETLINK transport: the native binding of the \`netlink\` package is unavailable (${why}); reinstall the \`netlink\` package, which is built from source at install (g++, make, python3), or use another transport`,
    );
    this.cause = cause;
  }
}

export interface OpenNetlinkSocketOptions {
  /** SO_RCVBUF in bytes (the kernel doubles it and caps it at net.core.rmem_max); default: the kernel's. */
  rcvbuf?: number;
}

type RawModule = typeof import('netlink/dist/raw.js');

let binding: Promise<RawModule> | undefined;

/** The binding's module, loaded once (a failure is not remembered: the next call tries again). */
function loadBinding(): Promise<RawModule> {
  binding ??= import('netlink/dist/raw.js').catch((err: unknown) => {
    binding = undefined;
    throw new NetlinkBindingUnavailableError(err);
  });
  return binding;
}

/** The errno of something the binding threw, if it carries one. */
function errnoOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const n = (err as RawErrnoException).errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : undefined;
}

function syscallError(err: unknown, syscall: string, fallback: number): NetlinkSyscallError {
  return new NetlinkSyscallError(errnoOf(err) ?? fallback, syscall);
}

/**
 * Open an AF_NETLINK socket of `protocol` (NETLINK_GENERIC, NETLINK_ROUTE...)
 * in the caller's network namespace. A socket factory for the layers above (DpifNetlink.open()).
 * Rejects with NetlinkBindingUnavailableError when the native binding cannot
 * be loaded, and with a NetlinkSyscallError carrying the errno of socket() or
 * bind() otherwise (EPROTONOSUPPORT for a protocol the kernel lacks,
 * EAFNOSUPPORT or EPERM where AF_NETLINK sockets are not allowed).
 */
export async function openNetlinkSocket(protocol: number, options: OpenNetlinkSocketOptions = {}): Promise<NetlinkSocket> {
  const mod = await loadBinding();
  let raw: InstanceType<RawModule['RawNetlinkSocket']>;
  try {
    raw = new mod.RawNetlinkSocket(protocol);
  } catch (err) {
    const syscall = (err as RawErrnoException).syscall;
    // "Couldn't find a free address": every port id it tried was taken.
    throw syscallError(err, syscall ?? 'bind', Errno.EADDRINUSE);
  }
  if (options.rcvbuf !== undefined) {
    try {
      raw.setRecvBufferSize(options.rcvbuf);
    } catch (err) {
      raw.close();
      throw syscallError(err, 'setsockopt(SO_RCVBUF)', Errno.EINVAL);
    }
  }
  // nl_sock_create(): extended acks on (a kernel before 4.12 refuses: go on without).
  let extAck = false;
  if (typeof raw.setSockOptInt === 'function') {
    try {
      raw.setSockOptInt(SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1);
      extAck = true;
    } catch {
      extAck = false;
    }
  }
  return new AfNetlinkSocket(raw, protocol, extAck);
}

/**
 * Sockets not closed yet. When the process ends with one still open, Node's
 * teardown would run the binding's poll handle once more with JS already
 * gone, and the binding aborts the process there: so they are closed on
 * 'exit', before the teardown.
 */
const live = new Set<AfNetlinkSocket>();
let exitHook = false;
function track(s: AfNetlinkSocket): void {
  live.add(s);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', closeAllNetlinkSockets);
}

/** Close every socket of this transport still open (done on the process's 'exit'); returns how many. */
export function closeAllNetlinkSockets(): number {
  const open = [...live];
  for (const s of open) void s.close();
  return open.length;
}

type Received = { datagram: Uint8Array } | { error: NetlinkErrnoError };
interface PendingSend {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A NetlinkSocket over the binding's raw socket (openNetlinkSocket makes them). */
export class AfNetlinkSocket implements NetlinkSocket {
  readonly protocol: number;
  readonly portId: number;
  private readonly received: Received[] = [];
  private readonly waiters: RecvWaiter[] = [];
  private readonly sends = new Set<PendingSend>();
  private closed = false;
  /** Set when the binding gave the socket up (a poll error): what every later call fails with. */
  private failure: NetlinkErrnoError | undefined;
  private referenced = false;

  constructor(
    private readonly raw: RawNetlinkLike,
    protocol: number,
    /** Whether NETLINK_EXT_ACK is on: the kernel's errors then carry its message. */
    readonly extAck = false,
  ) {
    this.protocol = protocol;
    this.portId = raw.address().port;
    raw.on('message', (msg) => this.push({ datagram: msg }));
    // Cannot happen with message peeking (each datagram is read whole); OVS's nl_sock_recv__ says E2BIG.
    raw.on('truncatedMessage', () => this.push({ error: new NetlinkSyscallError(Errno.E2BIG, 'recvmsg (truncated datagram)') }));
    raw.on('error', (err) => this.onError(err));
    raw.unref();
    track(this);
  }

  /** One datagram: its replies are queued by the kernel once this resolves. */
  send(datagram: Uint8Array): Promise<void> {
    const gone = this.unusable();
    if (gone) return Promise.reject(gone);
    const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    return new Promise<void>((resolve, reject) => {
      const op: PendingSend = { resolve, reject };
      this.sends.add(op);
      // Referenced first: the binding may queue the datagram and wait for its poll handle.
      this.updateRef();
      try {
        this.raw.send(buf, { port: 0 }, (error) => {
          if (!this.sends.delete(op)) return; // closed meanwhile: already rejected
          this.updateRef();
          if (error === undefined || error === null) resolve();
          else reject(syscallError(error, 'sendmsg', Errno.EIO));
        });
      } catch (err) {
        this.sends.delete(op);
        this.updateRef();
        reject(syscallError(err, 'sendmsg', Errno.EBADF));
      }
    });
  }

  recv(): Promise<Uint8Array> {
    return recvOrPark(
      () => this.tryRecv(),
      (w) => {
        this.waiters.push(w);
        this.updateRef();
      },
    );
  }

  /** A datagram (or a receive error) the event loop has already read; undefined if none. */
  tryRecv(): Uint8Array | undefined {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    const r = this.received.shift();
    if (r !== undefined) {
      if ('error' in r) throw r.error;
      return r.datagram;
    }
    if (this.failure !== undefined) throw this.failure;
    return undefined;
  }

  async joinGroup(group: number): Promise<void> {
    this.membership(group, true);
  }

  async leaveGroup(group: number): Promise<void> {
    this.membership(group, false);
  }

  /** Close the socket: waiting recv() and unfinished send() calls reject with EBADF, as does everything after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    const ebadf = new NetlinkErrnoError(Errno.EBADF);
    for (const w of this.waiters.splice(0)) w.reject(ebadf);
    for (const s of this.sends) s.reject(ebadf);
    this.sends.clear();
    this.received.length = 0;
    this.raw.close();
  }

  private membership(group: number, join: boolean): void {
    const gone = this.unusable();
    if (gone) throw gone;
    try {
      if (join) this.raw.addMembership(group);
      else this.raw.dropMembership(group);
    } catch (err) {
      throw syscallError(err, `setsockopt(${join ? 'NETLINK_ADD_MEMBERSHIP' : 'NETLINK_DROP_MEMBERSHIP'}, ${group})`, Errno.EINVAL);
    }
  }

  private unusable(): NetlinkErrnoError | undefined {
    if (this.closed) return new NetlinkErrnoError(Errno.EBADF);
    return this.failure;
  }

  private onError(err: RawErrnoException): void {
    const errno = errnoOf(err) ?? Errno.EIO;
    if (err.syscall === 'recvmsg') {
      // A receive error in the stream (ENOBUFS after an overrun): the socket goes on.
      this.push({ error: errno === Errno.ENOBUFS ? new NetlinkErrnoError(Errno.ENOBUFS) : new NetlinkSyscallError(errno, 'recvmsg') });
      return;
    }
    // The binding's poll of the socket failed and it closed the socket.
    if (this.closed || this.failure !== undefined) return;
    this.failure = new NetlinkSyscallError(errno, 'poll (the binding closed the socket)');
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    for (const s of this.sends) s.reject(this.failure);
    this.sends.clear();
    this.updateRef();
  }

  private push(r: Received): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w === undefined) this.received.push(r);
    else if ('error' in r) w.reject(r.error);
    else w.resolve(r.datagram);
    this.updateRef();
  }

  /**
   * Keep the event loop alive exactly while a recv() waits or a send() is
   * unfinished (the binding may hold a datagram back until its poll handle
   * says the socket is writable: an unreferenced handle would let the loop
   * end under it).
   */
  private updateRef(): void {
    const want = (this.waiters.length > 0 || this.sends.size > 0) && !this.closed && this.failure === undefined;
    if (want === this.referenced) return;
    this.referenced = want;
    try {
      if (want) this.raw.ref();
      else this.raw.unref();
    } catch {
      // The binding already closed the socket: nothing left to reference.
    }
  }
}
