/**
 * An OVSDB client (the JSON-RPC side of ovsdb-client and lib/jsonrpc.c):
 * requests matched to replies by id, notifications as events, replies to the
 * server's "echo" probes, and, when asked, reconnection with exponential
 * backoff (requests in flight when the connection drops fail with
 * ConnectionClosedError; the caller decides whether to resend).
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { type Socket, connect as netConnect, createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { OvsdbError } from './errors.js';
import type { Json } from './json.js';
import { Connection, type Message, type SslContext, sslClientOptions } from '@ovs/util';

export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
}

/** A JSON-RPC error reply; `ovsdb` is the <error> object decoded. */
export class RpcError extends Error {
  override name = 'RpcError';
  readonly ovsdb: OvsdbError;
  constructor(
    readonly method: string,
    readonly error: Json,
  ) {
    const e = OvsdbError.fromJson(error);
    super(`${method}: ${e.message}`);
    this.ovsdb = e;
  }
}

export interface ReconnectOptions {
  /** First delay, doubled after each failure. Default 100 ms. */
  minMs?: number;
  /** Largest delay. Default 8000 ms (ovsdb's reconnect.c default). */
  maxMs?: number;
}

export interface ClientOptions {
  reconnect?: boolean | ReconnectOptions;
  maxMessageBytes?: number;
  /** Inactivity probe (jsonrpc_session_set_probe_interval()): an echo after this long silent, dropped one interval later. */
  probeIntervalMs?: number;
  /** The SSL configuration an "ssl:HOST:PORT" remote connects with (stream-ssl's, read when connecting). */
  ssl?: () => SslContext;
  /** Sees every message sent and received, as lib/jsonrpc.c's jsonrpc_log_msg() does (its debug log). */
  trace?: (title: 'send' | 'received', msg: Message) => void;
}

/**
 * jsonrpc_log_msg()'s text for a message: "request, method="M", params=P, id=I",
 * "notification, ...", "reply, result=R, id=I", "error, error=E, id=I".
 */
export function jsonrpcMsgToString(msg: Message): string {
  const j = (v: Json) => JSON.stringify(v);
  if (msg.kind === 'request') {
    const type = msg.id === null ? 'notification' : 'request';
    return `${type}, method="${msg.method}", params=${j(msg.params)}${msg.id === null ? '' : `, id=${j(msg.id)}`}`;
  }
  if (msg.error !== null && msg.error !== undefined) return `error, error=${j(msg.error)}, id=${j(msg.id)}`;
  return `reply, result=${j(msg.result)}, id=${j(msg.id)}`;
}

/** "unix:PATH" or "tcp:HOST:PORT" / "ssl:HOST:PORT" (HOST may be [IPv6]); passive "punix:PATH" or "ptcp:PORT[:IP]", where the server connects to us. */
export function parseRemote(remote: string): { path: string; passive?: boolean } | { host: string; port: number; passive?: boolean; ssl?: boolean } {
  if (remote.startsWith('unix:')) return { path: remote.slice(5) };
  if (remote.startsWith('punix:')) return { path: remote.slice(6), passive: true };
  const m = /^(tcp|ssl):(\[[^\]]+\]|[^:]+):(\d+)$/.exec(remote);
  if (m) return { host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]), ...(m[1] === 'ssl' ? { ssl: true } : {}) };
  const p = /^ptcp:(\d*)(?::(.+))?$/.exec(remote);
  if (p) return { host: p[2]?.replace(/^\[|\]$/g, '') ?? '0.0.0.0', port: p[1] ? Number(p[1]) : 6640, passive: true };
  // EAFNOSUPPORT, as stream_open() fails on a name of no known class.
  throw Object.assign(new Error(`${remote}: unsupported remote (use unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, punix:PATH or ptcp:PORT[:IP])`), {
    code: 'EAFNOSUPPORT',
  });
}

