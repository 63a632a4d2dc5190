/**
 * The ovs-kernel daemon: one Kernel served over a unix-domain socket, one
 * KernelSocket per connection, in the framing of @ovs/genl-codec's unix
 * transport (see the comment at the top of transport/unix.ts), plus one
 * control frame of its own, NETNS (12): the model's /run/netns (see
 * tools/ipnetns.ts).
 *
 * Datagrams are forwarded as soon as the kernel queues them: after every
 * request (from any connection) each connection's socket is drained with
 * tryRecv(), so replies, dump chunks (the model produces the next chunk
 * inside tryRecv(), as netlink_recvmsg() does) and multicast notifications
 * caused by other connections all reach their client promptly. A connection
 * whose client does not read stops being drained once MAX_UNSENT bytes wait in
 * its stream; the kernel's own receive queue then fills, dumps pause, and an
 * overrun reaches the client as ENOBUFS, as on a real socket.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { Errno, NetlinkErrnoError } from '@ovs/genl-codec';
import {
  UNIX_FRAME,
  UNIX_NETLINK_VERSION,
  UnixFrameError,
  UnixFrameReader,
  type UnixFrame,
  decodeUnixFault,
  decodeUnixHello,
  decodeUnixU32,
  encodeUnixFrame,
  encodeUnixKtrace,
  encodeUnixResult,
  encodeUnixU32Frame,
} from '@ovs/genl-codec/unix';
import { Kernel, type KernelOptions } from '../kernel.js';
import type { KernelSocket } from '../net/netlink/af_netlink.js';
import { type NetnsRequest, UNIX_FRAME_NETNS, decodeNetnsRequest } from './ipnetns.js';
import { PeerCredError, unixPeerCred } from './peercred.js';

/** Whether the process at the other end of a connection holds CAP_NET_ADMIN over the model. */
type PeerPrivilege = (stream: Socket) => Promise<boolean>;

/**
 * Bytes waiting in a connection's stream beyond which its socket is not
 * drained, nor its requests read, until the client reads: a client that
 * never reads costs the daemon at most about this much.
 */
export const MAX_UNSENT = 1024 * 1024;

/**
 * The longest frame a client may send: a datagram netlink_sendmsg() could
 * take (sk_sndbuf) with room to spare; anything longer ends the connection
 * before it is buffered.
 */
export const MAX_CLIENT_FRAME = 1024 * 1024;

export interface DaemonOptions {
  socketPath: string;
  /** The kernel to serve; a new one (with kernelOptions) by default. */
  kernel?: Kernel;
  kernelOptions?: KernelOptions;
  /** Where connection-level problems are reported (protocol errors, model bugs); stderr by default. */
  log?: (line: string) => void;
  /**
   * Take each client's CAP_NET_ADMIN from who it is (peercred.ts: a process
   * of the daemon's user, or one with CAP_NET_ADMIN), the HELLO flag only
   * lowering it (default true). false: the HELLO flag alone decides, as it
   * also does, with a warning logged once, where ss(8) is not installed.
   */
  peerCredentials?: boolean;
}

export interface Daemon {
  readonly kernel: Kernel;
  readonly socketPath: string;
  /** Open connections (netlink sockets). */
  readonly connections: number;
  /** Bytes written to clients that they have not taken yet, over every connection. */
  readonly unsent: number;
  /**
   * Forward whatever the kernel has queued for every connection. The daemon
   * does this after each request it handles; call it after driving the
   * kernel directly (in-process sockets, injected events).
   */
  flush(): void;
  /** Stop listening, tell every client (CLOSE frame), close their sockets, remove the socket file. */
  close(): Promise<void>;
}

/** Why the daemon cannot start; `code` is EADDRINUSE when a daemon is already listening at the path. */
export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether something accepts connections at `path` (false on ENOENT/ECONNREFUSED; other errors are thrown). */
export function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true); // connected but silent, or a full backlog: something is there
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(false);
      else reject(err);
    });
  });
}

/**
 * Listen on a unix socket made as OVS's make_unix_socket() makes them: mode
 * 0770 (bind_unix_socket(): the owner and its group may connect, nobody
 * else). Node binds inside listen(), so the umask set around the call is
 * what the socket file gets.
 */
