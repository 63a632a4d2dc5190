/**
 * The row store and its transactions, with ovsdb-server's commit-time checks
 * (ovsdb/transaction.c: ovsdb_txn_precommit): strong reference counts and
 * referential integrity, garbage collection of unreferenced rows of non-root
 * tables, maxRows, removal of dangling weak references, index uniqueness.
 *
 * Every check looks only at the rows the transaction touched (and the rows
 * those reference), so a commit costs what it changes, not what the database
 * holds: reference counts, indexes and the weak-reference reverse index are
 * kept up to date incrementally.
 */
import { type Atom, type Datum, compareAtoms, datumEquals, datumToString, defaultDatum, filterWeakRefs, forEachRef } from './datum.js';
import { shashOrder } from '@ovs/util';
import { OvsdbError, constraintViolation } from './errors.js';
import { ZERO_UUID } from './json.js';
import type { ColumnSchema, DatabaseSchema, TableSchema } from './schema.js';

/** A committed row. Never mutated after commit: a change makes a new Row. */
export interface Row {
  readonly uuid: string;
  readonly version: string;
  readonly fields: Readonly<Record<string, Datum>>;
}

export class Table {
  readonly rows = new Map<string, Row>();
  /** Strong references to each row from other rows (absent: none). */
  readonly refs = new Map<string, number>();
  /** Per schema index: key (the index columns' values) → row UUID. */
  readonly indexes: Map<string, string>[];
  /** Columns holding strong or weak references, the only ones ref counting looks at. */
  readonly refColumns: ColumnSchema[];
  readonly weakColumns: ColumnSchema[];

  constructor(readonly schema: TableSchema) {
    this.indexes = schema.indexes.map(() => new Map());
    this.refColumns = schema.userColumns.filter((c) => c.type.key.refTable || c.type.value?.refTable);
    this.weakColumns = this.refColumns.filter((c) => c.type.key.refType === 'weak' || c.type.value?.refType === 'weak');
  }

  indexKey(fields: Readonly<Record<string, Datum>>, i: number, uuid: string): string {
    return this.schema.indexes[i]!.map((c) => JSON.stringify(c === '_uuid' ? { keys: [uuid] } : fields[c])).join('\u0000');
  }
}

/** One row's change within a transaction. */
export interface TxnRow {
  readonly table: Table;
  readonly uuid: string;
  readonly old: Row | null;
  /** The row after the transaction; null when deleted. */
  fields: Record<string, Datum> | null;
  /** `fields` is still `old.fields`, shared: copy before writing. */
  shared: boolean;
  /** Strong references to this row once the transaction commits. */
  nRefs: number;
  /** Set by precommit: the columns that differ from `old`. */
  changed: Set<string>;
  /** An inserted row's _version, given at insertion (ovsdb_execute_insert()) and kept at commit. */
  version?: string;
}

/** A committed change to one row, as monitors and the log see it. */
export interface RowChange {
  readonly table: string;
  readonly uuid: string;
  readonly old: Row | null;
  readonly new: Row | null;
  /** Columns that differ (every column for inserts and deletes). */
  readonly changed: ReadonlySet<string>;
}

export interface ChangeSet {
  readonly id: string;
  readonly changes: RowChange[];
  readonly comment?: string;
  /** The atoms of the changed rows, before and after (count_atoms()'s txn->n_atoms), as committed. */
  readonly nAtoms?: number;
}

/**
 * A row's atoms as count_atoms() counts them: each column's elements, a map's twice (keys and
 * values), and one each for _uuid and _version.
 */
function rowAtoms(schema: TableSchema, fields: Readonly<Record<string, Datum>>): number {
  let n = 2;
  for (const c of schema.userColumns) n += (fields[c.name]?.keys.length ?? 0) * (c.type.value ? 2 : 1);
  return n;
}

const weakKey = (table: string, uuid: string) => `${table}\u0000${uuid}`;

