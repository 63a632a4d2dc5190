/**
 * One ovs-vsctl transaction over the IDL replica, as lib/ovsdb-idl.c's
 * ovsdb_idl_txn: commands read rows *through* it, so a command sees what the
 * commands before it in the same `--` chain wrote (a row added by add-port is
 * there for the `set Interface` that follows). Nothing is sent until
 * commit(), which turns the changes into one "transact":
 *
 * - `verify`ed columns become "wait" operations (until "==" the value read),
 *   so a concurrent change makes the server refuse the transaction and we
 *   retry from a fresh replica (TXN_TRY_AGAIN);
 * - whole-column writes become "update"s, partial ones (`mutateSet`) become
 *   "mutate"s: adding a port sends one UUID, not the bridge's whole port set;
 * - `next_cfg` is incremented (and read back) only when something changed,
 *   as the real IDL does; a transaction with no change is never sent.
 */
import type { Atom, ColumnType, Datum, Idl, IdlRow, Json, JsonObject, TableSchema } from '@ovs/ovsdb';
import { OvsdbError } from '@ovs/ovsdb';
import { datumEquals, datumSubtract, datumUnion, defaultDatum } from '../datum.js';

export interface Row {
  readonly table: TableSchema;
  readonly uuid: string;
}

interface Write {
  datum: Datum;
  /** Elements added/removed since the replica's value, for a "mutate"; absent for a whole-column "update". */
  partial?: { add: Datum; remove: Datum };
}

export type CommitResult =
  | { status: 'success'; uuids: Map<string, string>; nextCfg?: number }
  | { status: 'unchanged' }
  | { status: 'try-again' }
  | { status: 'error'; error: string; logged?: boolean };

export class Txn {
  private readonly inserted = new Map<string, Row>();
  /** Inserted rows whose UUID the server is to keep (ovsdb_idl_txn_insert_persist_uuid(): `create --id=UUID`). */
  private readonly persistUuid = new Set<string>();
  private readonly deleted = new Map<string, Row>();
  private readonly writes = new Map<string, { row: Row; cols: Map<string, Write> }>();
  /** Per row: each verified column's replica value when it was read. */
  private readonly verified = new Map<string, { row: Row; columns: Map<string, Datum> }>();
  private increment?: { row: Row; column: string };
  private readonly comments: string[] = [];

  /** rowsWhere()'s indexes: "table\0column" -> value -> rows. */
  private readonly indexes = new Map<string, Map<Atom, Row[]>>();

  constructor(private readonly idl: Idl) {}

  table(name: string): TableSchema {
    const t = this.idl.schema.tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }

  private base(row: Row): IdlRow | undefined {
    return this.idl.get(row.table.name, row.uuid);
  }

  /** The table's rows as the transaction sees them, in UUID order (deterministic, where OVS uses hash order). */
  rows(table: string): Row[] {
    const out: Row[] = [];
    let it: Iterable<IdlRow> = [];
    try {
      it = this.idl.rows(table);
    } catch {
      // The table is not replicated: it has no rows for us.
    }
    for (const r of it) if (!this.deleted.has(r.uuid)) out.push(r);
    for (const r of this.inserted.values()) if (r.table.name === table) out.push(r);
    return out.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  }

  get(table: string, uuid: string): Row | undefined {
    const ins = this.inserted.get(uuid);
    if (ins) return ins.table.name === table ? ins : undefined;
    if (this.deleted.has(uuid)) return undefined;
    return this.idl.get(table, uuid);
  }

  isInserted(row: Row): boolean {
    return this.inserted.has(row.uuid);
  }

  columnType(row: Row, column: string): ColumnType {
    const c = row.table.columns.get(column);
    if (!c) throw new Error(`no column ${column} in table ${row.table.name}`);
    return c.type;
  }

  read(row: Row, column: string): Datum {
    const w = this.writes.get(row.uuid)?.cols.get(column);
    if (w) return w.datum;
    const b = this.base(row);
    if (b) return b.datum(column);
    return defaultDatum(this.columnType(row, column));
  }

  /**
   * The rows whose (single-valued) `column` is `value`, through an index
   * built on first use and kept up to date by write() and delete() — what
   * looking a record up by name costs, whatever the table's size.
   */
  rowsWhere(table: string, column: string, value: Atom): Row[] {
    const key = `${table}\0${column}`;
    let index = this.indexes.get(key);
    if (!index) {
      index = new Map();
      for (const r of this.rows(table)) {
        const d = this.read(r, column);
        if (d.keys.length === 1) indexAdd(index, d.keys[0]!, r);
      }
      this.indexes.set(key, index);
    }
    return (index.get(value) ?? []).filter((r) => this.get(table, r.uuid) === r || (!this.inserted.has(r.uuid) && this.get(table, r.uuid) !== undefined));
  }

