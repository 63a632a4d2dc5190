/**
 * The "transact" method (RFC 7047 §4.1.3, §5.2): runs the operations in order
 * on one transaction; the first error stops it, and nothing of it is
 * committed. The results array is shaped like ovsdb-server's: one entry per
 * operation (null after an error), plus one more for a commit-time error.
 */
import { type Condition, evaluate, parseCondition, pinnedUuid } from './condition.js';
import { type Datum, type SymbolTable, checkDatum, datumEquals, datumFromJson, datumToJson } from './datum.js';
import { type Database, type Table, type Transaction, datumCompare3way, newRowFields } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isObject, isUuid, sortedJson } from './json.js';
import { OpParser } from './parser.js';
import { applyMutation, parseMutation } from './mutation.js';
import type { ColumnSchema, TableSchema } from './schema.js';

/** What the session running the transaction offers (locks for "assert"). */
export interface ExecContext {
  ownsLock?(name: string): boolean;
  /** How long this transaction has been waiting on a "wait" operation. */
  elapsedMs?: number;
  /**
   * false where nothing can retry a blocked "wait" (ovsdb-tool): its "not supported" error is
   * the operation's result, as ovsdb_execute() without a timeout pointer leaves it.
   */
  triggers?: boolean;
  /** A read-only session (a remote with read_only set): no insert, update, mutate or delete. */
  readOnly?: boolean;
  /**
   * A relay's copy (db->is_relay): a transaction that would write, once it runs here without
   * error, is not committed here but forwarded to the relay's source (ovsdb_execute_compose()'s
   * forwarding_needed).
   */
  forward?: boolean;
}

export type ExecOutcome =
  | { kind: 'done'; results: Json[]; txn: Transaction | null; durable: boolean }
  /** An unsatisfied "wait" with time left: retry after the next commit or at `timeoutMs`. */
  | { kind: 'blocked'; timeoutMs: number }
  /** A relay's transaction that writes: the source is to run it (ExecContext.forward). */
  | { kind: 'forward' };

/**
 * lookup_executor()'s read-only operations: the ones a relay runs itself and a read-only server
 * allows; the others write (and "commit" counts as writing).
 */
const READ_ONLY_OPS = new Set(['select', 'wait', 'abort', 'comment', 'assert']);

interface Exec {
  db: Database;
  txn: Transaction;
  symtab: SymbolTable;
  ctx: ExecContext;
  durable: boolean;
  /** The smallest timeout of a failed wait that may still succeed later. */
  blockedFor: number | null;
}

function table(x: Exec, p: OpParser, member = 'table'): Table | undefined {
  const name = p.member(member, ['id']);
  if (typeof name !== 'string') return undefined;
  const t = x.db.table(name);
  if (!t) p.raise(`No table named ${name}.`);
  return t;
}

function fail(p: OpParser): never {
  throw p.error!;
}

/** parse_row: a <row> object into column datums (constraints checked). */
function parseRow(ts: TableSchema, j: unknown, symtab: SymbolTable): Map<ColumnSchema, Datum> {
  if (!isObject(j)) throw syntaxError(j, null, 'row must be JSON object');
  const out = new Map<ColumnSchema, Datum>();
  for (const [name, v] of Object.entries(j)) {
    const column = ts.columns.get(name);
    if (!column) throw syntaxError(j, 'unknown column', `No column ${name} in table ${ts.name}.`);
    out.set(column, datumFromJson(column.type, v, symtab));
  }
  return out;
}

function parseColumns(ts: TableSchema, j: Json | undefined): ColumnSchema[] {
  if (j === undefined) return [...ts.columns.values()];
  const bad = () => syntaxError(j, null, 'array of distinct column names expected');
  if (!Array.isArray(j)) throw bad();
  const out: ColumnSchema[] = [];
  for (const name of j) {
    if (typeof name !== 'string') throw bad();
    const c = ts.columns.get(name);
    if (!c) throw syntaxError(j, null, `${name} is not a valid column name`);
    if (out.includes(c)) throw bad();
    out.push(c);
  }
  return out;
}

