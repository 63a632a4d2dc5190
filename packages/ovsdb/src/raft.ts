/**
 * The clustered database file as ovsdb/raft.c and ovsdb/raft-private.c write
 * and read it offline — what `ovsdb-tool create-cluster`, `join-cluster`,
 * `db-name`, `db-cid`, `db-sid` and `db-local-address` do: a log of
 * "OVSDB CLUSTER" records whose first is the Raft header. A new cluster's
 * header holds its first snapshot (index 1, term 1: the schema and the
 * data, serialized with sorted members as json_serialized_object_create()
 * does) and its one server; a joining server's header holds the addresses it
 * is to contact instead. Member order is lib/shash.c's, as OVS's JSON
 * objects have it, so the files are byte-for-byte of the real tool's shape.
 * RaftStorage serves such a file when this server is its cluster's only one.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Lockfile, shashOrder, simapIncrease } from '@ovs/util';
import { type ChangeSet, Database } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isObject, isUuid, sortedJson } from './json.js';
import {
  RAFT_MAGIC,
  changeRecord,
  createLogFile,
  encodeRecord,
  lockDbFile,
  readRecords,
  replaceLogFile,
  replayRecord,
  snapshotRecord,
  writeAll,
} from './log.js';
import { parseSchema } from './schema.js';

export { RAFT_MAGIC };

/** VLOG_ERR(module, message). */
export type LogErr = (module: string, message: string) => void;

/** ELECTION_MIN_MSEC, ELECTION_MAX_MSEC. */
const ELECTION_MIN_MSEC = 100;
const ELECTION_MAX_MSEC = 600000;

/** struct raft_header, as much of it as a file made offline has. */
export interface RaftHeader {
  sid: string;
  /** Unknown (joining without --cid): undefined. */
  cid?: string;
  name: string;
  localAddress: string;
  /** A server that has not joined yet: the servers to ask. */
  remoteAddresses?: string[];
  /** The snapshot a new cluster starts from. */
  snap?: { index: number; term: number; eid: string; servers: Record<string, string>; data?: Json; electionTimer?: number };
}

/** A JSON object with its members in the order OVS's json_object_put() calls leave them (an shash). */
function shashObject(members: [string, Json | undefined][]): JsonObject {
  const given = new Map(members.filter((m): m is [string, Json] => m[1] !== undefined));
  const out: JsonObject = {};
  for (const k of shashOrder([...given.keys()])) out[k] = given.get(k)!;
  return out;
}

/**
 * raft_address_validate(): "unix:PATH", or "tcp:"/"ssl:" with HOST:PORT
 * (inet_parse_active() with no default port; a name is taken as it is, as a
 * failed name lookup is). The error text, or null.
 */
export function raftAddressValidate(address: string, logErr: LogErr = () => {}): string | null {
  if (address.startsWith('unix:')) return null;
  if (!address.startsWith('tcp:') && !address.startsWith('ssl:')) return `${address}: expected "tcp" or "ssl" address`;
  const target = address.slice(4);
  const m = /^(?:\[([^\]]*)\]|([^:]*))(?::(.*))?$/.exec(target);
  const host = m?.[1] ?? m?.[2] ?? '';
  const port = m?.[3];
  // inet_parse_active() logs why (socket_util, ERR); the caller gets the syntax error.
  const bad = (why: string) => {
    logErr('socket_util', why);
    return `${address}: syntax error in address`;
  };
  if (port === undefined || port === '') return bad(`${target}: port must be specified`);
  if (!/^\d+$/.test(port) || Number(port) > 65535) return bad(`${target}: bad port number "${port}"`);
  if (m?.[1] !== undefined && isIP(host) !== 6) return bad(`${target}: bad IP address "${host}"`);
  return null;
}

/** raft_validate_election_timer(): the error text, or null. */
export function raftValidateElectionTimer(ms: number): string | null {
  return ms < ELECTION_MIN_MSEC || ms > ELECTION_MAX_MSEC || !Number.isFinite(ms)
    ? `election timer must be between ${ELECTION_MIN_MSEC} and ${ELECTION_MAX_MSEC}, in msec.`
    : null;
}

/** raft_header_to_json(). */
export function raftHeaderToJson(h: RaftHeader): JsonObject {
  const s = h.snap;
  return shashObject([
    ['server_id', h.sid],
    ['cluster_id', h.cid],
    ['local_address', h.localAddress],
    ['name', h.name],
    ['remote_addresses', h.remoteAddresses && shashOrder([...new Set(h.remoteAddresses)])],
    ['prev_servers', s?.servers],
    ['prev_index', s?.index],
    ['prev_term', s?.term],
    // json_serialized_object_create(): the data with every object's members sorted.
    ['prev_data', s?.data === undefined ? undefined : (JSON.parse(sortedJson(s.data)) as Json)],
    ['prev_eid', s?.eid],
    ['prev_election_timer', s?.electionTimer || undefined],
  ]);
}

