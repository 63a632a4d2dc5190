/**
 * Atoms and datums (RFC 7047 §5.1): the values of columns. A datum is a
 * sorted set of keys, plus parallel values for a map; a scalar is a set of
 * one. UUID atoms are kept as plain lower-case strings: the column's type
 * says they are UUIDs, so the JSON encoding ["uuid", ...] is added on output.
 */
import { OvsdbError, constraintViolation, syntaxError } from './errors.js';
import { type Json, isId, isUuid, ZERO_UUID } from './json.js';
import { type Atom, type BaseType, type ColumnType, isMap, maxForMessage } from './schema.js';

export type { Atom } from './schema.js';

export interface Datum {
  /** Sorted, no duplicates. */
  readonly keys: readonly Atom[];
  /** For maps: values[i] belongs to keys[i]. */
  readonly values?: readonly Atom[];
}

/** A named-uuid ("uuid-name") of one transaction. */
export interface UuidSymbol {
  uuid: string;
  /** An "insert" defined it. */
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}
export type SymbolTable = Map<string, UuidSymbol>;

export function compareAtoms(a: Atom, b: Atom): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const EMPTY_SET: Datum = Object.freeze({ keys: Object.freeze([]) });
const EMPTY_MAP: Datum = Object.freeze({ keys: Object.freeze([]), values: Object.freeze([]) });

export function emptyDatum(t: ColumnType): Datum {
  return t.value ? EMPTY_MAP : EMPTY_SET;
}

export function defaultAtom(b: BaseType): Atom {
  switch (b.type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
  }
}

const defaults = new WeakMap<ColumnType, Datum>();
/** The value a column has when nothing was stored in it. Shared, never mutate. */
export function defaultDatum(t: ColumnType): Datum {
  let d = defaults.get(t);
  if (!d) {
    d = t.min === 0 ? emptyDatum(t) : Object.freeze(t.value ? { keys: [defaultAtom(t.key)], values: [defaultAtom(t.value)] } : { keys: [defaultAtom(t.key)] });
    defaults.set(t, d);
  }
  return d;
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  if (a.keys.length !== b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) if (a.keys[i] !== b.keys[i]) return false;
  if (a.values && b.values) for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}

export function isDefault(d: Datum, t: ColumnType): boolean {
  return datumEquals(d, defaultDatum(t));
}

/** Builds a datum from unsorted pairs; returns the first duplicate key if any. */
function sortDatum(keys: Atom[], values: Atom[] | undefined): { datum: Datum; duplicate: boolean } {
  const n = keys.length;
  if (n < 2) return { datum: values ? { keys, values } : { keys }, duplicate: false };
  let sorted = true;
  for (let i = 1; i < n; i++)
    if (compareAtoms(keys[i - 1]!, keys[i]!) >= 0) {
      sorted = false;
      break;
    }
  if (sorted) return { datum: values ? { keys, values } : { keys }, duplicate: false };
  const idx = keys.map((_, i) => i).sort((x, y) => compareAtoms(keys[x]!, keys[y]!));
  const k = idx.map((i) => keys[i]!);
  const v = values ? idx.map((i) => values[i]!) : undefined;
  let duplicate = false;
  for (let i = 1; i < n; i++) if (k[i - 1] === k[i]) duplicate = true;
  return { datum: v ? { keys: k, values: v } : { keys: k }, duplicate };
}

/** ovsdb_atom_to_string(): bare strings where unambiguous, else quoted. */
export function atomToString(a: Atom, b: BaseType): string {
  if (b.type === 'string') {
    const s = a as string;
    const bare = s !== '' && /^[A-Za-z_][A-Za-z0-9_\-.:]*$/.test(s) && !['true', 'false'].includes(s) && !isUuid(s);
    return bare ? s : JSON.stringify(s);
  }
  if (b.type === 'real') return String(Number((a as number).toPrecision(15)));
  return String(a);
}

/** ovsdb_datum_to_string(): [a, b], {k=v}, or a bare scalar. */
export function datumToString(d: Datum, t: ColumnType): string {
  const items = d.keys.map((k, i) => (t.value ? `${atomToString(k, t.key)}=${atomToString(d.values![i]!, t.value)}` : atomToString(k, t.key)));
  if (t.max > 1 || d.keys.length === 0) return t.value ? `{${items.join(', ')}}` : `[${items.join(', ')}]`;
  return items.join(', ');
}