  /** Scalar convenience: the first key, or undefined. */
  scalar(row: Row, column: string): Atom | undefined {
    return this.read(row, column).keys[0];
  }

  /** A new row; with `persist`, the server is asked to give it this very UUID (an "insert" with "uuid"). */
  insert(table: string, uuid: string = crypto.randomUUID(), persist = false): Row {
    const row: Row = { table: this.table(table), uuid };
    this.inserted.set(uuid, row);
    if (persist) this.persistUuid.add(uuid);
    return row;
  }

  delete(row: Row): void {
    this.writes.delete(row.uuid);
    this.persistUuid.delete(row.uuid);
    if (this.inserted.delete(row.uuid)) return;
    this.deleted.set(row.uuid, row);
  }

  write(row: Row, column: string, datum: Datum, partial?: Write['partial']): void {
    const index = this.indexes.get(`${row.table.name}\0${column}`);
    if (index) {
      const old = this.read(row, column);
      if (old.keys.length === 1) indexDel(index, old.keys[0]!, row);
    }
    let w = this.writes.get(row.uuid);
    if (!w) this.writes.set(row.uuid, (w = { row, cols: new Map() }));
    w.cols.set(column, partial ? { datum, partial } : { datum });
    if (index) {
      const now = this.read(row, column);
      if (now.keys.length === 1) indexAdd(index, now.keys[0]!, row);
    }
  }

  /** Adds and removes elements of a set or map column with a "mutate" (the real IDL's write_partial_set/map). */
  mutateSet(row: Row, column: string, add: Datum, remove: Datum): void {
    const t = this.columnType(row, column);
    const map = t.value !== undefined;
    const cur = this.read(row, column);
    const next = datumUnion(datumSubtract(cur, remove), add, map);
    const prev = this.writes.get(row.uuid)?.cols.get(column);
    if (this.inserted.has(row.uuid) || (prev && !prev.partial)) {
      this.write(row, column, next);
      return;
    }
    const p = prev?.partial ?? { add: { keys: [] }, remove: { keys: [] } };
    // Net effect against the replica's value: what to delete first, then insert.
    const partial = {
      remove: datumUnion(p.remove, remove, false),
      add: datumUnion(datumSubtract(p.add, remove), add, map),
    };
    this.write(row, column, next, partial);
  }

  verify(row: Row, column: string): void {
    if (this.inserted.has(row.uuid)) return;
    let v = this.verified.get(row.uuid);
    if (!v) this.verified.set(row.uuid, (v = { row, columns: new Map() }));
    const b = this.base(row);
    if (b && !v.columns.has(column)) v.columns.set(column, b.datum(column));
  }

  incrementOnCommit(row: Row, column: string): void {
    this.increment = { row, column };
  }

  comment(text: string): void {
    this.comments.push(text);
  }

  private hasChanges(): boolean {
    if (this.inserted.size || this.deleted.size) return true;
    for (const { row, cols } of this.writes.values()) {
      const b = this.base(row);
      for (const [c, w] of cols) if (!b || !datumEquals(b.datum(c), w.datum)) return true;
    }
    return false;
  }

  private readonly encodeAtom = (a: Atom, type: string): Json => {
    if (type !== 'uuid') return a;
    const u = a as string;
    return this.inserted.has(u) && !this.persistUuid.has(u) ? ['named-uuid', namedUuid(u)] : ['uuid', u];
  };

  private datumJson(d: Datum, t: ColumnType, forceSet = false): Json {
    const k = (a: Atom) => this.encodeAtom(a, t.key.type);
    if (t.value) {
      const v = (a: Atom) => this.encodeAtom(a, t.value!.type);
      return ['map', d.keys.map((key, i) => [k(key), v(d.values![i]!)])];
    }
    if (d.keys.length === 1 && !forceSet) return k(d.keys[0]!);
    return ['set', d.keys.map(k)];
  }

  private rowJson(row: Row, cols: Map<string, Write>, onlyChanged: boolean): JsonObject {
    const o: JsonObject = {};
    const b = this.base(row);
    for (const [c, w] of cols) {
      if (w.partial) continue;
      if (onlyChanged && b && datumEquals(b.datum(c), w.datum)) continue;
      o[c] = this.datumJson(w.datum, this.columnType(row, c));
    }
    return o;
  }