/** raft_header_from_json(): what a Raft header record says; OvsdbError (syntax error) if it is not one. */
export function raftHeaderFromJson(json: Json): RaftHeader {
  const fail = (msg: string): never => {
    throw syntaxError(json, null, `Parsing raft header failed: ${msg}`);
  };
  if (!isObject(json)) return fail('Object expected.');
  const str = (k: string, required: boolean): string | undefined => {
    const v = json[k];
    if (v === undefined) return required ? fail(`Required '${k}' member is missing.`) : undefined;
    if (typeof v !== 'string') return fail(`Type mismatch for member '${k}'.`);
    return v;
  };
  const uuid = (k: string, required: boolean): string | undefined => {
    const v = str(k, required);
    if (v !== undefined && !isUuid(v)) fail(`"${k}" is not a valid UUID`);
    return v;
  };
  const h: RaftHeader = { sid: uuid('server_id', true)!, name: str('name', true)!, localAddress: str('local_address', true)! };
  const remotes = json.remote_addresses;
  if (remotes !== undefined) {
    if (!Array.isArray(remotes) || !remotes.every((a) => typeof a === 'string')) return fail("Type mismatch for member 'remote_addresses'.");
    const others = (remotes as string[]).filter((a) => a !== h.localAddress);
    if (others.length === 0) fail('at least one remote address (other than the local address) is required');
    h.remoteAddresses = others;
  }
  const cid = uuid('cluster_id', remotes === undefined);
  if (cid !== undefined) h.cid = cid;
  return h;
}

/** A new Raft log whose records are `records`. */
function createLog(file: string, records: JsonObject[]): void {
  createLogFile(file, Buffer.concat(records.map((r) => encodeRecord(r, RAFT_MAGIC))));
}

/** raft_create_cluster(): a new one-server cluster whose first snapshot is `data` ([schema, contents]). */
export function raftCreateCluster(file: string, name: string, localAddress: string, data: Json, electionTimer = 0, logErr?: LogErr): void {
  const addr = raftAddressValidate(localAddress, logErr);
  if (addr) throw new OvsdbError('ovsdb error', addr);
  if (electionTimer > 0) {
    const e = raftValidateElectionTimer(electionTimer);
    if (e) throw new OvsdbError('ovsdb error', e);
  }
  const sid = crypto.randomUUID();
  const header = raftHeaderToJson({
    sid,
    cid: crypto.randomUUID(),
    name,
    localAddress,
    snap: { index: 1, term: 1, eid: crypto.randomUUID(), servers: { [sid]: localAddress }, data },
  });
  // The election timer, when given, is the log's first entry (index 2).
  const records = [header];
  if (electionTimer > 0) {
    records.push(
      shashObject([
        ['term', 1],
        ['index', 2],
        ['election_timer', electionTimer],
      ]),
    );
  }
  createLog(file, records);
}

/** raft_join_cluster(): a server to join the cluster of `remotes` (whose ID, `cid`, may be known already). */
export function raftJoinCluster(file: string, name: string, localAddress: string, remotes: readonly string[], cid?: string, logErr?: LogErr): void {
  const invalid = (a: string) => {
    const e = raftAddressValidate(a, logErr);
    if (e) throw new OvsdbError('ovsdb error', e);
  };
  invalid(localAddress);
  for (const a of shashOrder([...new Set(remotes)])) {
    invalid(a);
    if (a === localAddress) throw new OvsdbError('ovsdb error', 'remote addresses cannot be the same as the local address');
  }
  if (cid === '00000000-0000-0000-0000-000000000000') throw new OvsdbError('ovsdb error', 'all-zero UUID is not valid cluster ID');
  createLog(file, [raftHeaderToJson({ sid: crypto.randomUUID(), cid, name, localAddress, remoteAddresses: [...remotes] })]);
}

/** raft_read_metadata(): the header of a clustered file (the caller has checked its magic). */
export function raftReadMetadata(file: string): RaftHeader {
  const { records, problem } = readRecords(readFileSync(file), file, RAFT_MAGIC);
  if (records.length === 0) throw new OvsdbError('ovsdb error', problem ?? `${file}: unexpected end of file`);
  return raftHeaderFromJson(records[0]!);
}

/** JSON as OVS writes back what it parsed: every object's members in shash order (lib/json.c keeps objects in an shash). */
function reparsed(v: Json): Json {
  if (Array.isArray(v)) return v.map(reparsed);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const k of shashOrder(Object.keys(v))) out[k] = reparsed(v[k]!);
  return out;
}

