/**
 * Monitors (RFC 7047 §4.1.5, and ovsdb-server's monitor_cond / monitor_cond_since
 * extensions): the initial contents of the monitored tables, then one
 * table-updates object per committed transaction.
 *
 *  - version 1 ("monitor" → "update"): rows as {"old": ..., "new": ...}, "old"
 *    holding only the changed columns of a modification;
 *  - version 2 ("monitor_cond" → "update2") and 3 ("monitor_cond_since" →
 *    "update3"): {"initial"|"insert": non-default columns}, {"modify": diff},
 *    {"delete": null}, and per-table conditions: a row that starts or stops
 *    matching is an insert or a delete.
 */
import { type Condition, evaluate, parseCondition } from './condition.js';
import { type Datum, datumDiff, datumEquals, datumToJson, isDefault } from './datum.js';
import { type ChangeSet, Database, type Row, type RowChange, type Table } from './db.js';
import { OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isObject } from './json.js';
import { OpParser } from './parser.js';
import type { ColumnSchema } from './schema.js';

export type MonitorVersion = 1 | 2 | 3;

interface Select {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

interface MonitoredColumn {
  column: ColumnSchema;
  /** Which kinds of change report this column (per monitor request). */
  select: Select;
}

interface MonitoredTable {
  table: Table;
  columns: MonitoredColumn[];
  /** Union of the columns' selects. */
  select: Select;
  /** Version 2 and 3 only; absent matches every row. */
  condition?: Condition;
}

function parseSelect(tableName: string, j: Json | undefined): Select {
  const all = { initial: true, insert: true, delete: true, modify: true };
  if (j === undefined) return all;
  const p = new OpParser(j, `table ${tableName} select`);
  for (const k of ['initial', 'insert', 'delete', 'modify'] as const) {
    const v = p.member(k, ['boolean'], true);
    if (typeof v === 'boolean') all[k] = v;
  }
  const e = p.finish();
  if (e) throw e;
  return all;
}

export class Monitor {
  private constructor(
    readonly id: Json,
    readonly version: MonitorVersion,
    readonly db: Database,
    readonly tables: Map<string, MonitoredTable>,
  ) {}

  /** Parses <monitor-requests>; errors are the ones ovsdb-server gives. */
  static parse(db: Database, id: Json, version: MonitorVersion, requests: unknown): Monitor {
    if (!isObject(requests)) throw syntaxError(requests, null, 'monitor-requests must be object');
    const tables = new Map<string, MonitoredTable>();
    for (const [name, value] of Object.entries(requests)) {
      const table = db.table(name);
      if (!table) throw new OvsdbError('syntax error', `no table named ${name}`);
      const mt: MonitoredTable = {
        table,
        columns: [],
        select: { initial: false, insert: false, delete: false, modify: false },
      };
      for (const req of Array.isArray(value) ? value : [value]) {
        const p = new OpParser(req, `table ${name}`);
        const columns = p.member('columns', ['array'], true);
        const select = p.member('select', ['object'], true);
        const where = version > 1 ? p.member('where', ['array'], true) : undefined;
        const e = p.finish();
        if (e) throw e;
        const sel = parseSelect(name, select);
        for (const k of Object.keys(sel) as (keyof Select)[]) mt.select[k] ||= sel[k];
        const cols =
          columns === undefined
            ? [...table.schema.columns.values()].filter((c) => c.name !== '_uuid')
            : (columns as Json[]).map((c) => {
                if (typeof c !== 'string') throw syntaxError(columns, null, 'array of column names expected');
                const col = table.schema.columns.get(c);
                if (!col) throw syntaxError(columns, null, `${c} is not a valid column name`);
                return col;
              });
        for (const c of cols) {
          if (mt.columns.some((m) => m.column === c)) throw syntaxError(columns ?? null, null, `column ${c.name} mentioned more than once`);
          mt.columns.push({ column: c, select: sel });
        }
        if (where !== undefined) mt.condition = parseCondition(table.schema, where);
      }
      tables.set(name, mt);
    }
    return new Monitor(id, version, db, tables);
  }

  /** monitor_cond_change: new conditions; returns the updates that bring the client in line. */
  changeConditions(requests: unknown): JsonObject | null {
    if (!isObject(requests)) throw syntaxError(requests, null, 'monitor-cond-change-requests must be object');
    const before = new Map<string, Condition | undefined>();
    for (const [name, value] of Object.entries(requests)) {
      const mt = this.tables.get(name);
      if (!mt) throw new OvsdbError('syntax error', `no table named ${name}`);
      for (const req of Array.isArray(value) ? value : [value]) {
        const p = new OpParser(req, `table ${name}`);
        const columns = p.member('columns', ['array'], true);
        const where = p.member('where', ['array'], true);
        const e = p.finish();
        if (e) throw e;
        if (columns !== undefined) throw syntaxError(req, null, 'changing columns is unsupported');
        if (!before.has(name)) before.set(name, mt.condition);
        if (where !== undefined) mt.condition = parseCondition(mt.table.schema, where);
      }
    }
    const out: JsonObject = {};
    for (const [name, old] of before) {
      const mt = this.tables.get(name)!;
      const rows: JsonObject = {};
      for (const row of mt.table.rows.values()) {
        const was = matches(old, row);
        const is = matches(mt.condition, row);
        if (was && !is) rows[row.uuid] = { delete: null };
        else if (!was && is) rows[row.uuid] = { insert: this.newColumns(mt, row, 'insert') };
      }
      if (Object.keys(rows).length) out[name] = rows;
    }
    return Object.keys(out).length ? out : null;
  }

