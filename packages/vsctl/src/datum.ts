/**
 * Values as ovs-vsctl reads and writes them on the command line
 * (lib/ovsdb-data.c): atoms and datums parsed from strings such as
 * `{remote_ip="192.0.2.1"}`, `[1, 2]`, `1-5` or `@name`, printed back in the
 * same syntax, "bare" (--bare), or as OVSDB JSON (--format=json). A datum is
 * kept sorted by key, as @ovs/ovsdb keeps it, so printing order matches the
 * real tool's.
 */
import { type Atom, type BaseType, type ColumnType, type Datum, typeToEnglish } from '@ovs/ovsdb';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const isUuid = (s: string): boolean => UUID_RE.test(s);
export const isMapType = (t: ColumnType): boolean => t.value !== undefined;

export function compareAtoms(a: Atom, b: Atom): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a.keys.length !== b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) {
    if (a.keys[i] !== b.keys[i]) return false;
    if (a.values && b.values && a.values[i] !== b.values[i]) return false;
  }
  return true;
}

function defaultAtom(b: BaseType): Atom {
  return b.type === 'integer' || b.type === 'real' ? 0 : b.type === 'boolean' ? false : b.type === 'string' ? '' : '00000000-0000-0000-0000-000000000000';
}

export function defaultDatum(t: ColumnType): Datum {
  if (t.min === 0) return t.value ? { keys: [], values: [] } : { keys: [] };
  return t.value ? { keys: [defaultAtom(t.key)], values: [defaultAtom(t.value)] } : { keys: [defaultAtom(t.key)] };
}

export function isDefault(d: Datum, t: ColumnType): boolean {
  return datumEquals(d, defaultDatum(t));
}

/** Builds a sorted datum from pairs; `dup` is true when a key repeats. */
export function sortedDatum(pairs: [Atom, Atom | undefined][], map: boolean): { datum: Datum; dup: boolean } {
  pairs.sort((x, y) => compareAtoms(x[0], y[0]));
  let dup = false;
  for (let i = 1; i < pairs.length; i++) if (pairs[i - 1]![0] === pairs[i]![0]) dup = true;
  const keys = pairs.map((p) => p[0]);
  return { datum: map ? { keys, values: pairs.map((p) => p[1]!) } : { keys }, dup };
}

function pairsOf(d: Datum): [Atom, Atom | undefined][] {
  return d.keys.map((k, i) => [k, d.values?.[i]]);
}

/** ovsdb_datum_union(): adds b's elements; for a map, a's value wins on a shared key. Linear: both are sorted. */
export function datumUnion(a: Datum, b: Datum, map: boolean): Datum {
  if (!b.keys.length) return a;
  const keys: Atom[] = [];
  const values: Atom[] = [];
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i]!, b.keys[j]!);
    const fromA = c <= 0;
    keys.push(fromA ? a.keys[i]! : b.keys[j]!);
    if (map) values.push(fromA ? a.values![i]! : b.values![j]!);
    if (c <= 0) i++;
    if (c >= 0) j++;
  }
  return map ? { keys, values } : { keys };
}

/** ovsdb_datum_subtract(): `b` a map removes matching pairs, a set removes keys. */
export function datumSubtract(a: Datum, b: Datum): Datum {
  if (!b.keys.length) return a;
  const drop = new Map<Atom, Atom | undefined>(pairsOf(b));
  const keep = pairsOf(a).filter(([k, v]) => !drop.has(k) || (b.values !== undefined && drop.get(k) !== v));
  return sortedDatum(keep, a.values !== undefined).datum;
}

export function findKey(d: Datum, k: Atom): number {
  return d.keys.indexOf(k);
}

// --- printing -----------------------------------------------------------------

/** string_needs_quotes(): bare only for identifiers that do not read as something else. */
function needsQuotes(s: string): boolean {
  return !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s) || s === 'true' || s === 'false' || isUuid(s);
}

