/**
 * lib/socket-util-unix.c: the permissions of the unix sockets OVS listens on.
 */
import { chmodSync, statSync } from 'node:fs';

/**
 * bind_unix_socket(): OVS fchmod()s the socket to 0770 ("allow both user and
 * group access") before bind(), and Linux then creates the file with that
 * mode less the umask. Node binds with 0777 less the umask, so the same mode
 * is what it made, without the bits for others.
 */
export function chmodUnixSocket(path: string): void {
  chmodSync(path, statSync(path).mode & 0o770);
}
