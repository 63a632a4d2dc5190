/**
 * ovsdb/ovsdb-tool.c: `ovsdb-tool`, the database file utility, as OVS's test
 * suite and start-up scripts use it — create, compact, convert,
 * needs-conversion, db-name/db-version/db-cksum, schema-name/version/cksum,
 * query, transact, show-log, db-is-standalone/db-is-clustered — on
 * standalone database files; create-cluster, join-cluster, db-name, db-cid,
 * db-sid, db-local-address and cluster-to-standalone on clustered ones
 * (raft.ts), the other commands refusing them as the real tool does.
 *
 * Messages, exit codes and output are the real tool's: results printed as
 * json_to_string(JSSF_SORT) does, errors as "ovsdb-tool: ..." with status 1.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Getopt, GetoptError, OvsError, Vlog, followSymlinks, ovsStrerror, ovsRundir as rundir, shashOrder } from '@ovs/util';
import { datumFromJson, datumToString } from './datum.js';
import { Database } from './db.js';
import { OvsdbError } from './errors.js';
import { type Json, type JsonObject, isObject, isUuid, sortedJson } from './json.js';
import { DbFile, OVSDB_MAGIC, encodeRecord, fsyncDir, logMagic, ovsdbConvert, readRecords, replayRecord, snapshotRecord, writeAll } from './log.js';
import {
  RAFT_MAGIC,
  type RaftHeader,
  raftCreateCluster,
  raftJoinCluster,
  raftReadMetadata,
  raftToStandaloneRecords,
  raftValidateElectionTimer,
} from './raft.js';
import { type DatabaseSchema, parseSchema, schemaEqual, schemaToJson } from './schema.js';
import { ServedDatabase } from './server.js';
import { vswitchSchema } from './vswitch.js';

export const OVS_VERSION = '3.1.0';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** ovs_fatal(): what the tool prints (after "ovsdb-tool: ") before exiting with status 1. */
class Fatal extends Error {
  constructor(
    message: string,
    readonly status = 1,
    readonly bare = false,
  ) {
    super(message);
  }
}

/** ovsdb_error_to_string(). */
export function ovsdbErrorToString(e: OvsdbError): string {
  return `${e.syntax !== undefined ? `syntax "${e.syntax}": ` : ''}${e.tag}${e.details !== undefined ? `: ${e.details}` : ''}`;
}

const check = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OvsdbError) throw new Fatal(ovsdbErrorToString(e));
    throw e;
  }
};

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
};

/** ovsdb_io_error() as ovsdb_error_to_string() prints it: "I/O error: NAME: what failed (strerror)". */
function ioError(e: unknown, what: string): Fatal {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return new Fatal(`I/O error: ${what} (${ERRNO_TEXT[code] ?? (e as Error).message})`);
}

/** ovs_dbdir(): $OVS_DBDIR, else $OVS_SYSCONFDIR/openvswitch, else this project's run directory. */
export function dbdir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OVS_DBDIR) return env.OVS_DBDIR;
  if (env.OVS_SYSCONFDIR) return join(env.OVS_SYSCONFDIR, 'openvswitch');
  return rundir(env);
}

const defaultDb = (env: NodeJS.ProcessEnv) => join(dbdir(env), 'conf.db');
/** ovs_pkgdatadir()'s vswitch.ovsschema when $OVS_PKGDATADIR says where; the built-in schema otherwise. */
const defaultSchema = (env: NodeJS.ProcessEnv) => (env.OVS_PKGDATADIR ? join(env.OVS_PKGDATADIR, 'vswitch.ovsschema') : '(built-in vswitch.ovsschema)');

/** ovsdb_schema_from_file(). */
function schemaFromFile(file: string | undefined, env: NodeJS.ProcessEnv): { json: Json; schema: DatabaseSchema } {
  const name = file ?? defaultSchema(env);
  if (!file && !env.OVS_PKGDATADIR) {
    const json = vswitchSchema();
    return { json, schema: parseSchema(json) };
  }
  // ovsdb_schema_from_file(): json_from_file()'s error, wrapped as the real tool words it.
  const unreadable = (why: string) => new Fatal(`failed to read schema: "${name}" could not be read as JSON (${why})`);
  let text: string;
  try {
    text = readFileSync(name, 'utf8');
  } catch (e) {
    throw unreadable(`error opening "${name}": ${ovsStrerror((e as NodeJS.ErrnoException).code ?? 'EIO')}`);
  }
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    throw unreadable((e as Error).message);
  }
  return { json, schema: check(() => parseSchema(json)) };
}

