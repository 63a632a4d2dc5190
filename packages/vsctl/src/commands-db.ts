/**
 * The generic database commands of lib/db-ctl-base.c, on any table:
 * comment, get, list, find, set, add, remove, clear, create, destroy,
 * wait-until — with `--if-exists`, `--columns=`, `--id=@name`, `--all`.
 */
import { type ColumnSchema, type ColumnType, type Datum, type TableSchema, vswitchDatabaseSchema } from '@ovs/ovsdb';
import type { ParsedCommand } from './args.js';
import { type CommandDef, type Ctx, type Prerequisites, fatal } from './context/context.js';
import type { Row } from './context/txn.js';
import { checkMutable, getColumn, getRow, getTable, parseColumnKeyValue, rowIdColumns, setColumn, unbounded } from './columns.js';
import { atomFromString, atomToString, compareAtoms, datumFromString, datumSubtract, datumToString, datumUnion, isUuid, parseToken } from './datum.js';
import { Table } from './format.js';

// Parsed when a database command first needs it, not when ovs-vsctl starts (most calls never do).
let parsedSchema: ReturnType<typeof vswitchDatabaseSchema> | undefined;
const schema = () => (parsedSchema ??= vswitchDatabaseSchema());

/** pre_get_table(): the table and the columns that name its rows. */
function preTable(pre: Prerequisites, name: string): TableSchema {
  const t = getTable(schema(), name);
  pre.add(t.name);
  for (const [table, column] of rowIdColumns(t.name)) pre.add(table, column);
  return t;
}

/** pre_parse_column_key_value(). */
function preColumnArg(pre: Prerequisites, t: TableSchema, arg: string): void {
  const name = parseToken(arg, 0).token;
  if (name === '') throw new Error(`${arg}: missing column name`);
  pre.add(t.name, getColumn(t, name).name);
}

/** parse_column_names(): null stands for _uuid. */
function columnList(t: TableSchema, names: string | undefined): (ColumnSchema | null)[] {
  // The real tool's table classes list columns by name.
  if (names === undefined) return [null, ...[...t.userColumns].sort((a, b) => (a.name < b.name ? -1 : 1))];
  const cols = names
    .split(/[, ]+/)
    .filter(Boolean)
    .map((n) => (n.toLowerCase() === '_uuid' ? null : getColumn(t, n)));
  if (!cols.length) throw new Error('must specify at least one column name');
  return cols;
}

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

function listRecord(ctx: Ctx, row: Row, cols: (ColumnSchema | null)[], table: Table): void {
  table.rows.push(cols.map((c) => (c ? { datum: ctx.txn.read(row, c.name), type: c.type } : { datum: { keys: [row.uuid] }, type: UUID_TYPE })));
}

function preList(cmd: ParsedCommand, pre: Prerequisites): void {
  const t = preTable(pre, cmd.argv[1]!);
  for (const c of columnList(t, cmd.options.get('--columns') ?? undefined)) if (c) pre.add(t.name, c.name);
}

function list(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const cols = columnList(t, ctx.option('--columns'));
  const table = (ctx.cmd.table = new Table(cols.map((c) => (c ? c.name : '_uuid'))));
  if (ctx.argv.length > 2) {
    for (const id of ctx.argv.slice(2)) {
      const row = getRow(ctx.txn, t, id, !ctx.has('--if-exists'));
      if (row) listRecord(ctx, row, cols, table);
    }
  } else {
    for (const row of ctx.txn.rows(t.name)) listRecord(ctx, row, cols, table);
  }
}

const RELOPS = ['=', '!=', '<', '>', '<=', '>=', '{=}', '{!=}', '{<}', '{>}', '{<=}', '{>=}', '{in}', '{not-in}'];

function compareDatums(a: Datum, b: Datum): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (const arr of [
    [a.keys, b.keys],
    [a.values ?? [], b.values ?? []],
  ] as const) {
    for (let i = 0; i < arr[0].length; i++) {
      const c = compareAtoms(arr[0][i]!, arr[1][i]!);
      if (c) return c;
    }
  }
  return 0;
}

/** Every element (pair, for maps) of `a` is in `b`. */
function includesAll(a: Datum, b: Datum): boolean {
  return a.keys.every((k, i) => {
    const j = b.keys.indexOf(k);
    return j >= 0 && (!a.values || a.values[i] === b.values?.[j]);
  });
}