/** json_to_ds() of a string: the escapes OVS's JSON writer uses. */
export function jsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c < 0x20) {
      const named: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
      out += named[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}

/** printf("%.15g"). */
export function formatReal(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const p = x.toPrecision(15);
  if (p.includes('e')) {
    const [m, e] = p.split('e');
    const mant = m!.includes('.') ? m!.replace(/0+$/, '').replace(/\.$/, '') : m!;
    const exp = Number(e);
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return p.includes('.') ? p.replace(/0+$/, '').replace(/\.$/, '') : p;
}

export function atomToString(a: Atom, b: BaseType): string {
  switch (b.type) {
    case 'string':
      return needsQuotes(a as string) ? jsonString(a as string) : (a as string);
    case 'real':
      return formatReal(a as number);
    default:
      return String(a);
  }
}

export function atomToBare(a: Atom, b: BaseType): string {
  return b.type === 'string' ? (a as string) : atomToString(a, b);
}

/** ovsdb_datum_to_string(): brackets for sets/maps and empty values, else the bare scalar. */
export function datumToString(d: Datum, t: ColumnType): string {
  const map = isMapType(t);
  const items = d.keys.map((k, i) => (map ? `${atomToString(k, t.key)}=${atomToString(d.values![i]!, t.value!)}` : atomToString(k, t.key)));
  const body = items.join(', ');
  if (t.max > 1 || d.keys.length === 0) return map ? `{${body}}` : `[${body}]`;
  return body;
}

export function datumToBare(d: Datum, t: ColumnType): string {
  return d.keys.map((k, i) => (t.value ? `${atomToBare(k, t.key)}=${atomToBare(d.values![i]!, t.value)}` : atomToBare(k, t.key))).join(' ');
}

/** ovsdb_datum_to_json() rendered as OVS's sorted JSON text. */
export function datumToJsonText(d: Datum, t: ColumnType): string {
  const atom = (a: Atom, b: BaseType): string => {
    if (b.type === 'uuid') return `["uuid",${jsonString(a as string)}]`;
    if (b.type === 'string') return jsonString(a as string);
    if (b.type === 'real') return Number.isInteger(a) ? `${a}.0` : String(a);
    return String(a);
  };
  if (t.value) return `["map",[${d.keys.map((k, i) => `[${atom(k, t.key)},${atom(d.values![i]!, t.value!)}]`).join(',')}]]`;
  if (d.keys.length === 1) return atom(d.keys[0]!, t.key);
  return `["set",[${d.keys.map((k) => atom(k, t.key)).join(',')}]]`;
}

// --- parsing ------------------------------------------------------------------

export interface Symbol {
  uuid: string;
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}

/** `@name` row ids of one ovs-vsctl invocation (ovsdb_symbol_table). */
export class SymbolTable {
  readonly symbols = new Map<string, Symbol>();

  insert(name: string): Symbol {
    let s = this.symbols.get(name);
    if (!s) {
      s = { uuid: crypto.randomUUID(), created: false, strongRef: false, weakRef: false };
      this.symbols.set(name, s);
    }
    return s;
  }
}

const DELIMS = ':=, []{}!<>';
export const isDelim = (c: string | undefined): boolean => c === undefined || DELIMS.includes(c);

/** ovsdb_token_parse(): up to a delimiter; backslash escapes, quotes protect (and are kept). */
export function parseToken(s: string, pos: number): { token: string; pos: number } {
  let out = '';
  let inQuotes = false;
  let p = pos;
  while (p < s.length) {
    const c = s[p++]!;
    if (c === '\\') {
      if (inQuotes) out += '\\';
      if (p >= s.length) throw new Error(`${s.slice(pos)}: backslash at end of argument`);
      out += s[p++];
    } else if (!inQuotes && DELIMS.includes(c)) {
      p--;
      break;
    } else {
      out += c;
      if (c === '"') inQuotes = !inQuotes;
    }
  }
  if (inQuotes) throw new Error(`${s.slice(pos)}: quoted string extends past end of argument`);
  return { token: out, pos: p };
}

function rangeText(min: number | undefined, max: number | undefined, x: number, fmt: (n: number) => string): string | null {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (x >= lo && x <= hi) return null;
  if (min !== undefined) {
    return max !== undefined
      ? `${fmt(x)} is not in the valid range ${fmt(min)} to ${fmt(max)} (inclusive)`
      : `${fmt(x)} is less than minimum allowed value ${fmt(min)}`;
  }
  return `${fmt(x)} is greater than maximum allowed value ${fmt(max!)}`;
}

/** ovsdb_atom_check_constraints(), as "constraint violation: ..." text. */
export function checkAtom(a: Atom, b: BaseType): string | null {
  if (b.enum && !b.enum.includes(a)) {
    const valid = datumToString({ keys: [...b.enum].sort(compareAtoms) }, { key: { type: b.type }, min: 0, max: Infinity });
    return `constraint violation: ${atomToString(a, b)} is not one of the allowed values (${valid})`;
  }
  let msg: string | null = null;
  if (b.type === 'integer') msg = rangeText(b.minInteger, b.maxInteger, a as number, String);
  else if (b.type === 'real') msg = rangeText(b.minReal, b.maxReal, a as number, formatReal);
  else if (b.type === 'string') {
    const n = [...(a as string)].length;
    if (b.minLength !== undefined && n < b.minLength) msg = `"${a}" length ${n} is less than minimum allowed length ${b.minLength}`;
    else if (b.maxLength !== undefined && n > b.maxLength) msg = `"${a}" length ${n} is greater than maximum allowed length ${b.maxLength}`;
  }
  return msg && `constraint violation: ${msg}`;
}

function unescapeJsonString(body: string, whole: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    throw new Error(`${whole}: invalid JSON string escape`);
  }
}

/**
 * ovsdb_atom_from_string(). With `range`, an integer may be "A-B" (a set of
 * integers written as a range, e.g. trunks=1-5); the result then has several atoms.
 */
export function atomFromString(s: string, b: BaseType, symtab?: SymbolTable, range = false): Atom[] {
  let atoms: Atom[];
  switch (b.type) {
    case 'integer': {
      const m = range ? /^\s*([+-]?\d+)-([+-]?\d+)$/.exec(s) : null;
      if (m) {
        const lo = Number(m[1]);
        const hi = Number(m[2]);
        if (hi < lo) throw new Error(`"${s}" is not a valid range. Range end cannot be before start.`);
        if (hi - lo >= 4096) throw new Error(`constraint violation: Range "${lo}-${hi}" is too big. Maximum allowed size is 4096.`);
        atoms = [];
        for (let i = lo; i <= hi; i++) atoms.push(i);
      } else if (/^\s*[+-]?\d+$/.test(s)) atoms = [Number(s)];
      else throw new Error(`"${s}" is not a valid integer or range`);
      break;
    }
    case 'real': {
      const x = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : NaN;
      if (Number.isNaN(x)) throw new Error(`"${s}" is not a valid real number`);
      atoms = [x === 0 ? 0 : x];
      break;
    }
    case 'boolean':
      if (['true', 'yes', 'on', '1'].includes(s)) atoms = [true];
      else if (['false', 'no', 'off', '0'].includes(s)) atoms = [false];
      else throw new Error(`"${s}" is not a valid boolean (use "true" or "false")`);
      break;
    case 'string':
      if (s === '') throw new Error('An empty string is not valid as input; use "" to represent the empty string');
      if (s.startsWith('"')) {
        if (s.length < 2 || !s.endsWith('"')) throw new Error(`${s}: missing quote at end of quoted string`);
        atoms = [unescapeJsonString(s.slice(1, -1), s)];
      } else atoms = [s];
      break;
    case 'uuid':
      if (s.startsWith('@') && symtab) {
        const sym = symtab.insert(s);
        if (b.refTable) {
          if (b.refType === 'weak') sym.weakRef = true;
          else sym.strongRef = true;
        }
        atoms = [sym.uuid];
      } else if (isUuid(s)) atoms = [s.toLowerCase()];
      else throw new Error(`"${s}" is not a valid UUID`);
      break;
  }
  for (const a of atoms) {
    const e = checkAtom(a, b);
    if (e) throw new Error(e);
  }
  return atoms;
}

/** Parses one token at `pos` as an atom of `b`. */
function atomToken(s: string, pos: number, b: BaseType, symtab: SymbolTable | undefined, range: boolean): { atoms: Atom[]; pos: number } {
  const { token, pos: next } = parseToken(s, pos);
  return { atoms: atomFromString(token, b, symtab, range), pos: next };
}

const skipSpaces = (s: string, p: number): number => {
  while (p < s.length && /\s/.test(s[p]!)) p++;
  return p;
};

/** ovsdb_datum_from_string(): atoms or key=value pairs separated by spaces/commas, optionally in [] / {}. */
export function datumFromString(s: string, t: ColumnType, symtab?: SymbolTable): Datum {
  const map = isMapType(t);
  let p = skipSpaces(s, 0);
  let end = '';
  if (s[p] === (map ? '{' : '[')) {
    end = map ? '}' : ']';
    p = skipSpaces(s, p + 1);
  } else if (p >= s.length) {
    throw new Error(map ? 'use "{}" to specify the empty map' : 'use "[]" to specify the empty set');
  }
  const pairs: [Atom, Atom | undefined][] = [];
  while (p < s.length && s[p] !== end) {
    if (isDelim(s[p])) throw new Error(`${s}: unexpected "${s[p]}" parsing ${typeToEnglish(t)}`);
    const start = p;
    const k = atomToken(s, p, t.key, symtab, t.key.type === 'integer');
    p = k.pos;
    let v: Atom | undefined;
    if (map) {
      p = skipSpaces(s, p);
      if (s[p] !== '=') throw new Error(`${s.slice(start)}: syntax error at "${s[p] ?? ''}" expecting "="`);
      p = skipSpaces(s, p + 1);
      const val = atomToken(s, p, t.value!, symtab, false);
      v = val.atoms[0];
      p = val.pos;
    }
    for (const a of k.atoms) pairs.push([a, v]);
    p = skipSpaces(s, p);
    if (s[p] === ',') p = skipSpaces(s, p + 1);
  }
  if ((s[p] ?? '') !== end) throw new Error(`${s}: missing "${end}" at end of data`);
  if (end && skipSpaces(s, p + 1) < s.length) throw new Error(`${s}: trailing garbage after "${end}"`);
  const what = map ? 'pair(s)' : 'value(s)';
  if (pairs.length < t.min) throw new Error(`${s}: ${pairs.length} ${what} specified but the minimum number is ${t.min}`);
  if (pairs.length > t.max) throw new Error(`${s}: ${pairs.length} ${what} specified but the maximum number is ${t.max}`);
  const { datum, dup } = sortedDatum(pairs, map);
  if (dup) throw new Error(map ? `${s}: map contains duplicate key` : `${s}: set contains duplicate value`);
  return datum;
}
