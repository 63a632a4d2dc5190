/**
 * The IDL (lib/ovsdb-idl.c): a local replica of the monitored tables, kept
 * current by "update2" notifications, with a change sequence number — what
 * ovs-vswitchd's bridge_run compares to decide whether to reconfigure — and
 * transactions built from row changes, with "verify" (a "wait" on the columns
 * read) for optimistic concurrency and "increment" (ovs-vsctl's next_cfg++).
 *
 * Values are plain JavaScript: a scalar column is its atom, an optional one
 * (min 0, max 1) the atom or null, a set an array, a map a Map; UUIDs are
 * strings.
 */
import { type ReconnectOptions, ConnectionClosedError, OvsdbClient, RpcError } from './client.js';
import {
  type Atom,
  type Datum,
  type UuidEncoder,
  applyDiff,
  atomFromJson,
  compareAtoms,
  datumFromJson,
  datumToJson,
  defaultDatum,
  diffFromJson,
} from './datum.js';
import { OvsdbError } from './errors.js';
import type { Json, JsonObject } from './json.js';
import { type ColumnType, type DatabaseSchema, type TableSchema, isMap, isOptionalScalar, isScalar, parseSchema } from './schema.js';

export type Uuid = string;
/** Row types per table name; see VswitchTables for the vswitch schema's. */
export type TableTypes = Record<string, Record<string, unknown>>;
export type AnyTables = Record<string, Record<string, unknown>>;

/** Datum → JavaScript value, by column type. */
export function datumToValue(d: Datum, t: ColumnType): unknown {
  if (isMap(t)) return new Map(d.keys.map((k, i) => [k, d.values![i]]));
  if (isScalar(t)) return d.keys[0];
  if (isOptionalScalar(t)) return d.keys.length ? d.keys[0] : null;
  return [...d.keys];
}

/** JavaScript value → datum, by column type (sizes are left to the server to check). */
export function valueToDatum(v: unknown, t: ColumnType): Datum {
  const atom = (x: unknown, b = t.key): Atom => {
    if (b.type === 'uuid' && typeof x === 'string') return x;
    return atomFromJson(b, x, undefined, false);
  };
  if (isMap(t)) {
    const entries: [unknown, unknown][] = v instanceof Map ? [...v.entries()] : v && typeof v === 'object' ? Object.entries(v as object) : [];
    const pairs = entries.map(([k, val]) => [atom(k), atom(val, t.value!)] as const).sort((a, b) => compareAtoms(a[0], b[0]));
    return { keys: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) };
  }
  if (v === null || v === undefined) return { keys: [] };
  const items = Array.isArray(v) ? v : [v];
  return { keys: [...new Set(items.map((x) => atom(x)))].sort(compareAtoms) };
}

export class IdlRow<R extends Record<string, unknown> = Record<string, unknown>> {
  /** @internal */
  fields: Record<string, Datum>;

  constructor(
    readonly table: TableSchema,
    readonly uuid: Uuid,
  ) {
    this.fields = {};
    for (const c of table.userColumns) this.fields[c.name] = defaultDatum(c.type);
  }

  get<C extends keyof R & string>(column: C): R[C] {
    const c = this.table.columns.get(column);
    if (!c) throw new Error(`no column ${column} in table ${this.table.name}`);
    if (column === '_uuid') return this.uuid as R[C];
    return datumToValue(this.fields[column]!, c.type) as R[C];
  }

  datum(column: string): Datum {
    return this.fields[column]!;
  }

  toObject(): R & { _uuid: Uuid } {
    const o: Record<string, unknown> = { _uuid: this.uuid };
    for (const c of this.table.userColumns) o[c.name] = datumToValue(this.fields[c.name]!, c.type);
    return o as R & { _uuid: Uuid };
  }
}

export interface IdlChange {
  table: string;
  uuid: Uuid;
  kind: 'insert' | 'modify' | 'delete';
}

export interface IdlOptions {
  /** "unix:PATH" or "tcp:HOST:PORT". */
  remote: string;
  /** Default "Open_vSwitch". */
  database?: string;
  /** Tables (and columns) to replicate; default every column of every table. */
  tables?: Record<string, readonly string[] | true>;
  /** Default true: reconnect with backoff and resynchronise. */
  reconnect?: boolean | ReconnectOptions;
}

export type TxnResult =
  | { status: 'success' /** placeholder UUID of each insert → the UUID the server gave it */; uuids: Map<Uuid, Uuid>; increment?: number }
  | { status: 'unchanged' }
  /** A verified column changed, or the connection dropped: rebuild from the replica and retry. */
  | { status: 'try-again'; error?: OvsdbError }
  | { status: 'error'; error: OvsdbError };

