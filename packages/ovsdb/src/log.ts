/**
 * The database file, in ovsdb-server's standalone format (ovsdb/log.c,
 * ovsdb/file.c), so `ovsdb-tool` and the real `ovsdb-server` read ours and we
 * read theirs: records of
 *
 *     OVSDB JSON <length> <sha1 of the JSON text>\n<JSON text>\n
 *
 * the first one the schema, each next one a committed transaction
 * {"<table>": {"<uuid>": <row> | null}, "_date": ms, "_comment": ...,
 * "_is_diff": true} (a modified row's columns are diffs, as OVS ≥ 2.15
 * writes them; records without "_is_diff" hold whole values).
 *
 * Every commit is appended (written to the kernel) before it is acknowledged,
 * and fsynced first when the transaction asked to be durable ("durable":
 * true), as ovsdb_storage_write() does: a commit outlives the server's crash
 * either way, and a power loss only when durable. A record
 * that is cut short or fails its checksum (a crash mid-write) ends the log:
 * it is dropped with a warning and the file truncated there. Compaction
 * writes a snapshot (schema + one record with every row) to FILE.tmp and
 * renames it over FILE.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Lockfile, OvsError, followSymlinks } from '@ovs/util';
import { type Datum, applyDiff, datumDiff, datumFromJson, datumToJson, isDefault } from './datum.js';
import { type ChangeSet, Database, type Row, newRowFields } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isObject, isUuid } from './json.js';
import { type DatabaseSchema, parseSchema } from './schema.js';

/**
 * lockfile_lock() as ovsdb_log_open() calls it for a file it may write: the
 * lock, or an OvsdbError "NAME: failed to lock lockfile (strerror)".
 */
export function lockDbFile(path: string, warn?: (msg: string) => void): Lockfile {
  try {
    return Lockfile.lock(path, warn);
  } catch (e) {
    if (!(e instanceof OvsError)) throw e;
    throw new OvsdbError('I/O error', `${path}: failed to lock lockfile (${e.message})`);
  }
}

/** The magic of a standalone database's records (OVSDB_MAGIC) and of a clustered one's (RAFT_MAGIC). */
export const OVSDB_MAGIC = 'OVSDB JSON';
export const RAFT_MAGIC = 'OVSDB CLUSTER';

/**
 * ovsdb_log_open()'s look at the first header line: which magic the file has,
 * '' for an empty file, undefined for anything else. fs errors are thrown.
 */
export function logMagic(path: string): string | undefined {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(RAFT_MAGIC.length + 1);
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.toString('latin1', 0, n);
  if (n === 0) return '';
  return [OVSDB_MAGIC, RAFT_MAGIC].find((m) => text.startsWith(`${m} `));
}

/**
 * ovsdb_log_open(OVSDB_LOG_CREATE_EXCL), the writes, ovsdb_log_commit_block():
 * a new log file (the one a symlink leads to) holding `data`, synced, its lock
 * file left beside it as OVS leaves it. "NAME: create failed (File exists)" if
 * it exists.
 */