/** ovsdb_log_open()'s check of the magic: which kind of file this is. */
function fileMagic(name: string): string {
  let magic: string | undefined;
  try {
    magic = logMagic(name);
  } catch (e) {
    throw ioError(e, `${name}: open failed`);
  }
  if (magic === '') throw new Fatal(`ovsdb error: ${name}: cannot identify file type`);
  if (magic === undefined) throw new Fatal(`ovsdb error: ${name}: unexpected file format`);
  return magic;
}

/** ovsdb_storage_open_standalone(): refuses a clustered file as the real tool does. */
function requireStandalone(name: string): void {
  if (fileMagic(name) === RAFT_MAGIC) throw new Fatal(`ovsdb error: ${name}: cannot apply this operation to clustered database file`);
}

/** The records of a standalone file (the first is the schema). */
function readStandalone(name: string): Json[] {
  requireStandalone(name);
  const { records, problem } = readRecords(readFileSync(name), name);
  if (!records.length) throw new Fatal(problem ?? `syntax error: ${name}: empty file`);
  return records;
}

function readStandaloneSchema(name: string): DatabaseSchema {
  return check(() => parseSchema(readStandalone(name)[0]));
}

/** ovsdb_file_read(): the database a standalone file's records (schema first) make. */
function replayStandalone(records: Json[]): Database {
  const db = new Database(check(() => parseSchema(records[0])));
  for (const rec of records.slice(1)) check(() => replayRecord(db, rec));
  return db;
}

/** ovsdb_file_read_as_schema(): the file's rows, converted to the new schema (ovsdbConvert()). */
function readAsSchema(records: Json[], newSchema: DatabaseSchema): Database {
  return check(() => ovsdbConvert(replayStandalone(records), newSchema));
}

/** write_standalone_db(): the schema and one record holding every row. */
function writeStandaloneDb(name: string, comment: string, db: Database): void {
  let fd: number;
  try {
    fd = openSync(name, 'w', 0o644);
  } catch (e) {
    throw ioError(e, `${name}: create failed`);
  }
  try {
    writeAll(fd, encodeRecord(db.schema.json));
    writeAll(fd, encodeRecord(snapshotRecord(db, Date.now(), comment)));
  } finally {
    closeSync(fd);
  }
}

/** compact_or_convert(): in place through NAME.tmp and a rename, or to DST. */
function compactOrConvert(src_: string, dst_: string | undefined, newSchema: DatabaseSchema | null, comment: string): void {
  const src = followSymlinks(src_);
  const dst = dst_ === undefined ? `${src}.tmp` : followSymlinks(dst_);
  const records = readStandalone(src);
  const db = newSchema
    ? readAsSchema(records, newSchema)
    : readAsSchema(
        records,
        check(() => parseSchema(records[0])),
      );
  writeStandaloneDb(dst, comment, db);
  if (dst_ === undefined) {
    try {
      renameSync(dst, src);
    } catch (e) {
      throw new Fatal(`failed to rename "${dst}" to "${src}" (${ERRNO_TEXT[(e as NodeJS.ErrnoException).code ?? ''] ?? (e as Error).message})`);
    }
    fsyncDir(src);
  }
}

/** transact(): runs TRNS on the file; "transact" commits it to the file, "query" does not. */
function transact(args: string[], rw: boolean, io: Io, env: NodeJS.ProcessEnv): void {
  const name = args.length >= 2 ? args[0]! : defaultDb(env);
  const text = args[args.length - 1]!;
  requireStandalone(name);
  let request: Json;
  try {
    request = JSON.parse(text) as Json;
  } catch (e) {
    throw new Fatal(`"${text}": ${(e as Error).message}`);
  }
  if (typeof request === 'string') throw new Fatal(`"${text}": ${request}`);
  const file = check(() => DbFile.open(name, { onWarning: (m) => io.err(`ovsdb-tool: ${m}`), lock: rw }));
  try {
    const served = new ServedDatabase(file.db, rw ? file : undefined);
    let results: Json;
    // ovsdb_execute_compose()'s first check: an array whose first element names this database.
    if (!Array.isArray(request)) {
      results = new OvsdbError('syntax error', 'array expected', sortedJson(request)).toJson();
    } else if (request[0] !== file.db.schema.name) {
      results = new OvsdbError('syntax error', 'database name expected as first parameter', sortedJson(request)).toJson();
    } else {
      const outcome = served.transact(request, { triggers: false });
      results = outcome.kind === 'done' ? outcome.results : [];
    }
    io.out(sortedJson(results));
  } finally {
    file.close();
  }
}

