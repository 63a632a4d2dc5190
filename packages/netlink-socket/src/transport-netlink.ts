/**
 * A real AF_NETLINK socket as a NetlinkSocket: the transport that talks to
 * the running Linux kernel, on the socket calls of @ovs/posix (this
 * project's node-api addon, prebuilt for linux-x64 and linux-arm64, built
 * from source elsewhere), made as lib/netlink-socket.c makes them.
 *
 * The addon is loaded lazily, by the first openNetlinkSocket() call, so
 * netlink sockets work without it over the kernel model or the ovs-kernel
 * daemon; where it cannot be loaded, openNetlinkSocket() rejects with a
 * NetlinkBindingUnavailableError (an NlSockError, ENOSYS) that says so.
 *
 * What a socket is (nl_sock_create(), nl_sock_send(), nl_sock_recv()):
 * - socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
 *   SO_RCVBUF if asked, else 1 MiB with SO_RCVBUFFORCE as OVS does (root only); NETLINK_EXT_ACK on, as OVS does, so errors carry the
 *   kernel's extended-ack message (a kernel before 4.12 refuses: then off);
 *   NETLINK_CAP_ACK stays off, the kernel's default (an error echoes the
 *   whole request); connect() to the kernel (port 0), which binds the socket
 *   to a port id the kernel picks: portId is what getsockname() reports.
 * - send(): sendto() the kernel, at once (the socket never blocks): the
 *   kernel has handled the request and queued its replies when it resolves.
 * - tryRecv(): one whole datagram read now (recv() with MSG_PEEK | MSG_TRUNC
 *   to size it, then the read), or undefined if none is queued. A datagram
 *   the kernel queued is there at once, not after a turn of the event loop.
 *   ENOBUFS (the kernel dropped datagrams: the receive queue overran) is a
 *   NetlinkErrnoError(ENOBUFS) thrown once, by the read that meets it; the
 *   datagrams after it follow as usual.
 * - recv(): the same, or, when nothing is queued, a wait for the socket to
 *   become readable on a small poll thread of the addon (FdWatcher), which
 *   wakes the event loop; the datagrams stay in the kernel's queue until
 *   read, so the kernel's SO_RCVBUF accounting is what OVS gets. The thread
 *   is started by the first wait (a socket used for transactions only, whose
 *   replies are queued when send() returns, never needs it).
 * - NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP for joinGroup/leaveGroup.
 *
 * While a recv() waits the socket keeps the event loop alive; idle, it does
 * not (a forgotten socket does not hold the process open, and one still
 * open when the process exits is closed then). After close(), everything
 * rejects with EBADF.
 */
import { Errno, NetlinkErrnoError, type NetlinkSocket, type RecvWaiter, recvOrPark } from '@ovs/genl-codec';
import * as posix from '@ovs/posix';
import { NlSockError } from './netlink-socket.js';

/** The errno exception the socket calls throw (a PosixError of @ovs/posix: errno is positive). */
export interface RawErrnoException extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}

/** The socket calls this transport makes on one socket: @ovs/posix on a real fd (PosixNetlinkRaw), or a test's script. */
export interface RawNetlinkLike {
  /** The port id the socket is bound to (getsockname()). */
  readonly portId: number;
  /** sendto() the kernel; throws a RawErrnoException. */
  send(datagram: Uint8Array): void;
  /** One whole datagram, or undefined if none is queued; throws a RawErrnoException (ENOBUFS...). */
  recv(): Uint8Array | undefined;
  /** setsockopt() of an int; throws a RawErrnoException. */
  setsockopt(level: number, name: number, value: number): void;
  /** What to call when the socket becomes readable (or has an error pending) after arm(). */
  onReadable(listener: () => void): void;
  /** Call the listener once, at the next readability. */
  arm(): void;
  /** Keep the event loop alive while armed (ref) or not (unref). */
  ref(): void;
  unref(): void;
  close(): void;
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

/** The native addon of @ovs/posix could not be loaded: no real AF_NETLINK socket here. */
export class NetlinkBindingUnavailableError extends NlSockError {
  override readonly name: string = 'NetlinkBindingUnavailableError';
  override readonly cause: unknown;
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(
      Errno.ENOSYS,
      undefined,
      `AF_NETLINK transport: the native addon of @ovs/posix is unavailable (${why}); it ships prebuilt for linux-x64 and linux-arm64 (glibc), elsewhere it is built from source at install (node-gyp: a C compiler, make, python3); or use another transport`,
    );
    this.cause = cause;
  }
}