/**
 * The order SHASH_FOR_EACH visits a table's columns in ovsdb-server: _uuid and _version
 * added first, then the schema's columns in the order its JSON object iterates.
 */
const columnOrders = new WeakMap<Table, string[]>();
function columnOrder(table: Table): string[] {
  let order = columnOrders.get(table);
  if (!order) {
    order = shashOrder(['_uuid', '_version', ...shashOrder(table.schema.userColumns.map((c) => c.name))]);
    columnOrders.set(table, order);
  }
  return order;
}

/** ovsdb_datum_compare_3way(): fewer elements first, then element by element (keys, then values). */
export function datumCompare3way(a: Datum, b: Datum): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = compareAtoms(a.keys[i]!, b.keys[i]!);
    if (c) return c;
  }
  for (let i = 0; a.values && b.values && i < a.values.length; i++) {
    const c = compareAtoms(a.values[i]!, b.values[i]!);
    if (c) return c;
  }
  return 0;
}

export class Database {
  readonly tables = new Map<string, Table>();
  /** Weak references, reversed: target "table\0uuid" → the "table\0uuid" of rows referring to it. */
  readonly weakReferrers = new Map<string, Set<string>>();
  /** The atoms of every row (ovsdb's n_atoms, kept up to date by each commit), for memory/show. */
  nAtoms = 0;

  constructor(readonly schema: DatabaseSchema) {
    for (const ts of schema.tables.values()) this.tables.set(ts.name, new Table(ts));
  }

  table(name: string): Table | undefined {
    return this.tables.get(name);
  }

  /** A column of a committed row, `_uuid`/`_version` included. */
  static field(row: { uuid: string; version?: string; fields: Readonly<Record<string, Datum>> }, column: string): Datum {
    if (column === '_uuid') return { keys: [row.uuid] };
    if (column === '_version') return { keys: [row.version ?? ZERO_UUID] };
    return row.fields[column]!;
  }

  rowCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.rows.size;
    return n;
  }

  begin(): Transaction {
    return new Transaction(this);
  }
}

export class Transaction {
  private readonly txnRows = new Map<Table, Map<string, TxnRow>>();
  readonly comments: string[] = [];

  constructor(readonly db: Database) {}

  private find(table: Table, uuid: string): TxnRow | undefined {
    return this.txnRows.get(table)?.get(uuid);
  }

  private add(tr: TxnRow): TxnRow {
    let m = this.txnRows.get(tr.table);
    if (!m) this.txnRows.set(tr.table, (m = new Map()));
    m.set(tr.uuid, tr);
    return tr;
  }

  /** The row's fields as this transaction sees them, or null if absent. */
  get(table: Table, uuid: string): Readonly<Record<string, Datum>> | null {
    const tr = this.find(table, uuid);
    if (tr) return tr.fields;
    return table.rows.get(uuid)?.fields ?? null;
  }

  /** Version of a row as seen by this transaction (its old version if modified). */
  version(table: Table, uuid: string): string {
    const tr = this.find(table, uuid);
    if (tr && !tr.old && tr.version) return tr.version;
    return table.rows.get(uuid)?.version ?? ZERO_UUID;
  }

  /** Every row of a table as this transaction sees it. */
  *scan(table: Table): Generator<[string, Readonly<Record<string, Datum>>]> {
    const mine = this.txnRows.get(table);
    for (const [uuid, row] of table.rows) {
      const tr = mine?.get(uuid);
      if (!tr) yield [uuid, row.fields];
      else if (tr.fields) yield [uuid, tr.fields];
    }
    if (mine) for (const tr of mine.values()) if (!tr.old && tr.fields) yield [tr.uuid, tr.fields];
  }

  /** Whether an insert may use this UUID (not in the table, not deleted by this transaction). */
  mayCreate(table: Table, uuid: string): boolean {
    return !table.rows.has(uuid) && !this.find(table, uuid);
  }