function checkAtom(a: Atom, b: BaseType): OvsdbError | null {
  if (b.enum && !b.enum.includes(a)) {
    const t: ColumnType = { key: { type: b.type }, min: 0, max: Infinity };
    return constraintViolation(`${atomToString(a, b)} is not one of the allowed values (${datumToString({ keys: b.enum }, t)})`);
  }
  if (b.type === 'integer' || b.type === 'real') {
    const n = a as number;
    const min = b.type === 'integer' ? b.minInteger : b.minReal;
    const max = b.type === 'integer' ? b.maxInteger : b.maxReal;
    const fmt = (x: number) => (b.type === 'real' ? String(Number(x.toPrecision(15))) : String(x));
    if ((min === undefined || n >= min) && (max === undefined || n <= max)) return null;
    if (min !== undefined && max !== undefined) return constraintViolation(`${fmt(n)} is not in the valid range ${fmt(min)} to ${fmt(max)} (inclusive)`);
    if (min !== undefined) return constraintViolation(`${fmt(n)} is less than minimum allowed value ${fmt(min)}`);
    return constraintViolation(`${fmt(n)} is greater than maximum allowed value ${fmt(max!)}`);
  }
  if (b.type === 'string') {
    const s = a as string;
    const len = [...s].length;
    if (b.minLength !== undefined && len < b.minLength) return constraintViolation(`"${s}" length ${len} is less than minimum allowed length ${b.minLength}`);
    if (b.maxLength !== undefined && len > b.maxLength)
      return constraintViolation(`"${s}" length ${len} is greater than maximum allowed length ${b.maxLength}`);
  }
  return null;
}

/** Checks every atom against its base type's constraints (not references: those are checked at commit). */
export function checkDatum(d: Datum, t: ColumnType): OvsdbError | null {
  for (const k of d.keys) {
    const e = checkAtom(k, t.key);
    if (e) return e;
  }
  if (t.value && d.values) {
    for (const v of d.values) {
      const e = checkAtom(v, t.value);
      if (e) return e;
    }
  }
  return null;
}

function jsonTypeName(b: BaseType): string {
  return b.type;
}

/**
 * Parses an <atom>. Type errors are syntax errors; constraint violations are
 * reported when `check` is set (as ovsdb_atom_from_json does). A symbol table
 * allows ["named-uuid", NAME]: unknown names get a fresh UUID, to be defined
 * by an "insert" later in the same transaction.
 */
export function atomFromJson(b: BaseType, j: unknown, symtab?: SymbolTable, check = true): Atom {
  let a: Atom | undefined;
  switch (b.type) {
    case 'integer':
      if (typeof j === 'number' && Number.isInteger(j)) a = j;
      break;
    case 'real':
      if (typeof j === 'number' && Number.isFinite(j)) a = j;
      break;
    case 'boolean':
      if (typeof j === 'boolean') a = j;
      break;
    case 'string':
      if (typeof j === 'string') a = j;
      break;
    case 'uuid':
      if (Array.isArray(j) && j.length === 2 && j[0] === 'uuid' && typeof j[1] === 'string') {
        if (!isUuid(j[1])) throw syntaxError(j, null, `"${j[1]}" is not a valid UUID`);
        a = j[1].toLowerCase();
      } else if (symtab && Array.isArray(j) && j.length === 2 && j[0] === 'named-uuid' && typeof j[1] === 'string') {
        if (!isId(j[1])) throw syntaxError(j, null, 'named-uuid string is not a valid <id>');
        let sym = symtab.get(j[1]);
        if (!sym) {
          sym = { uuid: crypto.randomUUID(), created: false, strongRef: false, weakRef: false };
          symtab.set(j[1], sym);
        }
        if (b.refTable) {
          if (b.refType === 'weak') sym.weakRef = true;
          else sym.strongRef = true;
        }
        a = sym.uuid;
      } else {
        throw syntaxError(j, null, 'expected ["uuid", <string>]');
      }
      break;
  }
  if (a === undefined) throw syntaxError(j, null, `expected ${jsonTypeName(b)}`);
  if (check) {
    const e = checkAtom(a, b);
    if (e) throw e;
  }
  return a;
}

