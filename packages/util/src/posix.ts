/**
 * @ovs/posix, loaded on first use: the fcntl() record locks OVS's pid files
 * are made of, which Node has no API for. Loaded synchronously (read_pidfile()
 * is synchronous in ovs-appctl's lookup) and optionally: without the addon a
 * pid file is written without its lock and read by its pid alone.
 */
import { createRequire } from 'node:module';

/** The part of @ovs/posix's API the daemon code uses. */
export interface PosixLocks {
  setLock(fd: number, type: 'read' | 'write' | 'unlock', wait?: boolean): void;
  getLock(fd: number, type: 'read' | 'write'): { type: 'read' | 'write' | 'unlock'; pid: number };
}

let loaded: PosixLocks | null | undefined;

/** @ovs/posix, or null when it is not installed or its addon does not load on this platform. */
export function posixLocks(): PosixLocks | null {
  if (loaded === undefined) {
    try {
      // The ESM build has import.meta.url; the CJS build (where import.meta is empty) has require.
      const url: string | undefined = import.meta.url;
      const req = url ? createRequire(url) : require;
      const mod = req('@ovs/posix') as PosixLocks & { addonAvailable?: () => boolean };
      // The addon itself loads on first use: a platform without a prebuild or a compiler is "no locks" too.
      loaded = mod.addonAvailable && !mod.addonAvailable() ? null : mod;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** For tests: pretend the addon is (or is not) there. */
export function setPosixLocksForTesting(locks: PosixLocks | null | undefined): void {
  loaded = locks;
}
