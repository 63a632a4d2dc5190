/** Mutations (RFC 7047 §5.1 <mutation>) for the "mutate" operation. */
import { type Atom, type Datum, type SymbolTable, checkDatum, compareAtoms, datumFromJson, datumSubtract, datumUnion, sizeOk } from './datum.js';
import { OvsdbError, constraintViolation, syntaxError } from './errors.js';
import { type ColumnSchema, type ColumnType, type TableSchema, isMap, isScalar, isSet, typeToEnglish } from './schema.js';

export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
const MUTATORS: readonly string[] = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'];

export interface Mutation {
  column: ColumnSchema;
  mutator: Mutator;
  arg: Datum;
  argType: ColumnType;
}

const INT64_MAX = 2 ** 63 - 1;

export function parseMutation(ts: TableSchema, j: unknown, symtab?: SymbolTable): Mutation {
  if (!Array.isArray(j) || j.length !== 3 || typeof j[0] !== 'string' || typeof j[1] !== 'string') {
    throw syntaxError(j, null, 'Parse error in mutation.');
  }
  const column = ts.columns.get(j[0]);
  if (!column) throw syntaxError(j, 'unknown column', `No column ${j[0]} in table ${ts.name}.`);
  if (!column.mutable) throw syntaxError(j, 'constraint violation', `Cannot mutate immutable column ${j[0]} in table ${ts.name}.`);
  if (!MUTATORS.includes(j[1])) throw syntaxError(undefined, 'unknown mutator', `No mutator named ${j[1]}.`);
  const mutator = j[1] as Mutator;
  const t = column.type;
  const mismatch = () => syntaxError(j, null, `Type mismatch: "${mutator}" operator may not be applied to column ${column.name} of type ${typeToEnglish(t)}.`);
  if (mutator === 'insert' || mutator === 'delete') {
    if (!isSet(t) && !isMap(t)) throw mismatch();
    const argType: ColumnType = { ...t, min: 0, max: mutator === 'delete' ? Infinity : t.max };
    try {
      return { column, mutator, arg: datumFromJson(argType, j[2], symtab), argType };
    } catch (e) {
      if (!(mutator === 'delete' && isMap(t))) throw e;
      // Deleting from a map by keys alone: the argument is a set of keys.
      const keyType: ColumnType = { key: t.key, min: 0, max: Infinity };
      return { column, mutator, arg: datumFromJson(keyType, j[2], symtab), argType: keyType };
    }
  }
  if ((!isScalar(t) && !isSet(t)) || (t.key.type !== 'integer' && t.key.type !== 'real') || (mutator === '%=' && t.key.type === 'real')) {
    throw mismatch();
  }
  const argType: ColumnType = { key: { type: t.key.type }, min: 1, max: 1 };
  return { column, mutator, arg: datumFromJson(argType, j[2], symtab), argType };
}

function arith(mutator: Mutator, x: number, y: number, integer: boolean): number {
  let r: number;
  switch (mutator) {
    case '+=':
      r = x + y;
      break;
    case '-=':
      r = x - y;
      break;
    case '*=':
      r = x * y;
      break;
    case '/=':
      if (y === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = integer ? Math.trunc(x / y) : x / y;
      break;
    default:
      if (y === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = x % y;
  }
  if (integer ? Math.abs(r) > INT64_MAX : !Number.isFinite(r)) {
    throw new OvsdbError('range error', `Result of "${mutator}" operation is out of range.`);
  }
  return r;
}

/** Applies one mutation to a column's value; throws the RFC's errors. */
export function applyMutation(m: Mutation, d: Datum): Datum {
  const t = m.column.type;
  if (m.mutator === 'insert' || m.mutator === 'delete') {
    const out = m.mutator === 'insert' ? datumUnion(d, m.arg, t) : datumSubtract(d, m.arg, t);
    if (!sizeOk(out, t)) throw constraintViolation(`Attempted to store ${out.keys.length} elements in ${typeToEnglish(t)}.`);
    return out;
  }
  const y = m.arg.keys[0] as number;
  const keys: Atom[] = d.keys.map((x) => arith(m.mutator, x as number, y, t.key.type === 'integer'));
  const out: Datum = { keys };
  const e = checkDatum(out, { key: t.key, min: 0, max: Infinity });
  if (e) throw e;
  keys.sort(compareAtoms);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i] === keys[i - 1]) throw constraintViolation(`Result of "${m.mutator}" operation contains duplicates.`);
  }
  return out;
}