export function createLogFile(path: string, data: Buffer): void {
  lockDbFile(path).unlock();
  let fd: number;
  try {
    fd = openSync(followSymlinks(path), 'wx', 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OvsdbError('I/O error', `${path}: create failed (${code === 'EEXIST' ? 'File exists' : (e as Error).message})`);
  }
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(path);
}

/**
 * ovsdb_log_replace(): `data` as the whole new file, written beside the file a
 * symlink leads to, synced and renamed over it (the symlink stays).
 */
export function replaceLogFile(path: string, data: Buffer): void {
  const target = followSymlinks(path);
  const tmp = `${target}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
  fsyncDir(target);
}

export function encodeRecord(json: Json, magic = OVSDB_MAGIC): Buffer {
  const data = Buffer.from(`${JSON.stringify(json)}\n`, 'utf8');
  const sha1 = createHash('sha1').update(data).digest('hex');
  return Buffer.concat([Buffer.from(`${magic} ${data.length} ${sha1}\n`, 'ascii'), data]);
}

export interface ReadResult {
  records: Json[];
  /** Where each record starts. */
  offsets: number[];
  /** Bytes of valid records; anything after is garbage. */
  validLength: number;
  /** Why reading stopped early, if it did: ovsdb_log_read()'s error, as ovsdb_error_to_string() prints it. */
  problem?: string;
}

/** Splits a file's bytes into records, stopping at the first bad one (ovsdb_log_read()'s checks and texts). */
export function readRecords(buf: Buffer, name = 'file', magic = OVSDB_MAGIC): ReadResult {
  const header = new RegExp(`^${magic} (\\d+) ([0-9a-f]{40})$`);
  const records: Json[] = [];
  const offsets: number[] = [];
  let off = 0;
  while (off < buf.length) {
    const stop = (problem: string): ReadResult => ({ records, offsets, validLength: off, problem });
    const nl = buf.indexOf(0x0a, off);
    const headerEnd = nl < 0 ? buf.length : nl;
    const m = headerEnd - off <= 127 ? header.exec(buf.toString('latin1', off, headerEnd)) : null;
    if (!m || nl < 0) {
      const line = buf.toString('latin1', off, Math.min(headerEnd, off + 127));
      return stop(`syntax error: ${name}: parse error at offset ${off} in header line "${line}"`);
    }
    const len = Number(m[1]);
    const start = nl + 1;
    if (start + len > buf.length) return stop(`I/O error: ${name}: error reading ${len} bytes starting at offset ${start} (End of file)`);
    const data = buf.subarray(start, start + len);
    const sha1 = createHash('sha1').update(data).digest('hex');
    if (sha1 !== m[2]) {
      return stop(`syntax error: ${name}: ${len} bytes starting at offset ${start} have SHA-1 hash ${sha1} but should have hash ${m[2]}`);
    }
    let json: Json;
    try {
      json = JSON.parse(data.toString('utf8')) as Json;
    } catch (e) {
      return stop(`syntax error: ${name}: ${len} bytes starting at offset ${start} are not valid JSON (${(e as Error).message})`);
    }
    if (!isObject(json)) return stop(`syntax error: ${name}: ${len} bytes starting at offset ${start} are not a JSON object`);
    records.push(json);
    offsets.push(off);
    off = start + len;
  }
  return { records, offsets, validLength: off };
}

export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

export function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** A row in the file's format: the non-default, persistent columns. */
function rowJson(db: Database, table: string, fields: Row['fields']): JsonObject {
  const o: JsonObject = {};
  for (const c of db.table(table)!.schema.userColumns) {
    if (c.ephemeral) continue;
    const d = fields[c.name]!;
    if (!isDefault(d, c.type)) o[c.name] = datumToJson(d, c.type);
  }
  return o;
}

/**
 * A modified row: the changed persistent columns as diffs (as ovsdb-server
 * writes them since OVS 2.15), so that adding one port to a bridge with
 * thousands writes one UUID, not the whole set.
 */
function rowDiffJson(db: Database, table: string, old: Row['fields'], next: Row['fields'], changed: ReadonlySet<string>): JsonObject {
  const o: JsonObject = {};
  for (const c of db.table(table)!.schema.userColumns) {
    if (c.ephemeral || !changed.has(c.name)) continue;
    o[c.name] = datumToJson(datumDiff(old[c.name]!, next[c.name]!, c.type), c.type);
  }
  return o;
}

/** The record for a committed transaction, or null if it changed nothing persistent. */
export function changeRecord(db: Database, cs: ChangeSet, date = Date.now()): JsonObject | null {
  const rec: Record<string, JsonObject> = {};
  let any = false;
  for (const ch of cs.changes) {
    let row: Json;
    if (!ch.new) row = null;
    else if (!ch.old) row = rowJson(db, ch.table, ch.new.fields);
    else {
      row = rowDiffJson(db, ch.table, ch.old.fields, ch.new.fields, ch.changed);
      if (!Object.keys(row).length) continue;
    }
    (rec[ch.table] ??= {})[ch.uuid] = row;
    any = true;
  }
  if (!any) return null;
  const out: JsonObject = { ...rec };
  if (cs.comment !== undefined) out._comment = cs.comment;
  out._is_diff = true;
  out._date = date;
  return out;
}

/** Applies one transaction record of the file to the database. */
export function replayRecord(db: Database, rec: Json, id?: string): ChangeSet {
  if (!isObject(rec)) throw new OvsdbError('syntax error', 'transaction record must be an object');
  const isDiff = rec._is_diff === true;
  const txn = db.begin();
  for (const [tname, rows] of Object.entries(rec)) {
    if (tname.startsWith('_')) continue;
    const table = db.table(tname);
    if (!table) throw syntaxError(rec, 'unknown table', `No table named ${tname}.`);
    if (!isObject(rows)) throw new OvsdbError('syntax error', `table ${tname} must be an object`);
    for (const [uuid, row] of Object.entries(rows)) {
      if (!isUuid(uuid)) throw new OvsdbError('syntax error', `"${uuid}" is not a valid UUID`);
      const current = txn.get(table, uuid);
      if (row === null) {
        if (current) txn.delete(table, uuid);
        continue;
      }
      if (!isObject(row)) throw new OvsdbError('syntax error', 'row must be JSON object');
      const fields = current ? txn.modify(table, uuid) : newRowFields(table.schema);
      for (const [cname, v] of Object.entries(row)) {
        const c = table.schema.columns.get(cname);
        if (!c || cname.startsWith('_')) continue;
        const d = datumFromJson(c.type, v, undefined, false);
        fields[cname] = isDiff && current ? applyDiff(fields[cname]!, d, c.type) : d;
      }
      if (!current) txn.insert(table, uuid, fields);
    }
  }
  const err = txn.precommit();
  if (err) throw err;
  return txn.commit(id);
}

/** A snapshot record: every row of the database. */
export function snapshotRecord(db: Database, date = Date.now(), comment = 'compacting database online'): JsonObject {
  const out: JsonObject = {};
  for (const [name, table] of db.tables) {
    if (!table.rows.size) continue;
    const rows: JsonObject = {};
    for (const row of table.rows.values()) rows[row.uuid] = rowJson(db, name, row.fields);
    out[name] = rows;
  }
  out._comment = comment;
  out._date = date;
  return out;
}

/**
 * ovsdb_convert() (ovsdb/file.c): a copy of `src` under `newSchema`, each column both schemas have
 * converted to its new type (ovsdb_datum_convert()), the tables and columns the new schema drops left
 * behind, new columns at their defaults. Throws the OvsdbError of a value the new type cannot hold or
 * of a constraint the copy breaks; `src` is left as it was.
 */
export function ovsdbConvert(src: Database, newSchema: DatabaseSchema): Database {
  const db = new Database(newSchema);
  const txn = db.begin();
  for (const [name, table] of db.tables) {
    const old = src.table(name);
    if (!old) continue;
    for (const row of old.rows.values()) {
      const fields = newRowFields(table.schema);
      for (const c of table.schema.userColumns) {
        const oc = old.schema.columns.get(c.name);
        if (oc) fields[c.name] = datumFromJson(c.type, datumToJson(row.fields[c.name] as Datum, oc.type));
      }
      txn.insert(table, row.uuid, fields);
    }
  }
  const err = txn.precommit();
  if (err) throw err;
  txn.commit();
  return db;
}

/** Where a served database is kept: a standalone file (DbFile) or a clustered one (raft.ts's RaftStorage). */
export interface DbStorage {
  /** ovsdb_storage_get_model(). */
  readonly model: 'standalone' | 'clustered';
  readonly db: Database;
  /** A clustered log's transactions as read at open, oldest first, each with its entry's eid: the history it starts with. */
  readonly replayed?: readonly ChangeSet[];
  /** ovsdb_storage_get_memory_usage(). */
  getMemoryUsage?(usage: Map<string, number>): void;
  append(cs: ChangeSet, durable?: boolean): void;
  shouldCompact(): boolean;
  compact(): void;
  /**
   * ovsdb_storage_write_schema_change(): `db` (a converted copy, ovsdbConvert()) becomes what is
   * stored, its schema and every row, as transaction `txnId` (a clustered log's entry eid); throws
   * the OvsdbError of a failed write, storing nothing then.
   */
  writeSchemaChange(db: Database, txnId: string): void;
  close(): void;
}

export interface LogOptions {
  /** Compact when the file exceeds this and 4× its size after the last compaction. Default 10 MiB. */
  compactMinBytes?: number;
  onWarning?: (msg: string) => void;
  /** The error that ended the log early (ovsdb-server logs it at ERR); onWarning when not given. */
  onError?: (msg: string) => void;
  /** Take the file's lock (lib/lockfile.c) while it is open: default true; false for a read-only use. */
  lock?: boolean;
  /** Why the lock could not be taken (VLOG_WARN of module "lockfile"). */
  onLockWarning?: (msg: string) => void;
}

/** An open database file, appended to as transactions commit. */
export class DbFile implements DbStorage {
  readonly model = 'standalone';
  private fd: number;
  private size: number;
  private sizeAfterCompaction: number;

  private constructor(
    readonly path: string,
    private database: Database,
    private readonly opts: LogOptions,
    private readonly lock?: Lockfile,
  ) {
    // O_APPEND: every write lands at the end, whatever the file offset.
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
    this.sizeAfterCompaction = this.size;
  }

  /** `ovsdb-tool create`: a new file holding only the schema. */
  static create(path: string, schemaJson: Json): DatabaseSchema {
    const schema = parseSchema(schemaJson);
    if (existsSync(path)) throw new OvsdbError('I/O error', `${path}: file already exists`);
    createLogFile(path, encodeRecord(schemaJson));
    return schema;
  }

  /**
   * Opens a file, replaying its transactions. As ovsdb-server's read_db(), the first record
   * that cannot be read or applied ends the log: its error is reported (onError, else
   * onWarning) and the file is truncated there, keeping what came before.
   */
  static open(path: string, opts: LogOptions = {}): DbFile {
    const buf = readFileSync(path);
    const lock = opts.lock === false ? undefined : lockDbFile(path, opts.onLockWarning);
    try {
      return DbFile.read(path, buf, opts, lock);
    } catch (e) {
      lock?.unlock();
      throw e;
    }
  }

  private static read(path: string, buf: Buffer, opts: LogOptions, lock: Lockfile | undefined): DbFile {
    const read = readRecords(buf, path);
    let { problem, validLength } = read;
    const { records, offsets } = read;
    if (!records.length) throw new OvsdbError('syntax error', `${path}: ${problem ?? 'empty file'}`);
    const db = new Database(parseSchema(records[0]));
    for (let i = 1; i < records.length; i++) {
      try {
        replayRecord(db, records[i]!);
      } catch (e) {
        if (!(e instanceof OvsdbError)) throw e;
        problem = `${e.syntax !== undefined ? `syntax "${e.syntax}": ` : ''}${e.tag}${e.details !== undefined ? `: ${e.details}` : ''}`;
        validLength = offsets[i]!;
        break;
      }
    }
    if (problem) {
      (opts.onError ?? opts.onWarning ?? ((m) => process.emitWarning(m)))(problem);
      if (validLength < buf.length) {
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, validLength);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    return new DbFile(path, db, opts, lock);
  }

  /** The database the file holds (another one after a schema change). */
  get db(): Database {
    return this.database;
  }

  /** Appends a committed transaction, fsynced when `durable` (ovsdb_log_commit_block()). Throws on I/O errors. */
  append(cs: ChangeSet, durable = false): void {
    const rec = changeRecord(this.db, cs);
    if (!rec) return;
    const buf = encodeRecord(rec);
    try {
      writeAll(this.fd, buf);
      // fdatasync flushes the data and the new file size (all a reader needs), not
      // the timestamps: a third of fsync's cost for an append.
      if (durable) fdatasyncSync(this.fd);
    } catch (e) {
      // Cut off whatever part was written so the file stays a valid log.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        /* the next open drops the torn record */
      }
      throw new OvsdbError('I/O error', `${this.path}: ${(e as Error).message}`);
    }
    this.size += buf.length;
  }

  /** Whether the file has grown enough to be worth compacting. */
  shouldCompact(): boolean {
    const min = this.opts.compactMinBytes ?? 10 * 1024 * 1024;
    return this.size >= min && this.size >= 4 * this.sizeAfterCompaction;
  }

  /** Rewrites the file as the schema plus one snapshot record. */
  compact(): void {
    this.rewrite(this.db, 'compacting database online');
  }

  /** ovsdb_storage_store_snapshot(), as a standalone file takes a schema change: the file becomes the new schema and data. */
  writeSchemaChange(db: Database): void {
    this.rewrite(db, 'converted by ovsdb-server');
    this.database = db;
  }

  /** The file replaced by `db`'s schema and one record holding every row. */
  private rewrite(db: Database, comment: string): void {
    const data = Buffer.concat([encodeRecord(db.schema.json), encodeRecord(snapshotRecord(db, Date.now(), comment))]);
    replaceLogFile(this.path, data);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    const size = data.length;
    this.size = size;
    this.sizeAfterCompaction = size;
  }

  get bytes(): number {
    return this.size;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.lock?.unlock();
  }
}
