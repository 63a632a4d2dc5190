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
import { type AddressInfo, type Server as NetServer, type Socket, createServer } from 'node:net';
import type { ChangeSet, Database } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type ExecOutcome, execute } from './execution.js';
import { type Json, type JsonObject, ZERO_UUID, isId, isUuid } from './json.js';
import { Connection, ProtocolError, type Request } from './jsonrpc.js';
import type { DbFile } from './log.js';
import { chmodUnixSocket } from './socket-util-unix.js';
import { Monitor, type MonitorVersion, mergeChangeSets } from './monitor.js';

/** A database being served, with its file if it has one. */
export class ServedDatabase {
  private readonly listeners = new Set<(cs: ChangeSet) => void>();

  constructor(
    readonly db: Database,
    readonly file?: DbFile,
  ) {}

  get name(): string {
    return this.db.schema.name;
  }

  /** Called after every commit, before the committing client's reply. */
  onCommit(fn: (cs: ChangeSet) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Runs a transaction (params as in "transact": [db, op...]) and commits it.
   * 'blocked' means an unsatisfied "wait" that may still be met later.
   */
  transact(params: readonly unknown[], ctx: Parameters<typeof execute>[2] = {}): ExecOutcome {
    const outcome = execute(this.db, params, ctx);
    if (outcome.kind === 'blocked' || !outcome.txn) return outcome;
    const { txn } = outcome;
    if (txn.isEmpty()) return { ...outcome, txn: null };
    let cs: ChangeSet;
    try {
      cs = txn.commit(crypto.randomUUID(), (c) => this.file?.append(c));
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      return { kind: 'done', results: [...outcome.results, e.toJson()], txn: null, durable: false };
    }
    for (const fn of this.listeners) fn(cs);
    if (this.file?.shouldCompact()) {
      try {
        this.file.compact();
      } catch {
        // A failed compaction leaves the old, still valid, file in place.
      }
    }
    return { ...outcome, txn: null };
  }
}

export interface ServerOptions {
  databases: ServedDatabase[];
  /** "punix:PATH", "ptcp:PORT[:IP]" (PORT 0 for a free port). */
  remotes?: string[];
  maxMessageBytes?: number;
  /** Inactivity probe of TCP sessions (ovsdb-server's default 5000 ms; 0: none). Unix sessions have none, as in OVS. */
  probeIntervalMs?: number;
  log?: (msg: string) => void;
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
}

export class OvsdbServer {
  readonly id = crypto.randomUUID();
  readonly dbs = new Map<string, ServedDatabase>();
  readonly sessions = new Set<Session>();
  readonly locks = new Map<string, Lock>();
  private readonly listeners: { remote: string; server: NetServer; path?: string }[] = [];
  readonly log: (msg: string) => void;
  private unixSessions = 0;

  private constructor(readonly opts: ServerOptions) {
    for (const d of opts.databases) this.dbs.set(d.name, d);
    this.log = opts.log ?? (() => {});
    for (const d of opts.databases) d.onCommit((cs) => this.afterCommit(d, cs));
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

  /** Where each listener is: a socket path or "host:port". */
  get addresses(): string[] {
    return this.listeners.map((l) => {
      if (l.path) return `unix:${l.path}`;
      const a = l.server.address() as AddressInfo;
      return `tcp:${a.address}:${a.port}`;
    });
  }

  async listen(remote: string): Promise<void> {
    const server = createServer((sock) => this.accept(sock, remote.startsWith('ptcp:')));
    let path: string | undefined;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (remote.startsWith('punix:')) {
        path = remote.slice(6);
        // A socket left by a server that died; a live one would be ours to refuse, but the
        // real ovsdb-server also unlinks and rebinds.
        if (existsSync(path)) unlinkSync(path);
        server.listen(path, () => {
          chmodUnixSocket(path!);
          resolve();
        });
      } else {
        const m = /^ptcp:(\d+)(?::(.+))?$/.exec(remote);
        if (!m) return reject(new Error(`${remote}: unsupported remote (use punix:PATH or ptcp:PORT[:IP])`));
        server.listen(Number(m[1]), m[2]?.replace(/^\[|\]$/g, '') ?? '0.0.0.0', () => resolve());
      }
    });
    server.on('error', (e) => this.log(`listener ${remote}: ${e.message}`));
    this.listeners.push({ remote, server, ...(path ? { path } : {}) });
  }

  /**
   * Serves a connected socket (also usable with a socket made elsewhere).
   * Named as OVS names its streams: "tcp:IP:PORT", "unix#N".
   */
  accept(sock: Socket, tcp = false): Session {
    const name = tcp ? `tcp:${sock.remoteAddress}:${sock.remotePort}` : `unix#${this.unixSessions++}`;
    const conn = new Connection(sock, {
      maxMessageBytes: this.opts.maxMessageBytes,
      flowControl: true,
      probeIntervalMs: tcp ? (this.opts.probeIntervalMs ?? 5000) : 0,
    });
    const s = new Session(this, conn, name);
    this.sessions.add(s);
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
    for (const s of [...this.sessions]) s.close();
    await Promise.all(
      this.listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            l.server.close(() => resolve());
          }),
      ),
    );
    for (const l of this.listeners) if (l.path && existsSync(l.path)) unlinkSync(l.path);
    this.listeners.length = 0;
    for (const d of this.dbs.values()) d.file?.close();
  }
}

const jsonKey = (j: Json) => JSON.stringify(j);

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

  constructor(
    readonly server: OvsdbServer,
    readonly conn: Connection,
    readonly name = 'session',
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
    for (const t of this.triggers.values()) clearTimeout(t.timer);
    this.triggers.clear();
    this.monitors.clear();
    this.held.clear();
    for (const name of [...this.lockNames]) this.unlock(name);
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
        return reply({});
      case 'transact': {
        const d = this.lookupDb(req);
        if (id === null) return; // a notification gets no reply, and runs nothing
        return this.runTrigger({ id, db: d, params, start: Date.now() });
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
        return reply(this.lock(req, method));
      case 'unlock': {
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
    const outcome = t.db.transact(t.params, { ownsLock: (n) => this.ownsLock(n), elapsedMs: Date.now() - t.start });
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
    this.triggers.delete(jsonKey(t.id));
  }

  retryTriggers(d: ServedDatabase): void {
    for (const t of [...this.triggers.values()]) {
      if (t.db === d && this.triggers.get(jsonKey(t.id)) === t) this.runTrigger(t);
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
    let found = false;
    if (version === 3) {
      const last = params[3];
      if (typeof last !== 'string') throw syntaxError(last, null, 'last-txn-id must be string');
      if (!isUuid(last)) throw syntaxError(last, null, 'last-txn-id must be UUID format.');
      // This server keeps no transaction history: only "nothing happened since" is a hit.
      found = last !== ZERO_UUID && last === d.db.lastTxnId;
    }
    this.monitors.set(jsonKey(id), { db: d, monitor: m });
    const updates = found ? {} : m.initial();
    return version === 3 ? [found, d.db.lastTxnId, updates] : updates;
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
    else this.out().notify('update3', [m.id, d.db.lastTxnId, updates]);
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
