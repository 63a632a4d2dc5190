/**
 * ovsdb/replication.c: a backup ovsdb-server's copy of an active server's
 * databases. One connection to the active server (kept up as a
 * jsonrpc_session is: reconnected with lib/reconnect.c's backoff and log
 * lines), on which each new connection runs the same conversation —
 * get_server_id (a server may not back itself up), list_dbs, get_schema of
 * every database served here under the same name (a different schema is
 * replicated only if ours has all its tables and columns), then a "monitor"
 * of every table not excluded. The monitor's reply replaces what we hold
 * (reset_database() + process_notification()), and each "update" after it is
 * applied as one transaction. An error stops replication for good
 * (RPL_S_ERR): the server then stops being a backup.
 */
import { ProtocolError, type SslContext, shashOrder } from '@ovs/util';
import { ConnectionClosedError, OvsdbClient } from './client.js';
import { type Datum, datumFromJson } from './datum.js';
import { type Table, type Transaction, newRowFields } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isObject, isUuid, sortedJson } from './json.js';
import { ovsdbErrorToString } from './ovsdb-tool.js';
import { type DatabaseSchema, columnToJson, parseSchema, schemaEqual } from './schema.js';
import { type ServedDatabase, type VlogLevel, strerror } from './server.js';

/** REPLICATION_DEFAULT_PROBE_INTERVAL: the inactivity probe of the connection to the active server. */
export const REPLICATION_DEFAULT_PROBE_INTERVAL = 60000;

/** lib/reconnect.c's defaults for a jsonrpc_session. */
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 8000;

type Log = (level: VlogLevel, module: string, msg: string) => void;

/**
 * excluded_tables: the tables, per database, that are neither monitored nor
 * reset. Kept apart from any one connection: --sync-exclude-tables and
 * ovsdb-server/set-sync-exclude-tables set it whether or not this server is a
 * backup.
 */
export class ExcludedTables {
  private readonly byDb = new Map<string, Set<string>>();

  /**
   * set_excluded_tables(): "DB:TABLE" names separated by spaces or commas
   * replace the current set (unless `dryrun`). Each name is cut as
   * strtok_r(name, ":") cuts it with glibc: at the first colon after any
   * leading ones, "DB" keeping the leading colons and a missing table being
   * "" — so, as with OVS on glibc, no name fails to parse. Undefined leaves
   * the set as it is.
   */
  set(excluded: string | undefined, dryrun = false): string | null {
    if (excluded === undefined || dryrun) return null;
    this.byDb.clear();
    for (const longname of new Set(excluded.split(/[ ,]/).filter((s) => s !== ''))) {
      const start = longname.search(/[^:]/);
      const colon = start < 0 ? -1 : longname.indexOf(':', start);
      const [database, table] = colon < 0 ? [longname, ''] : [longname.slice(0, colon), longname.slice(colon + 1)];
      let tables = this.byDb.get(database);
      if (!tables) this.byDb.set(database, (tables = new Set()));
      tables.add(table);
    }
    return null;
  }

  /** excluded_tables_find(). */
  has(database: string, table: string): boolean {
    return this.byDb.get(database)?.has(table) ?? false;
  }

  get isEmpty(): boolean {
    return this.byDb.size === 0;
  }

  /** get_excluded_tables(): "DB:TABLE" names, sorted, comma-separated. */
  toString(): string {
    const names: string[] = [];
    for (const [database, tables] of this.byDb) for (const t of tables) names.push(`${database}:${t}`);
    return [...new Set(names)].sort().join(',');
  }
}

export type ReplicationState =
  | 'INIT'
  | 'SERVER_ID_REQUESTED'
  | 'DB_REQUESTED'
  | 'SCHEMA_REQUESTED'
  | 'MONITOR_REQUESTED'
  | 'REPLICATING'
  /** Error, no longer replicating. */
  | 'ERR';

/** struct replication_db: a local database the active server also has. */
interface ReplicationDb {
  served: ServedDatabase;
  /** The active server's schema, when it differs from ours but can be replicated into it. */
  activeSchema?: DatabaseSchema;
}