  insert(table: Table, uuid: string, fields: Record<string, Datum>): void {
    this.add({ table, uuid, old: null, fields, shared: false, nRefs: 0, changed: new Set(), version: crypto.randomUUID() });
  }

  /** The writable fields of an existing row (made part of the transaction). */
  modify(table: Table, uuid: string): Record<string, Datum> {
    const tr = this.touch(table, uuid);
    if (!tr?.fields) throw new Error(`modify of absent row ${uuid}`);
    if (tr.shared) {
      tr.fields = { ...tr.fields };
      tr.shared = false;
    }
    return tr.fields;
  }

  delete(table: Table, uuid: string): void {
    const tr = this.touch(table, uuid);
    if (tr) tr.fields = null;
  }

  /** find_or_make_txn_row: brings an existing row into the transaction, unchanged. */
  private touch(table: Table, uuid: string): TxnRow | undefined {
    const tr = this.find(table, uuid);
    if (tr) return tr;
    const row = table.rows.get(uuid);
    if (!row) return undefined;
    return this.add({
      table,
      uuid,
      old: row,
      fields: row.fields as Record<string, Datum>,
      shared: true,
      nRefs: table.refs.get(uuid) ?? 0,
      changed: new Set(),
    });
  }

  private *all(): Generator<TxnRow> {
    for (const m of this.txnRows.values()) yield* [...m.values()];
  }

  /** Runs the commit-time checks; on success the transaction may be committed. */
  precommit(): OvsdbError | null {
    // determine_changes: drop modifications that changed nothing.
    for (const tr of this.all()) {
      if (!tr.old && !tr.fields) {
        // Inserted and deleted again: as if never inserted.
        this.txnRows.get(tr.table)!.delete(tr.uuid);
      } else if (tr.old && tr.fields) {
        for (const c of tr.table.schema.userColumns) {
          if (!datumEquals(tr.old.fields[c.name]!, tr.fields[c.name]!)) tr.changed.add(c.name);
        }
        if (!tr.changed.size) this.txnRows.get(tr.table)!.delete(tr.uuid);
      } else {
        for (const c of tr.table.schema.userColumns) tr.changed.add(c.name);
      }
    }
    try {
      this.updateRefCounts();
      this.collectGarbage();
      this.checkMaxRows();
      this.assessWeakRefs();
      this.checkIndexes();
    } catch (e) {
      if (e instanceof OvsdbError) return e;
      throw e;
    }
    return null;
  }

  private adjustRefs(tr: TxnRow, column: ColumnSchema, d: Datum, delta: number): void {
    forEachRef(d, column.type, (tableName, uuid, weak) => {
      if (weak || uuid === tr.uuid) return; // weak refs and self-references are not counted
      const table = this.db.tables.get(tableName)!;
      const target = this.touch(table, uuid);
      if (!target) {
        throw new OvsdbError(
          'referential integrity violation',
          `Table ${tr.table.schema.name} column ${column.name} row ${tr.uuid} references nonexistent row ${uuid} in table ${tableName}.`,
        );
      }
      target.nRefs += delta;
    });
  }

  /** The elements of `a` not in `b`, for sorted key lists (UUIDs of a set). */
  private static minus(a: readonly Atom[], b: readonly Atom[]): Atom[] {
    const out: Atom[] = [];
    let j = 0;
    for (const x of a) {
      while (j < b.length && (b[j] as Atom) < x) j++;
      if (j >= b.length || b[j] !== x) out.push(x);
    }
    return out;
  }

