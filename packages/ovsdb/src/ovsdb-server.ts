/**
 * ovsdb/ovsdb-server.c: the `ovsdb-server` program — its command line
 * (remotes, --run, the daemon and logging options), its remotes as
 * reconfigure_remotes() resolves them on every pass (including
 * `db:DB,TABLE,COLUMN`, re-read after every commit: a Manager row with
 * target "ptcp:6640:127.0.0.1" opens that listener, deleting it closes it),
 * the Manager rows' is_connected and status written back every 2.5 s as
 * update_remote_status() does, and its unixctl commands.
 */
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DAEMON_LONG_OPTIONS,
  Daemon,
  type LongOption,
  OvsError,
  STREAM_SSL_LONG_OPTIONS,
  type SslSettings,
  UNIXCTL_LONG_OPTIONS,
  type UnixctlServer,
  VLOG_LONG_OPTIONS,
  Vlog,
  coverageInit,
  getoptLong,
  memoryReport,
  ovsRundir as rundir,
  processStatusMsg,
  sslHandleOption,
  unixctlServerCreate,
} from '@ovs/util';
import { type Datum, datumFromJson } from './datum.js';
import { Database, type Row, type Table } from './db.js';
import { OvsdbError } from './errors.js';
import { type Json, type JsonObject, sortedJson } from './json.js';
import { DbFile, RAFT_MAGIC, logMagic } from './log.js';
import { RaftStorage } from './raft.js';
import { OvsdbRelay, parseRelayName, relayPlaceholder } from './relay.js';
import { ExcludedTables, REPLICATION_DEFAULT_PROBE_INTERVAL, Replication } from './replication.js';
import { type DatabaseSchema, parseSchema, schemaToJson } from './schema.js';
import { ovsdbErrorToString, OVS_VERSION, dbdir } from './ovsdb-tool.js';
import { type RemoteOptions, type RemoteStatus, OvsdbServer, ServedDatabase, type VlogLevel } from './server.js';

const PROGRAM = 'ovsdb-server';
/** The environment variable naming the saved configuration a restarted daemon starts from. */
const CONFIG_ENV = 'OVS_TS_OVSDB_SERVER_CONFIG';

const LONG_OPTIONS: LongOption[] = [
  { name: 'remote', arg: 'required' },
  ...UNIXCTL_LONG_OPTIONS,
  { name: 'run', arg: 'required' },
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'version', arg: 'no', short: 'V' },
  ...DAEMON_LONG_OPTIONS,
  ...VLOG_LONG_OPTIONS,
  ...STREAM_SSL_LONG_OPTIONS,
  { name: 'sync-from', arg: 'required' },
  { name: 'sync-exclude-tables', arg: 'required' },
  { name: 'active', arg: 'no' },
  { name: 'no-dbs', arg: 'no' },
  { name: 'disable-file-column-diff', arg: 'no' },
];

const USAGE = (env: NodeJS.ProcessEnv) => `${PROGRAM}: Open vSwitch database server
usage: ${PROGRAM} [OPTIONS] [DATABASE...]
where each DATABASE is a database file in ovsdb format,
or relay:DB_NAME:REMOTE[,REMOTE...], DB_NAME served as a relay
of the database of that name on the servers at REMOTE.
The default DATABASE, if none is given, is
${join(dbdir(env), 'conf.db')}.

JSON-RPC options (may be specified any number of times):
  --remote=REMOTE         connect or listen to REMOTE

Active JSON-RPC connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  ssl:HOST:PORT           SSL PORT at remote HOST
  unix:FILE               Unix domain socket named FILE
Passive JSON-RPC connection methods:
  ptcp:PORT[:IP]          listen to TCP PORT on IP
  pssl:PORT[:IP]          listen for SSL on PORT on IP
  punix:FILE              listen on Unix domain socket FILE
  db:DB,TABLE,COLUMN      the targets, or Manager-like rows, in COLUMN
PKI configuration (required to use SSL):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create
  --peer-ca-cert=FILE     CA certificate sent to peers after our own
  (each FILE may also be db:DB,TABLE,COLUMN, read from the database)
SSL options:
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable

Daemon options:
  --detach                run in background as daemon
  --pidfile[=FILE]        create pidfile (default: ${rundir(env)}/${PROGRAM}.pid)
  --overwrite-pidfile     with --pidfile, start even if already running
  --no-chdir              do not chdir to '/'
  --monitor               creates a process to monitor this daemon

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: ${rundir(env)}/${PROGRAM}.log)

Syncing options:
  --sync-from=SERVER      sync DATABASE from active SERVER and start in
                          backup mode (except with --active)
  --sync-exclude-tables=DB:TABLE,...
                          exclude the TABLE in DB from syncing
  --active                with --sync-from, start in active mode

Other options:
  --run COMMAND           run COMMAND as subprocess then exit
  --unixctl=SOCKET        override default control socket name
  --no-dbs                do not add default database
  -h, --help              display this help message
  -V, --version           display version information

Not supported here: clustered databases of more than one server (a cluster of one, as
ovsdb-tool create-cluster makes it, is served), and --record/--replay.`;

