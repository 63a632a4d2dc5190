/**
 * ovsdb/relay.c, with the parts of lib/ovsdb-cs.c a relay uses: a database served from an
 * in-memory copy of another server's ("relay:DB_NAME:REMOTE[,REMOTE...]" on ovsdb-server's
 * command line). The relay connects to one of the remotes (reconnecting with lib/reconnect.c's
 * backoff, trying each remote in turn), checks in the source's _Server database that it has the
 * database (and, clustered, is connected to its cluster), takes the schema from there, and
 * monitors every table with monitor_cond_since: the reply and every update3 after it are applied
 * to the copy as one transaction each, committed under the source's transaction id (so that the
 * relay's own clients, other relays among them, see the same ids). The copy's clients read from
 * it; what they write is forwarded to the source (transaction-forward.ts) and answered with the
 * source's reply. After a reconnection the monitor asks for what changed since the last id; a
 * source that does not know it sends everything, and the copy is cleared first.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type SslContext, errorText, sslClientOptions } from '@ovs/util';
import { ConnectionClosedError, OvsdbClient, type RpcError, jsonrpcMsgToString } from './client.js';
import { applyDiff, datumFromJson, diffFromJson } from './datum.js';
import { Database, newRowFields } from './db.js';
import { OvsdbError } from './errors.js';
import { type Json, type JsonObject, ZERO_UUID, isObject, isUuid } from './json.js';
import { type DatabaseSchema, parseSchema, schemaEqual } from './schema.js';
import { type ServedDatabase, type VlogLevel, parseRemoteName } from './server.js';
import { TxnForwardQueue } from './transaction-forward.js';

/** How long a relay that lost its source still reports itself connected, giving ovsdb-cs time to reconnect. */
export const RELAY_MAX_RECONNECTION_MS = 30000;
/** lib/reconnect.c's defaults for a jsonrpc session. */
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 8000;

/** The columns ovsdb-cs monitors in the source's _Server database. */
const SERVER_MONITOR_COLUMNS = ['name', 'model', 'connected', 'leader', 'schema', 'cid', 'index'];

/**
 * open_db()'s reading of "relay:DB_NAME:REMOTES": undefined for a name that is no relay, the
 * error text for a malformed one.
 */
export function parseRelayName(filename: string): { name: string; remotes: string[] } | string | undefined {
  const prefix = 'relay:';
  if (!filename.startsWith(prefix)) return undefined;
  const colon = filename.indexOf(':', prefix.length);
  if (colon < 0) return `ovsdb error: ${filename}: invalid syntax`;
  // ovsdb_session_parse_remote(): a comma-separated list; blanks are skipped.
  const remotes = filename
    .slice(colon + 1)
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  return { name: filename.slice(prefix.length, colon), remotes };
}

/** A database without tables standing in for a relay's copy until the source's schema arrives. */
export function relayPlaceholder(name: string): Database {
  return new Database({ ...parseSchema({ name: 'placeholder', tables: {} }), name });
}

export interface RelayOptions {
  log: (level: VlogLevel, module: string, msg: string) => void;
  /** Whether the jsonrpc module logs debug messages (every message sent and received is then logged). */
  debugEnabled: () => boolean;
  /** The SSL configuration in force, for ssl: remotes. */
  sslContext: () => SslContext;
  /**
   * update_schema(): the source's schema, new or changed, is to replace the copy's (an empty
   * database with it); the relay then fills it.
   */
  schemaChanged: (served: ServedDatabase, schema: DatabaseSchema) => void;
  /** ovsdb_relay_is_connected() may have changed (the _Server row shows it). */
  statusChanged: () => void;
}

/** ovsdb-cs's states, as far as a relay goes through them. */
type CsState = 'backoff' | 'connecting' | 'server-schema' | 'server-monitor' | 'data-schema' | 'data-monitor' | 'monitoring';

