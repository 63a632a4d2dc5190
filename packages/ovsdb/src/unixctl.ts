/**
 * lib/unixctl.c: the control socket of an OVS daemon (ovs-vswitchd's, and any
 * other's; it lives beside the JSON-RPC it is made of), JSON-RPC over a unix
 * socket — a request {"id", "method": COMMAND, "params": [ARG...]}, a reply
 * {"id", "result": TEXT, "error": null} or {"id", "result": null, "error":
 * TEXT} — the protocol `ovs-appctl` speaks (Debian's real one too).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { Connection, JsonSplitter, type Message, ProtocolError, type Request } from './jsonrpc.js';
import { chmodUnixSocket } from './socket-util-unix.js';

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
  private conns = 0;

  /** `log`: where the warnings OVS logs about bad peers go (none by default). */
  constructor(private readonly log: (msg: string) => void = () => {}) {
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
    chmodUnixSocket(path);
  }

  /**
   * run_connection(): one request at a time, the next one read only after
   * the reply has gone out; bad bytes, a message that is not JSON-RPC, or
   * anything but a request end the connection.
   */
  private serve(sock: Socket): void {
    const name = `unix#${this.conns++}`;
    const conn = new Connection(sock, { maxMessageBytes: 1 << 20, flowControl: true });
    conn.on('message', (m: Message) => {
      if (m.kind !== 'request' || m.id === null) {
        this.log(`${name}: received unexpected ${m.kind === 'reply' ? 'reply' : 'notification'} message`);
        conn.abort(new Error('unexpected message'));
        return;
      }
      conn.hold();
      void this.processCommand(conn, m).finally(() => conn.release());
    });
    conn.on('close', (why?: Error) => {
      if (why instanceof ProtocolError) {
        this.log(`${name}: ${why.kind === 'parse' ? 'error parsing stream' : 'received bad JSON-RPC message'}: ${why.message}`);
      }
    });
  }

  /** process_command(): the reply's "result" is the handler's text; an error text always ends in a newline. */
  private async processCommand(conn: Connection, req: Request): Promise<void> {
    const { method, params, id } = req;
    const fail = (text: string) => conn.replyError(id, text.endsWith('\n') ? text : `${text}\n`);
    const cmd = this.commands.get(method);
    if (!cmd) return fail(`"${method}" is not a valid command (use "list-commands" to see a list of valid commands)`);
    if (params.length < cmd.min) return fail(`"${method}" command requires at least ${cmd.min} arguments`);
    if (params.length > cmd.max) return fail(`"${method}" command takes at most ${cmd.max} arguments`);
    if (!params.every((p): p is string => typeof p === 'string')) return fail(`"${method}" command has non-string argument`);
    try {
      conn.reply(id, await cmd.handler(params));
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
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
      try {
        for (const text of splitter.push(chunk)) {
          const r = JSON.parse(text) as { result?: unknown; error?: unknown };
          sock.end();
          if (r.error !== null && r.error !== undefined) reject(new UnixctlError(String(r.error)));
          else resolve(typeof r.result === 'string' ? r.result : '');
        }
      } catch (e) {
        sock.destroy();
        reject(new Error(`bad reply from the daemon: ${(e as Error).message}`));
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
 * utilities/ovs-lib's install_dir, as ovs-ctl makes the run directory before
 * starting ovsdb-server: created only when missing, with mode 755 whatever
 * the umask (install -d -m 755).
 */
export function installDir(dir: string): void {
  if (mkdirSync(dir, { recursive: true }) !== undefined) chmodSync(dir, 0o755);
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