/** Parses a <value> of column type `t` (ovsdb_datum_from_json). */
export function datumFromJson(t: ColumnType, j: unknown, symtab?: SymbolTable, check = true): Datum {
  const map = isMap(t);
  if (map || (Array.isArray(j) && j.length > 0 && j[0] === 'set')) {
    const cls = map ? 'map' : 'set';
    if (!Array.isArray(j) || j.length !== 2 || j[0] !== cls || !Array.isArray(j[1])) {
      throw syntaxError(j, null, `expected ["${cls}", <array>]`);
    }
    const inner = j[1] as unknown[];
    const n = inner.length;
    if (n < t.min || n > t.max) {
      if (t.min === 1 && t.max === 1) throw syntaxError(j, null, `${cls} must have exactly one member but ${n} are present`);
      throw syntaxError(j, null, `${cls} must have ${t.min} to ${maxForMessage(t.max)} members but ${n} are present`);
    }
    const keys: Atom[] = new Array(n);
    const values: Atom[] | undefined = map ? new Array(n) : undefined;
    for (let i = 0; i < n; i++) {
      const e = inner[i];
      if (map) {
        if (!Array.isArray(e) || e.length !== 2) throw syntaxError(e, null, 'expected 2-element array');
        keys[i] = atomFromJson(t.key, e[0], symtab, check);
        values![i] = atomFromJson(t.value!, e[1], symtab, check);
      } else {
        keys[i] = atomFromJson(t.key, e, symtab, check);
      }
    }
    const { datum, duplicate } = sortDatum(keys, values);
    // ovsdb-server reports this one untagged ("ovsdb error") and without the JSON.
    if (duplicate) throw new OvsdbError('ovsdb error', map ? 'map contains duplicate key' : 'set contains duplicate');
    return datum;
  }
  if (t.min > 1 || t.max < 1) throw syntaxError(j, null, `set must have ${t.min} to ${maxForMessage(t.max)} members but 1 are present`);
  return { keys: [atomFromJson(t.key, j, symtab, check)] };
}

export type UuidEncoder = (uuid: string) => Json;
const plainUuid: UuidEncoder = (u) => ['uuid', u];

export function atomToJson(a: Atom, b: BaseType, uuid: UuidEncoder = plainUuid): Json {
  return b.type === 'uuid' ? uuid(a as string) : a;
}

/** ovsdb_datum_to_json(): a map as ["map", ...], one element bare, else ["set", ...]. */
export function datumToJson(d: Datum, t: ColumnType, uuid: UuidEncoder = plainUuid): Json {
  if (t.value) {
    return ['map', d.keys.map((k, i) => [atomToJson(k, t.key, uuid), atomToJson(d.values![i]!, t.value!, uuid)])];
  }
  if (d.keys.length === 1) return atomToJson(d.keys[0]!, t.key, uuid);
  return ['set', d.keys.map((k) => atomToJson(k, t.key, uuid))];
}

function indexOfKey(keys: readonly Atom[], k: Atom): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(keys[mid]!, k);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Merges two sorted datums; for keys in both, `pick` decides (null drops the key). */
function merge(
  a: Datum,
  b: Datum,
  isMapType: boolean,
  pick: (inA: boolean, inB: boolean, av: Atom | undefined, bv: Atom | undefined) => Atom | null | undefined,
): Datum {
  const keys: Atom[] = [];
  const values: Atom[] = [];
  let i = 0;
  let j = 0;
  const push = (k: Atom, v: Atom | null | undefined) => {
    if (v === null) return;
    keys.push(k);
    if (isMapType) values.push(v as Atom);
  };
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i]!, b.keys[j]!);
    if (c < 0) {
      push(a.keys[i]!, pick(true, false, a.values?.[i], undefined));
      i++;
    } else if (c > 0) {
      push(b.keys[j]!, pick(false, true, undefined, b.values?.[j]));
      j++;
    } else {
      push(a.keys[i]!, pick(true, true, a.values?.[i], b.values?.[j]));
      i++;
      j++;
    }
  }
  return isMapType ? { keys, values } : { keys };
}

const KEEP = (v: Atom | undefined): Atom => (v === undefined ? (true as Atom) : v);

/** Mutator "insert": adds elements; a map keeps the existing value of a key already present. */
export function datumUnion(a: Datum, b: Datum, t: ColumnType): Datum {
  if (!b.keys.length) return a;
  if (b.keys.length === 1 && !t.value) {
    const k = b.keys[0]!;
    if (indexOfKey(a.keys, k) >= 0) return a;
  }
  return merge(a, b, !!t.value, (inA, _inB, av, bv) => KEEP(inA ? av : bv));
}