/** ovsdb/_server.ovsschema: the _Server database, one Database row per database served. */
const SERVER_SCHEMA: JsonObject = {
  name: '_Server',
  version: '1.2.0',
  cksum: '3009684573 744',
  tables: {
    Database: {
      columns: {
        name: { type: 'string' },
        model: { type: { key: { type: 'string', enum: ['set', ['standalone', 'clustered', 'relay']] } } },
        connected: { type: 'boolean' },
        leader: { type: 'boolean' },
        schema: { type: { key: { type: 'string' }, min: 0, max: 1 } },
        cid: { type: { key: { type: 'uuid' }, min: 0, max: 1 } },
        sid: { type: { key: { type: 'uuid' }, min: 0, max: 1 } },
        index: { type: { key: { type: 'integer' }, min: 0, max: 1 } },
      },
      isRoot: true,
    },
  },
};

/** struct db: a database this server serves and the file it came from. */
interface Db {
  filename: string;
  served: ServedDatabase;
  /** A relay database's connection to its source (relay.ts). */
  relay?: OvsdbRelay;
}

/** A fatal error: ovs_fatal()'s text, printed after "ovsdb-server: ". */
class Fatal extends Error {}

/** ovsdb_util_read_string_column() and friends: a column's value if it has the expected type. */
function readColumn(row: Row, table: Table, column: string, type: 'string' | 'integer' | 'boolean'): Json | undefined {
  const c = table.schema.columns.get(column);
  if (!c || c.type.key.type !== type || c.type.value) return undefined;
  const d = row.fields[column];
  return d?.keys.length ? (d.keys[0] as Json) : undefined;
}

function readMapStringColumn(row: Row, table: Table, column: string, key: string): string | undefined {
  const c = table.schema.columns.get(column);
  if (c?.type.key.type !== 'string' || c.type.value?.type !== 'string') return undefined;
  const d = row.fields[column]!;
  const i = d.keys.indexOf(key);
  return i < 0 ? undefined : (d.values![i] as string);
}

export class OvsdbServerProgram {
  readonly dbs = new Map<string, Db>();
  /** config->remotes: the remotes as given (db: remotes unresolved). */
  readonly remotes = new Set<string>();
  server!: OvsdbServer;
  unixctl?: UnixctlServer;
  private remotesError: string | null = null;
  private sslError: string | null = null;
  /** The SSL options as given: files, or db:DB,TABLE,COLUMN references resolved on every pass. */
  readonly ssl: SslSettings = {};
  private statusTimer?: NodeJS.Timeout;
  private reconfigureQueued = false;
  exiting = false;
  /** The main loop runs: relays connect (those opened before, from the command line, start then). */
  running = false;
  private exitResolve?: () => void;
  readonly exited = new Promise<void>((r) => {
    this.exitResolve = r;
  });

  // Active-backup replication (ovsdb/replication.c), as struct server_config holds it.
  /** --sync-from / set-active-ovsdb-server: the active server to back up. */
  syncFrom?: string;
  /** --sync-exclude-tables / set-sync-exclude-tables, as given. */
  syncExclude?: string;
  /** A backup: replicating from syncFrom, clients may only read. */
  isBackup = false;
  replicationProbeInterval = REPLICATION_DEFAULT_PROBE_INTERVAL;
  /** replication.c's excluded_tables: set whether or not this server is a backup. */
  readonly excludedTables = new ExcludedTables();
  replication?: Replication;

  constructor(readonly vlog: Vlog) {}

  log(level: VlogLevel, module: string, msg: string): void {
    this.vlog.log(level.toUpperCase() as Uppercase<VlogLevel>, module, msg);
  }

  /** open_db(): the error text, or null. */
  openDb(filename: string): string | null {
    const relay = parseRelayName(filename);
    if (relay !== undefined) return this.openRelayDb(filename, relay);
    for (const d of this.dbs.values()) {
      if (d.filename === filename || safeRealpath(d.filename) === safeRealpath(filename)) return `ovsdb error: ${filename}: already open`;
    }
    let file: DbFile | RaftStorage;
    try {
      file = isClustered(filename)
        ? RaftStorage.open(filename, (level, module, msg) => this.log(level, module, msg))
        : DbFile.open(filename, { onError: (m) => this.log('err', 'ovsdb_server', m), onLockWarning: (m) => this.log('warn', 'lockfile', m) });
    } catch (e) {
      if (e instanceof OvsdbError) return ovsdbErrorToString(e);
      const code = (e as NodeJS.ErrnoException).code;
      const text = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (e as Error).message;
      return `I/O error: ${filename}: open failed (${text})`;
    }
    const name = file.db.schema.name;
    const error = name.startsWith('_')
      ? `ovsdb error: ${name}: names beginning with "_" are reserved`
      : this.dbs.has(name)
        ? `ovsdb error: ${name}: duplicate database name`
        : null;
    if (error) {
      file.close();
      return error;
    }
    const served = new ServedDatabase(file.db, file);
    served.onCommit(() => {
      this.queueReconfigure();
      // A clustered database's _Server row shows its log index, which each commit advances.
      if (file instanceof RaftStorage) this.updateServerStatus();
    });
    // A conversion advances a cluster's index; a cluster's also rewrites _Server's schema column
    // (update_schema() forgets the row, and a new row gets the schema).
    served.onReplace(() => {
      this.updateServerStatus(file.model === 'clustered' ? name : undefined);
      this.queueReconfigure();
    });
    this.dbs.set(name, { filename, served });
    this.server?.addDatabase(served);
    if (this.server) this.server.reconnect(false, `adding ${name} database`);
    this.updateServerStatus();
    return null;
  }