/** The rows of `t` matching `cond`, as this transaction sees them. */
function query(x: Exec, t: Table, cond: Condition): [string, Readonly<Record<string, Datum>>][] {
  const get = (uuid: string, fields: Readonly<Record<string, Datum>>) => (c: string) =>
    c === '_uuid' ? { keys: [uuid] } : c === '_version' ? { keys: [x.txn.version(t, uuid)] } : fields[c]!;
  const pinned = pinnedUuid(cond);
  if (pinned !== undefined) {
    const fields = x.txn.get(t, pinned);
    return fields && evaluate(cond, get(pinned, fields)) ? [[pinned, fields]] : [];
  }
  const out: [string, Readonly<Record<string, Datum>>][] = [];
  for (const [uuid, fields] of x.txn.scan(t)) if (evaluate(cond, get(uuid, fields))) out.push([uuid, fields]);
  return out;
}

function rowToJson(x: Exec, t: Table, uuid: string, fields: Readonly<Record<string, Datum>>, columns: ColumnSchema[]): JsonObject {
  const o: JsonObject = {};
  for (const c of columns) {
    const d = c.name === '_uuid' ? { keys: [uuid] } : c.name === '_version' ? { keys: [x.txn.version(t, uuid)] } : fields[c.name]!;
    o[c.name] = datumToJson(d, c.type);
  }
  return o;
}

function opInsert(x: Exec, p: OpParser): JsonObject {
  const t = table(x, p);
  const uuidJson = p.member('uuid', ['string'], true);
  const uuidName = p.member('uuid-name', ['id'], true);
  const rowJson = p.member('row', ['object']);
  if (p.error || !t) fail(p);
  let uuid: string | undefined;
  if (uuidJson !== undefined) {
    if (!isUuid(uuidJson)) throw syntaxError(uuidJson, null, 'bad uuid');
    uuid = (uuidJson as string).toLowerCase();
    if (!x.txn.mayCreate(t, uuid)) {
      throw syntaxError(
        uuidJson,
        'duplicate uuid',
        'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.',
      );
    }
  }
  if (uuidName !== undefined) {
    const name = uuidName as string;
    let sym = x.symtab.get(name);
    if (sym?.created) throw syntaxError(uuidName, 'duplicate uuid-name', 'This "uuid-name" appeared on an earlier "insert" operation.');
    if (!sym) x.symtab.set(name, (sym = { uuid: uuid ?? crypto.randomUUID(), created: false, strongRef: false, weakRef: false }));
    else if (uuid) sym.uuid = uuid;
    uuid = sym.uuid;
    sym.created = true;
  }
  uuid ??= crypto.randomUUID();
  const values = parseRow(t.schema, rowJson, x.symtab);
  const fields = newRowFields(t.schema);
  for (const [c, d] of values) if (c.name !== '_uuid' && c.name !== '_version') fields[c.name] = d;
  // A default value may itself violate a constraint (an enum without "").
  for (const c of t.schema.userColumns) {
    const d = fields[c.name]!;
    if (d.keys.length === 1 && !values.has(c)) {
      const e = checkDatum(d, c.type);
      if (e) throw e;
    }
  }
  if (!x.txn.mayCreate(t, uuid)) {
    throw syntaxError(
      uuidName ?? uuid,
      'duplicate uuid',
      'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.',
    );
  }
  x.txn.insert(t, uuid, fields);
  return { uuid: ['uuid', uuid] };
}

function opSelect(x: Exec, p: OpParser): JsonObject {
  const t = table(x, p);
  const where = p.member('where', ['array']);
  const columnsJson = p.member('columns', ['array'], true);
  // "sort", an OVS extension of RFC 7047: the rows ordered by these columns (ovsdb_row_set_sort()).
  const sortJson = p.member('sort', ['array'], true);
  if (p.error || !t) fail(p);
  const cond = parseCondition(t.schema, where, x.symtab);
  const columns = parseColumns(t.schema, columnsJson);
  const sort = sortJson === undefined ? [] : parseColumns(t.schema, sortJson);
  // Distinct rows: a select that names columns returns each distinct combination once.
  const seen = new Set<string>();
  const rows: { uuid: string; fields: Readonly<Record<string, Datum>>; json: JsonObject }[] = [];
  for (const [uuid, fields] of query(x, t, cond)) {
    const json = rowToJson(x, t, uuid, fields, columns);
    const key = sortedJson(json);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ uuid, fields, json });
  }
  if (sort.length) {
    const value = (r: (typeof rows)[number], c: ColumnSchema): Datum =>
      c.name === '_uuid' ? { keys: [r.uuid] } : c.name === '_version' ? { keys: [x.txn.version(t, r.uuid)] } : r.fields[c.name]!;
    rows.sort((a, b) => {
      for (const c of sort) {
        const d = datumCompare3way(value(a, c), value(b, c));
        if (d) return d;
      }
      return 0;
    });
  }
  return { rows: rows.map((r) => r.json) };
}

