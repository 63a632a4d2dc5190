/**
 * The OVSDB server (RFC 7047 §4.1, ovsdb/jsonrpc-server.c): sessions on unix
 * and TCP listeners, the methods list_dbs, get_schema, transact (with "wait"
 * triggers and "cancel"), monitor / monitor_cond / monitor_cond_since /
 * monitor_cond_change / monitor_cancel, lock / steal / unlock, echo,
 * get_server_id and set_db_change_aware.
 *
 * Transactions run one at a time, to completion, on the event loop: a commit
 * is written and fsynced to the file, then applied in memory, then sent to
 * the monitors, then acknowledged. A client that goes away mid-way changes
 * none of that; a transaction that fails changes nothing.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { type AddressInfo, type Server as NetServer, type Socket, connect as netConnect, createServer } from 'node:net';
import { type Server as TlsServer, type TLSSocket, connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import type { ChangeSet, Database, RowChange, Transaction } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type ExecOutcome, execute } from './execution.js';
import { type Json, type JsonObject, ZERO_UUID, isId, isUuid } from './json.js';
import { type DatabaseSchema, parseSchema } from './schema.js';
import {
  Connection,
  ProtocolError,
  type Request,
  type SslContext,
  type SslSettings,
  chmodUnixSocket,
  doCaCertBootstrap,
  errorText,
  sslClientOptions,
  sslInit,
  simapIncrease,
  sslServerOptions,
} from '@ovs/util';
import { type DbStorage, ovsdbConvert } from './log.js';
import { Monitor, type MonitorVersion, mergeChangeSets } from './monitor.js';

/** The reply a relay's source gave to a forwarded transaction: its result, or its error. */
export type ForwardReply = { result: Json } | { error: Json };

/**
 * What a relay's database forwards through (transaction-forward.ts): a transaction its copy
 * may not commit is sent to the source, and `done` gets the source's reply.
 */
export interface TxnForwarder {
  forward(params: Json[], done: (reply: ForwardReply) => void): { destroy(): void };
}

/** A database being served, with its file if it has one. */
export class ServedDatabase {
  private readonly listeners = new Set<(cs: ChangeSet) => void>();
  private readonly replaceListeners = new Set<(old: DatabaseSchema) => void>();

  /**
   * The transaction history (ovsdb's txn_history) a clustered database and a relay keep so that a
   * client reconnecting with monitor_cond_since gets what it missed rather than everything: the
   * last commits, oldest first, at most 100 and, beyond the newest, no more atoms than the
   * database holds (ovsdb_txn_history_run()). A standalone database keeps none.
   */
  private history: ChangeSet[] | undefined;
  private historyAtoms = 0;

  /**
   * false while a relay's copy has no schema yet (ovsdb_jsonrpc_lookup_db()'s "database not
   * available"); `db` is then an empty stand-in under the database's name.
   */
  available = true;
  /** Set for a relay's copy: its write transactions go to the source. */
  forwarder?: TxnForwarder;

  constructor(
    private current: Database,
    readonly file?: DbStorage,
  ) {
    if (file?.model === 'clustered') {
      this.history = [];
      for (const cs of file.replayed ?? []) this.addToHistory(cs);
    }
  }

  /**
   * ovsdb_txn_history_destroy() + ovsdb_txn_history_init(): the history emptied, and kept from
   * now on or not (a relay keeps one while its source gives transaction ids).
   */
  setHistory(enabled: boolean): void {
    this.history = enabled ? [] : undefined;
    this.historyAtoms = 0;
  }

  /** The database served (another one once a "convert" or a relay's new schema has replaced it). */
  get db(): Database {
    return this.current;
  }

  get name(): string {
    return this.db.schema.name;
  }