export interface ReplicationOptions {
  /** The active server, as --sync-from names it. */
  syncFrom: string;
  /** Our own server ID, which the active server's must not be. */
  serverId: string;
  /** The databases this server serves (the "_" ones left out by the caller). */
  localDbs: Iterable<ServedDatabase>;
  excluded: ExcludedTables;
  probeIntervalMs?: number;
  /** The SSL configuration, for an "ssl:" active server. */
  ssl?: () => SslContext;
  log: Log;
  /** Called once when replication fails for good (RPL_S_ERR): the server stops being a backup. */
  onError?: () => void;
}

/**
 * One replication_init() to disconnect_active_server(): the session with the
 * active server and what it has replicated.
 */
export class Replication {
  readonly syncFrom: string;
  state: ReplicationState = 'INIT';
  private readonly localDbs = new Map<string, ServedDatabase>();
  private replicationDbs = new Map<string, ReplicationDb>();
  /** request_ids: how many replies the current step still waits for. */
  private pending = 0;
  private client?: OvsdbClient;
  /** Bumped on each connection and on close: replies from an older one are dropped. */
  private seqno = 0;
  private closed = false;
  private probeIntervalMs = 0;
  // lib/reconnect.c's state, for its log lines and backoff.
  private backoff = 0;
  private connectedAt = 0;
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ReplicationOptions) {
    this.syncFrom = opts.syncFrom;
    this.setProbeInterval(opts.probeIntervalMs ?? REPLICATION_DEFAULT_PROBE_INTERVAL);
    for (const d of opts.localDbs) if (!d.name.startsWith('_')) this.localDbs.set(d.name, d);
    this.connect();
  }

  private log(level: VlogLevel, msg: string, module = 'replication'): void {
    this.opts.log(level, module, msg);
  }

  /** ovsdb_error_assert(): an error that ends replication, logged as OVS logs it. */
  private fail(error?: OvsdbError): void {
    if (error) this.log('err', `unexpected ovsdb error: ${ovsdbErrorToString(error)}`, 'ovsdb_error');
    this.state = 'ERR';
    this.opts.onError?.();
  }

  /** Whatever the active server sends, nothing it sends throws out of here: a fault of ours in handling it ends replication. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e instanceof OvsdbError ? e : new OvsdbError('internal error', (e as Error).message));
    }
  }

  // ---- The session with the active server (jsonrpc_session_open(sync_from, true)). ----

  private connect(): void {
    if (this.closed) return;
    const passive = /^p(unix|tcp|ssl):/.test(this.syncFrom);
    if (this.backoff < MAX_BACKOFF_MS) this.log('info', `${this.syncFrom}: ${passive ? 'listening' : 'connecting'}...`, 'reconnect');
    const seqno = ++this.seqno;
    OvsdbClient.connect(this.syncFrom, { probeIntervalMs: this.probeIntervalMs, ssl: this.opts.ssl }).then(
      (client) => {
        if (this.closed || seqno !== this.seqno) return client.close();
        this.client = client;
        this.connectedAt = Date.now();
        this.log('info', `${this.syncFrom}: connected`, 'reconnect');
        // Replies are handled in .then() callbacks and notifications one microtask after they
        // arrive: both go through the microtask queue, in the order the messages came.
        client.on('notification', (method: string, params: Json) => queueMicrotask(() => this.guard(() => this.onNotification(seqno, method, params))));
        client.on('close', () => this.disconnected(seqno, client.lastError));
        this.sessionStarted(seqno);
      },
      (e: Error) => {
        if (this.closed || seqno !== this.seqno) return;
        if (this.backoff < MAX_BACKOFF_MS) {
          this.log('info', `${this.syncFrom}: ${passive ? 'listen' : 'connection'} attempt failed (${strerror(e)})`, 'reconnect');
        }
        this.backOff(false);
      },
    );
  }

  /** reconnect_disconnected() of an established connection. */
  private disconnected(seqno: number, why: Error | undefined): void {
    if (this.closed || seqno !== this.seqno) return;
    this.client = undefined;
    if (!why) this.log('info', `${this.syncFrom}: connection closed by peer`, 'reconnect');
    else if (why instanceof ProtocolError) {
      // Dropped by us (an unanswered probe, a bad message): why, then a plain "dropped".
      this.log(why.kind === 'probe' ? 'err' : 'warn', `${this.syncFrom}: ${why.message}`, why.kind === 'probe' ? 'reconnect' : 'jsonrpc');
      this.log('info', `${this.syncFrom}: connection dropped`, 'reconnect');
    } else this.log('warn', `${this.syncFrom}: connection dropped (${strerror(why)})`, 'reconnect');
    this.backOff(Date.now() - this.connectedAt >= this.backoff);
  }

  /**
   * reconnect_disconnected()'s backoff: 1 s after a connection that lasted or
   * a first failure, then 2, 4, 8 s, logged until the maximum.
   */
  private backOff(lasted: boolean): void {
    if (lasted) {
      this.backoff = MIN_BACKOFF_MS;
    } else if (this.backoff < MIN_BACKOFF_MS) {
      this.backoff = MIN_BACKOFF_MS;
    } else if (this.backoff < MAX_BACKOFF_MS / 2) {
      this.backoff *= 2;
      this.log('info', `${this.syncFrom}: waiting ${this.backoff / 1000} seconds before reconnect`, 'reconnect');
    } else {
      if (this.backoff < MAX_BACKOFF_MS) {
        this.log('info', `${this.syncFrom}: continuing to reconnect in the background but suppressing further logging`, 'reconnect');
      }
      this.backoff = MAX_BACKOFF_MS;
    }
    this.retryTimer = setTimeout(() => this.connect(), this.backoff);
  }

  /** jsonrpc_session_set_probe_interval(): for the connections made from now on; 0 for none, else at least 1 s (reconnect.c). */
  setProbeInterval(ms: number): void {
    this.probeIntervalMs = ms ? Math.max(1000, ms) : 0;
  }

  /** disconnect_active_server(). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.seqno++;
    clearTimeout(this.retryTimer);
    this.client?.close();
    this.client = undefined;
  }

  /** Sends a request on the current connection; its reply goes to `then` unless the connection changed meanwhile. */
  private send(seqno: number, method: string, params: Json[], then: (result: Json) => void): void {
    const client = this.client;
    if (!client) return;
    this.pending++;
    client.request(method, params).then(
      (result) => {
        if (seqno !== this.seqno) return;
        this.pending--;
        this.guard(() => then(result));
      },
      (e: Error) => {
        // An error reply is not a reply replication.c acts on: the step waits on, as the real one does.
        if (!(e instanceof ConnectionClosedError) && seqno === this.seqno) this.log('dbg', `${method} failed: ${e.message}`);
      },
    );
  }

  // ---- The conversation (replication_run()). ----

  /** A new connection: everything is asked again from the start. */
  private sessionStarted(seqno: number): void {
    this.pending = 0;
    this.state = 'SERVER_ID_REQUESTED';
    this.log('dbg', 'send server ID request.');
    this.send(seqno, 'get_server_id', [], (result) => this.onServerId(seqno, result));
  }

  private onServerId(seqno: number, result: Json): void {
    if (this.state !== 'SERVER_ID_REQUESTED') return;
    if (typeof result !== 'string' || !isUuid(result)) {
      return this.fail(new OvsdbError('get_server_id failed', 'Server ID is not valid UUID'));
    }
    if (result.toLowerCase() === this.opts.serverId.toLowerCase()) {
      return this.fail(new OvsdbError('Server ID check failed', 'Self replicating is not allowed'));
    }
    this.send(seqno, 'list_dbs', [], (r) => this.onDbs(seqno, r));
    // replication_dbs_create(): every local database, until its schema says otherwise.
    this.replicationDbs = new Map([...this.localDbs].map(([name, served]) => [name, { served }]));
    this.state = 'DB_REQUESTED';
  }

  private onDbs(seqno: number, result: Json): void {
    if (this.state !== 'DB_REQUESTED') return;
    if (!Array.isArray(result)) return this.fail(new OvsdbError('list_dbs failed', 'list_dbs response is not array'));
    // send_schema_requests(): one for each database of the active server that we also serve.
    for (const name of result) {
      if (typeof name === 'string' && this.replicationDbs.has(name)) {
        this.send(seqno, 'get_schema', [name], (r) => this.onSchema(seqno, r));
      }
    }
    this.log('dbg', 'Send schema requests');
    this.state = 'SCHEMA_REQUESTED';
  }

  private onSchema(seqno: number, result: Json): void {
    if (this.state !== 'SCHEMA_REQUESTED') return;
    let schema: DatabaseSchema;
    try {
      schema = parseSchema(result);
    } catch (e) {
      if (e instanceof OvsdbError) return this.fail(e);
      throw e;
    }
    const rdb = this.replicationDbs.get(schema.name);
    if (!rdb) {
      this.log('warn', `unexpected schema ${schema.name}`);
      return this.fail();
    }
    if (!schemaEqual(schema, rdb.served.db.schema)) {
      this.log('info', `Schema version mismatch, checking if ${schema.name} can still be replicated or not.`);
      if (this.isReplicationPossible(rdb.served.db.schema, schema)) {
        this.log('info', `${schema.name} can be replicated.`);
        rdb.activeSchema = schema;
      } else {
        this.log('info', `${schema.name} cannot be replicated.`);
        this.replicationDbs.delete(schema.name);
      }
    }
    if (this.pending) return;
    // Every schema is in: monitor the databases left.
    if (!this.replicationDbs.size) {
      this.log('warn', 'Nothing to replicate.');
      return this.fail();
    }
    for (const rdb of this.replicationDbs.values()) {
      const request = this.createMonitorRequest(rdb.activeSchema ?? rdb.served.db.schema);
      this.send(seqno, 'monitor', request, (r) => this.onMonitorReply(rdb.served, r));
      this.log('dbg', 'Send monitor requests');
    }
    this.state = 'MONITOR_REQUESTED';
  }

  private onMonitorReply(served: ServedDatabase, result: Json): void {
    if (this.state !== 'MONITOR_REQUESTED') return;
    this.log('info', 'Monitor request received. Resetting the database');
    // As in OVS, what we held is gone before the active server's copy is in: two commits.
    const error = this.resetDatabase(served) ?? this.processNotification(result, served);
    if (error) return this.fail(error);
    if (!this.pending) {
      this.log('dbg', 'Listening to monitor updates');
      this.state = 'REPLICATING';
    }
  }

  private onNotification(seqno: number, method: string, params: Json): void {
    if (seqno !== this.seqno || this.state === 'ERR' || method !== 'update') return;
    if (!Array.isArray(params) || params.length !== 2 || typeof params[0] !== 'string') return;
    const rdb = this.replicationDbs.get(params[0]);
    if (!rdb) return;
    const error = this.processNotification(params[1]!, rdb.served);
    if (error) this.fail(error);
  }

  /** create_monitor_request(): every column of every table not excluded, tables in name order; the monitor ID is the database's name. */
  private createMonitorRequest(schema: DatabaseSchema): Json[] {
    const requests: JsonObject = {};
    for (const name of [...schema.tables.keys()].sort()) {
      if (!this.opts.excluded.has(schema.name, name)) requests[name] = [{}];
    }
    return [schema.name, schema.name, requests];
  }

  /**
   * is_replication_possible(): whether our schema has every table and column
   * of the active server's, each column of the same type.
   */
  private isReplicationPossible(local: DatabaseSchema, active: DatabaseSchema): boolean {
    for (const [name, activeTable] of active.tables) {
      const localTable = local.tables.get(name);
      if (!localTable) {
        this.log('info', `Table ${name} not present in the local db schema`);
        return false;
      }
      for (const column of activeTable.userColumns) {
        const localColumn = localTable.columns.get(column.name);
        if (!localColumn) {
          this.log('info', `Column ${column.name} not present in the local db schema table ${name}.`);
          return false;
        }
        if (sortedJson(columnToJson(localColumn)) !== sortedJson(columnToJson(column))) {
          this.log('info', `Column ${column.name} mismatch in local db schema table ${name}.`);
          return false;
        }
      }
    }
    return true;
  }

  /** reset_database(): every row of every table not excluded deleted, in one commit. */
  private resetDatabase(served: ServedDatabase): OvsdbError | null {
    const { db } = served;
    const txn = db.begin();
    for (const [name, table] of db.tables) {
      if (this.opts.excluded.has(db.schema.name, name)) continue;
      for (const uuid of table.rows.keys()) txn.delete(table, uuid);
    }
    return txn.precommit() ?? served.commitTxn(txn);
  }

  /** process_notification(): a <table-updates> object applied as one transaction. */
  private processNotification(tableUpdates: Json, served: ServedDatabase): OvsdbError | null {
    if (!isObject(tableUpdates)) return null;
    const txn = served.db.begin();
    try {
      for (const [name, tableUpdate] of Object.entries(tableUpdates)) {
        if (tableUpdate !== null) this.processTableUpdate(tableUpdate, name, served, txn);
      }
    } catch (e) {
      if (e instanceof OvsdbError) return e;
      throw e;
    }
    return txn.precommit() ?? served.commitTxn(txn);
  }

  /**
   * process_table_update(): each row's "new" without "old" inserted under its
   * UUID, "old" without "new" deleted, both: its columns updated. A row that
   * is not as the update expects (a "consistency violation") is logged and
   * ends this table's update, as in OVS.
   */
  private processTableUpdate(tableUpdate: Json, name: string, served: ServedDatabase, txn: Transaction): void {
    const table = served.db.table(name);
    if (!table) throw new OvsdbError('unknown table', `unknown table ${name}`);
    if (!isObject(tableUpdate)) throw new OvsdbError('Not a JSON object', '<table-update> for table is not object');
    for (const [uuid, rowUpdate] of Object.entries(tableUpdate)) {
      if (!isObject(rowUpdate)) throw new OvsdbError('Not a JSON object', '<row-update> is not object');
      if (!isUuid(uuid)) throw syntaxError(tableUpdate, 'bad row UUID', '<table-update> names must be UUIDs');
      const row = uuid.toLowerCase();
      const { old, new: next } = rowUpdate;
      const exists = !txn.mayCreate(table, row) && txn.get(table, row) !== null;
      let violation: string | undefined;
      if (next === undefined) {
        if (!exists) violation = `cannot delete missing row ${row} from table ${name}`;
        else txn.delete(table, row);
      } else if (old === undefined) {
        // ovsdb_table_execute_insert() says "delete" here too.
        if (exists) violation = `cannot delete missing row ${row} from table ${name}`;
        else txn.insert(table, row, newRowFields(table.schema, rowFromJson(table, next)));
      } else if (!exists) {
        violation = `cannot modify missing row ${row} from table ${name}`;
      } else {
        const update = rowFromJson(table, next);
        if (Object.keys(update).length) Object.assign(txn.modify(table, row), update);
      }
      if (violation) {
        this.log('err', `unexpected ovsdb error: consistency violation: ${violation}`, 'ovsdb_error');
        return;
      }
    }
  }

  /** replication_is_alive(): replicating, or trying to (the session retries for ever); false once failed. */
  isAlive(): boolean {
    return !this.closed && this.state !== 'ERR';
  }

  /** replication_status(): what ovsdb-server/sync-status says after "state: backup". */
  status(): string {
    if (this.closed) return `not connected to ${this.syncFrom}`;
    switch (this.state) {
      case 'REPLICATING': {
        let s = `replicating: ${this.syncFrom}\ndatabase: ${shashOrder([...this.replicationDbs.keys()]).join(', ')}`;
        if (!this.opts.excluded.isEmpty) s += `\nexclude: ${this.opts.excluded}`;
        return s;
      }
      case 'ERR':
        return `Replication to (${this.syncFrom}) failed\n`;
      default:
        return `connecting: ${this.syncFrom}`;
    }
  }
}

/** ovsdb_row_from_json() without a symbol table: the columns a <row> gives, parsed and checked. */
function rowFromJson(table: Table, json: Json): Record<string, Datum> {
  if (!isObject(json)) throw syntaxError(json, null, 'row must be JSON object');
  const fields: Record<string, Datum> = {};
  for (const [name, value] of Object.entries(json)) {
    const column = table.schema.columns.get(name);
    if (!column) throw syntaxError(json, 'unknown column', `No column ${name} in table ${table.schema.name}.`);
    const datum = datumFromJson(column.type, value);
    // The row stays filed under the UUID its update names; its _version is made anew at commit, as OVS's is.
    if (!name.startsWith('_')) fields[name] = datum;
  }
  return fields;
}
