/**
 * lib/jsonrpc.c: JSON-RPC 1.0 over a stream socket, as OVSDB and unixctl use it (RFC 7047 §4): JSON
 * texts back to back, no framing. A splitter finds where each object ends
 * without parsing it twice; a message over the size limit or nested too deep, bytes that are not
 * JSON, or JSON that is not a JSON-RPC message end the connection (as
 * ovsdb-server does: it cannot know where the next message starts).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/** A JSON value, as lib/json.c holds one. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Request {
  kind: 'request';
  method: string;
  params: Json[];
  /** null for a notification. */
  id: Json;
}
export interface Reply {
  kind: 'reply';
  result: Json;
  error: Json;
  id: Json;
}
export type Message = Request | Reply;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  /**
   * How OVS logs it: 'parse' for bytes that are not JSON (lib/jsonrpc.c's
   * "error parsing stream: ..."), 'message' for JSON that is not a JSON-RPC
   * message ("received bad JSON-RPC message: ..."), 'probe' for a peer
   * silent through an inactivity probe (lib/reconnect.c).
   */
  constructor(
    message: string,
    readonly kind: 'parse' | 'message' | 'probe' = 'parse',
  ) {
    super(message);
  }
}

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** lib/json.c's JSON_MAX_HEIGHT: objects and arrays nested deeper are refused. */
export const JSON_MAX_HEIGHT = 1000;

/**
 * Cuts a byte stream into top-level JSON texts, refusing (as lib/json.c's
 * parser does) nesting deeper than JSON_MAX_HEIGHT before anything is parsed:
 * JSON.parse would take it, but every recursive walk of the value after it
 * could overflow the stack.
 */
export class JsonSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Stream offset of the first byte of this chunk, and of the current message's parser. */
  private chunkAt = 0;
  private messageAt = 0;
  /** json_parser's line count and the stream offset where the current line starts. */
  private line = 0;
  private lineAt = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** json_error()'s position prefix, for the byte at chunk index i (bytes before it counted, as json.c does). */
  private where(i: number): string {
    const at = this.chunkAt + i;
    return `line ${this.line}, column ${at - this.lineAt}, byte ${at - this.messageAt}`;
  }

  private newline(i: number): void {
    this.line++;
    this.lineAt = this.chunkAt + i + 1;
  }

  /** Feeds bytes; returns the complete texts. Throws ProtocolError on garbage, oversize or nesting too deep. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    // The next backslash at or after i (chunk.length: none), found once per run, not once per string.
    let backslash = -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.depth === 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          if (c === 0x0a) this.newline(i);
          start = i + 1;
          continue;
        }
        if (c !== 0x7b && c !== 0x5b) throw new ProtocolError(`syntax error: a message must be a JSON object (byte 0x${c.toString(16)})`);
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        // Strings are most of the text (the schema, row values): jump to the next quote or
        // backslash with indexOf instead of looking at every byte.
        if (backslash < i) backslash = indexFrom(chunk, 0x5c, i);
        const quote = indexFrom(chunk, 0x22, i);
        if (backslash < quote) {
          i = backslash;
          this.escaped = true;
        } else if (quote < chunk.length) {
          i = quote;
          this.inString = false;
        } else i = chunk.length;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x0a) this.newline(i);
      else if (c === 0x7b || c === 0x5b) {
        if (this.depth >= JSON_MAX_HEIGHT) throw new ProtocolError(`${this.where(i)}: input exceeds maximum nesting depth ${JSON_MAX_HEIGHT}`);
        this.depth++;
      } else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          const piece = chunk.subarray(start, i + 1);
          if (this.partBytes + piece.length > this.maxBytes) throw new ProtocolError(`message exceeds ${this.maxBytes} bytes`);
          const text = this.parts.length ? Buffer.concat([...this.parts, piece]).toString('utf8') : piece.toString('utf8');
          this.parts = [];
          this.partBytes = 0;
          out.push(text);
          start = i + 1;
          // The next message's parser starts counting here.
          this.messageAt = this.lineAt = this.chunkAt + i + 1;
          this.line = 0;
        }
      }
    }
    if (this.depth > 0 && start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partBytes += rest.length;
      if (this.partBytes > this.maxBytes) throw new ProtocolError(`message exceeds ${this.maxBytes} bytes`);
      this.parts.push(Buffer.from(rest));
    }
    this.chunkAt += chunk.length;
    return out;
  }
}

/** The index of `byte` in `chunk` at or after `from`, or chunk.length if there is none. */
function indexFrom(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? chunk.length : at;
}

/** Classifies a parsed JSON value as a JSON-RPC message, or throws ProtocolError. */
export function toMessage(j: unknown): Message {
  if (!isObject(j)) throw new ProtocolError('message is not a JSON object', 'message');
  const id = j.id === undefined ? null : j.id;
  if (typeof j.method === 'string') {
    if (!Array.isArray(j.params)) throw new ProtocolError('"params" must be JSON array', 'message');
    for (const k of Object.keys(j)) if (k !== 'method' && k !== 'params' && k !== 'id') throw new ProtocolError(`unexpected member "${k}"`, 'message');
    return { kind: 'request', method: j.method, params: j.params, id };
  }
  if (j.method === undefined && ('result' in j || 'error' in j) && j.id !== undefined) {
    return { kind: 'reply', result: j.result ?? null, error: j.error ?? null, id };
  }
  throw new ProtocolError('not a JSON-RPC request or reply', 'message');
}