function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const umask = process.umask(0o007);
    try {
      server.listen(path, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

/** Start serving; refuses (DaemonError EADDRINUSE) when a daemon already listens at socketPath, and removes a stale socket file. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const kernel = opts.kernel ?? new Kernel(opts.kernelOptions);
  const path = opts.socketPath;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const conns = new Set<Connection>();
  /** The processes at the other end of each connection, when peercred.ts found them. */
  const peerPids = new WeakMap<Socket, number[]>();
  let warnedNoCredentials = false;
  const credentials: PeerPrivilege | undefined =
    opts.peerCredentials === false
      ? undefined
      : async (stream) => {
          try {
            const cred = await unixPeerCred(stream);
            peerPids.set(stream, cred.pids);
            return cred.capNetAdmin;
          } catch (err) {
            if (!(err instanceof PeerCredError) || !err.unavailable) return false;
            if (!warnedNoCredentials) log(`ovs-kernel: ${err.message}: clients' CAP_NET_ADMIN taken from their HELLO`);
            warnedNoCredentials = true;
            return true;
          }
        };
  const drainAll = (): void => {
    for (const c of conns) c.drain();
  };
  const server = createServer((stream) => {
    const c = new Connection(
      stream,
      kernel,
      log,
      drainAll,
      () => conns.delete(c),
      credentials,
      () => peerPids.get(stream) ?? [],
    );
    conns.add(c);
  });

  try {
    await listen(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await probeSocket(path)) throw new DaemonError('EADDRINUSE', `a kernel is already running at ${path}`);
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      // vanished meanwhile
    }
    if (!isSocket && pathExists(path)) throw new DaemonError('EADDRINUSE', `${path} exists and is not a socket`);
    if (isSocket) unlinkSync(path); // stale: nobody listens
    await listen(server, path);
  }
  const ino = lstatSync(path).ino;
  // Past listen(), a server error is an accept() failure (EMFILE...): the daemon goes on.
  server.on('error', (err) => log(`ovs-kernel: ${err.message}`));

  let closing: Promise<void> | undefined;
  return {
    kernel,
    socketPath: path,
    get connections() {
      return conns.size;
    },
    get unsent() {
      let n = 0;
      for (const c of conns) n += c.unsent;
      return n;
    },
    flush: drainAll,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of [...conns]) c.shutdown('the kernel is shutting down');
        // A client that does not read would hold its connection (and server.close()) open.
        setTimeout(() => {
          for (const c of [...conns]) c.destroy();
        }, 1000).unref();
      }).then(() => {
        // libuv unlinks the path when the server closes; make sure, unless another daemon has taken it.
        try {
          if (lstatSync(path).ino === ino) unlinkSync(path);
        } catch {
          // gone already
        }
      });
      return closing;
    },
  };
}

