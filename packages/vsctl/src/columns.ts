/**
 * How db-ctl-base names things on the command line: tables and columns by
 * unique, case- and dash-insensitive abbreviation; records by UUID (or a
 * prefix of at least 4 digits), "." for a one-row table, or a name column
 * (Bridge/Port/Interface by name, Controller/NetFlow/sFlow/IPFIX/... through
 * the bridge that points at them); `COLUMN[:KEY]=VALUE` arguments; and
 * set_column(), shared by `set`, `create` and add-port's trailing settings.
 */
import type { ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from '@ovs/ovsdb';
import { type SymbolTable, atomFromString, datumFromString, datumUnion, isUuid, parseToken } from './datum.js';
import type { Row, Txn } from './context/txn.js';

interface RowId {
  /** Table holding the name column. */
  table: string;
  name: string;
  /** Column of `table` pointing at the wanted row, when looked up through a referrer. */
  uuidColumn?: string;
}

/** ovs-vsctl.c's ctl_table_class row_ids. */
export const ROW_IDS: Record<string, RowId> = {
  Bridge: { table: 'Bridge', name: 'name' },
  Controller: { table: 'Bridge', name: 'name', uuidColumn: 'controller' },
  Interface: { table: 'Interface', name: 'name' },
  Mirror: { table: 'Mirror', name: 'name' },
  Manager: { table: 'Manager', name: 'target' },
  NetFlow: { table: 'Bridge', name: 'name', uuidColumn: 'netflow' },
  Port: { table: 'Port', name: 'name' },
  QoS: { table: 'Port', name: 'name', uuidColumn: 'qos' },
  sFlow: { table: 'Bridge', name: 'name', uuidColumn: 'sflow' },
  Flow_Table: { table: 'Flow_Table', name: 'name' },
  IPFIX: { table: 'Bridge', name: 'name', uuidColumn: 'ipfix' },
  AutoAttach: { table: 'Bridge', name: 'name', uuidColumn: 'auto_attach' },
  Flow_Sample_Collector_Set: { table: 'Flow_Sample_Collector_Set', name: 'id' },
};

const norm = (c: string) => (c === '-' ? '_' : c.toLowerCase());

/** score_partial_match(). */
function score(name: string, s: string): number {
  if (name === s) return Number.MAX_SAFE_INTEGER;
  let i = 0;
  for (; ; i++) {
    const a = name[i];
    const b = s[i];
    if (a === undefined || b === undefined || norm(a) !== norm(b)) break;
  }
  if (i === name.length && i === s.length) return Number.MAX_SAFE_INTEGER - 1;
  return i === s.length ? i : 0;
}

function bestMatch<T>(items: T[], nameOf: (t: T) => string, wanted: string): { match?: T; all: string[] } {
  let best = 0;
  let all: string[] = [];
  let match: T | undefined;
  for (const it of items) {
    const sc = score(nameOf(it), wanted);
    if (sc && sc >= best) {
      if (sc > best) all = [];
      all.push(nameOf(it));
      match = it;
      best = sc;
    }
  }
  return { match, all: [...new Set(all)].sort() };
}

export function getTable(schema: DatabaseSchema, name: string): TableSchema {
  const { match, all } = bestMatch([...schema.tables.values()], (t) => t.name, name);
  if (!match) throw new Error(`unknown table "${name}"`);
  if (all.length > 1) throw new Error(`"${name}" matches multiple table names: ${all.join(', ')}`);
  return match;
}

export function getColumn(table: TableSchema, name: string): ColumnSchema {
  const { match, all } = bestMatch(table.userColumns, (c) => c.name, name);
  if (!match) throw new Error(`${table.name} does not contain a column whose name matches "${name}"`);
  if (all.length > 1) throw new Error(`${table.name} contains more than one column whose name matches "${name}": ${all.join(', ')}`);
  return match;
}

/** Columns the IDL must replicate to find rows of `table` by name (pre_get_table). */
export function rowIdColumns(table: string): [string, string][] {
  const id = ROW_IDS[table];
  if (!id) return [];
  return id.uuidColumn
    ? [
        [id.table, id.name],
        [id.table, id.uuidColumn],
      ]
    : [[id.table, id.name]];
}

/** ctl_get_row(). */
export function getRow(txn: Txn, table: TableSchema, recordId: string, mustExist: boolean): Row | undefined {
  let row: Row | undefined;
  if (isUuid(recordId)) row = txn.get(table.name, recordId.toLowerCase());
  if (!row && recordId === '.') {
    const rows = txn.rows(table.name);
    if (rows.length === 1) row = rows[0];
  }
  const id = ROW_IDS[table.name];
  if (!row && id) {
    const nameType = txn.table(id.table).columns.get(id.name)!.type.key.type;
    if (nameType === 'string' || /^\d+$/.test(recordId)) {
      let referrer: Row | undefined;
      // Exact names through the transaction's index; a name that is itself a UUID may also be given by a prefix.
      const exact = txn.rowsWhere(id.table, id.name, nameType === 'string' ? recordId : Number(recordId));
      const candidates = exact.length === 0 && nameType === 'string' && recordId.length >= 4 && /^[0-9a-fA-F-]+$/.test(recordId) ? txn.rows(id.table) : exact;
      for (const r of candidates) {
        const d = txn.read(r, id.name);
        if (d.keys.length !== 1) continue;
        const n = d.keys[0]!;
        const equal =
          nameType === 'string'
            ? n === recordId || (recordId.length >= 4 && isUuid(n as string) && (n as string).startsWith(recordId))
            : n === Number(recordId);
        if (!equal) continue;
        if (referrer) throw new Error(`multiple rows in ${id.table} match "${recordId}"`);
        referrer = r;
      }
      if (referrer && id.uuidColumn) {
        txn.verify(referrer, id.uuidColumn);
        const u = txn.read(referrer, id.uuidColumn);
        row = u.keys.length === 1 ? txn.get(table.name, u.keys[0] as string) : undefined;
      } else row = referrer;
    }
  }
  if (!row && /^[0-9a-fA-F-]{4,}$/.test(recordId) && recordId.replace(/-/g, '').length >= 4) {
    const prefix = recordId.toLowerCase();
    for (const r of txn.rows(table.name)) {
      if (!r.uuid.startsWith(prefix)) continue;
      if (row) throw new Error(`${table.name} contains 2 or more rows whose UUIDs begin with ${recordId}: at least ${row.uuid} and ${r.uuid}`);
      row = r;
    }
  }
  if (mustExist && !row) throw new Error(`no row "${recordId}" in table ${table.name}`);
  return row;
}

export interface ColumnKeyValue {
  column: ColumnSchema;
  key?: string;
  operator?: string;
  value?: string;
}

/** parse_column_key_value(): COLUMN[:KEY][OP VALUE]. With no `operators`, no value part is allowed. */
export function parseColumnKeyValue(arg: string, table: TableSchema, operators?: string[]): ColumnKeyValue {
  const { token: columnName, pos } = parseToken(arg, 0);
  if (columnName === '') throw new Error(`${arg}: missing column name`);
  const column = getColumn(table, columnName);
  let p = pos;
  let key: string | undefined;
  if (arg[p] === ':') {
    const k = parseToken(arg, p + 1);
    key = k.token;
    p = k.pos;
  }
  if (!operators) {
    if (p < arg.length) throw new Error(`${arg}: trailing garbage "${arg.slice(p)}" in argument`);
    return { column, key };
  }
  let best: string | undefined;
  for (const op of operators) if ((!best || op.length > best.length) && arg.startsWith(op, p) && p + op.length < arg.length) best = op;
  if (!best) {
    const q = operators.map((o) => `"${o}"`);
    const list = q.length === 1 ? q[0] : q.length === 2 ? `${q[0]} or ${q[1]}` : `${q.slice(0, -1).join(', ')}, or ${q[q.length - 1]}`;
    throw new Error(`${arg}: argument does not end in ${list} followed by a value.`);
  }
  return { column, key, operator: best, value: arg.slice(p + best.length) };
}

export function checkMutable(row: Row, txn: Txn, column: ColumnSchema): void {
  // A column that is not mutable may still be set on a row being inserted.
  if (!column.mutable && !txn.isInserted(row)) throw new Error(`cannot modify read-only column ${column.name} in table ${row.table.name}`);
}

/**
 * set_column(): COLUMN=VALUE replaces the column; COLUMN:KEY=VALUE sets one
 * key of a map, with a "mutate" when `partial` (the last command of the
 * invocation, as the real tool: nothing after it reads the column back).
 */
export function setColumn(txn: Txn, row: Row, arg: string, symtab: SymbolTable, partial = false): void {
  const { column, key, value } = parseColumnKeyValue(arg, row.table, ['=']);
  if (value === undefined) throw new Error(`${arg}: missing value`);
  checkMutable(row, txn, column);
  const t = column.type;
  if (key !== undefined) {
    if (!t.value) throw new Error(`cannot specify key to set for non-map column ${column.name}`);
    const k = atomFromString(key, t.key, symtab)[0]!;
    const v = atomFromString(value, t.value, symtab)[0]!;
    if (partial) {
      txn.mutateSet(row, column.name, { keys: [k], values: [v] }, { keys: [k] });
      return;
    }
    txn.verify(row, column.name);
    txn.write(row, column.name, datumUnion({ keys: [k], values: [v] }, txn.read(row, column.name), true));
  } else {
    txn.write(row, column.name, datumFromString(value, t, symtab));
  }
}

/** The column type with any number of elements (for conditions, add, remove). */
export function unbounded(t: ColumnType, min = 0): ColumnType {
  return { ...t, min, max: Infinity };
}