  private updateRefCounts(): void {
    for (const tr of this.all()) {
      for (const column of tr.table.refColumns) {
        if (!tr.changed.has(column.name)) continue;
        const oldD = tr.old?.fields[column.name];
        const newD = tr.fields?.[column.name];
        if (oldD && newD && !column.type.value) {
          // A set of references: only what was added or removed counts (cheap on big sets).
          this.adjustRefs(tr, column, { keys: Transaction.minus(oldD.keys, newD.keys) }, -1);
          this.adjustRefs(tr, column, { keys: Transaction.minus(newD.keys, oldD.keys) }, +1);
        } else {
          if (oldD) this.adjustRefs(tr, column, oldD, -1);
          if (newD) this.adjustRefs(tr, column, newD, +1);
        }
      }
    }
    for (const tr of this.all()) {
      if (!tr.fields && tr.nRefs > 0) {
        throw new OvsdbError(
          'referential integrity violation',
          `cannot delete ${tr.table.schema.name} row ${tr.uuid} because of ${tr.nRefs} remaining reference(s)`,
        );
      }
    }
  }

  private collectGarbage(): void {
    const work = [...this.all()];
    while (work.length) {
      const tr = work.pop()!;
      if (!tr.fields || tr.nRefs !== 0 || tr.table.schema.isRoot) continue;
      const fields = tr.fields;
      tr.fields = null;
      if (tr.old) for (const c of tr.table.schema.userColumns) tr.changed.add(c.name);
      for (const column of tr.table.refColumns) {
        forEachRef(fields[column.name]!, column.type, (tableName, uuid, weak) => {
          if (weak || uuid === tr.uuid) return;
          const target = this.touch(this.db.tables.get(tableName)!, uuid)!;
          target.nRefs--;
          if (target.nRefs === 0) work.push(target);
        });
      }
    }
  }

  private checkMaxRows(): void {
    for (const [table, rows] of this.txnRows) {
      if (table.schema.maxRows === Infinity) continue;
      let n = table.rows.size;
      for (const tr of rows.values()) n += (tr.fields ? 1 : 0) - (tr.old ? 1 : 0);
      if (n > table.schema.maxRows) {
        throw constraintViolation(
          `transaction causes "${table.schema.name}" table to contain ${n} rows, greater than the schema-defined limit of ${table.schema.maxRows} row(s)`,
        );
      }
    }
  }

  private exists(tableName: string, uuid: string): boolean {
    return this.get(this.db.tables.get(tableName)!, uuid) !== null;
  }

  /** Removes weak references to rows that are gone (deleted now, or never existed). */
  private assessWeakRefs(): void {
    const recheck = new Set<TxnRow>();
    for (const tr of [...this.all()]) {
      if (tr.old && !tr.fields) {
        for (const src of this.db.weakReferrers.get(weakKey(tr.table.schema.name, tr.uuid)) ?? []) {
          const [tname, uuid] = src.split('\u0000') as [string, string];
          const s = this.touch(this.db.tables.get(tname)!, uuid);
          if (s?.fields) recheck.add(s);
        }
      }
    }
    for (const tr of this.all()) {
      if (!tr.fields || !tr.table.weakColumns.length) continue;
      for (const column of tr.table.weakColumns) {
        if (!recheck.has(tr) && tr.old && !tr.changed.has(column.name)) continue;
        const before = tr.fields[column.name]!;
        let zero = false;
        const after = filterWeakRefs(before, column.type, (tableName, uuid) => {
          if (uuid === tr.uuid && tableName === tr.table.schema.name) return true;
          const ok = this.exists(tableName, uuid);
          if (!ok && uuid === ZERO_UUID) zero = true;
          return ok;
        });
        if (after === before) continue;
        if (tr.shared) {
          tr.fields = { ...tr.fields };
          tr.shared = false;
        }
        tr.fields[column.name] = after;
        if (tr.old && !datumEquals(after, tr.old.fields[column.name]!)) tr.changed.add(column.name);
        if (after.keys.length < column.type.min) {
          const name = tr.table.schema.name;
          if (zero && !tr.old) {
            throw constraintViolation(
              `Weak reference column "${column.name}" in "${name}" row ${tr.uuid} (inserted within this transaction) contained all-zeros UUID (probably as the default value for this column) but deleting this value caused a constraint volation because this column is not allowed to be empty.`,
            );
          }
          throw constraintViolation(
            `Deletion of ${before.keys.length - after.keys.length} weak reference(s) to deleted (or never-existing) rows from column "${column.name}" in "${name}" row ${tr.uuid} ${tr.old ? '' : '(inserted within this transaction) '}caused this column to become empty, but constraints on this column disallow an empty column.`,
          );
        }
      }
    }
  }