  /**
   * open_db() of "relay:DB_NAME:REMOTES": a database without schema until the relay's source
   * sends it (ovsdb_relay_add_db()).
   */
  private openRelayDb(filename: string, relay: ReturnType<typeof parseRelayName>): string | null {
    if (typeof relay !== 'object') return relay ?? null;
    const { name, remotes } = relay;
    if (name.startsWith('_')) return `ovsdb error: ${name}: names beginning with "_" are reserved`;
    if (this.dbs.has(name)) return `ovsdb error: ${name}: duplicate database name`;
    const served = new ServedDatabase(relayPlaceholder(name));
    // A relay keeps a transaction history, under its source's transaction ids (open_db()).
    served.setHistory(true);
    served.available = false;
    served.onCommit(() => this.queueReconfigure());
    const d: Db = { filename, served };
    this.dbs.set(name, d);
    this.server?.addDatabase(served);
    if (this.server) this.server.reconnect(false, `adding ${name} database`);
    d.relay = new OvsdbRelay(served, remotes, {
      log: (level, module, msg) => this.log(level, module, msg),
      debugEnabled: () => this.vlog.isEnabled('jsonrpc', 'DBG'),
      sslContext: () => this.server.sslContext(),
      schemaChanged: (s, schema) => this.updateSchema(s, schema),
      statusChanged: () => this.updateServerStatus(),
    });
    if (this.running) d.relay.start();
    this.updateServerStatus();
    return null;
  }

  /**
   * update_schema(): a relay's copy replaced by an empty database of its source's schema
   * (clients that do not follow database changes disconnected when it is new or its version
   * changed), the _Server row showing it.
   */
  private updateSchema(served: ServedDatabase, schema: DatabaseSchema): void {
    if (!served.available || schema.version !== served.db.schema.version) {
      this.server?.reconnect(false, served.available ? `database ${served.name} schema changed` : `database ${served.name} connected to storage`);
    }
    const db = new Database(schema);
    if (this.server) this.server.replaceDatabase(served, db);
    else served.replace(db);
    this.updateServerStatus();
  }

  /** Where save_config() keeps the configuration a --monitor restart starts from. */
  configFile?: string;

  /**
   * save_config(): the remotes and database files as they are now (after add-remote,
   * remove-db...), so that a daemon restarted by --monitor after a crash comes back with them.
   */
  saveConfig(): void {
    if (!this.configFile) return;
    const dbs = [...this.dbs.values()].filter((d) => d.filename !== '<internal>').map((d) => d.filename);
    const config: SavedConfig = { remotes: [...this.remotes], dbs, syncFrom: this.syncFrom, syncExclude: this.syncExclude, isBackup: this.isBackup };
    try {
      writeFileSync(this.configFile, JSON.stringify(config));
    } catch (e) {
      this.log('warn', 'ovsdb_server', `failed to save configuration: ${(e as Error).message}`);
    }
  }

  /** add_server_db(): the _Server database, in memory. */
  addServerDb(): void {
    const served = new ServedDatabase(new Database(parseSchema(SERVER_SCHEMA)));
    this.dbs.set('_Server', { filename: '<internal>', served });
    this.server?.addDatabase(served);
  }

  /**
   * update_server_status(): _Server's Database table made to list the databases served
   * (standalone, connected, leader, their schema as sorted JSON), rows of removed ones deleted.
   */
  updateServerStatus(schemaOf?: string): void {
    const server = this.dbs.get('_Server');
    if (!server) return;
    const db = server.served.db;
    const table = db.table('Database')!;
    const txn = db.begin();
    const status = (name: string, d: Db) => {
      // A clustered database: this server is its cluster's one server, so its leader.
      const raft = d.served.file instanceof RaftStorage ? d.served.file.status : undefined;
      // A relay is connected while it monitors its source (and a while after), and never the leader.
      return {
        name: { keys: [name] },
        model: { keys: [d.relay ? 'relay' : raft ? 'clustered' : 'standalone'] },
        connected: { keys: [d.relay ? d.relay.isConnected() : true] },
        leader: { keys: [!d.relay] },
        schema: { keys: d.served.available ? [sortedJson(schemaToJson(d.served.db.schema))] : [] },
        cid: { keys: raft ? [raft.cid] : [] },
        sid: { keys: raft ? [raft.sid] : [] },
        index: { keys: raft ? [raft.index] : [] },
      };
    };
    const seen = new Set<string>();
    for (const row of table.rows.values()) {
      const name = row.fields.name!.keys[0] as string;
      const d = this.dbs.get(name);
      if (!d) {
        txn.delete(table, row.uuid);
        continue;
      }
      seen.add(name);
      // The schema column is written with the row (update_database_status()), or once its schema
      // changed: a relay's source's, a clustered conversion read back (`schemaOf`).
      const { schema, ...rest } = status(name, d);
      Object.assign(txn.modify(table, row.uuid), name === schemaOf || d.relay ? { ...rest, schema } : rest);
    }
    for (const [name, d] of this.dbs) if (!seen.has(name)) txn.insert(table, crypto.randomUUID(), status(name, d));
    const err = txn.precommit() ?? server.served.commitTxn(txn);
    if (err) this.log('warn', 'ovsdb_server', `_Server: ${ovsdbErrorToString(err)}`);
  }

