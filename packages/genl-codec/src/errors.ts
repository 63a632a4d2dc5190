import { errnoName, strerror } from './errno.js';

/**
 * Bytes that do not form a valid message. `offset` is counted from the start
 * of the buffer handed to the decoder.
 */
export class NetlinkDecodeError extends Error {
  override readonly name = 'NetlinkDecodeError';
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`at offset ${offset}: ${reason}`);
  }
}

/** A value that cannot be encoded (wrong type, out of range, unknown name...). */
export class NetlinkEncodeError extends Error {
  override readonly name = 'NetlinkEncodeError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `${path}: ${reason}` : reason);
  }
}

/** An error as the kernel reports it: errno plus the extended-ack message. */
export class NetlinkErrnoError extends Error {
  override readonly name: string = 'NetlinkErrnoError';
  readonly errno: number;
  readonly code: string;
  constructor(
    errno: number,
    readonly extackMessage?: string,
    readonly extackOffset?: number,
  ) {
    const n = Math.abs(errno);
    super(`${errnoName(n)} (${n}): ${strerror(n)}${extackMessage ? ` - ${extackMessage}` : ''}`);
    this.errno = n;
    this.code = errnoName(n);
  }
}
