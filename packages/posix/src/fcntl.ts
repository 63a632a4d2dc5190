/**
 * fcntl() record locks over a whole file: what OVS's lib/lockfile.c and the
 * pidfile code of lib/daemon-unix.c use (F_SETLK to take a pidfile's write
 * lock for the daemon's life, F_GETLK to learn which process holds it).
 */
import { addon } from './addon.js';
import { check } from './posix-error.js';

export type LockType = 'read' | 'write' | 'unlock';

function lType(type: LockType): number {
  const a = addon();
  if (type === 'read') return a.F_RDLCK;
  if (type === 'write') return a.F_WRLCK;
  if (type === 'unlock') return a.F_UNLCK;
  throw new TypeError(`@ovs/posix: lock type must be 'read', 'write' or 'unlock', not ${String(type)}`);
}

/**
 * fcntl(fd, F_SETLK, or F_SETLKW if `wait`, { l_type, SEEK_SET, 0, 0 }) over
 * the whole file. Throws a PosixError: EAGAIN or EACCES when another process
 * holds a conflicting lock (F_SETLK); with `wait` the calling thread blocks
 * until the lock is granted.
 */
export function setLock(fd: number, type: LockType, wait = false): void {
  check(addon().setLock(fd, lType(type), wait), 'fcntl');
}

/**
 * fcntl(fd, F_GETLK) for a lock of `type` over the whole file: the lock that
 * would block it and the pid of its holder, or { type: 'unlock', pid: 0 } if
 * none would (a lock this process holds itself never does). Throws a PosixError.
 */
export function getLock(fd: number, type: 'read' | 'write'): { type: LockType; pid: number } {
  const a = addon();
  const [t, pid] = check(a.getLock(fd, lType(type)), 'fcntl');
  return { type: t === a.F_RDLCK ? 'read' : t === a.F_WRLCK ? 'write' : 'unlock', pid };
}
