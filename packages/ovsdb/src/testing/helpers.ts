/** Test helpers: temporary directories, servers on unix sockets, raw JSON-RPC peers. */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../db.js';
import type { Json } from '../json.js';
import { JsonSplitter } from '@ovs/util';
import { DbFile } from '../log.js';
import { parseSchema } from '../schema.js';
import { OvsdbServer, ServedDatabase } from '../server.js';
import { vswitchSchema } from '../vswitch.js';

export function tempDir(prefix = 'ovsdb-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestServer {
  server: OvsdbServer;
  served: ServedDatabase;
  socket: string;
  remote: string;
  file?: string;
  dir: string;
  close: () => Promise<void>;
}

/** Our server on a unix socket in a fresh directory; with a file unless `memory`. */
export async function startTestServer(
  opts: {
    schema?: Json;
    memory?: boolean;
    file?: string;
    compactMinBytes?: number;
    log?: (msg: string) => void;
    remotes?: string[];
    probeIntervalMs?: number;
  } = {},
): Promise<TestServer> {
  const { dir, cleanup } = tempDir();
  const schema = opts.schema ?? vswitchSchema();
  let served: ServedDatabase;
  let file: string | undefined;
  if (opts.memory) {
    served = new ServedDatabase(new Database(parseSchema(schema)));
  } else {
    file = opts.file ?? join(dir, 'conf.db');
    if (!opts.file) DbFile.create(file, schema);
    const f = DbFile.open(file, { compactMinBytes: opts.compactMinBytes, onWarning: () => {} });
    served = new ServedDatabase(f.db, f);
  }
  const socket = join(dir, 'db.sock');
  const server = await OvsdbServer.start({
    databases: [served],
    remotes: [`punix:${socket}`, ...(opts.remotes ?? [])],
    log: opts.log,
    probeIntervalMs: opts.probeIntervalMs,
  });
  return {
    server,
    served,
    socket,
    remote: `unix:${socket}`,
    file,
    dir,
    close: async () => {
      await server.close();
      cleanup();
    },
  };
}

/** A raw JSON-RPC peer: sends whatever bytes, collects every message received. */
export class RawPeer {
  readonly messages: Json[] = [];
  closed = false;
  private readonly splitter = new JsonSplitter();
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      for (const t of this.splitter.push(d)) this.messages.push(JSON.parse(t) as Json);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static open(path: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  send(msg: Json | string): void {
    this.sock.write(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Waits until `pred` holds for the messages so far, the peer closed, or `ms` passed. */
  async until(pred: (msgs: Json[]) => boolean, ms = Infinity): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.messages) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        if (ms !== Infinity) setTimeout(r, Math.max(0, deadline - Date.now()));
      });
    }
  }

  /** Sends a request and resolves with its reply message. */
  async call(method: string, params: Json[], id: Json = Math.floor(Math.random() * 1e9)): Promise<{ result: Json; error: Json }> {
    this.send({ method, params, id });
    const find = () => this.messages.find((m) => (m as { id?: Json; method?: string }).id === id && !(m as { method?: string }).method);
    await this.until(() => find() !== undefined);
    const m = find() as { result: Json; error: Json } | undefined;
    if (!m) throw new Error(`connection closed before the reply to ${method}`);
    return m;
  }

  close(): void {
    this.sock.destroy();
  }
}

export const PKG = join(__dirname, '..', '..');
export const BIN = join(PKG, 'bin', 'ovs-db.js');

/** Builds dist/ (what bin/ovs-db.js runs) when it is missing or older than the sources. */
export function ensureBuilt(): void {
  const { existsSync, readdirSync, statSync } = require('node:fs') as typeof import('node:fs');
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  const dist = join(PKG, 'dist', 'cli.cjs');
  if (!existsSync(dist) || statSync(dist).mtimeMs < newest(join(PKG, 'src'))) {
    execFileSync(join(PKG, '..', '..', 'node_modules', '.bin', 'tsup'), ['--silent'], { cwd: PKG, stdio: 'ignore' });
  }
}
