import { errnoName, strerror } from './errno.js';

// Each error class brands its prototype with a registered symbol, so that
// isInstance() recognises its errors from any copy of this package: the ESM
// and the CJS build loaded side by side, or two installed versions. instanceof
// sees only the copy it is written against.

/** The brand of an error class: one registered symbol per class name. */
export function errorBrand(className: string): symbol {
  return Symbol.for(`@ovs/genl-codec.${className}`);
}

/** Put `brand` on the prototype of `cls`, where its subclasses inherit it. */
export function brandClass(cls: abstract new (...args: never[]) => Error, brand: symbol): void {
  Object.defineProperty(cls.prototype, brand, { value: true });
}

/** Whether `x` carries `brand`. */
export function hasBrand(x: unknown, brand: symbol): boolean {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
}

const DECODE = errorBrand('NetlinkDecodeError');
const ENCODE = errorBrand('NetlinkEncodeError');
const ERRNO = errorBrand('NetlinkErrnoError');

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

  /** Whether `x` is a NetlinkDecodeError of any copy of this package. */
  static isInstance(x: unknown): x is NetlinkDecodeError {
    return hasBrand(x, DECODE);
  }

  static {
    brandClass(NetlinkDecodeError, DECODE);
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

  /** Whether `x` is a NetlinkEncodeError of any copy of this package. */
  static isInstance(x: unknown): x is NetlinkEncodeError {
    return hasBrand(x, ENCODE);
  }

  static {
    brandClass(NetlinkEncodeError, ENCODE);
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

  /** Whether `x` is a NetlinkErrnoError (or a subclass's error) of any copy of this package. */
  static isInstance(x: unknown): x is NetlinkErrnoError {
    return hasBrand(x, ERRNO);
  }

  static {
    brandClass(NetlinkErrnoError, ERRNO);
  }
}