  /** The "transact" operations, or null when nothing would change. */
  operations(): Json[] | null {
    if (!this.hasChanges()) return null;
    const ops: Json[] = [];
    const where = (uuid: string): Json => [['_uuid', '==', ['uuid', uuid]]];
    for (const { row, columns } of this.verified.values()) {
      if (!columns.size || this.deleted.has(row.uuid)) continue;
      const values: JsonObject = {};
      for (const [c, d] of columns) values[c] = this.datumJson(d, this.columnType(row, c));
      ops.push({ op: 'wait', timeout: 0, table: row.table.name, where: where(row.uuid), columns: [...columns.keys()], until: '==', rows: [values] });
    }
    for (const row of this.inserted.values()) {
      const cols = this.writes.get(row.uuid)?.cols ?? new Map<string, Write>();
      const id: JsonObject = this.persistUuid.has(row.uuid) ? { uuid: row.uuid } : { 'uuid-name': namedUuid(row.uuid) };
      ops.push({ op: 'insert', table: row.table.name, ...id, row: this.rowJson(row, cols, false) });
    }
    for (const [uuid, { row, cols }] of this.writes) {
      if (this.inserted.has(uuid)) continue;
      const update = this.rowJson(row, cols, true);
      if (Object.keys(update).length) ops.push({ op: 'update', table: row.table.name, where: where(uuid), row: update });
      const mutations: Json[] = [];
      for (const [c, w] of cols) {
        if (!w.partial) continue;
        const t = this.columnType(row, c);
        const keysOnly: ColumnType = { key: t.key, min: 0, max: Infinity };
        if (w.partial.remove.keys.length) mutations.push([c, 'delete', this.datumJson(w.partial.remove, keysOnly, true)]);
        if (w.partial.add.keys.length) mutations.push([c, 'insert', this.datumJson(w.partial.add, { ...t, min: 0, max: Infinity }, true)]);
      }
      if (mutations.length) ops.push({ op: 'mutate', table: row.table.name, where: where(uuid), mutations });
    }
    for (const [uuid, row] of this.deleted) ops.push({ op: 'delete', table: row.table.name, where: where(uuid) });
    if (this.increment) {
      const { row, column } = this.increment;
      const w: Json = this.inserted.has(row.uuid) && !this.persistUuid.has(row.uuid) ? [['_uuid', '==', ['named-uuid', namedUuid(row.uuid)]]] : where(row.uuid);
      ops.push({ op: 'mutate', table: row.table.name, where: w, mutations: [[column, '+=', 1]] });
      ops.push({ op: 'select', table: row.table.name, where: w, columns: [column] });
    }
    for (const c of this.comments) ops.push({ op: 'comment', comment: c });
    return ops;
  }

  async commit(): Promise<CommitResult> {
    const ops = this.operations();
    if (!ops) return { status: 'unchanged' };
    let results: Json[];
    try {
      results = await this.idl.client.transact(this.idl.schema.name, ...ops);
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'ConnectionClosedError') return { status: 'try-again' };
      if (name === 'RpcError') return { status: 'error', error: sortedJsonText((e as { error: Json }).error) };
      throw e;
    }
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as JsonObject | null;
      if (r && typeof r.error === 'string') {
        const isWait = (ops[i] as JsonObject | undefined)?.op === 'wait';
        if (isWait && r.error === 'timed out') return { status: 'try-again' };
        return { status: 'error', error: sortedJsonText(OvsdbError.fromJson(r).toJson()), logged: r.error !== 'not allowed' && r.error !== 'aborted' };
      }
    }
    const uuids = new Map<string, string>();
    const byName = new Map([...this.inserted.keys()].map((k) => [namedUuid(k), k]));
    ops.forEach((op, i) => {
      const o = op as JsonObject;
      if (o.op !== 'insert') return;
      const u = (results[i] as JsonObject | undefined)?.uuid;
      const placeholder = typeof o.uuid === 'string' ? o.uuid : byName.get(o['uuid-name'] as string);
      if (placeholder && Array.isArray(u)) uuids.set(placeholder, u[1] as string);
    });
    let nextCfg: number | undefined;
    if (this.increment) {
      const sel = results[results.length - 1 - this.comments.length] as JsonObject | undefined;
      const rows = sel?.rows as JsonObject[] | undefined;
      const v = rows?.[0]?.[this.increment.column];
      if (typeof v === 'number') nextCfg = v;
    }
    return { status: 'success', uuids, nextCfg };
  }
}

function namedUuid(u: string): string {
  return `row${u.replace(/-/g, '_')}`;
}

/** json_to_string(..., JSSF_SORT): object keys sorted, as ovs-vsctl prints a transaction error. */
export function sortedJsonText(j: Json): string {
  if (Array.isArray(j)) return `[${j.map(sortedJsonText).join(',')}]`;
  if (j && typeof j === 'object') {
    const o = j as JsonObject;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJsonText(o[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(j);
}

function indexAdd(index: Map<Atom, Row[]>, key: Atom, row: Row): void {
  const list = index.get(key);
  if (list) list.push(row);
  else index.set(key, [row]);
}

function indexDel(index: Map<Atom, Row[]>, key: Atom, row: Row): void {
  const list = index.get(key);
  if (!list) return;
  const i = list.indexOf(row);
  if (i >= 0) list.splice(i, 1);
}