function opUpdate(x: Exec, p: OpParser): JsonObject {
  const t = table(x, p);
  const where = p.member('where', ['array']);
  const rowJson = p.member('row', ['object']);
  if (p.error || !t) fail(p);
  const values = parseRow(t.schema, rowJson, x.symtab);
  for (const c of values.keys()) {
    if (!c.mutable) throw syntaxError(p.obj, 'constraint violation', `Cannot update immutable column ${c.name} in table ${t.schema.name}.`);
  }
  const cond = parseCondition(t.schema, where, x.symtab);
  const rows = query(x, t, cond);
  for (const [uuid, fields] of rows) {
    let differs = false;
    for (const [c, d] of values) if (!datumEquals(fields[c.name]!, d)) differs = true;
    if (!differs) continue;
    const w = x.txn.modify(t, uuid);
    for (const [c, d] of values) w[c.name] = d;
  }
  return { count: rows.length };
}

function opMutate(x: Exec, p: OpParser): JsonObject {
  const t = table(x, p);
  const where = p.member('where', ['array']);
  const mutationsJson = p.member('mutations', ['array']);
  if (p.error || !t) fail(p);
  const mutations = (mutationsJson as Json[]).map((m) => parseMutation(t.schema, m, x.symtab));
  const cond = parseCondition(t.schema, where, x.symtab);
  const rows = query(x, t, cond);
  for (const [uuid] of rows) {
    const w = x.txn.modify(t, uuid);
    for (const m of mutations) w[m.column.name] = applyMutation(m, w[m.column.name]!);
  }
  return { count: rows.length };
}

function opDelete(x: Exec, p: OpParser): JsonObject {
  const where = p.member('where', ['array']);
  const t = table(x, p);
  if (p.error || !t) fail(p);
  const rows = query(x, t, parseCondition(t.schema, where, x.symtab));
  for (const [uuid] of rows) x.txn.delete(t, uuid);
  return { count: rows.length };
}

function opWait(x: Exec, p: OpParser): JsonObject {
  const timeout = p.member('timeout', ['integer'], true);
  const where = p.member('where', ['array']);
  const columnsJson = p.member('columns', ['array'], true);
  const until = p.member('until', ['string']);
  const rowsJson = p.member('rows', ['array']);
  const t = table(x, p);
  if (p.error || !t) fail(p);
  const cond = parseCondition(t.schema, where, x.symtab);
  const columns = parseColumns(t.schema, columnsJson);
  const timeoutMs = timeout === undefined ? Infinity : (timeout as number);
  if (timeoutMs < 0) throw syntaxError(timeout, null, 'timeout must be nonnegative');
  if (until !== '==' && until !== '!=') throw syntaxError(until, null, '"until" must be "==" or "!="');
  // Rows compared on the named columns only, as sets of distinct rows.
  const key = (get: (c: ColumnSchema) => Datum) => JSON.stringify(columns.map((c) => get(c)));
  const expected = new Set<string>();
  for (const r of rowsJson as Json[]) {
    const values = parseRow(t.schema, r, x.symtab);
    const full = newRowFields(t.schema);
    expected.add(key((c) => values.get(c) ?? (c.name === '_uuid' || c.name === '_version' ? { keys: [] } : full[c.name]!)));
  }
  const actual = new Set<string>();
  let equal = true;
  for (const [uuid, fields] of query(x, t, cond)) {
    const k = key((c) => (c.name === '_uuid' ? { keys: [uuid] } : c.name === '_version' ? { keys: [x.txn.version(t, uuid)] } : fields[c.name]!));
    if (!expected.has(k)) {
      equal = false;
      break;
    }
    actual.add(k);
  }
  if (equal) equal = actual.size === expected.size;
  if ((until === '==') !== equal) {
    const elapsed = x.ctx.elapsedMs ?? 0;
    if (timeout !== undefined && elapsed >= timeoutMs) {
      throw new OvsdbError('timed out', elapsed ? `"wait" timed out after ${elapsed} ms` : '"where" clause test failed');
    }
    x.blockedFor = Math.min(x.blockedFor ?? Infinity, timeoutMs);
    throw new OvsdbError('not supported', 'triggers not supported');
  }
  return {};
}