export interface OpenNetlinkSocketOptions {
  /**
   * SO_RCVBUF in bytes (the kernel doubles it and caps it at net.core.rmem_max); default: 1 MiB with
   * SO_RCVBUFFORCE as OVS asks (the kernel keeps 2 MiB), or the kernel's default without CAP_NET_ADMIN.
   */
  rcvbuf?: number;
}

/** The receive buffer nl_sock_create() asks for. */
export const NL_SOCK_RCVBUF = 1024 * 1024;

/** The errno of something a socket call threw, if it carries one. */
function errnoOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const n = (err as RawErrnoException).errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : undefined;
}

function syscallError(err: unknown, syscall: string, fallback: number): NetlinkSyscallError {
  return new NetlinkSyscallError(errnoOf(err) ?? fallback, syscall);
}

/** An fd of @ovs/posix as a RawNetlinkLike: the poll thread (FdWatcher) is started by the first arm(). */
export class PosixNetlinkRaw implements RawNetlinkLike {
  private watcher: posix.FdWatcher | undefined;
  private listener: (() => void) | undefined;
  private referenced = false;

  constructor(
    readonly fd: number,
    readonly portId: number,
  ) {}

  send(datagram: Uint8Array): void {
    posix.sendto(this.fd, datagram);
  }

  recv(): Uint8Array | undefined {
    try {
      return posix.recv(this.fd, posix.MSG_DONTWAIT);
    } catch (err) {
      if ((err as RawErrnoException).code === 'EAGAIN') return undefined;
      throw err;
    }
  }

  setsockopt(level: number, name: number, value: number): void {
    posix.setsockopt(this.fd, level, name, value);
  }

  onReadable(listener: () => void): void {
    this.listener = listener;
  }

  arm(): void {
    if (this.watcher === undefined) {
      this.watcher = new posix.FdWatcher(this.fd, () => this.listener?.());
      if (this.referenced) this.watcher.ref();
    }
    this.watcher.arm();
  }

  ref(): void {
    this.referenced = true;
    this.watcher?.ref();
  }

  unref(): void {
    this.referenced = false;
    this.watcher?.unref();
  }

  close(): void {
    this.watcher?.stop();
    posix.close(this.fd);
  }
}

/** posix.socket(), or NetlinkBindingUnavailableError if the addon cannot be loaded. */
function createSocket(protocol: number): number {
  try {
    return posix.socket(posix.AF_NETLINK, posix.SOCK_RAW | posix.SOCK_CLOEXEC | posix.SOCK_NONBLOCK, protocol);
  } catch (err) {
    if (err instanceof posix.PosixError) throw syscallError(err, 'socket', Errno.EIO);
    throw new NetlinkBindingUnavailableError(err);
  }
}

/**
 * Open an AF_NETLINK socket of `protocol` (NETLINK_GENERIC, NETLINK_ROUTE...)
 * in the caller's network namespace. A socket factory for the layers above (DpifNetlink.open()).
 * Rejects with NetlinkBindingUnavailableError when the native addon cannot
 * be loaded, and with a NetlinkSyscallError carrying the errno of socket(),
 * setsockopt() or connect() otherwise (EPROTONOSUPPORT for a protocol the
 * kernel lacks, EAFNOSUPPORT or EPERM where AF_NETLINK sockets are not allowed).
 */
export async function openNetlinkSocket(protocol: number, options: OpenNetlinkSocketOptions = {}): Promise<NetlinkSocket> {
  const fd = createSocket(protocol);
  let step = 'setsockopt(SO_RCVBUF)';
  try {
    if (options.rcvbuf !== undefined) posix.setsockopt(fd, posix.SOL_SOCKET, posix.SO_RCVBUF, options.rcvbuf);
    else {
      // nl_sock_create(): a 1 MiB receive buffer, past net.core.rmem_max (SO_RCVBUFFORCE); only
      // CAP_NET_ADMIN may, everyone else gets EPERM and keeps the kernel's default.
      try {
        posix.setsockopt(fd, posix.SOL_SOCKET, posix.SO_RCVBUFFORCE, NL_SOCK_RCVBUF);
      } catch {
        // EPERM: the default stays
      }
    }
    // nl_sock_create(): extended acks on (a kernel before 4.12 refuses: go on without).
    let extAck = true;
    try {
      posix.setsockopt(fd, posix.SOL_NETLINK, posix.NETLINK_EXT_ACK, 1);
    } catch {
      extAck = false;
    }
    // Connect to the kernel: binds to a port id of the kernel's choosing, and only the kernel may send to us.
    step = 'connect';
    posix.connect(fd, { pid: 0, groups: 0 });
    step = 'getsockname';
    const { pid } = posix.getsockname(fd);
    return new AfNetlinkSocket(new PosixNetlinkRaw(fd, pid), protocol, extAck);
  } catch (err) {
    posix.close(fd);
    throw syscallError(err, step, Errno.EINVAL);
  }
}