/**
 * do_convert_to_standalone(): a clustered file's contents as standalone log
 * records — the header's snapshot (schema, then data) and the data of every
 * log entry after it, in order — for `ovsdb-tool cluster-to-standalone`.
 */
export function raftToStandaloneRecords(file: string): Json[] {
  const { records, problem } = readRecords(readFileSync(file), file, RAFT_MAGIC);
  if (problem) throw new OvsdbError('ovsdb error', problem);
  const out: Json[] = [];
  const push = (j: Json) => out.push(reparsed(j));
  records.forEach((rec, i) => {
    if (i === 0) {
      raftHeaderFromJson(rec);
      if (!isObject(rec) || rec.prev_index === undefined) return;
      const data = rec.prev_data;
      if (!Array.isArray(data) || data.length !== 2) throw new OvsdbError('ovsdb error', 'Incorrect raft header data array length');
      if (data[0] !== null) push(data[0]!);
      if (!isObject(data[1])) throw new OvsdbError('ovsdb error', 'Invalid raft header data');
      push(data[1]);
    } else if (isObject(rec) && rec.index !== undefined && rec.data !== undefined) {
      // raft_record_to_standalone_log(): an entry's [schema, data]; only the data is kept.
      if (!Array.isArray(rec.data) || rec.data.length !== 2) throw new OvsdbError('ovsdb error', 'Incorrect raft record array length');
      if (rec.data[1] !== null) push(rec.data[1]!);
    }
  });
  return out;
}

/** VLOG(level, module, message). */
export type RaftLog = (level: 'info' | 'warn' | 'err', module: string, message: string) => void;

/**
 * A clustered database file served by this process as the one server of
 * its cluster (ovsdb/raft.c reduced to that case): opened, it replays the
 * snapshot and log, wins the election of the next term (its vote, its
 * leadership and the new term's first entry written as raft.c writes them)
 * and then appends each commit as a log entry, committed at once. A file of
 * a cluster with other servers, or of a server still joining one, is
 * refused: that needs Raft's messaging, which is not implemented here.
 */
export class RaftStorage {
  readonly model = 'clustered';
  private fd: number;
  private index: number;

  private constructor(
    readonly path: string,
    private database: Database,
    readonly header: RaftHeader,
    private readonly term: number,
    lastIndex: number,
    /** The index of the snapshot the log starts after (log_start - 1). */
    private snapIndex: number,
    private readonly lock: Lockfile,
    /** The cluster's configuration (its one server) and the eid of the last entry with data (raft_get_eid()). */
    private readonly servers: JsonObject,
    private lastEid: string,
    readonly replayed: readonly ChangeSet[],
  ) {
    this.fd = openSync(path, 'a');
    this.index = lastIndex;
  }

  /** The cluster ID, this server's ID, and the last applied log index (what _Server's Database row shows). */
  get status(): { cid: string; sid: string; index: number } {
    return { cid: this.header.cid!, sid: this.header.sid, index: this.index };
  }

  /** raft_get_memory_usage(): the entries after the snapshot (log_end - log_start); one server, so no connections. */
  getMemoryUsage(usage: Map<string, number>): void {
    simapIncrease(usage, 'raft-log', this.index - this.snapIndex);
  }

  static open(path: string, log: RaftLog = () => {}): RaftStorage {
    const lock = lockDbFile(path, (m) => log('warn', 'lockfile', m));
    try {
      return RaftStorage.read(path, log, lock);
    } catch (e) {
      lock.unlock();
      throw e;
    }
  }

