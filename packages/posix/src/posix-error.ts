import { constants } from 'node:os';

/** errno number -> its Linux name (EAGAIN...), from Node's table of this platform's errno values. */
const errnoNames = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!errnoNames.has(n)) errnoNames.set(n, name);

/** The strerror() texts of the errno values these calls report most (glibc's wording). */
const strerrorText: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EINTR: 'Interrupted system call',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENOLCK: 'No locks available',
  EDEADLK: 'Resource deadlock avoided',
  ENOTSOCK: 'Socket operation on non-socket',
  EMSGSIZE: 'Message too long',
  EPROTONOSUPPORT: 'Protocol not supported',
  EOPNOTSUPP: 'Operation not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EADDRINUSE: 'Address already in use',
  ENOBUFS: 'No buffer space available',
  ENOPROTOOPT: 'Protocol not available',
  ECONNREFUSED: 'Connection refused',
  ESRCH: 'No such process',
};

/** The Linux name of an errno value ('EAGAIN' for 11), or `E<n>` if unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** An Error with the Linux errno: code 'EAGAIN', errno 11, syscall 'fcntl'. */
export class PosixError extends Error {
  override readonly name: string = 'PosixError';
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(errno: number, syscall: string) {
    const code = errnoName(errno);
    super(`${syscall}: ${strerrorText[code] ?? code} (${code})`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** The addon's convention: a negative result is -errno. Throws it as a PosixError, else returns the result. */
export function check<T>(result: T | number, syscall: string): T {
  if (typeof result === 'number' && result < 0) throw new PosixError(-result, syscall);
  return result as T;
}