  /** Called after every commit, before the committing client's reply. */
  onCommit(fn: (cs: ChangeSet) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** ovsdb_monitor_get_last_txnid(): the newest transaction of the history, else the zero UUID. */
  get lastTxnId(): string {
    return this.history?.at(-1)?.id ?? ZERO_UUID;
  }

  /**
   * ovsdb_monitor_get_changes_after(): every change committed after transaction `id`, merged, if the
   * history still holds `id` (an empty change set when nothing came after); undefined if not.
   */
  changesAfter(id: string): ChangeSet | undefined {
    const i = this.history?.findIndex((cs) => cs.id === id) ?? -1;
    if (i < 0) return undefined;
    return this.history!.slice(i + 1).reduce<ChangeSet>((all, cs) => mergeChangeSets(all, cs), { id, changes: [] });
  }

  /** ovsdb_get_memory_usage(): cells, atoms and the history's size. */
  getMemoryUsage(usage: Map<string, number>): void {
    let cells = 0;
    for (const t of this.db.tables.values()) cells += t.rows.size * t.schema.columns.size;
    simapIncrease(usage, 'cells', cells);
    simapIncrease(usage, 'atoms', this.db.nAtoms);
    simapIncrease(usage, 'txn-history', this.history?.length ?? 0);
    simapIncrease(usage, 'txn-history-atoms', this.historyAtoms);
    this.file?.getMemoryUsage?.(usage);
  }

  /** ovsdb_txn_add_to_history(), then ovsdb_txn_history_run()'s trimming. */
  private addToHistory(cs: ChangeSet): void {
    if (!this.history) return;
    this.history.push(cs);
    this.historyAtoms += cs.nAtoms ?? 0;
    while (this.history.length > 1 && (this.history.length > 100 || this.historyAtoms > this.db.nAtoms)) {
      this.historyAtoms -= this.history.shift()!.nAtoms ?? 0;
    }
  }

  /** Called when a conversion has replaced the database (ovsdb_replace()), with the schema it had. */
  onReplace(fn: (old: DatabaseSchema) => void): () => void {
    this.replaceListeners.add(fn);
    return () => this.replaceListeners.delete(fn);
  }

  /**
   * The "convert" request's work (ovsdb_trigger_try()): the data converted to `schema`
   * (ovsdbConvert()) and stored as one schema change, a transaction of its own. Returns the new
   * database and that transaction's id, for replace(); throws the OvsdbError of a schema of
   * another name, of data the new schema cannot hold or of a failed write, changing nothing.
   */
  convert(schema: DatabaseSchema): { db: Database; txnId: string } {
    if (schema.name !== this.name) {
      throw new OvsdbError('invalid parameters', `new schema name (${schema.name}) does not match database name (${this.name})`);
    }
    const db = ovsdbConvert(this.db, schema);
    const txnId = crypto.randomUUID();
    this.file?.writeSchemaChange(db, txnId);
    return { db, txnId };
  }

  /**
   * ovsdb_replace(): `db` is served from now on (the history restarting with it), and the
   * onReplace listeners are given the schema replaced. What depended on the old one is canceled
   * by the server (OvsdbServer.replaceDatabase(), or the "convert" request's own order).
   */
  replace(db: Database, txnId?: string): void {
    const old = this.current.schema;
    this.current = db;
    this.available = true;
    if (this.history) this.setHistory(true);
    if (this.history && txnId !== undefined) {
      // A conversion's data is a transaction of its own, inserting every row (parse_txn() replays it).
      const changes: RowChange[] = [];
      for (const [table, t] of db.tables) {
        for (const row of t.rows.values()) changes.push({ table, uuid: row.uuid, old: null, new: row, changed: new Set(Object.keys(row.fields)) });
      }
      this.addToHistory({ id: txnId, changes, nAtoms: db.nAtoms });
    }
    for (const fn of this.replaceListeners) fn(old);
  }

  /**
   * Runs a transaction (params as in "transact": [db, op...]) and commits it.
   * 'blocked' means an unsatisfied "wait" that may still be met later.
   */
  transact(params: readonly unknown[], ctx: Parameters<typeof execute>[2] = {}): ExecOutcome {
    const outcome = execute(this.db, params, { ...ctx, forward: this.forwarder !== undefined });
    if (outcome.kind !== 'done' || !outcome.txn) return outcome;
    const error = this.commitTxn(outcome.txn, outcome.durable);
    if (error) return { kind: 'done', results: [...outcome.results, error.toJson()], txn: null, durable: false };
    return { ...outcome, txn: null };
  }

  /**
   * Commits a precommitted transaction: written to the file (when it changes anything
   * persistent; fsynced first if `durable`), applied, then seen by every onCommit
   * listener. An empty transaction commits nothing. The error of a failed write, with
   * nothing applied.
   */
  commitTxn(txn: Transaction, durable = false, txnId?: string): OvsdbError | null {
    if (txn.isEmpty()) {
      // ovsdb_txn_replay_commit(): a transaction replayed under its id joins the history even empty.
      if (txnId !== undefined) this.addToHistory({ id: txnId, changes: [], nAtoms: 0 });
      return null;
    }
    let cs: ChangeSet;
    try {
      cs = txn.commit(txnId ?? crypto.randomUUID(), (c) => this.file?.append(c, durable));
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      return e;
    }
    this.addToHistory(cs);
    for (const fn of this.listeners) fn(cs);
    if (this.file?.shouldCompact()) {
      try {
        this.file.compact();
      } catch {
        // A failed compaction leaves the old, still valid, file in place.
      }
    }
    return null;
  }
}

export interface ServerOptions {
  databases: ServedDatabase[];
  /** "punix:PATH", "ptcp:[PORT][:IP]" (PORT 0 for a free port), or active "unix:PATH", "tcp:IP:PORT". */
  remotes?: string[];
  maxMessageBytes?: number;
  /** Inactivity probe of TCP sessions (ovsdb-server's default 5000 ms; 0: none). Unix sessions have none, as in OVS. */
  probeIntervalMs?: number;
  log?: (msg: string) => void;
  /** Where the server's vlog messages go, by level and module (as ovsdb-server logs them). */
  vlog?: (level: VlogLevel, module: string, msg: string) => void;
}

export type VlogLevel = 'emer' | 'err' | 'warn' | 'info' | 'dbg';

/** struct ovsdb_jsonrpc_options: how a remote is served. */
export interface RemoteOptions {
  /** Longest wait between connection attempts of an active remote (default 8000 ms). */
  maxBackoffMs?: number;
  /** Inactivity probe (default 5000 ms on TCP, none on unix sockets; 0: none). */
  probeIntervalMs?: number;
  readOnly?: boolean;
  role?: string;
  dscp?: number;
}

/** struct ovsdb_jsonrpc_remote_status; absent seconds are UINT_MAX in OVS (never). */
export interface RemoteStatus {
  isConnected: boolean;
  lastError?: string;
  state?: string;
  secSinceConnect?: number;
  secSinceDisconnect?: number;
  locksHeld?: string;
  locksWaiting?: string;
  locksLost?: string;
  nConnections: number;
  boundPort?: number;
}

interface Lock {
  owner: Session | null;
  waiters: Session[];
}

interface Trigger {
  id: Json;
  db: ServedDatabase;
  params: Json[];
  start: number;
  timer?: NodeJS.Timeout;
  /** Run before (then blocked on a "wait"). */
  retried?: boolean;
  /** Forwarded to a relay's source, its reply awaited (the trigger's txn_forward). */
  forward?: { destroy(): void };
}

/** strerror() text of an error a remote reports in its status and log. */
export const strerror = errorText;

/** A parsed remote name: passive (a listener) or active (a connection this server makes). */
type RemoteAddress =
  | { kind: 'punix'; path: string }
  | { kind: 'unix'; path: string }
  | { kind: 'ptcp'; port: number; host: string }
  | { kind: 'tcp'; port: number; host: string }
  | { kind: 'pssl'; port: number; host: string }
  | { kind: 'ssl'; port: number; host: string }
  | { kind: 'unknown'; name: string };

/** What an SSL context was made of: equal keys, the same context. */
function sslContextKey(ctx: SslContext): string {
  const o = ctx.options;
  return JSON.stringify([String(o.key), String(o.cert), String(o.ca), o.minVersion, o.maxVersion, o.ciphers, ctx.bootstrapFile, ctx.verifyPeer]);
}

/** OVS's default OVSDB port (OVSDB_PORT). */
export const OVSDB_PORT = 6640;

/** Parses "punix:PATH", "ptcp:[PORT][:IP]", "pssl:[PORT][:IP]", "unix:PATH", "tcp:IP[:PORT]", "ssl:IP[:PORT]" as lib/stream.c's classes do. */
export function parseRemoteName(name: string): RemoteAddress {
  const colon = name.indexOf(':');
  const type = colon < 0 ? name : name.slice(0, colon);
  const rest = colon < 0 ? '' : name.slice(colon + 1);
  const unbracket = (h: string) => h.replace(/^\[|\]$/g, '');
  switch (type) {
    case 'punix':
      return { kind: 'punix', path: rest };
    case 'unix':
      return { kind: 'unix', path: rest };
    case 'ptcp':
    case 'pssl': {
      // ptcp:[PORT][:IP], IPv6 in brackets.
      const m = /^(\d*)(?::(.*))?$/.exec(rest);
      if (!m) return { kind: 'unknown', name };
      return { kind: type, port: m[1] ? Number(m[1]) : OVSDB_PORT, host: m[2] ? unbracket(m[2]) : '0.0.0.0' };
    }
    case 'tcp':
    case 'ssl': {
      // tcp:IP[:PORT]
      const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(rest);
      if (!m?.[1]) return { kind: 'unknown', name };
      return { kind: type, host: unbracket(m[1]), port: m[2] ? Number(m[2]) : OVSDB_PORT };
    }
    default:
      return { kind: 'unknown', name };
  }
}

/**
 * One configured remote (struct ovsdb_jsonrpc_remote): a listener and the
 * sessions it accepted, or one active session that reconnects with backoff
 * as lib/reconnect.c does.
 */
class Remote {
  readonly sessions = new Set<Session>();
  listener?: NetServer;
  path?: string;
  boundPort?: number;
  active?: ActiveSession;
  /** A pssl: listener's TLS server, and what its context was made of. */
  tls?: { key: string; server: TlsServer };