/** Sockets not closed yet: closed on the process's 'exit' (their poll threads with them). */
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

/** What a failed read becomes: ENOBUFS as itself (an overrun, the socket goes on), others with the call. */
function recvError(err: unknown): NetlinkErrnoError {
  const errno = errnoOf(err) ?? Errno.EIO;
  return errno === Errno.ENOBUFS ? new NetlinkErrnoError(Errno.ENOBUFS) : new NetlinkSyscallError(errno, 'recv');
}

/** A NetlinkSocket over a raw socket (openNetlinkSocket makes them over @ovs/posix). */
export class AfNetlinkSocket implements NetlinkSocket {
  readonly protocol: number;
  readonly portId: number;
  private readonly waiters: RecvWaiter[] = [];
  private closed = false;
  private referenced = false;

  constructor(
    private readonly raw: RawNetlinkLike,
    protocol: number,
    /** Whether NETLINK_EXT_ACK is on: the kernel's errors then carry its message. */
    readonly extAck = false,
  ) {
    this.protocol = protocol;
    this.portId = raw.portId;
    raw.onReadable(() => this.serveWaiters());
    raw.unref();
    track(this);
  }

  /** One datagram, sent to the kernel now: its replies are queued by the kernel once this resolves. */
  send(datagram: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new NetlinkErrnoError(Errno.EBADF));
    try {
      this.raw.send(datagram);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(syscallError(err, 'sendto', Errno.EIO));
    }
  }

  recv(): Promise<Uint8Array> {
    const park = (w: RecvWaiter): void => {
      this.waiters.push(w);
      this.raw.arm();
      this.updateRef();
    };
    // Behind earlier waiters, wait in line (a datagram read now would pass them).
    if (this.waiters.length > 0 && !this.closed) return new Promise((resolve, reject) => park({ resolve, reject }));
    return recvOrPark(() => this.tryRecv(), park);
  }

  /** A datagram (or a receive error) queued in the kernel now; undefined if none. */
  tryRecv(): Uint8Array | undefined {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    try {
      return this.raw.recv();
    } catch (err) {
      throw recvError(err);
    }
  }

  async joinGroup(group: number): Promise<void> {
    this.membership(group, true);
  }

  async leaveGroup(group: number): Promise<void> {
    this.membership(group, false);
  }

  /** Close the socket: waiting recv() calls reject with EBADF, as does everything after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    const ebadf = new NetlinkErrnoError(Errno.EBADF);
    for (const w of this.waiters.splice(0)) w.reject(ebadf);
    this.updateRef();
    this.raw.close();
  }

  private membership(group: number, join: boolean): void {
    if (this.closed) throw new NetlinkErrnoError(Errno.EBADF);
    const name = join ? 'NETLINK_ADD_MEMBERSHIP' : 'NETLINK_DROP_MEMBERSHIP';
    try {
      this.raw.setsockopt(SOL_NETLINK, join ? NETLINK_SOCKOPT.ADD_MEMBERSHIP : NETLINK_SOCKOPT.DROP_MEMBERSHIP, group);
    } catch (err) {
      throw syscallError(err, `setsockopt(${name}, ${group})`, Errno.EINVAL);
    }
  }

  /** The socket became readable: hand datagrams (or the error met) to the waiters in order; wait again if some are left. */
  private serveWaiters(): void {
    if (this.closed) return;
    while (this.waiters.length > 0) {
      let d: Uint8Array | undefined;
      try {
        d = this.raw.recv();
      } catch (err) {
        this.waiters.shift()!.reject(recvError(err));
        continue;
      }
      if (d === undefined) {
        this.raw.arm();
        break;
      }
      this.waiters.shift()!.resolve(d);
    }
    this.updateRef();
  }

  /** Keep the event loop alive exactly while a recv() waits. */
  private updateRef(): void {
    const want = this.waiters.length > 0 && !this.closed;
    if (want === this.referenced) return;
    this.referenced = want;
    if (want) this.raw.ref();
    else this.raw.unref();
  }
}
