/**
 * SO_PEERCRED (native/peercred.c): who is at the other end of a connected
 * AF_UNIX socket, as the kernel recorded it when the peer connected (or made
 * the pair) — its pid and effective uid and gid (unix(7)).
 */
import { addon } from './addon.js';
import { PosixError, check } from './posix-error.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * getsockopt(fd, SOL_SOCKET, SO_PEERCRED). Throws a PosixError (ENOTCONN,
 * EBADF, ...; ENOSYS from an addon built before this call existed).
 */
export function getPeerCred(fd: number): PeerCred {
  const a = addon();
  if (a.getpeercred === undefined) throw new PosixError(38, 'getsockopt(SO_PEERCRED)');
  const [pid, uid, gid] = check(a.getpeercred(fd), 'getsockopt(SO_PEERCRED)');
  return { pid, uid, gid };
}