/**
 * Mutator "delete": a set loses the given elements; a map loses the pairs of
 * `b` when `b` is a map (key and value must match), or the keys when `b` is a set.
 */
export function datumSubtract(a: Datum, b: Datum, t: ColumnType): Datum {
  if (!b.keys.length) return a;
  const bIsMap = !!b.values;
  return merge(a, b, !!t.value, (inA, inB, av, bv) => {
    if (!inA) return null;
    if (!inB) return KEEP(av);
    if (t.value && bIsMap && av !== bv) return KEEP(av);
    return null;
  });
}

/**
 * The RFC 7047-extension "diff" of update2 notifications and of the database
 * file's "_is_diff" records: for a column of at most one element, the new
 * value; for a set, the elements
 * added or removed; for a map, pairs removed (old value), added or changed
 * (new value).
 */
export function datumDiff(oldD: Datum, newD: Datum, t: ColumnType): Datum {
  if (t.max <= 1) return newD;
  return merge(oldD, newD, !!t.value, (inOld, inNew, ov, nv) => {
    if (inOld && inNew) return t.value && ov !== nv ? (nv as Atom) : null;
    return KEEP(inOld ? ov : nv);
  });
}

/**
 * A <diff> of an update2/update3 "modify" from JSON: a set's or map's diff names the elements
 * that change, as many as they are (the column's size limits are the result's, not the diff's).
 */
export function diffFromJson(t: ColumnType, j: unknown): Datum {
  return datumFromJson(t.max > 1 ? { ...t, min: 0, max: Number.POSITIVE_INFINITY } : t, j, undefined, false);
}

/** Applies a diff made by datumDiff. */
export function applyDiff(oldD: Datum, diff: Datum, t: ColumnType): Datum {
  if (t.max <= 1) return diff;
  return merge(oldD, diff, !!t.value, (inOld, inDiff, ov, dv) => {
    if (inOld && inDiff) return t.value && ov !== dv ? (dv as Atom) : null;
    return KEEP(inOld ? ov : dv);
  });
}

/** Whether `d` has a size allowed by `t` (ovsdb_datum_conforms_to_type). */
export function sizeOk(d: Datum, t: ColumnType): boolean {
  return d.keys.length >= t.min && d.keys.length <= t.max;
}

export function includesDatum(big: Datum, small: Datum): boolean {
  for (let i = 0; i < small.keys.length; i++) {
    const at = indexOfKey(big.keys, small.keys[i]!);
    if (at < 0) return false;
    if (small.values && big.values && big.values[at] !== small.values[i]) return false;
  }
  return true;
}

export function excludesDatum(big: Datum, small: Datum): boolean {
  for (let i = 0; i < small.keys.length; i++) {
    const at = indexOfKey(big.keys, small.keys[i]!);
    if (at >= 0 && (!small.values || !big.values || big.values[at] === small.values[i])) return false;
  }
  return true;
}

/** The UUIDs a datum references in tables, per (table, strength), for ref counting. */
export function forEachRef(d: Datum, t: ColumnType, fn: (table: string, uuid: string, weak: boolean) => void): void {
  if (t.key.refTable) for (const k of d.keys) fn(t.key.refTable, k as string, t.key.refType === 'weak');
  if (t.value?.refTable && d.values) for (const v of d.values) fn(t.value.refTable, v as string, t.value.refType === 'weak');
}

/** Drops the pairs/elements whose UUID (key or value, where a weak ref) fails `keep`. */
export function filterWeakRefs(d: Datum, t: ColumnType, keep: (table: string, uuid: string) => boolean): Datum {
  const kw = t.key.refTable && t.key.refType === 'weak' ? t.key.refTable : undefined;
  const vw = t.value?.refTable && t.value.refType === 'weak' ? t.value.refTable : undefined;
  if (!kw && !vw) return d;
  const keys: Atom[] = [];
  const values: Atom[] = [];
  let dropped = false;
  for (let i = 0; i < d.keys.length; i++) {
    const k = d.keys[i]!;
    const v = d.values?.[i];
    if ((kw && !keep(kw, k as string)) || (vw && !keep(vw, v as string))) {
      dropped = true;
      continue;
    }
    keys.push(k);
    if (d.values) values.push(v!);
  }
  if (!dropped) return d;
  return d.values ? { keys, values } : { keys };
}