function opCommit(x: Exec, p: OpParser): JsonObject {
  const durable = p.member('durable', ['boolean']);
  if (durable === true) x.durable = true;
  return {};
}

function opAbort(): JsonObject {
  throw new OvsdbError('aborted', 'aborted by request');
}

function opComment(x: Exec, p: OpParser): JsonObject {
  const c = p.member('comment', ['string']);
  if (typeof c === 'string') x.txn.comments.push(c);
  return {};
}

function opAssert(x: Exec, p: OpParser): JsonObject {
  const lock = p.member('lock', ['id']);
  if (typeof lock !== 'string') return {};
  if (x.ctx.ownsLock?.(lock)) return {};
  throw new OvsdbError('not owner', `Asserted lock ${lock} not held.`);
}

const EXECUTORS: Record<string, (x: Exec, p: OpParser) => JsonObject> = {
  insert: opInsert,
  select: opSelect,
  update: opUpdate,
  mutate: opMutate,
  delete: opDelete,
  wait: opWait,
  commit: opCommit,
  abort: opAbort,
  comment: opComment,
  assert: opAssert,
};

/** Runs the operations of a transact request whose params[0] names `db`. */
export function execute(db: Database, params: readonly unknown[], ctx: ExecContext = {}): ExecOutcome {
  const x: Exec = { db, txn: db.begin(), symtab: new Map(), ctx, durable: false, blockedFor: null };
  const n = params.length - 1;
  const results: Json[] = [];
  let error: OvsdbError | null = null;
  let forwardingNeeded = false;
  for (let i = 1; i <= n; i++) {
    const p = new OpParser(params[i], `ovsdb operation ${i} of ${n}`);
    let result: JsonObject | null = null;
    const op = p.member('op', ['id']);
    try {
      if (typeof op === 'string') {
        const ex = EXECUTORS[op];
        if (ex) result = ex(x, p);
        else p.raise(`No operation "${op}"`);
      }
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      error = e;
    }
    const parseError = p.finish();
    if (parseError) error = parseError;
    // ovsdb_execute_compose(): an operation that writes, run without error, is refused afterwards
    // on a read-only session and in a reserved ("_") database (nothing of the transaction is kept).
    if (!error && typeof op === 'string' && !READ_ONLY_OPS.has(op)) {
      if (ctx.readOnly) error = new OvsdbError('not allowed', `${op} operation not allowed when database server is in read only mode`);
      else if (db.schema.name.startsWith('_')) {
        error = new OvsdbError('not allowed', `${op} operation not allowed on table in reserved database ${db.schema.name}`);
      }
    }
    if (error) {
      if (error.tag === 'not supported' && x.blockedFor !== null && ctx.triggers !== false) return { kind: 'blocked', timeoutMs: x.blockedFor };
      results.push(error.toJson());
      break;
    }
    if (ctx.forward && !READ_ONLY_OPS.has(op as string)) forwardingNeeded = true;
    results.push(result ?? {});
  }
  while (results.length < n) results.push(null);
  if (error) return { kind: 'done', results, txn: null, durable: false };
  // Commit-time checks are the source's, on its copy.
  if (forwardingNeeded) return { kind: 'forward' };
  const commitError = x.txn.precommit();
  if (commitError) {
    results.push(commitError.toJson());
    return { kind: 'done', results, txn: null, durable: false };
  }
  return { kind: 'done', results, txn: x.txn, durable: x.durable };
}