function openSocket(remote: string, ssl?: () => SslContext): Promise<Socket> {
  const target = parseRemote(remote);
  if (target.passive) {
    // jsonrpc_session_open() of a passive remote: listen, and talk to the first peer that connects.
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => {
        server.close();
        if ('path' in target) rmSync(target.path, { force: true });
        resolve(sock);
      });
      server.once('error', reject);
      if ('path' in target) {
        rmSync(target.path, { force: true });
        server.listen(target.path);
      } else server.listen(target.port, target.host);
    });
  }
  return new Promise((resolve, reject) => {
    if ('ssl' in target && !ssl) throw new Error(`${remote}: SSL is not configured`);
    const tls = 'ssl' in target ? sslClientOptions(ssl!()) : undefined;
    const sock =
      'path' in target ? netConnect(target.path) : tls ? tlsConnect({ host: target.host, port: target.port, ...tls }) : netConnect(target.port, target.host);
    sock.once(tls ? 'secureConnect' : 'connect', () => {
      sock.removeListener('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

interface Pending {
  method: string;
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
}

/**
 * Events: 'notification' (method, params), 'disconnect' (), 'reconnect' ()
 * after a dropped connection was re-established, 'close' () when closed for good.
 */
export class OvsdbClient extends EventEmitter {
  private conn!: Connection;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** Closed by close(), not by losing the connection. */
  private closedByUser = false;
  private retryTimer?: NodeJS.Timeout;
  /**
   * Why the last connection ended (jsonrpc_session_get_last_error()): the
   * socket's error, or undefined for an end of stream (OVS's EOF).
   */
  lastError: Error | undefined;

  private constructor(
    readonly remote: string,
    private opts: ClientOptions,
  ) {
    super();
  }

  static async connect(remote: string, opts: ClientOptions = {}): Promise<OvsdbClient> {
    const c = new OvsdbClient(remote, opts);
    c.attach(await openSocket(remote, opts.ssl));
    return c;
  }

  /** A client on a socket connected elsewhere (SSL, say), named `remote`; it does not reconnect. */
  static fromSocket(remote: string, sock: Socket, opts: ClientOptions = {}): OvsdbClient {
    const c = new OvsdbClient(remote, { ...opts, reconnect: false });
    c.attach(sock);
    return c;
  }

  get connected(): boolean {
    return !this.closed && this.conn.isOpen;
  }

  private attach(sock: Socket): void {
    this.conn = new Connection(sock, { maxMessageBytes: this.opts.maxMessageBytes, probeIntervalMs: this.opts.probeIntervalMs });
    this.conn.on('message', (m: Message) => this.onMessage(m));
    this.conn.on('close', (why?: Error) => {
      this.lastError = why;
      this.onClose();
    });
  }

  private onMessage(m: Message): void {
    this.opts.trace?.('received', m);
    if (m.kind === 'reply') {
      const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id as number);
      if (m.error !== null) p.reject(new RpcError(p.method, m.error));
      else p.resolve(m.result);
      return;
    }
    if (m.method === 'echo' && m.id !== null) {
      this.opts.trace?.('send', { kind: 'reply', result: m.params, error: null, id: m.id });
      this.conn.reply(m.id, m.params);
      return;
    }
    this.emit('notification', m.method, m.params);
  }

  private onClose(): void {
    for (const p of this.pending.values()) p.reject(new ConnectionClosedError(`${this.remote}: connection closed`));
    this.pending.clear();
    if (this.closed) return;
    this.emit('disconnect');
    if (this.opts.reconnect) this.scheduleReconnect(0);
    else {
      this.closed = true;
      this.emit('close');
    }
  }

  private scheduleReconnect(attempt: number): void {
    const r = typeof this.opts.reconnect === 'object' ? this.opts.reconnect : {};
    const delay = attempt === 0 ? 0 : Math.min(r.maxMs ?? 8000, (r.minMs ?? 100) * 2 ** (attempt - 1));
    this.retryTimer = setTimeout(() => {
      openSocket(this.remote, this.opts.ssl).then(
        (sock) => {
          if (this.closed) {
            sock.destroy();
            return;
          }
          this.attach(sock);
          this.emit('reconnect');
        },
        () => {
          if (!this.closed) this.scheduleReconnect(attempt + 1);
        },
      );
    }, delay);
  }

  /**
   * jsonrpc_session_enable_reconnect(): from now on a lost connection is
   * re-established with backoff (the default 1 s to 8 s of reconnect.c), also
   * one lost before this call.
   */
  enableReconnect(opts: ReconnectOptions = { minMs: 1000, maxMs: 8000 }): void {
    if (this.closedByUser) return;
    this.opts = { ...this.opts, reconnect: opts };
    if (this.closed) {
      this.closed = false;
      this.scheduleReconnect(1);
    }
  }

  /** Sends a request; resolves with its result, rejects with RpcError or ConnectionClosedError. */
  request(method: string, params: Json[]): Promise<Json> {
    if (this.closed || !this.conn.isOpen) return Promise.reject(new ConnectionClosedError(`${this.remote}: not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.opts.trace?.('send', { kind: 'request', method, params, id });
      this.conn.request(method, params, id);
    });
  }

  notify(method: string, params: Json[]): void {
    if (this.conn.isOpen) this.conn.notify(method, params);
  }

  async listDbs(): Promise<string[]> {
    return (await this.request('list_dbs', [])) as string[];
  }

  getSchema(db: string): Promise<Json> {
    return this.request('get_schema', [db]);
  }

  /** Raw "transact": the results array, one entry per operation (+1 for a commit error). */
  async transact(db: string, ...ops: Json[]): Promise<Json[]> {
    return (await this.request('transact', [db, ...ops])) as Json[];
  }

  echo(...params: Json[]): Promise<Json> {
    return this.request('echo', params);
  }

  close(): void {
    this.closedByUser = true;
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.conn.close();
    for (const p of this.pending.values()) p.reject(new ConnectionClosedError(`${this.remote}: closed`));
    this.pending.clear();
    this.emit('close');
  }
}