  /** remove_db(). */
  removeDb(name: string, comment: string): void {
    const d = this.dbs.get(name);
    if (!d) return;
    this.server.removeDatabase(name, comment);
    this.dbs.delete(name);
    d.relay?.destroy();
    d.served.file?.close();
    this.saveConfig();
    if (this.isBackup) this.replicationInit();
    this.updateServerStatus();
    this.queueReconfigure();
  }

  /**
   * ovsdb_replication_init(): (re)starts replication from syncFrom of every
   * database served but the "_" ones, with the exclusions configured.
   */
  replicationInit(): void {
    this.replication?.close();
    this.excludedTables.set(this.syncExclude);
    const replication: Replication = new Replication({
      syncFrom: this.syncFrom!,
      serverId: this.server.id,
      localDbs: [...this.dbs.values()].map((d) => d.served).filter((d) => !d.name.startsWith('_')),
      excluded: this.excludedTables,
      probeIntervalMs: this.replicationProbeInterval,
      ssl: () => this.server.sslContext(),
      log: (level, module, msg) => this.log(level, module, msg),
      // main_loop(): replication that failed for good ends backup mode (not saved, as in OVS).
      onError: () => {
        if (this.replication === replication) this.disconnectActiveServer();
      },
    });
    this.replication = replication;
    this.setBackup(true);
  }

  /** disconnect_active_server(): no more replication; clients may write again. */
  disconnectActiveServer(): void {
    this.replication?.close();
    this.replication = undefined;
    this.setBackup(false);
  }

  /** A backup's clients may only read (ovsdb_jsonrpc_server_set_read_only()). */
  private setBackup(isBackup: boolean): void {
    this.isBackup = isBackup;
    this.server.readOnly = isBackup;
  }

  /** parse_db_column(): the error text, or the database, table and column named by "db:DB,TABLE,COLUMN". */
  parseDbColumn(name: string): string | { db: Db; table: Table; column: string } {
    const [dbName, tableName, column] = name
      .slice(name.indexOf(':') + 1)
      .split(',')
      .filter((t) => t !== '');
    if (!dbName || !tableName || !column) return `"${name}": invalid syntax`;
    const db = this.dbs.get(dbName);
    if (!db) return `"${name}": no database named ${dbName}`;
    const table = db.served.db.table(tableName);
    if (!table) return `"${name}": no table named ${tableName}`;
    if (!table.schema.columns.has(column)) return `"${name}": table "${tableName}" has no column "${column}"`;
    return { db, table, column };
  }

  /** query_db_remotes(): the targets a db: remote names now. */
  private queryDbRemotes(name: string, resolved: Map<string, RemoteOptions>, errors: string[]): void {
    const p = this.parseDbColumn(name);
    if (typeof p === 'string') {
      errors.push(p);
      return;
    }
    const c = p.table.schema.columns.get(p.column)!;
    if (c.type.key.type === 'string' && !c.type.value) {
      for (const row of p.table.rows.values()) for (const k of row.fields[p.column]!.keys) if (!resolved.has(k as string)) resolved.set(k as string, {});
    } else if (c.type.key.type === 'uuid' && c.type.key.refTable && !c.type.value) {
      const ref = p.db.served.db.table(c.type.key.refTable)!;
      for (const row of p.table.rows.values()) {
        for (const uuid of row.fields[p.column]!.keys) {
          const r = ref.rows.get(uuid as string);
          if (r) this.addManagerOptions(resolved, r, ref);
        }
      }
    }
  }

  /** add_manager_options(): a Manager-like row's target and connection settings. */
  private addManagerOptions(resolved: Map<string, RemoteOptions>, row: Row, table: Table): void {
    const target = readColumn(row, table, 'target', 'string');
    if (typeof target !== 'string') {
      this.log('info', 'ovsdb_server', `Table \`${table.schema.name}' has missing or invalid \`target' column`);
      return;
    }
    const o: RemoteOptions = resolved.get(target) ?? {};
    const maxBackoff = readColumn(row, table, 'max_backoff', 'integer');
    if (typeof maxBackoff === 'number') o.maxBackoffMs = maxBackoff;
    const probe = readColumn(row, table, 'inactivity_probe', 'integer');
    if (typeof probe === 'number') o.probeIntervalMs = probe;
    const readOnly = readColumn(row, table, 'read_only', 'boolean');
    if (typeof readOnly === 'boolean') o.readOnly = readOnly;
    const role = readColumn(row, table, 'role', 'string');
    if (typeof role === 'string') o.role = role;
    else delete o.role;
    const dscp = readMapStringColumn(row, table, 'other_config', 'dscp');
    const n = dscp === undefined ? Number.NaN : Number.parseInt(dscp, 10);
    o.dscp = n >= 0 && n <= 63 ? n : 48;
    resolved.set(target, o);
  }

