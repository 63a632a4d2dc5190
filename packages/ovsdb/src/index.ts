export { OvsdbError, syntaxError } from './errors.js';
export type { Json, JsonObject } from './json.js';
export { isUuid, ZERO_UUID } from './json.js';
export {
  type AtomicType,
  type Atom,
  type BaseType,
  type ColumnType,
  type ColumnSchema,
  type TableSchema,
  type DatabaseSchema,
  parseSchema,
  typeToEnglish,
} from './schema.js';
export {
  type Datum,
  datumFromJson,
  datumToJson,
  datumToString,
  datumDiff,
  applyDiff,
  defaultDatum,
} from './datum.js';
export { Database, Table, Transaction, type Row, type RowChange, type ChangeSet } from './db.js';
export { execute, type ExecContext, type ExecOutcome } from './execution.js';
export { Monitor, type MonitorVersion } from './monitor.js';
export { DbFile, type LogOptions, encodeRecord, readRecords } from './log.js';
// lib/jsonrpc.c and lib/unixctl.c live in @ovs/util; re-exported for users of @ovs/ovsdb's names.
export { JsonSplitter, ProtocolError, Connection, type Message, type Request, type Reply } from '@ovs/util';
export { type UnixctlHandler, UnixctlError, UnixctlServer, installDir, ovsRundir as rundir, unixctlTargetSocket, unixctlTransact } from '@ovs/util';
export { OvsdbServer, ServedDatabase, Session, type ServerOptions } from './server.js';
export {
  OvsdbClient,
  RpcError,
  ConnectionClosedError,
  parseRemote,
  type ClientOptions,
  type ReconnectOptions,
} from './client.js';
export {
  Idl,
  IdlRow,
  IdlTransaction,
  datumToValue,
  valueToDatum,
  type IdlOptions,
  type IdlChange,
  type TxnResult,
  type Uuid,
  type TableTypes,
} from './idl.js';
export type { VswitchTables } from './vswitch-types.js';
export { vswitchSchema, vswitchDatabaseSchema } from './vswitch.js';