function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** One client connection: one KernelSocket. */
class Connection {
  private readonly reader = new UnixFrameReader(MAX_CLIENT_FRAME);
  private sock: KernelSocket | undefined;
  /** 'control': a connection that sent FAULT instead of HELLO (no netlink socket). */
  private state: 'hello' | 'open' | 'control' | 'done' = 'hello';
  /** Frames are handled one after another, in order, even when a handler awaits. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly stream: Socket,
    private readonly kernel: Kernel,
    private readonly log: (line: string) => void,
    private readonly drainAll: () => void,
    private readonly onGone: () => void,
    /** The peer's own CAP_NET_ADMIN (undefined: the HELLO decides). */
    private readonly peerPrivilege?: PeerPrivilege,
    /** The pids of the peer's processes, once peerPrivilege has looked (none without it). */
    private readonly peerPids: () => number[] = () => [],
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('drain', () => {
      this.stream.resume();
      this.drain();
    });
    stream.on('error', () => {}); // 'close' follows
    stream.on('close', () => this.gone());
  }

  /** Bytes written to the client that it has not taken yet. */
  get unsent(): number {
    return this.stream.writableLength;
  }

  /** Forward what the kernel queued for this socket, while the client keeps up. */
  drain(): void {
    const sock = this.sock;
    if (sock === undefined || this.state !== 'open') return;
    while (this.stream.writableLength < MAX_UNSENT && !this.stream.destroyed) {
      let d: Uint8Array | undefined;
      try {
        d = sock.tryRecv();
      } catch (err) {
        if (err instanceof NetlinkErrnoError && err.errno === Errno.ENOBUFS) {
          this.stream.write(encodeUnixU32Frame(UNIX_FRAME.RECV_ERROR, Errno.ENOBUFS));
          continue;
        }
        if (!(err instanceof NetlinkErrnoError)) this.internalError('receiving', err);
        return;
      }
      // What the kernel ran to produce it (traced sockets) goes first.
      this.forwardTrace(sock);
      if (d === undefined) return;
      this.stream.write(encodeUnixFrame(UNIX_FRAME.FROM_KERNEL, d));
    }
  }

  private forwardTrace(sock: KernelSocket): void {
    if (sock.traceLog === undefined || sock.traceLog.length === 0 || this.stream.destroyed) return;
    this.stream.write(encodeUnixKtrace(sock.takeKernelTrace()));
  }

  /** The daemon is closing: say so, then end the connection. */
  shutdown(reason: string): void {
    if (this.state === 'open' && !this.stream.destroyed) this.stream.write(encodeUnixFrame(UNIX_FRAME.CLOSE, Buffer.from(reason, 'utf8')));
    this.finish();
  }

  /** End the connection now, written or not. */
  destroy(): void {
    this.stream.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'done') return;
    // A client that does not read its answers gets no more requests read until it does ('drain').
    if (this.stream.writableLength >= MAX_UNSENT) this.stream.pause();
    this.reader.push(chunk);
    try {
      for (let f = this.reader.next(); f !== undefined; f = this.reader.next()) {
        const frame = f;
        this.chain = this.chain.then(() => this.onFrame(frame)).catch((err: unknown) => this.protocolError(err));
      }
    } catch (err) {
      this.protocolError(err);
    }
  }

  private async onFrame(f: UnixFrame): Promise<void> {
    if (this.state === 'done') return;
    if (f.type === UNIX_FRAME.FAULT) {
      if (this.state === 'hello') this.state = 'control';
      await this.fault(f);
      return;
    }
    if (f.type === UNIX_FRAME_NETNS && this.state !== 'open') {
      if (this.state === 'hello') this.state = 'control';
      await this.netns(f);
      return;
    }
    if (this.state === 'hello') {
      if (f.type !== UNIX_FRAME.HELLO) throw new UnixFrameError(`frame type ${f.type} before HELLO`);
      await this.hello(f);
      return;
    }
    if (this.state === 'control') {
      if (f.type !== UNIX_FRAME.CLOSE) throw new UnixFrameError(`frame type ${f.type} on a control connection`);
      this.finish();
      return;
    }
    const sock = this.sock!;
    switch (f.type) {
      case UNIX_FRAME.TO_KERNEL: {
        // The kernel may keep (parts of) the datagram; give it its own copy.
        const errno = this.kernelCall('sendmsg', () => sock.sendSync(new Uint8Array(f.payload)));
        this.drainAll();
        this.result(errno);
        return;
      }
      case UNIX_FRAME.JOIN:
      case UNIX_FRAME.LEAVE: {
        const group = decodeUnixU32(f);
        let errno = 0;
        try {
          await (f.type === UNIX_FRAME.JOIN ? sock.joinGroup(group) : sock.leaveGroup(group));
        } catch (err) {
          errno = this.errnoOf(f.type === UNIX_FRAME.JOIN ? 'joinGroup' : 'leaveGroup', err);
        }
        this.result(errno);
        return;
      }
      case UNIX_FRAME.TRACE: {
        const on = decodeUnixU32(f);
        if (on > 1) throw new UnixFrameError(`TRACE ${on} (0 or 1)`);
        await sock.setKernelTrace(on === 1);
        this.result(0);
        return;
      }
      case UNIX_FRAME.CLOSE:
        this.finish();
        return;
      default:
        throw new UnixFrameError(`unknown frame type ${f.type}`);
    }
  }

  private async hello(f: UnixFrame): Promise<void> {
    const h = decodeUnixHello(f.payload);
    if (h.version !== UNIX_NETLINK_VERSION) {
      this.stream.end(encodeUnixResult(Errno.EPROTO, 0, `protocol version ${h.version} not supported (this daemon speaks ${UNIX_NETLINK_VERSION})`));
      this.state = 'done';
      return;
    }
    // The sender's capability, as netlink_ns_capable() sees it; the HELLO may only give it up.
    const capNetAdmin = h.capNetAdmin && (this.peerPrivilege === undefined || (await this.peerPrivilege(this.stream)));
    if (this.state !== 'hello' || this.stream.destroyed) return;
    try {
      this.sock = this.kernel.socket({
        protocol: h.protocol,
        netns: h.netns,
        capNetAdmin,
        ...(h.portId !== 0 ? { portId: h.portId } : {}),
        ...(h.rcvbuf !== 0 ? { rcvbuf: h.rcvbuf } : {}),
        extAck: h.extAck,
        capAck: h.capAck,
      });
    } catch (err) {
      this.stream.end(encodeUnixResult(this.errnoOf('socket', err)));
      this.state = 'done';
      return;
    }
    this.state = 'open';
    // The client's processes are in the namespace of their socket (they entered it: OVS_KERNEL_NETNS),
    // which IFLA_NET_NS_PID / NETNSA_PID can then name by their pid.
    this.tasks = this.peerPids();
    for (const pid of this.tasks) this.kernel.taskEnter(pid, this.sock.netns);
    this.stream.write(encodeUnixResult(0, this.sock.portId));
  }

  /**
   * FAULT: the kernel's fault injection read or written; RESULT carries every
   * point's state (or the errno). Like debugfs, only for the privileged: EPERM
   * for a client without CAP_NET_ADMIN over the model.
   */
  private async fault(f: UnixFrame): Promise<void> {
    const req = decodeUnixFault(f.payload);
    const faults = this.kernel.faults;
    if (this.peerPrivilege !== undefined && !(await this.peerPrivilege(this.stream))) {
      if (!this.stream.destroyed) this.stream.write(encodeUnixResult(Errno.EPERM, 0, 'fault injection needs CAP_NET_ADMIN'));
      return;
    }
    try {
      if (req.op === 'set') faults.set(req.point, req.attrs);
      else if (req.op === 'clear') faults.clear(req.point);
    } catch (err) {
      const errno = this.errnoOf('fault', err);
      if (!this.stream.destroyed) this.stream.write(encodeUnixResult(errno, 0, err instanceof NetlinkErrnoError ? err.extackMessage : undefined));
      return;
    }
    if (!this.stream.destroyed) this.stream.write(encodeUnixResult(0, 0, JSON.stringify(faults.show())));
  }

  /** The nsfs descriptors this connection opened (closed with it). */
  private readonly nsfsFds = new Set<number>();

  /** NETNS: the model's /run/netns (tools/ipnetns.ts describes the frame). */
  private async netns(f: UnixFrame): Promise<void> {
    let req: NetnsRequest;
    try {
      req = decodeNetnsRequest(f.payload);
    } catch (err) {
      throw new UnixFrameError((err as Error).message);
    }
    const answer = (errno: number, value = 0, message?: string): void => {
      if (!this.stream.destroyed) this.stream.write(encodeUnixResult(errno, value, message));
    };
    const k = this.kernel;
    switch (req.op) {
      case 'list':
        answer(0, 0, JSON.stringify([...k.netnsMounts.keys()].reverse()));
        return;
      case 'add':
      case 'del': {
        if (this.peerPrivilege !== undefined && !(await this.peerPrivilege(this.stream))) {
          answer(Errno.EPERM, 0, `ip netns ${req.op} needs CAP_NET_ADMIN`);
          return;
        }
        const r = req.op === 'add' ? k.netnsAdd(req.name) : k.netnsDel(req.name);
        answer(typeof r === 'number' ? -r : 0);
        this.drainAll();
        return;
      }
      case 'open': {
        const fd = k.nsfsOpen(req.name);
        if (fd < 0) {
          answer(-fd);
          return;
        }
        this.nsfsFds.add(fd);
        answer(0, fd);
        return;
      }
      case 'close':
        if (this.nsfsFds.delete(req.fd)) k.nsfsClose(req.fd);
        answer(0);
        this.drainAll();
        return;
    }
  }

  private result(errno: number): void {
    if (!this.stream.destroyed) this.stream.write(encodeUnixResult(errno));
    if (this.stream.writableLength >= MAX_UNSENT) this.stream.pause();
  }

  /** Run a kernel entry point; its errno, or EIO (logged) when the model itself failed. */
  private kernelCall(what: string, fn: () => void): number {
    try {
      fn();
      return 0;
    } catch (err) {
      return this.errnoOf(what, err);
    }
  }

  private errnoOf(what: string, err: unknown): number {
    if (err instanceof NetlinkErrnoError) return err.errno;
    this.internalError(what, err);
    return Errno.EIO;
  }

  private internalError(what: string, err: unknown): void {
    const port = this.sock?.portId ?? 0;
    this.log(`ovs-kernel: internal error in ${what} (port ${port}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }

  private protocolError(err: unknown): void {
    if (this.state === 'done') return;
    const msg = err instanceof UnixFrameError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.log(`ovs-kernel: dropping connection${this.sock ? ` (port ${this.sock.portId})` : ''}: ${msg}`);
    this.finish();
    this.stream.destroy();
  }

  /** Close the kernel socket and end the stream (after what is written). */
  private finish(): void {
    this.state = 'done';
    this.closeNsfs();
    this.sock?.closeSync();
    if (!this.stream.destroyed) this.stream.destroySoon();
  }

  /** The client processes this connection told the kernel about (taskEnter). */
  private tasks: number[] = [];

  private closeNsfs(): void {
    for (const pid of this.tasks.splice(0)) this.kernel.taskExit(pid, this.sock?.netns);
    for (const fd of this.nsfsFds) this.kernel.nsfsClose(fd);
    this.nsfsFds.clear();
  }

  private gone(): void {
    this.state = 'done';
    this.closeNsfs();
    this.sock?.closeSync();
    this.onGone();
  }
}