  /** reconfigure_remotes(): the errors text (one line each), or null. */
  async reconfigureRemotes(): Promise<string | null> {
    const resolved = new Map<string, RemoteOptions>();
    const errors: string[] = [];
    for (const name of this.remotes) {
      if (name.startsWith('db:')) this.queryDbRemotes(name, resolved, errors);
      else if (!resolved.has(name)) resolved.set(name, {});
    }
    await this.server.setRemotes(resolved);
    return errors.length ? `${errors.join('\n')}\n` : null;
  }

  /** query_db_string(): a setting's value, or the first non-empty string in the db: column it names. */
  private queryDbString(name: string | undefined, errors: string[]): string | undefined {
    if (name === undefined || !name.startsWith('db:')) return name;
    const p = this.parseDbColumn(name);
    if (typeof p !== 'string') {
      const c = p.table.schema.columns.get(p.column)!;
      if (c.type.key.type === 'string' && !c.type.value) {
        for (const row of p.table.rows.values()) for (const k of row.fields[p.column]!.keys) if (k !== '') return k as string;
        return undefined;
      }
    }
    errors.push(typeof p === 'string' ? p : `"${name}": table "${p.table.schema.name}" column "${p.column}" is not string or set of strings`);
    return undefined;
  }

  /** reconfigure_ssl(): the SSL settings resolved and put in force; the errors text, or null. */
  reconfigureSsl(): string | null {
    const errors: string[] = [];
    const s = this.ssl;
    this.server.setSsl({
      privateKey: this.queryDbString(s.privateKey, errors),
      certificate: this.queryDbString(s.certificate, errors),
      caCert: this.queryDbString(s.caCert, errors),
      bootstrap: s.bootstrap,
      peerCaCert: s.peerCaCert,
      protocols: this.queryDbString(s.protocols, errors),
      ciphers: this.queryDbString(s.ciphers, errors),
    });
    return errors.length ? `${errors.join('\n')}\n` : null;
  }

  /** What ovsdb-server's main loop does after anything happened: remotes and SSL re-read, a change of error logged. */
  queueReconfigure(): void {
    if (this.reconfigureQueued || this.exiting || !this.server) return;
    this.reconfigureQueued = true;
    queueMicrotask(() => {
      this.reconfigureQueued = false;
      void this.reconfigureRemotes().then((error) => {
        this.remotesError = this.reportErrorIfChanged(error, this.remotesError);
        this.sslError = this.reportErrorIfChanged(this.reconfigureSsl(), this.sslError);
      });
    });
  }

  /** report_error_if_changed(): an error logged when it differs from the last one; the one to remember. */
  private reportErrorIfChanged(error: string | null, last: string | null): string | null {
    if (error && error !== last) this.log('warn', 'ovsdb_server', error.trimEnd());
    return error;
  }

  /** update_remote_row(): one Manager-like row's is_connected and status, from its remote's status. */
  private updateRemoteRow(row: Row, table: Table, txn: ReturnType<ServedDatabase['db']['begin']>): void {
    const target = readColumn(row, table, 'target', 'string');
    if (typeof target !== 'string') return;
    const st: RemoteStatus = this.server.getRemoteStatus(target) ?? { isConnected: false, nConnections: 0, secSinceConnect: 0, secSinceDisconnect: 0 };
    const fields = txn.modify(table, row.uuid);
    const isConnected = table.schema.columns.get('is_connected');
    if (isConnected && isConnected.type.key.type === 'boolean' && !isConnected.type.value) fields.is_connected = { keys: [st.isConnected] };
    const pairs: [string, string][] = [];
    if (st.state) pairs.push(['state', st.state]);
    if (st.secSinceConnect !== undefined) pairs.push(['sec_since_connect', String(st.secSinceConnect)]);
    if (st.secSinceDisconnect !== undefined) pairs.push(['sec_since_disconnect', String(st.secSinceDisconnect)]);
    if (st.lastError) pairs.push(['last_error', st.lastError]);
    if (st.locksHeld) pairs.push(['locks_held', st.locksHeld]);
    if (st.locksWaiting) pairs.push(['locks_waiting', st.locksWaiting]);
    if (st.locksLost) pairs.push(['locks_lost', st.locksLost]);
    if (st.nConnections > 1) pairs.push(['n_connections', String(st.nConnections)]);
    if (st.boundPort) pairs.push(['bound_port', String(st.boundPort)]);
    const status = table.schema.columns.get('status');
    if (status && status.type.key.type === 'string' && status.type.value?.type === 'string') {
      fields.status = datumFromJson(status.type, ['map', pairs], undefined, false) as Datum;
    }
  }

  /** update_remote_status(): every db: remote's rows, in one transaction per database. */
  updateRemoteStatus(): void {
    for (const d of this.dbs.values()) {
      // A relay's copy is the source's to change.
      if (d.relay) continue;
      const txn = d.served.db.begin();
      for (const name of this.remotes) {
        if (!name.startsWith('db:')) continue;
        const p = this.parseDbColumn(name);
        if (typeof p === 'string' || p.db !== d) continue;
        const c = p.table.schema.columns.get(p.column)!;
        if (c.type.key.type !== 'uuid' || !c.type.key.refTable || c.type.value) continue;
        const ref = d.served.db.table(c.type.key.refTable)!;
        const seen = new Set<string>();
        for (const row of p.table.rows.values()) {
          for (const uuid of row.fields[p.column]!.keys) {
            const r = ref.rows.get(uuid as string);
            if (r && !seen.has(r.uuid)) {
              seen.add(r.uuid);
              this.updateRemoteRow(r, ref, txn);
            }
          }
        }
      }
      const err = txn.precommit() ?? d.served.commitTxn(txn);
      if (err) this.log('warn', 'ovsdb_server', `remote status: ${ovsdbErrorToString(err)}`);
    }
  }