  private static read(path: string, log: RaftLog, lock: Lockfile): RaftStorage {
    const { records, problem } = readRecords(readFileSync(path), path, RAFT_MAGIC);
    if (records.length === 0) throw new OvsdbError('ovsdb error', problem ?? `${path}: unexpected end of file`);
    if (problem) log('err', 'raft', problem);
    const header = raftHeaderFromJson(records[0]!);
    if (header.remoteAddresses) throw new OvsdbError('ovsdb error', `${path}: joining a cluster is not supported by this ovsdb-server`);
    const first = records[0] as JsonObject;
    let servers = first.prev_servers as JsonObject;
    const data = first.prev_data;
    if (!Array.isArray(data) || data.length !== 2 || !isObject(data[0])) throw new OvsdbError('ovsdb error', `${path}: the cluster's snapshot has no schema`);
    let db = new Database(parseSchema(data[0]));
    let lastIndex = Number(first.prev_index);
    let lastEid = String(first.prev_eid);
    // The snapshot is the first transaction of the history, as OVS reads it back.
    const replayed = [replayRecord(db, data[1]!, lastEid)];
    let term = 0;
    for (const rec of records.slice(1)) {
      if (!isObject(rec)) continue;
      if (rec.index === undefined) {
        // Term, vote and leader records: the term the server was in.
        if (typeof rec.term === 'number') term = Math.max(term, rec.term);
        continue;
      }
      lastIndex = Number(rec.index);
      if (typeof rec.eid === 'string') lastEid = rec.eid;
      if (isObject(rec.servers)) servers = rec.servers;
      if (!Array.isArray(rec.data) || rec.data.length !== 2) continue;
      const [schema, txn] = rec.data;
      // An entry with a schema replaces the database (a conversion): its data is the whole of it.
      if (isObject(schema)) {
        db = new Database(parseSchema(schema));
        replayed.length = 0;
      }
      if (txn !== null) replayed.push(replayRecord(db, txn!, lastEid));
    }
    if (Object.keys(servers).length !== 1 || servers[header.sid] === undefined) {
      throw new OvsdbError('ovsdb error', `${path}: clusters of more than one server are not supported by this ovsdb-server`);
    }
    const storage = new RaftStorage(path, db, header, term + 1, lastIndex, Number(first.prev_index), lock, servers, lastEid, replayed);
    storage.becomeLeader(log);
    return storage;
  }

  /** raft_start_election() won at once (one server of one), then raft_become_leader(): the new term's records. */
  private becomeLeader(log: RaftLog): void {
    log('info', 'raft', `term ${this.term}: ${Math.round(performance.now())} ms timeout expired, starting election`);
    log('info', 'raft', `term ${this.term}: elected leader by 1+ of 1 servers`);
    log('info', 'raft', `local server ID is ${this.header.sid.slice(0, 4)}`);
    this.write([
      shashObject([
        ['term', this.term],
        ['vote', this.header.sid],
      ]),
      shashObject([
        ['term', this.term],
        ['leader', this.header.sid],
      ]),
      ...this.entry(undefined),
    ]);
  }

  /** The database the cluster holds (another one after a schema change). */
  get db(): Database {
    return this.database;
  }

  /**
   * A log entry (with `data`: a transaction, and the new schema of a conversion) and the commit of
   * it: what a leader of one writes.
   */
  private entry(txn: JsonObject | undefined, schema: Json = null, eid: string = crypto.randomUUID()): JsonObject[] {
    this.index++;
    if (txn) this.lastEid = eid;
    const e = shashObject([
      ['term', this.term],
      ['index', this.index],
      ['data', txn && (JSON.parse(sortedJson([schema, txn])) as Json)],
      ['eid', txn && this.lastEid],
    ]);
    return [e, { commit_index: this.index }];
  }

  /** Raft syncs its log before anything counts as committed. */
  private write(records: JsonObject[]): void {
    try {
      writeAll(this.fd, Buffer.concat(records.map((r) => encodeRecord(r, RAFT_MAGIC))));
      fdatasyncSync(this.fd);
    } catch (e) {
      throw new OvsdbError('I/O error', `${this.path}: ${(e as Error).message}`);
    }
  }

  /** A committed transaction, as the next log entry (always durable); its eid is the transaction's id (monitor_cond_since). */
  append(cs: ChangeSet): void {
    const rec = changeRecord(this.db, cs);
    if (rec) this.write(this.entry(rec, null, cs.id));
  }

  /** A conversion, as raft_command_execute() of [schema, data] appends it: an entry replacing the whole database. */
  writeSchemaChange(db: Database, txnId: string): void {
    this.write(this.entry(snapshotRecord(db, Date.now(), 'converted by ovsdb-server'), db.schema.json, txnId));
    this.database = db;
  }

  /** The log is compacted on request (ovsdb-server/compact) only. */
  shouldCompact(): boolean {
    return false;
  }

  /**
   * raft_store_snapshot() + raft_write_snapshot(), with every entry applied:
   * a new file whose header's snapshot is the database now (at the last
   * index, term and eid), then the term and vote (raft_write_state()),
   * replacing the file a symlink leads to.
   */
  compact(): void {
    const header = raftHeaderToJson({
      ...this.header,
      snap: {
        index: this.index,
        term: this.term,
        eid: this.lastEid,
        servers: this.servers as Record<string, string>,
        data: [this.db.schema.json, snapshotRecord(this.db, Date.now(), 'compacting database online')],
      },
    });
    const vote = shashObject([
      ['term', this.term],
      ['vote', this.header.sid],
    ]);
    replaceLogFile(this.path, Buffer.concat([encodeRecord(header, RAFT_MAGIC), encodeRecord(vote, RAFT_MAGIC)]));
    this.snapIndex = this.index;
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.lock.unlock();
  }
}