  /** ovsdb_row_compare_columns_3way() over every column of the table, as this transaction sees the rows. */
  private compareRows(table: Table, a: string, b: string): number {
    const fa = this.get(table, a)!;
    const fb = this.get(table, b)!;
    for (const c of columnOrder(table)) {
      const value = (uuid: string, f: Readonly<Record<string, Datum>>): Datum =>
        c === '_uuid' ? { keys: [uuid] } : c === '_version' ? { keys: [this.version(table, uuid)] } : f[c]!;
      const d = datumCompare3way(value(a, fa), value(b, fb));
      if (d) return d;
    }
    return 0;
  }

  private describeIndexRow(table: Table, i: number, uuid: string, title: string): string {
    const tr = this.find(table, uuid);
    const head = `${title} row, with UUID ${uuid}, `;
    if (!tr || (tr.old && tr.changed.size === 0)) return `${head}existed in the database before this transaction and was not modified by the transaction.`;
    if (!tr.old) return `${head}was inserted by this transaction.`;
    const cols = table.schema.indexes[i]!;
    if (cols.every((c) => !tr.changed.has(c))) {
      return `${head}existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.`;
    }
    return `${head}had the following index values before the transaction: ${this.indexValues(table, i, tr.old.fields)}.`;
  }

  private indexValues(table: Table, i: number, fields: Readonly<Record<string, Datum>>): string {
    return table.schema.indexes[i]!.map((c) => datumToString(fields[c]!, table.schema.columns.get(c)!.type)).join(', ');
  }

  private checkIndexes(): void {
    for (const [table, rows] of this.txnRows) {
      const n = table.schema.indexes.length;
      for (let i = 0; i < n; i++) {
        const seen = new Map<string, string>();
        for (const tr of rows.values()) {
          if (!tr.fields) continue;
          const key = table.indexKey(tr.fields, i, tr.uuid);
          let other = seen.get(key);
          if (other === undefined) {
            const committed = table.indexes[i]!.get(key);
            if (committed !== undefined && committed !== tr.uuid && !rows.has(committed)) other = committed;
          }
          if (other !== undefined) {
            const cols = table.schema.indexes[i]!;
            // duplicate_index_row(): the two in a predictable order, the greater first, comparing every
            // column (_uuid and _version too) in the order the table's column shash iterates.
            const [first, second] = this.compareRows(table, other, tr.uuid) < 0 ? [tr.uuid, other] : [other, tr.uuid];
            const colsText = `column${cols.length > 1 ? 's' : ''} ${englishList(cols.map((c) => `"${c}"`))}`;
            throw constraintViolation(
              `Transaction causes multiple rows in "${table.schema.name}" table to have identical values (${this.indexValues(table, i, tr.fields)}) for index on ${colsText}.  ${this.describeIndexRow(table, i, first, 'First')}  ${this.describeIndexRow(table, i, second, 'Second')}`,
            );
          }
          seen.set(key, tr.uuid);
        }
      }
    }
  }

