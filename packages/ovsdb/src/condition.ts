/** Conditions (RFC 7047 §5.1 <condition>) for where clauses and monitor_cond. */
import { type Datum, type SymbolTable, datumEquals, datumFromJson, excludesDatum, includesDatum } from './datum.js';
import { syntaxError } from './errors.js';
import { type ColumnSchema, type TableSchema, isOptionalScalar, isScalar, typeToEnglish } from './schema.js';

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
const FUNCTIONS: readonly string[] = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'];

export type Clause = boolean | { column: ColumnSchema; fn: ConditionFunction; arg: Datum };
/** A conjunction of clauses; empty matches every row. */
export type Condition = Clause[];

/** Reads a column of a row, `_uuid` and `_version` included. */
export type FieldGetter = (column: string) => Datum;

export function parseClause(ts: TableSchema, j: unknown, symtab?: SymbolTable): Clause {
  if (j === true || j === false) return j;
  if (!Array.isArray(j) || j.length !== 3 || typeof j[0] !== 'string' || typeof j[1] !== 'string') {
    throw syntaxError(j, null, 'Parse error in condition.');
  }
  const column = ts.columns.get(j[0]);
  if (!column) throw syntaxError(j, 'unknown column', `No column ${j[0]} in table ${ts.name}.`);
  if (!FUNCTIONS.includes(j[1])) throw syntaxError(undefined, 'unknown function', `No function named ${j[1]}.`);
  const fn = j[1] as ConditionFunction;
  let type = column.type;
  switch (fn) {
    case '<':
    case '<=':
    case '>':
    case '>=':
      if (!(isScalar(type) || isOptionalScalar(type)) || (type.key.type !== 'integer' && type.key.type !== 'real')) {
        throw syntaxError(j, null, `Type mismatch: "${fn}" operator may not be applied to column ${column.name} of type ${typeToEnglish(type)}.`);
      }
      type = { ...type, min: 1 };
      break;
    case 'excludes':
      if (!isScalar(type)) type = { ...type, min: 0, max: Infinity };
      break;
    case 'includes':
      if (!isScalar(type)) type = { ...type, min: 0 };
      break;
    default:
      break;
  }
  return { column, fn, arg: datumFromJson(type, j[2], symtab) };
}

export function parseCondition(ts: TableSchema, j: unknown, symtab?: SymbolTable): Condition {
  if (!Array.isArray(j)) throw syntaxError(j, null, 'Parse error in condition.');
  return j.map((c) => parseClause(ts, c, symtab));
}

function evalClause(c: Clause, get: FieldGetter): boolean {
  if (typeof c === 'boolean') return c;
  const field = get(c.column.name);
  const { arg, fn } = c;
  const t = c.column.type;
  if (isOptionalScalar(t) && field.keys.length === 0 && (fn === '<' || fn === '<=' || fn === '>' || fn === '>=')) return false;
  if ((isScalar(t) || isOptionalScalar(t)) && field.keys.length === 1 && arg.keys.length === 1) {
    const a = field.keys[0]!;
    const b = arg.keys[0]!;
    switch (fn) {
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '==':
      case 'includes':
        return a === b;
      case '!=':
      case 'excludes':
        return a !== b;
      case '>=':
        return a >= b;
      case '>':
        return a > b;
    }
  }
  switch (fn) {
    case '==':
      return datumEquals(field, arg);
    case '!=':
      return !datumEquals(field, arg);
    case 'includes':
      return includesDatum(field, arg);
    case 'excludes':
      return excludesDatum(field, arg);
    default:
      return false;
  }
}

export function evaluate(cond: Condition, get: FieldGetter): boolean {
  for (const c of cond) if (!evalClause(c, get)) return false;
  return true;
}

/** The row UUID a condition pins with `_uuid == U`, so a query needs no scan. */
export function pinnedUuid(cond: Condition): string | undefined {
  for (const c of cond) {
    if (typeof c !== 'boolean' && c.column.name === '_uuid' && c.fn === '==' && c.arg.keys.length === 1) return c.arg.keys[0] as string;
  }
  return undefined;
}