export class Idl<T extends TableTypes = AnyTables> {
  private readonly replica = new Map<string, Map<Uuid, IdlRow>>();
  private readonly listeners = new Set<(seqno: number, changes: IdlChange[]) => void>();
  private monitorSeq = 0;
  private monitorId: Json = null;
  /**
   * Updates that came after the monitor's reply but before we could apply
   * it: the reply is handled in a later tick than the bytes that follow it
   * in the stream, and the server sends the updates of any transaction
   * committed meanwhile right behind the reply. They go on top of the
   * initial contents, in order (the C IDL reads them in stream order).
   */
  private early: JsonObject[] | null = null;
  private _seqno = 0;

  private constructor(
    readonly client: OvsdbClient,
    readonly schema: DatabaseSchema,
    private readonly opts: IdlOptions,
  ) {
    for (const name of this.monitoredTables()) this.replica.set(name, new Map());
    client.on('notification', (method: string, params: Json[]) => {
      if (method !== 'update2' || JSON.stringify(params[0]) !== JSON.stringify(this.monitorId)) return;
      if (this.early) this.early.push(params[1] as JsonObject);
      else this.apply(params[1] as JsonObject, false);
    });
    client.on('reconnect', () => {
      this.monitor().catch(() => {
        /* the next reconnect tries again */
      });
    });
  }

  /** Connects, fetches the schema, and loads the monitored tables. */
  static async open<T extends TableTypes = AnyTables>(opts: IdlOptions): Promise<Idl<T>> {
    const client = await OvsdbClient.connect(opts.remote, { reconnect: opts.reconnect ?? true });
    try {
      const schema = parseSchema(await client.getSchema(opts.database ?? 'Open_vSwitch'));
      const idl = new Idl<T>(client, schema, opts);
      await idl.monitor();
      return idl;
    } catch (e) {
      client.close();
      throw e;
    }
  }

  /** Changes whenever the replica does (bridge_run's ovsdb_idl_get_seqno). */
  get seqno(): number {
    return this._seqno;
  }

  private monitoredTables(): string[] {
    return this.opts.tables ? Object.keys(this.opts.tables) : [...this.schema.tables.keys()];
  }

  private async monitor(): Promise<void> {
    const requests: JsonObject = {};
    for (const name of this.monitoredTables()) {
      const ts = this.schema.tables.get(name);
      if (!ts) throw new Error(`no table ${name} in database ${this.schema.name}`);
      const cols = this.opts.tables?.[name];
      requests[name] = { columns: cols === undefined || cols === true ? ts.userColumns.map((c) => c.name) : [...cols] };
    }
    const id: Json = ['idl', ++this.monitorSeq];
    this.monitorId = id;
    const early: JsonObject[] = [];
    this.early = early;
    try {
      const initial = await this.client.request('monitor_cond', [this.schema.name, id, requests]);
      if (this.monitorId !== id) return; // a newer monitor (after a reconnect) took over
      this.apply(initial as JsonObject, true);
      for (const u of early) this.apply(u, false);
    } finally {
      if (this.early === early) this.early = null;
    }
  }

  private apply(updates: JsonObject, reset: boolean): void {
    const changes: IdlChange[] = [];
    if (reset) {
      for (const [name, rows] of this.replica) {
        for (const uuid of rows.keys()) changes.push({ table: name, uuid, kind: 'delete' });
        rows.clear();
      }
    }
    for (const [name, rows] of Object.entries(updates ?? {})) {
      const table = this.replica.get(name);
      const ts = this.schema.tables.get(name);
      if (!table || !ts || !rows || typeof rows !== 'object') continue;
      for (const [uuid, u] of Object.entries(rows as JsonObject)) {
        const upd = u as JsonObject;
        if ('delete' in upd) {
          if (table.delete(uuid)) changes.push({ table: name, uuid, kind: 'delete' });
          continue;
        }
        const body = (upd.initial ?? upd.insert ?? upd.modify) as JsonObject | undefined;
        if (!body) continue;
        let row = table.get(uuid);
        const isNew = !row || !('modify' in upd);
        if (!row || !('modify' in upd)) {
          row = new IdlRow(ts, uuid);
          table.set(uuid, row);
        }
        for (const [cname, v] of Object.entries(body)) {
          const c = ts.columns.get(cname);
          if (!c || cname.startsWith('_')) continue;
          row.fields[cname] = 'modify' in upd ? applyDiff(row.fields[cname]!, diffFromJson(c.type, v), c.type) : datumFromJson(c.type, v, undefined, false);
        }
        changes.push({ table: name, uuid, kind: isNew ? 'insert' : 'modify' });
      }
    }
    if (!changes.length && !reset) return;
    this._seqno++;
    for (const fn of this.listeners) fn(this._seqno, changes);
  }