  constructor(
    readonly name: string,
    public options: RemoteOptions,
  ) {}
}

/** The reconnecting connection of an active remote (jsonrpc_session_open(name, true)). */
class ActiveSession {
  state: 'CONNECTING' | 'ACTIVE' | 'BACKOFF' | 'VOID' = 'VOID';
  lastConnected?: number;
  lastDisconnected?: number;
  lastError?: string;
  private backoff = 0;
  private timer?: NodeJS.Timeout;
  private socket?: Socket;
  session?: Session;
  private stopped = false;

  constructor(
    private readonly server: OvsdbServer,
    private readonly remote: Remote,
    private readonly address: { kind: 'unix'; path: string } | { kind: 'tcp' | 'ssl'; port: number; host: string },
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'CONNECTING';
    const a = this.address;
    let ssl: SslContext | undefined;
    const failed = (e: Error) => {
      this.lastError = strerror(e);
      this.server.vlog('info', 'reconnect', `${this.remote.name}: connection attempt failed (${this.lastError})`);
      this.socket = undefined;
      this.backOff();
    };
    if (a.kind === 'ssl') {
      try {
        ssl = this.server.sslContext();
      } catch (e) {
        return failed(e as Error);
      }
    }
    const sock =
      a.kind === 'unix' ? netConnect(a.path) : ssl ? tlsConnect({ port: a.port, host: a.host, ...sslClientOptions(ssl) }) : netConnect(a.port, a.host);
    this.socket = sock;
    const onError = (e: Error) => {
      sock.destroy();
      failed(e);
    };
    sock.once('error', onError);
    sock.once(ssl ? 'secureConnect' : 'connect', () => {
      sock.off('error', onError);
      if (this.stopped) return sock.destroy();
      if (ssl?.bootstrapFile) return onError(doCaCertBootstrap(sock as TLSSocket, ssl.bootstrapFile, (m) => this.server.vlog('info', 'stream_ssl', m)));
      this.server.vlog('info', 'reconnect', `${this.remote.name}: connected`);
      this.state = 'ACTIVE';
      this.lastConnected = Date.now();
      this.lastError = undefined;
      const s = this.server.accept(sock, a.kind !== 'unix', this.remote, this.remote.name);
      this.session = s;
      s.conn.once('close', (why?: Error) => {
        this.session = undefined;
        this.socket = undefined;
        this.lastDisconnected = Date.now();
        this.lastError = why ? strerror(why) : 'End of file';
        if (this.stopped) return;
        this.server.vlog('info', 'reconnect', `${this.remote.name}: connection dropped${why ? ` (${this.lastError})` : ''}`);
        // A connection that lasted resets the backoff (reconnect_disconnected()).
        if (Date.now() - (this.lastConnected ?? 0) >= this.backoff) this.backoff = 0;
        this.backOff();
      });
    });
  }

