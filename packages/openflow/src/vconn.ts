/**
 * The client side of an OpenFlow connection over a unix socket (lib/vconn.c,
 * lib/vconn-stream.c, lib/stream-unix.c as ovs-ofctl uses them): connect,
 * hello and version negotiation, send, receive, transact by xid.
 */
import { type Socket, createConnection } from 'node:net';
import { decodeHeader, decodeMessage, encodeHelloFor, encodeMessage, helloVersions, OfpFramer, type OfpMessage } from './codec.js';
import { leftmost1BitIdx } from './constants.js';
import { encodeErrorMessage, versionBitmapToString } from './ofproto.js';
import { formatMessage, hexDump } from './print.js';
import { ovsStrerror } from '@ovs/util';

/** An errno-style failure: `code` is the errno name (ENOENT, ECONNREFUSED, EPROTO, EOF...). */
export class VconnError extends Error {
  override readonly name: string = 'VconnError';
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ?? strerror(code));
  }
}

/** ovs_retval_to_string() of an errno name: glibc's strerror() text, and OVS's "End of file" for EOF. */
export function strerror(code: string): string {
  return code === 'EOF' ? 'End of file' : ovsStrerror(code);
}

/** alloc_xid(): one counter per program run, starting at 1. */
export class XidAllocator {
  private next = 1;
  alloc(): number {
    const x = this.next;
    this.next = (this.next + 1) >>> 0;
    return x;
  }
}

export interface VconnOptions {
  /** Allowed versions bitmap (ovs-ofctl: OpenFlow 1.0 only, 0x02, unless -O). */
  allowedVersions: number;
  xids: XidAllocator;
  /** The log lines of lib/vconn.c and lib/vconn-stream.c (level, module, text). */
  log?: (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string) => void;
}

/** An open vconn. */
export class Vconn {
  private readonly framer = new OfpFramer();
  private readonly inbox: Uint8Array[] = [];
  private waiter: (() => void) | undefined;
  private ended: VconnError | undefined;
  /** The negotiated version (after connect()). */
  version = 0;
  peerVersions = 0;