  /** The main loop's first pass: relays opened from the command line connect to their sources. */
  startRelays(): void {
    this.running = true;
    for (const d of this.dbs.values()) d.relay?.start();
  }

  startStatusTimer(): void {
    this.updateRemoteStatus();
    this.statusTimer = setInterval(() => this.updateRemoteStatus(), 2500);
  }

  /**
   * What ovsdb-server's main loop hands memory_report(): the JSON-RPC server's sessions and
   * monitors, each database's cells, atoms, history and storage, and the weak references.
   */
  memoryUsage(): Map<string, number> {
    const usage = new Map<string, number>();
    this.server?.getMemoryUsage(usage);
    let weakRefs = 0;
    for (const d of this.dbs.values()) {
      d.served.getMemoryUsage(usage);
      for (const referrers of d.served.db.weakReferrers.values()) weakRefs += referrers.size;
    }
    usage.set('n-weak-refs', weakRefs);
    return usage;
  }

  /** The unixctl commands ovsdb-server registers. */
  registerCommands(u: UnixctlServer): void {
    coverageInit(u);
    u.register('memory/show', '', 0, 0, () => memoryReport(this.memoryUsage()));
    u.register('exit', '', 0, 0, () => {
      this.exit();
      return '';
    });
    u.register('ovsdb-server/compact', '', 0, 1, ([name]) => {
      if (name?.startsWith('_')) throw new Error('cannot compact built-in databases');
      let n = 0;
      const errors: string[] = [];
      for (const [dbName, d] of [...this.dbs].sort()) {
        if (name !== undefined ? dbName !== name : dbName.startsWith('_')) continue;
        this.log('info', 'ovsdb_server', `compacting ${dbName} database by user request`);
        try {
          d.served.file?.compact();
        } catch (e) {
          errors.push(e instanceof OvsdbError ? ovsdbErrorToString(e) : `I/O error: ${(e as Error).message}`);
        }
        n++;
      }
      if (!n) throw new Error('no database by that name');
      if (errors.length) throw new Error(`${errors.join('\n')}\n`);
      return '';
    });
    u.register('ovsdb-server/memory-trim-on-compaction', 'on|off', 1, 1, ([arg]) => {
      if (arg !== 'on' && arg !== 'off') throw new Error('command accepts only "on" and "off"');
      this.log('info', 'ovsdb_server', `memory trimming after compaction ${arg === 'on' ? 'enabled' : 'disabled'}.`);
      return '';
    });
    u.register('ovsdb-server/reconnect', '', 0, 0, () => {
      this.server.reconnect(true, 'user ran ovsdb-server/reconnect');
      return '';
    });
    u.register('ovsdb-server/add-remote', 'REMOTE', 1, 1, ([remote]) => {
      if (remote!.startsWith('db:')) {
        const p = this.parseDbColumn(remote!);
        if (typeof p === 'string') throw new Error(p);
      }
      this.remotes.add(remote!);
      this.saveConfig();
      this.queueReconfigure();
      return '';
    });
    u.register('ovsdb-server/remove-remote', 'REMOTE', 1, 1, ([remote]) => {
      if (!this.remotes.delete(remote!)) throw new Error('no such remote');
      this.saveConfig();
      this.queueReconfigure();
      return '';
    });
    u.register('ovsdb-server/list-remotes', '', 0, 0, () =>
      [...this.remotes]
        .sort()
        .map((r) => `${r}\n`)
        .join(''),
    );
    u.register('ovsdb-server/add-db', 'DB', 1, 1, ([file]) => {
      const error = this.openDb(file!);
      if (error) throw new Error(error);
      this.saveConfig();
      if (this.isBackup) this.replicationInit();
      this.queueReconfigure();
      return '';
    });
    u.register('ovsdb-server/remove-db', 'DB', 1, 1, ([name]: string[]) => {
      if (!this.dbs.has(name!)) throw new Error('Failed to find the database.');
      if (name!.startsWith('_')) throw new Error('Cannot remove reserved database.');
      this.removeDb(name!, `removing ${name} database by user request`);
      return '';
    });
    u.register('ovsdb-server/list-dbs', '', 0, 0, () =>
      [...this.dbs.keys()]
        .sort()
        .map((n) => `${n}\n`)
        .join(''),
    );
    this.registerReplicationCommands(u);
    u.register('ovsdb-server/get-db-storage-status', 'DB', 1, 1, ([name]) => {
      const d = this.dbs.get(name!);
      if (!d) throw new Error('Failed to find the database.');
      return d.served.file instanceof RaftStorage || d.relay ? 'status: ok' : 'status: standalone';
    });
    for (const [cmd, usage, min, max] of [
      ['ovsdb-server/tlog-set', 'DB:TABLE on|off', 2, 2],
      ['ovsdb-server/tlog-list', '', 0, 0],
      ['ovsdb-server/perf-counters-show', '', 0, 0],
      ['ovsdb-server/perf-counters-clear', '', 0, 0],
      ['ovsdb-server/disable-monitor-cond', '', 0, 0],
    ] as const) {
      u.register(cmd, usage, min, max, () => {
        throw new Error(`${cmd}: not supported by this ovsdb-server`);
      });
    }
  }

