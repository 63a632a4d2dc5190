/**
 * Database schemas (RFC 7047 §3.2) parsed into the types the rest of the
 * package works with. Every table also gets the two implicit columns
 * `_uuid` and `_version`, as in ovsdb-server.
 */
import { OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isId, isObject, sortedJson } from './json.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export type Atom = number | boolean | string;

export interface BaseType {
  type: AtomicType;
  /** Allowed values, sorted (the schema's "enum"). */
  enum?: Atom[];
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}

export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: number;
  /** Infinity for "unlimited". */
  max: number;
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  mutable: boolean;
  ephemeral: boolean;
}

export interface TableSchema {
  name: string;
  /** Every column, including `_uuid` and `_version`, in schema order. */
  columns: Map<string, ColumnSchema>;
  /** The user-visible columns (not `_uuid`/`_version`). */
  userColumns: ColumnSchema[];
  isRoot: boolean;
  maxRows: number;
  indexes: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Map<string, TableSchema>;
  /** The schema as it was given, returned by get_schema and written to files. */
  json: Json;
}

const ATOMIC: readonly string[] = ['integer', 'real', 'boolean', 'string', 'uuid'];
const UNLIMITED_N = 4294967295;

export function isScalar(t: ColumnType): boolean {
  return t.min === 1 && t.max === 1 && !t.value;
}
export function isMap(t: ColumnType): boolean {
  return t.value !== undefined;
}
export function isSet(t: ColumnType): boolean {
  return !t.value && !(t.min === 1 && t.max === 1);
}
export function isOptionalScalar(t: ColumnType): boolean {
  return !t.value && t.min === 0 && t.max === 1;
}

/** The English name of a type, as ovsdb_type_to_english() words it. */
export function typeToEnglish(t: ColumnType): string {
  if (isScalar(t)) return t.key.type;
  let s = t.value ? 'map' : 'set';
  if (t.max === Infinity) s += t.min ? ` of ${t.min} or more` : ' of';
  else if (t.min) s += ` of ${t.min} to ${t.max}`;
  else s += ` of up to ${t.max}`;
  return t.value ? `${s} (${t.key.type}, ${t.value.type}) pairs` : `${s} ${t.key.type}s`;
}

/** `max` as ovsdb-server prints it in messages (UINT_MAX for unlimited). */
export function maxForMessage(max: number): number {
  return max === Infinity ? UNLIMITED_N : max;
}

export const UUID_COLUMN_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

function baseTypeFromJson(j: unknown): BaseType {
  if (typeof j === 'string') {
    if (!ATOMIC.includes(j)) throw syntaxError(j, null, `unknown atomic type ${j}`);
    return { type: j as AtomicType };
  }
  if (!isObject(j) || typeof j.type !== 'string' || !ATOMIC.includes(j.type)) {
    throw syntaxError(j, null, 'atomic-type expected');
  }
  const b: BaseType = { type: j.type as AtomicType };
  const num = (k: string): number | undefined => {
    const v = j[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw syntaxError(j, null, `${k} must be a number`);
    return v;
  };
  // Only the bounds given become properties: no undefined members to delete afterwards (a
  // `delete` turns the object into a slow dictionary, and base types are read on every datum check).
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength'] as const) {
    const v = num(k);
    if (v !== undefined) b[k] = v;
  }
  if (j.refTable !== undefined) {
    if (b.type !== 'uuid' || !isId(j.refTable)) throw syntaxError(j, null, 'refTable must name a table');
    b.refTable = j.refTable;
    b.refType = j.refType === undefined ? 'strong' : (j.refType as 'strong' | 'weak');
    if (b.refType !== 'strong' && b.refType !== 'weak') {
      throw syntaxError(j, null, 'refType must be "strong" or "weak" (not "' + String(j.refType) + '")');
    }
  }
  if (j.enum !== undefined) {
    const raw = j.enum;
    const elems: unknown[] = Array.isArray(raw) && raw[0] === 'set' && Array.isArray(raw[1]) ? raw[1] : [raw];
    const atoms = elems.map((e) => {
      if (b.type === 'uuid') {
        if (Array.isArray(e) && e[0] === 'uuid' && typeof e[1] === 'string') return e[1];
      } else if (typeof e === (b.type === 'integer' || b.type === 'real' ? 'number' : b.type)) {
        return e as Atom;
      }
      throw syntaxError(raw, null, `enum value does not match type ${b.type}`);
    });
    b.enum = [...new Set(atoms)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  }
  return b;
}

export function columnTypeFromJson(j: unknown): ColumnType {
  if (typeof j === 'string') return { key: baseTypeFromJson(j), min: 1, max: 1 };
  if (!isObject(j) || j.key === undefined) throw syntaxError(j, null, 'ovsdb type expected');
  const t: ColumnType = { key: baseTypeFromJson(j.key), min: 1, max: 1 };
  if (j.value !== undefined) t.value = baseTypeFromJson(j.value);
  if (j.min !== undefined) {
    if (typeof j.min !== 'number' || !Number.isInteger(j.min) || j.min < 0 || j.min > 1) {
      throw syntaxError(j, null, 'bad min or max value');
    }
    t.min = j.min;
  }
  if (j.max !== undefined) {
    if (j.max === 'unlimited') t.max = Infinity;
    else if (typeof j.max === 'number' && Number.isInteger(j.max) && j.max >= 1) t.max = j.max;
    else throw syntaxError(j, null, 'bad min or max value');
  }
  if (t.min > t.max) throw syntaxError(j, null, 'bad min or max value');
  return t;
}

export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw syntaxError(json, null, 'schema must be a JSON object');
  const { name, version, cksum, tables } = json;
  if (!isId(name)) throw syntaxError(json, null, 'database name must be an <id>');
  if (version !== undefined && (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version))) {
    throw syntaxError(json, null, `schema version "${String(version)}" is not in the format x.y.z`);
  }
  if (!isObject(tables)) throw syntaxError(json, null, "Parsing database schema failed: Required 'tables' member is missing.");
  const out = new Map<string, TableSchema>();
  let anyRoot = false;
  for (const [tname, tj] of Object.entries(tables)) {
    if (!isId(tname) || tname.startsWith('_')) throw syntaxError(tj, null, 'names beginning with "_" are reserved');
    if (!isObject(tj) || !isObject(tj.columns)) throw syntaxError(tj, null, `table ${tname} must have columns`);
    const columns = new Map<string, ColumnSchema>();
    columns.set('_uuid', { name: '_uuid', type: UUID_COLUMN_TYPE, mutable: false, ephemeral: false });
    columns.set('_version', { name: '_version', type: UUID_COLUMN_TYPE, mutable: false, ephemeral: true });
    const userColumns: ColumnSchema[] = [];
    for (const [cname, cj] of Object.entries(tj.columns)) {
      if (!isId(cname) || cname.startsWith('_')) throw syntaxError(cj, null, 'names beginning with "_" are reserved');
      if (!isObject(cj)) throw syntaxError(cj, null, 'column must be an object');
      const col: ColumnSchema = {
        name: cname,
        type: columnTypeFromJson(cj.type),
        mutable: cj.mutable !== false,
        ephemeral: cj.ephemeral === true,
      };
      columns.set(cname, col);
      userColumns.push(col);
    }
    const maxRows = tj.maxRows === undefined ? Infinity : Number(tj.maxRows);
    const indexes: string[][] = [];
    if (tj.indexes !== undefined) {
      if (!Array.isArray(tj.indexes)) throw syntaxError(tj, null, 'indexes must be an array');
      for (const idx of tj.indexes) {
        if (!Array.isArray(idx) || idx.length === 0 || !idx.every((c) => typeof c === 'string' && columns.has(c))) {
          throw syntaxError(idx, null, 'index must have at least one column');
        }
        indexes.push(idx as string[]);
      }
    }
    if (tj.isRoot === true) anyRoot = true;
    out.set(tname, { name: tname, columns, userColumns, isRoot: tj.isRoot === true, maxRows, indexes });
  }
  // RFC 7047: a schema that marks no table as root predates isRoot; then every table is a root.
  if (!anyRoot) for (const t of out.values()) t.isRoot = true;
  for (const t of out.values()) {
    for (const c of t.userColumns) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable && !out.has(b.refTable)) {
          throw new OvsdbError('syntax error', `column ${c.name} in table ${t.name} refers to undefined table ${b.refTable}`);
        }
      }
    }
  }
  return {
    name,
    // A schema without a version has the empty one (ovsdb-tool schema-version prints an empty line).
    version: typeof version === 'string' ? version : '',
    ...(typeof cksum === 'string' ? { cksum } : {}),
    tables: out,
    json: json as Json,
  };
}

