/**
 * JSON-RPC 1.0 over a stream socket, as OVSDB uses it (RFC 7047 §4): JSON
 * texts back to back, no framing. A splitter finds where each object ends
 * without parsing it twice; a message over the size limit, bytes that are not
 * JSON, or JSON that is not a JSON-RPC message end the connection (as
 * ovsdb-server does: it cannot know where the next message starts).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { type Json, isObject } from './json.js';

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
}

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Cuts a byte stream into top-level JSON texts. */
export class JsonSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Feeds bytes; returns the complete texts. Throws ProtocolError on garbage or oversize. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.depth === 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          start = i + 1;
          continue;
        }
        if (c !== 0x7b && c !== 0x5b) throw new ProtocolError(`syntax error: a message must be a JSON object (byte 0x${c.toString(16)})`);
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          const piece = chunk.subarray(start, i + 1);
          if (this.partBytes + piece.length > this.maxBytes) throw new ProtocolError(`message exceeds ${this.maxBytes} bytes`);
          const text = this.parts.length ? Buffer.concat([...this.parts, piece]).toString('utf8') : piece.toString('utf8');
          this.parts = [];
          this.partBytes = 0;
          out.push(text);
          start = i + 1;
        }
      }
    }
    if (this.depth > 0 && start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partBytes += rest.length;
      if (this.partBytes > this.maxBytes) throw new ProtocolError(`message exceeds ${this.maxBytes} bytes`);
      this.parts.push(Buffer.from(rest));
    }
    return out;
  }
}

/** Classifies a parsed JSON value as a JSON-RPC message, or throws ProtocolError. */
export function toMessage(j: unknown): Message {
  if (!isObject(j)) throw new ProtocolError('message is not a JSON object');
  const id = j.id === undefined ? null : j.id;
  if (typeof j.method === 'string') {
    if (!Array.isArray(j.params)) throw new ProtocolError(`"params" of "${j.method}" must be an array`);
    for (const k of Object.keys(j)) if (k !== 'method' && k !== 'params' && k !== 'id') throw new ProtocolError(`unexpected member "${k}"`);
    return { kind: 'request', method: j.method, params: j.params, id };
  }
  if (j.method === undefined && ('result' in j || 'error' in j) && j.id !== undefined) {
    return { kind: 'reply', result: j.result ?? null, error: j.error ?? null, id };
  }
  throw new ProtocolError('not a JSON-RPC request or reply');
}

export interface ConnectionOptions {
  maxMessageBytes?: number;
  /** Close a peer whose unread output exceeds this many bytes (a client that stopped reading). */
  maxBacklogBytes?: number;
}

/**
 * One JSON-RPC peer. Emits 'message' (Message) and 'close' (Error | undefined:
 * why we closed it, undefined when the peer went away).
 */
export class Connection extends EventEmitter {
  private readonly splitter: JsonSplitter;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly opts: ConnectionOptions = {},
  ) {
    super();
    this.splitter = new JsonSplitter(opts.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.finish(undefined));
    socket.on('close', () => this.finish(undefined));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let texts: string[];
    try {
      texts = this.splitter.push(chunk);
    } catch (e) {
      this.abort(e as Error);
      return;
    }
    for (const text of texts) {
      if (this.closed) return;
      let msg: Message;
      try {
        msg = toMessage(JSON.parse(text));
      } catch (e) {
        this.abort(e instanceof ProtocolError ? e : new ProtocolError(`syntax error: ${(e as Error).message}`));
        return;
      }
      this.emit('message', msg);
    }
  }

  send(msg: Json): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(msg));
    const max = this.opts.maxBacklogBytes;
    if (max !== undefined && this.socket.writableLength > max) this.abort(new ProtocolError('peer is not reading its messages'));
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
    this.emit('close', why);
  }
}