  private backOff(): void {
    if (this.stopped) return;
    const max = this.remote.options.maxBackoffMs ?? 8000;
    this.backoff = this.backoff === 0 ? 1000 : Math.min(max, this.backoff * 2);
    this.state = 'BACKOFF';
    this.server.vlog('info', 'reconnect', `${this.remote.name}: waiting ${this.backoff / 1000} seconds before reconnect`);
    this.timer = setTimeout(() => this.connect(), this.backoff);
    this.timer.unref();
  }

  /** jsonrpc_session_force_reconnect(). */
  forceReconnect(): void {
    if (this.session) this.session.close();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.session?.close();
    this.socket?.destroy();
  }
}

export class OvsdbServer {
  readonly id = crypto.randomUUID();
  readonly dbs = new Map<string, ServedDatabase>();
  readonly sessions = new Set<Session>();
  readonly locks = new Map<string, Lock>();
  private readonly remotes = new Map<string, Remote>();
  private readonly unsubscribe = new Map<ServedDatabase, () => void>();
  readonly log: (msg: string) => void;
  private unixSessions = 0;
  /** Serialises setRemotes(): listeners open asynchronously. */
  private remotesDone: Promise<void> = Promise.resolve();
  private closing = false;
  /**
   * ovsdb_jsonrpc_server_set_read_only(): every session refuses writes and
   * locks (a backup server's clients may only read).
   */
  readOnly = false;

  private constructor(readonly opts: ServerOptions) {
    this.log = opts.log ?? ((m) => opts.vlog?.('warn', 'jsonrpc', m));
    for (const d of opts.databases) this.addDatabase(d);
  }

