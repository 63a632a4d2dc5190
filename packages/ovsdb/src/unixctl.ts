/**
 * lib/unixctl.c: the control socket of an OVS daemon (ovs-vswitchd's, and any
 * other's; it lives beside the JSON-RPC it is made of), JSON-RPC over a unix
 * socket — a request {"id", "method": COMMAND, "params": [ARG...]}, a reply
 * {"id", "result": TEXT, "error": null} or {"id", "result": null, "error":
 * TEXT} — the protocol `ovs-appctl` speaks (Debian's real one too).
 */
import { readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { JsonSplitter } from './jsonrpc.js';

/** A command handler: the text to print, or an error (thrown UnixctlError). */
export type UnixctlHandler = (args: string[]) => Promise<string> | string;

export class UnixctlError extends Error {}

interface CommandDef {
  usage: string;
  min: number;
  max: number;
  handler: UnixctlHandler;
}

export class UnixctlServer {
  private readonly commands = new Map<string, CommandDef>();
  private server: Server | undefined;

  constructor() {
    this.register('list-commands', '', 0, 0, () => {
      const names = [...this.commands.keys()].sort();
      return `The available commands are:\n${names.map((n) => `  ${`${n} ${this.commands.get(n)!.usage}`.trimEnd()}`).join('\n')}\n`;
    });
  }

  /** unixctl_command_register(). */
  register(name: string, usage: string, min: number, max: number, handler: UnixctlHandler): void {
    this.commands.set(name, { usage, min, max, handler });
  }

  async listen(path: string): Promise<void> {
    rmSync(path, { force: true });
    this.server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
  }

  private serve(sock: Socket): void {
    const splitter = new JsonSplitter(1 << 20);
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk) => {
      let texts: string[];
      try {
        texts = splitter.push(chunk);
      } catch {
        sock.destroy();
        return;
      }
      for (const text of texts) void this.answer(sock, text);
    });
  }

  private async answer(sock: Socket, text: string): Promise<void> {
    let req: { id?: unknown; method?: unknown; params?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      sock.destroy();
      return;
    }
    const reply = (result: string | null, error: string | null) => {
      if (!sock.destroyed) sock.write(JSON.stringify({ id: req.id ?? null, result, error }));
    };
    const method = typeof req.method === 'string' ? req.method : '';
    const params = Array.isArray(req.params) ? req.params.map(String) : [];
    const cmd = this.commands.get(method);
    if (!cmd) return reply(null, `"${method}" is not a valid command (use "list-commands" to see a list of valid commands)`);
    if (params.length < cmd.min) return reply(null, `"${method}" command requires at least ${cmd.min} arguments`);
    if (params.length > cmd.max) return reply(null, `"${method}" command takes at most ${cmd.max} arguments`);
    try {
      reply(await cmd.handler(params), null);
    } catch (err) {
      reply(null, `${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  async close(path?: string): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (path) rmSync(path, { force: true });
  }
}

/** unixctl_client_transact(): one command; the text of the reply, or UnixctlError with the daemon's error text. */
export async function unixctlTransact(path: string, method: string, params: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const splitter = new JsonSplitter(64 << 20);
    sock.once('error', (err) => reject(err));
    sock.on('connect', () => sock.write(JSON.stringify({ id: 0, method, params })));
    sock.on('data', (chunk) => {
      for (const text of splitter.push(chunk)) {
        const r = JSON.parse(text) as { result: string | null; error: string | null };
        sock.end();
        if (r.error !== null && r.error !== undefined) reject(new UnixctlError(String(r.error)));
        else resolve(r.result ?? '');
      }
    });
    sock.on('close', () => reject(new Error('connection closed before the reply')));
  });
}

/**
 * Where the daemons and tools keep sockets, pid files and logs: OVS_RUNDIR
 * (as OVS names it), else the project's default /tmp/ovs-ts-$UID.
 */
export function rundir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_RUNDIR || join('/tmp', `ovs-ts-${process.getuid?.() ?? 0}`);
}

/**
 * The control socket of a target, as ovs-appctl finds it: a path as is; a
 * daemon name via its pid file, $OVS_RUNDIR/NAME.pid -> $OVS_RUNDIR/NAME.PID.ctl.
 */
export function unixctlTargetSocket(target: string, env: NodeJS.ProcessEnv = process.env): string {
  if (target.includes('/')) return target;
  const dir = rundir(env);
  const pidfile = join(dir, `${target}.pid`);
  let pid: string;
  try {
    pid = readFileSync(pidfile, 'utf8').trim();
  } catch {
    throw new Error(`cannot read pidfile "${pidfile}" (No such file or directory)`);
  }
  return join(dir, `${target}.${pid}.ctl`);
}
