/**
 * lib/lockfile.c: the exclusive lock OVS takes on ".NAME.~lock~" beside a
 * file before writing it, so that two writers (two ovsdb-servers, or a server
 * and ovsdb-tool) never share a database file. The lock is an fcntl() write
 * lock on the lock file, held while it stays open (lockfile_try_lock()); the
 * lock file itself is left in place, as OVS leaves it. fcntl() locks do not
 * conflict within one process, so, as OVS does, this process's own locks are
 * remembered too. Without @ovs/posix's addon nothing is locked (as for pid
 * files), and the lock file is still created.
 */
import { closeSync, openSync } from 'node:fs';
import { posixLocks } from './posix.js';
import { OvsError, errorCode, ovsStrerror } from './strerror.js';
import { followSymlinks } from './util.js';

/** lockfile_name(): ".NAME.~lock~" in the directory of the file the name leads to. */
export function lockfileName(file: string): string {
  const target = followSymlinks(file);
  const slash = target.lastIndexOf('/');
  return slash < 0 ? `.${target}.~lock~` : `${target.slice(0, slash)}/.${target.slice(slash + 1)}.~lock~`;
}

/** The lock files this process holds (lock_table). */
const held = new Set<string>();

export class Lockfile {
  private constructor(
    readonly name: string,
    private fd: number,
  ) {}

  /**
   * lockfile_lock(): the lock of `file`, or an OvsError with EAGAIN when
   * another process (or this one) holds it — each case logged as OVS words it
   * through `warn` (VLOG_WARN, module "lockfile").
   */
  static lock(file: string, warn: (message: string) => void = () => {}): Lockfile {
    const name = lockfileName(file);
    const fail = (code: string, why: string): never => {
      warn(why);
      throw new OvsError(ovsStrerror(code), code);
    };
    if (held.has(name)) fail('EAGAIN', `${name}: cannot lock file because this process has already locked it`);
    let fd: number;
    try {
      fd = openSync(name, 'a+', 0o600);
    } catch (e) {
      return fail(errorCode(e), `${name}: failed to open lock file: ${ovsStrerror(errorCode(e))}`);
    }
    const locks = posixLocks();
    if (locks) {
      try {
        locks.setLock(fd, 'write');
      } catch (e) {
        let pid = 0;
        try {
          pid = locks.getLock(fd, 'write').pid;
        } catch {
          // who holds it stays unknown
        }
        closeSync(fd);
        const code = errorCode(e) === 'EACCES' ? 'EAGAIN' : errorCode(e);
        fail(code, pid ? `${name}: cannot lock file because it is already locked by pid ${pid}` : `${name}: failed to lock file: ${ovsStrerror(code)}`);
      }
    }
    held.add(name);
    return new Lockfile(name, fd);
  }

  /** lockfile_unlock(): the lock released (the lock file stays). */
  unlock(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    held.delete(this.name);
  }
}
