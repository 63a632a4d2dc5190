/**
 * The native addon, found with node-gyp-build and loaded on first use.
 *
 * Where it is looked for, in order: $OVS_POSIX_ADDON (a path to the .node
 * file); this package's directory (build/Release from a source build, then
 * prebuilds/<platform>-<arch>/); the @ovs/posix package that resolves from
 * here (when this code was bundled into another file); the bundle's own
 * directory (prebuilds/ copied beside a bundle). It is opened with
 * process.dlopen, so a bundler's rewriting of require() does not matter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeGypBuild from 'node-gyp-build';

/** What the addon exports (native/*.c). A negative number result is -errno. */
export interface Addon {
  setLock(fd: number, type: number, wait: boolean): number;
  getLock(fd: number, type: number): [number, number] | number;
  readonly F_RDLCK: number;
  readonly F_WRLCK: number;
  readonly F_UNLCK: number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, pid: number, groups: number): number;
  connect(fd: number, pid: number, groups: number): number;
  getsockname(fd: number): [number, number] | number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  getsockoptInt(fd: number, level: number, name: number): [number] | number;
  sendto(fd: number, data: Uint8Array, pid: number, groups: number, flags: number): number;
  recv(fd: number, flags: number): [Uint8Array, number, number] | number;
  close(fd: number): number;
  readonly consts: Readonly<Record<string, number>>;
  /** A poll thread for `fd` (native/fd-watcher.c): unreferenced and disarmed to begin with. */
  watch(fd: number, onReady: (revents: number) => void): WatcherHandle | number;
  watchArm(w: WatcherHandle): number;
  watchDisarm(w: WatcherHandle): number;
  watchRef(w: WatcherHandle): number;
  watchUnref(w: WatcherHandle): number;
  watchStop(w: WatcherHandle): number;
}

/** The addon's handle of one poll thread (a napi external). */
export type WatcherHandle = { readonly __watcher: unique symbol };

let loaded: Addon | undefined;

/** The directory of this module's file, in ESM and CJS builds alike (and in a bundle: the bundle's). */
function here(): string | undefined {
  if (typeof __dirname === 'string') return __dirname;
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

function isPosixPackage(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === '@ovs/posix';
  } catch {
    return false;
  }
}

/** The places the addon may be found, most specific first. */
function candidates(): string[] {
  const dirs: string[] = [];
  const dir = here();
  if (dir !== undefined) {
    const pkg = resolve(dir, '..');
    if (isPosixPackage(pkg)) dirs.push(pkg);
    try {
      dirs.push(dirname(createRequire(join(dir, 'noop.js')).resolve('@ovs/posix/package.json')));
    } catch {
      // not resolvable from here: no installed @ovs/posix beside a bundle
    }
    dirs.push(dir);
  }
  return [...new Set(dirs)];
}

/** The addon's exports, loaded on the first call (throws, with where it looked, if none is found). */
export function addon(): Addon {
  if (loaded !== undefined) return loaded;
  const explicit = process.env.OVS_POSIX_ADDON;
  let file: string | undefined;
  const errors: string[] = [];
  if (explicit) file = explicit;
  else
    for (const dir of candidates()) {
      if (!existsSync(join(dir, 'prebuilds')) && !existsSync(join(dir, 'build'))) continue;
      try {
        file = nodeGypBuild.path(dir);
        break;
      } catch (err) {
        errors.push(err instanceof Error ? err.message.split('\n')[0]! : String(err));
      }
    }
  if (file === undefined)
    throw new Error(
      `@ovs/posix: no native build of the addon for ${process.platform}-${process.arch} (${errors.join('; ') || 'no prebuilds/ or build/ found'}); build it from source with \`npx node-gyp rebuild\` in the @ovs/posix package directory, or set OVS_POSIX_ADDON to its .node file`,
    );
  const mod = { exports: {} as Addon };
  process.dlopen(mod, file);
  loaded = mod.exports;
  return loaded;
}