  private columnsJson(mt: MonitoredTable, row: Row, kind: keyof Select, only?: (c: ColumnSchema) => boolean): JsonObject {
    const o: JsonObject = {};
    for (const { column: c, select } of mt.columns) {
      if (select[kind] && (!only || only(c))) o[c.name] = datumToJson(Database.field(row, c.name), c.type);
    }
    return o;
  }

  /** Version 2/3 insert/initial: the monitored columns that are not at their default. */
  private newColumns(mt: MonitoredTable, row: Row, kind: keyof Select): JsonObject {
    const o: JsonObject = {};
    for (const { column: c, select } of mt.columns) {
      if (!select[kind]) continue;
      const d = Database.field(row, c.name);
      if (!isDefault(d, c.type)) o[c.name] = datumToJson(d, c.type);
    }
    return o;
  }

  /** The reply to the monitor request: every row, as "initial" changes. */
  initial(): JsonObject {
    const out: JsonObject = {};
    for (const [name, mt] of this.tables) {
      if (!mt.select.initial) continue;
      const rows: JsonObject = {};
      for (const row of mt.table.rows.values()) {
        if (!matches(mt.condition, row)) continue;
        rows[row.uuid] = this.version === 1 ? { new: this.columnsJson(mt, row, 'initial') } : { initial: this.newColumns(mt, row, 'initial') };
      }
      if (Object.keys(rows).length) out[name] = rows;
    }
    return out;
  }

  /** The table-updates for one committed transaction, or null if nothing monitored changed. */
  update(cs: ChangeSet): JsonObject | null {
    let out: JsonObject | null = null;
    for (const ch of cs.changes) {
      const mt = this.tables.get(ch.table);
      if (!mt) continue;
      const was = ch.old !== null && matches(mt.condition, ch.old);
      const is = ch.new !== null && matches(mt.condition, ch.new);
      const type = was && is ? 'modify' : is ? 'insert' : was ? 'delete' : null;
      if (!type || !mt.select[type]) continue;
      const changed = (c: ColumnSchema) => c.name === '_version' || ch.changed.has(c.name);
      let rowJson: JsonObject;
      if (this.version === 1) {
        if (type === 'insert') rowJson = { new: this.columnsJson(mt, ch.new!, type) };
        else if (type === 'delete') rowJson = { old: this.columnsJson(mt, ch.old!, type) };
        else {
          // Like ovsdb-server, any monitored column changing reports the row, even one
          // monitored only for other kinds of change (then "old" may be empty).
          if (!mt.columns.some((m) => changed(m.column))) continue;
          rowJson = { old: this.columnsJson(mt, ch.old!, type, changed), new: this.columnsJson(mt, ch.new!, type) };
        }
      } else if (type === 'insert') {
        rowJson = { insert: this.newColumns(mt, ch.new!, type) };
      } else if (type === 'delete') {
        rowJson = { delete: null };
      } else {
        const diff: JsonObject = {};
        for (const { column: c, select } of mt.columns) {
          if (!select.modify || !changed(c)) continue;
          const d: Datum = datumDiff(Database.field(ch.old!, c.name), Database.field(ch.new!, c.name), c.type);
          diff[c.name] = datumToJson(d, c.type);
        }
        if (!mt.columns.some((m) => changed(m.column))) continue;
        rowJson = { modify: diff };
      }
      out ??= {};
      ((out[ch.table] ??= {}) as JsonObject)[ch.uuid] = rowJson;
    }
    return out;
  }
}

function matches(cond: Condition | undefined, row: Row): boolean {
  return !cond || evaluate(cond, (c) => Database.field(row, c));
}

/**
 * Two change sets as one, the later on top of the earlier: what ovsdb/monitor.c
 * keeps for a session it cannot send to yet. Each row keeps its oldest "old"
 * and newest "new", so the held changes grow with the rows touched, not with
 * the number of transactions; a row inserted and deleted meanwhile is gone.
 */
export function mergeChangeSets(earlier: ChangeSet, later: ChangeSet): ChangeSet {
  const byRow = new Map<string, RowChange>();
  const key = (ch: RowChange) => `${ch.table}\u0000${ch.uuid}`;
  for (const ch of earlier.changes) byRow.set(key(ch), ch);
  for (const ch of later.changes) {
    const first = byRow.get(key(ch));
    if (!first) {
      byRow.set(key(ch), ch);
      continue;
    }
    const { old } = first;
    if (!old && !ch.new) {
      byRow.delete(key(ch));
      continue;
    }
    let changed: ReadonlySet<string> = ch.changed;
    if (old && ch.new) {
      const cols = new Set<string>();
      for (const c of new Set([...first.changed, ...ch.changed])) {
        if (!datumEquals(Database.field(old, c), Database.field(ch.new, c))) cols.add(c);
      }
      changed = cols;
    } else if (!old) {
      changed = new Set(Object.keys(ch.new!.fields));
    } else {
      changed = new Set(Object.keys(old.fields));
    }
    byRow.set(key(ch), { table: ch.table, uuid: ch.uuid, old, new: ch.new, changed });
  }
  return { id: later.id, changes: [...byRow.values()] };
}