/** ovsdb_base_type_to_json(). */
function baseTypeToJson(b: BaseType): Json {
  const o: JsonObject = { type: b.type };
  if (b.enum)
    o.enum =
      b.enum.length === 1
        ? b.type === 'uuid'
          ? ['uuid', b.enum[0] as string]
          : b.enum[0]!
        : ['set', b.enum.map((a) => (b.type === 'uuid' ? ['uuid', a as string] : a))];
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength'] as const) if (b[k] !== undefined) o[k] = b[k]!;
  if (b.refTable) {
    o.refTable = b.refTable;
    if (b.refType === 'weak') o.refType = 'weak';
  }
  return Object.keys(o).length === 1 ? b.type : o;
}

/** ovsdb_type_to_json(). */
function columnTypeToJson(t: ColumnType): Json {
  const key = baseTypeToJson(t.key);
  if (!t.value && t.min === 1 && t.max === 1 && typeof key === 'string') return key;
  const o: JsonObject = { key };
  if (t.value) o.value = baseTypeToJson(t.value);
  if (t.min !== 1) o.min = t.min;
  if (t.max !== 1) o.max = t.max === Infinity ? 'unlimited' : t.max;
  return o;
}

/** ovsdb_column_to_json(): a column's definition in its normal form (defaults left out). */
export function columnToJson(c: ColumnSchema): JsonObject {
  const cj: JsonObject = {};
  if (!c.mutable) cj.mutable = false;
  if (c.ephemeral) cj.ephemeral = true;
  cj.type = columnTypeToJson(c.type);
  return cj;
}

/** ovsdb_schema_to_json(): the schema in its normal form (defaults left out). */
export function schemaToJson(s: DatabaseSchema): JsonObject {
  const out: JsonObject = { name: s.name };
  if (s.version) out.version = s.version;
  if (s.cksum) out.cksum = s.cksum;
  const defaultIsRoot = [...s.tables.values()].every((t) => t.isRoot);
  const tables: JsonObject = {};
  for (const t of s.tables.values()) {
    const tj: JsonObject = {};
    if (defaultIsRoot !== t.isRoot) tj.isRoot = t.isRoot;
    const columns: JsonObject = {};
    for (const c of t.userColumns) columns[c.name] = columnToJson(c);
    tj.columns = columns;
    if (Number.isFinite(t.maxRows)) tj.maxRows = t.maxRows;
    if (t.indexes.length) tj.indexes = t.indexes;
    tables[t.name] = tj;
  }
  out.tables = tables;
  return out;
}

/** ovsdb_schema_equal(): whether two schemas have the same normal form. */
export function schemaEqual(a: DatabaseSchema, b: DatabaseSchema): boolean {
  return sortedJson(schemaToJson(a)) === sortedJson(schemaToJson(b));
}