  /**
   * Applies a precommitted transaction to the database and returns what
   * changed. `beforeApply` sees the changes first (the log writes them there)
   * and may throw, leaving the database as it was.
   */
  commit(id: string = crypto.randomUUID(), beforeApply?: (cs: ChangeSet) => void): ChangeSet {
    const changes: RowChange[] = [];
    const plan: { tr: TxnRow; next: Row | null; modified: boolean }[] = [];
    for (const [table, rows] of this.txnRows) {
      for (const tr of rows.values()) {
        const { old } = tr;
        const modified = tr.fields !== null && (!old || tr.changed.size > 0);
        const version = !old && tr.version ? tr.version : crypto.randomUUID();
        const next: Row | null = tr.fields ? (modified ? { uuid: tr.uuid, version, fields: tr.fields } : old) : null;
        plan.push({ tr, next, modified });
        if ((modified || !next) && (old || next)) {
          changes.push({ table: table.schema.name, uuid: tr.uuid, old, new: next, changed: tr.changed });
        }
      }
    }
    const comment = this.comments.length ? this.comments.join('\n') : undefined;
    let nAtoms = 0;
    let atomsDiff = 0;
    for (const ch of changes) {
      const ts = this.db.tables.get(ch.table)!.schema;
      const before = ch.old ? rowAtoms(ts, ch.old.fields) : 0;
      const after = ch.new ? rowAtoms(ts, ch.new.fields) : 0;
      nAtoms += before + after;
      atomsDiff += after - before;
    }
    const cs: ChangeSet = { id, changes, ...(comment !== undefined ? { comment } : {}), nAtoms };
    beforeApply?.(cs);
    for (const { tr, next, modified } of plan) this.apply(tr, next, modified);
    this.db.nAtoms += atomsDiff;
    this.txnRows.clear();
    return cs;
  }

  private apply(tr: TxnRow, next: Row | null, modified: boolean): void {
    const { db } = this;
    const { table, old } = tr;
    const tname = table.schema.name;
    for (let i = 0; i < table.indexes.length; i++) {
      const idx = table.indexes[i]!;
      if (old && (modified || !next)) {
        const k = table.indexKey(old.fields, i, tr.uuid);
        if (idx.get(k) === tr.uuid) idx.delete(k);
      }
      if (next && (modified || !old)) idx.set(table.indexKey(next.fields, i, tr.uuid), tr.uuid);
    }
    if (table.weakColumns.length && (modified || !next)) {
      const me = weakKey(tname, tr.uuid);
      for (const c of table.weakColumns) {
        if (old && (!next || tr.changed.has(c.name))) {
          forEachRef(old.fields[c.name]!, c.type, (t, u, weak) => {
            if (!weak) return;
            const k = weakKey(t, u);
            const s = db.weakReferrers.get(k);
            s?.delete(me);
            if (s && !s.size) db.weakReferrers.delete(k);
          });
        }
        if (next && (!old || tr.changed.has(c.name))) {
          forEachRef(next.fields[c.name]!, c.type, (t, u, weak) => {
            if (!weak || (t === tname && u === tr.uuid)) return;
            const k = weakKey(t, u);
            let s = db.weakReferrers.get(k);
            if (!s) db.weakReferrers.set(k, (s = new Set()));
            s.add(me);
          });
        }
      }
    }
    if (next) {
      table.rows.set(tr.uuid, next);
      if (tr.nRefs) table.refs.set(tr.uuid, tr.nRefs);
      else table.refs.delete(tr.uuid);
    } else {
      table.rows.delete(tr.uuid);
      table.refs.delete(tr.uuid);
      db.weakReferrers.delete(weakKey(tname, tr.uuid));
    }
  }

  /** Whether the transaction changed nothing (after precommit). */
  isEmpty(): boolean {
    for (const rows of this.txnRows.values()) {
      for (const tr of rows.values()) if (!tr.old || !tr.fields || tr.changed.size) return false;
    }
    return true;
  }
}

function englishList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  if (items.length === 2) return `${items[0]} and ${items[1]}`;
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

/** A fresh row of `schema` with every column at its default value, then `values`. */
export function newRowFields(schema: TableSchema, values: Record<string, Datum> = {}): Record<string, Datum> {
  const fields: Record<string, Datum> = {};
  for (const c of schema.userColumns) fields[c.name] = values[c.name] ?? defaultDatum(c.type);
  return fields;
}