/** struct relay_ctx with its ovsdb_cs: one relay database and its connection to the source. */
export class OvsdbRelay {
  readonly forwarder = new TxnForwardQueue();
  private state: CsState = 'backoff';
  private client?: OvsdbClient;
  private socket?: Socket;
  /** Bumped on every connection: replies and events of an older one are ignored. */
  private generation = 0;
  private next = 0;
  private backoff = 0;
  private freeTries: number;
  private connectedAt = 0;
  private timer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  /** ctx->last_connected: when the relay last monitored its source (0: never). */
  private lastConnected = 0;
  /** cs->data.last_id: the source's id of the last transaction in the copy. */
  private lastId = ZERO_UUID;
  /** ctx->new_schema: to be installed when the monitor reply with its data arrives. */
  private newSchema?: DatabaseSchema;
  /** The source's _Server Database rows (the server monitor's replica). */
  private readonly serverRows = new Map<string, JsonObject>();
  /** Notifications that came while their monitor's reply was being handled, in order. */
  private held: [string, Json[]][] | null = null;
  private monitorVersion: 2 | 3 = 3;
  private destroyed = false;
  private started = false;

  constructor(
    readonly served: ServedDatabase,
    readonly remotes: string[],
    private readonly opts: RelayOptions,
  ) {
    served.forwarder = this.forwarder;
    // jsonrpc_session_open_multiple(): the remotes in random order, each tried once before backing off.
    this.remotes = [...remotes].sort(() => Math.random() - 0.5);
    this.freeTries = this.remotes.length;
    opts.log('dbg', 'relay', `added database: ${served.name}, ${remotes.join(',')}`);
  }

  /** The first connection attempt (ovsdb_relay_run() once the main loop runs). */
  start(): void {
    if (!this.started && this.remotes.length) this.connect();
    this.started = true;
  }

  get name(): string {
    return this.served.name;
  }

  /** ovsdb_relay_is_connected(): monitoring the source, or lost it less than 30 s ago. */
  isConnected(): boolean {
    if (this.destroyed || !this.remotes.length) return false;
    if (this.state === 'monitoring') return true;
    return this.lastConnected > 0 && Date.now() - this.lastConnected < RELAY_MAX_RECONNECTION_MS;
  }