/** print_db_changes(), for show-log -m. */
function printDbChanges(rec: JsonObject, names: Map<string, string>, schema: DatabaseSchema | null, verbosity: number, io: Io): string {
  let out = '';
  const diff = rec._is_diff === true;
  let i = 0;
  for (const [table, rows] of Object.entries(rec)) {
    if (table.startsWith('_') || !isObject(rows)) continue;
    if (i++ === 0) out += '\n';
    const ts = schema?.tables.get(table);
    for (const [uuid, columns] of Object.entries(rows)) {
      const oldName = names.get(uuid);
      const newName = isObject(columns) && columns.name !== undefined ? sortedJson(columns.name) : undefined;
      out += `  table ${table}`;
      if (!oldName) out += newName ? ` insert row ${newName} (${uuid.slice(0, 8)}):\n` : ` insert row ${uuid.slice(0, 8)}:\n`;
      else out += ` row ${oldName} (${uuid.slice(0, 8)})${diff ? ' diff' : ''}:\n`;
      if (isObject(columns)) {
        if (verbosity > 1) {
          for (const [column, value] of Object.entries(columns)) {
            const cs = ts?.columns.get(column);
            let s: string | undefined;
            if (cs) {
              try {
                s = datumToString(datumFromJson(cs.type, value, undefined, false), cs.type);
              } catch {
                s = undefined;
              }
            }
            out += `    ${column}=${s ?? sortedJson(value)}\n`;
          }
        }
        if (newName && (!oldName || oldName !== newName)) names.set(uuid, newName);
        else if (!oldName) names.set(uuid, uuid.slice(0, 8));
      } else if (columns === null) {
        out += '    delete row\n';
        names.delete(uuid);
      }
    }
  }
  void io;
  return out;
}