function excludesAll(a: Datum, b: Datum): boolean {
  return a.keys.every((k, i) => {
    const j = b.keys.indexOf(k);
    return j < 0 || (a.values !== undefined && a.values[i] !== b.values?.[j]);
  });
}

function evaluate(a: Datum, b: Datum, op: string): boolean {
  switch (op) {
    case '=':
    case '{=}':
      return compareDatums(a, b) === 0;
    case '!=':
    case '{!=}':
      return compareDatums(a, b) !== 0;
    case '<':
      return compareDatums(a, b) < 0;
    case '>':
      return compareDatums(a, b) > 0;
    case '<=':
      return compareDatums(a, b) <= 0;
    case '>=':
      return compareDatums(a, b) >= 0;
    case '{<}':
      return b.keys.length > a.keys.length && includesAll(a, b);
    case '{>}':
      return a.keys.length > b.keys.length && includesAll(b, a);
    case '{<=}':
    case '{in}':
      return includesAll(a, b);
    case '{>=}':
      return includesAll(b, a);
    default:
      return excludesAll(a, b);
  }
}

/** check_condition(). */
function checkCondition(ctx: Ctx, t: TableSchema, row: Row, arg: string): boolean {
  const { column, key, operator, value } = parseColumnKeyValue(arg, t, RELOPS);
  if (value === undefined) throw new Error(`${arg}: missing value`);
  const have = ctx.txn.read(row, column.name);
  const ct = column.type;
  if (key === undefined) return evaluate(have, datumFromString(value, ct, ctx.symtab), operator!);
  if (!ct.value) throw new Error(`cannot specify key to check for non-map column ${column.name}`);
  const k = atomFromString(key, ct.key, ctx.symtab)[0]!;
  const want = datumFromString(value, { key: ct.value, min: ct.min, max: Infinity }, ctx.symtab);
  const i = have.keys.indexOf(k);
  if (i < 0 && !operator!.startsWith('{')) return false;
  return evaluate(i < 0 ? { keys: [] } : { keys: [have.values![i]!] }, want, operator!);
}

function preFind(cmd: ParsedCommand, pre: Prerequisites): void {
  preList(cmd, pre);
  const t = getTable(schema(), cmd.argv[1]!);
  for (const a of cmd.argv.slice(2)) preColumnArg(pre, t, a);
}

function find(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const cols = columnList(t, ctx.option('--columns'));
  const table = (ctx.cmd.table = new Table(cols.map((c) => (c ? c.name : '_uuid'))));
  for (const row of ctx.txn.rows(t.name)) {
    if (ctx.argv.slice(2).every((a) => checkCondition(ctx, t, row, a))) listRecord(ctx, row, cols, table);
  }
}

function preGet(cmd: ParsedCommand, pre: Prerequisites): void {
  const t = preTable(pre, cmd.argv[1]!);
  for (const a of cmd.argv.slice(3)) if (a.toLowerCase() !== '_uuid' && a.toLowerCase() !== '-uuid') preColumnArg(pre, t, a);
}

function get(ctx: Ctx): void {
  const id = ctx.option('--id');
  const mustExist = !ctx.has('--if-exists');
  if (id !== undefined && !mustExist) fatal('--if-exists and --id may not be specified together');
  const t = getTable(schema(), ctx.argv[1]!);
  const recordId = ctx.argv[2]!;
  const row = getRow(ctx.txn, t, recordId, mustExist);
  if (!row) return;
  if (id !== undefined) {
    if (!id.startsWith('@')) fatal(`row id "${id}" does not begin with "@"`);
    const isNew = !ctx.symtab.symbols.has(id);
    const sym = ctx.symtab.insert(id);
    if (sym.created) fatal(`row id "${id}" may only be specified on one --id option`);
    sym.created = true;
    if (!isNew) fatal(`row id "${id}" specified on "get" command was used before it was defined`);
    sym.uuid = row.uuid;
    sym.strongRef = true;
  }
  for (const arg of ctx.argv.slice(3)) {
    if (arg.toLowerCase() === '_uuid' || arg.toLowerCase() === '-uuid') {
      ctx.out(`${row.uuid}\n`);
      continue;
    }
    const { column, key } = parseColumnKeyValue(arg, t);
    ctx.txn.verify(row, column.name);
    const d = ctx.txn.read(row, column.name);
    if (key !== undefined) {
      const vt = column.type.value;
      if (!vt) return fatal(`cannot specify key to get for non-map column ${column.name}`);
      const k = atomFromString(key, column.type.key, ctx.symtab)[0]!;
      const i = d.keys.indexOf(k);
      if (i < 0) {
        if (mustExist) fatal(`no key "${key}" in ${t.name} record "${recordId}" column ${column.name}`);
      } else ctx.out(atomToString(d.values![i]!, vt));
    } else ctx.out(datumToString(d, column.type));
    ctx.out('\n');
  }
}

