/**
 * lib/util.c's ovs_strerror(): glibc's strerror() texts, which OVS prints in
 * its messages ("cannot read pidfile ... (No such process)"), for the errno
 * values the daemon code meets, by the code Node gives its errors.
 */
import { constants } from 'node:os';

const TEXTS: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  ECHILD: 'No child processes',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EPIPE: 'Broken pipe',
  ENAMETOOLONG: 'File name too long',
  ENOLCK: 'No locks available',
  ENOTSOCK: 'Socket operation on non-socket',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ECONNRESET: 'Connection reset by peer',
  ECONNREFUSED: 'Connection refused',
  EALREADY: 'Operation already in progress',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EPROTONOSUPPORT: 'Protocol not supported',
  EPROTO: 'Protocol error',
  ENOPROTOOPT: 'Protocol not available',
  ELOOP: 'Too many levels of symbolic links',
};

/** The errno name of a number ('ESRCH' for 3). */
export function errnoName(errno: number): string {
  for (const [name, n] of Object.entries(constants.errno)) if (n === errno) return name;
  return `E${errno}`;
}

/** strerror() of an errno, by name ('ENOENT') or number (2). */
export function ovsStrerror(errno: string | number): string {
  const name = typeof errno === 'number' ? errnoName(errno) : errno;
  return TEXTS[name] ?? (typeof errno === 'number' ? `Unknown error ${errno}` : name);
}

/**
 * ovs_retval_to_string() of what a Node call threw: the strerror() text of its
 * errno code ("End of file" for EOF), or its own message when the code has none here.
 */
export function errorText(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'EOF') return 'End of file';
  if (typeof code === 'string' && TEXTS[code]) return TEXTS[code];
  return err instanceof Error ? err.message : String(err);
}

/** An Error that carries its errno the way Node's own do (code, errno), with OVS's message text. */
export class OvsError extends Error {
  override readonly name: string = 'OvsError';
  readonly code: string;
  readonly errno: number;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
    this.errno = (constants.errno as Record<string, number>)[code] ?? 0;
  }
}

/** The errno name of what a Node call threw (its `code`), or EIO when it has none. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'EIO';
}