/** xastrftime_msec(" %Y-%m-%d %H:%M:%S.###", t, true): UTC. */
function formatDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return ` ${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/** read_cluster_metadata(): the Raft header of a clustered file. */
function readClusterMetadata(name: string): RaftHeader {
  if (fileMagic(name) !== RAFT_MAGIC) throw new Fatal(`${name}: not a clustered database`);
  return check(() => raftReadMetadata(name));
}

/**
 * ovsdb_schema_persist_ephemeral_columns(): a cluster keeps every column, so
 * the ephemeral ones become persistent, with a warning naming the last one
 * changed in OVS's (shash) order of tables and columns.
 */
function persistEphemeralColumns(schemaJson: JsonObject, schema: DatabaseSchema, file: string, vlog: Vlog): void {
  let n = 0;
  let example: [string, string] | undefined;
  const tables = schemaJson.tables as Record<string, { columns: Record<string, JsonObject> }>;
  for (const t of shashOrder(shashOrder([...schema.tables.keys()]))) {
    const table = schema.tables.get(t)!;
    for (const c of shashOrder(['_uuid', '_version', ...shashOrder(table.userColumns.map((col) => col.name))])) {
      if (c.startsWith('_') || !table.columns.get(c)!.ephemeral) continue;
      delete tables[t]!.columns[c]!.ephemeral;
      example = [t, c];
      n++;
    }
  }
  if (example) {
    vlog.log(
      'WARN',
      'ovsdb',
      `${file}: changed ${n} columns in '${schema.name}' database from ephemeral to persistent, including '${example[1]}' column in '${example[0]}' table, because clusters do not support ephemeral columns`,
    );
  }
}

/** do_create_cluster(): from a schema file (no data) or a standalone database (its rows). */
function createCluster(file: string, src: string, local: string, electionTimer: number, vlog: Vlog, env: NodeJS.ProcessEnv): void {
  let schema: DatabaseSchema;
  let data: JsonObject;
  try {
    schema = schemaFromFile(src, env).schema;
    data = {};
  } catch {
    // Not a schema file: a standalone database, read as ovsdb_file_read() does.
    const db = replayStandalone(readStandalone(src));
    schema = db.schema;
    data = snapshotRecord(db, Date.now(), `created from ${src}`);
  }
  const schemaJson = schemaToJson(schema);
  persistEphemeralColumns(schemaJson, schema, src, vlog);
  check(() => raftCreateCluster(file, schema.name, local, [schemaJson, data], electionTimer, (m, t) => vlog.log('ERR', m, t)));
}

/** do_cluster_standalone(): the clustered file `cluster` written out as the standalone file `out` (created, never overwritten). */
function clusterToStandalone(out: string, cluster: string): void {
  const magic = fileMagic(cluster);
  let fd: number;
  try {
    fd = openSync(followSymlinks(out), 'wx', 0o644);
  } catch (e) {
    throw ioError(e, `${out}: create failed`);
  }
  try {
    // As the real tool, the new file exists (empty) before the source is found not to be clustered.
    if (magic !== RAFT_MAGIC) throw new Fatal('Database is not clustered db.\n');
    const records = check(() => raftToStandaloneRecords(cluster));
    if (records.length > 0) check(() => parseSchema(records[0]));
    for (const r of records) writeAll(fd, encodeRecord(r));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function showLog(name: string, verbosity: number, io: Io): void {
  if (fileMagic(name) === RAFT_MAGIC) throw new Fatal(`ovsdb error: ${name}: clustered database files are not supported`);
  const { records, problem } = readRecords(readFileSync(name), name);
  const names = new Map<string, string>();
  let schema: DatabaseSchema | null = null;
  records.forEach((rec, i) => {
    let text = `record ${i}:`;
    if (i === 0) {
      schema = check(() => parseSchema(rec));
      text += ` "${schema.name}" schema, version="${schema.version}", cksum="${schema.cksum ?? ''}"\n`;
    } else if (isObject(rec)) {
      if (typeof rec._date === 'number') text += formatDate(rec._date < 2 ** 31 - 1 ? rec._date * 1000 : rec._date);
      if (typeof rec._comment === 'string') text += ` "${rec._comment}"`;
      if (verbosity > 0) text += printDbChanges(rec, names, schema, verbosity, io);
    }
    // Every record ends with a newline of its own (putchar('\n')).
    io.out(text);
  });
  if (problem) throw new Fatal(problem);
}

const USAGE = (env: NodeJS.ProcessEnv) => `ovsdb-tool: Open vSwitch database management utility
usage: ovsdb-tool [OPTIONS] COMMAND [ARG...]
  create [DB [SCHEMA]]    create DB with the given SCHEMA
  [--election-timer=ms] create-cluster DB CONTENTS LOCAL
    create clustered DB with given CONTENTS and LOCAL address
  [--cid=UUID] join-cluster DB NAME LOCAL REMOTE...
    join clustered DB with given NAME and LOCAL and REMOTE addrs
  compact [DB [DST]]      compact DB in-place (or to DST)
  convert [DB [SCHEMA [DST]]]   convert DB to SCHEMA (to DST)
  db-name [DB]            report name of schema used by DB
  db-version [DB]         report version of schema used by DB
  db-cksum [DB]           report checksum of schema used by DB
  db-cid DB               report cluster ID of clustered DB
  db-sid DB               report server ID of clustered DB
  db-local-address DB     report local address of clustered DB
  db-is-clustered DB      test whether DB is clustered
  db-is-standalone DB     test whether DB is standalone
  schema-name [SCHEMA]    report SCHEMA's name
  schema-version [SCHEMA] report SCHEMA's schema version
  schema-cksum [SCHEMA]   report SCHEMA's checksum
  needs-conversion [DB [SCHEMA]]  report whether DB needs conversion to SCHEMA
  query [DB] TRNS         execute read-only transaction on DB
  transact [DB] TRNS      execute read/write transaction on DB
  cluster-to-standalone DB DB    Convert clustered DB to
      standalone DB when cluster is down and cannot be
        revived
  [-m]... show-log [DB]   print DB's log entries
The default DB is ${defaultDb(env)}.
The default SCHEMA is ${defaultSchema(env)}.

Clustered database files are made, inspected and converted to standalone
ones; serving them (Raft) and check-cluster are not supported.