  static async start(opts: ServerOptions): Promise<OvsdbServer> {
    const s = new OvsdbServer(opts);
    try {
      for (const r of opts.remotes ?? []) await s.listen(r);
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  vlog(level: VlogLevel, module: string, msg: string): void {
    this.opts.vlog?.(level, module, msg);
  }

  /** Where each listener is: a socket path or "host:port". */
  get addresses(): string[] {
    const out: string[] = [];
    for (const r of this.remotes.values()) {
      if (!r.listener) continue;
      if (r.path) out.push(`unix:${r.path}`);
      else {
        const a = r.listener.address() as AddressInfo;
        out.push(`${r.name.startsWith('pssl:') ? 'ssl' : 'tcp'}:${a.address}:${a.port}`);
      }
    }
    return out;
  }

  /** The names of the remotes configured now. */
  get remoteNames(): string[] {
    return [...this.remotes.keys()];
  }

  /** Adds a remote, throwing if it cannot listen (or connect, for active remotes: never). */
  async listen(remote: string, options: RemoteOptions = {}): Promise<void> {
    if (this.remotes.has(remote)) return;
    const r = await this.openRemote(remote, options);
    this.remotes.set(remote, r);
  }

  /**
   * ovsdb_jsonrpc_server_add_remote(): a listener for punix:/ptcp:/pssl:, a
   * reconnecting session for unix:/tcp:/ssl:. Throws the listen error.
   */
  private async openRemote(name: string, options: RemoteOptions): Promise<Remote> {
    const r = new Remote(name, options);
    const a = parseRemoteName(name);
    if (a.kind === 'unknown') throw Object.assign(new Error('Address family not supported by protocol'), { code: 'EAFNOSUPPORT' });
    if (a.kind === 'unix' || a.kind === 'tcp' || a.kind === 'ssl') {
      r.active = new ActiveSession(this, r, a);
      return r;
    }
    const server = createServer((sock) => (a.kind === 'pssl' ? this.acceptSsl(sock, r) : this.accept(sock, a.kind === 'ptcp', r)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (a.kind === 'punix') {
        r.path = a.path;
        // A socket left by a server that died; the real ovsdb-server also unlinks and rebinds.
        if (existsSync(a.path)) unlinkSync(a.path);
        server.listen(a.path, () => {
          chmodUnixSocket(a.path);
          resolve();
        });
      } else {
        server.listen(a.port, a.host, () => resolve());
      }
    });
    server.on('error', (e) => this.log(`listener ${name}: ${e.message}`));
    r.listener = server;
    if (a.kind !== 'punix') {
      r.boundPort = (server.address() as AddressInfo).port;
      // inet_open_passive(): the port the kernel chose is logged.
      if (a.port === 0) this.vlog('info', 'socket_util', `${name.slice(5)}: listening on port ${r.boundPort}`);
    }
    return r;
  }

  /**
   * stream_ssl_set_*(): the SSL configuration used by each SSL connection made
   * or accepted from now on. A setting left undefined keeps the one in force,
   * as OVS's do.
   */
  setSsl(settings: SslSettings): void {
    const defined = Object.entries(settings).filter(([, v]) => v !== undefined);
    if (settings.caCert === 'none' && this.ssl.caCert !== 'none')
      this.vlog('warn', 'stream_ssl', 'Peer certificate validation disabled (this is a security risk)');
    this.ssl = { ...this.ssl, ...Object.fromEntries(defined) };
  }

  private ssl: SslSettings = {};

  /** ssl_init()'s checks and the context, read from the configured files now (throws ENOPROTOOPT, logged). */
  sslContext(): SslContext {
    return sslInit(this.ssl, (m) => this.vlog('err', 'stream_ssl', m));
  }

  /**
   * pssl_accept() + new_ssl_stream(): the connection's TLS handshake made with
   * the configuration in force now. A remote keeps one TLS server (its
   * handshake machinery), made again when the key, certificates or CA change.
   */
  private acceptSsl(raw: Socket, r: Remote): void {
    let ctx: SslContext;
    try {
      ctx = this.sslContext();
    } catch {
      raw.destroy();
      return;
    }
    const key = sslContextKey(ctx);
    if (r.tls?.key !== key) {
      const server = tlsCreateServer(sslServerOptions(ctx), (sock) => {
        if (ctx.bootstrapFile) {
          doCaCertBootstrap(sock, ctx.bootstrapFile, (m) => this.vlog('info', 'stream_ssl', m));
          sock.destroy();
          return;
        }
        this.accept(sock, true, r, `ssl:${sock.remoteAddress}:${sock.remotePort}`);
      });
      server.on('tlsClientError', (e) => this.vlog('warn', 'stream_ssl', `SSL_accept: ${e.message}`));
      r.tls = { key, server };
    }
    r.tls.server.emit('connection', raw);
  }

  /** ovsdb_jsonrpc_server_del_remote(). */
  private async closeRemote(r: Remote): Promise<void> {
    r.active?.stop();
    for (const s of [...r.sessions]) s.close();
    if (r.listener) await new Promise<void>((resolve) => r.listener!.close(() => resolve()));
    if (r.path && existsSync(r.path)) unlinkSync(r.path);
  }

  /**
   * ovsdb_jsonrpc_server_set_remotes(): remotes no longer wanted are closed
   * ("remote deconfigured"), new ones opened; one that fails to listen is
   * logged ("listen failed") and tried again at the next call, as ovsdb-server
   * does on each pass of its main loop.
   */
  setRemotes(wanted: ReadonlyMap<string, RemoteOptions>): Promise<void> {
    const run = async () => {
      if (this.closing) return;
      for (const [name, r] of [...this.remotes]) {
        const opts = wanted.get(name);
        if (!opts) {
          this.vlog('info', 'jsonrpc_server', `${name}: remote deconfigured`);
          this.remotes.delete(name);
          await this.closeRemote(r);
        } else if ((opts.dscp ?? 48) !== (r.options.dscp ?? 48)) {
          this.remotes.delete(name);
          await this.closeRemote(r);
        }
      }
      for (const [name, opts] of wanted) {
        const r = this.remotes.get(name);
        if (r) {
          r.options = opts;
          continue;
        }
        try {
          this.remotes.set(name, await this.openRemote(name, opts));
        } catch (e) {
          const key = `${name}\0${strerror(e)}`;
          if (!this.listenFailures.has(key)) this.vlog('err', 'jsonrpc_server', `${name}: listen failed: ${strerror(e)}`);
          this.listenFailures.add(key);
        }
      }
    };
    this.remotesDone = this.remotesDone.then(run, run);
    return this.remotesDone;
  }

  /** Listen failures already logged (VLOG_ERR_RL: the same failure is not repeated on every pass). */
  private readonly listenFailures = new Set<string>();

  /** ovsdb_jsonrpc_server_get_remote_status(); null for a remote not configured. */
  getRemoteStatus(target: string): RemoteStatus | null {
    const r = this.remotes.get(target);
    if (!r) return null;
    if (r.listener) {
      return { isConnected: r.sessions.size > 0, nConnections: r.sessions.size, boundPort: r.boundPort ?? 0, secSinceConnect: 0, secSinceDisconnect: 0 };
    }
    const a = r.active!;
    const now = Date.now();
    const st: RemoteStatus = { isConnected: a.state === 'ACTIVE', state: a.state, nConnections: a.session ? 1 : 0 };
    if (a.lastError) st.lastError = a.lastError;
    if (a.lastConnected !== undefined) st.secSinceConnect = Math.floor((now - a.lastConnected) / 1000);
    if (a.lastDisconnected !== undefined) st.secSinceDisconnect = Math.floor((now - a.lastDisconnected) / 1000);
    if (a.session) Object.assign(st, a.session.lockStatus());
    return st;
  }

  /**
   * ovsdb_jsonrpc_server_reconnect(): drops every session (force) or those
   * not aware of database changes, logging why.
   */
  reconnect(force: boolean, comment?: string): void {
    for (const r of this.remotes.values()) {
      for (const s of [...r.sessions]) {
        if (!force && s.dbChangeAware) continue;
        if (comment) this.vlog('info', 'jsonrpc_server', `${s.name}: disconnecting (${comment})`);
        if (r.active) r.active.forceReconnect();
        else s.close();
      }
    }
  }

  /** ovsdb_jsonrpc_server_add_db(). */
  addDatabase(d: ServedDatabase): void {
    this.dbs.set(d.name, d);
    this.unsubscribe.set(
      d,
      d.onCommit((cs) => this.afterCommit(d, cs)),
    );
  }

  /**
   * ovsdb_jsonrpc_server_get_memory_usage() and ovsdb_monitor_get_memory_usage(): sessions, their
   * waiting transactions and unsent bytes, and the monitors (here every client's, where OVS counts
   * the ones clients with the same request share once).
   */
  getMemoryUsage(usage: Map<string, number>): void {
    simapIncrease(usage, 'sessions', this.sessions.size);
    let monitors = 0;
    for (const s of this.sessions) {
      s.getMemoryUsage(usage);
      monitors += s.monitors.size;
    }
    usage.set('monitors', monitors);
  }

  /**
   * ovsdb_replace() as update_schema() does it (a relay's source sent a new schema, a clustered
   * conversion is read back): the database's monitors are canceled (`monitor_canceled` to
   * clients aware of database changes) and its waiting transactions end with "canceled", then
   * `db` is served (`txnId`: the conversion's, which starts the history).
   */
  replaceDatabase(d: ServedDatabase, db: Database, txnId?: string): void {
    for (const s of [...this.sessions]) s.preremoveDb(d);
    d.replace(db, txnId);
  }

  /**
   * A "convert" request's new database served, its reply sent, in the order OVS has them:
   * - a clustered one as its log is read back (update_schema()): clients unaware of database
   *   changes dropped first, and only if the schema's version changed, then replaceDatabase(),
   *   then the reply;
   * - a standalone one at once (ovsdb_trigger_try()): the reply, the database replaced with the
   *   aware clients' monitors and waiting transactions canceled, then every unaware client
   *   dropped (ovsdb-server's main loop) before its "canceled" reply could go out: it sees the
   *   connection end.
   */
  convertDatabase(d: ServedDatabase, { db, txnId }: { db: Database; txnId: string }, reply: () => void): void {
    if (d.file?.model === 'clustered') {
      if (d.db.schema.version !== db.schema.version) this.reconnect(false, `database ${d.name} schema changed`);
      this.replaceDatabase(d, db, txnId);
      reply();
      return;
    }
    reply();
    for (const s of [...this.sessions]) if (s.dbChangeAware) s.preremoveDb(d);
    d.replace(db, txnId);
    this.reconnect(false, `committed ${d.name} database schema conversion`);
  }

  /** ovsdb_jsonrpc_server_remove_db(): monitors of it canceled, sessions unaware of database changes dropped. */
  removeDatabase(name: string, comment?: string): ServedDatabase | undefined {
    const d = this.dbs.get(name);
    if (!d) return undefined;
    for (const s of this.sessions) s.preremoveDb(d);
    this.reconnect(false, comment);
    this.dbs.delete(name);
    this.unsubscribe.get(d)?.();
    this.unsubscribe.delete(d);
    return d;
  }

  /**
   * Serves a connected socket (also usable with a socket made elsewhere).
   * Named as OVS names its streams: "tcp:IP:PORT", "unix#N".
   */
  accept(sock: Socket, tcp = false, remote?: Remote, name?: string): Session {
    const sessionName = name ?? (tcp ? `tcp:${sock.remoteAddress}:${sock.remotePort}` : `unix#${this.unixSessions++}`);
    const probe = remote?.options.probeIntervalMs;
    const conn = new Connection(sock, {
      maxMessageBytes: this.opts.maxMessageBytes,
      flowControl: true,
      probeIntervalMs: tcp ? (probe ?? this.opts.probeIntervalMs ?? 5000) : (probe ?? 0),
    });
    const s = new Session(this, conn, sessionName, remote?.options.readOnly ?? false);
    this.sessions.add(s);
    if (remote) {
      remote.sessions.add(s);
      conn.once('close', () => remote.sessions.delete(s));
    }
    return s;
  }

  private afterCommit(d: ServedDatabase, cs: ChangeSet): void {
    for (const s of this.sessions) s.sendUpdates(d, cs);
    // A commit may satisfy a waiting "wait".
    for (const s of [...this.sessions]) s.retryTriggers(d);
  }

  notifyLock(s: Session, name: string, method: 'locked' | 'stolen'): void {
    s.out().notify(method, [name]);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.remotesDone.catch(() => {});
    for (const s of [...this.sessions]) s.close();
    const all = [...this.remotes.values()];
    this.remotes.clear();
    await Promise.all(all.map((r) => this.closeRemote(r)));
    for (const d of this.dbs.values()) d.file?.close();
  }
}

const jsonKey = (j: Json) => JSON.stringify(j);

/** jsonrpc_create_readonly_lock_error(): a bare string as the error. */
const READ_ONLY_LOCK_ERROR = 'lock and unlock methods not allowed, DB server is read only.';

export class Session {
  readonly monitors = new Map<string, { db: ServedDatabase; monitor: Monitor }>();
  private readonly triggers = new Map<string, Trigger>();
  /** Locks this session holds or waits for. */
  private readonly lockNames = new Set<string>();
  /**
   * Commits not yet sent to this session's monitors because it has output
   * waiting for the peer (ovsdb-server flushes monitors only with no backlog),
   * merged into one change set per database.
   */
  private readonly held = new Map<ServedDatabase, ChangeSet>();

  /** set_db_change_aware: the client copes with databases coming and going (no reconnect for it). */
  dbChangeAware = false;

  constructor(
    readonly server: OvsdbServer,
    readonly conn: Connection,
    readonly name = 'session',
    /** Its remote's read_only. */
    private readonly remoteReadOnly = false,
  ) {
    conn.on('message', (m) => {
      if (m.kind === 'request') this.onRequest(m);
    });
    conn.on('drain', () => this.flushHeld());
    conn.on('close', (why?: Error) => {
      if (why instanceof ProtocolError) this.server.log(`${name}: ${describeDrop(why)}`);
      this.cleanup();
    });
  }

  /** No writes, locks or unlocks: its remote is read-only, or the whole server is (a backup). */
  get readOnly(): boolean {
    return this.remoteReadOnly || this.server.readOnly;
  }

  /** The connection, once the updates held back are sent: nothing may overtake them. */
  out(): Connection {
    if (this.held.size) this.flushHeld();
    return this.conn;
  }

  private flushHeld(): void {
    const held = [...this.held];
    this.held.clear();
    for (const [d, cs] of held) this.sendUpdatesNow(d, cs);
  }

  close(): void {
    this.conn.close();
    this.cleanup();
  }

  private cleanup(): void {
    if (!this.server.sessions.delete(this)) return;
    for (const t of this.triggers.values()) {
      clearTimeout(t.timer);
      t.forward?.destroy();
    }
    this.triggers.clear();
    this.monitors.clear();
    this.held.clear();
    for (const name of [...this.lockNames]) this.unlock(name);
  }

  /** ovsdb_jsonrpc_session_get_memory_usage(). */
  getMemoryUsage(usage: Map<string, number>): void {
    simapIncrease(usage, 'triggers', this.triggers.size);
    simapIncrease(usage, 'backlog', this.conn.backlog);
  }

  /** The locks part of ovsdb_jsonrpc_session_get_status(): names held and waited for, space-separated. */
  lockStatus(): { locksHeld?: string; locksWaiting?: string } {
    const held: string[] = [];
    const waiting: string[] = [];
    for (const n of this.lockNames) (this.ownsLock(n) ? held : waiting).push(n);
    return { ...(held.length ? { locksHeld: held.join(' ') } : {}), ...(waiting.length ? { locksWaiting: waiting.join(' ') } : {}) };
  }

  /**
   * ovsdb_jsonrpc_session_preremove_db(): the monitors of a database being removed are
   * dropped (a client aware of database changes is told "monitor_canceled"), and its
   * waiting transactions end.
   */
  preremoveDb(d: ServedDatabase): void {
    for (const [key, m] of [...this.monitors]) {
      if (m.db !== d) continue;
      this.monitors.delete(key);
      if (this.dbChangeAware) this.out().notify('monitor_canceled', [m.monitor.id]);
    }
    for (const t of [...this.triggers.values()]) {
      if (t.db !== d) continue;
      this.dropTrigger(t);
      this.out().replyError(t.id, 'canceled');
    }
  }

  ownsLock(name: string): boolean {
    return this.server.locks.get(name)?.owner === this;
  }

  private onRequest(req: Request): void {
    try {
      this.dispatch(req);
    } catch (e) {
      // Hostile input must not take the server down: report and go on.
      if (req.id === null) return;
      const err = e instanceof OvsdbError ? e.toJson() : new OvsdbError('internal error', (e as Error).message).toJson();
      this.out().replyError(req.id, err);
    }
  }

  private lookupDb(req: Request): ServedDatabase {
    const name = req.params[0];
    if (typeof name !== 'string') throw syntaxError(req.params, null, `${req.method} request params must begin with <db-name>`);
    const d = this.server.dbs.get(name);
    if (!d) throw syntaxError(req.params, 'unknown database', `${req.method} request specifies unknown database ${name}`);
    if (!d.available) {
      throw new OvsdbError(
        'database not available',
        `${req.method} request specifies database ${name} which is not yet available because it has not completed joining its cluster`,
      );
    }
    return d;
  }

  private dispatch(req: Request): void {
    const { method, params, id } = req;
    const reply = (result: Json) => {
      if (id !== null) this.out().reply(id, result);
    };
    switch (method) {
      case 'echo':
        return reply(params);
      case 'list_dbs':
        return reply([...this.server.dbs.keys()]);
      case 'get_schema':
        return reply(this.lookupDb(req).db.schema.json);
      case 'get_server_id':
        return reply(this.server.id);
      case 'set_db_change_aware':
        if (params.length !== 1 || typeof params[0] !== 'boolean') {
          throw syntaxError(params, null, 'set_db_change_aware: true or false parameter expected');
        }
        this.dbChangeAware = params[0];
        return reply({});
      case 'transact': {
        const d = this.lookupDb(req);
        if (id === null) return; // a notification gets no reply, and runs nothing
        return this.runTrigger({ id, db: d, params, start: Date.now() });
      }
      case 'convert': {
        const d = this.lookupDb(req);
        if (params.length !== 2) throw syntaxError(params, null, 'array expected');
        return this.server.convertDatabase(d, d.convert(parseSchema(params[1]!)), () => reply({}));
      }
      case 'cancel': {
        const t = params.length === 1 ? this.triggers.get(jsonKey(params[0]!)) : undefined;
        if (t) {
          this.dropTrigger(t);
          this.out().replyError(t.id, 'canceled');
        }
        return;
      }
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since':
        return reply(this.monitor(req, method === 'monitor' ? 1 : method === 'monitor_cond' ? 2 : 3));
      case 'monitor_cond_change':
        return reply(this.monitorCondChange(params));
      case 'monitor_cancel': {
        if (params.length !== 1) return this.out().replyError(id, 'invalid parameters');
        if (!this.monitors.delete(jsonKey(params[0]!))) return this.out().replyError(id, 'unknown monitor');
        return reply({});
      }
      case 'lock':
      case 'steal':
        if (this.readOnly) return this.out().replyError(id, READ_ONLY_LOCK_ERROR);
        return reply(this.lock(req, method));
      case 'unlock': {
        if (this.readOnly) return this.out().replyError(id, READ_ONLY_LOCK_ERROR);
        const name = this.lockName(req);
        if (!this.lockNames.has(name)) throw syntaxError(params, null, 'unlock: "unlock" without "lock" or "steal"');
        this.unlock(name);
        return reply({});
      }
      default:
        if (id !== null) this.out().replyError(id, 'unknown method');
    }
  }

  /** Runs a transaction; one blocked on a "wait" is kept and run again after commits, or at its timeout. */
  private runTrigger(t: Trigger): void {
    const key = jsonKey(t.id);
    this.triggers.delete(key); // not retried from within its own commit
    // The first run is at the time the request came in (ovsdb-server's cached time_msec()): 0 ms elapsed.
    const elapsedMs = t.retried ? Date.now() - t.start : 0;
    t.retried = true;
    const outcome = t.db.transact(t.params, { ownsLock: (n) => this.ownsLock(n), elapsedMs, readOnly: this.readOnly });
    if (outcome.kind === 'forward') {
      // ovsdb_trigger_try()'s "forwarding" state: the source's reply, whole, is the reply.
      clearTimeout(t.timer);
      this.triggers.set(key, t);
      t.forward = t.db.forwarder!.forward(t.params, (reply) => {
        if (this.triggers.get(key) !== t) return;
        this.triggers.delete(key);
        if ('error' in reply) this.out().replyError(t.id, reply.error);
        else this.out().reply(t.id, reply.result);
      });
      return;
    }
    if (outcome.kind === 'blocked') {
      this.triggers.set(key, t);
      if (!t.timer && Number.isFinite(outcome.timeoutMs)) {
        const left = Math.max(0, t.start + outcome.timeoutMs - Date.now());
        t.timer = setTimeout(() => {
          t.timer = undefined;
          if (this.triggers.get(key) === t) this.runTrigger(t);
        }, left + 1);
      }
      return;
    }
    clearTimeout(t.timer);
    this.out().reply(t.id, outcome.results);
  }

  private dropTrigger(t: Trigger): void {
    clearTimeout(t.timer);
    t.forward?.destroy();
    this.triggers.delete(jsonKey(t.id));
  }

  retryTriggers(d: ServedDatabase): void {
    for (const t of [...this.triggers.values()]) {
      if (t.db === d && !t.forward && this.triggers.get(jsonKey(t.id)) === t) this.runTrigger(t);
    }
  }

  private monitor(req: Request, version: MonitorVersion): Json {
    const d = this.lookupDb(req);
    const { params } = req;
    if ((version === 2 && params.length !== 3) || (version === 3 && params.length !== 4) || params.length < 3) {
      throw syntaxError(params, null, 'invalid parameters');
    }
    const id = params[1]!;
    if (this.monitors.has(jsonKey(id))) throw syntaxError(id, null, 'duplicate monitor ID');
    const m = Monitor.parse(d.db, id, version, params[2]);
    let since: ChangeSet | undefined;
    if (version === 3) {
      const last = params[3];
      if (typeof last !== 'string') throw syntaxError(last, null, 'last-txn-id must be string');
      if (!isUuid(last)) throw syntaxError(last, null, 'last-txn-id must be UUID format.');
      since = last === ZERO_UUID ? undefined : d.changesAfter(last);
    }
    this.monitors.set(jsonKey(id), { db: d, monitor: m });
    const updates = since ? (m.update(since) ?? {}) : m.initial();
    return version === 3 ? [since !== undefined, d.lastTxnId, updates] : updates;
  }

  private monitorCondChange(params: Json[]): Json {
    if (params.length !== 3) throw syntaxError(params, null, 'invalid parameters');
    const [oldId, newId, requests] = params as [Json, Json, Json];
    const entry = this.monitors.get(jsonKey(oldId));
    if (!entry) throw syntaxError(oldId, null, 'unknown monitor session');
    if (jsonKey(oldId) !== jsonKey(newId) && this.monitors.has(jsonKey(newId))) {
      throw syntaxError(newId, null, 'duplicate monitor ID');
    }
    const updates = entry.monitor.changeConditions(requests);
    this.monitors.delete(jsonKey(oldId));
    const m = entry.monitor;
    this.monitors.set(jsonKey(newId), entry);
    (m as { id: Json }).id = newId;
    if (updates) this.sendUpdate(entry.db, m, updates);
    return {};
  }

  private sendUpdate(d: ServedDatabase, m: Monitor, updates: JsonObject): void {
    if (m.version === 1) this.out().notify('update', [m.id, updates]);
    else if (m.version === 2) this.out().notify('update2', [m.id, updates]);
    else this.out().notify('update3', [m.id, d.lastTxnId, updates]);
  }

  sendUpdates(d: ServedDatabase, cs: ChangeSet): void {
    const held = this.held.get(d);
    if (this.conn.backlogged) {
      this.held.set(d, held ? mergeChangeSets(held, cs) : cs);
      return;
    }
    if (held) this.held.delete(d);
    this.sendUpdatesNow(d, held ? mergeChangeSets(held, cs) : cs);
  }

  private sendUpdatesNow(d: ServedDatabase, cs: ChangeSet): void {
    for (const { db, monitor } of this.monitors.values()) {
      if (db !== d) continue;
      const u = monitor.update(cs);
      if (u) this.sendUpdate(d, monitor, u);
    }
  }

  private lockName(req: Request): string {
    const p = req.params;
    if (p.length !== 1 || !isId(p[0])) throw syntaxError(p, null, `${req.method} request params must be <id>`);
    return p[0];
  }

  private lock(req: Request, mode: 'lock' | 'steal'): Json {
    const name = this.lockName(req);
    if (this.lockNames.has(name)) throw syntaxError(req.params, null, `must issue "unlock" before new "${req.method}"`);
    let lock = this.server.locks.get(name);
    if (!lock) this.server.locks.set(name, (lock = { owner: null, waiters: [] }));
    this.lockNames.add(name);
    if (!lock.owner) {
      lock.owner = this;
    } else if (mode === 'steal') {
      const victim = lock.owner;
      lock.owner = this;
      // The victim keeps waiting, first in line.
      lock.waiters.unshift(victim);
      this.server.notifyLock(victim, name, 'stolen');
    } else {
      lock.waiters.push(this);
    }
    return { locked: lock.owner === this };
  }

  private unlock(name: string): void {
    this.lockNames.delete(name);
    const lock = this.server.locks.get(name);
    if (!lock) return;
    lock.waiters = lock.waiters.filter((w) => w !== this);
    if (lock.owner === this) {
      lock.owner = lock.waiters.shift() ?? null;
      if (lock.owner) this.server.notifyLock(lock.owner, name, 'locked');
    }
    if (!lock.owner && !lock.waiters.length) this.server.locks.delete(name);
  }
}

/** The log line OVS writes when it drops a peer for this (lib/jsonrpc.c, lib/reconnect.c). */
function describeDrop(e: ProtocolError): string {
  if (e.kind === 'parse') return `error parsing stream: ${e.message}`;
  if (e.kind === 'message') return `received bad JSON-RPC message: ${e.message}`;
  return e.message;
}
