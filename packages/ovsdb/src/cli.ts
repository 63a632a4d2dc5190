/**
 * ovs-db: create and serve OVSDB database files, and query servers, like
 * ovsdb-tool and ovsdb-client.
 *
 *   ovs-db create FILE [SCHEMA]
 *   ovs-db serve FILE... [--remote punix:PATH|ptcp:PORT[:IP]]...
 *   ovs-db list-dbs [SERVER]
 *   ovs-db get-schema [SERVER] [DATABASE]
 *   ovs-db transact [SERVER] TRANSACTION
 *   ovs-db query [SERVER] TRANSACTION
 *   ovs-db monitor [SERVER] [DATABASE] TABLE [COLUMN[,COLUMN]...] [--json]
 *
 * Exit status: 0 on success; 1 on a failure (a connection refused, an error
 * in a transaction's results...); 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { OvsdbClient, RpcError } from './client.js';
import { OvsdbError } from './errors.js';
import type { Json, JsonObject } from './json.js';
import { DbFile } from './log.js';
import { OvsdbServer, ServedDatabase } from './server.js';
import { vswitchSchema } from './vswitch.js';
import { installDir, ovsRundir as rundir } from '@ovs/util';

const USAGE = `usage: ovs-db create FILE [SCHEMA]
       ovs-db serve FILE... [--remote punix:PATH|ptcp:PORT[:IP]]...
       ovs-db list-dbs [SERVER]
       ovs-db get-schema [SERVER] [DATABASE]
       ovs-db transact [SERVER] TRANSACTION
       ovs-db query [SERVER] TRANSACTION
       ovs-db monitor [SERVER] [DATABASE] TABLE [COLUMN[,COLUMN]...] [--json]

create      writes a new database FILE with SCHEMA (a .ovsschema file; the
            built-in Open_vSwitch schema 8.3.1 of OVS 3.1 by default), in
            ovsdb-server's file format.
serve       serves the databases in the FILEs until SIGTERM or SIGINT, on each
            --remote (default punix:$OVS_RUNDIR/db.sock).
transact    runs TRANSACTION (a JSON array: ["DB", op...]) and prints the
            results; exit 1 if one of them is an error.
query       the same, but aborts the transaction at the end.
monitor     prints the rows of TABLE, then every change, one line each
            (--json: each table-updates object as it arrives).

SERVER is unix:PATH or tcp:HOST:PORT; default unix:$OVS_RUNDIR/db.sock,
OVS_RUNDIR defaulting to /tmp/ovs-ts-$UID.`;

export function defaultSocket(env: NodeJS.ProcessEnv = process.env): string {
  return join(rundir(env), 'db.sock');
}

class UsageError extends Error {}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const isServer = (s: string | undefined) => !!s && (s.startsWith('unix:') || s.startsWith('tcp:'));

async function withClient<T>(server: string, fn: (c: OvsdbClient) => Promise<T>): Promise<T> {
  const c = await OvsdbClient.connect(server);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function parseJsonArg(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

async function cmdCreate(args: string[]): Promise<number> {
  const [file, schemaFile, ...rest] = args;
  if (!file || rest.length) throw new UsageError('create takes FILE [SCHEMA]');
  const schema = schemaFile ? parseJsonArg(readFileSync(schemaFile, 'utf8'), schemaFile) : vswitchSchema();
  DbFile.create(file, schema);
  return 0;
}

async function cmdServe(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { remote: { type: 'string', multiple: true } } });
  if (!positionals.length) throw new UsageError('serve needs at least one database FILE');
  const remotes = values.remote?.length ? values.remote : [`punix:${defaultSocket(env)}`];
  for (const r of remotes) if (r.startsWith('punix:')) installDir(dirname(r.slice(6)));
  const served = positionals.map((f) => {
    const file = DbFile.open(f, { onWarning: (m) => io.err(`ovs-db: warning: ${m}`) });
    return new ServedDatabase(file.db, file);
  });
  const server = await OvsdbServer.start({ databases: served, remotes, log: (m) => io.err(`ovs-db: ${m}`) });
  io.err(`ovs-db: serving ${served.map((d) => d.name).join(', ')} on ${server.addresses.join(', ')}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await server.close();
  return 0;
}

async function cmdTransact(args: string[], io: Io, env: NodeJS.ProcessEnv, query: boolean): Promise<number> {
  const server = isServer(args[0]) ? args.shift()! : `unix:${defaultSocket(env)}`;
  if (args.length !== 1) throw new UsageError(`${query ? 'query' : 'transact'} takes [SERVER] TRANSACTION`);
  const txn = parseJsonArg(args[0]!, 'TRANSACTION');
  if (!Array.isArray(txn) || typeof txn[0] !== 'string') throw new UsageError('TRANSACTION must be a JSON array ["DB", op...]');
  const params = query ? [...txn, { op: 'abort' }] : txn;
  const results = await withClient(server, (c) => c.request('transact', params));
  const list = Array.isArray(results) ? results : [];
  if (query) list.pop();
  io.out(JSON.stringify(list));
  return list.some((r) => r !== null && typeof r === 'object' && 'error' in (r as object)) ? 1 : 0;
}

async function cmdMonitor(args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const server = isServer(positionals[0]) ? positionals.shift()! : `unix:${defaultSocket(env)}`;
  const c = await OvsdbClient.connect(server);
  try {
    const dbs = await c.listDbs();
    const db = positionals.length >= 2 && dbs.includes(positionals[0]!) ? positionals.shift()! : 'Open_vSwitch';
    const [table, cols] = positionals;
    if (!table || positionals.length > 2) throw new UsageError('monitor takes [SERVER] [DATABASE] TABLE [COLUMN,...]');
    const request: JsonObject = cols ? { columns: cols.split(',') } : {};
    const print = (updates: Json, initial: boolean) => {
      if (values.json) return io.out(JSON.stringify(updates));
      for (const [t, rows] of Object.entries((updates ?? {}) as JsonObject)) {
        for (const [uuid, u] of Object.entries(rows as JsonObject)) {
          const { old: o, new: n } = u as { old?: Json; new?: Json };
          const action = initial ? 'initial' : o && n ? 'modify' : n ? 'insert' : 'delete';
          io.out(`${action} ${t} ${uuid} ${JSON.stringify(n ?? o)}`);
        }
      }
    };
    const done = new Promise<void>((resolve) => {
      c.on('close', resolve);
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    c.on('notification', (method: string, params: Json[]) => {
      if (method === 'update') print(params[1]!, false);
    });
    print(await c.request('monitor', [db, null, { [table]: request }]), true);
    await done;
    return 0;
  } finally {
    c.close();
  }
}

export async function main(
  argv: string[],
  io: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case 'create':
        return await cmdCreate(args);
      case 'serve':
        return await cmdServe(args, io, env);
      case 'list-dbs': {
        const server = args[0] ?? `unix:${defaultSocket(env)}`;
        for (const d of await withClient(server, (c) => c.listDbs())) io.out(d);
        return 0;
      }
      case 'get-schema': {
        const server = isServer(args[0]) ? args.shift()! : `unix:${defaultSocket(env)}`;
        io.out(JSON.stringify(await withClient(server, (c) => c.getSchema(args[0] ?? 'Open_vSwitch'))));
        return 0;
      }
      case 'transact':
      case 'query':
        return await cmdTransact(args, io, env, cmd === 'query');
      case 'monitor':
        return await cmdMonitor(args, io, env);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`ovs-db: ${(e as Error).message}\n${USAGE.split('\n\n')[0]}`);
      return 2;
    }
    if (e instanceof OvsdbError || e instanceof RpcError) {
      io.err(`ovs-db: ${e.message}`);
      return 1;
    }
    io.err(`ovs-db: ${(e as Error).message}`);
    return 1;
  }
}