  /** The replication commands (ovsdb_server_set_active_ovsdb_server() and the others). */
  private registerReplicationCommands(u: UnixctlServer): void {
    u.register('ovsdb-server/set-active-ovsdb-server', '', 1, 1, ([server]) => {
      this.syncFrom = server!;
      this.saveConfig();
      return '';
    });
    u.register('ovsdb-server/get-active-ovsdb-server', '', 0, 0, () => this.syncFrom ?? '');
    u.register('ovsdb-server/connect-active-ovsdb-server', '', 0, 0, () => {
      // Not an error reply: the real one answers this with success.
      if (!this.syncFrom) return 'Unable to connect: active server is not specified.\n';
      const wasBackup = this.isBackup;
      this.replicationInit();
      if (!wasBackup) this.saveConfig();
      return '';
    });
    u.register('ovsdb-server/disconnect-active-ovsdb-server', '', 0, 0, () => {
      this.disconnectActiveServer();
      this.saveConfig();
      return '';
    });
    u.register('ovsdb-server/set-active-ovsdb-server-probe-interval', '', 1, 1, ([arg]) => {
      // str_to_int(): a whole decimal int; the complaint is a success reply, as in OVS.
      const n = /^\s*[-+]?\d+$/.test(arg!) ? Number(arg) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) return 'Invalid probe interval, integer value expected';
      this.replicationProbeInterval = n;
      this.saveConfig();
      if (this.isBackup) this.replication?.setProbeInterval(n);
      return '';
    });
    u.register('ovsdb-server/set-sync-exclude-tables', '', 0, 1, ([arg]) => {
      // Without an argument (on which the real one crashes): no table excluded.
      const excluded = arg ?? '';
      const err = this.excludedTables.set(excluded, true);
      if (err) return err;
      this.syncExclude = excluded;
      this.saveConfig();
      if (this.isBackup) this.replicationInit();
      return this.excludedTables.set(excluded) ?? '';
    });
    u.register('ovsdb-server/get-sync-exclude-tables', '', 0, 0, () => this.excludedTables.toString());
    u.register('ovsdb-server/sync-status', '', 0, 0, () => {
      const state = `state: ${this.isBackup ? 'backup' : 'active'}\n`;
      return this.isBackup && this.replication ? state + this.replication.status() : state;
    });
  }

  /** ovsdb_server_exit(): the main loop ends. */
  exit(): void {
    if (this.exiting) return;
    this.exiting = true;
    this.exitResolve?.();
  }

  async shutdown(): Promise<void> {
    clearInterval(this.statusTimer);
    this.replication?.close();
    for (const d of this.dbs.values()) d.relay?.destroy();
    await this.server?.close();
  }
}