Other options:
  -m, --more                  increase show-log verbosity
  --rbac-role=ROLE            RBAC role for transact and query commands
  -v, --verbose[=SPEC]        set logging levels
  -h, --help                  display this help message
  -V, --version               display version information`;

interface Command {
  min: number;
  max: number;
  run: (args: string[]) => void;
}

export async function main(
  argv: string[],
  io: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let verbosity = 0;
  let cid: string | undefined;
  let electionTimer = 0;
  // Console logging as OVS's programs start it (every module at INFO); -v changes it.
  const vlog = new Vlog({
    program: 'ovsdb-tool',
    console: 'INFO',
    modules: ['ovsdb', 'socket_util'],
    stderr: { write: (s) => io.err(s.replace(/\n$/, '')) },
    env,
  });
  const options = [
    { name: 'more', arg: 'no', short: 'm' },
    { name: 'rbac-role', arg: 'required' },
    { name: 'cid', arg: 'required' },
    { name: 'election-timer', arg: 'required' },
    { name: 'verbose', arg: 'optional', short: 'v' },
    { name: 'help', arg: 'no', short: 'h' },
    { name: 'option', arg: 'no', short: 'o' },
    { name: 'version', arg: 'no', short: 'V' },
  ] as const;
  const g = new Getopt(argv, options);
  try {
    for (let o = g.next(); o; o = g.next()) {
      switch (o.option.name) {
        case 'more':
          verbosity++;
          break;
        case 'help':
          io.out(USAGE(env));
          return 0;
        case 'option':
          for (const opt of options) io.out(`--${opt.name}${opt.arg === 'required' ? '=ARG' : opt.arg === 'optional' ? '[=ARG]' : ''}`);
          return 0;
        case 'version':
          io.out(`ovsdb-tool (Open vSwitch) ${OVS_VERSION}`);
          return 0;
        case 'cid':
          if (!isUuid(o.value!) || /^[0-]*$/.test(o.value!)) throw new Fatal(`${o.value}: not a valid UUID`);
          cid = o.value!.toLowerCase();
          break;
        case 'election-timer': {
          // atoll(): the leading digits, 0 when there are none.
          electionTimer = Number.parseInt(o.value!, 10) || 0;
          const error = raftValidateElectionTimer(electionTimer);
          if (error) throw new Fatal(`ovsdb error: ${error}`);
          break;
        }
        case 'verbose':
          vlog.setVerbosity(o.value);
          break;
        default:
          break;
      }
    }
  } catch (e) {
    if (e instanceof GetoptError || e instanceof Fatal || e instanceof OvsError) {
      io.err(`ovsdb-tool: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const [cmd, ...args] = g.operands;
  const db = (i: number) => args[i] ?? defaultDb(env);
  const schemaArg = (i: number) => args[i];
  const commands: Record<string, Command> = {
    create: {
      min: 0,
      max: 2,
      run: () => {
        const { json } = schemaFromFile(schemaArg(1), env);
        const name = db(0);
        const target = followSymlinks(name);
        if (existsSync(name)) throw new Fatal(`I/O error: ${name}: create failed (File exists)`);
        try {
          check(() => DbFile.create(target, json));
        } catch (e) {
          if (e instanceof Fatal) throw e;
          throw ioError(e, `${name}: create failed`);
        }
      },
    },
    compact: { min: 0, max: 2, run: () => compactOrConvert(db(0), args[1], null, `compacted by ovsdb-tool ${OVS_VERSION}`) },
    convert: {
      min: 0,
      max: 3,
      run: () => compactOrConvert(db(0), args[2], schemaFromFile(schemaArg(1), env).schema, `converted by ovsdb-tool ${OVS_VERSION}`),
    },
    'needs-conversion': {
      min: 0,
      max: 2,
      run: () => {
        const a = readStandaloneSchema(db(0));
        const b = schemaFromFile(schemaArg(1), env).schema;
        io.out(schemaEqual(a, b) ? 'no' : 'yes');
      },
    },
    'db-name': {
      min: 0,
      max: 1,
      run: () => io.out(fileMagic(db(0)) === RAFT_MAGIC ? check(() => raftReadMetadata(db(0))).name : readStandaloneSchema(db(0)).name),
    },
    'db-version': { min: 0, max: 1, run: () => io.out(readStandaloneSchema(db(0)).version) },
    'db-cksum': { min: 0, max: 1, run: () => io.out(readStandaloneSchema(db(0)).cksum ?? '') },
    'db-cid': {
      min: 1,
      max: 1,
      run: (a) => {
        const md = readClusterMetadata(a[0]!);
        if (md.cid === undefined) throw new Fatal(`${a[0]}: cluster ID not yet known`, 2, true);
        io.out(md.cid);
      },
    },
    'db-sid': { min: 1, max: 1, run: (a) => io.out(readClusterMetadata(a[0]!).sid) },
    'db-local-address': { min: 1, max: 1, run: (a) => io.out(readClusterMetadata(a[0]!).localAddress) },
    'db-is-clustered': { min: 1, max: 1, run: (a) => void (fileMagic(a[0]!) !== RAFT_MAGIC && exitWith(2)) },
    'db-is-standalone': { min: 1, max: 1, run: (a) => void (fileMagic(a[0]!) !== OVSDB_MAGIC && exitWith(2)) },
    'schema-name': { min: 0, max: 1, run: () => io.out(schemaFromFile(schemaArg(0), env).schema.name) },
    'schema-version': { min: 0, max: 1, run: () => io.out(schemaFromFile(schemaArg(0), env).schema.version) },
    'schema-cksum': { min: 0, max: 1, run: () => io.out(schemaFromFile(schemaArg(0), env).schema.cksum ?? '') },
    query: { min: 1, max: 2, run: (a) => transact(a, false, io, env) },
    transact: { min: 1, max: 2, run: (a) => transact(a, true, io, env) },
    'show-log': { min: 0, max: 1, run: () => showLog(db(0), verbosity, io) },
    'create-cluster': { min: 3, max: 3, run: (a) => createCluster(a[0]!, a[1]!, a[2]!, electionTimer, vlog, env) },
    'join-cluster': {
      min: 4,
      max: Number.POSITIVE_INFINITY,
      run: ([file, name, local, ...remotes]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name!)) {
          throw new Fatal(`${name}: not a valid schema name (use "schema-name" command to find the correct name)`);
        }
        check(() => raftJoinCluster(file!, name!, local!, remotes, cid, (m, t) => vlog.log('ERR', m, t)));
      },
    },
    'cluster-to-standalone': { min: 2, max: 2, run: ([out, cluster]) => clusterToStandalone(out!, cluster!) },
    ...Object.fromEntries(
      ['check-cluster'].map((c) => [
        c,
        {
          min: 0,
          max: Number.POSITIVE_INFINITY,
          run: () => {
            throw new Fatal(`${c}: clustered databases are not supported`);
          },
        },
      ]),
    ),
    'compare-versions': {
      min: 3,
      max: 3,
      run: (a) => {
        const parse = (v: string) => {
          const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
          if (!m) throw new Fatal(`${v}: bad version number format`);
          return [Number(m[1]), Number(m[2]), Number(m[3])];
        };
        const [x, op, y] = a as [string, string, string];
        const va = parse(x);
        const vb = parse(y);
        const cmp = va[0]! - vb[0]! || va[1]! - vb[1]! || va[2]! - vb[2]!;
        const ok: Record<string, boolean> = { '<': cmp < 0, '<=': cmp <= 0, '==': cmp === 0, '>=': cmp >= 0, '>': cmp > 0, '!=': cmp !== 0 };
        if (!(op in ok)) throw new Fatal(`${op}: unknown comparison operator`);
        exitWith(ok[op] ? 0 : 2);
      },
    },
    help: {
      min: 0,
      max: Number.POSITIVE_INFINITY,
      run: () => io.out(USAGE(env)),
    },
    'list-commands': {
      min: 0,
      max: Number.POSITIVE_INFINITY,
      run: () =>
        io.out(
          `The available commands are:\n${Object.keys(commands)
            .map((c) => `  ${c}`)
            .join('\n')}`,
        ),
    },
  };
  try {
    if (cmd === undefined) throw new Fatal('missing command name; use --help for help');
    const c = commands[cmd];
    if (!c) throw new Fatal(`unknown command '${cmd}'; use --help for help`);
    if (args.length < c.min) throw new Fatal(`'${cmd}' command requires at least ${c.min} arguments`);
    if (args.length > c.max) throw new Fatal(`'${cmd}' command takes at most ${c.max} arguments`);
    c.run(args);
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.status;
    if (e instanceof Fatal) {
      io.err(e.bare ? e.message : `ovsdb-tool: ${e.message}`);
      return e.status;
    }
    if (e instanceof OvsdbError) {
      io.err(`ovsdb-tool: ${ovsdbErrorToString(e)}`);
      return 1;
    }
    io.err(`ovsdb-tool: ${(e as Error).message}`);
    return 1;
  }
}

class Exit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

function exitWith(status: number): void {
  if (status) throw new Exit(status);
}