function preSet(cmd: ParsedCommand, pre: Prerequisites): void {
  const t = preTable(pre, cmd.argv[1]!);
  for (const a of cmd.argv.slice(3)) preColumnArg(pre, t, a);
}

/** The row of a modifying command (set/add/remove/clear), or undefined with --if-exists. */
function targetRow(ctx: Ctx): { t: TableSchema; row?: Row } {
  const t = getTable(schema(), ctx.argv[1]!);
  return { t, row: getRow(ctx.txn, t, ctx.argv[2]!, !ctx.has('--if-exists')) };
}

function setCmd(ctx: Ctx): void {
  const { t, row } = targetRow(ctx);
  if (!row) return;
  for (const a of ctx.argv.slice(3)) setColumn(ctx.txn, row, a, ctx.symtab, ctx.last);
  // "column[:key]=value": the column is what precedes ':', '=' or '['.
  ctx.invalidateCacheFor(
    t.name,
    ctx.argv.slice(3).map((a) => /^[^:=[]*/.exec(a)![0]),
  );
}

function preColumn(cmd: ParsedCommand, pre: Prerequisites): void {
  const t = preTable(pre, cmd.argv[1]!);
  pre.add(t.name, getColumn(t, cmd.argv[3]!).name);
}

function add(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const column = getColumn(t, ctx.argv[3]!);
  const row = getRow(ctx.txn, t, ctx.argv[2]!, !ctx.has('--if-exists'));
  if (!row) return;
  checkMutable(row, ctx.txn, column);
  const ct = column.type;
  const map = ct.value !== undefined;
  let added: Datum = map ? { keys: [], values: [] } : { keys: [] };
  for (const a of ctx.argv.slice(4)) added = datumUnion(added, datumFromString(a, unbounded(ct, 1), ctx.symtab), map);
  // As branch-3.1 since 3.1.2 (037e2d916, "Partially revert b8bf410a5"): the whole column, verified, never a
  // partial update — 3.1.0's partial update for a last "add" replaced the values of keys already there.
  const next = datumUnion(ctx.txn.read(row, column.name), added, map);
  if (next.keys.length > ct.max) {
    fatal(
      `"add" operation would put ${next.keys.length} ${map ? 'pairs' : 'values'} in column ${column.name} of table ${t.name} but the maximum number is ${ct.max}`,
    );
  }
  ctx.txn.verify(row, column.name);
  ctx.txn.write(row, column.name, next);
  ctx.invalidateCache();
}

function remove(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const column = getColumn(t, ctx.argv[3]!);
  const row = getRow(ctx.txn, t, ctx.argv[2]!, !ctx.has('--if-exists'));
  if (!row) return;
  checkMutable(row, ctx.txn, column);
  const ct = column.type;
  let d = ctx.txn.read(row, column.name);
  for (const a of ctx.argv.slice(4)) {
    let rm: Datum;
    try {
      rm = datumFromString(a, unbounded(ct, 1), ctx.symtab);
    } catch (e) {
      if (!ct.value) throw e;
      rm = datumFromString(a, { key: ct.key, min: 1, max: Infinity }, ctx.symtab);
    }
    d = datumSubtract(d, rm);
  }
  if (d.keys.length < ct.min) {
    fatal(
      `"remove" operation would put ${d.keys.length} ${ct.value ? 'pairs' : 'values'} in column ${column.name} of table ${t.name} but the minimum number is ${ct.min}`,
    );
  }
  ctx.txn.verify(row, column.name);
  ctx.txn.write(row, column.name, d);
  ctx.invalidateCache();
}

function preClear(cmd: ParsedCommand, pre: Prerequisites): void {
  const t = preTable(pre, cmd.argv[1]!);
  for (const a of cmd.argv.slice(3)) pre.add(t.name, getColumn(t, a).name);
}

function clear(ctx: Ctx): void {
  const { t, row } = targetRow(ctx);
  if (!row) return;
  for (const a of ctx.argv.slice(3)) {
    const column = getColumn(t, a);
    checkMutable(row, ctx.txn, column);
    if (column.type.min > 0) {
      fatal(`"clear" operation cannot be applied to column ${column.name} of table ${t.name}, which is not allowed to be empty`);
    }
    ctx.txn.write(row, column.name, column.type.value ? { keys: [], values: [] } : { keys: [] });
  }
  ctx.invalidateCache();
}

function create(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const id = ctx.option('--id');
  let uuid: string | undefined;
  let persist = false;
  if (id !== undefined && isUuid(id)) {
    // A UUID (not an @name): the row is inserted with that UUID, kept by the server.
    uuid = id.toLowerCase();
    persist = true;
  } else if (id !== undefined) {
    if (!id.startsWith('@')) fatal(`row id "${id}" does not begin with "@"`);
    const sym = ctx.symtab.insert(id);
    if (sym.created) fatal(`row id "${id}" may only be specified on one --id option`);
    sym.created = true;
    // Rows of root tables stay without a reference, so do not warn about them.
    if (t.isRoot) sym.strongRef = true;
    uuid = sym.uuid;
  }
  const row = ctx.txn.insert(t.name, uuid, persist);
  for (const a of ctx.argv.slice(2)) setColumn(ctx.txn, row, a, ctx.symtab);
  ctx.out(row.uuid);
}

function destroy(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const mustExist = !ctx.has('--if-exists');
  const all = ctx.has('--all');
  if (all && ctx.argv.length > 2) fatal('--all and records argument should not be specified together');
  if (all && !mustExist) fatal('--all and --if-exists should not be specified together');
  if (!all && ctx.argv.length === 2) {
    ctx.warn('db_ctl_base', 'either --all or records argument should be specified');
    return;
  }
  const rows = all ? ctx.txn.rows(t.name) : ctx.argv.slice(2).map((id) => getRow(ctx.txn, t, id, mustExist));
  for (const r of rows) if (r) ctx.txn.delete(r);
  ctx.invalidateCache();
}

function waitUntil(ctx: Ctx): void {
  const t = getTable(schema(), ctx.argv[1]!);
  const row = getRow(ctx.txn, t, ctx.argv[2]!, false);
  if (!row || !ctx.argv.slice(3).every((a) => checkCondition(ctx, t, row, a))) ctx.tryAgain = true;
}

export const dbCommands: CommandDef[] = [
  { name: 'comment', minArgs: 0, maxArgs: Infinity, options: '', mode: 'RO', run: () => {} },
  { name: 'get', minArgs: 2, maxArgs: Infinity, options: '--if-exists,--id=', mode: 'RO', pre: preGet, run: get },
  { name: 'list', minArgs: 1, maxArgs: Infinity, options: '--if-exists,--columns=', mode: 'RO', pre: preList, run: list },
  { name: 'find', minArgs: 1, maxArgs: Infinity, options: '--columns=', mode: 'RO', pre: preFind, run: find },
  { name: 'set', minArgs: 3, maxArgs: Infinity, options: '--if-exists', mode: 'RW', pre: preSet, run: setCmd },
  { name: 'add', minArgs: 4, maxArgs: Infinity, options: '--if-exists', mode: 'RW', pre: preColumn, run: add },
  { name: 'remove', minArgs: 4, maxArgs: Infinity, options: '--if-exists', mode: 'RW', pre: preColumn, run: remove },
  { name: 'clear', minArgs: 3, maxArgs: Infinity, options: '--if-exists', mode: 'RW', pre: preClear, run: clear },
  {
    name: 'create',
    minArgs: 2,
    maxArgs: Infinity,
    options: '--id=',
    mode: 'RW',
    pre: (cmd, pre) => {
      const t = getTable(schema(), cmd.argv[1]!);
      if (!cmd.options.has('--id') && !t.isRoot) {
        pre.warnings.push({ module: 'db_ctl_base', message: `applying "create" command to table ${t.name} without --id option will have no effect` });
      }
    },
    run: create,
    post: (ctx, uuids) => {
      ctx.cmd.output = `${uuids.get(ctx.cmd.output) ?? ctx.cmd.output}\n`;
    },
  },
  { name: 'destroy', minArgs: 1, maxArgs: Infinity, options: '--if-exists,--all', mode: 'RW', pre: (c, p) => void preTable(p, c.argv[1]!), run: destroy },
  { name: 'wait-until', minArgs: 2, maxArgs: Infinity, options: '', mode: 'RO', pre: preSet, run: waitUntil },
];