/** Whether a file has a clustered database's magic (ovsdb_log_open() with OVSDB_MAGIC"|"RAFT_MAGIC). */
function isClustered(filename: string): boolean {
  try {
    return logMagic(filename) === RAFT_MAGIC;
  } catch {
    return false;
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The modules ovsdb-server logs as (vlog/list lists them from the start). */
const MODULES = [
  'ovsdb_server',
  'jsonrpc_server',
  'jsonrpc',
  'reconnect',
  'socket_util',
  'stream_unix',
  'stream_ssl',
  'ovsdb_log',
  'unixctl',
  'fatal_signal',
  'daemon_unix',
  'lockfile',
  'raft',
  'replication',
  'ovsdb_error',
  'relay',
  'ovsdb_cs',
  'transaction_forward',
];

/** What save_config() keeps for a daemon restarted by --monitor. */
interface SavedConfig {
  remotes: string[];
  dbs: string[];
  syncFrom?: string;
  syncExclude?: string;
  isBackup?: boolean;
}

export async function main(
  argv: string[],
  io: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const cmdline = getoptLong(argv, LONG_OPTIONS);
  if ('error' in cmdline) {
    io.err(`${PROGRAM}: ${cmdline.error}`);
    return 1;
  }
  const remotes: string[] = [];
  let unixctlPath: string | undefined;
  let runCommand: string | undefined;
  let addDefaultDb = true;
  let syncFrom: string | undefined;
  let syncExclude: string | undefined;
  let active = false;
  // OVS's defaults for a daemon: every module at INFO on the console, syslog and file.
  const vlog = new Vlog({ program: PROGRAM, console: 'INFO', modules: MODULES, env });
  const daemon = new Daemon({ program: PROGRAM, vlog, env });
  const prog = new OvsdbServerProgram(vlog);
  let ctl: UnixctlServer | undefined;
  try {
    for (const { option, value: v } of cmdline.options) {
      if (daemon.handleOption(option.name, v) || vlog.handleOption(option.name, v)) continue;
      switch (option.name) {
        case 'remote':
          if (!remotes.includes(v!)) remotes.push(v!);
          break;
        case 'unixctl':
          unixctlPath = v;
          break;
        case 'run':
          runCommand = v;
          break;
        case 'help':
          io.out(USAGE(env));
          return 0;
        case 'version':
          io.out(`${PROGRAM} (Open vSwitch) ${OVS_VERSION}`);
          return 0;
        case 'no-dbs':
          addDefaultDb = false;
          break;
        case 'sync-from':
          syncFrom = v;
          break;
        case 'sync-exclude-tables': {
          const err = prog.excludedTables.set(v);
          if (err) throw new Fatal(err);
          syncExclude = v;
          break;
        }
        case 'active':
          active = true;
          break;
        default:
          // SSL options set prog.ssl; --disable-file-column-diff: accepted.
          sslHandleOption(prog.ssl, option.name, v);
          break;
      }
    }
    let dbFiles = cmdline.operands.length ? [...new Set(cmdline.operands)] : addDefaultDb ? [join(dbdir(env), 'conf.db')] : [];

    // The configuration in a file that outlives a crash (ovsdb-server's config_tmpfile): the
    // daemon a --monitor runs again inherits its name and starts from what it says.
    if (!env[CONFIG_ENV]) {
      env[CONFIG_ENV] = join(tmpdir(), `ovsdb-server.${process.pid}.${crypto.randomUUID().slice(0, 8)}.config`);
      const config: SavedConfig = { remotes, dbs: dbFiles, syncFrom, syncExclude, isBackup: syncFrom !== undefined && !active };
      writeFileSync(env[CONFIG_ENV], JSON.stringify(config));
    }
    prog.configFile = env[CONFIG_ENV];

    // daemonize_start(): with --detach the foreground process waits here for the daemon to be ready, then exits.
    await daemon.start();
    prog.syncFrom = syncFrom;
    prog.syncExclude = syncExclude;
    prog.isBackup = syncFrom !== undefined && !active;
    try {
      const saved = JSON.parse(readFileSync(prog.configFile, 'utf8')) as SavedConfig;
      remotes.splice(0, remotes.length, ...saved.remotes);
      dbFiles = saved.dbs;
      prog.syncFrom = saved.syncFrom;
      prog.syncExclude = saved.syncExclude;
      prog.isBackup = saved.isBackup ?? false;
    } catch {
      // No saved configuration: the command line's.
    }

    for (const f of dbFiles) {
      const error = prog.openDb(f);
      if (error) throw new Fatal(error);
    }
    prog.addServerDb();
    prog.updateServerStatus();
    for (const r of remotes) prog.remotes.add(r);
    prog.server = await OvsdbServer.start({ databases: [...prog.dbs.values()].map((d) => d.served), vlog: (l, m, t) => prog.log(l, m, t) });
    // ovsdb_jsonrpc_server_create(is_backup): a backup's clients only read, from the start.
    prog.server.readOnly = prog.isBackup;
    const error = (await prog.reconfigureRemotes()) ?? prog.reconfigureSsl();
    // reconfigure_remotes() ends each error with a newline, and ovs_fatal() adds its own: the real one prints a blank line after.
    if (error) throw new Fatal(error);

    ctl = await unixctlServerCreate(unixctlPath, {
      program: PROGRAM,
      version: `${PROGRAM} (Open vSwitch) ${OVS_VERSION}`,
      env,
      log: (m) => prog.log('warn', 'unixctl', m),
    });
    prog.unixctl = ctl;
    if (ctl) {
      prog.registerCommands(ctl);
      vlog.registerUnixctl(ctl);
    }
  } catch (e) {
    if (e instanceof Fatal || e instanceof OvsError) {
      if (e.message) {
        prog.log('emer', 'util', e.message);
        io.err(`${PROGRAM}: ${e.message}`);
      }
      if (prog.configFile) rmSync(prog.configFile, { force: true });
      await prog.shutdown();
      return 1;
    }
    throw e;
  }

  let childStatus: string | undefined;
  if (runCommand !== undefined) {
    const child = spawn('/bin/sh', ['-c', runCommand], { stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      if (code !== 0) childStatus = processStatusMsg(code, signal);
      prog.exit();
    });
    child.on('error', () => prog.exit());
  }

  daemon.complete();
  if (runCommand === undefined) prog.log('info', 'ovsdb_server', `${PROGRAM} (Open vSwitch) ${OVS_VERSION}`);
  if (prog.isBackup && prog.syncFrom) prog.replicationInit();
  prog.startRelays();
  prog.startStatusTimer();

  // fatal_signal_run(): logged, then the process dies of the signal (the pid file and sockets removed on the way).
  const onSignal = (sig: NodeJS.Signals) => {
    const num = { SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGALRM: 14 }[sig as string] ?? 0;
    const name = { SIGTERM: 'Terminated', SIGINT: 'Interrupt', SIGHUP: 'Hangup', SIGALRM: 'Alarm clock' }[sig as string] ?? sig;
    prog.log('warn', 'fatal_signal', `terminating with signal ${num} (${name})`);
    void ctl?.close();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, sig);
  };
  const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const;
  for (const s of SIGNALS) process.on(s, onSignal);

  await prog.exited;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  if (prog.configFile) rmSync(prog.configFile, { force: true });
  await prog.shutdown();
  await ctl?.close();
  if (childStatus) {
    io.err(`${PROGRAM}: ${runCommand}: child exited, ${childStatus}`);
    return 1;
  }
  return 0;
}