  /** ovsdb_relay_del_db(): the connection closed; transactions waiting on it are answered "canceled". */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.opts.log('dbg', 'relay', `removed database: ${this.name}`);
    clearTimeout(this.timer);
    clearTimeout(this.statusTimer);
    this.dropConnection();
    this.forwarder.cancelAll(false);
    this.served.forwarder = undefined;
  }

  private log(level: VlogLevel, module: string, msg: string): void {
    this.opts.log(level, module, msg);
  }

  /** The stream to a remote (stream_open()) and the event that says it is up; throws what a connection attempt fails with. */
  private openStream(remote: string): { sock: Socket; ready: 'connect' | 'secureConnect' } {
    const a = parseRemoteName(remote);
    if (a.kind === 'unix') return { sock: netConnect(a.path), ready: 'connect' };
    if (a.kind === 'tcp') return { sock: netConnect(a.port, a.host), ready: 'connect' };
    if (a.kind === 'ssl') {
      return { sock: tlsConnect({ port: a.port, host: a.host, ...sslClientOptions(this.opts.sslContext()) }), ready: 'secureConnect' };
    }
    throw Object.assign(new Error('Address family not supported by protocol'), { code: 'EAFNOSUPPORT' });
  }

  private connect(): void {
    if (this.destroyed) return;
    const remote = this.remotes[this.next++ % this.remotes.length]!;
    const gen = ++this.generation;
    this.state = 'connecting';
    this.log('info', 'reconnect', `${remote}: connecting...`);
    let sock: Socket;
    let ready: 'connect' | 'secureConnect';
    try {
      ({ sock, ready } = this.openStream(remote));
    } catch (e) {
      this.connectFailed(remote, e as Error);
      return;
    }
    this.socket = sock;
    const onError = (e: Error) => {
      sock.destroy();
      if (gen === this.generation) this.connectFailed(remote, e);
    };
    sock.once('error', onError);
    sock.once(ready, () => {
      sock.off('error', onError);
      if (gen !== this.generation) return sock.destroy();
      this.log('info', 'reconnect', `${remote}: connected`);
      this.connectedAt = Date.now();
      const client = OvsdbClient.fromSocket(remote, sock, {
        trace: (title, msg) => {
          if (this.opts.debugEnabled()) this.log('dbg', 'jsonrpc', `${remote}: ${title} ${jsonrpcMsgToString(msg)}`);
        },
      });
      this.client = client;
      client.on('notification', (method: string, params: Json[]) => {
        if (gen === this.generation) this.onNotification(method, params);
      });
      client.on('close', () => {
        if (gen === this.generation) this.disconnected(remote, client.lastError);
      });
      this.sendServerSchemaRequest(gen);
    });
  }

  private connectFailed(remote: string, e: Error): void {
    this.socket = undefined;
    if (this.backoff < MAX_BACKOFF_MS) this.log('info', 'reconnect', `${remote}: connection attempt failed (${errorText(e)})`);
    this.backOff(remote, false);
  }

  /** reconnect_disconnected(): the next attempt, at the next remote, after the backoff. */
  private backOff(remote: string, wasConnected: boolean): void {
    this.state = 'backoff';
    if (this.freeTries > 1) {
      this.freeTries--;
      this.backoff = 0;
    } else if (wasConnected && Date.now() - this.connectedAt >= this.backoff) {
      this.backoff = MIN_BACKOFF_MS;
    } else if (this.backoff < MIN_BACKOFF_MS) {
      this.backoff = MIN_BACKOFF_MS;
    } else if (this.backoff < MAX_BACKOFF_MS / 2) {
      this.backoff *= 2;
      this.log('info', 'reconnect', `${remote}: waiting ${this.backoff / 1000} seconds before reconnect`);
    } else {
      if (this.backoff < MAX_BACKOFF_MS) {
        this.log('info', 'reconnect', `${remote}: continuing to reconnect in the background but suppressing further logging`);
      }
      this.backoff = MAX_BACKOFF_MS;
    }
    this.timer = setTimeout(() => this.connect(), this.backoff);
    this.timer.unref();
  }

  /** The connection ended (by the peer or an error): OVSDB_CS_EVENT_TYPE_RECONNECT follows. */
  private disconnected(remote: string, why: Error | undefined): void {
    this.client = undefined;
    this.socket = undefined;
    if (why) this.log('warn', 'reconnect', `${remote}: connection dropped (${errorText(why)})`);
    else this.log('info', 'reconnect', `${remote}: connection closed by peer`);
    this.lostSource();
    this.backOff(remote, true);
  }

  /** ovsdb_cs_force_reconnect(): this connection dropped, the next remote tried. */
  private forceReconnect(): void {
    const remote = this.client?.remote;
    this.dropConnection();
    this.lostSource();
    if (remote !== undefined && !this.destroyed) {
      this.log('info', 'reconnect', `${remote}: connection dropped`);
      this.backOff(remote, true);
    }
  }

  private dropConnection(): void {
    this.generation++;
    this.client?.close();
    this.socket?.destroy();
    this.client = undefined;
    this.socket = undefined;
    this.held = null;
  }

  /**
   * What ovsdb_relay_run() does on a reconnection: the transactions sent and not answered may
   * be lost, so they are answered "canceled"; the connected state holds for a while.
   */
  private lostSource(): void {
    const wasMonitoring = this.state === 'monitoring';
    this.state = 'backoff';
    this.forwarder.setSender(undefined);
    this.forwarder.cancelAll(true);
    if (wasMonitoring) {
      this.lastConnected = Date.now();
      clearTimeout(this.statusTimer);
      this.statusTimer = setTimeout(() => this.opts.statusChanged(), RELAY_MAX_RECONNECTION_MS + 10);
      this.statusTimer.unref();
    }
  }

  /** A request on this connection; its reply (or error) handled only if the connection is still this one. */
  private request(gen: number, method: string, params: Json[], onReply: (result: Json) => void, onError: (e: RpcError) => void): void {
    const client = this.client;
    if (!client) return;
    client.request(method, params).then(
      (result) => {
        if (gen === this.generation) this.run(() => onReply(result));
      },
      (e: Error) => {
        if (gen !== this.generation || e instanceof ConnectionClosedError) return;
        this.run(() => onError(e as RpcError));
      },
    );
  }

  /** Runs a reply's handling, then the notifications that came behind the reply while it waited. */
  private run(fn: () => void): void {
    fn();
    const held = this.held;
    if (!held || this.state === 'data-monitor' || this.state === 'server-monitor') return;
    this.held = null;
    for (const [method, params] of held) this.onNotification(method, params);
  }

  /** ovsdb_cs_send_schema_request() for _Server: whether the source has one decides the way on. */
  private sendServerSchemaRequest(gen: number): void {
    this.state = 'server-schema';
    this.request(
      gen,
      'get_schema',
      ['_Server'],
      (result) => {
        let ok = false;
        try {
          ok = parseSchema(result).tables.has('Database');
        } catch {
          // Not a schema: as if the source had no _Server database.
        }
        if (!ok) return this.sendDataSchemaRequest(gen);
        this.state = 'server-monitor';
        this.held ??= [];
        this.request(
          gen,
          'monitor_cond',
          ['_Server', ['monid', '_Server'], { Database: [{ columns: SERVER_MONITOR_COLUMNS }] }],
          (updates) => {
            this.serverRows.clear();
            this.applyServerUpdates(updates);
            this.checkServerDb(gen, true);
          },
          () => this.sendDataSchemaRequest(gen),
        );
      },
      () => this.sendDataSchemaRequest(gen),
    );
  }

  /** The source has no (usable) _Server: the schema from get_schema. */
  private sendDataSchemaRequest(gen: number): void {
    this.state = 'data-schema';
    this.request(
      gen,
      'get_schema',
      [this.name],
      (schema) => this.sendMonitorRequest(gen, schema),
      (e) => {
        this.log('warn', 'ovsdb_cs', `${this.client?.remote}: error getting ${this.name} schema: ${e.message}`);
        this.forceReconnect();
      },
    );
  }

  /** The _Server monitor's rows, updated from a reply or an update2. */
  private applyServerUpdates(updates: Json): void {
    const rows = isObject(updates) ? updates.Database : undefined;
    if (!isObject(rows)) return;
    for (const [uuid, u] of Object.entries(rows)) {
      if (!isObject(u)) continue;
      if ('delete' in u) {
        this.serverRows.delete(uuid);
        continue;
      }
      const body = u.initial ?? u.insert ?? u.modify;
      if (!isObject(body)) continue;
      const row = 'modify' in u ? { ...this.serverRows.get(uuid) } : {};
      Object.assign(row, body);
      this.serverRows.set(uuid, row);
    }
  }

  /**
   * ovsdb_cs_check_server_db(): whether the source serves the database as a relay may use it
   * (any member of a cluster will do, if it is connected to the cluster); then, the first time,
   * the data monitor with the schema its row shows.
   */
  private checkServerDb(gen: number, first: boolean): void {
    const remote = this.client?.remote;
    const row = [...this.serverRows.values()].find((r) => r.name === this.name);
    let error: string | undefined;
    if (!row) error = `${remote}: server does not have ${this.name} database`;
    else if (row.model === 'clustered' && row.connected === false) {
      error = `${remote}: clustered database server is disconnected from cluster; trying another server`;
    }
    if (error) {
      this.log('info', 'ovsdb_cs', error);
      this.forceReconnect();
      return;
    }
    const schema = typeof row!.schema === 'string' ? row!.schema : undefined;
    if (!first) {
      // A schema the source changed (online conversion): monitored again from scratch.
      if (schema !== undefined && this.state === 'monitoring' && !this.sameSchema(schema)) this.forceReconnect();
      return;
    }
    if (schema === undefined) return this.sendDataSchemaRequest(gen);
    let json: Json;
    try {
      json = JSON.parse(schema) as Json;
    } catch {
      return this.sendDataSchemaRequest(gen);
    }
    this.sendMonitorRequest(gen, json);
  }

  private sameSchema(text: string): boolean {
    try {
      return this.served.available && schemaEqual(parseSchema(JSON.parse(text)), this.served.db.schema);
    } catch {
      return false;
    }
  }

  /**
   * ovsdb_relay_compose_monitor_request() and ovsdb_cs_send_monitor_request(): every table, every
   * column, since the last transaction the copy has.
   */
  private sendMonitorRequest(gen: number, schemaJson: Json): void {
    let schema: DatabaseSchema;
    try {
      schema = parseSchema(schemaJson);
    } catch (e) {
      this.log('warn', 'relay', `${this.name}: Failed to parse db schema: ${(e as Error).message}`);
      this.forceReconnect();
      return;
    }
    const requests: JsonObject = {};
    for (const name of schema.tables.keys()) requests[name] = [{}];
    if (!this.served.available || !schemaEqual(schema, this.served.db.schema)) {
      this.log('dbg', 'relay', `database ${this.name} schema changed.`);
      // Installed with the monitor reply's data, not to sit with an empty database until then.
      this.newSchema = schema;
      this.lastId = ZERO_UUID;
    }
    this.state = 'data-monitor';
    // _Server's updates held since its monitor reply stay held, behind this reply too.
    this.held ??= [];
    const monid: Json = ['monid', this.name];
    const onReply = (result: Json) => {
      if (this.monitorVersion === 3) {
        if (!Array.isArray(result) || result.length !== 3 || typeof result[0] !== 'boolean' || !isUuid(result[1])) {
          this.log('warn', 'ovsdb_cs', `${this.client?.remote}: bad monitor_cond_since reply format`);
          return this.forceReconnect();
        }
        this.monitoring(result[2]!, result[1] as string, !result[0]);
      } else {
        this.monitoring(result, ZERO_UUID, true);
      }
    };
    const onError = (e: RpcError) => {
      // A source without monitor_cond_since: monitor_cond, everything each time.
      if (this.monitorVersion === 3 && e.error === 'unknown method') {
        this.monitorVersion = 2;
        this.request(gen, 'monitor_cond', [this.name, monid, requests], onReply, onError);
        return;
      }
      this.log('warn', 'ovsdb_cs', `${this.client?.remote}: error monitoring ${this.name}: ${e.message}`);
      this.forceReconnect();
    };
    if (this.monitorVersion === 3) this.request(gen, 'monitor_cond_since', [this.name, monid, requests, this.lastId], onReply, onError);
    else this.request(gen, 'monitor_cond', [this.name, monid, requests], onReply, onError);
    // ovsdb_cs_send_db_change_aware(): the source may then add and remove databases without dropping us.
    this.request(
      gen,
      'set_db_change_aware',
      [true],
      () => {},
      () => {},
    );
  }

  /** The monitor reply: the copy brought up to date, and transactions may go to the source. */
  private monitoring(updates: Json, lastId: string, clear: boolean): void {
    if (this.newSchema) {
      this.opts.schemaChanged(this.served, this.newSchema);
      this.newSchema = undefined;
    }
    this.state = 'monitoring';
    if (!this.parseUpdate(updates, lastId, clear)) return;
    this.freeTries = this.remotes.length;
    this.lastConnected = Date.now();
    clearTimeout(this.statusTimer);
    const gen = this.generation;
    this.forwarder.setSender((params, done) => {
      let canceled = false;
      this.request(
        gen,
        'transact',
        params,
        (result) => {
          if (!canceled) done({ result });
        },
        (e) => {
          if (!canceled) done({ error: e.error });
        },
      );
      return { cancel: () => (canceled = true) };
    });
    this.opts.statusChanged();
  }

  private onNotification(method: string, params: Json[]): void {
    if (this.held) {
      this.held.push([method, params]);
      return;
    }
    const monid = JSON.stringify(params[0]);
    if (monid === JSON.stringify(['monid', '_Server'])) {
      if (method !== 'update2' || params.length !== 2) return;
      this.applyServerUpdates(params[1]!);
      this.checkServerDb(this.generation, false);
    } else if (monid === JSON.stringify(['monid', this.name]) && this.state === 'monitoring') {
      if (method === 'update3' && params.length === 3 && isUuid(params[1])) this.parseUpdate(params[2]!, params[1] as string, false);
      else if (method === 'update2' && params.length === 2) this.parseUpdate(params[1]!, ZERO_UUID, false);
    } else if (method === 'monitor_canceled') {
      // The source replaced the database (a schema conversion): monitored again from scratch.
      this.forceReconnect();
    }
  }

  /**
   * ovsdb_relay_parse_update(): the copy cleared first if asked, then the update applied as one
   * transaction committed under the source's id. An update that does not apply (the copy is not
   * what the source thinks) is logged and the relay starts over.
   */
  private parseUpdate(updates: Json, lastId: string, clear: boolean): boolean {
    let error: OvsdbError | null = null;
    try {
      if (clear) this.relayClear();
      error = this.relayParseUpdate(updates, lastId);
    } catch (e) {
      error = e instanceof OvsdbError ? e : new OvsdbError('syntax error', (e as Error).message);
    }
    if (!error) {
      this.lastId = lastId;
      return true;
    }
    this.log('warn', 'relay', error.details ? `${error.tag}: ${error.details}` : error.tag);
    // Both of ovsdb-cs's ways out (flag_inconsistency, force_reconnect) end in a fresh monitor from zero.
    this.lastId = ZERO_UUID;
    this.forceReconnect();
    return false;
  }

  /** ovsdb_relay_clear(): every row deleted. */
  private relayClear(): void {
    const db = this.served.db;
    const txn = db.begin();
    for (const table of db.tables.values()) for (const uuid of table.rows.keys()) txn.delete(table, uuid);
    const error = txn.precommit() ?? this.served.commitTxn(txn);
    if (error) throw error;
    // The history starts again (and is kept again, if a source without ids had it turned off).
    this.served.setHistory(true);
  }

  /** ovsdb_relay_parse_update__() with ovsdb_cs_parse_db_update(): <table-updates2> into one transaction. */
  private relayParseUpdate(updates: Json, lastId: string): OvsdbError | null {
    const db = this.served.db;
    if (!isObject(updates)) return new OvsdbError('syntax error', 'table updates is not an object');
    const txn = db.begin();
    for (const [tableName, rows] of Object.entries(updates)) {
      const table = db.table(tableName);
      if (!table) return new OvsdbError('unknown table', `unknown table ${tableName}`);
      if (!isObject(rows)) return new OvsdbError('syntax error', `<table-update> for table "${tableName}" is not an object`);
      for (const [uuid, u] of Object.entries(rows)) {
        if (!isUuid(uuid)) return new OvsdbError('syntax error', `<table-update> for table "${tableName}" contains bad UUID "${uuid}" as member name`);
        if (!isObject(u) || Object.keys(u).length !== 1) {
          return new OvsdbError(
            'syntax error',
            `<table-update2> for table "${tableName}" contains <row-update2> for ${uuid} that is not an object with exactly one member`,
          );
        }
        const [kind, body] = Object.entries(u)[0]!;
        const exists = txn.get(table, uuid) !== null;
        if (kind === 'delete') {
          if (!exists) return new OvsdbError('consistency violation', `Cannot delete missing row ${uuid} from table ${tableName}`);
          txn.delete(table, uuid);
          continue;
        }
        if (!isObject(body)) return new OvsdbError('syntax error', `"${kind}" of row ${uuid} in table ${tableName} is not an object`);
        const values: Record<string, ReturnType<typeof datumFromJson>> = {};
        for (const [cname, v] of Object.entries(body)) {
          const c = table.schema.columns.get(cname);
          if (!c) return new OvsdbError('syntax error', `No column ${cname} in table ${tableName}.`);
          if (cname.startsWith('_')) continue;
          values[cname] = kind === 'modify' ? diffFromJson(c.type, v) : datumFromJson(c.type, v);
        }
        if (kind === 'initial' || kind === 'insert') {
          if (exists) return new OvsdbError('consistency violation', `Cannot insert duplicate row ${uuid} into table ${tableName}`);
          txn.insert(table, uuid, newRowFields(table.schema, values));
        } else if (kind === 'modify') {
          if (!exists) return new OvsdbError('consistency violation', `Cannot update missing row ${uuid} in table ${tableName}`);
          const fields = txn.modify(table, uuid);
          for (const [cname, diff] of Object.entries(values)) fields[cname] = applyDiff(fields[cname]!, diff, table.schema.columns.get(cname)!.type);
        } else {
          return new OvsdbError('syntax error', `unknown <row-update2> member "${kind}" for row ${uuid} in table ${tableName}`);
        }
      }
    }
    const error = txn.precommit();
    if (error) return error;
    // A source that gives no transaction ids: the relay keeps no history (its clients get everything).
    if (lastId === ZERO_UUID) {
      this.served.setHistory(false);
      return this.served.commitTxn(txn);
    }
    return this.served.commitTxn(txn, false, lastId);
  }
}