export interface ConnectionOptions {
  maxMessageBytes?: number;
  /**
   * ovsdb-server's flow control (ovsdb/jsonrpc-server.c, lib/unixctl.c): the
   * next message is read only once everything sent so far has reached the
   * kernel and the owner holds no request open (hold/release). A peer that
   * stops reading then stops being read: its output stays bounded instead of
   * growing with whatever it keeps sending.
   */
  flowControl?: boolean;
  /**
   * lib/reconnect.c's inactivity probe (ovsdb-server's default for TCP
   * remotes, 5000 ms; none for unix sockets): after this long with nothing
   * received and nothing queued going out, an "echo" request; after as long
   * again, the connection is dropped.
   */
  probeIntervalMs?: number;
}

/** printf's %.3g for the seconds reconnect.c reports. */
const seconds = (ms: number) => String(Number((ms / 1000).toPrecision(3)));

/**
 * One JSON-RPC peer. Emits 'message' (Message), 'drain' () when output that
 * had to wait for the peer has all gone out, and 'close' (Error | undefined:
 * why we closed it, or the socket's error; undefined when the peer ended the
 * stream).
 */
export class Connection extends EventEmitter {
  private readonly splitter: JsonSplitter;
  private closed = false;
  /** Complete texts not yet delivered, or the error that ends the stream where it was found. */
  private readonly inbox: (string | ProtocolError)[] = [];
  private broken = false;
  private holds = 0;
  private pumping = false;
  private queued = false;
  private lastActivity = Date.now();
  private probeSentAt = 0;
  private probeTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    private readonly opts: ConnectionOptions = {},
  ) {
    super();
    this.splitter = new JsonSplitter(opts.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The socket's own error (ECONNRESET...) is the reason; a plain end of stream has none.
    socket.on('error', (e) => this.finish(e));
    socket.on('close', () => this.finish(undefined));
    this.armProbe();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** jsonrpc_get_backlog(): the bytes sent that the peer has not yet read. */
  get backlog(): number {
    return this.socket.writableLength;
  }

  /** Something sent is still waiting for the peer to read (jsonrpc_get_backlog() > 0). */
  get backlogged(): boolean {
    return this.queued;
  }

  /** With flow control: deliver no message until release() (a request being answered). */
  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.holds > 0) this.holds--;
    this.pump();
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.broken) return;
    this.lastActivity = Date.now();
    try {
      for (const text of this.splitter.push(chunk)) this.inbox.push(text);
    } catch (e) {
      // Whatever came before the bad bytes is still delivered first, as OVS reads it.
      this.inbox.push(e as ProtocolError);
      this.broken = true;
    }
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.inbox.length && (!this.opts.flowControl || (this.holds === 0 && !this.queued))) {
        const item = this.inbox.shift()!;
        if (item instanceof ProtocolError) return this.abort(item);
        let msg: Message;
        try {
          msg = toMessage(JSON.parse(item));
        } catch (e) {
          return this.abort(e instanceof ProtocolError ? e : new ProtocolError(`syntax error: ${(e as Error).message}`));
        }
        this.emit('message', msg);
      }
    } finally {
      this.pumping = false;
    }
    if (this.closed) return;
    // Stop taking bytes from the kernel while messages wait: the peer's writes then block.
    if (this.inbox.length || this.broken) this.socket.pause();
    else this.socket.resume();
  }

  send(msg: Json): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(msg), () => this.onWritten());
    if (this.socket.writableLength > 0) this.queued = true;
  }

  private onWritten(): void {
    if (this.closed || !this.queued || this.socket.writableLength > 0) return;
    this.queued = false;
    // Queued output that got through is activity; output sent at once is not (reconnect.c).
    this.lastActivity = Date.now();
    this.emit('drain');
    this.pump();
  }

  private armProbe(): void {
    const interval = this.opts.probeIntervalMs;
    if (!interval || this.closed) return;
    const due = (this.probeSentAt || this.lastActivity) + interval;
    this.probeTimer = setTimeout(() => this.probe(interval), Math.max(0, due - Date.now()));
    this.probeTimer.unref();
  }

  private probe(interval: number): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.probeSentAt && this.lastActivity > this.probeSentAt) this.probeSentAt = 0;
    if (this.probeSentAt) {
      if (now - this.probeSentAt >= interval) {
        return this.abort(new ProtocolError(`no response to inactivity probe after ${seconds(now - this.probeSentAt)} seconds, disconnecting`, 'probe'));
      }
    } else if (now - this.lastActivity >= interval) {
      this.send({ method: 'echo', params: [], id: 'echo' });
      this.probeSentAt = now;
    }
    this.armProbe();
  }

  request(method: string, params: Json[], id: Json): void {
    this.send({ method, params, id });
  }

  reply(id: Json, result: Json): void {
    this.send({ id, result, error: null });
  }

  /** An error reply; like ovsdb-server's, without a "result" member. */
  replyError(id: Json, error: Json): void {
    this.send({ id, error });
  }

  notify(method: string, params: Json[]): void {
    this.send({ id: null, method, params });
  }

  /** Ends the connection because of a protocol error. */
  abort(why: Error): void {
    if (this.closed) return;
    this.socket.destroy();
    this.finish(why);
  }

  close(): void {
    if (this.closed) return;
    this.socket.end();
    this.finish(undefined);
  }

  private finish(why: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    this.inbox.length = 0;
    this.emit('close', why);
  }
}