  rows<K extends keyof T & string>(table: K): IterableIterator<IdlRow<T[K]>> {
    const t = this.replica.get(table);
    if (!t) throw new Error(`table ${table} is not replicated`);
    return t.values() as IterableIterator<IdlRow<T[K]>>;
  }

  get<K extends keyof T & string>(table: K, uuid: Uuid): IdlRow<T[K]> | undefined {
    return this.replica.get(table)?.get(uuid) as IdlRow<T[K]> | undefined;
  }

  /** The first row of a table (for one-row tables such as Open_vSwitch). */
  first<K extends keyof T & string>(table: K): IdlRow<T[K]> | undefined {
    return this.rows(table).next().value;
  }

  /** Calls `fn` after every change of the replica; returns the unsubscribe function. */
  onChange(fn: (seqno: number, changes: IdlChange[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves once the seqno differs from `seqno`. */
  waitForChange(seqno = this._seqno): Promise<number> {
    if (this._seqno !== seqno) return Promise.resolve(this._seqno);
    return new Promise((resolve) => {
      const off = this.onChange((s) => {
        off();
        resolve(s);
      });
    });
  }

  transaction(): IdlTransaction<T> {
    return new IdlTransaction<T>(this);
  }

  /** ovsdb_idl_enable_reconnect(): reconnect (and resynchronise) after a lost connection from now on. */
  enableReconnect(): void {
    this.client.enableReconnect();
  }

  close(): void {
    this.client.close();
  }
}

type RowRef = { table: { name: string } | string; uuid: Uuid } | IdlRow;

interface InsertOp {
  table: TableSchema;
  uuid: Uuid;
  name: string;
  values: Record<string, unknown>;
}

/**
 * A transaction built from row changes. Nothing is sent until commit().
 * Inserted rows get a placeholder UUID, usable in other rows' values within
 * the same transaction; commit() maps them to the UUIDs the server assigned.
 */
export class IdlTransaction<T extends TableTypes = AnyTables> {
  private readonly waits: Json[] = [];
  private readonly ops: (Json | InsertOp)[] = [];
  private readonly inserts = new Map<Uuid, InsertOp>();
  private readonly comments: string[] = [];
  private inc?: { table: string; uuid: Uuid; column: string };

  constructor(private readonly idl: Idl<T>) {}

  private tableOf(name: string): TableSchema {
    const t = this.idl.schema.tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }

  private ref(row: RowRef): { table: TableSchema; uuid: Uuid } {
    const name = typeof row.table === 'string' ? row.table : row.table.name;
    return { table: this.tableOf(name), uuid: row.uuid };
  }

  private readonly encodeUuid: UuidEncoder = (u) => {
    const ins = this.inserts.get(u);
    return ins ? ['named-uuid', ins.name] : ['uuid', u];
  };

  private rowJson(table: TableSchema, values: Record<string, unknown>): JsonObject {
    const o: JsonObject = {};
    for (const [k, v] of Object.entries(values)) {
      const c = table.columns.get(k);
      if (!c) throw new Error(`no column ${k} in table ${table.name}`);
      o[k] = datumToJson(valueToDatum(v, c.type), c.type, this.encodeUuid);
    }
    return o;
  }

  private where(uuid: Uuid): Json {
    return [['_uuid', '==', ['uuid', uuid]]];
  }

  insert<K extends keyof T & string>(table: K, values: Partial<T[K]> = {}): { table: K; uuid: Uuid } {
    const uuid = crypto.randomUUID();
    const op: InsertOp = { table: this.tableOf(table), uuid, name: `row${uuid.replace(/-/g, '_')}`, values: { ...values } };
    this.inserts.set(uuid, op);
    this.ops.push(op);
    return { table, uuid };
  }

  update<K extends keyof T & string>(row: { table: K | { name: K }; uuid: Uuid } | IdlRow<T[K]>, values: Partial<T[K]>): void {
    const ins = this.inserts.get(row.uuid);
    if (ins) {
      Object.assign(ins.values, values);
      return;
    }
    const { table, uuid } = this.ref(row as RowRef);
    this.ops.push({ op: 'update', table: table.name, where: this.where(uuid), row: this.rowJson(table, values as Record<string, unknown>) });
  }

  delete(row: RowRef): void {
    const { table, uuid } = this.ref(row);
    this.ops.push({ op: 'delete', table: table.name, where: this.where(uuid) });
  }

  /** A "mutate": insert/delete elements of a set or map, or arithmetic on numbers. */
  mutate(row: RowRef, column: string, mutator: '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete', value: unknown): void {
    const { table, uuid } = this.ref(row);
    const c = table.columns.get(column);
    if (!c) throw new Error(`no column ${column} in table ${table.name}`);
    let arg: Json;
    if (mutator === 'insert' || mutator === 'delete') {
      // Deleting keys from a map: the argument is a set of keys.
      const byKeys = isMap(c.type) && Array.isArray(value);
      const t: ColumnType = byKeys ? { key: c.type.key, min: 0, max: Infinity } : { ...c.type, min: 0, max: Infinity };
      const d = valueToDatum(value, t);
      arg = d.keys.length === 1 && !t.value ? ['set', [datumToJson(d, t, this.encodeUuid)]] : datumToJson(d, t, this.encodeUuid);
    } else {
      arg = value as number;
    }
    this.ops.push({ op: 'mutate', table: table.name, where: this.where(uuid), mutations: [[column, mutator, arg]] });
  }

  /** Fails the commit with try-again if these columns differ from what the replica holds now. */
  verify(row: IdlRow, columns: string[]): void {
    const table = row.table;
    const values: JsonObject = {};
    for (const c of columns) {
      const col = table.columns.get(c);
      if (!col) throw new Error(`no column ${c} in table ${table.name}`);
      values[c] = datumToJson(row.datum(c), col.type);
    }
    this.waits.push({
      op: 'wait',
      table: table.name,
      timeout: 0,
      where: this.where(row.uuid),
      columns,
      until: '==',
      rows: [values],
    });
  }

  /** Adds 1 to an integer column at commit; the result reports the new value (ovs-vsctl's next_cfg). */
  increment(row: RowRef, column: string): void {
    const { table, uuid } = this.ref(row);
    this.inc = { table: table.name, uuid, column };
  }

  comment(text: string): void {
    this.comments.push(text);
  }

  async commit(): Promise<TxnResult> {
    const ops: Json[] = [...this.waits];
    const insertAt = new Map<number, Uuid>();
    for (const op of this.ops) {
      if (op && typeof op === 'object' && 'name' in op && 'values' in op) {
        const ins = op as InsertOp;
        insertAt.set(ops.length, ins.uuid);
        ops.push({ op: 'insert', table: ins.table.name, 'uuid-name': ins.name, row: this.rowJson(ins.table, ins.values) });
      } else {
        ops.push(op as Json);
      }
    }
    let incAt = -1;
    if (this.inc) {
      const { table, uuid, column } = this.inc;
      ops.push({ op: 'mutate', table, where: this.where(uuid), mutations: [[column, '+=', 1]] });
      incAt = ops.length;
      ops.push({ op: 'select', table, where: this.where(uuid), columns: [column] });
    }
    if (ops.length === 0) return { status: 'unchanged' };
    for (const c of this.comments) ops.push({ op: 'comment', comment: c });
    let results: Json[];
    try {
      results = await this.idl.client.transact(this.idl.schema.name, ...ops);
    } catch (e) {
      if (e instanceof ConnectionClosedError) return { status: 'try-again' };
      if (e instanceof RpcError) return { status: 'error', error: e.ovsdb };
      throw e;
    }
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as JsonObject | null;
      if (r && typeof r.error === 'string') {
        const error = OvsdbError.fromJson(r);
        if (error.tag === 'timed out' && i < this.waits.length) return { status: 'try-again', error };
        return { status: 'error', error };
      }
    }
    const uuids = new Map<Uuid, Uuid>();
    for (const [i, placeholder] of insertAt) {
      const u = (results[i] as JsonObject | undefined)?.uuid;
      if (Array.isArray(u) && typeof u[1] === 'string') uuids.set(placeholder, u[1]);
    }
    if (incAt >= 0) {
      const rows = (results[incAt] as JsonObject | undefined)?.rows;
      const v = Array.isArray(rows) ? (rows[0] as JsonObject | undefined)?.[this.inc!.column] : undefined;
      if (typeof v === 'number') return { status: 'success', uuids, increment: v };
    }
    return { status: 'success', uuids };
  }
}
