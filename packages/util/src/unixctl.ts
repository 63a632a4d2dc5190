/**
 * lib/unixctl.c: the control socket of an OVS daemon, JSON-RPC over a unix
 * socket — a request {"id", "method": COMMAND, "params": [ARG...]}, a reply
 * {"id", "result": TEXT, "error": null} or {"id", "error": TEXT} — the
 * protocol `ovs-appctl` speaks (Debian's real one too).
 */
import { rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { addFileToUnlink, readPidfile, removeFileToUnlink } from './daemon-unix.js';
import { absFileName, ovsRundir } from './dirs.js';
import { Connection, JsonSplitter, type Message, ProtocolError, type Request } from './jsonrpc.js';
import { chmodUnixSocket } from './socket-util-unix.js';
import { OvsError, errorCode, ovsStrerror } from './strerror.js';

/** A command handler: the text to reply with (nothing: an empty reply), or an error (thrown; its message is the error text). */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that replies nothing returns nothing
export type UnixctlHandler = (args: string[]) => Promise<string | undefined | void> | string | undefined | void;

/** A command's error reply, as unixctl_command_reply_error() sends it and ovs-appctl prints it. */
export class UnixctlError extends Error {
  override readonly name = 'UnixctlError';
}

interface CommandDef {
  /** null: hidden from list-commands (a NULL usage in OVS). */
  usage: string | null;
  min: number;
  max: number;
  handler: UnixctlHandler;
}

export interface UnixctlServerOptions {
  /** What the `version` command replies (ovs_get_program_version(): "PROGRAM (Open vSwitch) VERSION"); no `version` command without it. */
  version?: string;
}

/** unixctl_command_reply__(): a non-empty body always ends in a newline. */
const body = (text: unknown): string => (typeof text !== 'string' ? '' : text && !text.endsWith('\n') ? `${text}\n` : text);

export class UnixctlServer {
  private readonly commands = new Map<string, CommandDef>();
  private server: Server | undefined;
  private conns = 0;
  /** Where it listens, once listen() succeeded. */
  path: string | undefined;

  /** `log`: where the warnings OVS logs about bad peers go (none by default). */
  constructor(
    private readonly log: (msg: string) => void = () => {},
    opts: UnixctlServerOptions = {},
  ) {
    this.register('list-commands', '', 0, 0, () => {
      const names = [...this.commands.keys()].sort();
      const rows = names.filter((n) => this.commands.get(n)!.usage !== null).map((n) => `  ${n.padEnd(23)} ${this.commands.get(n)!.usage}\n`);
      return `The available commands are:\n${rows.join('')}`;
    });
    const { version } = opts;
    if (version !== undefined) this.register('version', '', 0, 0, () => version);
  }

  /**
   * unixctl_command_register(): `usage` is what list-commands shows after the
   * name (null hides the command); `min`/`max` bound the argument count
   * (Number.MAX_SAFE_INTEGER for INT_MAX). A later registration of the same
   * name replaces the earlier one.
   */
  register(name: string, usage: string | null, min: number, max: number, handler: UnixctlHandler): void {
    this.commands.set(name, { usage, min, max, handler });
  }

  /** Listens on `path` (a stale socket file there is removed first), mode 0770 less the umask as OVS binds it. */
  async listen(path: string): Promise<void> {
    rmSync(path, { force: true });
    this.server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
    chmodUnixSocket(path);
    this.path = path;
    // bind_unix_socket(): the socket file goes when the process does.
    addFileToUnlink(path);
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

  /** process_command(): the reply's "result" is the handler's text; the texts of both end in a newline. */
  private async processCommand(conn: Connection, req: Request): Promise<void> {
    const { method, params, id } = req;
    const fail = (text: string) => conn.replyError(id, body(text));
    const cmd = this.commands.get(method);
    if (!cmd) return fail(`"${method}" is not a valid command (use "list-commands" to see a list of valid commands)`);
    if (params.length < cmd.min) return fail(`"${method}" command requires at least ${cmd.min} arguments`);
    if (params.length > cmd.max) return fail(`"${method}" command takes at most ${cmd.max} arguments`);
    if (!params.every((p): p is string => typeof p === 'string')) return fail(`"${method}" command has non-string argument`);
    try {
      conn.reply(id, body(await cmd.handler(params)));
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  }

  /** Stops listening; removes the socket file (the path given, else the one it listens on). */
  async close(path: string | undefined = this.path): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (path) {
      rmSync(path, { force: true });
      removeFileToUnlink(path);
    }
  }
}

export interface UnixctlServerCreateOptions extends UnixctlServerOptions {
  /** program_name: the socket is RUNDIR/PROGRAM.PID.ctl when no path is given. */
  program: string;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * unixctl_server_create(): `path` undefined -> RUNDIR/PROGRAM.PID.ctl; a name
 * without '/' -> in RUNDIR; an absolute path as is; "none" -> no server
 * (undefined). Registers list-commands and version. Throws OvsError with
 * OVS's "PATH: could not initialize control socket" text.
 */
export async function unixctlServerCreate(path: string | undefined, opts: UnixctlServerCreateOptions): Promise<UnixctlServer | undefined> {
  if (path === 'none') return undefined;
  const rundir = ovsRundir(opts.env);
  const absPath = path !== undefined ? absFileName(rundir, path) : `${rundir}/${opts.program}.${process.pid}.ctl`;
  const server = new UnixctlServer(opts.log, opts.version !== undefined ? { version: opts.version } : {});
  try {
    await server.listen(absPath);
  } catch (err) {
    const code = errorCode(err);
    throw new OvsError(`${absPath}: could not initialize control socket (${ovsStrerror(code)})`, code);
  }
  return server;
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
 * connect_to_target() of utilities/ovs-appctl.c: the control socket of a
 * target — a path (starting with '/') as is; a daemon name via its pid file,
 * read as read_pidfile() reads it (the pid of the process holding its lock):
 * RUNDIR/NAME.pid -> RUNDIR/NAME.PID.ctl. Throws OvsError with ovs-appctl's
 * `cannot read pidfile "FILE" (REASON)`.
 */
export function unixctlTargetSocket(target: string, env: NodeJS.ProcessEnv = process.env): string {
  if (target.startsWith('/')) return target;
  const dir = ovsRundir(env);
  const pidfile = `${dir}/${target}.pid`;
  let pid: number;
  try {
    pid = readPidfile(pidfile);
  } catch (err) {
    const code = errorCode(err);
    throw new OvsError(`cannot read pidfile "${pidfile}" (${ovsStrerror(code)})`, code);
  }
  return `${dir}/${target}.${pid}.ctl`;
}

/** The --unixctl=SOCKET option every OVS daemon takes (each declares it itself in OVS). */
export const UNIXCTL_LONG_OPTIONS: readonly import('./command-line.js').LongOption[] = [{ name: 'unixctl', arg: 'required' }];