  private constructor(
    /** vconn_get_name(): "unix:PATH" as given. */
    readonly name: string,
    private readonly socket: Socket,
    private readonly options: VconnOptions,
  ) {
    socket.on('data', (chunk: Buffer) => {
      const { messages, error } = this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.inbox.push(...messages);
      if (error) {
        this.options.log?.('ERR', 'vconn_stream', error);
        this.end(new VconnError('EPROTO'));
      }
      this.wake();
    });
    socket.on('end', () => {
      if (this.framer.pending && !this.ended) this.options.log?.('ERR', 'vconn_stream', 'connection dropped mid-packet');
      this.end(new VconnError(this.framer.pending ? 'EPROTO' : 'EOF'));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.end(new VconnError(err.code ?? 'EPROTO')));
    socket.on('close', () => this.end(new VconnError('EOF')));
  }

  private end(err: VconnError): void {
    this.ended ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /**
   * vconn_open() of "unix:PATH": connects to `path`; rejects with the
   * connect(2) errno (ENOENT, ECONNREFUSED...). Does not negotiate yet.
   */
  static open(name: string, path: string, options: VconnOptions): Promise<Vconn> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const onError = (err: NodeJS.ErrnoException) => reject(new VconnError(err.code ?? 'ECONNREFUSED'));
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new Vconn(name, socket, options));
      });
    });
  }

  /** do_recv(): the next raw message, without version checks. */
  private async recvRaw(): Promise<Uint8Array> {
    for (;;) {
      const m = this.inbox.shift();
      if (m) return m;
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private sendRaw(msg: OfpMessage): void {
    if (this.ended) throw this.ended;
    this.socket.write(encodeMessage(msg));
  }

  /** vconn_connect_block(): our hello, theirs, the version. Rejects with ECONNRESET, EPROTO... */
  async connect(): Promise<void> {
    const allowed = this.options.allowedVersions;
    this.sendRaw(encodeHelloFor(allowed, this.options.xids.alloc()));
    let b: Uint8Array;
    try {
      b = await this.recvRaw();
    } catch (err) {
      throw err instanceof VconnError && err.code === 'EOF' ? new VconnError('ECONNRESET') : err;
    }
    const r = decodeMessage(b);
    if (!r.ok || r.message.type !== 'HELLO') {
      this.options.log?.('WARN', 'vconn', `${this.name}: received message while expecting hello: ${formatMessage(b, 1)}`);
      throw new VconnError('EPROTO');
    }
    const { versions, ok } = helloVersions(r.message);
    if (!ok) this.options.log?.('WARN', 'vconn', `${this.name}: unknown data in hello:\n${hexDump(b)}`);
    this.peerVersions = versions;
    const common = (versions & allowed) >>> 0;
    if (!common) {
      this.version = leftmost1BitIdx(versions);
      const local = versionBitmapToString(allowed);
      const peer = versionBitmapToString(versions);
      this.options.log?.('WARN', 'vconn', `${this.name}: version negotiation failed (we support ${local}, peer supports ${peer})`);
      const text = new TextEncoder().encode(`We support ${local}, you support ${peer}, no common versions.`.slice(0, 127));
      try {
        this.sendRaw(encodeErrorMessage('OFPHFC_INCOMPATIBLE', this.version, 0, text));
      } catch {
        // Already gone.
      }
      throw new VconnError('EPROTO');
    }
    this.version = leftmost1BitIdx(common);
    this.options.log?.(
      'DBG',
      'vconn',
      `${this.name}: negotiated OpenFlow version 0x${this.version.toString(16).padStart(2, '0')} (we support ${versionBitmapToString(allowed)}, peer supports ${versionBitmapToString(versions)})`,
    );
  }

  /** vconn_send_block(). */
  send(msg: OfpMessage): void {
    this.sendRaw(msg);
  }

  /**
   * vconn_recv_block(): the next message of the negotiated version (or a
   * hello, error or echo of any version); other versions are answered with
   * OFPBRC_BAD_VERSION and skipped.
   */
  async recv(): Promise<Uint8Array> {
    for (;;) {
      const b = await this.recvRaw();
      const h = decodeHeader(b)!;
      if (h.version === this.version) return b;
      const r = decodeMessage(b);
      const immutable =
        r.ok && (r.message.type === 'HELLO' || r.message.type === 'ERROR' || r.message.type === 'ECHO_REQUEST' || r.message.type === 'ECHO_REPLY');
      if (immutable) return b;
      this.options.log?.(
        'ERR',
        'vconn',
        `${this.name}: received OpenFlow version 0x${h.version.toString(16).padStart(2, '0')} != expected ${this.version.toString(16).padStart(2, '0')}`,
      );
      try {
        this.sendRaw(encodeErrorMessage('OFPBRC_BAD_VERSION', h.version, h.xid, b));
      } catch {
        // Peer gone: the next receive reports it.
      }
    }
  }

  /** vconn_recv_xid(): waits for the message with `xid`, dropping others. */
  async recvXid(xid: number): Promise<Uint8Array> {
    for (;;) {
      const b = await this.recv();
      const h = decodeHeader(b)!;
      if (h.xid === xid) return b;
      this.options.log?.(
        'DBG',
        'vconn',
        `${this.name}: received reply with xid ${h.xid.toString(16).padStart(8, '0')} != expected ${xid.toString(16).padStart(8, '0')}`,
      );
    }
  }

  /** vconn_transact(). */
  async transact(msg: OfpMessage): Promise<Uint8Array> {
    this.send(msg);
    return this.recvXid(msg.xid);
  }

  /** vconn_close(). */
  close(): void {
    this.ended ??= new VconnError('EOF');
    this.socket.destroy();
  }
}
